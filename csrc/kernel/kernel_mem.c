/* kernel_mem.c: the Extism kernel's memory and block allocator, natively (spec section 2.2-2.3;
 * the observed rules are written down in docs/kernel-semantics.md).  The imports that expose
 * it to the guest are in kernel_mem_imports.c.
 *
 * Bookkeeping is a table of blocks in address order, kept outside the guest-visible bytes (see
 * "the block table" below); the 12-byte header in front of each block is only mirrored into
 * memory (status, size, used) so that loads there read what they read on the official runtime.  Guest stores into headers cannot
 * change the allocator's view.  Zeroing is lazy: reset zeroes only the bytes that were dirtied
 * since the last reset (by allocations or stores), tracked by `dirty_end`.
 * May call: vmem.h, the allocator. */
#include "kernel_mem.h"

enum { STATUS_LIVE = 1, STATUS_FREE = 2 };

/* A 32-bit host cannot map 4 GiB: there the address space bounds the memory too. */
#if SIZE_MAX < UINT64_MAX
#define HOST_MAX_BYTES ((uint64_t)SIZE_MAX + 1 - EXN_KMEM_PAGE)
#else
#define HOST_MAX_BYTES EXN_KMEM_MAX_BYTES
#endif

static void write_header(exn_kmem_t *k, uint64_t h, uint64_t size, uint64_t used, bool live)
{
    uint8_t *p = k->vm.base + (h - EXN_KMEM_HEADER);
    p[0] = live ? STATUS_LIVE : STATUS_FREE;
    p[1] = p[2] = p[3] = 0;
    exn_write_u32le(p + 4, (uint32_t)size);
    exn_write_u32le(p + 8, (uint32_t)used);
}

/* ---- the block table ---------------------------------------------------------------------
 * Blocks tile [EXN_KMEM_FIRST_BLOCK, bump) in address order: a block's header starts where the
 * previous block's data ends, so a block is known by its size alone and the handle of the
 * next one is h + size + EXN_KMEM_HEADER.  The table keeps, per block, one byte (bit 7: live;
 * bits 0-6: size - used, which is below EXN_KMEM_SPLIT_MIN whenever used != size) and the size
 * as a LEB128 number: 2 bytes for a block of up to 127 bytes, at most 6.  The records are
 * packed into chunks of EXN_KMEM_CHUNK_BYTES, in address order; a chunk knows the handle of its
 * first block and the size of its largest free block, and a segment tree over the chunks finds
 * the first chunk with a free block of at least n bytes.  So:
 *   - a handle is found by binary search over the chunks and a walk of at most one chunk;
 *   - alloc takes the bump path in O(1), or the first-fit path in O(log chunks) plus a chunk's
 *     walk (and, when a split fills a chunk, an O(chunks) rebuild, at most once per half a
 *     chunk of splits there);
 *   - the bookkeeping costs ~2-3 bytes per small block (the kernel memory of the block itself
 *     is 13 or more), at most one byte per 2 bytes of kernel memory in use: bounded by
 *     memory.max_pages like the memory itself (issue 14 item 8: 32 bytes per block before,
 *     outside any budget, and first fit scanned every block). */

#define LIVE 0x80u
#define DELTA 0x7Fu
#define MAX_RECORD 6    /* meta byte + a LEB128 u32 */
#define SPARE_CHUNKS 16 /* chunks a reset keeps for the next call */

struct exn_kchunk {
    uint32_t first;    /* handle of its first block */
    uint32_t max_free; /* size of its largest free block (0: none) */
    uint16_t n;        /* blocks */
    uint16_t len;      /* bytes of rec used */
    uint8_t rec[EXN_KMEM_CHUNK_BYTES];
};

typedef struct {
    uint8_t meta;
    uint32_t size;
} record_t;

static size_t put_record(uint8_t *p, uint8_t meta, uint32_t size)
{
    size_t n = 0;
    p[n++] = meta;
    do {
        uint8_t b = size & 0x7F;
        size >>= 7;
        p[n++] = (uint8_t)(b | (size ? 0x80 : 0));
    } while (size);
    return n;
}

/* The record at p (written by put_record: no bounds to check) and its length. */
static size_t get_record(const uint8_t *p, record_t *out)
{
    size_t n = 1;
    uint32_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    out->meta = p[0];
    do {
        b = p[n++];
        v |= (uint32_t)(b & 0x7F) << shift;
        shift += 7;
    } while (b & 0x80);
    out->size = v;
    return n;
}

