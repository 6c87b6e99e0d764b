;; link_lib.wat: a library module for linking tests (imported by link_main.wat as "lib").
;; It has its own memory and state, uses the shared kernel, and initialises itself once.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (global $calls (mut i32) (i32.const 0))
  (global $inits (mut i32) (i32.const 0))
  (memory 1)
  (func (export "_initialize") (global.set $inits (i32.add (global.get $inits) (i32.const 1))))
  (func (export "add1") (param i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.add (local.get 0) (i32.const 1)))
  (func (export "calls") (result i32) (global.get $calls))
  (func (export "inits") (result i32) (global.get $inits))
  (func (export "input_len") (result i64) (call $input_length))
  (func (export "two") (result i32 i64) (i32.const 7) (i64.const -9))
  (func (export "boom") unreachable)
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
)
