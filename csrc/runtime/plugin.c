/* plugin.c: plugin lifecycle - read the manifest, name and check its modules, instantiate them
 * (instance.c), run calls and classify how each call ended, close and free.
 *
 * Spec sections 3 (calls, return codes, initialisation), 2.3 (what is reset per call), 6.4
 * (module names) and 7 (timeouts, cancellation) of docs/extism-abi.md.  Calls on one plugin
 * are serialized: the thread running one holds the plugin (p->holder); others wait within
 * their deadline, and a wait that would close a cycle between threads fails (deadlock), as
 * does a call re-entering a plugin already running on the same thread.
 * May call: compiled.h, instance.h, tiering.h, hostfn.h, engine.h, kernel.h (the kernel context: memory,
 * vars, config, logging, HTTP), wasi/wasi.h, watchdog.h, os.h. */
#include "plugin.h"

#include <stdio.h>

#include "hostfn.h"
#include "kernel/kernel.h"
#include "tiering.h"
#include "wasi/wasi.h"
#include "support/watchdog.h"

#define KERNEL_PAGES_BEYOND_START 65520 /* with no max_pages: up to 4 GiB of kernel memory */

/* ---- who holds a plugin ------------------------------------------------------------------- */

#if defined(_MSC_VER) && !defined(__clang__)
static bool uptr_cas(volatile uintptr_t *p, uintptr_t expect, uintptr_t desired)
{
    return (uintptr_t)_InterlockedCompareExchangePointer((void *volatile *)p, (void *)desired,
                                                         (void *)expect) == expect;
}
static uintptr_t uptr_load(volatile uintptr_t *p)
{
    return (uintptr_t)_InterlockedCompareExchangePointer((void *volatile *)p, NULL, NULL);
}
static void uptr_clear(volatile uintptr_t *p)
{
    _InterlockedExchangePointer((void *volatile *)p, NULL);
}
static void u32_add(volatile uint32_t *p, int32_t d)
{
    _InterlockedExchangeAdd((volatile long *)p, d);
}
static uint32_t u32_load(volatile uint32_t *p)
{
    return exn_atomic_load_u32(p); /* (a full barrier there) */
}
#else
/* sequentially consistent: a thread that releases a plugin (store holder, then load waiters)
 * and one that starts waiting (add waiters, then CAS holder) cannot both miss the other */
