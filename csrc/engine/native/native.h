/* engine/native/native.h: what the compiled tier takes beyond engine.h.
 *
 * Imports of globals, memories and tables: another compiled-tier instance's are shared as
 * engine.h says (exn_import_value_t.from, issue 17).  Besides, the compiled tier accepts them as
 * exn_import_value_t of kind EXN_EXTERN_GLOBAL, _MEMORY or _TABLE whose `env` points to one of
 * the structures below, and gives the instance its own copy: a global with that value, a memory
 * of that size, a table of that size (null elements) - how the spec runners provide the
 * `spectest` module's: a later write by either side is not seen by the other.
 * May call: engine.h. */
#ifndef EXN_NATIVE_H
#define EXN_NATIVE_H

#include "engine/engine.h"

typedef struct {
    uint64_t value;    /* one slot (engine.h) */
    uint64_t value_hi; /* a v128's second slot (bytes 8-15) */
} exn_nglobal_import_t;

typedef struct {
    uint64_t pages, max_pages; /* current size and maximum, in 64 KiB pages */
} exn_nmemory_import_t;

typedef struct {
    uint32_t size, max; /* current size and maximum, in elements */
} exn_ntable_import_t;

/* ---- for the runtime ---------------------------------------------------------------------- */

#define EXN_NATIVE_CACHED_ONLY 1u /* never run the compiler: EXN_ERR_NOT_FOUND when not cached */
#define EXN_NATIVE_FUEL                                                                            \
    2u /* code that counts fuel (engine.h, exn_instance_config_t.fuel):
                                   * its own translation and cache entry */

/** exn_engine_native.compile with options: with EXN_NATIVE_CACHED_ONLY it returns at once, with
 *  the code if the cache has it (a few ms for a 2 MB module: the module's SHA-256, reading and
 *  checking the library, dlopen) or EXN_ERR_NOT_FOUND - so a plugin can start on compiled code
 *  when it can, and on wasm3 (compiling in the background) when it cannot.  Otherwise as
 *  compile: translate, build, store in the cache (seconds to minutes), EXN_ERR_UNSUPPORTED with
 *  the reason when the tier cannot run the module here (no compiler, Windows...). */
EXN_INTERNAL exn_status_t exn_native_compile(const exn_module_info_t *info, const uint8_t *wasm,
                                             size_t len, unsigned flags, exn_code_t **out,
                                             char *errbuf, size_t errbuf_len);

/** Whether the tier can work here at all, and which compiler it would use (for the runtime's
 *  one INFO line): EXN_OK with "gcc (Debian 12.2.0-14) 12.2.0" in buf, or EXN_ERR_UNSUPPORTED
 *  with the reason.  The first call looks for the compiler (runs it: ~10 ms); later calls
 *  return what it found. */
EXN_INTERNAL exn_status_t exn_native_probe(char *buf, size_t buf_len);

/** The engine plugins should use by the environment (until the runtime's tiering is in place):
 *  EXTISM_NATIVE_TIER=native: the compiled tier (compiling when the plugin is created, and
 *  failing if it cannot); unset, "interp" or "auto": wasm3. */
EXN_INTERNAL const exn_engine_t *exn_native_engine_from_env(void);

/** The cache directory in use (created if needed) into buf; EXN_ERR_UNSUPPORTED with the reason
 *  when there is none (the tier then compiles every time). */
EXN_INTERNAL exn_status_t exn_native_cache_dir(char *buf, size_t buf_len);

#endif
