"""Wasm backtraces: the guest frames a :class:`~extism_native.Trap` unwound.

``Trap.frames`` is a list of :class:`Frame`, innermost first.  A frame is named from its
module's ``name`` custom section; Rust symbols are demangled the way the official runtime
(wasmtime) shows them, so ``str(trap)`` reads like the official package's text::

    calling 'divide': trap: unreachable executed
    error while executing at wasm backtrace:
        0: <unknown>!rust_begin_unwind
        1: <unknown>!core::panicking::panic_fmt::h9ec1c8305a7da9ae
        2: <unknown>!backtrace::outer_level::h7faf89e7ec994b2b

:attr:`Frame.module_offset` is the byte offset in the module where the frame was, printed as
``0x1d0 - `` before the name as wasmtime does, or ``None`` when the engine does not know it (the
line leaves it out, as wasmtime's does).  The interpreter knows it for every caller frame (its
call instruction) and for the innermost frame (its trapping instruction; for ``unreachable``
wasmtime shows an earlier offset, Cranelift's); the compiled tier does not know it yet.

>>> demangle("_ZN4core9panicking5panic17h118149a781a98a78E")
'core::panicking::panic::h118149a781a98a78'
>>> demangle("_ZN4core9panicking5panic17h118149a781a98a78E", hash=False)
'core::panicking::panic'
>>> demangle("_RNvCs1234_7mycrate3foo")
'mycrate[3c1c0]::foo'
>>> demangle("not_mangled")
'not_mangled'
"""

from __future__ import annotations

import ctypes
import ctypes.util
import string
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

from ._demangle_v0 import demangle_v0

__all__ = ["Frame", "demangle", "format_backtrace"]

HEADER = "error while executing at wasm backtrace:"


@dataclass(frozen=True)
class Frame:
    """One wasm frame of a trap's backtrace.

    Attributes:
        func_index: the function's index in its module (imported functions count first).
        func_name: its name in the module's ``name`` section, as stored (a mangled symbol for
            Rust), or ``None``.
        module_name: the module's own name from its ``name`` section, or ``None``.
        module_offset: byte offset of the trapping (or calling) instruction in the module, or
            ``None`` when the engine does not know it (neither engine records it yet).
        module: the manifest's name of the module the function belongs to (``"main"``).
    """

    func_index: int
    func_name: Optional[str] = None
    module_name: Optional[str] = None
    module_offset: Optional[int] = None
    module: str = "main"

    @property
    def name(self) -> str:
        """The name to show: the demangled ``func_name``, or ``<wasm function N>``."""
        if self.func_name is None:
            return f"<wasm function {self.func_index}>"
        return demangle(self.func_name)

    def __str__(self) -> str:
        module = self.module_name if self.module_name is not None else "<unknown>"
        return f"{module}!{self.name}"


def format_backtrace(frames: Sequence[Frame]) -> str:
    """The backtrace as wasmtime formats it (without a trailing newline): a header line, then
    one line per frame, ``{index:>5}: [{offset:#8x} - ]{module}!{name}``."""
    lines = [HEADER]
    for i, frame in enumerate(frames):
        offset = f"{frame.module_offset:#8x} - " if frame.module_offset is not None else ""
        lines.append(f"{i:>5}: {offset}{frame}")
    return "\n".join(lines)


def read_frames(ffi: Any, lib: Any, ptr: Any) -> List[Frame]:
    """The frames of the last call's trap of plugin ``ptr`` (an ``ExtismPlugin *``)."""
    cap = 64  # EXN_MAX_FRAMES: what the engines keep
    raw = ffi.new("exn_trap_frame_t[]", cap)
    return _frames(ffi, raw, lib.exn_plugin_trap_backtrace(ptr, raw, cap))


def read_call_frames(ffi: Any, lib: Any, call_state: Any) -> List[Frame]:
    """The frames of the trap of the exn_call made with ``call_state`` (copied by C while the
    call held its plugin: no other thread's call can have replaced them)."""
    out = ffi.new("exn_trap_frame_t **")
    n = lib.exn_call_frames(call_state, out)
    return _frames(ffi, out[0], n)


def _frames(ffi: Any, raw: Any, n: int) -> List[Frame]:
    frames = []
    for i in range(n):
        f = raw[i]

        def text(p: Any, size: int) -> Optional[str]:
            if p == ffi.NULL:
                return None
            return bytes(ffi.buffer(p, size)).decode("utf-8", "replace")

        frames.append(Frame(
            func_index=int(f.func),
            func_name=text(f.func_name, f.func_name_len),
            module_name=text(f.module_name, f.module_name_len),
            module_offset=None if f.offset == 0xFFFFFFFF else int(f.offset),
            module=ffi.string(f.module).decode("utf-8", "replace"),
        ))
    return frames


