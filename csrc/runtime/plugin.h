/* plugin.h: the plugin object shared by the core's files: its instances, kernel memory,
 * vars, config, logging and the state of the call in progress. */
#ifndef EXN_PLUGIN_H
#define EXN_PLUGIN_H

#include "compiled.h"
#include "engine/engine.h"
#include "instance.h"
#include "kernel/kernel_mem.h"
#include "support/internal.h"
#include "support/os.h"
#include "support/strmap.h"
#include "support/vmem.h"
#include "validate/module_info.h"

/* The cancel handle of a plugin: the address of its call-state word. */
struct ExtismCancelHandle {
    volatile uint32_t *state;
};

struct ExtismPlugin {
    exn_mutex_t *lock;        /* held for the whole of a call */
    volatile uint32_t call_state; /* watchdog.h bits + generation; the engine reads bit 0 */
    ExtismCancelHandle cancel;
    uint64_t deadline_ns;     /* of the running call (0: none), for HTTP requests */

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

/** The plugin an import is called for (the instances' userdata). */
static inline ExtismPlugin *exn_plugin_of(const exn_caller_t *caller)
{
    return (ExtismPlugin *)exn_instance_userdata(caller->instance);
}

/** Record why a kernel import traps; returns exn_trap_kernel for the import to return. */
EXN_INTERNAL exn_trap_t exn_plugin_kernel_trap(ExtismPlugin *p, const char *fmt, ...)
    EXN_PRINTF(2, 3);

/** True if a call of `p` is running on the calling thread (its lock is held here). */
EXN_INTERNAL bool exn_plugin_running_here(const ExtismPlugin *p);

/** Replace the error text (Copied). */
EXN_INTERNAL exn_status_t exn_plugin_set_errmsg(ExtismPlugin *p, const char *text, size_t len);

#endif
