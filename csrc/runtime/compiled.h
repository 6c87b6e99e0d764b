/* compiled.h: a compiled plugin - everything about a plugin that does not change once it is
 * made and can be shared by any number of instances: the modules' bytes (hashed, validated and
 * described once), their names, their code (made by the engine), where their imports come
 * from, the host functions, and the manifest's settings.
 *
 * It is reference counted: the creator holds one reference and every plugin made from it
 * another, so a compiled plugin may be freed while its plugins live on.  Immutable after
 * creation (but for its tier, tiering.h), so instances on different threads may share it. */
#ifndef EXN_COMPILED_H
#define EXN_COMPILED_H

#include "engine/engine.h"
#include "manifest/manifest.h"
#include "support/internal.h"
#include "support/strmap.h"
#include "validate/module_info.h"

/* Where an import of a module comes from (spec 3.5, 6.4). */
typedef enum {
    EXN_IMPORT_NONE,
    EXN_IMPORT_HOST,   /* a host function: fn */
    EXN_IMPORT_KERNEL, /* extism:host/env: kernel */
    EXN_IMPORT_WASI,   /* wasi_snapshot_preview1: wasi */
    EXN_IMPORT_MODULE  /* function, memory or global `index` (the import's kind) of module
                        * `module` of the manifest */
} exn_import_kind_t;

typedef struct {
    exn_import_kind_t kind;
    const ExtismFunction *fn;
    size_t fn_index; /* of fn in the compiled plugin's fns */
    const struct exn_kernel_import *kernel;
    const struct exn_wasi_import *wasi;
    size_t module;
    uint32_t index;
} exn_import_target_t;

typedef struct {
    char *name;    /* the name other modules import it by; "main" for the main module */
    uint8_t *wasm; /* the engine keeps pointers into these bytes while any instance lives */
    size_t wasm_len;
    exn_module_info_t info;       /* its description (the validator's) */
    exn_import_target_t *targets; /* where each import comes from (info.imports order) */
    exn_code_t *code;             /* made once by the engine; instances share it */
    exn_code_t *ncode;            /* auto tier: the compiled tier's code, made in the background
                                   * (tiering.h); NULL until then */
} exn_module_def_t;

struct ExtismCompiledPlugin {
    exn_refcount_t refs;
    exn_module_def_t *defs;
    size_t n_defs;
    size_t main;          /* index of the main module */
    ExtismFunction **fns; /* host functions (one reference each) */
    size_t n_fns;
    bool with_wasi;
    uint64_t fuel;              /* the fuel budget of each call (0: no fuel); its compiled-tier code
                    * counts fuel (EXN_NATIVE_FUEL) */
    const exn_engine_t *engine; /* what made `code` (tiering.h picks what runs the modules) */

    /* tiering (tiering.h): the only fields that change after creation */
    int tier;                               /* EXN_TIER_AUTO, _INTERP or _NATIVE */
    volatile uint32_t tier_state;           /* EXN_TIER_STATE_* */
    volatile uint64_t tier_hot_ns;          /* guest time counted on the interpreter (auto) */
    char tier_why[600];                     /* how it got to its state (under the global lock) */
    struct ExtismCompiledPlugin *tier_next; /* in the list of those compiling (tiering.c) */

    /* from the manifest */
    exn_strmap_t config; /* each plugin starts with a copy */
    uint64_t max_var_bytes;
    uint64_t max_http_response_bytes;
    bool has_max_pages;
    uint32_t max_pages;
    uint64_t timeout_ns; /* 0: none */
    char **allowed_hosts;
    size_t n_allowed_hosts;
    exn_manifest_path_t *allowed_paths;
    size_t n_allowed_paths;
};

/** Read, load, hash-check and validate a plugin's modules, compile them with the engine and
 *  resolve every import; `tier` is an exn_tier_t (tiering.h), `fuel` the budget of a call
 *  (0: none).  Returns EXN_OK and a compiled plugin with one reference, or an error
 *  status (EXN_ERR_MANIFEST, _LOAD, _LINK, _NOMEM, _MISUSE, _UNSUPPORTED) with a message. */
EXN_INTERNAL exn_status_t exn_compiled_new(const uint8_t *data, size_t len,
                                           const ExtismFunction **functions, size_t n_functions,
                                           bool with_wasi, int tier, uint64_t fuel,
                                           ExtismCompiledPlugin **out, char *errbuf,
                                           size_t errbuf_len);

#define EXN_MAX_LINK_VALUES 128 /* parameters/results of a function imported from a module */

/** Resolve one import of `def` (types are not compared: creation already checked them). */
EXN_INTERNAL exn_import_target_t exn_resolve_import(const ExtismCompiledPlugin *c,
                                                    const exn_module_def_t *def,
                                                    const exn_import_t *im);

EXN_INTERNAL void exn_compiled_retain(ExtismCompiledPlugin *c);
EXN_INTERNAL void exn_compiled_release(ExtismCompiledPlugin *c);

#endif
