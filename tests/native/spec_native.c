/* spec_native.c: runs one script of the WebAssembly spec test suite (as converted by wast2json,
 * tests/spec/fetch.py) on an engine through engine.h alone - today the compiled tier; the
 * command-line interface, counts and output are spec_run.c's (tests/spec/test_spec.py reads
 * them), so the two tiers' results compare line by line.
 *
 *     spec_native SCRIPT.json      prints one JSON line of counts (and failures on stderr)
 *
 * Every module goes through exn_validate_module, then the engine compiles it (the compiled tier:
 * translation, the C compiler, its cache - set EXTISM_NATIVE_CACHE_DIR to keep the suite's
 * entries apart), instantiates it with its imports and runs its start function.  Imports come
 * from the `spectest` module or from registered instances: functions through a host function
 * that calls the other instance; globals, memories and tables are the provider's own (engine.h,
 * issue 17), as spec_run.c links them for wasm3; the spectest module's are copies
 * (engine/native/native.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/native/native.h"
#include "support/json.h"
#include "support/os.h"
#include "validate/validate.h"

#define MAX_VALUES 64
#define MAX_FAILURES_SHOWN 40

static const exn_engine_t *E = &exn_engine_native;

typedef struct {
    uint8_t type; /* EXN_WASM_* */
    uint64_t bits;
    int nan; /* expected only: 1 canonical, 2 arithmetic */
    bool any_ref; /* expected only: a non-null reference of unknown identity */
    uint8_t v128[16];     /* a v128: its bytes in wasm order */
    uint8_t lane_bits;    /* a v128: the width of its lanes in the script (8 .. 64) */
    bool lane_float;      /* a v128: f32x4 or f64x2 lanes */
    uint8_t lane_nan[16]; /* expected only: the NaN pattern of each float lane, as `nan` */
} value_t;

typedef struct instance instance_t;

/* What one import was given: a function of another instance, or a copied value. */
typedef struct {
    instance_t *target;
    uint32_t index;
    exn_nglobal_import_t global;
    exn_nmemory_import_t memory;
    exn_ntable_import_t table;
} link_t;

struct instance {
    char *name;       /* $name of the module command, or NULL */
    char *registered; /* name given by `register`, or NULL */
    uint8_t *bytes;   /* the engine keeps pointers into them */
    exn_module_info_t info;
    exn_code_t *code;
    exn_instance_t *inst;
    exn_import_value_t *imports;
    link_t *links;
    bool linked_table; /* its functions may be in another instance's table */
    instance_t *next;
};

typedef struct {
    const char *dir; /* of the script, where the .wasm files are */
    instance_t *instances, *current;
    instance_t *retired; /* unregistered, but their functions may be in a registered table */
    int passed, failed, skipped, rejected, accepted, text;
    int by_validator;       /* of `rejected`: refused by exn_validate itself */
    bool last_by_validator; /* the last instantiate failed in exn_validate */
    int line;
    uintptr_t stack_limit;
} runner_t;

static runner_t *RUNNER; /* for the host functions */
static int shown;

static void fail(runner_t *R, const char *fmt, ...) EXN_PRINTF(2, 3);
static void fail(runner_t *R, const char *fmt, ...)
{
    R->failed++;
    if (shown++ >= MAX_FAILURES_SHOWN)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL line %d: ", R->line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- values ----------------------------------------------------------------------------------- */

static uint8_t type_of(const char *s)
{
    static const struct {
        const char *name;
        uint8_t type;
    } types[] = {{"i32", EXN_WASM_I32},       {"i64", EXN_WASM_I64},
                 {"f32", EXN_WASM_F32},       {"f64", EXN_WASM_F64},
                 {"funcref", EXN_WASM_FUNCREF}, {"externref", EXN_WASM_EXTERNREF},
                 {"v128", EXN_WASM_V128}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(s, types[i].name) == 0)
            return types[i].type;
    }
    return 0;
}

/* A v128: {"type": "v128", "lane_type": "i8".."f64", "value": [lane, ...]}, each lane a
 * decimal bit pattern or (expected float lanes only) "nan:canonical" / "nan:arithmetic". */
