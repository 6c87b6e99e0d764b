/* validate.c: the WebAssembly 2.0 validator (validate.h), module level.  It decodes every
 * section by the binary format (spec 5.5: order, sizes consumed exactly, counts that agree)
 * and validates the module (spec 3.4: types, imports, functions, tables, memories, globals,
 * exports, start function, element and data segments, constant expressions), handing each
 * function body to validate_code.c.  The 2.0 feature set: MVP, multi-value, sign extension,
 * non-trapping conversions, bulk memory, reference types, fixed-width SIMD (v128); and from 3.0
 * extended constant expressions and tail calls.  Other proposals (relaxed SIMD, threads,
 * exceptions, memory64, GC and typed references, multi-memory) are refused as unsupported.
 *
 * Decode once: while it validates, it fills the module description (module_info.h) that
 * the rest of the core uses - nothing decodes the module's sections again.
 *
 * Custom sections are not validated: a malformed one (a bad "name" section too) is no error;
 * the "name" and "producers" sections are located for the description, and the "name" section
 * is read, leniently, only to name a function in a message.  Everything is read from the
 * caller's bytes through wasm_read.h; what the description keeps is bounded by the sizes of
 * the sections it comes from.
 * May call: wasm_read.h, validate_code.h, module_info.h, the allocator. */
#include "validate.h"

#include <stdlib.h>

#include "validate_code.h"
#include "wasm_read.h"

#define NO_FUNC UINT32_MAX
#define NO_SECTION 0xFF

typedef struct {
    exn_vctx_t c;
    exn_module_info_t *info; /* the description being filled */
    exn_verror_t err;
    exn_wread_t r; /* the section being read */
    const uint8_t *base;
    uint8_t section; /* id of the section being read, for messages; NO_SECTION outside */
    uint32_t func;   /* index of the function being validated, for messages */
    uint32_t n_func_decls;
    const uint8_t *func_sec_at, *count_sec_at; /* where the counts checked at the end were */
    bool has_code;
    bool has_data;
    bool skip_bodies; /* EXN_VALIDATE_SKIP_BODIES */
    exn_vcode_t *code;
} vmod_t;

static const char *const SECTION_NAMES[14] = {
    "custom", "type",  "import",  "function", "table", "memory",     "global",
    "export", "start", "element", "code",     "data",  "data count", "tag"};

#define OFFSET(m, at) ((size_t)((at) - (m)->base))
#define BAD(m, at, ...) exn_verror(&(m)->err, EXN_ERR_LOAD, OFFSET(m, at), __VA_ARGS__)
#define UNSUPPORTED(m, at, ...)                                                                    \
    exn_verror(&(m)->err, EXN_ERR_UNSUPPORTED, OFFSET(m, at), __VA_ARGS__)
#define NOMEM(m) exn_verror(&(m)->err, EXN_ERR_NOMEM, OFFSET(m, (m)->r.p), "out of memory")

/* ---- small readers -------------------------------------------------------------------------- */

static bool u8(vmod_t *m, uint8_t *out)
{
    return exn_wread_u8(&m->r, out);
}

static bool u32(vmod_t *m, uint32_t *out)
{
    return exn_wread_u32(&m->r, out);
}

/* A vector length whose items take at least `min_size` bytes each: a count that cannot fit in
 * the section is malformed, which also bounds every allocation by the section size. */
static bool count(vmod_t *m, uint32_t *out, size_t min_size)
{
    const uint8_t *at = m->r.p;
    if (!u32(m, out))
        return false;
    if (*out > exn_wread_left(&m->r) / min_size)
        return BAD(m, at, "unexpected end: the section is too short for %u entries", *out);
    return true;
}

/* Resize the array whose pointer is at `field` to n items of `size` bytes.  (The pointer is
 * copied in and out with memcpy: it may be a uint32_t * or a struct pointer.) */
static bool grow(vmod_t *m, void *field, size_t n, size_t size)
{
    void *old, *p;
    if (n == 0)
        return true;
    if (n > SIZE_MAX / size)
        return NOMEM(m);
    memcpy(&old, field, sizeof old);
    p = exn_realloc(old, n * size);
    if (!p)
        return NOMEM(m);
    memcpy(field, &p, sizeof p);
    return true;
}

/* As grow, from n_old to n items, the new ones zeroed (so that a failure part-way leaves
 * nothing for exn_module_info_free to trip on). */
static bool grow_zero(vmod_t *m, void *field, size_t n_old, size_t n, size_t size)
{
    if (!grow(m, field, n, size))
        return false;
    if (n > n_old) {
        uint8_t *p;
        memcpy(&p, field, sizeof p);
        memset(p + n_old * size, 0, (n - n_old) * size);
    }
    return true;
}

/* A name as the description keeps it: a C string, each NUL stored as C0 80 (module_info.h). */
static bool c_name(vmod_t *m, const uint8_t *s, uint32_t n, char **out)
{
    size_t nuls = 0;
    for (uint32_t i = 0; i < n; i++)
        nuls += s[i] == '\0';
    char *p = exn_malloc((size_t)n + nuls + 1);
    if (!p)
        return NOMEM(m);
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (s[i] == '\0') {
            p[k++] = (char)0xC0;
            p[k++] = (char)0x80;
        } else
            p[k++] = (char)s[i];
    }
    p[k] = '\0';
    *out = p;
    return true;
}

