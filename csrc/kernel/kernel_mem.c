/* kernel_mem.c: the Extism kernel's memory and block allocator, natively (spec section 2.2-2.3;
 * the observed rules are written down in docs/kernel-semantics.md).
 *
 * Bookkeeping is a table of blocks sorted by offset, kept outside the guest-visible bytes; the
 * 12-byte header in front of each block is only mirrored into memory (status, size, used) so that
 * loads there read what they read on the official runtime.  Guest stores into headers cannot
 * change the allocator's view.  Zeroing is lazy: reset zeroes only the bytes that were dirtied
 * since the last reset (by allocations or stores), tracked by `dirty_end`.
 * May call: vmem.h; the import wrappers at the end reach the plugin through plugin.h. */
#include "kernel_mem.h"

#include "kernel.h"

enum { STATUS_LIVE = 1, STATUS_FREE = 2 };

/* A 32-bit host cannot map 4 GiB: there the address space bounds the memory too. */
#if SIZE_MAX < UINT64_MAX
#define HOST_MAX_BYTES ((uint64_t)SIZE_MAX + 1 - EXN_KMEM_PAGE)
#else
#define HOST_MAX_BYTES EXN_KMEM_MAX_BYTES
#endif

static void write_header(exn_kmem_t *k, const exn_kblock_t *b)
{
    uint8_t *h = k->vm.base + (b->off - EXN_KMEM_HEADER);
    h[0] = b->live ? STATUS_LIVE : STATUS_FREE;
    h[1] = h[2] = h[3] = 0;
    exn_write_u32le(h + 4, (uint32_t)b->size);
    exn_write_u32le(h + 8, (uint32_t)b->used);
}

exn_status_t exn_kmem_init(exn_kmem_t *k, uint64_t limit_bytes)
{
    memset(k, 0, sizeof *k);
    if (limit_bytes > EXN_KMEM_MAX_BYTES)
        limit_bytes = EXN_KMEM_MAX_BYTES;
    if (limit_bytes > HOST_MAX_BYTES)
        limit_bytes = HOST_MAX_BYTES;
    uint64_t initial = EXN_KMEM_INITIAL_PAGES * EXN_KMEM_PAGE;
    if (limit_bytes < EXN_KMEM_PAGE)
        limit_bytes = EXN_KMEM_PAGE; /* the root page always exists */
    if (initial > limit_bytes)
        initial = limit_bytes - limit_bytes % EXN_KMEM_PAGE;
    k->limit = limit_bytes;
    exn_vmem_init(&k->vm, (size_t)limit_bytes);
    if (exn_vmem_resize(&k->vm, (size_t)initial) != EXN_OK)
        return EXN_ERR_NOMEM;
    k->mem_size = initial;
    /* the official kernel manages one page minus the root at first, measured from address 0:
     * blocks end at or before 65472 until it grows (found by tests/kernel's differential test) */
    k->region_end = EXN_KMEM_PAGE - EXN_KMEM_ROOT_END;
    k->bump = EXN_KMEM_FIRST_BLOCK;
    k->dirty_end = EXN_KMEM_ROOT_END; /* nothing written yet */
    return EXN_OK;
}

void exn_kmem_free(exn_kmem_t *k)
{
    exn_vmem_free(&k->vm);
    exn_free(k->blocks);
    memset(k, 0, sizeof *k);
}

void exn_kmem_reset(exn_kmem_t *k)
{
    if (k->dirty_end > EXN_KMEM_ROOT_END)
        exn_vmem_zero(&k->vm, EXN_KMEM_ROOT_END, (size_t)(k->dirty_end - EXN_KMEM_ROOT_END));
    k->dirty_end = EXN_KMEM_ROOT_END;
    k->bump = EXN_KMEM_FIRST_BLOCK;
    k->n_blocks = 0;
    k->input = k->input_len = 0;
    k->output = k->output_len = 0;
    k->error = 0;
}

/* Index of the block whose data starts at h, or n_blocks. */
static size_t find_block(const exn_kmem_t *k, uint64_t h)
{
    size_t lo = 0, hi = k->n_blocks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->blocks[mid].off < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < k->n_blocks && k->blocks[lo].off == h ? lo : k->n_blocks;
}

