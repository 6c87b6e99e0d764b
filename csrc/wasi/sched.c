/* wasi/sched.c: sched_yield - give the CPU to another thread of the host.
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx, "sched_yield".
 * May call: sys.h. */
#include "imports.h"

/* sched_yield() -> errno
 * Always succeeds. */
EXN_IMPORT(wasi_sched_yield)
{
    (void)caller;
    exn_sys_yield();
    WASI_RETURN(sp, 0);
}
