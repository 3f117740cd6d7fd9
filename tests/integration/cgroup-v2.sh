#!/usr/bin/env bash
# cgroup v2 + systemd, in the qemu VM of tests/vm (pure cgroup v2, systemd as PID 1): the units
# as shipped (containd.socket activates containd.service, Type=notify, Delegate=yes), the
# daemon's own cgroup layout (supervisor leaf, subtree_control), the journal (also as a log
# driver: --log-driver journald and cctl logs reading it back), container cgroups
# and their v2 limits (memory.max/swap.max, pids.max, cpu.max), OOM kills, the pids limit,
# cgroup removal (the prepared "spare" init process aside), live restore (`systemctl restart` and a
# SIGKILLed daemon keep the containers, the next daemon re-adopts them), a clean `systemctl stop`
# that stops running containers, and re-activation through the socket.
# The journal must hold no sanitizer report (CI builds with ASan+UBSan) and no warnings.
#
# The host part builds the VM image if needed (tests/vm/build-image), fills a share with the
# binaries, the units, the Alpine tarball and vm-test.sh, boots the VM once (tests/vm/run) and
# relays the guest's TAP lines, renumbered after its own.
#
#   CONTAIND_SKIP_VM=1    skip (1..0)
#   CONTAIND_VM_TIMEOUT   seconds before the VM is killed (default here 600, for slow CI)
source "$(dirname "$0")/../lib.sh"

if [[ ${CONTAIND_SKIP_VM:-0} == 1 ]]; then
	echo "1..0 # SKIP CONTAIND_SKIP_VM=1"
	exit 0
fi
need_root
need_alpine
VM=$top_srcdir/tests/vm
export CONTAIND_VM_TIMEOUT=${CONTAIND_VM_TIMEOUT:-600}
T0=$SECONDS

# The image build failing is a failure, not a reason to skip.
if "$VM/build-image" >"$TEST_TMP/build-image.log" 2>&1; then
	pass "the VM image is built (tests/vm/build-image)"
else
	fail "the VM image is built (tests/vm/build-image)"
	diag "$(tail -n 40 "$TEST_TMP/build-image.log")"
	done_testing
	exit 1
fi

# ---- the share ---------------------------------------------------------------------------
SHARE=$TEST_TMP/share
mkdir "$SHARE"
if out=$(cp "$CONTAIND" "$CCTL" "$top_builddir/containd-init" "$top_builddir/containd-keeper" "$SHARE/" 2>&1 && cp "$top_srcdir/systemd/containd.socket" "$SHARE/" 2>&1 &&
	sed 's|@bindir@|/usr/local/bin|g' "$top_srcdir/systemd/containd.service.in" 2>&1 >"$SHARE/containd.service" &&
	cp "$ALPINE_TARBALL" "$SHARE/" 2>&1 && ! grep @ "$SHARE/containd.service"); then
	pass "share prepared: containd, containd-init, containd-keeper, cctl, units (@bindir@ = /usr/local/bin), $(basename "$ALPINE_TARBALL")"
else
	fail "share prepared: containd, cctl, units, Alpine tarball"
	diag "$out"
	done_testing
	exit 1
fi
printf 'ALPINE=%q\n' "$(basename "$ALPINE_TARBALL")" >"$SHARE/vm-test.env"

cat >"$SHARE/vm-test.sh" <<'GUEST'
#!/bin/bash
# Runs inside the VM as root (containd-vm-test.service), in /mnt/host. Prints TAP (the plan
# last) and exits with the number of failures. Scratch files go to the guest's /tmp.
set -u
source /mnt/host/vm-test.env
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
SVC=containd.service
SOCK=/run/containd/containd.sock
SCOPE=containd-containers.scope
CG=/sys/fs/cgroup/system.slice/$SCOPE # the containers' cgroups (daemon/scope.h)
SVC_CG=/sys/fs/cgroup/system.slice/containd.service
TMP=$(mktemp -d /tmp/cgroup-v2.XXXXXX)
SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error'

