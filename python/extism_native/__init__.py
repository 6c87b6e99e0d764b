"""extism_native: run Extism WebAssembly plug-ins from Python on a native C engine.

A superset of the official ``extism`` package's API: code written for it runs with
``import extism_native as extism``.  See README.md for the guide and the differences.
"""

from ._inspect import inspect_module
from ._logging import CustomLogger, set_log_custom, set_log_file
from ._native import lib as _lib
from .backtrace import Frame
from .c_api import get_include, library_path
from .current_plugin import CurrentPlugin, Memory, Val, ValType
from .errors import (
    CallError,
    CallTimeoutError,
    CancelledError,
    Error,
    ExitError,
    ExtismError,
    FunctionNotFoundError,
    FunctionSignatureError,
    HostFunctionError,
    HttpError,
    InvalidModuleError,
    LinkError,
    ManifestError,
    OutOfMemoryError,
    PluginCallError,
    PluginLoadError,
    Trap,
    UnsupportedError,
    UsageError,
)
from .host_function import (
    Codec,
    ExplicitFunction,
    Function,
    Json,
    Pickle,
    TypeInferredFunction,
    host_fn,
)
from .http import HttpRequest, HttpResponse
from .manifest import Manifest, MemoryOptions, Wasm, WasmData, WasmPath, WasmUrl
from .plugin import CancelHandle, CompiledPlugin, Plugin, native_available
from .pool import PluginPool
from .wasi import WASI

__version__ = "0.1.0"


def extism_version() -> str:
    """Version of the native runtime (the C core), e.g. "0.1.0"."""
    return _ffi_string(_lib.extism_version())


def _ffi_string(ptr: object) -> str:
    from ._native import ffi

    return str(ffi.string(ptr).decode("utf-8"))


__all__ = [
    "CallError",
    "Codec",
    "CompiledPlugin",
    "CurrentPlugin",
    "ExplicitFunction",
    "Function",
    "Json",
    "Memory",
    "Pickle",
    "TypeInferredFunction",
    "Val",
    "ValType",
    "host_fn",
    "CallTimeoutError",
    "CancelHandle",
    "CancelledError",
    "CustomLogger",
    "Error",
    "ExitError",
    "ExtismError",
    "FunctionNotFoundError",
    "FunctionSignatureError",
    "HostFunctionError",
    "HttpError",
    "HttpRequest",
    "HttpResponse",
    "InvalidModuleError",
    "LinkError",
    "Manifest",
    "ManifestError",
    "MemoryOptions",
    "OutOfMemoryError",
    "Plugin",
    "PluginCallError",
    "PluginLoadError",
    "PluginPool",
    "Trap",
    "Frame",
    "inspect_module",
    "UnsupportedError",
    "UsageError",
    "WASI",
    "Wasm",
    "WasmData",
    "WasmPath",
    "WasmUrl",
    "extism_version",
    "get_include",
    "library_path",
    "native_available",
    "set_log_custom",
    "set_log_file",
]
