/* extism_native.h: what extism_native adds to the libextism API (extism.h): status codes that
 * keep failure kinds apart, constructors and calls that report them, per-plugin logging and a
 * few accessors.  Names follow exn_<object>_<verb>.  The Python binding is built on these. */
#ifndef EXTISM_NATIVE_H
#define EXTISM_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "extism.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Outcome of a fallible call.  Detail text: exn_plugin_errmsg(p), or the caller's errbuf for
 *  constructors. */
typedef enum {
    EXN_OK = 0,
    EXN_ERR_MISUSE = 1,       /* bad argument, closed object, re-entrant call, deadlock */
    EXN_ERR_NOMEM = 2,        /* out of memory (host or kernel memory) */
    EXN_ERR_MANIFEST = 3,     /* invalid manifest or unreadable wasm source */
    EXN_ERR_LOAD = 4,         /* malformed or invalid wasm module */
    EXN_ERR_LINK = 5,         /* unresolved or mistyped imports */
    EXN_ERR_NOT_FOUND = 6,    /* no exported function of that name */
    EXN_ERR_SIGNATURE = 7,    /* the export has a type a plugin call cannot use */
    EXN_ERR_GUEST = 8,        /* the plugin reported failure: error text and/or non-zero code */
    EXN_ERR_TRAP = 9,         /* wasm trap, or the kernel refused an operation */
    EXN_ERR_EXIT = 10,        /* WASI proc_exit with a non-zero code */
    EXN_ERR_HOST = 11,        /* a host function failed (exn_current_plugin_fail) */
    EXN_ERR_CANCELLED = 12,   /* stopped by extism_plugin_cancel */
    EXN_ERR_TIMEOUT = 13,     /* stopped by the manifest's timeout_ms or a per-call timeout */
    EXN_ERR_UNSUPPORTED = 14, /* a feature extism_native does not implement */
    EXN_ERR_HTTP = 15         /* an HTTP request of the guest failed or was not allowed */
} exn_status_t;

/** Log levels as the guest sees them through get_log_level. */
enum {
    EXN_LOG_TRACE = 0,
    EXN_LOG_DEBUG = 1,
    EXN_LOG_INFO = 2,
    EXN_LOG_WARN = 3,
    EXN_LOG_ERROR = 4,
    EXN_LOG_OFF = 2147483647,
    EXN_LOG_ASK = -1 /* exn_plugin_set_logger: ask the callback for the level */
};

/** Result of exn_plugin_call. */
typedef struct {
    const uint8_t *output; /* Borrowed (valid until the next call, reset or free) */
    uint64_t output_len;
    int32_t rc; /* what extism_plugin_call would return */
    /* When the call could not begin (bad arguments, re-entrant call, the plugin closed, or
     * busy on another thread past the deadline or in a deadlock): why, a static text; the
     * plugin's own message (exn_plugin_errmsg) is then unchanged.  Otherwise NULL. */
    const char *why;
} exn_call_result_t;

/** Receives a guest log line (`msg`, `len` bytes, UTF-8, not NUL-terminated) at `level` and
 *  returns 0, or non-zero to stop the guest (the call then fails with EXN_ERR_HOST).  When `msg`
 *  is NULL it is asked for the threshold instead and returns an EXN_LOG_* level.  Runs on the
 *  calling thread, inside the plugin call. */
typedef int32_t (*exn_log_fn)(void *userdata, int32_t level, const char *msg, size_t len);

/** Stable name of a status ("EXN_ERR_TRAP"). */
EXTISM_API const char *exn_status_name(exn_status_t status);

/** As extism_plugin_new, reporting the kind of failure.  On failure `*out_plugin` is NULL and a
 *  message is written to `errbuf` (always NUL-terminated when errbuf_len > 0).  Start
 *  functions run here, under the manifest's timeout_ms.
 *  Returns EXN_OK, EXN_ERR_MANIFEST, _LOAD, _LINK, _NOMEM, _MISUSE, _UNSUPPORTED or _TIMEOUT (a
 *  start function ran past timeout_ms). */
