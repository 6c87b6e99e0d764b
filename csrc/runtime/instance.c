/* instance.c: the modules of a plugin, instantiated by the compiled plugin's engine
 * (instance.h).  Engine-neutral: imports are handed to the engine as exn_import_value_t, as
 * exn_resolve_import (compiled.c) resolved them (the compiled plugin already checked that each
 * one can be provided with the right type); a function another module of the manifest exports
 * is wrapped as an exn_hostcall_fn (module_call); start functions and initialisers run through
 * the engine's `call`.
 * May call: compiled.h, engine.h, hostfn.h, kernel.h, wasi/wasi.h, plugin.h, tiering.h, os.h. */
#include "instance.h"

#include "hostfn.h"
#include "kernel/kernel.h"
#include "plugin.h"
#include "tiering.h"
#include "support/os.h"
#include "wasi/wasi.h"

struct exn_link {
    ExtismPlugin *plugin; /* where the modules a trap came through are noted */
    exn_kernel_t *kernel; /* where to say why a call cannot be made */
    exn_module_t *target;
    uint32_t index; /* function index in the target module */
};

/* ---- calls into another module ------------------------------------------------------------ */

/* Imports of a function exported by another module of the manifest land here: the arguments
 * are handed to that module's instance and its results copied back.  Traps propagate, and the
 * module is noted: its instance holds the inner part of the backtrace (backtrace.c). */
static exn_trap_t module_call(const exn_caller_t *caller, uint64_t *slots)
{
    const exn_link_t *link = caller->env;
    exn_module_t *target = link->target;
    if (!target->inst)
        return exn_kernel_trap(link->kernel,
                               "module %s is not instantiated yet (an import cycle used by a "
                               "start function)",
                               target->def->name);
    const exn_functype_t *t = exn_module_func_type(&target->def->info, link->index);
    uint64_t values[EXN_MAX_LINK_VALUES];
    memcpy(values, slots + t->n_results, t->n_params * sizeof *values);
    exn_trap_t trap = exn_module_call(target, link->index, values);
    if (!trap) {
        memcpy(slots, values, t->n_results * sizeof *values);
    } else {
        ExtismPlugin *p = link->plugin;
        if (p->n_trap_mods < EXN_MAX_TRAP_MODULES)
            p->trap_mods[p->n_trap_mods++] = target;
    }
    return trap;
}

/* ---- instantiation ------------------------------------------------------------------------ */

static void module_free_instance(exn_module_t *m)
{
    if (m->inst)
        m->inst->engine->instance_free(m->inst);
    exn_free(m->links);
    m->inst = NULL;
    m->links = NULL;
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

/* What each import of m is given, in `imports` (the compiled plugin resolved and type-checked
 * them once).  The engine keeps what it needs of them; the links to other modules stay in m. */
static exn_status_t link_imports(ExtismPlugin *p, const exn_module_t *m,
                                 exn_import_value_t *imports, exn_link_t **out_links,
                                 size_t *out_n_links)
{
    const exn_module_info_t *info = &m->def->info;
    size_t n_links = 0;
    exn_link_t *links = NULL;
    *out_links = NULL;
    *out_n_links = 0;
    for (uint32_t i = 0; i < info->n_imports; i++)
        n_links += m->def->targets[i].kind == EXN_IMPORT_MODULE &&
                   info->imports[i].kind == EXN_EXTERN_FUNC;
    if (n_links && !(links = exn_calloc(n_links, sizeof *links)))
        return EXN_ERR_NOMEM;
    n_links = 0;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_target_t *t = &m->def->targets[i];
        exn_import_value_t *v = &imports[i];
        memset(v, 0, sizeof *v);
        v->kind = EXN_EXTERN_FUNC;
        switch (t->kind) {
        case EXN_IMPORT_HOST:
            v->fn = exn_hostfn_call;
            v->env = &p->host_envs[t->fn_index];
            break;
        case EXN_IMPORT_KERNEL:
            v->fn = t->kernel->fn;
            v->env = &p->kernel;
            break;
        case EXN_IMPORT_WASI:
            v->fn = t->wasi->fn;
            v->env = p->wasi;
            break;
        case EXN_IMPORT_MODULE: {
            if (info->imports[i].kind != EXN_EXTERN_FUNC) {
                /* a memory or a global: the exporter's own (instantiated first: the same
                 * engine, shares_state) */
                v->kind = info->imports[i].kind;
                v->from = p->mods[t->module].inst;
                v->index = t->index;
                break;
            }
            exn_link_t *link = &links[n_links++];
            link->plugin = p;
            link->kernel = &p->kernel;
            link->target = &p->mods[t->module];
            link->index = t->index;
            v->fn = module_call;
            v->env = link;
            break;
        }
        case EXN_IMPORT_NONE: break; /* not reached: creation checked every import */
        }
    }
    *out_links = links;
    *out_n_links = n_links;
    return EXN_OK;
}

