/* wasi/random.c: random_get - bytes from the operating system's cryptographically secure
 * generator (os.h exn_os_random: getrandom, getentropy, BCryptGenRandom).
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx, "random_get". */
#include "support/os.h"
#include "imports.h"

/* random_get(buf: *u8, buf_len: u32) -> errno
 * Fills buf[0, buf_len) with random bytes (buf_len 0 does nothing and succeeds).
 * Errors: EFAULT - the buffer is outside memory; EIO - the OS generator failed. */
EXN_IMPORT(wasi_random_get)
{
    uint32_t buf = exn_arg_u32(sp, 1), len = exn_arg_u32(sp, 2);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, buf, len))
        WASI_RETURN(sp, WASI_EFAULT);
    WASI_RETURN(sp, len && exn_os_random(m.base + buf, len) != 0 ? WASI_EIO : 0);
}
