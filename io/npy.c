/* npy.c — NumPy .npy files (see npy.h): header writer (format 1.0, padded to 64 bytes),
 * atomic whole-array writer, reader and the header parser shared with the fuzz target.
 *
 * Owns nothing beyond the buffers it returns (the caller frees *data of bl_npy_read_f32).
 * Threading: no shared state; every function may run on any thread.
 *
 * The parser reads outside data: it accepts format versions 1.x (uint16 header length) and
 * 2.x/3.x (uint32), the dict keys in any order with either quote style, and rejects
 * anything else with BL_ERR_FORMAT, never reading past `len`. The file reader allocates for
 * the data only once the file is known to hold it. Fuzzed by tests/fuzz/fuzz_npy.c.
 */
#include "npy.h"

#include <errno.h>    /* errno after fopen/rename */
#include <stdint.h>   /* SIZE_MAX */
#include <stdlib.h>   /* malloc, free */
#include <string.h>   /* memcmp, strerror, strlen */

#include <unistd.h>   /* close */

#include "../core/infile.h" /* bl_npy_read_f32's input: never blocks, regular files, size known */
#include "outfile.h"        /* bl_npy_write_f32's output: temporary + rename, or a device in place */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c writes host floats as '<f4': add byte swapping for big-endian hosts"
#endif

static const unsigned char k_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* ---- writing ---------------------------------------------------------------------- */

bl_status bl_npy_format_header(unsigned char *buf, size_t cap, const size_t *shape, int ndim,
                               size_t *len) {
    BL_RETURN_IF(buf == NULL || len == NULL || ndim < 0 || ndim > BL_NPY_MAX_DIMS ||
                     (ndim > 0 && !shape),
                 BL_ERR_INVALID_ARG, "npy header: bad arguments (ndim %d, max %d)", ndim,
                 BL_NPY_MAX_DIMS);
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%zu%s", shape[i],
                      (ndim == 1 || i + 1 < ndim) ? ", " : "");
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    /* 10 bytes of preamble + dict + spaces + '\n' must be a multiple of 64 (NEP 1). */
    size_t total = 10 + (size_t)n + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t hlen = padded - 10;
    BL_RETURN_IF(padded > cap, BL_ERR_INVALID_ARG, "npy header: %zu bytes do not fit in %zu",
                 padded, cap);
    memcpy(buf, k_magic, 6);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', padded - total);
    buf[padded - 1] = '\n';
    *len = padded;
    return BL_OK;
}

bl_status bl_npy_write_header(FILE *f, const size_t *shape, int ndim) {
    BL_RETURN_IF(f == NULL, BL_ERR_INVALID_ARG, "npy header: no file");
    unsigned char buf[BL_NPY_HEADER_MAX];
    size_t len = 0;
    BL_TRY(bl_npy_format_header(buf, sizeof buf, shape, ndim, &len));
    if (fwrite(buf, 1, len, f) != len)
        return BL_ERROR(errno == ENOSPC ? BL_ERR_NO_SPACE : BL_ERR_IO,
                        "npy header: write failed: %s", strerror(errno));
    return BL_OK;
}

bl_status bl_npy_write_f32(const char *path, const float *data, const size_t *shape, int ndim) {
    BL_RETURN_IF(!path, BL_ERR_INVALID_ARG, "npy write: no path");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        BL_RETURN_IF(shape[i] && count > SIZE_MAX / 4 / shape[i], BL_ERR_RANGE,
                     "npy write %s: shape too large", path);
        count *= shape[i];
    }
    BL_RETURN_IF(count && !data, BL_ERR_INVALID_ARG, "npy write %s: no data", path);
    bl_outfile *of = NULL;
    BL_TRY(bl_outfile_open(path, 0, &of));
    unsigned char head[BL_NPY_HEADER_MAX];
    size_t len = 0;
    bl_status s = bl_npy_format_header(head, sizeof head, shape, ndim, &len);
    if (s == BL_OK) s = bl_outfile_write(of, head, len);
    if (s == BL_OK && count) s = bl_outfile_write(of, data, count * sizeof(float));
    if (s != BL_OK) {
        bl_error_prefix("npy write %s: ", path);
        bl_outfile_discard(of);
        return s;
    }
    return bl_outfile_commit(of);
}

/* ---- parsing ---------------------------------------------------------------------- */

typedef struct {
    const char *p, *end;
} npy_cursor;

