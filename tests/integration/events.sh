#!/usr/bin/env bash
# events.subscribe and cctl events: a container's life as create, start, die (with its exit
# code), destroy in order, live and replayed with --since; --until ends the stream; filters;
# API-side events (rename, pause, unpause, kill, stop); image events (tag, import, untag,
# delete); bad filters and fields refused; a subscriber that never reads is dropped while the
# daemon stays responsive.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
# A short request deadline: the subscriber that does not read is dropped within seconds.
start_daemon d --request-timeout 2 || exit 1
import_alpine

LIVE_PID=
# The live subscriber is ours to stop, before the harness cleans up.
trap '[[ -n $LIVE_PID ]] && kill "$LIVE_PID" 2>/dev/null; cleanup' EXIT

now() { date +%s.%N; }

# raw PARAMS_JSON: sends one events.subscribe with those params and prints the first reply line.
raw() {
	python3 - "$CONTAIND_SOCKET" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(json.dumps({"v": 1, "id": 1, "method": "events.subscribe", "params": json.loads(sys.argv[2])}).encode() + b"\n")
s.settimeout(10)
buf = b""
while b"\n" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        break
    buf += chunk
print(buf.split(b"\n")[0].decode())
PY
}

# A live subscriber, started before anything happens.
"$CCTL" events --format json >"$TEST_TMP/live.txt" 2>"$TEST_TMP/live.err" &
LIVE_PID=$!
sleep 0.5

t0=$(now)
run_cctl run --name ev1 alpine sh -c 'exit 3'
is "$RC" 3 "the container exits with code 3"
id=$("$CCTL" ps -aq --no-trunc -f name=ev1)
record_id "$id"
run_cctl rm ev1
is "$RC" 0 "rm ev1"
t1=$(now)

# --since replays history; --until (already past) ends the stream at once.
run_cctl events --since "$t0" --until "$t1" --format '{{.Action}} {{.Actor.Attributes.name}}'
is "$RC" 0 "events with --since and --until ends by itself"
is "$OUT" "create ev1
start ev1
die ev1
destroy ev1" "run, exit and rm give create, start, die, destroy in order"

run_cctl events --since "$t0" --until "$t1" --filter event=die --format json
like "$OUT" '^\{.*"action":"die".*\}$' "--format json prints the event as a JSON line"
like "$OUT" '"exit_code":3' "die carries the exit code"
like "$OUT" "\"id\":\"$id\"" "the event names the container's id"
like "$OUT" '"time_nano":[0-9]{19}' "the event has time_nano"
is "$(wc -l <<<"$OUT")" 1 "--filter event=die gives the die event only"

run_cctl events --since "$t0" --until "$t1" --filter event=die
like "$OUT" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z container die $id \(exitCode=3, image=alpine, name=ev1\)$" \
	"the default line is docker's: time, type, action, id, attributes"

# RFC 3339 bounds work like unix seconds.
since_rfc=$(date -u -d "@${t0%.*}" +%Y-%m-%dT%H:%M:%SZ)
run_cctl events --since "$since_rfc" --until "$t1" --filter container=ev1 --format '{{.Action}}'
is "$(tr '\n' ' ' <<<"$OUT")" "create start die destroy " "--since as RFC 3339"

# A duration before now, as docker takes it.
run_cctl events --since 10m --until 0s --filter container=ev1 --format '{{.Action}}'
is "$(tr '\n' ' ' <<<"$OUT")" "create start die destroy " "--since 10m --until 0s"
run_cctl events --since 10x --until 0s
like "$ERR" '"since" must be an RFC 3339 time or unix seconds' "a bad duration is refused"

# Filters that match nothing.
run_cctl events --since "$t0" --until "$t1" --filter container=nosuch
is "$RC/$OUT" "0/" "a container filter that matches nothing prints nothing"
run_cctl events --since "$t0" --until "$t1" --filter type=image
is "$RC/$OUT" "0/" "type=image skips container events"
run_cctl events --since "$t0" --until "$t1" --filter "container=${id:0:12}" --filter event=start --filter event=destroy --format '{{.Action}}'
is "$(tr '\n' ' ' <<<"$OUT")" "start destroy " "an id prefix and two event values (or'ed) filter together"

