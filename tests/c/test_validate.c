/* test_validate.c: unit tests of the validator's C parts without Python - the shared LEB128
 * reader (wasm_read.h) at every boundary of the binary format's integer rules, and every
 * out-of-memory path of exn_validate_module (the EXN_TESTING allocator fails the Nth allocation),
 * and the module description it fills (module_info.h) on a plugin of ours.
 * The rules themselves are tested from Python (tests/unit/test_validate.py).  Run by ctest;
 * any failure exits non-zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extism_native.h"
#include "validate/module_info.h"
#include "validate/validate.h"
#include "validate/wasm_read.h"

#include "test_util.h"

void exn_testing_fail_allocation_after(long n);


/* ---- the reader ------------------------------------------------------------------------------ */

typedef struct {
    const char *bytes; /* hex */
    int ok;            /* 1: decodes to value, 0: fails with why */
    int64_t value;
    const char *why;
} leb_case_t;

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2)
        out[n++] = (uint8_t)(hexval(hex[0]) << 4 | hexval(hex[1]));
    return n;
}

static void check_leb(const leb_case_t *c, unsigned bits, bool is_signed)
{
    uint8_t buf[16];
    size_t n = unhex(c->bytes, buf);
    exn_wread_t r = exn_wread_init(buf, buf + n);
    bool ok;
    int64_t v = 0;
    if (is_signed) {
        ok = exn_wread_sleb(&r, bits, &v);
    } else {
        uint32_t u = 0;
        ok = exn_wread_u32(&r, &u);
        v = u;
    }
    CHECK(ok == (c->ok == 1));
    if (ok) {
        CHECK(v == c->value);
        CHECK(r.p == buf + n); /* all bytes consumed */
    } else {
        CHECK(r.why && strcmp(r.why, c->why) == 0);
        CHECK(r.p == buf); /* a failed read consumes nothing */
    }
    if (ok != (c->ok == 1) || (ok && v != c->value))
        fprintf(stderr, "  LEB %s (%u bits%s)\n", c->bytes, bits, is_signed ? ", signed" : "");
}

static void test_leb(void)
{
#define long5 "integer representation too long"
#define large "integer too large"
#define end "unexpected end"
    static const leb_case_t u32s[] = {
        {"00", 1, 0, 0},           {"7f", 1, 127, 0},           {"8001", 1, 128, 0},
        {"8000", 1, 0, 0},         {"8080808000", 1, 0, 0},     {"ffffffff0f", 1, 0xFFFFFFFF, 0},
        {"ffffffff1f", 0, 0, large}, {"ffffffff4f", 0, 0, large}, {"808080808000", 0, 0, long5},
        {"8080808080", 0, 0, long5}, {"80", 0, 0, end},          {"", 0, 0, end}};
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++)
        check_leb(&u32s[i], 32, false);

    static const leb_case_t s32s[] = {
        {"00", 1, 0, 0},           {"7f", 1, -1, 0},            {"3f", 1, 63, 0},
        {"40", 1, -64, 0},         {"807f", 1, -128, 0},        {"ffffffff07", 1, INT32_MAX, 0},
        {"8080808078", 1, INT32_MIN, 0}, {"ffffffff7f", 1, -1, 0}, {"ffffffff0f", 0, 0, large},
        {"8080808070", 0, 0, large}, {"ffffffffff00", 0, 0, long5}, {"ff", 0, 0, end}};
    for (size_t i = 0; i < sizeof s32s / sizeof s32s[0]; i++)
        check_leb(&s32s[i], 32, true);

    static const leb_case_t s33s[] = {
        {"ffffffff0f", 1, 0xFFFFFFFF, 0}, {"8080808070", 1, -((int64_t)1 << 32), 0},
        {"ffffffff1f", 0, 0, large},       {"8080808050", 0, 0, large},
        {"8180808000", 1, 1, 0},           {"808080808000", 0, 0, long5}};
    for (size_t i = 0; i < sizeof s33s / sizeof s33s[0]; i++)
        check_leb(&s33s[i], 33, true);

    static const leb_case_t s64s[] = {
        {"ffffffffffffffffff00", 1, INT64_MAX, 0}, {"8080808080808080807f", 1, INT64_MIN, 0},
        {"ffffffffffffffffff7f", 1, -1, 0},         {"80808080808080808001", 0, 0, large},
        {"ffffffffffffffffff7e", 0, 0, large},      {"8080808080808080808000", 0, 0, long5},
        {"7e", 1, -2, 0}};
    for (size_t i = 0; i < sizeof s64s / sizeof s64s[0]; i++)
        check_leb(&s64s[i], 64, true);
