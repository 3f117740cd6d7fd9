#!/usr/bin/env bash
# Spares with their network made ahead (daemon/container-network-spare.c), in a daemon of its own
# network namespace (DAEMON_NETNS=1) on a small default bridge (--bip .../28: 13 addresses): each
# idle spare has its veth on containd0 before any run; a run on the default bridge takes it
# (address in the subnet, MAC, default route, hosts file); --network none and a user network on a
# prepared spare have only their own links; runs that want no prepared network make the pool
# keep its spares bare, runs on the bridge prepared; network inspect never lists a spare; many runs leave
# no veth and no address behind (all 13 addresses serve containers afterwards); a pool that grew
# and shrank gave its spares' addresses back; a killed daemon's spares leave no veth at restart.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine

inspect_py() {
	"$CCTL" inspect "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print('"$2"')'
}
ip_of() { inspect_py "$1" "d['NetworkSettings']['Networks']['$2']['IPAddress']"; }
# The host ends on a bridge (default containd0), one name a line.
bridge_veths() { ip -n "$NETNS" -o link show master "${1:-containd0}" type veth 2>/dev/null | awk -F': ' '{ sub("@.*", "", $2); print $2 }'; }
# The host ends no container (running or not) owns: the idle spares'.
spare_veths() {
	local ids v
	ids=$("$CCTL" ps -aq)
	for v in $(bridge_veths); do
		grep -q "^${v:4:7}" <<<"$ids" || echo "$v"
	done
}
# wait_spares N [exact]: until at least (exactly) N idle spares have their veth (10 s at most).
wait_spares() {
	local i k
	for ((i = 0; i < 100; i++)); do
		k=$(spare_veths | wc -l)
		[[ $k == "$1" ]] || { [[ -z ${2:-} ]] && ((k > $1)); } && return 0
		sleep 0.1
	done
	return 1
}
attached() { "$CCTL" network inspect "${1:-bridge}" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["Containers"]))'; }

DAEMON_NETNS=1 start_daemon d --prepared 2 --bip 10.123.0.1/28 || exit 1
import_alpine || exit 1
gw=10.123.0.1

check "the two idle spares have their veth on containd0 before any run" wait_spares 2 exact
for v in $(spare_veths); do
	like "$(ip -n "$NETNS" -d link show "$v")" "hairpin on" "spare veth $v: hairpin on"
done
is "$(attached)" 0 "network inspect lists no spare"

