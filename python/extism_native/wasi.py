"""WASI preview 1 options: ``Plugin(..., wasi=WASI(args=..., env=..., stdin=..., stdout=...))``.

WASI (``wasi_snapshot_preview1``, all 46 functions) is off unless asked for: a module that
imports it then fails to load with a message saying how to enable it.  ``wasi=True`` means
``WASI()``: no arguments, an empty environment, empty stdin, and the guest's stdout and stderr
written to the process's own streams (the official runtime discards them unless
``EXTISM_ENABLE_WASI_OUTPUT`` is set; here you choose per plugin).

Files are visible only through the manifest's ``allowed_paths`` (host path -> guest path)::

    Plugin({"wasm": [{"path": "plugin.wasm"}],
            "allowed_paths": {"/srv/data": "/data", "ro:/etc/app": "/config",
                              "/srv/one.json": "/in/one.json"}}, wasi=True)

- a host directory is preopened at its guest path (descriptors 3, 4, ... in manifest order);
  a missing host path fails plugin creation with :class:`ManifestError` naming it;
- ``ro:`` makes a mount read-only: every write (creating, truncating or opening for writing,
  mkdir, unlink, rmdir, rename or link into or out of it, symlink, setting times) fails with
  EPERM, as in the official runtime;
- a single file appears as a preopened directory (the guest path's parent) holding only that
  file; it can be read and written (unless ``ro:``) but not removed or renamed;
- nothing else is reachable: paths are resolved one component at a time from the mount's
  directory handle, ``..`` stops at the mount, symbolic links are followed only while they
  stay inside it, absolute paths and links are refused - all with EPERM, as in the official
  runtime.  Invalid UTF-8 is EILSEQ, a NUL byte EINVAL, paths over 4096 bytes ENAMETOOLONG.

``proc_exit(n)`` ends the call: ``n == 0`` is success, anything else raises
:class:`ExitError` with ``.code == n`` (any 32-bit value, e.g. 500); the plugin stays usable.
A call to ``_start`` makes the next call begin on a fresh instance with fresh WASI state
(the guest's files closed, stdin from the start).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence, Union

from . import _pickling, errors
from ._callbacks import PluginContext, context_of
from ._native import ffi, lib

Output = Union[None, str, Callable[[bytes], Any]]
_MODES = {None: 0, "inherit": 0, "discard": 1, "capture": 2}


class WASI:
    """WASI configuration of a plugin (applies to every instance made from it).

    Args:
        args: the command line the guest sees (``args_get``), program name first; str
            (UTF-8 encoded) or bytes, without NUL characters.  Default: none.
        env: the environment the guest sees (``environ_get``); the host process's own
            environment is never passed on.  Default: empty.
        stdin: bytes the guest reads from stdin (then end of file).  Default: empty.
        stdout, stderr: where the guest's writes go: ``None`` or ``"inherit"`` (the process's
            own stream, written straight to file descriptor 1 or 2), ``"discard"``,
            ``"capture"`` (read with :meth:`Plugin.read_stdout` / :meth:`Plugin.read_stderr`),
            or a callable receiving each write as bytes (large writes come in pieces of at
            most 64 KiB; an exception from it stops the guest and is raised again by
            ``Plugin.call``).  The guest sees a terminal, so C's stdio sends it line by line.

    Raises:
        ValueError: a NUL character in args or env, an environment name that is empty or holds
            "=", or an unknown stdout/stderr setting.

    >>> WASI(args=["prog", "--verbose"], env={"LANG": "C"}, stdout="capture").args
    [b'prog', b'--verbose']
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

    def __reduce__(self) -> Any:
        """Pickle the settings; a stdout/stderr callable by reference (as pickle handles
        functions).  Captured output is the plugin's, not part of the settings.

        Raises:
            pickle.PicklingError: a stdout/stderr callable cannot be pickled (named).
        """
        for name, value in (("stdout", self.stdout), ("stderr", self.stderr)):
            if callable(value):
                _pickling.check(f"the WASI {name} callable", value)
        env = dict(e.decode("utf-8").split("=", 1) for e in self.env)
        return (WASI, (self.args, env, self.stdin, self.stdout, self.stderr))

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
