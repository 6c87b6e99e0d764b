/* wasi/proc.c: proc_exit and proc_raise.  proc_exit ends the Extism call, not the host
 * process: plugin.c's classify() turns the exit trap into success (code 0) or EXN_ERR_EXIT
 * with the code (the official runtime's rc, spec section 3.2); the instance stays usable.
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx, "proc_exit". */
#include "imports.h"

/* proc_exit(rval: u32) -> (does not return)
 * Stops the guest; the call's exit code is rval read as a signed 32-bit number (so 500 is
 * 500 and 0xffffffff is -1). */
EXN_IMPORT(wasi_proc_exit)
{
    ExtismPlugin *p = exn_plugin_of(caller);
    p->exit_code = (int32_t)exn_arg_u32(sp, 0);
    return exn_trap_exit;
}

/* proc_raise(sig: signal) -> errno
 * Signals are not delivered to plugins.
 * Errors: ENOTSUP - always (as the official runtime answers). */
EXN_IMPORT(wasi_proc_raise)
{
    (void)caller;
    WASI_RETURN(sp, WASI_ENOTSUP);
}
