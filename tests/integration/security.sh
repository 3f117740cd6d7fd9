#!/usr/bin/env bash
# The hardened defaults a container gets (Docker's floor) and the flags that change them:
# capabilities, seccomp, no_new_privs, masked paths, rlimits, devices, users; each visible in
# inspect.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
# The daemon runs with a low soft nofile limit: containers must not inherit it.
start_daemon_low_nofile() {
	local saved
	saved=$(ulimit -Sn)
	ulimit -Sn 512
	start_daemon "$@"
	local r=$?
	ulimit -Sn "$saved"
	return $r
}
# What nofile a container gets: 1048576, lowered to fs.nr_open, and to the daemon's hard limit
# when it cannot raise it (no CAP_SYS_RESOURCE, as in some sandboxes).
expected_nofile() {
	local want=1048576 nr_open hard
	nr_open=$(cat /proc/sys/fs/nr_open)
	((nr_open < want)) && want=$nr_open
	hard=$(ulimit -Hn)
	if (( (0x$(awk '/^CapEff/ {print $2}' /proc/self/status) >> 24 & 1) == 0 )) && [[ $hard != unlimited ]] &&
		((hard < want)); then
		want=$hard
	fi
	echo "$want"
}
start_daemon_low_nofile || exit 1
import_alpine || exit 1

