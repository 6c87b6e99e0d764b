/* engine/wasm3/engine_wasm3.c: the interpreter engine (exn_engine_wasm3, engine.h) on the
 * vendored wasm3 (third_party/wasm3, with our patches).  The only code of the core that includes
 * wasm3's headers.
 *
 * Code (exn_code_t): wasm3's parse of the module, made once (m3_ParseModule, patch 0067) and
 * never loaded: every instance clones it (patch 0050) and borrows what parsing made (bytes,
 * names, function types, segment descriptions).  The module is decoded a second time here,
 * after the validator: docs/RATIONALE.md, "Why wasm3 parses the module again", says why.
 *
 * Instance: a wasm3 environment (its code pages) and runtime of its own, with linear memory
 * and the value stack in vmem regions committed as the guest reaches them (patches 0001,
 * 0053), the interrupt word of the config (patch 0004), and each function import linked by
 * index (patch 0051) to a small trampoline that calls the exn_hostcall_fn with the instance
 * and the import's environment.  Functions are compiled lazily, at their first call.
 *
 * Slots: wasm3 keeps an i32/f32 in the first 4 bytes of a 64-bit slot, engine.h in the low
 * 32 bits of its value: the same bytes on a little-endian host.  Calls in convert (wasm3 patch
 * 0068: m3_CallSlots takes and gives values); imports out are converted here on a big-endian
 * host.  A v128 is 16 bytes in wasm byte order to wasm3, two slots (bytes 0-7, 8-15 as
 * little-endian numbers) to engine.h: m3_CallSlots converts calls (patch 0070), the globals
 * are converted here; wasm3 links no import whose type has a v128 (its host functions read
 * 8-byte words), so neither do we.
 *
 * Traps: wasm3's trap strings become engine.h's constants (trap_of); the functions a trap
 * unwound are recorded by wasm3 patch 0065, and with patch 0075 the wasm offset in each: of
 * the call a caller frame was in (an immediate of op_Call/op_CallIndirect, read only on the
 * trap path), of the trapping operation in the innermost frame (a table of the operations
 * that can trap, searched with the trapping _pc); UINT32_MAX where unknown (a trap at function
 * entry: stack overflow, interrupt, fuel).
 * May call: engine.h, validate/module_info.h, support/vmem.h, and wasm3 (wasm3.h, and the
 * internals m3_env.h, m3_compile.h to compile and call a function by index). */
#include "engine/engine.h"

#include "support/vmem.h"
#include "validate/wasm_read.h"

#include "m3_compile.h"
#include "m3_env.h"
#include "wasm3.h"

#define WASM_STACK_BYTES (1u << 20) /* wasm3 value stack per instance (untouched pages are free) */

typedef struct {
    const exn_module_info_t *info; /* the runtime's, alive as long as the code */
    IM3Environment env;            /* the parse's function types */
    IM3Module parsed;              /* parsed once, never loaded: instances clone it */
    /* the bytes of linear memory every instance writes when it is made (its active data
     * segments at constant offsets, from the lowest byte to the highest; keep_lo == keep_hi:
     * none), offsets from the start of the data */
    uint64_t keep_lo, keep_hi;
} w3_code_t;

/* A function import as wasm3 calls it: the exn_hostcall_fn and what it is called with. */
typedef struct {
    exn_caller_t caller;
    exn_hostcall_fn fn;
} w3_import_t;

typedef struct {
    exn_instance_t base; /* engine, code, userdata */
    IM3Environment env;  /* this instance's code pages */
    IM3Runtime runtime;
    IM3Module module;      /* the clone, owned by the runtime once loaded */
    exn_vmem_t memory;     /* the linear memory (wasm3 patch 0001) */
    exn_vmem_t stack;      /* wasm3's value stack (patch 0053) */
    char error[256];       /* why a function could not be compiled (returned by call) */
    w3_import_t imports[]; /* one per function import (in the same allocation) */
} w3_instance_t;

static w3_code_t *code_of(exn_code_t *c)
{
    return (w3_code_t *)(void *)c;
}

static w3_instance_t *instance_of(exn_instance_t *inst)
{
    return (w3_instance_t *)(void *)inst;
}

