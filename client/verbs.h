/* What cctl's network and volume verbs share: a verb that calls the daemon once per operand and
 * goes on after a refusal (inspect, rm), ls rows printed quiet, through a template or to a table,
 * create's --label list and prune's confirmation prompt. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "client/conn.h"
#include "client/template.h"

/* Handles one operand over conn: 0 done, 1 refused (its message already printed, the verb goes
 * on and exits 1 at the end), -errno to stop the verb with the message in *reterr. */
typedef int (*verbs_operand_fn)(struct conn *conn, const char *name, void *data, char **reterr);

/* Connects conn to the daemon at socket_path and calls method with params (stolen, even on
 * failure): 0 with the result in *reply, 1 when the daemon refused (its message printed, as
 * conn_call_report()), or -errno with a message. */
int verbs_call(const char *socket_path, struct conn *conn, const char *method, json_t *params, struct conn_msg *reply,
	       char **reterr);

/* A create verb's call: method with params (stolen; NULL is -ENOMEM, a failed encoder's result)
 * through verbs_call(), then the result's string field key (the new object's id or name) on a
 * line. Returns 0, 1 when refused, or -errno. */
int verbs_create(const char *socket_path, const char *method, json_t *params, const char *key, char **reterr);

/* Connects to the daemon at socket_path and runs fn for each of the n names in order. Returns 0,
 * 1 when fn refused at least one, or the first -errno. */
int verbs_operands(const char *socket_path, char *const *names, size_t n, verbs_operand_fn fn, void *data,
		   char **reterr);

/* What an inspect verb asks of the daemon for each name, and how it shows the result. */
struct verbs_inspect_ops {
	const char *method;
	/* The request's params for one name (a new reference, NULL on ENOMEM). */
	json_t *(*params)(const char *method, const char *name);
	/* The result as the user sees it (a new reference), or NULL to show it as the daemon sent it. */
	json_t *(*shape)(json_t *result);
	/* json_dumps() flags for the JSON array printed without --format. */
	size_t dump_flags;
};

/* docker's NAME inspect for each name: with format (--format, "json" included) each result
 * through it, else all of them as one indented JSON array; a refused name is reported and
 * skipped. Returns 0, 1 when a name was refused, or -errno. */
int verbs_inspect(const char *socket_path, const struct verbs_inspect_ops *verb, const char *format, char *const *names,
		  size_t n, char **reterr);

/* Prints one ls row the quiet or --format way: with quiet the row's field quiet_key, with format
 * the row through t (NULL for json). Returns 1 when neither applies and the row belongs in the
 * caller's table, 0 when it was printed, or -errno (-ENOMEM for a NULL row). */
int verbs_row(bool quiet, const char *format, const struct template *t, json_t *row, const char *quiet_key,
	      char **reterr);

/* Appends --label's argument to the NULL-terminated *labels of *n entries, "KEY" as "KEY=".
 * Returns 0 or -ENOMEM (*labels stays valid for strv_free() either way). */
int verbs_label_append(char ***labels, size_t *n, const char *arg);

/* Prints warning and docker's "Are you sure you want to continue? [y/N] " and reads the answer:
 * true for an answer starting with y or Y; otherwise prints a newline and returns false. */
bool verbs_confirm(const char *warning);
