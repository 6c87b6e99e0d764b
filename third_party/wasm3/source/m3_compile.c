//
//  m3_compile.c
//
//  Created by Steven Massey on 4/17/19.
//  Copyright © 2019 Steven Massey. All rights reserved.
//

#include "m3_env.h"
#include "m3_compile.h"
#include "m3_emit.h"
#include "m3_exec.h"
#include "m3_exception.h"
#include "m3_info.h"

//-------------------------------------------------------------------------------------------------------------------------

#define d_indent "     | %s"

// just want less letters and numbers to stare at down the way in the compiler table
#define i_32    c_m3Type_i32
#define i_64    c_m3Type_i64
#define f_32    c_m3Type_f32
#define f_64    c_m3Type_f64
#define none    c_m3Type_none
#define any     (u8)-1

#if d_m3HasFloat
#   define FPOP(x) x
#else
#   define FPOP(x) NULL
#endif

// indexed by type; references (funcref, externref) move like i64 (patch 0010)
static const IM3Operation c_preserveSetSlot [] = { NULL, op_PreserveSetSlot_i32,       op_PreserveSetSlot_i64,
                                                    FPOP(op_PreserveSetSlot_f32), FPOP(op_PreserveSetSlot_f64),
                                                    op_PreserveSetSlot_i64,       op_PreserveSetSlot_i64,   NULL };    // v128: never in a register
static const IM3Operation c_setSetOps [] =       { NULL, op_SetSlot_i32,               op_SetSlot_i64,
                                                    FPOP(op_SetSlot_f32),         FPOP(op_SetSlot_f64),
                                                    op_SetSlot_i64,               op_SetSlot_i64,           NULL };
static const IM3Operation c_setGlobalOps [] =    { NULL, op_SetGlobal_i32,             op_SetGlobal_i64,
                                                    FPOP(op_SetGlobal_f32),       FPOP(op_SetGlobal_f64),
                                                    op_SetGlobal_i64,             op_SetGlobal_i64,         NULL };
static const IM3Operation c_setRegisterOps [] =  { NULL, op_SetRegister_i32,           op_SetRegister_i64,
                                                    FPOP(op_SetRegister_f32),     FPOP(op_SetRegister_f64),
                                                    op_SetRegister_i64,           op_SetRegister_i64,       NULL };

static const IM3Operation c_intSelectOps [2] [4] =      { { op_Select_i32_rss, op_Select_i32_srs, op_Select_i32_ssr, op_Select_i32_sss },
                                                          { op_Select_i64_rss, op_Select_i64_srs, op_Select_i64_ssr, op_Select_i64_sss } };
#if d_m3HasFloat
static const IM3Operation c_fpSelectOps [2] [2] [3] = { { { op_Select_f32_sss, op_Select_f32_srs, op_Select_f32_ssr },        // selector in slot
                                                          { op_Select_f32_rss, op_Select_f32_rrs, op_Select_f32_rsr } },      // selector in reg
                                                        { { op_Select_f64_sss, op_Select_f64_srs, op_Select_f64_ssr },        // selector in slot
                                                          { op_Select_f64_rss, op_Select_f64_rrs, op_Select_f64_rsr } } };    // selector in reg
#endif

static const u16 c_m3RegisterUnallocated = 0;
static const u16 c_slotUnused = 0xffff;

// all args & returns are 64-bit aligned, so use 2 slots for a d_m3Use32BitSlots=1 build
static const u16 c_ioSlotCount = sizeof (u64) / sizeof (m3slot_t);

M3Result  AcquireCompilationCodePage  (IM3Compilation o, IM3CodePage * o_codePage)
{
    M3Result result = m3Err_none;

    IM3CodePage page = AcquireCodePage (o->runtime);

    if (page)
    {
#       if (d_m3EnableCodePageRefCounting)
        {
            if (o->function)
            {
                IM3Function func = o->function;
                page->info.usageCount++;

                u32 index = func->numCodePageRefs++;
_               (m3ReallocArray (& func->codePageRefs, IM3CodePage, func->numCodePageRefs, index));
                func->codePageRefs [index] = page;
            }
        }
#       endif
    }
    else _throw (m3Err_mallocFailedCodePage);

    _catch:

    * o_codePage = page;

    return result;
}

void  ReleaseCompilationCodePage  (IM3Compilation o)
{
    ReleaseCodePage (o->runtime, o->page);
}

bool  IsRegisterSlotAlias        (u16 i_slot)    { return (i_slot >= d_m3Reg0SlotAlias and i_slot != c_slotUnused); }
bool  IsFpRegisterSlotAlias      (u16 i_slot)    { return (i_slot == d_m3Fp0SlotAlias);  }
bool  IsIntRegisterSlotAlias     (u16 i_slot)    { return (i_slot == d_m3Reg0SlotAlias); }

u16 GetTypeNumSlots (u8 i_type)
{
    if (i_type == c_m3Type_v128)                    // 16 bytes (patch 0070)
        return 16 / sizeof (m3slot_t);

#   if d_m3Use32BitSlots
        return Is64BitType (i_type) ? 2 : 1;
#   else
        return 1;
#   endif
}


// the slot alignment of a type: 64-bit words to even slots (if d_m3Use32BitSlots); a v128 is
// read and written with memcpy, 64-bit alignment is enough (patch 0070)
static
u16  GetTypeSlotAlignment  (u8 i_type)
{
    return M3_MIN (GetTypeNumSlots (i_type), c_ioSlotCount);
}


void  AlignSlotToType  (u16 * io_slot, u8 i_type)
{
    u16 mask = GetTypeSlotAlignment (i_type) - 1;
    * io_slot = (* io_slot + mask) & ~mask;
}


// The stack space a value takes as an argument or result of a call: 64 bits, a v128 128 bits
// (patch 0070)
static
u16  GetTypeIoSlots  (u8 i_type)
{
    return M3_MAX (GetTypeNumSlots (i_type), c_ioSlotCount);
}

static
u16  GetFuncTypeIoSlots  (IM3FuncType i_type, bool i_results)
{
    u16 count = 0;
    u16 num = i_results ? GetFuncTypeNumResults (i_type) : GetFuncTypeNumParams (i_type);
    for (u16 i = 0; i < num; ++i)
        count += GetTypeIoSlots (i_results ? GetFuncTypeResultType (i_type, i) : GetFuncTypeParamType (i_type, i));
    return count;
}


i16  GetStackTopIndex  (IM3Compilation o)
{                                                           d_m3Assert (o->stackIndex > o->stackFirstDynamicIndex or IsStackPolymorphic (o));
    return o->stackIndex - 1;
}


// Items in the static portion of the stack (args/locals) are hidden from GetStackTypeFromTop ()
// In other words, only "real" Wasm stack items can be inspected.  This is important when
// returning values, etc. and you need an accurate wasm-view of the stack.
u8  GetStackTypeFromTop  (IM3Compilation o, u16 i_offset)
{
    u8 type = c_m3Type_none;

    ++i_offset;
    if (o->stackIndex >= i_offset)
    {
        u16 index = o->stackIndex - i_offset;

        if (index >= o->stackFirstDynamicIndex)
            type = o->typeStack [index];
    }

    return type;
}


u8  GetStackTopType  (IM3Compilation o)
{
    return GetStackTypeFromTop (o, 0);
}


u8  GetStackTypeFromBottom  (IM3Compilation o, u16 i_offset)
{
    u8 type = c_m3Type_none;

    if (i_offset < o->stackIndex)
        type = o->typeStack [i_offset];

    return type;
}


bool  IsConstantSlot    (IM3Compilation o, u16 i_slot)  { return (i_slot >= o->slotFirstConstIndex and i_slot < o->slotMaxConstIndex); }
bool  IsSlotAllocated   (IM3Compilation o, u16 i_slot)  { return o->m3Slots [i_slot]; }


bool  IsStackIndexInRegister  (IM3Compilation o, i32 i_stackIndex)
{                                                                           d_m3Assert (i_stackIndex < o->stackIndex or IsStackPolymorphic (o));
    if (i_stackIndex >= 0 and i_stackIndex < o->stackIndex)
        return (o->wasmStack [i_stackIndex] >= d_m3Reg0SlotAlias);
    else
        return false;
}

u16   GetNumBlockValuesOnStack      (IM3Compilation o)  { return o->stackIndex - o->block.blockStackIndex; }

bool  IsStackTopInRegister          (IM3Compilation o)  { return IsStackIndexInRegister (o, (i32) GetStackTopIndex (o));       }
bool  IsStackTopMinus1InRegister    (IM3Compilation o)  { return IsStackIndexInRegister (o, (i32) GetStackTopIndex (o) - 1);   }
bool  IsStackTopMinus2InRegister    (IM3Compilation o)  { return IsStackIndexInRegister (o, (i32) GetStackTopIndex (o) - 2);   }

bool  IsStackTopInSlot              (IM3Compilation o)  { return not IsStackTopInRegister (o); }

bool  IsValidSlot                   (u16 i_slot)        { return (i_slot < d_m3MaxFunctionSlots); }


u16  GetStackTopSlotNumber  (IM3Compilation o)
{
    i16 i = GetStackTopIndex (o);

    u16 slot = c_slotUnused;

    if (i >= 0)
        slot = o->wasmStack [i];

    return slot;
}


// from bottom
u16  GetSlotForStackIndex  (IM3Compilation o, u16 i_stackIndex)
{                                                                   d_m3Assert (i_stackIndex < o->stackIndex or IsStackPolymorphic (o));
    u16 slot = c_slotUnused;

    if (i_stackIndex < o->stackIndex)
        slot = o->wasmStack [i_stackIndex];

    return slot;
}


u16  GetExtraSlotForStackIndex  (IM3Compilation o, u16 i_stackIndex)
{
    u16 baseSlot = GetSlotForStackIndex (o, i_stackIndex);

    if (baseSlot != c_slotUnused)
    {
        u16 extraSlot = GetTypeNumSlots (GetStackTypeFromBottom (o, i_stackIndex)) - 1;
        baseSlot += extraSlot;
    }

    return baseSlot;
}



void  TouchSlot  (IM3Compilation o, u16 i_slot)
{
    if (o->function)
    {
        // op_Entry uses this value to track and detect stack overflow
        o->maxStackSlots = M3_MAX (o->maxStackSlots, i_slot + 1);
    }
}


void  MarkSlotAllocated  (IM3Compilation o, u16 i_slot)
{                                                                   d_m3Assert (o->m3Slots [i_slot] == 0); // shouldn't be already allocated
    o->m3Slots [i_slot] = 1;

    o->slotMaxAllocatedIndexPlusOne = M3_MAX (o->slotMaxAllocatedIndexPlusOne, i_slot + 1);

    TouchSlot (o, i_slot);
}


void  MarkSlotsAllocated  (IM3Compilation o, u16 i_slot, u16 i_numSlots)
{
    while (i_numSlots--)
        MarkSlotAllocated (o, i_slot++);
}

void  MarkSlotsAllocatedByType  (IM3Compilation o, u16 i_slot, u8 i_type)
{
    u16 numSlots = GetTypeNumSlots (i_type);
    MarkSlotsAllocated (o, i_slot, numSlots);
}



M3Result  AllocateSlotsWithinRange  (IM3Compilation o, u16 * o_slot, u8 i_type, u16 i_startSlot, u16 i_endSlot)
{
    M3Result result = m3Err_functionStackOverflow;

    u16 numSlots = GetTypeNumSlots (i_type);
    u16 alignment = GetTypeSlotAlignment (i_type);

    AlignSlotToType (& i_startSlot, i_type);

    // search for 1, 2 or (v128, patch 0070) 4 consecutive slots in the execution stack
    u16 i = i_startSlot;
    while (i + numSlots - 1 < i_endSlot)
    {
        u16 k = 0;
        while (k < numSlots and o->m3Slots [i + k] == 0)
            ++k;

        if (k == numSlots)
        {
            MarkSlotsAllocated (o, i, numSlots);

            * o_slot = i;
            result = m3Err_none;
            break;
        }

        // keep 2-slot allocations even-aligned
        i += alignment;
    }

    return result;
}


M3Result  AllocateSlots  (IM3Compilation o, u16 * o_slot, u8 i_type)
{
    return AllocateSlotsWithinRange (o, o_slot, i_type, o->slotFirstDynamicIndex, d_m3MaxFunctionSlots);
}


M3Result  AllocateConstantSlots  (IM3Compilation o, u16 * o_slot, u8 i_type)
{
    u16 maxTableIndex = o->slotFirstConstIndex + d_m3MaxConstantTableSize;
    return AllocateSlotsWithinRange (o, o_slot, i_type, o->slotFirstConstIndex, M3_MIN(o->slotFirstDynamicIndex, maxTableIndex));
}


// TOQUE: this usage count system could be eliminated. real world code doesn't frequently trigger it.  just copy to multiple
// unique slots.
M3Result  IncrementSlotUsageCount  (IM3Compilation o, u16 i_slot)
{                                                                                       d_m3Assert (i_slot < d_m3MaxFunctionSlots);
    M3Result result = m3Err_none;                                                       d_m3Assert (o->m3Slots [i_slot] > 0);

    // OPTZ (memory): 'm3Slots' could still be fused with 'typeStack' if 4 bits were used to indicate: [0,1,2,many]. The many-case
    // would scan 'wasmStack' to determine the actual usage count
    if (o->m3Slots [i_slot] < 0xFF)
    {
        o->m3Slots [i_slot]++;
    }
    else result = "slot usage count overflow";

    return result;
}


void DeallocateSlot (IM3Compilation o, i16 i_slot, u8 i_type)
{                                                                                       d_m3Assert (i_slot >= o->slotFirstDynamicIndex);
                                                                                        d_m3Assert (i_slot < o->slotMaxAllocatedIndexPlusOne);
    for (u16 i = 0; i < GetTypeNumSlots (i_type); ++i, ++i_slot)
    {                                                                                   d_m3Assert (o->m3Slots [i_slot]);
        -- o->m3Slots [i_slot];
    }
}


bool  IsRegisterAllocated  (IM3Compilation o, u32 i_register)
{
    return (o->regStackIndexPlusOne [i_register] != c_m3RegisterUnallocated);
}


bool  IsRegisterTypeAllocated  (IM3Compilation o, u8 i_type)
{
    return IsRegisterAllocated (o, IsFpType (i_type));
}

void  AllocateRegister  (IM3Compilation o, u32 i_register, u16 i_stackIndex)
{                                                                                       d_m3Assert (not IsRegisterAllocated (o, i_register));
    o->regStackIndexPlusOne [i_register] = i_stackIndex + 1;
}


void  DeallocateRegister  (IM3Compilation o, u32 i_register)
{                                                                                       d_m3Assert (IsRegisterAllocated (o, i_register));
    o->regStackIndexPlusOne [i_register] = c_m3RegisterUnallocated;
}


u16  GetRegisterStackIndex  (IM3Compilation o, u32 i_register)
{                                                                                       d_m3Assert (IsRegisterAllocated (o, i_register));
    return o->regStackIndexPlusOne [i_register] - 1;
}


u16  GetMaxUsedSlotPlusOne  (IM3Compilation o)
{
    while (o->slotMaxAllocatedIndexPlusOne > o->slotFirstDynamicIndex)
    {
        if (IsSlotAllocated (o, o->slotMaxAllocatedIndexPlusOne - 1))
            break;

        o->slotMaxAllocatedIndexPlusOne--;
    }

#   ifdef DEBUG
        u16 maxSlot = o->slotMaxAllocatedIndexPlusOne;
        while (maxSlot < d_m3MaxFunctionSlots)
        {
            d_m3Assert (o->m3Slots [maxSlot] == 0);
            maxSlot++;
        }
#   endif

    return o->slotMaxAllocatedIndexPlusOne;
}


M3Result  PreserveRegisterIfOccupied  (IM3Compilation o, u8 i_registerType)
{
    M3Result result = m3Err_none;

    u32 regSelect = IsFpType (i_registerType);

    if (IsRegisterAllocated (o, regSelect))
    {
        u16 stackIndex = GetRegisterStackIndex (o, regSelect);
        DeallocateRegister (o, regSelect);

        u8 type = GetStackTypeFromBottom (o, stackIndex);

        // and point to a exec slot
        u16 slot = c_slotUnused;
_       (AllocateSlots (o, & slot, type));
        o->wasmStack [stackIndex] = slot;

_       (EmitOp (o, c_setSetOps [type]));
        EmitSlotOffset (o, slot);
    }

    _catch: return result;
}


// all values must be in slots before entering loop, if, and else blocks
// otherwise they'd end up preserve-copied in the block to probably different locations (if/else)
M3Result  PreserveRegisters  (IM3Compilation o)
{
    M3Result result;

_   (PreserveRegisterIfOccupied (o, c_m3Type_f64));
_   (PreserveRegisterIfOccupied (o, c_m3Type_i64));

    _catch: return result;
}


M3Result  PreserveNonTopRegisters  (IM3Compilation o)
{
    M3Result result = m3Err_none;

    i16 stackTop = GetStackTopIndex (o);

    if (stackTop >= 0)
    {
        if (IsRegisterAllocated (o, 0))     // r0
        {
            if (GetRegisterStackIndex (o, 0) != stackTop)
_               (PreserveRegisterIfOccupied (o, c_m3Type_i64));
        }

        if (IsRegisterAllocated (o, 1))     // fp0
        {
            if (GetRegisterStackIndex (o, 1) != stackTop)
_               (PreserveRegisterIfOccupied (o, c_m3Type_f64));
        }
    }

    _catch: return result;
}


//----------------------------------------------------------------------------------------------------------------------


M3Result  Push  (IM3Compilation o, u8 i_type, u16 i_slot)
{
    M3Result result = m3Err_none;

#if !d_m3HasFloat
    if (i_type == c_m3Type_f32 || i_type == c_m3Type_f64) {
        return m3Err_unknownOpcode;
    }
#endif

    u16 stackIndex = o->stackIndex++;                                       // printf ("push: %d\n", (i32) i);

    if (stackIndex < d_m3MaxFunctionStackHeight)
    {
        o->wasmStack        [stackIndex] = i_slot;
        o->typeStack        [stackIndex] = i_type;

        if (IsRegisterSlotAlias (i_slot))
        {
            u32 regSelect = IsFpRegisterSlotAlias (i_slot);
            AllocateRegister (o, regSelect, stackIndex);
        }

        if (d_m3LogWasmStack) dump_type_stack (o);
    }
    else result = m3Err_functionStackOverflow;

    return result;
}


M3Result  PushRegister  (IM3Compilation o, u8 i_type)
{
    M3Result result = m3Err_none;                                                       d_m3Assert ((u16) d_m3Reg0SlotAlias > (u16) d_m3MaxFunctionSlots);
    u16 slot = IsFpType (i_type) ? d_m3Fp0SlotAlias : d_m3Reg0SlotAlias;                d_m3Assert (i_type or IsStackPolymorphic (o));

_   (Push (o, i_type, slot));

    _catch: return result;
}


M3Result  Pop  (IM3Compilation o)
{
    M3Result result = m3Err_none;

    if (o->stackIndex > o->block.blockStackIndex)
    {
        o->stackIndex--;                                                //  printf ("pop: %d\n", (i32) o->stackIndex);

        u16 slot = o->wasmStack [o->stackIndex];
        u8 type = o->typeStack [o->stackIndex];

        if (IsRegisterSlotAlias (slot))
        {
            u32 regSelect = IsFpRegisterSlotAlias (slot);
            DeallocateRegister (o, regSelect);
        }
        else if (slot >= o->slotFirstDynamicIndex)
        {
            DeallocateSlot (o, slot, type);
        }
    }
    else if (not IsStackPolymorphic (o))
        result = m3Err_functionStackUnderrun;

    return result;
}


M3Result  PopType  (IM3Compilation o, u8 i_type)
{
    M3Result result = m3Err_none;

    u8 topType = GetStackTopType (o);

    if (i_type == topType or o->block.isPolymorphic)
    {
_       (Pop (o));
    }
    else _throw (m3Err_typeMismatch);

    _catch:
    return result;
}


M3Result  _PushAllocatedSlotAndEmit  (IM3Compilation o, u8 i_type, bool i_doEmit)
{
    M3Result result = m3Err_none;

    u16 slot = c_slotUnused;

_   (AllocateSlots (o, & slot, i_type));
_   (Push (o, i_type, slot));

    if (i_doEmit)
        EmitSlotOffset (o, slot);

//    printf ("push: %d\n", (u32) slot);

    _catch: return result;
}


M3Result  PushAllocatedSlotAndEmit  (IM3Compilation o, u8 i_type)
{
    return _PushAllocatedSlotAndEmit (o, i_type, true);
}


