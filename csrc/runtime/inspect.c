/* inspect.c: a module described for people (exn_module_inspect, extism_native.h) - its
 * imports, exports, memories, the features its code uses, its producers, and which engine of
 * this build can run it - as JSON, for `python -m extism_native inspect`.  Everything comes
 * from the validator's description (decoded once, validate/module_info.h) and the custom
 * sections it kept (validate/names.h); nothing is compiled or instantiated.
 * May call: validate.h, module_info.h, names.h, engine/native/native.h (exn_native_probe),
 * kernel/kernel.h and wasi/wasi.h (which imports they provide), support/json.h (the string
 * builder). */
#include <stdio.h>
#include <string.h>

#include "engine/native/native.h"
#include "kernel/kernel.h"
#include "support/json.h"
#include "validate/module_info.h"
#include "validate/names.h"
#include "validate/validate.h"
#include "wasi/wasi.h"

static const struct {
    uint32_t bit;
    const char *name;
} FEATURES[] = {
    {EXN_FEATURE_SIMD, "simd"},
    {EXN_FEATURE_BULK_MEMORY, "bulk-memory"},
    {EXN_FEATURE_REFERENCE_TYPES, "reference-types"},
    {EXN_FEATURE_MULTI_VALUE, "multi-value"},
    {EXN_FEATURE_SAT_TRUNC, "saturating-float-to-int"},
    {EXN_FEATURE_SIGN_EXT, "sign-extension"},
    {EXN_FEATURE_MULTI_MEMORY, "multi-memory"},
    {EXN_FEATURE_TAIL_CALL, "tail-call"},
    {EXN_FEATURE_EXTENDED_CONST, "extended-const"},
};

static const char *kind_name(uint8_t kind)
{
    switch (kind) {
    case EXN_EXTERN_FUNC: return "func";
    case EXN_EXTERN_TABLE: return "table";
    case EXN_EXTERN_MEMORY: return "memory";
    default: return "global";
    }
}

static void put(exn_sb_t *sb, const char *s)
{
    exn_sb_append(sb, s, strlen(s));
}

static void put_str(exn_sb_t *sb, const char *s, size_t len)
{
    exn_sb_json_string(sb, s, len);
}

static void put_u64(exn_sb_t *sb, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    put(sb, num);
}

static void put_functype(exn_sb_t *sb, const exn_module_info_t *info, uint32_t type_index)
{
    char sig[1024];
    exn_functype_format(&info->types[type_index], sig, sizeof sig);
    put_str(sb, sig, strlen(sig));
}

/* Whether the signature letters of the kernel and WASI link tables ("I(Ii)": result first, then
 * the parameters; v for none; i I f F for i32 i64 f32 f64) describe function type `t`. */
static bool signature_is(const char *sig, const exn_functype_t *t)
{
    static const uint8_t types[] = {EXN_WASM_I32, EXN_WASM_I64, EXN_WASM_F32, EXN_WASM_F64};
    const char *letters = "iIfF";
    const char *open = strchr(sig, '(');
    if (open != sig + 1 || t->n_results > 1 || (t->n_results == 0 && sig[0] != 'v'))
        return false;
    if (t->n_results == 1) {
        const char *at = strchr(letters, sig[0]);
        if (!at || types[at - letters] != t->types[t->n_params])
            return false;
    }
    uint32_t i = 0;
    for (const char *c = open + 1; *c && *c != ')'; c++, i++) {
        const char *at = strchr(letters, *c);
        if (!at || i >= t->n_params || types[at - letters] != t->types[i])
            return false;
    }
    return i == t->n_params;
}

/* For an import of the kernel or WASI: whether this build provides it (name and type), as
 * linking will check; -1 for other imports. */
