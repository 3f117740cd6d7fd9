#!/bin/bash
# Networks as objects: the built-ins, the default bridge, user networks (create, ls, inspect, rm,
# prune), bad input, a restart keeping them, the reconcile of leftover links, containd's nft
# table, --bridge none and --bip. Every daemon runs in a network namespace of its own
# (DAEMON_NETNS=1): nothing here touches the host's links, routes, sysctls or nft tables.
source "$(dirname "$0")/../lib.sh"
need_root
for tool in nft jq nsenter; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP no $tool"; exit 0; }
done

# links: the names of the links in the daemon's netns, one a line.
links() { in_netns ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//'; }
has_link() { links | grep -qx "$1"; }
nft_table() { in_netns nft list table ip containd 2>/dev/null; }

DAEMON_NETNS=1 start_daemon d || exit 1

# The default bridge.
run_cctl network inspect bridge
is "$RC" 0 "network inspect bridge"
subnet=$(jq -r '.[0].IPAM.Config[0].Subnet' <<<"$OUT")
gateway=$(jq -r '.[0].IPAM.Config[0].Gateway' <<<"$OUT")
bridge_id=$(jq -r '.[0].Id' <<<"$OUT")
like "$subnet" '^172\.(1[7-9]|2[0-9]|3[01])\.0\.0/16$' "the default bridge has a subnet of Docker's default pools: $subnet"
is "$(jq -r '.[0].Options["com.docker.network.bridge.name"] + " " + .[0].Driver + " " + .[0].Scope' <<<"$OUT")" \
	"containd0 bridge local" "its bridge is containd0, driver bridge, scope local"
like "$(in_netns ip -o -4 addr show dev containd0)" "inet $gateway/16 " "containd0 has the gateway's address $gateway/16"
like "$(in_netns ip -o link show dev containd0)" '[<,]UP[,>]' "containd0 is up"
is "$(in_netns cat /proc/sys/net/ipv4/conf/containd0/route_localnet)" 1 "route_localnet is on for containd0"
is "$(in_netns cat /proc/sys/net/ipv4/ip_forward)" 1 "forwarding is on in the daemon's netns"

run_cctl network ls
is "$RC" 0 "network ls"
is "$(head -1 <<<"$OUT" | tr -s ' ')" "NETWORK ID NAME DRIVER SCOPE" "its header is Docker's"
is "$(tail -n +2 <<<"$OUT" | awk '{ print $2 "/" $3 "/" $4 }' | tr '\n' ' ')" \
	"bridge/bridge/local host/host/local none/null/local " "bridge, host and none, as docker network ls shows them"
like "$(sed -n 2p <<<"$OUT")" "^${bridge_id:0:12} " "the ID column has 12 hex digits"

# A user network.
run_cctl network create --subnet 10.77.0.0/24 --label team=red n1
is "$RC" 0 "network create n1"
like "$OUT" '^[0-9a-f]{64}$' "it prints the new network's id"
n1=$OUT
br=cd-${n1:0:12}
check "its bridge $br exists" has_link "$br"
like "$(in_netns ip -o -4 addr show dev "$br")" "inet 10\.77\.0\.1/24 " "with the gateway 10.77.0.1/24"
run_cctl network inspect n1
is "$(jq -r '.[0] | [.Name, .Id, .Driver, .IPAM.Driver, .IPAM.Config[0].Subnet, .IPAM.Config[0].Gateway,
	(.Internal | tostring), .Labels.team] | join(" ")' <<<"$OUT")" \
	"n1 $n1 bridge default 10.77.0.0/24 10.77.0.1 false red" "inspect: Docker's shape and the network's settings"
is "$(jq -r '.[0].Containers | length' <<<"$OUT")" 0 "no container is attached"
run_cctl network inspect "${n1:0:8}"
is "$(jq -r '.[0].Name' <<<"$OUT")" n1 "inspect by an id prefix"
run_cctl network inspect --format '{{.Name}} {{.Driver}}' n1
is "$OUT" "n1 bridge" "inspect --format"

