#!/usr/bin/env bash
# cctl top / container.top: every process of a running container with host pids whose cgroup is
# the container's, in an aligned table; a paused container can be looked at too; an exited one is
# refused (conflict), an unknown one is not_found (exit 1), ps options are refused for now.
# cctl wait prints each exit code on a line of its own, in the order the containers were named.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

id_of() { "$CCTL" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])'; }
call() {
	printf '%s\n' "$1" | socat -t 2 - UNIX-CONNECT:"$CONTAIND_SOCKET"
}

# Busybox's sh execs the last command of -c in place of itself: "; exit 0" keeps the shell there,
# so the container holds three processes (the shell and two sleeps).
run_cctl run -d --name topper alpine sh -c 'sleep 100 & sleep 100; exit 0'
is "$RC" 0 "run -d the container"
id=$(id_of topper)
record_id "$id"
pid=$("$CCTL" inspect topper | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')

# Both sleeps start a moment after the shell: wait until the cgroup holds three processes.
for _ in $(seq 100); do
	run_cctl top topper
	(($(wc -l <<<"$OUT") >= 4)) && break
	sleep 0.05
done
is "$RC" 0 "top of a running container"
diag "$OUT"
is "$(head -n1 <<<"$OUT" | tr -s ' ')" "UID PID PPID C STIME TTY TIME CMD" "the titles are ps -ef's"
is "$(wc -l <<<"$OUT")" 4 "three processes and the titles"
is "$ERR" "" "nothing on stderr"

# Columns are aligned: every title starts where the cells of its column start.
cmd_col=$(head -n1 <<<"$OUT" | awk '{ print index($0, "CMD") }')
bad=$(tail -n +2 <<<"$OUT" | awk -v c="$cmd_col" 'substr($0, c - 1, 1) != " " || substr($0, c, 1) == " "' | wc -l)
is "$bad" 0 "the CMD column is aligned under its title"

rows=$(tail -n +2 <<<"$OUT")
is "$(cut -c"$cmd_col"- <<<"$rows" | LC_ALL=C sort | uniq -c | sed 's/^ *//')" \
	"1 sh -c sleep 100 & sleep 100; exit 0
2 sleep 100" "the shell with its whole command line, and two sleeps"
like "$rows" "^root +$pid +" "the shell is the container's pid (a host pid) as root"
is "$(awk -v p="$pid" '$3 == p' <<<"$rows" | wc -l)" 2 "both sleeps are children of the shell"
cg_of_init=$(cat /proc/"$pid"/cgroup)
ok=0
for p in $(awk '{ print $2 }' <<<"$rows"); do
	[[ -r /proc/$p/cgroup && $(cat /proc/"$p"/cgroup) == "$cg_of_init" ]] && ok=$((ok + 1))
done
is "$ok" 3 "every pid shown is a host pid in the container's cgroups"
like "$cg_of_init" "$id" "which are named for the container"
[[ $(awk '{ print $5 }' <<<"$rows" | sort -u) =~ ^[0-9]{2}:[0-9]{2}$ ]] && pass "STIME is HH:MM" || fail "STIME is HH:MM"
is "$(awk '{ print $6, $7 }' <<<"$rows" | sort -u)" "? 00:00:00" "no tty, no CPU time"

# The protocol: the result's shape, ps_args, params, errors.
reply=$(call '{"v":1,"id":1,"method":"container.top","params":{"id":"topper","ps_args":""}}')
shape='import json, sys
r = json.loads(sys.argv[1])["result"]
print(len(r["processes"]), r["titles"][7], r["truncated"], all(len(p) == 8 for p in r["processes"]))'
is "$(python3 -c "$shape" "$reply")" "3 CMD False True" "container.top: three rows of eight strings, not truncated"
reply=$(call '{"v":1,"id":1,"method":"container.top","params":{"id":"topper","ps_args":"aux"}}')
like "$reply" '"code":"invalid_params".*ps_args' "a non-empty ps_args is refused"
reply=$(call '{"v":1,"id":1,"method":"container.top","params":{"id":"topper","pid":1}}')
like "$reply" '"code":"invalid_params".*unknown field' "an unknown field is refused"
run_cctl top topper aux
is "$RC" 1 "cctl top with ps options fails"
like "$ERR" 'ps_args' "and says why"

# A paused container still has its processes.
run_cctl pause topper
run_cctl top topper
is "$RC" 0 "top of a paused container"
is "$(wc -l <<<"$OUT")" 4 "it shows the same processes"
run_cctl unpause topper

# Exited and unknown containers.
run_cctl kill topper
for _ in $(seq 100); do
	[[ $("$CCTL" inspect topper | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])') == exited ]] && break
	sleep 0.05
done
run_cctl top topper
is "$RC" 1 "top of an exited container fails"
like "$ERR" 'not running' "and says it is not running"
is "$OUT" "" "and prints no table"
reply=$(call '{"v":1,"id":1,"method":"container.top","params":{"id":"topper"}}')
like "$reply" '"code":"conflict"' "container.top of an exited container: conflict"
run_cctl top nosuch
is "$RC" 1 "top of an unknown container exits 1"
like "$ERR" 'nosuch' "and names it"
reply=$(call '{"v":1,"id":1,"method":"container.top","params":{"id":"nosuch"}}')
like "$reply" '"code":"not_found"' "container.top of an unknown container: not_found"
run_cctl top
is "$RC" 125 "top without a container is a usage error"
"$CCTL" rm topper >/dev/null

# cctl wait: one exit code per line, in the order of the arguments; an unknown one fails with 1.
run_cctl run -d --name w1 alpine sh -c 'sleep 0.3; exit 3'
record_id "$(id_of w1)"
run_cctl run -d --name w2 alpine sh -c 'exit 5'
record_id "$(id_of w2)"
run_cctl wait w1 w2
is "$RC" 0 "wait for two containers"
is "$OUT" $'3\n5' "prints each exit code on its own line"
run_cctl wait w2 nosuch w1
is "$RC" 1 "wait with an unknown container exits 1"
is "$OUT" $'5\n3' "the others are still printed"
like "$ERR" 'nosuch' "the unknown one is named"
"$CCTL" rm w1 w2 >/dev/null

done_testing
