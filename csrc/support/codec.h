/* codec.h: base64 (manifest `data` sources) and SHA-256 (manifest `hash` checks). */
#ifndef EXN_CODEC_H
#define EXN_CODEC_H

#include "internal.h"

/** Decode standard base64 (A-Z a-z 0-9 + /, '=' padding optional).  Returns EXN_OK with an
 *  owned buffer (exn_free), EXN_ERR_MANIFEST on a bad character or length, EXN_ERR_NOMEM. */
EXN_INTERNAL exn_status_t exn_base64_decode(const char *text, size_t len, uint8_t **out,
                                            size_t *out_len);

/** SHA-256 of data as 64 lowercase hex characters plus NUL. */
EXN_INTERNAL void exn_sha256_hex(const uint8_t *data, size_t len, char out_hex[65]);

#endif
