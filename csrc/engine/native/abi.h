/* engine/native/abi.h: the contract between the compiled tier's engine (native.c) and the C code
 * its translator writes (translate.c), which a C compiler turns into a shared library.
 *
 * The library holds only code: one C function per wasm function, `w<N>(ctx, params...)`, an
 * entry trampoline per function type (slots in, slots out), and one exported descriptor
 * (exn_ndesc_t, symbol EXN_NATIVE_DESC_SYMBOL).  Everything an instance owns - linear memory,
 * globals, tables, function references, segment state - is in the context (exn_nctx_t) that the
 * engine allocates per instance and passes to every function; everything the code needs from
 * the engine (traps, memory.grow, table and segment operations, imports) is a function pointer
 * in it, so the library has no undefined symbols but libc/libm ones (memcpy, memmove, memset,
 * and maybe ceil/floor/... where the compiler does not inline them).
 *
 * translate.c writes the same structures into every generated file (its PRELUDE text).  The two
 * copies are kept in step by EXN_NATIVE_ABI_VERSION and checked at load: the descriptor records
 * sizeof and the offset of the last field of the context as the compiled code saw them.
 *
 * May call: engine.h (types only). */
#ifndef EXN_NATIVE_ABI_H
#define EXN_NATIVE_ABI_H

#include <stdint.h>

#include "engine/engine.h"

/* Bump on any change of the structures below or of the generated code's conventions: it is
 * part of the cache key, and a library of another version is never loaded. */
#define EXN_NATIVE_ABI_VERSION 7
#define EXN_NATIVE_DESC_SYMBOL "exn_native_module"

/* Trap codes the generated code passes to ctx->trap (native.c maps them to exn_trap_*). */
#define EXN_NTRAP_UNREACHABLE 1
#define EXN_NTRAP_MEMORY_OOB 2
#define EXN_NTRAP_TABLE_OOB 3
#define EXN_NTRAP_UNDEFINED_ELEMENT 4
#define EXN_NTRAP_NULL_ELEMENT 5
#define EXN_NTRAP_INDIRECT_TYPE 6
#define EXN_NTRAP_DIV_ZERO 7
#define EXN_NTRAP_INT_OVERFLOW 8
#define EXN_NTRAP_CONVERSION 9
#define EXN_NTRAP_STACK_OVERFLOW 10
#define EXN_NTRAP_INTERRUPTED 11
#define EXN_NTRAP_FUEL 12

/* A global's storage: one 8-byte slot, read as the global's type (little-endian hosts only, so
 * an i32/f32 is the low half, as in engine.h's slots); a v128 global takes two consecutive
 * slots (bytes 0-7, 8-15), so the globals' slots are numbered by exn_nglobal_slot. */
typedef union {
    uint32_t i32;
    uint64_t i64;
    float f32;
    double f64;
} exn_nslot_t;

/* The first slot of global `g` (imports count first): one slot per global before it, two for a
 * v128 (the layout of exn_const_eval's globals). */
static inline uint32_t exn_nglobal_slot(const exn_module_info_t *info, uint32_t g)
{
    if (!(info->features & EXN_FEATURE_SIMD))
        return g;
    uint32_t k = 0;
    for (uint32_t i = 0; i < g && i < info->n_globals; i++)
        k += info->globals[i].type == EXN_WASM_V128 ? 2 : 1;
    return k;
}

struct exn_nctx;

/* What a funcref points to (a funcref value is its address; 0 is null).  Each instance has one
 * per function that can be referenced (exn_ndesc_t.ref_funcs). */
typedef struct {
    uint32_t type; /* canonical type id (native.c: equal ids, equal function types) */
    void *fn;      /* the function's code: T f(struct exn_nctx *, params...) */
    struct exn_nctx *ctx;
} exn_nfunc_t;

typedef struct {
    uint64_t *elems; /* funcref: (uintptr_t)exn_nfunc_t * or 0; externref: the host's value */
    uint32_t size, max;
} exn_ntable_t;

/* One imported function as the import stubs call it: engine.h's host function and the caller it
 * takes (the generated code sees the caller as two pointers, instance and env). */
typedef struct {
    exn_hostcall_fn fn;
    exn_caller_t caller;
} exn_nimport_t;

#if defined(__GNUC__) || defined(__clang__)
#define EXN_NORETURN __attribute__((noreturn))
#else
#define EXN_NORETURN
#endif

