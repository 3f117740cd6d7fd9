#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/offload.h"
#include "daemon/pool.h"
#include "daemon/supervisor.h"
#include "runtime/cgroup.h"
#include "runtime/userns.h"

struct pool {
	struct event_base *base;
	char *root; /* --root */
	char *prepare_dir; /* where inits prepare their default mounts, each in its own namespace */
	struct cgroup_manager *cgm;
	struct supervisor *sup; /* clones the spares: containers are the keeper's children */
	int exe_fd;
	struct userns_allocator *userns; /* slices for spares in a user namespace, or NULL */
	bool userns_default;             /* idle spares are made in a user namespace */
	/* Idle spares, ready for the next runs. Two by default: back-to-back runs then always find
	 * one that finished preparing (its re-exec and prepared mounts take about as long as a short
	 * container's whole run). */
	struct spare *idle[POOL_MAX_IDLE];
	unsigned n_idle;
	/* The idle target sizes itself to the demand: floor is --prepared, want grows by one (up to
	 * POOL_MAX_IDLE) whenever a run finds no idle spare, and drops back to floor once a whole
	 * POOL_SHRINK_US went by without a run. */
	unsigned floor, want;
	unsigned takes; /* since the shrink timer last fired */
	struct spare *discarding; /* being killed and removed in the background */
	struct event *ev_refill, *ev_shrink;
	bool stopped;
	pool_net_prepare_fn net_prepare; /* NULL: spares are made without a network */
	pool_net_release_fn net_release;
	void *net_userdata;
	/* The share of recent runs that wanted a bare spare (--network none, a user network ...),
	 * out of POOL_SHARE_ONE, a moving average over about eight runs: the refill keeps that
	 * share of the idle spares bare. Deleting a prepared veth pair waits for the kernel's RCU
	 * grace periods (about 17 ms here, more than a whole run); a bare spare costs nothing. */
	unsigned bare_share;
};

#define POOL_SHARE_ONE 256

/* How long the pool stays grown without any run before it drops back to its floor. */
#define POOL_SHRINK_US (10 * 1000 * 1000)

#define SPARE_NAMESPACES (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP)

/* A spare's directories wait under a hidden name until a container takes them. */
static char *spare_dir(const struct pool *pool, const char *id)
{
	char *p;
	return asprintf(&p, "%s/containers/.spare-%s", pool->root, id) < 0 ? NULL : p;
}

static void spare_unwatch(struct spare *sp)
{
	if (sp->watched)
		supervisor_unwatch(sp->pool->sup, &sp->init.proc);
	sp->watched = false;
}

static void spare_free(struct spare *sp)
{
	spare_unwatch(sp);
	if (sp->cg)
		cgroup_free(sp->cg);
	free(sp);
}

/* Removes a dead spare's cgroups and directories; in a child, or at shutdown in the daemon. */
static int spare_remove(void *arg)
{
	struct spare *sp = arg;
	int r = 0;
	/* Its last task may still be leaving the cgroup for a moment. */
	for (int i = 0; sp->cg && (r = cgroup_destroy(sp->cg)) == -EBUSY && i < 200; i++)
		usleep(500);
	if (sp->dirs) {
		_cleanup_free_ char *dir = spare_dir(sp->pool, sp->id);
		int q = dir ? rm_rf(dir) : -ENOMEM;
		if (r == 0)
			r = q;
	}
	return r;
}

/* A discarded spare's prepared network: its address is free again at once (its links go with
 * its network namespace, as a container's do when it goes away). */
static void spare_release_net(struct spare *sp)
{
	if (sp->net.ready && sp->pool->net_release)
		sp->pool->net_release(sp->pool->net_userdata, sp);
	sp->net.ready = false;
}

static void spare_unlist(struct spare *sp)
{
	for (struct spare **p = &sp->pool->discarding; *p; p = &(*p)->next_discarding)
		if (*p == sp) {
			*p = sp->next_discarding;
			return;
		}
}

