/* wasi/sys_posix.c: sys.h on POSIX systems (Linux, macOS, the BSDs).  With sys_win32.c the only
 * file of csrc/wasi/ that includes OS headers; it compiles to nothing on Windows.
 *
 * Every lookup is an *at() call on a directory descriptor with O_NOFOLLOW/AT_SYMLINK_NOFOLLOW,
 * so the kernel never resolves more than one component and never follows a symbolic link for
 * us (path.c expands links itself, inside the sandbox).  Only POSIX.1-2008 calls are used, plus
 * posix_fallocate/posix_fadvise where they exist (not on macOS: emulated or accepted as hints).
 * May call: the operating system, abi.h (errno values), the allocator. */
#if !defined(_WIN32)

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* preadv/pwritev */
#endif

#include "sys.h"

#include "abi.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* exn_sys_iov_t is passed to readv/writev as is */
_Static_assert(sizeof(exn_sys_iov_t) == sizeof(struct iovec), "iovec layout");
_Static_assert(offsetof(exn_sys_iov_t, base) == offsetof(struct iovec, iov_base), "iovec layout");
_Static_assert(offsetof(exn_sys_iov_t, len) == offsetof(struct iovec, iov_len), "iovec layout");

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

/* errno -> WASI errno */
static uint16_t wasi_errno(int e)
{
    switch (e) {
    case 0: return WASI_ESUCCESS;
    case E2BIG: return WASI_E2BIG;
    case EACCES: return WASI_EACCES;
    case EADDRINUSE: return WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
    case EAGAIN: return WASI_EAGAIN;
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK: return WASI_EAGAIN;
#endif
    case EALREADY: return WASI_EALREADY;
    case EBADF: return WASI_EBADF;
    case EBADMSG: return WASI_EBADMSG;
    case EBUSY: return WASI_EBUSY;
    case ECANCELED: return WASI_ECANCELED;
    case ECHILD: return WASI_ECHILD;
    case ECONNABORTED: return WASI_ECONNABORTED;
    case ECONNREFUSED: return WASI_ECONNREFUSED;
    case ECONNRESET: return WASI_ECONNRESET;
    case EDEADLK: return WASI_EDEADLK;
    case EDESTADDRREQ: return WASI_EDESTADDRREQ;
    case EDOM: return WASI_EDOM;
    case EDQUOT: return WASI_EDQUOT;
    case EEXIST: return WASI_EEXIST;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EHOSTUNREACH: return WASI_EHOSTUNREACH;
    case EIDRM: return WASI_EIDRM;
    case EILSEQ: return WASI_EILSEQ;
    case EINPROGRESS: return WASI_EINPROGRESS;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case EIO: return WASI_EIO;
    case EISCONN: return WASI_EISCONN;
    case EISDIR: return WASI_EISDIR;
    case ELOOP: return WASI_ELOOP;
    case EMFILE: return WASI_EMFILE;
    case EMLINK: return WASI_EMLINK;
    case EMSGSIZE: return WASI_EMSGSIZE;
#ifdef EMULTIHOP
    case EMULTIHOP: return WASI_EMULTIHOP;
#endif
    case ENAMETOOLONG: return WASI_ENAMETOOLONG;
    case ENETDOWN: return WASI_ENETDOWN;
    case ENETRESET: return WASI_ENETRESET;
    case ENETUNREACH: return WASI_ENETUNREACH;
    case ENFILE: return WASI_ENFILE;
    case ENOBUFS: return WASI_ENOBUFS;
    case ENODEV: return WASI_ENODEV;
    case ENOENT: return WASI_ENOENT;
    case ENOEXEC: return WASI_ENOEXEC;
    case ENOLCK: return WASI_ENOLCK;
#ifdef ENOLINK
    case ENOLINK: return WASI_ENOLINK;
#endif
    case ENOMEM: return WASI_ENOMEM;
    case ENOMSG: return WASI_ENOMSG;
    case ENOPROTOOPT: return WASI_ENOPROTOOPT;
    case ENOSPC: return WASI_ENOSPC;
    case ENOSYS: return WASI_ENOSYS;
    case ENOTCONN: return WASI_ENOTCONN;
    case ENOTDIR: return WASI_ENOTDIR;
    case ENOTEMPTY: return WASI_ENOTEMPTY;
#ifdef ENOTRECOVERABLE
    case ENOTRECOVERABLE: return WASI_ENOTRECOVERABLE;
#endif
    case ENOTSOCK: return WASI_ENOTSOCK;
    case ENOTSUP: return WASI_ENOTSUP;
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP: return WASI_ENOTSUP;
#endif
    case ENOTTY: return WASI_ENOTTY;
    case ENXIO: return WASI_ENXIO;
    case EOVERFLOW: return WASI_EOVERFLOW;
#ifdef EOWNERDEAD
    case EOWNERDEAD: return WASI_EOWNERDEAD;
#endif
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case EPROTO: return WASI_EPROTO;
    case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return WASI_EPROTOTYPE;
    case ERANGE: return WASI_ERANGE;
    case EROFS: return WASI_EROFS;
    case ESPIPE: return WASI_ESPIPE;
    case ESRCH: return WASI_ESRCH;
    case ESTALE: return WASI_ESTALE;
    case ETIMEDOUT: return WASI_ETIMEDOUT;
    case ETXTBSY: return WASI_ETXTBSY;
    case EXDEV: return WASI_EXDEV;
    default: return WASI_EIO;
    }
}

