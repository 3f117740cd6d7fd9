/* Unit tests for cctl's mount flags (client/mount-parse.c): what -v, --mount and --tmpfs make
 * of Docker's syntax, and the messages of what they refuse. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mount-parse.h"
#include "tests/tap.h"

/* The outcome of one parse as a string: "bind /h -> /c ro create" or "error: MESSAGE". */
static char *describe(char flag, const char *arg)
{
	struct proto_mount m;
	char *err = NULL, *out = NULL;
	int r = flag == 'v'   ? mount_parse_volume(arg, &m, &err)
		: flag == 'm' ? mount_parse_mount(arg, &m, &err)
			      : mount_parse_tmpfs(arg, &m, &err);
	if (r < 0) {
		if (asprintf(&out, "error: %s", err ? err : strerror(-r)) < 0)
			out = NULL;
		free(err);
		return out;
	}
	char extra[128] = "";
	if (m.tmpfs_size || m.tmpfs_mode >= 0)
		snprintf(extra, sizeof(extra), " size=%llu mode=%o", (unsigned long long)m.tmpfs_size,
			 m.tmpfs_mode >= 0 ? (unsigned)m.tmpfs_mode : 0u);
	if (asprintf(&out, "%s %s -> %s%s%s%s%s%s", proto_mount_type_name(m.type), m.source ? m.source : "-", m.target,
		     m.readonly ? " ro" : "", m.nocopy ? " nocopy" : "", m.create_source ? " create" : "",
		     m.tmpfs_exec ? " exec" : "", extra) < 0)
		out = NULL;
	proto_mount_done(&m);
	return out;
}

static void check(char flag, const char *arg, const char *want)
{
	char *got = describe(flag, arg);
	is_str(got, want, "%c %s", flag, arg);
	free(got);
}

int main(void)
{
	/* -v */
	check('v', "/h:/c", "bind /h -> /c create");
	check('v', "/h:/c:ro", "bind /h -> /c ro create");
	check('v', "/h:/c:rw,z", "bind /h -> /c create");
	check('v', "/h:/c:Z,ro,rprivate", "bind /h -> /c ro create");
	check('v', "data:/d", "volume data -> /d");
	check('v', "data:/d:ro,nocopy", "volume data -> /d ro nocopy");
	check('v', "/anon", "volume - -> /anon");
	check('v', "/h:/c:nocopy", "error: invalid mode: nocopy");
	check('v', "/h:/c:shared", "error: invalid mode: shared");
	check('v', "/h:c", "error: invalid mount config: invalid mount path: 'c' mount path must be absolute");
	check('v', "anon", "error: invalid mount config: invalid mount path: 'anon' mount path must be absolute");
	check('v', "/h::/c", "error: invalid spec: /h::/c: empty section between colons");
	check('v', "/a:/b:ro:x", "error: invalid spec: /a:/b:ro:x: too many colons");
	check('v', "./x:/c",
	      "error: create ./x: \"./x\" includes invalid characters for a local volume name, only "
	      "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path");
	check('v', "/h:/", "error: invalid mount config: the destination cannot be \"/\"");
	check('v', "/h:/a/../b", "error: invalid mount target \"/a/../b\": it must be an absolute path without \"..\"");
	check('v', "/../etc:/c",
	      "error: invalid mount config for type \"bind\": the source \"/../etc\" must be an absolute path without "
	      "\"..\"");
	/* --mount */
	check('m', "type=bind,source=/h,target=/c,readonly", "bind /h -> /c ro");
	check('m', "type=bind,src=/h,dst=/c,ro=false", "bind /h -> /c");
	check('m', "type=bind,source=/h,destination=/c,bind-propagation=rprivate", "bind /h -> /c");
	check('m', "src=v1,target=/c,volume-nocopy", "volume v1 -> /c nocopy");
	check('m', "type=volume,target=/c", "volume - -> /c");
	check('m', "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=700", "tmpfs - -> /t size=1048576 mode=700");
	check('m', "type=bind,target=/c",
	      "error: invalid mount config for type \"bind\": field Source must not be empty");
	check('m', "type=tmpfs,source=x,target=/c",
	      "error: invalid mount config for type \"tmpfs\": field Source must be empty");
	check('m', "type=bind,source=/h", "error: target is required");
	check('m', "type=volume,target=/c,bogus=1", "error: unexpected key 'bogus' in 'bogus=1'");
	check('m', "type=bind,source=/h,target=/c,volume-nocopy",
	      "error: unexpected key 'volume-nocopy' in 'volume-nocopy'");
	check('m', "type=nfs,target=/c", "error: invalid mount type \"nfs\": bind, volume or tmpfs");
	check('m', "type=bind,source=/h,target=/c,readonly=maybe", "error: invalid value for readonly: maybe");
	check('m', "type=bind,source=/h,target=/c,bind-propagation=shared",
	      "error: invalid bind-propagation \"shared\": only private and rprivate are supported");
	check('m', "type=tmpfs,target=/t,tmpfs-mode=9", "error: invalid value for tmpfs-mode: 9");
	/* --tmpfs */
	check('t', "/run", "tmpfs - -> /run");
	check('t', "/run:size=64m,mode=1777", "tmpfs - -> /run size=67108864 mode=1777");
	check('t', "/run:ro,exec,nosuid,nodev", "tmpfs - -> /run ro exec");
	check('t', "/run:suid",
	      "error: invalid tmpfs option \"suid\": expected size=, mode=, ro, rw, exec, noexec, nosuid or nodev");
	check('t', "/run:size=lots", "error: invalid tmpfs option \"size=lots\"");
	check('t', "run", "error: invalid mount target \"run\": it must be an absolute path without \"..\"");
	check('t', "/", "error: invalid mount config: the destination cannot be \"/\"");
	ok(proto_volume_name_valid("ab") && proto_volume_name_valid("a_b.c-1") && !proto_volume_name_valid("a") &&
	       !proto_volume_name_valid("-ab") && !proto_volume_name_valid("a/b") && !proto_volume_name_valid(".."),
	   "volume names follow Docker's rule");
	return tap_done();
}