/* Decode a chunk into recs (room for EXN_KMEM_CHUNK_BYTES / 2 records). */
static void decode_chunk(const exn_kchunk_t *c, record_t *recs)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < c->n; i++)
        pos += get_record(c->rec + pos, &recs[i]);
}

static uint32_t max_free_of(const record_t *recs, uint32_t n)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!(recs[i].meta & LIVE) && recs[i].size > m)
            m = recs[i].size;
    }
    return m;
}

/* Encode recs[0..n) into c (they fit: the caller checked). */
static void encode_chunk(exn_kchunk_t *c, uint32_t first, const record_t *recs, uint32_t n)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < n; i++)
        pos += put_record(c->rec + pos, recs[i].meta, recs[i].size);
    c->first = first;
    c->n = (uint16_t)n;
    c->len = (uint16_t)pos;
    c->max_free = max_free_of(recs, n);
}

static size_t record_len(uint32_t size)
{
    size_t n = 2;
    while (size >= 0x80) {
        size >>= 7;
        n++;
    }
    return n;
}

/* -- the segment tree of the chunks' max_free -- */

static void tree_set(exn_kmem_t *k, uint32_t i, uint32_t value)
{
    uint32_t at = k->tree_cap + i;
    k->tree[at] = value;
    for (at /= 2; at >= 1; at /= 2) {
        uint32_t m = k->tree[2 * at] > k->tree[2 * at + 1] ? k->tree[2 * at] : k->tree[2 * at + 1];
        if (k->tree[at] == m)
            break; /* nothing above changes */
        k->tree[at] = m;
    }
}

/* Rebuild the whole tree (after chunks were inserted in the middle, or the tree grew). */
static bool tree_build(exn_kmem_t *k)
{
    uint32_t cap = k->tree_cap ? k->tree_cap : 1;
    while (cap < k->n_chunks)
        cap *= 2;
    if (cap != k->tree_cap) {
        uint32_t *t = exn_realloc(k->tree, 2 * (size_t)cap * sizeof *t);
        if (!t)
            return false;
        k->tree = t;
        k->tree_cap = cap;
    }
    memset(k->tree, 0, 2 * (size_t)cap * sizeof *k->tree);
    for (uint32_t i = 0; i < k->n_chunks; i++)
        k->tree[cap + i] = k->chunks[i]->max_free;
    for (uint32_t at = cap - 1; at >= 1; at--)
        k->tree[at] = k->tree[2 * at] > k->tree[2 * at + 1] ? k->tree[2 * at] : k->tree[2 * at + 1];
    k->tree_stale = false;
    return true;
}

/* The first chunk with a free block of at least n bytes, or n_chunks. */
static uint32_t tree_first_fit(const exn_kmem_t *k, uint64_t n)
{
    if (!k->n_chunks || k->tree[1] < n)
        return k->n_chunks;
    uint32_t at = 1;
    while (at < k->tree_cap)
        at = k->tree[2 * at] >= n ? 2 * at : 2 * at + 1;
    return at - k->tree_cap;
}

/* -- chunks -- */

/* A chunk buffer to fill: a spare one (kept beyond n_chunks in the array) or a new one.
 * The array has room for it at index n_chunks. */
static exn_kchunk_t *take_chunk(exn_kmem_t *k)
{
    if (k->n_chunks == k->cap_chunks) {
        uint32_t cap = k->cap_chunks ? k->cap_chunks * 2 : 8;
        exn_kchunk_t **a = exn_realloc(k->chunks, (size_t)cap * sizeof *a);
        if (!a)
            return NULL;
        memset(a + k->cap_chunks, 0, (size_t)(cap - k->cap_chunks) * sizeof *a);
        k->chunks = a;
        k->cap_chunks = cap;
    }
    exn_kchunk_t *c = k->chunks[k->n_chunks];
    if (!c && !(c = k->chunks[k->n_chunks] = exn_malloc(sizeof *c)))
        return NULL;
    return c;
}

/* Where the block with handle h is: its chunk, its record's position in the chunk and the
 * record; false if no block starts at h. */
typedef struct {
    uint32_t chunk;
    uint32_t index; /* in the chunk */
    size_t pos;     /* of the record in rec */
    record_t rec;
} found_t;

static bool find_block(const exn_kmem_t *k, uint64_t h, found_t *out)
{
    if (!k->n_chunks || h < k->chunks[0]->first || h >= k->bump)
        return false;
    /* the last chunk whose first handle is <= h */
    uint32_t lo = 0, hi = k->n_chunks;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (k->chunks[mid]->first <= h)
            lo = mid;
        else
            hi = mid;
    }
    const exn_kchunk_t *c = k->chunks[lo];
    uint64_t at = c->first;
    size_t pos = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        record_t r;
        size_t len = get_record(c->rec + pos, &r);
        if (at == h) {
            out->chunk = lo;
            out->index = i;
            out->pos = pos;
            out->rec = r;
            return true;
        }
        if (at > h)
            return false;
        at += (uint64_t)r.size + EXN_KMEM_HEADER;
        pos += len;
    }
    return false;
}

