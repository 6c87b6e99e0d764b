;; wat2wasm: --enable-tail-call
;; wasm3_tail_call.wat: tail calls (return_call, return_call_indirect; WebAssembly 3.0), for
;; tests/unit/test_wasm3_features.py.  The recursions run 10 million calls deep: they finish
;; only if a tail call replaces its caller's frame (neither the value stack nor the native stack
;; may grow).  Every export checks in the guest and returns 0, or the number of the first check
;; that failed.
(module
  (type $i64i64_i64 (func (param i64 i64) (result i64)))
  (type $i32_i32 (func (param i32) (result i32)))
  (type $v_i32 (func (result i32)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $even $odd $sum_ind $ret7)
  (global $calls (mut i32) (i32.const 0))

  ;; sum of 1..n, tail-recursive with an accumulator (a function calling itself)
  (func $sum (type $i64i64_i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call $sum (i64.sub (local.get 0) (i64.const 1))
                              (i64.add (local.get 1) (local.get 0))))))

  ;; mutual recursion: even/odd through each other, with locals and a constant of their own
  (func $even (type $i32_i32) (local $k i32)
    (local.set $k (i32.const 1))
    (if (i32.eqz (local.get 0)) (then (return (i32.const 1))))
    (return_call $odd (i32.sub (local.get 0) (local.get $k))))
  (func $odd (type $i32_i32) (local $k i64) (local $m f64)
    (if (i64.ne (local.get $k) (i64.const 0)) (then (unreachable)))  ;; locals start at zero
    (local.set $k (i64.const 99))
    (local.set $m (f64.const 1.5))
    (if (i32.eqz (local.get 0)) (then (return (i32.const 0))))
    (return_call $even (i32.sub (local.get 0) (i32.const 1))))

  ;; through the table: the same sum, each step a return_call_indirect
  (func $sum_ind (type $i64i64_i64)
    (if (i64.eqz (local.get 0)) (then (return (local.get 1))))
    (return_call_indirect $t (type $i64i64_i64)
      (i64.sub (local.get 0) (i64.const 1)) (i64.add (local.get 1) (local.get 0))
      (i32.const 2)))

  (func $ret7 (type $v_i32) (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.const 7))

  ;; a tail call in the middle of a function: nothing after it runs
  (func $early (param i32) (result i32)
    (if (local.get 0) (then (return_call $ret7)))
    (global.set $calls (i32.const 1000))
    (i32.const 8))

  ;; into an import, with its result as the caller's
  (func $len (result i64) (return_call $input_length))

  ;; argument shuffling: many parameters of mixed types, moved into the caller's frame
  (func $mix (param i32 i64 f32 f64 i32 i64) (result i64)
    (i64.add
      (i64.add (i64.extend_i32_u (local.get 0)) (local.get 1))
      (i64.add (i64.trunc_f32_s (local.get 2))
               (i64.add (i64.trunc_f64_s (local.get 3))
                        (i64.add (i64.extend_i32_u (local.get 4)) (local.get 5))))))
  (func $mix_caller (param i32) (result i64) (local i64 i64 i64)
    (local.set 1 (i64.const 100))
    (return_call $mix (i32.const 1) (i64.const 20) (f32.const 300) (f64.const 4000)
                      (local.get 0) (local.get 1)))

  (func (export "self") (result i32)
    (if (i64.ne (call $sum (i64.const 10000000) (i64.const 0)) (i64.const 50000005000000))
      (then (return (i32.const 1))))
    (i32.const 0))

  (func (export "mutual") (result i32)
    (if (i32.ne (call $even (i32.const 10000000)) (i32.const 1)) (then (return (i32.const 1))))
    (if (i32.ne (call $even (i32.const 10000001)) (i32.const 0)) (then (return (i32.const 2))))
    (if (i32.ne (call $odd (i32.const 7)) (i32.const 1)) (then (return (i32.const 3))))
    (i32.const 0))

  (func (export "indirect") (result i32)
    (if (i64.ne (call $sum_ind (i64.const 10000000) (i64.const 0)) (i64.const 50000005000000))
      (then (return (i32.const 1))))
    (if (i32.ne (call_indirect $t (type $i32_i32) (i32.const 1000001) (i32.const 0)) (i32.const 0))
      (then (return (i32.const 2))))
    (i32.const 0))

  (func (export "early") (result i32)
    (global.set $calls (i32.const 0))
    (if (i32.ne (call $early (i32.const 1)) (i32.const 7)) (then (return (i32.const 1))))
    (if (i32.ne (global.get $calls) (i32.const 1)) (then (return (i32.const 2))))
    (if (i32.ne (call $early (i32.const 0)) (i32.const 8)) (then (return (i32.const 3))))
    (if (i32.ne (global.get $calls) (i32.const 1000)) (then (return (i32.const 4))))
    (i32.const 0))

  (func (export "import") (result i32)
    (if (i64.ne (call $len) (call $input_length)) (then (return (i32.const 1))))
    (i32.const 0))

  (func (export "args") (result i32)
    (if (i64.ne (call $mix_caller (i32.const 50000)) (i64.const 54421))
      (then (return (i32.const 1))))
    (i32.const 0))

  ;; an export that is itself replaced: its caller is the host (even(1001) is 0)
  (func (export "top") (result i32) (return_call $even (i32.const 1001)))

  ;; traps through a tail call: type mismatch, null slot, out of range
  (func (export "bad_type") (result i32)
    (return_call_indirect $t (type $v_i32) (i32.const 0)))
  (func (export "null_slot") (result i32)
    (table.set $t (i32.const 3) (ref.null func))
    (return_call_indirect $t (type $v_i32) (i32.const 3)))
  (func (export "out_of_range") (result i32)
    (return_call_indirect $t (type $v_i32) (i32.const 4)))

  ;; a tail-recursive loop without end: stopped by a timeout, not by a stack overflow
  (func $forever (param i64) (result i32) (return_call $forever (i64.add (local.get 0) (i64.const 1))))
  (func (export "forever") (result i32) (call $forever (i64.const 0)))
)
