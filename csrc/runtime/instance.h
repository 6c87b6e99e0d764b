/* instance.h: the instances of a plugin's modules (spec sections 3.4, 6.4, 7.4), made by the
 * compiled plugin's engine (engine/engine.h): linking imports (host functions, the kernel,
 * WASI, other modules of the manifest), instantiating in dependency order, running start
 * functions and initialisers once, and the native stack limit of every instance.
 * What the modules are (bytes, names, imports, code) is shared, in the compiled plugin. */
#ifndef EXN_INSTANCE_H
#define EXN_INSTANCE_H

#include "compiled.h"
#include "engine/engine.h"
#include "support/internal.h"

typedef struct exn_link exn_link_t;

/* The instance of one module of the manifest.  Each has its own linear memory; calls into
 * another module go through a trampoline (module_call in instance.c). */
typedef struct exn_module {
    const exn_module_def_t *def; /* in the plugin's compiled plugin */
    exn_instance_t *inst;        /* NULL until instantiated */
    bool initialized;            /* its guest-runtime initialiser has run */
    int visit;                   /* ordering (instance.c): 0 not yet, 1 on the path, 2 placed */

    exn_link_t *links; /* imports from other modules (their environments) */
    size_t n_links;
} exn_module_t;

/** Instantiate every module (imported modules first), link, run start functions. */
EXN_INTERNAL exn_status_t exn_instances_new(ExtismPlugin *p, char *errbuf, size_t errbuf_len);

/** Auto tier, between calls, once the compiled plugin's compiled code is ready: move every
 *  module's instance from the interpreter to it (new instances with the old ones' memory and
 *  globals; start functions and initialisers do not run again).  All or nothing: false, and
 *  why in errbuf, when a module cannot move (its code changes tables or drops segments: that
 *  state cannot be carried over) - the plugin then stays on the interpreter. */
EXN_INTERNAL bool exn_instances_to_native(ExtismPlugin *p, char *errbuf, size_t errbuf_len);

/** Drop every instance (the modules' bytes and infos stay, for exn_instances_new again). */
EXN_INTERNAL void exn_instances_free(ExtismPlugin *p);

/** Before guest code runs on this thread: set every instance's native stack limit. */
EXN_INTERNAL void exn_instances_enter(ExtismPlugin *p);

/** Run the guest-runtime initialisers that have not run yet, imported modules first and the
 *  main module last (spec 3.4).  On failure returns the trap and sets *out_what to the
 *  function that failed. */
EXN_INTERNAL exn_trap_t exn_instances_initialise(ExtismPlugin *p, const char **out_what);

/** Call function `index` of module m (engine.h's `call`: parameters in slots, then results). */
static inline exn_trap_t exn_module_call(exn_module_t *m, uint32_t index, uint64_t *slots)
{
    return m->inst->engine->call(m->inst, index, slots);
}

#endif
