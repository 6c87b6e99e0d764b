"""The real plugins of ``../shared/plugins``: built by the official toolchains (Rust PDK, TinyGo,
Go, the JS PDK, GHC, Javy), not by us.  One table of how to call each, shared by the conformance
test (same bytes as the official package) and ``bench/run.py`` (speed against it).

The plugins are not part of this repository (they are not ours): they are found beside it, at
``../shared/plugins`` from the repository root, or where ``EXN_REAL_PLUGINS`` points.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
REAL_PLUGINS = Path(os.environ.get("EXN_REAL_PLUGINS") or ROOT.parent / "shared" / "plugins")

TEXT_1K = (b"The quick brown fox jumps over the lazy dog. " * 24)[:1024]
TEXT_64K = TEXT_1K * 64


@dataclass
class RealCall:
    """One call of a real plugin: which file, export and input; WASI or host functions it
    needs; what the official README says it returns (checked against the official package at
    run time too)."""

    name: str
    file: str
    function: str
    input: bytes
    wasi: bool = False
    host: Optional[str] = None  # a key of HOST_FUNCTIONS
    expected: Optional[bytes] = None
    fresh_each_call: bool = False  # `_start` commands re-instantiate after each call
    one_call: bool = False  # the plugin supports one call per instance (both runtimes fail after)
    notes: str = ""
    config: Dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return REAL_PLUGINS / self.file


def _echo_i64(module: Any, namespace: str, name: str) -> List[Any]:
    """A host function (i64) -> i64 returning its argument, in `module`'s explicit form (both
    packages accept it)."""
    sig = ([module.ValType.I64], [module.ValType.I64])

    def f(plugin, inputs, outputs, *user_data):
        outputs[0].value = inputs[0].value

    f.__name__ = name
    return [module.host_fn(name=name, namespace=namespace, signature=sig)(f)]


def _to_upper(module: Any) -> List[Any]:
    """host.to_upper (i64) -> i64: read the block, return a new block with its text upper-cased."""
    sig = ([module.ValType.I64], [module.ValType.I64])

    def to_upper(plugin, inputs, outputs, *user_data):
        text = plugin.input_string(inputs[0])
        plugin.return_string(outputs[0], text.upper())

    return [module.host_fn(name="to_upper", namespace="host", signature=sig)(to_upper)]


HOST_FUNCTIONS: Dict[str, Callable[[Any], List[Any]]] = {
    "hello_world": lambda m: _echo_i64(m, "extism:host/user", "hello_world"),
    "host_reflect": lambda m: _echo_i64(m, "extism:host/user", "host_reflect"),
    "to_upper": _to_upper,
}

CALLS: List[RealCall] = [
    RealCall("rust_count_vowels_1k", "rust-code-functions.wasm", "count_vowels", TEXT_1K,
             wasi=True, host="hello_world"),
    RealCall("rust_count_vowels_64k", "rust-code-functions.wasm", "count_vowels", TEXT_64K,
             wasi=True, host="hello_world"),
    RealCall("rust_reflect_1k", "rust-reflect.wasm", "reflect", TEXT_1K, host="host_reflect",
             expected=TEXT_1K),
    RealCall("rust_allocations", "rust-allocations.wasm", "allocations", b"", expected=b""),
    RealCall("wat_consume_64k", "wat-consume.wasm", "consume", TEXT_64K, expected=b""),
    RealCall("tinygo_replace", "tinygo-replace.wasm", "run_test", TEXT_1K, wasi=True,
             expected=TEXT_1K),
    RealCall("tinygo_host_memory", "tinygo-host_memory.wasm", "run_test", b"hello world",
             wasi=True, host="to_upper", expected=b"HELLO HELLO WORLD!"),
    RealCall("go_count_vowels", "go-count_vowels_std.wasm", "_start", TEXT_1K, wasi=True,
             fresh_each_call=True),
    RealCall("js_execute", "js-quickjs-execute.wasm", "execute", b"{}", wasi=True,
             expected=b'{"input":{},"message":"yo"}'),
    RealCall("haskell_testing", "haskell-hello.wasm", "testing", b"Benjamin", wasi=True,
             expected=b"Hello, Benjamin", notes="uses SIMD"),
    RealCall("javy_foo", "javy-index.wasm", "foo", b'{"n": 1}', wasi=True, expected=b"",
             one_call=True, notes="uses SIMD; a second call traps on both runtimes"),
]

BY_NAME = {c.name: c for c in CALLS}


def available() -> bool:
    return REAL_PLUGINS.is_dir()


def make_plugin(module: Any, call: RealCall, **kwargs: Any) -> Any:
    """A plugin of `module` (extism or extism_native) ready for `call`."""
    functions = HOST_FUNCTIONS[call.host](module) if call.host else []
    return module.Plugin(call.path.read_bytes(), wasi=call.wasi, functions=functions,
                         config=call.config or None, **kwargs)


def make_compiled(module: Any, call: RealCall, data: bytes) -> Any:
    """A compiled plugin of `module` for `call` (instances: module.Plugin(compiled))."""
    functions = HOST_FUNCTIONS[call.host](module) if call.host else []
    if module.__name__ == "extism":
        from extism.extism import CompiledPlugin
        return CompiledPlugin(data, wasi=call.wasi, functions=functions)
    return module.CompiledPlugin(data, wasi=call.wasi, functions=functions)
