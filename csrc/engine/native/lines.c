/* engine/native/lines.c: the line table of a compiled module (see lines.h).
 *
 * ELF (32 or 64-bit, little-endian): the section headers, `.debug_line` by name, the program
 * headers (the first loaded segment must be at address 0, so link addresses are offsets from
 * the load base).  DWARF 2 to 4 line programs (the standard's section 6.2): the header's file
 * names say which file index is "w" (an instruction's offset) or "p" (no instruction); the
 * state machine's rows of other files (the compiler's header m.h, inlined into an instruction)
 * are left out, so their code belongs to the instruction around them.  Every read is checked
 * against the end of its unit and of the section.
 *
 * May call: lines.h, the allocator. */
#include "engine/native/lines.h"

#include <stdlib.h>

#define MAX_ROWS ((uint32_t)1 << 26)

typedef struct {
    const uint8_t *p, *end;
    bool bad;
} rd_t;

static uint64_t rd_n(rd_t *r, unsigned n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        r->p = r->end;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}

static uint64_t rd_uleb(rd_t *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (r->bad || r->p >= r->end || shift > 63) {
            r->bad = true;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return v;
    }
}

static int64_t rd_sleb(rd_t *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        if (r->bad || r->p >= r->end || shift > 63) {
            r->bad = true;
            return 0;
        }
        b = *r->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* A NUL-terminated string: its start (NULL if it runs past the end). */
static const char *rd_str(rd_t *r)
{
    const uint8_t *s = r->p;
    while (!r->bad && r->p < r->end && *r->p)
        r->p++;
    if (r->bad || r->p >= r->end) {
        r->bad = true;
        return NULL;
    }
    r->p++;
    return (const char *)s;
}

/* ---- rows --------------------------------------------------------------------------------------- */

typedef struct {
    uint64_t addr;
    uint32_t offset;
    uint32_t rank; /* 0: a sequence's end, 1: a row (at one address, rows win over ends) */
    uint32_t seq;  /* order of appearance (the later row at one address wins) */
} row_t;

typedef struct {
    row_t *rows;
    uint32_t n, cap;
    bool nomem;
} rows_t;

static bool add_row(rows_t *rs, uint64_t addr, uint32_t offset, uint32_t rank)
{
    if (rs->n == rs->cap) {
        if (rs->cap >= MAX_ROWS)
            return false;
        uint32_t cap = rs->cap ? rs->cap * 2 : 1024;
        row_t *r = exn_realloc(rs->rows, (size_t)cap * sizeof *r);
        if (!r) {
            rs->nomem = true;
            return false;
        }
        rs->rows = r;
        rs->cap = cap;
    }
    rs->rows[rs->n] = (row_t){addr, offset, rank, rs->n};
    rs->n++;
    return true;
}

static int cmp_row(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- the line programs --------------------------------------------------------------------------- */

enum { FILE_OTHER = 0, FILE_W = 1, FILE_P = 2 };

typedef struct {
    uint8_t *kind; /* per file index (from 1) */
    uint32_t n, cap;
} files_t;

static bool add_file(files_t *f, const char *name)
{
    if (f->n + 1 >= f->cap) {
        if (f->cap >= (1u << 20))
            return false;
        uint32_t cap = f->cap ? f->cap * 2 : 16;
        uint8_t *k = exn_realloc(f->kind, cap);
        if (!k)
            return false;
        f->kind = k;
        f->cap = cap;
    }
    f->n++;
    f->kind[f->n] = strcmp(name, "w") == 0 ? FILE_W : strcmp(name, "p") == 0 ? FILE_P : FILE_OTHER;
    return true;
}

/* One unit's line program (r: from its version to its end).  false if it cannot be read. */
static bool one_unit(rd_t *r, bool dwarf64, rows_t *rs)
{
    files_t files = {NULL, 0, 0};
    bool ok = false;
    uint16_t version = (uint16_t)rd_n(r, 2);
    if (r->bad || version < 2 || version > 4)
        goto done;
    uint64_t header_len = rd_n(r, dwarf64 ? 8 : 4);
    if (r->bad || header_len > (uint64_t)(r->end - r->p))
        goto done;
    const uint8_t *program = r->p + header_len;
    uint8_t min_inst = (uint8_t)rd_n(r, 1);
    uint8_t max_ops = version >= 4 ? (uint8_t)rd_n(r, 1) : 1;
    (void)rd_n(r, 1); /* default_is_stmt */
    int8_t line_base = (int8_t)(uint8_t)rd_n(r, 1);
    uint8_t line_range = (uint8_t)rd_n(r, 1);
    uint8_t opcode_base = (uint8_t)rd_n(r, 1);
    if (r->bad || line_range == 0 || opcode_base == 0 || max_ops != 1)
        goto done;
    uint8_t std_len[256] = {0};
    for (unsigned i = 1; i < opcode_base; i++)
        std_len[i] = (uint8_t)rd_n(r, 1);
    for (;;) { /* include directories */
        const char *d = rd_str(r);
        if (!d || !*d)
            break;
    }
    for (;;) { /* file names */
        const char *name = rd_str(r);
        if (!name || !*name)
            break;
        (void)rd_uleb(r), (void)rd_uleb(r), (void)rd_uleb(r);
        if (!add_file(&files, name))
            goto done;
    }
    if (r->bad || r->p > program)
        goto done;
    r->p = program;

    uint64_t addr = 0;
    int64_t line = 1;
    uint64_t file = 1;
    bool dropped = false; /* a sequence at address 0: code the linker discarded */
    while (r->p < r->end) {
        uint8_t op = (uint8_t)rd_n(r, 1);
        bool row = false, end_seq = false;
        if (op >= opcode_base) {
            unsigned adj = op - opcode_base;
            addr += (uint64_t)(adj / line_range) * min_inst;
            line += line_base + (int)(adj % line_range);
            row = true;
        } else if (op == 0) {
            uint64_t len = rd_uleb(r);
            if (r->bad || len == 0 || len > (uint64_t)(r->end - r->p))
                goto done;
            const uint8_t *next = r->p + len;
            uint8_t sub = (uint8_t)rd_n(r, 1);
            if (sub == 1) {
                end_seq = true;
            } else if (sub == 2) {
                if (len - 1 != 4 && len - 1 != 8)
                    goto done;
                addr = rd_n(r, (unsigned)(len - 1));
                dropped = addr == 0;
            } else if (sub == 3) {
                const char *name = rd_str(r);
                if (!name || !add_file(&files, name))
                    goto done;
            }
            r->p = next;
        } else {
            switch (op) {
            case 1: row = true; break;                    /* copy */
            case 2: addr += rd_uleb(r) * min_inst; break; /* advance_pc */
            case 3: line += rd_sleb(r); break;            /* advance_line */
            case 4: file = rd_uleb(r); break;             /* set_file */
            case 8: addr += (uint64_t)((255 - opcode_base) / line_range) * min_inst; break;
            case 9: addr += rd_n(r, 2); break; /* fixed_advance_pc */
            default:
                for (unsigned i = 0; i < std_len[op]; i++)
                    (void)rd_uleb(r);
                break;
            }
        }
        if (r->bad)
            goto done;
        if ((row || end_seq) && !dropped) {
            uint32_t kind = file >= 1 && file <= files.n ? files.kind[file] : FILE_OTHER;
            bool added = true;
            if (end_seq)
                added = add_row(rs, addr, EXN_NLINE_NONE, 0);
            else if (kind == FILE_W)
                added = add_row(rs, addr,
                                line >= 1 && line < (int64_t)EXN_NLINE_NONE ? (uint32_t)line
                                                                            : EXN_NLINE_NONE,
                                1);
            else if (kind == FILE_P)
                added = add_row(rs, addr, EXN_NLINE_NONE, 1);
            if (!added)
                goto done;
        }
        if (end_seq) {
            addr = 0;
            line = 1;
            file = 1;
            dropped = false;
        }
    }
    ok = true;
done:
    exn_free(files.kind);
    return ok;
}

/* ---- ELF ------------------------------------------------------------------------------------------ */

typedef struct {
    const uint8_t *data;
    size_t len;
    bool is64;
} elf_t;

static uint64_t at(const elf_t *e, uint64_t off, unsigned n, bool *bad)
{
    if (off > e->len || n > e->len - off) {
        *bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)e->data[off + i] << (8 * i);
    return v;
}

/* The `.debug_line` section's bytes, if the file is a library this decoder can read. */
static bool find_debug_line(const elf_t *e, const uint8_t **out, size_t *out_len)
{
    bool bad = false;
    unsigned w = e->is64 ? 8 : 4;
    uint64_t phoff = at(e, e->is64 ? 32 : 28, w, &bad);
    uint64_t shoff = at(e, e->is64 ? 40 : 32, w, &bad);
    uint64_t base = e->is64 ? 52 : 40;
    uint64_t phentsize = at(e, base + 2, 2, &bad), phnum = at(e, base + 4, 2, &bad);
    uint64_t shentsize = at(e, base + 6, 2, &bad), shnum = at(e, base + 8, 2, &bad);
    uint64_t shstrndx = at(e, base + 10, 2, &bad);
    if (bad || shnum == 0 || shstrndx >= shnum || shentsize < (e->is64 ? 64u : 40u) ||
        phentsize < (e->is64 ? 56u : 32u))
        return false;
    /* the first loaded segment at 0: link addresses are offsets from the load base */
    bool first = true;
    for (uint64_t i = 0; i < phnum && !bad; i++) {
        uint64_t ph = phoff + i * phentsize;
        if (at(e, ph, 4, &bad) != 1 /* PT_LOAD */)
            continue;
        uint64_t vaddr = at(e, ph + (e->is64 ? 16 : 8), w, &bad);
        if (first && vaddr != 0)
            return false;
        first = false;
    }
    if (bad || first)
        return false;
    uint64_t str_sh = shoff + shstrndx * shentsize;
    uint64_t str_off = at(e, str_sh + (e->is64 ? 24 : 16), w, &bad);
    uint64_t str_size = at(e, str_sh + (e->is64 ? 32 : 20), w, &bad);
    if (bad || str_off > e->len || str_size > e->len - str_off)
        return false;
    for (uint64_t i = 0; i < shnum; i++) {
        uint64_t sh = shoff + i * shentsize;
        uint64_t name = at(e, sh, 4, &bad), type = at(e, sh + 4, 4, &bad);
        uint64_t flags = at(e, sh + 8, w, &bad);
        uint64_t off = at(e, sh + (e->is64 ? 24 : 16), w, &bad);
        uint64_t size = at(e, sh + (e->is64 ? 32 : 20), w, &bad);
        if (bad)
            return false;
        static const char want[] = ".debug_line";
        if (name >= str_size || str_size - name < sizeof want ||
            memcmp(e->data + str_off + name, want, sizeof want) != 0)
            continue;
        if (type == 8 /* SHT_NOBITS */ || (flags & 0x800) /* SHF_COMPRESSED */ || off > e->len ||
            size > e->len - off)
            return false;
        *out = e->data + off;
        *out_len = (size_t)size;
        return true;
    }
    return false;
}

int exn_nlines_from_elf(const uint8_t *elf, size_t len, exn_nline_t **out, uint32_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    if (len < 64 ||
        memcmp(elf,
               "\x7F"
               "ELF",
               4) != 0 ||
        (elf[4] != 1 && elf[4] != 2) || elf[5] != 1 /* little-endian */)
        return -1;
    elf_t e = {elf, len, elf[4] == 2};
    const uint8_t *sec;
    size_t sec_len;
    if (!find_debug_line(&e, &sec, &sec_len))
        return -1;
    rows_t rs = {NULL, 0, 0, false};
    rd_t r = {sec, sec + sec_len, false};
    while (r.p < r.end) {
        uint64_t unit_len = rd_n(&r, 4);
        bool dwarf64 = unit_len == 0xFFFFFFFFu;
        if (dwarf64)
            unit_len = rd_n(&r, 8);
        if (r.bad || unit_len > (uint64_t)(r.end - r.p))
            goto fail;
        rd_t u = {r.p, r.p + unit_len, false};
        r.p += unit_len;
        if (!one_unit(&u, dwarf64, &rs))
            goto fail;
    }
    if (rs.n == 0)
        goto fail;
    qsort(rs.rows, rs.n, sizeof *rs.rows, cmp_row);
    /* the last row at each address, then runs of one offset merged */
    exn_nline_t *t = exn_malloc((size_t)rs.n * sizeof *t);
    if (!t)
        goto fail;
    uint32_t n = 0;
    for (uint32_t i = 0; i < rs.n; i++) {
        const row_t *row = &rs.rows[i];
        if (i + 1 < rs.n && rs.rows[i + 1].addr == row->addr)
            continue;
        if (row->addr > UINT32_MAX)
            break;
        if (n && t[n - 1].offset == row->offset)
            continue;
        t[n].addr = (uint32_t)row->addr;
        t[n].offset = row->offset;
        n++;
    }
    exn_free(rs.rows);
    if (n == 0) {
        exn_free(t);
        return -1;
    }
    *out = t;
    *out_n = n;
    return 0;
fail:
    exn_free(rs.rows);
    return -1;
}

/* The i-th loaded section (SHF_ALLOC) of an ELF file from section header `from` on: its
 * address, size and type in v[0..2]; the next header to look at, or 0 when there is none. */
static uint64_t next_alloc(const elf_t *e, uint64_t from, uint64_t v[3], bool *bad)
{
    unsigned w = e->is64 ? 8 : 4;
    uint64_t base = e->is64 ? 52 : 40;
    uint64_t shoff = at(e, e->is64 ? 40 : 32, w, bad);
    uint64_t shentsize = at(e, base + 6, 2, bad), shnum = at(e, base + 8, 2, bad);
    if (*bad || shentsize < (e->is64 ? 64u : 40u))
        return (*bad = true, 0);
    for (uint64_t i = from; i < shnum; i++) {
        uint64_t sh = shoff + i * shentsize;
        uint64_t flags = at(e, sh + 8, w, bad);
        if (*bad)
            return 0;
        if (!(flags & 2 /* SHF_ALLOC */))
            continue;
        v[0] = at(e, sh + (e->is64 ? 16 : 12), w, bad);
        v[1] = at(e, sh + (e->is64 ? 32 : 20), w, bad);
        v[2] = at(e, sh + 4, 4, bad);
        return *bad ? 0 : i + 1;
    }
    return 0;
}

bool exn_nlines_same_layout(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    if (a_len < 64 || b_len < 64 || memcmp(a, b, 6) != 0 ||
        memcmp(a,
               "\x7F"
               "ELF",
               4) != 0 ||
        (a[4] != 1 && a[4] != 2))
        return false;
    elf_t x = {a, a_len, a[4] == 2}, y = {b, b_len, b[4] == 2};
    bool bad = false;
    uint64_t i = 0, j = 0, n = 0;
    for (;;) {
        uint64_t u[3] = {0, 0, 0}, v[3] = {0, 0, 0};
        i = next_alloc(&x, i, u, &bad);
        j = next_alloc(&y, j, v, &bad);
        if (bad || (i == 0) != (j == 0) || memcmp(u, v, sizeof u) != 0)
            return false;
        if (i == 0)
            return n > 0;
        n++;
    }
}

bool exn_nlines_valid(const exn_nline_t *t, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        if (t[i].addr <= t[i - 1].addr)
            return false;
    }
    return true;
}

uint32_t exn_nlines_find(const exn_nline_t *t, uint32_t n, uint64_t addr)
{
    uint32_t lo = 0, hi = n; /* the first entry past addr */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? t[lo - 1].offset : EXN_NLINE_NONE;
}
