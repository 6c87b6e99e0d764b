/* instance.c: the modules of a plugin on wasm3 (instance.h).
 *
 * Imports resolve in this order, as in the official runtime: the plugin's host functions (the
 * last of a name wins, and they may replace kernel or WASI functions), then the Extism kernel
 * (extism:host/env), WASI (wasi_snapshot_preview1, when enabled), and finally the exported
 * functions of the other modules of the manifest, by module name.  Everything is checked
 * before anything is instantiated, so one load error lists every unresolved import.
 * May call: hostfn.h, kernel.h, wasi/wasi.h, plugin.h, vmem.h, os.h and the wasm3 internals
 * needed to call a function by index (m3_env.h, m3_compile.h). */
#include "instance.h"

#include "hostfn.h"
#include "kernel.h"
#include "plugin.h"
#include "wasi/wasi.h"

#include "m3_compile.h"
#include "m3_env.h"

#define WASM_STACK_BYTES (1u << 20) /* wasm3 value stack per instance (untouched pages are free) */
#define MAX_LINK_VALUES 128         /* parameters/results of a function imported from a module */

struct exn_link {
    exn_module_t *target;
    uint32_t index; /* function index in the target module */
};

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

static char sig_letter(uint8_t t)
{
    switch (t) {
    case EXN_WASM_I32: return 'i';
    case EXN_WASM_I64: return 'I';
    case EXN_WASM_F32: return 'f';
    case EXN_WASM_F64: return 'F';
    }
    return '?';
}

/* wasm3 signature letters for a function type: "I(Ii)" = (i64, i32) -> i64.  Types wasm3
 * cannot pass (v128, references) give '?', which matches no implementation. */
static void type_signature(const exn_functype_t *t, char *buf, size_t buf_len)
{
    size_t n = 0;
    if (buf_len < (size_t)t->n_params + t->n_results + 4) {
        exn_fmt(buf, buf_len, "?");
        return;
    }
    if (t->n_results == 0)
        buf[n++] = 'v';
    for (uint32_t i = 0; i < t->n_results; i++)
        buf[n++] = sig_letter(t->types[t->n_params + i]);
    buf[n++] = '(';
    for (uint32_t i = 0; i < t->n_params; i++)
        buf[n++] = sig_letter(t->types[i]);
    buf[n++] = ')';
    buf[n] = '\0';
}

/* "I(Ii)" -> "(i64, i32) -> (i64)" for messages. */
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

static bool same_type(const exn_functype_t *a, const exn_functype_t *b)
{
    return a->n_params == b->n_params && a->n_results == b->n_results &&
           memcmp(a->types, b->types, (size_t)a->n_params + a->n_results) == 0;
}

static exn_module_t *module_named(ExtismPlugin *p, const char *name, const exn_module_t *except)
{
    for (size_t i = 0; i < p->n_mods; i++) {
        if (&p->mods[i] != except && strcmp(p->mods[i].name, name) == 0)
            return &p->mods[i];
    }
    return NULL;
}

/* ---- checking ---------------------------------------------------------------------------- */

