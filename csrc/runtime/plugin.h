/* plugin.h: the plugin object of the runtime: its compiled plugin, the instances of its
 * modules, the contexts its imports work on (the kernel's, WASI's, one per host function) and
 * the state of the call in progress.  Only runtime/ and the libextism API (api/) see inside it:
 * imports see their own context (exn_caller_t.env). */
#ifndef EXN_PLUGIN_H
#define EXN_PLUGIN_H

#include "compiled.h"
#include "engine/engine.h"
#include "hostfn.h"
#include "instance.h"
#include "kernel/kernel.h"
#include "support/internal.h"
#include "support/os.h"
#include "validate/module_info.h"

/* how many modules besides main a trap's backtrace shows (a chain of imports deeper than
 * this shows its innermost modules and main) */
#define EXN_MAX_TRAP_MODULES 8

/* The cancel handle of a plugin: the address of its call-state word. */
struct ExtismCancelHandle {
    volatile uint32_t *state;
};

struct ExtismPlugin {
    /* Who may use the plugin: the exn_os_thread_id of the thread running a call (or changing
     * its settings), 0 when free; taken with a CAS, waited for in plugin.c (wait_for_plugin),
     * which detects wait-for cycles between threads.  Held for the whole of a call. */
    volatile uintptr_t holder;
    volatile uint32_t waiters;    /* threads waiting for `holder` (woken through the global lock) */
    volatile uint32_t closing;    /* exn_plugin_close began: calls fail, the running one stops */
    volatile uint32_t call_state; /* watchdog.h bits + generation; the engine reads bit 0 */
    ExtismCancelHandle cancel;
    uint64_t timeout_ns;  /* the manifest's timeout_ms (0: none), kept past close */
    int64_t fuel_left[2]; /* with fuel (compiled->fuel): what is left of the budget (the sum;
                               * all in [0] between calls), refilled at the start of each call
                               * (and of creation: start functions); the engines take from it
                               * (exn_instance_config_t.fuel) */
    bool keep_kmem;       /* host code holds views of kernel memory: only extism_plugin_free
                               * releases it (exn_current_plugin_keep_memory) */

    ExtismCompiledPlugin *compiled; /* what does not change: modules, functions, settings */
    exn_module_t *mods;             /* instances of the compiled plugin's modules, same order */
    size_t n_mods;
    exn_module_t *main; /* the one whose exports can be called */
    size_t *order;      /* instantiation order (imported modules first) */
    size_t n_order;
    /* the modules other than main a trap of this call came through, innermost first: their
     * instances hold their part of the backtrace (backtrace.c); reset at each call */
    exn_module_t *trap_mods[EXN_MAX_TRAP_MODULES];
    size_t n_trap_mods;

    /* the contexts of the imports (what each import's environment is) */
    exn_kernel_t kernel;         /* extism:host/env: kernel memory, vars, config, logging, HTTP,
                               * the call's trap text; a host function's ExtismCurrentPlugin */
    struct exn_wasi *wasi;       /* wasi_snapshot_preview1 (with_wasi only) */
    exn_hostfn_env_t *host_envs; /* one per host function of the compiled plugin */

    bool initialized;                /* every module's initialiser has run */
    uintptr_t stack_limit;           /* the native stack limit the runtimes have */
    const char *last_name;           /* export lookup cache: name bytes last called (a copy) */
    const exn_export_t *last_export; /* ... and what is known about it: */
    bool last_is_start;
    bool last_returns_i32;
    bool restart;        /* re-instantiate first: the last call was to `_start`, or ended
                               * with an engine error (is_engine_error) */
    bool closed;         /* exn_plugin_close ran: only the object itself is left */
    bool tier_watch;     /* auto tier, instances on the interpreter: count guest time,
                               * move to compiled code when it is ready (tiering.h) */
    uint32_t tier_calls; /* calls while watching; 1 in tier_mask + 1 is timed */
    uint32_t tier_mask;

    /* the last call */
    int32_t exit_code; /* of a WASI proc_exit */
    char *errmsg;      /* detail of the last failure, "" if none (owned) */
    size_t errmsg_cap;
    bool has_error; /* extism_plugin_error returns errmsg */
    const uint8_t *output;
    uint64_t output_len;
};

/** True if a call of `p` is running on the calling thread (it holds `p`). */
EXN_INTERNAL bool exn_plugin_running_here(const ExtismPlugin *p);

/** Hold `p` for a change of its settings (waits while a call of another thread runs; a no-op
 *  on the thread running a call of `p`, e.g. from a host function).  Returns false if `p` is
 *  closed or closing (then nothing is held).  Every true return needs exn_plugin_unhold with
 *  the same `inside`. */
EXN_INTERNAL bool exn_plugin_hold(ExtismPlugin *p, bool *inside);
EXN_INTERNAL void exn_plugin_unhold(ExtismPlugin *p, bool inside);

/** Replace the error text (Copied). */
/** exn_plugin_trap_backtrace with `p` held by the caller (backtrace.c). */
EXN_INTERNAL size_t exn_plugin_backtrace_held(ExtismPlugin *p, exn_trap_frame_t *frames,
                                              size_t max);

EXN_INTERNAL exn_status_t exn_plugin_set_errmsg(ExtismPlugin *p, const char *text, size_t len);

#endif
