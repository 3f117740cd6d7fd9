#!/usr/bin/env bash
# The Python (container.run, container.stop), socat, pause, top, events, lifecycle, exec and logs
# examples in docs/protocol.md, and the tour in README.md, work as printed.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine
doc=$top_srcdir/docs/protocol.md

extract() { awk -v tag="# example: $1" '/^```/ { if (inblock) { inblock = 0; keep = 0 } else inblock = 1; next } inblock && $0 == tag { keep = 1 } keep' "$doc"; }

extract python >"$TEST_TMP/example.py"
[[ -s $TEST_TMP/example.py ]] && pass "the Python example is in the doc" || fail "the Python example is in the doc"
run=$(python3 "$TEST_TMP/example.py" 2>&1)
is "$?" 0 "the Python example runs"
like "$run" 'daemon [0-9]+\.[0-9]+' "it prints the daemon version"
like "$run" 'hello from python' "the container's output reaches the script's stdout"
like "$run" 'exit code 0' "it reports the exit code"

extract python-stop >"$TEST_TMP/example-stop.py"
[[ -s $TEST_TMP/example-stop.py ]] && pass "the container.stop example is in the doc" || fail "the container.stop example is in the doc"
run=$(python3 "$TEST_TMP/example-stop.py" 2>&1)
is "$?" 0 "the container.stop example runs"
is "$run" "exit code 137 signal 9" "the container ignoring SIGTERM was SIGKILLed at the end of its grace period"

extract socat >"$TEST_TMP/example.sh"
[[ -s $TEST_TMP/example.sh ]] && pass "the socat example is in the doc" || fail "the socat example is in the doc"
run=$(bash "$TEST_TMP/example.sh" 2>&1)
is "$?" 0 "the socat example runs"
like "$run" '"names":\["alpine:latest"\]' "image.list answers through socat"
like "$run" '"containers":\[' "container.list answers through socat"

# run_example NAME: the shell example NAME of the doc, run with cctl on PATH; its output in $run.
run_example() {
	extract "$1" >"$TEST_TMP/$1.sh"
	[[ -s $TEST_TMP/$1.sh ]] && pass "the $1 example is in the doc" || fail "the $1 example is in the doc"
	run=$(PATH=$top_builddir:$PATH bash "$TEST_TMP/$1.sh" 2>&1)
	is "$?" 0 "the $1 example runs"
}

run_example cp
like "$run" '"result":\{"name":"alpine-release","size":[0-9]+,"mode":33188' "container.cp_stat: name, size, mode of a regular file"
like "$run" '"code":"not_found","message":"Could not find the file /nope in container' "a missing path: docker's message"
like "$run" '\{"kind":"A","path":"/greeting"\}' "container.diff lists the added file"
like "$run" '\{"kind":"D","path":"/etc/motd"\}' "and the deleted one"
like "$run" '"code":"bad_fds"' "cp_from without its fd: bad_fds"
like "$run" '(^|
)hi(
|$)' "cctl cp CONTAINER:FILE - streams the file"
like "$run" '(^|
)hello(
|$)' "cctl cp into the container"
like "$run" '(^|
)[1-9][0-9]*(
|$)' "cctl export lists /etc"
extract python-cp >"$TEST_TMP/example-cp.py"
run=$(PATH=$top_builddir:$PATH python3 "$TEST_TMP/example-cp.py" 2>&1)
is "$?" 0 "the container.cp_from Python example runs"
like "$run" '^alpine-release 3\.[0-9.]+ [0-9]+$' "it reads the tar stream from its pipe"

run_example commit
like "$run" '"result":\{"id":"sha256:[0-9a-f]{64}"[^}]*"names":\["doc-commit:v1"\]' "container.commit answers with the named image"
like "$run" '(^|
)committed(
|$)' "the image runs the command its config was given"
like "$run" "/etc/motd: No such file" "and sees the container's deletion"
like "$run" '(^|
)again(
|$)' "cctl commit --change CMD"
run_example pause
like "$run" '"state":"paused"' "container.inspect says paused"
like "$run" '"code":"conflict"' "a second pause is a conflict"
is "$("$CCTL" ps -aq)" "" "the pause example removes its container"

