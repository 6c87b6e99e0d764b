//
//  m3_env.c
//
//  Created by Steven Massey on 4/19/19.
//  Copyright © 2019 Steven Massey. All rights reserved.
//

#include <stdarg.h>
#include <limits.h>

#include "m3_env.h"
#include "m3_compile.h"
#include "m3_exec.h"
#include "m3_exception.h"
#include "m3_info.h"


IM3Environment  m3_NewEnvironment  ()
{
    M3Result result = m3Err_none;

    IM3Environment env = m3_AllocStruct (M3Environment);

    if (env)
    {
        _try
        {
            // create FuncTypes for all simple block return ValueTypes
            for (u8 t = c_m3Type_none; t <= c_m3Type_v128; t++)      // v128: patch 0070
            {
                IM3FuncType ftype;
_               (AllocFuncType (& ftype, 1));

                ftype->numArgs = 0;
                ftype->numRets = (t == c_m3Type_none) ? 0 : 1;
                ftype->types [0] = t;

                Environment_AddFuncType (env, & ftype);

                env->retFuncTypes [t] = ftype;
            }
        }

        _catch:
        if (result)
        {
            m3_FreeEnvironment (env);
            env = NULL;
        }
    }

    return env;
}


void  Environment_Release  (IM3Environment i_environment)
{
    IM3FuncType ftype = i_environment->funcTypes;

    while (ftype)
    {
        IM3FuncType next = ftype->next;
        m3_Free (ftype);
        ftype = next;
    }

    m3log (runtime, "freeing %d pages from environment", CountCodePages (i_environment->pagesReleased));
    FreeCodePages (& i_environment->pagesReleased);
}


void  m3_FreeEnvironment  (IM3Environment i_environment)
{
    if (i_environment)
    {
        Environment_Release (i_environment);
        m3_Free (i_environment);
    }
}


// returns the same io_funcType or replaces it with an equivalent that's already in the type linked list
void  Environment_AddFuncType  (IM3Environment i_environment, IM3FuncType * io_funcType)
{
    IM3FuncType addType = * io_funcType;
    IM3FuncType newType = i_environment->funcTypes;

    while (newType)
    {
        if (AreFuncTypesEqual (newType, addType))
        {
            m3_Free (addType);
            break;
        }

        newType = newType->next;
    }

    if (newType == NULL)
    {
        newType = addType;
        newType->next = i_environment->funcTypes;
        i_environment->funcTypes = newType;
    }

    * io_funcType = newType;
}


IM3CodePage RemoveCodePageOfCapacity (M3CodePage ** io_list, u32 i_minimumLineCount)
{
    IM3CodePage prev = NULL;
    IM3CodePage page = * io_list;

    while (page)
    {
        if (NumFreeLines (page) >= i_minimumLineCount)
        {                                                           d_m3Assert (page->info.usageCount == 0);
            IM3CodePage next = page->info.next;
            if (prev)
                prev->info.next = next; // mid-list
            else
                * io_list = next;       // front of list

            break;
        }

        prev = page;
        page = page->info.next;
    }

    return page;
}


IM3CodePage  Environment_AcquireCodePage (IM3Environment i_environment, u32 i_minimumLineCount)
{
    return RemoveCodePageOfCapacity (& i_environment->pagesReleased, i_minimumLineCount);
}


void  Environment_ReleaseCodePages  (IM3Environment i_environment, IM3CodePage i_codePageList)
{
    IM3CodePage end = i_codePageList;

    while (end)
    {
        end->info.lineIndex = 0; // reset page
        end->code [end->info.numLines + d_m3CodePageSlackLines] = NULL;     // the sink (patch 0079)
#if d_m3RecordBacktraces
        end->info.mapping->size = 0;
#endif // d_m3RecordBacktraces

        IM3CodePage next = end->info.next;
        if (not next)
            break;

        end = next;
    }

    if (end)
    {
        // push list to front
        end->info.next = i_environment->pagesReleased;
        i_environment->pagesReleased = i_codePageList;
    }
}


IM3Runtime  m3_NewRuntime  (IM3Environment i_environment, u32 i_stackSizeInBytes, void * i_userdata)
{
    IM3Runtime runtime = m3_AllocStruct (M3Runtime);

    if (runtime)
    {
        m3_ResetErrorInfo(runtime);

        runtime->environment = i_environment;
        runtime->userdata = i_userdata;
        runtime->interrupt = & runtime->noInterrupt;

        runtime->stack = m3_Malloc (i_stackSizeInBytes + 4*sizeof (m3slot_t)); // TODO: more precise stack checks

        if (runtime->stack)
        {
            runtime->numStackSlots = i_stackSizeInBytes / sizeof (m3slot_t);         m3log (runtime, "new stack: %p", runtime->stack);
        }
        else m3_Free (runtime);
    }

    return runtime;
}

IM3Runtime  m3_NewRuntimeWithStack  (IM3Environment i_environment, void * i_stack, u32 i_stackSizeInBytes, void * i_userdata)
{
    if (not i_stack or i_stackSizeInBytes < 8 * sizeof (m3slot_t))
        return NULL;

    IM3Runtime runtime = m3_AllocStruct (M3Runtime);

    if (runtime)
    {
        m3_ResetErrorInfo(runtime);

        runtime->environment = i_environment;
        runtime->userdata = i_userdata;
        runtime->interrupt = & runtime->noInterrupt;
        runtime->stack = i_stack;
        runtime->stackProvided = true;
        // the same slack past the last slot as m3_NewRuntime allocates
        runtime->numStackSlots = i_stackSizeInBytes / sizeof (m3slot_t) - 4;
    }

    return runtime;
}

void *  m3_GetUserData  (IM3Runtime i_runtime)
{
    return i_runtime ? i_runtime->userdata : NULL;
}


void *  ForEachModule  (IM3Runtime i_runtime, ModuleVisitor i_visitor, void * i_info)
{
    void * r = NULL;

    IM3Module module = i_runtime->modules;

    while (module)
    {
        IM3Module next = module->next;
        r = i_visitor (module, i_info);
        if (r)
            break;

        module = next;
    }

    return r;
}


void *  _FreeModule  (IM3Module i_module, void * i_info)
{
    m3_FreeModule (i_module);
    return NULL;
}


void  Runtime_Release  (IM3Runtime i_runtime)
{
    ForEachModule (i_runtime, _FreeModule, NULL);                   d_m3Assert (i_runtime->numActiveCodePages == 0);

    Environment_ReleaseCodePages (i_runtime->environment, i_runtime->pagesOpen);
    Environment_ReleaseCodePages (i_runtime->environment, i_runtime->pagesFull);

    if (not i_runtime->stackProvided)
        m3_Free (i_runtime->stack);
    m3_Free (i_runtime->trapFrames);
    m3_Free (i_runtime->trapOffsets);
    m3_Free (i_runtime->trapSites);
    if (i_runtime->memoryOwner and i_runtime->memoryOwner != i_runtime)
    {
        // another runtime's memory (patch 0074): its owner frees it
    }
    else if (i_runtime->memoryAllocator.release)
    {
        if (i_runtime->memory.mallocated)
            i_runtime->memoryAllocator.release (i_runtime->memoryAllocator.userdata, i_runtime->memory.mallocated);
    }
    else m3_Free (i_runtime->memory.mallocated);
}


// The wasm offset of the operation of i_function that trapped with _pc at i_pc (patch 0075): the
// trap site of the function that starts last at or before i_pc, no more than a few words before
// it (an operation reads its immediates past its start), else unknown.  Trap path only.
static u32  FindTrapSite  (IM3Function i_function, pc_t i_pc)
{
    IM3Runtime runtime = i_function->module->runtime;
    u32 index = (u32) (i_function - i_function->module->functions);
    const M3TrapSite * best = NULL;
    for (u32 i = 0; i < runtime->numTrapSites; ++i)
    {
        const M3TrapSite * site = & runtime->trapSites [i];
        if (site->function == index and site->pc < i_pc and i_pc - site->pc <= d_m3MaxOpWords and
            (not best or site->pc > best->pc))
            best = site;
    }
    return best ? best->offset : d_m3UnknownTrapOffset;
}