/* The feature a value type of a signature, global or import needs (v128: SIMD). */
static void ref_feature(vmod_t *m, uint8_t t)
{
    if (t == EXN_WASM_FUNCREF || t == EXN_WASM_EXTERNREF)
        m->info->features |= EXN_FEATURE_REFERENCE_TYPES;
    else if (t == EXN_WASM_V128)
        m->info->features |= EXN_FEATURE_SIMD;
}

static exn_range_t range_of(const vmod_t *m, const uint8_t *from, const uint8_t *to)
{
    exn_range_t r = {(uint32_t)(from - m->base), (uint32_t)(to - from)};
    return r;
}

static bool valtype(vmod_t *m, uint8_t *out)
{
    if (!u8(m, out) || !exn_vcheck_valtype(&m->err, &m->c, m->r.p - 1, *out))
        return false;
    ref_feature(m, *out);
    return true;
}

static bool reftype(vmod_t *m, uint8_t *out)
{
    if (!u8(m, out))
        return false;
    if (*out == EXN_WASM_FUNCREF || *out == EXN_WASM_EXTERNREF)
        return true;
    if (exn_valtype_class(*out) == EXN_VT_UNSUPPORTED)
        return exn_vcheck_valtype(&m->err, &m->c, m->r.p - 1, *out);
    return BAD(m, m->r.p - 1, "malformed reference type 0x%02x", *out);
}

static bool limits(vmod_t *m, bool memory, uint32_t *out_min, uint32_t *out_max, bool *out_has_max)
{
    const uint8_t *at = m->r.p;
    uint8_t flags;
    uint32_t min, max = 0;
    if (!u8(m, &flags))
        return false;
    if (flags > 1) {
        /* bit 1: shared (threads, memories only), bit 2: 64-bit (memory64) */
        if (flags <= 7 && (flags & 4))
            return UNSUPPORTED(m, at,
                               "64-bit memories and tables (from the memory64 proposal) "
                               "are not supported by extism_native (limits flags 0x%02x)",
                               flags);
        if (flags <= 3 && memory)
            return UNSUPPORTED(m, at,
                               "shared memories (from the threads proposal) are not "
                               "supported by extism_native (limits flags 0x%02x)",
                               flags);
        return BAD(m, at, "malformed limits flags 0x%02x", flags);
    }
    if (!u32(m, &min) || (flags && !u32(m, &max)))
        return false;
    if (memory && (min > 65536 || max > 65536))
        return BAD(m, at, "memory size must be at most 65536 pages (4 GiB)");
    if (flags && min > max)
        return BAD(m, at, "size minimum %u must not be greater than the maximum %u", min, max);
    *out_min = min;
    *out_max = max;
    *out_has_max = flags == 1;
    return true;
}

static void mark_ref(vmod_t *m, uint32_t func)
{
    m->c.refs[func >> 3] |= (uint8_t)(1u << (func & 7));
}

static bool func_index(vmod_t *m, uint32_t *x, bool declares)
{
    const uint8_t *at = m->r.p;
    if (!u32(m, x))
        return false;
    if (*x >= m->c.n_funcs)
        return BAD(m, at, "unknown function %u", *x);
    if (declares) {
        /* C.refs: the functions ref.func may name; all sections that declare them come after
         * the function section, so the number of functions is final here */
        if (!m->c.refs) {
            m->c.refs = exn_calloc((m->c.n_funcs + 7) / 8, 1);
            if (!m->c.refs)
                return NOMEM(m);
        }
        mark_ref(m, *x);
    }
    return true;
}

/* A constant expression of type `expect` (spec 3.3.10; WebAssembly 3.0 extends it): constant
 * instructions and `end`, leaving one value of that type.  Constant instructions: t.const,
 * ref.null, ref.func, v128.const, global.get of an immutable global that is imported or (3.0)
 * defined before (`n_readable`: the number of globals it may read), and (extended constant
 * expressions) i32/i64 add, sub and mul.  Its bytes (`end` included) go to *out_range; for an
 * expression of one instruction, its opcode to *out_op (0 otherwise) and a function or global
 * index to *out_x. */
#define CONST_MAX 32 /* operands an expression may stack up (exn_const_eval's limit too) */

