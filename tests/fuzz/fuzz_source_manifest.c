/* fuzz_source_manifest.c — bl_source_manifest_parse (the sources' manifest CSV parser) on
 * hostile bytes: it must return a status, never read past the buffer, and on success return
 * rows that hold a non-empty path, lines in increasing order, and time fields that parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/sources.h" /* the parser under test */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A private copy of exactly `size` bytes, so that ASan sees any overread. */
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    bl_source_manifest m;
    if (bl_source_manifest_parse(buf, size, "fuzz.csv", &m) == BL_OK) {
        int last = 0;
        for (size_t i = 0; i < m.n; i++) {
            const bl_source_manifest_row *r = &m.rows[i];
            if (!r->path || !r->path[0] || r->line <= last) abort();
            last = r->line;
            int64_t ms;
            if (r->start_time && bl_time_parse_iso(r->start_time, &ms) != BL_OK) abort();
            if (r->key && !r->key[0]) abort();
        }
        bl_source_manifest_free(&m);
    } else if (!bl_error_message()[0]) {
        abort(); /* every failure explains itself */
    }
    free(buf);
    return 0;
}
