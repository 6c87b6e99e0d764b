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

from . import _pickling
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
# A host function's generated `invoke(plugin, *params)` receives each parameter as a Python int
# (i32, i64) or float (f32, f64) and returns its result as an int or float (a tuple for several):
# the C shim in _ffi_build.py converts between those and the exn_host_fn slots.
#
# A parameter decoder maps (CurrentPlugin or None, int or float) -> Python value; a result
# encoder maps (CurrentPlugin or None, value) -> int or float.  Each says whether it needs the
# plugin.

_BITS = struct.Struct("<q")
_DOUBLE = struct.Struct("<d")


def _bits_to_float(x: int) -> float:
    return float(_DOUBLE.unpack(_BITS.pack(x))[0])


def _float_to_bits(v: Any) -> int:
    return int(_BITS.unpack(_DOUBLE.pack(float(v)))[0])


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


_INT_IN = _Conv(lambda cur, x: x)  # also floats: they arrive as Python floats
_BOOL_IN = _Conv(lambda cur, x: bool(x))
_FLOAT_IN = _INT_IN
_INT_OUT = _Conv(lambda cur, v: int(v))
_BOOL_OUT = _Conv(lambda cur, v: 1 if v else 0)
_FLOAT_OUT = _Conv(lambda cur, v: float(v))


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


# The CurrentPlugin of each plugin address, reused from one host call to the next as long as
# the host function did not keep it (the C shim checks its reference count after every host
# call; a kept one is made unusable and dropped from here).  CPython only: on PyPy every host
# call gets a new one.
_currents: Dict[int, CurrentPlugin] = {}


def _current(cur: int) -> CurrentPlugin:
    """The CurrentPlugin for a plugin address (made and cached if there is none)."""
    current = _currents.get(cur)
    if current is None:
        if len(_currents) > 4096:
            _currents.clear()
        current = _currents[cur] = CurrentPlugin(ffi.cast("ExtismCurrentPlugin *", cur))
    return current


def _generate(name: str, n_in: int, body: List[str],
              namespace: Dict[str, Any]) -> Callable[..., Any]:
    """Compile `def invoke(current, a0, a1, ...)`: one straight-line function per host function
    signature, so a call pays for no loops or per-value dispatch (the technique of dataclasses).
    Its caller (the C shim, or _exn_py_host_call) handles exceptions and retires `current`."""
    params = "".join(f", a{i}" for i in range(n_in))
    lines = [f"def invoke(current{params}):"] + ["    " + line for line in body or ["pass"]]
    namespace.update(NAME=name)
    exec(compile("\n".join(lines) + "\n", f"<host function {name}>", "exec"), namespace)
    invoke: Callable[..., Any] = namespace["invoke"]
    return invoke


def _fail(current: CurrentPlugin, name: str, exc: BaseException) -> None:
    """Stop the guest now; Plugin.call raises this very exception once it has unwound."""
    pointer = current.pointer
    if pointer is None:
        return
    ctx = context_of(lib.extism_current_plugin_host_context(pointer))
    if ctx is not None:
        ctx.error = exc
    message = f"host function {name!r} raised {type(exc).__name__}: {exc}"
    lib.exn_current_plugin_fail(pointer, message.encode("utf-8", "replace")[:400])


# ---- the bridge from C ----------------------------------------------------------------------
#
# The slab holds, under the key given to C, each host function's generated `invoke` (with
# attributes `host_name`, `n_in` and `is_float`, one flag per parameter and result) or, for an
# explicitly typed function on CPython, the tuple `_explicit_entry` makes.  On CPython the C
# shim calls either directly (_ffi_build.py); these two are its way back for errors and, on
# PyPy, the whole call.

_slab_items = slab._items  # read by the C shim
_lookup = slab._items.get
# the C shim's addresses (PyPy gives a wrapper, not a function pointer, for lib.exn_py_host_flat)
_HOST_FLAT = ffi.addressof(lib, "exn_py_host_flat")
_HOST_FREE = ffi.addressof(lib, "exn_py_host_free")


def _host_error(key: int, current: CurrentPlugin, exc: BaseException) -> None:
    """Called by the C shim when the host function (or converting its result) raised."""
    entry = _lookup(key)
    name = entry[5] if type(entry) is tuple else getattr(entry, "host_name", "?")
    _fail(current, name, exc)


@ffi.def_extern()
def _exn_py_host_call(key: int, cur: int, slots: Any) -> None:
    # PyPy (or a C shim that could not set up): what the C shim does on CPython, through cffi
    current = CurrentPlugin(ffi.cast("ExtismCurrentPlugin *", cur))
    invoke = _lookup(key)
    if invoke is None:
        lib.exn_current_plugin_fail(current.pointer, b"host function called after it was released")
        return
    try:
        n_in, is_float = invoke.n_in, invoke.is_float
        result = invoke(current, *[_bits_to_float(slots[i]) if is_float[i] else slots[i]
                                   for i in range(n_in)])
        n_out = len(is_float) - n_in
        if n_out == 0:
            return
        values = (result,) if n_out == 1 else result
        if type(values) is not tuple or len(values) != n_out:
            raise TypeError("host function must return one value per result")
        for j, value in enumerate(values):
            slots[n_in + j] = _float_to_bits(value) if is_float[n_in + j] else value
    except BaseException as exc:
        _fail(current, invoke.host_name, exc)
    finally:
        current._retire()