static bool const_expr(vmod_t *m, uint8_t expect, uint32_t n_readable, exn_range_t *out_range,
                       uint8_t *out_op, uint32_t *out_x)
{
    const uint8_t *at = m->r.p;
    uint8_t stack[CONST_MAX];
    uint32_t sp = 0, n_ops = 0, x = 0;
    for (;;) {
        const uint8_t *op_at = m->r.p;
        uint8_t op, t = 0;
        int64_t k;
        const uint8_t *bytes;
        if (!u8(m, &op))
            return false;
        if (op == 0x0B)
            break;
        n_ops++;
        switch (op) {
        case 0x41: /* i32.const */
            if (!exn_wread_sleb(&m->r, 32, &k))
                return false;
            t = EXN_WASM_I32;
            break;
        case 0x42: /* i64.const */
            if (!exn_wread_sleb(&m->r, 64, &k))
                return false;
            t = EXN_WASM_I64;
            break;
        case 0x43: /* f32.const */
        case 0x44: /* f64.const */
            if (!exn_wread_bytes(&m->r, op == 0x43 ? 4 : 8, &bytes))
                return false;
            t = op == 0x43 ? EXN_WASM_F32 : EXN_WASM_F64;
            break;
        case 0xD0: /* ref.null t */
            if (!reftype(m, &t))
                return false;
            break;
        case 0xD2: /* ref.func f */
            if (!func_index(m, &x, true))
                return false;
            t = EXN_WASM_FUNCREF;
            break;
        case 0x23: /* global.get g */
            if (!u32(m, &x))
                return false;
            if (x >= n_readable)
                return BAD(m, op_at,
                           "unknown global %u (a constant expression may read only "
                           "imported globals and globals defined before it)",
                           x);
            if (m->c.globals[x].mut)
                return BAD(m, op_at, "constant expression required: global %u is mutable", x);
            if (x >= m->c.n_global_imports)
                m->info->features |= EXN_FEATURE_EXTENDED_CONST;
            t = m->c.globals[x].type;
            break;
        case 0xFD: { /* v128.const: 0xFD 12, then 16 bytes */
            uint32_t sub;
            if (!u32(m, &sub))
                return false;
            if (sub != 12)
                return BAD(m, op_at,
                           "constant expression required (opcode 0xfd %u is not constant)", sub);
            if (!exn_wread_bytes(&m->r, 16, &bytes))
                return false;
            t = EXN_WASM_V128;
            break;
        }
        case 0x6A:
        case 0x6B:
        case 0x6C: /* i32.add, sub, mul (extended constant expressions) */
        case 0x7C:
        case 0x7D:
        case 0x7E: { /* i64.add, sub, mul */
            uint8_t want = op < 0x70 ? EXN_WASM_I32 : EXN_WASM_I64;
            if (sp < 2 || stack[sp - 1] != want || stack[sp - 2] != want)
                return BAD(m, op_at,
                           "type mismatch in constant expression: %s.%s expects two "
                           "%s operands",
                           exn_valtype_name(want),
                           (op == 0x6A || op == 0x7C)   ? "add"
                           : (op == 0x6B || op == 0x7D) ? "sub"
                                                        : "mul",
                           exn_valtype_name(want));
            m->info->features |= EXN_FEATURE_EXTENDED_CONST;
            sp -= 2;
            t = want;
            break;
        }
        default:
            return BAD(m, op_at, "constant expression required (opcode 0x%02x is not constant)",
                       op);
        }
        if (sp == CONST_MAX)
            return UNSUPPORTED(m, op_at,
                               "a constant expression stacking more than %u values is "
                               "not supported by extism_native",
                               CONST_MAX);
        stack[sp++] = t;
    }
    if (sp == 0)
        return BAD(m, at, "type mismatch: empty constant expression, expected %s",
                   exn_valtype_name(expect));
    if (sp > 1)
        return BAD(m, at, "type mismatch: constant expression leaves more than one value (%u)", sp);
    if (stack[0] != expect)
        return BAD(m, at, "type mismatch in constant expression: expected %s, found %s",
                   exn_valtype_name(expect), exn_valtype_name(stack[0]));
    *out_range = range_of(m, at, m->r.p);
    if (out_op)
        *out_op = n_ops == 1 ? *at : 0;
    if (out_x)
        *out_x = x;
    return true;
}

/* ---- sections ------------------------------------------------------------------------------- */

static bool section_type(vmod_t *m)
{
    exn_module_info_t *info = m->info;
    uint32_t n;
    if (!count(m, &n, 3) || !grow(m, &m->c.types, n, sizeof *m->c.types) ||
        !grow_zero(m, &info->types, 0, n, sizeof *info->types))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = m->r.p;
        exn_vfunctype_t *t = &m->c.types[i];
        uint8_t form;
        if (!u8(m, &form))
            return false;
        if (form != 0x60) {
            if (form == 0x4E || form == 0x4F || form == 0x50 || form == 0x5E || form == 0x5F)
                return UNSUPPORTED(m, at,
                                   "GC types (from the GC proposal) are not supported by "
                                   "extism_native");
            return BAD(m, at, "malformed function type: form 0x%02x, expected 0x60", form);
        }
        uint32_t *counts[2] = {&t->n_params, &t->n_results};
        const uint8_t **lists[2] = {&t->params, &t->results};
        for (int k = 0; k < 2; k++) {
            if (!u32(m, counts[k]) || !exn_wread_bytes(&m->r, *counts[k], lists[k]))
                return false;
            for (uint32_t j = 0; j < *counts[k]; j++) {
                if (!exn_vcheck_valtype(&m->err, &m->c, *lists[k] + j, (*lists[k])[j]))
                    return false;
                ref_feature(m, (*lists[k])[j]);
            }
        }
        if (t->n_params > EXN_VMAX_PARAMS || t->n_results > EXN_VMAX_RESULTS)
            return UNSUPPORTED(m, at,
                               "type %u has %u parameters and %u results: more than %u is "
                               "not supported by extism_native",
                               i, t->n_params, t->n_results, EXN_VMAX_PARAMS);
        if (t->n_results > 1)
            info->features |= EXN_FEATURE_MULTI_VALUE;
        /* the description's copy: params then results */
        exn_functype_t *d = &info->types[i];
        if (!(d->types = exn_malloc((size_t)t->n_params + t->n_results)))
            return NOMEM(m);
        if (t->n_params)
            memcpy(d->types, t->params, t->n_params);
        if (t->n_results)
            memcpy(d->types + t->n_params, t->results, t->n_results);
        d->n_params = t->n_params;
        d->n_results = t->n_results;
        info->n_types = ++m->c.n_types;
    }
    return true;
}

