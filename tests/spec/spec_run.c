/* spec_run.c: runs one script of the WebAssembly spec test suite, as converted by wast2json
 * (tests/spec/fetch.py), on our wasm3 build: the same exn_core library the plugins use, so the
 * same wasm3 patches, and every module goes through exn_validate_module first (which describes
 * it), exactly as plugin loading does.  Test-only: the public API calls () -> i32 exports only.
 *
 *     spec_run SCRIPT.json      prints one JSON line of counts (and failures on stderr)
 *
 * Counts: `passed`/`failed`/`skipped` are assertions (module loads, actions, assert_return,
 * assert_trap, assert_exhaustion, assert_unlinkable, assert_uninstantiable); `rejected`/
 * `accepted` are the binary modules of assert_invalid and assert_malformed; `text` counts
 * assert_malformed modules in text form, which need a text parser we do not have.  Before each
 * command "@LINE" goes to stderr, so a crash can be traced to the script line.
 *
 * Each instance gets its own wasm3 environment and runtime (a runtime has one memory).
 * Imports come from the `spectest` module or from registered instances: functions through a
 * trampoline that calls into the other runtime; globals, memories and tables are the provider's
 * own (m3_LinkGlobal, m3_ShareMemory, m3_LinkTable: wasm3 patch 0074); the spectest
 * module's are made for the instance. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/json.h"
#include "validate/module_info.h"
#include "support/os.h"
#include "validate/validate.h"

#include "m3_env.h"
#include "wasm3.h"

#define MAX_VALUES 64
#define MAX_FAILURES_SHOWN 40
#define STACK_BYTES (1u << 20)

typedef struct {
    uint8_t type; /* EXN_WASM_* */
    uint64_t bits;
    int nan; /* expected only: 1 canonical, 2 arithmetic */
    bool any_ref; /* expected only: a non-null reference of unknown identity */
    uint8_t v128[16];      /* a v128: its bytes in wasm order */
    uint8_t lane_bits;     /* a v128: the width of its lanes in the script (8 .. 64) */
    bool lane_float;       /* a v128: f32x4 or f64x2 lanes */
    uint8_t lane_nan[16];  /* expected only: the NaN pattern of each float lane, as `nan` */
} value_t;

typedef struct instance instance_t;

typedef struct {
    instance_t *target;
    uint32_t index; /* function index in target */
} link_t;

struct instance {
    char *name;       /* $name of the module command, or NULL */
    char *registered; /* name given by `register`, or NULL */
    uint8_t *bytes;   /* wasm3 keeps pointers into them */
    exn_module_info_t info;
    IM3Environment env;
    IM3Runtime runtime;
    IM3Module module; /* owned by runtime once loaded */
    link_t *links;
    bool linked_table; /* its functions may be in another instance's table */
    instance_t *next;
};

typedef struct {
    const char *dir; /* of the script, where the .wasm files are */
    instance_t *instances, *current;
    instance_t *retired; /* unregistered, but their functions may be in a registered table */
    int passed, failed, skipped, rejected, accepted, text;
    int by_validator;       /* of `rejected`: refused by exn_validate_module itself */
    bool last_by_validator; /* the last instantiate failed in exn_validate_module */
    int line;
    uintptr_t stack_limit;
    bool no_start; /* --load: never run guest code */
} runner_t;

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

/* wasm3 type of a wasm value type byte */
static uint8_t m3_type(uint8_t t)
{
    switch (t) {
    case EXN_WASM_I32: return c_m3Type_i32;
    case EXN_WASM_I64: return c_m3Type_i64;
    case EXN_WASM_F32: return c_m3Type_f32;
    case EXN_WASM_F64: return c_m3Type_f64;
    case EXN_WASM_FUNCREF: return c_m3Type_funcref; /* wasm3 patch 0010 */
    case EXN_WASM_EXTERNREF: return c_m3Type_externref;
    case EXN_WASM_V128: return c_m3Type_v128; /* wasm3 patch 0070 */
    default: return c_m3Type_unknown;
    }
}

