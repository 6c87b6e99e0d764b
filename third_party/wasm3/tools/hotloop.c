/* hotloop.c: a C-only workload for comparing wasm3 builds by instruction count (our patches
 * must not slow the interpreter's hot loop):
 *
 *     cc -O2 hotloop.c -Icsrc -Lbuild -lextism_native -o hotloop
 *     valgrind --tool=callgrind --callgrind-out-file=/dev/null ./hotloop PLUGIN.wasm
 *
 * Loads the plugin once (tests/plugins/wasm/bench.wasm: bench/run.py's count_vowels_1m and
 * noop workloads), then calls count_vowels on the alphabet repeated 40,330 times (1 MiB)
 * 4 times and noop 10,000 times through the public libextism API.  `hotloop PLUGIN FUNC N`
 * calls FUNC (no input) N times instead, `hotloop PLUGIN FUNC N 1m` with that 1 MiB as input
 * (tests/plugins/wasm/simd_bench.wasm: sum_simd vs sum_scalar, count_simd vs count_scalar).
 * With HOTLOOP_FUEL=N in the environment the plugin has a fuel budget of N per call
 * (extism_plugin_new_with_fuel_limit), to measure what counting fuel costs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extism.h"

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4 && !(argc == 5 && strcmp(argv[4], "1m") == 0)) {
        fprintf(stderr, "usage: hotloop PLUGIN.wasm [FUNC N [1m]]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return 2;
    static uint8_t wasm[4 << 20];
    size_t n = fread(wasm, 1, sizeof wasm, f);
    fclose(f);
    char *err = NULL;
    const char *fuel = getenv("HOTLOOP_FUEL");
    ExtismPlugin *p = fuel ? extism_plugin_new_with_fuel_limit(wasm, n, NULL, 0, false,
                                                               strtoull(fuel, NULL, 10), &err)
                           : extism_plugin_new(wasm, n, NULL, 0, false, &err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    size_t len = 26 * 40330;
    uint8_t *text = malloc(len);
    for (size_t i = 0; i < len; i++)
        text[i] = (uint8_t)('a' + i % 26);
    if (argc >= 4) {
        for (int i = 0, n = atoi(argv[3]); i < n; i++) {
            if (extism_plugin_call(p, argv[2], argc == 5 ? text : NULL, argc == 5 ? len : 0) != 0)
                return 1;
        }
        extism_plugin_free(p);
        free(text);
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        if (extism_plugin_call(p, "count_vowels", text, len) != 0)
            return 1;
    }
    fwrite(extism_plugin_output_data(p), 1, extism_plugin_output_length(p), stdout);
    printf("\n");
    for (int i = 0; i < 10000; i++) {
        if (extism_plugin_call(p, "noop", NULL, 0) != 0)
            return 1;
    }
    extism_plugin_free(p);
    free(text);
    return 0;
}
