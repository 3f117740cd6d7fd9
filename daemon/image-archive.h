/* image.load and image.save on the event loop: the load worker (image/archive-read.h) and the
 * save worker (image/archive-write.h) run as confined children watched through their pidfds; a
 * loaded archive's images are registered with image_store_add_manifest(). */
#pragma once

#include <jansson.h>

struct image_store;
struct image_load;
struct image_save;

/* Called once when a load finishes: r is 0 with images ([{"id":"sha256:…","names":[…]},…],
 * borrowed) or -errno with a message. */
typedef void (*image_load_done_fn)(int r, json_t *images, const char *errmsg, void *userdata);

/* Starts loading the archive read from fd (taken over, closed even on failure). Returns 0 and
 * the load (done is called later from the loop, never from inside this call), or -errno with a
 * message. Nothing of a failed load is stored: the worker's directory goes, and blobs enter the
 * store only once the whole archive was read and checked. */
int image_load_start(struct image_store *s, int fd, image_load_done_fn done, void *userdata, struct image_load **ret,
		     char **reterr);
/* Removes the directories of loads a previous daemon left in ingest/ (it died during a load);
 * called once at start, before any load runs. */
void image_load_sweep(struct image_store *s);
/* Stops a load (its worker killed and reaped, its directory removed); done is not called. */
void image_load_free(struct image_load *l);

/* Called once when a save finishes: r is 0, or -errno with a message. */
typedef void (*image_save_done_fn)(int r, const char *errmsg, void *userdata);

/* Starts writing the archive of the images refs name (names or ids) to fd (taken over, closed
 * even on failure). Returns 0 and the save (done is called later), or -errno with a message:
 * -ENOENT for an image that does not exist. */
int image_save_start(struct image_store *s, char **refs, int fd, image_save_done_fn done, void *userdata,
		     struct image_save **ret, char **reterr);
/* Stops a save (its worker killed and reaped); done is not called. */
void image_save_free(struct image_save *sv);
