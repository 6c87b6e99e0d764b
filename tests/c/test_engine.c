/* test_engine.c: the engine interface (csrc/engine/engine.h) from C, without the runtime, on
 * every engine of the build: a module (tests/plugins/wat/engine_iface.wat) validated, compiled,
 * instantiated with two imports and called - values of every type in and out (through the
 * engine and through an import), linear memory and its limit, globals, each kind of trap with
 * the very exn_trap_* pointer, the frames of a trap, interrupts, two instances of one code.
 * Run by ctest; any failure exits non-zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/native/native.h"
#include "validate/validate.h"

#include "test_util.h"

/* ---- the imports --------------------------------------------------------------------------- */

static int host_tag;
static int echo_calls;

/* echo4(i32, i64, f32, f64) -> (i32 + 1, i64 * 2, f32, f64), after checking what it is called
 * with: the calling instance (and its memory) and the environment given at link time. */
static exn_trap_t echo4(const exn_caller_t *caller, uint64_t *slots)
{
    echo_calls++;
    CHECK(caller->env == &host_tag);
    uint64_t size = 0;
    uint8_t *mem = exn_instance_memory(caller->instance, &size);
    CHECK(mem && size == 65536 && memcmp(mem + 100, "abc", 3) == 0);
    uint64_t *params = slots + 4; /* results first */
    slots[0] = exn_slot_u32(&params[0]) + 1u;
    slots[1] = exn_slot_u64(&params[1]) * 2;
    slots[2] = params[2];
    slots[3] = params[3];
    return NULL;
}

static exn_trap_t fail(const exn_caller_t *caller, uint64_t *slots)
{
    (void)caller, (void)slots;
    return exn_trap_host;
}

/* ---- helpers -------------------------------------------------------------------------------- */

static uint32_t export_index(const exn_module_info_t *info, const char *name)
{
    const exn_export_t *e = exn_module_export(info, name, EXN_EXTERN_FUNC);
    CHECK(e != NULL);
    return e ? e->index : 0;
}

static uint64_t f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static uint64_t f64_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

typedef struct {
    const exn_engine_t *engine;
    const exn_module_info_t *info;
    exn_code_t *code;
    volatile uint32_t interrupt;
    const uint8_t *wasm;
    size_t len;
} fixture_t;

/* Whether frame f's offset is at an instruction with opcode `op` (both engines: wasm3 patch
 * 0075, the compiled tier's line table). */
static bool at_op(const fixture_t *fx, const exn_frame_t *f, uint8_t op)
{
    return f->offset < fx->len && fx->wasm[f->offset] == op;
}

static exn_instance_t *instantiate(fixture_t *fx, uint64_t max_memory_bytes)
{
    exn_import_value_t imports[2] = {{EXN_EXTERN_FUNC, echo4, &host_tag},
                                     {EXN_EXTERN_FUNC, fail, NULL}};
    exn_instance_config_t config;
    memset(&config, 0, sizeof config);
    config.imports = imports;
    config.n_imports = 2;
    config.max_memory_bytes = max_memory_bytes;
    config.interrupt = &fx->interrupt;
    config.userdata = fx;
    exn_instance_t *inst = NULL;
    char why[256];
    exn_status_t st = fx->engine->instantiate(fx->code, &config, &inst, why, sizeof why);
    CHECK(st == EXN_OK && inst);
    if (st != EXN_OK) {
        fprintf(stderr, "  instantiate: %s\n", why);
        exit(1);
    }
    CHECK(inst->engine == fx->engine && inst->code == fx->code &&
          exn_instance_userdata(inst) == fx);
    /* a stack limit a quarter of a MiB below here: deep recursion traps, never crashes */
    volatile char here = 0;
    fx->engine->set_stack_limit(inst, (uintptr_t)&here - 256 * 1024);
    return inst;
}

/* ---- the tests ------------------------------------------------------------------------------ */

