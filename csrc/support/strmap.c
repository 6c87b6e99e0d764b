/* strmap.c: open-addressing hash map of owned byte strings (see strmap.h).
 * Deletion uses backward shifting, so there are no tombstones.
 * May call: the allocator (internal.h). */
#include "strmap.h"

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

void exn_strmap_init(exn_strmap_t *m)
{
    memset(m, 0, sizeof *m);
}

void exn_strmap_clear(exn_strmap_t *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        exn_free(m->slots[i].key);
        exn_free(m->slots[i].value);
    }
    exn_free(m->slots);
    memset(m, 0, sizeof *m);
}

static size_t probe(const exn_strmap_t *m, const char *key, size_t key_len, uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    while (m->slots[i].key) {
        const exn_strmap_entry_t *e = &m->slots[i];
        if (e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

const exn_strmap_entry_t *exn_strmap_get(const exn_strmap_t *m, const char *key, size_t key_len)
{
    if (!m->count)
        return NULL;
    size_t i = probe(m, key, key_len, hash_bytes(key, key_len));
    return m->slots[i].key ? &m->slots[i] : NULL;
}

static bool grow(exn_strmap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    exn_strmap_entry_t *slots = exn_calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    exn_strmap_t bigger = {slots, cap, m->count, m->bytes};
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key)
            slots[probe(&bigger, m->slots[i].key, m->slots[i].key_len, m->slots[i].hash)] =
                m->slots[i];
    }
    exn_free(m->slots);
    *m = bigger;
    return true;
}

exn_status_t exn_strmap_set(exn_strmap_t *m, const char *key, size_t key_len, const void *value,
                            size_t value_len)
{
    if ((m->count + 1) * 4 > m->cap * 3 && !grow(m))
        return EXN_ERR_NOMEM;
    uint64_t h = hash_bytes(key, key_len);
    size_t i = probe(m, key, key_len, h);
    exn_strmap_entry_t *e = &m->slots[i];
    uint8_t *v = exn_malloc(value_len);
    if (!v)
        return EXN_ERR_NOMEM;
    if (value_len)
        memcpy(v, value, value_len);
    if (e->key) {
        m->bytes -= e->value_len;
        exn_free(e->value);
    } else {
        char *k = exn_strndup(key, key_len);
        if (!k) {
            exn_free(v);
            return EXN_ERR_NOMEM;
        }
        *e = (exn_strmap_entry_t){k, key_len, NULL, 0, h};
        m->count++;
        m->bytes += key_len;
    }
    e->value = v;
    e->value_len = value_len;
    m->bytes += value_len;
    return EXN_OK;
}

void exn_strmap_delete(exn_strmap_t *m, const char *key, size_t key_len)
{
    if (!m->count)
        return;
    size_t mask = m->cap - 1, i = probe(m, key, key_len, hash_bytes(key, key_len));
    if (!m->slots[i].key)
        return;
    m->bytes -= m->slots[i].key_len + m->slots[i].value_len;
    exn_free(m->slots[i].key);
    exn_free(m->slots[i].value);
    m->count--;
    /* backward-shift the following cluster so probing never stops at a hole too early */
    size_t hole = i, j = (i + 1) & mask;
    while (m->slots[j].key) {
        size_t home = (size_t)m->slots[j].hash & mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
        j = (j + 1) & mask;
    }
    memset(&m->slots[hole], 0, sizeof m->slots[hole]);
}
