# Shared harness for integration tests: TAP output, a throwaway daemon with its own socket,
# root and state directories under a temp dir, and cleanup (processes, mounts, cgroups) on any
# exit. Source it from a test script; call done_testing at the end.
set -u

: "${top_builddir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
CONTAIND=${CONTAIND:-$top_builddir/containd}
CCTL=${CCTL:-$top_builddir/cctl}
ALPINE_TARBALL=${CONTAIND_TEST_ALPINE:-$top_srcdir/../shared/images/alpine-minirootfs-3.20.3-x86_64.tar.gz}
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/containd-$TEST_NAME.XXXXXX")
# A container in a user namespace reaches its upper dir under --root as an unprivileged uid: the
# directories above must let others through (not list).
chmod 711 "$TEST_TMP"
# ASan must not hide a crash in the child behind its own exit code; leaks fail the daemon.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}

# The first subordinate id a CONTAIND_TEST_USERNS daemon hands out: far above any real user.
USERNS_TEST_BASE=${USERNS_TEST_BASE:-1500000000}

tap_n=0
tap_failed=0
declare -a DAEMON_PIDS=()
declare -a DAEMON_DIRS=()
declare -a DAEMON_CGROUPS=()

pass() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
fail() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP ${2:-}"; }
diag() { sed 's/^/# /' <<<"$*"; }

# check DESC CMD...: passes when CMD exits 0.
check() {
	local desc=$1
	shift
	local out
	if out=$("$@" 2>&1); then
		pass "$desc"
	else
		fail "$desc"
		diag "command: $*"
		diag "$out"
	fi
}

# is GOT EXPECTED DESC
is() {
	if [[ "$1" == "$2" ]]; then
		pass "$3"
	else
		fail "$3"
		diag "got:      '$1'"
		diag "expected: '$2'"
	fi
}

# like GOT REGEX DESC
like() {
	if [[ "$1" =~ $2 ]]; then
		pass "$3"
	else
		fail "$3"
		diag "got:      '$1'"
		diag "expected to match: '$2'"
	fi
}

# unlike GOT REGEX DESC
unlike() {
	if [[ ! "$1" =~ $2 ]]; then
		pass "$3"
	else
		fail "$3"
		diag "got:      '$1'"
		diag "expected not to match: '$2'"
	fi
}

need_root() {
	if [[ $(id -u) != 0 ]]; then
		echo "1..0 # SKIP integration tests need root"
		exit 0
	fi
}

need_alpine() {
	if [[ ! -r $ALPINE_TARBALL ]]; then
		echo "1..0 # SKIP no Alpine tarball at $ALPINE_TARBALL (set CONTAIND_TEST_ALPINE)"
		exit 0
	fi
}

declare -a OWN_CGROUPS=()

