/* http.h: HTTP for manifest `url` sources (the guest's HTTP imports are in kernel.h). */
#ifndef EXN_HTTP_H
#define EXN_HTTP_H

#include "support/internal.h"
#include "support/strmap.h"

/** Fetch a module through the process-wide transport, following redirects (allowed_hosts does
 *  not apply: it governs the guest).  Returns EXN_OK and owned bytes (exn_free), or
 *  EXN_ERR_MANIFEST / EXN_ERR_NOMEM with a message. */
EXN_INTERNAL exn_status_t exn_http_fetch_source(const char *url, const char *method,
                                                const exn_strmap_t *headers, uint8_t **out_bytes,
                                                size_t *out_len, char *errbuf, size_t errbuf_len);

#endif
