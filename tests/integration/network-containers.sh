#!/usr/bin/env bash
# Containers on networks, in a daemon of its own network namespace (DAEMON_NETNS=1; the host's
# interfaces, routes and nft tables are never touched): a veth and an address per network, the
# gateway reachable, names and --network-alias resolved between the containers of a user network
# (its managed hosts files, kept current) and not on the default bridge, no name and no traffic
# between two user networks, /etc/hosts, /etc/hostname and /etc/resolv.conf as Docker writes them
# (--add-host, --dns, --dns-search, --dns-option, -h; the host's loopback resolvers dropped), IPAM
# kept across stop/start and daemon restarts and released on rm, network connect/disconnect on a
# running and a stopped container, bad input refused with nothing changed, and 50 containers
# started in parallel and removed leaving no veth, address or nft rule behind.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine

# inspect_py NAME EXPR: EXPR of the container's inspect object (d) in Python.
inspect_py() {
	"$CCTL" inspect "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print('"$2"')'
}
ip_of() { inspect_py "$1" "d['NetworkSettings']['Networks']['$2']['IPAddress']"; }
# The containers' veths (the idle spares' prepared ones left out: they come and go with the pool).
veths() {
	local ids v n=0
	ids=$("$CCTL" ps -aq)
	for v in $(in_netns ip -o link show type veth 2>/dev/null | awk -F': ' '{ sub("@.*", "", $2); print $2 }'); do
		[[ $v == veth* ]] && grep -q "^${v:4:7}" <<<"$ids" && n=$((n + 1))
	done
	echo "$n"
}

resolv=$TEST_TMP/resolv.conf
printf '# the host'"'"'s\nnameserver 127.0.0.53\nnameserver 10.99.0.1\nsearch host.example\noptions edns0\n' >"$resolv"
DAEMON_NETNS=1 start_daemon d --resolv-conf "$resolv" || exit 1
import_alpine || exit 1
gw=$(in_netns ip -4 -o addr show containd0 | awk '{ split($4, a, "/"); print a[1] }')
check "the default bridge has an address" test -n "$gw"

# The default bridge: an address, the gateway (the daemon's host) reachable.
b1=$("$CCTL" run -d --name b1 alpine sleep 100000)
ip1=$(ip_of b1 bridge)
is "$(inspect_py b1 "d['NetworkSettings']['IPAddress']")" "$ip1" "inspect: NetworkSettings.IPAddress is the bridge's"
is "$(inspect_py b1 "d['NetworkSettings']['Gateway']")" "$gw" "inspect: the gateway is the bridge's address"
mac=$(printf '02:42:%02x:%02x:%02x:%02x' ${ip1//./ })
is "$(inspect_py b1 "d['NetworkSettings']['MacAddress']")" "$mac" "inspect: the MAC is derived from the address (02:42:...)"
like "$("$CCTL" exec b1 ip -4 -o addr show eth0)" "inet $ip1/" "the container's eth0 has that address"
is "$("$CCTL" exec b1 cat /sys/class/net/eth0/address)" "$mac" "and that MAC"
like "$("$CCTL" exec b1 ip route)" "default via $gw dev eth0" "its default route goes via the gateway"
check "container -> gateway: ping" "$CCTL" exec b1 ping -c1 -W2 "$gw"
# container -> host over TCP: a server in the daemon's namespace on the gateway address.
in_netns timeout 20 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7777)); s.listen(1); s.settimeout(15)
c, a = s.accept(); c.sendall(b"from-host\n"); c.close()' "$gw" &
srv=$!
sleep 0.5
is "$("$CCTL" exec b1 nc -w 3 "$gw" 7777 </dev/null)" from-host "container -> host: a TCP server on the gateway answers"
wait "$srv" 2>/dev/null
veth1=veth${b1:0:7}0
check "the host end is $veth1, on containd0" sh -c "ip -n $NETNS -o link show $veth1 | grep -q 'master containd0'"
like "$(ip -n "$NETNS" -d link show "$veth1")" "hairpin on" "with hairpin on"