// Remembers an operation that can trap as it is emitted (patch 0075); without memory it is
// left out (its trap then has no offset: a diagnostic, not worth failing the compilation for).
void  AddTrapSite  (IM3Runtime io_runtime, pc_t i_pc, u32 i_offset, u32 i_function)
{
    if (io_runtime->numTrapSites == io_runtime->capTrapSites)
    {
        u32 cap = io_runtime->capTrapSites ? io_runtime->capTrapSites * 2 : 64;
        M3TrapSite * sites = m3_ReallocArray (M3TrapSite, io_runtime->trapSites, cap, io_runtime->capTrapSites);
        if (not sites)
            return;
        io_runtime->trapSites = sites;
        io_runtime->capTrapSites = cap;
    }
    M3TrapSite * site = & io_runtime->trapSites [io_runtime->numTrapSites++];
    site->pc = i_pc;
    site->offset = i_offset;
    site->function = i_function;
}


// A wasm function a trap unwinds (patch 0065): only on the trap path, nothing on the way in.
// The first d_m3MaxTrapFrames are kept; an allocation failure keeps none; imports are not
// wasm frames.
void  RecordTrapFrame  (IM3Runtime io_runtime, IM3Function i_function)
{
    if (i_function->info and i_function->info->import.moduleUtf8)
        return;
    u32 offset = io_runtime->trapOffset;        // patch 0075: where in i_function, if known
    if (offset == d_m3UnknownTrapOffset and io_runtime->numTrapFrames == 0 and io_runtime->trapPC)
        offset = FindTrapSite (i_function, io_runtime->trapPC);
    io_runtime->trapOffset = d_m3UnknownTrapOffset;
    io_runtime->trapPC = NULL;
    if (not io_runtime->trapFrames)
    {
        io_runtime->trapFrames = m3_AllocArray (IM3Function, d_m3MaxTrapFrames);
        io_runtime->trapOffsets = m3_AllocArray (u32, d_m3MaxTrapFrames);
        if (not io_runtime->trapFrames or not io_runtime->trapOffsets)
        {
            m3_Free (io_runtime->trapFrames);
            m3_Free (io_runtime->trapOffsets);
            io_runtime->trapFrames = NULL;
            io_runtime->trapOffsets = NULL;
            return;
        }
    }
    if (io_runtime->numTrapFrames < d_m3MaxTrapFrames)
    {
        io_runtime->trapOffsets [io_runtime->numTrapFrames] = offset;
        io_runtime->trapFrames [io_runtime->numTrapFrames++] = i_function;
    }
}


// A call from the embedding starts a new record of frames (patches 0065, 0075).
void  ResetTrapFrames  (IM3Runtime io_runtime)
{
    io_runtime->numTrapFrames = 0;
    io_runtime->trapOffset = d_m3UnknownTrapOffset;
    io_runtime->trapPC = NULL;
}


uint32_t  m3_GetTrapOffsets  (IM3Runtime i_runtime, uint32_t const ** o_offsets)
{
    * o_offsets = i_runtime->trapOffsets;
    return i_runtime->trapFrames ? i_runtime->numTrapFrames : 0;
}


uint32_t  m3_GetTrapFrames  (IM3Runtime i_runtime, IM3Function const ** o_frames)
{
    * o_frames = i_runtime->trapFrames;
    return i_runtime->trapFrames ? i_runtime->numTrapFrames : 0;
}


void  m3_SetInterruptFlag  (IM3Runtime io_runtime, volatile uint32_t * io_flag)
{
    io_runtime->interrupt = io_flag ? io_flag : & io_runtime->noInterrupt;
    if (io_runtime->memory.mallocated)
        io_runtime->memory.mallocated->interrupt = io_runtime->interrupt;
}


void  m3_SetFuel  (IM3Runtime io_runtime, int64_t * io_fuel)
{
    io_runtime->fuel = io_fuel;
    if (io_runtime->memory.mallocated)
        io_runtime->memory.mallocated->fuel = io_fuel;
}


void  m3_SetNativeStackLimit  (IM3Runtime io_runtime, uintptr_t i_lowestAddress)
{
    io_runtime->nativeStackLimit = i_lowestAddress;
    if (io_runtime->memory.mallocated)
        io_runtime->memory.mallocated->nativeStackLimit = i_lowestAddress;
}


void  m3_SetMemoryAllocator  (IM3Runtime io_runtime, const M3MemoryAllocator * i_allocator)
{
    if (io_runtime and not io_runtime->memory.mallocated)
        io_runtime->memoryAllocator = * i_allocator;
}


void  m3_FreeRuntime  (IM3Runtime i_runtime)
{
    if (i_runtime)
    {
        m3_PrintProfilerInfo ();

        Runtime_Release (i_runtime);
        m3_Free (i_runtime);
    }
}

// The constant expressions modules nearly always have - one constant of the expected type, or a
// function reference, then end - evaluated without compiling them (patch 0054).  Returns false
// for anything else, which EvaluateExpression compiles and runs.
// An extended constant expression (WebAssembly 3.0): i32/i64 constants, global.get of an i32/i64
// global (imported, or defined before: already evaluated) and i32/i64 add, sub, mul, leaving one
// value of the expected type (patch 0071).  The validator checked the types; a mismatch here
// returns false (the compiler then refuses the expression), never a wrong value.
static
bool  EvaluateExtendedConstant  (IM3Module i_module, void * o_expressed, u8 i_type, bytes_t * io_bytes, cbytes_t i_end)
{
    enum { c_maxDepth = 32 };
    u64 values [c_maxDepth];
    u8 types [c_maxDepth];
    u32 depth = 0;
    bytes_t bytes = * io_bytes;
    for (;;)
    {
        u8 opcode;
        if (Read_u8 (& opcode, & bytes, i_end))
            return false;
        if (opcode == c_waOp_end)
            break;
        u64 value;
        u8 type;
        switch (opcode)
        {
            case 0x41: { i32 v; if (ReadLEB_i32 (& v, & bytes, i_end)) return false; value = (u32) v; type = c_m3Type_i32; break; }
            case 0x42: { i64 v; if (ReadLEB_i64 (& v, & bytes, i_end)) return false; value = (u64) v; type = c_m3Type_i64; break; }
            case c_waOp_getGlobal:
            {
                u32 index;
                if (ReadLEB_u32 (& index, & bytes, i_end) or index >= i_module->numGlobals)
                    return false;
                M3Global * g = & i_module->globals [index];
                if (g->isMutable or (g->type != c_m3Type_i32 and g->type != c_m3Type_i64))
                    return false;
                type = g->type;
                value = type == c_m3Type_i32 ? (u64) (u32) g->intValue : (u64) g->intValue;
                break;
            }
            case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e:
            {
                type = opcode < 0x70 ? c_m3Type_i32 : c_m3Type_i64;
                if (depth < 2 or types [depth - 1] != type or types [depth - 2] != type)
                    return false;
                u64 a = values [depth - 2], b = values [depth - 1];
                depth -= 2;
                value = (opcode == 0x6a or opcode == 0x7c) ? a + b : (opcode == 0x6b or opcode == 0x7d) ? a - b : a * b;
                if (type == c_m3Type_i32)
                    value = (u32) value;
                break;
            }
            default: return false;
        }
        if (depth == c_maxDepth)
            return false;
        values [depth] = value;
        types [depth++] = type;
    }
    if (depth != 1 or types [0] != i_type)
        return false;
    if (i_type == c_m3Type_i32)
        * (u32 *) o_expressed = (u32) values [0];
    else
        * (u64 *) o_expressed = values [0];
    * io_bytes = bytes;
    return true;
}

