"""The :class:`Plugin` class: load an Extism plugin and call its functions."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import (Any, Callable, Dict, Iterable, Mapping, Optional, Tuple, TypeVar, Union,
                    overload)

from . import errors
from ._callbacks import PluginContext
from ._logging import LogTarget, global_sink_configured, level_code
from ._native import ffi, lib
from .host_function import Function
from .http import Transport
from .wasi import WASI

T = TypeVar("T")

PluginSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", Mapping[str, Any]]
Input = Union[str, bytes, bytearray, memoryview, Any]

_ERRBUF = 4096
_call = lib.exn_call
_unpack = ffi.unpack
_NULL = ffi.NULL
_cv_lock = threading.Lock()  # makes a Plugin's wait condition once, when a call first waits


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"{type(value).__name__} cannot be part of a manifest")


def _source_bytes(plugin: Any) -> Tuple[bytes, str]:
    """The bytes to hand to the core, and a default name for the plugin's logger."""
    if isinstance(plugin, bytes):
        return plugin, "plugin"
    if isinstance(plugin, (bytearray, memoryview)):
        return bytes(plugin), "plugin"
    if isinstance(plugin, os.PathLike):
        path = Path(plugin)
        return path.read_bytes(), path.stem or "plugin"
    if isinstance(plugin, str):
        # as in the official package: an existing file's path, else manifest JSON text
        if len(plugin) < 4096 and "\n" not in plugin and os.path.isfile(plugin):
            return Path(plugin).read_bytes(), Path(plugin).stem or "plugin"
        return plugin.encode("utf-8"), "plugin"
    to_dict = getattr(plugin, "to_dict", None)
    if isinstance(plugin, Mapping) or callable(to_dict):
        manifest = dict(plugin) if isinstance(plugin, Mapping) else to_dict()  # type: ignore[misc]
        name = "plugin"
        wasm = manifest.get("wasm")
        if isinstance(wasm, list) and wasm and isinstance(wasm[-1], Mapping):
            last = wasm[-1]
            name = str(last.get("name") or Path(str(last.get("path") or "plugin")).stem)
        try:
            text = json.dumps(manifest, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise errors.ManifestError(f"invalid manifest: {exc}") from None
        return text.encode("utf-8"), name
    raise TypeError(
        "plugin must be wasm bytes, a path, a manifest (dict or JSON text), "
        f"not {type(plugin).__name__}")


def _functions(functions: Optional[Iterable[Any]]) -> list:
    funcs = list(functions or ())
    for f in funcs:
        if not isinstance(f, Function):
            raise TypeError("functions must be extism_native.Function objects (use @host_fn), "
                            f"not {type(f).__name__}")
    return funcs


class CompiledPlugin:
    """A plugin read, checked and validated once, from which instances are cheap to make.

    ``Plugin(compiled)`` (or :meth:`instantiate`) creates an instance with its own memory,
    globals, vars and kernel memory, sharing the modules and host functions.  A compiled plugin
    can be shared by threads; it may be dropped while its instances live on.

    Args:
        plugin: as for :class:`Plugin` (bytes, a path, a manifest).
        wasi: ``True`` or a :class:`WASI` (the default options of its instances).
        functions: host functions every instance links.
    """

    def __init__(self, plugin: PluginSource, wasi: Union[bool, WASI] = False,
                 functions: Optional[Iterable[Any]] = None, *, name: Optional[str] = None) -> None:
        data, default_name = _source_bytes(plugin)
        self.name = name or default_name
        self.functions = _functions(functions)
        self.wasi = wasi if isinstance(wasi, WASI) else (WASI() if wasi else None)
        self.size = len(data)
        out = ffi.new("ExtismCompiledPlugin **")
        errbuf = ffi.new("char[]", _ERRBUF)
        fn_ptrs = (ffi.new("ExtismFunction *[]", [f.pointer for f in self.functions])
                   if self.functions else _NULL)
        status = lib.exn_compiled_plugin_new(data, len(data), fn_ptrs, len(self.functions),
                                             self.wasi is not None, out, errbuf, _ERRBUF)
        if status:
            raise errors.load_error(status, ffi.string(errbuf).decode("utf-8", "replace"))
        self._ptr = ffi.gc(out[0], lib.extism_compiled_plugin_free, size=len(data))

    @property
    def pointer(self) -> Any:
        """The underlying ExtismCompiledPlugin* (for the C API)."""
        return self._ptr

    def instantiate(self, **kwargs: Any) -> "Plugin":
        """A new :class:`Plugin` instance (keyword arguments as for Plugin)."""
        return Plugin(self, **kwargs)

    def __repr__(self) -> str:
        return f"<extism_native.CompiledPlugin {self.name!r}>"


class Plugin:
    """A loaded Extism plugin.

    Args:
        plugin: the wasm module as bytes, a path to a ``.wasm`` file, or a manifest - a dict or
            its JSON text (``{"wasm": [{"path": ...} | {"data": bytes} | ...], "config": ...}``).
        wasi: provide WASI preview 1 to the module: ``True``, or a :class:`WASI` with
            arguments, environment and stdio settings.
        config: config entries (str -> str) the guest reads with ``config_get``; they are added
            to the manifest's.
        functions: host functions the plugin may import (only those given are linked).
        name: name of the plugin, used for its logger (default: the file or module name).
        logger: where guest logs go: a :class:`logging.Logger` (default
            ``logging.getLogger("extism_native.plugin." + name)``) or a callable
            ``(level, message)`` with level one of "trace", "debug", "info", "warn", "error".
        log_level: threshold the guest sees ("trace" ... "error", "off" or a logging level).
            Default: the Logger's effective level, checked at each call; "info" for a callable.
        http_transport: performs the guest's HTTP requests (``HttpRequest -> HttpResponse``);
            default :func:`extism_native.http.default_transport`.  Whatever it is, requests
            are only made to the manifest's ``allowed_hosts``.
        http_response_headers: let the guest read response headers (``http_headers``).

    Raises:
        ManifestError: invalid manifest or unreadable source.
        InvalidModuleError: the bytes are not a usable wasm module.
        LinkError: the module imports functions nobody provides (``.missing`` lists them).
        UnsupportedError: the input asks for something extism_native does not implement.

    Example:
        >>> import extism_native as extism
        >>> with extism.Plugin(wasm_bytes) as plugin:       # doctest: +SKIP
        ...     plugin.call("count_vowels", "hello world")
        b'{"count":3,"total":3,"vowels":"aeiouAEIOU"}'
    """

    def __init__(self, plugin: Union[PluginSource, "CompiledPlugin"],
                 wasi: Union[bool, WASI] = False,
                 config: Optional[Mapping[str, str]] = None,
                 functions: Optional[Iterable[Any]] = None, *, name: Optional[str] = None,
                 logger: Optional[LogTarget] = None,
                 log_level: Union[str, int, None] = None,
                 http_transport: Optional[Transport] = None,
                 http_response_headers: bool = False) -> None:
        self._ptr: Any = None
        self._id: Optional[uuid.UUID] = None
        self._ctx: Optional[PluginContext] = None
        if config is not None and not isinstance(config, Mapping):
            raise TypeError(f"config must be a mapping of str to str, not {type(config).__name__}")
        threshold = None if log_level is None else level_code(log_level)
        if logger is not None and not isinstance(logger, logging.Logger) and not callable(logger):
            raise TypeError("logger must be a logging.Logger or a callable (level, message)")
        if http_transport is not None and not callable(http_transport):
            raise TypeError("http_transport must be a callable (HttpRequest) -> HttpResponse")

        out = ffi.new("ExtismPlugin **")
        errbuf = ffi.new("char[]", _ERRBUF)
        if isinstance(plugin, CompiledPlugin):
            if functions:
                raise TypeError("host functions belong to the CompiledPlugin, not to its "
                                "instances")
            if wasi and not plugin.wasi:
                raise errors.UsageError("this CompiledPlugin was compiled without WASI")
            wasi_options = wasi if isinstance(wasi, WASI) else plugin.wasi
            self.name = name or plugin.name
            size = plugin.size
            status = lib.exn_plugin_new_from_compiled(plugin._ptr, out, errbuf, _ERRBUF)
        else:
            data, default_name = _source_bytes(plugin)
            self.name = name or default_name
            funcs = _functions(functions)
            fn_ptrs = ffi.new("ExtismFunction *[]", [f.pointer for f in funcs]) if funcs else _NULL
            wasi_options = wasi if isinstance(wasi, WASI) else (WASI() if wasi else None)
            size = len(data)
            status = lib.exn_plugin_new(data, size, fn_ptrs, len(funcs),
                                        wasi_options is not None, out, errbuf, _ERRBUF)
        if status:
            raise errors.load_error(status, ffi.string(errbuf).decode("utf-8", "replace"))
        self._ptr = ffi.gc(out[0], lib.extism_plugin_free, size=size + (1 << 16))
        # One token: the thread that pops it owns the call state until it has copied the output
        # (list.pop and append are atomic and much cheaper than a Lock's acquire); threads that
        # find it gone wait on _cv (made when first needed).
        self._token = [True]
        self._waiters = 0
        self._cv: Optional[threading.Condition] = None
        self._names: Dict[str, bytes] = {}
        self._ctx = ctx = PluginContext(id(self))
        # the call state C reads on every call: what rarely changes is set once
        self._cs: Any = ffi.new("exn_call_t *")
        self._cs.plugin = self._ptr
        self._cs.host_context = ctx.c_key
        self._cs.timeout_ns = -1  # EXN_TIMEOUT_DEFAULT
        if wasi_options is not None:
            wasi_options._apply(self._ptr, ctx)
        ctx.http_transport = http_transport
        lib.exn_plugin_set_http_transport(self._ptr, lib._exn_py_http, ctx.c_key)
        if http_response_headers:
            lib.extism_plugin_allow_http_response_headers(self._ptr)
        if config:
            self.update_config(config)

        if logger is None and log_level is None and global_sink_configured():
            return  # the process-wide sink of set_log_file / set_log_custom
        if logger is None:
            logger = logging.getLogger(f"extism_native.plugin.{self.name}")
        if threshold is None and not isinstance(logger, logging.Logger):
            threshold = level_code("info")
        ctx.log_target = logger
        ctx.log_level = threshold
        lib.exn_plugin_set_logger(self._ptr, lib.EXN_LOG_ASK if threshold is None else threshold,
                                  lib._exn_py_log, ctx.c_key)

    # ---- calls -----------------------------------------------------------------------------

    @overload
    def call(self, function_name: str, data: Input = ..., parse: None = ...,
             host_context: Any = ..., *, timeout: Optional[float] = ...) -> bytes: ...

    @overload
    def call(self, function_name: str, data: Input, parse: Callable[[bytes], T],
             host_context: Any = ..., *, timeout: Optional[float] = ...) -> T: ...

    def call(self, function_name: str, data: Input = b"",
             parse: Optional[Callable[[bytes], Any]] = None, host_context: Any = None, *,
             timeout: Optional[float] = None) -> Any:
        """Call the plugin's exported function ``function_name`` with ``data`` as its input.

        Args:
            function_name: name of an export of type ``() -> ()`` or ``() -> i32``.
            data: the input: ``str`` (sent as UTF-8), ``bytes`` or any contiguous buffer.
            parse: applied to the output bytes; by default the bytes are returned.
            host_context: any object; host functions can read it during this call.
            timeout: seconds this call may run (default: the manifest's ``timeout_ms``).

        Returns:
            The output bytes, or ``parse(output)``.

        Raises:
            FunctionNotFoundError, FunctionSignatureError: no such callable export.
            PluginCallError: the plugin set an error or returned a non-zero code.
            Trap: the guest trapped or the kernel refused an operation.
            ExitError: the guest called WASI proc_exit with a non-zero code.
            CallTimeoutError: the call ran out of time (also a ``TimeoutError``).
            CancelledError: the call was stopped through :meth:`cancel_handle`.
            UsageError: the plugin is closed, or the call re-enters it from a host function.
        """
        cs = self._cs
        if cs is None:
            raise errors.UsageError(f"calling {function_name!r}: the plugin is closed")
        if type(data) is not bytes:
            if isinstance(data, str):
                data = data.encode("utf-8")
            else:
                view = memoryview(data)  # TypeError for what is not a buffer
                if not view.c_contiguous:  # CPython's from_buffer refuses it, PyPy's copies it
                    raise BufferError("the input must be a C-contiguous buffer")
                data = ffi.from_buffer(view)
        name = self._names.get(function_name)
        if name is None:
            name = self._encode_name(function_name)
        # The output lives in kernel memory until the next call: hold the call token until it
        # is copied, so a call from another thread cannot overwrite it first.
        token = self._token
        try:
            token.pop()
        except IndexError:
            self._wait_for_token(function_name)
        try:
            if host_context is not None or timeout is not None:
                self._set_call_options(host_context, timeout)
            n = _call(cs, name, data, len(data))
            if n > 0:
                out = _unpack(cs.output, n)
            elif n == 0:
                out = b""
            else:
                raise self._call_error(cs.status, function_name, cs.rc)
        finally:
            if host_context is not None or timeout is not None:
                self._set_call_options(None, None)
            token.append(True)
            if self._waiters:
                self._wake_waiter()
        return out if parse is None else parse(out)

    def _set_call_options(self, host_context: Any, timeout: Optional[float]) -> None:
        if timeout is None:
            self._cs.timeout_ns = -1  # EXN_TIMEOUT_DEFAULT
        elif timeout >= 0:
            self._cs.timeout_ns = min(int(timeout * 1e9), 2**62)
        else:
            raise ValueError("timeout must not be negative")
        self._ctx.host_context = host_context  # type: ignore[union-attr]

    async def call_async(self, function_name: str, data: Input = b"",
                         parse: Optional[Callable[[bytes], Any]] = None,
                         host_context: Any = None, *, timeout: Optional[float] = None) -> Any:
        """:meth:`call` without blocking the event loop: the call runs in the loop's default
        executor (the GIL is released while the guest runs).  Cancelling the awaiting task
        cancels the guest call too."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            None, functools.partial(self.call, function_name, data, parse, host_context,
                                    timeout=timeout))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            self.cancel_handle().cancel()
            try:
                await future
            except Exception:
                pass
            raise

    def _wait_for_token(self, function_name: str) -> None:
        # the plugin is busy: if it is busy on this very thread, a callback of its own call is
        # calling back into it (waiting would deadlock)
        if self._ptr is not None and lib.exn_plugin_is_running_here(self._ptr):
            raise errors.UsageError(
                f"calling {function_name!r}: re-entrant call: a host function called back into "
                "the plugin that is calling it")
        with _cv_lock:
            if self._cv is None:
                self._cv = threading.Condition(threading.Lock())
        with self._cv:
            # counted before trying, so a token returned after a failed try is signalled
            self._waiters += 1
            try:
                while True:
                    try:
                        self._token.pop()
                        return
                    except IndexError:
                        self._cv.wait()
            finally:
                self._waiters -= 1

    def _wake_waiter(self) -> None:
        cv = self._cv
        if cv is not None:  # made by the waiter before it counted itself
            with cv:
                cv.notify()

    @property
    def id(self) -> uuid.UUID:
        """The plugin's unique id (a UUID4, as ``extism_plugin_id`` gives it)."""
        if self._id is None:  # read when first asked for (close() reads it too)
            self._id = uuid.UUID(bytes=bytes(ffi.buffer(lib.extism_plugin_id(self._ptr), 16)))
        return self._id

    def _encode_name(self, function_name: str) -> bytes:
        if not isinstance(function_name, str):
            raise TypeError(f"function name must be a str, not {type(function_name).__name__}")
        name = function_name.encode("utf-8")
        if b"\0" in name:
            raise ValueError("function name contains a NUL character")
        if len(self._names) < 1024:
            self._names[function_name] = name
        return name

    def _call_error(self, status: int, function_name: str, rc: int) -> BaseException:
        detail = ffi.string(lib.exn_plugin_errmsg(self._ptr)).decode("utf-8", "replace")
        has_text = lib.extism_plugin_error(self._ptr) != _NULL
        exc = errors.call_error(status, function_name, detail, rc, has_text)
        ctx = self._ctx
        if ctx is not None and ctx.error is not None:
            # a host function or log handler raised: give back that very exception, chained to
            # the error that describes the call
            raised, ctx.error = ctx.error, None
            raised.__cause__ = exc
            return raised
        return exc

    # ---- everything else ---------------------------------------------------------------------

    def cancel_handle(self) -> "CancelHandle":
        """A handle that stops this plugin's running call from any thread."""
        return CancelHandle(self)

    def function_exists(self, name: str) -> bool:
        """True if the plugin exports ``name`` as a callable plugin function."""
        if self._ptr is None:
            return False
        return lib.exn_plugin_function_kind(self._ptr, name.encode("utf-8")) == 1

    def update_config(self, values: Mapping[str, Optional[str]]) -> None:
        """Set config entries (``None`` removes one); the next call sees them.

        Raises:
            TypeError: a key is not a str or a value is neither str nor None.
        """
        self._check_open()
        for key, value in values.items():
            if not isinstance(key, str):
                raise TypeError(f"config keys must be str, not {type(key).__name__}")
            if value is not None and not isinstance(value, str):
                raise TypeError(
                    f"config value for {key!r} must be a str or None, not {type(value).__name__}")
        for key, value in values.items():
            k = key.encode("utf-8")
            if value is None:
                status = lib.exn_plugin_config_set(self._ptr, k, len(k), _NULL, 0)
            else:
                v = value.encode("utf-8")
                status = lib.exn_plugin_config_set(self._ptr, k, len(k), v, len(v))
            if status:
                raise errors.OutOfMemoryError("cannot store config")

    def read_stdout(self) -> bytes:
        """What the guest wrote to stdout since the last read (``WASI(stdout="capture")``)."""
        return self._take_output(1)

    def read_stderr(self) -> bytes:
        """What the guest wrote to stderr since the last read (``WASI(stderr="capture")``)."""
        return self._take_output(2)

    def _take_output(self, fd: int) -> bytes:
        buf = self._ctx.outputs.get(fd) if self._ctx is not None else None
        if not isinstance(buf, bytearray):
            raise errors.UsageError("this plugin's output is not captured: use "
                                    "WASI(stdout='capture') or WASI(stderr='capture')")
        data = bytes(buf)
        del buf[:]
        return data

    def reset(self) -> bool:
        """Free all of the plugin's kernel memory now (it is freed at every call anyway)."""
        return self._ptr is not None and bool(lib.extism_plugin_reset(self._ptr))

    def close(self) -> None:
        """Release the plugin's memory and engine.  Calls afterwards raise UsageError.
        Safe to call more than once; also done by ``with`` and when the object is collected."""
        if self._ptr is not None and self._id is None:
            self.id  # noqa: B018  (kept readable after close)
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            if lib.exn_plugin_close(ptr):
                self._ptr = ptr
                raise errors.UsageError("a plugin cannot be closed from inside its own call")
            self._cs = None
        if self._ctx is not None:
            self._ctx.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._ptr is None

    def _check_open(self) -> None:
        if self._ptr is None:
            raise errors.UsageError("the plugin is closed")

    def __enter__(self) -> "Plugin":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        ctx = getattr(self, "_ctx", None)
        if ctx is not None:
            ctx.close()

    def __repr__(self) -> str:
        # also for a Plugin whose __init__ failed (pytest and debuggers show those)
        name = getattr(self, "name", None)
        if getattr(self, "_ptr", None) is not None:
            return f"<extism_native.Plugin {name!r} id={self.id} open>"
        ident = getattr(self, "_id", None)
        return f"<extism_native.Plugin {name!r}{'' if ident is None else f' id={ident}'} closed>"


class CancelHandle:
    """Stops the running call of one plugin, from any thread.

    ``cancel()`` makes the call running at that moment raise :class:`CancelledError` at its
    next loop iteration or function entry (host functions are not interrupted); it returns
    False, and nothing is remembered, when no call is running.  The plugin stays usable.
    """

    def __init__(self, plugin: Plugin) -> None:
        # keep the C plugin object (not just the Python one, whose close() lets go of it)
        # alive as long as the handle: the handle points into it
        self._owner = plugin._ptr
        self._pointer = lib.extism_plugin_cancel_handle(plugin._ptr) if plugin._ptr else _NULL

    def cancel(self) -> bool:
        """Request the running call to stop; True if a call was running."""
        return self._pointer != _NULL and bool(lib.extism_plugin_cancel(self._pointer))
