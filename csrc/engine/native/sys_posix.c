/* engine/native/sys_posix.c: sys.h on POSIX systems (Linux, macOS, the BSDs).  With
 * sys_win32.c the only file of engine/native/ that includes OS headers; it compiles to nothing
 * on Windows.
 * May call: sys.h, support/os.h (the monotonic clock), the C library and POSIX. */
#if !defined(_WIN32)

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity */
#endif

#include "engine/native/sys.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "support/os.h"

extern char **environ;

bool exn_nsys_available(const char **why)
{
#if defined(EXN_BIG_ENDIAN)
    *why = "the compiled tier supports little-endian hosts only";
    return false;
#else
    *why = NULL;
    return true;
#endif
}

/* ---- processes ------------------------------------------------------------------------------ */

static int spawn_fd(char *const argv[], int out_fd, pid_t *out_pid)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    int rc = -1;
    if (out_fd >= 0) {
        if (posix_spawn_file_actions_adddup2(&fa, out_fd, 1) != 0 ||
            posix_spawn_file_actions_adddup2(&fa, out_fd, 2) != 0)
            goto done;
    } else {
        if (posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
            posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0)
            goto done;
    }
    if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0)
        goto done;
    rc = posix_spawnp(out_pid, argv[0], &fa, NULL, argv, environ) == 0 ? 0 : -1;
done:
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

int exn_nsys_spawn(char *const argv[], const char *out_path, intptr_t *out_pid)
{
    int fd = -1;
    if (out_path) {
        fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return -1;
    }
    pid_t pid;
    int rc = spawn_fd(argv, fd, &pid);
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        *out_pid = (intptr_t)pid;
    return rc;
}

int exn_nsys_wait(intptr_t pid)
{
    int status;
    for (;;) {
        pid_t r = waitpid((pid_t)pid, &status, 0);
        if (r == (pid_t)pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int exn_nsys_capture(char *const argv[], char *out, size_t out_len)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc = -1;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (posix_spawn_file_actions_adddup2(&fa, fds[1], 1) == 0 &&
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) == 0 &&
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) == 0)
        rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) == 0 ? 0 : -1;
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    size_t got = 0;
    if (rc == 0) {
        char sink[512];
        for (;;) {
            char *dst = got + 1 < out_len ? out + got : sink;
            size_t room = got + 1 < out_len ? out_len - 1 - got : sizeof sink;
            ssize_t n = read(fds[0], dst, room);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            if (dst != sink)
                got += (size_t)n;
        }
    }
    close(fds[0]);
    if (out_len)
        out[got < out_len ? got : out_len - 1] = 0;
    if (rc != 0)
        return -1;
    return exn_nsys_wait(pid);
}

int exn_nsys_which(const char *name, char *out, size_t out_len)
{
    if (strchr(name, '/')) {
        if (access(name, X_OK) != 0)
            return -1;
        exn_fmt(out, out_len, "%s", name);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n > 0 && n + strlen(name) + 2 < out_len) {
            memcpy(out, path, n);
            out[n] = '/';
            strcpy(out + n + 1, name);
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
                return 0;
        }
        if (!end)
            break;
        path = end + 1;
    }
    return -1;
}

int exn_nsys_file_id(const char *path, char *out, size_t out_len)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
#if defined(__APPLE__)
    long long mns = (long long)st.st_mtimespec.tv_nsec;
#elif defined(__linux__)
    long long mns = (long long)st.st_mtim.tv_nsec;
#else
    long long mns = 0;
#endif
    exn_fmt(out, out_len, "%llu:%llu:%lld:%lld.%09lld", (unsigned long long)st.st_dev,
            (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtime, mns);
    return 0;
}

uint32_t exn_nsys_cpus(void)
{
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return (uint32_t)n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

const char *exn_nsys_getenv(const char *name)
{
    return getenv(name);
}

/* ---- the private cache directory -------------------------------------------------------------- */

int exn_nsys_default_cache_dir(char *out, size_t out_len)
{
    const char *home = getenv("HOME");
#if defined(__APPLE__)
    if (!home || !*home)
        return -1;
    exn_fmt(out, out_len, "%s/Library/Caches/extism_native", home);
#else
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') /* relative values are invalid by the XDG spec */
        exn_fmt(out, out_len, "%s/extism_native", xdg);
    else if (home && *home)
        exn_fmt(out, out_len, "%s/.cache/extism_native", home);
    else
        return -1;
#endif
    return 0;
}

static int check_private(const struct stat *st, bool dir, char *why, size_t why_len)
{
    if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) {
        exn_fmt(why, why_len, "not a %s", dir ? "directory" : "regular file");
        return -1;
    }
    if (st->st_uid != geteuid()) {
        exn_fmt(why, why_len, "owned by uid %u, not by this user", (unsigned)st->st_uid);
        return -1;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        exn_fmt(why, why_len, "writable by group or others (mode %03o)",
                (unsigned)(st->st_mode & 0777));
        return -1;
    }
    return 0;
}

