/* engine/native/sys_win32.c: sys.h on Windows, where the compiled tier is not available yet
 * (it needs CreateProcess for the compiler, LoadLibrary, and a vectored exception handler or
 * explicit bounds checks): every function fails, exn_nsys_available says why, and plugins run
 * on wasm3.
 * May call: sys.h. */
#if defined(_WIN32)

#include "engine/native/sys.h"

#include <stdlib.h>

bool exn_nsys_available(const char **why)
{
    *why = "the compiled tier is not available on Windows yet";
    return false;
}

int exn_nsys_spawn(char *const argv[], const char *out_path, intptr_t *out_pid)
{
    (void)argv, (void)out_path, (void)out_pid;
    return -1;
}

int exn_nsys_wait(intptr_t pid)
{
    (void)pid;
    return -1;
}

int exn_nsys_capture(char *const argv[], char *out, size_t out_len)
{
    (void)argv;
    if (out_len)
        out[0] = 0;
    return -1;
}

int exn_nsys_which(const char *name, char *out, size_t out_len)
{
    (void)name, (void)out, (void)out_len;
    return -1;
}

int exn_nsys_file_id(const char *path, char *out, size_t out_len)
{
    (void)path, (void)out, (void)out_len;
    return -1;
}

uint32_t exn_nsys_cpus(void)
{
    return 1;
}

const char *exn_nsys_getenv(const char *name)
{
    return getenv(name);
}

int exn_nsys_default_cache_dir(char *out, size_t out_len)
{
    (void)out, (void)out_len;
    return -1;
}

int exn_nsys_private_dir(const char *path, char *why, size_t why_len)
{
    (void)path;
    exn_fmt(why, why_len, "not available on Windows");
    return -1;
}

int exn_nsys_temp_dir(const char *base, char *out, size_t out_len)
{
    (void)base, (void)out, (void)out_len;
    return -1;
}

int exn_nsys_read_private(const char *path, uint8_t **out_data, size_t *out_len, char *why,
                          size_t why_len)
{
    (void)path;
    *out_data = NULL;
    *out_len = 0;
    exn_fmt(why, why_len, "not available on Windows");
    return -1;
}

int exn_nsys_write_file(const char *path, const void *data, size_t len)
{
    (void)path, (void)data, (void)len;
    return -1;
}

int exn_nsys_rename(const char *from, const char *to)
{
    (void)from, (void)to;
    return -1;
}

void exn_nsys_remove(const char *path)
{
    (void)path;
}

int exn_nsys_open_private(const char *path, intptr_t *out_fd, uint64_t *out_size, char *why,
                          size_t why_len)
{
    (void)path, (void)out_fd, (void)out_size;
    exn_fmt(why, why_len, "not on Windows");
    return -1;
}

const uint8_t *exn_nsys_map_readonly(intptr_t fd, size_t len)
{
    (void)fd, (void)len;
    return NULL;
}

void exn_nsys_unmap(const uint8_t *map, size_t len)
{
    (void)map, (void)len;
}

int exn_nsys_image_create(size_t size, intptr_t *out_fd, uint8_t **out_map)
{
    (void)size, (void)out_fd, (void)out_map;
    return -1;
}

void exn_nsys_image_seal(intptr_t fd, uint8_t *map, size_t size)
{
    (void)fd, (void)map, (void)size;
}

void exn_nsys_close(intptr_t fd)
{
    (void)fd;
}

void *exn_nsys_dlopen(const char *path, char *why, size_t why_len)
{
    (void)path;
    exn_fmt(why, why_len, "not available on Windows");
    return NULL;
}

void *exn_nsys_dlsym(void *lib, const char *name)
{
    (void)lib, (void)name;
    return NULL;
}

uintptr_t exn_nsys_lib_base(const void *addr)
{
    (void)addr;
    return 0;
}

void exn_nsys_dlclose(void *lib)
{
    (void)lib;
}

int exn_nsys_fault_handler(void (*handler)(void *addr, void *pc, void *fp))
{
    (void)handler;
    return -1;
}

#endif
