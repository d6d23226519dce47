/* test_npy.c — io/npy.c: round trip, header layout (NEP 1: version 1.0, 64-byte aligned),
 * files NumPy writes (several header spellings), rejection of malformed headers, and shapes
 * the file cannot hold refused before allocating.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* truncate */

#include "io/npy.h" /* what is tested */
#include "testutil.h"

static int parse(const char *dict, size_t *shape, int *nd) {
    unsigned char buf[512];
    size_t n = strlen(dict);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(n & 0xff);
    buf[9] = (unsigned char)(n >> 8);
    memcpy(buf + 10, dict, n);
    size_t hl = 0;
    return bl_npy_parse_header(buf, 10 + n, shape, nd, &hl) == BL_OK ? (int)hl : -1;
}

static void test_roundtrip(const char *dir) { /* dir is shorter than 1024 bytes */
    char path[1200];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    const size_t shapes[][3] = {{2, 3, 5}, {1, 64, 0}, {7, 1, 1}};
    for (int k = 0; k < 3; k++) {
        size_t count = shapes[k][0] * shapes[k][1] * shapes[k][2];
        float *x = malloc(count * sizeof(float) + 4);
        for (size_t i = 0; i < count; i++) x[i] = (float)i * 0.25f - 3.0f;
        BL_CHECK(bl_npy_write_f32(path, x, shapes[k], 3) == BL_OK, "write: %s", bl_error_message());
        float *y = NULL;
        size_t shape[BL_NPY_MAX_DIMS];
        int nd = 0;
        BL_CHECK(bl_npy_read_f32(path, &y, shape, &nd) == BL_OK, "read: %s", bl_error_message());
        BL_CHECK(nd == 3 && shape[0] == shapes[k][0] && shape[1] == shapes[k][1] &&
                     shape[2] == shapes[k][2], "shape differs after round trip");
        BL_CHECK(y && (count == 0 || !memcmp(x, y, count * sizeof(float))), "data differs");
        /* Header: magic, version 1.0, total header a multiple of 64, ends in '\n'. */
        FILE *f = fopen(path, "rb");
        unsigned char h[256];
        size_t got = f ? fread(h, 1, sizeof h, f) : 0;
        if (f) fclose(f);
        size_t hl = got >= 10 ? 10 + (h[8] | (size_t)h[9] << 8) : 0;
        BL_CHECK(got >= 64 && !memcmp(h, "\x93NUMPY\x01\x00", 8), "bad magic/version");
        BL_CHECK(hl % 64 == 0 && hl <= got && h[hl - 1] == '\n', "header length %zu", hl);
        free(x);
        free(y);
    }
    /* 1-D and 0-D shapes use Python's tuple spelling: (5,) and (). */
    size_t s1 = 5, shape[BL_NPY_MAX_DIMS];
    float v[5] = {1, 2, 3, 4, 5}, *y = NULL;
    int nd = -1;
    BL_CHECK(bl_npy_write_f32(path, v, &s1, 1) == BL_OK, "write 1-D");
    BL_CHECK(bl_npy_read_f32(path, &y, shape, &nd) == BL_OK && nd == 1 && shape[0] == 5, "1-D");
    free(y);
    BL_CHECK(bl_npy_write_f32(path, v, NULL, 0) == BL_OK, "write 0-D");
    BL_CHECK(bl_npy_read_f32(path, &y, shape, &nd) == BL_OK && nd == 0 && y && y[0] == 1, "0-D");
    free(y);
    /* A truncated data section is an error, not a short read. */
    size_t s3[3] = {2, 3, 5};
    float big[30] = {0};
    BL_CHECK(bl_npy_write_f32(path, big, s3, 3) == BL_OK, "write");
    BL_CHECK(truncate(path, 128 + 10) == 0, "truncate");
    y = NULL;
    BL_CHECK(bl_npy_read_f32(path, &y, shape, &nd) == BL_ERR_FORMAT && !y, "truncated accepted");
    snprintf(path, sizeof path, "%s/missing.npy", dir);
    BL_CHECK(bl_npy_read_f32(path, &y, shape, &nd) == BL_ERR_NOT_FOUND, "missing file");
    snprintf(path, sizeof path, "%s/no/such/dir/a.npy", dir);
    BL_CHECK(bl_npy_write_f32(path, v, &s1, 1) == BL_ERR_IO, "write into a missing folder");
}