/* ---- the spectest module ---------------------------------------------------------------------- */

static const void *spectest_print(IM3Runtime rt, IM3ImportContext ctx, uint64_t *sp, void *mem)
{
    (void)rt, (void)ctx, (void)sp, (void)mem;
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
    if (in->runtime)
        m3_FreeRuntime(in->runtime); /* and the modules loaded into it */
    else if (in->module)
        m3_FreeModule(in->module);
    if (in->env)
        m3_FreeEnvironment(in->env);
    exn_module_info_free(&in->info);
    free(in->links);
    exn_free(in->bytes);
    free(in->name);
    free(in->registered);
    free(in);
}

/* An instance that is not kept: freed, unless its functions may be in another instance's table
 * (its element segments wrote there, even if it failed later): then at the end. */
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

/* Imports of functions exported by another instance land here. */
static const void *trampoline(IM3Runtime rt, IM3ImportContext ctx, uint64_t *sp, void *mem)
{
    (void)rt, (void)mem;
    link_t *link = ctx->userdata;
    instance_t *target = link->target;
    const exn_functype_t *t = exn_module_func_type(&target->info, link->index);
    IM3Function f = &target->module->functions[link->index];
    if (!f->compiled) {
        M3Result r = CompileFunction(f);
        if (r)
            return r;
    }
    const void *args[MAX_VALUES];
    if (t->n_params > MAX_VALUES || t->n_results > MAX_VALUES)
        return "too many values";
    for (uint32_t i = 0; i < t->n_params; i++)
        args[i] = &sp[t->n_results + i];
    M3Result r = m3_Call(f, t->n_params, args);
    if (r)
        return r;
    const void *results[MAX_VALUES];
    for (uint32_t i = 0; i < t->n_results; i++) {
        sp[i] = 0;
        results[i] = &sp[i];
    }
    return t->n_results ? m3_GetResults(f, t->n_results, results) : NULL;
}

typedef enum { STAGE_READ, STAGE_DECODE, STAGE_LINK, STAGE_COMPILE, STAGE_START } stage_t;

static const char *stage_name(stage_t s)
{
    static const char *const names[] = {"read", "decode", "link", "compile", "start"};
    return names[s];
}

/* The global of `in` with wasm index `index` */
static M3Global *global_at(instance_t *in, uint32_t index)
{
    return index < in->module->numGlobals ? &in->module->globals[index] : NULL;
}

/* Resolve and link the imports of `in` (parsed, not loaded: globals are set before their
 * initialisers run).  Function imports are linked after loading, in link_functions. */
