/* test_native.c: the compiled tier through engine.h (ctest `native`): traps and their constant
 * messages, bounds (guard pages and explicit checks), memory.grow limits, call_indirect, stack
 * exhaustion (also of tail recursion), interrupts from another thread, host functions that call
 * another instance, and the cache: entries that are corrupted, truncated, foreign-owned,
 * writable by others or of another format are rebuilt and never loaded (a planted library whose
 * constructor writes a marker file proves it was not loaded); the line table of the trap
 * offsets, and its decoder on damaged libraries.
 *
 * Needs a C compiler (the tier's own); without one it says why and exits 77 (skipped).
 * `test_native --probe` only tells whether the tier is available (0) or not (77). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>

#include "engine/engine.h"
#include "engine/native/cache.h"
#include "engine/native/lines.h"
#include "engine/native/native.h"
#include "support/os.h"
#include "validate/validate.h"

static const exn_engine_t *E = &exn_engine_native;
static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

typedef struct {
    uint8_t *wasm;
    size_t len;
    exn_module_info_t info;
    exn_code_t *code;
} module_t;

typedef struct {
    exn_instance_t *inst;
    exn_import_value_t imports[1];
    volatile uint32_t interrupt;
    module_t *m;
} inst_t;

static uintptr_t stack_limit;

static bool load(module_t *m, const char *file)
{
    char path[1024], err[512];
    exn_fmt(path, sizeof path, "%s/%s", EXN_TEST_PLUGINS, file);
    memset(m, 0, sizeof *m);
    if (exn_os_read_file(path, &m->wasm, &m->len, err, sizeof err) != EXN_OK ||
        exn_validate_module(m->wasm, m->len, &m->info, err, sizeof err) != EXN_OK) {
        fprintf(stderr, "%s: %s\n", file, err);
        return false;
    }
    return true;
}

static exn_status_t compile(module_t *m, char *err, size_t err_len)
{
    return E->compile(&m->info, m->wasm, m->len, &m->code, err, err_len);
}

static void unload(module_t *m)
{
    if (m->code)
        E->code_free(m->code);
    exn_module_info_free(&m->info);
    exn_free(m->wasm);
    memset(m, 0, sizeof *m);
}

static uint32_t export_index(module_t *m, const char *name)
{
    const exn_export_t *e = exn_module_export(&m->info, name, EXN_EXTERN_FUNC);
    if (!e) {
        fprintf(stderr, "no export %s\n", name);
        exit(1);
    }
    return e->index;
}

/* ---- the host function: calls the instance named by its environment ------------------------- */

static inst_t *other;          /* the instance the callback calls into */
static const char *other_func; /* and which of its exports: (i32) -> i32 or () */

static exn_trap_t callback(const exn_caller_t *caller, uint64_t *slots)
{
    (void)caller;
    uint32_t arg = (uint32_t)slots[1];
    if (!other) {
        slots[0] = 0;
        return NULL;
    }
    uint64_t s[2] = {arg, 5};
    E->set_stack_limit(other->inst, stack_limit);
    exn_trap_t t = E->call(other->inst, export_index(other->m, other_func), s);
    if (t)
        return t; /* the other instance's trap, passed up unchanged */
    slots[0] = (uint32_t)s[0];
    return NULL;
}

static bool instantiate(module_t *m, inst_t *in, uint64_t max_bytes)
{
    char err[512];
    memset(in, 0, sizeof *in);
    in->m = m;
    in->imports[0].kind = EXN_EXTERN_FUNC;
    in->imports[0].fn = callback;
    exn_instance_config_t cfg = {in->imports, 1, max_bytes, &in->interrupt, 0, NULL};
    if (E->instantiate(m->code, &cfg, &in->inst, err, sizeof err) != EXN_OK) {
        fprintf(stderr, "instantiate: %s\n", err);
        return false;
    }
    E->set_stack_limit(in->inst, stack_limit);
    return true;
}

/* Call export `name` with up to three i32/f32 arguments; the trap, result in *out. */
static exn_trap_t call3(inst_t *in, const char *name, uint64_t a, uint64_t b, uint64_t c,
                        uint64_t *out)
{
    uint64_t s[3] = {a, b, c};
    exn_trap_t t = E->call(in->inst, export_index(in->m, name), s);
    if (out)
        *out = s[0];
    return t;
}

