/* engine/native/native.h: what the compiled tier takes beyond engine.h.
 *
 * Imports of globals, memories and tables: engine.h links functions only (sharing them between
 * the modules of a manifest is issue 17).  Until then the compiled tier accepts them as
 * exn_import_value_t of kind EXN_EXTERN_GLOBAL, _MEMORY or _TABLE whose `env` points to one of
 * the structures below, and gives the instance its own copy: a global with that value, a memory
 * of that size, a table of that size (null elements) - what the wasm3 tier's spec runner does
 * too (tests/spec/spec_run.c).  Nothing is shared: a later write by either side is not seen by
 * the other.
 * May call: engine.h. */
#ifndef EXN_NATIVE_H
#define EXN_NATIVE_H

#include "engine/engine.h"

typedef struct {
    uint64_t value; /* one slot (engine.h) */
} exn_nglobal_import_t;

typedef struct {
    uint64_t pages, max_pages; /* current size and maximum, in 64 KiB pages */
} exn_nmemory_import_t;

typedef struct {
    uint32_t size, max; /* current size and maximum, in elements */
} exn_ntable_import_t;

#endif