static
bool  EvaluateConstant  (IM3Module i_module, void * o_expressed, u8 i_type, bytes_t * io_bytes, cbytes_t i_end)
{
    if ((i_type == c_m3Type_i32 or i_type == c_m3Type_i64) and
        EvaluateExtendedConstant (i_module, o_expressed, i_type, io_bytes, i_end))
        return true;

    bytes_t bytes = * io_bytes;
    u8 opcode;
    u64 value = 0;
    if (Read_u8 (& opcode, & bytes, i_end))
        return false;
    switch (opcode)
    {
        case 0x41: { i32 v; if (i_type != c_m3Type_i32 or ReadLEB_i32 (& v, & bytes, i_end)) return false; value = (u32) v; break; }
        case 0x42: { i64 v; if (i_type != c_m3Type_i64 or ReadLEB_i64 (& v, & bytes, i_end)) return false; value = (u64) v; break; }
        case 0x43: { u32 v; if (i_type != c_m3Type_f32 or Read_u32 (& v, & bytes, i_end)) return false; value = v; break; }
        case 0x44: { u64 v; if (i_type != c_m3Type_f64 or Read_u64 (& v, & bytes, i_end)) return false; value = v; break; }
        case c_waOp_refNull:
        {
            i8 waType; u8 type;
            if (ReadLEB_i7 (& waType, & bytes, i_end) or NormalizeType (& type, waType) or type != i_type)
                return false;
            break;
        }
        case 0xFD:                          // v128.const (patch 0070)
        {
            u32 simdOpcode;
            if (i_type != c_m3Type_v128 or ReadLEB_u32 (& simdOpcode, & bytes, i_end) or simdOpcode != 0x0C or
                i_end - bytes < 16)
                return false;
            memcpy (o_expressed, bytes, 16);
            bytes += 16;
            if (Read_u8 (& opcode, & bytes, i_end) or opcode != c_waOp_end)
                return false;
            * io_bytes = bytes;
            return true;
        }
        case c_waOp_refFunc:
        {
            u32 index;
            if (i_type != c_m3Type_funcref or ReadLEB_u32 (& index, & bytes, i_end) or index >= i_module->numFunctions)
                return false;
            value = (u64) (uintptr_t) & i_module->functions [index];
            break;
        }
        default: return false;
    }
    if (Read_u8 (& opcode, & bytes, i_end) or opcode != c_waOp_end)
        return false;

    if (SizeOfType (i_type) == sizeof (u32))
        * (u32 *) o_expressed = (u32) value;
    else
        * (u64 *) o_expressed = value;
    * io_bytes = bytes;
    return true;
}


M3Result  EvaluateExpression  (IM3Module i_module, void * o_expressed, u8 i_type, bytes_t * io_bytes, cbytes_t i_end)
{
    M3Result result = m3Err_none;

    if (EvaluateConstant (i_module, o_expressed, i_type, io_bytes, i_end))
        return result;

    // OPTZ: use a simplified interpreter for expressions

    // create a temporary runtime context
#if defined(d_m3PreferStaticAlloc)
    static M3Runtime runtime;
#else
    M3Runtime runtime;
#endif
    M3_INIT (runtime);

    runtime.environment = i_module->runtime->environment;
    runtime.numStackSlots = i_module->runtime->numStackSlots;
    runtime.stack = i_module->runtime->stack;
    runtime.interrupt = & runtime.noInterrupt;

    m3stack_t stack = (m3stack_t)runtime.stack;

    IM3Runtime savedRuntime = i_module->runtime;
    i_module->runtime = & runtime;

#if defined(d_m3PreferStaticAlloc)
    static M3Compilation compilation;
#else
    M3Compilation compilation;
#endif
    M3_INIT (compilation);
    IM3Compilation o = & compilation;
    o->runtime = & runtime;
    o->module =  i_module;
    o->wasm =    * io_bytes;
    o->wasmEnd = i_end;
    o->lastOpcodeStart = o->wasm;

    o->block.depth = -1;  // so that root compilation depth = 0

    //  OPTZ: this code page could be erased after use.  maybe have 'empty' list in addition to full and open?
    o->page = AcquireCodePage (& runtime);  // AcquireUnusedCodePage (...)

    if (o->page)
    {
        IM3FuncType ftype = runtime.environment->retFuncTypes[i_type];

        pc_t m3code = GetPagePC (o->page);
        result = CompileBlock (o, ftype, c_waOp_block);

        if (not result && o->maxStackSlots >= runtime.numStackSlots) {
            result = m3Err_trapStackOverflow;
        }

        if (not result)
        {
            m3ret_t r = Call (m3code, stack, NULL, d_m3OpDefaultArgs);

            if (r == 0)
            {                                                                               m3log (runtime, "expression result: %s", SPrintValue (stack, i_type));
                // 4, 8 or 16 bytes (v128, patch 0070)
                memcpy (o_expressed, stack, SizeOfType (i_type));
            }
        }

        // TODO: EraseCodePage (...) see OPTZ above
        ReleaseCodePage (& runtime, o->page);
    }
    else result = m3Err_mallocFailedCodePage;

    runtime.stack = NULL;        // prevent free(stack) in ReleaseRuntime
    Runtime_Release (& runtime);
    i_module->runtime = savedRuntime;

    * io_bytes = o->wasm;

    return result;
}


M3Result  InitMemory  (IM3Runtime io_runtime, IM3Module i_module)
{
    M3Result result = m3Err_none;                                     //d_m3Assert (not io_runtime->memory.wasmPages);

    if (not i_module->memoryImported)
    {
        u32 maxPages = i_module->memoryInfo.maxPages;
        io_runtime->memory.maxPages = maxPages ? maxPages : 65536;

        result = ResizeMemory (io_runtime, i_module->memoryInfo.initPages);
    }

    return result;
}


// extism_native patch 0074: runtimes sharing one memory (m3_ShareMemory).  The memory's header
// describes the runtime running (its stack, limits, interrupt word, fuel), so each call into a
// sharing runtime puts its own fields there and restores the caller's on return; the owner's
// M3Memory is the memory's size, copied to a sharing runtime when it runs or grows.
static void SetMemoryHeader (M3MemoryHeader * io_header, IM3Runtime i_runtime)
{
    io_header->runtime = i_runtime;
    io_header->maxStack = (m3slot_t *) i_runtime->stack + i_runtime->numStackSlots;
    io_header->nativeStackLimit = i_runtime->nativeStackLimit;
    io_header->interrupt = i_runtime->interrupt;
    io_header->fuel = i_runtime->fuel;
}

static void SyncSharedMemory (IM3Runtime io_runtime, IM3Runtime i_owner)
{
    if (io_runtime and io_runtime->memoryOwner == i_owner)
    {
        io_runtime->memory.mallocated = i_owner->memory.mallocated;
        io_runtime->memory.numPages = i_owner->memory.numPages;
    }
}

static M3MemoryHeader * EnterSharedMemory (IM3Runtime io_runtime, M3MemoryHeader * o_saved)
{
    IM3Runtime owner = io_runtime->memoryOwner;
    SyncSharedMemory (io_runtime, owner);
    M3MemoryHeader * header = owner->memory.mallocated;
    * o_saved = * header;
    SetMemoryHeader (header, io_runtime);
    return header;
}

static void LeaveSharedMemory (IM3Runtime io_runtime, const M3MemoryHeader * i_saved)
{
    IM3Runtime owner = io_runtime->memoryOwner;
    M3MemoryHeader * header = owner->memory.mallocated;
    size_t length = header->length;
    * header = * i_saved;
    header->length = length;
    SyncSharedMemory (i_saved->runtime, owner);     // the caller's runtime may go on running
}