static void test_headers(void) {
    size_t shape[BL_NPY_MAX_DIMS];
    int nd = 0;
    /* What numpy writes, and other legal spellings. */
    BL_CHECK(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }   \n", shape, &nd) > 0
                 && nd == 2 && shape[0] == 3 && shape[1] == 4, "numpy header");
    BL_CHECK(parse("{\"shape\":(7,),\"descr\":\"<f4\",\"fortran_order\":False}", shape, &nd) > 0 &&
                 nd == 1 && shape[0] == 7, "reordered keys, double quotes");
    BL_CHECK(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", shape, &nd) > 0 &&
                 nd == 0, "scalar");
    /* Rejections. */
    const char *bad[] = {
        "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
        "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }",
        "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,2,3,4,5,6,7,8,9), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
        "{'descr': '<f4', 'fortran_order': False }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,",
        "{'descr: '<f4'",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        BL_CHECK(parse(bad[i], shape, &nd) < 0, "accepted bad header %zu: %s", i, bad[i]);
    /* Header length beyond the buffer. */
    unsigned char buf[16] = "\x93NUMPY\x01\x00\xff\x7f";
    size_t hl;
    BL_CHECK(bl_npy_parse_header(buf, 16, shape, &nd, &hl) == BL_ERR_FORMAT, "long header length");
    BL_CHECK(bl_npy_parse_header(buf, 5, shape, &nd, &hl) == BL_ERR_FORMAT, "short buffer");
    buf[6] = 9;
    BL_CHECK(bl_npy_parse_header(buf, 16, shape, &nd, &hl) == BL_ERR_FORMAT, "version 9");
}

/* A header is outside data: a small file that claims 2^40 x 6144 float32 values (24 PiB) must be
 * refused as truncated, by comparing with the file's size, before anything is allocated for it
 * (an allocation first would fail with BL_ERR_NOMEM here, or succeed lazily for smaller claims
 * and then fail the read). Also the fuzz corpus seed tests/fuzz/corpus/npy/huge_shape.npy. */
static void test_huge_claim(const char *dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/huge.npy", dir);
    const size_t shapes[][2] = {{(size_t)1 << 40, 6144}, {(size_t)1 << 28, 1}, {3, 5}};
    for (int k = 0; k < 3; k++) {
        unsigned char head[BL_NPY_HEADER_MAX];
        size_t hl = 0;
        BL_CHECK(bl_npy_format_header(head, sizeof head, shapes[k], 2, &hl) == BL_OK, "header");
        FILE *f = fopen(path, "wb");
        BL_CHECK(f != NULL, "create %s", path);
        if (!f) return;
        float few[14] = {0}; /* one value short of the smallest claim */
        fwrite(head, 1, hl, f);
        fwrite(few, sizeof(float), 14, f);
        fclose(f);
        float *y = NULL;
        size_t shape[BL_NPY_MAX_DIMS];
        int nd = 0;
        bl_status s = bl_npy_read_f32(path, &y, shape, &nd);
        BL_CHECK(s == BL_ERR_FORMAT && !y, "claim %zu x %zu: status %s", shapes[k][0], shapes[k][1], bl_errname(s));
        BL_CHECK(strstr(bl_error_message(), "truncated") && strstr(bl_error_message(), "56 bytes after the header"),
                 "message: %s", bl_error_message());
        free(y);
    }
}

int main(void) {
    const char *dir = bl_test_tmpdir("npy");
    BL_REQUIRE(dir != NULL, "no temp dir");
    char d[1024];
    snprintf(d, sizeof d, "%s", dir);
    test_roundtrip(d);
    test_headers();
    test_huge_claim(d);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    bl_test_run(cmd);
    return bl_test_finish("test_npy");
}
