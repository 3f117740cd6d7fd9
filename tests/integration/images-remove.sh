#!/usr/bin/env bash
# Image removal as Docker does it (untag one of several names even in use; force never removes an
# image a running container uses), refusal of OCI image layout archives, and removal of a big
# layer that does not stall the daemon.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine || exit 1
OCI_TARBALL=$(dirname "$ALPINE_TARBALL")/alpine-oci.tar

image_names() { "$CCTL" images 2>/dev/null | awk 'NR > 1 { print $1 ":" $2 }' | sort | tr '\n' ' '; }

# --- Several names, a running container. ---
run_cctl image import alpine:other "$ALPINE_TARBALL"
is "$RC" 0 "the same tarball imported under a second name"
run_cctl run -d --name busy alpine sleep 300
is "$RC" 0 "a container runs from the image"
record_id "$OUT"
run_cctl rmi alpine:other
is "$RC" 0 "rmi of one of two names succeeds while a container uses the image"
is "$OUT" "Untagged: alpine:other" "and only untags that name"
run_cctl run --rm alpine true
is "$RC" 0 "the image still runs under its other name"

run_cctl rmi -f alpine
is "$RC" 1 "rmi -f of an image a running container uses fails"
like "$ERR" 'in use by a (running )?container' "with a conflict that names the container use"
run_cctl rmi alpine
is "$RC" 1 "plain rmi fails too"
run_cctl run --rm alpine true
is "$RC" 0 "and the image is intact"

# --- Only a stopped container uses it. ---
run_cctl rm -f busy
is "$RC" 0 "the running container is removed"
run_cctl run --name stopped alpine true
is "$RC" 0 "a container runs to completion"
run_cctl rmi alpine
is "$RC" 1 "rmi without force refuses an image a stopped container uses"
run_cctl rmi -f alpine
is "$RC" 0 "rmi -f removes an image only a stopped container uses"
like "$OUT" 'Untagged: alpine:latest' "it untags the name"
like "$OUT" 'Deleted: sha256:' "and deletes the image"
run_cctl ps -a
like "$OUT" 'stopped' "the stopped container keeps its record"
run_cctl rm stopped
run_cctl rmi alpine

# --- An OCI image layout is not a root filesystem. ---
if [[ -r $OCI_TARBALL ]]; then
	run_cctl image import oci "$OCI_TARBALL"
	is "$RC" 125 "importing an OCI image layout archive fails"
	like "$ERR" 'OCI image layout archive.*not a root filesystem' "and says what it is"
	like "$ERR" 'load it with cctl load' "and what to use instead"
	unlike "$(image_names)" 'oci:' "no image was created"
else
	skip "OCI image layout archive refused" "no $OCI_TARBALL"
fi

# --- A layer of 50,000 files is removed without stalling the loop. ---
big=$TEST_TMP/big
mkdir -p "$big"
# Written straight into a tarball: creating the files on disk first would double the cost.
python3 - "$big/big.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for d in range(50):
        info = tarfile.TarInfo(f"d{d}")
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        t.addfile(info)
        for f in range(1000):
            t.addfile(tarfile.TarInfo(f"d{d}/f{f}"), io.BytesIO(b""))
EOF
t0=$(date +%s%N)
run_cctl image import big "$big/big.tar"
is "$RC" 0 "a tarball of 50,000 files imports"
diag "import of 50,000 files took $((($(date +%s%N) - t0) / 1000000)) ms"
layer=$(ls "$DAEMON_DIR/root/layers" | head -1)
is "$(find "$DAEMON_DIR/root/layers/$layer" -type f | wc -l)" 50000 "its layer holds 50,000 files"

t0=$(date +%s%N)
"$CCTL" rmi big >"$big/rmi.out" 2>&1 &
rmi_pid=$!
# Right behind the rmi: the loop must answer while the files are being deleted.
t1=$(date +%s%N)
run_cctl version
t2=$(date +%s%N)
is "$RC" 0 "cctl version answers while the big layer is removed"
diag "cctl version right after rmi took $(((t2 - t1) / 1000000)) ms"
rc=0
wait "$rmi_pid" || rc=$?
diag "rmi of the 50,000-file image took $((($(date +%s%N) - t0) / 1000000)) ms"
is "$rc" 0 "rmi of the big image succeeds"
like "$(cat "$big/rmi.out")" 'Deleted: sha256:' "and deletes it"
ok=0
for _ in $(seq 600); do
	[[ -z $(ls -A "$DAEMON_DIR/root/layers") && -z $(ls -A "$DAEMON_DIR/root/trash") ]] && { ok=1; break; }
	sleep 0.05
done
is "$ok" 1 "the layer's files are gone from layers/ and the trash soon after"

# --- A trash left by a crash is emptied at the next start. ---
# --- rmi right after run --rm returned: the container is gone, not a user of the image. ---
ok_count=0
for i in $(seq 10); do
	"$CCTL" image import "quick$i" "$ALPINE_TARBALL" >/dev/null &&
		"$CCTL" run --rm "quick$i" true && "$CCTL" rmi "quick$i" >/dev/null && ok_count=$((ok_count + 1))
done
is "$ok_count" 10 "rmi right after run --rm returned succeeds, every time"

stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
DAEMON_PIDS=()
mkdir -p "$DAEMON_DIR/root/trash/crashed/d"
touch "$DAEMON_DIR/root/trash/crashed/d/f"
ln -s / "$DAEMON_DIR/root/trash/crashed/host"
mv "$DAEMON_DIR/log" "$DAEMON_DIR/log.1"
start_daemon d || exit 1
ok=0
for _ in $(seq 200); do
	[[ -z $(ls -A "$DAEMON_DIR/root/trash") ]] && { ok=1; break; }
	sleep 0.05
done
is "$ok" 1 "a trash left behind is emptied at the next start"
is "$([[ -e /etc/os-release ]] && echo yes)" yes "and a symlink to / in it was not followed"

done_testing
