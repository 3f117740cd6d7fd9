/* containd-init: the program every container's init runs (from a sealed memfd copy). */
#include <stdbool.h>
#include <string.h>

#include "runtime/process.h"

/* containd-init [PREPARE_DIR [userns]]: the starter's choice of where to prepare the default
 * mounts (runtime/process.c); containd-init exec: an exec process (runtime/exec.h). */
int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], RT_INIT_EXEC_MODE) == 0)
		rt_exec_main();
	rt_init_main(argc > 1 ? argv[1] : NULL, argc > 2 && strcmp(argv[2], "userns") == 0);
}
