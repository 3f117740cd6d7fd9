/* Container cgroups on cgroup v2, hybrid and v1 hosts.
 *
 * All detection and parsing happens once, in cgroup_manager_new(): it finds the daemon's own
 * cgroup in every hierarchy and keeps a directory fd of it. Creating and removing a container's
 * cgroups is on the container start/stop path, so per container the work is one mkdirat() per
 * hierarchy, a few limit writes, the cgroup.procs writes CLONE_INTO_CGROUP does not cover, and
 * one unlinkat() per hierarchy - all relative to those fds, nothing parsed.
 *
 * Only cgroups this module created are ever written to or removed: <own>/<id> in each hierarchy
 * and, on v2, <own>/supervisor plus the controllers enabled in <own>/cgroup.subtree_control.
 *
 * This file holds the manager (layout detection) and a container cgroup's creation and attach;
 * cgroup-limits.c, cgroup-kill.c and cgroup-devices.c the rest (see cgroup-internal.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/cgroup-internal.h"

#define PROC_FILE_MAX (4u << 20)     /* /proc/self/mountinfo can be long on busy hosts */

bool cgroup_testing_no_kill_file;
bool cgroup_testing_devices_bpf;

static const char *const layout_names[] = {
	[LAYOUT_V1] = "v1",
	[LAYOUT_HYBRID] = "hybrid",
	[LAYOUT_V2] = "v2",
};

/* Whether the list of words separated by any of seps contains word. */
static bool words_contain(const char *list, const char *seps, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list + strspn(list, seps); *p; p += strspn(p, seps)) {
		size_t len = strcspn(p, seps);
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* The CTRL_* bits of the controller names in a list. */
static unsigned ctrl_bits(const char *list, const char *seps)
{
	static const struct {
		const char *name;
		unsigned bit;
	} known[] = {
		{ "cpu", CTRL_CPU },	   { "cpuset", CTRL_CPUSET },   { "memory", CTRL_MEMORY },
		{ "pids", CTRL_PIDS }, { "freezer", CTRL_FREEZER }, { "devices", CTRL_DEVICES },
	};
	unsigned bits = 0;

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (words_contain(list, seps, known[i].name))
			bits |= known[i].bit;
	return bits;
}

/* Looks up "key <number>" in a flat-keyed file's contents (memory.events, memory.oom_control). */
int cgroup_keyed_u64(const char *text, const char *key, uint64_t *ret)
{
	size_t n = strlen(key);

	for (const char *p = text; *p;) {
		if (strncmp(p, key, n) == 0 && p[n] == ' ') {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(p + n + 1, &end, 10);
			if (errno || end == p + n + 1)
				return -EINVAL;
			*ret = v;
			return 0;
		}
		p = strchrnul(p, '\n');
		if (*p)
			p++;
	}
	return -ENOENT;
}

/* Reads a small interface file below dirfd and strips the trailing newline. */
int cgroup_read_trimmed(int dirfd, const char *file, char **ret)
{
	char *s;
	size_t len;
	int r = read_file_at(dirfd, file, SMALL_FILE_MAX, &s, &len);

	if (r < 0)
		return r;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	*ret = s;
	return 0;
}

/* Unescapes the octal escapes (\040) mountinfo uses for blanks in paths, in place. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (const char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* The part of own (a cgroup path from /proc/self/cgroup) below a mount's root ("" for the root
 * itself), or NULL when that mount does not show own. */
static const char *path_below(const char *own, const char *root)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return strcmp(own, "/") == 0 ? "" : own;
	if (strncmp(own, root, n) != 0 || (own[n] != '\0' && own[n] != '/'))
		return NULL;
	return own + n;
}

/* Finds where the hierarchy of controllers ("cpu,cpuacct"; NULL for cgroup2) is mounted and
 * returns the directory of the cgroup own in it. Takes the mount at prefer, else one under
 * /sys/fs/cgroup, else any; -ENOENT when no mount shows own. */
