#!/usr/bin/env bash
# Container records survive a restart; a record that cannot be trusted (torn, not JSON, another
# version, naming another container) is quarantined and reported, never half-loaded, and the
# daemon starts all the same.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon d || exit 1
import_alpine || exit 1
for n in good torn garbage future alien; do
	"$CCTL" run --name "$n" alpine sh -c "exit 7" >/dev/null 2>&1
done
ids=()
for n in good torn garbage future alien; do
	ids+=("$("$CCTL" inspect "$n" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')")
done
is "${#ids[@]}" 5 "five exited containers have records"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
dir=$DAEMON_DIR
rec() { echo "$dir/root/containers/$1/state.json"; }
for id in "${ids[@]}"; do [[ -s $(rec "$id") ]] || fail "record of $id exists"; done
python3 - "$(rec "${ids[0]}")" <<'EOF'
import json, sys
rec = json.load(open(sys.argv[1]))
assert rec["version"] == 2 and rec["state"] == "exited" and rec["exit_code"] == 7, rec
EOF
is "$?" 0 "a record is versioned and holds the exit status"
head -c 100 "$(rec "${ids[1]}")" >"$dir/torn" && mv "$dir/torn" "$(rec "${ids[1]}")"
echo 'not json at all {' >"$(rec "${ids[2]}")"
python3 - "$(rec "${ids[3]}")" <<'EOF'
import json, sys
rec = json.load(open(sys.argv[1]))
rec["version"] = 99
json.dump(rec, open(sys.argv[1], "w"))
EOF
# A record naming another container than its directory.
python3 - "$(rec "${ids[4]}")" "${ids[0]}" <<'EOF'
import json, sys
rec = json.load(open(sys.argv[1]))
rec["id"] = sys.argv[2]
json.dump(rec, open(sys.argv[1], "w"))
EOF

start_daemon d2 --root "$dir/root" || exit 1
run_cctl ps -a
like "$OUT" "good" "the intact record is loaded"
unlike "$OUT" "torn|garbage|future|alien" "no untrusted record is loaded"
is "$("$CCTL" inspect good | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["exit_code"])')" 7 \
	"with its exit status"
q=$dir/root/containers/.quarantine
for i in 1 2 3 4; do
	ls "$q" 2>/dev/null | grep -q "^${ids[$i]}-" && pass "record ${ids[$i]:0:12} was quarantined" ||
		fail "record ${ids[$i]:0:12} was quarantined"
done
[[ -d $dir/root/containers/${ids[1]} ]] && fail "the torn record's directory is gone from containers/" ||
	pass "the torn record's directory is gone from containers/"
log=$DAEMON_DIR/log
like "$(cat "$log")" "quarantining container state .*${ids[1]}" "the daemon reports the torn record"
like "$(cat "$log")" "record version 99" "and says why the future one was refused"
is "$("$CCTL" run --rm alpine echo fine)" "fine" "and runs containers"

# A removal cut short by a crash is not undone: the record goes before the files, so a restarted
# daemon does not load a half-deleted container (40000 files keep its cleaner busy a while).
id=$("$CCTL" run -d --name doomed alpine sh -c 'mkdir /many && cd /many && seq 1 40000 | xargs touch')
record_id "$id"
"$CCTL" wait doomed >/dev/null
# A cleanup under way: a containd-clean process below the daemon (a job of its containd-cleaner
# child, or an offload child).
cleaning() {
	local kids
	kids=$(pgrep -d, -P "$DAEMON_PID")
	ps -o comm= --ppid "$DAEMON_PID${kids:+,$kids}" | grep -qx containd-clean
}
# Its exit's cleanup (cgroups) done, the removal's own cleaner is the one the kill interrupts.
for _ in $(seq 500); do cleaning || break; sleep 0.01; done
"$CCTL" rm doomed >/dev/null 2>&1 &
rmpid=$!
for _ in $(seq 500); do cleaning && break; sleep 0.01; done
sleep 0.05
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
STOPPED_PIDS+="$DAEMON_PID "
wait "$rmpid"
if [[ -d $dir/root/containers/$id/upper/many ]]; then
	start_daemon d3 --root "$dir/root" || exit 1
	run_cctl ps -a
	unlike "$OUT" "doomed" "a container whose removal a crash interrupted stays removed"
	[[ -e $dir/root/containers/$id ]] && fail "and the rest of its files are deleted at start-up" ||
		pass "and the rest of its files are deleted at start-up"
else
	skip "a container whose removal a crash interrupted stays removed" "the removal finished before the kill"
	skip "and the rest of its files are deleted at start-up" "the removal finished before the kill"
fi

done_testing
