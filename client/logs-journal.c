#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/logs-journal.h"
#include "common/error.h"
#include "common/macros.h"

/* The few calls of libsystemd's sd-journal.h that cctl needs, resolved at run time. */
struct sdj {
	void *lib;
	int (*open)(void **ret, int flags);
	void (*close)(void *j);
	int (*add_match)(void *j, const void *data, size_t size);
	int (*next)(void *j);
	int (*get_data)(void *j, const char *field, const void **data, size_t *len);
	int (*get_realtime_usec)(void *j, uint64_t *ret);
	int (*seek_tail)(void *j);
	int (*seek_realtime_usec)(void *j, uint64_t usec);
	int (*previous_skip)(void *j, uint64_t skip);
	int (*get_fd)(void *j);
	int (*process)(void *j);
};

#define SDJ_LOCAL_ONLY 1

static int sdj_load(struct sdj *s, char **reterr)
{
	s->lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!s->lib)
		return err_set(reterr, -ENOENT, "reading a journald log needs libsystemd: %s", dlerror());
	struct {
		const char *name;
		void **fn;
	} syms[] = {
		{ "sd_journal_open", (void **)&s->open },
		{ "sd_journal_close", (void **)&s->close },
		{ "sd_journal_add_match", (void **)&s->add_match },
		{ "sd_journal_next", (void **)&s->next },
		{ "sd_journal_get_data", (void **)&s->get_data },
		{ "sd_journal_get_realtime_usec", (void **)&s->get_realtime_usec },
		{ "sd_journal_seek_tail", (void **)&s->seek_tail },
		{ "sd_journal_seek_realtime_usec", (void **)&s->seek_realtime_usec },
		{ "sd_journal_previous_skip", (void **)&s->previous_skip },
		{ "sd_journal_get_fd", (void **)&s->get_fd },
		{ "sd_journal_process", (void **)&s->process },
	};
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++)
		if (!(*syms[i].fn = dlsym(s->lib, syms[i].name)))
			return err_set(reterr, -ENOENT, "libsystemd lacks %s", syms[i].name);
	return 0;
}

/* The value of field (without "FIELD=") of the current entry, or NULL. */
static const char *entry_field(struct sdj *s, void *j, const char *field, size_t *len)
{
	const void *data;
	size_t l, flen = strlen(field);
	if (s->get_data(j, field, &data, &l) < 0 || l <= flen)
		return NULL;
	*len = l - flen - 1;
	return (const char *)data + flen + 1;
}

/* Emits every entry from the journal's position on; 1 past until. */
static int emit_entries(struct sdj *s, void *j, const struct logfmt_filter *f, logs_journal_emit_fn emit,
			void *userdata)
{
	int r;
	while ((r = s->next(j)) > 0) {
		uint64_t usec;
		size_t len, plen;
		if (s->get_realtime_usec(j, &usec) < 0)
			continue;
		uint64_t ns = usec * 1000;
		if (!logfmt_time_selected(f, ns)) {
			if (f->until_ns > 0 && ns > (uint64_t)f->until_ns)
				return 1;
			continue;
		}
		const char *msg = entry_field(s, j, "MESSAGE", &len);
		const char *prio = entry_field(s, j, "PRIORITY", &plen);
		if (!msg)
			continue;
		int stream = prio && plen == 1 && prio[0] == '3' ? LOGFMT_STDERR : LOGFMT_STDOUT;
		_cleanup_free_ char *line = malloc(len + 1);
		if (!line)
			return -ENOMEM;
		memcpy(line, msg, len);
		line[len] = '\n';
		if ((r = emit(userdata, stream, ns, line, len + 1)) < 0)
			return r;
	}
	return r;
}

int logs_journal_read(const char *identifier, const struct logfmt_filter *f, bool follow, int wait_fd,
		      logs_journal_emit_fn emit, void *userdata, char **reterr)
{
	struct sdj s = { 0 };
	void *j = NULL;
	_cleanup_free_ char *match = NULL;
	int r = sdj_load(&s, reterr);
	if (r < 0)
		goto out;
	if (asprintf(&match, "SYSLOG_IDENTIFIER=%s", identifier) < 0) {
		match = NULL;
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = s.open(&j, SDJ_LOCAL_ONLY)) < 0 || (r = s.add_match(j, match, 0)) < 0) {
		r = err_set(reterr, r, "cannot open the journal: %m");
		goto out;
	}
	if (f->tail >= 0) {
		/* The last entries: from the end back, then forward (since applies to them). */
		(void)s.seek_tail(j);
		(void)s.previous_skip(j, (uint64_t)f->tail + 1);
		if (f->tail == 0)
			(void)s.seek_tail(j);
	} else if (f->since_ns > 0) {
		(void)s.seek_realtime_usec(j, (uint64_t)f->since_ns / 1000);
	}
	for (;;) {
		r = emit_entries(&s, j, f, emit, userdata);
		if (r != 0 || !follow)
			break;
		struct pollfd p[2] = { { .fd = s.get_fd(j), .events = POLLIN }, { .fd = wait_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		(void)s.process(j);
		if (p[1].revents) {
			/* The container exited: journald may still be storing its last lines. */
			struct pollfd q = { .fd = s.get_fd(j), .events = POLLIN };
			while (poll(&q, 1, 200) > 0) {
				(void)s.process(j);
				if ((r = emit_entries(&s, j, f, emit, userdata)) != 0)
					break;
			}
			r = emit_entries(&s, j, f, emit, userdata);
			break;
		}
	}
	if (r < 0)
		r = err_set(reterr, r, "cannot read the journal: %m");
	else
		r = 0;
out:
	if (j)
		s.close(j);
	if (s.lib)
		dlclose(s.lib);
	return r;
}
