/* Docker's JSON seccomp profile format, parsed with jansson into the profile type the compiler
 * takes (runtime/seccomp-internal.h).
 *
 * A profile comes from a client, so this is a parser of peer input. Why that is safe: the text is
 * capped (SECCOMP_PROFILE_MAX_BYTES) before jansson sees it, and so are the number of entries,
 * names and arguments; every number is range-checked before it is stored (argument index 0-5,
 * errno 0-4095); and whatever could weaken what a profile says is refused rather than ignored:
 * an unknown action or operator, SCMP_ACT_NOTIFY (it needs a supervisor this engine does not
 * run), filter flags. Unknown keys are ignored and unknown syscall names skipped, as in Docker,
 * which cannot widen the filter: an entry the compiler skips allows nothing. */
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

#include "common/error.h"
#include "common/macros.h"
#include "runtime/seccomp-internal.h"

#define SECCOMP_NAME_MAX 64
#define SECCOMP_ERRNO_MAX 4095

struct seccomp_name_value {
	const char *name;
	uint32_t value;
};

static const struct seccomp_name_value seccomp_actions[] = {
	{ "SCMP_ACT_ALLOW", SECCOMP_ACTION_ALLOW },
	{ "SCMP_ACT_ERRNO", SECCOMP_ACTION_ERRNO },
	{ "SCMP_ACT_KILL", SECCOMP_ACTION_KILL_THREAD },
	{ "SCMP_ACT_KILL_THREAD", SECCOMP_ACTION_KILL_THREAD },
	{ "SCMP_ACT_KILL_PROCESS", SECCOMP_ACTION_KILL_PROCESS },
	{ "SCMP_ACT_TRAP", SECCOMP_ACTION_TRAP },
	{ "SCMP_ACT_TRACE", SECCOMP_ACTION_TRACE },
	{ "SCMP_ACT_LOG", SECCOMP_ACTION_LOG },
};

static const struct seccomp_name_value seccomp_ops[] = {
	{ "SCMP_CMP_NE", SECCOMP_OP_NE },	  { "SCMP_CMP_LT", SECCOMP_OP_LT },
	{ "SCMP_CMP_LE", SECCOMP_OP_LE },	  { "SCMP_CMP_EQ", SECCOMP_OP_EQ },
	{ "SCMP_CMP_GE", SECCOMP_OP_GE },	  { "SCMP_CMP_GT", SECCOMP_OP_GT },
	{ "SCMP_CMP_MASKED_EQ", SECCOMP_OP_MASKED_EQ },
};

