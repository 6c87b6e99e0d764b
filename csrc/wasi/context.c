/* wasi/context.c: the per-plugin WASI context (wasi.h, context.h): the mounts of allowed_paths
 * (opened once, at plugin creation), the descriptor table, args, environment, stdin and where
 * stdout/stderr go; plus the guest-memory helpers the imports share.
 *
 * Mounts (spec section 6.3): nothing is visible unless the manifest names it.  A directory is
 * preopened at its guest path; a single file "host/f" mounted at "/g/name" appears as the
 * preopened directory "/g" holding exactly one entry, "name" (the directory really opened is
 * the file's host directory, but path.c lets the guest reach nothing in it but that file).
 * May call: sys.h (mounts, stdio), engine.h (the caller's memory, trap sentinels). */
#include "context.h"

static const char *const errno_names[] = {
    "ESUCCESS",     "E2BIG",           "EACCES",       "EADDRINUSE",   "EADDRNOTAVAIL",
    "EAFNOSUPPORT", "EAGAIN",          "EALREADY",     "EBADF",        "EBADMSG",
    "EBUSY",        "ECANCELED",       "ECHILD",       "ECONNABORTED", "ECONNREFUSED",
    "ECONNRESET",   "EDEADLK",         "EDESTADDRREQ", "EDOM",         "EDQUOT",
    "EEXIST",       "EFAULT",          "EFBIG",        "EHOSTUNREACH", "EIDRM",
    "EILSEQ",       "EINPROGRESS",     "EINTR",        "EINVAL",       "EIO",
    "EISCONN",      "EISDIR",          "ELOOP",        "EMFILE",       "EMLINK",
    "EMSGSIZE",     "EMULTIHOP",       "ENAMETOOLONG", "ENETDOWN",     "ENETRESET",
    "ENETUNREACH",  "ENFILE",          "ENOBUFS",      "ENODEV",       "ENOENT",
    "ENOEXEC",      "ENOLCK",          "ENOLINK",      "ENOMEM",       "ENOMSG",
    "ENOPROTOOPT",  "ENOSPC",          "ENOSYS",       "ENOTCONN",     "ENOTDIR",
    "ENOTEMPTY",    "ENOTRECOVERABLE", "ENOTSOCK",     "ENOTSUP",      "ENOTTY",
    "ENXIO",        "EOVERFLOW",       "EOWNERDEAD",   "EPERM",        "EPIPE",
    "EPROTO",       "EPROTONOSUPPORT", "EPROTOTYPE",   "ERANGE",       "EROFS",
    "ESPIPE",       "ESRCH",           "ESTALE",       "ETIMEDOUT",    "ETXTBSY",
    "EXDEV",        "ENOTCAPABLE"};

static const char *errno_name(uint16_t e)
{
    return e < sizeof errno_names / sizeof errno_names[0] ? errno_names[e] : "E?";
}

/* ---- creation ----------------------------------------------------------------------------- */

static void free_strings(wasi_strings_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        exn_free(s->items[i]);
    exn_free(s->items);
    memset(s, 0, sizeof *s);
}

static void free_mount(wasi_mount_t *m)
{
    exn_sys_close(m->dir);
    exn_free(m->host);
    exn_free(m->guest);
    exn_free(m->file);
    exn_free(m->file_guest);
}

/* The descriptor table right after creation: stdio, then the mounts. */
static void fill_table(exn_wasi_t *w)
{
    memset(w->fds, 0, w->n_fds * sizeof *w->fds);
    static const uint8_t kinds[3] = {WASI_FD_STDIN, WASI_FD_STDOUT, WASI_FD_STDERR};
    for (int i = 0; i < 3; i++) {
        wasi_fd_t *e = &w->fds[i];
        e->kind = kinds[i];
        /* stdio looks like a terminal (character device, no seek/tell rights): wasi-libc then
         * line-buffers stdout, so a reactor's printf lines reach the host as they are written */
        e->filetype = WASI_FILETYPE_CHARACTER_DEVICE;
        e->mount = -1;
        e->h = EXN_SYS_NOFD;
        e->rights_base = i == 0 ? WASI_RIGHTS_STDIN : WASI_RIGHTS_STDOUT;
    }
    for (size_t i = 0; i < w->n_mounts; i++) {
        wasi_fd_t *e = &w->fds[3 + i];
        e->kind = WASI_FD_DIR;
        e->filetype = WASI_FILETYPE_DIRECTORY;
        e->preopen = true;
        e->readonly = w->mounts[i].readonly;
        e->mount = (int32_t)i;
        e->h = w->mounts[i].dir;
        e->rights_base = WASI_RIGHTS_DIR;
        e->rights_inheriting = WASI_RIGHTS_DIR | WASI_RIGHTS_FILE;
    }
}

