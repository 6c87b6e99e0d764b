"""An ``extism_sys``-compatible binding served by extism_native's engine.

The official ``extism`` package (PyPI ``extism``) is pure Python on top of ``extism_sys``, a
cffi binding of libextism: it does ``from extism_sys import lib, ffi`` and calls the libextism
functions.  This module provides the same two names from extism_native's own cffi module, so
the official package runs unchanged on our engine, and plugins made through it and through
``extism_native`` live in one C core.

* ``ffi`` is extism_native's cffi ``FFI``: it declares every type of ``extism.h`` (and of
  ``extism_native.h``), so ``ffi.new("char **")``, ``ffi.callback("void(char*, ExtismSize)")``,
  ``ffi.new_handle`` and ``ffi.buffer`` work as with the original binding.
* ``lib`` holds exactly the 33 libextism functions and the ``ExtismValType_*`` constants.

Nothing here is imported by extism_native itself; ``python -m extism_native
install-extism-sys`` writes a tiny ``extism_sys`` package that re-exports these names (see
``extism_native._shim.install``).
"""

from __future__ import annotations

import types

from ._native import ffi as _ffi
from ._native import lib as _cffi_lib

__all__ = ["ffi", "lib", "LIBEXTISM_FUNCTIONS", "VALTYPE_CONSTANTS"]

LIBEXTISM_FUNCTIONS = (
    "extism_compiled_plugin_free",
    "extism_compiled_plugin_new",
    "extism_compiled_plugin_new_with_fuel_limit",
    "extism_current_plugin_host_context",
    "extism_current_plugin_memory",
    "extism_current_plugin_memory_alloc",
    "extism_current_plugin_memory_free",
    "extism_current_plugin_memory_length",
    "extism_error",
    "extism_function_free",
    "extism_function_new",
    "extism_function_set_namespace",
    "extism_log_custom",
    "extism_log_drain",
    "extism_log_file",
    "extism_plugin_allow_http_response_headers",
    "extism_plugin_call",
    "extism_plugin_call_with_host_context",
    "extism_plugin_cancel",
    "extism_plugin_cancel_handle",
    "extism_plugin_config",
    "extism_plugin_error",
    "extism_plugin_free",
    "extism_plugin_function_exists",
    "extism_plugin_id",
    "extism_plugin_new",
    "extism_plugin_new_error_free",
    "extism_plugin_new_from_compiled",
    "extism_plugin_new_with_fuel_limit",
    "extism_plugin_output_data",
    "extism_plugin_output_length",
    "extism_plugin_reset",
    "extism_version",
)
"""The names of the 33 functions of the libextism C API (extism.h, runtime v1.13)."""

VALTYPE_CONSTANTS = (
    "ExtismValType_I32",
    "ExtismValType_I64",
    "ExtismValType_F32",
    "ExtismValType_F64",
    "ExtismValType_V128",
    "ExtismValType_FuncRef",
    "ExtismValType_ExternRef",
)
"""The ``ExtismValType`` enumerators, as integer constants of ``lib``."""

ffi = _ffi
"""extism_native's cffi FFI object (declares every type of extism.h)."""

lib = types.SimpleNamespace(
    **{name: getattr(_cffi_lib, name) for name in LIBEXTISM_FUNCTIONS + VALTYPE_CONSTANTS})
"""The libextism functions and constants, as ``extism_sys.lib`` offers them."""