/* Append a block at the end of the table (the bump path). */
static bool append_block(exn_kmem_t *k, uint64_t h, uint32_t size)
{
    exn_kchunk_t *last = k->n_chunks ? k->chunks[k->n_chunks - 1] : NULL;
    if (!last || last->len + MAX_RECORD > EXN_KMEM_CHUNK_BYTES) {
        exn_kchunk_t *c = take_chunk(k);
        if (!c)
            return false;
        c->first = (uint32_t)h;
        c->max_free = 0;
        c->n = 0;
        c->len = 0;
        k->n_chunks++;
        if (k->n_chunks > k->tree_cap) {
            if (!tree_build(k)) {
                k->n_chunks--;
                return false;
            }
        } else if (!k->tree_stale) {
            tree_set(k, k->n_chunks - 1, 0);
        }
        last = c;
    }
    last->len = (uint16_t)(last->len + put_record(last->rec + last->len, LIVE, size));
    last->n++;
    return true;
}

/* Split free block `index` of chunk ci (size - n >= EXN_KMEM_SPLIT_MIN): its head stays free,
 * a live tail of exactly n bytes follows it.  Returns the tail's handle, or 0 (out of host
 * memory: nothing changed). */
static uint64_t split_block(exn_kmem_t *k, uint32_t ci, uint32_t index, uint64_t h, uint32_t n)
{
    exn_kchunk_t *c = k->chunks[ci];
    record_t recs[EXN_KMEM_CHUNK_BYTES / 2 + 1];
    decode_chunk(c, recs);
    uint32_t size = recs[index].size;
    uint32_t head = size - n - EXN_KMEM_HEADER;
    uint64_t tail = h + head + EXN_KMEM_HEADER;
    memmove(&recs[index + 2], &recs[index + 1], (c->n - index - 1) * sizeof *recs);
    recs[index].size = head;
    recs[index].meta = 0; /* free; used 0 (written to its header below) */
    recs[index + 1].size = n;
    recs[index + 1].meta = LIVE;
    uint32_t count = c->n + 1u;
    size_t bytes = c->len - record_len(size) + record_len(head) + record_len(n);
    if (bytes <= EXN_KMEM_CHUNK_BYTES) {
        encode_chunk(c, c->first, recs, count);
        tree_set(k, ci, c->max_free);
        return tail;
    }
    /* the chunk is full: half of its records move to a new chunk right after it */
    exn_kchunk_t *fresh = take_chunk(k);
    if (!fresh)
        return 0;
    k->chunks[k->n_chunks] = NULL; /* (fresh is moved into place below) */
    memmove(&k->chunks[ci + 2], &k->chunks[ci + 1], (k->n_chunks - ci - 1) * sizeof *k->chunks);
    k->chunks[ci + 1] = fresh;
    k->n_chunks++;
    uint32_t half = count / 2;
    uint64_t second = c->first;
    for (uint32_t i = 0; i < half; i++)
        second += (uint64_t)recs[i].size + EXN_KMEM_HEADER;
    encode_chunk(c, c->first, recs, half);
    encode_chunk(fresh, (uint32_t)second, recs + half, count - half);
    if (!tree_build(k))
        k->tree_stale = true; /* out of host memory: the table is right, and the tree is
                               * rebuilt before first fit uses it again */
    return tail;
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
    for (uint32_t i = 0; i < k->cap_chunks; i++)
        exn_free(k->chunks[i]);
    exn_free(k->chunks);
    exn_free(k->tree);
    memset(k, 0, sizeof *k);
}

