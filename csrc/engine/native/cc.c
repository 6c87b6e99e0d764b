/* engine/native/cc.c: the C compiler of the compiled tier (see cc.h).
 *
 * The flags: -O2 (see docs/RATIONALE.md for the measurements), -fPIC, and exact float semantics:
 * -ffp-contract=off (no fused multiply-add: wasm rounds every operation), no -ffast-math,
 * -fsignaling-nans (x - 0.0, x * 1.0, (float)(double)x must quiet a signaling NaN: not folded).
 * -fno-math-errno lets sqrt be one instruction (nothing reads errno).  The generated code never
 * reads memory through a pointer of another type (memcpy only), so strict aliasing stays on.
 * -fno-stack-protector: the generated code has no arrays written by index but the import
 * stubs' slots.  -fno-optimize-sibling-calls: a tail call made a jump would never reach the
 * stack check of its callee, and unbounded recursion must end in the stack-overflow trap.
 * -fno-omit-frame-pointer: a trap's frames are read from the chain of frame records (native.c).
 * -g1 -gdwarf-4: the line table only (debug information: the machine code is the same), which
 * maps code addresses to the wasm offsets of translate.c's `#line`s (lines.c); DWARF 4 for its
 * simpler header.  With GCC also -fno-var-tracking: -g1 would still track variables' locations
 * (QuickJS: a 22 MB library instead of 1.5 MB, and slower to build).  None of these changes the
 * code: the .text of a library is the same byte for byte with and without them.  -w: the generated code is not for people (unused labels and variables).
 * May call: cc.h, sys.h, support/os.h (the mutex). */
#include "engine/native/cc.h"

#include "engine/native/abi.h"
#include "engine/native/sys.h"
#include "support/os.h"

#define MAX_PREFIX 16
#define PATH_LEN 1024

struct exn_ncc {
    char *argv[MAX_PREFIX + 1]; /* the command, before our arguments */
    int argc;
    char name[160];
    bool gcc; /* GCC (its --version names the Free Software Foundation): -fno-var-tracking */
};

/* FLAGS[0] is replaced by the optimisation level the caller chooses (exn_ncc_opt_level); the
 * whole list is part of the cache key (exn_ncc_profile). */
static const char *FLAGS[] = {"-O2",
                              "-fPIC",
                              "-ffp-contract=off",
                              "-fsignaling-nans",
                              "-fno-math-errno",
                              "-fno-stack-protector",
                              "-fvisibility=hidden",
                              "-fno-optimize-sibling-calls",
                              "-fno-omit-frame-pointer",
                              "-g1",
                              "-gdwarf-4",
                              "-w"};
#define N_FLAGS (sizeof FLAGS / sizeof FLAGS[0])

static exn_mutex_t *probe_lock;
static int state; /* 0: not probed, 1: found, 2: none */
static exn_ncc_t found;
static char none_why[400];
static char *python_path;

/* EXTISM_NATIVE_SANITIZE=undefined (or any -fsanitize list): the generated code is built with
 * the sanitizers too, to check in tests that it has no undefined behaviour.  The host program
 * must carry the sanitizer runtime (a sanitizer build).  "" when unset or not a plain list. */
static const char *sanitize_flag(void)
{
    static EXN_THREAD_LOCAL char buf[128];
    const char *env = exn_nsys_getenv("EXTISM_NATIVE_SANITIZE");
    if (!env || !*env || strlen(env) > 80)
        return "";
    for (const char *p = env; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || *p == ',' || *p == '-'))
            return "";
    }
    exn_fmt(buf, sizeof buf, "-fsanitize=%s", env);
    return buf;
}

const char *exn_ncc_opt_level(uint64_t code_bytes, uint32_t n_funcs)
{
    static const char *const allowed[] = {"-O0", "-O1", "-O2", "-O3", "-Os"};
    const char *env = exn_nsys_getenv("EXTISM_NATIVE_OPT");
    for (size_t i = 0; env && i < sizeof allowed / sizeof allowed[0]; i++) {
        if (strcmp(env, allowed[i]) == 0)
            return allowed[i];
    }
    /* -O1 runs the real plugins within a few percent of -O2 (docs/RATIONALE.md) and compiles
     * in 60% of its time, which is what counts for large modules; small ones take -O2.  Each
     * function counts for 128 bytes more: gcc's time at -O2 grows faster than the number of
     * functions (100,000 empty ones, 200 KB of code, took more than 10 minutes) */
    return code_bytes + (uint64_t)n_funcs * 128 <= EXN_NCC_O2_MAX_CODE ? "-O2" : "-O1";
}

void exn_ncc_profile(const char *opt, char *buf, size_t buf_len)
{
    size_t n = 0;
    if (buf_len)
        buf[0] = 0;
    for (size_t i = 0; i <= N_FLAGS; i++) {
        const char *f = i == 0 ? opt : i < N_FLAGS ? FLAGS[i] : sanitize_flag();
        size_t l = strlen(f);
        if (n + l + 2 >= buf_len)
            break;
        memcpy(buf + n, f, l);
        n += l;
        buf[n++] = ' ';
        buf[n] = 0;
    }
}

uint32_t exn_ncc_cpus(void)
{
    return exn_nsys_cpus();
}

void exn_ncc_set_python(const char *path)
{
    char *copy = path ? exn_strndup(path, strlen(path)) : NULL;
    exn_os_global_lock();
    exn_free(python_path);
    python_path = copy;
    exn_os_global_unlock();
}

static void free_prefix(exn_ncc_t *cc)
{
    for (int i = 0; i < cc->argc; i++)
        exn_free(cc->argv[i]);
    memset(cc, 0, sizeof *cc);
}

static bool add_arg(exn_ncc_t *cc, const char *s, size_t n)
{
    if (cc->argc >= MAX_PREFIX)
        return false;
    char *a = exn_strndup(s, n);
    if (!a)
        return false;
    cc->argv[cc->argc++] = a;
    cc->argv[cc->argc] = NULL;
    return true;
}

/* Split a command at spaces into cc's prefix. */
static bool set_command(exn_ncc_t *cc, const char *cmd)
{
    free_prefix(cc);
    const char *p = cmd;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (p > start && !add_arg(cc, start, (size_t)(p - start)))
            return false;
    }
    return cc->argc > 0;
}

/* Run the prefix with extra arguments, capturing stdout. */
static int run_capture(const exn_ncc_t *cc, const char *a1, const char *a2, char *out,
                       size_t out_len)
{
    char *argv[MAX_PREFIX + 3];
    int n = 0;
    for (int i = 0; i < cc->argc; i++)
        argv[n++] = cc->argv[i];
    if (a1)
        argv[n++] = (char *)a1;
    if (a2)
        argv[n++] = (char *)a2;
    argv[n] = NULL;
    return exn_nsys_capture(argv, out, out_len);
}

/* Ask the candidate for its version and target; true if it answers like a C compiler. */
static bool probe(exn_ncc_t *cc)
{
    char version[2048], machine[256];
    char path[PATH_LEN];
    if (exn_nsys_which(cc->argv[0], path, sizeof path) != 0)
        return false;
    if (run_capture(cc, "--version", NULL, version, sizeof version) != 0 || !version[0])
        return false;
    if (run_capture(cc, "-dumpmachine", NULL, machine, sizeof machine) != 0 || !machine[0])
        return false;
    size_t line = strcspn(version, "\r\n");
    exn_fmt(cc->name, sizeof cc->name, "%.*s", (int)line, version);
    cc->gcc = strstr(version, "Free Software Foundation") != NULL;
    return true;
}

