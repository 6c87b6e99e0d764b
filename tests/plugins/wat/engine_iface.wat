;; engine_iface.wat: the engine interface (csrc/engine/engine.h) exercised from C, without the
;; runtime, by tests/c/test_engine.c: values of every type through calls and an import, linear
;; memory and its growth, globals, every kind of trap, where a trap happened, interrupts.
;; Function indices (the test names them): 0 echo4, 1 fail (imports); 2 id4, 3 via_host,
;; 4 grow, 5 size, 6 load, 7 inner, 8 middle, 9 outer, 10 div, 11 oob, 12 spin,
;; 13 recurse, 14 host_trap, 15 call_null.
(module
  (type $four (func (param i32 i64 f32 f64) (result i32 i64 f32 f64)))
  (import "host" "echo4" (func $echo4 (type $four)))
  (import "host" "fail" (func $fail))
  (memory (export "memory") 1 4)
  (table 1 funcref)
  (global $g (export "g") (mut i64) (i64.const 7))
  (global $gi (export "gi") (mut i32) (i32.const -1))
  (global $gf f32 (f32.const 2.5))
  (data (i32.const 100) "abc")

  (func (export "id4") (type $four)
    (local.get 0) (local.get 1) (local.get 2) (local.get 3))
  (func (export "via_host") (type $four)
    (call $echo4 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func $inner (unreachable))
  (func $middle (call $inner))
  (func (export "outer") (call $middle))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "oob") (drop (i32.load (i32.const -1))))
  (func (export "spin") (loop (br 0)))
  (func $recurse (export "recurse") (call $recurse))
  (func (export "host_trap") (call $fail))
  (func (export "call_null") (call_indirect (i32.const 0)))
)
