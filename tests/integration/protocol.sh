#!/usr/bin/env bash
# Hostile and broken requests get clear errors; the daemon survives and leaks no fds.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

fds_before=$(daemon_fds)
python3 - "$CONTAIND_SOCKET" >"$TEST_TMP/proto.tap" <<'PY'
import json, os, socket, sys, time

path = sys.argv[1]
n = 0
def result(ok, desc, extra=""):
    global n
    n += 1
    print(("ok" if ok else "not ok"), n, "-", desc)
    if not ok and extra:
        print("# " + str(extra).replace("\n", "\n# "))

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    return s, s.makefile("rb")

def exchange(raw, fds=()):
    s, f = conn()
    socket.send_fds(s, [raw], list(fds)) if fds else s.sendall(raw)
    line = f.readline()
    s.close()
    return json.loads(line) if line else None

def code(reply):
    return reply and reply.get("error", {}).get("code")

cases = [
    (b"this is not json\n", "parse_error", "garbage"),
    (b"{\"v\":1,\"id\":1,\"method\":\n", "parse_error", "truncated JSON"),
    (b"[]\n", "parse_error", "an array"),
    (b"{\"v\":1,\"id\":1}\n", "invalid_request", "no method"),
    (b"{\"id\":1,\"method\":\"system.version\"}\n", "invalid_request", "no version"),
    (b"{\"v\":99,\"id\":1,\"method\":\"system.version\"}\n", "unsupported_version", "future version"),
    (b"{\"v\":1,\"id\":1,\"method\":\"container.explode\"}\n", "unknown_method", "unknown method"),
    (b"{\"v\":1,\"id\":1,\"method\":\"container.run\",\"params\":{}}\n", "invalid_params", "run without image"),
    (b"{\"v\":1,\"id\":1,\"method\":\"container.run\",\"params\":{\"image\":\"alpine\",\"memory\":\"lots\"}}\n", "invalid_params", "memory of the wrong type"),
    (b"{\"v\":1,\"id\":1,\"method\":\"container.inspect\",\"params\":{}}\n", "invalid_params", "inspect without id"),
    (b"{\"v\":1,\"id\":1,\"method\":\"container.inspect\",\"params\":{\"id\":\"nope\"}}\n", "not_found", "inspect of an unknown container"),
    (b"{\"v\":1,\"id\":1,\"method\":\"container.run\",\"params\":{\"image\":\"nosuch\",\"stdio\":\"null\"}}\n", "not_found", "run of an unknown image"),
    (b"{\"v\":1,\"id\":1,\"method\":\"image.remove\",\"params\":{\"name\":\"nosuch\"}}\n", "not_found", "rmi of an unknown image"),
    (b"{\"v\":1,\"id\":1,\"method\":\"image.import\",\"params\":{\"name\":\"x\"}}\n", "bad_fds", "import without a file"),
    (b"{\"v\":1,\"id\":1,\"method\":\"container.run\",\"params\":{\"image\":\"alpine\",\"cmd\":[\"true\"]}}\n", "bad_fds", "run with stdio fds but none sent"),
]
for raw, want, desc in cases:
    r = exchange(raw)
    result(code(r) == want, "%s -> %s" % (desc, want), r)
    result(bool(r and r["error"].get("message")), "%s has a message" % desc, r)

# fd count mismatches: the fds that arrived are closed and the reply says so.
null = os.open("/dev/null", os.O_RDWR)
r = exchange(b"{\"v\":1,\"id\":1,\"method\":\"system.version\"}\n", [null])
result(code(r) == "bad_fds", "undeclared fds -> bad_fds", r)
r = exchange(b"{\"v\":1,\"id\":1,\"method\":\"system.version\",\"fds\":2}\n", [null])
result(code(r) == "bad_fds", "declared 2, sent 1 -> bad_fds", r)
r = exchange(b"{\"v\":1,\"id\":1,\"method\":\"container.run\",\"params\":{\"image\":\"alpine\",\"cmd\":[\"true\"]},\"fds\":1}\n", [null])
result(code(r) == "bad_fds", "run with 1 fd instead of 2 -> bad_fds", r)
r = exchange(b"{\"v\":1,\"id\":1,\"method\":\"container.run\",\"params\":{\"image\":\"alpine\",\"cmd\":[\"true\"]},\"fds\":4}\n", [null] * 4)
result(code(r) == "bad_fds", "run with 4 fds -> bad_fds", r)
r = exchange(b"{\"v\":1,\"id\":1,\"method\":\"system.version\",\"fds\":4}\n", [null] * 9)
result(code(r) == "bad_fds", "9 fds (over the cap) -> bad_fds", r)
# The server's own check: a request whose declared count the method would accept, but whose
# fds did not all arrive (or more arrived), is refused before the method sees it, and nothing runs.
run = b"{\"v\":1,\"id\":1,\"method\":\"container.run\",\"params\":{\"image\":\"alpine\",\"cmd\":[\"true\"]%s},\"fds\":%d}\n"
for declared, sent, inter, desc in [(2, 1, b"", "run declaring its 2 fds but sending 1"),
                                    (3, 2, b",\"interactive\":true", "interactive run declaring its 3 fds but sending 2"),
                                    (2, 3, b"", "run declaring its 2 fds but sending 3")]:
    r = exchange(run % (inter, declared), [null] * sent)
    result(code(r) == "bad_fds", "%s -> bad_fds" % desc, r)
r = exchange(b"{\"v\":1,\"id\":1,\"method\":\"image.import\",\"params\":{\"name\":\"x\"},\"fds\":1}\n")
result(code(r) == "bad_fds", "import declaring its fd but sending none -> bad_fds", r)
r = exchange(b"{\"v\":1,\"id\":1,\"method\":\"container.list\",\"params\":{\"all\":true}}\n")
result(r is not None and r.get("result", {}).get("containers") == [], "no container was created by any refused request", r)

