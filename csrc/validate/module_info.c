/* module_info.c: a bounds-checked reader of the wasm binary sections the core needs (types,
 * imports, functions, memory, exports, start); see module_info.h.  Every length is checked
 * against the bytes left before it is used (the reader is wasm_read.h's).  Reference: WebAssembly Core Specification 2.0,
 * section 5 (binary format). */
#include "module_info.h"

#include <stdio.h>
#include <stdlib.h>

#include "wasm_read.h"

#define MAX_ITEMS 1000000 /* no real module has more of anything; bounds allocations */
#define MAX_NAME 100000

typedef struct {
    exn_wread_t w; /* the shared reader (wasm_read.h) */
    const uint8_t *start;
    char *errbuf;
    size_t errbuf_len;
    bool failed;
} reader_t;

static bool bad_at(reader_t *r, const uint8_t *at, const char *why)
{
    if (!r->failed)
        exn_fmt(r->errbuf, r->errbuf_len, "malformed wasm at offset %zu: %s",
                (size_t)(at - r->start), why);
    r->failed = true;
    return false;
}

static bool bad(reader_t *r, const char *why)
{
    return bad_at(r, r->w.p, why);
}

static bool read_failed(reader_t *r)
{
    return bad_at(r, r->w.why_at, r->w.why);
}

static bool read_byte(reader_t *r, uint8_t *out)
{
    return exn_wread_u8(&r->w, out) || read_failed(r);
}

static bool read_u32(reader_t *r, uint32_t *out)
{
    return exn_wread_u32(&r->w, out) || read_failed(r);
}

static bool read_count(reader_t *r, uint32_t *out)
{
    if (!read_u32(r, out))
        return false;
    /* every item takes at least one byte: a count past the bytes left is a lie */
    if (*out > MAX_ITEMS || *out > exn_wread_left(&r->w))
        return bad(r, "count larger than the section");
    return true;
}

/* Names are kept as C strings.  An import name with a NUL could never be resolved, so it is
 * refused; an export name with one is valid wasm that no C caller can name: each NUL is
 * stored as the bytes C0 80, which never occur in UTF-8, so it cannot collide with another
 * export. */
static bool read_name(reader_t *r, char **out, bool allow_nul)
{
    const uint8_t *s;
    uint32_t n;
    if (!exn_wread_name(&r->w, &s, &n))
        return read_failed(r);
    if (n > MAX_NAME)
        return bad(r, "name too long");
    size_t nuls = 0;
    for (uint32_t i = 0; i < n; i++)
        nuls += s[i] == '\0';
    if (nuls && !allow_nul)
        return bad(r, "name contains a NUL character");
    *out = exn_malloc(n + nuls + 1);
    if (!*out)
        return bad(r, "out of memory");
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (s[i] == '\0') {
            (*out)[k++] = (char)0xC0;
            (*out)[k++] = (char)0x80;
        } else
            (*out)[k++] = (char)s[i];
    }
    (*out)[k] = '\0';
    return true;
}

static bool is_valtype(uint8_t t)
{
    return t == EXN_WASM_I32 || t == EXN_WASM_I64 || t == EXN_WASM_F32 || t == EXN_WASM_F64 ||
           t == EXN_WASM_V128 || t == EXN_WASM_FUNCREF || t == EXN_WASM_EXTERNREF;
}

static bool read_limits(reader_t *r, uint32_t *min, uint32_t *max, bool *has_max)
{
    uint8_t flags;
    if (!read_byte(r, &flags) || !read_u32(r, min))
        return false;
    if (flags > 1)
        return bad(r, "unsupported limits flags (shared or 64-bit memory)");
    *has_max = flags == 1;
    *max = 0;
    return !*has_max || read_u32(r, max);
}

static bool section_type(reader_t *r, exn_module_info_t *m)
{
    uint32_t n;
    if (!read_count(r, &n))
        return false;
    m->types = exn_calloc(n, sizeof *m->types);
    if (!m->types)
        return bad(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint8_t form;
        uint32_t np, nr;
        if (!read_byte(r, &form))
            return false;
        if (form != 0x60)
            return bad(r, "expected a function type");
        if (!read_count(r, &np))
            return false;
        const uint8_t *params = r->w.p;
        r->w.p += np;
        if (!read_count(r, &nr))
            return false;
        if (nr > exn_wread_left(&r->w))
            return bad(r, "unexpected end");
        exn_functype_t *t = &m->types[i];
        t->types = exn_malloc((size_t)np + nr);
        if (!t->types)
            return bad(r, "out of memory");
        m->n_types++;
        memcpy(t->types, params, np);
        memcpy(t->types + np, r->w.p, nr);
        r->w.p += nr;
        t->n_params = np;
        t->n_results = nr;
        for (uint32_t k = 0; k < np + nr; k++) {
            if (!is_valtype(t->types[k]))
                return bad(r, "unknown value type");
        }
    }
    return true;
}

static bool push_func(reader_t *r, exn_module_info_t *m, uint32_t type_index, uint32_t *cap)
{
    if (type_index >= m->n_types)
        return bad(r, "function type index out of range");
    if (m->n_funcs == *cap) {
        uint32_t c = *cap ? *cap * 2 : 64;
        uint32_t *f = exn_realloc(m->func_type, (size_t)c * sizeof *f);
        if (!f)
            return bad(r, "out of memory");
        m->func_type = f;
        *cap = c;
    }
    m->func_type[m->n_funcs++] = type_index;
    return true;
}

static bool section_import(reader_t *r, exn_module_info_t *m, uint32_t *func_cap)
{
    uint32_t n;
    if (!read_count(r, &n))
        return false;
    m->imports = exn_calloc(n, sizeof *m->imports);
    if (!m->imports)
        return bad(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        exn_import_t *im = &m->imports[i];
        m->n_imports++;
        if (!read_name(r, &im->module, false) || !read_name(r, &im->name, false) ||
            !read_byte(r, &im->kind))
            return false;
        switch (im->kind) {
        case EXN_EXTERN_FUNC:
            if (!read_u32(r, &im->type_index) || !push_func(r, m, im->type_index, func_cap))
                return false;
            m->n_func_imports++;
            break;
        case EXN_EXTERN_TABLE: {
            uint8_t elem;
            uint32_t a, b;
            bool has;
            if (!read_byte(r, &elem) || !read_limits(r, &a, &b, &has))
                return false;
            break;
        }
        case EXN_EXTERN_MEMORY:
            if (!read_limits(r, &m->memory_min, &m->memory_max, &m->memory_has_max))
                return false;
            m->has_memory = m->memory_imported = true;
            break;
        case EXN_EXTERN_GLOBAL: {
            uint8_t type, mut;
            if (!read_byte(r, &type) || !read_byte(r, &mut))
                return false;
            if (!is_valtype(type) || mut > 1)
                return bad(r, "bad global type");
            break;
        }
        default: return bad(r, "unknown import kind");
        }
    }
    return true;
}

static bool section_function(reader_t *r, exn_module_info_t *m, uint32_t *func_cap)
{
    uint32_t n, t;
    if (!read_count(r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!read_u32(r, &t) || !push_func(r, m, t, func_cap))
            return false;
    }
    return true;
}

static bool section_memory(reader_t *r, exn_module_info_t *m)
{
    uint32_t n;
    if (!read_count(r, &n))
        return false;
    if (n > 1 || (n == 1 && m->has_memory))
        return bad(r, "more than one memory");
    if (n == 1) {
        if (!read_limits(r, &m->memory_min, &m->memory_max, &m->memory_has_max))
            return false;
        if (m->memory_min > 65536 || (m->memory_has_max && m->memory_max > 65536))
            return bad(r, "memory larger than 4 GiB");
        if (m->memory_has_max && m->memory_max < m->memory_min)
            return bad(r, "memory maximum below its minimum");
        m->has_memory = true;
    }
    return true;
}

static int cmp_export(const void *a, const void *b)
{
    const exn_export_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (int)x->kind - (int)y->kind;
}

