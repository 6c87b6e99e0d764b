//
//  m3_exec.h
//
//  Created by Steven Massey on 4/17/19.
//  Copyright © 2019 Steven Massey. All rights reserved.


#ifndef m3_exec_h
#define m3_exec_h

// TODO: all these functions could move over to the .c at some point. normally, I'd say screw it,
// but it might prove useful to be able to compile m3_exec alone w/ optimizations while the remaining
// code is at debug O0


// About the naming convention of these operations/macros (_rs, _sr_, _ss, _srs, etc.)
//------------------------------------------------------------------------------------------------------
//   - 'r' means register and 's' means slot
//   - the first letter is the top of the stack
//
//  so, for example, _rs means the first operand (the first thing pushed to the stack) is in a slot
//  and the second operand (the top of the stack) is in a register
//------------------------------------------------------------------------------------------------------


#include "m3_math_utils.h"
#include "m3_compile.h"
#include "m3_env.h"
#include "m3_info.h"
#include "m3_exec_defs.h"

#include <limits.h>

d_m3BeginExternC

# define rewrite_op(OP)             * ((void **) (_pc-1)) = (void*)(OP)

# define immediate(TYPE)            * ((TYPE *) _pc++)
# define skip_immediate(TYPE)       (_pc++)

# define slot(TYPE)                 * (TYPE *) (_sp + immediate (i32))
# define slot_ptr(TYPE)             (TYPE *) (_sp + immediate (i32))


# if d_m3EnableOpProfiling
                                    d_m3RetSig  profileOp   (d_m3OpSig, cstr_t i_operationName);
#   define nextOp()                 return profileOp (d_m3OpAllArgs, __FUNCTION__)
# elif d_m3EnableOpTracing
                                    d_m3RetSig  debugOp     (d_m3OpSig, cstr_t i_operationName);
#   define nextOp()                 return debugOp (d_m3OpAllArgs, __FUNCTION__)
# else
#   define nextOp()                 nextOpDirect()
# endif

#define jumpOp(PC)                  jumpOpDirect(PC)

#if d_m3RecordBacktraces
    #define pushBacktraceFrame()            (PushBacktraceFrame (_mem->runtime, _pc - 1))
    #define fillBacktraceFrame(FUNCTION)    (FillBacktraceFunctionInfo (_mem->runtime, function))

    #define newTrap(err)                    return (pushBacktraceFrame (), err)
    #define newTrapNoSite(err)              return (pushBacktraceFrame (), err)
    #define forwardTrap(err)                return err
#else
    #define pushBacktraceFrame()            do {} while (0)
    #define fillBacktraceFrame(FUNCTION)    do {} while (0)

    // the trapping operation's _pc, for its wasm offset (patch 0075; trap path only)
    #define newTrap(err)                    return (m3MemRuntime (_mem)->trapPC = _pc, err)
    // a trap of no trap site (function entry, loop): the store above cost op_Entry an instruction
    #define newTrapNoSite(err)              return err
    #define forwardTrap(err)                return err
#endif


#if d_m3EnableStrace == 1
    // Flat trace
    #define d_m3TracePrepare
    #define d_m3TracePrint(fmt, ...)            fprintf(stderr, fmt "\n", ##__VA_ARGS__)
#elif d_m3EnableStrace >= 2
    // Structured trace
    #define d_m3TracePrepare                    const IM3Runtime trace_rt = m3MemRuntime(_mem);
    #define d_m3TracePrint(fmt, ...)            fprintf(stderr, "%*s" fmt "\n", (trace_rt->callDepth)*2, "", ##__VA_ARGS__)
#else
    #define d_m3TracePrepare
    #define d_m3TracePrint(fmt, ...)
#endif

#if d_m3EnableStrace >= 3
    #define d_m3TraceLoad(TYPE,offset,val)      d_m3TracePrint("load." #TYPE "  0x%x = %" PRI##TYPE, offset, val)
    #define d_m3TraceStore(TYPE,offset,val)     d_m3TracePrint("store." #TYPE " 0x%x , %" PRI##TYPE, offset, val)
#else
    #define d_m3TraceLoad(TYPE,offset,val)
    #define d_m3TraceStore(TYPE,offset,val)
#endif

#ifdef DEBUG
  #define d_outOfBounds newTrap (ErrorRuntime (m3Err_trapOutOfBoundsMemoryAccess,   \
                        _mem->runtime, "memory size: %zu; access offset: %zu",      \
                        _mem->length, operand))

#   define d_outOfBoundsMemOp(OFFSET, SIZE) newTrap (ErrorRuntime (m3Err_trapOutOfBoundsMemoryAccess,   \
                      _mem->runtime, "memory size: %zu; access offset: %zu; size: %u",     \
                      _mem->length, OFFSET, SIZE))
#else
  #define d_outOfBounds newTrap (m3Err_trapOutOfBoundsMemoryAccess)

#   define d_outOfBoundsMemOp(OFFSET, SIZE) newTrap (m3Err_trapOutOfBoundsMemoryAccess)

#endif


// An f32 in the fp register is kept as its bits, in the register's first four bytes, never
// converted to double: the conversion would quiet a signaling NaN and lose its payload bit
// (patch 0016).
// Every operation reads a register as d_m3RegGet (REG) and writes it as d_m3RegSet (REG, V),
// REG being _r0, _fp0, or _fp0f32 (an f32 in _fp0); only _fp0f32 differs from a plain access.
static inline f32  m3_RegToF32  (f64 i_reg)     { union { f64 d; f32 f; } u; u.d = i_reg; return u.f; }
static inline f64  m3_F32ToReg  (f32 i_value)   { union { f64 d; u64 u; f32 f; } u; u.u = 0; u.f = i_value; return u.d; }

#define d_m3RegGet(REG)             d_m3RegGet_##REG
#define d_m3RegGet__r0              _r0
#define d_m3RegGet__fp0             _fp0
#define d_m3RegGet__fp0f32          m3_RegToF32 (_fp0)
#define d_m3RegSet(REG, V)          d_m3RegSet_##REG (V)
#define d_m3RegSet__r0(V)           (_r0 = (V))
#define d_m3RegSet__fp0(V)          (_fp0 = (V))
#define d_m3RegSet__fp0f32(V)       (_fp0 = m3_F32ToReg (V))

#define d_m3F32Reg                  _fp0f32
#define d_m3FpReg_f32               _fp0f32
#define d_m3FpReg_f64               _fp0


d_m3RetSig  Call  (d_m3OpSig)
{
    m3ret_t possible_trap = m3_Yield ();
    if (UNLIKELY(possible_trap)) return possible_trap;

    nextOpDirect();
}

// TODO: OK, this needs some explanation here ;0

