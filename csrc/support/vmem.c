/* vmem.c: growable zero-initialised regions over reserved address space (see vmem.h).
 * May call: os.h (reserve/commit/release). */
#include "vmem.h"

#include "os.h"

/* Committing is done in chunks so that a region growing byte by byte (kernel allocations) does
 * not make a system call each time; untouched committed pages still cost nothing resident. */
#define COMMIT_CHUNK ((size_t)256 * 1024)

/* Reserve at most this much address space per region on 64-bit hosts (a wasm32 memory needs at
 * most 4 GiB + the wasm3 header) and far less on 32-bit ones. */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define MAX_RESERVE ((size_t)1 << 33)
#else
#define MAX_RESERVE ((size_t)64 << 20)
#endif

static size_t round_up(size_t n, size_t to)
{
    size_t r = n % to;
    return r ? n + (to - r) : n;
}

/* ---- a process-wide cache of released regions ------------------------------------------------
 * Reserving, committing and releasing a region are three system calls (~9 us together on a
 * VM) and every plugin instance has three regions.  A released region is instead kept, with
 * its committed pages replaced by zero pages (exn_os_zero_pages: nothing of its last owner is
 * left, nothing resident), for the next region with the same reservation: the one system call
 * left per region is that zeroing.  Pages its owner named with exn_vmem_keep (written by every
 * owner: data segments, headers) are left resident instead and zeroed by memset when the region
 * is taken again, which costs less than a page fault per page.  Guarded by the global lock
 * (never held by its other users while they call into vmem). */
#define CACHE_SLOTS 16
/* A larger committed region is released: committed memory is charged to the process even when
 * not resident. */
#define CACHE_MAX_COMMITTED ((size_t)16 << 20)

typedef struct {
    uint8_t *base;
    size_t reserved;
    size_t committed;
    exn_vmem_range_t keep[EXN_VMEM_KEEP_RANGES]; /* page-aligned, sorted, within committed */
} cached_region_t;

static cached_region_t cache[CACHE_SLOTS];
static size_t cache_count;

/* Take a cached region of `reserve` bytes with at most `limit` committed into *out. */
static bool cache_take(size_t reserve, size_t limit, cached_region_t *out)
{
    bool found = false;
    exn_os_global_lock();
    for (size_t i = cache_count; i-- > 0;) {
        if (cache[i].reserved == reserve && cache[i].committed <= limit) {
            *out = cache[i];
            cache[i] = cache[--cache_count];
            found = true;
            break;
        }
    }
    exn_os_global_unlock();
    return found;
}

/* Keep a zeroed region for reuse; false if it must be released instead. */
static bool cache_put(const cached_region_t *region)
{
    bool kept = false;
    exn_os_global_lock();
    if (cache_count < CACHE_SLOTS) {
        cache[cache_count++] = *region;
        kept = true;
    }
    exn_os_global_unlock();
    return kept;
}

/* Zero the committed pages of a region outside its kept ranges (which stay resident). */
static int zero_unkept(const cached_region_t *r)
{
    size_t at = 0;
    for (size_t i = 0; i <= EXN_VMEM_KEEP_RANGES; i++) {
        size_t end = i < EXN_VMEM_KEEP_RANGES ? r->keep[i].from : r->committed;
        if (i < EXN_VMEM_KEEP_RANGES && r->keep[i].to == 0)
            continue; /* (an unused range) */
        if (end > at && exn_os_zero_pages(r->base + at, end - at) != 0)
            return -1;
        if (i < EXN_VMEM_KEEP_RANGES)
            at = r->keep[i].to;
    }
    return 0;
}

/* The kept ranges of vm, page-aligned outwards, clamped to what is committed, sorted, not
 * overlapping; those over EXN_VMEM_KEEP_MAX in all are dropped. */