static int mountinfo_find(const char *mountinfo, const char *controllers, const char *own, const char *prefer,
			  char **ret)
{
	_cleanup_free_ char *best = NULL;
	int best_score = 0;

	for (const char *line = mountinfo; *line;) {
		const char *eol = strchrnul(line, '\n');
		_cleanup_free_ char *copy = strndup(line, (size_t)(eol - line));
		char *field[64], *save = NULL;
		size_t n = 0, sep;

		line = *eol ? eol + 1 : eol;
		if (!copy)
			return -ENOMEM;
		for (char *t = strtok_r(copy, " ", &save); t && n < ARRAY_SIZE(field); t = strtok_r(NULL, " ", &save))
			field[n++] = t;
		/* id parent dev root mountpoint options [optional...] - fstype source superoptions */
		for (sep = 6; sep < n && strcmp(field[sep], "-") != 0; sep++)
			;
		if (sep + 3 >= n)
			continue;
		if (strcmp(field[sep + 1], controllers ? "cgroup" : "cgroup2") != 0)
			continue;
		if (controllers) {
			bool all = true;
			_cleanup_free_ char *list = strdup(controllers);
			char *save2 = NULL;
			if (!list)
				return -ENOMEM;
			for (char *c = strtok_r(list, ",", &save2); c && all; c = strtok_r(NULL, ",", &save2))
				all = words_contain(field[sep + 3], ",", c);
			if (!all)
				continue;
		}
		unescape_octal(field[3]);
		unescape_octal(field[4]);
		const char *rest = path_below(own, field[3]);
		if (!rest)
			continue;
		const char *mnt = field[4];
		int score = strcmp(mnt, prefer) == 0 ? 3 : str_startswith(mnt, CGROUP_ROOT "/") ? 2 : 1;
		if (score <= best_score)
			continue;
		free(best);
		best = NULL;
		if (asprintf(&best, "%s%s", mnt, rest) < 0) {
			best = NULL;
			return -ENOMEM;
		}
		best_score = score;
	}
	if (!best)
		return -ENOENT;
	*ret = TAKE_PTR(best);
	return 0;
}

/* Adds a hierarchy whose daemon cgroup is the directory path (taken over). */
static int manager_add(struct cgroup_manager *m, const char *name, char *path, bool v2, char **reterr)
{
	_cleanup_free_ char *p = path;
	struct hierarchy *h;

	if (m->n_hier >= MAX_HIERARCHIES) {
		log_warning("too many cgroup hierarchies, ignoring %s", p);
		return 0;
	}
	h = &m->hier[m->n_hier];
	h->fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->fd < 0)
		return err_set(reterr, -errno, "cannot open the daemon's cgroup %s: %m", p);
	h->name = strdup(name);
	if (!h->name) {
		h->fd = safe_close(h->fd);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	h->path = TAKE_PTR(p);
	h->v2 = v2;
	h->ctrl = v2 ? 0 : ctrl_bits(name, ",");
	/* A v1 hierarchy of controllers containd has no setting for (cpuset, blkio, net_cls,
	 * perf_event, hugetlb, ...) gets no cgroup per container: the container's processes stay in
	 * the daemon's cgroup there, which limits nothing and, with the container's cgroup namespace
	 * rooted at it and /sys/fs/cgroup read-only inside, gives a container nothing to write. It
	 * saves a cgroup to make, join and remove per container and hierarchy, and for cpuset the
	 * copies of cpus and mems whose validation walks every sibling cpuset under a global lock:
	 * the top kernel cost of starting containers in parallel on hybrid hosts. Named hierarchies
	 * (name=systemd) are kept: an init system may track services by them. */
	h->unused = !v2 && strncmp(name, "name=", 5) != 0 && !(h->ctrl & CTRL_USED);
	m->n_hier++;
	return 0;
}