/* The guest path of a mount as fd_prestat_dir_name reports it: trailing '/' removed ("/" and
 * "." stay).  A file mount splits it into the directory and the file's name. */
static exn_status_t set_guest(wasi_mount_t *m, const char *guest, bool file, char *errbuf,
                              size_t errbuf_len)
{
    size_t len = strlen(guest);
    while (len > 1 && guest[len - 1] == '/')
        len--;
    if (!file) {
        m->guest = exn_strndup(guest, len);
        return m->guest ? EXN_OK : EXN_ERR_NOMEM;
    }
    size_t slash = len;
    while (slash > 0 && guest[slash - 1] != '/')
        slash--;
    const char *base = guest + slash;
    size_t base_len = len - slash;
    if (base_len == 0 || (base_len == 1 && base[0] == '.') ||
        (base_len == 2 && base[0] == '.' && base[1] == '.') || base_len > 255) {
        exn_fmt(errbuf, errbuf_len,
                "allowed_paths: '%s' is a file, so its guest path must end in a file name, "
                "not '%s'",
                m->host, guest);
        return EXN_ERR_MANIFEST;
    }
    /* directory part: "" -> ".", "/" stays, "a/" -> "a" */
    size_t dir_len = slash;
    while (dir_len > 1 && guest[dir_len - 1] == '/')
        dir_len--;
    m->guest = dir_len ? exn_strndup(guest, dir_len) : exn_strndup(".", 1);
    m->file_guest = exn_strndup(base, base_len);
    return m->guest && m->file_guest ? EXN_OK : EXN_ERR_NOMEM;
}

exn_status_t exn_wasi_new(const exn_manifest_path_t *paths, size_t n_paths,
                          volatile uint32_t *call_state, char *trap_msg, size_t trap_msg_len,
                          exn_wasi_t **out, char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    *out = NULL;
    exn_wasi_t *w = exn_calloc(1, sizeof *w);
    if (!w)
        return EXN_ERR_NOMEM;
    w->call_state = call_state;
    w->trap_msg = trap_msg;
    w->trap_msg_len = trap_msg_len;
    for (int i = 0; i < 3; i++)
        w->out[i].mode = EXN_WASI_INHERIT;
    if (n_paths > WASI_MAX_FDS - 3) {
        exn_fmt(errbuf, errbuf_len, "allowed_paths: too many entries (at most %d)",
                WASI_MAX_FDS - 3);
        st = EXN_ERR_MANIFEST;
        goto cleanup;
    }
    if (n_paths && !(w->mounts = exn_calloc(n_paths, sizeof *w->mounts))) {
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n_paths; i++) {
        wasi_mount_t *m = &w->mounts[i];
        m->dir = EXN_SYS_NOFD;
        w->n_mounts++;
        m->readonly = paths[i].readonly;
        if (!(m->host = exn_strndup(paths[i].host_path, strlen(paths[i].host_path)))) {
            st = EXN_ERR_NOMEM;
            goto cleanup;
        }
        uint16_t err = exn_sys_open_mount(m->host, &m->dir, &m->file);
        if (err == WASI_ENOMEM) {
            st = EXN_ERR_NOMEM;
            goto cleanup;
        }
        if (err) {
            exn_fmt(errbuf, errbuf_len,
                    "allowed_paths: cannot open host path '%s' (for guest path '%s'): %s", m->host,
                    paths[i].guest_path,
                    err == WASI_ENOENT    ? "no such file or directory"
                    : err == WASI_EACCES  ? "permission denied"
                    : err == WASI_ENOTDIR ? "a component of it is not a directory"
                                          : errno_name(err));
            st = EXN_ERR_MANIFEST;
            goto cleanup;
        }
        if (m->file && strlen(m->file) > 255) {
            exn_fmt(errbuf, errbuf_len, "allowed_paths: the file name of '%s' is too long",
                    m->host);
            st = EXN_ERR_MANIFEST;
            goto cleanup;
        }
        EXN_TRY(set_guest(m, paths[i].guest_path, m->file != NULL, errbuf, errbuf_len));
    }
    w->n_fds = (uint32_t)(3 + n_paths);
    uint32_t cap = w->n_fds < 16 ? 16 : w->n_fds;
    if (!(w->fds = exn_calloc(cap, sizeof *w->fds))) {
        st = EXN_ERR_NOMEM;
        goto cleanup;
    }
    fill_table(w);
    w->n_fds = cap; /* (the spare entries are free) */
    *out = w;
    return EXN_OK;

cleanup:
    if (st == EXN_ERR_NOMEM)
        exn_fmt(errbuf, errbuf_len, "out of memory while setting up WASI");
    exn_wasi_free(w);
    return st;
}