/* ---- traps ----------------------------------------------------------------------------- */

/* wasm3's trap strings as engine.h's; import sentinels and engine failures unchanged. */
static exn_trap_t trap_of(M3Result r)
{
    if (EXN_LIKELY(!r))
        return NULL;
    if (r == m3Err_trapOutOfBoundsMemoryAccess)
        return exn_trap_memory_oob;
    if (r == m3Err_trapUnreachable)
        return exn_trap_unreachable;
    if (r == m3Err_trapInterrupted)
        return exn_trap_interrupted;
    if (r == m3Err_trapFuel)
        return exn_trap_fuel;
    if (r == m3Err_trapStackOverflow)
        return exn_trap_stack_overflow;
    if (r == m3Err_trapDivisionByZero)
        return exn_trap_div_zero;
    if (r == m3Err_trapIntegerOverflow)
        return exn_trap_int_overflow;
    if (r == m3Err_trapIntegerConversion)
        return exn_trap_conversion;
    if (r == m3Err_trapIndirectCallTypeMismatch)
        return exn_trap_indirect_type;
    if (r == m3Err_trapTableIndexOutOfRange)
        return exn_trap_undefined_element;
    if (r == m3Err_trapTableElementIsNull)
        return exn_trap_null_element;
    if (r == m3Err_trapOutOfBoundsTableAccess)
        return exn_trap_table_oob;
    return r;
}

/* ---- slots ----------------------------------------------------------------------------------- */

static bool is_32bit(u8 m3type)
{
    return m3type == c_m3Type_i32 || m3type == c_m3Type_f32;
}

#ifdef EXN_BIG_ENDIAN
/* wasm3's 32-bit value in the first 4 bytes of a slot <-> engine.h's in the low 32 bits */
static void slots_from_wasm3(uint64_t *slots, const u8 *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (is_32bit(types[i])) {
            uint32_t v;
            memcpy(&v, &slots[i], 4);
            slots[i] = v;
        }
    }
}

static void slots_to_wasm3(uint64_t *slots, const u8 *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (is_32bit(types[i])) {
            uint32_t v = (uint32_t)slots[i];
            memcpy(&slots[i], &v, 4);
        }
    }
}
#endif

/* Every function import lands here: results first in `sp`, then the parameters. */
static const void *import_trampoline(IM3Runtime runtime, IM3ImportContext ctx, uint64_t *sp,
                                     void *mem)
{
    (void)runtime, (void)mem;
    const w3_import_t *im = ctx->userdata;
#ifdef EXN_BIG_ENDIAN
    IM3FuncType t = ctx->function->funcType;
    slots_from_wasm3(sp + t->numRets, t->types + t->numRets, t->numArgs);
    exn_trap_t trap = im->fn(&im->caller, sp);
    slots_to_wasm3(sp, t->types, t->numRets);
    return trap;
#else
    return im->fn(&im->caller, sp);
#endif
}

/* ---- code ------------------------------------------------------------------------------------ */

static void w3_code_free(exn_code_t *c)
{
    w3_code_t *code = code_of(c);
    if (!code)
        return;
    m3_FreeModule(code->parsed); /* (no instance is left to borrow from it) */
    if (code->env)
        m3_FreeEnvironment(code->env);
    exn_free(code);
}

/* The range of linear memory the active data segments at constant offsets write. */
static void find_written_memory(w3_code_t *code, const uint8_t *wasm)
{
    const exn_module_info_t *info = code->info;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t i = 0; i < info->n_datas; i++) {
        const exn_data_t *d = &info->datas[i];
        if (d->mode != EXN_SEGMENT_ACTIVE || d->memory != 0 || d->bytes.len == 0)
            continue;
        /* only `i32.const c end`: global.get (also inside an extended constant expression)
         * depends on the instance */
        exn_wread_t r =
            exn_wread_init(wasm + d->offset.offset, wasm + d->offset.offset + d->offset.len);
        uint8_t op = 0, end = 0;
        int64_t k;
        if (!exn_wread_u8(&r, &op) || op != 0x41 || !exn_wread_sleb(&r, 32, &k) ||
            !exn_wread_u8(&r, &end) || end != 0x0B || r.p != r.end)
            continue;
        uint64_t offset = (uint32_t)k; /* an unsigned address */
        if (lo > offset)
            lo = offset;
        if (hi < offset + d->bytes.len)
            hi = offset + d->bytes.len;
    }
    code->keep_lo = lo < hi ? lo : 0;
    code->keep_hi = lo < hi ? hi : 0;
}