// Call compiled code of io_runtime; the way in of every call (patch 0074)
static inline M3Result  CallRuntime  (IM3Runtime io_runtime, pc_t i_pc, m3stack_t i_sp)
{
    if (LIKELY (not io_runtime->memoryOwner))
        return (M3Result) Call (i_pc, i_sp, io_runtime->memory.mallocated, d_m3OpDefaultArgs);

    M3MemoryHeader saved;
    M3MemoryHeader * header = EnterSharedMemory (io_runtime, & saved);
    M3Result r = (M3Result) Call (i_pc, i_sp, header, d_m3OpDefaultArgs);
    LeaveSharedMemory (io_runtime, & saved);
    return r;
}

M3Result  m3_ShareMemory  (IM3Runtime io_runtime, IM3Runtime i_owner)
{
    if (not io_runtime or not i_owner or io_runtime == i_owner)
        return "memory sharing needs two runtimes";
    if (i_owner->memoryOwner)
        i_owner = i_owner->memoryOwner;
    if (not i_owner->memory.mallocated or io_runtime->memory.mallocated)
        return "memory sharing needs an owner with memory and a runtime without";

    io_runtime->memory = i_owner->memory;
    io_runtime->memoryAllocator = i_owner->memoryAllocator;     // (it grows the owner's memory)
    io_runtime->memoryLimit = i_owner->memoryLimit;
    io_runtime->memoryOwner = i_owner;
    i_owner->memoryOwner = i_owner;
    return m3Err_none;
}

M3Result  m3_LinkTable  (struct M3Table * io_table, struct M3Table * i_from)
{
    if (not io_table or not i_from) return "no such table";
    while (i_from->linked)
        i_from = i_from->linked;
    if (io_table->type != i_from->type) return "incompatible table: another element type";
    io_table->linked = i_from;
    i_from->shared = true;
    return m3Err_none;
}

// A function of another runtime called through a table (patch 0074): it runs on the caller's
// stack (its code addresses its frame relative to sp) with its own runtime's memory; the
// header gets the callee's runtime and the caller's stack end, limits, interrupt and fuel
// for the call, and the fields it had back after it (the same header when the two share
// their memory).
M3Result  CallForeignFunction  (IM3Function i_function, m3stack_t i_sp, M3MemoryHeader * i_caller)
{
    IM3Runtime runtime = i_function->module->runtime;
    IM3Runtime owner = runtime->memoryOwner ? runtime->memoryOwner : runtime;
    SyncSharedMemory (runtime, owner);
    M3MemoryHeader * header = owner->memory.mallocated;
    if (not header)
        return "a function of another module without memory state";
    M3MemoryHeader saved = * header, caller = * i_caller;
    header->runtime = runtime;
    header->maxStack = caller.maxStack;
    header->nativeStackLimit = caller.nativeStackLimit;
    header->interrupt = caller.interrupt;
    header->fuel = caller.fuel;
    M3Result r = (M3Result) Call (i_function->compiled, i_sp, header, d_m3OpDefaultArgs);
    header = owner->memory.mallocated;
    size_t length = header->length;
    * header = saved;
    header->length = length;
    SyncSharedMemory (saved.runtime, owner);
    return r;
}

M3Result  m3_LinkGlobal  (IM3Global io_global, IM3Global i_from)
{
    if (not io_global or not i_from) return m3Err_globalLookupFailed;
    while (i_from->linked)
        i_from = i_from->linked;
    if (io_global->type != i_from->type) return m3Err_globalTypeMismatch;
    if (io_global->isMutable != i_from->isMutable) return m3Err_globalNotMutable;
    io_global->linked = i_from;
    memcpy (io_global->v128Value, i_from->v128Value, sizeof (io_global->v128Value));
    return m3Err_none;
}


M3Result  ResizeMemory  (IM3Runtime io_runtime, u32 i_numPages)
{
    M3Result result = m3Err_none;

    IM3Runtime owner = io_runtime->memoryOwner;
    if (owner)
    {
        // a shared memory (patch 0074): grow the owner's, and keep the header's fields those of
        // the runtime running now (if any: the header is set anew at every call)
        M3MemoryHeader keep;
        bool had = owner->memory.mallocated != NULL;
        if (had)
            keep = * owner->memory.mallocated;
        owner->memoryOwner = NULL;
        result = ResizeMemory (owner, i_numPages);
        owner->memoryOwner = owner;
        M3MemoryHeader * header = owner->memory.mallocated;
        if (had and header)
        {
            size_t length = header->length;
            * header = keep;
            header->length = length;
            SyncSharedMemory (keep.runtime, owner);
        }
        SyncSharedMemory (io_runtime, owner);
        return result;
    }

    u32 numPagesToAlloc = i_numPages;

    M3Memory * memory = & io_runtime->memory;

#if 0 // Temporary fix for memory allocation
    if (memory->mallocated) {
        memory->numPages = i_numPages;
        memory->mallocated->end = memory->wasmPages + (memory->numPages * c_m3MemPageSize);
        return result;
    }

    i_numPagesToAlloc = 256;
#endif

    if (numPagesToAlloc <= memory->maxPages)
    {
        size_t numPageBytes = (size_t) numPagesToAlloc * d_m3MemPageSize;   // 4 GiB (patch 0069)

#if d_m3MaxLinearMemoryPages > 0
        _throwif("linear memory limitation exceeded", numPagesToAlloc > d_m3MaxLinearMemoryPages);
#endif

        // Limit the amount of memory that gets actually allocated
        if (io_runtime->memoryLimit) {
            numPageBytes = M3_MIN (numPageBytes, io_runtime->memoryLimit);
        }

        size_t numBytes = numPageBytes + sizeof (M3MemoryHeader);

        size_t numPreviousBytes = (size_t) memory->numPages * d_m3MemPageSize;
        if (numPreviousBytes)
            numPreviousBytes += sizeof (M3MemoryHeader);

        void* newMem;
        if (io_runtime->memoryAllocator.resize)
        {
            // the allocator gives fresh bytes that read as zero without touching them, so an
            // untouched page of linear memory never becomes resident
            size_t maxBytes = (size_t) memory->maxPages * d_m3MemPageSize + sizeof (M3MemoryHeader);
            newMem = io_runtime->memoryAllocator.resize (io_runtime->memoryAllocator.userdata, memory->mallocated,
                                                         numPreviousBytes, numBytes, maxBytes);
        }
        else newMem = m3_Realloc (memory->mallocated, numBytes, numPreviousBytes);
        _throwifnull(newMem);

        memory->mallocated = (M3MemoryHeader*)newMem;

# if d_m3LogRuntime
        M3MemoryHeader * oldMallocated = memory->mallocated;
# endif

        memory->numPages = numPagesToAlloc;

        memory->mallocated->length =  numPageBytes;
        memory->mallocated->runtime = io_runtime;

        memory->mallocated->maxStack = (m3slot_t *) io_runtime->stack + io_runtime->numStackSlots;
        memory->mallocated->nativeStackLimit = io_runtime->nativeStackLimit;
        memory->mallocated->interrupt = io_runtime->interrupt;
        memory->mallocated->fuel = io_runtime->fuel;

        m3log (runtime, "resized old: %p; mem: %p; length: %zu; pages: %d", oldMallocated, memory->mallocated, memory->mallocated->length, memory->numPages);
    }
    else result = m3Err_wasmMemoryOverflow;

    _catch: return result;
}


M3Result  InitGlobals  (IM3Module io_module)
{
    M3Result result = m3Err_none;

    if (io_module->numGlobals)
    {
        // placing the globals in their structs isn't good for cache locality, but i don't really know what the global
        // access patterns typcially look like yet.

        //          io_module->globalMemory = m3Alloc (m3reg_t, io_module->numGlobals);

        //          if (io_module->globalMemory)
        {
            for (u32 i = 0; i < io_module->numGlobals; ++i)
            {
                M3Global * g = & io_module->globals [i];                        m3log (runtime, "initializing global: %d", i);

                if (g->initExpr)
                {
                    bytes_t start = g->initExpr;
                    result = EvaluateExpression (io_module, & g->intValue, g->type, & start, g->initExpr + g->initExprSize);

                    if (not result)
                    {
                        // io_module->globalMemory [i] = initValue;
                    }
                    else break;
                }
                else
                {                                                               m3log (runtime, "importing global");

                }
            }
        }
        //          else result = ErrorModule (m3Err_mallocFailed, io_module, "could allocate globals for module: '%s", io_module->name);
    }

    return result;
}


