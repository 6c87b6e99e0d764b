/* engine/engine.h: the one interface between the runtime and an execution engine.
 *
 * An engine takes a validated module (its description, validate/module_info.h, and its bytes)
 * and makes *code* that any number of instances share (exn_code_t: compiled once per
 * ExtismCompiledPlugin), then *instances* of that code, each with its own linear memory,
 * globals and tables, its imports resolved to host functions or to other instances (exn_instance_t).
 * Two engines implement it:
 *   engine/wasm3/   the interpreter: instant start, every platform (the only code that includes
 *                   wasm3's headers)
 *   engine/native/  compiled machine code (wasm -> C -> a shared library, cached on disk)
 * The runtime (runtime/) holds plugins and picks the engine; the kernel, WASI and host functions
 * see only the instance calling them, through exn_caller_t and exn_instance_memory below, and
 * an environment of their own given at link time (kernel state, WASI context, a host function).
 *
 * Values cross the interface in 64-bit slots: an i32 or f32 in the low 32 bits of its slot (as
 * a little-endian host would store it: read and write with exn_slot_* below), an i64 or f64 in
 * the whole slot, a funcref/externref as an opaque 64-bit value (0 = null), a v128 in two
 * consecutive slots (low lane bytes first).
 *
 * May call: support/internal.h, validate/module_info.h.  Nothing here calls back up. */
#ifndef EXN_ENGINE_H
#define EXN_ENGINE_H

#include "support/internal.h"
#include "validate/module_info.h"

/* ---- traps ----------------------------------------------------------------------------------
 * A trap is a pointer to a constant string (NULL: none).  Every engine reports the wasm traps
 * with these very pointers, so callers compare pointers and messages are the same on every
 * tier (engine/trap.c defines them).  Import functions return the sentinels below, or a wasm
 * trap (exn_trap_interrupted when they notice a cancel or timeout); engines pass any non-NULL
 * value through unchanged.  Anything else an engine returns is an engine failure (e.g. a
 * function the interpreter could not compile), with its own text. */
typedef const char *exn_trap_t;

/* clang-format off */
EXN_INTERNAL extern const char exn_trap_unreachable[];     /* "[trap] unreachable executed" */
EXN_INTERNAL extern const char exn_trap_memory_oob[];      /* "[trap] out of bounds memory access" */
EXN_INTERNAL extern const char exn_trap_table_oob[];       /* "[trap] out of bounds table access" */
EXN_INTERNAL extern const char exn_trap_undefined_element[]; /* "[trap] undefined element" */
EXN_INTERNAL extern const char exn_trap_null_element[];    /* "[trap] null table element" (uninitialized) */
EXN_INTERNAL extern const char exn_trap_indirect_type[];   /* "[trap] indirect call type mismatch" */
EXN_INTERNAL extern const char exn_trap_div_zero[];        /* "[trap] integer divide by zero" */
EXN_INTERNAL extern const char exn_trap_int_overflow[];    /* "[trap] integer overflow" */
EXN_INTERNAL extern const char exn_trap_conversion[];      /* "[trap] invalid conversion to integer" */
EXN_INTERNAL extern const char exn_trap_stack_overflow[];  /* "[trap] stack overflow" */
EXN_INTERNAL extern const char exn_trap_interrupted[];     /* "[trap] interrupted": interrupt word bit 0 */
EXN_INTERNAL extern const char exn_trap_fuel[];            /* "[trap] all fuel consumed" */
/* clang-format on */

/* Sentinels of the imports: why an import stopped the guest.  The detail text is in the
 * context of the import that returned it (kernel/, wasi/, runtime/hostfn.c). */
EXN_INTERNAL extern const char exn_trap_kernel[]; /* "[kernel]": the kernel refused an operation */
EXN_INTERNAL extern const char exn_trap_host[];   /* "[host function failed]" (a host function, a
                                                   * logger or a WASI output callback) */
EXN_INTERNAL extern const char exn_trap_exit[];   /* "[exit]": WASI proc_exit */
EXN_INTERNAL extern const char exn_trap_http[];   /* "[http]": an HTTP request failed */

/* True for the wasm traps above (the guest's own fault, or an interrupt), false for an
 * import's sentinel or an engine failure (e.g. a function the interpreter could not compile). */