n=0 failed=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { [[ -z $* ]] || sed 's/^/# /' <<<"$*"; }
is() { # is GOT EXPECTED DESC
	if [[ $1 == "$2" ]]; then pass "$3"; else
		fail "$3"; diag "got:      '$1'"; diag "expected: '$2'"; fi
}
like() { # like GOT REGEX DESC
	if [[ $1 =~ $2 ]]; then pass "$3"; else
		fail "$3"; diag "got:      '$1'"; diag "expected to match: '$2'"; fi
}
check() { # check DESC CMD...
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then pass "$desc"; else
		fail "$desc"; diag "command: $*"; diag "$out"; fi
}
# wait_for SECONDS CMD...: polls CMD every 0.1 s.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}
# Every cctl call is bounded: a daemon that never answers must fail the test, not hang the VM
# until tests/vm/run's timeout.
cctl() { timeout -k 5 "${CCTL_TIMEOUT:-120}" /usr/local/bin/cctl "$@"; }
# Runs cctl, capturing stdout, stderr and the status in OUT, ERR and RC.
run_cctl() {
	RC=0
	cctl "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}
# field NAME: a scalar field of `cctl inspect`'s (indented JSON) output on stdin.
field() { sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -n 1; }
prop() { systemctl show -p "$1" --value "$SVC"; }
journal() { journalctl -q -u "$SVC" -o cat --no-pager; }
journal_has() { journal | grep -qE "$1"; }
# Container cgroups: the directories below the containers' scope other than the supervisor leaf.
child_cgroups() { find "$CG" -mindepth 1 -maxdepth 1 -type d ! -name supervisor -printf '%f\n' 2>/dev/null | sort; }
# While idle the daemon keeps a prepared init process ("containd-spare") waiting in the cgroup
# of the next container; those cgroups are not leftovers.
is_spare_cgroup() {
	local p
	for p in $(cat "$CG/$1/cgroup.procs" 2>/dev/null); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == containd-spare ]] && return 0
	done
	return 1
}
spare_cgroups() { local d; for d in $(child_cgroups); do is_spare_cgroup "$d" && echo "$d"; done; }
container_cgroups() { local d; for d in $(child_cgroups); do is_spare_cgroup "$d" || echo "$d"; done; }
# cgroups_are "ID ID " DESC: the container cgroups (spares aside) are these, within 5 s (an
# exit is reported before the cgroup is removed, and a spare is prepared after each run).
cgroups_are() {
	want_cgroups=$1
	wait_for 5 eval '[[ "$(container_cgroups | tr "\n" " ")" == "$want_cgroups" ]]'
	is "$(container_cgroups | tr '\n' ' ')" "$1" "$2"
}
show_journal() { diag "journalctl -u $SVC (last lines):"; diag "$(journalctl -q -u "$SVC" --no-pager -o short-monotonic | tail -n "${1:-30}")"; }

# ---- install, socket only ------------------------------------------------------------------
check "install containd and cctl to /usr/local/bin, containd-init and containd-keeper to /usr/local/libexec, the units to /etc/systemd/system, daemon-reload" \
	eval 'install -m 755 containd cctl /usr/local/bin/ && install -D -m 755 containd-init /usr/local/libexec/containd-init &&
	      install -D -m 755 containd-keeper /usr/local/libexec/containd-keeper &&
	      install -m 644 containd.service containd.socket /etc/systemd/system/ &&
	      systemctl daemon-reload'
check "the binaries' shared libraries resolve in the guest (ldd)" \
	eval '! ldd /usr/local/bin/containd /usr/local/bin/cctl /usr/local/libexec/containd-init | grep -F "not found"'
check "systemctl start containd.socket" systemctl start containd.socket
is "$(systemctl is-active containd.socket) $(prop ActiveState)" "active inactive" \
	"the socket listens, the service is not started yet"
is "$(stat -c '%F %a %U:%G' "$SOCK" 2>&1)" "socket 660 root:root" "$SOCK is a socket, mode 660, root:root"