/* The context's function list is the description's (type index of every function). */
static bool grow_funcs(vmod_t *m, size_t n)
{
    if (!grow(m, &m->info->func_type, n, sizeof *m->info->func_type))
        return false;
    m->c.funcs = m->info->func_type;
    return true;
}

static bool add_memory(vmod_t *m, const uint8_t *at, uint32_t min, uint32_t max, bool has_max,
                       bool imported)
{
    exn_module_info_t *info = m->info;
    if (++m->c.n_mems > 1) {
        m->info->features |= EXN_FEATURE_MULTI_MEMORY;
        return UNSUPPORTED(m, at,
                           "multiple memories (from the multi-memory proposal) are not "
                           "supported by extism_native");
    }
    if (!grow_zero(m, &info->memories, info->n_memories, (size_t)info->n_memories + 1,
                   sizeof *info->memories))
        return false;
    exn_memtype_t *mt = &info->memories[info->n_memories++];
    mt->min = min;
    mt->max = max;
    mt->has_max = has_max;
    if (imported)
        info->n_memory_imports++;
    /* memory 0 */
    info->has_memory = true;
    info->memory_imported = imported;
    info->memory_min = min;
    info->memory_max = max;
    info->memory_has_max = has_max;
    return true;
}

static bool add_table(vmod_t *m, uint8_t t, uint32_t min, uint32_t max, bool has_max)
{
    exn_module_info_t *info = m->info;
    if (!grow_zero(m, &info->tables, info->n_tables, (size_t)info->n_tables + 1,
                   sizeof *info->tables))
        return false;
    exn_tabletype_t *tt = &info->tables[info->n_tables++];
    tt->elem_type = t;
    tt->min = min;
    tt->max = max;
    tt->has_max = has_max;
    m->c.tables[m->c.n_tables++] = t;
    if (m->c.n_tables > 1 || t == EXN_WASM_EXTERNREF)
        info->features |= EXN_FEATURE_REFERENCE_TYPES;
    return true;
}

static bool section_import(vmod_t *m)
{
    exn_vctx_t *c = &m->c;
    exn_module_info_t *info = m->info;
    uint32_t n;
    /* at most n of each kind: room for all, trimmed by nothing (n is bounded by the section) */
    if (!count(m, &n, 4) || !grow_funcs(m, n) || !grow(m, &c->tables, n, 1) ||
        !grow(m, &c->globals, n, sizeof *c->globals) ||
        !grow_zero(m, &info->imports, 0, n, sizeof *info->imports) ||
        !grow_zero(m, &info->globals, 0, n, sizeof *info->globals))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *module, *name;
        uint32_t module_len, name_len, x, min, max;
        bool has_max;
        uint8_t kind, t;
        if (!exn_wread_name(&m->r, &module, &module_len) ||
            !exn_wread_name(&m->r, &name, &name_len))
            return false;
        exn_import_t *im = &info->imports[info->n_imports++];
        if (!c_name(m, module, module_len, &im->module) || !c_name(m, name, name_len, &im->name))
            return false;
        const uint8_t *at = m->r.p;
        if (!u8(m, &kind))
            return false;
        im->kind = kind;
        switch (kind) {
        case EXN_EXTERN_FUNC:
            if (!u32(m, &x))
                return false;
            if (x >= c->n_types)
                return BAD(m, at + 1, "unknown type %u", x);
            c->funcs[c->n_funcs++] = x;
            im->type_index = x;
            break;
        case EXN_EXTERN_TABLE:
            if (!reftype(m, &t) || !limits(m, false, &min, &max, &has_max))
                return false;
            im->type_index = c->n_tables;
            if (!add_table(m, t, min, max, has_max))
                return false;
            info->n_table_imports++;
            break;
        case EXN_EXTERN_MEMORY:
            if (!limits(m, true, &min, &max, &has_max))
                return false;
            im->type_index = c->n_mems;
            if (!add_memory(m, at, min, max, has_max, true))
                return false;
            break;
        case EXN_EXTERN_GLOBAL: {
            uint8_t mut;
            if (!valtype(m, &t) || !u8(m, &mut))
                return false;
            if (mut > 1)
                return BAD(m, m->r.p - 1, "malformed mutability 0x%02x", mut);
            im->type_index = c->n_globals;
            info->globals[c->n_globals].type = t;
            info->globals[c->n_globals].mut = mut;
            c->globals[c->n_globals].type = t;
            c->globals[c->n_globals++].mut = mut;
            break;
        }
        case 4:
            return UNSUPPORTED(m, at,
                               "tag imports (from the exception handling proposal) are "
                               "not supported by extism_native");
        default: return BAD(m, at, "malformed import kind %u", kind);
        }
    }
    c->n_func_imports = c->n_funcs;
    c->n_global_imports = c->n_globals;
    info->n_funcs = info->n_func_imports = c->n_funcs;
    info->n_globals = info->n_global_imports = c->n_globals;
    return true;
}

