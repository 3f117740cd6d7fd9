/* The rules every tarball entry passes before the import worker writes it.
 *
 * Why these rules, on top of libarchive's own ARCHIVE_EXTRACT_SECURE_* flags: the worker runs
 * as root, and an entry that escapes the layer directory could overwrite any file of the host.
 * We want a refusal that names the entry and fails the whole import, not an entry silently
 * skipped (libarchive returns ARCHIVE_FAILED and extraction would carry on), and we want the
 * rules in one place that a unit test pins down. The path of an entry and the target of a hard
 * link are both interpreted relative to the layer root, so both get the same checks:
 *   - no absolute paths: "/etc/passwd" would name the host's file;
 *   - no ".." component anywhere: "a/../../x" climbs out even though it starts inside;
 *   - no empty names, and nothing of PATH_MAX bytes or more (the kernel would refuse it later
 *     with a less useful error; we also never have to think about truncation).
 * "." components are harmless and common ("./", "./etc/" in the Alpine tarball). What these
 * rules cannot see is a path that crosses a symlink created by an earlier entry; that depends on
 * the tree and is refused at extraction (ARCHIVE_EXTRACT_SECURE_SYMLINKS, and the worker runs
 * chrooted into the layer directory). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "image/tarsafe.h"

/* Checks one path (what is an entry's name, or the target of a hard link). */
static int check_path(const char *path, const char *what, const char *entry, char **reterr)
{
	const char *p;

	if (!path || !*path)
		return err_set(reterr, -EINVAL, "refusing tar entry \"%s\": empty %s", entry ? entry : "", what);
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return err_set(reterr, -EINVAL, "refusing tar entry \"%.64s...\": %s longer than %d bytes", entry,
			       what, PATH_MAX - 1);
	if (path[0] == '/')
		return err_set(reterr, -EINVAL, "refusing tar entry \"%s\": absolute %s \"%s\"", entry, what, path);
	for (p = path; *p;) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return err_set(reterr, -EINVAL, "refusing tar entry \"%s\": %s \"%s\" contains \"..\"", entry,
				       what, path);
		p += len;
		p += strspn(p, "/");
	}
	return 0;
}

int tarsafe_check_entry(const char *path, const char *hardlink, char **reterr)
{
	int r;

	r = check_path(path, "name", path, reterr);
	if (r < 0)
		return r;
	if (hardlink)
		return check_path(hardlink, "hard link target", path, reterr);
	return 0;
}

bool tarsafe_path_is_root(const char *path)
{
	/* Only "." components and slashes: "./", ".", ".//./". */
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/");
		if (len != 1 || p[0] != '.')
			return false;
		p += len;
		p += strspn(p, "/");
	}
	return true;
}

int tarsafe_check_type(const char *path, unsigned type, bool hardlink, char **reterr)
{
	/* A hard link's type field says nothing about what it creates (libarchive reports 0 or the
	 * target's type); the link target has already been checked by tarsafe_check_entry(). */
	if (hardlink) {
		if (tarsafe_path_is_root(path))
			return err_set(reterr, -EINVAL, "refusing tar entry \"%s\": a hard link cannot replace the layer root",
				       path);
		return 0;
	}
	switch (type) {
	case S_IFDIR:
		return 0;
	case S_IFREG:
	case S_IFLNK:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		/* The layer root itself must stay a directory: a symlink "." would make every later
		 * entry resolve through it. */
		if (tarsafe_path_is_root(path))
			return err_set(reterr, -EINVAL, "refusing tar entry \"%s\": the layer root must be a directory",
				       path);
		return 0;
	default:
		/* Sockets, and whatever a corrupt or exotic header claims. */
		return err_set(reterr, -EINVAL, "refusing tar entry \"%s\": unsupported file type 0%o", path, type);
	}
}

/* Whether path names name directly under the root ("name", "./name", ".//name/"). */
static bool path_is_top(const char *path, const char *name)
{
	size_t len = strlen(name);

	while (path[0] == '.' && path[1] == '/') {
		path++;
		path += strspn(path, "/");
	}
	if (strncmp(path, name, len) != 0)
		return false;
	return path[len + strspn(path + len, "/")] == '\0';
}

int tarsafe_check_rootfs_entry(const char *path, unsigned type, char **reterr)
{
	/* The OCI image layout spec makes "oci-layout" the marker of a layout's root; no root
	 * filesystem has one. */
	if (type == S_IFREG && path_is_top(path, "oci-layout"))
		return err_set(reterr, -EINVAL,
			       "this is an OCI image layout archive (oci-layout, index.json, blobs/), not a root "
			       "filesystem: it needs image load, which is not supported yet");
	return 0;
}
