#!/usr/bin/env bash
# Labels, cctl ps's flags, filters and --format, cctl inspect --format and cctl rename: each flag
# and filter alone and combined, bad input (exit 1 with a message, as docker), and labels and new
# names kept across a daemon restart.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon d || exit 1
import_alpine || exit 1

# Created in this order: two running, then two exited (the newest last).
"$CCTL" run -d --name web1 --label app=web --label tier=front alpine sleep 300 >/dev/null
"$CCTL" run -d --name web2 -l app=web alpine sleep 300 >/dev/null
"$CCTL" run --name job0 --label app=batch alpine sh -c "exit 0"
"$CCTL" run --name job3 --label app=batch --label k alpine sh -c "exit 3"
id_of() { "$CCTL" inspect --format '{{.Id}}' "$1"; }
web1=$(id_of web1)
is "${#web1}" 64 "inspect --format {{.Id}} prints the full id"

names() { run_cctl ps --format '{{.Names}}' "$@"; echo "$OUT" | paste -sd' '; }
is "$(names)" "web2 web1" "ps lists the running containers, newest first"
is "$(names -a)" "job3 job0 web2 web1" "ps -a lists all"
is "$(names -n 2)" "job3 job0" "-n 2: the two last created, stopped ones included"
is "$(names -l)" "job3" "-l: the latest created"
is "$(names -a -n 0)" "job3 job0 web2 web1" "-n 0 is no limit"
is "$(names --filter status=exited)" "job3 job0" "status=exited lists stopped containers without -a"
is "$(names -f status=running -f status=exited)" "job3 job0 web2 web1" "two values of one key: either matches"
is "$(names --filter name=job)" "" "name= without -a matches only running containers"
is "$(names -a --filter name=job)" "job3 job0" "name= matches a part of the name"
is "$(names -a --filter name=job --filter name=web1)" "job3 job0 web1" "two names: either matches"
is "$(names -a --filter name=job --filter status=exited --filter name=web)" "job3 job0" \
	"different keys: all must match"
is "$(names --filter label=app=web)" "web2 web1" "label=KEY=VALUE"
is "$(names -a --filter label=tier)" "web1" "label=KEY"
is "$(names -a --filter label=app --filter label=k)" "job3" "two labels: both must match (as docker)"
is "$(names -a --filter label=app=nope)" "" "a label value that no container has"
is "$(names --filter "id=${web1:0:8}")" "web1" "id= with a part of an id"
is "$(names -a --filter exited=3)" "job3" "exited=3"
is "$(names -a --filter exited=0 --filter exited=3)" "job3 job0" "exited=0 or 3"
is "$(names -a --filter exited=0 --filter label=app=web)" "" "exited=0 and a running label: none"
is "$(names -n 3 --filter label=app=web)" "web2 web1" "-n counts the matching containers"

run_cctl ps -q
is "$OUT" "$(printf '%s\n%s' "$(id_of web2 | cut -c1-12)" "${web1:0:12}")" "-q prints short ids"
run_cctl ps -q --no-trunc --filter name=web1
is "$OUT" "$web1" "-q --no-trunc prints full ids"
run_cctl ps -q --format '{{.Names}}' --filter name=web1
is "$OUT" "${web1:0:12}" "-q wins over --format"
like "$ERR" "Ignoring custom format" "with a warning"
run_cctl ps -a --filter name=web1 --format '{{.ID}}|{{.Image}}|{{.State}}|{{.Labels}}|{{.Status}}'
like "$OUT" "^${web1:0:12}\|alpine\|running\|app=web,tier=front\|Up " "ID, Image, State, Labels and Status"
run_cctl ps -a --filter name=job3 --format '{{.Command}}\t{{.Status}}\t{{.CreatedAt}}'
like "$OUT" $'^"sh -c exit 3"\tExited \\(3\\) .* ago\t20[0-9-]+ [0-9:]+ \\+0000 UTC$' \
	"Command, Status, CreatedAt, and \\t is a tab"
run_cctl ps -a --format json
python3 - "$OUT" <<'PY'
import json, sys
lines = sys.argv[1].split("\n")
objs = [json.loads(l) for l in lines]
assert [o["Names"] for o in objs] == ["job3", "job0", "web2", "web1"], objs
assert objs[0]["State"] == "exited" and objs[3]["Labels"] == "app=web,tier=front", objs
assert all(len(o["ID"]) == 12 for o in objs), objs
PY
is "$?" 0 "--format json prints one object per line, Docker's names"

# Bad input: docker's exit status 1 and a message.
run_cctl ps --filter foo=bar
is "$RC" 1 "an unknown filter key exits 1"
like "$ERR" "invalid filter 'foo'" "and names it"
run_cctl ps --filter status=sleeping
is "$RC" 1 "an unknown status exits 1"
like "$ERR" "status=sleeping" "and names it"
run_cctl ps --filter exited=x
is "$RC" 1 "a non-numeric exit code exits 1"
run_cctl ps --filter name
is "$RC" 1 "a filter without = exits 1"
like "$ERR" "expected name=value" "and says what is expected"
run_cctl ps --format '{{.Nope}}' --filter name=nothing-matches
is "$RC" 1 "a template with an unknown field exits 1, even with nothing to list"
like "$ERR" 'no field "Nope"' "and names the field"
run_cctl ps --format '{{.ID'
is "$RC" 1 "an unclosed action exits 1"
like "$ERR" "unclosed action" "and says so"
run_cctl ps -n many
is "$RC" 125 "-n with a non-number is a usage error"

