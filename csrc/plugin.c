/* plugin.c: plugin lifecycle - read the manifest, check and link imports, instantiate on wasm3,
 * initialise the guest runtime, call exports and classify how each call ended, free.
 *
 * Spec sections 3 (calls, return codes, initialisation, link errors) and 2.3 (what is reset per
 * call).  Calls on one plugin are serialized by its lock; a call re-entering a plugin that is
 * already running on the same thread fails instead of deadlocking.
 * May call: manifest.h, module_info.h, kernel.h (link table, kernel memory), vmem.h, os.h and
 * the wasm3 internals it needs to call a function by index (m3_env.h, m3_compile.h). */
#include "plugin.h"

#include <stdio.h>

#include "hostfn.h"
#include "kernel.h"
#include "manifest.h"
#include "wasi/wasi.h"
#include "watchdog.h"

#include "m3_compile.h"
#include "m3_env.h"

const char exn_trap_kernel[] = "[kernel]";
const char exn_trap_host[] = "[host function failed]";
const char exn_trap_exit[] = "[exit]";

#define WASM_STACK_BYTES (1u << 20) /* wasm3 value stack per instance (untouched pages are free) */
#define KERNEL_LIMIT_BYTES ((uint64_t)1 << 32)

/* Plugins running on this thread, innermost first: detects a host function calling back into
 * the plugin that called it. */
typedef struct frame {
    ExtismPlugin *plugin;
    struct frame *outer;
} frame_t;
static EXN_THREAD_LOCAL frame_t *running;

/* ---- the native stack guard (wasm3 patch 0003) ------------------------------------------------ */

/* Lowest usable stack address of this thread (1 = the platform cannot tell); asked once per
 * thread because it can be slow (Linux reads /proc for the main thread). */
static EXN_THREAD_LOCAL uintptr_t thread_stack_low;

#define HOST_STACK_RESERVE ((uintptr_t)256 * 1024) /* left for host functions (Python) */

/* The lowest native stack address guest code may reach from here: half of what is left, at
 * most all but HOST_STACK_RESERVE. */
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

/* ---- messages ------------------------------------------------------------------------------ */

exn_status_t exn_plugin_set_errmsg(ExtismPlugin *p, const char *text, size_t len)
{
    if (len + 1 > p->errmsg_cap) {
        char *m = exn_realloc(p->errmsg, len + 1);
        if (!m) {
            /* keep a truncated message rather than none */
            len = p->errmsg_cap ? p->errmsg_cap - 1 : 0;
            if (!p->errmsg)
                return EXN_ERR_NOMEM;
        } else {
            p->errmsg = m;
            p->errmsg_cap = len + 1;
        }
    }
    memcpy(p->errmsg, text, len);
    p->errmsg[len] = '\0';
    return EXN_OK;
}

static void set_errmsgf(ExtismPlugin *p, const char *fmt, ...) EXN_PRINTF(2, 3);

static void set_errmsgf(ExtismPlugin *p, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(buf, sizeof buf, fmt, ap);
    va_end(ap);
    exn_plugin_set_errmsg(p, buf, strlen(buf));
}

const void *exn_plugin_kernel_trap(ExtismPlugin *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(p->trap_msg, sizeof p->trap_msg, fmt, ap);
    va_end(ap);
    return exn_trap_kernel;
}

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

/* ---- imports ---------------------------------------------------------------------------------- */

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

/* Check that every import can be provided; on failure errbuf lists every problem at once.
 * Runs before wasm3 sees the module. */