static void kept_pages(const exn_vmem_t *vm, size_t committed, exn_vmem_range_t *out)
{
    size_t page = exn_os_page_size(), total = 0, n = 0;
    memset(out, 0, EXN_VMEM_KEEP_RANGES * sizeof *out);
    for (size_t i = 0; i < EXN_VMEM_KEEP_RANGES; i++) {
        size_t from = vm->keep[i].from / page * page;
        size_t to = round_up(vm->keep[i].to, page);
        if (to > committed)
            to = committed;
        if (from >= to || total + (to - from) > EXN_VMEM_KEEP_MAX)
            continue;
        total += to - from;
        out[n].from = from;
        out[n].to = to;
        n++;
    }
    if (n == 2 && out[1].from < out[0].from) {
        exn_vmem_range_t t = out[0];
        out[0] = out[1];
        out[1] = t;
    }
    if (n == 2 && out[1].from < out[0].to) { /* overlapping: one range */
        if (out[1].to > out[0].to)
            out[0].to = out[1].to;
        memset(&out[1], 0, sizeof out[1]);
    }
}

/* Give back a region: cached when it is small enough, zeroed (but for its kept pages) and
 * there is room.  A file mapped at its start (exn_vmem_map_image) becomes zero pages first:
 * dropping such pages (exn_os_zero_pages) would show the file again, not zeros. */
static void release_region(uint8_t *base, size_t reserved, size_t committed,
                           const exn_vmem_t *keep_of)
{
    if (keep_of && keep_of->mapped && exn_os_remap_zero(base, keep_of->mapped) != 0) {
        exn_os_release(base, reserved);
        return;
    }
    cached_region_t region = {base, reserved, committed, {{0, 0}}};
    if (keep_of)
        kept_pages(keep_of, committed, region.keep);
    if (committed <= CACHE_MAX_COMMITTED && (committed == 0 || zero_unkept(&region) == 0) &&
        cache_put(&region))
        return;
    exn_os_release(base, reserved);
}

void exn_vmem_keep(exn_vmem_t *vm, size_t from, size_t to)
{
    for (size_t i = 0; i < EXN_VMEM_KEEP_RANGES; i++) {
        if (vm->keep[i].to == 0) {
            vm->keep[i].from = from;
            vm->keep[i].to = to;
            return;
        }
    }
}

void exn_vmem_init(exn_vmem_t *vm, size_t limit)
{
    memset(vm, 0, sizeof *vm);
    vm->limit = limit;
}

void exn_vmem_init_guarded(exn_vmem_t *vm, size_t limit, size_t reserve)
{
    memset(vm, 0, sizeof *vm);
    vm->limit = limit < reserve ? limit : reserve;
    vm->fixed_reserve = reserve;
}

/* Commit [vm->size, target) of the current reservation. */
static int commit_to(exn_vmem_t *vm, size_t target)
{
    size_t page = exn_os_page_size();
    size_t from = round_up(vm->size, page);
    size_t to = round_up(target, page);
    if (to > vm->reserved)
        to = vm->reserved;
    if (to > from && exn_os_commit(vm->base + from, to - from) != 0)
        return -1;
    vm->size = to;
    return 0;
}

