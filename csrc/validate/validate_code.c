/* validate_code.c: validation of function bodies - WebAssembly 2.0 (and 3.0's tail calls),
 * sections 3.3 ("Instructions", validation) and 5.4 ("Instructions", binary format) - by the
 * algorithm of the spec's appendix A.3 ("Validation Algorithm"): an operand stack of value
 * types and a control stack of frames, with the unknown type standing for anything in code
 * after an unconditional branch.  Decoding and type checking are one pass over the bytes.
 *
 * Hostile input: iterative (no recursion on nesting depth); every read is bounds-checked
 * (wasm_read.h); the stacks are buffers reused across bodies, the operand stack bounded by
 * EXN_VMAX_OPERANDS and the control stack by the body size (a frame costs >= 2 bytes); the work
 * per instruction is bounded by the arity limits (EXN_VMAX_PARAMS/RESULTS) and br_table checks
 * each distinct target frame once.  Local types are expanded into an array for at most
 * 4 bytes of array per body byte; indices past it are found by binary search over the
 * declarations, so a body declaring 2^32-1 locals costs nothing.
 * May call: wasm_read.h, module_info.h (type names), the allocator - nothing of validate.c. */
#include "validate_code.h"

#include <stdio.h>

#include "wasm_read.h"

#define T_UNKNOWN 0x00 /* the spec's "Unknown": any type, in unreachable code */
#define T_NONE 0xFF    /* in messages only: there was no value */
#define I32 EXN_WASM_I32
#define I64 EXN_WASM_I64
#define F32 EXN_WASM_F32
#define F64 EXN_WASM_F64
#define FUNCREF EXN_WASM_FUNCREF
#define EXTERNREF EXN_WASM_EXTERNREF
#define V128 EXN_WASM_V128

#if defined(__GNUC__) || defined(__clang__)
#define HOT static inline __attribute__((always_inline)) /* the per-instruction helpers */
#else
#define HOT static inline
#endif

enum { K_FUNC = 0x00, K_BLOCK = 0x02, K_LOOP = 0x03, K_IF = 0x04, K_ELSE = 0x05 };

typedef struct {
    const uint8_t *params, *results, *label; /* label: the types a branch to it carries */
    uint32_t n_params, n_results, n_label;
    uint32_t height; /* operand stack height at entry */
    uint64_t stamp;  /* br_table: the last br_table (by number) that checked this frame */
    uint8_t kind;
    bool unreachable;
} frame_t;

struct exn_vcode {
    uint8_t *vals;
    uint32_t vals_cap;
    frame_t *frames;
    uint32_t frames_cap;
    uint8_t *locals; /* types of the first n_fast locals */
    size_t locals_cap;
    uint32_t *group_end; /* local declarations: index past the group, params included */
    uint8_t *group_type;
    uint32_t groups_cap;
    uint64_t stamp;    /* br_tables seen: 64 bits never wrap */
    uint32_t features; /* EXN_FEATURE_* used by the bodies checked so far */
};

typedef struct {
    exn_vcode_t *s;
    const exn_vctx_t *c;
    exn_verror_t *e;
    exn_wread_t r;
    const uint8_t *op_at; /* first byte of the instruction being checked */
    uint8_t *vals;        /* s->vals, s->vals_cap: the operand stack */
    uint32_t vals_cap;
    uint32_t vh, ch;  /* operand and control stack heights */
    frame_t *top;     /* s->frames[ch - 1] */
    uint32_t base;    /* top->height */
    bool unreachable; /* top->unreachable (written through) */
    uint32_t n_locals, n_fast, n_groups;
} fv_t;

/* ---- tables --------------------------------------------------------------------------------- */

/* clang-format off */
static const char *const OP_NAMES[256] = {
    [0x00] = "unreachable", [0x01] = "nop", [0x02] = "block", [0x03] = "loop", [0x04] = "if",
    [0x05] = "else", [0x06] = "try", [0x07] = "catch", [0x08] = "throw", [0x09] = "rethrow",
    [0x0A] = "throw_ref", [0x0B] = "end", [0x0C] = "br", [0x0D] = "br_if", [0x0E] = "br_table",
    [0x0F] = "return", [0x10] = "call", [0x11] = "call_indirect", [0x12] = "return_call",
    [0x13] = "return_call_indirect", [0x14] = "call_ref", [0x15] = "return_call_ref",
    [0x18] = "delegate", [0x19] = "catch_all", [0x1A] = "drop", [0x1B] = "select",
    [0x1C] = "select", [0x1F] = "try_table", [0x20] = "local.get", [0x21] = "local.set",
    [0x22] = "local.tee", [0x23] = "global.get", [0x24] = "global.set", [0x25] = "table.get",
    [0x26] = "table.set", [0x28] = "i32.load", [0x29] = "i64.load", [0x2A] = "f32.load",
    [0x2B] = "f64.load", [0x2C] = "i32.load8_s", [0x2D] = "i32.load8_u", [0x2E] = "i32.load16_s",
    [0x2F] = "i32.load16_u", [0x30] = "i64.load8_s", [0x31] = "i64.load8_u",
    [0x32] = "i64.load16_s", [0x33] = "i64.load16_u", [0x34] = "i64.load32_s",
    [0x35] = "i64.load32_u", [0x36] = "i32.store", [0x37] = "i64.store", [0x38] = "f32.store",
    [0x39] = "f64.store", [0x3A] = "i32.store8", [0x3B] = "i32.store16", [0x3C] = "i64.store8",
    [0x3D] = "i64.store16", [0x3E] = "i64.store32", [0x3F] = "memory.size",
    [0x40] = "memory.grow", [0x41] = "i32.const", [0x42] = "i64.const", [0x43] = "f32.const",
    [0x44] = "f64.const", [0x45] = "i32.eqz", [0x46] = "i32.eq", [0x47] = "i32.ne",
    [0x48] = "i32.lt_s", [0x49] = "i32.lt_u", [0x4A] = "i32.gt_s", [0x4B] = "i32.gt_u",
    [0x4C] = "i32.le_s", [0x4D] = "i32.le_u", [0x4E] = "i32.ge_s", [0x4F] = "i32.ge_u",
    [0x50] = "i64.eqz", [0x51] = "i64.eq", [0x52] = "i64.ne", [0x53] = "i64.lt_s",
    [0x54] = "i64.lt_u", [0x55] = "i64.gt_s", [0x56] = "i64.gt_u", [0x57] = "i64.le_s",
    [0x58] = "i64.le_u", [0x59] = "i64.ge_s", [0x5A] = "i64.ge_u", [0x5B] = "f32.eq",
    [0x5C] = "f32.ne", [0x5D] = "f32.lt", [0x5E] = "f32.gt", [0x5F] = "f32.le", [0x60] = "f32.ge",
    [0x61] = "f64.eq", [0x62] = "f64.ne", [0x63] = "f64.lt", [0x64] = "f64.gt", [0x65] = "f64.le",
    [0x66] = "f64.ge", [0x67] = "i32.clz", [0x68] = "i32.ctz", [0x69] = "i32.popcnt",
    [0x6A] = "i32.add", [0x6B] = "i32.sub", [0x6C] = "i32.mul", [0x6D] = "i32.div_s",
    [0x6E] = "i32.div_u", [0x6F] = "i32.rem_s", [0x70] = "i32.rem_u", [0x71] = "i32.and",
    [0x72] = "i32.or", [0x73] = "i32.xor", [0x74] = "i32.shl", [0x75] = "i32.shr_s",
    [0x76] = "i32.shr_u", [0x77] = "i32.rotl", [0x78] = "i32.rotr", [0x79] = "i64.clz",
    [0x7A] = "i64.ctz", [0x7B] = "i64.popcnt", [0x7C] = "i64.add", [0x7D] = "i64.sub",
    [0x7E] = "i64.mul", [0x7F] = "i64.div_s", [0x80] = "i64.div_u", [0x81] = "i64.rem_s",
    [0x82] = "i64.rem_u", [0x83] = "i64.and", [0x84] = "i64.or", [0x85] = "i64.xor",
    [0x86] = "i64.shl", [0x87] = "i64.shr_s", [0x88] = "i64.shr_u", [0x89] = "i64.rotl",
    [0x8A] = "i64.rotr", [0x8B] = "f32.abs", [0x8C] = "f32.neg", [0x8D] = "f32.ceil",
    [0x8E] = "f32.floor", [0x8F] = "f32.trunc", [0x90] = "f32.nearest", [0x91] = "f32.sqrt",
    [0x92] = "f32.add", [0x93] = "f32.sub", [0x94] = "f32.mul", [0x95] = "f32.div",
    [0x96] = "f32.min", [0x97] = "f32.max", [0x98] = "f32.copysign", [0x99] = "f64.abs",
    [0x9A] = "f64.neg", [0x9B] = "f64.ceil", [0x9C] = "f64.floor", [0x9D] = "f64.trunc",
    [0x9E] = "f64.nearest", [0x9F] = "f64.sqrt", [0xA0] = "f64.add", [0xA1] = "f64.sub",
    [0xA2] = "f64.mul", [0xA3] = "f64.div", [0xA4] = "f64.min", [0xA5] = "f64.max",
    [0xA6] = "f64.copysign", [0xA7] = "i32.wrap_i64", [0xA8] = "i32.trunc_f32_s",
    [0xA9] = "i32.trunc_f32_u", [0xAA] = "i32.trunc_f64_s", [0xAB] = "i32.trunc_f64_u",
    [0xAC] = "i64.extend_i32_s", [0xAD] = "i64.extend_i32_u", [0xAE] = "i64.trunc_f32_s",
    [0xAF] = "i64.trunc_f32_u", [0xB0] = "i64.trunc_f64_s", [0xB1] = "i64.trunc_f64_u",
    [0xB2] = "f32.convert_i32_s", [0xB3] = "f32.convert_i32_u", [0xB4] = "f32.convert_i64_s",
    [0xB5] = "f32.convert_i64_u", [0xB6] = "f32.demote_f64", [0xB7] = "f64.convert_i32_s",
    [0xB8] = "f64.convert_i32_u", [0xB9] = "f64.convert_i64_s", [0xBA] = "f64.convert_i64_u",
    [0xBB] = "f64.promote_f32", [0xBC] = "i32.reinterpret_f32", [0xBD] = "i64.reinterpret_f64",
    [0xBE] = "f32.reinterpret_i32", [0xBF] = "f64.reinterpret_i64", [0xC0] = "i32.extend8_s",
    [0xC1] = "i32.extend16_s", [0xC2] = "i64.extend8_s", [0xC3] = "i64.extend16_s",
    [0xC4] = "i64.extend32_s", [0xD0] = "ref.null", [0xD1] = "ref.is_null", [0xD2] = "ref.func",
    [0xD3] = "ref.eq", [0xD4] = "ref.as_non_null", [0xD5] = "br_on_null",
    [0xD6] = "br_on_non_null"};

