#!/usr/bin/env bash
# What cctl puts on the wire for its flags, checked against a fake daemon that records each
# request (tests/fake-daemon.py): Docker's flag syntax, the security options, the bugs of -dit,
# -m 0, --cpus 0, rm -f / rmi -f of missing names, and image import passing an fd, never a path.
source "$(dirname "$0")/../lib.sh"

SOCK=$TEST_TMP/fake.sock
REC=$TEST_TMP/requests
python3 "$top_srcdir/tests/fake-daemon.py" "$SOCK" "$REC" 2>"$TEST_TMP/fake.log" &
FAKE_PID=$!
trap 'kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; cleanup' EXIT
for _ in $(seq 200); do [[ -S $SOCK ]] && break; sleep 0.02; done
export CONTAIND_SOCKET=$SOCK

# last_request PYTHON-EXPR: evaluates EXPR with r = the last recorded request, p = its params.
last_request() {
	python3 -c 'import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1]); p = r["params"]
print(eval(sys.argv[2]))' "$REC" "$1"
}
requests() { [[ -f $REC ]] && wc -l <"$REC" || echo 0; }

run_cctl run -d --privileged --cap-add NET_ADMIN --cap-add=cap_sys_time --cap-drop ALL \
	--security-opt no-new-privileges --security-opt seccomp=unconfined --security-opt systempaths=unconfined \
	--ulimit nofile=1024:2048 --ulimit core=-1 --ulimit nproc=10 --ulimit nproc=20:30 \
	--userns=auto --device-cgroup-rule 'c 10:200 rwm' alpine true
is "$RC" 0 "run -d with every security flag succeeds"
is "$OUT" "$(printf 'f%.0s' {1..64})" "and prints the id"
is "$(last_request 'p["privileged"], p["cap_add"], p["cap_drop"]')" "(True, ['NET_ADMIN', 'cap_sys_time'], ['ALL'])" \
	"--privileged, --cap-add and --cap-drop go out as typed"
is "$(last_request 'p["no_new_privileges"], p["seccomp_profile"], p["system_paths_unconfined"]')" \
	"(True, 'unconfined', True)" "the three --security-opt forms"
is "$(last_request 'p["ulimits"]')" \
	"[{'name': 'nofile', 'soft': 1024, 'hard': 2048}, {'name': 'core', 'soft': -1, 'hard': -1}, {'name': 'nproc', 'soft': 20, 'hard': 30}]" \
	"--ulimit: HARD defaults to SOFT, -1 is unlimited, a later one for a name replaces it"
is "$(last_request 'p["userns"], p["device_cgroup_rules"], p["stdio"]')" "('auto', ['c 10:200 rwm'], 'log')" \
	"--userns and --device-cgroup-rule; -d alone sends the container's output to its log"

run_cctl run -d alpine
is "$(last_request 'sorted(p)')" "['image', 'interactive', 'rm', 'stdio']" "without flags no security field is sent"

for form in no-new-privileges=true no-new-privileges:true no-new-privileges=false; do
	run_cctl run -d --security-opt "$form" alpine true
	want=True
	[[ $form == *false ]] && want=False
	is "$RC $(last_request 'p.get("no_new_privileges", False)')" "0 $want" "--security-opt $form"
done

cat >"$TEST_TMP/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}
JSON
run_cctl run -d --security-opt "seccomp=$TEST_TMP/profile.json" alpine true
is "$RC" 0 "seccomp=FILE is accepted"
is "$(last_request 'p["seccomp_profile"]["syscalls"][0]["names"]')" "['read', 'write']" \
	"cctl reads the profile and sends it as an object"
unlike "$(cat "$REC")" "profile.json" "the path itself never reaches the daemon"

n=$(requests)
echo 'not json' >"$TEST_TMP/bad.json"
for opt in "seccomp=$TEST_TMP/bad.json" "seccomp=$TEST_TMP/nonexistent.json" apparmor=unconfined label=disable \
	no-new-privileges=maybe systempaths=confined; do
	run_cctl run -d --security-opt "$opt" alpine true
	is "$RC" 125 "--security-opt $opt is a cctl error (125)"
done
like "$ERR" 'systempaths=confined' "the message names the option"
is "$(requests)" "$n" "nothing was sent for them"

