/* fuzz_npy.c — the .npy reader on hostile bytes: bl_npy_parse_header must return a status,
 * never read past the buffer, and on success describe a header that fits inside it; then the
 * same bytes as a file through bl_npy_read_f32, which must refuse a shape the file cannot hold
 * before allocating for it (corpus seed huge_shape.npy claims 2^40 x 6144 float32 values: an
 * allocation first is a sanitizer report, "allocation-size-too-big") and, when it accepts,
 * return exactly the floats the file holds.
 *
 * The file is a memfd rewritten for each input (no disk traffic), opened through
 * /proc/self/fd like any path.
 */
#include <stdint.h>
#include <stdio.h>     /* snprintf */
#include <stdlib.h>
#include <string.h>    /* memcmp */
#include <sys/mman.h>  /* memfd_create */
#include <unistd.h>    /* ftruncate, pwrite */

#include "io/npy.h" /* the parser under test */

static int as_file(const uint8_t *data, size_t size, char *path, size_t cap) {
    static int fd = -1; /* one per process, reused: the replay runs thousands of inputs */
    if (fd < 0) fd = memfd_create("fuzz_npy", 0);
    if (fd < 0 || ftruncate(fd, 0) != 0) return -1;
    if (size && pwrite(fd, data, size, 0) != (ssize_t)size) return -1;
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A private copy of exactly `size` bytes, so that ASan sees any overread. */
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    for (size_t i = 0; i < size; i++) buf[i] = data[i];
    size_t shape[BL_NPY_MAX_DIMS], hl = 0, count = 1;
    int nd = -1;
    bl_status hs = bl_npy_parse_header(buf, size, shape, &nd, &hl);
    if (hs == BL_OK) {
        if (hl > size || nd < 0 || nd > BL_NPY_MAX_DIMS) abort();
        for (int i = 0; i < nd; i++) {
            if (shape[i] && count > SIZE_MAX / 4 / shape[i]) abort(); /* the parser checks this */
            count *= shape[i];
        }
    }
    char path[64];
    if (as_file(data, size, path, sizeof path) == 0) {
        float *x = NULL;
        size_t fshape[BL_NPY_MAX_DIMS];
        int fnd = -1;
        bl_status s = bl_npy_read_f32(path, &x, fshape, &fnd);
        if (s == BL_OK) {
            /* accepted: the whole header parsed, and the file holds every value */
            if (hs != BL_OK || fnd != nd || !x || hl + count * 4 > size) abort();
            for (int i = 0; i < nd; i++)
                if (fshape[i] != shape[i]) abort();
            if (count && memcmp(x, data + hl, count * 4) != 0) abort();
        } else if (x) {
            abort(); /* nothing handed out on failure */
        }
        free(x);
    }
    free(buf);
    return 0;
}
