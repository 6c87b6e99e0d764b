//
//  m3_env.h
//
//  Created by Steven Massey on 4/19/19.
//  Copyright © 2019 Steven Massey. All rights reserved.
//

#ifndef m3_env_h
#define m3_env_h

#include "wasm3.h"
#include "m3_code.h"
#include "m3_compile.h"

d_m3BeginExternC


//---------------------------------------------------------------------------------------------------------------------------------

typedef struct M3MemoryInfo
{
    u32     initPages;
    u32     maxPages;
}
M3MemoryInfo;


typedef struct M3Memory
{
    M3MemoryHeader *        mallocated;

    u32                     numPages;
    u32                     maxPages;
}
M3Memory;

typedef M3Memory *          IM3Memory;


//---------------------------------------------------------------------------------------------------------------------------------

typedef struct M3DataSegment
{
    const u8 *              initExpr;           // wasm code
    const u8 *              data;

    u32                     initExprSize;
    u32                     memoryRegion;
    u32                     size;               // 0 once dropped (patch 0012)
    bool                    passive;            // else active: applied at instantiation, then dropped
}
M3DataSegment;

typedef M3DataSegment *     IM3DataSegment;

//---------------------------------------------------------------------------------------------------------------------------------

typedef struct M3Global
{
    M3ImportInfo            import;

    union
    {
        i64 intValue;
#if d_m3HasFloat
        f64 f64Value;
        f32 f32Value;
#endif
        u8  v128Value [16];         // patch 0070: in wasm byte order
    };

    cstr_t                  name;
    bytes_t                 initExpr;       // wasm code
    u32                     initExprSize;
    u8                      type;
    bool                    imported;
    bool                    isMutable;
    struct M3Global *       linked;         // extism_native patch 0074: an import that is another
                                            // module's global (m3_LinkGlobal): its value is there
}
M3Global;


//---------------------------------------------------------------------------------------------------------------------------------

// Tables (extism_native patch 0011): any number, of funcref or externref, each element a
// 64-bit reference (0 = null; a funcref is the function's IM3Function)
typedef struct M3Table
{
    u64 *                   elements;
    u32                     size;
    u32                     maxSize;            // declared maximum, or d_m3MaxTableSize
    u8                      type;               // c_m3Type_funcref or c_m3Type_externref
    bool                    imported;           // an import gets a table of its own, of the declared size
    M3ImportInfo            import;
    struct M3Table *        linked;             // extism_native patch 0074: an import that is another
                                                // module's table (m3_LinkTable): its elements are there
    bool                    shared;             // patch 0074: another module links to it (its
                                                // elements may be other runtimes' functions)
}
M3Table;

typedef M3Table *           IM3Table;

#define d_m3MaxTableSize    (1u << 20)          // elements; a larger table or growth fails

// An element segment: its items are resolved to references when the module is instantiated;
// an active or declarative segment is then dropped (size 0), a passive one feeds table.init.
// The parser decodes the items once into function indices (patch 0056), so an instance only
// turns them into its own IM3Functions; an active segment is written straight into its table.
typedef struct M3ElementSegment
{
    bytes_t                 offsetExpr;         // active: the offset expression
    bytes_t                 offsetExprEnd;
    bytes_t                 items;              // the item vector's first item
    bytes_t                 itemsEnd;
    u32 *                   functionIndices;    // decoded items (d_m3NullFunctionIndex: ref.null), or
                                                // NULL if an item is another expression; a clone borrows it
    u64 *                   elements;           // resolved items (passive, or not decoded)
    u32                     size;               // number of items; 0 once dropped
    u32                     tableIndex;
    u8                      mode;               // 0 active, 1 passive, 2 declarative
    u8                      type;               // element type
    bool                    itemsAreExprs;      // else function indices
}
M3ElementSegment;

typedef M3ElementSegment *  IM3ElementSegment;

#define d_m3NullFunctionIndex   0xFFFFFFFFu     // a decoded ref.null item (patch 0056)

//---------------------------------------------------------------------------------------------------------------------------------
typedef struct M3Module
{
    struct M3Runtime *      runtime;
    struct M3Environment *  environment;

    bytes_t                 wasmStart;
    bytes_t                 wasmEnd;

    cstr_t                  name;

    u32                     numFuncTypes;
    IM3FuncType *           funcTypes;              // array of pointers to list of FuncTypes

    u32                     numFuncImports;
    u32                     numFunctions;
    u32                     functionsAllocated; // entries of the two arrays below (patch 0067)
    M3Function *            functions;
    M3FunctionInfo *        functionInfo;           // numFunctions, parallel to functions; a clone borrows it (patch 0057)
    struct M3Constants *    constants;              // of the functions compiled so far (patch 0057)

    i32                     startFunction;

    u32                     numDataSegments;
    M3DataSegment *         dataSegments;
    i64                     dataCount;          // the data count section's, or -1 (patch 0012)

    //u32                     importedGlobals;
    u32                     numGlobals;
    M3Global *              globals;

    u32                     numElementSegments;
    M3ElementSegment *      elementSegments;

    u32                     numTables;          // imported ones first (patch 0011)
    M3Table *               tables;

    M3MemoryInfo            memoryInfo;
    bool                    memoryImported;
    bool                    hasMemory;          // defined or imported (patch 0012)

    //bool                    hasWasmCodeCopy;

    struct M3Module *       next;
    struct M3Module *       parsedFrom;         // of a clone, which borrows its parse (patch 0050)
}
M3Module;

M3Result                    Module_AddGlobal            (IM3Module io_module, IM3Global * o_global, u8 i_type, bool i_mutable, bool i_isImported);

