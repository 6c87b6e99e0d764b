/* test_validate.c: unit tests of the validator's C parts without Python - the shared LEB128
 * reader (wasm_read.h) at every boundary of the binary format's integer rules, and every
 * out-of-memory path of exn_validate (the EXN_TESTING allocator fails the Nth allocation).
 * The rules themselves are tested from Python (tests/unit/test_validate.py).  Run by ctest;
 * any failure exits non-zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extism_native.h"
#include "validate/validate.h"
#include "validate/wasm_read.h"

void exn_testing_fail_allocation_after(long n);

static int failures, checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
        }                                                                                          \
    } while (0)

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "missing %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n)
        exit(2);
    fclose(f);
    *len = (size_t)n;
    return data;
}

/* ---- the reader ------------------------------------------------------------------------------ */

typedef struct {
    const char *bytes; /* hex */
    int ok;            /* 1: decodes to value, 0: fails with why */
    int64_t value;
    const char *why;
} leb_case_t;

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2)
        out[n++] = (uint8_t)(hexval(hex[0]) << 4 | hexval(hex[1]));
    return n;
}

static void check_leb(const leb_case_t *c, unsigned bits, bool is_signed)
{
    uint8_t buf[16];
    size_t n = unhex(c->bytes, buf);
    exn_wread_t r = exn_wread_init(buf, buf + n);
    bool ok;
    int64_t v = 0;
    if (is_signed) {
        ok = exn_wread_sleb(&r, bits, &v);
    } else {
        uint32_t u = 0;
        ok = exn_wread_u32(&r, &u);
        v = u;
    }
    CHECK(ok == (c->ok == 1));
    if (ok) {
        CHECK(v == c->value);
        CHECK(r.p == buf + n); /* all bytes consumed */
    } else {
        CHECK(r.why && strcmp(r.why, c->why) == 0);
        CHECK(r.p == buf); /* a failed read consumes nothing */
    }
    if (ok != (c->ok == 1) || (ok && v != c->value))
        fprintf(stderr, "  LEB %s (%u bits%s)\n", c->bytes, bits, is_signed ? ", signed" : "");
}

static void test_leb(void)
{
#define long5 "integer representation too long"
#define large "integer too large"
#define end "unexpected end"
    static const leb_case_t u32s[] = {
        {"00", 1, 0, 0},           {"7f", 1, 127, 0},           {"8001", 1, 128, 0},
        {"8000", 1, 0, 0},         {"8080808000", 1, 0, 0},     {"ffffffff0f", 1, 0xFFFFFFFF, 0},
        {"ffffffff1f", 0, 0, large}, {"ffffffff4f", 0, 0, large}, {"808080808000", 0, 0, long5},
        {"8080808080", 0, 0, long5}, {"80", 0, 0, end},          {"", 0, 0, end}};
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++)
        check_leb(&u32s[i], 32, false);

    static const leb_case_t s32s[] = {
        {"00", 1, 0, 0},           {"7f", 1, -1, 0},            {"3f", 1, 63, 0},
        {"40", 1, -64, 0},         {"807f", 1, -128, 0},        {"ffffffff07", 1, INT32_MAX, 0},
        {"8080808078", 1, INT32_MIN, 0}, {"ffffffff7f", 1, -1, 0}, {"ffffffff0f", 0, 0, large},
        {"8080808070", 0, 0, large}, {"ffffffffff00", 0, 0, long5}, {"ff", 0, 0, end}};
    for (size_t i = 0; i < sizeof s32s / sizeof s32s[0]; i++)
        check_leb(&s32s[i], 32, true);

    static const leb_case_t s33s[] = {
        {"ffffffff0f", 1, 0xFFFFFFFF, 0}, {"8080808070", 1, -((int64_t)1 << 32), 0},
        {"ffffffff1f", 0, 0, large},       {"8080808050", 0, 0, large},
        {"8180808000", 1, 1, 0},           {"808080808000", 0, 0, long5}};
    for (size_t i = 0; i < sizeof s33s / sizeof s33s[0]; i++)
        check_leb(&s33s[i], 33, true);

    static const leb_case_t s64s[] = {
        {"ffffffffffffffffff00", 1, INT64_MAX, 0}, {"8080808080808080807f", 1, INT64_MIN, 0},
        {"ffffffffffffffffff7f", 1, -1, 0},         {"80808080808080808001", 0, 0, large},
        {"ffffffffffffffffff7e", 0, 0, large},      {"8080808080808080808000", 0, 0, long5},
        {"7e", 1, -2, 0}};
    for (size_t i = 0; i < sizeof s64s / sizeof s64s[0]; i++)
        check_leb(&s64s[i], 64, true);
