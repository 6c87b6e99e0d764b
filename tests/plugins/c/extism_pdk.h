/* extism_pdk.h: a small plugin kit for writing Extism plugins in C (clang, wasm32-wasi
 * reactor, wasi-libc).  Written for extism_native's tests: it uses the kernel the way the
 * official C PDK does (input through input_offset + load_u64/load_u8, output through
 * alloc + store_u64/store_u8 + output_set, logging gated by get_log_level), so tests exercise
 * the same import paths real C plugins do.
 *
 * Declare an export with EXN_EXPORT("name") on an `int32_t f(void)`; return 0 for success. */
#ifndef EXN_PDK_H
#define EXN_PDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXN_IMPORT(name) __attribute__((import_module("extism:host/env"), import_name(name)))
#define EXN_EXPORT(name) __attribute__((export_name(name)))

typedef uint64_t exn_handle;

/* ---- the extism:host/env imports (spec section 1.2) ------------------------------------- */
EXN_IMPORT("alloc") exn_handle exn_alloc(uint64_t n);
EXN_IMPORT("free") void exn_free(exn_handle h);
EXN_IMPORT("length") uint64_t exn_length(exn_handle h);
EXN_IMPORT("length_unsafe") uint64_t exn_length_unsafe(exn_handle h);
EXN_IMPORT("load_u8") uint8_t exn_load_u8(exn_handle addr);
EXN_IMPORT("load_u64") uint64_t exn_load_u64(exn_handle addr);
EXN_IMPORT("store_u8") void exn_store_u8(exn_handle addr, uint8_t byte);
EXN_IMPORT("store_u64") void exn_store_u64(exn_handle addr, uint64_t value);
EXN_IMPORT("input_length") uint64_t exn_input_length(void);
EXN_IMPORT("input_load_u8") uint8_t exn_input_load_u8(uint64_t offset);
EXN_IMPORT("input_load_u64") uint64_t exn_input_load_u64(uint64_t offset);
EXN_IMPORT("input_offset") exn_handle exn_input_offset(void);
EXN_IMPORT("output_set") void exn_output_set(exn_handle h, uint64_t len);
EXN_IMPORT("error_set") void exn_error_set(exn_handle h);
EXN_IMPORT("config_get") exn_handle exn_config_get(exn_handle key);
EXN_IMPORT("var_get") exn_handle exn_var_get(exn_handle key);
EXN_IMPORT("var_set") void exn_var_set(exn_handle key, exn_handle value);
EXN_IMPORT("http_request") exn_handle exn_http_request(exn_handle req, exn_handle body);
EXN_IMPORT("http_status_code") int32_t exn_http_status_code(void);
EXN_IMPORT("http_headers") exn_handle exn_http_headers(void);
EXN_IMPORT("log_trace") void exn_log_trace(exn_handle msg);
EXN_IMPORT("log_debug") void exn_log_debug(exn_handle msg);
EXN_IMPORT("log_info") void exn_log_info(exn_handle msg);
EXN_IMPORT("log_warn") void exn_log_warn(exn_handle msg);
EXN_IMPORT("log_error") void exn_log_error(exn_handle msg);
EXN_IMPORT("get_log_level") int32_t exn_get_log_level(void);

/* ---- helpers --------------------------------------------------------------------------- */

/* Copy n bytes of kernel memory at h into dst: whole 8-byte words, then the tail. */
static inline void exn_load(exn_handle h, void *dst, uint64_t n)
{
    uint8_t *d = dst;
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = exn_load_u64(h + i);
        memcpy(d + i, &w, 8);
    }
    for (; i < n; i++)
        d[i] = exn_load_u8(h + i);
}

/* Copy n bytes from src into kernel memory at h. */
static inline void exn_store(exn_handle h, const void *src, uint64_t n)
{
    const uint8_t *s = src;
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        exn_store_u64(h + i, w);
    }
    for (; i < n; i++)
        exn_store_u8(h + i, s[i]);
}

/* A new block holding a copy of n bytes (0 for n == 0). */
static inline exn_handle exn_alloc_bytes(const void *src, uint64_t n)
{
    exn_handle h = n ? exn_alloc(n) : 0;
    if (h)
        exn_store(h, src, n);
    return h;
}

static inline exn_handle exn_alloc_str(const char *s)
{
    return exn_alloc_bytes(s, strlen(s));
}

/* The whole input, malloc'ed and NUL-terminated (read through the input block, as the C PDK
 * does); *len gets its length. */
static inline char *exn_input(uint64_t *len)
{
    uint64_t n = exn_input_length();
    char *buf = malloc((size_t)n + 1);
    if (!buf)
        return NULL;
    exn_load(exn_input_offset(), buf, n);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static inline void exn_output(const void *data, uint64_t n)
{
    exn_output_set(exn_alloc_bytes(data, n), n);
}

static inline void exn_output_str(const char *s)
{
    exn_output(s, strlen(s));
}

/* Set the call's error text; returns 1 for `return exn_fail(...)`. */
static inline int32_t exn_fail(const char *message)
{
    exn_error_set(exn_alloc_str(message));
    return 1;
}

/* A malloc'ed, NUL-terminated copy of block h (NULL for 0); *len gets its length. */
static inline char *exn_read_block(exn_handle h, uint64_t *len)
{
    if (!h)
        return NULL;
    uint64_t n = exn_length(h);
    char *buf = malloc((size_t)n + 1);
    if (!buf)
        return NULL;
    exn_load(h, buf, n);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Config value for key, malloc'ed (NULL when missing or empty). */
static inline char *exn_config(const char *key, uint64_t *len)
{
    return exn_read_block(exn_config_get(exn_alloc_str(key)), len);
}

/* Var value for key, malloc'ed (NULL when missing). */
static inline char *exn_var(const char *key, uint64_t *len)
{
    return exn_read_block(exn_var_get(exn_alloc_str(key)), len);
}

/* Store a var; an empty value deletes it. */
static inline void exn_set_var(const char *key, const void *value, uint64_t n)
{
    exn_var_set(exn_alloc_str(key), exn_alloc_bytes(value, n));
}

/* ---- text without stdio (stdio would import WASI for stdout) ------------------------------ */

/* Append the decimal digits of v to buf at *len (buf needs 21 free bytes). */
static inline void exn_append_u64(char *buf, size_t *len, uint64_t v)
{
    char tmp[21];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        buf[(*len)++] = tmp[--n];
}

static inline void exn_append(char *buf, size_t *len, const char *s, size_t n)
{
    memcpy(buf + *len, s, n);
    *len += n;
}

static inline void exn_append_str(char *buf, size_t *len, const char *s)
{
    exn_append(buf, len, s, strlen(s));
}

enum { EXN_TRACE = 0, EXN_DEBUG = 1, EXN_INFO = 2, EXN_WARN = 3, EXN_ERROR = 4 };

/* Log a message unless the host's level is above `level` (the C PDK's rule); returns whether
 * it was sent. */
static inline bool exn_log(int32_t level, const char *message)
{
    if (level < exn_get_log_level())
        return false;
    exn_handle h = exn_alloc_str(message);
    switch (level) {
    case EXN_TRACE: exn_log_trace(h); break;
    case EXN_DEBUG: exn_log_debug(h); break;
    case EXN_INFO: exn_log_info(h); break;
    case EXN_WARN: exn_log_warn(h); break;
    default: exn_log_error(h); break;
    }
    return true;
}

#endif
