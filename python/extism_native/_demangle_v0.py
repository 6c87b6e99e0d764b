"""Rust v0 symbol demangling (``_R...``), for :func:`extism_native.backtrace.demangle`.

The grammar is Rust's RFC 2603 (symbol-name mangling v0): paths (crate roots, nested paths,
impls, generic arguments), types, constants and back references.  The text follows what the
official runtime shows (rustc-demangle's plain format): crate roots keep their disambiguator
as ``crate[hex]``, integer constants their type (``3usize``); with ``keep_hash=False`` both go.

A symbol that does not parse completely, including a back reference that does not, is left
as it is.  Constants of the unstable kinds (strings, references, arrays, tuples, structs) are
not decoded: a symbol with one is left as it is too.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple

_BASIC = {"a": "i8", "b": "bool", "c": "char", "d": "f64", "e": "str", "f": "f32", "h": "u8",
          "i": "isize", "j": "usize", "l": "i32", "m": "u32", "n": "i128", "o": "u128",
          "s": "i16", "t": "u16", "u": "()", "v": "...", "x": "i64", "y": "u64", "z": "!",
          "p": "_"}
_MAX_DEPTH = 500


class _Invalid(Exception):
    pass


class _Parser:
    def __init__(self, sym: str, keep_hash: bool) -> None:
        self.sym = sym
        self.pos = 0
        self.keep_hash = keep_hash
        self.out: List[str] = []
        self.depth = 0
        self.bound = 0  # bound lifetimes in scope (for<'a, ...>)

    # ---- reading ----------------------------------------------------------------------------

    def peek(self) -> str:
        return self.sym[self.pos] if self.pos < len(self.sym) else ""

    def eat(self, c: str) -> bool:
        if self.peek() == c:
            self.pos += 1
            return True
        return False

    def next(self) -> str:
        c = self.peek()
        if not c:
            raise _Invalid
        self.pos += 1
        return c

    def integer_62(self) -> int:
        if self.eat("_"):
            return 0
        x = 0
        while not self.eat("_"):
            c = self.next()
            if "0" <= c <= "9":
                d = ord(c) - 48
            elif "a" <= c <= "z":
                d = ord(c) - 97 + 10
            elif "A" <= c <= "Z":
                d = ord(c) - 65 + 36
            else:
                raise _Invalid
            x = x * 62 + d
            if x >= 1 << 64:
                raise _Invalid
        return x + 1

    def opt_integer_62(self, tag: str) -> int:
        return self.integer_62() + 1 if self.eat(tag) else 0

    def decimal(self) -> int:
        c = self.next()
        if not c.isdigit():
            raise _Invalid
        n = int(c)
        if n:
            while self.peek().isdigit():
                n = n * 10 + int(self.next())
        return n

    def ident(self) -> str:
        puny = self.eat("u")
        n = self.decimal()
        self.eat("_")
        start, self.pos = self.pos, self.pos + n
        if self.pos > len(self.sym):
            raise _Invalid
        text = self.sym[start:self.pos]
        if not puny:
            return text
        ascii_part, sep, code = text.rpartition("_")
        if not sep:
            ascii_part, code = "", text
        if not code:
            raise _Invalid
        try:
            return (ascii_part + "-" + code if ascii_part else code).encode().decode("punycode")
        except UnicodeError:
            return f"punycode{{{text}}}"

    def hex_nibbles(self) -> str:
        start = self.pos
        while True:
            c = self.next()
            if c == "_":
                return self.sym[start:self.pos - 1]
            if c not in "0123456789abcdef":
                raise _Invalid

    # ---- printing ---------------------------------------------------------------------------

    def emit(self, s: str) -> None:
        self.out.append(s)

    def backref(self, what: Callable[[], object]) -> None:
        at = self.pos - 1  # (the B)
        target = self.integer_62()
        if target >= at:
            raise _Invalid
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _Invalid
        saved, self.pos = self.pos, target
        what()
        self.pos = saved
        self.depth -= 1

    def sep_list(self, item: Callable[[], None], sep: str) -> int:
        n = 0
        while not self.eat("E"):
            if n:
                self.emit(sep)
            item()
            n += 1
        return n

    def lifetime(self, index: int) -> None:
        self.emit("'")
        if index == 0:
            self.emit("_")
            return
        depth = self.bound - index
        if depth < 0:
            raise _Invalid
        self.emit(chr(ord("a") + depth) if depth < 26 else f"_{depth}")

    def path(self, in_value: bool) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _Invalid
        tag = self.next()
        if tag == "C":
            dis = self.opt_integer_62("s")
            self.emit(self.ident())
            if self.keep_hash and dis:
                self.emit(f"[{dis:x}]")
        elif tag == "N":
            ns = self.next()
            if not ns.isalpha() or not ns.isascii():
                raise _Invalid
            self.path(in_value)
            dis = self.opt_integer_62("s")
            name = self.ident()
            if ns.isupper():
                self.emit("::{" + {"C": "closure", "S": "shim"}.get(ns, ns))
                if name:
                    self.emit(":" + name)
                self.emit(f"#{dis}}}")
            elif name:
                self.emit("::" + name)
        elif tag in "MXY":
            if tag != "Y":
                self.opt_integer_62("s")
                saved = self.out
                self.out = []  # the impl's own path is not shown
                self.path(False)
                self.out = saved
            self.emit("<")
            self.type()
            if tag != "M":
                self.emit(" as ")
                self.path(False)
            self.emit(">")
        elif tag == "I":
            self.path(in_value)
            if in_value:
                self.emit("::")
            self.emit("<")
            self.sep_list(self.generic_arg, ", ")
            self.emit(">")
        elif tag == "B":
            self.backref(lambda: self.path(in_value))
        else:
            raise _Invalid
        self.depth -= 1

    def generic_arg(self) -> None:
        if self.eat("L"):
            self.lifetime(self.integer_62())
        elif self.eat("K"):
            self.const()
        else:
            self.type()

    def binder(self, body: Callable[[], None]) -> None:
        n = self.opt_integer_62("G")
        if n:
            self.emit("for<")
            for i in range(n):
                if i:
                    self.emit(", ")
                self.bound += 1
                self.lifetime(1)
            self.emit("> ")
        body()
        self.bound -= n

    def type(self) -> None:
        tag = self.next()
        basic = _BASIC.get(tag)
        if basic is not None:
            self.emit(basic)
            return
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _Invalid
        if tag in "RQ":
            self.emit("&")
            if self.eat("L"):
                lt = self.integer_62()
                if lt:
                    self.lifetime(lt)
                    self.emit(" ")
            if tag == "Q":
                self.emit("mut ")
            self.type()
        elif tag in "PO":
            self.emit("*const " if tag == "P" else "*mut ")
            self.type()
        elif tag in "AS":
            self.emit("[")
            self.type()
            if tag == "A":
                self.emit("; ")
                self.const()
            self.emit("]")
        elif tag == "T":
            self.emit("(")
            if self.sep_list(self.type, ", ") == 1:
                self.emit(",")
            self.emit(")")
        elif tag == "F":
            self.binder(self.fn_sig)
        elif tag == "D":
            self.emit("dyn ")
            self.binder(self.dyn_bounds)
            if not self.eat("L"):
                raise _Invalid
            lt = self.integer_62()
            if lt:
                self.emit(" + ")
                self.lifetime(lt)
        elif tag == "B":
            self.backref(self.type)
        else:
            self.pos -= 1
            self.path(False)
        self.depth -= 1

    def dyn_bounds(self) -> None:
        self.sep_list(self.dyn_trait, " + ")

    def fn_sig(self) -> None:
        unsafe = self.eat("U")
        abi: Optional[str] = None
        if self.eat("K"):
            abi = "C" if self.eat("C") else self.ident()
            if not abi or not abi.isascii():
                raise _Invalid
        if unsafe:
            self.emit("unsafe ")
        if abi is not None:
            self.emit('extern "' + abi.replace("_", "-") + '" ')
        self.emit("fn(")
        self.sep_list(self.type, ", ")
        self.emit(")")
        if not self.eat("u"):
            self.emit(" -> ")
            self.type()

    def dyn_trait(self) -> None:
        opened = self.path_maybe_open_generics()
        while self.eat("p"):
            self.emit(", " if opened else "<")
            opened = True
            self.emit(self.ident() + " = ")
            self.type()
        if opened:
            self.emit(">")

    def path_maybe_open_generics(self) -> bool:
        if self.eat("B"):
            opened = [False]

            def follow() -> None:
                opened[0] = self.path_maybe_open_generics()

            self.backref(follow)
            return opened[0]
        if self.eat("I"):
            self.path(False)
            self.emit("<")
            self.sep_list(self.generic_arg, ", ")
            return True
        self.path(False)
        return False

    def const(self) -> None:
        tag = self.next()
        if tag == "p":
            self.emit("_")
        elif tag in "htmyoj":
            self.const_uint(tag)
        elif tag in "aslxni":
            if self.eat("n"):
                self.emit("-")
            self.const_uint(tag)
        elif tag == "b":
            v = self.hex_nibbles()
            if v not in ("0", "1"):
                raise _Invalid
            self.emit("true" if v == "1" else "false")
        elif tag == "c":
            v = self.hex_nibbles()
            code = int(v, 16) if v else -1
            if not (0 <= code <= 0x10FFFF) or 0xD800 <= code <= 0xDFFF:
                raise _Invalid
            self.emit(_char_literal(chr(code)))
        elif tag == "B":
            self.backref(self.const)
        else:
            raise _Invalid  # (strings, references, arrays, tuples, structs: not decoded)

    def const_uint(self, tag: str) -> None:
        v = self.hex_nibbles()
        v = v.lstrip("0")
        if len(v) > 16:
            self.emit("0x" + v)
        else:
            self.emit(str(int(v, 16) if v else 0))
        if self.keep_hash:
            self.emit(_BASIC[tag])


def _char_literal(c: str) -> str:
    """A char as Rust's Debug writes it: 'x', with \\n, \\', \\u{..} escapes."""
    esc = {"\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", "'": "\\'", "\0": "\\0"}
    if c in esc:
        return f"'{esc[c]}'"
    if c.isprintable():
        return f"'{c}'"
    return "'\\u{" + f"{ord(c):x}" + "}'"


def demangle_v0(s: str, keep_hash: bool) -> Tuple[Optional[str], str]:
    """(the demangled path, the rest after it) for a v0 symbol, or (None, "")."""
    if s.startswith("_R"):
        inner = s[2:]
    elif s.startswith("R"):
        inner = s[1:]
    elif s.startswith("__R"):
        inner = s[3:]
    else:
        return None, ""
    if not inner or not ("A" <= inner[0] <= "Z") or not inner.isascii():
        return None, ""
    p = _Parser(inner, keep_hash)
    try:
        p.path(True)
        if "A" <= p.peek() <= "Z":  # the instantiating crate: not shown
            saved = p.out
            p.out = []
            p.path(False)
            p.out = saved
    except (_Invalid, RecursionError):
        return None, ""
    return "".join(p.out), inner[p.pos:]
