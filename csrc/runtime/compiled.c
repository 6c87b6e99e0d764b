/* compiled.c: compiled plugins (compiled.h) - read the manifest once, load and hash-check the
 * modules, name them (spec 6.4), validate and describe them (once), compile them with the
 * engine, and resolve every import (host functions first: they may replace kernel and WASI
 * functions; then the kernel, WASI, and the other modules by name).  One load error lists every
 * unresolved import at once.
 * May call: manifest.h, validate.h, module_info.h, engine.h, tiering.h (which engine),
 * hostfn.h, kernel.h (the kernel's import table), wasi/wasi.h (WASI's). */
#include "compiled.h"

#include "hostfn.h"
#include "http/http.h"
#include "kernel/kernel.h"
#include "tiering.h"
#include "validate/validate.h"
#include "wasi/wasi.h"

/* ---- messages --------------------------------------------------------------------------- */

/* Append to a message buffer that already holds a NUL-terminated string. */
static void append(char *buf, size_t buf_len, const char *fmt, ...) EXN_PRINTF(3, 4);

static void append(char *buf, size_t buf_len, const char *fmt, ...)
{
    if (!buf || !buf_len)
        return;
    size_t n = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(buf + n, buf_len - n, fmt, ap);
    va_end(ap);
}

/* "I(Ii)" -> "(i64, i32) -> (i64)" */
static void signature_text(const char *sig, char *buf, size_t buf_len)
{
    static const char *const names[] = {"i32", "i64", "f32", "f64"};
    const char *letters = "iIfF";
    exn_fmt(buf, buf_len, "(");
    const char *params = strchr(sig, '(');
    for (const char *c = params ? params + 1 : ""; *c && *c != ')'; c++) {
        const char *at = strchr(letters, *c);
        append(buf, buf_len, "%s%s", c == params + 1 ? "" : ", ", at ? names[at - letters] : "?");
    }
    append(buf, buf_len, ") -> (");
    if (sig[0] != 'v') {
        const char *at = strchr(letters, sig[0]);
        append(buf, buf_len, "%s", at ? names[at - letters] : "?");
    }
    append(buf, buf_len, ")");
}

/* ---- import resolution ------------------------------------------------------------------- */

/* Signature letters of a function type (kernel_link.c): "I(Ii)" is (i64, i32) -> i64. */
static void exn_type_signature(const exn_functype_t *t, char *buf, size_t buf_len)
{
    size_t n = 0;
    if (buf_len < (size_t)t->n_params + t->n_results + 4) {
        exn_fmt(buf, buf_len, "?");
        return;
    }
    if (t->n_results == 0)
        buf[n++] = 'v';
    for (uint32_t i = 0; i < t->n_params + t->n_results; i++) {
        uint32_t at = i < t->n_results ? t->n_params + i : i - t->n_results;
        if (i == t->n_results)
            buf[n++] = '(';
        switch (t->types[at]) {
        case EXN_WASM_I32: buf[n++] = 'i'; break;
        case EXN_WASM_I64: buf[n++] = 'I'; break;
        case EXN_WASM_F32: buf[n++] = 'f'; break;
        case EXN_WASM_F64: buf[n++] = 'F'; break;
        default: buf[n++] = '?'; break;
        }
    }
    if (t->n_params == 0)
        buf[n++] = '(';
    buf[n++] = ')';
    buf[n] = '\0';
}

static const exn_module_def_t *module_named(const ExtismCompiledPlugin *c, const char *name,
                                            const exn_module_def_t *except)
{
    for (size_t i = 0; i < c->n_defs; i++) {
        if (&c->defs[i] != except && strcmp(c->defs[i].name, name) == 0)
            return &c->defs[i];
    }
    return NULL;
}

static bool same_type(const exn_functype_t *a, const exn_functype_t *b)
{
    return a->n_params == b->n_params && a->n_results == b->n_results &&
           memcmp(a->types, b->types, (size_t)a->n_params + a->n_results) == 0;
}

