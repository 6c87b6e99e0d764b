/* json.h: a small strict JSON (RFC 8259) reader for manifests, config updates and HTTP request
 * descriptions.  Input must be UTF-8; nesting is limited; integers are kept exactly as uint64
 * when they fit.  A parsed document owns all its nodes and strings in one arena. */
#ifndef EXN_JSON_H
#define EXN_JSON_H

#include "internal.h"

typedef enum {
    EXN_JSON_NULL,
    EXN_JSON_BOOL,
    EXN_JSON_NUMBER,
    EXN_JSON_STRING,
    EXN_JSON_ARRAY,
    EXN_JSON_OBJECT
} exn_json_kind_t;

typedef struct exn_json exn_json_t;
typedef struct exn_json_member exn_json_member_t;

struct exn_json {
    exn_json_kind_t kind;
    bool boolean;
    bool is_u64; /* NUMBER: a non-negative integer that fits uint64 */
    uint64_t u64;
    const char *str; /* STRING: NUL-terminated (may also contain NULs), `len` bytes */
    size_t len;      /* STRING: bytes; ARRAY/OBJECT: number of items/members */
    exn_json_t *items;
    exn_json_member_t *members;
};

struct exn_json_member {
    const char *key;
    size_t key_len;
    exn_json_t value;
};

typedef struct exn_json_doc exn_json_doc_t;

/** Parse `len` bytes.  Returns EXN_OK and an owned document (exn_json_doc_free), or
 *  EXN_ERR_MANIFEST with "line L column C: reason" in errbuf, or EXN_ERR_NOMEM. */
EXN_INTERNAL exn_status_t exn_json_parse(const char *text, size_t len, exn_json_doc_t **out_doc,
                                         char *errbuf, size_t errbuf_len);
EXN_INTERNAL const exn_json_t *exn_json_root(const exn_json_doc_t *doc);
EXN_INTERNAL void exn_json_doc_free(exn_json_doc_t *doc);

/** The value of member `key` of an object (the last one if repeated), or NULL. */
EXN_INTERNAL const exn_json_t *exn_json_get(const exn_json_t *obj, const char *key);

/** Name of a kind for messages ("a string", "an object", ...). */
EXN_INTERNAL const char *exn_json_kind_name(exn_json_kind_t kind);

/* A growable string for writing JSON (HTTP response headers).  After an allocation failure
 * `failed` is set and further appends do nothing. */
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} exn_sb_t;

EXN_INTERNAL void exn_sb_append(exn_sb_t *sb, const char *s, size_t len);
/** Append s as a quoted, escaped JSON string. */
EXN_INTERNAL void exn_sb_json_string(exn_sb_t *sb, const char *s, size_t len);
EXN_INTERNAL void exn_sb_free(exn_sb_t *sb);

/** True if bytes are valid UTF-8 (no surrogates, no overlong forms). */
EXN_INTERNAL bool exn_utf8_valid(const uint8_t *s, size_t len);

#endif