static const char *const FC_NAMES[18] = {
    "i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u",
    "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u",
    "memory.init",         "data.drop",           "memory.copy",         "memory.fill",
    "table.init",          "elem.drop",           "table.copy",          "table.grow",
    "table.size",          "table.fill"};

/* 0xFD, fixed-width SIMD (WebAssembly 2.0, sections 3.3.3 and 5.4.8), by the opcode after the
 * prefix: the name, the shape (immediates and stack effect), and for memory accesses log2 of
 * the natural alignment, for splat/extract/replace the scalar type; the lane count for lane
 * immediates.  The opcodes 0x100..0x113 are relaxed SIMD, a later proposal. */
enum {
    S_NONE,
    S_LOAD,       /* memarg: [i32] -> [v128] */
    S_STORE,      /* memarg: [i32 v128] -> [] */
    S_LOAD_LANE,  /* memarg lane: [i32 v128] -> [v128] */
    S_STORE_LANE, /* memarg lane: [i32 v128] -> [] */
    S_CONST,      /* 16 bytes: [] -> [v128] */
    S_SHUFFLE,    /* 16 lane indices < 32: [v128 v128] -> [v128] */
    S_SPLAT,      /* [t] -> [v128] */
    S_EXTRACT,    /* lane: [v128] -> [t] */
    S_REPLACE,    /* lane: [v128 t] -> [v128] */
    S_UNARY,      /* [v128] -> [v128] */
    S_BINARY,     /* [v128 v128] -> [v128] */
    S_TERNARY,    /* [v128 v128 v128] -> [v128] */
    S_TEST,       /* [v128] -> [i32] */
    S_SHIFT,      /* [v128 i32] -> [v128] */
};
/* clang-format on */

