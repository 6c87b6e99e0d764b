;; command.wat: a module exporting `_start`.  Calling `_start` by name is allowed; afterwards the
;; next call runs on a fresh instance (official behaviour), so `count` starts over.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (global $counter (mut i64) (i64.const 0))
  (func (export "count") (result i32)
    (local $h i64)
    (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
    (local.set $h (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $h) (global.get $counter))
    (call $output_set (local.get $h) (i64.const 8))
    (i32.const 0))
  (func (export "_start")
    (global.set $counter (i64.const 1000)))
)
