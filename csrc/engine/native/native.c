/* engine/native/native.c: the compiled tier - engine.h's interface over machine code.
 *
 * compile: the module's key (cache.h) -> a verified cached library, or translate (translate.c),
 * build with the C compiler (cc.c, files compiled in parallel), store, load.  The library holds
 * only code (abi.h); the code object adds the canonical type ids and which function has a
 * funcref slot, and the image of memory 0 (make_image).  instantiate: a context (abi.h's
 * exn_nctx_t) with the instance's memory (the image mapped copy-on-write, or the segments
 * copied), globals, tables, funcrefs, imports and the engine's helpers.  call: a jump buffer,
 * then the entry trampoline of the function's type.
 *
 * Traps: the generated code calls ctx->trap (or a helper traps); both longjmp to the innermost
 * engine call of this thread (`current`), which returns the trap.  Calls nest - a host function
 * may call another instance - and each restores the one it interrupted.  A trap never crosses
 * host frames: a trap in a nested call returns to its host function, which returns it as its
 * own result, and the outer import stub traps in turn (ctx->raise).  Before the jump, the trap's
 * frames are read from the chain of frame records the generated code keeps (collect_frames).
 *
 * Bounds: on 64-bit POSIX hosts each memory reserves 8 GiB + a page (every u32 address + u32
 * offset lands inside) with only its size accessible; an access past it faults, and the fault
 * handler (sys.h) longjmps with the out-of-bounds trap when the fault is inside the memory of the
 * instance running on this thread and no host function is running (otherwise the fault goes to
 * the handler before ours).  Elsewhere, or with EXTISM_NATIVE_BOUNDS=checks, the generated code
 * compares every access with the size.
 *
 * Stack: the generated code compares its frame address with ctx->stack_limit at the entry of
 * every function that calls (leaf functions use a bounded frame); interrupt: *ctx->intr bit 0 at
 * those entries and at every loop header.
 *
 * May call: engine.h, abi.h, native.h, translate.h, cc.h, cache.h, lines.h, sys.h, support/ (vmem,
 * codec, os), validate/wasm_read.h (data segment offsets). */
#include <setjmp.h>

/* Jumps out of a trap: sigsetjmp without saving the signal mask (a system call per guest call
 * otherwise); Windows, where the tier does not run yet (sys_win32.c), has plain setjmp. */
#if defined(_WIN32)
typedef jmp_buf ntrap_jmp_t;
#define NTRAP_SETJMP(b) setjmp(b)
#define NTRAP_LONGJMP(b) longjmp(b, 1)
#else
typedef sigjmp_buf ntrap_jmp_t;
#define NTRAP_SETJMP(b) sigsetjmp(b, 0)
#define NTRAP_LONGJMP(b) siglongjmp(b, 1)
#endif
#include <stddef.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "engine/native/abi.h"
#include "engine/native/cache.h"
#include "engine/native/cc.h"
#include "engine/native/lines.h"
#include "engine/native/native.h"
#include "engine/native/sys.h"
#include "engine/native/translate.h"
#include "support/codec.h"
#include "support/os.h"
#include "support/vmem.h"
#include "validate/wasm_read.h"

#ifndef EXN_VERSION
#define EXN_VERSION "dev"
#endif

#define WASM_PAGE ((uint64_t)65536)
#define MAX_PAGES ((uint64_t)65536)
/* u32 + u32 + the widest access; guard pages only on 64-bit hosts (guard_pages_default) */
#define GUARD_RESERVE ((size_t)(((uint64_t)1 << 33) + 65536))
#define MAX_TABLE ((uint32_t)10000000) /* wasm3's limit on table size */

static const char trap_bad_func[] = "[native] no such function";

/* the generated code's view of an import (translate.c: IM): a function and two pointers */
_Static_assert(offsetof(exn_nimport_t, caller) == sizeof(void *) &&
                   offsetof(exn_nimport_t, caller.env) == 2 * sizeof(void *) &&
                   sizeof(exn_nimport_t) == 3 * sizeof(void *),
               "exn_nimport_t is not laid out as translate.c's IM");

/* ---- code ------------------------------------------------------------------------------------ */

typedef struct {
    uintptr_t start;
    uint32_t func;
} fstart_t;

/* A library's line table (lines.h): its code addresses -> wasm offsets. */
typedef struct {
    exn_nline_t *t;
    uint32_t n;
} nlines_t;

static nlines_t no_lines; /* (none could be made or loaded: offsets unknown) */

typedef struct {
    const exn_module_info_t *info; /* borrowed: the runtime keeps it as long as the code */
    const uint8_t *wasm;
    size_t len;
    void *lib;
    const exn_ndesc_t *desc;
    uint32_t *canon;     /* canonical id per type index */
    uint32_t *ref_index; /* per function: its slot in ctx->refs, or UINT32_MAX */
    bool bounds;
    bool fuel;         /* translated with fuel (EXN_NATIVE_FUEL) */
    fstart_t *starts;  /* the functions by address, made on the first fault (func_at) */
    intptr_t image_fd; /* memory 0 after its active data segments, mapped copy-on-write into each
                        * instance (-1: none; segments are copied) */
    size_t image_len;
    nlines_t *lines; /* made by the build, or loaded from the cache's `<key>.lines` on the first
                       * trap; &no_lines if none */
    char *cache_dir; /* where `<key>.lines` is (NULL: not cached) */
    char key[65];
    uintptr_t base; /* the library's load base (0: unknown) */
} ncode_t;

/* A linear memory: its own, or shared by the instances that import it (issue 17).  Every
 * instance using it is in `users`, and memory.grow by any of them updates the base and size in
 * each one's context (the generated code reloads them from there after every call). */
typedef struct {
    exn_vmem_t vm;
    uint64_t max_pages;
    bool guarded; /* reserved with guard pages (code without bounds checks may use it) */
    uint32_t n_users, cap_users;
    exn_nctx_t **users;
} nmem_t;

typedef struct {
    exn_instance_t base;
    ncode_t *code;
    nmem_t *mem;        /* NULL: no memory */
    int64_t no_fuel[2]; /* ctx->fuel without a budget */
    exn_ntable_t *tables;
    exn_nfunc_t *refs;
    uint8_t *data_dropped, *elem_dropped;
    exn_nimport_t *imports;
    exn_nslot_t **gimp;                 /* each imported global's storage (ctx->gimp) */
    exn_ntable_t **timp;                /* each imported table (ctx->timp) */
    exn_frame_t frames[EXN_MAX_FRAMES]; /* of the last trap, innermost first */
    size_t n_frames;
    exn_nctx_t *ctx; /* allocated with the instance, after it */
} ninst_t;

static ninst_t *inst_of(exn_nctx_t *c)
{
    return *((ninst_t **)c - 1);
}

/* Table t of the instance of context c: its own, or the one it imports. */
static exn_ntable_t *table_of(exn_nctx_t *c, uint32_t t)
{
    return t < inst_of(c)->code->info->n_table_imports ? c->timp[t] : &c->tables[t];
}

/* The storage of global `index` of instance I: its slot, or the one it imports. */
static exn_nslot_t *global_slot(ninst_t *I, uint32_t index)
{
    if (index < I->code->info->n_global_imports)
        return I->gimp[index];
    return &I->ctx->globals[exn_nglobal_slot(I->code->info, index)];
}

/* ---- canonical function types: equal signatures, equal ids (process-wide) -------------------- */

typedef struct {
    uint32_t np, nr;
    uint8_t *types;
} sig_t;

static sig_t *sigs;
static uint32_t n_sigs, cap_sigs;