# ---- socket activation ---------------------------------------------------------------------
t=$SECONDS
CCTL_TIMEOUT=60 run_cctl version
is "$RC" 0 "the first cctl version socket-activates containd ($((SECONDS - t)) s)"
if [[ $RC != 0 ]]; then
	# Nothing below can work: say why and stop here.
	diag "$OUT"; diag "$ERR"
	diag "$(systemctl status --no-pager containd.socket containd.service 2>&1)"
	show_journal 60
	echo "1..$n"
	exit 1
fi
like "$OUT" 'Server:.* Cgroup layout: +v2' "cctl version reports cgroup_layout v2"
wait_for 10 test "$(prop ActiveState)" = active
is "$(prop Type) $(prop ActiveState) $(prop SubState)" "notify active running" \
	"containd.service is active (Type=notify: READY=1 was sent)"
is "$(prop Delegate)" yes "containd.service has Delegate=yes"
MAINPID=$(prop MainPID)
is "$(cat /proc/"$MAINPID"/cgroup 2>&1)" "0::/system.slice/containd.service" \
	"the daemon (MainPID $MAINPID) runs in containd.service"
# Besides the daemon, only its cleaner (daemon/cleaner.h), forked from it at startup: the keeper
# and the containers live in $SCOPE.
CLEANER=$(pgrep -P "$MAINPID" -x containd-cleane)
is "$(wc -w <<<"$CLEANER")" 1 "the daemon has one cleaner child (containd-cleaner)"
is "$(sort -n "$SVC_CG/cgroup.procs" 2>&1 | tr '\n' ' ')" "$(printf '%s\n' "$MAINPID" $CLEANER | sort -n | tr '\n' ' ')" \
	"containd.service holds the daemon and its cleaner ($CLEANER) alone"
nofile=$(awk '/^Max open files/ { print $4, $5 }' /proc/"$MAINPID"/limits)
read -r soft hard <<<"$nofile"
if [[ -n $soft && $soft == "$hard" && $soft -gt 1024 ]]; then pass "containd raised its open files limit to the hard limit ($nofile)"
else fail "containd raised its open files limit to the hard limit ($nofile)"; fi
KEEPER=$(pgrep -x containd-keeper)
is "$(cat /proc/"$KEEPER"/cgroup 2>&1)" "0::/system.slice/$SCOPE/supervisor" \
	"containd-keeper (pid $KEEPER) runs in the supervisor leaf of $SCOPE"
like "$(systemctl show -p Delegate --value "$SCOPE") $(systemctl show -p Before --value "$SCOPE")" "^yes .*containd\.service" \
	"$SCOPE is delegated and ordered before containd.service (stopped after it)"
is "$(cat "$CG/cgroup.procs" 2>&1)" "" "$SCOPE itself holds no processes"
sc=$(cat "$CG/cgroup.subtree_control" 2>&1)
missing=""
for c in memory pids cpu; do [[ " $sc " == *" $c "* ]] || missing+=" $c"; done
is "$missing" "" "$SCOPE cgroup.subtree_control lists memory pids cpu ('$sc')"
wait_for 5 journal_has "listening on"
like "$(journal)" "containd [^ ]+ listening on $SOCK" "the journal (journalctl -u) has the startup line"
like "$(journal)" "using the socket passed by systemd" "containd uses the socket passed by systemd"
like "$(journal)" "cgroup layout: v2" "containd logs cgroup layout v2"

# ---- containers ----------------------------------------------------------------------------
t=$SECONDS
run_cctl image import alpine "/mnt/host/$ALPINE"
is "$RC" 0 "cctl image import alpine /mnt/host/$ALPINE ($((SECONDS - t)) s)"
[[ $RC == 0 ]] || diag "$ERR"

