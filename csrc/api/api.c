/* api.c: the libextism C API (extism.h) on top of the exn_ core: the same names, types and
 * semantics as Extism runtime v1.13 (spec section 8.2), so existing C code and bindings work.
 * May call: runtime/ (plugin.h, compiled.h: the objects behind the API), kernel.h (a plugin's
 * kernel context), json.h, watchdog.h (cancel). */
#include <stdio.h>

#include "kernel/kernel.h"
#include "runtime/compiled.h"
#include "runtime/plugin.h"
#include "runtime/tiering.h"
#include "support/json.h"
#include "support/watchdog.h"

#ifndef EXN_VERSION
#define EXN_VERSION "0.0.0"
#endif

const char *extism_version(void)
{
    return EXN_VERSION;
}

/* Owned copy of "<prefix><message>" for a constructor's errmsg out-parameter. */
static void give_error(char **errmsg, const char *prefix, const char *message)
{
    if (!errmsg)
        return;
    size_t n = strlen(prefix) + strlen(message) + 1;
    *errmsg = exn_malloc(n);
    if (*errmsg)
        exn_fmt(*errmsg, n, "%s%s", prefix, message);
}

ExtismPlugin *extism_plugin_new(const uint8_t *wasm, ExtismSize wasm_size,
                                const ExtismFunction **functions, ExtismSize n_functions,
                                bool with_wasi, char **errmsg)
{
    char err[2048];
    ExtismPlugin *p = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (wasm_size > SIZE_MAX) {
        give_error(errmsg, "Unable to compile Extism plugin: ", "input too large");
        return NULL;
    }
    if (exn_plugin_new(wasm, (size_t)wasm_size, functions, (size_t)n_functions, with_wasi, &p, err,
                       sizeof err) != EXN_OK)
        give_error(errmsg, "Unable to compile Extism plugin: ", err);
    return p;
}

ExtismPlugin *extism_plugin_new_with_fuel_limit(const uint8_t *wasm, ExtismSize wasm_size,
                                                const ExtismFunction **functions,
                                                ExtismSize n_functions, bool with_wasi,
                                                uint64_t fuel_limit, char **errmsg)
{
    char err[2048];
    ExtismCompiledPlugin *c = NULL;
    ExtismPlugin *p = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (wasm_size > SIZE_MAX) {
        give_error(errmsg, "Unable to compile Extism plugin: ", "input too large");
        return NULL;
    }
    if (exn_compiled_new(wasm, (size_t)wasm_size, functions, (size_t)n_functions, with_wasi,
                         EXN_TIER_DEFAULT, fuel_limit, &c, err, sizeof err) != EXN_OK ||
        exn_plugin_new_from_compiled(c, &p, err, sizeof err) != EXN_OK)
        give_error(errmsg, "Unable to compile Extism plugin: ", err);
    exn_compiled_release(c); /* the plugin holds its own reference */
    return p;
}

void extism_plugin_new_error_free(char *err)
{
    exn_free(err);
}

const uint8_t *extism_plugin_id(ExtismPlugin *plugin)
{
    return plugin ? plugin->kernel.id : NULL;
}

bool extism_plugin_config(ExtismPlugin *plugin, const uint8_t *json, ExtismSize json_size)
{
    if (!plugin || (!json && json_size) || json_size > SIZE_MAX)
        return false;
    exn_json_doc_t *doc = NULL;
    char err[128];
    if (exn_json_parse((const char *)json, (size_t)json_size, &doc, err, sizeof err) != EXN_OK)
        return false;
    const exn_json_t *root = exn_json_root(doc);
    bool ok = root->kind == EXN_JSON_OBJECT;
    /* all or nothing: check every value before changing anything */
    for (size_t i = 0; ok && i < root->len; i++) {
        exn_json_kind_t k = root->members[i].value.kind;
        ok = k == EXN_JSON_STRING || k == EXN_JSON_NULL;
    }
    for (size_t i = 0; ok && i < root->len; i++) {
        const exn_json_member_t *m = &root->members[i];
        const char *value = m->value.kind == EXN_JSON_STRING ? m->value.str : NULL;
        ok = exn_plugin_config_set(plugin, m->key, m->key_len, value, m->value.len) == EXN_OK;
    }
    exn_json_doc_free(doc);
    return ok;
}

bool extism_plugin_function_exists(ExtismPlugin *plugin, const char *func_name)
{
    return exn_plugin_function_kind(plugin, func_name) == 1;
}

int32_t extism_plugin_call_with_host_context(ExtismPlugin *plugin, const char *func_name,
                                             const uint8_t *data, ExtismSize data_len,
                                             void *host_context)
{
    exn_call_result_t out;
    if (data_len > SIZE_MAX)
        return -1;
    exn_plugin_call(plugin, func_name, data, (size_t)data_len, host_context, EXN_TIMEOUT_DEFAULT,
                    &out);
    return out.rc;
}

int32_t extism_plugin_call(ExtismPlugin *plugin, const char *func_name, const uint8_t *data,
                           ExtismSize data_len)
{
    return extism_plugin_call_with_host_context(plugin, func_name, data, data_len, NULL);
}

const char *extism_plugin_error(ExtismPlugin *plugin)
{
    return plugin && plugin->has_error ? plugin->errmsg : NULL;
}

const char *extism_error(ExtismPlugin *plugin)
{
    return extism_plugin_error(plugin);
}

ExtismSize extism_plugin_output_length(ExtismPlugin *plugin)
{
    return plugin ? plugin->output_len : 0;
}

const uint8_t *extism_plugin_output_data(ExtismPlugin *plugin)
{
    return plugin ? plugin->output : NULL;
}