static bool section_function(vmod_t *m)
{
    exn_vctx_t *c = &m->c;
    const uint8_t *at0 = m->r.p;
    uint32_t n;
    if (!count(m, &n, 1) || !grow_funcs(m, (size_t)c->n_funcs + n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = m->r.p;
        uint32_t x;
        if (!u32(m, &x))
            return false;
        if (x >= c->n_types)
            return BAD(m, at, "unknown type %u for function %u", x, c->n_funcs);
        c->funcs[c->n_funcs++] = x;
    }
    m->info->n_funcs = c->n_funcs;
    m->n_func_decls = n;
    m->func_sec_at = at0;
    return true;
}

static bool section_table(vmod_t *m)
{
    exn_vctx_t *c = &m->c;
    uint32_t n;
    if (!count(m, &n, 3) || !grow(m, &c->tables, (size_t)c->n_tables + n, 1))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t t;
        uint32_t min, max;
        bool has_max;
        if (!reftype(m, &t) || !limits(m, false, &min, &max, &has_max) ||
            !add_table(m, t, min, max, has_max))
            return false;
    }
    return true;
}

static bool section_memory(vmod_t *m)
{
    uint32_t n;
    if (!count(m, &n, 2))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = m->r.p;
        uint32_t min, max;
        bool has_max;
        if (!limits(m, true, &min, &max, &has_max) || !add_memory(m, at, min, max, has_max, false))
            return false;
    }
    return true;
}

static bool section_global(vmod_t *m)
{
    exn_vctx_t *c = &m->c;
    exn_module_info_t *info = m->info;
    uint32_t n;
    if (!count(m, &n, 3) || !grow(m, &c->globals, (size_t)c->n_globals + n, sizeof *c->globals) ||
        !grow_zero(m, &info->globals, info->n_globals, (size_t)c->n_globals + n,
                   sizeof *info->globals))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t t, mut;
        exn_range_t init;
        if (!valtype(m, &t) || !u8(m, &mut))
            return false;
        if (mut > 1)
            return BAD(m, m->r.p - 1, "malformed mutability 0x%02x", mut);
        if (!const_expr(m, t, c->n_globals, &init, NULL, NULL))
            return false;
        exn_globaltype_t *g = &info->globals[c->n_globals];
        g->type = t;
        g->mut = mut;
        g->init = init;
        c->globals[c->n_globals].type = t;
        c->globals[c->n_globals++].mut = mut;
        info->n_globals = c->n_globals;
    }
    return true;
}

typedef struct {
    const uint8_t *s;
    uint32_t n;
} name_t;

static int cmp_name(const void *a, const void *b)
{
    const name_t *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    int d = x->n ? memcmp(x->s, y->s, x->n) : 0;
    return d ? d : (x->s < y->s ? -1 : x->s > y->s);
}

static int cmp_export(const void *a, const void *b)
{
    const exn_export_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (int)x->kind - (int)y->kind;
}

static bool section_export(vmod_t *m)
{
    const exn_vctx_t *c = &m->c;
    exn_module_info_t *info = m->info;
    uint32_t n;
    if (!count(m, &n, 3) || !grow_zero(m, &info->exports, 0, n, sizeof *info->exports))
        return false;
    name_t *names = n ? exn_malloc((size_t)n * sizeof *names) : NULL;
    if (n && !names)
        return NOMEM(m);
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) {
        uint8_t kind;
        uint32_t x;
        if (!exn_wread_name(&m->r, &names[i].s, &names[i].n))
            ok = false;
        const uint8_t *at = m->r.p;
        if (!ok || !u8(m, &kind)) {
            ok = false;
            break;
        }
        switch (kind) {
        case EXN_EXTERN_FUNC: ok = func_index(m, &x, true); break;
        case EXN_EXTERN_TABLE:
        case EXN_EXTERN_MEMORY:
        case EXN_EXTERN_GLOBAL: {
            uint32_t limit = kind == EXN_EXTERN_TABLE    ? c->n_tables
                             : kind == EXN_EXTERN_MEMORY ? c->n_mems
                                                         : c->n_globals;
            ok = u32(m, &x) && (x < limit || BAD(m, at + 1, "unknown %s %u",
                                                 kind == EXN_EXTERN_TABLE    ? "table"
                                                 : kind == EXN_EXTERN_MEMORY ? "memory"
                                                                             : "global",
                                                 x));
            break;
        }
        case 4:
            ok = UNSUPPORTED(m, at,
                             "tag exports (from the exception handling proposal) are "
                             "not supported by extism_native");
            break;
        default: ok = BAD(m, at, "malformed export kind %u", kind); break;
        }
        if (ok) {
            exn_export_t *e = &info->exports[info->n_exports++];
            e->kind = kind;
            e->index = x;
            ok = c_name(m, names[i].s, names[i].n, &e->name);
        }
    }
    if (ok && n > 1) {
        /* sorting, not hashing: names chosen to collide cannot make it quadratic */
        qsort(names, n, sizeof *names, cmp_name);
        for (uint32_t i = 1; i < n; i++) {
            if (names[i].n == names[i - 1].n &&
                (names[i].n == 0 || memcmp(names[i].s, names[i - 1].s, names[i].n) == 0)) {
                int len = names[i].n > 64 ? 64 : (int)names[i].n;
                ok = BAD(m, names[i].s - 1, "duplicate export name \"%.*s\"", len,
                         (const char *)names[i].s);
                break;
            }
        }
        /* the description's table, for lookups by name (exn_module_export) */
        if (ok)
            qsort(info->exports, n, sizeof *info->exports, cmp_export);
    }
    exn_free(names);
    return ok;
}

static bool section_start(vmod_t *m)
{
    const uint8_t *at = m->r.p;
    uint32_t x;
    if (!func_index(m, &x, false))
        return false;
    const exn_vfunctype_t *t = &m->c.types[m->c.funcs[x]];
    if (t->n_params || t->n_results)
        return BAD(m, at,
                   "start function %u must have type [] -> [], it has %u parameters and "
                   "%u results",
                   x, t->n_params, t->n_results);
    m->info->has_start = true;
    m->info->start = x;
    return true;
}

