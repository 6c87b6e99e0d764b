/* http.c: the HTTP imports of extism:host/env (spec section 4) and HTTP fetches of manifest
 * `url` sources.
 *
 * The guest describes a request as JSON ({"url", "method", "headers"}) plus an optional body
 * block.  The request is checked against the plugin's allowed_hosts (absent, null or [] deny
 * everything; `*` and `?` glob over the host name only), then performed by the host's
 * transport one hop at a time: redirects are followed here, at most MAX_REDIRECTS, and every
 * hop's host is checked again (a deliberate improvement over both official hosts, which follow
 * redirects unchecked).  The body is refused while it is read once it passes
 * max_http_response_bytes.  The request may take the call's remaining time.
 * May call: json.h, url.h, strmap.h, kernel_mem.h through the plugin, os.h (clock). */
#include "http.h"

#include <stdio.h>

#include "runtime/compiled.h"
#include "support/json.h"
#include "kernel/kernel.h"
#include "support/url.h"
#include "support/watchdog.h"

#define MAX_REDIRECTS 10
#define MAX_SOURCE_BYTES ((uint64_t)1 << 30) /* a manifest url source */

struct exn_http_response {
    int status;
    bool failed;
    bool too_large;
    char message[512];
    uint8_t *body;
    size_t len, cap;
    uint64_t limit;
    exn_strmap_t headers; /* lower-case names; repeated headers joined with ", " */
};

static exn_http_transport_fn default_transport;
static void *default_transport_userdata;

void exn_set_http_transport(exn_http_transport_fn fn, void *userdata)
{
    default_transport = fn;
    default_transport_userdata = userdata;
}

void exn_plugin_set_http_transport(ExtismPlugin *p, exn_http_transport_fn fn, void *userdata)
{
    if (p) {
        p->transport = fn;
        p->transport_userdata = userdata;
    }
}

/* ---- the response a transport fills in -------------------------------------------------- */

void exn_http_response_status(exn_http_response_t *r, int status)
{
    if (r)
        r->status = status;
}

void exn_http_response_header(exn_http_response_t *r, const char *name, size_t name_len,
                              const char *value, size_t value_len)
{
    if (!r || !name || (!value && value_len) || name_len > 8192 || value_len > 65536)
        return;
    char lname[8193];
    for (size_t i = 0; i < name_len; i++)
        lname[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
    const exn_strmap_entry_t *old = exn_strmap_get(&r->headers, lname, name_len);
    if (!old) {
        exn_strmap_set(&r->headers, lname, name_len, value ? value : "", value_len);
        return;
    }
    /* a repeated header keeps every value (the official Go host does; Rust keeps the last) */
    size_t n = old->value_len + 2 + value_len;
    char *joined = exn_malloc(n);
    if (!joined)
        return;
    memcpy(joined, old->value, old->value_len);
    memcpy(joined + old->value_len, ", ", 2);
    if (value_len)
        memcpy(joined + old->value_len + 2, value, value_len);
    exn_strmap_set(&r->headers, lname, name_len, joined, n);
    exn_free(joined);
}

int exn_http_response_body(exn_http_response_t *r, const uint8_t *data, size_t len)
{
    if (!r || r->failed)
        return 1;
    if (!len)
        return 0;
    if (len > r->limit || r->len > r->limit - len) {
        r->too_large = true;
        return 1;
    }
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + len)
            cap *= 2;
        uint8_t *body = exn_realloc(r->body, cap);
        if (!body) {
            r->failed = true;
            exn_fmt(r->message, sizeof r->message, "out of memory reading the response body");
            return 1;
        }
        r->body = body;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    return 0;
}

void exn_http_response_fail(exn_http_response_t *r, const char *message)
{
    if (r) {
        r->failed = true;
        exn_fmt(r->message, sizeof r->message, "%s", message ? message : "request failed");
    }
}

static void response_reset(exn_http_response_t *r, uint64_t limit)
{
    exn_strmap_clear(&r->headers);
    exn_free(r->body);
    memset(r, 0, sizeof *r);
    exn_strmap_init(&r->headers);
    r->limit = limit;
}

/* ---- one request with redirects --------------------------------------------------------- */

typedef struct {
    exn_http_transport_fn fn;
    void *userdata;
    char *const *allowed; /* NULL: no check (manifest sources) */
    size_t n_allowed;
    bool check_hosts;
    uint64_t deadline_ns; /* 0: none */
} fetch_policy_t;

/* `*` matches any run of characters (dots included), `?` one character; the rest literally,
 * ignoring case.  Iterative, so hostile patterns cannot recurse deeply. */
