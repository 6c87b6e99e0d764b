/* wasi/path.c: the path_* functions of wasi_snapshot_preview1 and the sandbox they all go
 * through: a guest path is resolved here, one component at a time, from the directory
 * descriptor it is relative to, and never leaves it.
 *
 * How a path is walked (walk_next):
 *  - it must be valid UTF-8 (EILSEQ), without NUL bytes (EINVAL), at most 4096 bytes
 *    (ENAMETOOLONG, also for a component longer than 255), relative (an absolute path: EPERM);
 *  - every directory on the way is opened with sys.h exn_sys_opendirat (O_DIRECTORY |
 *    O_NOFOLLOW on POSIX) relative to the handle of the one before it, and kept open: nothing
 *    is ever looked up by a host path string, so a component swapped for a symbolic link
 *    between two steps cannot redirect the walk - the open of the link itself fails and the
 *    link is then read and expanded here;
 *  - a symbolic link met on the way (or at the end, when the lookup follows links) is expanded
 *    in place: its text replaces the component; an absolute target is EPERM; more than 32
 *    expansions is ELOOP;
 *  - ".." pops back to the previous handle; popping past the starting directory is EPERM.
 *    So `..` inside the mount works, and no combination of `..` and links gets out.
 * EPERM for every escape is what the official runtime answers (wasi-common on cap-std; spec
 * section 3.7), checked side by side in tests/wasi.  The last component is never followed by
 * the OS either: each operation uses the *at call on (directory handle, name) with no-follow
 * semantics, and only follows a link through this walk.
 *
 * Writes in a "ro:" mount (creating, truncating or opening for FD_WRITE, mkdir, unlink, rmdir,
 * rename and link from or to it, symlink, set_times) answer EPERM, like the official runtime.
 * A single-file mount (context.c) is a directory handle where only the mounted file's name
 * can be looked up: other names are ENOENT (EPERM to create), the file itself cannot be
 * removed, renamed or linked (EPERM), and the directory itself cannot be opened (EPERM).
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx.  May call: sys.h, context.h. */
#include "imports.h"

#define WASI_PATH_MAX 4096
#define WASI_NAME_MAX 255
#define WASI_LINKS_MAX 32
#define WASI_DEPTH_MAX 2048

/* What an operation does to the name it ends on (for single-file mounts). */
enum { LOOKUP, CREATE, REMOVE };

typedef struct {
    exn_wasi_t *w;
    const wasi_fd_t *start;
    const wasi_mount_t *mount;
    bool file_mount;     /* the start is a single-file mount's directory */
    exn_sys_fd_t *stack; /* [0] the start's handle (borrowed), [1..depth] opened here */
    size_t depth, cap;
    int links;  /* symbolic links expanded so far */
    size_t pos; /* where resolving continues in `path` */
    /* where walk_next stopped: `name` in directory stack[depth] */
    size_t begin, rest; /* the last component's index, and what followed it */
    bool must_be_dir;   /* the path ended in '/' */
    bool hidden;        /* single-file mount: `name` is not the mounted file */
    char name[WASI_NAME_MAX + 1];
    char path[WASI_PATH_MAX + 1]; /* what is left to resolve, NUL-terminated (last: not zeroed) */
} walk_t;

static exn_sys_fd_t top(const walk_t *wk)
{
    return wk->stack[wk->depth];
}

static void walk_free(walk_t *wk)
{
    if (!wk)
        return;
    for (size_t i = 1; i <= wk->depth; i++)
        exn_sys_close(wk->stack[i]);
    exn_free(wk->stack);
    exn_free(wk);
}

/* Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
static bool valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1fu;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0fu;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07u;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3fu);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* Check a guest string argument: in memory (EFAULT), not empty (ENOENT), not too long
 * (ENAMETOOLONG), no NUL (EINVAL), UTF-8 (EILSEQ); copied to out (NUL-terminated). */
