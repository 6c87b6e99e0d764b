/* plugin.c: plugin lifecycle - read the manifest, name and check its modules, instantiate them
 * (instance.c), run calls and classify how each call ended, close and free.
 *
 * Spec sections 3 (calls, return codes, initialisation), 2.3 (what is reset per call), 6.4
 * (module names) and 7 (timeouts, cancellation).  Calls on one plugin are serialized by its
 * lock; a call re-entering a plugin that is already running on the same thread fails instead
 * of deadlocking.
 * May call: compiled.h, instance.h, kernel.h (kernel memory), wasi/wasi.h, watchdog.h, os.h. */
#include "plugin.h"

#include <stdio.h>

#include "hostfn.h"
#include "kernel/kernel.h"
#include "wasi/wasi.h"
#include "support/watchdog.h"

#define KERNEL_PAGES_BEYOND_START 65520 /* with no max_pages: up to 4 GiB of kernel memory */

/* Plugins running on this thread, innermost first: detects a host function calling back into
 * the plugin that called it. */
typedef struct frame {
    ExtismPlugin *plugin;
    struct frame *outer;
} frame_t;
static EXN_THREAD_LOCAL frame_t *running;

bool exn_plugin_running_here(const ExtismPlugin *p)
{
    for (frame_t *f = running; f; f = f->outer) {
        if (f->plugin == p)
            return true;
    }
    return false;
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

exn_trap_t exn_plugin_kernel_trap(ExtismPlugin *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(p->trap_msg, sizeof p->trap_msg, fmt, ap);
    va_end(ap);
    return exn_trap_kernel;
}

/* ---- creation --------------------------------------------------------------------------------- */

exn_status_t exn_plugin_new_from_compiled(ExtismCompiledPlugin *c, ExtismPlugin **out_plugin,
                                          char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    ExtismPlugin *p = NULL;
    if (errbuf && errbuf_len)
        errbuf[0] = '\0';
    if (!out_plugin || !c) {
        exn_fmt(errbuf, errbuf_len, "no compiled plugin or out_plugin given");
        return EXN_ERR_MISUSE;
    }
    *out_plugin = NULL;

    p = exn_calloc(1, sizeof *p);
    if (!p || !(p->lock = exn_os_mutex_new())) {
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    exn_compiled_retain(c);
    p->compiled = c;
    p->cancel.state = &p->call_state;
    p->log_level = EXN_LOG_OFF;
    p->call_log_level = EXN_LOG_ASK;
    exn_strmap_init(&p->vars);
    exn_strmap_init(&p->config);
    exn_strmap_init(&p->http_headers);
    for (size_t i = 0; i < c->config.cap; i++) {
        const exn_strmap_entry_t *e = &c->config.slots[i];
        if (e->key)
            EXN_TRY(exn_strmap_set(&p->config, e->key, e->key_len, e->value, e->value_len));
    }
    if (exn_os_random(p->id, sizeof p->id) != 0) {
        exn_fmt(errbuf, errbuf_len, "the system random number generator failed");
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    p->id[6] = (uint8_t)((p->id[6] & 0x0F) | 0x40); /* UUID version 4 */
    p->id[8] = (uint8_t)((p->id[8] & 0x3F) | 0x80); /* RFC 4122 variant */

    p->mods = exn_calloc(c->n_defs, sizeof *p->mods);
    p->order = exn_calloc(c->n_defs, sizeof *p->order);
    if (!p->mods || !p->order) {
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < c->n_defs; i++)
        p->mods[i].def = &c->defs[i];
    p->n_mods = c->n_defs;
    p->main = &p->mods[c->main];

    if (c->with_wasi)
        EXN_TRY(exn_wasi_new(c->allowed_paths, c->n_allowed_paths, &p->wasi, errbuf, errbuf_len));
    /* kernel memory: 16 pages at start, growing by at most max_pages pages (spec 7.4) */
    uint64_t kernel_pages =
        EXN_KMEM_INITIAL_PAGES + (c->has_max_pages ? c->max_pages : KERNEL_PAGES_BEYOND_START);
    if (exn_kmem_init(&p->kmem, kernel_pages * EXN_KMEM_PAGE) != EXN_OK) {
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    EXN_TRY(exn_instances_new(p, errbuf, errbuf_len));
    EXN_TRY(exn_plugin_set_errmsg(p, "", 0));
    *out_plugin = p;
    p = NULL;

cleanup:
    if (st == EXN_ERR_NOMEM && errbuf && errbuf_len && !errbuf[0])
        exn_fmt(errbuf, errbuf_len, "out of memory creating the plugin");
    extism_plugin_free(p);
    return st;
}

exn_status_t exn_plugin_new(const uint8_t *data, size_t len, const ExtismFunction **functions,
                            size_t n_functions, bool with_wasi, ExtismPlugin **out_plugin,
                            char *errbuf, size_t errbuf_len)
{
    ExtismCompiledPlugin *c = NULL;
    if (!out_plugin) {
        exn_fmt(errbuf, errbuf_len, "out_plugin is NULL");
        return EXN_ERR_MISUSE;
    }
    *out_plugin = NULL;
    exn_status_t st =
        exn_compiled_new(data, len, functions, n_functions, with_wasi, &c, errbuf, errbuf_len);
    if (st == EXN_OK)
        st = exn_plugin_new_from_compiled(c, out_plugin, errbuf, errbuf_len);
    exn_compiled_release(c); /* the plugin holds its own reference */
    return st;
}

/* Free everything but the object and its lock (exn_plugin_close, extism_plugin_free). */
static void release(ExtismPlugin *p)
{
    exn_instances_free(p);
    exn_free(p->mods);
    exn_free(p->order);
    p->mods = p->main = NULL;
    p->order = NULL;
    p->n_mods = 0;
    exn_kmem_free(&p->kmem);
    exn_strmap_clear(&p->vars);
    exn_strmap_clear(&p->config);
    exn_strmap_clear(&p->http_headers);
    exn_wasi_free(p->wasi);
    p->wasi = NULL;
    exn_compiled_release(p->compiled);
    p->compiled = NULL;
    p->output = NULL;
    p->output_len = 0;
    p->closed = true;
}

int exn_plugin_is_running_here(const ExtismPlugin *p)
{
    return p && exn_plugin_running_here(p);
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

/* Turn how the guest stopped into a status, a return code and a message (spec 3.2). */
static exn_status_t classify(ExtismPlugin *p, exn_trap_t r, bool returns_i32,
                             const uint64_t *result, int32_t *rc)
{
    exn_kmem_t *k = &p->kmem;
    bool exited = r == exn_trap_exit;
    if (!r) {
        *rc = returns_i32 ? (int32_t)exn_slot_u32(result) : 0;
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
        } else if (r == exn_trap_http) {
            st = EXN_ERR_HTTP;
            exn_plugin_set_errmsg(p, p->trap_msg, strlen(p->trap_msg));
        } else if (r == exn_trap_interrupted) {
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

/* Whether a call stopped with an error of the engine rather than a trap of the guest: the
 * engine failed, e.g. to compile a function at its first call (lazily: a limit of the
 * interpreter, or a module our validator accepts and it cannot compile).  A compilation that
 * fails part-way has left the engine's instance in a state nobody has tested: the next call
 * starts from fresh instances. */
static bool is_engine_error(exn_trap_t r)
{
    return r && !exn_trap_is_import(r) && !exn_trap_is_wasm(r);
}

/* The last call ran `_start` (or ended with an engine error): begin again from fresh instances,
 * vars cleared, WASI state reset (official behaviour after `_start`). */
static exn_status_t restart(ExtismPlugin *p)
{
    char errbuf[512];
    p->restart = false;
    p->last_export = NULL; /* (the table itself is unchanged, but be plain about it) */
    exn_instances_free(p);
    exn_strmap_clear(&p->vars);
    exn_kmem_reset(&p->kmem);
    if (p->wasi)
        exn_wasi_reset(p->wasi);
    exn_status_t st = exn_instances_new(p, errbuf, sizeof errbuf);
    if (st) {
        p->restart = true;
        set_errmsgf(p, "re-creating the plugin's instances: %s", errbuf);
        p->has_error = true;
    }
    return st;
}

static exn_status_t call_locked(ExtismPlugin *p, const char *name, const uint8_t *input,
                                size_t input_len, void *host_context, int64_t timeout_ns,
                                exn_call_result_t *out)
{
    exn_status_t st;
    if (p->restart && (st = restart(p)) != EXN_OK)
        return st;

    const exn_export_t *e = p->last_export;
    if (!e || strcmp(name, p->last_name) != 0) {
        e = exn_module_export(&p->main->def->info, name, EXN_EXTERN_FUNC);
        if (!e) {
            set_errmsgf(p, "function not found: %s", name);
            p->has_error = true;
            return EXN_ERR_NOT_FOUND;
        }
        const exn_functype_t *t = exn_module_func_type(&p->main->def->info, e->index);
        if (t->n_params != 0 || t->n_results > 1 ||
            (t->n_results == 1 && t->types[0] != EXN_WASM_I32)) {
            char sig[128];
            exn_functype_format(t, sig, sizeof sig);
            set_errmsgf(p, "function %s has type %s; plugin functions take no arguments and "
                           "return nothing or an i32", name, sig);
            p->has_error = true;
            return EXN_ERR_SIGNATURE;
        }
        /* remember it: calls usually repeat the same export */
        p->last_export = e;
        p->last_name = e->name; /* the export table's copy lives as long as the plugin */
        p->last_is_start = strcmp(name, "_start") == 0;
        p->last_returns_i32 = t->n_results == 1;
    }

    exn_kmem_reset(&p->kmem);
    p->call_log_level = EXN_LOG_ASK;
    p->host_context = host_context;
    exn_instances_enter(p);
    const char *what = "";
    bool initialising = !p->initialized;
    exn_trap_t r = initialising ? exn_instances_initialise(p, &what) : NULL;
    if (r) {
        int32_t ignored;
        st = classify(p, r, false, NULL, &ignored);
        if (st != EXN_OK) { /* (proc_exit(0) while initialising leaves a usable instance) */
            char reason[1024];
            exn_fmt(reason, sizeof reason, "initialising the plugin (%s): %s", what, p->errmsg);
            exn_plugin_set_errmsg(p, reason, strlen(reason));
            p->restart = true; /* try again on fresh instances */
            p->host_context = NULL;
            return st;
        }
    }
    if (initialising)
        exn_kmem_reset(&p->kmem); /* what the initialisers allocated is gone, as for a call */

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
    uint64_t manifest_timeout = p->compiled->timeout_ns;
    bool timed = timeout_ns == EXN_TIMEOUT_DEFAULT ? manifest_timeout != 0 : timeout_ns >= 0;
    uint64_t timeout = timeout_ns == EXN_TIMEOUT_DEFAULT ? manifest_timeout
                       : timeout_ns < 0                  ? 0
                                                         : (uint64_t)timeout_ns;
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
    uint64_t result[1] = {0};
    r = exn_module_call(p->main, e->index, result);
    if (timed)
        exn_watchdog_disarm(&deadline);
    p->deadline_ns = 0;
    p->host_context = NULL;
    if (p->last_is_start || is_engine_error(r))
        p->restart = true;

    st = classify(p, r, p->last_returns_i32, result, &out->rc);
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
    if (p->errmsg[0])
        p->errmsg[0] = '\0';

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

int64_t exn_call(exn_call_t *c, const char *name, const uint8_t *input, size_t input_len)
{
    exn_call_result_t out;
    exn_status_t st =
        exn_plugin_call(c->plugin, name, input, input_len, c->host_context, c->timeout_ns, &out);
    c->output = (const char *)out.output;
    c->rc = out.rc;
    c->status = (int32_t)st;
    return st == EXN_OK ? (int64_t)out.output_len : -1;
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

size_t exn_plugin_trap_frames(ExtismPlugin *p, uint32_t *funcs, size_t max)
{
    if (!p || p->closed || !p->main || !p->main->inst || (!funcs && max))
        return 0;
    exn_frame_t frames[EXN_MAX_FRAMES];
    exn_instance_t *inst = p->main->inst;
    size_t n = inst->engine->backtrace(inst, frames, max < EXN_MAX_FRAMES ? max : EXN_MAX_FRAMES);
    for (size_t i = 0; i < n; i++)
        funcs[i] = frames[i].func;
    return n;
}

int exn_plugin_function_kind(ExtismPlugin *p, const char *name)
{
    if (!p || !name || p->closed)
        return 0;
    const exn_export_t *e = exn_module_export(&p->main->def->info, name, EXN_EXTERN_FUNC);
    if (!e)
        return 0;
    const exn_functype_t *t = exn_module_func_type(&p->main->def->info, e->index);
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
        "EXN_ERR_CANCELLED", "EXN_ERR_TIMEOUT", "EXN_ERR_UNSUPPORTED", "EXN_ERR_HTTP"};
    return (unsigned)status < sizeof names / sizeof names[0] ? names[status] : "EXN_ERR_?";
}
