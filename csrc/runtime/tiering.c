/* tiering.c: which engine runs a compiled plugin's code, and the background compilation of
 * the auto tier (tiering.h).
 * May call: compiled.h, engine.h, engine/native/native.h, kernel.h, os.h, validate.h. */
#include "tiering.h"

#include <stdlib.h>

#include "engine/native/native.h"
#include "extism_native.h"
#include "kernel/kernel.h"
#include "support/os.h"
#include "validate/validate.h"

#define DEFAULT_HOT_MS 100

static uint64_t hot_ns_threshold(void)
{
    static volatile uint64_t cached; /* 0: not read yet; else the threshold + 1 */
    uint64_t v = cached;
    if (v)
        return v - 1;
    const char *env = getenv("EXTISM_NATIVE_HOT_MS");
    uint64_t ms = DEFAULT_HOT_MS;
    if (env && *env) {
        char *end;
        unsigned long long n = strtoull(env, &end, 10);
        if (!*end && n < 1000000000ull)
            ms = n;
    }
    cached = ms * 1000000u + 1;
    return ms * 1000000u;
}

static int tier_from_env(void)
{
    const char *env = getenv("EXTISM_NATIVE_TIER");
    if (env && strcmp(env, "native") == 0)
        return EXN_TIER_NATIVE;
    if (env && strcmp(env, "interp") == 0)
        return EXN_TIER_INTERP;
    return EXN_TIER_AUTO; /* (unset, "auto" or anything else: the default) */
}

static void set_why(ExtismCompiledPlugin *c, const char *text)
{
    exn_os_global_lock();
    exn_fmt(c->tier_why, sizeof c->tier_why, "%s", text);
    exn_os_global_unlock();
}

/* Compiled plugins whose background compilation runs (under the global lock): a child process
 * made by fork() has none of those threads, so it puts them back to WATCHING (after_fork). */
static ExtismCompiledPlugin *compiling;
static exn_mutex_t *one_at_a_time; /* made under the global lock */

/* Publish a new state (release: `ncode` written before NATIVE is seen) and wake waiters. */
static void publish(ExtismCompiledPlugin *c, uint32_t state)
{
    exn_os_global_lock();
    for (ExtismCompiledPlugin **at = &compiling; *at; at = &(*at)->tier_next) {
        if (*at == c) {
            *at = c->tier_next;
            break;
        }
    }
    exn_atomic_store_u32(&c->tier_state, state);
    exn_os_global_broadcast_plugins();
    exn_os_global_unlock();
}

/* In the child after fork(), alone: the compilations of the parent's threads are not running
 * here.  Their compiled plugins watch again (the next hot call or compile_native starts one of
 * this process; the parent's thread's reference is lost: they are never freed here), and the
 * lock those threads may have held is replaced. */
static void after_fork(void)
{
    exn_os_global_reinit(); /* (a compilation thread may have held it) */
    for (ExtismCompiledPlugin *c = compiling; c; c = c->tier_next)
        exn_atomic_store_u32(&c->tier_state, EXN_TIER_STATE_WATCHING);
    compiling = NULL;
    if (one_at_a_time)
        one_at_a_time = exn_os_mutex_new(); /* (the old one may be locked for ever) */
}

void exn_tier_why(ExtismCompiledPlugin *c, char *buf, size_t buf_len)
{
    exn_os_global_lock();
    exn_fmt(buf, buf_len, "%s", c->tier_why);
    exn_os_global_unlock();
}

/* The compiled tier's code of c: with fuel, the translation that counts it (the same units as
 * the interpreter's, so a plugin with fuel may move between the tiers like any other). */
static unsigned native_flags(const ExtismCompiledPlugin *c)
{
    return c->fuel ? EXN_NATIVE_FUEL : 0;
}