static uint16_t guest_string(const exn_caller_t *caller, uint32_t off, uint32_t len, char *out)
{
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, off, len))
        return WASI_EFAULT;
    if (len == 0)
        return WASI_ENOENT;
    if (len > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    const uint8_t *s = m.base + off;
    if (memchr(s, 0, len))
        return WASI_EINVAL;
    if (!valid_utf8(s, len))
        return WASI_EILSEQ;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

/* Start resolving the guest path [path_off, +path_len) from descriptor `dirfd`, which needs
 * `rights`.  Returns 0 and the walk in *out (free with walk_free), or an errno. */
static uint16_t walk_begin(const exn_caller_t *caller, uint32_t dirfd, uint32_t path_off,
                           uint32_t path_len, uint64_t rights, walk_t **out)
{
    *out = NULL;
    exn_wasi_t *w = exn_wasi_of(caller);
    const wasi_fd_t *e = exn_wasi_fd(w, dirfd);
    if (!e)
        return WASI_EBADF;
    if (e->kind != WASI_FD_DIR)
        return WASI_ENOTDIR;
    if ((e->rights_base & rights) != rights)
        return WASI_ENOTCAPABLE;
    walk_t *wk = exn_malloc(sizeof *wk);
    if (!wk)
        return WASI_ENOMEM;
    memset(wk, 0, offsetof(walk_t, path)); /* (the 4 KiB path buffer is filled below) */
    if (!(wk->stack = exn_malloc(16 * sizeof *wk->stack))) {
        exn_free(wk);
        return WASI_ENOMEM;
    }
    wk->cap = 16;
    uint16_t err = guest_string(caller, path_off, path_len, wk->path);
    if (!err && wk->path[0] == '/')
        err = WASI_EPERM; /* absolute: outside every directory descriptor */
    if (err) {
        walk_free(wk);
        return err;
    }
    wk->w = w;
    wk->start = e;
    wk->mount = &w->mounts[e->mount];
    wk->file_mount = e->preopen && wk->mount->file != NULL;
    wk->stack[0] = e->h;
    *out = wk;
    return 0;
}

/* Expand the symbolic link `link`, the component at [begin, rest) of the path, in the current
 * directory: its text replaces the path up to the end of that component. */
static uint16_t expand(walk_t *wk, const char *link, size_t begin, size_t rest)
{
    if (++wk->links > WASI_LINKS_MAX)
        return WASI_ELOOP;
    char target[WASI_PATH_MAX + 1];
    size_t tlen = 0;
    uint16_t err = exn_sys_readlinkat(top(wk), link, target, sizeof target, &tlen);
    if (err == WASI_EINVAL) {
        /* not a link any more (swapped since the open saw one): look at that component again
         * (each retry counts as a link, so a flipping component ends in ELOOP) */
        wk->pos = begin;
        return 0;
    }
    if (err)
        return err;
    if (tlen == 0)
        return WASI_ENOENT;
    if (target[0] == '/')
        return WASI_EPERM; /* an absolute link leads outside the mount */
    size_t rlen = strlen(wk->path + rest);
    if (tlen + rlen > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    memmove(wk->path + tlen, wk->path + rest, rlen + 1);
    memcpy(wk->path, target, tlen);
    wk->pos = 0;
    return 0;
}

static uint16_t push(walk_t *wk, exn_sys_fd_t h)
{
    if (wk->depth + 1 >= WASI_DEPTH_MAX) {
        exn_sys_close(h);
        return WASI_ENAMETOOLONG;
    }
    if (wk->depth + 1 == wk->cap) {
        exn_sys_fd_t *grown = exn_realloc(wk->stack, wk->cap * 2 * sizeof *grown);
        if (!grown) {
            exn_sys_close(h);
            return WASI_ENOMEM;
        }
        wk->stack = grown;
        wk->cap *= 2;
    }
    wk->stack[++wk->depth] = h;
    return 0;
}

/* Resolve up to the last component: afterwards the operation applies to wk->name in top(wk)
 * ("." when the path names a directory itself, e.g. "." or "a/.."). */
static uint16_t walk_next(walk_t *wk)
{
    for (;;) {
        char *p = wk->path;
        while (p[wk->pos] == '/')
            wk->pos++;
        if (!p[wk->pos]) { /* nothing left: the directory we are in */
            strcpy(wk->name, ".");
            wk->begin = wk->rest = wk->pos;
            wk->must_be_dir = false;
            wk->hidden = false;
            return 0;
        }
        size_t begin = wk->pos, end = begin;
        while (p[end] && p[end] != '/')
            end++;
        size_t after = end;
        while (p[after] == '/')
            after++;
        bool last = !p[after];
        size_t len = end - begin;
        if (len == 1 && p[begin] == '.') {
            wk->pos = end;
            continue;
        }
        if (len == 2 && p[begin] == '.' && p[begin + 1] == '.') {
            if (wk->depth == 0)
                return WASI_EPERM; /* above the directory the path is relative to */
            exn_sys_close(wk->stack[wk->depth--]);
            wk->pos = end;
            continue;
        }
        if (len > WASI_NAME_MAX)
            return WASI_ENAMETOOLONG;
        memcpy(wk->name, p + begin, len);
        wk->name[len] = '\0';
        bool in_file_mount = wk->file_mount && wk->depth == 0;

        if (last) {
            wk->pos = end;
            wk->begin = begin;
            wk->rest = end;
            wk->must_be_dir = after > end;
            wk->hidden = false;
            if (in_file_mount) {
                if (strcmp(wk->name, wk->mount->file_guest) == 0)
                    strcpy(wk->name, wk->mount->file); /* (<= 255: checked at open) */
                else
                    wk->hidden = true;
            }
            return 0;
        }

        /* a directory on the way */
        if (in_file_mount)
            return strcmp(wk->name, wk->mount->file_guest) == 0 ? WASI_ENOTDIR : WASI_ENOENT;
        exn_sys_fd_t h;
        uint16_t err = exn_sys_opendirat(top(wk), wk->name, &h);
        if (err == WASI_ELOOP) {
            if ((err = expand(wk, wk->name, begin, end)) != 0)
                return err;
            continue;
        }
        if (err)
            return err;
        if ((err = push(wk, h)) != 0)
            return err;
        wk->pos = end;
    }
}

/* The last component is a symbolic link to follow: expand it and walk on. */
static uint16_t walk_follow(walk_t *wk)
{
    uint16_t err = expand(wk, wk->name, wk->begin, wk->rest);
    return err ? err : walk_next(wk);
}

/* What a single-file mount allows at its directory (0 elsewhere). */
static uint16_t file_mount_check(const walk_t *wk, int what)
{
    if (!wk->file_mount || wk->depth != 0)
        return 0;
    if (strcmp(wk->name, ".") == 0)
        return WASI_EPERM; /* the hidden directory itself */
    if (wk->hidden)
        return what == LOOKUP ? WASI_ENOENT : WASI_EPERM;
    return what == LOOKUP ? 0 : WASI_EPERM;
}

/* Resolve to the last component, following it while it is a symbolic link if `follow` (or
 * the path ends in '/'); for operations that do not open what they act on. */
static uint16_t walk_to(walk_t *wk, bool follow, int what)
{
    uint16_t err = walk_next(wk);
    while (!err && (follow || wk->must_be_dir) && !(wk->file_mount && wk->depth == 0)) {
        exn_sys_stat_t st;
        if (exn_sys_statat(top(wk), wk->name, &st) != 0 ||
            st.filetype != WASI_FILETYPE_SYMBOLIC_LINK)
            break;
        err = walk_follow(wk);
    }
    return err ? err : file_mount_check(wk, what);
}

/* ---- path_open ------------------------------------------------------------------------------- */

/* path_open(fd: fd, dirflags: lookupflags, path: string, oflags: oflags,
 *           fs_rights_base: rights, fs_rights_inheriting: rights, fdflags: fdflags,
 *           opened: *fd) -> errno
 * Opens the file or directory at `path` relative to directory `fd` and writes the new
 * descriptor (the lowest free number from 3).  It is opened for writing if fs_rights_base has
 * FD_WRITE, for reading otherwise or also if it has FD_READ.  The new descriptor's rights are
 * the requested ones limited to what `fd` may pass on (fs_rights_inheriting of fd) and to
 * what the file's type can use.  dirflags SYMLINK_FOLLOW follows a final symbolic link (inside
 * the sandbox); oflags CREAT, EXCL (never follows), TRUNC, DIRECTORY as in POSIX open.
 * Errors: EBADF - fd not open; ENOTDIR - fd is not a directory, or DIRECTORY and the target is
 * not one; EINVAL - unknown oflags/fdflags bits; ENOTCAPABLE - fd lacks PATH_OPEN (or
 * PATH_CREATE_FILE for CREAT, PATH_FILESTAT_SET_SIZE for TRUNC); EPERM - the path leaves the
 * sandbox, or a write in a "ro:" mount; ELOOP - a final symbolic link without
 * SYMLINK_FOLLOW, or too many links; EEXIST, ENOENT, EISDIR and others from the OS; EFAULT,
 * EILSEQ, ENAMETOOLONG, EMFILE (4096 descriptors), ENOMEM. */
EXN_IMPORT(wasi_path_open)
{
    uint32_t dirfd = exn_arg_u32(sp, 1), dirflags = exn_arg_u32(sp, 2);
    uint32_t path_off = exn_arg_u32(sp, 3), path_len = exn_arg_u32(sp, 4);
    uint32_t oflags = exn_arg_u32(sp, 5);
    uint64_t rights = exn_arg_u64(sp, 6), inheriting = exn_arg_u64(sp, 7);
    uint32_t fdflags = exn_arg_u32(sp, 8), out_off = exn_arg_u32(sp, 9);

    if (oflags & ~WASI_O_ALL || fdflags & ~WASI_FDFLAGS_ALL)
        WASI_RETURN(sp, WASI_EINVAL);
    uint64_t needed = WASI_RIGHT_PATH_OPEN;
    if (oflags & WASI_O_CREAT)
        needed |= WASI_RIGHT_PATH_CREATE_FILE;
    if (oflags & WASI_O_TRUNC)
        needed |= WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
    if (!wasi_in(exn_wasi_memory(caller), out_off, 4))
        WASI_RETURN(sp, WASI_EFAULT);
    walk_t *wk;
    uint16_t err = walk_begin(caller, dirfd, path_off, path_len, needed, &wk);
    if (err)
        WASI_RETURN(sp, err);

    exn_sys_open_t how = {0};
    how.write = (rights & WASI_RIGHT_FD_WRITE) != 0;
    how.read = (rights & WASI_RIGHT_FD_READ) != 0 || !how.write;
    how.creat = (oflags & WASI_O_CREAT) != 0;
    how.excl = (oflags & WASI_O_EXCL) != 0;
    how.trunc = (oflags & WASI_O_TRUNC) != 0;
    how.fdflags = (uint16_t)fdflags;
    bool follow = (dirflags & WASI_LOOKUP_SYMLINK_FOLLOW) && !(how.creat && how.excl);
    if (wk->start->readonly &&
        (how.write || how.creat || how.trunc || (fdflags & WASI_FDFLAG_APPEND))) {
        walk_free(wk);
        WASI_RETURN(sp, WASI_EPERM);
    }

    exn_sys_fd_t h = EXN_SYS_NOFD;
    uint8_t type = 0;
    err = walk_next(wk);
    while (!err) {
        if ((err = file_mount_check(wk, how.creat && wk->hidden ? CREATE : LOOKUP)) != 0)
            break;
        how.directory = (oflags & WASI_O_DIRECTORY) || wk->must_be_dir;
        err = exn_sys_openat(top(wk), wk->name, &how, &h, &type);
        if (err == WASI_ELOOP && (follow || wk->must_be_dir)) {
            err = walk_follow(wk);
            continue;
        }
        break;
    }
    if (err) {
        walk_free(wk);
        WASI_RETURN(sp, err);
    }

    const wasi_fd_t *dir = wk->start;
    bool is_dir = type == WASI_FILETYPE_DIRECTORY;
    wasi_fd_t e = {0};
    e.kind = is_dir ? WASI_FD_DIR : WASI_FD_FILE;
    e.filetype = type;
    e.owned = true;
    e.readonly = dir->readonly;
    e.mount = dir->mount;
    e.h = h;
    e.rights_base = rights & dir->rights_inheriting & (is_dir ? WASI_RIGHTS_DIR : WASI_RIGHTS_FILE);
    e.rights_inheriting = inheriting & dir->rights_inheriting;
    if (!how.write) /* the descriptor cannot write whatever it asked for */
        e.rights_base &=
            ~(WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE);
    if (!how.read)
        e.rights_base &= ~WASI_RIGHT_FD_READ;
    uint32_t fd = 0;
    exn_wasi_t *w = wk->w;
    walk_free(wk);
    if ((err = exn_wasi_fd_add(w, &e, &fd)) != 0) {
        exn_sys_close(h);
        WASI_RETURN(sp, err);
    }
    WASI_RETURN(sp, wasi_store_u32(caller, out_off, fd));
}

/* ---- metadata -------------------------------------------------------------------------------- */

/* path_filestat_get(fd: fd, flags: lookupflags, path: string, buf: *filestat) -> errno
 * Writes the metadata of what `path` names (of a final symbolic link itself unless flags
 * has SYMLINK_FOLLOW); layout as fd_filestat_get.
 * Errors: EBADF, ENOTDIR, ENOTCAPABLE (PATH_FILESTAT_GET), EPERM (outside the sandbox),
 * ENOENT, ELOOP, EFAULT, EILSEQ, EINVAL, ENAMETOOLONG - as path_open. */
EXN_IMPORT(wasi_path_filestat_get)
{
    uint32_t flags = exn_arg_u32(sp, 2), out_off = exn_arg_u32(sp, 5);
    if (!wasi_in(exn_wasi_memory(caller), out_off, WASI_FILESTAT_SIZE))
        WASI_RETURN(sp, WASI_EFAULT);
    walk_t *wk;
    uint16_t err = walk_begin(caller, exn_arg_u32(sp, 1), exn_arg_u32(sp, 3), exn_arg_u32(sp, 4),
                              WASI_RIGHT_PATH_FILESTAT_GET, &wk);
    exn_sys_stat_t st;
    if (!err && (err = walk_to(wk, flags & WASI_LOOKUP_SYMLINK_FOLLOW, LOOKUP)) == 0 &&
        (err = exn_sys_statat(top(wk), wk->name, &st)) == 0 && wk->must_be_dir &&
        st.filetype != WASI_FILETYPE_DIRECTORY)
        err = WASI_ENOTDIR;
    walk_free(wk);
    if (!err) {
        wasi_mem_t m = exn_wasi_memory(caller);
        uint8_t *p = m.base + out_off;
        memset(p, 0, WASI_FILESTAT_SIZE);
        wasi_put_u64(p + WASI_FILESTAT_DEV, st.dev);
        wasi_put_u64(p + WASI_FILESTAT_INO, st.ino);
        p[WASI_FILESTAT_FILETYPE] = st.filetype;
        wasi_put_u64(p + WASI_FILESTAT_NLINK, st.nlink);
        wasi_put_u64(p + WASI_FILESTAT_SIZE_FIELD, st.size);
        wasi_put_u64(p + WASI_FILESTAT_ATIM, st.atim);
        wasi_put_u64(p + WASI_FILESTAT_MTIM, st.mtim);
        wasi_put_u64(p + WASI_FILESTAT_CTIM, st.ctim);
    }
    WASI_RETURN(sp, err);
}

/* path_filestat_set_times(fd: fd, flags: lookupflags, path: string, atim: u64, mtim: u64,
 *                         fst_flags: fstflags) -> errno
 * Sets times of what `path` names, as fd_filestat_set_times (a final symbolic link itself
 * unless SYMLINK_FOLLOW).
 * Errors: EINVAL - bad fst_flags; EPERM - a "ro:" mount or outside the sandbox; ENOTCAPABLE
 * (PATH_FILESTAT_SET_TIMES) and the lookup errors of path_filestat_get. */
EXN_IMPORT(wasi_path_filestat_set_times)
{
    uint32_t flags = exn_arg_u32(sp, 2), fst = exn_arg_u32(sp, 7);
    uint64_t atim = exn_arg_u64(sp, 5), mtim = exn_arg_u64(sp, 6);
    if ((fst & ~WASI_FST_ALL) ||
        (fst & (WASI_FST_ATIM | WASI_FST_ATIM_NOW)) == (WASI_FST_ATIM | WASI_FST_ATIM_NOW) ||
        (fst & (WASI_FST_MTIM | WASI_FST_MTIM_NOW)) == (WASI_FST_MTIM | WASI_FST_MTIM_NOW))
        WASI_RETURN(sp, WASI_EINVAL);
    walk_t *wk;
    uint16_t err = walk_begin(caller, exn_arg_u32(sp, 1), exn_arg_u32(sp, 3), exn_arg_u32(sp, 4),
                              WASI_RIGHT_PATH_FILESTAT_SET_TIMES, &wk);
    if (!err && wk->start->readonly)
        err = WASI_EPERM;
    if (!err && (err = walk_to(wk, flags & WASI_LOOKUP_SYMLINK_FOLLOW, LOOKUP)) == 0)
        err = exn_sys_utimesat(top(wk), wk->name, atim, mtim, (uint16_t)fst);
    walk_free(wk);
    WASI_RETURN(sp, err);
}

/* ---- creating and removing ------------------------------------------------------------------- */

/* path_create_directory(fd: fd, path: string) -> errno
 * Creates a directory.
 * Errors: EEXIST - something has that name; EPERM - a "ro:" mount, outside the sandbox;
 * ENOTCAPABLE (PATH_CREATE_DIRECTORY); the lookup errors of path_open. */
EXN_IMPORT(wasi_path_create_directory)
{
    walk_t *wk;
    uint16_t err = walk_begin(caller, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2), exn_arg_u32(sp, 3),
                              WASI_RIGHT_PATH_CREATE_DIRECTORY, &wk);
    if (!err && wk->start->readonly)
        err = WASI_EPERM;
    if (!err && (err = walk_to(wk, false, CREATE)) == 0)
        err = exn_sys_mkdirat(top(wk), wk->name);
    walk_free(wk);
    WASI_RETURN(sp, err);
}

/* path_remove_directory(fd: fd, path: string) -> errno
 * Removes an empty directory (a final symbolic link is not followed).
 * Errors: ENOTEMPTY; ENOTDIR - not a directory; EINVAL - "." (or a path ending in "."); EPERM -
 * a "ro:" mount, outside the sandbox; ENOTCAPABLE (PATH_REMOVE_DIRECTORY); lookup errors. */
EXN_IMPORT(wasi_path_remove_directory)
{
    walk_t *wk;
    uint16_t err = walk_begin(caller, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2), exn_arg_u32(sp, 3),
                              WASI_RIGHT_PATH_REMOVE_DIRECTORY, &wk);
    if (!err && wk->start->readonly)
        err = WASI_EPERM;
    if (!err && (err = walk_to(wk, false, REMOVE)) == 0)
        err = strcmp(wk->name, ".") == 0 ? WASI_EINVAL : exn_sys_unlinkat(top(wk), wk->name, true);
    walk_free(wk);
    WASI_RETURN(sp, err);
}

