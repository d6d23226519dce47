/* test_json.c — io/json.c: values and their line:column, error messages naming
 * document:line:column, duplicate names in small and large objects, and the parser's work
 * growing linearly with the input (counted by bl_json_parse_stats, never timed): manifests of
 * 1k and 10k chunks, objects of 2k and 20k members, many deeply nested values.
 */
#include <stdlib.h>
#include <string.h>

#include "io/json.h"     /* what is tested */
#include "io/manifest.h" /* manifest-shaped documents, written by the real writer */
#include "testutil.h"

static uint64_t work(const bl_json_stats *st) { return st->bytes_visited + st->comparisons; }

/* Parse `doc`, expect BL_ERR_FORMAT with `want` (e.g. "t:3:3: invalid JSON: duplicate") in the
 * message. */
static void expect_error(const char *doc, size_t len, const char *want) {
    bl_json *j = NULL;
    bl_status s = bl_json_parse(doc, len, "t", &j);
    BL_CHECK(s == BL_ERR_FORMAT && !j, "accepted (status %s): %.60s", bl_errname(s), doc);
    BL_CHECK(strstr(bl_error_message(), want) != NULL, "message '%s', wanted '%s'", bl_error_message(), want);
    bl_json_free(j);
}

static void test_values_and_positions(void) {
    const char *doc = "{\n  \"a\": [1,\n    \"x\"],\n  \"b\": {\"c\": null},\r\n  \"d\": -2.5e1, \"e\": true\n}\n";
    bl_json *j = NULL;
    BL_CHECK(bl_json_parse(doc, strlen(doc), "t", &j) == BL_OK, "%s", bl_error_message());
    if (!j) return;
    const bl_json *a = bl_json_get(j, "a"), *b = bl_json_get(j, "b"), *d = bl_json_get(j, "d");
    const bl_json *c = bl_json_get(b, "c"), *e = bl_json_get(j, "e");
    BL_CHECK(j->line == 1 && j->column == 1, "root at %d:%d", j->line, j->column);
    BL_CHECK(a && a->type == BL_JSON_ARRAY && a->n_items == 2 && a->line == 2 && a->column == 8, "a");
    if (a && a->n_items == 2) {
        BL_CHECK(a->items[0]->line == 2 && a->items[0]->column == 9 && a->items[0]->is_integer &&
                     a->items[0]->integer == 1, "a[0] at %d:%d", a->items[0]->line, a->items[0]->column);
        BL_CHECK(a->items[1]->line == 3 && a->items[1]->column == 5 && !strcmp(a->items[1]->string, "x"),
                 "a[1] at %d:%d", a->items[1]->line, a->items[1]->column);
    }
    BL_CHECK(b && b->line == 4 && b->column == 8, "b");
    BL_CHECK(c && c->type == BL_JSON_NULL && c->line == 4 && c->column == 14, "c");
    /* a CR before the newline is a byte of the line before; the column counts bytes */
    BL_CHECK(d && d->number == -25 && !d->is_integer && d->line == 5 && d->column == 8, "d at %d:%d",
             d ? d->line : 0, d ? d->column : 0);
    BL_CHECK(e && e->boolean && e->line == 5 && e->column == 21, "e at %d:%d", e ? e->line : 0, e ? e->column : 0);
    bl_json_free(j);
}