/* A new instance of m's module with `engine` and `code`, its imports linked (its links in
 * *out_links); runs no guest code. */
static exn_status_t new_instance(ExtismPlugin *p, const exn_module_t *m, const exn_engine_t *engine,
                                 exn_code_t *code, exn_instance_t **out, exn_link_t **out_links,
                                 size_t *out_n_links, char *errbuf, size_t errbuf_len)
{
    const ExtismCompiledPlugin *c = p->compiled;
    const exn_module_info_t *info = &m->def->info;
    *out = NULL;
    /* the imports' values are needed while instantiating only: on the stack when few */
    exn_import_value_t few[64], *imports = few;
    if (info->n_imports > 64 && !(imports = exn_malloc(info->n_imports * sizeof *imports))) {
        exn_fmt(errbuf, errbuf_len, "out of memory linking module %s", m->def->name);
        return EXN_ERR_NOMEM;
    }
    if (link_imports(p, m, imports, out_links, out_n_links) != EXN_OK) {
        if (imports != few)
            exn_free(imports);
        exn_fmt(errbuf, errbuf_len, "out of memory linking module %s", m->def->name);
        return EXN_ERR_NOMEM;
    }
    exn_instance_config_t config;
    memset(&config, 0, sizeof config);
    config.imports = imports;
    config.n_imports = info->n_imports;
    config.max_memory_bytes = (uint64_t)(c->has_max_pages ? c->max_pages : 65536) * 65536;
    config.interrupt = &p->call_state;
    config.fuel = c->fuel ? p->fuel_left : NULL;
    config.userdata = p;
    char why[512];
    exn_status_t st = engine->instantiate(code, &config, out, why, sizeof why);
    if (imports != few)
        exn_free(imports);
    if (st) {
        exn_free(*out_links);
        *out_links = NULL;
        *out_n_links = 0;
        exn_fmt(errbuf, errbuf_len, "module %s: %s", m->def->name, why);
    }
    return st;
}

/* ---- instantiation order ------------------------------------------------------------------
 * A module that imports a memory, a global or a table of another is instantiated after it (the
 * engine links the very object); a function import binds lazily (module_call finds the target's
 * instance when called), so it only orders start functions where it can.  The order: the
 * strongly connected components of the graph of all imports between modules, those imported
 * from first (Tarjan's algorithm: a component is complete once all it reaches are), so the
 * start functions of modules a module imports functions from run before its own unless the two
 * import from each other; inside a component, a depth-first order on the memory, global and
 * table imports alone, where a cycle is a LinkError.  Ties follow the manifest, so the order
 * does not depend on it where the imports decide it. */

static bool binds_object(const exn_module_def_t *def, uint32_t i)
{
    return def->targets[i].kind == EXN_IMPORT_MODULE &&
           def->info.imports[i].kind != EXN_EXTERN_FUNC;
}

typedef struct {
    ExtismPlugin *p;
    size_t *num; /* depth-first number + 1 (0: not seen) */
    size_t *low;
    size_t *stack, n_stack;
    bool *on_stack;
    size_t counter;
    size_t *comp; /* component of each module, numbered imported-from first */
    size_t n_comp;
    uint32_t *path; /* the object imports being followed (path[k]: module k's), for a message */
} order_t;

