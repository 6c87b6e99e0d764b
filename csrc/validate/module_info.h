/* module_info.h: what the core needs to know about a wasm module before wasm3 sees it: its
 * function types, imports, exports, memory limits and start function.
 *
 * wasm3 0.5.0 looks functions up by any of their names - including debug names from the "name"
 * section - so a plugin could be called through a function it never exported.  Calls go through
 * the export table read here instead, and imports are listed from here so that a load error can
 * name every unresolved module::name at once. */
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

typedef struct {
    char *module, *name;
    uint8_t kind;
    uint32_t type_index; /* functions: index into types */
} exn_import_t;

typedef struct {
    char *name;
    uint8_t kind;
    uint32_t index;
} exn_export_t;

typedef struct {
    exn_functype_t *types;
    uint32_t n_types;
    exn_import_t *imports;
    uint32_t n_imports, n_func_imports;
    uint32_t *func_type; /* type index of every function, imports first */
    uint32_t n_funcs;
    exn_export_t *exports; /* sorted by name */
    uint32_t n_exports;
    bool has_memory, memory_imported, memory_has_max;
    uint32_t memory_min, memory_max;
    bool has_start;
} exn_module_info_t;

/** Read the module's structure.  Returns EXN_OK, EXN_ERR_LOAD ("malformed wasm at offset N:
 *  reason") or EXN_ERR_NOMEM. */
EXN_INTERNAL exn_status_t exn_module_scan(const uint8_t *bytes, size_t len,
                                          exn_module_info_t *out, char *errbuf,
                                          size_t errbuf_len);
EXN_INTERNAL void exn_module_info_free(exn_module_info_t *info);

/** The export called `name` of kind `kind`, or NULL. */
EXN_INTERNAL const exn_export_t *exn_module_export(const exn_module_info_t *info,
                                                   const char *name, uint8_t kind);

/** Type of function `index` (imports count first), or NULL. */
EXN_INTERNAL const exn_functype_t *exn_module_func_type(const exn_module_info_t *info,
                                                        uint32_t index);

/** The text name of a value type byte ("i32", "funcref", ...), "?" for any other byte. */
EXN_INTERNAL const char *exn_valtype_name(uint8_t t);

/** Write a signature like "(i64, i32) -> (i64)" into buf. */
EXN_INTERNAL void exn_functype_format(const exn_functype_t *t, char *buf, size_t buf_len);

#endif
