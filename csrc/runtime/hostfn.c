/* hostfn.c: user host functions - the libextism ExtismFunction API, the exn_hostcall_fn the
 * engine calls for every host-function import, and the ExtismCurrentPlugin API they use
 * (spec 3.5).
 *
 * A function is reference counted: its creator holds one reference (extism_function_free drops
 * it) and every plugin that links it holds one, so the same function may serve several plugins
 * and its free_user_data runs exactly once, when the last reference goes - also when plugin
 * creation fails.  Engines have no destroy hook for import environments; this file owns that.
 * A host function sees the plugin calling it as an ExtismCurrentPlugin: the plugin's kernel
 * context (kernel/kernel.h), never the plugin itself.
 * May call: kernel.h (the context), kernel_mem.h, engine.h, module_info.h (types), json.h. */
#include "hostfn.h"

#include <stdio.h>

#include "support/json.h"

static const char DEFAULT_NAMESPACE[] = "extism:host/user";

static char type_letter(ExtismValType t)
{
    switch (t) {
    case ExtismValType_I32: return 'i';
    case ExtismValType_I64: return 'I';
    case ExtismValType_F32: return 'f';
    case ExtismValType_F64: return 'F';
    default: return 0;
    }
}

static uint8_t wasm_type(ExtismValType t)
{
    switch (t) {
    case ExtismValType_I32: return EXN_WASM_I32;
    case ExtismValType_I64: return EXN_WASM_I64;
    case ExtismValType_F32: return EXN_WASM_F32;
    case ExtismValType_F64: return EXN_WASM_F64;
    default: return 0;
    }
}

static ExtismFunction *function_new(const char *name, const ExtismValType *inputs,
                                    ExtismSize n_inputs, const ExtismValType *outputs,
                                    ExtismSize n_outputs, ExtismFunctionType func, exn_host_fn flat,
                                    void *user_data, void (*free_user_data)(void *))
{
    ExtismFunction *f = NULL;
    bool ok = name && (func || flat) && exn_utf8_valid((const uint8_t *)name, strlen(name)) &&
              n_inputs <= EXN_HOSTFN_MAX_VALUES && n_outputs <= EXN_HOSTFN_MAX_VALUES &&
              (inputs || !n_inputs) && (outputs || !n_outputs);
    for (ExtismSize i = 0; ok && i < n_inputs; i++)
        ok = type_letter(inputs[i]) != 0;
    for (ExtismSize i = 0; ok && i < n_outputs; i++)
        ok = type_letter(outputs[i]) != 0;
    if (ok)
        f = exn_calloc(1, sizeof *f);
    if (f) {
        f->name = exn_strndup(name, strlen(name));
        f->ns = exn_strndup(DEFAULT_NAMESPACE, sizeof DEFAULT_NAMESPACE - 1);
        f->types = exn_malloc((n_inputs + n_outputs) * sizeof *f->types);
    }
    if (!f || !f->name || !f->ns || !f->types) {
        /* the promise holds on failure too: the user data is released exactly once */
        if (free_user_data)
            free_user_data(user_data);
        if (f) {
            exn_free(f->name);
            exn_free(f->ns);
            exn_free(f->types);
            exn_free(f);
        }
        return NULL;
    }
    if (n_inputs)
        memcpy(f->types, inputs, n_inputs * sizeof *f->types);
    if (n_outputs)
        memcpy(f->types + n_inputs, outputs, n_outputs * sizeof *f->types);
    f->n_params = (uint32_t)n_inputs;
    f->n_results = (uint32_t)n_outputs;
    f->fn = func;
    f->flat = flat;
    f->user_data = user_data;
    f->free_user_data = free_user_data;
    f->refs = 1;

    return f;
}

ExtismFunction *extism_function_new(const char *name, const ExtismValType *inputs,
                                    ExtismSize n_inputs, const ExtismValType *outputs,
                                    ExtismSize n_outputs, ExtismFunctionType func, void *user_data,
                                    void (*free_user_data)(void *))
{
    return function_new(name, inputs, n_inputs, outputs, n_outputs, func, NULL, user_data,
                        free_user_data);
}

ExtismFunction *exn_function_new(const char *name, const ExtismValType *inputs, size_t n_inputs,
                                 const ExtismValType *outputs, size_t n_outputs, exn_host_fn fn,
                                 void *user_data, void (*free_user_data)(void *))
{
    return function_new(name, inputs, n_inputs, outputs, n_outputs, NULL, fn, user_data,
                        free_user_data);
}