M3Result  InitDataSegments  (M3Memory * io_memory, IM3Module io_module)
{
    M3Result result = m3Err_none;

    for (u32 i = 0; i < io_module->numDataSegments; ++i)
    {
        M3DataSegment * segment = & io_module->dataSegments [i];

        if (segment->passive)       // kept for memory.init (patch 0012)
            continue;

        _throwif ("unallocated linear memory", !(io_memory->mallocated));

        i32 segmentOffset;
        bytes_t start = segment->initExpr;
_       (EvaluateExpression (io_module, & segmentOffset, c_m3Type_i32, & start, segment->initExpr + segment->initExprSize));

        m3log (runtime, "loading data segment: %d; size: %d; offset: %d", i, segment->size, segmentOffset);

        // the offset is an unsigned 32-bit address
        if ((u64) (u32) segmentOffset + segment->size <= io_memory->mallocated->length)
        {
            u8 * dest = m3MemData (io_memory->mallocated) + (u32) segmentOffset;
            memcpy (dest, segment->data, segment->size);
            segment->size = 0;      // an active segment is dropped once applied
        } else {
            _throw ("data segment out of bounds");
        }
    }

    _catch: return result;
}


// Tables get their elements, all null (patch 0011)
M3Result  InitTables  (IM3Module io_module)
{
    M3Result result = m3Err_none;

    for (u32 i = 0; i < io_module->numTables; ++i)
    {
        IM3Table table = & io_module->tables [i];
        // never a zero-byte allocation: realloc would free it
        table->elements = m3_AllocArray (u64, M3_MAX (table->size, 1));
        _throwifnull (table->elements);
    }

    _catch: return result;
}


// The references of one element segment's items, written to o_elements (patch 0011).  Decoded
// items (patch 0056) are only turned into this instance's IM3Functions.
static
M3Result  ResolveElements  (IM3Module io_module, IM3ElementSegment i_segment, u64 * o_elements)
{
    M3Result result = m3Err_none;

    const u32 * indices = i_segment->functionIndices;
    if (indices)
    {
        IM3Function functions = io_module->functions;
        for (u32 e = 0; e < i_segment->size; ++e)
            o_elements [e] = indices [e] == d_m3NullFunctionIndex ? 0 : (u64) (uintptr_t) & functions [indices [e]];
        return result;
    }

    bytes_t bytes = i_segment->items;
    cbytes_t end = i_segment->itemsEnd;

    for (u32 e = 0; e < i_segment->size; ++e)
    {
        if (i_segment->itemsAreExprs)
        {
            u64 value = 0;
_           (EvaluateExpression (io_module, & value, i_segment->type, & bytes, end));
            o_elements [e] = value;
        }
        else
        {
            u32 functionIndex;
_           (ReadLEB_u32 (& functionIndex, & bytes, end));
            _throwif ("function index out of range", functionIndex >= io_module->numFunctions);
            o_elements [e] = (u64) (uintptr_t) & io_module->functions [functionIndex];
        }
    }

    _catch: return result;
}


// Active element segments are resolved straight into their tables (patch 0056) and, like
// declarative ones, dropped; passive ones are resolved for table.init.  A segment that does not
// fit fails instantiation, after the ones before it were applied (WebAssembly 2.0).  Patch 0011.
M3Result  InitElements  (IM3Module io_module)
{
    M3Result result = m3Err_none;

    for (u32 i = 0; i < io_module->numElementSegments; ++i)
    {
        IM3ElementSegment segment = & io_module->elementSegments [i];

        if (segment->mode == 0)
        {
            _throwif ("element segment table index out of range", segment->tableIndex >= io_module->numTables);
            IM3Table table = Module_GetTable (io_module, segment->tableIndex);     // patch 0074

            i32 offset;
            bytes_t start = segment->offsetExpr;
_           (EvaluateExpression (io_module, & offset, c_m3Type_i32, & start, segment->offsetExprEnd));

            _throwif ("out of bounds table access", (u64) (u32) offset + segment->size > table->size);
            _throwif ("element type mismatch", table->type != segment->type);

_           (ResolveElements (io_module, segment, table->elements + (u32) offset));
        }
        else if (segment->mode == 1)
        {
            // never a zero-byte allocation (which may return NULL)
            segment->elements = m3_AllocArray (u64, M3_MAX (segment->size, 1));
            _throwifnull (segment->elements);
_           (ResolveElements (io_module, segment, segment->elements));
        }

        if (segment->mode != 1)
            segment->size = 0;      // elem.drop
    }

    _catch: return result;
}

M3Result  m3_CompileModule  (IM3Module io_module)
{
    M3Result result = m3Err_none;

    for (u32 i = 0; i < io_module->numFunctions; ++i)
    {
        IM3Function f = & io_module->functions [i];
        if (io_module->functionInfo [i].wasm and not f->compiled)
        {
_           (CompileFunction (f));
        }
    }

    _catch: return result;
}

M3Result  m3_RunStart  (IM3Module io_module)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    // Execution disabled for fuzzing builds
    return m3Err_none;
#endif

    M3Result result = m3Err_none;

    if (io_module and io_module->startFunction >= 0)
    {
        IM3Function function = & io_module->functions [io_module->startFunction];

        if (not function->compiled)
        {
_           (CompileFunction (function));
        }

        IM3FuncType ftype = function->funcType;
        if (ftype->numArgs != 0 || ftype->numRets != 0)
            _throw (m3Err_argumentCountMismatch);

        IM3Module module = function->module;
        IM3Runtime runtime = module->runtime;

        ResetTrapFrames (runtime);                 // patch 0065, 0075
        result = CallRuntime (runtime, function->compiled, (m3stack_t) runtime->stack);
        if (result)
        {
            RecordTrapFrame (runtime, function);    // patch 0065
            _throw (result);
        }

        io_module->startFunction = -1;
    }

    _catch: return result;
}

// TODO: deal with main + side-modules loading efforcement
// A module that writes into another module's table (patch 0074) fails before it writes
// anything when one of its active segments does not fit: its functions must not stay in that
// table once it is freed (the MVP's all-or-nothing instantiation, for such modules only).
static
M3Result  CheckSegmentsOfSharedTables  (M3Memory * i_memory, IM3Module io_module)
{
    M3Result result = m3Err_none;

    bool shared = false;
    for (u32 i = 0; i < io_module->numTables; ++i)
        shared |= io_module->tables [i].linked != NULL;
    if (not shared)
        return m3Err_none;

    for (u32 i = 0; i < io_module->numElementSegments; ++i)
    {
        IM3ElementSegment segment = & io_module->elementSegments [i];
        if (segment->mode != 0)
            continue;
        _throwif ("element segment table index out of range", segment->tableIndex >= io_module->numTables);
        i32 offset;
        bytes_t start = segment->offsetExpr;
_       (EvaluateExpression (io_module, & offset, c_m3Type_i32, & start, segment->offsetExprEnd));
        _throwif ("out of bounds table access", (u64) (u32) offset + segment->size > Module_GetTable (io_module, segment->tableIndex)->size);
    }
    for (u32 i = 0; i < io_module->numDataSegments; ++i)
    {
        M3DataSegment * segment = & io_module->dataSegments [i];
        if (segment->passive)
            continue;
        i32 offset;
        bytes_t start = segment->initExpr;
_       (EvaluateExpression (io_module, & offset, c_m3Type_i32, & start, segment->initExpr + segment->initExprSize));
        _throwif ("data segment out of bounds", not i_memory->mallocated or (u64) (u32) offset + segment->size > i_memory->mallocated->length);
    }

    _catch: return result;
}

