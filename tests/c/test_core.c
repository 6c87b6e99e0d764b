/* test_core.c: unit tests of the C core without Python - codecs, JSON, the string map, the
 * kernel allocator, manifests, and every out-of-memory path of plugin creation and calls (the
 * EXN_TESTING allocator fails the Nth allocation).  Run by ctest; any failure exits non-zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/codec.h"
#include "extism_native.h"
#include "support/json.h"
#include "kernel/kernel_mem.h"
#include "manifest/manifest.h"
#include "support/strmap.h"

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

static uint8_t *read_plugin(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", EXN_TEST_PLUGINS, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "missing %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n);
    if (fread(data, 1, (size_t)n, f) != (size_t)n)
        exit(2);
    fclose(f);
    *len = (size_t)n;
    return data;
}

/* ---- codecs ------------------------------------------------------------------------------ */

static void test_base64(void)
{
    static const struct {
        const char *in, *out;
    } vectors[] = {{"", ""},         {"Zg==", "f"},       {"Zm8=", "fo"},
                   {"Zm9v", "foo"},  {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"},
                   {"Zm9vYmFy", "foobar"}, {"Zm9vYg", "foob"}};
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        uint8_t *out;
        size_t n;
        CHECK(exn_base64_decode(vectors[i].in, strlen(vectors[i].in), &out, &n) == EXN_OK);
        CHECK(n == strlen(vectors[i].out) && memcmp(out, vectors[i].out, n) == 0);
        free(out);
    }
    const char *bad[] = {"Z", "Zm9v!", "Zm=v", "Zm9vY"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *out;
        size_t n;
        CHECK(exn_base64_decode(bad[i], strlen(bad[i]), &out, &n) == EXN_ERR_MANIFEST);
    }
}

