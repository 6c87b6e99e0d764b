/* engine/native/sys.h: the operating-system services of the compiled tier - running the C
 * compiler, the private cache directory and its files, loading shared libraries, and turning
 * faults in guard pages into traps.  sys_posix.c implements them; on Windows (sys_win32.c)
 * the tier is unavailable for now and every function fails.  These two are the only files of
 * engine/native/ that include OS headers.
 *
 * Functions returning int return 0 on success and -1 on failure, with a reason in `why` when
 * they take one.
 * May call: the allocator. */
#ifndef EXN_NATIVE_SYS_H
#define EXN_NATIVE_SYS_H

#include "support/internal.h"

/* Whether this build has the compiled tier at all (false: every function below fails). */
EXN_INTERNAL bool exn_nsys_available(const char **why);

/* ---- processes ------------------------------------------------------------------------------ */

/** Start argv[0] (searched on PATH) with stdout and stderr to the file `out_path` (created or
 *  truncated, 0600), or discarded when NULL.  *out_pid identifies it for exn_nsys_wait. */
EXN_INTERNAL int exn_nsys_spawn(char *const argv[], const char *out_path, intptr_t *out_pid);

/** Wait for a process of exn_nsys_spawn: its exit status (0-255), or -1 (killed, or failure). */
EXN_INTERNAL int exn_nsys_wait(intptr_t pid);

/** Run argv and capture its stdout (at most out_len - 1 bytes, NUL-terminated; stderr is
 *  discarded).  Returns its exit status, or -1. */
EXN_INTERNAL int exn_nsys_capture(char *const argv[], char *out, size_t out_len);

/** The full path of executable `name` on PATH (or `name` itself if it has a '/' and is
 *  executable) into out.  Returns 0, or -1 if not found. */
EXN_INTERNAL int exn_nsys_which(const char *name, char *out, size_t out_len);

/** dev, inode, size and modification time of the file at `path` (symlinks followed) as text. */
EXN_INTERNAL int exn_nsys_file_id(const char *path, char *out, size_t out_len);

EXN_INTERNAL uint32_t exn_nsys_cpus(void);

/** The value of environment variable `name`, or NULL (borrowed). */
EXN_INTERNAL const char *exn_nsys_getenv(const char *name);

/* ---- the private cache directory -------------------------------------------------------------- */

/** The default cache directory of this user (without creating it): $XDG_CACHE_HOME/extism_native
 *  or ~/.cache/extism_native; ~/Library/Caches/extism_native on macOS. */
EXN_INTERNAL int exn_nsys_default_cache_dir(char *out, size_t out_len);

/** Create directory `path` (and missing parents, 0700) if needed; then check it is a directory
 *  (not a symlink) owned by this user that no one else can write. */
EXN_INTERNAL int exn_nsys_private_dir(const char *path, char *why, size_t why_len);

/** Make a fresh private directory `base`/tmp-XXXXXX; its path into out. */
EXN_INTERNAL int exn_nsys_temp_dir(const char *base, char *out, size_t out_len);

/** Read a whole file that must be a regular file (not a symlink) owned by this user and not
 *  writable by group or others.  Returns an owned buffer (exn_free) in *out_data. */
EXN_INTERNAL int exn_nsys_read_private(const char *path, uint8_t **out_data, size_t *out_len,
                                       char *why, size_t why_len);

/** Open a file under the same checks as exn_nsys_read_private, without reading it: its
 *  descriptor (exn_nsys_close) and size.  Returns 0, or -1 with why ("missing" if absent). */
EXN_INTERNAL int exn_nsys_open_private(const char *path, intptr_t *out_fd, uint64_t *out_size,
                                       char *why, size_t why_len);

/** `len` bytes of an open file mapped read-only (NULL if not); exn_nsys_unmap releases them. */
EXN_INTERNAL const uint8_t *exn_nsys_map_readonly(intptr_t fd, size_t len);
EXN_INTERNAL void exn_nsys_unmap(const uint8_t *map, size_t len);

/** Write a file (created 0600, truncated) with `data`. */
EXN_INTERNAL int exn_nsys_write_file(const char *path, const void *data, size_t len);

/** Atomically replace `to` by `from` (same directory). */
EXN_INTERNAL int exn_nsys_rename(const char *from, const char *to);

/** Remove a file, or an empty directory (missing: no error). */
EXN_INTERNAL void exn_nsys_remove(const char *path);

/* ---- memory images ----------------------------------------------------------------------------- */

/** A new anonymous file of `size` zero bytes for a memory image, mapped writable at *out_map:
 *  the caller writes the image in place (no buffer, no copy through write()), then
 *  exn_nsys_image_seal.  A Linux memfd (sealed read-only at the end); elsewhere an unlinked
 *  temporary file.  Returns its descriptor in *out_fd (close with exn_nsys_close); -1 if not. */
EXN_INTERNAL int exn_nsys_image_create(size_t size, intptr_t *out_fd, uint8_t **out_map);
/** Unmap the writable view of an image and make its file read-only where the system can. */
EXN_INTERNAL void exn_nsys_image_seal(intptr_t fd, uint8_t *map, size_t size);
EXN_INTERNAL void exn_nsys_close(intptr_t fd);

/* ---- shared libraries ------------------------------------------------------------------------- */

EXN_INTERNAL void *exn_nsys_dlopen(const char *path, char *why, size_t why_len);
EXN_INTERNAL void *exn_nsys_dlsym(void *lib, const char *name);
EXN_INTERNAL void exn_nsys_dlclose(void *lib);
/** The address the library holding `addr` is loaded at (its first segment), or 0. */
EXN_INTERNAL uintptr_t exn_nsys_lib_base(const void *addr);

/* ---- guard-page faults -------------------------------------------------------------------------- */

/** Install (once per process) the SIGSEGV/SIGBUS handler: on a fault it calls `handler` with the
 *  faulting address, the instruction's and the frame pointer register (both NULL where this file
 *  cannot read them); the handler
 *  either does not return (it longjmps to the trapping call) or returns, and the fault goes to
 *  the handler installed before ours (or the default action).  Returns 0, or -1 if it could not
 *  be installed. */
EXN_INTERNAL int exn_nsys_fault_handler(void (*handler)(void *addr, void *pc, void *fp));

#endif