# make_own_cgroups NAME: creates a cgroup NAME below this shell's own in every controller
# hierarchy containd uses (v1 controllers and the unified tree) and adds their paths to
# DAEMON_CGROUPS (and OWN_CGROUPS, which the cleanup removes). A daemon started in them owns a
# subtree that no other daemon on this host shares, so a test can assert on all of it. The
# shell's cgroups come from /proc/self/cgroup, their directories from the cgroup mounts in
# /proc/self/mountinfo (mount root and mount point).
make_own_cgroups() {
	local name=$1 ctrl own mnt cg
	while IFS=: read -r _ ctrl own; do
		[[ $ctrl == name=* ]] && continue
		mnt=$(awk -v c="$ctrl" '{
			for (i = 7; $i != "-"; i++) ;
			if (c == "" && $(i + 1) == "cgroup2") { print $4, $5; exit }
			if (c != "" && $(i + 1) == "cgroup") {
				n = split($(i + 3), o, ","); m = split(c, w, ","); hit = 0
				for (j = 1; j <= n; j++) for (k = 1; k <= m; k++) if (o[j] == w[k]) hit++
				if (hit == m) { print $4, $5; exit }
			}
		}' /proc/self/mountinfo)
		[[ -n $mnt ]] || continue
		local root=${mnt%% *} point=${mnt#* }
		[[ $root == / ]] && root=
		[[ $own == "$root"* ]] || continue
		cg=$point${own#"$root"}/$name
		cg=${cg//\/\//\/}
		mkdir "$cg" || return 1
		OWN_CGROUPS+=("$cg")
		DAEMON_CGROUPS+=("$cg")
		if [[ -f $cg/cpuset.cpus ]]; then
			cat "$cg/../cpuset.cpus" >"$cg/cpuset.cpus" && cat "$cg/../cpuset.mems" >"$cg/cpuset.mems" || return 1
		fi
	done </proc/self/cgroup
}

# used_cgroup_hierarchy PATH: whether containers get cgroups in the hierarchy PATH is in: cgroup2,
# or a v1 one of a controller containd has settings for (cpu, memory, pids, freezer, devices);
# not cpuset, blkio and the like, where containers stay in the daemon's cgroup.
used_cgroup_hierarchy() {
	[[ $(stat -f -c %T "$1") == cgroup2fs ]] && return 0
	local h=${1#/sys/fs/cgroup/}
	h=${h%%/*}
	[[ ,$h, =~ ,(cpu|memory|pids|freezer|devices), ]]
}

# daemon_used_cgroups: the DAEMON_CGROUPS in hierarchies containers get cgroups in, one a line.
daemon_used_cgroups() {
	local cg
	for cg in "${DAEMON_CGROUPS[@]}"; do used_cgroup_hierarchy "$cg" && echo "$cg"; done
}

declare -a TEST_NETNS=()
NETNS=

# new_netns: creates a network namespace ctdt-<random> (lo up) that the cleanup deletes, and
# sets NEW_NETNS to its name (not a subshell's echo: the cleanup's list must learn it). Deleting
# it removes every link and nft table inside, whatever a test left.
new_netns() {
	NEW_NETNS=ctdt-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	ip netns add "$NEW_NETNS" || return 1
	TEST_NETNS+=("$NEW_NETNS")
	ip -n "$NEW_NETNS" link set lo up
	# A new netns copies the host's IPv4 settings (net.core.devconf_inherit_init_net=0, the
	# default): forwarding starts off, as on a fresh host, whatever the host's own is.
	ip netns exec "$NEW_NETNS" sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward'
}

# NO_BRIDGE: the options a test passes to a containd it starts itself (not through start_daemon)
# in the host's network namespace, so that it makes no bridge, nft table or sysctl change there.
NO_BRIDGE=(--bridge none)

# host_net_state: the host's bridges, nft tables and ip_forward, which no test may change (a
# daemon of a test runs with --bridge none or in a network namespace of the test's own).
host_net_state() {
	ip -o link show type bridge 2>/dev/null | awk -F': ' '{ print $2 }' | sort
	nft list tables 2>/dev/null | sort
	cat /proc/sys/net/ipv4/ip_forward
}
HOST_NET_STATE=$(host_net_state)

# in_netns CMD...: runs CMD in the network namespace of the current daemon ($NETNS) only, with
# the test's mount namespace (so paths under $TEST_TMP stay what they are).
in_netns() {
	[[ -n $NETNS ]] || { echo "in_netns: no DAEMON_NETNS daemon" >&2; return 1; }
	nsenter --net="/run/netns/$NETNS" "$@"
}

# start_daemon [NAME [OPTION...]]: starts a daemon in $TEST_TMP/NAME (with the extra options)
# and points CONTAIND_SOCKET at it. Test daemons stop their containers when they stop (and at
# once): --live-restore=false --shutdown-timeout 0, unless the options say otherwise (a test of
# live restore passes --live-restore). With DAEMON_OWN_CGROUP=1 the daemon runs in cgroups of its
# own, listed in DAEMON_CGROUPS.
# Networking never touches the host's: with DAEMON_NETNS=1 the daemon runs in a new network
# namespace of its own (its name in NETNS, see in_netns; DAEMON_NETNS=<that name> starts the
# next daemon, a restart, in the same one), where it makes its default bridge; without, it gets
# --bridge none (no bridge, no nft table, containers on --network none unless they ask) unless
# the options name another --bridge.
start_daemon() {
	local name=${1:-d}
	shift || true
	local dir=$TEST_TMP/$name
	mkdir -p "$dir"
	# CONTAIND_TEST_USERNS=1 runs the daemon with --userns-remap, on subordinate ids from files of
	# the test's own (the host's /etc/subuid and /etc/subgid are never touched).
	USERNS_ARGS=()
	if [[ ${CONTAIND_TEST_USERNS:-0} == 1 ]]; then
		echo "containd-test:$USERNS_TEST_BASE:655360" >"$dir/subuid"
		cp "$dir/subuid" "$dir/subgid"
		USERNS_ARGS=(--userns-remap=containd-test --subuid-file "$dir/subuid" --subgid-file "$dir/subgid")
	fi
	DAEMON_CGROUPS=()
	if [[ ${DAEMON_OWN_CGROUP:-0} == 1 ]]; then
		make_own_cgroups "containd-test.$(basename "$TEST_TMP").$name" || {
			echo "# cannot create the daemon's own cgroups"
			return 1
		}
	fi
	local -a netns_cmd=() bridge_args=(--bridge none)
	case ${DAEMON_NETNS:-0} in
	0) ;;
	1)
		new_netns || { echo "# cannot create a network namespace"; return 1; }
		NETNS=$NEW_NETNS
		netns_cmd=(nsenter --net="/run/netns/$NETNS")
		bridge_args=()
		;;
	*)
		NETNS=$DAEMON_NETNS
		netns_cmd=(nsenter --net="/run/netns/$NETNS")
		bridge_args=()
		;;
	esac
	(
		for cg in "${DAEMON_CGROUPS[@]}"; do
			echo "$BASHPID" >"$cg/cgroup.procs" || exit 1
		done
		# No test reaches beyond this machine: a pull of a Docker Hub name (an unknown image run
		# with the default --pull missing) goes to a proxy on a closed loopback port and fails at
		# once, resolving nothing; the registries tests start on 127.0.0.1 are reached directly.
		export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
			all_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
		exec "${netns_cmd[@]}" "$CONTAIND" --socket "$dir/containd.sock" --root "$dir/root" --state "$dir/state" \
			--log-level debug --live-restore=false --shutdown-timeout 0 "${bridge_args[@]}" "${USERNS_ARGS[@]}" "$@"
	) 2>"$dir/log" &
	local pid=$!
	DAEMON_PIDS+=("$pid")
	DAEMON_DIRS+=("$dir")
	local i
	for ((i = 0; i < 2000; i++)); do
		[[ -S $dir/containd.sock ]] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "# daemon $name died at startup:"
			sed 's/^/#   /' "$dir/log"
			return 1
		fi
		sleep 0.005
	done
	[[ -S $dir/containd.sock ]] || { echo "# daemon $name did not start"; return 1; }
	export CONTAIND_SOCKET=$dir/containd.sock
	DAEMON_PID=$pid
	DAEMON_DIR=$dir
}

# stop_daemon PID DIR: SIGTERM, wait; reports sanitizer findings and a bad exit as failures.
STOPPED_PIDS=" "
stop_daemon() {
	local pid=$1 dir=$2 rc=0 i
	STOPPED_PIDS+="$pid "
	if ! kill -TERM "$pid" 2>/dev/null; then
		# Gone before its test asked it to stop: a crash, whatever the log says.
		wait "$pid" 2>/dev/null || rc=$?
		fail "daemon $(basename "$dir") was still running at the end of the test (exit status $rc)"
		tail -30 "$dir/log" | sed 's/^/# /'
		return
	fi
	for ((i = 0; i < 1500; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fail "daemon $(basename "$dir") stopped on SIGTERM within 15 s"
		return
	fi
	wait "$pid" 2>/dev/null || rc=$?
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dir/log"; then
		fail "daemon $(basename "$dir") has no sanitizer findings"
		grep -E -A30 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dir/log" | head -60 | sed 's/^/# /'
	elif [[ $rc != 0 ]]; then
		fail "daemon $(basename "$dir") exited with status 0 (got $rc)"
		tail -20 "$dir/log" | sed 's/^/# /'
	else
		pass "daemon $(basename "$dir") shut down cleanly"
	fi
}

# Cgroup directories named after a container id of this test, anywhere in the cgroup trees.
leftover_cgroups() {
	local dir id
	for dir in "${DAEMON_DIRS[@]}"; do
		[[ -f $dir/ids ]] || continue
		while read -r id; do
			[[ -n $id ]] && find /sys/fs/cgroup -maxdepth 6 -type d -name "$id" 2>/dev/null
		done <"$dir/ids"
	done
}

# Remember ids so the cleanup can find cgroups even if the daemon lost track of them.
record_id() {
	echo "$1" >>"${DAEMON_DIR:-$TEST_TMP}/ids"
}

# The containd-keeper processes of this test's daemons (their state dirs are below $TEST_TMP).
test_keepers() {
	pgrep -f "^containd-keeper $TEST_TMP/" 2>/dev/null
}

# keeper_pid: the containd-keeper of the current daemon (the parent of its containers and spares).
keeper_pid() {
	pgrep -f "^containd-keeper $DAEMON_DIR/state\$" | head -n1
}

cleanup() {
	local i
	for ((i = 0; i < ${#DAEMON_PIDS[@]}; i++)); do
		if kill -0 "${DAEMON_PIDS[$i]}" 2>/dev/null; then
			kill -TERM "${DAEMON_PIDS[$i]}" 2>/dev/null
			for _ in $(seq 100); do kill -0 "${DAEMON_PIDS[$i]}" 2>/dev/null || break; sleep 0.05; done
			kill -KILL "${DAEMON_PIDS[$i]}" 2>/dev/null
		fi
	done
	# A keeper left running (live restore) takes its containers with it when it dies.
	test_keepers | xargs -r kill -KILL 2>/dev/null
	# Whatever a killed daemon left: processes in its cgroups, then the cgroups themselves.
	local cg
	for cg in $(leftover_cgroups | sort -r); do
		[[ -f $cg/cgroup.kill ]] && echo 1 >"$cg/cgroup.kill" 2>/dev/null
		[[ -f $cg/cgroup.procs ]] && xargs -r kill -KILL <"$cg/cgroup.procs" 2>/dev/null
		rmdir "$cg" 2>/dev/null
	done
	# The daemons' own cgroups, deepest first, once whatever was in them is gone.
	for ((i = ${#OWN_CGROUPS[@]} - 1; i >= 0; i--)); do
		[[ -d ${OWN_CGROUPS[$i]} ]] || continue
		for cg in $(find "${OWN_CGROUPS[$i]}" -depth -type d 2>/dev/null); do
			[[ -f $cg/cgroup.procs ]] && xargs -r kill -KILL <"$cg/cgroup.procs" 2>/dev/null
			for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.02; done
		done
	done
	local m
	for m in $(awk -v t="$TEST_TMP" 'index($2, t) == 1 { print $2 }' /proc/self/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	# Only once the daemons and their keepers are gone: the namespace goes with its last process.
	local ns
	for ns in "${TEST_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

done_testing() {
	local i
	for ((i = 0; i < ${#DAEMON_PIDS[@]}; i++)); do
		# A daemon the test stopped itself was checked then.
		[[ $STOPPED_PIDS == *" ${DAEMON_PIDS[$i]} "* ]] && continue
		stop_daemon "${DAEMON_PIDS[$i]}" "${DAEMON_DIRS[$i]}"
	done
	DAEMON_PIDS=()
	# With every daemon stopped (and its containers with it), no keeper is left either.
	local k
	for ((i = 0; i < 200; i++)); do
		k=$(test_keepers)
		[[ -z $k ]] && break
		sleep 0.02
	done
	is "$k" "" "no containd-keeper is left running"
	# Every cgroup any daemon of this test created (its debug log names each) is gone once
	# they all stopped, in every hierarchy.
	local dir logged=0
	for dir in "${DAEMON_DIRS[@]}"; do
		[[ -f $dir/log ]] || continue
		grep -oE 'created cgroup [0-9a-f]{64}' "$dir/log" | awk '{ print $3 }' >>"$dir/ids"
		logged=$((logged + $(grep -cE 'created cgroup [0-9a-f]{64}' "$dir/log")))
	done
	if ((logged > 0)); then
		local left
		left=$(leftover_cgroups)
		is "$left" "" "no cgroup of the $logged the daemons created is left"
	fi
	is "$(host_net_state)" "$HOST_NET_STATE" "the host's bridges, nft tables and ip_forward are as they were"
	echo "1..$tap_n"
	[[ $tap_failed == 0 ]]
}

# import_alpine [NAME]: imports the Alpine tarball into the current daemon.
import_alpine() {
	local out
	if ! out=$("$CCTL" image import "$ALPINE_TARBALL" "${1:-alpine}" 2>&1); then
		echo "# importing $ALPINE_TARBALL failed: $out"
		fail "import the Alpine image"
		return 1
	fi
}

# Runs cctl, capturing stdout, stderr and the exit status in OUT, ERR and RC.
run_cctl() {
	local o=$TEST_TMP/out.$$ e=$TEST_TMP/err.$$
	RC=0
	"$CCTL" "$@" >"$o" 2>"$e" </dev/null || RC=$?
	OUT=$(cat "$o")
	ERR=$(cat "$e")
	rm -f "$o" "$e"
}

# The number of fds the daemon holds once it is idle: the count is read until it stays the same
# for 0.3 s (workers and cleaners that finish close theirs), so a comparison sees leaks only.
daemon_fds() {
	local pid=${1:-$DAEMON_PID} prev=-1 n same=0
	for _ in $(seq 50); do
		n=$(ls "/proc/$pid/fd" | wc -l)
		if [[ $n == "$prev" ]]; then
			same=$((same + 1))
			((same >= 3)) && break
		else
			same=0
		fi
		prev=$n
		sleep 0.1
	done
	echo "$n"
}