run_example top
like "$run" '"titles":\["UID","PID","PPID","C","STIME","TTY","TIME","CMD"\]' "container.top gives ps -ef's titles"
is "$(grep -o '"sleep 60"' <<<"$run" | wc -l)" 2 "and the two sleeps"
like "$run" 'UID +PID +PPID +C +STIME +TTY +TIME +CMD' "cctl top prints the table"
like "$run" '"code":"invalid_params"[^}]*ps_args' "ps_args is refused"
like "$run" '"code":"not_found"' "top of a removed container: not_found"
is "$("$CCTL" ps -aq)" "" "the top example removes its container"
run_example exec
like "$run" '"result":\{"exec_id":"[0-9a-f]{64}"\}' "container.exec answers with the exec id"
like "$run" '"event":"container.exec_exited","params":\{[^}]*"exit_code":3' "then its exit code"
like "$run" '"code":"start_failed"[^}]*"data":\{"exit_code":127\}' "a command not found: start_failed, 127"
like "$run" 'hello from [0-9a-f]{12}' "cctl exec runs in the container (its hostname)"
like "$run" 'paused, unpause the container before exec' "an exec into a paused container is refused"
like "$run" 'cctl exec: 1' "and cctl exits 1"
is "$("$CCTL" ps -aq)" "" "the exec example removes its container"
run_example events
is "$(grep -o '"action":"[a-z]*"' <<<"$run" | cut -d'"' -f4 | tr '\n' ' ')" "create start die destroy " \
	"the events example prints the container's life in order"
like "$run" '"exit_code":2' "its die event has the exit code"
like "$run" '"event":"events.end"' "the stream ends at until"

run_example images
like "$run" '"result":\{"id":"sha256:[0-9a-f]{64}","name":"doc/box:v1"\}' "image.tag answers with the id and the name"
like "$run" '"RepoTags":\[[^]]*"doc/box:v1"' "image.inspect lists the new name"
like "$run" '"history":\[\{"id":"sha256:' "image.history's newest row is the image"
like "$run" '"images":\{"total":1' "system.df counts the image"
like "$run" $'\ndoc/box:v1\n' "cctl images --filter --format"
like "$run" 'Untagged: doc/box:v1' "cctl rmi untags it"
like "$run" '"deleted":\[\],"space_reclaimed":0' "image.prune with nothing dangling"

extract lifecycle >"$TEST_TMP/lifecycle.py"
[[ -s $TEST_TMP/lifecycle.py ]] && pass "the lifecycle example is in the doc" || fail "the lifecycle example is in the doc"
run=$(python3 "$TEST_TMP/lifecycle.py" 2>&1)
is "$?" 0 "the lifecycle example runs"
replies=$(grep -c '^{"v":1,"id":1,' <<<"$run")
is "$replies" 6 "every call of the lifecycle example is answered"
like "$(sed -n 1p <<<"$run")" '"result":\{"id":"[0-9a-f]{64}","name":"doc-life","pid":0\}' "container.create answers with the id"
like "$(sed -n 2p <<<"$run")" '"state":"created".*"restart_policy":\{"name":"on-failure","maximum_retry_count":3\}' \
	"a created container, its restart policy in inspect"
like "$(sed -n 3p <<<"$run")" '"result":\{"id":"[0-9a-f]{64}","name":"doc-life","pid":[1-9]' "container.start answers once it runs"
like "$(sed -n 4p <<<"$run")" '"result":\{"id":"[0-9a-f]{64}","name":"doc-life","pid":[1-9]' "container.restart answers once it runs again"
[[ $(sed -n 3p <<<"$run" | grep -o '"pid":[0-9]*') != $(sed -n 4p <<<"$run" | grep -o '"pid":[0-9]*') ]] &&
	pass "with a new process" || fail "restart gives a new process"
like "$(sed -n 5p <<<"$run")" '"code":"conflict"' "attaching to a running container is a conflict"
is "$("$CCTL" ps -aq)" "" "the lifecycle example removes its container"
extract logs >"$TEST_TMP/logs.sh"
[[ -s $TEST_TMP/logs.sh ]] && pass "the logs example is in the doc" || fail "the logs example is in the doc"
run=$(PATH=$top_builddir:$PATH bash "$TEST_TMP/logs.sh" 2>"$TEST_TMP/logs.err")
is "$?" 0 "the logs example runs"
like "$run" '"result":\{"driver":"file","mode":"json"\}' "container.logs answers with the driver and the mode"
like "$run" '"stream":"stdout"[^}]*"data":"aGVsbG8K"' "hello comes as a base64 stdout record"
like "$run" '"stream":"stderr"[^}]*"data":"b29wcwo="' "oops as a stderr record"
like "$run" '"event":"logs.end"' "the stream ends with logs.end"
like "$run" $'\nhello\n' "cctl logs prints stdout to stdout"
like "$(cat "$TEST_TMP/logs.err")" '^oops$' "and stderr to stderr"
is "$("$CCTL" ps -aq)" "" "the logs example removes its container"
run_example volumes
like "$run" '"result":\{"name":"doc-data","driver":"local"[^}]*"labels":\{"app":"doc"\}' "volume.create answers with the volume"
like "$run" $'\nkept\n' "a named volume persists across containers"
like "$run" '"code":"conflict","message":"remove doc-data: volume is in use' "a volume in use is not removed"
like "$run" '"result":\{"removed":\["doc-data"\]\}' "then it is"
like "$run" '"code":"not_found","message":"get doc-data: no such volume"' "and inspect says not_found"