static void find(void)
{
    const char *env = exn_nsys_getenv("EXTISM_NATIVE_CC");
    if (env && *env) {
        if (set_command(&found, env) && probe(&found)) {
            state = 1;
            return;
        }
        free_prefix(&found);
        exn_fmt(none_why, sizeof none_why,
                "EXTISM_NATIVE_CC=%s does not run as a C compiler (--version, -dumpmachine)", env);
        state = 2;
        return;
    }
    static const char *const names[] = {"cc", "gcc", "clang"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (set_command(&found, names[i]) && probe(&found)) {
            state = 1;
            return;
        }
    }
    /* the ziglang package (pip install ziglang): a whole clang toolchain in a wheel */
    char py[PATH_LEN] = "";
    exn_os_global_lock();
    if (python_path)
        exn_fmt(py, sizeof py, "%s", python_path);
    exn_os_global_unlock();
    if (!py[0] && exn_nsys_which("python3", py, sizeof py) != 0)
        py[0] = 0;
    if (py[0]) {
        free_prefix(&found);
        if (add_arg(&found, py, strlen(py)) && add_arg(&found, "-m", 2) &&
            add_arg(&found, "ziglang", 7) && add_arg(&found, "cc", 2) && probe(&found)) {
            state = 1;
            return;
        }
    }
    free_prefix(&found);
    exn_fmt(none_why, sizeof none_why,
            "no C compiler found (EXTISM_NATIVE_CC unset; no cc, gcc or clang on PATH; no ziglang "
            "package)");
    state = 2;
}

/* In the child after fork(), alone: a thread of the parent may have held the probe's lock (its
 * search then starts again here if it had not finished). */
static void after_fork(void)
{
    if (probe_lock)
        probe_lock = exn_os_mutex_new();
}

const exn_ncc_t *exn_ncc_get(char *errbuf, size_t errbuf_len)
{
    const char *why;
    if (!exn_nsys_available(&why)) {
        exn_fmt(errbuf, errbuf_len, "%s", why);
        return NULL;
    }
    exn_os_global_lock();
    if (!probe_lock) {
        probe_lock = exn_os_mutex_new();
        exn_os_atfork_child(after_fork);
    }
    exn_mutex_t *m = probe_lock;
    exn_os_global_unlock();
    if (!m) {
        exn_fmt(errbuf, errbuf_len, "out of memory");
        return NULL;
    }
    exn_os_mutex_lock(m);
    if (state == 0)
        find();
    int s = state;
    exn_os_mutex_unlock(m);
    if (s != 1) {
        exn_fmt(errbuf, errbuf_len, "%s", none_why);
        return NULL;
    }
    return &found;
}

const char *exn_ncc_name(const exn_ncc_t *cc)
{
    return cc->name;
}

/* The first lines of a compiler's log, for the error message. */
static void log_excerpt(const char *path, char *errbuf, size_t errbuf_len, const char *what)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char ignored[64];
    if (exn_os_read_file(path, &data, &len, ignored, sizeof ignored) != EXN_OK)
        len = 0;
    size_t n = len < 600 ? len : 600;
    exn_fmt(errbuf, errbuf_len, "%s failed: %.*s", what, (int)n, data ? (const char *)data : "");
    exn_free(data);
}

/* Link the objects into `dir`/`name`, without debug sections if `strip`. */
static exn_status_t link(const exn_ncc_t *cc, const char *dir, char **objs, uint32_t n_files,
                         const char *name, bool strip, char *errbuf, size_t errbuf_len)
{
    char out[PATH_LEN], log[PATH_LEN];
    size_t cap = (size_t)cc->argc + n_files + 10;
    char **argv = exn_calloc(cap, sizeof *argv);
    if (!argv) {
        exn_fmt(errbuf, errbuf_len, "out of memory");
        return EXN_ERR_NOMEM;
    }
    exn_status_t st = EXN_OK;
    size_t n = 0;
    for (int k = 0; k < cc->argc; k++)
        argv[n++] = cc->argv[k];
    exn_fmt(out, sizeof out, "%s/%s", dir, name);
    exn_fmt(log, sizeof log, "%s/link.log", dir);
    argv[n++] = (char *)"-shared";
    if (strip)
        argv[n++] = (char *)"-Wl,-S";
    const char *san = sanitize_flag();
    if (*san)
        argv[n++] = (char *)san;
    argv[n++] = (char *)"-o";
    argv[n++] = out;
    for (uint32_t i = 0; i < n_files; i++)
        argv[n++] = objs[i];
    argv[n++] = (char *)"-lm";
    argv[n] = NULL;
    intptr_t pid;
    if (exn_nsys_spawn(argv, log, &pid) != 0) {
        exn_fmt(errbuf, errbuf_len, "cannot run %s", cc->argv[0]);
        st = EXN_ERR_UNSUPPORTED;
    } else if (exn_nsys_wait(pid) != 0) {
        log_excerpt(log, errbuf, errbuf_len, "linking the translated module");
        st = EXN_ERR_UNSUPPORTED;
    }
    exn_free(argv);
    return st;
}

