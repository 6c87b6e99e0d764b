/* extism.h: the libextism C API (names, types and semantics of Extism runtime v1.13), served by
 * extism_native's engine (wasm3 + a native Extism kernel).  C, C++, Cython and ctypes code written
 * against libextism works unchanged.  Our additions live in extism_native.h.
 *
 * Conventions used below:
 *   Borrowed (valid until X) - do not free; do not use after X.
 *   Copied                   - the function keeps its own copy; the argument may go away.
 *   Takes ownership          - the function frees the argument.
 *   Returns owned            - the caller frees the result with the function named.
 * Threads: one call at a time per plugin (calls on one plugin are serialized: another thread's
 * call waits, within its timeout; a re-entrant call from a host function, and a wait that
 * would deadlock, fail at once); different plugins may run concurrently; extism_plugin_cancel
 * may be called from any thread.  The output and error text of a call are borrowed from the
 * plugin: with several threads calling one plugin, use exn_call (extism_native.h), which
 * copies them before the next call can begin.
 */
#ifndef EXTISM_H
#define EXTISM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbols are exported from the shared library build (libextism_native). */
#if defined(_WIN32) && defined(EXN_BUILDING_SHARED)
#define EXTISM_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define EXTISM_API __attribute__((visibility("default")))
#else
#define EXTISM_API
#endif

/** Declares a host function with the ExtismFunctionType signature. */
#define EXTISM_FUNCTION(N)                                                                         \
    extern void N(ExtismCurrentPlugin *, const ExtismVal *, ExtismSize, ExtismVal *, ExtismSize,   \
                  void *)
/** Return code of extism_plugin_call for a successful call. */
#define EXTISM_SUCCESS 0
/** Value type of an Extism pointer (a kernel memory handle). */
#define EXTISM_PTR ExtismValType_I64

/** WebAssembly value types (V128, FuncRef and ExternRef cannot cross the host-function bridge). */
typedef enum {
    ExtismValType_I32 = 0,
    ExtismValType_I64 = 1,
    ExtismValType_F32 = 2,
    ExtismValType_F64 = 3,
    ExtismValType_V128 = 4,
    ExtismValType_FuncRef = 5,
    ExtismValType_ExternRef = 6
} ExtismValType;

typedef struct ExtismCancelHandle ExtismCancelHandle;
typedef struct ExtismCompiledPlugin ExtismCompiledPlugin;
typedef struct ExtismCurrentPlugin ExtismCurrentPlugin;
typedef struct ExtismFunction ExtismFunction;
typedef struct ExtismPlugin ExtismPlugin;

/** An offset into kernel memory (0 = null). */
typedef uint64_t ExtismMemoryHandle;
typedef uint64_t ExtismSize;

typedef union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
} ExtismValUnion;

/** A typed value passed to or returned from a host function (16 bytes, value at offset 8). */
typedef struct {
    ExtismValType t;
    ExtismValUnion v;
} ExtismVal;

/** A host function.  `inputs` hold the guest's arguments; `outputs` arrive typed and zeroed and
 *  are read back after the function returns.  `data` is the user data given to
 *  extism_function_new.  The plugin can be reached through `plugin` during the call only. */
typedef void (*ExtismFunctionType)(ExtismCurrentPlugin *plugin, const ExtismVal *inputs,
                                   ExtismSize n_inputs, ExtismVal *outputs, ExtismSize n_outputs,
                                   void *data);

/** Receives one buffered log line from extism_log_drain: `size` bytes ending with a newline
 *  (as Extism's runtime sends them); `data` is also NUL-terminated. */
typedef void (*ExtismLogDrainFunctionType)(const char *data, ExtismSize size);

/* ---- plugins -------------------------------------------------------------------------------- */

/** Create a plugin from a wasm binary or a JSON manifest (`wasm`, `wasm_size` bytes, Copied).
 *  `functions`: host functions to link (Borrowed: they may be freed or reused afterwards).
 *  `with_wasi`: provide wasi_snapshot_preview1.
 *  Returns the plugin (free with extism_plugin_free), or NULL with `*errmsg` set to an owned
 *  message ("Unable to compile Extism plugin: ...", free with extism_plugin_new_error_free);
 *  `errmsg` may be NULL. */
EXTISM_API ExtismPlugin *extism_plugin_new(const uint8_t *wasm, ExtismSize wasm_size,
                                           const ExtismFunction **functions, ExtismSize n_functions,
                                           bool with_wasi, char **errmsg);