/* Close every descriptor the guest opened itself. */
static void close_all(exn_wasi_t *w)
{
    for (uint32_t i = 0; i < w->n_fds; i++)
        exn_wasi_fd_close(&w->fds[i]);
}

void exn_wasi_free(exn_wasi_t *w)
{
    if (!w)
        return;
    if (w->fds)
        close_all(w);
    exn_free(w->fds);
    for (size_t i = 0; i < w->n_mounts; i++)
        free_mount(&w->mounts[i]);
    exn_free(w->mounts);
    free_strings(&w->args);
    free_strings(&w->env);
    exn_free(w->stdin_data);
    exn_free(w);
}

int32_t exn_wasi_exit_code(const exn_wasi_t *w)
{
    return w->exit_code;
}

void exn_wasi_reset(exn_wasi_t *w)
{
    close_all(w);
    fill_table(w); /* (the table never shrinks below 3 + mounts: no allocation here) */
    w->stdin_pos = 0;
}

/* ---- configuration -------------------------------------------------------------------------- */

static exn_status_t set_strings(wasi_strings_t *s, const char *const *items, size_t n)
{
    wasi_strings_t fresh = {0};
    if (n > UINT32_MAX / 4)
        return EXN_ERR_MISUSE;
    if (n && !(fresh.items = exn_calloc(n, sizeof *fresh.items)))
        return EXN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(items[i]);
        if (!(fresh.items[i] = exn_strndup(items[i], len))) {
            free_strings(&fresh);
            return EXN_ERR_NOMEM;
        }
        fresh.n++;
        fresh.bytes += len + 1;
    }
    if (fresh.bytes > UINT32_MAX) {
        free_strings(&fresh);
        return EXN_ERR_MISUSE;
    }
    free_strings(s);
    *s = fresh;
    return EXN_OK;
}

exn_status_t exn_wasi_set_args(exn_wasi_t *w, const char *const *args, size_t n)
{
    return set_strings(&w->args, args, n);
}

exn_status_t exn_wasi_set_env(exn_wasi_t *w, const char *const *env, size_t n)
{
    return set_strings(&w->env, env, n);
}

exn_status_t exn_wasi_set_stdin(exn_wasi_t *w, const uint8_t *data, size_t len)
{
    uint8_t *copy = NULL;
    if (len && !(copy = exn_malloc(len)))
        return EXN_ERR_NOMEM;
    if (len)
        memcpy(copy, data, len);
    exn_free(w->stdin_data);
    w->stdin_data = copy;
    w->stdin_len = len;
    w->stdin_pos = 0;
    return EXN_OK;
}

exn_status_t exn_wasi_set_output(exn_wasi_t *w, int fd, int mode, exn_output_fn fn, void *userdata)
{
    if ((fd != 1 && fd != 2) || mode < EXN_WASI_INHERIT || mode > EXN_WASI_CALLBACK ||
        (mode == EXN_WASI_CALLBACK && !fn))
        return EXN_ERR_MISUSE;
    w->out[fd].mode = mode;
    w->out[fd].fn = mode == EXN_WASI_CALLBACK ? fn : NULL;
    w->out[fd].userdata = mode == EXN_WASI_CALLBACK ? userdata : NULL;
    return EXN_OK;
}

/* ---- descriptors ----------------------------------------------------------------------------- */

