#!/usr/bin/env bash
# cctl load and cctl save: the OCI archive of the Alpine image (plain, gzip, zstd) loads as
# alpine:3.20 and runs; docker save archives built here (the old <id>/layer.tar layout and the
# blobs/ one, three layers with a whiteout and an opaque directory) load and their containers see
# exactly the right files; save -> load keeps the id, skopeo reads what save writes; hostile
# archives are refused with a clear error and leave nothing behind.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
OCI_TAR=${CONTAIND_TEST_ALPINE_OCI:-$(dirname "$ALPINE_TARBALL")/alpine-oci.tar}
if [[ ! -r $OCI_TAR ]]; then
	echo "1..0 # SKIP no $OCI_TAR"
	exit 0
fi
# What a daemon killed during a load left: the next one removes it at start.
mkdir -p "$TEST_TMP/d/root/ingest/load-0123/blobs" "$TEST_TMP/d/root/ingest/keep.partial.d"
start_daemon || exit 1
ROOT=$DAEMON_DIR/root
T=$TEST_TMP
[[ -e $ROOT/ingest/load-0123 ]] && fail "an interrupted load's directory is removed at start" ||
	pass "an interrupted load's directory is removed at start"
[[ -e $ROOT/ingest/keep.partial.d ]] && pass "other files of ingest/ stay" || fail "other files of ingest/ stay"
rmdir "$ROOT/ingest/keep.partial.d"

# nothing_left WHAT: the load left no directory or file in ingest/ and tmp/.
nothing_left() {
	local left
	left=$(find "$ROOT/ingest" "$ROOT/tmp" -mindepth 1 2>/dev/null | head -5)
	is "$left" "" "$1: nothing is left in ingest/ or tmp/"
}

# --- The OCI archive, plain, gzip and zstd.
run_cctl load -i "$OCI_TAR"
is "$RC" 0 "cctl load -i alpine-oci.tar succeeds"
is "$OUT" "Loaded image: alpine:3.20" "it prints the loaded name as docker does"
run_cctl images
like "$OUT" "alpine +3\.20 " "cctl images lists alpine:3.20"
like "$("$CCTL" images -q --no-trunc)" "af9d14307a8764227443d34213ea78fd695ca3ef4dbd32a565dac0644cfe0acf" "the image id is the config's digest"
run_cctl run --rm alpine:3.20 cat /etc/alpine-release
is "$OUT" "3.20.3" "a container of the loaded image runs"
out=$(echo 'echo cmd-is-sh' | "$CCTL" run --rm -i alpine:3.20 2>&1)
is "$out" "cmd-is-sh" "the image's Cmd (/bin/sh) is what runs without a command"
nothing_left "plain load"

check "rmi alpine:3.20" "$CCTL" rmi alpine:3.20
out=$(gzip -c "$OCI_TAR" | "$CCTL" load 2>&1)
is "$out" "Loaded image: alpine:3.20" "a gzip-compressed archive loads from stdin"
check "rmi alpine:3.20 again" "$CCTL" rmi alpine:3.20
out=$(zstd -q -c "$OCI_TAR" | "$CCTL" load -q 2>&1)
is "$out" "Loaded image: alpine:3.20" "a zstd-compressed archive loads, -q still names it"
run_cctl run --rm alpine:3.20 cat /etc/alpine-release
is "$OUT" "3.20.3" "and runs"
# Counted once the daemon is warm (a container ran: its spares and filters are made).
fds_before=$(daemon_fds)

# An index whose entry is an index (a multi-platform image): the host's platform is taken.
python3 - "$OCI_TAR" "$T/multi.tar" "$(uname -m)" <<'EOF'
import hashlib, io, json, sys, tarfile
src, dst, machine = sys.argv[1:]
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
with tarfile.open(src) as t:
	files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
old = json.loads(files["index.json"])["manifests"][0]
old["platform"] = {"os": "linux", "architecture": arch}
other = {"mediaType": old["mediaType"], "digest": "sha256:" + "0" * 64, "size": 1,
	"platform": {"os": "linux", "architecture": "s390x" if arch != "s390x" else "amd64"}}
