/* wasi/fd.c: the fd_* functions of wasi_snapshot_preview1 - reading, writing, seeking,
 * metadata and listing of open descriptors: files and directories of the mounts (through
 * sys.h) and stdio (stdin from the bytes the host gave, stdout/stderr to the process, nowhere,
 * or a callback: context.c exn_wasi_output).
 *
 * Rights (fs_rights_base) are checked as the WASI definition says, with ENOTCAPABLE, except
 * that a missing FD_READ/FD_WRITE answers EBADF, as POSIX and the official runtime do for a
 * file opened in the other direction.  Writes to files of a "ro:" mount answer EPERM (the
 * official runtime's errno, spec section 3.7).  Result pointers are checked before any I/O,
 * so a bad pointer never loses data.
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx.  May call: sys.h, context.h. */
#include "imports.h"

/* the entry of an argument, or NULL with *err = EBADF */
static wasi_fd_t *get(const exn_caller_t *caller, uint32_t fd, uint16_t *err)
{
    wasi_fd_t *e = exn_wasi_fd(exn_wasi_of(caller), fd);
    *err = e ? 0 : WASI_EBADF;
    return e;
}

static bool is_stdio(const wasi_fd_t *e)
{
    return e->kind == WASI_FD_STDIN || e->kind == WASI_FD_STDOUT || e->kind == WASI_FD_STDERR;
}

/* the rights a file or directory operation needs: 0, or ENOTCAPABLE */
static uint16_t need(const wasi_fd_t *e, uint64_t rights)
{
    return (e->rights_base & rights) == rights ? 0 : WASI_ENOTCAPABLE;
}

static bool is_file_mount_root(exn_wasi_t *w, const wasi_fd_t *e)
{
    return e->preopen && w->mounts[e->mount].file != NULL;
}

static void put_filestat(uint8_t *p, const exn_sys_stat_t *st)
{
    memset(p, 0, WASI_FILESTAT_SIZE);
    wasi_put_u64(p + WASI_FILESTAT_DEV, st->dev);
    wasi_put_u64(p + WASI_FILESTAT_INO, st->ino);
    p[WASI_FILESTAT_FILETYPE] = st->filetype;
    wasi_put_u64(p + WASI_FILESTAT_NLINK, st->nlink);
    wasi_put_u64(p + WASI_FILESTAT_SIZE_FIELD, st->size);
    wasi_put_u64(p + WASI_FILESTAT_ATIM, st->atim);
    wasi_put_u64(p + WASI_FILESTAT_MTIM, st->mtim);
    wasi_put_u64(p + WASI_FILESTAT_CTIM, st->ctim);
}

/* fst_flags: only known bits, and never a time together with "now" for the same field */
static bool valid_fst(uint32_t fst)
{
    return !(fst & ~WASI_FST_ALL) &&
           (fst & (WASI_FST_ATIM | WASI_FST_ATIM_NOW)) != (WASI_FST_ATIM | WASI_FST_ATIM_NOW) &&
           (fst & (WASI_FST_MTIM | WASI_FST_MTIM_NOW)) != (WASI_FST_MTIM | WASI_FST_MTIM_NOW);
}

/* ---- reading and writing ------------------------------------------------------------------ */

/* Copy the rest of the configured stdin into the buffers. */
static uint64_t read_stdin(exn_wasi_t *w, const exn_sys_iov_t *iov, uint32_t n)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < n && w->stdin_pos < w->stdin_len; i++) {
        size_t k = w->stdin_len - w->stdin_pos;
        if (k > iov[i].len)
            k = iov[i].len;
        memcpy(iov[i].base, w->stdin_data + w->stdin_pos, k);
        w->stdin_pos += k;
        total += k;
    }
    return total;
}

/* Hand the buffers to stdout or stderr, gathered into chunks of up to 64 KiB so that one
 * fd_write usually reaches a callback as one piece. */