/* path_unlink_file(fd: fd, path: string) -> errno
 * Removes a file or a symbolic link (never what it points to).
 * Errors: EISDIR - a directory; ENOTDIR - the path ends in '/' and names a file; EPERM - a
 * "ro:" mount, outside the sandbox; ENOTCAPABLE (PATH_UNLINK_FILE); lookup errors. */
EXN_IMPORT(wasi_path_unlink_file)
{
    walk_t *wk;
    uint16_t err = walk_begin(caller, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2), exn_arg_u32(sp, 3),
                              WASI_RIGHT_PATH_UNLINK_FILE, &wk);
    if (!err && wk->start->readonly)
        err = WASI_EPERM;
    if (!err && (err = walk_to(wk, false, REMOVE)) == 0) {
        exn_sys_stat_t st;
        if (strcmp(wk->name, ".") == 0)
            err = WASI_EISDIR;
        else if (wk->must_be_dir)
            err = exn_sys_statat(top(wk), wk->name, &st)   ? WASI_ENOENT
                  : st.filetype == WASI_FILETYPE_DIRECTORY ? WASI_EISDIR
                                                           : WASI_ENOTDIR;
        else
            err = exn_sys_unlinkat(top(wk), wk->name, false);
    }
    walk_free(wk);
    WASI_RETURN(sp, err);
}

