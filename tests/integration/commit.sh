#!/usr/bin/env bash
# cctl commit / container.commit: the new image runs and sees exactly the container's files
# (added, changed, deleted files, a deleted directory, a directory deleted and made again),
# keeps the container's command and environment with --change over them, records the message
# and author in its history, is named as asked; a running container is paused meanwhile and
# runs on; errors exit 1 with docker's words; nothing is left in the store's ingest dir.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine

rid() { record_id "$("$CCTL" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"; }
# A tree's listing with each file's type, mode, owner, size and content hash (what "the same
# files" means), from an export.
tree_of() {
	python3 -c '
import hashlib, sys, tarfile
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as t:
    for m in t:
        h = hashlib.sha256(t.extractfile(m).read()).hexdigest()[:16] if m.isreg() else m.linkname
        print(m.name.rstrip("/"), m.type.decode(), oct(m.mode), m.uid, m.gid, m.size, h)
' | sort
}

"$CCTL" run --name c1 -e FOO=bar alpine sh -c 'echo hi >/newfile; echo y >>/etc/profile; rm /etc/motd;
	rm -rf /etc/apk; rm -rf /etc/ssl; mkdir /etc/ssl; echo only >/etc/ssl/only; chown 123:456 /newfile;
	ln -s /newfile /newlink; mkdir -p /var/new/deep; chmod 4755 /newfile' >/dev/null
rid c1
run_cctl commit -m "the message" -a "A. Author <a@example.com>" -c 'ENV BAZ=qux' c1 committed:v1
is "$RC" 0 "commit an exited container"
like "$OUT" '^sha256:[0-9a-f]{64}$' "it prints the new image's id"
id=${OUT#sha256:}
like "$("$CCTL" images)" "committed +v1 +${id:0:12}" "the image is listed under the name asked for"

"$CCTL" create --name c2 committed:v1 >/dev/null
rid c2
is "$("$CCTL" export c2 | tree_of)" "$("$CCTL" export c1 | tree_of)" \
	"a container of the new image has exactly the committed container's files (types, modes, owners, contents)"
run_cctl run --rm committed:v1 sh -c 'ls /etc/motd /etc/apk 2>&1; ls /etc/ssl; cat /newfile; echo "$FOO $BAZ"'
like "$OUT" "/etc/motd: No such file" "a deleted file stays deleted (its whiteout)"
like "$OUT" "/etc/apk: No such file" "and a deleted directory"
like "$OUT" "(^|
)only(
|$)" "a directory deleted and made again holds only its new files (opaque)"
like "$OUT" "(^|
)hi(
|$)" "an added file is there"
like "$OUT" "bar qux" "the container's env and the --change one"
is "$("$CCTL" run --rm committed:v1 stat -c '%u:%g %a' /newfile)" "123:456 4755" "owners and set-id bits survive"
run_cctl run --rm committed:v1
is "$RC" 0 "the image's command is the container's"
# The config blob: history with the message and the author, the new diff_id.
cfg=$DAEMON_DIR/root/blobs/sha256/$id
[[ -f $cfg ]] && pass "the config is a blob named by the image id" || fail "the config is a blob named by the image id"
is "$(sha256sum <"$cfg" | cut -d' ' -f1)" "$id" "whose sha256 is the id"
is "$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); h=c["history"][-1]; print(h.get("comment"), "|", h.get("author"), "|", c.get("author"), "|", len(c["rootfs"]["diff_ids"]))' "$cfg")" \
	"the message | A. Author <a@example.com> | A. Author <a@example.com> | 2" "history, author and a second layer"
"$CCTL" commit c2 committed:v2 >/dev/null
run_cctl run --rm committed:v2 cat /etc/ssl/only
is "$OUT" "only" "a commit of a commit"

# A running container: paused while its layer is written, running afterwards.
"$CCTL" run -d --name r1 alpine sleep 1000 >/dev/null
rid r1
"$CCTL" exec r1 sh -c 'echo live >/live'
run_cctl commit r1 committed:live
is "$RC" 0 "commit a running container"
is "$("$CCTL" inspect r1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])')" "running" \
	"it runs on (unpaused) afterwards"
is "$("$CCTL" run --rm committed:live cat /live)" "live" "its changes are in the image"
run_cctl commit --pause=false -c 'CMD ["echo","from-change"]' r1
is "$RC" 0 "--pause=false, no name"
is "$("$CCTL" run --rm "${OUT#sha256:}")" "from-change" "--change CMD sets the command"

run_cctl commit nope
is "$RC" 1 "an unknown container: exit 1"
like "$ERR" "[Nn]o such container: nope" "docker's message"
run_cctl commit r1 'Bad Name'
is "$RC" 1 "an invalid name: exit 1"
run_cctl commit
is "$RC" 125 "no container: usage error"
like "$ERR" 'requires at least 1 and at most 2 arguments' "docker's message"
is "$(ls "$DAEMON_DIR/root/ingest" | wc -l)" 0 "nothing left in the ingest dir"

"$CCTL" rm -f c1 c2 r1 >/dev/null
done_testing
