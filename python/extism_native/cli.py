"""``python -m extism_native``: call plugins from the command line (like the ``extism`` CLI),
show where the C API lives, and install the ``extism_sys`` shim.

Commands::

    python -m extism_native call PLUGIN FUNC [--input TEXT | --input-file PATH | --stdin]
        [--wasi] [--config K=V]... [--set-config JSON] [--allow-host H]...
        [--allow-path HOST[:GUEST]]... [--timeout MS] [--log-level L] [--manifest]
        [--memory-max PAGES] [--var-max BYTES] [--http-response-max BYTES]
        [--http-response-headers] [--loop N] [--time] [--fuel N] [--print-manifest]
        [--verbose]
    python -m extism_native inspect PLUGIN [--json]
    python -m extism_native info [--include | --library | --cflags | --libs]
    python -m extism_native install-extism-sys [--target DIR | --user] [--force]
    python -m extism_native uninstall-extism-sys [--target DIR | --user]

``inspect`` describes a module (imports by kind, callable exports, memory, features, the
producing toolchain, which tier of this build can run it): see :func:`inspect_module`.

``call`` writes the output bytes to stdout as they are (no newline added; with ``--loop N``
the outputs are separated by newlines) and errors to stderr as one line (a traceback too with
``--verbose``); after a trap, the wasm backtrace follows that line, one frame per line.
With ``--fuel N`` each call has a budget of N units (one wasm function entry or loop
iteration, the same on both tiers; see the README's fuel section) and ``call I: fuel used U of
N`` goes to stderr after it, also when it fails; running out is a trap (status 134, the error
line says "plugin ran out of fuel").
Its exit status (see :func:`exit_status`):

====== ==============================================================================
0      success
1-255  the plugin failed: its return code, clamped to 1..255 (an error text with
       code 0 gives 1); WASI ``proc_exit(n)``: n, clamped the same way
134    the guest trapped (the return code libextism reports for a trap)
124    the call ran past ``--timeout`` (or the manifest's ``timeout_ms``)
130    interrupted (Ctrl-C cancels the running call)
64     usage error: bad options, or FUNC is not a callable export of PLUGIN
65     PLUGIN cannot be loaded: not wasm, invalid manifest, unresolved imports, ...
66     PLUGIN, the manifest or --input-file cannot be read
74     the output cannot be written (stdout closed, e.g. by ``| head``)
70     internal error (out of memory, or a bug: run with --verbose)
====== ==============================================================================

The plugin's own codes overlap with the others: the message on stderr tells them apart.
``compile MODULE...`` fills the native tier's cache (exit 0, 65 for a module that is not valid
wasm, 69 when the native tier cannot run one here).
``info`` exits 0; ``install-extism-sys`` and ``uninstall-extism-sys`` exit 0 on success and 1
with a one-line message otherwise (e.g. a real ``extism_sys`` is in the way).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Dict, NoReturn, Optional, Sequence, Tuple

__all__ = ["main", "build_parser", "build_manifest", "exit_status", "EXIT_USAGE", "EXIT_LOAD",
           "EXIT_NOINPUT", "EXIT_INTERNAL", "EXIT_OUTPUT", "EXIT_TRAP", "EXIT_TIMEOUT",
           "EXIT_INTERRUPTED"]

EXIT_TRAP = 134
"""Exit status for a trap (libextism's return code for one)."""
EXIT_TIMEOUT = 124
"""Exit status when the call ran out of time (as timeout(1))."""
EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT)."""
EXIT_USAGE = 64
"""Exit status for a usage error (sysexits EX_USAGE)."""
EXIT_LOAD = 65
"""Exit status when the plugin cannot be loaded (sysexits EX_DATAERR)."""
EXIT_NOINPUT = 66
"""Exit status when an input file cannot be read (sysexits EX_NOINPUT)."""
EXIT_INTERNAL = 70
"""Exit status for an internal error (sysexits EX_SOFTWARE)."""
EXIT_OUTPUT = 74
"""Exit status when the output cannot be written, e.g. a closed pipe (sysexits EX_IOERR)."""
EXIT_UNAVAILABLE = 69
"""compile: the native tier cannot run a module here (sysexits EX_UNAVAILABLE)."""

_PROG = "python -m extism_native"
_LEVELS = ("trace", "debug", "info", "warn", "error", "off")


class UsageError(Exception):
    """A command-line mistake found after parsing (exit status 64)."""


class _InputError(Exception):
    """A file named on the command line cannot be read (exit status 66)."""


class _Parser(argparse.ArgumentParser):
    """argparse with the usage-error exit status of this CLI."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m extism_native``."""
    from . import __version__

    parser = _Parser(prog=_PROG, description="Run Extism plug-ins on extism_native's engine.")
    parser.add_argument("--version", action="version", version=f"extism_native {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    call = sub.add_parser("call", help="call a plugin function",
                          description="Call FUNC of PLUGIN; the output goes to stdout.")
    call.add_argument("plugin", metavar="PLUGIN",
                      help="a .wasm file, an http(s) URL, or a JSON manifest file")
    call.add_argument("function", metavar="FUNC", help="the exported function to call")
    source = call.add_mutually_exclusive_group()
    source.add_argument("-i", "--input", help="input text (sent as UTF-8)")
    source.add_argument("--input-file", metavar="PATH", help="read the input bytes from PATH "
                        "('-' for stdin)")
    source.add_argument("--stdin", action="store_true", help="read the input from stdin")
    call.add_argument("-m", "--manifest", action="store_true",
                      help="PLUGIN is a JSON manifest (detected anyway when the file starts "
                           "with '{'); relative paths in it are relative to the current "
                           "directory")
    call.add_argument("--wasi", action="store_true", help="provide WASI preview 1")
    call.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                      help="a config entry (repeatable; KEY alone sets an empty value)")
    call.add_argument("--set-config", metavar="JSON",
                      help="config entries as a JSON object, merged under --config")
    call.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                      help="a host the plugin may reach over HTTP; globs allowed (repeatable)")
    call.add_argument("--allow-path", action="append", default=[], metavar="HOST[:GUEST]",
                      help="a host directory the plugin may open through WASI, mounted at "
                           "GUEST (default: the same path); prefix 'ro:' for read-only "
                           "(repeatable)")
    call.add_argument("--timeout", type=_non_negative_int, metavar="MS",
                      help="stop a call after MS milliseconds (0: no limit)")
    call.add_argument("--log-level", choices=_LEVELS, default="off", metavar="LEVEL",
                      help="print the plugin's logs at LEVEL and above to stderr: "
                           + ", ".join(_LEVELS) + " (default: off)")
    call.add_argument("--memory-max", type=_non_negative_int, metavar="PAGES",
                      help="most 64 KiB pages the plugin's memory may have")
    call.add_argument("--var-max", type=_non_negative_int, metavar="BYTES",
                      help="most bytes of plugin vars")
    call.add_argument("--http-response-max", type=_non_negative_int, metavar="BYTES",
                      help="largest HTTP response the plugin may receive")
    call.add_argument("--http-response-headers", action="store_true",
                      help="let the plugin read HTTP response headers")
    call.add_argument("--loop", type=_positive_int, default=1, metavar="N",
                      help="call the function N times (outputs separated by newlines)")
    call.add_argument("--time", action="store_true",
                      help="print how long each call took to stderr")
    call.add_argument("--fuel", type=_fuel_budget, metavar="N",
                      help="a budget of N units per call (one wasm function entry or loop "
                           "iteration); print the fuel each call used to stderr")
    call.add_argument("--print-manifest", action="store_true",
                      help="print the manifest that would be loaded, and exit")
    call.add_argument("--tier", choices=("auto", "interp", "native"), default=None,
                      help="what runs the code: auto (default, or EXTISM_NATIVE_TIER), the "
                           "interpreter, or compiled code (compiled now, or from the cache)")
    call.add_argument("-v", "--verbose", action="store_true",
                      help="tracebacks on errors, and what is being done")
    call.set_defaults(run=_cmd_call)

    comp = sub.add_parser(
        "compile", help="compile .wasm modules for the native tier, into its cache",
        description="Compile each MODULE (a .wasm file) to machine code with the C compiler "
                    "and store it in the native tier's cache (EXTISM_NATIVE_CACHE_DIR, else "
                    "the user's cache directory), so that plugins made from it in any process "
                    "start on compiled code.  Exit status 0 when every module is in the "
                    "cache, 65 when one is not valid wasm, 69 when the native tier cannot "
                    "run one here.")
    comp.add_argument("modules", nargs="+", metavar="MODULE", help="a .wasm file")
    comp.set_defaults(run=_cmd_compile)

    insp = sub.add_parser(
        "inspect", help="describe a wasm module: imports, exports, memory, features, ...",
        description="Describe the WebAssembly module PLUGIN: its imports grouped as the Extism "
                    "kernel (extism:host/env), WASI and host functions; the exports a plugin "
                    "call can use, with their types; its memory (min/max pages, exported?); "
                    "the Wasm features its code uses (SIMD, bulk memory, reference types, "
                    "multi-value, ...); the toolchain that produced it (its 'producers' "
                    "section); and whether this build can run it, on which tier (interp: "
                    "every valid module; native: the compiled tier, when a C compiler is "
                    "found).  Exit status 0, 65 if PLUGIN is not "
                    "a valid module, 66 if it cannot be read.")
    insp.add_argument("plugin", metavar="PLUGIN", help="a .wasm file ('-' for stdin)")
    insp.add_argument("--json", action="store_true",
                      help="print the description as JSON (the dict inspect_module returns)")
    insp.set_defaults(run=_cmd_inspect)

    info = sub.add_parser("info", help="version and where the C API is installed",
                          description="Print the version, the C header directory and the "
                                      "shared library.")
    what = info.add_mutually_exclusive_group()
    what.add_argument("--include", action="store_true", help="only the include directory")
    what.add_argument("--library", action="store_true", help="only the shared library path")
    what.add_argument("--cflags", action="store_true", help="compiler flags (-I...)")
    what.add_argument("--libs", action="store_true", help="linker flags (-L... -l...)")
    info.set_defaults(run=_cmd_info)

    for name, helptext, run in (
            ("install-extism-sys", "make the official extism package run on this engine",
             _cmd_install),
            ("uninstall-extism-sys", "remove what install-extism-sys wrote", _cmd_uninstall)):
        p = sub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:]
                           + " (an extism_sys package backed by extism_native).")
        where = p.add_mutually_exclusive_group()
        where.add_argument("--target", metavar="DIR", type=Path,
                           help="site-packages directory (default: this Python's)")
        where.add_argument("--user", action="store_true", help="the user site-packages")
        if run is _cmd_install:
            p.add_argument("--force", action="store_true",
                           help="replace an extism_sys that is not extism_native's")
        p.set_defaults(run=run)
    return parser


