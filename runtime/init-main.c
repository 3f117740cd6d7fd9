/* containd-init: the program every container's init runs (from a sealed memfd copy). */
#include <stdbool.h>
#include <string.h>

#include "runtime/process.h"

/* containd-init [PREPARE_DIR [userns]]: the starter's choice of where to prepare the default
 * mounts (runtime/process.c). */
int main(int argc, char **argv)
{
	rt_init_main(argc > 1 ? argv[1] : NULL, argc > 2 && strcmp(argv[2], "userns") == 0);
}