static void spare_removed(int r, void *arg)
{
	struct spare *sp = arg;
	sp->cleaner = NULL;
	/* Its processes are gone: the slice can serve another container. */
	if (sp->userns)
		(void)userns_allocator_release(sp->pool->userns, &sp->slice);
	if (r < 0)
		log_warning("a discarded prepared container left cgroups or files behind: %s", strerror(-r));
	spare_unlist(sp);
	spare_free(sp);
}

/* The spare's process is gone (the keeper reaped it): remove the rest outside the loop. */
static void spare_on_dead(void *arg, const siginfo_t *si)
{
	struct spare *sp = arg;
	sp->watched = false;
	supervisor_release(sp->pool->sup, &sp->init.proc);
	pidref_done(&sp->init.proc);
	sp->init.sync_fd = safe_close(sp->init.sync_fd);
	/* Its mount namespace (the prepared mounts) dies in the cleaner, not in the loop. */
	if (offload_run(sp->pool->base, "containd-clean", spare_remove, sp, spare_removed, &sp->cleaner,
			TAKE_FD(sp->init.mntns_fd)) < 0)
		spare_removed(spare_remove(sp), sp);
}

void pool_discard(struct spare *sp)
{
	if (!sp)
		return;
	spare_unwatch(sp);
	spare_release_net(sp);
	sp->next_discarding = sp->pool->discarding;
	sp->pool->discarding = sp;
	if (pidref_is_set(&sp->init.proc)) {
		(void)pidref_kill(&sp->init.proc, SIGKILL);
		sp->init.sync_fd = safe_close(sp->init.sync_fd);
		if (supervisor_watch(sp->pool->sup, &sp->init.proc, spare_on_dead, sp) == 0) {
			sp->watched = true;
			return;
		}
		/* Cannot watch it: a SIGKILLed spare never ran container code and dies at once. */
	}
	rt_init_discard(&sp->init);
	spare_removed(spare_remove(sp), sp);
}

/* After the loop: whatever is still being discarded finishes here, blocking. */
static void spare_discard_now(struct spare *sp)
{
	offload_finish(TAKE_PTR(sp->cleaner));
	rt_init_discard(&sp->init);
	spare_removed(spare_remove(sp), sp);
}

bool pool_busy(const struct pool *pool)
{
	return pool->discarding != NULL;
}

static void pool_unidle(struct pool *pool, struct spare *sp)
{
	for (unsigned i = 0; i < pool->n_idle; i++)
		if (pool->idle[i] == sp) {
			pool->idle[i] = pool->idle[--pool->n_idle];
			return;
		}
}

static void spare_on_unexpected_death(void *arg, const siginfo_t *si)
{
	struct spare *sp = arg;
	struct pool *pool = sp->pool;
	log_warning("the prepared container process %d died; a new one is made on the next run", (int)sp->init.proc.pid);
	pool_unidle(pool, sp);
	spare_release_net(sp);
	sp->next_discarding = pool->discarding;
	pool->discarding = sp;
	spare_on_dead(sp, si);
}

/* A spare in a user namespace gets its slice now: its directories are chowned to the slice's
 * root, its maps written and it re-executes as that root, all ahead of the run. */
static int spare_userns(struct pool *pool, struct spare *sp, const char *dir, const char *upper, const char *work,
			char **reterr)
{
	if (!pool->userns)
		return err_set(reterr, -EOPNOTSUPP, "no subordinate ids for user namespaces");
	int r = userns_allocator_alloc(pool->userns, &sp->slice, reterr);
	if (r < 0)
		return r;
	sp->userns = true;
	/* Only the container's own, empty directories change owner, never a layer. The upper dir
	 * belongs to the container's root; the directory above is closed to everybody else. */
	const char *const paths[] = { dir, upper, work };
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (lchown(paths[i], sp->slice.uid, sp->slice.gid) < 0)
			return err_set(reterr, -errno, "cannot hand %s to the container's root: %m", paths[i]);
	return 0;
}

