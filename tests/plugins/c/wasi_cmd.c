/* wasi_cmd.c: a WASI command (main, called through `_start`) built against wasi-libc, for
 * tests/wasi.  argv[1] picks what it does; it reports on stdout, one line per step, and exits
 * with a status.  The errno values it prints are WASI's (wasi-libc uses them as errno).
 *
 *   files DIR        write, read, seek, stat, append, truncate, pread/pwrite, allocate, sync,
 *                    advise, times, mkdir, list, rename, symlink, readlink, link, unlink, rmdir
 *   clock            realtime, monotonic, resolution, a 30 ms nanosleep
 *   random           getentropy
 *   env              argc/argv and the environment
 *   stdin            copies stdin to stdout, upper-cased
 *   stdio            a line to stdout and one to stderr
 *   exit N           exit(N) after printing
 *   escape MOUNT     escape attempts through libc calls; prints "name errno" for each
 *   race PATH N      opens PATH N times, reading it: prints how often each outcome happened */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char path_buf[4][512];

static const char *at(int slot, const char *dir, const char *name)
{
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, name);
    return path_buf[slot];
}

static int check(const char *what, int ok)
{
    printf("%s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        printf("  errno %d\n", errno);
    return ok ? 0 : 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the sorted names in dir (without . and ..), space-separated */
static void list(const char *dir)
{
    char *names[64];
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        printf("list errno %d\n", errno);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    printf("list");
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static int files(const char *dir)
{
    int bad = 0;
    char buf[64] = {0};
    const char *a = at(0, dir, "a.txt");

    int fd = open(a, O_CREAT | O_TRUNC | O_RDWR, 0644);
    bad += check("create", fd >= 0);
    bad += check("write", write(fd, "hello world", 11) == 11);
    bad += check("seek", lseek(fd, 6, SEEK_SET) == 6);
    bad += check("read", read(fd, buf, 5) == 5 && memcmp(buf, "world", 5) == 0);
    bad += check("tell", lseek(fd, 0, SEEK_CUR) == 11);
    bad += check("pwrite", pwrite(fd, "W", 1, 6) == 1);
    memset(buf, 0, sizeof buf);
    bad += check("pread", pread(fd, buf, 5, 6) == 5 && memcmp(buf, "World", 5) == 0);
    struct stat st;
    bad += check("fstat", fstat(fd, &st) == 0 && st.st_size == 11 && S_ISREG(st.st_mode));
    bad += check("fsync", fsync(fd) == 0);
    bad += check("fdatasync", fdatasync(fd) == 0);
    bad += check("advise", posix_fadvise(fd, 0, 11, POSIX_FADV_SEQUENTIAL) == 0);
    bad += check("allocate", posix_fallocate(fd, 0, 100) == 0 && fstat(fd, &st) == 0 &&
                                 st.st_size == 100);
    bad += check("truncate", ftruncate(fd, 11) == 0 && fstat(fd, &st) == 0 && st.st_size == 11);
    struct timespec times[2] = {{1000000000, 0}, {1500000000, 123456789}};
    bad += check("futimens", futimens(fd, times) == 0 && fstat(fd, &st) == 0 &&
                                 st.st_mtim.tv_sec == 1500000000 &&
                                 st.st_mtim.tv_nsec == 123456789);
    bad += check("close", close(fd) == 0);

    fd = open(a, O_WRONLY | O_APPEND);
    bad += check("append", fd >= 0 && write(fd, "!\n", 2) == 2 && close(fd) == 0);
    FILE *f = fopen(a, "r");
    bad += check("fopen", f != NULL);
    if (f) {
        bad += check("fgets", fgets(buf, sizeof buf, f) && strcmp(buf, "hello World!\n") == 0);
        fclose(f);
    }
    bad += check("stat", stat(a, &st) == 0 && st.st_size == 13);
    bad += check("mkdir", mkdir(at(1, dir, "sub"), 0755) == 0);
    bad += check("mkdir again", mkdir(at(1, dir, "sub"), 0755) == -1 && errno == EEXIST);
    bad += check("rename", rename(a, at(1, dir, "sub/b.txt")) == 0);
    bad += check("gone", stat(a, &st) == -1 && errno == ENOENT);
    bad += check("symlink", symlink("sub/b.txt", at(2, dir, "ln")) == 0);
    char target[64] = {0};
    bad += check("readlink", readlink(at(2, dir, "ln"), target, sizeof target) == 9 &&
                                 strcmp(target, "sub/b.txt") == 0);
    bad += check("through link", stat(at(2, dir, "ln"), &st) == 0 && st.st_size == 13);
    bad += check("lstat", lstat(at(2, dir, "ln"), &st) == 0 && S_ISLNK(st.st_mode));
    bad += check("link", link(at(1, dir, "sub/b.txt"), at(3, dir, "hard")) == 0 &&
                             stat(at(3, dir, "hard"), &st) == 0 && st.st_nlink == 2);
    list(dir);
    list(at(1, dir, "sub"));
    bad += check("rmdir non-empty", rmdir(at(1, dir, "sub")) == -1 && errno == ENOTEMPTY);
    bad += check("unlink", unlink(at(1, dir, "sub/b.txt")) == 0 && unlink(at(2, dir, "ln")) == 0 &&
                               unlink(at(3, dir, "hard")) == 0);
    bad += check("rmdir", rmdir(at(1, dir, "sub")) == 0);
    list(dir);
    return bad ? 1 : 0;
}

static long long ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int clocks(void)
{
    int bad = 0;
    struct timespec res;
    bad += check("realtime", ns(CLOCK_REALTIME) > 1600000000LL * 1000000000);
    bad += check("resolution", clock_getres(CLOCK_MONOTONIC, &res) == 0 &&
                                   (res.tv_sec > 0 || res.tv_nsec > 0));
    long long t0 = ns(CLOCK_MONOTONIC);
    struct timespec nap = {0, 30 * 1000000};
    bad += check("nanosleep", nanosleep(&nap, NULL) == 0);
    long long slept = ns(CLOCK_MONOTONIC) - t0;
    bad += check("slept 30 ms", slept >= 30 * 1000000);
    bad += check("monotonic", ns(CLOCK_MONOTONIC) >= t0);
    return bad ? 1 : 0;
}

static int randomness(void)
{
    unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};
    int bad = check("getentropy", getentropy(a, sizeof a) == 0 && getentropy(b, sizeof b) == 0);
    bad += check("different", memcmp(a, b, sizeof a) != 0 && memcmp(a, zero, sizeof a) != 0);
    return bad ? 1 : 0;
}

extern char **environ;

static int env(int argc, char **argv)
{
    printf("argc %d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d] %s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        printf("env %s\n", *e);
    const char *foo = getenv("FOO");
    printf("FOO %s\n", foo ? foo : "(unset)");
    return 0;
}

static int copy_stdin(void)
{
    int c;
    size_t n = 0;
    while ((c = getchar()) != EOF) {
        putchar(c >= 'a' && c <= 'z' ? c - 32 : c);
        n++;
    }
    printf("\n%zu bytes\n", n);
    return 0;
}

/* one attempt: print the errno (0 = it worked, which the tests treat as a failure) */
static void attempt(const char *name, int result)
{
    printf("%s %d\n", name, result < 0 ? errno : 0);
}

static int escape(const char *m)
{
    char p[5000];
    struct stat st;
    attempt("dotdot", open(at(0, m, "../outside/secret"), O_RDONLY));
    attempt("dotdot_deep", open(at(0, m, "sub/../../outside/secret"), O_RDONLY));
    attempt("link_out", open(at(0, m, "link_out/secret"), O_RDONLY));
    attempt("abs_link", open(at(0, m, "abs_link"), O_RDONLY));
    attempt("abs_link_nofollow", open(at(0, m, "abs_link"), O_RDONLY | O_NOFOLLOW));
    attempt("chain", open(at(0, m, "chain/secret"), O_RDONLY));
    attempt("loop", open(at(0, m, "loop_a"), O_RDONLY));
    attempt("stat_out", stat(at(0, m, "link_out/secret"), &st));
    attempt("opendir_up", opendir(at(0, m, "..")) ? 0 : -1);
    attempt("mkdir_out", mkdir(at(0, m, "../outside/new"), 0755));
    attempt("create_out", open(at(0, m, "link_out/new"), O_CREAT | O_WRONLY, 0644));
    attempt("create_via_dangling_out", open(at(0, m, "dangling_out"), O_CREAT | O_WRONLY, 0644));
    attempt("rename_out", rename(at(0, m, "file"), at(1, m, "../outside/moved")));
    attempt("rename_in", rename(at(0, m, "link_out/secret"), at(1, m, "stolen")));
    attempt("link_out_file", link(at(0, m, "link_out/secret"), at(1, m, "hard")));
    attempt("unlink_out", unlink(at(0, m, "link_out/secret")));
    attempt("symlink_abs", symlink("/etc/passwd", at(0, m, "new_abs")));
    memset(p, 0, sizeof p);
    snprintf(p, sizeof p, "%s/", m);
    for (size_t i = strlen(p); i < 4500; i += 2)
        memcpy(p + i, "a/", 2);
    attempt("long_path", open(p, O_RDONLY));
    memset(p, 'a', 300);
    p[300] = '\0';
    attempt("long_name", open(at(0, m, p), O_RDONLY));
    attempt("absolute", open("/outside/secret", O_RDONLY));
    return 0;
}

static int race(const char *path, int n)
{
    int inside = 0, refused = 0, leaked = 0, other = 0;
    for (int i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY);
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
    printf("inside %d refused %d leaked %d other %d\n", inside, refused, leaked, other);
    return leaked ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "files") && argc > 2)
        return files(argv[2]);
    if (!strcmp(what, "clock"))
        return clocks();
    if (!strcmp(what, "random"))
        return randomness();
    if (!strcmp(what, "env"))
        return env(argc, argv);
    if (!strcmp(what, "stdin"))
        return copy_stdin();
    if (!strcmp(what, "stdio")) {
        printf("to stdout\n");
        fprintf(stderr, "to stderr\n");
        return 0;
    }
    if (!strcmp(what, "exit") && argc > 2) {
        printf("exiting with %s\n", argv[2]);
        exit(atoi(argv[2]));
    }
    if (!strcmp(what, "escape") && argc > 2)
        return escape(argv[2]);
    if (!strcmp(what, "race") && argc > 3)
        return race(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: wasi_cmd files|clock|random|env|stdin|stdio|exit|escape|race\n");
    return 2;
}
