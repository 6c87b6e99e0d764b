/* instance.c: the modules of a plugin, instantiated by the compiled plugin's engine
 * (instance.h).  Engine-neutral: imports are handed to the engine as exn_import_value_t, as
 * exn_resolve_import (compiled.c) resolved them (the compiled plugin already checked that each
 * one can be provided with the right type); a function another module of the manifest exports
 * is wrapped as an exn_hostcall_fn (module_call); start functions and initialisers run through
 * the engine's `call`.
 * May call: compiled.h, engine.h, hostfn.h, kernel.h, wasi/wasi.h, plugin.h, os.h. */
#include "instance.h"

#include "hostfn.h"
#include "kernel/kernel.h"
#include "plugin.h"
#include "support/os.h"
#include "wasi/wasi.h"

struct exn_link {
    ExtismPlugin *plugin;
    exn_module_t *target;
    uint32_t index; /* function index in the target module */
};

/* ---- calls into another module ------------------------------------------------------------ */

/* Imports of a function exported by another module of the manifest land here: the arguments
 * are handed to that module's instance and its results copied back.  Traps propagate. */
static exn_trap_t module_call(const exn_caller_t *caller, uint64_t *slots)
{
    const exn_link_t *link = caller->env;
    exn_module_t *target = link->target;
    if (!target->inst)
        return exn_plugin_kernel_trap(link->plugin,
                                      "module %s is not instantiated yet (an import cycle used "
                                      "by a start function)",
                                      target->def->name);
    const exn_functype_t *t = exn_module_func_type(&target->def->info, link->index);
    uint64_t values[EXN_MAX_LINK_VALUES];
    memcpy(values, slots + t->n_results, t->n_params * sizeof *values);
    exn_trap_t trap = exn_module_call(target, link->index, values);
    if (!trap)
        memcpy(slots, values, t->n_results * sizeof *values);
    return trap;
}

/* ---- instantiation ------------------------------------------------------------------------ */

static void module_free_instance(exn_module_t *m)
{
    if (m->inst)
        m->inst->engine->instance_free(m->inst);
    exn_free(m->links);
    exn_free(m->imports);
    m->inst = NULL;
    m->links = NULL;
    m->imports = NULL;
    m->n_links = 0;
    m->initialized = false;
    m->visit = 0;
}

void exn_instances_free(ExtismPlugin *p)
{
    for (size_t i = 0; i < p->n_mods; i++)
        module_free_instance(&p->mods[i]);
    p->n_order = 0;
}

/* What each import of m is given (the compiled plugin resolved and type-checked them once). */
static exn_status_t link_imports(ExtismPlugin *p, exn_module_t *m)
{
    const exn_module_info_t *info = &m->def->info;
    size_t n = info->n_imports ? info->n_imports : 1;
    m->links = exn_calloc(n, sizeof *m->links);
    m->imports = exn_calloc(n, sizeof *m->imports);
    if (!m->links || !m->imports)
        return EXN_ERR_NOMEM;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_target_t *t = &m->def->targets[i];
        exn_import_value_t *v = &m->imports[i];
        v->kind = EXN_EXTERN_FUNC;
        switch (t->kind) {
        case EXN_IMPORT_HOST:
            v->fn = exn_hostfn_call;
            v->env = (void *)t->fn;
            break;
        case EXN_IMPORT_KERNEL: v->fn = t->kernel->fn; break;
        case EXN_IMPORT_WASI: v->fn = t->wasi->fn; break;
        case EXN_IMPORT_MODULE: {
            exn_link_t *link = &m->links[m->n_links++];
            link->plugin = p;
            link->target = &p->mods[t->module];
            link->index = t->index;
            v->fn = module_call;
            v->env = link;
            break;
        }
        case EXN_IMPORT_NONE: break; /* not reached: creation checked every import */
        }
    }
    return EXN_OK;
}

static exn_status_t instantiate(ExtismPlugin *p, exn_module_t *m, char *errbuf,
                                size_t errbuf_len)
{
    if (m->visit)
        return EXN_OK; /* done, or in progress further up an import cycle */
    m->visit = 1;
    /* modules this one imports from come first: their start functions run before ours */
    const exn_module_info_t *info = &m->def->info;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_target_t *t = &m->def->targets[i];
        if (t->kind == EXN_IMPORT_MODULE) {
            exn_status_t st = instantiate(p, &p->mods[t->module], errbuf, errbuf_len);
            if (st)
                return st;
        }
    }

    if (link_imports(p, m) != EXN_OK) {
        exn_fmt(errbuf, errbuf_len, "out of memory linking module %s", m->def->name);
        return EXN_ERR_NOMEM;
    }
    const ExtismCompiledPlugin *c = p->compiled;
    exn_instance_config_t config;
    memset(&config, 0, sizeof config);
    config.imports = m->imports;
    config.n_imports = info->n_imports;
    config.max_memory_bytes = (uint64_t)(c->has_max_pages ? c->max_pages : 65536) * 65536;
    config.interrupt = &p->call_state;
    config.userdata = p;
    char why[512];
    exn_status_t st = c->engine->instantiate(m->def->code, &config, &m->inst, why, sizeof why);
    if (st) {
        exn_fmt(errbuf, errbuf_len, "module %s: %s", m->def->name, why);
        return st;
    }
    if (p->stack_limit) /* the instances made before this one have it */
        m->inst->engine->set_stack_limit(m->inst, p->stack_limit);
    if (info->has_start) {
        uint64_t none[1];
        exn_instances_enter(p);
        exn_trap_t trap = exn_module_call(m, info->start, none);
        if (trap) {
            exn_fmt(errbuf, errbuf_len, "the start function of module %s failed: %s",
                    m->def->name, trap == exn_trap_kernel ? p->trap_msg : trap);
            return EXN_ERR_LOAD;
        }
    }
    m->visit = 2;
    p->order[p->n_order++] = (size_t)(m - p->mods);
    return EXN_OK;
}