static int spare_new(struct pool *pool, bool userns, struct spare **ret, char **reterr)
{
	struct spare *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return err_set(reterr, -ENOMEM, "out of memory");
	sp->pool = pool;
	sp->init = (struct rt_init){ .proc = PIDREF_NULL, .sync_fd = -1, .mntns_fd = -1 };
	int r = random_hex(sp->id, 32);
	if (r < 0) {
		free(sp);
		return err_set(reterr, r, "cannot generate an id: %m");
	}
	/* The container's directories are made now too: three mkdirs less on the run path (a
	 * userns spare also has them chowned to its slice's root before a run needs them). */
	_cleanup_free_ char *dir = spare_dir(pool, sp->id), *upper = NULL, *work = NULL;
	if (!dir || asprintf(&upper, "%s/upper", dir) < 0 || asprintf(&work, "%s/work", dir) < 0) {
		free(sp);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (mkdir(dir, 0700) < 0 || mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0) {
		r = err_set(reterr, -errno, "cannot create the container's directories: %m");
		rm_rf(dir);
		free(sp);
		return r;
	}
	sp->dirs = true;
	struct rt_init_opts opts = { .exe_fd = pool->exe_fd,
				     .namespaces = SPARE_NAMESPACES | (userns ? CLONE_NEWUSER : 0),
				     .prepare_dir = pool->prepare_dir };
	if ((userns && (r = spare_userns(pool, sp, dir, upper, work, reterr)) < 0) ||
	    (r = cgroup_create(pool->cgm, sp->id, NULL, &sp->cg, reterr)) < 0 ||
	    (opts.cg = sp->cg, r = supervisor_spawn(pool->sup, &opts, &sp->init, reterr)) < 0) {
		/* Nothing ran in its cgroup: removing it does not wait. */
		spare_removed(spare_remove(sp), sp);
		return r;
	}
	if (userns) {
		struct userns_idmap u, g;
		userns_slice_maps(&sp->slice, &u, &g);
		struct rt_idmap um = { u.inside, u.outside, u.count }, gm = { g.inside, g.outside, g.count };
		if ((r = rt_init_map_user(&sp->init, &um, 1, &gm, 1, reterr)) < 0) {
			pool_discard(sp);
			return r;
		}
	}
	*ret = sp;
	return 0;
}

static bool spare_watch(struct pool *pool, struct spare *sp)
{
	if (supervisor_watch(pool->sup, &sp->init.proc, spare_on_unexpected_death, sp) < 0)
		return false;
	sp->watched = true;
	pool->idle[pool->n_idle++] = sp;
	return true;
}

/* Prepares sp's network through the hook; false: it failed (logged), sp must be discarded. A
 * daemon without a default bridge prepares none, ever: the hook is dropped. */
static bool spare_prepare_net(struct pool *pool, struct spare *sp)
{
	_cleanup_free_ char *err = NULL;
	int r = pool->net_prepare ? pool->net_prepare(pool->net_userdata, sp, &err) : 0;
	if (r < 0) {
		log_warning("cannot prepare a container's network ahead of time: %s", err ? err : "unknown error");
		return false;
	}
	if (r == 0 && !sp->net.ready)
		pool->net_prepare = NULL;
	return true;
}

/* How many idle spares are bare, and how many should be: the share of recent runs that wanted
 * a bare one. */
static unsigned pool_bare_idle(const struct pool *pool)
{
	unsigned bare = 0;
	for (unsigned i = 0; i < pool->n_idle; i++)
		bare += !pool->idle[i]->net.ready;
	return bare;
}

static unsigned pool_bare_target(const struct pool *pool)
{
	unsigned t = (pool->want * pool->bare_share + POOL_SHARE_ONE / 2) / POOL_SHARE_ONE;
	/* Both kinds seen lately: one of each at least, so that either finds its kind. */
	if (pool->want > 1 && t == 0 && pool->bare_share >= POOL_SHARE_ONE / 16)
		t = 1;
	if (pool->want > 1 && t >= pool->want && pool->bare_share <= POOL_SHARE_ONE - POOL_SHARE_ONE / 16)
		t = pool->want - 1;
	return t;
}

/* Whether an idle spare should get its network: more are bare than the runs want (they changed,
 * or a full subnet left some bare). */
static bool pool_net_short(const struct pool *pool)
{
	return pool->net_prepare && pool_bare_idle(pool) > pool_bare_target(pool);
}

/* Whether a full pool has more spares with a network than the runs want. */
static bool pool_net_surplus(const struct pool *pool)
{
	unsigned target = pool_bare_target(pool);
	return pool->net_prepare && pool->n_idle >= pool->want &&
	       pool->n_idle - pool_bare_idle(pool) > pool->want - (target < pool->want ? target : pool->want);
}

static bool pool_net_pending(const struct pool *pool)
{
	return pool_net_short(pool) || pool_net_surplus(pool);
}

static void pool_on_refill(evutil_socket_t fd, short what, void *arg)
{
	struct pool *pool = arg;
	_cleanup_free_ char *err = NULL;
	struct spare *sp;
	if (pool->stopped)
		return;
	/* Idle bare spares beyond the share get their network here, off the start path (the refill
	 * runs after each take and exit; this never reschedules itself). */
	for (unsigned i = 0; i < pool->n_idle && pool_net_short(pool); i++) {
		sp = pool->idle[i];
		if (sp->net.ready)
			continue;
		if (!spare_prepare_net(pool, sp)) {
			pool->idle[i--] = pool->idle[--pool->n_idle];
			pool_discard(sp);
		} else if (!sp->net.ready) {
			break; /* no address free: the others would find none either */
		}
	}
	/* The other way round, one spare with a network is discarded and a bare one made in its
	 * place: its veth pair goes with its namespace, in the kernel's time, not the loop's (a
	 * deletion here would block the loop for the RCU grace periods). */
	if (pool_net_surplus(pool))
		for (unsigned i = 0; i < pool->n_idle; i++)
			if (pool->idle[i]->net.ready) {
				sp = pool->idle[i];
				memmove(&pool->idle[i], &pool->idle[i + 1], (pool->n_idle - i - 1) * sizeof(pool->idle[0]));
				pool->n_idle--;
				pool_discard(sp);
				break;
			}
	if (pool->n_idle >= pool->want)
		return;
	if (spare_new(pool, pool->userns_default, &sp, &err) < 0) {
		log_warning("cannot prepare a container process ahead of time: %s", err ? err : "unknown error");
		return;
	}
	/* Its network too, here and not at the run: the veth pair, its address and its route are
	 * most of a bridge container's network setup. A spare whose network fails is discarded.
	 * Bare instead while fewer idle spares are bare than recent runs wanted. */
	if (pool_bare_idle(pool) >= pool_bare_target(pool) && !spare_prepare_net(pool, sp)) {
		pool_discard(sp);
		return;
	}
	if (!spare_watch(pool, sp)) {
		pool_discard(sp);
		return;
	}
	/* One spare per turn of the loop: requests are served in between. */
	pool_schedule_refill(pool, 0);
}

void pool_schedule_refill(struct pool *pool, long delay_us)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = delay_us };
	if ((pool->n_idle < pool->want || pool_net_pending(pool)) && !pool->stopped && pool->ev_refill)
		evtimer_add(pool->ev_refill, &tv);
}

