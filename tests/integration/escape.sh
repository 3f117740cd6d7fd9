#!/usr/bin/env bash
# Escapes a hostile container (or a hostile image) would try, each of which must fail: host
# sysctls and sysrq, kernel memory, mounts and namespaces, keys, device nodes, symlinks in the
# image that would aim a mount at the host, working directories through /proc/self/fd, and the
# CVE-2019-5736 overwrite of the binary a container's init (or an exec process) runs from.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
PROBE=$top_builddir/tests/helpers/probe
FAKE_LD=$top_builddir/tests/helpers/fake-ld
start_daemon || exit 1
import_alpine || exit 1

# make_image NAME SETUP: imports Alpine plus the probe (as /probe), changed by the shell code
# SETUP run in the unpacked root ($root).
make_image() {
	local name=$1 setup=$2 root=$TEST_TMP/img-$1
	mkdir -p "$root"
	tar -xzf "$ALPINE_TARBALL" -C "$root"
	cp "$PROBE" "$root/probe"
	(cd "$root" && eval "$setup") || return 1
	tar -C "$root" -cf "$TEST_TMP/$name.tar" . || return 1
	"$CCTL" image import "$name" "$TEST_TMP/$name.tar" >/dev/null
}
make_image probe true || fail "build the probe image"

probe() { "$CCTL" run --rm probe /probe "$@" 2>&1; }

# Kernel and host knobs.
host_core=$(cat /proc/sys/kernel/core_pattern)
out=$("$CCTL" run --rm probe sh -c 'echo "|/tmp/evil" > /proc/sys/kernel/core_pattern' 2>&1)
like "$out" "Read-only file system" "writing core_pattern fails: /proc/sys is read-only"
is "$(cat /proc/sys/kernel/core_pattern)" "$host_core" "the host's core_pattern is unchanged"
host_swappiness=$(cat /proc/sys/vm/swappiness)
out=$("$CCTL" run --rm probe sh -c 'echo 17 > /proc/sys/vm/swappiness' 2>&1)
like "$out" "Read-only file system" "writing vm.swappiness fails"
is "$(cat /proc/sys/vm/swappiness)" "$host_swappiness" "the host's vm.swappiness is unchanged"
like "$(probe write /proc/sysrq-trigger h)" "^(EROFS|ENOENT)$" "writing /proc/sysrq-trigger fails (ENOENT: this kernel has none)"
out=$("$CCTL" run --rm probe sh -c 'head -c 16 /proc/kcore 2>/dev/null | wc -c; head -c 16 /proc/keys | wc -c; head -c 16 /proc/timer_list | wc -c')
is "$(tr -d ' ' <<<"$out" | tr '\n' ' ')" "0 0 0 " "/proc/kcore, /proc/keys and /proc/timer_list read nothing"
out=$("$CCTL" run --rm probe sh -c 'ls /sys/firmware | wc -l; touch /sys/fs/cgroup/x 2>&1')
like "$out" "^0"$'\n'".*Read-only file system" "/sys/firmware is empty and the cgroup tree is read-only"

# Mounts, namespaces, keys.
is "$(probe mount-tmpfs /mnt)" "EPERM" "mounting a tmpfs fails"
is "$(probe unshare-user)" "EPERM" "unshare(CLONE_NEWUSER) fails (seccomp)"
is "$(probe unshare-mount)" "EPERM" "unshare(CLONE_NEWNS) fails"
is "$(probe clone-newns)" "EPERM" "clone(CLONE_NEWNS) fails"
is "$(probe keyctl)" "EPERM" "keyctl fails (seccomp)"
is "$(probe add-key)" "EPERM" "add_key fails (seccomp)"
is "$(probe vsock)" "EPERM" "AF_VSOCK sockets are refused"
is "$(probe inet)" "ok" "AF_INET sockets work"
is "$(probe personality-query)" "ok" "querying the personality works"
is "$(probe seccomp-mode)" "Seccomp:	2" "the container runs under a seccomp filter"
out=$("$CCTL" run --rm probe unshare -U true 2>&1)
unlike "$out" "^$" "busybox unshare -U fails with a message"

# Devices: mknod is allowed (as in Docker), opening what it made is not.
out=$(probe mknod-open b 7 0 /tmp/loop0)
is "$out" $'mknod: ok\nEPERM' "a block device node can be made but not opened"
out=$(probe mknod-open c 10 232 /tmp/kvm)
is "$out" $'mknod: ok\nEPERM' "a /dev/kvm node can be made but not opened"
out=$(probe mknod-open c 1 1 /tmp/mem)
is "$out" $'mknod: ok\nEPERM' "a /dev/mem node can be made but not opened"
is "$(probe open /dev/null)" "ok" "/dev/null opens"
# A device node shipped in the image is unusable too.
make_image devnode 'mknod dev-loop b 7 0 && mknod dev-mem c 1 1' || fail "build an image with device nodes"
is "$("$CCTL" run --rm devnode /probe open /dev-loop 2>&1)" "EPERM" "an image's block device node cannot be opened"
is "$("$CCTL" run --rm devnode /probe open /dev-mem 2>&1)" "EPERM" "an image's /dev/mem node cannot be opened"

# Symlinks in the image where mounts go: a mount must never follow them out of the root.
marker=$TEST_TMP/host-marker
for dir in proc sys dev; do
	make_image "link-$dir" "rm -rf $dir && ln -s $TEST_TMP $dir" || fail "build an image with /$dir a symlink"
	run_cctl run --rm "link-$dir" true
	is "$RC" 125 "an image whose /$dir is a symlink to a host path does not start"
	like "$ERR" "symbolic link" "and the error names the symlink (/$dir)"
