/* Fuzz target for cctl's mount flags (client/mount-parse.c): -v, --mount and --tmpfs. The first
 * byte picks the parser ('v', 'm', anything else: tmpfs), the rest is the NUL-terminated flag
 * value. Whatever a parser accepts must pass the daemon's own check (proto_mount_check), have an
 * absolute target that is not "/" and contains no "..", and survive the wire unchanged: encoded,
 * decoded (as the daemon decodes it) and compared field by field. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/mount-parse.h"
#include "tests/fuzz/fuzz.h"

/* Whether no component of path is "..". */
static bool no_dotdot(const char *path)
{
	for (const char *c = path; (c = strstr(c, "..")); c += 2)
		if ((c == path || c[-1] == '/') && (c[2] == '/' || c[2] == '\0'))
			return false;
	return true;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	char *s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	struct proto_mount m;
	char *err = NULL;
	int r = data[0] == 'v'	 ? mount_parse_volume(s, &m, &err)
		: data[0] == 'm' ? mount_parse_mount(s, &m, &err)
				 : mount_parse_tmpfs(s, &m, &err);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
		FUZZ_CHECK(err != NULL || r == -ENOMEM);
		free(err);
		free(s);
		return 0;
	}
	FUZZ_CHECK(err == NULL);
	FUZZ_CHECK(proto_mount_check(&m, NULL) == 0);
	FUZZ_CHECK(m.target && m.target[0] == '/' && strspn(m.target, "/") < strlen(m.target));
	FUZZ_CHECK(no_dotdot(m.target) && (!m.source || m.type != PROTO_MOUNT_BIND || no_dotdot(m.source)));
	FUZZ_CHECK(m.type != PROTO_MOUNT_BIND || (m.source && m.source[0] == '/'));
	FUZZ_CHECK(m.type != PROTO_MOUNT_VOLUME || !m.source || proto_volume_name_valid(m.source));
	FUZZ_CHECK(m.type != PROTO_MOUNT_TMPFS || !m.source);
	json_t *o = proto_mount_encode(&m);
	FUZZ_CHECK(o != NULL);
	struct proto_mount back;
	FUZZ_CHECK(proto_mount_decode(o, &back, NULL) == 0);
	FUZZ_CHECK(back.type == m.type && str_eq(back.source, m.source) && str_eq(back.target, m.target));
	FUZZ_CHECK(back.readonly == m.readonly && back.nocopy == m.nocopy && back.create_source == m.create_source);
	FUZZ_CHECK(back.tmpfs_size == m.tmpfs_size && back.tmpfs_mode == m.tmpfs_mode &&
		   back.tmpfs_exec == m.tmpfs_exec);
	json_decref(o);
	proto_mount_done(&back);
	proto_mount_done(&m);
	free(s);
	return 0;
}
