"""Use the libextism C API of extism_native through ctypes: a plugin that calls a host
function written in Python, with user data, a host context and a free callback.

    python ctypes_host_function.py host_vowels.wasm "hello world"

host_vowels.wasm's count_vowels passes '{"count": N}' to extism:host/user::hello_world(i64) ->
i64 and outputs the block the host returns.  Prints a JSON report of what happened (the tests
in test_c_api.py check it).
"""

from __future__ import annotations

import ctypes
import json
import sys
import threading
import time
from pathlib import Path
from ctypes import (CFUNCTYPE, POINTER, Structure, Union, c_bool, c_char_p, c_double,
                    c_float, c_int, c_int32, c_int64, c_uint8, c_uint64, c_void_p)

import extism_native

I64 = 1  # ExtismValType_I64


class ExtismValUnion(Union):
    _fields_ = [("i32", c_int32), ("i64", c_int64), ("f32", c_float), ("f64", c_double)]


class ExtismVal(Structure):
    _fields_ = [("t", c_int), ("v", ExtismValUnion)]


HOST_FN = CFUNCTYPE(None, c_void_p, POINTER(ExtismVal), c_uint64, POINTER(ExtismVal), c_uint64,
                    c_void_p)
FREE_FN = CFUNCTYPE(None, c_void_p)


def load():
    lib = ctypes.CDLL(extism_native.library_path())
    sig = {
        "extism_version": (c_char_p, []),
        "extism_plugin_new": (c_void_p, [c_char_p, c_uint64, POINTER(c_void_p), c_uint64, c_bool,
                                         POINTER(c_void_p)]),
        "extism_plugin_new_error_free": (None, [c_void_p]),
        "extism_plugin_free": (None, [c_void_p]),
        "extism_plugin_call": (c_int32, [c_void_p, c_char_p, c_char_p, c_uint64]),
        "extism_plugin_call_with_host_context": (c_int32, [c_void_p, c_char_p, c_char_p,
                                                           c_uint64, c_void_p]),
        "extism_plugin_error": (c_char_p, [c_void_p]),
        "extism_plugin_output_length": (c_uint64, [c_void_p]),
        "extism_plugin_output_data": (c_void_p, [c_void_p]),
        "extism_plugin_function_exists": (c_bool, [c_void_p, c_char_p]),
        "extism_plugin_cancel_handle": (c_void_p, [c_void_p]),
        "extism_plugin_cancel": (c_bool, [c_void_p]),
        "extism_compiled_plugin_new": (c_void_p, [c_char_p, c_uint64, POINTER(c_void_p), c_uint64,
                                                  c_bool, POINTER(c_void_p)]),
        "extism_compiled_plugin_free": (None, [c_void_p]),
        "extism_plugin_new_from_compiled": (c_void_p, [c_void_p, POINTER(c_void_p)]),
        "extism_function_new": (c_void_p, [c_char_p, POINTER(c_int), c_uint64, POINTER(c_int),
                                           c_uint64, HOST_FN, c_void_p, FREE_FN]),
        "extism_function_free": (None, [c_void_p]),
        "extism_current_plugin_memory": (POINTER(c_uint8), [c_void_p]),
        "extism_current_plugin_memory_alloc": (c_uint64, [c_void_p, c_uint64]),
        "extism_current_plugin_memory_length": (c_uint64, [c_void_p, c_uint64]),
        "extism_current_plugin_host_context": (c_void_p, [c_void_p]),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def main(wasm_path: str, text: str) -> dict:
    lib = load()
    report: dict = {"version": lib.extism_version().decode()}
    wasm = Path(wasm_path).read_bytes()
    prefix = ctypes.create_string_buffer(b"ctypes host saw ")  # the user data
    context = ctypes.c_int64(0)  # the host context: the host function counts its calls in it
    freed = []

    @HOST_FN
    def hello_world(current, inputs, n_inputs, outputs, n_outputs, user_data):
        handle = inputs[0].v.i64
        n = lib.extism_current_plugin_memory_length(current, handle)
        ctx = lib.extism_current_plugin_host_context(current)
        if ctx:
            ctypes.cast(ctx, POINTER(c_int64))[0] += 1
        reply = ctypes.string_at(user_data) + b"%d bytes: " % n
        out = lib.extism_current_plugin_memory_alloc(current, len(reply) + n)
        base = ctypes.addressof(lib.extism_current_plugin_memory(current).contents)  # after alloc
        ctypes.memmove(base + out, reply, len(reply))
        ctypes.memmove(base + out + len(reply), base + handle, n)
        outputs[0].v.i64 = out

    @FREE_FN
    def free_user_data(data):
        freed.append(data == ctypes.addressof(prefix))

    types = (c_int * 1)(I64)
    fn = lib.extism_function_new(b"hello_world", types, 1, types, 1, hello_world,
                                 ctypes.addressof(prefix), free_user_data)
    fns = (c_void_p * 1)(fn)
    err = c_void_p()
    plugin = lib.extism_plugin_new(wasm, len(wasm), fns, 1, False, ctypes.byref(err))
    lib.extism_function_free(fn)  # the plugin keeps its own reference
    assert plugin, ctypes.string_at(err.value)
    data = text.encode()
    rc = lib.extism_plugin_call_with_host_context(plugin, b"count_vowels", data, len(data),
                                                  ctypes.addressof(context))
    out = ctypes.string_at(lib.extism_plugin_output_data(plugin),
                           lib.extism_plugin_output_length(plugin))
    report.update(rc=rc, output=out.decode(), error=lib.extism_plugin_error(plugin),
                  host_context_calls=context.value,
                  exists=[lib.extism_plugin_function_exists(plugin, b"count_vowels"),
                          lib.extism_plugin_function_exists(plugin, b"nope")])
    rc = lib.extism_plugin_call(plugin, b"nope", b"", 0)
    report["missing"] = [rc, lib.extism_plugin_error(plugin).decode()]
    report["freed_before_plugin_free"] = len(freed)
    lib.extism_plugin_free(plugin)
    report["freed"] = freed

    # a load error: NULL and an owned message
    plugin = lib.extism_plugin_new(b"not wasm", 8, None, 0, False, ctypes.byref(err))
    report["load_error"] = [plugin, ctypes.string_at(err.value).decode()]
    lib.extism_plugin_new_error_free(err)

    # compiled plugins, and a manifest timeout / a cancel from another thread on spin.wasm
    spin = Path(wasm_path).with_name("spin.wasm").read_bytes()
    compiled = lib.extism_compiled_plugin_new(spin, len(spin), None, 0, False, ctypes.byref(err))
    a = lib.extism_plugin_new_from_compiled(compiled, ctypes.byref(err))
    lib.extism_compiled_plugin_free(compiled)  # its instances stay valid
    handle = lib.extism_plugin_cancel_handle(a)
    threading.Timer(0.2, lambda: lib.extism_plugin_cancel(handle)).start()
    start = time.monotonic()
    rc = lib.extism_plugin_call(a, b"forever", b"", 0)
    report["cancel"] = [rc, lib.extism_plugin_error(a).decode(), time.monotonic() - start]
    n = (12345).to_bytes(8, "little")
    rc = lib.extism_plugin_call(a, b"spin", n, 8)
    report["after_cancel"] = [rc, ctypes.string_at(lib.extism_plugin_output_data(a), 8) == n]
    lib.extism_plugin_free(a)
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "hello world")))
