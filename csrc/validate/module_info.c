/* module_info.c: what can be asked of a module description (module_info.h) once the validator
 * (validate.c) has filled it: lookups by export name and function index, type names and
 * signatures for messages, constant expressions evaluated, and freeing.  Nothing here decodes
 * sections: the description was decoded once, while validating.
 * Reference: WebAssembly Core Specification 2.0, sections 3.3.10 (constant expressions) and
 * 5.4 (their instructions' binary format).
 * May call: wasm_read.h (to read the immediates of a validated constant expression), the
 * allocator. */
#include "module_info.h"

#include <stdio.h>
#include <stdlib.h>

#include "wasm_read.h"

void exn_module_info_free(exn_module_info_t *info)
{
    for (uint32_t i = 0; i < info->n_types; i++)
        exn_free(info->types[i].types);
    exn_free(info->types);
    for (uint32_t i = 0; i < info->n_imports; i++) {
        exn_free(info->imports[i].module);
        exn_free(info->imports[i].name);
    }
    exn_free(info->imports);
    exn_free(info->func_type);
    exn_free(info->bodies);
    exn_free(info->tables);
    exn_free(info->memories);
    exn_free(info->globals);
    for (uint32_t i = 0; i < info->n_exports; i++)
        exn_free(info->exports[i].name);
    exn_free(info->exports);
    for (uint32_t i = 0; i < info->n_elems; i++)
        exn_free(info->elems[i].items);
    exn_free(info->elems);
    exn_free(info->datas);
    memset(info, 0, sizeof *info);
}

static int cmp_export(const void *a, const void *b)
{
    const exn_export_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (int)x->kind - (int)y->kind;
}

const exn_export_t *exn_module_export(const exn_module_info_t *info, const char *name, uint8_t kind)
{
    exn_export_t key = {(char *)name, kind, 0};
    return info->n_exports ? bsearch(&key, info->exports, info->n_exports, sizeof key, cmp_export)
                           : NULL;
}

const exn_functype_t *exn_module_func_type(const exn_module_info_t *info, uint32_t index)
{
    return index < info->n_funcs ? &info->types[info->func_type[index]] : NULL;
}

const char *exn_valtype_name(uint8_t t)
{
    switch (t) {
    case EXN_WASM_I32: return "i32";
    case EXN_WASM_I64: return "i64";
    case EXN_WASM_F32: return "f32";
    case EXN_WASM_F64: return "f64";
    case EXN_WASM_V128: return "v128";
    case EXN_WASM_FUNCREF: return "funcref";
    case EXN_WASM_EXTERNREF: return "externref";
    }
    return "?";
}

void exn_functype_format(const exn_functype_t *t, char *buf, size_t buf_len)
{
    size_t n = 0;
    for (uint32_t i = 0; i < t->n_params + t->n_results && n < buf_len; i++) {
        const char *sep = i == 0 ? "(" : i == t->n_params ? ") -> (" : ", ";
        if (i == t->n_params && i == 0)
            sep = "() -> (";
        int w = snprintf(buf + n, buf_len - n, "%s%s", sep, exn_valtype_name(t->types[i]));
        n += w > 0 ? (size_t)w : 0;
    }
    if (n < buf_len) {
        const char *tail = t->n_params + t->n_results == 0 ? "() -> ()"
                           : t->n_results == 0             ? ") -> ()"
                                                           : ")";
        snprintf(buf + n, buf_len - n, "%s", tail);
    }
}

/* ---- constant expressions ------------------------------------------------------------------ */

#define CONST_STACK 32 /* values; a 2.0 expression has one, an extended one a few more */

/* Where global g's value starts in the `globals` slots of exn_const_eval: one slot per global
 * before it, two for a v128. */
static size_t global_slot(const exn_module_info_t *info, uint32_t g)
{
    size_t k = 0;
    for (uint32_t i = 0; i < g && i < info->n_globals; i++)
        k += info->globals[i].type == EXN_WASM_V128 ? 2 : 1;
    return k;
}

typedef struct {
    uint64_t lo, hi; /* hi: a v128's second slot */
    bool wide;
} const_value_t;

void exn_const_eval(const exn_module_info_t *info, const uint8_t *wasm, exn_range_t expr,
                    const uint64_t *globals, uint64_t (*ref_func)(void *userdata, uint32_t func),
                    void *userdata, uint64_t *out)
{
    /* The expression was validated: every read below succeeds and types agree.  The reads are
     * checked all the same: a failure leaves zero and never reads past the expression. */
    exn_wread_t r = exn_wread_init(wasm + expr.offset, wasm + expr.offset + expr.len);
    const_value_t stack[CONST_STACK];
    size_t sp = 0;
    out[0] = 0;
    for (;;) {
        uint8_t op;
        uint32_t x;
        int64_t k;
        const uint8_t *bytes;
        const_value_t v = {0, 0, false};
        if (!exn_wread_u8(&r, &op))
            return;
        switch (op) {
        case 0x0B: /* end */
            if (sp > 0) {
                out[0] = stack[sp - 1].lo;
                if (stack[sp - 1].wide)
                    out[1] = stack[sp - 1].hi;
            }
            return;
        case 0x41: /* i32.const */
            if (!exn_wread_sleb(&r, 32, &k))
                return;
            v.lo = (uint32_t)k;
            break;
        case 0x42: /* i64.const */
            if (!exn_wread_sleb(&r, 64, &k))
                return;
            v.lo = (uint64_t)k;
            break;
        case 0x43: /* f32.const: its bits, little-endian in the module */
            if (!exn_wread_bytes(&r, 4, &bytes))
                return;
            v.lo = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
                   (uint32_t)bytes[3] << 24;
            break;
        case 0x44: /* f64.const */
            if (!exn_wread_bytes(&r, 8, &bytes))
                return;
            v.lo = exn_read_u64le(bytes);
            break;
        case 0xD0: /* ref.null t */
            if (!exn_wread_u8(&r, &op))
                return;
            break;
        case 0xD2: /* ref.func f */
            if (!exn_wread_u32(&r, &x))
                return;
            v.lo = ref_func ? ref_func(userdata, x) : 0;
            break;
        case 0x23: { /* global.get g */
            if (!exn_wread_u32(&r, &x) || x >= info->n_globals)
                return;
            size_t at = global_slot(info, x);
            v.wide = info->globals[x].type == EXN_WASM_V128;
            v.lo = globals ? globals[at] : 0;
            v.hi = globals && v.wide ? globals[at + 1] : 0;
            break;
        }
        case 0x6A:
        case 0x6B:
        case 0x6C: /* i32.add, sub, mul (extended constants) */
        case 0x7C:
        case 0x7D:
        case 0x7E: { /* i64.add, sub, mul */
            if (sp < 2)
                return;
            sp--;
            uint64_t a = stack[sp - 1].lo, b = stack[sp].lo, res;
            switch (op) {
            case 0x6A:
            case 0x7C: res = a + b; break;
            case 0x6B:
            case 0x7D: res = a - b; break;
            default: res = a * b; break;
            }
            stack[sp - 1].lo = op < 0x70 ? (uint32_t)res : res;
            continue;
        }
        case 0xFD: /* v128.const (SIMD): 16 bytes, the low lane first */
            if (!exn_wread_u32(&r, &x) || x != 12 || !exn_wread_bytes(&r, 16, &bytes))
                return;
            v.lo = exn_read_u64le(bytes);
            v.hi = exn_read_u64le(bytes + 8);
            v.wide = true;
            break;
        default: return; /* not a constant instruction: not reached for a validated module */
        }
        if (sp == CONST_STACK)
            return;
        stack[sp++] = v;
    }
}
