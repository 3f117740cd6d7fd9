#!/usr/bin/env bash
# Volumes and mounts: -v HOST:CTR[:ro] binds (directories and files), named volumes (created on
# first use, seeded from the image, kept across containers), anonymous volumes (gone with --rm and
# rm -v), --mount, --tmpfs with size and mode, --read-only, --volumes-from, the cctl volume verbs
# and their errors, a mount target that is a symlink out of the root (refused, the host untouched),
# and no fd leaked by the daemon.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine

inspect_field() {
	"$CCTL" inspect "$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]'"$2"'))'
}

start_daemon d || exit 1
import_alpine || exit 1
root=$DAEMON_DIR/root
"$CCTL" run --rm alpine true
fds_before=$(daemon_fds)

# Bind mounts, read-write and read-only.
host=$TEST_TMP/host
mkdir -p "$host"
echo from-host >"$host/in"
is "$("$CCTL" run --rm -v "$host:/src" alpine cat /src/in)" from-host "a bind shows the host's files"
run_cctl run --rm -v "$host:/src" alpine sh -c 'echo from-ctr >/src/out'
is "$RC" 0 "a write to a rw bind succeeds"
is "$(cat "$host/out" 2>/dev/null)" from-ctr "and is visible on the host"
run_cctl run --rm -v "$host:/src:ro" alpine sh -c 'echo x >/src/ro-write'
isnt_rc=$RC
check "a write to a ro bind fails" test "$isnt_rc" != 0
like "$ERR" "Read-only file system" "with EROFS"
check "nothing was written on the host" test ! -e "$host/ro-write"
run_cctl run --rm --mount "type=bind,source=$host,target=/m,readonly" alpine touch /m/x
check "--mount ...,readonly is read-only" test "$RC" != 0 -a ! -e "$host/x"
is "$("$CCTL" run --rm -v "$host/in:/etc/motd:ro" alpine cat /etc/motd)" from-host "a bind of a file on a file"
is "$("$CCTL" run --rm -v "$host/in:/new/file" alpine cat /new/file)" from-host "a bind of a file on a new path"
run_cctl run --rm -v "$TEST_TMP/created/sub:/c" alpine true
check "-v creates a missing host directory (as docker -v)" test -d "$TEST_TMP/created/sub"
run_cctl run --rm --mount "type=bind,source=$TEST_TMP/missing,target=/c" alpine true
is "$RC" 125 "--mount with a missing source: exit 125"
like "$ERR" "bind source path does not exist: $TEST_TMP/missing" "with Docker's message"
check "--mount did not create it" test ! -e "$TEST_TMP/missing"

# A mount target that is a symlink out of the root: refused, the host untouched.
img=$TEST_TMP/evil-root
mkdir -p "$img"
tar -xzf "$ALPINE_TARBALL" -C "$img"
ln -s /etc "$img/evil"
mkdir -p "$img/seed/sub"
ln -s /etc/shadow "$img/seed/link"
echo inside >"$img/seed/sub/file"
chown 1234:5678 "$img/seed/sub/file"
chmod 4751 "$img/seed/sub"
mkfifo "$img/seed/fifo"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.mark", b"42")' "$img/seed/sub/file" 2>/dev/null || true
ln -s ../../../../../../tmp "$img/evil2"
tar --xattrs --xattrs-include='user.*' -C "$img" -cf "$TEST_TMP/evil.tar" .
"$CCTL" image import evil "$TEST_TMP/evil.tar" >/dev/null || fail "import the evil image"
for t in /evil/pwned /evil2/pwned; do
	run_cctl run --rm -v "$host:$t" evil true
	is "$RC" 125 "a target through the symlink $t is refused (exit 125)"
	like "$ERR" "symbolic link" "and the error says why"
