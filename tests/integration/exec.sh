#!/usr/bin/env bash
# cctl exec / container.exec: a process that joins a running container (every namespace, its
# cgroups, capabilities and seccomp filter), with docker exec's exit codes and options (-u, -w,
# -e, -i, -t, -d, --privileged); refused for exited, paused and unknown containers without
# changing them; killed with its container; the events exec_create, exec_start, exec_die; the
# protocol's checks; a container in a user namespace; no fd left in the daemon.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
ptyrun="python3 $top_srcdir/tests/ptyrun.py"
# Subordinate ids of the default user for --userns=auto (a userns daemon brings its own).
EXTRA=()
if [[ ${CONTAIND_TEST_USERNS:-0} != 1 ]]; then
	echo "containd:1650000000:131072" >"$TEST_TMP/subid"
	EXTRA=(--subuid-file "$TEST_TMP/subid" --subgid-file "$TEST_TMP/subid")
fi
start_daemon d "${EXTRA[@]}" || exit 1
import_alpine || exit 1

# in_box CMD: the output of sh -c CMD run by cctl exec in box.
in_box() { "$CCTL" exec box sh -c "$1" 2>&1; }
top_has() { "$CCTL" top "$1" | grep -c -- "$2"; }

run_cctl run -d --name box --hostname exbox -e RUNVAR=from-run --ulimit nofile=512:1024 alpine \
	sh -c 'echo written-by-init >/srv/by-init; exec sleep 1000'
is "$RC" 0 "run -d the container"
record_id "$OUT"
for _ in $(seq 100); do [[ $(in_box 'cat /srv/by-init') == written-by-init ]] && break; sleep 0.05; done
run_cctl exec box true
is "$RC" 0 "exec true exits 0"
fds0=$(daemon_fds)

# Exit codes, as docker exec's.
run_cctl exec box sh -c 'exit 3'
is "$RC" 3 "the command's exit code comes back"
run_cctl exec box nosuch
is "$RC" 127 "a command not found exits 127"
like "$ERR" 'exec: "nosuch": executable file not found in \$PATH' "and says so"
run_cctl exec box /etc
is "$RC" 126 "a command that cannot be executed exits 126"
like "$ERR" "Permission denied" "and says why"
"$CCTL" exec box sh -c 'echo $$ >/tmp/victim; exec sleep 300' &
victim=$!
for _ in $(seq 100); do [[ -n $(in_box 'cat /tmp/victim 2>/dev/null') ]] && break; sleep 0.05; done
run_cctl exec box sh -c 'kill -9 $(cat /tmp/victim)'
is "$RC" 0 "another exec kills the first"
rc=0
wait "$victim" || rc=$?
is "$rc" 137 "an exec killed by SIGKILL exits 137"

# Every namespace is the container's: the same as PID 1's inside, none of the host's.
is "$(in_box 'for n in cgroup ipc mnt net pid user uts; do
	[ "$(readlink /proc/self/ns/$n)" = "$(readlink /proc/1/ns/$n)" ] && echo "$n same"; done' | tr '\n' ' ')" \
	"cgroup same ipc same mnt same net same pid same user same uts same " "every namespace is PID 1's"
is "$(in_box 'readlink /proc/self/ns/net')" "$(in_box 'readlink /proc/1/ns/net')" "the net namespace is PID 1's"
if [[ $(in_box 'readlink /proc/self/ns/net') != "$(readlink /proc/self/ns/net)" ]]; then
	pass "and not the host's"
else
	fail "and not the host's"
