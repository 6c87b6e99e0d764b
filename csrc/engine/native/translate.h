/* engine/native/translate.h: the wasm -> C translator of the compiled tier.
 *
 * Turns a validated module into C source text: a header shared by every file (the prelude of
 * helpers, the context structure of abi.h, function prototypes) and `n_files` .c files with the
 * functions spread so that their sizes are balanced (the files are compiled in parallel), the
 * first of them also holding the descriptor (abi.h, exn_ndesc_t).  No I/O: the caller writes
 * the text where its compiler can read it (cc.c).
 *
 * May call: validate/module_info.h, engine/native/abi.h, the allocator. */
#ifndef EXN_NATIVE_TRANSLATE_H
#define EXN_NATIVE_TRANSLATE_H

#include "support/internal.h"
#include "validate/module_info.h"

/* A growable text buffer; `failed` is set (and the text dropped) when an allocation fails. */
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} exn_nbuf_t;

EXN_INTERNAL void exn_nbuf_put(exn_nbuf_t *b, const char *s, size_t n);
EXN_INTERNAL void exn_nbuf_printf(exn_nbuf_t *b, const char *fmt, ...) EXN_PRINTF(2, 3);
EXN_INTERNAL void exn_nbuf_free(exn_nbuf_t *b);

typedef struct {
    uint32_t n_files;          /* .c files wanted (>= 1) */
    bool bounds_checks;        /* explicit checks on every access (else: guard pages) */
    const char *module_sha256; /* hex, recorded in the descriptor */
    bool fuel;                 /* count fuel (abi.h, exn_nctx_t.fuel) */
} exn_ntrans_opts_t;

typedef struct {
    exn_nbuf_t header; /* "m.h", included by every file */
    exn_nbuf_t *files; /* n_files .c files: "m0.c", "m1.c", ... */
    uint32_t n_files;
    uint64_t code_bytes; /* wasm code bytes translated, for the caller's choices */
} exn_ntrans_out_t;

/** Translate the module.  Returns EXN_OK, EXN_ERR_NOMEM, or EXN_ERR_UNSUPPORTED (an instruction
 *  it does not know, e.g. relaxed SIMD, named; more than one memory, a function of more than
 *  50000 locals) with the reason in errbuf.  On success
 *  `out` is owned by the caller: free with exn_native_trans_free. */
EXN_INTERNAL exn_status_t exn_native_translate(const exn_module_info_t *info, const uint8_t *wasm,
                                               const exn_ntrans_opts_t *opts, exn_ntrans_out_t *out,
                                               char *errbuf, size_t errbuf_len);
EXN_INTERNAL void exn_native_trans_free(exn_ntrans_out_t *out);

/** SHA-256 (hex) identifying the code this translator writes (its version and its texts): part
 *  of the cache key.  Borrowed, for the process. */
EXN_INTERNAL const char *exn_native_translator_id(void);

/** The functions with a funcref slot in each instance (exn_ndesc_t.ref_funcs), in the order the
 *  translator gives them: every function of an element segment, of a global's initialiser or
 *  exported (ref.func in code may only name those).  Returns an owned array (free with
 *  exn_free) of *out_n indices, or NULL with *out_n 0 when there are none or memory ran out
 *  (*out_nomem tells which). */
EXN_INTERNAL uint32_t *exn_native_ref_funcs(const exn_module_info_t *info, const uint8_t *wasm,
                                            uint32_t *out_n, bool *out_nomem);

#endif