def _non_negative_int(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# ---- call -----------------------------------------------------------------------------------


def _fuel_budget(text: str) -> int:
    value = _positive_int(text)
    if value >= 2**63:
        raise argparse.ArgumentTypeError(f"must be below 2**63, got {value}")
    return value


def _split_allow_path(spec: str) -> Tuple[str, str]:
    """``HOST[:GUEST]`` -> (host key, guest path); keeps a ``ro:`` prefix on the host side and
    a Windows drive letter (``C:\\data:/data``) in the host path."""
    prefix = ""
    rest = spec
    if rest.startswith("ro:"):
        prefix, rest = "ro:", rest[3:]
    start = 2 if re.match(r"^[A-Za-z]:[\\/]", rest) else 0
    cut = rest.find(":", start)
    host, guest = (rest, rest) if cut < 0 else (rest[:cut], rest[cut + 1:])
    if not host or not guest:
        raise UsageError(f"--allow-path {spec!r}: expected HOST or HOST:GUEST")
    return prefix + host, guest


def _read_manifest_file(path: str) -> Dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _InputError(f"cannot read manifest {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _LoadFailure(f"manifest {path} is not UTF-8 text") from None
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise _LoadFailure(f"manifest {path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise _LoadFailure(f"manifest {path} must be a JSON object")
    return manifest


class _LoadFailure(Exception):
    """The plugin cannot be loaded, found before the engine was asked (exit status 65)."""


class _OutputError(Exception):
    """Writing the output to stdout failed (exit status 74)."""


def _looks_like_manifest(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return False
    return head.lstrip()[:1] == b"{"


def build_manifest(args: argparse.Namespace) -> Dict[str, Any]:
    """The manifest ``call`` loads: PLUGIN (a path, URL or manifest file) plus the options.

    Raises:
        UsageError: an option's value is malformed.
    """
    plugin: str = args.plugin
    if args.manifest or (not plugin.startswith(("http://", "https://"))
                         and _looks_like_manifest(plugin)):
        manifest = _read_manifest_file(plugin)
    elif plugin.startswith(("http://", "https://")):
        manifest = {"wasm": [{"url": plugin}]}
    else:
        if not os.path.isfile(plugin):
            raise _InputError(f"cannot read {plugin}: no such file")
        manifest = {"wasm": [{"path": plugin}]}

    if args.allow_host:
        hosts = manifest.get("allowed_hosts") or []
        manifest["allowed_hosts"] = list(hosts) + list(args.allow_host)
    if args.allow_path:
        paths = dict(manifest.get("allowed_paths") or {})
        for spec in args.allow_path:
            host, guest = _split_allow_path(spec)
            paths[host] = guest
        manifest["allowed_paths"] = paths

    config: Dict[str, Any] = dict(manifest.get("config") or {})
    if args.set_config is not None:
        try:
            extra = json.loads(args.set_config)
        except ValueError as exc:
            raise UsageError(f"--set-config: invalid JSON: {exc}") from None
        if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
            raise UsageError("--set-config: expected a JSON object of strings")
        config.update(extra)
    for item in args.config:
        key, _, value = item.partition("=")
        if not key:
            raise UsageError(f"--config {item!r}: expected KEY=VALUE")
        config[key] = value
    if config:
        manifest["config"] = config

    memory = dict(manifest.get("memory") or {})
    for option, field in (("memory_max", "max_pages"), ("var_max", "max_var_bytes"),
                          ("http_response_max", "max_http_response_bytes")):
        value = getattr(args, option)
        if value is not None:
            memory[field] = value
    if memory:
        manifest["memory"] = memory
    if args.timeout:
        manifest["timeout_ms"] = args.timeout
    return manifest


def _read_input(args: argparse.Namespace) -> bytes:
    if args.input is not None:
        return str(args.input).encode("utf-8")
    if args.stdin or args.input_file == "-":
        return sys.stdin.buffer.read()
    if args.input_file is not None:
        try:
            return Path(args.input_file).read_bytes()
        except OSError as exc:
            raise _InputError(f"cannot read {args.input_file}: {exc.strerror or exc}") from None
    return b""


def _clamp(code: int) -> int:
    return min(max(int(code), 1), 255)


def exit_status(exc: BaseException) -> int:
    """The exit status of ``call`` for a failure (see the module documentation)."""
    from . import errors

    if isinstance(exc, (UsageError, errors.FunctionNotFoundError,
                        errors.FunctionSignatureError)):
        return EXIT_USAGE
    if isinstance(exc, _InputError):
        return EXIT_NOINPUT
    if isinstance(exc, _OutputError):
        return EXIT_OUTPUT
    if isinstance(exc, (_LoadFailure, errors.ManifestError, errors.PluginLoadError,
                        errors.UnsupportedError)):
        return EXIT_LOAD
    if isinstance(exc, errors.CallTimeoutError):
        return EXIT_TIMEOUT
    if isinstance(exc, (errors.CancelledError, KeyboardInterrupt)):
        return EXIT_INTERRUPTED
    if isinstance(exc, (errors.PluginCallError, errors.ExitError)):
        return _clamp(exc.code)
    if isinstance(exc, errors.Trap):
        return EXIT_TRAP
    if isinstance(exc, errors.CallError):
        return 1  # an HTTP request or the log sink failed the call
    return EXIT_INTERNAL


def _one_line(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\\n")


class _Run:
    """The calls of one ``call`` command, run on a worker thread so that Ctrl-C in the main
    thread can cancel the guest (the GIL is released while it runs)."""

    def __init__(self, plugin: Any, args: argparse.Namespace, data: bytes) -> None:
        self.plugin = plugin
        self.args = args
        self.data = data
        self.error: Optional[BaseException] = None
        self.stop = False
        self.done = threading.Event()

    def run(self) -> None:
        out = sys.stdout.buffer
        try:
            for i in range(self.args.loop):
                if self.stop:
                    return
                start = time.perf_counter()
                try:
                    output = self.plugin.call(self.args.function, self.data)
                finally:
                    if self.args.fuel is not None:
                        print(f"call {i + 1}: fuel used {self.plugin.fuel_used} of "
                              f"{self.args.fuel}", file=sys.stderr, flush=True)
                elapsed = time.perf_counter() - start
                try:
                    if i:
                        out.write(b"\n")
                    out.write(output)
                    out.flush()
                except OSError as exc:
                    reason = exc.strerror or exc
                    raise _OutputError(f"cannot write the output: {reason}") from None
                if self.args.time:
                    print(f"call {i + 1}: {elapsed * 1e3:.3f} ms", file=sys.stderr, flush=True)
        except BaseException as exc:  # reported by the main thread
            self.error = exc
        finally:
            self.done.set()


def _log_to_stderr(level: str, message: str) -> None:
    print(f"[{level}] {message}", file=sys.stderr, flush=True)


def _cmd_call(args: argparse.Namespace) -> int:
    from . import errors
    from .plugin import Plugin

    manifest = build_manifest(args)
    if args.print_manifest:
        print(json.dumps(manifest, indent=2, sort_keys=True))
        return 0
    data = _read_input(args)
    if args.verbose:
        print(f"manifest: {json.dumps(manifest, sort_keys=True)}", file=sys.stderr)
        print(f"input: {len(data)} bytes", file=sys.stderr)
    try:
        plugin = Plugin(manifest, wasi=args.wasi, logger=_log_to_stderr,
                        log_level=args.log_level,
                        http_response_headers=args.http_response_headers, tier=args.tier,
                        fuel=args.fuel)
    except errors.LinkError as exc:
        # the core's hint names the Python and C switches: here it is the --wasi option
        hint = "wasi=True in Python or with_wasi in C"
        if hint not in str(exc):
            raise
        raise errors.LinkError(str(exc).replace(hint, "--wasi"), exc.missing) from None
    with plugin:
        run = _Run(plugin, args, data)
        worker = threading.Thread(target=run.run, name="extism_native call", daemon=True)
        worker.start()
        # wait on an Event, not Thread.join: a KeyboardInterrupt inside join can leave the
        # thread looking finished while it still runs (seen with CPython 3.11)
        try:
            while not run.done.wait(0.25):
                pass
        except KeyboardInterrupt:
            # a cancel is not remembered when no call runs: the worker may be just about to
            # enter one, so keep cancelling until it has stopped
            run.stop = True
            handle = plugin.cancel_handle()
            while not run.done.wait(0.05):
                handle.cancel()
            raise
        if run.error is not None:
            raise run.error
    return 0


# ---- inspect ----------------------------------------------------------------------------------


def _cmd_inspect(args: argparse.Namespace) -> int:
    from . import errors
    from ._inspect import format_report, inspect_module

    try:
        if args.plugin == "-":
            data = sys.stdin.buffer.read()
        else:
            data = Path(args.plugin).read_bytes()
    except OSError as exc:
        raise _InputError(f"cannot read {args.plugin}: {exc.strerror or exc}") from None
    try:
        info = inspect_module(data)
    except (errors.InvalidModuleError, errors.UnsupportedError) as exc:
        raise _LoadFailure(f"{args.plugin}: {exc}") from None
    text = json.dumps(info, indent=2) if args.json else format_report(info, args.plugin)
    try:
        print(text)
        sys.stdout.flush()
    except OSError as exc:
        raise _OutputError(f"cannot write the output: {exc.strerror or exc}") from None
    return 0


# ---- info and the shim ------------------------------------------------------------------------


def _cmd_compile(args: argparse.Namespace) -> int:
    from ._native import ffi, lib

    status = 0
    for path in args.modules:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise _InputError(f"cannot read {path}: {exc.strerror or exc}") from None
        errbuf = ffi.new("char[]", 2048)
        st = lib.exn_native_precompile(data, len(data), errbuf, 2048)
        text = ffi.string(errbuf).decode("utf-8", "replace")
        if st == 0:
            print(f"{path}: {text}")
        else:
            print(f"{path}: {text}", file=sys.stderr)
            status = max(status, EXIT_LOAD if st == lib.EXN_ERR_LOAD else EXIT_UNAVAILABLE)
    return status


def _cmd_info(args: argparse.Namespace) -> int:
    from . import __version__, _shim, c_api

    include, library = c_api.get_include(), c_api.library_path()
    libdir = os.path.dirname(library)
    q = shlex.quote if os.name != "nt" else (lambda s: f'"{s}"' if " " in s else s)
    if args.include:
        print(include)
    elif args.library:
        print(library)
    elif args.cflags:
        print(f"-I{q(include)}")
    elif args.libs:
        rpath = f" -Wl,-rpath,{q(libdir)}" if os.name != "nt" else ""
        print(f"-L{q(libdir)} -l{c_api.LIBRARY_NAME}{rpath}")
    else:
        found = _shim.find_installed()
        shim = ("not installed" if found is None else
                f"{found[0]} ({'extism_native shim' if found[1] else 'another implementation'})")
        print(f"extism_native {__version__} (libextism API {_shim.API_VERSION})")
        print(f"include:    {include}")
        print(f"library:    {library}")
        print(f"extism_sys: {shim}")
    return 0


def _target(args: argparse.Namespace) -> Path:
    from . import _shim

    return args.target if args.target is not None else _shim.default_target(user=args.user)


def _cmd_install(args: argparse.Namespace) -> int:
    from . import _shim

    target = _target(args)
    pkg = _shim.install(target, force=args.force)
    print(f"installed the extism_sys shim in {pkg}")
    found = _shim.find_installed()
    if args.target is None and found is not None and found[0] != pkg:
        print(f"warning: Python imports another extism_sys first: {found[0]}", file=sys.stderr)
    return 0


def _cmd_uninstall(args: argparse.Namespace) -> int:
    from . import _shim

    target = _target(args)
    if _shim.uninstall(target):
        print(f"removed the extism_sys shim from {target}")
    else:
        print(f"no extism_sys shim in {target}")
    return 0


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at the null device so that the interpreter's final
    flush does not complain again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from . import errors
    from ._shim import ShimError

    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    verbose = getattr(args, "verbose", False)
    try:
        return int(args.run(args))
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        status = 1 if isinstance(exc, ShimError) else exit_status(exc)
        if verbose:
            traceback.print_exc()
        if isinstance(exc, KeyboardInterrupt):
            message = "interrupted"
        elif status == EXIT_INTERNAL and not isinstance(exc, MemoryError):
            message = f"internal error: {type(exc).__name__}: {exc}"
        else:
            message = str(exc)
        frames = getattr(exc, "frames", None)
        if frames and isinstance(exc, errors.Trap):
            # the message on one line, then the wasm backtrace as the official runtime prints it
            message = Exception.__str__(exc)
        print(f"{_PROG.split()[-1]}: error: {_one_line(message)}", file=sys.stderr, flush=True)
        if frames and isinstance(exc, errors.Trap):
            from .backtrace import format_backtrace

            print(format_backtrace(frames), file=sys.stderr, flush=True)
        if isinstance(exc, _OutputError):
            _silence_stdout()
        return status
    finally:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass

