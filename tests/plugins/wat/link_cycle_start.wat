;; link_cycle_start.wat: link_cycle_lib.wat with a start function calling main's $triple, which
;; cannot run: main imports this module's memory, so main is instantiated after it.
(module
  (import "main" "triple" (func $triple (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "peek") (param i32) (result i32) (call $triple (i32.load (local.get 0))))
  (func $start (drop (call $triple (i32.const 1))))
  (start $start)
)