static exn_trap_t write_stdio(exn_wasi_t *w, int which, const exn_sys_iov_t *iov, uint32_t n,
                              uint64_t total)
{
    enum { CHUNK = 64 * 1024 };
    uint8_t *buf = NULL;
    uint32_t nonempty = 0;
    for (uint32_t i = 0; i < n; i++)
        nonempty += iov[i].len != 0;
    if (nonempty > 1)
        buf = exn_malloc(total < CHUNK ? (size_t)total : CHUNK);
    if (!buf) { /* one buffer, or no memory for gathering: one piece per buffer */
        for (uint32_t i = 0; i < n; i++) {
            exn_trap_t trap = exn_wasi_output(w, which, iov[i].base, iov[i].len);
            if (trap)
                return trap;
        }
        return NULL;
    }
    size_t used = 0, cap = total < CHUNK ? (size_t)total : CHUNK;
    exn_trap_t trap = NULL;
    for (uint32_t i = 0; i < n && !trap; i++) {
        const uint8_t *src = iov[i].base;
        size_t left = iov[i].len;
        while (left && !trap) {
            size_t k = cap - used < left ? cap - used : left;
            memcpy(buf + used, src, k);
            used += k, src += k, left -= k;
            if (used == cap) {
                trap = exn_wasi_output(w, which, buf, used);
                used = 0;
            }
        }
    }
    if (!trap && used)
        trap = exn_wasi_output(w, which, buf, used);
    exn_free(buf);
    return trap;
}

/* fd_read(fd: fd, iovs: *iovec, iovs_len: u32, nread: *u32) -> errno
 * Reads into the buffers, in order, from the current position; *nread = bytes read (0 at the
 * end of the file, and at the end of stdin's bytes).
 *
 *   iovs: [buf u32 | buf_len u32] x iovs_len
 *
 * Errors: EBADF - not open, or not readable (stdout, stderr, a directory, a file opened
 * without FD_READ); EFAULT - iovs, a used buffer or nread outside memory; others from the OS
 * read.  Only the first 1024 buffers are used (a short read, as POSIX allows). */
EXN_IMPORT(wasi_fd_read)
{
    uint16_t err;
    uint32_t n_iovs = exn_arg_u32(sp, 3), nread_off = exn_arg_u32(sp, 4);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (e->kind == WASI_FD_DIR || e->kind == WASI_FD_STDOUT || e->kind == WASI_FD_STDERR ||
        (e->kind == WASI_FD_FILE && need(e, WASI_RIGHT_FD_READ)))
        WASI_RETURN(sp, WASI_EBADF);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, nread_off, 4))
        WASI_RETURN(sp, WASI_EFAULT);
    exn_sys_iov_t *iov;
    uint64_t total, n = 0;
    if ((err = exn_wasi_iovecs(m, exn_arg_u32(sp, 2), &n_iovs, &iov, &total)) != 0)
        WASI_RETURN(sp, err);
    if (e->kind == WASI_FD_STDIN)
        n = read_stdin(exn_wasi_of(caller), iov, n_iovs);
    else
        err = exn_sys_read(e->h, iov, n_iovs, &n);
    exn_free(iov);
    if (!err)
        wasi_put_u32(m.base + nread_off, (uint32_t)n);
    WASI_RETURN(sp, err);
}

/* fd_write(fd: fd, iovs: *ciovec, iovs_len: u32, nwritten: *u32) -> errno
 * Writes the buffers, in order, at the current position (the end with APPEND); stdout and
 * stderr go where the host configured them.  *nwritten = bytes written.
 * Errors: EBADF - not open, or not writable (stdin, a directory, a file opened without
 * FD_WRITE); EFAULT - iovs, a used buffer or nwritten outside memory; EINVAL - the buffers
 * add up to 4 GiB or more; others from the OS write.  Only the first 1024 buffers are used
 * (a short write).  An output callback asking to stop ends the call
 * (EXN_ERR_HOST) instead of returning. */
EXN_IMPORT(wasi_fd_write)
{
    uint16_t err;
    uint32_t n_iovs = exn_arg_u32(sp, 3), nwritten_off = exn_arg_u32(sp, 4);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (e->kind == WASI_FD_STDIN || e->kind == WASI_FD_DIR ||
        (e->kind == WASI_FD_FILE && need(e, WASI_RIGHT_FD_WRITE)))
        WASI_RETURN(sp, WASI_EBADF);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, nwritten_off, 4))
        WASI_RETURN(sp, WASI_EFAULT);
    exn_sys_iov_t *iov;
    uint64_t total, n = 0;
    if ((err = exn_wasi_iovecs(m, exn_arg_u32(sp, 2), &n_iovs, &iov, &total)) != 0)
        WASI_RETURN(sp, err);
    if (e->kind == WASI_FD_FILE) {
        err = exn_sys_write(e->h, iov, n_iovs, &n);
    } else {
        exn_trap_t trap =
            write_stdio(exn_wasi_of(caller), e->kind == WASI_FD_STDOUT ? 1 : 2, iov, n_iovs, total);
        if (trap) {
            exn_free(iov);
            return trap;
        }
        n = total;
    }
    exn_free(iov);
    m = exn_wasi_memory(caller); /* (a callback ran: take the memory afresh) */
    if (!err && wasi_in(m, nwritten_off, 4))
        wasi_put_u32(m.base + nwritten_off, (uint32_t)n);
    WASI_RETURN(sp, err);
}