EXN_INTERNAL bool exn_trap_is_wasm(exn_trap_t t);

/* True for the import sentinels. */
EXN_INTERNAL bool exn_trap_is_import(exn_trap_t t);

/* One frame of the guest's stack at a trap, innermost first. */
typedef struct {
    uint32_t func;      /* function index in its module (imports count first) */
    uint32_t offset;    /* byte offset of the instruction in the module, or UINT32_MAX if unknown */
    const void *module; /* the exn_code_t the function belongs to (frames may cross modules) */
} exn_frame_t;

#define EXN_MAX_FRAMES 64

/* ---- slots ---------------------------------------------------------------------------------- */
static inline uint32_t exn_slot_u32(const uint64_t *slot)
{
    return (uint32_t)*slot;
}
static inline void exn_slot_set_u32(uint64_t *slot, uint32_t v)
{
    *slot = v;
}
static inline uint64_t exn_slot_u64(const uint64_t *slot)
{
    return *slot;
}
static inline void exn_slot_set_u64(uint64_t *slot, uint64_t v)
{
    *slot = v;
}

/* ---- imports -------------------------------------------------------------------------------- */
typedef struct exn_code exn_code_t;         /* an engine's compiled module (shared, immutable) */
typedef struct exn_instance exn_instance_t; /* an instance of it */
typedef struct exn_engine exn_engine_t;

/* What an import function is called with: the calling instance (its memory: exn_instance_memory)
 * and the environment given when it was linked. */
typedef struct {
    exn_instance_t *instance;
    void *env;
} exn_caller_t;

/* A function provided to an instance by the host: the kernel's imports, WASI's, user host
 * functions, or a function of another instance wrapped by the runtime.
 * `slots` holds the results first, then the parameters, one slot each (n_results slots, then
 * n_params): a function reads its parameters at slots[n_results + i] and writes its results to
 * slots[0 .. n_results).  Returns NULL, or a trap that stops the guest (passed up unchanged).
 * No import takes or returns a v128: engines refuse to link one whose type has a v128. */
typedef exn_trap_t (*exn_hostcall_fn)(const exn_caller_t *caller, uint64_t *slots);

/* Import functions of one signature shape are declared with EXN_IMPORT(name) (the kernel's,
 * WASI's): `caller` and `sp` (the slots); their result's slot is sp[0] and argument i is
 * sp[i + n_results] - written with these helpers, which take the slot index directly. */
#define EXN_IMPORT(name) EXN_INTERNAL exn_trap_t name(const exn_caller_t *caller, uint64_t *sp)

static inline uint64_t exn_arg_u64(const uint64_t *sp, int i)
{
    return exn_slot_u64(&sp[i]);
}
static inline uint32_t exn_arg_u32(const uint64_t *sp, int i)
{
    return exn_slot_u32(&sp[i]);
}
static inline void exn_ret_u64(uint64_t *sp, uint64_t v)
{
    exn_slot_set_u64(&sp[0], v);
}
static inline void exn_ret_u32(uint64_t *sp, uint32_t v)
{
    exn_slot_set_u32(&sp[0], v);
}

/* One import of a module, resolved.  A function: `fn` and `env`.  A memory, a global or a table
 * exported by another instance of the same engine (issue 17): `from` and `index` (its index in
 * from's module); the importer then uses that very object - a write, a memory.grow or
 * table.grow by either side is seen by the other - and `from` must outlive the importer (and
 * the importer, once its element segments wrote into a table of `from`, must outlive the calls
 * through that table).  The caller checked the import's type against the export's (limits,
 * mutability, value type, element type).  An instance that writes into another's table checks
 * all its active segments before writing any: when one does not fit it writes nothing. */
typedef struct {
    uint8_t kind; /* EXN_EXTERN_FUNC, _MEMORY, _GLOBAL, _TABLE */
    exn_hostcall_fn fn;
    void *env;
    exn_instance_t *from; /* a memory, a global or a table: the instance that owns it */
    uint32_t index;
} exn_import_value_t;

