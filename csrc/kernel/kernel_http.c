/* kernel_http.c: the HTTP imports of extism:host/env (spec section 4): http_request,
 * http_status_code, http_headers.
 *
 * The guest describes a request as JSON ({"url", "method", "headers"}) plus an optional body
 * block.  The request goes through the context's transport (or the process-wide one) under
 * its allowed_hosts (absent, null or [] deny everything; `*` and `?` glob over the host name
 * only; every redirect checked again: http/http.c) and may take the call's remaining time;
 * a body past max_http_response_bytes is refused.  Status and headers of the last response
 * stay in the context for the two other imports.
 * May call: kernel.h (the context), kernel_mem.h, http/http.h, json.h, strmap.h, watchdog.h
 * (a timeout interrupts the call). */
#include "http/http.h"
#include "kernel.h"
#include "support/json.h"
#include "support/watchdog.h"

static exn_trap_t http_fail(exn_kernel_t *k, const char *fmt, ...) EXN_PRINTF(2, 3);

static exn_trap_t http_fail(exn_kernel_t *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(k->trap_msg, sizeof k->trap_msg, fmt, ap);
    va_end(ap);
    return exn_trap_http;
}

/* Read the request description: {"url": str, "method": str|null, "headers": {str: str}|null};
 * other fields are ignored (older PDKs send fewer, some send more). */