/* ---- limits -------------------------------------------------------------------------------
 * What wasm3 cannot take, said before it tries, naming the limit (a valid module past them is
 * EXN_ERR_UNSUPPORTED, not malformed).  Its counts of things (m3_core.h, "MaxSane", raised to
 * the JS API's limits by patch 0069 where that costs memory only in proportion to the module)
 * and, per function, its compiler's stack: every parameter and local is an entry of it and
 * takes one or two 32-bit slots. */

static bool over(char *errbuf, size_t errbuf_len, uint64_t count, uint64_t max, const char *what)
{
    if (count <= max)
        return false;
    exn_fmt(errbuf, errbuf_len, "the module has %llu %s: the interpreter supports at most %llu",
            (unsigned long long)count, what, (unsigned long long)max);
    return true;
}

static bool name_too_long(const char *name, char *errbuf, size_t errbuf_len)
{
    size_t n = strlen(name);
    if (n <= d_m3MaxSaneUtf8Length)
        return false;
    exn_fmt(errbuf, errbuf_len,
            "a name of %zu bytes (\"%.40s...\"): the interpreter supports "
            "names of at most %d bytes",
            n, name, d_m3MaxSaneUtf8Length);
    return true;
}

static uint32_t slots_of(uint8_t type)
{
    return type == EXN_WASM_I32 || type == EXN_WASM_F32 ? 1 : type == EXN_WASM_V128 ? 4 : 2;
}

static bool check_limits(const exn_module_info_t *info, const uint8_t *wasm, char *errbuf,
                         size_t errbuf_len)
{
    if (over(errbuf, errbuf_len, info->n_types, d_m3MaxSaneTypesCount, "types") ||
        over(errbuf, errbuf_len, info->n_funcs, d_m3MaxSaneFunctionsCount, "functions") ||
        over(errbuf, errbuf_len, info->n_imports, d_m3MaxSaneImportsCount, "imports") ||
        over(errbuf, errbuf_len, info->n_exports, d_m3MaxSaneExportsCount, "exports") ||
        over(errbuf, errbuf_len, info->n_globals, d_m3MaxSaneGlobalsCount, "globals") ||
        over(errbuf, errbuf_len, info->n_tables, d_m3MaxSaneTablesCount - 1, "tables") ||
        over(errbuf, errbuf_len, info->n_elems, d_m3MaxSaneElementSegments, "element segments") ||
        over(errbuf, errbuf_len, info->n_datas, d_m3MaxSaneDataSegments, "data segments"))
        return false;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        if (name_too_long(info->imports[i].module, errbuf, errbuf_len) ||
            name_too_long(info->imports[i].name, errbuf, errbuf_len))
            return false;
    }
    for (uint32_t i = 0; i < info->n_exports; i++) {
        if (name_too_long(info->exports[i].name, errbuf, errbuf_len))
            return false;
    }
    /* each function's parameters and locals (the body starts with the local declarations) */
    for (uint32_t i = info->n_func_imports; i < info->n_funcs; i++) {
        const exn_functype_t *t = &info->types[info->func_type[i]];
        const exn_range_t *b = &info->bodies[i - info->n_func_imports];
        exn_wread_t r = exn_wread_init(wasm + b->offset, wasm + b->offset + b->len);
        uint64_t entries = t->n_params, slots = 0;
        for (uint32_t k = 0; k < t->n_params; k++)
            slots += slots_of(t->types[k]);
        uint32_t groups, n;
        uint8_t type;
        if (!exn_wread_u32(&r, &groups))
            continue; /* (not reached: validated) */
        for (uint32_t g = 0; g < groups && exn_wread_u32(&r, &n) && exn_wread_u8(&r, &type); g++) {
            entries += n;
            slots += (uint64_t)n * slots_of(type);
        }
        if (entries > d_m3MaxFunctionStackHeight || slots >= d_m3MaxFunctionSlots) {
            exn_fmt(errbuf, errbuf_len,
                    "function %u has %llu parameters and locals (%llu 32-bit slots): the "
                    "interpreter supports at most %d, in fewer than %d slots, per function",
                    i, (unsigned long long)entries, (unsigned long long)slots,
                    d_m3MaxFunctionStackHeight, d_m3MaxFunctionSlots);
            return false;
        }
    }
    return true;
}

