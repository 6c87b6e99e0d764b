/* diff_engines.c: differential testing of the two engines (tests/native/fuzz_diff.py).
 *
 *     diff_engines MODULE.wasm...
 *
 * Each module is validated, compiled by wasm3 and by the compiled tier, instantiated on both
 * (imports of functions: one host function per import that returns zeros and counts its calls,
 * the same on both; other imports: the module is skipped), and every defined function is called
 * in index order with the same arguments on both.  After each call the outcomes must agree: the
 * same trap pointer or the same results (floats compared as bits, any NaN equal to any NaN:
 * NaN payloads may differ), the same memory size and bytes, the same globals, the same number of
 * host calls.  A call that runs longer than 200 ms is interrupted on both (then only the trap is
 * compared, and the module's remaining calls are skipped); a stack-overflow trap on either side
 * ends the module too (the engines' stacks differ in depth, so what the recursion did first
 * does).
 * Prints one line per mismatch ("DIFF file: function N: ...") and a summary; exits 1 if any.
 * Guest code runs: give it modules from fuzz.py's generator, not anything hostile. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "support/codec.h"
#include "support/os.h"
#include "validate/validate.h"

#define MAX_VALUES 64
#define CALL_MS 200

typedef struct {
    const exn_engine_t *e;
    exn_code_t *code;
    exn_instance_t *inst;
    volatile uint32_t interrupt;
    int host_calls;
} side_t;

typedef struct {
    side_t *side;
    uint32_t n_results;
} import_env_t;

static exn_trap_t host_zero(const exn_caller_t *caller, uint64_t *slots)
{
    const import_env_t *env = caller->env;
    env->side->host_calls++;
    for (uint32_t i = 0; i < env->n_results; i++)
        slots[i] = 0;
    return NULL;
}

typedef struct {
    side_t *side;
    volatile int done;
} watch_t;

static void *watchdog(void *arg)
{
    watch_t *w = arg;
    for (int i = 0; i < CALL_MS && !w->done; i++)
        usleep(1000);
    if (!w->done)
        exn_atomic_store_u32((volatile uint32_t *)&w->side->interrupt, 1);
    return NULL;
}

static exn_trap_t call_timed(side_t *s, uint32_t func, uint64_t *slots, uintptr_t limit)
{
    watch_t w = {s, 0};
    pthread_t th;
    s->interrupt = 0;
    pthread_create(&th, NULL, watchdog, &w);
    s->e->set_stack_limit(s->inst, limit);
    exn_trap_t t = s->e->call(s->inst, func, slots);
    w.done = 1;
    pthread_join(th, NULL);
    s->interrupt = 0;
    return t;
}

static bool same_value(uint8_t type, uint64_t a, uint64_t b)
{
    switch (type) {
    case EXN_WASM_I32: return (uint32_t)a == (uint32_t)b;
    case EXN_WASM_F32: {
        uint32_t x = (uint32_t)a, y = (uint32_t)b;
        bool nx = (x & 0x7F800000u) == 0x7F800000u && (x & 0x7FFFFFu);
        bool ny = (y & 0x7F800000u) == 0x7F800000u && (y & 0x7FFFFFu);
        return nx || ny ? nx == ny : x == y;
    }
    case EXN_WASM_F64: {
        bool nx = (a & 0x7FF0000000000000ull) == 0x7FF0000000000000ull && (a & 0xFFFFFFFFFFFFFull);
        bool ny = (b & 0x7FF0000000000000ull) == 0x7FF0000000000000ull && (b & 0xFFFFFFFFFFFFFull);
        return nx || ny ? nx == ny : a == b;
    }
    case EXN_WASM_FUNCREF:
    case EXN_WASM_EXTERNREF: return (a == 0) == (b == 0); /* identities differ by engine */
    default: return a == b;
    }
}

static int diffs;