exn_import_target_t exn_resolve_import(const ExtismCompiledPlugin *c, const exn_module_def_t *def,
                                       const exn_import_t *im)
{
    exn_import_target_t t;
    memset(&t, 0, sizeof t);
    if (im->kind != EXN_EXTERN_FUNC) {
        /* only another module of the manifest provides memories, globals, tables (issue 17) */
        const exn_module_def_t *target = module_named(c, im->module, def);
        const exn_export_t *e =
            target ? exn_module_export(&target->info, im->name, im->kind) : NULL;
        if (e) {
            t.kind = EXN_IMPORT_MODULE;
            t.module = (size_t)(target - c->defs);
            t.index = e->index;
        }
        return t;
    }
    size_t fn_index = exn_hostfn_find(c->fns, c->n_fns, im->module, im->name);
    if (fn_index < c->n_fns) {
        t.kind = EXN_IMPORT_HOST;
        t.fn = c->fns[fn_index];
        t.fn_index = fn_index;
    } else if (strcmp(im->module, "extism:host/env") == 0) {
        if ((t.kernel = exn_kernel_find(im->name)) != NULL)
            t.kind = EXN_IMPORT_KERNEL;
    } else if (strcmp(im->module, "wasi_snapshot_preview1") == 0) {
        if (c->with_wasi && (t.wasi = exn_wasi_find(im->name)) != NULL)
            t.kind = EXN_IMPORT_WASI;
    } else {
        const exn_module_def_t *target = module_named(c, im->module, def);
        const exn_export_t *e =
            target ? exn_module_export(&target->info, im->name, EXN_EXTERN_FUNC) : NULL;
        if (e) {
            t.kind = EXN_IMPORT_MODULE;
            t.module = (size_t)(target - c->defs);
            t.index = e->index;
        }
    }
    return t;
}

/* A name of the description for a message: a NUL (kept as C0 80, module_info.h) as \0. */
static void printable_name(const char *name, char *buf, size_t buf_len)
{
    size_t k = 0;
    for (const char *c = name; *c && k + 3 < buf_len; c++) {
        if ((unsigned char)c[0] == 0xC0 && (unsigned char)c[1] == 0x80) {
            buf[k++] = '\\';
            buf[k++] = '0';
            c++;
        } else {
            buf[k++] = *c;
        }
    }
    buf[k] = '\0';
}

/* A memory, a global or a table imported from another module of the manifest: it must exist and
 * have a matching type (WebAssembly 2.0, 4.5.3 "import subtyping": a memory's or a table's
 * limits within the import's, a table of the same element type; a global of the same value
 * type and mutability). */
static bool check_shared_import(const ExtismCompiledPlugin *c, const exn_module_def_t *def,
                                const exn_import_t *im, const char *mod, const char *nm,
                                const char *sep, char *errbuf, size_t errbuf_len)
{
    const char *kind = im->kind == EXN_EXTERN_MEMORY  ? "memory"
                       : im->kind == EXN_EXTERN_TABLE ? "table"
                                                      : "global";
    exn_import_target_t t = exn_resolve_import(c, def, im);
    if (t.kind != EXN_IMPORT_MODULE) {
        append(errbuf, errbuf_len, "%s%s::%s (a %s import: %s)", sep, mod, nm, kind,
               module_named(c, im->module, def) ? "that module exports no such one"
                                                : "no module of the manifest has that name");
        return false;
    }
    const exn_module_info_t *theirs = &c->defs[t.module].info;
    if (im->kind == EXN_EXTERN_MEMORY) {
        const exn_memtype_t *want = &def->info.memories[im->type_index];
        const exn_memtype_t *have = &theirs->memories[t.index];
        if (have->min < want->min || (want->has_max && (!have->has_max || have->max > want->max))) {
            char w[64], h[64];
            exn_fmt(w, sizeof w, want->has_max ? "%llu..%llu pages" : "%llu.. pages",
                    (unsigned long long)want->min, (unsigned long long)want->max);
            exn_fmt(h, sizeof h, have->has_max ? "%llu..%llu pages" : "%llu.. pages",
                    (unsigned long long)have->min, (unsigned long long)have->max);
            append(errbuf, errbuf_len,
                   "%s%s::%s (incompatible memory: imported with limits %s, the export's are %s)",
                   sep, mod, nm, w, h);
            return false;
        }
        return true;
    }
    if (im->kind == EXN_EXTERN_TABLE) {
        const exn_tabletype_t *want = &def->info.tables[im->type_index];
        const exn_tabletype_t *have = &theirs->tables[t.index];
        if (have->elem_type != want->elem_type || have->min < want->min ||
            (want->has_max && (!have->has_max || have->max > want->max))) {
            char w[32], h[32];
            exn_fmt(w, sizeof w, want->has_max ? "%u..%u" : "%u..", want->min, want->max);
            exn_fmt(h, sizeof h, have->has_max ? "%u..%u" : "%u..", have->min, have->max);
            append(errbuf, errbuf_len,
                   "%s%s::%s (incompatible table: imported as %s %s, the export is %s %s)", sep,
                   mod, nm, exn_valtype_name(want->elem_type), w, exn_valtype_name(have->elem_type),
                   h);
            return false;
        }
        return true;
    }
    const exn_globaltype_t *want = &def->info.globals[im->type_index];
    const exn_globaltype_t *have = &theirs->globals[t.index];
    if (want->type != have->type || want->mut != have->mut) {
        append(errbuf, errbuf_len,
               "%s%s::%s (incompatible global: imported as %s %s, the export is %s %s)", sep, mod,
               nm, want->mut ? "mutable" : "immutable", exn_valtype_name(want->type),
               have->mut ? "mutable" : "immutable", exn_valtype_name(have->type));
        return false;
    }
    return true;
}

