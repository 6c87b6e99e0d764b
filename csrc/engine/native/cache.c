/* engine/native/cache.c: the on-disk cache of compiled modules (see cache.h).
 * May call: cache.h, sys.h. */
#include "engine/native/cache.h"

#include <stdio.h>
#include <stdlib.h>

#include "engine/native/sys.h"

#define SUM_MAGIC "extism_native compiled module v1"
#define IMAGE_MAGIC "extism_native memory image v1"
#define SIDE_MAGIC "extism_native side file v1\n" /* then 8 bytes of size, 8 of checksum */
#define SIDE_HEADER (sizeof SIDE_MAGIC - 1 + 16)

/* Four independent multiply-rotate lanes over 8-byte words (several GB/s), then the length
 * and the tail: any changed, missing or extra byte changes the result but by astronomically
 * unlikely accident.  Not a cryptographic hash, and not meant as one (cache.h). */
uint64_t exn_ncache_checksum(const uint8_t *data, size_t len)
{
    const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;
    uint64_t v[4] = {P1 + P2, P2, 0, (uint64_t)0 - P1};
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, data + i + 8 * k, 8);
            v[k] += w * P2;
            v[k] = (v[k] << 31) | (v[k] >> 33);
            v[k] *= P1;
        }
    }
    uint64_t h = (uint64_t)len * P1;
    for (int k = 0; k < 4; k++) {
        h ^= v[k] * P2;
        h = ((h << 27) | (h >> 37)) * P1;
    }
    for (; i < len; i++) {
        h ^= (uint64_t)data[i] * P1;
        h = ((h << 11) | (h >> 53)) * P2;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    return h;
}

int exn_ncache_dir(char *out, size_t out_len, char *why, size_t why_len)
{
    const char *env = exn_nsys_getenv("EXTISM_NATIVE_CACHE_DIR");
    if (env && *env)
        exn_fmt(out, out_len, "%s", env);
    else if (exn_nsys_default_cache_dir(out, out_len) != 0) {
        exn_fmt(why, why_len, "no cache directory (HOME unset)");
        return -1;
    }
    char reason[200];
    if (exn_nsys_private_dir(out, reason, sizeof reason) != 0) {
        exn_fmt(why, why_len, "cache directory %s: %s", out, reason);
        return -1;
    }
    return 0;
}

void exn_ncache_so_path(const char *dir, const char *key, char *out, size_t out_len)
{
    exn_fmt(out, out_len, "%s/%s.so", dir, key);
}

/* Parse a .sum: magic line, "size N", "sum HEX". */
static bool parse_sum(const char *magic_text, const uint8_t *data, size_t len, uint64_t *size,
                      uint64_t *sum)
{
    char text[512];
    if (len >= sizeof text)
        return false;
    memcpy(text, data, len);
    text[len] = 0;
    size_t magic = strlen(magic_text);
    if (strncmp(text, magic_text, magic) != 0 || text[magic] != '\n')
        return false;
    unsigned long long sz, sm;
    if (sscanf(text + magic + 1, "size %llu\nsum %llx\n", &sz, &sm) != 2)
        return false;
    *size = sz;
    *sum = sm;
    return true;
}