EXTISM_API exn_status_t exn_plugin_new(const uint8_t *data, size_t len,
                                       const ExtismFunction **functions, size_t n_functions,
                                       bool with_wasi, ExtismPlugin **out_plugin, char *errbuf,
                                       size_t errbuf_len);

/** Validate WebAssembly bytes (a binary module, not a manifest) as plugin creation does before
 *  anything is compiled: the WebAssembly 2.0 binary format and validation rules.  On failure a
 *  message naming the function or section, the byte offset and the reason is written to
 *  `errbuf` (always NUL-terminated when errbuf_len > 0).
 *  Returns EXN_OK, EXN_ERR_LOAD (malformed or invalid), EXN_ERR_UNSUPPORTED (valid, but uses a
 *  feature past 2.0 such as threads, or exceeds an implementation limit), EXN_ERR_NOMEM, or
 *  EXN_ERR_MISUSE (wasm is NULL and len is not 0).
 *  Ownership: borrows `wasm` for the duration of the call.  Threads: any. */
EXTISM_API exn_status_t exn_module_validate(const uint8_t *wasm, size_t len, char *errbuf,
                                            size_t errbuf_len);

/* exn_plugin_call timeouts */
#define EXN_TIMEOUT_DEFAULT ((int64_t)-1) /* the manifest's timeout_ms, if any */
#define EXN_TIMEOUT_NONE ((int64_t)-2)    /* no timeout for this call */

/** As extism_compiled_plugin_new, reporting the kind of failure (see exn_plugin_new).
 *  Free with extism_compiled_plugin_free. */
EXTISM_API exn_status_t exn_compiled_plugin_new(const uint8_t *data, size_t len,
                                                const ExtismFunction **functions,
                                                size_t n_functions, bool with_wasi,
                                                ExtismCompiledPlugin **out_compiled, char *errbuf,
                                                size_t errbuf_len);

/** Execution tiers: what runs a plugin's code (README "Tiers", docs/RATIONALE.md). */
typedef enum {
    EXN_TIER_DEFAULT =
        0,             /* the environment's EXTISM_NATIVE_TIER (auto, interp, native), else auto */
    EXN_TIER_AUTO = 1, /* start on the interpreter at once (on compiled code at once when the
                           * cache has it); once the plugin's calls have run EXTISM_NATIVE_HOT_MS
                           * (default 100) ms of guest code, compile in the background; then new
                           * instances use the compiled code and existing ones move to it at
                           * their next call.  Without a C compiler (or for a module the
                           * compiled tier cannot run) everything stays on the interpreter */
    EXN_TIER_INTERP = 2, /* the interpreter only */
    EXN_TIER_NATIVE = 3  /* compiled code only: compile now (or load from the cache) and wait;
                           * creation fails with EXN_ERR_UNSUPPORTED when it cannot */
} exn_tier_t;

/** Options of exn_compiled_plugin_new_with_options; zero-initialise, then set `size`. */
typedef struct {
    uint32_t size; /* sizeof(exn_compile_options_t): later versions append fields */
    int32_t tier;  /* exn_tier_t */
    uint64_t fuel; /* 0: none; else the fuel budget of every call of its plugins: one unit per
                    * entry of a wasm function and per entry of a loop (the first and each
                    * branch back), the same on both tiers; a call that needs more fails
                    * with EXN_ERR_TRAP, "fuel" in its message (exn_plugin_fuel_used) */
} exn_compile_options_t;

/** As exn_compiled_plugin_new, with options (NULL: the defaults). */
EXTISM_API exn_status_t exn_compiled_plugin_new_with_options(const uint8_t *data, size_t len,
                                                             const ExtismFunction **functions,
                                                             size_t n_functions, bool with_wasi,
                                                             const exn_compile_options_t *options,
                                                             ExtismCompiledPlugin **out_compiled,
                                                             char *errbuf, size_t errbuf_len);

