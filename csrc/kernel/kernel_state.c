/* kernel_state.c: the config and var imports of extism:host/env (spec sections 1.4, 2.5, 2.6).
 * Config is the manifest's string map (read-only to the guest); vars are a byte map per plugin
 * that persists across calls, bounded by memory.max_var_bytes with the official accounting.
 * Since runtime 1.7 the host frees every handle passed to these imports.
 * May call: kernel.h (the context), kernel_mem.h, strmap.h, json.h (UTF-8). */
#include "kernel.h"
#include "support/json.h"

/* Bytes an entry costs against max_var_bytes in the official runtime: a Rust String plus a
 * Vec<u8> header (48 bytes on 64-bit hosts) plus the key and value bytes. */
#define VAR_ENTRY_OVERHEAD 48

/* Resolve a key handle that must be UTF-8 text; traps with the official wording otherwise. */
static exn_trap_t resolve_key(exn_kernel_t *k, const char *what, uint64_t h, const uint8_t **key,
                              uint64_t *key_len)
{
    if (!exn_kernel_resolve(k, h, key, key_len))
        return exn_kernel_trap(k, "invalid handle offset for %s: %llu", what,
                               (unsigned long long)h);
    if (!exn_utf8_valid(*key, (size_t)*key_len))
        return exn_kernel_trap(k, "%s is not valid UTF-8", what);
    return NULL;
}

/* Lookup shared by config_get and var_get: frees the key, returns a new block with a copy of
 * the value, or 0 if the key is missing or its value is empty (an empty block cannot exist). */
static exn_trap_t map_get(const exn_caller_t *caller, uint64_t *sp,
                          exn_strmap_t *(*which)(exn_kernel_t *), const char *what)
{
    exn_kernel_t *k = exn_kernel_of(caller);
    uint64_t h = exn_arg_u64(sp, 1);
    const uint8_t *key;
    uint64_t key_len;
    exn_trap_t trap = resolve_key(k, what, h, &key, &key_len);
    if (trap)
        return trap;
    const exn_strmap_entry_t *e = exn_strmap_get(which(k), (const char *)key, (size_t)key_len);
    exn_kmem_free_block(&k->kmem, h);
    uint64_t out = 0;
    if (e && e->value_len) {
        bool failed;
        out = exn_kmem_alloc_copy(&k->kmem, e->value, e->value_len, &failed);
        if (failed)
            return exn_kernel_trap(k, "out of kernel memory returning %s", what);
    }
    exn_ret_u64(sp, out);
    return NULL;
}

static exn_strmap_t *config_of(exn_kernel_t *k)
{
    return &k->config;
}
static exn_strmap_t *vars_of(exn_kernel_t *k)
{
    return &k->vars;
}

/* config_get(key: i64) -> i64: the config value for the key (0 = ""), or 0 if missing or
 * empty.  An invalid key handle traps: "invalid handle offset for config key: N". */
EXN_IMPORT(kernel_config_get)
{
    return map_get(caller, sp, config_of, "config key");
}

/* var_get(key: i64) -> i64: as config_get, over the plugin's vars. */
EXN_IMPORT(kernel_var_get)
{
    return map_get(caller, sp, vars_of, "var key");
}

/* var_set(key: i64, value: i64): store a copy of the value under the key; value 0 deletes the
 * key.  Fails (traps) with "Vars are disabled by this host" when max_var_bytes is 0, and with
 * "Variable store is full" when 48 + key + value plus the same for every existing entry -
 * including the one being replaced - would exceed max_var_bytes (the official accounting). */
EXN_IMPORT(kernel_var_set)
{
    exn_kernel_t *k = exn_kernel_of(caller);
    uint64_t kh = exn_arg_u64(sp, 0), vh = exn_arg_u64(sp, 1);
    uint64_t max = k->max_var_bytes;
    if (max == 0)
        return exn_kernel_trap(k, "Vars are disabled by this host");
    const uint8_t *key, *value;
    uint64_t key_len, value_len;
    exn_trap_t trap = resolve_key(k, "var key", kh, &key, &key_len);
    if (trap)
        return trap;
    if (vh == 0) {
        exn_strmap_delete(&k->vars, (const char *)key, (size_t)key_len);
        exn_kmem_free_block(&k->kmem, kh);
        return NULL;
    }
    if (!exn_kernel_resolve(k, vh, &value, &value_len))
        return exn_kernel_trap(k, "invalid handle offset for var value: %llu",
                               (unsigned long long)vh);
    uint64_t existing = k->vars.bytes + (uint64_t)k->vars.count * VAR_ENTRY_OVERHEAD;
    uint64_t entry = VAR_ENTRY_OVERHEAD + key_len + value_len;
    if (entry > max || existing > max - entry)
        return exn_kernel_trap(k, "Variable store is full");
    if (exn_strmap_set(&k->vars, (const char *)key, (size_t)key_len, value, (size_t)value_len))
        return exn_kernel_trap(k, "out of host memory storing a var");
    exn_kmem_free_block(&k->kmem, vh);
    exn_kmem_free_block(&k->kmem, kh);
    return NULL;
}
