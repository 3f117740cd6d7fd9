/* Removal of big directory trees (image layers, failed imports) outside the event loop: a tree is
 * renamed into a trash directory, so it disappears at once and atomically, and a short-lived
 * child process deletes whatever the trash holds. A trash left by a crash is emptied at the next
 * open. */
#pragma once

struct event_base;
struct image_trash;

/* Creates dir (mode 0700) if needed and starts emptying what a previous run left in it. dir must
 * be on the same filesystem as the trees that will be put into it. */
int image_trash_open(struct event_base *base, const char *dir, struct image_trash **ret, char **reterr);

/* Moves path into the trash and makes sure a remover runs. Falls back to deleting path in place
 * (blocking) when it cannot be moved or no child can be started. 0 or -errno. */
int image_trash_put(struct image_trash *t, const char *path);

/* Waits for a running remover to finish (so no deletion is left half done on purpose), then
 * frees. Anything still in the trash is removed at the next open. */
void image_trash_free(struct image_trash *t);
