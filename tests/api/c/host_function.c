/* host_function.c: a C program on extism_native's libextism API.  It loads host_vowels.wasm
 * (argv[1]), whose count_vowels hands '{"count": N}' to extism:host/user::hello_world and
 * outputs what the host returns, calls it with argv[2], and prints the output.  Built and run
 * by test_c_api.py with the flags of `python -m extism_native info --cflags/--libs`.
 * Exit status: 0 on success, 1 with a message on stderr otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extism.h"

static int freed;

static void free_user_data(void *data)
{
    (void)data;
    freed++;
}

/* hello_world(i64 handle) -> i64 handle: "<user data><the plugin's text>" */
static void hello_world(ExtismCurrentPlugin *plugin, const ExtismVal *inputs, ExtismSize n_inputs,
                        ExtismVal *outputs, ExtismSize n_outputs, void *data)
{
    const char *prefix = data;
    size_t plen = strlen(prefix);
    ExtismMemoryHandle h = (ExtismMemoryHandle)inputs[0].v.i64;
    ExtismSize n = extism_current_plugin_memory_length(plugin, h);
    (void)n_inputs, (void)n_outputs;
    ExtismMemoryHandle out = extism_current_plugin_memory_alloc(plugin, plen + n);
    if (!out)
        return;
    uint8_t *base = extism_current_plugin_memory(plugin); /* after the allocation */
    memcpy(base + out, prefix, plen);
    memcpy(base + out + plen, base + h, n);
    outputs[0].v.i64 = (int64_t)out;
}

static unsigned char *read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        *out_len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    size_t wasm_len = 0;
    unsigned char *wasm = argc == 3 ? read_file(argv[1], &wasm_len) : NULL;
    if (!wasm) {
        fprintf(stderr, "usage: host_function PLUGIN.wasm TEXT\n");
        return 1;
    }
    ExtismValType ptr = EXTISM_PTR;
    ExtismFunction *fn = extism_function_new("hello_world", &ptr, 1, &ptr, 1, hello_world,
                                             (void *)"C host saw ", free_user_data);
    const ExtismFunction *fns[] = {fn};
    char *err = NULL;
    ExtismPlugin *plugin = extism_plugin_new(wasm, wasm_len, fns, 1, false, &err);
    extism_function_free(fn);
    free(wasm);
    if (!plugin) {
        fprintf(stderr, "%s\n", err);
        extism_plugin_new_error_free(err);
        return 1;
    }
    int32_t rc = extism_plugin_call(plugin, "count_vowels", (const uint8_t *)argv[2],
                                    strlen(argv[2]));
    if (rc != EXTISM_SUCCESS || extism_plugin_error(plugin)) {
        fprintf(stderr, "rc %d: %s\n", rc, extism_plugin_error(plugin));
        extism_plugin_free(plugin);
        return 1;
    }
    fwrite(extism_plugin_output_data(plugin), 1, extism_plugin_output_length(plugin), stdout);
    extism_plugin_free(plugin);
    printf("\nfreed %d, version %s\n", freed, extism_version());
    return 0;
}