/** As extism_plugin_new with a per-call fuel limit (0: none): every call may use fuel_limit
 *  units, one per entry of a wasm function and per entry of a loop (not wasmtime's units),
 *  the same on both tiers; a call that needs more fails with rc -1 and "plugin ran out of
 *  fuel" (exn_plugin_fuel_used tells what the last call used). */
EXTISM_API ExtismPlugin *extism_plugin_new_with_fuel_limit(const uint8_t *wasm,
                                                           ExtismSize wasm_size,
                                                           const ExtismFunction **functions,
                                                           ExtismSize n_functions, bool with_wasi,
                                                           uint64_t fuel_limit, char **errmsg);

/** Free an error message returned by a constructor (NULL is ignored). */
EXTISM_API void extism_plugin_new_error_free(char *err);

/** Free a plugin and everything it owns (NULL is ignored).  Must not race with any other use
 *  of it (exn_plugin_close, extism_native.h, may: it cancels and waits for a running call). */
EXTISM_API void extism_plugin_free(ExtismPlugin *plugin);

/** Pointer to the plugin's 16-byte UUIDv4.  Borrowed (valid until the plugin is freed). */
EXTISM_API const uint8_t *extism_plugin_id(ExtismPlugin *plugin);

/** Merge `json` (an object of string -> string or null; null removes a key) into the config.
 *  Returns false, leaving the config unchanged, if the JSON is invalid or a value is neither a
 *  string nor null.  Copied. */
EXTISM_API bool extism_plugin_config(ExtismPlugin *plugin, const uint8_t *json,
                                     ExtismSize json_size);

/** True if the main module exports `func_name` as a function of type () -> () or () -> i32. */
EXTISM_API bool extism_plugin_function_exists(ExtismPlugin *plugin, const char *func_name);

/** Call export `func_name` with `data` (Borrowed for the call).  Returns the return code:
 *  the export's i32 result (0 for no result), -1 when the call failed before or outside the
 *  guest (error text in extism_plugin_error), 134 for a trap, the exit code of WASI proc_exit.
 *  A plugin error (error_set) makes extism_plugin_error non-NULL whatever the code. */
EXTISM_API int32_t extism_plugin_call(ExtismPlugin *plugin, const char *func_name,
                                      const uint8_t *data, ExtismSize data_len);

/** As extism_plugin_call; `host_context` is returned by extism_current_plugin_host_context to
 *  host functions during this call. */
EXTISM_API int32_t extism_plugin_call_with_host_context(ExtismPlugin *plugin, const char *func_name,
                                                        const uint8_t *data, ExtismSize data_len,
                                                        void *host_context);

/** Error text of the last call, or NULL if it succeeded (also NULL when it only returned a
 *  non-zero code).  Borrowed (valid until the next call, reset or free). */
EXTISM_API const char *extism_plugin_error(ExtismPlugin *plugin);

/** Deprecated alias of extism_plugin_error. */
EXTISM_API const char *extism_error(ExtismPlugin *plugin);

/** Length of the last call's output. */
EXTISM_API ExtismSize extism_plugin_output_length(ExtismPlugin *plugin);

/** The last call's output bytes.  Borrowed (valid until the next call, reset or free). */
EXTISM_API const uint8_t *extism_plugin_output_data(ExtismPlugin *plugin);

/** Free every kernel memory block now (invalidates the output and all handles: the output
 *  length becomes 0).  Returns false if the plugin is closed. */
EXTISM_API bool extism_plugin_reset(ExtismPlugin *plugin);

/** Let the plugin read response headers through the http_headers import. */
EXTISM_API void extism_plugin_allow_http_response_headers(ExtismPlugin *plugin);

/** The plugin's cancel handle.  Borrowed (valid until the plugin is freed).  It exists before
 *  any guest code runs: a cancel also stops a first call stuck in an initialiser. */
EXTISM_API const ExtismCancelHandle *extism_plugin_cancel_handle(const ExtismPlugin *plugin);

/** Stop the call running on the handle's plugin (from any thread); the call returns 134 with
 *  the error "cancelled" (Extism's runtime says "timeout").  Does nothing, and is not
 *  remembered, when no call is running.  Returns true if a call was running (Extism's runtime
 *  returns true in both cases). */
EXTISM_API bool extism_plugin_cancel(const ExtismCancelHandle *handle);

/* ---- compiled plugins ------------------------------------------------------------------------ */