# ---- Rust symbol demangling ---------------------------------------------------------------------
#
# What the official runtime shows: wasmtime names a frame with the rustc-demangle crate's plain
# ("{}") format, which keeps the legacy hash ("::h0123456789abcdef") and the v0 crate
# disambiguators ("mycrate[3c1c0]"); then, for what is not Rust, the cpp_demangle crate (C++
# "_Z3foov" -> "foo()"); anything else stays as it is.  C++ is demangled here by the C++ runtime
# the system has (`__cxa_demangle` of libstdc++ or libc++abi, the c++filt format), see _cxx.

_HEX = set("0123456789abcdef")
_LEGACY_ESCAPES = {"SP": "@", "BP": "*", "RF": "&", "LT": "<", "GT": ">", "LP": "(", "RP": ")",
                   "C": ","}
_SYMBOL_CHARS = set(string.ascii_letters + string.digits + string.punctuation)


def demangle(symbol: str, *, hash: bool = True) -> str:
    """A Rust symbol (legacy ``_ZN...E`` or v0 ``_R...``) as Rust spells the path, or a C++
    symbol (``_Z...``) as C++ spells it, the way the official runtime shows them; any other
    string unchanged.

    C++ names need the system's C++ runtime (libstdc++ or libc++abi, present on Linux and
    macOS) and at most 1024 characters; without it, or longer, they stay as stored.  C++
    toolchains that link with wasm-ld (clang, Zig, Emscripten) already store them demangled.

    Args:
        symbol: the name, e.g. from a ``name`` section.
        hash: keep the legacy hash element (``::h0123456789abcdef``) and the v0 crate
            disambiguators (``[3c1c0]``), as the official runtime does; ``False`` drops them.
    """
    s = symbol
    cut = s.find(".llvm.")  # a suffix ThinLTO adds: dropped when it is all hex (and '@')
    if cut >= 0 and all(c in "0123456789ABCDEF@" for c in s[cut + 6:]):
        s = s[:cut]
    out: Optional[str]
    out, suffix = _legacy(s, hash)
    if out is None:
        out, suffix = demangle_v0(s, hash)
    if out is None:
        return _cxx(symbol) or symbol
    if suffix and not (suffix.startswith(".") and all(c in _SYMBOL_CHARS for c in suffix)):
        return _cxx(symbol) or symbol  # e.g. "_ZN3foo3barEv": C++, not Rust
    return out + suffix


# A mangled C++ name longer than this stays as stored: the C++ runtime's demangler recurses
# about once per character, and the name comes from the module (a thread's stack is small).
CXX_MAX = 1024

_cxa: Any = None  # (demangle, free), or False when the system has no C++ runtime


def _cxx(symbol: str) -> Optional[str]:
    """An Itanium-mangled C++ name demangled as the official runtime shows it (cpp_demangle's
    text: c++filt's, but for thunks, vtables and VTTs), or ``None``."""
    if not symbol.startswith("_Z") or len(symbol) > CXX_MAX or not symbol.isascii() \
            or "\0" in symbol:
        return None
    if symbol.startswith(("_ZTh", "_ZTv", "_ZTc")):
        return _cxx_thunk(symbol)
    text = _cxa_demangle(symbol)
    for prefix, mangled, name in (("vtable for ", "_ZTV", "vtable"), ("VTT for ", "_ZTT", "vtt")):
        if text is not None and symbol.startswith(mangled) and text.startswith(prefix):
            return f"{{{name}({text[len(prefix):]})}}"
    return text


def _cxx_thunk(symbol: str) -> Optional[str]:
    """``_ZTh``/``_ZTv`` (one call offset) and ``_ZTc`` (two) then a function's encoding, as
    cpp_demangle writes them: ``{virtual override thunk({offset(-8)}, B::f())}``."""
    rest = symbol[4:] if symbol[3] == "c" else symbol[3:]
    offsets = []
    for _ in range(2 if symbol[3] == "c" else 1):
        kind, rest = rest[:1], rest[1:]
        numbers = []
        for _ in range(1 if kind == "h" else 2 if kind == "v" else 0):
            end = rest.find("_")
            digits = rest[1:end] if rest[:1] == "n" else rest[:end]
            if end <= 0 or not digits.isdigit():
                return None
            numbers.append(("-" if rest[:1] == "n" else "") + str(int(digits)))
            rest = rest[end + 1:]
        if not numbers:
            return None
        offsets.append(f"{{offset({numbers[0]})}}" if kind == "h"
                       else f"{{virtual offset({numbers[0]}, {numbers[1]})}}")
    base, dot, clone = rest.partition(".")
    function = _cxa_demangle("_Z" + base)
    if function is None:
        return None
    suffix = ""
    if dot:
        whole = _cxa_demangle("_Z" + rest)
        if whole is None or not whole.startswith(function):
            return None
        suffix = whole[len(function):]
    return f"{{virtual override thunk({', '.join(offsets + [function])})}}{suffix}"