static void diff(const char *file, uint32_t func, const char *fmt, ...) EXN_PRINTF(3, 4);
static void diff(const char *file, uint32_t func, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("DIFF %s: function %u: ", file, func);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    diffs++;
}

/* Returns false when the module could not be run on both (not a difference by itself). */
static bool run_module(const char *file, uintptr_t limit, int *calls)
{
    uint8_t *wasm;
    size_t len;
    char why[512], why2[512];
    if (exn_os_read_file(file, &wasm, &len, why, sizeof why) != EXN_OK)
        return false;
    exn_module_info_t info;
    if (exn_validate_module(wasm, len, &info, why, sizeof why) != EXN_OK) {
        exn_free(wasm);
        return false;
    }
    side_t sides[2] = {{&exn_engine_wasm3, NULL, NULL, 0, 0},
                       {&exn_engine_native, NULL, NULL, 0, 0}};
    bool ok = true;
    exn_import_value_t *imports[2] = {NULL, NULL};
    import_env_t *envs[2] = {NULL, NULL};
    for (int k = 0; k < 2 && ok; k++) {
        side_t *s = &sides[k];
        exn_status_t st = s->e->compile(&info, wasm, len, &s->code, why, sizeof why);
        if (st != EXN_OK) {
            if (k == 1 || st != EXN_ERR_UNSUPPORTED)
                printf("REFUSED %s by %s: %s\n", file, s->e->name, why);
            ok = false;
            break;
        }
        imports[k] = calloc(info.n_imports + 1, sizeof *imports[k]);
        envs[k] = calloc(info.n_imports + 1, sizeof *envs[k]);
        for (uint32_t i = 0; i < info.n_imports; i++) {
            if (info.imports[i].kind != EXN_EXTERN_FUNC) {
                ok = false;
                break;
            }
            envs[k][i].side = s;
            envs[k][i].n_results = info.types[info.imports[i].type_index].n_results;
            imports[k][i].kind = EXN_EXTERN_FUNC;
            imports[k][i].fn = host_zero;
            imports[k][i].env = &envs[k][i];
        }
        exn_instance_config_t cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.imports = imports[k];
        cfg.n_imports = info.n_imports;
        cfg.max_memory_bytes = (uint64_t)64 << 20;
        cfg.interrupt = &s->interrupt;
        st = ok ? s->e->instantiate(s->code, &cfg, &s->inst, k ? why2 : why, sizeof why) : st;
        if (ok && st != EXN_OK)
            s->inst = NULL;
    }
    if (ok && ((sides[0].inst == NULL) != (sides[1].inst == NULL))) {
        diff(file, UINT32_MAX, "instantiation: wasm3 %s, native %s",
             sides[0].inst ? "ok" : why, sides[1].inst ? "ok" : why2);
        ok = false;
    }
    ok = ok && sides[0].inst && sides[1].inst;
    for (uint32_t f = info.n_func_imports; ok && f < info.n_funcs; f++) {
        const exn_functype_t *t = exn_module_func_type(&info, f);
        if (t->n_params > MAX_VALUES || t->n_results > MAX_VALUES)
            continue;
        /* engine.h's slots: a v128 takes two (its bytes 0-7 and 8-15) */
        uint64_t s0[2 * MAX_VALUES + 1] = {0}, s1[2 * MAX_VALUES + 1] = {0};
        for (uint32_t i = 0, k = 0; i < t->n_params; i++) {
            uint8_t ty = t->types[i];
            uint64_t v = ty == EXN_WASM_FUNCREF || ty == EXN_WASM_EXTERNREF ? 0
                         : (f + i) % 3 == 0                                ? 0
                         : (f + i) % 3 == 1                                ? 1
                                                                           : 0xFFFFFFFFFFFFFFF0ull;
            if (ty == EXN_WASM_I32 || ty == EXN_WASM_F32)
                v = (uint32_t)v;
            s0[k] = s1[k] = v;
            k++;
            if (ty == EXN_WASM_V128) {
                s0[k] = s1[k] = 0x8000000180FF7F01ull * (f + i + 1); /* mixed lanes */
                k++;
            }
        }
        exn_trap_t t0 = call_timed(&sides[0], f, s0, limit);
        exn_trap_t t1 = call_timed(&sides[1], f, s1, limit);
        (*calls)++;
        if (t0 != t1) {
            /* a timeout or a stack exhausted on one side only is not a difference of semantics:
             * how deep a guest may recurse is the engine's choice (a recursion that also grows
             * a table or memory reaches their limit first where the stack is deeper) */
            if (t0 != exn_trap_interrupted && t1 != exn_trap_interrupted &&
                t0 != exn_trap_stack_overflow && t1 != exn_trap_stack_overflow)
                diff(file, f, "trap: wasm3 %s, native %s", t0 ? t0 : "none", t1 ? t1 : "none");
            break;
        }
        if (t0 == exn_trap_interrupted || t0 == exn_trap_stack_overflow)
            break;
        if (!t0) {
            for (uint32_t i = 0, k = 0; i < t->n_results; i++, k++) {
                uint8_t ty = t->types[t->n_params + i];
                if (!same_value(ty, s0[k], s1[k]) ||
                    (ty == EXN_WASM_V128 && s0[k + 1] != s1[k + 1]))
                    diff(file, f,
                         "result %u (%s): wasm3 0x%" PRIx64 "(%" PRIx64 "), native 0x%" PRIx64
                         "(%" PRIx64 ")",
                         i, exn_valtype_name(ty), s0[k], s0[k + 1], s1[k], s1[k + 1]);
                k += ty == EXN_WASM_V128;
            }
        }
        uint64_t z0 = 0, z1 = 0;
        uint8_t *m0 = sides[0].e->memory(sides[0].inst, &z0);
        uint8_t *m1 = sides[1].e->memory(sides[1].inst, &z1);
        if (z0 != z1)
            diff(file, f, "memory size: wasm3 %" PRIu64 ", native %" PRIu64, z0, z1);
        else if (z0 && memcmp(m0, m1, (size_t)z0) != 0) {
            size_t at = 0;
            while (m0[at] == m1[at])
                at++;
            diff(file, f, "memory differs at %zu: wasm3 %02x, native %02x", at, m0[at], m1[at]);
        }
        for (uint32_t g = 0; g < info.n_globals; g++) {
            uint64_t g0[2] = {0, 0}, g1[2] = {0, 0};
            sides[0].e->global_get(sides[0].inst, g, g0);
            sides[1].e->global_get(sides[1].inst, g, g1);
            if (!same_value(info.globals[g].type, g0[0], g1[0]) || g0[1] != g1[1])
                diff(file, f, "global %u: wasm3 0x%" PRIx64 ", native 0x%" PRIx64, g, g0[0], g1[0]);
        }
        if (sides[0].host_calls != sides[1].host_calls)
            diff(file, f, "host calls: wasm3 %d, native %d", sides[0].host_calls,
                 sides[1].host_calls);
    }
    for (int k = 0; k < 2; k++) {
        if (sides[k].inst)
            sides[k].e->instance_free(sides[k].inst);
        if (sides[k].code)
            sides[k].e->code_free(sides[k].code);
        free(imports[k]);
        free(envs[k]);
    }
    exn_module_info_free(&info);
    exn_free(wasm);
    return ok;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    uintptr_t low = exn_os_stack_low();
    volatile char here = 0;
    uintptr_t limit = low > 1 ? low + 256 * 1024 : (uintptr_t)&here - (1u << 20);
    int ran = 0, calls = 0;
    for (int i = 1; i < argc; i++)
        ran += run_module(argv[i], limit, &calls);
    printf("{\"modules\": %d, \"ran\": %d, \"calls\": %d, \"diffs\": %d}\n", argc - 1, ran, calls,
           diffs);
    return diffs ? 1 : 0;
}
