#!/usr/bin/env bash
# cctl run end to end: exit codes, stdio, env/workdir/user/hostname, names, --rm, big output.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
DAEMON_OWN_CGROUP=1 start_daemon || exit 1
import_alpine

run_cctl run --rm alpine true
is "$RC" 0 "true exits 0"
run_cctl run --rm alpine sh -c 'exit 3'
is "$RC" 3 "exit code 3 is passed through"
run_cctl run --rm alpine /nonexistent
is "$RC" 127 "missing executable exits 127"
like "$ERR" '[Nn]o such file or directory' "missing executable has a clear message"
run_cctl run --rm alpine nosuchcommand
is "$RC" 127 "command not in PATH exits 127"
like "$ERR" 'executable file not found in \$PATH' "PATH lookup failure says so"
run_cctl run --rm alpine /etc/passwd
is "$RC" 126 "non-executable file exits 126"
like "$ERR" 'ermission denied' "non-executable says permission denied"
# The PATH search: a match that is not executable is 126 (as execvp and docker), not 127.
run_cctl run --rm -e PATH=/etc alpine passwd
is "$RC" 126 "a non-executable file found through PATH exits 126"
like "$ERR" 'passwd.*ermission denied' "and says permission denied"
run_cctl run --rm -e PATH=/etc alpine nosuchcommand
is "$RC" 127 "a command in no PATH directory exits 127, even with a non-executable match elsewhere"
run_cctl run --rm -e PATH=/etc:/usr/bin alpine passwd -h
unlike "$RC" '^12[67]$' "a non-executable match does not stop the search: /usr/bin/passwd runs"
like "$ERR" '[Uu]sage' "and prints its usage"
# PID 1 ignores SIGKILL from inside its namespace, so the kill comes from outside.
(sleep 0.5; "$CCTL" kill k9 >/dev/null) &
killer=$!
run_cctl run --rm --name k9 alpine sleep 30
wait $killer
is "$RC" 137 "killed by SIGKILL exits 137"
# --pull never: the daemon's own answer (without it, cctl would first try Docker Hub).
run_cctl run --pull never --rm nosuchimage true
is "$RC" 125 "unknown image exits 125"
like "$ERR" 'no such image|not found' "unknown image has a clear message"
run_cctl run --rm -w relative alpine true
is "$RC" 125 "relative workdir is refused with 125"
run_cctl run --rm --memory 1k alpine true
is "$RC" 125 "invalid memory limit is refused with 125"

run_cctl run --rm alpine sh -c 'echo to-stdout; echo to-stderr >&2'
is "$OUT" "to-stdout" "stdout goes to stdout only"
is "$ERR" "to-stderr" "stderr goes to stderr only"

out=$(echo hi | "$CCTL" run --rm -i alpine cat)
is "$out" "hi" "stdin is piped with -i"
out=$(echo hi | "$CCTL" run --rm alpine sh -c 'cat; echo end')
is "$out" "end" "without -i stdin is /dev/null (the container read nothing)"
out=$("$CCTL" run --rm alpine readlink /proc/self/fd/0 </dev/zero)
is "$out" "/dev/null" "without -i fd 0 is the container's /dev/null"

out=$("$CCTL" run --rm -e FOO=bar -e EMPTY= alpine sh -c 'echo "$FOO|$EMPTY|$PATH|$HOME"')
is "$out" "bar||/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|/root" "-e values and the image PATH apply"
out=$(FROMHOST=yes "$CCTL" run --rm -e FROMHOST alpine sh -c 'echo $FROMHOST')
is "$out" "yes" "-e KEY takes the value from cctl's environment"
out=$("$CCTL" run --rm -w /tmp/new/dir alpine pwd)
is "$out" "/tmp/new/dir" "-w sets (and creates) the working directory"
out=$("$CCTL" run --rm -u 1000:1001 alpine id)
like "$out" '^uid=1000 gid=1001' "-u UID:GID switches user"
out=$("$CCTL" run --rm -u 1000 alpine sh -c 'id -u; id -G')
is "$out" "$(printf '1000\n0')" "-u UID without a group runs with gid 0 and no extra groups"
out=$("$CCTL" run --rm -u 1000 alpine sh -c 'cat /proc/self/status | grep ^CapEff')
like "$out" 'CapEff:[[:space:]]+0+$' "a non-root user has no capabilities"
out=$("$CCTL" run --rm alpine sh -c 'grep ^CapBnd /proc/self/status')
is "$out" "$(printf 'CapBnd:\t00000000a80425fb')" "root in the container has Docker's default capability set"

out=$("$CCTL" run --rm --hostname box alpine hostname)
is "$out" "box" "--hostname sets the hostname"
run_cctl run --rm --hostname "$(printf 'h%.0s' $(seq 70))" alpine hostname
is "$RC" 125 "a hostname over 64 characters is refused"
run_cctl run --rm --hostname 'bad_name!' alpine hostname
like "$ERR" 'invalid hostname' "an invalid hostname is refused with a message"