status() { "$CCTL" run --rm "$@" alpine grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|Seccomp|NoNewPrivs):" /proc/self/status | tr -d '\t'; }
field() { sed -n "s/^$1://p" <<<"$2"; }
inspect_security() { "$CCTL" inspect "$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["security"], sort_keys=True))'; }

# Defaults.
st=$(status)
is "$(field Seccomp "$st")" 2 "a default container runs under seccomp (mode 2)"
is "$(field CapEff "$st")" 00000000a80425fb "root has Docker's default capability set"
is "$(field CapBnd "$st")" 00000000a80425fb "and so does the bounding set"
is "$(field CapInh "$st")" 0000000000000000 "the inheritable set is empty (CVE-2022-24769)"
is "$(field CapAmb "$st")" 0000000000000000 "the ambient set is empty"
is "$(field NoNewPrivs "$st")" 0 "no_new_privs is off by default, as in Docker"
st=$(status -u 1000)
is "$(field CapEff "$st")" 0000000000000000 "a non-root user has no effective capabilities"
is "$(field CapBnd "$st")" 00000000a80425fb "but the same bounding set"
nofile=$(expected_nofile)
is "$("$CCTL" run --rm alpine sh -c 'ulimit -n; ulimit -Hn')" "$nofile"$'\n'"$nofile" \
	"nofile is $nofile:$nofile (1048576 unless the host caps it), not the daemon's 512"
is "$("$CCTL" run --rm alpine sh -c 'ulimit -c')" "unlimited" "core dumps are not limited (Docker's unit)"
out=$("$CCTL" run --rm alpine sh -c 'mount | grep -E " /proc/(sys|kcore|keys|bus) " | awk "{print \$3, \$5, \$6}"')
like "$out" "/proc/sys proc \(ro," "/proc/sys is mounted read-only"
like "$out" "/proc/keys (tmpfs|devtmpfs|tmpfs)? ?.*|/proc/keys" "/proc/keys is masked"
out=$("$CCTL" run --rm alpine sh -c 'mount | grep " /sys/fs/cgroup "')
like "$out" "cgroup2 \(ro," "the container's own cgroup is mounted read-only at /sys/fs/cgroup"
out=$("$CCTL" run --rm alpine cat /sys/fs/cgroup/cgroup.procs)
is "$out" "1" "and it is the namespace's view: only the container's own processes"

run_cctl run --name defaults alpine true
sec=$(inspect_security defaults)
like "$sec" '"capabilities": \["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"\]' \
	"inspect shows Docker's capability set"
like "$sec" '"seccomp": "default"' "inspect shows the default seccomp profile"
like "$sec" '"masked_paths": \[[^]]*"/proc/kcore"' "inspect shows the masked paths"
like "$sec" '"readonly_paths": \[[^]]*"/proc/sys"' "inspect shows the read-only paths"
like "$sec" "\\{\"hard\": $nofile, \"name\": \"nofile\", \"soft\": $nofile\\}" "inspect shows the nofile limit"
like "$sec" '"privileged": false' "inspect says the container is not privileged"

# Capabilities.
st=$(status --cap-drop ALL --cap-add chown)
is "$(field CapEff "$st")" 0000000000000001 "--cap-drop ALL --cap-add chown leaves CAP_CHOWN alone"
st=$(status --cap-add NET_ADMIN --cap-drop CAP_MKNOD)
is "$(field CapEff "$st")" 00000000a00435fb "--cap-add NET_ADMIN --cap-drop CAP_MKNOD"
run_cctl run --rm --cap-add CAP_BOGUS alpine true
is "$RC" 125 "an unknown capability is refused"
like "$ERR" "BOGUS" "and named"
out=$("$CCTL" run --rm --cap-drop NET_RAW alpine sh -c 'ping -c1 -W1 127.0.0.1 >/dev/null 2>&1 && echo pinged || echo denied')
is "$out" "denied" "without NET_RAW, ping's raw socket is refused"

# Seccomp.
st=$(status --security-opt seccomp=unconfined)
is "$(field Seccomp "$st")" 0 "--security-opt seccomp=unconfined runs without a filter"
cat >"$TEST_TMP/no-mkdir.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF
out=$("$CCTL" run --rm --security-opt seccomp="$TEST_TMP/no-mkdir.json" alpine sh -c 'mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status | tr -d "\t"')
like "$out" "Operation not permitted" "a custom Docker-format profile applies (mkdir denied)"
like "$out" "Seccomp:2" "under a filter"
run_cctl run --name custom --security-opt seccomp="$TEST_TMP/no-mkdir.json" alpine true
like "$(inspect_security custom)" '"seccomp": "custom"' "inspect says the profile is custom"
echo '{"defaultAction": "SCMP_ACT_NOTIFY"}' >"$TEST_TMP/bad.json"
run_cctl run --rm --security-opt seccomp="$TEST_TMP/bad.json" alpine true
is "$RC" 125 "a profile the daemon cannot honour is refused"
like "$ERR" "NOTIFY" "and the error says why"

# no_new_privs and the system paths.
st=$(status --security-opt no-new-privileges)
is "$(field NoNewPrivs "$st")" 1 "--security-opt no-new-privileges sets no_new_privs"
out=$("$CCTL" run --rm --security-opt systempaths=unconfined alpine sh -c 'mount | grep -c " /proc/sys "')
is "$out" 0 "--security-opt systempaths=unconfined leaves /proc/sys alone"

# rlimits.
is "$("$CCTL" run --rm --ulimit nofile=1024:2048 alpine sh -c 'ulimit -n; ulimit -Hn')" $'1024\n2048' \
	"--ulimit nofile=1024:2048"
is "$("$CCTL" run --rm alpine sh -c 'ulimit -s')" "8192" "the stack's soft limit is 8 MiB by default"
is "$("$CCTL" run --rm --ulimit stack=-1 alpine sh -c 'ulimit -s')" "unlimited" "--ulimit stack=-1 is unlimited"
is "$("$CCTL" run --rm --ulimit nproc=100:200 alpine sh -c 'ulimit -u; ulimit -Hu')" $'100\n200' "--ulimit nproc=100:200"
run_cctl run --rm --ulimit nofile=2048:1024 alpine true
is "$RC" 125 "a soft limit above the hard one is refused"

# Devices.
out=$("$CCTL" run --rm --device-cgroup-rule 'b 7:0 r' alpine sh -c 'mknod /tmp/loop b 7 0 && head -c1 /tmp/loop >/dev/null && echo opened')
is "$out" "opened" "--device-cgroup-rule 'b 7:0 r' allows opening that device"
out=$("$CCTL" run --rm alpine sh -c 'mknod /tmp/loop b 7 0 && head -c1 /tmp/loop 2>&1')
like "$out" "Operation not permitted" "without it the same device is refused"
run_cctl run --rm --device-cgroup-rule 'x 1:1 r' alpine true
is "$RC" 125 "an invalid device rule is refused"

# --privileged.
st=$(status --privileged)
is "$(field Seccomp "$st")" 0 "--privileged runs without seccomp"
unlike "$(field CapEff "$st")" "^00000000a80425fb$" "--privileged has more than the default capabilities"
out=$("$CCTL" run --rm --privileged alpine sh -c 'mount -t tmpfs none /mnt && echo mounted; mount | grep -c " /proc/sys "; test -c /dev/loop-control && echo host-devices')
is "$out" $'mounted\n0\nhost-devices' "--privileged can mount, has no read-only /proc/sys and sees the host's devices"
run_cctl run --name priv --privileged alpine true
like "$(inspect_security priv)" '"privileged": true.*"seccomp": "unconfined"' "inspect shows a privileged, unconfined container"

# Users, resolved in the image's own files.
is "$("$CCTL" run --rm -u 65534 alpine sh -c 'id; echo $HOME')" $'uid=65534(nobody) gid=65534(nobody)\n/' \
	"-u 65534 takes its group and HOME from the image's passwd"
is "$("$CCTL" run --rm -u nobody:wheel alpine id)" "uid=65534(nobody) gid=10(wheel)" "-u NAME:GROUP resolves both names"
like "$("$CCTL" run --rm alpine id)" "groups=0\(root\),1\(bin\),2\(daemon\)" "root gets the supplementary groups /etc/group gives it"
is "$("$CCTL" run --rm alpine sh -c 'echo $HOME')" "/root" "root's HOME comes from passwd"
is "$("$CCTL" run --rm -e HOME=/x alpine sh -c 'echo $HOME')" "/x" "an explicit HOME wins"
is "$("$CCTL" run --rm -u 4242:4343 alpine sh -c 'id; echo $HOME')" $'uid=4242 gid=4343\n/' \
	"numeric ids absent from passwd work, with HOME=/"
run_cctl run --rm -u nosuchuser alpine id
is "$RC" 125 "an unknown user name fails to start"
like "$ERR" "unable to find user nosuchuser" "with Docker's message"
# A hostile image: its passwd is a FIFO (it must not hang the init) or huge garbage.
mkdir -p "$TEST_TMP/fifo" && tar -xzf "$ALPINE_TARBALL" -C "$TEST_TMP/fifo" && rm "$TEST_TMP/fifo/etc/passwd" &&
	mkfifo "$TEST_TMP/fifo/etc/passwd" && tar -C "$TEST_TMP/fifo" -cf "$TEST_TMP/fifo.tar" . &&
	"$CCTL" image import fifo "$TEST_TMP/fifo.tar" >/dev/null
run_cctl run --rm -u nobody fifo id
is "$RC" 125 "an image whose /etc/passwd is a FIFO fails to start instead of hanging"
like "$ERR" "passwd" "and says the passwd file is the problem"

done_testing