void exn_kmem_reset(exn_kmem_t *k)
{
    if (k->dirty_end > EXN_KMEM_ROOT_END)
        exn_vmem_zero(&k->vm, EXN_KMEM_ROOT_END, (size_t)(k->dirty_end - EXN_KMEM_ROOT_END));
    k->dirty_end = EXN_KMEM_ROOT_END;
    k->bump = EXN_KMEM_FIRST_BLOCK;
    if (k->n_chunks) { /* (none: the table is as the last reset left it) */
        /* the chunks stay for the next call, but no more than a few: a call with millions of
         * blocks does not keep their table for the plugin's life */
        for (uint32_t i = SPARE_CHUNKS; i < k->cap_chunks; i++) {
            exn_free(k->chunks[i]);
            k->chunks[i] = NULL;
        }
        if (k->tree_cap > SPARE_CHUNKS) {
            exn_free(k->tree);
            k->tree = NULL;
            k->tree_cap = 0;
        } else if (k->tree) {
            /* no stale leaf may lead first fit to a chunk past n_chunks */
            memset(k->tree, 0, 2 * (size_t)k->tree_cap * sizeof *k->tree);
        }
        k->n_chunks = 0;
        k->tree_stale = false;
    }
    k->input = k->input_len = 0;
    k->output = k->output_len = 0;
    k->error = 0;
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

/* First fit among the freed blocks, in address order (the bump region is exhausted): the
 * handle handed out, 0 if no freed block is large enough (or out of host memory). */
static uint64_t reuse_free_block(exn_kmem_t *k, uint64_t n)
{
    if (k->tree_stale) {
        if (!tree_build(k))
            return 0;
        k->tree_stale = false;
    }
    uint32_t ci = tree_first_fit(k, n);
    if (ci == k->n_chunks)
        return 0;
    exn_kchunk_t *c = k->chunks[ci];
    uint64_t h = c->first;
    size_t pos = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        record_t r;
        size_t len = get_record(c->rec + pos, &r);
        if (!(r.meta & LIVE) && r.size >= n) {
            if (r.size - n >= EXN_KMEM_SPLIT_MIN) {
                /* split: the head stays free, the tail of exactly n bytes is handed out */
                uint64_t tail = split_block(k, ci, i, h, (uint32_t)n);
                if (tail) {
                    write_header(k, h, r.size - n - EXN_KMEM_HEADER, 0, false);
                    write_header(k, tail, n, n, true); /* (as the official kernel leaves them) */
                }
                return tail;
            }
            /* the whole block, used for n of its bytes (size - n < EXN_KMEM_SPLIT_MIN) */
            c->rec[pos] = (uint8_t)(LIVE | (r.size - n));
            if (r.size == c->max_free) {
                record_t all[EXN_KMEM_CHUNK_BYTES / 2 + 1];
                decode_chunk(c, all);
                c->max_free = max_free_of(all, c->n);
                tree_set(k, ci, c->max_free);
            }
            write_header(k, h, r.size, n, true);
            return h;
        }
        h += (uint64_t)r.size + EXN_KMEM_HEADER;
        pos += len;
    }
    return 0; /* (not reached: the tree said this chunk has one) */
}

uint64_t exn_kmem_alloc(exn_kmem_t *k, uint64_t n)
{
    if (n == 0 || n > k->limit)
        return 0;
    uint64_t need = EXN_KMEM_HEADER + n;

    if (need > k->region_end - k->bump) {
        uint64_t h = reuse_free_block(k, n);
        if (h)
            return h;
        if (!grow_for(k, need))
            return 0;
    }
    uint64_t h = k->bump + EXN_KMEM_HEADER;
    if (!append_block(k, h, (uint32_t)n))
        return 0;
    /* fresh space: everything at or past dirty_end is already zero */
    if (k->dirty_end > k->bump) {
        uint64_t end = k->dirty_end < k->bump + need ? k->dirty_end : k->bump + need;
        memset(k->vm.base + k->bump, 0, (size_t)(end - k->bump));
    }
    k->bump += need;
    if (k->bump > k->dirty_end)
        k->dirty_end = k->bump;
    write_header(k, h, n, n, true);
    return h;
}

void exn_kmem_free_block(exn_kmem_t *k, uint64_t h)
{
    found_t f;
    if (!find_block(k, h, &f) || !(f.rec.meta & LIVE))
        return;
    exn_kchunk_t *c = k->chunks[f.chunk];
    c->rec[f.pos] = (uint8_t)(f.rec.meta & ~LIVE); /* (size - used stays, for the header) */
    if (f.rec.size > c->max_free) {
        c->max_free = f.rec.size;
        if (!k->tree_stale)
            tree_set(k, f.chunk, c->max_free);
    }
    write_header(k, h, f.rec.size, f.rec.size - (f.rec.meta & DELTA), false);
    if (h == k->input)
        k->input_len = 0;
}

uint64_t exn_kmem_length(const exn_kmem_t *k, uint64_t h)
{
    found_t f;
    if (!find_block(k, h, &f) || !(f.rec.meta & LIVE))
        return 0;
    return f.rec.size - (f.rec.meta & DELTA);
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
    *out_len = exn_kmem_length(k, h);
    return *out_len ? k->vm.base + h : NULL;
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
