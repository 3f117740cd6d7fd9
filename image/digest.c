/* Content digests: see digest.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/util.h"
#include "image/digest.h"

bool image_digest_is_hex(const char *s, size_t min, size_t max)
{
	size_t len = strlen(s);

	if (len < min || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool image_digest_valid(const char *s)
{
	return s && str_startswith(s, DIGEST_PREFIX) &&
	       image_digest_is_hex(s + strlen(DIGEST_PREFIX), HEX_LEN, HEX_LEN);
}

int image_digest_sha256(const void *data, size_t len, char out[DIGEST_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
		return -EIO;
	memcpy(out, DIGEST_PREFIX, strlen(DIGEST_PREFIX));
	hex_encode(md, md_len, out + strlen(DIGEST_PREFIX));
	return 0;
}