static void test_sha256(void)
{
    char hex[65];
    exn_sha256_hex((const uint8_t *)"", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    exn_sha256_hex((const uint8_t *)"abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    exn_sha256_hex((const uint8_t *)two, strlen(two), hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
    uint8_t *million = malloc(1000000);
    memset(million, 'a', 1000000);
    exn_sha256_hex(million, 1000000, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
    free(million);
}

/* ---- JSON ------------------------------------------------------------------------------------- */

static exn_status_t parse(const char *text, exn_json_doc_t **doc)
{
    char err[256];
    return exn_json_parse(text, strlen(text), doc, err, sizeof err);
}

static void test_json(void)
{
    exn_json_doc_t *doc;
    CHECK(parse("{\"a\": [1, 18446744073709551615, 18446744073709551616, -1, 1.5, true, null],"
                " \"b\": \"x\\u00e9\\ud83d\\ude00\\n\", \"a\": {}}",
                &doc) == EXN_OK);
    const exn_json_t *root = exn_json_root(doc);
    CHECK(root->kind == EXN_JSON_OBJECT && root->len == 3);
    const exn_json_t *a = &root->members[0].value;
    CHECK(a->kind == EXN_JSON_ARRAY && a->len == 7);
    CHECK(a->items[0].is_u64 && a->items[0].u64 == 1);
    CHECK(a->items[1].is_u64 && a->items[1].u64 == UINT64_MAX);
    CHECK(!a->items[2].is_u64 && !a->items[3].is_u64 && !a->items[4].is_u64);
    CHECK(a->items[5].kind == EXN_JSON_BOOL && a->items[5].boolean);
    CHECK(a->items[6].kind == EXN_JSON_NULL);
    const exn_json_t *b = exn_json_get(root, "b");
    CHECK(b && b->len == 8 && memcmp(b->str, "x\xc3\xa9\xf0\x9f\x98\x80\n", 8) == 0);
    CHECK(exn_json_get(root, "a")->kind == EXN_JSON_OBJECT); /* the last duplicate wins */
    exn_json_doc_free(doc);

    const char *bad[] = {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\ud800\"", "\"\\x\"",
                         "\"a\nb\"", "{} {}", "tru", "\"\xff\"", "\"\xc0\xaf\"", "-", "[1 2]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(parse(bad[i], &doc) == EXN_ERR_MANIFEST);
        CHECK(doc == NULL);
    }
    size_t deep = 100000;
    char *nested = malloc(2 * deep + 1);
    memset(nested, '[', deep);
    memset(nested + deep, ']', deep);
    nested[2 * deep] = '\0';
    CHECK(parse(nested, &doc) == EXN_ERR_MANIFEST);
    free(nested);
}

/* ---- string map ----------------------------------------------------------------------------- */

static void test_strmap(void)
{
    exn_strmap_t m;
    exn_strmap_init(&m);
    /* insert, replace and delete many keys against a plain array model */
    enum { N = 2000 };
    static int model[N]; /* -1: absent, else value */
    for (int i = 0; i < N; i++)
        model[i] = -1;
    unsigned seed = 12345;
    for (int step = 0; step < 50000; step++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % N), v = (int)((seed >> 4) % 1000);
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", k);
        snprintf(val, sizeof val, "%d", v);
        if ((seed >> 20) % 3 == 0) {
            exn_strmap_delete(&m, key, strlen(key));
            model[k] = -1;
        } else {
            CHECK(exn_strmap_set(&m, key, strlen(key), val, strlen(val)) == EXN_OK);
            model[k] = v;
        }
    }
    size_t count = 0;
    for (int k = 0; k < N; k++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", k);
        const exn_strmap_entry_t *e = exn_strmap_get(&m, key, strlen(key));
        if (model[k] < 0) {
            CHECK(e == NULL);
        } else {
            count++;
            snprintf(val, sizeof val, "%d", model[k]);
            CHECK(e && e->value_len == strlen(val) && memcmp(e->value, val, e->value_len) == 0);
        }
    }
    CHECK(m.count == count);
    CHECK(exn_strmap_set(&m, "", 0, "", 0) == EXN_OK); /* empty key and value */
    CHECK(exn_strmap_get(&m, "", 0) && exn_strmap_get(&m, "", 0)->value_len == 0);
    exn_strmap_clear(&m);
}

/* ---- kernel memory ------------------------------------------------------------------------- */

static void test_kmem(void)
{
    exn_kmem_t k;
    CHECK(exn_kmem_init(&k, (uint64_t)1 << 32) == EXN_OK);
    /* handle numbers of the official kernel */
    CHECK(exn_kmem_alloc(&k, 1) == 77);
    CHECK(exn_kmem_alloc(&k, 10) == 90);
    CHECK(exn_kmem_alloc(&k, 100) == 112);
    CHECK(exn_kmem_length(&k, 90) == 10 && exn_kmem_length(&k, 91) == 0);
    CHECK(exn_kmem_alloc(&k, 0) == 0);
    CHECK(exn_kmem_alloc(&k, UINT64_MAX) == 0);
    exn_kmem_free_block(&k, 90);
    exn_kmem_free_block(&k, 90); /* a second free is harmless */
    CHECK(exn_kmem_length(&k, 90) == 0);
    /* fresh blocks read as zero, even where a store dirtied the space before */
    k.vm.base[300] = 0xAB;
    exn_kmem_touch(&k, 300, 1);
    uint64_t h = exn_kmem_alloc(&k, 400);
    CHECK(h == 224);
    bool zero = true;
    for (uint64_t i = 0; i < 400; i++)
        zero = zero && k.vm.base[h + i] == 0;
    CHECK(zero);
    /* after a reset every byte past the first new block reads as zero again */
    memset(k.vm.base + h, 0xCD, 400);
    exn_kmem_reset(&k);
    CHECK(exn_kmem_alloc(&k, 5) == 77);
    zero = true;
    for (uint64_t i = 82; i < 1024; i++)
        zero = zero && k.vm.base[i] == 0;
    CHECK(zero);

    /* exhaust the first region; reuse a freed block, splitting off its tail */
    exn_kmem_reset(&k);
    uint64_t big = exn_kmem_alloc(&k, 30000);
    CHECK(big == 77);
    CHECK(exn_kmem_alloc(&k, 35000) != 0);
    exn_kmem_free_block(&k, big);
    uint64_t tail = exn_kmem_alloc(&k, 20000);
    CHECK(tail == 77 + 30000 - 20000);
    CHECK(exn_kmem_length(&k, tail) == 20000);
    CHECK(exn_kmem_length(&k, big) == 0); /* the head stays free */
    /* growth: more than fits in the region grows the memory by whole pages */
    uint64_t before = k.mem_size;
    CHECK(exn_kmem_alloc(&k, 100000) != 0);
    CHECK(k.mem_size > before && k.mem_size % EXN_KMEM_PAGE == 0);
    exn_kmem_free(&k);

    /* a small limit: allocation fails cleanly instead of growing past it */
    CHECK(exn_kmem_init(&k, 2 * EXN_KMEM_PAGE) == EXN_OK);
    CHECK(exn_kmem_alloc(&k, 60000) != 0);
    CHECK(exn_kmem_alloc(&k, 200000) == 0);
    exn_kmem_free(&k);
}

/* ---- manifests ---------------------------------------------------------------------------- */

static exn_status_t manifest(const char *text, char *err, size_t err_len)
{
    exn_manifest_t m;
    exn_status_t st = exn_manifest_from_input((const uint8_t *)text, strlen(text), &m, err, err_len);
    exn_manifest_free(&m);
    return st;
}

static void test_manifest(void)
{
    char err[512];
    CHECK(manifest("{\"wasm\": [{\"data\": \"AGFzbQEAAAA=\", \"name\": \"x\"}], \"config\": {\"a\": "
                   "\"b\"}, \"memory\": {\"max_pages\": 4, \"max_var_bytes\": 0}, "
                   "\"allowed_hosts\": [\"*.example.com\"], \"allowed_paths\": {\"ro:/tmp\": "
                   "\"/data\"}, \"timeout_ms\": 1000}",
                   err, sizeof err) == EXN_OK);
    CHECK(manifest("{\"wasm\": [{\"path\": \"a\", \"bogus\": 1}]}", err, sizeof err) ==
          EXN_ERR_MANIFEST);
    CHECK(strstr(err, "wasm[0]: unknown field \"bogus\"") != NULL);
    CHECK(manifest("(module)", err, sizeof err) == EXN_ERR_UNSUPPORTED);
    CHECK(manifest("hello", err, sizeof err) == EXN_ERR_MANIFEST);
}

/* ---- every allocation of creation and calls may fail ------------------------------------------ */

static void test_out_of_memory(void)
{
    size_t len;
    uint8_t *wasm = read_plugin("edge", &len);
    int created = 0, nomem = 0;
    for (long n = 0; n < 400; n++) {
        char err[512];
        ExtismPlugin *p = NULL;
        exn_testing_fail_allocation_after(n);
        exn_status_t st = exn_plugin_new(wasm, len, NULL, 0, false, &p, err, sizeof err);
        if (st == EXN_OK) {
            exn_call_result_t out;
            st = exn_plugin_call(p, "input_info", (const uint8_t *)"hello", 5, NULL, EXN_TIMEOUT_DEFAULT, &out);
            CHECK(st == EXN_OK || st == EXN_ERR_NOMEM || st == EXN_ERR_TRAP);
            exn_testing_fail_allocation_after(-1);
            CHECK(exn_plugin_call(p, "noop", NULL, 0, NULL, EXN_TIMEOUT_DEFAULT, &out) == EXN_OK);
            extism_plugin_free(p);
            created++;
        } else {
            CHECK(st == EXN_ERR_NOMEM || st == EXN_ERR_LOAD);
            CHECK(p == NULL);
            nomem++;
        }
        exn_testing_fail_allocation_after(-1);
    }
    CHECK(nomem > 0 && created > 0);
    free(wasm);
}

/* ---- where a trap happened ---------------------------------------------------------------- */

static void test_trap_frames(void)
{
    size_t len;
    uint8_t *wasm = read_plugin("edge", &len);
    char err[512];
    ExtismPlugin *p = NULL;
    CHECK(exn_plugin_new(wasm, len, NULL, 0, false, &p, err, sizeof err) == EXN_OK);
    exn_call_result_t out;
    uint32_t funcs[8];
    /* edge.wat: func 27 is "trap"; 34 "recurse" calls 33 ($recurse), which calls itself */
    CHECK(exn_plugin_call(p, "trap", NULL, 0, NULL, EXN_TIMEOUT_DEFAULT, &out) == EXN_ERR_TRAP);
    CHECK(exn_plugin_trap_frames(p, funcs, 8) == 1 && funcs[0] == 27);
    CHECK(exn_plugin_call(p, "recurse", NULL, 0, NULL, EXN_TIMEOUT_DEFAULT, &out) ==
          EXN_ERR_TRAP);
    CHECK(exn_plugin_trap_frames(p, funcs, 8) == 8 && funcs[0] == 33 && funcs[7] == 33);
    CHECK(exn_plugin_trap_frames(p, funcs, 0) == 0);
    CHECK(exn_plugin_call(p, "noop", NULL, 0, NULL, EXN_TIMEOUT_DEFAULT, &out) == EXN_OK);
    CHECK(exn_plugin_trap_frames(p, funcs, 8) == 0);
    CHECK(exn_plugin_trap_frames(NULL, funcs, 8) == 0);
    extism_plugin_free(p);
    free(wasm);
}

/* ---- host functions: user data is destroyed exactly once ----------------------------------- */

static int destroyed;

static void destroy(void *user_data)
{
    (void)user_data;
    destroyed++;
}

/* transform(i64) -> i64 returns its argument; ping(i64) -> i64 returns it plus user data */
static void identity(ExtismCurrentPlugin *plugin, const ExtismVal *in, ExtismSize n_in,
                     ExtismVal *out, ExtismSize n_out, void *user_data)
{
    (void)plugin, (void)n_in, (void)n_out;
    out[0].v.i64 = in[0].v.i64 + (user_data ? *(int64_t *)user_data : 0);
}

static void test_host_function_lifetime(void)
{
    static const ExtismValType i64[] = {ExtismValType_I64};
    static int64_t ten = 10;
    size_t len;
    uint8_t *wasm = read_plugin("host_calls", &len);
    char err[512];

    destroyed = 0;
    ExtismFunction *t = extism_function_new("transform", i64, 1, i64, 1, identity, NULL, destroy);
    ExtismFunction *g = extism_function_new("ping", i64, 1, i64, 1, identity, &ten, destroy);
    const ExtismFunction *fns[] = {t, g};
    ExtismPlugin *p = NULL;

    /* creation fails: the plugin's references are dropped, the functions live on */
    CHECK(exn_plugin_new((const uint8_t *)"junk", 4, fns, 2, false, &p, err, sizeof err) != EXN_OK);
    CHECK(destroyed == 0);

    CHECK(exn_plugin_new(wasm, len, fns, 2, false, &p, err, sizeof err) == EXN_OK);
    extism_function_free(t);
    extism_function_free(g);
    CHECK(destroyed == 0); /* the plugin still holds them */
    uint8_t n[8] = {3};
    exn_call_result_t out;
    CHECK(exn_plugin_call(p, "ping_loop", n, 8, NULL, EXN_TIMEOUT_DEFAULT, &out) == EXN_OK);
    CHECK(out.output_len == 8 && out.output[0] == 0 + 1 + 2 + 30);
    extism_plugin_free(p);
    CHECK(destroyed == 2);

    /* a name that is not UTF-8: NULL, and the user data is released at once */
    CHECK(extism_function_new("\xff", i64, 1, i64, 1, identity, NULL, destroy) == NULL);
    CHECK(destroyed == 3);

    /* out of memory anywhere in creation: still exactly once per function */
    for (long k = 0; k < 200; k++) {
        destroyed = 0;
        exn_testing_fail_allocation_after(k);
        t = extism_function_new("transform", i64, 1, i64, 1, identity, NULL, destroy);
        g = extism_function_new("ping", i64, 1, i64, 1, identity, &ten, destroy);
        const ExtismFunction *both[] = {t, g};
        p = NULL;
        if (t && g)
            exn_plugin_new(wasm, len, both, 2, false, &p, err, sizeof err);
        exn_testing_fail_allocation_after(-1);
        extism_function_free(t);
        extism_function_free(g);
        extism_plugin_free(p);
        CHECK(destroyed == 2);
    }
    free(wasm);
}

int main(void)
{
    test_base64();
    test_sha256();
    test_json();
    test_strmap();
    test_kmem();
    test_manifest();
    test_out_of_memory();
    test_trap_frames();
    test_host_function_lifetime();
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