/* Re-reads the daemon's v1 cpuset, the value every new cpuset cgroup needs a copy of. */
int cgroup_manager_read_cpuset(struct cgroup_manager *m, char **reterr)
{
	const struct hierarchy *h = &m->hier[m->cpuset];
	static const char *const files[2][2] = { { "cpuset.cpus", "cpuset.effective_cpus" },
						  { "cpuset.mems", "cpuset.effective_mems" } };
	char *val[2] = { NULL, NULL };

	for (size_t i = 0; i < 2; i++) {
		/* With the cpuset_v2_mode mount option an inheriting cgroup shows it in effective_*. */
		for (size_t j = 0; j < 2; j++) {
			free(val[i]);
			val[i] = NULL;
			int r = cgroup_read_trimmed(h->fd, files[i][j], &val[i]);
			if (r < 0) {
				free(val[0]);
				free(val[1]);
				return err_set(reterr, r, "cannot read %s/%s: %m", h->path, files[i][j]);
			}
			if (val[i][0])
				break;
		}
	}
	free(m->cpuset_cpus);
	free(m->cpuset_mems);
	m->cpuset_cpus = val[0];
	m->cpuset_mems = val[1];
	_cleanup_free_ char *balance = NULL;
	m->cpuset_balanced = cgroup_read_trimmed(h->fd, "cpuset.sched_load_balance", &balance) == 0 &&
			     strcmp(balance, "1") == 0;
	return 0;
}

/* cgroup v2 allows processes only in leaves once controllers are enabled for a cgroup's children
 * (the "no internal processes" rule), so the daemon moves itself into a leaf of its own,
 * <own>/supervisor, and puts containers next to it. Then it enables for the children every
 * controller it was given. The root cgroup is exempt from the rule; it has no cgroup.type. */
