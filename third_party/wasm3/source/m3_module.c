//
//  m3_module.c
//
//  Created by Steven Massey on 5/7/19.
//  Copyright © 2019 Steven Massey. All rights reserved.
//

#include "m3_env.h"
#include "m3_exception.h"


// The constants of a compiled function, in a list of the module's (patch 0057): freeing a
// clone of thousands of functions, most never compiled, need not visit them all
typedef struct M3Constants
{
    union { struct M3Constants * next; u64 align; } link;  // data 8 bytes in on every host (i386: u64 aligns to 4)
    u64                     data [];
}
M3Constants;


void *  Module_CopyConstants  (IM3Module io_module, const void * i_constants, size_t i_size)
{
    M3Constants * block = (M3Constants *) m3_Malloc (sizeof (M3Constants) + i_size);
    if (not block)
        return NULL;
    memcpy (block->data, i_constants, i_size);
    block->link.next = io_module->constants;
    io_module->constants = block;
    return block->data;
}


static
void  FreeConstants  (IM3Module i_module)
{
    M3Constants * block = i_module->constants;
    while (block)
    {
        M3Constants * next = block->link.next;
        m3_Free (block);
        block = next;
    }
    i_module->constants = NULL;
}


void Module_FreeFunctions (IM3Module i_module)
{
    if (i_module->functionInfo)
    {
        for (u32 i = 0; i < i_module->numFunctions; ++i)
            FunctionInfo_Release (& i_module->functionInfo [i]);
    }
#   if (d_m3EnableCodePageRefCounting)
    for (u32 i = 0; i < i_module->numFunctions; ++i)
        m3_Free (i_module->functions [i].codePageRefs);
#   endif
    FreeConstants (i_module);
}


// A clone owns only the arrays an instance changes, not what they point into (patch 0050)
static
void  FreeClone  (IM3Module i_module)
{
    FreeConstants (i_module);
#   if (d_m3EnableCodePageRefCounting)
    for (u32 i = 0; i < i_module->numFunctions; ++i)
        m3_Free (i_module->functions [i].codePageRefs);
#   endif
    m3_Free (i_module->functions);
    m3_Free (i_module->dataSegments);
    for (u32 i = 0; i < i_module->numTables; ++i)
        m3_Free (i_module->tables [i].elements);
    m3_Free (i_module->tables);
    for (u32 i = 0; i < i_module->numElementSegments; ++i)
        m3_Free (i_module->elementSegments [i].elements);      // (functionIndices: the template's)
    m3_Free (i_module->elementSegments);
    m3_Free (i_module->globals);
    m3_Free (i_module);
}


void  m3_FreeModule  (IM3Module i_module)
{
    if (i_module and i_module->parsedFrom)
        FreeClone (i_module);
    else if (i_module)
    {
        m3log (module, "freeing module: %s (funcs: %d; segments: %d)",
               i_module->name, i_module->numFunctions, i_module->numDataSegments);

        Module_FreeFunctions (i_module);

        m3_Free (i_module->functions);
        m3_Free (i_module->functionInfo);
        //m3_Free (i_module->imports);
        m3_Free (i_module->funcTypes);
        m3_Free (i_module->dataSegments);

        for (u32 i = 0; i < i_module->numTables; ++i)
        {
            m3_Free (i_module->tables[i].elements);
            FreeImportInfo (& i_module->tables[i].import);
        }
        m3_Free (i_module->tables);

        for (u32 i = 0; i < i_module->numElementSegments; ++i)
        {
            m3_Free (i_module->elementSegments[i].elements);
            m3_Free (i_module->elementSegments[i].functionIndices);
        }
        m3_Free (i_module->elementSegments);

        for (u32 i = 0; i < i_module->numGlobals; ++i)
        {
            m3_Free (i_module->globals[i].name);
            FreeImportInfo(&(i_module->globals[i].import));
        }
        m3_Free (i_module->globals);

        m3_Free (i_module);
    }
}


static
M3Result  CopyArray  (void ** o_copy, const void * i_array, size_t i_count, size_t i_size)
{
    * o_copy = NULL;
    if (not i_count)
        return m3Err_none;
    * o_copy = m3_CopyMem (i_array, i_count * i_size);
    return * o_copy ? m3Err_none : m3Err_mallocFailed;
}


M3Result  m3_CloneModule  (IM3Module i_template, IM3Module * o_module)
{
    M3Result result = m3Err_none;

    IM3Module module = NULL;
_try {
    _throwif ("only a parsed, never loaded module can be cloned", i_template->runtime or i_template->parsedFrom);
    module = m3_AllocStruct (M3Module);
    _throwifnull (module);
    * module = * i_template;
    module->parsedFrom = i_template;
    module->next = NULL;
    module->functions = NULL;
    module->dataSegments = NULL;
    module->globals = NULL;
    module->elementSegments = NULL;
    module->tables = NULL;
    module->constants = NULL;
    // (counts stay as parsed: FreeClone walks the arrays, so allocate before trusting them)
    u32 numFunctions = module->numFunctions, numTables = module->numTables;
    u32 numSegments = module->numElementSegments;
    module->numFunctions = module->numTables = module->numElementSegments = 0;

_   (CopyArray ((void **) & module->functions, i_template->functions, numFunctions, sizeof (M3Function)));
    module->numFunctions = module->functionsAllocated = numFunctions;
    for (u32 i = 0; i < numFunctions; ++i)
        module->functions [i].module = module;
_   (CopyArray ((void **) & module->dataSegments, i_template->dataSegments, module->numDataSegments, sizeof (M3DataSegment)));
_   (CopyArray ((void **) & module->globals, i_template->globals, module->numGlobals, sizeof (M3Global)));
_   (CopyArray ((void **) & module->tables, i_template->tables, numTables, sizeof (M3Table)));
    module->numTables = numTables;
_   (CopyArray ((void **) & module->elementSegments, i_template->elementSegments, numSegments, sizeof (M3ElementSegment)));
    module->numElementSegments = numSegments;

} _catch:
    if (result)
    {
        m3_FreeModule (module);
        module = NULL;
    }
    * o_module = module;
    return result;
}