/* fd_pread / fd_pwrite share their checks: a file with FD_READ or FD_WRITE, and FD_SEEK */
static uint16_t positioned(const exn_caller_t *caller, uint64_t *sp, bool write)
{
    uint16_t err;
    uint32_t n_iovs = exn_arg_u32(sp, 3), result_off = exn_arg_u32(sp, 5);
    uint64_t offset = exn_arg_u64(sp, 4);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        return err;
    if (is_stdio(e))
        return WASI_ESPIPE;
    if (e->kind == WASI_FD_DIR || need(e, write ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ))
        return WASI_EBADF;
    if ((err = need(e, WASI_RIGHT_FD_SEEK)) != 0)
        return err;
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, result_off, 4))
        return WASI_EFAULT;
    exn_sys_iov_t *iov;
    uint64_t total, n = 0;
    if ((err = exn_wasi_iovecs(m, exn_arg_u32(sp, 2), &n_iovs, &iov, &total)) != 0)
        return err;
    err = write ? exn_sys_pwrite(e->h, iov, n_iovs, offset, &n)
                : exn_sys_pread(e->h, iov, n_iovs, offset, &n);
    exn_free(iov);
    if (!err)
        wasi_put_u32(m.base + result_off, (uint32_t)n);
    return err;
}

/* fd_pread(fd: fd, iovs: *iovec, iovs_len: u32, offset: u64, nread: *u32) -> errno
 * Reads into the buffers from `offset` without moving the position.
 * Errors: ESPIPE - stdio; EBADF - not open, a directory, or not readable;
 * ENOTCAPABLE - no FD_SEEK right; EFAULT, EINVAL - as fd_read (EINVAL also for an offset
 * beyond 2^63 - 1). */
EXN_IMPORT(wasi_fd_pread)
{
    WASI_RETURN(sp, positioned(caller, sp, false));
}

/* fd_pwrite(fd: fd, iovs: *ciovec, iovs_len: u32, offset: u64, nwritten: *u32) -> errno
 * Writes the buffers at `offset` without moving the position.
 * Errors: ESPIPE - stdio; EBADF - not open, a directory, or not writable; ENOTCAPABLE - no
 * FD_SEEK right; EFAULT, EINVAL - as fd_write. */
EXN_IMPORT(wasi_fd_pwrite)
{
    WASI_RETURN(sp, positioned(caller, sp, true));
}

/* ---- position -------------------------------------------------------------------------------- */

/* fd_seek(fd: fd, offset: s64, whence: whence, newoffset: *u64) -> errno
 * Moves the position (from the start, the current position or the end) and writes the new
 * one.
 * Errors: EBADF - not open, or a directory; ESPIPE - stdio; EINVAL - unknown whence, or a
 * position before 0;
 * ENOTCAPABLE - no FD_SEEK right (FD_TELL is enough for offset 0 from the current
 * position); EFAULT - newoffset outside memory. */
EXN_IMPORT(wasi_fd_seek)
{
    uint16_t err;
    int64_t offset = (int64_t)exn_arg_u64(sp, 2);
    uint32_t whence = exn_arg_u32(sp, 3), result_off = exn_arg_u32(sp, 4);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (is_stdio(e))
        WASI_RETURN(sp, WASI_ESPIPE);
    if (e->kind == WASI_FD_DIR)
        WASI_RETURN(sp, WASI_EBADF);
    if (whence > WASI_WHENCE_END)
        WASI_RETURN(sp, WASI_EINVAL);
    bool tell = offset == 0 && whence == WASI_WHENCE_CUR;
    if (need(e, WASI_RIGHT_FD_SEEK) && !(tell && !need(e, WASI_RIGHT_FD_TELL)))
        WASI_RETURN(sp, WASI_ENOTCAPABLE);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, result_off, 8))
        WASI_RETURN(sp, WASI_EFAULT);
    uint64_t pos = 0;
    if ((err = exn_sys_seek(e->h, offset, (int)whence, &pos)) == 0)
        wasi_put_u64(m.base + result_off, pos);
    WASI_RETURN(sp, err);
}