static const struct {
    const char *name;
    uint8_t shape, arg, lanes;
} SIMD[256] = {
    [0x00] = {"v128.load", S_LOAD, 4, 0},
    [0x01] = {"v128.load8x8_s", S_LOAD, 3, 0},
    [0x02] = {"v128.load8x8_u", S_LOAD, 3, 0},
    [0x03] = {"v128.load16x4_s", S_LOAD, 3, 0},
    [0x04] = {"v128.load16x4_u", S_LOAD, 3, 0},
    [0x05] = {"v128.load32x2_s", S_LOAD, 3, 0},
    [0x06] = {"v128.load32x2_u", S_LOAD, 3, 0},
    [0x07] = {"v128.load8_splat", S_LOAD, 0, 0},
    [0x08] = {"v128.load16_splat", S_LOAD, 1, 0},
    [0x09] = {"v128.load32_splat", S_LOAD, 2, 0},
    [0x0A] = {"v128.load64_splat", S_LOAD, 3, 0},
    [0x0B] = {"v128.store", S_STORE, 4, 0},
    [0x0C] = {"v128.const", S_CONST, 0, 0},
    [0x0D] = {"i8x16.shuffle", S_SHUFFLE, 0, 0},
    [0x0E] = {"i8x16.swizzle", S_BINARY, 0, 0},
    [0x0F] = {"i8x16.splat", S_SPLAT, I32, 0},
    [0x10] = {"i16x8.splat", S_SPLAT, I32, 0},
    [0x11] = {"i32x4.splat", S_SPLAT, I32, 0},
    [0x12] = {"i64x2.splat", S_SPLAT, I64, 0},
    [0x13] = {"f32x4.splat", S_SPLAT, F32, 0},
    [0x14] = {"f64x2.splat", S_SPLAT, F64, 0},
    [0x15] = {"i8x16.extract_lane_s", S_EXTRACT, I32, 16},
    [0x16] = {"i8x16.extract_lane_u", S_EXTRACT, I32, 16},
    [0x17] = {"i8x16.replace_lane", S_REPLACE, I32, 16},
    [0x18] = {"i16x8.extract_lane_s", S_EXTRACT, I32, 8},
    [0x19] = {"i16x8.extract_lane_u", S_EXTRACT, I32, 8},
    [0x1A] = {"i16x8.replace_lane", S_REPLACE, I32, 8},
    [0x1B] = {"i32x4.extract_lane", S_EXTRACT, I32, 4},
    [0x1C] = {"i32x4.replace_lane", S_REPLACE, I32, 4},
    [0x1D] = {"i64x2.extract_lane", S_EXTRACT, I64, 2},
    [0x1E] = {"i64x2.replace_lane", S_REPLACE, I64, 2},
    [0x1F] = {"f32x4.extract_lane", S_EXTRACT, F32, 4},
    [0x20] = {"f32x4.replace_lane", S_REPLACE, F32, 4},
    [0x21] = {"f64x2.extract_lane", S_EXTRACT, F64, 2},
    [0x22] = {"f64x2.replace_lane", S_REPLACE, F64, 2},
    [0x23] = {"i8x16.eq", S_BINARY, 0, 0},
    [0x24] = {"i8x16.ne", S_BINARY, 0, 0},
    [0x25] = {"i8x16.lt_s", S_BINARY, 0, 0},
    [0x26] = {"i8x16.lt_u", S_BINARY, 0, 0},
    [0x27] = {"i8x16.gt_s", S_BINARY, 0, 0},
    [0x28] = {"i8x16.gt_u", S_BINARY, 0, 0},
    [0x29] = {"i8x16.le_s", S_BINARY, 0, 0},
    [0x2A] = {"i8x16.le_u", S_BINARY, 0, 0},
    [0x2B] = {"i8x16.ge_s", S_BINARY, 0, 0},
    [0x2C] = {"i8x16.ge_u", S_BINARY, 0, 0},
    [0x2D] = {"i16x8.eq", S_BINARY, 0, 0},
    [0x2E] = {"i16x8.ne", S_BINARY, 0, 0},
    [0x2F] = {"i16x8.lt_s", S_BINARY, 0, 0},
    [0x30] = {"i16x8.lt_u", S_BINARY, 0, 0},
    [0x31] = {"i16x8.gt_s", S_BINARY, 0, 0},
    [0x32] = {"i16x8.gt_u", S_BINARY, 0, 0},
    [0x33] = {"i16x8.le_s", S_BINARY, 0, 0},
    [0x34] = {"i16x8.le_u", S_BINARY, 0, 0},
    [0x35] = {"i16x8.ge_s", S_BINARY, 0, 0},
    [0x36] = {"i16x8.ge_u", S_BINARY, 0, 0},
    [0x37] = {"i32x4.eq", S_BINARY, 0, 0},
    [0x38] = {"i32x4.ne", S_BINARY, 0, 0},
    [0x39] = {"i32x4.lt_s", S_BINARY, 0, 0},
    [0x3A] = {"i32x4.lt_u", S_BINARY, 0, 0},
    [0x3B] = {"i32x4.gt_s", S_BINARY, 0, 0},
    [0x3C] = {"i32x4.gt_u", S_BINARY, 0, 0},
    [0x3D] = {"i32x4.le_s", S_BINARY, 0, 0},
    [0x3E] = {"i32x4.le_u", S_BINARY, 0, 0},
    [0x3F] = {"i32x4.ge_s", S_BINARY, 0, 0},
    [0x40] = {"i32x4.ge_u", S_BINARY, 0, 0},
    [0x41] = {"f32x4.eq", S_BINARY, 0, 0},
    [0x42] = {"f32x4.ne", S_BINARY, 0, 0},
    [0x43] = {"f32x4.lt", S_BINARY, 0, 0},
    [0x44] = {"f32x4.gt", S_BINARY, 0, 0},
    [0x45] = {"f32x4.le", S_BINARY, 0, 0},
    [0x46] = {"f32x4.ge", S_BINARY, 0, 0},
    [0x47] = {"f64x2.eq", S_BINARY, 0, 0},
    [0x48] = {"f64x2.ne", S_BINARY, 0, 0},
    [0x49] = {"f64x2.lt", S_BINARY, 0, 0},
    [0x4A] = {"f64x2.gt", S_BINARY, 0, 0},
    [0x4B] = {"f64x2.le", S_BINARY, 0, 0},
    [0x4C] = {"f64x2.ge", S_BINARY, 0, 0},
    [0x4D] = {"v128.not", S_UNARY, 0, 0},
    [0x4E] = {"v128.and", S_BINARY, 0, 0},
    [0x4F] = {"v128.andnot", S_BINARY, 0, 0},
    [0x50] = {"v128.or", S_BINARY, 0, 0},
    [0x51] = {"v128.xor", S_BINARY, 0, 0},
    [0x52] = {"v128.bitselect", S_TERNARY, 0, 0},
    [0x53] = {"v128.any_true", S_TEST, 0, 0},
    [0x54] = {"v128.load8_lane", S_LOAD_LANE, 0, 16},
    [0x55] = {"v128.load16_lane", S_LOAD_LANE, 1, 8},
    [0x56] = {"v128.load32_lane", S_LOAD_LANE, 2, 4},
    [0x57] = {"v128.load64_lane", S_LOAD_LANE, 3, 2},
    [0x58] = {"v128.store8_lane", S_STORE_LANE, 0, 16},
    [0x59] = {"v128.store16_lane", S_STORE_LANE, 1, 8},
    [0x5A] = {"v128.store32_lane", S_STORE_LANE, 2, 4},
    [0x5B] = {"v128.store64_lane", S_STORE_LANE, 3, 2},
    [0x5C] = {"v128.load32_zero", S_LOAD, 2, 0},
    [0x5D] = {"v128.load64_zero", S_LOAD, 3, 0},
    [0x5E] = {"f32x4.demote_f64x2_zero", S_UNARY, 0, 0},
    [0x5F] = {"f64x2.promote_low_f32x4", S_UNARY, 0, 0},
    [0x60] = {"i8x16.abs", S_UNARY, 0, 0},
    [0x61] = {"i8x16.neg", S_UNARY, 0, 0},
    [0x62] = {"i8x16.popcnt", S_UNARY, 0, 0},
    [0x63] = {"i8x16.all_true", S_TEST, 0, 0},
    [0x64] = {"i8x16.bitmask", S_TEST, 0, 0},
    [0x65] = {"i8x16.narrow_i16x8_s", S_BINARY, 0, 0},
    [0x66] = {"i8x16.narrow_i16x8_u", S_BINARY, 0, 0},
    [0x67] = {"f32x4.ceil", S_UNARY, 0, 0},
    [0x68] = {"f32x4.floor", S_UNARY, 0, 0},
    [0x69] = {"f32x4.trunc", S_UNARY, 0, 0},
    [0x6A] = {"f32x4.nearest", S_UNARY, 0, 0},
    [0x6B] = {"i8x16.shl", S_SHIFT, 0, 0},
    [0x6C] = {"i8x16.shr_s", S_SHIFT, 0, 0},
    [0x6D] = {"i8x16.shr_u", S_SHIFT, 0, 0},
    [0x6E] = {"i8x16.add", S_BINARY, 0, 0},
    [0x6F] = {"i8x16.add_sat_s", S_BINARY, 0, 0},
    [0x70] = {"i8x16.add_sat_u", S_BINARY, 0, 0},
    [0x71] = {"i8x16.sub", S_BINARY, 0, 0},
    [0x72] = {"i8x16.sub_sat_s", S_BINARY, 0, 0},
    [0x73] = {"i8x16.sub_sat_u", S_BINARY, 0, 0},
    [0x74] = {"f64x2.ceil", S_UNARY, 0, 0},
    [0x75] = {"f64x2.floor", S_UNARY, 0, 0},
    [0x76] = {"i8x16.min_s", S_BINARY, 0, 0},
    [0x77] = {"i8x16.min_u", S_BINARY, 0, 0},
    [0x78] = {"i8x16.max_s", S_BINARY, 0, 0},
    [0x79] = {"i8x16.max_u", S_BINARY, 0, 0},
    [0x7A] = {"f64x2.trunc", S_UNARY, 0, 0},
    [0x7B] = {"i8x16.avgr_u", S_BINARY, 0, 0},
    [0x7C] = {"i16x8.extadd_pairwise_i8x16_s", S_UNARY, 0, 0},
    [0x7D] = {"i16x8.extadd_pairwise_i8x16_u", S_UNARY, 0, 0},
    [0x7E] = {"i32x4.extadd_pairwise_i16x8_s", S_UNARY, 0, 0},
    [0x7F] = {"i32x4.extadd_pairwise_i16x8_u", S_UNARY, 0, 0},
    [0x80] = {"i16x8.abs", S_UNARY, 0, 0},
    [0x81] = {"i16x8.neg", S_UNARY, 0, 0},
    [0x82] = {"i16x8.q15mulr_sat_s", S_BINARY, 0, 0},
    [0x83] = {"i16x8.all_true", S_TEST, 0, 0},
    [0x84] = {"i16x8.bitmask", S_TEST, 0, 0},
    [0x85] = {"i16x8.narrow_i32x4_s", S_BINARY, 0, 0},
    [0x86] = {"i16x8.narrow_i32x4_u", S_BINARY, 0, 0},
    [0x87] = {"i16x8.extend_low_i8x16_s", S_UNARY, 0, 0},
    [0x88] = {"i16x8.extend_high_i8x16_s", S_UNARY, 0, 0},
    [0x89] = {"i16x8.extend_low_i8x16_u", S_UNARY, 0, 0},
    [0x8A] = {"i16x8.extend_high_i8x16_u", S_UNARY, 0, 0},
    [0x8B] = {"i16x8.shl", S_SHIFT, 0, 0},
    [0x8C] = {"i16x8.shr_s", S_SHIFT, 0, 0},
    [0x8D] = {"i16x8.shr_u", S_SHIFT, 0, 0},
    [0x8E] = {"i16x8.add", S_BINARY, 0, 0},
    [0x8F] = {"i16x8.add_sat_s", S_BINARY, 0, 0},
    [0x90] = {"i16x8.add_sat_u", S_BINARY, 0, 0},
    [0x91] = {"i16x8.sub", S_BINARY, 0, 0},
    [0x92] = {"i16x8.sub_sat_s", S_BINARY, 0, 0},
    [0x93] = {"i16x8.sub_sat_u", S_BINARY, 0, 0},
    [0x94] = {"f64x2.nearest", S_UNARY, 0, 0},
    [0x95] = {"i16x8.mul", S_BINARY, 0, 0},
    [0x96] = {"i16x8.min_s", S_BINARY, 0, 0},
    [0x97] = {"i16x8.min_u", S_BINARY, 0, 0},
    [0x98] = {"i16x8.max_s", S_BINARY, 0, 0},
    [0x99] = {"i16x8.max_u", S_BINARY, 0, 0},
    [0x9B] = {"i16x8.avgr_u", S_BINARY, 0, 0},
    [0x9C] = {"i16x8.extmul_low_i8x16_s", S_BINARY, 0, 0},
    [0x9D] = {"i16x8.extmul_high_i8x16_s", S_BINARY, 0, 0},
    [0x9E] = {"i16x8.extmul_low_i8x16_u", S_BINARY, 0, 0},
    [0x9F] = {"i16x8.extmul_high_i8x16_u", S_BINARY, 0, 0},
    [0xA0] = {"i32x4.abs", S_UNARY, 0, 0},
    [0xA1] = {"i32x4.neg", S_UNARY, 0, 0},
    [0xA3] = {"i32x4.all_true", S_TEST, 0, 0},
    [0xA4] = {"i32x4.bitmask", S_TEST, 0, 0},
    [0xA7] = {"i32x4.extend_low_i16x8_s", S_UNARY, 0, 0},
    [0xA8] = {"i32x4.extend_high_i16x8_s", S_UNARY, 0, 0},
    [0xA9] = {"i32x4.extend_low_i16x8_u", S_UNARY, 0, 0},
    [0xAA] = {"i32x4.extend_high_i16x8_u", S_UNARY, 0, 0},
    [0xAB] = {"i32x4.shl", S_SHIFT, 0, 0},
    [0xAC] = {"i32x4.shr_s", S_SHIFT, 0, 0},
    [0xAD] = {"i32x4.shr_u", S_SHIFT, 0, 0},
    [0xAE] = {"i32x4.add", S_BINARY, 0, 0},
    [0xB1] = {"i32x4.sub", S_BINARY, 0, 0},
    [0xB5] = {"i32x4.mul", S_BINARY, 0, 0},
    [0xB6] = {"i32x4.min_s", S_BINARY, 0, 0},
    [0xB7] = {"i32x4.min_u", S_BINARY, 0, 0},
    [0xB8] = {"i32x4.max_s", S_BINARY, 0, 0},
    [0xB9] = {"i32x4.max_u", S_BINARY, 0, 0},
    [0xBA] = {"i32x4.dot_i16x8_s", S_BINARY, 0, 0},
    [0xBC] = {"i32x4.extmul_low_i16x8_s", S_BINARY, 0, 0},
    [0xBD] = {"i32x4.extmul_high_i16x8_s", S_BINARY, 0, 0},
    [0xBE] = {"i32x4.extmul_low_i16x8_u", S_BINARY, 0, 0},
    [0xBF] = {"i32x4.extmul_high_i16x8_u", S_BINARY, 0, 0},
    [0xC0] = {"i64x2.abs", S_UNARY, 0, 0},
    [0xC1] = {"i64x2.neg", S_UNARY, 0, 0},
    [0xC3] = {"i64x2.all_true", S_TEST, 0, 0},
    [0xC4] = {"i64x2.bitmask", S_TEST, 0, 0},
    [0xC7] = {"i64x2.extend_low_i32x4_s", S_UNARY, 0, 0},
    [0xC8] = {"i64x2.extend_high_i32x4_s", S_UNARY, 0, 0},
    [0xC9] = {"i64x2.extend_low_i32x4_u", S_UNARY, 0, 0},
    [0xCA] = {"i64x2.extend_high_i32x4_u", S_UNARY, 0, 0},
    [0xCB] = {"i64x2.shl", S_SHIFT, 0, 0},
    [0xCC] = {"i64x2.shr_s", S_SHIFT, 0, 0},
    [0xCD] = {"i64x2.shr_u", S_SHIFT, 0, 0},
    [0xCE] = {"i64x2.add", S_BINARY, 0, 0},
    [0xD1] = {"i64x2.sub", S_BINARY, 0, 0},
    [0xD5] = {"i64x2.mul", S_BINARY, 0, 0},
    [0xD6] = {"i64x2.eq", S_BINARY, 0, 0},
    [0xD7] = {"i64x2.ne", S_BINARY, 0, 0},
    [0xD8] = {"i64x2.lt_s", S_BINARY, 0, 0},
    [0xD9] = {"i64x2.gt_s", S_BINARY, 0, 0},
    [0xDA] = {"i64x2.le_s", S_BINARY, 0, 0},
    [0xDB] = {"i64x2.ge_s", S_BINARY, 0, 0},
    [0xDC] = {"i64x2.extmul_low_i32x4_s", S_BINARY, 0, 0},
    [0xDD] = {"i64x2.extmul_high_i32x4_s", S_BINARY, 0, 0},
    [0xDE] = {"i64x2.extmul_low_i32x4_u", S_BINARY, 0, 0},
    [0xDF] = {"i64x2.extmul_high_i32x4_u", S_BINARY, 0, 0},
    [0xE0] = {"f32x4.abs", S_UNARY, 0, 0},
    [0xE1] = {"f32x4.neg", S_UNARY, 0, 0},
    [0xE3] = {"f32x4.sqrt", S_UNARY, 0, 0},
    [0xE4] = {"f32x4.add", S_BINARY, 0, 0},
    [0xE5] = {"f32x4.sub", S_BINARY, 0, 0},
    [0xE6] = {"f32x4.mul", S_BINARY, 0, 0},
    [0xE7] = {"f32x4.div", S_BINARY, 0, 0},
    [0xE8] = {"f32x4.min", S_BINARY, 0, 0},
    [0xE9] = {"f32x4.max", S_BINARY, 0, 0},
    [0xEA] = {"f32x4.pmin", S_BINARY, 0, 0},
    [0xEB] = {"f32x4.pmax", S_BINARY, 0, 0},
    [0xEC] = {"f64x2.abs", S_UNARY, 0, 0},
    [0xED] = {"f64x2.neg", S_UNARY, 0, 0},
    [0xEF] = {"f64x2.sqrt", S_UNARY, 0, 0},
    [0xF0] = {"f64x2.add", S_BINARY, 0, 0},
    [0xF1] = {"f64x2.sub", S_BINARY, 0, 0},
    [0xF2] = {"f64x2.mul", S_BINARY, 0, 0},
    [0xF3] = {"f64x2.div", S_BINARY, 0, 0},
    [0xF4] = {"f64x2.min", S_BINARY, 0, 0},
    [0xF5] = {"f64x2.max", S_BINARY, 0, 0},
    [0xF6] = {"f64x2.pmin", S_BINARY, 0, 0},
    [0xF7] = {"f64x2.pmax", S_BINARY, 0, 0},
    [0xF8] = {"i32x4.trunc_sat_f32x4_s", S_UNARY, 0, 0},
    [0xF9] = {"i32x4.trunc_sat_f32x4_u", S_UNARY, 0, 0},
    [0xFA] = {"f32x4.convert_i32x4_s", S_UNARY, 0, 0},
    [0xFB] = {"f32x4.convert_i32x4_u", S_UNARY, 0, 0},
    [0xFC] = {"i32x4.trunc_sat_f64x2_s_zero", S_UNARY, 0, 0},
    [0xFD] = {"i32x4.trunc_sat_f64x2_u_zero", S_UNARY, 0, 0},
    [0xFE] = {"f64x2.convert_low_i32x4_s", S_UNARY, 0, 0},
    [0xFF] = {"f64x2.convert_low_i32x4_u", S_UNARY, 0, 0},
};