#undef long5
#undef large
#undef end
}

static void test_names(void)
{
    static const uint8_t good[] = {4, 0xF0, 0x9F, 0x98, 0x80}, overlong[] = {2, 0xC0, 0x80},
                         surrogate[] = {3, 0xED, 0xA0, 0x80}, past[] = {5, 'a'};
    const uint8_t *s;
    uint32_t n;
    exn_wread_t r = exn_wread_init(good, good + sizeof good);
    CHECK(exn_wread_name(&r, &s, &n) && n == 4 && s == good + 1);
    r = exn_wread_init(overlong, overlong + sizeof overlong);
    CHECK(!exn_wread_name(&r, &s, &n) && strcmp(r.why, "malformed UTF-8 encoding") == 0);
    r = exn_wread_init(surrogate, surrogate + sizeof surrogate);
    CHECK(!exn_wread_name(&r, &s, &n) && r.why_at == surrogate + 1);
    r = exn_wread_init(past, past + sizeof past);
    CHECK(!exn_wread_name(&r, &s, &n) && strcmp(r.why, "unexpected end") == 0);
}

/* ---- the module description (module_info.h), filled while validating ----------------------- */

static uint64_t ref_of(void *userdata, uint32_t func)
{
    (void)userdata;
    return 1000 + func;
}

/* Every field the validator fills, on a module that has each kind of thing.  Built by
 * wat2wasm 1.0.32 --debug-names from:
 *   (module
 *     (type $v (func)) (type $ii (func (param i32) (result i32 i64)))
 *     (import "env" "f" (func $f (type $ii))) (import "env" "g" (global $g i32))
 *     (import "env" "fr" (global $fr funcref)) (import "env" "t" (table 1 funcref))
 *     (import "env" "m" (memory 1 3))
 *     (table $t2 2 5 externref)
 *     (global $h (mut i64) (i64.const -5)) (global $k f32 (f32.const 1.5))
 *     (global $r funcref (ref.func $s)) (global $c i32 (global.get $g))
 *     (export "zeta" (func $s)) (export "alpha" (func $f)) (export "beta" (global $h))
 *     (start $s)
 *     (elem (table 0) (i32.const 0) func $s)
 *     (elem funcref (ref.func $f) (ref.null func) (ref.null func))
 *     (data (i32.const 16) "hello") (data "passive")
 *     (func $s (type $v) (local i32 externref) (drop (i32.extend8_s (i32.const 1)))))
 * then by hand: the last element item made (global.get $fr) (wat2wasm 1.0.32 cannot write
 * it), the import name "fr" made "f\0", and a "producers" section appended. */