static bool section_element(vmod_t *m)
{
    exn_vctx_t *c = &m->c;
    exn_module_info_t *info = m->info;
    uint32_t n;
    if (!count(m, &n, 2) || !grow(m, &c->elems, n, 1) ||
        !grow_zero(m, &info->elems, 0, n, sizeof *info->elems))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = m->r.p;
        uint32_t flags, table = 0, items, x;
        uint8_t type = EXN_WASM_FUNCREF;
        exn_elem_t *seg = &info->elems[info->n_elems++];
        if (!u32(m, &flags))
            return false;
        if (flags > 7)
            return BAD(m, at, "malformed element segment kind %u", flags);
        /* bit 0: passive or declarative (else active); bit 1: with a table index (active) or
         * declarative (else passive); bit 2: elements are expressions (else function indices).
         * Kinds other than 0 and 4 name the element type. */
        bool active = !(flags & 1), exprs = (flags & 4) != 0;
        seg->mode = active        ? EXN_SEGMENT_ACTIVE
                    : (flags & 2) ? EXN_SEGMENT_DECLARATIVE
                                  : EXN_SEGMENT_PASSIVE;
        if (flags != 0)
            info->features |= EXN_FEATURE_BULK_MEMORY;
        if (seg->mode == EXN_SEGMENT_DECLARATIVE)
            info->features |= EXN_FEATURE_REFERENCE_TYPES;
        if (active) {
            const uint8_t *table_at = m->r.p;
            if ((flags & 2) && !u32(m, &table))
                return false;
            if (table >= c->n_tables)
                return BAD(m, table_at, "unknown table %u in element segment %u", table, i);
            if (!const_expr(m, EXN_WASM_I32, m->c.n_globals, &seg->offset, NULL, NULL))
                return false;
        }
        if (flags & 3) {
            if (exprs) {
                if (!reftype(m, &type))
                    return false;
                ref_feature(m, type == EXN_WASM_EXTERNREF ? type : 0);
            } else {
                uint8_t kind;
                if (!u8(m, &kind))
                    return false;
                if (kind != 0x00)
                    return BAD(m, m->r.p - 1, "malformed element kind 0x%02x", kind);
            }
        }
        if (!count(m, &items, 1))
            return false;
        seg->elem_type = type;
        seg->table = table;
        if (items && !(seg->items = exn_malloc((size_t)items * sizeof *seg->items)))
            return NOMEM(m);
        for (uint32_t k = 0; k < items; k++) {
            exn_elem_item_t *item = &seg->items[k];
            memset(item, 0, sizeof *item);
            if (!exprs) {
                if (!func_index(m, &x, true))
                    return false;
                item->kind = EXN_ITEM_FUNC;
                item->func = x;
            } else {
                uint8_t op;
                if (!const_expr(m, type, c->n_globals, &item->expr, &op, &x))
                    return false;
                item->kind = op == 0xD2   ? EXN_ITEM_FUNC
                             : op == 0xD0 ? EXN_ITEM_NULL
                                          : EXN_ITEM_EXPR;
                if (op == 0xD2)
                    item->func = x;
            }
            seg->n_items = k + 1;
        }
        if (active && c->tables[table] != type)
            return BAD(m, at, "type mismatch: element segment %u holds %s, table %u holds %s", i,
                       exn_valtype_name(type), table, exn_valtype_name(c->tables[table]));
        c->elems[c->n_elems++] = type;
    }
    return true;
}

static bool section_code(vmod_t *m)
{
    const uint8_t *at = m->r.p;
    exn_module_info_t *info = m->info;
    uint32_t n;
    if (!count(m, &n, 1))
        return false;
    if (n != m->n_func_decls)
        return BAD(m, at,
                   "function and code section have inconsistent lengths (%u functions, %u "
                   "bodies)",
                   m->n_func_decls, n);
    if (!grow(m, &info->bodies, n, sizeof *info->bodies))
        return false;
    m->code = exn_vcode_new();
    if (!m->code)
        return NOMEM(m);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size;
        const uint8_t *body;
        if (!u32(m, &size) || !exn_wread_bytes(&m->r, size, &body))
            return false;
        m->func = m->c.n_func_imports + i;
        if (!m->skip_bodies &&
            !exn_vcode_check(m->code, &m->c, m->func, body, body + size, &m->err))
            return false;
        m->func = NO_FUNC;
        info->bodies[i] = range_of(m, body, body + size);
    }
    uint32_t features = exn_vcode_features(m->code);
    info->changes_tables = (features & EXN_CODE_CHANGES_TABLES) != 0;
    info->features |= features & ~EXN_CODE_CHANGES_TABLES;
    return true;
}

