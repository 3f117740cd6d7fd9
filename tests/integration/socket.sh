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

# Even if the socket file is opened up, the daemon checks the peer's credentials itself.
chmod 666 "$sock"
rc=0; err=$(as_nobody "$CCTL" version 2>&1) || rc=$?
is "$rc" 125 "SO_PEERCRED refuses a non-root peer that is not in the socket's group"
like "$err" 'permission denied' "with the daemon's permission_denied message"
chmod 660 "$sock"

# A second daemon may not take over a live socket.
rc=0
"$CONTAIND" --socket "$sock" --root "$TEST_TMP/r2" --state "$TEST_TMP/s2" 2>"$TEST_TMP/second.log" || rc=$?
is "$rc" 1 "a second daemon on the same socket path refuses to start"
like "$(cat "$TEST_TMP/second.log")" 'another daemon is listening' "and says why"
run_cctl version
is "$RC" 0 "the first daemon still answers"

# --group lets the members of a group in; others stay out.
gid=$(getent group users | cut -d: -f3)
start_daemon grouped || exit 1
gsock=$CONTAIND_SOCKET
chmod 755 "$DAEMON_DIR"
DAEMON_PIDS=("${DAEMON_PIDS[@]:0:1}")
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
"$CONTAIND" --socket "$gsock" --root "$DAEMON_DIR/root" --state "$DAEMON_DIR/state" --group users 2>>"$DAEMON_DIR/log" &
DAEMON_PIDS+=($!)
DAEMON_PID=$!
for _ in $(seq 500); do [[ -S $gsock ]] && break; sleep 0.01; done
is "$(stat -c '%a %G' "$gsock")" "660 users" "with --group the socket belongs to that group"
rc=0; out=$(setpriv --reuid 65534 --regid 65534 --groups "$gid" "$CCTL" --socket "$gsock" version 2>&1) || rc=$?
is "$rc" 0 "a member of the group may use the socket"
rc=0; out=$(as_nobody "$CCTL" --socket "$gsock" version 2>&1) || rc=$?
is "$rc" 125 "a non-member may not"

# SIGTERM removes the socket file.
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
DAEMON_PIDS=("${DAEMON_PIDS[@]:0:1}")
[[ ! -e $gsock ]] && pass "SIGTERM removes the socket file" || fail "SIGTERM removes the socket file"

# A stale socket file left by a crash does not stop a new daemon.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$TEST_TMP/stale.sock"
"$CONTAIND" --socket "$TEST_TMP/stale.sock" --root "$TEST_TMP/r3" --state "$TEST_TMP/s3" 2>"$TEST_TMP/stale.log" &
DAEMON_PIDS+=($!)
DAEMON_DIRS+=("$TEST_TMP")
ok_stale=0
for _ in $(seq 500); do "$CCTL" --socket "$TEST_TMP/stale.sock" version >/dev/null 2>&1 && { ok_stale=1; break; }; sleep 0.01; done
is "$ok_stale" 1 "a stale socket file is replaced"
mv "$TEST_TMP/stale.log" "$TEST_TMP/log"
done_testing
