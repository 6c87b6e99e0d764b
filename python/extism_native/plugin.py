"""The :class:`Plugin` class: load an Extism plugin and call its functions."""

from __future__ import annotations

import asyncio
import base64
import errno
import functools
import json
import logging
import os
import pickle
import signal
import threading
import uuid
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Tuple,
    TypeVar,
    Union,
    overload,
)

from . import _pickling, errors
from ._callbacks import PluginContext
from ._logging import LogTarget, global_sink_configured, level_code
from ._native import ffi, lib
from .backtrace import read_call_frames
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

# ---- Ctrl-C -----------------------------------------------------------------------------------
# Python's SIGINT handler only sets a flag the interpreter reads between bytecodes, so a guest
# running on the main thread would not notice it.  While Python's default handler (the one that
# raises KeyboardInterrupt) is in place, the binding puts a C handler in front of it that stops
# the call running on the main thread (_binding.c); the call then returns and Python raises
# KeyboardInterrupt, as it does in time.sleep.  Every call compares the Python handler with the
# one seen last (one C call, no system call) and re-does this when it changed: a handler of the
# user's own never has a running call stopped for it.

_SIGINT = int(signal.SIGINT)
try:  # the C function (signal.getsignal wraps it in enum conversions that raise for functions)
    from _signal import getsignal as _getsignal  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - every CPython and PyPy has _signal
    _getsignal = signal.getsignal
_MAIN_THREAD = threading.main_thread().ident
_sigint_seen: Any = object()  # the Python SIGINT handler when last synced (none yet)


def _sigint_sync() -> None:
    """Install (or take away) the C SIGINT handler to match Python's handler now."""
    global _sigint_seen
    if threading.get_ident() != _MAIN_THREAD:
        return  # signal handlers are (re)installed from the main thread
    handler = _getsignal(_SIGINT)
    if handler is signal.default_int_handler:
        lib.exn_py_sigint_install()
    else:
        lib.exn_py_sigint_uninstall()
    _sigint_seen = handler


def _input_bytes(data: Any, function_name: str) -> Any:
    """The input as something cffi passes as ``const uint8_t *``."""
    if isinstance(data, str):
        return data.encode("utf-8")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"calling {function_name!r}: the input must be a str (sent as UTF-8), "
                        "bytes, or a bytes-like object such as bytearray or memoryview, not "
                        f"{type(data).__name__}") from None
    if not view.c_contiguous:  # CPython's from_buffer refuses it, PyPy's copies it
        raise BufferError(f"calling {function_name!r}: the input must be a C-contiguous buffer")
    return ffi.from_buffer(view)


# exn_call_t objects: freeing one frees the output buffer C gave it (_binding.c)
_new_call_state = ffi.new_allocator(alloc=lib.exn_py_call_alloc, free=lib.exn_py_call_free,
                                    should_clear_after_alloc=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"{type(value).__name__} cannot be part of a manifest")


def _looks_like_path(text: str) -> bool:
    """A str naming no file that is meant as a path, not as manifest JSON (or WAT) text."""
    stripped = text.strip()
    return (stripped[:1] not in ("{", "[", "(", '"') and
            ("/" in stripped or os.sep in stripped or
             stripped.lower().endswith((".wasm", ".json", ".wat"))))


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
        if len(plugin) < 4096 and "\n" not in plugin:
            if os.path.isfile(plugin):
                return Path(plugin).read_bytes(), Path(plugin).stem or "plugin"
            if _looks_like_path(plugin):
                raise FileNotFoundError(errno.ENOENT, "no such plugin file (a str that is not "
                                        "a JSON manifest is taken as a path)", plugin)
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


def _functions(functions: Optional[Iterable[Any]]) -> List[Any]:
    funcs = list(functions or ())
    for f in funcs:
        if not isinstance(f, Function):
            raise TypeError("functions must be extism_native.Function objects (use @host_fn), "
                            f"not {type(f).__name__}")
    return funcs