/* Problems with one import, appended to errbuf; returns false if there is one. */
static bool check_import(ExtismPlugin *p, const exn_module_t *m, const exn_import_t *im,
                         const char *sep, bool *wasi_missing, char *errbuf, size_t errbuf_len)
{
    const exn_module_info_t *info = &m->info;
    if (im->kind != EXN_EXTERN_FUNC) {
        static const char *const kinds[] = {"function", "table", "memory", "global"};
        append(errbuf, errbuf_len, "%s%s::%s (a %s import: only functions can be imported)", sep,
               im->module, im->name, kinds[im->kind]);
        return false;
    }
    const exn_functype_t *type = &info->types[im->type_index];
    char want[2 * EXN_HOSTFN_MAX_VALUES + 8], found[256], theirs[256];
    type_signature(type, want, sizeof want);
    exn_functype_format(type, found, sizeof found);

    const ExtismFunction *f = exn_hostfn_find(p->fns, p->n_fns, im->module, im->name);
    if (f) {
        if (exn_hostfn_matches(f, type))
            return true;
        exn_hostfn_format(f, theirs, sizeof theirs);
        append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, the host function's is %s)",
               sep, im->module, im->name, found, theirs);
        return false;
    }
    if (strcmp(im->module, "extism:host/env") == 0) {
        const exn_kernel_import_t *k = exn_kernel_find(im->name);
        if (!k) {
            append(errbuf, errbuf_len,
                   "%s%s::%s (the Extism kernel has no such function: the plugin may need a "
                   "newer runtime)",
                   sep, im->module, im->name);
            return false;
        }
        if (strcmp(k->signature, want) == 0)
            return true;
        signature_text(k->signature, theirs, sizeof theirs);
        append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, the kernel's is %s)", sep,
               im->module, im->name, found, theirs);
        return false;
    }
    if (strcmp(im->module, "wasi_snapshot_preview1") == 0) {
        const exn_wasi_import_t *w = p->with_wasi ? exn_wasi_find(im->name) : NULL;
        if (w && strcmp(w->signature, want) == 0)
            return true;
        if (w) {
            signature_text(w->signature, theirs, sizeof theirs);
            append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, WASI's is %s)", sep,
                   im->module, im->name, found, theirs);
            return false;
        }
        if (!p->with_wasi)
            *wasi_missing = true;
        append(errbuf, errbuf_len, "%s%s::%s%s", sep, im->module, im->name,
               p->with_wasi ? " (not a WASI preview 1 function this runtime provides)" : "");
        return false;
    }
    exn_module_t *target = module_named(p, im->module, m);
    if (target) {
        const exn_export_t *e = exn_module_export(&target->info, im->name, EXN_EXTERN_FUNC);
        if (!e) {
            append(errbuf, errbuf_len, "%s%s::%s (module %s exports no function of that name)",
                   sep, im->module, im->name, im->module);
            return false;
        }
        const exn_functype_t *t = exn_module_func_type(&target->info, e->index);
        if (!same_type(t, type)) {
            exn_functype_format(t, theirs, sizeof theirs);
            append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, the export's is %s)",
                   sep, im->module, im->name, found, theirs);
            return false;
        }
        if (t->n_params > MAX_LINK_VALUES || t->n_results > MAX_LINK_VALUES) {
            append(errbuf, errbuf_len, "%s%s::%s (too many parameters or results)", sep,
                   im->module, im->name);
            return false;
        }
        return true;
    }
    append(errbuf, errbuf_len, "%s%s::%s", sep, im->module, im->name);
    return false;
}

exn_status_t exn_instances_check(ExtismPlugin *p, char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    bool wasi_missing = false;
    exn_fmt(errbuf, errbuf_len, "unresolved imports:");
    for (size_t k = 0; k < p->n_mods; k++) {
        const exn_module_t *m = &p->mods[k];
        for (uint32_t i = 0; i < m->info.n_imports; i++) {
            const char *sep = st == EXN_OK ? " " : "; ";
            if (!check_import(p, m, &m->info.imports[i], sep, &wasi_missing, errbuf, errbuf_len))
                st = EXN_ERR_LINK;
        }
        /* memory.max_pages caps each linear memory: a larger initial size cannot load */
        if (p->has_max_pages && m->info.has_memory && m->info.memory_min > p->max_pages) {
            exn_fmt(errbuf, errbuf_len,
                    "module %s needs %u pages of memory at start but memory.max_pages is %u",
                    m->name, m->info.memory_min, p->max_pages);
            return EXN_ERR_LOAD;
        }
    }
    if (st != EXN_OK && wasi_missing)
        append(errbuf, errbuf_len, " (the module uses WASI, which is disabled: enable it with "
                                   "wasi=True in Python or with_wasi in C)");
    if (st == EXN_OK && errbuf && errbuf_len)
        errbuf[0] = '\0';
    return st;
}

/* ---- calls into another module ------------------------------------------------------------ */