static bool reserve_blocks(exn_kmem_t *k)
{
    if (k->n_blocks < k->cap_blocks)
        return true;
    size_t cap = k->cap_blocks ? k->cap_blocks * 2 : 64;
    exn_kblock_t *b = exn_realloc(k->blocks, cap * sizeof *b);
    if (!b)
        return false;
    k->blocks = b;
    k->cap_blocks = cap;
    return true;
}

/* Grow memory (and the region) by the whole pages needed to fit `need` more bytes at the bump
 * position. */
static bool grow_for(exn_kmem_t *k, uint64_t need)
{
    uint64_t shortfall = k->bump + need - k->region_end;
    uint64_t pages = (shortfall + EXN_KMEM_PAGE - 1) / EXN_KMEM_PAGE;
    uint64_t add = pages * EXN_KMEM_PAGE;
    if (add > k->limit || k->mem_size > k->limit - add)
        return false;
    if (exn_vmem_resize(&k->vm, (size_t)(k->mem_size + add)) != EXN_OK)
        return false;
    k->mem_size += add;
    k->region_end += add;
    return true;
}

uint64_t exn_kmem_alloc(exn_kmem_t *k, uint64_t n)
{
    if (n == 0 || n > k->limit)
        return 0;
    uint64_t need = EXN_KMEM_HEADER + n;

    if (need > k->region_end - k->bump) {
        /* the bump region is exhausted: first fit among freed blocks */
        for (size_t i = 0; i < k->n_blocks; i++) {
            exn_kblock_t *b = &k->blocks[i];
            if (b->live || b->size < n)
                continue;
            if (b->size - n >= EXN_KMEM_SPLIT_MIN) {
                /* split: the head stays free, the tail of exactly n bytes is handed out */
                if (!reserve_blocks(k))
                    return 0;
                b = &k->blocks[i];
                exn_kblock_t tail = {b->off + b->size - n, n, n, true};
                b->size -= need;
                b->used = 0; /* as the official kernel leaves the free head */
                write_header(k, b);
                memmove(&k->blocks[i + 2], &k->blocks[i + 1],
                        (k->n_blocks - i - 1) * sizeof *b);
                k->blocks[i + 1] = tail;
                k->n_blocks++;
                write_header(k, &tail);
                return tail.off;
            }
            b->live = true;
            b->used = n;
            write_header(k, b);
            return b->off;
        }
        if (!grow_for(k, need))
            return 0;
    }
    if (!reserve_blocks(k))
        return 0;
    exn_kblock_t b = {k->bump + EXN_KMEM_HEADER, n, n, true};
    /* fresh space: everything at or past dirty_end is already zero */
    if (k->dirty_end > k->bump) {
        uint64_t end = k->dirty_end < k->bump + need ? k->dirty_end : k->bump + need;
        memset(k->vm.base + k->bump, 0, (size_t)(end - k->bump));
    }
    k->bump += need;
    if (k->bump > k->dirty_end)
        k->dirty_end = k->bump;
    k->blocks[k->n_blocks++] = b;
    write_header(k, &b);
    return b.off;
}

void exn_kmem_free_block(exn_kmem_t *k, uint64_t h)
{
    size_t i = find_block(k, h);
    if (i == k->n_blocks || !k->blocks[i].live)
        return;
    k->blocks[i].live = false;
    write_header(k, &k->blocks[i]);
    if (h == k->input)
        k->input_len = 0;
}

uint64_t exn_kmem_length(const exn_kmem_t *k, uint64_t h)
{
    size_t i = find_block(k, h);
    return i < k->n_blocks && k->blocks[i].live ? k->blocks[i].used : 0;
}

bool exn_kmem_in_region(const exn_kmem_t *k, uint64_t h, uint64_t len)
{
    /* the official kernel accepts ranges up to 64 bytes past the last block (its managed
     * capacity counted from the root's end), and one byte more (an off-by-one not copied) */
    uint64_t end = k->region_end + EXN_KMEM_ROOT_END;
    if (h < EXN_KMEM_FIRST_BLOCK || h >= end)
        return false;
    return len == 0 || len - 1 < end - h;
}

const uint8_t *exn_kmem_block(exn_kmem_t *k, uint64_t h, uint64_t *out_len)
{
    size_t i = find_block(k, h);
    if (i == k->n_blocks || !k->blocks[i].live) {
        *out_len = 0;
        return NULL;
    }
    *out_len = k->blocks[i].used;
    return k->vm.base + h;
}

