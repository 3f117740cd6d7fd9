#!/usr/bin/env bash
# Restart policies: on-failure:N with Docker's growing back-off and RestartCount, always after a
# clean exit, a user's stop that the policy respects, unless-stopped, bad policies refused, and
# the policies across a daemon restart (an always container that had exited comes back).
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

field() { "$CCTL" inspect -f "$2" "$1" 2>/dev/null; }

# wait_for CONTAINER TEMPLATE VALUE [TRIES]: polls inspect until the template gives VALUE.
wait_for() {
	local i
	for ((i = 0; i < ${4:-250}; i++)); do
		[[ $(field "$1" "$2") == "$3" ]] && return 0
		sleep 0.02
	done
	return 1
}

# on-failure:2 restarts a failing command exactly twice, waiting longer each time.
id=$("$CCTL" run -d --name fails --restart on-failure:2 alpine sh -c 'exit 3')
record_id "$id"
like "$id" '^[0-9a-f]{64}$' "run -d --restart on-failure:2 prints the full id"
wait_for fails '{{.RestartCount}} {{.State.Status}}' '2 exited' && pass "on-failure:2 gives up after two restarts" ||
	fail "on-failure:2 gives up after two restarts ($(field fails '{{.RestartCount}} {{.State.Status}}'))"
sleep 1
is "$(field fails '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}')" "2 exited 3" "and stays exited with RestartCount 2"
is "$(field fails '{{json .HostConfig.RestartPolicy}}')" '{"Name":"on-failure","MaximumRetryCount":2}' \
	"inspect shows HostConfig.RestartPolicy"
is "$("$CCTL" inspect fails | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]; print(c["restart_count"], c["restart_policy"]["name"])')" \
	"2 on-failure" "the protocol's fields: restart_count, restart_policy"
events=$("$CCTL" events --since 1m --until 0s --filter container=fails --format '{{.Action}} {{.TimeNano}}')
is "$(grep -c '^start ' <<<"$events")" 3 "three starts: the run and two restarts"
is "$(grep -c '^restart ' <<<"$events")" 2 "two restart events"
# The delays between a death and the next start grow (Docker: 100 ms, then doubling).
gaps=$(awk '$1 == "die" { d = $2 } $1 == "start" && d { print int(($2 - d) / 1000000); d = 0 }' <<<"$events")
g1=$(sed -n 1p <<<"$gaps")
g2=$(sed -n 2p <<<"$gaps")
diag "delays before the restarts: $(tr '\n' ' ' <<<"$gaps")ms"
[[ $g1 =~ ^[0-9]+$ && $g2 =~ ^[0-9]+$ ]] && ((g1 >= 100 && g2 > g1)) && pass "the back-off grows (${g1} ms, then ${g2} ms)" ||
	fail "the back-off grows (gaps '$g1' '$g2')"

# on-failure does not restart a clean exit.
"$CCTL" run -d --name clean --restart on-failure alpine true >"$TEST_TMP/clean.id"
wait_for clean '{{.State.Status}}' exited && sleep 0.5
is "$(field clean '{{.RestartCount}} {{.State.Status}}')" "0 exited" "on-failure leaves an exit 0 alone"

# always restarts after exit 0.
"$CCTL" run -d --name forever --restart always alpine sh -c 'sleep 0.2' >/dev/null
for _ in $(seq 250); do (($(field forever '{{.RestartCount}}') >= 2)) 2>/dev/null && break; sleep 0.02; done
n=$(field forever '{{.RestartCount}}')
((n >= 2)) 2>/dev/null && pass "always restarts after exit 0 (RestartCount $n)" || fail "always restarts after exit 0 (RestartCount '$n')"
# Between an exit and its restart the container is "restarting" (its back-off grows: 100 ms,
# 200 ms, 400 ms, ... after runs of 0.2 s).
wait_for forever '{{.State.Status}}' restarting 500 && pass "a container waiting for its restart is restarting" ||
	fail "a container waiting for its restart is restarting ($(field forever '{{.State.Status}}'))"