static void strongconnect(order_t *o, size_t v)
{
    o->num[v] = o->low[v] = ++o->counter;
    o->stack[o->n_stack++] = v;
    o->on_stack[v] = true;
    const exn_module_def_t *def = o->p->mods[v].def;
    for (uint32_t i = 0; i < def->info.n_imports; i++) {
        if (def->targets[i].kind != EXN_IMPORT_MODULE)
            continue;
        size_t w = def->targets[i].module;
        if (!o->num[w]) {
            strongconnect(o, w);
            if (o->low[w] < o->low[v])
                o->low[v] = o->low[w];
        } else if (o->on_stack[w] && o->num[w] < o->low[v]) {
            o->low[v] = o->num[w];
        }
    }
    if (o->low[v] == o->num[v]) {
        size_t w;
        do {
            w = o->stack[--o->n_stack];
            o->on_stack[w] = false;
            o->comp[w] = o->n_comp;
        } while (w != v);
        o->n_comp++;
    }
}

static const char *extern_kind(uint8_t kind)
{
    return kind == EXN_EXTERN_MEMORY ? "memory" : kind == EXN_EXTERN_TABLE ? "table" : "global";
}

/* Module v after the modules whose memories, globals and tables it imports (p->order). */
static exn_status_t order_objects(order_t *o, size_t v, char *errbuf, size_t errbuf_len)
{
    ExtismPlugin *p = o->p;
    exn_module_t *m = &p->mods[v];
    if (m->visit == 2)
        return EXN_OK;
    m->visit = 1;
    const exn_module_def_t *def = m->def;
    for (uint32_t i = 0; i < def->info.n_imports; i++) {
        if (!binds_object(def, i))
            continue;
        size_t w = def->targets[i].module;
        o->path[v] = i;
        if (p->mods[w].visit == 1) {
            /* the cycle: from w along the imports being followed back to w */
            exn_fmt(errbuf, errbuf_len, "import cycle through memories, globals or tables:");
            size_t k = w;
            do {
                const exn_module_def_t *d = p->mods[k].def;
                const exn_import_target_t *t = &d->targets[o->path[k]];
                size_t len = strlen(errbuf);
                exn_fmt(errbuf + len, errbuf_len - len,
                        "%s module %s imports the %s \"%s\" of module %s", k == w ? "" : ",",
                        d->name, extern_kind(d->info.imports[o->path[k]].kind),
                        d->info.imports[o->path[k]].name, p->mods[t->module].def->name);
                k = t->module;
            } while (k != w);
            return EXN_ERR_LINK;
        }
        exn_status_t st = order_objects(o, w, errbuf, errbuf_len);
        if (st)
            return st;
    }
    m->visit = 2;
    p->order[p->n_order++] = v;
    return EXN_OK;
}

/* p->order: the order in which to instantiate the modules. */
static exn_status_t order_modules(ExtismPlugin *p, char *errbuf, size_t errbuf_len)
{
    size_t n = p->n_mods;
    order_t o;
    memset(&o, 0, sizeof o);
    o.p = p;
    o.num = exn_calloc(n, sizeof *o.num);
    o.low = exn_calloc(n, sizeof *o.low);
    o.stack = exn_calloc(n, sizeof *o.stack);
    o.comp = exn_calloc(n, sizeof *o.comp);
    o.path = exn_calloc(n, sizeof *o.path);
    o.on_stack = exn_calloc(n, sizeof *o.on_stack);
    exn_status_t st = EXN_OK;
    if (!o.num || !o.low || !o.stack || !o.comp || !o.path || !o.on_stack) {
        exn_fmt(errbuf, errbuf_len, "out of memory ordering the modules");
        st = EXN_ERR_NOMEM;
    } else {
        for (size_t v = 0; v < n; v++) {
            if (!o.num[v])
                strongconnect(&o, v);
        }
        for (size_t k = 0; !st && k < o.n_comp; k++) {
            for (size_t v = 0; !st && v < n; v++) {
                if (o.comp[v] == k)
                    st = order_objects(&o, v, errbuf, errbuf_len);
            }
        }
    }
    exn_free(o.num);
    exn_free(o.low);
    exn_free(o.stack);
    exn_free(o.comp);
    exn_free(o.path);
    exn_free(o.on_stack);
    return st;
}

