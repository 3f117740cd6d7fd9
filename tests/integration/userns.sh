#!/usr/bin/env bash
# User namespaces: --userns-remap makes every container's root an unprivileged host uid from a
# slice of the subordinate ids, --userns=auto does it for one container, --userns=host opts out.
# Image layers stay shared and owned by host root (idmapped mounts), slices are given back.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
base=1600000000
ids=$TEST_TMP/ids
mkdir -p "$ids"
# Two slices only, so that running out shows.
echo "containd-test:$base:131072" >"$ids/subuid"
echo "containd-test:$base:131072" >"$ids/subgid"
# One prepared container, which holds a slice of its own: the slice arithmetic below counts on it.
USERNS=(--userns-remap=containd-test --subuid-file "$ids/subuid" --subgid-file "$ids/subgid" --prepared 1)
start_daemon d "${USERNS[@]}" || exit 1
import_alpine || exit 1

# The daemon has two slices: the idle prepared container holds one, a running container the other.
slices="0 $base 65536|0 $((base + 65536)) 65536"
maps=$("$CCTL" run --rm alpine sh -c 'cat /proc/self/uid_map /proc/self/gid_map' | tr -s ' ' | sed 's/^ //')
like "$maps" "^($slices)"$'\n'"($slices)\$" "container root is the first host uid and gid of a slice (uid_map, gid_map)"
is "$(sed -n 1p <<<"$maps")" "$(sed -n 2p <<<"$maps")" "uids and gids come from the same place in their ranges"
is "$("$CCTL" run --rm alpine id -u)" 0 "inside, it is uid 0"
is "$("$CCTL" run --rm alpine sh -c 'grep CapEff /proc/self/status | tr -d "\t"')" "CapEff:00000000a80425fb" \
	"with Docker's capabilities, over its own namespaces only"
is "$("$CCTL" run --rm alpine sh -c 'ping -c1 -W1 127.0.0.1 >/dev/null && echo ok')" "ok" "ping works (NET_RAW in its net namespace)"
like "$("$CCTL" run --rm alpine sh -c 'mknod /tmp/null c 1 3 2>&1; echo rc=$?')" "rc=1" \
	"mknod fails: CAP_MKNOD in a user namespace is not the host's"

run_cctl run --rm --privileged alpine true
is "$RC" 125 "--privileged is refused in a user namespace"
like "$ERR" "userns=host" "with the way out"
is "$("$CCTL" run --rm --privileged --userns=host alpine sh -c 'grep Seccomp: /proc/self/status | tr -d "\t"')" \
	"Seccomp:0" "--privileged --userns=host runs"

# From the host.
id=$("$CCTL" run -d --name sleeper alpine sh -c 'touch /created-inside; sleep 30')
record_id "$id"
pid=$("$CCTL" inspect sleeper | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
[[ -n $pid && $pid != 0 ]] && pass "the detached container runs (pid $pid)" || fail "the detached container runs"
sec=$("$CCTL" inspect sleeper | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["security"], sort_keys=True))')
like "$sec" '"userns": "auto"' "inspect shows the user namespace"
slice=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["uid_map"][0].split()[1])' "$sec")
like "$slice" "^($base|$((base + 65536)))\$" "and its uid map, on one of the slices ($slice)"
is "$(stat -c %u "/proc/$pid")" "$slice" "its process belongs to that host uid"
sleep 0.3
upper=$DAEMON_DIR/root/containers/$id/upper
is "$(stat -c '%u:%g' "$upper/created-inside" 2>&1)" "$slice:$slice" "a file it creates is owned by $slice on the host"
layer=$(ls -d "$DAEMON_DIR"/root/layers/* | head -n1)
is "$(stat -c '%u:%g' "$layer/bin/busybox")" "0:0" "the shared image layer stays owned by host root"
# A second container gets the other slice; a third finds none.
second=$("$CCTL" run --rm alpine cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')
like "$second" "^($slices)\$" "a concurrent container gets a slice"
unlike "$second" "^0 $slice " "not the one the first container holds"
# A slice comes back once the exited container's cgroups are gone, a moment after its exit.
sleep 0.5
id2=$("$CCTL" run -d alpine sleep 30)
[[ -n $id2 ]] && pass "a second detached container takes the other slice" || fail "a second detached container takes the other slice"
record_id "$id2"
run_cctl run --rm alpine true
is "$RC" 125 "with every slice taken, the next container does not start"
like "$ERR" "no free|full|ENOSPC|space" "and says why"
"$CCTL" rm -f sleeper "$id2" >/dev/null
out=""
for i in 1 2 3 4; do out+=$("$CCTL" run --rm alpine true && echo -n ok); done
is "$out" "okokokok" "slices are given back: containers run again, one after another"

# Opting out, and opting in without the daemon default.
is "$("$CCTL" run --rm --userns=host alpine cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')" "0 0 4294967295" \
	"--userns=host runs without a user namespace"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
start_daemon plain --subuid-file "$ids/subuid" --subgid-file "$ids/subgid" || exit 1
import_alpine || exit 1
is "$("$CCTL" run --rm alpine cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')" "0 0 4294967295" \
	"without --userns-remap, containers share the host's user namespace"
run_cctl run --rm --userns=auto alpine true
is "$RC" 125 "--userns=auto needs subordinate ids of the user the daemon was told about"
like "$ERR" "containd" "and says whose are missing"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
echo "containd:$base:65536" >"$ids/subuid2"
start_daemon auto --subuid-file "$ids/subuid2" --subgid-file "$ids/subuid2" || exit 1
import_alpine || exit 1
is "$("$CCTL" run --rm --userns=auto alpine cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')" "0 $base 65536" \
	"--userns=auto gives one container a user namespace"
# What inspect says of it survives a restart (the record keeps the spec's id maps).
# (Its one slice comes back a moment after the container above exited.)
for _ in $(seq 100); do id=$("$CCTL" run -d --userns=auto --name kept alpine true 2>/dev/null) && break; sleep 0.05; done
"$CCTL" wait kept >/dev/null
record_id "$id"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
start_daemon auto --subuid-file "$ids/subuid2" --subgid-file "$ids/subuid2" || exit 1
sec=$("$CCTL" inspect kept | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["security"], sort_keys=True))')
like "$sec" '"userns": "auto"' "a restarted daemon still shows the container's user namespace"
like "$sec" "\"uid_map\": \\[\"0 $base 65536\"\\]" "and its uid map"

# A daemon that cannot honour --userns-remap refuses to start.
dir=$TEST_TMP/bad
mkdir -p "$dir"
echo "someone-else:$base:65536" >"$dir/subuid"
if "$CONTAIND" "${NO_BRIDGE[@]}" --socket "$dir/s" --root "$dir/root" --state "$dir/state" --userns-remap=containd-test \
	--subuid-file "$dir/subuid" --subgid-file "$dir/subuid" 2>"$dir/err"; then
	fail "--userns-remap without subordinate ids is refused"
else
	pass "--userns-remap without subordinate ids is refused"
fi
like "$(cat "$dir/err")" "userns-remap" "with a message naming the option"

done_testing
