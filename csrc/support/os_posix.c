/* os_posix.c: os.h on POSIX systems (Linux, macOS, the BSDs).  One of the two files of the core
 * (with os_win32.c) that include operating-system headers.
 * May call: the operating system, internal.h. */
#if !defined(_WIN32)

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* pthread_getattr_np, MAP_NORESERVE */
#endif

#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <sys/random.h>
#elif defined(__linux__)
#include <sys/syscall.h>
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

void *exn_os_reserve(size_t size)
{
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int exn_os_commit(void *addr, size_t size)
{
    return mprotect(addr, size, PROT_READ | PROT_WRITE) == 0 ? 0 : -1;
}

int exn_os_zero_pages(void *addr, size_t size)
{
#if defined(__linux__)
    /* Linux guarantees zero-fill-on-demand for private anonymous pages after MADV_DONTNEED:
     * cheaper than a new mapping, and the range keeps its protection */
    if (madvise(addr, size, MADV_DONTNEED) == 0)
        return 0;
#endif
    /* a fresh private mapping over the range: zero pages, nothing resident (portable POSIX,
     * unlike MADV_DONTNEED whose zero-fill guarantee is Linux's) */
    void *p =
        mmap(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return p == addr ? 0 : -1;
}

int exn_os_decommit(void *addr, size_t size)
{
    /* fresh inaccessible pages over the range: the old ones (and their memory) are gone */
    void *p =
        mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    return p == addr ? 0 : -1;
}

int exn_os_map_private(void *addr, size_t size, intptr_t fd)
{
    void *p = mmap(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, (int)fd, 0);
    return p == addr ? 0 : -1;
}

int exn_os_remap_zero(void *addr, size_t size)
{
    void *p =
        mmap(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return p == addr ? 0 : -1;
}

void exn_os_release(void *addr, size_t size)
{
    munmap(addr, size);
}

size_t exn_os_page_size(void)
{
    /* computed once; threads racing here all store the same value (atomics keep it defined) */
    static size_t page;
    size_t v = __atomic_load_n(&page, __ATOMIC_RELAXED);
    if (!v) {
        long n = sysconf(_SC_PAGESIZE);
        v = n > 0 ? (size_t)n : 4096;
        __atomic_store_n(&page, v, __ATOMIC_RELAXED);
    }
    return v;
}

int exn_os_random(void *buf, size_t len)
{
    uint8_t *p = buf;
#if defined(__APPLE__)
    while (len) {
        size_t n = len > 256 ? 256 : len;
        if (getentropy(p, n) != 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
#else
#if defined(__linux__) && defined(SYS_getrandom)
    while (len) {
        long n = syscall(SYS_getrandom, p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break; /* old kernel: fall back to /dev/urandom */
        }
        p += n;
        len -= (size_t)n;
    }
    if (!len)
        return 0;
#endif
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    close(fd);
    return 0;
#endif
}

void exn_os_utc_timestamp(char *buf, size_t buf_len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t secs = ts.tv_sec;
    gmtime_r(&secs, &tm);
    exn_fmt(buf, buf_len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

uint64_t exn_os_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t exn_os_coarse_ns(void)
{
#ifdef CLOCK_MONOTONIC_COARSE
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#else
    return exn_os_monotonic_ns();
#endif
}

uintptr_t exn_os_stack_low(void)
{
#if defined(__APPLE__)
    pthread_t self = pthread_self();
    uintptr_t top = (uintptr_t)pthread_get_stackaddr_np(self);
    return top - pthread_get_stacksize_np(self);
#elif defined(__linux__) || defined(__FreeBSD__)
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
#if defined(__FreeBSD__)
    if (pthread_attr_init(&attr) != 0 || pthread_attr_get_np(pthread_self(), &attr) != 0)
        return 0;
#else
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return 0;
#endif
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    return rc == 0 ? (uintptr_t)addr : 0;
#else
    return 0;
#endif
}

uintptr_t exn_os_thread_id(void)
{
    /* the address of a thread-local is unique among live threads and never 0 */
    static _Thread_local char marker;
    return (uintptr_t)&marker;
}

struct exn_mutex {
    pthread_mutex_t m;
};

exn_mutex_t *exn_os_mutex_new(void)
{
    exn_mutex_t *m = exn_malloc(sizeof *m);
    if (m && pthread_mutex_init(&m->m, NULL) != 0) {
        exn_free(m);
        m = NULL;
    }
    return m;
}

void exn_os_mutex_free(exn_mutex_t *m)
{
    if (m) {
        pthread_mutex_destroy(&m->m);
        exn_free(m);
    }
}

void exn_os_mutex_lock(exn_mutex_t *m)
{
    pthread_mutex_lock(&m->m);
}

void exn_os_mutex_unlock(exn_mutex_t *m)
{
    pthread_mutex_unlock(&m->m);
}

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t global_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t plugins_cond = PTHREAD_COND_INITIALIZER;

/* Waits use the realtime clock (pthread_condattr_setclock is missing on macOS); deadlines are
 * on the monotonic clock, so they are converted to a relative wait each time.  A clock jump can
 * only make one wait end early or late once; the caller re-checks the monotonic clock. */
static void wait_on(pthread_cond_t *cond, uint64_t deadline_ns)
{
    if (!deadline_ns) {
        pthread_cond_wait(cond, &global_lock);
        return;
    }
    uint64_t now = exn_os_monotonic_ns();
    if (deadline_ns <= now)
        return;
    uint64_t rel = deadline_ns - now;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t nsec = (uint64_t)ts.tv_nsec + rel % 1000000000u;
    ts.tv_sec += (time_t)(rel / 1000000000u + nsec / 1000000000u);
    ts.tv_nsec = (long)(nsec % 1000000000u);
    pthread_cond_timedwait(cond, &global_lock, &ts);
}

void exn_os_global_wait(uint64_t deadline_ns)
{
    wait_on(&global_cond, deadline_ns);
}

void exn_os_global_signal(void)
{
    pthread_cond_signal(&global_cond);
}

void exn_os_global_wait_plugins(uint64_t deadline_ns)
{
    wait_on(&plugins_cond, deadline_ns);
}

void exn_os_global_broadcast_plugins(void)
{
    pthread_cond_broadcast(&plugins_cond);
}

typedef struct {
    void (*fn)(void *);
    void *arg;
} thread_start_t;

static void *thread_main(void *p)
{
    thread_start_t start = *(thread_start_t *)p;
    exn_free(p);
    start.fn(start.arg);
    return NULL;
}

int exn_os_thread_start(void (*fn)(void *), void *arg)
{
    thread_start_t *start = exn_malloc(sizeof *start);
    if (!start)
        return -1;
    start->fn = fn;
    start->arg = arg;
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int rc = pthread_create(&thread, &attr, thread_main, start);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        exn_free(start);
        return -1;
    }
    return 0;
}

void exn_os_atfork_child(void (*fn)(void))
{
    pthread_atfork(NULL, NULL, fn);
}

void exn_os_global_lock(void)
{
    pthread_mutex_lock(&global_lock);
}

void exn_os_global_unlock(void)
{
    pthread_mutex_unlock(&global_lock);
}

void exn_os_global_reinit(void)
{
    pthread_mutex_init(&global_lock, NULL);
    pthread_cond_init(&global_cond, NULL);
    pthread_cond_init(&plugins_cond, NULL);
}

exn_status_t exn_os_read_file(const char *path, uint8_t **out_data, size_t *out_len, char *errbuf,
                              size_t errbuf_len)
{
    *out_data = NULL;
    *out_len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        exn_fmt(errbuf, errbuf_len, "cannot open \"%s\": %s", path, strerror(errno));
        return EXN_ERR_MANIFEST;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        exn_fmt(errbuf, errbuf_len, "cannot read \"%s\": not a regular file", path);
        close(fd);
        return EXN_ERR_MANIFEST;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 4096, len = 0;
    uint8_t *data = exn_malloc(cap ? cap : 1);
    if (!data) {
        close(fd);
        exn_fmt(errbuf, errbuf_len, "out of memory reading \"%s\"", path);
        return EXN_ERR_NOMEM;
    }
    for (;;) {
        if (len == cap) {
            uint8_t *bigger = cap * 2 > cap ? exn_realloc(data, cap * 2) : NULL;
            if (!bigger) {
                exn_free(data);
                close(fd);
                exn_fmt(errbuf, errbuf_len, "out of memory reading \"%s\"", path);
                return EXN_ERR_NOMEM;
            }
            data = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            exn_fmt(errbuf, errbuf_len, "cannot read \"%s\": %s", path, strerror(errno));
            exn_free(data);
            close(fd);
            return EXN_ERR_MANIFEST;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    *out_data = data;
    *out_len = len;
    return EXN_OK;
}

#else
typedef int exn_os_posix_unused; /* ISO C forbids an empty translation unit */
#endif
