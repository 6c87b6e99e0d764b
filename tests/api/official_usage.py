"""The official `extism` package's documented usage, run unchanged on whatever `extism_sys` is
importable: count vowels, host functions (explicit signature with user data, type-inferred,
JSON parameter, host context), errors, timeout, cancel from another thread, CompiledPlugin,
config, logging.  Prints a JSON report; test_extism_sys.py runs it on our shim (and can run it
on the Rust runtime for comparison).

    python official_usage.py PLUGIN_DIR LOG_FILE
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
import threading
import time
import typing
from pathlib import Path
from typing import Annotated

import extism
import extism_sys
from extism import Json, ValType, host_fn


def manifest(data: bytes, **extra: typing.Any) -> dict:
    return {"wasm": [{"data": data, "hash": hashlib.sha256(data).hexdigest()}], **extra}


def error_of(fn: typing.Callable[[], typing.Any]) -> typing.Optional[str]:
    try:
        fn()
    except extism.Error as exc:
        return str(exc)
    return None


def main(plugins: Path, log_file: str) -> dict:
    r: dict = {"extism_sys": extism_sys.__file__, "version": extism.extism_version()}
    kitchen = (plugins / "kitchen.wasm").read_bytes()
    host_vowels = (plugins / "host_vowels.wasm").read_bytes()
    spin = (plugins / "spin.wasm").read_bytes()

    # set_log_file is process-wide: configure it first, as the official docs do
    extism.set_log_file(log_file, "info")

    # count vowels, with a manifest and config; the output parsed with parse=
    with extism.Plugin(manifest(kitchen), functions=[], config={"vowels": "aeiou"}) as plugin:
        r["count_vowels"] = [plugin.call("count_vowels", text, parse=lambda b: json.loads(bytes(b)))
                             ["count"] for text in ("this is a test", "hello world", "🌎 aeiou")]
        r["function_exists"] = [plugin.function_exists("count_vowels"),
                                plugin.function_exists("nope")]
        r["id"] = str(plugin.id)
        r["errors"] = [error_of(lambda: plugin.call("nope", "")),
                       error_of(lambda: plugin.call("fail", "bad")),
                       error_of(lambda: plugin.call("fail_code", "7")),
                       error_of(lambda: plugin.call("trap", ""))]
        plugin.call("log", "hello log")
        r["buffer"] = bytes(plugin.call("echo", b"raw", parse=None))
    r["bad_manifest"] = error_of(lambda: extism.Plugin({"invalid_manifest": True}))
    r["not_wasm"] = error_of(lambda: extism.Plugin(b"not wasm at all", functions=[]))

    # host function, explicit signature and user data (the official test_extism_host_function)
    @host_fn(signature=([ValType.I64], [ValType.I64]), user_data=b"test")
    def hello_world(plugin, params, results, user_data):
        text = plugin.input_string(params[0])
        plugin.return_string(results[0], f"explicit {text} {user_data.decode()}")

    with extism.Plugin(host_vowels, functions=[hello_world], wasi=True) as plugin:
        r["explicit"] = plugin.call("count_vowels", "hello world").decode()

    # type-inferred, with user data, and a JSON parameter
    @host_fn(name="hello_world", user_data=b"ud")
    def inferred(inp: str, *user_data) -> str:
        return f"inferred {inp} {user_data[0].decode()}"

    @host_fn(name="hello_world")
    def inferred_json(inp: Annotated[dict, Json]) -> str:
        return f"json {inp['count']}"

    @host_fn(name="hello_world")
    def with_context(plugin: extism.CurrentPlugin, inp: str) -> str:
        ctx = plugin.host_context()
        ctx["seen"] = inp
        block = plugin.alloc(4)
        mem = plugin.memory(plugin.memory_at_offset(block.offset))
        return f"context {ctx['name']} {len(mem)}"

    @host_fn(name="hello_world")
    def raises(inp: str) -> str:
        raise RuntimeError("raised in a host function")

    for key, fn in (("inferred", inferred), ("inferred_json", inferred_json),
                    ("raises", raises)):
        with extism.Plugin(host_vowels, functions=[fn]) as plugin:
            try:
                r[key] = plugin.call("count_vowels", "aaa").decode()
            except extism.Error as exc:
                r[key] = f"Error: {exc}"
    context = {"name": "ctx"}
    with extism.Plugin(host_vowels, functions=[with_context]) as plugin:
        r["host_context"] = [plugin.call("count_vowels", "ee", host_context=context).decode(),
                             context.get("seen")]

    # default functions=HOST_FN_REGISTRY: every decorated function is offered, harmlessly
    with extism.Plugin(kitchen) as plugin:
        r["registry_default"] = plugin.call("greet", "you").decode()

    # timeout from the manifest
    with extism.Plugin(manifest(spin, timeout_ms=300), functions=[]) as plugin:
        start = time.monotonic()
        r["timeout"] = [error_of(lambda: plugin.call("forever", "")), time.monotonic() - start]
        r["after_timeout"] = bytes(plugin.call("spin", (5).to_bytes(8, "little")))[0]

    # cancel from another thread, while the call runs
    with extism.Plugin(spin, functions=[]) as plugin:
        handle = plugin.cancel_handle()
        timer = threading.Timer(0.2, handle.cancel)
        timer.start()
        start = time.monotonic()
        r["cancel"] = [error_of(lambda: plugin.call("forever", "")), time.monotonic() - start]
        timer.join()

    # CompiledPlugin: many instances, each with its own state; the compiled one freed first
    compiled = extism.extism.CompiledPlugin(kitchen, functions=[])
    instances = [extism.Plugin(compiled) for _ in range(3)]
    r["compiled"] = [json.loads(p.call("count_vowels", "aa"))["total"] for p in instances]
    r["compiled"].append(json.loads(instances[0].call("count_vowels", "aa"))["total"])
    r["compiled_owned"] = [p._owns_compiled_plugin for p in instances]
    compiled.__del__()
    compiled.__del__()  # twice is safe
    r["after_compiled_free"] = json.loads(instances[1].call("count_vowels", "a"))["total"]
    for p in instances:
        p.__del__()

    # the plugin's native resources are released with the context manager
    with extism.Plugin(kitchen, functions=[]) as plugin:
        pass
    r["freed"] = [plugin.plugin, plugin.compiled_plugin]

    # plugins made through extism_native live in the same engine, side by side
    import extism_native

    ours = extism_native.Plugin(kitchen)
    with extism.Plugin(kitchen, functions=[]) as theirs:
        r["side_by_side"] = [ours.call("reverse", "abc").decode(),
                             theirs.call("reverse", "xyz").decode()]
    ours.close()
    gc.collect()
    return r


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2]), default=str))
