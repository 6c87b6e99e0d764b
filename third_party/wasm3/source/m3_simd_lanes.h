//
//  m3_simd_lanes.h
//
//  extism_native patch 0070: the lane semantics of WebAssembly 2.0's fixed-width SIMD (v128),
//  in plain C99 with no wasm3 types, so that another execution tier can use the same rules.
//
//  A v128 is kept as its 16 bytes in wasm order (lane 0 first, each lane little-endian) on
//  every host: loads, stores, constants and copies are byte copies, and lanes are read and
//  written through the accessors below, which are memcpy on little-endian hosts and byte
//  assembly elsewhere (big-endian hosts are correct, only slower).
//
//  The per-lane helpers are the reference semantics (spec 4.3.2 and 4.4.3): saturation,
//  rounding average, Q15 multiply, float min/max/pmin/pmax with their NaN and signed-zero
//  rules (on the bits: a selected operand keeps its NaN payload), rounding with a quiet NaN,
//  saturating truncation.  Shifts of signed values are written without relying on the
//  implementation-defined >> of negative numbers.
//

#ifndef m3_simd_lanes_h
#define m3_simd_lanes_h

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct m3v128 { uint8_t b [16]; } m3v128;

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#   define M3V_LITTLE_ENDIAN    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#elif defined(_WIN32) || defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86) || \
      defined(_M_ARM64) || defined(_M_ARM)
#   define M3V_LITTLE_ENDIAN    1
#else
#   define M3V_LITTLE_ENDIAN    0       // unknown: byte assembly, correct on any host
#endif


//-- whole-vector lane arrays -------------------------------------------------------------------------

#if M3V_LITTLE_ENDIAN
#   define d_m3vGetSet(BITS)                                                                           \
    static inline void m3v_get##BITS (const m3v128 * v, uint##BITS##_t * o)  { memcpy (o, v->b, 16); } \
    static inline void m3v_set##BITS (m3v128 * v, const uint##BITS##_t * i)  { memcpy (v->b, i, 16); }
