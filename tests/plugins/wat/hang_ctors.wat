;; hang_ctors.wat: a `__wasm_call_ctors` that never returns (see hang_init.wat).
(module
  (func (export "__wasm_call_ctors") (loop $l (br $l)))
  (func (export "noop") (result i32) (i32.const 0))
)
