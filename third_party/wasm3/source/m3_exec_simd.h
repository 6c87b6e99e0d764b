//
//  m3_exec_simd.h
//
//  extism_native patch 0070: the operations of WebAssembly 2.0's fixed-width SIMD (v128).
//  Included by m3_exec.h.
//
//  A v128 lives only in slots (never in r0 or fp0): 16 bytes in wasm order (m3_simd_lanes.h),
//  read and written with memcpy, so its slots need no particular alignment.  Every operation
//  reads all its operands before it writes its result, so the result may replace an operand
//  (a local.set of the result writes the local directly, see Compile_SetLocal).
//
//  Code stream of an operation: [op] [immediates] [operand slots, the topmost first] [result
//  slot].  A scalar operand (an address, a shift count, a splatted or replaced value) has an
//  _r variant, where it is in r0 (fp0 for floats) and takes no slot word, and an _s variant.
//
//  Each operation is written once for lane arrays in plain C (any compiler, any byte order);
//  where GCC/Clang vector extensions map an operation directly and the host is little-endian,
//  d_m3SimdVectorExt uses them instead (define d_m3SimdScalar=1 to build the plain C path, as
//  the test configuration EXN_WASM3_SIMD_SCALAR does).
//

#ifndef m3_exec_simd_h
#define m3_exec_simd_h

#include "m3_simd_lanes.h"

#if !defined(d_m3SimdScalar)
#   define d_m3SimdScalar           0
#endif

#if !d_m3SimdScalar && (defined(__GNUC__) || defined(__clang__)) && M3V_LITTLE_ENDIAN
#   define d_m3SimdVectorExt        1
#else
#   define d_m3SimdVectorExt        0
#endif

#if d_m3SimdVectorExt
    typedef uint8_t     m3v_u8x16   __attribute__ ((vector_size (16)));
    typedef int8_t      m3v_i8x16   __attribute__ ((vector_size (16)));
    typedef uint16_t    m3v_u16x8   __attribute__ ((vector_size (16)));
    typedef int16_t     m3v_i16x8   __attribute__ ((vector_size (16)));
    typedef uint32_t    m3v_u32x4   __attribute__ ((vector_size (16)));
    typedef int32_t     m3v_i32x4   __attribute__ ((vector_size (16)));
    typedef uint64_t    m3v_u64x2   __attribute__ ((vector_size (16)));
    typedef int64_t     m3v_i64x2   __attribute__ ((vector_size (16)));
    typedef float       m3v_f32x4   __attribute__ ((vector_size (16)));
    typedef double      m3v_f64x2   __attribute__ ((vector_size (16)));
#   define M3V_PICK(VECTOR, SCALAR)     VECTOR
#else
#   define M3V_PICK(VECTOR, SCALAR)     SCALAR
#endif

#define d_m3vSlot                   ((void *) (_sp + immediate (i32)))
#define d_m3vRead(V)                memcpy (& (V), d_m3vSlot, 16)
#define d_m3vWrite(V)               memcpy (d_m3vSlot, & (V), 16)

#define d_m3vMemCheck(EA, N)        LIKELY ((EA) + (N) <= _mem->length)
#define d_m3vOutOfBounds            newTrap (m3Err_trapOutOfBoundsMemoryAccess)