/* Numeric instructions 0x45..0xC4: operand type, number of operands (1 or 2), result type. */
#define UN(t, r)                                                                                   \
    {                                                                                              \
        t, 1, r                                                                                    \
    }
#define BIN(t, r)                                                                                  \
    {                                                                                              \
        t, 2, r                                                                                    \
    }
#define BIN6(t, r) BIN(t, r), BIN(t, r), BIN(t, r), BIN(t, r), BIN(t, r), BIN(t, r)
#define BIN7(t, r) BIN6(t, r), BIN(t, r)
#define UN7(t, r) UN(t, r), UN(t, r), UN(t, r), UN(t, r), UN(t, r), UN(t, r), UN(t, r)
/* clang-format off */
static const uint8_t NUMERIC[][3] = {
    UN(I32, I32),                           /* 0x45 i32.eqz */
    BIN6(I32, I32), BIN(I32, I32), BIN(I32, I32), BIN(I32, I32), BIN(I32, I32), /* 0x46-0x4f */
    UN(I64, I32),                           /* 0x50 i64.eqz */
    BIN6(I64, I32), BIN(I64, I32), BIN(I64, I32), BIN(I64, I32), BIN(I64, I32), /* 0x51-0x5a */
    BIN6(F32, I32),                         /* 0x5b-0x60 f32 comparisons */
    BIN6(F64, I32),                         /* 0x61-0x66 f64 comparisons */
    UN(I32, I32), UN(I32, I32), UN(I32, I32), /* 0x67-0x69 i32 clz ctz popcnt */
    BIN7(I32, I32), BIN7(I32, I32), BIN(I32, I32), /* 0x6a-0x78 i32 add .. rotr */
    UN(I64, I64), UN(I64, I64), UN(I64, I64), /* 0x79-0x7b */
    BIN7(I64, I64), BIN7(I64, I64), BIN(I64, I64), /* 0x7c-0x8a */
    UN7(F32, F32),                          /* 0x8b-0x91 f32 abs .. sqrt */
    BIN7(F32, F32),                         /* 0x92-0x98 f32 add .. copysign */
    UN7(F64, F64),                          /* 0x99-0x9f */
    BIN7(F64, F64),                         /* 0xa0-0xa6 */
    UN(I64, I32),                           /* 0xa7 i32.wrap_i64 */
    UN(F32, I32), UN(F32, I32), UN(F64, I32), UN(F64, I32), /* 0xa8-0xab i32.trunc_* */
    UN(I32, I64), UN(I32, I64),             /* 0xac-0xad i64.extend_i32_* */
    UN(F32, I64), UN(F32, I64), UN(F64, I64), UN(F64, I64), /* 0xae-0xb1 i64.trunc_* */
    UN(I32, F32), UN(I32, F32), UN(I64, F32), UN(I64, F32), /* 0xb2-0xb5 f32.convert_* */
    UN(F64, F32),                           /* 0xb6 f32.demote_f64 */
    UN(I32, F64), UN(I32, F64), UN(I64, F64), UN(I64, F64), /* 0xb7-0xba f64.convert_* */
    UN(F32, F64),                           /* 0xbb f64.promote_f32 */
    UN(F32, I32), UN(F64, I64), UN(I32, F32), UN(I64, F64), /* 0xbc-0xbf reinterpret */
    UN(I32, I32), UN(I32, I32),             /* 0xc0-0xc1 i32.extend8_s/16_s */
    UN(I64, I64), UN(I64, I64), UN(I64, I64), /* 0xc2-0xc4 i64.extend8_s/16_s/32_s */
};
/* clang-format on */
_Static_assert(sizeof NUMERIC / sizeof NUMERIC[0] == 0xC5 - 0x45, "one row per opcode");

/* 0xFC 0..7, the non-trapping conversions: operand type, result type. */
static const uint8_t TRUNC_SAT[8][2] = {{F32, I32}, {F32, I32}, {F64, I32}, {F64, I32},
                                        {F32, I64}, {F32, I64}, {F64, I64}, {F64, I64}};

/* Loads and stores 0x28..0x3E: log2 of the natural alignment, value type, is a store. */
/* clang-format off */
static const uint8_t MEMOPS[][3] = {
    {2, I32, 0}, {3, I64, 0}, {2, F32, 0}, {3, F64, 0}, /* 0x28-0x2b loads */
    {0, I32, 0}, {0, I32, 0}, {1, I32, 0}, {1, I32, 0}, /* 0x2c-0x2f i32.load8/16 */
    {0, I64, 0}, {0, I64, 0}, {1, I64, 0}, {1, I64, 0}, /* 0x30-0x33 i64.load8/16 */
    {2, I64, 0}, {2, I64, 0},                           /* 0x34-0x35 i64.load32 */
    {2, I32, 1}, {3, I64, 1}, {2, F32, 1}, {3, F64, 1}, /* 0x36-0x39 stores */
    {0, I32, 1}, {1, I32, 1}, {0, I64, 1}, {1, I64, 1}, /* 0x3a-0x3d narrow stores */
    {2, I64, 1},                                        /* 0x3e i64.store32 */
};
/* clang-format on */
_Static_assert(sizeof MEMOPS / sizeof MEMOPS[0] == 0x3F - 0x28, "one row per opcode");