static exn_status_t w3_compile(const exn_module_info_t *info, const uint8_t *wasm, size_t len,
                               exn_code_t **out, char *errbuf, size_t errbuf_len)
{
    *out = NULL;
    if (len > UINT32_MAX) {
        exn_fmt(errbuf, errbuf_len, "the interpreter cannot run a module larger than 4 GiB");
        return EXN_ERR_UNSUPPORTED;
    }
    if (!check_limits(info, wasm, errbuf, errbuf_len))
        return EXN_ERR_UNSUPPORTED;
    w3_code_t *code = exn_calloc(1, sizeof *code);
    if (!code || !(code->env = m3_NewEnvironment())) {
        exn_free(code);
        exn_fmt(errbuf, errbuf_len, "out of memory compiling the module");
        return EXN_ERR_NOMEM;
    }
    code->info = info;
    M3Result r = m3_ParseModule(code->env, &code->parsed, wasm, (uint32_t)len);
    if (r) {
        code->parsed = NULL; /* (m3_ParseModule freed its partial module) */
        w3_code_free((exn_code_t *)(void *)code);
        if (r == m3Err_mallocFailed) {
            exn_fmt(errbuf, errbuf_len, "out of memory compiling the module");
            return EXN_ERR_NOMEM;
        }
        exn_fmt(errbuf, errbuf_len, "invalid wasm module: %s", r);
        return EXN_ERR_LOAD;
    }
    find_written_memory(code, wasm);
    *out = (exn_code_t *)(void *)code;
    return EXN_OK;
}

/* ---- instances ------------------------------------------------------------------------------- */

/* wasm3 patch 0001: linear memory lives in a vmem region, committed as the guest grows it.
 * The region's limit was set from max_memory_bytes before the module was loaded. */
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

static void memory_release(void *userdata, void *base)
{
    (void)base;
    exn_vmem_free(userdata);
}

static void w3_instance_free(exn_instance_t *i)
{
    w3_instance_t *inst = instance_of(i);
    if (!inst)
        return;
    if (inst->runtime)
        m3_FreeRuntime(inst->runtime); /* frees the loaded module and its memory */
    if (inst->env)
        m3_FreeEnvironment(inst->env);
    exn_vmem_free(&inst->memory);
    exn_vmem_free(&inst->stack);
    exn_free(inst);
}

static exn_status_t fail_m3(M3Result r, const char *what, char *errbuf, size_t errbuf_len)
{
    exn_fmt(errbuf, errbuf_len, "%s: %s", what, r);
    return r == m3Err_mallocFailed ? EXN_ERR_NOMEM : EXN_ERR_LOAD;
}

/* The memory, globals and tables `module` imports from other instances (engine.h: `from`),
 * linked to theirs (wasm3 patch 0074). */
static exn_status_t link_shared(w3_instance_t *inst, const exn_module_info_t *info,
                                const exn_instance_config_t *config, IM3Module module, char *errbuf,
                                size_t errbuf_len)
{
    uint32_t g = 0, t = 0;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_t *im = &info->imports[i];
        const exn_import_value_t *v = &config->imports[i];
        if (im->kind == EXN_EXTERN_FUNC)
            continue;
        uint32_t global = g, table = t;
        if (im->kind == EXN_EXTERN_GLOBAL)
            g++;
        if (im->kind == EXN_EXTERN_TABLE)
            t++;
        w3_instance_t *from = v->from ? instance_of(v->from) : NULL;
        if (v->kind != im->kind || !from || from->base.engine != &exn_engine_wasm3) {
            exn_fmt(errbuf, errbuf_len,
                    "import %u (%s::%s): the interpreter links functions, and memories, "
                    "globals and tables of its other instances, only",
                    i, im->module, im->name);
            return EXN_ERR_UNSUPPORTED;
        }
        M3Result r;
        if (im->kind == EXN_EXTERN_MEMORY) {
            r = v->index == 0 ? m3_ShareMemory(inst->runtime, from->runtime) : "no such memory";
        } else if (im->kind == EXN_EXTERN_TABLE) {
            IM3Module theirs = from->module;
            r = table < module->numTables && v->index < theirs->numTables
                    ? m3_LinkTable(&module->tables[table], &theirs->tables[v->index])
                    : "no such table";
        } else {
            IM3Module theirs = from->module;
            r = global < module->numGlobals && v->index < theirs->numGlobals
                    ? m3_LinkGlobal(&module->globals[global], &theirs->globals[v->index])
                    : m3Err_globaIndexOutOfBounds;
        }
        if (r) {
            exn_fmt(errbuf, errbuf_len, "cannot link import %u (%s::%s): %s", i, im->module,
                    im->name, r);
            return EXN_ERR_LINK;
        }
    }
    return EXN_OK;
}