static int provided(const exn_module_info_t *info, const exn_import_t *im)
{
    if (im->kind != EXN_EXTERN_FUNC)
        return -1;
    const char *sig = NULL;
    if (strcmp(im->module, "extism:host/env") == 0) {
        const exn_kernel_import_t *k = exn_kernel_find(im->name);
        sig = k ? k->signature : NULL;
    } else if (strcmp(im->module, "wasi_snapshot_preview1") == 0) {
        const exn_wasi_import_t *w = exn_wasi_find(im->name);
        sig = w ? w->signature : NULL;
    } else if (strcmp(im->module, "wasi_unstable") == 0) {
        return 0;
    } else {
        return -1;
    }
    return sig && signature_is(sig, &info->types[im->type_index]) ? 1 : 0;
}

/* producers: fields arrive in order, each value with its field's name; a field is opened when
 * its name changes (a field with no values is left out) */
typedef struct {
    exn_sb_t *sb;
    const uint8_t *field;
    uint32_t field_len;
    bool any;
} producers_t;

static void on_producer(void *userdata, const uint8_t *field, uint32_t field_len,
                        const exn_producer_t *p)
{
    producers_t *w = userdata;
    if (!w->any || w->field != field) {
        put(w->sb, w->any ? "]," : "{");
        put_str(w->sb, (const char *)field, field_len);
        put(w->sb, ":[");
        w->field = field;
        w->field_len = field_len;
        w->any = true;
    } else {
        put(w->sb, ",");
    }
    put(w->sb, "[");
    put_str(w->sb, (const char *)p->name, p->name_len);
    put(w->sb, ",");
    put_str(w->sb, (const char *)p->version, p->version_len);
    put(w->sb, "]");
}

static void put_producers(exn_sb_t *sb, const exn_module_info_t *info, const uint8_t *wasm)
{
    exn_sb_t part = {0};
    producers_t w = {&part, NULL, 0, false};
    bool ok = exn_names_producers(info, wasm, on_producer, &w);
    if (w.any)
        put(&part, "]}");
    else
        put(&part, "{}");
    if (ok && !part.failed)
        exn_sb_append(sb, part.data, part.len);
    else if (part.failed)
        sb->failed = true;
    else
        put(sb, "null");
    exn_sb_free(&part);
}

