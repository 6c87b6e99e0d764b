/* hostfn.h: user host functions (spec section 3.5): the ExtismFunction object, how imports are
 * resolved against a plugin's functions, and the one exn_hostcall_fn that calls them. */
#ifndef EXN_HOSTFN_H
#define EXN_HOSTFN_H

#include "engine/engine.h"
#include "kernel/kernel.h"
#include "support/internal.h"
#include "validate/module_info.h"

#define EXN_HOSTFN_MAX_VALUES 64 /* parameters or results of one host function */

struct ExtismFunction {
    exn_refcount_t refs; /* the creator's reference + one per compiled plugin that links it */
    char *name;
    char *ns;             /* import module name, "extism:host/user" by default */
    ExtismValType *types; /* params then results */
    uint32_t n_params, n_results;
    ExtismFunctionType fn; /* one of fn and flat is set */
    exn_host_fn flat;
    void *user_data;
    void (*free_user_data)(void *);
};

/** Take a reference (a plugin linking the function). */
EXN_INTERNAL void exn_hostfn_retain(ExtismFunction *f);

/** Drop a reference; the last one runs free_user_data (exactly once) and frees the function. */
EXN_INTERNAL void exn_hostfn_release(ExtismFunction *f);

/** The index of the function among `fns` that provides import module::name (the last one
 *  wins, as in the official runtime), or n. */
EXN_INTERNAL size_t exn_hostfn_find(ExtismFunction *const *fns, size_t n, const char *module,
                                    const char *name);

/** True if `f` has exactly the wasm type `t`. */
EXN_INTERNAL bool exn_hostfn_matches(const ExtismFunction *f, const exn_functype_t *t);

/** Write `f`'s type like "(i64) -> (i64)". */
EXN_INTERNAL void exn_hostfn_format(const ExtismFunction *f, char *buf, size_t buf_len);

/* A host function's context in one plugin: the function, and the kernel context the host
 * function sees as its ExtismCurrentPlugin. */
typedef struct {
    ExtismFunction *fn;
    exn_kernel_t *kernel;
} exn_hostfn_env_t;

/** The import function of every host function (its environment is an exn_hostfn_env_t). */
EXN_INTERNAL exn_trap_t exn_hostfn_call(const exn_caller_t *caller, uint64_t *sp);

#endif