static void skip_ws(npy_cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int accept(npy_cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string literal without escapes; the result points into the buffer. */
static int parse_string(npy_cursor *c, const char **s, size_t *n) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char q = *c->p++;
    const char *start = c->p;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\n') return 0;
        c->p++;
    }
    if (c->p >= c->end) return 0;
    *s = start;
    *n = (size_t)(c->p - start);
    c->p++;
    return 1;
}

static int match_word(npy_cursor *c, const char *w) {
    skip_ws(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return 0;
    c->p += n;
    return 1;
}

static int parse_shape(npy_cursor *c, size_t *shape, int *ndim) {
    if (!accept(c, '(')) return 0;
    int nd = 0;
    for (;;) {
        skip_ws(c);
        if (accept(c, ')')) break;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') return 0;
        size_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            unsigned d = (unsigned)(*c->p - '0');
            if (v > (SIZE_MAX - d) / 10) return 0;
            v = v * 10 + d;
            c->p++;
        }
        /* Python writes 3L on some old files; accept the suffix. */
        if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) c->p++;
        if (nd >= BL_NPY_MAX_DIMS) return 0;
        shape[nd++] = v;
        if (accept(c, ',')) continue;
        if (accept(c, ')')) break;
        return 0;
    }
    *ndim = nd;
    return 1;
}

bl_status bl_npy_parse_header(const unsigned char *buf, size_t len, size_t *shape, int *ndim,
                              size_t *header_len) {
    BL_RETURN_IF(!buf || !shape || !ndim || !header_len, BL_ERR_INVALID_ARG,
                 "npy header: NULL argument");
    BL_RETURN_IF(len < 10 || memcmp(buf, k_magic, 6) != 0, BL_ERR_FORMAT,
                 "not a .npy file (no \\x93NUMPY magic)");
    unsigned major = buf[6];
    size_t hlen, pre;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        pre = 10;
    } else if (major == 2 || major == 3) {
        BL_RETURN_IF(len < 12, BL_ERR_FORMAT, ".npy header truncated");
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        pre = 12;
    } else {
        return BL_ERROR(BL_ERR_FORMAT, ".npy format version %u.%u is not supported (1.x-3.x)",
                        major, (unsigned)buf[7]);
    }
    BL_RETURN_IF(hlen > len - pre, BL_ERR_FORMAT,
                 ".npy header truncated: it says %zu bytes, %zu are there", hlen, len - pre);

    npy_cursor c = {(const char *)buf + pre, (const char *)buf + pre + hlen};
    BL_RETURN_IF(!accept(&c, '{'), BL_ERR_FORMAT, ".npy header: expected a '{' dict");
    int have_descr = 0, have_order = 0, have_shape = 0;
    size_t tmp_shape[BL_NPY_MAX_DIMS];
    int nd = 0;
    for (;;) {
        if (accept(&c, '}')) break;
        const char *key;
        size_t klen;
        BL_RETURN_IF(!parse_string(&c, &key, &klen) || !accept(&c, ':'), BL_ERR_FORMAT,
                     ".npy header: malformed dict");
        if (klen == 5 && !memcmp(key, "descr", 5)) {
            const char *v;
            size_t vlen;
            BL_RETURN_IF(!parse_string(&c, &v, &vlen), BL_ERR_FORMAT, ".npy header: bad descr");
            BL_RETURN_IF(!(vlen == 3 && (!memcmp(v, "<f4", 3) || !memcmp(v, "=f4", 3))),
                         BL_ERR_FORMAT, ".npy dtype '%.*s' is not supported: expected float32 "
                         "('<f4'); convert with arr.astype('<f4')", (int)(vlen < 32 ? vlen : 32), v);
            have_descr = 1;
        } else if (klen == 13 && !memcmp(key, "fortran_order", 13)) {
            if (match_word(&c, "False")) {
                have_order = 1;
            } else {
                BL_RETURN_IF(match_word(&c, "True"), BL_ERR_FORMAT,
                             ".npy in Fortran order is not supported: save a C-order array");
                return BL_ERROR(BL_ERR_FORMAT, ".npy header: bad fortran_order");
            }
        } else if (klen == 5 && !memcmp(key, "shape", 5)) {
            BL_RETURN_IF(!parse_shape(&c, tmp_shape, &nd), BL_ERR_FORMAT,
                         ".npy header: bad shape (at most %d dims of non-negative integers)",
                         BL_NPY_MAX_DIMS);
            have_shape = 1;
        } else {
            return BL_ERROR(BL_ERR_FORMAT, ".npy header: unknown key '%.*s'",
                            (int)(klen < 32 ? klen : 32), key);
        }
        if (accept(&c, ',')) continue;
        BL_RETURN_IF(!accept(&c, '}'), BL_ERR_FORMAT, ".npy header: expected ',' or '}'");
        break;
    }
    BL_RETURN_IF(!have_descr || !have_order || !have_shape, BL_ERR_FORMAT,
                 ".npy header: missing %s", !have_descr ? "descr" : !have_order ? "fortran_order"
                                                                                 : "shape");
    size_t count = 1;
    for (int i = 0; i < nd; i++) {
        BL_RETURN_IF(tmp_shape[i] && count > SIZE_MAX / 4 / tmp_shape[i], BL_ERR_FORMAT,
                     ".npy shape too large");
        count *= tmp_shape[i];
    }
    for (int i = 0; i < nd; i++) shape[i] = tmp_shape[i];
    *ndim = nd;
    *header_len = pre + hlen;
    return BL_OK;
}

