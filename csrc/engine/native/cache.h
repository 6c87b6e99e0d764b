/* engine/native/cache.h: the compiled tier's on-disk cache of shared libraries.
 *
 * One directory per user: EXTISM_NATIVE_CACHE_DIR, else $XDG_CACHE_HOME/extism_native or
 * ~/.cache/extism_native (macOS: ~/Library/Caches/extism_native), created 0700.  An entry is
 * `<key>.so` (0700) and `<key>.sum` (0600), written in a private temporary directory inside
 * the cache and renamed into place, so a reader never sees half an entry; a module with a large
 * initial memory image also has `<key>.img` and `<key>.isum` (0600), mapped copy-on-write into
 * its instances (page cache shared by every process; a memfd built per load cost 3 ms for the
 * 2.5 MB of a QuickJS plugin).  Guest data only, never code; the same checks apply.  Only this
 * user could shrink a mapped image in place (we only ever replace files by rename): the guest
 * would then fault on the missing pages.  `<key>.lines` (0600) is the library's line table
 * (lines.h, for the code offsets of a trap's frames): read on the first trap, under the same
 * ownership checks and its own size and checksum; a missing or damaged one only leaves the
 * offsets unknown.
 *
 * Loading an entry is running its code, so before dlopen: the directory and both files must be
 * owned by this user and writable by no one else (a symlink is refused), and the library must
 * have the size and checksum its .sum records (truncation, corruption).  Anything else - a
 * missing, foreign, corrupted, truncated entry or one of another format - is ignored and
 * rebuilt, never loaded.  The checksum guards against accidents only: whoever could write a
 * forged entry here could as well write the user's own files; the ownership checks are what
 * keep others out.  The key (native.c) is the SHA-256 of the module bytes and of everything
 * else that changes the library: ABI and library version, bounds mode, compiler flags, target.
 *
 * May call: sys.h. */
#ifndef EXN_NATIVE_CACHE_H
#define EXN_NATIVE_CACHE_H

#include "support/internal.h"

#define EXN_NCACHE_PATH 1024

/** The cache directory into `out`, created and checked.  Returns 0, or -1 with why (the tier
 *  then compiles into a temporary directory and caches nothing). */
EXN_INTERNAL int exn_ncache_dir(char *out, size_t out_len, char *why, size_t why_len);

/** The library of entry `key` if it exists and passes every check: a dlopen handle, or NULL with
 *  the reason in why ("missing" when there is no entry). */
EXN_INTERNAL void *exn_ncache_load(const char *dir, const char *key, char *why, size_t why_len);

/** Move `so_path` (a library just built in a temporary directory of `dir`) into the cache as
 *  entry `key`, with `note` (the compiler's name) recorded in its .sum.  Returns 0 or -1. */
EXN_INTERNAL int exn_ncache_store(const char *dir, const char *key, const char *so_path,
                                  const char *note);

/** The memory image of entry `key` (native.c make_image: memory 0 after its data segments),
 *  `<key>.img` with its size and checksum in `<key>.isum`, under the same checks as the
 *  library.  Returns 0 with a descriptor to map copy-on-write in *out_fd if it exists, is
 *  `len` bytes long and its checksum holds; -1 otherwise (then the caller builds it). */
EXN_INTERNAL int exn_ncache_image_load(const char *dir, const char *key, size_t len,
                                       intptr_t *out_fd);

/** Store `len` bytes of image as entry `key`'s (written in a private temporary directory and
 *  renamed into place, image first).  Returns 0 or -1 (nothing is left behind). */
EXN_INTERNAL int exn_ncache_image_store(const char *dir, const char *key, const uint8_t *img,
                                        size_t len);

/** A side file of entry `key`, `<key>.<ext>` (e.g. "lines": native.c's line table, lines.h):
 *  `len` bytes of data after a header with its size and checksum, written in a private
 *  temporary directory and renamed into place.  Returns 0 or -1 (nothing is left behind). */
EXN_INTERNAL int exn_ncache_side_store(const char *dir, const char *key, const char *ext,
                                       const void *data, size_t len);

/** The data of side file `<key>.<ext>` under the same checks as the library (owner, mode, no
 *  symlink) and its header's (size, checksum): an owned buffer (exn_free) in *out and its
 *  length.  Returns 0, or -1 (missing, damaged, foreign). */
EXN_INTERNAL int exn_ncache_side_load(const char *dir, const char *key, const char *ext,
                                      uint8_t **out, size_t *out_len);

/** Path of entry `key`'s library. */
EXN_INTERNAL void exn_ncache_so_path(const char *dir, const char *key, char *out, size_t out_len);

/** The fast 64-bit checksum of the .sum files (accidental corruption only). */
EXN_INTERNAL uint64_t exn_ncache_checksum(const uint8_t *data, size_t len);

#endif
