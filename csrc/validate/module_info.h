/* module_info.h: the module description - everything about a wasm module the rest of the core
 * needs (types, imports, functions and where their bodies are, tables, memories, globals with
 * their initialisers, exports, element and data segments, start function, custom sections,
 * the features it uses), decoded once, by the validator in the same pass that validates
 * (exn_validate_module, validate.h), and never again: the runtime resolves imports and calls
 * exports from it, the engines compile from it.
 *
 * wasm3 0.5.0 looks functions up by any of their names - including debug names from the "name"
 * section - so a plugin could be called through a function it never exported.  Calls go through
 * the export table here instead, and imports are listed from here so that a load error can
 * name every unresolved module::name at once.
 * May call: support/internal.h; module_info.c the allocator and wasm_read.h. */
#ifndef EXN_MODULE_INFO_H
#define EXN_MODULE_INFO_H

#include "support/internal.h"

/* wasm value type bytes */
#define EXN_WASM_I32 0x7F
#define EXN_WASM_I64 0x7E
#define EXN_WASM_F32 0x7D
#define EXN_WASM_F64 0x7C
#define EXN_WASM_V128 0x7B
#define EXN_WASM_FUNCREF 0x70
#define EXN_WASM_EXTERNREF 0x6F

/* import/export kinds */
#define EXN_EXTERN_FUNC 0
#define EXN_EXTERN_TABLE 1
#define EXN_EXTERN_MEMORY 2
#define EXN_EXTERN_GLOBAL 3

typedef struct {
    uint32_t n_params, n_results;
    uint8_t *types; /* params then results */
} exn_functype_t;

/* A byte range [offset, offset + len) of the module's bytes. */
typedef struct {
    uint32_t offset, len;
} exn_range_t;

typedef struct {
    uint8_t elem_type; /* EXN_WASM_FUNCREF or EXN_WASM_EXTERNREF */
    bool has_max;
    uint32_t min, max;
} exn_tabletype_t;

typedef struct {
    bool has_max;
    uint64_t min, max; /* in 64 KiB pages */
} exn_memtype_t;

/* Constant expressions are kept as the range of their bytes, the final `end` included; evaluate
 * them with exn_const_eval. */
typedef struct {
    uint8_t type; /* value type byte */
    bool mut;
    exn_range_t init; /* constant expression (defined globals; len 0 for imports) */
} exn_globaltype_t;

/* Names are C strings (owned by the description): a NUL inside a name - valid wasm that no C
 * caller can spell - is stored as the two bytes C0 80, which never occur in UTF-8, so a name
 * with one cannot equal any other name. */
typedef struct {
    char *module, *name;
    uint8_t kind;
    uint32_t type_index; /* functions: index into types; tables/memories/globals: index into
                          * tables/memories/globals (imports come first there) */
} exn_import_t;

typedef struct {
    char *name;
    uint8_t kind;
    uint32_t index;
} exn_export_t;

/* An item of an element segment, decoded: ref.func f, ref.null, or any other constant
 * expression (global.get g; extended constant expressions) by its bytes. */
typedef struct {
    uint8_t kind; /* EXN_ITEM_FUNC, EXN_ITEM_NULL, EXN_ITEM_EXPR */
    uint32_t func;
    exn_range_t expr;
} exn_elem_item_t;

#define EXN_ITEM_FUNC 0
#define EXN_ITEM_NULL 1
#define EXN_ITEM_EXPR 2

#define EXN_SEGMENT_ACTIVE 0
#define EXN_SEGMENT_PASSIVE 1
#define EXN_SEGMENT_DECLARATIVE 2

typedef struct {
    uint8_t mode; /* EXN_SEGMENT_* */
    uint8_t elem_type;
    uint32_t table;
    exn_range_t offset; /* constant expression (active segments) */
    exn_elem_item_t *items;
    uint32_t n_items;
} exn_elem_t;

typedef struct {
    uint8_t mode; /* EXN_SEGMENT_ACTIVE or _PASSIVE */
    uint32_t memory;
    exn_range_t offset; /* constant expression (active segments) */
    exn_range_t bytes;
} exn_data_t;

