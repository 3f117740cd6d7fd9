#!/usr/bin/env bash
# Detached runs, kill, wait, rm -f, signal forwarding, client disconnects, daemon restarts;
# create, start, start -a, restart, a filesystem kept across runs, image configs and --entrypoint.
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
"$CONTAIND" "${NO_BRIDGE[@]}" --socket "$old/containd.sock" --root "$old/root" --state "$old/state" --log-level debug --live-restore=false --shutdown-timeout 0 "${USERNS_ARGS[@]}" 2>>"$old/log" &
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
"$CONTAIND" "${NO_BRIDGE[@]}" --socket "$old/containd.sock" --root "$old/root" --state "$old/state" --log-level debug --live-restore=false --shutdown-timeout 0 "${USERNS_ARGS[@]}" 2>>"$old/log" &
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
# create: a full id, state "created", no process and no spare taken (the pool keeps its own).
field() { "$CCTL" inspect -f "$2" "$1" 2>/dev/null; }
id=$("$CCTL" create --name made alpine sh -c 'echo out; echo err >&2; cat /data 2>/dev/null; echo run >>/data; exit 3')
record_id "$id"
like "$id" '^[0-9a-f]{64}$' "create prints the full id"
is "$(field made '{{.State.Status}} {{.State.Pid}} {{.Id}}')" "created 0 $id" "a created container has no process"
run_cctl ps
unlike "$OUT" made "ps does not list a created container"
run_cctl ps -a
like "$OUT" 'Created +made' "ps -a shows it as Created"
grep -q "created cgroup $id" "$DAEMON_DIR/log" && fail "create made no cgroup (no process, no spare)" ||
	pass "create made no cgroup (no process, no spare)"
# start -a: its output on our fds, its exit status ours.
"$CCTL" start -a made >"$TEST_TMP/start.out" 2>"$TEST_TMP/start.err"
is "$?" 3 "start -a exits with the container's status"
is "$(cat "$TEST_TMP/start.out")" out "its stdout is ours"
is "$(cat "$TEST_TMP/start.err")" err "its stderr is ours"
# The filesystem persists across stop and start: what the first run wrote, the second reads.
is "$("$CCTL" start -a made 2>/dev/null)" "$(printf 'out\nrun')" "a file written by the first run is there in the second"
is "$("$CCTL" start -a made 2>/dev/null)" "$(printf 'out\nrun\nrun')" "and in the third (the overlay mounts again)"
# start -a of a running container attaches to it (docker start -a): its output from then on, its code.
record_id "$("$CCTL" run -d --name late alpine sh -c 'sleep 1; echo late; exit 4')"
"$CCTL" start -a late >"$TEST_TMP/late.out" 2>&1
is "$?:$(cat "$TEST_TMP/late.out")" "4:late" "start -a of a running container attaches to it and exits with its code"
"$CCTL" rm late >/dev/null
grep -q "created cgroup $id" "$DAEMON_DIR/log" && pass "its start made its cgroup, named after its id" ||
	fail "its start made its cgroup, named after its id"
# A detached container stopped and started again finds what it wrote (its upper dir on the host).
kid=$("$CCTL" run -d --name keeper alpine sh -c 'echo run >>/kept; sleep 1000')
record_id "$kid"
upper=$DAEMON_DIR/root/containers/$kid/upper
for _ in $(seq 100); do [[ -s $upper/kept ]] && break; sleep 0.02; done
"$CCTL" stop -t 1 keeper >/dev/null
"$CCTL" start keeper >/dev/null
for _ in $(seq 100); do [[ $(wc -l <"$upper/kept" 2>/dev/null) == 2 ]] && break; sleep 0.02; done
is "$(cat "$upper/kept" 2>/dev/null | tr '\n' ' ')" "run run " "stop then start: the second run appended to the first run's file"
[[ -d $DAEMON_DIR/root/containers/$kid/work && ! -e $DAEMON_DIR/root/containers/$kid/work/work/incompat/volatile ]] &&
	pass "the overlay is not volatile (no work/work/incompat/volatile to refuse the next mount)" ||
	fail "the overlay is not volatile (work/work/incompat/volatile exists)"
