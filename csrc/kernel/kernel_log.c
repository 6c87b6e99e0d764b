/* kernel_log.c: the log_* and get_log_level imports (spec section 5) and the process-wide log
 * sink of the libextism API (extism_log_file, extism_log_custom, extism_log_drain).
 *
 * Levels are per plugin: a plugin with a logger of its own (exn_plugin_set_logger, which sets
 * its kernel context's; the Python binding routes it to the `logging` module) has its own
 * threshold; others share the process-wide sink, which is off until extism_log_file or
 * extism_log_custom configures it.
 * get_log_level returns the threshold (EXN_LOG_OFF = i32::MAX when off), so PDKs skip
 * formatting messages nobody would see.
 * May call: kernel.h (the context), kernel_mem.h, os.h (time, global lock), json.h (UTF-8). */
#include <stdio.h>
#include <stdlib.h>

#include "kernel.h"
#include "support/json.h"
#include "support/os.h"

static const char *const level_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"};

/* ---- process-wide sink (guarded by the global lock) ---------------------------------------- */

typedef enum { SINK_NONE, SINK_FILE, SINK_BUFFER } sink_kind_t;

static struct {
    sink_kind_t kind;
    exn_atomic_int level; /* read without the lock on the hot path */
    FILE *file;
    bool owns_file;
    char **lines; /* SINK_BUFFER: lines waiting for extism_log_drain */
    size_t n_lines, cap_lines;
} sink = {SINK_NONE, EXN_LOG_OFF, NULL, false, NULL, 0, 0};

/* Parse "trace" ... "error" / "off", or a filter like "extism=info" (the level after the last
 * '='); NULL means "error".  Returns -2 for anything else. */
static int32_t parse_level(const char *text)
{
    if (!text)
        return EXN_LOG_ERROR;
    const char *eq = strrchr(text, '=');
    if (eq)
        text = eq + 1;
    static const char *const names[] = {"trace", "debug", "info", "warn", "error"};
    for (int32_t i = 0; i < 5; i++) {
        size_t n = strlen(names[i]), k = 0;
        while (k < n && text[k] && (text[k] | 0x20) == names[i][k])
            k++;
        if (k == n && text[k] == '\0')
            return i;
    }
    if ((text[0] | 0x20) == 'o' && (text[1] | 0x20) == 'f' && (text[2] | 0x20) == 'f' && !text[3])
        return EXN_LOG_OFF;
    return -2;
}

static bool push_line_locked(char *line)
{
    if (sink.n_lines == sink.cap_lines) {
        size_t cap = sink.cap_lines ? sink.cap_lines * 2 : 16;
        char **lines = exn_realloc(sink.lines, cap * sizeof *lines);
        if (!lines)
            return false;
        sink.lines = lines;
        sink.cap_lines = cap;
    }
    sink.lines[sink.n_lines++] = line;
    return true;
}

int32_t exn_log_global_level(void)
{
    return exn_atomic_load(&sink.level);
}

static void global_write(const char *target, const uint8_t id[16], int32_t level, const char *msg,
                         size_t len)
{
    char stamp[40], uuid[37];
    exn_os_utc_timestamp(stamp, sizeof stamp);
    for (int i = 0, o = 0; i < 16; i++) {
        static const char hex[] = "0123456789abcdef";
        if (i == 4 || i == 6 || i == 8 || i == 10)
            uuid[o++] = '-';
        uuid[o++] = hex[id[i] >> 4];
        uuid[o++] = hex[id[i] & 15];
        uuid[o] = '\0';
    }
    const char *name = level >= 0 && level <= 4 ? level_names[level] : "?";
    if (len > (size_t)INT32_MAX)
        len = INT32_MAX;
    exn_os_global_lock();
    if (sink.kind == SINK_FILE && sink.file) {
        fprintf(sink.file, "%s %5s %s: %.*s plugin=\"%s\"\n", stamp, name, target, (int)len, msg,
                uuid);
        fflush(sink.file);
    } else if (sink.kind == SINK_BUFFER) {
        size_t need = strlen(stamp) + len + 96;
        char *line = exn_malloc(need);
        if (line) {
            /* each line ends with a newline, as libextism's do */
            exn_fmt(line, need, "%s %5s %s: %.*s plugin=\"%s\"\n", stamp, name, target, (int)len,
                    msg, uuid);
            if (!push_line_locked(line))
                exn_free(line); /* out of memory: the line is dropped */
        }
    }
    exn_os_global_unlock();
}

void exn_log_global_write(const uint8_t id[16], int32_t level, const char *msg, size_t len)
{
    global_write("extism::pdk", id, level, msg, len);
}

void exn_log_runtime(int32_t level, const char *msg)
{
    static const uint8_t none[16];
    if (level >= exn_log_global_level())
        global_write("extism_native::runtime", none, level, msg, strlen(msg));
}

static void close_sink_locked(void)
{
    if (sink.owns_file && sink.file)
        fclose(sink.file);
    sink.file = NULL;
    sink.owns_file = false;
    sink.kind = SINK_NONE;
}