static const char *link_globals_and_memory(runner_t *R, instance_t *in, char *why, size_t why_len)
{
    const exn_module_info_t *info = &in->info;
    uint32_t global_index = 0, table_index = 0;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_t *im = &info->imports[i];
        bool spectest = strcmp(im->module, "spectest") == 0;
        instance_t *from = spectest ? NULL : find_instance(R, im->module, true);
        if (!spectest && !from) {
            exn_fmt(why, why_len, "unknown import module %s", im->module);
            return why;
        }
        if (im->kind == EXN_EXTERN_GLOBAL) {
            M3Global *g = global_at(in, global_index++);
            if (!g)
                return "imported global missing in wasm3";
            if (spectest) {
                uint8_t want = 0;
                uint64_t bits = 0;
                if (strcmp(im->name, "global_i32") == 0)
                    want = c_m3Type_i32, bits = 666;
                else if (strcmp(im->name, "global_i64") == 0)
                    want = c_m3Type_i64, bits = 666;
                else if (strcmp(im->name, "global_f32") == 0) {
                    float f = 666.6f;
                    uint32_t b;
                    memcpy(&b, &f, 4);
                    want = c_m3Type_f32, bits = b;
                } else if (strcmp(im->name, "global_f64") == 0) {
                    double d = 666.6;
                    memcpy(&bits, &d, 8);
                    want = c_m3Type_f64;
                }
                if (!want || g->type != want || g->isMutable) {
                    exn_fmt(why, why_len, "incompatible import spectest.%s", im->name);
                    return why;
                }
                g->intValue = (i64)bits;
            } else {
                const exn_export_t *e = find_export(from, im->name, EXN_EXTERN_GLOBAL);
                M3Global *src = e ? global_at(from, e->index) : NULL;
                if (!src || src->type != g->type || src->isMutable != g->isMutable ||
                    m3_LinkGlobal(g, src)) { /* the same global (wasm3 patch 0074) */
                    exn_fmt(why, why_len, "incompatible import %s.%s", im->module, im->name);
                    return why;
                }
            }
        } else if (im->kind == EXN_EXTERN_MEMORY) {
            uint32_t cur, max;
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
                IM3Runtime owner = from->runtime->memoryOwner ? from->runtime->memoryOwner
                                                              : from->runtime;
                cur = owner->memory.numPages;
                has_max = from->info.memory_has_max;
                max = has_max ? from->info.memory_max : 65536;
            }
            if (cur < info->memory_min ||
                (info->memory_has_max && (!has_max || max > info->memory_max))) {
                exn_fmt(why, why_len, "incompatible import %s.%s", im->module, im->name);
                return why;
            }
            if (!spectest) { /* the provider's very memory (wasm3 patch 0074) */
                M3Result r = m3_ShareMemory(in->runtime, from->runtime);
                if (r)
                    return r;
                continue;
            }
            /* the spectest memory: the instance gets its own with that size and maximum */
            in->module->memoryImported = false;
            in->module->memoryInfo.initPages = cur;
            in->module->memoryInfo.maxPages = max;
        } else if (im->kind == EXN_EXTERN_TABLE) {
            /* wasm3 (patch 0011) parsed the import's type into the next imported table; it
             * gets a table of its own, as large as the provider's is now */
            M3Table *t = table_index < in->module->numTables ? &in->module->tables[table_index++]
                                                             : NULL;
            const M3Table *src = NULL;
            M3Table spectest_table = {.size = 10, .maxSize = 20, .type = c_m3Type_funcref};
            if (spectest && strcmp(im->name, "table") == 0)
                src = &spectest_table;
            else if (!spectest) {
                const exn_export_t *e = find_export(from, im->name, EXN_EXTERN_TABLE);
                src = e && e->index < from->module->numTables
                          ? Module_GetTable(from->module, e->index)
                          : NULL;
            }
            if (!src || !t) {
                exn_fmt(why, why_len, "unknown import %s.%s", im->module, im->name);
                return why;
            }
            bool declares_max = t->maxSize < d_m3MaxTableSize;
            if (src->type != t->type || src->size < t->size ||
                (declares_max && src->maxSize > t->maxSize)) {
                exn_fmt(why, why_len, "incompatible import %s.%s", im->module, im->name);
                return why;
            }
            if (!spectest) { /* the provider's very table (wasm3 patch 0074) */
                M3Result r = m3_LinkTable(t, (M3Table *)src);
                if (r)
                    return r;
                in->linked_table = true;
                continue;
            }
            t->size = src->size;
            t->maxSize = src->maxSize;
        }
    }
    return NULL;
}