# One inspect shows all three (its back-off may end between two, on a busy machine).
wait_for forever '{{.State.Status}} {{.State.Restarting}} {{.State.Running}}' "restarting true false" 500 &&
	pass "inspect: .State.Restarting" || fail "inspect: .State.Restarting ($(field forever '{{.State.Restarting}} {{.State.Running}}'))"
run_cctl ps --filter name=forever --format '{{.Status}}'
# (While its init sets up again the last run's code is gone: "Restarting" alone.)
like "$OUT" '^(Restarting \(0\) |Restarting$|Up )' "ps shows it Restarting with its exit code (or up again), even while its init sets up"
# A user's stop is not undone by the policy, whether it runs or waits for its restart.
run_cctl stop -t 1 forever
is "$RC" 0 "stop of an always container"
sleep 1
is "$(field forever '{{.State.Status}}')" exited "stop does not trigger the always policy"
n1=$(field forever '{{.RestartCount}}')
sleep 0.5
is "$(field forever '{{.RestartCount}}')" "$n1" "and nothing restarts it later"
# start by a user is a new beginning for the policy.
run_cctl start forever
is "$RC" 0 "start of a stopped always container"
is "$(field forever '{{.RestartCount}}')" 0 "a user's start resets RestartCount"
"$CCTL" rm -f forever >/dev/null

# docker kill: SIGKILL (or the stop signal) turns the policy off until the next start; another
# signal leaves it on.
"$CCTL" run -d --name killed --restart always alpine sh -c 'trap "exit 5" USR1; while :; do sleep 0.1; done' >/dev/null
sleep 0.3
"$CCTL" kill -s USR1 killed >/dev/null
for _ in $(seq 250); do (($(field killed '{{.RestartCount}}') >= 1)) 2>/dev/null && break; sleep 0.02; done
is "$(field killed '{{.RestartCount}}')" 1 "kill -s USR1 (not fatal): the policy restarts it"
wait_for killed '{{.State.Status}}' running
"$CCTL" kill killed >/dev/null
sleep 1
is "$(field killed '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}')" "exited 137 1" "kill (SIGKILL) is not undone by the policy"
"$CCTL" rm killed >/dev/null
# unless-stopped: restarted like always until a user stops it.
"$CCTL" run -d --name unless --restart unless-stopped alpine sh -c 'sleep 0.2' >/dev/null
for _ in $(seq 250); do (($(field unless '{{.RestartCount}}') >= 1)) 2>/dev/null && break; sleep 0.02; done
n=$(field unless '{{.RestartCount}}')
((n >= 1)) 2>/dev/null && pass "unless-stopped restarts an exited container" || fail "unless-stopped restarts (RestartCount '$n')"
"$CCTL" stop -t 1 unless >/dev/null
# An always container that exited on its own while the daemon runs (and is stopped by a user
# afterwards) vs one that exits just before the daemon stops: only the second comes back.
"$CCTL" run -d --name back --restart always alpine sleep 1000 >/dev/null
"$CCTL" run -d --name kept --restart unless-stopped alpine sleep 1000 >/dev/null
"$CCTL" run -d --name plain alpine sleep 1000 >"$TEST_TMP/plain.id"

# Bad policies: a clear message, and nothing is created.
before=$("$CCTL" ps -aq | wc -l)
run_cctl run -d --name bad1 --restart sometimes alpine true
is "$RC" 125 "an unknown restart policy is refused (125)"
like "$ERR" 'invalid restart policy "sometimes"' "and the message names it"
run_cctl run -d --name bad2 --restart always:3 alpine true
like "$ERR" 'only on-failure takes a maximum' "a maximum is only for on-failure"
run_cctl run -d --name bad3 --restart on-failure:x alpine true
like "$ERR" 'the maximum must be a number' "on-failure:x is refused"
run_cctl run --rm --name bad4 --restart always alpine true
like "$ERR" 'conflicting options' "--restart with --rm is refused"
run_cctl create --name bad5 --restart=no:1 alpine true
is "$RC" 125 "create refuses a bad policy too"
# The daemon refuses what a client of its own could send.
out=$(python3 - "$CONTAIND_SOCKET" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
def call(params):
    s.sendall((json.dumps({"v": 1, "id": 1, "method": "container.create", "params": params}) + "\n").encode())
    return json.loads(s.makefile().readline())
for p in ({"image": "alpine", "restart_policy": {"name": "sometimes"}},
          {"image": "alpine", "restart_policy": {"name": "always", "maximum_retry_count": 2}},
          {"image": "alpine", "restart_policy": {"name": "on-failure", "maximum_retry_count": -1}},
          {"image": "alpine", "restart_policy": {"name": "always", "max": 1}},
          {"image": "alpine", "rm": True, "restart_policy": {"name": "always"}}):
    print(call(p)["error"]["code"])
EOF
)
is "$(sort -u <<<"$out")" invalid_params "container.create refuses bad restart_policy params (invalid_params)"
is "$("$CCTL" ps -aq | wc -l)" "$before" "no container was created by a bad policy"

