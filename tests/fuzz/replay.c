/* replay.c: a libFuzzer harness (tests/fuzz/fuzz_*.c) without libFuzzer.  `replay_<harness>
 * FILE...` hands each file to the harness's LLVMFuzzerTestOneInput, in order, in one process,
 * as the fuzzer does: a crash is the process dying (under -DEXN_SANITIZE, a sanitizer report).
 * Built with any compiler by -DEXN_TESTING=ON; tests/fuzz/test_fuzz_regressions.py replays
 * every input of tests/fuzz/regressions/ through the real harness code with it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole file in a buffer of exactly its size (as libFuzzer copies each input), so that a
 * read past the end is one past the allocation.  NULL on an error, reported. */
static uint8_t *read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t len = 0, cap = 4096;
    uint8_t *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break; /* end of file or an error, told apart below */
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = !buf || ferror(f);
    fclose(f);
    uint8_t *exact = failed ? NULL : malloc(len ? len : 1);
    if (exact)
        memcpy(exact, buf, len);
    free(buf);
    if (!exact)
        fprintf(stderr, "%s: cannot read it\n", path);
    *out_len = len;
    return exact;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        size_t len;
        uint8_t *data = read_file(argv[i], &len);
        if (!data)
            return 2;
        printf("%s: %lu bytes\n", argv[i], (unsigned long)len);
        fflush(stdout); /* the last name printed is the input that crashed */
        LLVMFuzzerTestOneInput(data, len);
        free(data);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
