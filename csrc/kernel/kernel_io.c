/* kernel_io.c: the input, output and error imports of extism:host/env (spec sections 1.4, 2.4).
 * The host copies each call's input into a kernel block before the call (plugin.c); the guest
 * reads it here and names its output and error blocks.
 * May call: kernel_mem.h through the plugin. */
#include "kernel.h"

/* input_length() -> i64: length of the call's input (0 after the input block was freed). */
EXN_IMPORT(kernel_input_length)
{
    exn_ret_u64(sp, exn_plugin_of(caller)->kmem.input_len);
    return NULL;
}

/* input_load_u8(i: i64) -> i32: byte i of the input, 0 past its end. */
EXN_IMPORT(kernel_input_load_u8)
{
    exn_kmem_t *k = &exn_plugin_of(caller)->kmem;
    uint64_t i = exn_arg_u64(sp, 1);
    exn_ret_u32(sp, i < k->input_len ? k->vm.base[k->input + i] : 0);
    return NULL;
}

/* input_load_u64(i: i64) -> i64: 8 bytes of the input at i (little-endian), 0 unless all 8 are
 * inside the input (no partial reads: PDKs read the tail with input_load_u8). */
EXN_IMPORT(kernel_input_load_u64)
{
    exn_kmem_t *k = &exn_plugin_of(caller)->kmem;
    uint64_t i = exn_arg_u64(sp, 1);
    bool inside = k->input_len >= 8 && i <= k->input_len - 8;
    exn_ret_u64(sp, inside ? exn_read_u64le(k->vm.base + k->input + i) : 0);
    return NULL;
}

/* input_offset() -> i64: the handle of the input block (0 for an empty input). */
EXN_IMPORT(kernel_input_offset)
{
    exn_ret_u64(sp, exn_plugin_of(caller)->kmem.input);
    return NULL;
}

/* input_set(h: i64, len: i64): make [h, h+len) the input; ignored unless inside the allocator's
 * region; (0, 0) is ignored. */
EXN_IMPORT(kernel_input_set)
{
    exn_kmem_t *k = &exn_plugin_of(caller)->kmem;
    uint64_t h = exn_arg_u64(sp, 0), len = exn_arg_u64(sp, 1);
    if (exn_kmem_in_region(k, h, len)) {
        k->input = h;
        k->input_len = len;
    }
    return NULL;
}

/* output_set(h: i64, len: i64): the call's output is [h, h+len).  Accepted if the range lies in
 * the allocator's region (h need not be a block); otherwise the previous output stays. */
EXN_IMPORT(kernel_output_set)
{
    exn_kmem_t *k = &exn_plugin_of(caller)->kmem;
    uint64_t h = exn_arg_u64(sp, 0), len = exn_arg_u64(sp, 1);
    if (exn_kmem_in_region(k, h, len)) {
        k->output = h;
        k->output_len = len;
    }
    return NULL;
}

/* output_length() -> i64 and output_offset() -> i64: read back the output registers. */
EXN_IMPORT(kernel_output_length)
{
    exn_ret_u64(sp, exn_plugin_of(caller)->kmem.output_len);
    return NULL;
}

EXN_IMPORT(kernel_output_offset)
{
    exn_ret_u64(sp, exn_plugin_of(caller)->kmem.output);
    return NULL;
}

/* error_set(h: i64): the call fails with the text of block h.  0 clears the error; a handle
 * outside the allocator's region is ignored; one inside it but not a block gives an empty text. */
EXN_IMPORT(kernel_error_set)
{
    exn_kmem_t *k = &exn_plugin_of(caller)->kmem;
    uint64_t h = exn_arg_u64(sp, 0);
    if (h == 0 || exn_kmem_in_region(k, h, 1))
        k->error = h;
    return NULL;
}

/* error_get() -> i64: the error handle (0 if none). */
EXN_IMPORT(kernel_error_get)
{
    exn_ret_u64(sp, exn_plugin_of(caller)->kmem.error);
    return NULL;
}
