/* manifest.c: reading and loading Extism manifests (spec section 6; manifest.h).
 * May call: json.h, codec.h (base64, sha256), os.h (reading files). */
#include "manifest.h"

#include "support/codec.h"
#include "support/json.h"
#include "support/os.h"

typedef struct {
    char *errbuf;
    size_t errbuf_len;
} ctx_t;

static exn_status_t field_error(ctx_t *c, const char *field, const char *fmt, ...) EXN_PRINTF(3, 4);

static exn_status_t field_error(ctx_t *c, const char *field, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    exn_vfmt(why, sizeof why, fmt, ap);
    va_end(ap);
    exn_fmt(c->errbuf, c->errbuf_len, "invalid manifest: %s: %s", field, why);
    return EXN_ERR_MANIFEST;
}

static exn_status_t expect(ctx_t *c, const char *field, const exn_json_t *v, exn_json_kind_t kind)
{
    if (v->kind == kind)
        return EXN_OK;
    return field_error(c, field, "expected %s, got %s", exn_json_kind_name(kind),
                       exn_json_kind_name(v->kind));
}

/* Reject members of `obj` that are not in the NULL-terminated `known` list. */
static exn_status_t check_fields(ctx_t *c, const char *field, const exn_json_t *obj,
                                 const char *const *known)
{
    for (size_t i = 0; i < obj->len; i++) {
        const exn_json_member_t *m = &obj->members[i];
        bool ok = false;
        for (const char *const *k = known; *k; k++)
            ok = ok || (strlen(*k) == m->key_len && memcmp(*k, m->key, m->key_len) == 0);
        if (!ok)
            return field_error(c, field, "unknown field \"%.*s\"",
                               (int)(m->key_len > 64 ? 64 : m->key_len), m->key);
    }
    return EXN_OK;
}

static exn_status_t dup_string(ctx_t *c, const char *field, const exn_json_t *v, char **out)
{
    if (v->kind != EXN_JSON_STRING)
        return expect(c, field, v, EXN_JSON_STRING);
    if (memchr(v->str, '\0', v->len))
        return field_error(c, field, "contains a NUL character");
    *out = exn_strndup(v->str, v->len);
    return *out ? EXN_OK : EXN_ERR_NOMEM;
}

static exn_status_t get_uint(ctx_t *c, const char *field, const exn_json_t *v, uint64_t max,
                             uint64_t *out)
{
    if (v->kind != EXN_JSON_NUMBER || !v->is_u64 || v->u64 > max)
        return field_error(c, field, "expected an integer from 0 to %llu", (unsigned long long)max);
    *out = v->u64;
    return EXN_OK;
}

/* Fill a string -> string map from a JSON object (config, headers). */
static exn_status_t read_string_map(ctx_t *c, const char *field, const exn_json_t *obj,
                                    exn_strmap_t *out)
{
    exn_status_t st = expect(c, field, obj, EXN_JSON_OBJECT);
    for (size_t i = 0; st == EXN_OK && i < obj->len; i++) {
        const exn_json_member_t *m = &obj->members[i];
        if (m->value.kind != EXN_JSON_STRING)
            return field_error(c, field, "value of \"%.*s\" must be a string, got %s",
                               (int)(m->key_len > 64 ? 64 : m->key_len), m->key,
                               exn_json_kind_name(m->value.kind));
        st = exn_strmap_set(out, m->key, m->key_len, m->value.str, m->value.len);
    }
    return st;
}

