/* instance.c: the modules of a plugin on wasm3 (instance.h).  Imports are linked as
 * exn_resolve_import (compiled.c) resolves them; the compiled plugin already checked that each
 * one can be provided with the right type.
 * May call: compiled.h, hostfn.h, kernel.h, wasi/wasi.h, plugin.h, vmem.h, os.h and the wasm3
 * internals needed to call a function by index (m3_env.h, m3_compile.h). */
#include "instance.h"

#include "hostfn.h"
#include "kernel/kernel.h"
#include "plugin.h"
#include "wasi/wasi.h"

#include "m3_compile.h"
#include "m3_env.h"

#define WASM_STACK_BYTES (1u << 20) /* wasm3 value stack per instance (untouched pages are free) */

struct exn_link {
    exn_module_t *target;
    uint32_t index; /* function index in the target module */
};

/* ---- calls into another module ------------------------------------------------------------ */

static IM3Function function_of(exn_module_t *m, uint32_t index, M3Result *out_error)
{
    IM3Function f = &m->module->functions[index];
    *out_error = f->compiled ? NULL : CompileFunction(f);
    return f;
}

M3Result exn_module_call(exn_module_t *m, uint32_t index, uint32_t argc, const void **args)
{
    M3Result r;
    IM3Function f = function_of(m, index, &r);
    return r ? r : m3_Call(f, argc, args);
}

/* Imports of a function exported by another module of the manifest land here: the arguments
 * are handed to that module's runtime and its results copied back.  Traps propagate. */
static const void *module_trampoline(IM3Runtime runtime, IM3ImportContext ctx, uint64_t *sp,
                                     void *mem)
{
    (void)mem;
    exn_link_t *link = ctx->userdata;
    exn_module_t *target = link->target;
    if (!target->module)
        return exn_plugin_kernel_trap(exn_plugin_of(runtime),
                                      "module %s is not instantiated yet (an import cycle used "
                                      "by a start function)",
                                      target->def->name);
    const exn_functype_t *t = exn_module_func_type(&target->def->info, link->index);
    M3Result r;
    IM3Function f = function_of(target, link->index, &r);
    if (r)
        return r;
    const void *args[EXN_MAX_LINK_VALUES];
    for (uint32_t i = 0; i < t->n_params; i++)
        args[i] = &sp[t->n_results + i];
    r = m3_Call(f, t->n_params, args);
    if (r)
        return r;
    const void *results[EXN_MAX_LINK_VALUES];
    for (uint32_t i = 0; i < t->n_results; i++) {
        sp[i] = 0;
        results[i] = &sp[i];
    }
    return t->n_results ? m3_GetResults(f, t->n_results, results) : NULL;
}

/* ---- instantiation ------------------------------------------------------------------------ */

/* wasm3 patch 0001: linear memory lives in a vmem region, committed as the guest grows it.
 * The region's limit was set from memory.max_pages before the module was loaded. */
static void *memory_resize(void *userdata, void *base, size_t old_bytes, size_t new_bytes,
                           size_t max_bytes)
{
    (void)base, (void)old_bytes;
    exn_vmem_t *vm = userdata;
    /* reserve no more than the module may ever use; on a 32-bit host wasm3's max_bytes wraps
     * for a maximum of 65536 pages (to less than new_bytes): no bound then */
    if (!vm->base && max_bytes >= new_bytes && max_bytes < vm->limit)
        vm->limit = max_bytes;
    return exn_vmem_resize(vm, new_bytes) == EXN_OK ? vm->base : NULL;
}

/* The bytes of linear memory every instance of the module writes when it is made: wasm3's
 * memory header and the active data segments at constant offsets (from the lowest to the
 * highest byte).  Kept resident when the region is cached (vmem.h): the next instance zeroes
 * them by memset and copies its segments, where it would take a page fault per page. */
