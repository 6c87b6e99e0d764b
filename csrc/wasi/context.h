/* wasi/context.h: the per-plugin WASI state that the import files share (context.c owns it):
 * the mounts of allowed_paths, the descriptor table, args, environment and stdio - and the
 * helpers every import uses to reach guest memory safely.
 *
 * Descriptor table: fds 0, 1, 2 are stdin, stdout, stderr; the mounts follow from 3 in manifest
 * order (their handles belong to the mount, not to the entry, so closing or renumbering them
 * never closes the host directory); every other entry owns its host handle. */
#ifndef EXN_WASI_CONTEXT_H
#define EXN_WASI_CONTEXT_H

#include "engine/engine.h"
#include "support/watchdog.h"
#include "wasi/abi.h"
#include "wasi/sys.h"
#include "wasi/wasi.h"

/* at most this many open descriptors per plugin (then EMFILE) */
#define WASI_MAX_FDS 4096

/* One allowed_paths entry. */
typedef struct {
    char *host;       /* as given in the manifest (for messages) */
    char *guest;      /* the name fd_prestat_dir_name reports */
    exn_sys_fd_t dir; /* the host directory; for a file mount the directory holding it */
    char *file;       /* file mount: the host file's name in `dir` (NULL: a directory mount) */
    char *file_guest; /* file mount: the only name the guest can look up in the mount */
    bool readonly;    /* "ro:" */
} wasi_mount_t;

enum { WASI_FD_FREE = 0, WASI_FD_STDIN, WASI_FD_STDOUT, WASI_FD_STDERR, WASI_FD_FILE, WASI_FD_DIR };

/* A snapshot of a directory's entries, taken by fd_readdir at cookie 0. */
typedef struct {
    char *names; /* all names, back to back */
    size_t names_len, names_cap;
    struct wasi_dirent {
        size_t name_off, name_len;
        uint64_t ino;
        uint8_t type;
    } * entries;
    size_t n, cap;
} wasi_listing_t;

typedef struct {
    uint8_t kind;     /* WASI_FD_* */
    uint8_t filetype; /* WASI_FILETYPE_* */
    bool owned;       /* `h` is closed with the entry */
    bool readonly;    /* it lives in a "ro:" mount */
    bool preopen;     /* a mount's root as preopened: fd_prestat_get answers */
    int32_t mount;    /* the mount it was reached through (-1 for stdio) */
    exn_sys_fd_t h;
    uint16_t fdflags; /* stdio only (files ask the OS) */
    uint64_t rights_base, rights_inheriting;
    wasi_listing_t *listing; /* fd_readdir snapshot, or NULL */
} wasi_fd_t;

typedef struct {
    int mode; /* EXN_WASI_INHERIT, _DISCARD, _CALLBACK */
    exn_output_fn fn;
    void *userdata;
} wasi_output_t;

/* a list of NUL-terminated strings, as args_get and environ_get hand them out */
typedef struct {
    char **items;
    size_t n;
    size_t bytes; /* sum of the lengths + NULs */
} wasi_strings_t;

struct exn_wasi {
    wasi_mount_t *mounts;
    size_t n_mounts;
    wasi_fd_t *fds;
    uint32_t n_fds; /* entries allocated (free ones included) */
    wasi_strings_t args, env;
    uint8_t *stdin_data;
    size_t stdin_len, stdin_pos;
    wasi_output_t out[3]; /* [1] stdout, [2] stderr */

    /* the call in progress (exn_wasi_new) */
    volatile uint32_t *call_state; /* the interrupt word: a sleep stops when it is set */
    char *trap_msg;                /* where to say why an import stopped the guest */
    size_t trap_msg_len;
    int32_t exit_code; /* of proc_exit */
};

/* Rights a directory or a file can hold: what path_open grants is limited to these. */
#define WASI_RIGHTS_DIR                                                                            \
    (WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_ADVISE |                  \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |                              \
     WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN |            \
     WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK | WASI_RIGHT_PATH_RENAME_SOURCE |            \
     WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET |                                \
     WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES |                      \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK |     \
     WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE |                              \
     WASI_RIGHT_POLL_FD_READWRITE | WASI_RIGHT_FD_DATASYNC)
