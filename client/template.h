/* A small template engine for --format, shaped like the subset of Go's text/template that Docker
 * users write: literal text with actions {{.Field}}, {{.Nested.Field}}, {{.}} and
 * {{json .Field}}, evaluated over a JSON object whose keys are the field names. "\t" and "\n"
 * written as two characters become a tab and a newline, as docker's formatter does. */
#pragma once

#include <jansson.h>

/* Longest template accepted and most actions in one: a format is typed by a person. */
#define TEMPLATE_MAX_LENGTH 4096
#define TEMPLATE_MAX_ACTIONS 256

struct template;

/* Parses text. Returns 0, or -EINVAL with a message ("template: unclosed action") or -ENOMEM. */
int template_parse(const char *text, struct template **ret, char **reterr);
/* A --format value: NULL or "json" give no template (*ret NULL: one JSON line per object),
 * anything else is parsed. */
int template_parse_format(const char *format, struct template **ret, char **reterr);
/* Renders the template over obj into a new string (*ret, caller frees). A field obj lacks is an
 * error naming it (-EINVAL), never an empty string: a typo must not look like an empty value. */
int template_render(const struct template *t, json_t *obj, char **ret, char **reterr);
/* Prints obj through t and a newline, or obj as one JSON line when t is NULL (--format json);
 * obj NULL is -ENOMEM (a failed builder's result). */
int template_print(const struct template *t, json_t *obj, char **reterr);
void template_free(struct template *t);

static inline void template_freep(struct template **t)
{
	if (*t)
		template_free(*t);
}
#define _cleanup_template_ __attribute__((cleanup(template_freep)))
