;; engine_unreachable.wat: valid code wasm3 0.5.0's compiler mis-tracked (patch 0015), for
;; tests/unit/test_engine.py.  Each export returns 0 before its unreachable part, which only
;; has to compile; "loop_branch" runs its pattern.
(module
  (type $i_i (func (param i32) (result i32)))
  (type $ii_i (func (param i32 i64) (result f32 f64 i32)))
  (type $ll_l (func (param i64 i64) (result i64)))
  (memory 1)

  ;; blocks taking parameters from the empty polymorphic stack (m3Slots [0xffff] was written)
  (func (export "block_params") (result i32)
    (return (i32.const 0))
    (block (type $i_i)) (drop)
    (loop (type $i_i)) (drop)
    (if (type $i_i) (i32.const 1) (then) (else)) (drop)
    (block (param i64 i64) (result i64) (i64.add)) (drop)
    (i32.const 1))

  ;; br_if to a loop with parameters, in unreachable code ("incorrect value count")
  (func (export "loop_br_if") (result i32)
    (i64.const 1) (i64.const 2)
    (loop (type $ll_l)
      (block (return (i32.const 0)) (br_if 1 (i32.const 1)) (drop) (drop))
      (i64.add))
    (drop)
    (i32.const 1))

  ;; values in both registers left behind by a return in an unreachable block
  ;; ("no operation found for opcode")
  (func (export "return_in_dead_block") (result i32)
    (return (i32.const 0))
    (if (type $ii_i)
      (then
        (f64.load (i32.const 8))
        (memory.grow (i32.const 0))
        (return (i32.const 0))
        (i32.add))
      (else (drop) (drop) (f32.const 1) (f64.const 2) (i32.const 3)))
    (drop) (drop) (drop)
    (i32.const 1))

  ;; br to a loop must drop the values on the stack, registers included
  (func (export "loop_branch") (result i32)
    (local $n i32)
    (block $out
      (loop $again
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $out (i32.ge_u (local.get $n) (i32.const 3)))
        (f64.load (i32.const 8))
        (memory.size)
        (br $again)
        (i32.add)
        (drop)))
    (i32.sub (local.get $n) (i32.const 3)))
)
