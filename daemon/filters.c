#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/filters.h"
#include "runtime/seccomp.h"

#define FILTERS_MAX 8

struct filter_fd {
	unsigned char *insns; /* a copy of the program, to recognise it */
	size_t len;
	int fd;
	unsigned long used;
};

struct filters {
	struct seccomp_cache *cache;
	struct filter_fd slot[FILTERS_MAX];
	unsigned long clock;
};

int filters_new(struct filters **ret)
{
	struct filters *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (int i = 0; i < FILTERS_MAX; i++)
		f->slot[i].fd = -1;
	int r = seccomp_cache_new(&f->cache);
	if (r < 0) {
		free(f);
		return r;
	}
	*ret = f;
	return 0;
}

void filters_free(struct filters *f)
{
	if (!f)
		return;
	for (int i = 0; i < FILTERS_MAX; i++) {
		free(f->slot[i].insns);
		safe_close(f->slot[i].fd);
	}
	seccomp_cache_free(f->cache);
	free(f);
}

/* A memfd the init can read but nobody can change: sealed against writes and resizing. */
static int sealed_memfd(const void *data, size_t len)
{
	_cleanup_close_ int fd = memfd_create("containd-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, data, len);
	if (r < 0)
		return r;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int filters_get(struct filters *f, const char *profile_json, uint64_t caps, int *ret_fd, char **reterr)
{
	const struct seccomp_bpf *bpf;
	int r = seccomp_cache_get(f->cache, profile_json, profile_json ? strlen(profile_json) : 0, caps, &bpf, reterr);
	if (r < 0)
		return r;
	struct filter_fd *victim = &f->slot[0];
	for (int i = 0; i < FILTERS_MAX; i++) {
		struct filter_fd *s = &f->slot[i];
		if (s->fd >= 0 && s->len == bpf->len && memcmp(s->insns, bpf->insns, bpf->len) == 0) {
			s->used = ++f->clock;
			*ret_fd = s->fd;
			return 0;
		}
		if (s->used < victim->used)
			victim = s;
	}
	unsigned char *copy = malloc(bpf->len);
	if (!copy)
		return err_set(reterr, -ENOMEM, "out of memory");
	memcpy(copy, bpf->insns, bpf->len);
	int fd = sealed_memfd(bpf->insns, bpf->len);
	if (fd < 0) {
		free(copy);
		return err_set(reterr, fd, "cannot store the seccomp program: %m");
	}
	free(victim->insns);
	safe_close(victim->fd);
	*victim = (struct filter_fd){ .insns = copy, .len = bpf->len, .fd = fd, .used = ++f->clock };
	*ret_fd = fd;
	return 0;
}
