#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/persist.h"

/* A record bigger than this is not one we wrote. */
#define PERSIST_MAX_RECORD (4 * 1024 * 1024)

int persist_write(const char *path, json_t *record, char **reterr)
{
	if (json_object_set_new(record, "version", json_integer(PERSIST_VERSION)) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	_cleanup_free_ char *text = json_dumps(record, JSON_COMPACT);
	if (!text)
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = write_file_atomic(path, text, strlen(text));
	if (r < 0)
		return err_set(reterr, r, "cannot write %s: %m", path);
	return 0;
}

int persist_read(const char *path, json_t **ret, int *ret_version, char **reterr)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = read_file(path, PERSIST_MAX_RECORD, &text, &len);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return err_set(reterr, r == -EFBIG ? -EBADMSG : r, "cannot read %s: %m", path);
	json_error_t jerr;
	json_auto_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc))
		return err_set(reterr, -EBADMSG, "%s is not a valid record (%s)", path, doc ? "not an object" : jerr.text);
	json_t *v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) < PERSIST_VERSION_MIN || json_integer_value(v) > PERSIST_VERSION)
		return err_set(reterr, -EPROTONOSUPPORT, "%s has record version %lld; this containd reads versions %d to %d",
			       path, json_is_integer(v) ? (long long)json_integer_value(v) : -1LL, PERSIST_VERSION_MIN,
			       PERSIST_VERSION);
	*ret_version = (int)json_integer_value(v);
	*ret = TAKE_PTR(doc);
	return 0;
}

int persist_quarantine(const char *dir, char **reterr)
{
	_cleanup_free_ char *copy = strdup(dir), *qdir = NULL, *dest = NULL;
	char *slash = copy ? strrchr(copy, '/') : NULL;
	if (!slash)
		return err_set(reterr, -EINVAL, "cannot quarantine %s", dir);
	*slash = '\0';
	if (asprintf(&qdir, "%s/.quarantine", copy) < 0 ||
	    asprintf(&dest, "%s/%s-%lld", qdir, slash + 1, (long long)time(NULL)) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (mkdir(qdir, 0700) < 0 && errno != EEXIST)
		return err_set(reterr, -errno, "cannot create %s: %m", qdir);
	if (rename(dir, dest) < 0)
		return err_set(reterr, -errno, "cannot move %s to %s: %m", dir, dest);
	return 0;
}