# A run on the default bridge takes a prepared spare: its veth is one that existed before.
before=$(spare_veths)
c1=$("$CCTL" run -d --name c1 alpine sleep 100000)
like "$before" "veth${c1:0:7}0" "the run took a prepared spare (its veth was there before the run)"
ip1=$(ip_of c1 bridge)
like "$ip1" '^10\.123\.0\.([2-9]|1[0-4])$' "its address is in the default bridge's subnet"
like "$("$CCTL" exec c1 ip -4 -o addr show eth0)" "inet $ip1/28" "eth0 has that address"
mac=$(printf '02:42:%02x:%02x:%02x:%02x' ${ip1//./ })
is "$("$CCTL" exec c1 cat /sys/class/net/eth0/address)" "$mac" "and the MAC derived from it"
like "$("$CCTL" exec c1 ip route)" "default via $gw dev eth0" "the default route goes via the gateway"
like "$("$CCTL" exec c1 cat /etc/hosts)" "$ip1"$'\t'"${c1:0:12} c1" "its hosts file maps its address to its names"
check "it reaches the gateway" "$CCTL" exec c1 ping -c1 -W2 "$gw"
is "$(attached)" 1 "network inspect lists the container, not the spares"
is "$("$CCTL" network inspect bridge | python3 -c 'import json,sys; print(list(json.load(sys.stdin)[0]["Containers"].values())[0]["IPv4Address"])')" \
	"$ip1/28" "with its address"

# --network none while every idle spare is prepared: it never takes one (deleting a pair waits
# for the kernel's RCU grace periods, longer than a new init takes), and has only lo.
check "spares are ready again" wait_spares 2 exact
before=$(spare_veths)
n1=$("$CCTL" run -d --network none --name n1 alpine sleep 100000)
unlike "$before" "veth${n1:0:7}0" "--network none did not take a prepared spare"
is "$("$CCTL" exec n1 ls /sys/class/net)" "lo" "and has only lo"
# That run makes the pool keep one bare spare from now on (both kinds were wanted lately): one
# prepared spare is discarded for it, the other stays.
check "the pool now keeps one spare with its network" wait_spares 1 exact
like "$before" "$(spare_veths)" "one of those it had before"

# A user network on a prepared spare: its own eth0 there, nothing of the default bridge.
"$CCTL" network create --subnet 10.124.0.0/24 u1 >/dev/null
before=$(spare_veths)
u=$("$CCTL" run -d --network u1 --name uc alpine sleep 100000)
unlike "$before" "veth${u:0:7}0" "a run on a user network took a bare spare, not the prepared one"
check "which is still there" ip -n "$NETNS" link show "$before"
uip=$(ip_of uc u1)
like "$uip" '^10\.124\.0\.' "its address is in the user network's subnet"
is "$("$CCTL" exec uc ls /sys/class/net | tr '\n' ' ')" "eth0 lo " "it has eth0 and lo only"
like "$("$CCTL" exec uc ip -4 -o addr show eth0)" "inet $uip/24" "eth0 has the user network's address"
like "$("$CCTL" exec uc ip route)" "default via 10.124.0.1 dev eth0" "its default route goes via that network's gateway"
unlike "$(bridge_veths)" "veth${u:0:7}0" "its veth is not on containd0"
is "$(bridge_veths "$(ip -n "$NETNS" -o link show "veth${u:0:7}0" | sed -n 's/.* master \([^ ]*\) .*/\1/p')" | wc -l)" 1 \
	"but on the user network's bridge"
"$CCTL" rm -f c1 n1 uc >/dev/null

# Many runs of every kind: nothing left behind.
fails=0
for i in $(seq 12); do
	"$CCTL" run --rm alpine true || fails=$((fails + 1))
	"$CCTL" run --rm --network none alpine true || fails=$((fails + 1))
	"$CCTL" run --rm --network u1 alpine true || fails=$((fails + 1))
done
is "$fails" 0 "36 runs on the bridge, none and a user network all succeed"
# Runs that want no prepared network make the pool keep bare spares (deleting a prepared pair
# waits for the kernel's RCU, longer than a whole run); runs on the bridge bring them back.
for i in $(seq 16); do "$CCTL" run --rm --network none alpine true || fails=$((fails + 1)); done
check "after 16 runs with --network none no idle spare has a veth" wait_spares 0 exact
for i in $(seq 24); do "$CCTL" run --rm alpine true || fails=$((fails + 1)); done
is "$fails" 0 "and those 40 runs succeed"
check "after 24 runs on the bridge both idle spares have their network again" wait_spares 2 exact
nspares=$(spare_veths | wc -l)
is "$(bridge_veths | wc -l)" "$nspares" "no container's veth is left on containd0 ($nspares spares)"
is "$(ip -n "$NETNS" -o link show type veth | wc -l)" "$nspares" "and no other veth is left"
is "$(attached)" 0 "network inspect bridge lists nobody"
is "$(attached u1)" 0 "network inspect u1 lists nobody"

# fill N: N detached containers on the default bridge, one after the other; echoes how many ran.
fill() {
	local i ok=0
	for ((i = 1; i <= $1; i++)); do
		"$CCTL" run -d --name "f$i" alpine sleep 100000 >/dev/null && ok=$((ok + 1))
		sleep 0.2
	done
	echo "$ok"
}
unfill() { "$CCTL" ps -aq | xargs -r "$CCTL" rm -f >/dev/null; }
# Every address of the /28 serves a container: the spares hold theirs only until a run takes them.
is "$(fill 13)" 13 "all 13 addresses of the subnet serve containers: no address was leaked"
run_cctl run --rm alpine true
check "a 14th container finds the subnet full" test "$RC" != 0
unfill

# A burst grows the pool; ten seconds without a run shrink it back, its extra spares discarded.
check "spares are ready again" wait_spares 2
pids=()
for i in $(seq 5); do
	"$CCTL" run -d alpine sleep 100000 >/dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
unfill
sleep 1
grown=$(spare_veths | wc -l)
diag "after the burst: $grown idle spares"
check "the pool grew under the burst" test "$grown" -gt 2
sleep 11
check "and shrank back to two spares after 10 s without runs" wait_spares 2 exact
is "$(fill 13)" 13 "the discarded spares gave their addresses back: 13 containers fit again"
unfill

# A killed daemon's spares leave no veth: the next daemon removes them (reconcile, and the
# spares die with their keeper's channel).
check "spares are ready again" wait_spares 2
old_spares=$(spare_veths)
old=$DAEMON_PID
kill -KILL "$old"
for _ in $(seq 500); do kill -0 "$old" 2>/dev/null || break; sleep 0.01; done
wait "$old" 2>/dev/null
STOPPED_PIDS+="$old "
rm -f "$DAEMON_DIR/containd.sock"
DAEMON_NETNS=$NETNS start_daemon d --prepared 2 --bip 10.123.0.1/28 || exit 1
check "the new daemon's spares have their veth" wait_spares 2
for v in $old_spares; do
	gone=0
	for _ in $(seq 50); do ip -n "$NETNS" link show "$v" >/dev/null 2>&1 || { gone=1; break; }; sleep 0.1; done
	is "$gone" 1 "the killed daemon's spare veth $v is gone"
done
is "$(fill 13)" 13 "and its IPAM starts with every address free"
unfill

grep -E 'ERROR|AddressSanitizer' "$DAEMON_DIR/log" | head -5 | sed 's/^/# /'
done_testing
