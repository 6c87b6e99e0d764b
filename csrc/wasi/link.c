/* wasi/link.c: the one table of wasi_snapshot_preview1 imports: name, signature
 * (i = i32, I = i64, v = no result: "i(iIi)" is (i32, i64, i32) -> i32) and implementation.
 * Every import name appears here and nowhere else; the table lists all 46 functions of the
 * WASI preview 1 definition (WebAssembly/WASI legacy/preview1/witx/wasi_snapshot_preview1.witx).
 * May call: imports.h (the imports it lists). */
#include "imports.h"

static const exn_wasi_import_t table[] = {
    /* args and environment (args.c, environ.c) */
    {"args_get", "i(ii)", wasi_args_get},
    {"args_sizes_get", "i(ii)", wasi_args_sizes_get},
    {"environ_get", "i(ii)", wasi_environ_get},
    {"environ_sizes_get", "i(ii)", wasi_environ_sizes_get},
    /* clocks (clock.c) */
    {"clock_res_get", "i(ii)", wasi_clock_res_get},
    {"clock_time_get", "i(iIi)", wasi_clock_time_get},
    /* descriptors (fd.c) */
    {"fd_advise", "i(iIIi)", wasi_fd_advise},
    {"fd_allocate", "i(iII)", wasi_fd_allocate},
    {"fd_close", "i(i)", wasi_fd_close},
    {"fd_datasync", "i(i)", wasi_fd_datasync},
    {"fd_fdstat_get", "i(ii)", wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "i(ii)", wasi_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "i(iII)", wasi_fd_fdstat_set_rights},
    {"fd_filestat_get", "i(ii)", wasi_fd_filestat_get},
    {"fd_filestat_set_size", "i(iI)", wasi_fd_filestat_set_size},
    {"fd_filestat_set_times", "i(iIIi)", wasi_fd_filestat_set_times},
    {"fd_pread", "i(iiiIi)", wasi_fd_pread},
    {"fd_prestat_get", "i(ii)", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "i(iii)", wasi_fd_prestat_dir_name},
    {"fd_pwrite", "i(iiiIi)", wasi_fd_pwrite},
    {"fd_read", "i(iiii)", wasi_fd_read},
    {"fd_readdir", "i(iiiIi)", wasi_fd_readdir},
    {"fd_renumber", "i(ii)", wasi_fd_renumber},
    {"fd_seek", "i(iIii)", wasi_fd_seek},
    {"fd_sync", "i(i)", wasi_fd_sync},
    {"fd_tell", "i(ii)", wasi_fd_tell},
    {"fd_write", "i(iiii)", wasi_fd_write},
    /* paths (path.c) */
    {"path_create_directory", "i(iii)", wasi_path_create_directory},
    {"path_filestat_get", "i(iiiii)", wasi_path_filestat_get},
    {"path_filestat_set_times", "i(iiiiIIi)", wasi_path_filestat_set_times},
    {"path_link", "i(iiiiiii)", wasi_path_link},
    {"path_open", "i(iiiiiIIii)", wasi_path_open},
    {"path_readlink", "i(iiiiii)", wasi_path_readlink},
    {"path_remove_directory", "i(iii)", wasi_path_remove_directory},
    {"path_rename", "i(iiiiii)", wasi_path_rename},
    {"path_symlink", "i(iiiii)", wasi_path_symlink},
    {"path_unlink_file", "i(iii)", wasi_path_unlink_file},
    /* polling (poll.c) */
    {"poll_oneoff", "i(iiii)", wasi_poll_oneoff},
    /* the process (proc.c, sched.c, random.c) */
    {"proc_exit", "v(i)", wasi_proc_exit},
    {"proc_raise", "i(i)", wasi_proc_raise},
    {"sched_yield", "i()", wasi_sched_yield},
    {"random_get", "i(ii)", wasi_random_get},
    /* sockets (sock.c) */
    {"sock_accept", "i(iii)", wasi_sock_accept},
    {"sock_recv", "i(iiiiii)", wasi_sock_recv},
    {"sock_send", "i(iiiii)", wasi_sock_send},
    {"sock_shutdown", "i(ii)", wasi_sock_shutdown},
};

_Static_assert(sizeof table / sizeof table[0] == 46, "wasi_snapshot_preview1 has 46 functions");

const exn_wasi_import_t *exn_wasi_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    }
    return NULL;
}