M3Result                    Module_AddFunction          (IM3Module io_module, u32 i_typeIndex, IM3ImportInfo i_importInfo /* can be null */);
M3Result                    Module_ReserveFunctions     (IM3Module io_module, u32 i_count);
M3Result                    Module_AddTable             (IM3Module io_module, IM3Table * o_table);
IM3Function                 Module_GetFunction          (IM3Module i_module, u32 i_functionIndex);
void *                      Module_CopyConstants        (IM3Module io_module, const void * i_constants, size_t i_size);

void                        Module_GenerateNames        (IM3Module i_module);

void                        FreeImportInfo              (M3ImportInfo * i_info);

//---------------------------------------------------------------------------------------------------------------------------------

typedef struct M3Environment
{
//    struct M3Runtime *      runtimes;

    IM3FuncType             funcTypes;                          // linked list of unique M3FuncType structs that can be compared using pointer-equivalence

    IM3FuncType             retFuncTypes [c_m3Type_unknown];    // these 'point' to elements in the linked list above.
                                                                // the number of elements must match the basic types as per M3ValueType
    M3CodePage *            pagesReleased;
}
M3Environment;

void                        Environment_Release         (IM3Environment i_environment);

// takes ownership of io_funcType and returns a pointer to the persistent version (could be same or different)
void                        Environment_AddFuncType     (IM3Environment i_environment, IM3FuncType * io_funcType);

//---------------------------------------------------------------------------------------------------------------------------------

// An operation that can trap (patch 0075): where its code starts and its wasm offset.
typedef struct M3TrapSite
{
    pc_t                    pc;
    u32                     offset;
    u32                     function;           // its function's index in the module
}
M3TrapSite;

typedef struct M3Runtime
{
    IM3Environment          environment;

    M3CodePage *            pagesOpen;      // linked list of code pages with writable space on them
    M3CodePage *            pagesFull;      // linked list of at-capacity pages

    u32                     numCodePages;
    u32                     numActiveCodePages;
    bool                    codePageOverflowed;     // sticky: every later compilation fails (patch 0079)

    IM3Module               modules;        // linked list of imported modules

    void *                  stack;
    bool                    stackProvided;      // by the embedder, who frees it (patch 0053)
    u32                     stackSize;
    u32                     numStackSlots;
    IM3Function             lastCalled;     // last function that successfully executed

    void *                  userdata;

    M3Memory                memory;
    u32                     memoryLimit;
    M3MemoryAllocator       memoryAllocator;    // extism_native patch 0001: optional, zeroed = use m3_Realloc
    uintptr_t               nativeStackLimit;   // extism_native patch 0003: 0 = unchecked
    volatile uint32_t *     interrupt;          // extism_native patch 0004: bit 0 set = stop
    uint32_t                noInterrupt;        // what `interrupt` points to by default
    int64_t *               fuel;               // extism_native patch 0073: NULL = no fuel
    IM3Function *           trapFrames;         // extism_native patch 0065: the functions a trap
    u32                     numTrapFrames;      // unwound, innermost first (allocated at the first)
    u32 *                   trapOffsets;        // patch 0075: the wasm offset in each of them
    u32                     trapOffset;         // where the frame recorded next was (unknown: ~0)
    pc_t                    trapPC;             // the _pc of the operation that trapped
    struct M3TrapSite *     trapSites;          // the operations of this runtime's code that
    u32                     numTrapSites;       // can trap, in the order compiled (patch 0075)
    u32                     capTrapSites;
    IM3Function             tailCallee;         // patch 0072: what op_ReturnCall hands to op_Entry
    struct M3Runtime *      memoryOwner;        // extism_native patch 0074: NULL, or the runtime whose
                                                // memory this one shares (itself for the owner)

#if d_m3EnableStrace >= 2
    u32                     callDepth;
#endif

    M3ErrorInfo             error;
#if d_m3VerboseErrorMessages
    char                    error_message[256]; // the actual buffer. M3ErrorInfo can point to this
#endif

#if d_m3RecordBacktraces
    M3BacktraceInfo         backtrace;
#endif
}
M3Runtime;

void                        InitRuntime                 (IM3Runtime io_runtime, u32 i_stackSizeInBytes);
void                        RecordTrapFrame             (IM3Runtime io_runtime, IM3Function i_function);
void                        ResetTrapFrames             (IM3Runtime io_runtime);
void                        AddTrapSite                 (IM3Runtime io_runtime, pc_t i_pc, u32 i_offset, u32 i_function);
void                        Runtime_Release             (IM3Runtime io_runtime);

M3Result                    ResizeMemory                (IM3Runtime io_runtime, u32 i_numPages);
M3Result                    CallForeignFunction         (IM3Function i_function, m3stack_t i_sp, M3MemoryHeader * i_caller);

// table i of a module: its own, or the one it is linked to (patch 0074)
static inline M3Table *     Module_GetTable             (IM3Module i_module, u32 i_index)
{
    M3Table * table = & i_module->tables [i_index];
    return table->linked ? table->linked : table;
}

typedef void *              (* ModuleVisitor)           (IM3Module i_module, void * i_info);
void *                      ForEachModule               (IM3Runtime i_runtime, ModuleVisitor i_visitor, void * i_info);

void *                      v_FindFunction              (IM3Module i_module, const char * const i_name);

IM3CodePage                 AcquireCodePage             (IM3Runtime io_runtime);
IM3CodePage                 AcquireCodePageWithCapacity (IM3Runtime io_runtime, u32 i_lineCount);
void                        ReleaseCodePage             (IM3Runtime io_runtime, IM3CodePage i_codePage);

d_m3EndExternC

#endif // m3_env_h
