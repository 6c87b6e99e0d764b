/* os_win32.c: os.h on Windows.  One of the two files of the core (with os_posix.c) that include
 * operating-system headers.
 * May call: the operating system, internal.h. */
#if defined(_WIN32)

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <bcrypt.h>
#include <stdio.h>

#include "os.h"

void *exn_os_reserve(size_t size)
{
    return VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_NOACCESS);
}

int exn_os_commit(void *addr, size_t size)
{
    return VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE) ? 0 : -1;
}

int exn_os_zero_pages(void *addr, size_t size)
{
    /* decommitted pages read as zero once committed again */
    if (!VirtualFree(addr, size, MEM_DECOMMIT))
        return -1;
    return VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE) ? 0 : -1;
}

int exn_os_decommit(void *addr, size_t size)
{
    return VirtualFree(addr, size, MEM_DECOMMIT) ? 0 : -1;
}

int exn_os_map_private(void *addr, size_t size, intptr_t fd)
{
    (void)addr, (void)size, (void)fd;
    return -1; /* (VirtualAlloc2/MapViewOfFile3 placeholders could; the copy is used instead) */
}

int exn_os_remap_zero(void *addr, size_t size)
{
    return exn_os_zero_pages(addr, size);
}

void exn_os_release(void *addr, size_t size)
{
    (void)size;
    VirtualFree(addr, 0, MEM_RELEASE);
}

size_t exn_os_page_size(void)
{
    static size_t page;
    if (!page) {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        page = si.dwPageSize ? si.dwPageSize : 4096;
    }
    return page;
}

int exn_os_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ULONG n = len > 0x10000000u ? 0x10000000u : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, p, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

void exn_os_utc_timestamp(char *buf, size_t buf_len)
{
    SYSTEMTIME t;
    GetSystemTime(&t);
    exn_fmt(buf, buf_len, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", t.wYear, t.wMonth, t.wDay, t.wHour,
            t.wMinute, t.wSecond, t.wMilliseconds);
}

uint64_t exn_os_coarse_ns(void)
{
    return (uint64_t)GetTickCount64() * 1000000u;
}

uint64_t exn_os_monotonic_ns(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;
    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    uint64_t sec = (uint64_t)now.QuadPart / (uint64_t)freq.QuadPart;
    uint64_t rem = (uint64_t)now.QuadPart % (uint64_t)freq.QuadPart;
    return sec * 1000000000u + rem * 1000000000u / (uint64_t)freq.QuadPart;
}

uintptr_t exn_os_stack_low(void)
{
    ULONG_PTR low = 0, high = 0;
    GetCurrentThreadStackLimits(&low, &high);
    /* keep clear of the guard pages at the low end */
    return (uintptr_t)low + 3 * exn_os_page_size();
}

uintptr_t exn_os_thread_id(void)
{
    return (uintptr_t)GetCurrentThreadId() + 1;
}

struct exn_mutex {
    SRWLOCK lock;
};

exn_mutex_t *exn_os_mutex_new(void)
{
    exn_mutex_t *m = exn_malloc(sizeof *m);
    if (m)
        InitializeSRWLock(&m->lock);
    return m;
}

void exn_os_mutex_free(exn_mutex_t *m)
{
    exn_free(m);
}

void exn_os_mutex_lock(exn_mutex_t *m)
{
    AcquireSRWLockExclusive(&m->lock);
}

void exn_os_mutex_unlock(exn_mutex_t *m)
{
    ReleaseSRWLockExclusive(&m->lock);
}

static SRWLOCK global_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE global_cond = CONDITION_VARIABLE_INIT;
static CONDITION_VARIABLE plugins_cond = CONDITION_VARIABLE_INIT;

static void wait_on(CONDITION_VARIABLE *cond, uint64_t deadline_ns)
{
    DWORD ms = INFINITE;
    if (deadline_ns) {
        uint64_t now = exn_os_monotonic_ns();
        if (deadline_ns <= now)
            return;
        uint64_t rel = (deadline_ns - now + 999999) / 1000000;
        ms = rel >= INFINITE ? INFINITE - 1 : (DWORD)rel;
    }
    SleepConditionVariableSRW(cond, &global_lock, ms, 0);
}

