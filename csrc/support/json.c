/* json.c: strict recursive-descent JSON reader into an arena (see json.h).
 * Hostile input is expected: every read is bounds-checked, nesting is capped at MAX_DEPTH, and
 * sizes are checked before arithmetic.
 * May call: the allocator (internal.h). */
#include "json.h"

#include <stdio.h>

#define MAX_DEPTH 128
#define CHUNK 4096

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_chunk_t;

struct exn_json_doc {
    arena_chunk_t *chunks;
    exn_json_t root;
};

typedef struct {
    const char *s, *end, *start;
    exn_json_doc_t *doc;
    char *errbuf;
    size_t errbuf_len;
    exn_status_t st;
} parser_t;

static void *arena_alloc(exn_json_doc_t *doc, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    arena_chunk_t *c = doc->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK ? n : CHUNK;
        c = exn_malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = doc->chunks;
        doc->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static bool fail(parser_t *p, exn_status_t st, const char *why)
{
    if (p->st == EXN_OK) {
        size_t line = 1, col = 1;
        for (const char *q = p->start; q < p->s && q < p->end; q++) {
            if (*q == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        p->st = st;
        if (st == EXN_ERR_NOMEM)
            exn_fmt(p->errbuf, p->errbuf_len, "out of memory while parsing JSON");
        else
            exn_fmt(p->errbuf, p->errbuf_len, "invalid JSON at line %zu column %zu: %s", line, col,
                    why);
    }
    return false;
}

static void skip_ws(parser_t *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static bool literal(parser_t *p, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
        return fail(p, EXN_ERR_MANIFEST, "unexpected token");
    p->s += n;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(parser_t *p, uint32_t *out)
{
    if (p->end - p->s < 4)
        return fail(p, EXN_ERR_MANIFEST, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[i]);
        if (h < 0)
            return fail(p, EXN_ERR_MANIFEST, "bad \\u escape");
        v = v * 16 + (uint32_t)h;
    }
    p->s += 4;
    *out = v;
    return true;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const uint8_t *s, size_t avail)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

bool exn_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(s + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

static bool parse_string(parser_t *p, const char **out, size_t *out_len)
{
    p->s++; /* opening quote */
    /* the unescaped string is never longer than the raw one: find the end first */
    const char *q = p->s;
    while (q < p->end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= p->end)
        return fail(p, EXN_ERR_MANIFEST, "unterminated string");
    char *buf = arena_alloc(p->doc, (size_t)(q - p->s) + 1);
    if (!buf)
        return fail(p, EXN_ERR_NOMEM, "");
    size_t n = 0;
    while (*p->s != '"') {
        unsigned char c = (unsigned char)*p->s;
        if (c < 0x20)
            return fail(p, EXN_ERR_MANIFEST, "control character in string");
        if (c != '\\') {
            size_t k = utf8_seq((const uint8_t *)p->s, (size_t)(p->end - p->s));
            if (!k)
                return fail(p, EXN_ERR_MANIFEST, "invalid UTF-8 in string");
            memcpy(buf + n, p->s, k);
            n += k;
            p->s += k;
            continue;
        }
        p->s++;
        char e = *p->s++;
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (!read_hex4(p, &cp))
                return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->end - p->s < 2 || p->s[0] != '\\' || p->s[1] != 'u')
                    return fail(p, EXN_ERR_MANIFEST, "unpaired surrogate in \\u escape");
                p->s += 2;
                if (!read_hex4(p, &lo))
                    return false;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail(p, EXN_ERR_MANIFEST, "unpaired surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(p, EXN_ERR_MANIFEST, "unpaired surrogate in \\u escape");
            }
            n += put_utf8(buf + n, cp); /* at most as long as the 6 to 12 escape bytes */
            break;
        }
        default: return fail(p, EXN_ERR_MANIFEST, "bad escape in string");
        }
    }
    p->s++; /* closing quote */
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return true;
}

static bool parse_number(parser_t *p, exn_json_t *v)
{
    const char *s = p->s;
    bool neg = false, integral = true, overflow = false;
    uint64_t u = 0;
    if (s < p->end && *s == '-') {
        neg = true;
        s++;
    }
    if (s >= p->end || *s < '0' || *s > '9')
        return fail(p, EXN_ERR_MANIFEST, "bad number");
    if (*s == '0') {
        s++;
    } else {
        while (s < p->end && *s >= '0' && *s <= '9') {
            unsigned d = (unsigned)(*s - '0');
            if (u > (UINT64_MAX - d) / 10)
                overflow = true;
            else
                u = u * 10 + d;
            s++;
        }
    }
    if (s < p->end && *s == '.') {
        integral = false;
        s++;
        if (s >= p->end || *s < '0' || *s > '9')
            return fail(p, EXN_ERR_MANIFEST, "bad number");
        while (s < p->end && *s >= '0' && *s <= '9')
            s++;
    }
    if (s < p->end && (*s == 'e' || *s == 'E')) {
        integral = false;
        s++;
        if (s < p->end && (*s == '+' || *s == '-'))
            s++;
        if (s >= p->end || *s < '0' || *s > '9')
            return fail(p, EXN_ERR_MANIFEST, "bad number");
        while (s < p->end && *s >= '0' && *s <= '9')
            s++;
    }
    p->s = s;
    v->kind = EXN_JSON_NUMBER;
    v->is_u64 = integral && !neg && !overflow;
    v->u64 = v->is_u64 ? u : 0;
    return true;
}

static bool parse_value(parser_t *p, exn_json_t *v, int depth);

/* Collects items of an array or object before they are copied into the arena. */
typedef struct {
    void *items;
    size_t count, cap, size;
} vec_t;

static void *vec_push(vec_t *vec)
{
    if (vec->count == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 8;
        void *items = exn_realloc(vec->items, cap * vec->size);
        if (!items)
            return NULL;
        vec->items = items;
        vec->cap = cap;
    }
    void *slot = (char *)vec->items + vec->count++ * vec->size;
    memset(slot, 0, vec->size);
    return slot;
}

/* Copy the items into the arena; *out stays NULL for none.  The vector is the caller's to
 * free, in every case. */
static bool vec_finish(parser_t *p, vec_t *vec, void **out)
{
    *out = NULL;
    if (!vec->count)
        return true;
    if (!(*out = arena_alloc(p->doc, vec->count * vec->size)))
        return fail(p, EXN_ERR_NOMEM, "");
    memcpy(*out, vec->items, vec->count * vec->size);
    return true;
}

/* One cleanup label per parser: `ok` is set only on the way out of a complete container, and
 * the items collected so far are freed on every path. */
static bool parse_array(parser_t *p, exn_json_t *v, int depth)
{
    vec_t vec = {NULL, 0, 0, sizeof(exn_json_t)};
    bool ok = false;
    p->s++;
    skip_ws(p);
    if (p->s < p->end && *p->s == ']') {
        p->s++;
    } else {
        for (;;) {
            exn_json_t *item = vec_push(&vec);
            if (!item) {
                fail(p, EXN_ERR_NOMEM, "");
                goto cleanup;
            }
            if (!parse_value(p, item, depth + 1))
                goto cleanup;
            skip_ws(p);
            if (p->s < p->end && *p->s == ',') {
                p->s++;
                continue;
            }
            if (p->s < p->end && *p->s == ']') {
                p->s++;
                break;
            }
            fail(p, EXN_ERR_MANIFEST, "expected ',' or ']'");
            goto cleanup;
        }
    }
    v->kind = EXN_JSON_ARRAY;
    v->len = vec.count;
    ok = vec_finish(p, &vec, (void **)&v->items);
cleanup:
    exn_free(vec.items);
    return ok;
}

static bool parse_object(parser_t *p, exn_json_t *v, int depth)
{
    vec_t vec = {NULL, 0, 0, sizeof(exn_json_member_t)};
    bool ok = false;
    p->s++;
    skip_ws(p);
    if (p->s < p->end && *p->s == '}') {
        p->s++;
    } else {
        for (;;) {
            skip_ws(p);
            if (p->s >= p->end || *p->s != '"') {
                fail(p, EXN_ERR_MANIFEST, "expected a string key");
                goto cleanup;
            }
            exn_json_member_t *m = vec_push(&vec);
            if (!m) {
                fail(p, EXN_ERR_NOMEM, "");
                goto cleanup;
            }
            if (!parse_string(p, &m->key, &m->key_len))
                goto cleanup;
            skip_ws(p);
            if (p->s >= p->end || *p->s != ':') {
                fail(p, EXN_ERR_MANIFEST, "expected ':'");
                goto cleanup;
            }
            p->s++;
            if (!parse_value(p, &m->value, depth + 1))
                goto cleanup;
            skip_ws(p);
            if (p->s < p->end && *p->s == ',') {
                p->s++;
                continue;
            }
            if (p->s < p->end && *p->s == '}') {
                p->s++;
                break;
            }
            fail(p, EXN_ERR_MANIFEST, "expected ',' or '}'");
            goto cleanup;
        }
    }
    v->kind = EXN_JSON_OBJECT;
    v->len = vec.count;
    ok = vec_finish(p, &vec, (void **)&v->members);
cleanup:
    exn_free(vec.items);
    return ok;
}

static bool parse_value(parser_t *p, exn_json_t *v, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(p, EXN_ERR_MANIFEST, "nesting too deep");
    skip_ws(p);
    if (p->s >= p->end)
        return fail(p, EXN_ERR_MANIFEST, "unexpected end of input");
    memset(v, 0, sizeof *v);
    switch (*p->s) {
    case '{': return parse_object(p, v, depth);
    case '[': return parse_array(p, v, depth);
    case '"': v->kind = EXN_JSON_STRING; return parse_string(p, &v->str, &v->len);
    case 't':
        v->kind = EXN_JSON_BOOL;
        v->boolean = true;
        return literal(p, "true");
    case 'f': v->kind = EXN_JSON_BOOL; return literal(p, "false");
    case 'n': v->kind = EXN_JSON_NULL; return literal(p, "null");
    default: return parse_number(p, v);
    }
}

exn_status_t exn_json_parse(const char *text, size_t len, exn_json_doc_t **out_doc, char *errbuf,
                            size_t errbuf_len)
{
    *out_doc = NULL;
    exn_json_doc_t *doc = exn_calloc(1, sizeof *doc);
    if (!doc) {
        exn_fmt(errbuf, errbuf_len, "out of memory while parsing JSON");
        return EXN_ERR_NOMEM;
    }
    parser_t p = {text, text + len, text, doc, errbuf, errbuf_len, EXN_OK};
    if (parse_value(&p, &doc->root, 0)) {
        skip_ws(&p);
        if (p.s != p.end)
            fail(&p, EXN_ERR_MANIFEST, "trailing characters after the JSON value");
    }
    if (p.st != EXN_OK) {
        exn_json_doc_free(doc);
        return p.st;
    }
    *out_doc = doc;
    return EXN_OK;
}

const exn_json_t *exn_json_root(const exn_json_doc_t *doc)
{
    return &doc->root;
}

void exn_json_doc_free(exn_json_doc_t *doc)
{
    if (!doc)
        return;
    arena_chunk_t *c = doc->chunks;
    while (c) {
        arena_chunk_t *next = c->next;
        exn_free(c);
        c = next;
    }
    exn_free(doc);
}

const exn_json_t *exn_json_get(const exn_json_t *obj, const char *key)
{
    if (!obj || obj->kind != EXN_JSON_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = obj->len; i-- > 0;) {
        const exn_json_member_t *m = &obj->members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0)
            return &m->value;
    }
    return NULL;
}

const char *exn_json_kind_name(exn_json_kind_t kind)
{
    switch (kind) {
    case EXN_JSON_NULL: return "null";
    case EXN_JSON_BOOL: return "a boolean";
    case EXN_JSON_NUMBER: return "a number";
    case EXN_JSON_STRING: return "a string";
    case EXN_JSON_ARRAY: return "an array";
    case EXN_JSON_OBJECT: return "an object";
    }
    return "?";
}

/* ---- writing ---------------------------------------------------------------------------- */

void exn_sb_append(exn_sb_t *sb, const char *s, size_t len)
{
    if (sb->failed)
        return;
    if (sb->len + len + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < sb->len + len + 1)
            cap *= 2;
        char *data = exn_realloc(sb->data, cap);
        if (!data) {
            sb->failed = true;
            return;
        }
        sb->data = data;
        sb->cap = cap;
    }
    memcpy(sb->data + sb->len, s, len);
    sb->len += len;
    sb->data[sb->len] = '\0';
}

void exn_sb_json_string(exn_sb_t *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    exn_sb_append(sb, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        exn_sb_append(sb, s + start, i - start);
        char esc[7] = {'\\', (char)c, 0};
        if (c < 0x20) {
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            exn_sb_append(sb, esc, 6);
        } else {
            exn_sb_append(sb, esc, 2);
        }
        start = i + 1;
    }
    exn_sb_append(sb, s + start, len - start);
    exn_sb_append(sb, "\"", 1);
}

void exn_sb_free(exn_sb_t *sb)
{
    exn_free(sb->data);
    memset(sb, 0, sizeof *sb);
}