static exn_status_t read_wasm(ctx_t *c, size_t index, const exn_json_t *w, exn_manifest_wasm_t *out)
{
    char field[64], sub[96];
    exn_fmt(field, sizeof field, "wasm[%zu]", index);
    exn_status_t st = expect(c, field, w, EXN_JSON_OBJECT);
    if (st)
        return st;
    exn_strmap_init(&out->headers);

    const exn_json_t *data = exn_json_get(w, "data"), *path = exn_json_get(w, "path"),
                     *url = exn_json_get(w, "url");
    int kinds = (data != NULL) + (path != NULL) + (url != NULL);
    if (kinds != 1)
        return field_error(c, field,
                           kinds ? "give only one of \"data\", \"path\" or \"url\""
                                 : "needs one of \"data\", \"path\" or \"url\"");

    static const char *const data_fields[] = {"data", "name", "hash", NULL};
    static const char *const path_fields[] = {"path", "name", "hash", NULL};
    static const char *const url_fields[] = {"url", "headers", "method", "name", "hash", NULL};

    if (data) {
        out->source = EXN_WASM_DATA;
        if ((st = check_fields(c, field, w, data_fields)))
            return st;
        exn_fmt(sub, sizeof sub, "%s.data", field);
        if (data->kind == EXN_JSON_OBJECT)
            return field_error(c, sub,
                               "raw {ptr, len} host pointers are not accepted; "
                               "give the module as base64 text");
        if ((st = expect(c, sub, data, EXN_JSON_STRING)))
            return st;
        st = exn_base64_decode(data->str, data->len, &out->bytes, &out->len);
        if (st == EXN_ERR_MANIFEST)
            return field_error(c, sub, "not valid base64");
        if (st)
            return st;
    } else if (path) {
        out->source = EXN_WASM_PATH;
        if ((st = check_fields(c, field, w, path_fields)))
            return st;
        exn_fmt(sub, sizeof sub, "%s.path", field);
        if ((st = dup_string(c, sub, path, &out->where)))
            return st;
    } else {
        out->source = EXN_WASM_URL;
        if ((st = check_fields(c, field, w, url_fields)))
            return st;
        exn_fmt(sub, sizeof sub, "%s.url", field);
        if ((st = dup_string(c, sub, url, &out->where)))
            return st;
        const exn_json_t *method = exn_json_get(w, "method"), *headers = exn_json_get(w, "headers");
        exn_fmt(sub, sizeof sub, "%s.method", field);
        if (method && method->kind != EXN_JSON_NULL &&
            (st = dup_string(c, sub, method, &out->method)))
            return st;
        exn_fmt(sub, sizeof sub, "%s.headers", field);
        if (headers && (st = read_string_map(c, sub, headers, &out->headers)))
            return st;
    }

    const exn_json_t *name = exn_json_get(w, "name"), *hash = exn_json_get(w, "hash");
    exn_fmt(sub, sizeof sub, "%s.name", field);
    if (name && name->kind != EXN_JSON_NULL && (st = dup_string(c, sub, name, &out->name)))
        return st;
    exn_fmt(sub, sizeof sub, "%s.hash", field);
    if (hash && hash->kind != EXN_JSON_NULL) {
        if ((st = dup_string(c, sub, hash, &out->hash)))
            return st;
        bool hex = strlen(out->hash) == 64;
        for (const char *p = out->hash; hex && *p; p++)
            hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
        if (!hex)
            return field_error(c, sub, "expected 64 lowercase hex digits (a sha256), got \"%.80s\"",
                               out->hash);
    }
    return EXN_OK;
}

static exn_status_t read_memory(ctx_t *c, const exn_json_t *mem, exn_manifest_t *m)
{
    static const char *const fields[] = {"max_pages", "max_http_response_bytes", "max_var_bytes",
                                         NULL};
    exn_status_t st = expect(c, "memory", mem, EXN_JSON_OBJECT);
    if (st || (st = check_fields(c, "memory", mem, fields)))
        return st;
    const exn_json_t *v;
    uint64_t u = 0;
    if ((v = exn_json_get(mem, "max_pages")) && v->kind != EXN_JSON_NULL) {
        if ((st = get_uint(c, "memory.max_pages", v, 65536, &u)))
            return st;
        m->has_max_pages = true;
        m->max_pages = (uint32_t)u;
    }
    if ((v = exn_json_get(mem, "max_http_response_bytes")) && v->kind != EXN_JSON_NULL &&
        (st = get_uint(c, "memory.max_http_response_bytes", v, UINT64_MAX,
                       &m->max_http_response_bytes)))
        return st;
    if ((v = exn_json_get(mem, "max_var_bytes")) && v->kind != EXN_JSON_NULL &&
        (st = get_uint(c, "memory.max_var_bytes", v, UINT64_MAX, &m->max_var_bytes)))
        return st;
    return EXN_OK;
}