inner = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [other, old]}).encode()
h = hashlib.sha256(inner).hexdigest()
files["blobs/sha256/" + h] = inner
files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
	"digest": "sha256:" + h, "size": len(inner), "annotations": {"io.containerd.image.name": "docker.io/library/multi:1"}}]}).encode()
del files["manifest.json"]
with tarfile.open(dst, "w") as t:
	for name, data in files.items():
		ti = tarfile.TarInfo(name)
		ti.size = len(data)
		t.addfile(ti, io.BytesIO(data))
EOF
run_cctl load -i "$T/multi.tar"
is "$OUT" "Loaded image: multi:1" "an index of indexes loads the manifest for this machine's platform"
run_cctl run --rm multi:1 cat /etc/alpine-release
is "$OUT" "3.20.3" "and runs"
check "rmi multi:1" "$CCTL" rmi multi:1

# No name anywhere (no annotation, no manifest.json): docker prints the id.
python3 - "$OCI_TAR" "$T/unnamed.tar" <<'EOF'
import io, json, sys, tarfile
src, dst = sys.argv[1:]
with tarfile.open(src) as t, tarfile.open(dst, "w") as out:
	for m in t.getmembers():
		if not m.isfile():
			out.addfile(m)
			continue
		data = t.extractfile(m).read()
		if m.name == "manifest.json":
			continue
		if m.name == "index.json":
			idx = json.loads(data)
			del idx["manifests"][0]["annotations"]
			data = json.dumps(idx).encode()
		m.size = len(data)
		out.addfile(m, io.BytesIO(data))
