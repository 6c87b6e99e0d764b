/* plugin.h: the plugin object shared by the core's files: its wasm3 instance, kernel memory,
 * vars, config, logging and the state of the call in progress. */
#ifndef EXN_PLUGIN_H
#define EXN_PLUGIN_H

#include "compiled.h"
#include "instance.h"
#include "support/internal.h"
#include "kernel/kernel_mem.h"
#include "validate/module_info.h"
#include "support/os.h"
#include "support/strmap.h"
#include "support/vmem.h"

#include "wasm3.h"

/* Why a kernel import, host function or interrupt stopped the guest.  Their addresses are
 * returned to wasm3 as trap results; the text is in the plugin's trap message. */
EXN_INTERNAL extern const char exn_trap_kernel[];  /* kernel refused: text in p->trap_msg */
EXN_INTERNAL extern const char exn_trap_host[];    /* host function failed */
EXN_INTERNAL extern const char exn_trap_exit[];    /* WASI proc_exit: code in p->exit_code */
EXN_INTERNAL extern const char exn_trap_http[];    /* an HTTP request failed: text in trap_msg */

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
    volatile uint32_t call_state; /* watchdog.h bits + generation; wasm3 reads bit 0 */
    ExtismCancelHandle cancel;
    uint64_t deadline_ns;     /* of the running call (0: none), for HTTP requests */
    uint64_t timeout_ns;      /* the manifest's timeout_ms (0: none), kept past close */
    bool keep_kmem;           /* host code holds views of kernel memory: only extism_plugin_free
                               * releases it (exn_current_plugin_keep_memory) */

    /* HTTP (http.c) */
    exn_http_transport_fn transport; /* NULL: the process-wide one */
    void *transport_userdata;
    int32_t http_status;      /* of the last request; persists across calls */
    bool http_headers_enabled;
    exn_strmap_t http_headers; /* of the last response */
    exn_atomic_int busy;      /* a call is running */
    uintptr_t owner;          /* thread running the call (0 when idle) */
    uint8_t id[16];           /* UUIDv4 */

    ExtismCompiledPlugin *compiled; /* what does not change: modules, functions, settings */
    exn_module_t *mods;       /* instances of the compiled plugin's modules, same order */
    size_t n_mods;
    exn_module_t *main;       /* the one whose exports can be called */
    size_t *order;            /* instantiation order (imported modules first) */
    size_t n_order;
    struct exn_wasi *wasi;    /* WASI context (with_wasi only) */
    bool initialized;         /* every module's initialiser has run */
    uintptr_t stack_limit;    /* the native stack limit the runtimes have */
    const char *last_name;    /* export lookup cache: name bytes last called (a copy) */
    const exn_export_t *last_export; /* ... and what is known about it: */
    bool last_is_start;
    bool last_returns_i32;
    bool restart;             /* re-instantiate first: the last call was to `_start`, or ended
                               * with an engine error (is_engine_error) */
    bool closed;              /* exn_plugin_close ran: only the object itself is left */

    exn_kmem_t kmem;
    exn_strmap_t vars;
    exn_strmap_t config;      /* starts as a copy of the manifest's */

    int32_t log_level;        /* EXN_LOG_* threshold, or EXN_LOG_ASK */
    int32_t call_log_level;   /* level asked for during this call (EXN_LOG_ASK: not yet) */
    exn_log_fn log_fn;        /* NULL: the process-wide sink (kernel_log.c) */
    void *log_userdata;

    /* the call in progress / the last call */
    void *host_context;
    int32_t exit_code;
    bool host_failed;         /* a host function called exn_current_plugin_fail */
    char trap_msg[512];       /* why a kernel import trapped */
    char *errmsg;             /* detail of the last failure, "" if none (owned) */
    size_t errmsg_cap;
    bool has_error;           /* extism_plugin_error returns errmsg */
    const uint8_t *output;
    uint64_t output_len;
};

/** The plugin that owns a wasm3 runtime (kernel imports use this). */
static inline ExtismPlugin *exn_plugin_of(IM3Runtime runtime)
{
    return (ExtismPlugin *)m3_GetUserData(runtime);
}

/** Record why a kernel import traps; returns exn_trap_kernel for the import to return. */
EXN_INTERNAL const void *exn_plugin_kernel_trap(ExtismPlugin *p, const char *fmt, ...)
    EXN_PRINTF(2, 3);

/** True if a call of `p` is running on the calling thread (it holds `p`). */
EXN_INTERNAL bool exn_plugin_running_here(const ExtismPlugin *p);

/** Hold `p` for a change of its settings (waits while a call of another thread runs; a no-op
 *  on the thread running a call of `p`, e.g. from a host function).  Returns false if `p` is
 *  closed or closing (then nothing is held).  Every true return needs exn_plugin_unhold with
 *  the same `inside`. */
EXN_INTERNAL bool exn_plugin_hold(ExtismPlugin *p, bool *inside);
EXN_INTERNAL void exn_plugin_unhold(ExtismPlugin *p, bool inside);

/** Replace the error text (Copied). */
EXN_INTERNAL exn_status_t exn_plugin_set_errmsg(ExtismPlugin *p, const char *text, size_t len);

#endif