void exn_hostfn_retain(ExtismFunction *f)
{
    exn_ref_retain(&f->refs);
}

void exn_hostfn_release(ExtismFunction *f)
{
    if (!f || !exn_ref_release(&f->refs))
        return;
    if (f->free_user_data)
        f->free_user_data(f->user_data);
    exn_free(f->name);
    exn_free(f->ns);
    exn_free(f->types);
    exn_free(f);
}

void extism_function_free(ExtismFunction *f)
{
    exn_hostfn_release(f);
}

void extism_function_set_namespace(ExtismFunction *f, const char *namespace_)
{
    if (!f || !namespace_ || !exn_utf8_valid((const uint8_t *)namespace_, strlen(namespace_)))
        return;
    char *ns = exn_strndup(namespace_, strlen(namespace_));
    if (ns) {
        exn_free(f->ns);
        f->ns = ns;
    }
}

size_t exn_hostfn_find(ExtismFunction *const *fns, size_t n, const char *module, const char *name)
{
    for (size_t i = n; i-- > 0;) {
        if (strcmp(fns[i]->ns, module) == 0 && strcmp(fns[i]->name, name) == 0)
            return i;
    }
    return n;
}

bool exn_hostfn_matches(const ExtismFunction *f, const exn_functype_t *t)
{
    if (f->n_params != t->n_params || f->n_results != t->n_results)
        return false;
    for (uint32_t i = 0; i < t->n_params + t->n_results; i++) {
        if (wasm_type(f->types[i]) != t->types[i])
            return false;
    }
    return true;
}

void exn_hostfn_format(const ExtismFunction *f, char *buf, size_t buf_len)
{
    exn_functype_t t = {f->n_params, f->n_results, NULL};
    uint8_t types[2 * EXN_HOSTFN_MAX_VALUES];
    for (uint32_t i = 0; i < f->n_params + f->n_results; i++)
        types[i] = wasm_type(f->types[i]);
    t.types = types;
    exn_functype_format(&t, buf, buf_len);
}

/* Slots (engine.h): an i32 or f32 in the low 32 bits of its slot's value. */
static int32_t slot_i32(const uint64_t *slot)
{
    return (int32_t)exn_slot_u32(slot);
}

