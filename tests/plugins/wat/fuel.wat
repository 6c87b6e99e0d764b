;; fuel.wat: fuel, one unit per wasm function entry and per loop entry (tests/unit/test_fuel.py).
;;   forever: `loop br 0` - never returns, makes no calls
;;   work:    N = the input as a little-endian u64; for i in 0..N: acc += $step(i) (a call), an
;;            inner loop of 3 iterations, and $step(i) again through call_indirect when i % 4 is
;;            0; outputs acc.  Fuel: 1 (work) + N + 1 (outer loop entries) + N ($step) + 3N
;;            (inner loop entries) + (N + 3) / 4 (call_indirect) + 1 ($out)
;;   fib:     fib(N) by naive recursion, output as u64.  Fuel: 2 + the calls of $fib
;;   ping:    N calls of the host function extism:host/user::ping in a loop; outputs their sum.
;;            Fuel: 1 + N + 1 + 1 (the host function costs nothing)
;;   trap_unreachable, trap_oob, trap_fill: N = the input; a function that calls nothing loops
;;            N times, then traps: unreachable, a load past the end of memory, a memory.fill
;;            past it.  Fuel at the trap: 1 (the export) + 1 (the looping function) + N + 1
(module
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/user" "ping" (func $ping (param i64) (result i64)))
  (type $t (func (param i64) (result i64)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $step)
  (func $step (type $t) (i64.mul (local.get 0) (i64.const 3)))
  (func $out (param $v i64)
    (local $h i64)
    (local.set $h (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $h) (local.get $v))
    (call $output_set (local.get $h) (i64.const 8)))
  (func (export "forever") (result i32)
    (loop $l (br $l))
    (i32.const 0))
  (func (export "work") (result i32)
    (local $n i64) (local $i i64) (local $acc i64) (local $j i32)
    (local.set $n (call $input_load_u64 (i64.const 0)))
    (block $done
      (loop $l
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (call $step (local.get $i))))
        (local.set $j (i32.const 0))
        (loop $inner
          (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $j))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $inner (i32.lt_u (local.get $j) (i32.const 3))))
        (if (i64.eqz (i64.and (local.get $i) (i64.const 3)))
          (then
            (local.set $acc
              (i64.add (local.get $acc)
                       (call_indirect (type $t) (local.get $i) (i32.const 0))))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $l)))
    (call $out (local.get $acc))
    (i32.const 0))
  (func $fib (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add (call $fib (i64.sub (local.get $n) (i64.const 1)))
                     (call $fib (i64.sub (local.get $n) (i64.const 2)))))))
  (func (export "fib") (result i32)
    (call $out (call $fib (call $input_load_u64 (i64.const 0))))
    (i32.const 0))
  (func (export "ping") (result i32)
    (local $n i64) (local $i i64) (local $sum i64)
    (local.set $n (call $input_load_u64 (i64.const 0)))
    (block $done
      (loop $l
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i64.add (local.get $sum) (call $ping (local.get $i))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $l)))
    (call $out (local.get $sum))
    (i32.const 0))
  (func $spin_unreachable (param $n i64)
    (local $i i64)
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (unreachable))
  (func $spin_oob (param $n i64) (result i32)
    (local $i i64) (local $acc i32)
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i32.add (local.get $acc) (i32.load8_u (i32.wrap_i64 (local.get $i)))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (i32.add (local.get $acc) (i32.load (i32.const 65534))))
  (func $spin_fill (param $n i64)
    (local $i i64)
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (memory.fill (i32.const 65000) (i32.const 7) (i32.const 1000)))
  (func (export "trap_unreachable") (result i32)
    (call $spin_unreachable (call $input_load_u64 (i64.const 0)))
    (i32.const 0))
  (func (export "trap_oob") (result i32)
    (drop (call $spin_oob (i64.and (call $input_load_u64 (i64.const 0)) (i64.const 0xffff))))
    (i32.const 0))
  (func (export "trap_fill") (result i32)
    (call $spin_fill (call $input_load_u64 (i64.const 0)))
    (i32.const 0))
)