bool extism_plugin_reset(ExtismPlugin *plugin)
{
    if (!plugin)
        return false;
    bool inside;
    if (!exn_plugin_hold(plugin, &inside))
        return false;
    exn_kmem_reset(&plugin->kernel.kmem);
    plugin->output = NULL;
    plugin->output_len = 0;
    exn_plugin_unhold(plugin, inside);
    return true;
}

void extism_plugin_allow_http_response_headers(ExtismPlugin *plugin)
{
    if (plugin)
        plugin->kernel.http_headers_enabled = true;
}

const ExtismCancelHandle *extism_plugin_cancel_handle(const ExtismPlugin *plugin)
{
    return plugin ? &plugin->cancel : NULL;
}

bool extism_plugin_cancel(const ExtismCancelHandle *handle)
{
    return handle && exn_call_interrupt(handle->state, 0);
}

ExtismCompiledPlugin *extism_compiled_plugin_new(const uint8_t *wasm, ExtismSize wasm_size,
                                                 const ExtismFunction **functions,
                                                 ExtismSize n_functions, bool with_wasi,
                                                 char **errmsg)
{
    return extism_compiled_plugin_new_with_fuel_limit(wasm, wasm_size, functions, n_functions,
                                                      with_wasi, 0, errmsg); /* 0: no limit */
}

ExtismCompiledPlugin *
extism_compiled_plugin_new_with_fuel_limit(const uint8_t *wasm, ExtismSize wasm_size,
                                           const ExtismFunction **functions, ExtismSize n_functions,
                                           bool with_wasi, uint64_t fuel_limit, char **errmsg)
{
    char err[2048];
    ExtismCompiledPlugin *c = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (wasm_size > SIZE_MAX) {
        give_error(errmsg, "Unable to compile Extism plugin: ", "input too large");
        return NULL;
    }
    if (exn_compiled_new(wasm, (size_t)wasm_size, functions, (size_t)n_functions, with_wasi,
                         EXN_TIER_DEFAULT, fuel_limit, &c, err, sizeof err) != EXN_OK)
        give_error(errmsg, "Unable to compile Extism plugin: ", err);
    return c;
}

void extism_compiled_plugin_free(ExtismCompiledPlugin *compiled)
{
    exn_compiled_release(compiled);
}

ExtismPlugin *extism_plugin_new_from_compiled(const ExtismCompiledPlugin *compiled, char **errmsg)
{
    char err[2048];
    ExtismPlugin *p = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (exn_plugin_new_from_compiled((ExtismCompiledPlugin *)compiled, &p, err, sizeof err) !=
        EXN_OK)
        give_error(errmsg, "Unable to create Extism plugin: ", err);
    return p;
}

exn_status_t exn_compiled_plugin_new(const uint8_t *data, size_t len,
                                     const ExtismFunction **functions, size_t n_functions,
                                     bool with_wasi, ExtismCompiledPlugin **out_compiled,
                                     char *errbuf, size_t errbuf_len)
{
    return exn_compiled_plugin_new_with_options(data, len, functions, n_functions, with_wasi, NULL,
                                                out_compiled, errbuf, errbuf_len);
}

exn_status_t exn_compiled_plugin_new_with_options(const uint8_t *data, size_t len,
                                                  const ExtismFunction **functions,
                                                  size_t n_functions, bool with_wasi,
                                                  const exn_compile_options_t *options,
                                                  ExtismCompiledPlugin **out_compiled, char *errbuf,
                                                  size_t errbuf_len)
{
    if (!out_compiled) {
        exn_fmt(errbuf, errbuf_len, "out_compiled is NULL");
        return EXN_ERR_MISUSE;
    }
    *out_compiled = NULL;
    int tier = EXN_TIER_DEFAULT;
    uint64_t fuel = 0;
    if (options) {
        /* the first version had size and tier; fuel came after */
        if (options->size < offsetof(exn_compile_options_t, fuel)) {
            exn_fmt(errbuf, errbuf_len, "options->size is %u, at least %zu expected", options->size,
                    offsetof(exn_compile_options_t, fuel));
            return EXN_ERR_MISUSE;
        }
        tier = options->tier;
        if (options->size >= offsetof(exn_compile_options_t, fuel) + sizeof options->fuel)
            fuel = options->fuel;
    }
    return exn_compiled_new(data, len, functions, n_functions, with_wasi, tier, fuel, out_compiled,
                            errbuf, errbuf_len);
}

int exn_compiled_plugin_tier(ExtismCompiledPlugin *compiled, char *why, size_t why_len)
{
    if (!compiled) {
        exn_fmt(why, why_len, "no compiled plugin");
        return EXN_TIER_STATE_INTERP;
    }
    uint32_t s = exn_tier_state(compiled);
    if (why && why_len)
        exn_tier_why(compiled, why, why_len);
    return (int)s;
}

exn_status_t exn_compiled_plugin_compile_native(ExtismCompiledPlugin *compiled, int64_t timeout_ns,
                                                char *errbuf, size_t errbuf_len)
{
    if (!compiled) {
        exn_fmt(errbuf, errbuf_len, "no compiled plugin");
        return EXN_ERR_MISUSE;
    }
    return exn_tier_compile_now(compiled, timeout_ns, errbuf, errbuf_len);
}

exn_status_t exn_native_precompile(const uint8_t *wasm, size_t len, char *errbuf, size_t errbuf_len)
{
    if (!wasm && len) {
        exn_fmt(errbuf, errbuf_len, "wasm is NULL");
        return EXN_ERR_MISUSE;
    }
    return exn_tier_precompile(wasm, len, errbuf, errbuf_len);
}

exn_status_t exn_native_available(char *buf, size_t buf_len)
{
    return exn_tier_available(buf, buf_len);
}
