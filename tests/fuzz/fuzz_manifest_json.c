/* fuzz_manifest_json.c — bl_manifest_parse (and through it the strict JSON reader of
 * io/json.c) on hostile bytes: it must return a status, never read past the buffer, and a
 * manifest it accepts must format and parse back to the same text (writer and reader agree).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/manifest.h" /* the parser under test */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size ? size : 1); /* exactly `size` bytes: ASan sees any overread */
    if (!buf) return 0;
    memcpy(buf, data, size);
    bl_manifest m;
    if (bl_manifest_parse(buf, size, "fuzz", &m) == BL_OK) {
        char *t1 = NULL, *t2 = NULL;
        size_t l1 = 0, l2 = 0;
        bl_manifest m2;
        if (bl_manifest_format(&m, &t1, &l1) != BL_OK) abort();
        if (bl_manifest_parse(t1, l1, "fuzz-again", &m2) != BL_OK) abort();
        if (bl_manifest_format(&m2, &t2, &l2) != BL_OK) abort();
        if (l1 != l2 || memcmp(t1, t2, l1) != 0) abort();
        bl_manifest_free(&m2);
        free(t1);
        free(t2);
        bl_manifest_free(&m);
    }
    free(buf);
    return 0;
}
