/* strmap.h: a hash map from byte strings to byte strings that owns copies of both (plugin vars
 * and config).  Keys compare as bytes; values may be empty. */
#ifndef EXN_STRMAP_H
#define EXN_STRMAP_H

#include "internal.h"

typedef struct exn_strmap_entry {
    char *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
    uint64_t hash;
} exn_strmap_entry_t;

typedef struct {
    exn_strmap_entry_t *slots; /* open addressing; key == NULL marks an empty slot */
    size_t cap, count;
    uint64_t bytes; /* sum over entries of key_len + value_len */
} exn_strmap_t;

EXN_INTERNAL void exn_strmap_init(exn_strmap_t *m);
EXN_INTERNAL void exn_strmap_clear(exn_strmap_t *m);

/** The entry for key, or NULL.  Borrowed (valid until the map changes). */
EXN_INTERNAL const exn_strmap_entry_t *exn_strmap_get(const exn_strmap_t *m, const char *key,
                                                      size_t key_len);

/** Insert or replace (Copied).  Returns EXN_OK or EXN_ERR_NOMEM (map unchanged). */
EXN_INTERNAL exn_status_t exn_strmap_set(exn_strmap_t *m, const char *key, size_t key_len,
                                         const void *value, size_t value_len);

/** Remove key if present. */
EXN_INTERNAL void exn_strmap_delete(exn_strmap_t *m, const char *key, size_t key_len);

#endif