static void test_description(void)
{
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60,
        0x00, 0x00, 0x60, 0x01, 0x7f, 0x02, 0x7f, 0x7e, 0x02, 0x30, 0x05, 0x03,
        0x65, 0x6e, 0x76, 0x01, 0x66, 0x00, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01,
        0x67, 0x03, 0x7f, 0x00, 0x03, 0x65, 0x6e, 0x76, 0x02, 0x66, 0x00, 0x03,
        0x70, 0x00, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x74, 0x01, 0x70, 0x00, 0x01,
        0x03, 0x65, 0x6e, 0x76, 0x01, 0x6d, 0x02, 0x01, 0x01, 0x03, 0x03, 0x02,
        0x01, 0x00, 0x04, 0x05, 0x01, 0x6f, 0x01, 0x02, 0x05, 0x06, 0x18, 0x04,
        0x7e, 0x01, 0x42, 0x7b, 0x0b, 0x7d, 0x00, 0x43, 0x00, 0x00, 0xc0, 0x3f,
        0x0b, 0x70, 0x00, 0xd2, 0x01, 0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b, 0x07,
        0x17, 0x03, 0x04, 0x7a, 0x65, 0x74, 0x61, 0x00, 0x01, 0x05, 0x61, 0x6c,
        0x70, 0x68, 0x61, 0x00, 0x00, 0x04, 0x62, 0x65, 0x74, 0x61, 0x03, 0x02,
        0x08, 0x01, 0x01, 0x09, 0x13, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x01,
        0x05, 0x70, 0x03, 0xd2, 0x00, 0x0b, 0xd0, 0x70, 0x0b, 0x23, 0x01, 0x0b,
        0x0a, 0x0c, 0x01, 0x0a, 0x02, 0x01, 0x7f, 0x01, 0x6f, 0x41, 0x01, 0xc0,
        0x1a, 0x0b, 0x0b, 0x14, 0x02, 0x00, 0x41, 0x10, 0x0b, 0x05, 0x68, 0x65,
        0x6c, 0x6c, 0x6f, 0x01, 0x07, 0x70, 0x61, 0x73, 0x73, 0x69, 0x76, 0x65,
        0x00, 0x3c, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01, 0x07, 0x02, 0x00, 0x01,
        0x66, 0x01, 0x01, 0x73, 0x02, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00, 0x04,
        0x08, 0x02, 0x00, 0x01, 0x76, 0x01, 0x02, 0x69, 0x69, 0x05, 0x05, 0x01,
        0x01, 0x02, 0x74, 0x32, 0x07, 0x14, 0x06, 0x00, 0x01, 0x67, 0x01, 0x02,
        0x66, 0x72, 0x02, 0x01, 0x68, 0x03, 0x01, 0x6b, 0x04, 0x01, 0x72, 0x05,
        0x01, 0x63, 0x00, 0x0b, 0x09, 0x70, 0x72, 0x6f, 0x64, 0x75, 0x63, 0x65,
        0x72, 0x73, 0x00};
    char why[256];
    exn_module_info_t info;
    CHECK(exn_validate_module(wasm, sizeof wasm, &info, why, sizeof why) == EXN_OK);
    CHECK(info.n_types == 2 && info.types[1].n_params == 1 && info.types[1].n_results == 2);
    CHECK(memcmp(info.types[1].types, "\x7f\x7f\x7e", 3) == 0);
    CHECK(info.n_imports == 5 && info.n_func_imports == 1);
    CHECK(strcmp(info.imports[2].name, "f\xc0\x80") == 0); /* a NUL, kept apart from "f" */
    CHECK(info.imports[2].kind == EXN_EXTERN_GLOBAL && info.imports[2].type_index == 1);
    CHECK(info.imports[3].kind == EXN_EXTERN_TABLE && info.imports[3].type_index == 0);
    CHECK(info.n_funcs == 2 && info.func_type[0] == 1 && info.func_type[1] == 0);
    CHECK(info.bodies[0].len == 10 && wasm[info.bodies[0].offset] == 0x02); /* 2 local groups */
    CHECK(info.n_tables == 2 && info.n_table_imports == 1);
    CHECK(info.tables[1].elem_type == EXN_WASM_EXTERNREF && info.tables[1].min == 2 &&
          info.tables[1].has_max && info.tables[1].max == 5);
    CHECK(info.n_memories == 1 && info.n_memory_imports == 1 && info.memories[0].max == 3);
    CHECK(info.has_memory && info.memory_imported && info.memory_min == 1 &&
          info.memory_has_max && info.memory_max == 3);
    CHECK(info.n_globals == 6 && info.n_global_imports == 2);
    CHECK(info.globals[2].type == EXN_WASM_I64 && info.globals[2].mut);
    uint64_t globals[6] = {77, 555, 0, 0, 0, 0}, out[2] = {1, 1};
    exn_const_eval(&info, wasm, info.globals[2].init, globals, ref_of, NULL, out);
    CHECK(out[0] == (uint64_t)-5);
    exn_const_eval(&info, wasm, info.globals[3].init, globals, ref_of, NULL, out);
    CHECK(out[0] == 0x3fc00000); /* 1.5f */
    exn_const_eval(&info, wasm, info.globals[4].init, globals, ref_of, NULL, out);
    CHECK(out[0] == 1001); /* ref.func $s */
    exn_const_eval(&info, wasm, info.globals[5].init, globals, ref_of, NULL, out);
    CHECK(out[0] == 77); /* global.get $g */
    CHECK(info.n_exports == 3 && strcmp(info.exports[0].name, "alpha") == 0 &&
          strcmp(info.exports[2].name, "zeta") == 0);
    const exn_export_t *e = exn_module_export(&info, "beta", EXN_EXTERN_GLOBAL);
    CHECK(e && e->index == 2 && !exn_module_export(&info, "beta", EXN_EXTERN_FUNC));
    CHECK(info.has_start && info.start == 1);
    CHECK(info.n_elems == 2 && info.elems[0].mode == EXN_SEGMENT_ACTIVE &&
          info.elems[0].n_items == 1 && info.elems[0].items[0].kind == EXN_ITEM_FUNC &&
          info.elems[0].items[0].func == 1);
    exn_const_eval(&info, wasm, info.elems[0].offset, globals, ref_of, NULL, out);
    CHECK(out[0] == 0);
    const exn_elem_t *pe = &info.elems[1];
    CHECK(pe->mode == EXN_SEGMENT_PASSIVE && pe->n_items == 3 &&
          pe->items[0].kind == EXN_ITEM_FUNC && pe->items[0].func == 0 &&
          pe->items[1].kind == EXN_ITEM_NULL && pe->items[2].kind == EXN_ITEM_EXPR);
    exn_const_eval(&info, wasm, pe->items[2].expr, globals, ref_of, NULL, out);
    CHECK(out[0] == 555); /* global.get $fr */
    CHECK(info.n_datas == 2 && info.datas[0].mode == EXN_SEGMENT_ACTIVE &&
          info.datas[0].bytes.len == 5 &&
          memcmp(wasm + info.datas[0].bytes.offset, "hello", 5) == 0 &&
          info.datas[1].mode == EXN_SEGMENT_PASSIVE && info.datas[1].bytes.len == 7);
    exn_const_eval(&info, wasm, info.datas[0].offset, globals, ref_of, NULL, out);
    CHECK(out[0] == 16);
    CHECK(info.name_section.len == 60 - 5 && wasm[info.name_section.offset] == 0x01);
    CHECK(info.producers_section.len == 1 && wasm[info.producers_section.offset] == 0x00);
    CHECK(info.features == (EXN_FEATURE_MULTI_VALUE | EXN_FEATURE_REFERENCE_TYPES |
                            EXN_FEATURE_BULK_MEMORY | EXN_FEATURE_SIGN_EXT));
    exn_module_info_free(&info);
    CHECK(info.types == NULL && info.n_exports == 0);
}