static exn_status_t w3_instantiate(exn_code_t *c, const exn_instance_config_t *config,
                                   exn_instance_t **out, char *errbuf, size_t errbuf_len)
{
    w3_code_t *code = code_of(c);
    const exn_module_info_t *info = code->info;
    exn_status_t st = EXN_OK;
    *out = NULL;
    if (config->n_imports != info->n_imports) {
        exn_fmt(errbuf, errbuf_len, "%u imports given, the module has %u", config->n_imports,
                info->n_imports);
        return EXN_ERR_MISUSE;
    }
    w3_instance_t *inst =
        exn_calloc(1, sizeof *inst + (size_t)info->n_func_imports * sizeof *inst->imports);
    if (!inst)
        goto nomem;
    inst->base.engine = &exn_engine_wasm3;
    inst->base.code = c;
    inst->base.userdata = config->userdata;

    /* the instance's own environment only pools its code pages (the module's function types
     * are the code's): instances on other threads never touch it */
    inst->env = m3_NewEnvironment();
    exn_vmem_init(&inst->stack, WASM_STACK_BYTES);
    exn_vmem_keep(&inst->stack, 0, 1); /* its first page: every call writes it */
    if (inst->env && exn_vmem_resize(&inst->stack, WASM_STACK_BYTES) == EXN_OK)
        inst->runtime = m3_NewRuntimeWithStack(inst->env, inst->stack.base, WASM_STACK_BYTES, inst);
    if (!inst->runtime)
        goto nomem;
    uint64_t limit = config->max_memory_bytes + sizeof(void *) * 8; /* + wasm3's header */
    exn_vmem_init(&inst->memory, limit < SIZE_MAX ? (size_t)limit : SIZE_MAX); /* 32-bit hosts */
    /* the pages every instance writes stay resident when the region is cached (vmem.h): the
     * next instance zeroes them by memset and copies its segments, where it would take a page
     * fault per page */
    size_t header = sizeof(M3MemoryHeader);
    exn_vmem_keep(&inst->memory, 0, header);
    if (code->keep_hi - code->keep_lo <= EXN_VMEM_KEEP_MAX && header + code->keep_hi <= SIZE_MAX)
        exn_vmem_keep(&inst->memory, (size_t)(header + code->keep_lo),
                      (size_t)(header + code->keep_hi));
    M3MemoryAllocator allocator = {memory_resize, memory_release, &inst->memory};
    m3_SetMemoryAllocator(inst->runtime, &allocator);
    m3_SetInterruptFlag(inst->runtime, (volatile uint32_t *)config->interrupt);
    /* before any function is compiled: the instance's code counts fuel (patch 0073) */
    m3_SetFuel(inst->runtime, config->fuel);

    IM3Module module = NULL;
    M3Result r = m3_CloneModule(code->parsed, &module); /* wasm3 patch 0050 */
    if (r) {
        st = fail_m3(r, "cannot instantiate the module", errbuf, errbuf_len);
        goto fail;
    }
    /* memories and globals of other instances: shared before the module is loaded (its data
     * segments go into the shared memory, its globals' initialisers read the imported values) */
    if ((st = link_shared(inst, info, config, module, errbuf, errbuf_len)) != EXN_OK) {
        m3_FreeModule(module);
        goto fail;
    }
    r = m3_LoadModule(inst->runtime, module); /* memory, tables, globals, segments */
    if (r) {
        m3_FreeModule(module);
        st = fail_m3(r, "cannot instantiate the module", errbuf, errbuf_len);
        goto fail;
    }
    inst->module = module;
    /* function imports are the module's first functions, in import order (patch 0051) */
    uint32_t f = 0;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const exn_import_value_t *v = &config->imports[i];
        if (info->imports[i].kind != EXN_EXTERN_FUNC)
            continue; /* (linked by link_shared) */
        if (v->kind != EXN_EXTERN_FUNC || !v->fn) {
            exn_fmt(errbuf, errbuf_len, "import %u (%s::%s): not given a function", i,
                    info->imports[i].module, info->imports[i].name);
            st = EXN_ERR_MISUSE;
            goto fail;
        }
        w3_import_t *im = &inst->imports[f];
        im->caller.instance = &inst->base;
        im->caller.env = v->env;
        im->fn = v->fn;
        r = m3_LinkRawFunctionAt(module, f++, import_trampoline, im);
        if (r) {
            st = fail_m3(r, "cannot link the imports", errbuf, errbuf_len);
            goto fail;
        }
    }
    *out = &inst->base;
    return EXN_OK;