static void test_values(fixture_t *fx, exn_instance_t *inst)
{
    const exn_engine_t *e = fx->engine;
    uint64_t slots[4] = {0xFFFFFFFBu /* -5 */, (uint64_t)-1234567890123LL, f32_bits(1.5f),
                         f64_bits(-2.25)};
    CHECK(e->call(inst, export_index(fx->info, "id4"), slots) == NULL);
    CHECK(slots[0] == 0xFFFFFFFBu); /* an i32 in the low 32 bits, the rest zero */
    CHECK(slots[1] == (uint64_t)-1234567890123LL);
    CHECK(slots[2] == f32_bits(1.5f) && slots[3] == f64_bits(-2.25));

    uint64_t via[4] = {41, 21, f32_bits(-0.5f), f64_bits(1e300)};
    int before = echo_calls;
    CHECK(e->call(inst, export_index(fx->info, "via_host"), via) == NULL);
    CHECK(echo_calls == before + 1);
    CHECK(via[0] == 42 && via[1] == 42 && via[2] == f32_bits(-0.5f) && via[3] == f64_bits(1e300));

    /* globals, imports count first (there are none) */
    uint64_t g[1] = {0};
    e->global_get(inst, 0, g);
    CHECK(g[0] == 7);
    g[0] = 9;
    e->global_set(inst, 0, g);
    g[0] = 0;
    e->global_get(inst, 0, g);
    CHECK(g[0] == 9);
    e->global_get(inst, 1, g);
    CHECK(g[0] == 0xFFFFFFFFu); /* i32 -1 */
    e->global_get(inst, 2, g);
    CHECK(g[0] == f32_bits(2.5f));
}

static void test_memory(fixture_t *fx, exn_instance_t *inst, uint64_t max_pages)
{
    const exn_engine_t *e = fx->engine;
    uint64_t size = 0;
    uint8_t *mem = e->memory(inst, &size);
    CHECK(mem && size == 65536 && memcmp(mem + 100, "abc", 3) == 0);
    mem[200] = 0x5A;
    uint64_t s[1] = {200};
    CHECK(e->call(inst, export_index(fx->info, "load"), s) == NULL && s[0] == 0x5A);
    s[0] = 1;
    CHECK(e->call(inst, export_index(fx->info, "grow"), s) == NULL && s[0] == 1);
    mem = e->memory(inst, &size);
    CHECK(mem && size == 2 * 65536 && mem[200] == 0x5A);
    /* past the module's maximum (4) or the config's: -1, and nothing changes */
    s[0] = max_pages - 1;
    CHECK(e->call(inst, export_index(fx->info, "grow"), s) == NULL && s[0] == 0xFFFFFFFFu);
    CHECK(e->call(inst, export_index(fx->info, "size"), s) == NULL && s[0] == 2);
    e->memory(inst, &size);
    CHECK(size == 2 * 65536);
}

static void test_traps(fixture_t *fx, exn_instance_t *inst)
{
    const exn_engine_t *e = fx->engine;
    const exn_module_info_t *info = fx->info;
    uint64_t s[1] = {0};
    exn_frame_t frames[EXN_MAX_FRAMES];

    exn_trap_t t = e->call(inst, export_index(info, "outer"), s);
    CHECK(t == exn_trap_unreachable && exn_trap_is_wasm(t));
    size_t n = e->backtrace(inst, frames, EXN_MAX_FRAMES);
    CHECK(n == 3); /* innermost first: $inner, $middle, outer */
    CHECK(n >= 3 && frames[0].func == 7 && frames[1].func == 8 && frames[2].func == 9);
    for (size_t i = 0; i < n; i++)
        CHECK(frames[i].module == fx->code);
    /* where: the unreachable, then each caller's call */
    CHECK(n >= 3 && at_op(fx, &frames[0], 0x00) && at_op(fx, &frames[1], 0x10) &&
          at_op(fx, &frames[2], 0x10) && frames[1].offset < frames[2].offset);
    CHECK(e->backtrace(inst, frames, 1) == 1 && frames[0].func == 7);

    s[0] = 0;
    CHECK(e->call(inst, export_index(info, "div"), s) == exn_trap_div_zero);
    CHECK(e->backtrace(inst, frames, EXN_MAX_FRAMES) == 1 && frames[0].offset < fx->len &&
          ((fx->wasm[frames[0].offset] >= 0x6D && fx->wasm[frames[0].offset] <= 0x70) ||
           (fx->wasm[frames[0].offset] >= 0x7F && fx->wasm[frames[0].offset] <= 0x82)));
    s[0] = 2;
    CHECK(e->call(inst, export_index(info, "div"), s) == NULL && s[0] == 0);
    CHECK(e->backtrace(inst, frames, EXN_MAX_FRAMES) == 0); /* a call that returned */
    CHECK(e->call(inst, export_index(info, "oob"), s) == exn_trap_memory_oob);
    CHECK(e->backtrace(inst, frames, EXN_MAX_FRAMES) == 1 && frames[0].offset < fx->len &&
          fx->wasm[frames[0].offset] >= 0x28 && fx->wasm[frames[0].offset] <= 0x3E);
    CHECK(e->call(inst, export_index(info, "call_null"), s) == exn_trap_null_element);
    t = e->call(inst, export_index(info, "host_trap"), s);
    CHECK(t == exn_trap_host && exn_trap_is_import(t) && !exn_trap_is_wasm(t));
    n = e->backtrace(inst, frames, EXN_MAX_FRAMES);
    CHECK(n == 1 && frames[0].func == export_index(info, "host_trap"));
    CHECK(n == 1 && at_op(fx, &frames[0], 0x10)); /* the call of the import */

    t = e->call(inst, export_index(info, "recurse"), s);
    CHECK(t == exn_trap_stack_overflow);
    n = e->backtrace(inst, frames, EXN_MAX_FRAMES);
    CHECK(n == EXN_MAX_FRAMES && frames[0].func == 13 && frames[n - 1].func == 13);

    /* bit 0 of the interrupt word stops a loop; cleared, the instance runs again */
    fx->interrupt = 1;
    t = e->call(inst, export_index(info, "spin"), s);
    CHECK(t == exn_trap_interrupted && exn_trap_is_wasm(t));
    fx->interrupt = 0;
    s[0] = 2;
    CHECK(e->call(inst, export_index(info, "div"), s) == NULL);
}