int exn_nsys_private_dir(const char *path, char *why, size_t why_len)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        /* create it and its missing parents (parents: the usual 0700 too; ~/.cache may not exist) */
        char buf[PATH_MAX];
        size_t n = strlen(path);
        if (n == 0 || n >= sizeof buf) {
            exn_fmt(why, why_len, "bad path");
            return -1;
        }
        memcpy(buf, path, n + 1);
        for (char *p = buf + 1; *p; p++) {
            if (*p != '/')
                continue;
            *p = 0;
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
                exn_fmt(why, why_len, "cannot create %s: %s", buf, strerror(errno));
                return -1;
            }
            *p = '/';
        }
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            exn_fmt(why, why_len, "cannot create it: %s", strerror(errno));
            return -1;
        }
        if (lstat(path, &st) != 0) {
            exn_fmt(why, why_len, "cannot stat it: %s", strerror(errno));
            return -1;
        }
    }
    if (S_ISLNK(st.st_mode)) {
        exn_fmt(why, why_len, "a symbolic link");
        return -1;
    }
    return check_private(&st, true, why, why_len);
}

int exn_nsys_temp_dir(const char *base, char *out, size_t out_len)
{
    exn_fmt(out, out_len, "%s/tmp-XXXXXX", base);
    if (strlen(out) + 1 >= out_len)
        return -1;
    return mkdtemp(out) ? 0 : -1; /* mkdtemp makes it 0700 */
}

int exn_nsys_open_private(const char *path, intptr_t *out_fd, uint64_t *out_size, char *why,
                          size_t why_len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        exn_fmt(why, why_len, "%s", errno == ENOENT ? "missing" : strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || check_private(&st, false, why, why_len) != 0) {
        close(fd);
        return -1;
    }
    *out_fd = fd;
    *out_size = (uint64_t)st.st_size;
    return 0;
}

int exn_nsys_read_private(const char *path, uint8_t **out_data, size_t *out_len, char *why,
                          size_t why_len)
{
    *out_data = NULL;
    *out_len = 0;
    intptr_t handle;
    uint64_t file_size;
    if (exn_nsys_open_private(path, &handle, &file_size, why, why_len) != 0)
        return -1;
    int fd = (int)handle;
    if (file_size > SIZE_MAX / 2) {
        close(fd);
        exn_fmt(why, why_len, "too large");
        return -1;
    }
    size_t size = (size_t)file_size;
    uint8_t *data = exn_malloc(size ? size : 1);
    if (!data) {
        close(fd);
        exn_fmt(why, why_len, "out of memory");
        return -1;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != size) {
        exn_free(data);
        exn_fmt(why, why_len, "short read");
        return -1;
    }
    *out_data = data;
    *out_len = size;
    return 0;
}

const uint8_t *exn_nsys_map_readonly(intptr_t fd, size_t len)
{
    void *p = mmap(NULL, len ? len : 1, PROT_READ, MAP_PRIVATE, (int)fd, 0);
    return p == MAP_FAILED ? NULL : (const uint8_t *)p;
}

void exn_nsys_unmap(const uint8_t *map, size_t len)
{
    munmap((void *)(uintptr_t)map, len ? len : 1);
}

int exn_nsys_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return close(fd) == 0 ? 0 : -1;
}

int exn_nsys_rename(const char *from, const char *to)
{
    return rename(from, to) == 0 ? 0 : -1;
}

void exn_nsys_remove(const char *path)
{
    if (unlink(path) == 0)
        return;
    if (errno == EISDIR || errno == EPERM) /* EPERM: macOS's unlink of a directory */
        (void)rmdir(path);
}

/* ---- memory images ----------------------------------------------------------------------------- */