/* ---- out of memory anywhere: EXN_ERR_NOMEM, nothing leaked (ASan / valgrind tell) ------------- */

static void test_out_of_memory(void)
{
    static const char *const plugins[] = {"kitchen", "rust_plugin", "big_locals"};
    for (size_t k = 0; k < sizeof plugins / sizeof plugins[0]; k++) {
        char path[1024], why[512];
        size_t len;
        snprintf(path, sizeof path, "%s/%s.wasm", EXN_TEST_PLUGINS, plugins[k]);
        uint8_t *wasm = test_read_file(path, &len);
        exn_module_info_t info;
        CHECK(exn_validate_module(wasm, len, &info, why, sizeof why) == EXN_OK);
        exn_module_info_free(&info);
        int nomem = 0;
        long n;
        for (n = 0; n < 10000; n++) {
            exn_testing_fail_allocation_after(n);
            exn_status_t st = exn_validate_module(wasm, len, &info, why, sizeof why);
            exn_testing_fail_allocation_after(-1);
            exn_module_info_free(&info);
            if (st == EXN_OK)
                break;
            CHECK(st == EXN_ERR_NOMEM);
            CHECK(strstr(why, "out of memory") != NULL);
            nomem++;
        }
        CHECK(nomem > 0 && n < 10000); /* every allocation was failed once, then it worked */
        free(wasm);
    }
}