run_cctl network create --internal --gateway 10.78.0.254 --subnet 10.78.0.0/24 n2
is "$RC" 0 "network create --internal --gateway"
run_cctl network inspect --format '{{.Internal}} {{json .IPAM.Config}}' n2
is "$OUT" 'true [{"Subnet":"10.78.0.0/24","Gateway":"10.78.0.254"}]' "internal, with the given gateway"
run_cctl network create auto
picked=$("$CCTL" network inspect --format '{{json .IPAM.Config}}' auto | jq -r '.[0].Subnet')
like "$picked" '^172\.' "a network without --subnet gets one of the default pools: $picked"
[[ $picked != "$subnet" ]] && pass "not the default bridge's" || fail "not the default bridge's"

run_cctl network ls --filter type=custom --format '{{.Name}}'
is "$(tr '\n' ' ' <<<"$OUT")" "auto n1 n2 " "ls --filter type=custom"
run_cctl network ls --filter type=builtin -q
is "$(wc -l <<<"$OUT")" 3 "ls --filter type=builtin -q: three ids"
run_cctl network ls --filter label=team=red --no-trunc -q
is "$OUT" "$n1" "ls --filter label=K=V --no-trunc -q: the full id"
run_cctl network ls --filter name=n --filter driver=bridge --format '{{.Name}}'
is "$(tr '\n' ' ' <<<"$OUT")" "n1 n2 " "filters of different keys must all match"
run_cctl network ls --filter type=bogus
is "$RC/$ERR" "1/cctl: invalid filter: 'type'='bogus'" "an invalid type filter is refused, as Docker does"
run_cctl network ls --filter color=red
is "$RC/$ERR" "1/cctl: invalid filter 'color'" "an unknown filter is refused, as Docker does"
run_cctl network ls --filter id="${n1:3:20}" --format '{{.Name}}'
is "$OUT" n1 "ls --filter id=PART"

# containd's nft table: masquerade and isolation for each network.
t=$(nft_table)
like "$t" "10\.77\.0\.0/24" "the nft table has rules for n1's subnet"
like "$t" "$br" "and for its bridge"
like "$t" "${subnet//./\\.}" "and for the default bridge's"
like "$t" "masquerade" "it masquerades"
unlike "$(grep -F 10.78.0.0/24 <<<"$t" | grep masquerade)" . "the internal network is not masqueraded"
br2=cd-$(jq -r '.[0].Id[:12]' <<<"$("$CCTL" network inspect n2)")
like "$t" "iifname \"$br2\" oifname != \"$br2\" drop" "nothing leaves the internal network's bridge"
like "$t" "iifname \"$br\" oifname [{][^}]*\"containd0\"[^}]*[}] drop" "isolation: n1 to the default bridge is dropped"
like "$t" "iifname \"containd0\" oifname [{][^}]*\"$br\"[^}]*[}] drop" "and the default bridge to n1"
like "$t" "iifname != [{][^}]*\"$br\"[^}]*[}] oifname != [{][^}]*[}] drop" \
	"containd turned forwarding on: only its bridges' traffic is forwarded"