static bool parse_v128(const exn_json_t *j, value_t *out)
{
    const exn_json_t *lt = exn_json_get(j, "lane_type"), *v = exn_json_get(j, "value");
    if (!lt || lt->kind != EXN_JSON_STRING || !v || v->kind != EXN_JSON_ARRAY ||
        strlen(lt->str) < 2 || (lt->str[0] != 'i' && lt->str[0] != 'f'))
        return false;
    unsigned bits = (unsigned)atoi(lt->str + 1);
    if ((bits != 8 && bits != 16 && bits != 32 && bits != 64) || v->len != 128 / bits)
        return false;
    out->lane_bits = (uint8_t)bits;
    out->lane_float = lt->str[0] == 'f';
    for (size_t i = 0; i < v->len; i++) {
        const exn_json_t *lane = &v->items[i];
        if (lane->kind != EXN_JSON_STRING)
            return false;
        uint64_t x = 0;
        if (out->lane_float && strcmp(lane->str, "nan:canonical") == 0)
            out->lane_nan[i] = 1;
        else if (out->lane_float && strcmp(lane->str, "nan:arithmetic") == 0)
            out->lane_nan[i] = 2;
        else {
            char *end;
            x = strtoull(lane->str, &end, 10);
            if (*end)
                return false;
        }
        for (unsigned k = 0; k < bits / 8; k++) /* little-endian lanes */
            out->v128[i * bits / 8 + k] = (uint8_t)(x >> (8 * k));
    }
    return true;
}

static bool v128_match(const value_t *want, const uint8_t *got)
{
    unsigned n = want->lane_bits / 8;
    for (unsigned i = 0; i < 16 / n; i++) {
        uint64_t g = 0;
        for (unsigned k = 0; k < n; k++)
            g |= (uint64_t)got[i * n + k] << (8 * k);
        if (want->lane_nan[i]) {
            uint64_t quiet = n == 4 ? 0x7FC00000u : 0x7FF8000000000000ull;
            uint64_t mag = n == 4 ? 0x7FFFFFFFu : 0x7FFFFFFFFFFFFFFFull;
            if (want->lane_nan[i] == 1 ? (g & mag) != quiet : (g & quiet) != quiet)
                return false;
        } else if (memcmp(got + i * n, want->v128 + i * n, n) != 0)
            return false;
    }
    return true;
}

static void format_v128(char *buf, size_t len, const uint8_t *b)
{
    exn_fmt(buf, len,
            "v128:%02x%02x%02x%02x %02x%02x%02x%02x %02x%02x%02x%02x %02x%02x%02x%02x (bytes)",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
            b[14], b[15]);
}

/* A JSON value {"type": T, "value": V}.  Integers and floats are decimal bit patterns; a
 * reference is "null" or a number (externref N is our host value N + 1, so that null is 0). */
static bool parse_value(const exn_json_t *j, value_t *out)
{
    const exn_json_t *t = exn_json_get(j, "type"), *v = exn_json_get(j, "value");
    memset(out, 0, sizeof *out);
    if (!t || t->kind != EXN_JSON_STRING || !(out->type = type_of(t->str)))
        return false;
    if (out->type == EXN_WASM_V128)
        return parse_v128(j, out);
    if (!v) {
        /* an expected (ref.func) or (ref.extern) without identity */
        out->any_ref = out->type == EXN_WASM_FUNCREF || out->type == EXN_WASM_EXTERNREF;
        return out->any_ref;
    }
    if (v->kind != EXN_JSON_STRING)
        return false;
    if (strcmp(v->str, "nan:canonical") == 0)
        out->nan = 1;
    else if (strcmp(v->str, "nan:arithmetic") == 0)
        out->nan = 2;
    else if (strcmp(v->str, "null") == 0)
        out->bits = 0;
    else {
        char *end;
        out->bits = strtoull(v->str, &end, 10);
        if (*end)
            return false;
        if (out->type == EXN_WASM_EXTERNREF)
            out->bits += 1;
    }
    return true;
}

static bool values_match(const value_t *want, uint8_t got_type, uint64_t got)
{
    if (want->type != got_type)
        return false;
    switch (want->type) {
    case EXN_WASM_I32: return (uint32_t)got == (uint32_t)want->bits;
    case EXN_WASM_F32:
        got = (uint32_t)got;
        if (want->nan == 1)
            return (got & 0x7FFFFFFFu) == 0x7FC00000u;
        if (want->nan == 2)
            return (got & 0x7FC00000u) == 0x7FC00000u;
        return got == (uint32_t)want->bits;
    case EXN_WASM_F64:
        if (want->nan == 1)
            return (got & 0x7FFFFFFFFFFFFFFFull) == 0x7FF8000000000000ull;
        if (want->nan == 2)
            return (got & 0x7FF8000000000000ull) == 0x7FF8000000000000ull;
        return got == want->bits;
    case EXN_WASM_FUNCREF:
    case EXN_WASM_EXTERNREF:
        return want->any_ref ? got != 0 : got == want->bits;
    default: return got == want->bits;
    }
}