EOF
# docker's own index.json: ref.name is the bare tag; manifest.json's RepoTags name the image.
python3 - "$OCI_TAR" "$T/bare-tag.tar" <<'EOF'
import io, json, sys, tarfile
src, dst = sys.argv[1:]
with tarfile.open(src) as t, tarfile.open(dst, "w") as out:
	for m in t.getmembers():
		if not m.isfile():
			out.addfile(m)
			continue
		data = t.extractfile(m).read()
		if m.name == "index.json":
			idx = json.loads(data)
			idx["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = "3.20"
			data = json.dumps(idx).encode()
		m.size = len(data)
		out.addfile(m, io.BytesIO(data))
EOF
run_cctl load -i "$T/bare-tag.tar"
is "$OUT" "Loaded image: alpine:3.20" "a bare-tag ref.name gives way to manifest.json's RepoTags"
run_cctl load -i "$T/unnamed.tar"
is "$OUT" "Loaded image ID: sha256:af9d14307a8764227443d34213ea78fd695ca3ef4dbd32a565dac0644cfe0acf" \
	"an image without a name: Loaded image ID"

out=$(python3 "$top_srcdir/tests/ptyrun.py" -- "$CCTL" load 2>&1)
like "$out" "requested load from stdin, but stdin is empty" "load from a terminal is refused as docker does"
run_cctl load </dev/null
is "$RC" 125 "an empty stdin: exit 125"
like "$ERR" "not a tar archive" "an empty stdin: not a tar archive"

# --- docker save archives, built here: the Alpine root plus two layers with whiteouts.
gzip -dc "$ALPINE_TARBALL" >"$T/base.tar"
python3 - "$T" <<'EOF'
import hashlib, io, json, os, sys, tarfile
T = sys.argv[1]
def tar_of(entries):
	buf = io.BytesIO()
	with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
		for name, data in entries:
			ti = tarfile.TarInfo(name)
			if data is None:
				ti.type, ti.mode = tarfile.DIRTYPE, 0o755
				t.addfile(ti)
			else:
				ti.size, ti.mode = len(data), 0o644
				t.addfile(ti, io.BytesIO(data))
	return buf.getvalue()
base = open(os.path.join(T, "base.tar"), "rb").read()
l2 = tar_of([("a", b"a\n"), ("keep", b"keep\n"), ("dir", None), ("dir/x", b"x\n"), ("dir/y", b"y\n")])
l3 = tar_of([(".wh.a", b""), ("dir", None), ("dir/.wh..wh..opq", b""), ("dir/z", b"z\n")])
layers = [base, l2, l3]
sha = lambda b: hashlib.sha256(b).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
	"config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
	"rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(l) for l in layers]}}).encode()
def write(path, files):
	with tarfile.open(path, "w") as t:
		for name, data in files:
			ti = tarfile.TarInfo(name)
			if isinstance(data, str):
				ti.type, ti.linkname = tarfile.SYMTYPE, data
				t.addfile(ti)
			else:
				ti.size = len(data)
				t.addfile(ti, io.BytesIO(data))
# The old layout: <id>/layer.tar, <config id>.json; the last layer a symlink to a copy elsewhere.
old = [(sha(config) + ".json", config)]
paths = []
for i, l in enumerate(layers):
	d = "%064x" % (i + 1)
	paths.append(d + "/layer.tar")
	old += [(d + "/VERSION", b"1.0"), (d + "/json", b"{}")]
	old.append((d + "/layer.tar", l if i < 2 else "../%064x/layer.tar" % 99))
old.append(("%064x/layer.tar" % 99, l3))
old.append(("manifest.json", json.dumps([{"Config": sha(config) + ".json", "RepoTags": ["wh:old"], "Layers": paths}]).encode()))
write(os.path.join(T, "docker-old.tar"), old)
# The blobs/ layout (manifest.json only), the top layer gzip-compressed.
import gzip
l3z = gzip.compress(l3)
blobs = [config, base, l2, l3z]
new = [("blobs/sha256/" + sha(b), b) for b in blobs]
new.append(("manifest.json", json.dumps([{"Config": "blobs/sha256/" + sha(config), "RepoTags": ["wh:new", "docker.io/library/wh:also"],
	"Layers": ["blobs/sha256/" + sha(b) for b in blobs[1:]]}]).encode()))
write(os.path.join(T, "docker-new.tar"), new)
open(os.path.join(T, "config-id"), "w").write("sha256:" + sha(config))
EOF
config_id=$(cat "$T/config-id")
run_cctl load -i "$T/docker-old.tar"
is "$RC" 0 "a docker save archive (old layout, a symlinked layer) loads"
is "$OUT" "Loaded image: wh:old" "it is named by RepoTags"
run_cctl run --rm wh:old sh -c 'ls /dir; test -e /a && echo a-is-there; cat /keep'
is "$OUT" $'z\nkeep' "the container sees the whiteout (/a gone) and the opaque dir (only z in /dir)"
run_cctl load -i "$T/docker-new.tar"
is "$RC" 0 "a docker save archive (blobs/ layout, a gzip layer) loads"
is "$OUT" $'Loaded image: wh:new\nLoaded image: wh:also' "with both its RepoTags"
run_cctl run --rm wh:new sh -c 'ls /dir; test -e /a && echo a-is-there; cat /keep'
is "$OUT" $'z\nkeep' "its container sees the same files"
run_cctl images -q --no-trunc
like "$OUT" "$config_id" "the image id is the config's digest"

# --- save, and load back.
id_before=$("$CCTL" images -q --no-trunc | sort -u | tr '\n' ' ')
run_cctl save -o "$T/saved.tar" alpine:3.20 wh:new
is "$RC" 0 "cctl save -o writes an archive"
ls "$T"/saved.tar.cctl-* >/dev/null 2>&1 && fail "no temporary file is left" || pass "no temporary file is left"
like "$(tar tf "$T/saved.tar" | sort | tr '\n' ' ')" "^blobs/ blobs/sha256/ .*index.json manifest.json oci-layout $" \
	"it has the dual layout: oci-layout, index.json, manifest.json, blobs/sha256"
like "$(tar xOf "$T/saved.tar" manifest.json)" '"RepoTags":\["alpine:3.20"\]' "manifest.json names the image by RepoTags"
# What moby's loader (image/tarexport/load.go) requires of manifest.json: a JSON array; each
# Config a file holding an image config with os and rootfs; as many Layers as diff_ids, each
# layer file, decompressed, hashing to its diff_id; RepoTags all NAME:TAG.
out=$(python3 - "$T/saved.tar" <<'EOF'
import gzip, hashlib, json, re, sys, tarfile
t = tarfile.open(sys.argv[1])
read = lambda n: t.extractfile(t.getmember(n)).read()
items = json.loads(read("manifest.json"))
assert isinstance(items, list) and items, "manifest.json is a non-empty array"
for it in items:
	cfg = json.loads(read(it["Config"]))
	assert cfg["os"] == "linux" and cfg["rootfs"]["type"] == "layers", "config has os and rootfs"
	ids = cfg["rootfs"]["diff_ids"]
	assert len(ids) == len(it["Layers"]), "as many layers as diff_ids"
	for path, diff_id in zip(it["Layers"], ids):
		data = read(path)
		if data[:2] == b"\x1f\x8b":
			data = gzip.decompress(data)
		assert "sha256:" + hashlib.sha256(data).hexdigest() == diff_id, "layer %s hashes to its diff_id" % path
	for tag in it["RepoTags"]:
		assert re.fullmatch(r"[a-z0-9./_-]+(:[0-9]+)?[a-z0-9./_-]*:[\w][\w.-]{0,127}", tag), "tagged: " + tag
print("ok", len(items))
EOF
)
is "$out" "ok 2" "manifest.json follows docker load's rules for both images"
"$CCTL" save wh:old >"$T/stdout.tar"
is "$?" 0 "cctl save to a redirected stdout"
like "$(tar xOf "$T/stdout.tar" index.json)" '"org.opencontainers.image.ref.name":"wh:old"' "index.json has the ref.name annotation"
out=$(python3 "$top_srcdir/tests/ptyrun.py" -- "$CCTL" save wh:old 2>&1)
like "$out" "cowardly refusing to save to a terminal" "save to a terminal is refused as docker does"
check "rmi every image" "$CCTL" rmi alpine:3.20 wh:new wh:also wh:old
run_cctl load -i "$T/saved.tar"
is "$RC" 0 "the saved archive loads"
is "$OUT" $'Loaded image: alpine:3.20\nLoaded image: wh:new' "with the names it was saved under"
"$CCTL" load -i "$T/stdout.tar" >/dev/null
id_after=$("$CCTL" images -q --no-trunc | sort -u | tr '\n' ' ')
is "$id_after" "$id_before" "save -> load keeps the image ids"
run_cctl run --rm wh:new cat /dir/z
is "$OUT" "z" "a reloaded image runs"
skopeo inspect "oci-archive:$T/stdout.tar" >"$T/inspect" 2>&1
is "$?" 0 "skopeo inspect oci-archive: reads the saved archive"
like "$(cat "$T/inspect")" '"Layers": \[' "and finds its layers"
skopeo copy -q "oci-archive:$T/stdout.tar" "dir:$T/dircopy" >"$T/copy" 2>&1
is "$?" 0 "skopeo copy oci-archive: -> dir: succeeds (every digest matches)"
out=$("$CCTL" save alpine:3.20 | "$CCTL" load 2>&1)
is "$out" "Loaded image: alpine:3.20" "save | load through a pipe"
check "rmi alpine:3.20 before two loads at once" "$CCTL" rmi alpine:3.20
"$CCTL" load -i "$OCI_TAR" >"$T/c1" 2>&1 &
c1=$!
"$CCTL" load -i "$OCI_TAR" >"$T/c2" 2>&1
c2=$?
wait "$c1"
is "$? $c2 $(cat "$T/c1" "$T/c2" | sort -u)" "0 0 Loaded image: alpine:3.20" "two loads of the same archive at once both succeed"
run_cctl run --rm alpine:3.20 cat /etc/alpine-release
is "$OUT" "3.20.3" "and the image runs"
run_cctl save -o "$T/none.tar" no-such-image
is "$RC" 125 "saving an unknown image: exit 125"
like "$ERR" "no-such-image" "the error names it"
[[ -e $T/none.tar ]] && fail "a failed save leaves no file" || pass "a failed save leaves no file"

# --- Hostile archives: each refused with a clear error, nothing stored, nothing left.
python3 - "$T" <<'EOF'
import hashlib, io, json, os, sys, tarfile
T = sys.argv[1]
sha = lambda b: hashlib.sha256(b).hexdigest()
def write(name, files):
	with tarfile.open(os.path.join(T, name), "w") as t:
		for path, data in files:
			ti = tarfile.TarInfo(path)
			if isinstance(data, str):
				ti.type, ti.linkname = tarfile.SYMTYPE, data
				t.addfile(ti)
			else:
				ti.size = len(data)
				t.addfile(ti, io.BytesIO(data))
config = json.dumps({"os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
def manifest(cfg):
	return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + sha(cfg), "size": len(cfg)},
		"layers": []}).encode()