# /etc files of a default-bridge container.
short=${b1:0:12}
is "$("$CCTL" exec b1 cat /etc/hostname)" "$short" "/etc/hostname is the short id"
hosts=$("$CCTL" exec b1 cat /etc/hosts)
like "$hosts" $'^127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback' "/etc/hosts starts with Docker's localhost lines"
like "$hosts" "$ip1"$'\t'"$short b1" "/etc/hosts maps its address to its hostname and name"
is "$("$CCTL" exec b1 stat -c '%u:%g %a' /etc/hosts /etc/hostname /etc/resolv.conf | sort -u)" "0:0 644" \
	"the files belong to the container's root (in a user namespace too), mode 644"
check "which may edit them, as in Docker" "$CCTL" exec b1 sh -c 'echo "10.7.7.7 edited" >>/etc/hosts'
res=$("$CCTL" exec b1 cat /etc/resolv.conf)
like "$res" "nameserver 10.99.0.1" "/etc/resolv.conf has the host's resolver"
unlike "$res" "127.0.0.53" "but not the host's loopback one"
like "$res" "search host.example" "the host's search list"
like "$res" "options edns0" "the host's options"
check "container -> container by address on the default bridge" "$CCTL" run --rm alpine ping -c1 -W2 "$ip1"
run_cctl run --rm alpine ping -c1 -W1 b1
check "no name resolution between containers of the default bridge (as Docker)" test "$RC" != 0

run_cctl run --rm -h myhost --add-host db:10.1.2.3 --add-host gwhost:host-gateway --dns 10.9.9.9 \
	--dns-search a.example --dns-search b.example --dns-option ndots:2 alpine \
	sh -c 'cat /etc/hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname'
like "$OUT" $'^myhost\n---' "-h: /etc/hostname"
like "$OUT" $'\nmyhost\n?$' "-h: hostname"
like "$OUT" $'10.1.2.3\tdb\n' "--add-host HOST:IP in /etc/hosts"
like "$OUT" "$gw"$'\tgwhost\n' "--add-host HOST:host-gateway is the gateway"
like "$OUT" $'\t''myhost ' "its own line carries -h"
like "$OUT" "nameserver 10.9.9.9" "--dns"
unlike "$OUT" "10.99.0.1" "--dns replaces the host's resolvers"
like "$OUT" "search a.example b.example" "--dns-search"
like "$OUT" "options ndots:2" "--dns-option"
# Only loopback resolvers on the host: Docker's fallback (never queried by this test).
printf 'nameserver 127.0.0.53\nnameserver ::1\n' >"$resolv"
res=$("$CCTL" run --rm alpine cat /etc/resolv.conf)
like "$res" $'nameserver 8.8.8.8\nnameserver 8.8.4.4' "only loopback resolvers on the host: Docker's fallback"
unlike "$res" "127.0.0.53" "the loopback one dropped"

# The init layer holding the files' mount points is shared by every container of an image: one
# directory under init-layers, none in a container's own directory; a damaged one is made again.
layers=$(ls "$DAEMON_DIR/root/init-layers")
is "$(wc -l <<<"$layers")" 1 "one shared init layer for all these containers of one image"
check "with the image's /etc attributes in its name" grep -q '^etc-755-0-0-' <<<"$layers"
check "and no init layer in a container's own directory" test ! -e "$DAEMON_DIR/root/containers/$b1/init"
rm "$DAEMON_DIR/root/init-layers/$layers/etc/hostname"
is "$("$CCTL" run --rm -h again alpine cat /etc/hostname)" again "a damaged init layer is made again at the next start"
check "complete again" test -f "$DAEMON_DIR/root/init-layers/$layers/etc/hostname"
is "$(ls "$DAEMON_DIR/root/init-layers")" "$layers" "under the same name, nothing left beside it"

