#!/usr/bin/env bash
# Outbound NAT: a container on the default bridge and one on a user network reach a server in
# an "outside world" (a second network namespace this test makes, linked by a veth pair to the
# daemon's namespace, which routes to it by default), and the server sees the daemon namespace's
# address as their source: masqueraded. An internal network does not get out. No packet leaves
# this machine: the outside is a namespace of the test.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine

DAEMON_NETNS=1 start_daemon d || exit 1
import_alpine || exit 1
new_netns || exit 1
out=$NEW_NETNS
# The pair is made with each end directly in its namespace: nothing appears on the host.
ip link add ctdt-in netns "$NETNS" type veth peer name ctdt-out netns "$out" || fail "make the outside's link"
in_netns ip addr add 10.250.0.1/30 dev ctdt-in
in_netns ip link set ctdt-in up
ip -n "$out" addr add 10.250.0.2/30 dev ctdt-out
ip -n "$out" link set ctdt-out up
in_netns ip route add default via 10.250.0.2

# serve: one connection at a time, for each the peer's address back and in the log.
ip netns exec "$out" timeout 60 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.250.0.2", 8080)); s.listen(8); s.settimeout(50)
while True:
    c, a = s.accept()
    c.sendall((a[0] + "\n").encode()); c.close()
    open(sys.argv[1], "a").write(a[0] + "\n")' "$TEST_TMP/seen" &
srv=$!
trap 'kill $srv 2>/dev/null; cleanup' EXIT
sleep 0.5

is "$("$CCTL" run --rm alpine nc -w 3 10.250.0.2 8080 </dev/null)" 10.250.0.1 \
	"default bridge -> outside: the server sees the daemon's address (masquerade)"
"$CCTL" network create up >/dev/null || fail "network create up"
is "$("$CCTL" run --rm --network up alpine nc -w 3 10.250.0.2 8080 </dev/null)" 10.250.0.1 \
	"user network -> outside: masqueraded too"
check "the container address never reached the outside" sh -c "! grep -qv '^10.250.0.1\$' '$TEST_TMP/seen'"
if "$CCTL" network create --internal closed >/dev/null 2>&1; then
	run_cctl run --rm --network closed alpine nc -w 2 10.250.0.2 8080
	check "an internal network does not get out" test -z "$OUT"
fi
kill "$srv" 2>/dev/null
done_testing