/* Instantiate m (the modules whose memories, globals or tables it imports are) and run its
 * start function. */
static exn_status_t instantiate(ExtismPlugin *p, exn_module_t *m, char *errbuf, size_t errbuf_len)
{
    const exn_module_info_t *info = &m->def->info;
    const ExtismCompiledPlugin *c = p->compiled;
    /* memory.max_pages caps each linear memory: checked against the instance, as the official
     * runtime does (a compiled plugin may be made from such a module) */
    if (c->has_max_pages && info->has_memory && info->memory_min > c->max_pages) {
        exn_fmt(errbuf, errbuf_len,
                "module %s needs %u pages of memory at start but memory.max_pages is %u",
                m->def->name, info->memory_min, c->max_pages);
        return EXN_ERR_LOAD;
    }
    exn_code_t *code;
    const exn_engine_t *engine = exn_tier_pick(c, m->def, &code);
    /* a module that imports a memory, a global or a table runs on the engine of the module that
     * owns it (the tier may have changed in between: tiering.h) */
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_target_t *t = &m->def->targets[i];
        if (t->kind != EXN_IMPORT_MODULE || info->imports[i].kind == EXN_EXTERN_FUNC)
            continue;
        const exn_module_t *owner = &p->mods[t->module];
        if (!owner->inst) { /* not reached: order_modules put it first */
            exn_fmt(errbuf, errbuf_len, "module %s imports the %s of module %s, not instantiated",
                    m->def->name, extern_kind(info->imports[i].kind), owner->def->name);
            return EXN_ERR_LINK;
        }
        const exn_engine_t *theirs = owner->inst->engine;
        if (theirs == engine)
            continue;
        engine = theirs;
        code = theirs == c->engine ? m->def->code : m->def->ncode;
        if (!code) {
            exn_fmt(errbuf, errbuf_len, "module %s has no code for the engine of module %s",
                    m->def->name, owner->def->name);
            return EXN_ERR_LOAD;
        }
        break;
    }
    exn_status_t st =
        new_instance(p, m, engine, code, &m->inst, &m->links, &m->n_links, errbuf, errbuf_len);
    if (st)
        return st;
    if (p->stack_limit) /* the instances made before this one have it */
        m->inst->engine->set_stack_limit(m->inst, p->stack_limit);
    if (info->has_start) {
        uint64_t none[1];
        exn_instances_enter(p);
        exn_trap_t trap = exn_module_call(m, info->start, none);
        if (trap) {
            exn_fmt(errbuf, errbuf_len, "the start function of module %s failed: %s", m->def->name,
                    trap == exn_trap_kernel ? p->kernel.trap_msg : trap);
            return EXN_ERR_LOAD;
        }
    }
    return EXN_OK;
}

exn_status_t exn_instances_new(ExtismPlugin *p, char *errbuf, size_t errbuf_len)
{
    p->n_order = 0;
    p->stack_limit = 0;
    exn_status_t st = order_modules(p, errbuf, errbuf_len);
    for (size_t k = 0; !st && k < p->n_order; k++)
        st = instantiate(p, &p->mods[p->order[k]], errbuf, errbuf_len);
    if (st) {
        exn_instances_free(p);
        return st;
    }
    p->initialized = false;
    p->stack_limit = 0;
    const ExtismCompiledPlugin *c = p->compiled;
    p->tier_watch = c->tier == EXN_TIER_AUTO && p->main->inst->engine != &exn_engine_native &&
                    exn_tier_state(c) != EXN_TIER_STATE_INTERP;
    return EXN_OK;
}

/* ---- moving to compiled code ----------------------------------------------------------------- */

/* Copy what a call may have changed in `from` (memory 0 and the globals) into `to`, a new
 * instance of the same module. */
