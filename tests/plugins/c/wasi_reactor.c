/* wasi_reactor.c: an Extism plugin (reactor, built with our kit extism_pdk.h) that uses WASI
 * through wasi-libc: its exports take their instructions from the call's input.  For
 * tests/wasi: files and stdio from a plugin that is called many times on one instance.
 *
 *   cat PATH            output: the file's bytes (error "errno N" on failure)
 *   write PATH\nDATA    writes DATA to PATH (created or truncated); output: bytes written
 *   ls DIR              output: the sorted names in DIR, one per line
 *   say TEXT            printf("%s\n") to stdout and fprintf to stderr; output: "said"
 *   open_errno PATH     output: errno of open(PATH, O_RDONLY) in decimal (0: it opened)
 *   race PATH N         reads PATH N times: output "inside I refused R leaked L other O" */
#include "extism_pdk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int32_t fail_errno(void)
{
    char msg[32];
    snprintf(msg, sizeof msg, "errno %d", errno);
    return exn_fail(msg);
}

EXN_EXPORT("cat") int32_t cat(void)
{
    uint64_t n;
    char *path = exn_input(&n);
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return fail_errno();
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            data = realloc(data, cap);
        }
        size_t k = fread(data + len, 1, cap - len, f);
        if (!k)
            break;
        len += k;
    }
    fclose(f);
    exn_output(data, len);
    free(data);
    return 0;
}

EXN_EXPORT("write") int32_t write_file(void)
{
    uint64_t n;
    char *in = exn_input(&n);
    char *nl = memchr(in, '\n', n);
    if (!nl)
        return exn_fail("expected PATH\\nDATA");
    *nl = '\0';
    FILE *f = fopen(in, "wb");
    if (!f) {
        free(in);
        return fail_errno();
    }
    size_t len = n - (uint64_t)(nl + 1 - in);
    size_t written = fwrite(nl + 1, 1, len, f);
    int closed = fclose(f);
    free(in);
    if (written != len || closed != 0)
        return fail_errno();
    char out[24];
    size_t k = 0;
    exn_append_u64(out, &k, written);
    exn_output(out, k);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

EXN_EXPORT("ls") int32_t ls(void)
{
    uint64_t n;
    char *dir = exn_input(&n);
    DIR *d = opendir(dir);
    free(dir);
    if (!d)
        return fail_errno();
    char *names[256];
    size_t count = 0, total = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 256) {
        names[count] = strdup(e->d_name);
        total += strlen(e->d_name) + 1;
        count++;
    }
    closedir(d);
    qsort(names, count, sizeof names[0], cmp_names);
    char *out = malloc(total + 1);
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        exn_append_str(out, &k, names[i]);
        out[k++] = '\n';
        free(names[i]);
    }
    exn_output(out, k);
    free(out);
    return 0;
}

EXN_EXPORT("say") int32_t say(void)
{
    uint64_t n;
    char *text = exn_input(&n);
    printf("%s\n", text); /* stdout is a terminal to the guest: line-buffered, sent at '\n' */
    fprintf(stderr, "%s\n", text);
    free(text);
    exn_output_str("said");
    return 0;
}

EXN_EXPORT("open_errno") int32_t open_errno(void)
{
    uint64_t n;
    char *path = exn_input(&n);
    int fd = open(path, O_RDONLY);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    free(path);
    char out[24];
    size_t k = 0;
    exn_append_u64(out, &k, (uint64_t)err);
    exn_output(out, k);
    return 0;
}

EXN_EXPORT("race") int32_t race(void)
{
    uint64_t n;
    char *in = exn_input(&n);
    char *space = strrchr(in, ' ');
    if (!space)
        return exn_fail("expected PATH N");
    *space = '\0';
    long rounds = strtol(space + 1, NULL, 10);
    int inside = 0, refused = 0, leaked = 0, other = 0;
    for (long i = 0; i < rounds; i++) {
        int fd = open(in, O_RDONLY);
        if (fd < 0) {
            if (errno == EPERM)
                refused++;
            else
                other++;
            continue;
        }
        char buf[16] = {0};
        ssize_t k = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (k > 0 && strncmp(buf, "inside", 6) == 0)
            inside++;
        else if (k > 0 && strncmp(buf, "SECRET", 6) == 0)
            leaked++;
        else
            other++;
    }
    free(in);
    char out[96];
    snprintf(out, sizeof out, "inside %d refused %d leaked %d other %d", inside, refused, leaked,
             other);
    exn_output_str(out);
    return 0;
}
