/* Unit tests for the --format template engine (client/template.c): fields, nested fields, json,
 * escapes, and the errors a mistyped template must give instead of empty output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/template.h"
#include "tests/tap.h"

static json_t *obj;

/* Renders text over obj: the output, or "error: MESSAGE" (from parsing or rendering). */
static char *render(const char *text)
{
	struct template *t = NULL;
	char *err = NULL, *out = NULL, *res = NULL;
	int r = template_parse(text, &t, &err);
	if (r == 0) {
		r = template_render(t, obj, &out, &err);
		template_free(t);
	}
	if (r < 0) {
		if (asprintf(&res, "error: %s", err ? err : "(none)") < 0)
			abort();
		free(err);
		return res;
	}
	return out;
}

static void check(const char *text, const char *want, const char *what)
{
	char *got = render(text);
	is_str(got, want, "%s", what);
	free(got);
}

static void check_error(const char *text, const char *want_substr, const char *what)
{
	char *got = render(text);
	ok(strncmp(got, "error: ", 7) == 0 && strstr(got, want_substr), "%s", what);
	if (!strstr(got, want_substr))
		printf("#   got: '%s'\n#   expected to contain: '%s'\n", got, want_substr);
	free(got);
}

int main(void)
{
	obj = json_pack("{s:s, s:s, s:I, s:b, s:n, s:{s:s, s:I, s:{s:s}}, s:[s, s]}", "ID", "abc123", "Names", "web",
			"Pid", (json_int_t)42, "Tty", 1, "Gone", "State", "Status", "running", "ExitCode",
			(json_int_t)0, "Labels", "app", "x", "Cmd", "sh", "-c");
	if (!obj)
		abort();

	check("{{.ID}}", "abc123", "a field");
	check("{{.ID}} {{.Names}}", "abc123 web", "two fields and literal text");
	check("id={{ .ID }}!", "id=abc123!", "spaces inside an action are ignored");
	check("{{.Pid}}", "42", "an integer in decimal");
	check("{{.Tty}}", "true", "a boolean");
	check("{{.Gone}}", "<no value>", "null as Go prints a nil value");
	check("{{.State.Status}}/{{.State.ExitCode}}", "running/0", "nested fields");
	check("{{.State.Labels.app}}", "x", "a key of a nested map");
	check("{{.Cmd}}", "[\"sh\",\"-c\"]", "an array as JSON");
	check("{{json .Names}}", "\"web\"", "json quotes a string");
	check("{{json .State.Labels}}", "{\"app\":\"x\"}", "json of an object");
	check("{{.ID}}\\t{{.Pid}}\\n", "abc123\t42\n", "\\t and \\n become a tab and a newline");
	check("plain", "plain", "text without actions");
	check("", "", "the empty template renders nothing");
	check("a\\b", "a\\b", "other backslashes stay");

	check_error("{{.Nope}}", "no field \"Nope\"", "an unknown field is an error naming it");
	check_error("{{.State.Nope}}", "no field \"Nope\" in {{.State.Nope}}", "an unknown nested field names the path");
	check_error("{{.ID.More}}", "no field \"More\"", "a field of a string is an error");
	check_error("{{.ID", "unclosed action", "an unclosed action");
	check_error("x }} y", "unexpected \"}}\"", "a stray closing brace pair");
	check_error("{{upper .ID}}", "function \"upper\" not defined", "an unknown function");
	check_error("{{ID}}", "function \"ID\" not defined", "a field without its dot");
	check_error("{{.A..B}}", "invalid action", "an empty path segment");
	check_error("{{.A-B}}", "invalid action", "a character a field name cannot have");
	check_error("{{}}", "invalid action", "an empty action");
	check_error("{{json}}", "function \"json\" not defined", "json without an argument");

	char *big = malloc(TEMPLATE_MAX_LENGTH + 2);
	memset(big, 'x', TEMPLATE_MAX_LENGTH + 1);
	big[TEMPLATE_MAX_LENGTH + 1] = '\0';
	check_error(big, "longer than", "a template over the length cap is refused");
	free(big);

	char many[TEMPLATE_MAX_ACTIONS * 8 + 16] = "";
	for (int i = 0; i <= TEMPLATE_MAX_ACTIONS; i++)
		strcat(many, "{{.ID}}");
	check_error(many, "more than", "more actions than the cap are refused");

	json_decref(obj);
	return tap_done();
}
