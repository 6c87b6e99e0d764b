;; link_shared_bad.wat: imports link_shared_lib.wat's memory and global with types that do not
;; match the exports (a larger minimum; immutable where the export is mutable): unlinkable.
(module
  (import "lib" "memory" (memory 2))
  (import "lib" "counter" (global $counter i32))
  (func (export "run") (result i32) (global.get $counter))
)