# Bad input: nothing is created. (The idle spares' veths, veth<7 hex>0, come and go with the pool.)
not_spares() { grep -v '^veth[0-9a-f]\{7\}0$'; }
before=$(links | not_spares | sort | tr '\n' ' ')
run_cctl network create --subnet 10.77.0.128/25 over
is "$RC" 1 "an overlapping subnet is refused"
like "$ERR" "Pool overlaps with other one on this address space" "with Docker's message"
in_netns ip link add ctdt-r0 type veth peer name ctdt-r1
in_netns ip addr add 10.88.0.1/16 dev ctdt-r0
in_netns ip link set ctdt-r1 up
in_netns ip link set ctdt-r0 up
run_cctl network create --subnet 10.88.4.0/24 route
is "$RC" 1 "a subnet overlapping a route of the host is refused"
like "$ERR" "route to 10\.88\.0\.0/16" "the message names the route"
run_cctl network create n1
is "$RC" 1 "a name in use is refused"
is "$ERR" "cctl: network with name n1 already exists" "with Docker's message"
run_cctl network create --subnet 10.79.0.0/33 bad
is "$RC" 1 "an invalid subnet is refused"
run_cctl network create --subnet 10.79.0.0/24 --gateway 10.80.0.1 bad
is "$RC" 1 "a gateway outside the subnet is refused"
run_cctl network create -d overlay bad
like "$ERR" 'plugin "overlay" not found' "another driver is refused"
run_cctl network create 'bad name'
is "$RC" 1 "an invalid name is refused"
is "$(links | not_spares | grep -v ctdt-r | sort | tr '\n' ' ')" "$before" "no link was created by the refused ones"
run_cctl network ls --format '{{.Name}}'
is "$(tr '\n' ' ' <<<"$OUT")" "auto bridge host n1 n2 none " "nor any network"

run_cctl network inspect nosuch
is "$RC" 1 "inspect of an unknown network fails"
is "$ERR" "cctl: network nosuch not found" "with Docker's message"
run_cctl network rm nosuch
is "$RC" 1 "rm of an unknown network fails"
run_cctl network rm -f nosuch
is "$RC" 0 "rm -f of an unknown network does not"
for b in bridge host none; do
	run_cctl network rm "$b"
	is "$RC/$ERR" "1/cctl: $b is a pre-defined network and cannot be removed" "rm $b is refused"
done

# A restart keeps the networks, makes a deleted bridge again and removes the leftover links
# carrying this daemon's alias, and nothing else: not links named like Docker's (br-<12 hex>,
# veth<7 hex>) or like containd's own without the alias, not another containd's.
instance=$(cat "$DAEMON_DIR/root/networks/instance")
like "$instance" '^[0-9a-f]{32}$' "the daemon keeps an instance id in <root>/networks/instance"
alias_of() { in_netns ip -d -o link show dev "$1" | grep -o 'alias [^ ]*' | cut -d' ' -f2; }
is "$(alias_of "$br")" "containd:$instance" "n1's bridge carries the daemon's alias"
is "$(alias_of containd0)" "containd:$instance" "so does containd0"
auto_id=$("$CCTL" network inspect --format '{{.Id}}' auto)
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
# A record written by an earlier containd names its bridge br-<12 hex>: it keeps that name, and
# the cd- bridge it had here is then a marked link of no network.
rec=$DAEMON_DIR/root/networks/$auto_id.json
jq -c --arg b "br-${auto_id:0:12}" '.bridge = $b' "$rec" >"$rec.new" && mv "$rec.new" "$rec"
in_netns ip link del "$br"
in_netns ip link add br-0123456789ab type bridge
in_netns ip link add veth1234567 type veth peer name ctdt-peer0
in_netns ip link add veth123456789 type veth peer name ctdt-peer1
in_netns ip link add cd-0123456789ab type bridge
in_netns ip link add vethabcdef01 type veth peer name ctdt-peer2
in_netns ip link add cd-keepother type bridge
in_netns ip link add veth7654321 type veth peer name ctdt-peer3
for l in cd-0123456789ab vethabcdef01; do in_netns ip link set "$l" alias "containd:$instance"; done
for l in cd-keepother veth7654321; do in_netns ip link set "$l" alias "containd:ffffffffffffffffffffffffffffffff"; done
DAEMON_NETNS=$NETNS start_daemon d || exit 1
is "$(cat "$DAEMON_DIR/root/networks/instance")" "$instance" "a restart keeps the instance id"
run_cctl network inspect --format '{{.Id}} {{json .IPAM.Config}}' n1
is "$OUT" "$n1 [{\"Subnet\":\"10.77.0.0/24\",\"Gateway\":\"10.77.0.1\"}]" "n1 keeps its id and subnet across a restart"
run_cctl network inspect --format '{{.Id}} {{json .IPAM.Config}}' bridge
is "$OUT" "$bridge_id [{\"Subnet\":\"$subnet\",\"Gateway\":\"$gateway\"}]" "so does the default bridge"
check "n1's deleted bridge is made again" has_link "$br"
like "$(in_netns ip -o -4 addr show dev "$br")" "inet 10\.77\.0\.1/24 " "with its address"
is "$(alias_of "$br")" "containd:$instance" "and the alias"
check "containd0 is kept" has_link containd0
check "a record's br- bridge name is kept" has_link "br-${auto_id:0:12}"
is "$("$CCTL" network inspect --format '{{json .Options}}' auto | jq -r '.["com.docker.network.bridge.name"]')" \
	"br-${auto_id:0:12}" "and inspect shows it"