M3Result  PushAllocatedSlot  (IM3Compilation o, u8 i_type)
{
    return _PushAllocatedSlotAndEmit (o, i_type, false);
}


M3Result  PushConst  (IM3Compilation o, u64 i_word, u8 i_type)
{
    M3Result result = m3Err_none;

    // Early-exit if we're not emitting
    if (!o->page) return result;

    bool matchFound = false;
    bool is64BitType = Is64BitType (i_type);

    u16 numRequiredSlots = GetTypeNumSlots (i_type);
    u16 numUsedConstSlots = o->slotMaxConstIndex - o->slotFirstConstIndex;

    // search for duplicate matching constant slot to reuse
    if (numRequiredSlots == 2 and numUsedConstSlots >= 2)
    {
        u16 firstConstSlot = o->slotFirstConstIndex;
        AlignSlotToType (& firstConstSlot, c_m3Type_i64);

        for (u16 slot = firstConstSlot; slot < o->slotMaxConstIndex - 1; slot += 2)
        {
            if (IsSlotAllocated (o, slot) and IsSlotAllocated (o, slot + 1))
            {
                u64 constant;       // the table holds 32-bit slots: unaligned for a u64 (patch 0014)
                memcpy (& constant, & o->constants [slot - o->slotFirstConstIndex], sizeof constant);

                if (constant == i_word)
                {
                    matchFound = true;
_                   (Push (o, i_type, slot));
                    break;
                }
            }
        }
    }
    else if (numRequiredSlots == 1)
    {
        for (u16 i = 0; i < numUsedConstSlots; ++i)
        {
            u16 slot = o->slotFirstConstIndex + i;

            if (IsSlotAllocated (o, slot))
            {
                u64 constant;
                if (is64BitType) {
                    memcpy (& constant, & o->constants [i], sizeof constant);
                } else {
                    constant = * (u32 *) & o->constants [i];
                }
                if (constant == i_word)
                {
                    matchFound = true;
_                   (Push (o, i_type, slot));
                    break;
                }
            }
        }
    }

    if (not matchFound)
    {
        u16 slot = c_slotUnused;
        result = AllocateConstantSlots (o, & slot, i_type);

        if (result) // no more constant table space; use inline constants
        {
            result = m3Err_none;

            if (is64BitType) {
_               (EmitOp (o, op_Const64));
                EmitWord64 (o->page, i_word);
            } else {
_               (EmitOp (o, op_Const32));
                EmitWord32 (o->page, (u32) i_word);
            }

_           (PushAllocatedSlotAndEmit (o, i_type));
        }
        else
        {
            u16 constTableIndex = slot - o->slotFirstConstIndex;

            d_m3Assert(constTableIndex < d_m3MaxConstantTableSize);

            if (is64BitType)
            {
                memcpy (& o->constants [constTableIndex], & i_word, sizeof i_word);
            }
            else
            {
                u32 * constant = (u32 *) & o->constants [constTableIndex];
                * constant = (u32) i_word;
            }

_           (Push (o, i_type, slot));

            o->slotMaxConstIndex = M3_MAX (slot + numRequiredSlots, o->slotMaxConstIndex);
        }
    }

    _catch: return result;
}


M3Result  EmitSlotNumOfStackTopAndPop  (IM3Compilation o)
{
    // no emit if value is in register
    if (IsStackTopInSlot (o))
        EmitSlotOffset (o, GetStackTopSlotNumber (o));

    return Pop (o);
}


// Or, maybe: EmitTrappingOp
M3Result  AddTrapRecord  (IM3Compilation o)
{
    M3Result result = m3Err_none;

    if (o->function)
    {
    }

    return result;
}

M3Result  UnwindBlockStack  (IM3Compilation o)
{
    M3Result result = m3Err_none;

    u32 popCount = 0;
    while (o->stackIndex > o->block.blockStackIndex)
    {
_       (Pop (o));
        ++popCount;
    }

    if (popCount)
    {
        m3log (compile, "unwound stack top: %d", popCount);
    }

    _catch: return result;
}


bool  IsStackPolymorphic  (IM3Compilation o)
{
    return o->block.isPolymorphic;
}


M3Result  SetStackPolymorphic  (IM3Compilation o)
{
    o->block.isPolymorphic = true;                              m3log (compile, "stack set polymorphic");
    return UnwindBlockStack (o);
}


void  PatchBranches  (IM3Compilation o)
{
    pc_t pc = GetPC (o);

    pc_t patches = o->block.patches;
    o->block.patches = NULL;

    while (patches)
    {                                                           m3log (compile, "patching location: %p to pc: %p", patches, pc);
        pc_t next = * (pc_t *) patches;
        * (pc_t *) patches = pc;
        patches = next;
    }
}

//-------------------------------------------------------------------------------------------------------------------------


// slot-to-slot copies by type: 32, 64 or 128 bits (patch 0070)
static
IM3Operation  GetCopySlotOp  (u8 i_type)
{
    return (i_type == c_m3Type_v128) ? op_CopySlot_128 : Is64BitType (i_type) ? op_CopySlot_64 : op_CopySlot_32;
}

static
IM3Operation  GetPreserveCopySlotOp  (u8 i_type)
{
    return (i_type == c_m3Type_v128) ? op_PreserveCopySlot_128 : Is64BitType (i_type) ? op_PreserveCopySlot_64 : op_PreserveCopySlot_32;
}


M3Result  CopyStackIndexToSlot  (IM3Compilation o, u16 i_destSlot, u16 i_stackIndex)  // NoPushPop
{
    M3Result result = m3Err_none;

    IM3Operation op;

    u8 type = GetStackTypeFromBottom (o, i_stackIndex);
    bool inRegister = IsStackIndexInRegister (o, i_stackIndex);

    if (inRegister)
    {
        op = c_setSetOps [type];
    }
    else op = GetCopySlotOp (type);

_   (EmitOp (o, op));
    EmitSlotOffset (o, i_destSlot);

    if (not inRegister)
    {
        u16 srcSlot = GetSlotForStackIndex (o, i_stackIndex);
        EmitSlotOffset (o, srcSlot);
    }

    _catch: return result;
}


M3Result  CopyStackTopToSlot  (IM3Compilation o, u16 i_destSlot)  // NoPushPop
{
    M3Result result;

    i16 stackTop = GetStackTopIndex (o);
_   (CopyStackIndexToSlot (o, i_destSlot, (u16) stackTop));

    _catch: return result;
}


// a copy-on-write strategy is used with locals. when a get local occurs, it's not copied anywhere. the stack
// entry just has a index pointer to that local memory slot.
// then, when a previously referenced local is set, the current value needs to be preserved for those references

// TODO: consider getting rid of these specialized operations: PreserveSetSlot & PreserveCopySlot.
// They likely just take up space (which seems to reduce performance) without improving performance.
M3Result  PreservedCopyTopSlot  (IM3Compilation o, u16 i_destSlot, u16 i_preserveSlot)
{
    M3Result result = m3Err_none;             d_m3Assert (i_destSlot != i_preserveSlot);

    IM3Operation op;

    u8 type = GetStackTopType (o);

    if (IsStackTopInRegister (o))
    {
        op = c_preserveSetSlot [type];
    }
    else op = GetPreserveCopySlotOp (type);

_   (EmitOp (o, op));
    EmitSlotOffset (o, i_destSlot);

    if (IsStackTopInSlot (o))
        EmitSlotOffset (o, GetStackTopSlotNumber (o));

    EmitSlotOffset (o, i_preserveSlot);

    _catch: return result;
}


M3Result  CopyStackTopToRegister  (IM3Compilation o, bool i_updateStack)
{
    M3Result result = m3Err_none;

    if (IsStackTopInSlot (o))
    {
        u8 type = GetStackTopType (o);

_       (PreserveRegisterIfOccupied (o, type));

        IM3Operation op = c_setRegisterOps [type];

_       (EmitOp (o, op));
        EmitSlotOffset (o, GetStackTopSlotNumber (o));

        if (i_updateStack)
        {
_           (PopType (o, type));
_           (PushRegister (o, type));
        }
    }

    _catch: return result;
}


// if local is unreferenced, o_preservedSlotNumber will be equal to localIndex on return
M3Result  FindReferencedLocalWithinCurrentBlock  (IM3Compilation o, u16 * o_preservedSlotNumber, u32 i_localSlot)
{
    M3Result result = m3Err_none;

    IM3CompilationScope scope = & o->block;
    i16 startIndex = scope->blockStackIndex;

    while (scope->opcode == c_waOp_block)
    {
        scope = scope->outer;
        if (not scope)
            break;

        startIndex = scope->blockStackIndex;
    }

    * o_preservedSlotNumber = (u16) i_localSlot;

    for (u32 i = startIndex; i < o->stackIndex; ++i)
    {
        if (o->wasmStack [i] == i_localSlot)
        {
            if (* o_preservedSlotNumber == i_localSlot)
            {
                u8 type = GetStackTypeFromBottom (o, i);                    d_m3Assert (type != c_m3Type_none)

_               (AllocateSlots (o, o_preservedSlotNumber, type));
            }
            else
_               (IncrementSlotUsageCount (o, * o_preservedSlotNumber));

            o->wasmStack [i] = * o_preservedSlotNumber;
        }
    }

    _catch: return result;
}


M3Result  GetBlockScope  (IM3Compilation o, IM3CompilationScope * o_scope, i32 i_depth)
{
    M3Result result = m3Err_none;

    IM3CompilationScope scope = & o->block;

    while (i_depth--)
    {
        scope = scope->outer;
        _throwif ("invalid block depth", not scope);
    }

    * o_scope = scope;

    _catch:
    return result;
}


// Copies the values of stack indices [i_stackIndex, i_endStackIndex) to the slots recorded at
// i_targetSlotStackIndex and above.  A later value whose slots a copy would overwrite is moved to
// a temporary slot first; with v128 values (4 slots, patch 0070) one copy can overlap several
// later values, so each of them is moved.
M3Result  CopyStackSlotsR  (IM3Compilation o, u16 i_targetSlotStackIndex, u16 i_stackIndex, u16 i_endStackIndex, u16 i_tempSlot)
{
    M3Result result = m3Err_none;

    if (i_stackIndex < i_endStackIndex)
    {
        u16 srcSlot = GetSlotForStackIndex (o, i_stackIndex);

        u8 type = GetStackTypeFromBottom (o, i_stackIndex);
        u16 numSlots = GetTypeNumSlots (type);

        u16 targetSlot = GetSlotForStackIndex (o, i_targetSlotStackIndex);

        u16 movedIndex [4], movedSlot [4];
        u16 numMoved = 0;

        if (targetSlot != srcSlot)
        {
            // search for collisions
            for (u16 checkIndex = i_stackIndex + 1; checkIndex < i_endStackIndex; ++checkIndex)
            {
                u16 otherSlot = GetSlotForStackIndex (o, checkIndex);
                u8 otherType = GetStackTypeFromBottom (o, checkIndex);
                u16 otherNumSlots = GetTypeNumSlots (otherType);

                if (IsRegisterSlotAlias (otherSlot))
                    continue;

                if (otherSlot < targetSlot + numSlots and targetSlot < otherSlot + otherNumSlots and numMoved < 4)
                {
                    AlignSlotToType (& i_tempSlot, otherType);
                    _throwif (m3Err_functionStackOverflow, i_tempSlot + otherNumSlots > d_m3MaxFunctionSlots);

_                   (CopyStackIndexToSlot (o, i_tempSlot, checkIndex));
                    o->wasmStack [checkIndex] = i_tempSlot;
                    i_tempSlot += GetTypeIoSlots (otherType);
                    TouchSlot (o, i_tempSlot - 1);

                    // restore this on the way back down
                    movedIndex [numMoved] = checkIndex;
                    movedSlot [numMoved] = otherSlot;
                    ++numMoved;
                }
            }

_           (CopyStackIndexToSlot (o, targetSlot, i_stackIndex));                                               m3log (compile, " copying slot: %d to slot: %d", srcSlot, targetSlot);
            o->wasmStack [i_stackIndex] = targetSlot;

        }

_       (CopyStackSlotsR (o, i_targetSlotStackIndex + 1, i_stackIndex + 1, i_endStackIndex, i_tempSlot));

        // restore the stack state
        o->wasmStack [i_stackIndex] = srcSlot;
        while (numMoved--)
            o->wasmStack [movedIndex [numMoved]] = movedSlot [numMoved];
    }

    _catch:
    return result;
}


M3Result  ResolveBlockResults  (IM3Compilation o, IM3CompilationScope i_targetBlock, bool i_isBranch)
{
    M3Result result = m3Err_none;                                   if (d_m3LogWasmStack) dump_type_stack (o);

    // unreachable code (a polymorphic stack) has no values to deliver: a branch there would
    // be refused for the values it does not have (patch 0015)
    if (IsStackPolymorphic (o))
        return m3Err_none;

    bool isLoop = (i_targetBlock->opcode == c_waOp_loop and i_isBranch);

    u16 numParams = GetFuncTypeNumParams (i_targetBlock->type);
    u16 numResults = GetFuncTypeNumResults (i_targetBlock->type);

    u16 slotRecords = i_targetBlock->exitStackIndex;

    u16 numValues;

    if (not isLoop)
    {
        numValues = numResults;
        slotRecords += numParams;
    }
    else numValues = numParams;

    u16 blockHeight = GetNumBlockValuesOnStack (o);

    _throwif (m3Err_typeCountMismatch, i_isBranch ? (blockHeight < numValues) : (blockHeight != numValues));

    if (numValues)
    {
        u16 endIndex = GetStackTopIndex (o) + 1;

        if (not isLoop and IsFpType (GetStackTopType (o)))
        {
_           (CopyStackTopToRegister (o, false));
            --endIndex;
        }

        // TODO: tempslot affects maxStackSlots, so can grow unnecess each time.
        u16 tempSlot = o->maxStackSlots;// GetMaxUsedSlotPlusOne (o); doesn't work cause can collide with slotRecords
        AlignSlotToType (& tempSlot, c_m3Type_i64);

_       (CopyStackSlotsR (o, slotRecords, endIndex - numValues, endIndex, tempSlot));

        if (d_m3LogWasmStack) dump_type_stack (o);
    }

    _catch: return result;
}



M3Result  ReturnValues  (IM3Compilation o, IM3CompilationScope i_functionBlock, bool i_isBranch)
{
    M3Result result = m3Err_none;                                               if (d_m3LogWasmStack) dump_type_stack (o);

    u16 numReturns = GetFuncTypeNumResults (i_functionBlock->type);     // could just o->function too...
    u16 blockHeight = GetNumBlockValuesOnStack (o);

    if (not IsStackPolymorphic (o))
        _throwif (m3Err_typeCountMismatch, i_isBranch ? (blockHeight < numReturns) : (blockHeight != numReturns));

    if (numReturns)
    {
        // return slots like args are 64-bit aligned; a v128 takes 128 bits (patch 0070)
        u16 returnSlot = GetFuncTypeIoSlots (i_functionBlock->type, true);
        u16 stackTop = GetStackTopIndex (o);

        for (u16 i = 0; i < numReturns; ++i)
        {
            u8 returnType = GetFuncTypeResultType (i_functionBlock->type, numReturns - 1 - i);

            u8 stackType = GetStackTypeFromTop (o, i);  // using FromTop so that only dynamic items are checked

            if (IsStackPolymorphic (o) and stackType == c_m3Type_none)
                stackType = returnType;

            _throwif (m3Err_typeMismatch, returnType != stackType);

            if (not IsStackPolymorphic (o))
            {
                returnSlot -= GetTypeIoSlots (returnType);
_               (CopyStackIndexToSlot (o, returnSlot, stackTop--));
            }
        }

        if (not i_isBranch)
        {
            while (numReturns--)
_               (Pop (o));
        }
    }

    _catch: return result;
}


//-------------------------------------------------------------------------------------------------------------------------


M3Result  Compile_Const_i32  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    i32 value;
_   (ReadLEB_i32 (& value, & o->wasm, o->wasmEnd));
_   (PushConst (o, value, c_m3Type_i32));                       m3log (compile, d_indent " (const i32 = %" PRIi32 ")", get_indention_string (o), value);
    _catch: return result;
}


M3Result  Compile_Const_i64  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    i64 value;
_   (ReadLEB_i64 (& value, & o->wasm, o->wasmEnd));
_   (PushConst (o, value, c_m3Type_i64));                       m3log (compile, d_indent " (const i64 = %" PRIi64 ")", get_indention_string (o), value);
    _catch: return result;
}


#if d_m3ImplementFloat
M3Result  Compile_Const_f32  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    union { u32 u; f32 f; } value = { 0 };

_   (Read_f32 (& value.f, & o->wasm, o->wasmEnd));              m3log (compile, d_indent " (const f32 = %" PRIf32 ")", get_indention_string (o), value.f);
_   (PushConst (o, value.u, c_m3Type_f32));

    _catch: return result;
}


M3Result  Compile_Const_f64  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    union { u64 u; f64 f; } value = { 0 };

_   (Read_f64 (& value.f, & o->wasm, o->wasmEnd));              m3log (compile, d_indent " (const f64 = %" PRIf64 ")", get_indention_string (o), value.f);
_   (PushConst (o, value.u, c_m3Type_f64));

    _catch: return result;
}
#endif

#ifdef d_m3EnableExtendedOpcodes

M3Result  Compile_ExtendedOpcode  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result = m3Err_none;

_try {
    // the sub-opcode is a u32 LEB128, which an encoder may pad (patch 0066): 0xFC 0x8A 0x00 is
    // memory.copy as well as 0xFC 0x0A
    u32 opcode;
_   (ReadLEB_u32 (& opcode, & o->wasm, o->wasmEnd));         m3log (compile, d_indent " (FC: %" PRIi32 ")", get_indention_string (o), opcode);
    _throwif (m3Err_unknownOpcode, opcode > 0xFF);

    i_opcode = (i_opcode << 8) | opcode;

    //printf("Extended opcode: 0x%x\n", i_opcode);

    IM3OpInfo opInfo = GetOpInfo (i_opcode);
    _throwif (m3Err_unknownOpcode, not opInfo);

    M3Compiler compiler = opInfo->compiler;
    _throwif (m3Err_noCompiler, not compiler);

_   ((* compiler) (o, i_opcode));

    o->previousOpcode = i_opcode;

    } _catch: return result;
}
#endif


M3Result  Compile_Return  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result = m3Err_none;

    if (not IsStackPolymorphic (o))
    {
        IM3CompilationScope functionScope;
_       (GetBlockScope (o, & functionScope, o->block.depth));

_       (ReturnValues (o, functionScope, true));

_       (EmitOp (o, op_Return));
    }

    // values pushed since the stack became polymorphic are gone too (patch 0015)
_   (SetStackPolymorphic (o));

    _catch: return result;
}


M3Result  ValidateBlockEnd  (IM3Compilation o)
{
    M3Result result = m3Err_none;
/*
    u16 numResults = GetFuncTypeNumResults (o->block.type);
    u16 blockHeight = GetNumBlockValuesOnStack (o);

    if (IsStackPolymorphic (o))
    {
    }
    else
    {
    }

    _catch: */ return result;
}


M3Result  Compile_End  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result = m3Err_none;                   //dump_type_stack (o);

    // function end:
    if (o->block.depth == 0)
    {
        ValidateBlockEnd (o);

//      if (not IsStackPolymorphic (o))
        {
            if (o->function)
            {
_               (ReturnValues (o, & o->block, false));
            }

_           (EmitOp (o, op_Return));
        }
    }

    _catch: return result;
}



// fusing an operation with the local.set or branch after it (patches 0061, 0062, 0070), below
static bool      IsStackTopLastResult  (IM3Compilation o);
static bool      IsStackTopLastV128Result  (IM3Compilation o);
static M3Result  FuseBranch            (IM3Compilation o, u32 i_kind, bool * o_fused);
enum { c_branchKind_branchIf, c_branchKind_if, c_branchKind_continueLoopIf };