extract load-save >"$TEST_TMP/load-save.py"
[[ -s $TEST_TMP/load-save.py ]] && pass "the load-save example is in the doc" || fail "the load-save example is in the doc"
run=$(python3 "$TEST_TMP/load-save.py" 2>&1)
is "$?" 0 "the load-save example runs"
like "$(sed -n 1p <<<"$run")" "^\\{'v': 1, 'id': 1, 'result': \\{\\}\\}$" "image.save answers {} once the archive is written"
like "$(sed -n 2p <<<"$run")" "'result': \\{'images': \\[\\{'id': 'sha256:[0-9a-f]{64}', 'names': \\['alpine:latest'\\]" \
	"image.load loads it back under its name"

# The README tour, in order, against a daemon of its own that starts empty. Its first line
# starts containd (the harness did); the others run as printed, with cctl on PATH, in a
# directory holding the tarball under the name the tour uses.
# In a network namespace of its own: the tour's networks and published ports make a bridge.
DAEMON_NETNS=1 start_daemon tour || exit 1
tour=$TEST_TMP/tour
mkdir -p "$tour"
ln -s "$ALPINE_TARBALL" "$tour/alpine-minirootfs-3.20.3-x86_64.tar.gz"
awk '/^## A short tour/ { intour = 1; next } /^## / { intour = 0 } intour && /^    / { sub(/^    /, ""); print }' \
	"$top_srcdir/README.md" >"$TEST_TMP/tour.txt"
steps=0
while IFS= read -r step; do
	[[ $step == containd* ]] && continue
	steps=$((steps + 1))
	# The interactive shell gets "exit" on its stdin; a step with its own pipe ignores it.
	out=$(cd "$tour" && PATH=$top_builddir:$PATH in_netns bash -c "$step" <<<"exit" 2>&1)
	rc=$?
	if [[ $rc == 0 ]]; then
		pass "tour: $step"
	else
		fail "tour: $step (exit status $rc)"
		diag "$out"
	fi
	case $step in
	*"cat "*) is "$out" "hi" "tour: stdin reaches cat" ;;
	*"echo limited"*) is "$out" "limited" "tour: the limited container runs" ;;
	*"cctl exec"*) is "$out" "/tmp" "tour: cctl exec runs in the container, in -w's directory" ;;
	*" env"*) like "$out" "FOO=bar" "tour: the environment is set" ;;
	*"cctl info"*) like "$out" "Containers: 3" "tour: info counts web, box and api" ;;
	# Two pipes: the order of stdout and stderr between them is the order the daemon read them.
	*"cctl logs -f -t hello"*) like "$out" "Z hello.*Z oops|Z oops.*Z hello" "tour: logs of hello, with times" ;;
	*"nc api 80"*) is "$out" "hello" "tour: a container reaches another by name on a user network" ;;
	*"cctl port api"*) is "$out" "80/tcp -> 0.0.0.0:8080" "tour: cctl port shows the published port" ;;
	*"cctl rmi alpine"*) like "$out" "Untagged: alpine:latest" "tour: the image goes at the end" ;;
	esac
done <"$TEST_TMP/tour.txt"
[[ $steps -ge 10 ]] && pass "the tour has $steps steps" || fail "the tour is in README.md (found $steps steps)"
is "$("$CCTL" ps -aq)" "" "the tour leaves no container behind"
# The image.pull example without a registry (pull.sh runs it against one): a clean error reply.
run_example pull
like "$run" '"code":"pull_failed"' "image.pull without a registry: pull_failed"
# The networks example makes a bridge: against a daemon in a network namespace of its own.
DAEMON_NETNS=1 start_daemon netdoc || exit 1
run_example networks
like "$run" '"result":\{"id":"[0-9a-f]{64}","name":"doc-net"\}' "network.create answers with the id"
like "$run" '"code":"conflict","message":"invalid pool request: Pool overlaps' "an overlapping subnet: conflict"
like "$run" '"Subnet":"10\.123\.0\.0/24","Gateway":"10\.123\.0\.1"' "network.inspect: the IPAM config"
like "$run" '"result":\{"networks":\[\{"Name":"doc-net"' "network.list with filters: the custom network"
like "$run" $'\n[0-9a-f]{12} +doc-net +bridge +local' "cctl network ls lists it"
like "$run" '"message":"bridge is a pre-defined network and cannot be removed"' "a built-in is not removed"
like "$run" '"code":"not_found","message":"network doc-net not found"' "the removed network is gone"
done_testing
