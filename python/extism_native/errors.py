"""Exceptions raised by extism_native.

Every exception derives from :class:`Error` (also exported as ``ExtismError``), which is the
official ``extism`` package's ``extism.Error``, so ``except extism.Error`` keeps working.
Failures are told apart by class::

    Error
    ├── ManifestError (ValueError)        invalid manifest, unreadable or mismatched wasm source
    ├── PluginLoadError                    the wasm module cannot be used
    │   ├── InvalidModuleError            not wasm, malformed, or failed to instantiate
    │   └── LinkError                     imports nobody provides (all listed in .missing)
    ├── CallError                          a call failed (.function_name)
    │   ├── FunctionNotFoundError (LookupError)
    │   ├── FunctionSignatureError (TypeError)
    │   ├── PluginCallError               the plugin reported failure (.code, .message)
    │   ├── Trap                          the guest trapped or the kernel refused an operation
    │   ├── ExitError                     WASI proc_exit with a non-zero code (.code)
    │   ├── HostFunctionError             a host function failed
    │   ├── HttpError                     the guest's HTTP request failed or was not allowed
    │   ├── CallTimeoutError (TimeoutError)
    │   └── CancelledError
    ├── OutOfMemoryError (MemoryError)
    ├── UsageError (RuntimeError)         closed plugin, re-entrant call, ...
    └── UnsupportedError (NotImplementedError)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Type

if TYPE_CHECKING:
    from .backtrace import Frame


class Error(Exception):
    """Base class of every exception raised by extism_native."""


ExtismError = Error


class ManifestError(Error, ValueError):
    """The manifest is invalid, or a wasm source in it cannot be read or fails its hash."""


class PluginLoadError(Error):
    """The wasm module cannot be turned into a plugin."""


class InvalidModuleError(PluginLoadError):
    """The bytes are not a valid WebAssembly module, or instantiating it failed."""


class LinkError(PluginLoadError):
    """The module imports functions nobody provides.

    Attributes:
        missing: every unresolved import as ``(module, name)`` pairs, in import order.
    """

    def __init__(self, message: str, missing: Sequence[Tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.missing = list(missing)


class CallError(Error):
    """A call of a plugin function failed.

    Attributes:
        function_name: the export that was called.
    """

    def __init__(self, message: str, function_name: str = "") -> None:
        super().__init__(message)
        self.function_name = function_name


class FunctionNotFoundError(CallError, LookupError):
    """The plugin has no exported function of that name."""


class FunctionSignatureError(CallError, TypeError):
    """The export exists but cannot be called as a plugin function (it takes arguments or
    returns something other than nothing or an i32)."""


class PluginCallError(CallError):
    """The plugin reported a failure: it set an error text and/or returned a non-zero code.

    Attributes:
        code: the return code (as ``extism_plugin_call`` reports it).
        message: the plugin's error text, or ``None`` if it only returned a non-zero code.
    """

    def __init__(self, message: str, function_name: str = "", code: int = 0,
                 plugin_message: Optional[str] = None) -> None:
        super().__init__(message, function_name)
        self.code = code
        self.message = plugin_message


class Trap(CallError):
    """The guest trapped (unreachable, out-of-bounds access, ...) or the Extism kernel refused
    an operation (invalid handle, var store full, ...).

    ``str(trap)`` is the message followed by the wasm backtrace, when there is one, as the
    official runtime formats it (see :mod:`extism_native.backtrace`).

    Attributes:
        reason: the trap or refusal, without the call context.
        frames: the wasm frames the trap unwound, innermost first (a list of
            :class:`~extism_native.backtrace.Frame`; empty when the trap did not happen inside
            wasm code).
    """

    def __init__(self, message: str, function_name: str = "", reason: str = "",
                 frames: Sequence["Frame"] = ()) -> None:
        super().__init__(message, function_name)
        self.reason = reason
        self.frames: List["Frame"] = list(frames)

    def __str__(self) -> str:
        text = super().__str__()
        frames = getattr(self, "frames", None)  # (absent on an object made without __init__)
        if not frames:
            return text
        from .backtrace import format_backtrace

        return f"{text}\n{format_backtrace(frames)}"


class ExitError(CallError):
    """The guest called WASI ``proc_exit`` with a non-zero code.

    Attributes:
        code: the exit code.
    """

    def __init__(self, message: str, function_name: str = "", code: int = 0) -> None:
        super().__init__(message, function_name)
        self.code = code


class HostFunctionError(CallError):
    """A host function failed and stopped the guest."""


class HttpError(CallError):
    """An HTTP request of the guest was not allowed, was invalid, or failed."""


class CallTimeoutError(CallError, TimeoutError):
    """The call ran longer than its timeout and was stopped."""


class CancelledError(CallError):
    """The call was stopped through the plugin's cancel handle."""


class OutOfMemoryError(Error, MemoryError):
    """The host or the plugin's kernel memory ran out of memory."""


class UsageError(Error, RuntimeError):
    """The API was used in a way that cannot work (closed plugin, re-entrant call, ...)."""


class UnsupportedError(Error, NotImplementedError):
    """The input asks for a feature extism_native does not implement."""


# exn_status_t -> exception class; one table, used by every place that reports a C status.
_STATUS_CLASSES: Dict[int, Type[Error]] = {
    1: UsageError,
    2: OutOfMemoryError,
    3: ManifestError,
    4: InvalidModuleError,
    5: LinkError,
    6: FunctionNotFoundError,
    7: FunctionSignatureError,
    8: PluginCallError,
    9: Trap,
    10: ExitError,
    11: HostFunctionError,
    12: CancelledError,
    13: CallTimeoutError,
    14: UnsupportedError,
    15: HttpError,
}


def _parse_missing(detail: str) -> list[tuple[str, str]]:
    """Pull the module::name pairs out of the core's "unresolved imports: ..." message."""
    body = detail.split("unresolved imports:", 1)[-1]
    missing = []
    for item in body.split(";"):
        item = item.strip().split(" (", 1)[0]
        module, sep, name = item.rpartition("::")
        if sep:
            missing.append((module, name))
    return missing


def load_error(status: int, detail: str) -> Error:
    """The exception for a failed plugin creation."""
    cls = _STATUS_CLASSES.get(status, Error)
    if cls is LinkError:
        return LinkError(f"cannot load plugin: {detail}", _parse_missing(detail))
    return cls(f"cannot load plugin: {detail}")


def call_error(status: int, function_name: str, detail: str, code: int,
               has_text: bool = True) -> Error:
    """The exception for a failed call of export ``function_name``.

    ``has_text`` tells a plugin error text (possibly empty) from a bare non-zero return code.
    """
    cls = _STATUS_CLASSES.get(status, Error)
    where = f"calling {function_name!r}"
    if cls is PluginCallError:
        if has_text:
            text = detail or f"the plugin set an empty error message (code {code})"
            return PluginCallError(f"{where}: {text}", function_name, code, detail)
        return PluginCallError(f"{where}: returned non-zero code {code}", function_name, code)
    if cls is Trap:
        return Trap(f"{where}: trap: {detail}", function_name, detail)
    if cls is ExitError:
        return ExitError(f"{where}: {detail}", function_name, code)
    if issubclass(cls, CallError):
        return cls(f"{where}: {detail}", function_name)
    return cls(f"{where}: {detail}")