/** Where a compiled plugin stands (exn_compiled_plugin_tier). */
typedef enum {
    EXN_TIER_STATE_INTERP = 0,    /* on the interpreter for good (why: the reason) */
    EXN_TIER_STATE_WATCHING = 1,  /* auto: on the interpreter, compiling once it is hot */
    EXN_TIER_STATE_COMPILING = 2, /* auto: compiling in the background */
    EXN_TIER_STATE_NATIVE = 3     /* compiled code: new instances use it, existing ones move to
                                   * it at their next call (if they can: why) */
} exn_tier_state_t;

/** Fuel (exn_compile_options_t.fuel): the units the plugin's last call used (0 without fuel;
 *  the whole budget when the call ran out), and the budget of each call (0: none).  Read them
 *  between calls, on the thread that made the last one. */
EXTISM_API uint64_t exn_plugin_fuel_used(const ExtismPlugin *p);
EXTISM_API uint64_t exn_plugin_fuel_limit(const ExtismPlugin *p);

/** The tier state of a compiled plugin (exn_tier_state_t), and in `why` (may be NULL) a
 *  sentence on how it got there ("tier=interp", "no C compiler found: ...").
 *  Threads: any. */
EXTISM_API int exn_compiled_plugin_tier(ExtismCompiledPlugin *compiled, char *why, size_t why_len);

/** Auto tier: start compiling now instead of when the plugin is hot, and wait until the
 *  compiled code is ready for at most `timeout_ns` (0: do not wait; EXN_TIMEOUT_NONE: as long
 *  as it takes).  Returns EXN_OK (compiled code ready), EXN_ERR_TIMEOUT (still compiling),
 *  EXN_ERR_UNSUPPORTED (the compiled tier cannot run it here, or the plugin was made with
 *  tier interp: the reason in errbuf).  Threads: any. */
EXTISM_API exn_status_t exn_compiled_plugin_compile_native(ExtismCompiledPlugin *compiled,
                                                           int64_t timeout_ns, char *errbuf,
                                                           size_t errbuf_len);

/** Compile a wasm module (bytes, not a manifest) for the compiled tier and store it in its
 *  cache, so that plugins made from it later in any process start on compiled code (the auto
 *  tier) - ahead of time, e.g. in a build step (`python -m extism_native compile`).  Imports
 *  need not be resolvable.  On success the cache entry's origin ("compiled in 2.3 s",
 *  "already in the cache") is in errbuf.  Returns EXN_OK, EXN_ERR_LOAD (invalid module),
 *  EXN_ERR_UNSUPPORTED (the compiled tier cannot run it here: why), EXN_ERR_NOMEM. */
EXTISM_API exn_status_t exn_native_precompile(const uint8_t *wasm, size_t len, char *errbuf,
                                              size_t errbuf_len);

/** The engine running a plugin's instances now: "interp" or "native" (NULL: closed). */
EXTISM_API const char *exn_plugin_engine(ExtismPlugin *p);

/** Whether the compiled tier can work in this process: EXN_OK and the C compiler it uses in
 *  buf, or EXN_ERR_UNSUPPORTED and the reason.  The first call looks for the compiler (runs
 *  it, ~10 ms).  Threads: any. */
EXTISM_API exn_status_t exn_native_available(char *buf, size_t buf_len);

/** A new instance of a compiled plugin: its own memory, globals, vars, config copy and kernel
 *  memory, sharing the compiled plugin's modules and functions (the compiled plugin may be
 *  freed before it).  Returns EXN_OK, EXN_ERR_LOAD (a start function failed), _TIMEOUT (a
 *  start function ran past the manifest's timeout_ms), _NOMEM, ... */
EXTISM_API exn_status_t exn_plugin_new_from_compiled(ExtismCompiledPlugin *compiled,
                                                     ExtismPlugin **out_plugin, char *errbuf,
                                                     size_t errbuf_len);

