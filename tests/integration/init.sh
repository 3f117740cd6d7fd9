#!/usr/bin/env bash
# cctl run --init: containd-tini is PID 1 (bound read-only at /dev/init), the command its child
# (PID 2); it reaps orphans, forwards signals to a command that has no handler for them (which
# as PID 1 would ignore them), and exits with the command's status. Without --init nothing
# changes. The same in a user namespace (--userns-remap).
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine

inspect_field() {
	"$CCTL" inspect "$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]'"$2"'))'
}

# The host pid of the process of a container whose command line is $2, or nothing.
host_pid_of() {
	local p
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[[ $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null) == "$2 " ]] && echo "$p"
	done
}

# The zombies among the descendants of host pid $1, one "PID COMMAND" a line.
zombies_under() {
	local p
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		grep -q '^State:.*Z' /proc/"$p"/status 2>/dev/null && echo "$p $(cat /proc/"$p"/comm)"
		zombies_under "$p"
	done
}

# checks [LABEL]: every assertion, against the current daemon.
checks() {
	local label=$1 out id pid child

	out=$("$CCTL" run --rm --init alpine ps -o pid,ppid,args)
	diag "$out"
	like "$(awk '$1 == 1' <<<"$out")" "^ *1 +0 +/dev/init -- ps -o pid,ppid,args\$" "$label: PID 1 is the init"
	like "$(awk '$1 == 2' <<<"$out")" "^ *2 +1 +ps -o pid,ppid,args\$" "$label: the command is PID 2, its child"
	out=$("$CCTL" run --rm alpine ps -o pid,args)
	like "$(awk '$1 == 1' <<<"$out")" "^ *1 +ps -o pid,args\$" "$label: without --init the command is PID 1"

	run_cctl run --rm --init alpine sh -c 'exit 3'
	is "$RC" 3 "$label: the command's exit code passes through"
	run_cctl run --rm --init alpine sh -c 'kill -KILL $$'
	is "$RC" 137 "$label: a command killed by a signal: 128+N"
	is "$("$CCTL" run --rm --init -u 1000:1000 alpine sh -c 'id -u; ps -o user,args | grep -c "^1000 *[/]dev/init"')" \
		"1000"$'\n'"1" "$label: with -u the init and the command run as that user"
	run_cctl run --rm --init --privileged --userns host alpine sh -c 'exit 6'
	is "$RC" 6 "$label: --init with --privileged"
	run_cctl run --rm --init alpine /no/such/command
	is "$RC" 127 "$label: a command that does not exist: 127"
	like "$ERR" "containd-tini: cannot execute /no/such/command" "$label: the init says why"

	# An orphan: a subshell starts a short sleep and exits, so PID 1 inherits the sleep and must
	# reap it when it exits.
	run_cctl run -d --init alpine sh -c '(sleep 0.2 &); exec sleep 30'
	is "$RC" 0 "$label: run -d an orphan maker"
	id=$OUT
	record_id "$id"
	pid=$(inspect_field "$id" '["pid"]')
	is "$(tr '\0' ' ' </proc/"$pid"/cmdline)" "/dev/init -- sh -c (sleep 0.2 &); exec sleep 30 " \
		"$label: the container's pid is the init"
	is "$(inspect_field "$id" '["init"]')" true "$label: inspect says init: true"
	is "$(inspect_field "$id" '["cmd"]')" '["sh", "-c", "(sleep 0.2 &); exec sleep 30"]' \
		"$label: inspect's cmd is the command, without the init"
	is "$("$CCTL" inspect -f '{{.HostConfig.Init}}' "$id")" true "$label: .HostConfig.Init"
	sleep 0.8
	is "$(zombies_under "$pid")" "" "$label: the orphan was reaped: no zombie in the container"
	child=$(host_pid_of "$pid" "sleep 30")
	like "$child" '^[0-9]+$' "$label: the command runs as the init's child"
	run_cctl kill -s TERM "$id"
	is "$RC" 0 "$label: kill -s TERM"
	run_cctl wait "$id"
	is "$OUT" 143 "$label: SIGTERM reached the command (no handler) and the container exited 143"
	"$CCTL" rm "$id" >/dev/null

	# The same without --init: sleep as PID 1 reaps nothing and ignores SIGTERM.
	run_cctl run -d alpine sh -c '(sleep 0.2 &); exec sleep 30'
	id=$OUT
	record_id "$id"
	pid=$(inspect_field "$id" '["pid"]')
	is "$(inspect_field "$id" '["init"]')" false "$label: inspect says init: false"
	sleep 0.8
	like "$(zombies_under "$pid")" "^[0-9]+ sleep\$" "$label: without --init the orphan stays a zombie"
	"$CCTL" kill -s TERM "$id" >/dev/null
	sleep 0.3
	is "$(inspect_field "$id" '["state"]')" '"running"' "$label: without --init, PID 1 ignores SIGTERM"
	"$CCTL" rm -f "$id" >/dev/null

	# The image cannot see the bind anywhere but /dev/init, and cannot write it.
	run_cctl run --rm --init alpine sh -c 'echo x >>/dev/init; echo rc=$?; grep " /dev/init " /proc/self/mounts'
	like "$OUT" "^rc=1"$'\n'".* /dev/init [^ ]+ ro,nosuid,nodev" "$label: /dev/init is a read-only, nosuid, nodev bind"
}

start_daemon d || exit 1
import_alpine || exit 1
checks host

# The wire: "init" must be a boolean.
out=$(printf '%s\n' '{"v":1,"id":1,"method":"container.run","params":{"image":"alpine","cmd":["true"],"stdio":"null","init":"yes"}}' |
	socat -t 2 - UNIX-CONNECT:"$CONTAIND_SOCKET")
like "$out" 'parameter \\"init\\" must be true or false' "init: a string is refused"

# With a terminal: ^C reaches the command through the init (and its foreground job through the
# terminal); an interactive shell under the init keeps its job control.
ptyrun="python3 $top_srcdir/tests/ptyrun.py"
rc=0
out=$($ptyrun --type '\x03' -- "$CCTL" run -it --rm --init alpine sleep 30) || rc=$?
is "$rc" 130 "-it --init: ^C ends a command that has no handler (130)"
rc=0
out=$($ptyrun --type 'sleep 10\n' --type '\x03' --type 'echo after-$((6*7)); exit 4\n' -- \
	"$CCTL" run -it --rm --init alpine sh) || rc=$?
is "$rc" 4 "-it --init: the shell survives ^C and its exit code passes through"
like "$out" 'after-42' "and ^C interrupted only its foreground job"

# The record keeps "init" across a restart of the daemon.
run_cctl run --name kept --init alpine sh -c 'exit 5'
is "$RC" 5 "run --init a container that is kept"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
start_daemon d2 --root "$DAEMON_DIR/root" || exit 1
is "$(inspect_field kept '["init"]')" true "a restarted daemon still says init: true"
is "$(inspect_field kept '["cmd"]')" '["sh", "-c", "exit 5"]' "and the command without the init"
"$CCTL" rm kept >/dev/null

base=1700000000
ids=$TEST_TMP/ids
mkdir -p "$ids"
echo "containd-test:$base:131072" >"$ids/subuid"
echo "containd-test:$base:131072" >"$ids/subgid"
start_daemon u --userns-remap=containd-test --subuid-file "$ids/subuid" --subgid-file "$ids/subgid" --prepared 1 || exit 1
import_alpine || exit 1
checks userns

done_testing