/** Parse and validate once; create many plugins with extism_plugin_new_from_compiled.
 *  Arguments as extism_plugin_new.  Free with extism_compiled_plugin_free. */
EXTISM_API ExtismCompiledPlugin *extism_compiled_plugin_new(const uint8_t *wasm,
                                                            ExtismSize wasm_size,
                                                            const ExtismFunction **functions,
                                                            ExtismSize n_functions, bool with_wasi,
                                                            char **errmsg);

/** As extism_compiled_plugin_new with a per-call fuel limit for every plugin made from it
 *  (see extism_plugin_new_with_fuel_limit). */
EXTISM_API ExtismCompiledPlugin *
extism_compiled_plugin_new_with_fuel_limit(const uint8_t *wasm, ExtismSize wasm_size,
                                           const ExtismFunction **functions, ExtismSize n_functions,
                                           bool with_wasi, uint64_t fuel_limit, char **errmsg);

/** Free a compiled plugin (NULL is ignored); plugins made from it stay valid. */
EXTISM_API void extism_compiled_plugin_free(ExtismCompiledPlugin *compiled);

/** Create a plugin from a compiled plugin.  NULL and `*errmsg` ("Unable to create Extism
 *  plugin: ...") on failure. */
EXTISM_API ExtismPlugin *extism_plugin_new_from_compiled(const ExtismCompiledPlugin *compiled,
                                                         char **errmsg);

/* ---- host functions ---------------------------------------------------------------------- */

/** Create a host function `name` (UTF-8, Copied) in namespace "extism:host/user" with the given
 *  parameter and result types (Copied).  `user_data` is passed to `func` on every call and
 *  `free_user_data` (may be NULL) runs exactly once when the function and every plugin that
 *  linked it are freed - also if plugin creation fails.  Returns owned (extism_function_free),
 *  or NULL if `name` is not UTF-8 or a type cannot cross the bridge. */
EXTISM_API ExtismFunction *extism_function_new(const char *name, const ExtismValType *inputs,
                                               ExtismSize n_inputs, const ExtismValType *outputs,
                                               ExtismSize n_outputs, ExtismFunctionType func,
                                               void *user_data, void (*free_user_data)(void *));

/** Drop the caller's reference to a host function (NULL is ignored). */
EXTISM_API void extism_function_free(ExtismFunction *f);

/** Set the import module name of a host function (Copied). */
EXTISM_API void extism_function_set_namespace(ExtismFunction *f, const char *namespace_);

/** Base of kernel memory: block data of handle h is at base + h.  Borrowed, valid during the
 *  host call until the next allocation (which may move it). */
EXTISM_API uint8_t *extism_current_plugin_memory(ExtismCurrentPlugin *plugin);

/** Allocate n bytes of kernel memory; 0 on failure or when n == 0. */
EXTISM_API ExtismMemoryHandle extism_current_plugin_memory_alloc(ExtismCurrentPlugin *plugin,
                                                                 ExtismSize n);

/** Length of block h, 0 if h is not the start of a live block. */
EXTISM_API ExtismSize extism_current_plugin_memory_length(ExtismCurrentPlugin *plugin,
                                                          ExtismMemoryHandle h);

/** Free block h (ignored if h is not the start of a live block). */
EXTISM_API void extism_current_plugin_memory_free(ExtismCurrentPlugin *plugin,
                                                  ExtismMemoryHandle h);

/** The host context given to extism_plugin_call_with_host_context, or NULL. */
EXTISM_API void *extism_current_plugin_host_context(ExtismCurrentPlugin *plugin);

/* ---- logging (process-wide) --------------------------------------------------------------- */

/** Send guest logs of plugins without a log handler of their own to a file ("stdout",
 *  "stderr" and "-" mean the streams).  `log_level`: trace, debug, info, warn, error or off
 *  (NULL = error).  Returns false on a bad level or an unopenable file. */
EXTISM_API bool extism_log_file(const char *filename, const char *log_level);

/** Buffer guest logs (as extism_log_file) until extism_log_drain is called. */
EXTISM_API bool extism_log_custom(const char *log_level);

/** Pass each buffered line to `handler`, then empty the buffer. */
EXTISM_API void extism_log_drain(ExtismLogDrainFunctionType handler);

/** Version of this runtime (extism_native's version, e.g. "0.1.0").  Borrowed (static). */
EXTISM_API const char *extism_version(void);

#ifdef __cplusplus
}
#endif

#endif