/** Call export `name` with `input`; on EXN_OK read the output from `out`.
 *  `timeout_ns`: EXN_TIMEOUT_DEFAULT, EXN_TIMEOUT_NONE, or the most this call may take, from
 *  this function's entry: waiting for the plugin (busy on another thread), start functions of
 *  re-created instances, initialisers (_initialize, __wasm_call_ctors, hs_init), copying the
 *  input and the export itself all count.
 *  Returns EXN_OK, or _NOT_FOUND, _SIGNATURE, _GUEST, _TRAP, _EXIT, _HOST, _CANCELLED, _TIMEOUT,
 *  _NOMEM, _MISUSE; `out->rc` is set in every case and the text is in exn_plugin_errmsg(p), or
 *  in out->why when the call could not begin.
 *  Ownership: borrows `name` and `input` for the duration of the call.
 *  Threads: one call at a time per plugin: another thread's call waits, until its deadline;
 *  a re-entrant call from a host function, and a wait that would deadlock (threads whose
 *  host functions call each other's busy plugins), return EXN_ERR_MISUSE at once.  Different
 *  plugins run concurrently. */
EXTISM_API exn_status_t exn_plugin_call(ExtismPlugin *p, const char *name, const uint8_t *input,
                                        size_t input_len, void *host_context, int64_t timeout_ns,
                                        exn_call_result_t *out);

/** Release the plugin's instances, memory and settings: calls from then on, and calls waiting
 *  for the plugin, fail with EXN_ERR_MISUSE ("closed").  A call running on another thread is
 *  cancelled (it stops at its next loop iteration or function entry, a host function running
 *  to its end, and returns EXN_ERR_CANCELLED) and waited for.  The object itself, its id,
 *  cancel handle and the compiled plugin stay until extism_plugin_free, which still has to be
 *  called (by the last user: never while another thread is inside a function given `p`); so
 *  does kernel memory after exn_current_plugin_keep_memory.  Returns EXN_OK, or EXN_ERR_MISUSE
 *  when called from inside one of the plugin's own calls (a host function). */
EXTISM_API exn_status_t exn_plugin_close(ExtismPlugin *p);

/** 1 if a call of `p` is running on the calling thread (so a host function of `p` is calling),
 *  else 0.  Lets a binding tell a re-entrant call from a call waiting for another thread. */
EXTISM_API int exn_plugin_is_running_here(const ExtismPlugin *p);

/** The state of calls through exn_call, one per calling thread at a time (bindings keep a
 *  few per plugin): zero it, set `plugin`, and the other inputs when they change; the outputs
 *  are written by each call.  Free its buffer with exn_call_release. */
typedef struct {
    ExtismPlugin *plugin;
    void *host_context; /* input: given to host functions */
    int64_t timeout_ns; /* input: as for exn_plugin_call */
    /* output: after a success the output bytes, after a failure the error text (both
     * NUL-terminated).  Copied into this struct's own buffer while the call still held the
     * plugin: valid until the next exn_call with this struct or exn_call_release, whatever
     * other threads do with the plugin. */
    const char *output;
    int32_t rc;        /* output: as for exn_plugin_call */
    int32_t status;    /* output: the exn_status_t of the call */
    int32_t has_error; /* output, after a failure: 1 if the text is the plugin's own error
                           * (what extism_plugin_error gives; possibly empty), else 0 */
    uint8_t *buf_;     /* private */
    size_t cap_;       /* private */
    void *frames_;     /* private: the trap's frames (exn_call_frames) */
    size_t n_frames_;  /* private */
} exn_call_t;

/** exn_plugin_call for bindings that call often: returns the output length (>= 0) when the
 *  call succeeded, or -1 when it failed (c->status and c->output say why). */
EXTISM_API int64_t exn_call(exn_call_t *c, const char *name, const uint8_t *input,
                            size_t input_len);

/** Free the buffer of `c` (not the plugin).  `c` may be used again. */
EXTISM_API void exn_call_release(exn_call_t *c);

/** A thread, for stopping its calls from a signal handler. */
typedef struct exn_thread exn_thread_t;

/** The calling thread.  Valid while the thread lives. */
EXTISM_API exn_thread_t *exn_thread_self(void);