static void format_value(char *buf, size_t len, uint8_t type, uint64_t bits)
{
    switch (type) {
    case EXN_WASM_I32: exn_fmt(buf, len, "i32:%" PRIu32, (uint32_t)bits); break;
    case EXN_WASM_I64: exn_fmt(buf, len, "i64:%" PRIu64, bits); break;
    case EXN_WASM_F32: {
        float f;
        uint32_t b = (uint32_t)bits;
        memcpy(&f, &b, 4);
        exn_fmt(buf, len, "f32:%g(0x%08" PRIx32 ")", (double)f, b);
        break;
    }
    case EXN_WASM_F64: {
        double d;
        memcpy(&d, &bits, 8);
        exn_fmt(buf, len, "f64:%g(0x%016" PRIx64 ")", d, bits);
        break;
    }
    default: exn_fmt(buf, len, "ref:0x%" PRIx64, bits); break;
    }
}

/* ---- the spectest module ---------------------------------------------------------------------- */

static exn_trap_t spectest_print(const exn_caller_t *caller, uint64_t *slots)
{
    (void)caller, (void)slots;
    return NULL;
}

typedef struct {
    const char *name;
    const char *params; /* value type letters: i I f F */
} spectest_func_t;

static const spectest_func_t spectest_funcs[] = {
    {"print", ""},         {"print_i32", "i"},     {"print_i64", "I"},
    {"print_f32", "f"},    {"print_f64", "F"},     {"print_i32_f32", "if"},
    {"print_f64_f64", "FF"},
};

static uint8_t letter_type(char c)
{
    return c == 'i' ? EXN_WASM_I32 : c == 'I' ? EXN_WASM_I64 : c == 'f' ? EXN_WASM_F32 : EXN_WASM_F64;
}

/* ---- instances -------------------------------------------------------------------------------- */

static void instance_free(instance_t *in)
{
    if (!in)
        return;
    if (in->inst)
        E->instance_free(in->inst);
    if (in->code)
        E->code_free(in->code);
    exn_module_info_free(&in->info);
    free(in->imports);
    free(in->links);
    exn_free(in->bytes);
    free(in->name);
    free(in->registered);
    free(in);
}

/* An instance that is not kept: freed, unless its functions may be in another instance's table
 * (its element segments wrote there, even if its start function failed): then at the end. */
static void drop_instance(runner_t *R, instance_t *in)
{
    if (!in->linked_table) {
        instance_free(in);
        return;
    }
    in->next = R->retired;
    R->retired = in;
}

static instance_t *find_instance(runner_t *R, const char *name, bool registered)
{
    for (instance_t *in = R->instances; in; in = in->next) {
        const char *n = registered ? in->registered : in->name;
        if (n && strcmp(n, name) == 0)
            return in;
    }
    return NULL;
}

static const exn_export_t *find_export(instance_t *in, const char *name, uint8_t kind)
{
    return exn_module_export(&in->info, name, kind);
}

static bool same_functype(const exn_functype_t *a, const exn_functype_t *b)
{
    return a->n_params == b->n_params && a->n_results == b->n_results &&
           memcmp(a->types, b->types, a->n_params + a->n_results) == 0;
}

/* Imports of functions exported by another instance land here: slots (results, then params)
 * to engine.call's layout (params in, results out) and back. */
static exn_trap_t trampoline(const exn_caller_t *caller, uint64_t *slots)
{
    link_t *link = caller->env;
    instance_t *target = link->target;
    const exn_functype_t *t = exn_module_func_type(&target->info, link->index);
    uint64_t tmp[MAX_VALUES];
    if (t->n_params > MAX_VALUES || t->n_results > MAX_VALUES)
        return "too many values";
    memcpy(tmp, slots + t->n_results, t->n_params * sizeof *tmp);
    E->set_stack_limit(target->inst, RUNNER->stack_limit);
    exn_trap_t r = E->call(target->inst, link->index, tmp);
    if (r)
        return r;
    memcpy(slots, tmp, t->n_results * sizeof *tmp);
    return NULL;
}

typedef enum { STAGE_READ, STAGE_DECODE, STAGE_LINK, STAGE_COMPILE, STAGE_START } stage_t;

static const char *stage_name(stage_t s)
{
    static const char *const names[] = {"read", "decode", "link", "compile", "start"};
    return names[s];
}

