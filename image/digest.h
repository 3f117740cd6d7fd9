/* Content digests as the image formats write them: "sha256:" and 64 lowercase hex digits. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_PREFIX "sha256:"
#define HEX_LEN	      64
/* "sha256:" + 64 hex + NUL */
#define DIGEST_SIZE (sizeof(DIGEST_PREFIX) + HEX_LEN)

/* Whether s is between min and max lowercase hex digits. */
bool image_digest_is_hex(const char *s, size_t min, size_t max);
/* Whether s is "sha256:" followed by 64 lowercase hex digits. */
bool image_digest_valid(const char *s);
/* The hex part of a valid digest. */
static inline const char *image_digest_hex(const char *digest)
{
	return digest + sizeof(DIGEST_PREFIX) - 1;
}
/* "sha256:<hex>" of data into out (DIGEST_SIZE bytes). 0 or -EIO. */
int image_digest_sha256(const void *data, size_t len, char out[DIGEST_SIZE]);
