/* Unit tests for runtime/spec.c and runtime/spec-json.c: the hardened defaults are what spec.h
 * promises, --privileged lifts exactly what it should, the JSON form round-trips every field (it
 * carries the spec to the container's init and into the daemon's state files), and hostile or
 * malformed documents are refused with a message that names the field. Run under ASan, so every
 * refusal path is also checked for leaks. */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "common/macros.h"
#include "runtime/caps.h"
#include "runtime/spec.h"
#include "tests/spec-equal.h"
#include "tests/tap.h"

#define DOCKER_CAPS	    UINT64_C(0xa80425fb)
#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static size_t strv_len(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static char **strv_new(const char *const *t)
{
	size_t n = 0;
	while (t[n])
		n++;
	char **v = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; v && i < n; i++)
		v[i] = strdup(t[i]);
	return v;
}

/* Checks one string vector against the expected NULL-terminated table, element by element. */
static void is_strv(char **got, const char *const *want, const char *what)
{
	size_t n = 0;
	while (want[n])
		n++;
	is_int(strv_len(got), n, "%s: %zu entries", what, n);
	for (size_t i = 0; i < n && i < strv_len(got); i++)
		is_str(got[i], want[i], "%s[%zu]", what, i);
}

static void test_defaults(void)
{
	struct rt_spec s;
	char *err = NULL;
	is_int(spec_init_default(&s, &err), 0, "spec_init_default succeeds");
	is_int(caps_default(), DOCKER_CAPS, "caps_default() is Docker's set");
	is_int(s.process.caps.bounding, DOCKER_CAPS, "bounding set is Docker's");
	is_int(s.process.caps.effective, DOCKER_CAPS, "effective set is Docker's");
	is_int(s.process.caps.permitted, DOCKER_CAPS, "permitted set is Docker's");
	is_int(s.process.caps.inheritable, 0, "inheritable set is empty (CVE-2022-24769)");
	is_int(s.process.caps.ambient, 0, "ambient set is empty");
	ok(!(s.process.caps.bounding & (UINT64_C(1) << CAP_SYS_ADMIN)), "no CAP_SYS_ADMIN by default");
	is_int(s.namespaces, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP,
	       "mount, pid, uts, ipc, net and cgroup namespaces, no user namespace");
	is_int(s.seccomp.mode, RT_SECCOMP_DEFAULT, "seccomp: the default profile");
	ok(s.seccomp.profile_json == NULL, "no custom seccomp profile");
	ok(!s.privileged && !s.devices_allow_all, "not privileged, devices restricted");
	ok(!s.process.no_new_privileges, "no_new_privileges off, as in Docker");

	struct rlimits want;
	rlimits_default(&want);
	ok(memcmp(&want, &s.process.rlimits, sizeof(want)) == 0, "rlimits are rlimits_default()");

	static const char *const masked[] = {"/proc/acpi",
					     "/proc/asound",
					     "/proc/kcore",
					     "/proc/keys",
					     "/proc/latency_stats",
					     "/proc/timer_list",
					     "/proc/timer_stats",
					     "/proc/sched_debug",
					     "/proc/scsi",
					     "/sys/firmware",
					     "/sys/devices/virtual/powercap",
					     NULL};
	static const char *const readonly[] = {"/proc/bus",	      "/proc/fs", "/proc/irq", "/proc/sys",
					       "/proc/sysrq-trigger", NULL};
	is_strv(s.masked_paths, masked, "masked paths");
	is_strv(s.readonly_paths, readonly, "read-only paths");

	static const struct {
		const char *destination, *type, *source, *data;
		unsigned long flags;
	} mounts[] = {
	    {"/proc", "proc", "proc", NULL, NOSUID_NODEV_NOEXEC},
	    {"/dev", "tmpfs", "tmpfs", "mode=755,size=65536k", MS_NOSUID | MS_STRICTATIME},
	    {"/dev/pts", "devpts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5", MS_NOSUID | MS_NOEXEC},
	    {"/dev/shm", "tmpfs", "shm", "mode=1777,size=65536k", NOSUID_NODEV_NOEXEC},
	    {"/dev/mqueue", "mqueue", "mqueue", NULL, NOSUID_NODEV_NOEXEC},
	    {"/sys", "sysfs", "sysfs", NULL, MS_RDONLY | NOSUID_NODEV_NOEXEC},
	    {"/sys/fs/cgroup", "cgroup2", "cgroup", NULL, MS_RDONLY | NOSUID_NODEV_NOEXEC},
	};
	is_int(s.n_mounts, ARRAY_SIZE(mounts), "seven default mounts");
	for (size_t i = 0; i < ARRAY_SIZE(mounts) && i < s.n_mounts; i++) {
		const struct rt_mount *m = &s.mounts[i];
		is_str(m->destination, mounts[i].destination, "mount %zu destination", i);
		is_str(m->type, mounts[i].type, "mount %zu (%s) type", i, mounts[i].destination);
		is_str(m->source, mounts[i].source, "mount %zu (%s) source", i, mounts[i].destination);
		is_str(m->data, mounts[i].data, "mount %zu (%s) data", i, mounts[i].destination);
		is_int(m->flags, mounts[i].flags, "mount %zu (%s) flags", i, mounts[i].destination);
	}

	/* The defaults alone are not runnable: the caller must name a command, cwd and root. */
	is_int(spec_validate(&s, &err), -EINVAL, "defaults without a command do not validate");
	is_str(err, "no command to run", "... and say why");
	free(err);
	spec_done(&s);
	ok(s.mounts == NULL && s.n_mounts == 0 && s.masked_paths == NULL, "spec_done clears the spec");
	spec_done(&s); /* twice is harmless */
}