/* Resolve every import of `in` into in->imports. */
static const char *link_imports(runner_t *R, instance_t *in, char *why, size_t why_len)
{
    const exn_module_info_t *info = &in->info;
    uint32_t n = info->n_imports ? info->n_imports : 1;
    in->imports = calloc(n, sizeof *in->imports);
    in->links = calloc(n, sizeof *in->links);
    if (!in->imports || !in->links)
        return "out of memory";
    uint32_t global_index = 0, table_index = 0;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_t *im = &info->imports[i];
        exn_import_value_t *iv = &in->imports[i];
        link_t *link = &in->links[i];
        bool spectest = strcmp(im->module, "spectest") == 0;
        instance_t *from = spectest ? NULL : find_instance(R, im->module, true);
        iv->kind = im->kind;
        if (!spectest && !from) {
            exn_fmt(why, why_len, "unknown import module %s", im->module);
            return why;
        }
        if (im->kind == EXN_EXTERN_FUNC) {
            const exn_functype_t *want = &info->types[im->type_index];
            if (spectest) {
                const spectest_func_t *sf = NULL;
                for (size_t k = 0; k < sizeof spectest_funcs / sizeof spectest_funcs[0]; k++) {
                    if (strcmp(spectest_funcs[k].name, im->name) == 0)
                        sf = &spectest_funcs[k];
                }
                bool ok = sf && want->n_results == 0 && want->n_params == strlen(sf->params);
                for (uint32_t k = 0; ok && k < want->n_params; k++)
                    ok = want->types[k] == letter_type(sf->params[k]);
                if (!ok) {
                    exn_fmt(why, why_len, "incompatible import spectest.%s", im->name);
                    return why;
                }
                iv->fn = spectest_print;
            } else {
                const exn_export_t *e = find_export(from, im->name, EXN_EXTERN_FUNC);
                const exn_functype_t *got = e ? exn_module_func_type(&from->info, e->index) : NULL;
                if (!got || !same_functype(want, got)) {
                    exn_fmt(why, why_len, "incompatible import %s.%s", im->module, im->name);
                    return why;
                }
                link->target = from;
                link->index = e->index;
                iv->fn = trampoline;
                iv->env = link;
            }
        } else if (im->kind == EXN_EXTERN_GLOBAL) {
            const exn_globaltype_t *g = &info->globals[global_index++];
            if (spectest) {
                uint8_t want = 0;
                uint64_t bits = 0;
                if (strcmp(im->name, "global_i32") == 0)
                    want = EXN_WASM_I32, bits = 666;
                else if (strcmp(im->name, "global_i64") == 0)
                    want = EXN_WASM_I64, bits = 666;
                else if (strcmp(im->name, "global_f32") == 0) {
                    float f = 666.6f;
                    uint32_t b;
                    memcpy(&b, &f, 4);
                    want = EXN_WASM_F32, bits = b;
                } else if (strcmp(im->name, "global_f64") == 0) {
                    double d = 666.6;
                    memcpy(&bits, &d, 8);
                    want = EXN_WASM_F64;
                }
                if (!want || g->type != want || g->mut) {
                    exn_fmt(why, why_len, "incompatible import spectest.%s", im->name);
                    return why;
                }
                link->global.value = bits;
            } else {
                const exn_export_t *e = find_export(from, im->name, EXN_EXTERN_GLOBAL);
                const exn_globaltype_t *src = e ? &from->info.globals[e->index] : NULL;
                if (!src || src->type != g->type || src->mut != g->mut) {
                    exn_fmt(why, why_len, "incompatible import %s.%s", im->module, im->name);
                    return why;
                }
                iv->from = from->inst; /* the same global (engine.h) */
                iv->index = e->index;
                continue;
            }
            iv->env = &link->global;
        } else if (im->kind == EXN_EXTERN_MEMORY) {
            uint64_t cur, max;
            bool has_max;
            if (spectest) {
                if (strcmp(im->name, "memory") != 0) {
                    exn_fmt(why, why_len, "unknown import spectest.%s", im->name);
                    return why;
                }
                cur = 1, max = 2, has_max = true;
            } else {
                const exn_export_t *e = find_export(from, im->name, EXN_EXTERN_MEMORY);
                if (!e) {
                    exn_fmt(why, why_len, "unknown import %s.%s", im->module, im->name);
                    return why;
                }
                uint64_t size;
                E->memory(from->inst, &size);
                cur = size / 65536;
                has_max = from->info.memory_has_max;
                max = has_max ? from->info.memory_max : 65536;
            }
            if (cur < info->memory_min ||
                (info->memory_has_max && (!has_max || max > info->memory_max))) {
                exn_fmt(why, why_len, "incompatible import %s.%s", im->module, im->name);
                return why;
            }
            if (!spectest) { /* the same memory (engine.h) */
                iv->from = from->inst;
                iv->index = 0;
                continue;
            }
            link->memory.pages = cur;
            link->memory.max_pages = max;
            iv->env = &link->memory;
        } else if (im->kind == EXN_EXTERN_TABLE) {
            const exn_tabletype_t *t = &info->tables[table_index++];
            exn_tabletype_t src;
            if (spectest && strcmp(im->name, "table") == 0) {
                src.elem_type = EXN_WASM_FUNCREF, src.min = 10, src.max = 20, src.has_max = true;
            } else if (!spectest) {
                const exn_export_t *e = find_export(from, im->name, EXN_EXTERN_TABLE);
                if (!e) {
                    exn_fmt(why, why_len, "unknown import %s.%s", im->module, im->name);
                    return why;
                }
                /* engine.h has no table sizes: the provider's declared size */
                src = from->info.tables[e->index];
            } else {
                exn_fmt(why, why_len, "unknown import %s.%s", im->module, im->name);
                return why;
            }
            uint32_t src_max = src.has_max ? src.max : UINT32_MAX;
            if (src.elem_type != t->elem_type || src.min < t->min ||
                (t->has_max && src_max > t->max)) {
                exn_fmt(why, why_len, "incompatible import %s.%s", im->module, im->name);
                return why;
            }
            if (!spectest) { /* the same table (engine.h) */
                iv->from = from->inst;
                iv->index = find_export(from, im->name, EXN_EXTERN_TABLE)->index;
                in->linked_table = true;
                continue;
            }
            link->table.size = src.min;
            link->table.max = src_max;
            iv->env = &link->table;
        }
    }
    return NULL;
}

