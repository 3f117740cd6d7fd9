#!/usr/bin/env bash
# The persistent cleaner (daemon/cleaner.c): one containd-cleaner child of the daemon for its whole
# life removes exited containers' cgroups and files; killed, its unfinished jobs and the later
# ones go to offload children and nothing is left behind; a shutdown waits for a pending job.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
DAEMON_OWN_CGROUP=1 start_daemon d --prepared 1 || exit 1
import_alpine || exit 1

# cleaners: the pids of the daemon's children named containd-cleaner (which the kernel's 15
# characters of a process name cut to containd-cleane).
cleaners() { ps -o pid=,comm= --ppid "$DAEMON_PID" | awk '$2 == "containd-cleane" { print $1 }'; }
# Container directories that are not spares'.
container_dirs() { ls -A "$DAEMON_DIR/root/containers" | grep -v '^\.spare-' | grep -c .; }
# Cgroups below the daemon's own that are neither its supervisor leaf nor a living spare's.
stray_cgroups() {
	local cg d spares
	spares=$(ls -A "$DAEMON_DIR/root/containers" | sed -n 's/^\.spare-//p')
	for cg in $(daemon_used_cgroups); do
		for d in "$cg"/*/; do
			d=$(basename "$d")
			[[ $d == '*' || $d == supervisor ]] && continue
			grep -qx "$d" <<<"$spares" || echo "$cg/$d"
		done
	done
}
# wait_settled: until no container, no container directory and no stray cgroup is left (20 s).
wait_settled() {
	for _ in $(seq 200); do
		[[ -z $("$CCTL" ps -aq 2>/dev/null) && $(container_dirs) == 0 && -z $(stray_cgroups) ]] && return 0
		sleep 0.1
	done
	return 1
}
queued() { grep -c 'cleanup queued for the cleaner' "$DAEMON_DIR/log"; }

first=$(cleaners)
is "$(wc -w <<<"$first")" 1 "the daemon has one containd-cleaner child at start"
[[ -n $first ]] || { done_testing; exit 1; }
before=$(queued)

# 50 runs, five at a time; the daemon's children are sampled meanwhile.
failed=0
max_cleaners=0
for round in $(seq 10); do
	pids=()
	for i in $(seq 5); do
		"$CCTL" run --rm alpine true &
		pids+=($!)
	done
	n=$(cleaners | wc -l)
	((n > max_cleaners)) && max_cleaners=$n
	for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
done
is "$failed" 0 "50 run --rm succeeded"
is "$(($(queued) - before))" 50 "each of the 50 cleanups went to the cleaner"
is "$max_cleaners" 1 "never more than one containd-cleaner meanwhile"
check "every container, its directory and its cgroups are gone after the 50 runs" wait_settled
is "$(cleaners)" "$first" "the same single containd-cleaner is there after the 50 runs"
# Its grandchildren are gone too: each job's process is reaped when it is done.
is "$(ps -o comm= --ppid "$first" | grep -c .)" 0 "the cleaner has no child left once idle"
is "$(ps -o stat= --ppid "$DAEMON_PID" | grep -c '^Z')" 0 "the daemon has no unreaped child"

# A container that stays (no --rm): its cgroups go through the cleaner, its files stay until rm.
id=$("$CCTL" run -d alpine true)
record_id "$id"
for _ in $(seq 100); do
	[[ $("$CCTL" inspect -f '{{.State.Status}}' "$id" 2>/dev/null) == exited ]] && break
	sleep 0.1
done
check "an exited container without --rm keeps its directory" test -d "$DAEMON_DIR/root/containers/$id"
check "cctl rm of an exited container" "$CCTL" rm "$id"
check "its directory and cgroups are gone after rm" wait_settled

# rm -f of a running container.
id=$("$CCTL" run -d alpine sleep 1000)
record_id "$id"
check "cctl rm -f of a running container" "$CCTL" rm -f "$id"
check "the running container's directory and cgroups are gone after rm -f" wait_settled

# The cleaner SIGKILLed in the middle of a stream of runs: nothing is lost.
killed=$(cleaners)
pids=()
for i in $(seq 4); do
	(for j in $(seq 6); do "$CCTL" run --rm alpine true || exit 1; done) &
	pids+=($!)
done
sleep 0.5
kill -KILL "$killed"
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
is "$failed" 0 "24 run --rm succeeded while the cleaner was killed"
check "after the kill, every container, directory and cgroup of the stream is gone" wait_settled
check "the daemon logged the cleaner's loss" grep -q 'the cleaner is gone' "$DAEMON_DIR/log"
diag "$(grep -o 'the cleaner is gone.*' "$DAEMON_DIR/log")"
check "the daemon still answers" "$CCTL" ps
is "$(ps -o pid= -p "$killed" | grep -c .)" 0 "the killed cleaner was reaped"
is "$(ps -o stat= --ppid "$DAEMON_PID" | grep -c '^Z')" 0 "the daemon has no unreaped child after the kill"
is "$(cleaners)" "" "no new cleaner: the fallback serves the rest of the daemon's life"
failed=0
for i in $(seq 3); do "$CCTL" run --rm alpine true || failed=$((failed + 1)); done
is "$failed" 0 "runs after the loss succeed"
check "their cleanups (by offload children) leave nothing" wait_settled

# A shutdown with a cleanup pending waits for it: a second daemon whose cleaner has a big upper
# dir to delete when SIGTERM comes.
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
DAEMON_OWN_CGROUP=1 start_daemon e --prepared 1 || exit 1
import_alpine || exit 1
cleaner=$(cleaners)
check "the second daemon has its cleaner" test -n "$cleaner"
[[ -n $cleaner ]] || { done_testing; exit 1; }
check "a --rm container writes 40000 files" "$CCTL" run --rm alpine sh -c 'mkdir /x && cd /x && seq 40000 | xargs touch'
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
# The order in its log: the signal came while the job was pending, the removal after it.
order=$(awk '/received Terminated/ { t = NR } /container [0-9a-f]+ removed$/ { r = NR } END { print (t && r > t) ? "after" : "before" }' "$DAEMON_DIR/log")
is "$order" after "the container's removal completed after the shutdown began"
is "$(container_dirs)" 0 "the daemon exited only after the pending cleanup deleted the files"
is "$(stray_cgroups)" "" "and the cgroups"
is "$(ps -o pid= -p "$cleaner" | grep -c .)" 0 "the cleaner exited with the daemon"

done_testing