static void test_privileged(void)
{
	struct rt_spec s;
	if (spec_init_default(&s, NULL) < 0) {
		ok(0, "spec_init_default");
		return;
	}
	s.seccomp.profile_json = strdup("{}");
	s.seccomp.mode = RT_SECCOMP_CUSTOM;
	spec_make_privileged(&s, caps_all());
	ok(s.privileged, "privileged is recorded");
	is_int(s.process.caps.bounding, caps_all(), "privileged: every capability in the bounding set");
	is_int(s.process.caps.effective, caps_all(), "... effective");
	is_int(s.process.caps.permitted, caps_all(), "... permitted");
	is_int(s.process.caps.inheritable, 0, "... inheritable stays empty");
	is_int(s.process.caps.ambient, 0, "... ambient stays empty");
	is_int(s.seccomp.mode, RT_SECCOMP_UNCONFINED, "privileged: no seccomp");
	ok(s.seccomp.profile_json == NULL, "... and the custom profile is dropped");
	ok(s.masked_paths == NULL && s.readonly_paths == NULL, "no masked or read-only paths");
	ok(s.devices_allow_all, "every device");
	is_int(s.n_mounts, 7, "still the seven mounts");
	for (size_t i = 0; i < s.n_mounts; i++) {
		const char *d = s.mounts[i].destination;
		bool sys = strcmp(d, "/sys") == 0 || strcmp(d, "/sys/fs/cgroup") == 0;
		if (sys)
			is_int(s.mounts[i].flags, NOSUID_NODEV_NOEXEC, "%s read-write, still nosuid,nodev,noexec", d);
	}
	is_int(s.mounts[0].flags, NOSUID_NODEV_NOEXEC, "/proc flags unchanged");
	is_int(s.namespaces & CLONE_NEWUSER, 0, "privileged adds no user namespace");
	spec_done(&s);
}

static void test_env_default(void)
{
	struct rt_spec s = {0};
	is_int(spec_env_default(&s, "PATH=/usr/bin"), 0, "env default into an empty env");
	is_int(spec_env_default(&s, "HOME=/root"), 0, "a second one");
	is_int(spec_env_default(&s, "PATH=/evil"), 0, "an existing key");
	is_int(spec_env_default(&s, "PATHX=1"), 0, "a key that only shares a prefix");
	is_int(spec_env_default(&s, "HOM=1"), 0, "a key that is a prefix of an existing one");
	static const char *const want[] = {"PATH=/usr/bin", "HOME=/root", "PATHX=1", "HOM=1", NULL};
	is_strv(s.process.env, want, "env keeps the first value of a key, adds new keys in order");
	spec_done(&s);
}