wasi_fd_t *exn_wasi_fd(exn_wasi_t *w, uint32_t fd)
{
    if (fd >= w->n_fds || w->fds[fd].kind == WASI_FD_FREE)
        return NULL;
    return &w->fds[fd];
}

uint16_t exn_wasi_fd_add(exn_wasi_t *w, const wasi_fd_t *e, uint32_t *out_fd)
{
    uint32_t fd = 3;
    while (fd < w->n_fds && w->fds[fd].kind != WASI_FD_FREE)
        fd++;
    if (fd == w->n_fds) {
        if (w->n_fds >= WASI_MAX_FDS)
            return WASI_EMFILE;
        uint32_t cap = w->n_fds * 2 > WASI_MAX_FDS ? WASI_MAX_FDS : w->n_fds * 2;
        wasi_fd_t *grown = exn_realloc(w->fds, cap * sizeof *grown);
        if (!grown)
            return WASI_ENOMEM;
        memset(grown + w->n_fds, 0, (cap - w->n_fds) * sizeof *grown);
        w->fds = grown;
        w->n_fds = cap;
    }
    w->fds[fd] = *e;
    *out_fd = fd;
    return 0;
}

void exn_wasi_fd_close(wasi_fd_t *e)
{
    if (e->kind == WASI_FD_FREE)
        return;
    if (e->owned)
        exn_sys_close(e->h);
    if (e->listing) {
        exn_free(e->listing->names);
        exn_free(e->listing->entries);
        exn_free(e->listing);
    }
    memset(e, 0, sizeof *e);
}

/* ---- stdio ----------------------------------------------------------------------------------- */

exn_trap_t exn_wasi_output(exn_wasi_t *w, int which, const uint8_t *data, size_t len)
{
    const wasi_output_t *o = &w->out[which];
    if (!len || o->mode == EXN_WASI_DISCARD)
        return NULL;
    if (o->mode == EXN_WASI_INHERIT) {
        exn_sys_stdio_write(which, data, len); /* (a closed stdout is the host's business) */
        return NULL;
    }
    if (o->fn(o->userdata, data, len) != 0) {
        exn_fmt(w->trap_msg, w->trap_msg_len, "the WASI %s callback failed",
                which == 1 ? "stdout" : "stderr");
        return exn_trap_host;
    }
    return NULL;
}

/* ---- guest memory ---------------------------------------------------------------------------- */

wasi_mem_t exn_wasi_memory(const exn_caller_t *caller)
{
    wasi_mem_t m;
    m.base = exn_instance_memory(caller->instance, &m.size);
    if (!m.base)
        m.size = 0;
    return m;
}

uint16_t exn_wasi_iovecs(wasi_mem_t m, uint64_t iovs_off, uint32_t *n_iovs_inout,
                         exn_sys_iov_t **out, uint64_t *out_total)
{
    uint32_t n_iovs = *n_iovs_inout;
    *out = NULL;
    *out_total = 0;
    if (!wasi_in(m, iovs_off, (uint64_t)n_iovs * WASI_IOVEC_SIZE))
        return WASI_EFAULT; /* (the whole array must be in memory, even the unused part) */
    if (n_iovs > WASI_MAX_IOVS)
        n_iovs = WASI_MAX_IOVS; /* the rest is not transferred this time */
    exn_sys_iov_t *iov = exn_malloc((n_iovs ? n_iovs : 1) * sizeof *iov);
    if (!iov)
        return WASI_ENOMEM;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n_iovs; i++) {
        const uint8_t *v = m.base + iovs_off + (uint64_t)i * WASI_IOVEC_SIZE;
        uint32_t buf = wasi_get_u32(v + WASI_IOVEC_BUF), len = wasi_get_u32(v + WASI_IOVEC_BUF_LEN);
        if (!wasi_in(m, buf, len)) {
            exn_free(iov);
            return WASI_EFAULT;
        }
        iov[i].base = m.base + buf;
        iov[i].len = len;
        total += len;
    }
    if (total > UINT32_MAX) { /* the byte count must fit the u32 result */
        exn_free(iov);
        return WASI_EINVAL;
    }
    *out = iov;
    *out_total = total;
    *n_iovs_inout = n_iovs;
    return 0;
}
