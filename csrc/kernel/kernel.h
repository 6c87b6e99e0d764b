/* kernel.h: the Extism kernel - the extism:host/env imports (spec section 1.2), one C function
 * per import, named after it, and the context they work on (exn_kernel_t): kernel memory with
 * the input / output / error registers, vars, config, logging, the HTTP state, the message of
 * a trap.  Nothing here knows the plugin that holds the context: the imports are
 * exn_hostcall_fn (engine/engine.h) whose environment is the exn_kernel_t; `sp` holds the
 * result slot(s) first, then the arguments, one 64-bit slot each (an i32 in the low 32 bits).
 * A non-NULL return stops the guest (the exn_trap_* sentinels of engine.h; the text is in
 * trap_msg).  The import names and signatures appear once, in the table of kernel_link.c.
 *
 * The context is also what a host function sees as its ExtismCurrentPlugin (runtime/hostfn.c):
 * kernel memory, the host context of the call, a way to fail or set the call's error. */
#ifndef EXN_KERNEL_H
#define EXN_KERNEL_H

#include "engine/engine.h"
#include "kernel/kernel_mem.h"
#include "support/internal.h"
#include "support/strmap.h"

typedef struct exn_kernel {
    exn_kmem_t kmem;     /* kernel memory; input, output and error of the call */
    exn_strmap_t vars;   /* persist across calls */
    exn_strmap_t config; /* starts as a copy of the manifest's */
    uint64_t max_var_bytes;
    uint8_t id[16]; /* the plugin's UUIDv4, for log lines */

    /* logging (kernel_log.c) */
    int32_t log_level;      /* EXN_LOG_* threshold, or EXN_LOG_ASK */
    int32_t call_log_level; /* level asked for during this call (EXN_LOG_ASK: not yet) */
    exn_log_fn log_fn;      /* NULL: the process-wide sink */
    void *log_userdata;

    /* HTTP (kernel_http.c) */
    exn_http_transport_fn transport; /* NULL: the process-wide one */
    void *transport_userdata;
    char *const *allowed_hosts; /* Borrowed (the compiled plugin's); NULL: deny all */
    size_t n_allowed_hosts;
    uint64_t max_http_response_bytes;
    int32_t http_status; /* of the last request; persists across calls */
    bool http_headers_enabled;
    exn_strmap_t http_headers; /* of the last response */

    /* the call in progress */
    volatile uint32_t *call_state; /* the interrupt word (support/watchdog.h) */
    uint64_t deadline_ns;          /* of the running call (0: none), for HTTP requests */
    void *host_context;            /* the caller's, for host functions */
    bool host_failed;              /* a host function called exn_current_plugin_fail */
    char trap_msg[512];            /* why an import trapped */
} exn_kernel_t;

/* What a kernel starts from. */
typedef struct {
    uint64_t memory_limit_bytes; /* kernel memory may grow to this */
    uint64_t max_var_bytes;
    uint64_t max_http_response_bytes;
    char *const *allowed_hosts; /* Borrowed: must outlive the kernel */
    size_t n_allowed_hosts;
    const exn_strmap_t *config;    /* Copied */
    volatile uint32_t *call_state; /* Borrowed: must outlive the kernel */
    const uint8_t *id;             /* 16 bytes, Copied */
} exn_kernel_config_t;

/** Set up a kernel context.  Returns EXN_OK or EXN_ERR_NOMEM (then exn_kernel_free is still
 *  fine to call). */
EXN_INTERNAL exn_status_t exn_kernel_init(exn_kernel_t *k, const exn_kernel_config_t *config);
/** Free what the context holds; kernel memory too if `memory` (otherwise it stays for host
 *  code still holding views of it: exn_current_plugin_keep_memory).  Again is harmless. */
EXN_INTERNAL void exn_kernel_free(exn_kernel_t *k, bool memory);

