;; tier_table.wat: code that changes its table (table.set): an instance of it cannot move from
;; the interpreter to compiled code (the table's contents are engine values), so it stays; a
;; new instance uses compiled code.
;;   swap: sets table[0] to the other function on each call, outputs what table[0] returns
;;         (7, 42, 7, ...) as a little-endian u64
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
    (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (type $get (func (result i32)))
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (elem (i32.const 0) func $seven)
  (elem declare func $forty_two)
  (func $seven (result i32) (i32.const 7))
  (func $forty_two (result i32) (i32.const 42))
  (func (export "swap") (result i32)
    (local $h i64)
    (if (i32.eq (call_indirect (type $get) (i32.const 0)) (i32.const 7))
      (then (table.set $t (i32.const 0) (ref.func $forty_two)))
      (else (table.set $t (i32.const 0) (ref.func $seven))))
    (local.set $h (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $h) (i64.extend_i32_u (call_indirect (type $get) (i32.const 0))))
    (call $output_set (local.get $h) (i64.const 8))
    (i32.const 0))
)
