#!/usr/bin/env bash
# cctl cp, diff and export: docker's copy rules both ways with running, created and exited
# containers (files, directories, "DIR/.", "-" streams, -a owners, -L); symlinks in a container
# that point at the host ("/", "../..", /proc/self/root, a dir swapped for a symlink while copies
# run) never make a copy read or write a host file; diff's A/C/D lines; export's tar matches the
# container's files and refuses a terminal; docker's messages and exit codes; no fd leak.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

PTYRUN="python3 $top_srcdir/tests/ptyrun.py"
W=$TEST_TMP/work
mkdir -p "$W"
# Host files a copy must never read or write: a secret, a directory and a file at the host's /.
marker=cp-canary-$$-$RANDOM
HOSTDIR=$TEST_TMP/hostdir
mkdir -p "$HOSTDIR"
echo "host-secret-$marker" >"$TEST_TMP/secret"
echo "untouched" >"$HOSTDIR/canary"
host_state() { (cd "$HOSTDIR" && find . -printf '%p %s %T@\n' | sort; cat canary); ls -d "/$marker" /tmp/"$marker" 2>/dev/null; }
host_before=$(host_state)

# cctl cp with our stdin (run_cctl reads /dev/null): its exit status in RC, stderr in ERR.
cp_stdin() { RC=0; ERR=$("$CCTL" cp "$@" 2>&1 >/dev/null) || RC=$?; }
rid() { record_id "$("$CCTL" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"; }
"$CCTL" run --rm alpine true
fds_before=$(daemon_fds)

run_cctl run -d --name r1 alpine sleep 1000
is "$RC" 0 "run a container"
rid r1

# --- from a running container
"$CCTL" cp r1:/etc/alpine-release - >"$W/stream.tar"; RC=$?
is "$RC" 0 "cp CONTAINER:FILE - exits 0"
listing=$("$CCTL" cp r1:/etc/alpine-release - | tar tvf -)
like "$listing" '^-rw-r--r-- 0/0 +[0-9]+ .* alpine-release$' "- streams a tar of the file, named by its last component, owned 0/0"
is "$("$CCTL" cp r1:/etc/alpine-release - | tar xOf -)" "$(tar xzOf "$ALPINE_TARBALL" ./etc/alpine-release)" "with the file's content"

"$CCTL" cp r1:/etc/alpine-release "$W/release"
is "$?" 0 "cp to a new local file"
is "$(cat "$W/release")" "$(tar xzOf "$ALPINE_TARBALL" ./etc/alpine-release)" "the new file has the content"
echo old >"$W/existing"
"$CCTL" cp r1:/etc/alpine-release "$W/existing"
is "$(cat "$W/existing")" "$(cat "$W/release")" "an existing local file is overwritten"
mkdir "$W/into"
"$CCTL" cp r1:/etc/apk "$W/into"
[[ -f $W/into/apk/world ]] && pass "a directory into an existing directory keeps its name" || fail "a directory into an existing directory keeps its name"
"$CCTL" cp r1:/etc/apk "$W/newdir"
[[ -f $W/newdir/world && ! -e $W/newdir/apk ]] && pass "a directory to a new name becomes that directory" || fail "a directory to a new name becomes that directory"
mkdir "$W/contents"
"$CCTL" cp r1:/etc/apk/. "$W/contents"
[[ -f $W/contents/world && ! -e $W/contents/apk ]] && pass "DIR/. copies the contents into an existing directory" || fail "DIR/. copies the contents into an existing directory"
run_cctl cp r1:/etc/apk "$W/release"
is "$RC" 1 "a directory onto a local file: exit 1"
like "$ERR" "cannot copy a directory to a file" "with a message"
run_cctl cp r1:/etc/alpine-release "$W/missing-dir/"
is "$RC" 1 "a file to a missing local directory fails"
"$CCTL" exec r1 ln -s /etc/alpine-release /link
"$CCTL" cp r1:/link "$W/l-nofollow"
[[ -L $W/l-nofollow && $(readlink "$W/l-nofollow") == /etc/alpine-release ]] && pass "a symlink is copied as a symlink" || fail "a symlink is copied as a symlink"
"$CCTL" cp -L r1:/link "$W/l-follow"
[[ -f $W/l-follow && ! -L $W/l-follow ]] && pass "-L follows it (inside the container)" || fail "-L follows it (inside the container)"

