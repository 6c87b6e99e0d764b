/* internal.h: what every file of the core shares and nothing more: fixed-width types, the
 * status codes (from the public header), symbol visibility, the allocator hook, the error-path
 * macro, a bounded formatter, atomics and reference counts.  No OS headers here (see os.h). */
#ifndef EXN_INTERNAL_H
#define EXN_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "extism_native.h"

/* Shared between files of the core but not part of any public API. */
#if defined(_WIN32) || defined(__CYGWIN__)
#define EXN_INTERNAL
#elif defined(__GNUC__) || defined(__clang__)
#define EXN_INTERNAL __attribute__((visibility("hidden")))
#else
#define EXN_INTERNAL
#endif

#if defined(__MINGW32__) /* built with __USE_MINGW_ANSI_STDIO=1 (CMakeLists.txt): C99 formats */
#define EXN_PRINTF(fmt_idx, args_idx) __attribute__((format(gnu_printf, fmt_idx, args_idx)))
#elif defined(__GNUC__) || defined(__clang__)
#define EXN_PRINTF(fmt_idx, args_idx) __attribute__((format(printf, fmt_idx, args_idx)))
#else
#define EXN_PRINTF(fmt_idx, args_idx)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define EXN_LIKELY(x) __builtin_expect(!!(x), 1)
#define EXN_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define EXN_LIKELY(x) (x)
#define EXN_UNLIKELY(x) (x)
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define EXN_THREAD_LOCAL __declspec(thread)
#else
#define EXN_THREAD_LOCAL _Thread_local
#endif

/* One cleanup label per function: `EXN_TRY(f(...));` records the status and jumps to `cleanup`
 * when it is not EXN_OK (the habit of wasm3's `_try / _() / _catch`). */
#define EXN_TRY(expr)                                                                              \
    do {                                                                                           \
        st = (expr);                                                                               \
        if (st != EXN_OK)                                                                          \
            goto cleanup;                                                                          \
    } while (0)

/* ---- allocator hook ------------------------------------------------------------------------
 * Every allocation of the core goes through these.  A build with EXN_TESTING swaps in a fault
 * injector (exn_testing_fail_allocation_after) so tests can fail the Nth allocation. */
EXN_INTERNAL void *exn_malloc(size_t size);
EXN_INTERNAL void *exn_calloc(size_t count, size_t size);
EXN_INTERNAL void *exn_realloc(void *ptr, size_t size);
EXN_INTERNAL void exn_free(void *ptr);
EXN_INTERNAL char *exn_strndup(const char *s, size_t len);

/* snprintf that always terminates and never overflows (a NULL or empty buffer is allowed). */
EXN_INTERNAL void exn_fmt(char *buf, size_t buf_len, const char *fmt, ...) EXN_PRINTF(3, 4);
EXN_INTERNAL void exn_vfmt(char *buf, size_t buf_len, const char *fmt, va_list ap);

/* ---- atomics ------------------------------------------------------------------------------ */
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static inline int exn_atomic_load(volatile long *p)
{
    return (int)_InterlockedOr(p, 0);
}
static inline void exn_atomic_store(volatile long *p, int v)
{
    _InterlockedExchange(p, v);
}
typedef volatile long exn_atomic_int;
static inline uint32_t exn_atomic_load_u32(volatile uint32_t *p)
{
    return (uint32_t)_InterlockedOr((volatile long *)p, 0);
}
static inline void exn_atomic_store_u32(volatile uint32_t *p, uint32_t v)
{
    _InterlockedExchange((volatile long *)p, (long)v);
}
static inline bool exn_atomic_cas_u32(volatile uint32_t *p, uint32_t expect, uint32_t desired)
{
    return (uint32_t)_InterlockedCompareExchange((volatile long *)p, (long)desired, (long)expect) ==
           expect;
}
#else
typedef int exn_atomic_int;
static inline int exn_atomic_load(exn_atomic_int *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void exn_atomic_store(exn_atomic_int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint32_t exn_atomic_load_u32(volatile uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void exn_atomic_store_u32(volatile uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline bool exn_atomic_cas_u32(volatile uint32_t *p, uint32_t expect, uint32_t desired)
{
    return __atomic_compare_exchange_n(p, &expect, desired, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}
#endif

/* ---- reference counts -----------------------------------------------------------------------
 * Every reference-counted object of the core (compiled plugins, host functions) holds an
 * exn_refcount_t, set to 1 by its creator.  Taking a reference needs no ordering; dropping one
 * is acquire-release, so the thread that frees the object sees every write made through the
 * other references. */
typedef exn_atomic_int exn_refcount_t;

static inline void exn_ref_retain(exn_refcount_t *refs)
{
#if defined(_MSC_VER) && !defined(__clang__)
    _InterlockedIncrement(refs);
#else
    __atomic_add_fetch(refs, 1, __ATOMIC_RELAXED);
#endif
}

/** Drop a reference; true when it was the last (the caller frees the object). */
static inline bool exn_ref_release(exn_refcount_t *refs)
{
#if defined(_MSC_VER) && !defined(__clang__)
    return _InterlockedDecrement(refs) == 0;
#else
    return __atomic_sub_fetch(refs, 1, __ATOMIC_ACQ_REL) == 0;
#endif
}

/* ---- little-endian access to unaligned bytes (kernel memory is byte-addressed) -------------- */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) &&                                    \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define EXN_BIG_ENDIAN 1
#endif

static inline uint64_t exn_read_u64le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#ifdef EXN_BIG_ENDIAN
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void exn_write_u64le(uint8_t *p, uint64_t v)
{
#ifdef EXN_BIG_ENDIAN
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, sizeof v);
}

static inline void exn_write_u32le(uint8_t *p, uint32_t v)
{
#ifdef EXN_BIG_ENDIAN
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, sizeof v);
}

#endif