"$CCTL" run --name keepme alpine sh -c 'echo kept' >/dev/null
run_cctl ps -a
like "$OUT" 'keepme' "an exited container stays listed with ps -a"
run_cctl ps
[[ $RC == 0 && $OUT == "CONTAINER ID"* ]] && pass "ps answers with its header" || fail "ps answers with its header (rc $RC)"
unlike "$OUT" 'keepme' "ps without -a lists only running containers"
id=$("$CCTL" inspect keepme | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
record_id "$id"
like "$id" '^[0-9a-f]{64}$' "inspect shows the full id"
host=$("$CCTL" run --rm --name hn alpine hostname)
like "$host" '^[0-9a-f]{12}$' "the hostname defaults to the short id"
state=$("$CCTL" inspect keepme | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]; print(c["state"], c["exit_code"])')
is "$state" "exited 0" "inspect reports the state and exit code"
run_cctl run --name keepme alpine true
is "$RC" 125 "a second container with the same name is refused"
like "$ERR" 'already in use' "the name conflict is explained"
run_cctl rm keepme
is "$RC" 0 "rm removes an exited container"
run_cctl inspect keepme
is "$RC" 1 "a removed container is gone"
[[ -d $DAEMON_DIR/root/containers && -z "$(ls "$DAEMON_DIR/root/containers")" ]] && pass "no container directory is left behind" || fail "no container directory is left behind"

"$CCTL" run --rm alpine true
run_cctl ps -a
[[ $RC == 0 && $OUT == "CONTAINER ID"* && $(wc -l <<<"$OUT") == 1 ]] && pass "--rm containers are gone after they exit (only the header is left)" || fail "--rm containers are gone after they exit (rc $RC: $OUT)"

# 1 MiB through the container's stdout arrives intact, byte for byte.
want=$(head -c 1048576 /dev/urandom | tee "$TEST_TMP/blob" | sha256sum | cut -d' ' -f1)
got=$("$CCTL" run --rm -i alpine cat <"$TEST_TMP/blob" | sha256sum | cut -d' ' -f1)
is "$got" "$want" "1 MiB of output arrives intact"
got=$("$CCTL" run --rm alpine sh -c 'head -c 1048576 /dev/zero' | wc -c)
is "$got" 1048576 "1 MiB written by the container is all there at exit"

# No cgroup of any container this daemon ran is left (their ids from its debug log: every cgroup
# it created), in any hierarchy; the subtree the daemon owns holds only the prepared processes'
# cgroups (two by default, the last two it created), the same in every hierarchy, and nothing at
# all once the daemon stopped.
sleep 0.3 # the second spare is made a turn of the loop after the first
grep -oE 'created cgroup [0-9a-f]{64}' "$DAEMON_DIR/log" | awk '{ print $3 }' >"$TEST_TMP/created"
spares=$(tail -2 "$TEST_TMP/created" | sort)
sed -i '$d' "$TEST_TMP/created"
sed -i '$d' "$TEST_TMP/created"
n=$(sort -u "$TEST_TMP/created" | wc -l)
(( n >= 20 )) && pass "the log names every cgroup the daemon created ($n)" || fail "the log names every cgroup the daemon created ($n)"
cat "$TEST_TMP/created" >>"$DAEMON_DIR/ids"
is "$(leftover_cgroups)" "" "none of them is left, in any hierarchy"
is "${#DAEMON_CGROUPS[@]}" "$(grep -vc ':name=' /proc/self/cgroup)" "the daemon ran in a cgroup of its own in every hierarchy"
# Containers get cgroups in cgroup2 and in the v1 hierarchies of a controller they have settings
# for (cpu, memory, pids, freezer, devices); none in the others (cpuset, blkio, ...).
subtree() { local cg; for cg in $(daemon_used_cgroups); do find "$cg" -mindepth 1 -type d -printf '%P\n'; done; }
n_used=$(daemon_used_cgroups | wc -l)
is "$(subtree | sort | uniq -c | sed 's/^ *//')" "$(sed "s/^/$n_used /" <<<"$spares")" \
	"the daemon's subtree holds the two prepared processes' cgroups in every hierarchy they use, and nothing else"
unused=$(for cg in "${DAEMON_CGROUPS[@]}"; do used_cgroup_hierarchy "$cg" || find "$cg" -mindepth 1 -type d; done)
is "$unused" "" "no cgroup in the hierarchies of controllers without a setting (cpuset, blkio)"
echo "$spares" >>"$DAEMON_DIR/ids"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
DAEMON_PIDS=()
is "$(subtree)" "" "the daemon's subtree is empty after it stopped"
is "$(leftover_cgroups)" "" "no cgroup the daemon created is left anywhere"
done_testing