exn_status_t exn_vmem_resize(exn_vmem_t *vm, size_t new_size)
{
    /* (a guarded region is reserved even at size 0: its guard pages must exist) */
    if (new_size <= vm->size && (vm->base || !vm->fixed_reserve))
        return EXN_OK;
    if (new_size > vm->limit)
        return EXN_ERR_NOMEM;

    size_t want = new_size + COMMIT_CHUNK < new_size ? new_size : new_size + COMMIT_CHUNK;
    if (want > vm->limit)
        want = vm->limit;
    if (vm->fixed_reserve)
        want = new_size; /* guard pages: nothing past the size may be accessible */

    if (vm->base && new_size <= vm->reserved)
        return commit_to(vm, want) == 0 || commit_to(vm, new_size) == 0 ? EXN_OK : EXN_ERR_NOMEM;

    /* First reservation, or growth past it: reserve as much as the region may ever need (capped),
     * falling back to smaller reservations if the address space is short. */
    size_t page = exn_os_page_size();
    size_t reserve = round_up(vm->limit < MAX_RESERVE ? vm->limit : MAX_RESERVE, page);
    size_t minimum = round_up(new_size, page);
    if (reserve < minimum)
        reserve = minimum;
    if (vm->fixed_reserve) {
        if (vm->base)
            return EXN_ERR_NOMEM; /* (cannot happen: new_size <= limit <= reserved) */
        reserve = minimum = round_up(vm->fixed_reserve, page);
    }
    uint8_t *base = NULL;
    size_t committed = 0;
    cached_region_t cached;
    if (cache_take(reserve, vm->limit, &cached)) {
        base = cached.base;
        committed = cached.committed;
        /* the last owner's kept pages are still resident with its bytes */
        for (size_t i = 0; i < EXN_VMEM_KEEP_RANGES; i++)
            memset(base + cached.keep[i].from, 0, cached.keep[i].to - cached.keep[i].from);
        size_t exact = round_up(new_size, page);
        if (vm->fixed_reserve && committed > exact) {
            /* guard pages start at the size: make the rest of the last owner's pages
             * inaccessible again */
            if (exn_os_decommit(base + exact, committed - exact) != 0) {
                exn_os_release(base, reserve);
                return EXN_ERR_NOMEM;
            }
            committed = exact;
        }
    }
    while (!base && reserve >= minimum) {
        base = exn_os_reserve(reserve);
        if (!base) {
            size_t half = round_up(reserve / 2, page);
            if (half >= reserve)
                break;
            reserve = half < minimum && reserve > minimum ? minimum : half;
        }
    }
    if (!base)
        return EXN_ERR_NOMEM;

    exn_vmem_t grown = *vm;
    grown.mapped = 0; /* (a copy: the new region is anonymous memory) */
    grown.base = base;
    grown.size = committed;
    grown.reserved = reserve;
    if (commit_to(&grown, want) != 0 && commit_to(&grown, new_size) != 0) {
        release_region(base, reserve, grown.size, NULL); /* (nothing of vm's was written) */
        return EXN_ERR_NOMEM;
    }
    if (vm->base) {
        memcpy(grown.base, vm->base, vm->size);
        release_region(vm->base, vm->reserved, vm->size, vm);
    }
    *vm = grown;
    return EXN_OK;
}

/* Below this, memset; above, whole pages are swapped for fresh zero pages (a guest that dirtied
 * gigabytes must not make every reset touch them all, and their memory goes back).  Fresh pages
 * cost a page fault each when used again, which is what a plugin called in a loop does: echo
 * of 1 MiB (2 MiB of kernel memory dirtied per call) took 13 ms a call with a 1 MiB threshold
 * and 7.5 ms with this one (compiled tier, loaded machine). */
#define ZERO_PAGES_MIN ((size_t)16 << 20)

void exn_vmem_zero(exn_vmem_t *vm, size_t offset, size_t len)
{
    if (offset >= vm->size)
        return;
    if (len > vm->size - offset)
        len = vm->size - offset;
    if (len >= ZERO_PAGES_MIN) {
        size_t page = exn_os_page_size();
        size_t from = round_up(offset, page);
        size_t to = (offset + len) / page * page;
        if (to > from && exn_os_zero_pages(vm->base + from, to - from) == 0) {
            memset(vm->base + offset, 0, from - offset);
            memset(vm->base + to, 0, offset + len - to);
            return;
        }
    }
    memset(vm->base + offset, 0, len);
}

exn_status_t exn_vmem_map_image(exn_vmem_t *vm, size_t len, intptr_t fd)
{
    if (!vm->base || len > vm->size || len % exn_os_page_size() != 0 || vm->mapped)
        return EXN_ERR_UNSUPPORTED;
    if (len == 0)
        return EXN_OK;
    if (exn_os_map_private(vm->base, len, fd) != 0)
        return EXN_ERR_UNSUPPORTED;
    vm->mapped = len;
    return EXN_OK;
}

void exn_vmem_free(exn_vmem_t *vm)
{
    if (vm->base)
        release_region(vm->base, vm->reserved, vm->size, vm);
    vm->base = NULL;
    vm->size = vm->reserved = vm->mapped = 0;
    memset(vm->keep, 0, sizeof vm->keep);
}
