/* fuzz_kernel_ops.c: libFuzzer harness over random sequences of kernel calls: the input is a
 * program for tests/plugins/wasm/kernel_ops.wasm (18-byte records: op, handle slot, two u64
 * arguments; see its source), run as one plugin call.  The kernel must never read or write
 * outside its memory, whatever the handles, lengths and addresses.
 * Built with -DEXN_FUZZ=ON (clang); run by .ci/jobs/30-fuzz.sh. */
#include <stdio.h>
#include <stdlib.h>

#include "extism_native.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ExtismPlugin *plugin;

/* One plugin serves every input (as a long-lived plugin serves many calls); its kernel memory
 * may grow by at most 64 pages, so the fuzzer also explores the paths where memory runs out
 * instead of growing towards 4 GiB over millions of inputs. */
static void load(void)
{
    static const char manifest[] =
        "{\"wasm\": [{\"path\": \"" EXN_TEST_PLUGINS "/kernel_ops.wasm\"}],"
        " \"memory\": {\"max_pages\": 64}}";
    char errbuf[256];
    if (exn_plugin_new((const uint8_t *)manifest, sizeof manifest - 1, NULL, 0, false, &plugin,
                       errbuf, sizeof errbuf) != EXN_OK) {
        fprintf(stderr, "kernel_ops.wasm: %s\n", errbuf);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!plugin)
        load();
    exn_call_result_t out;
    exn_plugin_call(plugin, "run", data, size, NULL, EXN_TIMEOUT_NONE, &out);
    return 0;
}