@ffi.def_extern()
def _exn_py_free_user_data(user_data: Any, _slab: Any = slab) -> None:
    # bound as a default: this also runs from finalizers at interpreter exit, when module
    # globals may already be gone
    _slab.remove(user_data)


# ---- explicitly typed functions ------------------------------------------------------------
#
# On CPython the C shim calls an explicit function itself (see exn_py_call_explicit in
# _ffi_build.py: it also reuses the Val objects and lists while nothing else holds them); the
# slab holds the tuple it reads.  On PyPy a generated invoke makes them afresh at every call.

def _explicit_entry(f: Callable[..., Any], user_data: Tuple[Any, ...], args: Sequence[ValType],
                    returns: Sequence[ValType], name: str) -> Tuple[Any, ...]:
    """What the C shim reads: (f, user_data, param ValTypes, result ValTypes, cache, name)."""
    return (f, tuple(user_data), tuple(args), tuple(returns), [None], name)


def _new_pair(n_in: int, n_out: int) -> Tuple[Any, ...]:
    """(inputs, outputs, *their Vals) for the C shim, when it has no free pair to reuse."""
    vals = [object.__new__(Val) for _ in range(n_in + n_out)]
    return (vals[:n_in], vals[n_in:], *vals)


def _explicit_body(args: Sequence[ValType], returns: Sequence[ValType], has_user_data: bool,
                   ns: Dict[str, Any]) -> List[str]:
    """The body of an explicit function's invoke (the path PyPy takes)."""
    ns.update(_new=object.__new__, Val=Val, int=int, float=float)
    ps = [f"p{i}" for i in range(len(args))]
    rs = [f"r{j}" for j in range(len(returns))]
    body = []
    for i, t in enumerate(args):
        ns[f"T{i}"] = t
        body += [f"p{i} = _new(Val)", f"p{i}.t = T{i}", f"p{i}.value = a{i}"]
    for j, t in enumerate(returns):
        ns[f"R{j}"] = t
        body += [f"r{j} = _new(Val)", f"r{j}.t = R{j}", f"r{j}.value = 0"]
    body += [f"results = [{', '.join(rs)}]",
             f"f(current, [{', '.join(ps)}], results{', *user_data' if has_user_data else ''})"]
    values = [f"{'float' if _is_float(t) else 'int'}(results[{j}].value)"
              for j, t in enumerate(returns)]
    if len(values) == 1:
        body.append(f"return {values[0]}")
    elif values:
        body.append(f"return ({', '.join(values)})")
    return body