if has_link "cd-${auto_id:0:12}"; then fail "the network's old cd- bridge is removed"; else pass "the network's old cd- bridge is removed"; fi
if has_link cd-0123456789ab; then fail "a bridge with this daemon's alias and no network is removed"; else pass "a bridge with this daemon's alias and no network is removed"; fi
if has_link vethabcdef01; then fail "a veth with this daemon's alias and no container is removed"; else pass "a veth with this daemon's alias and no container is removed"; fi
check "a bridge named like Docker's (br-0123456789ab) without the alias survives" has_link br-0123456789ab
check "so does a veth named like Docker's (veth1234567)" has_link veth1234567
check "and one named like containd's (veth123456789) without the alias" has_link veth123456789
check "a bridge with another instance's alias survives" has_link cd-keepother
check "and a veth with another instance's alias" has_link veth7654321
check "and the test's own veth" has_link ctdt-r0
like "$(nft_table)" "10\.77\.0\.0/24" "the nft table is rebuilt at start"

# rm and prune.
run_cctl network rm n1
is "$RC/$OUT" "0/n1" "network rm n1 prints its name"
if has_link "$br"; then fail "its bridge is gone"; else pass "its bridge is gone"; fi
unlike "$(nft_table)" "10\.77\.0\.0/24|$br" "no nft rule for it is left"
is "$(ls "$DAEMON_DIR/root/networks" | grep -c "^$n1")" 0 "nor its record"
# A network with a running container (the containers' side tells which are attached): rm is
# refused with Docker's message, prune keeps it, inspect lists the container.
att=
if [[ -r $ALPINE_TARBALL ]]; then
	import_alpine || exit 1
	att=$("$CCTL" run -d --name att --network n2 alpine sleep 100000)
	n2=$("$CCTL" network inspect --format '{{.Id}}' n2)
	run_cctl network rm n2
	is "$RC/$ERR" "1/cctl: error while removing network: network n2 id $n2 has active endpoints" \
		"rm of a network with a running container is refused"
	run_cctl network inspect n2
	is "$(jq -r ".[0].Containers[\"$att\"].Name" <<<"$OUT")" att "inspect lists the attached container"
	like "$(jq -r ".[0].Containers[\"$att\"].IPv4Address" <<<"$OUT")" '^10\.78\.0\.[0-9]+/24$' "with its address"
	run_cctl network prune -f
	is "$(tail -n +2 <<<"$OUT" | sort | tr '\n' ' ')" "auto " "prune keeps the network in use"
	"$CCTL" rm -f att >/dev/null
else
	skip "a network with a container" "no Alpine tarball"
fi
run_cctl network prune -f
is "$RC" 0 "network prune -f"
is "$(head -1 <<<"$OUT")" "Deleted Networks:" "prints Docker's heading"
is "$(tail -n +2 <<<"$OUT" | sort | tr '\n' ' ')" "$([[ -n $att ]] && echo "n2 " || echo "auto n2 ")" "and the deleted networks"
run_cctl network ls --filter type=custom -q
is "$OUT" "" "no user network is left"
like "$(nft_table)" "${subnet//./\\.}" "the default bridge keeps its rules"
run_cctl network prune -f
is "$RC/$OUT" "0/" "a second prune deletes nothing"