uint64_t exn_kmem_alloc_copy(exn_kmem_t *k, const void *data, uint64_t len, bool *out_failed)
{
    *out_failed = false;
    if (len == 0)
        return 0;
    uint64_t h = exn_kmem_alloc(k, len);
    if (!h) {
        *out_failed = true;
        return 0;
    }
    memcpy(k->vm.base + h, data, (size_t)len);
    return h;
}

uint64_t exn_kmem_capacity(const exn_kmem_t *k)
{
    return k->region_end;
}

/* ---- the memory imports of extism:host/env ----------------------------------------------------
 * Each takes the plugin from the runtime's user data.  Loads and stores outside the memory (or
 * into the first 64 bytes) read 0 and are ignored, as in the official kernel - without its
 * off-by-one trap at the very end of memory. */

/* alloc(n: i64) -> i64: a block of exactly n bytes, 0 for n == 0 or when memory is full. */
EXN_IMPORT(kernel_alloc)
{
    ExtismPlugin *p = exn_plugin_of(caller);
    exn_ret_u64(sp, exn_kmem_alloc(&p->kmem, exn_arg_u64(sp, 1)));
    return NULL;
}

/* free(h: i64): frees a live block; anything else (0, freed, interior, out of range) is ignored. */
EXN_IMPORT(kernel_free)
{
    exn_kmem_free_block(&exn_plugin_of(caller)->kmem, exn_arg_u64(sp, 0));
    return NULL;
}

/* length(h: i64) -> i64: the block's size, 0 if h is not the start of a live block. */
EXN_IMPORT(kernel_length)
{
    exn_ret_u64(sp, exn_kmem_length(&exn_plugin_of(caller)->kmem, exn_arg_u64(sp, 1)));
    return NULL;
}

/* length_unsafe(h: i64) -> i64: the official kernel reads the header in front of h without
 * checking h; here it is the same exact lookup as length (equal on every valid handle). */
EXN_IMPORT(kernel_length_unsafe)
{
    return kernel_length(caller, sp);
}

/* load_u8(addr: i64) -> i32 */
EXN_IMPORT(kernel_load_u8)
{
    exn_kmem_t *k = &exn_plugin_of(caller)->kmem;
    uint64_t a = exn_arg_u64(sp, 1);
    exn_ret_u32(sp, exn_kmem_in_bounds(k, a, 1) ? k->vm.base[a] : 0);
    return NULL;
}

/* load_u64(addr: i64) -> i64: little-endian, unaligned allowed. */
EXN_IMPORT(kernel_load_u64)
{
    exn_kmem_t *k = &exn_plugin_of(caller)->kmem;
    uint64_t a = exn_arg_u64(sp, 1);
    exn_ret_u64(sp, exn_kmem_in_bounds(k, a, 8) ? exn_read_u64le(k->vm.base + a) : 0);
    return NULL;
}

/* store_u8(addr: i64, byte: i32) */
EXN_IMPORT(kernel_store_u8)
{
    exn_kmem_t *k = &exn_plugin_of(caller)->kmem;
    uint64_t a = exn_arg_u64(sp, 0);
    if (exn_kmem_in_bounds(k, a, 1)) {
        k->vm.base[a] = (uint8_t)exn_arg_u32(sp, 1);
        exn_kmem_touch(k, a, 1);
    }
    return NULL;
}

/* store_u64(addr: i64, value: i64) */
EXN_IMPORT(kernel_store_u64)
{
    exn_kmem_t *k = &exn_plugin_of(caller)->kmem;
    uint64_t a = exn_arg_u64(sp, 0);
    if (exn_kmem_in_bounds(k, a, 8)) {
        exn_write_u64le(k->vm.base + a, exn_arg_u64(sp, 1));
        exn_kmem_touch(k, a, 8);
    }
    return NULL;
}

/* reset(): frees every block and clears input, output and error. */
EXN_IMPORT(kernel_reset)
{
    (void)sp;
    exn_kmem_reset(&exn_plugin_of(caller)->kmem);
    return NULL;
}

/* memory_bytes() -> i64: the allocator's managed capacity (not the bytes in use). */
EXN_IMPORT(kernel_memory_bytes)
{
    exn_ret_u64(sp, exn_kmem_capacity(&exn_plugin_of(caller)->kmem));
    return NULL;
}
