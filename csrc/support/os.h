/* os.h: the few operating-system services the core needs, behind one small interface.
 *
 * Implemented in os_posix.c (Linux, macOS, BSDs) and os_win32.c (Windows); those two files are
 * the only ones in csrc/ (outside wasi/) that include OS headers.  Everything else calls these.
 */
#ifndef EXN_OS_H
#define EXN_OS_H

#include "internal.h"

/* ---- address space ------------------------------------------------------------------------ */

/** Reserve `size` bytes of address space that cannot be accessed yet.
 *  Returns the base, or NULL if the reservation failed. */
EXN_INTERNAL void *exn_os_reserve(size_t size);

/** Make [addr, addr+size) of a reservation readable and writable.  Fresh pages read as zero and
 *  cost no resident memory until touched.  Returns 0 on success, -1 on failure. */
EXN_INTERNAL int exn_os_commit(void *addr, size_t size);

/** Replace the committed pages [addr, addr+size) (page-aligned) by fresh zero pages, giving
 *  their memory back to the system.  Returns 0, or -1 if the caller must zero them itself. */
EXN_INTERNAL int exn_os_zero_pages(void *addr, size_t size);

/** Make the committed pages [addr, addr+size) (page-aligned) of a reservation inaccessible
 *  again and give their memory back.  Returns 0, or -1 on failure. */
EXN_INTERNAL int exn_os_decommit(void *addr, size_t size);

/** Map the first `size` bytes (page-aligned) of file `fd` privately (copy-on-write) over the
 *  committed pages [addr, addr+size) of a reservation: their reads see the file, their writes
 *  stay private.  Returns 0, or -1 (the range is unchanged) where it cannot (Windows). */
EXN_INTERNAL int exn_os_map_private(void *addr, size_t size, intptr_t fd);

/** Replace [addr, addr+size) (page-aligned) by fresh private zero pages, readable and writable,
 *  whatever was mapped there (a file mapped by exn_os_map_private included).  0 or -1. */
EXN_INTERNAL int exn_os_remap_zero(void *addr, size_t size);

/** Give back a whole reservation made by exn_os_reserve. */
EXN_INTERNAL void exn_os_release(void *addr, size_t size);

/** The granularity of exn_os_commit (the page size, 64 KiB on Windows). */
EXN_INTERNAL size_t exn_os_page_size(void);

/* ---- misc -------------------------------------------------------------------------------- */

/** Fill buf with cryptographically secure random bytes.  Returns 0, or -1 on failure. */
EXN_INTERNAL int exn_os_random(void *buf, size_t len);

/** Current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" (buf of at least 32 bytes). */
EXN_INTERNAL void exn_os_utc_timestamp(char *buf, size_t buf_len);

/** Monotonic clock in nanoseconds. */
EXN_INTERNAL uint64_t exn_os_monotonic_ns(void);

/** A cheap monotonic clock in nanoseconds, coarse (a few ms per tick where the platform has
 *  one): sums of many short intervals measured with it are still right on average. */
EXN_INTERNAL uint64_t exn_os_coarse_ns(void);

/** Lowest usable address of the calling thread's native stack (the stack grows down towards it),
 *  or 0 if the platform cannot tell. */
EXN_INTERNAL uintptr_t exn_os_stack_low(void);

/** An opaque identifier of the calling thread (never 0). */
EXN_INTERNAL uintptr_t exn_os_thread_id(void);

/* ---- locks -------------------------------------------------------------------------------- */

typedef struct exn_mutex exn_mutex_t;

/** Returns owned, free with exn_os_mutex_free; NULL when out of memory. */
EXN_INTERNAL exn_mutex_t *exn_os_mutex_new(void);
EXN_INTERNAL void exn_os_mutex_free(exn_mutex_t *m);
EXN_INTERNAL void exn_os_mutex_lock(exn_mutex_t *m);
EXN_INTERNAL void exn_os_mutex_unlock(exn_mutex_t *m);

/** A condition variable used with the global lock (the watchdog). */
EXN_INTERNAL void exn_os_global_wait(uint64_t deadline_ns); /* 0 = no deadline */
EXN_INTERNAL void exn_os_global_signal(void);

/** A second condition variable on the global lock: threads waiting for a busy plugin
 *  (plugin.c).  Wait with the global lock held until a broadcast or `deadline_ns` (monotonic;
 *  0 = none); spurious wake-ups happen, the caller re-checks. */
EXN_INTERNAL void exn_os_global_wait_plugins(uint64_t deadline_ns);
EXN_INTERNAL void exn_os_global_broadcast_plugins(void);

/** Start a detached thread running fn(arg).  Returns 0, or -1 on failure. */
EXN_INTERNAL int exn_os_thread_start(void (*fn)(void *), void *arg);

/** In a child after fork(): make the global lock and condition usable again (the thread that
 *  held them is gone).  A no-op where there is no fork(). */
EXN_INTERNAL void exn_os_global_reinit(void);

/** Register fn to run in the child after fork() (POSIX; a no-op elsewhere). */
EXN_INTERNAL void exn_os_atfork_child(void (*fn)(void));

/** The one process-wide lock (global log configuration and buffer, the watchdog). */
EXN_INTERNAL void exn_os_global_lock(void);
EXN_INTERNAL void exn_os_global_unlock(void);

/* ---- files --------------------------------------------------------------------------------- */

/** Read a whole file.  Returns EXN_OK and an owned buffer (free with exn_free), or an error
 *  status with a message in errbuf. */
EXN_INTERNAL exn_status_t exn_os_read_file(const char *path, uint8_t **out_data, size_t *out_len,
                                           char *errbuf, size_t errbuf_len);

#endif
