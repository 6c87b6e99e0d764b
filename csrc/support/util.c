/* util.c: the allocator hook and bounded formatting shared by the whole core (internal.h).
 * With EXN_TESTING defined, allocations can be made to fail on purpose
 * (exn_testing_fail_allocation_after) so tests can check every out-of-memory path.
 * May call: the C library. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#ifdef EXN_TESTING
static long fail_countdown = -1; /* -1: never fail */

/* Make the n-th allocation from now fail (n = 0: the next one); -1 disables.  Test builds only. */
EXTISM_API void exn_testing_fail_allocation_after(long n);
void exn_testing_fail_allocation_after(long n)
{
    fail_countdown = n;
}

static bool should_fail(void)
{
    if (fail_countdown < 0)
        return false;
    return fail_countdown-- == 0;
}
#else
#define should_fail() false
#endif

void *exn_malloc(size_t size)
{
    return should_fail() ? NULL : malloc(size ? size : 1);
}

void *exn_calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *exn_realloc(void *ptr, size_t size)
{
    return should_fail() ? NULL : realloc(ptr, size ? size : 1);
}

void exn_free(void *ptr)
{
    free(ptr);
}

char *exn_strndup(const char *s, size_t len)
{
    char *out = exn_malloc(len + 1);
    if (out) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

void exn_vfmt(char *buf, size_t buf_len, const char *fmt, va_list ap)
{
    if (!buf || !buf_len)
        return;
    int n = vsnprintf(buf, buf_len, fmt, ap);
    if (n < 0)
        buf[0] = '\0';
}

void exn_fmt(char *buf, size_t buf_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(buf, buf_len, fmt, ap);
    va_end(ap);
}