# --- into a running container
echo "hello $marker" >"$W/h.txt"
"$CCTL" cp "$W/h.txt" r1:/tmp/
is "$?" 0 "cp a file into a directory"
is "$("$CCTL" exec r1 cat /tmp/h.txt)" "hello $marker" "it arrives under its own name"
"$CCTL" cp "$W/h.txt" r1:/tmp/renamed
is "$("$CCTL" exec r1 cat /tmp/renamed)" "hello $marker" "or under the new name given"
is "$("$CCTL" exec r1 stat -c %u:%g /tmp/renamed)" "0:0" "owned by the container's root without -a"
mkdir -p "$W/tree/sub"
echo a >"$W/tree/a"
echo b >"$W/tree/sub/b"
ln -s a "$W/tree/rel-link"
chown 1234:2345 "$W/tree/a"
"$CCTL" cp "$W/tree" r1:/tmp
is "$("$CCTL" exec r1 cat /tmp/tree/sub/b)" "b" "a directory into an existing one"
is "$("$CCTL" exec r1 readlink /tmp/tree/rel-link)" "a" "its symlinks as they are"
is "$("$CCTL" exec r1 stat -c %u:%g /tmp/tree/a)" "0:0" "owners are the container's root without -a"
"$CCTL" cp -a "$W/tree" r1:/tmp/archived
is "$("$CCTL" exec r1 stat -c %u:%g /tmp/archived/a)" "1234:2345" "-a keeps the owners"
"$CCTL" exec r1 mkdir /tmp/c
"$CCTL" cp "$W/tree/." r1:/tmp/c
is "$("$CCTL" exec r1 ls /tmp/c | tr '\n' ' ')" "a rel-link sub " "DIR/. copies the contents"
tar -C "$W/tree" -cf - . | "$CCTL" cp - r1:/tmp/c/
is "$?" 0 "- extracts a tar from stdin into a directory"
run_cctl cp - r1:/tmp/renamed
is "$RC" 1 "- into a file: exit 1"
like "$ERR" 'must be a directory' "docker's message"
run_cctl cp "$W/tree" r1:/tmp/renamed
is "$RC" 1 "a directory onto a file in the container: exit 1"
like "$ERR" 'cannot overwrite non-directory' "docker's message"

# --- errors
run_cctl cp nope:/etc/hostname -
is "$RC" 1 "an unknown container: exit 1"
like "$ERR" '[Nn]o such container: nope' "docker's message"
run_cctl cp r1:/nope -
is "$RC" 1 "a missing path: exit 1"
is "$ERR" "cctl: Could not find the file /nope in container r1" "docker's message"
run_cctl cp "$W/h.txt" r1:/nope/dir/x
is "$RC" 1 "into a missing directory: exit 1"
like "$ERR" "Could not find the file /nope/dir in container r1" "docker's message"
run_cctl cp "$W/nope" r1:/tmp
is "$RC" 1 "a missing local source: exit 1"
like "$ERR" "no such file or directory|No such file or directory" "with the reason"
run_cctl cp "$W/a" "$W/b"
is "$RC" 125 "no container named: a usage error"
like "$ERR" "must specify at least one container source" "docker's message"
run_cctl cp r1:/a r1:/b
like "$ERR" "copying between containers is not supported" "between containers: docker's message"

# --- escapes: symlinks in the container that name host paths
"$CCTL" exec r1 sh -c "mkdir -p /esc && ln -s / /esc/root && ln -s ../../../../../../../../ /esc/up &&
	ln -s $HOSTDIR /esc/abs && ln -s /proc/self/root /esc/pself && ln -s /proc/1/root /esc/p1 &&
	ln -s $TEST_TMP/secret /esc/secret"