static IM3Function function_of(exn_module_t *m, uint32_t index, M3Result *out_error)
{
    IM3Function f = &m->module->functions[index];
    *out_error = f->compiled ? NULL : CompileFunction(f);
    return f;
}

M3Result exn_module_call(exn_module_t *m, uint32_t index, uint32_t argc, const void **args)
{
    M3Result r;
    IM3Function f = function_of(m, index, &r);
    return r ? r : m3_Call(f, argc, args);
}

/* Imports of a function exported by another module of the manifest land here: the arguments
 * are handed to that module's runtime and its results copied back.  Traps propagate. */
static const void *module_trampoline(IM3Runtime runtime, IM3ImportContext ctx, uint64_t *sp,
                                     void *mem)
{
    (void)mem;
    exn_link_t *link = ctx->userdata;
    exn_module_t *target = link->target;
    if (!target->module)
        return exn_plugin_kernel_trap(exn_plugin_of(runtime),
                                      "module %s is not instantiated yet (an import cycle used "
                                      "by a start function)",
                                      target->name);
    const exn_functype_t *t = exn_module_func_type(&target->info, link->index);
    M3Result r;
    IM3Function f = function_of(target, link->index, &r);
    if (r)
        return r;
    const void *args[MAX_LINK_VALUES];
    for (uint32_t i = 0; i < t->n_params; i++)
        args[i] = &sp[t->n_results + i];
    r = m3_Call(f, t->n_params, args);
    if (r)
        return r;
    const void *results[MAX_LINK_VALUES];
    for (uint32_t i = 0; i < t->n_results; i++) {
        sp[i] = 0;
        results[i] = &sp[i];
    }
    return t->n_results ? m3_GetResults(f, t->n_results, results) : NULL;
}

/* ---- instantiation ------------------------------------------------------------------------ */

/* wasm3 patch 0001: linear memory lives in a vmem region, committed as the guest grows it.
 * The region's limit was set from memory.max_pages before the module was loaded. */
static void *memory_resize(void *userdata, void *base, size_t old_bytes, size_t new_bytes,
                           size_t max_bytes)
{
    (void)base, (void)old_bytes;
    exn_vmem_t *vm = userdata;
    if (!vm->base && max_bytes < vm->limit)
        vm->limit = max_bytes; /* reserve no more than the module may ever use */
    return exn_vmem_resize(vm, new_bytes) == EXN_OK ? vm->base : NULL;
}

static void memory_release(void *userdata, void *base)
{
    (void)base;
    exn_vmem_free(userdata);
}

static void module_free_instance(exn_module_t *m)
{
    if (m->runtime)
        m3_FreeRuntime(m->runtime); /* frees the loaded module and its memory */
    if (m->env)
        m3_FreeEnvironment(m->env);
    exn_vmem_free(&m->memory);
    exn_free(m->links);
    m->env = NULL;
    m->runtime = NULL;
    m->module = NULL;
    m->links = NULL;
    m->n_links = 0;
    m->initialized = false;
    m->visit = 0;
}

void exn_instances_free(ExtismPlugin *p)
{
    for (size_t i = 0; i < p->n_mods; i++)
        module_free_instance(&p->mods[i]);
    p->n_order = 0;
}