#undef long5
#undef large
#undef end
}

static void test_names(void)
{
    static const uint8_t good[] = {4, 0xF0, 0x9F, 0x98, 0x80}, overlong[] = {2, 0xC0, 0x80},
                         surrogate[] = {3, 0xED, 0xA0, 0x80}, past[] = {5, 'a'};
    const uint8_t *s;
    uint32_t n;
    exn_wread_t r = exn_wread_init(good, good + sizeof good);
    CHECK(exn_wread_name(&r, &s, &n) && n == 4 && s == good + 1);
    r = exn_wread_init(overlong, overlong + sizeof overlong);
    CHECK(!exn_wread_name(&r, &s, &n) && strcmp(r.why, "malformed UTF-8 encoding") == 0);
    r = exn_wread_init(surrogate, surrogate + sizeof surrogate);
    CHECK(!exn_wread_name(&r, &s, &n) && r.why_at == surrogate + 1);
    r = exn_wread_init(past, past + sizeof past);
    CHECK(!exn_wread_name(&r, &s, &n) && strcmp(r.why, "unexpected end") == 0);
}

/* ---- out of memory anywhere: EXN_ERR_NOMEM, nothing leaked (ASan / valgrind tell) ------------- */

static void test_out_of_memory(void)
{
    static const char *const plugins[] = {"kitchen", "rust_plugin", "big_locals"};
    for (size_t k = 0; k < sizeof plugins / sizeof plugins[0]; k++) {
        char path[1024], why[512];
        size_t len;
        snprintf(path, sizeof path, "%s/%s.wasm", EXN_TEST_PLUGINS, plugins[k]);
        uint8_t *wasm = read_file(path, &len);
        CHECK(exn_validate(wasm, len, why, sizeof why) == EXN_OK);
        int nomem = 0;
        long n;
        for (n = 0; n < 10000; n++) {
            exn_testing_fail_allocation_after(n);
            exn_status_t st = exn_validate(wasm, len, why, sizeof why);
            exn_testing_fail_allocation_after(-1);
            if (st == EXN_OK)
                break;
            CHECK(st == EXN_ERR_NOMEM);
            CHECK(strstr(why, "out of memory") != NULL);
            nomem++;
        }
        CHECK(nomem > 0 && n < 10000); /* every allocation was failed once, then it worked */
        free(wasm);
    }
}

/* ---- the public entry point ------------------------------------------------------------------ */

static void test_public_api(void)
{
    char why[256];
    static const uint8_t empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    static const uint8_t bad[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x0e, 0};
    CHECK(exn_module_validate(empty, sizeof empty, why, sizeof why) == EXN_OK && why[0] == 0);
    CHECK(exn_module_validate(bad, sizeof bad, why, sizeof why) == EXN_ERR_LOAD);
    CHECK(strcmp(why, "at offset 0x8: malformed section id 14") == 0);
    CHECK(exn_module_validate(bad, sizeof bad, why, 10) == EXN_ERR_LOAD && strlen(why) == 9);
    CHECK(exn_module_validate(bad, sizeof bad, NULL, 0) == EXN_ERR_LOAD);
    CHECK(exn_module_validate(NULL, 3, why, sizeof why) == EXN_ERR_MISUSE);
}

int main(void)
{
    test_leb();
    test_names();
    test_out_of_memory();
    test_public_api();
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