static int manager_setup_v2(struct cgroup_manager *m, struct hierarchy *h, pid_t pid, char **reterr)
{
	_cleanup_free_ char *avail = NULL, *enabled = NULL;
	char buf[64];
	int r;

	if (faccessat(h->fd, "cgroup.type", F_OK, 0) == 0) {
		if (mkdirat(h->fd, SUPERVISOR, 0755) < 0 && errno != EEXIST)
			return err_set(reterr, -errno, "cannot create %s/" SUPERVISOR ": %m", h->path);
		snprintf(buf, sizeof(buf), "%d", (int)(pid ? pid : getpid()));
		r = write_string_at(h->fd, SUPERVISOR "/cgroup.procs", buf);
		if (r < 0)
			return err_set(reterr, r, "cannot move process %s into %s/" SUPERVISOR ": %m", buf, h->path);
		log_debug("moved process %s into %s/" SUPERVISOR, buf, h->path);
	}

	r = cgroup_read_trimmed(h->fd, "cgroup.controllers", &avail);
	if (r < 0)
		return err_set(reterr, r, "cannot read %s/cgroup.controllers: %m", h->path);
	r = cgroup_read_trimmed(h->fd, "cgroup.subtree_control", &enabled);
	if (r < 0)
		return err_set(reterr, r, "cannot read %s/cgroup.subtree_control: %m", h->path);
	/* One write per controller: a write naming several fails as a whole. */
	char *save = NULL;
	for (char *c = strtok_r(avail, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
		if (words_contain(enabled, " ", c))
			continue;
		snprintf(buf, sizeof(buf), "+%s", c);
		r = write_string_at(h->fd, "cgroup.subtree_control", buf);
		if (r == -EBUSY)
			log_errno(LOG_LEVEL_WARNING, r,
				  "cannot enable the %s controller in %s/cgroup.subtree_control: %m; other processes "
				  "share the daemon's cgroup: run containd in a cgroup of its own (a systemd service "
				  "with Delegate=yes)",
				  c, h->path);
		else if (r < 0)
			log_errno(LOG_LEVEL_WARNING, r, "cannot enable the %s controller in %s/cgroup.subtree_control: %m",
				  c, h->path);
	}
	free(enabled);
	enabled = NULL;
	r = cgroup_read_trimmed(h->fd, "cgroup.subtree_control", &enabled);
	if (r < 0)
		return err_set(reterr, r, "cannot read %s/cgroup.subtree_control: %m", h->path);
	h->ctrl = ctrl_bits(enabled, " ");
	log_debug("cgroup controllers for containers in %s: %s", h->path, enabled[0] ? enabled : "(none)");
	return 0;
}

static void cgroup_manager_freep(struct cgroup_manager **m)
{
	cgroup_manager_free(*m);
}

int cgroup_manager_new(struct cgroup_manager **ret, char **reterr)
{
	return cgroup_manager_new_for(0, ret, reterr);
}

int cgroup_manager_new_for(pid_t pid, struct cgroup_manager **ret, char **reterr)
{
	char proc_cgroup[64];
	_cleanup_(cgroup_manager_freep) struct cgroup_manager *m = NULL;
	_cleanup_free_ char *self = NULL, *mountinfo = NULL, *v2_own = NULL, *v2_path = NULL;
	struct statfs sfs;
	bool unified_root;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(reterr, -ENOMEM, "out of memory");
	m->v2 = m->memory = m->pids = m->cpu = m->cpuset = m->freezer = m->devices = -1;
	m->devices_default_prog = -1;

	if (pid)
		snprintf(proc_cgroup, sizeof(proc_cgroup), "/proc/%d/cgroup", (int)pid);
	else
		snprintf(proc_cgroup, sizeof(proc_cgroup), "/proc/self/cgroup");
	r = read_file(proc_cgroup, PROC_FILE_MAX, &self, NULL);
	if (r < 0)
		return err_set(reterr, r, "cannot read %s: %m", proc_cgroup);
	r = read_file("/proc/self/mountinfo", PROC_FILE_MAX, &mountinfo, NULL);
	if (r < 0)
		return err_set(reterr, r, "cannot read /proc/self/mountinfo: %m");
	if (statfs(CGROUP_ROOT, &sfs) < 0)
		return err_set(reterr, -errno, "cannot statfs " CGROUP_ROOT ": %m");
	unified_root = sfs.f_type == CGROUP2_SUPER_MAGIC;

	/* Lines are "hierarchy-id:controllers:path"; the v2 hierarchy has no controllers. */
	for (char *line = self, *next; *line; line = next) {
		char *ctrl, *path, *dir = NULL;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		ctrl = strchr(line, ':');
		path = ctrl ? strchr(ctrl + 1, ':') : NULL;
		if (!path || path[1] != '/')
			continue;
		*ctrl++ = '\0';
		*path++ = '\0';
		if (*ctrl == '\0') {
			free(v2_own);
			v2_own = strdup(path);
			if (!v2_own)
				return err_set(reterr, -ENOMEM, "out of memory");
			continue;
		}
		/* On a v2 host, v1 hierarchies mounted somewhere are someone else's business; named
		 * hierarchies (name=systemd) have no controllers and belong to their owner. */
		if (unified_root || str_startswith(ctrl, "name="))
			continue;
		r = mountinfo_find(mountinfo, ctrl, path, "", &dir);
		if (r == -ENOENT) {
			log_warning("the cgroup v1 hierarchy %s holding %s is not mounted, not using it", ctrl, path);
			continue;
		}
		if (r < 0)
			return err_set(reterr, r, "cannot parse /proc/self/mountinfo: %m");
		r = manager_add(m, ctrl, dir, false, reterr);
		if (r < 0)
			return r;
	}

	if (v2_own) {
		/* A daemon started from inside the supervisor leaf (say, re-executed) keeps using its parent. */
		size_t n = strlen(v2_own);
		if (unified_root && n > strlen("/" SUPERVISOR) && strcmp(v2_own + n - strlen("/" SUPERVISOR), "/" SUPERVISOR) == 0)
			v2_own[n - strlen("/" SUPERVISOR)] = '\0';
		r = mountinfo_find(mountinfo, NULL, v2_own, unified_root ? CGROUP_ROOT : CGROUP_ROOT "/unified", &v2_path);
		if (r < 0 && r != -ENOENT)
			return err_set(reterr, r, "cannot parse /proc/self/mountinfo: %m");
	}
	if (unified_root && !v2_path)
		return err_set(reterr, -ENOMEDIUM, "cannot find the daemon's cgroup %s below " CGROUP_ROOT,
			       v2_own ? v2_own : "(none in /proc/self/cgroup)");
	if (v2_path) {
		size_t n = m->n_hier;
		r = manager_add(m, "unified", TAKE_PTR(v2_path), true, reterr);
		if (r < 0)
			return r;
		if (m->n_hier > n)
			m->v2 = (int)n;
	}
	if (unified_root && m->v2 < 0)
		return err_set(reterr, -ENOMEDIUM, "cannot use the cgroup v2 hierarchy");
	if (m->n_hier == 0)
		return err_set(reterr, -ENOMEDIUM, "no usable cgroup hierarchy is mounted below " CGROUP_ROOT);
	m->layout = unified_root ? LAYOUT_V2 : m->v2 >= 0 ? LAYOUT_HYBRID : LAYOUT_V1;

	if (m->layout == LAYOUT_V2) {
		r = manager_setup_v2(m, &m->hier[m->v2], pid, reterr);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < m->n_hier; i++) {
		unsigned c = m->hier[i].ctrl;
		if (c & CTRL_MEMORY)
			m->memory = (int)i;
		if (c & CTRL_PIDS)
			m->pids = (int)i;
		if (c & CTRL_CPU)
			m->cpu = (int)i;
		if ((c & CTRL_CPUSET) && !m->hier[i].v2 && !m->hier[i].unused)
			m->cpuset = (int)i;
		if ((c & CTRL_FREEZER) && !m->hier[i].v2)
			m->freezer = (int)i;
	}
	if (m->cpuset >= 0) {
		r = cgroup_manager_read_cpuset(m, reterr);
		if (r < 0)
			return r;
	}
	r = cgroup_devices_setup(m, reterr);
	if (r < 0)
		return r;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	m->ncpus = n > 0 ? (unsigned)n : 1;

	for (size_t i = 0; i < m->n_hier; i++)
		log_debug("cgroup hierarchy %s: %s %s", m->hier[i].name,
			  m->hier[i].unused ? "containers stay in the daemon's cgroup" : "containers go below",
			  m->hier[i].path);
	log_debug("cgroup layout %s, device rules through %s, %u CPUs online", layout_names[m->layout],
		  cgroup_manager_devices(m), m->ncpus);
	*ret = TAKE_PTR(m);
	return 0;
}

void cgroup_manager_free(struct cgroup_manager *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_hier; i++) {
		safe_close(m->hier[i].fd);
		free(m->hier[i].name);
		free(m->hier[i].path);
	}
	cgroup_devices_release(m);
	free(m->cpuset_cpus);
	free(m->cpuset_mems);
	free(m);
}

