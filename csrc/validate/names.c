/* names.c: the "name" and "producers" custom sections (names.h), read from the ranges the
 * validator kept in the module description (name_section, producers_section).
 * Reference: WebAssembly Core Specification 2.0, appendix 7.4.1-7.4.3 (the name section:
 * subsections of id byte, u32 size, contents; subsection 0 the module name, 1 the function
 * names as a name map of (index, name) pairs); WebAssembly/tool-conventions
 * ProducersSection.md (a vector of fields, each a name and a vector of (name, version)).
 * May call: names.h, wasm_read.h. */
#include "names.h"

#include "wasm_read.h"

/* The contents of name subsection `id` into *out; false if absent or malformed before it. */
static bool name_subsection(const exn_module_info_t *info, const uint8_t *wasm, uint8_t id,
                            exn_wread_t *out)
{
    if (!info->name_section.len)
        return false;
    const uint8_t *base = wasm + info->name_section.offset;
    exn_wread_t r = exn_wread_init(base, base + info->name_section.len);
    while (exn_wread_left(&r)) {
        uint8_t sub;
        uint32_t size;
        const uint8_t *body;
        if (!exn_wread_u8(&r, &sub) || !exn_wread_u32(&r, &size) ||
            !exn_wread_bytes(&r, size, &body))
            return false;
        if (sub == id) {
            *out = exn_wread_init(body, body + size);
            return true;
        }
        if (sub > id) /* (subsections come in order of their ids) */
            return false;
    }
    return false;
}

bool exn_names_module(const exn_module_info_t *info, const uint8_t *wasm, const uint8_t **out,
                      uint32_t *out_len)
{
    exn_wread_t r;
    return name_subsection(info, wasm, 0, &r) && exn_wread_name(&r, out, out_len);
}

bool exn_names_function(const exn_module_info_t *info, const uint8_t *wasm, uint32_t func,
                        const uint8_t **out, uint32_t *out_len)
{
    exn_wread_t r;
    uint32_t n;
    if (!name_subsection(info, wasm, 1, &r) || !exn_wread_u32(&r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t index, len;
        const uint8_t *name;
        if (!exn_wread_u32(&r, &index) || !exn_wread_name(&r, &name, &len))
            return false;
        if (index == func) {
            *out = name;
            *out_len = len;
            return true;
        }
        if (index > func) /* (the map is sorted by index) */
            return false;
    }
    return false;
}

bool exn_names_producers(const exn_module_info_t *info, const uint8_t *wasm,
                         void (*fn)(void *userdata, const uint8_t *field, uint32_t field_len,
                                    const exn_producer_t *p),
                         void *userdata)
{
    if (!info->producers_section.len)
        return false;
    const uint8_t *base = wasm + info->producers_section.offset;
    exn_wread_t r = exn_wread_init(base, base + info->producers_section.len);
    uint32_t n_fields;
    if (!exn_wread_u32(&r, &n_fields))
        return false;
    for (uint32_t i = 0; i < n_fields; i++) {
        const uint8_t *field;
        uint32_t field_len, n_values;
        if (!exn_wread_name(&r, &field, &field_len) || !exn_wread_u32(&r, &n_values))
            return false;
        for (uint32_t k = 0; k < n_values; k++) {
            exn_producer_t p;
            if (!exn_wread_name(&r, &p.name, &p.name_len) ||
                !exn_wread_name(&r, &p.version, &p.version_len))
                return false;
            fn(userdata, field, field_len, &p);
        }
    }
    return exn_wread_left(&r) == 0;
}