/* Problems with one import, appended to errbuf; returns false if there is one. */
static bool check_import(const ExtismCompiledPlugin *c, const exn_module_def_t *def,
                         const exn_import_t *im, const char *sep, bool *wasi_missing, char *errbuf,
                         size_t errbuf_len)
{
    char mod[256], nm[256];
    printable_name(im->module, mod, sizeof mod);
    printable_name(im->name, nm, sizeof nm);
    if (im->kind != EXN_EXTERN_FUNC)
        return check_shared_import(c, def, im, mod, nm, sep, errbuf, errbuf_len);
    const exn_functype_t *type = &def->info.types[im->type_index];
    char want[2 * EXN_HOSTFN_MAX_VALUES + 8], found[256], theirs[256];
    exn_type_signature(type, want, sizeof want);
    exn_functype_format(type, found, sizeof found);
    exn_import_target_t t = exn_resolve_import(c, def, im);
    switch (t.kind) {
    case EXN_IMPORT_HOST:
        if (exn_hostfn_matches(t.fn, type))
            return true;
        exn_hostfn_format(t.fn, theirs, sizeof theirs);
        append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, the host function's is %s)",
               sep, mod, nm, found, theirs);
        return false;
    case EXN_IMPORT_KERNEL:
        if (strcmp(t.kernel->signature, want) == 0)
            return true;
        signature_text(t.kernel->signature, theirs, sizeof theirs);
        append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, the kernel's is %s)", sep, mod,
               nm, found, theirs);
        return false;
    case EXN_IMPORT_WASI:
        if (strcmp(t.wasi->signature, want) == 0)
            return true;
        signature_text(t.wasi->signature, theirs, sizeof theirs);
        append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, WASI's is %s)", sep, mod, nm,
               found, theirs);
        return false;
    case EXN_IMPORT_MODULE: {
        const exn_functype_t *ft = exn_module_func_type(&c->defs[t.module].info, t.index);
        if (!same_type(ft, type)) {
            exn_functype_format(ft, theirs, sizeof theirs);
            append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, the export's is %s)", sep,
                   mod, nm, found, theirs);
            return false;
        }
        if (ft->n_params > EXN_MAX_LINK_VALUES || ft->n_results > EXN_MAX_LINK_VALUES) {
            append(errbuf, errbuf_len, "%s%s::%s (too many parameters or results)", sep, mod, nm);
            return false;
        }
        return true;
    }
    case EXN_IMPORT_NONE: break;
    }
    const char *why = "";
    if (strcmp(im->module, "extism:host/env") == 0)
        why = " (the Extism kernel has no such function: the plugin may need a newer runtime)";
    else if (strcmp(im->module, "wasi_snapshot_preview1") == 0 && c->with_wasi)
        why = " (not a WASI preview 1 function this runtime provides)";
    else if (strcmp(im->module, "wasi_snapshot_preview1") == 0)
        *wasi_missing = true;
    else if (module_named(c, im->module, def))
        why = " (that module exports no function of that name)";
    append(errbuf, errbuf_len, "%s%s::%s%s", sep, mod, nm, why);
    return false;
}

static exn_status_t check_imports(const ExtismCompiledPlugin *c, char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    bool wasi_missing = false;
    exn_fmt(errbuf, errbuf_len, "unresolved imports:");
    for (size_t k = 0; k < c->n_defs; k++) {
        const exn_module_def_t *def = &c->defs[k];
        for (uint32_t i = 0; i < def->info.n_imports; i++) {
            const char *sep = st == EXN_OK ? " " : "; ";
            if (!check_import(c, def, &def->info.imports[i], sep, &wasi_missing, errbuf,
                              errbuf_len))
                st = EXN_ERR_LINK;
        }
    }
    if (st != EXN_OK && wasi_missing)
        append(errbuf, errbuf_len,
               " (the module uses WASI, which is disabled: enable it with "
               "wasi=True in Python or with_wasi in C)");
    if (st != EXN_OK)
        return st;
    /* (a memory larger at start than memory.max_pages fails to instantiate: instance.c) */
    if (errbuf && errbuf_len)
        errbuf[0] = '\0';
    return EXN_OK;
}