M3Result  Module_AddGlobal  (IM3Module io_module, IM3Global * o_global, u8 i_type, bool i_mutable, bool i_isImported)
{
    M3Result result = m3Err_none;
_try {
    u32 index = io_module->numGlobals++;
    io_module->globals = m3_ReallocArray (M3Global, io_module->globals, io_module->numGlobals, index);
    _throwifnull(io_module->globals);
    M3Global * global = & io_module->globals [index];

    global->type = i_type;
    global->imported = i_isImported;
    global->isMutable = i_mutable;

    if (o_global)
        * o_global = global;

} _catch:
    return result;
}


M3Result  Module_AddTable  (IM3Module io_module, IM3Table * o_table)
{
    M3Result result = m3Err_none;
_try {
    _throwif ("too many tables", io_module->numTables >= d_m3MaxSaneTablesCount);
    u32 index = io_module->numTables;
    io_module->tables = m3_ReallocArray (M3Table, io_module->tables, index + 1, index);
    _throwifnull (io_module->tables);
    io_module->numTables = index + 1;
    * o_table = & io_module->tables [index];
} _catch:
    return result;
}


// Room for i_count functions in both arrays, the new entries zeroed (patch 0067).
M3Result  Module_ReserveFunctions  (IM3Module io_module, u32 i_count)
{
    M3Result result = m3Err_none;

_try {
    u32 allocated = io_module->functionsAllocated;
    if (i_count > allocated)
    {
        // both arrays grown before the count (patch 0057): a failure leaves them consistent
        M3FunctionInfo * infos = m3_ReallocArray (M3FunctionInfo, io_module->functionInfo, i_count, allocated);
        _throwifnull (infos);
        io_module->functionInfo = infos;
        M3Function * functions = m3_ReallocArray (M3Function, io_module->functions, i_count, allocated);
        _throwifnull (functions);
        io_module->functions = functions;
        io_module->functionsAllocated = i_count;
    }
} _catch:
    return result;
}


M3Result  Module_AddFunction  (IM3Module io_module, u32 i_typeIndex, IM3ImportInfo i_importInfo)
{
    M3Result result = m3Err_none;

_try {

    u32 index = io_module->numFunctions;
_   (Module_ReserveFunctions (io_module, index + 1));
    io_module->numFunctions = index + 1;

    _throwif ("type sig index out of bounds", i_typeIndex >= io_module->numFuncTypes);

    IM3FuncType ft = io_module->funcTypes [i_typeIndex];

    IM3Function func = Module_GetFunction (io_module, index);
    func->funcType = ft;

#   ifdef DEBUG
    func->index = index;
#   endif

    // (func->info is set when parsing ends: the arrays may still move)
    IM3FunctionInfo info = & io_module->functionInfo [index];
    if (i_importInfo and info->numNames == 0)
    {
        info->import = * i_importInfo;
        info->names[0] = i_importInfo->fieldUtf8;
        info->numNames = 1;
    }

    m3log (module, "   added function: %3d; sig: %d", index, i_typeIndex);

} _catch:
    return result;
}

#ifdef DEBUG
void  Module_GenerateNames  (IM3Module i_module)
{
    for (u32 i = 0; i < i_module->numFunctions; ++i)
    {
        IM3FunctionInfo func = & i_module->functionInfo [i];

        if (func->numNames == 0)
        {
            char* buff = m3_AllocArray(char, 16);
            snprintf(buff, 16, "$func%d", i);
            func->names[0] = buff;
            func->numNames = 1;
        }
    }
    for (u32 i = 0; i < i_module->numGlobals; ++i)
    {
        IM3Global global = & i_module->globals [i];

        if (global->name == NULL)
        {
            char* buff = m3_AllocArray(char, 16);
            snprintf(buff, 16, "$global%d", i);
            global->name = buff;
        }
    }
}
#endif

IM3Function  Module_GetFunction  (IM3Module i_module, u32 i_functionIndex)
{
    IM3Function func = NULL;

    if (i_functionIndex < i_module->numFunctions)
    {
        func = & i_module->functions [i_functionIndex];
        //func->module = i_module;
    }

    return func;
}


const char*  m3_GetModuleName  (IM3Module i_module)
{
    if (!i_module || !i_module->name)
        return ".unnamed";

    return i_module->name;
}

void  m3_SetModuleName  (IM3Module i_module, const char* name)
{
    if (i_module) i_module->name = name;
}

IM3Runtime  m3_GetModuleRuntime  (IM3Module i_module)
{
    return i_module ? i_module->runtime : NULL;
}

