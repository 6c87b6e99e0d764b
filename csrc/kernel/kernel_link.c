/* kernel_link.c: the one table of extism:host/env imports: name, signature (letters:
 * i = i32, I = i64, v = no result; "I(II)" is (i64, i64) -> i64) and implementation.
 * Every import name appears here and nowhere else (spec section 1.2 lists all 32).
 * May call: kernel.h (the imports it lists). */
#include "kernel.h"

static const exn_kernel_import_t table[] = {
    /* memory (kernel_mem.c) */
    {"alloc", "I(I)", kernel_alloc},
    {"free", "v(I)", kernel_free},
    {"length", "I(I)", kernel_length},
    {"length_unsafe", "I(I)", kernel_length_unsafe},
    {"load_u8", "i(I)", kernel_load_u8},
    {"load_u64", "I(I)", kernel_load_u64},
    {"store_u8", "v(Ii)", kernel_store_u8},
    {"store_u64", "v(II)", kernel_store_u64},
    {"reset", "v()", kernel_reset},
    {"memory_bytes", "I()", kernel_memory_bytes},
    /* input, output, error (kernel_io.c) */
    {"input_length", "I()", kernel_input_length},
    {"input_load_u8", "i(I)", kernel_input_load_u8},
    {"input_load_u64", "I(I)", kernel_input_load_u64},
    {"input_offset", "I()", kernel_input_offset},
    {"input_set", "v(II)", kernel_input_set},
    {"output_set", "v(II)", kernel_output_set},
    {"output_length", "I()", kernel_output_length},
    {"output_offset", "I()", kernel_output_offset},
    {"error_set", "v(I)", kernel_error_set},
    {"error_get", "I()", kernel_error_get},
    /* config and vars (kernel_state.c) */
    {"config_get", "I(I)", kernel_config_get},
    {"var_get", "I(I)", kernel_var_get},
    {"var_set", "v(II)", kernel_var_set},
    /* HTTP (http.c) */
    {"http_request", "I(II)", kernel_http_request},
    {"http_status_code", "i()", kernel_http_status_code},
    {"http_headers", "I()", kernel_http_headers},
    /* logging (kernel_log.c) */
    {"log_trace", "v(I)", kernel_log_trace},
    {"log_debug", "v(I)", kernel_log_debug},
    {"log_info", "v(I)", kernel_log_info},
    {"log_warn", "v(I)", kernel_log_warn},
    {"log_error", "v(I)", kernel_log_error},
    {"get_log_level", "i()", kernel_get_log_level},
};

const exn_kernel_import_t *exn_kernel_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    }
    return NULL;
}