M3Result  Compile_SetLocal  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    u32 localIndex;
_   (ReadLEB_u32 (& localIndex, & o->wasm, o->wasmEnd));             //  printf ("--- set local: %d \n", localSlot);

    if (localIndex < GetFunctionNumArgsAndLocals (o->function))
    {
        u16 localSlot = GetSlotForStackIndex (o, localIndex);

        u16 preserveSlot;
_       (FindReferencedLocalWithinCurrentBlock (o, & preserveSlot, localSlot));  // preserve will be different than local, if referenced

        // the value was just computed into r0 by an operation that can write a slot: it writes
        // the local instead, no copy (patch 0061).  Nothing was emitted since (the same pc), the
        // value is that operation's result, and no stack entry refers to the local.
        if (preserveSlot == localSlot and i_opcode == c_waOp_setLocal and o->lastResultOpToSlot and
            IsStackTopLastResult (o))
        {
            * (void **) o->lastResultOpPC = (void *) o->lastResultOpToSlot;
            EmitSlotOffset (o, localSlot);
            o->lastResultOpEnd = NULL;
        }
        // the same for a v128 just computed into a new slot (patch 0070): its operation writes
        // the local; every v128 operation reads its operands before it writes its result
        else if (preserveSlot == localSlot and IsStackTopLastV128Result (o))
        {
            u16 tempSlot = GetStackTopSlotNumber (o);
            * (u32 *) o->lastV128ResultPC = localSlot;          // as EmitSlotOffset wrote it
            o->lastV128ResultPC = NULL;
            DeallocateSlot (o, tempSlot, c_m3Type_v128);
            o->wasmStack [GetStackTopIndex (o)] = localSlot;    // local.tee: the value is the local's
        }
        else if (preserveSlot == localSlot)
_           (CopyStackTopToSlot (o, localSlot))
        else
_           (PreservedCopyTopSlot (o, localSlot, preserveSlot))

        if (i_opcode != c_waOp_teeLocal)
_           (Pop (o));
    }
    else _throw ("local index out of bounds");

    _catch: return result;
}


M3Result  Compile_GetLocal  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

_try {

    u32 localIndex;
_   (ReadLEB_u32 (& localIndex, & o->wasm, o->wasmEnd));

    if (localIndex >= GetFunctionNumArgsAndLocals (o->function))
        _throw ("local index out of bounds");

    u8 type = GetStackTypeFromBottom (o, localIndex);
    u16 slot = GetSlotForStackIndex (o, localIndex);

_   (Push (o, type, slot));

    } _catch: return result;
}


M3Result  Compile_GetGlobal  (IM3Compilation o, M3Global * i_global)
{
    M3Result result;

    IM3Operation op = (i_global->type == c_m3Type_v128) ? op_GetGlobal_s128 :
                      Is64BitType (i_global->type) ? op_GetGlobal_s64 : op_GetGlobal_s32;
_   (EmitOp (o, op));
    EmitPointer (o, & (i_global->linked ? i_global->linked : i_global)->intValue);   // patch 0074
_   (PushAllocatedSlotAndEmit (o, i_global->type));

    _catch: return result;
}


M3Result  Compile_SetGlobal  (IM3Compilation o, M3Global * i_global)
{
    M3Result result = m3Err_none;

    if (i_global->isMutable)
    {
        IM3Operation op;
        u8 type = GetStackTopType (o);

        if (IsStackTopInRegister (o))
        {
            op = c_setGlobalOps [type];
        }
        else op = (type == c_m3Type_v128) ? op_SetGlobal_s128 : Is64BitType (type) ? op_SetGlobal_s64 : op_SetGlobal_s32;

_      (EmitOp (o, op));
        EmitPointer (o, & (i_global->linked ? i_global->linked : i_global)->intValue);   // patch 0074

        if (IsStackTopInSlot (o))
            EmitSlotOffset (o, GetStackTopSlotNumber (o));

_      (Pop (o));
    }
    else _throw (m3Err_settingImmutableGlobal);

    _catch: return result;
}


M3Result  Compile_GetSetGlobal  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result = m3Err_none;

    u32 globalIndex;
_   (ReadLEB_u32 (& globalIndex, & o->wasm, o->wasmEnd));

    if (globalIndex < o->module->numGlobals)
    {
        if (o->module->globals)
        {
            M3Global * global = & o->module->globals [globalIndex];

_           ((i_opcode == 0x23) ? Compile_GetGlobal (o, global) : Compile_SetGlobal (o, global));
        }
        else _throw (ErrorCompile (m3Err_globalMemoryNotAllocated, o, "module '%s' is missing global memory", o->module->name));
    }
    else _throw (m3Err_globaIndexOutOfBounds);

    _catch: return result;
}


void  EmitPatchingBranchPointer  (IM3Compilation o, IM3CompilationScope i_scope)
{
    pc_t patch = EmitPointer (o, i_scope->patches);                     m3log (compile, "branch patch required at: %p", patch);
    i_scope->patches = patch;
}


M3Result  EmitPatchingBranch  (IM3Compilation o, IM3CompilationScope i_scope)
{
    M3Result result = m3Err_none;

_   (EmitOp (o, op_Branch));
    EmitPatchingBranchPointer (o, i_scope);

    _catch: return result;
}


M3Result  Compile_Branch  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    u32 depth;
_   (ReadLEB_u32 (& depth, & o->wasm, o->wasmEnd));

    IM3CompilationScope scope;
_   (GetBlockScope (o, & scope, depth));

    // branch target is a loop (continue)
    if (scope->opcode == c_waOp_loop)
    {
        if (i_opcode == c_waOp_branchIf)
        {
            if (GetFuncTypeNumParams (scope->type))
            {
                IM3Operation op = IsStackTopInRegister (o) ? op_BranchIfPrologue_r : op_BranchIfPrologue_s;

_               (EmitOp (o, op));
_               (EmitSlotNumOfStackTopAndPop (o));

                pc_t * jumpTo = (pc_t *) ReservePointer (o);

_               (ResolveBlockResults (o, scope, /* isBranch: */ true));

_               (EmitOp (o, op_ContinueLoop));
                EmitPointer (o, scope->pc);

                * jumpTo = GetPC (o);
            }
            else
            {
                bool fused;
_               (FuseBranch (o, c_branchKind_continueLoopIf, & fused));    // patch 0062

                if (not fused)
                {
                    // move the condition to a register
_                   (CopyStackTopToRegister (o, false));
_                   (PopType (o, c_m3Type_i32));

_                   (EmitOp (o, op_ContinueLoopIf));
                }
                EmitPointer (o, scope->pc);
            }

//          dump_type_stack(o);
        }
        else // is c_waOp_branch
        {
    _       (EmitOp (o, op_ContinueLoop));
            EmitPointer (o, scope->pc);
            // the values on the stack are gone, as after a forward branch (patch 0015)
    _       (SetStackPolymorphic (o));
        }
    }
    else // forward branch
    {
        pc_t * jumpTo = NULL;

        bool isReturn = (scope->depth == 0);
        bool targetHasResults = GetFuncTypeNumResults (scope->type);

        if (i_opcode == c_waOp_branchIf)
        {
            if (targetHasResults or isReturn)
            {
                IM3Operation op = IsStackTopInRegister (o) ? op_BranchIfPrologue_r : op_BranchIfPrologue_s;

    _           (EmitOp (o, op));
    _           (EmitSlotNumOfStackTopAndPop (o)); // condition

                // this is continuation point, if the branch isn't taken
                jumpTo = (pc_t *) ReservePointer (o);
            }
            else
            {
                bool fused;
    _           (FuseBranch (o, c_branchKind_branchIf, & fused));          // patch 0062

                if (not fused)
                {
                    IM3Operation op = IsStackTopInRegister (o) ? op_BranchIf_r : op_BranchIf_s;

    _               (EmitOp (o, op));
    _               (EmitSlotNumOfStackTopAndPop (o)); // condition
                }

                EmitPatchingBranchPointer (o, scope);
                goto _catch;
            }
        }

        if (not IsStackPolymorphic (o))
        {
            if (isReturn)
            {
_               (ReturnValues (o, scope, true));
_               (EmitOp (o, op_Return));
            }
            else
            {
_               (ResolveBlockResults (o, scope, true));
_               (EmitPatchingBranch (o, scope));
            }
        }

        if (jumpTo)
        {
            * jumpTo = GetPC (o);
        }

        if (i_opcode == c_waOp_branch)
_           (SetStackPolymorphic (o));
    }

    _catch: return result;
}


M3Result  Compile_BranchTable  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

_try {
    u32 targetCount;
_   (ReadLEB_u32 (& targetCount, & o->wasm, o->wasmEnd));

    // every target takes at least one byte, and the default one follows: a larger count is a
    // lie that would overflow the code page sized from it (patch 0006)
    _throwif (m3Err_wasmUnderrun, targetCount >= (u32) (o->wasmEnd - o->wasm));

_   (PreserveRegisterIfOccupied (o, c_m3Type_i64));         // move branch operand to a slot
    u16 slot = GetStackTopSlotNumber (o);
_   (Pop (o));

    // OPTZ: according to spec: "forward branches that target a control instruction with a non-empty
    // result type consume matching operands first and push them back on the operand stack after unwinding"
    // So, this move-to-reg is only necessary if the target scopes have a type.

    u32 numCodeLines = targetCount + 4; // 3 => IM3Operation + slot + target_count + default_target
_   (EnsureCodePageNumLines (o, numCodeLines));

_   (EmitOp (o, op_BranchTable));
    EmitSlotOffset (o, slot);
    EmitConstant32 (o, targetCount);

    IM3CodePage continueOpPage = NULL;

    ++targetCount; // include default
    for (u32 i = 0; i < targetCount; ++i)
    {
        u32 target;
_       (ReadLEB_u32 (& target, & o->wasm, o->wasmEnd));

        IM3CompilationScope scope;
_       (GetBlockScope (o, & scope, target));

        // TODO: don't need codepage rigmarole for
        // no-param forward-branch targets

_       (AcquireCompilationCodePage (o, & continueOpPage));

        pc_t startPC = GetPagePC (continueOpPage);
        IM3CodePage savedPage = o->page;
        o->page = continueOpPage;

        if (scope->opcode == c_waOp_loop)
        {
            result = ResolveBlockResults (o, scope, true);

            if (not result)
                result = EmitOp (o, op_ContinueLoop);
            if (not result)
                EmitPointer (o, scope->pc);
        }
        else
        {
            // TODO: this could be fused with equivalent targets
            if (not IsStackPolymorphic (o))
            {
                if (scope->depth == 0)
                {
                    result = ReturnValues (o, scope, true);
                    if (not result)
                        result = EmitOp (o, op_Return);
                }
                else
                {
                    result = ResolveBlockResults (o, scope, true);
                    if (not result)
                        result = EmitPatchingBranch (o, scope);
                }
            }
        }

        // on an error too: the function's page must be back in o->page (patch 0006)
        ReleaseCompilationCodePage (o);
        o->page = savedPage;
        _throwif (result, result);

        EmitPointer (o, startPC);
    }

_   (SetStackPolymorphic (o));

    }

    _catch: return result;
}


M3Result  CompileCallArgsAndReturn  (IM3Compilation o, u16 * o_stackOffset, IM3FuncType i_type, bool i_isIndirect)
{
    M3Result result = m3Err_none;

_try {

    u16 topSlot = GetMaxUsedSlotPlusOne (o);

    // force use of at least one stack slot; this is to help ensure
    // the m3 stack overflows (and traps) before the native stack can overflow.
    // e.g. see Wasm spec test 'runaway' in call.wast
    topSlot = M3_MAX (1, topSlot);

    // stack frame is 64-bit aligned
    AlignSlotToType (& topSlot, c_m3Type_i64);

    * o_stackOffset = topSlot;

    // wait to pop this here so that topSlot search is correct
    if (i_isIndirect)
_       (Pop (o));

    u16 numArgs = GetFuncTypeNumParams (i_type);
    u16 numRets = GetFuncTypeNumResults (i_type);

    // a v128 takes 128 bits (patch 0070)
    u16 argTop = topSlot + GetFuncTypeIoSlots (i_type, false) + GetFuncTypeIoSlots (i_type, true);

    while (numArgs--)
    {
_       (CopyStackTopToSlot (o, argTop -= GetTypeIoSlots (GetFuncTypeParamType (i_type, numArgs))));
_       (Pop (o));
    }

    u16 i = 0;
    while (numRets--)
    {
        u8 type = GetFuncTypeResultType (i_type, i++);

_       (Push (o, type, topSlot));
        MarkSlotsAllocatedByType (o, topSlot, type);

        topSlot += GetTypeIoSlots (type);
    }

    } _catch: return result;
}


// Whether an opcode's operations can trap and so are trap sites (patch 0075): unreachable,
// memory accesses, integer division and remainder, float-to-integer truncation, table.get/set,
// bulk memory and table operations (call_indirect keeps its offset as an immediate).  `next` is
// what follows the opcode: a SIMD opcode's number.
static bool  IsTrapSite  (m3opcode_t i_opcode, bytes_t i_next, cbytes_t i_end)
{
    switch (i_opcode)
    {
        case 0x00:                                                  // unreachable
        case 0x25: case 0x26:                                       // table.get, table.set
        case 0x6d: case 0x6e: case 0x6f: case 0x70:                 // i32 div, rem
        case 0x7f: case 0x80: case 0x81: case 0x82:                 // i64 div, rem
        case 0xa8: case 0xa9: case 0xaa: case 0xab:                 // i32.trunc_f32/f64
        case 0xae: case 0xaf: case 0xb0: case 0xb1:                 // i64.trunc_f32/f64
        case 0xfc08: case 0xfc0a: case 0xfc0b:                      // memory.init, copy, fill
        case 0xfc0c: case 0xfc0e: case 0xfc11:                      // table.init, copy, fill
            return true;
        case c_waOp_simd:
        {
            u32 simd;
            if (ReadLEB_u32 (& simd, & i_next, i_end))
                return false;
            return simd <= 0x0b or (simd >= 0x54 and simd <= 0x5d);   // loads, stores, lanes
        }
        default:
            return i_opcode >= 0x28 and i_opcode <= 0x3e;           // loads, stores
    }
}


// The wasm offset of the operation being compiled, from the start of the module (patch 0075):
// the operations that can trap keep it as an immediate for trap frames (m3_GetTrapOffsets).
static u32  GetWasmOffset  (IM3Compilation o)
{
    return (u32) (o->lastOpcodeStart - o->module->wasmStart);
}


M3Result  Compile_Call  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

_try {
    u32 functionIndex;
_   (ReadLEB_u32 (& functionIndex, & o->wasm, o->wasmEnd));

    IM3Function function = Module_GetFunction (o->module, functionIndex);

    if (function)
    {                                                                   m3log (compile, d_indent " (func= [%d] '%s'; args= %d)",
                                                                                get_indention_string (o), functionIndex, m3_GetFunctionName (function), function->funcType->numArgs);
        if (function->module)
        {
            u16 slotTop;
_           (CompileCallArgsAndReturn (o, & slotTop, function->funcType, false));

            IM3Operation op;
            const void * operand;

            if (function->compiled)
            {
                op = op_Call;
                operand = function->compiled;
            }
            else
            {
                op = op_Compile;
                operand = function;
            }

_           (EmitOp     (o, op));
            EmitPointer (o, operand);
            EmitSlotOffset  (o, slotTop);
            EmitConstant32  (o, GetWasmOffset (o));     // patch 0075: for trap frames
        }
        else
        {
            _throw (ErrorCompile (m3Err_functionImportMissing, o, "'%s.%s'", GetFunctionImportModuleName (function), m3_GetFunctionName (function)));
        }
    }
    else _throw (m3Err_functionLookupFailed);

    } _catch: return result;
}


M3Result  Compile_CallIndirect  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

_try {
    u32 typeIndex;
_   (ReadLEB_u32 (& typeIndex, & o->wasm, o->wasmEnd));

    // the table index is a u32 LEB (reference types); LLVM 19+ pads it: 0x80 0x00 is table 0
    u32 tableIndex;
_   (ReadLEB_u32 (& tableIndex, & o->wasm, o->wasmEnd));
    _throwif ("call_indirect table index out of range", tableIndex >= o->module->numTables);
    IM3Table table = Module_GetTable (o->module, tableIndex);     // patch 0074
    _throwif (m3Err_typeMismatch, table->type != c_m3Type_funcref);

    _throwif ("function call type index out of range", typeIndex >= o->module->numFuncTypes);

    if (IsStackTopInRegister (o))
_       (PreserveRegisterIfOccupied (o, c_m3Type_i32));

    u16 tableIndexSlot = GetStackTopSlotNumber (o);

    u16 execTop;
    IM3FuncType type = o->module->funcTypes [typeIndex];
_   (CompileCallArgsAndReturn (o, & execTop, type, true));

_   (EmitOp         (o, op_CallIndirect));
    EmitSlotOffset  (o, tableIndexSlot);
    EmitPointer     (o, table);                 // patch 0011
    EmitPointer     (o, type);              // TODO: unify all types in M3Environment
    EmitSlotOffset  (o, execTop);
    EmitConstant32  (o, GetWasmOffset (o));     // patch 0075: for trap frames

} _catch:
    return result;
}


// return_call f, return_call_indirect type table (patch 0072): the arguments are placed as for
// a call, then op_ReturnCall(Indirect) moves them into this function's frame and continues in
// the callee (m3_exec.h, TailCall).  Nothing after it runs: the stack becomes polymorphic.
M3Result  Compile_ReturnCall  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

_try {
    bool indirect = i_opcode == 0x13;
    u32 index, tableIndex = 0;
_   (ReadLEB_u32 (& index, & o->wasm, o->wasmEnd));
    if (indirect)
_       (ReadLEB_u32 (& tableIndex, & o->wasm, o->wasmEnd));

    if (not IsStackPolymorphic (o))
    {
        IM3Function function = NULL;
        IM3Table table = NULL;
        IM3FuncType type;
        u16 tableIndexSlot = 0;
        if (indirect)
        {
            _throwif ("return_call_indirect table index out of range", tableIndex >= o->module->numTables);
            table = Module_GetTable (o->module, tableIndex);        // patch 0074
            _throwif (m3Err_typeMismatch, table->type != c_m3Type_funcref);
            _throwif ("function call type index out of range", index >= o->module->numFuncTypes);
            type = o->module->funcTypes [index];
            if (IsStackTopInRegister (o))
_               (PreserveRegisterIfOccupied (o, c_m3Type_i32));
            tableIndexSlot = GetStackTopSlotNumber (o);
        }
        else
        {
            function = Module_GetFunction (o->module, index);
            _throwif (m3Err_functionLookupFailed, not function);
            _throwif (ErrorCompile (m3Err_functionImportMissing, o, "'%s.%s'", GetFunctionImportModuleName (function), m3_GetFunctionName (function)),
                      not function->module);
            type = function->funcType;
        }

        u16 stackOffset;
_       (CompileCallArgsAndReturn (o, & stackOffset, type, indirect));

        // (patch 0076) op_ReturnCallIndirect and its immediates take 7 lines, one more than
        // EmitOp keeps free for an op (d_m3CodePageFreeLinesThreshold): without this the next
        // op's bridge to a new page could be written one line past the end of this page
_       (EnsureCodePageNumLines (o, indirect ? 7 : 5));
        if (indirect)
        {
_           (EmitOp         (o, op_ReturnCallIndirect));
            EmitSlotOffset  (o, tableIndexSlot);
            EmitPointer     (o, table);
            EmitPointer     (o, type);
        }
        else
        {
_           (EmitOp         (o, op_ReturnCall));
            EmitPointer     (o, function);
        }
        EmitSlotOffset  (o, stackOffset);
        EmitSlotOffset  (o, GetFuncTypeIoSlots (type, true));
        EmitSlotOffset  (o, GetFuncTypeIoSlots (type, false));
    }

    // (the results CompileCallArgsAndReturn pushed are dropped with everything else)
_   (SetStackPolymorphic (o));

} _catch:
    return result;
}


//-- tables (patch 0011) ------------------------------------------------------------------------------

static
M3Result  ReadTable  (IM3Compilation o, IM3Table * o_table)
{
    M3Result result;

    u32 tableIndex;
_   (ReadLEB_u32 (& tableIndex, & o->wasm, o->wasmEnd));
    _throwif ("table index out of range", tableIndex >= o->module->numTables);
    * o_table = Module_GetTable (o->module, tableIndex);       // patch 0074

    _catch: return result;
}


static
M3Result  ReadElementSegment  (IM3Compilation o, IM3ElementSegment * o_segment)
{
    M3Result result;

    u32 segmentIndex;
_   (ReadLEB_u32 (& segmentIndex, & o->wasm, o->wasmEnd));
    _throwif ("element segment index out of range", segmentIndex >= o->module->numElementSegments);
    * o_segment = & o->module->elementSegments [segmentIndex];

    _catch: return result;
}


// Emits i_op with room for its immediates; its operands must be in slots, so values held in
// registers are moved to slots first (that emits code, so it comes before the op)
static
M3Result  EmitSlotsOp  (IM3Compilation o, IM3Operation i_op)
{
    M3Result result;

_   (PreserveRegisters (o));
_   (EnsureCodePageNumLines (o, 8));
_   (EmitOp (o, i_op));

    _catch: return result;
}


