#!/usr/bin/env bash
# Log drivers and cctl logs: a detached container's output is complete and ordered (100000
# numbered lines), stdout and stderr stay apart, the last partial line is kept; -f follows a
# running container and ends when it exits; --tail, -t, --since, --until; rotation keeps at most
# max-file files and the newest data; --log-driver none; bad options and unknown drivers are
# refused and leave nothing; a torn record at the end of a file is skipped; the JSON mode for
# clients without fd passing; a detached terminal (-dit) is logged; journald without journald
# is a clear error; the daemon's --log-opt defaults (and a bad one refused at startup); live
# restore (a killed daemon's successor repairs the log and loses nothing of the pipes); no fd leaks.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon d || exit 1
import_alpine

FOLLOW_PID=
trap '[[ -n $FOLLOW_PID ]] && kill "$FOLLOW_PID" 2>/dev/null; cleanup' EXIT

# A first container fills the daemon's caches (the compiled seccomp filter): fds counted after.
"$CCTL" run --rm alpine true
fds_before=$(daemon_fds)

# logs_of ID [ARGS...]: cctl logs ARGS ID, stdout and stderr apart in $TEST_TMP/{out,err}.
logs_of() {
	local id=$1
	shift
	LRC=0
	"$CCTL" logs "$@" "$id" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || LRC=$?
}

# 100000 numbered lines, then one line to stderr and a last line without a newline.
# The pauses order the streams: two pipes are read as the daemon finds them ready.
id=$("$CCTL" run -d alpine sh -c 'seq 1 100000; sleep 0.3; echo oops >&2; sleep 0.3; printf "no newline"')
"$CCTL" wait "$id" >/dev/null
logs_of "$id"
is "$LRC" 0 "cctl logs exits 0"
check "stdout holds 100000 numbered lines in order" cmp <(seq 1 100000; printf 'no newline') "$TEST_TMP/out"
is "$(cat "$TEST_TMP/err")" "oops" "stderr holds what the container wrote to stderr, only that"
is "$(tail -c 10 "$TEST_TMP/out")" "no newline" "the last partial line is kept"

# --tail counts lines of the whole log; -t prefixes each line with an RFC 3339 time.
logs_of "$id" --tail 3
is "$(cat "$TEST_TMP/out")" "$(printf '100000\nno newline')" "--tail 3: the last lines of stdout"
is "$(cat "$TEST_TMP/err")" "oops" "--tail 3: with the stderr line among them"
logs_of "$id" --tail 0
is "$(cat "$TEST_TMP/out" "$TEST_TMP/err")" "" "--tail 0 prints nothing"
logs_of "$id" -n 2 -t
like "$(cat "$TEST_TMP/err")" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z oops$' \
	"-t prefixes a line with its time (RFC 3339, nanoseconds)"
like "$(cat "$TEST_TMP/out")" '^20[0-9-]+T[0-9:.]+Z no newline$' "-t prefixes a partial line too"
logs_of "$id" --tail all -t
is "$(grep -cE '^20[0-9-]+T[0-9:.]+Z [0-9]+$' "$TEST_TMP/out")" 100000 "-t: every line has one prefix"

# --since and --until select records by time.
id2=$("$CCTL" run -d alpine sh -c 'echo before; sleep 1.5; echo after')
sleep 0.8
mid=$(date +%s.%N)
"$CCTL" wait "$id2" >/dev/null
logs_of "$id2" --since "$mid"
is "$(cat "$TEST_TMP/out")" "after" "--since UNIX-SECONDS keeps what came later"
logs_of "$id2" --until "$mid"
is "$(cat "$TEST_TMP/out")" "before" "--until UNIX-SECONDS keeps what came before"
logs_of "$id2" --since "$(date -u -d "@${mid%.*}" +%Y-%m-%dT%H:%M:%S).${mid#*.}Z"
is "$(cat "$TEST_TMP/out")" "after" "--since takes RFC 3339"
logs_of "$id2" --since 10m
is "$(cat "$TEST_TMP/out")" "$(printf 'before\nafter')" "--since 10m (a duration) keeps all"
logs_of "$id2" --since 2001-01-01T00:00:00Z --until 2001-01-02T00:00:00Z
is "$LRC/$(cat "$TEST_TMP/out")" "0/" "a window in the past selects nothing"
logs_of "$id2" --since yesterday
is "$LRC" 125 "--since with a bad time is refused"

# -f follows a running container and ends when it exits, after printing everything.
id3=$("$CCTL" run -d alpine sh -c 'for i in 1 2 3 4 5; do echo line$i; sleep 0.3; done; printf tail >&2')
"$CCTL" logs -f "$id3" >"$TEST_TMP/follow.out" 2>"$TEST_TMP/follow.err" &
FOLLOW_PID=$!
sleep 0.6
like "$(cat "$TEST_TMP/follow.out")" '^line1' "-f prints what is there while the container runs"
kill -0 "$FOLLOW_PID" 2>/dev/null && pass "-f is still following the running container" ||
	fail "-f is still following the running container"