#define d_m3CommutativeOpMacro(RES, REG, TYPE, NAME, OP, ...) \
d_m3Op(TYPE##_##NAME##_rs)                              \
{                                                       \
    TYPE operand = slot (TYPE);                         \
    OP(RES, operand, ((TYPE) d_m3RegGet (REG)), ##__VA_ARGS__); \
    nextOp ();                                          \
}                                                       \
d_m3Op(TYPE##_##NAME##_ss)                              \
{                                                       \
    TYPE operand2 = slot (TYPE);                        \
    TYPE operand1 = slot (TYPE);                        \
    OP(RES, operand1, operand2, ##__VA_ARGS__);         \
    nextOp ();                                          \
}

#define d_m3OpMacro(RES, REG, TYPE, NAME, OP, ...)      \
d_m3Op(TYPE##_##NAME##_sr)                              \
{                                                       \
    TYPE operand = slot (TYPE);                         \
    OP(RES, ((TYPE) d_m3RegGet (REG)), operand, ##__VA_ARGS__); \
    nextOp ();                                          \
}                                                       \
d_m3CommutativeOpMacro(RES, REG, TYPE,NAME, OP, ##__VA_ARGS__)

// Accept macros
#define d_m3CommutativeOpMacro_i(TYPE, NAME, MACRO, ...)    d_m3CommutativeOpMacro  ( _r0,  _r0, TYPE, NAME, MACRO, ##__VA_ARGS__)
#define d_m3OpMacro_i(TYPE, NAME, MACRO, ...)               d_m3OpMacro             ( _r0,  _r0, TYPE, NAME, MACRO, ##__VA_ARGS__)
#define d_m3CommutativeOpMacro_f(TYPE, NAME, MACRO, ...)    d_m3CommutativeOpMacro  (d_m3FpReg_##TYPE, d_m3FpReg_##TYPE, TYPE, NAME, MACRO, ##__VA_ARGS__)
#define d_m3OpMacro_f(TYPE, NAME, MACRO, ...)               d_m3OpMacro             (d_m3FpReg_##TYPE, d_m3FpReg_##TYPE, TYPE, NAME, MACRO, ##__VA_ARGS__)

#define M3_FUNC(RES, A, B, OP)  d_m3RegSet (RES, OP((A), (B)))   // Accept functions: res = OP(a,b)
#define M3_OPER(RES, A, B, OP)  d_m3RegSet (RES, ((A) OP (B)))   // Accept operators: res = a OP b

#define d_m3CommutativeOpFunc_i(TYPE, NAME, OP)     d_m3CommutativeOpMacro_i    (TYPE, NAME, M3_FUNC, OP)
#define d_m3OpFunc_i(TYPE, NAME, OP)                d_m3OpMacro_i               (TYPE, NAME, M3_FUNC, OP)
#define d_m3CommutativeOpFunc_f(TYPE, NAME, OP)     d_m3CommutativeOpMacro_f    (TYPE, NAME, M3_FUNC, OP)
#define d_m3OpFunc_f(TYPE, NAME, OP)                d_m3OpMacro_f               (TYPE, NAME, M3_FUNC, OP)

#define d_m3CommutativeOp_i(TYPE, NAME, OP)         d_m3CommutativeOpMacro_i    (TYPE, NAME, M3_OPER, OP)
#define d_m3Op_i(TYPE, NAME, OP)                    d_m3OpMacro_i               (TYPE, NAME, M3_OPER, OP)
#define d_m3CommutativeOp_f(TYPE, NAME, OP)         d_m3CommutativeOpMacro_f    (TYPE, NAME, M3_OPER, OP)
#define d_m3Op_f(TYPE, NAME, OP)                    d_m3OpMacro_f               (TYPE, NAME, M3_OPER, OP)

// compare needs to be distinct for fp 'cause the result must be _r0
#define d_m3CompareOp_f(TYPE, NAME, OP)             d_m3OpMacro                 (_r0, d_m3FpReg_##TYPE, TYPE, NAME, M3_OPER, OP)
#define d_m3CommutativeCmpOp_f(TYPE, NAME, OP)      d_m3CommutativeOpMacro      (_r0, d_m3FpReg_##TYPE, TYPE, NAME, M3_OPER, OP)


//-----------------------

// signed
d_m3CommutativeOp_i (i32, Equal,            ==)     d_m3CommutativeOp_i (i64, Equal,            ==)
d_m3CommutativeOp_i (i32, NotEqual,         !=)     d_m3CommutativeOp_i (i64, NotEqual,         !=)

d_m3Op_i (i32, LessThan,                    < )     d_m3Op_i (i64, LessThan,                    < )
d_m3Op_i (i32, GreaterThan,                 > )     d_m3Op_i (i64, GreaterThan,                 > )
d_m3Op_i (i32, LessThanOrEqual,             <=)     d_m3Op_i (i64, LessThanOrEqual,             <=)
d_m3Op_i (i32, GreaterThanOrEqual,          >=)     d_m3Op_i (i64, GreaterThanOrEqual,          >=)

// unsigned
d_m3Op_i (u32, LessThan,                    < )     d_m3Op_i (u64, LessThan,                    < )
d_m3Op_i (u32, GreaterThan,                 > )     d_m3Op_i (u64, GreaterThan,                 > )
d_m3Op_i (u32, LessThanOrEqual,             <=)     d_m3Op_i (u64, LessThanOrEqual,             <=)
d_m3Op_i (u32, GreaterThanOrEqual,          >=)     d_m3Op_i (u64, GreaterThanOrEqual,          >=)

#if d_m3HasFloat
d_m3CommutativeCmpOp_f (f32, Equal,         ==)     d_m3CommutativeCmpOp_f (f64, Equal,         ==)
d_m3CommutativeCmpOp_f (f32, NotEqual,      !=)     d_m3CommutativeCmpOp_f (f64, NotEqual,      !=)
d_m3CompareOp_f (f32, LessThan,             < )     d_m3CompareOp_f (f64, LessThan,             < )
d_m3CompareOp_f (f32, GreaterThan,          > )     d_m3CompareOp_f (f64, GreaterThan,          > )
d_m3CompareOp_f (f32, LessThanOrEqual,      <=)     d_m3CompareOp_f (f64, LessThanOrEqual,      <=)
d_m3CompareOp_f (f32, GreaterThanOrEqual,   >=)     d_m3CompareOp_f (f64, GreaterThanOrEqual,   >=)
#endif

d_m3CommutativeOp_i (i32, Add,              +)      d_m3CommutativeOp_i (i64, Add,              +)
d_m3CommutativeOp_i (i32, Multiply,         *)      d_m3CommutativeOp_i (i64, Multiply,         *)

d_m3Op_i (i32, Subtract,                    -)      d_m3Op_i (i64, Subtract,                    -)

#define OP_SHL_32(X,N) ((X) << ((u32)(N) % 32))
#define OP_SHL_64(X,N) ((X) << ((u64)(N) % 64))
#define OP_SHR_32(X,N) ((X) >> ((u32)(N) % 32))
#define OP_SHR_64(X,N) ((X) >> ((u64)(N) % 64))

d_m3OpFunc_i (u32, ShiftLeft,       OP_SHL_32)      d_m3OpFunc_i (u64, ShiftLeft,       OP_SHL_64)
d_m3OpFunc_i (i32, ShiftRight,      OP_SHR_32)      d_m3OpFunc_i (i64, ShiftRight,      OP_SHR_64)
d_m3OpFunc_i (u32, ShiftRight,      OP_SHR_32)      d_m3OpFunc_i (u64, ShiftRight,      OP_SHR_64)

d_m3CommutativeOp_i (u32, And,              &)
d_m3CommutativeOp_i (u32, Or,               |)
d_m3CommutativeOp_i (u32, Xor,              ^)

d_m3CommutativeOp_i (u64, And,              &)
d_m3CommutativeOp_i (u64, Or,               |)
d_m3CommutativeOp_i (u64, Xor,              ^)

#if d_m3HasFloat
d_m3CommutativeOp_f (f32, Add,              +)      d_m3CommutativeOp_f (f64, Add,              +)
d_m3CommutativeOp_f (f32, Multiply,         *)      d_m3CommutativeOp_f (f64, Multiply,         *)
d_m3Op_f (f32, Subtract,                    -)      d_m3Op_f (f64, Subtract,                    -)
d_m3Op_f (f32, Divide,                      /)      d_m3Op_f (f64, Divide,                      /)
#endif

d_m3OpFunc_i(u32, Rotl, rotl32)
d_m3OpFunc_i(u32, Rotr, rotr32)
d_m3OpFunc_i(u64, Rotl, rotl64)
d_m3OpFunc_i(u64, Rotr, rotr64)

d_m3OpMacro_i(u32, Divide, OP_DIV_U);
d_m3OpMacro_i(i32, Divide, OP_DIV_S, INT32_MIN);
d_m3OpMacro_i(u64, Divide, OP_DIV_U);
d_m3OpMacro_i(i64, Divide, OP_DIV_S, INT64_MIN);

d_m3OpMacro_i(u32, Remainder, OP_REM_U);
d_m3OpMacro_i(i32, Remainder, OP_REM_S, INT32_MIN);
d_m3OpMacro_i(u64, Remainder, OP_REM_U);
d_m3OpMacro_i(i64, Remainder, OP_REM_S, INT64_MIN);

//-- integer operations with an immediate operand (patch 0060) ---------------------------------------
// When the top operand of a binary integer operation is an i32/i64.const, the compiler emits
// the constant in the code stream instead of reading a constant slot: _ir (the other operand in
// the register) and _is (in a slot).  Code stream: [op] [constant] [slot of the other, _is only].
// A 64-bit constant takes two words on a 32-bit host and is read with memcpy (a code word is
// only pointer-aligned there).
static inline u64  m3_ReadImm64  (pc_t * io_pc)
{
    u64 value;
    memcpy (& value, * io_pc, sizeof value);
    * io_pc += (M3_SIZEOF_PTR == 4) ? 2 : 1;
    return value;
}

#define d_m3Imm_i32                 (* (i32 *) _pc++)
#define d_m3Imm_u32                 (* (u32 *) _pc++)
#define d_m3Imm_i64                 ((i64) m3_ReadImm64 (& _pc))
#define d_m3Imm_u64                 (m3_ReadImm64 (& _pc))

#define d_m3Oper(A, B, OP)          ((A) OP (B))
#define d_m3Func(A, B, OP)          OP ((A), (B))

// The operations that have these variants, X (OPCODE, RESULT, TYPE, NAME, EXPR, OP): the result
// is RESULT EXPR (a, b, OP) of the operands a (below) and b (the top) read as TYPE.
#define d_m3ImmediateOps(X) \
    X (0x46, i32, i32, Equal,              d_m3Oper, ==)  X (0x51, i32, i64, Equal,              d_m3Oper, ==) \
    X (0x47, i32, i32, NotEqual,           d_m3Oper, !=)  X (0x52, i32, i64, NotEqual,           d_m3Oper, !=) \
    X (0x48, i32, i32, LessThan,           d_m3Oper, < )  X (0x53, i32, i64, LessThan,           d_m3Oper, < ) \
    X (0x49, i32, u32, LessThan,           d_m3Oper, < )  X (0x54, i32, u64, LessThan,           d_m3Oper, < ) \
    X (0x4a, i32, i32, GreaterThan,        d_m3Oper, > )  X (0x55, i32, i64, GreaterThan,        d_m3Oper, > ) \
    X (0x4b, i32, u32, GreaterThan,        d_m3Oper, > )  X (0x56, i32, u64, GreaterThan,        d_m3Oper, > ) \
    X (0x4c, i32, i32, LessThanOrEqual,    d_m3Oper, <=)  X (0x57, i32, i64, LessThanOrEqual,    d_m3Oper, <=) \
    X (0x4d, i32, u32, LessThanOrEqual,    d_m3Oper, <=)  X (0x58, i32, u64, LessThanOrEqual,    d_m3Oper, <=) \
    X (0x4e, i32, i32, GreaterThanOrEqual, d_m3Oper, >=)  X (0x59, i32, i64, GreaterThanOrEqual, d_m3Oper, >=) \
    X (0x4f, i32, u32, GreaterThanOrEqual, d_m3Oper, >=)  X (0x5a, i32, u64, GreaterThanOrEqual, d_m3Oper, >=) \
    X (0x6a, i32, i32, Add,                d_m3Oper, + )  X (0x7c, i64, i64, Add,                d_m3Oper, + ) \
    X (0x6b, i32, i32, Subtract,           d_m3Oper, - )  X (0x7d, i64, i64, Subtract,           d_m3Oper, - ) \
    X (0x6c, i32, i32, Multiply,           d_m3Oper, * )  X (0x7e, i64, i64, Multiply,           d_m3Oper, * ) \
    X (0x71, i32, u32, And,                d_m3Oper, & )  X (0x83, i64, u64, And,                d_m3Oper, & ) \
    X (0x72, i32, u32, Or,                 d_m3Oper, | )  X (0x84, i64, u64, Or,                 d_m3Oper, | ) \
    X (0x73, i32, u32, Xor,                d_m3Oper, ^ )  X (0x85, i64, u64, Xor,                d_m3Oper, ^ ) \
    X (0x74, i32, u32, ShiftLeft,          d_m3Func, OP_SHL_32)  X (0x86, i64, u64, ShiftLeft,   d_m3Func, OP_SHL_64) \
    X (0x75, i32, i32, ShiftRight,         d_m3Func, OP_SHR_32)  X (0x87, i64, i64, ShiftRight,  d_m3Func, OP_SHR_64) \
    X (0x76, i32, u32, ShiftRight,         d_m3Func, OP_SHR_32)  X (0x88, i64, u64, ShiftRight,  d_m3Func, OP_SHR_64)

#define d_m3ImmediateOpDefs(OPCODE, RES, TYPE, NAME, EXPR, OP)                      \
d_m3Op(TYPE##_##NAME##_ir)                                                          \
{                                                                                   \
    TYPE b = d_m3Imm_##TYPE;                                                        \
    TYPE a = (TYPE) _r0;                                                            \
    _r0 = EXPR (a, b, OP);                                                          \
    nextOp ();                                                                      \
}                                                                                   \
d_m3Op(TYPE##_##NAME##_is)                                                          \
{                                                                                   \
    TYPE b = d_m3Imm_##TYPE;                                                        \
    TYPE a = slot (TYPE);                                                           \
    _r0 = EXPR (a, b, OP);                                                          \
    nextOp ();                                                                      \
}

d_m3ImmediateOps (d_m3ImmediateOpDefs)


//-- the same operations writing their result to a slot (patch 0061) ---------------------------------
// _rs_s, _sr_s, _ss_s, _ir_s, _is_s: the operands as in _rs ... _is, then the slot the result is
// written to (of the result's type: an i64 compare writes an i32).  The compiler uses them when r0
// holds another value (instead of spilling it first), and for a `local.set` of the result.
#define d_m3ToSlotOpDefs(OPCODE, RES, TYPE, NAME, EXPR, OP)                         \
d_m3Op(TYPE##_##NAME##_rs_s)                                                        \
{                                                                                   \
    TYPE a = slot (TYPE);                                                           \
    TYPE b = (TYPE) _r0;                                                            \
    slot (RES) = (RES) EXPR (a, b, OP);                                             \
    nextOp ();                                                                      \
}                                                                                   \
d_m3Op(TYPE##_##NAME##_sr_s)                                                        \
{                                                                                   \
    TYPE b = slot (TYPE);                                                           \
    TYPE a = (TYPE) _r0;                                                            \
    slot (RES) = (RES) EXPR (a, b, OP);                                             \
    nextOp ();                                                                      \
}                                                                                   \
d_m3Op(TYPE##_##NAME##_ss_s)                                                        \
{                                                                                   \
    TYPE b = slot (TYPE);                                                           \
    TYPE a = slot (TYPE);                                                           \
    slot (RES) = (RES) EXPR (a, b, OP);                                             \
    nextOp ();                                                                      \
}                                                                                   \
d_m3Op(TYPE##_##NAME##_ir_s)                                                        \
{                                                                                   \
    TYPE b = d_m3Imm_##TYPE;                                                        \
    TYPE a = (TYPE) _r0;                                                            \
    slot (RES) = (RES) EXPR (a, b, OP);                                             \
    nextOp ();                                                                      \
}                                                                                   \
d_m3Op(TYPE##_##NAME##_is_s)                                                        \
{                                                                                   \
    TYPE b = d_m3Imm_##TYPE;                                                        \
    TYPE a = slot (TYPE);                                                           \
    slot (RES) = (RES) EXPR (a, b, OP);                                             \
    nextOp ();                                                                      \
}

d_m3ImmediateOps (d_m3ToSlotOpDefs)


//-- compare-and-branch (patch 0062) -------------------------------------------------------------------
// A br_if, if or loop br_if whose condition an operation below has just computed into r0 becomes
// one operation: the operands as in its _rs ... _is (or _r, _s for eqz), then the branch's own
// immediate.  BranchIf_*: jump when true; If_*: go on when true, else jump to the else pc;
// ContinueLoopIf_*: continue the loop when true.
#define d_m3Fetch_rs(T)     T a = slot (T);         T b = (T) _r0;
#define d_m3Fetch_sr(T)     T b = slot (T);         T a = (T) _r0;
#define d_m3Fetch_ss(T)     T b = slot (T);         T a = slot (T);
#define d_m3Fetch_ir(T)     T b = d_m3Imm_##T;      T a = (T) _r0;
#define d_m3Fetch_is(T)     T b = d_m3Imm_##T;      T a = slot (T);

#define d_m3BranchOps(X) \
    X (0x46, i32, i32, Equal,              d_m3Oper, ==)  X (0x51, i32, i64, Equal,              d_m3Oper, ==) \
    X (0x47, i32, i32, NotEqual,           d_m3Oper, !=)  X (0x52, i32, i64, NotEqual,           d_m3Oper, !=) \
    X (0x48, i32, i32, LessThan,           d_m3Oper, < )  X (0x53, i32, i64, LessThan,           d_m3Oper, < ) \
    X (0x49, i32, u32, LessThan,           d_m3Oper, < )  X (0x54, i32, u64, LessThan,           d_m3Oper, < ) \
    X (0x4a, i32, i32, GreaterThan,        d_m3Oper, > )  X (0x55, i32, i64, GreaterThan,        d_m3Oper, > ) \
    X (0x4b, i32, u32, GreaterThan,        d_m3Oper, > )  X (0x56, i32, u64, GreaterThan,        d_m3Oper, > ) \
    X (0x4c, i32, i32, LessThanOrEqual,    d_m3Oper, <=)  X (0x57, i32, i64, LessThanOrEqual,    d_m3Oper, <=) \
    X (0x4d, i32, u32, LessThanOrEqual,    d_m3Oper, <=)  X (0x58, i32, u64, LessThanOrEqual,    d_m3Oper, <=) \
    X (0x4e, i32, i32, GreaterThanOrEqual, d_m3Oper, >=)  X (0x59, i32, i64, GreaterThanOrEqual, d_m3Oper, >=) \
    X (0x4f, i32, u32, GreaterThanOrEqual, d_m3Oper, >=)  X (0x5a, i32, u64, GreaterThanOrEqual, d_m3Oper, >=) \
    X (0x71, i32, u32, And,                d_m3Oper, & )  X (0x72, i32, u32, Or,                 d_m3Oper, | )

#define d_m3BranchOpVariant(TYPE, NAME, COND, V, FETCH)                             \
d_m3Op(BranchIf_##TYPE##_##NAME##_##V)                                              \
{                                                                                   \
    FETCH                                                                           \
    pc_t target = immediate (pc_t);                                                 \
    if (COND)                                                                       \
        jumpOp (target);                                                            \
    else nextOp ();                                                                 \
}                                                                                   \
d_m3Op(If_##TYPE##_##NAME##_##V)                                                    \
{                                                                                   \
    FETCH                                                                           \
    pc_t elsePC = immediate (pc_t);                                                 \
    if (COND)                                                                       \
        nextOp ();                                                                  \
    else jumpOp (elsePC);                                                           \
}                                                                                   \
d_m3Op(ContinueLoopIf_##TYPE##_##NAME##_##V)                                        \
{                                                                                   \
    FETCH                                                                           \
    void * loopId = immediate (void *);                                             \
    if (COND)                                                                       \
        return loopId;                                                              \
    else nextOp ();                                                                 \
}

#define d_m3BranchOpDefs(OPCODE, RES, TYPE, NAME, EXPR, OP)                         \
    d_m3BranchOpVariant (TYPE, NAME, EXPR (a, b, OP), rs, d_m3Fetch_rs (TYPE))      \
    d_m3BranchOpVariant (TYPE, NAME, EXPR (a, b, OP), sr, d_m3Fetch_sr (TYPE))      \
    d_m3BranchOpVariant (TYPE, NAME, EXPR (a, b, OP), ss, d_m3Fetch_ss (TYPE))      \
    d_m3BranchOpVariant (TYPE, NAME, EXPR (a, b, OP), ir, d_m3Fetch_ir (TYPE))      \
    d_m3BranchOpVariant (TYPE, NAME, EXPR (a, b, OP), is, d_m3Fetch_is (TYPE))

d_m3BranchOps (d_m3BranchOpDefs)

d_m3BranchOpVariant (i32, EqualToZero, a == 0, r, i32 a = (i32) _r0;)
d_m3BranchOpVariant (i32, EqualToZero, a == 0, s, i32 a = slot (i32);)
d_m3BranchOpVariant (i64, EqualToZero, a == 0, r, i64 a = (i64) _r0;)
d_m3BranchOpVariant (i64, EqualToZero, a == 0, s, i64 a = slot (i64);)

#if d_m3HasFloat
d_m3OpFunc_f(f32, Min, min_f32);
d_m3OpFunc_f(f32, Max, max_f32);
d_m3OpFunc_f(f64, Min, min_f64);
d_m3OpFunc_f(f64, Max, max_f64);

d_m3OpFunc_f(f32, CopySign, copysignf);
d_m3OpFunc_f(f64, CopySign, copysign);
#endif

// Unary operations
// Note: This macro follows the principle of d_m3OpMacro

#define d_m3UnaryMacro(RES, REG, TYPE, NAME, OP, ...)   \
d_m3Op(TYPE##_##NAME##_r)                           \
{                                                   \
    OP(RES, (TYPE) d_m3RegGet (REG), ##__VA_ARGS__); \
    nextOp ();                                      \
}                                                   \
d_m3Op(TYPE##_##NAME##_s)                           \
{                                                   \
    TYPE operand = slot (TYPE);                     \
    OP(RES, operand, ##__VA_ARGS__);                \
    nextOp ();                                      \
}

#define M3_UNARY(RES, X, OP) d_m3RegSet (RES, OP(X))
#define d_m3UnaryOp_i(TYPE, NAME, OPERATION)        d_m3UnaryMacro( _r0,  _r0, TYPE, NAME, M3_UNARY, OPERATION)
#define d_m3UnaryOp_f(TYPE, NAME, OPERATION)        d_m3UnaryMacro(d_m3FpReg_##TYPE, d_m3FpReg_##TYPE, TYPE, NAME, M3_UNARY, OPERATION)

#if d_m3HasFloat
d_m3UnaryOp_f (f32, Abs,        fabsf);         d_m3UnaryOp_f (f64, Abs,        fabs);
// a NaN operand must give a quiet NaN; libm's rounding functions may return a signaling NaN
// unchanged, and x + x quiets it (patch 0009)
#define d_m3QuietNaN(F, X)      (UNLIKELY ((X) != (X)) ? (X) + (X) : F (X))
static inline f32 ceil_f32    (f32 x) { return d_m3QuietNaN (ceilf, x); }
static inline f64 ceil_f64    (f64 x) { return d_m3QuietNaN (ceil, x); }
static inline f32 floor_f32   (f32 x) { return d_m3QuietNaN (floorf, x); }
static inline f64 floor_f64   (f64 x) { return d_m3QuietNaN (floor, x); }
static inline f32 trunc_f32   (f32 x) { return d_m3QuietNaN (truncf, x); }
static inline f64 trunc_f64   (f64 x) { return d_m3QuietNaN (trunc, x); }
static inline f32 rint_f32    (f32 x) { return d_m3QuietNaN (rintf, x); }
static inline f64 rint_f64    (f64 x) { return d_m3QuietNaN (rint, x); }

d_m3UnaryOp_f (f32, Ceil,       ceil_f32);      d_m3UnaryOp_f (f64, Ceil,       ceil_f64);
d_m3UnaryOp_f (f32, Floor,      floor_f32);     d_m3UnaryOp_f (f64, Floor,      floor_f64);
d_m3UnaryOp_f (f32, Trunc,      trunc_f32);     d_m3UnaryOp_f (f64, Trunc,      trunc_f64);
d_m3UnaryOp_f (f32, Sqrt,       sqrtf);         d_m3UnaryOp_f (f64, Sqrt,       sqrt);
d_m3UnaryOp_f (f32, Nearest,    rint_f32);      d_m3UnaryOp_f (f64, Nearest,    rint_f64);
d_m3UnaryOp_f (f32, Negate,     -);             d_m3UnaryOp_f (f64, Negate,     -);
#endif

#define OP_EQZ(x) ((x) == 0)

d_m3UnaryOp_i (i32, EqualToZero, OP_EQZ)
d_m3UnaryOp_i (i64, EqualToZero, OP_EQZ)

// clz(0), ctz(0) results are undefined for rest platforms, fix it
#if (defined(__i386__) || defined(__x86_64__)) && !(defined(__AVX2__) || (defined(__ABM__) && defined(__BMI__)))
    #define OP_CLZ_32(x) (UNLIKELY((x) == 0) ? 32 : __builtin_clz(x))
    #define OP_CTZ_32(x) (UNLIKELY((x) == 0) ? 32 : __builtin_ctz(x))
    // for 64-bit instructions branchless approach more preferable
    #define OP_CLZ_64(x) (__builtin_clzll((x) | (1LL <<  0)) + OP_EQZ(x))
    #define OP_CTZ_64(x) (__builtin_ctzll((x) | (1LL << 63)) + OP_EQZ(x))
#elif defined(__ppc__) || defined(__ppc64__)
// PowerPC is defined for __builtin_clz(0) and __builtin_ctz(0).
// See (https://github.com/aquynh/capstone/blob/master/MathExtras.h#L99)
    #define OP_CLZ_32(x) __builtin_clz(x)
    #define OP_CTZ_32(x) __builtin_ctz(x)
    #define OP_CLZ_64(x) __builtin_clzll(x)
    #define OP_CTZ_64(x) __builtin_ctzll(x)
#else
    #define OP_CLZ_32(x) (UNLIKELY((x) == 0) ? 32 : __builtin_clz(x))
    #define OP_CTZ_32(x) (UNLIKELY((x) == 0) ? 32 : __builtin_ctz(x))
    #define OP_CLZ_64(x) (UNLIKELY((x) == 0) ? 64 : __builtin_clzll(x))
    #define OP_CTZ_64(x) (UNLIKELY((x) == 0) ? 64 : __builtin_ctzll(x))
#endif

d_m3UnaryOp_i (u32, Clz, OP_CLZ_32)
d_m3UnaryOp_i (u64, Clz, OP_CLZ_64)

d_m3UnaryOp_i (u32, Ctz, OP_CTZ_32)
d_m3UnaryOp_i (u64, Ctz, OP_CTZ_64)

d_m3UnaryOp_i (u32, Popcnt, __builtin_popcount)
d_m3UnaryOp_i (u64, Popcnt, __builtin_popcountll)

#define OP_WRAP_I64(X) ((X) & 0x00000000ffffffff)

d_m3Op(i32_Wrap_i64_r)
{
    _r0 = OP_WRAP_I64((i64) _r0);
    nextOp ();
}

d_m3Op(i32_Wrap_i64_s)
{
    i64 operand = slot (i64);
    _r0 = OP_WRAP_I64(operand);
    nextOp ();
}

// Integer sign extension operations
#define OP_EXTEND8_S_I32(X)  ((int32_t)(int8_t)(X))
#define OP_EXTEND16_S_I32(X) ((int32_t)(int16_t)(X))
#define OP_EXTEND8_S_I64(X)  ((int64_t)(int8_t)(X))
#define OP_EXTEND16_S_I64(X) ((int64_t)(int16_t)(X))
#define OP_EXTEND32_S_I64(X) ((int64_t)(int32_t)(X))

d_m3UnaryOp_i (i32, Extend8_s,  OP_EXTEND8_S_I32)
d_m3UnaryOp_i (i32, Extend16_s, OP_EXTEND16_S_I32)
d_m3UnaryOp_i (i64, Extend8_s,  OP_EXTEND8_S_I64)
d_m3UnaryOp_i (i64, Extend16_s, OP_EXTEND16_S_I64)
d_m3UnaryOp_i (i64, Extend32_s, OP_EXTEND32_S_I64)

#define d_m3TruncMacro(DEST, SRC, TYPE, NAME, FROM, OP, ...)   \
d_m3Op(TYPE##_##NAME##_##FROM##_r_r)                \
{                                                   \
    OP((DEST), (FROM) d_m3RegGet (SRC), ##__VA_ARGS__); \
    nextOp ();                                      \
}                                                   \
d_m3Op(TYPE##_##NAME##_##FROM##_r_s)                \
{                                                   \
    FROM * stack = slot_ptr (FROM);                 \
    OP((DEST), (* stack), ##__VA_ARGS__);           \
    nextOp ();                                      \
}                                                   \
d_m3Op(TYPE##_##NAME##_##FROM##_s_r)                \
{                                                   \
    TYPE * dest = slot_ptr (TYPE);                  \
    OP((* dest), (FROM) d_m3RegGet (SRC), ##__VA_ARGS__); \
    nextOp ();                                      \
}                                                   \
d_m3Op(TYPE##_##NAME##_##FROM##_s_s)                \
{                                                   \
    FROM * stack = slot_ptr (FROM);                 \
    TYPE * dest = slot_ptr (TYPE);                  \
    OP((* dest), (* stack), ##__VA_ARGS__);         \
    nextOp ();                                      \
}

#if d_m3HasFloat
d_m3TruncMacro(_r0, d_m3F32Reg, i32, Trunc, f32, OP_I32_TRUNC_F32)
d_m3TruncMacro(_r0, d_m3F32Reg, u32, Trunc, f32, OP_U32_TRUNC_F32)
d_m3TruncMacro(_r0, _fp0, i32, Trunc, f64, OP_I32_TRUNC_F64)
d_m3TruncMacro(_r0, _fp0, u32, Trunc, f64, OP_U32_TRUNC_F64)

d_m3TruncMacro(_r0, d_m3F32Reg, i64, Trunc, f32, OP_I64_TRUNC_F32)
d_m3TruncMacro(_r0, d_m3F32Reg, u64, Trunc, f32, OP_U64_TRUNC_F32)
d_m3TruncMacro(_r0, _fp0, i64, Trunc, f64, OP_I64_TRUNC_F64)
d_m3TruncMacro(_r0, _fp0, u64, Trunc, f64, OP_U64_TRUNC_F64)

d_m3TruncMacro(_r0, d_m3F32Reg, i32, TruncSat, f32, OP_I32_TRUNC_SAT_F32)
d_m3TruncMacro(_r0, d_m3F32Reg, u32, TruncSat, f32, OP_U32_TRUNC_SAT_F32)
d_m3TruncMacro(_r0, _fp0, i32, TruncSat, f64, OP_I32_TRUNC_SAT_F64)
d_m3TruncMacro(_r0, _fp0, u32, TruncSat, f64, OP_U32_TRUNC_SAT_F64)

d_m3TruncMacro(_r0, d_m3F32Reg, i64, TruncSat, f32, OP_I64_TRUNC_SAT_F32)
d_m3TruncMacro(_r0, d_m3F32Reg, u64, TruncSat, f32, OP_U64_TRUNC_SAT_F32)
d_m3TruncMacro(_r0, _fp0, i64, TruncSat, f64, OP_I64_TRUNC_SAT_F64)
d_m3TruncMacro(_r0, _fp0, u64, TruncSat, f64, OP_U64_TRUNC_SAT_F64)
#endif

#define d_m3TypeModifyOp(REG_TO, REG_FROM, TO, NAME, FROM)  \
d_m3Op(TO##_##NAME##_##FROM##_r)                            \
{                                                           \
    d_m3RegSet (REG_TO, (TO) ((FROM) d_m3RegGet (REG_FROM))); \
    nextOp ();                                              \
}                                                           \
                                                            \
d_m3Op(TO##_##NAME##_##FROM##_s)                            \
{                                                           \
    FROM from = slot (FROM);                                \
    d_m3RegSet (REG_TO, (TO) (from));                       \
    nextOp ();                                              \
}

// Int to int
d_m3TypeModifyOp (_r0, _r0, i64, Extend, i32);
d_m3TypeModifyOp (_r0, _r0, i64, Extend, u32);

// Float to float
#if d_m3HasFloat
d_m3TypeModifyOp (d_m3F32Reg, _fp0, f32, Demote, f64);
d_m3TypeModifyOp (_fp0, d_m3F32Reg, f64, Promote, f32);
#endif

#define d_m3TypeConvertOp(REG_TO, REG_FROM, TO, NAME, FROM) \
d_m3Op(TO##_##NAME##_##FROM##_r_r)                          \
{                                                           \
    d_m3RegSet (REG_TO, (TO) ((FROM) d_m3RegGet (REG_FROM))); \
    nextOp ();                                              \
}                                                           \
                                                            \
d_m3Op(TO##_##NAME##_##FROM##_s_r)                          \
{                                                           \
    slot (TO) = (TO) ((FROM) d_m3RegGet (REG_FROM));        \
    nextOp ();                                              \
}                                                           \
                                                            \
d_m3Op(TO##_##NAME##_##FROM##_r_s)                          \
{                                                           \
    FROM from = slot (FROM);                                \
    d_m3RegSet (REG_TO, (TO) (from));                       \
    nextOp ();                                              \
}                                                           \
                                                            \
d_m3Op(TO##_##NAME##_##FROM##_s_s)                          \
{                                                           \
    FROM from = slot (FROM);                                \
    slot (TO) = (TO) (from);                                \
    nextOp ();                                              \
}

// Int to float
#if d_m3HasFloat
d_m3TypeConvertOp (_fp0, _r0, f64, Convert, i32);
d_m3TypeConvertOp (_fp0, _r0, f64, Convert, u32);
d_m3TypeConvertOp (_fp0, _r0, f64, Convert, i64);
d_m3TypeConvertOp (_fp0, _r0, f64, Convert, u64);

d_m3TypeConvertOp (d_m3F32Reg, _r0, f32, Convert, i32);
d_m3TypeConvertOp (d_m3F32Reg, _r0, f32, Convert, u32);
d_m3TypeConvertOp (d_m3F32Reg, _r0, f32, Convert, i64);
d_m3TypeConvertOp (d_m3F32Reg, _r0, f32, Convert, u64);
#endif

#define d_m3ReinterpretOp(REG, TO, SRC, FROM)               \
d_m3Op(TO##_Reinterpret_##FROM##_r_r)                       \
{                                                           \
    union { FROM c; TO t; } u;                              \
    u.c = (FROM) d_m3RegGet (SRC);                          \
    d_m3RegSet (REG, u.t);                                  \
    nextOp ();                                              \
}                                                           \
                                                            \
d_m3Op(TO##_Reinterpret_##FROM##_r_s)                       \
{                                                           \
    union { FROM c; TO t; } u;                              \
    u.c = slot (FROM);                                      \
    d_m3RegSet (REG, u.t);                                  \
    nextOp ();                                              \
}                                                           \
                                                            \
d_m3Op(TO##_Reinterpret_##FROM##_s_r)                       \
{                                                           \
    union { FROM c; TO t; } u;                              \
    u.c = (FROM) d_m3RegGet (SRC);                          \
    slot (TO) = u.t;                                        \
    nextOp ();                                              \
}                                                           \
                                                            \
d_m3Op(TO##_Reinterpret_##FROM##_s_s)                       \
{                                                           \
    union { FROM c; TO t; } u;                              \
    u.c = slot (FROM);                                      \
    slot (TO) = u.t;                                        \
    nextOp ();                                              \
}

#if d_m3HasFloat
d_m3ReinterpretOp (_r0, i32, d_m3F32Reg, f32)
d_m3ReinterpretOp (_r0, i64, _fp0, f64)
d_m3ReinterpretOp (d_m3F32Reg, f32, _r0, i32)
d_m3ReinterpretOp (_fp0, f64, _r0, i64)
#endif


d_m3Op  (GetGlobal_s32)
{
    u32 * global = immediate (u32 *);
    slot (u32) = * global;                        //  printf ("get global: %p %" PRIi64 "\n", global, *global);

    nextOp ();
}


d_m3Op  (GetGlobal_s64)
{
    u64 * global = immediate (u64 *);
    slot (u64) = * global;                        // printf ("get global: %p %" PRIi64 "\n", global, *global);

    nextOp ();
}


d_m3Op  (SetGlobal_i32)
{
    u32 * global = immediate (u32 *);
    * global = (u32) _r0;                         //  printf ("set global: %p %" PRIi64 "\n", global, _r0);

    nextOp ();
}


d_m3Op  (SetGlobal_i64)
{
    u64 * global = immediate (u64 *);
    * global = (u64) _r0;                         //  printf ("set global: %p %" PRIi64 "\n", global, _r0);

    nextOp ();
}


d_m3Op  (Entry);      // patch 0065: op_Call compares its callee's first operation with it
d_m3Op  (EntryFuel); // patch 0073: op_Entry after taking a unit of fuel
#define IsEntryOp(op)  ((op) == (void *) op_Entry or (op) == (void *) op_EntryFuel)

d_m3Op  (Call)
{
    pc_t callPC                 = immediate (pc_t);
    i32 stackOffset             = immediate (i32);
    IM3Memory memory            = m3MemInfo (_mem);

    m3stack_t sp = _sp + stackOffset;

    m3ret_t r = Call (callPC, sp, _mem, d_m3OpDefaultArgs);
    _mem = memory->mallocated;

    if (LIKELY(not r))
    {
        _pc++;                  // the call's wasm offset (patch 0075): read on a trap only
        nextOp ();
    }
    else
    {
        pushBacktraceFrame ();
        // the callee unwound (patch 0065): a wasm function's code starts with op_Entry and
        // its function (an import's with op_CallRawFunction: not a wasm frame).  Found from
        // _pc, which the success path keeps anyway: nothing more lives across the call.
        // (op_Call and op_Entry are both emitted by m3_compile.c: that file's copies of these
        // static functions.)
        pc_t callee = (pc_t) _pc [-2];
        IM3Runtime runtime = m3MemRuntime (_mem);
        if (IsEntryOp (callee [0]))
            RecordTrapFrame (runtime, (IM3Function) callee [1]);
        runtime->trapOffset = * (u32 *) _pc;        // this frame was in this call (patch 0075)
        forwardTrap (r);
    }
}


d_m3Op  (CallIndirect)
{
    u32 tableIndex              = slot (u32);
    IM3Table table              = immediate (IM3Table);     // patch 0011: any table
    IM3FuncType type            = immediate (IM3FuncType);
    i32 stackOffset             = immediate (i32);
    IM3Memory memory            = m3MemInfo (_mem);
    // _pc [0]: the call's wasm offset (patch 0075), read on a trap only

    m3stack_t sp = _sp + stackOffset;

    m3ret_t r = m3Err_none;

    if (LIKELY(tableIndex < table->size))
    {
        IM3Function function = (IM3Function) (uintptr_t) table->elements [tableIndex];

        if (LIKELY(function))
        {
            // types are unique per environment; a function of another environment compares
            // structurally
            if (LIKELY(type == function->funcType) or AreFuncTypesEqual (type, function->funcType))
            {
                if (UNLIKELY(not function->compiled))
                    r = CompileFunction (function);

                if (LIKELY(not r))
                {
                    if (LIKELY (not table->shared) or function->module->runtime == m3MemRuntime (_mem))
                        r = Call (function->compiled, sp, _mem, d_m3OpDefaultArgs);
                    else r = CallForeignFunction (function, sp, _mem);     // patch 0074
                    _mem = memory->mallocated;

                    if (LIKELY(not r))
                    {
                        _pc++;
                        nextOpDirect ();
                    }
                    else
                    {
                        pushBacktraceFrame ();
                        RecordTrapFrame (m3MemRuntime (_mem), function);   // patch 0065
                        m3MemRuntime (_mem)->trapOffset = * (u32 *) _pc;  // patch 0075
                        forwardTrap (r);
                    }
                }
            }
            else r = m3Err_trapIndirectCallTypeMismatch;
        }
        else r = m3Err_trapTableElementIsNull;
    }
    else r = m3Err_trapTableIndexOutOfRange;

    if (UNLIKELY(r))
    {
        // the call_indirect itself trapped, or its callee failed to compile (patch 0075)
        m3MemRuntime (_mem)->trapOffset = * (u32 *) _pc;
        newTrap (r);
    }
    else forwardTrap (r);
}


// Tail calls (return_call, return_call_indirect; patch 0072).  The callee replaces the caller:
// its arguments, which the compiler put at stackOffset (after the result slots) as for a call,
// move down to the caller's own argument slots, and the callee runs in the caller's frame.  A
// wasm callee is not called from here: op_ReturnCall returns m3Err_tailCall, which unwinds the
// caller's operations back to the op_Entry that started the frame, and op_Entry runs the callee
// (runtime->tailCallee) in the same frame - so a chain of tail calls of any length grows neither
// the value stack nor the native stack, whether or not the C compiler turns the operations'
// calls into jumps.  An import's code (op_CallRawFunction) is called as it is (it returns).  The
// callee's op_Return returns to whoever called the caller.  In a trap's frames the caller is
// named for the callee (op_Call records the function it called).
static inline
m3ret_t  TailCall  (IM3Function i_function, i32 i_stackOffset, i32 i_retSlots, i32 i_argSlots, d_m3OpSig)
{
    if (UNLIKELY (not i_function->compiled))
    {
        m3ret_t r = CompileFunction (i_function);
        if (r)
            newTrap (r);
    }
    pc_t code = i_function->compiled;
    m3slot_t * frame = (m3slot_t *) _sp;
    memmove (frame + i_retSlots, frame + i_stackOffset + i_retSlots, (size_t) i_argSlots * sizeof (m3slot_t));
    if (IsEntryOp (code [0]))
    {
        m3MemRuntime (_mem)->tailCallee = i_function;
        return m3Err_tailCall;
    }
    jumpOp (code);
}


// A tail call of another runtime's function, found in a shared table (patch 0077).  It must run
// with its own runtime's memory (CallForeignFunction, as op_CallIndirect does), which op_Entry's
// loop cannot switch to, so it is called, in this frame: its arguments move down as for any
// tail call, its results land in this frame's result slots, and this function returns as
// op_Return does.  A chain of tail calls that alternates between runtimes therefore nests one
// native call per switch (as the compiled tier's wrappers do), bounded by op_Entry's stack
// checks: a chain too long is a stack-overflow trap.  A trap's frames name the callee, then
// this function.
static inline
m3ret_t  ForeignTailCall  (IM3Function i_function, i32 i_stackOffset, i32 i_retSlots, i32 i_argSlots, d_m3OpSig)
{
    IM3Memory memory = m3MemInfo (_mem);
    if (UNLIKELY (not i_function->compiled))
    {
        m3ret_t r = CompileFunction (i_function);
        if (r)
            newTrap (r);
    }
    m3slot_t * frame = (m3slot_t *) _sp;
    memmove (frame + i_retSlots, frame + i_stackOffset + i_retSlots, (size_t) i_argSlots * sizeof (m3slot_t));
    m3ret_t r = CallForeignFunction (i_function, _sp, _mem);
    _mem = memory->mallocated;
    if (UNLIKELY (r))
    {
        pushBacktraceFrame ();
        RecordTrapFrame (m3MemRuntime (_mem), i_function);
        forwardTrap (r);
    }
    return m3Err_none;
}


d_m3Op  (ReturnCall)
{
    IM3Function function        = immediate (IM3Function);
    i32 stackOffset             = immediate (i32);
    i32 retSlots                = immediate (i32);
    i32 argSlots                = immediate (i32);

    return TailCall (function, stackOffset, retSlots, argSlots, d_m3OpAllArgs);
}


d_m3Op  (ReturnCallIndirect)
{
    u32 tableIndex              = slot (u32);
    IM3Table table              = immediate (IM3Table);
    IM3FuncType type            = immediate (IM3FuncType);
    i32 stackOffset             = immediate (i32);
    i32 retSlots                = immediate (i32);
    i32 argSlots                = immediate (i32);

    if (UNLIKELY (tableIndex >= table->size))
        newTrap (m3Err_trapTableIndexOutOfRange);
    IM3Function function = (IM3Function) (uintptr_t) table->elements [tableIndex];
    if (UNLIKELY (not function))
        newTrap (m3Err_trapTableElementIsNull);
    if (UNLIKELY (type != function->funcType and not AreFuncTypesEqual (type, function->funcType)))
        newTrap (m3Err_trapIndirectCallTypeMismatch);
    if (UNLIKELY (table->shared) and function->module->runtime != m3MemRuntime (_mem))      // patch 0074
        return ForeignTailCall (function, stackOffset, retSlots, argSlots, d_m3OpAllArgs);

    return TailCall (function, stackOffset, retSlots, argSlots, d_m3OpAllArgs);
}


d_m3Op  (CallRawFunction)
{
    d_m3TracePrepare

    M3ImportContext ctx;

    M3RawCall call = (M3RawCall) (* _pc++);
    ctx.function = immediate (IM3Function);
    ctx.userdata = immediate (void *);
    u64* const sp = ((u64*)_sp);
    IM3Memory memory = m3MemInfo (_mem);

    IM3Runtime runtime = m3MemRuntime(_mem);

#if d_m3EnableStrace
    IM3FuncType ftype = ctx.function->funcType;

    FILE* out = stderr;
    char outbuff[1024];
    char* outp = outbuff;
    char* oute = outbuff+1024;

    outp += snprintf(outp, oute-outp, "%s!%s(", ctx.function->info->import.moduleUtf8, ctx.function->info->import.fieldUtf8);

    const int nArgs = ftype->numArgs;
    const int nRets = ftype->numRets;
    u64 * args = sp + nRets;
    for (int i=0; i<nArgs; i++) {
        const int type = ftype->types[nRets + i];
        switch (type) {
        case c_m3Type_i32:  outp += snprintf(outp, oute-outp, "%" PRIi32, *(i32*)(args+i)); break;
        case c_m3Type_i64:  outp += snprintf(outp, oute-outp, "%" PRIi64, *(i64*)(args+i)); break;
        case c_m3Type_f32:  outp += snprintf(outp, oute-outp, "%" PRIf32, *(f32*)(args+i)); break;
        case c_m3Type_f64:  outp += snprintf(outp, oute-outp, "%" PRIf64, *(f64*)(args+i)); break;
        default:            outp += snprintf(outp, oute-outp, "<type %d>", type);         break;
        }
        outp += snprintf(outp, oute-outp, (i < nArgs-1) ? ", " : ")");
    }
# if d_m3EnableStrace >= 2
    outp += snprintf(outp, oute-outp, " { <native> }");
# endif
#endif

    // m3_Call uses runtime->stack to set-up initial exported function stack.
    // Reconfigure the stack to enable recursive invocations of m3_Call.
    // I.e. exported/table function can be called from an impoted function.
    void* stack_backup = runtime->stack;
    runtime->stack = sp;
    m3ret_t possible_trap = call (runtime, &ctx, sp, m3MemData(_mem));
    runtime->stack = stack_backup;

#if d_m3EnableStrace
    if (UNLIKELY(possible_trap)) {
        d_m3TracePrint("%s -> %s", outbuff, (char*)possible_trap);
    } else {
        switch (GetSingleRetType(ftype)) {
        case c_m3Type_none: d_m3TracePrint("%s", outbuff); break;
        case c_m3Type_i32:  d_m3TracePrint("%s = %" PRIi32, outbuff, *(i32*)sp); break;
        case c_m3Type_i64:  d_m3TracePrint("%s = %" PRIi64, outbuff, *(i64*)sp); break;
        case c_m3Type_f32:  d_m3TracePrint("%s = %" PRIf32, outbuff, *(f32*)sp); break;
        case c_m3Type_f64:  d_m3TracePrint("%s = %" PRIf64, outbuff, *(f64*)sp); break;
        }
    }
#endif

    if (UNLIKELY(possible_trap)) {
        _mem = memory->mallocated;
        pushBacktraceFrame ();
    }
    forwardTrap (possible_trap);
}


d_m3Op  (MemSize)
{
    IM3Memory memory            = m3MemInfo (_mem);

    _r0 = memory->numPages;

    nextOp ();
}


d_m3Op  (MemGrow)
{
    IM3Runtime runtime          = m3MemRuntime(_mem);
    IM3Memory memory            = & runtime->memory;

    u32 numPagesToGrow = (u32) _r0;
    _r0 = memory->numPages;

    if (numPagesToGrow)
    {
        // the delta is unsigned: a "negative" or huge delta must fail, not wrap around and shrink
        if (numPagesToGrow > memory->maxPages - memory->numPages)
        {
            _r0 = -1;
        }
        else
        {
            u32 requiredPages = memory->numPages + numPagesToGrow;

            M3Result r = ResizeMemory (runtime, requiredPages);
            if (r)
                _r0 = -1;

            _mem = memory->mallocated;
        }
    }

    nextOp ();
}


d_m3Op  (MemCopy)
{
    u32 size = (u32) _r0;
    u64 source = slot (u32);
    u64 destination = slot (u32);

    if (destination + size <= _mem->length)
    {
        if (source + size <= _mem->length)
        {
            u8 * dst = m3MemData (_mem) + destination;
            u8 * src = m3MemData (_mem) + source;
            memmove (dst, src, size);

            nextOp ();
        }
        else d_outOfBoundsMemOp (source, size);
    }
    else d_outOfBoundsMemOp (destination, size);
}


d_m3Op  (MemFill)
{
    u32 size = (u32) _r0;
    u32 byte = slot (u32);
    u64 destination = slot (u32);

    if (destination + size <= _mem->length)
    {
        u8 * mem8 = m3MemData (_mem) + destination;
        memset (mem8, (u8) byte, size);
        nextOp ();
    }
    else d_outOfBoundsMemOp (destination, size);
}


//-- passive data (patch 0012): operands in slots, the topmost first ------------------------------

d_m3Op  (MemInit)
{
    IM3DataSegment segment = immediate (IM3DataSegment);
    u32 count = slot (u32);
    u32 source = slot (u32);
    u32 destination = slot (u32);

    if (LIKELY ((u64) source + count <= segment->size and
                (u64) destination + count <= _mem->length))
    {
        memcpy (m3MemData (_mem) + destination, segment->data + source, count);
        nextOp ();
    }
    else d_outOfBoundsMemOp (destination, count);
}


d_m3Op  (DataDrop)
{
    IM3DataSegment segment = immediate (IM3DataSegment);
    segment->size = 0;

    nextOp ();
}


//-- tables (patch 0011): operands in slots, the topmost first ---------------------------------------

d_m3Op  (TableGet)
{
    IM3Table table = immediate (IM3Table);
    u32 index = slot (u32);
    u64 * result = slot_ptr (u64);

    if (LIKELY (index < table->size))
    {
        * result = table->elements [index];
        nextOp ();
    }
    else newTrap (m3Err_trapOutOfBoundsTableAccess);
}


d_m3Op  (TableSet)
{
    IM3Table table = immediate (IM3Table);
    u64 value = slot (u64);
    u32 index = slot (u32);

    if (LIKELY (index < table->size))
    {
        table->elements [index] = value;
        nextOp ();
    }
    else newTrap (m3Err_trapOutOfBoundsTableAccess);
}


d_m3Op  (TableSize)
{
    IM3Table table = immediate (IM3Table);
    slot (u32) = table->size;

    nextOp ();
}


// the old size, or -1 when the table cannot grow by that much (it stays as it was)
d_m3Op  (TableGrow)
{
    IM3Table table = immediate (IM3Table);
    u32 delta = slot (u32);
    u64 init = slot (u64);
    i32 * result = slot_ptr (i32);

    * result = -1;
    if (delta <= table->maxSize - table->size)
    {
        u32 newSize = table->size + delta;
        u64 * elements = delta ? m3_ReallocArray (u64, table->elements, M3_MAX (newSize, 1),
                                                  M3_MAX (table->size, 1)) : table->elements;
        if (elements)
        {
            for (u32 i = table->size; i < newSize; ++i)
                elements [i] = init;
            * result = (i32) table->size;
            table->elements = elements;
            table->size = newSize;
        }
    }

    nextOp ();
}


d_m3Op  (TableFill)
{
    IM3Table table = immediate (IM3Table);
    u32 count = slot (u32);
    u64 value = slot (u64);
    u32 start = slot (u32);

    if (LIKELY ((u64) start + count <= table->size))
    {
        for (u32 i = 0; i < count; ++i)
            table->elements [start + i] = value;
        nextOp ();
    }
    else newTrap (m3Err_trapOutOfBoundsTableAccess);
}


d_m3Op  (TableCopy)
{
    IM3Table destinationTable = immediate (IM3Table);
    IM3Table sourceTable = immediate (IM3Table);
    u32 count = slot (u32);
    u32 source = slot (u32);
    u32 destination = slot (u32);

    if (LIKELY ((u64) source + count <= sourceTable->size and
                (u64) destination + count <= destinationTable->size))
    {
        memmove (destinationTable->elements + destination, sourceTable->elements + source,
                 count * sizeof (u64));
        nextOp ();
    }
    else newTrap (m3Err_trapOutOfBoundsTableAccess);
}


d_m3Op  (TableInit)
{
    IM3Table table = immediate (IM3Table);
    IM3ElementSegment segment = immediate (IM3ElementSegment);
    u32 count = slot (u32);
    u32 source = slot (u32);
    u32 destination = slot (u32);

    if (LIKELY ((u64) source + count <= segment->size and
                (u64) destination + count <= table->size))
    {
        if (count)      // a dropped active segment has no elements array (patch 0056)
            memcpy (table->elements + destination, segment->elements + source, count * sizeof (u64));
        nextOp ();
    }
    else newTrap (m3Err_trapOutOfBoundsTableAccess);
}


d_m3Op  (ElemDrop)
{
    IM3ElementSegment segment = immediate (IM3ElementSegment);
    segment->size = 0;

    nextOp ();
}


// it's a debate: should the compilation be trigger be the caller or callee page.
// it's a much easier to put it in the caller pager. if it's in the callee, either the entire page
// has be left dangling or it's just a stub that jumps to a newly acquired page.  In Gestalt, I opted
// for the stub approach. Stubbing makes it easier to dynamically free the compilation. You can also
// do both.
d_m3Op  (Compile)
{
    IM3Function function        = immediate (IM3Function);

    m3ret_t result = m3Err_none;

    if (UNLIKELY(not function->compiled)) // check to see if function was compiled since this operation was emitted.
        result = CompileFunction (function);

    if (not result)
    {
        // patch up compiled pc and call rewritten op_Call.  Only now: rewritten before a
        // failed compilation, the next execution of this call site ran op_Call with the
        // IM3Function as its target pc, a jump into the heap (patch 0019)
        * ((void**) --_pc) = (void*) (function->compiled);
        --_pc;
        * ((void**) _pc) = (void*) (op_Call);
        nextOpDirect ();
    }

    newTrap (result);
}



d_m3Op  (Entry)
{
    d_m3ClearRegisters

    d_m3TracePrepare

    IM3Function function = immediate (IM3Function);
    IM3Memory memory = m3MemInfo (_mem);

#if d_m3SkipStackCheck
    if (true)
#else
    // the wasm value stack, and the native stack every wasm call nests on (patch 0003)
    if (LIKELY ((void *) (_sp + function->maxStackSlots) < _mem->maxStack) &&
        LIKELY ((uintptr_t) & function > _mem->nativeStackLimit))
#endif
    {
        if (UNLIKELY (* _mem->interrupt & 1))       // patch 0004: stop recursion too
            newTrapNoSite (m3Err_trapInterrupted);

#if defined(DEBUG)
        function->hits++;
#endif
        u8 * stack = (u8 *) ((m3slot_t *) _sp + function->numRetAndArgSlots);

        memset (stack, 0x0, function->numLocalBytes);
        stack += function->numLocalBytes;

        if (function->constants)
        {
            memcpy (stack, function->constants, function->numConstantBytes);
        }

#if d_m3EnableStrace >= 2
        d_m3TracePrint("%s %s {", m3_GetFunctionName(function), SPrintFunctionArgList (function, _sp + function->numRetSlots));
        trace_rt->callDepth++;
#endif

        m3ret_t r = nextOpImpl ();

        // a tail call (patch 0072): the callee's arguments are in place; run it in this frame
        while (UNLIKELY (r == m3Err_tailCall))
        {
            _mem = memory->mallocated;
            function = m3MemRuntime (_mem)->tailCallee;
            if (UNLIKELY (not ((void *) (_sp + function->maxStackSlots) < _mem->maxStack)))
                r = m3Err_trapStackOverflow;
            else if (UNLIKELY (* _mem->interrupt & 1))
                r = m3Err_trapInterrupted;
            else if (UNLIKELY (function->compiled [0] == (void *) op_EntryFuel) and
                     UNLIKELY (-- * _mem->fuel < 0))    // patch 0073: the callee's entry
                r = m3Err_trapFuel;
            else
            {
                stack = (u8 *) ((m3slot_t *) _sp + function->numRetAndArgSlots);
                memset (stack, 0x0, function->numLocalBytes);
                stack += function->numLocalBytes;
                if (function->constants)
                    memcpy (stack, function->constants, function->numConstantBytes);
                d_m3ClearRegisters
                pc_t code = function->compiled + 2;     // after op_Entry and its function
                r = jumpOpImpl (code);
                continue;
            }
            pushBacktraceFrame ();
        }

#if d_m3EnableStrace >= 2
        trace_rt->callDepth--;

        if (r) {
            d_m3TracePrint("} !trap = %s", (char*)r);
        } else {
            int rettype = GetSingleRetType(function->funcType);
            if (rettype != c_m3Type_none) {
                char str [128] = { 0 };
                SPrintArg (str, 127, _sp, rettype);
                d_m3TracePrint("} = %s", str);
            } else {
                d_m3TracePrint("}");
            }
        }
#endif

        if (UNLIKELY(r)) {
            _mem = memory->mallocated;
            fillBacktraceFrame ();
        }
        forwardTrap (r);
    }
    else newTrapNoSite (m3Err_trapStackOverflow);
}


d_m3Op  (Loop)
{
    d_m3TracePrepare

    // regs are unused coming into a loop anyway
    // this reduces code size & stack usage
    d_m3ClearRegisters

    m3ret_t r;

    IM3Memory memory = m3MemInfo (_mem);
    volatile uint32_t * interrupt = _mem->interrupt;   // patch 0004: fixed during a call

    do
    {
#if d_m3EnableStrace >= 3
        d_m3TracePrint("iter {");
        trace_rt->callDepth++;
#endif
        r = nextOpImpl ();

#if d_m3EnableStrace >= 3
        trace_rt->callDepth--;
        d_m3TracePrint("}");
#endif
        // linear memory pointer needs refreshed here because the block it's looping over
        // can potentially invoke the grow operation.
        _mem = memory->mallocated;
    }
    // patch 0004: a loop is where a guest can run forever without calling anything
    while (r == _pc and LIKELY (not (* interrupt & 1)));

    if (UNLIKELY (r == _pc))
        r = m3Err_trapInterrupted;

    forwardTrap (r);
}


// patch 0073: op_Loop and op_Entry with fuel, emitted instead of them when the runtime has a
// fuel word (m3_SetFuel): one unit per loop entry (the first and every branch back) and per
// function entry
d_m3Op  (LoopFuel)
{
    d_m3TracePrepare

    d_m3ClearRegisters

    m3ret_t r;

    IM3Memory memory = m3MemInfo (_mem);
    volatile uint32_t * interrupt = _mem->interrupt;
    int64_t * fuel = _mem->fuel;

    do
    {
        if (UNLIKELY (-- * fuel < 0))
            newTrapNoSite (m3Err_trapFuel);
        r = nextOpImpl ();
        _mem = memory->mallocated;
    }
    while (r == _pc and LIKELY (not (* interrupt & 1)));

    if (UNLIKELY (r == _pc))
        r = m3Err_trapInterrupted;

    forwardTrap (r);
}


d_m3Op  (EntryFuel)
{
    if (UNLIKELY (-- * _mem->fuel < 0))
        newTrapNoSite (m3Err_trapFuel);
    return op_Entry (d_m3OpAllArgs);
}


d_m3Op  (Branch)
{
    jumpOp (* _pc);
}


d_m3Op  (If_r)
{
    i32 condition = (i32) _r0;

    pc_t elsePC = immediate (pc_t);

    if (condition)
        nextOp ();
    else
        jumpOp (elsePC);
}


d_m3Op  (If_s)
{
    i32 condition = slot (i32);

    pc_t elsePC = immediate (pc_t);

    if (condition)
        nextOp ();
    else
        jumpOp (elsePC);
}


d_m3Op  (BranchTable)
{
    u32 branchIndex = slot (u32);           // branch index is always in a slot
    u32 numTargets  = immediate (u32);

    pc_t * branches = (pc_t *) _pc;

    if (branchIndex > numTargets)
        branchIndex = numTargets; // the default index

    jumpOp (branches [branchIndex]);
}


#define d_m3SetRegisterSetSlot(TYPE, REG) \
d_m3Op  (SetRegister_##TYPE)            \
{                                       \
    d_m3RegSet (REG, slot (TYPE));      \
    nextOp ();                          \
}                                       \
                                        \
d_m3Op (SetSlot_##TYPE)                 \
{                                       \
    slot (TYPE) = (TYPE) d_m3RegGet (REG); \
    nextOp ();                          \
}                                       \
                                        \
d_m3Op (PreserveSetSlot_##TYPE)         \
{                                       \
    TYPE * stack     = slot_ptr (TYPE); \
    TYPE * preserve  = slot_ptr (TYPE); \
                                        \
    * preserve = * stack;               \
    * stack = (TYPE) d_m3RegGet (REG);  \
                                        \
    nextOp ();                          \
}

d_m3SetRegisterSetSlot (i32, _r0)
d_m3SetRegisterSetSlot (i64, _r0)
#if d_m3HasFloat
d_m3SetRegisterSetSlot (f32, d_m3F32Reg)
d_m3SetRegisterSetSlot (f64, _fp0)
#endif

d_m3Op (CopySlot_32)
{
    u32 * dst = slot_ptr (u32);
    u32 * src = slot_ptr (u32);

    * dst = * src;

    nextOp ();
}


d_m3Op (PreserveCopySlot_32)
{
    u32 * dest      = slot_ptr (u32);
    u32 * src       = slot_ptr (u32);
    u32 * preserve  = slot_ptr (u32);

    * preserve = * dest;
    * dest = * src;

    nextOp ();
}


d_m3Op (CopySlot_64)
{
    u64 * dst = slot_ptr (u64);
    u64 * src = slot_ptr (u64);

    * dst = * src;                  // printf ("copy: %p <- %" PRIi64 " <- %p\n", dst, * dst, src);

    nextOp ();
}


d_m3Op (PreserveCopySlot_64)
{
    u64 * dest      = slot_ptr (u64);
    u64 * src       = slot_ptr (u64);
    u64 * preserve  = slot_ptr (u64);

    * preserve = * dest;
    * dest = * src;

    nextOp ();
}


#if d_m3EnableOpTracing
//--------------------------------------------------------------------------------------------------------
d_m3Op  (DumpStack)
{
    u32 opcodeIndex         = immediate (u32);
    u32 stackHeight         = immediate (u32);
    IM3Function function    = immediate (IM3Function);

    cstr_t funcName = (function) ? m3_GetFunctionName(function) : "";

    printf (" %4d ", opcodeIndex);
    printf (" %-25s     r0: 0x%016" PRIx64 "  i:%" PRIi64 "  u:%" PRIu64 "\n", funcName, _r0, _r0, _r0);
#if d_m3HasFloat
    printf ("                                    fp0: %" PRIf64 "\n", _fp0);
#endif
    m3stack_t sp = _sp;

    for (u32 i = 0; i < stackHeight; ++i)
    {
        cstr_t kind = "";

        printf ("%p  %5s  %2d: 0x%" PRIx64 "  i:%" PRIi64 "\n", sp, kind, i, (u64) *(sp), (i64) *(sp));

        ++sp;
    }
    printf ("---------------------------------------------------------------------------------------------------------\n");

    nextOpDirect();
}
#endif


#define d_m3Select_i(TYPE, REG)                 \
d_m3Op  (Select_##TYPE##_rss)                   \
{                                               \
    i32 condition = (i32) _r0;                  \
                                                \
    TYPE operand2 = slot (TYPE);                \
    TYPE operand1 = slot (TYPE);                \
                                                \
    d_m3RegSet (REG, (condition) ? operand1 : operand2); \
                                                \
    nextOp ();                                  \
}                                               \
                                                \
d_m3Op  (Select_##TYPE##_srs)                   \
{                                               \
    i32 condition = slot (i32);                 \
                                                \
    TYPE operand2 = (TYPE) d_m3RegGet (REG);    \
    TYPE operand1 = slot (TYPE);                \
                                                \
    d_m3RegSet (REG, (condition) ? operand1 : operand2); \
                                                \
    nextOp ();                                  \
}                                               \
                                                \
d_m3Op  (Select_##TYPE##_ssr)                   \
{                                               \
    i32 condition = slot (i32);                 \
                                                \
    TYPE operand2 = slot (TYPE);                \
    TYPE operand1 = (TYPE) d_m3RegGet (REG);    \
                                                \
    d_m3RegSet (REG, (condition) ? operand1 : operand2); \
                                                \
    nextOp ();                                  \
}                                               \
                                                \
d_m3Op  (Select_##TYPE##_sss)                   \
{                                               \
    i32 condition = slot (i32);                 \
                                                \
    TYPE operand2 = slot (TYPE);                \
    TYPE operand1 = slot (TYPE);                \
                                                \
    d_m3RegSet (REG, (condition) ? operand1 : operand2); \
                                                \
    nextOp ();                                  \
}


d_m3Select_i (i32, _r0)
d_m3Select_i (i64, _r0)


#define d_m3Select_f(TYPE, REG, LABEL, SELECTOR)  \
d_m3Op  (Select_##TYPE##_##LABEL##ss)           \
{                                               \
    i32 condition = (i32) SELECTOR;             \
                                                \
    TYPE operand2 = slot (TYPE);                \
    TYPE operand1 = slot (TYPE);                \
                                                \
    d_m3RegSet (REG, (condition) ? operand1 : operand2); \
                                                \
    nextOp ();                                  \
}                                               \
                                                \
d_m3Op  (Select_##TYPE##_##LABEL##rs)           \
{                                               \
    i32 condition = (i32) SELECTOR;             \
                                                \
    TYPE operand2 = (TYPE) d_m3RegGet (REG);    \
    TYPE operand1 = slot (TYPE);                \
                                                \
    d_m3RegSet (REG, (condition) ? operand1 : operand2); \
                                                \
    nextOp ();                                  \
}                                               \
                                                \
d_m3Op  (Select_##TYPE##_##LABEL##sr)           \
{                                               \
    i32 condition = (i32) SELECTOR;             \
                                                \
    TYPE operand2 = slot (TYPE);                \
    TYPE operand1 = (TYPE) d_m3RegGet (REG);    \
                                                \
    d_m3RegSet (REG, (condition) ? operand1 : operand2); \
                                                \
    nextOp ();                                  \
}

#if d_m3HasFloat
d_m3Select_f (f32, d_m3F32Reg, r, _r0)
d_m3Select_f (f32, d_m3F32Reg, s, slot (i32))

d_m3Select_f (f64, _fp0, r, _r0)
d_m3Select_f (f64, _fp0, s, slot (i32))
#endif

d_m3Op  (Return)
{
    m3StackCheck();
    return m3Err_none;
}


d_m3Op  (BranchIf_r)
{
    i32 condition   = (i32) _r0;
    pc_t branch     = immediate (pc_t);

    if (condition)
    {
        jumpOp (branch);
    }
    else nextOp ();
}


d_m3Op  (BranchIf_s)
{
    i32 condition   = slot (i32);
    pc_t branch     = immediate (pc_t);

    if (condition)
    {
        jumpOp (branch);
    }
    else nextOp ();
}


d_m3Op  (BranchIfPrologue_r)
{
    i32 condition   = (i32) _r0;
    pc_t branch     = immediate (pc_t);

    if (condition)
    {
        // this is the "prologue" that ends with
        // a plain branch to the actual target
        nextOp ();
    }
    else jumpOp (branch); // jump over the prologue
}


d_m3Op  (BranchIfPrologue_s)
{
    i32 condition   = slot (i32);
    pc_t branch     = immediate (pc_t);

    if (condition)
    {
        nextOp ();
    }
    else jumpOp (branch);
}


d_m3Op  (ContinueLoop)
{
    m3StackCheck();

    // TODO: this is where execution can "escape" the M3 code and callback to the client / fiber switch
    // OR it can go in the Loop operation. I think it's best to do here. adding code to the loop operation
    // has the potential to increase its native-stack usage. (don't forget ContinueLoopIf too.)

    void * loopId = immediate (void *);
    return loopId;
}


d_m3Op  (ContinueLoopIf)
{
    i32 condition = (i32) _r0;
    void * loopId = immediate (void *);

    if (condition)
    {
        return loopId;
    }
    else nextOp ();
}


d_m3Op  (Const32)
{
    u32 value = * (u32 *)_pc++;
    slot (u32) = value;
    nextOp ();
}


d_m3Op  (Const64)
{
    u64 value = * (u64 *)_pc;
    _pc += (M3_SIZEOF_PTR == 4) ? 2 : 1;
    slot (u64) = value;
    nextOp ();
}

d_m3Op  (Unsupported)
{
    newTrap ("unsupported instruction executed");
}

d_m3Op  (Unreachable)
{
    m3StackCheck();
    newTrap (m3Err_trapUnreachable);
}


d_m3Op  (End)
{
    m3StackCheck();
    return m3Err_none;
}


d_m3Op  (SetGlobal_s32)
{
    u32 * global = immediate (u32 *);
    * global = slot (u32);

    nextOp ();
}


d_m3Op  (SetGlobal_s64)
{
    u64 * global = immediate (u64 *);
    * global = slot (u64);

    nextOp ();
}

#if d_m3HasFloat
d_m3Op  (SetGlobal_f32)
{
    f32 * global = immediate (f32 *);
    * global = d_m3RegGet (_fp0f32);

    nextOp ();
}


d_m3Op  (SetGlobal_f64)
{
    f64 * global = immediate (f64 *);
    * global = _fp0;

    nextOp ();
}
#endif


#if d_m3SkipMemoryBoundsCheck
#  define m3MemCheck(x) true
#else
#  define m3MemCheck(x) LIKELY(x)
#endif

// memcpy here is to support non-aligned access on some platforms.

#define d_m3Load(REG,DEST_TYPE,SRC_TYPE)                \
d_m3Op(DEST_TYPE##_Load_##SRC_TYPE##_r)                 \
{                                                       \
    d_m3TracePrepare                                    \
    u32 offset = immediate (u32);                       \
    u64 operand = (u32) _r0;                            \
    operand += offset;                                  \
                                                        \
    if (m3MemCheck(                                     \
        operand + sizeof (SRC_TYPE) <= _mem->length     \
    )) {                                                \
        u8* src8 = m3MemData(_mem) + operand;           \
        SRC_TYPE value;                                 \
        memcpy(&value, src8, sizeof(value));            \
        M3_BSWAP_##SRC_TYPE(value);                     \
        d_m3RegSet (REG, (DEST_TYPE) value);            \
        d_m3TraceLoad(DEST_TYPE, operand, REG);         \
        nextOp ();                                      \
    } else d_outOfBounds;                               \
}                                                       \
d_m3Op(DEST_TYPE##_Load_##SRC_TYPE##_s)                 \
{                                                       \
    d_m3TracePrepare                                    \
    u64 operand = slot (u32);                           \
    u32 offset = immediate (u32);                       \
    operand += offset;                                  \
                                                        \
    if (m3MemCheck(                                     \
        operand + sizeof (SRC_TYPE) <= _mem->length     \
    )) {                                                \
        u8* src8 = m3MemData(_mem) + operand;           \
        SRC_TYPE value;                                 \
        memcpy(&value, src8, sizeof(value));            \
        M3_BSWAP_##SRC_TYPE(value);                     \
        d_m3RegSet (REG, (DEST_TYPE) value);            \
        d_m3TraceLoad(DEST_TYPE, operand, REG);         \
        nextOp ();                                      \
    } else d_outOfBounds;                               \
}

//  printf ("get: %d -> %d\n", operand + offset, (i64) REG);


#define d_m3Load_i(DEST_TYPE, SRC_TYPE) d_m3Load(_r0, DEST_TYPE, SRC_TYPE)
#define d_m3Load_f(DEST_TYPE, SRC_TYPE) d_m3Load(d_m3FpReg_##DEST_TYPE, DEST_TYPE, SRC_TYPE)

#if d_m3HasFloat
d_m3Load_f (f32, f32);
d_m3Load_f (f64, f64);
#endif

d_m3Load_i (i32, i8);
d_m3Load_i (i32, u8);
d_m3Load_i (i32, i16);
d_m3Load_i (i32, u16);
d_m3Load_i (i32, i32);

d_m3Load_i (i64, i8);
d_m3Load_i (i64, u8);
d_m3Load_i (i64, i16);
d_m3Load_i (i64, u16);
d_m3Load_i (i64, i32);
d_m3Load_i (i64, u32);
d_m3Load_i (i64, i64);


// Integer loads writing their result to a slot (patch 0063): _r_s (the address in r0), _s_s (in a
// slot), then the offset, then the result's slot.  For a `local.set` of a load and for a load
// while r0 holds another value (instead of spilling it), as the operations of patch 0061.
#define d_m3LoadToSlot(DEST_TYPE, SRC_TYPE)             \
d_m3Op(DEST_TYPE##_Load_##SRC_TYPE##_r_s)               \
{                                                       \
    u32 offset = immediate (u32);                       \
    u64 operand = (u32) _r0;                            \
    operand += offset;                                  \
                                                        \
    if (m3MemCheck(                                     \
        operand + sizeof (SRC_TYPE) <= _mem->length     \
    )) {                                                \
        u8* src8 = m3MemData(_mem) + operand;           \
        SRC_TYPE value;                                 \
        memcpy(&value, src8, sizeof(value));            \
        M3_BSWAP_##SRC_TYPE(value);                     \
        slot (DEST_TYPE) = (DEST_TYPE) value;           \
        nextOp ();                                      \
    } else d_outOfBounds;                               \
}                                                       \
d_m3Op(DEST_TYPE##_Load_##SRC_TYPE##_s_s)               \
{                                                       \
    u64 operand = slot (u32);                           \
    u32 offset = immediate (u32);                       \
    operand += offset;                                  \
                                                        \
    if (m3MemCheck(                                     \
        operand + sizeof (SRC_TYPE) <= _mem->length     \
    )) {                                                \
        u8* src8 = m3MemData(_mem) + operand;           \
        SRC_TYPE value;                                 \
        memcpy(&value, src8, sizeof(value));            \
        M3_BSWAP_##SRC_TYPE(value);                     \
        slot (DEST_TYPE) = (DEST_TYPE) value;           \
        nextOp ();                                      \
    } else d_outOfBounds;                               \
}

// X (OPCODE, DEST_TYPE, SRC_TYPE)
#define d_m3IntLoadOps(X) \
    X (0x28, i32, i32)  X (0x29, i64, i64) \
    X (0x2c, i32, i8)   X (0x2d, i32, u8)   X (0x2e, i32, i16)  X (0x2f, i32, u16) \
    X (0x30, i64, i8)   X (0x31, i64, u8)   X (0x32, i64, i16)  X (0x33, i64, u16) \
    X (0x34, i64, i32)  X (0x35, i64, u32)

#define d_m3LoadToSlotDefs(OPCODE, DEST_TYPE, SRC_TYPE)  d_m3LoadToSlot (DEST_TYPE, SRC_TYPE)
d_m3IntLoadOps (d_m3LoadToSlotDefs)

#define d_m3Store(REG, SRC_TYPE, DEST_TYPE)             \
d_m3Op  (SRC_TYPE##_Store_##DEST_TYPE##_rs)             \
{                                                       \
    d_m3TracePrepare                                    \
    u64 operand = slot (u32);                           \
    u32 offset = immediate (u32);                       \
    operand += offset;                                  \
                                                        \
    if (m3MemCheck(                                     \
        operand + sizeof (DEST_TYPE) <= _mem->length    \
    )) {                                                \
        d_m3TraceStore(SRC_TYPE, operand, REG);         \
        u8* mem8 = m3MemData(_mem) + operand;           \
        DEST_TYPE val = (DEST_TYPE) d_m3RegGet (REG);   \
        M3_BSWAP_##DEST_TYPE(val);                      \
        memcpy(mem8, &val, sizeof(val));                \
        nextOp ();                                      \
    } else d_outOfBounds;                               \
}                                                       \
d_m3Op  (SRC_TYPE##_Store_##DEST_TYPE##_sr)             \
{                                                       \
    d_m3TracePrepare                                    \
    const SRC_TYPE value = slot (SRC_TYPE);             \
    u64 operand = (u32) _r0;                            \
    u32 offset = immediate (u32);                       \
    operand += offset;                                  \
                                                        \
    if (m3MemCheck(                                     \
        operand + sizeof (DEST_TYPE) <= _mem->length    \
    )) {                                                \
        d_m3TraceStore(SRC_TYPE, operand, value);       \
        u8* mem8 = m3MemData(_mem) + operand;           \
        DEST_TYPE val = (DEST_TYPE) value;              \
        M3_BSWAP_##DEST_TYPE(val);                      \
        memcpy(mem8, &val, sizeof(val));                \
        nextOp ();                                      \
    } else d_outOfBounds;                               \
}                                                       \
d_m3Op  (SRC_TYPE##_Store_##DEST_TYPE##_ss)             \
{                                                       \
    d_m3TracePrepare                                    \
    const SRC_TYPE value = slot (SRC_TYPE);             \
    u64 operand = slot (u32);                           \
    u32 offset = immediate (u32);                       \
    operand += offset;                                  \
                                                        \
    if (m3MemCheck(                                     \
        operand + sizeof (DEST_TYPE) <= _mem->length    \
    )) {                                                \
        d_m3TraceStore(SRC_TYPE, operand, value);       \
        u8* mem8 = m3MemData(_mem) + operand;           \
        DEST_TYPE val = (DEST_TYPE) value;              \
        M3_BSWAP_##DEST_TYPE(val);                      \
        memcpy(mem8, &val, sizeof(val));                \
        nextOp ();                                      \
    } else d_outOfBounds;                               \
}

// both operands can be in regs when storing a float
#define d_m3StoreFp(REG, TYPE)                          \
d_m3Op  (TYPE##_Store_##TYPE##_rr)                      \
{                                                       \
    d_m3TracePrepare                                    \
    u64 operand = (u32) _r0;                            \
    u32 offset = immediate (u32);                       \
    operand += offset;                                  \
                                                        \
    if (m3MemCheck(                                     \
        operand + sizeof (TYPE) <= _mem->length         \
    )) {                                                \
        d_m3TraceStore(TYPE, operand, REG);             \
        u8* mem8 = m3MemData(_mem) + operand;           \
        TYPE val = (TYPE) d_m3RegGet (REG);             \
        M3_BSWAP_##TYPE(val);                           \
        memcpy(mem8, &val, sizeof(val));                \
        nextOp ();                                      \
    } else d_outOfBounds;                               \
}


#define d_m3Store_i(SRC_TYPE, DEST_TYPE) d_m3Store(_r0, SRC_TYPE, DEST_TYPE)
#define d_m3Store_f(SRC_TYPE, DEST_TYPE) d_m3Store(d_m3FpReg_##SRC_TYPE, SRC_TYPE, DEST_TYPE) d_m3StoreFp (d_m3FpReg_##SRC_TYPE, SRC_TYPE);

#if d_m3HasFloat
d_m3Store_f (f32, f32)
d_m3Store_f (f64, f64)
#endif

d_m3Store_i (i32, u8)
d_m3Store_i (i32, i16)
d_m3Store_i (i32, i32)

d_m3Store_i (i64, u8)
d_m3Store_i (i64, i16)
d_m3Store_i (i64, i32)
d_m3Store_i (i64, i64)

#undef m3MemCheck


// fixed-width SIMD, v128 (patch 0070)
#include "m3_exec_simd.h"


//---------------------------------------------------------------------------------------------------------------------
// debug/profiling
//---------------------------------------------------------------------------------------------------------------------
#if d_m3EnableOpTracing
d_m3RetSig  debugOp  (d_m3OpSig, cstr_t i_opcode)
{
    char name [100];
    strcpy (name, strstr (i_opcode, "op_") + 3);
    char * bracket = strstr (name, "(");
    if (bracket) {
        *bracket  = 0;
    }

    puts (name);
    nextOpDirect();
}
# endif

# if d_m3EnableOpProfiling

typedef struct M3ProfilerSlot
{
    cstr_t      opName;
    u64         hitCount;
}
M3ProfilerSlot;

void  ProfileHit  (cstr_t i_operationName);

d_m3RetSig  profileOp  (d_m3OpSig, cstr_t i_operationName)
{
    ProfileHit (i_operationName);

    nextOpDirect();
}
# endif

d_m3EndExternC

#endif // m3_exec_h