static bool glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        char pc = *pat >= 'A' && *pat <= 'Z' ? (char)(*pat - 'A' + 'a') : *pat;
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat && (*pat == '?' || pc == *s)) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static bool host_allowed(const fetch_policy_t *pol, const char *host)
{
    for (size_t i = 0; i < pol->n_allowed; i++) {
        if (glob_match(pol->allowed[i], host))
            return true;
    }
    return false;
}

static bool is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Perform a request, following redirects.  On failure returns false with a message in why
 * and *out_timeout set if the deadline passed. */
static bool fetch(const fetch_policy_t *pol, const char *url, const char *method,
                  const exn_strmap_t *headers, const uint8_t *body, size_t body_len,
                  exn_http_response_t *resp, char *why, size_t why_len, bool *out_timeout)
{
    *out_timeout = false;
    if (!pol->fn) {
        exn_fmt(why, why_len, "no HTTP transport is configured (exn_set_http_transport)");
        return false;
    }
    /* header values as NUL-terminated strings for the transport (names already are) */
    const char *names[256], *values[256];
    size_t n = 0;
    bool ok = false;
    for (size_t i = 0; headers && i < headers->cap && n < 256; i++) {
        const exn_strmap_entry_t *e = &headers->slots[i];
        if (e->key) {
            names[n] = e->key;
            values[n++] = exn_strndup((const char *)e->value, e->value_len);
        }
    }
    char *current = exn_strndup(url, strlen(url));
    char *method_now = exn_strndup(method, strlen(method));
    bool values_ok = true;
    for (size_t i = 0; i < n; i++)
        values_ok = values_ok && values[i];
    if (!current || !method_now || !values_ok) {
        exn_fmt(why, why_len, "out of memory");
        goto done;
    }
    for (int hop = 0;; hop++) {
        exn_url_t u;
        char reason[128];
        if (!exn_url_parse(current, &u, reason, sizeof reason)) {
            exn_fmt(why, why_len, "Invalid URL: %.200s: %s", current, reason);
            goto done;
        }
        if (pol->check_hosts && !host_allowed(pol, u.host)) {
            exn_fmt(why, why_len, "HTTP request to %.300s is not allowed%s (host %s is not in "
                                  "allowed_hosts)",
                    current, hop ? " (a redirect)" : "", u.host);
            goto done;
        }
        int64_t timeout = -1;
        if (pol->deadline_ns) {
            uint64_t now = exn_os_monotonic_ns();
            if (now >= pol->deadline_ns) {
                *out_timeout = true;
                exn_fmt(why, why_len, "timeout");
                goto done;
            }
            uint64_t left = pol->deadline_ns - now;
            timeout = left > INT64_MAX ? INT64_MAX : (int64_t)left;
        }
        exn_http_request_t req = {current, method_now, names, values, n, body,
                                  body ? body_len : 0, timeout};
        response_reset(resp, resp->limit);
        int rc = pol->fn(pol->userdata, &req, resp);
        if (resp->too_large) {
            exn_fmt(why, why_len, "HTTP response exceeds the configured maximum number of bytes: "
                                  "%llu", (unsigned long long)resp->limit);
            goto done;
        }
        if (rc != 0 || resp->failed) {
            exn_fmt(why, why_len, "%s", resp->failed ? resp->message : "HTTP request failed");
            /* the transport gave up because the call's time ran out (within a millisecond) */
            if (pol->deadline_ns && exn_os_monotonic_ns() + 1000000 >= pol->deadline_ns)
                *out_timeout = true;
            goto done;
        }
        const exn_strmap_entry_t *loc = exn_strmap_get(&resp->headers, "location", 8);
        if (!is_redirect(resp->status) || !loc)
            break;
        if (hop == MAX_REDIRECTS) {
            exn_fmt(why, why_len, "too many redirects (more than %d)", MAX_REDIRECTS);
            goto done;
        }
        char *target_ref = exn_strndup((const char *)loc->value, loc->value_len);
        char *next = target_ref ? exn_url_join(current, target_ref) : NULL;
        exn_free(target_ref);
        if (!next) {
            exn_fmt(why, why_len, "cannot follow the redirect from %.300s", current);
            goto done;
        }
        exn_free(current);
        current = next;
        /* 301/302/303 turn into a GET without a body (as browsers and common clients do) */
        if (resp->status != 307 && resp->status != 308 && strcmp(method_now, "HEAD") != 0) {
            exn_free(method_now);
            method_now = exn_strndup("GET", 3);
            if (!method_now) {
                exn_fmt(why, why_len, "out of memory");
                goto done;
            }
            body = NULL;
            body_len = 0;
        }
    }
    ok = true;
done:
    exn_free(current);
    exn_free(method_now);
    for (size_t i = 0; i < n; i++)
        exn_free((void *)values[i]);
    return ok;
}