/* Wasm features a module uses (exn_module_info_t.features), for `inspect` and engine choice. */
#define EXN_FEATURE_SIMD (1u << 0)
#define EXN_FEATURE_BULK_MEMORY (1u << 1)
#define EXN_FEATURE_REFERENCE_TYPES (1u << 2)
#define EXN_FEATURE_MULTI_VALUE (1u << 3)
#define EXN_FEATURE_SAT_TRUNC (1u << 4)
#define EXN_FEATURE_SIGN_EXT (1u << 5)
#define EXN_FEATURE_MULTI_MEMORY (1u << 6)
#define EXN_FEATURE_TAIL_CALL (1u << 7)
#define EXN_FEATURE_EXTENDED_CONST (1u << 8)
/* Not a feature: the code changes a table or drops a segment (table.set, .grow, .fill, .copy,
 * .init, elem.drop, data.drop): state besides memory and globals that the runtime cannot move
 * from one engine's instance to another's (exn_module_info_t.changes_tables). */
#define EXN_CODE_CHANGES_TABLES (1u << 31)

/* The module description: everything about a module the rest of the core needs, decoded once
 * by the validator (exn_validate_module) and never again.  Offsets point into the module's
 * bytes, which the owner keeps alive as long as the description. */
typedef struct {
    exn_functype_t *types;
    uint32_t n_types;
    exn_import_t *imports;
    uint32_t n_imports, n_func_imports;
    uint32_t *func_type; /* type index of every function, imports first */
    uint32_t n_funcs;
    exn_range_t *bodies;     /* code of each defined function (locals, then the expression):
                          * bodies[i] is function n_func_imports + i */
    exn_tabletype_t *tables; /* imports first */
    uint32_t n_tables, n_table_imports;
    exn_memtype_t *memories; /* imports first */
    uint32_t n_memories, n_memory_imports;
    exn_globaltype_t *globals; /* imports first */
    uint32_t n_globals, n_global_imports;
    exn_export_t *exports; /* sorted by name (strcmp), then kind: exn_module_export */
    uint32_t n_exports;
    exn_elem_t *elems;
    uint32_t n_elems;
    exn_data_t *datas;
    uint32_t n_datas;
    bool has_start;
    uint32_t start;
    exn_range_t name_section;      /* the first "name" custom section's payload (after its
                                    * name; len 0: none).  Not validated: a malformed one is
                                    * no error, readers must check what they read */
    exn_range_t producers_section; /* the first "producers" custom section's payload */
    uint32_t features;             /* EXN_FEATURE_* */
    bool changes_tables;           /* EXN_CODE_CHANGES_TABLES: see there */
    bool bodies_unchecked;         /* EXN_VALIDATE_SKIP_BODIES: the two fields above do not
                                    * describe the code (validate.h) */
    /* memory 0, for the many callers that need only that */
    bool has_memory, memory_imported, memory_has_max;
    uint32_t memory_min, memory_max;
} exn_module_info_t;

/** Free what the description owns and zero it (a zeroed description is fine too). */
EXN_INTERNAL void exn_module_info_free(exn_module_info_t *info);

/** Evaluate the constant expression `expr` of a validated module: t.const, ref.null, ref.func,
 *  global.get (the values of the globals before it in `globals`, one slot each, two for a v128)
 *  and the extended-constant i32/i64 add, sub and mul.  Writes one slot to out[0] (two for a
 *  v128).  A funcref's value is what `ref_func(userdata, index)` returns for its function. */
EXN_INTERNAL void exn_const_eval(const exn_module_info_t *info, const uint8_t *wasm,
                                 exn_range_t expr, const uint64_t *globals,
                                 uint64_t (*ref_func)(void *userdata, uint32_t func),
                                 void *userdata, uint64_t *out);

/** The export called `name` of kind `kind`, or NULL. */
EXN_INTERNAL const exn_export_t *exn_module_export(const exn_module_info_t *info, const char *name,
                                                   uint8_t kind);

/** Type of function `index` (imports count first), or NULL. */
EXN_INTERNAL const exn_functype_t *exn_module_func_type(const exn_module_info_t *info,
                                                        uint32_t index);

/** The text name of a value type byte ("i32", "funcref", ...), "?" for any other byte. */
EXN_INTERNAL const char *exn_valtype_name(uint8_t t);

/** Write a signature like "(i64, i32) -> (i64)" into buf. */
EXN_INTERNAL void exn_functype_format(const exn_functype_t *t, char *buf, size_t buf_len);

#endif
