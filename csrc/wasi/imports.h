/* wasi/imports.h: the 46 functions of wasi_snapshot_preview1, one C function per import,
 * named after it (wasi_fd_write implements fd_write).  They are wasm3 raw functions like the
 * kernel's (kernel.h: result slot first, then one 64-bit slot per argument); each returns
 * NULL, or a trap (exn_trap_exit for proc_exit, exn_trap_host when a stdout/stderr callback
 * stops the guest, exn_trap_interrupted when a sleep is cancelled).  The names and
 * signatures appear once, in the table of link.c. */
#ifndef EXN_WASI_IMPORTS_H
#define EXN_WASI_IMPORTS_H

#include "context.h"

/* args.c */
EXN_IMPORT(wasi_args_get);
EXN_IMPORT(wasi_args_sizes_get);
/* environ.c */
EXN_IMPORT(wasi_environ_get);
EXN_IMPORT(wasi_environ_sizes_get);
/* clock.c */
EXN_IMPORT(wasi_clock_res_get);
EXN_IMPORT(wasi_clock_time_get);
/* fd.c */
EXN_IMPORT(wasi_fd_advise);
EXN_IMPORT(wasi_fd_allocate);
EXN_IMPORT(wasi_fd_close);
EXN_IMPORT(wasi_fd_datasync);
EXN_IMPORT(wasi_fd_fdstat_get);
EXN_IMPORT(wasi_fd_fdstat_set_flags);
EXN_IMPORT(wasi_fd_fdstat_set_rights);
EXN_IMPORT(wasi_fd_filestat_get);
EXN_IMPORT(wasi_fd_filestat_set_size);
EXN_IMPORT(wasi_fd_filestat_set_times);
EXN_IMPORT(wasi_fd_pread);
EXN_IMPORT(wasi_fd_prestat_get);
EXN_IMPORT(wasi_fd_prestat_dir_name);
EXN_IMPORT(wasi_fd_pwrite);
EXN_IMPORT(wasi_fd_read);
EXN_IMPORT(wasi_fd_readdir);
EXN_IMPORT(wasi_fd_renumber);
EXN_IMPORT(wasi_fd_seek);
EXN_IMPORT(wasi_fd_sync);
EXN_IMPORT(wasi_fd_tell);
EXN_IMPORT(wasi_fd_write);
/* path.c */
EXN_IMPORT(wasi_path_create_directory);
EXN_IMPORT(wasi_path_filestat_get);
EXN_IMPORT(wasi_path_filestat_set_times);
EXN_IMPORT(wasi_path_link);
EXN_IMPORT(wasi_path_open);
EXN_IMPORT(wasi_path_readlink);
EXN_IMPORT(wasi_path_remove_directory);
EXN_IMPORT(wasi_path_rename);
EXN_IMPORT(wasi_path_symlink);
EXN_IMPORT(wasi_path_unlink_file);
/* poll.c */
EXN_IMPORT(wasi_poll_oneoff);
/* proc.c */
EXN_IMPORT(wasi_proc_exit);
EXN_IMPORT(wasi_proc_raise);
/* sched.c */
EXN_IMPORT(wasi_sched_yield);
/* random.c */
EXN_IMPORT(wasi_random_get);
/* sock.c */
EXN_IMPORT(wasi_sock_accept);
EXN_IMPORT(wasi_sock_recv);
EXN_IMPORT(wasi_sock_send);
EXN_IMPORT(wasi_sock_shutdown);

/* args.c: args_* and environ_* hand out string lists the same way */
EXN_INTERNAL uint16_t exn_wasi_strings_sizes(const exn_caller_t *caller, const wasi_strings_t *s,
                                             uint64_t count_off, uint64_t size_off);
EXN_INTERNAL uint16_t exn_wasi_strings_get(const exn_caller_t *caller, const wasi_strings_t *s,
                                           uint64_t ptrs_off, uint64_t buf_off);

/* the errno result of an import */
#define WASI_RETURN(sp, err)                                                                       \
    do {                                                                                           \
        exn_ret_u32((sp), (err));                                                                  \
        return NULL;                                                                               \
    } while (0)

#endif