/* Load, compile, link, instantiate and start a module file.  On failure returns the reason and
 * the stage; the instance is freed. */
static const char *instantiate(runner_t *R, const char *file, instance_t **out, stage_t *stage,
                               char *why, size_t why_len)
{
    char path[4096];
    if (file[0] == '/')
        exn_fmt(path, sizeof path, "%s", file);
    else
        exn_fmt(path, sizeof path, "%s/%s", R->dir, file);
    *out = NULL;
    *stage = STAGE_READ;
    R->last_by_validator = false;
    instance_t *in = calloc(1, sizeof *in);
    if (!in)
        return "out of memory";
    size_t len = 0;
    const char *err = NULL;
    exn_status_t st;
    if (exn_os_read_file(path, &in->bytes, &len, why, why_len) != EXN_OK) {
        err = why;
        goto fail;
    }
    *stage = STAGE_DECODE;
    R->last_by_validator = exn_validate_module(in->bytes, len, &in->info, why, why_len) != EXN_OK;
    if (R->last_by_validator) {
        err = why;
        goto fail;
    }
    *stage = STAGE_COMPILE;
    st = E->compile(&in->info, in->bytes, len, &in->code, why, why_len);
    if (st != EXN_OK) {
        err = why;
        goto fail;
    }
    *stage = STAGE_LINK;
    if ((err = link_imports(R, in, why, why_len)))
        goto fail;
    *stage = STAGE_START; /* instantiation applies the segments: a failure there is at start */
    volatile uint32_t *no_interrupt = NULL;
    exn_instance_config_t cfg = {in->imports, in->info.n_imports, (uint64_t)1 << 32,
                                 no_interrupt, 0, NULL};
    st = E->instantiate(in->code, &cfg, &in->inst, why, why_len);
    if (st != EXN_OK) {
        /* a segment that does not fit: not a trap of the start function (cmd_assert_fails) */
        char reason[512];
        exn_fmt(reason, sizeof reason, "instantiation failed: %s", why);
        exn_fmt(why, why_len, "%s", reason);
        err = why;
        goto fail;
    }
    if (in->info.has_start) {
        uint64_t slots[1] = {0};
        E->set_stack_limit(in->inst, R->stack_limit);
        exn_trap_t t = E->call(in->inst, in->info.start, slots);
        if (t) {
            err = t;
            goto fail;
        }
    }
    *out = in;
    return NULL;
fail:
    drop_instance(R, in);
    return err;
}

static void add_instance(runner_t *R, instance_t *in)
{
    in->next = R->instances;
    R->instances = in;
    R->current = in;
}

/* ---- actions ---------------------------------------------------------------------------------- */

typedef struct {
    const char *trap; /* NULL: returned */
    uint32_t n;
    uint8_t types[MAX_VALUES];
    uint64_t bits[MAX_VALUES];
    uint8_t v128[MAX_VALUES][16]; /* the v128 results (two slots each: bytes 0-7, 8-15) */
} outcome_t;