/* path_symlink(old_path: string, fd: fd, new_path: string) -> errno
 * Creates the symbolic link `new_path` whose text is old_path.  The text is stored as given
 * (a relative target that points outside can be created, but is never followed out of the
 * sandbox); an absolute text is refused.
 * Errors: EPERM - absolute old_path, a "ro:" mount, new_path outside the sandbox; EEXIST;
 * ENOTCAPABLE (PATH_SYMLINK); EINVAL, EILSEQ, ENOENT (empty), ENAMETOOLONG - old_path as a
 * path argument; lookup errors for new_path. */
EXN_IMPORT(wasi_path_symlink)
{
    char *target = exn_malloc(WASI_PATH_MAX + 1);
    if (!target)
        WASI_RETURN(sp, WASI_ENOMEM);
    uint16_t err = guest_string(caller, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2), target);
    if (!err && target[0] == '/')
        err = WASI_EPERM;
    walk_t *wk = NULL;
    if (!err)
        err = walk_begin(caller, exn_arg_u32(sp, 3), exn_arg_u32(sp, 4), exn_arg_u32(sp, 5),
                         WASI_RIGHT_PATH_SYMLINK, &wk);
    if (!err && wk->start->readonly)
        err = WASI_EPERM;
    if (!err && (err = walk_to(wk, false, CREATE)) == 0)
        err = wk->must_be_dir ? WASI_ENOENT : exn_sys_symlinkat(target, top(wk), wk->name);
    walk_free(wk);
    exn_free(target);
    WASI_RETURN(sp, err);
}

