;; kernel_ops.wat: runs a program of kernel calls given as the input, for the model-based and
;; differential kernel tests (tests/kernel/).  The input is a sequence of 18-byte records:
;;
;;   offset 0  u8   op      bits 0-4: the operation (below); bit 7: "guarded" - skip the
;;                          operation (result 0) when the slot's handle is 0
;;   offset 1  u8   slot    0xff: a = x; else a = handles[slot % count] + x (wrapping)
;;   offset 2  u64  x
;;   offset 10 u64  y       the value of stores
;;
;; operations: 0 alloc(a), 1 free(a), 2 length(a), 3 length_unsafe(a), 4 load_u8(a),
;; 5 load_u64(a), 6 store_u8(a, y), 7 store_u64(a, y), 8 input_length(), 9 input_load_u8(a),
;; 10 input_load_u64(a), 11 input_offset(), 12 reset(), 13 input_set(a, y)
;;
;; alloc and input_offset append their result to the handle table (at most 256 entries).  The
;; program is copied into linear memory first (a reset or a free of the input block must not
;; cut it off).  The output is one little-endian u64 per record: the operation's result, 0 for
;; operations without one.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "length_unsafe" (func $length_unsafe (param i64) (result i64)))
  (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
  (import "extism:host/env" "load_u64" (func $load_u64 (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "input_set" (func $input_set (param i64 i64)))
  (import "extism:host/env" "reset" (func $reset))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))

  ;; 0..2047: handle table; 4096..65535: results; 65536..: the program
  (memory (export "memory") 3)

  (func $push (param $h i64) (param $count i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $count) (i32.const 256))
      (then
        (i64.store (i32.shl (local.get $count) (i32.const 3)) (local.get $h))
        (i32.add (local.get $count) (i32.const 1)))
      (else (local.get $count))))

  (func (export "run") (result i32)
    (local $n i64) (local $i i64) (local $ops i32) (local $k i32) (local $p i32)
    (local $op i32) (local $slot i32) (local $x i64) (local $y i64) (local $a i64)
    (local $base i64) (local $r i64) (local $count i32) (local $h i64)
    (local.set $n (call $input_length))
    (if (i64.gt_u (local.get $n) (i64.const 131072)) (then (return (i32.const 2))))
    ;; copy the program into linear memory
    (block $done (loop $l
      (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $n)))
      (i64.store (i32.add (i32.const 65536) (i32.wrap_i64 (local.get $i)))
        (call $input_load_u64 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $l)))
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (i32.const 65536) (i32.wrap_i64 (local.get $i)))
        (call $input_load_u8 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (local.set $ops (i32.wrap_i64 (i64.div_u (local.get $n) (i64.const 18))))
    (if (i32.gt_u (local.get $ops) (i32.const 7680)) (then (return (i32.const 2))))

    (block $end (loop $next
      (br_if $end (i32.ge_u (local.get $k) (local.get $ops)))
      (local.set $p (i32.add (i32.const 65536) (i32.mul (local.get $k) (i32.const 18))))
      (local.set $op (i32.load8_u (local.get $p)))
      (local.set $slot (i32.load8_u offset=1 (local.get $p)))
      (local.set $x (i64.load offset=2 (local.get $p)))
      (local.set $y (i64.load offset=10 (local.get $p)))
      (local.set $base (i64.const 0))
      (if (i32.and (i32.ne (local.get $slot) (i32.const 255)) (i32.ne (local.get $count) (i32.const 0)))
        (then (local.set $base (i64.load (i32.shl (i32.rem_u (local.get $slot) (local.get $count))
                                                  (i32.const 3))))))
      (local.set $a (i64.add (local.get $base) (local.get $x)))
      (local.set $r (i64.const 0))
      (block $skip
        (br_if $skip (i32.and (i32.ne (i32.and (local.get $op) (i32.const 128)) (i32.const 0))
                              (i64.eqz (local.get $base))))
        (block $reset_ (block $set (block $ioff (block $iload64 (block $iload8 (block $ilen
        (block $store64 (block $store8 (block $load64 (block $load8 (block $len_u (block $len
        (block $free_ (block $alloc_
          (br_table $alloc_ $free_ $len $len_u $load8 $load64 $store8 $store64 $ilen $iload8
                    $iload64 $ioff $reset_ $set $skip
                    (i32.and (local.get $op) (i32.const 31))))
          ;; alloc
          (local.set $r (call $alloc (local.get $a)))
          (local.set $count (call $push (local.get $r) (local.get $count)))
          (br $skip))
          ;; free
          (call $free (local.get $a)) (br $skip))
          (local.set $r (call $length (local.get $a))) (br $skip))
          (local.set $r (call $length_unsafe (local.get $a))) (br $skip))
          (local.set $r (i64.extend_i32_u (call $load_u8 (local.get $a)))) (br $skip))
          (local.set $r (call $load_u64 (local.get $a))) (br $skip))
          (call $store_u8 (local.get $a) (i32.wrap_i64 (local.get $y))) (br $skip))
          (call $store_u64 (local.get $a) (local.get $y)) (br $skip))
          (local.set $r (call $input_length)) (br $skip))
          (local.set $r (i64.extend_i32_u (call $input_load_u8 (local.get $a)))) (br $skip))
          (local.set $r (call $input_load_u64 (local.get $a))) (br $skip))
          ;; input_offset
          (local.set $r (call $input_offset))
          (local.set $count (call $push (local.get $r) (local.get $count)))
          (br $skip))
          ;; input_set
          (call $input_set (local.get $a) (local.get $y)) (br $skip))
        ;; reset
        (call $reset))
      (i64.store (i32.add (i32.const 4096) (i32.shl (local.get $k) (i32.const 3))) (local.get $r))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $next)))

    ;; the results, as the output
    (if (i32.eqz (local.get $ops)) (then (return (i32.const 0))))
    (local.set $h (call $alloc (i64.extend_i32_u (i32.shl (local.get $ops) (i32.const 3)))))
    (if (i64.eqz (local.get $h)) (then (return (i32.const 3))))
    (local.set $k (i32.const 0))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $k) (local.get $ops)))
      (call $store_u64 (i64.add (local.get $h) (i64.extend_i32_u (i32.shl (local.get $k) (i32.const 3))))
        (i64.load (i32.add (i32.const 4096) (i32.shl (local.get $k) (i32.const 3)))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $l)))
    (call $output_set (local.get $h) (i64.extend_i32_u (i32.shl (local.get $ops) (i32.const 3))))
    (i32.const 0))
)
