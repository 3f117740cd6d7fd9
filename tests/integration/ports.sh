#!/usr/bin/env bash
# Published ports (-p, -P, --expose, cctl port), all inside a network namespace of the test's own
# (DAEMON_NETNS=1): a real server (busybox nc) in a container reached from the daemon's netns
# on 127.0.0.1 and on its own address, from a "remote machine" (a second netns on a veth), from
# another container through the gateway (hairpin), UDP, random host ports, -P with an image's
# ExposedPorts and with --expose, an address-specific binding, a port held against host
# processes, conflicts and invalid specs refused with nothing changed, the rules gone after stop
# and rm, and no fd leaked by the daemon over publish/unpublish cycles.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
command -v nft >/dev/null || { echo "1..0 # SKIP no nft"; exit 0; }

# --prepared 0: no pool of spares that grows with the demand, so the daemon's fds can be compared.
DAEMON_NETNS=1 start_daemon d --prepared 0 || exit 1
import_alpine || exit 1

# An image with ExposedPorts (80/tcp, 53/udp): Alpine's OCI archive with them in its config.
ALPINE_OCI=${ALPINE_OCI:-$(dirname "$ALPINE_TARBALL")/alpine-oci.tar}
python3 - "$TEST_TMP/webimg" "$ALPINE_OCI" <<'PY' || fail "build an image with ExposedPorts"
import hashlib, io, json, os, sys, tarfile
out, src = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
t = tarfile.open(src)
files = {m.name.lstrip("./"): t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
def put(data):
    h = hashlib.sha256(data).hexdigest()
    files["blobs/sha256/" + h] = data
    return "sha256:" + h, len(data)
index = json.loads(files["index.json"])
mdesc = index["manifests"][0]
manifest = json.loads(files["blobs/sha256/" + mdesc["digest"].split(":")[1]])
config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]])
config.setdefault("config", {})["ExposedPorts"] = {"80/tcp": {}, "53/udp": {}}
manifest["config"]["digest"], manifest["config"]["size"] = put(json.dumps(config).encode())
mdesc["digest"], mdesc["size"] = put(json.dumps(manifest).encode())
mdesc["annotations"] = {"org.opencontainers.image.ref.name": "webimg:latest"}
files["index.json"] = json.dumps(index).encode()
files.pop("manifest.json", None)
with tarfile.open(out + ".tar", "w") as w:
    for name, data in files.items():
        i = tarfile.TarInfo(name)
        i.size = len(data)
        w.addfile(i, io.BytesIO(data))
PY
run_cctl load -i "$TEST_TMP/webimg.tar"
is "$RC" 0 "load an image with ExposedPorts"

gw=$(in_netns ip -4 -o addr show dev containd0 | awk '{ split($4, a, "/"); print a[1] }')
[[ -n $gw ]] && pass "the default bridge has a gateway address ($gw)" || fail "the default bridge has a gateway address"

# The "remote machine": a netns on a veth to the daemon's, 10.231.0.2 -> 10.231.0.1.
new_netns || exit 1
REMOTE=$NEW_NETNS
in_netns ip link add ctp0 type veth peer name ctp1 netns "$REMOTE"
in_netns ip addr add 10.231.0.1/24 dev ctp0
in_netns ip link set ctp0 up
ip -n "$REMOTE" addr add 10.231.0.2/24 dev ctp1
ip -n "$REMOTE" link set ctp1 up

