/* url.h: just enough of RFC 3986 for HTTP requests and redirects: split an absolute http(s)
 * URL, and resolve a Location header against the URL it came from. */
#ifndef EXN_URL_H
#define EXN_URL_H

#include "internal.h"

typedef struct {
    char scheme[8]; /* "http" or "https" */
    char host[256]; /* lower case, without brackets for IPv6 */
    int port;       /* -1 when absent */
} exn_url_t;

/** Split an absolute http or https URL.  Returns false (with a reason in why) if it is not one. */
EXN_INTERNAL bool exn_url_parse(const char *url, exn_url_t *out, char *why, size_t why_len);

/** Resolve `ref` (a Location value: absolute, //host..., /path or relative) against `base`.
 *  Returns an owned string (exn_free), or NULL if it cannot be resolved or memory is short. */
EXN_INTERNAL char *exn_url_join(const char *base, const char *ref);

#endif