exn_status_t exn_ncc_build(const exn_ncc_t *cc, const char *dir, uint32_t n_files, uint32_t jobs,
                           const char *opt, char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    if (jobs < 1)
        jobs = 1;
    intptr_t *pids = exn_calloc(n_files, sizeof *pids);
    char **objs = exn_calloc(n_files, sizeof *objs);
    char src[PATH_LEN], log[PATH_LEN], out[PATH_LEN];
    uint32_t started = 0, waited = 0;
    int failed_file = -1;
    if (!pids || !objs) {
        st = EXN_ERR_NOMEM;
        exn_fmt(errbuf, errbuf_len, "out of memory");
        goto cleanup;
    }
    for (uint32_t i = 0; i < n_files; i++) {
        char obj[PATH_LEN];
        exn_fmt(obj, sizeof obj, "%s/m%u.o", dir, i);
        objs[i] = exn_strndup(obj, strlen(obj));
        if (!objs[i]) {
            st = EXN_ERR_NOMEM;
            exn_fmt(errbuf, errbuf_len, "out of memory");
            goto cleanup;
        }
    }
    while (waited < n_files) {
        while (started < n_files && started - waited < jobs && failed_file < 0) {
            char *argv[MAX_PREFIX + N_FLAGS + 10];
            int n = 0;
            for (int k = 0; k < cc->argc; k++)
                argv[n++] = cc->argv[k];
            for (size_t k = 0; k < N_FLAGS; k++)
                argv[n++] = (char *)(k == 0 ? opt : FLAGS[k]);
            if (cc->gcc)
                argv[n++] = (char *)"-fno-var-tracking"; /* (debug information only) */
            const char *san = sanitize_flag();
            if (*san) {
                argv[n++] = (char *)san;
                argv[n++] = (char *)"-fno-sanitize-recover=all";
            }
            exn_fmt(src, sizeof src, "%s/m%u.c", dir, started);
            exn_fmt(log, sizeof log, "%s/m%u.log", dir, started);
            argv[n++] = (char *)"-c";
            argv[n++] = src;
            argv[n++] = (char *)"-o";
            argv[n++] = objs[started];
            argv[n] = NULL;
            if (exn_nsys_spawn(argv, log, &pids[started]) != 0) {
                exn_fmt(errbuf, errbuf_len, "cannot run %s", cc->argv[0]);
                failed_file = (int)started;
                pids[started] = 0;
                break;
            }
            started++;
        }
        if (waited >= started)
            break;
        int rc = exn_nsys_wait(pids[waited]);
        if (rc != 0 && failed_file < 0) {
            failed_file = (int)waited;
            exn_fmt(log, sizeof log, "%s/m%u.log", dir, waited);
            log_excerpt(log, errbuf, errbuf_len, "compiling the translated module");
        }
        waited++;
    }
    if (failed_file >= 0) {
        st = EXN_ERR_UNSUPPORTED;
        goto cleanup;
    }
    /* the library with its line table (lines.c reads it), then the one that is kept, without
     * debug sections (-Wl,-S: the same code at the same addresses; lines.c compares the two) */
    st = link(cc, dir, objs, n_files, "out.dbg.so", false, errbuf, errbuf_len);
    if (st == EXN_OK &&
        link(cc, dir, objs, n_files, "out.so", true, errbuf, errbuf_len) != EXN_OK) {
        char dbg[PATH_LEN];
        exn_fmt(dbg, sizeof dbg, "%s/out.dbg.so", dir);
        exn_fmt(out, sizeof out, "%s/out.so", dir);
        st = exn_nsys_rename(dbg, out) == 0 ? EXN_OK : EXN_ERR_UNSUPPORTED; /* (kept whole) */
    }

cleanup:
    if (objs) {
        for (uint32_t i = 0; i < n_files; i++)
            exn_free(objs[i]);
    }
    exn_free(objs);
    exn_free(pids);
    return st;
}
