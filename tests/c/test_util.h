/* test_util.h: what the C tests share (tests/c, tests/spec/engine_check.c, tests/fuzz/replay.c):
 * CHECK, which counts and reports a failed condition without stopping, the report at the end,
 * and reading a file or one of the test plugins (tests/plugins/wasm, EXN_TEST_PLUGINS).
 * Header-only, static functions: each test is one executable. */
#ifndef EXN_TEST_UTIL_H
#define EXN_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int test_failures, test_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        test_checks++;                                                                             \
        if (!(cond)) {                                                                             \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
        }                                                                                          \
    } while (0)

/* "N checks, M failures"; the exit status of main. */
static inline int test_report(void)
{
    printf("%d checks, %d failures\n", test_checks, test_failures);
    return test_failures ? 1 : 0;
}

/* The bytes of a file (malloc'd, the caller frees), or NULL when it cannot be read. */
static inline uint8_t *test_try_read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc(n ? (size_t)n : 1)) != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data)
        *out_len = (size_t)n;
    return data;
}

/* The bytes of a file; exits with status 2 when it cannot be read (the test cannot run). */
static inline uint8_t *test_read_file(const char *path, size_t *out_len)
{
    uint8_t *data = test_try_read_file(path, out_len);
    if (!data) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    return data;
}

#ifdef EXN_TEST_PLUGINS
/* tests/plugins/wasm/NAME.wasm */
static inline uint8_t *test_read_plugin(const char *name, size_t *out_len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", EXN_TEST_PLUGINS, name);
    return test_read_file(path, out_len);
}
#endif

#endif
