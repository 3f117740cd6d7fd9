#!/usr/bin/env bash
# cctl pull, login/logout and the auto-pull of run against a real registry on loopback
# (Debian's docker-registry, storage in the test's temp dir), the alpine archive pushed by
# skopeo as OCI and as Docker v2s2: by tag and digest, auth (htpasswd), a corrupted blob, a
# registry that goes away mid-pull, an unknown image, concurrent pulls, the progress lines.
source "$(dirname "$0")/../lib.sh"
need_root
OCI_ARCHIVE=${CONTAIND_TEST_OCI:-$(dirname "$ALPINE_TARBALL")/alpine-oci.tar}
for tool in docker-registry skopeo htpasswd python3 curl; do
	if ! command -v "$tool" >/dev/null; then
		echo "1..0 # SKIP $tool is not installed (scripts/install-deps)"
		exit 0
	fi
done
[[ -f $OCI_ARCHIVE ]] || { echo "1..0 # SKIP $OCI_ARCHIVE is missing"; exit 0; }

LAYER=d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c
CONFIG=af9d14307a8764227443d34213ea78fd695ca3ef4dbd32a565dac0644cfe0acf
OCI_MANIFEST=sha256:ae9bcc8f797ac9ca7f89bbd039e227430c08b60a44e213b642b8ec5be950e97c
V2S2_MANIFEST=sha256:e2b67be82a72f074d82a45faff1fb2f419427d411ff0e9dff8cc5ee0b9d7ef33
declare -a HELPER_PIDS=()

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start_registry NAME [HTPASSWD]: a registry with its storage in $TEST_TMP/NAME; sets REG_PORT.
start_registry() {
	local dir=$TEST_TMP/$1 auth=""
	mkdir -p "$dir/data"
	REG_PORT=$(free_port)
	[[ -n ${2:-} ]] && auth="auth: {htpasswd: {realm: test-realm, path: $2}}"
	cat >"$dir/config.yml" <<-EOC
		version: 0.1
		log: {level: error, accesslog: {disabled: true}}
		storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}
		http: {addr: 127.0.0.1:$REG_PORT}
		$auth
	EOC
	docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	HELPER_PIDS+=($!)
	local i
	for ((i = 0; i < 500; i++)); do
		curl -s -o /dev/null "http://127.0.0.1:$REG_PORT/v2/" && return 0
		sleep 0.01
	done
	echo "# registry $1 did not start"; cat "$dir/log"
	return 1
}

# push PORT TAG [FORMAT-ARGS...] [CREDS]: the alpine archive into the registry at PORT.
push() {
	local port=$1 tag=$2
	shift 2
	skopeo copy -q --dest-tls-verify=false "$@" "oci-archive:$OCI_ARCHIVE" \
		"docker://127.0.0.1:$port/library/alpine:$tag" >/dev/null
}

# start_proxy PORT UPSTREAM RATE [bearer[:USER:PASS]]: the throttling proxy (and token server);
# sets PROXY_PID, logs to $TEST_TMP/proxy.log.
start_proxy() {
	python3 "$top_srcdir/tests/helpers/registry-proxy.py" "$1" "$2" "$3" "$TEST_TMP/proxy.log" ${4:+"$4"} &
	PROXY_PID=$!
	HELPER_PIDS+=("$PROXY_PID")
	local i
	for ((i = 0; i < 500; i++)); do
		curl -s -o /dev/null "http://127.0.0.1:$1/v2/" && return 0
		sleep 0.01
	done
	return 1
}

