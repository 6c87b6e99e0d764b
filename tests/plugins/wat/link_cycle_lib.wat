;; link_cycle_lib.wat: "cyc" for link_cycle_main.wat - exports its memory and imports main's
;; function $triple.  peek(a) stores word a + 1 at a + 4 and returns triple(word a).
(module
  (import "main" "triple" (func $triple (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "peek") (param i32) (result i32)
    (i32.store (i32.add (local.get 0) (i32.const 4))
               (i32.add (i32.load (local.get 0)) (i32.const 1)))
    (call $triple (i32.load (local.get 0))))
)
