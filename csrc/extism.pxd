# extism.pxd: Cython declarations of the libextism C API (extism.h: the 33 functions of Extism
# runtime v1.13, served by extism_native).  Installed next to extism.h; find both with
# extism_native.get_include() (include_dirs and Cython's include_path), and link with
# libextism_native (extism_native.c_api.extension_kwargs()).
#
#     from extism cimport *          # or: cimport extism
#
# Every function may be called without the GIL (the block is `nogil`): release it around
# extism_plugin_call so other Python threads run while the guest does.  Host functions
# (ExtismFunctionType) are called on the thread of the plugin call, with the GIL held only if
# that thread held it: declare them `noexcept nogil` and take `with gil:` to touch Python
# objects.  Ownership and semantics are those documented in extism.h.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

cdef extern from "extism.h" nogil:
    int EXTISM_SUCCESS

    ctypedef enum ExtismValType:
        ExtismValType_I32
        ExtismValType_I64
        ExtismValType_F32
        ExtismValType_F64
        ExtismValType_V128
        ExtismValType_FuncRef
        ExtismValType_ExternRef

    ExtismValType EXTISM_PTR

    ctypedef struct ExtismCancelHandle:
        pass
    ctypedef struct ExtismCompiledPlugin:
        pass
    ctypedef struct ExtismCurrentPlugin:
        pass
    ctypedef struct ExtismFunction:
        pass
    ctypedef struct ExtismPlugin:
        pass

    ctypedef uint64_t ExtismMemoryHandle
    ctypedef uint64_t ExtismSize

    ctypedef union ExtismValUnion:
        int32_t i32
        int64_t i64
        float f32
        double f64

    ctypedef struct ExtismVal:
        ExtismValType t
        ExtismValUnion v

    ctypedef void (*ExtismFunctionType)(ExtismCurrentPlugin *plugin, const ExtismVal *inputs,
                                        ExtismSize n_inputs, ExtismVal *outputs,
                                        ExtismSize n_outputs, void *data) noexcept nogil

    ctypedef void (*ExtismLogDrainFunctionType)(const char *data, ExtismSize size) noexcept nogil

    # plugins
    ExtismPlugin *extism_plugin_new(const uint8_t *wasm, ExtismSize wasm_size,
                                    const ExtismFunction **functions, ExtismSize n_functions,
                                    bint with_wasi, char **errmsg)
    ExtismPlugin *extism_plugin_new_with_fuel_limit(const uint8_t *wasm, ExtismSize wasm_size,
                                                    const ExtismFunction **functions,
                                                    ExtismSize n_functions, bint with_wasi,
                                                    uint64_t fuel_limit, char **errmsg)
    void extism_plugin_new_error_free(char *err)
    void extism_plugin_free(ExtismPlugin *plugin)
    const uint8_t *extism_plugin_id(ExtismPlugin *plugin)
    bint extism_plugin_config(ExtismPlugin *plugin, const uint8_t *json, ExtismSize json_size)
    bint extism_plugin_function_exists(ExtismPlugin *plugin, const char *func_name)
    int32_t extism_plugin_call(ExtismPlugin *plugin, const char *func_name, const uint8_t *data,
                               ExtismSize data_len)
    int32_t extism_plugin_call_with_host_context(ExtismPlugin *plugin, const char *func_name,
                                                 const uint8_t *data, ExtismSize data_len,
                                                 void *host_context)
    const char *extism_plugin_error(ExtismPlugin *plugin)
    const char *extism_error(ExtismPlugin *plugin)
    ExtismSize extism_plugin_output_length(ExtismPlugin *plugin)
    const uint8_t *extism_plugin_output_data(ExtismPlugin *plugin)
    bint extism_plugin_reset(ExtismPlugin *plugin)
    void extism_plugin_allow_http_response_headers(ExtismPlugin *plugin)
    const ExtismCancelHandle *extism_plugin_cancel_handle(const ExtismPlugin *plugin)
    bint extism_plugin_cancel(const ExtismCancelHandle *handle)

    # compiled plugins
    ExtismCompiledPlugin *extism_compiled_plugin_new(const uint8_t *wasm, ExtismSize wasm_size,
                                                     const ExtismFunction **functions,
                                                     ExtismSize n_functions, bint with_wasi,
                                                     char **errmsg)
    ExtismCompiledPlugin *extism_compiled_plugin_new_with_fuel_limit(
        const uint8_t *wasm, ExtismSize wasm_size, const ExtismFunction **functions,
        ExtismSize n_functions, bint with_wasi, uint64_t fuel_limit, char **errmsg)
    void extism_compiled_plugin_free(ExtismCompiledPlugin *compiled)
    ExtismPlugin *extism_plugin_new_from_compiled(const ExtismCompiledPlugin *compiled,
                                                  char **errmsg)

    # host functions
    ExtismFunction *extism_function_new(const char *name, const ExtismValType *inputs,
                                        ExtismSize n_inputs, const ExtismValType *outputs,
                                        ExtismSize n_outputs, ExtismFunctionType func,
                                        void *user_data, void (*free_user_data)(void *) noexcept nogil)
    void extism_function_free(ExtismFunction *f)
    void extism_function_set_namespace(ExtismFunction *f, const char *namespace_)
    uint8_t *extism_current_plugin_memory(ExtismCurrentPlugin *plugin)
    ExtismMemoryHandle extism_current_plugin_memory_alloc(ExtismCurrentPlugin *plugin,
                                                          ExtismSize n)
    ExtismSize extism_current_plugin_memory_length(ExtismCurrentPlugin *plugin,
                                                   ExtismMemoryHandle h)
    void extism_current_plugin_memory_free(ExtismCurrentPlugin *plugin, ExtismMemoryHandle h)
    void *extism_current_plugin_host_context(ExtismCurrentPlugin *plugin)

    # logging (process-wide)
    bint extism_log_file(const char *filename, const char *log_level)
    bint extism_log_custom(const char *log_level)
    void extism_log_drain(ExtismLogDrainFunctionType handler)
    const char *extism_version()
