#!/usr/bin/env bash
# Archives exchanged with a real Docker daemon (Debian's docker.io), as the issue asks of save:
# what `cctl save` writes, `docker load` takes and runs; what `docker save` writes, `cctl load`
# takes and runs. The test's dockerd is its own: data, exec root and socket in the test's temp
# dir, no bridge, no iptables, its containers' cgroups below a parent named after the test (all
# removed at the end); its containers run with --network none.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
OCI_TAR=${CONTAIND_TEST_ALPINE_OCI:-$(dirname "$ALPINE_TARBALL")/alpine-oci.tar}
command -v dockerd >/dev/null && command -v docker >/dev/null || { echo "1..0 # SKIP dockerd (docker.io) missing"; exit 0; }
[[ -r $OCI_TAR ]] || { echo "1..0 # SKIP no $OCI_TAR"; exit 0; }

DK=$TEST_TMP/docker
mkdir -p "$DK"
cgparent=containd-test-docker-$$
# dockerd and its containerd make these whatever their roots: removed again if this test made them.
made_dirs=()
for d in /run/docker /run/containerd; do [[ -e $d ]] || made_dirs+=("$d"); done
export DOCKER_HOST=unix://$DK/docker.sock
dockerd_pid=
stop_dockerd() {
	[[ -n $dockerd_pid ]] || return 0
	docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
	kill "$dockerd_pid" 2>/dev/null
	for _ in $(seq 200); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$dockerd_pid" 2>/dev/null
	dockerd_pid=
	local m d
	while read -r m; do umount -l "$m" 2>/dev/null; done < <(awk -v t="$DK" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	for d in /sys/fs/cgroup/*/"$cgparent" /sys/fs/cgroup/"$cgparent" /sys/fs/cgroup/unified/"$cgparent"; do
		[[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	for d in "${made_dirs[@]}"; do
		[[ -d $d ]] && find "$d" -depth -type d -empty -delete 2>/dev/null
	done
	return 0
}
trap 'stop_dockerd; cleanup' EXIT

setsid dockerd --data-root "$DK/data" --exec-root "$DK/exec" -H "$DOCKER_HOST" --pidfile "$DK/pid" \
	--bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
	--cgroup-parent "/$cgparent" --containerd-namespace "$cgparent" --containerd-plugins-namespace "$cgparent-p" \
	>"$DK/log" 2>&1 </dev/null &
dockerd_pid=$!
for _ in $(seq 600); do docker version >/dev/null 2>&1 && break; sleep 0.05; done
if ! docker version >/dev/null 2>&1; then
	tail -5 "$DK/log" | sed 's/^/# /'
	fail "the test's dockerd answers"
	done_testing
	exit
fi
pass "the test's dockerd answers ($(docker version --format '{{.Server.Version}}'))"

start_daemon || exit 1
run_cctl load -i "$OCI_TAR"
is "$RC" 0 "cctl loads the alpine OCI archive"
import_alpine imported:v1
run_cctl save -o "$TEST_TMP/ours.tar" alpine:3.20 imported:v1
is "$RC" 0 "cctl save writes both images"

rc=0; out=$(docker load -i "$TEST_TMP/ours.tar" 2>&1) || rc=$?
is "$rc" 0 "docker load takes what cctl save wrote ($out)"
like "$out" 'Loaded image: alpine:3.20' "with alpine:3.20's name"
like "$out" 'Loaded image: imported:v1' "and the imported image's"
is "$(docker image inspect --format '{{.Id}}' alpine:3.20 2>&1)" "$("$CCTL" image inspect --format '{{.Id}}' alpine:3.20)" \
	"with the same image id (the config's digest)"
rc=0; out=$(docker run --rm --network none alpine:3.20 cat /etc/alpine-release 2>&1) || rc=$?
is "$out" "3.20.3" "and docker runs it"
rc=0; out=$(docker run --rm --network none imported:v1 cat /etc/alpine-release 2>&1) || rc=$?
is "$out" "3.20.3" "the imported one too"

docker tag alpine:3.20 fromdocker:x >/dev/null
rc=0; out=$(docker save -o "$TEST_TMP/theirs.tar" fromdocker:x 2>&1) || rc=$?
is "$rc" 0 "docker save writes its archive ($out)"
run_cctl load -i "$TEST_TMP/theirs.tar"
is "$RC" 0 "cctl load takes what docker save wrote ($ERR)"
like "$OUT" 'Loaded image: fromdocker:x' "with its name"
run_cctl run --rm fromdocker:x cat /etc/alpine-release
is "$OUT" "3.20.3" "and cctl runs it"
is "$("$CCTL" image inspect --format '{{.Id}}' fromdocker:x)" "$(docker image inspect --format '{{.Id}}' fromdocker:x)" \
	"with the id docker gives it"
stop_dockerd
left=$(ls -d /sys/fs/cgroup/*/"$cgparent" /sys/fs/cgroup/"$cgparent" 2>/dev/null)
is "$left" "" "the test's dockerd left no cgroup behind"
left=$(for d in "${made_dirs[@]}"; do [[ -e $d ]] && echo "$d"; done)
is "$left" "" "nor the directories it made in /run"
done_testing
