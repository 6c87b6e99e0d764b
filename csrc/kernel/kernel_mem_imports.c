/* kernel_mem_imports.c: the memory imports of extism:host/env (spec section 2.2): alloc, free,
 * length, load/store, reset, memory_bytes - the allocator of kernel_mem.c as the guest sees it.
 * Loads and stores outside the memory (or into the first 64 bytes) read 0 and are ignored, as
 * in the official kernel - without its off-by-one trap at the very end of memory.
 * May call: kernel.h (the context), kernel_mem.h. */
#include "kernel.h"

/* alloc(n: i64) -> i64: a block of exactly n bytes, 0 for n == 0 or when memory is full. */
EXN_IMPORT(kernel_alloc)
{
    exn_ret_u64(sp, exn_kmem_alloc(&exn_kernel_of(caller)->kmem, exn_arg_u64(sp, 1)));
    return NULL;
}

/* free(h: i64): frees a live block; anything else (0, freed, interior, out of range) is ignored. */
EXN_IMPORT(kernel_free)
{
    exn_kmem_free_block(&exn_kernel_of(caller)->kmem, exn_arg_u64(sp, 0));
    return NULL;
}

/* length(h: i64) -> i64: the block's size, 0 if h is not the start of a live block. */
EXN_IMPORT(kernel_length)
{
    exn_ret_u64(sp, exn_kmem_length(&exn_kernel_of(caller)->kmem, exn_arg_u64(sp, 1)));
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
    exn_kmem_t *k = &exn_kernel_of(caller)->kmem;
    uint64_t a = exn_arg_u64(sp, 1);
    exn_ret_u32(sp, exn_kmem_in_bounds(k, a, 1) ? k->vm.base[a] : 0);
    return NULL;
}

/* load_u64(addr: i64) -> i64: little-endian, unaligned allowed. */
EXN_IMPORT(kernel_load_u64)
{
    exn_kmem_t *k = &exn_kernel_of(caller)->kmem;
    uint64_t a = exn_arg_u64(sp, 1);
    exn_ret_u64(sp, exn_kmem_in_bounds(k, a, 8) ? exn_read_u64le(k->vm.base + a) : 0);
    return NULL;
}

/* store_u8(addr: i64, byte: i32) */
EXN_IMPORT(kernel_store_u8)
{
    exn_kmem_t *k = &exn_kernel_of(caller)->kmem;
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
    exn_kmem_t *k = &exn_kernel_of(caller)->kmem;
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
    exn_kmem_reset(&exn_kernel_of(caller)->kmem);
    return NULL;
}

/* memory_bytes() -> i64: the allocator's managed capacity (not the bytes in use). */
EXN_IMPORT(kernel_memory_bytes)
{
    exn_ret_u64(sp, exn_kmem_capacity(&exn_kernel_of(caller)->kmem));
    return NULL;
}
