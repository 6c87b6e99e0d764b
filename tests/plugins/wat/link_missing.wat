;; link_missing.wat: imports that nobody provides, of every kind; loading must fail and list each
(module
  (import "env" "abort" (func (param i32 i32 i32 i32)))
  (import "extism:host/env" "no_such_kernel_function" (func))
  (import "extism:host/user" "hello_world" (func (param i64) (result i64)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "extism:host/env" "alloc" (func (param i32) (result i32)))
  (import "env" "memory" (memory 1))
  (func (export "run") (result i32) (i32.const 0))
)