static void keep_written_memory(exn_module_t *m)
{
    IM3Module parsed = m->def->parsed;
    size_t header = sizeof(M3MemoryHeader);
    exn_vmem_keep(&m->memory, 0, header);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t i = 0; i < parsed->numDataSegments; i++) {
        const M3DataSegment *seg = &parsed->dataSegments[i];
        const uint8_t *p = seg->initExpr, *end = seg->initExpr + seg->initExprSize;
        if (seg->passive || seg->memoryRegion != 0 || seg->size == 0 || p == end ||
            *p++ != 0x41 /* i32.const */)
            continue;
        /* the offset: a signed LEB128 i32, taken as an unsigned address */
        uint32_t offset = 0;
        unsigned shift = 0;
        uint8_t byte = 0x80;
        while (p < end && (byte & 0x80) && shift < 35) {
            byte = *p++;
            offset |= (uint32_t)(byte & 0x7f) << shift;
            shift += 7;
        }
        if (byte & 0x80)
            continue; /* (not reached: the module was validated) */
        if (lo > offset)
            lo = offset;
        if (hi < (uint64_t)offset + seg->size)
            hi = (uint64_t)offset + seg->size;
    }
    if (lo < hi && hi - lo <= EXN_VMEM_KEEP_MAX && header + hi <= SIZE_MAX)
        exn_vmem_keep(&m->memory, (size_t)(header + lo), (size_t)(header + hi));
}

static void memory_release(void *userdata, void *base)
{
    (void)base;
    exn_vmem_free(userdata);
}