static exn_status_t check_imports(const exn_module_info_t *info, ExtismFunction *const *fns,
                                  size_t n_fns, bool with_wasi, char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    bool wasi_missing = false;
    exn_fmt(errbuf, errbuf_len, "unresolved imports:");
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_t *im = &info->imports[i];
        const char *sep = st == EXN_OK ? " " : "; ";
        if (im->kind != EXN_EXTERN_FUNC) {
            static const char *const kinds[] = {"function", "table", "memory", "global"};
            append(errbuf, errbuf_len, "%s%s::%s (a %s import: only functions can be imported)",
                   sep, im->module, im->name, kinds[im->kind]);
            st = EXN_ERR_LINK;
            continue;
        }
        const exn_functype_t *type = &info->types[im->type_index];
        char want[2 * EXN_HOSTFN_MAX_VALUES + 8];
        type_signature(type, want, sizeof want);
        /* host functions first: they may replace kernel and WASI functions (official rule) */
        const ExtismFunction *f = exn_hostfn_find(fns, n_fns, im->module, im->name);
        if (f) {
            if (!exn_hostfn_matches(f, type)) {
                char found[256], given[256];
                exn_functype_format(type, found, sizeof found);
                exn_hostfn_format(f, given, sizeof given);
                append(errbuf, errbuf_len,
                       "%s%s::%s (imported with type %s, the host function's is %s)", sep,
                       im->module, im->name, found, given);
                st = EXN_ERR_LINK;
            }
            continue;
        }
        if (strcmp(im->module, "extism:host/env") == 0) {
            const exn_kernel_import_t *k = exn_kernel_find(im->name);
            if (!k) {
                append(errbuf, errbuf_len,
                       "%s%s::%s (the Extism kernel has no such function: the plugin may "
                       "need a newer runtime)",
                       sep, im->module, im->name);
                st = EXN_ERR_LINK;
            } else if (strcmp(k->signature, want) != 0) {
                char found[128], kernel[128];
                exn_functype_format(type, found, sizeof found);
                signature_text(k->signature, kernel, sizeof kernel);
                append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, the kernel's is %s)",
                       sep, im->module, im->name, found, kernel);
                st = EXN_ERR_LINK;
            }
            continue;
        }
        if (strcmp(im->module, "wasi_snapshot_preview1") == 0) {
            const exn_wasi_import_t *w = with_wasi ? exn_wasi_find(im->name) : NULL;
            if (w && strcmp(w->signature, want) == 0)
                continue;
            if (w) {
                char found[128], wasi[128];
                exn_functype_format(type, found, sizeof found);
                signature_text(w->signature, wasi, sizeof wasi);
                append(errbuf, errbuf_len, "%s%s::%s (imported with type %s, WASI's is %s)", sep,
                       im->module, im->name, found, wasi);
                st = EXN_ERR_LINK;
                continue;
            }
            wasi_missing = !with_wasi || wasi_missing;
        }
        append(errbuf, errbuf_len, "%s%s::%s", sep, im->module, im->name);
        st = EXN_ERR_LINK;
    }
    if (st != EXN_OK && wasi_missing)
        append(errbuf, errbuf_len, " (the module uses WASI, which is disabled: enable it with "
                                   "wasi=True in Python or with_wasi in C)");
    else if (st != EXN_OK && with_wasi) {
        for (uint32_t i = 0; i < info->n_imports; i++) {
            const exn_import_t *im = &info->imports[i];
            if (strcmp(im->module, "wasi_snapshot_preview1") == 0 && !exn_wasi_find(im->name)) {
                append(errbuf, errbuf_len, " (%s is not a WASI preview 1 function this runtime "
                                           "provides)", im->name);
                break;
            }
        }
    }
    if (st == EXN_OK && errbuf && errbuf_len)
        errbuf[0] = '\0';
    return st;
}

/* Link the imports checked by check_imports into a loaded wasm3 module. */
static M3Result link_imports(const ExtismPlugin *p, IM3Module module)
{
    const exn_module_info_t *info = &p->info;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_t *im = &info->imports[i];
        if (im->kind != EXN_EXTERN_FUNC)
            continue;
        M3Result r = NULL;
        ExtismFunction *f = exn_hostfn_find(p->fns, p->n_fns, im->module, im->name);
        if (f) {
            r = m3_LinkRawFunctionEx(module, im->module, im->name, f->signature,
                                     exn_hostfn_trampoline, f);
        } else if (strcmp(im->module, "extism:host/env") == 0) {
            const exn_kernel_import_t *k = exn_kernel_find(im->name);
            r = m3_LinkRawFunction(module, im->module, im->name, k->signature, k->fn);
        } else if (strcmp(im->module, "wasi_snapshot_preview1") == 0) {
            const exn_wasi_import_t *w = exn_wasi_find(im->name);
            r = m3_LinkRawFunction(module, im->module, im->name, w->signature, w->fn);
        }
        if (r)
            return r;
    }
    return NULL;
}

