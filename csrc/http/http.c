/* http.c: HTTP for the core (http.h): the host's transport (process-wide, or a plugin's own),
 * requests performed one hop at a time with redirects followed here, at most MAX_REDIRECTS,
 * every hop's host checked against the allowed hosts when the policy says so (a deliberate
 * improvement over both official hosts, which follow redirects unchecked), a response body
 * refused while it is read once it passes its limit, the caller's deadline; and fetching
 * manifest `url` sources.  The guest's http_request import (kernel/kernel_http.c) is built on
 * exn_http_fetch.
 * May call: strmap.h, url.h, os.h (clock). */
#include "http.h"

#include <stdio.h>

#include "support/os.h"
#include "support/url.h"

#define MAX_REDIRECTS 10
#define MAX_SOURCE_BYTES ((uint64_t)1 << 30) /* a manifest url source */

static exn_http_transport_fn default_transport;
static void *default_transport_userdata;

void exn_set_http_transport(exn_http_transport_fn fn, void *userdata)
{
    default_transport = fn;
    default_transport_userdata = userdata;
}

exn_http_transport_fn exn_http_default_transport(void **out_userdata)
{
    *out_userdata = default_transport_userdata;
    return default_transport;
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

void exn_http_response_init(exn_http_response_t *r, uint64_t limit)
{
    memset(r, 0, sizeof *r);
    exn_strmap_init(&r->headers);
    r->limit = limit;
}

void exn_http_response_clear(exn_http_response_t *r)
{
    exn_strmap_clear(&r->headers);
    exn_free(r->body);
    r->body = NULL;
    r->len = r->cap = 0;
}

static void response_reset(exn_http_response_t *r, uint64_t limit)
{
    exn_http_response_clear(r);
    exn_http_response_init(r, limit);
}

/* ---- one request with redirects --------------------------------------------------------- */

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

static bool host_allowed(const exn_http_policy_t *pol, const char *host)
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

bool exn_http_fetch(const exn_http_policy_t *pol, const char *url, const char *method,
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
            exn_fmt(why, why_len,
                    "HTTP request to '%.300s' is not allowed%s (host %s is not in "
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
        exn_http_request_t req = {current, method_now,          names,  values, n,
                                  body,    body ? body_len : 0, timeout};
        response_reset(resp, resp->limit);
        int rc = pol->fn(pol->userdata, &req, resp);
        if (resp->too_large) {
            exn_fmt(why, why_len,
                    "HTTP response exceeds the configured maximum number of bytes: "
                    "%llu",
                    (unsigned long long)resp->limit);
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

exn_status_t exn_http_fetch_source(void *userdata, const char *url, const char *method,
                                   const exn_strmap_t *headers, uint8_t **out_bytes,
                                   size_t *out_len, char *errbuf, size_t errbuf_len)
{
    (void)userdata;
    /* allowed_hosts governs the guest, not the host's own choice of modules (spec 6.2) */
    exn_http_policy_t pol = {default_transport, default_transport_userdata, NULL, 0, false, 0};
    exn_http_response_t resp;
    exn_http_response_init(&resp, MAX_SOURCE_BYTES);
    bool timeout;
    char why[512];
    exn_status_t st = EXN_OK;
    if (!exn_http_fetch(&pol, url, method ? method : "GET", headers, NULL, 0, &resp, why,
                        sizeof why, &timeout)) {
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
    exn_http_response_clear(&resp);
    return st;
}