/* fd_tell(fd: fd, offset: *u64) -> errno
 * Writes the current position.
 * Errors: EBADF - not open, or a directory; ESPIPE - stdio; ENOTCAPABLE - no FD_TELL right;
 * EFAULT. */
EXN_IMPORT(wasi_fd_tell)
{
    uint16_t err;
    uint32_t result_off = exn_arg_u32(sp, 2);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (is_stdio(e))
        WASI_RETURN(sp, WASI_ESPIPE);
    if (e->kind == WASI_FD_DIR)
        WASI_RETURN(sp, WASI_EBADF);
    if ((err = need(e, WASI_RIGHT_FD_TELL)) != 0)
        WASI_RETURN(sp, err);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, result_off, 8))
        WASI_RETURN(sp, WASI_EFAULT);
    uint64_t pos = 0;
    if ((err = exn_sys_seek(e->h, 0, WASI_WHENCE_CUR, &pos)) == 0)
        wasi_put_u64(m.base + result_off, pos);
    WASI_RETURN(sp, err);
}

/* ---- the descriptor itself ------------------------------------------------------------------ */

/* fd_close(fd: fd) -> errno
 * Closes the descriptor (stdio and preopened directories too; a mount's host directory stays
 * open for the next instance).
 * Errors: EBADF - not open. */
EXN_IMPORT(wasi_fd_close)
{
    uint16_t err;
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (e)
        exn_wasi_fd_close(e);
    WASI_RETURN(sp, err);
}

/* fd_renumber(fd: fd, to: fd) -> errno
 * Moves descriptor `fd` to number `to`, closing what `to` was (dup2 and close).
 * Errors: EBADF - either one is not open (as the official runtime). */
EXN_IMPORT(wasi_fd_renumber)
{
    exn_wasi_t *w = exn_wasi_of(caller);
    uint32_t from = exn_arg_u32(sp, 1), to = exn_arg_u32(sp, 2);
    wasi_fd_t *a = exn_wasi_fd(w, from), *b = exn_wasi_fd(w, to);
    if (!a || !b)
        WASI_RETURN(sp, WASI_EBADF);
    if (a != b) {
        exn_wasi_fd_close(b);
        *b = *a;
        memset(a, 0, sizeof *a); /* (ownership moved: nothing to close) */
    }
    WASI_RETURN(sp, 0);
}

/* fd_fdstat_get(fd: fd, stat: *fdstat) -> errno
 * Writes the descriptor's type, flags and rights.
 *
 *   stat: [filetype u8 | pad | flags u16 | pad u32 | rights_base u64 | rights_inheriting u64]
 *
 * stdio reports a character device without seek/tell rights (so the guest sees a terminal).
 * Errors: EBADF - not open; EFAULT - stat outside memory. */
EXN_IMPORT(wasi_fd_fdstat_get)
{
    uint16_t err;
    uint32_t out_off = exn_arg_u32(sp, 2);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    uint16_t flags = e->fdflags;
    if (!is_stdio(e) && exn_sys_get_fdflags(e->h, &flags) != 0)
        flags = 0;
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, out_off, WASI_FDSTAT_SIZE))
        WASI_RETURN(sp, WASI_EFAULT);
    uint8_t *p = m.base + out_off;
    memset(p, 0, WASI_FDSTAT_SIZE);
    p[WASI_FDSTAT_FILETYPE] = e->filetype;
    wasi_put_u16(p + WASI_FDSTAT_FLAGS, flags);
    wasi_put_u64(p + WASI_FDSTAT_RIGHTS_BASE, e->rights_base);
    wasi_put_u64(p + WASI_FDSTAT_RIGHTS_INHERITING, e->rights_inheriting);
    WASI_RETURN(sp, 0);
}

/* fd_fdstat_set_flags(fd: fd, flags: fdflags) -> errno
 * Sets APPEND and NONBLOCK (the sync flags can only be given to path_open).
 * Errors: EBADF - not open; EINVAL - unknown bits; ENOTSUP - DSYNC, RSYNC or SYNC;
 * ENOTCAPABLE - no FD_FDSTAT_SET_FLAGS right. */