/* A period without runs: back to the floor, the extra idle spares (the newest) discarded. */
static void pool_on_shrink(evutil_socket_t fd, short what, void *arg)
{
	struct pool *pool = arg;
	struct timeval tv = { .tv_sec = POOL_SHRINK_US / 1000000, .tv_usec = POOL_SHRINK_US % 1000000 };
	if (pool->takes > 0) {
		pool->takes = 0;
		evtimer_add(pool->ev_shrink, &tv);
		return;
	}
	log_debug("no run for %d s: %u prepared container processes instead of %u", POOL_SHRINK_US / 1000000,
		  pool->floor, pool->want);
	pool->want = pool->floor;
	while (pool->n_idle > pool->want)
		pool_discard(pool->idle[--pool->n_idle]);
}

/* A run found no idle spare: the load outruns the pool, which grows by one. Only spares outside a
 * user namespace: each userns spare holds a slice of the subordinate ids a running container
 * could need, so that pool keeps to its floor. */
static void pool_grow(struct pool *pool)
{
	struct timeval tv = { .tv_sec = POOL_SHRINK_US / 1000000, .tv_usec = POOL_SHRINK_US % 1000000 };
	if (pool->floor == 0 || pool->userns_default || pool->want >= POOL_MAX_IDLE || pool->stopped)
		return;
	pool->want++;
	log_debug("a run found no prepared container process: keeping %u", pool->want);
	if (!evtimer_pending(pool->ev_shrink, NULL))
		evtimer_add(pool->ev_shrink, &tv);
}