def _cxa_demangle(symbol: str) -> Optional[str]:
    """The system's ``__cxa_demangle`` of ``symbol``, or ``None``."""
    global _cxa
    if _cxa is None:
        _cxa = _load_cxa()
    if not _cxa:
        return None
    cxa_demangle, free = _cxa
    status = ctypes.c_int(-1)
    out = cxa_demangle(symbol.encode("ascii"), None, None, ctypes.byref(status))
    if not out:
        return None
    try:
        return ctypes.string_at(out).decode("utf-8", "replace") if status.value == 0 else None
    finally:
        free(out)


def _load_cxa() -> Any:
    names = ["libstdc++.so.6", "libc++abi.so.1", "libc++abi.dylib", "libc++.so.1"]
    found = ctypes.util.find_library("stdc++")
    if found:
        names.insert(0, found)
    for name in names:
        try:
            lib = ctypes.CDLL(name)
            cxa_demangle = lib.__cxa_demangle
        except (OSError, AttributeError):
            continue
        cxa_demangle.restype = ctypes.c_void_p
        cxa_demangle.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.POINTER(ctypes.c_int)]
        try:
            # `free` as the process resolves it, the one the demangler's malloc pairs with
            # (libc's own, looked up in libc, is not when malloc is interposed, e.g. by ASan)
            free = ctypes.CDLL(None).free
        except (OSError, AttributeError):
            continue
        free.restype = None
        free.argtypes = [ctypes.c_void_p]
        return cxa_demangle, free
    return False


def _legacy(s: str, keep_hash: bool) -> "tuple[Optional[str], str]":
    """Legacy mangling: ``_ZN`` (or ``ZN``, ``__ZN``), length-prefixed elements, ``E``."""
    if s.startswith("_ZN") and len(s) > 2:
        inner = s[3:]
    elif s.startswith("ZN") and len(s) > 1:
        inner = s[2:]
    elif s.startswith("__ZN") and len(s) > 3:
        inner = s[4:]
    else:
        return None, ""
    if not inner.isascii():
        return None, ""
    elements = []
    i = 0
    while True:
        if i >= len(inner):
            return None, ""
        if inner[i] == "E":
            i += 1
            break
        if not inner[i].isdigit():
            return None, ""
        j = i
        while j < len(inner) and inner[j].isdigit():
            j += 1
        n = int(inner[i:j])
        if j + n >= len(inner):  # (the element, then at least its successor or the E)
            return None, ""
        elements.append(inner[j:j + n])
        i = j + n
    if (not keep_hash and elements and elements[-1][:1] == "h"
            and all(c in _HEX or c in "ABCDEF" for c in elements[-1][1:])):
        elements.pop()
    return "::".join(_legacy_element(e) for e in elements), inner[i:]


def _legacy_element(rest: str) -> str:
    if rest.startswith("_$"):
        rest = rest[1:]
    out = []
    while rest:
        if rest.startswith("."):
            if rest.startswith(".."):
                out.append("::")
                rest = rest[2:]
            else:
                out.append(".")
                rest = rest[1:]
        elif rest.startswith("$"):
            end = rest.find("$", 1)
            if end < 0:
                break
            escape, after = rest[1:end], rest[end + 1:]
            ch = _LEGACY_ESCAPES.get(escape)
            if ch is None and escape.startswith("u") and escape[1:] and all(
                    c in _HEX for c in escape[1:]):
                code = int(escape[1:], 16)
                if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                    c = chr(code)
                    if not (code < 0x20 or 0x7F <= code < 0xA0):  # (control characters stay)
                        ch = c
            if ch is None:
                break
            out.append(ch)
            rest = after
        else:
            stop = min((k for k in (rest.find("$"), rest.find(".")) if k >= 0), default=-1)
            if stop < 0:
                break
            out.append(rest[:stop])
            rest = rest[stop:]
    out.append(rest)
    return "".join(out)