static bool section_export(reader_t *r, exn_module_info_t *m)
{
    uint32_t n;
    if (!read_count(r, &n))
        return false;
    m->exports = exn_calloc(n, sizeof *m->exports);
    if (!m->exports)
        return bad(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        exn_export_t *e = &m->exports[i];
        m->n_exports++;
        if (!read_name(r, &e->name, true) || !read_byte(r, &e->kind) || !read_u32(r, &e->index))
            return false;
        if (e->kind > EXN_EXTERN_GLOBAL)
            return bad(r, "unknown export kind");
        if (e->kind == EXN_EXTERN_FUNC && e->index >= m->n_funcs)
            return bad(r, "exported function index out of range");
    }
    qsort(m->exports, n, sizeof *m->exports, cmp_export);
    for (uint32_t i = 1; i < n; i++) {
        if (strcmp(m->exports[i - 1].name, m->exports[i].name) == 0)
            return bad(r, "duplicate export name");
    }
    return true;
}

exn_status_t exn_module_scan(const uint8_t *bytes, size_t len, exn_module_info_t *out,
                             char *errbuf, size_t errbuf_len)
{
    memset(out, 0, sizeof *out);
    reader_t r = {exn_wread_init(bytes, bytes + len), bytes, errbuf, errbuf_len, false};
    uint32_t func_cap = 0;
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    if (len >= 4 && len < 8 && memcmp(bytes, magic, 4) == 0) {
        exn_fmt(errbuf, errbuf_len, "truncated WebAssembly module (%zu bytes)", len);
        return EXN_ERR_LOAD;
    }
    if (len < 8 || memcmp(bytes, magic, 4) != 0) {
        exn_fmt(errbuf, errbuf_len, "not a WebAssembly module (no \\0asm header)");
        return EXN_ERR_LOAD;
    }
    if (memcmp(bytes + 4, magic + 4, 4) != 0) {
        exn_fmt(errbuf, errbuf_len, "unsupported WebAssembly binary version (only 1 is supported)");
        return EXN_ERR_LOAD;
    }
    r.w.p += 8;
    int last = 0;
    /* section order of the spec, with data count (12) between element (9) and code (10) */
    static const int order[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    while (r.w.p < r.w.end && !r.failed) {
        uint8_t id;
        uint32_t size;
        if (!read_byte(&r, &id) || !read_u32(&r, &size))
            break;
        if (size > exn_wread_left(&r.w)) {
            bad(&r, "section larger than the module");
            break;
        }
        if (id > 12) {
            bad(&r, "unknown section id");
            break;
        }
        if (id != 0) {
            if (order[id] <= last) {
                bad(&r, "section out of order or repeated");
                break;
            }
            last = order[id];
        }
        reader_t s = {exn_wread_init(r.w.p, r.w.p + size), bytes, errbuf, errbuf_len, false};
        bool ok = true;
        switch (id) {
        case 1: ok = section_type(&s, out); break;
        case 2: ok = section_import(&s, out, &func_cap); break;
        case 3: ok = section_function(&s, out, &func_cap); break;
        case 5: ok = section_memory(&s, out); break;
        case 7: ok = section_export(&s, out); break;
        case 8: {
            uint32_t start;
            ok = read_u32(&s, &start);
            if (ok && start >= out->n_funcs)
                ok = bad(&s, "start function index out of range");
            out->has_start = true;
            break;
        }
        default: s.w.p = s.w.end; break; /* sections we do not need (custom, table, code, ...) */
        }
        if (!ok) {
            r.failed = true;
            break;
        }
        if (id != 0 && s.w.p != s.w.end) {
            r.w.p = s.w.p;
            bad(&r, "section size does not match its contents");
            break;
        }
        r.w.p += size;
    }
    if (r.failed) {
        exn_module_info_free(out);
        return EXN_ERR_LOAD;
    }
    return EXN_OK;
}

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
    for (uint32_t i = 0; i < info->n_exports; i++)
        exn_free(info->exports[i].name);
    exn_free(info->exports);
    memset(info, 0, sizeof *info);
}

const exn_export_t *exn_module_export(const exn_module_info_t *info, const char *name,
                                      uint8_t kind)
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
