;; wat2wasm: --enable-extended-const --no-check
;; wasm3_extended_const.wat: extended constant expressions (WebAssembly 3.0), for
;; tests/unit/test_wasm3_features.py.  i32/i64 add, sub, mul and global.get of imported or
;; earlier immutable globals in global initialisers, data and element segment offsets.  Every
;; export checks in the guest and returns 0, or the number of the first check that failed.
;; (--no-check: wabt 1.0.32 still refuses global.get of a defined global in a constant
;; expression, which WebAssembly 3.0 allows; our validator checks the module.)
(module
  (type $i2i (func (param i32) (result i32)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (memory 1)
  (table $t 16 funcref)
  (global $base i32 (i32.const 1000))
  (global $step i32 (i32.mul (i32.const 3) (i32.const 7)))                  ;; 21
  (global $top i32 (i32.add (global.get $base) (global.get $step)))         ;; 1021
  (global $neg i32 (i32.sub (i32.const 5) (i32.const 9)))                   ;; -4
  (global $wrap i32 (i32.mul (i32.const 0x10000) (i32.const 0x10001)))     ;; 0x10000 (wraps)
  (global $big i64 (i64.mul (i64.const 0x100000000) (i64.const 3)))        ;; 3 << 32
  (global $mix i64 (i64.sub (i64.add (global.get $big) (i64.const 10))
                            (i64.mul (i64.const 2) (i64.const 4))))        ;; (3 << 32) + 2
  (global $wrap64 i64 (i64.mul (i64.const 0x8000000000000000) (i64.const 2))) ;; 0
  (global $mut (mut i32) (global.get $top))
  (global $ref funcref (ref.func $double))

  ;; data at offsets computed from globals: base + step * 2 = 1042
  (data (i32.add (global.get $base) (i32.mul (global.get $step) (i32.const 2))) "xyz")
  ;; 4096 - 4 = 4092
  (data (i32.add (i32.const 4096) (global.get $neg)) "END!")

  (elem (table $t) (i32.sub (global.get $step) (i32.const 18)) func $double $triple) ;; at 3
  (elem (table $t) (i32.mul (i32.const 2) (i32.const 5)) funcref (ref.func $triple)) ;; at 10

  (func $double (type $i2i) (i32.mul (local.get 0) (i32.const 2)))
  (func $triple (type $i2i) (i32.mul (local.get 0) (i32.const 3)))

  (func (export "globals") (result i32)
    (if (i32.ne (global.get $step) (i32.const 21)) (then (return (i32.const 1))))
    (if (i32.ne (global.get $top) (i32.const 1021)) (then (return (i32.const 2))))
    (if (i32.ne (global.get $neg) (i32.const -4)) (then (return (i32.const 3))))
    (if (i32.ne (global.get $wrap) (i32.const 0x10000)) (then (return (i32.const 4))))
    (if (i64.ne (global.get $big) (i64.const 0x300000000)) (then (return (i32.const 5))))
    (if (i64.ne (global.get $mix) (i64.const 0x300000002)) (then (return (i32.const 6))))
    (if (i64.ne (global.get $wrap64) (i64.const 0)) (then (return (i32.const 7))))
    (if (i32.ne (global.get $mut) (i32.const 1021)) (then (return (i32.const 8))))
    (global.set $mut (i32.const 5))
    (if (i32.ne (global.get $mut) (i32.const 5)) (then (return (i32.const 9))))
    (i32.const 0))

  (func (export "data") (result i32)
    (if (i32.ne (i32.load8_u (i32.const 1041)) (i32.const 0)) (then (return (i32.const 1))))
    (if (i32.ne (i32.load8_u (i32.const 1042)) (i32.const 0x78)) (then (return (i32.const 2))))
    (if (i32.ne (i32.load8_u (i32.const 1044)) (i32.const 0x7a)) (then (return (i32.const 3))))
    (if (i32.ne (i32.load (i32.const 4092)) (i32.const 0x21444e45)) (then (return (i32.const 4))))
    (i32.const 0))

  (func (export "elems") (result i32)
    (if (i32.ne (call_indirect $t (type $i2i) (i32.const 5) (i32.const 3)) (i32.const 10))
      (then (return (i32.const 1))))
    (if (i32.ne (call_indirect $t (type $i2i) (i32.const 5) (i32.const 4)) (i32.const 15))
      (then (return (i32.const 2))))
    (if (i32.ne (call_indirect $t (type $i2i) (i32.const 7) (i32.const 10)) (i32.const 21))
      (then (return (i32.const 3))))
    (if (i32.eqz (ref.is_null (table.get $t (i32.const 2)))) (then (return (i32.const 4))))
    (if (i32.eqz (ref.is_null (table.get $t (i32.const 5)))) (then (return (i32.const 5))))
    (i32.const 0))
)
