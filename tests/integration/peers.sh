#!/usr/bin/env bash
# No peer can stall the daemon: a flood of silent connections frees itself after the handshake
# deadline, a slow-loris message is cut off, an idle connection is closed, a peer that does not
# read its replies is dropped, and the daemon answers others throughout. Connections that are
# owed something (an attached run, a wait) survive the idle timeout.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 missing"; exit 0; }

HANDSHAKE=5 REQUEST=2 IDLE=3
# start_daemon runs $CONTAIND with fixed options; a wrapper adds the short deadlines.
REAL_CONTAIND=$CONTAIND
CONTAIND=$TEST_TMP/containd-short
cat >"$CONTAIND" <<EOF
#!/bin/sh
exec "$REAL_CONTAIND" "\$@" --handshake-timeout $HANDSHAKE --request-timeout $REQUEST --idle-timeout $IDLE
EOF
chmod +x "$CONTAIND"
start_daemon || exit 1
import_alpine || exit 1

# The peers, in Python's standard library. Each mode prints one line of facts for the script.
cat >"$TEST_TMP/peer.py" <<'EOF'
import json, os, select, socket, sys, time

path = os.environ["CONTAIND_SOCKET"]
mode = sys.argv[1]
VERSION = (json.dumps({"v": 1, "id": 1, "method": "system.version"}) + "\n").encode()

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def closed_by_peer(s, timeout):
    """Reads (and drops) whatever comes until EOF; True if EOF came within timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
        if not r:
            return False
        try:
            if not s.recv(65536):
                return True
        except ConnectionResetError:
            return True
    return False

if mode == "flood":
    # Opens N connections that never say anything, signals readiness, then counts how many
    # the daemon closed within the hold time.
    n, hold, ready = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    socks = [connect() for _ in range(n)]
    open(ready, "w").close()
    start = time.monotonic()
    closed = 0
    for s in socks:
        if closed_by_peer(s, max(0.0, hold - (time.monotonic() - start))):
            closed += 1
    print(f"opened={n} closed={closed} elapsed={time.monotonic() - start:.1f}")
elif mode == "trickle":
    # Completes one request, then sends the next one byte at a time, every 0.25 s.
    s = connect()
    s.sendall(VERSION)
    f = s.makefile("rb")
    ok = b'"result"' in f.readline()
    start = time.monotonic()
    sent = 0
    cut = False
    for b in VERSION:
        try:
            s.send(bytes([b]))
            sent += 1
        except (BrokenPipeError, ConnectionResetError):
            cut = True
            break
        r, _, _ = select.select([s], [], [], 0.25)
        if r and not s.recv(1):
            cut = True
            break
    print(f"first_ok={ok} cut={cut} sent={sent} of={len(VERSION)} elapsed={time.monotonic() - start:.1f}")
elif mode == "idle":
    # One request, then silence: still open shortly after, closed once the idle time passed.
    s = connect()
    s.sendall(VERSION)
    s.makefile("rb").readline()
    start = time.monotonic()
    early = closed_by_peer(s, 1.0)
    late = early or closed_by_peer(s, 15.0)
    print(f"closed_early={early} closed={late} elapsed={time.monotonic() - start:.1f}")
elif mode == "noread":
    # Sends many requests and never reads the replies: once they stop fitting in the socket
    # buffer, the daemon must drop the connection rather than queue without bound.
    s = connect()
    s.setblocking(False)
    batch = VERSION * 100
    start = time.monotonic()
    sent = 0
    dropped = False
    while time.monotonic() - start < 20:
        try:
            sent += s.send(batch)
        except BlockingIOError:
            time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            dropped = True
            break
    print(f"dropped={dropped} sent_kib={sent // 1024} elapsed={time.monotonic() - start:.1f}")
elif mode == "stalled":
    # Asks for about 400 KiB of replies (more than the socket buffer, far less than the queue
    # cap), never reads them and goes quiet: only the write deadline can catch this one.
    wait = float(sys.argv[2])
    s = connect()
    s.sendall(VERSION * 5000)
    time.sleep(wait)
    try:
        s.send(VERSION)
        s.send(VERSION)
        dropped = False
    except (BrokenPipeError, ConnectionResetError):
        dropped = True
    print(f"dropped={dropped}")
EOF
peer() { python3 "$TEST_TMP/peer.py" "$@"; }

# time_cctl DESC ARGS...: runs cctl, prints how long it took, passes when it succeeded.
time_cctl() {
	local desc=$1 t0 t1
	shift
	t0=$(date +%s%N)
	run_cctl "$@"
	t1=$(date +%s%N)
	diag "$desc: cctl $* took $(((t1 - t0) / 1000000)) ms (rc $RC)"
	is "$RC" 0 "$desc"
}

# --- A flood below the cap, with a slow-loris peer: others are served at once. ---
rm -f "$TEST_TMP/ready"
peer flood 200 $((HANDSHAKE + 5)) "$TEST_TMP/ready" >"$TEST_TMP/flood1" &
flood_pid=$!
trickle_out=$TEST_TMP/trickle
peer trickle >"$trickle_out" &
trickle_pid=$!
for _ in $(seq 500); do [[ -e $TEST_TMP/ready ]] && break; sleep 0.01; done
time_cctl "cctl version answers while 200 silent connections and a slow-loris peer are open" version
time_cctl "cctl ps answers too" ps
wait "$trickle_pid"
trickle=$(cat "$trickle_out")
diag "slow loris: $trickle"
like "$trickle" 'first_ok=True' "the slow-loris peer's first (complete) request was answered"
like "$trickle" 'cut=True' "a message trickling in byte by byte is cut off (request deadline ${REQUEST}s)"
wait "$flood_pid"
flood=$(cat "$TEST_TMP/flood1")
diag "flood below the cap: $flood"
like "$flood" '^opened=200 closed=200 ' "connections that never send a request are closed (handshake deadline ${HANDSHAKE}s)"
like "$flood" 'elapsed=[4-9]' "not before the deadline"

# --- A flood over the cap: a newcomer is refused while every silent connection is fresh; once
# they have said nothing for a second, the oldest makes room for it, well before the handshake
# deadline frees them all. ---
rm -f "$TEST_TMP/ready"
peer flood 300 $((HANDSHAKE + 5)) "$TEST_TMP/ready" >"$TEST_TMP/flood2" &
flood_pid=$!
for _ in $(seq 500); do [[ -e $TEST_TMP/ready ]] && break; sleep 0.01; done
t_ready=$(date +%s%N)
run_cctl version
ms=$((($(date +%s%N) - t_ready) / 1000000))
diag "with 300 fresh silent connections: cctl version rc $RC after $ms ms: $ERR"
if ((ms < 800)); then
	is "$RC" 125 "a new client is refused while the cap is taken by fresh connections"
	like "$ERR" 'too many connections' "and told why"
else
	skip "a new client is refused while the cap is taken by fresh connections" "too slow here (${ms} ms)"
	skip "and told why"
fi
sleep 1.5
t0=$(date +%s%N)
run_cctl ps
diag "with the flood one second old: cctl ps rc $RC after $((($(date +%s%N) - t0) / 1000000)) ms"
is "$RC" 0 "a silent connection makes room for a new client (before the handshake deadline)"
is "$(grep -c 'has sent nothing; closing it to make room' "$DAEMON_DIR/log")" 1 "the daemon logs the eviction, once"
for _ in $(seq 100); do run_cctl version; [[ $RC == 0 ]] || break; done
is "$RC" 0 "a hundred more clients are served one after the other while the flood is open"
wait "$flood_pid"
flood=$(cat "$TEST_TMP/flood2")
diag "flood over the cap: $flood"
like "$flood" '^opened=300 closed=300 ' "every flooding connection was closed (evicted, timed out or refused at the cap)"
check "the daemon logs the handshake deadline" grep -q 'sent no complete request in time' "$DAEMON_DIR/log"
run_cctl ps
is "$RC" 0 "cctl ps works after the flood"

# --- Idle connections are closed; owed ones are not. ---
idle=$(peer idle)
diag "idle: $idle"
like "$idle" 'closed_early=False' "a connection is not closed just after its request"
like "$idle" 'closed=True' "an idle connection is closed after --idle-timeout ${IDLE}s"

t0=$(date +%s)
run_cctl run --rm alpine sh -c "sleep $((IDLE + 2)); echo done"
is "$RC" 0 "cctl run attached to a container longer than the idle timeout gets its exit status"
is "$OUT" "done" "and its output"
diag "attached run took $(($(date +%s) - t0)) s"

run_cctl run -d --name waited alpine sh -c "sleep $((IDLE + 2)); exit 7"
is "$RC" 0 "a detached container starts"
run_cctl wait waited
is "$RC" 0 "cctl wait longer than the idle timeout returns"
is "$OUT" "7" "with the container's exit code"
run_cctl rm waited

# --- A peer that never reads its replies is dropped, and the daemon stays responsive. ---
peer noread >"$TEST_TMP/noread" &
noread_pid=$!
sleep 0.5
time_cctl "cctl version answers while a peer floods requests without reading" version
wait "$noread_pid"
noread=$(cat "$TEST_TMP/noread")
diag "non-reading peer: $noread"
like "$noread" 'dropped=True' "a peer that does not read its replies is disconnected"
time_cctl "cctl version answers afterwards" version
stalled=$(peer stalled $((REQUEST * 2 + 1)))
diag "stalled reader: $stalled"
like "$stalled" 'dropped=True' "a peer whose queued replies make no progress is disconnected (request deadline)"

rc=0
err=$("$REAL_CONTAIND" --idle-timeout soon 2>&1) || rc=$?
is "$rc" 1 "a malformed timeout is refused"
like "$err" 'whole seconds' "with a usage message"

done_testing