bl_status bl_npy_read_f32(const char *path, float **data, size_t *shape, int *ndim) {
    BL_RETURN_IF(!path || !data || !shape || !ndim, BL_ERR_INVALID_ARG, "npy read: NULL argument");
    *data = NULL;
    /* opened as every outside file is: never blocks on a FIFO, regular files only, and the
     * size known before anything is allocated */
    int fd = -1;
    int64_t fsize = 0;
    BL_TRY(bl_infile_open(path, ".npy file", &fd, &fsize));
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return BL_ERROR(BL_ERR_IO, "cannot open %s: %s", path, strerror(e));
    }
    /* The header is at most 10 + 65535 bytes in v1; read up to 1 MiB for v2/v3 headers. */
    unsigned char *head = malloc(12);
    bl_status s = BL_OK;
    if (!head) {
        fclose(f);
        return BL_ERROR(BL_ERR_NOMEM, "npy read %s: out of memory", path);
    }
    size_t got = fread(head, 1, 12, f);
    size_t need = 0;
    if (got >= 10 && !memcmp(head, k_magic, 6)) {
        if (head[6] == 1)
            need = 10 + ((size_t)head[8] | (size_t)head[9] << 8);
        else if (got == 12)
            need = 12 + ((size_t)head[8] | (size_t)head[9] << 8 | (size_t)head[10] << 16 |
                         (size_t)head[11] << 24);
    }
    if (need > (1u << 20)) {
        s = BL_ERROR(BL_ERR_FORMAT, "%s: .npy header of %zu bytes is implausibly large", path, need);
    } else if (need > got) {
        unsigned char *h2 = realloc(head, need);
        if (!h2) {
            s = BL_ERROR(BL_ERR_NOMEM, "npy read %s: out of memory", path);
        } else {
            head = h2;
            got += fread(head + got, 1, need - got, f);
        }
    }
    size_t hlen = 0;
    if (s == BL_OK) {
        s = bl_npy_parse_header(head, got, shape, ndim, &hlen);
        if (s != BL_OK) bl_error_prefix("%s: ", path);
    }
    free(head);
    size_t count = 1;
    if (s == BL_OK) {
        for (int i = 0; i < *ndim; i++) count *= shape[i]; /* <= SIZE_MAX / 4: parse checked */
        /* The shape is outside data: a 100-byte file may claim 2^40 x 6144 floats. Check it
         * against the file's real size before allocating anything for it. */
        uint64_t after = (uint64_t)fsize > hlen ? (uint64_t)fsize - hlen : 0;
        if ((uint64_t)count > after / sizeof(float))
            s = BL_ERROR(BL_ERR_FORMAT, "%s: .npy data truncated: the shape in its header needs %zu "
                         "float32 values, the file holds %llu bytes after the header", path, count,
                         (unsigned long long)after);
        else if (fseek(f, (long)hlen, SEEK_SET) != 0)
            s = BL_ERROR(BL_ERR_IO, "%s: seek failed", path);
    }
    if (s == BL_OK) {
        *data = malloc(count ? count * sizeof(float) : 1);
        if (!*data) {
            s = BL_ERROR(BL_ERR_NOMEM, "npy read %s: out of memory for %zu floats", path, count);
        } else if (fread(*data, sizeof(float), count, f) != count) {
            s = BL_ERROR(BL_ERR_FORMAT, "%s: .npy data truncated (expected %zu float32 values)",
                         path, count);
        }
    }
    fclose(f);
    if (s != BL_OK) {
        free(*data);
        *data = NULL;
    }
    return s;
}