exn_status_t exn_instances_new(ExtismPlugin *p, char *errbuf, size_t errbuf_len)
{
    p->n_order = 0;
    p->stack_limit = 0;
    for (size_t i = 0; i < p->n_mods; i++) {
        exn_status_t st = instantiate(p, &p->mods[i], errbuf, errbuf_len);
        if (st) {
            exn_instances_free(p);
            return st;
        }
    }
    p->initialized = false;
    p->stack_limit = 0;
    return EXN_OK;
}

/* ---- running guest code ------------------------------------------------------------------- */

/* Lowest usable stack address of this thread (1 = the platform cannot tell); asked once per
 * thread because it can be slow (Linux reads /proc for the main thread). */
static EXN_THREAD_LOCAL uintptr_t thread_stack_low;

#define HOST_STACK_RESERVE ((uintptr_t)256 * 1024) /* left for host functions (Python) */

/* The lowest native stack address guest code may reach from here (wasm3 patch 0003): the
 * thread's stack bottom plus HOST_STACK_RESERVE, kept for host functions (or half of what is
 * left when less than twice that is).  Fixed per thread unless the stack is short or unknown. */
static uintptr_t native_stack_limit(void)
{
    static EXN_THREAD_LOCAL uintptr_t fixed; /* 0: depends on where we are */
    if (fixed)
        return fixed;
    volatile char here = 0;
    uintptr_t sp = (uintptr_t)&here;
    if (!thread_stack_low) {
        uintptr_t low = exn_os_stack_low();
        thread_stack_low = low ? low : 1;
    }
    uintptr_t low = thread_stack_low;
    if (low == 1 || low >= sp)
        return sp > HOST_STACK_RESERVE ? sp - HOST_STACK_RESERVE : 1; /* unknown: be modest */
    uintptr_t avail = sp - low;
    if (avail >= 4 * HOST_STACK_RESERVE)
        return fixed = low + HOST_STACK_RESERVE;
    return low + avail / 2;
}

void exn_instances_enter(ExtismPlugin *p)
{
    uintptr_t limit = native_stack_limit();
    if (limit == p->stack_limit)
        return; /* the instances have it already */
    p->stack_limit = limit;
    for (size_t i = 0; i < p->n_mods; i++) {
        exn_instance_t *inst = p->mods[i].inst;
        if (inst)
            inst->engine->set_stack_limit(inst, limit);
    }
}

static bool has_type(const exn_module_info_t *info, const exn_export_t *e, uint32_t n_params,
                     uint32_t n_results)
{
    const exn_functype_t *t = exn_module_func_type(info, e->index);
    if (!t || t->n_params != n_params || t->n_results != n_results)
        return false;
    for (uint32_t i = 0; i < n_params; i++) {
        if (t->types[i] != EXN_WASM_I32)
            return false;
    }
    return true;
}

/* One module's initialiser (spec 3.4): Haskell's hs_init (after _initialize), else
 * __wasm_call_ctors, else _initialize.  A present but wrongly typed function disables the step,
 * as in the official runtime. */
static exn_trap_t initialise(exn_module_t *m, const char **out_what)
{
    const exn_module_info_t *info = &m->def->info;
    const exn_export_t *hs = exn_module_export(info, "hs_init", EXN_EXTERN_FUNC);
    const exn_export_t *init = exn_module_export(info, "_initialize", EXN_EXTERN_FUNC);
    const exn_export_t *ctors = exn_module_export(info, "__wasm_call_ctors", EXN_EXTERN_FUNC);
    uint64_t slots[2] = {0, 0};
    exn_trap_t r = NULL;
    m->initialized = true; /* exactly once per instance, even if it fails */
    if (hs) {
        if (has_type(info, hs, 2, 0)) {
            if (init && has_type(info, init, 0, 0)) {
                *out_what = "_initialize";
                r = exn_module_call(m, init->index, slots);
            }
            if (!r) {
                *out_what = "hs_init";
                slots[0] = slots[1] = 0; /* argc, argv */
                r = exn_module_call(m, hs->index, slots);
            }
        }
    } else if (ctors) {
        *out_what = "__wasm_call_ctors";
        if (has_type(info, ctors, 0, 0))
            r = exn_module_call(m, ctors->index, slots);
    } else if (init) {
        *out_what = "_initialize";
        if (has_type(info, init, 0, 0))
            r = exn_module_call(m, init->index, slots);
    }
    return r;
}

exn_trap_t exn_instances_initialise(ExtismPlugin *p, const char **out_what)
{
    if (p->initialized)
        return NULL;
    p->initialized = true; /* each module's own flag keeps its initialiser to one run */
    for (size_t i = 0; i < p->n_order; i++) {
        exn_module_t *m = &p->mods[p->order[i]];
        if (m->initialized)
            continue;
        exn_trap_t r = initialise(m, out_what);
        if (r)
            return r;
    }
    return NULL;
}
