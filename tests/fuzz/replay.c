/* Replays fuzz corpora through a target without libFuzzer, so `make check` runs every seed and
 * every saved crash with the normal compiler: one TAP test point per file of each directory
 * given on the command line (or per file given directly).
 *
 * Without arguments it replays $top_srcdir/tests/fuzz/corpus/FUZZ_TARGET, the corpus of the target
 * it is linked with (FUZZ_TARGET is set at build time; `make check` exports top_srcdir).
 *
 * Each input runs in a child process, so a crash or a failed invariant (abort()) marks that one
 * file "not ok" and the rest still run. Files named known-bug-* expect a failure that is not
 * fixed yet: they are reported with a TODO directive, so they do not fail the suite while the bug
 * is open, and the test driver reports them as XPASS (which fails) once it is fixed, as a
 * reminder to rename the file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "tests/tap.h"

/* Inputs above this size are not seeds; refuse them rather than slow `make check` down. */
#define REPLAY_MAX_INPUT (1024 * 1024)

/* Reads a whole file into a malloc'ed buffer (never NULL on success, even when empty). */
static int read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX_INPUT) {
		close(fd);
		return -EINVAL;
	}
	size_t len = (size_t)st.st_size, off = 0;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < len) {
		ssize_t n = read(fd, buf + off, len - off);
		if (n <= 0) {
			int r = n < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return r;
		}
		off += (size_t)n;
	}
	close(fd);
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Runs one input in a child; returns whether the target came back normally. */
static bool run_one(const char *path, char *why, size_t whylen)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r = read_file(path, &data, &len);
	if (r < 0) {
		snprintf(why, whylen, "cannot read: %s", strerror(-r));
		return false;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		free(data);
		return false;
	}
	if (pid == 0) {
		/* libFuzzer never passes a NULL pointer; keep data valid for empty inputs too. */
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		/* exit(), not _exit(): LeakSanitizer checks at exit in sanitizer builds. */
		exit(0);
	}
	free(data);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return false;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
	return false;
}

static unsigned replayed;

/* One test point for one input file. */
static void report(const char *path, const char *name)
{
	replayed++;
	char why[256] = "";
	bool pass = run_one(path, why, sizeof(why));
	bool known = strncmp(name, "known-bug-", strlen("known-bug-")) == 0;
	tap_result(pass, "%s%s%s%s", path, pass ? "" : ": ", why, known ? " # TODO known bug, not fixed yet" : "");
	/* An expected failure must not turn the exit status into an error (tap.h counts it). */
	if (known && !pass)
		tap_failures--;
}

/* qsort() order of file names, so the test points are stable. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of dir in name order (hidden files and README* skipped). */
static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strdup(e->d_name))) {
			names = nn ? nn : names;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char *path = NULL;
		if (asprintf(&path, "%s/%s", dir, names[i]) >= 0) {
			report(path, names[i]);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

/* Replays a directory or a single file. */
static void replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		ok(false, "%s: %s", path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		int r = replay_dir(path);
		if (r < 0)
			ok(false, "read corpus directory %s: %s", path, strerror(-r));
	} else {
		const char *slash = strrchr(path, '/');
		report(path, slash ? slash + 1 : path);
	}
}

int main(int argc, char **argv)
{
	/* The wire target writes into sockets whose reader may be gone. */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay_path(argv[i]);
	} else {
#ifdef FUZZ_TARGET
		const char *top = getenv("top_srcdir");
		char *dir = NULL;
		if (asprintf(&dir, "%s/tests/fuzz/corpus/%s", top ? top : ".", FUZZ_TARGET) < 0)
			return 99;
		replay_path(dir);
		free(dir);
#else
		fprintf(stderr, "usage: %s CORPUS-DIR|FILE...\n", argv[0]);
		return 2;
#endif
	}
	/* A corpus that went missing must not pass as "nothing to replay". */
	ok(replayed > 0, "replayed %u input(s)", replayed);
	return tap_done();
}
