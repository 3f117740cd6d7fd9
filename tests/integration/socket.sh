#!/usr/bin/env bash
# The control socket: mode 0660, peer checks (root or the socket's group), one daemon per path,
# the socket file removed on SIGTERM.
source "$(dirname "$0")/../lib.sh"
need_root
command -v setpriv >/dev/null || { echo "1..0 # SKIP setpriv (util-linux) missing"; exit 0; }
start_daemon || exit 1
sock=$CONTAIND_SOCKET
# Let other users reach the socket's directory, so only the socket itself decides.
chmod 755 "$TEST_TMP" "$DAEMON_DIR"

is "$(stat -c '%a %U %G' "$sock")" "660 root root" "the socket is mode 0660, root:root"
as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
rc=0; err=$(as_nobody "$CCTL" version 2>&1) || rc=$?
is "$rc" 125 "an unprivileged user cannot use the socket"
like "$err" 'ermission denied' "and is told why"

# Even if the socket file is opened up, the daemon checks the peer's credentials itself: the
# refusal then comes from the daemon (its permission_denied message, its log), not from connect().
chmod 666 "$sock"
rc=0; err=$(as_nobody "$CCTL" version 2>&1) || rc=$?
is "$rc" 125 "SO_PEERCRED refuses a non-root peer that is not in the socket's group"
like "$err" "permission denied: containd accepts root and the socket's group" "with the daemon's permission_denied message"
like "$(grep 'refused client' "$DAEMON_DIR/log")" 'uid 65534' "and the daemon logs the refusal"
chmod 660 "$sock"

# A second daemon may not take over a live socket.
rc=0
"$CONTAIND" "${NO_BRIDGE[@]}" --socket "$sock" --root "$TEST_TMP/r2" --state "$TEST_TMP/s2" 2>"$TEST_TMP/second.log" || rc=$?
is "$rc" 1 "a second daemon on the same socket path refuses to start"
like "$(cat "$TEST_TMP/second.log")" 'another daemon is listening' "and says why"
run_cctl version
is "$RC" 0 "the first daemon still answers"

# --group lets the members of a group in (by primary or supplementary gid); others stay out. The
# socket is then opened up to everyone, so only the daemon's own check can keep a non-member out.
gid=$(getent group users | cut -d: -f3)
[[ -n $gid ]] || { fail "the group 'users' exists"; done_testing; exit; }
start_daemon grouped --group users || exit 1
gsock=$CONTAIND_SOCKET
chmod 755 "$DAEMON_DIR"
is "$(stat -c '%a %G' "$gsock")" "660 users" "with --group the socket belongs to that group"
rc=0; out=$(setpriv --reuid 65534 --regid 65534 --groups "$gid" "$CCTL" --socket "$gsock" version 2>&1) || rc=$?
is "$rc" 0 "a member of the group may use the socket"
like "$out" 'Cgroup layout' "and gets the server's answer"
rc=0; out=$(as_nobody "$CCTL" --socket "$gsock" version 2>&1) || rc=$?
is "$rc" 125 "a non-member may not"
chmod 666 "$gsock"
rc=0; out=$(as_nobody "$CCTL" --socket "$gsock" version 2>&1) || rc=$?
is "$rc" 125 "the daemon refuses a non-member even when the socket's mode lets it connect"
like "$out" "permission denied: containd accepts root and the socket's group" "with its permission_denied message"
unlike "$out" 'Cgroup layout' "and no server answer"
like "$(grep 'refused client' "$DAEMON_DIR/log")" 'uid 65534' "and logs the refusal"
rc=0; out=$(setpriv --reuid 65534 --regid 65534 --groups "$gid" "$CCTL" --socket "$gsock" version 2>&1) || rc=$?
is "$rc" 0 "a member by supplementary group is accepted by the daemon's check"
rc=0; out=$(setpriv --reuid 65534 --regid "$gid" --clear-groups "$CCTL" --socket "$gsock" version 2>&1) || rc=$?
is "$rc" 0 "a member by primary group is accepted by the daemon's check"
like "$out" 'Cgroup layout' "and gets the server's answer"

# A member of the group names bind sources with its own rights, not the daemon's: a directory it
# cannot reach is neither looked into nor made; one it can reach is made, and is its own; root's
# requests are unchanged.
import_alpine >/dev/null || fail "import alpine into the grouped daemon"
mkdir -p "$TEST_TMP/private" "$TEST_TMP/open"
chmod 700 "$TEST_TMP/private"
chmod 777 "$TEST_TMP/open"
as_member() { setpriv --reuid 65534 --regid 65534 --groups "$gid" "$@"; }
rc=0; out=$(as_member "$CCTL" --socket "$gsock" run --rm -v "$TEST_TMP/private/new:/x" alpine true 2>&1) || rc=$?
is "$rc" 125 "a member's bind source in a directory it cannot reach is refused"
like "$out" 'ermission denied' "with the permission error the member itself would get"
[[ ! -e $TEST_TMP/private/new ]] && pass "and nothing was made there" || fail "and nothing was made there"
rc=0; out=$(as_member "$CCTL" --socket "$gsock" run --rm -v "$TEST_TMP/open/new/sub:/x" alpine true 2>&1) || rc=$?
is "$rc" 0 "a member's missing bind source where it may write is made ($out)"
is "$(stat -c '%u' "$TEST_TMP/open/new/sub" 2>&1)" 65534 "and belongs to the member, not to root"
rc=0; out=$("$CCTL" --socket "$gsock" run --rm -v "$TEST_TMP/private/by-root:/x" alpine true 2>&1) || rc=$?
is "$rc" 0 "root's bind source in the same directory is made ($out)"
is "$(stat -c '%u' "$TEST_TMP/private/by-root" 2>&1)" 0 "and belongs to root"
rc=0; out=$(as_member "$CCTL" --socket "$gsock" version 2>&1) || rc=$?
is "$rc" 0 "the daemon still serves the member afterwards (its own identity was restored)"
run_cctl --socket "$gsock" run --rm -v "$TEST_TMP/private/by-root:/x" alpine ls -ld /x
is "$RC" 0 "and root's next run still reaches the private directory"

# SIGTERM removes the socket file.
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
DAEMON_PIDS=("${DAEMON_PIDS[@]:0:1}")
DAEMON_DIRS=("${DAEMON_DIRS[@]:0:1}")
[[ ! -e $gsock ]] && pass "SIGTERM removes the socket file" || fail "SIGTERM removes the socket file"

# A stale socket file left by a crash does not stop a new daemon.
mkdir "$TEST_TMP/stale"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$TEST_TMP/stale/stale.sock"
"$CONTAIND" "${NO_BRIDGE[@]}" --socket "$TEST_TMP/stale/stale.sock" --root "$TEST_TMP/stale/root" --state "$TEST_TMP/stale/state" 2>"$TEST_TMP/stale/log" &
DAEMON_PIDS+=($!)
DAEMON_DIRS+=("$TEST_TMP/stale")
ok_stale=0
for _ in $(seq 500); do "$CCTL" --socket "$TEST_TMP/stale/stale.sock" version >/dev/null 2>&1 && { ok_stale=1; break; }; sleep 0.01; done
is "$ok_stale" 1 "a stale socket file is replaced"
done_testing