/* ---- instances -------------------------------------------------------------------------------- */

/* wasm3 patch 0001: linear memory lives in a vmem region, committed as the guest grows it. */
static void *memory_resize(void *userdata, void *base, size_t old_bytes, size_t new_bytes,
                           size_t max_bytes)
{
    (void)base, (void)old_bytes;
    exn_vmem_t *vm = userdata;
    if (!vm->base && !vm->limit)
        exn_vmem_init(vm, max_bytes);
    return exn_vmem_resize(vm, new_bytes) == EXN_OK ? vm->base : NULL;
}

static void memory_release(void *userdata, void *base)
{
    (void)base;
    exn_vmem_free(userdata);
}

static void instance_free(exn_instance_t *in)
{
    if (in->runtime)
        m3_FreeRuntime(in->runtime); /* frees the loaded module and its memory */
    if (in->env)
        m3_FreeEnvironment(in->env);
    exn_vmem_free(&in->memory);
    memset(in, 0, sizeof *in);
}

static exn_status_t instance_new(ExtismPlugin *p, char *errbuf, size_t errbuf_len)
{
    exn_instance_t *in = &p->inst;
    memset(in, 0, sizeof *in);
    in->env = m3_NewEnvironment();
    if (in->env)
        in->runtime = m3_NewRuntime(in->env, WASM_STACK_BYTES, p);
    if (!in->runtime) {
        instance_free(in);
        exn_fmt(errbuf, errbuf_len, "out of memory creating the wasm runtime");
        return EXN_ERR_NOMEM;
    }
    M3MemoryAllocator allocator = {memory_resize, memory_release, &in->memory};
    m3_SetMemoryAllocator(in->runtime, &allocator);
    m3_SetInterruptFlag(in->runtime, &p->call_state); /* wasm3 patch 0004 */

    IM3Module module = NULL;
    M3Result r = m3_ParseModule(in->env, &module, p->wasm, (uint32_t)p->wasm_len);
    if (r) {
        exn_fmt(errbuf, errbuf_len, "invalid wasm module: %s", r);
        instance_free(in);
        return EXN_ERR_LOAD;
    }
    r = m3_LoadModule(in->runtime, module);
    if (r) {
        exn_fmt(errbuf, errbuf_len, "cannot instantiate the wasm module: %s", r);
        m3_FreeModule(module);
        instance_free(in);
        return r == m3Err_mallocFailed ? EXN_ERR_NOMEM : EXN_ERR_LOAD;
    }
    in->module = module;
    r = link_imports(p, module);
    if (r) {
        exn_fmt(errbuf, errbuf_len, "cannot link imports: %s", r);
        instance_free(in);
        return EXN_ERR_LINK;
    }
    if (p->info.has_start) {
        m3_SetNativeStackLimit(in->runtime, native_stack_limit());
        r = m3_RunStart(module);
        if (r) {
            exn_fmt(errbuf, errbuf_len, "the module's start function failed: %s", r);
            instance_free(in);
            return EXN_ERR_LOAD;
        }
    }
    return EXN_OK;
}

/* ---- creation --------------------------------------------------------------------------------- */