fi
is "$(in_box hostname)" "exbox" "the hostname is the container's"
is "$(in_box 'cat /srv/by-init')" "written-by-init" "the mount view sees what the container wrote"
is "$(in_box 'tr "\0" " " </proc/1/cmdline')" "sleep 1000 " "PID 1 is the container's command"
is "$(in_box 'cat /proc/self/cgroup')" "$(in_box 'cat /proc/1/cgroup')" "/proc/self/cgroup is PID 1's"
init_pid=$("$CCTL" inspect box | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
run_cctl exec -d box sleep 777
is "$RC" 0 "exec -d returns at once with 0"
is "$OUT" "" "and prints nothing"
is "$(top_has box 'sleep 777')" 1 "the detached process runs in the container (cctl top)"
exec_pid=$("$CCTL" top box | awk '/sleep 777/ { print $2 }')
is "$(cat /proc/"$exec_pid"/cgroup 2>&1)" "$(cat /proc/"$init_pid"/cgroup)" \
	"on the host, the exec is in every cgroup of the container's init"
in_box 'pkill -f "sleep 777"' >/dev/null
for _ in $(seq 100); do [[ $(top_has box 'sleep 777') == 0 ]] && break; sleep 0.05; done
is "$(top_has box 'sleep 777')" 0 "it can be killed from another exec"

# The container's confinement.
is "$(in_box 'grep CapEff /proc/self/status')" "$(in_box 'grep CapEff /proc/1/status')" \
	"the capabilities are PID 1's"
is "$(in_box 'grep Seccomp: /proc/self/status | tr -d "\t"')" "Seccomp:2" "the seccomp filter is installed"
is "$(in_box 'grep NoNewPrivs /proc/self/status')" "$(in_box 'grep NoNewPrivs /proc/1/status')" \
	"no_new_privs is PID 1's"
is "$(in_box 'ulimit -Sn; ulimit -Hn' | tr '\n' ' ')" "512 1024 " "the rlimits are the container's (--ulimit)"
# Every capability the host lets us have; in a user namespace every one there is (joining a user
# namespace fills the bounding set).
all_caps=$(awk '/CapBnd/ { print $2 }' /proc/self/status)
[[ ${CONTAIND_TEST_USERNS:-0} == 1 ]] && all_caps=$(printf '%016x' $(((1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1)))
is "$("$CCTL" exec --privileged box grep CapEff /proc/self/status | awk '{ print $2 }')" "$all_caps" \
	"--privileged gets every capability"
is "$("$CCTL" exec -u nobody box grep CapEff /proc/self/status | awk '{ print $2 }')" "0000000000000000" \
	"a non-root user has none"

# Options.
is "$("$CCTL" exec -u nobody box id)" "uid=65534(nobody) gid=65534(nobody)" "-u NAME is resolved in the container"
is "$("$CCTL" exec -u 1000:1000 box id -u)" "1000" "-u UID:GID"
is "$("$CCTL" exec -w /tmp box pwd)" "/tmp" "-w sets the working directory"
is "$("$CCTL" exec -w /made/here box pwd)" "/made/here" "-w creates a missing one"
is "$("$CCTL" exec -e FOO=bar box sh -c 'echo $FOO')" "bar" "-e sets a variable"
is "$("$CCTL" exec box sh -c 'echo $RUNVAR $HOSTNAME $HOME')" "from-run exbox /root" \
	"the container's environment, and HOME from the user"
is "$("$CCTL" exec -e RUNVAR=over box sh -c 'echo $RUNVAR')" "over" "-e overrides the container's"
is "$(echo piped | "$CCTL" exec -i box cat)" "piped" "-i passes stdin"
is "$(echo piped | "$CCTL" exec box cat)" "" "without -i stdin is /dev/null"
is "$("$CCTL" exec box sh -c 'echo out; echo err >&2' 2>/dev/null)" "out" "stdout is cctl's stdout"
is "$("$CCTL" exec box sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" "err" "stderr is cctl's stderr"
rc=0
out=$($ptyrun --size 30x90 --type 'tty; stty size; echo $TERM; exit 4\n' -- "$CCTL" exec -it box sh) || rc=$?
is "$rc" 4 "exec -it: the shell's exit code comes back (and the terminal was restored)"
like "$out" "/dev/pts/[0-9]+" "the terminal is a pty of the container's devpts"
like "$out" "30 90" "with the client's window size"
like "$out" "xterm" "and TERM"
fds1=$(daemon_fds)
is "$fds1" "$fds0" "the daemon holds no fd more than before these execs ($fds0)"

# Refused without changing anything: a paused, an exited, an unknown container.
"$CCTL" pause box
before=$("$CCTL" top box | wc -l)
run_cctl exec box touch /tmp/paused
is "$RC" 1 "exec into a paused container exits 1"
is "$ERR" "cctl: container box is paused, unpause the container before exec" "with docker's message"
is "$("$CCTL" top box | wc -l)" "$before" "and started no process"
is "$("$CCTL" inspect -f '{{.State.Status}}' box)" "paused" "the container stays paused"
"$CCTL" unpause box
is "$(in_box 'ls /tmp/paused 2>&1 >/dev/null | wc -l')" "1" "nothing ran"
run_cctl run --name gone alpine true
id=$("$CCTL" inspect -f '{{.Id}}' gone)
record_id "$id"
run_cctl exec gone true
is "$RC" 1 "exec into an exited container exits 1"
is "$ERR" "cctl: container $id is not running" "with docker's message"
is "$("$CCTL" inspect -f '{{.State.Status}} {{.State.ExitCode}}' gone)" "exited 0" "the container is unchanged"
run_cctl exec nosuchbox true
is "$RC" 1 "exec into an unknown container exits 1"
like "$ERR" "no such container: nosuchbox" "and says so"
run_cctl exec box
is "$RC" 125 "exec without a command is a usage error (125)"
run_cctl exec -w relative box true
is "$RC" 125 "a relative -w is refused"

# The events, as Docker names them.
t0=$(date +%s.%N)
"$CCTL" exec box sh -c 'exit 5'
t1=$(date +%s.%N)
run_cctl events --since "$t0" --until "$t1" --filter container=box --format '{{.Action}}'
is "$OUT" "exec_create: sh -c exit 5
exec_start: sh -c exit 5
exec_die" "exec_create and exec_start with the command, then exec_die"
run_cctl events --since "$t0" --until "$t1" --filter event=exec_die --format json
like "$OUT" '"exit_code":5' "exec_die has the exit code"
like "$OUT" '"exec_id":"[0-9a-f]{64}"' "and the exec id"
run_cctl events --since "$t0" --until "$t1" --filter event=exec_start --format '{{.Action}}'
is "$OUT" "exec_start: sh -c exit 5" "the filter exec_start takes the action with its command"

# The protocol: unknown fields, a missing command, fds that do not match.
call() { printf '%s\n' "$1" | socat -t 2 - UNIX-CONNECT:"$CONTAIND_SOCKET"; }
like "$(call '{"v":1,"id":1,"method":"container.exec","params":{"id":"box","cmd":["true"],"stdio":"null","tty":true}}')" \
	'"code":"invalid_params".*unknown field \\"tty\\"' "an unknown field is refused"
like "$(call '{"v":1,"id":1,"method":"container.exec","params":{"id":"box","stdio":"null"}}')" \
	'"code":"invalid_params".*cmd' "a missing command is refused"
like "$(call '{"v":1,"id":1,"method":"container.exec","params":{"id":"box","cmd":["true"]}}')" \
	'"code":"bad_fds"' "stdio fds without the fds is refused"
# The connection must stay open for the reply and the event: stdin ends a second later.
reply=$( (echo '{"v":1,"id":1,"method":"container.exec","params":{"id":"box","cmd":["sh","-c","exit 7"],"stdio":"null"}}'
	sleep 1) | socat -t 2 - UNIX-CONNECT:"$CONTAIND_SOCKET")
like "$reply" '"result":\{"exec_id":"[0-9a-f]{64}"\}' "the reply carries the exec id"
like "$reply" '"event":"container.exec_exited","params":\{"exec_id":"[0-9a-f]{64}","id":"[0-9a-f]{64}","exit_code":7\}' \
	"then container.exec_exited with the exit code"

# An exec dies with its container, and says so.
run_cctl run -d --name short alpine sleep 1000
record_id "$OUT"
"$CCTL" exec short sleep 500 &
victim=$!
for _ in $(seq 100); do [[ $(top_has short 'sleep 500') == 1 ]] && break; sleep 0.05; done
"$CCTL" kill short >/dev/null
rc=0
wait "$victim" || rc=$?
is "$rc" 137 "an exec running when its container is killed exits 137"
"$CCTL" rm short >/dev/null

# At most 64 execs at once in one container; the 65th is refused and starts nothing.
run_cctl run -d --name many alpine sleep 1000
record_id "$OUT"
started=0
for i in $(seq 64); do "$CCTL" exec -d many sleep 999 && started=$((started + 1)); done
is "$started" 64 "64 detached execs run in one container"
run_cctl exec -d many sleep 999
is "$RC" 125 "a 65th is refused"
like "$ERR" "too many processes started in container many \(at most 64" "with the limit in the message"
is "$(top_has many 'sleep 999')" 64 "and started nothing"
"$CCTL" rm -f many >/dev/null
is "$(daemon_fds)" "$fds1" "the daemon let go of every exec of a removed container"

# A container in a user namespace: the exec is in it, with its mapping.
run_cctl run -d --name ubox --userns=auto --ulimit nofile=2048:4096 alpine sleep 1000
is "$RC" 0 "run a container with --userns=auto"
record_id "$OUT"
in_ubox() { "$CCTL" exec ubox sh -c "$1" 2>&1; }
like "$(in_ubox 'cat /proc/self/uid_map' | tr -s ' ')" "^ ?0 [0-9]+ 65536$" "the exec has the container's uid map"
is "$(in_ubox 'cat /proc/self/uid_map /proc/self/gid_map')" "$(in_ubox 'cat /proc/1/uid_map /proc/1/gid_map')" \
	"the same as PID 1's"
is "$(in_ubox 'readlink /proc/self/ns/user')" "$(in_ubox 'readlink /proc/1/ns/user')" "its user namespace is PID 1's"
is "$(in_ubox 'id -u; grep CapEff /proc/self/status')" "$(in_ubox 'id -u; grep CapEff /proc/1/status')" \
	"as root of that namespace, with PID 1's capabilities"
is "$(in_ubox 'ulimit -Sn; ulimit -Hn' | tr '\n' ' ')" "2048 4096 " "and its rlimits"
is "$("$CCTL" exec -u nobody -w /made ubox sh -c 'id -un; pwd')" "nobody
/made" "-u and a new -w work in it"
"$CCTL" rm -f ubox box gone >/dev/null

done_testing