/* ---- creation ------------------------------------------------------------------------------ */

static bool reserved_name(const char *name)
{
    return strcmp(name, "extism:host/env") == 0 || strcmp(name, "wasi_snapshot_preview1") == 0;
}

/* Where every import comes from, for instances to link without looking anything up. */
static exn_status_t resolve_imports(ExtismCompiledPlugin *c)
{
    for (size_t k = 0; k < c->n_defs; k++) {
        exn_module_def_t *def = &c->defs[k];
        uint32_t n = def->info.n_imports;
        if (!(def->targets = exn_calloc(n ? n : 1, sizeof *def->targets)))
            return EXN_ERR_NOMEM;
        for (uint32_t i = 0; i < n; i++)
            def->targets[i] = exn_resolve_import(c, def, &def->info.imports[i]);
    }
    return EXN_OK;
}

/* Take the modules out of the manifest and name them (spec 6.4): one module is main whatever
 * its name; with several, unnamed ones are called main, and if none is main the last one is. */
static exn_status_t take_modules(ExtismCompiledPlugin *c, exn_manifest_t *manifest, char *errbuf,
                                 size_t errbuf_len)
{
    size_t n = manifest->n_wasm;
    if (!(c->defs = exn_calloc(n, sizeof *c->defs)))
        return EXN_ERR_NOMEM;
    bool have_main = false;
    for (size_t i = 0; i < n; i++) {
        exn_manifest_wasm_t *w = &manifest->wasm[i];
        exn_module_def_t *def = &c->defs[c->n_defs++];
        def->wasm = w->bytes;
        def->wasm_len = w->len;
        w->bytes = NULL;
        const char *name = n == 1 || !w->name ? "main" : w->name;
        if (!(def->name = exn_strndup(name, strlen(name))))
            return EXN_ERR_NOMEM;
        if (def->wasm_len > UINT32_MAX) {
            exn_fmt(errbuf, errbuf_len, "wasm[%zu] is larger than 4 GiB", i);
            return EXN_ERR_LOAD;
        }
        if (n > 1 && reserved_name(name)) {
            exn_fmt(errbuf, errbuf_len, "invalid manifest: wasm[%zu].name: \"%s\" is reserved", i,
                    name);
            return EXN_ERR_MANIFEST;
        }
        for (size_t j = 0; j + 1 < c->n_defs; j++) {
            if (strcmp(c->defs[j].name, name) == 0) {
                exn_fmt(errbuf, errbuf_len,
                        "invalid manifest: wasm[%zu].name: duplicate module name \"%s\"%s", i, name,
                        strcmp(name, "main") == 0 ? " (unnamed modules are called main)" : "");
                return EXN_ERR_MANIFEST;
            }
        }
        if (strcmp(name, "main") == 0) {
            c->main = i;
            have_main = true;
        }
    }
    if (!have_main) {
        exn_module_def_t *last = &c->defs[c->n_defs - 1];
        char *main_name = exn_strndup("main", 4);
        if (!main_name)
            return EXN_ERR_NOMEM;
        exn_free(last->name);
        last->name = main_name;
        c->main = c->n_defs - 1;
    }
    /* compiled code of every module in the cache: the modules were validated when it was made
     * (tiering.h); otherwise each is validated and described now */
    if (exn_tier_from_cache(c))
        return EXN_OK;
    for (size_t i = 0; i < c->n_defs; i++) {
        exn_module_def_t *def = &c->defs[i];
        char why[512];
        exn_status_t st =
            exn_validate_module(def->wasm, def->wasm_len, &def->info, why, sizeof why);
        if (st) {
            if (c->n_defs > 1)
                exn_fmt(errbuf, errbuf_len, "module %s: %s", def->name, why);
            else
                exn_fmt(errbuf, errbuf_len, "%s", why);
            return st;
        }
    }
    return EXN_OK;
}