typedef struct exn_nctx {
    /* linear memory 0 (mem is NULL and mem_size 0 without one); the generated code keeps both in
     * locals and reloads them after every call and memory.grow */
    uint8_t *mem;
    uint64_t mem_size;
    const volatile uint32_t *interrupt; /* bit 0: stop (checked at function entries, loops) */
    uintptr_t stack_limit;              /* lowest native stack address guest code may use */
    exn_ntable_t *tables;
    const uint32_t *types;  /* canonical id of each of the module's type indices */
    exn_nfunc_t *refs;      /* one per exn_ndesc_t.ref_funcs entry */
    exn_nimport_t *imports; /* one per import of the module (kinds other than functions: unused) */
    uint32_t in_host;       /* an import stub's host function is running (the fault handler) */
    /* the engine's helpers; the trap helpers never return, the others return or trap */
    EXN_NORETURN void (*trap)(struct exn_nctx *c, uint32_t code, uint32_t func);
    /* an import's trap; `ret`: the import stub's return address, in the function that called it */
    EXN_NORETURN void (*raise)(struct exn_nctx *c, const char *trap, const void *ret);
    uint32_t (*memory_grow)(struct exn_nctx *c, uint32_t delta_pages);
    void (*memory_init)(struct exn_nctx *c, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n);
    void (*data_drop)(struct exn_nctx *c, uint32_t seg);
    uint32_t (*table_grow)(struct exn_nctx *c, uint32_t table, uint64_t init, uint32_t delta);
    void (*table_init)(struct exn_nctx *c, uint32_t table, uint32_t seg, uint32_t dst, uint32_t src,
                       uint32_t n);
    void (*elem_drop)(struct exn_nctx *c, uint32_t seg);
    void (*table_copy)(struct exn_nctx *c, uint32_t dst_table, uint32_t src_table, uint32_t dst,
                       uint32_t src, uint32_t n);
    void (*table_fill)(struct exn_nctx *c, uint32_t table, uint32_t at, uint64_t value, uint32_t n);
    /* tail calls (translate.c, "tail calls"): the callee's thunk a body asked for, and the
     * buffer of the wrapper running the chain; only the generated code touches them */
    void (*tail)(struct exn_nctx *c);
    uint64_t *tail_slots;
    /* fuel (code translated with it only): the two words the runtime refills per call; one
     * unit per function entry and loop entry (engine.h, exn_instance_config_t.fuel).  During a
     * call [0] is what the code may take before its next check, [1] the rest (translate.c,
     * PRELUDE_FUEL; native_call moves it in and out) */
    int64_t *fuel;
    /* the storage of each imported global (the generated code reads and writes an imported
     * global there, a defined one in `globals`): another instance's when it is shared (issue
     * 17), else the importer's own slot */
    exn_nslot_t **gimp;
    /* each imported table (the generated code uses an imported table there, a defined one in
     * `tables`): another instance's when it is shared (issue 17), else the importer's own */
    exn_ntable_t **timp;
    exn_nslot_t globals[]; /* one slot per global, imports first */
} exn_nctx_t;

/* Calls function `fn` (a function of the library) with its parameters from slots and writes its
 * results back there (engine.h's layout). */
typedef void (*exn_nentry_fn)(exn_nctx_t *c, void *fn, uint64_t *slots);

/* The library's one exported symbol. */
typedef struct {
    uint32_t abi_version;   /* EXN_NATIVE_ABI_VERSION */
    uint32_t ctx_size;      /* sizeof(exn_nctx_t) as the generated code saw it */
    uint32_t ctx_last;      /* offsetof(exn_nctx_t, tail_slots) as the generated code saw it */
    uint32_t bounds_checks; /* 1: explicit bounds checks; 0: relies on guard pages */
    uint32_t fuel;          /* 1: the code counts fuel (ctx->fuel) */
    char module_sha256[65]; /* of the module's bytes, hex */
    uint32_t n_funcs, n_types, n_refs;
    void *const *funcs;           /* n_funcs: every function, imports (stubs) included */
    const exn_nentry_fn *entries; /* n_types: the entry trampoline of each type */
    const uint32_t *ref_funcs;    /* n_refs: functions that have an exn_nfunc_t */
} exn_ndesc_t;

#endif