/* A spec with every field set to something other than its zero value. */
static int full_spec(struct rt_spec *s)
{
	static const char *const args[] = {"/bin/sh", "-c", "echo \"hi\" \\ there", NULL};
	static const char *const env[] = {"PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY=", NULL};
	static const char *const lower[] = {"/var/lib/containd/layers/2", "/var/lib/containd/layers/1", NULL};
	static const char *const rules[] = {"c 1:3 rwm", "b 8:* r", NULL};
	static const char *const sysctl[] = {"net.ipv4.ip_forward=1", "kernel.msgmax=65536", "net.core.somaxconn=a=b",
					     NULL};
	static gid_t gids[] = {5, 0, 4294967294u};
	int r = spec_init_default(s, NULL);
	if (r < 0)
		return r;
	struct rt_process *p = &s->process;
	p->args = strv_new(args);
	p->env = strv_new(env);
	p->cwd = strdup("/srv/app dir");
	p->uid = 1000;
	p->gid = 4294967294u;
	p->additional_gids = malloc(sizeof(gids));
	if (p->additional_gids) {
		memcpy(p->additional_gids, gids, sizeof(gids));
		p->n_additional_gids = ARRAY_SIZE(gids);
	}
	p->user = strdup("app:staff");
	p->terminal = true;
	p->console_rows = 24;
	p->console_cols = 65535;
	p->rlimits.limit[RLIMIT_NOFILE] = (struct rlimits_value){1024, 4096};
	p->rlimits.limit[RLIMIT_CPU] = (struct rlimits_value){0, RLIMITS_UNLIMITED};
	p->rlimits.limit[RLIMIT_CORE] = (struct rlimits_value){RLIMITS_UNLIMITED, RLIMITS_UNLIMITED};
	p->rlimits.limit[RLIMIT_AS] = (struct rlimits_value){INT64_MAX, INT64_MAX};
	p->caps.bounding = caps_all();
	p->caps.effective = DOCKER_CAPS | (UINT64_C(1) << CAP_SYS_ADMIN);
	p->caps.permitted = UINT64_C(1) << CAP_CHOWN;
	p->caps.inheritable = UINT64_C(1) << CAP_NET_RAW;
	p->caps.ambient = UINT64_C(1) << CAP_NET_BIND_SERVICE | UINT64_C(1) << CAP_LAST_CAP;
	p->no_new_privileges = true;
	s->root_path = strdup("/var/lib/containd/c/rootfs");
	s->root_readonly = true;
	s->overlay.lowerdirs = strv_new(lower);
	s->overlay.upperdir = strdup("/var/lib/containd/c/upper");
	s->overlay.workdir = strdup("/var/lib/containd/c/work");
	s->overlay.staging = strdup("/run/containd/staging");
	s->overlay.ephemeral = true;
	s->hostname = strdup("box-1");
	struct rt_mount *m = realloc(s->mounts, (s->n_mounts + 3) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	s->mounts = m;
	m[s->n_mounts++] = (struct rt_mount){strdup("/data"), strdup("bind"), strdup("/srv/data"), NULL,
					     MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID, false, false};
	m[s->n_mounts++] =
	    (struct rt_mount){strdup("/etc/hosts"), strdup("bind"), strdup("/run/c/hosts"), NULL, MS_BIND, false, false};
	m[s->n_mounts++] =
	    (struct rt_mount){strdup("/tmp"), strdup("tmpfs"), strdup("tmpfs"), strdup("size=1m,mode=1777"),
			      MS_NOEXEC | MS_NODEV | MS_NOATIME | MS_NODIRATIME | MS_SYNCHRONOUS | MS_RELATIME, false,
			      true};
	/* The IPC namespace joined, with the donor's tmpfs at /tmp. */
	s->namespaces = (s->namespaces | CLONE_NEWUSER) & ~CLONE_NEWIPC;
	s->join_namespaces = CLONE_NEWIPC;
	s->uid_mappings = calloc(2, sizeof(struct rt_idmap));
	if (s->uid_mappings) {
		s->uid_mappings[0] = (struct rt_idmap){0, 100000, 65536};
		s->uid_mappings[1] = (struct rt_idmap){65536, 4294967295u, 1};
		s->n_uid_mappings = 2;
	}
	s->gid_mappings = calloc(1, sizeof(struct rt_idmap));
	if (s->gid_mappings) {
		s->gid_mappings[0] = (struct rt_idmap){0, 200000, 4294967295u};
		s->n_gid_mappings = 1;
	}
	s->resources = (struct cgroup_limits){.memory = 512 << 20, .pids = 100, .cpus_milli = 1500};
	s->device_rules = strv_new(rules);
	s->devices_allow_all = true;
	s->sysctl = strv_new(sysctl);
	s->seccomp.mode = RT_SECCOMP_CUSTOM;
	s->seccomp.profile_json = strdup("{\"defaultAction\":\"SCMP_ACT_ERRNO\"}");
	s->privileged = true;
	return 0;
}

/* to_json, to text, back to JSON, from_json: the text step is what crosses the sync socket. */
static int round_trip(const struct rt_spec *in, struct rt_spec *out, char **err)
{
	json_auto_t *doc = spec_to_json(in);
	if (!doc)
		return -ENOMEM;
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
	json_auto_t *back = text ? json_loads(text, 0, NULL) : NULL;
	if (!back)
		return -ENOMEM;
	return spec_from_json(back, out, err);
}

static json_t *json_path(json_t *doc, const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	char *save = NULL;
	for (char *k = strtok_r(copy, ".", &save); k && doc; k = strtok_r(NULL, ".", &save))
		doc = json_object_get(doc, k);
	return doc;
}

static void test_round_trip(void)
{
	struct rt_spec in, out = {0};
	char *err = NULL;
	if (full_spec(&in) < 0) {
		ok(0, "building the full spec");
		return;
	}
	is_int(spec_validate(&in, &err), 0, "the full spec validates");
	int r = round_trip(&in, &out, &err);
	is_int(r, 0, "to_json -> from_json of the full spec");
	if (r < 0)
		printf("# %s\n", err ? err : "");
	const char *diff = spec_equal_diff(&in, &out);
	is_str(diff, NULL, "every field round-trips");
	/* spot checks that do not rely on spec_equal_diff alone */
	is_int(out.process.rlimits.limit[RLIMIT_CPU].hard, RLIMITS_UNLIMITED, "unlimited rlimit comes back");
	is_int(out.process.rlimits.limit[RLIMIT_AS].soft, INT64_MAX, "INT64_MAX rlimit comes back");
	is_int(out.process.caps.ambient, in.process.caps.ambient, "ambient caps come back, the last one included");
	is_int(out.mounts[7].flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID, "rbind,ro,nosuid come back");
	is_int(out.mounts[8].flags, MS_BIND, "bind (not rbind) comes back");
	is_str(out.mounts[9].data, "size=1m,mode=1777", "filesystem options come back as data");
	is_int(out.uid_mappings[1].host_id, 4294967295u, "a 32-bit host id comes back");
	is_int(out.resources.cpus_milli, 1500, "1.5 CPUs come back");
	is_str(out.sysctl[2], "net.core.somaxconn=a=b", "a sysctl value with '=' comes back");
	free(err);
	err = NULL;

	/* What the JSON looks like to other OCI tools. */
	json_auto_t *doc = spec_to_json(&in);
	json_t *rl = json_path(doc, "process.rlimits"), *nofile = NULL, *core = NULL;
	for (size_t i = 0; i < json_array_size(rl); i++) {
		const char *t = json_string_value(json_object_get(json_array_get(rl, i), "type"));
		if (t && strcmp(t, "RLIMIT_NOFILE") == 0)
			nofile = json_array_get(rl, i);
		if (t && strcmp(t, "RLIMIT_CORE") == 0)
			core = json_array_get(rl, i);
	}
	is_int(json_array_size(rl), RLIMITS_COUNT, "every rlimit is written");
	is_int(json_integer_value(json_object_get(nofile, "hard")), 4096, "RLIMIT_NOFILE hard in JSON");
	is_int(json_integer_value(json_object_get(core, "soft")), -1, "unlimited is -1 in JSON");
	is_str(json_string_value(json_array_get(json_path(doc, "process.capabilities.permitted"), 0)), "CAP_CHOWN",
	       "capabilities are OCI names");
	is_str(json_string_value(json_path(doc, "ociVersion")), "1.0.2", "ociVersion");
	is_str(json_string_value(json_path(doc, "containd.seccomp.mode")), "custom", "seccomp mode by name");
	spec_done(&out);

	/* The defaults, privileged or not, survive too (the daemon sends these every day). */
	struct rt_spec d;
	if (spec_init_default(&d, NULL) == 0) {
		static const char *const args[] = {"true", NULL};
		d.process.args = strv_new(args);
		d.process.cwd = strdup("/");
		d.root_path = strdup("/r");
		is_int(round_trip(&d, &out, &err), 0, "defaults round-trip");
		is_str(spec_equal_diff(&d, &out), NULL, "... equal");
		spec_done(&out);
		spec_make_privileged(&d, caps_all());
		is_int(round_trip(&d, &out, &err), 0, "privileged defaults round-trip");
		is_str(spec_equal_diff(&d, &out), NULL, "... equal");
		spec_done(&out);
		spec_done(&d);
	}
	free(err);
	spec_done(&in);
}

/* A small valid document the refusal cases below modify one field at a time. */
static const char base_doc[] =
    "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 1, \"gid\": 2},"
    " \"capabilities\": {\"bounding\": [\"CAP_CHOWN\"]}, \"consoleSize\": {\"height\": 1, \"width\": 2},"
    " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 2}]},"
    " \"root\": {\"path\": \"/r\"}, \"hostname\": \"h\","
    " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"options\": [\"nosuid\", \"x=1\"]}],"
    " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"uts\"}],"
    "  \"resources\": {\"memory\": {\"limit\": 1048576},"
    "  \"cpu\": {\"quota\": 50000, \"period\": 100000}, \"pids\": {\"limit\": 5}},"
    "  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}], \"sysctl\": {\"a.b\": \"1\"}},"
    " \"containd\": {\"seccomp\": {\"mode\": \"default\"}, \"lowerdirs\": [\"/l\"]}}";

/* Sets (value != NULL) or deletes the member at a dotted path of doc; numbers in the path index
 * arrays. */
static void json_set_path(json_t *doc, const char *path, json_t *value)
{
	_cleanup_free_ char *copy = strdup(path);
	char *last = strrchr(copy, '.');
	json_t *parent = doc;
	if (last) {
		*last++ = '\0';
		char *save = NULL;
		for (char *k = strtok_r(copy, ".", &save); k && parent; k = strtok_r(NULL, ".", &save))
			parent = json_is_array(parent) ? json_array_get(parent, strtoul(k, NULL, 10))
						       : json_object_get(parent, k);
	} else {
		last = copy;
	}
	if (json_is_array(parent)) {
		if (value)
			json_array_set_new(parent, strtoul(last, NULL, 10), value);
		else
			json_array_remove(parent, strtoul(last, NULL, 10));
	} else if (value) {
		json_object_set_new(parent, last, value);
	} else {
		json_object_del(parent, last);
	}
}

/* Checks that base_doc with path set to v (NULL: deleted; taken over) is refused with -EINVAL and a
 * message containing want, and leaks nothing. label names v in the test's description. */
static void refused_json(const char *path, json_t *v, const char *label, const char *want)
{
	json_auto_t *doc = json_loads(base_doc, 0, NULL);
	if (!doc || (label && !v)) {
		ok(0, "test document for %s", path);
		json_decref(v);
		return;
	}
	json_set_path(doc, path, v);
	struct rt_spec s = {0};
	char *err = NULL;
	int r = spec_from_json(doc, &s, &err);
	bool pass = r == -EINVAL && err && strstr(err, want);
	ok(pass, "%s = %s is refused naming %s", path, label ? label : "(deleted)", want);
	if (!pass)
		printf("#   r=%d err=%s\n", r, err ? err : "(null)");
	if (r == 0)
		spec_done(&s);
	free(err);
}

/* Same with the value as JSON text (NULL: deleted). */
static void refused(const char *path, const char *value_json, const char *want)
{
	json_t *v = value_json ? json_loads(value_json, JSON_DECODE_ANY, NULL) : NULL;
	refused_json(path, v, value_json, want);
}

/* Same with an array of n copies of item_json (for the length caps). */
static void refused_array(const char *path, size_t n, const char *item_json, const char *want)
{
	char label[64];
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_loads(item_json, JSON_DECODE_ANY, NULL));
	snprintf(label, sizeof(label), "an array of %zu items", n);
	refused_json(path, a, label, want);
}