const char *cgroup_manager_layout(const struct cgroup_manager *m)
{
	return m ? layout_names[m->layout] : "none";
}

/* Container ids become directory names in every hierarchy: allowing only what ids look like keeps
 * a name from leaving the daemon's cgroup or colliding with an interface file (those all contain
 * a dot) or with the supervisor leaf. */
static int check_id(const char *id, char **reterr)
{
	size_t n = id ? strnlen(id, ID_MAX + 1) : 0;

	if (n == 0 || n > ID_MAX)
		return err_set(reterr, -EINVAL, "invalid cgroup name: must be 1 to %d characters long", ID_MAX);
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return err_set(reterr, -EINVAL, "invalid cgroup name \"%s\": only A-Z a-z 0-9 - _ are allowed", id);
	if (strcmp(id, SUPERVISOR) == 0)
		return err_set(reterr, -EINVAL, "invalid cgroup name \"%s\": reserved", id);
	return 0;
}

/* Writes value to a file of the container's cgroup in hierarchy h. An optional file may be
 * missing (a feature the kernel lacks); any other failure names the file and the value. */
int cgroup_write(const struct container_cgroup *cg, const struct hierarchy *h, const char *file,
		    const char *value, bool optional, char **reterr)
{
	char rel[ID_MAX + 64];
	int r;

	snprintf(rel, sizeof(rel), "%s/%s", cg->id, file);
	r = write_string_at(h->fd, rel, value);
	if (r == -ENOENT && optional) {
		log_debug("%s/%s does not exist, not writing \"%s\"", h->path, rel, value);
		return 0;
	}
	if (r < 0)
		return err_set(reterr, r, "cannot write \"%s\" to %s/%s: %m", value, h->path, rel);
	return 0;
}

