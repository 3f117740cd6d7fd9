#!/usr/bin/env bash
# Live restore: containers outlive a daemon killed with SIGKILL or stopped with SIGTERM, under one
# containd-keeper; the next daemon re-adopts every one (by pid and start time), reports the real
# exit code of one that exited meanwhile, and every verb works on them as before. Without live
# restore, the containers die with their daemon.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
# Started as services are (a soft limit of 1024 open files), the daemon raises its limit for the
# fds its containers hold, and the keeper inherits it.
ulimit -S -n 1024
start_daemon d --live-restore || exit 1
import_alpine
nofile() { awk '/^Max open files/ { print $4, $5 }' "/proc/$1/limits"; }
read -r soft hard <<<"$(nofile "$DAEMON_PID")"
((soft == hard && soft > 1024)) && pass "the daemon raised its open files limit to the hard limit ($soft)" ||
	fail "the daemon raised its open files limit to the hard limit ($soft $hard)"
is "$(nofile "$(keeper_pid)")" "$soft $hard" "the keeper has the same limit"

N=20
# pid_of NAME: the host pid of a container's init, from inspect.
pid_of() {
	"$CCTL" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])'
}
# start_time PID: field 22 of /proc/PID/stat (the kernel's start time of the process).
start_time() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'
}
# restart_daemon SIGNAL: kills the daemon with SIGNAL, waits for it, starts a new one on the same
# directories (the killed one is not checked again at the end).
restart_daemon() {
	local old=$DAEMON_PID
	kill "-$1" "$old"
	for _ in $(seq 500); do kill -0 "$old" 2>/dev/null || break; sleep 0.01; done
	wait "$old" 2>/dev/null
	STOPPED_PIDS+="$old "
	rm -f "$DAEMON_DIR/containd.sock" # a killed daemon leaves it: start_daemon waits for a new one
	start_daemon d --live-restore || exit 1
}

declare -A PIDS STARTS
for i in $(seq $N); do
	record_id "$("$CCTL" run -d --name "lr$i" alpine sleep 100000)"
done
for i in $(seq $N); do
	PIDS[$i]=$(pid_of "lr$i")
	STARTS[$i]=$(start_time "${PIDS[$i]}")
done
# One that exits with 7 while the daemon is down.
record_id "$("$CCTL" run -d --name brief alpine sh -c 'sleep 2; exit 7')"
# One that is stopped before the kill: it must stay exited, with its code.
record_id "$("$CCTL" run -d --name done alpine sh -c 'exit 4')"
"$CCTL" wait done >/dev/null
# One that writes numbered lines before, during and after the daemon's absence.
record_id "$("$CCTL" run -d --name writer alpine sh -c 'i=0; while [ $i -lt 400 ]; do i=$((i + 1)); echo line$i; sleep 0.01; done')"
# One with a terminal (-dit): the keeper holds a copy of its pty master.
record_id "$("$CCTL" run -dit --name term alpine sh)"
keepers_before=$(test_keepers | wc -l)
is "$keepers_before" 1 "one containd-keeper supervises all $((N + 2)) containers"
ptmx() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c ptmx; }
is "$(ptmx "$(keeper_pid)")" 1 "the keeper holds the -dit container's pty master"

restart_daemon KILL &&
	pass "a daemon killed with SIGKILL is started again"
alive=0
for i in $(seq $N); do
	[[ $(start_time "${PIDS[$i]}") == "${STARTS[$i]}" ]] && alive=$((alive + 1))
done
is "$alive" "$N" "all $N containers outlived the killed daemon (same pid, same start time)"
is "$(test_keepers | wc -l)" 1 "the new daemon uses the same keeper"

run_cctl ps -q --filter name=lr
is "$(wc -l <<<"$OUT")" "$N" "ps lists the $N re-adopted containers as running"
same=0
for i in $(seq $N); do
	[[ $(pid_of "lr$i") == "${PIDS[$i]}" ]] && same=$((same + 1))
done
is "$same" "$N" "each has the pid it had before"
is "$(ptmx "$DAEMON_PID")" 1 "the new daemon got the pty master back from the keeper"
run_cctl inspect term
like "$OUT" '"state": "running"' "the -dit container runs on"
grep -q "re-adopted" "$DAEMON_DIR/log" && pass "the daemon logs the re-adoption" || fail "the daemon logs the re-adoption"