EXN_IMPORT(wasi_fd_fdstat_set_flags)
{
    uint16_t err;
    uint32_t flags = exn_arg_u32(sp, 2);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (flags & ~WASI_FDFLAGS_ALL)
        WASI_RETURN(sp, WASI_EINVAL);
    if ((err = need(e, WASI_RIGHT_FD_FDSTAT_SET_FLAGS)) != 0)
        WASI_RETURN(sp, err);
    if (is_stdio(e)) {
        if (flags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC))
            WASI_RETURN(sp, WASI_ENOTSUP);
        e->fdflags = (uint16_t)flags; /* (recorded: stdio never blocks and only appends) */
        WASI_RETURN(sp, 0);
    }
    if (e->readonly && (flags & WASI_FDFLAG_APPEND))
        WASI_RETURN(sp, WASI_EPERM);
    WASI_RETURN(sp, exn_sys_set_fdflags(e->h, (uint16_t)flags));
}

/* fd_fdstat_set_rights(fd: fd, fs_rights_base: rights, fs_rights_inheriting: rights) -> errno
 * Drops rights; later operations needing them answer ENOTCAPABLE (EBADF for read/write).
 * Errors: EBADF - not open; ENOTCAPABLE - a right the descriptor does not have. */
EXN_IMPORT(wasi_fd_fdstat_set_rights)
{
    uint16_t err;
    uint64_t base = exn_arg_u64(sp, 2), inheriting = exn_arg_u64(sp, 3);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if ((base & ~e->rights_base) || (inheriting & ~e->rights_inheriting))
        WASI_RETURN(sp, WASI_ENOTCAPABLE);
    e->rights_base = base;
    e->rights_inheriting = inheriting;
    WASI_RETURN(sp, 0);
}

/* ---- metadata ------------------------------------------------------------------------------ */

/* fd_filestat_get(fd: fd, buf: *filestat) -> errno
 * Writes the file's metadata (64 bytes: dev, ino, filetype, nlink, size, atim, mtim, ctim).
 * stdio reports a character device with zeros elsewhere; the directory of a single-file
 * mount reports a directory with zeros elsewhere.
 * Errors: EBADF - not open; ENOTCAPABLE - no FD_FILESTAT_GET right; EFAULT. */
EXN_IMPORT(wasi_fd_filestat_get)
{
    uint16_t err;
    uint32_t out_off = exn_arg_u32(sp, 2);
    exn_wasi_t *w = exn_wasi_of(caller);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    exn_sys_stat_t st = {0};
    st.filetype = e->filetype;
    if (!is_stdio(e) && !is_file_mount_root(w, e)) {
        if ((err = need(e, WASI_RIGHT_FD_FILESTAT_GET)) != 0 ||
            (err = exn_sys_fstat(e->h, &st)) != 0)
            WASI_RETURN(sp, err);
    }
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, out_off, WASI_FILESTAT_SIZE))
        WASI_RETURN(sp, WASI_EFAULT);
    put_filestat(m.base + out_off, &st);
    WASI_RETURN(sp, 0);
}

/* fd_filestat_set_size(fd: fd, size: u64) -> errno
 * Truncates or extends the file (the new bytes read as zeros).
 * Errors: EBADF - not open, stdio, or not opened for writing; EISDIR - a directory;
 * EPERM - a file of a "ro:" mount; ENOTCAPABLE - no FD_FILESTAT_SET_SIZE right; EFBIG -
 * beyond 2^63 - 1. */
EXN_IMPORT(wasi_fd_filestat_set_size)
{
    uint16_t err;
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (is_stdio(e))
        WASI_RETURN(sp, WASI_EBADF);
    if (e->kind == WASI_FD_DIR)
        WASI_RETURN(sp, WASI_EISDIR);
    if (e->readonly)
        WASI_RETURN(sp, WASI_EPERM);
    if ((err = need(e, WASI_RIGHT_FD_FILESTAT_SET_SIZE)) != 0)
        WASI_RETURN(sp, err);
    if (need(e, WASI_RIGHT_FD_WRITE))
        WASI_RETURN(sp, WASI_EBADF);
    WASI_RETURN(sp, exn_sys_truncate(e->h, exn_arg_u64(sp, 2)));
}

/* fd_filestat_set_times(fd: fd, atim: u64, mtim: u64, fst_flags: fstflags) -> errno
 * Sets the access and/or modification time: to the value given (ATIM, MTIM) or to the current
 * time (ATIM_NOW, MTIM_NOW); a time without its flag is left alone.
 * Errors: EBADF - not open, or stdio; EINVAL - unknown flags, or ATIM with ATIM_NOW (MTIM
 * with MTIM_NOW); EPERM - in a "ro:" mount or a single-file mount's directory;
 * ENOTCAPABLE - no FD_FILESTAT_SET_TIMES right. */