static void module_free_instance(exn_module_t *m)
{
    if (m->runtime)
        m3_FreeRuntime(m->runtime); /* frees the loaded module and its memory */
    if (m->env)
        m3_FreeEnvironment(m->env);
    exn_vmem_free(&m->memory);
    exn_vmem_free(&m->stack);
    exn_free(m->links);
    m->env = NULL;
    m->runtime = NULL;
    m->module = NULL;
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

/* The compiled plugin resolved and type-checked every import once: link them by index (wasm3
 * patch 0051; function imports are the module's first functions, in import order). */
static M3Result link_imports(ExtismPlugin *p, exn_module_t *m)
{
    const exn_module_info_t *info = &m->def->info;
    m->links = exn_calloc(info->n_imports ? info->n_imports : 1, sizeof *m->links);
    if (!m->links)
        return m3Err_mallocFailed;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_target_t *t = &m->def->targets[i];
        M3Result r = NULL;
        switch (t->kind) {
        case EXN_IMPORT_HOST:
            r = m3_LinkRawFunctionAt(m->module, i, exn_hostfn_trampoline, t->fn);
            break;
        case EXN_IMPORT_KERNEL:
            r = m3_LinkRawFunctionAt(m->module, i, t->kernel->fn, NULL);
            break;
        case EXN_IMPORT_WASI:
            r = m3_LinkRawFunctionAt(m->module, i, t->wasi->fn, NULL);
            break;
        case EXN_IMPORT_MODULE: {
            exn_link_t *link = &m->links[m->n_links++];
            link->target = &p->mods[t->module];
            link->index = t->index;
            r = m3_LinkRawFunctionAt(m->module, i, module_trampoline, link);
            break;
        }
        case EXN_IMPORT_NONE: break; /* not reached: creation checked every import */
        }
        if (r)
            return r;
    }
    return NULL;
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

    /* the runtime's own environment only pools its code pages (the module's function types
     * are in the compiled plugin's): instances on other threads never touch it */
    m->env = m3_NewEnvironment();
    exn_vmem_init(&m->stack, WASM_STACK_BYTES);
    exn_vmem_keep(&m->stack, 0, 1); /* its first page: every call writes it */
    if (m->env && exn_vmem_resize(&m->stack, WASM_STACK_BYTES) == EXN_OK)
        m->runtime = m3_NewRuntimeWithStack(m->env, m->stack.base, WASM_STACK_BYTES, p);
    if (!m->runtime) {
        exn_fmt(errbuf, errbuf_len, "out of memory creating the wasm runtime");
        return EXN_ERR_NOMEM;
    }
    uint64_t pages = p->compiled->has_max_pages ? p->compiled->max_pages : 65536;
    uint64_t limit = pages * 65536 + sizeof(void *) * 8;
    exn_vmem_init(&m->memory, limit < SIZE_MAX ? (size_t)limit : SIZE_MAX); /* 32-bit hosts */
    keep_written_memory(m);
    M3MemoryAllocator allocator = {memory_resize, memory_release, &m->memory};
    m3_SetMemoryAllocator(m->runtime, &allocator);
    m3_SetInterruptFlag(m->runtime, &p->call_state); /* wasm3 patch 0004 */

    IM3Module module = NULL;
    M3Result r = m3_CloneModule(m->def->parsed, &module); /* wasm3 patch 0050 */
    if (r) {
        exn_fmt(errbuf, errbuf_len, "cannot instantiate module %s: %s", m->def->name, r);
        return r == m3Err_mallocFailed ? EXN_ERR_NOMEM : EXN_ERR_LOAD;
    }
    r = m3_LoadModule(m->runtime, module);
    if (r) {
        exn_fmt(errbuf, errbuf_len, "cannot instantiate module %s: %s", m->def->name, r);
        m3_FreeModule(module);
        return r == m3Err_mallocFailed ? EXN_ERR_NOMEM : EXN_ERR_LOAD;
    }
    m->module = module;
    r = link_imports(p, m);
    if (r) {
        exn_fmt(errbuf, errbuf_len, "cannot link the imports of module %s: %s", m->def->name,
                r);
        return r == m3Err_mallocFailed ? EXN_ERR_NOMEM : EXN_ERR_LINK;
    }
    if (info->has_start) {
        exn_instances_enter(p);
        r = m3_RunStart(module);
        if (r) {
            exn_fmt(errbuf, errbuf_len, "the start function of module %s failed: %s",
                    m->def->name, r);
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
        return; /* the runtimes have it already */
    p->stack_limit = limit;
    for (size_t i = 0; i < p->n_mods; i++) {
        if (p->mods[i].runtime)
            m3_SetNativeStackLimit(p->mods[i].runtime, limit);
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
static M3Result initialise(exn_module_t *m, const char **out_what)
{
    const exn_module_info_t *info = &m->def->info;
    const exn_export_t *hs = exn_module_export(info, "hs_init", EXN_EXTERN_FUNC);
    const exn_export_t *init = exn_module_export(info, "_initialize", EXN_EXTERN_FUNC);
    const exn_export_t *ctors = exn_module_export(info, "__wasm_call_ctors", EXN_EXTERN_FUNC);
    static const int32_t zero = 0;
    const void *zeros[2] = {&zero, &zero};
    M3Result r = NULL;
    m->initialized = true; /* exactly once per instance, even if it fails */
    if (hs) {
        if (has_type(info, hs, 2, 0)) {
            if (init && has_type(info, init, 0, 0)) {
                *out_what = "_initialize";
                r = exn_module_call(m, init->index, 0, NULL);
            }
            if (!r) {
                *out_what = "hs_init";
                r = exn_module_call(m, hs->index, 2, zeros);
            }
        }
    } else if (ctors) {
        *out_what = "__wasm_call_ctors";
        if (has_type(info, ctors, 0, 0))
            r = exn_module_call(m, ctors->index, 0, NULL);
    } else if (init) {
        *out_what = "_initialize";
        if (has_type(info, init, 0, 0))
            r = exn_module_call(m, init->index, 0, NULL);
    }
    return r;
}

M3Result exn_instances_initialise(ExtismPlugin *p, const char **out_what)
{
    if (p->initialized)
        return NULL;
    p->initialized = true; /* each module's own flag keeps its initialiser to one run */
    for (size_t i = 0; i < p->n_order; i++) {
        exn_module_t *m = &p->mods[p->order[i]];
        if (m->initialized)
            continue;
        M3Result r = initialise(m, out_what);
        if (r)
            return r;
    }
    return NULL;
}