# --network none: only lo, the /etc files still there.
run_cctl run --rm --network none -h lonely alpine sh -c 'ls /sys/class/net; echo ---; cat /etc/hosts; test -s /etc/resolv.conf && echo resolv'
is "$(sed -n 1p <<<"$OUT")---" "lo---" "--network none: only lo"
like "$OUT" $'127.0.0.1\tlocalhost' "--network none: localhost in /etc/hosts"
like "$OUT" $'\tlonely' "--network none: its own name in /etc/hosts"
like "$OUT" "resolv" "--network none: /etc/resolv.conf is written"

# User networks: names and aliases resolve, kept current as containers come and go.
"$CCTL" network create n1 >/dev/null || fail "network create n1"
"$CCTL" network create n2 >/dev/null || fail "network create n2"
a1=$("$CCTL" run -d --name a1 --network n1 --network-alias web alpine \
	sh -c 'while true; do echo hello-from-a1 | nc -l -p 8080; done')
a2=$("$CCTL" run -d --name a2 --network n1 alpine sleep 100000)
c1=$("$CCTL" run -d --name c1 --network n2 alpine sleep 100000)
ipa1=$(ip_of a1 n1)
check "a user network container has an address" test -n "$ipa1"
is "$(inspect_py a1 "d['NetworkSettings']['IPAddress']")" "" "no top-level IPAddress off the default bridge (as Docker)"
is "$(inspect_py a1 "d['NetworkSettings']['Networks']['n1']['Aliases']")" "['web']" "inspect: the alias"
check "by name on a user network: a2 pings a1" "$CCTL" exec a2 ping -c1 -W2 a1
check "by --network-alias: a2 pings web" "$CCTL" exec a2 ping -c1 -W2 web
check "by short id: a2 pings ${a1:0:12}" "$CCTL" exec a2 ping -c1 -W2 "${a1:0:12}"
is "$("$CCTL" exec a2 nc -w 3 web 8080 </dev/null)" hello-from-a1 "a2 reaches a1's server by alias (nc)"
like "$("$CCTL" exec a1 cat /etc/hosts)" $'\ta2 '"${a2:0:12}" "a1's hosts file learnt of a2, which started after it"
run_cctl exec c1 ping -c1 -W1 a1
check "no name across networks: c1 cannot resolve a1" test "$RC" != 0
run_cctl exec c1 ping -c1 -W1 "$ipa1"
check "no traffic across networks: c1 cannot reach a1's address" test "$RC" != 0

# Connect and disconnect, live.
"$CCTL" network connect --alias a1-on-n2 n2 a1 || fail "network connect n2 a1"
check "a1 got eth1 at once" "$CCTL" exec a1 ip link show eth1
ipa1n2=$(ip_of a1 n2)
like "$("$CCTL" exec a1 ip -4 -o addr show eth1)" "inet $ipa1n2/" "eth1 has its n2 address"
check "c1 now resolves a1 (its hosts file was rewritten)" "$CCTL" exec c1 ping -c1 -W2 a1
check "and the alias given at connect" "$CCTL" exec c1 ping -c1 -W2 a1-on-n2
run_cctl network connect n2 a1
check "connect twice: refused" test "$RC" != 0
like "$ERR" "already exists in network n2" "with Docker's message"
"$CCTL" network disconnect n2 a1 || fail "network disconnect n2 a1"
run_cctl exec a1 ip link show eth1
check "eth1 is gone after disconnect" test "$RC" != 0
run_cctl exec c1 ping -c1 -W1 a1
check "c1 no longer resolves a1" test "$RC" != 0
is "$(inspect_py a1 "sorted(d['NetworkSettings']['Networks'])")" "['n1']" "inspect: only n1 left"
check "a1 still on n1" "$CCTL" exec a2 ping -c1 -W2 a1
run_cctl network disconnect n2 a1
check "disconnect from a network it is not on: an error" test "$RC" != 0
like "$ERR" "is not connected to network n2" "saying so"
# A stopped container: recorded, applied at its next start.
"$CCTL" create --name s1 --network n1 alpine sleep 100000 >/dev/null
"$CCTL" network connect n2 s1 || fail "network connect n2 s1 (created)"
"$CCTL" start s1 >/dev/null
like "$("$CCTL" exec s1 ls /sys/class/net)" "eth1" "a stopped container connected gets eth1 at its start"
like "$("$CCTL" exec s1 ip route)" "default via .* dev eth0" "its default route stays on its first network"