static bool canon_ids(const exn_module_info_t *info, uint32_t *out)
{
    bool ok = true;
    exn_os_global_lock();
    for (uint32_t t = 0; t < info->n_types && ok; t++) {
        const exn_functype_t *ft = &info->types[t];
        uint32_t n = ft->n_params + ft->n_results, id = UINT32_MAX;
        for (uint32_t i = 0; i < n_sigs; i++) {
            if (sigs[i].np == ft->n_params && sigs[i].nr == ft->n_results &&
                (n == 0 || memcmp(sigs[i].types, ft->types, n) == 0)) {
                id = i;
                break;
            }
        }
        if (id == UINT32_MAX) {
            if (n_sigs == cap_sigs) {
                uint32_t cap = cap_sigs ? cap_sigs * 2 : 64;
                sig_t *s = exn_realloc(sigs, cap * sizeof *s);
                if (!s) {
                    ok = false;
                    break;
                }
                sigs = s;
                cap_sigs = cap;
            }
            uint8_t *copy = exn_malloc(n ? n : 1);
            if (!copy) {
                ok = false;
                break;
            }
            if (n)
                memcpy(copy, ft->types, n);
            sigs[n_sigs].np = ft->n_params;
            sigs[n_sigs].nr = ft->n_results;
            sigs[n_sigs].types = copy;
            id = n_sigs++;
        }
        out[t] = id;
    }
    exn_os_global_unlock();
    return ok;
}

/* ---- traps and calls ------------------------------------------------------------------------- */

typedef struct ncall {
    ntrap_jmp_t jb;
    struct ncall *prev;
    ninst_t *inst;
    exn_trap_t trap;
    uint32_t func;                 /* the trapping function when known (TR), else UINT32_MAX */
    uint32_t n_raw;                /* code addresses of the trap's frames, innermost first */
    uintptr_t raw[EXN_MAX_FRAMES]; /* (mapped to functions after the jump: func_at) */
} ncall_t;

static EXN_THREAD_LOCAL ncall_t *current;

/* The trap's frames, as code addresses: `pc` (the faulting instruction; 0 if none), then the
 * return addresses up the chain of frame records from `fp` (the generated code keeps frame
 * pointers: [fp] is the caller's record, [fp + 1 word] the return address; the same on x86-64 and
 * AArch64).  Runs in the trap helper or the signal handler, while the frames still exist: it only
 * reads stack words between here and the engine call's own frame (`nc`, above every guest
 * frame), each record above the last. */
static void collect_frames(ncall_t *nc, uintptr_t pc, uintptr_t fp)
{
    volatile char here = 0;
    uintptr_t lo = (uintptr_t)&here, hi = (uintptr_t)nc;
    uint32_t n = 0;
    if (pc)
        nc->raw[n++] = pc;
    while (n < EXN_MAX_FRAMES && fp >= lo && fp < hi - 2 * sizeof(uintptr_t) &&
           (fp & (sizeof(uintptr_t) - 1)) == 0) {
        const uintptr_t *rec = (const uintptr_t *)fp;
        if (rec[1] == 0)
            break;
        nc->raw[n++] = rec[1] - 1; /* (inside the call instruction: a call that ends a function
                                    * returns to the start of the next) */
        if (rec[0] <= fp)
            break;
        fp = rec[0];
    }
    nc->n_raw = n;
}

static EXN_NORETURN void raise_trap(exn_trap_t t, uint32_t func)
{
    ncall_t *nc = current;
    nc->trap = t;
    nc->func = func;
    NTRAP_LONGJMP(nc->jb);
}

/* A trap of a helper called by the generated code: frames from the helper's own record. */
#define RAISE_HERE(t)                                                                              \
    do {                                                                                           \
        collect_frames(current, 0, (uintptr_t)__builtin_frame_address(0));                         \
        raise_trap((t), UINT32_MAX);                                                               \
    } while (0)

static exn_trap_t trap_of(uint32_t code)
{
    switch (code) {
    case EXN_NTRAP_UNREACHABLE: return exn_trap_unreachable;
    case EXN_NTRAP_MEMORY_OOB: return exn_trap_memory_oob;
    case EXN_NTRAP_TABLE_OOB: return exn_trap_table_oob;
    case EXN_NTRAP_UNDEFINED_ELEMENT: return exn_trap_undefined_element;
    case EXN_NTRAP_NULL_ELEMENT: return exn_trap_null_element;
    case EXN_NTRAP_INDIRECT_TYPE: return exn_trap_indirect_type;
    case EXN_NTRAP_DIV_ZERO: return exn_trap_div_zero;
    case EXN_NTRAP_INT_OVERFLOW: return exn_trap_int_overflow;
    case EXN_NTRAP_CONVERSION: return exn_trap_conversion;
    case EXN_NTRAP_STACK_OVERFLOW: return exn_trap_stack_overflow;
    case EXN_NTRAP_INTERRUPTED: return exn_trap_interrupted;
    case EXN_NTRAP_FUEL: return exn_trap_fuel;
    default: return exn_trap_unreachable;
    }
}

static EXN_NORETURN void h_trap(exn_nctx_t *c, uint32_t code, uint32_t func)
{
    (void)c;
    collect_frames(current, 0, (uintptr_t)__builtin_frame_address(0));
    raise_trap(trap_of(code), func);
}

/* An import's trap: frames from the stub that called it (skipped when mapped: not a wasm
 * function's code). */
static EXN_NORETURN void h_raise(exn_nctx_t *c, const char *trap, const void *ret)
{
    (void)c, (void)ret;
    RAISE_HERE(trap);
}

/* A guard-page fault (sys.h): ours if it is inside the memory reservation of the instance this
 * thread runs guest code of, and no host function is running. */
static void on_fault(void *addr, void *pc, void *fp)
{
    ncall_t *nc = current;
    if (!nc || nc->inst->ctx->in_host)
        return;
    ninst_t *I = nc->inst;
    uintptr_t a = (uintptr_t)addr, b = I->mem ? (uintptr_t)I->mem->vm.base : 0;
    if (!b || a < b || a - b >= I->mem->vm.reserved)
        return;
    collect_frames(nc, (uintptr_t)pc, (uintptr_t)fp);
    raise_trap(exn_trap_memory_oob, UINT32_MAX);
}

