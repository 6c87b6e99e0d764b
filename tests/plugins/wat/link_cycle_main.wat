;; link_cycle_main.wat: imports the memory of the module named "cyc" (link_cycle_lib.wat), which
;; imports this module's function $triple in turn: a cycle through a function import, which
;; loads whatever the modules' order in the manifest (issue 17).  The start function calls into
;; cyc, so it needs cyc instantiated first.
(module
  (import "cyc" "memory" (memory 1))
  (import "cyc" "peek" (func $peek (param i32) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (global (export "g") i32 (i32.const 5))
  (func (export "triple") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  ;; cyc's peek(0) writes 1 at 4 (word 0 + 1)
  (func $start (drop (call $peek (i32.const 0))))
  (start $start)
  ;; outputs: word 4 (set by the start function), peek(16) after main wrote 21 at 16 (cyc reads
  ;; it from the same memory and calls triple: 63), word 20 (written by cyc: 22)
  (func (export "run") (result i32)
    (local $h i64)
    (local.set $h (call $alloc (i64.const 24)))
    (call $store_u64 (local.get $h) (i64.load32_s (i32.const 4)))
    (i32.store (i32.const 16) (i32.const 21))
    (call $store_u64 (i64.add (local.get $h) (i64.const 8))
                     (i64.extend_i32_s (call $peek (i32.const 16))))
    (call $store_u64 (i64.add (local.get $h) (i64.const 16)) (i64.load32_s (i32.const 20)))
    (call $output_set (local.get $h) (i64.const 24))
    (i32.const 0))
)
