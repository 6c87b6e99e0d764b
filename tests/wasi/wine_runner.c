/* wine_runner.c: runs a WASI command plugin with the core built for Windows, so that
 * test_wine.py can run the WASI programs under Wine (sys_win32.c on a real Win32 API).
 *
 *   wine_runner.exe WASM HOSTDIR GUESTDIR ARG...   (GUESTDIR is also the program name)
 *
 * The guest's stdout and stderr are printed, then "status S exit E MESSAGE". */
#include <stdio.h>
#include <string.h>

#include "extism_native.h"

static int print(void *userdata, const uint8_t *data, size_t len)
{
    (void)userdata;
    fwrite(data, 1, len, stdout);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: wine_runner WASM HOSTDIR GUESTDIR ARG...\n");
        return 2;
    }
    char manifest[2048], err[512];
    snprintf(manifest, sizeof manifest,
             "{\"wasm\": [{\"path\": \"%s\"}], \"allowed_paths\": {\"%s\": \"%s\"}}", argv[1],
             argv[2], argv[3]);
    ExtismPlugin *p = NULL;
    exn_status_t st = exn_plugin_new((const uint8_t *)manifest, strlen(manifest), NULL, 0, true,
                                     &p, err, sizeof err);
    if (st) {
        printf("status %d exit 0 %s\n", (int)st, err);
        return 1;
    }
    exn_plugin_wasi_args(p, (const char *const *)argv + 3, (size_t)(argc - 3));
    exn_plugin_wasi_output(p, 1, EXN_WASI_CALLBACK, print, NULL);
    exn_plugin_wasi_output(p, 2, EXN_WASI_CALLBACK, print, NULL);
    exn_call_result_t out;
    st = exn_plugin_call(p, "_start", NULL, 0, NULL, EXN_TIMEOUT_DEFAULT, &out);
    printf("status %d exit %d %s\n", (int)st, (int)exn_plugin_exit_code(p), exn_plugin_errmsg(p));
    extism_plugin_free(p);
    return 0;
}