nomem:
    exn_fmt(errbuf, errbuf_len, "out of memory creating the wasm runtime");
    st = EXN_ERR_NOMEM;
fail:
    w3_instance_free(inst ? &inst->base : NULL);
    return st;
}

/* ---- running --------------------------------------------------------------------------------- */

/* Why a function could not be compiled, as the engine failure a call returns (the text is the
 * instance's, valid until its next call). */
static exn_trap_t compile_error(w3_instance_t *inst, M3Result r, const char *what, uint32_t func)
{
    if (r == m3Err_functionStackOverflow)
        exn_fmt(inst->error, sizeof inst->error,
                "cannot compile %s %u: the interpreter keeps at most %d parameters, locals and "
                "operands per function",
                what, func, d_m3MaxFunctionStackHeight);
    else
        exn_fmt(inst->error, sizeof inst->error, "cannot compile %s %u: %s", what, func, r);
    return inst->error;
}

#if defined(__GNUC__) || defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* A call returned r: a wasm trap or an import's (as engine.h's), or an engine failure. */
static NOINLINE exn_trap_t call_failed(w3_instance_t *inst, M3Result r, uint32_t func)
{
    exn_trap_t trap = trap_of(r);
    if (trap != r || exn_trap_is_import(trap) || exn_trap_is_wasm(trap))
        return trap; /* (an import may return a wasm trap: exn_trap_interrupted) */
    /* neither: a function called on the way failed to compile (lazily, at its first call); the
     * innermost frame called it */
    IM3Function const *fs;
    uint32_t n = m3_GetTrapFrames(inst->runtime, &fs);
    return compile_error(inst, r, "a function called by function",
                         n ? (uint32_t)(fs[0] - fs[0]->module->functions) : func);
}

static NOINLINE exn_trap_t compile_first(w3_instance_t *inst, IM3Function f, uint32_t func)
{
    M3Result r = CompileFunction(f); /* lazily, at the first call */
    if (!r)
        return NULL;
    inst->runtime->numTrapFrames = 0; /* (nothing ran) */
    return compile_error(inst, r, "function", func);
}

static exn_trap_t w3_call(exn_instance_t *i, uint32_t func, uint64_t *slots)
{
    w3_instance_t *inst = instance_of(i);
    IM3Function f = &inst->module->functions[func];
    exn_trap_t trap;
    if (EXN_UNLIKELY(!f->compiled) && (trap = compile_first(inst, f, func)) != NULL)
        return trap;
    /* arguments and results as engine.h's slots (wasm3 patch 0068) */
    M3Result r = m3_CallSlots(f, slots);
    return EXN_LIKELY(!r) ? NULL : call_failed(inst, r, func);
}

/* The memory's state: the owner's when it is shared (patch 0074: a sharing runtime's copy is
 * brought up to date when it runs). */
