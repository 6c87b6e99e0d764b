/* tiering.h: which engine runs a compiled plugin's code (exn_tier_t, extism_native.h).
 *
 * interp: wasm3 only.  native: the compiled tier only, compiled (or loaded from its cache)
 * when the compiled plugin is made.  auto: compiled code at once when the cache has every
 * module; otherwise wasm3 at once, while the plugins' calls count the guest time they take (a
 * coarse clock read around every long call and around 1 in 16 short ones); past
 * EXTISM_NATIVE_HOT_MS (default 100 ms) a background thread compiles the modules (one
 * compilation at a time in the process: it takes a core for seconds to minutes), and when it
 * is done new instances use the compiled code and existing plugins move their instances to it
 * at their next call (exn_instances_to_native).
 *
 * The tier fields of a compiled plugin are the only ones that change after creation: the state
 * word (atomic; EXN_TIER_STATE_*), the guest time counted, the background compilation's code
 * (each module's `ncode`, written before the state says NATIVE and never after) and the
 * reason text (written under the global lock).
 * May call: compiled.h, engine.h, engine/native/native.h, kernel.h (the global log), os.h,
 * validate.h (exn_tier_precompile). */
#ifndef EXN_TIERING_H
#define EXN_TIERING_H

#include "compiled.h"
#include "support/internal.h"

/** c->tier from `tier` (EXN_TIER_*; DEFAULT reads EXTISM_NATIVE_TIER); EXN_ERR_MISUSE for an
 *  unknown value. */
EXN_INTERNAL exn_status_t exn_tier_resolve(ExtismCompiledPlugin *c, int tier, char *errbuf,
                                           size_t errbuf_len);

/** Tiers auto and native, before validation: when the compiled tier's cache has every module
 *  of c, describe them without type-checking their code again (EXN_VALIDATE_SKIP_BODIES: they
 *  passed validation when the code was made, and the cache key covers the module's bytes and
 *  our version) and take that code: true, c runs on the compiled tier.  Otherwise false and
 *  nothing changed (a module that does not even decode is left to full validation, which
 *  says why). */
EXN_INTERNAL bool exn_tier_from_cache(ExtismCompiledPlugin *c);

/** Pick the engine for c->tier and compile every module of c (validated) with it, unless
 *  exn_tier_from_cache did.  Errors as exn_compiled_new (EXN_ERR_UNSUPPORTED for tier native
 *  when the compiled tier cannot run a module here). */
EXN_INTERNAL exn_status_t exn_tier_setup(ExtismCompiledPlugin *c, char *errbuf, size_t errbuf_len);

/** Free the modules' code of both tiers (the compiled plugin is being freed). */
EXN_INTERNAL void exn_tier_free(ExtismCompiledPlugin *c);

/** The state (EXN_TIER_STATE_*), with acquire ordering: when NATIVE, every module's `ncode`
 *  (or `code`, if the compiled plugin started native) is the compiled tier's. */
static inline uint32_t exn_tier_state(const ExtismCompiledPlugin *c)
{
    return exn_atomic_load_u32((volatile uint32_t *)&c->tier_state);
}

/** The engine and code a new instance of `def` uses now. */
EXN_INTERNAL const exn_engine_t *exn_tier_pick(const ExtismCompiledPlugin *c,
                                               const exn_module_def_t *def, exn_code_t **code);

/** A plugin of c ran `ns` of guest code on the interpreter (auto, while WATCHING). */
EXN_INTERNAL void exn_tier_account(ExtismCompiledPlugin *c, uint64_t ns);

/** exn_compiled_plugin_compile_native: start the background compilation, wait for it. */
EXN_INTERNAL exn_status_t exn_tier_compile_now(ExtismCompiledPlugin *c, int64_t timeout_ns,
                                               char *errbuf, size_t errbuf_len);

/** exn_native_precompile. */
EXN_INTERNAL exn_status_t exn_tier_precompile(const uint8_t *wasm, size_t len, char *errbuf,
                                              size_t errbuf_len);

/** exn_native_available. */
EXN_INTERNAL exn_status_t exn_tier_available(char *buf, size_t buf_len);

/** Why the compiled plugin is where it is, into buf. */
EXN_INTERNAL void exn_tier_why(ExtismCompiledPlugin *c, char *buf, size_t buf_len);

#endif