#else
#   define d_m3vGetSet(BITS)                                                                           \
    static inline void m3v_get##BITS (const m3v128 * v, uint##BITS##_t * o)                            \
    {                                                                                                  \
        for (int i = 0; i < 128 / BITS; ++i) {                                                         \
            uint##BITS##_t x = 0;                                                                      \
            for (int k = BITS / 8 - 1; k >= 0; --k)                                                    \
                x = (uint##BITS##_t) ((x << 8) | v->b [i * (BITS / 8) + k]);                      \
            o [i] = x;                                                                                 \
        }                                                                                              \
    }                                                                                                  \
    static inline void m3v_set##BITS (m3v128 * v, const uint##BITS##_t * in)                          \
    {                                                                                                  \
        for (int i = 0; i < 128 / BITS; ++i) {                                                         \
            uint##BITS##_t x = in [i];                                                                 \
            for (int k = 0; k < BITS / 8; ++k, x = (uint##BITS##_t) (x >> 8))                     \
                v->b [i * (BITS / 8) + k] = (uint8_t) x;                                               \
        }                                                                                              \
    }
#endif

static inline void m3v_get8 (const m3v128 * v, uint8_t * o)     { memcpy (o, v->b, 16); }
static inline void m3v_set8 (m3v128 * v, const uint8_t * i)     { memcpy (v->b, i, 16); }
d_m3vGetSet (16)
d_m3vGetSet (32)
d_m3vGetSet (64)

// one lane, by index (the caller keeps it in range)
static inline uint8_t   m3v_lane8   (const m3v128 * v, unsigned i)  { return v->b [i]; }
static inline uint16_t  m3v_lane16  (const m3v128 * v, unsigned i)  { return (uint16_t) (v->b [2*i] | (v->b [2*i + 1] << 8)); }
static inline uint32_t  m3v_lane32  (const m3v128 * v, unsigned i)
{
    const uint8_t * p = v->b + 4 * i;
    return (uint32_t) p [0] | ((uint32_t) p [1] << 8) | ((uint32_t) p [2] << 16) | ((uint32_t) p [3] << 24);
}
static inline uint64_t  m3v_lane64  (const m3v128 * v, unsigned i)
{
    return (uint64_t) m3v_lane32 (v, 2*i) | ((uint64_t) m3v_lane32 (v, 2*i + 1) << 32);
}
static inline void  m3v_setLane8   (m3v128 * v, unsigned i, uint8_t x)   { v->b [i] = x; }
static inline void  m3v_setLane16  (m3v128 * v, unsigned i, uint16_t x)  { v->b [2*i] = (uint8_t) x; v->b [2*i + 1] = (uint8_t) (x >> 8); }
static inline void  m3v_setLane32  (m3v128 * v, unsigned i, uint32_t x)
{
    uint8_t * p = v->b + 4 * i;
    p [0] = (uint8_t) x;  p [1] = (uint8_t) (x >> 8);  p [2] = (uint8_t) (x >> 16);  p [3] = (uint8_t) (x >> 24);
}
static inline void  m3v_setLane64  (m3v128 * v, unsigned i, uint64_t x)
{
    m3v_setLane32 (v, 2*i, (uint32_t) x);
    m3v_setLane32 (v, 2*i + 1, (uint32_t) (x >> 32));
}

// little-endian scalars in linear memory (load/store lane, extending loads)
static inline uint16_t  m3v_readLE16  (const uint8_t * p)   { return (uint16_t) (p [0] | (p [1] << 8)); }
static inline uint32_t  m3v_readLE32  (const uint8_t * p)
{
    return (uint32_t) p [0] | ((uint32_t) p [1] << 8) | ((uint32_t) p [2] << 16) | ((uint32_t) p [3] << 24);
}
static inline uint64_t  m3v_readLE64  (const uint8_t * p)   { return (uint64_t) m3v_readLE32 (p) | ((uint64_t) m3v_readLE32 (p + 4) << 32); }


//-- bits and floats -------------------------------------------------------------------------------------

static inline float     m3v_f32  (uint32_t bits)    { float f; memcpy (& f, & bits, 4); return f; }
static inline double    m3v_f64  (uint64_t bits)    { double d; memcpy (& d, & bits, 8); return d; }
static inline uint32_t  m3v_b32  (float f)          { uint32_t u; memcpy (& u, & f, 4); return u; }
static inline uint64_t  m3v_b64  (double d)         { uint64_t u; memcpy (& u, & d, 8); return u; }

#define M3V_CANONICAL_NAN32     0x7FC00000u
#define M3V_CANONICAL_NAN64     0x7FF8000000000000ull


//-- integer lane helpers ------------------------------------------------------------------------------

// arithmetic shift right of a signed value, 0 <= n < width (floor division by 2^n)
static inline int64_t  m3v_asr (int64_t x, unsigned n)     { return x < 0 ? ~(~x >> n) : x >> n; }

static inline int8_t    m3v_satI8   (int32_t x)    { return (int8_t)  (x < -128 ? -128 : x > 127 ? 127 : x); }
static inline uint8_t   m3v_satU8   (int32_t x)    { return (uint8_t) (x < 0 ? 0 : x > 255 ? 255 : x); }
static inline int16_t   m3v_satI16  (int32_t x)    { return (int16_t) (x < -32768 ? -32768 : x > 32767 ? 32767 : x); }
static inline uint16_t  m3v_satU16  (int32_t x)    { return (uint16_t) (x < 0 ? 0 : x > 65535 ? 65535 : x); }
static inline int16_t   m3v_satI16of64  (int64_t x) { return (int16_t) (x < -32768 ? -32768 : x > 32767 ? 32767 : x); }
static inline uint16_t  m3v_satU16of64  (int64_t x) { return (uint16_t) (x < 0 ? 0 : x > 65535 ? 65535 : x); }

// i16x8.q15mulr_sat_s: (a * b + 2^14) >> 15, saturated (only -32768 * -32768 overflows)
static inline int16_t  m3v_q15mulr  (int16_t a, int16_t b)
{
    return m3v_satI16of64 (m3v_asr ((int64_t) a * b + 0x4000, 15));
}

// avgr_u: (a + b + 1) / 2 without overflow
static inline uint32_t  m3v_avgr  (uint32_t a, uint32_t b)     { return (uint32_t) (((uint64_t) a + b + 1) >> 1); }

static inline uint8_t  m3v_popcnt8  (uint8_t x)
{
    x = (uint8_t) (x - ((x >> 1) & 0x55));
    x = (uint8_t) ((x & 0x33) + ((x >> 2) & 0x33));
    return (uint8_t) ((x + (x >> 4)) & 0x0F);
}


//-- float lane helpers: operands and results as bits --------------------------------------------------

// min/max: a NaN operand gives a NaN (the canonical one is always allowed); -0 < +0
static inline uint32_t  m3v_fmin32  (uint32_t a, uint32_t b)
{
    float x = m3v_f32 (a), y = m3v_f32 (b);
    if (x != x || y != y) return M3V_CANONICAL_NAN32;
    return x < y ? a : y < x ? b : (a | b);         // equal: -0 if either is -0
}
static inline uint32_t  m3v_fmax32  (uint32_t a, uint32_t b)
{
    float x = m3v_f32 (a), y = m3v_f32 (b);
    if (x != x || y != y) return M3V_CANONICAL_NAN32;
    return x > y ? a : y > x ? b : (a & b);         // equal: +0 unless both are -0
}
static inline uint64_t  m3v_fmin64  (uint64_t a, uint64_t b)
{
    double x = m3v_f64 (a), y = m3v_f64 (b);
    if (x != x || y != y) return M3V_CANONICAL_NAN64;
    return x < y ? a : y < x ? b : (a | b);
}
static inline uint64_t  m3v_fmax64  (uint64_t a, uint64_t b)
{
    double x = m3v_f64 (a), y = m3v_f64 (b);
    if (x != x || y != y) return M3V_CANONICAL_NAN64;
    return x > y ? a : y > x ? b : (a & b);
}

// pmin/pmax ("pseudo"): b < a ? b : a and a < b ? b : a, operands returned as they are
static inline uint32_t  m3v_pmin32  (uint32_t a, uint32_t b)   { return m3v_f32 (b) < m3v_f32 (a) ? b : a; }
static inline uint32_t  m3v_pmax32  (uint32_t a, uint32_t b)   { return m3v_f32 (a) < m3v_f32 (b) ? b : a; }
static inline uint64_t  m3v_pmin64  (uint64_t a, uint64_t b)   { return m3v_f64 (b) < m3v_f64 (a) ? b : a; }
static inline uint64_t  m3v_pmax64  (uint64_t a, uint64_t b)   { return m3v_f64 (a) < m3v_f64 (b) ? b : a; }

// ceil, floor, trunc, nearest (ties to even): a NaN gives a quiet NaN (libm may return a
// signaling one unchanged; x + x quiets it)
#define d_m3vRound(NAME, F32, F64)                                                                      \
static inline uint32_t  m3v_##NAME##32  (uint32_t a)                                                     \
{   float x = m3v_f32 (a);  return m3v_b32 (x != x ? x + x : F32 (x));  }                                \
static inline uint64_t  m3v_##NAME##64  (uint64_t a)                                                     \
{   double x = m3v_f64 (a); return m3v_b64 (x != x ? x + x : F64 (x));  }

d_m3vRound (ceil,       ceilf,      ceil)
d_m3vRound (floor,      floorf,     floor)
d_m3vRound (trunc,      truncf,     trunc)
d_m3vRound (nearest,    nearbyintf, nearbyint)

// saturating truncation: NaN -> 0, out of range -> the nearest bound
static inline int32_t  m3v_truncSatI32  (double x)
{
    if (x != x)                 return 0;
    if (x <= -2147483649.0)     return INT32_MIN;
    if (x >= 2147483648.0)      return INT32_MAX;
    return (int32_t) x;
}
static inline uint32_t  m3v_truncSatU32  (double x)
{
    if (x != x || x <= -1.0)    return 0;
    if (x >= 4294967296.0)      return UINT32_MAX;
    return (uint32_t) x;
}

#endif // m3_simd_lanes_h
