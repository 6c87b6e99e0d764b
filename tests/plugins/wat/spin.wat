;; spin.wat: compute-bound guest code for thread and timeout tests.
;;   spin:    loops N times (N = the input as a little-endian u64; 0 if shorter) and outputs N
;;   forever: `loop br 0` - never returns, makes no calls
;;   big_memory: declares 256 pages (16 MiB) of linear memory and touches one page
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 256)
  (func (export "spin") (result i32)
    (local $n i64) (local $i i64) (local $acc i64) (local $h i64)
    (local.set $n (call $input_load_u64 (i64.const 0)))
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i64.add (local.get $acc) (i64.xor (local.get $i) (i64.const 0x5555))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (local.set $h (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $h) (local.get $i))
    (call $output_set (local.get $h) (i64.const 8))
    (i32.const 0))
  (func (export "forever") (result i32)
    (loop $l (br $l))
    (i32.const 0))
  (func (export "touch") (result i32)
    (i64.store (i32.const 8000000) (i64.const 1))
    (i32.const 0))
)
