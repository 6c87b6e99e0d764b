/* native_run.c: runs a plugin on the compiled tier through engine.h alone, with a small Extism
 * kernel of its own (enough for plugins that use input, output, alloc, length, load/store,
 * error, config and var, and WASI's fd_write/proc_exit/environ/args/clock/random as stubs).
 * A development and benchmark harness until the runtime drives the engine interface; the real
 * kernel and WASI then take over.
 *
 *     native_run PLUGIN.wasm FUNC [-i INPUT_FILE | -s INPUT_TEXT] [-n REPEAT] [-q]
 *
 * Prints the output (unless -q), then one line of timings on stderr: compile (ms), instantiate
 * (us), first call and the median of REPEAT calls (us). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "support/os.h"
#include "validate/validate.h"

/* ---- a small kernel: blocks in a host array, offsets from 1 ---------------------------------- */

typedef struct {
    uint8_t *mem;
    uint64_t size, used;
    uint64_t *len_of; /* length of the block at each offset (sparse, by offset) */
    uint64_t input_off, input_len, output_off, output_len, error_off;
} kernel_t;

static kernel_t K;

static uint64_t k_alloc(uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t at = (K.used + 7) & ~(uint64_t)7;
    if (at + n > K.size) {
        uint64_t size = K.size ? K.size : 1 << 20;
        while (at + n > size)
            size *= 2;
        K.mem = realloc(K.mem, size);
        K.len_of = realloc(K.len_of, size / 8 * sizeof(uint64_t));
        memset(K.len_of + K.size / 8, 0, (size - K.size) / 8 * sizeof(uint64_t));
        K.size = size;
    }
    K.used = at + n;
    K.len_of[at / 8] = n;
    return at + 8; /* never 0 */
}

static bool k_in(uint64_t off, uint64_t n)
{
    return off >= 8 && off - 8 <= K.used && n <= K.used - (off - 8);
}

#define SLOT_R(i) slots[i]
#define PARAM(nr, i) slots[(nr) + (i)]

static exn_trap_t h_alloc(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    slots[0] = k_alloc(PARAM(1, 0));
    return NULL;
}
static exn_trap_t h_free(const exn_caller_t *c, uint64_t *slots)
{
    (void)c, (void)slots;
    return NULL;
}
static exn_trap_t h_length(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    uint64_t off = PARAM(1, 0);
    slots[0] = (off >= 8 && (off - 8) % 8 == 0 && off - 8 < K.size) ? K.len_of[(off - 8) / 8] : 0;
    return NULL;
}
static exn_trap_t h_load_u8(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    uint64_t off = PARAM(1, 0);
    slots[0] = k_in(off, 1) ? K.mem[off - 8] : 0;
    return NULL;
}
static exn_trap_t h_load_u64(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    uint64_t off = PARAM(1, 0), v = 0;
    if (k_in(off, 8))
        memcpy(&v, K.mem + off - 8, 8);
    slots[0] = v;
    return NULL;
}
static exn_trap_t h_store_u8(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    uint64_t off = PARAM(0, 0);
    if (k_in(off, 1))
        K.mem[off - 8] = (uint8_t)PARAM(0, 1);
    return NULL;
}
static exn_trap_t h_store_u64(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    uint64_t off = PARAM(0, 0), v = PARAM(0, 1);
    if (k_in(off, 8))
        memcpy(K.mem + off - 8, &v, 8);
    return NULL;
}
static exn_trap_t h_input_length(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    slots[0] = K.input_len;
    return NULL;
}
static exn_trap_t h_input_offset(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    slots[0] = K.input_off;
    return NULL;
}
static exn_trap_t h_input_load_u8(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    uint64_t i = PARAM(1, 0);
    slots[0] = i < K.input_len ? K.mem[K.input_off - 8 + i] : 0;
    return NULL;
}
static exn_trap_t h_input_load_u64(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    uint64_t i = PARAM(1, 0), v = 0;
    if (i + 8 <= K.input_len)
        memcpy(&v, K.mem + K.input_off - 8 + i, 8);
    slots[0] = v;
    return NULL;
}
static exn_trap_t h_output_set(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    K.output_off = PARAM(0, 0);
    K.output_len = PARAM(0, 1);
    return NULL;
}
static exn_trap_t h_error_set(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    K.error_off = PARAM(0, 0);
    return NULL;
}
static exn_trap_t h_zero(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    slots[0] = 0;
    return NULL;
}
static exn_trap_t h_nothing(const exn_caller_t *c, uint64_t *slots)
{
    (void)c, (void)slots;
    return NULL;
}
static exn_trap_t h_reflect(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    slots[0] = PARAM(1, 0);
    return NULL;
}