static const char *str_of(const exn_json_t *obj, const char *key)
{
    const exn_json_t *v = exn_json_get(obj, key);
    return v && v->kind == EXN_JSON_STRING ? v->str : NULL;
}

/* An export name as module_info.c keeps it: a NUL is stored as C0 80. */
static const char *export_name(const exn_json_t *obj, char *buf, size_t buf_len)
{
    const exn_json_t *v = exn_json_get(obj, "field");
    if (!v || v->kind != EXN_JSON_STRING || 2 * v->len + 1 > buf_len)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->str[i] == '\0') {
            buf[k++] = (char)0xC0;
            buf[k++] = (char)0x80;
        } else
            buf[k++] = v->str[i];
    }
    buf[k] = '\0';
    return buf;
}

/* Run an action; returns a reason it could not be run (a failure), else fills *out. */
static const char *run_action(runner_t *R, const exn_json_t *action, outcome_t *out, bool *skip)
{
    memset(out, 0, sizeof *out);
    *skip = false;
    char name[1024];
    const char *type = str_of(action, "type"), *field = export_name(action, name, sizeof name);
    const char *mod = str_of(action, "module");
    instance_t *in = mod ? find_instance(R, mod, false) : R->current;
    if (!in || !field || !type)
        return "no module for the action";
    if (strcmp(type, "get") == 0) {
        const exn_export_t *e = find_export(in, field, EXN_EXTERN_GLOBAL);
        if (!e)
            return "no such global export";
        uint64_t v[2] = {0, 0};
        E->global_get(in->inst, e->index, v);
        out->n = 1;
        out->types[0] = in->info.globals[e->index].type;
        memcpy(out->v128[0], v, 16);
        out->bits[0] = out->types[0] == EXN_WASM_I32 || out->types[0] == EXN_WASM_F32
                           ? (uint32_t)v[0]
                           : v[0];
        return NULL;
    }
    const exn_export_t *e = find_export(in, field, EXN_EXTERN_FUNC);
    if (!e)
        return "no such function export";
    const exn_functype_t *t = exn_module_func_type(&in->info, e->index);
    const exn_json_t *args = exn_json_get(action, "args");
    if (!args || args->kind != EXN_JSON_ARRAY || args->len != t->n_params ||
        t->n_params > MAX_VALUES || t->n_results > MAX_VALUES)
        return "argument count mismatch";
    /* engine.h's slots: a v128 takes two (bytes 0-7, 8-15, little-endian host) */
    uint64_t slots[2 * MAX_VALUES];
    for (uint32_t i = 0, k = 0; i < t->n_params; i++) {
        value_t v;
        if (!parse_value(&args->items[i], &v) || v.type != t->types[i])
            return "bad argument";
        if (v.type == EXN_WASM_V128) {
            memcpy(&slots[k], v.v128, 16);
            k += 2;
        } else
            slots[k++] = v.bits;
    }
    E->set_stack_limit(in->inst, R->stack_limit);
    exn_trap_t r = E->call(in->inst, e->index, slots);
    if (r) {
        out->trap = r;
        return NULL;
    }
    out->n = t->n_results;
    for (uint32_t i = 0, k = 0; i < t->n_results; i++) {
        out->types[i] = t->types[t->n_params + i];
        if (out->types[i] == EXN_WASM_V128) {
            memcpy(out->v128[i], &slots[k], 16);
            k += 2;
            continue;
        }
        out->bits[i] = out->types[i] == EXN_WASM_I32 || out->types[i] == EXN_WASM_F32
                           ? (uint32_t)slots[k]
                           : slots[k];
        k++;
    }
    return NULL;
}

/* ---- commands --------------------------------------------------------------------------------- */

static void cmd_module(runner_t *R, const exn_json_t *cmd)
{
    const char *file = str_of(cmd, "filename"), *name = str_of(cmd, "name");
    char why[512];
    stage_t stage;
    instance_t *in;
    const char *err = instantiate(R, file ? file : "", &in, &stage, why, sizeof why);
    if (err) {
        fail(R, "module %s: %s: %s", file ? file : "?", stage_name(stage), err);
        R->current = NULL;
        return;
    }
    if (name)
        in->name = exn_strndup(name, strlen(name));
    add_instance(R, in);
    R->passed++;
}

static void cmd_register(runner_t *R, const exn_json_t *cmd)
{
    const char *as = str_of(cmd, "as"), *name = str_of(cmd, "name");
    instance_t *in = name ? find_instance(R, name, false) : R->current;
    if (!in || !as) {
        fprintf(stderr, "line %d: register without a module\n", R->line);
        return;
    }
    free(in->registered);
    in->registered = exn_strndup(as, strlen(as));
}

