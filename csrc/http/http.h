/* http.h: HTTP for the core: the host's transport (process-wide, exn_set_http_transport, or a
 * plugin's own), requests with redirects followed and each hop checked against allowed hosts
 * (the guest's http_request import, kernel/kernel_http.c), and fetching manifest `url` sources
 * (which the runtime hands to the manifest as its fetch callback).  Knows nothing of plugins. */
#ifndef EXN_HTTP_H
#define EXN_HTTP_H

#include "support/internal.h"
#include "support/strmap.h"

/* What a transport fills in (exn_http_response_* of extism_native.h). */
struct exn_http_response {
    int status;
    bool failed;
    bool too_large;
    char message[512];
    uint8_t *body;
    size_t len, cap;
    uint64_t limit;       /* the body may not be longer */
    exn_strmap_t headers; /* lower-case names; repeated headers joined with ", " */
};

/** An empty response whose body may hold `limit` bytes. */
EXN_INTERNAL void exn_http_response_init(exn_http_response_t *r, uint64_t limit);

/** Free the body and headers (the response can be initialised again). */
EXN_INTERNAL void exn_http_response_clear(exn_http_response_t *r);

/* How a request may go. */
typedef struct {
    exn_http_transport_fn fn; /* the transport (NULL: the request fails saying so) */
    void *userdata;
    char *const *allowed; /* host globs: `*` any run of characters, `?` one */
    size_t n_allowed;
    bool check_hosts;     /* false: no check (manifest sources) */
    uint64_t deadline_ns; /* 0: none */
} exn_http_policy_t;

/** The process-wide transport (exn_set_http_transport) and its userdata. */
EXN_INTERNAL exn_http_transport_fn exn_http_default_transport(void **out_userdata);

/** Perform a request through pol->fn, following redirects (every hop checked when
 *  pol->check_hosts).  Returns true with the last hop's response in *resp (initialised by the
 *  caller, cleared first here), or false with a message in `why` ("HTTP request to URL is
 *  not allowed ...", "timeout", the transport's message) and *out_timeout set if the deadline
 *  passed.  Ownership: borrows everything for the call; *resp is the caller's to clear. */
EXN_INTERNAL bool exn_http_fetch(const exn_http_policy_t *pol, const char *url, const char *method,
                                 const exn_strmap_t *headers, const uint8_t *body, size_t body_len,
                                 exn_http_response_t *resp, char *why, size_t why_len,
                                 bool *out_timeout);

/** Fetch a module through the process-wide transport, following redirects (allowed_hosts does
 *  not apply: it governs the guest).  Returns EXN_OK and owned bytes (exn_free), or
 *  EXN_ERR_MANIFEST / EXN_ERR_NOMEM with a message.  Its signature is the manifest's fetch
 *  callback's (manifest.h), userdata unused. */
EXN_INTERNAL exn_status_t exn_http_fetch_source(void *userdata, const char *url, const char *method,
                                                const exn_strmap_t *headers, uint8_t **out_bytes,
                                                size_t *out_len, char *errbuf, size_t errbuf_len);

#endif
