/* wasi/args.c: args_sizes_get and args_get - the command line the host configured
 * (exn_plugin_wasi_args; empty by default, as in the official runtime, spec section 3.7).
 * The helpers here also serve environ.c: both hand out a list of NUL-terminated strings.
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx, "args_get".
 * May call: context.h (the WASI context, guest memory). */
#include "imports.h"

uint16_t exn_wasi_strings_sizes(const exn_caller_t *caller, const wasi_strings_t *s,
                                uint64_t count_off, uint64_t size_off)
{
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, count_off, 4) || !wasi_in(m, size_off, 4))
        return WASI_EFAULT;
    wasi_put_u32(m.base + count_off, (uint32_t)s->n);
    wasi_put_u32(m.base + size_off, (uint32_t)s->bytes);
    return 0;
}

/* Memory layout, for args "a" "bc" with ptrs_off = 100, buf_off = 200:
 *
 *   100: [200, 202] (u32 each)        200: a \0 b c \0
 */
uint16_t exn_wasi_strings_get(const exn_caller_t *caller, const wasi_strings_t *s,
                              uint64_t ptrs_off, uint64_t buf_off)
{
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, ptrs_off, (uint64_t)s->n * 4) || !wasi_in(m, buf_off, s->bytes))
        return WASI_EFAULT;
    uint64_t at = buf_off;
    for (size_t i = 0; i < s->n; i++) {
        size_t len = strlen(s->items[i]) + 1;
        wasi_put_u32(m.base + ptrs_off + 4 * i, (uint32_t)at);
        memcpy(m.base + at, s->items[i], len);
        at += len;
    }
    return 0;
}

/* args_sizes_get(argc: *u32, argv_buf_size: *u32) -> errno
 * Writes the number of arguments and the bytes args_get needs for them (NULs included).
 * Errors: EFAULT - either pointer is outside memory (nothing is written). */
EXN_IMPORT(wasi_args_sizes_get)
{
    const wasi_strings_t *s = &exn_wasi_of(caller)->args;
    WASI_RETURN(sp, exn_wasi_strings_sizes(caller, s, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2)));
}

/* args_get(argv: **u8, argv_buf: *u8) -> errno
 * Writes a pointer to each argument at argv (u32 each) and the arguments, NUL-terminated and
 * back to back, at argv_buf (sizes from args_sizes_get).
 * Errors: EFAULT - argv[argc] or argv_buf[argv_buf_size] is outside memory (nothing written). */
EXN_IMPORT(wasi_args_get)
{
    const wasi_strings_t *s = &exn_wasi_of(caller)->args;
    WASI_RETURN(sp, exn_wasi_strings_get(caller, s, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2)));
}
