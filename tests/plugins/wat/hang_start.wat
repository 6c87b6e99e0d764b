;; hang_start.wat: a start function that never returns (`loop br 0`, no calls): creating the
;; plugin must honour the manifest's timeout_ms (issue 14 item 4).
(module
  (func $start (loop $l (br $l)))
  (start $start)
  (func (export "noop") (result i32) (i32.const 0))
)