M3Result  m3_LoadModule  (IM3Runtime io_runtime, IM3Module io_module)
{
    M3Result result = m3Err_none;

    if (UNLIKELY(io_module->runtime)) {
        return m3Err_moduleAlreadyLinked;
    }

    io_module->runtime = io_runtime;
    M3Memory * memory = & io_runtime->memory;

_   (InitMemory (io_runtime, io_module));
_   (InitGlobals (io_module));
_   (InitTables (io_module));
_   (CheckSegmentsOfSharedTables (memory, io_module));     // patch 0074
    // WebAssembly 2.0 order: element segments, then data segments (patch 0011)
_   (InitElements (io_module));
_   (InitDataSegments (memory, io_module));

    // Start func might use imported functions, which are not liked here yet,
    // so it will be called before a function call is attempted (in m3_FindFunction)

#ifdef DEBUG
    Module_GenerateNames(io_module);
#endif

    io_module->next = io_runtime->modules;
    io_runtime->modules = io_module;
    return result; // ok

_catch:
    io_module->runtime = NULL;
    return result;
}

IM3Global  m3_FindGlobal  (IM3Module               io_module,
                           const char * const      i_globalName)
{
    // Search exports
    for (u32 i = 0; i < io_module->numGlobals; ++i)
    {
        IM3Global g = & io_module->globals [i];
        if (g->name and strcmp (g->name, i_globalName) == 0)
        {
            return g;
        }
    }

    // Search imports
    for (u32 i = 0; i < io_module->numGlobals; ++i)
    {
        IM3Global g = & io_module->globals [i];

        if (g->import.moduleUtf8 and g->import.fieldUtf8)
        {
            if (strcmp (g->import.fieldUtf8, i_globalName) == 0)
            {
                return g;
            }
        }
    }
    return NULL;
}

M3Result  m3_GetGlobal  (IM3Global                 i_global,
                         IM3TaggedValue            o_value)
{
    if (not i_global) return m3Err_globalLookupFailed;
    if (i_global->linked) i_global = i_global->linked;      // patch 0074

    switch (i_global->type) {
    case c_m3Type_i32: o_value->value.i32 = i_global->intValue; break;
    case c_m3Type_funcref: case c_m3Type_externref:     // references are 64-bit values (patch 0010)
    case c_m3Type_i64: o_value->value.i64 = i_global->intValue; break;
# if d_m3HasFloat
    case c_m3Type_f32: o_value->value.f32 = i_global->f32Value; break;
    case c_m3Type_f64: o_value->value.f64 = i_global->f64Value; break;
# endif
    default: return m3Err_invalidTypeId;
    }

    o_value->type = (M3ValueType)(i_global->type);
    return m3Err_none;
}

M3Result  m3_SetGlobal  (IM3Global                 i_global,
                         const IM3TaggedValue      i_value)
{
    if (not i_global) return m3Err_globalLookupFailed;
    // an immutable global keeps its value for the instance's lifetime (patch 0007)
    if (not i_global->isMutable) return m3Err_globalNotMutable;

    if (i_global->type != i_value->type) return m3Err_globalTypeMismatch;
    if (i_global->linked) i_global = i_global->linked;      // patch 0074

    switch (i_value->type) {
    case c_m3Type_i32: i_global->intValue = i_value->value.i32; break;
    case c_m3Type_funcref: case c_m3Type_externref:     // references are 64-bit values (patch 0010)
    case c_m3Type_i64: i_global->intValue = i_value->value.i64; break;
# if d_m3HasFloat
    case c_m3Type_f32: i_global->f32Value = i_value->value.f32; break;
    case c_m3Type_f64: i_global->f64Value = i_value->value.f64; break;
# endif
    default: return m3Err_invalidTypeId;
    }

    return m3Err_none;
}

M3ValueType  m3_GetGlobalType  (IM3Global          i_global)
{
    return (i_global) ? (M3ValueType)(i_global->type) : c_m3Type_none;
}


void *  v_FindFunction  (IM3Module i_module, const char * const i_name)
{
    for (u32 i = 0; i < i_module->numFunctions; ++i)
    {
        IM3Function f = & i_module->functions [i];
        const M3FunctionInfo * info = & i_module->functionInfo [i];

        bool isImported = info->import.moduleUtf8 or info->import.fieldUtf8;

        if (isImported)
            continue;

        for (int j = 0; j < info->numNames; j++)
        {
            if (info->names [j] and strcmp (info->names [j], i_name) == 0)
                return f;
        }
    }

    return NULL;
}


M3Result  m3_FindFunction  (IM3Function * o_function, IM3Runtime i_runtime, const char * const i_functionName)
{
    M3Result result = m3Err_none;                               d_m3Assert (o_function and i_runtime and i_functionName);

    IM3Function function = NULL;

    if (not i_runtime->modules) {
        _throw ("no modules loaded");
    }

    function = (IM3Function) ForEachModule (i_runtime, (ModuleVisitor) v_FindFunction, (void *) i_functionName);

    if (function)
    {
        if (not function->compiled)
        {
_           (CompileFunction (function))
        }

        // Check if start function needs to be called
        if (function->module->startFunction)
        {
_           (m3_RunStart (function->module))
        }
    }
    else _throw (ErrorModule (m3Err_functionLookupFailed, i_runtime->modules, "'%s'", i_functionName));

    _catch:
    if (result)
        function = NULL;

    * o_function = function;

    return result;
}


uint32_t  m3_GetArgCount  (IM3Function i_function)
{
    if (i_function) {
        IM3FuncType ft = i_function->funcType;
        if (ft) {
            return ft->numArgs;
        }
    }
    return 0;
}

uint32_t  m3_GetRetCount  (IM3Function i_function)
{
    if (i_function) {
        IM3FuncType ft = i_function->funcType;
        if (ft) {
            return ft->numRets;
        }
    }
    return 0;
}


M3ValueType  m3_GetArgType  (IM3Function i_function, uint32_t index)
{
    if (i_function) {
        IM3FuncType ft = i_function->funcType;
        if (ft and index < ft->numArgs) {
            return (M3ValueType)d_FuncArgType(ft, index);
        }
    }
    return c_m3Type_none;
}

M3ValueType  m3_GetRetType  (IM3Function i_function, uint32_t index)
{
    if (i_function) {
        IM3FuncType ft = i_function->funcType;
        if (ft and index < ft->numRets) {
            return (M3ValueType) d_FuncRetType (ft, index);
        }
    }
    return c_m3Type_none;
}


// Each value takes 8 bytes of the stack, a v128 16 (patch 0070)
static
u32  GetIoBytes  (u8 i_type)
{
    return i_type == c_m3Type_v128 ? 16 : 8;
}


u8 *  GetStackPointerForArgs  (IM3Function i_function)
{
    u8 * stack = (u8 *) i_function->module->runtime->stack;
    IM3FuncType ftype = i_function->funcType;

    for (u32 i = 0; i < ftype->numRets; ++i)
        stack += GetIoBytes (d_FuncRetType (ftype, i));

    return stack;
}


M3Result  m3_CallV  (IM3Function i_function, ...)
{
    va_list ap;
    va_start(ap, i_function);
    M3Result r = m3_CallVL(i_function, ap);
    va_end(ap);
    return r;
}

static
void  ReportNativeStackUsage  ()
{
#   if d_m3LogNativeStack
        int stackUsed =  m3StackGetMax();
        fprintf (stderr, "Native stack used: %d\n", stackUsed);
#   endif
}


