"""Generate the C source of the cffi binding (out-of-line, API mode).

Run by CMake at build time: ``python _ffi_build.py OUTPUT.c``.  The cdef *is* the public C
headers, csrc/extism.h and csrc/extism_native.h, with preprocessor lines dropped, plus the
``extern "Python"`` trampolines through which C reaches Python.  Nothing generated is committed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from cffi import FFI

CSRC = Path(__file__).resolve().parents[2] / "csrc"
HEADERS = ("extism.h", "extism_native.h")

# C calls into Python only through these (cffi generates the C side; "Python+C": also called
# from _binding.c), and the functions of _binding.c that Python calls.
PYTHON_CALLBACKS = """
extern "Python" int32_t _exn_py_log(void *userdata, int32_t level, const char *msg, size_t len);
extern "Python" void _exn_py_log_drain(const char *data, ExtismSize size);
extern "Python+C" void _exn_py_host_call(uintptr_t key, uintptr_t plugin, int64_t *slots);
extern "Python+C" void _exn_py_free_user_data(void *user_data);
extern "Python" int _exn_py_wasi_stdout(void *userdata, const uint8_t *data, size_t len);
extern "Python" int _exn_py_wasi_stderr(void *userdata, const uint8_t *data, size_t len);
extern "Python" int _exn_py_http(void *userdata, const exn_http_request_t *request,
                                 exn_http_response_t *response);
void *exn_py_host_new(uintptr_t key, const ExtismValType *types, size_t n_in, size_t n_out);
void exn_py_host_flat(void *user_data, ExtismCurrentPlugin *plugin, int64_t *slots);
void exn_py_host_free(void *user_data);
int exn_py_host_init(void);
int exn_py_sigint_install(void);
int exn_py_sigint_uninstall(void);
void *exn_py_call_alloc(size_t size);
void exn_py_call_free(void *call);
"""

# The generated module's own C: the headers, and the declarations of _binding.c (a C file of
# its own, compiled beside the generated one: see CMakeLists.txt).
PREAMBLE = r"""
#include "extism_native.h"

void *exn_py_host_new(uintptr_t key, const ExtismValType *types, size_t n_in, size_t n_out);
void exn_py_host_flat(void *user_data, ExtismCurrentPlugin *plugin, int64_t *slots);
void exn_py_host_free(void *user_data);
int exn_py_host_init(void);
int exn_py_sigint_install(void);
int exn_py_sigint_uninstall(void);
void *exn_py_call_alloc(size_t size);
void exn_py_call_free(void *call);
"""


def header_cdef(text: str) -> str:
    """The declarations of a header in the form cffi's parser accepts."""
    text = re.sub(r"^#ifdef __cplusplus$.*?^#endif$", "", text, flags=re.S | re.M)
    out, continued = [], False
    for line in text.splitlines():
        if continued or line.lstrip().startswith("#"):
            continued = line.rstrip().endswith("\\")
            continue
        out.append(line)
    return "\n".join(out).replace("EXTISM_API ", "")


def make_ffi() -> FFI:
    ffi = FFI()
    for name in HEADERS:
        ffi.cdef(header_cdef((CSRC / name).read_text()))
    ffi.cdef(PYTHON_CALLBACKS)
    ffi.set_source("extism_native._cffi", PREAMBLE)
    return ffi


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: _ffi_build.py OUTPUT.c")
    make_ffi().emit_c_code(sys.argv[1])
