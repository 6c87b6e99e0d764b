;; link_cycle_bad.wat: link_cycle_lib.wat importing main's global as well: main imports this
;; module's memory and this module main's global, a cycle no order can instantiate (LinkError).
(module
  (import "main" "triple" (func $triple (param i32) (result i32)))
  (import "main" "g" (global i32))
  (memory (export "memory") 1)
  (func (export "peek") (param i32) (result i32) (call $triple (i32.load (local.get 0))))
)