static uint16_t last_error(void)
{
    return wasi_errno(errno);
}

static uint8_t filetype_of(mode_t mode)
{
    if (S_ISREG(mode))
        return WASI_FILETYPE_REGULAR_FILE;
    if (S_ISDIR(mode))
        return WASI_FILETYPE_DIRECTORY;
    if (S_ISLNK(mode))
        return WASI_FILETYPE_SYMBOLIC_LINK;
    if (S_ISCHR(mode))
        return WASI_FILETYPE_CHARACTER_DEVICE;
    if (S_ISBLK(mode))
        return WASI_FILETYPE_BLOCK_DEVICE;
    if (S_ISSOCK(mode))
        return WASI_FILETYPE_SOCKET_STREAM;
    return WASI_FILETYPE_UNKNOWN; /* FIFOs, and anything else */
}

/* seconds + nanoseconds -> nanoseconds since the epoch (0 before it, saturating after 2554) */
static uint64_t ns_of(time_t sec, long nsec)
{
    if (sec < 0)
        return 0;
    if ((uint64_t)sec > (UINT64_MAX - 999999999u) / 1000000000u)
        return UINT64_MAX;
    return (uint64_t)sec * 1000000000u + (uint64_t)nsec;
}

static void convert_stat(const struct stat *st, exn_sys_stat_t *out)
{
    out->dev = (uint64_t)st->st_dev;
    out->ino = (uint64_t)st->st_ino;
    out->nlink = (uint64_t)st->st_nlink;
    out->size = st->st_size < 0 ? 0 : (uint64_t)st->st_size;
    out->filetype = filetype_of(st->st_mode);
#if defined(__APPLE__)
    out->atim = ns_of(st->st_atimespec.tv_sec, st->st_atimespec.tv_nsec);
    out->mtim = ns_of(st->st_mtimespec.tv_sec, st->st_mtimespec.tv_nsec);
    out->ctim = ns_of(st->st_ctimespec.tv_sec, st->st_ctimespec.tv_nsec);
#else
    out->atim = ns_of(st->st_atim.tv_sec, st->st_atim.tv_nsec);
    out->mtim = ns_of(st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    out->ctim = ns_of(st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
#endif
}

static bool is_symlink_at(int dir, const char *name)
{
    struct stat st;
    return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

static bool is_dir_at(int dir, const char *name)
{
    struct stat st;
    return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* An O_NOFOLLOW open of a symbolic link fails with ELOOP (Linux, macOS), EMLINK (FreeBSD) or,
 * with O_DIRECTORY, ENOTDIR (Linux): say WASI_ELOOP for all of them. */
static uint16_t open_error(int dir, const char *name)
{
    int e = errno;
    if ((e == ELOOP || e == EMLINK || e == ENOTDIR) && is_symlink_at(dir, name))
        return WASI_ELOOP;
    return wasi_errno(e);
}

/* ---- mounts ------------------------------------------------------------------------------ */

uint16_t exn_sys_open_mount(const char *host_path, exn_sys_fd_t *out_dir, char **out_file)
{
    *out_dir = EXN_SYS_NOFD;
    *out_file = NULL;
    char *real = realpath(host_path, NULL);
    if (!real)
        return last_error();
    struct stat st;
    uint16_t err = 0;
    if (stat(real, &st) != 0) {
        err = last_error();
    } else if (S_ISDIR(st.st_mode)) {
        int fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            err = last_error();
        else
            *out_dir = fd;
    } else {
        /* a file: the directory holding it, and its name there */
        char *slash = strrchr(real, '/');
        char *name = exn_strndup(slash + 1, strlen(slash + 1));
        if (!name) {
            err = WASI_ENOMEM;
        } else {
            if (slash == real)
                slash++; /* the file is in "/" */
            *slash = '\0';
            int fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) {
                err = last_error();
                exn_free(name);
            } else {
                *out_dir = fd;
                *out_file = name;
            }
        }
    }
    free(real);
    return err;
}

/* ---- names in a directory ----------------------------------------------------------------- */

uint16_t exn_sys_openat(exn_sys_fd_t dir, const char *name, const exn_sys_open_t *how,
                        exn_sys_fd_t *out_fd, uint8_t *out_type)
{
    int flags = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK; /* (FIFOs must not block) */
    flags |= how->read && how->write ? O_RDWR : how->write ? O_WRONLY : O_RDONLY;
    if (how->creat)
        flags |= O_CREAT;
    if (how->excl)
        flags |= O_EXCL;
    if (how->trunc)
        flags |= O_TRUNC;
    if (how->directory)
        flags |= O_DIRECTORY;
    if (how->fdflags & WASI_FDFLAG_APPEND)
        flags |= O_APPEND;
    if (how->fdflags & WASI_FDFLAG_SYNC)
        flags |= O_SYNC;
    if (how->fdflags & WASI_FDFLAG_DSYNC)
        flags |= O_DSYNC;
    if (how->fdflags & WASI_FDFLAG_RSYNC) {
#ifdef O_RSYNC
        flags |= O_RSYNC;
#else
        return WASI_ENOTSUP;
#endif
    }
    int fd;
    do
        fd = openat((int)dir, name, flags, 0666);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return open_error((int)dir, name);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        uint16_t err = last_error();
        close(fd);
        return err;
    }
    if (!(how->fdflags & WASI_FDFLAG_NONBLOCK)) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    *out_fd = fd;
    *out_type = filetype_of(st.st_mode);
    return 0;
}

uint16_t exn_sys_opendirat(exn_sys_fd_t dir, const char *name, exn_sys_fd_t *out_fd)
{
    int fd;
    do
        fd = openat((int)dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return open_error((int)dir, name);
    *out_fd = fd;
    return 0;
}

uint16_t exn_sys_readlinkat(exn_sys_fd_t dir, const char *name, char *buf, size_t buf_len,
                            size_t *out_len)
{
    ssize_t n = readlinkat((int)dir, name, buf, buf_len);
    if (n < 0)
        return last_error();
    if ((size_t)n >= buf_len)
        return WASI_ENAMETOOLONG;
    *out_len = (size_t)n;
    return 0;
}

uint16_t exn_sys_statat(exn_sys_fd_t dir, const char *name, exn_sys_stat_t *out)
{
    struct stat st;
    if (fstatat((int)dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return last_error();
    convert_stat(&st, out);
    return 0;
}

uint16_t exn_sys_mkdirat(exn_sys_fd_t dir, const char *name)
{
    return mkdirat((int)dir, name, 0777) == 0 ? 0 : last_error();
}

uint16_t exn_sys_unlinkat(exn_sys_fd_t dir, const char *name, bool directory)
{
    if (unlinkat((int)dir, name, directory ? AT_REMOVEDIR : 0) == 0)
        return 0;
    int e = errno;
    if (!directory && (e == EPERM || e == EISDIR || e == EACCES) && is_dir_at((int)dir, name))
        return WASI_EISDIR; /* (macOS and POSIX say EPERM for unlink() of a directory) */
    if (directory && e == EEXIST)
        return WASI_ENOTEMPTY;
    return wasi_errno(e);
}

uint16_t exn_sys_renameat(exn_sys_fd_t from_dir, const char *from, exn_sys_fd_t to_dir,
                          const char *to)
{
    if (renameat((int)from_dir, from, (int)to_dir, to) == 0)
        return 0;
    return errno == EEXIST ? WASI_ENOTEMPTY : last_error();
}

uint16_t exn_sys_symlinkat(const char *target, exn_sys_fd_t dir, const char *name)
{
    return symlinkat(target, (int)dir, name) == 0 ? 0 : last_error();
}

uint16_t exn_sys_linkat(exn_sys_fd_t from_dir, const char *from, exn_sys_fd_t to_dir,
                        const char *to)
{
    /* flags 0: never AT_SYMLINK_FOLLOW - a symbolic link is linked as itself */
    return linkat((int)from_dir, from, (int)to_dir, to, 0) == 0 ? 0 : last_error();
}

static void wasi_times(uint64_t atim, uint64_t mtim, uint16_t fst, struct timespec ts[2])
{
    ts[0].tv_sec = (time_t)(atim / 1000000000u);
    ts[0].tv_nsec = (long)(atim % 1000000000u);
    ts[1].tv_sec = (time_t)(mtim / 1000000000u);
    ts[1].tv_nsec = (long)(mtim % 1000000000u);
    if (fst & WASI_FST_ATIM_NOW)
        ts[0].tv_nsec = UTIME_NOW;
    else if (!(fst & WASI_FST_ATIM))
        ts[0].tv_nsec = UTIME_OMIT;
    if (fst & WASI_FST_MTIM_NOW)
        ts[1].tv_nsec = UTIME_NOW;
    else if (!(fst & WASI_FST_MTIM))
        ts[1].tv_nsec = UTIME_OMIT;
}

uint16_t exn_sys_utimesat(exn_sys_fd_t dir, const char *name, uint64_t atim, uint64_t mtim,
                          uint16_t fst_flags)
{
    struct timespec ts[2];
    wasi_times(atim, mtim, fst_flags, ts);
    return utimensat((int)dir, name, ts, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : last_error();
}

/* ---- open handles --------------------------------------------------------------------------- */

void exn_sys_close(exn_sys_fd_t fd)
{
    if (fd != EXN_SYS_NOFD)
        close((int)fd);
}

uint16_t exn_sys_fstat(exn_sys_fd_t fd, exn_sys_stat_t *out)
{
    struct stat st;
    if (fstat((int)fd, &st) != 0)
        return last_error();
    convert_stat(&st, out);
    return 0;
}

static int iov_count(size_t n)
{
    return n > IOV_MAX ? IOV_MAX : (int)n; /* (a shorter transfer is allowed) */
}

uint16_t exn_sys_read(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t *out_n)
{
    ssize_t n;
    do
        n = readv((int)fd, (const struct iovec *)iov, iov_count(n_iov));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return last_error();
    *out_n = (uint64_t)n;
    return 0;
}

uint16_t exn_sys_write(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t *out_n)
{
    ssize_t n;
    do
        n = writev((int)fd, (const struct iovec *)iov, iov_count(n_iov));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return last_error();
    *out_n = (uint64_t)n;
    return 0;
}

/* pread/pwrite one buffer at a time (preadv is not in every libc we target); a short transfer
 * ends the loop, as it would end a preadv. */
static uint16_t positioned(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t offset,
                           bool write, uint64_t *out_n)
{
    uint64_t total = 0;
    if (offset > (uint64_t)INT64_MAX)
        return WASI_EINVAL;
    for (size_t i = 0; i < n_iov; i++) {
        if (!iov[i].len)
            continue;
        if (offset + total > (uint64_t)INT64_MAX)
            break;
        ssize_t n;
        do
            n = write ? pwrite((int)fd, iov[i].base, iov[i].len, (off_t)(offset + total))
                      : pread((int)fd, iov[i].base, iov[i].len, (off_t)(offset + total));
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (total)
                break; /* report what was transferred */
            return last_error();
        }
        total += (uint64_t)n;
        if ((size_t)n < iov[i].len)
            break;
    }
    *out_n = total;
    return 0;
}

uint16_t exn_sys_pread(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t offset,
                       uint64_t *out_n)
{
    return positioned(fd, iov, n_iov, offset, false, out_n);
}

uint16_t exn_sys_pwrite(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t offset,
                        uint64_t *out_n)
{
    return positioned(fd, iov, n_iov, offset, true, out_n);
}

uint16_t exn_sys_seek(exn_sys_fd_t fd, int64_t offset, int whence, uint64_t *out_pos)
{
    int w = whence == WASI_WHENCE_SET ? SEEK_SET : whence == WASI_WHENCE_CUR ? SEEK_CUR : SEEK_END;
    off_t r = lseek((int)fd, (off_t)offset, w);
    if (r < 0)
        return last_error();
    *out_pos = (uint64_t)r;
    return 0;
}

uint16_t exn_sys_sync(exn_sys_fd_t fd, bool data_only)
{
#if defined(__APPLE__)
    (void)data_only; /* (no fdatasync declared on older macOS) */
    return fsync((int)fd) == 0 ? 0 : last_error();
#else
    return (data_only ? fdatasync((int)fd) : fsync((int)fd)) == 0 ? 0 : last_error();
#endif
}

uint16_t exn_sys_advise(exn_sys_fd_t fd, uint64_t offset, uint64_t len, int advice)
{
#if defined(POSIX_FADV_NORMAL) && !defined(__APPLE__)
    static const int map[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                              POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    if (offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX)
        return WASI_EINVAL;
    int r = posix_fadvise((int)fd, (off_t)offset, (off_t)len, map[advice]);
    return r == 0 ? 0 : wasi_errno(r);
#else
    /* advice is only a hint: accept it on a valid descriptor */
    (void)offset, (void)len, (void)advice;
    struct stat st;
    return fstat((int)fd, &st) == 0 ? 0 : last_error();
#endif
}

uint16_t exn_sys_allocate(exn_sys_fd_t fd, uint64_t offset, uint64_t len)
{
    if (offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - offset)
        return WASI_EFBIG;
#if defined(__linux__) || defined(__FreeBSD__)
    int r = posix_fallocate((int)fd, (off_t)offset, (off_t)len);
    if (r == 0)
        return 0;
    if (r != EOPNOTSUPP && r != ENOTSUP && r != EINVAL && r != ENOSYS)
        return wasi_errno(r);
        /* the file system cannot preallocate: at least make the file long enough, below */
#endif
    struct stat st;
    if (fstat((int)fd, &st) != 0)
        return last_error();
    if (!S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? WASI_EISDIR : WASI_ESPIPE;
    if ((uint64_t)st.st_size < offset + len && ftruncate((int)fd, (off_t)(offset + len)) != 0)
        return last_error();
    return 0;
}

uint16_t exn_sys_truncate(exn_sys_fd_t fd, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return WASI_EFBIG;
    int r;
    do
        r = ftruncate((int)fd, (off_t)size);
    while (r != 0 && errno == EINTR);
    return r == 0 ? 0 : last_error();
}

uint16_t exn_sys_futimes(exn_sys_fd_t fd, uint64_t atim, uint64_t mtim, uint16_t fst_flags)
{
    struct timespec ts[2];
    wasi_times(atim, mtim, fst_flags, ts);
    return futimens((int)fd, ts) == 0 ? 0 : last_error();
}

uint16_t exn_sys_get_fdflags(exn_sys_fd_t fd, uint16_t *out_flags)
{
    int fl = fcntl((int)fd, F_GETFL);
    if (fl < 0)
        return last_error();
    uint16_t f = 0;
    if (fl & O_APPEND)
        f |= WASI_FDFLAG_APPEND;
    if (fl & O_NONBLOCK)
        f |= WASI_FDFLAG_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC)
        f |= WASI_FDFLAG_SYNC;
    else if (fl & O_DSYNC)
        f |= WASI_FDFLAG_DSYNC;
    *out_flags = f;
    return 0;
}

uint16_t exn_sys_set_fdflags(exn_sys_fd_t fd, uint16_t flags)
{
    if (flags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC))
        return WASI_ENOTSUP; /* (cannot be changed after open on Linux) */
    int fl = fcntl((int)fd, F_GETFL);
    if (fl < 0)
        return last_error();
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (flags & WASI_FDFLAG_APPEND)
        fl |= O_APPEND;
    if (flags & WASI_FDFLAG_NONBLOCK)
        fl |= O_NONBLOCK;
    return fcntl((int)fd, F_SETFL, fl) == 0 ? 0 : last_error();
}

uint16_t exn_sys_readdir(exn_sys_fd_t fd, exn_sys_dirent_fn fn, void *userdata)
{
    /* a DIR stream of its own over a duplicate; the duplicate shares the position, which is
     * rewound here and not used anywhere else */
    int dup_fd = fcntl((int)fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return last_error();
    DIR *d = fdopendir(dup_fd);
    if (!d) {
        uint16_t err = last_error();
        close(dup_fd);
        return err;
    }
    rewinddir(d);
    uint16_t result = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                result = last_error();
            break;
        }
        const char *name = e->d_name;
        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
            continue;
        uint8_t type = WASI_FILETYPE_UNKNOWN;
        bool known = true;
#if defined(DT_UNKNOWN)
        switch (e->d_type) {
        case DT_REG: type = WASI_FILETYPE_REGULAR_FILE; break;
        case DT_DIR: type = WASI_FILETYPE_DIRECTORY; break;
        case DT_LNK: type = WASI_FILETYPE_SYMBOLIC_LINK; break;
        case DT_CHR: type = WASI_FILETYPE_CHARACTER_DEVICE; break;
        case DT_BLK: type = WASI_FILETYPE_BLOCK_DEVICE; break;
        case DT_SOCK: type = WASI_FILETYPE_SOCKET_STREAM; break;
        case DT_FIFO: type = WASI_FILETYPE_UNKNOWN; break;
        default: known = false; break;
        }
#else
        known = false;
#endif
        if (!known) {
            struct stat st;
            if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                type = filetype_of(st.st_mode);
        }
        if ((result = fn(userdata, name, strlen(name), (uint64_t)e->d_ino, type)) != 0)
            break;
    }
    closedir(d);
    return result;
}

/* ---- the process --------------------------------------------------------------------------- */

static bool clock_of(uint32_t clock, clockid_t *out)
{
    switch (clock) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
#ifdef CLOCK_PROCESS_CPUTIME_ID
    case WASI_CLOCK_PROCESS_CPUTIME: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
#endif
#ifdef CLOCK_THREAD_CPUTIME_ID
    case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return true;
#endif
    default: return false;
    }
}

uint16_t exn_sys_clock_time(uint32_t clock, uint64_t *out_ns)
{
    clockid_t id;
    struct timespec ts;
    if (!clock_of(clock, &id))
        return WASI_EINVAL;
    if (clock_gettime(id, &ts) != 0)
        return last_error();
    *out_ns = ns_of(ts.tv_sec, ts.tv_nsec);
    return 0;
}

uint16_t exn_sys_clock_res(uint32_t clock, uint64_t *out_ns)
{
    clockid_t id;
    struct timespec ts;
    if (!clock_of(clock, &id))
        return WASI_EINVAL;
    if (clock_getres(id, &ts) != 0)
        return last_error();
    *out_ns = ns_of(ts.tv_sec, ts.tv_nsec);
    if (!*out_ns)
        *out_ns = 1;
    return 0;
}

void exn_sys_sleep(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)}, rest;
    while (nanosleep(&ts, &rest) != 0 && errno == EINTR)
        ts = rest;
}

void exn_sys_yield(void)
{
    sched_yield();
}

uint16_t exn_sys_stdio_write(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) { /* a non-blocking stdout: wait */
                struct pollfd pfd = {fd, POLLOUT, 0};
                poll(&pfd, 1, 100);
                continue;
            }
            return last_error();
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

#endif /* !_WIN32 */