static const char *link_functions(runner_t *R, instance_t *in, char *why, size_t why_len)
{
    const exn_module_info_t *info = &in->info;
    in->links = calloc(info->n_imports ? info->n_imports : 1, sizeof *in->links);
    if (!in->links)
        return "out of memory";
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_t *im = &info->imports[i];
        if (im->kind != EXN_EXTERN_FUNC)
            continue;
        const exn_functype_t *want = &info->types[im->type_index];
        M3Result r;
        if (strcmp(im->module, "spectest") == 0) {
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
            r = m3_LinkRawFunction(in->module, im->module, im->name, NULL, spectest_print);
        } else {
            instance_t *from = find_instance(R, im->module, true);
            const exn_export_t *e = find_export(from, im->name, EXN_EXTERN_FUNC);
            const exn_functype_t *got = e ? exn_module_func_type(&from->info, e->index) : NULL;
            if (!got || !same_functype(want, got)) {
                exn_fmt(why, why_len, "incompatible import %s.%s", im->module, im->name);
                return why;
            }
            link_t *link = &in->links[i];
            link->target = from;
            link->index = e->index;
            r = m3_LinkRawFunctionEx(in->module, im->module, im->name, NULL, trampoline, link);
        }
        /* two imports of the same name: wasm3 links both at once, the second call finds none */
        if (r && r != m3Err_functionLookupFailed)
            return r;
    }
    return NULL;
}

/* Load, link, compile and start a module file.  On failure returns the reason and the stage;
 * the instance is freed. */
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
    M3Result r;
    if (exn_os_read_file(path, &in->bytes, &len, why, why_len) != EXN_OK) {
        err = why;
        goto fail;
    }
    *stage = STAGE_DECODE;
    /* exactly as plugin loading (compiled.c): our validator, which describes the module */
    R->last_by_validator = exn_validate_module(in->bytes, len, &in->info, why, why_len) != EXN_OK;
    if (R->last_by_validator) {
        err = why;
        goto fail;
    }
    in->env = m3_NewEnvironment();
    in->runtime = in->env ? m3_NewRuntime(in->env, STACK_BYTES, NULL) : NULL;
    if (!in->runtime) {
        err = "out of memory";
        goto fail;
    }
    m3_SetNativeStackLimit(in->runtime, R->stack_limit);
    r = m3_ParseModule(in->env, &in->module, in->bytes, (uint32_t)len);
    if (r) {
        err = r;
        goto fail;
    }
    *stage = STAGE_LINK;
    if ((err = link_globals_and_memory(R, in, why, why_len)))
        goto fail;
    *stage = STAGE_START; /* wasm3 initialises memory, tables and globals while loading */
    r = m3_LoadModule(in->runtime, in->module);
    if (r) {
        err = r;
        if (strstr(r, "out of bounds") || strstr(r, "overflow") || strstr(r, "underflow"))
            goto fail; /* instantiation: a segment does not fit */
        *stage = STAGE_DECODE;
        goto fail;
    }
    *stage = STAGE_LINK;
    if ((err = link_functions(R, in, why, why_len)))
        goto fail;
    *stage = STAGE_COMPILE; /* wasm3 compiles lazily: compile everything now */
    if ((r = m3_CompileModule(in->module))) {
        err = r;
        goto fail;
    }
    *stage = STAGE_START;
    if (!R->no_start && (r = m3_RunStart(in->module))) {
        err = r;
        goto fail;
    }
    *out = in;
    return NULL;