int exn_nsys_image_create(size_t size, intptr_t *out_fd, uint8_t **out_map)
{
    int fd = -1;
#if defined(__linux__) && defined(MFD_CLOEXEC) && defined(MFD_ALLOW_SEALING)
    fd = memfd_create("extism_native_image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
#endif
    if (fd < 0) {
        const char *tmp = getenv("TMPDIR");
        char path[PATH_MAX];
        exn_fmt(path, sizeof path, "%s/extism_native_image-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        fd = mkstemp(path);
        if (fd < 0)
            return -1;
        unlink(path); /* nobody else can open it; it lives while mapped or open */
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    void *map = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) == 0)
        map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        close(fd);
        return -1;
    }
    *out_fd = fd;
    *out_map = map;
    return 0;
}

void exn_nsys_image_seal(intptr_t fd, uint8_t *map, size_t size)
{
    munmap(map, size);
#if defined(__linux__) && defined(F_ADD_SEALS)
    (void)fcntl((int)fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
#else
    (void)fd;
#endif
}

void exn_nsys_close(intptr_t fd)
{
    if (fd >= 0)
        close((int)fd);
}

/* ---- shared libraries ------------------------------------------------------------------------- */

void *exn_nsys_dlopen(const char *path, char *why, size_t why_len)
{
    /* RTLD_LOCAL: its symbols (only the descriptor) never resolve anyone else's */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        exn_fmt(why, why_len, "%s", e ? e : "dlopen failed");
    }
    return h;
}

void *exn_nsys_dlsym(void *lib, const char *name)
{
    return dlsym(lib, name);
}

uintptr_t exn_nsys_lib_base(const void *addr)
{
    Dl_info di;
    if (!addr || dladdr(addr, &di) == 0)
        return 0;
    return (uintptr_t)di.dli_fbase;
}

void exn_nsys_dlclose(void *lib)
{
    if (lib)
        dlclose(lib);
}

/* ---- guard-page faults -------------------------------------------------------------------------- */

static void (*fault_fn)(void *addr, void *pc, void *fp);
static struct sigaction previous[2]; /* SIGSEGV, SIGBUS */
static bool installed;

static void chain(int sig, siginfo_t *info, void *uc)
{
    const struct sigaction *prev = &previous[sig == SIGSEGV ? 0 : 1];
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, info, uc);
        return;
    }
    if (prev->sa_handler == SIG_IGN || prev->sa_handler == SIG_DFL) {
        /* the default action: restore it and return, so that the fault happens again and
         * terminates the process as it would have without us */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
        return;
    }
    prev->sa_handler(sig);
}

/* The faulting instruction's address and the frame pointer (for the trap's frames), where we
 * know how to read them. */
static void fault_regs(void *uc, void **pc, void **fp)
{
#if defined(__linux__) && defined(__x86_64__) && defined(REG_RIP)
    *pc = (void *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
    *fp = (void *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RBP];
#elif defined(__linux__) && defined(__aarch64__)
    *pc = (void *)((ucontext_t *)uc)->uc_mcontext.pc;
    *fp = (void *)((ucontext_t *)uc)->uc_mcontext.regs[29];
#elif defined(__APPLE__) && defined(__x86_64__)
    *pc = (void *)((ucontext_t *)uc)->uc_mcontext->__ss.__rip;
    *fp = (void *)((ucontext_t *)uc)->uc_mcontext->__ss.__rbp;
#elif defined(__APPLE__) && defined(__aarch64__)
    *pc = (void *)((ucontext_t *)uc)->uc_mcontext->__ss.__pc;
    *fp = (void *)((ucontext_t *)uc)->uc_mcontext->__ss.__fp;
#else
    (void)uc;
    *pc = *fp = NULL;
#endif
}

static void on_fault(int sig, siginfo_t *info, void *uc)
{
    int saved = errno;
    if (fault_fn) {
        void *pc, *fp;
        fault_regs(uc, &pc, &fp);
        fault_fn(info->si_addr, pc, fp); /* does not return when the fault is a guest's */
    }
    errno = saved;
    chain(sig, info, uc);
}

int exn_nsys_fault_handler(void (*handler)(void *addr, void *pc, void *fp))
{
    int rc = 0;
    exn_os_global_lock();
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        /* SA_NODEFER: the handler leaves by longjmp without restoring the signal mask (a
         * sigsetjmp saving it would be a system call per guest call), so the signal must not
         * be blocked while it runs.  SA_ONSTACK: on an alternate stack if the thread has one. */
        sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        fault_fn = handler;
        if (sigaction(SIGSEGV, &sa, &previous[0]) != 0 || sigaction(SIGBUS, &sa, &previous[1]) != 0)
            rc = -1;
        else
            installed = true;
    }
    exn_os_global_unlock();
    return rc;
}

#endif
