;; wat2wasm: --enable-tail-call
;; link_tail_lib.wat: "tl" for link_tail_main.wat - tail calls between modules.  Its own memory
;; (word 0 = 1) and an exported table: element 0 $pong, 1 main's $ping (main's segment), 2 a
;; function that traps.  pong(n, acc) = acc when n is 0, else ping(n - 1, acc + word 0 here),
;; by return_call_indirect into the other module.
(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00")
  (type $pp (func (param i32 i32) (result i32)))
  (table (export "table") 3 funcref)
  (elem (i32.const 0) $pong)
  (elem (i32.const 2) $trap)
  (func $pong (type $pp)
    (if (result i32) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_indirect (type $pp)
              (i32.sub (local.get 0) (i32.const 1))
              (i32.add (local.get 1) (i32.load (i32.const 0)))
              (i32.const 1)))))
  (func $trap (type $pp) unreachable)
  (func (export "add_mem") (param i32) (result i32) (i32.add (local.get 0) (i32.load (i32.const 0))))
)
