#!/usr/bin/env bash
# Image import, listing, removal; hostile tarballs are refused and leave nothing behind.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
root=$DAEMON_DIR/root

run_cctl image import alpine "$ALPINE_TARBALL"
is "$RC" 0 "import the Alpine tarball"
run_cctl images
like "$OUT" 'alpine +latest' "images lists alpine:latest"
layer=$(ls "$root/layers")
is "$layer" "1bccf10afce5c1ffe31381419930ad565c1436eaeb1ca680494b0663e0028419" "the layer is stored under its diff_id (the sha256 of the uncompressed tar)"
is "$(cat "$root/layers/$layer/etc/alpine-release")" "3.20.3" "the layer holds the extracted files"
run_cctl image import alpine:3.20 "$ALPINE_TARBALL"
is "$(ls "$root/layers" | wc -l)" 1 "a second import of the same tarball reuses the layer"
run_cctl images
like "$OUT" 'alpine +3\.20' "the second name is listed"
out=$(gzip -dc "$ALPINE_TARBALL" | "$CCTL" image import -c "ENV IMPORTED=plain" plain -)
is "$?" 0 "import from stdin (uncompressed tar)"
out=$("$CCTL" run --rm plain cat /etc/alpine-release)
is "$out" "3.20.3" "an image imported from stdin runs"

if command -v xz >/dev/null; then
	gzip -dc "$ALPINE_TARBALL" | xz -1 >"$TEST_TMP/alpine.tar.xz"
	run_cctl image import -c "ENV IMPORTED=xz" xzimage "$TEST_TMP/alpine.tar.xz"
	is "$RC" 0 "import a .tar.xz"
	is "$("$CCTL" run --rm xzimage cat /etc/alpine-release)" "3.20.3" "the .tar.xz image runs"
else
	skip "import a .tar.xz" "xz is not installed"
fi

run_cctl image import 'Bad:Name' "$ALPINE_TARBALL"
is "$RC" 125 "an invalid image name is refused"
like "$ERR" 'invalid|lowercase' "with a message about the name"
run_cctl image import x /nonexistent.tar
is "$RC" 125 "a missing file is refused"

id=$("$CCTL" run -d alpine sleep 100)
record_id "$id"
# As Docker: one of several names is untagged even while the image is in use; the last is not.
run_cctl rmi alpine:3.20
is "$RC" 0 "rmi of one name, while a container uses the image"
like "$OUT" 'Untagged: alpine:3.20' "reports the untag"
run_cctl rmi alpine
is "$RC" 1 "rmi of the last name is refused while a container uses the image"
like "$ERR" 'in use' "and says it is in use"
"$CCTL" rm -f "$id" >/dev/null
run_cctl rmi alpine
is "$RC" 0 "rmi of the last name"
run_cctl images
like "$OUT" 'plain +latest' "images still lists the other image"
unlike "$OUT" 'alpine' "alpine is gone"

# Hostile tarballs, made with Python's tarfile.
mkdir -p "$TEST_TMP/evil"
python3 - "$TEST_TMP/evil" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def tar(name, members, mode="w"):
    with tarfile.open(f"{d}/{name}", mode) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def f(name, data=b"evil\n"):
    i = tarfile.TarInfo(name); i.size = len(data); return (i, data)
