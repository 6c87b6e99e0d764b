"""Host functions: Python callables a plugin can import.

Two ways to make one, compatible with the official package:

* explicitly typed: ``@host_fn(signature=([ValType.I64], [ValType.I64]))`` on
  ``def f(current_plugin, inputs: list[Val], outputs: list[Val], *user_data)``, which sets
  ``outputs[i].value``; or ``Function(namespace, name, args, returns, f, *user_data)``;
* typed by annotations: ``@host_fn()`` on ``def f(text: str) -> str``.  Parameters and results
  map as below; a first parameter annotated ``CurrentPlugin`` receives the current plugin.

========================  ==========  ====================================================
annotation                wasm type   value
========================  ==========  ====================================================
``str`` / ``bytes``       i64         a kernel block (UTF-8 text / bytes)
``int``                   i64         the integer itself
``float``                 f64         the float itself
``bool``                  i32         ``bool(value)`` in, 0 or 1 out
``Annotated[T, Json]``    i64         a block of JSON text
``Annotated[T, Pickle]``  i64         a block of pickle bytes
``Annotated[T, Codec(f)]``  i64       a block of bytes, decoded or encoded by ``f``
``Tuple[A, B, ...]``      several     each element by its own annotation (results only)
========================  ==========  ====================================================

Unlike the official package there is no global registry: a plugin gets exactly the functions
given to it; f32/f64 results reach the guest; an ``int`` result is the integer, not a pointer to
its bytes; tuples work; and an exception raised by a host function stops the guest and is
raised again by ``Plugin.call``.
"""

from __future__ import annotations

import functools
import inspect
import json
import pickle
import struct
import typing
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ._callbacks import context_of
from ._native import ffi, lib, slab
from .current_plugin import CurrentPlugin, Val, ValType

__all__ = ["Codec", "Function", "Json", "Pickle", "host_fn", "ExplicitFunction",
           "TypeInferredFunction"]

DEFAULT_NAMESPACE = "extism:host/user"


class Json:
    """Marker for ``Annotated[T, Json]``: the value crosses as JSON text in a kernel block."""


class Pickle:
    """Marker for ``Annotated[T, Pickle]``: the value crosses as pickle bytes in a kernel block."""


class Codec:
    """Marker for ``Annotated[T, Codec(f)]``: for a parameter ``f(bytes) -> value``, for a result
    ``f(value) -> bytes``."""

    def __init__(self, codec: Callable[[Any], Any]) -> None:
        self.codec = codec


# ---- conversions --------------------------------------------------------------------------------
#
# Host functions use the exn_host_fn convention (extism_native.h): one int64 array holding the
# parameters, then the results; integers as they are, floats as the bits of a double.  Indexing
# a primitive cdata array gives a Python int without allocating wrappers, which keeps the round
# trip short.
#
# A parameter decoder maps (CurrentPlugin or None, raw int64) -> Python value; a result encoder
# maps (CurrentPlugin or None, value) -> raw int64.  Each says whether it needs the plugin.

_BITS = struct.Struct("<q")
_DOUBLE = struct.Struct("<d")


def _bits_to_float(x: int) -> float:
    return _DOUBLE.unpack(_BITS.pack(x))[0]


def _float_to_bits(v: Any) -> int:
    return _BITS.unpack(_DOUBLE.pack(float(v)))[0]


class _Conv:
    __slots__ = ("fn", "needs_plugin")

    def __init__(self, fn: Callable[..., Any], needs_plugin: bool = False) -> None:
        self.fn = fn
        self.needs_plugin = needs_plugin


def _block_decoder(post: Callable[[bytes], Any]) -> _Conv:
    return _Conv(lambda cur, x: post(cur.read(x)), True)


def _block_encoder(pre: Callable[[Any], bytes]) -> _Conv:
    return _Conv(lambda cur, v: cur.alloc_bytes(pre(v)), True)


def _utf8(value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"host function declared to return str, returned {type(value).__name__}")
    return value.encode("utf-8")


def _raw_bytes(value: Any) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"host function declared to return bytes, returned {type(value).__name__}")
    return bytes(value)


_INT_IN = _Conv(lambda cur, x: x)
_BOOL_IN = _Conv(lambda cur, x: bool(x))
_FLOAT_IN = _Conv(lambda cur, x: _bits_to_float(x))
_INT_OUT = _Conv(lambda cur, v: int(v))
_BOOL_OUT = _Conv(lambda cur, v: 1 if v else 0)
_FLOAT_OUT = _Conv(lambda cur, v: _float_to_bits(v))


