"""WASI preview 1 options: ``Plugin(..., wasi=WASI(args=..., env=..., stdin=..., stdout=...))``.

``wasi=True`` means ``WASI()``: no arguments, an empty environment, empty stdin, and the
guest's stdout and stderr written to the process's own.  Files are only visible through the
manifest's ``allowed_paths``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence, Union

from . import errors
from ._callbacks import PluginContext, context_of
from ._native import ffi, lib

Output = Union[None, str, Callable[[bytes], Any]]
_MODES = {None: 0, "inherit": 0, "discard": 1, "capture": 2}


class WASI:
    """WASI configuration of a plugin.

    Args:
        args: the command line the guest sees (``args_get``), program name first.
        env: the environment the guest sees (``environ_get``).
        stdin: bytes the guest reads from stdin.
        stdout, stderr: ``None`` (the process's own stream), ``"discard"``, ``"capture"``
            (read with :meth:`Plugin.read_stdout` / :meth:`Plugin.read_stderr`), or a callable
            receiving each write as bytes (an exception from it stops the guest and is raised
            by ``Plugin.call``).
    """

    def __init__(self, args: Sequence[Union[str, bytes]] = (),
                 env: Optional[Mapping[str, str]] = None, stdin: bytes = b"",
                 stdout: Output = None, stderr: Output = None) -> None:
        self.args = [a.encode("utf-8") if isinstance(a, str) else bytes(a) for a in args]
        self.env = [f"{k}={v}".encode("utf-8") for k, v in (env or {}).items()]
        for k in (env or {}):
            if not k or "=" in k:
                raise ValueError(f"invalid environment variable name {k!r}")
        for item in self.args + self.env:
            if b"\0" in item:
                raise ValueError("WASI arguments and environment cannot contain NUL characters")
        self.stdin = bytes(stdin)
        for name, value in (("stdout", stdout), ("stderr", stderr)):
            if not (value in _MODES or callable(value)):
                raise ValueError(f"{name} must be None, 'inherit', 'discard', 'capture' or a "
                                 "callable")
        self.stdout = stdout
        self.stderr = stderr

    def _apply(self, ptr: Any, ctx: PluginContext) -> None:
        """Configure a freshly created plugin."""
        def check(status: int) -> None:
            if status:
                raise errors.OutOfMemoryError("cannot configure WASI")

        if self.args:
            keep = [ffi.new("char[]", a) for a in self.args]
            check(lib.exn_plugin_wasi_args(ptr, ffi.new("char *[]", keep), len(keep)))
        if self.env:
            keep = [ffi.new("char[]", e) for e in self.env]
            check(lib.exn_plugin_wasi_env(ptr, ffi.new("char *[]", keep), len(keep)))
        if self.stdin:
            check(lib.exn_plugin_wasi_stdin(ptr, self.stdin, len(self.stdin)))
        for fd, target, callback in ((1, self.stdout, lib._exn_py_wasi_stdout),
                                     (2, self.stderr, lib._exn_py_wasi_stderr)):
            mode = 2 if callable(target) or target == "capture" else _MODES[target]
            if mode == 2:
                ctx.outputs[fd] = target if callable(target) else bytearray()
                check(lib.exn_plugin_wasi_output(ptr, fd, 2, callback, ctx.c_key))
            else:
                check(lib.exn_plugin_wasi_output(ptr, fd, mode, ffi.NULL, ffi.NULL))


def _deliver(userdata: Any, fd: int, data: Any, length: int) -> int:
    ctx = context_of(userdata)
    if ctx is None:
        return 0
    target = ctx.outputs.get(fd)
    try:
        chunk = ffi.unpack(ffi.cast("char *", data), length)
        if isinstance(target, bytearray):
            target += chunk
        elif target is not None:
            target(chunk)
        return 0
    except BaseException as exc:  # stop the guest; Plugin.call raises it again
        ctx.error = exc
        return 1


@ffi.def_extern()
def _exn_py_wasi_stdout(userdata: Any, data: Any, length: int) -> int:
    return _deliver(userdata, 1, data, length)


@ffi.def_extern()
def _exn_py_wasi_stderr(userdata: Any, data: Any, length: int) -> int:
    return _deliver(userdata, 2, data, length)