struct spare *pool_take(struct pool *pool, bool userns, bool net, char **reterr)
{
	pool->takes++;
	if (pool->net_prepare)
		pool->bare_share = (pool->bare_share * 7 + (net ? 0 : POOL_SHARE_ONE)) / 8;
	/* The oldest first: it has had the most time to finish preparing. Of the right kind first
	 * (its network prepared or not, as the run wants); a run that wants a network takes a bare
	 * one next (its setup is then on the start path, about 1 ms), but one that wants none never
	 * takes a prepared one: deleting the pair waits for RCU grace periods (about 17 ms here),
	 * and a new init costs less (a run with --network host, which takes none, is as fast as
	 * one with a spare). */
	bool other_kind = false;
	for (int pass = 0; pass < (net ? 2 : 1); pass++)
		for (unsigned i = 0; i < pool->n_idle; i++) {
			struct spare *sp = pool->idle[i];
			if (sp->userns != userns)
				continue;
			if (pass == 0 && sp->net.ready != net) {
				other_kind = true;
				continue;
			}
			memmove(&pool->idle[i], &pool->idle[i + 1], (pool->n_idle - i - 1) * sizeof(pool->idle[0]));
			pool->n_idle--;
			spare_unwatch(sp);
			return sp;
		}
	/* Only an empty pool grows: a miss of the kind shifts the share of kinds instead. */
	if (userns == pool->userns_default && !other_kind)
		pool_grow(pool);
	struct spare *sp;
	return spare_new(pool, userns, &sp, reterr) < 0 ? NULL : sp;
}

void pool_give_back(struct pool *pool, struct spare *sp)
{
	if (!sp)
		return;
	if (pool->n_idle < pool->want && !pool->stopped && sp->userns == pool->userns_default &&
	    spare_watch(pool, sp))
		return;
	pool_discard(sp);
}

int pool_adopt(struct spare *sp, const char *container_dir, struct container_cgroup **ret_cg,
	       struct rt_init *ret_init, struct userns_slice *ret_slice, char **reterr)
{
	_cleanup_free_ char *from = spare_dir(sp->pool, sp->id);
	if (!from || rename(from, container_dir) < 0) {
		int r = err_set(reterr, from ? -errno : -ENOMEM, "cannot create the container's directories: %m");
		pool_discard(sp);
		return r;
	}
	*ret_cg = TAKE_PTR(sp->cg);
	*ret_init = sp->init;
	if (ret_slice)
		*ret_slice = sp->slice;
	spare_free(sp);
	return 0;
}

int pool_prepare(struct pool *pool, const char *id, const struct userns_slice *slice,
		 int namespaces, int pid_join_fd, struct container_cgroup **ret_cg, struct rt_init *ret_init,
		 char **reterr)
{
	struct container_cgroup *cg = NULL;
	struct rt_init init = { .proc = PIDREF_NULL, .sync_fd = -1, .mntns_fd = -1 };
	struct rt_init_opts opts = { .exe_fd = pool->exe_fd,
				     .namespaces = SPARE_NAMESPACES | (slice ? CLONE_NEWUSER : 0),
				     .prepare_dir = pool->prepare_dir,
				     .pid_join = pid_join_fd >= 0,
				     .pid_join_fd = pid_join_fd };
	/* A mount namespace of its own always (spec_validate insists), a user namespace only with
	 * a slice. */
	if (namespaces)
		opts.namespaces = (namespaces & ~CLONE_NEWUSER) | CLONE_NEWNS | (slice ? CLONE_NEWUSER : 0);
	if (pool->stopped)
		return err_set(reterr, -ESHUTDOWN, "containd is shutting down");
	int r = cgroup_create(pool->cgm, id, NULL, &cg, reterr);
	if (r < 0)
		return r;
	opts.cg = cg;
	if ((r = supervisor_spawn(pool->sup, &opts, &init, reterr)) < 0) {
		/* Nothing ran in it: removing it does not wait. */
		(void)cgroup_destroy(cg);
		cgroup_free(cg);
		return r;
	}
	if (slice) {
		struct userns_idmap u, g;
		userns_slice_maps(slice, &u, &g);
		struct rt_idmap um = { u.inside, u.outside, u.count }, gm = { g.inside, g.outside, g.count };
		if ((r = rt_init_map_user(&init, &um, 1, &gm, 1, reterr)) < 0) {
			/* It never ran container code: it dies at once, and its cgroup empties. */
			rt_init_discard(&init);
			for (int i = 0; cgroup_destroy(cg) == -EBUSY && i < 200; i++)
				usleep(500);
			cgroup_free(cg);
			return r;
		}
	}
	*ret_cg = cg;
	*ret_init = init;
	return 0;
}

