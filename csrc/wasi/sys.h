/* wasi/sys.h: the operating-system calls WASI needs, behind one small interface.
 *
 * Implemented by sys_posix.c (Linux, macOS, the BSDs) and sys_win32.c (Windows), the only
 * files of csrc/wasi/ that include OS headers.  Every function returns a WASI errno (abi.h):
 * the OS's error codes are translated there, so the rest of WASI never sees errno/GetLastError.
 *
 * The sandbox rests on one rule this interface enforces: a name given to an *at function is a
 * single path component (no '/', never "" or ".."; "." means the directory itself) looked up
 * in the directory handle `dir`, and the final component is never followed if it is a symbolic
 * link.  Path walking, ".." and symlink expansion are done by path.c on top of these calls, one
 * component at a time, so no host path string is ever resolved by the OS. */
#ifndef EXN_WASI_SYS_H
#define EXN_WASI_SYS_H

#include "support/internal.h"

/* An open file or directory: a POSIX file descriptor or a Windows HANDLE. */
typedef intptr_t exn_sys_fd_t;
#define EXN_SYS_NOFD ((exn_sys_fd_t)-1)

/* What WASI's filestat reports; times in nanoseconds since the Unix epoch. */
typedef struct {
    uint64_t dev, ino, nlink, size, atim, mtim, ctim;
    uint8_t filetype; /* WASI_FILETYPE_* */
} exn_sys_stat_t;

/* How to open a file (from path_open's oflags, rights and fdflags). */
typedef struct {
    bool read, write;
    bool creat, excl, trunc, directory; /* WASI_O_* */
    uint16_t fdflags;                   /* WASI_FDFLAG_* */
} exn_sys_open_t;

/* A guest buffer for scatter/gather I/O (borrowed for the duration of the call). */
typedef struct {
    void *base;
    size_t len;
} exn_sys_iov_t;

/* ---- mounts ------------------------------------------------------------------------------ */

/** Open the host path of an allowed_paths entry (the host trusts its own path: symlinks in it
 *  are followed).  A directory gives its handle in *out_dir and *out_file = NULL; a file gives
 *  the handle of the directory holding it and its name there in *out_file (Returns owned, free
 *  with exn_free).  Returns 0 or an errno. */
EXN_INTERNAL uint16_t exn_sys_open_mount(const char *host_path, exn_sys_fd_t *out_dir,
                                         char **out_file);

/* ---- names in a directory (see the rule above) -------------------------------------------- */

/** Open `name` in `dir`.  A symbolic link is not followed: WASI_ELOOP.  *out_type gets the
 *  WASI filetype of what was opened.  Never blocks on a FIFO. */
EXN_INTERNAL uint16_t exn_sys_openat(exn_sys_fd_t dir, const char *name, const exn_sys_open_t *how,
                                     exn_sys_fd_t *out_fd, uint8_t *out_type);

/** Open the directory `name` in `dir` for further lookups: WASI_ELOOP if it is a symbolic link,
 *  WASI_ENOTDIR if it is something else. */
EXN_INTERNAL uint16_t exn_sys_opendirat(exn_sys_fd_t dir, const char *name, exn_sys_fd_t *out_fd);

/** The target of the symbolic link `name` (not NUL-terminated) in buf; *out_len its length.
 *  WASI_EINVAL if `name` is not a symbolic link, WASI_ENAMETOOLONG if it does not fit. */
EXN_INTERNAL uint16_t exn_sys_readlinkat(exn_sys_fd_t dir, const char *name, char *buf,
                                         size_t buf_len, size_t *out_len);

EXN_INTERNAL uint16_t exn_sys_statat(exn_sys_fd_t dir, const char *name, exn_sys_stat_t *out);
EXN_INTERNAL uint16_t exn_sys_mkdirat(exn_sys_fd_t dir, const char *name);
/** Remove a file or symbolic link (WASI_EISDIR for a directory), or with `directory` an empty
 *  directory (WASI_ENOTDIR for anything else, WASI_ENOTEMPTY if not empty). */
EXN_INTERNAL uint16_t exn_sys_unlinkat(exn_sys_fd_t dir, const char *name, bool directory);
EXN_INTERNAL uint16_t exn_sys_renameat(exn_sys_fd_t from_dir, const char *from, exn_sys_fd_t to_dir,
                                       const char *to);