void exn_os_global_wait(uint64_t deadline_ns)
{
    wait_on(&global_cond, deadline_ns);
}

void exn_os_global_signal(void)
{
    WakeConditionVariable(&global_cond);
}

void exn_os_global_wait_plugins(uint64_t deadline_ns)
{
    wait_on(&plugins_cond, deadline_ns);
}

void exn_os_global_broadcast_plugins(void)
{
    WakeAllConditionVariable(&plugins_cond);
}

typedef struct {
    void (*fn)(void *);
    void *arg;
} thread_start_t;

static DWORD WINAPI thread_main(LPVOID p)
{
    thread_start_t start = *(thread_start_t *)p;
    exn_free(p);
    start.fn(start.arg);
    return 0;
}

int exn_os_thread_start(void (*fn)(void *), void *arg)
{
    thread_start_t *start = exn_malloc(sizeof *start);
    if (!start)
        return -1;
    start->fn = fn;
    start->arg = arg;
    HANDLE h =
        CreateThread(NULL, 64 * 1024, thread_main, start, STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
    if (!h) {
        exn_free(start);
        return -1;
    }
    CloseHandle(h);
    return 0;
}

void exn_os_global_reinit(void) {}

void exn_os_atfork_child(void (*fn)(void))
{
    (void)fn; /* no fork() on Windows */
}

void exn_os_global_lock(void)
{
    AcquireSRWLockExclusive(&global_lock);
}

void exn_os_global_unlock(void)
{
    ReleaseSRWLockExclusive(&global_lock);
}

exn_status_t exn_os_read_file(const char *path, uint8_t **out_data, size_t *out_len, char *errbuf,
                              size_t errbuf_len)
{
    *out_data = NULL;
    *out_len = 0;
    /* paths are UTF-8: convert for the wide API */
    int wlen = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (wlen <= 0) {
        exn_fmt(errbuf, errbuf_len, "cannot open \"%s\": path is not valid UTF-8", path);
        return EXN_ERR_MANIFEST;
    }
    wchar_t *wpath = exn_malloc((size_t)wlen * sizeof(wchar_t));
    if (!wpath)
        return EXN_ERR_NOMEM;
    MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, wlen);
    HANDLE h = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    exn_free(wpath);
    if (h == INVALID_HANDLE_VALUE) {
        exn_fmt(errbuf, errbuf_len, "cannot open \"%s\": error %lu", path,
                (unsigned long)GetLastError());
        return EXN_ERR_MANIFEST;
    }
    LARGE_INTEGER size;
    if (!GetFileSizeEx(h, &size) || (uint64_t)size.QuadPart > (uint64_t)SIZE_MAX / 2) {
        CloseHandle(h);
        exn_fmt(errbuf, errbuf_len, "cannot read \"%s\"", path);
        return EXN_ERR_MANIFEST;
    }
    size_t len = (size_t)size.QuadPart, got = 0;
    uint8_t *data = exn_malloc(len ? len : 1);
    if (!data) {
        CloseHandle(h);
        return EXN_ERR_NOMEM;
    }
    while (got < len) {
        DWORD want = len - got > 0x40000000u ? 0x40000000u : (DWORD)(len - got), n = 0;
        if (!ReadFile(h, data + got, want, &n, NULL) || n == 0)
            break;
        got += n;
    }
    CloseHandle(h);
    if (got != len) {
        exn_free(data);
        exn_fmt(errbuf, errbuf_len, "cannot read \"%s\"", path);
        return EXN_ERR_MANIFEST;
    }
    *out_data = data;
    *out_len = len;
    return EXN_OK;
}

#else
typedef int exn_os_win32_unused; /* ISO C forbids an empty translation unit */
#endif