M3Result  m3_CallVL  (IM3Function i_function, va_list i_args)
{
    IM3Runtime runtime = i_function->module->runtime;
    IM3FuncType ftype = i_function->funcType;

    if (!i_function->compiled) {
        return m3Err_missingCompiledCode;
    }

# if d_m3RecordBacktraces
    ClearBacktrace (runtime);
# endif

    ResetTrapFrames (runtime);                     // patch 0065, 0075
    u8* s = GetStackPointerForArgs (i_function);

    for (u32 i = 0; i < ftype->numArgs; ++i)
    {
        switch (d_FuncArgType(ftype, i)) {
        case c_m3Type_i32:  *(i32*)(s) = va_arg(i_args, i32);  s += 8; break;
        case c_m3Type_funcref: case c_m3Type_externref:     // references are 64-bit values (patch 0010)
        case c_m3Type_i64:  *(i64*)(s) = va_arg(i_args, i64);  s += 8; break;
# if d_m3HasFloat
        case c_m3Type_f32:  *(f32*)(s) = va_arg(i_args, f64);  s += 8; break; // f32 is passed as f64
        case c_m3Type_f64:  *(f64*)(s) = va_arg(i_args, f64);  s += 8; break;
# endif
        default: return "unknown argument type";
        }
    }
    m3StackCheckInit();
    M3Result r = CallRuntime (runtime, i_function->compiled, (m3stack_t)(runtime->stack));
    ReportNativeStackUsage ();
    if (r)
        RecordTrapFrame (runtime, i_function);      // patch 0065

    runtime->lastCalled = r ? NULL : i_function;

    return r;
}

M3Result  m3_Call  (IM3Function i_function, uint32_t i_argc, const void * i_argptrs[])
{
    IM3Runtime runtime = i_function->module->runtime;
    IM3FuncType ftype = i_function->funcType;

    if (i_argc != ftype->numArgs) {
        return m3Err_argumentCountMismatch;
    }
    if (!i_function->compiled) {
        return m3Err_missingCompiledCode;
    }

# if d_m3RecordBacktraces
    ClearBacktrace (runtime);
# endif

    ResetTrapFrames (runtime);                     // patch 0065, 0075
    u8* s = GetStackPointerForArgs (i_function);

    for (u32 i = 0; i < ftype->numArgs; ++i)
    {
        switch (d_FuncArgType(ftype, i)) {
        case c_m3Type_i32:  *(i32*)(s) = *(i32*)i_argptrs[i];  s += 8; break;
        case c_m3Type_funcref: case c_m3Type_externref:     // references are 64-bit values (patch 0010)
        case c_m3Type_i64:  *(i64*)(s) = *(i64*)i_argptrs[i];  s += 8; break;
# if d_m3HasFloat
        case c_m3Type_f32:  *(f32*)(s) = *(f32*)i_argptrs[i];  s += 8; break;
        case c_m3Type_f64:  *(f64*)(s) = *(f64*)i_argptrs[i];  s += 8; break;
# endif
        case c_m3Type_v128: memcpy (s, i_argptrs[i], 16);     s += 16; break;   // patch 0070
        default: return "unknown argument type";
        }
    }

    m3StackCheckInit();
    M3Result r = CallRuntime (runtime, i_function->compiled, (m3stack_t)(runtime->stack));
    ReportNativeStackUsage ();
    if (r)
        RecordTrapFrame (runtime, i_function);      // patch 0065

    runtime->lastCalled = r ? NULL : i_function;


    return r;
}

static inline bool IsSlot32 (u8 i_type)
{
    return i_type == c_m3Type_i32 or i_type == c_m3Type_f32;
}

// The arguments in io_slots [0 .. numArgs), the results back in io_slots [0 .. numRets), one
// 64-bit value each: a 32-bit one in the low half, the high half zero (patch 0068).  No
// pointer per argument.  The function is compiled (the caller made sure); lastCalled is not
// kept (it serves m3_GetResults).  A v128 takes two values, of its bytes 0-7 and 8-15 read
// as little-endian numbers (patch 0070), as it takes 16 bytes of the stack.

// a v128's 16 bytes (wasm byte order) <-> two 64-bit values, bytes 0-7 first (patch 0070)
static void V128ToSlots (uint64_t * o_slots, const void * i_bytes)
{
    const u8 * b = (const u8 *) i_bytes;
    for (u32 h = 0; h < 2; ++h)
    {
        u64 v = 0;
        for (u32 k = 8; k-- > 0;)
            v = (v << 8) | b [8 * h + k];
        o_slots [h] = v;
    }
}

static void V128FromSlots (void * o_bytes, const uint64_t * i_slots)
{
    u8 * b = (u8 *) o_bytes;
    for (u32 h = 0; h < 2; ++h)
    {
        u64 v = i_slots [h];
        for (u32 k = 0; k < 8; ++k, v >>= 8)
            b [8 * h + k] = (u8) v;
    }
}

M3Result  m3_CallSlots  (IM3Function i_function, uint64_t * io_slots)
{
    IM3Runtime runtime = i_function->module->runtime;
    IM3FuncType ftype = i_function->funcType;

# if d_m3RecordBacktraces
    ClearBacktrace (runtime);
# endif

    ResetTrapFrames (runtime);                     // patch 0065, 0075
    u64 * stack = (u64 *) runtime->stack;
    u32 numRets = ftype->numRets;
    u32 retSlots = numRets;                         // the arguments follow the results' slots
    for (u32 i = 0; i < numRets; ++i)
        retSlots += ftype->types [i] == c_m3Type_v128;
    u64 * args = stack + retSlots;
    for (u32 i = 0, k = 0; i < ftype->numArgs; ++i, ++k)
    {
        u8 type = ftype->types [numRets + i];
        if (IsSlot32 (type))
            * (u32 *) & args [k] = (u32) io_slots [k];  // as the stack holds it
        else if (type == c_m3Type_v128)
        {
            V128FromSlots (& args [k], & io_slots [k]);
            ++k;
        }
        else
            args [k] = io_slots [k];
    }

    m3StackCheckInit();
    M3Result r = CallRuntime (runtime, i_function->compiled, (m3stack_t) stack);
    ReportNativeStackUsage ();

    if (r)
    {
        RecordTrapFrame (runtime, i_function);      // patch 0065
        return r;
    }
    for (u32 i = 0, k = 0; i < numRets; ++i, ++k)
    {
        u8 type = ftype->types [i];
        if (IsSlot32 (type))
            io_slots [k] = * (u32 *) & stack [k];
        else if (type == c_m3Type_v128)
        {
            V128ToSlots (& io_slots [k], & stack [k]);
            ++k;
        }
        else
            io_slots [k] = stack [k];
    }
    return m3Err_none;
}

M3Result  m3_CallArgv  (IM3Function i_function, uint32_t i_argc, const char * i_argv[])
{
    IM3FuncType ftype = i_function->funcType;
    IM3Runtime runtime = i_function->module->runtime;

    if (i_argc != ftype->numArgs) {
        return m3Err_argumentCountMismatch;
    }
    if (!i_function->compiled) {
        return m3Err_missingCompiledCode;
    }

# if d_m3RecordBacktraces
    ClearBacktrace (runtime);
# endif

    ResetTrapFrames (runtime);                     // patch 0065, 0075
    u8* s = GetStackPointerForArgs (i_function);

    for (u32 i = 0; i < ftype->numArgs; ++i)
    {
        switch (d_FuncArgType(ftype, i)) {
        case c_m3Type_i32:  *(i32*)(s) = strtoul(i_argv[i], NULL, 10);  s += 8; break;
        case c_m3Type_funcref: case c_m3Type_externref:     // references are 64-bit values (patch 0010)
        case c_m3Type_i64:  *(i64*)(s) = strtoull(i_argv[i], NULL, 10); s += 8; break;
# if d_m3HasFloat
        case c_m3Type_f32:  *(f32*)(s) = strtod(i_argv[i], NULL);       s += 8; break;  // strtof would be less portable
        case c_m3Type_f64:  *(f64*)(s) = strtod(i_argv[i], NULL);       s += 8; break;
# endif
        default: return "unknown argument type";
        }
    }

    m3StackCheckInit();
    M3Result r = CallRuntime (runtime, i_function->compiled, (m3stack_t)(runtime->stack));
    ReportNativeStackUsage ();
    if (r)
        RecordTrapFrame (runtime, i_function);      // patch 0065

    runtime->lastCalled = r ? NULL : i_function;

    return r;
}


