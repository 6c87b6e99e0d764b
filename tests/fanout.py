"""Module-level pieces for the pickling, process-pool and Dask tests (tests/unit/test_pickle.py,
tests/dask_cluster/): pickle sends functions by reference, so whatever runs in another process -
host functions, loggers, transports, the task functions themselves - must be importable there
by its module and name.  This module is: the test process hands its sys.path (which holds
tests/, for conftest.py) to the processes it spawns, and Dask's worker processes get it the
same way."""

from __future__ import annotations

import json
import os
import sys
import threading
import weakref
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import extism_native as extism
from extism_native import CurrentPlugin, ValType, host_fn

PLUGINS = Path(os.environ.get("EXN_TEST_PLUGINS", Path(__file__).parent / "plugins" / "wasm"))

# the table and path logic of the real plugins (../shared/plugins)
sys.path.insert(0, str(Path(__file__).parent / "conformance"))
import real_plugins  # noqa: E402, F401  (fanout.real_plugins, for the tests)

sys.path.pop(0)


def kitchen() -> bytes:
    return (PLUGINS / "kitchen.wasm").read_bytes()


def texts(n: int) -> List[str]:
    """n different inputs (different vowel counts and lengths)."""
    return [f"input {i}: " + "aeiou xyz " * (i % 7) + "e" * (i % 13) for i in range(n)]


def without_total(output: bytes) -> dict:
    """count_vowels' JSON without "total": that is the running count kept in a var, which
    stays with the instance that made it (vars do not travel, and each worker has its own)."""
    result = json.loads(output)
    del result["total"]
    return result


# ---- host functions, by reference ------------------------------------------------------------

@host_fn()
def hello_world(text: str) -> str:
    """For host_vowels.wasm: gets {"count": N}, returns what the plugin outputs."""
    return f"hello from pid-independent host: {json.loads(text)['count'] * 10}"


@host_fn(name="host_reflect", signature=([ValType.I64], [ValType.I64]))
def host_reflect(plugin: CurrentPlugin, inputs: Any, outputs: Any, *user_data: Any) -> None:
    """For ../shared/plugins/rust-reflect.wasm: returns its argument (a kernel block)."""
    outputs[0].value = inputs[0].value


def shout(text: str) -> str:
    """A plain module-level function; made a host function without decorating its name."""
    return f"SHOUT {json.loads(text)['count']}"


shout_fn = host_fn(name="hello_world")(shout)  # pickles as its parts: `shout` by reference


# ---- loggers, transports, WASI output, by reference ------------------------------------------

LOG_LINES: List[Tuple[str, str]] = []
STDOUT_CHUNKS: List[bytes] = []


def collect_log(level: str, message: str) -> None:
    LOG_LINES.append((level, message))


def collect_stdout(chunk: bytes) -> None:
    STDOUT_CHUNKS.append(chunk)


def fixed_transport(request: extism.HttpRequest) -> extism.HttpResponse:
    return extism.HttpResponse(200, {"x-test": "1"}, b"served " + request.url.encode())


# ---- tasks run in other processes --------------------------------------------------------------

def call(plugin: extism.Plugin, function: str, data: Any) -> bytes:
    """One call on the plugin this task received (unpickled for this task or shared by the
    worker)."""
    return plugin.call(function, data)


def call_many(plugin: extism.Plugin, function: str, inputs: List[Any]) -> List[bytes]:
    return [plugin.call(function, data) for data in inputs]


_instances: "weakref.WeakKeyDictionary[extism.CompiledPlugin, threading.local]" = (
    weakref.WeakKeyDictionary())
_instances_lock = threading.Lock()


def instance(compiled: extism.CompiledPlugin, **kwargs: Any) -> extism.Plugin:
    """One instance of `compiled` per worker thread, made at its first task and reused (the
    recipe of README "Many processes and machines")."""
    with _instances_lock:
        local = _instances.get(compiled)
        if local is None:
            local = _instances[compiled] = threading.local()
    plugin: Optional[extism.Plugin] = getattr(local, "plugin", None)
    if plugin is None:
        plugin = local.plugin = compiled.instantiate(**kwargs)
    return plugin


def call_compiled(compiled: extism.CompiledPlugin, function: str, data: Any,
                  config: Optional[Dict[str, str]] = None) -> Tuple[int, bytes]:
    """A call on this worker thread's instance of `compiled`: (pid, output)."""
    return os.getpid(), instance(compiled, config=config).call(function, data)


def call_batch(compiled: extism.CompiledPlugin, function: str, inputs: List[Any],
               config: Optional[Dict[str, str]] = None) -> List[bytes]:
    plugin = instance(compiled, config=config)
    return [plugin.call(function, data) for data in inputs]


def call_on(data: Any, plugin: Any, function: str) -> Tuple[int, bytes]:
    """A Dask task: call `function` with `data` on `plugin` - a Plugin the worker holds, or a
    CompiledPlugin, of which this worker thread keeps one instance.  (pid, output)."""
    if isinstance(plugin, extism.CompiledPlugin):
        plugin = instance(plugin)
    return os.getpid(), plugin.call(function, data)


def call_chunk(inputs: List[Any], compiled: extism.CompiledPlugin,
               function: str) -> List[bytes]:
    """A Dask task over a chunk of inputs, on this worker thread's instance of `compiled`."""
    plugin = instance(compiled)
    return [plugin.call(function, data) for data in inputs]


_worker_plugin: Optional[extism.Plugin] = None


def init_worker(plugin: Any) -> None:
    """Pool initializer: keep the plugin (or an instance of the compiled plugin) it was sent."""
    global _worker_plugin
    _worker_plugin = plugin.instantiate() if isinstance(plugin, extism.CompiledPlugin) else plugin


def call_initialized(function: str, data: Any) -> Tuple[int, bytes]:
    assert _worker_plugin is not None, "init_worker did not run"
    return os.getpid(), _worker_plugin.call(function, data)