void pool_remove_leftover_cgroup(struct pool *pool, const char *id)
{
	struct container_cgroup *cg;
	_cleanup_free_ char *err = NULL;
	int r = cgroup_open(pool->cgm, id, &cg, &err);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		log_warning("cannot clean up the cgroups of container %.12s: %s", id, err ? err : "unknown error");
		return;
	}
	/* What is left in it (a spare of a killed daemon, dying since its channel closed) is killed;
	 * its exit may take a moment, which only a starting daemon waits for. */
	for (int i = 0; i < 400 && (r = cgroup_destroy(cg)) == -EBUSY; i++)
		usleep(5000);
	if (r < 0)
		log_warning("cannot remove the cgroups of container %.12s: %s", id, strerror(-r));
	cgroup_free(cg);
}

void pool_remove_leftovers(struct pool *pool)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/containers", pool->root) < 0)
		return;
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, ".spare-", 7) != 0)
			continue;
		_cleanup_free_ char *leftover = NULL;
		if (asprintf(&leftover, "%s/%s", path, de->d_name) >= 0)
			rm_rf(leftover);
		if (strlen(de->d_name + 7) == 64)
			pool_remove_leftover_cgroup(pool, de->d_name + 7);
	}
}

int pool_new(struct event_base *base, const char *root, const char *prepare_dir, struct cgroup_manager *cgm,
	     struct supervisor *sup, int exe_fd,
	     struct userns_allocator *userns, bool userns_default, unsigned target, struct pool **ret, char **reterr)
{
	struct pool *pool = calloc(1, sizeof(*pool));
	if (!pool || !(pool->root = strdup(root)) || !(pool->prepare_dir = strdup(prepare_dir))) {
		if (pool)
			free(pool->root);
		free(pool);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	pool->base = base;
	pool->cgm = cgm;
	pool->sup = sup;
	pool->exe_fd = exe_fd;
	pool->userns = userns;
	pool->userns_default = userns_default;
	pool->floor = pool->want = target < POOL_MAX_IDLE ? target : POOL_MAX_IDLE;
	pool->ev_refill = evtimer_new(base, pool_on_refill, pool);
	pool->ev_shrink = evtimer_new(base, pool_on_shrink, pool);
	if (!pool->ev_refill || !pool->ev_shrink) {
		pool_free(pool);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	*ret = pool;
	return 0;
}

void pool_set_net(struct pool *pool, pool_net_prepare_fn prepare, pool_net_release_fn release, void *userdata)
{
	pool->net_prepare = prepare;
	pool->net_release = release;
	pool->net_userdata = userdata;
}

void pool_stop(struct pool *pool)
{
	pool->stopped = true;
	if (pool->ev_shrink)
		evtimer_del(pool->ev_shrink);
	while (pool->n_idle)
		pool_discard(pool->idle[--pool->n_idle]);
}

void pool_free(struct pool *pool)
{
	if (!pool)
		return;
	pool_stop(pool);
	while (pool->discarding)
		spare_discard_now(pool->discarding);
	if (pool->ev_refill)
		event_free(pool->ev_refill);
	if (pool->ev_shrink)
		event_free(pool->ev_shrink);
	free(pool->root);
	free(pool->prepare_dir);
	free(pool);
}