static void describe(exn_sb_t *sb, const exn_module_info_t *info, const uint8_t *wasm)
{
    put(sb, "{\"imports\":[");
    uint32_t func = 0, mem = 0;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_t *im = &info->imports[i];
        put(sb, i ? ",{\"module\":" : "{\"module\":");
        put_str(sb, im->module, strlen(im->module));
        put(sb, ",\"name\":");
        put_str(sb, im->name, strlen(im->name));
        put(sb, ",\"kind\":\"");
        put(sb, kind_name(im->kind));
        put(sb, "\"");
        if (im->kind == EXN_EXTERN_FUNC) {
            put(sb, ",\"index\":");
            put_u64(sb, func++);
            put(sb, ",\"type\":");
            put_functype(sb, info, im->type_index);
            int have = provided(info, im);
            if (have >= 0)
                put(sb, have ? ",\"provided\":true" : ",\"provided\":false");
        } else if (im->kind == EXN_EXTERN_MEMORY) {
            put(sb, ",\"memory\":");
            put_u64(sb, mem++);
        }
        put(sb, "}");
    }
    put(sb, "],\"exports\":[");
    for (uint32_t i = 0; i < info->n_exports; i++) {
        const exn_export_t *e = &info->exports[i];
        put(sb, i ? ",{\"name\":" : "{\"name\":");
        put_str(sb, e->name, strlen(e->name));
        put(sb, ",\"kind\":\"");
        put(sb, kind_name(e->kind));
        put(sb, "\",\"index\":");
        put_u64(sb, e->index);
        if (e->kind == EXN_EXTERN_FUNC) {
            const exn_functype_t *t = exn_module_func_type(info, e->index);
            bool callable =
                t && t->n_params == 0 &&
                (t->n_results == 0 || (t->n_results == 1 && t->types[0] == EXN_WASM_I32));
            put(sb, ",\"type\":");
            put_functype(sb, info, info->func_type[e->index]);
            put(sb, callable ? ",\"callable\":true" : ",\"callable\":false");
        }
        put(sb, "}");
    }
    put(sb, "],\"memories\":[");
    for (uint32_t m = 0; m < info->n_memories; m++) {
        const exn_memtype_t *t = &info->memories[m];
        put(sb, m ? ",{\"min\":" : "{\"min\":");
        put_u64(sb, t->min);
        put(sb, ",\"max\":");
        if (t->has_max)
            put_u64(sb, t->max);
        else
            put(sb, "null");
        put(sb, m < info->n_memory_imports ? ",\"imported\":true" : ",\"imported\":false");
        put(sb, ",\"exports\":[");
        bool first = true;
        for (uint32_t i = 0; i < info->n_exports; i++) {
            const exn_export_t *e = &info->exports[i];
            if (e->kind == EXN_EXTERN_MEMORY && e->index == m) {
                put(sb, first ? "" : ",");
                put_str(sb, e->name, strlen(e->name));
                first = false;
            }
        }
        put(sb, "]}");
    }
    put(sb, "],\"features\":[");
    bool first = true;
    for (size_t i = 0; i < sizeof FEATURES / sizeof FEATURES[0]; i++) {
        if (info->features & FEATURES[i].bit) {
            put(sb, first ? "\"" : ",\"");
            put(sb, FEATURES[i].name);
            put(sb, "\"");
            first = false;
        }
    }
    put(sb, "],\"producers\":");
    put_producers(sb, info, wasm);
    put(sb, ",\"module_name\":");
    const uint8_t *name;
    uint32_t name_len;
    if (exn_names_module(info, wasm, &name, &name_len))
        put_str(sb, (const char *)name, name_len);
    else
        put(sb, "null");
    put(sb, ",\"has_names\":");
    put(sb, info->name_section.len ? "true" : "false");
    put(sb, ",\"functions\":");
    put_u64(sb, info->n_funcs - info->n_func_imports);
    put(sb, ",\"start\":");
    if (info->has_start)
        put_u64(sb, info->start);
    else
        put(sb, "null");

    /* which engine can run it: the interpreter runs every valid module; the compiled tier
     * needs its compiler here */
    char why[512];
    bool native = exn_native_probe(why, sizeof why) == EXN_OK;
    put(sb, ",\"tiers\":{\"interp\":true,\"native\":");
    put(sb, native ? "true" : "false");
    put(sb, native ? ",\"native_compiler\":" : ",\"native_reason\":");
    put_str(sb, why, strlen(why));
    put(sb, "}}");
}

exn_status_t exn_module_inspect(const uint8_t *wasm, size_t len, char *buf, size_t buf_len,
                                size_t *out_len)
{
    if (buf && buf_len)
        buf[0] = '\0';
    if ((!wasm && len) || !out_len || (!buf && buf_len)) {
        const char *msg = "wasm is NULL but len is not 0, or out_len is NULL";
        if (out_len)
            *out_len = strlen(msg);
        exn_fmt(buf, buf_len, "%s", msg);
        return EXN_ERR_MISUSE;
    }
    char errbuf[512];
    exn_module_info_t info;
    const uint8_t *bytes = wasm ? wasm : (const uint8_t *)"";
    exn_status_t st = exn_validate_module(bytes, len, &info, errbuf, sizeof errbuf);
    if (st != EXN_OK) {
        exn_module_info_free(&info);
        *out_len = strlen(errbuf);
        exn_fmt(buf, buf_len, "%s", errbuf);
        return st;
    }
    exn_sb_t sb = {0};
    describe(&sb, &info, bytes);
    exn_module_info_free(&info);
    if (sb.failed) {
        exn_sb_free(&sb);
        *out_len = strlen("out of memory");
        exn_fmt(buf, buf_len, "out of memory");
        return EXN_ERR_NOMEM;
    }
    *out_len = sb.len;
    if (sb.len < buf_len) {
        memcpy(buf, sb.data, sb.len);
        buf[sb.len] = '\0';
    }
    exn_sb_free(&sb);
    return EXN_OK;
}