static int cmp_fstart(const void *a, const void *b)
{
    const fstart_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

#define AT_ENTRY (UINT32_MAX - 1) /* an entry trampoline: the outermost guest frame is below */

/* What holds code address `pc`: the function starting last at or before it (the library's
 * functions and entry trampolines, sorted by address once, on the first trap that needs it),
 * AT_ENTRY for an entry trampoline, UINT32_MAX if none. */
static uint32_t func_at(ncode_t *k, uintptr_t pc)
{
    fstart_t *s = __atomic_load_n(&k->starts, __ATOMIC_ACQUIRE);
    uint32_t n = k->desc->n_funcs + k->desc->n_types;
    if (!s) {
        s = exn_malloc((n ? n : 1) * sizeof *s);
        if (!s)
            return UINT32_MAX;
        for (uint32_t i = 0; i < k->desc->n_funcs; i++) {
            s[i].start = (uintptr_t)k->desc->funcs[i];
            s[i].func = i;
        }
        for (uint32_t i = 0; i < k->desc->n_types; i++) {
            s[k->desc->n_funcs + i].start = (uintptr_t)k->desc->entries[i];
            s[k->desc->n_funcs + i].func = AT_ENTRY;
        }
        qsort(s, n, sizeof *s, cmp_fstart);
        fstart_t *expected = NULL;
        if (!__atomic_compare_exchange_n(&k->starts, &expected, s, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            exn_free(s);
            s = expected;
        }
    }
    uint32_t lo = 0, hi = n; /* the first start past pc */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s[mid].start <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? s[lo - 1].func : UINT32_MAX;
}

static void lines_free(nlines_t *l)
{
    if (l && l != &no_lines) {
        exn_free(l->t);
        exn_free(l);
    }
}

/* The line table of a library, from the cache's side file (checked: lines.h). */
static nlines_t *load_lines(const ncode_t *k)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (!k->cache_dir || exn_ncache_side_load(k->cache_dir, k->key, "lines", &data, &len) != 0)
        return &no_lines;
    nlines_t *l = exn_malloc(sizeof *l);
    uint32_t n = (uint32_t)(len / sizeof(exn_nline_t));
    if (!l || len == 0 || len % sizeof(exn_nline_t) || len / sizeof(exn_nline_t) > UINT32_MAX ||
        !exn_nlines_valid((const exn_nline_t *)(void *)data, n)) {
        exn_free(l);
        exn_free(data);
        return &no_lines;
    }
    l->t = (exn_nline_t *)(void *)data; /* (exn_malloc's alignment) */
    l->n = n;
    return l;
}

/* The wasm offset of code address `pc` of code k, or UINT32_MAX. */
static uint32_t offset_at(ncode_t *k, uintptr_t pc)
{
    nlines_t *l = __atomic_load_n(&k->lines, __ATOMIC_ACQUIRE);
    if (!l) {
        l = load_lines(k);
        nlines_t *expected = NULL;
        if (!__atomic_compare_exchange_n(&k->lines, &expected, l, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            lines_free(l);
            l = expected;
        }
    }
    if (!l->n || !k->base || pc < k->base)
        return UINT32_MAX;
    uint32_t off = exn_nlines_find(l->t, l->n, (uint64_t)(pc - k->base));
    return off < k->len ? off : UINT32_MAX;
}

/* The frames of the trap the call `nc` ended with, into the instance.  Offsets from the line
 * table: the innermost frame's address is its faulting instruction or its call of the trap
 * helper, the others' their call (collect_frames: each return address - 1). */
static void record_frames(ninst_t *I, const volatile ncall_t *nc)
{
    ncode_t *k = I->code;
    size_t n = 0;
    for (uint32_t i = 0; i < nc->n_raw && n < EXN_MAX_FRAMES; i++) {
        uint32_t f = func_at(k, nc->raw[i]);
        if (f == AT_ENTRY || f == UINT32_MAX)
            break;
        if (f < k->info->n_func_imports)
            continue; /* an import stub: not a frame of the guest */
        I->frames[n].func = f;
        I->frames[n].offset = offset_at(k, nc->raw[i]);
        I->frames[n].module = k;
        n++;
    }
    if (n == 0 && nc->func != UINT32_MAX) { /* no frame records: the function that trapped */
        I->frames[0].func = nc->func;
        I->frames[0].offset = UINT32_MAX;
        I->frames[0].module = k;
        n = 1;
    }
    I->n_frames = n;
}

static uint32_t h_memory_grow(exn_nctx_t *c, uint32_t delta)
{
    ninst_t *I = inst_of(c);
    nmem_t *m = I->mem;
    uint64_t old = c->mem_size / WASM_PAGE;
    if (!m)
        return UINT32_MAX;
    if (delta == 0)
        return (uint32_t)old;
    if (old + delta > m->max_pages)
        return UINT32_MAX;
    uint64_t size = (old + delta) * WASM_PAGE;
    if (exn_vmem_resize(&m->vm, (size_t)size) != EXN_OK)
        return UINT32_MAX;
    for (uint32_t u = 0; u < m->n_users; u++) { /* (the instances sharing it, c among them) */
        m->users[u]->mem = m->vm.base;
        m->users[u]->mem_size = size;
    }
    return (uint32_t)old;
}

static void h_memory_init(exn_nctx_t *c, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n)
{
    ninst_t *I = inst_of(c);
    const exn_data_t *d = &I->code->info->datas[seg];
    uint64_t len = I->data_dropped[seg] ? 0 : d->bytes.len;
    if ((uint64_t)src + n > len || (uint64_t)dst + n > c->mem_size)
        RAISE_HERE(exn_trap_memory_oob);
    if (n)
        memcpy(c->mem + dst, I->code->wasm + d->bytes.offset + src, n);
}

static void h_data_drop(exn_nctx_t *c, uint32_t seg)
{
    inst_of(c)->data_dropped[seg] = 1;
}

static uint64_t ref_func(void *userdata, uint32_t func)
{
    ninst_t *I = userdata;
    uint32_t r = I->code->ref_index[func];
    return r == UINT32_MAX ? 0 : (uint64_t)(uintptr_t)&I->refs[r];
}

static uint64_t elem_item(ninst_t *I, const exn_elem_item_t *it)
{
    switch (it->kind) {
    case EXN_ITEM_FUNC: return ref_func(I, it->func);
    case EXN_ITEM_NULL: return 0;
    default: {
        uint64_t v;
        exn_const_eval(I->code->info, I->code->wasm, it->expr, (const uint64_t *)I->ctx->globals,
                       ref_func, I, &v);
        return v;
    }
    }
}

static uint32_t h_table_grow(exn_nctx_t *c, uint32_t table, uint64_t init, uint32_t delta)
{
    ninst_t *I = inst_of(c);
    exn_ntable_t *t = table_of(c, table);
    uint32_t old = t->size;
    if (delta == 0)
        return old;
    if ((uint64_t)old + delta > t->max)
        return UINT32_MAX;
    uint32_t size = old + delta;
    uint64_t *e = exn_realloc(t->elems, (size_t)size * sizeof *e);
    if (!e)
        return UINT32_MAX;
    for (uint32_t i = old; i < size; i++)
        e[i] = init;
    t->elems = e;
    t->size = size;
    (void)I;
    return old;
}

static void h_table_init(exn_nctx_t *c, uint32_t table, uint32_t seg, uint32_t dst, uint32_t src,
                         uint32_t n)
{
    ninst_t *I = inst_of(c);
    const exn_elem_t *e = &I->code->info->elems[seg];
    exn_ntable_t *t = table_of(c, table);
    uint64_t len = I->elem_dropped[seg] ? 0 : e->n_items;
    if ((uint64_t)src + n > len || (uint64_t)dst + n > t->size)
        RAISE_HERE(exn_trap_table_oob);
    for (uint32_t i = 0; i < n; i++)
        t->elems[dst + i] = elem_item(I, &e->items[src + i]);
}

static void h_elem_drop(exn_nctx_t *c, uint32_t seg)
{
    inst_of(c)->elem_dropped[seg] = 1;
}

static void h_table_copy(exn_nctx_t *c, uint32_t dt, uint32_t st, uint32_t dst, uint32_t src,
                         uint32_t n)
{
    exn_ntable_t *d = table_of(c, dt), *s = table_of(c, st);
    if ((uint64_t)src + n > s->size || (uint64_t)dst + n > d->size)
        RAISE_HERE(exn_trap_table_oob);
    if (n)
        memmove(d->elems + dst, s->elems + src, (size_t)n * sizeof *d->elems);
}

static void h_table_fill(exn_nctx_t *c, uint32_t table, uint32_t at, uint64_t value, uint32_t n)
{
    exn_ntable_t *t = table_of(c, table);
    if ((uint64_t)at + n > t->size)
        RAISE_HERE(exn_trap_table_oob);
    for (uint32_t i = 0; i < n; i++)
        t->elems[at + i] = value;
}

/* ---- compile ---------------------------------------------------------------------------------- */

static bool guard_pages_default(void)
{
#if UINTPTR_MAX > 0xFFFFFFFFu && !defined(_WIN32)
    const char *env = exn_nsys_getenv("EXTISM_NATIVE_BOUNDS");
    return !(env && strcmp(env, "checks") == 0);
#else
    return false;
#endif
}

/* The target this library runs on (a cached library must have been built for it). */
static const char *host_target(void)
{
    return
#if defined(__x86_64__) || defined(_M_X64)
        "x86_64"
#elif defined(__aarch64__) || defined(_M_ARM64)
        "aarch64"
#elif defined(__i386__) || defined(_M_IX86)
        "i386"
#elif defined(__arm__)
        "arm"
#elif defined(__riscv)
        "riscv"
#else
        "other"
#endif
        "-"
#if defined(__APPLE__)
        "darwin"
#elif defined(__linux__)
        "linux"
#elif defined(_WIN32)
        "windows"
#else
        "unix"
#endif
        ;
}

static void code_free(ncode_t *k)
{
    if (!k)
        return;
    exn_nsys_close(k->image_fd);
    exn_nsys_dlclose(k->lib);
    exn_free(k->canon);
    exn_free(k->ref_index);
    exn_free(k->starts);
    lines_free(k->lines);
    exn_free(k->cache_dir);
    exn_free(k);
}

static void native_code_free(exn_code_t *code)
{
    code_free((ncode_t *)code);
}

/* Check the descriptor of a loaded library against the module. */
static bool check_desc(ncode_t *k, const char *sha, char *why, size_t why_len)
{
    const exn_ndesc_t *d = exn_nsys_dlsym(k->lib, EXN_NATIVE_DESC_SYMBOL);
    const exn_module_info_t *info = k->info;
    if (!d) {
        exn_fmt(why, why_len, "no descriptor");
        return false;
    }
    if (d->abi_version != EXN_NATIVE_ABI_VERSION || d->ctx_size != sizeof(exn_nctx_t) ||
        d->ctx_last != offsetof(exn_nctx_t, tail_slots)) {
        exn_fmt(why, why_len, "descriptor of another version");
        return false;
    }
    if (strcmp(d->module_sha256, sha) != 0 || d->n_funcs != info->n_funcs ||
        d->n_types != info->n_types || (d->bounds_checks != 0) != k->bounds ||
        (d->fuel != 0) != k->fuel) {
        exn_fmt(why, why_len, "descriptor of another module");
        return false;
    }
    uint32_t n_refs;
    bool nomem;
    uint32_t *refs = exn_native_ref_funcs(info, k->wasm, &n_refs, &nomem);
    bool same = !nomem && n_refs == d->n_refs &&
                (n_refs == 0 || memcmp(refs, d->ref_funcs, n_refs * sizeof *refs) == 0);
    exn_free(refs);
    if (!same) {
        exn_fmt(why, why_len, nomem ? "out of memory" : "descriptor of another module");
        return false;
    }
    k->desc = d;
    return true;
}

/* Write the translation into dir (m.h, m<i>.c). */
static bool write_sources(const char *dir, const exn_ntrans_out_t *tr)
{
    char path[EXN_NCACHE_PATH];
    exn_fmt(path, sizeof path, "%s/m.h", dir);
    if (exn_nsys_write_file(path, tr->header.data, tr->header.len) != 0)
        return false;
    for (uint32_t i = 0; i < tr->n_files; i++) {
        exn_fmt(path, sizeof path, "%s/m%u.c", dir, i);
        if (exn_nsys_write_file(path, tr->files[i].data, tr->files[i].len) != 0)
            return false;
    }
    return true;
}

static void remove_build(const char *dir, uint32_t n_files)
{
    char path[EXN_NCACHE_PATH];
    static const char *const fixed[] = {"m.h", "out.so", "out.dbg.so", "out.so.sum", "link.log"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        exn_fmt(path, sizeof path, "%s/%s", dir, fixed[i]);
        exn_nsys_remove(path);
    }
    for (uint32_t i = 0; i < n_files; i++) {
        static const char *const ext[] = {"c", "o", "log"};
        for (size_t e = 0; e < 3; e++) {
            exn_fmt(path, sizeof path, "%s/m%u.%s", dir, i, ext[e]);
            exn_nsys_remove(path);
        }
    }
    exn_nsys_remove(dir);
}

/* How many files, for `cpus` compilers: enough to keep them busy, no more (each file parses
 * the whole header). */
/* How many C files: one per CPU (they compile in parallel), and at least one per 4096
 * functions (a compiler's time grows faster than a file's functions); one for small code. */
static uint32_t files_for(uint64_t code_bytes, uint32_t n_funcs, uint32_t cpus)
{
    uint32_t by_funcs = n_funcs / 4096 + 1;
    uint32_t n = code_bytes < 64 * 1024 ? 1 : cpus < 1 ? 1 : cpus > 16 ? 16 : cpus;
    if (by_funcs > n)
        n = by_funcs > 64 ? 64 : by_funcs;
    return n;
}

#define IMAGE_MIN ((size_t)32 * 1024) /* below this, copying the segments costs less */

/* A constant expression that is exactly `i32.const c`: c (as unsigned) in *out. */
static bool const_i32(const uint8_t *wasm, exn_range_t expr, uint64_t *out)
{
    exn_wread_t r = exn_wread_init(wasm + expr.offset, wasm + expr.offset + expr.len);
    uint8_t op = 0, end = 0;
    int64_t v;
    if (!exn_wread_u8(&r, &op) || op != 0x41 || !exn_wread_sleb(&r, 32, &v) ||
        !exn_wread_u8(&r, &end) || end != 0x0B || r.p != r.end)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Memory 0 as its active data segments leave it, in a file every instance maps copy-on-write
 * (exn_vmem_map_image): no copy at instantiation, and the pages no instance writes stay shared
 * (a 2 MB QuickJS plugin has 1.4 MB of data in 10000 segments).  The file is the cache's
 * `<key>.img` (cache.h) when there is a cache: built and stored by the first load, only mapped
 * by the next ones (0.3 ms instead of 3 ms for that plugin); else a memfd written in place.
 * Only for a memory of the module itself whose segments all sit at constant offsets inside its
 * initial size; otherwise (or if anything fails) instances copy the segments as before. */
static void make_image(ncode_t *k, const char *cache_dir, const char *key)
{
    const exn_module_info_t *info = k->info;
    if (!info->n_memories || info->n_memory_imports || !info->n_datas)
        return;
    uint64_t size = info->memories[0].min * WASM_PAGE, end = 0;
    for (uint32_t s = 0; s < info->n_datas; s++) {
        const exn_data_t *d = &info->datas[s];
        if (d->mode != EXN_SEGMENT_ACTIVE)
            continue;
        uint64_t off;
        if (d->memory != 0 || !const_i32(k->wasm, d->offset, &off))
            return;
        if (off + d->bytes.len > size)
            return; /* instantiation fails: the copying path says so */
        if (off + d->bytes.len > end)
            end = off + d->bytes.len;
    }
    size_t page = exn_os_page_size();
    size_t len = (size_t)((end + page - 1) / page * page);
    /* EXTISM_NATIVE_IMAGE_MIN: another threshold, for tests (0: every module that can) */
    const char *env = exn_nsys_getenv("EXTISM_NATIVE_IMAGE_MIN");
    size_t min = env && *env ? (size_t)strtoull(env, NULL, 10) : IMAGE_MIN;
    if (len == 0 || len < min || len > size)
        return;
    intptr_t fd;
    if (cache_dir && exn_ncache_image_load(cache_dir, key, len, &fd) == 0) {
        k->image_fd = fd; /* (the cache's, built by an earlier load) */
        k->image_len = len;
        return;
    }
    uint8_t *img;
    if (exn_nsys_image_create(len, &fd, &img) != 0)
        return;
    for (uint32_t s = 0; s < info->n_datas; s++) { /* in order: a later segment wins */
        const exn_data_t *d = &info->datas[s];
        if (d->mode != EXN_SEGMENT_ACTIVE)
            continue;
        uint64_t off = 0;
        const_i32(k->wasm, d->offset, &off);
        memcpy(img + off, k->wasm + d->bytes.offset, d->bytes.len);
    }
    if (cache_dir)
        (void)exn_ncache_image_store(cache_dir, key, img, len); /* (else: built again next time) */
    exn_nsys_image_seal(fd, img, len);
    k->image_fd = fd;
    k->image_len = len;
}

/* The line table of the library just built in `dir` (lines.h), from `out.dbg.so` (the same link
 * with debug sections, cc.c) if it is there, else from `out.so`; stored as the cache entry's
 * `<key>.lines` when there is a cache.  None (the offsets stay unknown) if it cannot be made. */
static void make_lines(ncode_t *k, const char *dir, const char *cache_dir, const char *key)
{
    uint8_t *data = NULL, *kept = NULL;
    size_t len = 0, kept_len = 0;
    char why[200], path[EXN_NCACHE_PATH];
    exn_nline_t *t = NULL;
    uint32_t n = 0;
    nlines_t *l = NULL;
    exn_fmt(path, sizeof path, "%s/out.so", dir);
    bool ok = exn_nsys_read_private(path, &kept, &kept_len, why, sizeof why) == 0;
    exn_fmt(path, sizeof path, "%s/out.dbg.so", dir);
    if (ok && exn_nsys_read_private(path, &data, &len, why, sizeof why) == 0) {
        ok = exn_nlines_same_layout(data, len, kept, kept_len);
    } else if (ok) {
        data = kept, len = kept_len; /* (the library kept its debug sections) */
        kept = NULL;
    }
    if (ok && exn_nlines_from_elf(data, len, &t, &n) == 0 && (l = exn_malloc(sizeof *l)) != NULL) {
        l->t = t;
        l->n = n;
        t = NULL;
        if (cache_dir)
            (void)exn_ncache_side_store(cache_dir, key, "lines", l->t, (size_t)n * sizeof *l->t);
    }
    exn_free(t);
    exn_free(data);
    exn_free(kept);
    k->lines = l ? l : &no_lines;
}

static exn_status_t build(ncode_t *k, const char *sha, const char *cache_dir, const char *key,
                          const char *opt, char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    exn_ntrans_out_t tr;
    memset(&tr, 0, sizeof tr);
    char tmp[EXN_NCACHE_PATH] = "", so[EXN_NCACHE_PATH];
    bool have_tmp = false;

    const exn_ncc_t *cc = exn_ncc_get(errbuf, errbuf_len);
    if (!cc)
        return EXN_ERR_UNSUPPORTED;
    uint32_t cpus = exn_ncc_cpus();
    uint64_t code_bytes = 0;
    for (uint32_t i = 0; i + k->info->n_func_imports < k->info->n_funcs; i++)
        code_bytes += k->info->bodies[i].len;
    exn_ntrans_opts_t opts = {files_for(code_bytes, k->info->n_funcs, cpus), k->bounds, sha,
                              k->fuel};
    EXN_TRY(exn_native_translate(k->info, k->wasm, &opts, &tr, errbuf, errbuf_len));

    if (cache_dir && exn_nsys_temp_dir(cache_dir, tmp, sizeof tmp) == 0) {
        have_tmp = true;
    } else {
        const char *t = exn_nsys_getenv("TMPDIR");
        if (exn_nsys_temp_dir(t && *t ? t : "/tmp", tmp, sizeof tmp) != 0) {
            exn_fmt(errbuf, errbuf_len, "cannot make a build directory");
            EXN_TRY(EXN_ERR_UNSUPPORTED);
        }
        have_tmp = true;
        cache_dir = NULL; /* built outside the cache: not stored */
    }
    if (!write_sources(tmp, &tr)) {
        exn_fmt(errbuf, errbuf_len, "cannot write the translated module to %s", tmp);
        EXN_TRY(EXN_ERR_UNSUPPORTED);
    }
    EXN_TRY(exn_ncc_build(cc, tmp, tr.n_files, cpus, opt, errbuf, errbuf_len));
    exn_fmt(so, sizeof so, "%s/out.so", tmp);
    make_lines(k, tmp, cache_dir, key);
    char why[300];
    if (cache_dir && exn_ncache_store(cache_dir, key, so, exn_ncc_name(cc)) == 0) {
        k->lib = exn_ncache_load(cache_dir, key, why, sizeof why);
    } else {
        k->lib = exn_nsys_dlopen(so, why, sizeof why); /* stays mapped after its file goes */
    }
    if (!k->lib) {
        exn_fmt(errbuf, errbuf_len, "cannot load the compiled module: %s", why);
        EXN_TRY(EXN_ERR_UNSUPPORTED);
    }
    if (!check_desc(k, sha, why, sizeof why)) {
        exn_fmt(errbuf, errbuf_len, "the compiled module is wrong: %s", why);
        EXN_TRY(EXN_ERR_UNSUPPORTED);
    }

cleanup:
    if (have_tmp)
        remove_build(tmp, tr.n_files ? tr.n_files : 16);
    exn_native_trans_free(&tr);
    return st;
}

exn_status_t exn_native_compile(const exn_module_info_t *info, const uint8_t *wasm, size_t len,
                                unsigned flags, exn_code_t **out, char *errbuf, size_t errbuf_len)
{
    exn_status_t st = EXN_OK;
    *out = NULL;
    const char *why_not;
    if (!exn_nsys_available(&why_not)) {
        exn_fmt(errbuf, errbuf_len, "%s", why_not);
        return EXN_ERR_UNSUPPORTED;
    }
    ncode_t *k = exn_calloc(1, sizeof *k);
    if (!k)
        return EXN_ERR_NOMEM;
    k->image_fd = -1;
    k->wasm = wasm;
    k->len = len;
    k->bounds = !guard_pages_default();
    k->fuel = (flags & EXN_NATIVE_FUEL) != 0;
    k->info = info;

    k->canon = exn_malloc((info->n_types ? info->n_types : 1) * sizeof *k->canon);
    k->ref_index = exn_malloc((info->n_funcs ? info->n_funcs : 1) * sizeof *k->ref_index);
    if (!k->canon || !k->ref_index || !canon_ids(info, k->canon))
        EXN_TRY(EXN_ERR_NOMEM);

    char sha[65], key[65], profile[300];
    uint64_t code_bytes = 0;
    for (uint32_t i = 0; i + info->n_func_imports < info->n_funcs; i++)
        code_bytes += info->bodies[i].len;
    const char *opt = exn_ncc_opt_level(code_bytes, info->n_funcs);
    exn_ncc_profile(opt, profile, sizeof profile);
    exn_sha256_hex(wasm, len, sha);
    {
        char text[800];
        exn_fmt(text, sizeof text,
                "extism_native %s translator %s target %s %s%s flags %s module %s", EXN_VERSION,
                exn_native_translator_id(), host_target(), k->bounds ? "bounds" : "guard",
                k->fuel ? " fuel" : "", profile, sha);
        exn_sha256_hex((const uint8_t *)text, strlen(text), key);
    }
    char dir[EXN_NCACHE_PATH], why[300];
    bool have_dir = exn_ncache_dir(dir, sizeof dir, why, sizeof why) == 0;
    if (have_dir) {
        k->lib = exn_ncache_load(dir, key, why, sizeof why);
        if (k->lib && !check_desc(k, sha, why, sizeof why)) {
            exn_nsys_dlclose(k->lib);
            k->lib = NULL;
        }
    }
    if (!k->lib && (flags & EXN_NATIVE_CACHED_ONLY)) {
        exn_fmt(errbuf, errbuf_len, "not in the cache (%s)", have_dir ? why : "no cache");
        EXN_TRY(EXN_ERR_NOT_FOUND);
    }
    if (!k->lib)
        EXN_TRY(build(k, sha, have_dir ? dir : NULL, key, opt, errbuf, errbuf_len));

    make_image(k, have_dir ? dir : NULL, key);
    k->base = exn_nsys_lib_base(k->desc);
    memcpy(k->key, key, sizeof k->key);
    if (have_dir && !k->lines && !(k->cache_dir = exn_strndup(dir, strlen(dir))))
        EXN_TRY(EXN_ERR_NOMEM);

    /* funcref slots */
    memset(k->ref_index, 0xFF, (info->n_funcs ? info->n_funcs : 1) * sizeof *k->ref_index);
    for (uint32_t i = 0; i < k->desc->n_refs; i++)
        k->ref_index[k->desc->ref_funcs[i]] = i;

cleanup:
    if (st != EXN_OK) {
        if (st == EXN_ERR_NOMEM)
            exn_fmt(errbuf, errbuf_len, "out of memory");
        code_free(k);
        return st;
    }
    *out = (exn_code_t *)k;
    return EXN_OK;
}

/* ---- instances ------------------------------------------------------------------------------- */

static void native_instance_free(exn_instance_t *inst)
{
    ninst_t *I = (ninst_t *)inst;
    if (!I)
        return;
    nmem_t *m = I->mem;
    if (m) { /* the last user frees it */
        for (uint32_t u = 0; u < m->n_users; u++) {
            if (m->users[u] == I->ctx) {
                m->users[u] = m->users[--m->n_users];
                break;
            }
        }
        if (m->n_users == 0) {
            exn_vmem_free(&m->vm);
            exn_free(m->users);
            exn_free(m);
        }
    }
    if (I->tables) {
        for (uint32_t t = 0; t < I->code->info->n_tables; t++)
            exn_free(I->tables[t].elems);
    }
    exn_free(I->tables);
    exn_free(I->refs);
    exn_free(I->data_dropped);
    exn_free(I->elem_dropped);
    exn_free(I->imports);
    exn_free(I->gimp);
    exn_free(I->timp);
    exn_free(I);
}

static const volatile uint32_t no_interrupt;

/* Whether every active segment of I fits.  An instance that writes into another instance's
 * table checks them all before it writes anything: its functions must not stay in that table
 * when it fails and is freed (the MVP's all-or-nothing instantiation, for such modules only;
 * wasm3 patch 0074 does the same). */
static bool segments_fit(ninst_t *I, char *errbuf, size_t errbuf_len)
{
    const exn_module_info_t *info = I->code->info;
    exn_nctx_t *c = I->ctx;
    for (uint32_t s = 0; s < info->n_elems; s++) {
        const exn_elem_t *e = &info->elems[s];
        uint64_t off = 0;
        if (e->mode != EXN_SEGMENT_ACTIVE)
            continue;
        exn_const_eval(info, I->code->wasm, e->offset, (const uint64_t *)c->globals, ref_func, I,
                       &off);
        if ((uint64_t)(uint32_t)off + e->n_items > table_of(c, e->table)->size) {
            exn_fmt(errbuf, errbuf_len, "%s", exn_trap_table_oob);
            return false;
        }
    }
    for (uint32_t s = 0; s < info->n_datas; s++) {
        const exn_data_t *d = &info->datas[s];
        uint64_t off = 0;
        if (d->mode != EXN_SEGMENT_ACTIVE)
            continue;
        exn_const_eval(info, I->code->wasm, d->offset, (const uint64_t *)c->globals, ref_func, I,
                       &off);
        if ((uint64_t)(uint32_t)off + d->bytes.len > c->mem_size) {
            exn_fmt(errbuf, errbuf_len, "%s", exn_trap_memory_oob);
            return false;
        }
    }
    return true;
}

static exn_status_t native_instantiate(exn_code_t *code, const exn_instance_config_t *config,
                                       exn_instance_t **out, char *errbuf, size_t errbuf_len)
{
    ncode_t *k = (ncode_t *)code;
    const exn_module_info_t *info = k->info;
    exn_status_t st = EXN_OK;
    *out = NULL;
    if (config->fuel && !k->fuel) {
        exn_fmt(errbuf, errbuf_len,
                "fuel: this compiled code does not count it (made without "
                "EXN_NATIVE_FUEL)");
        return EXN_ERR_UNSUPPORTED;
    }
    if (config->n_imports != info->n_imports) {
        exn_fmt(errbuf, errbuf_len, "%u imports given, the module has %u", config->n_imports,
                info->n_imports);
        return EXN_ERR_MISUSE;
    }
    for (uint32_t i = 0; i < info->n_imports; i++) {
        if (config->imports[i].kind != info->imports[i].kind ||
            (info->imports[i].kind == EXN_EXTERN_FUNC
                 ? !config->imports[i].fn
                 : !config->imports[i].env && !config->imports[i].from)) {
            exn_fmt(errbuf, errbuf_len, "import %u (%s::%s) given as the wrong kind", i,
                    info->imports[i].module, info->imports[i].name);
            return EXN_ERR_MISUSE;
        }
        /* host functions take 64-bit slots: no engine links a v128 through them (engine.h) */
        const exn_functype_t *ft = info->imports[i].kind == EXN_EXTERN_FUNC
                                       ? &info->types[info->imports[i].type_index]
                                       : NULL;
        for (uint32_t v = 0; ft && v < ft->n_params + ft->n_results; v++) {
            if (ft->types[v] == EXN_WASM_V128) {
                exn_fmt(errbuf, errbuf_len,
                        "cannot link the imports: import %u (%s::%s): v128 values cannot be "
                        "passed to or from a host function",
                        i, info->imports[i].module, info->imports[i].name);
                return EXN_ERR_LOAD;
            }
        }
    }
    /* the instance, then a pointer back to it, then the context with its globals */
    size_t head = (sizeof(ninst_t) + sizeof(void *) + 15) / 16 * 16;
    size_t ctx_size =
        sizeof(exn_nctx_t) + (size_t)exn_nglobal_slot(info, info->n_globals) * sizeof(exn_nslot_t);
    uint8_t *block = exn_calloc(1, head + ctx_size);
    if (!block)
        return EXN_ERR_NOMEM;
    ninst_t *I = (ninst_t *)block;
    exn_nctx_t *c = (exn_nctx_t *)(block + head);
    *((ninst_t **)c - 1) = I;
    I->base.engine = &exn_engine_native;
    I->base.code = code;
    I->base.userdata = config->userdata;
    I->code = k;
    I->ctx = c;
    c->interrupt = config->interrupt ? config->interrupt : &no_interrupt;
    I->no_fuel[0] = INT64_MAX; /* code with fuel, no budget: never runs out */
    c->fuel = config->fuel ? config->fuel : I->no_fuel;
    c->types = k->canon;
    c->trap = h_trap;
    c->raise = h_raise;
    c->memory_grow = h_memory_grow;
    c->memory_init = h_memory_init;
    c->data_drop = h_data_drop;
    c->table_grow = h_table_grow;
    c->table_init = h_table_init;
    c->elem_drop = h_elem_drop;
    c->table_copy = h_table_copy;
    c->table_fill = h_table_fill;

    if (info->n_imports) {
        I->imports = exn_calloc(info->n_imports, sizeof *I->imports);
        if (!I->imports)
            EXN_TRY(EXN_ERR_NOMEM);
        for (uint32_t i = 0; i < info->n_imports; i++) {
            if (info->imports[i].kind != EXN_EXTERN_FUNC)
                continue;
            I->imports[i].fn = config->imports[i].fn;
            I->imports[i].caller.instance = &I->base;
            I->imports[i].caller.env = config->imports[i].env;
        }
    }
    c->imports = I->imports;
    I->data_dropped = exn_calloc(info->n_datas ? info->n_datas : 1, 1);
    I->elem_dropped = exn_calloc(info->n_elems ? info->n_elems : 1, 1);
    I->refs = exn_calloc(k->desc->n_refs ? k->desc->n_refs : 1, sizeof *I->refs);
    I->tables = exn_calloc(info->n_tables ? info->n_tables : 1, sizeof *I->tables);
    if (!I->data_dropped || !I->elem_dropped || !I->refs || !I->tables)
        EXN_TRY(EXN_ERR_NOMEM);
    c->refs = I->refs;
    c->tables = I->tables;
    for (uint32_t i = 0; i < k->desc->n_refs; i++) {
        uint32_t f = k->desc->ref_funcs[i];
        I->refs[i].type = k->canon[info->func_type[f]];
        I->refs[i].fn = k->desc->funcs[f];
        I->refs[i].ctx = c;
    }

    /* memory: another instance's (issue 17), or its own */
    const exn_import_value_t *shared_mem = NULL;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        if (info->imports[i].kind == EXN_EXTERN_MEMORY && config->imports[i].from)
            shared_mem = &config->imports[i];
    }
    if (shared_mem) {
        ninst_t *O = (ninst_t *)shared_mem->from;
        nmem_t *m = O->mem;
        if (O->base.engine != &exn_engine_native || shared_mem->index != 0 || !m) {
            exn_fmt(errbuf, errbuf_len, "the imported memory is not a compiled-tier instance's");
            EXN_TRY(EXN_ERR_MISUSE);
        }
        if (!k->bounds && !m->guarded) {
            exn_fmt(errbuf, errbuf_len,
                    "the imported memory has no guard pages and this code checks no bounds");
            EXN_TRY(EXN_ERR_UNSUPPORTED);
        }
        if (m->n_users == m->cap_users) {
            uint32_t cap = m->cap_users * 2;
            exn_nctx_t **u = exn_realloc(m->users, cap * sizeof *u);
            if (!u)
                EXN_TRY(EXN_ERR_NOMEM);
            m->users = u;
            m->cap_users = cap;
        }
        m->users[m->n_users++] = c;
        I->mem = m;
        c->mem = O->ctx->mem;
        c->mem_size = O->ctx->mem_size;
    } else if (info->n_memories) {
        exn_memtype_t imported, *mt = &info->memories[0];
        const exn_nmemory_import_t *mi = NULL;
        for (uint32_t i = 0; i < info->n_imports && !mi; i++) {
            if (info->imports[i].kind == EXN_EXTERN_MEMORY)
                mi = config->imports[i].env;
        }
        if (mi) { /* a copy of the provider's memory: its size and maximum (native.h) */
            imported.min = mi->pages;
            imported.max = mi->max_pages;
            imported.has_max = true;
            mt = &imported;
        }
        uint64_t max = mt->has_max && mt->max < MAX_PAGES ? mt->max : MAX_PAGES;
        uint64_t cfg = config->max_memory_bytes / WASM_PAGE;
        if (config->max_memory_bytes && cfg < max)
            max = cfg;
        if (mt->min > max) {
            exn_fmt(errbuf, errbuf_len,
                    "the module's memory needs %llu pages, more than the %llu allowed",
                    (unsigned long long)mt->min, (unsigned long long)max);
            EXN_TRY(EXN_ERR_LOAD);
        }
        nmem_t *m = exn_calloc(1, sizeof *m);
        exn_nctx_t **users = exn_malloc(2 * sizeof *users);
        if (!m || !users) {
            exn_free(m);
            exn_free(users);
            EXN_TRY(EXN_ERR_NOMEM);
        }
        m->users = users;
        m->cap_users = 2;
        m->users[m->n_users++] = c;
        m->max_pages = max;
        m->guarded = !k->bounds;
        I->mem = m;
        if (k->bounds)
            exn_vmem_init(&m->vm, (size_t)(max * WASM_PAGE));
        else
            exn_vmem_init_guarded(&m->vm, (size_t)(max * WASM_PAGE), GUARD_RESERVE);
        if (exn_vmem_resize(&m->vm, (size_t)(mt->min * WASM_PAGE)) != EXN_OK)
            EXN_TRY(EXN_ERR_NOMEM);
        c->mem = m->vm.base;
        c->mem_size = mt->min * WASM_PAGE;
    }

    /* globals, in order (an initialiser may read the globals before it); a v128 in two slots.
     * The code reaches an imported global through ctx->gimp: another instance's global (issue
     * 17), or a copy in its own slot */
    if (info->n_global_imports && !(I->gimp = exn_calloc(info->n_global_imports, sizeof *I->gimp)))
        EXN_TRY(EXN_ERR_NOMEM);
    c->gimp = I->gimp;
    for (uint32_t i = 0, g = 0, slot = 0; i < info->n_imports; i++) {
        if (info->imports[i].kind != EXN_EXTERN_GLOBAL)
            continue;
        const exn_import_value_t *v = &config->imports[i];
        I->gimp[g] = &c->globals[slot];
        if (v->from) {
            ninst_t *O = (ninst_t *)v->from;
            const exn_module_info_t *oi = O->code->info;
            if (O->base.engine != &exn_engine_native || v->index >= oi->n_globals ||
                oi->globals[v->index].type != info->globals[g].type) {
                exn_fmt(errbuf, errbuf_len, "import %u (%s::%s): not a global of that type", i,
                        info->imports[i].module, info->imports[i].name);
                EXN_TRY(EXN_ERR_MISUSE);
            }
            I->gimp[g] = global_slot(O, v->index);
        }
        /* the value in the own slot: a copy's (native.h), or the shared one's initial value
         * (initialisers read c->globals) */
        const exn_nglobal_import_t *gi = v->env;
        bool v128 = info->globals[g].type == EXN_WASM_V128;
        c->globals[slot].i64 = v->from ? I->gimp[g][0].i64 : gi->value;
        if (v128)
            c->globals[slot + 1].i64 = v->from ? I->gimp[g][1].i64 : gi->value_hi;
        slot += v128 ? 2 : 1;
        g++;
    }
    for (uint32_t g = info->n_global_imports, slot = exn_nglobal_slot(info, g); g < info->n_globals;
         g++) {
        uint64_t v[2] = {0, 0};
        exn_const_eval(info, k->wasm, info->globals[g].init, (const uint64_t *)c->globals, ref_func,
                       I, v);
        c->globals[slot++].i64 = v[0];
        if (info->globals[g].type == EXN_WASM_V128)
            c->globals[slot++].i64 = v[1];
    }

    /* tables, then element segments, then data segments (WebAssembly 2.0 order) */
    bool shares_table = false;
    if (info->n_table_imports && !(I->timp = exn_calloc(info->n_table_imports, sizeof *I->timp)))
        EXN_TRY(EXN_ERR_NOMEM);
    c->timp = I->timp;
    for (uint32_t t = 0, i = 0; t < info->n_tables; t++) {
        exn_tabletype_t imported;
        const exn_tabletype_t *tt = &info->tables[t];
        if (t < info->n_table_imports) {
            while (info->imports[i].kind != EXN_EXTERN_TABLE)
                i++;
            const exn_import_value_t *v = &config->imports[i++];
            I->timp[t] = &I->tables[t];
            if (v->from) { /* another instance's table (issue 17) */
                ninst_t *O = (ninst_t *)v->from;
                const exn_module_info_t *oi = O->code->info;
                if (O->base.engine != &exn_engine_native || v->index >= oi->n_tables ||
                    oi->tables[v->index].elem_type != tt->elem_type) {
                    exn_fmt(errbuf, errbuf_len, "import %u (%s::%s): not a table of that type",
                            i - 1, info->imports[i - 1].module, info->imports[i - 1].name);
                    EXN_TRY(EXN_ERR_MISUSE);
                }
                I->timp[t] = table_of(O->ctx, v->index);
                shares_table = true;
                continue;
            }
            /* else a copy of the provider's table's size (native.h) */
            const exn_ntable_import_t *ti = v->env;
            imported = *tt;
            imported.min = ti->size;
            imported.max = ti->max;
            imported.has_max = true;
            tt = &imported;
        }
        uint32_t max = tt->has_max && tt->max < MAX_TABLE ? tt->max : MAX_TABLE;
        if (tt->min > max) {
            exn_fmt(errbuf, errbuf_len, "table %u is larger than supported", t);
            EXN_TRY(EXN_ERR_LOAD);
        }
        I->tables[t].elems = exn_calloc(tt->min ? tt->min : 1, sizeof(uint64_t));
        if (!I->tables[t].elems)
            EXN_TRY(EXN_ERR_NOMEM);
        I->tables[t].size = tt->min;
        I->tables[t].max = max;
    }
    if (shares_table && !segments_fit(I, errbuf, errbuf_len))
        EXN_TRY(EXN_ERR_LOAD);
    for (uint32_t s = 0; s < info->n_elems; s++) {
        const exn_elem_t *e = &info->elems[s];
        if (e->mode == EXN_SEGMENT_PASSIVE)
            continue;
        I->elem_dropped[s] = 1;
        if (e->mode != EXN_SEGMENT_ACTIVE)
            continue;
        uint64_t off = 0;
        exn_const_eval(info, k->wasm, e->offset, (const uint64_t *)c->globals, ref_func, I, &off);
        exn_ntable_t *t = table_of(c, e->table);
        if ((uint64_t)(uint32_t)off + e->n_items > t->size) {
            exn_fmt(errbuf, errbuf_len, "%s", exn_trap_table_oob);
            EXN_TRY(EXN_ERR_LOAD);
        }
        for (uint32_t i = 0; i < e->n_items; i++)
            t->elems[(uint32_t)off + i] = elem_item(I, &e->items[i]);
    }
    /* (never over a memory shared with another instance: that one's bytes are in it) */
    bool imaged = k->image_fd >= 0 && I->mem && !shared_mem &&
                  exn_vmem_map_image(&I->mem->vm, k->image_len, k->image_fd) == EXN_OK;
    for (uint32_t s = 0; s < info->n_datas; s++) {
        const exn_data_t *d = &info->datas[s];
        if (d->mode != EXN_SEGMENT_ACTIVE)
            continue;
        I->data_dropped[s] = 1;
        if (imaged)
            continue; /* (already in place: make_image checked every segment fits) */
        uint64_t off = 0;
        exn_const_eval(info, k->wasm, d->offset, (const uint64_t *)c->globals, ref_func, I, &off);
        if ((uint64_t)(uint32_t)off + d->bytes.len > c->mem_size) {
            exn_fmt(errbuf, errbuf_len, "%s", exn_trap_memory_oob);
            EXN_TRY(EXN_ERR_LOAD);
        }
        if (d->bytes.len)
            memcpy(c->mem + (uint32_t)off, k->wasm + d->bytes.offset, d->bytes.len);
    }
    if (!k->bounds && exn_nsys_fault_handler(on_fault) != 0) {
        exn_fmt(errbuf, errbuf_len, "cannot install the guard-page fault handler");
        EXN_TRY(EXN_ERR_UNSUPPORTED);
    }

cleanup:
    if (st != EXN_OK) {
        if (st == EXN_ERR_NOMEM)
            exn_fmt(errbuf, errbuf_len, "out of memory");
        native_instance_free(&I->base);
        return st;
    }
    *out = &I->base;
    return EXN_OK;
}

static exn_trap_t native_call(exn_instance_t *inst, uint32_t func, uint64_t *slots)
{
    ninst_t *I = (ninst_t *)inst;
    const exn_ndesc_t *d = I->code->desc;
    if (func >= d->n_funcs)
        return trap_bad_func;
    ncall_t nc;
    nc.prev = current;
    nc.inst = I;
    nc.trap = NULL;
    nc.func = UINT32_MAX;
    nc.n_raw = 0;
    I->n_frames = 0;
    /* fuel: the generated code counts down fuel[0], the units until its next check, and takes
     * them in batches from fuel[1] (translate.c, PRELUDE_FUEL); outside a call the runtime and
     * the interpreter see all that is left in fuel[0].  All of it moves to fuel[1] here, so the
     * first unit checks, and back when the call ends, by a trap too (fuel[0] + fuel[1] is what
     * is left throughout) */
    int64_t *fuel = I->code->fuel ? I->ctx->fuel : NULL;
    if (fuel) {
        fuel[1] += fuel[0];
        fuel[0] = 0;
    }
    current = &nc;
    if (NTRAP_SETJMP(nc.jb)) {
        volatile ncall_t *v = &nc;
        current = v->prev;
        record_frames(I, v);
        if (fuel) {
            fuel[0] += fuel[1];
            fuel[1] = 0;
        }
        return v->trap;
    }
    d->entries[I->code->info->func_type[func]](I->ctx, d->funcs[func], slots);
    current = nc.prev;
    if (fuel) {
        fuel[0] += fuel[1];
        fuel[1] = 0;
    }
    return NULL;
}

static uint8_t *native_memory(exn_instance_t *inst, uint64_t *out_size)
{
    ninst_t *I = (ninst_t *)inst;
    *out_size = I->mem ? I->ctx->mem_size : 0;
    return I->mem ? I->ctx->mem : NULL;
}

static uint32_t native_memory_grow(exn_instance_t *inst, uint32_t delta)
{
    return h_memory_grow(((ninst_t *)inst)->ctx, delta);
}

static void native_global_get(exn_instance_t *inst, uint32_t index, uint64_t *slots)
{
    ninst_t *I = (ninst_t *)inst;
    const exn_module_info_t *info = I->code->info;
    if (index >= info->n_globals)
        return;
    const exn_nslot_t *g = global_slot(I, index);
    slots[0] = g[0].i64;
    if (info->globals[index].type == EXN_WASM_V128)
        slots[1] = g[1].i64;
}

static void native_global_set(exn_instance_t *inst, uint32_t index, const uint64_t *slots)
{
    ninst_t *I = (ninst_t *)inst;
    const exn_module_info_t *info = I->code->info;
    if (index >= info->n_globals)
        return;
    exn_nslot_t *g = global_slot(I, index);
    g[0].i64 = slots[0];
    if (info->globals[index].type == EXN_WASM_V128)
        g[1].i64 = slots[1];
}

static void native_set_stack_limit(exn_instance_t *inst, uintptr_t limit)
{
    ((ninst_t *)inst)->ctx->stack_limit = limit;
}

static size_t native_backtrace(exn_instance_t *inst, exn_frame_t *frames, size_t max)
{
    ninst_t *I = (ninst_t *)inst;
    size_t n = I->n_frames < max ? I->n_frames : max;
    memcpy(frames, I->frames, n * sizeof *frames);
    return n;
}

static exn_status_t compile_entry(const exn_module_info_t *info, const uint8_t *wasm, size_t len,
                                  exn_code_t **out, char *errbuf, size_t errbuf_len)
{
    return exn_native_compile(info, wasm, len, 0, out, errbuf, errbuf_len);
}

exn_status_t exn_native_probe(char *buf, size_t buf_len)
{
    const char *why;
    if (!exn_nsys_available(&why)) {
        exn_fmt(buf, buf_len, "%s", why);
        return EXN_ERR_UNSUPPORTED;
    }
    const exn_ncc_t *cc = exn_ncc_get(buf, buf_len);
    if (!cc)
        return EXN_ERR_UNSUPPORTED;
    exn_fmt(buf, buf_len, "%s", exn_ncc_name(cc));
    return EXN_OK;
}

const exn_engine_t *exn_native_engine_from_env(void)
{
    const char *tier = exn_nsys_getenv("EXTISM_NATIVE_TIER");
    return tier && strcmp(tier, "native") == 0 ? &exn_engine_native : &exn_engine_wasm3;
}

exn_status_t exn_native_cache_dir(char *buf, size_t buf_len)
{
    char why[300];
    if (exn_ncache_dir(buf, buf_len, why, sizeof why) != 0) {
        exn_fmt(buf, buf_len, "%s", why);
        return EXN_ERR_UNSUPPORTED;
    }
    return EXN_OK;
}

const exn_engine_t exn_engine_native = {
    "native",           compile_entry,          native_code_free,
    native_instantiate, native_instance_free,   native_call,
    native_memory,      native_memory_grow,     native_global_get,
    native_global_set,  native_set_stack_limit, native_backtrace,
};
