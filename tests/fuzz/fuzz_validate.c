/* fuzz_validate.c: libFuzzer harness for the validator (csrc/validate/validate*.c): any bytes must give
 * EXN_OK, EXN_ERR_LOAD, EXN_ERR_UNSUPPORTED or EXN_ERR_NOMEM with a message, never a crash,
 * hang or leak.  The description of a module it accepts (module_info.h) must be consistent:
 * every range inside the module, every index in range, and every constant expression
 * evaluates without reading past itself.  Built by -DEXN_FUZZ=ON; seed it with
 * tests/plugins/wasm/. */
#include <stdio.h>
#include <stdlib.h>

#include "validate/module_info.h"
#include "validate/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_range(exn_range_t r, size_t size)
{
    if ((uint64_t)r.offset + r.len > size)
        abort();
}

static void check_description(const exn_module_info_t *info, const uint8_t *data, size_t size)
{
    if (info->n_funcs < info->n_func_imports)
        abort();
    for (uint32_t i = 0; i < info->n_funcs; i++) {
        if (info->func_type[i] >= info->n_types)
            abort();
    }
    for (uint32_t i = 0; i < info->n_funcs - info->n_func_imports; i++)
        check_range(info->bodies[i], size);
    for (uint32_t i = 0; i < info->n_exports; i++) {
        const exn_export_t *e = &info->exports[i];
        if (exn_module_export(info, e->name, e->kind) != e)
            abort(); /* sorted, and names unique */
    }
    uint64_t slots[64] = {0}, out[2];
    for (uint32_t i = info->n_global_imports; i < info->n_globals; i++) {
        check_range(info->globals[i].init, size);
        exn_const_eval(info, data, info->globals[i].init, slots, NULL, NULL, out);
    }
    for (uint32_t i = 0; i < info->n_elems; i++) {
        const exn_elem_t *e = &info->elems[i];
        if (e->mode == EXN_SEGMENT_ACTIVE) {
            check_range(e->offset, size);
            exn_const_eval(info, data, e->offset, slots, NULL, NULL, out);
        }
        for (uint32_t k = 0; k < e->n_items; k++) {
            if (e->items[k].kind == EXN_ITEM_FUNC && e->items[k].func >= info->n_funcs)
                abort();
        }
    }
    for (uint32_t i = 0; i < info->n_datas; i++) {
        check_range(info->datas[i].bytes, size);
        if (info->datas[i].mode == EXN_SEGMENT_ACTIVE)
            check_range(info->datas[i].offset, size);
    }
    check_range(info->name_section, size);
    check_range(info->producers_section, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    why[0] = '\0';
    exn_module_info_t info;
    exn_status_t st = exn_validate_module(data, size, &info, why, sizeof why);
    if (st != EXN_OK && st != EXN_ERR_LOAD && st != EXN_ERR_UNSUPPORTED && st != EXN_ERR_NOMEM)
        abort();
    if (st != EXN_OK && why[0] == '\0')
        abort(); /* every refusal says why */
    if (st == EXN_OK) {
        check_description(&info, data, size);
        exn_module_info_free(&info);
    }
    return 0;
}