static bool section_data(vmod_t *m)
{
    const uint8_t *at = m->r.p;
    exn_module_info_t *info = m->info;
    uint32_t n;
    if (!count(m, &n, 2) || !grow_zero(m, &info->datas, 0, n, sizeof *info->datas))
        return false;
    if (m->c.has_data_count && n != m->c.data_count)
        return BAD(m, at, "data count and data section have inconsistent lengths (%u and %u)",
                   m->c.data_count, n);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *seg_at = m->r.p, *bytes;
        uint32_t flags, mem = 0, len;
        exn_data_t *seg = &info->datas[i];
        if (!u32(m, &flags))
            return false;
        if (flags > 2)
            return BAD(m, seg_at, "malformed data segment kind %u", flags);
        if (flags != 1) { /* active */
            const uint8_t *mem_at = m->r.p;
            if (flags == 2 && !u32(m, &mem))
                return false;
            if (mem >= m->c.n_mems)
                return BAD(m, mem_at, "unknown memory %u in data segment %u", mem, i);
            if (!const_expr(m, EXN_WASM_I32, m->c.n_globals, &seg->offset, NULL, NULL))
                return false;
        } else {
            info->features |= EXN_FEATURE_BULK_MEMORY;
        }
        if (!u32(m, &len) || !exn_wread_bytes(&m->r, len, &bytes))
            return false;
        seg->mode = flags == 1 ? EXN_SEGMENT_PASSIVE : EXN_SEGMENT_ACTIVE;
        seg->memory = mem;
        seg->bytes = range_of(m, bytes, bytes + len);
        info->n_datas = i + 1;
    }
    return true;
}

static bool section_custom(vmod_t *m)
{
    const uint8_t *name;
    uint32_t len;
    if (!exn_wread_name(&m->r, &name, &len)) /* the name is part of the binary format */
        return false;
    /* the contents are not: never an error, only located for the description */
    exn_range_t payload = range_of(m, m->r.p, m->r.end);
    exn_module_info_t *info = m->info;
    if (len == 4 && memcmp(name, "name", 4) == 0 && !info->name_section.len)
        info->name_section = payload;
    else if (len == 9 && memcmp(name, "producers", 9) == 0 && !info->producers_section.len)
        info->producers_section = payload;
    m->r.p = m->r.end;
    return true;
}

static bool section(vmod_t *m, uint8_t id)
{
    switch (id) {
    case 0: return section_custom(m);
    case 1: return section_type(m);
    case 2: return section_import(m);
    case 3: return section_function(m);
    case 4: return section_table(m);
    case 5: return section_memory(m);
    case 6: return section_global(m);
    case 7: return section_export(m);
    case 8: return section_start(m);
    case 9: return section_element(m);
    case 10: m->has_code = true; return section_code(m);
    case 11: m->has_data = true; return section_data(m);
    case 12:
        m->c.has_data_count = true;
        m->count_sec_at = m->r.p;
        m->info->features |= EXN_FEATURE_BULK_MEMORY;
        return u32(m, &m->c.data_count);
    default:
        return UNSUPPORTED(m, m->r.p,
                           "the tag section (from the exception handling proposal) "
                           "is not supported by extism_native");
    }
}

/* ---- the name section, for messages -------------------------------------------------------- */

/* The debug name of function `func`, if a well-formed entry for it exists. */
static bool func_name(const uint8_t *wasm, size_t len, uint32_t func, const uint8_t **out,
                      uint32_t *out_len)
{
    exn_wread_t r = exn_wread_init(wasm + 8, wasm + len);
    while (exn_wread_left(&r)) {
        uint8_t id;
        uint32_t size;
        const uint8_t *contents, *name;
        uint32_t name_len;
        if (!exn_wread_u8(&r, &id) || !exn_wread_u32(&r, &size) ||
            !exn_wread_bytes(&r, size, &contents))
            return false;
        exn_wread_t s = exn_wread_init(contents, contents + size);
        if (id != 0 || !exn_wread_name(&s, &name, &name_len) || name_len != 4 ||
            memcmp(name, "name", 4) != 0)
            continue;
        while (exn_wread_left(&s)) {
            uint8_t sub;
            uint32_t sub_size, n, index;
            const uint8_t *sub_contents;
            if (!exn_wread_u8(&s, &sub) || !exn_wread_u32(&s, &sub_size) ||
                !exn_wread_bytes(&s, sub_size, &sub_contents))
                return false;
            if (sub != 1) /* function names */
                continue;
            exn_wread_t f = exn_wread_init(sub_contents, sub_contents + sub_size);
            if (!exn_wread_u32(&f, &n))
                return false;
            for (uint32_t i = 0; i < n; i++) {
                if (!exn_wread_u32(&f, &index) || !exn_wread_name(&f, out, out_len))
                    return false;
                if (index == func)
                    return true;
            }
            return false;
        }
        return false;
    }
    return false;
}

static void format_error(const vmod_t *m, const uint8_t *wasm, size_t len, char *why,
                         size_t why_len)
{
    const exn_verror_t *e = &m->err;
    if (m->func != NO_FUNC) {
        char label[96] = "";
        const uint8_t *name = NULL;
        uint32_t name_len = 0;
        if (func_name(wasm, len, m->func, &name, &name_len)) {
            /* printable and short; cut at a character boundary so the message stays UTF-8 */
            char clean[64];
            uint32_t n = name_len < sizeof clean - 1 ? name_len : (uint32_t)sizeof clean - 1;
            while (n < name_len && n > 0 && (name[n] & 0xC0) == 0x80)
                n--;
            for (uint32_t i = 0; i < n; i++)
                clean[i] = name[i] < 0x20 || name[i] == 0x7F ? '?' : (char)name[i];
            clean[n] = '\0';
            exn_fmt(label, sizeof label, " ($%s%s)", clean, n < name_len ? "..." : "");
        }
        exn_fmt(why, why_len, "function %u%s at offset 0x%zx: %s", m->func, label, e->offset,
                e->msg);
    } else if (m->section != NO_SECTION) {
        exn_fmt(why, why_len, "section %u (%s) at offset 0x%zx: %s", m->section,
                SECTION_NAMES[m->section], e->offset, e->msg);
    } else {
        exn_fmt(why, why_len, "at offset 0x%zx: %s", e->offset, e->msg);
    }
}