# Everything the writer wrote is in its log, in order: what it wrote while no daemon ran waited in
# its pipes, which the keeper held, and the next daemon logged it.
"$CCTL" wait writer >/dev/null
"$CCTL" logs writer >"$TEST_TMP/writer.log" 2>&1
is "$(md5sum <"$TEST_TMP/writer.log")" "$(seq 1 400 | sed 's/^/line/' | md5sum)" \
	"the log of a container that wrote while the daemon was down is complete and ordered (400 lines)"
# brief exits while no daemon runs: the next one reports its real code.
"$CCTL" wait brief >/dev/null 2>&1 # may still be running: wait for it through this daemon
restart_daemon KILL
run_cctl inspect brief
like "$OUT" '"exit_code": 7' "a container that exited while containd was down reports its real code (7)"
like "$OUT" '"state": "exited"' "and is exited"
run_cctl inspect done
like "$OUT" '"exit_code": 4' "an exited container keeps its code across restarts"

# Every verb works on a re-adopted container.
run_cctl wait lr1 &
waiter=$!
sleep 0.3
run_cctl kill -s USR1 lr2
is "$RC" 0 "kill of a re-adopted container works"
timeout 30 "$CCTL" events --filter container=lr3 --filter event=die >"$TEST_TMP/events" 2>&1 &
events=$!
sleep 0.3
run_cctl stop -t 1 lr1 lr3
is "$RC" 0 "stop of re-adopted containers works"
wait "$waiter"
sleep 0.3
kill "$events" 2>/dev/null
wait "$events" 2>/dev/null
like "$(cat "$TEST_TMP/events")" "container die [0-9a-f]{64} \\(exitCode=137" "the events stream reports the die of a re-adopted container with its code"
run_cctl inspect lr1
like "$OUT" '"exit_code": 137' "a re-adopted container stopped with SIGKILL after the grace time exits 137"
run_cctl pause lr4
is "$RC" 0 "pause of a re-adopted container"
run_cctl unpause lr4
is "$RC" 0 "unpause of a re-adopted container"
run_cctl top lr5
like "$OUT" "sleep 100000" "top of a re-adopted container"
run_cctl exec lr5 sh -c 'cat /proc/1/comm; exit 3'
is "$RC:$OUT" "3:sleep" "exec into a re-adopted container runs in it (its PID 1 is sleep), with its own exit code"

# SIGTERM keeps them too (live restore), and paused state is seen again.
run_cctl pause lr6
restart_daemon TERM
run_cctl ps -q --filter name=lr
is "$(wc -l <<<"$OUT")" "$((N - 2))" "a daemon stopped with SIGTERM leaves its containers running"
run_cctl ps --filter status=paused --format '{{.Names}}'
is "$OUT" "lr6" "a container paused before the restart is paused after it"
run_cctl unpause lr6

# New containers run next to re-adopted ones, through the same keeper.
run_cctl run --rm alpine echo fresh
is "$OUT" "fresh" "a new container runs after a restart"

# Cleaning up: every container goes; then nothing is left for the keeper to keep.
run_cctl rm -f $("$CCTL" ps -aq)
is "$RC" 0 "re-adopted containers are removed with force"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
for _ in $(seq 200); do [[ -z $(test_keepers) ]] && break; sleep 0.02; done
is "$(test_keepers)" "" "the keeper exits once a stopped daemon left no container"

# Without live restore the containers die with their daemon, even when it is killed.
start_daemon nolr || exit 1
import_alpine
record_id "$("$CCTL" run -d --name victim alpine sleep 100000)"
vpid=$(pid_of victim)
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
STOPPED_PIDS+="$DAEMON_PID "
rm -f "$DAEMON_DIR/containd.sock"
for _ in $(seq 300); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.01; done
kill -0 "$vpid" 2>/dev/null && fail "--live-restore=false: the container dies with a killed daemon" ||
	pass "--live-restore=false: the container dies with a killed daemon"
start_daemon nolr || exit 1
run_cctl inspect victim
like "$OUT" '"state": "exited"' "and the next daemon reports it exited"
run_cctl rm victim

done_testing
