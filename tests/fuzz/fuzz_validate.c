/* fuzz_validate.c: libFuzzer harness for the validator (csrc/validate/validate*.c): any bytes must give
 * EXN_OK, EXN_ERR_LOAD, EXN_ERR_UNSUPPORTED or EXN_ERR_NOMEM with a message, never a crash,
 * hang or leak.  Modules it accepts go on to the structure scan (module_info.c) that plugin
 * creation runs next.  Built by -DEXN_FUZZ=ON; seed it with tests/plugins/wasm/. */
#include <stdio.h>
#include <stdlib.h>

#include "validate/module_info.h"
#include "validate/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    why[0] = '\0';
    exn_status_t st = exn_validate(data, size, why, sizeof why);
    if (st != EXN_OK && st != EXN_ERR_LOAD && st != EXN_ERR_UNSUPPORTED && st != EXN_ERR_NOMEM)
        abort();
    if (st != EXN_OK && why[0] == '\0')
        abort(); /* every refusal says why */
    if (st == EXN_OK) {
        exn_module_info_t info;
        if (exn_module_scan(data, size, &info, why, sizeof why) == EXN_OK)
            exn_module_info_free(&info);
    }
    return 0;
}
