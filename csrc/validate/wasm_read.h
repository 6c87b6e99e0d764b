/* wasm_read.h: the one bounds-checked reader of the WebAssembly binary encodings - bytes,
 * LEB128 integers, names - shared by module_info.c and the validator (validate*.c).
 * Reference: WebAssembly Core Specification 2.0, section 5.2 (values).
 *
 * Every read checks the bytes left before it looks at them.  A failed read returns false and
 * records its reason (a static string) and position once; later failures keep the first.
 * Integers are checked as the spec's binary format requires: at most ceil(N/7) bytes, and the
 * unused bits of the last byte zero (unsigned) or a copy of the sign bit (signed); a longer or
 * overflowing encoding is malformed.  The common one-byte case is inlined. */
#ifndef EXN_WASM_READ_H
#define EXN_WASM_READ_H

#include "support/internal.h"
#include "support/json.h" /* exn_utf8_valid */

typedef struct {
    const uint8_t *p, *end;
    const char *why;       /* the first failure, a static string; NULL while all reads worked */
    const uint8_t *why_at; /* where it happened */
} exn_wread_t;

static inline exn_wread_t exn_wread_init(const uint8_t *p, const uint8_t *end)
{
    exn_wread_t r = {p, end, NULL, NULL};
    return r;
}

static inline size_t exn_wread_left(const exn_wread_t *r)
{
    return (size_t)(r->end - r->p);
}

static inline bool exn_wread_fail(exn_wread_t *r, const uint8_t *at, const char *why)
{
    if (!r->why) {
        r->why = why;
        r->why_at = at;
    }
    return false;
}

static inline bool exn_wread_u8(exn_wread_t *r, uint8_t *out)
{
    if (EXN_UNLIKELY(r->p >= r->end))
        return exn_wread_fail(r, r->p, "unexpected end");
    *out = *r->p++;
    return true;
}

/* `n` bytes, borrowed from the input: *out points into it. */
static inline bool exn_wread_bytes(exn_wread_t *r, size_t n, const uint8_t **out)
{
    if (EXN_UNLIKELY(n > exn_wread_left(r)))
        return exn_wread_fail(r, r->p, "unexpected end");
    *out = r->p;
    r->p += n;
    return true;
}

static inline bool exn_wread_u32_slow(exn_wread_t *r, uint32_t *out)
{
    const uint8_t *p = r->p;
    uint32_t v = 0;
    for (unsigned i = 0;; i++) {
        if (p >= r->end)
            return exn_wread_fail(r, p, "unexpected end");
        uint8_t b = *p++;
        if (i == 4) {
            if (b & 0x80)
                return exn_wread_fail(r, p - 1, "integer representation too long");
            if (b & 0x70) /* bits 32..34 */
                return exn_wread_fail(r, p - 1, "integer too large");
        }
        v |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            r->p = p;
            return true;
        }
    }
}

/* An unsigned LEB128 integer of at most 32 bits (u32). */
static inline bool exn_wread_u32(exn_wread_t *r, uint32_t *out)
{
    if (EXN_LIKELY(r->p < r->end && *r->p < 0x80)) {
        *out = *r->p++;
        return true;
    }
    return exn_wread_u32_slow(r, out);
}

static inline bool exn_wread_sleb_slow(exn_wread_t *r, unsigned bits, int64_t *out)
{
    const uint8_t *p = r->p;
    const unsigned last = (bits + 6) / 7 - 1; /* index of the last byte allowed */
    uint64_t v = 0;
    unsigned shift = 0;
    for (unsigned i = 0;; i++) {
        if (p >= r->end)
            return exn_wread_fail(r, p, "unexpected end");
        uint8_t b = *p++;
        if (i == last) {
            if (b & 0x80)
                return exn_wread_fail(r, p - 1, "integer representation too long");
            /* the bits of this byte past bit N-1 must all repeat the sign bit */
            unsigned used = bits - 7 * i;
            uint8_t mask = (uint8_t)(0x7F & ~((1u << (used - 1)) - 1));
            if ((b & mask) != 0 && (b & mask) != mask)
                return exn_wread_fail(r, p - 1, "integer too large");
        }
        v |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << shift;
            *out = (int64_t)v;
            r->p = p;
            return true;
        }
    }
}

/* A signed LEB128 integer of at most `bits` bits (32, 33 or 64), sign-extended. */
static inline bool exn_wread_sleb(exn_wread_t *r, unsigned bits, int64_t *out)
{
    if (EXN_LIKELY(r->p < r->end && *r->p < 0x80)) {
        uint8_t b = *r->p++;
        *out = (int64_t)(b ^ 0x40) - 0x40;
        return true;
    }
    return exn_wread_sleb_slow(r, bits, out);
}

/* A name: u32 length, then that many bytes of valid UTF-8, borrowed from the input. */
static inline bool exn_wread_name(exn_wread_t *r, const uint8_t **out, uint32_t *out_len)
{
    uint32_t n;
    if (!exn_wread_u32(r, &n) || !exn_wread_bytes(r, n, out))
        return false;
    if (!exn_utf8_valid(*out, n))
        return exn_wread_fail(r, *out, "malformed UTF-8 encoding");
    *out_len = n;
    return true;
}

#endif
