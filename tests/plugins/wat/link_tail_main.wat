;; wat2wasm: --enable-tail-call
;; link_tail_main.wat: tail calls into another module (link_tail_lib.wat, "tl"): return_call of
;; its imported function, return_call_indirect through its table.  Word 0 of this module's own
;; memory is 2.  ping(n, acc) = acc when n is 0, else pong(n - 1, acc + word 0 here) (tl's
;; element 0).  Each export takes n (a u64, little-endian) as input and outputs a u64.
(module
  (import "tl" "table" (table 3 funcref))
  (import "tl" "add_mem" (func $add_mem (param i32) (result i32)))
  (import "extism:host/env" "input_load_u64" (func $in_u64 (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory 1)
  (data (i32.const 0) "\02\00\00\00")
  (type $pp (func (param i32 i32) (result i32)))
  (elem (i32.const 1) $ping)
  (func $ping (type $pp)
    (if (result i32) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_indirect (type $pp)
              (i32.sub (local.get 0) (i32.const 1))
              (i32.add (local.get 1) (i32.load (i32.const 0)))
              (i32.const 0)))))
  (func $out (param i32) (result i32)
    (local $h i64)
    (local.set $h (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $h) (i64.extend_i32_u (local.get 0)))
    (call $output_set (local.get $h) (i64.const 8))
    (i32.const 0))
  (func $n (result i32) (i32.wrap_i64 (call $in_u64 (i64.const 0))))
  ;; n + tl's word 0, by a tail call of tl's add_mem
  (func $via_import (param i32) (result i32) (return_call $add_mem (local.get 0)))
  (func (export "add_mem") (result i32) (call $out (call $via_import (call $n))))
  ;; ping(n, 0), starting here
  (func (export "ping") (result i32) (call $out (call $ping (call $n) (i32.const 0))))
  ;; pong(n, 0), starting in tl by a tail call from here
  (func $to_pong (param i32) (result i32)
    (return_call_indirect (type $pp) (local.get 0) (i32.const 0) (i32.const 0)))
  (func (export "pong") (result i32) (call $out (call $to_pong (call $n))))
  ;; a tail call of tl's element 2 (it traps)
  (func $to_trap (result i32)
    (return_call_indirect (type $pp) (i32.const 0) (i32.const 0) (i32.const 2)))
  (func (export "trap") (result i32) (call $out (call $to_trap)))
  (func (export "word") (result i32) (call $out (i32.load (i32.const 0))))
)
