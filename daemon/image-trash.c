/* The image store's trash: see image-trash.h.
 *
 * Why a child process: deleting a layer of 150,000 files takes most of a second of unlink()
 * calls, and the daemon has one thread serving every client. The rename into the trash is one
 * syscall; the unlinks happen in a child the loop only watches through its pidfd.
 *
 * At most one remover runs at a time and it empties the whole trash, so removers never race each
 * other over the same tree. A tree put in while it runs may be missed by its directory listing;
 * the "dirty" flag starts another remover when the first one exits.
 *
 * Security: the remover runs as root but only ever deletes entries of the trash directory, which
 * only the daemon writes into (mode 0700 under --root). rm_rf() opens every directory with
 * O_NOFOLLOW, unlinks symlinks rather than following them and does not cross into other
 * filesystems, so a hostile layer (symlinks to /, mount points) cannot steer it outside the
 * tree. The child closes every inherited fd first: it must not keep a client's socket open
 * (the client would miss its EOF) nor hold the listening socket. */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-trash.h"

struct image_trash {
	struct event_base *base;
	char *dir;
	pid_t pid;  /* the running remover, or 0 */
	int pidfd;
	struct event *ev;
	bool dirty; /* something was put in while the remover ran */
};

/* Deletes every entry of the trash directory. Returns the first error, after trying them all. */
static int trash_empty(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		int r;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			return -ENOMEM;
		r = rm_rf(path);
		if (r < 0 && ret == 0)
			ret = r;
	}
	if (errno != 0 && ret == 0)
		ret = -errno;
	return ret;
}

/* The remover process: empties the trash at low priority and exits. Never returns. */
static _Noreturn void trash_child_main(const char *dir, pid_t parent)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(EXIT_FAILURE);
	/* The daemon's handlers (libevent's signal pipe) and mask mean nothing here. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	if (sigemptyset(&none) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		_exit(EXIT_FAILURE);
	if (close_range(3, ~0U, 0) < 0)
		_exit(EXIT_FAILURE);
	/* Deleting is never urgent: leave the CPU to containers and the daemon. */
	(void)setpriority(PRIO_PROCESS, 0, 10);
	_exit(trash_empty(dir) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static void trash_on_exit(evutil_socket_t fd, short what, void *arg);

/* Starts a remover. 0, or -errno when none could be started. */
static int trash_start(struct image_trash *t)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		trash_child_main(t->dir, parent);
	/* The child is unreaped, so its pid cannot be reused before pidfd_open(). */
	t->pidfd = pidfd_open(pid, 0);
	if (t->pidfd < 0) {
		int r = -errno;
		/* It cannot be watched: let it finish now, blocking. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return r;
	}
	t->pid = pid;
	t->dirty = false;
	t->ev = event_new(t->base, t->pidfd, EV_READ, trash_on_exit, t);
	if (!t->ev || event_add(t->ev, NULL) < 0) {
		/* Nobody would reap it: wait here instead. */
		siginfo_t si;
		while (waitid(P_PIDFD, (id_t)t->pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
		if (t->ev)
			event_free(t->ev);
		t->ev = NULL;
		t->pid = 0;
		t->pidfd = safe_close(t->pidfd);
	}
	return 0;
}

/* Reaps the remover; starts another one if something was put in meanwhile. */
static void trash_reap(struct image_trash *t)
{
	siginfo_t si = { 0 };

	while (waitid(P_PIDFD, (id_t)t->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	if (si.si_code != CLD_EXITED || si.si_status != 0)
		log_warning("image store: emptying %s failed (status %d); retrying at the next start", t->dir,
			    si.si_status);
	if (t->ev)
		event_free(t->ev);
	t->ev = NULL;
	t->pid = 0;
	t->pidfd = safe_close(t->pidfd);
}

static void trash_on_exit(evutil_socket_t fd, short what, void *arg)
{
	struct image_trash *t = arg;

	trash_reap(t);
	if (t->dirty && trash_start(t) < 0)
		log_warning("image store: cannot start a remover for %s; retrying at the next start", t->dir);
}

int image_trash_open(struct event_base *base, const char *dir, struct image_trash **ret, char **reterr)
{
	struct image_trash *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->base = base;
	t->pidfd = -1;
	t->dir = strdup(dir);
	if (!t->dir) {
		free(t);
		return -ENOMEM;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = err_set(reterr, -errno, "creating %s: %m", dir);
		image_trash_free(t);
		return r;
	}
	/* What a crash left behind. */
	r = trash_start(t);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: cannot start a remover for %s: %m", dir);
	*ret = t;
	return 0;
}

int image_trash_put(struct image_trash *t, const char *path)
{
	_cleanup_free_ char *dest = NULL;
	char rnd[33];
	int r;

	r = random_hex(rnd, 16);
	if (r >= 0 && asprintf(&dest, "%s/%s", t->dir, rnd) < 0)
		return -ENOMEM;
	if (r < 0 || rename(path, dest) < 0) {
		if (r >= 0 && errno == ENOENT)
			return 0;
		log_warning("image store: cannot move %s into %s, deleting it in place", path, t->dir);
		return rm_rf(path);
	}
	if (t->pid > 0) {
		t->dirty = true;
		return 0;
	}
	r = trash_start(t);
	if (r < 0) {
		log_errno(LOG_LEVEL_WARNING, r, "image store: cannot start a remover, deleting %s in place: %m", dest);
		return rm_rf(dest);
	}
	return 0;
}

void image_trash_free(struct image_trash *t)
{
	if (!t)
		return;
	if (t->pid > 0)
		trash_reap(t);
	if (t->dirty) {
		int r = trash_empty(t->dir);
		if (r < 0)
			log_errno(LOG_LEVEL_WARNING, r, "image store: emptying %s: %m", t->dir);
	}
	free(t->dir);
	free(t);
}
