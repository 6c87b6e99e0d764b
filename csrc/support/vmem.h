/* vmem.h: a growable byte region whose untouched bytes read as zero and cost no resident memory.
 *
 * Backs both kinds of memory a plugin has: the linear memory of each module (the interpreter
 * engine gives it to wasm3 through the M3MemoryAllocator hook of wasm3 patch 0001) and the
 * Extism kernel memory.  Address space for
 * the largest size the region may reach is reserved up front and committed as it grows, so on
 * 64-bit hosts the base never moves.  If the reservation cannot be made that large (32-bit
 * hosts), growth past it moves the region (copying only the committed bytes) - callers must
 * re-read `base` after growing, as wasm3 does with its memory pointer. */
#ifndef EXN_VMEM_H
#define EXN_VMEM_H

#include "internal.h"

#define EXN_VMEM_KEEP_RANGES 2

/* Byte offsets [from, to) in a region. */
typedef struct {
    size_t from, to;
} exn_vmem_range_t;

typedef struct {
    uint8_t *base;        /* NULL until the first exn_vmem_resize */
    size_t size;          /* bytes usable: [base, base+size) */
    size_t reserved;      /* bytes of address space held at base */
    size_t limit;         /* the region never grows past this many bytes */
    size_t fixed_reserve; /* 0, or exn_vmem_init_guarded's reservation */
    size_t mapped;        /* bytes from base mapped from a file (exn_vmem_map_image) */
    /* ranges every owner of the region writes (exn_vmem_keep): when it is released to the
     * cache their pages stay resident, to be zeroed by memset when it is taken again */
    exn_vmem_range_t keep[EXN_VMEM_KEEP_RANGES];
} exn_vmem_t;

/** Prepare an empty region that may grow up to `limit` bytes (nothing is reserved yet). */
EXN_INTERNAL void exn_vmem_init(exn_vmem_t *vm, size_t limit);

/** Prepare an empty region for a linear memory protected by guard pages: its first resize
 *  reserves exactly `reserve` bytes (>= limit; failing rather than reserving less), so the base
 *  never moves, and the region commits exactly the bytes asked for (rounded up to the page
 *  size): every byte from the size to the end of the reservation stays inaccessible, and an
 *  access there faults.  The compiled tier reserves 8 GiB + a page for a wasm32 memory, where
 *  any address plus offset of an access lands. */
EXN_INTERNAL void exn_vmem_init_guarded(exn_vmem_t *vm, size_t limit, size_t reserve);

/** Grow the region to at least `new_size` bytes; new bytes read as zero.  Shrinking is a no-op.
 *  Returns EXN_OK, or EXN_ERR_NOMEM (past `limit`, or the OS refused) leaving it unchanged. */
EXN_INTERNAL exn_status_t exn_vmem_resize(exn_vmem_t *vm, size_t new_size);

/** Pages of [from, to) that every user of the region writes anyway (a wasm3 memory header,
 *  data segments): at release they stay resident in the process-wide cache and the next
 *  region made from it zeroes them with memset instead of page faults.  Up to
 *  EXN_VMEM_KEEP_RANGES ranges, of at most EXN_VMEM_KEEP_MAX bytes in all; a range past that is
 *  ignored (released as the rest).  Only changes the cost: a taken region always reads as zero. */
EXN_INTERNAL void exn_vmem_keep(exn_vmem_t *vm, size_t from, size_t to);

#define EXN_VMEM_KEEP_MAX ((size_t)256 * 1024)

/** Make the region's first `len` bytes (committed, page-aligned length) a private copy-on-write
 *  mapping of file `fd`'s first bytes: they read as the file without being copied, and cost
 *  resident memory only where written.  Released, the range becomes zero pages again before the
 *  region is reused.  Returns EXN_OK, or EXN_ERR_UNSUPPORTED (the caller copies instead). */
EXN_INTERNAL exn_status_t exn_vmem_map_image(exn_vmem_t *vm, size_t len, intptr_t fd);

/** Zero [offset, offset+len) of the committed region. */
EXN_INTERNAL void exn_vmem_zero(exn_vmem_t *vm, size_t offset, size_t len);

/** Release the region (safe on an empty or already released region). */
EXN_INTERNAL void exn_vmem_free(exn_vmem_t *vm);

#endif