/** Stop the innermost plugin call running on thread `t` (it ends with EXN_ERR_CANCELLED), and
 *  a wait of `t` for a plugin busy on another thread.  Async-signal-safe, but only when called
 *  on thread `t` itself (a signal handler running on it). */
EXTISM_API void exn_thread_interrupt(exn_thread_t *t);

/** Detail of the last failure on `p` ("" if none).  For EXN_ERR_GUEST it is the plugin's own
 *  error text.  Borrowed (valid until the next call on `p`). */
EXTISM_API const char *exn_plugin_errmsg(ExtismPlugin *p);

/** Exit code of the last call that ended in WASI proc_exit (0 otherwise). */
EXTISM_API int32_t exn_plugin_exit_code(ExtismPlugin *p);

/** Where the last call's trap happened: the wasm functions of the main module it unwound,
 *  innermost first, by function index (imports count first).  Writes at most `max` to `funcs`
 *  and returns how many it wrote: 0 after a call that did not trap inside wasm code.
 *  Valid until the next call on `p`. */
EXTISM_API size_t exn_plugin_trap_frames(ExtismPlugin *p, uint32_t *funcs, size_t max);

/** One frame of a trap's backtrace (exn_plugin_trap_backtrace). */
typedef struct {
    uint32_t func;           /* function index in its module (imports count first) */
    uint32_t offset;         /* byte offset of the instruction in the module's bytes, or UINT32_MAX
                         * when the engine does not know it (neither engine records it yet) */
    const char *module;      /* the manifest's name of the module: "main" for the main module */
    const char *module_name; /* the module's own name from its "name" section, or NULL */
    size_t module_name_len;  /* (UTF-8, not NUL-terminated) */
    const char *func_name;   /* the function's name from the "name" section, as stored (a
                              * mangled symbol for Rust or C++), or NULL */
    size_t func_name_len;    /* (UTF-8, not NUL-terminated) */
} exn_trap_frame_t;

/** The backtrace of the last call's trap: the wasm frames it unwound, innermost first, with
 *  the names the modules' "name" sections give them.  Writes at most `max` frames and returns
 *  how many it wrote: 0 after a call that did not trap inside wasm code.  The names are looked
 *  up here (linear in the size of the name section): call it after a trap, not per call.
 *  Ownership: the strings are Borrowed (valid until extism_plugin_free: they point into the
 *  compiled plugin's modules); the frames are those of the last call (the next call on `p`
 *  replaces them).  Threads: as exn_plugin_trap_frames. */
EXTISM_API size_t exn_plugin_trap_backtrace(ExtismPlugin *p, exn_trap_frame_t *frames, size_t max);

/** After an exn_call that failed with EXN_ERR_TRAP: its backtrace (as exn_plugin_trap_backtrace
 *  gives it), copied while the call still held the plugin, so another thread's call cannot
 *  replace it first.  Sets *out (Borrowed from `c`: valid until its next exn_call or
 *  exn_call_release) and returns how many frames; 0 after any other outcome. */
EXTISM_API size_t exn_call_frames(const exn_call_t *c, const exn_trap_frame_t **out);

/** Describe WebAssembly bytes as JSON, for `python -m extism_native inspect`: after validating
 *  them (as exn_module_validate), an object with "imports" (module, name, kind, type),
 *  "exports" (name, kind, type; "callable" for a function export a plugin call can use),
 *  "memories" (min and max pages, max null when unbounded, imported, exports), "features"
 *  (the post-MVP features the code uses: "simd", "bulk-memory", ...), "producers" (the
 *  producers section: field -> [[name, version], ...], null if absent or malformed),
 *  "module_name", "functions" (defined), "start" and "tiers" ("interp": true; "native": whether
 *  the compiled tier can run it here, "native_reason" why not).
 *  Writes the JSON (or, on failure, the message) NUL-terminated into `buf` when it fits, and
 *  its length without the NUL to *out_len: when *out_len >= buf_len, call again with a buffer
 *  of *out_len + 1 bytes.
 *  Returns EXN_OK, EXN_ERR_LOAD or _UNSUPPORTED (as exn_module_validate), _NOMEM, or
 *  EXN_ERR_MISUSE (wasm NULL with len not 0, out_len NULL).
 *  Ownership: borrows `wasm` for the duration of the call.  Threads: any. */
