#!/usr/bin/env bash
# Two daemons with their own socket, root and state run side by side without seeing each other.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon one || exit 1
sock1=$CONTAIND_SOCKET
import_alpine
start_daemon two || exit 1
sock2=$CONTAIND_SOCKET
import_alpine

a=$(CONTAIND_SOCKET=$sock1 "$CCTL" run -d --name same alpine sleep 1000)
b=$(CONTAIND_SOCKET=$sock2 "$CCTL" run -d --name same alpine sleep 1000)
record_id "$a"
record_id "$b"
[[ -n $a && -n $b && $a != "$b" ]] && pass "both daemons run a container named 'same'" || fail "both daemons run a container named 'same'"
l1=$(CONTAIND_SOCKET=$sock1 "$CCTL" ps -q)
l2=$("$CCTL" --socket "$sock2" ps -q)
[[ -n $a && $l1 == "${a:0:12}" ]] && pass "daemon one lists only its container" || fail "daemon one lists only its container ('$l1')"
[[ -n $b && $l2 == "${b:0:12}" ]] && pass "daemon two (via --socket) lists only its container" || fail "daemon two (via --socket) lists only its container ('$l2')"
CONTAIND_SOCKET=$sock1 "$CCTL" rm -f same >/dev/null
run_cctl --socket "$sock2" inspect same
like "$OUT" '"state": "running"' "removing on one daemon leaves the other's container alone"
"$CCTL" --socket "$sock2" rm -f same >/dev/null
[[ -z "$(leftover_cgroups)" ]] && pass "no cgroups left behind" || fail "no cgroups left behind"
done_testing
