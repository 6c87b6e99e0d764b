;; link_shared_lib.wat: a library module that exports its memory, globals and table (imported by
;; link_shared_main.wat as "lib": issue 17, the importer uses the very same objects).
(module
  (memory (export "memory") 1 4)
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (global (export "base") i32 (i32.const 100))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (table (export "table") 2 funcref)
  (elem (i32.const 0) $seven)
  (func $seven (result i32) (i32.const 7))
  (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
  (func (export "bump") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.get $counter))
)
