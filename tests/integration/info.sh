#!/usr/bin/env bash
# system.info and cctl info against a real daemon: the counts follow containers as they come and
# go, and after many --rm runs (attached, and detached ones killed) no record is left behind.
# Also: run -dit stays running detached; the daemon refuses unknown fields and import by path.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine || exit 1

# info_field NAME: one count from system.info, through cctl info.
info_counts() {
	"$CCTL" info | awk -F': ' '/^Containers:/ { c = $2 } /^ Running:/ { r = $2 } /^Images:/ { i = $2 }
		END { print c, r, i }'
}

is "$(info_counts)" "0 0 1" "a fresh daemon: no containers, one image"

id=$("$CCTL" run -dit --name box alpine sh)
is "$?" 0 "run -dit exits 0"
record_id "$id"
like "$id" '^[0-9a-f]{64}$' "and prints the id"
sleep 0.3
state=$("$CCTL" inspect box | python3 -c 'import json, sys; c = json.load(sys.stdin)[0]; print(c["state"], c["tty"])')
is "$state" "running True" "the shell of run -dit is still running, on a tty"
is "$("$CCTL" run --name done alpine true; echo $?)" "0" "a container that exits"
is "$(info_counts)" "2 1 1" "info counts both, one running"

"$CCTL" rm -f box done >/dev/null
is "$(info_counts)" "0 0 1" "back to none after rm -f"

# Many --rm runs: every record must be freed once its container is gone.
failed=0
for i in $(seq 200); do
	"$CCTL" run --rm alpine true || failed=$((failed + 1))
done
is "$failed" 0 "200 runs of --rm alpine true succeed"
ids=()
for i in $(seq 5); do
	ids+=("$("$CCTL" run -d --rm alpine sleep 1000)")
	record_id "${ids[-1]}"
done
is "$(info_counts)" "5 5 1" "five detached --rm containers are counted while they run"
"$CCTL" kill "${ids[@]}" >/dev/null
for _ in $(seq 100); do
	[[ $(info_counts) == "0 0 1" ]] && break
	sleep 0.05
done
is "$(info_counts)" "0 0 1" "no record is left after the --rm runs and the killed ones"

# The daemon's side of the protocol changes.
reply() {
	python3 - "$CONTAIND_SOCKET" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
r = json.loads(s.makefile().readline())
print(r["error"]["code"], r["error"]["message"]) if "error" in r else print("ok", json.dumps(r["result"]))
PY
}
is "$(reply '{"v":1,"id":1,"method":"image.import","params":{"name":"x","path":"/etc/shadow"}}')" \
	'invalid_params unknown field "path" in image.import params' "image.import by path is refused"
is "$(reply '{"v":1,"id":1,"method":"container.run","params":{"image":"alpine","memroy":5}}')" \
	'invalid_params unknown field "memroy" in container.run params' "a misspelt run field is refused"
is "$(reply '{"v":1,"id":1,"method":"system.info","params":{"verbose":true}}')" \
	'invalid_params unknown field "verbose" in system.info params' "system.info takes no params"
like "$(reply '{"v":1,"id":1,"method":"system.info"}')" '^ok \{"containers": 0, "running": 0, "images": 1, "cgroup_layout": "[a-z0-9]+", "version": ' \
	"system.info answers"
done_testing