for _ in $(seq 100); do kill -0 "$FOLLOW_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$FOLLOW_PID" 2>/dev/null; then
	fail "-f ends once the container exited"
else
	wait "$FOLLOW_PID"
	is "$?" 0 "-f ends once the container exited, with status 0"
fi
FOLLOW_PID=
is "$(cat "$TEST_TMP/follow.out")" "$(printf 'line%s\n' 1 2 3 4 5)" "-f printed every line of stdout"
is "$(cat "$TEST_TMP/follow.err")" "tail" "-f printed the last partial line of stderr"
logs_of "$id3" -f --tail 2
is "$LRC/$(cat "$TEST_TMP/out")/$(cat "$TEST_TMP/err")" "0/line5/tail" "-f of an exited container prints its log and ends"

# Rotation: max-size and max-file keep at most that many files, and the newest data.
id4=$("$CCTL" run -d --log-opt max-size=8k --log-opt max-file=3 alpine seq 1 20000)
"$CCTL" wait "$id4" >/dev/null
dir4=$DAEMON_DIR/root/containers/$id4
is "$(ls "$dir4" | grep -c '^container\.log')" 3 "max-file=3 keeps three files"
big=$(stat -c %s "$dir4"/container.log* | sort -n | tail -1)
((big <= 8192)) && pass "max-size=8k: no file is larger ($big)" || fail "max-size=8k: no file is larger ($big)"
logs_of "$id4"
is "$(tail -1 "$TEST_TMP/out")" 20000 "rotated: the newest data is kept"
# The oldest file may begin within a line: compare from the first whole one.
second=$(sed -n 2p "$TEST_TMP/out")
check "rotated: what is kept is a contiguous tail of the output" cmp <(seq "$second" 20000) <(tail -n +2 "$TEST_TMP/out")
id5=$("$CCTL" run -d --log-opt max-size=4k alpine seq 1 5000)
"$CCTL" wait "$id5" >/dev/null
is "$(ls "$DAEMON_DIR/root/containers/$id5" | grep -c '^container\.log')" 1 "max-file defaults to 1"
logs_of "$id5" --tail 1
is "$(cat "$TEST_TMP/out")" 5000 "max-file=1 keeps the newest data"

# --log-driver none: nothing is kept, and cctl logs says so.
id6=$("$CCTL" run -d --log-driver none alpine echo hidden)
"$CCTL" wait "$id6" >/dev/null
logs_of "$id6"
is "$LRC" 1 "cctl logs of a container logging to none exits 1"
like "$(cat "$TEST_TMP/err")" "configured logging driver does not support reading" "and says the driver cannot be read"
[[ ! -e $DAEMON_DIR/root/containers/$id6/container.log ]] && pass "--log-driver none writes no file" ||
	fail "--log-driver none writes no file"

# Bad options and unknown drivers are refused before anything is created.
before=$(ls "$DAEMON_DIR/root/containers" | sort)
n_before=$("$CCTL" ps -aq | wc -l)
for bad in "--log-opt max-size=10x" "--log-opt max-size=10" "--log-opt max-file=0" "--log-opt max-file=many" \
	"--log-opt color=blue" "--log-opt max-size" "--log-driver syslog" "--log-driver none --log-opt max-file=2"; do
	# shellcheck disable=SC2086
	run_cctl run -d $bad alpine true
	if [[ $RC == 125 && $ERR =~ (log option|log driver|KEY=VALUE) ]]; then
		pass "refused: $bad"
	else
		fail "refused: $bad"
		diag "status $RC: $ERR"
	fi
done
is "$(ls "$DAEMON_DIR/root/containers" | sort)" "$before" "refused runs left no directory"
is "$("$CCTL" ps -aq | wc -l)" "$n_before" "refused runs left no container"

# A torn record at the end (a crash in the middle of a write): the complete ones are read.
id7=$("$CCTL" run -d alpine sh -c 'echo first; sleep 0.2; echo second; sleep 0.2; echo third')
"$CCTL" wait "$id7" >/dev/null
log7=$DAEMON_DIR/root/containers/$id7/container.log
truncate -s -3 "$log7"
logs_of "$id7"
is "$LRC/$(cat "$TEST_TMP/out")" "0/$(printf 'first\nsecond')" "a torn last record is skipped"
truncate -s -$(( $(stat -c %s "$log7") - 30 )) "$log7"
logs_of "$id7"
is "$LRC/$(cat "$TEST_TMP/out")" "0/first" "a torn header after a record is skipped"

# The JSON mode, for clients that do not pass fds: base64 records, then logs.end.
got=$(python3 - "$CONTAIND_SOCKET" "$id3" <<'PY'
import base64, json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(json.dumps({"v": 1, "id": 1, "method": "container.logs",
                      "params": {"id": sys.argv[2], "tail": 2}}).encode() + b"\n")
f = s.makefile("rb")
reply = json.loads(f.readline())
assert reply["result"]["mode"] == "json", reply
out = []
while True:
    m = json.loads(f.readline())
    if m.get("event") == "logs.end":
        break
    out.append(m["params"]["stream"] + ":" + base64.b64decode(m["params"]["data"]).decode())
print("|".join(out))
PY
)
is "$got" "stdout:line5
|stderr:tail" "JSON mode: the records as base64 events, then logs.end"

