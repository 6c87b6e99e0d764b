/* manifest.h: the Extism manifest (spec section 6): which wasm modules make a plugin, their
 * sources and hashes, and the plugin's limits, config and permissions.
 *
 * exn_manifest_from_input classifies what a user passed to plugin creation: a wasm binary
 * becomes a one-module manifest; JSON text is parsed strictly (unknown fields are errors, as in
 * the official runtime) and every problem names its field ("wasm[1].hash: ...").  Module bytes
 * are then loaded (files read, base64 decoded, URLs fetched by the caller's callback) and
 * checked against their sha256 before anything parses them.  Knows nothing of HTTP or wasm. */
#ifndef EXN_MANIFEST_H
#define EXN_MANIFEST_H

#include "support/internal.h"
#include "support/strmap.h"

typedef enum { EXN_WASM_DATA, EXN_WASM_PATH, EXN_WASM_URL } exn_wasm_source_t;

typedef struct {
    exn_wasm_source_t source;
    char *name;           /* NULL: unnamed */
    char *hash;           /* NULL: not checked; else 64 lowercase hex digits expected */
    char *where;          /* path or URL (for messages); NULL for data */
    char *method;         /* URL sources: HTTP method (NULL = GET) */
    exn_strmap_t headers; /* URL sources: request headers */
    uint8_t *bytes;       /* owned module bytes once loaded */
    size_t len;
} exn_manifest_wasm_t;

typedef struct {
    char *host_path;
    char *guest_path;
    bool readonly;
} exn_manifest_path_t;

typedef struct {
    exn_manifest_wasm_t *wasm;
    size_t n_wasm;

    bool has_max_pages;
    uint32_t max_pages;
    uint64_t max_http_response_bytes;
    uint64_t max_var_bytes;

    exn_strmap_t config;

    bool hosts_given; /* false: allowed_hosts absent or null (deny all) */
    char **allowed_hosts;
    size_t n_allowed_hosts;

    exn_manifest_path_t *allowed_paths;
    size_t n_allowed_paths;

    bool has_timeout;
    uint64_t timeout_ms;
} exn_manifest_t;

#define EXN_DEFAULT_MAX_HTTP_RESPONSE_BYTES ((uint64_t)50 * 1024 * 1024)
#define EXN_DEFAULT_MAX_VAR_BYTES ((uint64_t)1024 * 1024)

/** Build a manifest from plugin-creation input: a wasm binary (Copied) or a JSON manifest.
 *  Module bytes are not loaded yet.  Returns EXN_OK, EXN_ERR_MANIFEST, EXN_ERR_UNSUPPORTED
 *  (WAT or TOML text) or EXN_ERR_NOMEM, with a message in errbuf; on failure `out` holds
 *  nothing that needs freeing. */
EXN_INTERNAL exn_status_t exn_manifest_from_input(const uint8_t *data, size_t len,
                                                  exn_manifest_t *out, char *errbuf,
                                                  size_t errbuf_len);

/* How url sources are fetched (the runtime passes http/'s exn_http_fetch_source): Returns
 * EXN_OK and owned bytes (exn_free), or a status and a message. */
typedef exn_status_t (*exn_manifest_fetch_fn)(void *userdata, const char *url, const char *method,
                                              const exn_strmap_t *headers, uint8_t **out_bytes,
                                              size_t *out_len, char *errbuf, size_t errbuf_len);

/** Load every module's bytes (files read, url sources through `fetch`; NULL: they fail) and
 *  check each hash.  Returns EXN_OK, EXN_ERR_MANIFEST (unreadable source, hash mismatch naming
 *  both hashes), EXN_ERR_UNSUPPORTED or EXN_ERR_NOMEM. */
EXN_INTERNAL exn_status_t exn_manifest_load(exn_manifest_t *m, exn_manifest_fetch_fn fetch,
                                            void *fetch_userdata, char *errbuf, size_t errbuf_len);

EXN_INTERNAL void exn_manifest_free(exn_manifest_t *m);

#endif
