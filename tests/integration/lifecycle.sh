#!/usr/bin/env bash
# Detached runs, kill, wait, rm -f, signal forwarding, client disconnects, daemon restarts.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

id=$("$CCTL" run -d --name sleeper alpine sleep 1000)
record_id "$id"
like "$id" '^[0-9a-f]{64}$' "run -d prints the full id"
run_cctl ps
like "$OUT" 'sleeper' "a detached container is listed as running"
like "$OUT" 'Up ' "its status says Up"
pid=$("$CCTL" inspect sleeper | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" && pass "inspect gives the host pid of a running container" || fail "inspect gives the host pid ($pid)"
run_cctl rm sleeper
is "$RC" 1 "rm of a running container is refused"
like "$ERR" 'running' "and says it is running"
run_cctl kill -s TERM sleeper
is "$RC" 0 "kill -s TERM is accepted"
sleep 0.2
run_cctl inspect sleeper
like "$OUT" '"state": "running"' "PID 1 ignores SIGTERM without a handler, as in Docker"
"$CCTL" wait sleeper >"$TEST_TMP/wait.out" &
waiter=$!
run_cctl kill sleeper
is "$RC" 0 "kill (SIGKILL by default)"
wait $waiter
is "$(cat "$TEST_TMP/wait.out")" 137 "wait reports 137 after SIGKILL"
run_cctl kill sleeper
is "$RC" 1 "kill of an exited container fails"
run_cctl rm sleeper
is "$RC" 0 "rm after exit"

id=$("$CCTL" run -d alpine sleep 1000)
record_id "$id"
run_cctl ps -a
[[ $id =~ ^[0-9a-f]{64}$ ]] && grep -q "^${id:0:12} " <<<"$OUT" && pass "a second detached container is listed by its short id" || fail "a second detached container is listed by its short id ('$id')"
run_cctl rm -f "${id:0:12}"
is "$RC" 0 "rm -f removes a running container by id prefix"
run_cctl ps -a
is "$RC" 0 "ps -a after rm -f"
unlike "$OUT" "${id:0:12}" "and it is gone"

# Signal forwarding without -t: cctl turns SIGTERM into container.kill.
"$CCTL" run --rm alpine sh -c 'trap "exit 7" TERM; sleep 30 & wait' &
cpid=$!
sleep 0.5
kill -TERM $cpid
rc=0
wait $cpid || rc=$?
is "$rc" 7 "SIGTERM to cctl reaches the container's handler"

# A client that goes away does not take its container with it.
"$CCTL" run --name survivor alpine sleep 1000 &
cpid=$!
for _ in $(seq 100); do "$CCTL" ps | grep -q survivor && break; sleep 0.02; done
kill -KILL $cpid
wait $cpid 2>/dev/null
sleep 0.1
run_cctl inspect survivor
like "$OUT" '"state": "running"' "the container keeps running after its client is killed"
"$CCTL" rm -f survivor >/dev/null

# Records of exited containers survive a daemon restart; running ones are killed on SIGTERM.
"$CCTL" run --name persisted alpine sh -c 'exit 5' || true
id=$("$CCTL" run -d --name running-at-stop alpine sleep 1000)
record_id "$id"
pid=$("$CCTL" inspect "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" && pass "a container runs before the daemon stops (pid $pid)" || fail "a container runs before the daemon stops (pid '$pid')"
"$CCTL" run --name attached alpine sleep 1000 >"$TEST_TMP/attached.out" 2>&1 &
attached=$!
for _ in $(seq 100); do "$CCTL" ps | grep -q attached && break; sleep 0.02; done
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
DAEMON_PIDS=()
old=$DAEMON_DIR
[[ $pid =~ ^[0-9]+$ && ! -e /proc/$pid ]] && pass "SIGTERM kills running containers" || fail "SIGTERM kills running containers (pid '$pid')"
rc=0
wait $attached || rc=$?
is "$rc" 137 "an attached client learns its container was killed (137)"
[[ -z "$(leftover_cgroups)" ]] && pass "no cgroups are left after shutdown" || fail "no cgroups are left after shutdown"
"$CONTAIND" --socket "$old/containd.sock" --root "$old/root" --state "$old/state" --log-level debug 2>>"$old/log" &
DAEMON_PIDS+=($!)
DAEMON_PID=$!
for _ in $(seq 500); do [[ -S $old/containd.sock ]] && break; sleep 0.01; done
run_cctl inspect persisted
like "$OUT" '"exit_code": 5' "an exited container's status survives a restart"
# A daemon that dies takes its containers along, whatever user they run as (changing
# credentials clears the parent-death signal, so it is set again).
id=$("$CCTL" run -d -u 1000 --name crash-user alpine sleep 1000)
record_id "$id"
upid=$("$CCTL" inspect crash-user | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
like "$id" '^[0-9a-f]{64}$' "a -u 1000 container started"
[[ $upid =~ ^[0-9]+$ ]] && kill -0 "$upid" && pass "it runs (pid $upid)" || fail "it runs (pid '$upid')"
crash_cgroups=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$id" 2>/dev/null | wc -l)
(( crash_cgroups > 0 )) && pass "it has cgroups ($crash_cgroups)" || fail "it has cgroups"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
for _ in $(seq 100); do [[ -e /proc/$upid && $(awk '{ print $3 }' /proc/$upid/stat 2>/dev/null) != Z ]] || break; sleep 0.02; done
[[ $upid =~ ^[0-9]+$ ]] && [[ ! -e /proc/$upid || $(awk '{ print $3 }' /proc/$upid/stat) == Z ]] && pass "a -u 1000 container dies with a killed daemon" || fail "a -u 1000 container dies with a killed daemon"
"$CONTAIND" --socket "$old/containd.sock" --root "$old/root" --state "$old/state" --log-level debug 2>>"$old/log" &
DAEMON_PIDS=($!)
DAEMON_PID=$!
for _ in $(seq 500); do "$CCTL" version >/dev/null 2>&1 && break; sleep 0.01; done
run_cctl inspect crash-user
like "$OUT" '"exit_code": 255' "after a crash the container is recorded as exited (255)"
[[ $id =~ ^[0-9a-f]{64}$ && -z "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$id" 2>/dev/null)" ]] && pass "the restarted daemon removed the crashed container's cgroups" || fail "the restarted daemon removed the crashed container's cgroups"
run_cctl inspect running-at-stop
like "$OUT" '"exit_code": 137' "a container killed at shutdown is recorded with 137"
run_cctl run --rm alpine echo after-restart
is "$OUT" "after-restart" "images survive a restart"
done_testing