def index(m):
	return json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
		"digest": "sha256:" + sha(m), "size": len(m), "annotations": {"org.opencontainers.image.ref.name": "evil:1"}}]}).encode()
m = manifest(config)
layout = b'{"imageLayoutVersion":"1.0.0"}'
write("dotdot.tar", [("oci-layout", layout), ("../evil", b"x"), ("index.json", index(m))])
write("symlinked-blobs.tar", [("oci-layout", layout), ("blobs", "/etc"), ("index.json", index(m))])
write("mismatch.tar", [("oci-layout", layout), ("blobs/sha256/" + sha(m), m + b" "), ("index.json", index(m))])
write("missing-blob.tar", [("oci-layout", layout), ("blobs/sha256/" + sha(config), config), ("index.json", index(m))])
write("missing-config.tar", [("oci-layout", layout), ("blobs/sha256/" + sha(m), m), ("index.json", index(m))])
write("bogus-json.tar", [("oci-layout", layout), ("index.json", b'{"schemaVersion": 2, "manifests": [')])
write("oversized-index.tar", [("oci-layout", layout), ("index.json", b" " * (5 << 20))])
write("rootfs.tar", [("etc/hostname", b"x\n")])
# A header that claims a petabyte, and no data behind it.
huge = tarfile.TarInfo("blobs/sha256/" + "1" * 64)
huge.size = 1 << 50
with open(os.path.join(T, "huge.tar"), "wb") as f:
	f.write(huge.tobuf(tarfile.PAX_FORMAT) + b"\0" * 10240)