exn_status_t exn_plugin_new(const uint8_t *data, size_t len, const ExtismFunction **functions,
                            size_t n_functions, bool with_wasi, ExtismPlugin **out_plugin,
                            char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    exn_manifest_t manifest;
    ExtismPlugin *p = NULL;
    bool have_manifest = false;

    if (errbuf && errbuf_len)
        errbuf[0] = '\0';
    if (!out_plugin) {
        exn_fmt(errbuf, errbuf_len, "out_plugin is NULL");
        return EXN_ERR_MISUSE;
    }
    *out_plugin = NULL;
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
    EXN_TRY(exn_manifest_load(&manifest, errbuf, errbuf_len));
    if (manifest.n_wasm != 1) {
        exn_fmt(errbuf, errbuf_len,
                "manifests with several wasm modules are not supported by this version");
        st = EXN_ERR_UNSUPPORTED;
        goto cleanup;
    }

    p = exn_calloc(1, sizeof *p);
    if (!p || !(p->lock = exn_os_mutex_new())) {
        st = EXN_ERR_NOMEM;
        exn_fmt(errbuf, errbuf_len, "out of memory creating the plugin");
        goto cleanup;
    }
    /* take the module bytes from the manifest: wasm3 keeps pointers into them */
    p->wasm = manifest.wasm[0].bytes;
    p->wasm_len = manifest.wasm[0].len;
    manifest.wasm[0].bytes = NULL;
    if (p->wasm_len > UINT32_MAX) {
        exn_fmt(errbuf, errbuf_len, "the wasm module is larger than 4 GiB");
        st = EXN_ERR_LOAD;
        goto cleanup;
    }
    p->with_wasi = with_wasi;
    if (n_functions) {
        p->fns = exn_malloc(n_functions * sizeof *p->fns);
        if (!p->fns) {
            st = EXN_ERR_NOMEM;
            exn_fmt(errbuf, errbuf_len, "out of memory creating the plugin");
            goto cleanup;
        }
        for (size_t i = 0; i < n_functions; i++) {
            p->fns[i] = (ExtismFunction *)functions[i];
            exn_hostfn_retain(p->fns[i]);
        }
        p->n_fns = n_functions;
    }
    p->max_var_bytes = manifest.max_var_bytes;
    p->cancel.state = &p->call_state;
    if (manifest.has_timeout)
        p->timeout_ns = manifest.timeout_ms * 1000000u;
    p->config = manifest.config;
    exn_strmap_init(&manifest.config);
    exn_strmap_init(&p->vars);
    p->log_level = EXN_LOG_OFF;
    p->call_log_level = EXN_LOG_ASK;
    if (exn_os_random(p->id, sizeof p->id) != 0) {
        exn_fmt(errbuf, errbuf_len, "the system random number generator failed");
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    p->id[6] = (uint8_t)((p->id[6] & 0x0F) | 0x40); /* UUID version 4 */
    p->id[8] = (uint8_t)((p->id[8] & 0x3F) | 0x80); /* RFC 4122 variant */

    EXN_TRY(exn_module_scan(p->wasm, p->wasm_len, &p->info, errbuf, errbuf_len));
    EXN_TRY(check_imports(&p->info, p->fns, p->n_fns, with_wasi, errbuf, errbuf_len));
    if (with_wasi)
        EXN_TRY(exn_wasi_new(manifest.allowed_paths, manifest.n_allowed_paths, &p->wasi, errbuf,
                             errbuf_len));
    if (exn_kmem_init(&p->kmem, KERNEL_LIMIT_BYTES) != EXN_OK) {
        exn_fmt(errbuf, errbuf_len, "out of memory creating the kernel memory");
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    EXN_TRY(instance_new(p, errbuf, errbuf_len));
    if (exn_plugin_set_errmsg(p, "", 0) != EXN_OK) {
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    *out_plugin = p;
    p = NULL;

cleanup:
    if (have_manifest)
        exn_manifest_free(&manifest);
    extism_plugin_free(p);
    return st;
}

/* Free everything but the object and its lock (exn_plugin_close, extism_plugin_free). */
static void release(ExtismPlugin *p)
{
    instance_free(&p->inst);
    exn_module_info_free(&p->info);
    exn_kmem_free(&p->kmem);
    exn_strmap_clear(&p->vars);
    exn_strmap_clear(&p->config);
    exn_free(p->wasm);
    p->wasm = NULL;
    exn_wasi_free(p->wasi);
    p->wasi = NULL;
    for (size_t i = 0; i < p->n_fns; i++)
        exn_hostfn_release(p->fns[i]);
    exn_free(p->fns);
    p->fns = NULL;
    p->n_fns = 0;
    p->output = NULL;
    p->output_len = 0;
    p->closed = true;
}

bool exn_plugin_running_here(const ExtismPlugin *p)
{
    for (frame_t *f = running; f; f = f->outer) {
        if (f->plugin == p)
            return true;
    }
    return false;
}

exn_status_t exn_plugin_close(ExtismPlugin *p)
{
    if (!p)
        return EXN_OK;
    if (exn_plugin_running_here(p)) {
        set_errmsgf(p, "a plugin cannot be closed from inside one of its own calls");
        return EXN_ERR_MISUSE;
    }
    exn_os_mutex_lock(p->lock);
    release(p);
    exn_os_mutex_unlock(p->lock);
    return EXN_OK;
}

void extism_plugin_free(ExtismPlugin *p)
{
    if (!p)
        return;
    release(p);
    exn_free(p->errmsg);
    exn_os_mutex_free(p->lock);
    exn_free(p);
}

/* ---- calls ------------------------------------------------------------------------------------ */

/* Call function `index` of the instance with i32 arguments; NULL or the trap. */
static M3Result call_index(ExtismPlugin *p, uint32_t index, uint32_t argc, const int32_t *args)
{
    IM3Function f = &p->inst.module->functions[index];
    if (!f->compiled) {
        M3Result r = CompileFunction(f);
        if (r)
            return r;
    }
    const void *ptrs[2] = {argc > 0 ? &args[0] : NULL, argc > 1 ? &args[1] : NULL};
    return m3_Call(f, argc, ptrs);
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

/* Guest-runtime initialisation, once per instance (spec 3.4): Haskell's hs_init (after
 * _initialize), else __wasm_call_ctors, else _initialize.  A present but wrongly typed function
 * disables the step, as in the official runtime. */
static M3Result initialise(ExtismPlugin *p, const char **out_what)
{
    const exn_module_info_t *info = &p->info;
    const exn_export_t *hs = exn_module_export(info, "hs_init", EXN_EXTERN_FUNC);
    const exn_export_t *init = exn_module_export(info, "_initialize", EXN_EXTERN_FUNC);
    const exn_export_t *ctors = exn_module_export(info, "__wasm_call_ctors", EXN_EXTERN_FUNC);
    static const int32_t zeros[2] = {0, 0};
    M3Result r = NULL;
    p->inst.initialized = true;
    if (hs) {
        if (has_type(info, hs, 2, 0)) {
            if (init && has_type(info, init, 0, 0)) {
                *out_what = "_initialize";
                r = call_index(p, init->index, 0, NULL);
            }
            if (!r) {
                *out_what = "hs_init";
                r = call_index(p, hs->index, 2, zeros);
            }
        }
    } else if (ctors) {
        *out_what = "__wasm_call_ctors";
        if (has_type(info, ctors, 0, 0))
            r = call_index(p, ctors->index, 0, NULL);
    } else if (init) {
        *out_what = "_initialize";
        if (has_type(info, init, 0, 0))
            r = call_index(p, init->index, 0, NULL);
    }
    return r;
}

/* Turn how the guest stopped into a status, a return code and a message (spec 3.2). */
static exn_status_t classify(ExtismPlugin *p, M3Result r, bool returns_i32, int32_t *rc)
{
    exn_kmem_t *k = &p->kmem;
    bool exited = r == exn_trap_exit;
    if (!r) {
        *rc = 0;
        if (returns_i32) {
            const void *ptr[1] = {rc};
            IM3Function last = p->inst.runtime->lastCalled;
            if (last)
                m3_GetResults(last, 1, ptr);
        }
    } else {
        *rc = exited ? p->exit_code : -1;
    }

    if (k->error != 0) {
        /* the plugin's own error text wins over everything else (official rule) */
        uint64_t len = 0;
        const uint8_t *text = exn_kmem_block(k, k->error, &len);
        exn_plugin_set_errmsg(p, text ? (const char *)text : "", text ? (size_t)len : 0);
        p->has_error = true;
        if (r && !(exited && p->exit_code != 0))
            *rc = -1;
        return EXN_ERR_GUEST;
    }
    if (exited) {
        if (p->exit_code == 0)
            return EXN_OK;
        set_errmsgf(p, "exited with code %d", p->exit_code);
        p->has_error = true;
        return EXN_ERR_EXIT;
    }
    if (r) {
        exn_status_t st = EXN_ERR_TRAP;
        if (r == exn_trap_kernel) {
            exn_plugin_set_errmsg(p, p->trap_msg, strlen(p->trap_msg));
        } else if (r == exn_trap_host) {
            st = EXN_ERR_HOST;
            exn_plugin_set_errmsg(p, p->trap_msg, strlen(p->trap_msg));
        } else if (r == m3Err_trapInterrupted) {
            bool timeout = exn_atomic_load_u32(&p->call_state) & EXN_CALL_TIMEOUT;
            st = timeout ? EXN_ERR_TIMEOUT : EXN_ERR_CANCELLED;
            *rc = 134;
            set_errmsgf(p, timeout ? "timeout" : "cancelled");
        } else {
            *rc = 134;
            const char *text = strncmp(r, "[trap] ", 7) == 0 ? r + 7 : r;
            exn_plugin_set_errmsg(p, text, strlen(text));
        }
        p->has_error = true;
        return st;
    }
    return *rc == 0 ? EXN_OK : EXN_ERR_GUEST;
}

static exn_status_t call_locked(ExtismPlugin *p, const char *name, const uint8_t *input,
                                size_t input_len, void *host_context, int64_t timeout_ns,
                                exn_call_result_t *out)
{
    char errbuf[512];
    exn_status_t st;

    if (p->restart) {
        /* the last call ran `_start`: begin again from a fresh instance (official behaviour) */
        p->restart = false;
        instance_free(&p->inst);
        exn_strmap_clear(&p->vars);
        exn_kmem_reset(&p->kmem);
        if (p->wasi)
            exn_wasi_reset(p->wasi);
        st = instance_new(p, errbuf, sizeof errbuf);
        if (st) {
            p->restart = true;
            set_errmsgf(p, "re-creating the instance after _start: %s", errbuf);
            p->has_error = true;
            return st;
        }
    }

    const exn_export_t *e = exn_module_export(&p->info, name, EXN_EXTERN_FUNC);
    if (!e) {
        set_errmsgf(p, "function not found: %s", name);
        p->has_error = true;
        return EXN_ERR_NOT_FOUND;
    }
    const exn_functype_t *t = exn_module_func_type(&p->info, e->index);
    if (t->n_params != 0 || t->n_results > 1 ||
        (t->n_results == 1 && t->types[0] != EXN_WASM_I32)) {
        char sig[128];
        exn_functype_format(t, sig, sizeof sig);
        set_errmsgf(p, "function %s has type %s; plugin functions take no arguments and "
                       "return nothing or an i32", name, sig);
        p->has_error = true;
        return EXN_ERR_SIGNATURE;
    }

    exn_kmem_reset(&p->kmem);
    p->call_log_level = EXN_LOG_ASK;
    p->host_context = host_context;
    m3_SetNativeStackLimit(p->inst.runtime, native_stack_limit());
    if (!p->inst.initialized) {
        const char *what = "";
        M3Result r = initialise(p, &what);
        if (r) {
            int32_t ignored;
            st = classify(p, r, false, &ignored);
            if (st == EXN_OK) {
                /* proc_exit(0) during initialisation: the instance can still serve calls */
            } else {
                char reason[512];
                exn_fmt(reason, sizeof reason, "initialising the plugin (%s): %s", what,
                        p->errmsg);
                exn_plugin_set_errmsg(p, reason, strlen(reason));
                p->restart = true; /* try initialisation again on a fresh instance */
                p->host_context = NULL;
                return st;
            }
        }
        exn_kmem_reset(&p->kmem);
    }

    if (input_len) {
        bool failed;
        uint64_t h = exn_kmem_alloc_copy(&p->kmem, input, input_len, &failed);
        if (failed) {
            set_errmsgf(p, "failed to allocate extism memory for %zu bytes of input", input_len);
            p->has_error = true;
            p->host_context = NULL;
            return EXN_ERR_NOMEM;
        }
        p->kmem.input = h;
        p->kmem.input_len = input_len;
    }

    /* the deadline counts from here: initialisation and input copying are not timed */
    uint64_t timeout = timeout_ns == EXN_TIMEOUT_DEFAULT ? p->timeout_ns
                       : timeout_ns < 0                  ? 0
                                                         : (uint64_t)timeout_ns;
    bool timed = timeout_ns == EXN_TIMEOUT_DEFAULT ? p->timeout_ns != 0 : timeout_ns >= 0;
    exn_deadline_t deadline = {0};
    if (timed) {
        uint64_t now = exn_os_monotonic_ns();
        p->deadline_ns = timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout;
        if (exn_watchdog_arm(&deadline, &p->call_state, exn_atomic_load_u32(&p->call_state),
                             p->deadline_ns) != EXN_OK) {
            set_errmsgf(p, "cannot start the timeout thread");
            p->has_error = true;
            p->host_context = NULL;
            return EXN_ERR_NOMEM;
        }
    }
    M3Result r = call_index(p, e->index, 0, NULL);
    if (timed)
        exn_watchdog_disarm(&deadline);
    p->deadline_ns = 0;
    p->host_context = NULL;
    if (strcmp(name, "_start") == 0)
        p->restart = true;

    st = classify(p, r, t->n_results == 1, &out->rc);
    if (p->kmem.output_len) {
        p->output = exn_kmem_base(&p->kmem) + p->kmem.output;
        p->output_len = p->kmem.output_len;
    }
    return st;
}

exn_status_t exn_plugin_call(ExtismPlugin *p, const char *name, const uint8_t *input,
                             size_t input_len, void *host_context, int64_t timeout_ns,
                             exn_call_result_t *out)
{
    exn_call_result_t ignored;
    if (!out)
        out = &ignored;
    out->output = NULL;
    out->output_len = 0;
    out->rc = -1;
    if (!p)
        return EXN_ERR_MISUSE;
    if (exn_plugin_running_here(p)) {
        set_errmsgf(p, "re-entrant call: a host function called back into the plugin that is "
                       "calling it");
        return EXN_ERR_MISUSE;
    }
    if (!name || (!input && input_len)) {
        set_errmsgf(p, "no function name or no input data given");
        return EXN_ERR_MISUSE;
    }

    exn_os_mutex_lock(p->lock);
    frame_t frame = {p, running};
    running = &frame;

    p->exit_code = 0;
    p->trap_msg[0] = '\0';
    p->has_error = false;
    p->output = NULL;
    p->output_len = 0;
    exn_plugin_set_errmsg(p, "", 0);

    /* a new generation, running: a cancel from now on stops this call and no other */
    uint32_t gen = (exn_atomic_load_u32(&p->call_state) >> EXN_CALL_GEN_SHIFT) + 1;
    exn_atomic_store_u32(&p->call_state, (gen << EXN_CALL_GEN_SHIFT) | EXN_CALL_RUNNING);

    exn_status_t st = EXN_ERR_MISUSE;
    if (p->closed)
        set_errmsgf(p, "the plugin is closed");
    else
        st = call_locked(p, name, input, input_len, host_context, timeout_ns, out);
    exn_atomic_store_u32(&p->call_state, gen << EXN_CALL_GEN_SHIFT);
    out->output = p->output;
    out->output_len = p->output_len;

    running = frame.outer;
    exn_os_mutex_unlock(p->lock);
    return st;
}

/* ---- accessors -------------------------------------------------------------------------------- */

const char *exn_plugin_errmsg(ExtismPlugin *p)
{
    return p && p->errmsg ? p->errmsg : "";
}

int32_t exn_plugin_exit_code(ExtismPlugin *p)
{
    return p ? p->exit_code : 0;
}

int exn_plugin_function_kind(ExtismPlugin *p, const char *name)
{
    if (!p || !name || p->closed)
        return 0;
    const exn_export_t *e = exn_module_export(&p->info, name, EXN_EXTERN_FUNC);
    if (!e)
        return 0;
    const exn_functype_t *t = exn_module_func_type(&p->info, e->index);
    bool ok = t->n_params == 0 &&
              (t->n_results == 0 || (t->n_results == 1 && t->types[0] == EXN_WASM_I32));
    return ok ? 1 : -1;
}

exn_status_t exn_plugin_config_set(ExtismPlugin *p, const char *key, size_t key_len,
                                   const char *value, size_t value_len)
{
    if (!p || (!key && key_len))
        return EXN_ERR_MISUSE;
    bool inside = exn_plugin_running_here(p); /* from a host function: lock already held */
    if (!inside)
        exn_os_mutex_lock(p->lock);
    exn_status_t st = EXN_OK;
    if (p->closed)
        st = EXN_ERR_MISUSE;
    else if (value)
        st = exn_strmap_set(&p->config, key ? key : "", key_len, value, value_len);
    else
        exn_strmap_delete(&p->config, key ? key : "", key_len);
    if (!inside)
        exn_os_mutex_unlock(p->lock);
    return st;
}

/* ---- WASI configuration ---------------------------------------------------------------------- */

/* Lock p for a configuration change (unless a host function of p is running here, which holds
 * the lock already); false if p has no WASI. */
static bool lock_for_wasi(ExtismPlugin *p, bool *inside)
{
    if (!p)
        return false;
    *inside = exn_plugin_running_here(p);
    if (!*inside)
        exn_os_mutex_lock(p->lock);
    if (p->wasi)
        return true;
    if (!*inside)
        exn_os_mutex_unlock(p->lock);
    return false;
}

static exn_status_t unlock_for_wasi(ExtismPlugin *p, bool inside, exn_status_t st)
{
    if (!inside)
        exn_os_mutex_unlock(p->lock);
    return st;
}

exn_status_t exn_plugin_wasi_args(ExtismPlugin *p, const char *const *args, size_t n)
{
    bool inside;
    if (!lock_for_wasi(p, &inside))
        return EXN_ERR_MISUSE;
    return unlock_for_wasi(p, inside, exn_wasi_set_args(p->wasi, args, n));
}

exn_status_t exn_plugin_wasi_env(ExtismPlugin *p, const char *const *env, size_t n)
{
    bool inside;
    if (!lock_for_wasi(p, &inside))
        return EXN_ERR_MISUSE;
    return unlock_for_wasi(p, inside, exn_wasi_set_env(p->wasi, env, n));
}

exn_status_t exn_plugin_wasi_stdin(ExtismPlugin *p, const uint8_t *data, size_t len)
{
    bool inside;
    if (!lock_for_wasi(p, &inside))
        return EXN_ERR_MISUSE;
    return unlock_for_wasi(p, inside, exn_wasi_set_stdin(p->wasi, data, len));
}

exn_status_t exn_plugin_wasi_output(ExtismPlugin *p, int fd, int mode, exn_output_fn fn,
                                    void *userdata)
{
    bool inside;
    if (!lock_for_wasi(p, &inside))
        return EXN_ERR_MISUSE;
    return unlock_for_wasi(p, inside, exn_wasi_set_output(p->wasi, fd, mode, fn, userdata));
}

const char *exn_status_name(exn_status_t status)
{
    static const char *const names[] = {
        "EXN_OK",          "EXN_ERR_MISUSE",    "EXN_ERR_NOMEM",  "EXN_ERR_MANIFEST",
        "EXN_ERR_LOAD",    "EXN_ERR_LINK",      "EXN_ERR_NOT_FOUND", "EXN_ERR_SIGNATURE",
        "EXN_ERR_GUEST",   "EXN_ERR_TRAP",      "EXN_ERR_EXIT",   "EXN_ERR_HOST",
        "EXN_ERR_CANCELLED", "EXN_ERR_TIMEOUT", "EXN_ERR_UNSUPPORTED"};
    return (unsigned)status < sizeof names / sizeof names[0] ? names[status] : "EXN_ERR_?";
}