EXTISM_API exn_status_t exn_module_inspect(const uint8_t *wasm, size_t len, char *buf,
                                           size_t buf_len, size_t *out_len);

/** 1 if `name` is a callable export (() -> () or () -> i32), 0 if there is no such function
 *  export, -1 if it is exported with another type. */
EXTISM_API int exn_plugin_function_kind(ExtismPlugin *p, const char *name);

/** Route this plugin's guest logs to `fn` with threshold `level` (an EXN_LOG_* value, or
 *  EXN_LOG_ASK to ask `fn` at most once per call).  fn NULL restores the process-wide handling
 *  of extism_log_file/extism_log_custom. */
EXTISM_API void exn_plugin_set_logger(ExtismPlugin *p, int32_t level, exn_log_fn fn,
                                      void *userdata);

/** Set (value != NULL) or remove (value == NULL) one config entry.  Copied.  Waits while a
 *  call of another thread runs.  Returns EXN_OK, EXN_ERR_NOMEM or EXN_ERR_MISUSE (closed). */
EXTISM_API exn_status_t exn_plugin_config_set(ExtismPlugin *p, const char *key, size_t key_len,
                                              const char *value, size_t value_len);

/* ---- WASI configuration (with_wasi plugins; applies to later calls) ------------------- */

enum { EXN_WASI_INHERIT = 0, EXN_WASI_DISCARD = 1, EXN_WASI_CALLBACK = 2 };

/** Receives what the guest writes to stdout or stderr; returns 0, or non-zero to stop the
 *  guest (the call then fails with EXN_ERR_HOST).  Runs on the calling thread. */
typedef int (*exn_output_fn)(void *userdata, const uint8_t *data, size_t len);

/** Command-line arguments the guest sees (args_get); Copied.  Default: none.  Waits while a
 *  call of another thread runs.  Returns EXN_OK, EXN_ERR_NOMEM, or EXN_ERR_MISUSE (no WASI,
 *  or closed). */
EXTISM_API exn_status_t exn_plugin_wasi_args(ExtismPlugin *p, const char *const *args, size_t n);

/** Environment the guest sees (environ_get), "NAME=value" strings; Copied.  Default: empty. */
EXTISM_API exn_status_t exn_plugin_wasi_env(ExtismPlugin *p, const char *const *env, size_t n);

/** Bytes the guest reads from stdin; Copied.  Default: empty (end of file). */
EXTISM_API exn_status_t exn_plugin_wasi_stdin(ExtismPlugin *p, const uint8_t *data, size_t len);

/** Where the guest's stdout (fd 1) or stderr (fd 2) goes: EXN_WASI_INHERIT (the process's own
 *  stream, the default), EXN_WASI_DISCARD, or EXN_WASI_CALLBACK (`fn` with `userdata`). */
EXTISM_API exn_status_t exn_plugin_wasi_output(ExtismPlugin *p, int fd, int mode, exn_output_fn fn,
                                               void *userdata);

/* ---- HTTP ----------------------------------------------------------------------------------
 * The http_request import (and manifest `url` sources) perform HTTP through a transport the
 * host provides: the Python package installs one built on the standard library.  A transport
 * performs exactly one request and never follows redirects: the core follows them itself,
 * checking every hop against the plugin's allowed_hosts. */

typedef struct {
    const char *url;    /* absolute http(s) URL */
    const char *method; /* upper case */
    const char *const *header_names;
    const char *const *header_values;
    size_t n_headers;
    const uint8_t *body; /* NULL when there is none */
    size_t body_len;
    int64_t timeout_ns; /* time the request may take, -1 for no limit */
} exn_http_request_t;

