/* image.load and image.save: image archives (OCI image layout, docker save) in and out, the
 * archive travelling as the request's one fd. */
#pragma once

#include <jansson.h>

#define PROTO_M_IMAGE_LOAD "image.load"
#define PROTO_M_IMAGE_SAVE "image.save"
/* A load or save that failed for a reason of the archive or the store (the message says which). */
#define PROTO_E_LOAD "load_failed"
#define PROTO_E_SAVE "save_failed"

/* Most images one image.save may name. */
#define PROTO_SAVE_MAX_NAMES 256

/* image.load: no params; exactly one fd, the archive (read to its end). */
int proto_image_load_params_decode(json_t *params, unsigned nfds, char **reterr);

/* One loaded image: its id and the normalized names the archive gave it (maybe none). */
struct proto_loaded_image {
	const char *id;
	json_t *names; /* array of strings, borrowed */
};
/* {"images":[{"id":...,"names":[...]},...]}; takes the reference to images. */
json_t *proto_image_load_result_encode(json_t *images);
/* The images of a result, checked: an array whose items proto_loaded_image_decode accepts. */
json_t *proto_image_load_result_items(json_t *result, char **reterr);
int proto_loaded_image_decode(json_t *item, struct proto_loaded_image *ret, char **reterr);

/* image.save: "names" (names or ids, 1 to PROTO_SAVE_MAX_NAMES); exactly one fd, where the
 * archive is written. Result {}. */
struct proto_image_save_params {
	char **names;
};
int proto_image_save_params_decode(json_t *params, unsigned nfds, struct proto_image_save_params *ret,
				   char **reterr);
json_t *proto_image_save_params_encode(const struct proto_image_save_params *p);
void proto_image_save_params_done(struct proto_image_save_params *p);
