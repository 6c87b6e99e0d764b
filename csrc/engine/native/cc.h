/* engine/native/cc.h: the C compiler the compiled tier runs: finding it, the flags (part of the
 * cache key), and building the translator's files into a shared library.  Which compiler built
 * an entry is not part of the key (an entry is correct code whoever compiled it; a cache can be
 * filled on a machine with a compiler and used on one without): it is recorded in the entry.
 *
 * Which compiler: EXTISM_NATIVE_CC (a command, split at spaces: "clang", "zig cc",
 * "/opt/gcc-13/bin/gcc -m64"), else the first of cc, gcc, clang on PATH, else the ziglang
 * package through `python3 -m ziglang cc` (its Python found on PATH, or set with
 * exn_ncc_set_python by an embedding that knows its interpreter).
 *
 * May call: sys.h, support/os.h. */
#ifndef EXN_NATIVE_CC_H
#define EXN_NATIVE_CC_H

#include "support/internal.h"

typedef struct exn_ncc exn_ncc_t;

/** The compiler, found once per process (thread-safe; the result is kept, found or not).
 *  Returns NULL with the reason in errbuf when there is none.  Borrowed for the process. */
EXN_INTERNAL const exn_ncc_t *exn_ncc_get(char *errbuf, size_t errbuf_len);

/** Its first line of `--version`, for messages ("gcc (Debian 12.2.0-14) 12.2.0"). */
EXN_INTERNAL const char *exn_ncc_name(const exn_ncc_t *cc);

/** Compile `dir`/m0.c .. m<n_files-1>.c (they include `dir`/m.h) at optimisation level `opt`,
 *  at most `jobs` compilers at once, and link them into `dir`/out.dbg.so (with the line table)
 *  and `dir`/out.so (the same without debug sections; if that link fails, out.dbg.so renamed
 *  out.so: lines.c then reads the table from it).  Returns EXN_OK, or
 *  EXN_ERR_UNSUPPORTED with the compiler's first error lines in errbuf. */
EXN_INTERNAL exn_status_t exn_ncc_build(const exn_ncc_t *cc, const char *dir, uint32_t n_files,
                                        uint32_t jobs, const char *opt, char *errbuf,
                                        size_t errbuf_len);

/* Modules with at most this many bytes of code (each function counting 128 bytes more) are
 * compiled at -O2, larger ones at -O1. */
#define EXN_NCC_O2_MAX_CODE ((uint64_t)256 * 1024)

/** The optimisation level for a module of `code_bytes` bytes of function bodies and `n_funcs`
 *  functions ("-O1"...), or
 *  EXTISM_NATIVE_OPT's (-O0..-O3, -Os) for experiments. */
EXN_INTERNAL const char *exn_ncc_opt_level(uint64_t code_bytes, uint32_t n_funcs);

/** The flags given to the compiler with level `opt`, as text into buf (part of the cache key:
 *  code built with other flags is another entry).  Needs no compiler. */
EXN_INTERNAL void exn_ncc_profile(const char *opt, char *buf, size_t buf_len);

/** Processors available to this process (>= 1). */
EXN_INTERNAL uint32_t exn_ncc_cpus(void);

/** The Python interpreter to try `-m ziglang cc` with when no other compiler is found (copied;
 *  before the first exn_ncc_get). */
EXN_INTERNAL void exn_ncc_set_python(const char *path);

#endif