static exn_trap_t call1(inst_t *in, const char *name, uint64_t a, uint64_t *out)
{
    return call3(in, name, a, 0, 0, out);
}

static uint64_t f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static void *interrupt_later(void *arg)
{
    inst_t *in = arg;
    usleep(50 * 1000);
    exn_atomic_store_u32((volatile uint32_t *)&in->interrupt, 1);
    return NULL;
}

/* Everything that runs guest code, in the current bounds mode. */
static void test_behaviour(const char *mode)
{
    module_t m;
    char err[512];
    fprintf(stderr, "-- behaviour (%s)\n", mode);
    if (!load(&m, "native_engine.wasm"))
        exit(1);
    exn_status_t st = compile(&m, err, sizeof err);
    if (st != EXN_OK) {
        fprintf(stderr, "compile: %s\n", err);
        exit(st == EXN_ERR_UNSUPPORTED ? 77 : 1);
    }
    inst_t a, b;
    CHECK(instantiate(&m, &a, (uint64_t)1 << 32));
    CHECK(instantiate(&m, &b, 2 * 65536)); /* b may not grow past 2 pages */
    uint64_t r = 0;

    /* traps: the very constants of engine.h, and where */
    CHECK(call1(&a, "unreachable", 0, NULL) == exn_trap_unreachable);
    exn_frame_t fr[4];
    CHECK(E->backtrace(a.inst, fr, 4) == 1 && fr[0].func == export_index(&m, "unreachable"));
    CHECK(call1(&a, "div0", 0, NULL) == exn_trap_div_zero);
    CHECK(call1(&a, "div0", 1, &r) == NULL && (uint32_t)r == 1);
    CHECK(E->backtrace(a.inst, fr, 4) == 0); /* no trap: no frames */
    CHECK(call1(&a, "overflow", 0xFFFFFFFFu, NULL) == exn_trap_int_overflow);
    CHECK(call1(&a, "overflow", 2, &r) == NULL && (uint32_t)r == 0xC0000000u);
    CHECK(call1(&a, "conversion", f32_bits(0.0f / 0.0f), NULL) == exn_trap_conversion);
    CHECK(call1(&a, "conversion", f32_bits(3e9f), NULL) == exn_trap_int_overflow);
    CHECK(call1(&a, "conversion", f32_bits(-5.5f), &r) == NULL && (uint32_t)r == (uint32_t)-5);

    /* bounds: the last word of the page, one byte past, the top of the address space, and an
     * address + offset past 4 GiB */
    CHECK(call1(&a, "store", 65532, NULL) == NULL);
    CHECK(call1(&a, "load", 65532, &r) == NULL && (uint32_t)r == 0x01020304);
    CHECK(call1(&a, "load", 65533, NULL) == exn_trap_memory_oob);
    CHECK(call1(&a, "store", 65536, NULL) == exn_trap_memory_oob);
    /* the innermost frame of a memory trap (under guard pages: found from the fault's address) */
    CHECK(E->backtrace(a.inst, fr, 4) == 1 && fr[0].func == export_index(&m, "store"));
    CHECK(call1(&a, "load", 0xFFFFFFFFu, NULL) == exn_trap_memory_oob);
    CHECK(call1(&a, "load_far", 0x20, NULL) == exn_trap_memory_oob);
    CHECK(call1(&a, "load", 0, &r) == NULL); /* still usable after the fault */
    CHECK(call3(&a, "fill", 65530, 1, 10, NULL) == exn_trap_memory_oob);
    CHECK(call3(&a, "fill", 16, 0x5A, 4, NULL) == NULL);
    uint64_t size = 0;
    uint8_t *mem = E->memory(a.inst, &size);
    CHECK(mem && size == 65536 && mem[16] == 0x5A && mem[19] == 0x5A && mem[20] == 0);

    /* memory.grow: the module's maximum (4 pages) and the host's (2 pages for b) */
    CHECK(call1(&a, "grow", 1, &r) == NULL && (uint32_t)r == 1);
    CHECK(call1(&a, "store", 65536, NULL) == NULL);
    CHECK(call1(&a, "size", 0, &r) == NULL && (uint32_t)r == 2);
    CHECK(call1(&a, "grow", 3, &r) == NULL && (uint32_t)r == 0xFFFFFFFFu);
    CHECK(call1(&a, "grow", 2, &r) == NULL && (uint32_t)r == 2);
    CHECK(call1(&a, "load", 4 * 65536 - 4, NULL) == NULL);
    CHECK(call1(&a, "load", 4 * 65536 - 3, NULL) == exn_trap_memory_oob);
    CHECK(call1(&b, "grow", 2, &r) == NULL && (uint32_t)r == 0xFFFFFFFFu);
    CHECK(call1(&b, "grow", 1, &r) == NULL && (uint32_t)r == 1);
    CHECK(call1(&b, "load", 65536, &r) == NULL && (uint32_t)r == 0); /* b's own memory */

    /* call_indirect */
    CHECK(call1(&a, "indirect", 0, &r) == NULL && (uint32_t)r == 7);
    CHECK(call1(&a, "indirect", 1, NULL) == exn_trap_indirect_type);
    CHECK(call1(&a, "indirect", 2, NULL) == exn_trap_null_element);
    CHECK(call1(&a, "indirect", 4, NULL) == exn_trap_undefined_element);

    /* stack exhaustion is a trap, also for a tail call, and the instance lives on */
    CHECK(call1(&a, "recurse", 0, NULL) == exn_trap_stack_overflow);
    CHECK(E->backtrace(a.inst, fr, 4) == 4 && fr[0].func == export_index(&m, "recurse") &&
          fr[3].func == export_index(&m, "recurse"));
    CHECK(call1(&a, "tail", 0, NULL) == exn_trap_stack_overflow);
    CHECK(call3(&a, "add", 2, 3, 0, &r) == NULL && (uint32_t)r == 5);

    /* an interrupt from another thread stops a loop without calls */
    pthread_t th;
    pthread_create(&th, NULL, interrupt_later, &a);
    CHECK(call1(&a, "forever", 0, NULL) == exn_trap_interrupted);
    pthread_join(th, NULL);
    uint64_t counter = 0;
    const exn_export_t *g = exn_module_export(&m.info, "counter", EXN_EXTERN_GLOBAL);
    E->global_get(a.inst, g->index, &counter);
    CHECK((uint32_t)counter > 1000); /* it ran, and globals are visible */
    a.interrupt = 0;

    /* a host function calling another instance: its result, then its trap passed up as the
     * caller's own; the caller's state survives both */
    other = &b;
    other_func = "add";
    CHECK(call1(&a, "callback", 10, &r) == NULL && (uint32_t)r == 1015);
    other_func = "unreachable";
    CHECK(call1(&a, "callback", 10, NULL) == exn_trap_unreachable);
    /* a's frames: the function that called the import (the stub is no frame) */
    CHECK(E->backtrace(a.inst, fr, 4) == 1 && fr[0].func == export_index(&m, "callback"));
    CHECK(E->backtrace(b.inst, fr, 4) == 1 && fr[0].func == export_index(&m, "unreachable"));
    other_func = "recurse"; /* the nested call exhausts the stack */
    CHECK(call1(&a, "callback", 10, NULL) == exn_trap_stack_overflow);
    other = NULL;
    CHECK(call1(&a, "callback", 10, &r) == NULL && (uint32_t)r == 1000);
    CHECK(call1(&a, "load", 65532, &r) == NULL && (uint32_t)r == 0x01020304);

    E->instance_free(a.inst);
    E->instance_free(b.inst);
    unload(&m);
}