/* A host name pattern: letters, digits, '.', '-', '_', and the globs '*' and '?'; an IPv6
 * address may appear without brackets.  Ports, schemes and paths are not part of a host, and
 * anything else could never match - better told at load than silently denied later. */
static exn_status_t check_host_pattern(ctx_t *c, const char *field, const char *pat)
{
    size_t colons = 0;
    if (!pat[0])
        return field_error(c, field, "empty host pattern");
    for (const char *p = pat; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' || ch == '*' ||
                  ch == '?';
        colons += ch == ':';
        if (!ok && ch != ':')
            return field_error(c, field,
                               "\"%.80s\" is not a host name pattern (only letters, digits, "
                               "'.', '-', '_' and the globs '*' and '?'; no scheme, port or path)",
                               pat);
    }
    if (colons == 1)
        return field_error(c, field,
                           "\"%.80s\": a port is not part of a host name pattern (allowed "
                           "hosts match the host name only)",
                           pat);
    return EXN_OK;
}

static exn_status_t read_hosts(ctx_t *c, const exn_json_t *hosts, exn_manifest_t *m)
{
    if (hosts->kind == EXN_JSON_NULL)
        return EXN_OK;
    exn_status_t st = expect(c, "allowed_hosts", hosts, EXN_JSON_ARRAY);
    if (st)
        return st;
    m->hosts_given = true;
    m->allowed_hosts = exn_calloc(hosts->len, sizeof(char *));
    if (!m->allowed_hosts)
        return EXN_ERR_NOMEM;
    for (size_t i = 0; i < hosts->len; i++) {
        char field[48];
        exn_fmt(field, sizeof field, "allowed_hosts[%zu]", i);
        if ((st = dup_string(c, field, &hosts->items[i], &m->allowed_hosts[i])))
            return st;
        m->n_allowed_hosts++;
        if ((st = check_host_pattern(c, field, m->allowed_hosts[i])))
            return st;
    }
    return EXN_OK;
}

static exn_status_t read_paths(ctx_t *c, const exn_json_t *paths, exn_manifest_t *m)
{
    if (paths->kind == EXN_JSON_NULL)
        return EXN_OK;
    exn_status_t st = expect(c, "allowed_paths", paths, EXN_JSON_OBJECT);
    if (st)
        return st;
    m->allowed_paths = exn_calloc(paths->len, sizeof *m->allowed_paths);
    if (!m->allowed_paths)
        return EXN_ERR_NOMEM;
    for (size_t i = 0; i < paths->len; i++) {
        const exn_json_member_t *e = &paths->members[i];
        char field[96];
        exn_fmt(field, sizeof field, "allowed_paths[\"%.*s\"]",
                (int)(e->key_len > 48 ? 48 : e->key_len), e->key);
        if (memchr(e->key, '\0', e->key_len))
            return field_error(c, field, "host path contains a NUL character");
        exn_manifest_path_t *p = &m->allowed_paths[m->n_allowed_paths];
        const char *host = e->key;
        size_t host_len = e->key_len;
        if (host_len >= 3 && memcmp(host, "ro:", 3) == 0) {
            p->readonly = true;
            host += 3;
            host_len -= 3;
        }
        if (!host_len)
            return field_error(c, field, "empty host path");
        if (!(p->host_path = exn_strndup(host, host_len)))
            return EXN_ERR_NOMEM;
        m->n_allowed_paths++;
        if ((st = dup_string(c, field, &e->value, &p->guest_path)))
            return st;
        if (!p->guest_path[0])
            return field_error(c, field, "empty guest path");
    }
    return EXN_OK;
}

