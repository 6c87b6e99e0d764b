;; native_engine.wat: the engine-level behaviours the compiled tier must share with wasm3, one
;; export each (tests/native/test_native.c): every trap, bounds at the end of memory and past
;; 4 GiB (address + offset), memory.grow against the module's and the host's maximum,
;; call_indirect's three traps, unbounded recursion (also as a tail call), a loop only an
;; interrupt stops, and a host function (which may call another instance) in between.
(module
  (import "test" "callback" (func $callback (param i32) (result i32)))
  (type $t_i32 (func (result i32)))
  (memory (export "memory") 1 4)
  (table 4 funcref)
  (elem (i32.const 0) $seven $eight)
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (func $seven (result i32) (i32.const 7))
  (func $eight (result i64) (i64.const 8))
  (func (export "unreachable") unreachable)
  (func (export "div0") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func (export "overflow") (param i32) (result i32) (i32.div_s (i32.const 0x80000000) (local.get 0)))
  (func (export "conversion") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load_far") (param i32) (result i32) (i32.load offset=0xFFFFFFF0 (local.get 0)))
  (func (export "store") (param i32) (i32.store (local.get 0) (i32.const 0x01020304)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "indirect") (param i32) (result i32) (call_indirect (type $t_i32) (local.get 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func $tail (export "tail") (param i32) (result i32) (call $tail (local.get 0)))
  (func (export "forever")
    (loop $l (global.set $counter (i32.add (global.get $counter) (i32.const 1))) (br $l)))
  (func (export "callback") (param i32) (result i32)
    (i32.add (call $callback (local.get 0)) (i32.const 1000)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
)
