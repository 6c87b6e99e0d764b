/* validate.h: a WebAssembly 2.0 validator of our own, run on every module before an engine
 * sees it (wasm3 0.5.0 compiles without validating).  A rejected module fails plugin creation
 * with EXN_ERR_LOAD and a message naming the function (or section), the byte offset and the
 * reason.  An accepted one comes with its description (module_info.h), decoded in the same
 * pass.  validate.c checks the module's sections, validate_code.c the function bodies; the
 * public entry point is exn_module_validate (extism_native.h). */
#ifndef EXN_VALIDATE_H
#define EXN_VALIDATE_H

#include "support/internal.h"
#include "validate/module_info.h"

/** Validate a whole module (the binary format and the validation rules of WebAssembly 2.0)
 *  and describe it in *out_info (module_info.h).
 *  Returns EXN_OK; EXN_ERR_LOAD (malformed or invalid); EXN_ERR_UNSUPPORTED (valid, but uses a
 *  proposal past 2.0 - relaxed SIMD, threads, exceptions, memory64, GC, typed references, tail
 *  calls - or exceeds an implementation limit of validate_code.h); or EXN_ERR_NOMEM.  On failure the
 *  message is written to errbuf, e.g. "function 12 ($name) at offset 0x1a2b: type mismatch in
 *  i32.add: expected i32, found i64" or "section 3 (function) at offset 0x40: ...".
 *  Ownership: borrows `bytes` for the call; what it allocates is bounded by the module size.
 *  On EXN_OK *out_info is the caller's (exn_module_info_free) and its ranges point into
 *  `bytes`, which must outlive it; on failure it holds nothing.
 *  Threads: any; no shared state. */
EXN_INTERNAL exn_status_t exn_validate_module(const uint8_t *bytes, size_t len,
                                              exn_module_info_t *out_info, char *errbuf,
                                              size_t errbuf_len);

/* exn_validate_module_flags */
#define EXN_VALIDATE_SKIP_BODIES                                                                   \
    1u /* decode and check every section, but do not type-check the
                                     * function bodies (only located): for a module known to
                                     * have passed validation before - the compiled tier's cache
                                     * has its code.  The description then lacks what only code
                                     * shows (`features` of the code, `changes_tables`) and says
                                     * so (`bodies_unchecked`) */

/** exn_validate_module with EXN_VALIDATE_* flags. */
EXN_INTERNAL exn_status_t exn_validate_module_flags(const uint8_t *bytes, size_t len,
                                                    unsigned flags, exn_module_info_t *out_info,
                                                    char *errbuf, size_t errbuf_len);

#endif
