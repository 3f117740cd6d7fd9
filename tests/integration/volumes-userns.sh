#!/usr/bin/env bash
# Volumes in a user namespace (--userns=auto): a bind or a volume would show the host's files as
# owned by nobody and refuse the container's writes without an idmapped mount, so they are
# refused plainly (exit 125, a message that says what to do); a tmpfs works.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine

ids=$TEST_TMP/ids
mkdir -p "$ids"
echo "containd-test:$USERNS_TEST_BASE:655360" >"$ids/subuid"
cp "$ids/subuid" "$ids/subgid"
start_daemon u --subuid-file "$ids/subuid" --subgid-file "$ids/subgid" --userns-remap=containd-test || exit 1
import_alpine || exit 1

mkdir -p "$TEST_TMP/host"
run_cctl run --rm -v "$TEST_TMP/host:/h" alpine true
is "$RC" 125 "a bind in a user namespace is refused (125)"
like "$ERR" "bind mounts are not supported in a user namespace.*--userns=host" "with a message that says what to do"
run_cctl run --rm -v named:/n alpine true
is "$RC" 125 "a volume in a user namespace is refused"
like "$ERR" "volume mounts are not supported in a user namespace" "with a message"
check "no volume was created" test ! -e "$DAEMON_DIR/root/volumes/named"
is "$("$CCTL" run --rm --tmpfs /t:mode=700 alpine stat -c %a /t)" 700 "a tmpfs works in a user namespace"
run_cctl run --rm --read-only alpine touch /x
check "--read-only works in a user namespace" test "$RC" != 0
is "$("$CCTL" run --rm --userns host -v "$TEST_TMP/host:/h" alpine sh -c 'echo ok >/h/f; cat /h/f')" ok \
	"with --userns=host the bind works"
done_testing