// lane-wise on W-bit lanes, plain C: x (and y, z) are the lanes of a (b, c) as uintW_t
#define M3V_MAP1(W, EXPR)                                                                   \
    { uint##W##_t la_ [128/W], lr_ [128/W];  m3v_get##W (& a, la_);                         \
      for (int i_ = 0; i_ < 128/W; ++i_) { uint##W##_t x = la_ [i_];                         \
          lr_ [i_] = (uint##W##_t) (EXPR); }                                                \
      m3v_set##W (& r, lr_); }
#define M3V_MAP2(W, EXPR)                                                                   \
    { uint##W##_t la_ [128/W], lb_ [128/W], lr_ [128/W];                                    \
      m3v_get##W (& a, la_);  m3v_get##W (& b, lb_);                                        \
      for (int i_ = 0; i_ < 128/W; ++i_) { uint##W##_t x = la_ [i_], y = lb_ [i_];           \
          lr_ [i_] = (uint##W##_t) (EXPR); }                                                \
      m3v_set##W (& r, lr_); }
#define M3V_MASK(W, COND)           ((COND) ? (uint##W##_t) ~(uint##W##_t) 0 : (uint##W##_t) 0)

// the same with GCC/Clang vectors of type VT: x, y are a, b
#define M3V_VEC1(VT, EXPR)                                                                  \
    { VT x, z_;  memcpy (& x, & a, 16);  z_ = (VT) (EXPR);  memcpy (& r, & z_, 16); }
#define M3V_VEC2(VT, EXPR)                                                                  \
    { VT x, y, z_;  memcpy (& x, & a, 16);  memcpy (& y, & b, 16);                          \
      z_ = (VT) (EXPR);  memcpy (& r, & z_, 16); }

#define d_m3vUnary(NAME, ...)                                                              \
d_m3Op (v128_##NAME)                                                                        \
{                                                                                           \
    m3v128 a, r;  d_m3vRead (a);                                                            \
    __VA_ARGS__                                                                             \
    d_m3vWrite (r);                                                                         \
    nextOp ();                                                                              \
}

#define d_m3vBinary(NAME, ...)                                                             \
d_m3Op (v128_##NAME)                                                                        \
{                                                                                           \
    m3v128 a, b, r;  d_m3vRead (b);  d_m3vRead (a);                                         \
    __VA_ARGS__                                                                             \
    d_m3vWrite (r);                                                                         \
    nextOp ();                                                                              \
}


//-- moves, constants, select, globals -----------------------------------------------------------------

d_m3Op (CopySlot_128)
{
    void * dst = d_m3vSlot;
    void * src = d_m3vSlot;
    memmove (dst, src, 16);
    nextOp ();
}

d_m3Op (PreserveCopySlot_128)
{
    void * dst = d_m3vSlot;
    void * src = d_m3vSlot;
    void * preserve = d_m3vSlot;
    memmove (preserve, dst, 16);
    memmove (dst, src, 16);
    nextOp ();
}

// [op] [16 bytes: 16 / sizeof (void *) words] [result]
#define d_m3vImmWords               (16 / M3_SIZEOF_PTR)

d_m3Op (v128_const)
{
    m3v128 r;  memcpy (& r, _pc, 16);  _pc += d_m3vImmWords;
    d_m3vWrite (r);
    nextOp ();
}

d_m3Op (GetGlobal_s128)
{
    const void * global = immediate (void *);
    memcpy (d_m3vSlot, global, 16);
    nextOp ();
}

d_m3Op (SetGlobal_s128)
{
    void * global = immediate (void *);
    memcpy (global, d_m3vSlot, 16);
    nextOp ();
}

// select: [condition, _s only] [b] [a] [result]: a when the condition is nonzero
d_m3Op (Select_v128_r)
{
    i32 condition = (i32) _r0;
    m3v128 a, b;  d_m3vRead (b);  d_m3vRead (a);
    if (condition) d_m3vWrite (a); else d_m3vWrite (b);
    nextOp ();
}

d_m3Op (Select_v128_s)
{
    i32 condition = slot (i32);
    m3v128 a, b;  d_m3vRead (b);  d_m3vRead (a);
    if (condition) d_m3vWrite (a); else d_m3vWrite (b);
    nextOp ();
}


//-- memory ---------------------------------------------------------------------------------------------
// loads:        _r [op] [offset] [result]                     _s [op] [address] [offset] [result]
// lane loads:   _r [op] [offset] [lane] [vector] [result]     _s ... [vector] [address] [result]
// stores:       _r [op] [offset] [vector]                     _s [op] [offset] [vector] [address]
// lane stores:  _r [op] [offset] [lane] [vector]              _s ... [vector] [address]
// BODY reads N bytes at p (and the lane, the vector a) and sets r (or writes memory).

#define d_m3vLoadBody(N, BODY)                                                              \
    if (d_m3vMemCheck (ea, N)) {                                                            \
        const u8 * p = m3MemData (_mem) + ea;                                               \
        m3v128 r;                                                                           \
        BODY                                                                                \
        d_m3vWrite (r);                                                                     \
        nextOp ();                                                                          \
    } else d_m3vOutOfBounds;

#define d_m3vLoad(NAME, N, BODY)                                                            \
d_m3Op (v128_##NAME##_r)                                                                    \
{                                                                                           \
    u64 ea = (u32) _r0;  ea += immediate (u32);                                             \
    d_m3vLoadBody (N, BODY)                                                                 \
}                                                                                           \
d_m3Op (v128_##NAME##_s)                                                                    \
{                                                                                           \
    u64 ea = slot (u32);  ea += immediate (u32);                                            \
    d_m3vLoadBody (N, BODY)                                                                 \
}

#define d_m3vLoadLane(NAME, N, BODY)                                                        \
d_m3Op (v128_##NAME##_r)                                                                    \
{                                                                                           \
    u64 ea = (u32) _r0;  ea += immediate (u32);                                             \
    u32 lane = immediate (u32);                                                             \
    m3v128 a;  d_m3vRead (a);                                                               \
    d_m3vLoadBody (N, r = a; BODY)                                                          \
}                                                                                           \
d_m3Op (v128_##NAME##_s)                                                                    \
{                                                                                           \
    u32 offset = immediate (u32);                                                           \
    u32 lane = immediate (u32);                                                             \
    m3v128 a;  d_m3vRead (a);                                                               \
    u64 ea = slot (u32);  ea += offset;                                                     \
    d_m3vLoadBody (N, r = a; BODY)                                                          \
}

#define d_m3vStoreBody(N, BODY)                                                             \
    if (d_m3vMemCheck (ea, N)) {                                                            \
        u8 * p = m3MemData (_mem) + ea;                                                     \
        BODY                                                                                \
        nextOp ();                                                                          \
    } else d_m3vOutOfBounds;

#define d_m3vStore(NAME, N, LANE, BODY)                                                     \
d_m3Op (v128_##NAME##_r)                                                                    \
{                                                                                           \
    u64 ea = (u32) _r0;  ea += immediate (u32);                                             \
    u32 lane = LANE;  (void) lane;                                                          \
    m3v128 a;  d_m3vRead (a);                                                               \
    d_m3vStoreBody (N, BODY)                                                                \
}                                                                                           \
d_m3Op (v128_##NAME##_s)                                                                    \
{                                                                                           \
    u32 offset = immediate (u32);                                                           \
    u32 lane = LANE;  (void) lane;                                                          \
    m3v128 a;  d_m3vRead (a);                                                               \
    u64 ea = slot (u32);  ea += offset;                                                     \
    d_m3vStoreBody (N, BODY)                                                                \
}

d_m3vLoad (load,            16,     memcpy (& r, p, 16);)

#define d_m3vExtendLoad(NAME, W, SIGNED_T, UNSIGNED_T, READ, TO)                            \
d_m3vLoad (NAME,            8,      { uint##W##_t l_ [128/W];                               \
    for (int i = 0; i < 64/TO; ++i) l_ [i] = (uint##W##_t) (SIGNED_T) (UNSIGNED_T) READ (p + i * (TO/8)); \
    m3v_set##W (& r, l_); })

#define d_m3vRead8(P)               (* (P))
d_m3vExtendLoad (load8x8_s,   16, int8_t,   uint8_t,  d_m3vRead8,     8)
d_m3vExtendLoad (load8x8_u,   16, uint8_t,  uint8_t,  d_m3vRead8,     8)
d_m3vExtendLoad (load16x4_s,  32, int16_t,  uint16_t, m3v_readLE16,   16)
d_m3vExtendLoad (load16x4_u,  32, uint16_t, uint16_t, m3v_readLE16,   16)
d_m3vExtendLoad (load32x2_s,  64, int32_t,  uint32_t, m3v_readLE32,   32)
d_m3vExtendLoad (load32x2_u,  64, uint32_t, uint32_t, m3v_readLE32,   32)

d_m3vLoad (load8_splat,     1,      memset (& r, * p, 16);)
d_m3vLoad (load16_splat,    2,      for (int i = 0; i < 16; i += 2) memcpy (r.b + i, p, 2);)
d_m3vLoad (load32_splat,    4,      for (int i = 0; i < 16; i += 4) memcpy (r.b + i, p, 4);)
d_m3vLoad (load64_splat,    8,      memcpy (r.b, p, 8);  memcpy (r.b + 8, p, 8);)
d_m3vLoad (load32_zero,     4,      memset (& r, 0, 16);  memcpy (r.b, p, 4);)
d_m3vLoad (load64_zero,     8,      memset (& r, 0, 16);  memcpy (r.b, p, 8);)

// the lane index was checked by the compiler; masked anyway
d_m3vLoadLane (load8_lane,  1,      memcpy (r.b + (lane & 15), p, 1);)
d_m3vLoadLane (load16_lane, 2,      memcpy (r.b + 2 * (lane & 7), p, 2);)
d_m3vLoadLane (load32_lane, 4,      memcpy (r.b + 4 * (lane & 3), p, 4);)
d_m3vLoadLane (load64_lane, 8,      memcpy (r.b + 8 * (lane & 1), p, 8);)

d_m3vStore (store,          16, 0,                  memcpy (p, & a, 16);)
d_m3vStore (store8_lane,    1,  immediate (u32),    memcpy (p, a.b + (lane & 15), 1);)
d_m3vStore (store16_lane,   2,  immediate (u32),    memcpy (p, a.b + 2 * (lane & 7), 2);)
d_m3vStore (store32_lane,   4,  immediate (u32),    memcpy (p, a.b + 4 * (lane & 3), 4);)
d_m3vStore (store64_lane,   8,  immediate (u32),    memcpy (p, a.b + 8 * (lane & 1), 8);)


//-- splat, lanes, shuffles ------------------------------------------------------------------------------
// scalars from a register: r0 for integers; fp0 for floats, an f32 kept as its bits (patch 0016)

static inline u32  m3v_RegF32Bits  (f64 i_reg)  { union { f64 d; u32 u; } u; u.d = i_reg; return u.u; }
static inline u64  m3v_RegF64Bits  (f64 i_reg)  { u64 u; memcpy (& u, & i_reg, 8); return u; }
static inline f64  m3v_F32BitsReg  (u32 i_bits) { union { f64 d; u64 z; u32 u; } u; u.z = 0; u.u = i_bits; return u.d; }
static inline f64  m3v_F64BitsReg  (u64 i_bits) { f64 d; memcpy (& d, & i_bits, 8); return d; }

#define d_m3vReg_i32                ((u32) _r0)
#define d_m3vReg_i64                ((u64) _r0)
#define d_m3vReg_f32                m3v_RegF32Bits (_fp0)
#define d_m3vReg_f64                m3v_RegF64Bits (_fp0)
#define d_m3vSlot_i32               slot (u32)
#define d_m3vSlot_i64               slot (u64)
#define d_m3vSlot_f32               slot (u32)
#define d_m3vSlot_f64               slot (u64)

#define d_m3vSplatBody(W, X)                                                                \
    { uint##W##_t l_ [128/W];  for (int i = 0; i < 128/W; ++i) l_ [i] = (uint##W##_t) (X);  \
      m3v128 r;  m3v_set##W (& r, l_);  d_m3vWrite (r); }

#define d_m3vSplat(NAME, W, T)                                                              \
d_m3Op (v128_##NAME##_r)    { u64 x = d_m3vReg_##T;   d_m3vSplatBody (W, x)  nextOp (); }   \
d_m3Op (v128_##NAME##_s)    { u64 x = d_m3vSlot_##T;  d_m3vSplatBody (W, x)  nextOp (); }

d_m3vSplat (i8x16_splat,    8,  i32)
d_m3vSplat (i16x8_splat,    16, i32)
d_m3vSplat (i32x4_splat,    32, i32)
d_m3vSplat (i64x2_splat,    64, i64)
d_m3vSplat (f32x4_splat,    32, f32)
d_m3vSplat (f64x2_splat,    64, f64)

// extract: [op] [lane] [vector] [result]
#define d_m3vExtract(NAME, RESULT_T, EXPR)                                                  \
d_m3Op (v128_##NAME)                                                                        \
{                                                                                           \
    u32 lane = immediate (u32);                                                             \
    m3v128 a;  d_m3vRead (a);                                                               \
    slot (RESULT_T) = (RESULT_T) (EXPR);                                                    \
    nextOp ();                                                                              \
}

d_m3vExtract (i8x16_extract_lane_s,     u32,    (i32) (i8) m3v_lane8 (& a, lane & 15))
d_m3vExtract (i8x16_extract_lane_u,     u32,    m3v_lane8 (& a, lane & 15))
d_m3vExtract (i16x8_extract_lane_s,     u32,    (i32) (i16) m3v_lane16 (& a, lane & 7))
d_m3vExtract (i16x8_extract_lane_u,     u32,    m3v_lane16 (& a, lane & 7))
d_m3vExtract (i32x4_extract_lane,       u32,    m3v_lane32 (& a, lane & 3))
d_m3vExtract (i64x2_extract_lane,       u64,    m3v_lane64 (& a, lane & 1))
d_m3vExtract (f32x4_extract_lane,       u32,    m3v_lane32 (& a, lane & 3))
d_m3vExtract (f64x2_extract_lane,       u64,    m3v_lane64 (& a, lane & 1))

// replace: [op] [lane] [scalar, _s only] [vector] [result]
#define d_m3vReplace(NAME, T, SET)                                                          \
d_m3Op (v128_##NAME##_r)                                                                    \
{                                                                                           \
    u32 lane = immediate (u32);                                                             \
    u64 x = d_m3vReg_##T;                                                                   \
    m3v128 r;  d_m3vRead (r);  SET;  d_m3vWrite (r);                                        \
    nextOp ();                                                                              \
}                                                                                           \
d_m3Op (v128_##NAME##_s)                                                                    \
{                                                                                           \
    u32 lane = immediate (u32);                                                             \
    u64 x = d_m3vSlot_##T;                                                                  \
    m3v128 r;  d_m3vRead (r);  SET;  d_m3vWrite (r);                                        \
    nextOp ();                                                                              \
}

d_m3vReplace (i8x16_replace_lane,   i32,    m3v_setLane8  (& r, lane & 15, (u8) x))
d_m3vReplace (i16x8_replace_lane,   i32,    m3v_setLane16 (& r, lane & 7, (u16) x))
d_m3vReplace (i32x4_replace_lane,   i32,    m3v_setLane32 (& r, lane & 3, (u32) x))
d_m3vReplace (i64x2_replace_lane,   i64,    m3v_setLane64 (& r, lane & 1, (u64) x))
d_m3vReplace (f32x4_replace_lane,   f32,    m3v_setLane32 (& r, lane & 3, (u32) x))
d_m3vReplace (f64x2_replace_lane,   f64,    m3v_setLane64 (& r, lane & 1, (u64) x))

// shuffle: [op] [16 lane indices, < 32] [b] [a] [result]
d_m3Op (v128_i8x16_shuffle)
{
    u8 index [16];  memcpy (index, _pc, 16);  _pc += d_m3vImmWords;
    m3v128 ab [2], r;  d_m3vRead (ab [1]);  d_m3vRead (ab [0]);
    for (int i = 0; i < 16; ++i)
        r.b [i] = ab [(index [i] >> 4) & 1].b [index [i] & 15];
    d_m3vWrite (r);
    nextOp ();
}

d_m3vBinary (i8x16_swizzle,
    for (int i = 0; i < 16; ++i) r.b [i] = b.b [i] < 16 ? a.b [b.b [i]] : 0;)


//-- bitwise -----------------------------------------------------------------------------------------------

d_m3vUnary  (not,       M3V_PICK (M3V_VEC1 (m3v_u64x2, ~x),      M3V_MAP1 (64, ~x)))
d_m3vBinary (and,       M3V_PICK (M3V_VEC2 (m3v_u64x2, x & y),   M3V_MAP2 (64, x & y)))
d_m3vBinary (andnot,    M3V_PICK (M3V_VEC2 (m3v_u64x2, x & ~y),  M3V_MAP2 (64, x & ~y)))
d_m3vBinary (or,        M3V_PICK (M3V_VEC2 (m3v_u64x2, x | y),   M3V_MAP2 (64, x | y)))
d_m3vBinary (xor,       M3V_PICK (M3V_VEC2 (m3v_u64x2, x ^ y),   M3V_MAP2 (64, x ^ y)))

// bitselect: [c] [b] [a] [result]: (a & c) | (b & ~c)
d_m3Op (v128_bitselect)
{
    m3v128 a, b, c, r;  d_m3vRead (c);  d_m3vRead (b);  d_m3vRead (a);
    u64 la [2], lb [2], lc [2], lr [2];
    memcpy (la, & a, 16);  memcpy (lb, & b, 16);  memcpy (lc, & c, 16);     // bitwise: any byte order
    for (int i = 0; i < 2; ++i) lr [i] = (la [i] & lc [i]) | (lb [i] & ~lc [i]);
    memcpy (& r, lr, 16);
    d_m3vWrite (r);
    nextOp ();
}

// tests: [op] [vector] [result i32]
#define d_m3vTest(NAME, EXPR)                                                               \
d_m3Op (v128_##NAME)                                                                        \
{                                                                                           \
    m3v128 a;  d_m3vRead (a);                                                               \
    u32 result_;  EXPR;                                                                     \
    slot (u32) = result_;                                                                   \
    nextOp ();                                                                              \
}

d_m3vTest (any_true,        { u64 l [2];  memcpy (l, & a, 16);  result_ = (l [0] | l [1]) != 0; })

#define d_m3vAllTrue(W)                                                                     \
    { uint##W##_t l [128/W];  m3v_get##W (& a, l);  result_ = 1;                            \
      for (int i = 0; i < 128/W; ++i) result_ &= l [i] != 0; }
#define d_m3vBitmask(W)                                                                     \
    { uint##W##_t l [128/W];  m3v_get##W (& a, l);  result_ = 0;                            \
      for (int i = 0; i < 128/W; ++i) result_ |= (u32) (l [i] >> (W - 1)) << i; }

d_m3vTest (i8x16_all_true,  d_m3vAllTrue (8))
d_m3vTest (i16x8_all_true,  d_m3vAllTrue (16))
d_m3vTest (i32x4_all_true,  d_m3vAllTrue (32))
d_m3vTest (i64x2_all_true,  d_m3vAllTrue (64))
d_m3vTest (i8x16_bitmask,   d_m3vBitmask (8))
d_m3vTest (i16x8_bitmask,   d_m3vBitmask (16))
d_m3vTest (i32x4_bitmask,   d_m3vBitmask (32))
d_m3vTest (i64x2_bitmask,   d_m3vBitmask (64))


//-- comparisons ---------------------------------------------------------------------------------------

#define d_m3vCompare(NAME, W, ST, VU, VS)                                               \
d_m3vBinary (NAME##_eq,     M3V_PICK (M3V_VEC2 (VU, x == y), M3V_MAP2 (W, M3V_MASK (W, x == y))))          \
d_m3vBinary (NAME##_ne,     M3V_PICK (M3V_VEC2 (VU, x != y), M3V_MAP2 (W, M3V_MASK (W, x != y))))          \
d_m3vBinary (NAME##_lt_s,   M3V_PICK (M3V_VEC2 (VS, x < y),  M3V_MAP2 (W, M3V_MASK (W, (ST) x < (ST) y)))) \
d_m3vBinary (NAME##_gt_s,   M3V_PICK (M3V_VEC2 (VS, x > y),  M3V_MAP2 (W, M3V_MASK (W, (ST) x > (ST) y)))) \
d_m3vBinary (NAME##_le_s,   M3V_PICK (M3V_VEC2 (VS, x <= y), M3V_MAP2 (W, M3V_MASK (W, (ST) x <= (ST) y))))\
d_m3vBinary (NAME##_ge_s,   M3V_PICK (M3V_VEC2 (VS, x >= y), M3V_MAP2 (W, M3V_MASK (W, (ST) x >= (ST) y))))\
d_m3vBinary (NAME##_lt_u,   M3V_PICK (M3V_VEC2 (VU, x < y),  M3V_MAP2 (W, M3V_MASK (W, x < y))))           \
d_m3vBinary (NAME##_gt_u,   M3V_PICK (M3V_VEC2 (VU, x > y),  M3V_MAP2 (W, M3V_MASK (W, x > y))))           \
d_m3vBinary (NAME##_le_u,   M3V_PICK (M3V_VEC2 (VU, x <= y), M3V_MAP2 (W, M3V_MASK (W, x <= y))))          \
d_m3vBinary (NAME##_ge_u,   M3V_PICK (M3V_VEC2 (VU, x >= y), M3V_MAP2 (W, M3V_MASK (W, x >= y))))

d_m3vCompare (i8x16,    8,  i8,  m3v_u8x16,  m3v_i8x16)
d_m3vCompare (i16x8,    16, i16, m3v_u16x8,  m3v_i16x8)
d_m3vCompare (i32x4,    32, i32, m3v_u32x4,  m3v_i32x4)
d_m3vCompare (i64x2,    64, i64, m3v_u64x2,  m3v_i64x2)      // i64x2 has no _u compares: unused

#define d_m3vFCompare(NAME, W, TOF, VF)                                                     \
d_m3vBinary (NAME##_eq,     M3V_PICK (M3V_VEC2 (VF, x == y), M3V_MAP2 (W, M3V_MASK (W, TOF (x) == TOF (y))))) \
d_m3vBinary (NAME##_ne,     M3V_PICK (M3V_VEC2 (VF, x != y), M3V_MAP2 (W, M3V_MASK (W, TOF (x) != TOF (y))))) \
d_m3vBinary (NAME##_lt,     M3V_PICK (M3V_VEC2 (VF, x < y),  M3V_MAP2 (W, M3V_MASK (W, TOF (x) < TOF (y)))))  \
d_m3vBinary (NAME##_gt,     M3V_PICK (M3V_VEC2 (VF, x > y),  M3V_MAP2 (W, M3V_MASK (W, TOF (x) > TOF (y)))))  \
d_m3vBinary (NAME##_le,     M3V_PICK (M3V_VEC2 (VF, x <= y), M3V_MAP2 (W, M3V_MASK (W, TOF (x) <= TOF (y))))) \
d_m3vBinary (NAME##_ge,     M3V_PICK (M3V_VEC2 (VF, x >= y), M3V_MAP2 (W, M3V_MASK (W, TOF (x) >= TOF (y)))))

d_m3vFCompare (f32x4,   32, m3v_f32, m3v_f32x4)
d_m3vFCompare (f64x2,   64, m3v_f64, m3v_f64x2)


//-- integer arithmetic ------------------------------------------------------------------------------

#define d_m3vIntArith(NAME, W, VU)                                                          \
d_m3vBinary (NAME##_add,    M3V_PICK (M3V_VEC2 (VU, x + y),  M3V_MAP2 (W, x + y)))          \
d_m3vBinary (NAME##_sub,    M3V_PICK (M3V_VEC2 (VU, x - y),  M3V_MAP2 (W, x - y)))          \
d_m3vUnary  (NAME##_neg,    M3V_PICK (M3V_VEC1 (VU, -x),     M3V_MAP1 (W, 0u - x)))

d_m3vIntArith (i8x16,   8,  m3v_u8x16)
d_m3vIntArith (i16x8,   16, m3v_u16x8)
d_m3vIntArith (i32x4,   32, m3v_u32x4)
d_m3vIntArith (i64x2,   64, m3v_u64x2)

d_m3vBinary (i16x8_mul,     M3V_PICK (M3V_VEC2 (m3v_u16x8, x * y),  M3V_MAP2 (16, (u32) x * y)))
d_m3vBinary (i32x4_mul,     M3V_PICK (M3V_VEC2 (m3v_u32x4, x * y),  M3V_MAP2 (32, x * y)))
d_m3vBinary (i64x2_mul,     M3V_PICK (M3V_VEC2 (m3v_u64x2, x * y),  M3V_MAP2 (64, x * y)))

// abs wraps: abs (INT_MIN) = INT_MIN
#define d_m3vAbs(W, ST)             M3V_MAP1 (W, (ST) x < 0 ? 0u - x : x)
d_m3vUnary (i8x16_abs,      d_m3vAbs (8,  i8))
d_m3vUnary (i16x8_abs,      d_m3vAbs (16, i16))
d_m3vUnary (i32x4_abs,      d_m3vAbs (32, i32))
d_m3vUnary (i64x2_abs,      d_m3vAbs (64, i64))

#define d_m3vMinMax(NAME, W, ST, VU, VS)                                                    \
d_m3vBinary (NAME##_min_s,  M3V_PICK (M3V_VEC2 (VS, (x & (VS) (x < y)) | (y & ~(VS) (x < y))), M3V_MAP2 (W, (ST) x < (ST) y ? x : y))) \
d_m3vBinary (NAME##_min_u,  M3V_PICK (M3V_VEC2 (VU, (x & (VU) (x < y)) | (y & ~(VU) (x < y))), M3V_MAP2 (W, x < y ? x : y)))           \
d_m3vBinary (NAME##_max_s,  M3V_PICK (M3V_VEC2 (VS, (x & (VS) (x > y)) | (y & ~(VS) (x > y))), M3V_MAP2 (W, (ST) x > (ST) y ? x : y))) \
d_m3vBinary (NAME##_max_u,  M3V_PICK (M3V_VEC2 (VU, (x & (VU) (x > y)) | (y & ~(VU) (x > y))), M3V_MAP2 (W, x > y ? x : y)))

d_m3vMinMax (i8x16,     8,  i8,  m3v_u8x16, m3v_i8x16)
d_m3vMinMax (i16x8,     16, i16, m3v_u16x8, m3v_i16x8)
d_m3vMinMax (i32x4,     32, i32, m3v_u32x4, m3v_i32x4)

d_m3vBinary (i8x16_add_sat_s,   M3V_MAP2 (8,  (u8)  m3v_satI8  ((i8) x + (i8) y)))
d_m3vBinary (i8x16_add_sat_u,   M3V_MAP2 (8,  m3v_satU8 ((i32) x + y)))
d_m3vBinary (i8x16_sub_sat_s,   M3V_MAP2 (8,  (u8)  m3v_satI8  ((i8) x - (i8) y)))
d_m3vBinary (i8x16_sub_sat_u,   M3V_MAP2 (8,  m3v_satU8 ((i32) x - y)))
d_m3vBinary (i16x8_add_sat_s,   M3V_MAP2 (16, (u16) m3v_satI16 ((i16) x + (i16) y)))
d_m3vBinary (i16x8_add_sat_u,   M3V_MAP2 (16, m3v_satU16 ((i32) x + y)))
d_m3vBinary (i16x8_sub_sat_s,   M3V_MAP2 (16, (u16) m3v_satI16 ((i16) x - (i16) y)))
d_m3vBinary (i16x8_sub_sat_u,   M3V_MAP2 (16, m3v_satU16 ((i32) x - y)))

d_m3vBinary (i8x16_avgr_u,      M3V_MAP2 (8,  m3v_avgr (x, y)))
d_m3vBinary (i16x8_avgr_u,      M3V_MAP2 (16, m3v_avgr (x, y)))
d_m3vBinary (i16x8_q15mulr_sat_s, M3V_MAP2 (16, (u16) m3v_q15mulr ((i16) x, (i16) y)))
d_m3vUnary  (i8x16_popcnt,      M3V_MAP1 (8,  m3v_popcnt8 (x)))

// shifts: [op] [count, _s only] [vector] [result]; the count is taken modulo the lane width
#define d_m3vShiftBody(W, EXPR)                                                             \
    m3v128 a, r;  d_m3vRead (a);  n %= W;  M3V_MAP1 (W, EXPR)  d_m3vWrite (r);

#define d_m3vShift(NAME, W, ST)                                                             \
d_m3Op (v128_##NAME##_shl_r)    { u32 n = (u32) _r0;  d_m3vShiftBody (W, x << n)  nextOp (); }                 \
d_m3Op (v128_##NAME##_shl_s)    { u32 n = slot (u32); d_m3vShiftBody (W, x << n)  nextOp (); }                 \
d_m3Op (v128_##NAME##_shr_u_r)  { u32 n = (u32) _r0;  d_m3vShiftBody (W, x >> n)  nextOp (); }                 \
d_m3Op (v128_##NAME##_shr_u_s)  { u32 n = slot (u32); d_m3vShiftBody (W, x >> n)  nextOp (); }                 \
d_m3Op (v128_##NAME##_shr_s_r)  { u32 n = (u32) _r0;  d_m3vShiftBody (W, m3v_asr ((ST) x, n))  nextOp (); }   \
d_m3Op (v128_##NAME##_shr_s_s)  { u32 n = slot (u32); d_m3vShiftBody (W, m3v_asr ((ST) x, n))  nextOp (); }

d_m3vShift (i8x16,  8,  i8)
d_m3vShift (i16x8,  16, i16)
d_m3vShift (i32x4,  32, i32)
d_m3vShift (i64x2,  64, i64)


//-- widening and narrowing ----------------------------------------------------------------------------

// narrow: the two operands' lanes, each saturated; a gives the low half
#define d_m3vNarrow(NAME, W, NW, SAT)                                                       \
d_m3vBinary (NAME,                                                                          \
    { uint##W##_t la [128/W], lb [128/W];  uint##NW##_t lr [128/NW];                        \
      m3v_get##W (& a, la);  m3v_get##W (& b, lb);                                          \
      for (int i = 0; i < 128/W; ++i) {                                                     \
          lr [i] = (uint##NW##_t) SAT ((int##W##_t) la [i]);                                \
          lr [i + 128/W] = (uint##NW##_t) SAT ((int##W##_t) lb [i]); }                      \
      m3v_set##NW (& r, lr); })

d_m3vNarrow (i8x16_narrow_i16x8_s,  16, 8,  m3v_satI8)
d_m3vNarrow (i8x16_narrow_i16x8_u,  16, 8,  m3v_satU8)
d_m3vNarrow (i16x8_narrow_i32x4_s,  32, 16, m3v_satI16)
d_m3vNarrow (i16x8_narrow_i32x4_u,  32, 16, m3v_satU16)

// extend: half the lanes of a (low: lanes 0 .. n/2-1), each widened
#define d_m3vExtend(NAME, W, W2, HIGH, SRC_T)                                               \
d_m3vUnary (NAME,                                                                           \
    { uint##W##_t la [128/W];  uint##W2##_t lr [128/W2];  m3v_get##W (& a, la);             \
      for (int i = 0; i < 128/W2; ++i)                                                      \
          lr [i] = (uint##W2##_t) (SRC_T) la [i + (HIGH) * 128/W2];                         \
      m3v_set##W2 (& r, lr); })

d_m3vExtend (i16x8_extend_low_i8x16_s,   8,  16, 0, i8)
d_m3vExtend (i16x8_extend_high_i8x16_s,  8,  16, 1, i8)
d_m3vExtend (i16x8_extend_low_i8x16_u,   8,  16, 0, u8)
d_m3vExtend (i16x8_extend_high_i8x16_u,  8,  16, 1, u8)
d_m3vExtend (i32x4_extend_low_i16x8_s,   16, 32, 0, i16)
d_m3vExtend (i32x4_extend_high_i16x8_s,  16, 32, 1, i16)
d_m3vExtend (i32x4_extend_low_i16x8_u,   16, 32, 0, u16)
d_m3vExtend (i32x4_extend_high_i16x8_u,  16, 32, 1, u16)
d_m3vExtend (i64x2_extend_low_i32x4_s,   32, 64, 0, i32)
d_m3vExtend (i64x2_extend_high_i32x4_s,  32, 64, 1, i32)
d_m3vExtend (i64x2_extend_low_i32x4_u,   32, 64, 0, u32)
d_m3vExtend (i64x2_extend_high_i32x4_u,  32, 64, 1, u32)

// extmul: the products of the widened halves
#define d_m3vExtMul(NAME, W, W2, HIGH, SRC_T)                                               \
d_m3vBinary (NAME,                                                                          \
    { uint##W##_t la [128/W], lb [128/W];  uint##W2##_t lr [128/W2];                        \
      m3v_get##W (& a, la);  m3v_get##W (& b, lb);                                          \
      for (int i = 0; i < 128/W2; ++i)                                                      \
          lr [i] = (uint##W2##_t) ((u64) (uint##W2##_t) (SRC_T) la [i + (HIGH) * 128/W2] * (uint##W2##_t) (SRC_T) lb [i + (HIGH) * 128/W2]); \
      m3v_set##W2 (& r, lr); })

d_m3vExtMul (i16x8_extmul_low_i8x16_s,   8,  16, 0, i8)
d_m3vExtMul (i16x8_extmul_high_i8x16_s,  8,  16, 1, i8)
d_m3vExtMul (i16x8_extmul_low_i8x16_u,   8,  16, 0, u8)
d_m3vExtMul (i16x8_extmul_high_i8x16_u,  8,  16, 1, u8)
d_m3vExtMul (i32x4_extmul_low_i16x8_s,   16, 32, 0, i16)
d_m3vExtMul (i32x4_extmul_high_i16x8_s,  16, 32, 1, i16)
d_m3vExtMul (i32x4_extmul_low_i16x8_u,   16, 32, 0, u16)
d_m3vExtMul (i32x4_extmul_high_i16x8_u,  16, 32, 1, u16)
d_m3vExtMul (i64x2_extmul_low_i32x4_s,   32, 64, 0, i32)
d_m3vExtMul (i64x2_extmul_high_i32x4_s,  32, 64, 1, i32)
d_m3vExtMul (i64x2_extmul_low_i32x4_u,   32, 64, 0, u32)
d_m3vExtMul (i64x2_extmul_high_i32x4_u,  32, 64, 1, u32)

// extadd_pairwise: the sum of each pair of adjacent lanes, widened
#define d_m3vExtAdd(NAME, W, W2, SRC_T)                                                     \
d_m3vUnary (NAME,                                                                           \
    { uint##W##_t la [128/W];  uint##W2##_t lr [128/W2];  m3v_get##W (& a, la);             \
      for (int i = 0; i < 128/W2; ++i)                                                      \
          lr [i] = (uint##W2##_t) ((int##W2##_t) (SRC_T) la [2*i] + (int##W2##_t) (SRC_T) la [2*i + 1]); \
      m3v_set##W2 (& r, lr); })

d_m3vExtAdd (i16x8_extadd_pairwise_i8x16_s,  8,  16, i8)
d_m3vExtAdd (i16x8_extadd_pairwise_i8x16_u,  8,  16, u8)
d_m3vExtAdd (i32x4_extadd_pairwise_i16x8_s,  16, 32, i16)
d_m3vExtAdd (i32x4_extadd_pairwise_i16x8_u,  16, 32, u16)

// dot: lane i = a[2i] * b[2i] + a[2i+1] * b[2i+1], signed, wrapping
d_m3vBinary (i32x4_dot_i16x8_s,
    { u16 la [8], lb [8];  u32 lr [4];  m3v_get16 (& a, la);  m3v_get16 (& b, lb);
      for (int i = 0; i < 4; ++i)
          lr [i] = (u32) ((i32) (i16) la [2*i] * (i16) lb [2*i]) + (u32) ((i32) (i16) la [2*i + 1] * (i16) lb [2*i + 1]);
      m3v_set32 (& r, lr); })


//-- float arithmetic ----------------------------------------------------------------------------------
// lanes as bits; +-*/ and sqrt by the host's IEEE arithmetic, which gives a NaN result the
// canonical NaN or a quieted operand NaN, both arithmetic NaNs as the spec allows

#define d_m3vFloatArith(NAME, W, TOF, TOB, VF, SQRT)                                        \
d_m3vBinary (NAME##_add,    M3V_PICK (M3V_VEC2 (VF, x + y), M3V_MAP2 (W, TOB (TOF (x) + TOF (y))))) \
d_m3vBinary (NAME##_sub,    M3V_PICK (M3V_VEC2 (VF, x - y), M3V_MAP2 (W, TOB (TOF (x) - TOF (y))))) \
d_m3vBinary (NAME##_mul,    M3V_PICK (M3V_VEC2 (VF, x * y), M3V_MAP2 (W, TOB (TOF (x) * TOF (y))))) \
d_m3vBinary (NAME##_div,    M3V_PICK (M3V_VEC2 (VF, x / y), M3V_MAP2 (W, TOB (TOF (x) / TOF (y))))) \
d_m3vUnary  (NAME##_sqrt,   M3V_MAP1 (W, TOB (SQRT (TOF (x)))))                             \
d_m3vBinary (NAME##_min,    M3V_MAP2 (W, m3v_fmin##W (x, y)))                               \
d_m3vBinary (NAME##_max,    M3V_MAP2 (W, m3v_fmax##W (x, y)))                               \
d_m3vBinary (NAME##_pmin,   M3V_MAP2 (W, m3v_pmin##W (x, y)))                               \
d_m3vBinary (NAME##_pmax,   M3V_MAP2 (W, m3v_pmax##W (x, y)))                               \
d_m3vUnary  (NAME##_ceil,   M3V_MAP1 (W, m3v_ceil##W (x)))                                  \
d_m3vUnary  (NAME##_floor,  M3V_MAP1 (W, m3v_floor##W (x)))                                 \
d_m3vUnary  (NAME##_trunc,  M3V_MAP1 (W, m3v_trunc##W (x)))                                 \
d_m3vUnary  (NAME##_nearest, M3V_MAP1 (W, m3v_nearest##W (x)))

d_m3vFloatArith (f32x4, 32, m3v_f32, m3v_b32, m3v_f32x4, sqrtf)
d_m3vFloatArith (f64x2, 64, m3v_f64, m3v_b64, m3v_f64x2, sqrt)

// abs and neg change the sign bit only, NaN or not
d_m3vUnary (f32x4_abs,      M3V_MAP1 (32, x & 0x7FFFFFFFu))
d_m3vUnary (f32x4_neg,      M3V_MAP1 (32, x ^ 0x80000000u))
d_m3vUnary (f64x2_abs,      M3V_MAP1 (64, x & 0x7FFFFFFFFFFFFFFFull))
d_m3vUnary (f64x2_neg,      M3V_MAP1 (64, x ^ 0x8000000000000000ull))


//-- conversions ----------------------------------------------------------------------------------------

d_m3vUnary (i32x4_trunc_sat_f32x4_s,    M3V_MAP1 (32, (u32) m3v_truncSatI32 (m3v_f32 (x))))
d_m3vUnary (i32x4_trunc_sat_f32x4_u,    M3V_MAP1 (32, m3v_truncSatU32 (m3v_f32 (x))))
d_m3vUnary (f32x4_convert_i32x4_s,      M3V_MAP1 (32, m3v_b32 ((f32) (i32) x)))
d_m3vUnary (f32x4_convert_i32x4_u,      M3V_MAP1 (32, m3v_b32 ((f32) x)))

d_m3vUnary (i32x4_trunc_sat_f64x2_s_zero,
    { u64 la [2];  u32 lr [4] = { 0, 0, 0, 0 };  m3v_get64 (& a, la);
      for (int i = 0; i < 2; ++i) lr [i] = (u32) m3v_truncSatI32 (m3v_f64 (la [i]));
      m3v_set32 (& r, lr); })
d_m3vUnary (i32x4_trunc_sat_f64x2_u_zero,
    { u64 la [2];  u32 lr [4] = { 0, 0, 0, 0 };  m3v_get64 (& a, la);
      for (int i = 0; i < 2; ++i) lr [i] = m3v_truncSatU32 (m3v_f64 (la [i]));
      m3v_set32 (& r, lr); })
d_m3vUnary (f64x2_convert_low_i32x4_s,
    { u32 la [4];  u64 lr [2];  m3v_get32 (& a, la);
      for (int i = 0; i < 2; ++i) lr [i] = m3v_b64 ((f64) (i32) la [i]);
      m3v_set64 (& r, lr); })
d_m3vUnary (f64x2_convert_low_i32x4_u,
    { u32 la [4];  u64 lr [2];  m3v_get32 (& a, la);
      for (int i = 0; i < 2; ++i) lr [i] = m3v_b64 ((f64) la [i]);
      m3v_set64 (& r, lr); })
d_m3vUnary (f32x4_demote_f64x2_zero,
    { u64 la [2];  u32 lr [4] = { 0, 0, 0, 0 };  m3v_get64 (& a, la);
      for (int i = 0; i < 2; ++i) lr [i] = m3v_b32 ((f32) m3v_f64 (la [i]));
      m3v_set32 (& r, lr); })
d_m3vUnary (f64x2_promote_low_f32x4,
    { u32 la [4];  u64 lr [2];  m3v_get32 (& a, la);
      for (int i = 0; i < 2; ++i) lr [i] = m3v_b64 ((f64) m3v_f32 (la [i]));
      m3v_set64 (& r, lr); })

#endif // m3_exec_simd_h
