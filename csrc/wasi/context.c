/* wasi/context.c: the per-plugin WASI context.  Placeholder until the WASI implementation
 * lands: it holds the configuration only. */
#include "wasi.h"

struct exn_wasi {
    int unused;
};

exn_status_t exn_wasi_new(const exn_manifest_path_t *paths, size_t n_paths, exn_wasi_t **out,
                          char *errbuf, size_t errbuf_len)
{
    (void)paths, (void)n_paths, (void)errbuf, (void)errbuf_len;
    *out = exn_calloc(1, sizeof **out);
    return *out ? EXN_OK : EXN_ERR_NOMEM;
}

void exn_wasi_free(exn_wasi_t *w)
{
    exn_free(w);
}

void exn_wasi_reset(exn_wasi_t *w)
{
    (void)w;
}

exn_status_t exn_wasi_set_args(exn_wasi_t *w, const char *const *args, size_t n)
{
    (void)w, (void)args, (void)n;
    return EXN_OK;
}

exn_status_t exn_wasi_set_env(exn_wasi_t *w, const char *const *env, size_t n)
{
    (void)w, (void)env, (void)n;
    return EXN_OK;
}

exn_status_t exn_wasi_set_stdin(exn_wasi_t *w, const uint8_t *data, size_t len)
{
    (void)w, (void)data, (void)len;
    return EXN_OK;
}

exn_status_t exn_wasi_set_output(exn_wasi_t *w, int fd, int mode, exn_output_fn fn,
                                 void *userdata)
{
    (void)w, (void)fd, (void)mode, (void)fn, (void)userdata;
    return EXN_OK;
}