run_cctl run --rm alpine echo hello from cgroup v2
is "$RC:$OUT" "0:hello from cgroup v2" "cctl run --rm alpine echo works"
[[ $RC == 0 ]] || diag "$ERR"
run_cctl run --rm alpine cat /proc/self/cgroup
is "$OUT" "0::/" "inside the container /proc/self/cgroup is 0::/ (cgroup namespace)"
wait_for 5 eval '[[ $(spare_cgroups | wc -w) == 2 ]]'
spare=$(spare_cgroups)
limits=$(for s in $spare; do cat "$CG/$s/memory.max" "$CG/$s/pids.max"; done 2>&1 | tr '\n' ' ')
if [[ $(wc -w <<<"$spare") == 2 ]] && [[ $limits == "max max max max " ]]; then
	pass "two prepared init processes wait in cgroups of their own under $SCOPE, without limits"
else
	fail "two prepared init processes wait in cgroups of their own under $SCOPE, without limits"
	diag "spare cgroups: '$spare'; children: $(child_cgroups | tr '\n' ' ')"
	diag "$(ps -eo pid,comm,cgroup | grep -E 'containd' 2>&1)"
fi

# A detached container without limits: it stays running until the service stops.
keep=$(cctl run -d --name keep alpine sleep 1000 2>"$TMP/err")
keep_pid=$(cctl inspect keep 2>/dev/null | field pid)
is "$(cat /proc/"$keep_pid"/cgroup 2>&1)" "0::/system.slice/$SCOPE/$keep" \
	"a run -d container's cgroup is /system.slice/$SCOPE/<id>"
[[ -n $keep ]] || diag "$(cat "$TMP/err")"
is "$(cat "$CG/$keep/memory.max" "$CG/$keep/pids.max" "$CG/$keep/cpu.max" 2>&1 | tr '\n' ' ')" \
	"max max max 100000 " "without limits: memory.max, pids.max, cpu.max are max"

# Limits.
id=$(cctl run -d --memory 64m --pids-limit 20 --cpus 0.5 alpine sleep 1000 2>"$TMP/err")
[[ -n $id ]] || diag "$(cat "$TMP/err")"
pid=$(cctl inspect "$id" 2>/dev/null | field pid)
is "$(cat /proc/"$pid"/cgroup 2>&1)" "0::/system.slice/$SCOPE/$id" \
	"the limited container is in $SCOPE/<id>"
is "$(cat "$CG/$id/memory.max" 2>&1)" 67108864 "--memory 64m: memory.max 67108864"
is "$(cat "$CG/$id/memory.swap.max" 2>&1)" 0 "--memory 64m: memory.swap.max 0"
is "$(cat "$CG/$id/pids.max" 2>&1)" 20 "--pids-limit 20: pids.max 20"
is "$(cat "$CG/$id/cpu.max" 2>&1)" "50000 100000" "--cpus 0.5: cpu.max '50000 100000'"
run_cctl rm -f "$id"
is "$RC" 0 "cctl rm -f of the running limited container"
if [[ -n $id && ! -e $CG/$id ]]; then pass "its cgroup is gone once rm -f returns"; else
	fail "its cgroup is gone once rm -f returns"; diag "$(ls -la "$CG/$id" 2>&1 | head -5)"; fi

# A memory hog under 50m is OOM-killed and reported as such.
hog='BEGIN { s = "x"; for (i = 0; i < 28; i++) s = s s; print "survived", length(s) }'
run_cctl run --name hog --memory 50m alpine awk "$hog"
is "$RC" 137 "a 50m memory hog exits 137"
[[ $RC == 137 ]] || diag "out: $OUT"$'\n'"err: $ERR"
info=$(cctl inspect hog 2>&1)
is "$(field oom_killed <<<"$info") $(field exit_code <<<"$info")" "true 137" "cctl inspect shows oom_killed true"
hog_id=$(field id <<<"$info")
is "$(prop ActiveState) $(prop MainPID)" "active $MAINPID" \
	"the OOM kill in a container does not stop containd.service (OOMPolicy=$(prop OOMPolicy))"
run_cctl rm hog
if [[ $RC == 0 && -n $hog_id && ! -e $CG/$hog_id ]]; then pass "cctl rm hog; no cgroup left"; else
	fail "cctl rm hog; no cgroup left"; diag "rc $RC: $ERR"; fi