stop_helpers() {
	local p
	for p in "${HELPER_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${HELPER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap 'stop_helpers; cleanup' EXIT

export CONTAIND_CONFIG=$TEST_TMP/cctl-config
start_registry reg || exit 1
R=127.0.0.1:$REG_PORT
push "$REG_PORT" 3.20 || { fail "skopeo pushes the OCI image"; done_testing; exit 1; }
push "$REG_PORT" 3.20-v2s2 --format v2s2 || fail "skopeo pushes the v2s2 image"
push "$REG_PORT" auto
push "$REG_PORT" latest
start_daemon || exit 1
root=$DAEMON_DIR/root

# Pull by tag (OCI manifest), not on a terminal: one line per step, then Digest and Status.
run_cctl pull "$R/library/alpine:3.20"
is "$RC" 0 "pull by tag from a loopback registry (plain http allowed there)"
is "$OUT" "$R/library/alpine:3.20" "stdout: the fully qualified name"
like "$ERR" "^3\.20: Pulling from library/alpine" "the first line names the tag and the repository"
like "$ERR" "${LAYER:0:12}: Pulling fs layer" "a line when the layer download is planned"
like "$ERR" "${LAYER:0:12}: Download complete" "a line when it is complete"
like "$ERR" "${LAYER:0:12}: Pull complete" "a line when the layer is unpacked"
unlike "$ERR" "Downloading" "no byte counts when stderr is not a terminal"
like "$ERR" "Digest: $OCI_MANIFEST" "the manifest digest"
like "$ERR" "Status: Downloaded newer image for $R/library/alpine:3\.20" "the status line"
check "the layer blob is stored under its digest" test -f "$root/blobs/sha256/$LAYER"
check "the config blob too" test -f "$root/blobs/sha256/$CONFIG"
check "and the manifest" test -f "$root/blobs/sha256/${OCI_MANIFEST#sha256:}"
is "$(sha256sum <"$root/blobs/sha256/$LAYER" | cut -d' ' -f1)" "$LAYER" "the stored layer is byte-identical"
is "$(ls "$root/ingest" 2>/dev/null | wc -l)" 0 "nothing is left in ingest/"
run_cctl run --rm "$R/library/alpine:3.20" cat /etc/alpine-release
is "$OUT" "3.20.3" "the pulled image runs"
run_cctl run --rm "$R/library/alpine:3.20"  sh -c 'echo $PATH'
is "$OUT" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "with the config's Env"

run_cctl pull "$R/library/alpine:3.20"
is "$RC" 0 "pulling again"
like "$ERR" "Status: Image is up to date for $R/library/alpine:3\.20" "is up to date"
unlike "$ERR" "Pull complete" "and downloads nothing"

# Docker v2 schema 2: same config and layer, another manifest.
run_cctl pull -q "$R/library/alpine:3.20-v2s2"
is "$RC" 0 "pull a Docker v2s2 manifest"
is "$OUT" "$R/library/alpine:3.20-v2s2" "-q prints only the name"
is "$ERR" "" "-q prints no progress"
check "its manifest blob is stored" test -f "$root/blobs/sha256/${V2S2_MANIFEST#sha256:}"

# An image index: one amd64 entry (the OCI manifest), one arm64/v8 (the v2s2 one, for the test).
v2s2_size=$(curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
	"http://$R/v2/library/alpine/manifests/3.20-v2s2" | wc -c)
cat >"$TEST_TMP/index.json" <<EOI
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$OCI_MANIFEST","size":406,"platform":{"os":"linux","architecture":"amd64"}},
{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"$V2S2_MANIFEST","size":$v2s2_size,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}
EOI
INDEX=sha256:$(sha256sum <"$TEST_TMP/index.json" | cut -d' ' -f1)
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
	--data-binary @"$TEST_TMP/index.json" "http://$R/v2/library/alpine/manifests/multi")
is "$code" 201 "the registry takes the index"
run_cctl pull "$R/library/alpine:multi"
is "$RC" 0 "pull of an index"
like "$ERR" "Digest: $INDEX" "Docker's Digest: line names the index"
check "the index is stored" test -f "$root/blobs/sha256/${INDEX#sha256:}"
run_cctl pull --platform linux/arm64 "$R/library/alpine:multi"
is "$RC" 0 "--platform linux/arm64 picks the arm64 entry (v8 by default)"
check "whose manifest is stored" test -f "$root/blobs/sha256/${V2S2_MANIFEST#sha256:}"
run_cctl pull --platform linux/s390x "$R/library/alpine:multi"
is "$RC" 1 "a platform the index lacks fails"
like "$ERR" "no matching manifest for linux/s390x" "with Docker's words ($ERR)"
run_cctl pull --platform linux "$R/library/alpine:multi"
like "$ERR" "invalid platform" "a malformed --platform is refused ($ERR)"

