"""Guest logs into Python.

Each plugin has its own log sink and threshold: by default a :class:`logging.Logger` named
``extism_native.plugin.<plugin name>`` whose effective level is what the guest sees through
``get_log_level`` (asked at most once per call); or any callable ``(level, message)``.  The
process-wide sinks of the official API (:func:`set_log_file`, :func:`set_log_custom`) are
available too; once one is configured, plugins created without a ``logger`` use it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional, Union

from ._callbacks import PluginContext, context_of
from ._native import ffi, lib

TRACE = 5
"""Python logging level used for guest trace messages (below DEBUG)."""

LEVELS = ("trace", "debug", "info", "warn", "error")
_TO_PYTHON = (TRACE, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)
_ALIASES = {"warning": "warn", "critical": "error", "fatal": "error"}
OFF = int(lib.EXN_LOG_OFF)

LogTarget = Union[logging.Logger, Callable[[str, str], Any]]

if logging.getLevelName(TRACE) == f"Level {TRACE}":
    logging.addLevelName(TRACE, "TRACE")


def level_code(level: Union[str, int, None]) -> int:
    """Turn a level name ("trace" ... "error", "off") or a Python logging level into the
    Extism level code the guest sees."""
    if isinstance(level, str):
        name = _ALIASES.get(level.lower(), level.lower())
        if name == "off":
            return OFF
        if name in LEVELS:
            return LEVELS.index(name)
        raise ValueError(f"unknown log level {level!r}: use one of {', '.join(LEVELS)}, off")
    if isinstance(level, int) and not isinstance(level, bool):
        for code, threshold in enumerate(_TO_PYTHON):
            if level <= threshold:
                return code
        return OFF
    raise TypeError(f"log level must be a name or a logging level, not {type(level).__name__}")


def threshold(ctx: PluginContext) -> int:
    """The level the guest of ctx's plugin sees."""
    if ctx.log_level is not None:
        return ctx.log_level
    logger = ctx.log_target
    if not isinstance(logger, logging.Logger) or logger.disabled:
        return OFF
    return level_code(logger.getEffectiveLevel())


def emit(ctx: PluginContext, code: int, message: str) -> None:
    target = ctx.log_target
    if isinstance(target, logging.Logger):
        target.log(_TO_PYTHON[code], message)
    else:
        target(LEVELS[code], message)


@ffi.def_extern()
def _exn_py_log(userdata: Any, level: int, msg: Any, length: int) -> int:
    ctx = context_of(userdata)
    if ctx is None or ctx.log_target is None:
        return OFF if msg == ffi.NULL else 0
    try:
        if msg == ffi.NULL:
            return threshold(ctx)
        emit(ctx, level, ffi.unpack(msg, length).decode("utf-8", "replace"))
        return 0
    except BaseException as exc:  # stop the guest; Plugin.call raises it again
        ctx.error = exc
        return OFF if msg == ffi.NULL else 1


# ---- the process-wide sink of the libextism API ---------------------------------------------

_global_configured = False
_drain_lock = threading.Lock()
_drain_target: Optional[Callable[[str], Any]] = None


def global_sink_configured() -> bool:
    """True once set_log_file or set_log_custom succeeded in this process."""
    return _global_configured


def _global_level(level: Optional[str]) -> Any:
    if level is None:
        return ffi.NULL
    level_code(level)  # raises ValueError for an unknown level
    return _ALIASES.get(level.lower(), level.lower()).encode()


def set_log_file(file: str, level: Optional[str] = None) -> None:
    """Send the guest logs of plugins that have no ``logger`` of their own to ``file``
    ("stdout", "stderr" and "-" name the streams), at ``level`` (default "error").

    Raises:
        ValueError: unknown level.  OSError: the file cannot be opened.
    """
    global _global_configured
    if not lib.extism_log_file(file.encode(), _global_level(level)):
        raise OSError(f"cannot open log file {file!r}")
    _global_configured = True


class CustomLogger:
    """Buffers guest log lines until :meth:`drain` hands them to the callback."""

    def __init__(self, callback: Callable[[str], Any]) -> None:
        self.callback = callback

    def set_callback(self, callback: Callable[[str], Any]) -> None:
        """Replace the callback."""
        self.callback = callback

    def drain(self) -> None:
        """Pass every buffered line to the callback, oldest first."""
        global _drain_target
        with _drain_lock:
            _drain_target = self.callback
            try:
                lib.extism_log_drain(lib._exn_py_log_drain)
            finally:
                _drain_target = None

    def __del__(self) -> None:
        try:
            self.drain()
        except Exception:
            pass


@ffi.def_extern()
def _exn_py_log_drain(data: Any, size: int) -> None:
    if _drain_target is not None:
        _drain_target(ffi.unpack(data, size).decode("utf-8", "replace"))


def set_log_custom(callback: Callable[[str], Any], level: Optional[str] = None) -> CustomLogger:
    """Buffer the guest logs of plugins that have no ``logger`` of their own; returns the
    :class:`CustomLogger` whose ``drain()`` delivers them to ``callback``."""
    global _global_configured
    if not lib.extism_log_custom(_global_level(level)):
        raise ValueError(f"unknown log level {level!r}")
    _global_configured = True
    return CustomLogger(callback)