# An --rm container never mounts its upper dir again: it keeps the unsynced (volatile) overlay.
rmid=$("$CCTL" run -d --rm alpine sleep 1000)
record_id "$rmid"
for _ in $(seq 100); do [[ -e $DAEMON_DIR/root/containers/$rmid/work/work/incompat/volatile ]] && break; sleep 0.02; done
[[ -e $DAEMON_DIR/root/containers/$rmid/work/work/incompat/volatile ]] && pass "an --rm container's overlay is volatile" ||
	fail "an --rm container's overlay is volatile"
"$CCTL" rm -f "$rmid" >/dev/null
"$CCTL" rm -f keeper >/dev/null
# start without -a prints the name given, as docker; -i passes stdin.
run_cctl start made
is "$RC $OUT" "0 made" "start prints the names given"
"$CCTL" wait made >/dev/null
is "$(echo piped | "$CCTL" start -a -i "$("$CCTL" create alpine cat)")" piped "start -a -i passes stdin"
# A container created with -t gets a new terminal at each start, relayed by start -a.
"$CCTL" create -t --name tty1 alpine sh -c 'tty; exit 4' >/dev/null
out=$("$CCTL" start -a tty1 </dev/null | tr -d '\r'; echo "rc=${PIPESTATUS[0]}")
is "$out" "$(printf '/dev/pts/0\nrc=4')" "start -a of a -t container relays its pty and exits with its status"
"$CCTL" rm tty1 >/dev/null
# A running container: start is a no-op (exit 0), restart stops and starts it (its pid changes).
rid=$("$CCTL" run -d --name runner alpine sleep 1000)
record_id "$rid"
pid1=$(field runner '{{.State.Pid}}')
run_cctl start runner
is "$RC $OUT" "0 runner" "start of a running container succeeds and does nothing"
is "$(field runner '{{.State.Pid}}')" "$pid1" "the container kept its process"
run_cctl restart -t 1 runner
is "$RC $OUT" "0 runner" "restart prints the name"
pid2=$(field runner '{{.State.Pid}}')
[[ $pid2 =~ ^[0-9]+$ && $pid2 != 0 && $pid2 != "$pid1" ]] && pass "restart gives it a new process ($pid1 -> $pid2)" || fail "restart gives it a new process ('$pid1' -> '$pid2')"
is "$(field runner '{{.State.Status}} {{.Id}}')" "running $rid" "it runs again under the same id"
events=$("$CCTL" events --since 1m --until 0s --filter container=runner --format '{{.Action}}' | tr '\n' ' ')
like "$events" 'restart die start $' "restart: a restart event, then the old run's die and the new start"
# restart honours the image's (here --stop-signal's) stop signal: a shell trapping QUIT exits 9.
"$CCTL" run -d --name quitter --stop-signal QUIT alpine sh -c 'trap "exit 9" QUIT; while :; do sleep 0.1; done' >/dev/null
sleep 0.3
run_cctl stop -t 5 quitter
is "$(field quitter '{{.State.ExitCode}}')" 9 "stop sends the container's stop signal (QUIT)"
run_cctl restart -t 5 quitter
sleep 0.3
run_cctl restart -t 5 quitter
is "$(field quitter '{{.State.Status}}')" running "restart of a running container with its own stop signal"
last_die=$("$CCTL" events --since 1m --until 0s --filter container=quitter --format json |
	python3 -c 'import json,sys; print([e for e in map(json.loads, sys.stdin) if e["action"] == "die"][-1]["exit_code"])')
is "$last_die" 9 "the restart's stop used QUIT too"
"$CCTL" rm -f quitter runner >/dev/null

