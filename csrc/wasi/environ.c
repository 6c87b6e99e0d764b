/* wasi/environ.c: environ_sizes_get and environ_get - the "KEY=value" strings the host
 * configured (exn_plugin_wasi_env; empty by default: the process's own environment is never
 * shown to the guest).  Same layout as args (args.c).
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx, "environ_get". */
#include "imports.h"

/* environ_sizes_get(count: *u32, buf_size: *u32) -> errno
 * Writes the number of variables and the bytes environ_get needs for them (NULs included).
 * Errors: EFAULT - either pointer is outside memory (nothing is written). */
EXN_IMPORT(wasi_environ_sizes_get)
{
    const wasi_strings_t *s = &exn_wasi_of(caller)->env;
    WASI_RETURN(sp, exn_wasi_strings_sizes(caller, s, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2)));
}

/* environ_get(environ: **u8, environ_buf: *u8) -> errno
 * Writes a pointer to each "KEY=value" string at environ and the strings, NUL-terminated and
 * back to back, at environ_buf.
 * Errors: EFAULT - either area is outside memory (nothing is written). */
EXN_IMPORT(wasi_environ_get)
{
    const wasi_strings_t *s = &exn_wasi_of(caller)->env;
    WASI_RETURN(sp, exn_wasi_strings_get(caller, s, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2)));
}