# Across a daemon restart: the policies and counts are kept; always and unless-stopped come back
# (unless a user stopped them), others stay exited.
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
dir=$DAEMON_DIR
# The records are version 2; a version 1 record (before restart policies) is still read, and a
# version 2 record with a policy the daemon does not know is quarantined, never half-loaded.
python3 - "$dir/root/containers" "$(cat "$TEST_TMP/plain.id")" "$(cat "$TEST_TMP/clean.id")" <<'EOF'
import json, os, sys
root, plain, clean = sys.argv[1:]
def edit(cid, fn):
    path = os.path.join(root, cid, "state.json")
    rec = json.load(open(path))
    fn(rec)
    json.dump(rec, open(path, "w"))
def to_v1(rec):
    assert rec["version"] == 2 and rec["config"]["restart"] == "no", rec
    rec["version"] = 1
    for k in ("restart_count", "user_stopped"):
        del rec[k]
    for k in ("entrypoint", "stop_signal", "restart", "restart_max"):
        del rec["config"][k]
edit(plain, to_v1)
edit(clean, lambda rec: rec["config"].__setitem__("restart", "sometimes"))
EOF
is "$?" 0 "records are version 2 with the restart fields"
"$CONTAIND" "${NO_BRIDGE[@]}" --socket "$dir/containd.sock" --root "$dir/root" --state "$dir/state" --log-level debug --live-restore=false --shutdown-timeout 0 "${USERNS_ARGS[@]}" 2>>"$dir/log" &
DAEMON_PIDS=($!)
DAEMON_PID=$!
for _ in $(seq 500); do "$CCTL" version >/dev/null 2>&1 && break; sleep 0.01; done
wait_for back '{{.State.Status}}' running && pass "an always container killed by the daemon's stop runs again after its restart" ||
	fail "an always container comes back after a daemon restart ($(field back '{{.State.Status}}'))"
wait_for kept '{{.State.Status}}' running && pass "so does an unless-stopped one nobody stopped" ||
	fail "an unless-stopped container comes back ($(field kept '{{.State.Status}}'))"
is "$(field unless '{{.State.Status}}')" exited "an unless-stopped container a user stopped stays stopped"
is "$(field plain '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}} {{.RestartCount}}')" "exited no 0" \
	"a version 1 record loads: no policy, no restarts, exited"
run_cctl inspect clean
like "$ERR" 'no such container' "a record with an unknown restart policy is not loaded"
ls "$dir/root/containers/.quarantine/" 2>/dev/null | grep -q "^$(cat "$TEST_TMP/clean.id")-" &&
	pass "it is quarantined" || fail "the record with an unknown policy is quarantined"
like "$(cat "$dir/log")" 'quarantining container state .*invalid configuration' "and the daemon says why"
is "$(field fails '{{.RestartCount}} {{json .HostConfig.RestartPolicy}}')" '2 {"Name":"on-failure","MaximumRetryCount":2}' \
	"the policy and RestartCount survive the daemon's restart"
like "$(grep 'restart policy' "$dir/log")" 'started \(restart policy always\)' "the daemon logs why it started them"
"$CCTL" rm -f back kept unless plain fails >/dev/null
done_testing
