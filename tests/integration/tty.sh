#!/usr/bin/env bash
# -t: a pty from the container's own devpts, raw-mode relay, window size, terminal restored.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine
ptyrun="python3 $top_srcdir/tests/ptyrun.py"

rc=0
out=$($ptyrun --size 24x80 --type 'echo $((6*7)); tty; stty size; exit 3\n' -- "$CCTL" run -it --rm alpine /bin/sh) || rc=$?
is "$rc" 3 "an interactive shell's exit code comes back (and the terminal was restored)"
like "$out" '42' "typed commands run in the container"
like "$out" '/dev/pts/0' "the shell's terminal is a pty of the container's own devpts"
like "$out" '24 80' "the container's terminal starts with the client's window size"

rc=0
out=$($ptyrun --size 24x80 --resize 40x100 --resize-after 0.5 -- "$CCTL" run -it --rm alpine sh -c 'sleep 1.5; stty size') || rc=$?
is "$rc" 0 "resize run exits 0"
like "$out" '40 100' "SIGWINCH reaches the container as a new window size"

rc=0
out=$($ptyrun --type 'sleep 10\n' --type '\x03' --type 'echo after-$((6*7)); exit\n' -- "$CCTL" run -it --rm alpine sh) || rc=$?
is "$rc" 0 "the shell survives ^C"
like "$out" 'after-42' "^C interrupts the foreground job inside the container, not cctl (the next command ran)"

rc=0
(sleep 1; "$CCTL" kill ttykill >/dev/null) &
killer=$!
out=$($ptyrun -- "$CCTL" run -it --rm --name ttykill alpine sleep 30) || rc=$?
wait $killer
is "$rc" 137 "a killed tty container exits 137, with the terminal restored"

rc=0
out=$(printf 'a\nb\n' | timeout 20 "$CCTL" run -it --rm alpine wc -l | tr -d '\r') || rc=$?
is "$rc" 0 "-it with piped input ends when the input does (EOF is typed into the pty)"
like "$out" '2$' "and the container read all of it"
out=$(printf 'tail' | timeout 20 "$CCTL" run -it --rm alpine cat | tr -d '\r')
is "$out" "tailtail" "an unfinished last line is delivered too"

out=$("$CCTL" run -t --rm alpine tty </dev/null | tr -d '\r')
is "$out" "/dev/pts/0" "-t works when cctl's stdin is not a terminal"
out=$("$CCTL" run -t --rm alpine sh -c 'printf "a\nb\n"' | od -c | head -1)
like "$out" 'a +\\r +\\n +b' "output goes through the container's pty line discipline"

rc=0
out=$($ptyrun --type 'cat /etc/alpine-release\n' --type '\x04' -- "$CCTL" run -it --rm alpine sh) || rc=$?
is "$rc" 0 "^D ends the shell"
like "$out" '3\.20\.3' "output before ^D arrives"
done_testing
