#!/usr/bin/env bash
# What a container sees: its own pids, mounts, hostname, network, devices, and none of the host.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

out=$("$CCTL" run --rm alpine ps -o pid,comm)
is "$out" "$(printf 'PID   COMMAND\n    1 ps')" "ps shows only the container's processes, the command as PID 1"
out=$("$CCTL" run --rm alpine sh -c 'sleep 10 & sleep 0.2; ps -o comm >/tmp/ps; kill $!; cat /tmp/ps')
is "$out" "$(printf 'COMMAND\nsh\nsleep\nps')" "a background process is visible inside, and nothing else"

out=$("$CCTL" run --rm alpine cat /proc/self/mountinfo)
like "$out" '(^|'$'\n'')[0-9]+ [0-9]+ [0-9:]+ / / [^ ]* - overlay overlay ' "the root is an overlay mount"
like "$(echo "$out" | grep ' /proc ')" ' - proc proc ' "/proc is mounted"
like "$(echo "$out" | grep ' /sys ')" ' /sys r[ow],.* - sysfs ' "/sys is mounted"
like "$(echo "$out" | grep ' /sys ')" ' /sys ro' "/sys is read-only"
like "$(echo "$out" | grep ' /dev/pts ')" 'devpts' "a devpts instance is mounted"
like "$(echo "$out" | grep ' /dev/mqueue ')" 'mqueue' "/dev/mqueue is mounted"
like "$(echo "$out" | grep ' /dev/shm ')" 'tmpfs' "/dev/shm is a tmpfs"
unlike "$(echo "$out" | awk '{ print $5 }')" "$TEST_TMP|/work|/var/lib" "no host path is a mount point in the container"

out=$("$CCTL" run --rm alpine ls /dev)
for n in null zero full random urandom tty ptmx pts shm mqueue fd stdin stdout stderr; do
	echo "$out" | grep -qx "$n" && pass "/dev/$n exists" || fail "/dev/$n exists"
done
unlike "$out" 'sda|vda|mem|kmsg' "no host devices in /dev"
out=$("$CCTL" run --rm alpine sh -c 'echo x > /dev/null && head -c 4 /dev/zero | wc -c')
is "$out" 4 "/dev/null and /dev/zero work"

# Only stdio reaches the command: none of the daemon's fds (sockets, cgroups, other clients').
# (Looked at from the host: a shell pipeline inside would see the shell's own pipe fds.)
"$CCTL" run -d --name busy alpine sleep 30 >/dev/null
"$CCTL" run -d --name probe alpine sleep 30 >/dev/null
pid=$("$CCTL" inspect probe | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
out=$(ls /proc/$pid/fd | sort -n | tr '\n' ' ')
is "$out" "0 1 2 " "the container's init holds only fds 0, 1 and 2, even with another container running"
"$CCTL" rm -f busy probe >/dev/null

echo "host-secret" >"$TEST_TMP/secret"
run_cctl run --rm alpine sh -c "cat $TEST_TMP/secret; ls /work; echo ran"
is "$OUT" "ran" "the host's files are not visible (the container ran and read nothing)"
like "$ERR" "can't open '$TEST_TMP/secret': No such file or directory" "a host file is not found"
like "$ERR" "/work: No such file or directory" "a host directory is not found"
out=$("$CCTL" run --rm alpine cat /etc/alpine-release)
is "$out" "3.20.3" "the image's files are"

out=$("$CCTL" run --rm alpine sh -c 'echo changed > /etc/alpine-release; cat /etc/alpine-release')
is "$out" "changed" "the root filesystem is writable"
out=$("$CCTL" run --rm alpine cat /etc/alpine-release)
is "$out" "3.20.3" "writes stay in that container's upper layer"

out=$("$CCTL" run --rm alpine ip -o link)
like "$out" '^1: lo: <LOOPBACK,UP,LOWER_UP>' "loopback is up"
is "$(echo "$out" | wc -l)" 1 "loopback is the only interface"
out=$("$CCTL" run --rm alpine sh -c 'nc -l -p 7777 -s 127.0.0.1 > /tmp/got & sleep 0.2; echo ping | nc -w 1 127.0.0.1 7777; sleep 0.2; cat /tmp/got')
is "$out" "ping" "loopback networking works"

out=$("$CCTL" run --rm alpine cat /proc/self/cgroup)
like "$out" '0::/$' "the container sees its own cgroup as / (cgroup namespace)"

for ns in ipc uts net pid mnt cgroup; do
	inside=$("$CCTL" run --rm alpine readlink /proc/self/ns/$ns)
	[[ -n $inside && $inside != "$(readlink /proc/self/ns/$ns)" ]] && pass "own $ns namespace" || fail "own $ns namespace ($inside)"
done
done_testing