static bool uptr_cas(volatile uintptr_t *p, uintptr_t expect, uintptr_t desired)
{
    return __atomic_compare_exchange_n(p, &expect, desired, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}
static uintptr_t uptr_load(volatile uintptr_t *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
static void uptr_clear(volatile uintptr_t *p)
{
    __atomic_exchange_n(p, 0, __ATOMIC_SEQ_CST);
}
static void u32_add(volatile uint32_t *p, int32_t d)
{
    __atomic_fetch_add(p, (uint32_t)d, __ATOMIC_SEQ_CST);
}
static uint32_t u32_load(volatile uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
#endif

/* Plugins running on this thread, innermost first: detects a host function calling back into
 * the plugin that called it, and lets a signal handler on this thread stop the innermost call
 * (exn_thread_interrupt).  The list head and a frame's fields are written before the frame is
 * published, so a signal handler on this thread sees only whole frames. */
typedef struct frame {
    ExtismPlugin *plugin;
    struct frame *outer;
} frame_t;

struct exn_thread {
    frame_t *volatile running;
    volatile uint32_t interrupted; /* exn_thread_interrupt ran: stop waiting for a plugin */
};
static EXN_THREAD_LOCAL exn_thread_t this_thread;

exn_thread_t *exn_thread_self(void)
{
    return &this_thread;
}

void exn_thread_interrupt(exn_thread_t *t)
{
    /* async-signal-safe: one load and lock-free atomics */
    frame_t *f = t->running;
    if (f)
        exn_call_interrupt(&f->plugin->call_state, 0);
    t->interrupted = 1;
}

static bool running_on(const exn_thread_t *self, const ExtismPlugin *p)
{
    for (frame_t *f = self->running; f; f = f->outer) {
        if (f->plugin == p)
            return true;
    }
    return false;
}

bool exn_plugin_running_here(const ExtismPlugin *p)
{
    return running_on(&this_thread, p);
}

/* A thread's id as a plugin's holder: the address of its exn_thread_t (unique among live
 * threads, never 0). */
#define THREAD_ID(self) ((uintptr_t)(self))

/* Threads waiting for a busy plugin (under the global lock), for finding wait-for cycles. */
typedef struct waiter {
    uintptr_t thread;
    ExtismPlugin *plugin;
    struct waiter *next;
} waiter_t;
static waiter_t *waiting;

#define WAIT_SLICE_NS 20000000u /* how often a waiter looks at its own calls' interrupts */

/* Whether `me` waiting for `p` closes a cycle: p is held by a thread that waits for a plugin
 * held by a thread that ... waits for a plugin `me` holds.  Global lock held: each waiter in
 * the list is blocked (and so keeps holding what it holds) while we look. */
static bool closes_cycle(ExtismPlugin *p, uintptr_t me)
{
    for (unsigned hops = 0; p && hops < 4096; hops++) {
        uintptr_t h = uptr_load(&p->holder);
        if (h == 0)
            return false;
        if (h == me)
            return true;
        ExtismPlugin *next = NULL;
        for (waiter_t *w = waiting; w; w = w->next) {
            if (w->thread == h) {
                next = w->plugin;
                break;
            }
        }
        p = next;
    }
    return false;
}

/* Why this thread's own calls (of host functions we are inside) must stop: 0, or the
 * EXN_ERR_CANCELLED / _TIMEOUT of the innermost one interrupted. */
static exn_status_t outer_interrupt(void)
{
    for (frame_t *f = this_thread.running; f; f = f->outer) {
        uint32_t s = exn_atomic_load_u32(&f->plugin->call_state);
        if (s & EXN_CALL_INTERRUPT)
            return s & EXN_CALL_TIMEOUT ? EXN_ERR_TIMEOUT : EXN_ERR_CANCELLED;
    }
    return this_thread.interrupted ? EXN_ERR_CANCELLED : EXN_OK;
}

static void set_errmsgf(ExtismPlugin *p, const char *fmt, ...) EXN_PRINTF(2, 3);

/* Wait until this thread holds `p`: while another thread's call runs, until `deadline_ns`
 * (0: none), a wait-for cycle (two threads whose host functions call each other's plugin),
 * an interrupt of this thread's own calls, or close (unless `for_close`).  Failures set the
 * plugin's message only when they cannot race another thread's call (`p` is not ours). */
static exn_status_t wait_for_plugin(ExtismPlugin *p, uintptr_t me, uint64_t deadline_ns,
                                    bool for_close, const char **out_why)
{
    exn_status_t st = EXN_OK;
    waiter_t self = {me, p, NULL};
    exn_os_global_lock();
    self.next = waiting;
    waiting = &self;
    u32_add(&p->waiters, 1);
    for (;;) {
        if (!for_close && exn_atomic_load_u32(&p->closing)) {
            st = EXN_ERR_MISUSE;
            *out_why = "the plugin is closed";
            break;
        }
        if (uptr_cas(&p->holder, 0, me))
            break;
        if (closes_cycle(p, me)) {
            st = EXN_ERR_MISUSE;
            *out_why = "deadlock: the plugin is busy in a call on another thread, which waits "
                       "(through host functions) for a plugin this thread's call holds";
            break;
        }
        uint64_t now = exn_os_monotonic_ns();
        if (deadline_ns && now >= deadline_ns) {
            st = EXN_ERR_TIMEOUT;
            *out_why = "timeout (waiting for the plugin, busy in a call on another thread)";
            break;
        }
        if (!for_close && (st = outer_interrupt()) != EXN_OK) {
            *out_why = st == EXN_ERR_TIMEOUT ? "timeout (of the calling plugin, waiting for a "
                                               "plugin busy on another thread)"
                                             : "cancelled (waiting for a plugin busy on another "
                                               "thread)";
            break;
        }
        if (for_close) /* a call that began after close interrupted the running one */
            exn_call_interrupt(&p->call_state, 0);
        uint64_t until = now + WAIT_SLICE_NS;
        exn_os_global_wait_plugins(deadline_ns && deadline_ns < until ? deadline_ns : until);
    }
    u32_add(&p->waiters, -1);
    for (waiter_t **at = &waiting; *at; at = &(*at)->next) {
        if (*at == &self) {
            *at = self.next;
            break;
        }
    }
    exn_os_global_unlock();
    return st;
}

static inline exn_status_t hold(ExtismPlugin *p, uintptr_t me, uint64_t deadline_ns,
                                const char **out_why)
{
    if (uptr_cas(&p->holder, 0, me))
        return EXN_OK;
    return wait_for_plugin(p, me, deadline_ns, false, out_why);
}

static inline void unhold(ExtismPlugin *p)
{
    uptr_clear(&p->holder);
    if (EXN_UNLIKELY(u32_load(&p->waiters) != 0)) {
        exn_os_global_lock();
        exn_os_global_broadcast_plugins();
        exn_os_global_unlock();
    }
}

bool exn_plugin_hold(ExtismPlugin *p, bool *inside)
{
    const char *why;
    *inside = exn_plugin_running_here(p);
    if (*inside)
        return !p->closed;
    if (hold(p, THREAD_ID(&this_thread), 0, &why) != EXN_OK)
        return false;
    if (p->closed) {
        unhold(p);
        return false;
    }
    return true;
}

void exn_plugin_unhold(ExtismPlugin *p, bool inside)
{
    if (!inside)
        unhold(p);
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

static void set_errmsgf(ExtismPlugin *p, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(buf, sizeof buf, fmt, ap);
    va_end(ap);
    exn_plugin_set_errmsg(p, buf, strlen(buf));
}

/* ---- creation --------------------------------------------------------------------------------- */

/* A call's budget (no-op without fuel). */
static void refill_fuel(ExtismPlugin *p)
{
    uint64_t fuel = p->compiled->fuel;
    p->fuel_left[0] = fuel > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel;
    p->fuel_left[1] = 0;
}

uint64_t exn_plugin_fuel_used(const ExtismPlugin *p)
{
    if (!p || !p->compiled || !p->compiled->fuel)
        return 0;
    uint64_t fuel =
        p->compiled->fuel > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : p->compiled->fuel;
    /* (the engines take a unit, then trap below zero: left ends at -1 when it ran out) */
    /* (the sum: during a call the compiled tier keeps part of it in the second word) */
    int64_t left = p->fuel_left[0] + p->fuel_left[1];
    return fuel - (uint64_t)(left > 0 ? left : 0);
}

uint64_t exn_plugin_fuel_limit(const ExtismPlugin *p)
{
    return p && p->compiled ? p->compiled->fuel : 0;
}

/* Instantiate p's modules, running their start functions as the first call of the plugin:
 * under the manifest's timeout, and stopped by a cancel (the call state is running). */
static exn_status_t instantiate_timed(ExtismPlugin *p, char *errbuf, size_t errbuf_len)
{
    uint32_t running = (1u << EXN_CALL_GEN_SHIFT) | EXN_CALL_RUNNING;
    exn_deadline_t deadline = {0};
    bool timed = p->timeout_ns != 0;
    exn_atomic_store_u32(&p->call_state, running);
    if (timed) {
        uint64_t now = exn_os_monotonic_ns();
        uint64_t at = p->timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + p->timeout_ns;
        if (exn_watchdog_arm(&deadline, &p->call_state, running, at) != EXN_OK) {
            exn_fmt(errbuf, errbuf_len, "cannot start the timeout thread");
            return EXN_ERR_NOMEM;
        }
    }
    exn_status_t st = exn_instances_new(p, errbuf, errbuf_len);
    if (timed)
        exn_watchdog_disarm(&deadline);
    uint32_t state = exn_atomic_load_u32(&p->call_state); /* (nothing else changes it now) */
    exn_atomic_store_u32(&p->call_state, 1u << EXN_CALL_GEN_SHIFT);
    if (st == EXN_ERR_LOAD && (state & EXN_CALL_INTERRUPT)) {
        char reason[512];
        exn_fmt(reason, sizeof reason, "%s", errbuf ? errbuf : "");
        st = state & EXN_CALL_TIMEOUT ? EXN_ERR_TIMEOUT : EXN_ERR_CANCELLED;
        exn_fmt(errbuf, errbuf_len, "%s (%s)", reason,
                st == EXN_ERR_TIMEOUT ? "timeout: the manifest's timeout_ms covers start functions"
                                      : "cancelled");
    }
    return st;
}

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
    if (!p) {
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    exn_compiled_retain(c);
    p->compiled = c;
    p->timeout_ns = c->timeout_ns;
    refill_fuel(p);
    p->cancel.state = &p->call_state;
    uint8_t id[16];
    if (exn_os_random(id, sizeof id) != 0) {
        exn_fmt(errbuf, errbuf_len, "the system random number generator failed");
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    id[6] = (uint8_t)((id[6] & 0x0F) | 0x40); /* UUID version 4 */
    id[8] = (uint8_t)((id[8] & 0x3F) | 0x80); /* RFC 4122 variant */

    /* the kernel: 16 pages of memory at start, growing by at most max_pages pages (spec 7.4) */
    exn_kernel_config_t kc;
    memset(&kc, 0, sizeof kc);
    uint64_t kernel_pages =
        EXN_KMEM_INITIAL_PAGES + (c->has_max_pages ? c->max_pages : KERNEL_PAGES_BEYOND_START);
    kc.memory_limit_bytes = kernel_pages * EXN_KMEM_PAGE;
    kc.max_var_bytes = c->max_var_bytes;
    kc.max_http_response_bytes = c->max_http_response_bytes;
    kc.allowed_hosts = c->allowed_hosts;
    kc.n_allowed_hosts = c->n_allowed_hosts;
    kc.config = &c->config;
    kc.call_state = &p->call_state;
    kc.id = id;
    EXN_TRY(exn_kernel_init(&p->kernel, &kc));
    if (c->n_fns) {
        if (!(p->host_envs = exn_calloc(c->n_fns, sizeof *p->host_envs))) {
            st = EXN_ERR_NOMEM;
            goto cleanup;
        }
        for (size_t i = 0; i < c->n_fns; i++) {
            p->host_envs[i].fn = c->fns[i];
            p->host_envs[i].kernel = &p->kernel;
        }
    }

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
        EXN_TRY(exn_wasi_new(c->allowed_paths, c->n_allowed_paths, &p->call_state,
                             p->kernel.trap_msg, sizeof p->kernel.trap_msg, &p->wasi, errbuf,
                             errbuf_len));
    EXN_TRY(instantiate_timed(p, errbuf, errbuf_len));
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
    exn_status_t st = exn_compiled_new(data, len, functions, n_functions, with_wasi,
                                       EXN_TIER_DEFAULT, 0, &c, errbuf, errbuf_len);
    if (st == EXN_OK)
        st = exn_plugin_new_from_compiled(c, out_plugin, errbuf, errbuf_len);
    exn_compiled_release(c); /* the plugin holds its own reference */
    return st;
}

/* Free what the instances use (exn_plugin_close, extism_plugin_free; again is harmless).  The
 * compiled plugin stays until extism_plugin_free (lookups that take no hold read it), and so
 * does kernel memory while host code may hold views of it (keep_kmem). */
static void release(ExtismPlugin *p, bool all)
{
    exn_instances_free(p);
    exn_free(p->mods);
    exn_free(p->order);
    p->mods = p->main = NULL;
    p->order = NULL;
    p->n_mods = 0;
    exn_kernel_free(&p->kernel, all || !p->keep_kmem);
    exn_wasi_free(p->wasi);
    p->wasi = NULL;
    exn_free(p->host_envs);
    p->host_envs = NULL;
    if (all) {
        exn_compiled_release(p->compiled);
        p->compiled = NULL;
    }
    p->output = NULL;
    p->output_len = 0;
    p->closed = true;
}

void exn_current_plugin_keep_memory(ExtismCurrentPlugin *plugin)
{
    /* a host function's ExtismCurrentPlugin is the kernel context of its plugin (hostfn.c),
     * which plugins hold in place (p->kernel) */
    ExtismPlugin *p =
        plugin ? (ExtismPlugin *)(void *)((char *)(void *)plugin - offsetof(ExtismPlugin, kernel))
               : NULL;
    if (p && exn_plugin_running_here(p)) /* (only the holder writes the plugin's fields) */
        p->keep_kmem = true;
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
    /* from now on calls fail (also those waiting for the plugin); the running one is stopped
     * at its next loop iteration or function entry (a host function runs to its end) and ends
     * with EXN_ERR_CANCELLED; then the plugin is ours and its instances are freed */
    exn_atomic_store_u32(&p->closing, 1);
    exn_call_interrupt(&p->call_state, 0);
    uintptr_t me = THREAD_ID(&this_thread);
    const char *why = NULL;
    if (!uptr_cas(&p->holder, 0, me)) {
        exn_os_global_lock();
        exn_os_global_broadcast_plugins(); /* waiters see `closing` and give up */
        exn_os_global_unlock();
        wait_for_plugin(p, me, 0, true, &why);
    }
    release(p, false);
    unhold(p);
    return EXN_OK;
}

void extism_plugin_free(ExtismPlugin *p)
{
    if (!p)
        return;
    release(p, true);
    exn_free(p->errmsg);
    exn_free(p);
}

/* ---- calls ------------------------------------------------------------------------------------ */

/* Turn how the guest stopped into a status, a return code and a message (spec 3.2). */
static exn_status_t classify(ExtismPlugin *p, exn_trap_t r, bool returns_i32,
                             const uint64_t *result, int32_t *rc)
{
    exn_kmem_t *k = &p->kernel.kmem;
    bool exited = r == exn_trap_exit;
    if (exited)
        p->exit_code = p->wasi ? exn_wasi_exit_code(p->wasi) : 0;
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
        const char *msg = p->kernel.trap_msg; /* (WASI's imports write there too) */
        if (r == exn_trap_kernel) {
            exn_plugin_set_errmsg(p, msg, strlen(msg));
        } else if (r == exn_trap_host) {
            st = EXN_ERR_HOST;
            exn_plugin_set_errmsg(p, msg, strlen(msg));
        } else if (r == exn_trap_http) {
            st = EXN_ERR_HTTP;
            exn_plugin_set_errmsg(p, msg, strlen(msg));
        } else if (r == exn_trap_fuel) {
            *rc = -1; /* (as the official runtime) */
            set_errmsgf(p, "plugin ran out of fuel (all %llu units of the budget used)",
                        (unsigned long long)p->compiled->fuel);
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
    exn_strmap_clear(&p->kernel.vars);
    exn_kmem_reset(&p->kernel.kmem);
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

/* The call proper, with `p` held, its state running and the deadline armed. */
static exn_status_t call_held(ExtismPlugin *p, const char *name, const uint8_t *input,
                              size_t input_len, void *host_context, exn_call_result_t *out)
{
    exn_status_t st;
    refill_fuel(p);
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
            set_errmsgf(p,
                        "function %s has type %s; plugin functions take no arguments and "
                        "return nothing or an i32",
                        name, sig);
            p->has_error = true;
            return EXN_ERR_SIGNATURE;
        }
        /* remember it: calls usually repeat the same export */
        p->last_export = e;
        p->last_name = e->name; /* the export table's copy lives as long as the plugin */
        p->last_is_start = strcmp(name, "_start") == 0;
        p->last_returns_i32 = t->n_results == 1;
    }

    bool count = false; /* guest time, for the auto tier */
    if (EXN_UNLIKELY(p->tier_watch)) {
        uint32_t tier = exn_tier_state(p->compiled);
        if (tier == EXN_TIER_STATE_NATIVE) {
            char why[512]; /* (a plugin that cannot move goes on on the interpreter) */
            p->tier_watch = false;
            exn_instances_to_native(p, why, sizeof why);
        } else {
            /* a sample of the calls: all of them while they are long, 1 in 16 of short ones
             * (their time then counts 16 times): the clock is cheap, not free */
            p->tier_watch = tier != EXN_TIER_STATE_INTERP;
            count = tier == EXN_TIER_STATE_WATCHING && (++p->tier_calls & p->tier_mask) == 0;
        }
    }

    exn_kernel_t *k = &p->kernel;
    exn_kmem_reset(&k->kmem);
    k->call_log_level = EXN_LOG_ASK;
    k->host_context = host_context;
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
            k->host_context = NULL;
            return st;
        }
    }
    if (initialising)
        exn_kmem_reset(&k->kmem); /* what the initialisers allocated is gone, as for a call */

    if (input_len) {
        bool failed;
        uint64_t h = exn_kmem_alloc_copy(&k->kmem, input, input_len, &failed);
        if (failed) {
            set_errmsgf(p, "failed to allocate extism memory for %zu bytes of input", input_len);
            p->has_error = true;
            k->host_context = NULL;
            return EXN_ERR_NOMEM;
        }
        k->kmem.input = h;
        k->kmem.input_len = input_len;
    }

    uint64_t result[1] = {0};
    uint64_t t0 = count ? exn_os_coarse_ns() : 0;
    r = exn_module_call(p->main, e->index, result);
    if (count) {
        uint64_t ns = exn_os_coarse_ns() - t0;
        exn_tier_account(p->compiled, ns * (p->tier_mask + 1u));
        p->tier_mask = ns < 20000 ? 15 : 0; /* (a coarse clock says 0 for most short calls) */
    }
    k->host_context = NULL;
    if (p->last_is_start || is_engine_error(r))
        p->restart = true;

    st = classify(p, r, p->last_returns_i32, result, &out->rc);
    if (k->kmem.output_len) {
        p->output = exn_kmem_base(&k->kmem) + k->kmem.output;
        p->output_len = k->kmem.output_len;
    }
    return st;
}

#if defined(_MSC_VER) && !defined(__clang__)
#define SIGNAL_FENCE() _ReadWriteBarrier()
#else
#define SIGNAL_FENCE() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#endif

#define CALL_BUF_SHRINK ((size_t)1 << 20) /* a larger exn_call_t buffer shrinks to fit */

/* Copy `len` bytes and a NUL into c's own buffer; c->output points to it.  False when out of
 * memory (c->output is then a static text saying so). */
static bool copy_out(exn_call_t *c, const void *data, size_t len)
{
    size_t need = len + 1;
    if (need < len || need > c->cap_ || (c->cap_ > CALL_BUF_SHRINK && need < c->cap_ / 4)) {
        size_t cap = need < 256 ? 256 : need;
        uint8_t *b = need < len ? NULL : exn_malloc(cap);
        if (!b) {
            c->output = "out of memory copying the output of the call";
            return false;
        }
        exn_free(c->buf_);
        c->buf_ = b;
        c->cap_ = cap;
    }
    if (len)
        memcpy(c->buf_, data, len);
    c->buf_[len] = 0;
    c->output = (const char *)c->buf_;
    return true;
}

/* exn_plugin_call; with `copy`, the output (or the error text) is copied into it before the
 * plugin is let go, so no other thread's call can overwrite it first. */
static exn_status_t plugin_call(ExtismPlugin *p, const char *name, const uint8_t *input,
                                size_t input_len, void *host_context, int64_t timeout_ns,
                                exn_call_result_t *out, exn_call_t *copy)
{
    out->output = NULL;
    out->output_len = 0;
    out->rc = -1;
    out->why = NULL;
    if (!p || !name || (!input && input_len)) {
        out->why = "no plugin, no function name or no input data given";
        return EXN_ERR_MISUSE;
    }
    exn_thread_t *self = &this_thread;
    if (running_on(self, p)) {
        out->why = "re-entrant call: a host function called back into the plugin that is "
                   "calling it";
        return EXN_ERR_MISUSE;
    }

    /* the deadline counts from here: waiting for the plugin, (re)instantiation with start
     * functions, initialisers and input copying are all within it */
    bool timed = timeout_ns == EXN_TIMEOUT_DEFAULT ? p->timeout_ns != 0 : timeout_ns >= 0;
    uint64_t deadline_ns = 0;
    if (timed) {
        uint64_t timeout = timeout_ns == EXN_TIMEOUT_DEFAULT ? p->timeout_ns : (uint64_t)timeout_ns;
        uint64_t now = exn_os_monotonic_ns();
        deadline_ns = timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout;
    }
    self->interrupted = 0;
    exn_status_t st = hold(p, THREAD_ID(self), deadline_ns, &out->why);
    if (st != EXN_OK)
        return st;
    frame_t frame = {p, self->running};
    SIGNAL_FENCE(); /* a signal handler on this thread sees the frame whole */
    self->running = &frame;

    p->exit_code = 0;
    p->kernel.trap_msg[0] = '\0';
    p->n_trap_mods = 0;
    p->has_error = false;
    p->output = NULL;
    p->output_len = 0;
    if (p->errmsg[0])
        p->errmsg[0] = '\0';

    /* a new generation, running: a cancel from now on stops this call and no other */
    uint32_t gen = (exn_atomic_load_u32(&p->call_state) >> EXN_CALL_GEN_SHIFT) + 1;
    uint32_t running = (gen << EXN_CALL_GEN_SHIFT) | EXN_CALL_RUNNING;
    exn_atomic_store_u32(&p->call_state, running);

    if (p->closed || exn_atomic_load_u32(&p->closing)) {
        st = EXN_ERR_MISUSE;
        set_errmsgf(p, "the plugin is closed");
    } else {
        exn_deadline_t deadline = {0};
        p->kernel.deadline_ns = deadline_ns;
        if (timed && exn_watchdog_arm(&deadline, &p->call_state, running, deadline_ns)) {
            st = EXN_ERR_NOMEM;
            set_errmsgf(p, "cannot start the timeout thread");
        } else {
            st = call_held(p, name, input, input_len, host_context, out);
            if (timed)
                exn_watchdog_disarm(&deadline);
        }
        p->kernel.deadline_ns = 0;
    }
    exn_atomic_store_u32(&p->call_state, gen << EXN_CALL_GEN_SHIFT);
    out->output = p->output;
    out->output_len = p->output_len;
    if (copy) {
        copy->n_frames_ = 0;
        if (st == EXN_ERR_TRAP) {
            if (!copy->frames_)
                copy->frames_ = exn_malloc(EXN_MAX_FRAMES * sizeof(exn_trap_frame_t));
            if (copy->frames_)
                copy->n_frames_ = exn_plugin_backtrace_held(p, copy->frames_, EXN_MAX_FRAMES);
        }
        copy->has_error = p->has_error;
        if (st != EXN_OK)
            copy_out(copy, p->errmsg, strlen(p->errmsg));
        else if (!p->output_len)
            copy->output = "";
        else if (p->output_len > SIZE_MAX - 1 || !copy_out(copy, p->output, (size_t)p->output_len))
            st = EXN_ERR_NOMEM;
    }

    self->running = frame.outer;
    unhold(p);
    return st;
}

exn_status_t exn_plugin_call(ExtismPlugin *p, const char *name, const uint8_t *input,
                             size_t input_len, void *host_context, int64_t timeout_ns,
                             exn_call_result_t *out)
{
    exn_call_result_t ignored;
    return plugin_call(p, name, input, input_len, host_context, timeout_ns, out ? out : &ignored,
                       NULL);
}

int64_t exn_call(exn_call_t *c, const char *name, const uint8_t *input, size_t input_len)
{
    exn_call_result_t out;
    exn_status_t st =
        plugin_call(c->plugin, name, input, input_len, c->host_context, c->timeout_ns, &out, c);
    c->rc = out.rc;
    c->status = (int32_t)st;
    if (st == EXN_OK)
        return (int64_t)out.output_len;
    if (out.why) { /* the call did not begin: the plugin's own message is another call's */
        c->has_error = 0;
        copy_out(c, out.why, strlen(out.why));
    }
    return -1;
}

void exn_call_release(exn_call_t *c)
{
    if (c) {
        exn_free(c->buf_);
        c->buf_ = NULL;
        c->cap_ = 0;
        c->output = NULL;
        exn_free(c->frames_);
        c->frames_ = NULL;
        c->n_frames_ = 0;
    }
}

size_t exn_call_frames(const exn_call_t *c, const exn_trap_frame_t **out)
{
    if (out)
        *out = c ? c->frames_ : NULL;
    return c && c->status == EXN_ERR_TRAP ? c->n_frames_ : 0;
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
    bool inside;
    if (!p || (!funcs && max) || !exn_plugin_hold(p, &inside)) /* (close may free instances) */
        return 0;
    size_t n = 0;
    exn_instance_t *inst = p->main ? p->main->inst : NULL;
    if (inst) {
        exn_frame_t frames[EXN_MAX_FRAMES];
        n = inst->engine->backtrace(inst, frames, max < EXN_MAX_FRAMES ? max : EXN_MAX_FRAMES);
        for (size_t i = 0; i < n; i++)
            funcs[i] = frames[i].func;
    }
    exn_plugin_unhold(p, inside);
    return n;
}

const char *exn_plugin_engine(ExtismPlugin *p)
{
    bool inside;
    if (!p || !exn_plugin_hold(p, &inside)) /* (close may free instances) */
        return NULL;
    const char *name = p->main && p->main->inst ? p->main->inst->engine->name : NULL;
    exn_plugin_unhold(p, inside);
    return name;
}

int exn_plugin_function_kind(ExtismPlugin *p, const char *name)
{
    if (!p || !name || exn_atomic_load_u32(&p->closing))
        return 0;
    /* the compiled plugin (unlike the instances) lives until extism_plugin_free: no hold */
    const exn_module_info_t *info = &p->compiled->defs[p->compiled->main].info;
    const exn_export_t *e = exn_module_export(info, name, EXN_EXTERN_FUNC);
    if (!e)
        return 0;
    const exn_functype_t *t = exn_module_func_type(info, e->index);
    bool ok = t->n_params == 0 &&
              (t->n_results == 0 || (t->n_results == 1 && t->types[0] == EXN_WASM_I32));
    return ok ? 1 : -1;
}

exn_status_t exn_plugin_config_set(ExtismPlugin *p, const char *key, size_t key_len,
                                   const char *value, size_t value_len)
{
    if (!p || (!key && key_len))
        return EXN_ERR_MISUSE;
    bool inside;
    if (!exn_plugin_hold(p, &inside))
        return EXN_ERR_MISUSE;
    exn_status_t st = EXN_OK;
    if (value)
        st = exn_strmap_set(&p->kernel.config, key ? key : "", key_len, value, value_len);
    else
        exn_strmap_delete(&p->kernel.config, key ? key : "", key_len);
    exn_plugin_unhold(p, inside);
    return st;
}

/* ---- what the contexts of the imports start from ------------------------------------------- */

void exn_plugin_set_logger(ExtismPlugin *p, int32_t level, exn_log_fn fn, void *userdata)
{
    if (p)
        exn_kernel_set_logger(&p->kernel, level, fn, userdata);
}

void exn_plugin_set_http_transport(ExtismPlugin *p, exn_http_transport_fn fn, void *userdata)
{
    if (p) {
        p->kernel.transport = fn;
        p->kernel.transport_userdata = userdata;
    }
}

/* ---- WASI configuration ---------------------------------------------------------------------- */

/* Hold p for a configuration change (see exn_plugin_hold); false if p has no WASI. */
static bool lock_for_wasi(ExtismPlugin *p, bool *inside)
{
    if (!p || !exn_plugin_hold(p, inside))
        return false;
    if (p->wasi)
        return true;
    exn_plugin_unhold(p, *inside);
    return false;
}

static exn_status_t unlock_for_wasi(ExtismPlugin *p, bool inside, exn_status_t st)
{
    exn_plugin_unhold(p, inside);
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
    static const char *const names[] = {"EXN_OK",
                                        "EXN_ERR_MISUSE",
                                        "EXN_ERR_NOMEM",
                                        "EXN_ERR_MANIFEST",
                                        "EXN_ERR_LOAD",
                                        "EXN_ERR_LINK",
                                        "EXN_ERR_NOT_FOUND",
                                        "EXN_ERR_SIGNATURE",
                                        "EXN_ERR_GUEST",
                                        "EXN_ERR_TRAP",
                                        "EXN_ERR_EXIT",
                                        "EXN_ERR_HOST",
                                        "EXN_ERR_CANCELLED",
                                        "EXN_ERR_TIMEOUT",
                                        "EXN_ERR_UNSUPPORTED",
                                        "EXN_ERR_HTTP"};
    return (unsigned)status < sizeof names / sizeof names[0] ? names[status] : "EXN_ERR_?";
}
