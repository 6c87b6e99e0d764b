// The public headers compile alone as C++.
#include "extism_native.h"

int header_check_cxx() { return EXTISM_SUCCESS + static_cast<int>(sizeof(ExtismVal)); }