//u8 * AlignStackPointerTo64Bits (const u8 * i_stack)
//{
//    uintptr_t ptr = (uintptr_t) i_stack;
//    return (u8 *) ((ptr + 7) & ~7);
//}


M3Result  m3_GetResults  (IM3Function i_function, uint32_t i_retc, const void * o_retptrs[])
{
    IM3FuncType ftype = i_function->funcType;
    IM3Runtime runtime = i_function->module->runtime;

    if (i_retc != ftype->numRets) {
        return m3Err_argumentCountMismatch;
    }
    if (i_function != runtime->lastCalled) {
        return "function not called";
    }

    u8* s = (u8*) runtime->stack;

    for (u32 i = 0; i < ftype->numRets; ++i)
    {
        switch (d_FuncRetType(ftype, i)) {
        case c_m3Type_i32:  *(i32*)o_retptrs[i] = *(i32*)(s); s += 8; break;
        case c_m3Type_funcref: case c_m3Type_externref:     // references are 64-bit values (patch 0010)
        case c_m3Type_i64:  *(i64*)o_retptrs[i] = *(i64*)(s); s += 8; break;
# if d_m3HasFloat
        case c_m3Type_f32:  *(f32*)o_retptrs[i] = *(f32*)(s); s += 8; break;
        case c_m3Type_f64:  *(f64*)o_retptrs[i] = *(f64*)(s); s += 8; break;
# endif
        case c_m3Type_v128: memcpy ((void *) o_retptrs[i], s, 16); s += 16; break;  // patch 0070
        default: return "unknown return type";
        }
    }
    return m3Err_none;
}

M3Result  m3_GetResultsV  (IM3Function i_function, ...)
{
    va_list ap;
    va_start(ap, i_function);
    M3Result r = m3_GetResultsVL(i_function, ap);
    va_end(ap);
    return r;
}

M3Result  m3_GetResultsVL  (IM3Function i_function, va_list o_rets)
{
    IM3Runtime runtime = i_function->module->runtime;
    IM3FuncType ftype = i_function->funcType;

    if (i_function != runtime->lastCalled) {
        return "function not called";
    }

    u8* s = (u8*) runtime->stack;
    for (u32 i = 0; i < ftype->numRets; ++i)
    {
        switch (d_FuncRetType(ftype, i)) {
        case c_m3Type_i32:  *va_arg(o_rets, i32*) = *(i32*)(s);  s += 8; break;
        case c_m3Type_funcref: case c_m3Type_externref:     // references are 64-bit values (patch 0010)
        case c_m3Type_i64:  *va_arg(o_rets, i64*) = *(i64*)(s);  s += 8; break;
# if d_m3HasFloat
        case c_m3Type_f32:  *va_arg(o_rets, f32*) = *(f32*)(s);  s += 8; break;
        case c_m3Type_f64:  *va_arg(o_rets, f64*) = *(f64*)(s);  s += 8; break;
# endif
        default: return "unknown argument type";
        }
    }
    return m3Err_none;
}

void  ReleaseCodePageNoTrack (IM3Runtime i_runtime, IM3CodePage i_codePage)
{
    if (i_codePage)
    {
        IM3CodePage * list;

        if (CodePageOverflowed (i_codePage))        // its compilation fails (patch 0079)
            i_runtime->codePageOverflowed = true;

        bool pageFull = (NumFreeLines (i_codePage) < d_m3CodePageFreeLinesThreshold);
        if (pageFull)
            list = & i_runtime->pagesFull;
        else
            list = & i_runtime->pagesOpen;

        PushCodePage (list, i_codePage);                        m3log (emit, "release page: %d to queue: '%s'", i_codePage->info.sequence, pageFull ? "full" : "open")
    }
}


IM3CodePage  AcquireCodePageWithCapacity  (IM3Runtime i_runtime, u32 i_minLineCount)
{
    IM3CodePage page = RemoveCodePageOfCapacity (& i_runtime->pagesOpen, i_minLineCount);

    if (not page)
    {
        page = Environment_AcquireCodePage (i_runtime->environment, i_minLineCount);

        if (not page)
            page = NewCodePage (i_minLineCount);

        if (page)
            i_runtime->numCodePages++;
    }

    if (page)
    {                                                            m3log (emit, "acquire page: %d", page->info.sequence);
        i_runtime->numActiveCodePages++;
    }

    return page;
}


IM3CodePage  AcquireCodePage  (IM3Runtime i_runtime)
{
    return AcquireCodePageWithCapacity (i_runtime, d_m3CodePageFreeLinesThreshold);
}


void  ReleaseCodePage  (IM3Runtime i_runtime, IM3CodePage i_codePage)
{
    if (i_codePage)
    {
        ReleaseCodePageNoTrack (i_runtime, i_codePage);
        i_runtime->numActiveCodePages--;

#       if defined (DEBUG)
            u32 numOpen = CountCodePages (i_runtime->pagesOpen);
            u32 numFull = CountCodePages (i_runtime->pagesFull);

            m3log (runtime, "runtime: %p; open-pages: %d; full-pages: %d; active: %d; total: %d", i_runtime, numOpen, numFull, i_runtime->numActiveCodePages, i_runtime->numCodePages);

            d_m3Assert (numOpen + numFull + i_runtime->numActiveCodePages == i_runtime->numCodePages);

#           if d_m3LogCodePages
                dump_code_page (i_codePage, /* startPC: */ NULL);
#           endif
#       endif
    }
}


#if d_m3VerboseErrorMessages
M3Result  m3Error  (M3Result i_result, IM3Runtime i_runtime, IM3Module i_module, IM3Function i_function,
                    const char * const i_file, u32 i_lineNum, const char * const i_errorMessage, ...)
{
    if (i_runtime)
    {
        i_runtime->error = (M3ErrorInfo){ .result = i_result, .runtime = i_runtime, .module = i_module,
                                          .function = i_function, .file = i_file, .line = i_lineNum };
        i_runtime->error.message = i_runtime->error_message;

        va_list args;
        va_start (args, i_errorMessage);
        vsnprintf (i_runtime->error_message, sizeof(i_runtime->error_message), i_errorMessage, args);
        va_end (args);
    }

    return i_result;
}
#endif


void  m3_GetErrorInfo  (IM3Runtime i_runtime, M3ErrorInfo* o_info)
{
    if (i_runtime)
    {
        *o_info = i_runtime->error;
        m3_ResetErrorInfo (i_runtime);
    }
}


void m3_ResetErrorInfo (IM3Runtime i_runtime)
{
    if (i_runtime)
    {
        M3_INIT(i_runtime->error);
        i_runtime->error.message = "";
    }
}

uint8_t *  m3_GetMemory  (IM3Runtime i_runtime, uint32_t * o_memorySizeInBytes, uint32_t i_memoryIndex)
{
    uint8_t * memory = NULL;                                                    d_m3Assert (i_memoryIndex == 0);

    if (i_runtime)
    {
        u32 size = (u32) i_runtime->memory.mallocated->length;

        if (o_memorySizeInBytes)
            * o_memorySizeInBytes = size;

        if (size)
            memory = m3MemData (i_runtime->memory.mallocated);
    }

    return memory;
}


uint32_t  m3_GetMemorySize  (IM3Runtime i_runtime)
{
    return i_runtime->memory.mallocated->length;
}


M3BacktraceInfo *  m3_GetBacktrace  (IM3Runtime i_runtime)
{
# if d_m3RecordBacktraces
    return & i_runtime->backtrace;
# else
    return NULL;
# endif
}