static exn_status_t read_manifest(ctx_t *c, const exn_json_t *root, exn_manifest_t *m)
{
    static const char *const fields[] = {"wasm",          "memory",     "config", "allowed_hosts",
                                         "allowed_paths", "timeout_ms", NULL};
    exn_status_t st = expect(c, "manifest", root, EXN_JSON_OBJECT);
    if (st || (st = check_fields(c, "manifest", root, fields)))
        return st;

    const exn_json_t *wasm = exn_json_get(root, "wasm");
    if (!wasm || (wasm->kind == EXN_JSON_ARRAY && wasm->len == 0))
        return field_error(c, "wasm", "no wasm modules given");
    if ((st = expect(c, "wasm", wasm, EXN_JSON_ARRAY)))
        return st;
    m->wasm = exn_calloc(wasm->len, sizeof *m->wasm);
    if (!m->wasm)
        return EXN_ERR_NOMEM;
    for (size_t i = 0; i < wasm->len; i++) {
        m->n_wasm++;
        if ((st = read_wasm(c, i, &wasm->items[i], &m->wasm[i])))
            return st;
    }

    const exn_json_t *v;
    if ((v = exn_json_get(root, "memory")) && v->kind != EXN_JSON_NULL &&
        (st = read_memory(c, v, m)))
        return st;
    if ((v = exn_json_get(root, "config")) && v->kind != EXN_JSON_NULL &&
        (st = read_string_map(c, "config", v, &m->config)))
        return st;
    if ((v = exn_json_get(root, "allowed_hosts")) && (st = read_hosts(c, v, m)))
        return st;
    if ((v = exn_json_get(root, "allowed_paths")) && (st = read_paths(c, v, m)))
        return st;
    if ((v = exn_json_get(root, "timeout_ms")) && v->kind != EXN_JSON_NULL) {
        if ((st = get_uint(c, "timeout_ms", v, UINT64_MAX / 1000000u, &m->timeout_ms)))
            return st;
        m->has_timeout = true;
    }
    return EXN_OK;
}

static bool starts_with(const uint8_t *data, size_t len, const char *prefix, size_t n)
{
    return len >= n && memcmp(data, prefix, n) == 0;
}

static exn_status_t from_input(const uint8_t *data, size_t len, exn_manifest_t *out, char *errbuf,
                               size_t errbuf_len)
{
    ctx_t c = {errbuf, errbuf_len};
    exn_status_t st = EXN_OK;
    exn_json_doc_t *doc = NULL;
    memset(out, 0, sizeof *out);
    exn_strmap_init(&out->config);
    out->max_http_response_bytes = EXN_DEFAULT_MAX_HTTP_RESPONSE_BYTES;
    out->max_var_bytes = EXN_DEFAULT_MAX_VAR_BYTES;

    if (!data && len) {
        exn_fmt(errbuf, errbuf_len, "no plugin data given");
        return EXN_ERR_MISUSE;
    }
    if (starts_with(data, len, "\0asm", 4)) {
        out->wasm = exn_calloc(1, sizeof *out->wasm);
        if (!out->wasm)
            return EXN_ERR_NOMEM;
        out->n_wasm = 1;
        exn_strmap_init(&out->wasm[0].headers);
        out->wasm[0].source = EXN_WASM_DATA;
        out->wasm[0].bytes = exn_malloc(len);
        if (!out->wasm[0].bytes)
            return EXN_ERR_NOMEM;
        memcpy(out->wasm[0].bytes, data, len);
        out->wasm[0].len = len;
        return EXN_OK;
    }
    if (starts_with(data, len, "(module", 7) || starts_with(data, len, ";;", 2) ||
        starts_with(data, len, "(;", 2)) {
        exn_fmt(errbuf, errbuf_len,
                "WebAssembly text (WAT) is not supported: compile it to a .wasm binary first "
                "(for example with wat2wasm)");
        return EXN_ERR_UNSUPPORTED;
    }
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        i++;
    if (i == len || data[i] != '{') {
        exn_fmt(errbuf, errbuf_len,
                "unknown plugin format: expected a wasm binary (starting with \\0asm) or a JSON "
                "manifest (a JSON object)");
        return EXN_ERR_MANIFEST;
    }
    char jsonerr[256];
    st = exn_json_parse((const char *)data, len, &doc, jsonerr, sizeof jsonerr);
    if (st == EXN_ERR_MANIFEST)
        exn_fmt(errbuf, errbuf_len, "invalid manifest: %s", jsonerr);
    if (st == EXN_OK)
        st = read_manifest(&c, exn_json_root(doc), out);
    if (st == EXN_ERR_NOMEM)
        exn_fmt(errbuf, errbuf_len, "out of memory reading the manifest");
    exn_json_doc_free(doc);
    return st;
}