/* "architectures" and "archMap" use libseccomp's names (constants only: parsing calls no libseccomp). */
static const struct seccomp_name_value seccomp_scmp_arches[] = {
	{ "SCMP_ARCH_X86", SCMP_ARCH_X86 },
	{ "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
	{ "SCMP_ARCH_X32", SCMP_ARCH_X32 },
	{ "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
	{ "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
	{ "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
	{ "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
	{ "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
	{ "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
	{ "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
	{ "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
	{ "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
	{ "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
	{ "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
	{ "SCMP_ARCH_S390", SCMP_ARCH_S390 },
	{ "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
	{ "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
	{ "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
	{ "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
	{ "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64 },
};

/* includes/excludes name architectures as Go does. */
static const struct seccomp_name_value seccomp_goarches[] = {
	{ "amd64", SECCOMP_GOARCH_AMD64 },	 { "x86", SECCOMP_GOARCH_X86 },
	{ "x32", SECCOMP_GOARCH_X32 },		 { "arm", SECCOMP_GOARCH_ARM },
	{ "arm64", SECCOMP_GOARCH_ARM64 },	 { "ppc64le", SECCOMP_GOARCH_PPC64LE },
	{ "ppc64", SECCOMP_GOARCH_PPC64 },	 { "ppc", SECCOMP_GOARCH_PPC },
	{ "s390", SECCOMP_GOARCH_S390 },	 { "s390x", SECCOMP_GOARCH_S390X },
	{ "riscv64", SECCOMP_GOARCH_RISCV64 },	 { "loong64", SECCOMP_GOARCH_LOONG64 },
	{ "loongarch64", SECCOMP_GOARCH_LOONG64 }, { "mips64", SECCOMP_GOARCH_MIPS64 },
	{ "mipsel64", SECCOMP_GOARCH_MIPSEL64 }, { "mips", SECCOMP_GOARCH_MIPS },
	{ "mipsel", SECCOMP_GOARCH_MIPSEL },	 { "mipsle", SECCOMP_GOARCH_MIPSEL },
};

static int seccomp_lookup(const struct seccomp_name_value *table, size_t n, const char *name, uint32_t *ret)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0) {
			*ret = table[i].value;
			return 0;
		}
	return -ENOENT;
}

/* Formats the path of a JSON value for messages ("syscalls[3].args[0].op"); a path cut short
 * by the buffer still names the entry. */
#define SECCOMP_WHAT_MAX 128
static void seccomp_what(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seccomp_what(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, SECCOMP_WHAT_MAX, fmt, ap);
	va_end(ap);
}

#define LOOKUP(table, name, ret) seccomp_lookup(table, ARRAY_SIZE(table), name, ret)

/* A non-negative JSON integer no larger than max. */
static int seccomp_json_uint(const json_t *v, uint64_t max, const char *what, uint64_t *ret, char **reterr)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
		return err_set(reterr, -EINVAL, "seccomp profile: %s must be an integer from 0 to %llu", what,
			       (unsigned long long)max);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

/* An action name; SCMP_ACT_NOTIFY is named in its refusal since it is a valid Docker action. */
static int seccomp_json_action(const json_t *v, const char *what, enum seccomp_action *ret, char **reterr)
{
	uint32_t a;
	if (!json_is_string(v))
		return err_set(reterr, -EINVAL, "seccomp profile: %s must be a string", what);
	const char *s = json_string_value(v);
	if (strcmp(s, "SCMP_ACT_NOTIFY") == 0)
		return err_set(reterr, -EOPNOTSUPP, "seccomp profile: %s: SCMP_ACT_NOTIFY is not supported", what);
	if (LOOKUP(seccomp_actions, s, &a) < 0)
		return err_set(reterr, -EINVAL, "seccomp profile: %s: unknown action \"%.64s\"", what, s);
	*ret = (enum seccomp_action)a;
	return 0;
}

/* An optional errno for ERRNO and TRACE: -1 when absent. */
static int seccomp_json_errno(const json_t *v, const char *what, int *ret, char **reterr)
{
	uint64_t e;
	if (!v || json_is_null(v)) {
		*ret = -1;
		return 0;
	}
	int r = seccomp_json_uint(v, SECCOMP_ERRNO_MAX, what, &e, reterr);
	if (r < 0)
		return r;
	*ret = (int)e;
	return 0;
}

/* A string array of at most max elements; an absent key is an empty array. */
static int seccomp_json_strings(const json_t *v, size_t max, const char *what, char **reterr)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(reterr, -EINVAL, "seccomp profile: %s must be an array of strings", what);
	if (json_array_size(v) > max)
		return err_set(reterr, -E2BIG, "seccomp profile: %s has more than %zu elements", what, max);
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s)
		if (!json_is_string(s))
			return err_set(reterr, -EINVAL, "seccomp profile: %s[%zu] must be a string", what, i);
	return 0;
}

/* A capability as Docker spells it in a bounding set ("CAP_SYS_ADMIN"); -ENOENT if unknown. */
static int seccomp_json_cap(const char *s, unsigned *ret)
{
	cap_value_t cap;
	if (strncmp(s, "CAP_", 4) != 0 || !s[4] || strspn(s + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(s + 4))
		return -ENOENT;
	if (cap_from_name(s, &cap) < 0 || cap < 0 || cap > 63)
		return -ENOENT;
	*ret = (unsigned)cap;
	return 0;
}

/* includes or excludes: {caps, arches, minKernel}. A name this host does not know can never be
 * the container's capability or the native architecture: in includes that rule never applies,
 * in excludes the name excludes nothing (Docker compares names the same way). */
static int seccomp_json_filter(const json_t *v, bool includes, const char *what, struct seccomp_filter *f,
			       char **reterr)
{
	char sub[SECCOMP_WHAT_MAX];
	size_t i;
	json_t *s;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return err_set(reterr, -EINVAL, "seccomp profile: %s must be an object", what);

	const json_t *caps = json_object_get(v, "caps"), *arches = json_object_get(v, "arches");
	seccomp_what(sub, "%s.caps", what);
	int r = seccomp_json_strings(caps, 64, sub, reterr);
	if (r < 0)
		return r;
	json_array_foreach(caps, i, s) {
		unsigned cap;
		if (seccomp_json_cap(json_string_value(s), &cap) == 0)
			f->caps |= UINT64_C(1) << cap;
		else if (includes)
			f->never = true;
	}

	seccomp_what(sub, "%s.arches", what);
	r = seccomp_json_strings(arches, 64, sub, reterr);
	if (r < 0)
		return r;
	json_array_foreach(arches, i, s) {
		uint32_t bit;
		if (LOOKUP(seccomp_goarches, json_string_value(s), &bit) == 0)
			f->arches |= bit;
	}
	if (includes && json_array_size(arches) > 0 && f->arches == 0)
		f->never = true;

	const json_t *mk = json_object_get(v, "minKernel");
	if (mk && !json_is_null(mk)) {
		unsigned major, minor;
		int end = 0;
		if (!json_is_string(mk) || sscanf(json_string_value(mk), "%5u.%5u%n", &major, &minor, &end) != 2 ||
		    json_string_value(mk)[end] != '\0' || major > 0xffff || minor > 0xffff || major == 0)
			return err_set(reterr, -EINVAL, "seccomp profile: %s.minKernel must be \"MAJOR.MINOR\"", what);
		f->min_kernel = SECCOMP_KERNEL(major, minor);
	}
	return 0;
}

/* One element of an entry's "args". */
static int seccomp_json_arg(const json_t *v, const char *what, struct seccomp_arg *a, char **reterr)
{
	char sub[SECCOMP_WHAT_MAX];
	uint64_t index;
	uint32_t op;

	if (!json_is_object(v))
		return err_set(reterr, -EINVAL, "seccomp profile: %s must be an object", what);
	seccomp_what(sub, "%s.index", what);
	int r = seccomp_json_uint(json_object_get(v, "index"), SECCOMP_MAX_ARGS - 1, sub, &index, reterr);
	if (r < 0)
		return r;
	a->index = (unsigned)index;
	seccomp_what(sub, "%s.value", what);
	r = seccomp_json_uint(json_object_get(v, "value"), INT64_MAX, sub, &a->value, reterr);
	if (r < 0)
		return r;
	const json_t *two = json_object_get(v, "valueTwo");
	if (two) {
		seccomp_what(sub, "%s.valueTwo", what);
		r = seccomp_json_uint(two, INT64_MAX, sub, &a->value_two, reterr);
		if (r < 0)
			return r;
	}
	const json_t *o = json_object_get(v, "op");
	if (!json_is_string(o))
		return err_set(reterr, -EINVAL, "seccomp profile: %s.op must be a string", what);
	if (LOOKUP(seccomp_ops, json_string_value(o), &op) < 0)
		return err_set(reterr, -EINVAL, "seccomp profile: %s.op: unknown operator \"%.64s\"", what,
			       json_string_value(o));
	a->op = (enum seccomp_op)op;
	return 0;
}

/* One element of "syscalls"; *names_left bounds the names over the whole profile. */
static int seccomp_json_rule(const json_t *v, size_t idx, size_t *names_left, struct seccomp_rule *rule,
			     char **reterr)
{
	char what[SECCOMP_WHAT_MAX];
	size_t i;
	json_t *s;

	seccomp_what(what, "syscalls[%zu]", idx);
	if (!json_is_object(v))
		return err_set(reterr, -EINVAL, "seccomp profile: %s must be an object", what);

	const json_t *name = json_object_get(v, "name"), *names = json_object_get(v, "names");
	/* null is how some generators write an absent field. */
	if (json_is_null(name))
		name = NULL;
	if (json_is_null(names))
		names = NULL;
	if (name && names)
		return err_set(reterr, -EINVAL, "seccomp profile: %s has both \"name\" and \"names\"", what);
	if (name && !json_is_string(name))
		return err_set(reterr, -EINVAL, "seccomp profile: %s.name must be a string", what);
	char sub[SECCOMP_WHAT_MAX];
	seccomp_what(sub, "%s.names", what);
	int r = seccomp_json_strings(names, *names_left, sub, reterr);
	if (r < 0)
		return r;
	size_t n = name ? 1 : json_array_size(names);
	if (n > *names_left)
		return err_set(reterr, -E2BIG, "seccomp profile: more than %d syscall names", SECCOMP_PROFILE_MAX_NAMES);
	*names_left -= n;

	char **list = calloc(n + 1, sizeof(char *));
	if (!list)
		return err_set(reterr, -ENOMEM, "seccomp: out of memory");
	rule->names = (const char *const *)list;
	for (i = 0; i < n; i++) {
		const char *nm = json_string_value(name ? name : json_array_get(names, i));
		if (strlen(nm) == 0 || strlen(nm) > SECCOMP_NAME_MAX)
			return err_set(reterr, -EINVAL, "seccomp profile: %s: a syscall name of %zu characters", what,
				       strlen(nm));
		list[i] = strdup(nm);
		if (!list[i])
			return err_set(reterr, -ENOMEM, "seccomp: out of memory");
	}

	seccomp_what(sub, "%s.action", what);
	r = seccomp_json_action(json_object_get(v, "action"), sub, &rule->action, reterr);
	if (r < 0)
		return r;
	seccomp_what(sub, "%s.errnoRet", what);
	r = seccomp_json_errno(json_object_get(v, "errnoRet"), sub, &rule->errno_ret, reterr);
	if (r < 0)
		return r;

	const json_t *args = json_object_get(v, "args");
	if (args && !json_is_null(args)) {
		if (!json_is_array(args))
			return err_set(reterr, -EINVAL, "seccomp profile: %s.args must be an array", what);
		if (json_array_size(args) > SECCOMP_MAX_ARGS)
			return err_set(reterr, -E2BIG, "seccomp profile: %s.args has more than %d conditions", what,
				       SECCOMP_MAX_ARGS);
		json_array_foreach(args, i, s) {
			seccomp_what(sub, "%s.args[%zu]", what, i);
			r = seccomp_json_arg(s, sub, &rule->args[i], reterr);
			if (r < 0)
				return r;
			rule->n_args++;
		}
	}

	seccomp_what(sub, "%s.includes", what);
	r = seccomp_json_filter(json_object_get(v, "includes"), true, sub, &rule->includes, reterr);
	if (r < 0)
		return r;
	seccomp_what(sub, "%s.excludes", what);
	return seccomp_json_filter(json_object_get(v, "excludes"), false, sub, &rule->excludes, reterr);
}

/* "architectures" (SCMP_ARCH_* names) or "archMap" ([{architecture, subArchitectures}]). */
static int seccomp_json_arches(const json_t *root, struct seccomp_profile *p, char **reterr)
{
	const json_t *list = json_object_get(root, "architectures"), *map = json_object_get(root, "archMap");
	size_t i, j;
	json_t *v, *s;
	uint32_t arch;

	if (json_array_size(list) > 0 && json_array_size(map) > 0)
		return err_set(reterr, -EINVAL, "seccomp profile: both \"architectures\" and \"archMap\" are given");
	int r = seccomp_json_strings(list, SECCOMP_MAX_ARCHES, "architectures", reterr);
	if (r < 0)
		return r;
	json_array_foreach(list, i, s) {
		if (LOOKUP(seccomp_scmp_arches, json_string_value(s), &arch) < 0)
			return err_set(reterr, -EINVAL, "seccomp profile: architectures[%zu]: unknown architecture \"%.64s\"",
				       i, json_string_value(s));
		p->arches[p->n_arches++] = arch;
	}

	if (!map || json_is_null(map))
		return 0;
	if (!json_is_array(map))
		return err_set(reterr, -EINVAL, "seccomp profile: archMap must be an array");
	if (json_array_size(map) > SECCOMP_MAX_ARCHES)
		return err_set(reterr, -E2BIG, "seccomp profile: archMap has more than %d entries", SECCOMP_MAX_ARCHES);
	struct seccomp_archmap *entries = calloc(json_array_size(map) + 1, sizeof(*entries));
	if (!entries)
		return err_set(reterr, -ENOMEM, "seccomp: out of memory");
	p->archmap = entries;
	json_array_foreach(map, i, v) {
		char what[SECCOMP_WHAT_MAX];
		seccomp_what(what, "archMap[%zu]", i);
		const json_t *a = json_object_get(v, "architecture");
		if (!json_is_string(a) || LOOKUP(seccomp_scmp_arches, json_string_value(a), &entries[i].arch) < 0)
			return err_set(reterr, -EINVAL, "seccomp profile: %s.architecture must be an SCMP_ARCH_ name", what);
		const json_t *subs = json_object_get(v, "subArchitectures");
		char sub[SECCOMP_WHAT_MAX];
		seccomp_what(sub, "%s.subArchitectures", what);
		r = seccomp_json_strings(subs, SECCOMP_MAX_SUBARCHES, sub, reterr);
		if (r < 0)
			return r;
		json_array_foreach(subs, j, s) {
			if (LOOKUP(seccomp_scmp_arches, json_string_value(s), &entries[i].sub[j]) < 0)
				return err_set(reterr, -EINVAL, "seccomp profile: %s[%zu]: unknown architecture \"%.64s\"", sub,
					       j, json_string_value(s));
			entries[i].n_sub++;
		}
		p->n_archmap++;
	}
	return 0;
}

static void seccomp_profile_freep(struct seccomp_profile **p)
{
	seccomp_profile_free(*p);
}

int seccomp_profile_parse(const char *json, size_t len, struct seccomp_profile **ret, char **reterr)
{
	json_error_t jerr;
	size_t i;
	json_t *v;

	if (len > SECCOMP_PROFILE_MAX_BYTES)
		return err_set(reterr, -E2BIG, "seccomp profile: %zu bytes, more than the %d allowed", len,
			       SECCOMP_PROFILE_MAX_BYTES);
	json_auto_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return err_set(reterr, -EINVAL, "seccomp profile: invalid JSON at line %d: %s", jerr.line, jerr.text);
	if (!json_is_object(root))
		return err_set(reterr, -EINVAL, "seccomp profile: not a JSON object");

	_cleanup_(seccomp_profile_freep) struct seccomp_profile *p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(reterr, -ENOMEM, "seccomp: out of memory");
	p->owned = true;

	int r = seccomp_json_action(json_object_get(root, "defaultAction"), "defaultAction", &p->default_action, reterr);
	if (r < 0)
		return r;
	r = seccomp_json_errno(json_object_get(root, "defaultErrnoRet"), "defaultErrnoRet", &p->default_errno, reterr);
	if (r < 0)
		return r;
	/* A notify listener needs a supervisor; flags (TSYNC, LOG, SPEC_ALLOW) change how the
	 * filter is installed. Neither is supported, and neither is silently dropped. */
	const json_t *listener = json_object_get(root, "listenerPath");
	if (listener && !(json_is_string(listener) && json_string_length(listener) == 0) && !json_is_null(listener))
		return err_set(reterr, -EOPNOTSUPP, "seccomp profile: listenerPath is not supported");
	const json_t *flags = json_object_get(root, "flags");
	if (flags && !json_is_null(flags) && !(json_is_array(flags) && json_array_size(flags) == 0))
		return err_set(reterr, -EOPNOTSUPP, "seccomp profile: flags are not supported");
	r = seccomp_json_arches(root, p, reterr);
	if (r < 0)
		return r;

	const json_t *syscalls = json_object_get(root, "syscalls");
	if (syscalls && !json_is_null(syscalls)) {
		if (!json_is_array(syscalls))
			return err_set(reterr, -EINVAL, "seccomp profile: syscalls must be an array");
		if (json_array_size(syscalls) > SECCOMP_PROFILE_MAX_RULES)
			return err_set(reterr, -E2BIG, "seccomp profile: more than %d syscalls entries",
				       SECCOMP_PROFILE_MAX_RULES);
		struct seccomp_rule *rules = calloc(json_array_size(syscalls) + 1, sizeof(*rules));
		if (!rules)
			return err_set(reterr, -ENOMEM, "seccomp: out of memory");
		p->rules = rules;
		size_t names_left = SECCOMP_PROFILE_MAX_NAMES;
		json_array_foreach(syscalls, i, v) {
			/* Counted before parsing, so that a half-parsed entry is freed with the rest. */
			p->n_rules++;
			r = seccomp_json_rule(v, i, &names_left, &rules[i], reterr);
			if (r < 0)
				return r;
		}
	}
	*ret = TAKE_PTR(p);
	return 0;
}
