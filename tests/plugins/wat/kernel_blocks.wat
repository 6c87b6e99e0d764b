;; kernel_blocks.wat: many small kernel blocks, for tests/kernel/test_kernel_scale.py (issue 14
;; item 8: what the kernel's bookkeeping costs per block, and that allocation stays linear).
;; "alloc_n" reads a little-endian u64 N from the input, calls alloc(1) N times (without
;; freeing) and outputs the last handle as a little-endian u64 (0: an allocation failed).
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (func (export "alloc_n") (result i32)
    (local $n i64) (local $h i64) (local $out i64)
    (local.set $n (call $input_load_u64 (i64.const 0)))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $h (call $alloc (i64.const 1)))
        (br_if $done (i64.eqz (local.get $h)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.set $out (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $out) (local.get $h))
    (call $output_set (local.get $out) (i64.const 8))
    (i32.const 0))
)