/** The context of the kernel import being called. */
static inline exn_kernel_t *exn_kernel_of(const exn_caller_t *caller)
{
    return (exn_kernel_t *)caller->env;
}

/** Record why an import traps; returns exn_trap_kernel for the import to return. */
EXN_INTERNAL exn_trap_t exn_kernel_trap(exn_kernel_t *k, const char *fmt, ...) EXN_PRINTF(2, 3);

/** Resolve a handle argument as the official host functions do (spec 1.4): 0 is the empty
 *  string; a live block is its bytes; anything else is invalid (returns false). */
EXN_INTERNAL bool exn_kernel_resolve(exn_kernel_t *k, uint64_t h, const uint8_t **out_data,
                                     uint64_t *out_len);

/* ---- the imports ------------------------------------------------------------------------- */

/* kernel_mem_imports.c */
EXN_IMPORT(kernel_alloc);
EXN_IMPORT(kernel_free);
EXN_IMPORT(kernel_length);
EXN_IMPORT(kernel_length_unsafe);
EXN_IMPORT(kernel_load_u8);
EXN_IMPORT(kernel_load_u64);
EXN_IMPORT(kernel_store_u8);
EXN_IMPORT(kernel_store_u64);
EXN_IMPORT(kernel_reset);
EXN_IMPORT(kernel_memory_bytes);

/* kernel_io.c */
EXN_IMPORT(kernel_input_length);
EXN_IMPORT(kernel_input_load_u8);
EXN_IMPORT(kernel_input_load_u64);
EXN_IMPORT(kernel_input_offset);
EXN_IMPORT(kernel_input_set);
EXN_IMPORT(kernel_output_set);
EXN_IMPORT(kernel_output_length);
EXN_IMPORT(kernel_output_offset);
EXN_IMPORT(kernel_error_set);
EXN_IMPORT(kernel_error_get);

/* kernel_state.c */
EXN_IMPORT(kernel_config_get);
EXN_IMPORT(kernel_var_get);
EXN_IMPORT(kernel_var_set);

/* kernel_log.c */
EXN_IMPORT(kernel_log_trace);
EXN_IMPORT(kernel_log_debug);
EXN_IMPORT(kernel_log_info);
EXN_IMPORT(kernel_log_warn);
EXN_IMPORT(kernel_log_error);
EXN_IMPORT(kernel_get_log_level);

/* kernel_http.c */
EXN_IMPORT(kernel_http_request);
EXN_IMPORT(kernel_http_status_code);
EXN_IMPORT(kernel_http_headers);

/** Look up an extism:host/env import.  Returns its signature and implementation, or NULL
 *  if the kernel has no such function. */
typedef struct exn_kernel_import {
    const char *name;
    const char *signature; /* letters, result first: "I(I)" = (i64) -> i64 (i i32, I i64, v none) */
    exn_hostcall_fn fn;
} exn_kernel_import_t;

EXN_INTERNAL const exn_kernel_import_t *exn_kernel_find(const char *name);

/* ---- logging (kernel_log.c) -------------------------------------------------------------- */

/* The process-wide log sink used by plugins without their own logger. */
EXN_INTERNAL int32_t exn_log_global_level(void);
EXN_INTERNAL void exn_log_global_write(const uint8_t id[16], int32_t level, const char *msg,
                                       size_t len);

/* A line of the runtime itself (not of a guest) to the process-wide sink, if `level` passes
 * its threshold: target extism_native::runtime, the nil plugin id. */
EXN_INTERNAL void exn_log_runtime(int32_t level, const char *msg);

/** The threshold the guest sees (asks the context's logger at most once per call). */
EXN_INTERNAL int32_t exn_kernel_log_level(exn_kernel_t *k);

/** Route this context's guest logs to `fn` with threshold `level` (exn_plugin_set_logger). */
EXN_INTERNAL void exn_kernel_set_logger(exn_kernel_t *k, int32_t level, exn_log_fn fn,
                                        void *userdata);

#endif