static M3Memory *memory_of(w3_instance_t *inst)
{
    IM3Runtime owner = inst->runtime->memoryOwner;
    return owner ? &owner->memory : &inst->runtime->memory;
}

static uint8_t *w3_memory(exn_instance_t *i, uint64_t *out_size)
{
    w3_instance_t *inst = instance_of(i);
    M3MemoryHeader *mem = memory_of(inst)->mallocated;
    /* (not m3_GetMemory: its size is 32 bits, and a memory may have 4 GiB) */
    *out_size = mem ? mem->length : 0;
    return mem && mem->length ? (uint8_t *)(mem + 1) : NULL; /* (the data follows the header) */
}

static uint32_t w3_memory_grow(exn_instance_t *i, uint32_t delta)
{
    w3_instance_t *inst = instance_of(i);
    M3Memory *mem = memory_of(inst);
    uint32_t old = mem->numPages;
    if (delta > mem->maxPages || old > mem->maxPages - delta)
        return UINT32_MAX;
    if (delta && ResizeMemory(inst->runtime, old + delta) != m3Err_none)
        return UINT32_MAX;
    return old;
}

/* a v128's bytes (wasm byte order) <-> two slots, bytes 0-7 first, each little-endian */
static void v128_to_slots(uint64_t *slots, const uint8_t *bytes)
{
    for (int h = 0; h < 2; h++) {
        uint64_t v = 0;
        for (int k = 7; k >= 0; k--)
            v = (v << 8) | bytes[8 * h + k];
        slots[h] = v;
    }
}

static void v128_from_slots(uint8_t *bytes, const uint64_t *slots)
{
    for (int h = 0; h < 2; h++) {
        uint64_t v = slots[h];
        for (int k = 0; k < 8; k++, v >>= 8)
            bytes[8 * h + k] = (uint8_t)v;
    }
}

static void w3_global_get(exn_instance_t *i, uint32_t index, uint64_t *slots)
{
    M3Global *g = &instance_of(i)->module->globals[index];
    if (g->linked) /* another instance's (patch 0074) */
        g = g->linked;
    if (g->type == c_m3Type_v128) {
        v128_to_slots(slots, g->v128Value);
    } else if (is_32bit(g->type)) {
        uint32_t v;
        memcpy(&v, &g->intValue, 4);
        slots[0] = v;
    } else {
        memcpy(&slots[0], &g->intValue, 8);
    }
}

static void w3_global_set(exn_instance_t *i, uint32_t index, const uint64_t *slots)
{
    M3Global *g = &instance_of(i)->module->globals[index];
    if (g->linked)
        g = g->linked;
    if (g->type == c_m3Type_v128) {
        v128_from_slots(g->v128Value, slots);
    } else if (is_32bit(g->type)) {
        uint32_t v = (uint32_t)slots[0];
        memcpy(&g->intValue, &v, 4);
    } else {
        memcpy(&g->intValue, &slots[0], 8);
    }
}

static void w3_set_stack_limit(exn_instance_t *i, uintptr_t limit)
{
    m3_SetNativeStackLimit(instance_of(i)->runtime, limit);
}

static size_t w3_backtrace(exn_instance_t *i, exn_frame_t *frames, size_t max)
{
    IM3Function const *fs;
    const uint32_t *offsets;
    uint32_t n = m3_GetTrapFrames(instance_of(i)->runtime, &fs);
    if (m3_GetTrapOffsets(instance_of(i)->runtime, &offsets) != n)
        offsets = NULL;
    size_t k = 0;
    for (; k < n && k < max; k++) {
        IM3Module m = fs[k]->module;
        const w3_instance_t *owner = m3_GetUserData(m->runtime);
        frames[k].func = (uint32_t)(fs[k] - m->functions);
        frames[k].offset = offsets ? offsets[k] : UINT32_MAX; /* (UINT32_MAX: unknown) */
        frames[k].module = owner ? owner->base.code : NULL;
    }
    return k;
}

const exn_engine_t exn_engine_wasm3 = {
    "interp",  w3_compile,     w3_code_free,  w3_instantiate, w3_instance_free,   w3_call,
    w3_memory, w3_memory_grow, w3_global_get, w3_global_set,  w3_set_stack_limit, w3_backtrace,
};