/* ---- the module ----------------------------------------------------------------------------- */

static void validate_sections(vmod_t *m, const uint8_t *wasm, size_t len)
{
    /* section order of the spec, with data count (12) between element (9) and code (10) */
    static const uint8_t order[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    exn_wread_t top = exn_wread_init(wasm + 8, wasm + len);
    uint8_t last = 0;
    while (exn_wread_left(&top)) {
        const uint8_t *at = top.p;
        uint8_t id;
        uint32_t size;
        m->section = NO_SECTION;
        if (!exn_wread_u8(&top, &id))
            break;
        if (id > 13) {
            BAD(m, at, "malformed section id %u", id);
            return;
        }
        m->section = id;
        if (!exn_wread_u32(&top, &size)) {
            BAD(m, top.why_at, "%s", top.why);
            return;
        }
        if (size > exn_wread_left(&top)) {
            BAD(m, at, "unexpected end: section size %u, %zu bytes left", size,
                exn_wread_left(&top));
            return;
        }
        if (id != 0 && id != 13) {
            if (order[id] <= last) {
                BAD(m, at, "unexpected content: section out of order or repeated");
                return;
            }
            last = order[id];
        }
        m->r = exn_wread_init(top.p, top.p + size);
        if (!section(m, id)) {
            if (m->err.status == EXN_OK) /* a read failed: malformed */
                BAD(m, m->r.why_at ? m->r.why_at : m->r.p, "%s",
                    m->r.why ? m->r.why : "malformed section");
            return;
        }
        if (m->r.p != m->r.end) {
            BAD(m, m->r.p, "section size mismatch: %zu bytes left over", exn_wread_left(&m->r));
            return;
        }
        top.p += size;
    }
    m->section = NO_SECTION;
    if (!m->has_code && m->n_func_decls) {
        m->section = 3;
        BAD(m, m->func_sec_at,
            "function and code section have inconsistent lengths (%u functions, "
            "no code section)",
            m->n_func_decls);
    } else if (m->c.has_data_count && !m->has_data && m->c.data_count) {
        m->section = 12;
        BAD(m, m->count_sec_at,
            "data count and data section have inconsistent lengths (%u and no "
            "data section)",
            m->c.data_count);
    }
}

exn_status_t exn_validate_module(const uint8_t *wasm, size_t len, exn_module_info_t *info,
                                 char *why, size_t why_len)
{
    return exn_validate_module_flags(wasm, len, 0, info, why, why_len);
}

exn_status_t exn_validate_module_flags(const uint8_t *wasm, size_t len, unsigned flags,
                                       exn_module_info_t *info, char *why, size_t why_len)
{
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    memset(info, 0, sizeof *info);
    if (len >= 4 && len < 8 && memcmp(wasm, magic, 4) == 0) {
        exn_fmt(why, why_len, "truncated WebAssembly module (%zu bytes)", len);
        return EXN_ERR_LOAD;
    }
    if (len < 8 || memcmp(wasm, magic, 4) != 0) {
        exn_fmt(why, why_len, "not a WebAssembly module (no \\0asm header)");
        return EXN_ERR_LOAD;
    }
    if (memcmp(wasm + 4, magic + 4, 4) != 0) {
        exn_fmt(why, why_len, "unsupported WebAssembly binary version (only 1 is supported)");
        return EXN_ERR_LOAD;
    }
    if (len > UINT32_MAX) { /* offsets in the description are 32-bit, as in wasm itself */
        exn_fmt(why, why_len, "a module larger than 4 GiB is not supported (%zu bytes)", len);
        return EXN_ERR_UNSUPPORTED;
    }
    vmod_t m;
    memset(&m, 0, sizeof m);
    m.base = m.c.module = wasm;
    m.info = info;
    m.func = NO_FUNC;
    m.section = NO_SECTION;
    m.skip_bodies = (flags & EXN_VALIDATE_SKIP_BODIES) != 0;
    info->bodies_unchecked = m.skip_bodies;
    validate_sections(&m, wasm, len);
    exn_status_t st = m.err.status;
    if (st != EXN_OK) {
        format_error(&m, wasm, len, why, why_len);
        exn_module_info_free(info);
    }
    exn_vcode_free(m.code);
    exn_free(m.c.types);
    /* (m.c.funcs is the description's) */
    exn_free(m.c.tables);
    exn_free(m.c.globals);
    exn_free(m.c.elems);
    exn_free(m.c.refs);
    return st;
}

exn_status_t exn_module_validate(const uint8_t *wasm, size_t len, char *errbuf, size_t errbuf_len)
{
    if (errbuf && errbuf_len)
        errbuf[0] = '\0';
    if (!wasm && len) {
        exn_fmt(errbuf, errbuf_len, "wasm is NULL but len is %zu", len);
        return EXN_ERR_MISUSE;
    }
    exn_module_info_t info;
    exn_status_t st =
        exn_validate_module(wasm ? wasm : (const uint8_t *)"", len, &info, errbuf, errbuf_len);
    exn_module_info_free(&info);
    return st;
}