/* path_readlink(fd: fd, path: string, buf: *u8, buf_len: u32, bufused: *u32) -> errno
 * Writes the text of the symbolic link `path` (cut to buf_len bytes, no NUL) and its length
 * as written.
 * Errors: EINVAL - not a symbolic link; EPERM - the link's text is an absolute (host) path
 * (as the official runtime); ENOTCAPABLE (PATH_READLINK); EFAULT - buf or bufused outside
 * memory; lookup errors. */
EXN_IMPORT(wasi_path_readlink)
{
    uint32_t buf_off = exn_arg_u32(sp, 4), buf_len = exn_arg_u32(sp, 5);
    uint32_t used_off = exn_arg_u32(sp, 6);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, buf_off, buf_len) || !wasi_in(m, used_off, 4))
        WASI_RETURN(sp, WASI_EFAULT);
    walk_t *wk;
    uint16_t err = walk_begin(caller, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2), exn_arg_u32(sp, 3),
                              WASI_RIGHT_PATH_READLINK, &wk);
    char text[WASI_PATH_MAX + 1];
    size_t len = 0;
    if (!err && (err = walk_to(wk, false, LOOKUP)) == 0 &&
        (err = exn_sys_readlinkat(top(wk), wk->name, text, sizeof text, &len)) == 0 && len &&
        text[0] == '/')
        err = WASI_EPERM; /* an absolute link's text is a host path: not shown (as cap-std) */
    walk_free(wk);
    if (!err) {
        m = exn_wasi_memory(caller);
        if (len > buf_len)
            len = buf_len;
        memcpy(m.base + buf_off, text, len);
        wasi_put_u32(m.base + used_off, (uint32_t)len);
    }
    WASI_RETURN(sp, err);
}

