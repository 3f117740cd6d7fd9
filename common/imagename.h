/* Image references as Docker spells them: [registry[:port]/]path[:tag]. "alpine" means
 * "alpine:latest"; "docker.io/library/alpine" is the same image as "alpine". */
#pragma once

/* Parses and normalizes ref into "repository:tag" (default tag "latest", the docker.io and
 * docker.io/library/ prefixes dropped). Returns -EINVAL with a message on a malformed name. */
int image_name_normalize(const char *ref, char **ret, char **reterr);