#define WASI_RIGHTS_FILE                                                                           \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK |                            \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL |                    \
     WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_ALLOCATE |                         \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |                                \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_STDIN                                                                          \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_FILESTAT_GET |            \
     WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_STDOUT                                                                         \
    (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_FILESTAT_GET |           \
     WASI_RIGHT_POLL_FD_READWRITE | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_DATASYNC)

/* ---- the context and its descriptors (context.c) ----------------------------------------- */

/** The WASI context of the import being called (its environment). */
static inline exn_wasi_t *exn_wasi_of(const exn_caller_t *caller)
{
    return (exn_wasi_t *)caller->env;
}

/** The open descriptor `fd`, or NULL (then the import answers WASI_EBADF). */
EXN_INTERNAL wasi_fd_t *exn_wasi_fd(exn_wasi_t *w, uint32_t fd);

/** A free descriptor number for a new entry (the lowest one), filled with *e.  Returns 0 and
 *  the number in *out_fd, or WASI_EMFILE / WASI_ENOMEM (then the caller still owns e->h). */
EXN_INTERNAL uint16_t exn_wasi_fd_add(exn_wasi_t *w, const wasi_fd_t *e, uint32_t *out_fd);

/** Close an entry: its handle if owned, its listing; the slot becomes free. */
EXN_INTERNAL void exn_wasi_fd_close(wasi_fd_t *e);

/** Give the plugin's stdout (fd 1) or stderr (fd 2) the bytes; returns NULL, or
 *  exn_trap_host when an output callback asked to stop the guest (its text in trap_msg). */
EXN_INTERNAL exn_trap_t exn_wasi_output(exn_wasi_t *w, int which, const uint8_t *data, size_t len);

/* ---- guest memory ------------------------------------------------------------------------- */

/* The guest's linear memory, read afresh by every import (it may have grown or moved). */
typedef struct {
    uint8_t *base;
    uint64_t size;
} wasi_mem_t;

EXN_INTERNAL wasi_mem_t exn_wasi_memory(const exn_caller_t *caller);

/** [off, off+len) lies inside memory (overflow-safe). */
static inline bool wasi_in(wasi_mem_t m, uint64_t off, uint64_t len)
{
    return off <= m.size && len <= m.size - off;
}

static inline uint16_t wasi_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t wasi_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wasi_get_u64(const uint8_t *p)
{
    return exn_read_u64le(p);
}
static inline void wasi_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wasi_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void wasi_put_u64(uint8_t *p, uint64_t v)
{
    exn_write_u64le(p, v);
}

/** Store a u32 result at guest address `off`: 0, or WASI_EFAULT if it does not fit. */
static inline uint16_t wasi_store_u32(const exn_caller_t *caller, uint64_t off, uint32_t v)
{
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, off, 4))
        return WASI_EFAULT;
    wasi_put_u32(m.base + off, v);
    return 0;
}
static inline uint16_t wasi_store_u64(const exn_caller_t *caller, uint64_t off, uint64_t v)
{
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, off, 8))
        return WASI_EFAULT;
    wasi_put_u64(m.base + off, v);
    return 0;
}

/* at most this many iovecs per read or write (POSIX IOV_MAX; wasi-libc's IOV_MAX too) */
#define WASI_MAX_IOVS 1024

/** Turn the guest's iovec array (which must lie in memory: WASI_EFAULT) into host buffers:
 *  at most WASI_MAX_IOVS of them (*n_iovs is lowered to what is used: the transfer is then
 *  short, as POSIX allows), each one bounds-checked (WASI_EFAULT), adding up to less than
 *  4 GiB (WASI_EINVAL).  *out is owned by
 *  the caller (free with exn_free) and only valid until guest memory can change. */
EXN_INTERNAL uint16_t exn_wasi_iovecs(wasi_mem_t m, uint64_t iovs_off, uint32_t *n_iovs,
                                      exn_sys_iov_t **out, uint64_t *out_total);

#endif