/* Creates the container's directory in hierarchy i. */
static int cg_mkdir(struct container_cgroup *cg, size_t i, char **reterr)
{
	const struct hierarchy *h = &cg->m->hier[i];

	if (mkdirat(h->fd, cg->id, 0755) < 0) {
		if (errno != EEXIST)
			return err_set(reterr, -errno, "cannot create the cgroup %s/%s: %m", h->path, cg->id);
		/* The name can only be left over from an earlier run of this container under a daemon
		 * that died before removing it. An empty leftover is removed and made anew; a cgroup
		 * that still holds processes or child cgroups is not touched. */
		if (unlinkat(h->fd, cg->id, AT_REMOVEDIR) < 0)
			return err_set(reterr, -EEXIST, "cannot create the cgroup %s/%s: it exists and is in use (%s)",
				       h->path, cg->id, strerror(errno));
		log_warning("removed the stale cgroup %s/%s", h->path, cg->id);
		if (mkdirat(h->fd, cg->id, 0755) < 0)
			return err_set(reterr, -errno, "cannot create the cgroup %s/%s: %m", h->path, cg->id);
	}
	cg->present |= 1u << i;
	return 0;
}

static void cg_abandonp(struct container_cgroup **p)
{
	if (!*p)
		return;
	(void)cgroup_remove(*p, false);
	cgroup_free(*p);
}

int cgroup_create(struct cgroup_manager *m, const char *id, const struct cgroup_limits *limits,
		  struct container_cgroup **ret, char **reterr)
{
	static const struct cgroup_limits unlimited;
	_cleanup_(cg_abandonp) struct container_cgroup *cg = NULL;
	int r;

	if (!limits)
		limits = &unlimited;
	if ((r = check_id(id, reterr)) < 0 || (r = cgroup_limits_validate(m, limits, reterr)) < 0)
		return r;
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return err_set(reterr, -ENOMEM, "out of memory");
	cg->m = m;
	cg->v2fd = -1;
	cg->devices_attached = -1;
	cg->devices_prog = -1;
	cg->id = strdup(id);
	if (!cg->id)
		return err_set(reterr, -ENOMEM, "out of memory");

	for (size_t i = 0; i < m->n_hier; i++)
		if (!m->hier[i].unused && (r = cg_mkdir(cg, i, reterr)) < 0)
			return r;
	if (m->v2 >= 0) {
		cg->v2fd = openat(m->hier[m->v2].fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg->v2fd < 0)
			return err_set(reterr, -errno, "cannot open the cgroup %s/%s: %m", m->hier[m->v2].path, id);
	}
	if (m->cpuset >= 0 && (r = cgroup_limits_copy_cpuset(cg, reterr)) < 0)
		return r;
	if ((r = cgroup_limits_apply(cg, limits, reterr)) < 0)
		return r;
	if ((r = cgroup_devices_apply_default(cg, reterr)) < 0)
		return r;
	log_debug("created cgroup %s (memory %" PRIu64 ", pids %" PRId64 ", cpus_milli %" PRIu64 ")", id,
		  limits->memory, limits->pids, limits->cpus_milli);
	*ret = TAKE_PTR(cg);
	return 0;
}
static void cgroup_freep(struct container_cgroup **p)
{
	cgroup_free(*p);
}