# Bad inputs: clear errors, nothing changes.
before=$("$CCTL" ps -aq | wc -l)
run_cctl start no-such-container
is "$RC" 1 "start of an unknown container fails (1)"
like "$ERR" 'no such container: no-such-container' "and says so"
run_cctl restart no-such-container
like "$ERR" 'no such container' "restart of an unknown container says so"
run_cctl create --name made alpine true
is "$RC" 125 "create with a name in use fails (125)"
like "$ERR" 'the container name "made" is already in use' "and names the conflict"
run_cctl create no-such-image true
like "$ERR" 'no-such-image' "create of an unknown image names it"
run_cctl create alpine
like "$ERR" 'no command specified' "create without a command the image lacks too is refused"
run_cctl start -a made runner
like "$ERR" 'cannot start and attach multiple containers' "start -a takes one container"
is "$("$CCTL" ps -aq | wc -l)" "$before" "nothing was created by the bad requests"

# Image configs: Cmd, Entrypoint, WorkingDir, User and StopSignal of an image imported with them.
"$CCTL" image import -c 'ENTRYPOINT ["/bin/echo", "ep"]' -c 'CMD ["default", "args"]' -c 'WORKDIR /tmp' \
	-c 'USER nobody' -c 'STOPSIGNAL SIGUSR1' -c 'ENV GREETING=hi' configured "$ALPINE_TARBALL" >/dev/null
is "$("$CCTL" run --rm configured)" "ep default args" "Entrypoint followed by Cmd"
is "$("$CCTL" run --rm configured mine)" "ep mine" "a command replaces Cmd, not Entrypoint"
is "$("$CCTL" run --rm --entrypoint /bin/pwd configured)" "/tmp" "--entrypoint drops the image's Cmd; WorkingDir is the cwd"
is "$("$CCTL" run --rm --entrypoint /usr/bin/id configured -un)" "nobody" "--entrypoint with a command; User is the image's"
is "$("$CCTL" run --rm --entrypoint "" configured sh -c 'echo $GREETING; id -un')" "$(printf 'hi\nnobody')" \
	'--entrypoint "" clears it; Env is the image'"'"'s'
is "$("$CCTL" run --rm -u root -w / --entrypoint "" configured sh -c 'id -un; pwd')" "$(printf 'root\n/')" "-u and -w override User and WorkingDir"
"$CCTL" run -d --name usr1 --entrypoint "" configured sh -c 'trap "exit 10" USR1; while :; do sleep 0.1; done' >/dev/null
sleep 0.3
"$CCTL" stop -t 5 usr1 >/dev/null
is "$(field usr1 '{{.State.ExitCode}}')" 10 "stop sends the image's StopSignal (USR1)"
"$CCTL" rm usr1 >/dev/null
"$CCTL" image import -c 'CMD echo shell form' shellform "$ALPINE_TARBALL" >/dev/null
is "$("$CCTL" run --rm shellform)" "shell form" "a shell-form CMD runs with /bin/sh -c"
run_cctl image import -c 'FROM x' bad "$ALPINE_TARBALL"
like "$ERR" 'expected CMD, ENTRYPOINT' "an unknown --change instruction is refused"
run_cctl image import -c 'WORKDIR relative' bad "$ALPINE_TARBALL"
like "$ERR" 'not an absolute path' "the daemon checks the config (WorkingDir)"

# A daemon restart keeps a created container startable, and an exited one's filesystem.
"$CCTL" create --name later alpine sh -c 'cat /data 2>/dev/null; echo again >>/data' >/dev/null
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
"$CONTAIND" "${NO_BRIDGE[@]}" --socket "$old/containd.sock" --root "$old/root" --state "$old/state" --log-level debug --live-restore=false --shutdown-timeout 0 "${USERNS_ARGS[@]}" 2>>"$old/log" &
DAEMON_PIDS=($!)
DAEMON_PID=$!
for _ in $(seq 500); do "$CCTL" version >/dev/null 2>&1 && break; sleep 0.01; done
is "$(field later '{{.State.Status}}')" created "a created container is still created after a daemon restart"
is "$("$CCTL" start -a later; "$CCTL" start -a later)" again "and starts, twice, on its own filesystem"
is "$("$CCTL" start -a made 2>/dev/null | tail -1)" run "an exited container's files survive the daemon's restart"
"$CCTL" rm later made >/dev/null
done_testing