static
M3Result  EmitOperandSlots  (IM3Compilation o, u32 i_count)
{
    M3Result result = m3Err_none;

    while (i_count--)
_       (EmitSlotNumOfStackTopAndPop (o));      // the topmost first

    _catch: return result;
}


// memory.init x 0 and data.drop x (patch 0012)
M3Result  Compile_DataOp  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    u32 segmentIndex;
_   (ReadLEB_u32 (& segmentIndex, & o->wasm, o->wasmEnd));
    _throwif ("data segment index out of range", segmentIndex >= o->module->numDataSegments);
    IM3DataSegment segment = & o->module->dataSegments [segmentIndex];

    if (i_opcode == c_waOp_memoryInit)
    {
        u8 memoryIndex;
_       (Read_u8 (& memoryIndex, & o->wasm, o->wasmEnd));
        _throwif ("memory index out of range", memoryIndex != 0 or not o->module->hasMemory);

_       (EmitSlotsOp (o, op_MemInit));
        EmitPointer (o, segment);
_       (EmitOperandSlots (o, 3));
    }
    else
    {
_       (EmitSlotsOp (o, op_DataDrop));
        EmitPointer (o, segment);
    }

    _catch: return result;
}


M3Result  Compile_TableGetSet  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    IM3Table table;
_   (ReadTable (o, & table));

    if (i_opcode == c_waOp_tableGet)
    {
_       (EmitSlotsOp (o, op_TableGet));
        EmitPointer (o, table);
_       (EmitOperandSlots (o, 1));
_       (PushAllocatedSlotAndEmit (o, table->type));
    }
    else
    {
_       (EmitSlotsOp (o, op_TableSet));
        EmitPointer (o, table);
_       (EmitOperandSlots (o, 2));
    }

    _catch: return result;
}


M3Result  Compile_TableOp  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    IM3Table table, sourceTable;
    IM3ElementSegment segment;

    switch (i_opcode)
    {
    case c_waOp_tableInit:
_       (ReadElementSegment (o, & segment));
_       (ReadTable (o, & table));
_       (EmitSlotsOp (o, op_TableInit));
        EmitPointer (o, table);
        EmitPointer (o, segment);
_       (EmitOperandSlots (o, 3));
        break;

    case c_waOp_elemDrop:
_       (ReadElementSegment (o, & segment));
_       (EmitSlotsOp (o, op_ElemDrop));
        EmitPointer (o, segment);
        break;

    case c_waOp_tableCopy:
_       (ReadTable (o, & table));
_       (ReadTable (o, & sourceTable));
_       (EmitSlotsOp (o, op_TableCopy));
        EmitPointer (o, table);
        EmitPointer (o, sourceTable);
_       (EmitOperandSlots (o, 3));
        break;

    case c_waOp_tableGrow:
_       (ReadTable (o, & table));
_       (EmitSlotsOp (o, op_TableGrow));
        EmitPointer (o, table);
_       (EmitOperandSlots (o, 2));
_       (PushAllocatedSlotAndEmit (o, c_m3Type_i32));
        break;

    case c_waOp_tableSize:
_       (ReadTable (o, & table));
_       (EmitSlotsOp (o, op_TableSize));
        EmitPointer (o, table);
_       (PushAllocatedSlotAndEmit (o, c_m3Type_i32));
        break;

    case c_waOp_tableFill:
_       (ReadTable (o, & table));
_       (EmitSlotsOp (o, op_TableFill));
        EmitPointer (o, table);
_       (EmitOperandSlots (o, 3));
        break;

    default:
        _throw (m3Err_unknownOpcode);
    }

    _catch: return result;
}


M3Result  Compile_Memory_Size  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    i8 reserved;
_   (ReadLEB_i7 (& reserved, & o->wasm, o->wasmEnd));

_   (PreserveRegisterIfOccupied (o, c_m3Type_i32));

_   (EmitOp     (o, op_MemSize));

_   (PushRegister (o, c_m3Type_i32));

    _catch: return result;
}


M3Result  Compile_Memory_Grow  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    i8 reserved;
_   (ReadLEB_i7 (& reserved, & o->wasm, o->wasmEnd));

_   (CopyStackTopToRegister (o, false));
_   (PopType (o, c_m3Type_i32));

_   (EmitOp     (o, op_MemGrow));

_   (PushRegister (o, c_m3Type_i32));

    _catch: return result;
}


M3Result  Compile_Memory_CopyFill  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result = m3Err_none;

    i8 reserved;
_   (ReadLEB_i7 (& reserved, & o->wasm, o->wasmEnd));

    IM3Operation op;
    if (i_opcode == c_waOp_memoryCopy)
    {
_       (ReadLEB_i7 (& reserved, & o->wasm, o->wasmEnd));
        op = op_MemCopy;
    }
    else op = op_MemFill;

_   (CopyStackTopToRegister (o, false));

_   (EmitOp  (o, op));
_   (PopType (o, c_m3Type_i32));
_   (EmitSlotNumOfStackTopAndPop (o));
_   (EmitSlotNumOfStackTopAndPop (o));

    _catch: return result;
}


static
M3Result  ReadBlockType  (IM3Compilation o, IM3FuncType * o_blockType)
{
    M3Result result;

    i64 type;
_   (ReadLebSigned (& type, 33, & o->wasm, o->wasmEnd));

    if (type < 0)
    {
        u8 valueType;
_       (NormalizeType (&valueType, type));                                m3log (compile, d_indent " (type: %s)", get_indention_string (o), c_waTypes [valueType]);
        *o_blockType = o->module->environment->retFuncTypes[valueType];
    }
    else
    {
        _throwif("func type out of bounds", type >= o->module->numFuncTypes);
        *o_blockType = o->module->funcTypes[type];                         m3log (compile, d_indent " (type: %s)", get_indention_string (o), SPrintFuncTypeSignature (*o_blockType));
    }
    _catch: return result;
}


M3Result  PreserveArgsAndLocals  (IM3Compilation o)
{
    M3Result result = m3Err_none;

    if (o->stackIndex > o->stackFirstDynamicIndex)
    {
        u32 numArgsAndLocals = GetFunctionNumArgsAndLocals (o->function);

        for (u32 i = 0; i < numArgsAndLocals; ++i)
        {
            u16 slot = GetSlotForStackIndex (o, i);

            u16 preservedSlotNumber;
_           (FindReferencedLocalWithinCurrentBlock (o, & preservedSlotNumber, slot));

            if (preservedSlotNumber != slot)
            {
                u8 type = GetStackTypeFromBottom (o, i);                    d_m3Assert (type != c_m3Type_none)
                IM3Operation op = GetCopySlotOp (type);

                EmitOp          (o, op);
                EmitSlotOffset  (o, preservedSlotNumber);
                EmitSlotOffset  (o, slot);
            }
        }
    }

    _catch:
    return result;
}


// In unreachable code (a polymorphic stack) a block may take more parameters than the stack
// holds; CompileBlock would then take slot records of values that were never pushed (a write
// to m3Slots [0xffff]).  The block's parameters are given slots of their own instead: the
// values are never computed, the bookkeeping stays consistent (patch 0015).
static
M3Result  MaterializeBlockParams  (IM3Compilation o, IM3FuncType i_blockType)
{
    M3Result result = m3Err_none;

    u16 numParams = GetFuncTypeNumParams (i_blockType);

    if (numParams and IsStackPolymorphic (o) and GetNumBlockValuesOnStack (o) < numParams)
    {
_       (UnwindBlockStack (o));

        for (u16 i = 0; i < numParams; ++i)
_           (PushAllocatedSlot (o, GetFuncTypeParamType (i_blockType, i)));
    }

    _catch: return result;
}


M3Result  Compile_LoopOrBlock  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    // TODO: these shouldn't be necessary for non-loop blocks?
_   (PreserveRegisters (o));
_   (PreserveArgsAndLocals (o));

    IM3FuncType blockType;
_   (ReadBlockType (o, & blockType));
_   (MaterializeBlockParams (o, blockType));

    if (i_opcode == c_waOp_loop)
    {
        u16 numParams = GetFuncTypeNumParams (blockType);
        if (numParams)
        {
            // instantiate constants
            u16 numValues = GetNumBlockValuesOnStack (o);                   // CompileBlock enforces this at comptime
                                                                            d_m3Assert (numValues >= numParams);
            if (numValues >= numParams)
            {
                u16 stackTop = GetStackTopIndex (o) + 1;

                for (u16 i = stackTop - numParams; i < stackTop; ++i)
                {
                    u16 slot = GetSlotForStackIndex (o, i);
                    u8 type = GetStackTypeFromBottom (o, i);

                    if (IsConstantSlot (o, slot))
                    {
                        u16 newSlot;
_                       (AllocateSlots (o, & newSlot, type));
_                       (CopyStackIndexToSlot (o, newSlot, i));
                        o->wasmStack [i] = newSlot;
                    }
                }
            }
        }

_       (EmitOp (o, o->runtime and o->runtime->fuel ? op_LoopFuel : op_Loop));     // patch 0073
    }
    else
    {
    }

_   (CompileBlock (o, blockType, i_opcode));

    _catch: return result;
}


M3Result  CompileElseBlock  (IM3Compilation o, pc_t * o_startPC, IM3FuncType i_blockType)
{
    M3Result result;

_try {

    IM3CodePage elsePage;
_   (AcquireCompilationCodePage (o, & elsePage));

    * o_startPC = GetPagePC (elsePage);

    IM3CodePage savedPage = o->page;
    o->page = elsePage;

    result = CompileBlock (o, i_blockType, c_waOp_else);

    if (not result)
        result = EmitOp (o, op_Branch);
    if (not result)
        EmitPointer (o, GetPagePC (savedPage));

    // on an error too: else the function's page is lost and the else page never released
    // (patch 0013)
    ReleaseCompilationCodePage (o);

    o->page = savedPage;

} _catch:
    return result;
}


M3Result  Compile_If  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    /*      [   op_If   ]
            [ <else-pc> ]   ---->   [ ..else..  ]
            [  ..if..   ]           [ ..block.. ]
            [ ..block.. ]           [ op_Branch ]
            [    end    ]  <-----   [  <end-pc> ]       */

_try {

_   (PreserveNonTopRegisters (o));
_   (PreserveArgsAndLocals (o));

    bool fused;
_   (FuseBranch (o, c_branchKind_if, & fused));                         // patch 0062

    if (not fused)
    {
        IM3Operation op = IsStackTopInRegister (o) ? op_If_r : op_If_s;

_       (EmitOp (o, op));
_       (EmitSlotNumOfStackTopAndPop (o));
    }

    pc_t * pc = (pc_t *) ReservePointer (o);

    IM3FuncType blockType;
_   (ReadBlockType (o, & blockType));
_   (MaterializeBlockParams (o, blockType));

//  dump_type_stack (o);

    u16 stackIndex = o->stackIndex;

_   (CompileBlock (o, blockType, i_opcode));

    if (o->previousOpcode == c_waOp_else)
    {
        o->stackIndex = stackIndex;
_       (CompileElseBlock (o, pc, blockType));
    }
    else
    {
        // if block produces values and there isn't a defined else
        // case, then we need to make one up so that the pass-through
        // results end up in the right place
        if (GetFuncTypeNumResults (blockType))
        {
            // rewind to the if's end to create a fake else block
            o->wasm--;
            o->stackIndex = stackIndex;

//          dump_type_stack (o);

_           (CompileElseBlock (o, pc, blockType));
        }
        else * pc = GetPC (o);
    }

    } _catch: return result;
}


M3Result  Compile_Select  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result = m3Err_none;

    // Unreachable code (a polymorphic stack) where this block's stack holds fewer than the
    // three operands: the missing ones are of any type, and so is the result.  Below, the
    // selection's type was taken from a missing operand (none: nothing popped, a register of
    // no type pushed on top of the condition's register, and the next operator found both
    // operands "in registers": "no operation found for opcode") or from a value of an outer
    // block.  The code never runs: consume what there is and leave the result unknown, as
    // the empty polymorphic stack is (patch 0020).
    if (IsStackPolymorphic (o) and GetNumBlockValuesOnStack (o) < 3)
        return UnwindBlockStack (o);

    u16 slots [3] = { c_slotUnused, c_slotUnused, c_slotUnused };

    u8 type = GetStackTypeFromTop (o, 1); // get type of selection

    IM3Operation op = NULL;

    if (type == c_m3Type_v128)                  // operands in slots, the result to a slot (patch 0070)
    {
        bool conditionInRegister = IsStackTopInRegister (o);
        op = conditionInRegister ? op_Select_v128_r : op_Select_v128_s;
_       (EmitOp (o, op));
_       (EmitSlotNumOfStackTopAndPop (o));      // the condition, in a slot
_       (EmitSlotNumOfStackTopAndPop (o));
_       (EmitSlotNumOfStackTopAndPop (o));
_       (PushAllocatedSlotAndEmit (o, type));
        goto _catch;
    }

    if (IsFpType (type))
    {
#   if d_m3HasFloat
        // not consuming a fp reg, so preserve
        if (not IsStackTopMinus1InRegister (o) and
            not IsStackTopMinus2InRegister (o))
        {
_           (PreserveRegisterIfOccupied (o, type));
        }

        bool selectorInReg = IsStackTopInRegister (o);
        slots [0] = GetStackTopSlotNumber (o);
_       (Pop (o));

        u32 opIndex = 0;

        for (u32 i = 1; i <= 2; ++i)
        {
            if (IsStackTopInRegister (o))
                opIndex = i;
            else
                slots [i] = GetStackTopSlotNumber (o);

_          (Pop (o));
        }

        op = c_fpSelectOps [type - c_m3Type_f32] [selectorInReg] [opIndex];
#   else
        _throw (m3Err_unknownOpcode);
#   endif
    }
    else if (IsIntType (type))
    {
        // 'sss' operation doesn't consume a register, so might have to protected its contents
        if (not IsStackTopInRegister (o) and
            not IsStackTopMinus1InRegister (o) and
            not IsStackTopMinus2InRegister (o))
        {
_           (PreserveRegisterIfOccupied (o, type));
        }

        u32 opIndex = 3;  // op_Select_*_sss

        for (u32 i = 0; i < 3; ++i)
        {
            if (IsStackTopInRegister (o))
                opIndex = i;
            else
                slots [i] = GetStackTopSlotNumber (o);

_          (Pop (o));
        }

        op = c_intSelectOps [Is64BitType (type) ? 1 : 0] [opIndex];     // references select like i64
    }
    else if (not IsStackPolymorphic (o))
        _throw (m3Err_functionStackUnderrun);

    EmitOp (o, op);
    for (u32 i = 0; i < 3; i++)
    {
        if (IsValidSlot (slots [i]))
            EmitSlotOffset (o, slots [i]);
    }
_   (PushRegister (o, type));

    _catch: return result;
}


// select with a type immediate (reference types): exactly one value type follows
M3Result  Compile_SelectTyped  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    u32 numTypes;
_   (ReadLEB_u32 (& numTypes, & o->wasm, o->wasmEnd));
    _throwif (m3Err_wasmMalformed, numTypes != 1);

    i8 waType;
    u8 type;
_   (ReadLEB_i7 (& waType, & o->wasm, o->wasmEnd));
_   (NormalizeType (& type, waType));
    _throwif (m3Err_typeMismatch, type == c_m3Type_none);

_   (Compile_Select (o, i_opcode));

    _catch: return result;
}


// ref.null t: the null reference is 0 (patch 0010)
M3Result  Compile_RefNull  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    i8 waType;
    u8 type;
_   (ReadLEB_i7 (& waType, & o->wasm, o->wasmEnd));
_   (NormalizeType (& type, waType));
    _throwif (m3Err_typeMismatch, not IsRefType (type));

_   (PushConst (o, 0, type));

    _catch: return result;
}


// ref.func x: a funcref is the function's IM3Function (patch 0010)
M3Result  Compile_RefFunc  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    u32 functionIndex;
_   (ReadLEB_u32 (& functionIndex, & o->wasm, o->wasmEnd));
    _throwif (m3Err_functionLookupFailed, functionIndex >= o->module->numFunctions);

    IM3Function function = & o->module->functions [functionIndex];
_   (PushConst (o, (u64) (uintptr_t) function, c_m3Type_funcref));

    _catch: return result;
}


M3Result  Compile_Drop  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result = Pop (o);                                              if (d_m3LogWasmStack) dump_type_stack (o);
    return result;
}


M3Result  Compile_Nop  (IM3Compilation o, m3opcode_t i_opcode)
{
    return m3Err_none;
}


M3Result  Compile_Unreachable  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

_   (AddTrapRecord (o));

_   (EmitOp (o, op_Unreachable));
_   (SetStackPolymorphic (o));

    _catch:
    return result;
}


// Binary integer operations with immediate-operand variants (patch 0060), by opcode.
typedef struct M3IntOpVariants
{
    bool            is64;           // the operands are 64-bit
    IM3Operation    ir, is;         // the top operand in the code stream; the other in r0, in a slot
    IM3Operation    toSlot [5];     // result to a slot (patch 0061): _rs, _sr, _ss, _ir, _is
}
M3IntOpVariants;