/** A symbolic link `name` in `dir` whose text is `target` (stored as given). */
EXN_INTERNAL uint16_t exn_sys_symlinkat(const char *target, exn_sys_fd_t dir, const char *name);
/** A hard link `to` in `to_dir` to `from` in `from_dir` (a symbolic link is linked itself). */
EXN_INTERNAL uint16_t exn_sys_linkat(exn_sys_fd_t from_dir, const char *from, exn_sys_fd_t to_dir,
                                     const char *to);
/** Set times (WASI fst_flags; validated by the caller) of `name`, not following it. */
EXN_INTERNAL uint16_t exn_sys_utimesat(exn_sys_fd_t dir, const char *name, uint64_t atim,
                                       uint64_t mtim, uint16_t fst_flags);

/* ---- open handles --------------------------------------------------------------------------- */

EXN_INTERNAL void exn_sys_close(exn_sys_fd_t fd);
EXN_INTERNAL uint16_t exn_sys_fstat(exn_sys_fd_t fd, exn_sys_stat_t *out);
/** Read or write at the current position; *out_n gets the byte count (0 at end of file). */
EXN_INTERNAL uint16_t exn_sys_read(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov,
                                   uint64_t *out_n);
EXN_INTERNAL uint16_t exn_sys_write(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov,
                                    uint64_t *out_n);
/** Read or write at `offset` without moving the position. */
EXN_INTERNAL uint16_t exn_sys_pread(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov,
                                    uint64_t offset, uint64_t *out_n);
EXN_INTERNAL uint16_t exn_sys_pwrite(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov,
                                     uint64_t offset, uint64_t *out_n);
/** whence: WASI_WHENCE_*; *out_pos the new position. */
EXN_INTERNAL uint16_t exn_sys_seek(exn_sys_fd_t fd, int64_t offset, int whence, uint64_t *out_pos);
EXN_INTERNAL uint16_t exn_sys_sync(exn_sys_fd_t fd, bool data_only);
EXN_INTERNAL uint16_t exn_sys_advise(exn_sys_fd_t fd, uint64_t offset, uint64_t len, int advice);
/** Make sure [offset, offset+len) is allocated; grows the file if it ends beyond it. */
EXN_INTERNAL uint16_t exn_sys_allocate(exn_sys_fd_t fd, uint64_t offset, uint64_t len);
EXN_INTERNAL uint16_t exn_sys_truncate(exn_sys_fd_t fd, uint64_t size);
EXN_INTERNAL uint16_t exn_sys_futimes(exn_sys_fd_t fd, uint64_t atim, uint64_t mtim,
                                      uint16_t fst_flags);
/** The WASI fdflags of an open file, and setting APPEND/NONBLOCK (others: WASI_ENOTSUP). */
EXN_INTERNAL uint16_t exn_sys_get_fdflags(exn_sys_fd_t fd, uint16_t *out_flags);
EXN_INTERNAL uint16_t exn_sys_set_fdflags(exn_sys_fd_t fd, uint16_t flags);

/** Call fn for every entry of the directory `fd` except "." and ".." (in the OS's order);
 *  fn returning non-zero stops with that value as the result.  The position of `fd` is not
 *  used or changed. */
typedef uint16_t (*exn_sys_dirent_fn)(void *userdata, const char *name, size_t name_len,
                                      uint64_t ino, uint8_t filetype);
EXN_INTERNAL uint16_t exn_sys_readdir(exn_sys_fd_t fd, exn_sys_dirent_fn fn, void *userdata);

/* ---- the process --------------------------------------------------------------------------- */

/** clock: WASI_CLOCK_*.  WASI_EINVAL for an unknown clock. */
EXN_INTERNAL uint16_t exn_sys_clock_time(uint32_t clock, uint64_t *out_ns);
EXN_INTERNAL uint16_t exn_sys_clock_res(uint32_t clock, uint64_t *out_ns);
/** Sleep for about `ns` nanoseconds (callers keep slices short so a cancel is seen). */
EXN_INTERNAL void exn_sys_sleep(uint64_t ns);
EXN_INTERNAL void exn_sys_yield(void);
/** Write all of data to the process's stdout (1) or stderr (2). */
EXN_INTERNAL uint16_t exn_sys_stdio_write(int fd, const void *data, size_t len);

#endif