/* ---- two paths ------------------------------------------------------------------------------- */

/* path_link(old_fd: fd, old_flags: lookupflags, old_path: string, new_fd: fd,
 *           new_path: string) -> errno
 * Creates the hard link `new_path` to what `old_path` names (with SYMLINK_FOLLOW, the target
 * of a final symbolic link, resolved inside the sandbox; without it, the link itself).  Both
 * are resolved in their sandboxes, so nothing outside the mounts can be linked in.
 * Errors: EEXIST; EPERM - either side in a "ro:" mount or outside its sandbox, or a
 * directory; EXDEV - on different file systems; ENOTCAPABLE (PATH_LINK_SOURCE on old_fd,
 * PATH_LINK_TARGET on new_fd); lookup errors of either path. */
EXN_IMPORT(wasi_path_link)
{
    uint32_t old_flags = exn_arg_u32(sp, 2);
    walk_t *from = NULL, *to = NULL;
    uint16_t err = walk_begin(caller, exn_arg_u32(sp, 1), exn_arg_u32(sp, 3), exn_arg_u32(sp, 4),
                              WASI_RIGHT_PATH_LINK_SOURCE, &from);
    if (!err)
        err = walk_begin(caller, exn_arg_u32(sp, 5), exn_arg_u32(sp, 6), exn_arg_u32(sp, 7),
                         WASI_RIGHT_PATH_LINK_TARGET, &to);
    if (!err && (from->start->readonly || to->start->readonly))
        err = WASI_EPERM;
    if (!err)
        err = walk_to(from, old_flags & WASI_LOOKUP_SYMLINK_FOLLOW, REMOVE);
    if (!err)
        err = walk_to(to, false, CREATE);
    if (!err)
        err = to->must_be_dir ? WASI_ENOENT
                              : exn_sys_linkat(top(from), from->name, top(to), to->name);
    walk_free(from);
    walk_free(to);
    WASI_RETURN(sp, err);
}

