/* fuzz_plugin_new.c: libFuzzer harness over plugin creation from arbitrary bytes (a wasm module,
 * or manifest JSON when the bytes start with '{'), with and without WASI, then a call of every
 * export of the main module that a plugin call accepts, each with a 20 ms timeout (start
 * functions and initialisers run under the same 20 ms unless the manifest sets a timeout: a
 * looping start function is a valid module, not a finding).  Any crash, sanitizer report or
 * leak is a bug; errors are expected and ignored.
 * Built with -DEXN_FUZZ=ON (clang); run by .ci/jobs/30-fuzz.sh. */
#include <stddef.h>
#include <stdint.h>

#include "extism_native.h"
#include "runtime/compiled.h"
#include "runtime/plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errbuf[512];
    for (int wasi = 0; wasi < 2; wasi++) {
        ExtismCompiledPlugin *c = NULL;
        ExtismPlugin *p = NULL;
        if (exn_compiled_new(data, size, NULL, 0, wasi != 0, EXN_TIER_INTERP, 0, &c, errbuf,
                             sizeof errbuf) != EXN_OK)
            continue;
        if (c->timeout_ns == 0)
            c->timeout_ns = 20 * 1000 * 1000;
        exn_status_t st = exn_plugin_new_from_compiled(c, &p, errbuf, sizeof errbuf);
        exn_compiled_release(c); /* the plugin holds its own reference */
        if (st != EXN_OK)
            continue;
        const exn_module_info_t *info = &p->main->def->info;
        for (uint32_t i = 0; i < info->n_exports && i < 16; i++) {
            const exn_export_t *e = &info->exports[i];
            if (e->kind != EXN_EXTERN_FUNC || exn_plugin_function_kind(p, e->name) != 1)
                continue;
            exn_call_result_t out;
            exn_plugin_call(p, e->name, data, size < 64 ? size : 64, NULL,
                            20 * 1000 * 1000, &out);
        }
        extism_plugin_free(p);
    }
    return 0;
}