/* ---- manifest url sources ---------------------------------------------------------------- */

exn_status_t exn_http_fetch_source(const char *url, const char *method,
                                   const exn_strmap_t *headers, uint8_t **out_bytes,
                                   size_t *out_len, char *errbuf, size_t errbuf_len)
{
    /* allowed_hosts governs the guest, not the host's own choice of modules (spec 6.2) */
    fetch_policy_t pol = {default_transport, default_transport_userdata, NULL, 0, false, 0};
    exn_http_response_t resp;
    memset(&resp, 0, sizeof resp);
    exn_strmap_init(&resp.headers);
    resp.limit = MAX_SOURCE_BYTES;
    bool timeout;
    char why[512];
    exn_status_t st = EXN_OK;
    if (!fetch(&pol, url, method ? method : "GET", headers, NULL, 0, &resp, why, sizeof why,
               &timeout)) {
        exn_fmt(errbuf, errbuf_len, "fetching %.300s: %s", url, why);
        st = EXN_ERR_MANIFEST;
    } else if (resp.status < 200 || resp.status > 299) {
        exn_fmt(errbuf, errbuf_len, "fetching %.300s: HTTP status %d", url, resp.status);
        st = EXN_ERR_MANIFEST;
    } else {
        *out_bytes = resp.body ? resp.body : exn_malloc(1);
        *out_len = resp.len;
        resp.body = NULL;
        if (!*out_bytes)
            st = EXN_ERR_NOMEM;
    }
    exn_free(resp.body);
    exn_strmap_clear(&resp.headers);
    return st;
}

/* ---- the imports ---------------------------------------------------------------------------- */

static exn_trap_t http_fail(ExtismPlugin *p, const char *fmt, ...) EXN_PRINTF(2, 3);

static exn_trap_t http_fail(ExtismPlugin *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(p->trap_msg, sizeof p->trap_msg, fmt, ap);
    va_end(ap);
    return exn_trap_http;
}

/* Read the request description: {"url": str, "method": str|null, "headers": {str: str}|null};
 * other fields are ignored (older PDKs send fewer, some send more). */