# By digest.
run_cctl pull "$R/library/alpine@$OCI_MANIFEST"
is "$RC" 0 "pull by digest"
is "$OUT" "$R/library/alpine@$OCI_MANIFEST" "stdout: the digest reference"
bad=sha256:0000000000000000000000000000000000000000000000000000000000000000
run_cctl pull "$R/library/alpine@$bad"
is "$RC" 1 "an unknown digest: exit status 1, as docker pull"
like "$ERR" "not found" "with a clear error ($ERR)"

# The image.pull example of docs/protocol.md, against this registry.
awk -v tag="# example: pull" '/^```/ { if (inblock) { inblock = 0; keep = 0 } else inblock = 1; next } inblock && $0 == tag { keep = 1 } keep' \
	"$top_srcdir/docs/protocol.md" >"$TEST_TMP/example-pull.sh"
run=$(REGISTRY=$R bash "$TEST_TMP/example-pull.sh" 2>&1)
like "$run" '"event":"image.pull_progress","params":\{"layer":null,"status":"Pulling from"' "the doc's example streams progress"
like "$run" '"result":\{"id":"sha256:'"$CONFIG"'"' "and answers with the image"

# Unknown images.
run_cctl pull "$R/library/nosuchimage:1"
is "$RC" 1 "an unknown repository: exit status 1"
like "$ERR" "not found" "says not found ($ERR)"
run_cctl pull "$R/library/alpine:nosuchtag"
is "$RC" 1 "an unknown tag: exit status 1"
like "$ERR" "manifest for .*alpine:nosuchtag not found" "says which manifest ($ERR)"
run_cctl run --rm "$R/library/nosuchimage:1" true
is "$RC" 125 "run of an unknown image: exit status 125"
like "$ERR" "Unable to find image '$R/library/nosuchimage:1' locally" "after looking for it locally"
run_cctl pull "bad//name"
is "$RC" 1 "a malformed reference fails"
like "$ERR" "invalid reference format" "with Docker's words"

# Auto-pull on run, and --pull never.
run_cctl run --pull never --rm "$R/library/alpine:auto" true
is "$RC" 125 "run --pull never of a missing image fails"
run_cctl run --rm "$R/library/alpine:auto" cat /etc/alpine-release
is "$RC" 0 "run pulls a missing image"
is "$OUT" "3.20.3" "and runs it"
like "$ERR" "Unable to find image '$R/library/alpine:auto' locally" "saying it was not found locally first"
like "$ERR" "Status: Downloaded newer image for $R/library/alpine:auto" "then the pull's status"
run_cctl run --rm "$R/library/alpine:auto" true
unlike "$ERR" "Unable to find" "the second run does not pull"
run_cctl run --pull always --rm "$R/library/alpine:auto" true
like "$ERR" "Image is up to date" "--pull always pulls (up to date)"
run_cctl create --name c1 "$R/library/alpine@$OCI_MANIFEST" true
is "$RC" 0 "create from a digest reference"
run_cctl rm c1

# A registry with htpasswd auth (registry 2 answers Basic challenges).
htpasswd -Bbn alice s3cret >"$TEST_TMP/htpasswd" 2>/dev/null
start_registry authreg "$TEST_TMP/htpasswd" || exit 1
A=127.0.0.1:$REG_PORT
push "$REG_PORT" 3.20 --dest-creds alice:s3cret || fail "push to the auth registry"
run_cctl pull "$A/library/alpine:3.20"
is "$RC" 1 "pull without login fails"
like "$ERR" "no basic auth credentials|unauthorized" "unauthorized ($ERR)"
RC=0; out=$(echo wrong | "$CCTL" login -u alice --password-stdin "$A" 2>&1) || RC=$?
is "$RC" 1 "login with a wrong password fails (exit 1, as docker login)"
like "$out" "unauthorized" "as unauthorized ($out)"
check "and stores nothing" test ! -e "$CONTAIND_CONFIG/auth.json"
RC=0; out=$(echo s3cret | "$CCTL" login -u alice --password-stdin "$A" 2>&1) || RC=$?
is "$RC" 0 "login with the right password"
like "$out" "Login Succeeded" "says so"
is "$(stat -c %a "$CONTAIND_CONFIG/auth.json")" 600 "the credentials file is 0600"
like "$(cat "$CONTAIND_CONFIG/auth.json")" "\"$A\"" "in Docker's config.json format"
run_cctl pull "$A/library/alpine:3.20"
is "$RC" 0 "pull after login"
run_cctl logout "$A"
like "$OUT" "Removing login credentials for $A" "logout"
run_cctl pull "$A/library/alpine:3.20-nope"
like "$ERR" "no basic auth credentials|unauthorized" "after logout the credentials are gone"
# Docker's own file works too.
mkdir -p "$TEST_TMP/docker-config"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$A" "$(printf alice:s3cret | base64)" >"$TEST_TMP/docker-config/config.json"
RC=0; DOCKER_CONFIG=$TEST_TMP/docker-config "$CCTL" pull -q "$A/library/alpine:3.20" >/dev/null 2>&1 || RC=$?
is "$RC" 0 "credentials from Docker's config.json are used"

