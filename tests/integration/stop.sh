#!/usr/bin/env bash
# cctl stop and container.stop: the stop signal, the grace period before SIGKILL, stops of exited
# and missing containers, concurrent stops, bad params; the daemon leaks no fds doing so.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

"$CCTL" run --rm alpine true # warm up lazily created state (the seccomp filter's memfd)
sleep 0.3
fds_before=$(daemon_fds)

# now_ms: milliseconds since the epoch.
now_ms() { date +%s%3N; }

# stop_cctl ARGS...: cctl stop ARGS, as run_cctl; a stop that never returns (a timer that does
# not fire) fails the test after 60 s instead of hanging it.
stop_cctl() {
	RC=0
	timeout 60 "$CCTL" stop "$@" >"$TEST_TMP/stop.out" 2>"$TEST_TMP/stop.err" </dev/null || RC=$?
	OUT=$(cat "$TEST_TMP/stop.out")
	ERR=$(cat "$TEST_TMP/stop.err")
}

# wait_signal NAME SigCgt|SigIgn SIGNUM: until the container's init catches (or ignores) the
# signal, read from its /proc status: a signal sent earlier would meet the wrong disposition.
wait_signal() {
	local pid mask _
	pid=$("$CCTL" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
	for _ in $(seq 250); do
		mask=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[[ -n $mask ]] && (((16#$mask >> ($3 - 1)) & 1)) && return 0
		sleep 0.02
	done
	fail "the init of $1 has signal $3 in $2"
	return 1
}

# A container with a SIGTERM handler stops on SIGTERM and exits with its code.
id=$("$CCTL" run -d --name handler alpine sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done')
record_id "$id"
wait_signal handler SigCgt 15
start=$(now_ms)
stop_cctl -t 30 handler
took=$(($(now_ms) - start))
is "$RC" 0 "stop of a container that handles SIGTERM exits 0"
is "$OUT" "handler" "stop prints the name it was given"
run_cctl inspect handler
like "$OUT" '"exit_code": 7' "the container exited through its SIGTERM handler (code 7)"
like "$OUT" '"state": "exited"' "and stop returned once it had exited"
((took < 25000)) && pass "it did not wait for the grace period (${took} ms)" || fail "it did not wait for the grace period (${took} ms)"

# One that ignores SIGTERM is SIGKILLed after the grace period, and not before.
id=$("$CCTL" run -d --name stubborn alpine sh -c "trap '' TERM; while :; do sleep 0.1; done")
record_id "$id"
wait_signal stubborn SigIgn 15
start=$(now_ms)
stop_cctl -t 1 stubborn
took=$(($(now_ms) - start))
is "$RC" 0 "stop of a container ignoring SIGTERM exits 0"
is "$OUT" "stubborn" "and prints its name"
((took >= 1000)) && pass "SIGKILL came after the 1 s grace period (${took} ms)" || fail "SIGKILL came after the 1 s grace period (${took} ms)"
run_cctl wait stubborn
is "$OUT" 137 "it was SIGKILLed (137)"

# -s KILL: no grace period needed.
id=$("$CCTL" run -d --name killme alpine sh -c "trap '' TERM; while :; do sleep 0.1; done")
record_id "$id"
wait_signal killme SigIgn 15
start=$(now_ms)
stop_cctl -s KILL -t 30 killme
took=$(($(now_ms) - start))
is "$RC" 0 "stop -s KILL exits 0"
run_cctl wait killme
is "$OUT" 137 "stop -s KILL kills it (137)"
((took < 25000)) && pass "without waiting for the grace period (${took} ms)" || fail "without waiting for the grace period (${took} ms)"

# -s with a signal the container handles, by number.
id=$("$CCTL" run -d --name usr1 alpine sh -c 'trap "exit 3" USR1; while :; do sleep 0.1; done')
record_id "$id"
wait_signal usr1 SigCgt 10
stop_cctl --signal 10 --time 30 usr1
is "$RC" 0 "stop --signal 10 exits 0"
run_cctl wait usr1
is "$OUT" 3 "the container got SIGUSR1 (its handler's code 3)"

# Stopping an exited container succeeds at once; a missing one fails, the others still stop.
stop_cctl handler
is "$RC" 0 "stop of an exited container exits 0"
is "$OUT" "handler" "and prints its name"
id=$("$CCTL" run -d --name other alpine sleep 1000)
record_id "$id"
stop_cctl -t 0 nosuch other
is "$RC" 1 "stop of a missing container exits 1"
like "$ERR" 'nosuch' "and names it on stderr"
is "$OUT" "other" "the other container is still stopped and printed"
run_cctl wait other
is "$OUT" 137 "other was killed at once with -t 0 (sleep ignores SIGTERM as PID 1)"

# Two concurrent stops of one container both return; the earliest deadline wins, whether the
# shorter grace period was asked for first or second.
for order in "60 1" "1 60"; do
	read -r t1 t2 <<<"$order"
	id=$("$CCTL" run -d --name shared alpine sh -c "trap '' TERM; while :; do sleep 0.1; done")
	record_id "$id"
	wait_signal shared SigIgn 15
	start=$(now_ms)
	timeout 60 "$CCTL" stop -t "$t1" shared >"$TEST_TMP/stop1.out" 2>&1 &
	s1=$!
	sleep 0.2
	timeout 60 "$CCTL" stop -t "$t2" shared >"$TEST_TMP/stop2.out" 2>&1 &
	s2=$!
	rc1=0 rc2=0
	wait $s1 || rc1=$?
	wait $s2 || rc2=$?
	took=$(($(now_ms) - start))
	is "$rc1:$rc2" "0:0" "two concurrent stops (-t $t1, then -t $t2) both return 0"
	is "$(cat "$TEST_TMP/stop1.out"):$(cat "$TEST_TMP/stop2.out")" "shared:shared" "both print the name"
	((took < 30000)) && pass "the shorter grace period ended both (${took} ms)" || fail "the shorter grace period ended both (${took} ms)"
	((took >= 1000)) && pass "and not before it was over (${took} ms)" || fail "and not before it was over (${took} ms)"
	is "$("$CCTL" wait shared)" 137 "it was SIGKILLed"
	"$CCTL" rm shared >/dev/null || fail "rm shared"
done

# A container removed while its stop waits: the stop is answered with the exit, and the timer
# goes with the container (ASan would catch it firing on a freed one).
id=$("$CCTL" run -d --name removed alpine sh -c "trap '' TERM; while :; do sleep 0.1; done")
record_id "$id"
wait_signal removed SigIgn 15
timeout 60 "$CCTL" stop -t 2 removed >"$TEST_TMP/stop1.out" 2>&1 &
s1=$!
sleep 0.3
run_cctl rm -f removed
is "$RC" 0 "rm -f during a stop"
rc1=0
wait $s1 || rc1=$?
is "$rc1" 0 "the pending stop returns 0 once the container is gone"
sleep 2.2 # past the deadline the timer would have had
run_cctl ps -a
is "$RC" 0 "the daemon still answers after that deadline"
unlike "$OUT" removed "and the container is gone"

# Several containers in one call share their grace periods (stopped side by side).
for n in p1 p2; do
	id=$("$CCTL" run -d --name $n alpine sh -c "trap '' TERM; while :; do sleep 0.1; done")
	record_id "$id"
	wait_signal $n SigIgn 15
done
stop_cctl -t 2 p1 p2
is "$RC" 0 "stop of two containers exits 0"
is "$OUT" $'p1\np2' "and prints both names in order"
is "$("$CCTL" wait p1 p2 | tr '\n' ' ')" "137 137 " "both were killed after the grace period"

# Bad options are refused by cctl, bad params by the daemon.
stop_cctl -t abc p1
is "$RC" 125 "cctl refuses a non-numeric timeout"
stop_cctl -t 3601 p1
is "$RC" 125 "cctl refuses a timeout over 3600"
stop_cctl -s NOSUCH p1
is "$RC" 125 "cctl refuses an unknown signal"
id=$("$CCTL" run -d --name target alpine sleep 1000)
record_id "$id"
python3 - "$CONTAIND_SOCKET" >"$TEST_TMP/params.tap" <<'PY'
import json, socket, sys

n = 0
def result(ok, desc, extra=""):
    global n
    n += 1
    print(("ok" if ok else "not ok"), n, "-", desc)
    if not ok:
        print("# " + str(extra).replace("\n", "\n# "))

def call(params):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.settimeout(20)
    s.sendall((json.dumps({"v": 1, "id": 1, "method": "container.stop", "params": params}) + "\n").encode())
    line = s.makefile("rb").readline()
    s.close()
    return json.loads(line)

for params, what in [
    ({"id": "target", "timeout": -1}, "a negative timeout"),
    ({"id": "target", "timeout": 3601}, "a timeout over 3600"),
    ({"id": "target", "timeout": "10"}, "a timeout as a string"),
    ({"id": "target", "signal": "NOSUCH"}, "an unknown signal name"),
    ({"id": "target", "signal": 0}, "signal 0"),
    ({"id": "target", "signal": 65}, "a signal number past SIGRTMAX"),
    ({"id": "target", "signal": True}, "a signal as a boolean"),
    ({"id": "target", "force": True}, "an unknown field"),
    ({}, "no id"),
]:
    r = call(params)
    result(r.get("error", {}).get("code") == "invalid_params", "the daemon refuses " + what, r)
r = call({"id": "nosuch"})
result(r.get("error", {}).get("code") == "not_found", "a missing container is not_found", r)
r = call({"id": "target", "signal": "SIGKILL", "timeout": 5})
res = r.get("result", {})
result(res.get("exit_code") == 137 and res.get("signal") == 9 and res.get("finished_at"),
       "a signal by name stops it; the result is the exit record", r)
r = call({"id": "target"})
result(r.get("result", {}).get("exit_code") == 137, "a stop of the exited container answers at once with its record", r)
print("1..%d" % n)
PY
while IFS= read -r line; do
	case $line in
	"ok "*) pass "${line#ok * - }" ;;
	"not ok "*) fail "${line#not ok * - }" ;;
	"# "*) echo "$line" ;;
	esac
done <"$TEST_TMP/params.tap"
run_cctl inspect target
like "$OUT" '"state": "exited"' "the target was stopped and the daemon still answers"

for n in handler stubborn killme usr1 other p1 p2 target; do
	"$CCTL" rm "$n" >/dev/null 2>&1 || fail "rm $n"
done
is "$("$CCTL" ps -aq)" "" "no container is left"
is "$(daemon_fds)" "$fds_before" "the daemon holds no more fds than before"
done_testing
