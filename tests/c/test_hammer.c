/* test_hammer.c: threads x calls x close x cancel x host functions on the C API, round after
 * round (issue 14).  Each round: two plugins, `spin` (compute-bound guest code) and
 * `host_vowels` (whose host function allocates kernel memory, and calls into `spin` - a call
 * from inside a call, on another plugin); callers on both (exn_plugin_call and exn_call, with
 * and without timeouts), a thread cancelling `spin` over and over, and the main thread closing
 * both at a random moment.  Every call must end in an allowed status with the right output;
 * any memory or thread error is for the sanitizers (ASan+UBSan in .ci/jobs/20-sanitizers.sh,
 * ThreadSanitizer in .ci/jobs/21-tsan.sh) to report.
 *
 *     test_hammer [ROUNDS]      (default 100) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extism.h"
#include "extism_native.h"

#ifdef _WIN32
int main(void)
{
    puts("test_hammer: POSIX threads only (skipped)");
    return 0;
}
#else
#include <pthread.h>
#include <time.h>

static int failures;
static long calls_ok, calls_failed; /* (atomic) what the rounds did */
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what, int status)
{
    pthread_mutex_lock(&report_lock);
    if (failures++ < 20)
        fprintf(stderr, "test_hammer: %s (status %d)\n", what, status);
    pthread_mutex_unlock(&report_lock);
}

static uint8_t *read_file(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", EXN_TEST_PLUGINS, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(n > 0 ? (size_t)n : 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return data;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

typedef struct {
    ExtismPlugin *spin, *vowels;
    const ExtismCancelHandle *cancel;
    int stop; /* (atomic) */
    unsigned seed;
} round_t;

static int stopped(round_t *r)
{
    return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

static unsigned next(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static uint64_t u64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* extism:host/user::hello_world(i64) -> i64: a copy of its input block, after a short call of
 * the spin plugin (a nested call on another plugin; it may find it busy, closed or cancelled). */
static void hello_world(void *user_data, ExtismCurrentPlugin *cur, int64_t *slots)
{
    round_t *r = user_data;
    uint8_t n8[8] = {50};
    exn_call_result_t out;
    exn_status_t st = exn_plugin_call(r->spin, "spin", n8, 8, NULL, 20000000, &out);
    if (st != EXN_OK && st != EXN_ERR_MISUSE && st != EXN_ERR_CANCELLED && st != EXN_ERR_TIMEOUT)
        fail("nested call", st);
    uint64_t h = (uint64_t)slots[0];
    uint64_t len = extism_current_plugin_memory_length(cur, h);
    uint64_t copy = extism_current_plugin_memory_alloc(cur, len ? len : 1);
    if (copy && len) {
        uint8_t *base = extism_current_plugin_memory(cur);
        memcpy(base + copy, base + h, (size_t)len);
    }
    slots[1] = (int64_t)copy;
}

static void *spin_caller(void *arg)
{
    round_t *r = arg;
    unsigned seed = r->seed ^ 0x9e3779b9u;
    exn_call_t c;
    memset(&c, 0, sizeof c);
    c.plugin = r->spin;
    for (int i = 0; i < 1000 && !stopped(r); i++) {
        uint64_t n = next(&seed) % 20000;
        uint8_t in[8];
        for (int k = 0; k < 8; k++)
            in[k] = (uint8_t)(n >> (8 * k));
        c.timeout_ns = (next(&seed) & 1) ? 1000000 : EXN_TIMEOUT_DEFAULT;
        int64_t len = exn_call(&c, "spin", in, sizeof in);
        __atomic_fetch_add(len >= 0 ? &calls_ok : &calls_failed, 1, __ATOMIC_RELAXED);
        if (len >= 0) {
            if (len != 8 || u64_le((const uint8_t *)c.output) != n)
                fail("wrong spin output", 0);
        } else if (c.status == EXN_ERR_MISUSE) {
            break; /* closed */
        } else if (c.status != EXN_ERR_CANCELLED && c.status != EXN_ERR_TIMEOUT) {
            fail(c.output ? c.output : "spin", c.status);
        }
    }
    exn_call_release(&c);
    return NULL;
}

static void *vowel_caller(void *arg)
{
    /* (exn_call: the output is copied before the plugin is let go; exn_plugin_call's is
     * borrowed, and a close on another thread may free it at once) */
    round_t *r = arg;
    exn_call_t c;
    memset(&c, 0, sizeof c);
    c.plugin = r->vowels;
    c.timeout_ns = EXN_TIMEOUT_DEFAULT;
    for (int i = 0; i < 1000 && !stopped(r); i++) {
        int64_t len = exn_call(&c, "count_vowels", (const uint8_t *)"aeiou!", 6);
        __atomic_fetch_add(len >= 0 ? &calls_ok : &calls_failed, 1, __ATOMIC_RELAXED);
        if (len >= 0) {
            if (len != 12 || memcmp(c.output, "{\"count\": 5}", 12) != 0)
                fail("wrong count_vowels output", (int)len);
        } else if (c.status == EXN_ERR_MISUSE) {
            break; /* closed */
        } else if (c.status != EXN_ERR_CANCELLED) { /* (close cancels the running call) */
            fail(c.output ? c.output : "count_vowels", c.status);
        }
    }
    exn_call_release(&c);
    return NULL;
}

static void *canceller(void *arg)
{
    round_t *r = arg;
    unsigned seed = r->seed;
    while (!stopped(r)) {
        extism_plugin_cancel(r->cancel);
        sleep_us((long)(next(&seed) % 300));
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    size_t spin_len = 0, vowels_len = 0;
    uint8_t *spin = read_file("spin", &spin_len), *vowels = read_file("host_vowels", &vowels_len);
    if (!spin || !vowels) {
        fprintf(stderr, "test_hammer: cannot read the test plugins\n");
        return 1;
    }
    unsigned seed = 14;
    for (int round = 0; round < rounds && failures == 0; round++) {
        round_t r;
        memset(&r, 0, sizeof r);
        r.seed = next(&seed);
        const ExtismValType i64 = ExtismValType_I64;
        ExtismFunction *fn = exn_function_new("hello_world", &i64, 1, &i64, 1, hello_world, &r,
                                              NULL);
        char err[512];
        if (!fn || exn_plugin_new(spin, spin_len, NULL, 0, false, &r.spin, err, sizeof err) ||
            exn_plugin_new(vowels, vowels_len, (const ExtismFunction **)&fn, 1, false, &r.vowels,
                           err, sizeof err)) {
            fprintf(stderr, "test_hammer: cannot create the plugins: %s\n", err);
            return 1;
        }
        extism_function_free(fn); /* the plugin holds what it needs */
        r.cancel = extism_plugin_cancel_handle(r.spin);
        pthread_t threads[4];
        void *(*bodies[4])(void *) = {spin_caller, spin_caller, vowel_caller, canceller};
        for (int t = 0; t < 4; t++)
            pthread_create(&threads[t], NULL, bodies[t], &r);
        sleep_us((long)(next(&seed) % 3000));
        if (exn_plugin_close(r.vowels) != EXN_OK || exn_plugin_close(r.spin) != EXN_OK)
            fail("close", 0);
        __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
        for (int t = 0; t < 4; t++)
            pthread_join(threads[t], NULL);
        extism_plugin_free(r.vowels);
        extism_plugin_free(r.spin);
    }
    free(spin);
    free(vowels);
    printf("test_hammer: %d rounds, %ld calls succeeded, %ld failed as allowed, %d wrong\n",
           rounds, calls_ok, calls_failed, failures);
    return failures != 0;
}
#endif