# ---- public classes ----------------------------------------------------------------------------

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

    A Function pickles by reference when it is reachable under its qualified name in its
    module (what ``@host_fn`` on a module-level function gives), else as its Python function
    (by reference, as pickle handles functions), signature, namespace, name and user data.
    """

    def __init__(self, namespace: Optional[str], name: str, args: Sequence[ValType],
                 returns: Sequence[ValType], f: Callable[..., Any], *user_data: Any) -> None:
        self.namespace = namespace or DEFAULT_NAMESPACE
        self.name = name
        self.args = [ValType(a) for a in args]
        self.returns = [ValType(r) for r in returns]
        self.user_data = user_data
        self.func = f
        self._setup(self._explicit_invoke(f, user_data))

    def _explicit_invoke(self, f: Callable[..., Any], user_data: Tuple[Any, ...]) -> Any:
        if _DIRECT:
            return _explicit_entry(f, user_data, self.args, self.returns, self.name)
        ns: Dict[str, Any] = {"f": f, "user_data": user_data}
        body = _explicit_body(self.args, self.returns, bool(user_data), ns)
        return _generate(self.name, len(self.args), body, ns)

    def _setup(self, invoke: Any) -> None:
        for t in self.args + self.returns:
            if t not in (ValType.I32, ValType.I64, ValType.F32, ValType.F64):
                raise TypeError(f"host function {self.name!r}: {t.name} values cannot cross "
                                "the host-function bridge")
        n_in, n_out = len(self.args), len(self.returns)
        if type(invoke) is not tuple:  # a generated invoke (a tuple is read by the C shim)
            invoke.host_name = self.name
            invoke.n_in = n_in
            invoke.is_float = tuple(_is_float(t) for t in self.args + self.returns)
        key = slab.add(invoke)
        types = ffi.new("ExtismValType[]", [int(t) for t in self.args + self.returns] or [0])
        user_data = lib.exn_py_host_new(int(ffi.cast("uintptr_t", key)), types, n_in, n_out)
        if user_data == ffi.NULL:
            slab.remove(key)
            raise MemoryError(f"cannot create host function {self.name!r}")
        ptr = lib.exn_function_new(self.name.encode("utf-8"), types, n_in, types + n_in, n_out,
                                   _HOST_FLAT, user_data, _HOST_FREE)
        if ptr == ffi.NULL:  # the user data was released already
            raise ValueError(f"cannot create host function {self.name!r}")
        self._pointer = ffi.gc(ptr, lib.extism_function_free)
        if self.namespace != DEFAULT_NAMESPACE:
            lib.extism_function_set_namespace(self._pointer, self.namespace.encode("utf-8"))

    @property
    def pointer(self) -> Any:
        """The underlying ExtismFunction* (for the C API)."""
        return self._pointer

    def __reduce__(self) -> Union[str, Tuple[Any, ...]]:
        """Pickle by reference to the module-level name of the decorated function, else as
        the parts it is made from (the Python function by reference, as pickle handles
        functions, and the user data by value).

        Raises:
            pickle.PicklingError: the Python function or the user data cannot be pickled
                (the message names the host function).
        """
        name = _pickling.global_name(self)
        if name is not None:
            return name
        what = f"host function {self.namespace}::{self.name}"
        _pickling.check(f"the Python function of {what}", self.func)
        if self.user_data:
            _pickling.check(f"the user data of {what}", self.user_data)
        return self._parts()

    def _parts(self) -> Tuple[Any, ...]:
        return (_function, (self.namespace, self.name, tuple(self.args), tuple(self.returns),
                            self.func, self.user_data))

    def __repr__(self) -> str:
        sig = (", ".join(t.name for t in self.args) + " -> " +
               ", ".join(t.name for t in self.returns))
        return f"<extism_native.Function {self.namespace}::{self.name} ({sig})>"


def _function(namespace: str, name: str, args: Sequence[ValType], returns: Sequence[ValType],
              f: Callable[..., Any], user_data: Tuple[Any, ...]) -> Function:
    """Unpickle a Function made by its constructor."""
    return Function(namespace, name, args, returns, f, *user_data)


class ExplicitFunction(Function):
    """A decorated function with an explicit signature; still callable as the original."""

    def __init__(self, func: Callable[..., Any], name: Optional[str], namespace: Optional[str],
                 signature: Tuple[Sequence[ValType], Sequence[ValType]],
                 user_data: Tuple[Any, ...]) -> None:
        self.func = func
        functools.update_wrapper(self, func)
        super().__init__(namespace, name or func.__name__, signature[0], signature[1], func,
                         *user_data)

    def _parts(self) -> Tuple[Any, ...]:
        return (ExplicitFunction, (self.func, self.name, self.namespace,
                                   (tuple(self.args), tuple(self.returns)), self.user_data))

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
        self._setup(self._inferred_invoke(self.name, func, wants_plugin, decoders, encoders,
                                          user_data))

    @staticmethod
    def _inferred_invoke(name: str, func: Callable[..., Any], wants_plugin: bool,
                         decoders: List[_Conv], encoders: List[_Conv],
                         user_data: Tuple[Any, ...]) -> Any:
        n_in, n_out = len(decoders), len(encoders)
        ns: Dict[str, Any] = {"func": func, "user_data": user_data, "int": int,
                              "tuple": tuple, "len": len, "TypeError": TypeError}
        args = ["current"] if wants_plugin else []
        for i, conv in enumerate(decoders):
            if conv is _INT_IN:
                args.append(f"a{i}")
            else:
                ns[f"d{i}"] = conv.fn
                args.append(f"d{i}(current, a{i})")
        if user_data:
            args.append("*user_data")
        current = "current"
        body = [f"result = func({', '.join(args)})"]
        if n_out == 1:
            if encoders[0] is _INT_OUT:
                body.append("return int(result)")
            else:
                ns["e0"] = encoders[0].fn
                body.append(f"return e0({current}, result)")
        elif n_out > 1:
            body += [f"if type(result) is not tuple or len(result) != {n_out}:",
                     f"    raise TypeError('host function must return a tuple of {n_out} values')"]
            for j, conv in enumerate(encoders):
                ns[f"e{j}"] = conv.fn
            body.append("return (" + ", ".join(f"e{j}({current}, result[{j}])"
                                               for j in range(n_out)) + ",)")
        return _generate(name, n_in, body, ns)

    def _parts(self) -> Tuple[Any, ...]:
        # the types are inferred again from the function's annotations when unpickled
        return (TypeInferredFunction, (self.func, self.name, self.namespace, self.user_data))

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


# True when the C shim calls host functions itself (CPython; it needs the names above); on PyPy
# it goes through cffi (_exn_py_host_call)
_DIRECT = bool(lib.exn_py_host_init())
