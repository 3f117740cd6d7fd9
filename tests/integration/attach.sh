#!/usr/bin/env bash
# cctl attach: a detached container's output from then on (stdout and stderr apart without a
# terminal) and its exit code; with a terminal, typed input, the detach keys (default and
# --detach-keys) leaving it running, output fanned out to every attached client, input from any,
# --no-stdin, the window size; a container run with -it taken over by the daemon at the first
# attach; refused for containers that are not running or have nothing to attach to; no fd
# leaks.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon d || exit 1
import_alpine
PTYRUN=$top_srcdir/tests/ptyrun.py

WATCH_PID=
trap '[[ -n $WATCH_PID ]] && kill "$WATCH_PID" 2>/dev/null; cleanup' EXIT

"$CCTL" run --rm alpine true
fds_before=$(daemon_fds)

# Without a terminal: stdout and stderr apart, then the exit code.
id=$("$CCTL" run -d alpine sh -c 'sleep 1; echo out; echo err >&2; sleep 0.3; exit 3')
rc=0
"$CCTL" attach "$id" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
is "$rc" 3 "attach exits with the container's exit code"
is "$(cat "$TEST_TMP/out")" "out" "stdout comes to stdout"
is "$(cat "$TEST_TMP/err")" "err" "stderr comes to stderr"
run_cctl logs "$id"
is "$OUT" "out" "what an attached client saw is in the log too"

# With a terminal: typed input runs, ctrl-p ctrl-q detaches and the container runs on.
id2=$("$CCTL" run -dit --name box alpine sh)
out=$(python3 "$PTYRUN" --type 'echo hi$((1+1))\r' --type '\x10\x11' --timeout 15 -- "$CCTL" attach box)
rc=$?
is "$rc" 0 "ctrl-p ctrl-q detaches with status 0"
like "$out" $'hi2\r' "typed input reached the container's shell, its output came back"
is "$("$CCTL" inspect --format '{{.State.Status}}' box)" "running" "the container runs on after the detach"
out=$(python3 "$PTYRUN" --size 33x101 --type 'stty size\r' --type '\x10\x11' --timeout 15 -- "$CCTL" attach box)
like "$out" $'\n33 101\r' "the terminal takes the attached client's window size"

# Two clients: the output goes to both; input from either.
"$CCTL" attach --no-stdin box >"$TEST_TMP/watch" 2>&1 </dev/null &
WATCH_PID=$!
sleep 0.5
out=$(python3 "$PTYRUN" --type 'echo fan$((2+3))\r' --type '\x01x' --timeout 15 -- "$CCTL" attach --detach-keys ctrl-a,x box)
is "$?" 0 "--detach-keys ctrl-a,x detaches"
like "$out" 'fan5' "the typing client sees its output"
sleep 0.3
like "$(cat "$TEST_TMP/watch")" 'fan5' "the other attached client sees it too (fan-out)"
is "$(grep -c 'fan5' "$TEST_TMP/watch")" 1 "the output came once to the other client"

# The --no-stdin client's typing is not the container's (nor are its detach keys read: ptyrun
# ends it); the container's exit ends every client.
out=$(python3 "$PTYRUN" --type 'echo nope$((4+4))\r' --type '\x10\x11' --timeout 3 -- "$CCTL" attach --no-stdin box 2>&1)
unlike "$(cat "$TEST_TMP/watch")" 'nope8' "--no-stdin: what the client types goes nowhere"
out=$(python3 "$PTYRUN" --type 'exit 7\r' --timeout 15 -- "$CCTL" attach box)
is "$?" 7 "a client attached when the container exits gets its exit code"
for _ in $(seq 100); do kill -0 "$WATCH_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$WATCH_PID" 2>/dev/null; then
	fail "the other client ends with the container"
else
	wait "$WATCH_PID"
	is "$?" 7 "the other client ends with the container, with its exit code"
fi
WATCH_PID=

# A container run attached with a terminal (cctl run -it): its client holds the terminal, with no
# copy through the daemon (and no log), until someone attaches; then the daemon relays it to both.
python3 "$PTYRUN" --timeout 30 --delay 0.5 --type 'sleep 3; echo both$((3*3)); exit 4\r' -- \
	"$CCTL" run -it --name itbox alpine sh >"$TEST_TMP/run.out" 2>&1 &
RUN_PID=$!
for _ in $(seq 100); do
	[[ $("$CCTL" inspect --format '{{.State.Status}}' itbox 2>/dev/null) == running ]] && break
	sleep 0.05
done
itid=$("$CCTL" inspect --format '{{.Id}}' itbox)
sleep 1
[[ ! -e $DAEMON_DIR/root/containers/$itid/container.log ]] && pass "run -it: no log while nobody attached (fd passing)" ||
	fail "run -it: no log while nobody attached (fd passing)"
rc=0
"$CCTL" attach --no-stdin itbox >"$TEST_TMP/itatt.out" 2>&1 </dev/null || rc=$?
is "$rc" 4 "attach to a run -it container ends with its exit code"
like "$(cat "$TEST_TMP/itatt.out")" 'both9' "the attached client got the output"
wait "$RUN_PID"
is "$?" 4 "the run client ends with the exit code too"
like "$(cat "$TEST_TMP/run.out")" 'both9' "and got the output through the daemon's relay"
run_cctl logs itbox
like "$OUT" 'both9' "what came after the attach is logged"
"$CCTL" rm itbox >/dev/null

# Nothing to attach to.
run_cctl attach "$id"
like "$RC/$ERR" "^[1-9][0-9]*/.*not running" "attach to an exited container is refused"
id3=$("$CCTL" run -d --log-driver none alpine sleep 30)
run_cctl attach "$id3"
like "$RC/$ERR" "^[1-9][0-9]*/.*nothing to attach to" "attach to a container logging to none is refused"
run_cctl attach --detach-keys ctrl-1 "$id3"
is "$RC" 125 "bad --detach-keys are refused"

"$CCTL" rm -f "$id" "$id2" "$id3" >/dev/null
is "$(daemon_fds)" "$fds_before" "no fd leaked"
done_testing