static exn_trap_t read_request(ExtismPlugin *p, const uint8_t *json, uint64_t len,
                                exn_json_doc_t **doc, const char **url, const char **method,
                                exn_strmap_t *headers)
{
    char why[256];
    if (exn_json_parse((const char *)json, (size_t)len, doc, why, sizeof why) != EXN_OK)
        return http_fail(p, "invalid HTTP request: %s", why);
    const exn_json_t *root = exn_json_root(*doc);
    const exn_json_t *u = exn_json_get(root, "url"), *m = exn_json_get(root, "method"),
                     *h = exn_json_get(root, "headers");
    if (root->kind != EXN_JSON_OBJECT || !u || u->kind != EXN_JSON_STRING ||
        memchr(u->str, '\0', u->len))
        return http_fail(p, "invalid HTTP request: \"url\" must be a string");
    *url = u->str;
    *method = "GET";
    if (m && m->kind != EXN_JSON_NULL) {
        if (m->kind != EXN_JSON_STRING || m->len == 0 || m->len > 32)
            return http_fail(p, "invalid HTTP request: \"method\" must be a string");
        for (size_t i = 0; i < m->len; i++) {
            char c = m->str[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
                return http_fail(p, "invalid HTTP request: bad method \"%.32s\"", m->str);
            ((char *)m->str)[i] = c >= 'a' ? (char)(c - 'a' + 'A') : c; /* upper case */
        }
        *method = m->str;
    }
    if (h && h->kind != EXN_JSON_NULL) {
        if (h->kind != EXN_JSON_OBJECT)
            return http_fail(p, "invalid HTTP request: \"headers\" must be an object");
        for (size_t i = 0; i < h->len; i++) {
            const exn_json_member_t *e = &h->members[i];
            if (e->value.kind != EXN_JSON_STRING || memchr(e->key, '\0', e->key_len) ||
                memchr(e->value.str, '\0', e->value.len) || memchr(e->value.str, '\n', e->value.len) ||
                memchr(e->value.str, '\r', e->value.len) || memchr(e->key, '\n', e->key_len) ||
                memchr(e->key, '\r', e->key_len) || memchr(e->key, ':', e->key_len))
                return http_fail(p, "invalid HTTP request: bad header \"%.64s\"", e->key);
            if (exn_strmap_set(headers, e->key, e->key_len, e->value.str, e->value.len))
                return http_fail(p, "out of memory");
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
    ExtismPlugin *p = exn_plugin_of(caller);
    uint64_t req_h = exn_arg_u64(sp, 1), body_h = exn_arg_u64(sp, 2);
    const uint8_t *req, *body;
    uint64_t req_len, body_len;
    if (req_h == 0 || !exn_kernel_resolve(p, req_h, &req, &req_len))
        return http_fail(p, "invalid handle offset for HTTP request: %llu",
                         (unsigned long long)req_h);
    if (!exn_kernel_resolve(p, body_h, &body, &body_len))
        return http_fail(p, "invalid handle offset for HTTP body: %llu",
                         (unsigned long long)body_h);

    exn_json_doc_t *doc = NULL;
    exn_strmap_t headers;
    exn_strmap_init(&headers);
    const char *url = NULL, *method = NULL;
    exn_trap_t trap = read_request(p, req, req_len, &doc, &url, &method, &headers);
    exn_http_response_t resp;
    memset(&resp, 0, sizeof resp);
    exn_strmap_init(&resp.headers);
    resp.limit = p->compiled->max_http_response_bytes;

    /* the body is copied: kernel memory may move while the transport runs */
    uint8_t *body_copy = NULL;
    if (!trap && body_h) {
        body_copy = exn_malloc(body_len ? (size_t)body_len : 1);
        if (!body_copy)
            trap = http_fail(p, "out of memory");
        else if (body_len)
            memcpy(body_copy, body, (size_t)body_len);
    }
    if (!trap) {
        exn_kmem_free_block(&p->kmem, req_h);
        exn_kmem_free_block(&p->kmem, body_h);
        p->http_status = 0;
        exn_strmap_clear(&p->http_headers);
        fetch_policy_t pol = {p->transport ? p->transport : default_transport,
                              p->transport ? p->transport_userdata : default_transport_userdata,
                              p->compiled->allowed_hosts, p->compiled->n_allowed_hosts, true,
                              p->deadline_ns};
        bool timeout;
        if (!fetch(&pol, url, method, &headers, body_copy, (size_t)body_len, &resp, p->trap_msg,
                   sizeof p->trap_msg, &timeout)) {
            if (timeout) {
                exn_call_interrupt(&p->call_state, EXN_CALL_TIMEOUT);
                trap = exn_trap_interrupted;
            } else {
                trap = exn_trap_http;
            }
            if (resp.status && !resp.too_large)
                p->http_status = resp.status;
        } else {
            p->http_status = resp.status;
            p->http_headers = resp.headers; /* kept for http_headers */
            exn_strmap_init(&resp.headers);
            uint64_t out = 0;
            if (resp.len) {
                bool failed;
                out = exn_kmem_alloc_copy(&p->kmem, resp.body, resp.len, &failed);
                if (failed)
                    trap = http_fail(p, "out of kernel memory for a %zu-byte response", resp.len);
            }
            exn_ret_u64(sp, out);
        }
    }
    exn_free(body_copy);
    exn_free(resp.body);
    exn_strmap_clear(&resp.headers);
    exn_strmap_clear(&headers);
    exn_json_doc_free(doc);
    return trap;
}

/* http_status_code() -> i32: status of the last request of this plugin, 0 before any and after
 * a request that failed before a response. */
EXN_IMPORT(kernel_http_status_code)
{
    exn_ret_u32(sp, (uint32_t)exn_plugin_of(caller)->http_status);
    return NULL;
}

/* http_headers() -> i64: 0 unless response headers are enabled for the plugin; then a block
 * with a JSON object of the last response's headers ({} before any request). */
EXN_IMPORT(kernel_http_headers)
{
    ExtismPlugin *p = exn_plugin_of(caller);
    if (!p->http_headers_enabled) {
        exn_ret_u64(sp, 0);
        return NULL;
    }
    exn_sb_t sb = {0};
    exn_sb_append(&sb, "{", 1);
    bool first = true;
    for (size_t i = 0; i < p->http_headers.cap; i++) {
        const exn_strmap_entry_t *e = &p->http_headers.slots[i];
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
    uint64_t h = failed ? 0 : exn_kmem_alloc_copy(&p->kmem, sb.data, sb.len, &failed);
    exn_sb_free(&sb);
    if (failed)
        return http_fail(p, "out of memory returning response headers");
    exn_ret_u64(sp, h);
    return NULL;
}
