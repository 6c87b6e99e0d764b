/* replay.c: a libFuzzer harness (tests/fuzz/fuzz_*.c) without libFuzzer.  `replay_<harness>
 * FILE...` hands each file to the harness's LLVMFuzzerTestOneInput, in order, in one process,
 * as the fuzzer does: a crash is the process dying (under -DEXN_SANITIZE, a sanitizer report).
 * Built with any compiler by -DEXN_TESTING=ON; tests/fuzz/test_fuzz_regressions.py replays
 * every input of tests/fuzz/regressions/ through the real harness code with it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/test_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        size_t len;
        /* a buffer of exactly the file's size (as libFuzzer copies each input), so that a read
         * past the end is one past the allocation */
        uint8_t *data = test_try_read_file(argv[i], &len);
        if (!data) {
            fprintf(stderr, "%s: cannot read it\n", argv[i]);
            return 2;
        }
        printf("%s: %lu bytes\n", argv[i], (unsigned long)len);
        fflush(stdout); /* the last name printed is the input that crashed */
        LLVMFuzzerTestOneInput(data, len);
        free(data);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