static M3Result link_imports(ExtismPlugin *p, exn_module_t *m)
{
    const exn_module_info_t *info = &m->info;
    m->links = exn_calloc(info->n_imports ? info->n_imports : 1, sizeof *m->links);
    if (!m->links)
        return m3Err_mallocFailed;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_t *im = &info->imports[i];
        M3Result r = NULL;
        ExtismFunction *f = exn_hostfn_find(p->fns, p->n_fns, im->module, im->name);
        exn_module_t *target;
        if (f) {
            r = m3_LinkRawFunctionEx(m->module, im->module, im->name, f->signature,
                                     exn_hostfn_trampoline, f);
        } else if (strcmp(im->module, "extism:host/env") == 0) {
            const exn_kernel_import_t *k = exn_kernel_find(im->name);
            r = m3_LinkRawFunction(m->module, im->module, im->name, k->signature, k->fn);
        } else if (strcmp(im->module, "wasi_snapshot_preview1") == 0) {
            const exn_wasi_import_t *w = exn_wasi_find(im->name);
            r = m3_LinkRawFunction(m->module, im->module, im->name, w->signature, w->fn);
        } else if ((target = module_named(p, im->module, m)) != NULL) {
            exn_link_t *link = &m->links[m->n_links++];
            link->target = target;
            link->index = exn_module_export(&target->info, im->name, EXN_EXTERN_FUNC)->index;
            char sig[2 * MAX_LINK_VALUES + 4];
            type_signature(&info->types[im->type_index], sig, sizeof sig);
            r = m3_LinkRawFunctionEx(m->module, im->module, im->name, sig, module_trampoline,
                                     link);
        }
        if (r)
            return r;
    }
    return NULL;
}

static exn_status_t instantiate(ExtismPlugin *p, exn_module_t *m, char *errbuf,
                                size_t errbuf_len)
{
    if (m->visit)
        return EXN_OK; /* done, or in progress further up an import cycle */
    m->visit = 1;
    /* modules this one imports from come first: their start functions run before ours */
    for (uint32_t i = 0; i < m->info.n_imports; i++) {
        exn_module_t *dep = module_named(p, m->info.imports[i].module, m);
        if (dep && !exn_hostfn_find(p->fns, p->n_fns, m->info.imports[i].module,
                                    m->info.imports[i].name)) {
            exn_status_t st = instantiate(p, dep, errbuf, errbuf_len);
            if (st)
                return st;
        }
    }

    m->env = m3_NewEnvironment();
    if (m->env)
        m->runtime = m3_NewRuntime(m->env, WASM_STACK_BYTES, p);
    if (!m->runtime) {
        exn_fmt(errbuf, errbuf_len, "out of memory creating the wasm runtime");
        return EXN_ERR_NOMEM;
    }
    uint64_t pages = p->has_max_pages ? p->max_pages : 65536;
    exn_vmem_init(&m->memory, (size_t)(pages * 65536 + sizeof(void *) * 8));
    M3MemoryAllocator allocator = {memory_resize, memory_release, &m->memory};
    m3_SetMemoryAllocator(m->runtime, &allocator);
    m3_SetInterruptFlag(m->runtime, &p->call_state); /* wasm3 patch 0004 */

    IM3Module module = NULL;
    M3Result r = m3_ParseModule(m->env, &module, m->wasm, (uint32_t)m->wasm_len);
    if (r) {
        exn_fmt(errbuf, errbuf_len, "invalid wasm module %s: %s", m->name, r);
        return EXN_ERR_LOAD;
    }
    r = m3_LoadModule(m->runtime, module);
    if (r) {
        exn_fmt(errbuf, errbuf_len, "cannot instantiate module %s: %s", m->name, r);
        m3_FreeModule(module);
        return r == m3Err_mallocFailed ? EXN_ERR_NOMEM : EXN_ERR_LOAD;
    }
    m->module = module;
    r = link_imports(p, m);
    if (r) {
        exn_fmt(errbuf, errbuf_len, "cannot link the imports of module %s: %s", m->name, r);
        return r == m3Err_mallocFailed ? EXN_ERR_NOMEM : EXN_ERR_LINK;
    }
    if (m->info.has_start) {
        exn_instances_enter(p);
        r = m3_RunStart(module);
        if (r) {
            exn_fmt(errbuf, errbuf_len, "the start function of module %s failed: %s", m->name, r);
            return EXN_ERR_LOAD;
        }
    }
    m->visit = 2;
    p->order[p->n_order++] = (size_t)(m - p->mods);
    return EXN_OK;
}

exn_status_t exn_instances_new(ExtismPlugin *p, char *errbuf, size_t errbuf_len)
{
    p->n_order = 0;
    for (size_t i = 0; i < p->n_mods; i++) {
        exn_status_t st = instantiate(p, &p->mods[i], errbuf, errbuf_len);
        if (st) {
            exn_instances_free(p);
            return st;
        }
    }
    return EXN_OK;
}

