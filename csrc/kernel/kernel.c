/* kernel.c: the kernel's context (kernel.h) - made, freed, the message of a trap, and the one
 * rule for handle arguments every import shares.
 * May call: kernel_mem.h, strmap.h, engine.h (trap sentinels). */
#include "kernel.h"

exn_status_t exn_kernel_init(exn_kernel_t *k, const exn_kernel_config_t *config)
{
    memset(k, 0, sizeof *k);
    exn_strmap_init(&k->vars);
    exn_strmap_init(&k->config);
    exn_strmap_init(&k->http_headers);
    k->log_level = EXN_LOG_OFF;
    k->call_log_level = EXN_LOG_ASK;
    k->max_var_bytes = config->max_var_bytes;
    k->max_http_response_bytes = config->max_http_response_bytes;
    k->allowed_hosts = config->allowed_hosts;
    k->n_allowed_hosts = config->n_allowed_hosts;
    k->call_state = config->call_state;
    if (config->id)
        memcpy(k->id, config->id, sizeof k->id);
    if (config->config) {
        for (size_t i = 0; i < config->config->cap; i++) {
            const exn_strmap_entry_t *e = &config->config->slots[i];
            if (e->key &&
                exn_strmap_set(&k->config, e->key, e->key_len, e->value, e->value_len) != EXN_OK)
                return EXN_ERR_NOMEM;
        }
    }
    return exn_kmem_init(&k->kmem, config->memory_limit_bytes) == EXN_OK ? EXN_OK : EXN_ERR_NOMEM;
}

void exn_kernel_free(exn_kernel_t *k, bool memory)
{
    if (memory)
        exn_kmem_free(&k->kmem);
    exn_strmap_clear(&k->vars);
    exn_strmap_clear(&k->config);
    exn_strmap_clear(&k->http_headers);
}

exn_trap_t exn_kernel_trap(exn_kernel_t *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(k->trap_msg, sizeof k->trap_msg, fmt, ap);
    va_end(ap);
    return exn_trap_kernel;
}

bool exn_kernel_resolve(exn_kernel_t *k, uint64_t h, const uint8_t **out_data, uint64_t *out_len)
{
    if (h == 0) {
        *out_data = (const uint8_t *)"";
        *out_len = 0;
        return true;
    }
    *out_data = exn_kmem_block(&k->kmem, h, out_len);
    return *out_data != NULL;
}