/* WASI stubs: fd_write to stderr (iovecs in guest memory), the rest succeed with nothing */
static exn_trap_t w_fd_write(const exn_caller_t *c, uint64_t *slots)
{
    uint64_t size;
    uint8_t *m = exn_instance_memory(c->instance, &size);
    uint32_t iovs = (uint32_t)PARAM(1, 1), n = (uint32_t)PARAM(1, 2), out = (uint32_t)PARAM(1, 3);
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p, l;
        if ((uint64_t)iovs + 8 * i + 8 > size)
            break;
        memcpy(&p, m + iovs + 8 * i, 4);
        memcpy(&l, m + iovs + 8 * i + 4, 4);
        if ((uint64_t)p + l <= size)
            fwrite(m + p, 1, l, stderr);
        total += l;
    }
    if ((uint64_t)out + 4 <= size)
        memcpy(m + out, &total, 4);
    slots[0] = 0;
    return NULL;
}
static const char exit_trap[] = "[wasi] proc_exit";
static exn_trap_t w_proc_exit(const exn_caller_t *c, uint64_t *slots)
{
    (void)c, (void)slots;
    return exit_trap;
}
static exn_trap_t w_sizes_get(const exn_caller_t *c, uint64_t *slots)
{
    uint64_t size;
    uint8_t *m = exn_instance_memory(c->instance, &size);
    uint32_t a = (uint32_t)PARAM(1, 0), b = (uint32_t)PARAM(1, 1), z = 0;
    if ((uint64_t)a + 4 <= size)
        memcpy(m + a, &z, 4);
    if ((uint64_t)b + 4 <= size)
        memcpy(m + b, &z, 4);
    slots[0] = 0;
    return NULL;
}
static exn_trap_t w_clock(const exn_caller_t *c, uint64_t *slots)
{
    uint64_t size;
    uint8_t *m = exn_instance_memory(c->instance, &size);
    uint32_t out = (uint32_t)PARAM(1, 2);
    uint64_t t = exn_os_monotonic_ns();
    if ((uint64_t)out + 8 <= size)
        memcpy(m + out, &t, 8);
    slots[0] = 0;
    return NULL;
}
static exn_trap_t w_random(const exn_caller_t *c, uint64_t *slots)
{
    uint64_t size;
    uint8_t *m = exn_instance_memory(c->instance, &size);
    uint32_t p = (uint32_t)PARAM(1, 0), n = (uint32_t)PARAM(1, 1);
    if ((uint64_t)p + n <= size)
        memset(m + p, 0x5A, n);
    slots[0] = 0;
    return NULL;
}
static exn_trap_t w_errno_nosys(const exn_caller_t *c, uint64_t *slots)
{
    (void)c;
    slots[0] = 52; /* ENOSYS */
    return NULL;
}

typedef struct {
    const char *module, *name;
    exn_hostcall_fn fn;
} hostdef_t;

static const hostdef_t HOST[] = {
    {"extism:host/env", "alloc", h_alloc},
    {"extism:host/env", "free", h_free},
    {"extism:host/env", "length", h_length},
    {"extism:host/env", "length_unsafe", h_length},
    {"extism:host/env", "load_u8", h_load_u8},
    {"extism:host/env", "load_u64", h_load_u64},
    {"extism:host/env", "store_u8", h_store_u8},
    {"extism:host/env", "store_u64", h_store_u64},
    {"extism:host/env", "input_length", h_input_length},
    {"extism:host/env", "input_offset", h_input_offset},
    {"extism:host/env", "input_load_u8", h_input_load_u8},
    {"extism:host/env", "input_load_u64", h_input_load_u64},
    {"extism:host/env", "output_set", h_output_set},
    {"extism:host/env", "error_set", h_error_set},
    {"extism:host/env", "config_get", h_zero},
    {"extism:host/env", "var_get", h_zero},
    {"extism:host/env", "var_set", h_nothing},
    {"extism:host/env", "log_info", h_nothing},
    {"extism:host/env", "log_debug", h_nothing},
    {"extism:host/env", "log_warn", h_nothing},
    {"extism:host/env", "log_error", h_nothing},
    {"extism:host/env", "log_trace", h_nothing},
    {"extism:host/env", "get_log_level", h_zero},
    {"extism:host/env", "http_request", h_zero},
    {"extism:host/env", "http_status_code", h_zero},
    {"extism:host/user", "host_reflect", h_reflect},
    {"extism:host/user", "hello_world", h_reflect},
    {"wasi_snapshot_preview1", "fd_write", w_fd_write},
    {"wasi_snapshot_preview1", "proc_exit", w_proc_exit},
    {"wasi_snapshot_preview1", "environ_sizes_get", w_sizes_get},
    {"wasi_snapshot_preview1", "args_sizes_get", w_sizes_get},
    {"wasi_snapshot_preview1", "environ_get", h_zero},
    {"wasi_snapshot_preview1", "args_get", h_zero},
    {"wasi_snapshot_preview1", "clock_time_get", w_clock},
    {"wasi_snapshot_preview1", "random_get", w_random},
};

