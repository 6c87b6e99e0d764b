/* validate_code.h: what the module validator (validate.c) and the function-body validator
 * (validate_code.c) share: the validation context of the spec (WebAssembly 2.0, section 3.1.6,
 * "Contexts"), the error record, the value type classes, and the body validator itself.
 * Everything here points into the module's bytes; nothing is copied. */
#ifndef EXN_VALIDATE_CODE_H
#define EXN_VALIDATE_CODE_H

#include "support/internal.h"
#include "module_info.h" /* value type bytes, exn_valtype_name */

/* Implementation limits (those of web engines, the JS API's "limits" section): valid modules
 * past them are refused as unsupported.  They keep the cost of every instruction bounded. */
#define EXN_VMAX_PARAMS 1000
#define EXN_VMAX_RESULTS 1000
#define EXN_VMAX_OPERANDS (1u << 20) /* operand stack height inside one function */

/* A function type: params and results are value type bytes inside the module. */
typedef struct {
    const uint8_t *params, *results;
    uint32_t n_params, n_results;
} exn_vfunctype_t;

typedef struct {
    uint8_t type;
    bool mut;
} exn_vglobal_t;

/* The context C of the spec, as far as function bodies need it. */
typedef struct {
    const uint8_t *module; /* the module's first byte: offsets in messages count from here */
    exn_vfunctype_t *types;
    uint32_t n_types;
    uint32_t *funcs; /* type index of every function, imports first */
    uint32_t n_funcs, n_func_imports;
    uint8_t *tables; /* element type of every table, imports first */
    uint32_t n_tables;
    uint32_t n_mems;
    exn_vglobal_t *globals; /* imports first */
    uint32_t n_globals, n_global_imports;
    uint8_t *elems; /* element type of every element segment */
    uint32_t n_elems;
    bool has_data_count;
    uint32_t data_count;
    uint8_t *refs; /* C.refs: bit i set when function i may be named by ref.func */
} exn_vctx_t;

/* The first error found: status (EXN_OK while none), byte offset in the module, reason. */
typedef struct {
    exn_status_t status;
    size_t offset;
    char msg[224];
} exn_verror_t;

/** Record an error unless one is recorded already; returns false (for `return fail(...)`).
 *  (Defined in validate_code.c: validate.c calls validate_code.c, never the reverse.) */
EXN_INTERNAL bool exn_verror(exn_verror_t *e, exn_status_t status, size_t offset, const char *fmt,
                             ...) EXN_PRINTF(4, 5);

/* Value type bytes: which are WebAssembly 2.0 (v128 included), which belong to proposals we do
 * not support (typed function references and GC), which are malformed. */
typedef enum { EXN_VT_OK, EXN_VT_UNSUPPORTED, EXN_VT_MALFORMED } exn_vt_class_t;

static inline exn_vt_class_t exn_valtype_class(uint8_t b)
{
    switch (b) {
    case EXN_WASM_I32:
    case EXN_WASM_I64:
    case EXN_WASM_F32:
    case EXN_WASM_F64:
    case EXN_WASM_FUNCREF:
    case EXN_WASM_EXTERNREF:
    case EXN_WASM_V128: return EXN_VT_OK;
    case 0x63:
    case 0x64: /* (ref null ht), (ref ht) */
    case 0x69:
    case 0x6A:
    case 0x6B: /* exnref, arrayref, structref */
    case 0x6C:
    case 0x6D:
    case 0x6E: /* i31ref, eqref, anyref */
    case 0x71:
    case 0x72:
    case 0x73:
    case 0x74: return EXN_VT_UNSUPPORTED; /* null refs */
    default: return EXN_VT_MALFORMED;
    }
}

/** What an unsupported value type byte needs, for "... is not supported by extism_native". */
EXN_INTERNAL const char *exn_valtype_feature(uint8_t b);

/** Check one value type byte read at `at`; records the error and returns false if it is
 *  malformed or unsupported. */
EXN_INTERNAL bool exn_vcheck_valtype(exn_verror_t *e, const exn_vctx_t *c, const uint8_t *at,
                                     uint8_t b);

static inline bool exn_vref_declared(const exn_vctx_t *c, uint32_t func)
{
    return c->refs && (c->refs[func >> 3] >> (func & 7)) & 1;
}

/* The function-body validator keeps its stacks between bodies (no allocation per body once
 * they are large enough). */
typedef struct exn_vcode exn_vcode_t;

/** Returns owned, free with exn_vcode_free; NULL when out of memory. */
EXN_INTERNAL exn_vcode_t *exn_vcode_new(void);
EXN_INTERNAL void exn_vcode_free(exn_vcode_t *v);

/** The EXN_FEATURE_* (module_info.h) the bodies checked so far use. */
EXN_INTERNAL uint32_t exn_vcode_features(const exn_vcode_t *v);

/** Validate the body of function `func` (code section entry without its size: locals, then the
 *  expression), which must end exactly at `end`.  Returns true, or false with the error in `e`
 *  (EXN_ERR_LOAD, EXN_ERR_UNSUPPORTED or EXN_ERR_NOMEM). */
EXN_INTERNAL bool exn_vcode_check(exn_vcode_t *v, const exn_vctx_t *c, uint32_t func,
                                  const uint8_t *body, const uint8_t *end, exn_verror_t *e);

#endif