static void test_base_doc(void)
{
	json_auto_t *doc = json_loads(base_doc, 0, NULL);
	struct rt_spec s = {0};
	char *err = NULL;
	is_int(spec_from_json(doc, &s, &err), 0, "the base document is accepted");
	if (err)
		printf("# %s\n", err);
	is_int(s.process.uid, 1, "uid");
	is_int(s.process.gid, 2, "gid");
	is_int(s.process.caps.bounding, UINT64_C(1) << CAP_CHOWN, "bounding set");
	is_int(s.process.caps.effective, 0, "sets not named are empty");
	is_int(s.process.rlimits.limit[RLIMIT_NOFILE].hard, 2, "named rlimit");
	struct rlimits def;
	rlimits_default(&def);
	is_int(s.process.rlimits.limit[RLIMIT_STACK].soft, def.limit[RLIMIT_STACK].soft, "unnamed rlimits: defaults");
	is_int(s.namespaces, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS, "namespaces: only the named ones");
	is_int(s.resources.memory, 1048576, "memory limit");
	is_int(s.resources.cpus_milli, 500, "quota/period in thousandths of a CPU");
	is_int(s.resources.pids, 5, "pids limit");
	is_int(s.mounts[0].flags, MS_NOSUID, "mount flag option");
	is_str(s.mounts[0].data, "x=1", "mount data option");
	is_str(s.sysctl ? s.sysctl[0] : NULL, "a.b=1", "sysctl");
	is_int(s.seccomp.mode, RT_SECCOMP_DEFAULT, "seccomp default");
	spec_done(&s);
	free(err);
}