int cgroup_open(struct cgroup_manager *m, const char *id, struct container_cgroup **ret, char **reterr)
{
	_cleanup_(cgroup_freep) struct container_cgroup *cg = NULL;
	int r;

	if ((r = check_id(id, reterr)) < 0)
		return r;
	cg = calloc(1, sizeof(*cg));
	if (!cg || !(cg->id = strdup(id)))
		return err_set(reterr, -ENOMEM, "out of memory");
	cg->m = m;
	cg->v2fd = -1;
	cg->devices_attached = -1;
	cg->devices_prog = -1;
	for (size_t i = 0; i < m->n_hier; i++) {
		struct stat st;
		if (fstatat(m->hier[i].fd, id, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			cg->present |= 1u << i;
	}
	if (!cg->present)
		return err_set(reterr, -ENOENT, "the cgroup of container %s is gone", id);
	if (m->v2 >= 0 && (cg->present & (1u << m->v2))) {
		cg->v2fd = openat(m->hier[m->v2].fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg->v2fd < 0)
			return err_set(reterr, -errno, "cannot open the cgroup %s/%s: %m", m->hier[m->v2].path, id);
	}
	*ret = TAKE_PTR(cg);
	return 0;
}

int cgroup_join_fds(const struct container_cgroup *cg, int *fds, size_t max, size_t *ret_n, char **reterr)
{
	const struct cgroup_manager *m = cg->m;
	size_t n = 0;

	for (size_t i = 0; i < m->n_hier; i++) {
		const struct hierarchy *h = &m->hier[i];
		if ((h->v2 && cg->v2fd >= 0) || !(cg->present & (1u << i)))
			continue; /* CLONE_INTO_CGROUP covers it; or the container has no cgroup there */
		char rel[ID_MAX + 16];
		snprintf(rel, sizeof(rel), "%s/%s", cg->id, h->v2 ? "cgroup.procs" : "tasks");
		int fd = n < max ? openat(h->fd, rel, O_WRONLY | O_CLOEXEC) : (errno = E2BIG, -1);
		if (fd < 0) {
			int r = err_set(reterr, -errno, "cannot open %s/%s: %m", h->path, rel);
			while (n > 0)
				close(fds[--n]);
			return r;
		}
		fds[n++] = fd;
	}
	*ret_n = n;
	return 0;
}

int cgroup_clone_fd(const struct container_cgroup *cg)
{
	return cg ? cg->v2fd : -1;
}

/* Whether the cgroup dirfd lists pid in its cgroup.procs. */
static bool cgroup_has_pid(int dirfd, pid_t pid)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n;

	return cgroup_read_pids(dirfd, &pids, &n) == 0 && cgroup_pids_contain(pids, n, pid);
}

int cgroup_attach(struct container_cgroup *cg, pid_t pid, char **reterr)
{
	const struct cgroup_manager *m = cg->m;
	char buf[24];
	int r;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < m->n_hier; i++) {
		const struct hierarchy *h = &m->hier[i];
		if (!(cg->present & (1u << i)))
			continue;
		/* Migrating a task is the slow path of the kernel's cgroup code (it write-locks a
		 * global rwsem), which is what CLONE_INTO_CGROUP avoids: reading costs less. A
		 * process attaching itself (pid 0) was cloned into the v2 cgroup by contract. */
		if (h->v2 && cg->v2fd >= 0 && (pid == 0 || cgroup_has_pid(cg->v2fd, pid)))
			continue;
		/* A single-threaded process moving itself writes its one thread to v1's "tasks",
		 * which does not write-lock the global threadgroup rwsem as "cgroup.procs" does. */
		const char *file = pid == 0 && !h->v2 ? "tasks" : "cgroup.procs";
		if ((r = cgroup_write(cg, h, file, buf, false, reterr)) < 0)
			return r;
	}
	return 0;
}

const char *cgroup_id(const struct container_cgroup *cg)
{
	return cg->id;
}

void cgroup_free(struct container_cgroup *cg)
{
	if (!cg)
		return;
	safe_close(cg->v2fd);
	safe_close(cg->devices_prog);
	free(cg->id);
	free(cg);
}
