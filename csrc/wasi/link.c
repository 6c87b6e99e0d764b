/* wasi/link.c: the one table of wasi_snapshot_preview1 imports (name, wasm3 signature,
 * implementation).  Empty until the WASI implementation lands: every WASI import is then
 * reported as unresolved at load. */
#include "wasi.h"

static const exn_wasi_import_t table[] = {{NULL, NULL, NULL}};

const exn_wasi_import_t *exn_wasi_find(const char *name)
{
    for (size_t i = 0; table[i].name; i++) {
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    }
    return NULL;
}