def l(name, target, kind):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; return (i, None)
target = d + "/escaped"
tar("dotdot.tar", [f("ok"), f("../../../../" + target.lstrip("/"))])
tar("deep-dotdot.tar", [f("ok"), f("../" * 40 + target.lstrip("/"))])
tar("symlink-up.tar", [l("up", "../" * 40, tarfile.SYMTYPE), f("up/" + target.lstrip("/"))])
tar("absolute.tar", [f(target)])
tar("inner-dotdot.tar", [f("a/../../escaped")])
tar("symlink-write.tar", [l("link", d, tarfile.SYMTYPE), f("link/escaped")])
tar("hardlink-out.tar", [l("hl", "../../../../etc/passwd", tarfile.LNKTYPE)])
tar("hardlink-abs.tar", [l("hl", "/etc/passwd", tarfile.LNKTYPE)])
tar("evil.tar.gz", [f("ok"), f("../escaped")], "w:gz")
open(f"{d}/not-a-tar.tar", "wb").write(b"hello, this is not a tarball\n" * 100)
open(f"{d}/empty.tar", "wb").write(b"")
good = open(f"{d}/dotdot.tar", "rb").read()
tar("good.tar.gz", [f("etc/x", b"x" * 100000)], "w:gz")
data = open(f"{d}/good.tar.gz", "rb").read()
open(f"{d}/truncated.tar.gz", "wb").write(data[: len(data) // 2])
PY
# What the hostile entries aim at, before any of them is imported: every file under the temp
# dir (path, type, size, link count, symlink target) but the daemon's growing log, the store's
# scratch directories (failed imports go to tmp/, then trash/, emptied in the background) and these
# snapshots, the host files they name, and the names they use in the directories an escape
# from the daemon's working directory or the store could reach.
cwd=$(readlink /proc/$DAEMON_PID/cwd)
outside() {
	find "$TEST_TMP" -path "$DAEMON_DIR/log" -prune -o -path "$TEST_TMP/snap" -prune -o \
		-path "$DAEMON_DIR/root/trash" -prune -o -path "$DAEMON_DIR/root/tmp" -prune -o -printf '%p %y %s %n %l\n' | sort
	stat -c '%n %h %s %Y' /etc/passwd
	sha256sum /etc/passwd
	local d n
	for d in / /tmp /etc "$cwd" "$(dirname "$cwd")" "$(dirname "$TEST_TMP")"; do
		for n in escaped ok link hl up a; do
			[[ -e $d/$n || -L $d/$n ]] && stat -c '%n %h %s %Y' "$d/$n"
		done
	done
}
mkdir "$TEST_TMP/snap"
outside >"$TEST_TMP/snap/before"
for t in dotdot deep-dotdot absolute inner-dotdot symlink-write symlink-up hardlink-out hardlink-abs; do
	run_cctl image import "evil-$t" "$TEST_TMP/evil/$t.tar"
	is "$RC" 125 "hostile tarball '$t' is refused"
	[[ -n $ERR ]] && pass "'$t' is refused with a message: ${ERR%%$'\n'*}" || fail "'$t' has a message"
done
for t in evil.tar.gz not-a-tar.tar empty.tar truncated.tar.gz; do
	run_cctl image import "bad" "$TEST_TMP/evil/$t"
	is "$RC" 125 "broken tarball '$t' is refused"
done
outside >"$TEST_TMP/snap/after"
diff=$(diff "$TEST_TMP/snap/before" "$TEST_TMP/snap/after")
is "$diff" "" "nothing was written outside the store: the temp dir, /etc/passwd and the names the entries aim at are unchanged"
(( $(wc -l <"$TEST_TMP/snap/before") > 10 )) && grep -q "^$TEST_TMP/evil d " "$TEST_TMP/snap/before" && pass "the snapshot covers the temp dir" || fail "the snapshot covers the temp dir"
is "$(ls "$root/layers")" "1bccf10afce5c1ffe31381419930ad565c1436eaeb1ca680494b0663e0028419" "refused imports leave no layer behind (the gzip, plain and xz imports share one: same uncompressed tar)"
# alpine (the gzip import) was removed: its blob went; plain's (the uncompressed tar) stays.
is "$(ls "$root/blobs/sha256" | grep -c -e d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c -e 1bccf10afce5c1ffe31381419930ad565c1436eaeb1ca680494b0663e0028419)" 1 "imported tarballs are kept verbatim as blobs, and go with their last image"
is "$(ls -A "$root/tmp" 2>/dev/null | wc -l)" 0 "refused imports leave no temporary directory"
run_cctl images
like "$OUT" 'plain +latest' "images still lists the good image"
unlike "$OUT" 'evil|bad' "refused imports leave no image"
done_testing