/* Mount options that hold several comma-separated ones read the same the first time and after a
 * round trip: a flag inside one ("x,rw") must not flip the mount between reads. */
static void test_mount_options(void)
{
	json_auto_t *doc = json_loads(base_doc, 0, NULL);
	json_t *opts = json_loads("[\"ro\", \"x=1,rw\", \"\", \",\", \"nodev,y\"]", 0, NULL);
	json_object_set_new(json_array_get(json_object_get(doc, "mounts"), 0), "options", opts);
	struct rt_spec s = {0}, back = {0};
	char *err = NULL;
	is_int(spec_from_json(doc, &s, &err), 0, "comma-separated mount options are accepted");
	is_int(s.mounts[0].flags, MS_NODEV, "the flags among them apply in order (rw after ro)");
	is_str(s.mounts[0].data, "x=1,y", "the rest is data, empty ones dropped");
	is_int(round_trip(&s, &back, &err), 0, "... round-trips");
	is_str(spec_equal_diff(&s, &back), NULL, "... equal");
	spec_done(&s);
	spec_done(&back);
	free(err);
}

static void test_refusals(void)
{
	/* the document itself and the required parts */
	struct rt_spec s = {0};
	char *err = NULL;
	json_auto_t *arr = json_array();
	is_int(spec_from_json(arr, &s, &err), -EINVAL, "a JSON array is refused");
	is_str(err, "the spec must be a JSON object", "... saying so");
	free(err);
	refused("process", NULL, "\"process\"");
	refused("process", "[]", "\"process\"");
	refused("process.args", NULL, "\"args\"");
	refused("process.args", "[]", "no command to run");
	refused("process.args", "[\"\"]", "no command to run");
	refused("process.args", "\"sh\"", "\"args\"");
	refused("process.args", "[\"sh\", 1]", "\"args\"");
	refused_array("process.args", 4097, "\"x\"", "\"args\"");
	refused("process.env", "[null]", "\"env\"");
	refused("process.cwd", NULL, "\"cwd\"");
	refused("process.cwd", "\"tmp\"", "working directory \"tmp\"");
	refused("process.cwd", "\"\"", "working directory");
	refused("process.cwd", "5", "\"cwd\"");
	refused("root", NULL, "\"root\"");
	refused("root", "\"/\"", "\"root\"");
	refused("root.path", NULL, "\"path\"");
	refused("root.path", "\"rootfs\"", "root path");
	refused("root.readonly", "\"yes\"", "\"readonly\"");
	refused("hostname", "5", "\"hostname\"");
	refused("hostname", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "hostname");

	/* process */
	refused("process.user.uid", "-1", "\"uid\"");
	refused("process.user.uid", "4294967295", "\"uid\"");
	refused("process.user.uid", "9223372036854775807", "\"uid\"");
	refused("process.user.uid", "\"0\"", "\"uid\"");
	refused("process.user.uid", "1.5", "\"uid\"");
	refused("process.user.gid", "4294967296", "\"gid\"");
	refused("process.user.gid", "-2", "\"gid\"");
	refused("process.user.additionalGids", "[-1]", "additionalGids");
	refused("process.user.additionalGids", "[4294967295]", "additionalGids");
	refused("process.user.additionalGids", "[\"5\"]", "additionalGids");
	refused("process.user.additionalGids", "5", "additionalGids");
	refused_array("process.user.additionalGids", 65537, "1", "additionalGids");
	refused("process.user", "\"root\"", "\"user\"");
	refused("process.user", "0", "\"user\"");
	refused("process.terminal", "\"yes\"", "\"terminal\"");
	refused("process.terminal", "1", "\"terminal\"");
	refused("process.noNewPrivileges", "null", "\"noNewPrivileges\"");
	refused("process.consoleSize.height", "65536", "\"height\"");
	refused("process.consoleSize.width", "-1", "\"width\"");
	refused("process.consoleSize", "[24, 80]", "consoleSize");
	refused("process.capabilities.bounding", "[\"CAP_NOPE\"]",
		"unknown capability \"CAP_NOPE\" in capabilities.bounding");
	refused("process.capabilities.ambient", "[\"CAP_CHOWN\", 7]", "capabilities.ambient");
	refused("process.capabilities.effective", "\"CAP_CHOWN\"", "capabilities.effective");
	refused("process.capabilities.inheritable", "[\"\"]", "capabilities.inheritable");
	refused("process.capabilities.permitted", "[\"64\"]", "capabilities.permitted");
	refused_array("process.capabilities.permitted", 65, "\"CAP_CHOWN\"", "capabilities.permitted");
	refused("process.capabilities", "[\"CAP_SYS_ADMIN\"]", "capabilities");
	refused("process.rlimits.0.type", "\"RLIMIT_BOGUS\"", "unknown rlimit type \"RLIMIT_BOGUS\"");
	refused("process.rlimits.0.type", "\"nofile\"", "unknown rlimit type \"nofile\"");
	refused("process.rlimits.0.type", NULL, "unknown rlimit type");
	refused("process.rlimits.0", "\"RLIMIT_NOFILE\"", "rlimit");
	refused("process.rlimits.0.soft", "10", "nofile: the soft value is above the hard value");
	refused("process.rlimits.0.soft", "-1", "nofile: the soft value is above the hard value");
	refused("process.rlimits.0.soft", "-2", "\"soft\"");
	refused("process.rlimits.0.hard", NULL, "\"hard\"");
	refused("process.rlimits.0.hard", "\"unlimited\"", "\"hard\"");
	refused("process.rlimits", "{}", "rlimits");
	refused_array("process.rlimits", 17, "{\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 0}",
		      "rlimits must be an array of at most 16");

	/* mounts */
	refused("mounts", "{}", "mounts");
	refused("mounts.0", "5", "mount");
	refused("mounts.0.destination", NULL, "\"destination\"");
	refused("mounts.0.destination", "\"proc\"", "mount 0 needs an absolute destination");
	refused("mounts.0.destination", "\"\"", "mount 0 needs an absolute destination");
	refused("mounts.0.type", "7", "\"type\"");
	refused("mounts.0.source", "[]", "\"source\"");
	refused("mounts.0.options", "\"ro\"", "mount options");
	refused("mounts.0.options", "[\"ro\", 1]", "mount options");
	refused_array("mounts.0.options", 65, "\"ro\"", "mount options");
	refused_array("mounts", 4097, "{\"destination\": \"/a\"}", "mounts");

	/* linux */
	refused("linux", "[]", "\"linux\"");
	refused("linux.namespaces", "{}", "linux.namespaces");
	refused("linux.namespaces.0.type", "\"time\"", "unknown namespace type \"time\"");
	refused("linux.namespaces.0", "\"pid\"", "namespace");
	/* The init mounts, pivots and sets the hostname: never in the host's namespaces. */
	refused("linux.namespaces", "[{\"type\": \"pid\"}, {\"type\": \"uts\"}]", "mount namespace");
	refused("linux.namespaces", "[{\"type\": \"pid\"}, {\"type\": \"mount\"}]", "UTS namespace");
	refused("linux.uidMappings.0.hostID", "-1", "uidMappings[0]");
	refused("linux.uidMappings.0.hostID", "4294967296", "uidMappings[0]");
	refused("linux.uidMappings.0.size", "0", "uidMappings[0]");
	refused("linux.uidMappings.0.containerID", NULL, "uidMappings[0]");
	refused("linux.gidMappings", "[{\"containerID\": 0, \"hostID\": \"0\", \"size\": 1}]", "gidMappings[0]");
	refused_array("linux.gidMappings", 341, "{\"containerID\": 0, \"hostID\": 0, \"size\": 1}",
		      "gidMappings must be an array of at most 340");
	refused("linux.maskedPaths", "[\"proc/kcore\"]", "masked path \"proc/kcore\" is not absolute");
	refused("linux.maskedPaths", "\"/proc/kcore\"", "\"maskedPaths\"");
	refused("linux.readonlyPaths", "[\"\"]", "read-only path \"\" is not absolute");
	refused("linux.sysctl", "[]", "linux.sysctl");
	refused("linux.sysctl", "{\"net.ipv4.ip_forward\": 1}", "sysctl \"net.ipv4.ip_forward\"");
	refused("linux.sysctl", "{\"a=b\": \"c\"}", "sysctl \"a=b\"");
	refused("linux.sysctl", "{\"\": \"c\"}", "sysctl");
	refused("linux.resources", "5", "resources");
	refused("linux.resources.memory", "5", "memory");
	refused("linux.resources.memory.limit", "-1", "\"limit\"");
	refused("linux.resources.pids.limit", "\"5\"", "\"limit\"");
	refused("linux.resources.cpu.period", "1000001", "\"period\"");
	refused("linux.resources.cpu.quota", "-5", "\"quota\"");
	refused("linux.resources.cpu.quota", "9223372036854775807", "cpu");
	refused("linux.resources.cpu", "{\"quota\": 1, \"period\": 1000000}", "cpu"); /* rounds to no limit */
	/* accepted, it would be written back as a quota the reader refuses (found by fuzz-spec) */
	refused("linux.resources.cpu", "{\"quota\": 92236875807, \"period\": 1}", "cpu");
	refused("linux.resources.cpu", "[]", "cpu");

	/* containd extensions */
	refused("containd", "5", "\"containd\"");
	refused("containd.lowerdirs", "\"/l\"", "\"lowerdirs\"");
	refused("containd.upperdir", "1", "\"upperdir\"");
	refused("containd.workdir", "false", "\"workdir\"");
	refused("containd.user", "0", "\"user\"");
	refused("containd.deviceRules", "[true]", "\"deviceRules\"");
	refused("containd.devicesAllowAll", "1", "\"devicesAllowAll\"");
	refused("containd.privileged", "\"true\"", "\"privileged\"");
	refused("containd.seccomp", "\"unconfined\"", "seccomp");
	refused("containd.seccomp.mode", "\"strict\"", "unknown seccomp mode \"strict\"");
	refused("containd.seccomp.mode", "\"custom\"", "a custom seccomp profile needs its JSON");
	refused("containd.seccomp.profile", "{}", "\"profile\"");
}