# A corrupted blob: refused, nothing stored (a daemon of its own, whose store lacks the layer).
start_registry badreg || exit 1
B=127.0.0.1:$REG_PORT
push "$REG_PORT" 3.20
data=$TEST_TMP/badreg/data/docker/registry/v2/blobs/sha256/${LAYER:0:2}/$LAYER/data
python3 -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(100000); f.write(b'corrupted!'); f.close()" "$data"
start_daemon d2 || exit 1
root2=$DAEMON_DIR/root
run_cctl pull "$B/library/alpine:3.20"
is "$RC" 1 "a corrupted layer fails the pull"
like "$ERR" "verification failed for digest sha256:$LAYER" "naming the blob ($ERR)"
check "the bad layer is not stored" test ! -e "$root2/blobs/sha256/$LAYER"
is "$(ls "$root2/ingest" 2>/dev/null | wc -l)" 0 "no partial download is kept"
check "the manifest is not stored either" test ! -e "$root2/blobs/sha256/${OCI_MANIFEST#sha256:}"
run_cctl images -q
is "$OUT" "" "no image was registered"

# A registry that goes away mid-pull: a throttled proxy (about 1 MB/s) is killed after 1 s.
start_daemon d3 || exit 1
root3=$DAEMON_DIR/root
PPORT=$(free_port)
start_proxy "$PPORT" "${R#*:}" 1000000 || fail "the proxy starts"
P=127.0.0.1:$PPORT
"$CCTL" pull "$P/library/alpine:3.20" >"$TEST_TMP/pull1.out" 2>"$TEST_TMP/pull1.err" &
pull1=$!
sleep 1
kill -KILL "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
RC=0; wait "$pull1" || RC=$?
is "$RC" 1 "the pull fails once the registry is gone for good"
like "$(cat "$TEST_TMP/pull1.err")" "download failed after [0-9]+ attempts|Connection refused|connect" \
	"with a clear error ($(tail -1 "$TEST_TMP/pull1.err"))"
like "$(cat "$TEST_TMP/pull1.err")" "Retrying in" "after retries with back-off"
partial=$(stat -c %s "$root3/ingest/$LAYER.partial" 2>/dev/null || echo 0)
((partial > 0 && partial < 3490290)) && pass "the partial download is kept ($partial bytes)" ||
	fail "the partial download is kept (got $partial bytes)"
check "no blob of it is in blobs/" test ! -e "$root3/blobs/sha256/$LAYER"
: >"$TEST_TMP/proxy.log"
start_proxy "$PPORT" "${R#*:}" 50000000 || fail "the proxy starts again"
run_cctl pull "$P/library/alpine:3.20"
is "$RC" 0 "the retry completes"
like "$(cat "$TEST_TMP/proxy.log")" "blobs/sha256:$LAYER range=bytes=$partial-" "resuming from the partial file"
is "$(sha256sum <"$root3/blobs/sha256/$LAYER" | cut -d' ' -f1)" "$LAYER" "the resumed blob is whole"
run_cctl run --rm "$P/library/alpine:3.20" cat /etc/alpine-release
is "$OUT" "3.20.3" "and the image runs"