/* Opcodes of proposals past WebAssembly 2.0: the proposal, for the "not supported" message. */
static const char *op_feature(uint8_t op)
{
    switch (op) {
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0A:
    case 0x18:
    case 0x19:
    case 0x1F: return "exception handling";
    case 0x14:
    case 0x15:
    case 0xD4:
    case 0xD5:
    case 0xD6: return "typed function references";
    case 0xD3:
    case 0xFB: return "GC";
    case 0xFE: return "threads";
    default: return NULL;
    }
}

const char *exn_valtype_feature(uint8_t b)
{
    if (b == 0x63 || b == 0x64)
        return "typed function references";
    return b == 0x69 ? "exception handling" : "GC";
}

/* ---- errors ----------------------------------------------------------------------------- */

static size_t off(const fv_t *v, const uint8_t *at)
{
    return (size_t)(at - v->c->module);
}

bool exn_verror(exn_verror_t *e, exn_status_t status, size_t offset, const char *fmt, ...)
{
    if (e->status == EXN_OK) {
        e->status = status;
        e->offset = offset;
        va_list ap;
        va_start(ap, fmt);
        exn_vfmt(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return false;
}

#define FAIL(v, ...) exn_verror((v)->e, EXN_ERR_LOAD, off(v, (v)->op_at), __VA_ARGS__)
#define FAIL_AT(v, at, ...) exn_verror((v)->e, EXN_ERR_LOAD, off(v, at), __VA_ARGS__)

bool exn_vcheck_valtype(exn_verror_t *e, const exn_vctx_t *c, const uint8_t *at, uint8_t b)
{
    switch (exn_valtype_class(b)) {
    case EXN_VT_OK: return true;
    case EXN_VT_UNSUPPORTED: {
        char hex[8];
        exn_fmt(hex, sizeof hex, "0x%02x", b);
        return exn_verror(e, EXN_ERR_UNSUPPORTED, (size_t)(at - c->module),
                          "value type %s (from the %s proposal) is not supported by "
                          "extism_native",
                          b == 0x69 ? "exnref" : hex, exn_valtype_feature(b));
    }
    default:
        return exn_verror(e, EXN_ERR_LOAD, (size_t)(at - c->module), "malformed value type 0x%02x",
                          b);
    }
}

static const char *op_name(const fv_t *v)
{
    const uint8_t *at = v->op_at;
    if (*at == 0xFC) {
        exn_wread_t r = exn_wread_init(at + 1, v->r.end);
        uint32_t sub;
        if (exn_wread_u32(&r, &sub) && sub < 18)
            return FC_NAMES[sub];
        return "0xfc-prefixed instruction";
    }
    if (*at == 0xFD) {
        exn_wread_t r = exn_wread_init(at + 1, v->r.end);
        uint32_t sub;
        if (exn_wread_u32(&r, &sub) && sub < 256 && SIMD[sub].name)
            return SIMD[sub].name;
        return "0xfd-prefixed instruction";
    }
    return OP_NAMES[*at] ? OP_NAMES[*at] : "instruction";
}

static const char *tname(uint8_t t)
{
    return t == T_NONE ? "nothing" : t == T_UNKNOWN ? "any value" : exn_valtype_name(t);
}

static bool mismatch(fv_t *v, uint8_t expect, uint8_t found)
{
    return FAIL(v, "type mismatch in %s: expected %s, found %s", op_name(v), tname(expect),
                tname(found));
}

static bool nomem(fv_t *v)
{
    return exn_verror(v->e, EXN_ERR_NOMEM, off(v, v->op_at), "out of memory");
}

/* ---- the operand stack ---------------------------------------------------------------------- */

static bool grow_vals(fv_t *v, uint32_t n)
{
    uint64_t need = (uint64_t)v->vh + n;
    if (need > EXN_VMAX_OPERANDS)
        return exn_verror(v->e, EXN_ERR_UNSUPPORTED, off(v, v->op_at),
                          "operand stack deeper than %u values is not supported by extism_native",
                          EXN_VMAX_OPERANDS);
    uint32_t cap = v->vals_cap;
    while (cap < need)
        cap *= 2;
    uint8_t *p = exn_realloc(v->vals, cap);
    if (!p)
        return nomem(v);
    v->s->vals = v->vals = p;
    v->s->vals_cap = v->vals_cap = cap;
    return true;
}

HOT bool push(fv_t *v, uint8_t t)
{
    if (EXN_UNLIKELY(v->vh >= v->vals_cap) && !grow_vals(v, 1))
        return false;
    v->vals[v->vh++] = t;
    return true;
}

HOT bool push_vals(fv_t *v, const uint8_t *ts, uint32_t n)
{
    if (EXN_UNLIKELY(n > v->vals_cap - v->vh) && !grow_vals(v, n))
        return false;
    if (n)
        memcpy(v->vals + v->vh, ts, n);
    v->vh += n;
    return true;
}

/* Pop a value of type t (T_UNKNOWN in the stack matches any t). */
HOT bool pop_t(fv_t *v, uint8_t t)
{
    if (EXN_LIKELY(v->vh > v->base)) {
        uint8_t a = v->vals[--v->vh];
        if (EXN_LIKELY(a == t) || a == T_UNKNOWN)
            return true;
        return mismatch(v, t, a);
    }
    return v->unreachable || mismatch(v, t, T_NONE);
}

HOT bool pop_any(fv_t *v, uint8_t *out)
{
    if (EXN_LIKELY(v->vh > v->base)) {
        *out = v->vals[--v->vh];
        return true;
    }
    *out = T_UNKNOWN;
    return v->unreachable ||
           FAIL(v, "type mismatch in %s: expected a value, found nothing", op_name(v));
}

/* Check that the top of the stack matches ts[0..n) (ts[n-1] on top), popping them if `pop`.
 * Below the frame's height the stack holds nothing, which matches only in unreachable code. */
static bool match_vals(fv_t *v, const uint8_t *ts, uint32_t n, bool pop)
{
    uint32_t avail = v->vh - v->base;
    uint32_t k = n < avail ? n : avail;
    const uint8_t *s = v->vals + v->vh - k, *t = ts + n - k;
    if (k && memcmp(s, t, k) != 0) {
        for (uint32_t i = k; i-- > 0;) {
            if (s[i] != t[i] && s[i] != T_UNKNOWN)
                return mismatch(v, t[i], s[i]);
        }
    }
    if (k < n && !v->unreachable)
        return mismatch(v, ts[n - k - 1], T_NONE);
    if (pop)
        v->vh -= k;
    return true;
}

HOT bool pop_vals(fv_t *v, const uint8_t *ts, uint32_t n)
{
    if (n == 1)
        return pop_t(v, ts[0]);
    return n == 0 || match_vals(v, ts, n, true);
}

static inline bool pop3_i32(fv_t *v)
{
    return pop_t(v, I32) && pop_t(v, I32) && pop_t(v, I32);
}

/* ---- the control stack ---------------------------------------------------------------------- */

static bool push_ctrl(fv_t *v, uint8_t kind, const uint8_t *params, uint32_t np,
                      const uint8_t *results, uint32_t nr)
{
    exn_vcode_t *s = v->s;
    if (v->ch == s->frames_cap) {
        /* bounded by the body size: each frame takes an instruction of two bytes or more */
        if (s->frames_cap > UINT32_MAX / 2 / sizeof(frame_t))
            return nomem(v);
        uint32_t cap = s->frames_cap * 2;
        frame_t *f = exn_realloc(s->frames, (size_t)cap * sizeof *f);
        if (!f)
            return nomem(v);
        s->frames = f;
        s->frames_cap = cap;
    }
    frame_t *f = &s->frames[v->ch++];
    f->params = params;
    f->n_params = np;
    f->results = results;
    f->n_results = nr;
    f->label = kind == K_LOOP ? params : results;
    f->n_label = kind == K_LOOP ? np : nr;
    f->height = v->vh;
    f->stamp = 0;
    f->kind = kind;
    f->unreachable = false;
    v->top = f;
    v->base = v->vh;
    v->unreachable = false;
    return push_vals(v, params, np);
}

static inline void set_unreachable(fv_t *v)
{
    v->vh = v->base;
    v->top->unreachable = v->unreachable = true;
}

static bool pop_frame_results(fv_t *v)
{
    frame_t *f = v->top;
    if (!pop_vals(v, f->results, f->n_results))
        return false;
    if (v->vh != f->height)
        return FAIL(v, "type mismatch in %s: %u value%s too many on the stack at the end of the %s",
                    op_name(v), v->vh - f->height, v->vh - f->height == 1 ? "" : "s",
                    f->kind == K_FUNC    ? "function"
                    : f->kind == K_LOOP  ? "loop"
                    : f->kind == K_BLOCK ? "block"
                                         : "if");
    return true;
}

static bool label_frame(fv_t *v, uint32_t depth, frame_t **out)
{
    if (depth >= v->ch)
        return FAIL(v, "unknown label %u", depth);
    *out = &v->s->frames[v->ch - 1 - depth];
    return true;
}

/* ---- immediates ----------------------------------------------------------------------------- */

static bool read_blocktype(fv_t *v, const uint8_t **params, uint32_t *np, const uint8_t **results,
                           uint32_t *nr)
{
    exn_wread_t *r = &v->r;
    *params = *results = NULL;
    *np = *nr = 0;
    if (r->p >= r->end)
        return exn_wread_fail(r, r->p, "unexpected end");
    uint8_t b = *r->p;
    if (b == 0x40) { /* [] -> [] */
        r->p++;
        return true;
    }
    if ((b & 0xC0) == 0x40) { /* a one-byte negative s33: a value type, [] -> [t] */
        if (!exn_vcheck_valtype(v->e, v->c, r->p, b))
            return false;
        if (b == V128)
            v->s->features |= EXN_FEATURE_SIMD;
        *results = r->p++; /* the type byte itself, inside the body */
        *nr = 1;
        return true;
    }
    int64_t x;
    const uint8_t *at = r->p;
    if (!exn_wread_sleb(r, 33, &x))
        return false;
    if (x < 0)
        return FAIL_AT(v, at, "malformed block type");
    if (x >= v->c->n_types)
        return FAIL_AT(v, at, "unknown type %u", (unsigned)x);
    const exn_vfunctype_t *t = &v->c->types[x];
    if (t->n_params || t->n_results > 1)
        v->s->features |= EXN_FEATURE_MULTI_VALUE;
    *params = t->params;
    *np = t->n_params;
    *results = t->results;
    *nr = t->n_results;
    return true;
}

static bool zero_byte(fv_t *v)
{
    uint8_t b;
    if (!exn_wread_u8(&v->r, &b))
        return false;
    return b == 0 || FAIL_AT(v, v->r.p - 1, "zero byte expected in %s", op_name(v));
}

static bool need_memory(fv_t *v)
{
    return v->c->n_mems > 0 || FAIL(v, "unknown memory 0 in %s", op_name(v));
}

static bool table_index(fv_t *v, uint32_t *x)
{
    if (!exn_wread_u32(&v->r, x))
        return false;
    return *x < v->c->n_tables || FAIL(v, "unknown table %u in %s", *x, op_name(v));
}

static bool elem_index(fv_t *v, uint32_t *x)
{
    if (!exn_wread_u32(&v->r, x))
        return false;
    return *x < v->c->n_elems || FAIL(v, "unknown element segment %u in %s", *x, op_name(v));
}

static bool data_index(fv_t *v)
{
    uint32_t x;
    if (!exn_wread_u32(&v->r, &x))
        return false;
    /* a binary-format rule: without the count, one pass could not check the index */
    if (!v->c->has_data_count)
        return FAIL(v, "data count section required for %s", op_name(v));
    return x < v->c->data_count || FAIL(v, "unknown data segment %u in %s", x, op_name(v));
}

/* ---- locals --------------------------------------------------------------------------------- */

static bool read_locals(fv_t *v, const exn_vfunctype_t *ft)
{
    exn_vcode_t *s = v->s;
    exn_wread_t *r = &v->r;
    const size_t body_len = exn_wread_left(r);
    uint32_t n;
    if (!exn_wread_u32(r, &n))
        return false;
    if (n > exn_wread_left(r) / 2) /* each declaration takes two bytes or more */
        return exn_wread_fail(r, r->end, "unexpected end");
    if (n > s->groups_cap) {
        uint32_t *ge = exn_realloc(s->group_end, (size_t)n * sizeof *ge);
        if (ge)
            s->group_end = ge;
        uint8_t *gt = exn_realloc(s->group_type, n);
        if (gt)
            s->group_type = gt;
        if (!ge || !gt)
            return nomem(v);
        s->groups_cap = n;
    }
    uint64_t total = ft->n_params;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        uint32_t count;
        uint8_t t;
        if (!exn_wread_u32(r, &count) || !exn_wread_u8(r, &t))
            return false;
        if (!exn_vcheck_valtype(v->e, v->c, r->p - 1, t))
            return false;
        if (t == FUNCREF || t == EXTERNREF)
            s->features |= EXN_FEATURE_REFERENCE_TYPES;
        else if (t == V128)
            s->features |= EXN_FEATURE_SIMD;
        total += count;
        if (total > UINT32_MAX)
            return FAIL_AT(v, at, "too many locals");
        s->group_end[i] = (uint32_t)total;
        s->group_type[i] = t;
    }
    /* the first locals get a direct lookup table, its size bounded by the body size */
    uint64_t fast = (uint64_t)ft->n_params + 64 + 4 * (uint64_t)body_len;
    if (fast > (uint64_t)ft->n_params + 65536)
        fast = (uint64_t)ft->n_params + 65536;
    if (fast > total)
        fast = total;
    if (fast > s->locals_cap) {
        size_t cap = s->locals_cap ? s->locals_cap : 256;
        while (cap < fast)
            cap *= 2;
        uint8_t *p = exn_realloc(s->locals, cap);
        if (!p)
            return nomem(v);
        s->locals = p;
        s->locals_cap = cap;
    }
    if (ft->n_params)
        memcpy(s->locals, ft->params, ft->n_params);
    uint32_t k = ft->n_params;
    for (uint32_t i = 0; i < n && k < fast; i++) {
        uint32_t stop = s->group_end[i] < fast ? s->group_end[i] : (uint32_t)fast;
        memset(s->locals + k, s->group_type[i], stop - k);
        k = stop;
    }
    v->n_locals = (uint32_t)total;
    v->n_fast = (uint32_t)fast;
    v->n_groups = n;
    return true;
}

HOT bool local_type(fv_t *v, uint8_t *out)
{
    uint32_t x;
    if (!exn_wread_u32(&v->r, &x))
        return false;
    if (EXN_LIKELY(x < v->n_fast)) {
        *out = v->s->locals[x];
        return true;
    }
    if (x >= v->n_locals)
        return FAIL(v, "unknown local %u", x);
    /* past the table (so past the params): the first declaration that ends after x */
    uint32_t lo = 0, hi = v->n_groups - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v->s->group_end[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    *out = v->s->group_type[lo];
    return true;
}

/* ---- instructions --------------------------------------------------------------------------- */

static bool br_table(fv_t *v)
{
    exn_wread_t *r = &v->r;
    uint32_t n, depth;
    if (!exn_wread_u32(r, &n))
        return false;
    if (n >= exn_wread_left(r)) /* each label takes a byte or more, and the default follows */
        return exn_wread_fail(r, r->end, "unexpected end");
    const uint8_t *labels = r->p;
    for (uint32_t i = 0; i <= n; i++) { /* first pass: decode, and find the default */
        if (!exn_wread_u32(r, &depth))
            return false;
        if (depth >= v->ch)
            return FAIL(v, "unknown label %u in br_table", depth);
    }
    frame_t *dflt = &v->s->frames[v->ch - 1 - depth];
    if (!pop_t(v, I32))
        return false;
    /* Every target takes as many values as the default, and the operands must match each
     * target's types (spec appendix A.3: push_vals(pop_vals(labels(l))) for each label): in
     * unreachable code an operand the stack does not hold matches anything, so targets of
     * different types are valid there (unreached-valid.wast), and nowhere else.  Each
     * distinct target frame is checked once per br_table (the stamp), which keeps a table of
     * many labels linear; the default is checked last, by popping. */
    uint64_t stamp = ++v->s->stamp;
    dflt->stamp = stamp;
    exn_wread_t again = exn_wread_init(labels, r->end);
    for (uint32_t i = 0; i < n; i++) {
        exn_wread_u32(&again, &depth); /* decoded fine in the first pass */
        frame_t *f = &v->s->frames[v->ch - 1 - depth];
        if (f->stamp == stamp)
            continue;
        f->stamp = stamp;
        if (f->n_label != dflt->n_label)
            return FAIL(v,
                        "type mismatch in br_table: label %u takes %u value%s, the default "
                        "label %u",
                        depth, f->n_label, f->n_label == 1 ? "" : "s", dflt->n_label);
        if (f != dflt && !match_vals(v, f->label, f->n_label, false))
            return false;
    }
    if (!pop_vals(v, dflt->label, dflt->n_label))
        return false;
    set_unreachable(v);
    return true;
}

/* A memarg's alignment field with bit 6 set announces a memory index (the multi-memory
 * proposal's encoding; in 2.0 it is an alignment larger than natural, also refused). */
static bool memarg_align(fv_t *v, uint32_t *align)
{
    if (!exn_wread_u32(&v->r, align))
        return false;
    if (*align >= 64 && *align < 128)
        return exn_verror(v->e, EXN_ERR_UNSUPPORTED, off(v, v->op_at),
                          "a memory index in %s (from the multi-memory proposal) is not "
                          "supported by extism_native",
                          op_name(v));
    return true;
}

static bool memop(fv_t *v, uint8_t op)
{
    const uint8_t *m = MEMOPS[op - 0x28];
    uint32_t align, offset;
    if (!memarg_align(v, &align) || !exn_wread_u32(&v->r, &offset) || !need_memory(v))
        return false;
    if (align > m[0])
        return FAIL(v, "alignment must not be larger than natural in %s (2^%u > %u bytes)",
                    op_name(v), align, 1u << m[0]);
    if (m[2])
        return pop_t(v, m[1]) && pop_t(v, I32);
    return pop_t(v, I32) && push(v, m[1]);
}

static bool select_op(fv_t *v, bool typed)
{
    uint8_t t1, t2;
    if (typed) {
        uint32_t n;
        const uint8_t *at = v->r.p;
        if (!exn_wread_u32(&v->r, &n))
            return false;
        if (n != 1)
            return FAIL_AT(v, at, "invalid result arity %u in select", n);
        if (!exn_wread_u8(&v->r, &t1) || !exn_vcheck_valtype(v->e, v->c, v->r.p - 1, t1))
            return false;
        if (t1 == V128)
            v->s->features |= EXN_FEATURE_SIMD;
        return pop_t(v, I32) && pop_t(v, t1) && pop_t(v, t1) && push(v, t1);
    }
    if (!pop_t(v, I32) || !pop_any(v, &t1) || !pop_any(v, &t2))
        return false;
    /* without a type, select takes numeric operands only (spec 3.3.4) */
    if (t1 == FUNCREF || t1 == EXTERNREF || t2 == FUNCREF || t2 == EXTERNREF)
        return FAIL(v, "type mismatch in select: %s operands need select with a type",
                    tname(t1 == FUNCREF || t1 == EXTERNREF ? t1 : t2));
    if (t1 != t2 && t1 != T_UNKNOWN && t2 != T_UNKNOWN)
        return mismatch(v, t2, t1); /* the second operand must have the first's type */
    return push(v, t1 == T_UNKNOWN ? t2 : t1);
}

static bool prefixed_fc(fv_t *v)
{
    const exn_vctx_t *c = v->c;
    uint32_t sub, x, y;
    if (!exn_wread_u32(&v->r, &sub))
        return false;
    v->s->features |= sub < 8    ? EXN_FEATURE_SAT_TRUNC
                      : sub < 15 ? EXN_FEATURE_BULK_MEMORY
                                 : EXN_FEATURE_REFERENCE_TYPES;
    if (sub < 8)
        return pop_t(v, TRUNC_SAT[sub][0]) && push(v, TRUNC_SAT[sub][1]);
    if (sub == 9 || (sub >= 12 && sub <= 17 && sub != 16)) /* drops, table changes */
        v->s->features |= EXN_CODE_CHANGES_TABLES;
    switch (sub) {
    case 8: /* memory.init data 0 */
        return data_index(v) && zero_byte(v) && need_memory(v) && pop3_i32(v);
    case 9: /* data.drop data */ return data_index(v);
    case 10: /* memory.copy 0 0 */
        return zero_byte(v) && zero_byte(v) && need_memory(v) && pop3_i32(v);
    case 11: /* memory.fill 0 */ return zero_byte(v) && need_memory(v) && pop3_i32(v);
    case 12: /* table.init elem table */
        if (!elem_index(v, &y) || !table_index(v, &x))
            return false;
        if (c->elems[y] != c->tables[x])
            return FAIL(v,
                        "type mismatch in table.init: element segment %u holds %s, table %u "
                        "holds %s",
                        y, tname(c->elems[y]), x, tname(c->tables[x]));
        return pop3_i32(v);
    case 13: /* elem.drop elem */ return elem_index(v, &y);
    case 14: /* table.copy dst src */
        if (!table_index(v, &x) || !table_index(v, &y))
            return false;
        if (c->tables[x] != c->tables[y])
            return FAIL(v, "type mismatch in table.copy: table %u holds %s, table %u holds %s", x,
                        tname(c->tables[x]), y, tname(c->tables[y]));
        return pop3_i32(v);
    case 15: /* table.grow: [t i32] -> [i32] */
        return table_index(v, &x) && pop_t(v, I32) && pop_t(v, c->tables[x]) && push(v, I32);
    case 16: /* table.size */ return table_index(v, &x) && push(v, I32);
    case 17: /* table.fill: [i32 t i32] -> [] */
        return table_index(v, &x) && pop_t(v, I32) && pop_t(v, c->tables[x]) && pop_t(v, I32);
    default: return FAIL(v, "illegal opcode 0xfc %u", sub);
    }
}

static bool lane_index(fv_t *v, uint8_t lanes, uint8_t *out)
{
    if (!exn_wread_u8(&v->r, out))
        return false;
    return *out < lanes || FAIL_AT(v, v->r.p - 1, "invalid lane index %u in %s (it has %u lanes)",
                                   *out, op_name(v), lanes);
}

static bool simd_memarg(fv_t *v, uint8_t natural)
{
    uint32_t align, offset;
    if (!memarg_align(v, &align) || !exn_wread_u32(&v->r, &offset) || !need_memory(v))
        return false;
    return align <= natural ||
           FAIL(v, "alignment must not be larger than natural in %s (2^%u > %u bytes)", op_name(v),
                align, 1u << natural);
}

/* 0xFD: fixed-width SIMD */
static bool prefixed_fd(fv_t *v)
{
    uint32_t sub;
    uint8_t lane;
    const uint8_t *bytes;
    v->s->features |= EXN_FEATURE_SIMD;
    if (!exn_wread_u32(&v->r, &sub))
        return false;
    if (sub >= 0x100 && sub <= 0x113)
        return exn_verror(v->e, EXN_ERR_UNSUPPORTED, off(v, v->op_at),
                          "relaxed SIMD instructions (opcode 0xfd %u, from the relaxed SIMD "
                          "proposal) are not supported by extism_native",
                          sub);
    if (sub >= 256 || !SIMD[sub].name)
        return FAIL(v, "illegal opcode 0xfd %u", sub);
    const uint8_t arg = SIMD[sub].arg;
    switch (SIMD[sub].shape) {
    case S_LOAD: return simd_memarg(v, arg) && pop_t(v, I32) && push(v, V128);
    case S_STORE: return simd_memarg(v, arg) && pop_t(v, V128) && pop_t(v, I32);
    case S_LOAD_LANE:
        return simd_memarg(v, arg) && lane_index(v, SIMD[sub].lanes, &lane) && pop_t(v, V128) &&
               pop_t(v, I32) && push(v, V128);
    case S_STORE_LANE:
        return simd_memarg(v, arg) && lane_index(v, SIMD[sub].lanes, &lane) && pop_t(v, V128) &&
               pop_t(v, I32);
    case S_CONST: return exn_wread_bytes(&v->r, 16, &bytes) && push(v, V128);
    case S_SHUFFLE:
        for (int i = 0; i < 16; i++) {
            if (!lane_index(v, 32, &lane))
                return false;
        }
        return pop_t(v, V128) && pop_t(v, V128) && push(v, V128);
    case S_SPLAT: return pop_t(v, arg) && push(v, V128);
    case S_EXTRACT: return lane_index(v, SIMD[sub].lanes, &lane) && pop_t(v, V128) && push(v, arg);
    case S_REPLACE:
        return lane_index(v, SIMD[sub].lanes, &lane) && pop_t(v, arg) && pop_t(v, V128) &&
               push(v, V128);
    case S_UNARY: return pop_t(v, V128) && push(v, V128);
    case S_BINARY: return pop_t(v, V128) && pop_t(v, V128) && push(v, V128);
    case S_TERNARY: return pop_t(v, V128) && pop_t(v, V128) && pop_t(v, V128) && push(v, V128);
    case S_TEST: return pop_t(v, V128) && push(v, I32);
    default: /* S_SHIFT */ return pop_t(v, I32) && pop_t(v, V128) && push(v, V128);
    }
}

/* The expression of a body, up to and including the `end` that closes the function frame. */
static bool check_expr(fv_t *v)
{
    exn_wread_t *r = &v->r;
    const exn_vctx_t *c = v->c;
    for (;;) {
        if (EXN_UNLIKELY(r->p >= r->end))
            return FAIL_AT(v, r->p, "unexpected end of the function body (no end instruction)");
        v->op_at = r->p;
        uint8_t op = *r->p++;
        if (op >= 0x45 && op <= 0xC4) { /* numeric: [t] -> [t'] or [t t] -> [t'] */
            const uint8_t *sig = NUMERIC[op - 0x45];
            if (!pop_t(v, sig[0]) || (sig[1] == 2 && !pop_t(v, sig[0])) || !push(v, sig[2]))
                return false;
            if (EXN_UNLIKELY(op >= 0xC0))
                v->s->features |= EXN_FEATURE_SIGN_EXT;
            continue;
        }
        if (op >= 0x28 && op <= 0x3E) {
            if (!memop(v, op))
                return false;
            continue;
        }
        uint32_t x = 0;
        uint8_t t = 0;
        const uint8_t *ps, *rs;
        uint32_t np, nr;
        frame_t *f = NULL;
        bool ok;
        switch (op) {
        case 0x00: /* unreachable */
            set_unreachable(v);
            ok = true;
            break;
        case 0x01: /* nop */ ok = true; break;
        case 0x02: /* block bt */
        case 0x03: /* loop bt */
        case 0x04: /* if bt */
            ok = read_blocktype(v, &ps, &np, &rs, &nr) && (op != 0x04 || pop_t(v, I32)) &&
                 pop_vals(v, ps, np) && push_ctrl(v, op, ps, np, rs, nr);
            break;
        case 0x05: /* else */
            f = v->top;
            if (f->kind != K_IF)
                return FAIL(v, "else without a matching if");
            if (!pop_frame_results(v))
                return false;
            f->kind = K_ELSE;
            f->unreachable = v->unreachable = false;
            ok = push_vals(v, f->params, f->n_params);
            break;
        case 0x0B: /* end */
            f = v->top;
            if (!pop_frame_results(v))
                return false;
            if (f->kind == K_IF &&
                (f->n_params != f->n_results ||
                 (f->n_params && memcmp(f->params, f->results, f->n_params) != 0)))
                return FAIL(v, "type mismatch in if: without an else, its block type must leave "
                               "the stack unchanged");
            if (--v->ch == 0) {
                if (r->p != r->end)
                    return FAIL_AT(v, r->p, "operators remaining after the end of the function");
                return true;
            }
            v->top = f - 1;
            v->base = v->top->height;
            v->unreachable = v->top->unreachable;
            ok = push_vals(v, f->results, f->n_results);
            break;
        case 0x0C: /* br l */
            ok = exn_wread_u32(r, &x) && label_frame(v, x, &f) && pop_vals(v, f->label, f->n_label);
            if (ok)
                set_unreachable(v);
            break;
        case 0x0D: /* br_if l */
            ok = exn_wread_u32(r, &x) && label_frame(v, x, &f) && pop_t(v, I32) &&
                 pop_vals(v, f->label, f->n_label) && push_vals(v, f->label, f->n_label);
            break;
        case 0x0E: ok = br_table(v); break;
        case 0x0F: /* return */
            f = &v->s->frames[0];
            ok = pop_vals(v, f->label, f->n_label);
            if (ok)
                set_unreachable(v);
            break;
        case 0x10: { /* call f */
            if (!exn_wread_u32(r, &x))
                return false;
            if (x >= c->n_funcs)
                return FAIL(v, "unknown function %u in call", x);
            const exn_vfunctype_t *ft = &c->types[c->funcs[x]];
            ok = pop_vals(v, ft->params, ft->n_params) && push_vals(v, ft->results, ft->n_results);
            break;
        }
        case 0x11: { /* call_indirect type table */
            uint32_t y;
            if (!exn_wread_u32(r, &y) || !table_index(v, &x))
                return false;
            if (y >= c->n_types)
                return FAIL(v, "unknown type %u in call_indirect", y);
            if (c->tables[x] != FUNCREF)
                return FAIL(v, "type mismatch in call_indirect: table %u holds %s, not funcref", x,
                            tname(c->tables[x]));
            const exn_vfunctype_t *ft = &c->types[y];
            ok = pop_t(v, I32) && pop_vals(v, ft->params, ft->n_params) &&
                 push_vals(v, ft->results, ft->n_results);
            break;
        }
        case 0x12:   /* return_call f (tail calls) */
        case 0x13: { /* return_call_indirect type table */
            const exn_vfunctype_t *ft;
            uint32_t y = 0;
            if (op == 0x12) {
                if (!exn_wread_u32(r, &x))
                    return false;
                if (x >= c->n_funcs)
                    return FAIL(v, "unknown function %u in return_call", x);
                ft = &c->types[c->funcs[x]];
            } else {
                if (!exn_wread_u32(r, &y) || !table_index(v, &x))
                    return false;
                if (y >= c->n_types)
                    return FAIL(v, "unknown type %u in return_call_indirect", y);
                if (c->tables[x] != FUNCREF)
                    return FAIL(v,
                                "type mismatch in return_call_indirect: table %u holds %s, "
                                "not funcref",
                                x, tname(c->tables[x]));
                ft = &c->types[y];
                if (!pop_t(v, I32))
                    return false;
            }
            v->s->features |= EXN_FEATURE_TAIL_CALL;
            /* the callee's results are the caller's (spec 3.0, 3.3.8.11) */
            f = &v->s->frames[0];
            if (ft->n_results != f->n_results ||
                (ft->n_results && memcmp(ft->results, f->results, ft->n_results) != 0))
                return FAIL(v,
                            "type mismatch in %s: the callee's results differ from the "
                            "function's",
                            op_name(v));
            ok = pop_vals(v, ft->params, ft->n_params);
            if (ok)
                set_unreachable(v);
            break;
        }
        case 0x1A: /* drop */ ok = pop_any(v, &t); break;
        case 0x1B: ok = select_op(v, false); break;
        case 0x1C:
            v->s->features |= EXN_FEATURE_REFERENCE_TYPES;
            ok = select_op(v, true);
            break;
        case 0x20: /* local.get */ ok = local_type(v, &t) && push(v, t); break;
        case 0x21: /* local.set */ ok = local_type(v, &t) && pop_t(v, t); break;
        case 0x22: /* local.tee */ ok = local_type(v, &t) && pop_t(v, t) && push(v, t); break;
        case 0x23: /* global.get */
        case 0x24: /* global.set */
            if (!exn_wread_u32(r, &x))
                return false;
            if (x >= c->n_globals)
                return FAIL(v, "unknown global %u in %s", x, op_name(v));
            if (op == 0x23) {
                ok = push(v, c->globals[x].type);
                break;
            }
            if (!c->globals[x].mut)
                return FAIL(v, "global.set of global %u, which is immutable", x);
            ok = pop_t(v, c->globals[x].type);
            break;
        case 0x25: /* table.get */
            v->s->features |= EXN_FEATURE_REFERENCE_TYPES;
            ok = table_index(v, &x) && pop_t(v, I32) && push(v, c->tables[x]);
            break;
        case 0x26: /* table.set */
            v->s->features |= EXN_FEATURE_REFERENCE_TYPES | EXN_CODE_CHANGES_TABLES;
            ok = table_index(v, &x) && pop_t(v, c->tables[x]) && pop_t(v, I32);
            break;
        case 0x3F: /* memory.size 0 */ ok = zero_byte(v) && need_memory(v) && push(v, I32); break;
        case 0x40: /* memory.grow 0 */
            ok = zero_byte(v) && need_memory(v) && pop_t(v, I32) && push(v, I32);
            break;
        case 0x41: { /* i32.const */
            int64_t k;
            ok = exn_wread_sleb(r, 32, &k) && push(v, I32);
            break;
        }
        case 0x42: { /* i64.const */
            int64_t k;
            ok = exn_wread_sleb(r, 64, &k) && push(v, I64);
            break;
        }
        case 0x43: /* f32.const */
        case 0x44: /* f64.const */
            ok = exn_wread_bytes(r, op == 0x43 ? 4 : 8, &ps) && push(v, op == 0x43 ? F32 : F64);
            break;
        case 0xD0: /* ref.null t */
            v->s->features |= EXN_FEATURE_REFERENCE_TYPES;
            if (!exn_wread_u8(r, &t))
                return false;
            if (t != FUNCREF && t != EXTERNREF) {
                if (exn_valtype_class(t) == EXN_VT_UNSUPPORTED)
                    return exn_vcheck_valtype(v->e, c, r->p - 1, t);
                return FAIL_AT(v, r->p - 1, "malformed reference type 0x%02x in ref.null", t);
            }
            ok = push(v, t);
            break;
        case 0xD1: /* ref.is_null */
            v->s->features |= EXN_FEATURE_REFERENCE_TYPES;
            if (!pop_any(v, &t))
                return false;
            if (t != FUNCREF && t != EXTERNREF && t != T_UNKNOWN)
                return FAIL(v, "type mismatch in ref.is_null: expected a reference, found %s",
                            tname(t));
            ok = push(v, I32);
            break;
        case 0xD2: /* ref.func f */
            v->s->features |= EXN_FEATURE_REFERENCE_TYPES;
            if (!exn_wread_u32(r, &x))
                return false;
            if (x >= c->n_funcs)
                return FAIL(v, "unknown function %u in ref.func", x);
            if (!exn_vref_declared(c, x))
                return FAIL(v,
                            "undeclared function reference %u in ref.func (it must appear in "
                            "an element segment, an export or a global)",
                            x);
            ok = push(v, FUNCREF);
            break;
        case 0xFC: ok = prefixed_fc(v); break;
        case 0xFD: ok = prefixed_fd(v); break;
        default: {
            const char *feature = op_feature(op);
            if (feature && OP_NAMES[op])
                return exn_verror(v->e, EXN_ERR_UNSUPPORTED, off(v, v->op_at),
                                  "%s (opcode 0x%02x, from the %s proposal) is not supported by "
                                  "extism_native",
                                  OP_NAMES[op], op, feature);
            if (feature)
                return exn_verror(v->e, EXN_ERR_UNSUPPORTED, off(v, v->op_at),
                                  "0x%02x-prefixed instructions (from the %s proposal) are not "
                                  "supported by extism_native",
                                  op, feature);
            return FAIL(v, "illegal opcode 0x%02x", op);
        }
        }
        if (!ok)
            return false;
    }
}

/* ---- entry points --------------------------------------------------------------------------- */

exn_vcode_t *exn_vcode_new(void)
{
    exn_vcode_t *s = exn_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* never NULL afterwards: stack arithmetic on them is always defined */
    s->vals = exn_malloc(1024);
    s->frames = exn_malloc(64 * sizeof *s->frames);
    if (!s->vals || !s->frames) {
        exn_vcode_free(s);
        return NULL;
    }
    s->vals_cap = 1024;
    s->frames_cap = 64;
    return s;
}

uint32_t exn_vcode_features(const exn_vcode_t *s)
{
    return s->features;
}

void exn_vcode_free(exn_vcode_t *s)
{
    if (!s)
        return;
    exn_free(s->vals);
    exn_free(s->frames);
    exn_free(s->locals);
    exn_free(s->group_end);
    exn_free(s->group_type);
    exn_free(s);
}

bool exn_vcode_check(exn_vcode_t *s, const exn_vctx_t *c, uint32_t func, const uint8_t *body,
                     const uint8_t *end, exn_verror_t *e)
{
    fv_t v;
    memset(&v, 0, sizeof v);
    v.s = s;
    v.vals = s->vals;
    v.vals_cap = s->vals_cap;
    v.c = c;
    v.e = e;
    v.r = exn_wread_init(body, end);
    v.op_at = body;
    const exn_vfunctype_t *ft = &c->types[c->funcs[func]];
    if (read_locals(&v, ft) && push_ctrl(&v, K_FUNC, NULL, 0, ft->results, ft->n_results) &&
        check_expr(&v))
        return true;
    if (e->status == EXN_OK) /* a read failed: malformed */
        exn_verror(e, EXN_ERR_LOAD, off(&v, v.r.why_at ? v.r.why_at : v.r.p), "%s",
                   v.r.why ? v.r.why : "malformed function body");
    return false;
}
