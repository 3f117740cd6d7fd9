/* The blob store: see blobs.h. A blob appears under its name only by an atomic rename of a
 * complete file whose digest was checked, so a reader never sees a partial or mislabelled blob. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/blobs.h"
#include "image/db.h"

int image_blob_path(struct image_db *db, const char *digest, char **ret)
{
	if (!image_digest_valid(digest))
		return -EINVAL;
	if (asprintf(ret, "%s/%s", db->blobs_dir, image_digest_hex(digest)) < 0)
		return -ENOMEM;
	return 0;
}

bool image_blob_exists(struct image_db *db, const char *digest)
{
	_cleanup_free_ char *path = NULL;

	return image_blob_path(db, digest, &path) >= 0 && access(path, F_OK) == 0;
}

int image_blob_read(struct image_db *db, const char *digest, size_t max, char **ret, size_t *ret_len, char **reterr)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	char got[DIGEST_SIZE];
	size_t len = 0;
	int r;

	r = image_blob_path(db, digest, &path);
	if (r < 0)
		return err_set(reterr, r, "invalid blob digest");
	r = read_file(path, max, &data, &len);
	if (r < 0)
		return err_set(reterr, r, "reading blob %s: %m", digest);
	r = image_digest_sha256(data, len, got);
	if (r < 0)
		return err_set(reterr, r, "computing sha256: %m");
	if (strcmp(got, digest) != 0)
		return err_set(reterr, -EBADMSG, "blob %s is corrupt (its content has digest %s)", digest, got);
	*ret = TAKE_PTR(data);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int image_blob_write(struct image_db *db, const void *data, size_t len, char digest[DIGEST_SIZE], char **reterr)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = image_digest_sha256(data, len, digest);
	if (r < 0)
		return err_set(reterr, r, "computing sha256: %m");
	r = image_blob_path(db, digest, &path);
	if (r < 0)
		return r;
	if (access(path, F_OK) == 0)
		return 0;
	r = write_file_atomic(path, data, len);
	if (r < 0)
		return err_set(reterr, r, "writing %s: %m", path);
	return 0;
}

int image_blob_commit(struct image_db *db, const char *path, const char *digest, char **reterr)
{
	_cleanup_free_ char *dest = NULL;
	int r;

	r = image_blob_path(db, digest, &dest);
	if (r < 0)
		return err_set(reterr, r, "invalid blob digest");
	/* Same content under the same name: the first copy stays. */
	if (renameat2(AT_FDCWD, path, AT_FDCWD, dest, RENAME_NOREPLACE) < 0) {
		if (errno != EEXIST)
			return err_set(reterr, -errno, "storing blob %s: %m", digest);
		if (unlink(path) < 0 && errno != ENOENT)
			return err_set(reterr, -errno, "removing %s: %m", path);
	}
	return 0;
}