exn_status_t exn_manifest_from_input(const uint8_t *data, size_t len, exn_manifest_t *out,
                                     char *errbuf, size_t errbuf_len)
{
    exn_status_t st = from_input(data, len, out, errbuf, errbuf_len);
    if (st != EXN_OK) {
        if (st == EXN_ERR_NOMEM)
            exn_fmt(errbuf, errbuf_len, "out of memory reading the manifest");
        exn_manifest_free(out); /* on failure nothing is left to free */
    }
    return st;
}

exn_status_t exn_manifest_load(exn_manifest_t *m, exn_manifest_fetch_fn fetch, void *fetch_userdata,
                               char *errbuf, size_t errbuf_len)
{
    for (size_t i = 0; i < m->n_wasm; i++) {
        exn_manifest_wasm_t *w = &m->wasm[i];
        if (w->source == EXN_WASM_PATH && !w->bytes) {
            char why[512];
            exn_status_t st = exn_os_read_file(w->where, &w->bytes, &w->len, why, sizeof why);
            if (st) {
                exn_fmt(errbuf, errbuf_len, "wasm[%zu]: %s", i, why);
                return st;
            }
        } else if (w->source == EXN_WASM_URL && !w->bytes) {
            char why[768];
            exn_status_t st = EXN_ERR_MANIFEST;
            if (fetch)
                st = fetch(fetch_userdata, w->where, w->method, &w->headers, &w->bytes, &w->len,
                           why, sizeof why);
            else
                exn_fmt(why, sizeof why, "url sources cannot be fetched here");
            if (st) {
                exn_fmt(errbuf, errbuf_len, "wasm[%zu]: %s", i, why);
                return st;
            }
        }
        if (w->hash) {
            char actual[65];
            exn_sha256_hex(w->bytes, w->len, actual);
            if (strcmp(actual, w->hash) != 0) {
                exn_fmt(errbuf, errbuf_len,
                        "wasm[%zu]: hash mismatch: the module's sha256 is %s but the manifest "
                        "expects %s",
                        i, actual, w->hash);
                return EXN_ERR_MANIFEST;
            }
        }
    }
    return EXN_OK;
}

void exn_manifest_free(exn_manifest_t *m)
{
    for (size_t i = 0; i < m->n_wasm; i++) {
        exn_manifest_wasm_t *w = &m->wasm[i];
        exn_free(w->name);
        exn_free(w->hash);
        exn_free(w->where);
        exn_free(w->method);
        exn_free(w->bytes);
        exn_strmap_clear(&w->headers);
    }
    exn_free(m->wasm);
    exn_strmap_clear(&m->config);
    for (size_t i = 0; i < m->n_allowed_hosts; i++)
        exn_free(m->allowed_hosts[i]);
    exn_free(m->allowed_hosts);
    for (size_t i = 0; i < m->n_allowed_paths; i++) {
        exn_free(m->allowed_paths[i].host_path);
        exn_free(m->allowed_paths[i].guest_path);
    }
    exn_free(m->allowed_paths);
    memset(m, 0, sizeof *m);
}
