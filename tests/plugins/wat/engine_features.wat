;; engine_features.wat: post-MVP features current toolchains emit, for tests/unit/test_engine.py.
;; Every export checks its results in the guest and returns 0, or the number of the first
;; check that failed (the call then fails with that code).
(module
  (type $i2i (func (param i32) (result i32)))
  (table $funcs 2 10 funcref)
  (table $refs 1 externref)
  (memory 1)
  (elem declare func $double $triple)
  (elem (table $funcs) (i32.const 0) func $double)
  (elem $passive func $triple $double)
  (data $bytes "hello")

  (func $double (type $i2i) (i32.mul (local.get 0) (i32.const 2)))
  (func $triple (type $i2i) (i32.mul (local.get 0) (i32.const 3)))

  ;; reference types and tables: table.get/set/size/grow/fill, ref.func, ref.null,
  ;; ref.is_null, typed select, call_indirect through a slot set at run time
  (func (export "tables") (result i32)
    (if (i32.ne (table.size $funcs) (i32.const 2)) (then (return (i32.const 1))))
    (if (i32.ne (call_indirect $funcs (type $i2i) (i32.const 21) (i32.const 0)) (i32.const 42))
      (then (return (i32.const 2))))
    (table.set $funcs (i32.const 1) (ref.func $triple))
    (if (i32.ne (call_indirect $funcs (type $i2i) (i32.const 5) (i32.const 1)) (i32.const 15))
      (then (return (i32.const 3))))
    (if (i32.ne (table.grow $funcs (ref.null func) (i32.const 3)) (i32.const 2))
      (then (return (i32.const 4))))
    (if (i32.ne (table.size $funcs) (i32.const 5)) (then (return (i32.const 5))))
    (if (i32.eqz (ref.is_null (table.get $funcs (i32.const 4)))) (then (return (i32.const 6))))
    (if (i32.ne (table.grow $funcs (ref.null func) (i32.const 100)) (i32.const -1))
      (then (return (i32.const 7))))
    (table.fill $funcs (i32.const 2) (ref.func $double) (i32.const 3))
    (if (i32.ne (call_indirect $funcs (type $i2i) (i32.const 4) (i32.const 4)) (i32.const 8))
      (then (return (i32.const 8))))
    (table.copy $funcs $funcs (i32.const 0) (i32.const 1) (i32.const 1))
    (if (i32.ne (call_indirect $funcs (type $i2i) (i32.const 1) (i32.const 0)) (i32.const 3))
      (then (return (i32.const 9))))
    (if (i32.eqz (ref.is_null (table.get $refs (i32.const 0)))) (then (return (i32.const 10))))
    (if (ref.is_null (select (result funcref) (ref.func $double) (ref.null func) (i32.const 1)))
      (then (return (i32.const 11))))
    (i32.const 0))

  ;; a trap on a null or out-of-range table slot
  (func (export "null_slot") (result i32)
    (call_indirect $funcs (type $i2i) (i32.const 1) (i32.const 1)))
  (func (export "table_oob") (result i32)
    (table.get $funcs (i32.const 1000)) (drop) (i32.const 0))

  ;; multi-value: blocks with parameters and several results, functions returning two values
  (func $pair (result i32 i64) (i32.const 7) (i64.const 9))
  (func (export "multi_value") (result i32)
    (local $a i32) (local $b i64)
    (call $pair) (local.set $b) (local.set $a)
    (if (i32.ne (local.get $a) (i32.const 7)) (then (return (i32.const 1))))
    (if (i64.ne (local.get $b) (i64.const 9)) (then (return (i32.const 2))))
    (i32.const 1) (i32.const 2)
    (block (param i32 i32) (result i32 i32 i32) (i32.const 3))
    (i32.add) (i32.add)
    (if (i32.ne (i32.const 6)) (then (return (i32.const 3))))
    (i32.const 0))

  ;; sign extension and non-trapping float-to-int
  (func (export "numeric") (result i32)
    (if (i32.ne (i32.extend8_s (i32.const 0x80)) (i32.const -128)) (then (return (i32.const 1))))
    (if (i64.ne (i64.extend32_s (i64.const 0x80000000)) (i64.const -2147483648))
      (then (return (i32.const 2))))
    (if (i32.ne (i32.trunc_sat_f32_s (f32.const 1e30)) (i32.const 0x7fffffff))
      (then (return (i32.const 3))))
    (if (i32.ne (i32.trunc_sat_f64_u (f64.const -5)) (i32.const 0)) (then (return (i32.const 4))))
    (if (i64.ne (i64.trunc_sat_f64_s (f64.const nan)) (i64.const 0)) (then (return (i32.const 5))))
    (i32.const 0))

  ;; bulk memory: fill, copy, init from a passive segment, and table.init from a passive
  ;; element segment
  (func (export "bulk_memory") (result i32)
    (memory.fill (i32.const 100) (i32.const 0x61) (i32.const 4))
    (memory.copy (i32.const 102) (i32.const 100) (i32.const 4))
    (if (i32.ne (i32.load (i32.const 100)) (i32.const 0x61616161)) (then (return (i32.const 1))))
    (if (i32.ne (i32.load16_u (i32.const 104)) (i32.const 0x6161)) (then (return (i32.const 2))))
    (memory.init $bytes (i32.const 200) (i32.const 1) (i32.const 4))
    (if (i32.ne (i32.load (i32.const 200)) (i32.const 0x6f6c6c65)) (then (return (i32.const 3))))
    (table.init $funcs $passive (i32.const 0) (i32.const 0) (i32.const 2))
    (if (i32.ne (call_indirect $funcs (type $i2i) (i32.const 2) (i32.const 1)) (i32.const 4))
      (then (return (i32.const 4))))
    (i32.const 0))

  ;; after data.drop / elem.drop, only empty ranges can be initialised
  (func (export "dropped_data") (result i32)
    (data.drop $bytes)
    (memory.init $bytes (i32.const 0) (i32.const 0) (i32.const 0))
    (memory.init $bytes (i32.const 0) (i32.const 0) (i32.const 1))
    (i32.const 0))
  (func (export "dropped_elem") (result i32)
    (elem.drop $passive)
    (table.init $funcs $passive (i32.const 0) (i32.const 0) (i32.const 1))
    (i32.const 0))
)
