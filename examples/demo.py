"""Demo: load a plugin and call it - `python examples/demo.py`.

Uses the project's own C test plugin (tests/plugins/c/kitchen.c, built with our small C plugin
kit); its count_vowels export works like Extism's classic example plugin.
"""

import json
from pathlib import Path

import extism_native as extism

PLUGIN = Path(__file__).resolve().parent.parent / "tests" / "plugins" / "wasm" / "kitchen.wasm"

with extism.Plugin(PLUGIN, config={"vowels": "aeiouy"}) as plugin:
    for text in ("hello world", "the quick brown fox jumps over the lazy dog"):
        result = plugin.call("count_vowels", text, parse=json.loads)
        print(f"count_vowels({text!r}) = {result}")
    try:
        plugin.call("fail", "on purpose")
    except extism.PluginCallError as exc:
        print(f"plugin error: {exc.message!r} (code {exc.code})")
print(f"runtime {extism.extism_version()}, plugin id {plugin.id}")