/* ---- running guest code ------------------------------------------------------------------- */

/* Lowest usable stack address of this thread (1 = the platform cannot tell); asked once per
 * thread because it can be slow (Linux reads /proc for the main thread). */
static EXN_THREAD_LOCAL uintptr_t thread_stack_low;

#define HOST_STACK_RESERVE ((uintptr_t)256 * 1024) /* left for host functions (Python) */

/* The lowest native stack address guest code may reach from here (wasm3 patch 0003): half of
 * what is left, at most all but HOST_STACK_RESERVE. */
static uintptr_t native_stack_limit(void)
{
    volatile char here = 0;
    uintptr_t sp = (uintptr_t)&here;
    if (!thread_stack_low) {
        uintptr_t low = exn_os_stack_low();
        thread_stack_low = low ? low : 1;
    }
    uintptr_t low = thread_stack_low;
    if (low == 1 || low >= sp)
        return sp > HOST_STACK_RESERVE ? sp - HOST_STACK_RESERVE : 1; /* unknown: be modest */
    uintptr_t avail = sp - low;
    uintptr_t keep = avail / 2 < HOST_STACK_RESERVE ? avail / 2 : HOST_STACK_RESERVE;
    return low + keep;
}

void exn_instances_enter(ExtismPlugin *p)
{
    uintptr_t limit = native_stack_limit();
    for (size_t i = 0; i < p->n_mods; i++) {
        if (p->mods[i].runtime)
            m3_SetNativeStackLimit(p->mods[i].runtime, limit);
    }
}

static bool has_type(const exn_module_info_t *info, const exn_export_t *e, uint32_t n_params,
                     uint32_t n_results)
{
    const exn_functype_t *t = exn_module_func_type(info, e->index);
    if (!t || t->n_params != n_params || t->n_results != n_results)
        return false;
    for (uint32_t i = 0; i < n_params; i++) {
        if (t->types[i] != EXN_WASM_I32)
            return false;
    }
    return true;
}

/* One module's initialiser (spec 3.4): Haskell's hs_init (after _initialize), else
 * __wasm_call_ctors, else _initialize.  A present but wrongly typed function disables the step,
 * as in the official runtime. */
static M3Result initialise(exn_module_t *m, const char **out_what)
{
    const exn_module_info_t *info = &m->info;
    const exn_export_t *hs = exn_module_export(info, "hs_init", EXN_EXTERN_FUNC);
    const exn_export_t *init = exn_module_export(info, "_initialize", EXN_EXTERN_FUNC);
    const exn_export_t *ctors = exn_module_export(info, "__wasm_call_ctors", EXN_EXTERN_FUNC);
    static const int32_t zero = 0;
    const void *zeros[2] = {&zero, &zero};
    M3Result r = NULL;
    m->initialized = true; /* exactly once per instance, even if it fails */
    if (hs) {
        if (has_type(info, hs, 2, 0)) {
            if (init && has_type(info, init, 0, 0)) {
                *out_what = "_initialize";
                r = exn_module_call(m, init->index, 0, NULL);
            }
            if (!r) {
                *out_what = "hs_init";
                r = exn_module_call(m, hs->index, 2, zeros);
            }
        }
    } else if (ctors) {
        *out_what = "__wasm_call_ctors";
        if (has_type(info, ctors, 0, 0))
            r = exn_module_call(m, ctors->index, 0, NULL);
    } else if (init) {
        *out_what = "_initialize";
        if (has_type(info, init, 0, 0))
            r = exn_module_call(m, init->index, 0, NULL);
    }
    return r;
}

M3Result exn_instances_initialise(ExtismPlugin *p, const char **out_what)
{
    for (size_t i = 0; i < p->n_order; i++) {
        exn_module_t *m = &p->mods[p->order[i]];
        if (m->initialized)
            continue;
        M3Result r = initialise(m, out_what);
        if (r)
            return r;
    }
    return NULL;
}
