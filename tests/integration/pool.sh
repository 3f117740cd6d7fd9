#!/usr/bin/env bash
# The pool of prepared container processes sizes itself to the demand: --prepared N is its
# floor; runs that find it empty grow it (parallel clients), up to 8; after 10 s without runs it
# is back at N, the extra processes, their cgroups and directories gone.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
DAEMON_OWN_CGROUP=1 start_daemon d --prepared 1 || exit 1
import_alpine

# The spares are the keeper's children (containd-keeper clones every init).
spares() { ps -o comm= --ppid "$(keeper_pid)" | grep -cx 'containd-spare'; }
spare_dirs() { ls -A "$DAEMON_DIR/root/containers" | grep -c '^\.spare-'; }
# wait_spares N: until the daemon keeps N prepared processes (at most 20 s); prints how many.
wait_spares() {
	local n
	for _ in $(seq 200); do
		n=$(spares)
		[[ $n == "$1" ]] && break
		sleep 0.1
	done
	echo "$n"
}

is "$(wait_spares 1)" 1 "--prepared 1: one prepared process while idle"
# Six clients at once, three times: the pool cannot keep up with one, so it grows.
failed=0
for round in 1 2 3; do
	pids=()
	for i in $(seq 6); do
		"$CCTL" run --rm alpine true &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
done
is "$failed" 0 "18 containers ran, six at a time"
sleep 0.5
grown=$(spares)
((grown > 1 && grown <= 8)) && pass "runs that found no prepared process grew the pool (now $grown)" ||
	fail "runs that found no prepared process grew the pool (now $grown)"
like "$(cat "$DAEMON_DIR/log")" 'found no prepared container process: keeping [2-8]' "the daemon says so (debug log)"
is "$(spare_dirs)" "$grown" "each prepared process has its hidden directories"

# Idle for 10 s: back to the floor, and what the extra ones had is removed.
is "$(wait_spares 1)" 1 "after 10 s without runs the pool is back at its floor"
sleep 0.5
is "$(spare_dirs)" 1 "the extra prepared processes' directories are gone"
is "$(for cg in "${DAEMON_CGROUPS[@]}"; do find "$cg" -mindepth 1 -type d; done | wc -l)" "$(daemon_used_cgroups | wc -l)" \
	"and their cgroups: one per hierarchy containers use is left (the remaining prepared process')"
run_cctl run --rm alpine echo still
is "$RC/$OUT" "0/still" "the shrunk pool serves the next run"
done_testing
