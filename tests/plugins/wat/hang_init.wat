;; hang_init.wat: an `_initialize` that never returns: the first call must honour timeout_ms,
;; call(timeout=...) and cancel (issue 14 item 4).  `noop` is the export to call.
(module
  (func (export "_initialize") (loop $l (br $l)))
  (func (export "noop") (result i32) (i32.const 0))
)
