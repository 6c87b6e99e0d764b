/* backtrace.c: a trap's backtrace for people (exn_plugin_trap_backtrace, extism_native.h):
 * the frames the engine recorded (engine.h, backtrace), each mapped to the module of the
 * manifest it belongs to and named from that module's "name" section (validate/names.h).
 * Runs only when asked, after a trap: the call path never looks at names.
 * May call: plugin.h (holding the plugin), instance.h, compiled.h, engine.h,
 * validate/names.h. */
#include "engine/engine.h"
#include "instance.h"
#include "plugin.h"
#include "validate/names.h"

/* The module definition whose engine code is `code` (of either tier: an instance moved to
 * compiled code runs the module's `ncode`, tiering.h), or NULL. */
static const exn_module_def_t *def_of(const ExtismCompiledPlugin *c, const void *code)
{
    for (size_t i = 0; i < c->n_defs; i++) {
        const exn_module_def_t *d = &c->defs[i];
        if ((d->code && (const void *)d->code == code) ||
            (d->ncode && (const void *)d->ncode == code))
            return d;
    }
    return NULL;
}

size_t exn_plugin_trap_backtrace(ExtismPlugin *p, exn_trap_frame_t *frames, size_t max)
{
    bool inside;
    if (!p || (!frames && max) || !exn_plugin_hold(p, &inside)) /* (close may free instances) */
        return 0;
    size_t n = exn_plugin_backtrace_held(p, frames, max);
    exn_plugin_unhold(p, inside);
    return n;
}

/* The frames of one instance's last trap, after the `n` already in `frames`; the new total. */
static size_t instance_frames(ExtismPlugin *p, exn_instance_t *inst, exn_trap_frame_t *frames,
                              size_t n, size_t max)
{
    exn_frame_t raw[EXN_MAX_FRAMES];
    size_t room = max - n < EXN_MAX_FRAMES ? max - n : EXN_MAX_FRAMES;
    size_t got = inst->engine->backtrace(inst, raw, room);
    for (size_t i = 0; i < got; i++) {
        const exn_module_def_t *def = def_of(p->compiled, raw[i].module);
        if (!def) /* (a frame of code this plugin does not know: not expected) */
            continue;
        exn_trap_frame_t *f = &frames[n++];
        const uint8_t *name;
        uint32_t len;
        f->func = raw[i].func;
        f->offset = raw[i].offset;
        f->module = def->name;
        f->module_name = NULL;
        f->module_name_len = 0;
        if (exn_names_module(&def->info, def->wasm, &name, &len)) {
            f->module_name = (const char *)name;
            f->module_name_len = len;
        }
        f->func_name = NULL;
        f->func_name_len = 0;
        if (exn_names_function(&def->info, def->wasm, raw[i].func, &name, &len)) {
            f->func_name = (const char *)name;
            f->func_name_len = len;
        }
    }
    return n;
}

/* Innermost first: the modules other than main the trap came through (each once), then main.
 * A function called through a table shared with another module has its frames where its own
 * module's engine put them (not shown when that is not one of these). */
size_t exn_plugin_backtrace_held(ExtismPlugin *p, exn_trap_frame_t *frames, size_t max)
{
    size_t n = 0;
    if (!p->main || !p->main->inst)
        return 0;
    for (size_t k = 0; k < p->n_trap_mods && n < max; k++) {
        exn_module_t *m = p->trap_mods[k];
        bool seen = m == p->main || !m->inst;
        for (size_t j = 0; j < k && !seen; j++)
            seen = p->trap_mods[j] == m;
        if (!seen)
            n = instance_frames(p, m->inst, frames, n, max);
    }
    if (n < max)
        n = instance_frames(p, p->main->inst, frames, n, max);
    return n;
}