for bad in "--ulimit nofile=10:5" "--ulimit nofiles=1" "--ulimit nofile" "--ulimit nofile=x" "--userns=private" \
	"--memory=lots" "--cpus=-1" "--rm=maybe" "--memroy=5"; do
	# shellcheck disable=SC2086
	run_cctl run -d $bad alpine true
	is "$RC" 125 "run $bad is a usage error (125)"
done
like "$ERR" "unknown flag: --memroy" "an unknown flag is named"
is "$(requests)" "$n" "nothing was sent for them either"

run_cctl run -d -m 0 --cpus 0 --memory=50m --memory 0 alpine true
is "$RC $(last_request '"memory" in p, "cpus_milli" in p')" "0 (False, False)" "-m 0 and --cpus 0 mean no limit"
run_cctl run -d -m=64m --cpus=0.5 --pids-limit 10 alpine true
is "$(last_request 'p["memory"], p["cpus_milli"], p["pids_limit"]')" "(67108864, 500, 10)" "-m=64m --cpus=0.5"

run_cctl run -dit --name box alpine sh
is "$RC" 0 "run -dit exits 0"
is "$OUT" "$(printf 'f%.0s' {1..64})" "and prints the id instead of attaching"
is "$(last_request 'p["stdio"], p["interactive"], p["tty_rows"] > 0, p["detach"]')" "('pty', True, True, True)" \
	"run -dit asks for a pty the daemon keeps (and logs)"
run_cctl run -d -t=false -i=false --rm=false alpine true
is "$(last_request 'p["stdio"], p["interactive"], p["rm"]')" "('log', False, False)" "boolean flags take =false"
run_cctl run -d --rm -- alpine ls -l --rm
is "$(last_request 'p["cmd"], p["rm"]')" "(['ls', '-l', '--rm'], True)" "the command keeps its own options"

run_cctl rm -f missing-one
is "$RC|$OUT|$ERR" "0||" "rm -f of a missing container exits 0 silently"
run_cctl rm -f missing-one web
is "$RC|$OUT" "0|web" "rm -f MISSING RUNNING removes RUNNING and exits 0"
run_cctl rm missing-one web
is "$RC|$OUT" "1|web" "without -f a missing container still fails (1)"
like "$ERR" "missing-one" "and is named"
run_cctl rm web -f
is "$(last_request 'p["force"]')" "True" "options may follow the operands (rm web -f)"
run_cctl rmi -f missing-image
is "$RC|$OUT|$ERR" "0||" "rmi -f of a missing image exits 0 silently"
run_cctl rmi missing-image
is "$RC" 1 "rmi of a missing image fails (1)"
run_cctl kill -s=TERM web
is "$(last_request 'p["signal"]')" "15" "kill -s=TERM"
run_cctl stop web
is "$RC|$OUT" "0|web" "stop prints the name"
is "$(last_request 'sorted(p.items())')" "[('id', 'web'), ('timeout', 10)]" \
	"stop sends the default timeout and leaves the signal to the daemon"
run_cctl stop -t=0 --signal=INT web
is "$(last_request 'p["timeout"], p["signal"]')" "(0, 2)" "stop -t=0 --signal=INT"
run_cctl stop --time 7 -s SIGUSR1 web
is "$(last_request 'p["timeout"], p["signal"]')" "(7, 10)" "stop --time 7 -s SIGUSR1"
run_cctl stop missing-one web
is "$RC|$OUT" "1|web" "stop of a missing container fails (1), the other is still stopped"
like "$ERR" "missing-one" "and the missing one is named"
n=$(requests)
run_cctl stop -t -1 web
is "$RC|$(requests)" "125|$n" "a negative stop timeout is refused by cctl, nothing is sent"

echo tarball >"$TEST_TMP/image.tar"
run_cctl image import myimage "$TEST_TMP/image.tar"
is "$RC" 0 "image import succeeds"
is "$(last_request 'p, r["nfds"]')" "({'name': 'myimage'}, 1)" "image import sends the file as an fd, and no path"
run_cctl import myimage "$TEST_TMP/nonexistent.tar"
is "$RC" 125 "importing a file cctl cannot open fails in cctl"

run_cctl info
is "$RC" 0 "cctl info"
like "$OUT" $'Containers: 3\n Running: 1\n Stopped: 2\nImages: 2' "prints the counts"
done_testing
