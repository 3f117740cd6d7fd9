#!/usr/bin/env bash
# The content-addressed store from cctl: import in Docker's order (blobs, OCI configs), tag,
# history, image inspect, images' filters and formats, system df; a three-layer image with a
# whiteout and an opaque directory run as a container (exactly the right files, the image's labels
# inherited); prune and rmi -f never take what a container still uses.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
root=$DAEMON_DIR/root
ALPINE_DIFF=1bccf10afce5c1ffe31381419930ad565c1436eaeb1ca680494b0663e0028419

# --- import: Docker's order, the old one with a note, no name. ---
run_cctl import "$ALPINE_TARBALL" alpine
is "$RC" 0 "import FILE NAME (docker's order)"
like "$OUT" '^sha256:[0-9a-f]{64}$' "it prints the image id"
id=$OUT
is "$ERR" "" "with nothing on stderr"
is "$(sha256sum <"$root/blobs/sha256/${id#sha256:}" | cut -d' ' -f1)" "${id#sha256:}" "the id is the digest of the config blob"
config=$(cat "$root/blobs/sha256/${id#sha256:}")
like "$config" "\"diff_ids\":\\[\"sha256:$ALPINE_DIFF\"\\]" "the config names the layer's diff_id"
like "$config" '"architecture":"[a-z0-9]+".*"os":"linux"' "and the platform"
run_cctl import alpine:old "$ALPINE_TARBALL"
is "$RC" 0 "the old order NAME FILE still works"
like "$ERR" 'deprecated' "with a deprecation note on stderr"
is "$OUT" "$id" "the same tarball with the same settings is the same image"
run_cctl import -c 'CMD ["/bin/echo", "from-cmd"]' "$ALPINE_TARBALL"
is "$RC" 0 "import without a name"
noname=$OUT
run_cctl images --filter dangling=true -q
is "$OUT" "${noname:7:12}" "it is the one dangling image"
is "$("$CCTL" run --rm "${noname:7:12}")" "from-cmd" "it runs its CMD"
is "$(ls "$root/layers")" "$ALPINE_DIFF" "three imports, one layer"

# --- import of a URL: fetched by curl, run by cctl. ---
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$(dirname "$ALPINE_TARBALL")" "$port" >/dev/null 2>&1 &
http_pid=$!
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.05; done
run_cctl import "http://127.0.0.1:$port/$(basename "$ALPINE_TARBALL")" fromurl
is "$RC" 0 "import of a URL"
is "$OUT" "$id" "it is the same image as the file's"
run_cctl import "http://127.0.0.1:$port/nonexistent.tar.gz" nourl
is "$RC" 125 "import of a URL that is not there fails"
like "$ERR" 'downloading .*nonexistent.tar.gz failed' "and says the download failed"
kill "$http_pid"
wait "$http_pid" 2>/dev/null
run_cctl rmi fromurl

# --- tag ---
run_cctl tag alpine mine/box:v1
is "$RC" 0 "tag alpine mine/box:v1"
run_cctl images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
like "$OUT" "mine/box:v1 ${id:7:12}" "the new name points at the image"
run_cctl tag nosuch x
is "$RC" 1 "tag of an unknown image exits 1"
like "$ERR" 'no such image: nosuch' "and says so"
run_cctl tag alpine 'Bad:Name'
is "$RC" 1 "tag to an invalid name exits 1"

# --- images: filters and formats ---
run_cctl images --filter 'reference=mine/*'
is "$(tail -n +2 <<<"$OUT" | awk '{print $1 ":" $2}')" "mine/box:v1" "reference=mine/* lists only mine/box"
run_cctl images alpine
is "$(tail -n +2 <<<"$OUT" | awk '{print $2}' | sort | tr '\n' ' ')" "latest old " "images REPOSITORY lists its tags"
run_cctl images --filter since=alpine -q
is "$OUT" "${noname:7:12}" "since=alpine: the image imported after it"
run_cctl images --filter "before=${noname:7:12}" -q
is "$(sort -u <<<"$OUT")" "${id:7:12}" "before=<id>: the image imported before it"
run_cctl images --filter dangling=false --format json
is "$(head -1 <<<"$OUT" | jq -r '.Repository + ":" + .Tag + " " + .ID')" "alpine:latest ${id:7:12}" "--format json: a JSON object per line, docker's fields"
is "$(grep -c . <<<"$OUT")" 3 "one line per name (alpine:latest, alpine:old, mine/box:v1)"
run_cctl images --digests
like "$(head -1 <<<"$OUT")" '^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$' "--digests adds a DIGEST column"
run_cctl images -q --no-trunc --filter reference=alpine
is "$(sort -u <<<"$OUT")" "$id" "-q --no-trunc: the full id, once per image"
run_cctl images --filter bogus=1
is "$RC" 125 "an unknown filter is refused"

# --- history and inspect ---
run_cctl history alpine
like "$(sed -n 2p <<<"$OUT")" "^${id:7:12} .*Imported from -" "history: the import, with docker's comment"
run_cctl image inspect alpine
is "$RC" 0 "image inspect"
is "$(jq -r '.[0].Id' <<<"$OUT")" "$id" "its Id"
is "$(jq -r '.[0].RootFS.Layers[0]' <<<"$OUT")" "sha256:$ALPINE_DIFF" "RootFS.Layers: the diff_ids"
is "$(jq -r '.[0].RepoTags | sort | join(",")' <<<"$OUT")" "alpine:latest,alpine:old,mine/box:v1" "RepoTags"
is "$(jq -r '.[0].Config.Env[0]' <<<"$OUT")" "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "Config.Env"
run_cctl image inspect --format '{{json .Config.Cmd}}' "$noname"
is "$OUT" '["/bin/echo","from-cmd"]' "inspect --format on the verbatim config"
run_cctl image inspect nosuch
is "$RC" 1 "inspect of an unknown image exits 1"

# --- A three-layer image: Alpine, then a layer with a whiteout and an opaque directory, then a
# top layer. The two upper layers are imported (so the worker converts their whiteouts); the
# image's config and record are written while the daemon is stopped, as a pull would leave them.
mkdir -p "$TEST_TMP/layers"
python3 - "$TEST_TMP/layers" <<'PY'
import hashlib, io, sys, tarfile
d = sys.argv[1]
def tar(name, members):
    with tarfile.open(f"{d}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for path, data in members:
            i = tarfile.TarInfo(path)
            if data is None:
                i.type = tarfile.DIRTYPE; i.mode = 0o755
                t.addfile(i)
            else:
                i.size = len(data); i.mode = 0o644
                t.addfile(i, io.BytesIO(data))
    open(f"{d}/{name}.sha", "w").write(hashlib.sha256(open(f"{d}/{name}.tar", "rb").read()).hexdigest())
tar("mid", [("etc", None), ("etc/.wh.alpine-release", b""), ("etc/apk", None), ("etc/apk/.wh..wh..opq", b""),
            ("etc/apk/only-this", b"mid\n")])
tar("top", [("top", b"top\n")])
tar("lonely", [("lonely", b"only mine\n")])
PY
run_cctl import "$TEST_TMP/layers/mid.tar" mid
is "$RC" 0 "import the whiteout layer"
run_cctl import "$TEST_TMP/layers/top.tar" top
mid=$(cat "$TEST_TMP/layers/mid.sha") top=$(cat "$TEST_TMP/layers/top.sha")
[[ -c $root/layers/$mid/etc/alpine-release ]] && pass "the whiteout is a character device in the layer" || fail "the whiteout is a character device in the layer"
is "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())' "$root/layers/$mid/etc/apk" 2>&1)" "y" "etc/apk is marked opaque"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
python3 - "$root" "$ALPINE_DIFF" "$mid" "$top" <<'PY'
import hashlib, json, os, sys
root, layers = sys.argv[1], sys.argv[2:]
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2025-05-05T05:05:05Z",
                  "config": {"Cmd": ["cat", "/top"], "Labels": {"org.example.layers": "three", "shared": "image"},
                             "ExposedPorts": {"8080/tcp": {}}, "Volumes": {"/data": {}}},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + l for l in layers]},
                  "history": [{"created_by": "base"}, {"created_by": "mid"}, {"created_by": "top"}]},
                 separators=(",", ":")).encode()