void *exn_ncache_load(const char *dir, const char *key, char *why, size_t why_len)
{
    char path[EXN_NCACHE_PATH], reason[200];
    uint8_t *sum_data = NULL;
    size_t sum_len = 0;
    void *lib = NULL;
    uint64_t size, sum, file_size = 0;
    intptr_t fd = -1;
    exn_fmt(path, sizeof path, "%s/%s.sum", dir, key);
    if (exn_nsys_read_private(path, &sum_data, &sum_len, reason, sizeof reason) != 0) {
        exn_fmt(why, why_len, "%s", strcmp(reason, "missing") == 0 ? "missing" : reason);
        goto done;
    }
    if (!parse_sum(SUM_MAGIC, sum_data, sum_len, &size, &sum)) {
        exn_fmt(why, why_len, "%s.sum: not a checksum record of this version", key);
        goto done;
    }
    exn_ncache_so_path(dir, key, path, sizeof path);
    if (exn_nsys_open_private(path, &fd, &file_size, reason, sizeof reason) != 0) {
        exn_fmt(why, why_len, "%s.so: %s", key, reason);
        goto done;
    }
    if (file_size != size || size > SIZE_MAX) {
        exn_fmt(why, why_len, "%s.so: %llu bytes, %llu recorded (truncated?)", key,
                (unsigned long long)file_size, (unsigned long long)size);
        goto done;
    }
    /* checked through a read-only mapping of the page cache: no copy, no fresh heap pages */
    const uint8_t *map = exn_nsys_map_readonly(fd, (size_t)size);
    bool same = map && exn_ncache_checksum(map, (size_t)size) == sum;
    if (map)
        exn_nsys_unmap(map, (size_t)size);
    if (!same) {
        exn_fmt(why, why_len, "%s.so: %s", key,
                map ? "checksum mismatch (corrupted)" : "cannot map it to check it");
        goto done;
    }
    lib = exn_nsys_dlopen(path, reason, sizeof reason);
    if (!lib)
        exn_fmt(why, why_len, "%s.so: %s", key, reason);
done:
    exn_nsys_close(fd);
    exn_free(sum_data);
    return lib;
}

int exn_ncache_store(const char *dir, const char *key, const char *so_path, const char *note)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char reason[200], sum_tmp[EXN_NCACHE_PATH], dst[EXN_NCACHE_PATH], text[400];
    if (exn_nsys_read_private(so_path, &data, &len, reason, sizeof reason) != 0)
        return -1;
    uint64_t sum = exn_ncache_checksum(data, len);
    exn_free(data);
    /* the .sum next to the library in its temporary directory, then both renamed */
    exn_fmt(sum_tmp, sizeof sum_tmp, "%s.sum", so_path);
    exn_fmt(text, sizeof text, SUM_MAGIC "\nsize %zu\nsum %016llx\ncompiler %s\n", len,
            (unsigned long long)sum, note ? note : "?");
    if (exn_nsys_write_file(sum_tmp, text, strlen(text)) != 0)
        return -1;
    exn_ncache_so_path(dir, key, dst, sizeof dst);
    if (exn_nsys_rename(so_path, dst) != 0) {
        exn_nsys_remove(sum_tmp);
        return -1;
    }
    exn_fmt(dst, sizeof dst, "%s/%s.sum", dir, key);
    if (exn_nsys_rename(sum_tmp, dst) != 0) {
        exn_nsys_remove(sum_tmp);
        return -1;
    }
    return 0;
}

int exn_ncache_image_load(const char *dir, const char *key, size_t len, intptr_t *out_fd)
{
    char path[EXN_NCACHE_PATH], reason[200];
    uint8_t *sum_data = NULL;
    size_t sum_len = 0;
    uint64_t size, sum, file_size;
    intptr_t fd = -1;
    exn_fmt(path, sizeof path, "%s/%s.isum", dir, key);
    if (exn_nsys_read_private(path, &sum_data, &sum_len, reason, sizeof reason) != 0)
        return -1;
    bool ok = parse_sum(IMAGE_MAGIC, sum_data, sum_len, &size, &sum) && size == len;
    exn_free(sum_data);
    exn_fmt(path, sizeof path, "%s/%s.img", dir, key);
    if (!ok || exn_nsys_open_private(path, &fd, &file_size, reason, sizeof reason) != 0)
        return -1;
    const uint8_t *map = file_size == len ? exn_nsys_map_readonly(fd, len) : NULL;
    ok = map && exn_ncache_checksum(map, len) == sum;
    if (map)
        exn_nsys_unmap(map, len);
    if (!ok) {
        exn_nsys_close(fd);
        return -1;
    }
    *out_fd = fd;
    return 0;
}