for link in root up pself p1; do
	out=$("$CCTL" cp "r1:/esc/$link$TEST_TMP/secret" - 2>&1 | tar xOf - 2>/dev/null)
	unlike "$out" "host-secret" "cp from /esc/$link + a host path does not read the host's file"
	"$CCTL" cp "$W/h.txt" "r1:/esc/$link$HOSTDIR/" >/dev/null 2>&1
	"$CCTL" cp "$W/h.txt" "r1:/esc/$link/$marker" >/dev/null 2>&1
done
out=$("$CCTL" cp r1:/esc/secret - 2>/dev/null | tar xOf - 2>/dev/null)
unlike "$out" "host-secret" "-L-less copy of an absolute link gets the link, not the host file"
out=$("$CCTL" cp -L r1:/esc/secret - 2>&1)
unlike "$out" "host-secret" "-L resolves an absolute link inside the container"
"$CCTL" cp "$W/h.txt" r1:/esc/abs/ >/dev/null 2>&1
"$CCTL" cp "$W/h.txt" r1:/esc/abs/canary >/dev/null 2>&1
"$CCTL" cp -a "$W/tree/." r1:/esc/up >/dev/null 2>&1
is "$(host_state)" "$host_before" "the host's files are untouched after copies into the links"
like "$("$CCTL" exec r1 ls /)" "$marker" "a copy through /esc/root landed in the container's own /"