# A registry without Range support: the resumed download starts over (and is still verified).
start_daemon d3b || exit 1
root3b=$DAEMON_DIR/root
kill -KILL "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
start_proxy "$PPORT" "${R#*:}" 1000000 || fail "the slow proxy again"
"$CCTL" pull "$P/library/alpine:3.20" >/dev/null 2>&1 &
pull2=$!
sleep 1
kill -KILL "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
wait "$pull2" 2>/dev/null
partial=$(stat -c %s "$root3b/ingest/$LAYER.partial" 2>/dev/null || echo 0)
((partial > 0)) && pass "a partial download again ($partial bytes)" || fail "a partial download again"
start_proxy "$PPORT" "${R#*:}" 50000000 norange || fail "the proxy without Range"
run_cctl pull "$P/library/alpine:3.20"
is "$RC" 0 "the retry completes although the server ignores Range"
is "$(sha256sum <"$root3b/blobs/sha256/$LAYER" | cut -d' ' -f1)" "$LAYER" "the blob is whole (the partial was started over)"

# Two concurrent pulls of the same image share one download; other requests are served meanwhile.
start_daemon d4 || exit 1
: >"$TEST_TMP/proxy.log"
kill -KILL "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
start_proxy "$PPORT" "${R#*:}" 2000000 || fail "a slower proxy"
"$CCTL" pull "$P/library/alpine:3.20" >"$TEST_TMP/c1.out" 2>"$TEST_TMP/c1.err" &
c1=$!
sleep 0.3
"$CCTL" pull "$P/library/alpine:3.20" >"$TEST_TMP/c2.out" 2>"$TEST_TMP/c2.err" &
c2=$!
t0=$(date +%s%N)
run_cctl images
t1=$(date +%s%N)
is "$RC" 0 "images is answered during a pull"
(((t1 - t0) < 1000000000)) && pass "promptly ($(((t1 - t0) / 1000000)) ms)" || fail "promptly (took $(((t1 - t0) / 1000000)) ms)"
RC1=0; wait "$c1" || RC1=$?
RC2=0; wait "$c2" || RC2=$?
is "$RC1/$RC2" "0/0" "both concurrent pulls succeed"
like "$(cat "$TEST_TMP/c2.err")" "Pull complete" "the second one shows the shared progress"
is "$(grep -c "blobs/sha256:$LAYER" "$TEST_TMP/proxy.log")" 1 "the layer was downloaded once"

# Bearer tokens (Docker Hub's scheme), from a token server the proxy plays: anonymous first.
kill -KILL "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
start_daemon d8 || exit 1
: >"$TEST_TMP/proxy.log"
start_proxy "$PPORT" "${R#*:}" 50000000 bearer || fail "the token proxy starts"
run_cctl pull "$P/library/alpine:3.20"
is "$RC" 0 "pull with an anonymous Bearer token"
like "$(cat "$TEST_TMP/proxy.log")" "GET /token\?scope=repository%3Alibrary%2Falpine%3Apull&service=test-registry range=- auth=-" \
	"the token is asked for the repository's pull scope, anonymously"
like "$(cat "$TEST_TMP/proxy.log")" "blobs/sha256:$LAYER range=- auth=Bearer" "the blob is fetched with the token"
kill -KILL "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
start_proxy "$PPORT" "${R#*:}" 50000000 bearer:bob:t0ken || fail "the credentialed token proxy starts"
run_cctl pull "$P/library/alpine:3.20-v2s2"
is "$RC" 1 "a token server that wants credentials refuses an anonymous pull"
like "$ERR" "unauthorized: authentication required" "unauthorized ($ERR)"
RC=0; out=$(echo wrong | "$CCTL" login -u bob --password-stdin "$P" 2>&1) || RC=$?
is "$RC" 1 "login with a wrong password against a token server fails"
RC=0; out=$(echo t0ken | "$CCTL" login -u bob --password-stdin "$P" 2>&1) || RC=$?
is "$RC" 0 "login against a token server"
run_cctl pull "$P/library/alpine:3.20-v2s2"
is "$RC" 0 "then the pull gets a token with the credentials"
run_cctl logout "$P"
kill -KILL "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
start_proxy "$PPORT" "${R#*:}" 2000000 || fail "the plain proxy again"

# On a terminal: a line per layer redrawn in place, with a bar, bytes and speed.
start_daemon d7 || exit 1
out=$(python3 "$top_srcdir/tests/ptyrun.py" --timeout 60 -- "$CCTL" pull "$P/library/alpine:3.20" 2>&1)
like "$out" "${LAYER:0:12}: Downloading \[=*>? *\] +[0-9.]+[kM]?B/3\.49MB" "a progress bar with bytes"
like "$out" "B/s" "and the speed"
like "$out" $'\e\\[1A\r\e\\[2K' "redrawn in place (cursor up, clear line)"
like "$out" "Status: Downloaded newer image" "then the status"