# --bip gives the default bridge's address; --bridge none makes no bridge and no table.
DAEMON_NETNS=1 start_daemon bip --bip 10.99.0.1/24 || exit 1
like "$(in_netns ip -o -4 addr show dev containd0)" "inet 10\.99\.0\.1/24 " "--bip: containd0 has that address"
run_cctl network inspect --format '{{json .IPAM.Config}}' bridge
is "$OUT" '[{"Subnet":"10.99.0.0/24","Gateway":"10.99.0.1"}]' "--bip: the bridge network's subnet and gateway"
DAEMON_NETNS=1 start_daemon opts --ip-masq=false --nft-table ctdt_t --ip-forward=false || exit 1
is "$(in_netns cat /proc/sys/net/ipv4/ip_forward)" 0 "--ip-forward=false: forwarding is left off"
unlike "$(in_netns nft list table ip ctdt_t)" "forwarding for its bridges only" "and there is no forward guard"
is "$(in_netns nft list tables)" "table ip ctdt_t" "--nft-table: containd's table has that name"
unlike "$(in_netns nft list table ip ctdt_t)" "outbound from" "--ip-masq=false: no outbound masquerade"
run_cctl network inspect bridge
is "$(jq -r '.[0].Options["com.docker.network.bridge.enable_ip_masquerade"]' <<<"$OUT")" false "and inspect says so"
DAEMON_NETNS=1 start_daemon nobridge --bridge none || exit 1
is "$(links | tr '\n' ' ')" "lo " "--bridge none: no bridge is created"
is "$(in_netns nft list tables)" "" "--bridge none: no nft table either"
is "$(in_netns cat /proc/sys/net/ipv4/ip_forward)" 0 "--bridge none: forwarding is left alone"
run_cctl network ls --format '{{.Name}}'
is "$(tr '\n' ' ' <<<"$OUT")" "host none " "--bridge none: no bridge network"

# A containd0 that exists already with an address (another daemon's, the admin's) keeps it: the
# default network takes its subnet rather than stacking a second address on the bridge.
new_netns || exit 1
nsenter --net="/run/netns/$NEW_NETNS" sh -c 'ip link add containd0 type bridge && ip addr add 10.97.5.1/24 dev containd0' ||
	fail "cannot make a bridge in the test's netns"
DAEMON_NETNS=$NEW_NETNS start_daemon adopt || exit 1
is "$(in_netns ip -o -4 addr show dev containd0 | awk '{ print $4 }' | tr '\n' ' ')" "10.97.5.1/24 " \
	"an existing containd0 keeps its one address"
run_cctl network inspect --format '{{json .IPAM.Config}}' bridge
is "$OUT" '[{"Subnet":"10.97.5.0/24","Gateway":"10.97.5.1"}]' "and the bridge network takes its subnet"

# The same settings from daemon.json.
echo '{"bip": "10.98.0.1/24", "ip-masq": false, "nft-table": "ctdt_cfg"}' >"$TEST_TMP/cfg.json"
DAEMON_NETNS=1 start_daemon cfg --config "$TEST_TMP/cfg.json" || exit 1
like "$(in_netns ip -o -4 addr show dev containd0)" "inet 10\.98\.0\.1/24 " "daemon.json's bip"
is "$(in_netns nft list tables)" "table ip ctdt_cfg" "daemon.json's nft-table"
unlike "$(in_netns nft list table ip ctdt_cfg)" "outbound from" "daemon.json's ip-masq"

# A setting both on the command line and in the config file is an error, as in Docker.
echo '{"bridge": "br0"}' >"$TEST_TMP/daemon.json"
out=$("$CONTAIND" --config "$TEST_TMP/daemon.json" --bridge none --socket "$TEST_TMP/x.sock" 2>&1)
like "$out" '"bridge" is set both as a flag and in' "--bridge and daemon.json's bridge together are refused"

done_testing