static void cmd_assert_return(runner_t *R, const exn_json_t *cmd)
{
    outcome_t o;
    bool skip;
    const char *err = run_action(R, exn_json_get(cmd, "action"), &o, &skip);
    if (skip) {
        R->skipped++;
        return;
    }
    if (err) {
        fail(R, "assert_return: %s", err);
        return;
    }
    if (o.trap) {
        fail(R, "assert_return: trapped: %s", o.trap);
        return;
    }
    const exn_json_t *expected = exn_json_get(cmd, "expected");
    if (!expected || expected->kind != EXN_JSON_ARRAY || expected->len != o.n) {
        fail(R, "assert_return: %u results, expected %zu", o.n, expected ? expected->len : 0);
        return;
    }
    for (uint32_t i = 0; i < o.n; i++) {
        value_t want;
        if (!parse_value(&expected->items[i], &want)) {
            R->skipped++;
            return;
        }
        bool v128 = o.types[i] == EXN_WASM_V128;
        if (v128 ? want.type != EXN_WASM_V128 || !v128_match(&want, o.v128[i])
                 : !values_match(&want, o.types[i], o.bits[i])) {
            char got[96], exp[96];
            if (v128)
                format_v128(got, sizeof got, o.v128[i]);
            else
                format_value(got, sizeof got, o.types[i], o.bits[i]);
            if (want.type == EXN_WASM_V128)
                format_v128(exp, sizeof exp, want.v128);
            else if (want.nan)
                exn_fmt(exp, sizeof exp, "nan:%s", want.nan == 1 ? "canonical" : "arithmetic");
            else
                format_value(exp, sizeof exp, want.type, want.bits);
            fail(R, "assert_return %s: result %u is %s, expected %s",
                 str_of(exn_json_get(cmd, "action"), "field"), i, got, exp);
            return;
        }
    }
    R->passed++;
}

static void cmd_assert_trap(runner_t *R, const exn_json_t *cmd, bool exhaustion)
{
    outcome_t o;
    bool skip;
    const char *err = run_action(R, exn_json_get(cmd, "action"), &o, &skip);
    if (skip) {
        R->skipped++;
        return;
    }
    if (err) {
        fail(R, "%s: %s", exhaustion ? "assert_exhaustion" : "assert_trap", err);
        return;
    }
    if (!o.trap) {
        fail(R, "%s %s: returned, expected a trap (%s)",
             exhaustion ? "assert_exhaustion" : "assert_trap",
             str_of(exn_json_get(cmd, "action"), "field"), str_of(cmd, "text"));
        return;
    }
    if (exhaustion && o.trap != exn_trap_stack_overflow) {
        fail(R, "assert_exhaustion: trapped with %s", o.trap);
        return;
    }
    if (!exhaustion && strncmp(o.trap, "[trap]", 6) != 0) {
        fail(R, "assert_trap: failed with %s, not a trap (%s)", o.trap, str_of(cmd, "text"));
        return;
    }
    R->passed++;
}

static void cmd_action(runner_t *R, const exn_json_t *cmd)
{
    outcome_t o;
    bool skip;
    const char *err = run_action(R, exn_json_get(cmd, "action"), &o, &skip);
    if (skip)
        R->skipped++;
    else if (err || o.trap)
        fail(R, "action: %s", err ? err : o.trap);
    else
        R->passed++;
}

/* assert_invalid, assert_malformed: the module must be refused before it runs */
static void cmd_assert_rejected(runner_t *R, const exn_json_t *cmd)
{
    const char *mt = str_of(cmd, "module_type");
    if (mt && strcmp(mt, "binary") != 0) {
        R->text++;
        return;
    }
    char why[512];
    stage_t stage;
    instance_t *in;
    const char *err = instantiate(R, str_of(cmd, "filename"), &in, &stage, why, sizeof why);
    if (err && stage < STAGE_START && stage != STAGE_LINK) {
        R->rejected++;
        R->by_validator += R->last_by_validator;
        return;
    }
    R->accepted++;
    if (shown++ < MAX_FAILURES_SHOWN)
        fprintf(stderr, "ACCEPTED line %d: %s %s (%s)%s%s\n", R->line, str_of(cmd, "type"),
                str_of(cmd, "filename"), str_of(cmd, "text"), err ? ": failed later: " : "",
                err ? err : "");
    drop_instance(R, in);
}

