;; cli_wasi.wat: a WASI plugin for the command-line tests (--wasi, --allow-path, exit status).
;;   read_file: opens the input (a path, at most 1024 bytes) relative to the first preopened
;;              directory (fd 3), reads up to 60000 bytes of it and outputs them; returns the
;;              WASI errno of a failing path_open or fd_read as its code
;;   exit_len:  WASI proc_exit(length of the input)
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 2)
  ;; 16: opened fd; 32: iovec {4096, 60000}; 48: bytes read; 1024..2047: the path
  (func (export "read_file") (result i32)
    (local $n i32) (local $i i32) (local $err i32) (local $h i64)
    (local.set $n (i32.wrap_i64 (call $input_length)))
    (if (i32.gt_u (local.get $n) (i32.const 1024)) (then (return (i32.const 37))))  ;; ENAMETOOLONG
    (block $copied (loop $copy
      (br_if $copied (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (i32.const 1024) (local.get $i))
        (call $input_load_u8 (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $copy)))
    ;; rights: fd_read (bit 1) | fd_seek (bit 2) ; no inheriting rights
    (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 1024) (local.get $n)
      (i32.const 0) (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 16)))
    (if (local.get $err) (then (return (local.get $err))))
    (i32.store (i32.const 32) (i32.const 4096))
    (i32.store (i32.const 36) (i32.const 60000))
    (local.set $err (call $fd_read (i32.load (i32.const 16)) (i32.const 32) (i32.const 1)
      (i32.const 48)))
    (if (local.get $err) (then (return (local.get $err))))
    (local.set $n (i32.load (i32.const 48)))
    (local.set $h (call $alloc (i64.extend_i32_u (local.get $n))))
    (local.set $i (i32.const 0))
    (block $done (loop $out
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $h) (i64.extend_i32_u (local.get $i)))
        (i32.load8_u (i32.add (i32.const 4096) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $out)))
    (call $output_set (local.get $h) (i64.extend_i32_u (local.get $n)))
    (i32.const 0))
  (func (export "exit_len") (result i32)
    (call $proc_exit (i32.wrap_i64 (call $input_length)))
    (i32.const 0))
)
