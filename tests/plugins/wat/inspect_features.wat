;; inspect_features.wat: a module whose facts tests/unit/test_inspect.py checks: a memory with
;; a maximum exported under two names, bulk memory (memory.fill), a multi-value function type,
;; an import of each group (the kernel, WASI, a host function) and a start function.
(module $features
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "extism:host/user" "twice" (func $twice (param i64) (result i64)))
  (memory (export "a") (export "b") 2 5)
  (global $started (mut i32) (i32.const 0))
  (func $start (global.set $started (i32.const 1)))
  (start $start)
  (func (export "fill") (memory.fill (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "two") (result i32 i32) (i32.const 1) (i32.const 2))
  (func (export "run") (result i32)
    (drop (call $twice (call $input_length)))
    (drop (call $yield))
    (global.get $started))
)