static void test_engine(const exn_engine_t *engine, const uint8_t *wasm, size_t len)
{
    fixture_t fx;
    memset(&fx, 0, sizeof fx);
    fx.engine = engine;
    exn_module_info_t info;
    char why[256];
    CHECK(exn_validate_module(wasm, len, &info, why, sizeof why) == EXN_OK);
    fx.info = &info;
    fx.wasm = wasm;
    fx.len = len;
    exn_status_t st = engine->compile(&info, wasm, len, &fx.code, why, sizeof why);
    if (st == EXN_ERR_UNSUPPORTED && engine == &exn_engine_native) {
        printf("  skipped: %s\n", why);
        exn_module_info_free(&info);
        return;
    }
    CHECK(st == EXN_OK);
    if (st != EXN_OK) {
        fprintf(stderr, "  %s: compile: %s\n", engine->name, why);
        exn_module_info_free(&info);
        return;
    }
    exn_instance_t *a = instantiate(&fx, 4 * 65536), *b = instantiate(&fx, 3 * 65536);
    test_values(&fx, a);
    test_memory(&fx, a, 4);
    test_memory(&fx, b, 3); /* the config's limit, lower than the module's maximum */
    test_traps(&fx, a);
    /* the instances share nothing but the code */
    uint64_t sa, sb;
    uint8_t *ma = engine->memory(a, &sa), *mb = engine->memory(b, &sb);
    ma[300] = 1;
    mb[300] = 2;
    CHECK(ma != mb && ma[300] == 1);
    uint64_t g[1];
    engine->global_get(b, 0, g);
    CHECK(g[0] == 7); /* a's was set to 9 */
    engine->instance_free(a);
    engine->instance_free(b);

    /* fuel: one unit per function entry and loop entry; the compiled tier needs code made
     * with fuel and refuses a fuel word for its ordinary code */
    exn_instance_config_t config;
    memset(&config, 0, sizeof config);
    exn_import_value_t imports[2] = {{EXN_EXTERN_FUNC, echo4, &host_tag},
                                     {EXN_EXTERN_FUNC, fail, NULL}};
    int64_t fuelw[2] = {1000, 0}; /* (two words: engine.h) */
    config.imports = imports;
    config.n_imports = 2;
    config.max_memory_bytes = 65536;
    config.fuel = fuelw;
    exn_instance_t *c = NULL;
    exn_code_t *fcode = fx.code;
    st = engine->instantiate(fx.code, &config, &c, why, sizeof why);
    if (engine == &exn_engine_native) {
        CHECK(st == EXN_ERR_UNSUPPORTED && strstr(why, "fuel") && !c);
        CHECK(exn_native_compile(&info, wasm, len, EXN_NATIVE_FUEL, &fcode, why, sizeof why) ==
              EXN_OK);
        st = fcode ? engine->instantiate(fcode, &config, &c, why, sizeof why) : EXN_ERR_LOAD;
    }
    CHECK(st == EXN_OK && c);
    if (c) {
        uint64_t s[4] = {2, 0, 0, 0};
        CHECK(engine->call(c, export_index(&info, "div"), s) == NULL && fuelw[0] == 999);
        CHECK(engine->call(c, export_index(&info, "outer"), s) == exn_trap_unreachable &&
              fuelw[0] == 996 && fuelw[1] == 0); /* outer, $middle, $inner */
        fuelw[0] = 10; /* spin: its entry, then 9 loop entries, then the 10th fails */
        CHECK(engine->call(c, export_index(&info, "spin"), s) == exn_trap_fuel &&
              fuelw[0] == -1 && fuelw[1] == 0);
        fuelw[0] = 3000; /* spin's loop runs out in the third batch of the compiled tier */
        CHECK(engine->call(c, export_index(&info, "spin"), s) == exn_trap_fuel &&
              fuelw[0] == -1 && fuelw[1] == 0);
        CHECK(exn_trap_is_wasm(exn_trap_fuel));
        fuelw[0] = 1000;
        CHECK(engine->call(c, export_index(&info, "recurse"), s) == exn_trap_fuel);
        s[0] = 2;
        fuelw[0] = 1;
        CHECK(engine->call(c, export_index(&info, "div"), s) == NULL && fuelw[0] == 0);
        engine->instance_free(c);
    }
    if (fcode && fcode != fx.code)
        engine->code_free(fcode);
    engine->code_free(fx.code);
    exn_module_info_free(&info);
}

