;; link_shared_bad.wat: imports link_shared_lib.wat's memory, global and table with types that do
;; not match the exports (larger minimums; immutable where the export is mutable): unlinkable.
(module
  (import "lib" "memory" (memory 2))
  (import "lib" "counter" (global $counter i32))
  (import "lib" "table" (table 3 funcref))
  (func (export "run") (result i32) (global.get $counter))
)