_TIERS = {"auto": 1, "interp": 2, "native": 3}
_TIER_STATES = ("interp", "watching", "compiling", "native")


def _check_fuel(fuel: Optional[int]) -> Optional[int]:
    """`fuel` as given to Plugin/CompiledPlugin: None, or a budget of 1 to 2**63 - 1 units."""
    if fuel is None:
        return None
    if isinstance(fuel, bool) or not isinstance(fuel, int):
        raise TypeError(f"fuel must be an int or None, not {type(fuel).__name__}")
    if not 0 < fuel < 2**63:
        raise ValueError(f"fuel must be from 1 to 2**63 - 1 units, not {fuel}")
    return fuel


def _tier_options(tier: Optional[str], fuel: Optional[int] = None) -> Any:
    """exn_compile_options_t for `tier` (None: the environment's choice) and `fuel` (None:
    none)."""
    if tier is None and fuel is None:
        return _NULL
    if tier is not None and tier not in _TIERS:
        raise ValueError(f"tier must be 'auto', 'interp' or 'native', not {tier!r}")
    options = ffi.new("exn_compile_options_t *")
    options.size = ffi.sizeof("exn_compile_options_t")
    options.tier = _TIERS[tier] if tier is not None else 0  # (0: EXN_TIER_DEFAULT)
    options.fuel = fuel or 0
    return options


def _plugin_new_with_tier(data: bytes, fn_ptrs: Any, n_fns: int, with_wasi: bool,
                          tier: Optional[str], out: Any, errbuf: Any,
                          fuel: Optional[int] = None) -> int:
    """exn_plugin_new with a tier or fuel: a compiled plugin of its own, then its instance."""
    compiled = ffi.new("ExtismCompiledPlugin **")
    status = lib.exn_compiled_plugin_new_with_options(data, len(data), fn_ptrs, n_fns,
                                                      with_wasi, _tier_options(tier, fuel),
                                                      compiled, errbuf, _ERRBUF)
    if status:
        return int(status)
    try:
        return int(lib.exn_plugin_new_from_compiled(compiled[0], out, errbuf, _ERRBUF))
    finally:
        lib.extism_compiled_plugin_free(compiled[0])  # the plugin holds its own reference


def native_available() -> Tuple[bool, str]:
    """Whether the native (compiled) tier works in this process: ``(True, "gcc (Debian
    12.2.0-14) 12.2.0")`` with the C compiler it uses, or ``(False, reason)``.  The first call
    looks for the compiler (runs it: ~10 ms)."""
    buf = ffi.new("char[]", _ERRBUF)
    ok = lib.exn_native_available(buf, _ERRBUF) == 0
    return ok, ffi.string(buf).decode("utf-8", "replace")