/* v128 values (tests/plugins/wat/engine_simd.wat): two slots each, bytes 0-7 then 8-15 of the
 * vector as little-endian numbers, among the other values of a call and in globals, on both
 * engines (the compiled tier skips itself where it has no C compiler). */
static void test_simd(const exn_engine_t *engine, const uint8_t *wasm, size_t len)
{
    exn_module_info_t info;
    char why[256];
    CHECK(exn_validate_module(wasm, len, &info, why, sizeof why) == EXN_OK);
    CHECK(info.features & EXN_FEATURE_SIMD);
    exn_code_t *code = NULL;
    exn_status_t st = engine->compile(&info, wasm, len, &code, why, sizeof why);
    /* (no C compiler here; a refusal naming SIMD is a failure) */
    if (st == EXN_ERR_UNSUPPORTED && engine == &exn_engine_native && !strstr(why, "SIMD")) {
        printf("  simd: skipped: %s\n", why);
        exn_module_info_free(&info);
        return;
    }
    CHECK(st == EXN_OK);
    if (st != EXN_OK) {
        fprintf(stderr, "  %s: compile: %s\n", engine->name, why);
        exn_module_info_free(&info);
        return;
    }
    exn_instance_config_t config;
    memset(&config, 0, sizeof config);
    volatile uint32_t interrupt = 0;
    config.interrupt = &interrupt;
    exn_instance_t *inst = NULL;
    CHECK(engine->instantiate(code, &config, &inst, why, sizeof why) == EXN_OK && inst);
    if (!inst) {
        engine->code_free(code);
        exn_module_info_free(&info);
        return;
    }
    volatile char here = 0;
    engine->set_stack_limit(inst, (uintptr_t)&here - 256 * 1024);
    const uint64_t lo = 0x0000000200000001u, hi = 0x0000000400000003u; /* i32x4 1 2 3 4 */

    /* (i32 10, v128, i64) -> (v128 + splat 10, lane 3, the i64): 4 slots in, 4 out */
    uint64_t s[4] = {10, lo, hi, 0x8877665544332211u};
    CHECK(engine->call(inst, export_index(&info, "mix"), s) == NULL);
    CHECK(s[0] == 0x0000000C0000000Bu && s[1] == 0x0000000E0000000Du); /* 11 12 | 13 14 */
    CHECK(s[2] == 4 && s[3] == 0x8877665544332211u);

    uint64_t g[2] = {0, 0};
    engine->global_get(inst, 0, g);
    CHECK(g[0] == lo && g[1] == hi);
    g[0] = 0x0706050403020100u;
    g[1] = 0x0F0E0D0C0B0A0908u;
    engine->global_set(inst, 0, g);
    uint64_t r[2] = {0, 0};
    CHECK(engine->call(inst, export_index(&info, "get"), r) == NULL);
    CHECK(r[0] == g[0] && r[1] == g[1]);
    uint64_t in[2] = {hi, lo};
    CHECK(engine->call(inst, export_index(&info, "set"), in) == NULL);
    engine->global_get(inst, 0, g);
    CHECK(g[0] == hi && g[1] == lo);
    engine->global_get(inst, 1, g); /* the i32 global after it: one slot */
    CHECK(g[0] == 5);

    engine->instance_free(inst);
    engine->code_free(code);
    exn_module_info_free(&info);
}

int main(void)
{
    size_t len;
    uint8_t *wasm = test_read_plugin("engine_iface", &len);
    /* the compiled tier skips itself where it cannot compile (no C compiler) */
    static const exn_engine_t *const engines[] = {&exn_engine_wasm3, &exn_engine_native};
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++) {
        printf("engine %s\n", engines[i]->name);
        test_engine(engines[i], wasm, len);
    }
    free(wasm);
    wasm = test_read_plugin("engine_simd", &len);
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++)
        test_simd(engines[i], wasm, len);
    free(wasm);
    return test_report();
}
