;; bench.wat: workloads for bench/run.py, written the way PDKs move data.
;;   noop:          nothing
;;   echo:          output = input, copied through kernel memory 8 bytes at a time
;;                  (input_load_u64 / store_u64), tail byte by byte - as the Rust PDK does
;;   count_vowels:  copies the input into linear memory (8-byte chunks), counts the bytes in
;;                  "aeiouAEIOU" in a tight wasm loop, outputs the count as a u64
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "noop") (result i32) (i32.const 0))
  (func (export "echo") (result i32)
    (local $n i64) (local $i i64) (local $h i64)
    (local.set $n (call $input_length))
    (local.set $h (call $alloc (local.get $n)))
    (block $done (loop $l
      (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $n)))
      (call $store_u64 (i64.add (local.get $h) (local.get $i)) (call $input_load_u64 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $l)))
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $h) (local.get $i)) (call $input_load_u8 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (call $output_set (local.get $h) (local.get $n))
    (i32.const 0))
  (func (export "count_vowels") (result i32)
    (local $n i64) (local $i i64) (local $p i32) (local $end i32) (local $c i32)
    (local $count i64) (local $h i64) (local $need i32)
    (local.set $n (call $input_length))
    ;; room for the input at address 1024
    (local.set $need (i32.wrap_i64 (i64.shr_u (i64.add (local.get $n) (i64.const 66559)) (i64.const 16))))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (block $done (loop $l
      (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $n)))
      (i64.store (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $i))) (call $input_load_u64 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $l)))
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $i))) (call $input_load_u8 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (local.set $p (i32.const 1024))
    (local.set $end (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $n))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $c (i32.or (i32.load8_u (local.get $p)) (i32.const 32)))
      (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 97)) (i32.eq (local.get $c) (i32.const 101)))
                  (i32.or (i32.or (i32.eq (local.get $c) (i32.const 105)) (i32.eq (local.get $c) (i32.const 111)))
                          (i32.eq (local.get $c) (i32.const 117))))
        (then (local.set $count (i64.add (local.get $count) (i64.const 1)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (local.set $h (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $h) (local.get $count))
    (call $output_set (local.get $h) (i64.const 8))
    (i32.const 0))
)