typedef struct exn_http_response exn_http_response_t;

/** Performs `request`: reports the status with exn_http_response_status, each header with
 *  exn_http_response_header and the body in pieces with exn_http_response_body (stopping
 *  when it returns non-zero), then returns 0; or calls exn_http_response_fail and returns
 *  non-zero.  Runs on the thread of the plugin call.  Borrowed arguments. */
typedef int (*exn_http_transport_fn)(void *userdata, const exn_http_request_t *request,
                                     exn_http_response_t *response);

EXTISM_API void exn_http_response_status(exn_http_response_t *response, int status);
EXTISM_API void exn_http_response_header(exn_http_response_t *response, const char *name,
                                         size_t name_len, const char *value, size_t value_len);
/** Append body bytes.  Returns non-zero once the body exceeds the plugin's
 *  max_http_response_bytes (or memory ran out): stop reading then. */
EXTISM_API int exn_http_response_body(exn_http_response_t *response, const uint8_t *data,
                                      size_t len);
EXTISM_API void exn_http_response_fail(exn_http_response_t *response, const char *message);

/** The process-wide transport: used for manifest `url` sources and by plugins without one of
 *  their own.  NULL removes it.  Not thread-safe with respect to plugin creation. */
EXTISM_API void exn_set_http_transport(exn_http_transport_fn fn, void *userdata);

/** This plugin's transport (NULL: the process-wide one). */
EXTISM_API void exn_plugin_set_http_transport(ExtismPlugin *p, exn_http_transport_fn fn,
                                              void *userdata);

/* ---- host functions with flat arguments ---------------------------------------------------
 * A leaner calling convention than ExtismFunctionType for bindings: `slots` holds the
 * parameters first, then room for the results.  i32 and i64 values are signed 64-bit integers
 * (an i32 sign-extended); f32 and f64 values are the bits of a double (an f32 widened).  The
 * function writes its results into slots[n_params + i]. */
typedef void (*exn_host_fn)(void *user_data, ExtismCurrentPlugin *plugin, int64_t *slots);

/** As extism_function_new, with an exn_host_fn.  Returns owned (extism_function_free) or NULL
 *  (free_user_data has run then). */
EXTISM_API ExtismFunction *exn_function_new(const char *name, const ExtismValType *inputs,
                                            size_t n_inputs, const ExtismValType *outputs,
                                            size_t n_outputs, exn_host_fn fn, void *user_data,
                                            void (*free_user_data)(void *));

/* ---- inside a host function ------------------------------------------------------------ */

/** Make the running call fail once the host function returns: the guest is stopped and the
 *  call ends with EXN_ERR_HOST; `message` (Copied) is its text. */
EXTISM_API void exn_current_plugin_fail(ExtismCurrentPlugin *plugin, const char *message);

/** Set the plugin's error as the guest's error_set does (a copy of `message` in a new block;
 *  len 0 clears it): unless cleared again, the call fails with EXN_ERR_GUEST and that text.
 *  Returns EXN_OK, EXN_ERR_NOMEM or EXN_ERR_MISUSE. */
EXTISM_API exn_status_t exn_current_plugin_set_error(ExtismCurrentPlugin *plugin,
                                                     const char *message, size_t len);

/** Host code may keep pointers into kernel memory past this host call (e.g. a Python
 *  memoryview): from now on exn_plugin_close leaves the plugin's kernel memory in place and
 *  only extism_plugin_free releases it, so such a pointer never reaches memory that another
 *  plugin reuses. */
EXTISM_API void exn_current_plugin_keep_memory(ExtismCurrentPlugin *plugin);

/** Size of kernel memory in bytes: every handle plus its length must stay below it. */
EXTISM_API uint64_t exn_current_plugin_memory_size(ExtismCurrentPlugin *plugin);

/** The plugin's 16-byte id.  Borrowed. */
EXTISM_API const uint8_t *exn_current_plugin_id(ExtismCurrentPlugin *plugin);

#ifdef __cplusplus
}
#endif

#endif
