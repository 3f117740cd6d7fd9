#!/usr/bin/env bash
# 100 containers in a row leave no fds, mounts, cgroups, processes or directories behind.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
DAEMON_OWN_CGROUP=1 start_daemon || exit 1
import_alpine
"$CCTL" run --rm alpine true   # warm up lazily created state
sleep 0.3                       # let the daemon see the client go and prepare its spares

fds_before=$(daemon_fds)
mounts_before=$(wc -l </proc/self/mountinfo)
# The daemon keeps two prepared container processes (comm containd-spare); count the others.
children() { ps -o comm= --ppid "$DAEMON_PID" | grep -vcx 'containd-spare'; }
children_before=$(children)
failed=0
for i in $(seq 100); do
	out=$("$CCTL" run --rm alpine echo "$i") || failed=$((failed + 1))
	[[ $out == "$i" ]] || failed=$((failed + 1))
done
is "$failed" 0 "100 containers in a row ran and printed their output"
failed=0
for i in $(seq 20); do
	id=$("$CCTL" run -d alpine sh -c "exit $((i % 3))") || failed=$((failed + 1))
	[[ $id =~ ^[0-9a-f]{64}$ ]] || { failed=$((failed + 1)); continue; }
	record_id "$id"
	[[ $("$CCTL" wait "$id") == $((i % 3)) ]] || failed=$((failed + 1))
	"$CCTL" rm "$id" >/dev/null || failed=$((failed + 1))
done
is "$failed" 0 "20 detached containers run, waited for (with their exit codes) and removed"
# A run that found no prepared process grew the pool; 10 s without runs bring it back to two.
for _ in $(seq 150); do
	[[ $(ps -o comm= --ppid "$DAEMON_PID" | grep -cx 'containd-spare') == 2 ]] && break
	sleep 0.1
done
sleep 0.2
is "$(daemon_fds)" "$fds_before" "the daemon holds the same number of fds as before"
is "$(wc -l </proc/self/mountinfo)" "$mounts_before" "no mounts are left on the host"
is "$(children)" "$children_before" "no child processes are left"
is "$(ps -o comm= --ppid "$(keeper_pid)" | tr '\n' ' ')" "containd-spare containd-spare " \
	"the keeper's only children are the two prepared processes waiting for the next runs"
is "$(ls "$DAEMON_DIR/root/containers" | wc -l)" 0 "no container directories are left under --root"
is "$(ls -A "$DAEMON_DIR/root/containers" | grep -c '^\.spare-')" 2 "only the prepared ones (hidden) wait there"
is "$(ls -A "$DAEMON_DIR/state" | tr '\n' ' ')" "keeper.sock prepare rootfs staging " \
	"nothing but the keeper's socket and the shared mount points (prepared mounts, root, user namespace layer staging) are under --state"
is "$(ls -A "$DAEMON_DIR/state/prepare" "$DAEMON_DIR/state/rootfs" "$DAEMON_DIR/state/staging" | grep -vc ':$\|^$')" 0 \
	"and they are empty on the host"
# Every container this daemon started, from its debug log.
grep -oE 'container [0-9a-f]{64} started' "$DAEMON_DIR/log" | awk '{ print $2 }' >>"$DAEMON_DIR/ids"
is "$(sort -u "$DAEMON_DIR/ids" | wc -l)" 121 "the log names all 121 containers"
is "$(leftover_cgroups)" "" "no cgroups of recorded containers are left"
is "$(for cg in "${DAEMON_CGROUPS[@]}"; do find "$cg" -mindepth 1 -type d; done | wc -l)" "$((2 * $(daemon_used_cgroups | wc -l)))" \
	"the daemon's subtree holds two cgroups per hierarchy containers use (the prepared processes')"
done_testing