class CompiledPlugin:
    """A plugin read, checked and validated once, from which instances are cheap to make.

    ``Plugin(compiled)`` (or :meth:`instantiate`) creates an instance with its own memory,
    globals, vars and kernel memory, sharing the modules and host functions.  A compiled plugin
    can be shared by threads; it may be dropped while its instances live on.

    Args:
        plugin: as for :class:`Plugin` (bytes, a path, a manifest).
        wasi: ``True`` or a :class:`WASI` (the default options of its instances).
        functions: host functions every instance links.
        tier: what runs the code (README "Tiers"): ``"auto"`` (the interpreter at once,
            compiled code once the plugin is hot and a C compiler compiled it in the
            background, or at once from the cache), ``"interp"`` (the interpreter only) or
            ``"native"`` (compiled code only: compile now or load from the cache, and wait;
            :class:`UnsupportedError` when it cannot).  Default: the environment variable
            ``EXTISM_NATIVE_TIER``, else ``"auto"``.
        fuel: the budget of every call of its plugins, in units of one wasm function entry or
            loop entry (README "Limits, timeouts, cancel"), the same on both tiers; a call that
            needs more raises :class:`Trap` ("plugin ran out of fuel").  Default: no budget.

    A compiled plugin pickles as what it was made from (see :meth:`__reduce__`); unpickling
    reads, checks and validates it again.
    """

    def __init__(self, plugin: PluginSource, wasi: Union[bool, WASI] = False,
                 functions: Optional[Iterable[Any]] = None, *, name: Optional[str] = None,
                 tier: Optional[str] = None, fuel: Optional[int] = None) -> None:
        self.fuel = _check_fuel(fuel)
        data, default_name = _source_bytes(plugin)
        self.name = name or default_name
        self.functions = _functions(functions)
        self.wasi = wasi if isinstance(wasi, WASI) else (WASI() if wasi else None)
        self.size = len(data)
        self._tier = tier
        out = ffi.new("ExtismCompiledPlugin **")
        errbuf = ffi.new("char[]", _ERRBUF)
        fn_ptrs = (ffi.new("ExtismFunction *[]", [f.pointer for f in self.functions])
                   if self.functions else _NULL)
        status = lib.exn_compiled_plugin_new_with_options(
            data, len(data), fn_ptrs, len(self.functions), self.wasi is not None,
            _tier_options(tier, self.fuel), out, errbuf, _ERRBUF)
        if status:
            raise errors.load_error(status, ffi.string(errbuf).decode("utf-8", "replace"))
        self._ptr = ffi.gc(out[0], lib.extism_compiled_plugin_free, size=len(data))
        self._data = data  # what pickling sends (already in memory: no copy)

    @property
    def pointer(self) -> Any:
        """The underlying ExtismCompiledPlugin* (for the C API)."""
        return self._ptr

    @property
    def tier(self) -> str:
        """Where the compiled plugin stands: ``"native"`` (compiled code: new instances use
        it, existing ones move to it at their next call), ``"compiling"`` (in the background),
        ``"watching"`` (auto: on the interpreter, compiled once its calls have run
        ``EXTISM_NATIVE_HOT_MS`` of guest code) or ``"interp"`` (the interpreter for good:
        :attr:`tier_reason` says why)."""
        return _TIER_STATES[lib.exn_compiled_plugin_tier(self._ptr, _NULL, 0)]

    @property
    def tier_reason(self) -> str:
        """How the compiled plugin got to its :attr:`tier` ("tier interp", "the compiled tier
        is not available (no C compiler found ...)", "compiled code from the cache", ...)."""
        buf = ffi.new("char[]", _ERRBUF)
        lib.exn_compiled_plugin_tier(self._ptr, buf, _ERRBUF)
        return str(ffi.string(buf).decode("utf-8", "replace"))

    def compile_native(self, timeout: Optional[float] = None) -> bool:
        """Compile for the native tier now (auto tier) instead of once the plugin is hot, and
        wait for it for at most ``timeout`` seconds (``None``: as long as it takes; ``0``: do
        not wait).  The instances move to the compiled code at their next call.

        Returns:
            True when the compiled code is ready, False if it is still compiling.

        Raises:
            UnsupportedError: the compiled tier cannot run this plugin here (no C compiler, a
                feature it lacks, or ``tier="interp"``); the message says why.
        """
        ns = -2 if timeout is None else max(0, int(timeout * 1e9))
        errbuf = ffi.new("char[]", _ERRBUF)
        status = lib.exn_compiled_plugin_compile_native(self._ptr, ns, errbuf, _ERRBUF)
        if status == lib.EXN_ERR_TIMEOUT:
            return False
        if status:
            reason = ffi.string(errbuf).decode("utf-8", "replace")
            raise errors.UnsupportedError(
                f"cannot compile {self.name!r} for the native tier: {reason}")
        return True

    def instantiate(self, **kwargs: Any) -> "Plugin":
        """A new :class:`Plugin` instance (keyword arguments as for Plugin)."""
        return Plugin(self, **kwargs)

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickle as what the compiled plugin was made from: the bytes the C core got (the
        wasm module, or the manifest's JSON text: a manifest's ``path`` and ``url`` sources are
        read again where it is unpickled), ``wasi``, ``functions`` (each by reference, see
        :class:`Function`) and ``name``.  Unpickling compiles it again.

        Raises:
            pickle.PicklingError: a host function or WASI callable cannot be pickled (the
                message names it).
        """
        return self.__reduce_ex__(2)

    def __reduce_ex__(self, protocol: Any) -> Tuple[Any, ...]:
        what = f"compiled plugin {self.name!r}"
        for f in self.functions:
            _pickling.check(f"host function {f.namespace}::{f.name} of {what}", f)
        if self.wasi is not None:
            _pickling.check(f"the WASI options of {what}", self.wasi)
        return (_compiled_plugin, (_data_for(self._data, protocol), self.wasi or False,
                                   self.functions, self.name, self._tier, self.fuel))

    def __copy__(self) -> "CompiledPlugin":
        return self  # nothing in it changes after creation

    def __deepcopy__(self, memo: Any) -> "CompiledPlugin":
        return self

    def __repr__(self) -> str:
        return f"<extism_native.CompiledPlugin {self.name!r}>"


def _data_for(data: bytes, protocol: Any) -> Any:
    """The module bytes as a pickler should send them: with protocol 5, a PickleBuffer
    (in-band it is written as bytes; out-of-band, as Dask does, it is sent without a copy)."""
    if isinstance(protocol, int) and protocol >= 5 and hasattr(pickle, "PickleBuffer"):
        return pickle.PickleBuffer(data)
    return data


def _compiled_plugin(data: Any, wasi: Union[bool, WASI], functions: List[Any],
                     name: str, tier: Optional[str] = None,
                     fuel: Optional[int] = None) -> CompiledPlugin:
    """Unpickle a CompiledPlugin."""
    return CompiledPlugin(bytes(data), wasi, functions, name=name, tier=tier, fuel=fuel)


def _plugin(source: Any, config: Mapping[str, Optional[str]], kwargs: Dict[str, Any]) -> "Plugin":
    """Unpickle a Plugin: a new instance made as the pickled one was, with its config."""
    plugin = Plugin(source if isinstance(source, CompiledPlugin) else bytes(source), **kwargs)
    if config:
        plugin.update_config(config)
    return plugin


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
        tier: ``"auto"``, ``"interp"`` or ``"native"``, as for :class:`CompiledPlugin` (not
            with a CompiledPlugin, which has its own).
        fuel: the budget of each call, as for :class:`CompiledPlugin` (not with a
            CompiledPlugin, which has its own); :attr:`fuel_used` tells what a call used.

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
                 http_response_headers: bool = False, tier: Optional[str] = None,
                 fuel: Optional[int] = None) -> None:
        self._ptr: Any = None
        self._pool: List[Any] = []
        self._id: Optional[uuid.UUID] = None
        self._ctx: Optional[PluginContext] = None
        # what it was made from, for pickling: config (with update_config's changes) apart
        self._config: Dict[str, Optional[str]] = {}
        self._made: Dict[str, Any] = {
            "wasi": wasi, "logger": logger, "log_level": log_level,
            "http_transport": http_transport, "http_response_headers": http_response_headers}
        if tier is not None:
            self._made["tier"] = tier
        fuel = _check_fuel(fuel)
        if fuel is not None:
            self._made["fuel"] = fuel
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
            if tier is not None:
                raise TypeError("the tier belongs to the CompiledPlugin, not to its instances")
            if fuel is not None:
                raise TypeError("fuel belongs to the CompiledPlugin, not to its instances "
                                "(CompiledPlugin(..., fuel=N))")
            wasi_options = wasi if isinstance(wasi, WASI) else plugin.wasi
            self.name = name or plugin.name
            size = plugin.size
            self._source: Union[bytes, CompiledPlugin] = plugin
            status = lib.exn_plugin_new_from_compiled(plugin._ptr, out, errbuf, _ERRBUF)
        else:
            data, default_name = _source_bytes(plugin)
            self.name = name or default_name
            funcs = _functions(functions)
            self._source = data  # already in memory: no copy
            self._made["functions"] = funcs
            fn_ptrs = ffi.new("ExtismFunction *[]", [f.pointer for f in funcs]) if funcs else _NULL
            wasi_options = wasi if isinstance(wasi, WASI) else (WASI() if wasi else None)
            size = len(data)
            if tier is None and fuel is None:
                status = lib.exn_plugin_new(data, size, fn_ptrs, len(funcs),
                                            wasi_options is not None, out, errbuf, _ERRBUF)
            else:
                status = _plugin_new_with_tier(data, fn_ptrs, len(funcs),
                                               wasi_options is not None, tier, out, errbuf, fuel)
        if status:
            raise errors.load_error(status, ffi.string(errbuf).decode("utf-8", "replace"))
        self._ptr = ffi.gc(out[0], lib.extism_plugin_free, size=size + (1 << 16))
        self._names: Dict[str, bytes] = {}
        self._made["name"] = self.name
        self._ctx = ctx = PluginContext(id(self))
        ctx.plugin_ref = self._ptr
        # Call states (exn_call_t) not in use: a call takes one, and puts it back once it has
        # read its output from it (C copied the output there while the call held the plugin,
        # so no other thread's call can change it).  C serializes the calls; threads calling at
        # once just use several states.  None once closed.
        self._pool = [self._new_call_state(self._ptr)]
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
        # `ptr` keeps the C plugin alive during this call whatever close() does meanwhile (it
        # lets go of its own reference once the C close has stopped and waited for the running
        # call, but calls waiting for the plugin are still inside C then).  close() empties
        # the pool before it lets go of the plugin: a call that got `ptr` finds no state there
        # and makes one, for a closed plugin (UsageError).
        ptr = self._ptr
        if ptr is None:
            raise errors.UsageError(f"calling {function_name!r}: the plugin is closed")
        pool = self._pool
        if type(data) is not bytes:
            data = _input_bytes(data, function_name)
        name = self._names.get(function_name)
        if name is None:
            name = self._encode_name(function_name)
        if _getsignal(_SIGINT) is not _sigint_seen:
            _sigint_sync()
        try:
            cs = pool.pop()
        except IndexError:
            cs = self._new_call_state(ptr)
        if host_context is not None or timeout is not None:
            n = self._call_with_options(cs, name, data, host_context, timeout)
        else:
            n = _call(cs, name, data, len(data))
        if n > 0:
            out = _unpack(cs.output, n)
        elif n == 0:
            out = b""
        else:
            exc = self._call_error(cs, function_name)
            pool.append(cs)
            raise exc
        pool.append(cs)
        return out if parse is None else parse(out)

    def _new_call_state(self, ptr: Any) -> Any:
        cs = _new_call_state("exn_call_t *")
        cs.plugin = ptr
        cs.host_context = self._ctx.c_key  # type: ignore[union-attr]
        cs.timeout_ns = -1  # EXN_TIMEOUT_DEFAULT
        return cs

    def _call_with_options(self, cs: Any, name: bytes, data: Any, host_context: Any,
                           timeout: Optional[float]) -> int:
        if timeout is not None:
            if timeout < 0:
                raise ValueError("timeout must not be negative")
            cs.timeout_ns = min(int(timeout * 1e9), 2**62)
        ctx = self._ctx
        if host_context is not None and ctx is not None:
            ctx.set_host_context(host_context)
        try:
            return int(_call(cs, name, data, len(data)))
        finally:
            cs.timeout_ns = -1
            if host_context is not None and ctx is not None:
                ctx.set_host_context(None)

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

    @property
    def fuel(self) -> Optional[int]:
        """The fuel budget of each call (None: no budget)."""
        ptr = self._ptr
        if ptr is None:
            raise errors.UsageError("the plugin is closed")
        return int(lib.exn_plugin_fuel_limit(ptr)) or None

    @property
    def fuel_used(self) -> int:
        """The fuel the last call used (0 without a budget; the whole budget when it ran out):
        one unit per wasm function entry and loop entry, the same on both tiers.  Read it
        after the call, on the thread that made it."""
        ptr = self._ptr
        if ptr is None:
            raise errors.UsageError("the plugin is closed")
        return int(lib.exn_plugin_fuel_used(ptr))

    @property
    def tier(self) -> str:
        """What runs this plugin's code now: ``"interp"`` or ``"native"`` (the auto tier moves
        a plugin to ``"native"`` at the call after its compiled code is ready)."""
        ptr = self._ptr
        if ptr is None:
            raise errors.UsageError("the plugin is closed")
        name = lib.exn_plugin_engine(ptr)
        if name == _NULL:
            raise errors.UsageError("the plugin is closed")
        return str(ffi.string(name).decode("ascii"))

    @property
    def id(self) -> uuid.UUID:
        """The plugin's unique id (a UUID4, as ``extism_plugin_id`` gives it)."""
        if self._id is None:  # read when first asked for (close() reads it too)
            ptr = self._ptr
            if ptr is None:
                raise errors.UsageError("the plugin was closed before its id was read")
            self._id = uuid.UUID(bytes=bytes(ffi.buffer(lib.extism_plugin_id(ptr), 16)))
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

    def _call_error(self, cs: Any, function_name: str) -> BaseException:
        text = cs.output
        detail = ffi.string(text).decode("utf-8", "replace") if text != _NULL else ""
        exc = errors.call_error(cs.status, function_name, detail, cs.rc, bool(cs.has_error))
        if isinstance(exc, errors.Trap):
            exc.frames = read_call_frames(ffi, lib, cs)  # (named only now, on a trap)
        ctx = self._ctx
        raised = ctx.take_error() if ctx is not None else None
        if raised is not None:
            # a host function or log handler raised: give back that very exception, chained to
            # the error that describes the call
            raised.__cause__ = exc
            return raised
        return exc

    # ---- everything else ---------------------------------------------------------------------

    def cancel_handle(self) -> "CancelHandle":
        """A handle that stops this plugin's running call from any thread."""
        return CancelHandle(self)

    def function_exists(self, name: str) -> bool:
        """True if the plugin exports ``name`` as a callable plugin function."""
        ptr = self._ptr
        if ptr is None:
            return False
        return bool(lib.exn_plugin_function_kind(ptr, name.encode("utf-8")) == 1)

    def update_config(self, values: Mapping[str, Optional[str]]) -> None:
        """Set config entries (``None`` removes one); the next call sees them.

        Raises:
            TypeError: a key is not a str or a value is neither str nor None.
        """
        ptr = self._ptr
        if ptr is None:
            raise errors.UsageError("the plugin is closed")
        for key, value in values.items():
            if not isinstance(key, str):
                raise TypeError(f"config keys must be str, not {type(key).__name__}")
            if value is not None and not isinstance(value, str):
                raise TypeError(
                    f"config value for {key!r} must be a str or None, not {type(value).__name__}")
        for key, value in values.items():
            k = key.encode("utf-8")
            if value is None:
                status = lib.exn_plugin_config_set(ptr, k, len(k), _NULL, 0)
            else:
                v = value.encode("utf-8")
                status = lib.exn_plugin_config_set(ptr, k, len(k), v, len(v))
            if status == lib.EXN_ERR_MISUSE:
                raise errors.UsageError("the plugin is closed")
            if status:
                raise errors.OutOfMemoryError("cannot store config")
            self._config[key] = value  # travels when pickled (None: removed)

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
        ptr = self._ptr
        return ptr is not None and bool(lib.extism_plugin_reset(ptr))

    def close(self) -> None:
        """Release the plugin's memory and engine.  Safe to call more than once, from any
        thread; also done by ``with`` and when the object is collected.

        A call running on another thread is cancelled - it stops at its next loop iteration or
        function entry (a host function runs to its end) and raises :class:`CancelledError` -
        and waited for; calls waiting for the plugin, and every call afterwards, raise
        :class:`UsageError`.

        Raises:
            UsageError: called from one of the plugin's own host functions.
        """
        ptr = self._ptr
        if ptr is not None:
            if self._id is None:
                self.id  # noqa: B018  (kept readable after close)
            if lib.exn_plugin_close(ptr):
                raise errors.UsageError("a plugin cannot be closed from inside its own call")
            self._pool = []  # (see call)
            self._ptr = None
            # what pickling would need (a closed plugin does not pickle): let host functions
            # and their user data go now, as the C plugin did
            self._made = {}
            self._source = b""
        ctx = self._ctx
        if ctx is not None:
            ctx.plugin_ref = None
            ctx.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._ptr is None

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickle as what the plugin was made from; unpickling makes a new instance.

        What travels: the source - the bytes the C core got (the wasm module, or the
        manifest's JSON text, whose ``path`` and ``url`` sources are read again where it is
        unpickled), or the :class:`CompiledPlugin` it was made from, pickled with it -; the
        config as it stands (the manifest's, ``config=`` and every :meth:`update_config`
        since); ``wasi`` (a :class:`WASI` with its settings, a stdout/stderr callable by
        reference); host functions (each by reference, see :class:`Function`); ``name``;
        ``logger`` (a :class:`logging.Logger` by its name, a callable by reference) and
        ``log_level``; ``http_transport`` (by reference) and ``http_response_headers``.

        What does not: the guest's state - linear memory, globals, vars, kernel memory, files
        it opened, whether ``_start`` ran -; a call running meanwhile; output captured with
        ``WASI(stdout="capture")`` and not yet read; cancel handles; the ``host_context`` of
        a call; the :attr:`id` (the new instance has its own); the process-wide log sink of
        :func:`set_log_file` / :func:`set_log_custom`.  The new instance starts as a freshly
        made one.  ``copy.copy`` and ``copy.deepcopy`` refuse a Plugin (they would lose that
        state); pickle it, or make another instance of a :class:`CompiledPlugin`.

        Raises:
            pickle.PicklingError: a part cannot be pickled - a lambda or nested function as host
                function, logger, transport or WASI callable; the message names the part.
            UsageError: the plugin is closed.
        """
        return self.__reduce_ex__(2)

    def __reduce_ex__(self, protocol: Any) -> Tuple[Any, ...]:
        if self._ptr is None:
            raise errors.UsageError(f"cannot pickle plugin {self.name!r}: it is closed")
        what = f"plugin {self.name!r}"
        made = self._made
        for f in made.get("functions", ()):
            _pickling.check(f"host function {f.namespace}::{f.name} of {what}", f)
        for key, part in (("wasi", "the WASI options"), ("logger", "the logger"),
                          ("http_transport", "the http_transport")):
            _pickling.check(f"{part} of {what}", made[key])
        source = self._source
        if not isinstance(source, CompiledPlugin):
            source = _data_for(source, protocol)
        return (_plugin, (source, dict(self._config), dict(made)))

    def __copy__(self) -> "Plugin":
        raise TypeError("a Plugin cannot be copied (its memory, globals and vars would not "
                        "be): make another instance, e.g. of a CompiledPlugin, or pickle it "
                        "for a fresh one made the same way")

    def __deepcopy__(self, memo: Any) -> "Plugin":
        return self.__copy__()

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
        ptr = self._owner = plugin._ptr
        self._pointer = lib.extism_plugin_cancel_handle(ptr) if ptr is not None else _NULL

    def cancel(self) -> bool:
        """Request the running call to stop; True if a call was running."""
        return self._pointer != _NULL and bool(lib.extism_plugin_cancel(self._pointer))

    def __reduce__(self) -> Any:
        raise _pickling.unpicklable("a CancelHandle", "it stops a call of a plugin in this "
                                    "process; make one where the plugin is")


_sigint_sync()  # when imported on the main thread (else at its first call there)