# Without --since only what happens from now on: nothing, and --until in the past ends it.
run_cctl events --until "$t1"
is "$RC/$OUT" "0/" "no --since: no history"

# The live subscriber saw the same four events.
sleep 0.3
live=$(python3 -c 'import json,sys
for l in open(sys.argv[1]): e = json.loads(l); print(e["action"], e.get("exit_code", ""))' "$TEST_TMP/live.txt")
is "$live" "create 
start 
die 3
destroy " "a live subscriber gets the events as they happen"
kill "$LIVE_PID"
wait "$LIVE_PID" 2>/dev/null
LIVE_PID=

# --until in the future: the stream ends when it passes.
start=$(date +%s%3N)
RC=0
timeout 20 "$CCTL" events --until "$(($(date +%s) + 2))" >/dev/null 2>&1 || RC=$?
took=$(($(date +%s%3N) - start))
is "$RC" 0 "events --until in the future exits 0"
((took >= 900 && took < 10000)) && pass "it ends when --until passes (${took} ms)" || fail "it ends when --until passes (${took} ms)"

# Events from API calls: rename, pause, unpause, kill, then die and destroy (--rm).
t2=$(now)
id2=$("$CCTL" run -d --rm --name ev2 alpine sleep 1000)
record_id "$id2"
"$CCTL" rename ev2 ev3
"$CCTL" pause ev3 >/dev/null && "$CCTL" unpause ev3 >/dev/null
"$CCTL" kill ev3 >/dev/null
for _ in $(seq 100); do [[ -z $("$CCTL" ps -aq -f name=ev3) ]] && break; sleep 0.05; done
run_cctl events --since "$t2" --until "$(now)" --format '{{.Action}}:{{.Actor.Attributes.name}}'
is "$(tr '\n' ' ' <<<"$OUT")" "create:ev2 start:ev2 rename:ev3 pause:ev3 unpause:ev3 kill:ev3 die:ev3 destroy:ev3 " \
	"rename, pause, unpause and kill are events too"
t3=$(now)
id4=$("$CCTL" run -d --name ev4 alpine sleep 1000)
record_id "$id4"
"$CCTL" stop -t 0 ev4 >/dev/null
run_cctl events --since "$t3" --until "$(now)" --filter container=ev4 --format '{{.Action}}'
is "$(tr '\n' ' ' <<<"$OUT")" "create start stop die " "stop is an event"
"$CCTL" rm ev4 >/dev/null

# Bad filters and fields are refused.
run_cctl events --filter event=explode
is "$RC" 125 "an unknown event name is refused"
like "$ERR" 'unknown event "explode"' "the message names it"
run_cctl events --filter type=volume
like "$ERR" 'unknown type "volume"' "an unknown type is refused"
run_cctl events --filter colour=red
like "$ERR" "invalid filter 'colour'" "an unknown filter key is refused"
run_cctl events --since yesterday
like "$ERR" '"since" must be an RFC 3339 time or unix seconds' "a bad --since is refused"
run_cctl events --since 200 --until 100
like "$ERR" '"until" is before "since"' "--until before --since is refused"
run_cctl events --format '{{.Nope}}' --until 1
is "$RC" 0 "a template is only rendered for events"
like "$(raw '{"bogus":1}')" '"code":"invalid_params".*unknown field \\"bogus\\"' "an unknown params field is refused"
like "$(raw '{"filters":{"name":["x"]}}')" '"code":"invalid_params".*unknown field \\"name\\"' "an unknown filter field is refused"
like "$(raw '{"filters":{"event":"die"}}')" '"code":"invalid_params"' "a filter that is not an array is refused"
like "$(raw '{"since":"2026-02-30T00:00:00Z"}')" '"code":"invalid_params"' "an impossible date is refused"
is "$(raw '{"since":0,"filters":{"event":["die"],"type":["container"]}}')" '{"v":1,"id":1,"result":{}}' \
	"the reply {} comes first"

# A subscriber that never reads: the ring's history and a flood of events fill its socket; the
# daemon drops it instead of queueing without bound, and keeps serving others.
python3 - "$CONTAIND_SOCKET" "$TEST_TMP/stuck.ready" "$TEST_TMP/stuck.result" <<'PY' &
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"id":1,"method":"events.subscribe","params":{"since":0}}\n')
open(sys.argv[2], "w").close()
time.sleep(12)  # never reads while the flood goes on and the deadline passes
s.settimeout(10)
n = 0
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        n += len(chunk)
    open(sys.argv[3], "w").write("eof %d\n" % n)