static float slot_f32(const uint64_t *slot)
{
    uint32_t bits = exn_slot_u32(slot);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void set_slot_f32(uint64_t *slot, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    exn_slot_set_u32(slot, bits);
}

/* The exn_host_fn convention: integers as int64, floats as the bits of a double. */
static exn_trap_t call_flat(ExtismFunction *f, exn_kernel_t *k, uint64_t *sp, uint64_t *args)
{
    int64_t slots[2 * EXN_HOSTFN_MAX_VALUES];
    for (uint32_t i = 0; i < f->n_params; i++) {
        double d;
        switch (f->types[i]) {
        case ExtismValType_I32: slots[i] = slot_i32(&args[i]); break;
        case ExtismValType_F32:
            d = slot_f32(&args[i]);
            memcpy(&slots[i], &d, sizeof d);
            break;
        default: slots[i] = (int64_t)args[i]; break; /* i64, and f64 bits as they are */
        }
    }
    for (uint32_t i = 0; i < f->n_results; i++)
        slots[f->n_params + i] = 0;
    k->host_failed = false;
    f->flat(f->user_data, (ExtismCurrentPlugin *)(void *)k, slots);
    if (k->host_failed) {
        k->host_failed = false;
        return exn_trap_host;
    }
    for (uint32_t i = 0; i < f->n_results; i++) {
        int64_t v = slots[f->n_params + i];
        double d;
        switch (f->types[f->n_params + i]) {
        case ExtismValType_I32: exn_slot_set_u32(&sp[i], (uint32_t)v); break;
        case ExtismValType_F32:
            memcpy(&d, &v, sizeof d);
            set_slot_f32(&sp[i], (float)d);
            break;
        default: sp[i] = (uint64_t)v; break;
        }
    }
    return NULL;
}

/* Every host-function import lands here (its environment is an exn_hostfn_env_t).  Slots:
 * results first, then the arguments, one 64-bit slot each (engine.h). */
exn_trap_t exn_hostfn_call(const exn_caller_t *caller, uint64_t *sp)
{
    const exn_hostfn_env_t *env = caller->env;
    ExtismFunction *f = env->fn;
    exn_kernel_t *k = env->kernel;
    uint64_t *args = sp + f->n_results;
    if (f->flat)
        return call_flat(f, k, sp, args);
    ExtismVal in[EXN_HOSTFN_MAX_VALUES], out[EXN_HOSTFN_MAX_VALUES];
    for (uint32_t i = 0; i < f->n_params; i++) {
        in[i].t = f->types[i];
        switch (f->types[i]) {
        case ExtismValType_I32: in[i].v.i32 = slot_i32(&args[i]); break;
        case ExtismValType_F32: in[i].v.f32 = slot_f32(&args[i]); break;
        case ExtismValType_F64: memcpy(&in[i].v.f64, &args[i], sizeof(double)); break;
        default: in[i].v.i64 = (int64_t)args[i]; break;
        }
    }
    for (uint32_t i = 0; i < f->n_results; i++) {
        out[i].t = f->types[f->n_params + i];
        out[i].v.i64 = 0;
    }
    k->host_failed = false;
    f->fn((ExtismCurrentPlugin *)(void *)k, in, f->n_params, out, f->n_results, f->user_data);
    if (k->host_failed) {
        k->host_failed = false;
        return exn_trap_host;
    }
    /* whatever the function left in each union is read with the declared type */
    for (uint32_t i = 0; i < f->n_results; i++) {
        switch (f->types[f->n_params + i]) {
        case ExtismValType_I32: exn_slot_set_u32(&sp[i], (uint32_t)out[i].v.i32); break;
        case ExtismValType_F32: set_slot_f32(&sp[i], out[i].v.f32); break;
        case ExtismValType_F64: memcpy(&sp[i], &out[i].v.f64, sizeof(double)); break;
        default: sp[i] = (uint64_t)out[i].v.i64; break;
        }
    }
    return NULL;
}

/* ---- ExtismCurrentPlugin: a host function's view of the plugin calling it ------------------- */

/* An ExtismCurrentPlugin is the plugin's kernel context. */
static exn_kernel_t *current(ExtismCurrentPlugin *cur)
{
    return (exn_kernel_t *)(void *)cur;
}

uint8_t *extism_current_plugin_memory(ExtismCurrentPlugin *plugin)
{
    return plugin ? exn_kmem_base(&current(plugin)->kmem) : NULL;
}

ExtismMemoryHandle extism_current_plugin_memory_alloc(ExtismCurrentPlugin *plugin, ExtismSize n)
{
    return plugin ? exn_kmem_alloc(&current(plugin)->kmem, n) : 0;
}

ExtismSize extism_current_plugin_memory_length(ExtismCurrentPlugin *plugin, ExtismMemoryHandle h)
{
    return plugin ? exn_kmem_length(&current(plugin)->kmem, h) : 0;
}

void extism_current_plugin_memory_free(ExtismCurrentPlugin *plugin, ExtismMemoryHandle h)
{
    if (plugin)
        exn_kmem_free_block(&current(plugin)->kmem, h);
}

void *extism_current_plugin_host_context(ExtismCurrentPlugin *plugin)
{
    return plugin ? current(plugin)->host_context : NULL;
}

uint64_t exn_current_plugin_memory_size(ExtismCurrentPlugin *plugin)
{
    return plugin ? current(plugin)->kmem.mem_size : 0;
}

void exn_current_plugin_fail(ExtismCurrentPlugin *plugin, const char *message)
{
    if (!plugin)
        return;
    exn_kernel_t *k = current(plugin);
    k->host_failed = true;
    exn_fmt(k->trap_msg, sizeof k->trap_msg, "%s", message ? message : "host function failed");
}

exn_status_t exn_current_plugin_set_error(ExtismCurrentPlugin *plugin, const char *message,
                                          size_t len)
{
    if (!plugin)
        return EXN_ERR_MISUSE;
    exn_kmem_t *k = &current(plugin)->kmem;
    if (!message || !len) {
        k->error = 0;
        return EXN_OK;
    }
    bool failed;
    uint64_t h = exn_kmem_alloc_copy(k, message, len, &failed);
    if (failed)
        return EXN_ERR_NOMEM;
    k->error = h;
    return EXN_OK;
}

const uint8_t *exn_current_plugin_id(ExtismCurrentPlugin *plugin)
{
    return plugin ? current(plugin)->id : NULL;
}