EXN_IMPORT(wasi_fd_filestat_set_times)
{
    uint16_t err;
    uint32_t fst = exn_arg_u32(sp, 4);
    exn_wasi_t *w = exn_wasi_of(caller);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (!valid_fst(fst))
        WASI_RETURN(sp, WASI_EINVAL);
    if (is_stdio(e))
        WASI_RETURN(sp, WASI_EBADF);
    if (e->readonly || is_file_mount_root(w, e))
        WASI_RETURN(sp, WASI_EPERM);
    if ((err = need(e, WASI_RIGHT_FD_FILESTAT_SET_TIMES)) != 0)
        WASI_RETURN(sp, err);
    WASI_RETURN(sp, exn_sys_futimes(e->h, exn_arg_u64(sp, 2), exn_arg_u64(sp, 3), (uint16_t)fst));
}

/* ---- hints and durability -------------------------------------------------------------------- */

/* fd_advise(fd: fd, offset: u64, len: u64, advice: advice) -> errno
 * Passes the access-pattern hint to the OS (accepted without effect where there is no
 * posix_fadvise).
 * Errors: EBADF - not open, stdio or a directory; EINVAL - unknown advice or
 * offset + len beyond 2^64; ENOTCAPABLE - no FD_ADVISE right. */
EXN_IMPORT(wasi_fd_advise)
{
    uint16_t err;
    uint64_t offset = exn_arg_u64(sp, 2), len = exn_arg_u64(sp, 3);
    uint32_t advice = exn_arg_u32(sp, 4);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (advice > WASI_ADVICE_NOREUSE || len > UINT64_MAX - offset)
        WASI_RETURN(sp, WASI_EINVAL);
    if (is_stdio(e) || e->kind == WASI_FD_DIR)
        WASI_RETURN(sp, WASI_EBADF);
    if ((err = need(e, WASI_RIGHT_FD_ADVISE)) != 0)
        WASI_RETURN(sp, err);
    WASI_RETURN(sp, exn_sys_advise(e->h, offset, len, (int)advice));
}

/* fd_allocate(fd: fd, offset: u64, len: u64) -> errno
 * Makes sure the bytes [offset, offset+len) of the file are allocated, extending the file if
 * it is shorter (posix_fallocate; where the file system cannot, the file is extended).
 * Errors: EBADF - not open, stdio, or not opened for writing; EISDIR - a directory;
 * EINVAL - len 0; EFBIG - offset + len beyond 2^63 - 1; EPERM - a "ro:" mount; ENOTCAPABLE -
 * no FD_ALLOCATE right. */
EXN_IMPORT(wasi_fd_allocate)
{
    uint16_t err;
    uint64_t offset = exn_arg_u64(sp, 2), len = exn_arg_u64(sp, 3);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (is_stdio(e))
        WASI_RETURN(sp, WASI_EBADF);
    if (e->kind == WASI_FD_DIR)
        WASI_RETURN(sp, WASI_EISDIR);
    if (e->readonly)
        WASI_RETURN(sp, WASI_EPERM);
    if ((err = need(e, WASI_RIGHT_FD_ALLOCATE)) != 0)
        WASI_RETURN(sp, err);
    if (need(e, WASI_RIGHT_FD_WRITE))
        WASI_RETURN(sp, WASI_EBADF);
    if (len == 0)
        WASI_RETURN(sp, WASI_EINVAL);
    WASI_RETURN(sp, exn_sys_allocate(e->h, offset, len));
}

static uint16_t sync_fd(const exn_caller_t *caller, uint32_t fd, bool data_only)
{
    uint16_t err;
    wasi_fd_t *e = get(caller, fd, &err);
    if (!e)
        return err;
    if (is_stdio(e))
        return WASI_EBADF; /* (as the official runtime) */
    if ((err = need(e, data_only ? WASI_RIGHT_FD_DATASYNC : WASI_RIGHT_FD_SYNC)) != 0)
        return err;
    return exn_sys_sync(e->h, data_only);
}

/* fd_sync(fd: fd) -> errno
 * Writes the file's data and metadata to the device (fsync).
 * Errors: EBADF - not open, or stdio; ENOTCAPABLE - no FD_SYNC right; EIO and others from
 * the OS. */
EXN_IMPORT(wasi_fd_sync)
{
    WASI_RETURN(sp, sync_fd(caller, exn_arg_u32(sp, 1), false));
}