# A web server in a container: Alpine's busybox has no httpd, so busybox nc serves every
# connection with a script that reads the request's headers and answers with the host name.
HTTP_SCRIPT='#!/bin/sh
while IFS= read -r l && [ ${#l} -gt 1 ]; do :; done
printf "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from %s\n" "$(hostname)"
'
WEB_CMD='printf "%s" "$HTTP_SCRIPT" >/http && chmod +x /http && exec nc -lk -p 80 -e /http'

# get URL [NS]: the page (curl, 2 s at most), from the daemon's netns or NS.
get() {
	if [[ -n ${2:-} ]]; then
		ip netns exec "$2" curl -s --max-time 2 "$1"
	else
		in_netns curl -s --max-time 2 "$1"
	fi
}

# wait_get URL: waits (5 s at most) until the page answers.
wait_get() {
	local i
	for i in $(seq 50); do
		get "$1" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

nft_table() { in_netns nft list table ip containd 2>/dev/null; }
# nft_port PORT: the table's element for host port PORT (in the maps of published ports, one a
# protocol and kind: "8080 : 172.17.0.2 . 80", "127.0.0.1 . 8080 : ..."), or nothing.
nft_port() { nft_table | grep -oE "[{ ,]([0-9.]+ \. )?$1 : [0-9.]+ \. [0-9]+"; }

run_cctl run -d --name web -p 8080:80 -e HTTP_SCRIPT="$HTTP_SCRIPT" alpine sh -c "$WEB_CMD"
is "$RC" 0 "run -d -p 8080:80 a web server"
wait_get http://127.0.0.1:8080/ || diag "$(cat "$DAEMON_DIR/log" | tail -20)"
like "$(get http://127.0.0.1:8080/)" "^hello from" "reached on 127.0.0.1:8080 from the host side"
like "$(get http://10.231.0.1:8080/)" "^hello from" "reached on the daemon netns' own address"
like "$(get http://10.231.0.1:8080/ "$REMOTE")" "^hello from" "reached from a remote machine"
run_cctl run --rm alpine wget -qO- -T 2 "http://$gw:8080/"
like "$OUT" "^hello from" "reached from another container through the gateway (hairpin)"
run_cctl exec web wget -qO- -T 2 "http://$gw:8080/"
like "$OUT" "^hello from" "reached from the container itself through its published port"
is "$(get http://127.0.0.1:8081/)" "" "an unpublished port answers nothing"

# What cctl shows of it.
run_cctl port web
is "$OUT" "80/tcp -> 0.0.0.0:8080" "cctl port lists the mapping as docker port"
run_cctl port web 80
is "$OUT" "0.0.0.0:8080" "cctl port CTR 80"
run_cctl port web 81
is "$RC" 1 "cctl port of an unpublished port exits 1"
is "$ERR" "cctl: Error: No public port '81/tcp' published for web" "with Docker's message"
run_cctl port web 80/udp
is "$RC" 1 "the protocol counts (80/udp is not 80/tcp)"
run_cctl inspect --format '{{json .NetworkSettings.Ports}}' web
is "$OUT" '{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}' "inspect: NetworkSettings.Ports"
run_cctl inspect --format '{{json .HostConfig.PortBindings}} {{json .Config.ExposedPorts}}' web
is "$OUT" '{"80/tcp":[{"HostIp":"","HostPort":"8080"}]} {"80/tcp":{}}' "inspect: HostConfig.PortBindings, Config.ExposedPorts"
run_cctl ps --format '{{.Names}} {{.Ports}}' --filter name=web
is "$OUT" "web 0.0.0.0:8080->80/tcp" "ps: the PORTS column"
like "$("$CCTL" ps)" "PORTS +NAMES" "ps's table has a PORTS column"
like "$(nft_port 8080)" ": 172\.[0-9.]+ \. 80$" "the nft table has the port's rule"

# The port is held against host processes while published.
in_netns python3 -c 'import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 8080))' 2>/dev/null
check "a host process cannot bind the published port" test $? != 0

# A second container on the same port: refused, nothing changed.
nft_before=$(nft_table)
n_before=$("$CCTL" ps -aq | wc -l)
run_cctl run -d --name web2 -p 8080:80 alpine sleep 100
is "$RC" 125 "a port already published: exit 125"
like "$ERR" "Bind for 0.0.0.0:8080 failed: port is already allocated" "with Docker's message"
run_cctl run -d --name web3 -p 127.0.0.1:8080:80/tcp alpine sleep 100
like "$ERR" "Bind for 127.0.0.1:8080 failed: port is already allocated" "an address within 0.0.0.0 conflicts too"
is "$("$CCTL" ps -aq | wc -l)" "$n_before" "no container was left behind"
is "$(nft_table)" "$nft_before" "the nft table is unchanged"
like "$(get http://127.0.0.1:8080/)" "^hello from" "and the first one still serves"

# A host process on a port: publishing it is refused.
in_netns python3 -c 'import socket, time; s = socket.socket(); s.bind(("0.0.0.0", 8090)); s.listen(); time.sleep(30)' &
holder=$!
for _ in $(seq 50); do
	in_netns ss -Htln 'sport = :8090' | grep -q . && break
	sleep 0.1
done
run_cctl run -d --name web4 -p 8090:80 alpine sleep 100
is "$RC" 125 "a port a host process holds: exit 125"
like "$ERR" "0.0.0.0:8090.*(in use|allocated)" "with the reason"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
"$CCTL" rm -f web4 >/dev/null 2>&1

# UDP.
run_cctl run -d --name udp -p 5353:53/udp alpine sh -c 'nc -u -l -p 53 >/tmp/got'
sleep 0.5
for _ in 1 2 3; do
	in_netns python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"ping-udp\n", ("127.0.0.1", 5353))'
	sleep 0.3
	[[ $("$CCTL" exec udp cat /tmp/got 2>/dev/null) == ping-udp* ]] && break
done
like "$("$CCTL" exec udp cat /tmp/got 2>/dev/null)" "^ping-udp" "a UDP datagram to 127.0.0.1:5353 reaches the container"
run_cctl port udp
is "$OUT" "53/udp -> 0.0.0.0:5353" "cctl port shows the UDP mapping"
"$CCTL" rm -f udp >/dev/null

# A random host port: in the netns' ephemeral range, shown by cctl port, reachable.
read -r lo hi < <(in_netns cat /proc/sys/net/ipv4/ip_local_port_range)
run_cctl run -d --name rnd -p 80 -e HTTP_SCRIPT="$HTTP_SCRIPT" alpine sh -c "$WEB_CMD"
hp=$("$CCTL" port rnd 80)
hp=${hp##*:}
check "-p 80 got a host port in the ephemeral range ($hp in $lo-$hi)" test "${hp:-0}" -ge "$lo" -a "${hp:-0}" -le "$hi"
wait_get "http://127.0.0.1:$hp/"
like "$(get "http://127.0.0.1:$hp/")" "^hello from" "and it is reachable"

# -P with --expose, and with the image's ExposedPorts.
run_cctl run -d --name pall --expose 80 -P -e HTTP_SCRIPT="$HTTP_SCRIPT" alpine sh -c "$WEB_CMD"
hp=$("$CCTL" port pall 80)
hp=${hp##*:}
check "-P --expose 80 publishes 80 on a random port ($hp)" test "${hp:-0}" -ge "$lo" -a "${hp:-0}" -le "$hi"
wait_get "http://127.0.0.1:$hp/"
like "$(get "http://127.0.0.1:$hp/")" "^hello from" "and it is reachable"
run_cctl run -d --name pimg -P -e HTTP_SCRIPT="$HTTP_SCRIPT" webimg sh -c "$WEB_CMD"
run_cctl port pimg
like "$OUT" $'^53/udp -> 0.0.0.0:[0-9]+\n80/tcp -> 0.0.0.0:[0-9]+$' "-P publishes the image's ExposedPorts (80/tcp, 53/udp)"
hp=$("$CCTL" port pimg 80)
hp=${hp##*:}
wait_get "http://127.0.0.1:$hp/"
like "$(get "http://127.0.0.1:$hp/")" "^hello from" "the image's exposed port is reachable"
run_cctl run -d --name expo webimg sleep 100
run_cctl ps --format '{{.Ports}}' --filter name=expo
is "$OUT" "53/udp, 80/tcp" "ps shows exposed, unpublished ports"
"$CCTL" rm -f rnd pall pimg expo >/dev/null

# Ranges: equal lengths publish one port each; a host range with one container port takes the
# first free port of the range.
run_cctl run -d --name rng -p 8100-8101:80-81 -p 8102:82/udp alpine sleep 100
run_cctl port rng
is "$OUT" $'80/tcp -> 0.0.0.0:8100\n81/tcp -> 0.0.0.0:8101\n82/udp -> 0.0.0.0:8102' "-p 8100-8101:80-81 publishes both"
run_cctl run -d --name rng2 -p 8100-8105:80 alpine sleep 100
is "$("$CCTL" port rng2 80)" "0.0.0.0:8102" "-p 8100-8105:80 takes the first free port of the range (8102/udp is another port)"
run_cctl run -d --name rng3 -p 8100-8102:80 alpine sleep 100
is "$RC" 125 "a host range with no free port: exit 125"
like "$ERR" "Bind for 0.0.0.0:8100-8102 failed: port is already allocated" "with Docker's message"
"$CCTL" rm -f rng rng2 >/dev/null

# An address-specific binding: only that address.
run_cctl run -d --name lo -p 127.0.0.1::80 -e HTTP_SCRIPT="$HTTP_SCRIPT" alpine sh -c "$WEB_CMD"
hp=$("$CCTL" port lo 80)
like "$hp" "^127\.0\.0\.1:[0-9]+$" "-p 127.0.0.1::80: cctl port shows the address"
hp=${hp##*:}
wait_get "http://127.0.0.1:$hp/"
like "$(get "http://127.0.0.1:$hp/")" "^hello from" "reachable on 127.0.0.1"
is "$(get "http://10.231.0.1:$hp/")" "" "not on the other address"
"$CCTL" rm -f lo >/dev/null

# Invalid specs: cctl's errors, exit 125, nothing created.
n_before=$("$CCTL" ps -aq | wc -l)
for spec in 70000:80 abc 80/sctpx 1.2.3:80:80; do
	run_cctl run -d -p "$spec" alpine true
	is "$RC" 125 "-p $spec: exit 125"
done
run_cctl run -d -p 70000:80 alpine true
like "$ERR" "Invalid hostPort: 70000" "-p 70000:80: Docker's message"
run_cctl run -d -p abc alpine true
like "$ERR" "invalid containerPort: abc" "-p abc: Docker's message"
run_cctl run -d -p 80/sctpx alpine true
like "$ERR" "invalid proto: sctpx" "-p 80/sctpx: Docker's message"
run_cctl run -d -p 1-1025:1-1025 alpine true
is "$RC" 125 "more than 1024 published ports: exit 125"
like "$ERR" "too many published ports" "with the reason"
run_cctl run -d --expose 1-1024 -p 2000:2000 alpine true
is "$RC" 125 "more than 1024 exposed ports: exit 125"
like "$ERR" "too many exposed ports" "with the reason"
is "$("$CCTL" ps -aq | wc -l)" "$n_before" "no container was created"

# Stop and rm take the rules away.
"$CCTL" stop -t 1 web >/dev/null
unlike "$(nft_port 8080)" ": 172\.[0-9.]+ \. 80$" "the rule is gone after stop"
is "$(get http://127.0.0.1:8080/)" "" "and the port answers nothing"
run_cctl port web
is "$OUT" "" "cctl port of a stopped container lists nothing"
"$CCTL" start web >/dev/null
wait_get http://127.0.0.1:8080/
like "$(get http://127.0.0.1:8080/)" "^hello from" "published again when started again"
"$CCTL" rm -f web >/dev/null
unlike "$(nft_port 8080)" ": 172\.[0-9.]+ \. 80$" "the rule is gone after rm -f"
in_netns python3 -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 8080))' 2>/dev/null
is "$?" 0 "the host port is free again"

# A user-defined network: the ports lead to the container's address on its bridge.
run_cctl network create pnet
run_cctl run -d --name uweb --network pnet -p 8095:80 -e HTTP_SCRIPT="$HTTP_SCRIPT" alpine sh -c "$WEB_CMD"
is "$RC" 0 "run -p on a user-defined network"
wait_get http://127.0.0.1:8095/
like "$(get http://127.0.0.1:8095/)" "^hello from" "reached on 127.0.0.1"
like "$(get http://10.231.0.1:8095/ "$REMOTE")" "^hello from" "and from the remote machine"
ugw=$(in_netns ip -4 -o addr show | awk '$2 ~ /^cd-/ { split($4, a, "/"); print a[1]; exit }')
run_cctl run --rm --network pnet alpine wget -qO- -T 2 "http://$ugw:8095/"
like "$OUT" "^hello from" "and from a container of that network through its gateway ($ugw)"
run_cctl run --rm alpine wget -qO- -T 2 "http://$gw:8095/"
like "$OUT" "^hello from" "and from a container of another network through the host, as Docker's"
"$CCTL" rm -f uweb >/dev/null
"$CCTL" network rm pnet >/dev/null

# Network modes: host discards the ports (Docker's warning), container:NAME refuses them, none
# publishes nothing; create then start publishes at the start.
run_cctl run --rm --network host -p 8086:80 alpine true
is "$RC" 0 "--network host with -p runs"
like "$ERR" "WARNING: Published ports are discarded when using host network mode" "with Docker's warning"
run_cctl run -d --name shared alpine sleep 100
run_cctl run --rm --network container:shared -p 8087:80 alpine true
is "$RC" 125 "--network container:NAME with -p: exit 125"
like "$ERR" "conflicting options: port publishing and the container type network mode" "with Docker's message"
run_cctl run -d --name nonet --network none -p 8088:80 alpine sleep 100
is "$RC" 0 "--network none with -p runs"
unlike "$(nft_port 8088)" ": 172\.[0-9.]+ \. 80$" "and publishes nothing"
"$CCTL" rm -f shared nonet >/dev/null
run_cctl create --name cr -p 8089:80 -e HTTP_SCRIPT="$HTTP_SCRIPT" alpine sh -c "$WEB_CMD"
unlike "$(nft_port 8089)" ": 172\.[0-9.]+ \. 80$" "a created container publishes nothing yet"
"$CCTL" start cr >/dev/null
wait_get http://127.0.0.1:8089/
like "$(get http://127.0.0.1:8089/)" "^hello from" "cctl start publishes its ports"
"$CCTL" rm -f cr >/dev/null

# Publish/unpublish cycles leak no fd (counted after a first cycle: the daemon keeps caches,
# such as its seccomp programs and netlink sockets, that the first uses make).
"$CCTL" run -d --name cyc -p 9000:80 -p 9001:81/udp -p 90 alpine sleep 100 >/dev/null
"$CCTL" rm -f cyc >/dev/null
fds_before=$(daemon_fds)
for i in $(seq 20); do
	"$CCTL" run -d --name cyc -p 9000:80 -p 9001:81/udp -p 90 alpine sleep 100 >/dev/null
	"$CCTL" rm -f cyc >/dev/null
done
run_cctl run --rm -p 9000:80 alpine true
is "$RC" 0 "a foreground run with -p"
is "$(daemon_fds)" "$fds_before" "no fd leaked after publish/unpublish cycles"
unlike "$(nft_table)" "elements" "no published port is left in the table"

# Live restore: a daemon killed with SIGKILL leaves its container published; the next daemon (in
# the same netns) holds the port again, shows it and removes it with the container.
DAEMON_NETNS=1 start_daemon lr --live-restore --prepared 0 || exit 1
import_alpine || exit 1
run_cctl run -d --name web -p 8080:80 -e HTTP_SCRIPT="$HTTP_SCRIPT" alpine sh -c "$WEB_CMD"
wait_get http://127.0.0.1:8080/
old=$DAEMON_PID
kill -KILL "$old"
for _ in $(seq 500); do kill -0 "$old" 2>/dev/null || break; sleep 0.01; done
wait "$old" 2>/dev/null
STOPPED_PIDS+="$old "
like "$(get http://127.0.0.1:8080/)" "^hello from" "the port answers while no daemon runs"
rm -f "$DAEMON_DIR/containd.sock"
DAEMON_NETNS=$NETNS start_daemon lr --live-restore --prepared 0 || exit 1
run_cctl port web
is "$OUT" "80/tcp -> 0.0.0.0:8080" "the next daemon shows the restored container's port"
like "$(get http://127.0.0.1:8080/)" "^hello from" "and it still answers"
like "$(nft_port 8080)" ": 172\.[0-9.]+ \. 80$" "its rule is in the table the next daemon applied"
in_netns python3 -c 'import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 8080))' 2>/dev/null
check "the next daemon holds the port again" test $? != 0
"$CCTL" rm -f web >/dev/null
unlike "$(nft_port 8080)" ": 172\.[0-9.]+ \. 80$" "removed with the container"

done_testing
