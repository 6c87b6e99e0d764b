;; backtrace.wat: traps in named functions, for the wasm backtrace tests
;; (tests/unit/test_backtrace.py).  wat2wasm --debug-names writes the module name ($traps)
;; and the function names below into the "name" section; $anonymous gets no name on purpose
;; (its frame reads "<wasm function N>").  Function indices: 0 the import, then in order.
(module $traps
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $leaf_unreachable $leaf_div)

  (func $leaf_unreachable (unreachable))                                 ;; 1
  (func $leaf_div (drop (i32.div_u (i32.const 1) (i32.const 0))))        ;; 2
  (func $leaf_oob (drop (i32.load (i32.const 0x7fff0000))))              ;; 3
  (func $middle (param $which i32)                                       ;; 4
    (if (i32.eq (local.get $which) (i32.const 2))
      (then (call $leaf_oob) (return)))
    (call_indirect (local.get $which)))
  (func (param $which i32) (call $middle (local.get $which)))            ;; 5: $anonymous
  (func $_ZN6traps_5outer17h0123456789abcdefE (param $which i32)         ;; 6: a Rust symbol
    (call 5 (local.get $which)))
  (func $recurse (param $n i32)                                          ;; 7
    (if (i32.eqz (local.get $n)) (then (unreachable)))
    (call $recurse (i32.sub (local.get $n) (i32.const 1))))

  ;; the input length picks the leaf: 0 unreachable, 1 divide by zero, 2 out of bounds
  (func (export "trap") (result i32)                                     ;; 8
    (call $_ZN6traps_5outer17h0123456789abcdefE
      (i32.wrap_i64 (call $input_length)))
    (i32.const 0))
  ;; unreachable after as many nested $recurse calls as the input is long
  (func (export "deep") (result i32)                                     ;; 9
    (call $recurse (i32.wrap_i64 (call $input_length)))
    (i32.const 0))
  ;; infinite recursion: a stack overflow (the engines keep at most 64 frames)
  (func $forever (export "forever") (result i32)                         ;; 10
    (call $forever))
  (func (export "ok") (result i32) (i32.const 0))                        ;; 11
)
