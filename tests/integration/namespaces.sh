#!/usr/bin/env bash
# Sharing namespaces: --network host|container:NAME|none, --pid host|container:NAME, --ipc
# host|container:NAME|shareable|private|none, --uts host, --cgroupns host|private. Each is checked
# by what the container sees (namespace inodes against the daemon's or another container's, its
# interfaces, processes, hostname, /etc files, /dev/shm, /proc/self/cgroup); Docker's errors for
# an unknown or stopped container, -h with a shared network or UTS namespace, a non-shareable IPC
# donor; a restart joins again; exec into such containers joins the same namespaces; inspect.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
# Subordinate ids of the default user, for --userns=auto.
echo "containd:1650000000:131072" >"$TEST_TMP/subid"
# In a network namespace of its own (tests/lib.sh, once networking is in): the host network a
# container shares is then that namespace, never the machine's.
DAEMON_NETNS=1 start_daemon d --subuid-file "$TEST_TMP/subid" --subgid-file "$TEST_TMP/subid" || exit 1
import_alpine || exit 1

ns_of() { readlink "/proc/$1/ns/$2"; }
# in_ctr CTR CMD: the output of sh -c CMD run by cctl exec in CTR.
in_ctr() { "$CCTL" exec "$1" sh -c "$2" 2>&1; }
wait_running() {
	for _ in $(seq 100); do
		[[ $("$CCTL" inspect -f '{{.State.Status}}' "$1" 2>/dev/null) == running ]] && return 0
		sleep 0.05
	done
	return 1
}

daemon_net=$(ns_of "$DAEMON_PID" net)
daemon_uts=$(ns_of "$DAEMON_PID" uts)
host_name=$(hostname)

# --network host: the daemon's network namespace, its interfaces, the host's /etc files.
run_cctl run --rm --network host alpine readlink /proc/self/ns/net
is "$RC" 0 "run --network host"
is "$OUT" "$daemon_net" "--network host: the daemon's network namespace"
run_cctl run --rm --net host alpine sh -c 'ip -o link | cut -d: -f2 | tr -d " " | sort | tr "\n" " "'
want=$(nsenter --net="/proc/$DAEMON_PID/ns/net" ip -o link | cut -d: -f2 | tr -d ' ' | sed 's/@.*//' | sort | tr '\n' ' ')
is "$(sed 's/@[^ ]*//g' <<<"$OUT")" "$want" "--net host: the daemon's interfaces"
run_cctl run --rm --network host alpine sh -c 'cat /sys/class/net/lo/mtu; echo 1 >/sys/class/net/lo/mtu && echo WROTE'
like "$OUT" '^65536' "--network host: the host's sysfs is readable"
unlike "$OUT" 'WROTE' "--network host: ... and read-only"
run_cctl run --rm --network host alpine sh -c 'hostname; cat /etc/hostname; cat /etc/resolv.conf'
is "$OUT" "$(printf '%s\n%s\n%s' "$host_name" "$host_name" "$(cat /etc/resolv.conf 2>/dev/null)")" \
	"--network host: the host's name, /etc/hostname and /etc/resolv.conf"
run_cctl run --rm --network host alpine cat /etc/hosts
is "$OUT" "$(cat /etc/hosts)" "--network host: the host's /etc/hosts"
run_cctl run --rm --network host alpine sh -c 'echo x >>/etc/hosts'
check "--network host: /etc/hosts is read-only" test "$RC" -ne 0
run_cctl run --rm --network host alpine sh -c 'cat /proc/self/status | grep CapEff'
is "$OUT" "CapEff:	00000000a80425fb" "--network host: the default capabilities, no more"
run_cctl create --name hc --network host alpine cat /etc/hostname
record_id "$OUT"
run_cctl start -a hc
is "$OUT" "$host_name" "create --network host, then start: the host's /etc/hostname"
run_cctl rm hc
run_cctl run --rm --network host -h name alpine true
is "$RC" 125 "-h with --network host is refused"
like "$ERR" 'conflicting options: hostname and the network mode' "... with Docker's message"
run_cctl run --rm --network none alpine sh -c 'readlink /proc/self/ns/net; ip -o link | wc -l'
unlike "$OUT" "$daemon_net" "--network none: a network namespace of its own"
like "$OUT" $'\n1$' "--network none: lo only"
run_cctl run --rm --userns auto --network host alpine true
is "$RC" 125 "--network host in a user namespace is refused"
like "$ERR" 'cannot be shared in a user namespace: add --userns=host' "... saying why"
run_cctl run --rm --userns auto --network none alpine true
is "$RC" 0 "--network none in a user namespace runs"
run_cctl run --rm --network nosuchnet alpine true
is "$RC" 125 "an unknown network is refused"
like "$ERR" 'network nosuchnet not found' "... with Docker's message"

# A container to join: its network, hostname, processes and (shareable) IPC.
run_cctl run -d --name a --hostname ahost --ipc shareable alpine sh -c 'echo a >/tmp/a; exec sleep 1000'
is "$RC" 0 "run -d a (--ipc shareable)"
record_id "$OUT"
wait_running a
a_pid=$("$CCTL" inspect -f '{{.State.Pid}}' a)
a_net=$(ns_of "$a_pid" net)
a_ipc=$(ns_of "$a_pid" ipc)
a_pidns=$(ns_of "$a_pid" pid)