# A pids limit of 10: sh + 9 sleeps; busybox sh exits at the first failed fork. (sleep 30, not 5:
# under TCG emulation the loop must not outlive its first sleeps.)
run_cctl run --rm --pids-limit 10 alpine sh -c 'for i in $(seq 30); do sleep 30 & echo $i; done'
is "$(tail -n 1 <<<"$OUT")" 9 "--pids-limit 10 stops a 'sleep &' loop at 9"
like "$ERR" "can't fork|Resource temporarily unavailable" "the failing fork is reported"
is "$RC" 2 "the shell exits 2 when fork fails"

cgroups_are "$keep " "after rm -f / --rm only the running container's cgroup remains (and the spare's)"

# ---- the journald log driver ---------------------------------------------------------------
# The container writes to journald's stream socket itself; its lines carry the identifier
# containd/<id12>, stdout at priority 6 and stderr at 3, and cctl logs reads them back.
run_cctl run -d --log-driver journald alpine sh -c 'echo to the journal; echo err to the journal >&2'
jid=$OUT
is "$RC" 0 "cctl run -d --log-driver journald"
[[ $RC == 0 ]] || diag "$ERR"
cctl wait "$jid" >/dev/null 2>&1
jctl() { journalctl -q -t "containd/${jid:0:12}" --no-pager "$@"; }
wait_for 10 eval '[[ $(jctl -o cat | wc -l) -ge 2 ]]'
is "$(jctl -o cat -p 6..6)" "to the journal" "journalctl -t containd/<id12>: stdout at priority info"
is "$(jctl -o cat -p 3..3)" "err to the journal" "stderr at priority err"
run_cctl logs "$jid"
is "$RC|$OUT|$ERR" "0|to the journal|err to the journal" "cctl logs reads the journal: stdout and stderr apart"
run_cctl rm "$jid"

# ---- systemctl restart: live restore --------------------------------------------------------
keep_start=$(awk '{ print $22 }' /proc/"$keep_pid"/stat 2>/dev/null)
old_main=$MAINPID
t=$SECONDS
systemctl restart "$SVC" >"$TMP/restart" 2>&1
is "$?" 0 "systemctl restart containd.service ($((SECONDS - t)) s)"
wait_for 20 test "$(prop ActiveState)" = active
MAINPID=$(prop MainPID)
if [[ $MAINPID != 0 && $MAINPID != "$old_main" ]]; then pass "a new daemon runs after the restart ($old_main -> $MAINPID)"
else fail "a new daemon runs after the restart ($old_main -> $MAINPID)"; fi
is "$(awk '{ print $22 }' /proc/"$keep_pid"/stat 2>&1)" "$keep_start" \
	"systemctl restart keeps the running container (same pid $keep_pid, same start time)"
info=$(cctl inspect keep 2>&1)
is "$(field state <<<"$info") $(field pid <<<"$info")" "running $keep_pid" "the new daemon re-adopted it (inspect: running, same pid)"
like "$(journal)" "re-adopted" "the journal has the re-adoption"
is "$(pgrep -c -x containd-keeper)" 1 "one containd-keeper supervises the containers"
run_cctl run --rm alpine echo after restart
is "$RC:$OUT" "0:after restart" "containers run after the restart"

# ---- crash: containd SIGKILLed with containers running (Restart=on-failure) ----------------
old_main=$MAINPID
kill -KILL "$MAINPID"
wait_for 30 eval '[[ $(prop MainPID) != 0 && $(prop MainPID) != "$old_main" && $(prop ActiveState) == active ]]'
MAINPID=$(prop MainPID)
if [[ $MAINPID != 0 && $MAINPID != "$old_main" ]]; then pass "systemd restarts a SIGKILLed containd (Restart=on-failure)"
else fail "systemd restarts a SIGKILLed containd (Restart=on-failure)"; show_journal 40; fi
is "$(awk '{ print $22 }' /proc/"$keep_pid"/stat 2>&1)" "$keep_start" "the container outlived the crash"
wait_for 10 eval 'cctl inspect keep 2>/dev/null | grep -q "\"state\": \"running\""'
is "$(cctl inspect keep 2>&1 | field state)" "running" "and the restarted daemon re-adopted it"