done
check "the host's /etc/pwned was not created" test ! -e /etc/pwned
check "the host's /tmp/pwned was not created" test ! -e /tmp/pwned
run_cctl run --rm --tmpfs /evil evil true
is "$RC" 125 "a tmpfs on a symlink is refused too"
# The copy into a new volume takes links as links and keeps owners, modes and types.
run_cctl run --rm -v seedvol:/seed evil cat /seed/sub/file
is "$RC:$OUT" "0:inside" "a volume is seeded from the image's directory"
sv=$root/volumes/seedvol/_data
check "a symlink is copied as a symlink, not followed to the host's file" test -L "$sv/link" -a "$(readlink "$sv/link")" = /etc/shadow
is "$(stat -c '%u:%g %a' "$sv/sub/file") $(stat -c %a "$sv/sub")" "1234:5678 644 4751" "owners and modes are kept"
check "a FIFO stays a FIFO" test -p "$sv/fifo"
getxattr() { python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.mark").decode())' "$1" 2>/dev/null; }
# Only if the import kept it in the image's layer.
layer_file=$(ls -d "$root"/layers/*/seed/sub/file 2>/dev/null | head -1)
if [[ -n $layer_file && $(getxattr "$layer_file") == 42 ]]; then
	is "$(getxattr "$sv/sub/file")" 42 "extended attributes are kept"
else
	skip "extended attributes are kept" "the image's layer has no user xattrs (filesystem or import)"
fi

# Named volumes: created on first use, seeded from the image, persisting.
run_cctl run --rm -v seeded:/etc/apk alpine cat /etc/apk/arch
is "$RC:$OUT" "0:x86_64" "a new named volume is seeded with the image's content"
check "the copy is in the volume on the host" test -f "$root/volumes/seeded/_data/arch"
is "$(stat -c %a "$root/volumes/seeded/_data")" "$(tar -tvzf "$ALPINE_TARBALL" ./etc/apk/ | awk 'NR==1 {print $1}' |
	python3 -c 'import sys; m=sys.stdin.read().strip()[1:]; print(oct(sum((c!="-")<<(8-i) for i,c in enumerate(m)))[2:])')" \
	"the volume takes the mode of the image's directory"
"$CCTL" run --rm -v data:/data alpine sh -c 'echo kept >/data/f' || fail "write into a named volume"
is "$("$CCTL" run --rm -v data:/data:ro alpine cat /data/f)" kept "a named volume persists across containers"
run_cctl run --rm -v data:/data:ro alpine touch /data/g
check "a named volume mounted :ro is read-only" test "$RC" != 0
run_cctl run --rm -v nocopy:/etc/apk:nocopy alpine ls /etc/apk
is "$RC:$OUT" "0:" "nocopy: the volume stays empty"
run_cctl run --rm -v data:/etc/apk alpine ls /etc/apk
is "$OUT" f "a volume that has data is not seeded again"

# Anonymous volumes: gone with --rm and with rm -v, kept by rm.
before=$(ls "$root/volumes" | wc -l)
"$CCTL" run --rm -v /anon alpine sh -c 'echo x >/anon/x' || fail "run with an anonymous volume"
sleep 0.5
is "$(ls "$root/volumes" | wc -l)" "$before" "--rm removes the anonymous volume"
id=$("$CCTL" create -v /anon2 alpine true)
record_id "$id"
name=$(inspect_field "$id" '["Mounts"][0]["Name"]' 2>/dev/null || "$CCTL" inspect "$id" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mounts"][0]["Name"])')
name=${name//\"/}
like "$name" '^[0-9a-f]{64}$' "an anonymous volume has a 64-hex name"
is "$(inspect_field "$id" '["mounts"][0]["Destination"]')" '"/anon2"' "inspect shows its destination"
is "$(inspect_field "$id" '["mounts"][0]["Type"]')" '"volume"' "and its type"
run_cctl volume rm "$name"
is "$RC" 1 "a volume in use cannot be removed"
like "$ERR" "volume is in use - \[$id\]" "Docker's message"
"$CCTL" rm -v "$id" >/dev/null
sleep 0.5
check "rm -v removes it" test ! -e "$root/volumes/$name"
"$CCTL" run --name keep3 -v /anon3 alpine sh -c 'head -c 100000 /dev/zero >/anon3/f' || fail "run keep3"
id=keep3
name=$("$CCTL" inspect "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mounts"][0]["Name"])')
"$CCTL" rm "$id" >/dev/null
sleep 0.5
check "rm without -v keeps it" test -d "$root/volumes/$name"
run_cctl volume prune -f
like "$OUT" "$name" "volume prune removes the unused anonymous volume"
like "$OUT" "Total reclaimed space: [1-9][0-9.]*kB" "and counts the space it took"
check "and it is gone" test ! -e "$root/volumes/$name"
check "named volumes are kept by prune" test -d "$root/volumes/data"

# A run or create that fails leaves no anonymous volume behind.
before=$(ls "$root/volumes" | wc -l)
run_cctl run --rm -v /anonfail --mount "type=bind,source=$TEST_TMP/nope,target=/x" alpine true
is "$RC" 125 "a run with a missing --mount source fails"
run_cctl create -v /anonfail2 -v "$TEST_TMP/host:/" alpine true
run_cctl create -v /anonfail3 --mount "type=bind,source=$TEST_TMP/nope,target=/x" alpine true
is "$RC" 125 "so does a create"
is "$(ls "$root/volumes" | wc -l)" "$before" "and neither leaves an anonymous volume"

# tmpfs and the read-only root.
out=$("$CCTL" run --rm --tmpfs /run:size=1m,mode=1770 alpine sh -c 'stat -c %a /run; df -k /run | tail -1')
is "$(head -1 <<<"$out")" 1770 "--tmpfs mode"
like "$(tail -1 <<<"$out")" "^tmpfs +1024 " "--tmpfs size"
like "$("$CCTL" run --rm --tmpfs /t alpine grep ' /t ' /proc/mounts)" "nosuid,nodev,noexec" "a tmpfs is nosuid, nodev, noexec"
like "$("$CCTL" run --rm --mount type=tmpfs,target=/t,tmpfs-size=2m alpine df -k /t | tail -1)" "^tmpfs +2048 " \
	"--mount type=tmpfs,tmpfs-size"
run_cctl run --rm --read-only alpine touch /x
check "--read-only: touch / fails" test "$RC" != 0
like "$ERR" "Read-only file system" "with EROFS"
run_cctl run --rm --read-only --tmpfs /scratch -v "$host:/h" alpine sh -c 'touch /scratch/x /h/ro-root /dev/shm/x && echo ok'
is "$OUT" ok "--read-only: tmpfs, binds and /dev/shm stay writable"
is "$(inspect_field "$("$CCTL" create --read-only alpine true)" '["read_only"]')" true "inspect shows read_only"
is "$("$CCTL" run --rm --read-only -w /new/dir alpine pwd)" /new/dir "--read-only: a missing working directory is still made"

# --volumes-from, and mounts kept across starts.
id=$("$CCTL" create --name src -v shared:/shared -v "$host:/h" alpine sh -c 'echo again >>/shared/log')
"$CCTL" start -a src >/dev/null
"$CCTL" start -a src >/dev/null
is "$(cat "$root/volumes/shared/_data/log" | wc -l)" 2 "a created container keeps its mounts on each start"
is "$("$CCTL" run --rm --volumes-from src alpine sh -c 'cat /h/in; wc -l </shared/log')" "from-host"$'\n'"2" \
	"--volumes-from mounts the other container's volumes and binds"
run_cctl run --rm --volumes-from src:ro alpine touch /shared/x
check "--volumes-from src:ro is read-only" test "$RC" != 0
run_cctl run --rm --volumes-from nosuch alpine true
is "$RC" 125 "--volumes-from an unknown container: 125"
like "$ERR" "No such container: nosuch" "with Docker's message"

# cctl volume.
is "$("$CCTL" volume create --name v1 -l a=b)" v1 "volume create prints the name"
unnamed=$("$CCTL" volume create)
like "$unnamed" '^[0-9a-f]{64}$' "volume create without a name: a 64-hex name"
"$CCTL" volume prune -f >/dev/null
check "prune keeps a created volume without a name (not anonymous)" test -d "$root/volumes/$unnamed"
run_cctl volume prune -a </dev/null
check "prune without -f asks, and no answer keeps the volumes" test -d "$root/volumes/$unnamed"
like "$OUT" "WARNING! This will remove all local volumes not used by at least one container" "with Docker's warning"
like "$("$CCTL" volume ls)" "local +v1" "volume ls lists it"
check "volume ls -q" grep -qx v1 <<<"$("$CCTL" volume ls -q)"
is "$("$CCTL" volume ls -q --filter label=a=b)" v1 "volume ls --filter label"
is "$("$CCTL" volume ls --format '{{.Name}} {{.Driver}}' --filter name=v1)" "v1 local" "volume ls --format"
is "$("$CCTL" volume inspect --format '{{.Mountpoint}} {{.Labels.a}}' v1)" "$root/volumes/v1/_data b" "volume inspect"
run_cctl volume inspect nosuch
is "$RC" 1 "inspect of an unknown volume: exit 1"
like "$ERR" "no such volume" "with Docker's message"
run_cctl volume create --name 'bad/name'
is "$RC" 1 "an invalid volume name is refused"
like "$ERR" "includes invalid characters for a local volume name" "with Docker's message"
run_cctl run --rm -v 'a:b' alpine true
is "$RC" 125 "a relative target: 125"
like "$ERR" "mount path must be absolute" "with Docker's message"
run_cctl run --rm -v '.:/x' alpine true
like "$ERR" "includes invalid characters" "a relative source is refused"
run_cctl run --rm --mount 'type=bind,target=/x' alpine true
like "$ERR" "field Source must not be empty" "--mount bind without a source"
run_cctl run --rm --mount 'type=volume,src=x,target=/x,bogus=1' alpine true
like "$ERR" "unexpected key 'bogus'" "--mount with an unknown key"
run_cctl run --rm --mount 'type=nfs,target=/x' alpine true
like "$ERR" "invalid mount type" "--mount with an unknown type"
run_cctl run --rm -v /a -v vol:/a alpine true
like "$ERR" "Duplicate mount point: /a" "a target given twice"
run_cctl run --rm -v "$host:/" alpine true
like "$ERR" "destination cannot be \"/\"" "a mount on / is refused"
run_cctl volume rm nosuch
is "$RC" 1 "rm of an unknown volume: exit 1"
run_cctl volume rm -f nosuch
is "$RC" 0 "rm -f of an unknown volume succeeds"
"$CCTL" volume rm v1 >/dev/null || fail "volume rm"
check "volume rm removed it" test ! -e "$root/volumes/v1"

# system df's volumes row: every volume, and the one the container src uses.
like "$("$CCTL" system df | grep '^Local Volumes')" "^Local Volumes +$(ls "$root/volumes" | wc -l) +[1-9]" \
	"system df counts the volumes and those in use"
# And the sizes, measured in a child: 3 MiB written into a stopped container's root and 2 MiB into
# a volume no container uses count as size, and as reclaimable.
"$CCTL" run --name dfbox alpine sh -c 'head -c 3145728 /dev/urandom >/big' >/dev/null || fail "dfbox ran"
"$CCTL" run --rm -v dfvol:/v alpine sh -c 'head -c 2097152 /dev/urandom >/v/big' >/dev/null || fail "dfvol was written"
python3 - "$CONTAIND_SOCKET" >"$TEST_TMP/df.out" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"id":1,"method":"system.df"}\n')
r = json.loads(s.makefile("rb").readline())["result"]
c, v = r["containers"], r["volumes"]
print(c["size"] >= 3 << 20, c["reclaimable"] >= 3 << 20, v["size"] >= 2 << 20, v["reclaimable"] >= 2 << 20,
      c["reclaimable"] <= c["size"], v["reclaimable"] <= v["size"])
PY
is "$(cat "$TEST_TMP/df.out")" "True True True True True True" \
	"system df measures the stopped container's writable layer and the unused volume (size and reclaimable)"
"$CCTL" rm dfbox >/dev/null
"$CCTL" volume rm dfvol >/dev/null
"$CCTL" rm -f src >/dev/null
is "$(daemon_fds)" "$fds_before" "the daemon holds no more fds than before"

# The mounts are in the container's record: a new daemon on the same root starts it with them.
"$CCTL" create --name again -v kept:/kept -v "$host:/h:ro" --tmpfs /t:mode=700 --read-only alpine \
	sh -c 'cat /h/in; ls /kept; stat -c %a /t; touch /x 2>/dev/null || echo ro' >/dev/null
"$CCTL" run --rm -v kept:/kept alpine touch /kept/mark
"$CCTL" create --name evil-record -v evilvol:/e alpine true >/dev/null
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
rec=$(grep -l '"evil-record"' "$root"/containers/*/state.json)
python3 - "$rec" <<'PY'
import json, sys
rec = json.load(open(sys.argv[1]))
rec["config"]["mounts"][0]["source"] = "../../../../etc"
json.dump(rec, open(sys.argv[1], "w"))
PY
start_daemon d2 --root "$root" || exit 1
is "$("$CCTL" start -a again)" "from-host"$'\n'"mark"$'\n'"700"$'\n'"ro" "a new daemon starts a container with its mounts and --read-only"
is "$(inspect_field again '["Mounts"][0]["Name"]' 2>/dev/null || "$CCTL" inspect again | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["mounts"][0]["Name"]))')" '"kept"' \
	"inspect shows its mounts after the restart"
run_cctl inspect evil-record
is "$RC" 1 "a record whose volume name is a path is not loaded"
"$CCTL" rm -f again >/dev/null
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"

# Live restore: a running container keeps its mounts across a daemon restart, and its anonymous
# volume still goes with rm -v afterwards.
start_daemon lr --live-restore || exit 1
import_alpine || exit 1
lroot=$DAEMON_DIR/root
id=$("$CCTL" run -d --name live -v "$host:/h" -v lrvol:/v -v /lranon --tmpfs /t alpine sleep 100000)
record_id "$id"
anon=$("$CCTL" inspect live | python3 -c 'import json,sys; print([m["Name"] for m in json.load(sys.stdin)[0]["mounts"] if m["Destination"] == "/lranon"][0])')
old=$DAEMON_PID
kill -TERM "$old"
for _ in $(seq 1500); do kill -0 "$old" 2>/dev/null || break; sleep 0.01; done
wait "$old" 2>/dev/null
STOPPED_PIDS+="$old "
rm -f "$DAEMON_DIR/containd.sock"
start_daemon lr --live-restore || exit 1
is "$("$CCTL" exec live sh -c 'cat /h/in; echo lr >/v/f; grep -c " /t tmpfs" /proc/mounts')" "from-host"$'\n'"1" \
	"after a daemon restart the running container still has its bind and its tmpfs"
is "$(cat "$lroot/volumes/lrvol/_data/f" 2>/dev/null)" lr "and its volume"
like "$("$CCTL" inspect -f '{{json .Mounts}}' live)" '"Destination":"/v"' "inspect still shows its mounts"
"$CCTL" rm -f -v live >/dev/null
sleep 0.5
check "rm -f -v after the restart removes its anonymous volume" test ! -e "$lroot/volumes/$anon"
check "and keeps the named one" test -d "$lroot/volumes/lrvol"
done_testing
