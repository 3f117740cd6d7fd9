#!/usr/bin/env bash
# cctl pause / unpause: a paused container makes no progress and goes on after unpause; the
# state is shown by inspect and ps; pause and unpause refuse the wrong states; kill and rm -f of a
# paused container work and leave no cgroup; the daemon's shutdown kills a paused container.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

state() { "$CCTL" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])'; }
lines() { wc -l <"$1"; }

# The container counts into a host file: its stdout is that file, passed to it by cctl.
count=$TEST_TMP/count
"$CCTL" run --name counter alpine sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.02; done' >"$count" 2>&1 &
runner=$!
for _ in $(seq 200); do [[ -s $count ]] && break; sleep 0.02; done
[[ -s $count ]] && pass "the counter runs" || fail "the counter runs"
record_id "$("$CCTL" inspect counter | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"

run_cctl pause counter
is "$RC" 0 "pause"
is "$OUT" "counter" "pause prints the name"
is "$(state counter)" "paused" "inspect says paused"
run_cctl ps
like "$OUT" 'Up .* \(Paused\)' "ps shows Up ... (Paused)"
sleep 0.3
n1=$(lines "$count")
sleep 1
n2=$(lines "$count")
is "$n2" "$n1" "no progress while paused"
run_cctl pause counter
is "$RC" 1 "pause of a paused container is refused"
like "$ERR" 'paused' "and says it is paused"

run_cctl unpause counter
is "$RC" 0 "unpause"
is "$OUT" "counter" "unpause prints the name"
is "$(state counter)" "running" "inspect says running again"
run_cctl ps --format '{{.Names}} {{.Status}}'
like "$OUT" '^counter Up ' "ps shows it up again"
unlike "$OUT" 'Paused' "and no longer paused (the daemon's list entry was encoded again)"
sleep 0.5
n3=$(lines "$count")
((n3 > n2)) && pass "it counts again after unpause ($n2 -> $n3)" || fail "it counts again after unpause ($n2 -> $n3)"
run_cctl unpause counter
is "$RC" 1 "unpause of a running container is refused"
like "$ERR" 'not paused' "and says it is not paused"
run_cctl pause nosuch counter
is "$RC" 1 "pause with one unknown container fails"
is "$OUT" "counter" "the others are paused"
like "$ERR" 'nosuch' "the unknown one is named"

# SIGKILL reaches a paused container.
run_cctl kill counter
is "$RC" 0 "kill of a paused container"
rc=0
wait $runner || rc=$?
is "$rc" 137 "it dies of SIGKILL"
is "$(state counter)" "exited" "it is exited"
run_cctl pause counter
is "$RC" 1 "pause of an exited container is refused"
like "$ERR" 'not running' "and says it is not running"
run_cctl unpause counter
is "$RC" 1 "unpause of an exited container is refused"
"$CCTL" rm counter >/dev/null

# Signals other than SIGKILL stay pending while paused and are acted on after unpause (Docker).
"$CCTL" run --name trapper alpine sh -c 'trap "exit 7" TERM; while :; do sleep 0.05; done' >/dev/null 2>&1 &
runner=$!
for _ in $(seq 200); do [[ $(state trapper 2>/dev/null) == running ]] && break; sleep 0.02; done
record_id "$("$CCTL" inspect trapper | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
run_cctl pause trapper
is "$RC" 0 "pause the trapper"
run_cctl kill -s TERM trapper
is "$RC" 0 "kill -s TERM of a paused container is accepted"
sleep 0.5
is "$(state trapper)" "paused" "the signal waits while it is paused"
run_cctl unpause trapper
rc=0
wait $runner || rc=$?
is "$rc" 7 "the pending SIGTERM reaches its handler after unpause"
"$CCTL" rm trapper >/dev/null

# rm -f of a paused container.
id=$("$CCTL" run -d --name frozen alpine sleep 1000)
record_id "$id"
run_cctl pause frozen
is "$RC" 0 "pause a detached container"
run_cctl rm -f frozen
is "$RC" 0 "rm -f of a paused container"
run_cctl ps -a
unlike "$OUT" 'frozen' "it is gone"
is "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$id" 2>/dev/null)" "" "its cgroups are gone"

# The protocol refuses unknown fields.
if command -v socat >/dev/null; then
	out=$(echo '{"v":1,"id":1,"method":"container.pause","params":{"id":"x","force":true}}' |
		socat -t 1 - UNIX-CONNECT:"$CONTAIND_SOCKET")
	like "$out" '"code":"invalid_params"' "container.pause refuses unknown fields"
	out=$(echo '{"v":1,"id":1,"method":"container.unpause","params":{"id":"nosuch"}}' |
		socat -t 1 - UNIX-CONNECT:"$CONTAIND_SOCKET")
	like "$out" '"code":"not_found"' "container.unpause of an unknown container: not_found"
else
	skip "container.pause refuses unknown fields" "no socat"
	skip "container.unpause of an unknown container: not_found" "no socat"
fi

# The daemon's shutdown kills a paused container cleanly (done_testing checks its cgroups).
id=$("$CCTL" run -d --name paused-at-stop alpine sleep 1000)
record_id "$id"
pid=$("$CCTL" inspect "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
run_cctl pause paused-at-stop
is "$RC" 0 "pause before the shutdown"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
[[ $pid =~ ^[0-9]+$ && ! -e /proc/$pid ]] && pass "the shutdown killed the paused container" ||
	fail "the shutdown killed the paused container (pid '$pid')"
done_testing
