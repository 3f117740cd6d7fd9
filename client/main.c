/* Placeholder until cctl lands. */
#include <stdio.h>
int main(void) { fprintf(stderr, "cctl: not built yet\n"); return 125; }