# ---- systemctl stop ------------------------------------------------------------------------
cctl run --name attached alpine sleep 1000 >"$TMP/attached.out" 2>&1 </dev/null &
attached=$!
wait_for 20 eval 'cctl inspect attached 2>/dev/null | grep -q "\"state\": \"running\""'
att_pid=$(cctl inspect attached 2>/dev/null | field pid)
old_main=$MAINPID
mark=$(journal | wc -l)
t=$SECONDS
systemctl stop "$SVC" >"$TMP/stop" 2>&1
is "$?" 0 "systemctl stop containd.service ($((SECONDS - t)) s)"
diag "$(cat "$TMP/stop")"
is "$(prop ActiveState) $(prop Result)" "inactive success" "containd.service is inactive, Result=success"
is "$(prop ExecMainCode) $(prop ExecMainStatus)" "1 0" "containd exited with status 0 (ExecMainCode=1 exited)"
alive=""
for p in $keep_pid $att_pid; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
is "${keep_pid:+x}${att_pid:+x}:$alive" "xx:" "the running containers are gone"
rc=0
wait_for 10 eval '! kill -0 $attached 2>/dev/null' || kill "$attached" 2>/dev/null
wait "$attached" || rc=$?
is "$rc" 137 "an attached cctl run exits 137 when the service stops"
[[ $rc == 137 ]] || diag "$(cat "$TMP/attached.out")"
is "$(child_cgroups | tr '\n' ' ')" "" "no cgroups remain under $SCOPE (containers, spare)"
wait_for 10 eval '! pgrep -x containd-keeper >/dev/null'
is "$(pgrep -x containd-keeper)" "" "containd-keeper exited after the containers"
wait_for 10 eval '[[ $(systemctl is-active "$SCOPE") != active ]]'
is "$(systemctl is-active "$SCOPE")" "inactive" "$SCOPE is gone"
wait_for 5 journal_has "containd stopped"
like "$(journal)" "containd stopped" "the journal has the shutdown line"
journalctl --sync 2>/dev/null
no_sanitizer_report() {
	local san
	if san=$(journal | grep -E -A 30 "$SAN_RE"); then
		fail "$1"; diag "$(head -n 60 <<<"$san")"
	else pass "$1"; fi
}
no_sanitizer_report "no sanitizer report in the journal"
# KillMode=process: containd stopped every container and its keeper before it exited.
is "$(journal | tail -n +$((mark + 1)) | grep -E 'Killing process|[Ll]eft-over process|remains running')" "" \
	"systemd had no container process left to kill after containd exited"
is "$(systemctl is-active containd.socket) $(stat -c %F "$SOCK" 2>&1)" "active socket" \
	"containd.socket still listens on $SOCK"

# ---- re-activation -------------------------------------------------------------------------
run_cctl version
is "$RC" 0 "cctl version re-activates containd through the socket"
[[ $RC == 0 ]] || { diag "$ERR"; show_journal; }
wait_for 10 test "$(prop ActiveState)" = active
MAINPID=$(prop MainPID)
is "$(prop ActiveState)" active "containd.service is active again"
if [[ $MAINPID != 0 && $MAINPID != "$old_main" ]]; then pass "with a new MainPID ($old_main -> $MAINPID)"
else fail "with a new MainPID ($old_main -> $MAINPID)"; fi
is "$(cat /proc/"$MAINPID"/cgroup 2>&1)" "0::/system.slice/containd.service" \
	"the new daemon is in containd.service"
is "$(cat /proc/"$(pgrep -x containd-keeper)"/cgroup 2>&1)" "0::/system.slice/$SCOPE/supervisor" \
	"with a new keeper in a new $SCOPE"
