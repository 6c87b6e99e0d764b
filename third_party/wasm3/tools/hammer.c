/* hammer.c: parallel plugins for ThreadSanitizer or helgrind - one engine per plugin must be
 * safe in parallel (patch 0008):
 *
 *     cmake -S . -B build/tsan -DEXN_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo
 *     cmake --build build/tsan --target extism_native_shared
 *     cc -fsanitize=thread -g hammer.c -Icsrc -Lbuild/tsan -lextism_native -lpthread -o hammer
 *     ./hammer tests/plugins/wasm
 *
 * THREADS threads each create and free ROUNDS plugins of three kinds (compiling, trapping,
 * growing memory, indirect calls through tables, the kernel) and call them; exits non-zero if
 * a call gives a wrong result. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extism.h"

#ifndef THREADS
#define THREADS 4
#endif
#define ROUNDS 20

typedef struct {
    uint8_t *data;
    size_t len;
} blob_t;

static blob_t kitchen, edge, features;
static int failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static blob_t load(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.wasm", dir, name);
    blob_t b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "missing %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    b.len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b.data = malloc(b.len);
    if (!b.data || fread(b.data, 1, b.len, f) != b.len)
        exit(2);
    fclose(f);
    return b;
}

static void check(int ok, const char *what)
{
    if (!ok) {
        pthread_mutex_lock(&lock);
        failures++;
        fprintf(stderr, "failed: %s\n", what);
        pthread_mutex_unlock(&lock);
    }
}

static ExtismPlugin *plugin(blob_t b)
{
    char *err = NULL;
    ExtismPlugin *p = extism_plugin_new(b.data, b.len, NULL, 0, false, &err);
    if (!p) {
        fprintf(stderr, "%s\n", err ? err : "?");
        exit(1);
    }
    return p;
}

static void *worker(void *arg)
{
    (void)arg;
    const char *text = "a hammer of vowels: aeiou";
    for (int i = 0; i < ROUNDS; i++) {
        ExtismPlugin *k = plugin(kitchen), *e = plugin(edge), *f = plugin(features);
        check(extism_plugin_call(k, "count_vowels", (const uint8_t *)text, strlen(text)) == 0,
              "count_vowels");
        check(extism_plugin_call(f, "tables", NULL, 0) == 0, "tables");
        check(extism_plugin_call(f, "bulk_memory", NULL, 0) == 0, "bulk_memory");
#if defined(__SANITIZE_THREAD__)
        /* ThreadSanitizer's shadow call stack overflows in 20,000 nested wasm calls (every
         * interpreter operation is a frame once instrumented): only the shallow trap */
        const char *trap = "div0";
#else
        const char *trap = i % 2 ? "recurse" : "div0";
#endif
        check(extism_plugin_call(e, trap, NULL, 0) != 0, "trap");
        check(extism_plugin_call(e, "grow_one", NULL, 0) == 0, "grow_one");
        extism_plugin_free(k);
        extism_plugin_free(e);
        extism_plugin_free(f);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: hammer PLUGIN_DIR\n");
        return 2;
    }
    kitchen = load(argv[1], "kitchen");
    edge = load(argv[1], "edge");
    features = load(argv[1], "engine_features");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("%d threads x %d rounds: %d failures\n", THREADS, ROUNDS, failures);
    return failures != 0;
}