def _marker(annotation: Any) -> Tuple[Any, Any]:
    """(base type, extism marker or None) of an annotation."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        for extra in extras:
            if extra in (Json, Pickle) or isinstance(extra, Codec):
                return base, extra
        return base, None
    return annotation, None


def _param(annotation: Any, name: str) -> Tuple[ValType, _Conv]:
    base, marker = _marker(annotation)
    if marker is Json:
        return ValType.I64, _block_decoder(json.loads)
    if marker is Pickle:
        return ValType.I64, _block_decoder(pickle.loads)
    if isinstance(marker, Codec):
        return ValType.I64, _block_decoder(marker.codec)
    if base is str:
        return ValType.I64, _block_decoder(lambda b: b.decode("utf-8"))
    if base is bytes:
        return ValType.I64, _block_decoder(bytes)
    if base is bool:
        return ValType.I32, _BOOL_IN
    if base is int:
        return ValType.I64, _INT_IN
    if base is float:
        return ValType.F64, _FLOAT_IN
    raise TypeError(f"Could not infer input type for argument {name}")


def _result(annotation: Any) -> Tuple[ValType, _Conv]:
    base, marker = _marker(annotation)
    if marker is Json:
        return ValType.I64, _block_encoder(lambda v: json.dumps(v).encode("utf-8"))
    if marker is Pickle:
        return ValType.I64, _block_encoder(pickle.dumps)
    if isinstance(marker, Codec):
        return ValType.I64, _block_encoder(marker.codec)
    if base is str:
        return ValType.I64, _block_encoder(_utf8)
    if base is bytes:
        return ValType.I64, _block_encoder(_raw_bytes)
    if base is bool:
        return ValType.I32, _BOOL_OUT
    if base is int:
        return ValType.I64, _INT_OUT
    if base is float:
        return ValType.F64, _FLOAT_OUT
    raise TypeError("Could not infer return type")


def _is_float(t: ValType) -> bool:
    return t == ValType.F32 or t == ValType.F64


_currents: Dict[int, CurrentPlugin] = {}


def _current(cur: int) -> CurrentPlugin:
    """The CurrentPlugin wrapper of a plugin address (it holds nothing but the pointer, so one
    per plugin address is reused rather than made for every call)."""
    current = _currents.get(cur)
    if current is None:
        if len(_currents) > 4096:
            _currents.clear()
        current = _currents[cur] = CurrentPlugin(ffi.cast("ExtismCurrentPlugin *", cur))
    return current


def _generate(name: str, body: List[str], namespace: Dict[str, Any]) -> Callable[..., Any]:
    """Compile `def invoke(cur, slots): <body>` - one straight-line function per host function
    signature, so a call pays for no loops or per-value dispatch (the technique of dataclasses)."""
    source = "def invoke(cur, slots):\n" + "\n".join("    " + line for line in body) + "\n"
    exec(compile(source, f"<host function {name}>", "exec"), namespace)
    return namespace["invoke"]


# ---- the Python side of a host function (registered in the slab) ---------------------------

class _Callable:
    """What the C trampoline reaches through a function's user data.  `invoke(cur, slots)`
    returns the CurrentPlugin it made, if any (its memory views are released after)."""

    __slots__ = ("invoke", "name")

    def __init__(self, invoke: Callable[[Any, Any], Optional[CurrentPlugin]], name: str) -> None:
        self.invoke = invoke
        self.name = name


_lookup = slab._items.get  # the slab's key -> object map, bound for the hot path
# the C shim's address (PyPy gives a wrapper, not a function pointer, for lib.exn_py_host_flat)
_HOST_FLAT = ffi.addressof(lib, "exn_py_host_flat")


@ffi.def_extern()
def _exn_py_host_call(user_data: int, cur: int, slots: Any) -> None:
    # user_data (a slab key) and cur arrive as ints: see PREAMBLE in _ffi_build.py
    target = _lookup(user_data)
    try:
        current = target.invoke(cur, slots)
        if current is not None and current._views is not None:
            current._release()
    except BaseException as exc:
        # stop the guest now; Plugin.call raises this very exception once it has unwound
        pointer = _current(cur).pointer
        ctx = context_of(lib.extism_current_plugin_host_context(pointer))
        if ctx is not None:
            ctx.error = exc
        name = target.name if target is not None else "?"
        message = f"host function {name!r} raised {type(exc).__name__}: {exc}"
        lib.exn_current_plugin_fail(pointer, message.encode("utf-8", "replace")[:400])


@ffi.def_extern()
def _exn_py_free_user_data(user_data: Any, _slab: Any = slab) -> None:
    # bound as a default: this also runs from finalizers at interpreter exit, when module
    # globals may already be gone
    _slab.remove(user_data)


# ---- public classes -------------------------------------------------------------------------------

class Function:
    """A host function a plugin can import as ``namespace::name``.

    Args:
        namespace: import module name (None: "extism:host/user").
        name: import name.
        args, returns: lists of :class:`ValType`.
        f: ``f(current_plugin, inputs: list[Val], outputs: list[Val], *user_data)``; it sets
            ``outputs[i].value``.
        user_data: extra positional arguments passed to ``f``.

    The same Function may be given to any number of plugins.
    """

    def __init__(self, namespace: Optional[str], name: str, args: Sequence[ValType],
                 returns: Sequence[ValType], f: Callable[..., Any], *user_data: Any) -> None:
        self.namespace = namespace or DEFAULT_NAMESPACE
        self.name = name
        self.args = [ValType(a) for a in args]
        self.returns = [ValType(r) for r in returns]
        self.user_data = user_data
        self._setup(self._explicit_invoke(f, user_data))

    def _explicit_invoke(self, f: Callable[..., Any], user_data: Tuple[Any, ...]) -> Any:
        n_in = len(self.args)
        ns: Dict[str, Any] = {"f": f, "user_data": user_data, "_current": _current, "Val": Val,
                              "_currents_get": _currents.get,
                              "_new": object.__new__,
                              "_to_float": _bits_to_float, "_to_bits": _float_to_bits, "int": int}
        # Val objects are made with object.__new__ and two slot stores: the types are known
        # ValTypes, so Val.__init__'s check is not needed, and this is the largest per-call cost
        body = ["current = _currents_get(cur) or _current(cur)"]
        for i, t in enumerate(self.args):
            ns[f"T{i}"] = t
            value = f"_to_float(slots[{i}])" if _is_float(t) else f"slots[{i}]"
            body += [f"p{i} = _new(Val)", f"p{i}.t = T{i}", f"p{i}.value = {value}"]
        for j, t in enumerate(self.returns):
            ns[f"R{j}"] = t
            body += [f"r{j} = _new(Val)", f"r{j}.t = R{j}", f"r{j}.value = 0"]
        params = ", ".join(f"p{i}" for i in range(n_in))
        results = ", ".join(f"r{j}" for j in range(len(self.returns)))
        body += [f"params = [{params}]", f"results = [{results}]",
                 "f(current, params, results, *user_data)" if user_data else
                 "f(current, params, results)"]
        for j, t in enumerate(self.returns):
            conv = "_to_bits" if _is_float(t) else "int"
            body.append(f"slots[{n_in + j}] = {conv}(results[{j}].value)")
        body.append("return current")
        return _generate(self.name, body, ns)

    def _setup(self, invoke: Any) -> None:
        for t in self.args + self.returns:
            if t not in (ValType.I32, ValType.I64, ValType.F32, ValType.F64):
                raise TypeError(f"host function {self.name!r}: {t.name} values cannot cross "
                                "the host-function bridge")
        key = slab.add(_Callable(invoke, self.name))
        params = ffi.new("ExtismValType[]", [int(t) for t in self.args])
        results = ffi.new("ExtismValType[]", [int(t) for t in self.returns])
        ptr = lib.exn_function_new(self.name.encode("utf-8"), params, len(self.args), results,
                                   len(self.returns), _HOST_FLAT, key,
                                   lib._exn_py_free_user_data)
        if ptr == ffi.NULL:  # the user data was released already
            raise ValueError(f"cannot create host function {self.name!r}")
        self._pointer = ffi.gc(ptr, lib.extism_function_free)
        if self.namespace != DEFAULT_NAMESPACE:
            lib.extism_function_set_namespace(self._pointer, self.namespace.encode("utf-8"))

    @property
    def pointer(self) -> Any:
        """The underlying ExtismFunction* (for the C API)."""
        return self._pointer

    def __repr__(self) -> str:
        sig = ", ".join(t.name for t in self.args) + " -> " + ", ".join(t.name for t in self.returns)
        return f"<extism_native.Function {self.namespace}::{self.name} ({sig})>"


class ExplicitFunction(Function):
    """A decorated function with an explicit signature; still callable as the original."""

    def __init__(self, func: Callable[..., Any], name: Optional[str], namespace: Optional[str],
                 signature: Tuple[Sequence[ValType], Sequence[ValType]],
                 user_data: Tuple[Any, ...]) -> None:
        self.func = func
        functools.update_wrapper(self, func)
        super().__init__(namespace, name or func.__name__, signature[0], signature[1], func,
                         *user_data)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)


class TypeInferredFunction(Function):
    """A decorated function typed by its annotations; still callable as the original."""

    def __init__(self, func: Callable[..., Any], name: Optional[str], namespace: Optional[str],
                 user_data: Tuple[Any, ...]) -> None:
        self.func = func
        functools.update_wrapper(self, func)
        self.namespace = namespace or DEFAULT_NAMESPACE
        self.name = name or func.__name__
        self.user_data = user_data
        hints = typing.get_type_hints(func, include_extras=True)
        if not hints:
            raise TypeError("Host function must include Python type annotations or explicitly "
                            "list arguments.")
        params = [p for p in inspect.signature(func).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        wants_plugin = bool(params) and hints.get(params[0].name) is CurrentPlugin
        if wants_plugin:
            params = params[1:]
        decoders: List[_Conv] = []
        self.args = []
        for p in params:
            if p.name not in hints:
                raise TypeError(f"Could not infer input type for argument {p.name}")
            t, decode = _param(hints[p.name], p.name)
            self.args.append(t)
            decoders.append(decode)
        ret = hints.get("return", type(None))
        if ret is None or ret is type(None):
            result_types: List[Any] = []
        elif typing.get_origin(ret) in (tuple, Tuple):
            result_types = [a for a in typing.get_args(ret) if a is not Ellipsis]
        else:
            result_types = [ret]
        encoders: List[_Conv] = []
        self.returns = []
        for annotation in result_types:
            t, encode = _result(annotation)
            self.returns.append(t)
            encoders.append(encode)
        self._setup(self._inferred_invoke(func, wants_plugin, decoders, encoders, user_data))

    @staticmethod
    def _inferred_invoke(func: Callable[..., Any], wants_plugin: bool, decoders: List[_Conv],
                         encoders: List[_Conv], user_data: Tuple[Any, ...]) -> Any:
        n_in, n_out = len(decoders), len(encoders)
        needs_plugin = wants_plugin or any(c.needs_plugin for c in decoders + encoders)
        ns: Dict[str, Any] = {"func": func, "user_data": user_data, "_current": _current,
                              "_currents_get": _currents.get,
                              "tuple": tuple, "len": len, "TypeError": TypeError}
        body = ["current = _currents_get(cur) or _current(cur)" if needs_plugin
                else "current = None"]
        args = ["current"] if wants_plugin else []
        for i, conv in enumerate(decoders):
            if conv is _INT_IN:
                args.append(f"slots[{i}]")
            else:
                ns[f"d{i}"] = conv.fn
                args.append(f"d{i}(current, slots[{i}])")
        if user_data:
            args.append("*user_data")
        body.append(f"result = func({', '.join(args)})")
        if n_out == 1:
            if encoders[0] is _INT_OUT:
                body.append(f"slots[{n_in}] = int(result)")
                ns["int"] = int
            else:
                ns["e0"] = encoders[0].fn
                body.append(f"slots[{n_in}] = e0(current, result)")
        elif n_out > 1:
            body += ["if type(result) is not tuple or len(result) != %d:" % n_out,
                     "    raise TypeError('host function must return a tuple of %d values')" % n_out]
            for j, conv in enumerate(encoders):
                ns[f"e{j}"] = conv.fn
                body.append(f"slots[{n_in + j}] = e{j}(current, result[{j}])")
        body.append("return current")
        return _generate(func.__name__, body, ns)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)


def host_fn(name: Optional[str] = None, namespace: Optional[str] = None,
            signature: Optional[Tuple[Sequence[ValType], Sequence[ValType]]] = None,
            user_data: Union[bytes, List[Any], None] = None) -> Callable[[Callable[..., Any]],
                                                                        Function]:
    """Decorator that makes a host function from a Python function.

    Args:
        name: import name (default: the function's name).
        namespace: import module (default "extism:host/user").
        signature: ``([param ValTypes], [result ValTypes])`` for an explicitly typed function;
            without it the types come from the annotations.
        user_data: a value, or a list of values, passed as extra positional arguments.

    The decorated object is a :class:`Function` (give it to ``Plugin(functions=[...])``) and is
    still callable as the original function.
    """
    extra: Tuple[Any, ...]
    if user_data is None:
        extra = ()
    elif isinstance(user_data, list):
        extra = tuple(user_data)
    else:
        extra = (user_data,)

    def decorate(func: Callable[..., Any]) -> Function:
        if signature is not None:
            return ExplicitFunction(func, name, namespace, signature, extra)
        return TypeInferredFunction(func, name, namespace, extra)

    return decorate
