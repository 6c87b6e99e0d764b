/* simd_bench.c: the same two computations written with wasm SIMD (v128) and as plain scalar
 * loops, to compare the interpreter's speed on both (built with -msimd128; the scalar loops
 * are kept scalar with `vectorize(disable)`, or clang would turn them into SIMD too).
 *
 *   sum_simd / sum_scalar      the sum of the input's bytes, as a little-endian u64
 *   count_simd / count_scalar  how many input bytes are 'e', as a little-endian u64
 *
 * Each export copies the input into linear memory once, then runs over it REPS times (the
 * result is REPS times the one-pass value), so that the copy costs little of the time. */
#include <stdint.h>
#include <stdlib.h>
#include <wasm_simd128.h>

#include "extism_pdk.h"

#define REPS 8

static void output_u64(uint64_t v)
{
    exn_output(&v, sizeof v);
}

static uint64_t sum_scalar_once(const uint8_t *p, uint64_t n)
{
    uint64_t s = 0;
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (uint64_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

static uint64_t sum_simd_once(const uint8_t *p, uint64_t n)
{
    v128_t acc = wasm_i32x4_splat(0);
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v128_t bytes = wasm_v128_load(p + i);
        acc = wasm_i32x4_add(acc, wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(bytes)));
    }
    uint64_t s = (uint64_t)wasm_u32x4_extract_lane(acc, 0) + wasm_u32x4_extract_lane(acc, 1) +
                 wasm_u32x4_extract_lane(acc, 2) + wasm_u32x4_extract_lane(acc, 3);
    return s + sum_scalar_once(p + i, n - i);
}

static uint64_t count_scalar_once(const uint8_t *p, uint64_t n, uint8_t c)
{
    uint64_t k = 0;
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (uint64_t i = 0; i < n; i++)
        k += p[i] == c;
    return k;
}

static uint64_t count_simd_once(const uint8_t *p, uint64_t n, uint8_t c)
{
    const v128_t needle = wasm_i8x16_splat((int8_t)c);
    uint64_t k = 0, i = 0;
    while (i + 16 <= n) {
        /* up to 255 blocks per byte counter: each match subtracts -1 from its lane */
        v128_t acc = wasm_i8x16_splat(0);
        for (int blocks = 0; blocks < 255 && i + 16 <= n; blocks++, i += 16)
            acc = wasm_i8x16_sub(acc, wasm_i8x16_eq(wasm_v128_load(p + i), needle));
        v128_t wide = wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(acc));
        k += (uint64_t)wasm_u32x4_extract_lane(wide, 0) + wasm_u32x4_extract_lane(wide, 1) +
             wasm_u32x4_extract_lane(wide, 2) + wasm_u32x4_extract_lane(wide, 3);
    }
    return k + count_scalar_once(p + i, n - i, c);
}

#define EXPORT_REPS(NAME, EXPR)                                                                 \
    EXN_EXPORT(#NAME) int32_t NAME(void)                                                        \
    {                                                                                           \
        uint64_t n;                                                                             \
        uint8_t *p = (uint8_t *)exn_input(&n);                                                  \
        if (!p)                                                                                 \
            return exn_fail("out of memory");                                                   \
        uint64_t total = 0;                                                                     \
        for (int r = 0; r < REPS; r++)                                                          \
            total += (EXPR);                                                                    \
        free(p);                                                                                \
        output_u64(total);                                                                      \
        return 0;                                                                               \
    }

EXPORT_REPS(sum_scalar, sum_scalar_once(p, n))
EXPORT_REPS(sum_simd, sum_simd_once(p, n))
EXPORT_REPS(count_scalar, count_scalar_once(p, n, 'e'))
EXPORT_REPS(count_simd, count_simd_once(p, n, 'e'))
