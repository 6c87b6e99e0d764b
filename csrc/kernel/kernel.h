/* kernel.h: the extism:host/env imports (spec section 1.2), one C function per import, named
 * after it.  They are exn_hostcall_fn (engine/engine.h): `sp` holds the result slot(s) first,
 * then the arguments, one 64-bit slot each (an i32 in the low 32 bits).  A non-NULL return
 * stops the guest (the exn_trap_* sentinels of engine.h).  The import names and signatures
 * appear once, in the table of kernel_link.c. */
#ifndef EXN_KERNEL_H
#define EXN_KERNEL_H

#include "engine/engine.h"
#include "runtime/plugin.h"

#define EXN_IMPORT(name) EXN_INTERNAL exn_trap_t name(const exn_caller_t *caller, uint64_t *sp)

/* slot access (engine.h): argument i, the result */
static inline uint64_t exn_arg_u64(const uint64_t *sp, int i) { return exn_slot_u64(&sp[i]); }
static inline uint32_t exn_arg_u32(const uint64_t *sp, int i) { return exn_slot_u32(&sp[i]); }
static inline void exn_ret_u64(uint64_t *sp, uint64_t v) { exn_slot_set_u64(&sp[0], v); }
static inline void exn_ret_u32(uint64_t *sp, uint32_t v) { exn_slot_set_u32(&sp[0], v); }

/* kernel_mem.c */
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

/* http.c */
EXN_IMPORT(kernel_http_request);
EXN_IMPORT(kernel_http_status_code);
EXN_IMPORT(kernel_http_headers);

/** Resolve a handle argument as the official host functions do (spec 1.4): 0 is the empty
 *  string; a live block is its bytes; anything else is invalid (returns false). */
EXN_INTERNAL bool exn_kernel_resolve(ExtismPlugin *p, uint64_t h, const uint8_t **out_data,
                                     uint64_t *out_len);

/** Look up an extism:host/env import.  Returns its signature and implementation, or NULL
 *  if the kernel has no such function. */
typedef struct exn_kernel_import {
    const char *name;
    const char *signature; /* letters, result first: "I(I)" = (i64) -> i64 (i i32, I i64, v none) */
    exn_hostcall_fn fn;
} exn_kernel_import_t;

EXN_INTERNAL const exn_kernel_import_t *exn_kernel_find(const char *name);

/* kernel_log.c: the process-wide log sink used by plugins without their own logger. */
EXN_INTERNAL int32_t exn_log_global_level(void);
EXN_INTERNAL void exn_log_global_write(const uint8_t id[16], int32_t level, const char *msg,
                                       size_t len);

/** The threshold a plugin's guest sees (asks the plugin's logger at most once per call). */
EXN_INTERNAL int32_t exn_plugin_log_level(ExtismPlugin *p);

#endif
