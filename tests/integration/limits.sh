#!/usr/bin/env bash
# cgroup limits on real cgroups: pids, memory (OOM kill), cpus; invalid limits are refused.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

# A pids limit of 10 stops a fork loop at 10 tasks.
# busybox sh gives up at the first failed fork, so the last number echoed is the number of
# sleeps that got a task: sh + 9 sleeps = 10.
run_cctl run --rm --pids-limit 10 alpine sh -c 'for i in $(seq 30); do sleep 5 & echo $i; done'
is "$(echo "$OUT" | tail -1)" 9 "a pids limit of 10 stops a 'sleep &' loop at 10 tasks"
like "$ERR" "can't fork|Resource temporarily unavailable" "the failing fork is reported"
is "$RC" 2 "the shell exits when fork fails"
run_cctl run --rm --pids-limit 20 alpine sh -c 'for i in $(seq 15); do sleep 5 & echo $i; done; kill $(jobs -p)'
is "$(echo "$OUT" | tail -1)" 15 "under a higher limit the same loop completes"

# 50 MB memory limit: a hog is OOM-killed.
hog='BEGIN { s = "x"; for (i = 0; i < @N@; i++) s = s s; print "survived", length(s) }'
run_cctl run --name hog --memory 50m alpine awk "${hog/@N@/28}"
is "$RC" 137 "a memory hog under --memory 50m is killed (137)"
unlike "$OUT" 'survived' "the hog did not finish"
oom=$("$CCTL" inspect hog | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]; print(c["oom_killed"], c["limits"]["memory"])')
is "$oom" "True 52428800" "inspect reports the OOM kill and the limit"
"$CCTL" rm hog >/dev/null
out=$("$CCTL" run --rm --memory 50m alpine awk "${hog/@N@/22}")
is "$out" "survived 4194304" "a process within the limit runs normally"

# The limits are written where the kernel enforces them.
id=$("$CCTL" run -d --memory 64m --pids-limit 20 --cpus 0.5 alpine sleep 100)
record_id "$id"
like "$id" '^[0-9a-f]{64}$' "a container with limits runs detached"
pid=$("$CCTL" inspect "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
	cg=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/$pid/cgroup)
	is "$(cat $cg/memory.max)" 67108864 "memory.max"
	is "$(cat $cg/pids.max)" 20 "pids.max"
	is "$(cat $cg/cpu.max)" "50000 100000" "cpu.max"
else
	path() { awk -F: -v c="$1" '$2 ~ "(^|,)"c"(,|$)" { print $3 }' /proc/$pid/cgroup; }
	is "$(cat /sys/fs/cgroup/memory$(path memory)/memory.limit_in_bytes)" 67108864 "v1 memory.limit_in_bytes"
	is "$(cat /sys/fs/cgroup/pids$(path pids)/pids.max)" 20 "v1 pids.max"
	cpu=/sys/fs/cgroup/cpu$(path cpu)
	is "$(cat $cpu/cpu.cfs_quota_us) $(cat $cpu/cpu.cfs_period_us)" "50000 100000" "v1 cpu quota and period"
	like "$(path memory)" "/$id\$" "the memory cgroup is named after the container"
fi
"$CCTL" rm -f "$id" >/dev/null

# Invalid limits are refused before anything is created.
before=$(ls "$DAEMON_DIR/root/containers" | wc -l)
for bad in "--memory 1k" "--memory 0x" "--cpus 0.0001" "--cpus 100000" "--cpus 999" "--pids-limit abc"; do
	run_cctl run --rm $bad alpine true
	is "$RC" 125 "invalid limit '$bad' is refused with 125"
	[[ -n $ERR ]] && pass "'$bad' has an error message: ${ERR%%$'\n'*}" || fail "'$bad' has an error message"
done
is "$(ls "$DAEMON_DIR/root/containers" | wc -l)" "$before" "refused runs leave no container behind"
[[ -z "$(leftover_cgroups)" ]] && pass "no cgroups left behind" || fail "no cgroups left behind"
done_testing
