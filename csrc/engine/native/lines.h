/* engine/native/lines.h: code addresses of a compiled module -> wasm code offsets, for the
 * offsets of a trap's frames.
 *
 * translate.c puts `#line <module offset> "w"` before each instruction that can trap or call,
 * and `#line 1 "p"` around what is no instruction; the compiler (cc.c: -g1 -gdwarf-4) writes the
 * line table into the library's `.debug_line`.  exn_nlines_from_elf reads it back from the ELF
 * file (a small decoder that trusts no length or count of the file) into a table sorted by
 * address: from each entry's address on, code belongs to the instruction at its offset
 * (EXN_NLINE_NONE: to none).  Anything it does not understand (not ELF, compressed sections,
 * DWARF 5, another line-table shape) gives no table: the offsets stay unknown.
 *
 * May call: the allocator. */
#ifndef EXN_NATIVE_LINES_H
#define EXN_NATIVE_LINES_H

#include "support/internal.h"

#define EXN_NLINE_NONE UINT32_MAX

typedef struct {
    uint32_t addr;   /* relative to the library's load base (its first segment at address 0) */
    uint32_t offset; /* wasm module offset, or EXN_NLINE_NONE */
} exn_nline_t;

/** The table of the ELF shared library `elf` (`len` bytes) into *out (exn_free) and *out_n.
 *  Returns 0, or -1 (no table: not ELF, no usable line table, or out of memory). */
EXN_INTERNAL int exn_nlines_from_elf(const uint8_t *elf, size_t len, exn_nline_t **out,
                                     uint32_t *out_n);

/** Whether two ELF files have the same loaded sections at the same addresses and sizes (a
 *  library and the same link without debug sections: the table of one is the other's). */
EXN_INTERNAL bool exn_nlines_same_layout(const uint8_t *a, size_t a_len, const uint8_t *b,
                                         size_t b_len);

/** Whether `n` entries form a table exn_nlines_find can search (strictly increasing addresses). */
EXN_INTERNAL bool exn_nlines_valid(const exn_nline_t *t, uint32_t n);

/** The offset of the code at `addr` (relative to the load base): the entry last at or before
 *  it, EXN_NLINE_NONE if none. */
EXN_INTERNAL uint32_t exn_nlines_find(const exn_nline_t *t, uint32_t n, uint64_t addr);

#endif
