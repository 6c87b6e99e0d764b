/* kernel_mem.h: the Extism kernel memory of one plugin (spec section 2): a byte region addressed
 * by 64-bit handles (0 = null), a block allocator, and the input / output / error registers.
 *
 * The numbers a plugin can observe follow the official kernel (first handle 77, 12-byte gaps
 * between blocks, bump allocation with first-fit reuse, growth by whole pages), so traces match
 * the official runtime byte for byte.  Unlike the official kernel, the allocator's bookkeeping
 * lives outside the plugin-writable bytes (a compact block table, ~2-3 bytes per small block):
 * a plugin that scribbles over block headers or the root record cannot corrupt the allocator
 * or make the host read or write outside the region.  alloc, free and length are O(1) or
 * O(log n) in the number of blocks.  Every offset and length from the guest is checked before use. */
#ifndef EXN_KERNEL_MEM_H
#define EXN_KERNEL_MEM_H

#include "support/internal.h"
#include "support/vmem.h"

/* Layout constants of the official kernel (see docs/kernel-semantics.md). */
#define EXN_KMEM_PAGE ((uint64_t)65536)
#define EXN_KMEM_INITIAL_PAGES 16 /* memory size at creation: 1 MiB */
#define EXN_KMEM_ROOT_END 64      /* addresses below this always read as 0 */
#define EXN_KMEM_FIRST_BLOCK 65   /* where the first block header goes */
#define EXN_KMEM_HEADER 12        /* header bytes before each block's data */
#define EXN_KMEM_SPLIT_MIN 128    /* a reused free block is split if this much is left */
#define EXN_KMEM_MAX_BYTES ((uint64_t)1 << 32) /* a wasm32 memory cannot be larger */

/* The block table is kept in chunks of this many bytes of records (kernel_mem.c). */
#define EXN_KMEM_CHUNK_BYTES 240
typedef struct exn_kchunk exn_kchunk_t;

typedef struct {
    exn_vmem_t vm;       /* backing bytes; vm.size >= mem_size */
    uint64_t mem_size;   /* visible memory size, a multiple of EXN_KMEM_PAGE */
    uint64_t limit;      /* mem_size never grows past this */
    uint64_t region_end; /* blocks live in [EXN_KMEM_FIRST_BLOCK, region_end): the managed
                            capacity, 65472 + a multiple of the page size */
    uint64_t bump;       /* where the next fresh header goes */
    uint64_t dirty_end;  /* every byte at or past this (and below mem_size) is zero;
                            EXN_KMEM_ROOT_END when nothing has been written */

    /* the block table (kernel_mem.c): chunks of records in address order, and a segment tree
     * of each chunk's largest free block */
    exn_kchunk_t **chunks; /* [n_chunks, cap_chunks): spare chunks (or NULL) */
    uint32_t n_chunks, cap_chunks;
    uint32_t *tree; /* 2 * tree_cap nodes; leaf i at tree_cap + i */
    uint32_t tree_cap;
    bool tree_stale; /* out of host memory while rebuilding: rebuild before use */

    uint64_t input, input_len;
    uint64_t output, output_len;
    uint64_t error;
} exn_kmem_t;

/** Set up an empty kernel memory that may grow to `limit_bytes`. */
EXN_INTERNAL exn_status_t exn_kmem_init(exn_kmem_t *k, uint64_t limit_bytes);
EXN_INTERNAL void exn_kmem_free(exn_kmem_t *k);

/** Base pointer of the bytes (may move when the memory grows on 32-bit hosts). */
static inline uint8_t *exn_kmem_base(exn_kmem_t *k)
{
    return k->vm.base;
}

/** Free every block and clear input, output and error (kernel `reset`). */
EXN_INTERNAL void exn_kmem_reset(exn_kmem_t *k);

/** Allocate n bytes; returns the handle, or 0 when n == 0 or memory is exhausted.  A block
 *  taken from fresh space reads as zero; a reused freed block keeps its old bytes. */
EXN_INTERNAL uint64_t exn_kmem_alloc(exn_kmem_t *k, uint64_t n);

/** Free the live block starting at h; anything else is ignored.  Freeing the input block makes
 *  input_length 0. */
EXN_INTERNAL void exn_kmem_free_block(exn_kmem_t *k, uint64_t h);

/** Length of the live block starting at h, else 0. */
EXN_INTERNAL uint64_t exn_kmem_length(const exn_kmem_t *k, uint64_t h);

/** Bounds of guest loads and stores: true if [addr, addr+n) may be accessed. */
static inline bool exn_kmem_in_bounds(const exn_kmem_t *k, uint64_t addr, uint64_t n)
{
    return addr >= EXN_KMEM_ROOT_END && addr < k->mem_size && n <= k->mem_size - addr;
}

/** Mark [addr, addr+n) as possibly non-zero (after a store through the base pointer). */
static inline void exn_kmem_touch(exn_kmem_t *k, uint64_t addr, uint64_t n)
{
    if (addr + n > k->dirty_end)
        k->dirty_end = addr + n;
}

/** True if [h, h+len) lies inside the allocator's region (output_set / error_set / input_set
 *  acceptance rule). */
EXN_INTERNAL bool exn_kmem_in_region(const exn_kmem_t *k, uint64_t h, uint64_t len);

/** The data of handle h if it is a live block: sets *out_len and returns a pointer into the
 *  memory (valid until the next allocation); NULL otherwise. */
EXN_INTERNAL const uint8_t *exn_kmem_block(exn_kmem_t *k, uint64_t h, uint64_t *out_len);

/** Allocate a block holding a copy of `data` (len may be 0: returns 0).  Returns 0 on failure
 *  and sets *out_failed. */
EXN_INTERNAL uint64_t exn_kmem_alloc_copy(exn_kmem_t *k, const void *data, uint64_t len,
                                          bool *out_failed);

/** Managed capacity as the `memory_bytes` import reports it. */
EXN_INTERNAL uint64_t exn_kmem_capacity(const exn_kmem_t *k);

#endif