static exn_status_t compile_all(ExtismCompiledPlugin *c, const exn_engine_t *engine, char *errbuf,
                                size_t errbuf_len)
{
    for (size_t i = 0; i < c->n_defs; i++) {
        exn_module_def_t *def = &c->defs[i];
        char why[512];
        exn_status_t st = engine == &exn_engine_native
                              ? exn_native_compile(&def->info, def->wasm, def->wasm_len,
                                                   native_flags(c), &def->code, why, sizeof why)
                              : engine->compile(&def->info, def->wasm, def->wasm_len, &def->code,
                                                why, sizeof why);
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

exn_status_t exn_tier_resolve(ExtismCompiledPlugin *c, int tier, char *errbuf, size_t errbuf_len)
{
    if (tier == EXN_TIER_DEFAULT)
        tier = tier_from_env();
    if (tier != EXN_TIER_AUTO && tier != EXN_TIER_INTERP && tier != EXN_TIER_NATIVE) {
        exn_fmt(errbuf, errbuf_len, "unknown tier %d", tier);
        return EXN_ERR_MISUSE;
    }
    c->tier = tier;
    return EXN_OK;
}

bool exn_tier_from_cache(ExtismCompiledPlugin *c)
{
    if (c->tier == EXN_TIER_INTERP)
        return false;
    size_t i = 0, decoded = 0;
    char why[512];
    for (; decoded < c->n_defs; decoded++) {
        exn_module_def_t *def = &c->defs[decoded];
        if (exn_validate_module_flags(def->wasm, def->wasm_len, EXN_VALIDATE_SKIP_BODIES,
                                      &def->info, why, sizeof why) != EXN_OK)
            break;
    }
    if (decoded == c->n_defs) {
        for (; i < c->n_defs; i++) {
            exn_module_def_t *def = &c->defs[i];
            if (exn_native_compile(&def->info, def->wasm, def->wasm_len,
                                   EXN_NATIVE_CACHED_ONLY | native_flags(c), &def->code, why,
                                   sizeof why) != EXN_OK)
                break;
        }
        if (i == c->n_defs) {
            c->engine = &exn_engine_native;
            c->tier_state = EXN_TIER_STATE_NATIVE;
            exn_fmt(c->tier_why, sizeof c->tier_why, "compiled code from the cache");
            return true;
        }
    }
    for (size_t j = 0; j < i; j++) {
        exn_engine_native.code_free(c->defs[j].code);
        c->defs[j].code = NULL;
    }
    for (size_t j = 0; j < decoded; j++)
        exn_module_info_free(&c->defs[j].info);
    return false;
}

exn_status_t exn_tier_setup(ExtismCompiledPlugin *c, char *errbuf, size_t errbuf_len)
{
    int tier = c->tier;
    if (c->engine == &exn_engine_native && c->tier_state == EXN_TIER_STATE_NATIVE)
        return EXN_OK; /* (exn_tier_from_cache) */
    if (tier == EXN_TIER_NATIVE) {
        c->engine = &exn_engine_native;
        c->tier_state = EXN_TIER_STATE_NATIVE;
        exn_fmt(c->tier_why, sizeof c->tier_why, "tier native");
        return compile_all(c, c->engine, errbuf, errbuf_len);
    }
    c->engine = &exn_engine_wasm3;
    c->tier_state = EXN_TIER_STATE_INTERP;
    if (tier == EXN_TIER_INTERP) {
        exn_fmt(c->tier_why, sizeof c->tier_why, "tier interp");
    } else { /* (what the compiled tier cannot run, its compilation will say) */
        c->tier_state = EXN_TIER_STATE_WATCHING;
        exn_fmt(c->tier_why, sizeof c->tier_why,
                "on the interpreter until its calls have run %llu ms of guest code",
                (unsigned long long)(hot_ns_threshold() / 1000000u));
    }
    return compile_all(c, c->engine, errbuf, errbuf_len);
}

void exn_tier_free(ExtismCompiledPlugin *c)
{
    for (size_t i = 0; i < c->n_defs; i++) {
        exn_module_def_t *def = &c->defs[i];
        if (def->code)
            c->engine->code_free(def->code);
        if (def->ncode)
            exn_engine_native.code_free(def->ncode);
        def->code = def->ncode = NULL;
    }
}

const exn_engine_t *exn_tier_pick(const ExtismCompiledPlugin *c, const exn_module_def_t *def,
                                  exn_code_t **code)
{
    if (c->engine != &exn_engine_native && exn_tier_state(c) == EXN_TIER_STATE_NATIVE &&
        def->ncode) {
        *code = def->ncode;
        return &exn_engine_native;
    }
    *code = def->code;
    return c->engine;
}

/* ---- the background compilation ------------------------------------------------------------ */

static volatile uint32_t logged_unavailable;

/* The thread: compile every module with the compiled tier, publish the code or the reason. */
static void compile_job(void *arg)
{
    ExtismCompiledPlugin *c = arg;
    exn_mutex_t *lock = one_at_a_time; /* (only a child after fork replaces it) */
    exn_os_mutex_lock(lock);
    char why[512];
    exn_status_t st = exn_native_probe(why, sizeof why);
    if (st != EXN_OK) {
        char text[600];
        exn_fmt(text, sizeof text,
                "the compiled tier is not available (%s): plugins run on the "
                "interpreter",
                why);
        if (exn_atomic_cas_u32(&logged_unavailable, 0, 1))
            exn_log_runtime(EXN_LOG_INFO, text); /* once per process */
        set_why(c, text);
        publish(c, EXN_TIER_STATE_INTERP);
    } else {
        uint64_t t0 = exn_os_monotonic_ns();
        exn_code_t **codes = exn_calloc(c->n_defs, sizeof *codes);
        size_t i = 0;
        st = codes ? EXN_OK : EXN_ERR_NOMEM;
        for (; st == EXN_OK && i < c->n_defs; i++) {
            exn_module_def_t *def = &c->defs[i];
            st = exn_native_compile(&def->info, def->wasm, def->wasm_len, native_flags(c),
                                    &codes[i], why, sizeof why);
        }
        if (st == EXN_OK) {
            for (i = 0; i < c->n_defs; i++)
                c->defs[i].ncode = codes[i];
            char text[200];
            exn_fmt(text, sizeof text, "compiled in the background in %.1f s",
                    (double)(exn_os_monotonic_ns() - t0) / 1e9);
            set_why(c, text);
            publish(c, EXN_TIER_STATE_NATIVE);
        } else {
            for (size_t j = 0; codes && j < c->n_defs; j++) {
                if (codes[j])
                    exn_engine_native.code_free(codes[j]);
            }
            char text[600];
            exn_fmt(text, sizeof text, "the compiled tier failed, staying on the interpreter: %s",
                    st == EXN_ERR_NOMEM ? "out of memory" : why);
            set_why(c, text);
            publish(c, EXN_TIER_STATE_INTERP);
        }
        exn_free(codes);
    }
    exn_os_mutex_unlock(lock);
    exn_compiled_release(c);
}

/* WATCHING -> COMPILING, and the thread that does it (false: not WATCHING any more). */
static bool start(ExtismCompiledPlugin *c)
{
    if (!exn_atomic_cas_u32(&c->tier_state, EXN_TIER_STATE_WATCHING, EXN_TIER_STATE_COMPILING))
        return false;
    exn_os_global_lock();
    if (!one_at_a_time) {
        one_at_a_time = exn_os_mutex_new();
        exn_os_atfork_child(after_fork);
    }
    c->tier_next = compiling;
    compiling = c;
    exn_os_global_unlock();
    exn_compiled_retain(c); /* the thread's */
    if (!one_at_a_time || exn_os_thread_start(compile_job, c) != 0) {
        exn_compiled_release(c);
        set_why(c, "cannot start the thread that compiles in the background");
        publish(c, EXN_TIER_STATE_INTERP);
    }
    return true;
}

void exn_tier_account(ExtismCompiledPlugin *c, uint64_t ns)
{
#if defined(_MSC_VER) && !defined(__clang__)
    uint64_t total =
        (uint64_t)_InterlockedExchangeAdd64((volatile __int64 *)&c->tier_hot_ns, (__int64)ns) + ns;
#else
    uint64_t total = __atomic_add_fetch(&c->tier_hot_ns, ns, __ATOMIC_RELAXED);
#endif
    if (total >= hot_ns_threshold())
        start(c);
}

exn_status_t exn_tier_compile_now(ExtismCompiledPlugin *c, int64_t timeout_ns, char *errbuf,
                                  size_t errbuf_len)
{
    start(c);
    uint64_t deadline = 0;
    if (timeout_ns >= 0) {
        uint64_t now = exn_os_monotonic_ns();
        deadline = now + (uint64_t)timeout_ns;
        if (deadline < now || deadline == 0)
            deadline = UINT64_MAX;
    }
    exn_os_global_lock();
    uint32_t s;
    while ((s = exn_atomic_load_u32(&c->tier_state)) == EXN_TIER_STATE_COMPILING &&
           (!deadline || exn_os_monotonic_ns() < deadline))
        exn_os_global_wait_plugins(deadline);
    exn_fmt(errbuf, errbuf_len, "%s", c->tier_why);
    exn_os_global_unlock();
    return s == EXN_TIER_STATE_NATIVE      ? EXN_OK
           : s == EXN_TIER_STATE_COMPILING ? EXN_ERR_TIMEOUT
                                           : EXN_ERR_UNSUPPORTED;
}

exn_status_t exn_tier_available(char *buf, size_t buf_len)
{
    return exn_native_probe(buf, buf_len);
}

exn_status_t exn_tier_precompile(const uint8_t *wasm, size_t len, char *errbuf, size_t errbuf_len)
{
    exn_module_info_t info;
    memset(&info, 0, sizeof info);
    exn_status_t st = exn_validate_module(wasm, len, &info, errbuf, errbuf_len);
    if (st == EXN_OK) {
        exn_code_t *code = NULL;
        if (exn_native_compile(&info, wasm, len, EXN_NATIVE_CACHED_ONLY, &code, errbuf,
                               errbuf_len) == EXN_OK) {
            exn_fmt(errbuf, errbuf_len, "already in the cache");
        } else {
            uint64_t t0 = exn_os_monotonic_ns();
            st = exn_native_compile(&info, wasm, len, 0, &code, errbuf, errbuf_len);
            if (st == EXN_OK)
                exn_fmt(errbuf, errbuf_len, "compiled in %.1f s",
                        (double)(exn_os_monotonic_ns() - t0) / 1e9);
        }
        if (code)
            exn_engine_native.code_free(code);
    }
    exn_module_info_free(&info);
    return st;
}