# Oversized message: refused, and the same connection keeps working.
s, f = conn()
s.sendall(b"{\"v\":1,\"id\":1,\"method\":\"" + b"x" * 400000 + b"\"}\n")
r = json.loads(f.readline())
result(code(r) == "message_too_large", "a 400 kB line -> message_too_large", r)
s.sendall(b"{\"v\":1,\"id\":2,\"method\":\"system.version\"}\n")
r = json.loads(f.readline())
result(r.get("id") == 2 and "result" in r, "the connection still works after an oversized line", r)

# Several requests in one write are all answered, in order, with their ids.
s.sendall(b"".join(b"{\"v\":1,\"id\":%d,\"method\":\"system.version\"}\n" % i for i in range(10, 20)))
ids = [json.loads(f.readline())["id"] for _ in range(10)]
result(ids == list(range(10, 20)), "pipelined requests are answered in order", ids)
s.close()

# A client that vanishes mid-line, and one that sends only half a request, do no harm.
s, f = conn(); s.sendall(b"{\"v\":1,\"id\":1,\"meth"); s.close()
s, f = conn(); s.shutdown(socket.SHUT_WR); result(f.readline() == b"", "EOF without a request just closes"); s.close()

# Many connections at once are fine, and all get answers.
socks = [conn() for _ in range(50)]
for s, f in socks:
    s.sendall(b"{\"v\":1,\"id\":1,\"method\":\"system.version\"}\n")
answers = sum(1 for s, f in socks if "result" in json.loads(f.readline()))
result(answers == 50, "50 concurrent connections are served", answers)
for s, f in socks:
    s.close()
os.close(null)
print("1..%d" % n)
PY
rc=$?
grep -v '^1\.\.' "$TEST_TMP/proto.tap" | while IFS= read -r line; do
	case $line in
	"ok "*) pass "${line#ok * - }" ;;
	"not ok "*) fail "${line#not ok * - }" ;;
	*) echo "$line" ;;
	esac
done >"$TEST_TMP/proto.out"
cat "$TEST_TMP/proto.out"
tap_n=$((tap_n + $(grep -c '^ok\|^not ok' "$TEST_TMP/proto.out")))
tap_failed=$((tap_failed + $(grep -c '^not ok' "$TEST_TMP/proto.out")))
is "$rc" 0 "the protocol script ran to the end"

kill -0 "$DAEMON_PID" && pass "the daemon is still alive" || fail "the daemon is still alive"
sleep 0.2
fds_after=$(daemon_fds)
is "$fds_after" "$fds_before" "the daemon holds no more fds than before"
run_cctl run --rm alpine echo still-works
is "$OUT" "still-works" "containers still run afterwards"

# container.list's summary (what cctl ps asks for): the listing's fields and nothing else; the
# full entry without it; a summary that is not a boolean is refused like any bad param.
id=$("$CCTL" run -d --label tier=web alpine sleep 1000)
record_id "$id"
python3 - "$CONTAIND_SOCKET" "$id" >"$TEST_TMP/summary.out" <<'PY'
import json, socket, sys
def call(params):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(json.dumps({"v": 1, "id": 1, "method": "container.list", "params": params}).encode() + b"\n")
    f = s.makefile("rb")
    r = json.loads(f.readline())
    s.close()
    return r
full = [c for c in call({})["result"]["containers"] if c["id"] == sys.argv[2]][0]
summ = [c for c in call({"summary": True})["result"]["containers"] if c["id"] == sys.argv[2]][0]
print(" ".join(sorted(summ)))
print("image_id" in full, all(full[k] == summ[k] for k in summ))
print(call({"summary": "yes"}).get("error", {}).get("code"))
PY
is "$(sed -n 1p "$TEST_TMP/summary.out")" "cmd created_at id image labels name ports_summary started_at state" \
	"container.list with summary sends only what a listing shows"
is "$(sed -n 2p "$TEST_TMP/summary.out")" "True True" "the full entry has the rest, and both agree"
is "$(sed -n 3p "$TEST_TMP/summary.out")" "invalid_params" "a summary that is not a boolean is refused"
"$CCTL" rm -f "$id" >/dev/null

# One connection cannot pile up container.wait calls without bound: past one per container
# (4096) the next is refused at once; those accepted are all answered at the exit.
id=$("$CCTL" run -d alpine sleep 1000)
record_id "$id"
python3 - "$CONTAIND_SOCKET" "$id" >"$TEST_TMP/waits.out" <<'PY' &
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(30)
f = s.makefile("rb")
n = 4097
req = '{"v":1,"id":%d,"method":"container.wait","params":{"id":"' + sys.argv[2] + '"}}\n'
s.sendall("".join(req % i for i in range(1, n + 1)).encode())
first = json.loads(f.readline())
print(first.get("id"), first.get("error", {}).get("code"), flush=True)
codes = {}
for _ in range(n - 1):
    r = json.loads(f.readline())
    c = r["result"]["exit_code"] if "result" in r else r.get("error", {}).get("code")
    codes[c] = codes.get(c, 0) + 1
print(codes, flush=True)
PY
pypid=$!
for _ in $(seq 1000); do [[ -s $TEST_TMP/waits.out ]] && break; sleep 0.01; done
"$CCTL" kill "$id" >/dev/null
wait $pypid
is "$(sed -n 1p "$TEST_TMP/waits.out")" "4097 limit_reached" "the 4097th pending container.wait on one connection is refused"
is "$(sed -n 2p "$TEST_TMP/waits.out")" "{137: 4096}" "the 4096 accepted are answered at the exit"
"$CCTL" rm "$id" >/dev/null
done_testing
