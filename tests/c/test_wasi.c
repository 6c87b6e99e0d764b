/* test_wasi.c: the C side of WASI without Python - creation with allowed_paths (a missing host
 * directory names itself), the configuration setters, and every out-of-memory path of WASI
 * creation and of calls that allocate in WASI (path walks, directory listings, iovecs, output
 * callbacks): the EXN_TESTING allocator fails the Nth allocation and nothing may leak or crash
 * (run under valgrind or ASan to see leaks).  POSIX only (temporary directories); on Windows it
 * reports itself skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extism_native.h"

#include "test_util.h"

#if !defined(_WIN32)
#include <unistd.h>

void exn_testing_fail_allocation_after(long n);


static char dir[256];
static char manifest[1024];

static void setup(void)
{
    strcpy(dir, "/tmp/exn_wasi_XXXXXX");
    if (!mkdtemp(dir))
        exit(2);
    char path[300];
    snprintf(path, sizeof path, "%s/hello.txt", dir);
    FILE *f = fopen(path, "wb");
    fputs("hello", f);
    fclose(f);
    snprintf(manifest, sizeof manifest,
             "{\"wasm\": [{\"path\": \"%s/wasi_reactor.wasm\"}], \"allowed_paths\": "
             "{\"%s\": \"/d\"}}",
             EXN_TEST_PLUGINS, dir);
}

static void teardown(void)
{
    char path[300];
    const char *names[] = {"hello.txt", "new.txt"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int collected;

static int collect(void *userdata, const uint8_t *data, size_t len)
{
    (void)userdata, (void)data;
    collected += (int)len;
    return 0;
}

static exn_status_t call(ExtismPlugin *p, const char *name, const char *input,
                         exn_call_result_t *out)
{
    return exn_plugin_call(p, name, (const uint8_t *)input, strlen(input), NULL,
                           EXN_TIMEOUT_DEFAULT, out);
}

static void test_creation(void)
{
    char err[512];
    ExtismPlugin *p = NULL;
    CHECK(exn_plugin_new((const uint8_t *)manifest, strlen(manifest), NULL, 0, true, &p, err,
                         sizeof err) == EXN_OK);
    exn_call_result_t out;
    CHECK(call(p, "cat", "/d/hello.txt", &out) == EXN_OK);
    CHECK(out.output_len == 5 && memcmp(out.output, "hello", 5) == 0);
    const char *args[] = {"prog", "x"};
    CHECK(exn_plugin_wasi_args(p, args, 2) == EXN_OK);
    CHECK(exn_plugin_wasi_env(p, args, 1) == EXN_OK);
    CHECK(exn_plugin_wasi_stdin(p, (const uint8_t *)"in", 2) == EXN_OK);
    CHECK(exn_plugin_wasi_output(p, 1, EXN_WASI_CALLBACK, collect, NULL) == EXN_OK);
    CHECK(exn_plugin_wasi_output(p, 2, EXN_WASI_DISCARD, NULL, NULL) == EXN_OK);
    CHECK(exn_plugin_wasi_output(p, 3, EXN_WASI_DISCARD, NULL, NULL) == EXN_ERR_MISUSE);
    collected = 0;
    CHECK(call(p, "say", "abc", &out) == EXN_OK && collected == 4);
    extism_plugin_free(p);

    /* a host directory that does not exist fails creation and is named */
    char bad[1024];
    snprintf(bad, sizeof bad,
             "{\"wasm\": [{\"path\": \"%s/wasi_reactor.wasm\"}], \"allowed_paths\": "
             "{\"%s/missing\": \"/d\"}}",
             EXN_TEST_PLUGINS, dir);
    p = NULL;
    CHECK(exn_plugin_new((const uint8_t *)bad, strlen(bad), NULL, 0, true, &p, err, sizeof err) ==
          EXN_ERR_MANIFEST);
    CHECK(p == NULL && strstr(err, "/missing") && strstr(err, "no such file or directory"));
}

static void test_out_of_memory(void)
{
    int created = 0, nomem = 0;
    for (long n = 0; n < 600; n++) {
        char err[512];
        ExtismPlugin *p = NULL;
        exn_testing_fail_allocation_after(n);
        exn_status_t st = exn_plugin_new((const uint8_t *)manifest, strlen(manifest), NULL, 0,
                                         true, &p, err, sizeof err);
        if (st == EXN_OK) {
            exn_call_result_t out;
            const char *args[] = {"prog"};
            exn_plugin_wasi_args(p, args, 1);
            exn_plugin_wasi_stdin(p, (const uint8_t *)"in", 2);
            exn_plugin_wasi_output(p, 1, EXN_WASI_CALLBACK, collect, NULL);
            exn_plugin_wasi_output(p, 2, EXN_WASI_DISCARD, NULL, NULL);
            /* a failed host allocation inside WASI is ENOMEM to the guest (a GUEST error), or
             * the kernel's own NOMEM; never a crash */
            st = call(p, "cat", "/d/hello.txt", &out);
            CHECK(st == EXN_OK || st == EXN_ERR_NOMEM || st == EXN_ERR_GUEST ||
                  st == EXN_ERR_TRAP);
            st = call(p, "ls", "/d", &out);
            CHECK(st == EXN_OK || st == EXN_ERR_NOMEM || st == EXN_ERR_GUEST ||
                  st == EXN_ERR_TRAP);
            st = call(p, "write", "/d/new.txt\nabc", &out);
            CHECK(st == EXN_OK || st == EXN_ERR_NOMEM || st == EXN_ERR_GUEST ||
                  st == EXN_ERR_TRAP);
            st = call(p, "say", "x", &out);
            CHECK(st == EXN_OK || st == EXN_ERR_NOMEM || st == EXN_ERR_GUEST ||
                  st == EXN_ERR_TRAP);
            exn_testing_fail_allocation_after(-1);
            CHECK(call(p, "cat", "/d/hello.txt", &out) == EXN_OK);
            extism_plugin_free(p);
            created++;
        } else {
            /* (the module reader reports its own out-of-memory as a LOAD error, as in
             * test_core.c) */
            CHECK(st == EXN_ERR_NOMEM || st == EXN_ERR_LOAD);
            CHECK(p == NULL);
            nomem++;
        }
        exn_testing_fail_allocation_after(-1);
    }
    CHECK(nomem > 0 && created > 0);
}

int main(void)
{
    setup();
    test_creation();
    test_out_of_memory();
    teardown();
    return test_report();
}

#else
int main(void)
{
    printf("test_wasi: skipped on Windows\n");
    return test_report(); /* "0 checks, 0 failures" */
}
#endif