run_cctl run --rm --network container:a alpine sh -c 'readlink /proc/self/ns/net; hostname; cat /etc/hostname 2>/dev/null | wc -l'
is "$(sed -n 1p <<<"$OUT")" "$a_net" "--network container:a: a's network namespace"
is "$(sed -n 2p <<<"$OUT")" "ahost" "--network container:a: a's hostname"
run_cctl run --rm --network container:a -h other alpine true
is "$RC" 125 "-h with --network container: is refused"
like "$ERR" 'conflicting options: hostname and the network mode' "... with Docker's message"

run_cctl run --rm --pid container:a alpine ps -o pid,args
like "$OUT" 'sleep 1000' "--pid container:a: a's processes are visible"
run_cctl run --rm --pid container:a alpine readlink /proc/self/ns/pid
is "$OUT" "$a_pidns" "--pid container:a: a's pid namespace"
run_cctl run --rm alpine ps -o args
unlike "$OUT" 'sleep 1000' "a private pid namespace does not see a's processes"

kpid=$(keeper_pid)
run_cctl run --rm --pid host alpine cat "/proc/$kpid/comm"
is "$OUT" "containd-keeper" "--pid host: the keeper's pid is the keeper"
run_cctl run --rm --pid host alpine readlink /proc/self/ns/pid
is "$OUT" "$(ns_of "$DAEMON_PID" pid)" "--pid host: the daemon's pid namespace"

run_cctl run --rm --ipc container:a alpine readlink /proc/self/ns/ipc
is "$OUT" "$a_ipc" "--ipc container:a (shareable): a's ipc namespace"
run_cctl exec a sh -c 'echo shared-by-a >/dev/shm/seg'
run_cctl run --rm --ipc container:a alpine sh -c 'cat /dev/shm/seg; echo from-joiner >/dev/shm/back'
is "$OUT" "shared-by-a" "--ipc container:a: a's /dev/shm"
is "$(in_ctr a 'cat /dev/shm/back')" "from-joiner" "... both ways"
run_cctl run --rm alpine sh -c 'ls /dev/shm'
is "$OUT" "" "a private ipc namespace has a /dev/shm of its own"
run_cctl run --rm alpine readlink /proc/self/ns/ipc
unlike "$OUT" "^$a_ipc\$" "private ipc (the default): one of its own"
run_cctl run --rm --ipc private alpine sh -c 'readlink /proc/self/ns/ipc; grep -c " /dev/shm " /proc/mounts'
unlike "$OUT" "$a_ipc" "--ipc private: one of its own"
like "$OUT" $'\n1$' "--ipc private: a /dev/shm"
run_cctl run --rm --ipc none alpine sh -c 'grep -c " /dev/shm " /proc/mounts'
is "$OUT" "0" "--ipc none: no /dev/shm"
run_cctl run --rm --ipc host alpine readlink /proc/self/ns/ipc
is "$OUT" "$(ns_of "$DAEMON_PID" ipc)" "--ipc host: the daemon's ipc namespace"
run_cctl run -d --name priv alpine sleep 1000
record_id "$OUT"
wait_running priv
run_cctl run --rm --ipc container:priv alpine true
is "$RC" 125 "--ipc container: of a non-shareable container is refused"
like "$ERR" 'container priv: non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)' \
	"... with Docker's message"
run_cctl run --rm --ipc bogus alpine true
like "$ERR" 'invalid IPC mode: bogus' "an invalid --ipc is refused"

# --uts host, --cgroupns host|private.
run_cctl run --rm --uts host alpine sh -c 'readlink /proc/self/ns/uts; hostname'
is "$OUT" "$(printf '%s\n%s' "$daemon_uts" "$host_name")" "--uts host: the host's UTS namespace and name"
run_cctl run --rm --uts host -h x alpine true
like "$ERR" 'conflicting options: hostname and the UTS mode' "-h with --uts host is refused"
run_cctl run --rm --cgroupns host alpine cat /proc/self/cgroup
like "$OUT" ':/[^[:space:]]' "--cgroupns host: the full cgroup paths"
run_cctl run --rm --cgroupns private alpine cat /proc/self/cgroup
unlike "$OUT" ':/[^[:space:]]' "--cgroupns private: its own cgroup is the root"

# Errors: an unknown and a stopped container.
run_cctl run --rm --network container:nosuch alpine true
is "$RC" 125 "--network container:unknown is refused"
like "$ERR" 'no such container: nosuch' "... naming it"
run_cctl run --name stopped alpine true
record_id "$("$CCTL" inspect -f '{{.Id}}' stopped 2>/dev/null)"
run_cctl run --rm --network container:stopped alpine true
is "$RC" 125 "--network container:stopped is refused"
like "$ERR" 'cannot join network of a non running container: stopped' "... with Docker's message"
run_cctl run --rm --pid container:stopped alpine true
like "$ERR" 'cannot join PID of a non running container: stopped' "--pid container:stopped is refused"
run_cctl ps -a -q
is "$(wc -l <<<"$OUT")" 3 "a refused run leaves no container behind"

