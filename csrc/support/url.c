/* url.c: splitting http(s) URLs and resolving redirect targets (RFC 3986 sections 3 and 5.2).
 * May call: the allocator (internal.h). */
#include "url.h"

#include <stdio.h>

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Length of the scheme at the start of s ("http" in "http://..."), 0 if there is none. */
static size_t scheme_len(const char *s)
{
    if (!is_alpha(s[0]))
        return 0;
    size_t i = 1;
    while (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
           s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

bool exn_url_parse(const char *url, exn_url_t *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    out->port = -1;
    size_t n = scheme_len(url);
    if (!n || n >= sizeof out->scheme) {
        exn_fmt(why, why_len, "not an absolute URL");
        return false;
    }
    for (size_t i = 0; i < n; i++)
        out->scheme[i] = lower(url[i]);
    if (strcmp(out->scheme, "http") != 0 && strcmp(out->scheme, "https") != 0) {
        exn_fmt(why, why_len, "unsupported scheme \"%s\" (only http and https)", out->scheme);
        return false;
    }
    const char *p = url + n + 1;
    if (p[0] != '/' || p[1] != '/') {
        exn_fmt(why, why_len, "no host");
        return false;
    }
    p += 2;
    const char *end = p + strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < end; q++) {
        if (*q == '@')
            at = q;
    }
    if (at)
        p = at + 1; /* skip user information */
    const char *host_end;
    if (*p == '[') { /* IPv6 literal */
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close) {
            exn_fmt(why, why_len, "unterminated IPv6 address");
            return false;
        }
        host_end = close + 1; /* a port may follow */
        p++;
        if ((size_t)(close - p) >= sizeof out->host) {
            exn_fmt(why, why_len, "host too long");
            return false;
        }
        for (const char *q = p; q < close; q++)
            out->host[q - p] = lower(*q);
    } else {
        host_end = p;
        while (host_end < end && *host_end != ':')
            host_end++;
        if ((size_t)(host_end - p) >= sizeof out->host) {
            exn_fmt(why, why_len, "host too long");
            return false;
        }
        for (const char *q = p; q < host_end; q++)
            out->host[q - p] = lower(*q);
    }
    if (!out->host[0]) {
        exn_fmt(why, why_len, "empty host");
        return false;
    }
    for (const char *c = out->host; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == '%' || *c == '\\') {
            exn_fmt(why, why_len, "invalid character in host");
            return false;
        }
    }
    if (host_end < end) {
        if (*host_end != ':') {
            exn_fmt(why, why_len, "invalid authority");
            return false;
        }
        long port = 0;
        const char *q = host_end + 1;
        if (q == end) {
            exn_fmt(why, why_len, "empty port");
            return false;
        }
        for (; q < end; q++) {
            if (*q < '0' || *q > '9' || port > 65535) {
                exn_fmt(why, why_len, "invalid port");
                return false;
            }
            port = port * 10 + (*q - '0');
        }
        if (port > 65535) {
            exn_fmt(why, why_len, "invalid port");
            return false;
        }
        out->port = (int)port;
    }
    for (const char *c = url; *c; c++) {
        if ((unsigned char)*c <= ' ' || (unsigned char)*c == 0x7F) {
            exn_fmt(why, why_len, "URL contains whitespace or control characters");
            return false;
        }
    }
    return true;
}

/* Remove "." and ".." segments from a path in place (RFC 3986 5.2.4). */
static void remove_dot_segments(char *path)
{
    char *out = path, *in = path;
    while (*in) {
        if (strncmp(in, "../", 3) == 0) {
            in += 3;
        } else if (strncmp(in, "./", 2) == 0) {
            in += 2;
        } else if (strncmp(in, "/./", 3) == 0) {
            in += 2;
        } else if (strcmp(in, "/.") == 0) {
            in[1] = '\0';
        } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            in += 3;
            if (*in == '\0') {
                in--;
                *in = '/';
            }
            while (out > path && *--out != '/')
                ;
        } else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0) {
            in += strlen(in);
        } else {
            do
                *out++ = *in++;
            while (*in && *in != '/');
        }
    }
    *out = '\0';
}

char *exn_url_join(const char *base, const char *ref)
{
    if (scheme_len(ref)) /* absolute */
        return exn_strndup(ref, strlen(ref));
    size_t bs = scheme_len(base);
    if (!bs || base[bs + 1] != '/' || base[bs + 2] != '/')
        return NULL;
    const char *authority_end = base + bs + 3 + strcspn(base + bs + 3, "/?#");
    size_t need = strlen(base) + strlen(ref) + 4;
    char *out = exn_malloc(need);
    if (!out)
        return NULL;
    if (ref[0] == '/' && ref[1] == '/') { /* scheme-relative */
        exn_fmt(out, need, "%.*s:%s", (int)bs, base, ref);
        return out;
    }
    size_t prefix = (size_t)(authority_end - base);
    if (ref[0] == '/') {
        exn_fmt(out, need, "%.*s%s", (int)prefix, base, ref);
    } else if (ref[0] == '?' || ref[0] == '\0') {
        size_t path_len = strcspn(authority_end, "?#");
        exn_fmt(out, need, "%.*s%s", (int)(prefix + path_len), base, ref);
    } else if (ref[0] == '#') {
        size_t upto = strcspn(authority_end, "#");
        exn_fmt(out, need, "%.*s%s", (int)(prefix + upto), base, ref);
    } else {
        /* relative path: replace everything after the base path's last '/' */
        size_t path_len = strcspn(authority_end, "?#");
        size_t dir = 0;
        for (size_t i = 0; i < path_len; i++) {
            if (authority_end[i] == '/')
                dir = i + 1;
        }
        exn_fmt(out, need, "%.*s%s%.*s%s", (int)prefix, base, dir ? "" : "/", (int)dir,
                authority_end, ref);
    }
    /* dot segments are removed from the path only, not from the query or fragment */
    char *path = out + prefix;
    size_t path_len = strcspn(path, "?#");
    char *rest = exn_strndup(path + path_len, strlen(path + path_len));
    if (!rest) {
        exn_free(out);
        return NULL;
    }
    path[path_len] = '\0';
    remove_dot_segments(path);
    size_t n = strlen(out);
    exn_fmt(out + n, need - n, "%s", rest);
    exn_free(rest);
    return out;
}
