/* containd-init: the program every container's init runs (from a sealed memfd copy). */
#include "runtime/process.h"

int main(void)
{
	rt_init_main();
}
