/* Fuzz target for the --device-cgroup-rule parser (runtime/devices.c). The input is one rule as a
 * peer sends it: it is parsed twice, once as a C string (an embedded NUL ends it, as it would in
 * a JSON string decoded to C) and once with every NUL byte cut out. Acceptance must agree with an
 * independent model of the grammar; an accepted rule is in range, formats without truncation and
 * parses back to itself; a refusal is -EINVAL or -ERANGE with a short, printable message and
 * leaves the result untouched. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "runtime/devices.h"
#include "tests/fuzz/fuzz.h"

/* Longer inputs are refused by length alone; a little more than the limit is enough. */
#define FUZZ_DEVICES_INPUT_MAX 256
/* The longest message: the fixed text, the quoted rule (under DEVICE_RULE_STR_MAX) and numbers. */
#define FUZZ_DEVICES_ERR_MAX 512

/* The model's number: "*" or 1 to 7 decimal digits no larger than max. Advances *p. */
static bool model_number(const char **p, uint32_t max, uint32_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	size_t n = 0;

	if (*s == '*') {
		*ret = DEVICE_WILDCARD;
		*p = s + 1;
		return true;
	}
	for (; s[n] >= '0' && s[n] <= '9'; n++)
		v = v * 10 + (uint64_t)(s[n] - '0');
	if (n == 0 || n > 7 || v > max)
		return false;
	*ret = (uint32_t)v;
	*p = s + n;
	return true;
}

/* The grammar as devices.h documents it, written independently of the parser: "a", or
 * "TYPE MAJOR:MINOR ACCESS" of at most DEVICE_RULE_STR_MAX - 1 characters. */
static bool model_parse(const char *s, struct device_rule *ret)
{
	struct device_rule rule = {0};
	const char *p = s;

	if (strlen(s) >= DEVICE_RULE_STR_MAX)
		return false;
	if (strcmp(s, "a") == 0) {
		*ret = (struct device_rule){'a', DEVICE_WILDCARD, DEVICE_WILDCARD, DEVICE_ACCESS_ALL};
		return true;
	}
	if (!strchr("abc", p[0]) || p[0] == '\0' || p[1] != ' ')
		return false;
	rule.type = p[0];
	p += 2;
	if (!model_number(&p, DEVICE_MAJOR_MAX, &rule.major) || *p++ != ':')
		return false;
	if (!model_number(&p, DEVICE_MINOR_MAX, &rule.minor) || *p++ != ' ')
		return false;
	if (*p == '\0' || strlen(p) > 3)
		return false;
	for (; *p; p++) {
		const char *c = strchr("rwm", *p);
		if (*p == '\0' || !c || (rule.access & (1u << (c - "rwm"))))
			return false;
		rule.access |= 1u << (c - "rwm");
	}
	*ret = rule;
	return true;
}

static bool rule_equal(const struct device_rule *a, const struct device_rule *b)
{
	return a->type == b->type && a->major == b->major && a->minor == b->minor && a->access == b->access;
}

/* A refusal's message is safe to show to a user and to log: printable and short. */
static void check_error(int r, char *err)
{
	FUZZ_CHECK(r == -EINVAL || r == -ERANGE);
	FUZZ_CHECK(err != NULL);
	size_t len = strlen(err);
	FUZZ_CHECK(len > 0 && len < FUZZ_DEVICES_ERR_MAX);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK((unsigned char)err[i] >= 0x20 && (unsigned char)err[i] < 0x7f);
	free(err);
}

/* Parses s and checks the result against the model and the round trip through the formatter. */
static void fuzz_rule(const char *s)
{
	const struct device_rule sentinel = {'x', 17, 42, 99};
	struct device_rule rule = sentinel, again = sentinel, expect;
	char *err = NULL;
	int r = devices_rule_parse(s, &rule, &err);
	bool accepted = model_parse(s, &expect);

	if (r < 0) {
		FUZZ_CHECK(!accepted);
		FUZZ_CHECK(rule_equal(&rule, &sentinel));
		check_error(r, err);
		return;
	}
	FUZZ_CHECK(r == 0 && err == NULL);
	FUZZ_CHECK(accepted && rule_equal(&rule, &expect));
	FUZZ_CHECK(rule.type == 'a' || rule.type == 'b' || rule.type == 'c');
	FUZZ_CHECK(rule.major == DEVICE_WILDCARD || rule.major <= DEVICE_MAJOR_MAX);
	FUZZ_CHECK(rule.minor == DEVICE_WILDCARD || rule.minor <= DEVICE_MINOR_MAX);
	FUZZ_CHECK(rule.access != 0 && (rule.access & ~(unsigned)DEVICE_ACCESS_ALL) == 0);
	FUZZ_CHECK(devices_rule_validate(&rule, NULL) == 0);
	FUZZ_CHECK(devices_rules_allow_all(&rule, 1) ==
		   (rule.type == 'a' && rule.major == DEVICE_WILDCARD && rule.minor == DEVICE_WILDCARD &&
		    rule.access == DEVICE_ACCESS_ALL));

	/* A larger buffer than needed shows whether DEVICE_RULE_STR_MAX would have truncated. */
	char buf[2 * DEVICE_RULE_STR_MAX], buf2[2 * DEVICE_RULE_STR_MAX];
	devices_rule_format(&rule, buf, sizeof(buf));
	FUZZ_CHECK(strlen(buf) < DEVICE_RULE_STR_MAX);
	FUZZ_CHECK(devices_rule_parse(buf, &again, &err) == 0 && err == NULL);
	FUZZ_CHECK(rule_equal(&rule, &again));
	devices_rule_format(&again, buf2, sizeof(buf2));
	FUZZ_CHECK(strcmp(buf, buf2) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_DEVICES_INPUT_MAX + 1], cut[FUZZ_DEVICES_INPUT_MAX + 1];
	size_t n = size < FUZZ_DEVICES_INPUT_MAX ? size : FUZZ_DEVICES_INPUT_MAX, k = 0;

	memcpy(s, data, n);
	s[n] = '\0';
	fuzz_rule(s);
	for (size_t i = 0; i < n; i++)
		if (data[i] != '\0')
			cut[k++] = (char)data[i];
	cut[k] = '\0';
	if (k != n)
		fuzz_rule(cut);
	return 0;
}
