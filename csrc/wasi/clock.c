/* wasi/clock.c: clock_res_get and clock_time_get - the host's real clocks (realtime,
 * monotonic, and the process's and thread's CPU time), in nanoseconds.
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx, "clock_time_get".
 * May call: sys.h (the clocks). */
#include "imports.h"

/* clock_res_get(id: clockid, resolution: *u64) -> errno
 * Writes the resolution of the clock in nanoseconds (at least 1).
 * Errors: EINVAL - unknown clock id; EFAULT - resolution is outside memory. */
EXN_IMPORT(wasi_clock_res_get)
{
    uint64_t ns = 0;
    uint16_t err = exn_sys_clock_res(exn_arg_u32(sp, 1), &ns);
    WASI_RETURN(sp, err ? err : wasi_store_u64(caller, exn_arg_u32(sp, 2), ns));
}

/* clock_time_get(id: clockid, precision: u64, time: *u64) -> errno
 * Writes the clock's current value in nanoseconds (realtime: since 1970-01-01T00:00:00Z;
 * the others from an arbitrary start).  `precision` is accepted and ignored.
 * Errors: EINVAL - unknown clock id; EFAULT - time is outside memory. */
EXN_IMPORT(wasi_clock_time_get)
{
    uint64_t ns = 0;
    uint16_t err = exn_sys_clock_time(exn_arg_u32(sp, 1), &ns);
    WASI_RETURN(sp, err ? err : wasi_store_u64(caller, exn_arg_u32(sp, 3), ns));
}