# A detached terminal: the daemon logs what the container writes to it.
id8=$("$CCTL" run -dit alpine sh -c 'echo on the terminal; tty')
"$CCTL" wait "$id8" >/dev/null
logs_of "$id8"
like "$(cat "$TEST_TMP/out")" $'^on the terminal\r\n/dev/pts/[0-9]+' "-dit: the terminal's output is logged (stdout)"

# journald: a clear error where no journald runs (this host), and nothing is left.
if [[ ! -S /run/systemd/journal/stdout ]]; then
	before=$(ls "$DAEMON_DIR/root/containers" | sort)
	run_cctl run -d --log-driver journald alpine true
	like "$RC/$ERR" "^125/.*journald" "--log-driver journald without journald: a clear error"
	is "$(ls "$DAEMON_DIR/root/containers" | sort)" "$before" "and nothing was created"
else
	skip "journald without journald" "journald runs here (tests/vm covers it)"
	skip "and nothing was created" "journald runs here"
fi

# The daemon's defaults: --log-opt for every container that gives none; bad ones stop it at once.
rc=0
"$CONTAIND" "${NO_BRIDGE[@]}" --socket "$TEST_TMP/bad.sock" --root "$TEST_TMP/bad-root" --state "$TEST_TMP/bad-state" \
	--log-opt max-size=12q >/dev/null 2>"$TEST_TMP/bad.err" || rc=$?
like "$rc/$(cat "$TEST_TMP/bad.err")" "^[1-9][0-9]*/.*max-size=12q" "containd refuses a bad --log-opt at startup, naming it"
[[ ! -e $TEST_TMP/bad.sock ]] && pass "and does not listen" || fail "and does not listen"
main_sock=$CONTAIND_SOCKET main_pid=$DAEMON_PID main_dir=$DAEMON_DIR
start_daemon d2 --log-opt max-size=4k --log-opt max-file=2 || exit 1
import_alpine
id9=$("$CCTL" run -d alpine seq 1 5000)
"$CCTL" wait "$id9" >/dev/null
is "$(ls "$DAEMON_DIR/root/containers/$id9" | grep -c '^container\.log')" 2 "the daemon's --log-opt max-file=2 applies by default"
id10=$("$CCTL" run -d --log-opt max-file=3 alpine seq 1 5000)
"$CCTL" wait "$id10" >/dev/null
is "$(ls "$DAEMON_DIR/root/containers/$id10" | grep -c '^container\.log')" 3 "a container's --log-opt overrides it (max-size=4k kept)"
"$CCTL" rm "$id9" "$id10" >/dev/null
export CONTAIND_SOCKET=$main_sock
DAEMON_PID=$main_pid DAEMON_DIR=$main_dir

# Live restore: the keeper holds the pipes while no daemon runs, so nothing the container writes
# meanwhile is lost; the next daemon repairs the log's torn end (cut here while it was down) and
# appends what the pipes held and what comes after.
start_daemon d3 --live-restore || exit 1
import_alpine
idr=$("$CCTL" run -d alpine sh -c 'i=0; while [ $i -lt 40 ]; do i=$((i + 1)); echo line$i; sleep 0.05; done')
record_id "$idr"
sleep 0.5
old=$DAEMON_PID
kill -KILL "$old"
wait "$old" 2>/dev/null
STOPPED_PIDS+="$old "
rm -f "$DAEMON_DIR/containd.sock"
logr=$DAEMON_DIR/root/containers/$idr/container.log
truncate -s -2 "$logr"
sleep 1
start_daemon d3 --live-restore || exit 1
"$CCTL" wait "$idr" >/dev/null
logs_of "$idr"
is "$LRC" 0 "cctl logs after a daemon crash and restart"
is "$(tail -n 1 "$TEST_TMP/out")" "line40" "the log goes on to the end after the restart"
lost=$(seq 1 40 | sed 's/^/line/' | grep -vxFf "$TEST_TMP/out" | wc -l)
((lost <= 1)) && pass "only the record torn at the crash is missing ($lost lines)" ||
	fail "only the record torn at the crash is missing ($lost lines)"
like "$(grep -c . "$TEST_TMP/out")" '^(39|40)$' "what the container wrote while no daemon ran is logged"
"$CCTL" rm "$idr" >/dev/null
export CONTAIND_SOCKET=$main_sock
DAEMON_PID=$main_pid DAEMON_DIR=$main_dir

# Every fd the logs used is closed again.
"$CCTL" rm -f "$id" "$id2" "$id3" "$id4" "$id5" "$id6" "$id7" "$id8" >/dev/null
fds_after=$(daemon_fds)
is "$fds_after" "$fds_before" "no fd leaked"
[[ $fds_after == "$fds_before" ]] || ls -l "/proc/$DAEMON_PID/fd" | sed 's/^/# /'

done_testing