# Bad input: refused, nothing made.
nveth=$(veths)
run_cctl run --rm --network nosuch alpine true
is "$RC" 125 "unknown network: exit 125"
like "$ERR" "network nosuch not found" "with Docker's message"
subnet1=$("$CCTL" network inspect n1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Subnet"])')
run_cctl run --rm --network n1 --ip 10.255.255.9 alpine true
is "$RC" 125 "--ip outside the subnet ($subnet1): exit 125"
run_cctl run --rm --network n1 --ip "$ipa1" alpine true
is "$RC" 125 "--ip taken: exit 125"
run_cctl run --rm --network n1 --ip 1.2.3 alpine true
is "$RC" 125 "--ip not an address: exit 125"
run_cctl run --rm --network-alias x alpine true
is "$RC" 125 "--network-alias on the default bridge: exit 125"
like "$ERR" "network-scoped alias is supported only for containers in user defined networks" "with Docker's message"
run_cctl run --rm --ip "${gw%.*}.77" alpine true
is "$RC" 125 "--ip on the default bridge: exit 125"
run_cctl run --rm --add-host nocolon alpine true
is "$RC" 125 "--add-host without an address: exit 125"
run_cctl run --rm --add-host db:999.1.1.1 alpine true
is "$RC" 125 "--add-host with a bad address: exit 125"
run_cctl run --rm --dns nope alpine true
is "$RC" 125 "--dns not an address: exit 125"
run_cctl network connect nosuch a1
check "connect to an unknown network: an error" test "$RC" != 0
is "$(veths)" "$nveth" "no veth made by any of them"

# IPAM: kept across stop/start, a fixed --ip kept, released on rm.
ipa2=$(ip_of a2 n1)
"$CCTL" stop -t 0 a2 >/dev/null
"$CCTL" start a2 >/dev/null
is "$(ip_of a2 n1)" "$ipa2" "an address is kept across stop and start"
fixed=${ipa1%.*}.200
"$CCTL" run -d --name f1 --network n1 --ip "$fixed" alpine sleep 100000 >/dev/null
is "$(ip_of f1 n1)" "$fixed" "--ip: the address asked for"
run_cctl run --rm --network n1 --ip "$fixed" alpine true
is "$RC" 125 "and nobody else gets it"
"$CCTL" rm -f f1 >/dev/null
run_cctl run --rm --network n1 --ip "$fixed" alpine true
is "$RC" 0 "released on rm: another container gets it"

# A daemon restart (its containers stopped): the addresses stay theirs.
ips1=$(ip_of s1 n1)
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
DAEMON_NETNS=$NETNS start_daemon d --resolv-conf "$resolv" || exit 1
"$CCTL" start a2 s1 >/dev/null
is "$(ip_of a2 n1)" "$ipa2" "after a daemon restart a2 has its address again"
is "$(ip_of s1 n1)" "$ips1" "and s1"
run_cctl run --rm --network n1 --ip "$ipa2" alpine true
is "$RC" 125 "a restarted daemon reserved the recorded addresses"
n3=$("$CCTL" run -d --network n1 alpine sleep 100000)
new=$(ip_of "$n3" n1)
check "a new container gets none of them ($new)" test -n "$new" -a "$new" != "$ipa2" -a "$new" != "$ips1" -a "$new" != "$ipa1"
"$CCTL" rm -f "$n3" >/dev/null

# N containers (50; fewer in a user namespace: each holds a slice of the test's few subordinate
# ids) started in parallel on a user network, removed: nothing left behind.
N=${NETWORK_PARALLEL:-50}
"$CCTL" network create n50 >/dev/null || fail "network create n50"
before=$(veths)
pids=()
for i in $(seq "$N"); do
	"$CCTL" run -d --name "p$i" --network n50 alpine sleep 100000 >/dev/null 2>"$TEST_TMP/p$i.err" &
	pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
is "$failed" 0 "$N containers started in parallel"
is "$(veths)" "$((before + N))" "$N more veths"
addrs=$(for i in $(seq "$N"); do ip_of "p$i" n50; done | sort -u | grep -c .)
is "$addrs" "$N" "$N distinct addresses"
check "p$N resolves p1 by name" "$CCTL" exec "p$N" ping -c1 -W2 p1
"$CCTL" rm -f $(seq -f 'p%g' "$N") >/dev/null || fail "rm -f the $N"
for _ in $(seq 100); do [[ $(veths) == "$before" ]] && break; sleep 0.1; done
is "$(veths)" "$before" "no veth of theirs left"
is "$("$CCTL" network inspect n50 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["Containers"]))')" 0 \
	"network inspect: no container left on n50"
subnet50=$("$CCTL" network inspect n50 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Subnet"])')
unlike "$(in_netns nft list table ip containd 2>&1)" "veth" "no nft rule names one of their links"
run_cctl run --rm --network n50 --ip "${subnet50%.*}.2" alpine true
is "$RC" 0 "their addresses are free again"
"$CCTL" network rm n50 >/dev/null
is "$?" 0 "the network can go"

# Live restore: a daemon killed and started again leaves a running container's link alone, and
# the reconcile removes a veth of containd's (its alias) that no container owns.
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
DAEMON_NETNS=$NETNS start_daemon d --live-restore --resolv-conf "$resolv" || exit 1
lr=$("$CCTL" run -d --name lr1 alpine sleep 100000)
lrip=$(ip_of lr1 bridge)
old=$DAEMON_PID
kill -KILL "$old"
for _ in $(seq 500); do kill -0 "$old" 2>/dev/null || break; sleep 0.01; done
wait "$old" 2>/dev/null
STOPPED_PIDS+="$old "
rm -f "$DAEMON_DIR/containd.sock"
in_netns ip link add vethdeadbee0 type veth peer name ctdt-stale
# marked as containd marks its links: this daemon's alias, as a crashed run of it would leave it
in_netns ip link set vethdeadbee0 alias "containd:$(cat "$DAEMON_DIR/root/networks/instance")"
# A daemon without live restore now: it re-adopts lr1 and stops it when the test ends.
DAEMON_NETNS=$NETNS start_daemon d --resolv-conf "$resolv" || exit 1
check "after a live restore lr1's veth is still there" ip -n "$NETNS" link show "veth${lr:0:7}0"
check "and it still reaches the gateway" "$CCTL" exec lr1 ping -c1 -W2 "$gw"
is "$(ip_of lr1 bridge)" "$lrip" "with the same address"
other=$("$CCTL" run -d alpine sleep 100000)
check "its address stays reserved: a new container gets another one" test "$(ip_of "$other" bridge)" != "$lrip"
"$CCTL" rm -f "$other" >/dev/null
for _ in $(seq 50); do ip -n "$NETNS" link show vethdeadbee0 >/dev/null 2>&1 || break; sleep 0.1; done
check "a stale veth no container owns was removed" sh -c "! ip -n $NETNS link show vethdeadbee0 2>/dev/null"

grep -E 'ERROR|AddressSanitizer' "$DAEMON_DIR/log" | head -5 | sed 's/^/# /'
done_testing