# Hostile tar streams: a symlink out, then a file through it; "..", absolute names; a whiteout.
python3 - "$W" "$HOSTDIR" <<'PY'
import io, sys, tarfile
w, host = sys.argv[1], sys.argv[2]
def make(name, entries):
    with tarfile.open(f"{w}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e[0])
            if e[1] == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, e[2]
                t.addfile(ti)
            elif e[1] == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 0, 0
                t.addfile(ti)
            else:
                data = e[2].encode()
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
make("symfollow", [("lnk", "sym", host), ("lnk/pwned", "file", "x")])
make("dotdot", [("../../../../../../../..%s/pwned" % host, "file", "x")])
make("absolute", [("%s/pwned" % host, "file", "x")])
make("whiteout", [("wh", "chr")])
make("hardlink-out", [("lnk2", "sym", host + "/canary")])
with tarfile.open(f"{w}/mounts.tar", "w") as t:
    for name in ("sys", "proc"):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode = tarfile.DIRTYPE, 0o777
        t.addfile(ti)
PY
"$CCTL" exec r1 mkdir /tmp/x
cp_stdin - r1:/tmp/x <"$W/symfollow.tar"
like "$RC:$ERR" "^1:.*refusing to extract through a symlink" "a tar writing through its own symlink is refused"
cp_stdin - r1:/tmp/x <"$W/dotdot.tar"
like "$RC:$ERR" "^1:.*\.\." "a tar with .. is refused"
cp_stdin - r1:/tmp/x <"$W/absolute.tar"
like "$RC:$ERR" "^1:.*absolute" "a tar with an absolute name is refused"
cp_stdin -a - r1:/tmp/x <"$W/whiteout.tar"
like "$RC:$ERR" "^1:.*whiteout" "a 0:0 device (whiteout) is refused even with -a"
cp_stdin - r1:/tmp/x <"$W/whiteout.tar"
like "$RC:$ERR" "^1:.*archive mode" "a device node without -a is refused"
"$CCTL" cp - r1:/tmp/x <"$W/hardlink-out.tar"
is "$("$CCTL" exec r1 readlink /tmp/x/lnk2)" "$HOSTDIR/canary" "a symlink entry is created as it is"
is "$(host_state)" "$host_before" "the host's files are untouched after the hostile tars"
modes_before=$(stat -c %a /sys /proc; "$CCTL" exec r1 stat -c %a /sys /proc)
cp_stdin - r1:/ <"$W/mounts.tar"
is "$RC" 1 "directory entries named like the mount points sys and proc are refused"
like "$ERR" "mount point" "with the reason"
is "$(stat -c %a /sys /proc; "$CCTL" exec r1 stat -c %a /sys /proc)" "$modes_before" \
	"the modes of sysfs and procfs (the host's and the container's) are unchanged"
run_cctl cp r1:/proc/1/status -
is "$RC" 1 "reading a kernel filesystem is refused"
like "$ERR" "kernel filesystem" "with the reason"
run_cctl cp "$W/h.txt" r1:/proc/
like "$RC:$ERR" "^1:.*kernel filesystem" "writing into one too"

# A directory swapped for a symlink to / (and to the host dir) in a loop while copies run.
"$CCTL" exec -d r1 sh -c "mkdir -p /race; while :; do rm -rf /race/d; mkdir /race/d; rm -rf /race/d; ln -s / /race/d; rm -f /race/d; ln -s $HOSTDIR /race/d; done"
for i in $(seq 40); do
	"$CCTL" cp "$W/h.txt" "r1:/race/d/$marker" >/dev/null 2>&1
	"$CCTL" cp "$W/tree" r1:/race/d/ >/dev/null 2>&1
	out=$("$CCTL" cp "r1:/race/d$TEST_TMP/secret" - 2>/dev/null | tar xOf - 2>/dev/null)
	[[ $out == *host-secret* ]] && break
done
unlike "$out" "host-secret" "racing copies from the swapped path never read the host's file"
is "$(host_state)" "$host_before" "racing copies into it never wrote on the host"

# --- at most 64 copy workers at once; a client that goes away takes its worker with it
workers() { pgrep -P "$DAEMON_PID" | grep -vx "$(keeper_pid 2>/dev/null || echo none)" | wc -l; }
base_workers=$(workers)
mkfifo "$W/fifo"
exec 7<>"$W/fifo" # a writer that never writes: every copy waits on its stream
clients=()
for i in $(seq 64); do
	"$CCTL" cp - r1:/tmp <"$W/fifo" >/dev/null 2>&1 &
	clients+=($!)
done
for _ in $(seq 200); do (($(workers) >= base_workers + 64)) && break; sleep 0.05; done
is "$(workers)" "$((base_workers + 64))" "64 copies wait on their streams, each in a worker"
cp_stdin - r1:/tmp <"$W/fifo"
like "$RC:$ERR" "^1:.*too many copies under way \(at most 64\)" "a 65th is refused"
kill "${clients[@]}" 2>/dev/null
wait "${clients[@]}" 2>/dev/null
exec 7>&-
for _ in $(seq 200); do (($(workers) <= base_workers)) && break; sleep 0.05; done
is "$(workers)" "$base_workers" "their workers end with their clients"

# --- diff: add, change, delete (a file and a directory)
"$CCTL" run --name d1 alpine sh -c 'echo x >/newfile; echo y >>/etc/profile; rm /etc/motd; rm -rf /etc/apk; mkdir -p /usr/local/newdir' >/dev/null
rid d1
run_cctl diff d1
is "$RC" 0 "diff of an exited container"
is "$OUT" "C /etc
D /etc/apk
D /etc/motd
C /etc/profile
A /newfile
C /usr/local
A /usr/local/newdir" "A/C/D lines in docker's order, a deleted directory, the parent of an added one (/usr, only copied up, is no change)"
run_cctl diff nope
is "$RC" 1 "diff of an unknown container: exit 1"
"$CCTL" create --name fresh alpine true >/dev/null
rid fresh
run_cctl diff fresh
is "$RC:$OUT" "0:" "a created container has no changes"

# --- exited and created containers: both ways, on the private overlay
"$CCTL" cp "$W/h.txt" d1:/root/
is "$("$CCTL" cp d1:/root/h.txt - | tar xOf -)" "hello $marker" "cp into and out of an exited container"
"$CCTL" cp "$W/tree" fresh:/opt
is "$("$CCTL" cp fresh:/opt/tree/sub/b - | tar xOf -)" "b" "and a created one"
"$CCTL" start -a fresh >/dev/null 2>&1
like "$("$CCTL" diff fresh)" "A /opt/tree/sub/b" "the copy is part of its upper dir"
out=$("$CCTL" cp d1:/etc/apk - 2>&1)
like "$out" "Could not find the file /etc/apk in container d1" "a deleted directory is gone for cp too"
"$CCTL" run --name e1 alpine sh -c "ln -s / /esc; ln -s $HOSTDIR /abs; ln -s /proc/self/root /pself" >/dev/null
rid e1
out=$("$CCTL" cp "e1:/esc$TEST_TMP/secret" - 2>&1 | tar xOf - 2>/dev/null)
unlike "$out" "host-secret" "an exited container's symlink to / does not read the host"
"$CCTL" cp "$W/h.txt" "e1:/esc/$marker" >/dev/null 2>&1
"$CCTL" cp "$W/h.txt" e1:/abs/ >/dev/null 2>&1
"$CCTL" cp "$W/h.txt" "e1:/pself/$marker" >/dev/null 2>&1
is "$(host_state)" "$host_before" "nor write there"
like "$("$CCTL" cp "e1:/$marker" - | tar tf -)" "$marker" "the copy through /esc went to the container's own /"

# --- export
"$CCTL" export fresh >"$W/fresh.tar"
is "$?" 0 "export to a redirected stdout"
exp=$(tar tf "$W/fresh.tar" | sed 's,/$,,' | grep -v '^opt/' | sort)
# Alpine has no /etc/resolv.conf: the container's (a mount point of its init layer) is exported,
# as Docker's export has it.
img=$( (tar tzf "$ALPINE_TARBALL" | sed 's,^\./,,; s,/$,,' | grep -v '^\.\?$'; echo etc/resolv.conf) | sort -u)
is "$exp" "$img" "export of an unchanged container lists exactly the image's files (and the copy, /etc/resolv.conf)"
"$CCTL" export -o "$W/d1.tar" d1
exp=$(tar tf "$W/d1.tar")
like "$exp" "(^|
)newfile(
|$)" "export -o has an added file"
unlike "$exp" "etc/motd" "and not a deleted one"
unlike "$exp" "etc/apk" "nor a deleted directory"
is "$(tar xOf "$W/d1.tar" etc/profile | tail -n1)" "y" "a changed file has its new content"
is "$(tar tvf "$W/d1.tar" bin/busybox | awk '{print $2}')" "0/0" "owners are numeric"
ls "$W"/d1.tar.* >/dev/null 2>&1 && fail "export -o leaves no temporary file" || pass "export -o leaves no temporary file"
out=$($PTYRUN -- "$CCTL" export fresh 2>&1)
like "$out" "cowardly refusing to save to a terminal. Use the -o flag or redirect" "export refuses a terminal as docker does"
run_cctl export nope
is "$RC" 1 "export of an unknown container: exit 1"
"$CCTL" export r1 | tar tf - >"$W/r1.list"
grep -qx "tmp/h.txt" "$W/r1.list" && pass "export of a running container has its changes" || fail "export of a running container has its changes"
is "$(grep -c '^proc/.' "$W/r1.list")" 0 "and not the contents of its /proc"

"$CCTL" rm -f r1 d1 fresh e1 >/dev/null
is "$(daemon_fds)" "$fds_before" "the daemon holds no fd more than before"
is "$(ls /proc/"$DAEMON_PID"/task | wc -l)" 1 "and no thread"
# The daemon's lasting children are the keeper and the cleaner (comm cut to 15 characters).
ps -o comm= --ppid "$DAEMON_PID" | grep -vx -e containd-keeper -e containd-cleane | grep -q . &&
	fail "no copy worker is left" || pass "no copy worker is left"
done_testing
