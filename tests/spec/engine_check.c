/* engine_check.c: checks of wasm3's embedding API that the Plugin API cannot reach, run by
 * tests/test_c_core.py: an exported immutable global is not writable through m3_SetGlobal
 * (patch 0007), references pass through m3_Call/m3_GetResults (patch 0010), a code page takes
 * writes past its lines into its slack and sink and says it overflowed (patch 0079).  Prints
 * "N checks, 0 failures" and exits non-zero on a failure.
 *
 * `engine_check --raw MODULE.wasm EXPORT [TIMES]` loads a module into wasm3 alone - no validator,
 * no imports - and calls EXPORT (() -> i32) TIMES times (default 1): it prints "parse: ERROR",
 * "load: ERROR", or a line per call, "call: ERROR" or "ok RC".  tests/unit/test_engine.py uses it to check wasm3's own defences against modules
 * that the validator refuses before wasm3 would ever see them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m3_env.h"
#include "wasm3.h"

#include "../c/test_util.h"


/* (module
 *   (global (export "fixed") i32 (i32.const 7))
 *   (global (export "var") (mut i64) (i64.const 1))
 *   (func (export "id") (param externref) (result externref) (local.get 0))
 *   (func (export "isnull") (param funcref) (result i32) (ref.is_null (local.get 0)))) */
static const uint8_t module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x02, 0x60, 0x01, 0x6f, 0x01,
    0x6f, 0x60, 0x01, 0x70, 0x01, 0x7f, 0x03, 0x03, 0x02, 0x00, 0x01, 0x06, 0x0b, 0x02, 0x7f,
    0x00, 0x41, 0x07, 0x0b, 0x7e, 0x01, 0x42, 0x01, 0x0b, 0x07, 0x1d, 0x04, 0x05, 0x66, 0x69,
    0x78, 0x65, 0x64, 0x03, 0x00, 0x03, 0x76, 0x61, 0x72, 0x03, 0x01, 0x02, 0x69, 0x64, 0x00,
    0x00, 0x06, 0x69, 0x73, 0x6e, 0x75, 0x6c, 0x6c, 0x00, 0x01, 0x0a, 0x0c, 0x02, 0x04, 0x00,
    0x20, 0x00, 0x0b, 0x05, 0x00, 0x20, 0x00, 0xd1, 0x0b};

static int raw(const char *path, const char *name, int times)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 2;
    }
    static uint8_t wasm[1 << 22];
    size_t n = fread(wasm, 1, sizeof wasm, f);
    fclose(f);
    IM3Environment env = m3_NewEnvironment();
    IM3Runtime rt = m3_NewRuntime(env, 64 * 1024, NULL);
    IM3Module mod = NULL;
    M3Result r = m3_ParseModule(env, &mod, wasm, (uint32_t)n);
    if (r) {
        printf("parse: %s\n", r);
    } else if ((r = m3_LoadModule(rt, mod)) != m3Err_none) {
        printf("load: %s\n", r);
        m3_FreeModule(mod);
    } else {
        /* again and again: a call that failed (e.g. compiling a function) must leave the
         * runtime usable (patch 0019) */
        for (int i = 0; i < times; i++) {
            IM3Function fn = NULL;
            r = m3_FindFunction(&fn, rt, name);
            if (!r)
                r = m3_Call(fn, 0, NULL);
            int32_t rc = 0;
            const void *res[] = {&rc};
            if (!r && m3_GetRetCount(fn) == 1)
                r = m3_GetResults(fn, 1, res);
            if (r)
                printf("call: %s\n", r);
            else
                printf("ok %d\n", rc);
            fflush(stdout);
        }
    }
    m3_FreeRuntime(rt);
    m3_FreeEnvironment(env);
    return 0;
}

/* Patch 0079: more words than a page has lines land in its slack, then its sink, never past the
 * allocation (ASan and UBSan check that in the sanitizer job), and the page says it overflowed. */
static void check_code_page_overflow(void)
{
    IM3CodePage page = NewCodePage(8);
    CHECK(page != NULL);
    if (!page)
        return;
    u32 lines = page->info.numLines;
    for (u32 i = 0; i < lines; i++)
        EmitWord(page, (void *)(uintptr_t)i);
    CHECK(NumFreeLines(page) == 0 && !CodePageOverflowed(page));
    EmitWord32(page, 1);
    CHECK(NumFreeLines(page) == 0 && CodePageOverflowed(page));
    for (u32 i = 0; i < 3 * d_m3CodePageSlackLines; i++) {
        EmitWord64(page, i);
        EmitWord(page, GetPagePC(page));
    }
    CHECK(page->info.lineIndex == lines + d_m3CodePageSlackLines);
    CHECK(GetPagePC(page) == &page->code[lines + d_m3CodePageSlackLines]);
    CHECK(page->code[0] == (void *)0 && page->code[lines - 1] == (void *)(uintptr_t)(lines - 1));
    FreeCodePages(&page);
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "--raw") == 0)
        return raw(argv[2], argv[3], argc == 5 ? atoi(argv[4]) : 1);
    IM3Environment env = m3_NewEnvironment();
    IM3Runtime rt = m3_NewRuntime(env, 64 * 1024, NULL);
    IM3Module mod = NULL;
    CHECK(m3_ParseModule(env, &mod, module, sizeof module) == m3Err_none);
    CHECK(mod && m3_LoadModule(rt, mod) == m3Err_none);

    /* immutable globals stay immutable (patch 0007) */
    IM3Global fixed = m3_FindGlobal(mod, "fixed"), var = m3_FindGlobal(mod, "var");
    CHECK(fixed && var);
    M3TaggedValue v = {.type = c_m3Type_i32, .value.i32 = 99};
    CHECK(m3_SetGlobal(fixed, &v) == m3Err_globalNotMutable);
    CHECK(m3_GetGlobal(fixed, &v) == m3Err_none && v.value.i32 == 7);
    v.type = c_m3Type_i64;
    v.value.i64 = 5;
    CHECK(m3_SetGlobal(var, &v) == m3Err_none);
    CHECK(m3_GetGlobal(var, &v) == m3Err_none && v.value.i64 == 5);

    /* references through the call API (patch 0010) */
    IM3Function id = NULL, isnull = NULL;
    CHECK(m3_FindFunction(&id, rt, "id") == m3Err_none);
    CHECK(m3_FindFunction(&isnull, rt, "isnull") == m3Err_none);
    if (id && isnull) {
        CHECK(m3_GetArgType(id, 0) == c_m3Type_externref);
        uint64_t ref = 0x1234567890ull, out = 0;
        const void *args[] = {&ref};
        const void *res[] = {&out};
        CHECK(m3_Call(id, 1, args) == m3Err_none);
        CHECK(m3_GetResults(id, 1, res) == m3Err_none && out == ref);
        uint64_t null = 0;
        int32_t is = 0;
        const void *nargs[] = {&null};
        const void *nres[] = {&is};
        CHECK(m3_Call(isnull, 1, nargs) == m3Err_none);
        CHECK(m3_GetResults(isnull, 1, nres) == m3Err_none && is == 1);
    }
    m3_FreeRuntime(rt);
    m3_FreeEnvironment(env);
    check_code_page_overflow();
    return test_report();
}
