/* http.c: the HTTP imports of extism:host/env (spec section 4).
 * Not implemented yet: http_request fails the call with a clear message; http_status_code and
 * http_headers answer as they do before any request (0 and "headers disabled"). */
#include "kernel.h"

/* http_request(req: i64, body: i64) -> i64 */
EXN_IMPORT(kernel_http_request)
{
    (void)ctx, (void)mem, (void)sp;
    return exn_plugin_kernel_trap(exn_plugin_of(runtime),
                                  "http_request: HTTP requests are not implemented by this "
                                  "version of extism_native");
}

/* http_status_code() -> i32: status of the last request of this plugin, 0 before any. */
EXN_IMPORT(kernel_http_status_code)
{
    (void)runtime, (void)ctx, (void)mem;
    exn_ret_u32(sp, 0);
    return NULL;
}

/* http_headers() -> i64: 0 while response headers are not enabled for the plugin. */
EXN_IMPORT(kernel_http_headers)
{
    (void)runtime, (void)ctx, (void)mem;
    exn_ret_u64(sp, 0);
    return NULL;
}
