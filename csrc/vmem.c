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

void exn_vmem_init(exn_vmem_t *vm, size_t limit)
{
    memset(vm, 0, sizeof *vm);
    vm->limit = limit;
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
    if (new_size <= vm->size)
        return EXN_OK;
    if (new_size > vm->limit)
        return EXN_ERR_NOMEM;

    size_t want = new_size + COMMIT_CHUNK < new_size ? new_size : new_size + COMMIT_CHUNK;
    if (want > vm->limit)
        want = vm->limit;

    if (vm->base && new_size <= vm->reserved)
        return commit_to(vm, want) == 0 || commit_to(vm, new_size) == 0 ? EXN_OK : EXN_ERR_NOMEM;

    /* First reservation, or growth past it: reserve as much as the region may ever need (capped),
     * falling back to smaller reservations if the address space is short. */
    size_t page = exn_os_page_size();
    size_t reserve = round_up(vm->limit < MAX_RESERVE ? vm->limit : MAX_RESERVE, page);
    size_t minimum = round_up(new_size, page);
    if (reserve < minimum)
        reserve = minimum;
    uint8_t *base = NULL;
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

    exn_vmem_t grown = {base, 0, reserve, vm->limit};
    if (commit_to(&grown, want) != 0 && commit_to(&grown, new_size) != 0) {
        exn_os_release(base, reserve);
        return EXN_ERR_NOMEM;
    }
    if (vm->base) {
        memcpy(grown.base, vm->base, vm->size);
        exn_os_release(vm->base, vm->reserved);
    }
    *vm = grown;
    return EXN_OK;
}

/* Below this, memset; above, whole pages are swapped for fresh zero pages (a guest that dirtied
 * gigabytes must not make every reset touch them all, and their memory goes back). */
#define ZERO_PAGES_MIN ((size_t)1 << 20)

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

void exn_vmem_free(exn_vmem_t *vm)
{
    if (vm->base)
        exn_os_release(vm->base, vm->reserved);
    vm->base = NULL;
    vm->size = vm->reserved = 0;
}
