;; wat2wasm: --enable-multi-memory
;; wasm3_multi_memory.wat: a module with two memories (WebAssembly 3.0's multi-memory), for
;; tests/unit/test_wasm3_features.py: extism_native refuses it at load, naming the feature.
(module
  (memory $a 1)
  (memory $b 1)
  (data (memory $b) (i32.const 0) "b")
  (func (export "run") (result i32)
    (i32.store8 $a (i32.const 0) (i32.load8_u $b (i32.const 0)))
    (i32.const 0))
)
