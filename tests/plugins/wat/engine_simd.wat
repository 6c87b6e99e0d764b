;; engine_simd.wat: v128 values through the engine interface (csrc/engine/engine.h), from C, by
;; tests/c/test_engine.c: a v128 takes two slots (bytes 0-7, then bytes 8-15 of the vector,
;; each read as a little-endian number) among the others, in calls and in globals.  The
;; compiled tier refuses the module (no SIMD there), naming SIMD.
(module
  (global $v (export "v") (mut v128) (v128.const i32x4 1 2 3 4))
  (global $n (export "n") (mut i32) (i32.const 5))
  ;; (i32 a, v128 v, i64 x) -> (v + splat(a), lane 3 of v, x)
  (func (export "mix") (param i32 v128 i64) (result v128 i32 i64)
    (i32x4.add (local.get 1) (i32x4.splat (local.get 0)))
    (i32x4.extract_lane 3 (local.get 1))
    (local.get 2))
  (func (export "get") (result v128) (global.get $v))
  (func (export "set") (param v128) (global.set $v (local.get 0)))
)