static double now_us(void)
{
    return (double)exn_os_monotonic_ns() / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: native_run PLUGIN.wasm FUNC [-i FILE | -s TEXT] [-n N] [-q]\n");
        return 2;
    }
    const char *input_file = NULL, *input_text = "";
    int repeat = 1;
    bool quiet = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
            input_file = argv[++i];
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            input_text = argv[++i];
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "-q") == 0)
            quiet = true;
    }
    uint8_t *wasm, *input = (uint8_t *)input_text;
    size_t len, input_len = strlen(input_text);
    char err[1024];
    if (exn_os_read_file(argv[1], &wasm, &len, err, sizeof err) != EXN_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (input_file && exn_os_read_file(input_file, &input, &input_len, err, sizeof err) != EXN_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    exn_module_info_t info;
    if (exn_validate_module(wasm, len, &info, err, sizeof err) != EXN_OK) {
        fprintf(stderr, "invalid: %s\n", err);
        return 1;
    }
    const exn_engine_t *E = &exn_engine_native;
    exn_code_t *code;
    double t0 = now_us();
    exn_status_t st = E->compile(&info, wasm, len, &code, err, sizeof err);
    double t1 = now_us();
    if (st != EXN_OK) {
        fprintf(stderr, "compile: %d %s\n", st, err);
        return 1;
    }
    exn_import_value_t *imports = calloc(info.n_imports + 1, sizeof *imports);
    for (uint32_t i = 0; i < info.n_imports; i++) {
        const exn_import_t *im = &info.imports[i];
        for (size_t h = 0; h < sizeof HOST / sizeof HOST[0]; h++) {
            if (strcmp(HOST[h].module, im->module) == 0 && strcmp(HOST[h].name, im->name) == 0)
                imports[i].fn = HOST[h].fn;
        }
        if (!imports[i].fn) {
            imports[i].fn = w_errno_nosys; /* unknown WASI call: ENOSYS-like 52 */
            if (strcmp(im->module, "wasi_snapshot_preview1") != 0) {
                fprintf(stderr, "unresolved import %s::%s\n", im->module, im->name);
                return 1;
            }
        }
        imports[i].kind = EXN_EXTERN_FUNC;
    }
    volatile uint32_t interrupt = 0;
    exn_instance_config_t cfg = {imports, info.n_imports, (uint64_t)1 << 32, &interrupt, 0, NULL};
    exn_instance_t *inst;
    double t2 = now_us();
    st = E->instantiate(code, &cfg, &inst, err, sizeof err);
    double t3 = now_us();
    if (st != EXN_OK) {
        fprintf(stderr, "instantiate: %d %s\n", st, err);
        return 1;
    }
    volatile char here = 0;
    E->set_stack_limit(inst, (uintptr_t)&here - (4u << 20) + (256u << 10));
    uint64_t slots[4] = {0};
    const exn_export_t *ini = exn_module_export(&info, "_initialize", EXN_EXTERN_FUNC);
    if (ini) {
        exn_trap_t t = E->call(inst, ini->index, slots);
        if (t) {
            fprintf(stderr, "_initialize: %s\n", t);
            return 1;
        }
    }
    const exn_export_t *ex = exn_module_export(&info, argv[2], EXN_EXTERN_FUNC);
    if (!ex) {
        fprintf(stderr, "no export %s\n", argv[2]);
        return 1;
    }
    double *times = calloc((size_t)repeat + 1, sizeof *times);
    double first = 0;
    exn_trap_t trap = NULL;
    for (int r = 0; r <= repeat; r++) {
        K.used = 0;
        K.input_off = k_alloc(input_len ? input_len : 1);
        memcpy(K.mem + K.input_off - 8, input, input_len);
        K.input_len = input_len;
        K.output_len = 0;
        slots[0] = 0;
        double a = now_us();
        trap = E->call(inst, ex->index, slots);
        double b = now_us();
        if (r == 0)
            first = b - a;
        else
            times[r - 1] = b - a;
        if (trap)
            break;
    }
    if (trap) {
        exn_frame_t fr[4];
        size_t nf = E->backtrace(inst, fr, 4);
        fprintf(stderr, "trap: %s (in function %d)\n", trap, nf ? (int)fr[0].func : -1);
        if (trap != exit_trap)
            return 3;
    }
    if (!quiet && K.output_len && k_in(K.output_off, K.output_len)) {
        fwrite(K.mem + K.output_off - 8, 1, K.output_len, stdout);
        fputc('\n', stdout);
    }
    qsort(times, (size_t)repeat, sizeof *times, cmp_double);
    fprintf(stderr, "compile %.1f ms, instantiate %.1f us, first call %.1f us, median %.1f us "
                    "(%d), result %llu\n",
            (t1 - t0) / 1e3, t3 - t2, first, repeat ? times[repeat / 2] : 0.0, repeat,
            (unsigned long long)slots[0]);
    E->instance_free(inst);
    E->code_free(code);
    exn_module_info_free(&info);
    free(imports);
    free(times);
    free(wasm);
    return 0;
}