h = hashlib.sha256(cfg).hexdigest()
open(f"{root}/blobs/sha256/{h}", "wb").write(cfg)
rec = {"version": 2, "id": "sha256:" + h, "manifest_digest": None, "repo_digests": [], "size": 3,
       "created_at": "2025-05-05T05:05:05Z", "removed": False,
       "layers": [{"diff_id": "sha256:" + l, "digest": None, "media_type": None, "size": 0, "unpacked_size": 1}
                  for l in layers]}
json.dump(rec, open(f"{root}/images/{h}.json", "w"))
repos = json.load(open(f"{root}/repositories.json"))
repos["names"]["layered:latest"] = "sha256:" + h
json.dump(repos, open(f"{root}/repositories.json", "w"))
print(h)
PY
start_daemon || exit 1
run_cctl run --rm layered
is "$OUT" "top" "the three-layer image runs its CMD from the top layer"
run_cctl run --rm layered sh -c 'ls -A /etc/apk; [ -e /etc/alpine-release ] && echo present || echo gone; cat /etc/apk/only-this; [ -e /etc/apk/repositories ] && echo leak'
is "$OUT" $'only-this\ngone\nmid' "the container sees exactly the right files: the whiteout hides, the opaque dir shows only its own"
run_cctl image inspect --format '{{json .Config.ExposedPorts}} {{json .Config.Volumes}}' layered
is "$OUT" '{"8080/tcp":{}} {"/data":{}}' "inspect shows ExposedPorts and Volumes"
run_cctl create --name keep --label shared=container layered
is "$RC" 0 "a container created from it"
run_cctl inspect --format '{{json .Config.Labels}}' keep
is "$OUT" '{"org.example.layers":"three","shared":"container"}' "it inherits the image's labels, its own win"
run_cctl history layered
is "$(tail -n +2 <<<"$OUT" | awk '{print $(NF-1)}' | tr '\n' ' ')" "top mid base " "history: newest first"

