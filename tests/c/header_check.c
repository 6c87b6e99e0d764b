/* The public headers compile alone, with nothing included before them. */
#include "extism_native.h"
#include "extism.h"

int header_check_c(void);
int header_check_c(void) { return EXTISM_SUCCESS + (int)sizeof(ExtismVal); }
