#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "runtime/passwd.h"
#include "runtime/rootfs.h"

#define PASSWD_MAX_FILE (4 * 1024 * 1024)
#define PASSWD_MAX_GROUPS 1024 /* what an image can make us pass to setgroups */

/* A decimal id below 2^32-1 (the value -1 means "no change" to the kernel and is refused). */
static bool parse_id(const char *s, size_t len, uint32_t *ret)
{
	uint64_t v = 0;
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v >= UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* Splits one line into at most max ':'-separated fields (pointers into line, which is modified). */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

/* Calls fn for each line of text with its fields; stops when fn returns non-zero. */
static int each_entry(const char *text, size_t nfields, int (*fn)(char **f, size_t n, void *), void *userdata)
{
	_cleanup_free_ char *copy = strdup(text ? text : "");
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[8];
		if (line[0] == '#' || line[0] == '\0')
			continue;
		size_t n = split_fields(line, f, nfields);
		int r = fn(f, n, userdata);
		if (r)
			return r;
	}
	return 0;
}

struct lookup {
	const char *name; /* by name, or */
	uint32_t id;      /* by id when name is NULL */
	bool found;
	uint32_t found_id, found_gid;
	char *found_name, *home;
};

static int passwd_match(char **f, size_t n, void *userdata)
{
	struct lookup *l = userdata;
	uint32_t uid, gid;
	if (n < 7 || !parse_id(f[2], strlen(f[2]), &uid) || !parse_id(f[3], strlen(f[3]), &gid))
		return 0;
	if (l->name ? strcmp(f[0], l->name) != 0 : uid != l->id)
		return 0;
	l->found = true;
	l->found_id = uid;
	l->found_gid = gid;
	l->found_name = strdup(f[0]);
	/* An empty home field is no home: HOME "/" as for a user not in the file, never "". */
	l->home = strdup(f[5][0] ? f[5] : "/");
	return 1;
}

static int group_match(char **f, size_t n, void *userdata)
{
	struct lookup *l = userdata;
	uint32_t gid;
	if (n < 3 || !parse_id(f[2], strlen(f[2]), &gid))
		return 0;
	if (l->name ? strcmp(f[0], l->name) != 0 : gid != l->id)
		return 0;
	l->found = true;
	l->found_id = gid;
	return 1;
}

struct members {
	const char *user;
	gid_t *groups;
	size_t n;
	bool overflow;
};

static int group_lists_user(char **f, size_t n, void *userdata)
{
	struct members *m = userdata;
	uint32_t gid;
	if (n < 4 || !parse_id(f[2], strlen(f[2]), &gid))
		return 0;
	char *save = NULL;
	for (char *u = strtok_r(f[3], ",", &save); u; u = strtok_r(NULL, ",", &save))
		if (strcmp(u, m->user) == 0) {
			for (size_t i = 0; i < m->n; i++)
				if (m->groups[i] == gid)
					return 0;
			if (m->n >= PASSWD_MAX_GROUPS) {
				m->overflow = true;
				return 1;
			}
			m->groups[m->n++] = gid;
			return 0;
		}
	return 0;
}

int passwd_resolve_text(const char *spec, const char *passwd, const char *group, struct passwd_user *ret, char *err,
			size_t errlen)
{
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	_cleanup_free_ char *uname = strndup(spec, ulen);
	const char *gspec = colon ? colon + 1 : NULL;
	struct lookup u = { 0 };
	uint32_t id = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!uname)
		return err_buf(err, errlen, -ENOMEM, "out of memory");
	if (ulen == 0 || (gspec && !*gspec))
		return err_buf(err, errlen, -EINVAL, "invalid user \"%s\"", spec);
	if (parse_id(uname, ulen, &id)) {
		u.id = id;
	} else {
		u.name = uname;
	}
	if ((r = each_entry(passwd, 7, passwd_match, &u)) < 0)
		return err_buf(err, errlen, r, "out of memory");
	if (!u.found && u.name)
		return err_buf(err, errlen, -ENOENT, "unable to find user %s: no matching entries in passwd file", uname);
	ret->uid = u.found ? u.found_id : id;
	ret->gid = u.found ? u.found_gid : 0;
	ret->home = u.home ? u.home : strdup("/");
	_cleanup_free_ char *found_name = u.found_name;
	if (!ret->home)
		return err_buf(err, errlen, -ENOMEM, "out of memory");
	if (gspec) {
		struct lookup g = { 0 };
		if (parse_id(gspec, strlen(gspec), &id))
			g.id = id;
		else
			g.name = gspec;
		if ((r = each_entry(group, 4, group_match, &g)) < 0) {
			passwd_user_done(ret);
			return err_buf(err, errlen, r, "out of memory");
		}
		if (!g.found && g.name) {
			passwd_user_done(ret);
			return err_buf(err, errlen, -ENOENT, "unable to find group %s: no matching entries in group file", gspec);
		}
		ret->gid = g.found ? g.found_id : id;
	}
	if (found_name) {
		struct members m = { .user = found_name, .groups = calloc(PASSWD_MAX_GROUPS, sizeof(gid_t)) };
		if (!m.groups || (r = each_entry(group, 4, group_lists_user, &m)) < 0) {
			free(m.groups);
			passwd_user_done(ret);
			return err_buf(err, errlen, -ENOMEM, "out of memory");
		}
		if (m.overflow) {
			free(m.groups);
			passwd_user_done(ret);
			return err_buf(err, errlen, -E2BIG, "user %s is in more than %d groups", found_name, PASSWD_MAX_GROUPS);
		}
		ret->groups = m.groups;
		ret->n_groups = m.n;
	}
	return 0;
}

/* Reads one of the image's account files: a regular file inside the root, no magic links, no
 * blocking (a FIFO planted there must not hang the init), bounded in size. Missing is empty. */
static int read_account_file(const char *path, char **ret)
{
	*ret = NULL;
	_cleanup_close_ int fd = rootfs_open_in_root(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > PASSWD_MAX_FILE)
		return -EFBIG;
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	size_t len = 0;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

int passwd_resolve(const char *spec, struct passwd_user *ret, char *err, size_t errlen)
{
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	int r = read_account_file("/etc/passwd", &passwd);
	if (r < 0)
		return err_buf(err, errlen, r, "cannot read the image's /etc/passwd: %s", strerror(-r));
	if ((r = read_account_file("/etc/group", &group)) < 0)
		return err_buf(err, errlen, r, "cannot read the image's /etc/group: %s", strerror(-r));
	return passwd_resolve_text(spec, passwd, group, ret, err, errlen);
}

void passwd_user_done(struct passwd_user *u)
{
	free(u->groups);
	free(u->home);
	memset(u, 0, sizeof(*u));
}
