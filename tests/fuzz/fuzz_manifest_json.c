/* fuzz_manifest_json.c — bl_manifest_parse, the whole of bl_manifest_load but reading the
 * file, and through it the strict JSON reader of io/json.c, on hostile bytes: it must return a
 * status, never read past the buffer, and a manifest it accepts must format and parse back to
 * the same text (writer and reader agree).
 *
 * The JSON reader is also checked on its own: its work (bl_json_parse_stats) stays linear in
 * the input for every input, accepted or not, so that no document can make the load of a big
 * output folder quadratic again; and the line:column of the values of an accepted document
 * never go backwards in document order and stay inside the text. Seeds in
 * tests/fuzz/corpus/manifest_json/ include manifests of real runs with a few hundred chunks
 * and with a few hundred source spans in one chunk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"     /* the JSON reader under test, with its work counters */
#include "io/manifest.h" /* the manifest parser under test */

/* Pre-order walk: positions never go backwards, lines within the text. */
static void check_positions(const bl_json *j, int *line, int *col, int n_lines) {
    if (j->line < *line || (j->line == *line && j->column < *col) || j->line > n_lines || j->column < 1) abort();
    *line = j->line;
    *col = j->column;
    for (size_t i = 0; i < j->n_items; i++) check_positions(j->items[i], line, col, n_lines);
}

static void check_json(const char *buf, size_t size) {
    bl_json *j = NULL;
    bl_json_stats st;
    memset(&st, 0xff, sizeof st);
    bl_status s = bl_json_parse_stats(buf, size, "fuzz", &j, &st);
    /* every byte looked at a bounded number of times (strings: 3, numbers: 3, plus one pass
     * for an error's line:column), and the duplicate-name check n log n at most */
    uint64_t log2n = 1;
    while (((uint64_t)1 << log2n) < size) log2n++;
    if (st.bytes_visited > 5 * (uint64_t)size + 64) abort();
    if (st.comparisons > (uint64_t)size * (log2n + 16) + 64) abort();
    if (st.nodes > (uint64_t)size + 1) abort();
    if (s == BL_OK) {
        int n_lines = 1, line = 1, col = 1;
        for (size_t i = 0; i < size; i++) n_lines += buf[i] == '\n';
        check_positions(j, &line, &col, n_lines);
    } else if (j) {
        abort();
    }
    bl_json_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size ? size : 1); /* exactly `size` bytes: ASan sees any overread */
    if (!buf) return 0;
    memcpy(buf, data, size);
    check_json(buf, size);
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