/* Everything an instance needs besides its code. */
typedef struct {
    const exn_import_value_t *imports; /* one per import of the module, in import order */
    uint32_t n_imports;
    uint64_t max_memory_bytes; /* linear memory may not grow past this (manifest max_pages) */
    const volatile uint32_t *interrupt; /* bit 0 set: stop at the next loop iteration or call */
    int64_t *fuel;                      /* NULL: no fuel.  Else the fuel left, two words the
                                 * runtime owns (shared by a plugin's instances, refilled per
                                 * call; between calls [1] is 0 and [0] all that is left, during
                                 * one the compiled tier keeps a part in [1], native.c):
                                 * every entry of a wasm function (call, call_indirect, tail
                                 * call, the outermost call) and every entry of a loop (the
                                 * first and each branch back) takes one unit, and the guest
                                 * traps with exn_trap_fuel when it would go below zero.
                                 * Imports and the host cost nothing.  The compiled tier needs
                                 * code made with fuel (exn_native_compile, EXN_NATIVE_FUEL) */
    void *userdata;                     /* the runtime's, returned by exn_instance_userdata */
} exn_instance_config_t;

/* The part every engine's instance starts with. */
struct exn_instance {
    const exn_engine_t *engine;
    exn_code_t *code;
    void *userdata;
};

static inline void *exn_instance_userdata(const exn_instance_t *inst)
{
    return inst->userdata;
}

/* ---- the engine ------------------------------------------------------------------------------ */
struct exn_engine {
    const char *name; /* "interp" or "native" */

    /** Make the shared code of a validated module.  `info` and `wasm` stay alive and unchanged
     *  as long as the code (the runtime keeps them).  Returns EXN_OK, EXN_ERR_NOMEM,
     *  EXN_ERR_UNSUPPORTED (this engine cannot run it: a limit of the engine, named in the
     *  message) or EXN_ERR_LOAD, with a message in errbuf. */
    exn_status_t (*compile)(const exn_module_info_t *info, const uint8_t *wasm, size_t len,
                            exn_code_t **out, char *errbuf, size_t errbuf_len);
    void (*code_free)(exn_code_t *code);

    /** A new instance: memory, tables and globals allocated and initialised (data and element
     *  segments applied), imports linked.  Runs no guest code: the start function is
     *  exn_module_info_t.start, called with `call` by the runtime (under its deadline). */
    exn_status_t (*instantiate)(exn_code_t *code, const exn_instance_config_t *config,
                                exn_instance_t **out, char *errbuf, size_t errbuf_len);
    void (*instance_free)(exn_instance_t *inst);

    /** Call function `func` (any index, imports included) with its parameters in the first
     *  slots; on return its results are in the first slots (a v128 takes two).  `slots` has
     *  room for the larger of the parameters' and the results' slots.  Returns NULL or the
     *  trap.  After a wasm trap, `backtrace` describes where. */
    exn_trap_t (*call)(exn_instance_t *inst, uint32_t func, uint64_t *slots);

    /** Linear memory 0: its base, and its size in bytes in *out_size (NULL, 0 if none).
     *  Borrowed: valid until guest code runs again or the memory grows. */
    uint8_t *(*memory)(exn_instance_t *inst, uint64_t *out_size);

    /** Grow linear memory 0 by `delta` pages, as memory.grow does (within the instance's
     *  max_memory_bytes and the module's maximum): the old size in pages, or UINT32_MAX.
     *  (The runtime moves a plugin's state from one engine's instance to another's with it.) */
    uint32_t (*memory_grow)(exn_instance_t *inst, uint32_t delta);

    /** Global `index` (imports count first): read into / write from `slots` (1 or 2 slots). */
    void (*global_get)(exn_instance_t *inst, uint32_t index, uint64_t *slots);
    void (*global_set)(exn_instance_t *inst, uint32_t index, const uint64_t *slots);

    /** Before guest code runs on this thread: the lowest native stack address it may use. */
    void (*set_stack_limit)(exn_instance_t *inst, uintptr_t limit);

    /** The guest frames of the last trap, innermost first; returns how many (<= max). */
    size_t (*backtrace)(exn_instance_t *inst, exn_frame_t *frames, size_t max);
};

/** Memory of the instance an import is called from (see exn_engine.memory). */
static inline uint8_t *exn_instance_memory(exn_instance_t *inst, uint64_t *out_size)
{
    return inst->engine->memory(inst, out_size);
}

/* The engines. */
EXN_INTERNAL extern const exn_engine_t exn_engine_wasm3;
EXN_INTERNAL extern const exn_engine_t exn_engine_native;

#endif