done
make_image link-rel "rm -rf proc && ln -s ../../../../../../ proc" || fail "build an image with a relative /proc link"
run_cctl run --rm link-rel true
is "$RC" 125 "a relative symlink climbing out of the root is refused too"
is "$(ls -A "$TEST_TMP" | grep -c '^sysfs\|^proc\|^kcore')" 0 "nothing was mounted on the host path the links named"
! grep -q " $TEST_TMP " /proc/self/mountinfo && pass "the host's mount table has no mount on the linked path" ||
	fail "the host's mount table has no mount on the linked path"
touch "$marker"

# Working directories (CVE-2024-21626: a leaked fd reached through /proc/self/fd).
for n in 3 4 5 6 7 8 9; do
	run_cctl run --rm -w /proc/self/fd/$n probe /bin/pwd
	if [[ $RC == 0 && $OUT != /proc/* ]]; then
		fail "-w /proc/self/fd/$n leads outside the container ($OUT)"
	fi
done
pass "no -w /proc/self/fd/N reaches a directory outside the container"
make_image link-work "ln -s ../../../../$TEST_TMP work" || fail "build an image with a symlinked workdir"
run_cctl run --rm -w /work probe sh -c 'pwd; ls'
unlike "$OUT" "host-marker" "-w through a symlink stays inside the container"

# CVE-2019-5736: the image runs the binary the init runs from (through /proc/self/exe) with its
# own dynamic loader (the probe), and tries to write it. A statically linked init (release builds,
# see configure.ac) has no loader to replace: the image's code never runs as the init, which finds
# itself outside its start protocol and exits 125.
make_image exe "mkdir -p lib64 && cp $FAKE_LD lib64/ld-linux-x86-64.so.2 && ln -sf /proc/self/exe bin/evil" ||
	fail "build the /proc/self/exe image"
init_bin=$top_builddir/containd-init
static_init=0
ldd "$init_bin" >/dev/null 2>&1 || static_init=1
sum_before=$(sha256sum "$CONTAIND" "$init_bin")
# check_exe_probe WHAT: asserts on the output of /bin/evil run as WHAT.
check_exe_probe() {
	if ((static_init)); then
		is "$RC" 125 "/bin/evil in $1 reaches the static init itself, which refuses to run"
		unlike "$OUT" "exe:" "no code of the image runs as the init ($1)"
	else
		like "$OUT" "exe: /memfd:containd-init" "$1 that a container can reach runs from a memfd, not a host file"
		like "$OUT" "exe-write: (ETXTBSY|EPERM|EACCES)" "writing /proc/self/exe fails ($1)"
		unlike "$OUT" "exe-reopen-write: ok" "reopening it for writing through /proc/self/fd fails ($1)"
	fi
}
run_cctl run --rm exe /bin/evil
check_exe_probe "the init"
is "$(sha256sum "$CONTAIND" "$init_bin")" "$sum_before" "containd and containd-init are unchanged"
# The same through cctl exec, which runs the same sealed init in exec mode; and its -w.
run_cctl run -d --name exebox exe sleep 300
record_id "$OUT"
run_cctl exec exebox /bin/evil
check_exe_probe "an exec process"
is "$(sha256sum "$CONTAIND" "$init_bin")" "$sum_before" "containd and containd-init are still unchanged"
for n in 3 4 5 6 7 8 9; do
	run_cctl exec -w /proc/self/fd/$n exebox /bin/pwd
	if [[ $RC == 0 && $OUT != /proc/* ]]; then
		fail "exec -w /proc/self/fd/$n leads outside the container ($OUT)"
	fi
done
pass "no exec -w /proc/self/fd/N reaches a directory outside the container"
"$CCTL" rm -f exebox >/dev/null
spare=$(pgrep -P "$(keeper_pid)" -x containd-spare | head -n1)
if [[ -n $spare ]]; then
	like "$(readlink "/proc/$spare/exe")" "^/memfd:containd-init" "the prepared init runs from a sealed memfd"
else
	fail "the prepared init runs from a sealed memfd (no spare found)"
fi

# A directory fd passed as stdout would give the container a handle on the host's filesystem.
out=$(python3 - "$CONTAIND_SOCKET" <<'EOF'
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
d = os.open("/etc", os.O_RDONLY | os.O_DIRECTORY)
req = {"v": 1, "id": 1, "method": "container.run", "fds": 2,
       "params": {"image": "probe", "cmd": ["/bin/true"], "stdio": "fds", "rm": True}}
s.sendmsg([(json.dumps(req) + "\n").encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [d, 1]).tobytes())])
print(json.loads(s.makefile().readline())["error"]["code"])
EOF
)
is "$out" "bad_fds" "a directory passed as stdout is refused"
out=$(python3 - "$CONTAIND_SOCKET" <<'EOF'
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
d = os.open("/etc/shadow", os.O_PATH)
req = {"v": 1, "id": 1, "method": "container.run", "fds": 2,
       "params": {"image": "probe", "cmd": ["/bin/true"], "stdio": "fds", "rm": True}}
s.sendmsg([(json.dumps(req) + "\n").encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [d, 1]).tobytes())])
print(json.loads(s.makefile().readline())["error"]["code"])
EOF
)
is "$out" "bad_fds" "an O_PATH handle passed as stdout is refused"

done_testing
