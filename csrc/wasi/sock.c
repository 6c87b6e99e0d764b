/* wasi/sock.c: sock_accept, sock_recv, sock_send, sock_shutdown.  A plugin has no sockets
 * (preview 1 cannot create them and the host preopens none), so every call answers ENOTSUP;
 * the official runtime says ENOTSOCK for a descriptor that is not a socket.
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx, "sock_accept" and following. */
#include "imports.h"

/* sock_accept(fd: fd, flags: fdflags, result: *fd) -> errno
 * Errors: ENOTSUP - always. */
EXN_IMPORT(wasi_sock_accept)
{
    (void)caller;
    WASI_RETURN(sp, WASI_ENOTSUP);
}

/* sock_recv(fd: fd, ri_data: *iovec, ri_data_len: u32, ri_flags: riflags, ro_datalen: *u32,
 *           ro_flags: *roflags) -> errno
 * Errors: ENOTSUP - always. */
EXN_IMPORT(wasi_sock_recv)
{
    (void)caller;
    WASI_RETURN(sp, WASI_ENOTSUP);
}

/* sock_send(fd: fd, si_data: *ciovec, si_data_len: u32, si_flags: siflags,
 *           so_datalen: *u32) -> errno
 * Errors: ENOTSUP - always. */
EXN_IMPORT(wasi_sock_send)
{
    (void)caller;
    WASI_RETURN(sp, WASI_ENOTSUP);
}

/* sock_shutdown(fd: fd, how: sdflags) -> errno
 * Errors: ENOTSUP - always. */
EXN_IMPORT(wasi_sock_shutdown)
{
    (void)caller;
    WASI_RETURN(sp, WASI_ENOTSUP);
}