/* ---- the cache -------------------------------------------------------------------------------- */

static char tmp_root[512], cache_dir[600], marker[700];

/* The one entry's key (the cache holds one module here). */
static bool entry_key(char *key, size_t key_len)
{
    char cmd[700];
    exn_fmt(cmd, sizeof cmd, "ls %s | grep '\\.so$' | head -1", cache_dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    bool ok = fgets(key, (int)key_len, p) != NULL;
    pclose(p);
    char *dot = ok ? strstr(key, ".so") : NULL;
    if (dot)
        *dot = 0;
    return ok && dot;
}

static ino_t inode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

static int sh(const char *fmt, ...) EXN_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* Put library `lib` in place of the entry's, with a correct checksum record of format `v`. */
static int plant(const char *so, const char *sum, const char *lib, const char *v)
{
    uint8_t *data;
    size_t len;
    char err[200];
    if (exn_os_read_file(lib, &data, &len, err, sizeof err) != EXN_OK)
        return -1;
    FILE *f = fopen(so, "wb");
    FILE *g = fopen(sum, "w");
    int rc = f && g && fwrite(data, 1, len, f) == len ? 0 : -1;
    if (g)
        fprintf(g, "extism_native compiled module %s\nsize %zu\nsum %016llx\n", v, len,
                (unsigned long long)exn_ncache_checksum(data, len));
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    exn_free(data);
    return rc;
}

/* Compile the module again and check it runs; returns whether the library was rebuilt. */
static bool recompile_runs(const char *so, bool *rebuilt)
{
    ino_t before = inode_of(so);
    module_t m;
    char err[512];
    if (!load(&m, "native_engine.wasm"))
        return false;
    exn_status_t st = compile(&m, err, sizeof err);
    if (st != EXN_OK) {
        fprintf(stderr, "compile: %s\n", err);
        unload(&m);
        return false;
    }
    inst_t in;
    bool ok = instantiate(&m, &in, (uint64_t)1 << 32);
    uint64_t r = 0;
    ok = ok && call3(&in, "add", 40, 2, 0, &r) == NULL && (uint32_t)r == 42;
    if (in.inst)
        E->instance_free(in.inst);
    unload(&m);
    *rebuilt = inode_of(so) != before;
    return ok;
}

static void test_cache(void)
{
    fprintf(stderr, "-- cache\n");
    char so[700], sum[700], key[200], evil_src[700], evil[700];
    bool rebuilt;
    exn_fmt(evil_src, sizeof evil_src, "%s/evil.c", tmp_root);
    exn_fmt(evil, sizeof evil, "%s/evil.so", tmp_root);
    FILE *f = fopen(evil_src, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(f,
            "#include <stdio.h>\n__attribute__((constructor)) static void loaded(void) {\n"
            "  FILE *f = fopen(\"%s\", \"w\"); if (f) fclose(f); }\n",
            marker);
    fclose(f);
    CHECK(sh("cc -shared -fPIC -o %s %s", evil, evil_src) == 0);
    remove(evil_src);

    /* first compile fills the cache; the second loads that entry without rebuilding it */
    CHECK(recompile_runs("/nonexistent", &rebuilt));
    CHECK(entry_key(key, sizeof key));
    exn_fmt(so, sizeof so, "%s/%s.so", cache_dir, key);
    exn_fmt(sum, sizeof sum, "%s/%s.sum", cache_dir, key);
    CHECK(recompile_runs(so, &rebuilt) && !rebuilt);

    /* the cached-only lookup finds it; with no entry it says so and builds nothing */
    module_t m;
    char err[512];
    exn_code_t *code = NULL;
    CHECK(load(&m, "native_engine.wasm"));
    CHECK(exn_native_compile(&m.info, m.wasm, m.len, EXN_NATIVE_CACHED_ONLY, &code, err,
                             sizeof err) == EXN_OK);
    if (code)
        E->code_free(code);
    code = NULL;
    sh("mv %s %s.away", so, so);
    CHECK(exn_native_compile(&m.info, m.wasm, m.len, EXN_NATIVE_CACHED_ONLY, &code, err,
                             sizeof err) == EXN_ERR_NOT_FOUND &&
          !code);
    sh("mv %s.away %s", so, so);
    unload(&m);

    /* each case damages the entry; the next compile must not load it, and must rebuild it */
    static const char *const cases[] = {
        "corrupted",      /* one byte changed: the checksum differs */
        "truncated",      /* the size differs */
        "foreign owner",  /* a planted library with a correct checksum, owned by someone else */
        "group-writable", /* the same, writable by the group */
        "other format",   /* the same, with a checksum record of another version */
        "no checksum",    /* the same, without its record */
        "symlink",        /* the same, reached through a symbolic link */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        remove(marker);
        int rc = 0;
        switch (i) {
        case 0:
            rc = sh("printf '\\377' | dd of=%s bs=1 seek=4000 conv=notrunc status=none", so);
            break;
        case 1: rc = sh("head -c 1000 %s > %s.t && mv %s.t %s", so, so, so, so); break;
        default:
            rc = plant(so, sum, evil, i == 4 ? "v0" : "v1");
            if (i == 2)
                rc |= sh("chown 65534 %s", so);
            else if (i == 3)
                rc |= sh("chmod g+w %s", so);
            else if (i == 5)
                rc |= sh("rm %s", sum);
            else if (i == 6)
                rc |= sh("mv %s %s.real && ln -s %s.real %s", so, so, so, so);
            break;
        }
        CHECK(rc == 0);
        bool ok = recompile_runs(so, &rebuilt);
        if (!ok || !rebuilt || access(marker, F_OK) == 0)
            fprintf(stderr, "cache case '%s': runs %d, rebuilt %d, planted library loaded %d\n",
                    cases[i], ok, rebuilt, access(marker, F_OK) == 0);
        CHECK(ok && rebuilt);
        CHECK(access(marker, F_OK) != 0);
        sh("rm -f %s.real", so);
    }

    /* a cache directory others may write to is not used at all (built in a temporary one) */
    remove(marker);
    sh("cp %s %s && chmod 0770 %s", evil, so, cache_dir);
    CHECK(recompile_runs(so, &rebuilt) && !rebuilt);
    CHECK(access(marker, F_OK) != 0);
    sh("chmod 0700 %s", cache_dir);
    remove(evil);
}

/* The line table (lines.h): the cache keeps the library without debug sections (no table in
 * it) and its table as `<key>.lines`; a library built here with `#line`s as translate.c writes
 * them decodes to their offsets, and truncated at many lengths and with bytes changed all
 * through it gives a valid table or none, never a read outside the file (the sanitizer build
 * checks) */
static void test_lines(void)
{
    fprintf(stderr, "-- line tables\n");
    char key[200], so[700], err[200], src[700], dbg[700];
    CHECK(entry_key(key, sizeof key));
    exn_fmt(so, sizeof so, "%s/%s.so", cache_dir, key);
    uint8_t *elf = NULL, *side = NULL;
    size_t len = 0, side_len = 0;
    exn_nline_t *t = NULL;
    uint32_t n = 0;
    CHECK(exn_os_read_file(so, &elf, &len, err, sizeof err) == EXN_OK);
    CHECK(elf && exn_nlines_from_elf(elf, len, &t, &n) == -1 && !t); /* (stripped) */
    CHECK(exn_ncache_side_load(cache_dir, key, "lines", &side, &side_len) == 0 && side_len > 0 &&
          side_len % sizeof *t == 0 &&
          exn_nlines_valid((const exn_nline_t *)(void *)side, (uint32_t)(side_len / sizeof *t)));
    exn_free(side);
    exn_free(elf);

    exn_fmt(src, sizeof src, "%s/lines.c", tmp_root);
    exn_fmt(dbg, sizeof dbg, "%s/lines.so", tmp_root);
    FILE *f = fopen(src, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(f, "#line 1 \"p\"\nint f1(volatile int *p, int x) {\n"
               "#line 1000 \"w\"\n  p[0] = x / p[1];\n"
               "#line 1007 \"w\"\n  p[2] = x %% p[3];\n"
               "#line 1 \"p\"\n  return p[4];\n}\n");
    fclose(f);
    CHECK(sh("cc -O2 -fPIC -g1 -gdwarf-4 -shared -o %s %s", dbg, src) == 0);
    elf = NULL;
    CHECK(exn_os_read_file(dbg, &elf, &len, err, sizeof err) == EXN_OK);
    CHECK(elf && exn_nlines_from_elf(elf, len, &t, &n) == 0 && n > 1 && exn_nlines_valid(t, n));
    bool has[3] = {false, false, false};
    for (uint32_t i = 0; t && i < n; i++) {
        has[0] |= t[i].offset == 1000;
        has[1] |= t[i].offset == 1007;
        has[2] |= t[i].offset != 1000 && t[i].offset != 1007 && t[i].offset != EXN_NLINE_NONE;
    }
    CHECK(has[0] && has[1] && !has[2]); /* (only "w" lines, none of "p") */
    /* lookups: before the first entry none; inside a run, the run's offset */
    if (t && n > 1) {
        CHECK(t[0].addr == 0 || exn_nlines_find(t, n, t[0].addr - 1) == EXN_NLINE_NONE);
        CHECK(exn_nlines_find(t, n, t[1].addr) == t[1].offset);
        CHECK(exn_nlines_find(t, n, t[1].addr - 1) == t[0].offset);
        CHECK(exn_nlines_find(t, n, UINT64_MAX) == t[n - 1].offset);
        CHECK(exn_nlines_find(t, 0, 5) == EXN_NLINE_NONE);
    }
    exn_free(t);
    size_t step = len / 2000 + 1, made = 0, tried = 0;
    for (size_t i = 0; elf && i < len; i += step) {
        for (int k = 0; k < 3; k++) {
            static const uint8_t values[3] = {0x00, 0xFF, 0x80};
            /* exactly as long as the file (a sanitizer sees a read past it) */
            uint8_t *copy = malloc(len);
            if (!copy)
                break;
            memcpy(copy, elf, len);
            copy[i] = k == 2 ? (uint8_t)(copy[i] ^ values[k]) : values[k];
            t = NULL;
            if (exn_nlines_from_elf(copy, len, &t, &n) == 0) {
                CHECK(n > 0 && exn_nlines_valid(t, n));
                made++;
            }
            tried++;
            exn_free(t);
            free(copy);
        }
        uint8_t *cut = malloc(i ? i : 1);
        if (cut) {
            memcpy(cut, elf, i);
            t = NULL;
            if (exn_nlines_from_elf(cut, i, &t, &n) == 0)
                CHECK(n > 0 && exn_nlines_valid(t, n));
            exn_free(t);
            free(cut);
        }
    }
    CHECK(tried > 0 && made > 0);
    exn_free(elf);
    t = NULL;
    CHECK(exn_nlines_from_elf((const uint8_t *)"\x7F"
                                               "ELF",
                              4, &t, &n) == -1 &&
          !t);
    remove(src);
    remove(dbg);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--probe") == 0) { /* is the tier available? */
        char what[300];
        exn_status_t st = exn_native_probe(what, sizeof what);
        fprintf(stderr, "%s\n", what);
        return st == EXN_OK ? 0 : 77;
    }
    char tmpl[] = "/tmp/exn-native-test-XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 1;
    }
    exn_fmt(tmp_root, sizeof tmp_root, "%s", tmpl);
    exn_fmt(cache_dir, sizeof cache_dir, "%s/cache", tmpl);
    exn_fmt(marker, sizeof marker, "%s/LOADED", tmpl);
    setenv("EXTISM_NATIVE_CACHE_DIR", cache_dir, 1);
    uintptr_t low = exn_os_stack_low();
    volatile char here = 0;
    stack_limit = low > 1 ? low + 256 * 1024 : (uintptr_t)&here - (1u << 20);

    char what[300];
    if (exn_native_probe(what, sizeof what) != EXN_OK) {
        fprintf(stderr, "the compiled tier is unavailable here: %s\n", what);
        return 77;
    }
    fprintf(stderr, "compiler: %s\n", what);

#if UINTPTR_MAX > 0xFFFFFFFFu
    unsetenv("EXTISM_NATIVE_BOUNDS");
    test_behaviour("guard pages");
#endif
    setenv("EXTISM_NATIVE_BOUNDS", "checks", 1);
    test_behaviour("bounds checks");
    unsetenv("EXTISM_NATIVE_BOUNDS");
    test_lines();
    sh("rm -rf %s", cache_dir);
    if (geteuid() == 0)
        test_cache(); /* (chown needs root) */
    else
        fprintf(stderr, "-- cache: skipped the ownership cases (not root)\n");
    sh("rm -rf %s", tmpl);
    fprintf(stderr, "%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