EOF
images_now() { "$CCTL" images --no-trunc | awk '{ print $1, $2, $3 }'; }
images_before=$(images_now)
hostile() { # FILE REGEX DESC
	run_cctl load -i "$T/$1"
	is "$RC" 125 "$3: exit 125"
	like "$ERR" "$2" "$3: $2"
	is "$(images_now)" "$images_before" "$3: cctl images unchanged"
}
hostile dotdot.tar '"\.\./evil".*leaves the archive' "a ../ entry"
hostile symlinked-blobs.tar '"blobs": absolute paths are not allowed' "a symlinked blobs dir"
hostile mismatch.tar 'digest mismatch' "a blob whose content is not its digest"
hostile missing-blob.tar 'manifest sha256:[0-9a-f]{64} is missing' "a missing manifest blob"
hostile missing-config.tar 'config sha256:[0-9a-f]{64} is missing' "a manifest pointing at a non-existing config"
hostile bogus-json.tar 'index is not valid JSON' "bogus JSON"
hostile oversized-index.tar 'index.json in the archive is larger than' "an oversized index.json"
hostile huge.tar 'is 1125899906842624 bytes, more than the free space' "an entry bigger than the disk"
hostile rootfs.tar 'not an image archive.*cctl import' "a root filesystem tarball"
[[ -e /evil || -e $T/evil || -e $ROOT/evil ]] && fail "the ../ entry wrote nothing" || pass "the ../ entry wrote nothing"
sleep 0.2
nothing_left "hostile archives"
is "$(find "$ROOT/blobs/sha256" -type f -newer "$T/rootfs.tar" | wc -l)" 0 "no hostile blob entered the store"

# --- The protocol: strict params, one fd.
out=$(printf '%s\n' '{"v":1,"id":1,"method":"image.load","params":{"quiet":true}}' | socat - "UNIX-CONNECT:$CONTAIND_SOCKET" 2>&1)
like "$out" '"code":"invalid_params".*quiet' "image.load refuses an unknown param"
out=$(printf '%s\n' '{"v":1,"id":1,"method":"image.save","params":{"names":["alpine:3.20"]}}' | socat - "UNIX-CONNECT:$CONTAIND_SOCKET" 2>&1)
like "$out" '"code":"bad_fds"' "image.save without an fd: bad_fds"

fds_after=$(daemon_fds)
((fds_after <= fds_before)) && pass "the daemon holds no more fds than before ($fds_after, $fds_before)" ||
	fail "the daemon holds no more fds than before ($fds_after, was $fds_before)"
done_testing
