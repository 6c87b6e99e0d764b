;; link_shared_main.wat: imports the memory and the globals of the module named "lib"
;; (link_shared_lib.wat) and reports, as little-endian u64s, what each side sees of the other's
;; writes, growth and global updates.
(module
  (import "lib" "memory" (memory 1))
  (import "lib" "counter" (global $counter (mut i32)))
  (import "lib" "base" (global $base i32))
  (import "lib" "load" (func $load (param i32) (result i32)))
  (import "lib" "store" (func $store (param i32 i32)))
  (import "lib" "grow" (func $grow (param i32) (result i32)))
  (import "lib" "size" (func $size (result i32)))
  (import "lib" "bump" (func $bump (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (global $h (mut i64) (i64.const 0))
  (global $n (mut i64) (i64.const 0))
  (func $out (param i32)
    (call $store_u64 (i64.add (global.get $h) (i64.mul (global.get $n) (i64.const 8)))
                     (i64.extend_i32_s (local.get 0)))
    (global.set $n (i64.add (global.get $n) (i64.const 1))))
  (func (export "run") (result i32)
    (local $top i32)
    (global.set $h (call $alloc (i64.const 80)))
    (global.set $n (i64.const 0))
    ;; a write by main is read by lib, and the other way round
    (i32.store (global.get $base) (i32.const 1234))
    (call $out (call $load (global.get $base)))
    (call $store (i32.const 200) (i32.const 5678))
    (call $out (i32.load (i32.const 200)))
    ;; growth by lib is seen by main, growth by main by lib
    (call $out (call $grow (i32.const 1)))
    (call $out (memory.size))
    (call $out (memory.grow (i32.const 1)))
    (call $out (call $size))
    ;; the last word of the newest page, written by main, read by lib
    (local.set $top (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)))
    (i32.store (local.get $top) (i32.const 99))
    (call $out (call $load (local.get $top)))
    ;; the mutable global: set by main, bumped by lib, read back by main
    (global.set $counter (i32.const 10))
    (call $out (call $bump))
    (call $out (global.get $counter))
    ;; the memory's maximum is lib's (4 pages): a fourth growth fails on either side
    (call $out (memory.grow (i32.const 2)))
    (call $output_set (global.get $h) (i64.mul (global.get $n) (i64.const 8)))
    (i32.const 0))
)