# A joined container: exec joins the same namespaces; a restart joins again; inspect.
run_cctl run -d --name b --network container:a --pid container:a --ipc container:a alpine sleep 1000
is "$RC" 0 "run -d b joined to a"
record_id "$OUT"
wait_running b
is "$(in_ctr b 'readlink /proc/self/ns/net')" "$a_net" "exec into b: a's network namespace"
is "$(in_ctr b 'ps -o args' | grep -c 'sleep 1000')" 2 "exec into b: a's processes and b's own"
is "$(in_ctr b 'readlink /proc/self/ns/ipc')" "$a_ipc" "exec into b: a's ipc namespace"
run_cctl run -d --name h --network host alpine sleep 1000
record_id "$OUT"
wait_running h
is "$(in_ctr h 'readlink /proc/self/ns/net')" "$daemon_net" "exec into a --network host container: the host's network"
run_cctl restart -t 0 b
is "$RC" 0 "restart b"
wait_running b
b_pid=$("$CCTL" inspect -f '{{.State.Pid}}' b)
is "$(ns_of "$b_pid" net)" "$a_net" "after a restart b is in a's network namespace again"
is "$(ns_of "$b_pid" pid)" "$a_pidns" "... and a's pid namespace"
run_cctl inspect -f '{{.HostConfig.NetworkMode}} {{.HostConfig.PidMode}} {{.HostConfig.IpcMode}} {{.HostConfig.UTSMode}}|{{.HostConfig.CgroupnsMode}}' b
is "$OUT" "container:a container:a container:a |private" "inspect b: HostConfig's modes"
run_cctl inspect -f '{{.HostConfig.NetworkMode}} {{.HostConfig.IpcMode}}' a
is "$OUT" "bridge shareable" "inspect a: the defaults and shareable"
run_cctl stop -t 0 b
run_cctl stop -t 0 a
run_cctl start b
check "start b while a is stopped fails" test "$RC" -ne 0
like "$ERR" 'cannot join network of a non running container: a' "... with Docker's message"
run_cctl start a
wait_running a
run_cctl start b
is "$RC" 0 "start b once a runs again"
wait_running b
is "$(ns_of "$("$CCTL" inspect -f '{{.State.Pid}}' b)" net)" "$(ns_of "$("$CCTL" inspect -f '{{.State.Pid}}' a)" net)" \
	"b joined a's new network namespace"

# The modes are in the record: a new daemon on the same root starts b into a's namespaces again.
dir=$DAEMON_DIR
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"
DAEMON_NETNS=1 start_daemon d2 --root "$dir/root" || exit 1
run_cctl inspect -f '{{.HostConfig.NetworkMode}} {{.HostConfig.PidMode}} {{.HostConfig.IpcMode}}' b
is "$OUT" "container:a container:a container:a" "a restarted daemon read b's modes from its record"
run_cctl start a
wait_running a
run_cctl start b
is "$RC" 0 "start b after the daemon's restart"
wait_running b
is "$(ns_of "$("$CCTL" inspect -f '{{.State.Pid}}' b)" ipc)" "$(ns_of "$("$CCTL" inspect -f '{{.State.Pid}}' a)" ipc)" \
	"b is in a's ipc namespace again"
run_cctl rm -f a b h priv stopped
is "$RC" 0 "remove every container"

# Live restore: a daemon killed and started again re-adopts a joined container; an exec into it
# and a restart of it still join the other's namespaces.
start_daemon lr --live-restore || exit 1
import_alpine || exit 1
run_cctl run -d --name la --ipc shareable alpine sleep 100000
record_id "$OUT"
wait_running la
run_cctl run -d --name lb --network container:la --pid container:la --ipc container:la alpine sleep 100000
record_id "$OUT"
wait_running lb
la_net=$(ns_of "$("$CCTL" inspect -f '{{.State.Pid}}' la)" net)
old=$DAEMON_PID
kill -KILL "$old"
wait "$old" 2>/dev/null
STOPPED_PIDS+="$old "
rm -f "$DAEMON_DIR/containd.sock"
start_daemon lr --live-restore || exit 1
run_cctl inspect -f '{{.State.Status}}' lb
is "$OUT" "running" "a joined container is re-adopted by a restarted daemon"
is "$(in_ctr lb 'readlink /proc/self/ns/net')" "$la_net" "an exec into it joins la's network namespace"
is "$(in_ctr lb 'ps -o args' | grep -c 'sleep 100000')" 2 "... and la's pid namespace"
run_cctl restart -t 0 lb
wait_running lb
is "$(ns_of "$("$CCTL" inspect -f '{{.State.Pid}}' lb)" net)" "$la_net" "a restart after the live restore joins again"
run_cctl rm -f lb la
is "$RC" 0 "remove them"
stop_daemon "$DAEMON_PID" "$DAEMON_DIR"

done_testing
