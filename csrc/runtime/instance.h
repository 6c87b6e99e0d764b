/* instance.h: the wasm3 instances of a plugin's modules (spec sections 3.4, 6.4, 7.4): linking
 * imports (host functions, the kernel, WASI, other modules of the manifest), instantiating in
 * dependency order, running initialisers once, and the native stack limit of every runtime.
 * What the modules are (bytes, names, imports) is shared, in the compiled plugin. */
#ifndef EXN_INSTANCE_H
#define EXN_INSTANCE_H

#include "compiled.h"
#include "support/internal.h"
#include "support/vmem.h"

#include "wasm3.h"

typedef struct exn_link exn_link_t;

/* The instance of one module of the manifest.  Each has its own wasm3 environment, runtime and
 * linear memory (a wasm3 runtime has one memory); calls into another module go through a
 * trampoline. */
typedef struct exn_module {
    const exn_module_def_t *def; /* in the plugin's compiled plugin */

    IM3Environment env;
    IM3Runtime runtime;
    IM3Module module;
    exn_vmem_t memory;   /* the linear memory (wasm3 patch 0001) */
    exn_vmem_t stack;    /* wasm3's value stack (patch 0053): resident only where used */
    bool initialized;    /* its guest-runtime initialiser has run */
    int visit;           /* instantiation: 0 not yet, 1 in progress, 2 done */

    exn_link_t *links;   /* imports from other modules */
    size_t n_links;
} exn_module_t;

/** Instantiate every module (imported modules first), link, run start sections. */
EXN_INTERNAL exn_status_t exn_instances_new(ExtismPlugin *p, char *errbuf, size_t errbuf_len);

/** Drop every instance (the modules' bytes and infos stay, for exn_instances_new again). */
EXN_INTERNAL void exn_instances_free(ExtismPlugin *p);

/** Before guest code runs on this thread: set every runtime's native stack limit. */
EXN_INTERNAL void exn_instances_enter(ExtismPlugin *p);

/** Run the guest-runtime initialisers that have not run yet, imported modules first and the
 *  main module last (spec 3.4).  On failure returns the trap and sets *out_what to the
 *  function that failed. */
EXN_INTERNAL M3Result exn_instances_initialise(ExtismPlugin *p, const char **out_what);

/** Call function `index` of module m with the given arguments (pointers to i32/i64/f32/f64). */
EXN_INTERNAL M3Result exn_module_call(exn_module_t *m, uint32_t index, uint32_t argc,
                                      const void **args);

#endif