/* ---- the public entry point ------------------------------------------------------------------ */

static void test_public_api(void)
{
    char why[256];
    static const uint8_t empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    static const uint8_t bad[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x0e, 0};
    CHECK(exn_module_validate(empty, sizeof empty, why, sizeof why) == EXN_OK && why[0] == 0);
    CHECK(exn_module_validate(bad, sizeof bad, why, sizeof why) == EXN_ERR_LOAD);
    CHECK(strcmp(why, "at offset 0x8: malformed section id 14") == 0);
    CHECK(exn_module_validate(bad, sizeof bad, why, 10) == EXN_ERR_LOAD && strlen(why) == 9);
    CHECK(exn_module_validate(bad, sizeof bad, NULL, 0) == EXN_ERR_LOAD);
    CHECK(exn_module_validate(NULL, 3, why, sizeof why) == EXN_ERR_MISUSE);
}

/* EXN_VALIDATE_SKIP_BODIES: sections are still checked, bodies are not (and say so). */
static void test_skip_bodies(void)
{
    /* (func (result i32) (i64.const 0)): a body that does not type-check; one with a table.set
     * (changes_tables) that does */
    static const uint8_t bad_body[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01,
                                       0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01,
                                       0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b};
    static const uint8_t table_set[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01,
                                        0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                                        0x04, 0x04, 0x01, 0x70, 0x00, 0x01, 0x0a, 0x0a, 0x01,
                                        0x08, 0x00, 0x41, 0x00, 0xd0, 0x70, 0x26, 0x00, 0x0b};
    static const uint8_t bad_section[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                          0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03,
                                          0x02, 0x01, 0x05};
    char why[256];
    exn_module_info_t info;
    CHECK(exn_validate_module(bad_body, sizeof bad_body, &info, why, sizeof why) == EXN_ERR_LOAD);
    CHECK(exn_validate_module_flags(bad_body, sizeof bad_body, EXN_VALIDATE_SKIP_BODIES, &info,
                                    why, sizeof why) == EXN_OK);
    CHECK(info.bodies_unchecked && info.n_funcs == 1 && info.bodies[0].len == 4);
    exn_module_info_free(&info);
    CHECK(exn_validate_module(table_set, sizeof table_set, &info, why, sizeof why) == EXN_OK);
    CHECK(info.changes_tables && !info.bodies_unchecked);
    CHECK(info.features & EXN_FEATURE_REFERENCE_TYPES);
    exn_module_info_free(&info);
    CHECK(exn_validate_module_flags(table_set, sizeof table_set, EXN_VALIDATE_SKIP_BODIES, &info,
                                    why, sizeof why) == EXN_OK);
    CHECK(!info.changes_tables && info.bodies_unchecked);
    exn_module_info_free(&info);
    /* a function section naming type 5 of 1: refused either way */
    CHECK(exn_validate_module_flags(bad_section, sizeof bad_section, EXN_VALIDATE_SKIP_BODIES,
                                    &info, why, sizeof why) == EXN_ERR_LOAD);
}

int main(void)
{
    test_skip_bodies();
    test_leb();
    test_names();
    test_description();
    test_out_of_memory();
    test_public_api();
    return test_report();
}