static exn_trap_t read_request(exn_kernel_t *k, const uint8_t *json, uint64_t len,
                               exn_json_doc_t **doc, const char **url, const char **method,
                               exn_strmap_t *headers)
{
    char why[256];
    if (exn_json_parse((const char *)json, (size_t)len, doc, why, sizeof why) != EXN_OK)
        return http_fail(k, "invalid HTTP request: %s", why);
    const exn_json_t *root = exn_json_root(*doc);
    const exn_json_t *u = exn_json_get(root, "url"), *m = exn_json_get(root, "method"),
                     *h = exn_json_get(root, "headers");
    if (root->kind != EXN_JSON_OBJECT || !u || u->kind != EXN_JSON_STRING ||
        memchr(u->str, '\0', u->len))
        return http_fail(k, "invalid HTTP request: \"url\" must be a string");
    *url = u->str;
    *method = "GET";
    if (m && m->kind != EXN_JSON_NULL) {
        if (m->kind != EXN_JSON_STRING || m->len == 0 || m->len > 32)
            return http_fail(k, "invalid HTTP request: \"method\" must be a string");
        for (size_t i = 0; i < m->len; i++) {
            char c = m->str[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
                return http_fail(k, "invalid HTTP request: bad method \"%.32s\"", m->str);
            ((char *)m->str)[i] = c >= 'a' ? (char)(c - 'a' + 'A') : c; /* upper case */
        }
        *method = m->str;
    }
    if (h && h->kind != EXN_JSON_NULL) {
        if (h->kind != EXN_JSON_OBJECT)
            return http_fail(k, "invalid HTTP request: \"headers\" must be an object");
        for (size_t i = 0; i < h->len; i++) {
            const exn_json_member_t *e = &h->members[i];
            if (e->value.kind != EXN_JSON_STRING || memchr(e->key, '\0', e->key_len) ||
                memchr(e->value.str, '\0', e->value.len) ||
                memchr(e->value.str, '\n', e->value.len) ||
                memchr(e->value.str, '\r', e->value.len) || memchr(e->key, '\n', e->key_len) ||
                memchr(e->key, '\r', e->key_len) || memchr(e->key, ':', e->key_len))
                return http_fail(k, "invalid HTTP request: bad header \"%.64s\"", e->key);
            if (exn_strmap_set(headers, e->key, e->key_len, e->value.str, e->value.len))
                return http_fail(k, "out of memory");
        }
    }
    return NULL;
}

/* http_request(req: i64, body: i64) -> i64: perform the request described by the JSON in
 * block `req` with the bytes of block `body` (0: none); returns a block with the response body,
 * or 0 when it is empty.  Both blocks are freed.  Fails the call when the request is invalid,
 * not allowed, fails, times out or its body is too large. */
EXN_IMPORT(kernel_http_request)
{
    exn_kernel_t *k = exn_kernel_of(caller);
    uint64_t req_h = exn_arg_u64(sp, 1), body_h = exn_arg_u64(sp, 2);
    const uint8_t *req, *body;
    uint64_t req_len, body_len;
    if (req_h == 0 || !exn_kernel_resolve(k, req_h, &req, &req_len))
        return http_fail(k, "invalid handle offset for HTTP request: %llu",
                         (unsigned long long)req_h);
    if (!exn_kernel_resolve(k, body_h, &body, &body_len))
        return http_fail(k, "invalid handle offset for HTTP body: %llu",
                         (unsigned long long)body_h);

    exn_json_doc_t *doc = NULL;
    exn_strmap_t headers;
    exn_strmap_init(&headers);
    const char *url = NULL, *method = NULL;
    exn_trap_t trap = read_request(k, req, req_len, &doc, &url, &method, &headers);
    exn_http_response_t resp;
    exn_http_response_init(&resp, k->max_http_response_bytes);

    /* the body is copied: kernel memory may move while the transport runs */
    uint8_t *body_copy = NULL;
    if (!trap && body_h) {
        body_copy = exn_malloc(body_len ? (size_t)body_len : 1);
        if (!body_copy)
            trap = http_fail(k, "out of memory");
        else if (body_len)
            memcpy(body_copy, body, (size_t)body_len);
    }
    if (!trap) {
        exn_kmem_free_block(&k->kmem, req_h);
        exn_kmem_free_block(&k->kmem, body_h);
        k->http_status = 0;
        exn_strmap_clear(&k->http_headers);
        exn_http_policy_t pol = {
            k->transport, k->transport_userdata, k->allowed_hosts, k->n_allowed_hosts,
            true,         k->deadline_ns};
        if (!pol.fn)
            pol.fn = exn_http_default_transport(&pol.userdata);
        bool timeout;
        if (!exn_http_fetch(&pol, url, method, &headers, body_copy, (size_t)body_len, &resp,
                            k->trap_msg, sizeof k->trap_msg, &timeout)) {
            if (timeout) {
                exn_call_interrupt(k->call_state, EXN_CALL_TIMEOUT);
                trap = exn_trap_interrupted;
            } else {
                trap = exn_trap_http;
            }
            if (resp.status && !resp.too_large)
                k->http_status = resp.status;
        } else {
            k->http_status = resp.status;
            k->http_headers = resp.headers; /* kept for http_headers */
            exn_strmap_init(&resp.headers);
            uint64_t out = 0;
            if (resp.len) {
                bool failed;
                out = exn_kmem_alloc_copy(&k->kmem, resp.body, resp.len, &failed);
                if (failed)
                    trap = http_fail(k, "out of kernel memory for a %zu-byte response", resp.len);
            }
            exn_ret_u64(sp, out);
        }
    }
    exn_free(body_copy);
    exn_http_response_clear(&resp);
    exn_strmap_clear(&headers);
    exn_json_doc_free(doc);
    return trap;
}

/* http_status_code() -> i32: status of the last request of this plugin, 0 before any and after
 * a request that failed before a response. */
EXN_IMPORT(kernel_http_status_code)
{
    exn_ret_u32(sp, (uint32_t)exn_kernel_of(caller)->http_status);
    return NULL;
}

/* http_headers() -> i64: 0 unless response headers are enabled for the plugin; then a block
 * with a JSON object of the last response's headers ({} before any request). */
EXN_IMPORT(kernel_http_headers)
{
    exn_kernel_t *k = exn_kernel_of(caller);
    if (!k->http_headers_enabled) {
        exn_ret_u64(sp, 0);
        return NULL;
    }
    exn_sb_t sb = {0};
    exn_sb_append(&sb, "{", 1);
    bool first = true;
    for (size_t i = 0; i < k->http_headers.cap; i++) {
        const exn_strmap_entry_t *e = &k->http_headers.slots[i];
        if (!e->key)
            continue;
        if (!first)
            exn_sb_append(&sb, ",", 1);
        first = false;
        exn_sb_json_string(&sb, e->key, e->key_len);
        exn_sb_append(&sb, ":", 1);
        exn_sb_json_string(&sb, (const char *)e->value, e->value_len);
    }
    exn_sb_append(&sb, "}", 1);
    bool failed = sb.failed;
    uint64_t h = failed ? 0 : exn_kmem_alloc_copy(&k->kmem, sb.data, sb.len, &failed);
    exn_sb_free(&sb);
    if (failed)
        return http_fail(k, "out of memory returning response headers");
    exn_ret_u64(sp, h);
    return NULL;
}