/* Namespaces: OCI's paths and containd's joins by pidfd read and write back, each type is new,
 * joined or shared (absent), and every mix-up is refused naming what is wrong. */
static void test_namespaces(void)
{
	struct rt_spec s = {0}, out = {0};
	char *err = NULL;
	json_auto_t *doc = json_loads(base_doc, 0, NULL);
	json_t *nss = json_object_get(json_object_get(doc, "linux"), "namespaces");
	json_array_append_new(nss, json_pack("{s:s, s:s}", "type", "network", "path", "/proc/42/ns/net"));
	json_array_append_new(nss, json_pack("{s:s, s:s}", "type", "cgroup", "path", "/run/ns/cg"));
	json_object_set_new(json_object_get(doc, "containd"), "joinNamespaces", json_pack("[ss]", "ipc", "pid"));
	/* pid is joined by pidfd here, so it is not also new */
	json_array_remove(nss, 0);
	int r = spec_from_json(doc, &s, &err);
	is_int(r, 0, "paths and joins are accepted");
	if (r < 0)
		printf("# %s\n", err ? err : "");
	is_int(s.namespaces, CLONE_NEWNS | CLONE_NEWUTS, "entries without a path are new");
	is_int(s.join_namespaces, CLONE_NEWIPC | CLONE_NEWPID, "joinNamespaces: joined by pidfd");
	is_int(s.n_ns_paths, 2, "two paths");
	is_int(s.n_ns_paths ? s.ns_paths[0].type : 0, CLONE_NEWNET, "the first path's type");
	is_str(s.n_ns_paths ? s.ns_paths[0].path : NULL, "/proc/42/ns/net", "the first path");
	is_int(spec_own_namespaces(&s), CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP,
	       "own namespaces: new, joined and by path");
	json_t *again = spec_to_json(&s);
	is_int(again ? spec_from_json(again, &out, &err) : -1, 0, "written back and read again");
	is_str(spec_equal_diff(&s, &out), NULL, "namespace paths and joins round-trip");
	/* A spec that shares the host's network namespace says so by naming none. */
	s.namespaces &= ~CLONE_NEWUTS;
	free(s.hostname);
	s.hostname = NULL;
	is_int(spec_own_namespaces(&s) & (CLONE_NEWUTS | CLONE_NEWUSER), 0, "absent types are the host's");
	json_decref(again);
	spec_done(&out);
	spec_done(&s);
	free(err);

	refused("linux.namespaces.0.path", "\"relative\"", "a namespace path must be absolute");
	refused("linux.namespaces.0.path", "7", "\"path\"");
	refused("linux.namespaces", "[{\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": \"uts\"}]",
		"namespace type \"uts\" is listed twice");
	refused("linux.namespaces", "[{\"type\": \"mount\", \"path\": \"/x\"}, {\"type\": \"uts\"}]", "mount namespace of its own");
	refused("linux.namespaces",
		"[{\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": \"user\", \"path\": \"/x\"}]", "joined");
	refused("containd.joinNamespaces", "[\"pid\"]", "both new and joined");
	refused("containd.joinNamespaces", "[\"mount\"]", "can be joined");
	refused("containd.joinNamespaces", "[\"time\"]", "unknown namespace type \"time\"");
	refused("containd.joinNamespaces", "\"ipc\"", "joinNamespaces");
	refused("linux.namespaces", "[{\"type\": \"mount\"}, {\"type\": \"uts\", \"path\": \"/u\"}]",
		"a hostname needs a UTS namespace of its own");
	refused("mounts.0.options", "[\"containd-ipcshm\"]", "an IPC namespace the container does not join");
	refused_array("linux.namespaces", 8, "{\"type\": \"pid\"}", "at most 7 namespaces");
}

int main(void)
{
	test_defaults();
	test_privileged();
	test_env_default();
	test_round_trip();
	test_base_doc();
	test_mount_options();
	test_refusals();
	test_namespaces();
	return tap_done();
}