/* assert_unlinkable, assert_uninstantiable, assert_trap on a module */
static void cmd_assert_fails(runner_t *R, const exn_json_t *cmd, stage_t want)
{
    char why[512];
    stage_t stage;
    instance_t *in;
    const char *err = instantiate(R, str_of(cmd, "filename"), &in, &stage, why, sizeof why);
    if (!err) {
        fail(R, "%s %s: instantiated (%s)", str_of(cmd, "type"), str_of(cmd, "filename"),
             str_of(cmd, "text"));
        /* a module that should not have linked can still have written into registered ones,
         * but it is not registered itself */
        drop_instance(R, in);
        return;
    }
    /* binaryen's scripts keep the MVP classification, where a segment that does not fit made a
     * module unlinkable; WebAssembly 2.0 fails it while instantiating (not a start trap) */
    bool segment_failure = stage == STAGE_START && strncmp(err, "[trap]", 6) != 0;
    if (stage != want && !(want == STAGE_LINK && segment_failure)) {
        fail(R, "%s %s: failed at %s (%s), expected at %s", str_of(cmd, "type"),
             str_of(cmd, "filename"), stage_name(stage), err, stage_name(want));
        return;
    }
    R->passed++;
}

static void run_command(runner_t *R, const exn_json_t *cmd)
{
    const char *type = str_of(cmd, "type");
    const exn_json_t *line = exn_json_get(cmd, "line");
    R->line = line && line->is_u64 ? (int)line->u64 : 0;
    fprintf(stderr, "@%d\n", R->line);
    if (!type)
        return;
    if (strcmp(type, "module") == 0)
        cmd_module(R, cmd);
    else if (strcmp(type, "register") == 0)
        cmd_register(R, cmd);
    else if (strcmp(type, "assert_return") == 0)
        cmd_assert_return(R, cmd);
    else if (strcmp(type, "assert_trap") == 0) {
        if (exn_json_get(cmd, "action"))
            cmd_assert_trap(R, cmd, false);
        else
            cmd_assert_fails(R, cmd, STAGE_START);
    } else if (strcmp(type, "assert_exhaustion") == 0)
        cmd_assert_trap(R, cmd, true);
    else if (strcmp(type, "action") == 0)
        cmd_action(R, cmd);
    else if (strcmp(type, "assert_invalid") == 0 || strcmp(type, "assert_malformed") == 0)
        cmd_assert_rejected(R, cmd);
    else if (strcmp(type, "assert_unlinkable") == 0)
        cmd_assert_fails(R, cmd, STAGE_LINK);
    else if (strcmp(type, "assert_uninstantiable") == 0)
        cmd_assert_fails(R, cmd, STAGE_START);
    else {
        fprintf(stderr, "line %d: unknown command %s\n", R->line, type);
        R->skipped++;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: spec_native SCRIPT.json\n");
        return 2;
    }
    setvbuf(stderr, NULL, _IOLBF, 0);
    uint8_t *text;
    size_t len;
    char why[512];
    if (exn_os_read_file(argv[1], &text, &len, why, sizeof why) != EXN_OK) {
        fprintf(stderr, "%s\n", why);
        return 2;
    }
    exn_json_doc_t *doc;
    if (exn_json_parse((const char *)text, len, &doc, why, sizeof why) != EXN_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], why);
        return 2;
    }
    const exn_json_t *commands = exn_json_get(exn_json_root(doc), "commands");
    if (!commands || commands->kind != EXN_JSON_ARRAY) {
        fprintf(stderr, "%s: no commands\n", argv[1]);
        return 2;
    }
    char *dir = exn_strndup(argv[1], strlen(argv[1]));
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    runner_t R = {.dir = dir};
    RUNNER = &R;
    /* guest recursion traps 256 KiB above the bottom of this thread's stack */
    uintptr_t low = exn_os_stack_low();
    R.stack_limit = low > 1 ? low + 256 * 1024 : 0;

    for (size_t i = 0; i < commands->len; i++)
        run_command(&R, &commands->items[i]);

    const char *base = strrchr(argv[1], '/');
    printf("{\"file\": \"%s\", \"passed\": %d, \"failed\": %d, \"skipped\": %d, "
           "\"rejected\": %d, \"accepted\": %d, \"text\": %d, \"by_validator\": %d}\n",
           base ? base + 1 : argv[1], R.passed, R.failed, R.skipped, R.rejected, R.accepted,
           R.text, R.by_validator);
    while (R.instances) {
        instance_t *next = R.instances->next;
        instance_free(R.instances);
        R.instances = next;
    }
    while (R.retired) {
        instance_t *next = R.retired->next;
        instance_free(R.retired);
        R.retired = next;
    }
    exn_json_doc_free(doc);
    exn_free(text);
    free(dir);
    return 0;
}