/* fd_datasync(fd: fd) -> errno
 * Writes the file's data to the device (fdatasync).
 * Errors: EBADF - not open, or stdio; ENOTCAPABLE - no FD_DATASYNC right; EIO and others
 * from the OS. */
EXN_IMPORT(wasi_fd_datasync)
{
    WASI_RETURN(sp, sync_fd(caller, exn_arg_u32(sp, 1), true));
}

/* ---- preopens ------------------------------------------------------------------------------- */

/* fd_prestat_get(fd: fd, buf: *prestat) -> errno
 * Describes a preopened directory (a mount): tag 0 (dir) and the length of its guest path.
 * wasi-libc and Rust's std walk fds from 3 up until EBADF to find the mounts.
 *
 *   buf: [tag u8 | pad x3 | pr_name_len u32]
 *
 * Errors: EBADF - not open or not a preopened directory; EFAULT - buf outside memory. */
EXN_IMPORT(wasi_fd_prestat_get)
{
    exn_wasi_t *w = exn_wasi_of(caller);
    wasi_fd_t *e = exn_wasi_fd(w, exn_arg_u32(sp, 1));
    uint32_t out_off = exn_arg_u32(sp, 2);
    if (!e || !e->preopen)
        WASI_RETURN(sp, WASI_EBADF);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, out_off, WASI_PRESTAT_SIZE))
        WASI_RETURN(sp, WASI_EFAULT);
    uint8_t *p = m.base + out_off;
    memset(p, 0, WASI_PRESTAT_SIZE);
    p[WASI_PRESTAT_TAG] = WASI_PREOPENTYPE_DIR;
    wasi_put_u32(p + WASI_PRESTAT_NAME_LEN, (uint32_t)strlen(w->mounts[e->mount].guest));
    WASI_RETURN(sp, 0);
}

/* fd_prestat_dir_name(fd: fd, path: *u8, path_len: u32) -> errno
 * Writes the guest path of a preopened directory (pr_name_len bytes, no NUL).
 * Errors: EBADF - not a preopened directory; ENAMETOOLONG - path_len is shorter than the
 * name (as the official runtime); EFAULT - the name does not fit in memory. */
EXN_IMPORT(wasi_fd_prestat_dir_name)
{
    exn_wasi_t *w = exn_wasi_of(caller);
    wasi_fd_t *e = exn_wasi_fd(w, exn_arg_u32(sp, 1));
    uint32_t path_off = exn_arg_u32(sp, 2), path_len = exn_arg_u32(sp, 3);
    if (!e || !e->preopen)
        WASI_RETURN(sp, WASI_EBADF);
    const char *name = w->mounts[e->mount].guest;
    size_t len = strlen(name);
    if (path_len < len)
        WASI_RETURN(sp, WASI_ENAMETOOLONG);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, path_off, len))
        WASI_RETURN(sp, WASI_EFAULT);
    memcpy(m.base + path_off, name, len);
    WASI_RETURN(sp, 0);
}

/* ---- directories ----------------------------------------------------------------------------- */

static uint16_t listing_add(void *userdata, const char *name, size_t name_len, uint64_t ino,
                            uint8_t type)
{
    wasi_listing_t *l = userdata;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        void *grown = exn_realloc(l->entries, cap * sizeof *l->entries);
        if (!grown)
            return WASI_ENOMEM;
        l->entries = grown;
        l->cap = cap;
    }
    if (name_len > l->names_cap - l->names_len) {
        size_t cap = l->names_cap ? l->names_cap : 256;
        while (cap - l->names_len < name_len)
            cap *= 2;
        char *grown = exn_realloc(l->names, cap);
        if (!grown)
            return WASI_ENOMEM;
        l->names = grown;
        l->names_cap = cap;
    }
    memcpy(l->names + l->names_len, name, name_len);
    l->entries[l->n].name_off = l->names_len;
    l->entries[l->n].name_len = name_len;
    l->entries[l->n].ino = ino;
    l->entries[l->n].type = type;
    l->names_len += name_len;
    l->n++;
    return 0;
}

/* A fresh snapshot of the directory: ".", "..", then the entries in the OS's order.  A
 * single-file mount's directory lists only its file, under the guest's name for it. */