int exn_ncache_image_store(const char *dir, const char *key, const uint8_t *img, size_t len)
{
    char tmp[EXN_NCACHE_PATH], img_tmp[EXN_NCACHE_PATH], sum_tmp[EXN_NCACHE_PATH];
    char dst[EXN_NCACHE_PATH], text[200];
    if (exn_nsys_temp_dir(dir, tmp, sizeof tmp) != 0)
        return -1;
    exn_fmt(img_tmp, sizeof img_tmp, "%s/img", tmp);
    exn_fmt(sum_tmp, sizeof sum_tmp, "%s/isum", tmp);
    exn_fmt(text, sizeof text, IMAGE_MAGIC "\nsize %zu\nsum %016llx\n", len,
            (unsigned long long)exn_ncache_checksum(img, len));
    int rc = -1;
    if (exn_nsys_write_file(img_tmp, img, len) == 0 &&
        exn_nsys_write_file(sum_tmp, text, strlen(text)) == 0) {
        exn_fmt(dst, sizeof dst, "%s/%s.img", dir, key);
        if (exn_nsys_rename(img_tmp, dst) == 0) {
            exn_fmt(dst, sizeof dst, "%s/%s.isum", dir, key);
            rc = exn_nsys_rename(sum_tmp, dst);
        }
    }
    exn_nsys_remove(img_tmp);
    exn_nsys_remove(sum_tmp);
    exn_nsys_remove(tmp);
    return rc;
}

int exn_ncache_side_store(const char *dir, const char *key, const char *ext, const void *data,
                          size_t len)
{
    char tmp[EXN_NCACHE_PATH], file_tmp[EXN_NCACHE_PATH], dst[EXN_NCACHE_PATH];
    if (len > SIZE_MAX - SIDE_HEADER || exn_nsys_temp_dir(dir, tmp, sizeof tmp) != 0)
        return -1;
    uint8_t *buf = exn_malloc(SIDE_HEADER + len);
    if (!buf) {
        exn_nsys_remove(tmp);
        return -1;
    }
    uint64_t size = len, sum = exn_ncache_checksum(data, len);
    memcpy(buf, SIDE_MAGIC, sizeof SIDE_MAGIC - 1);
    memcpy(buf + sizeof SIDE_MAGIC - 1, &size, 8);
    memcpy(buf + sizeof SIDE_MAGIC - 1 + 8, &sum, 8);
    if (len)
        memcpy(buf + SIDE_HEADER, data, len);
    exn_fmt(file_tmp, sizeof file_tmp, "%s/side", tmp);
    exn_fmt(dst, sizeof dst, "%s/%s.%s", dir, key, ext);
    int rc = -1;
    if (exn_nsys_write_file(file_tmp, buf, SIDE_HEADER + len) == 0)
        rc = exn_nsys_rename(file_tmp, dst);
    exn_free(buf);
    exn_nsys_remove(file_tmp);
    exn_nsys_remove(tmp);
    return rc;
}

int exn_ncache_side_load(const char *dir, const char *key, const char *ext, uint8_t **out,
                         size_t *out_len)
{
    char path[EXN_NCACHE_PATH], reason[200];
    uint8_t *data = NULL;
    size_t len = 0;
    *out = NULL;
    *out_len = 0;
    exn_fmt(path, sizeof path, "%s/%s.%s", dir, key, ext);
    if (exn_nsys_read_private(path, &data, &len, reason, sizeof reason) != 0)
        return -1;
    uint64_t size, sum;
    if (len < SIDE_HEADER || memcmp(data, SIDE_MAGIC, sizeof SIDE_MAGIC - 1) != 0) {
        exn_free(data);
        return -1;
    }
    memcpy(&size, data + sizeof SIDE_MAGIC - 1, 8);
    memcpy(&sum, data + sizeof SIDE_MAGIC - 1 + 8, 8);
    if (size != len - SIDE_HEADER || exn_ncache_checksum(data + SIDE_HEADER, (size_t)size) != sum) {
        exn_free(data);
        return -1;
    }
    memmove(data, data + SIDE_HEADER, (size_t)size);
    *out = data;
    *out_len = (size_t)size;
    return 0;
}
