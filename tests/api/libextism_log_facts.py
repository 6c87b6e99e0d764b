"""Observe the process-wide logging functions of a libextism implementation (extism_log_custom,
extism_log_drain, extism_log_file) in a fresh process (the official runtime lets logging be
configured once per process); prints JSON.  Run by test_libextism_vs_official.py:

    python libextism_log_facts.py ours|official custom|file|bad_level KITCHEN_WASM LOG_FILE
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path


def main(which: str, scenario: str, kitchen_path: str, log_file: str) -> dict:
    if which == "ours":
        from extism_native._extism_sys import ffi, lib
    else:
        from extism_sys import ffi, lib
    kitchen = Path(kitchen_path).read_bytes()
    facts: dict = {}
    if scenario == "custom":
        facts["configured"] = bool(lib.extism_log_custom(b"info"))
    elif scenario == "file":
        facts["configured"] = bool(lib.extism_log_file(log_file.encode(), b"warn"))
    else:
        facts["configured"] = bool(lib.extism_log_custom(b"loud"))
    p = lib.extism_plugin_new(kitchen, len(kitchen), ffi.NULL, 0, False, ffi.NULL)
    plugin_id = str(uuid.UUID(bytes=bytes(ffi.buffer(lib.extism_plugin_id(p), 16))))
    lib.extism_plugin_call(p, b"log", b"one", 3)
    # how many of the 5 levels the guest saw enabled (get_log_level)
    facts["sent"] = ffi.unpack(ffi.cast("char *", lib.extism_plugin_output_data(p)),
                               lib.extism_plugin_output_length(p)).decode()
    lib.extism_plugin_free(p)
    lines = []

    @ffi.callback("void(char*, ExtismSize)")
    def drain(ptr, n):
        lines.append(ffi.unpack(ptr, n).decode())

    lib.extism_log_drain(drain)
    if scenario == "file":
        lines = Path(log_file).read_text().splitlines(keepends=True)
    guest = [line for line in lines if "extism::pdk" in line]
    # without the timestamp (its precision differs) and with the plugin id masked
    facts["lines"] = [re.sub(r"^\S+\s+", "", line.rstrip("\n")).replace(plugin_id, "ID")
                      for line in guest]
    facts["timestamped"] = all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ", line)
                               for line in guest)
    facts["newline"] = sorted({line.endswith("\n") for line in guest})
    lines.clear()
    lib.extism_log_drain(drain)
    facts["drained_again"] = len(lines)
    return facts


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