/* path_rename(fd: fd, old_path: string, new_fd: fd, new_path: string) -> errno
 * Renames old_path to new_path (replacing a file there, or an empty directory with a
 * directory); final symbolic links are renamed, not followed.
 * Errors: EPERM - either side in a "ro:" mount or outside its sandbox; ENOENT; ENOTDIR,
 * EISDIR, ENOTEMPTY, EXDEV, EINVAL (a directory into itself) from the OS; ENOTCAPABLE
 * (PATH_RENAME_SOURCE on fd, PATH_RENAME_TARGET on new_fd); lookup errors. */
EXN_IMPORT(wasi_path_rename)
{
    walk_t *from = NULL, *to = NULL;
    uint16_t err = walk_begin(caller, exn_arg_u32(sp, 1), exn_arg_u32(sp, 2), exn_arg_u32(sp, 3),
                              WASI_RIGHT_PATH_RENAME_SOURCE, &from);
    if (!err)
        err = walk_begin(caller, exn_arg_u32(sp, 4), exn_arg_u32(sp, 5), exn_arg_u32(sp, 6),
                         WASI_RIGHT_PATH_RENAME_TARGET, &to);
    if (!err && (from->start->readonly || to->start->readonly))
        err = WASI_EPERM;
    if (!err)
        err = walk_to(from, false, REMOVE);
    if (!err)
        err = walk_to(to, false, CREATE);
    if (!err && (strcmp(from->name, ".") == 0 || strcmp(to->name, ".") == 0))
        err = WASI_EBUSY; /* (renaming a directory through "." or "..") */
    if (!err && (from->must_be_dir || to->must_be_dir)) {
        exn_sys_stat_t st;
        if ((err = exn_sys_statat(top(from), from->name, &st)) == 0 &&
            st.filetype != WASI_FILETYPE_DIRECTORY)
            err = WASI_ENOTDIR;
    }
    if (!err)
        err = exn_sys_renameat(top(from), from->name, top(to), to->name);
    walk_free(from);
    walk_free(to);
    WASI_RETURN(sp, err);
}