info=$(cctl inspect keep 2>&1)
is "$(field state <<<"$info") $(field exit_code <<<"$info") $(field signal <<<"$info")" "exited 137 9" \
	"the daemon killed and recorded the detached container (exited, 137, signal 9)"
[[ $(field exit_code <<<"$info") == 137 ]] || diag "$info"
run_cctl rm keep attached
is "$RC" 0 "cctl rm of the recorded containers"

run_cctl run --rm --memory 32m --pids-limit 5 --cpus 0.1 alpine cat /proc/self/cgroup
is "$RC:$OUT" "0:0::/" "containers with limits run after the re-activation"
cgroups_are "" "no container cgroups left"

# ---- final clean stop ----------------------------------------------------------------------
mark=$(journal | wc -l)
check "systemctl stop containd.service (again)" systemctl stop "$SVC"
is "$(prop ActiveState) $(prop Result) $(prop ExecMainStatus)" "inactive success 0" "stopped cleanly again"
journalctl --sync 2>/dev/null
no_sanitizer_report "no sanitizer report in the journal of any of the three runs"
is "$(journal | tail -n +$((mark + 1)) | grep -E 'Killing process|[Ll]eft-over process|remains running')" "" \
	"systemd had no process left to kill"
is "$(journalctl -q -t containd -p warning --no-pager -o short-monotonic)" "" \
	"containd logged no warnings or errors"
((failed == 0)) || show_journal 80
rm -rf "$TMP"
echo "1..$n"
exit "$failed"
GUEST
chmod +x "$SHARE/vm-test.sh"

# ---- boot once, relay the guest's TAP ----------------------------------------------------
# tests/vm/run stops qemu when it gets SIGTERM: send it one if we are stopped (or fail) first.
RUN_PID=""
stop_vm() {
	if [[ -n $RUN_PID ]] && kill -0 "$RUN_PID" 2>/dev/null; then
		kill -TERM "$RUN_PID" 2>/dev/null
		wait "$RUN_PID" 2>/dev/null
	fi
	RUN_PID=""
}
trap 'stop_vm; cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
mkfifo "$TEST_TMP/run.out"
"$VM/run" "$SHARE" >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err" &
RUN_PID=$!
guest_plan=""
guest_n=0
while IFS= read -r line; do
	if [[ $line =~ ^(not\ )?ok\ [0-9]+(\ -)?\ ?(.*)$ ]]; then
		guest_n=$((guest_n + 1))
		if [[ -z ${BASH_REMATCH[1]} ]]; then pass "${BASH_REMATCH[3]}"; else fail "${BASH_REMATCH[3]}"; fi
	elif [[ $line =~ ^1\.\.([0-9]+) ]]; then
		guest_plan=${BASH_REMATCH[1]}
	elif [[ $line == \#* ]]; then
		printf '%s\n' "$line"
	elif [[ $line == "Bail out!"* ]]; then
		fail "guest: $line"
	else
		printf '# guest: %s\n' "$line"
	fi
done <"$TEST_TMP/run.out"
rc=0
wait "$RUN_PID" || rc=$?
RUN_PID=""
if [[ $rc == 0 ]]; then
	pass "the VM ran vm-test.sh and it exited 0"
else
	why=""
	[[ $rc == 125 ]] && why=": the VM did not boot, timed out or reported no status"
	fail "the VM ran vm-test.sh and it exited 0 (tests/vm/run status $rc$why)"
fi
[[ $rc == 0 ]] || diag "$(grep -v 'exited with status' "$TEST_TMP/run.err")"
if [[ -n $guest_plan && $guest_plan == "$guest_n" && $guest_n -gt 0 ]]; then
	pass "the guest printed its plan (1..$guest_plan) and ran every test"
else
	fail "the guest printed its plan and ran every test (plan '${guest_plan}', $guest_n results)"
fi
diag "$(grep -h 'exited with status' "$TEST_TMP/run.err"); total $((SECONDS - T0)) s"
done_testing
