/* validate.h: a WebAssembly 2.0 validator of our own, run on every module before wasm3 sees it
 * (wasm3 0.5.0 compiles without validating).  A rejected module fails plugin creation with
 * EXN_ERR_LOAD and a message naming the function, the byte offset and the reason. */
#ifndef EXN_VALIDATE_H
#define EXN_VALIDATE_H

#include "internal.h"

/** Validate a whole module.  Returns EXN_OK, EXN_ERR_LOAD (message in errbuf) or
 *  EXN_ERR_NOMEM. */
EXN_INTERNAL exn_status_t exn_validate(const uint8_t *bytes, size_t len, char *errbuf,
                                       size_t errbuf_len);

#endif