static bool copy_state(const exn_module_info_t *info, exn_instance_t *from, exn_instance_t *to)
{
    uint64_t from_size, to_size;
    const uint8_t *src = from->engine->memory(from, &from_size);
    to->engine->memory(to, &to_size);
    if (from_size > to_size) {
        uint64_t delta = (from_size - to_size) / 65536;
        if (delta > UINT32_MAX || to->engine->memory_grow(to, (uint32_t)delta) == UINT32_MAX)
            return false;
    }
    uint8_t *dst = to->engine->memory(to, &to_size);
    if (to_size != from_size)
        return false;
    if (from_size)
        memcpy(dst, src, (size_t)from_size);
    for (uint32_t g = 0; g < info->n_globals; g++) {
        uint64_t slots[2] = {0, 0};
        from->engine->global_get(from, g, slots);
        to->engine->global_set(to, g, slots);
    }
    return true;
}

/* Whether m imports a memory or a global from another module, or exports one another module
 * imports.  Such instances are not moved between tiers: copying their state would break the
 * sharing (the modules keep running where they are, correctly, on the interpreter). */
static bool shares_state(const ExtismPlugin *p, const exn_module_t *m)
{
    for (size_t k = 0; k < p->n_mods; k++) {
        const exn_module_def_t *def = p->mods[k].def;
        for (uint32_t i = 0; i < def->info.n_imports; i++) {
            if (def->targets[i].kind == EXN_IMPORT_MODULE &&
                def->info.imports[i].kind != EXN_EXTERN_FUNC &&
                (&p->mods[k] == m || &p->mods[def->targets[i].module] == m))
                return true;
        }
    }
    return false;
}

bool exn_instances_to_native(ExtismPlugin *p, char *errbuf, size_t errbuf_len)
{
    size_t n = p->n_mods;
    for (size_t i = 0; i < n; i++) {
        const exn_module_t *m = &p->mods[i];
        if (!m->inst || m->inst->engine == &exn_engine_native)
            continue;
        if (!m->def->ncode) {
            exn_fmt(errbuf, errbuf_len, "module %s has no compiled code", m->def->name);
            return false;
        }
        if (shares_state(p, m)) {
            exn_fmt(errbuf, errbuf_len,
                    "module %s shares a memory or a global with another module: the instances "
                    "stay on the interpreter (new ones use compiled code)",
                    m->def->name);
            return false;
        }
        if (m->def->info.changes_tables) {
            exn_fmt(errbuf, errbuf_len,
                    "module %s changes its tables or drops segments: its instances stay on the "
                    "interpreter (new ones use compiled code)",
                    m->def->name);
            return false;
        }
    }
    typedef struct {
        exn_instance_t *inst;
        exn_link_t *links;
        size_t n_links;
    } moved_t;
    moved_t *to = exn_calloc(n ? n : 1, sizeof *to);
    if (!to) {
        exn_fmt(errbuf, errbuf_len, "out of memory");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        exn_module_t *m = &p->mods[i];
        if (!m->inst || m->inst->engine == &exn_engine_native)
            continue;
        ok = new_instance(p, m, &exn_engine_native, m->def->ncode, &to[i].inst, &to[i].links,
                          &to[i].n_links, errbuf, errbuf_len) == EXN_OK;
        if (ok && !(ok = copy_state(&m->def->info, m->inst, to[i].inst)))
            exn_fmt(errbuf, errbuf_len, "module %s: cannot grow the new memory", m->def->name);
    }
    for (size_t i = 0; i < n; i++) {
        exn_module_t *m = &p->mods[i];
        if (!to[i].inst)
            continue;
        if (!ok) {
            to[i].inst->engine->instance_free(to[i].inst);
            exn_free(to[i].links);
            continue;
        }
        m->inst->engine->instance_free(m->inst);
        exn_free(m->links);
        m->inst = to[i].inst;
        m->links = to[i].links;
        m->n_links = to[i].n_links;
        if (p->stack_limit)
            m->inst->engine->set_stack_limit(m->inst, p->stack_limit);
    }
    exn_free(to);
    return ok;
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
