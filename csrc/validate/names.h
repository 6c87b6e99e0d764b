/* names.h: names from a module's custom sections, for people: the "name" section's module and
 * function names (trap backtraces) and the "producers" section (inspect).  Read only when asked
 * (a trap, an inspect), never on the call path.  These sections are not validated (a malformed
 * one is no error): every read is bounds-checked and a malformed part reads as absent.
 * Reference: WebAssembly Core Specification 2.0, appendix 7.4 (the name section); the tool
 * conventions' producers section (WebAssembly/tool-conventions, ProducersSection.md).
 * May call: module_info.h, wasm_read.h. */
#ifndef EXN_NAMES_H
#define EXN_NAMES_H

#include "module_info.h"

/** The module's own name (name subsection 0) in *out, *out_len (Borrowed from `wasm`).
 *  False if there is none, or it is malformed or not UTF-8. */
EXN_INTERNAL bool exn_names_module(const exn_module_info_t *info, const uint8_t *wasm,
                                   const uint8_t **out, uint32_t *out_len);

/** The name of function `func` (imports count first; name subsection 1) in *out, *out_len
 *  (Borrowed from `wasm`).  False if it has none, or the subsection is malformed before it.
 *  Linear in the number of names: for traps, not for calls. */
EXN_INTERNAL bool exn_names_function(const exn_module_info_t *info, const uint8_t *wasm,
                                     uint32_t func, const uint8_t **out, uint32_t *out_len);

/** One field of the producers section ("language", "processed-by", "sdk") and its values. */
typedef struct {
    const uint8_t *name, *version; /* Borrowed from the module's bytes; not NUL-terminated */
    uint32_t name_len, version_len;
} exn_producer_t;

/** Call `fn` for each (field, name, version) of the producers section, in order; returns
 *  false if the section is absent or malformed (`fn` may have been called for what came
 *  before the fault). */
EXN_INTERNAL bool exn_names_producers(const exn_module_info_t *info, const uint8_t *wasm,
                                      void (*fn)(void *userdata, const uint8_t *field,
                                                 uint32_t field_len, const exn_producer_t *p),
                                      void *userdata);

#endif
