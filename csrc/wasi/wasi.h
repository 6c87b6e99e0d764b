/* wasi/wasi.h: WASI preview 1 (wasi_snapshot_preview1) for one plugin - what the rest of the
 * core sees of it: a per-plugin context, its configuration, and the import table.
 *
 * The imports are exn_hostcall_fn (engine/engine.h; kernel.h describes the slots).  They reach
 * the WASI context through their caller, and guest memory through exn_instance_memory - always
 * re-read, never kept across a call that can grow memory.  proc_exit(n) sets the exit code and
 * returns exn_trap_exit (the code: exn_wasi_exit_code). */
#ifndef EXN_WASI_H
#define EXN_WASI_H

#include "support/internal.h"
#include "engine/engine.h"
#include "manifest/manifest.h"

typedef struct exn_wasi exn_wasi_t;

/** Create the WASI context of a plugin: the directories of the manifest's allowed_paths are
 *  opened now (a missing one fails with EXN_ERR_MANIFEST naming it).  `call_state` is the
 *  interrupt word of its calls (support/watchdog.h: a sleep in poll_oneoff stops when it is
 *  set) and `trap_msg` where its imports say why they stop the guest; both Borrowed, outliving
 *  the context.  Returns EXN_OK, EXN_ERR_MANIFEST or EXN_ERR_NOMEM with a message in errbuf. */
EXN_INTERNAL exn_status_t exn_wasi_new(const exn_manifest_path_t *paths, size_t n_paths,
                                       volatile uint32_t *call_state, char *trap_msg,
                                       size_t trap_msg_len, exn_wasi_t **out, char *errbuf,
                                       size_t errbuf_len);

/** The code of the last proc_exit (the call ended with exn_trap_exit). */
EXN_INTERNAL int32_t exn_wasi_exit_code(const exn_wasi_t *w);

/** Free the context and close everything it opened (NULL is ignored). */
EXN_INTERNAL void exn_wasi_free(exn_wasi_t *w);

/** Back to the state right after exn_wasi_new (the guest's own descriptors closed, stdin
 *  rewound), keeping the configuration; used when the plugin is instantiated again. */
EXN_INTERNAL void exn_wasi_reset(exn_wasi_t *w);

/** Configuration (Copied); applies to later calls. */
EXN_INTERNAL exn_status_t exn_wasi_set_args(exn_wasi_t *w, const char *const *args, size_t n);
EXN_INTERNAL exn_status_t exn_wasi_set_env(exn_wasi_t *w, const char *const *env, size_t n);
EXN_INTERNAL exn_status_t exn_wasi_set_stdin(exn_wasi_t *w, const uint8_t *data, size_t len);
/** fd 1 or 2; mode EXN_WASI_INHERIT (the process's stream), EXN_WASI_DISCARD or
 *  EXN_WASI_CALLBACK (fn, userdata; see exn_output_fn in extism_native.h). */
EXN_INTERNAL exn_status_t exn_wasi_set_output(exn_wasi_t *w, int fd, int mode, exn_output_fn fn,
                                              void *userdata);

typedef struct exn_wasi_import {
    const char *name;
    const char *signature; /* letters, as in kernel_link.c */
    exn_hostcall_fn fn;
} exn_wasi_import_t;

/** The wasi_snapshot_preview1 import called `name`, or NULL. */
EXN_INTERNAL const exn_wasi_import_t *exn_wasi_find(const char *name);

#endif
