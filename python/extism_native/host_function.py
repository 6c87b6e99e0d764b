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
import typing
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from ._callbacks import context_of, enter, leave
from ._native import Slab, ffi, lib, slab
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

# A parameter decoder: (CurrentPlugin, ExtismVal cdata) -> Python value.
# A result encoder: (CurrentPlugin, value, ExtismVal cdata) -> None.

def _block_decoder(post: Callable[[bytes], Any]) -> Callable[[CurrentPlugin, Any], Any]:
    return lambda cur, v: post(cur.read(v.v.i64))


def _block_encoder(pre: Callable[[Any], bytes]) -> Callable[[CurrentPlugin, Any, Any], None]:
    def encode(cur: CurrentPlugin, value: Any, out: Any) -> None:
        out.v.i64 = cur.alloc_bytes(pre(value))
    return encode


def _utf8(value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"host function declared to return str, returned {type(value).__name__}")
    return value.encode("utf-8")


def _raw_bytes(value: Any) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"host function declared to return bytes, returned {type(value).__name__}")
    return bytes(value)


def _set_i64(cur: CurrentPlugin, value: Any, out: Any) -> None:
    out.v.i64 = int(value)


def _set_i32(cur: CurrentPlugin, value: Any, out: Any) -> None:
    out.v.i32 = int(value)


def _set_f64(cur: CurrentPlugin, value: Any, out: Any) -> None:
    out.v.f64 = float(value)


def _marker(annotation: Any) -> Tuple[Any, Any]:
    """(base type, extism marker or None) of an annotation."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        for extra in extras:
            if extra in (Json, Pickle) or isinstance(extra, Codec):
                return base, extra
        return base, None
    return annotation, None


def _param(annotation: Any, name: str) -> Tuple[ValType, Callable[[CurrentPlugin, Any], Any]]:
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
        return ValType.I32, lambda cur, v: bool(v.v.i32)
    if base is int:
        return ValType.I64, lambda cur, v: v.v.i64
    if base is float:
        return ValType.F64, lambda cur, v: v.v.f64
    raise TypeError(f"Could not infer input type for argument {name}")


def _result(annotation: Any) -> Tuple[ValType, Callable[[CurrentPlugin, Any, Any], None]]:
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
        return ValType.I32, _set_i32
    if base is int:
        return ValType.I64, _set_i64
    if base is float:
        return ValType.F64, _set_f64
    raise TypeError("Could not infer return type")


def _from_c(v: Any) -> Union[int, float]:
    t = v.t
    if t == ValType.I32:
        return v.v.i32
    if t == ValType.I64:
        return v.v.i64
    if t == ValType.F32:
        return v.v.f32
    return v.v.f64


def _to_c(out: Any, t: ValType, value: Any) -> None:
    if t == ValType.I32:
        out.v.i32 = int(value)
    elif t == ValType.I64:
        out.v.i64 = int(value)
    elif t == ValType.F32:
        out.v.f32 = float(value)
    else:
        out.v.f64 = float(value)


# ---- the Python side of a host function (registered in the slab) ---------------------------

class _Callable:
    """What the C trampoline reaches through a function's user data."""

    __slots__ = ("invoke", "name")

    def __init__(self, invoke: Callable[[CurrentPlugin, Any, int, Any, int], None],
                 name: str) -> None:
        self.invoke = invoke
        self.name = name


@ffi.def_extern()
def _exn_py_host_call(cur: Any, inputs: Any, n_inputs: int, outputs: Any, n_outputs: int,
                      user_data: Any) -> None:
    target = slab.get(Slab.from_c(user_data))
    ctx = context_of(lib.extism_current_plugin_host_context(cur))
    current = CurrentPlugin(cur, ctx)
    marked = enter(ctx) if ctx is not None else None
    try:
        target.invoke(current, inputs, n_inputs, outputs, n_outputs)
    except BaseException as exc:
        # stop the guest now; Plugin.call raises this very exception once it has unwound
        if ctx is not None:
            ctx.error = exc
        message = f"host function {target.name!r} raised {type(exc).__name__}: {exc}"
        lib.exn_current_plugin_fail(cur, message.encode("utf-8", "replace")[:400])
    finally:
        current._release()
        if marked is not None:
            leave(marked)


@ffi.def_extern()
def _exn_py_free_user_data(user_data: Any, _slab: Any = slab, _from_c: Any = Slab.from_c) -> None:
    # bound as defaults: this also runs from finalizers at interpreter exit, when module
    # globals may already be gone
    _slab.remove(_from_c(user_data))


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
        args, returns = self.args, self.returns

        def invoke(cur: CurrentPlugin, inputs: Any, n_in: int, outputs: Any, n_out: int) -> None:
            params = [Val(args[i], _from_c(inputs[i])) for i in range(n_in)]
            results = [Val(returns[i], 0) for i in range(n_out)]
            f(cur, params, results, *user_data)
            for i in range(n_out):
                _to_c(outputs[i], returns[i], results[i].value)
        return invoke

    def _setup(self, invoke: Any) -> None:
        for t in self.args + self.returns:
            if t not in (ValType.I32, ValType.I64, ValType.F32, ValType.F64):
                raise TypeError(f"host function {self.name!r}: {t.name} values cannot cross "
                                "the host-function bridge")
        key = slab.add(_Callable(invoke, self.name))
        params = ffi.new("ExtismValType[]", [int(t) for t in self.args])
        results = ffi.new("ExtismValType[]", [int(t) for t in self.returns])
        ptr = lib.extism_function_new(self.name.encode("utf-8"), params, len(self.args), results,
                                      len(self.returns), lib._exn_py_host_call, Slab.to_c(key),
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
        decoders = []
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
        encoders = []
        self.returns = []
        for annotation in result_types:
            t, encode = _result(annotation)
            self.returns.append(t)
            encoders.append(encode)
        self._setup(self._inferred_invoke(func, wants_plugin, decoders, encoders, user_data))

    @staticmethod
    def _inferred_invoke(func: Callable[..., Any], wants_plugin: bool, decoders: List[Any],
                         encoders: List[Any], user_data: Tuple[Any, ...]) -> Any:
        several = len(encoders) > 1

        def invoke(cur: CurrentPlugin, inputs: Any, n_in: int, outputs: Any, n_out: int) -> None:
            args = [decode(cur, inputs[i]) for i, decode in enumerate(decoders)]
            if wants_plugin:
                args.insert(0, cur)
            result = func(*args, *user_data)
            if several:
                if not isinstance(result, tuple) or len(result) != len(encoders):
                    raise TypeError(f"host function must return a tuple of {len(encoders)} values")
                for i, encode in enumerate(encoders):
                    encode(cur, result[i], outputs[i])
            elif encoders:
                encoders[0](cur, result, outputs[0])
        return invoke

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