#define d_m3IntOpFirst              0x45        // i32.eqz
#define d_m3IntOpLast               0x8a        // i64.rotr
#define d_m3IntOpVariantsEntry(OPCODE, RES, TYPE, NAME, EXPR, OP) \
    [OPCODE - d_m3IntOpFirst] = { sizeof (TYPE) == 8, op_##TYPE##_##NAME##_ir, op_##TYPE##_##NAME##_is, \
        { op_##TYPE##_##NAME##_rs_s, op_##TYPE##_##NAME##_sr_s, op_##TYPE##_##NAME##_ss_s,        \
          op_##TYPE##_##NAME##_ir_s, op_##TYPE##_##NAME##_is_s } },

static const M3IntOpVariants c_intOpVariants [d_m3IntOpLast - d_m3IntOpFirst + 1] =
{
    d_m3ImmediateOps (d_m3IntOpVariantsEntry)
};

static
const M3IntOpVariants *  GetIntOpVariants  (m3opcode_t i_opcode)
{
    if (i_opcode >= d_m3IntOpFirst and i_opcode <= d_m3IntOpLast and c_intOpVariants [i_opcode - d_m3IntOpFirst].ir)
        return & c_intOpVariants [i_opcode - d_m3IntOpFirst];
    else
        return NULL;
}


enum { c_variant_rs, c_variant_sr, c_variant_ss, c_variant_ir, c_variant_is };
enum { c_variant_r, c_variant_s };      // of a unary operation

// Compare-and-branch operations (patch 0062), by the opcode of the operation computing the
// condition and its variant.
typedef struct M3BranchOps
{
    IM3Operation    ops [3] [5];        // [kind] [variant]
}
M3BranchOps;

#define d_m3BranchKindOps(KIND, TYPE, NAME) \
    { op_##KIND##_##TYPE##_##NAME##_rs, op_##KIND##_##TYPE##_##NAME##_sr, op_##KIND##_##TYPE##_##NAME##_ss, \
      op_##KIND##_##TYPE##_##NAME##_ir, op_##KIND##_##TYPE##_##NAME##_is }
#define d_m3BranchOpsEntry(OPCODE, RES, TYPE, NAME, EXPR, OP) \
    [OPCODE - d_m3IntOpFirst] = { { d_m3BranchKindOps (BranchIf, TYPE, NAME), d_m3BranchKindOps (If, TYPE, NAME), \
                                    d_m3BranchKindOps (ContinueLoopIf, TYPE, NAME) } },
#define d_m3BranchEqzEntry(OPCODE, TYPE) \
    [OPCODE - d_m3IntOpFirst] = { { { op_BranchIf_##TYPE##_EqualToZero_r, op_BranchIf_##TYPE##_EqualToZero_s }, \
                                    { op_If_##TYPE##_EqualToZero_r, op_If_##TYPE##_EqualToZero_s }, \
                                    { op_ContinueLoopIf_##TYPE##_EqualToZero_r, op_ContinueLoopIf_##TYPE##_EqualToZero_s } } },

static const M3BranchOps c_branchOps [d_m3IntOpLast - d_m3IntOpFirst + 1] =
{
    d_m3BranchOps (d_m3BranchOpsEntry)
    d_m3BranchEqzEntry (0x45, i32)
    d_m3BranchEqzEntry (0x50, i64)
};

// The operation just emitted at i_opPC left its result in r0 (patch 0061): a `local.set` right
// after it can make it write the local instead (Compile_SetLocal).
static
void  RecordResultOp  (IM3Compilation o, pc_t i_opPC, IM3Operation i_toSlot, m3opcode_t i_opcode, i32 i_variant)
{
    if (o->page)
    {
        o->lastResultOpPC = i_opPC;
        o->lastResultOpEnd = GetPC (o);
        o->lastResultOpToSlot = i_toSlot;
        o->lastResultOpStackIndex = (u16) GetStackTopIndex (o);
        o->lastResultOpcode = i_opcode;
        o->lastResultVariant = i_variant;
    }
}


// True when the stack top is the result of the operation RecordResultOp saw last, still in r0,
// with nothing emitted since: that operation can then be rewritten (patches 0061, 0062).
static
bool  IsStackTopLastResult  (IM3Compilation o)
{
    return o->page and GetPC (o) == o->lastResultOpEnd and not IsStackPolymorphic (o) and
           IsStackTopInRegister (o) and not IsFpType (GetStackTopType (o)) and
           GetStackTopIndex (o) == (i16) o->lastResultOpStackIndex and
           GetRegisterStackIndex (o, 0) == o->lastResultOpStackIndex;
}


// The branch of kind i_kind on the stack top's condition, fused with the operation that just
// computed it (patch 0062): that operation's op word is rewritten into the compare-and-branch,
// which reads the same operands, then the branch's immediate the caller emits.  The condition
// is popped.  *o_fused is false when there is no such operation; nothing is done then.
static
M3Result  FuseBranch  (IM3Compilation o, u32 i_kind, bool * o_fused)
{
    M3Result result = m3Err_none;

    * o_fused = false;

    m3opcode_t opcode = o->lastResultOpcode;
    i32 variant = o->lastResultVariant;

    if (IsStackTopLastResult (o) and opcode >= d_m3IntOpFirst and opcode <= d_m3IntOpLast and
        variant >= 0 and variant < 5)
    {
        IM3Operation op = c_branchOps [opcode - d_m3IntOpFirst].ops [i_kind] [variant];

        if (op)
        {
            * (void **) o->lastResultOpPC = (void *) op;
            o->lastResultOpEnd = NULL;
_           (PopType (o, c_m3Type_i32));
            * o_fused = true;
        }
    }

    _catch: return result;
}


// Emits the result of an operation just emitted: to r0, or, when r0 holds another value, to a
// new slot instead of spilling that value first (i_toSlot, patch 0061).
static
M3Result  PushOperationResult  (IM3Compilation o, u8 i_type, pc_t i_opPC, IM3Operation i_toSlot, bool i_inSlot,
                                m3opcode_t i_opcode, i32 i_variant)
{
    M3Result result;

    if (i_inSlot)
    {
_       (PushAllocatedSlotAndEmit (o, i_type));
    }
    else
    {
_       (PushRegister (o, i_type));
        RecordResultOp (o, i_opPC, i_toSlot, i_opcode, i_variant);
    }

    _catch: return result;
}


// The top operand is an i32/i64.const in the constant table: emit the operation's immediate
// variant, [op] [constant] [slot of the other operand, if in a slot] (patch 0060).
// *o_done is false when the operation has no such variant or the top is not a constant.
static
M3Result  CompileImmediateOperator  (IM3Compilation o, IM3OpInfo i_opInfo, m3opcode_t i_opcode, bool * o_done)
{
    M3Result result = m3Err_none;

    * o_done = false;

    const M3IntOpVariants * variants = GetIntOpVariants (i_opcode);

    if (variants and i_opInfo->stackOffset == -1 and not IsStackPolymorphic (o) and GetNumBlockValuesOnStack (o) >= 2 and
        IsStackTopInSlot (o) and IsConstantSlot (o, GetStackTopSlotNumber (o)) and
        Is64BitType (GetStackTopType (o)) == variants->is64)
    {
        u16 index = GetStackTopSlotNumber (o) - o->slotFirstConstIndex;

        u64 constant;
        if (variants->is64)
            memcpy (& constant, & o->constants [index], sizeof constant);     // unaligned (patch 0014)
        else
            constant = * (u32 *) & o->constants [index];                    // as PushConst wrote it

        bool otherInRegister = IsStackTopMinus1InRegister (o);
        // r0 holds another value: the result goes to a slot (patch 0061)
        bool toSlot = not otherInRegister and IsRegisterAllocated (o, 0);
        u32 variant = otherInRegister ? c_variant_ir : c_variant_is;

_       (EmitOp (o, toSlot ? variants->toSlot [variant] : otherInRegister ? variants->ir : variants->is));
        pc_t opPC = GetPC (o) - 1;

        if (o->page)
        {
            if (variants->is64)
                EmitWord64 (o->page, constant);
            else
                EmitWord32 (o->page, (u32) constant);
        }

_       (Pop (o));                                      // the constant
_       (EmitSlotNumOfStackTopAndPop (o));              // the other operand
_       (PushOperationResult (o, i_opInfo->type, opPC, variants->toSlot [variant], toSlot, i_opcode, variant));

        * o_done = true;
    }

    _catch: return result;
}


// OPTZ: currently all stack slot indices take up a full word, but
// dual stack source operands could be packed together
M3Result  Compile_Operator  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

    IM3OpInfo opInfo = GetOpInfo (i_opcode);
    _throwif (m3Err_unknownOpcode, not opInfo);

    IM3Operation op;

    // This preserve is for for FP compare operations.
    // either need additional slot destination operations or the
    // easy fix, move _r0 out of the way.
    // moving out the way might be the optimal solution most often?
    // otherwise, the _r0 reg can get buried down in the stack
    // and be idle & wasted for a moment.
    if (IsFpType (GetStackTopType (o)) and IsIntType (opInfo->type))
    {
_       (PreserveRegisterIfOccupied (o, opInfo->type));
    }

    bool done;
_   (CompileImmediateOperator (o, opInfo, i_opcode, & done));
    if (done)
        goto _catch;

    // binary integer operations with result-to-slot variants (patch 0061)
    const M3IntOpVariants * variants = (opInfo->stackOffset == -1) ? GetIntOpVariants (i_opcode) : NULL;
    i32 variant = -1;
    bool toSlot = false;

    if (opInfo->stackOffset == 0)
    {
        if (IsStackTopInRegister (o))
        {
            op = opInfo->operations [0]; // _s
            variant = c_variant_r;
        }
        else
        {
_           (PreserveRegisterIfOccupied (o, opInfo->type));
            op = opInfo->operations [1]; // _r
            variant = c_variant_s;
        }
    }
    else
    {
        if (IsStackTopInRegister (o))
        {
            op = opInfo->operations [0];  // _rs
            variant = c_variant_rs;

            if (IsStackTopMinus1InRegister (o))
            {                                       d_m3Assert (i_opcode == 0x38 or i_opcode == 0x39);
                op = opInfo->operations [3]; // _rr for fp.store
                variant = -1;
            }
        }
        else if (IsStackTopMinus1InRegister (o))
        {
            op = opInfo->operations [1]; // _sr
            variant = c_variant_sr;

            if (not op)  // must be commutative, then
            {
                op = opInfo->operations [0];
                variant = c_variant_rs;
            }
        }
        else
        {
            variant = c_variant_ss;

            // r0 holds another value: the result goes to a slot (patch 0061)
            if (variants and IsRegisterAllocated (o, 0))
            {
                op = variants->toSlot [c_variant_ss];
                toSlot = true;
            }
            else
            {
_               (PreserveRegisterIfOccupied (o, opInfo->type));     // _ss
                op = opInfo->operations [2];
            }
        }
    }

    if (op)
    {
_       (EmitOp (o, op));
        pc_t opPC = GetPC (o) - 1;

_       (EmitSlotNumOfStackTopAndPop (o));

        if (opInfo->stackOffset < 0)
_           (EmitSlotNumOfStackTopAndPop (o));

        if (opInfo->type != c_m3Type_none)
_           (PushOperationResult (o, opInfo->type, opPC, (variants and variant >= 0) ? variants->toSlot [variant] : NULL, toSlot,
                                  i_opcode, variant));
    }
    else
    {
#       ifdef DEBUG
            result = ErrorCompile ("no operation found for opcode", o, "'%s'", opInfo->name);
#       else
            result = ErrorCompile ("no operation found for opcode", o, "%x", i_opcode);
#       endif
        _throw (result);
    }

    _catch: return result;
}


M3Result  Compile_Convert  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result = m3Err_none;

_try {
    IM3OpInfo opInfo = GetOpInfo (i_opcode);
    _throwif (m3Err_unknownOpcode, not opInfo);

    bool destInSlot = IsRegisterTypeAllocated (o, opInfo->type);
    bool sourceInSlot = IsStackTopInSlot (o);

    IM3Operation op = opInfo->operations [destInSlot * 2 + sourceInSlot];

_   (EmitOp (o, op));
_   (EmitSlotNumOfStackTopAndPop (o));

    if (destInSlot)
_       (PushAllocatedSlotAndEmit (o, opInfo->type))
    else
_       (PushRegister (o, opInfo->type))

}
    _catch: return result;
}


// Integer loads writing a slot (patch 0063), by opcode: [_r_s, _s_s]
#define d_m3LoadToSlotEntry(OPCODE, DEST_TYPE, SRC_TYPE) \
    [OPCODE - 0x28] = { op_##DEST_TYPE##_Load_##SRC_TYPE##_r_s, op_##DEST_TYPE##_Load_##SRC_TYPE##_s_s },

static const IM3Operation c_loadToSlotOps [0x35 - 0x28 + 1] [2] =
{
    d_m3IntLoadOps (d_m3LoadToSlotEntry)
};

static
const IM3Operation *  GetLoadToSlotOps  (m3opcode_t i_opcode)
{
    if (i_opcode >= 0x28 and i_opcode <= 0x35 and c_loadToSlotOps [i_opcode - 0x28] [0])
        return c_loadToSlotOps [i_opcode - 0x28];
    else
        return NULL;
}


M3Result  Compile_Load_Store  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

_try {
    u32 alignHint, memoryOffset;

_   (ReadLEB_u32 (& alignHint, & o->wasm, o->wasmEnd));
_   (ReadLEB_u32 (& memoryOffset, & o->wasm, o->wasmEnd));
                                                                        m3log (compile, d_indent " (offset = %d)", get_indention_string (o), memoryOffset);
    IM3OpInfo opInfo = GetOpInfo (i_opcode);
    _throwif (m3Err_unknownOpcode, not opInfo);

    const IM3Operation * toSlot = GetLoadToSlotOps (i_opcode);

    if (toSlot and not IsStackPolymorphic (o) and GetNumBlockValuesOnStack (o) >= 1)
    {
        // an integer load (patch 0063): when r0 holds another value, the result goes to a new
        // slot instead of spilling that value; a local.set right after it writes the local
        bool addressInRegister = IsStackTopInRegister (o);
        bool resultToSlot = not addressInRegister and IsRegisterAllocated (o, 0);
        u32 variant = addressInRegister ? c_variant_r : c_variant_s;

_       (EmitOp (o, resultToSlot ? toSlot [variant] : opInfo->operations [variant]));
        pc_t opPC = GetPC (o) - 1;

_       (EmitSlotNumOfStackTopAndPop (o));
        EmitConstant32 (o, memoryOffset);

        if (resultToSlot)
        {
_           (PushAllocatedSlotAndEmit (o, opInfo->type));
        }
        else
        {
_           (PushRegister (o, opInfo->type));
            RecordResultOp (o, opPC, toSlot [variant], i_opcode, -1);
        }
    }
    else
    {
        if (IsFpType (opInfo->type))
_           (PreserveRegisterIfOccupied (o, c_m3Type_f64));

_       (Compile_Operator (o, i_opcode));

        EmitConstant32 (o, memoryOffset);
    }
}
    _catch: return result;
}


//-- fixed-width SIMD, v128 (patch 0070) ----------------------------------------------------------------
// A v128 is always in slots: every operation takes its v128 operands from slots and writes its
// result to a new slot (m3_exec_simd.h); a scalar operand (address, count, value) may be in a
// register (_r variant) or a slot (_s).

enum
{
    c_simd_none, c_simd_load, c_simd_loadLane, c_simd_store, c_simd_storeLane, c_simd_const, c_simd_shuffle,
    c_simd_splat, c_simd_extract, c_simd_replace, c_simd_unary, c_simd_binary, c_simd_ternary, c_simd_test,
    c_simd_shift
};

typedef struct M3SimdOpInfo
{
    u8              kind;
    u8              type;           // splat, replace: the scalar operand; extract: the result
    u8              lanes;          // lane immediates must be below it
    IM3Operation    ops [2];        // [_r, _s] or [the operation]
}
M3SimdOpInfo;

#define d_simdLoad(N)           { c_simd_load,      0, 0, { op_v128_##N##_r, op_v128_##N##_s } }
#define d_simdLoadLane(N, L)    { c_simd_loadLane,  0, L, { op_v128_##N##_r, op_v128_##N##_s } }
#define d_simdStore(N)          { c_simd_store,     0, 0, { op_v128_##N##_r, op_v128_##N##_s } }
#define d_simdStoreLane(N, L)   { c_simd_storeLane, 0, L, { op_v128_##N##_r, op_v128_##N##_s } }
#define d_simdSplat(N, T)       { c_simd_splat,     c_m3Type_##T, 0, { op_v128_##N##_r, op_v128_##N##_s } }
#define d_simdExtract(N, T, L)  { c_simd_extract,   c_m3Type_##T, L, { op_v128_##N } }
#define d_simdReplace(N, T, L)  { c_simd_replace,   c_m3Type_##T, L, { op_v128_##N##_r, op_v128_##N##_s } }
#define d_simdUn(N)             { c_simd_unary,     0, 0, { op_v128_##N } }
#define d_simdBin(N)            { c_simd_binary,    0, 0, { op_v128_##N } }
#define d_simdTest(N)           { c_simd_test,      0, 0, { op_v128_##N } }
#define d_simdShift(N)          { c_simd_shift,     0, 0, { op_v128_##N##_r, op_v128_##N##_s } }
#define d_simdCmp(T)            d_simdBin (T##_eq), d_simdBin (T##_ne), d_simdBin (T##_lt_s), d_simdBin (T##_lt_u), \
                                d_simdBin (T##_gt_s), d_simdBin (T##_gt_u), d_simdBin (T##_le_s), d_simdBin (T##_le_u), \
                                d_simdBin (T##_ge_s), d_simdBin (T##_ge_u)
#define d_simdFCmp(T)           d_simdBin (T##_eq), d_simdBin (T##_ne), d_simdBin (T##_lt), d_simdBin (T##_gt), \
                                d_simdBin (T##_le), d_simdBin (T##_ge)

// by the opcode after 0xfd (WebAssembly 2.0, 5.4.8); the gaps are not instructions
static const M3SimdOpInfo c_simdOps [256] =
{
    [0x00] = d_simdLoad (load),
    [0x01] = d_simdLoad (load8x8_s),    d_simdLoad (load8x8_u),     d_simdLoad (load16x4_s),    d_simdLoad (load16x4_u),
    [0x05] = d_simdLoad (load32x2_s),   d_simdLoad (load32x2_u),
    [0x07] = d_simdLoad (load8_splat),  d_simdLoad (load16_splat),  d_simdLoad (load32_splat),  d_simdLoad (load64_splat),
    [0x0b] = d_simdStore (store),
    [0x0c] = { c_simd_const },
    [0x0d] = { c_simd_shuffle, 0, 0, { op_v128_i8x16_shuffle } },
    [0x0e] = d_simdBin (i8x16_swizzle),
    [0x0f] = d_simdSplat (i8x16_splat, i32),    d_simdSplat (i16x8_splat, i32),     d_simdSplat (i32x4_splat, i32),
             d_simdSplat (i64x2_splat, i64),    d_simdSplat (f32x4_splat, f32),     d_simdSplat (f64x2_splat, f64),
    [0x15] = d_simdExtract (i8x16_extract_lane_s, i32, 16),     d_simdExtract (i8x16_extract_lane_u, i32, 16),
             d_simdReplace (i8x16_replace_lane, i32, 16),
             d_simdExtract (i16x8_extract_lane_s, i32, 8),      d_simdExtract (i16x8_extract_lane_u, i32, 8),
             d_simdReplace (i16x8_replace_lane, i32, 8),
             d_simdExtract (i32x4_extract_lane, i32, 4),        d_simdReplace (i32x4_replace_lane, i32, 4),
             d_simdExtract (i64x2_extract_lane, i64, 2),        d_simdReplace (i64x2_replace_lane, i64, 2),
             d_simdExtract (f32x4_extract_lane, f32, 4),        d_simdReplace (f32x4_replace_lane, f32, 4),
             d_simdExtract (f64x2_extract_lane, f64, 2),        d_simdReplace (f64x2_replace_lane, f64, 2),
    [0x23] = d_simdBin (i8x16_eq), d_simdBin (i8x16_ne), d_simdBin (i8x16_lt_s), d_simdBin (i8x16_lt_u),
             d_simdBin (i8x16_gt_s), d_simdBin (i8x16_gt_u), d_simdBin (i8x16_le_s), d_simdBin (i8x16_le_u),
             d_simdBin (i8x16_ge_s), d_simdBin (i8x16_ge_u),
    [0x2d] = d_simdBin (i16x8_eq), d_simdBin (i16x8_ne), d_simdBin (i16x8_lt_s), d_simdBin (i16x8_lt_u),
             d_simdBin (i16x8_gt_s), d_simdBin (i16x8_gt_u), d_simdBin (i16x8_le_s), d_simdBin (i16x8_le_u),
             d_simdBin (i16x8_ge_s), d_simdBin (i16x8_ge_u),
    [0x37] = d_simdBin (i32x4_eq), d_simdBin (i32x4_ne), d_simdBin (i32x4_lt_s), d_simdBin (i32x4_lt_u),
             d_simdBin (i32x4_gt_s), d_simdBin (i32x4_gt_u), d_simdBin (i32x4_le_s), d_simdBin (i32x4_le_u),
             d_simdBin (i32x4_ge_s), d_simdBin (i32x4_ge_u),
    [0x41] = d_simdFCmp (f32x4),
    [0x47] = d_simdFCmp (f64x2),
    [0x4d] = d_simdUn (not),    d_simdBin (and),    d_simdBin (andnot),     d_simdBin (or),     d_simdBin (xor),
    [0x52] = { c_simd_ternary, 0, 0, { op_v128_bitselect } },
    [0x53] = d_simdTest (any_true),
    [0x54] = d_simdLoadLane (load8_lane, 16),   d_simdLoadLane (load16_lane, 8),
             d_simdLoadLane (load32_lane, 4),   d_simdLoadLane (load64_lane, 2),
    [0x58] = d_simdStoreLane (store8_lane, 16), d_simdStoreLane (store16_lane, 8),
             d_simdStoreLane (store32_lane, 4), d_simdStoreLane (store64_lane, 2),
    [0x5c] = d_simdLoad (load32_zero),  d_simdLoad (load64_zero),
    [0x5e] = d_simdUn (f32x4_demote_f64x2_zero),    d_simdUn (f64x2_promote_low_f32x4),
    [0x60] = d_simdUn (i8x16_abs),  d_simdUn (i8x16_neg),   d_simdUn (i8x16_popcnt),
             d_simdTest (i8x16_all_true),   d_simdTest (i8x16_bitmask),
             d_simdBin (i8x16_narrow_i16x8_s),  d_simdBin (i8x16_narrow_i16x8_u),
    [0x67] = d_simdUn (f32x4_ceil), d_simdUn (f32x4_floor), d_simdUn (f32x4_trunc), d_simdUn (f32x4_nearest),
    [0x6b] = d_simdShift (i8x16_shl),   d_simdShift (i8x16_shr_s),  d_simdShift (i8x16_shr_u),
             d_simdBin (i8x16_add), d_simdBin (i8x16_add_sat_s), d_simdBin (i8x16_add_sat_u),
             d_simdBin (i8x16_sub), d_simdBin (i8x16_sub_sat_s), d_simdBin (i8x16_sub_sat_u),
    [0x74] = d_simdUn (f64x2_ceil), d_simdUn (f64x2_floor),
    [0x76] = d_simdBin (i8x16_min_s),   d_simdBin (i8x16_min_u),    d_simdBin (i8x16_max_s),    d_simdBin (i8x16_max_u),
    [0x7a] = d_simdUn (f64x2_trunc),
    [0x7b] = d_simdBin (i8x16_avgr_u),
    [0x7c] = d_simdUn (i16x8_extadd_pairwise_i8x16_s),  d_simdUn (i16x8_extadd_pairwise_i8x16_u),
             d_simdUn (i32x4_extadd_pairwise_i16x8_s),  d_simdUn (i32x4_extadd_pairwise_i16x8_u),
    [0x80] = d_simdUn (i16x8_abs),  d_simdUn (i16x8_neg),   d_simdBin (i16x8_q15mulr_sat_s),
             d_simdTest (i16x8_all_true),   d_simdTest (i16x8_bitmask),
             d_simdBin (i16x8_narrow_i32x4_s),  d_simdBin (i16x8_narrow_i32x4_u),
             d_simdUn (i16x8_extend_low_i8x16_s),   d_simdUn (i16x8_extend_high_i8x16_s),
             d_simdUn (i16x8_extend_low_i8x16_u),   d_simdUn (i16x8_extend_high_i8x16_u),
             d_simdShift (i16x8_shl),   d_simdShift (i16x8_shr_s),  d_simdShift (i16x8_shr_u),
             d_simdBin (i16x8_add), d_simdBin (i16x8_add_sat_s), d_simdBin (i16x8_add_sat_u),
             d_simdBin (i16x8_sub), d_simdBin (i16x8_sub_sat_s), d_simdBin (i16x8_sub_sat_u),
    [0x94] = d_simdUn (f64x2_nearest),
    [0x95] = d_simdBin (i16x8_mul),
             d_simdBin (i16x8_min_s),   d_simdBin (i16x8_min_u),    d_simdBin (i16x8_max_s),    d_simdBin (i16x8_max_u),
    [0x9b] = d_simdBin (i16x8_avgr_u),
             d_simdBin (i16x8_extmul_low_i8x16_s),  d_simdBin (i16x8_extmul_high_i8x16_s),
             d_simdBin (i16x8_extmul_low_i8x16_u),  d_simdBin (i16x8_extmul_high_i8x16_u),
    [0xa0] = d_simdUn (i32x4_abs),  d_simdUn (i32x4_neg),
    [0xa3] = d_simdTest (i32x4_all_true),   d_simdTest (i32x4_bitmask),
    [0xa7] = d_simdUn (i32x4_extend_low_i16x8_s),   d_simdUn (i32x4_extend_high_i16x8_s),
             d_simdUn (i32x4_extend_low_i16x8_u),   d_simdUn (i32x4_extend_high_i16x8_u),
             d_simdShift (i32x4_shl),   d_simdShift (i32x4_shr_s),  d_simdShift (i32x4_shr_u),
             d_simdBin (i32x4_add),
    [0xb1] = d_simdBin (i32x4_sub),
    [0xb5] = d_simdBin (i32x4_mul),
             d_simdBin (i32x4_min_s),   d_simdBin (i32x4_min_u),    d_simdBin (i32x4_max_s),    d_simdBin (i32x4_max_u),
             d_simdBin (i32x4_dot_i16x8_s),
    [0xbc] = d_simdBin (i32x4_extmul_low_i16x8_s),  d_simdBin (i32x4_extmul_high_i16x8_s),
             d_simdBin (i32x4_extmul_low_i16x8_u),  d_simdBin (i32x4_extmul_high_i16x8_u),
    [0xc0] = d_simdUn (i64x2_abs),  d_simdUn (i64x2_neg),
    [0xc3] = d_simdTest (i64x2_all_true),   d_simdTest (i64x2_bitmask),
    [0xc7] = d_simdUn (i64x2_extend_low_i32x4_s),   d_simdUn (i64x2_extend_high_i32x4_s),
             d_simdUn (i64x2_extend_low_i32x4_u),   d_simdUn (i64x2_extend_high_i32x4_u),
             d_simdShift (i64x2_shl),   d_simdShift (i64x2_shr_s),  d_simdShift (i64x2_shr_u),
             d_simdBin (i64x2_add),
    [0xd1] = d_simdBin (i64x2_sub),
    [0xd5] = d_simdBin (i64x2_mul),
             d_simdBin (i64x2_eq),  d_simdBin (i64x2_ne),   d_simdBin (i64x2_lt_s), d_simdBin (i64x2_gt_s),
             d_simdBin (i64x2_le_s),    d_simdBin (i64x2_ge_s),
             d_simdBin (i64x2_extmul_low_i32x4_s),  d_simdBin (i64x2_extmul_high_i32x4_s),
             d_simdBin (i64x2_extmul_low_i32x4_u),  d_simdBin (i64x2_extmul_high_i32x4_u),
    [0xe0] = d_simdUn (f32x4_abs),  d_simdUn (f32x4_neg),
    [0xe3] = d_simdUn (f32x4_sqrt),
             d_simdBin (f32x4_add), d_simdBin (f32x4_sub),  d_simdBin (f32x4_mul),  d_simdBin (f32x4_div),
             d_simdBin (f32x4_min), d_simdBin (f32x4_max),  d_simdBin (f32x4_pmin), d_simdBin (f32x4_pmax),
    [0xec] = d_simdUn (f64x2_abs),  d_simdUn (f64x2_neg),
    [0xef] = d_simdUn (f64x2_sqrt),
             d_simdBin (f64x2_add), d_simdBin (f64x2_sub),  d_simdBin (f64x2_mul),  d_simdBin (f64x2_div),
             d_simdBin (f64x2_min), d_simdBin (f64x2_max),  d_simdBin (f64x2_pmin), d_simdBin (f64x2_pmax),
    [0xf8] = d_simdUn (i32x4_trunc_sat_f32x4_s),    d_simdUn (i32x4_trunc_sat_f32x4_u),
             d_simdUn (f32x4_convert_i32x4_s),      d_simdUn (f32x4_convert_i32x4_u),
             d_simdUn (i32x4_trunc_sat_f64x2_s_zero),   d_simdUn (i32x4_trunc_sat_f64x2_u_zero),
             d_simdUn (f64x2_convert_low_i32x4_s),  d_simdUn (f64x2_convert_low_i32x4_u),
};


// The v128 result of the operation just emitted goes to a new slot, recorded for Compile_SetLocal
static
M3Result  PushV128Result  (IM3Compilation o)
{
    M3Result result;

    pc_t pc = GetPC (o);
_   (PushAllocatedSlotAndEmit (o, c_m3Type_v128));

    if (o->page)
    {
        o->lastV128ResultPC = pc;
        o->lastV128ResultStackIndex = (u16) GetStackTopIndex (o);
    }

    _catch: return result;
}


// True when the stack top is the new slot of the v128 operation compiled just before, with
// nothing emitted since
static
bool  IsStackTopLastV128Result  (IM3Compilation o)
{
    return o->page and o->lastV128ResultPC and o->previousOpcode == c_waOp_simd and
           GetPC (o) == o->lastV128ResultPC + 1 and not IsStackPolymorphic (o) and
           GetNumBlockValuesOnStack (o) >= 1 and GetStackTopType (o) == c_m3Type_v128 and
           GetStackTopIndex (o) == (i16) o->lastV128ResultStackIndex and
           GetStackTopSlotNumber (o) == * (u32 *) o->lastV128ResultPC and
           GetStackTopSlotNumber (o) >= o->slotFirstDynamicIndex;
}


static
void  EmitBytes16  (IM3Compilation o, const u8 * i_bytes)
{
    if (o->page)
    {
        u64 half [2];                   // through EmitWord64, which checks the room (patch 0079)
        memcpy (half, i_bytes, 16);
        EmitWord64 (o->page, half [0]);
        EmitWord64 (o->page, half [1]);
    }
}


// v128.const: a slot of the function's constant table (as i32/i64/f32/f64.const), or, when the
// table is full, an operation writing it to a new slot
static
M3Result  PushConst128  (IM3Compilation o, const u8 * i_bytes)
{
    M3Result result = m3Err_none;

    if (not o->page)
        return result;

    u16 numSlots = GetTypeNumSlots (c_m3Type_v128);
    u16 alignment = GetTypeSlotAlignment (c_m3Type_v128);

    u16 slot = o->slotFirstConstIndex;
    AlignSlotToType (& slot, c_m3Type_v128);

    for (; slot + numSlots <= o->slotMaxConstIndex; slot += alignment)
    {
        bool allocated = true;
        for (u16 k = 0; k < numSlots; ++k)
            allocated = allocated and IsSlotAllocated (o, slot + k);

        if (allocated and memcmp (& o->constants [slot - o->slotFirstConstIndex], i_bytes, 16) == 0)
            return Push (o, c_m3Type_v128, slot);
    }

    if (AllocateConstantSlots (o, & slot, c_m3Type_v128) == m3Err_none)
    {
        memcpy (& o->constants [slot - o->slotFirstConstIndex], i_bytes, 16);
_       (Push (o, c_m3Type_v128, slot));
        o->slotMaxConstIndex = M3_MAX (slot + numSlots, o->slotMaxConstIndex);
    }
    else
    {
_       (EnsureCodePageNumLines (o, 8));
_       (EmitOp (o, op_v128_const));
        EmitBytes16 (o, i_bytes);
_       (PushV128Result (o));
    }

    _catch: return result;
}


M3Result  Compile_Simd  (IM3Compilation o, m3opcode_t i_opcode)
{
    M3Result result;

_try {
    u32 opcode;
_   (ReadLEB_u32 (& opcode, & o->wasm, o->wasmEnd));

    if (opcode >= 0x100 and opcode <= 0x113)
        _throw ("relaxed SIMD instructions are not supported");
    _throwif (m3Err_unknownOpcode, opcode >= 256 or c_simdOps [opcode].kind == c_simd_none);

    const M3SimdOpInfo * info = & c_simdOps [opcode];
    u8 kind = info->kind;

    // constant expressions: v128.const only
    _throwif (m3Err_restictedOpcode, not o->function and kind != c_simd_const);

    u32 offset = 0, lane = 0;
    u8 bytes [16];

    if (kind == c_simd_load or kind == c_simd_loadLane or kind == c_simd_store or kind == c_simd_storeLane)
    {
        u32 alignment;
_       (ReadLEB_u32 (& alignment, & o->wasm, o->wasmEnd));
_       (ReadLEB_u32 (& offset, & o->wasm, o->wasmEnd));
        _throwif ("memory index out of range", not o->module->hasMemory);
    }
    if (kind == c_simd_loadLane or kind == c_simd_storeLane or kind == c_simd_extract or kind == c_simd_replace)
    {
        u8 laneIndex;
_       (Read_u8 (& laneIndex, & o->wasm, o->wasmEnd));
        _throwif ("lane index out of range", laneIndex >= info->lanes);
        lane = laneIndex;
    }
    if (kind == c_simd_const or kind == c_simd_shuffle)
    {
        _throwif (m3Err_wasmUnderrun, o->wasmEnd - o->wasm < 16);
        memcpy (bytes, o->wasm, 16);
        o->wasm += 16;
        for (u32 i = 0; kind == c_simd_shuffle and i < 16; ++i)
            _throwif ("lane index out of range", bytes [i] >= 32);
    }

    if (kind == c_simd_const)
    {
_       (PushConst128 (o, bytes));
        goto _catch;
    }

    static const u8 c_numOperands [] = { 0, 1, 2, 2, 2, 0, 2, 1, 1, 2, 1, 2, 3, 1, 2 };
    u8 resultType = (kind == c_simd_extract) ? info->type : (kind == c_simd_test) ? c_m3Type_i32 :
                    (kind == c_simd_store or kind == c_simd_storeLane) ? c_m3Type_none : c_m3Type_v128;

    if (IsStackPolymorphic (o) or not o->page)
    {
        // unreachable code: nothing to run, the bookkeeping only
        for (u32 i = 0; i < c_numOperands [kind]; ++i)
_           (Pop (o));
        if (resultType != c_m3Type_none)
_           (PushAllocatedSlot (o, resultType));
        goto _catch;
    }

    // the scalar operand: the address (below the vector for lane accesses and stores), the
    // shift count, the splatted or replacing value
    bool scalarInRegister = false;
    switch (kind)
    {
        case c_simd_load: case c_simd_splat: case c_simd_replace: case c_simd_shift:
            scalarInRegister = IsStackTopInRegister (o);                break;
        case c_simd_loadLane: case c_simd_store: case c_simd_storeLane:
            scalarInRegister = IsStackTopMinus1InRegister (o);          break;
    }
    IM3Operation op = info->ops [(info->ops [1] and not scalarInRegister) ? 1 : 0];

_   (EnsureCodePageNumLines (o, 12));
_   (EmitOp (o, op));

    switch (kind)
    {
        case c_simd_load:           // [address]
_           (EmitSlotNumOfStackTopAndPop (o));
            EmitConstant32 (o, offset);
            break;
        case c_simd_loadLane:       // [address vector]
        case c_simd_storeLane:
        case c_simd_store:
            EmitConstant32 (o, offset);
            if (kind != c_simd_store)
                EmitConstant32 (o, lane);
_           (EmitSlotNumOfStackTopAndPop (o));      // the vector
_           (EmitSlotNumOfStackTopAndPop (o));      // the address
            break;
        case c_simd_shuffle:
            EmitBytes16 (o, bytes);
_           (EmitSlotNumOfStackTopAndPop (o));
_           (EmitSlotNumOfStackTopAndPop (o));
            break;
        case c_simd_extract:
        case c_simd_replace:
            EmitConstant32 (o, lane);
            for (u32 i = 0; i < c_numOperands [kind]; ++i)
_               (EmitSlotNumOfStackTopAndPop (o));
            break;
        default:
            for (u32 i = 0; i < c_numOperands [kind]; ++i)
_               (EmitSlotNumOfStackTopAndPop (o));
            break;
    }

    if (resultType == c_m3Type_v128)
_       (PushV128Result (o))
    else if (resultType != c_m3Type_none)
_       (PushAllocatedSlotAndEmit (o, resultType));

}   _catch: return result;
}


// d_logOp, d_logOp2 macros aren't actually used by the compiler, just codepage decoding (d_m3LogCodePages = 1)
#define d_logOp(OP)                         { op_##OP,                  NULL,                       NULL,                       NULL }
#define d_logOp2(OP1,OP2)                   { op_##OP1,                 op_##OP2,                   NULL,                       NULL }

#define d_emptyOpList                       { NULL,                     NULL,                       NULL,                       NULL }
#define d_unaryOpList(TYPE, NAME)           { op_##TYPE##_##NAME##_r,   op_##TYPE##_##NAME##_s,     NULL,                       NULL }
#define d_binOpList(TYPE, NAME)             { op_##TYPE##_##NAME##_rs,  op_##TYPE##_##NAME##_sr,    op_##TYPE##_##NAME##_ss,    NULL }
#define d_storeFpOpList(TYPE, NAME)         { op_##TYPE##_##NAME##_rs,  op_##TYPE##_##NAME##_sr,    op_##TYPE##_##NAME##_ss,    op_##TYPE##_##NAME##_rr }
#define d_commutativeBinOpList(TYPE, NAME)  { op_##TYPE##_##NAME##_rs,  NULL,                       op_##TYPE##_##NAME##_ss,    NULL }
#define d_convertOpList(OP)                 { op_##OP##_r_r,            op_##OP##_r_s,              op_##OP##_s_r,              op_##OP##_s_s }


const M3OpInfo c_operations [] =
{
    M3OP( "unreachable",         0, none,   d_logOp (Unreachable),              Compile_Unreachable ),  // 0x00
    M3OP( "nop",                 0, none,   d_emptyOpList,                      Compile_Nop ),          // 0x01 .
    M3OP( "block",               0, none,   d_emptyOpList,                      Compile_LoopOrBlock ),  // 0x02
    M3OP( "loop",                0, none,   d_logOp (Loop),                     Compile_LoopOrBlock ),  // 0x03
    M3OP( "if",                 -1, none,   d_emptyOpList,                      Compile_If ),           // 0x04
    M3OP( "else",                0, none,   d_emptyOpList,                      Compile_Nop ),          // 0x05

    M3OP_RESERVED, M3OP_RESERVED, M3OP_RESERVED, M3OP_RESERVED, M3OP_RESERVED,                          // 0x06 - 0x0a

    M3OP( "end",                 0, none,   d_emptyOpList,                      Compile_End ),          // 0x0b
    M3OP( "br",                  0, none,   d_logOp (Branch),                   Compile_Branch ),       // 0x0c
    M3OP( "br_if",              -1, none,   d_logOp2 (BranchIf_r, BranchIf_s),  Compile_Branch ),       // 0x0d
    M3OP( "br_table",           -1, none,   d_logOp (BranchTable),              Compile_BranchTable ),  // 0x0e
    M3OP( "return",              0, any,    d_logOp (Return),                   Compile_Return ),       // 0x0f
    M3OP( "call",                0, any,    d_logOp (Call),                     Compile_Call ),         // 0x10
    M3OP( "call_indirect",       0, any,    d_logOp (CallIndirect),             Compile_CallIndirect ), // 0x11
    M3OP( "return_call",         0, any,    d_emptyOpList,                      Compile_ReturnCall ),   // 0x12 (patch 0072)
    M3OP( "return_call_indirect",0, any,    d_emptyOpList,                      Compile_ReturnCall ),   // 0x13

    M3OP_RESERVED,  M3OP_RESERVED,                                                                      // 0x14 - 0x15
    M3OP_RESERVED,  M3OP_RESERVED, M3OP_RESERVED, M3OP_RESERVED,                                        // 0x16 - 0x19

    M3OP( "drop",               -1, none,   d_emptyOpList,                      Compile_Drop ),         // 0x1a
    M3OP( "select",             -2, any,    d_emptyOpList,                      Compile_Select  ),      // 0x1b

    M3OP( "select",             -2, any,    d_emptyOpList,                      Compile_SelectTyped ),  // 0x1c (patch 0010)
    M3OP_RESERVED, M3OP_RESERVED, M3OP_RESERVED,                                                        // 0x1d - 0x1f

    M3OP( "local.get",          1,  any,    d_emptyOpList,                      Compile_GetLocal ),     // 0x20
    M3OP( "local.set",          1,  none,   d_emptyOpList,                      Compile_SetLocal ),     // 0x21
    M3OP( "local.tee",          0,  any,    d_emptyOpList,                      Compile_SetLocal ),     // 0x22
    M3OP( "global.get",         1,  none,   d_emptyOpList,                      Compile_GetSetGlobal ), // 0x23
    M3OP( "global.set",         1,  none,   d_emptyOpList,                      Compile_GetSetGlobal ), // 0x24

    M3OP( "table.get",          1,  any,    d_emptyOpList,                      Compile_TableGetSet ),  // 0x25 (patch 0011)
    M3OP( "table.set",          -2, none,   d_emptyOpList,                      Compile_TableGetSet ),  // 0x26
    M3OP_RESERVED,                                                                                      // 0x27

    M3OP( "i32.load",           0,  i_32,   d_unaryOpList (i32, Load_i32),      Compile_Load_Store ),   // 0x28
    M3OP( "i64.load",           0,  i_64,   d_unaryOpList (i64, Load_i64),      Compile_Load_Store ),   // 0x29
    M3OP_F( "f32.load",         0,  f_32,   d_unaryOpList (f32, Load_f32),      Compile_Load_Store ),   // 0x2a
    M3OP_F( "f64.load",         0,  f_64,   d_unaryOpList (f64, Load_f64),      Compile_Load_Store ),   // 0x2b

    M3OP( "i32.load8_s",        0,  i_32,   d_unaryOpList (i32, Load_i8),       Compile_Load_Store ),   // 0x2c
    M3OP( "i32.load8_u",        0,  i_32,   d_unaryOpList (i32, Load_u8),       Compile_Load_Store ),   // 0x2d
    M3OP( "i32.load16_s",       0,  i_32,   d_unaryOpList (i32, Load_i16),      Compile_Load_Store ),   // 0x2e
    M3OP( "i32.load16_u",       0,  i_32,   d_unaryOpList (i32, Load_u16),      Compile_Load_Store ),   // 0x2f

    M3OP( "i64.load8_s",        0,  i_64,   d_unaryOpList (i64, Load_i8),       Compile_Load_Store ),   // 0x30
    M3OP( "i64.load8_u",        0,  i_64,   d_unaryOpList (i64, Load_u8),       Compile_Load_Store ),   // 0x31
    M3OP( "i64.load16_s",       0,  i_64,   d_unaryOpList (i64, Load_i16),      Compile_Load_Store ),   // 0x32
    M3OP( "i64.load16_u",       0,  i_64,   d_unaryOpList (i64, Load_u16),      Compile_Load_Store ),   // 0x33
    M3OP( "i64.load32_s",       0,  i_64,   d_unaryOpList (i64, Load_i32),      Compile_Load_Store ),   // 0x34
    M3OP( "i64.load32_u",       0,  i_64,   d_unaryOpList (i64, Load_u32),      Compile_Load_Store ),   // 0x35

    M3OP( "i32.store",          -2, none,   d_binOpList (i32, Store_i32),       Compile_Load_Store ),   // 0x36
    M3OP( "i64.store",          -2, none,   d_binOpList (i64, Store_i64),       Compile_Load_Store ),   // 0x37
    M3OP_F( "f32.store",        -2, none,   d_storeFpOpList (f32, Store_f32),   Compile_Load_Store ),   // 0x38
    M3OP_F( "f64.store",        -2, none,   d_storeFpOpList (f64, Store_f64),   Compile_Load_Store ),   // 0x39

    M3OP( "i32.store8",         -2, none,   d_binOpList (i32, Store_u8),        Compile_Load_Store ),   // 0x3a
    M3OP( "i32.store16",        -2, none,   d_binOpList (i32, Store_i16),       Compile_Load_Store ),   // 0x3b

    M3OP( "i64.store8",         -2, none,   d_binOpList (i64, Store_u8),        Compile_Load_Store ),   // 0x3c
    M3OP( "i64.store16",        -2, none,   d_binOpList (i64, Store_i16),       Compile_Load_Store ),   // 0x3d
    M3OP( "i64.store32",        -2, none,   d_binOpList (i64, Store_i32),       Compile_Load_Store ),   // 0x3e

    M3OP( "memory.size",        1,  i_32,   d_logOp (MemSize),                  Compile_Memory_Size ),  // 0x3f
    M3OP( "memory.grow",        1,  i_32,   d_logOp (MemGrow),                  Compile_Memory_Grow ),  // 0x40

    M3OP( "i32.const",          1,  i_32,   d_logOp (Const32),                  Compile_Const_i32 ),    // 0x41
    M3OP( "i64.const",          1,  i_64,   d_logOp (Const64),                  Compile_Const_i64 ),    // 0x42
    M3OP_F( "f32.const",        1,  f_32,   d_emptyOpList,                      Compile_Const_f32 ),    // 0x43
    M3OP_F( "f64.const",        1,  f_64,   d_emptyOpList,                      Compile_Const_f64 ),    // 0x44

    M3OP( "i32.eqz",            0,  i_32,   d_unaryOpList (i32, EqualToZero)        , NULL  ),          // 0x45
    M3OP( "i32.eq",             -1, i_32,   d_commutativeBinOpList (i32, Equal)     , NULL  ),          // 0x46
    M3OP( "i32.ne",             -1, i_32,   d_commutativeBinOpList (i32, NotEqual)  , NULL  ),          // 0x47
    M3OP( "i32.lt_s",           -1, i_32,   d_binOpList (i32, LessThan)             , NULL  ),          // 0x48
    M3OP( "i32.lt_u",           -1, i_32,   d_binOpList (u32, LessThan)             , NULL  ),          // 0x49
    M3OP( "i32.gt_s",           -1, i_32,   d_binOpList (i32, GreaterThan)          , NULL  ),          // 0x4a
    M3OP( "i32.gt_u",           -1, i_32,   d_binOpList (u32, GreaterThan)          , NULL  ),          // 0x4b
    M3OP( "i32.le_s",           -1, i_32,   d_binOpList (i32, LessThanOrEqual)      , NULL  ),          // 0x4c
    M3OP( "i32.le_u",           -1, i_32,   d_binOpList (u32, LessThanOrEqual)      , NULL  ),          // 0x4d
    M3OP( "i32.ge_s",           -1, i_32,   d_binOpList (i32, GreaterThanOrEqual)   , NULL  ),          // 0x4e
    M3OP( "i32.ge_u",           -1, i_32,   d_binOpList (u32, GreaterThanOrEqual)   , NULL  ),          // 0x4f

    M3OP( "i64.eqz",            0,  i_32,   d_unaryOpList (i64, EqualToZero)        , NULL  ),          // 0x50
    M3OP( "i64.eq",             -1, i_32,   d_commutativeBinOpList (i64, Equal)     , NULL  ),          // 0x51
    M3OP( "i64.ne",             -1, i_32,   d_commutativeBinOpList (i64, NotEqual)  , NULL  ),          // 0x52
    M3OP( "i64.lt_s",           -1, i_32,   d_binOpList (i64, LessThan)             , NULL  ),          // 0x53
    M3OP( "i64.lt_u",           -1, i_32,   d_binOpList (u64, LessThan)             , NULL  ),          // 0x54
    M3OP( "i64.gt_s",           -1, i_32,   d_binOpList (i64, GreaterThan)          , NULL  ),          // 0x55
    M3OP( "i64.gt_u",           -1, i_32,   d_binOpList (u64, GreaterThan)          , NULL  ),          // 0x56
    M3OP( "i64.le_s",           -1, i_32,   d_binOpList (i64, LessThanOrEqual)      , NULL  ),          // 0x57
    M3OP( "i64.le_u",           -1, i_32,   d_binOpList (u64, LessThanOrEqual)      , NULL  ),          // 0x58
    M3OP( "i64.ge_s",           -1, i_32,   d_binOpList (i64, GreaterThanOrEqual)   , NULL  ),          // 0x59
    M3OP( "i64.ge_u",           -1, i_32,   d_binOpList (u64, GreaterThanOrEqual)   , NULL  ),          // 0x5a

    M3OP_F( "f32.eq",           -1, i_32,   d_commutativeBinOpList (f32, Equal)     , NULL  ),          // 0x5b
    M3OP_F( "f32.ne",           -1, i_32,   d_commutativeBinOpList (f32, NotEqual)  , NULL  ),          // 0x5c
    M3OP_F( "f32.lt",           -1, i_32,   d_binOpList (f32, LessThan)             , NULL  ),          // 0x5d
    M3OP_F( "f32.gt",           -1, i_32,   d_binOpList (f32, GreaterThan)          , NULL  ),          // 0x5e
    M3OP_F( "f32.le",           -1, i_32,   d_binOpList (f32, LessThanOrEqual)      , NULL  ),          // 0x5f
    M3OP_F( "f32.ge",           -1, i_32,   d_binOpList (f32, GreaterThanOrEqual)   , NULL  ),          // 0x60

    M3OP_F( "f64.eq",           -1, i_32,   d_commutativeBinOpList (f64, Equal)     , NULL  ),          // 0x61
    M3OP_F( "f64.ne",           -1, i_32,   d_commutativeBinOpList (f64, NotEqual)  , NULL  ),          // 0x62
    M3OP_F( "f64.lt",           -1, i_32,   d_binOpList (f64, LessThan)             , NULL  ),          // 0x63
    M3OP_F( "f64.gt",           -1, i_32,   d_binOpList (f64, GreaterThan)          , NULL  ),          // 0x64
    M3OP_F( "f64.le",           -1, i_32,   d_binOpList (f64, LessThanOrEqual)      , NULL  ),          // 0x65
    M3OP_F( "f64.ge",           -1, i_32,   d_binOpList (f64, GreaterThanOrEqual)   , NULL  ),          // 0x66

    M3OP( "i32.clz",            0,  i_32,   d_unaryOpList (u32, Clz)                , NULL  ),          // 0x67
    M3OP( "i32.ctz",            0,  i_32,   d_unaryOpList (u32, Ctz)                , NULL  ),          // 0x68
    M3OP( "i32.popcnt",         0,  i_32,   d_unaryOpList (u32, Popcnt)             , NULL  ),          // 0x69

    M3OP( "i32.add",            -1, i_32,   d_commutativeBinOpList (i32, Add)       , NULL  ),          // 0x6a
    M3OP( "i32.sub",            -1, i_32,   d_binOpList (i32, Subtract)             , NULL  ),          // 0x6b
    M3OP( "i32.mul",            -1, i_32,   d_commutativeBinOpList (i32, Multiply)  , NULL  ),          // 0x6c
    M3OP( "i32.div_s",          -1, i_32,   d_binOpList (i32, Divide)               , NULL  ),          // 0x6d
    M3OP( "i32.div_u",          -1, i_32,   d_binOpList (u32, Divide)               , NULL  ),          // 0x6e
    M3OP( "i32.rem_s",          -1, i_32,   d_binOpList (i32, Remainder)            , NULL  ),          // 0x6f
    M3OP( "i32.rem_u",          -1, i_32,   d_binOpList (u32, Remainder)            , NULL  ),          // 0x70
    M3OP( "i32.and",            -1, i_32,   d_commutativeBinOpList (u32, And)       , NULL  ),          // 0x71
    M3OP( "i32.or",             -1, i_32,   d_commutativeBinOpList (u32, Or)        , NULL  ),          // 0x72
    M3OP( "i32.xor",            -1, i_32,   d_commutativeBinOpList (u32, Xor)       , NULL  ),          // 0x73
    M3OP( "i32.shl",            -1, i_32,   d_binOpList (u32, ShiftLeft)            , NULL  ),          // 0x74
    M3OP( "i32.shr_s",          -1, i_32,   d_binOpList (i32, ShiftRight)           , NULL  ),          // 0x75
    M3OP( "i32.shr_u",          -1, i_32,   d_binOpList (u32, ShiftRight)           , NULL  ),          // 0x76
    M3OP( "i32.rotl",           -1, i_32,   d_binOpList (u32, Rotl)                 , NULL  ),          // 0x77
    M3OP( "i32.rotr",           -1, i_32,   d_binOpList (u32, Rotr)                 , NULL  ),          // 0x78

    M3OP( "i64.clz",            0,  i_64,   d_unaryOpList (u64, Clz)                , NULL  ),          // 0x79
    M3OP( "i64.ctz",            0,  i_64,   d_unaryOpList (u64, Ctz)                , NULL  ),          // 0x7a
    M3OP( "i64.popcnt",         0,  i_64,   d_unaryOpList (u64, Popcnt)             , NULL  ),          // 0x7b

    M3OP( "i64.add",            -1, i_64,   d_commutativeBinOpList (i64, Add)       , NULL  ),          // 0x7c
    M3OP( "i64.sub",            -1, i_64,   d_binOpList (i64, Subtract)             , NULL  ),          // 0x7d
    M3OP( "i64.mul",            -1, i_64,   d_commutativeBinOpList (i64, Multiply)  , NULL  ),          // 0x7e
    M3OP( "i64.div_s",          -1, i_64,   d_binOpList (i64, Divide)               , NULL  ),          // 0x7f
    M3OP( "i64.div_u",          -1, i_64,   d_binOpList (u64, Divide)               , NULL  ),          // 0x80
    M3OP( "i64.rem_s",          -1, i_64,   d_binOpList (i64, Remainder)            , NULL  ),          // 0x81
    M3OP( "i64.rem_u",          -1, i_64,   d_binOpList (u64, Remainder)            , NULL  ),          // 0x82
    M3OP( "i64.and",            -1, i_64,   d_commutativeBinOpList (u64, And)       , NULL  ),          // 0x83
    M3OP( "i64.or",             -1, i_64,   d_commutativeBinOpList (u64, Or)        , NULL  ),          // 0x84
    M3OP( "i64.xor",            -1, i_64,   d_commutativeBinOpList (u64, Xor)       , NULL  ),          // 0x85
    M3OP( "i64.shl",            -1, i_64,   d_binOpList (u64, ShiftLeft)            , NULL  ),          // 0x86
    M3OP( "i64.shr_s",          -1, i_64,   d_binOpList (i64, ShiftRight)           , NULL  ),          // 0x87
    M3OP( "i64.shr_u",          -1, i_64,   d_binOpList (u64, ShiftRight)           , NULL  ),          // 0x88
    M3OP( "i64.rotl",           -1, i_64,   d_binOpList (u64, Rotl)                 , NULL  ),          // 0x89
    M3OP( "i64.rotr",           -1, i_64,   d_binOpList (u64, Rotr)                 , NULL  ),          // 0x8a

    M3OP_F( "f32.abs",          0,  f_32,   d_unaryOpList(f32, Abs)                 , NULL  ),          // 0x8b
    M3OP_F( "f32.neg",          0,  f_32,   d_unaryOpList(f32, Negate)              , NULL  ),          // 0x8c
    M3OP_F( "f32.ceil",         0,  f_32,   d_unaryOpList(f32, Ceil)                , NULL  ),          // 0x8d
    M3OP_F( "f32.floor",        0,  f_32,   d_unaryOpList(f32, Floor)               , NULL  ),          // 0x8e
    M3OP_F( "f32.trunc",        0,  f_32,   d_unaryOpList(f32, Trunc)               , NULL  ),          // 0x8f
    M3OP_F( "f32.nearest",      0,  f_32,   d_unaryOpList(f32, Nearest)             , NULL  ),          // 0x90
    M3OP_F( "f32.sqrt",         0,  f_32,   d_unaryOpList(f32, Sqrt)                , NULL  ),          // 0x91

    M3OP_F( "f32.add",          -1, f_32,   d_commutativeBinOpList (f32, Add)       , NULL  ),          // 0x92
    M3OP_F( "f32.sub",          -1, f_32,   d_binOpList (f32, Subtract)             , NULL  ),          // 0x93
    M3OP_F( "f32.mul",          -1, f_32,   d_commutativeBinOpList (f32, Multiply)  , NULL  ),          // 0x94
    M3OP_F( "f32.div",          -1, f_32,   d_binOpList (f32, Divide)               , NULL  ),          // 0x95
    M3OP_F( "f32.min",          -1, f_32,   d_commutativeBinOpList (f32, Min)       , NULL  ),          // 0x96
    M3OP_F( "f32.max",          -1, f_32,   d_commutativeBinOpList (f32, Max)       , NULL  ),          // 0x97
    M3OP_F( "f32.copysign",     -1, f_32,   d_binOpList (f32, CopySign)             , NULL  ),          // 0x98

    M3OP_F( "f64.abs",          0,  f_64,   d_unaryOpList(f64, Abs)                 , NULL  ),          // 0x99
    M3OP_F( "f64.neg",          0,  f_64,   d_unaryOpList(f64, Negate)              , NULL  ),          // 0x9a
    M3OP_F( "f64.ceil",         0,  f_64,   d_unaryOpList(f64, Ceil)                , NULL  ),          // 0x9b
    M3OP_F( "f64.floor",        0,  f_64,   d_unaryOpList(f64, Floor)               , NULL  ),          // 0x9c
    M3OP_F( "f64.trunc",        0,  f_64,   d_unaryOpList(f64, Trunc)               , NULL  ),          // 0x9d
    M3OP_F( "f64.nearest",      0,  f_64,   d_unaryOpList(f64, Nearest)             , NULL  ),          // 0x9e
    M3OP_F( "f64.sqrt",         0,  f_64,   d_unaryOpList(f64, Sqrt)                , NULL  ),          // 0x9f

    M3OP_F( "f64.add",          -1, f_64,   d_commutativeBinOpList (f64, Add)       , NULL  ),          // 0xa0
    M3OP_F( "f64.sub",          -1, f_64,   d_binOpList (f64, Subtract)             , NULL  ),          // 0xa1
    M3OP_F( "f64.mul",          -1, f_64,   d_commutativeBinOpList (f64, Multiply)  , NULL  ),          // 0xa2
    M3OP_F( "f64.div",          -1, f_64,   d_binOpList (f64, Divide)               , NULL  ),          // 0xa3
    M3OP_F( "f64.min",          -1, f_64,   d_commutativeBinOpList (f64, Min)       , NULL  ),          // 0xa4
    M3OP_F( "f64.max",          -1, f_64,   d_commutativeBinOpList (f64, Max)       , NULL  ),          // 0xa5
    M3OP_F( "f64.copysign",     -1, f_64,   d_binOpList (f64, CopySign)             , NULL  ),          // 0xa6

    M3OP( "i32.wrap/i64",       0,  i_32,   d_unaryOpList (i32, Wrap_i64),          NULL    ),          // 0xa7
    M3OP_F( "i32.trunc_s/f32",  0,  i_32,   d_convertOpList (i32_Trunc_f32),        Compile_Convert ),  // 0xa8
    M3OP_F( "i32.trunc_u/f32",  0,  i_32,   d_convertOpList (u32_Trunc_f32),        Compile_Convert ),  // 0xa9
    M3OP_F( "i32.trunc_s/f64",  0,  i_32,   d_convertOpList (i32_Trunc_f64),        Compile_Convert ),  // 0xaa
    M3OP_F( "i32.trunc_u/f64",  0,  i_32,   d_convertOpList (u32_Trunc_f64),        Compile_Convert ),  // 0xab

    M3OP( "i64.extend_s/i32",   0,  i_64,   d_unaryOpList (i64, Extend_i32),        NULL    ),          // 0xac
    M3OP( "i64.extend_u/i32",   0,  i_64,   d_unaryOpList (i64, Extend_u32),        NULL    ),          // 0xad

    M3OP_F( "i64.trunc_s/f32",  0,  i_64,   d_convertOpList (i64_Trunc_f32),        Compile_Convert ),  // 0xae
    M3OP_F( "i64.trunc_u/f32",  0,  i_64,   d_convertOpList (u64_Trunc_f32),        Compile_Convert ),  // 0xaf
    M3OP_F( "i64.trunc_s/f64",  0,  i_64,   d_convertOpList (i64_Trunc_f64),        Compile_Convert ),  // 0xb0
    M3OP_F( "i64.trunc_u/f64",  0,  i_64,   d_convertOpList (u64_Trunc_f64),        Compile_Convert ),  // 0xb1

    M3OP_F( "f32.convert_s/i32",0,  f_32,   d_convertOpList (f32_Convert_i32),      Compile_Convert ),  // 0xb2
    M3OP_F( "f32.convert_u/i32",0,  f_32,   d_convertOpList (f32_Convert_u32),      Compile_Convert ),  // 0xb3
    M3OP_F( "f32.convert_s/i64",0,  f_32,   d_convertOpList (f32_Convert_i64),      Compile_Convert ),  // 0xb4
    M3OP_F( "f32.convert_u/i64",0,  f_32,   d_convertOpList (f32_Convert_u64),      Compile_Convert ),  // 0xb5

    M3OP_F( "f32.demote/f64",   0,  f_32,   d_unaryOpList (f32, Demote_f64),        NULL    ),          // 0xb6

    M3OP_F( "f64.convert_s/i32",0,  f_64,   d_convertOpList (f64_Convert_i32),      Compile_Convert ),  // 0xb7
    M3OP_F( "f64.convert_u/i32",0,  f_64,   d_convertOpList (f64_Convert_u32),      Compile_Convert ),  // 0xb8
    M3OP_F( "f64.convert_s/i64",0,  f_64,   d_convertOpList (f64_Convert_i64),      Compile_Convert ),  // 0xb9
    M3OP_F( "f64.convert_u/i64",0,  f_64,   d_convertOpList (f64_Convert_u64),      Compile_Convert ),  // 0xba

    M3OP_F( "f64.promote/f32",  0,  f_64,   d_unaryOpList (f64, Promote_f32),       NULL    ),          // 0xbb

    M3OP_F( "i32.reinterpret/f32",0,i_32,   d_convertOpList (i32_Reinterpret_f32),  Compile_Convert ),  // 0xbc
    M3OP_F( "i64.reinterpret/f64",0,i_64,   d_convertOpList (i64_Reinterpret_f64),  Compile_Convert ),  // 0xbd
    M3OP_F( "f32.reinterpret/i32",0,f_32,   d_convertOpList (f32_Reinterpret_i32),  Compile_Convert ),  // 0xbe
    M3OP_F( "f64.reinterpret/i64",0,f_64,   d_convertOpList (f64_Reinterpret_i64),  Compile_Convert ),  // 0xbf

    M3OP( "i32.extend8_s",       0,  i_32,   d_unaryOpList (i32, Extend8_s),        NULL    ),          // 0xc0
    M3OP( "i32.extend16_s",      0,  i_32,   d_unaryOpList (i32, Extend16_s),       NULL    ),          // 0xc1
    M3OP( "i64.extend8_s",       0,  i_64,   d_unaryOpList (i64, Extend8_s),        NULL    ),          // 0xc2
    M3OP( "i64.extend16_s",      0,  i_64,   d_unaryOpList (i64, Extend16_s),       NULL    ),          // 0xc3
    M3OP( "i64.extend32_s",      0,  i_64,   d_unaryOpList (i64, Extend32_s),       NULL    ),          // 0xc4

# ifdef DEBUG // for codepage logging. the order doesn't matter:
#   define d_m3DebugOp(OP) M3OP (#OP, 0, none, { op_##OP })

# if d_m3HasFloat
#   define d_m3DebugTypedOp(OP) M3OP (#OP, 0, none, { op_##OP##_i32, op_##OP##_i64, op_##OP##_f32, op_##OP##_f64, })
# else
#   define d_m3DebugTypedOp(OP) M3OP (#OP, 0, none, { op_##OP##_i32, op_##OP##_i64 })
# endif

    d_m3DebugOp (Compile),          d_m3DebugOp (Entry),            d_m3DebugOp (End),
    d_m3DebugOp (Unsupported),      d_m3DebugOp (CallRawFunction),

    d_m3DebugOp (GetGlobal_s32),    d_m3DebugOp (GetGlobal_s64),    d_m3DebugOp (ContinueLoop),     d_m3DebugOp (ContinueLoopIf),

    d_m3DebugOp (CopySlot_32),      d_m3DebugOp (PreserveCopySlot_32), d_m3DebugOp (If_s),          d_m3DebugOp (BranchIfPrologue_s),
    d_m3DebugOp (CopySlot_64),      d_m3DebugOp (PreserveCopySlot_64), d_m3DebugOp (If_r),          d_m3DebugOp (BranchIfPrologue_r),

    d_m3DebugOp (Select_i32_rss),   d_m3DebugOp (Select_i32_srs),   d_m3DebugOp (Select_i32_ssr),   d_m3DebugOp (Select_i32_sss),
    d_m3DebugOp (Select_i64_rss),   d_m3DebugOp (Select_i64_srs),   d_m3DebugOp (Select_i64_ssr),   d_m3DebugOp (Select_i64_sss),

# if d_m3HasFloat
    d_m3DebugOp (Select_f32_sss),   d_m3DebugOp (Select_f32_srs),   d_m3DebugOp (Select_f32_ssr),
    d_m3DebugOp (Select_f32_rss),   d_m3DebugOp (Select_f32_rrs),   d_m3DebugOp (Select_f32_rsr),

    d_m3DebugOp (Select_f64_sss),   d_m3DebugOp (Select_f64_srs),   d_m3DebugOp (Select_f64_ssr),
    d_m3DebugOp (Select_f64_rss),   d_m3DebugOp (Select_f64_rrs),   d_m3DebugOp (Select_f64_rsr),
# endif

    d_m3DebugTypedOp (SetGlobal),   d_m3DebugOp (SetGlobal_s32),    d_m3DebugOp (SetGlobal_s64),

    d_m3DebugTypedOp (SetRegister), d_m3DebugTypedOp (SetSlot),     d_m3DebugTypedOp (PreserveSetSlot),
# endif

    // reference types (patch 0010); a DEBUG build's debug entries above may reach these indices
    [0xD0] = M3OP( "ref.null",      1,  any,    d_emptyOpList,                      Compile_RefNull ),
    [0xD1] = M3OP( "ref.is_null",   0,  i_32,   d_unaryOpList (i64, EqualToZero),   NULL ),
    [0xD2] = M3OP( "ref.func",      1,  any,    d_emptyOpList,                      Compile_RefFunc ),

# ifdef d_m3EnableExtendedOpcodes
# ifdef DEBUG
    d_m3DebugOp (MemFill),
    d_m3DebugOp (MemCopy),
#endif

    [0xFC] = M3OP( "0xFC", 0, c_m3Type_unknown,   d_emptyOpList,  Compile_ExtendedOpcode ),
# endif

# ifdef DEBUG
    M3OP( "termination", 0, c_m3Type_unknown ) // for find_operation_info
# endif
};

static const M3OpInfo c_operationSimd = M3OP ("0xFD", 0, c_m3Type_unknown, d_emptyOpList, Compile_Simd);

const M3OpInfo c_operationsFC [] =
{
    M3OP_F( "i32.trunc_s:sat/f32",0,  i_32,   d_convertOpList (i32_TruncSat_f32),        Compile_Convert ),  // 0x00
    M3OP_F( "i32.trunc_u:sat/f32",0,  i_32,   d_convertOpList (u32_TruncSat_f32),        Compile_Convert ),  // 0x01
    M3OP_F( "i32.trunc_s:sat/f64",0,  i_32,   d_convertOpList (i32_TruncSat_f64),        Compile_Convert ),  // 0x02
    M3OP_F( "i32.trunc_u:sat/f64",0,  i_32,   d_convertOpList (u32_TruncSat_f64),        Compile_Convert ),  // 0x03
    M3OP_F( "i64.trunc_s:sat/f32",0,  i_64,   d_convertOpList (i64_TruncSat_f32),        Compile_Convert ),  // 0x04
    M3OP_F( "i64.trunc_u:sat/f32",0,  i_64,   d_convertOpList (u64_TruncSat_f32),        Compile_Convert ),  // 0x05
    M3OP_F( "i64.trunc_s:sat/f64",0,  i_64,   d_convertOpList (i64_TruncSat_f64),        Compile_Convert ),  // 0x06
    M3OP_F( "i64.trunc_u:sat/f64",0,  i_64,   d_convertOpList (u64_TruncSat_f64),        Compile_Convert ),  // 0x07

    M3OP( "memory.init",            0,  none,   d_emptyOpList,                           Compile_DataOp ),  // 0x08 (patch 0012)
    M3OP( "data.drop",              0,  none,   d_emptyOpList,                           Compile_DataOp ),  // 0x09

    M3OP( "memory.copy",            0,  none,   d_emptyOpList,                           Compile_Memory_CopyFill ), // 0x0a
    M3OP( "memory.fill",            0,  none,   d_emptyOpList,                           Compile_Memory_CopyFill ), // 0x0b

    // patch 0011
    M3OP( "table.init",             0,  none,   d_emptyOpList,                           Compile_TableOp ), // 0x0c
    M3OP( "elem.drop",              0,  none,   d_emptyOpList,                           Compile_TableOp ), // 0x0d
    M3OP( "table.copy",             0,  none,   d_emptyOpList,                           Compile_TableOp ), // 0x0e
    M3OP( "table.grow",             0,  i_32,   d_emptyOpList,                           Compile_TableOp ), // 0x0f
    M3OP( "table.size",             0,  i_32,   d_emptyOpList,                           Compile_TableOp ), // 0x10
    M3OP( "table.fill",             0,  none,   d_emptyOpList,                           Compile_TableOp ), // 0x11


# ifdef DEBUG
    M3OP( "termination", 0, c_m3Type_unknown ) // for find_operation_info
# endif
};


IM3OpInfo  GetOpInfo  (m3opcode_t opcode)
{
    if (opcode == c_waOp_simd)                  // patch 0070: Compile_Simd reads the rest
        return & c_operationSimd;

    switch (opcode >> 8) {
    case 0x00:
        if (opcode < M3_COUNT_OF(c_operations)) {
            return &c_operations[opcode];
        }
        break;
    case 0xFC:
        opcode &= 0xFF;
        if (opcode < M3_COUNT_OF(c_operationsFC)) {
            return &c_operationsFC[opcode];
        }
        break;
    }
    return NULL;
}

M3Result  CompileBlockStatements  (IM3Compilation o)
{
    M3Result result = m3Err_none;
    bool validEnd = false;

    while (o->wasm < o->wasmEnd)
    {                                                                   emit_stack_dump (o);
        m3opcode_t opcode;
        o->lastOpcodeStart = o->wasm;
_       (Read_opcode (& opcode, & o->wasm, o->wasmEnd));                log_opcode (o, opcode);
        o->trapSite = o->function and IsTrapSite (opcode, o->wasm, o->wasmEnd);      // patch 0075

        // Restrict opcodes when evaluating expressions
        if (not o->function) {
            switch (opcode) {
            case c_waOp_i32_const: case c_waOp_i64_const:
            case c_waOp_f32_const: case c_waOp_f64_const:
            case c_waOp_getGlobal: case c_waOp_end:
            case c_waOp_refNull: case c_waOp_refFunc:       // patch 0010
            case c_waOp_simd:                               // v128.const only (patch 0070)
                break;
            case 0x6a: case 0x6b: case 0x6c:                // i32/i64 add, sub, mul: extended
            case 0x7c: case 0x7d: case 0x7e:                // constant expressions (patch 0071)
                if (not o->page)                            // parsing: the constants pushed
                    continue;                               // nothing (no immediates to skip)
                _throw(m3Err_restictedOpcode);              // EvaluateConstant computes them
            default:
                _throw(m3Err_restictedOpcode);
            }
        }

        IM3OpInfo opinfo = GetOpInfo (opcode);

        if (opinfo == NULL)
            _throw (ErrorCompile (m3Err_unknownOpcode, o, "opcode '%x' not available", opcode));

        if (opinfo->compiler) {
_           ((* opinfo->compiler) (o, opcode))
        } else {
_           (Compile_Operator (o, opcode));
        }

        o->previousOpcode = opcode;

        if (opcode == c_waOp_else)
        {
            _throwif (m3Err_wasmMalformed, o->block.opcode != c_waOp_if);
            validEnd = true;
            break;
        }
        else if (opcode == c_waOp_end)
        {
            validEnd = true;
            break;
        }
    }
    _throwif(m3Err_wasmMalformed, !(validEnd));

_catch:
    return result;
}


M3Result  PushBlockResults  (IM3Compilation o)
{
    M3Result result = m3Err_none;

    u16 numResults = GetFuncTypeNumResults (o->block.type);

    for (u16 i = 0; i < numResults; ++i)
    {
        u8 type = GetFuncTypeResultType (o->block.type, i);

        if (i == numResults - 1 and IsFpType (type))
        {
_           (PushRegister (o, type));
        }
        else
_           (PushAllocatedSlot (o, type));
    }

    _catch: return result;
}



M3Result  CompileBlock  (IM3Compilation o, IM3FuncType i_blockType, m3opcode_t i_blockOpcode)
{
    M3Result result = m3Err_none;                                                       d_m3Assert (not IsRegisterAllocated (o, 0));
                                                                                        d_m3Assert (not IsRegisterAllocated (o, 1));
    M3CompilationScope outerScope = o->block;
    M3CompilationScope * block = & o->block;

    // nested blocks recurse on the native stack (patch 0003)
    if (o->runtime and (uintptr_t) & outerScope <= o->runtime->nativeStackLimit)
        return m3Err_trapStackOverflow;

    block->outer            = & outerScope;
    block->pc               = GetPagePC (o->page);
    block->patches          = NULL;
    block->type             = i_blockType;
    block->depth            ++;
    block->opcode           = i_blockOpcode;
    // a block starts with a stack of its own, reachable or not (patch 0015): inheriting the
    // outer block's polymorphic state made branches in it keep values wasm discards
    block->isPolymorphic    = false;

    /*
     The block stack frame is a little strange but for good reasons.  Because blocks need to be restarted to
     compile different pathways (if/else), the incoming params must be saved.  The parameters are popped
     and validated.  But, then the stack top is readjusted so they aren't subsequently overwritten.
     Next, the result are preallocated to find destination slots.  But again these are immediately popped
     (deallocated) and the stack top is readjusted to keep these records in pace. This allows branch instructions
     to find their result landing pads.  Finally, the params are copied from the "dead" records and pushed back
     onto the stack as active stack items for the CompileBlockStatements () call.

    [     block      ]
    [     params     ]
    ------------------
    [     result     ]  <---- blockStackIndex
    [      slots     ]
    ------------------
    [   saved param  ]
    [     records    ]
                        <----- exitStackIndex
    */

_try {
    // validate and dealloc params ----------------------------

    u16 stackIndex = o->stackIndex;

    u16 numParams = GetFuncTypeNumParams (i_blockType);

    if (i_blockOpcode != c_waOp_else)
    {
        for (u16 i = 0; i < numParams; ++i)
        {
            u8 type = GetFuncTypeParamType (i_blockType, numParams - 1 - i);
_           (PopType (o, type));
        }
    }
    else o->stackIndex -= numParams;

    u16 paramIndex = o->stackIndex;
    block->exitStackIndex = paramIndex; // consume the params at block exit

    // keep copies of param slots in the stack
    o->stackIndex = stackIndex;

    // find slots for the results ----------------------------
    PushBlockResults (o);

    stackIndex = o->stackIndex;

    // dealloc but keep record of the result slots in the stack
    u16 numResults = GetFuncTypeNumResults (i_blockType);
    while (numResults--)
        Pop (o);

    block->blockStackIndex = o->stackIndex = stackIndex;

    // push the params back onto the stack -------------------
    for (u16 i = 0; i < numParams; ++i)
    {
        u8 type = GetFuncTypeParamType (i_blockType, i);

        u16 slot = GetSlotForStackIndex (o, paramIndex + i);
        // never a slot record that does not exist (patch 0015)
        _throwif (m3Err_functionStackUnderrun, not IsValidSlot (slot));
_       (Push (o, type, slot));

        if (slot >= o->slotFirstDynamicIndex)
            MarkSlotsAllocatedByType (o, slot, type);
    }

    //--------------------------------------------------------

_   (CompileBlockStatements (o));

_   (ValidateBlockEnd (o));

    if (o->function)    // skip for expressions
    {
        if (not IsStackPolymorphic (o))
_           (ResolveBlockResults (o, & o->block, /* isBranch: */ false));

_       (UnwindBlockStack (o))

        if (not ((i_blockOpcode == c_waOp_if and numResults) or o->previousOpcode == c_waOp_else))
        {
            o->stackIndex = o->block.exitStackIndex;
_           (PushBlockResults (o));
        }
    }

    PatchBranches (o);

    o->block = outerScope;

}   _catch: return result;
}


M3Result  CompileLocals  (IM3Compilation o)
{
    M3Result result;

    u32 numLocals = 0;
    u32 numLocalBlocks;
_   (ReadLEB_u32 (& numLocalBlocks, & o->wasm, o->wasmEnd));

    for (u32 l = 0; l < numLocalBlocks; ++l)
    {
        u32 varCount;
        i8 waType;
        u8 localType;

_       (ReadLEB_u32 (& varCount, & o->wasm, o->wasmEnd));
_       (ReadLEB_i7 (& waType, & o->wasm, o->wasmEnd));
_       (NormalizeType (& localType, waType));
        numLocals += varCount;                                                          m3log (compile, "pushing locals. count: %d; type: %s", varCount, c_waTypes [localType]);
        while (varCount--)
_           (PushAllocatedSlot (o, localType));
    }

    if (o->function)
        o->function->numLocals = numLocals;

    _catch: return result;
}


M3Result  ReserveConstants  (IM3Compilation o)
{
    M3Result result = m3Err_none;

    // in the interest of speed, this blindly scans the Wasm code looking for any byte
    // that looks like an const opcode.
    u16 numConstantSlots = 0;

    bytes_t wa = o->wasm;
    while (wa < o->wasmEnd)
    {
        u8 code = * wa++;

        if (code == c_waOp_i32_const or code == c_waOp_f32_const)
            numConstantSlots += 1;
        else if (code == c_waOp_i64_const or code == c_waOp_f64_const)
            numConstantSlots += GetTypeNumSlots (c_m3Type_i64);
        else if (code == c_waOp_simd and wa < o->wasmEnd and * wa == c_waOp_v128_const)     // patch 0070
            numConstantSlots += GetTypeNumSlots (c_m3Type_v128) + GetTypeSlotAlignment (c_m3Type_v128) - 1;

        if (numConstantSlots >= d_m3MaxConstantTableSize)
            break;
    }

    // if constants overflow their reserved stack space, the compiler simply emits op_Const
    // operations as needed. Compiled expressions (global inits) don't pass through this
    // ReserveConstants function and thus always produce inline constants.

    AlignSlotToType (& numConstantSlots, c_m3Type_i64);                                         m3log (compile, "reserved constant slots: %d", numConstantSlots);

    o->slotFirstDynamicIndex = o->slotFirstConstIndex + numConstantSlots;

    if (o->slotFirstDynamicIndex >= d_m3MaxFunctionSlots)
        _throw (m3Err_functionStackOverflow);

    _catch:
    return result;
}


M3Result  CompileFunction  (IM3Function io_function)
{
    M3Result result = m3Err_none;

    const M3FunctionInfo * info = io_function->info;                 // (patch 0057)
    if (!info or !info->wasm) return "function body is missing";

    IM3FuncType funcType = io_function->funcType;                   m3log (compile, "compiling: [%d] %s %s; wasm-size: %d",
                                                                        io_function->index, m3_GetFunctionName (io_function), SPrintFuncTypeSignature (funcType), (u32) (info->wasmEnd - info->wasm));
    IM3Runtime runtime = io_function->module->runtime;

    // 40 KiB of scratch, only while compiling: kept in the runtime, it was resident for every
    // instance's lifetime (patch 0052)
    u32 numTrapSites = runtime->numTrapSites;                       // (patch 0075)
    IM3Compilation o = m3_AllocStruct (M3Compilation);              d_m3Assert (d_m3MaxFunctionSlots >= d_m3MaxFunctionStackHeight * (d_m3Use32BitSlots + 1))  // need twice as many slots in 32-bit mode
    if (not o)
        return m3Err_mallocFailed;

    o->runtime  = runtime;
    o->module   = io_function->module;
    o->function = io_function;
    o->wasm     = info->wasm;
    o->wasmEnd  = info->wasmEnd;
    o->block.type = funcType;

_try {
    // skip over code size. the end was already calculated during parse phase
    u32 size;
_   (ReadLEB_u32 (& size, & o->wasm, o->wasmEnd));                  d_m3Assert (size == (o->wasmEnd - o->wasm))

_   (AcquireCompilationCodePage (o, & o->page));
    // the page has room for the entry now (patch 0065), so `compiled` points at op_Entry and
    // its function, never at a bridge to the next page: op_Call finds its callee there
_   (BridgeToNewPageIfNecessary (o));

    pc_t pc = GetPagePC (o->page);

    u16 numRetSlots = GetFuncTypeIoSlots (funcType, true);      // v128: patch 0070

    for (u16 i = 0; i < numRetSlots; ++i)
        MarkSlotAllocated (o, i);

    o->function->numRetSlots = o->slotFirstDynamicIndex = numRetSlots;

    u16 numArgs = GetFunctionNumArgs (o->function);

    // push the arg types to the type stack
    for (u16 i = 0; i < numArgs; ++i)
    {
        u8 type = GetFunctionArgType (o->function, i);
_       (PushAllocatedSlot (o, type));

        // prevent allocator fill-in
        o->slotFirstDynamicIndex += GetTypeIoSlots (type);
    }

    o->slotMaxAllocatedIndexPlusOne = o->function->numRetAndArgSlots = o->slotFirstLocalIndex = o->slotFirstDynamicIndex;

_   (CompileLocals (o));

    u16 maxSlot = GetMaxUsedSlotPlusOne (o);

    o->function->numLocalBytes = (maxSlot - o->slotFirstLocalIndex) * sizeof (m3slot_t);

    o->slotFirstConstIndex = o->slotMaxConstIndex = maxSlot;

    // ReserveConstants initializes o->firstDynamicSlotNumber
_   (ReserveConstants (o));

    // start tracking the max stack used (Push() also updates this value) so that op_Entry can precisely detect stack overflow
    o->maxStackSlots = o->slotMaxAllocatedIndexPlusOne = o->slotFirstDynamicIndex;

    o->block.blockStackIndex = o->stackFirstDynamicIndex = o->stackIndex;                           m3log (compile, "start stack index: %d",
                                                                                                          (u32) o->stackFirstDynamicIndex);
_   (EmitOp (o, o->runtime and o->runtime->fuel ? op_EntryFuel : op_Entry));       // patch 0073
    EmitPointer (o, io_function);

_   (CompileBlockStatements (o));

    // TODO: validate opcode sequences
    _throwif(m3Err_wasmMalformed, o->previousOpcode != c_waOp_end);

    io_function->compiled = pc;
    io_function->maxStackSlots = o->maxStackSlots;

    u16 numConstantSlots = o->slotMaxConstIndex - o->slotFirstConstIndex;                           m3log (compile, "unique constant slots: %d; unused slots: %d",
                                                                                                           numConstantSlots, o->slotFirstDynamicIndex - o->slotMaxConstIndex);
    io_function->numConstantBytes = numConstantSlots * sizeof (m3slot_t);

    if (numConstantSlots)
    {
        io_function->constants = Module_CopyConstants (io_function->module, o->constants, io_function->numConstantBytes);
        _throwifnull(io_function->constants);
    }

} _catch:

    ReleaseCompilationCodePage (o);
    if (not result and runtime->codePageOverflowed)     // (patch 0079)
    {
        io_function->compiled = NULL;
        result = m3Err_codePageOverflow;
    }
    if (result)
        runtime->numTrapSites = numTrapSites;   // (its code is gone: patch 0075)
    m3_Free (o);

    return result;
}
