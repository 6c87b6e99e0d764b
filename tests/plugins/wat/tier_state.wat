;; tier_state.wat: state that must survive the move of an instance from the interpreter to
;; compiled code (auto tier): a mutable global, a counter in linear memory, memory grown at run
;; time, and a table the code only reads.
;;   count: global += 1, mem[1024] += 1; on the first call grows memory by 3 pages and writes
;;          0x5A at its last byte; outputs (global, mem[1024], memory pages, last byte, the
;;          table's function 1 called) as five little-endian u64
;;   spin:  loops N times (N = the input as a little-endian u64), outputs N as a u64
(module
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
    (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (type $get (func (result i32)))
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $seven $forty_two)
  (func $seven (result i32) (i32.const 7))
  (func $forty_two (result i32) (i32.const 42))
  (func (export "count") (result i32)
    (local $h i64) (local $last i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.store (i32.const 1024) (i32.add (i32.load (i32.const 1024)) (i32.const 1)))
    (if (i32.eq (memory.size) (i32.const 1))
      (then
        (drop (memory.grow (i32.const 3)))
        (i32.store8 (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1))
                    (i32.const 0x5A))))
    (local.set $last (i32.load8_u (i32.sub (i32.mul (memory.size) (i32.const 65536))
                                           (i32.const 1))))
    (local.set $h (call $alloc (i64.const 40)))
    (call $store_u64 (local.get $h) (i64.extend_i32_u (global.get $g)))
    (call $store_u64 (i64.add (local.get $h) (i64.const 8))
                     (i64.extend_i32_u (i32.load (i32.const 1024))))
    (call $store_u64 (i64.add (local.get $h) (i64.const 16)) (i64.extend_i32_u (memory.size)))
    (call $store_u64 (i64.add (local.get $h) (i64.const 24)) (i64.extend_i32_u (local.get $last)))
    (call $store_u64 (i64.add (local.get $h) (i64.const 32))
                     (i64.extend_i32_u (call_indirect (type $get) (i32.const 1))))
    (call $output_set (local.get $h) (i64.const 40))
    (i32.const 0))
  (func (export "spin") (result i32)
    (local $n i64) (local $i i64) (local $h i64)
    (local.set $n (call $input_load_u64 (i64.const 0)))
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (local.set $h (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $h) (local.get $i))
    (call $output_set (local.get $h) (i64.const 8))
    (i32.const 0))
)
