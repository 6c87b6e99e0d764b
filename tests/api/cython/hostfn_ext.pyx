# cython: language_level=3
# hostfn_ext.pyx: a Cython extension on extism_native's libextism C API (extism.pxd).  A host
# function in C (no GIL needed) prefixes the text the plugin gives it with its user data; the
# plugin call runs with the GIL released.  Built by test_c_api.py.

from libc.stdint cimport uint8_t
from libc.string cimport memcpy, strlen

from extism cimport *

cdef int freed = 0

cdef void free_user_data(void *data) noexcept nogil:
    global freed
    freed += 1

cdef void hello_world(ExtismCurrentPlugin *plugin, const ExtismVal *inputs, ExtismSize n_inputs,
                      ExtismVal *outputs, ExtismSize n_outputs, void *data) noexcept nogil:
    cdef const char *prefix = <const char *>data
    cdef size_t plen = strlen(prefix)
    cdef ExtismMemoryHandle h = <ExtismMemoryHandle>inputs[0].v.i64
    cdef ExtismSize n = extism_current_plugin_memory_length(plugin, h)
    cdef ExtismMemoryHandle out = extism_current_plugin_memory_alloc(plugin, plen + n)
    if out == 0:
        return
    cdef uint8_t *base = extism_current_plugin_memory(plugin)  # read after the allocation
    memcpy(base + out, prefix, plen)
    memcpy(base + out + plen, base + h, n)
    outputs[0].v.i64 = <long long>out

cdef const char *PREFIX = "cython host saw "


def version():
    """extism_version() of the library this extension is linked with."""
    return extism_version().decode()


def count_vowels(bytes wasm, bytes text):
    """Call count_vowels of host_vowels.wasm with a C host function; returns (rc, output,
    error or None, how many times free_user_data ran after everything was freed)."""
    cdef ExtismValType t = EXTISM_PTR
    cdef char *errmsg = NULL
    cdef const ExtismFunction *fns[1]
    cdef ExtismFunction *fn = extism_function_new(b"hello_world", &t, 1, &t, 1, hello_world,
                                                  <void *>PREFIX, free_user_data)
    if fn == NULL:
        raise MemoryError()
    fns[0] = fn
    cdef ExtismPlugin *plugin = extism_plugin_new(wasm, len(wasm), fns, 1, False, &errmsg)
    extism_function_free(fn)
    if plugin == NULL:
        message = errmsg.decode()
        extism_plugin_new_error_free(errmsg)
        raise RuntimeError(message)
    cdef const uint8_t *data = text
    cdef ExtismSize data_len = len(text)
    cdef int rc
    with nogil:
        rc = extism_plugin_call(plugin, "count_vowels", data, data_len)
    output = (<const char *>extism_plugin_output_data(plugin))[:extism_plugin_output_length(plugin)]
    cdef const char *err = extism_plugin_error(plugin)
    error = None if err == NULL else err.decode()
    extism_plugin_free(plugin)
    return rc, output, error, freed
