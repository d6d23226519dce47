/* fuzz_journal.c — the checkpoint readers of io/journal.c on hostile bytes.
 *
 * bl_journal_parse (checkpoint/journal.tsv): it must return a status, never read past the
 * buffer, keep only whole lines (each line's end_offset just past a '\n', increasing, and
 * the ignored bytes exactly the rest), hand out non-NULL strings, and what it accepts must
 * format and parse back to the same text (writer and reader agree).
 *
 * bl_fingerprint_diff (checkpoint/fingerprint): the input split at its first NUL byte (or
 * in the middle) gives the old and the new fingerprint. The answer and the message must be
 * those of the first, line-by-line version of the comparison, kept below as the reference
 * (it rescans both texts for every line, so only inputs of up to 200 lines are compared).
 * Seeds: tests/fuzz/corpus/journal/ (journals written by real runs, edge cases, and
 * fingerprint pairs named fp_*).
 */
#include <stdint.h>
#include <stdio.h>  /* snprintf */
#include <stdlib.h>
#include <string.h>

#include "io/journal.h" /* the parsers under test */

/* ---- the reference comparison (io/journal.c before it sorted the lines) ---------------- */

static bool ref_nth_line(const char *s, size_t i, const char **b, const char **e) {
    const char *p = s;
    for (size_t k = 0; k < i; k++) {
        p = strchr(p, '\n');
        if (!p) return false;
        p++;
    }
    if (!*p) return false;
    *b = p;
    const char *nl = strchr(p, '\n');
    *e = nl ? nl : p + strlen(p);
    return true;
}

static bool ref_find_key(const char *fp, const char *k, size_t kl, const char **vb, const char **ve) {
    const char *b, *e;
    for (size_t i = 0; ref_nth_line(fp, i, &b, &e); i++) {
        const char *eq = memchr(b, '=', (size_t)(e - b));
        size_t l = eq ? (size_t)(eq - b) : (size_t)(e - b);
        if (l == kl && !memcmp(b, k, kl)) {
            *vb = eq ? eq + 1 : e;
            *ve = e;
            return true;
        }
    }
    return false;
}

static void ref_add_diff(char *msg, size_t cap, int *n, const char *k, int kl, const char *a, int al,
                         const char *b, int bl) {
    size_t used = strlen(msg);
    if (*n == 4) snprintf(msg + used, cap - used, "; ...");
    else if (*n < 4)
        snprintf(msg + used, cap - used, "%s%.*s: was %s%.*s%s, now %s%.*s%s", *n ? "; " : "", kl, k,
                 a ? "'" : "", a ? al : 6, a ? a : "absent", a ? "'" : "", b ? "'" : "", b ? bl : 6,
                 b ? b : "absent", b ? "'" : "");
    (*n)++;
}

static bool ref_fingerprint_diff(const char *old_fp, const char *new_fp, char *msg, size_t cap) {
    msg[0] = '\0';
    int n = 0;
    const char *b, *e;
    for (int pass = 0; pass < 2; pass++) {
        const char *from = pass ? new_fp : old_fp, *to = pass ? old_fp : new_fp;
        for (size_t i = 0; ref_nth_line(from, i, &b, &e); i++) {
            if (b == e) continue;
            const char *eq = memchr(b, '=', (size_t)(e - b));
            size_t kl = eq ? (size_t)(eq - b) : (size_t)(e - b);
            const char *vb, *ve;
            bool found = ref_find_key(to, b, kl, &vb, &ve);
            const char *fvb = eq ? eq + 1 : e;
            if (found && (size_t)(ve - vb) == (size_t)(e - fvb) && !memcmp(vb, fvb, (size_t)(e - fvb))) continue;
            if (pass == 1 && found) continue;
            if (pass == 0)
                ref_add_diff(msg, cap, &n, b, (int)kl, fvb, (int)(e - fvb), found ? vb : NULL, found ? (int)(ve - vb) : 0);
            else
                ref_add_diff(msg, cap, &n, b, (int)kl, NULL, 0, fvb, (int)(e - fvb));
        }
    }
    return n == 0;
}

/* ---- the targets --------------------------------------------------------------------- */

static void check_journal(const char *buf, size_t size) {
    bl_journal_line *lines = NULL;
    size_t n = 0;
    int64_t ignored = -1;
    if (bl_journal_parse(buf, size, "fuzz", &lines, &n, &ignored) != BL_OK) {
        if (lines || n) abort();
        return;
    }
    int64_t prev = (int64_t)strlen(BL_JOURNAL_MAGIC);
    bl_strbuf t1 = {0};
    bl_strbuf_puts(&t1, BL_JOURNAL_MAGIC);
    for (size_t i = 0; i < n; i++) {
        const bl_journal_line *l = &lines[i];
        if (l->end_offset <= prev || l->end_offset > (int64_t)size || buf[l->end_offset - 1] != '\n') abort();
        if (!l->key || !l->source || !l->stage || !l->status || !l->message) abort();
        if (!l->is_close && l->item < 0) abort();
        prev = l->end_offset;
        bl_journal_format_line(l, &t1);
    }
    if (ignored != (int64_t)size - prev) abort();
    /* format → parse → format gives the same text */
    bl_journal_line *again = NULL;
    size_t n2 = 0;
    int64_t ignored2 = -1;
    if (t1.oom || bl_journal_parse(t1.data, t1.len, "fuzz-again", &again, &n2, &ignored2) != BL_OK) abort();
    if (n2 != n || ignored2 != 0) abort();
    bl_strbuf t2 = {0};
    bl_strbuf_puts(&t2, BL_JOURNAL_MAGIC);
    for (size_t i = 0; i < n2; i++) bl_journal_format_line(&again[i], &t2);
    if (t2.oom || t1.len != t2.len || memcmp(t1.data, t2.data, t1.len) != 0) abort();
    bl_strbuf_free(&t1);
    bl_strbuf_free(&t2);
    bl_journal_lines_free(again, n2);
    bl_journal_lines_free(lines, n);
}

static void check_fingerprints(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, '\0', size);
    size_t split = nul ? (size_t)(nul - data) : size / 2;
    char *a = malloc(split + 1), *b = malloc(size - split + 1);
    if (!a || !b) {
        free(a);
        free(b);
        return;
    }
    memcpy(a, data, split);
    a[split] = '\0';
    size_t bl = nul ? size - split - 1 : size - split;
    memcpy(b, data + size - bl, bl);
    b[bl] = '\0';
    char msg[256], ref[256];
    memset(msg, 'x', sizeof msg);
    bool same = bl_fingerprint_diff(a, b, msg, sizeof msg);
    if (!memchr(msg, '\0', sizeof msg)) abort();
    if (same && msg[0]) abort();
    size_t n_lines = 0;
    for (size_t i = 0; i < size; i++) n_lines += data[i] == '\n';
    if (n_lines <= 200 && size <= 8192) { /* the reference is cubic in the lines */
        bool rsame = ref_fingerprint_diff(a, b, ref, sizeof ref);
        if (rsame != same || strcmp(ref, msg) != 0) abort();
    }
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size ? size : 1); /* exactly `size` bytes: ASan sees any overread */
    if (!buf) return 0;
    memcpy(buf, data, size);
    check_journal(buf, size);
    check_fingerprints(data, size);
    free(buf);
    return 0;
}