# inspect: labels, and --format over Docker's names and the daemon's own.
is "$("$CCTL" inspect web1 | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["labels"], sort_keys=True))')" \
	'{"app": "web", "tier": "front"}' "inspect shows the labels"
is "$("$CCTL" inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.Name}}' job3)" "exited 3 /job3" \
	".State.Status, .State.ExitCode, .Name"
is "$("$CCTL" inspect --format '{{json .Config.Labels}}' job3)" '{"app":"batch","k":""}' "{{json .Config.Labels}}"
is "$("$CCTL" inspect --format '{{.State.Running}} {{.Config.Image}} {{.labels.tier}}' web1)" "true alpine front" \
	".State.Running, .Config.Image and the daemon's own .labels"
pid=$("$CCTL" inspect --format '{{.State.Pid}}' web1)
[[ $pid =~ ^[0-9]+$ && $pid -gt 0 ]] && pass ".State.Pid of a running container" || fail ".State.Pid of a running container ($pid)"
is "$("$CCTL" inspect --format '{{.Path}} {{json .Args}}' job3)" "sh [\"-c\",\"exit 3\"]" ".Path and .Args"
is "$("$CCTL" inspect --format json job3 | python3 -c 'import json,sys; o=json.loads(sys.stdin.readline()); print(o["State"]["ExitCode"], o["labels"]["app"])')" \
	"3 batch" "inspect --format json: one line of JSON with both names"
run_cctl inspect --format '{{.State.Nope}}' web1
is "$RC" 1 "inspect --format with an unknown field exits 1"
like "$ERR" 'no field "Nope" in \{\{\.State\.Nope\}\}' "and names it"
run_cctl inspect --format '{{.Name}}' job3 nosuch
is "$RC" 1 "inspect --format with an unknown container exits 1"
is "$OUT" "/job3" "after printing the ones it found"

# Labels the daemon refuses.
run_cctl run --label =x alpine true
is "$RC" 125 "a label without a key is refused by cctl"
like "$ERR" "must not be empty" "with a message"
run_cctl run --label "k=$(head -c 4097 /dev/zero | tr '\0' v)" alpine true
like "$ERR" "longer than 4096" "a label value over the cap is refused"
python3 - "$CONTAIND_SOCKET" <<'PY'
import json, socket, sys
def call(method, params):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.settimeout(10)
    s.sendall((json.dumps({"v": 1, "id": 1, "method": method, "params": params}) + "\n").encode())
    r = json.loads(s.makefile("rb").readline())
    s.close()
    return r.get("error", {})
run = {"image": "alpine", "stdio": "null"}
e = call("container.run", dict(run, labels={"a": 1}))
assert e.get("code") == "invalid_params" and "must be a string" in e["message"], e
e = call("container.run", dict(run, labels=["a=b"]))
assert e.get("code") == "invalid_params", e
e = call("container.run", dict(run, labels={"a=b": "c"}))
assert e.get("code") == "invalid_params" and "must not contain" in e["message"], e
e = call("container.run", dict(run, labels={"k%d" % i: "" for i in range(129)}))
assert e.get("code") == "invalid_params" and "too many labels" in e["message"], e
e = call("container.rename", {"id": "web1"})
assert e.get("code") == "invalid_params" and "name" in e["message"], e
e = call("container.rename", {"id": "web1", "name": "x", "force": True})
assert e.get("code") == "invalid_params" and "unknown field" in e["message"], e
PY
is "$?" 0 "container.run refuses bad labels, container.rename bad params"

# rename
run_cctl rename web2 web3
is "$RC" 0 "rename a running container"
is "$(names)" "web3 web1" "ps shows the new name"
is "$("$CCTL" inspect -f '{{.Name}} {{.State.Status}}' web3)" "/web3 running" "inspect finds it by its new name"
run_cctl inspect web2
is "$RC" 1 "and not by the old one"
run_cctl rename job0 done0
is "$RC" 0 "rename an exited container"
run_cctl rename done0 web1
is "$RC" 1 "a name in use is a conflict"
like "$ERR" 'name "web1" is already in use' "with a message"
run_cctl rename nosuch x
is "$RC" 1 "an unknown container exits 1"
like "$ERR" "nosuch" "and names it"
run_cctl rename done0 'bad name!'
is "$RC" 1 "an invalid name exits 1"
like "$ERR" "invalid container name" "with the rule"
run_cctl rename done0 done0
is "$RC" 1 "the same name again is refused"
run_cctl rename done0
is "$RC" 125 "rename needs two arguments"

# Across a restart: the new names and the labels.
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
start_daemon d2 --root "$TEST_TMP/d/root" || exit 1
is "$(names -a)" "job3 done0 web3 web1" "after a restart ps shows the new names"
is "$("$CCTL" inspect -f '{{.Name}} {{json .Config.Labels}}' web3)" '/web3 {"app":"web"}' \
	"inspect finds the renamed container, with its labels"
is "$(names -a --filter label=app=batch)" "job3 done0" "label filters work on loaded records"
run_cctl rename web3 web4
is "$RC" 0 "a loaded container can be renamed"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
start_daemon d3 --root "$TEST_TMP/d/root" || exit 1
is "$(names -a --filter name=web)" "web4 web1" "and keeps that name across another restart"

done_testing