static uint16_t take_listing(exn_wasi_t *w, wasi_fd_t *e)
{
    wasi_listing_t *l = exn_calloc(1, sizeof *l);
    if (!l)
        return WASI_ENOMEM;
    exn_sys_stat_t self = {0}, parent = {0};
    uint16_t err = 0;
    if (is_file_mount_root(w, e)) {
        const wasi_mount_t *mt = &w->mounts[e->mount];
        exn_sys_stat_t st;
        if ((err = listing_add(l, ".", 1, 0, WASI_FILETYPE_DIRECTORY)) == 0 &&
            (err = listing_add(l, "..", 2, 0, WASI_FILETYPE_DIRECTORY)) == 0 &&
            exn_sys_statat(e->h, mt->file, &st) == 0)
            err = listing_add(l, mt->file_guest, strlen(mt->file_guest), st.ino, st.filetype);
    } else {
        exn_sys_fstat(e->h, &self);
        exn_sys_statat(e->h, "..", &parent);
        if ((err = listing_add(l, ".", 1, self.ino, WASI_FILETYPE_DIRECTORY)) == 0 &&
            (err = listing_add(l, "..", 2, parent.ino, WASI_FILETYPE_DIRECTORY)) == 0)
            err = exn_sys_readdir(e->h, listing_add, l);
    }
    if (err) {
        exn_free(l->names);
        exn_free(l->entries);
        exn_free(l);
        return err;
    }
    if (e->listing) {
        exn_free(e->listing->names);
        exn_free(e->listing->entries);
        exn_free(e->listing);
    }
    e->listing = l;
    return 0;
}

/* fd_readdir(fd: fd, buf: *u8, buf_len: u32, cookie: dircookie, bufused: *u32) -> errno
 * Fills buf with directory entries starting at `cookie` (0: the start; each entry's d_next
 * is the cookie of the one after it).  Cookie 0 takes a fresh snapshot of the directory; later
 * cookies continue in that snapshot.  The last entry is cut off when buf is full: *bufused ==
 * buf_len means "call again"; *bufused < buf_len means the end was reached.
 *
 *   entry: [d_next u64 | d_ino u64 | d_namlen u32 | d_type u8 | pad x3] name (d_namlen bytes)
 *
 * Errors: EBADF - not open, or not a directory; ENOTCAPABLE - no FD_READDIR right;
 * EFAULT - buf or bufused outside memory; ENOMEM. */
EXN_IMPORT(wasi_fd_readdir)
{
    uint16_t err;
    exn_wasi_t *w = exn_wasi_of(caller);
    uint32_t buf_off = exn_arg_u32(sp, 2), buf_len = exn_arg_u32(sp, 3);
    uint64_t cookie = exn_arg_u64(sp, 4);
    uint32_t used_off = exn_arg_u32(sp, 5);
    wasi_fd_t *e = get(caller, exn_arg_u32(sp, 1), &err);
    if (!e)
        WASI_RETURN(sp, err);
    if (e->kind != WASI_FD_DIR)
        WASI_RETURN(sp, WASI_EBADF); /* (the official runtime's answer; POSIX says ENOTDIR) */
    if ((err = need(e, WASI_RIGHT_FD_READDIR)) != 0)
        WASI_RETURN(sp, err);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, buf_off, buf_len) || !wasi_in(m, used_off, 4))
        WASI_RETURN(sp, WASI_EFAULT);
    if ((cookie == 0 || !e->listing) && (err = take_listing(w, e)) != 0)
        WASI_RETURN(sp, err);
    const wasi_listing_t *l = e->listing;
    uint8_t *out = m.base + buf_off;
    uint32_t used = 0;
    for (uint64_t i = cookie; i < l->n && used < buf_len; i++) {
        const struct wasi_dirent *d = &l->entries[i];
        uint8_t head[WASI_DIRENT_SIZE] = {0};
        wasi_put_u64(head + WASI_DIRENT_NEXT, i + 1);
        wasi_put_u64(head + WASI_DIRENT_INO, d->ino);
        wasi_put_u32(head + WASI_DIRENT_NAMLEN, (uint32_t)d->name_len);
        head[WASI_DIRENT_TYPE] = d->type;
        uint32_t k = buf_len - used < WASI_DIRENT_SIZE ? buf_len - used : WASI_DIRENT_SIZE;
        memcpy(out + used, head, k);
        used += k;
        k = buf_len - used < d->name_len ? buf_len - used : (uint32_t)d->name_len;
        memcpy(out + used, l->names + d->name_off, k);
        used += k;
    }
    wasi_put_u32(m.base + used_off, used);
    WASI_RETURN(sp, 0);
}
