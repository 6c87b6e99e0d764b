;; link_table_owner.wat: "tab" for link_table_user.wat - exports its table but not its memory
;; (one page, word 0 = 7).  Element 0, $bump, adds its argument to word 0 of this module's
;; memory; call(i, x) calls element i (link_table_user's $bump_user at 1) with x.
(module
  (memory 1)
  (data (i32.const 0) "\07\00\00\00")
  (type $t (func (param i32) (result i32)))
  (table (export "table") 2 funcref)
  (elem (i32.const 0) $bump)
  (func $bump (type $t)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (local.get 0)))
    (i32.load (i32.const 0)))
  (func (export "word") (result i32) (i32.load (i32.const 0)))
  (func (export "call") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0)))
)