static void test_errors(void) {
    static const struct { const char *doc, *want; } cases[] = {
        {"{\n  \"a\": 1,\n  \"a\": 2\n}", "t:3:3: invalid JSON: duplicate member name"},
        {"[1,\n 2,\n 3,]", "t:3:4: invalid JSON: value expected"},
        {"{\"a\": \"abc\n", "t:1:7: invalid JSON: unterminated string"},
        {"[\n \"a\tb\"]", "t:2:4: invalid JSON: control character in string"},
        {"{}\n\n x", "t:3:2: invalid JSON: unexpected data after the value"},
        {"{\"a\" 1}", "t:1:6: invalid JSON: ':' expected"},
        {"{\"a\": 1,\r\n}", "t:2:1: invalid JSON: member name (a string) expected"},
        {"[1 2]", "t:1:4: invalid JSON: ',' or ']' expected"},
        {"\n\n  [01]", "t:3:5: invalid JSON: ',' or ']' expected"},
        {"[\"\\ud800\"]", "t:1:3: invalid JSON: lone high surrogate"},
        {"{\"a\\u0000b\": 1}", "t:1:2: invalid JSON: NUL in member name"},
        {"", "t:1:1: invalid JSON: value expected, got end of input"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) expect_error(cases[i].doc, strlen(cases[i].doc), cases[i].want);
    /* the error in a document that is not NUL-terminated and ends mid-literal */
    expect_error("[tru", 4, "t:1:2: invalid JSON: value expected");
    /* nesting limit: the 65th '[' */
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    expect_error(deep, 130, "t:1:65: invalid JSON: nested too deeply");
    bl_json *j = NULL; /* 64 levels are fine */
    BL_CHECK(bl_json_parse(deep + 1, 128, "t", &j) == BL_OK, "64 levels: %s", bl_error_message());
    bl_json_free(j);
}

/* An object of n members "k000000": i, one per line, plus `extra` appended before the '}'. */
static char *big_object(size_t n, const char *extra, size_t *len) {
    bl_strbuf b = {0};
    bl_strbuf_puts(&b, "{");
    /* names in a scrambled order (7919 is prime, so i -> i·7919 mod n is a permutation) */
    for (size_t i = 0; i < n; i++) bl_strbuf_printf(&b, "%s\n  \"k%06zu\": %zu", i ? "," : "", i * 7919 % n, i);
    bl_strbuf_puts(&b, extra);
    bl_strbuf_puts(&b, "\n}\n");
    *len = b.len;
    return b.data;
}

static void test_large_object_duplicates(void) {
    /* The first name repeated after the 16 members checked one by one: found at the close,
     * reported where the repeat stands (line n + 2, column 3), as a small object reports it. */
    size_t len;
    char *doc = big_object(40, ",\n  \"zz\": 1,\n  \"k000000\": 2,\n  \"zz\": 3", &len);
    expect_error(doc, len, "t:43:3: invalid JSON: duplicate member name");
    free(doc);
    /* two different repeats: the one earlier in the document is named, though its name sorts
     * after the other's */
    doc = big_object(40, ",\n  \"zz\": 1,\n  \"zz\": 1,\n  \"k000000\": 2", &len);
    expect_error(doc, len, "t:43:3: invalid JSON: duplicate member name");
    free(doc);
    /* repeats within the first 16 are still found at once, before a later syntax error */
    const char *early = "{\"a\": 1, \"b\": 2, \"a\": 3, \"c\" 4}";
    expect_error(early, strlen(early), "t:1:18: invalid JSON: duplicate member name");
    /* 17 distinct members: accepted, all of them there in order */
    doc = big_object(17, "", &len);
    bl_json *j = NULL;
    BL_CHECK(bl_json_parse(doc, len, "t", &j) == BL_OK, "%s", bl_error_message());
    BL_CHECK(j && j->n_items == 17 && j->items[16]->integer == 16 && j->items[16]->line == 18, "17 members");
    bl_json_free(j);
    free(doc);
}

/* A manifest of n_chunks chunks (half segments, half events), written by bl_manifest_format. */
static char *manifest_doc(size_t n_chunks, size_t *len) {
    bl_manifest m = {0};
    m.version = BL_MANIFEST_VERSION;
    m.complete = true;
    m.items_committed = (int64_t)n_chunks / 2;
    m.tables[BL_TABLE_SEGMENTS].header = strdup("source,channel,start_s,end_s,class,max,mean");
    m.tables[BL_TABLE_EVENTS].header = strdup("source,channel,class,start_s,end_s,peak,mean");
    for (size_t i = 0; i < n_chunks; i++) {
        int t = i < n_chunks / 2 ? BL_TABLE_SEGMENTS : BL_TABLE_EVENTS;
        size_t k = t == BL_TABLE_SEGMENTS ? i : i - n_chunks / 2;
        bl_manifest_chunk c = {0};
        char path[64], src[64];
        snprintf(path, sizeof path, "%s/part-%05zu.csv.zst", bl_table_name((bl_table_id)t), k);
        snprintf(src, sizeof src, "archive/2025/f%06zu.wav", k);
        c.path = strdup(path);
        c.rows = 3;
        c.bytes = 140;
        c.raw_bytes = 238;
        for (int h = 0; h < 64; h++) c.sha256[h] = "0123456789abcdef"[(k + (size_t)h * 7) % 16];
        c.first_item = c.last_item = (int64_t)k;
        c.spans = calloc(1, sizeof *c.spans);
        c.spans[0].source = strdup(src);
        c.spans[0].t0_s = 0;
        c.spans[0].t1_s = 299.52;
        c.n_spans = 1;
        bl_manifest_add_chunk(&m, (bl_table_id)t, &c);
    }
    char *text = NULL;
    if (bl_manifest_format(&m, &text, len) != BL_OK) text = NULL;
    bl_manifest_free(&m);
    return text;
}

static void test_linear_manifest(void) {
    bl_json_stats st[2];
    size_t lens[2], chunks[2] = {1000, 10000};
    for (int k = 0; k < 2; k++) {
        char *doc = manifest_doc(chunks[k], &lens[k]);
        BL_CHECK(doc != NULL, "manifest of %zu chunks", chunks[k]);
        if (!doc) return;
        bl_json *j = NULL;
        BL_CHECK(bl_json_parse_stats(doc, lens[k], "manifest.json", &j, &st[k]) == BL_OK, "%s", bl_error_message());
        bl_json_free(j);
        /* linear in absolute terms too: a few looks per byte */
        BL_CHECK(st[k].bytes_visited <= 4 * (uint64_t)lens[k], "%zu chunks: %llu bytes visited for %zu bytes",
                 chunks[k], (unsigned long long)st[k].bytes_visited, lens[k]);
        bl_manifest m;
        BL_CHECK(bl_manifest_parse(doc, lens[k], "manifest.json", &m) == BL_OK, "%s", bl_error_message());
        BL_CHECK(m.tables[BL_TABLE_SEGMENTS].n_chunks + m.tables[BL_TABLE_EVENTS].n_chunks == chunks[k], "chunks");
        bl_manifest_free(&m);
        /* an error at the very end still names its line: the last but one */
        doc = realloc(doc, lens[k] + 8);
        size_t n_lines = 0;
        for (size_t i = 0; i < lens[k]; i++) n_lines += doc[i] == '\n';
        memcpy(doc + lens[k] - 2, "}x\n", 3);
        char want[64];
        snprintf(want, sizeof want, "t:%zu:2: invalid JSON: unexpected data", n_lines);
        expect_error(doc, lens[k] + 1, want);
        free(doc);
    }
    double ratio = (double)work(&st[1]) / (double)work(&st[0]);
    double in_ratio = (double)lens[1] / (double)lens[0];
    fprintf(stderr, "manifest 1k -> 10k chunks: input x%.2f, work x%.2f (%llu -> %llu), nodes %llu -> %llu\n",
            in_ratio, ratio, (unsigned long long)work(&st[0]), (unsigned long long)work(&st[1]),
            (unsigned long long)st[0].nodes, (unsigned long long)st[1].nodes);
    BL_CHECK(in_ratio > 9 && in_ratio < 11, "input ratio %.2f", in_ratio);
    BL_CHECK(ratio <= 12, "work grew %.1fx for %.1fx the input: not linear", ratio, in_ratio);
}

static void test_linear_big_object(void) {
    bl_json_stats st[2];
    size_t n[2] = {2000, 20000}, lens[2];
    for (int k = 0; k < 2; k++) {
        char *doc = big_object(n[k], "", &lens[k]);
        bl_json *j = NULL;
        BL_CHECK(bl_json_parse_stats(doc, lens[k], "t", &j, &st[k]) == BL_OK, "%s", bl_error_message());
        BL_CHECK(j && j->n_items == n[k], "members");
        bl_json_free(j);
        free(doc);
        /* the duplicate check: a merge sort, n·ceil(log2 n) comparisons at most, plus the
         * first 16 members checked one by one and the neighbours compared once */
        uint64_t log2n = 0;
        while (((size_t)1 << log2n) < n[k]) log2n++;
        uint64_t bound = (uint64_t)n[k] * log2n + n[k] + 16 * 16;
        BL_CHECK(st[k].comparisons <= bound, "%zu members: %llu comparisons > %llu", n[k],
                 (unsigned long long)st[k].comparisons, (unsigned long long)bound);
        BL_CHECK(st[k].bytes_visited <= 4 * (uint64_t)lens[k], "bytes visited");
    }
    double bytes_ratio = (double)st[1].bytes_visited / (double)st[0].bytes_visited;
    double cmp_ratio = (double)st[1].comparisons / (double)st[0].comparisons;
    fprintf(stderr, "object of 2k -> 20k members: bytes visited x%.2f, comparisons x%.2f (n ceil(log2 n): x%.2f)\n",
            bytes_ratio, cmp_ratio, 20000.0 * 15 / (2000.0 * 11));
    BL_CHECK(bytes_ratio <= 12, "bytes visited grew %.1fx for 10x the members", bytes_ratio);
    BL_CHECK(cmp_ratio <= 16, "comparisons grew %.1fx for 10x the members (n log n: ~14x, quadratic: 100x)", cmp_ratio);
}

static void test_linear_nesting(void) {
    /* n copies of a value nested 60 deep, over several lines */
    bl_json_stats st[2];
    size_t n[2] = {1000, 10000}, lens[2];
    for (int k = 0; k < 2; k++) {
        bl_strbuf b = {0};
        bl_strbuf_puts(&b, "[");
        for (size_t i = 0; i < n[k]; i++) {
            bl_strbuf_puts(&b, i ? ",\n " : "\n ");
            for (int d = 0; d < 30; d++) bl_strbuf_puts(&b, "{\"v\": [");
            bl_strbuf_printf(&b, "%zu", i);
            for (int d = 0; d < 30; d++) bl_strbuf_puts(&b, "]}");
        }
        bl_strbuf_puts(&b, "\n]\n");
        bl_json *j = NULL;
        BL_CHECK(bl_json_parse_stats(b.data, b.len, "t", &j, &st[k]) == BL_OK, "%s", bl_error_message());
        if (j && j->n_items == n[k]) {
            const bl_json *v = j->items[n[k] - 1];
            for (int d = 0; d < 30 && v; d++) {
                v = bl_json_get(v, "v");
                v = v && v->n_items == 1 ? v->items[0] : NULL;
            }
            BL_CHECK(v && v->integer == (int64_t)n[k] - 1 && v->line == (int)n[k] + 1 && v->column == 2 + 30 * 7,
                     "innermost value at %d:%d", v ? v->line : 0, v ? v->column : 0);
        }
        bl_json_free(j);
        lens[k] = b.len;
        bl_strbuf_free(&b);
    }
    double ratio = (double)work(&st[1]) / (double)work(&st[0]);
    fprintf(stderr, "nested values 1k -> 10k: input x%.2f, work x%.2f\n", (double)lens[1] / (double)lens[0], ratio);
    BL_CHECK(ratio <= 12, "work grew %.1fx for 10x the values", ratio);
}

int main(void) {
    test_values_and_positions();
    test_errors();
    test_large_object_duplicates();
    test_linear_manifest();
    test_linear_big_object();
    test_linear_nesting();
    return bl_test_finish("test_json");
}