# --- system df ---
run_cctl system df
like "$(head -1 <<<"$OUT")" '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$' "system df: docker's header"
like "$OUT" $'\nImages +5 +1 ' "five images (alpine has three names), one used by a container"
like "$OUT" $'\nContainers +1 +0 ' "one container, none running"
if [[ ${CONTAIND_TEST_USERNS:-0} == 1 ]]; then
	# Volumes are refused in a user namespace: the image's /data stays in the container's upper dir.
	like "$OUT" $'\nLocal Volumes +0 +0 ' "and the volumes row: none (no volumes in a user namespace)"
else
	like "$OUT" $'\nLocal Volumes +1 +1 ' "and the volumes row: the anonymous volume of the image's /data (its Config.Volumes), which the container uses"
fi

# --- prune: dangling only, then -a; never what a container uses. ---
run_cctl import "$TEST_TMP/layers/lonely.tar"
lonely=$(cat "$TEST_TMP/layers/lonely.sha")
run_cctl image prune
is "$RC" 0 "prune without -f, answered no (stdin empty)"
[[ -d $root/layers/$lonely ]] && pass "nothing was removed" || fail "nothing was removed"
run_cctl image prune -f
like "$OUT" "deleted: ${noname}" "prune -f removes the dangling images"
like "$OUT" 'Total reclaimed space: [0-9.]+[kMG]?B' "and reports the space"
[[ ! -e $root/layers/$lonely && ! -e $root/blobs/sha256/$lonely ]] && pass "a layer and blob only a pruned image had are gone" || fail "a layer and blob only a pruned image had are gone"
[[ -d $root/layers/$ALPINE_DIFF ]] && pass "the shared Alpine layer stays" || fail "the shared Alpine layer stays"
run_cctl image prune -a -f
like "$OUT" 'untagged: alpine:latest' "prune -a removes unused named images"
unlike "$OUT" 'layered' "but not the image a container uses"
for l in "$ALPINE_DIFF" "$mid" "$top"; do
	[[ -d $root/layers/$l ]] || fail "layer $l of the used image was pruned"
done
run_cctl events --since 1m --until 0s --filter type=image --filter event=untag --filter event=delete
like "$OUT" 'image untag sha256:[0-9a-f]{64} .*name=alpine:latest' "prune sent untag events"
like "$OUT" "image delete ${noname}" "and delete events"
run_cctl start -a keep
is "$OUT" "top" "the container still starts on its layers"

# --- rmi -f with a stopped container: gone for users, kept for the container. ---
layered_id=$("$CCTL" image inspect --format '{{.Id}}' layered)
run_cctl rmi -f layered
like "$OUT" 'Deleted: sha256:' "rmi -f deletes the image a stopped container uses"
run_cctl run --rm "$layered_id"
is "$RC" 125 "a new container cannot use it, even by its full id"
like "$ERR" 'no such image' "no such image"
run_cctl images -q
is "$OUT" "" "no image is listed"
run_cctl start -a keep
is "$OUT" "top" "the container still starts: its layers were kept"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
start_daemon || exit 1
run_cctl images -q
is "$OUT" "" "after a restart the removed image is still not listed"
run_cctl start -a keep
is "$OUT" "top" "and the container still starts: the store kept its record and layers at open"
run_cctl rm keep
run_cctl image prune -f
is "$(ls "$root/layers" | wc -l)" 0 "once the container is gone, prune collects its image's layers"
is "$(ls "$root/images" | wc -l)" 0 "and its record"
done_testing