except Exception as e:
    open(sys.argv[3], "w").write("error %s\n" % e)
PY
STUCK_PID=$!
for _ in $(seq 100); do [[ -e $TEST_TMP/stuck.ready ]] && break; sleep 0.05; done
id5=$("$CCTL" run -d --name flood alpine sleep 1000)
record_id "$id5"
python3 - "$CONTAIND_SOCKET" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rb")
names = ["flood", "flood-renamed"]
for i in range(1500):
    req = {"v": 1, "id": i, "method": "container.rename", "params": {"id": names[i % 2], "name": names[(i + 1) % 2]}}
    s.sendall(json.dumps(req).encode() + b"\n")
    reply = json.loads(f.readline())
    assert "result" in reply, reply
PY
is "$?" 0 "1500 renames are served meanwhile"
run_cctl ps -q
is "$RC" 0 "the daemon answers others while a subscriber does not read"
wait "$STUCK_PID"
like "$(cat "$TEST_TMP/stuck.result" 2>/dev/null)" '^eof [0-9]+$' "the subscriber that never read was disconnected"
like "$(cat "$DAEMON_DIR/log")" 'does not read its replies' "the daemon says why it dropped it"
"$CCTL" rm -f flood >/dev/null
# The ring is bounded: 1024 events of history, the oldest (ev1's) gone.
run_cctl events --since 0 --until "$(now)" --format '{{.Action}}'
is "$RC/$(wc -l <<<"$OUT")" "0/1024" "the history keeps the last 1024 events"
run_cctl events --since 0 --until "$(now)" --filter container=ev1
is "$RC/$OUT" "0/" "older events were dropped from the history"

# Image events, as Docker's: an import tags its name, then is logged as import; rmi of one of
# several names untags it; rmi of the last name untags it and deletes the image. No container
# uses alpine any more (all were removed above), so it can go.
t5=$(now)
"$CCTL" image import evimg "$ALPINE_TARBALL" >/dev/null
"$CCTL" rmi evimg >/dev/null
"$CCTL" rmi alpine >/dev/null
t6=$(now)
run_cctl events --since "$t5" --until "$t6" --filter type=image --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
is "$(sed 's/ sha256:[0-9a-f]*$/ ID/' <<<"$OUT")" "image tag evimg:latest
image import evimg:latest
image untag evimg:latest
image untag alpine:latest
image delete ID" "import gives tag and import; rmi gives untag, and delete with the last name"
run_cctl events --since "$t5" --until "$t6" --filter type=image --format json
ids=$(python3 -c 'import json,sys
for l in sys.stdin: print(json.loads(l)["id"])' <<<"$OUT" | sort -u)
like "$ids" '^sha256:[0-9a-f]{64}$' "every image event carries the one image's id"
run_cctl events --since "$t5" --until "$t6" --filter event=delete
like "$OUT" "^[0-9T:.-]+Z image delete $ids \(name=$ids\)$" \
	"rmi of the last name deletes the image: docker's line, the id as its name"
run_cctl events --since "$t5" --until "$t6" --filter type=container
is "$RC/$OUT" "0/" "type=container skips image events"
run_cctl events --since "$t5" --until "$t6" --filter container=evimg
is "$RC/$OUT" "0/" "a container filter matches no image event of another name"

# A subscriber still streaming when the daemon shuts down: the shutdown is clean (no leak of
# the subscription, checked by stop_daemon) and cctl events ends with an error.
"$CCTL" events >/dev/null 2>"$TEST_TMP/last.err" &
LIVE_PID=$!
sleep 0.3
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
RC=0
for _ in $(seq 100); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.05; done
wait "$LIVE_PID" || RC=$?
LIVE_PID=
is "$RC" 125 "cctl events ends with an error when the daemon goes away"

done_testing