bool extism_log_file(const char *filename, const char *log_level)
{
    int32_t level = parse_level(log_level);
    if (level == -2 || !filename)
        return false;
    FILE *f;
    bool owns = false;
    if (strcmp(filename, "stdout") == 0)
        f = stdout;
    else if (strcmp(filename, "stderr") == 0 || strcmp(filename, "-") == 0)
        f = stderr;
    else if ((f = fopen(filename, "a")) != NULL)
        owns = true;
    if (!f)
        return false;
    exn_os_global_lock();
    close_sink_locked();
    sink.kind = SINK_FILE;
    sink.file = f;
    sink.owns_file = owns;
    exn_atomic_store(&sink.level, level);
    exn_os_global_unlock();
    return true;
}

bool extism_log_custom(const char *log_level)
{
    int32_t level = parse_level(log_level);
    if (level == -2)
        return false;
    exn_os_global_lock();
    close_sink_locked();
    sink.kind = SINK_BUFFER;
    exn_atomic_store(&sink.level, level);
    exn_os_global_unlock();
    return true;
}

void extism_log_drain(ExtismLogDrainFunctionType handler)
{
    /* take the lines out under the lock, call the handler without it (it may log itself) */
    exn_os_global_lock();
    char **lines = sink.lines;
    size_t n = sink.n_lines;
    sink.lines = NULL;
    sink.n_lines = sink.cap_lines = 0;
    exn_os_global_unlock();
    for (size_t i = 0; i < n; i++) {
        if (handler)
            handler(lines[i], strlen(lines[i]));
        exn_free(lines[i]);
    }
    exn_free(lines);
}

/* ---- per context ------------------------------------------------------------------------------ */

int32_t exn_kernel_log_level(exn_kernel_t *k)
{
    if (!k->log_fn)
        return exn_log_global_level();
    if (k->log_level != EXN_LOG_ASK)
        return k->log_level;
    if (k->call_log_level == EXN_LOG_ASK) {
        int32_t level = k->log_fn(k->log_userdata, 0, NULL, 0);
        k->call_log_level = level >= EXN_LOG_TRACE && level <= EXN_LOG_ERROR ? level : EXN_LOG_OFF;
    }
    return k->call_log_level;
}

void exn_kernel_set_logger(exn_kernel_t *k, int32_t level, exn_log_fn fn, void *userdata)
{
    k->log_fn = fn;
    k->log_userdata = userdata;
    k->log_level = level;
    k->call_log_level = EXN_LOG_ASK;
}

/* Hand a line to the context's logger or the process-wide sink; NULL, or the trap to return
 * when that logger asks to stop the guest. */
static exn_trap_t deliver(exn_kernel_t *k, int32_t level, const char *msg, size_t len)
{
    if (!k->log_fn) {
        exn_log_global_write(k->id, level, msg, len);
        return NULL;
    }
    if (k->log_fn(k->log_userdata, level, msg, len) == 0)
        return NULL;
    exn_fmt(k->trap_msg, sizeof k->trap_msg, "the log handler failed");
    return exn_trap_host;
}

/* log_<level>(msg: i64): below the threshold the message block is freed and ignored (even if
 * invalid).  Otherwise msg must be 0 (empty) or a live block, else the call traps with
 * "invalid handle offset for log message: N".  Text that is not UTF-8 is replaced by an
 * error-level line saying so.  The block is freed. */
static exn_trap_t log_at(const exn_caller_t *caller, uint64_t *sp, int32_t level)
{
    exn_kernel_t *k = exn_kernel_of(caller);
    uint64_t h = exn_arg_u64(sp, 0);
    int32_t threshold = exn_kernel_log_level(k);
    if (threshold == EXN_LOG_OFF || level < threshold) {
        exn_kmem_free_block(&k->kmem, h);
        return NULL;
    }
    const uint8_t *msg;
    uint64_t len;
    if (!exn_kernel_resolve(k, h, &msg, &len))
        return exn_kernel_trap(k, "invalid handle offset for log message: %llu",
                               (unsigned long long)h);
    exn_trap_t trap = NULL;
    if (exn_utf8_valid(msg, (size_t)len)) {
        trap = deliver(k, level, (const char *)msg, (size_t)len);
    } else {
        static const char bad[] = "unable to log message: it is not valid UTF-8";
        if (EXN_LOG_ERROR >= threshold)
            trap = deliver(k, EXN_LOG_ERROR, bad, sizeof bad - 1);
    }
    exn_kmem_free_block(&k->kmem, h);
    return trap;
}

EXN_IMPORT(kernel_log_trace)
{
    return log_at(caller, sp, EXN_LOG_TRACE);
}

EXN_IMPORT(kernel_log_debug)
{
    return log_at(caller, sp, EXN_LOG_DEBUG);
}

EXN_IMPORT(kernel_log_info)
{
    return log_at(caller, sp, EXN_LOG_INFO);
}

EXN_IMPORT(kernel_log_warn)
{
    return log_at(caller, sp, EXN_LOG_WARN);
}

EXN_IMPORT(kernel_log_error)
{
    return log_at(caller, sp, EXN_LOG_ERROR);
}

/* get_log_level() -> i32: the plugin's threshold: 0 trace ... 4 error, i32::MAX when off. */
EXN_IMPORT(kernel_get_log_level)
{
    exn_ret_u32(sp, (uint32_t)exn_kernel_log_level(exn_kernel_of(caller)));
    return NULL;
}
