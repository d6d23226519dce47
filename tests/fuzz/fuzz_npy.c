/* fuzz_npy.c — bl_npy_parse_header on hostile bytes: it must return a status, never read
 * past the buffer, and on success describe a header that fits inside it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "io/npy.h" /* the parser under test */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A private copy of exactly `size` bytes, so that ASan sees any overread. */
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    for (size_t i = 0; i < size; i++) buf[i] = data[i];
    size_t shape[BL_NPY_MAX_DIMS], hl = 0;
    int nd = -1;
    if (bl_npy_parse_header(buf, size, shape, &nd, &hl) == BL_OK) {
        if (hl > size || nd < 0 || nd > BL_NPY_MAX_DIMS) abort();
        size_t count = 1;
        for (int i = 0; i < nd; i++) {
            if (shape[i] && count > SIZE_MAX / 4 / shape[i]) abort(); /* the parser checks this */
            count *= shape[i];
        }
    }
    free(buf);
    return 0;
}