fail:
    if (in->module && !in->module->runtime) {
        m3_FreeModule(in->module);
        in->module = NULL;
    }
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
    uint8_t v128[MAX_VALUES][16]; /* the v128 results */
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
        M3Global *g = e ? global_at(in, e->index) : NULL;
        if (!g)
            return "no such global export";
        if (g->linked) /* an import of another instance's global (wasm3 patch 0074) */
            g = g->linked;
        out->n = 1;
        static const uint8_t wasm_types[] = {0,           EXN_WASM_I32,     EXN_WASM_I64,
                                             EXN_WASM_F32, EXN_WASM_F64,     EXN_WASM_FUNCREF,
                                             EXN_WASM_EXTERNREF, EXN_WASM_V128};
        if (g->type == 0 || g->type >= sizeof wasm_types)
            return "global of an unknown type";
        out->types[0] = wasm_types[g->type];
        out->bits[0] = g->type == c_m3Type_i32 || g->type == c_m3Type_f32 ? (uint32_t)g->intValue
                                                                          : (uint64_t)g->intValue;
        if (g->type == c_m3Type_v128)
            memcpy(out->v128[0], g->v128Value, 16);
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
    for (uint32_t i = 0; i < t->n_params + t->n_results; i++) {
        if (m3_type(t->types[i]) == c_m3Type_unknown) {
            *skip = true; /* a type wasm3's API cannot pass */
            return "reference or vector type in the signature";
        }
    }
    /* wasm3 reads each argument through a pointer to its own type: 32-bit values have their
     * own array (a u64's first four bytes are its high half on a big-endian host) */
    uint64_t argv[MAX_VALUES];
    uint32_t argv32[MAX_VALUES];
    uint8_t argv128[MAX_VALUES][16];
    const void *argp[MAX_VALUES];
    for (uint32_t i = 0; i < t->n_params; i++) {
        value_t v;
        if (!parse_value(&args->items[i], &v) || v.type != t->types[i])
            return "bad argument";
        argv[i] = v.bits;
        argv32[i] = (uint32_t)v.bits;
        memcpy(argv128[i], v.v128, 16);
        argp[i] = v.type == EXN_WASM_V128                             ? (const void *)argv128[i]
                  : v.type == EXN_WASM_I32 || v.type == EXN_WASM_F32 ? (const void *)&argv32[i]
                                                                       : (const void *)&argv[i];
    }
    IM3Function f = &in->module->functions[e->index];
    M3Result r = f->compiled ? NULL : CompileFunction(f);
    if (!r)
        r = m3_Call(f, t->n_params, argp);
    if (r) {
        out->trap = r;
        return NULL;
    }
    const void *resp[MAX_VALUES];
    uint32_t res32[MAX_VALUES];
    out->n = t->n_results;
    for (uint32_t i = 0; i < t->n_results; i++) {
        out->bits[i] = 0;
        res32[i] = 0;
        out->types[i] = t->types[t->n_params + i];
        bool narrow = out->types[i] == EXN_WASM_I32 || out->types[i] == EXN_WASM_F32;
        resp[i] = out->types[i] == EXN_WASM_V128 ? (void *)out->v128[i]
                  : narrow                       ? (void *)&res32[i]
                                                 : (void *)&out->bits[i];
    }
    r = t->n_results ? m3_GetResults(f, t->n_results, resp) : NULL;
    if (r)
        return r;
    for (uint32_t i = 0; i < out->n; i++) {
        if (out->types[i] == EXN_WASM_I32 || out->types[i] == EXN_WASM_F32)
            out->bits[i] = res32[i];
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
    if (exhaustion && o.trap != m3Err_trapStackOverflow) {
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

/* --load FILE...: decode, link (spectest only), compile every function and free each module,
 * running nothing; a crash or sanitizer report is the finding (tests/spec/fuzz.py) */
static int load_only(int n, char **files)
{
    runner_t R = {.dir = ".", .no_start = true};
    uintptr_t low = exn_os_stack_low();
    R.stack_limit = low > 1 ? low + 256 * 1024 : 0;
    int loaded = 0;
    for (int i = 0; i < n; i++) {
        char why[512];
        stage_t stage;
        instance_t *in;
        fprintf(stderr, "@%s\n", files[i]);
        const char *err = instantiate(&R, files[i], &in, &stage, why, sizeof why);
        if (!err) {
            loaded++;
            instance_free(in);
        } else
            fprintf(stderr, "REFUSED %s: %s: %s\n", files[i], stage_name(stage), err);
    }
    printf("{\"modules\": %d, \"loaded\": %d}\n", n, loaded);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--load") == 0)
        return load_only(argc - 2, argv + 2);
    if (argc != 2) {
        fprintf(stderr, "usage: spec_run SCRIPT.json | spec_run --load MODULE.wasm...\n");
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
    /* guest recursion traps 256 KiB above the bottom of this thread's stack (patch 0003) */
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
