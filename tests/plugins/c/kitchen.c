/* kitchen.c: a C plugin built with our kit (extism_pdk.h), for tests, the demo and the
 * benchmarks.  Every export is `int32_t f(void)` returning 0 on success. */
#include "extism_pdk.h"

/* noop: does nothing */
EXN_EXPORT("noop") int32_t noop(void)
{
    return 0;
}

/* echo: output = input */
EXN_EXPORT("echo") int32_t echo(void)
{
    uint64_t n;
    char *in = exn_input(&n);
    if (!in)
        return exn_fail("out of memory");
    exn_output(in, n);
    free(in);
    return 0;
}

/* reverse: output = the input's bytes in reverse order */
EXN_EXPORT("reverse") int32_t reverse(void)
{
    uint64_t n;
    char *in = exn_input(&n);
    if (!in)
        return exn_fail("out of memory");
    for (uint64_t i = 0; i < n / 2; i++) {
        char c = in[i];
        in[i] = in[n - 1 - i];
        in[n - 1 - i] = c;
    }
    exn_output(in, n);
    free(in);
    return 0;
}

/* count_vowels: {"count":N,"total":T,"vowels":"V"} - N input bytes found in V (config
 * "vowels", default aeiouAEIOU), T the running total kept in var "total" as decimal text */
EXN_EXPORT("count_vowels") int32_t count_vowels(void)
{
    uint64_t n, vlen = 0, tlen = 0;
    char *in = exn_input(&n);
    char *vowels = exn_config("vowels", &vlen);
    const char *v = vowels ? vowels : "aeiouAEIOU";
    if (!in)
        return exn_fail("out of memory");
    uint64_t count = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (in[i] && strchr(v, in[i]))
            count++;
    }
    char *total_text = exn_var("total", &tlen);
    uint64_t total = count + (total_text ? strtoull(total_text, NULL, 10) : 0);
    char buf[32];
    size_t k = 0;
    exn_append_u64(buf, &k, total);
    exn_set_var("total", buf, k);

    char *json = malloc(strlen(v) + 96);
    size_t len = 0;
    exn_append_str(json, &len, "{\"count\":");
    exn_append_u64(json, &len, count);
    exn_append_str(json, &len, ",\"total\":");
    exn_append_u64(json, &len, total);
    exn_append_str(json, &len, ",\"vowels\":\"");
    exn_append_str(json, &len, v);
    exn_append_str(json, &len, "\"}");
    exn_output(json, len);
    free(json);
    free(total_text);
    free(vowels);
    free(in);
    return 0;
}

/* greet: "<G>, <input>!" with G = config "greeting" or Hello */
EXN_EXPORT("greet") int32_t greet(void)
{
    uint64_t n, glen = 0;
    char *in = exn_input(&n);
    char *greeting = exn_config("greeting", &glen);
    const char *g = greeting ? greeting : "Hello";
    char *out = malloc(strlen(g) + n + 4);
    size_t len = 0;
    exn_append_str(out, &len, g);
    exn_append_str(out, &len, ", ");
    exn_append(out, &len, in, n);
    exn_append_str(out, &len, "!");
    exn_output(out, len);
    free(out);
    free(greeting);
    free(in);
    return 0;
}

/* fail: error "something went wrong: <input>", returns 1 */
EXN_EXPORT("fail") int32_t fail(void)
{
    uint64_t n;
    char *in = exn_input(&n);
    char *msg = malloc(n + 32);
    size_t len = 0;
    exn_append_str(msg, &len, "something went wrong: ");
    exn_append(msg, &len, in, n);
    msg[len] = '\0';
    int32_t rc = exn_fail(msg);
    free(msg);
    free(in);
    return rc;
}

/* fail_code: returns the input parsed as a signed decimal int, sets no error */
EXN_EXPORT("fail_code") int32_t fail_code(void)
{
    uint64_t n;
    char *in = exn_input(&n);
    int32_t rc = (int32_t)strtol(in, NULL, 10);
    free(in);
    return rc;
}

/* trap: executes unreachable */
EXN_EXPORT("trap") int32_t trap(void)
{
    __builtin_trap();
}

/* log: "<level>: <input>" at every level the host lets through; outputs how many were sent */
EXN_EXPORT("log") int32_t log_all(void)
{
    static const char *const names[] = {"trace", "debug", "info", "warn", "error"};
    uint64_t n;
    char *in = exn_input(&n);
    uint64_t sent = 0;
    char *msg = malloc(n + 16);
    for (int32_t level = EXN_TRACE; level <= EXN_ERROR; level++) {
        size_t len = 0;
        exn_append_str(msg, &len, names[level]);
        exn_append_str(msg, &len, ": ");
        exn_append(msg, &len, in, n);
        msg[len] = '\0';
        sent += exn_log(level, msg);
    }
    free(msg);
    char buf[32];
    size_t len = 0;
    exn_append_u64(buf, &len, sent);
    exn_output(buf, len);
    free(in);
    return 0;
}

/* set_var: input "key=value" stores the var (an empty value deletes it) */
EXN_EXPORT("set_var") int32_t set_var(void)
{
    uint64_t n;
    char *in = exn_input(&n);
    char *eq = strchr(in, '=');
    if (!eq) {
        free(in);
        return exn_fail("expected key=value");
    }
    *eq = '\0';
    exn_set_var(in, eq + 1, (uint64_t)strlen(eq + 1));
    free(in);
    return 0;
}

/* get_var: input "key"; outputs the value (nothing when missing) */
EXN_EXPORT("get_var") int32_t get_var(void)
{
    uint64_t n, len = 0;
    char *in = exn_input(&n);
    char *value = exn_var(in, &len);
    if (value)
        exn_output(value, len);
    free(value);
    free(in);
    return 0;
}

/* config: input "key"; outputs the config value, or fails when it is missing */
EXN_EXPORT("config") int32_t config(void)
{
    uint64_t n, len = 0;
    char *in = exn_input(&n);
    char *value = exn_config(in, &len);
    int32_t rc = 0;
    if (value) {
        exn_output(value, len);
    } else {
        char *msg = malloc(n + 32);
        size_t len = 0;
        exn_append_str(msg, &len, "missing config key: ");
        exn_append(msg, &len, in, n);
        msg[len] = '\0';
        rc = exn_fail(msg);
        free(msg);
    }
    free(value);
    free(in);
    return rc;
}

/* ctors: how many times the constructor ran (a correct host runs it exactly once) */
static int constructed;

__attribute__((constructor)) static void construct(void)
{
    constructed++;
}

EXN_EXPORT("ctors") int32_t ctors(void)
{
    char buf[32];
    size_t len = 0;
    exn_append_u64(buf, &len, (uint64_t)constructed);
    exn_output(buf, len);
    return 0;
}

/* alloc_many: input N; N times alloc(1000) + free; outputs "ok" */
EXN_EXPORT("alloc_many") int32_t alloc_many(void)
{
    uint64_t n;
    char *in = exn_input(&n);
    unsigned long long count = strtoull(in, NULL, 10);
    free(in);
    for (unsigned long long i = 0; i < count; i++) {
        exn_handle h = exn_alloc(1000);
        if (!h || exn_length(h) != 1000 || exn_length_unsafe(h) != 1000)
            return exn_fail("alloc returned a bad block");
        exn_free(h);
    }
    exn_output_str("ok");
    return 0;
}