# A client that goes away: the pull completes without it.
start_daemon d5 || exit 1
"$CCTL" pull "$P/library/alpine:3.20" >/dev/null 2>&1 &
gone=$!
sleep 0.5
kill -KILL "$gone"
wait "$gone" 2>/dev/null
for ((i = 0; i < 300; i++)); do
	[[ -n $("$CCTL" images -q 2>/dev/null) ]] && break
	sleep 0.05
done
run_cctl images
like "$OUT" "alpine" "the pull completed after its client went away"

# The daemon's config file: unknown keys refused; mirrors and insecure registries accepted.
echo "{\"insecure-registries\": [\"example.com:5000\"], \"registry-mirrors\": [\"http://$R\"]}" >"$TEST_TMP/ok.json"
echo '{"insecure-registry": []}' >"$TEST_TMP/bad.json"
RC=0; out=$(timeout 5 "$CONTAIND" "${NO_BRIDGE[@]}" --config "$TEST_TMP/bad.json" --socket "$TEST_TMP/x.sock" --root "$TEST_TMP/x" --state "$TEST_TMP/xs" 2>&1) || RC=$?
((RC != 0)) && pass "an unknown config key stops the daemon" || fail "an unknown config key stops the daemon"
like "$out" 'unknown setting "insecure-registry"' "naming the key"
start_daemon d6 --config "$TEST_TMP/ok.json" || fail "a valid config file is accepted"
# docker.io names go to the mirror first (here: the loopback registry, which has library/alpine).
run_cctl pull alpine
is "$RC" 0 "a docker.io image is pulled from the configured mirror"
like "$ERR" "^Using default tag: latest" "a name without a tag gets latest, saying so"
run_cctl pull alpine:3.20
is "$OUT" "docker.io/library/alpine:3.20" "under its docker.io name"
like "$ERR" "Digest: $OCI_MANIFEST" "the mirror's manifest"
run_cctl run --rm alpine:3.20 cat /etc/alpine-release
is "$OUT" "3.20.3" "and it runs as alpine:3.20"

# A zstd layer (an OCI layout made here, pushed by skopeo): stored as fetched, unpacked by the store.
if command -v zstd >/dev/null; then
	z=$TEST_TMP/zstd
	mkdir -p "$z/x" "$z/lay/blobs/sha256"
	tar -xf "$OCI_ARCHIVE" -C "$z/x"
	gzip -dc "$z/x/blobs/sha256/$LAYER" | zstd -q -o "$z/layer.zst"
	zl=$(sha256sum <"$z/layer.zst" | cut -d' ' -f1)
	cp "$z/layer.zst" "$z/lay/blobs/sha256/$zl"
	cp "$z/x/blobs/sha256/$CONFIG" "$z/lay/blobs/sha256/"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":530},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:%s","size":%s}]}' \
		"$CONFIG" "$zl" "$(stat -c %s "$z/layer.zst")" >"$z/m.json"
	zm=$(sha256sum <"$z/m.json" | cut -d' ' -f1)
	cp "$z/m.json" "$z/lay/blobs/sha256/$zm"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"zstd"}}]}' \
		"$zm" "$(stat -c %s "$z/m.json")" >"$z/lay/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$z/lay/oci-layout"
	skopeo copy -q --dest-tls-verify=false "oci:$z/lay:zstd" "docker://$R/library/alpinez:zstd" >/dev/null ||
		fail "skopeo pushes the zstd image"
	start_daemon d9 || exit 1
	run_cctl pull "$R/library/alpinez:zstd"
	is "$RC" 0 "pull of an image with a zstd layer"
	check "the zstd blob is stored as fetched" test -f "$DAEMON_DIR/root/blobs/sha256/$zl"
	run_cctl run --rm "$R/library/alpinez:zstd" cat /etc/alpine-release
	is "$OUT" "3.20.3" "and it runs"
else
	skip "zstd layers" "zstd is not installed"
fi

done_testing