exn_status_t exn_compiled_new(const uint8_t *data, size_t len, const ExtismFunction **functions,
                              size_t n_functions, bool with_wasi, int tier, uint64_t fuel,
                              ExtismCompiledPlugin **out, char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    exn_manifest_t manifest;
    bool have_manifest = false;
    ExtismCompiledPlugin *c = NULL;

    if (errbuf && errbuf_len)
        errbuf[0] = '\0';
    *out = NULL;
    if (n_functions && !functions) {
        exn_fmt(errbuf, errbuf_len, "n_functions is %zu but functions is NULL", n_functions);
        return EXN_ERR_MISUSE;
    }
    for (size_t i = 0; i < n_functions; i++) {
        if (!functions[i]) {
            exn_fmt(errbuf, errbuf_len, "functions[%zu] is NULL", i);
            return EXN_ERR_MISUSE;
        }
    }

    EXN_TRY(exn_manifest_from_input(data, len, &manifest, errbuf, errbuf_len));
    have_manifest = true;
    EXN_TRY(exn_manifest_load(&manifest, exn_http_fetch_source, NULL, errbuf, errbuf_len));

    c = exn_calloc(1, sizeof *c);
    if (!c) {
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    c->refs = 1;
    c->with_wasi = with_wasi;
    c->fuel = fuel;
    c->engine = &exn_engine_wasm3; /* (until exn_tier_setup has chosen) */
    if (n_functions) {
        if (!(c->fns = exn_malloc(n_functions * sizeof *c->fns))) {
            st = EXN_ERR_NOMEM;
            goto cleanup;
        }
        for (size_t i = 0; i < n_functions; i++) {
            c->fns[i] = (ExtismFunction *)functions[i];
            exn_hostfn_retain(c->fns[i]);
        }
        c->n_fns = n_functions;
    }
    c->config = manifest.config;
    exn_strmap_init(&manifest.config);
    c->max_var_bytes = manifest.max_var_bytes;
    c->max_http_response_bytes = manifest.max_http_response_bytes;
    c->has_max_pages = manifest.has_max_pages;
    c->max_pages = manifest.max_pages;
    c->timeout_ns = manifest.has_timeout ? manifest.timeout_ms * 1000000u : 0;
    c->allowed_hosts = manifest.allowed_hosts; /* NULL when absent, null or [] */
    c->n_allowed_hosts = manifest.n_allowed_hosts;
    manifest.allowed_hosts = NULL;
    manifest.n_allowed_hosts = 0;
    c->allowed_paths = manifest.allowed_paths;
    c->n_allowed_paths = manifest.n_allowed_paths;
    manifest.allowed_paths = NULL;
    manifest.n_allowed_paths = 0;

    EXN_TRY(exn_tier_resolve(c, tier, errbuf, errbuf_len));
    EXN_TRY(take_modules(c, &manifest, errbuf, errbuf_len));
    EXN_TRY(check_imports(c, errbuf, errbuf_len));
    EXN_TRY(exn_tier_setup(c, errbuf, errbuf_len));
    EXN_TRY(resolve_imports(c));
    *out = c;
    c = NULL;

cleanup:
    if (st == EXN_ERR_NOMEM)
        exn_fmt(errbuf, errbuf_len, "out of memory compiling the plugin");
    if (have_manifest)
        exn_manifest_free(&manifest);
    exn_compiled_release(c);
    return st;
}

void exn_compiled_retain(ExtismCompiledPlugin *c)
{
    exn_ref_retain(&c->refs);
}

void exn_compiled_release(ExtismCompiledPlugin *c)
{
    if (!c || !exn_ref_release(&c->refs))
        return;
    /* the code first: it borrows the bytes and the description (no instance is left to
     * borrow from it) */
    exn_tier_free(c);
    for (size_t i = 0; i < c->n_defs; i++) {
        exn_free(c->defs[i].name);
        exn_free(c->defs[i].wasm);
        exn_module_info_free(&c->defs[i].info);
        exn_free(c->defs[i].targets);
    }
    exn_free(c->defs);
    for (size_t i = 0; i < c->n_fns; i++)
        exn_hostfn_release(c->fns[i]);
    exn_free(c->fns);
    exn_strmap_clear(&c->config);
    for (size_t i = 0; i < c->n_allowed_hosts; i++)
        exn_free(c->allowed_hosts[i]);
    exn_free(c->allowed_hosts);
    for (size_t i = 0; i < c->n_allowed_paths; i++) {
        exn_free(c->allowed_paths[i].host_path);
        exn_free(c->allowed_paths[i].guest_path);
    }
    exn_free(c->allowed_paths);
    exn_free(c);
}
