/* manifest.c — manifest.json writer and strict reader (see manifest.h).
 *
 * The writer emits a fixed key order and round-trip number formatting, so resumed and
 * uninterrupted runs write identical manifests. The reader builds on io/json.c and checks
 * every field's type, every chunk path and each table's totals against its chunks; it is
 * linear in the document (a constant number of lookups per chunk and per source span).
 * Threading: no shared state.
 */
#include "manifest.h"

#include <math.h>   /* NAN */
#include <stdint.h> /* INT64_MAX */
#include <stdio.h>  /* snprintf */
#include <stdlib.h> /* malloc, free */
#include <string.h> /* strcmp, strdup */

#include "../core/infile.h" /* bl_manifest_load: opened as every outside file is */
#include "json.h"           /* bl_json reader, bl_strbuf writer */

static const char *const k_table_names[BL_TABLE_COUNT] = {"segments", "events", "window_scores"};

const char *bl_table_name(bl_table_id t) {
    return (unsigned)t < BL_TABLE_COUNT ? k_table_names[t] : NULL;
}

int bl_table_from_name(const char *name) {
    for (int t = 0; t < BL_TABLE_COUNT; t++)
        if (name && !strcmp(name, k_table_names[t])) return t;
    return -1;
}

void bl_manifest_chunk_free(bl_manifest_chunk *c) {
    free(c->path);
    for (size_t i = 0; i < c->n_spans; i++) free(c->spans[i].source);
    free(c->spans);
    memset(c, 0, sizeof *c);
}

void bl_manifest_free(bl_manifest *m) {
    for (int t = 0; t < BL_TABLE_COUNT; t++) {
        bl_manifest_table *tb = &m->tables[t];
        for (size_t i = 0; i < tb->n_chunks; i++) bl_manifest_chunk_free(&tb->chunks[i]);
        free(tb->chunks);
        free(tb->header);
    }
    memset(m, 0, sizeof *m);
}

bl_status bl_manifest_add_chunk(bl_manifest *m, bl_table_id t, bl_manifest_chunk *c) {
    bl_manifest_table *tb = &m->tables[t];
    if (tb->n_chunks == tb->cap) {
        size_t nc = tb->cap ? tb->cap * 2 : 16;
        bl_manifest_chunk *n = realloc(tb->chunks, nc * sizeof *n);
        BL_CHECK_ALLOC(n);
        tb->chunks = n;
        tb->cap = nc;
    }
    tb->chunks[tb->n_chunks++] = *c;
    memset(c, 0, sizeof *c);
    return BL_OK;
}

bl_status bl_manifest_format(const bl_manifest *m, char **text, size_t *len) {
    bl_strbuf b = {0};
    bl_strbuf_printf(&b, "{\n  \"format\": \"baleen-output\",\n  \"version\": %d,\n", BL_MANIFEST_VERSION);
    bl_strbuf_printf(&b, "  \"complete\": %s,\n  \"items_committed\": %lld,\n  \"tables\": {",
                     m->complete ? "true" : "false", (long long)m->items_committed);
    bool first_table = true;
    for (int t = 0; t < BL_TABLE_COUNT; t++) {
        const bl_manifest_table *tb = &m->tables[t];
        if (!tb->header) continue;
        int64_t rows = 0, bytes = 0;
        for (size_t i = 0; i < tb->n_chunks; i++) {
            rows += tb->chunks[i].rows;
            bytes += tb->chunks[i].bytes;
        }
        bl_strbuf_printf(&b, "%s\n    \"%s\": {\n      \"header\": ", first_table ? "" : ",", k_table_names[t]);
        first_table = false;
        bl_strbuf_json_string(&b, tb->header);
        bl_strbuf_printf(&b, ",\n      \"rows\": %lld,\n      \"bytes\": %lld,\n      \"chunks\": [",
                         (long long)rows, (long long)bytes);
        for (size_t i = 0; i < tb->n_chunks; i++) {
            const bl_manifest_chunk *c = &tb->chunks[i];
            bl_strbuf_puts(&b, i ? ",\n        {\"path\": " : "\n        {\"path\": ");
            bl_strbuf_json_string(&b, c->path);
            bl_strbuf_printf(&b,
                             ", \"rows\": %lld, \"bytes\": %lld, \"raw_bytes\": %lld, \"sha256\": \"%s\", "
                             "\"first_item\": %lld, \"last_item\": %lld, \"sources\": [",
                             (long long)c->rows, (long long)c->bytes, (long long)c->raw_bytes, c->sha256,
                             (long long)c->first_item, (long long)c->last_item);
            for (size_t k = 0; k < c->n_spans; k++) {
                bl_strbuf_puts(&b, k ? ", {\"source\": " : "{\"source\": ");
                bl_strbuf_json_string(&b, c->spans[k].source);
                bl_strbuf_puts(&b, ", \"t0_s\": ");
                bl_strbuf_json_number(&b, c->spans[k].t0_s);
                bl_strbuf_puts(&b, ", \"t1_s\": ");
                bl_strbuf_json_number(&b, c->spans[k].t1_s);
                bl_strbuf_puts(&b, "}");
            }
            bl_strbuf_puts(&b, "]}");
        }
        bl_strbuf_puts(&b, tb->n_chunks ? "\n      ]\n    }" : "]\n    }");
    }
    bl_strbuf_puts(&b, first_table ? "}\n}\n" : "\n  }\n}\n");
    if (b.oom) {
        bl_strbuf_free(&b);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory formatting manifest.json");
    }
    *text = b.data;
    *len = b.len;
    return BL_OK;
}

/* ---- reading ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
} ctx;

static bl_status bad(const ctx *c, const bl_json *at, const char *what, const char *detail) {
    return BL_ERROR(BL_ERR_FORMAT, "%s:%d:%d: %s %s", c->name, at ? at->line : 1, at ? at->column : 1,
                    what, detail);
}

static bl_status want(const ctx *c, const bl_json *obj, const char *key, bl_json_type t, const bl_json **out) {
    const bl_json *v = bl_json_get(obj, key);
    if (!v) return BL_ERROR(BL_ERR_FORMAT, "%s:%d:%d: missing \"%s\"", c->name, obj->line, obj->column, key);
    if (v->type != t)
        return BL_ERROR(BL_ERR_FORMAT, "%s:%d:%d: \"%s\" must be a %s, not a %s", c->name, v->line, v->column,
                        key, bl_json_type_name(t), bl_json_type_name(v->type));
    *out = v;
    return BL_OK;
}

static bl_status want_count(const ctx *c, const bl_json *obj, const char *key, int64_t *out) {
    const bl_json *v = NULL;
    BL_TRY(want(c, obj, key, BL_JSON_NUMBER, &v));
    if (!v->is_integer || v->integer < 0) return bad(c, v, key, "must be a non-negative integer");
    *out = v->integer;
    return BL_OK;
}

static bl_status want_double(const ctx *c, const bl_json *obj, const char *key, double *out) {
    const bl_json *v = bl_json_get(obj, key);
    if (v && v->type == BL_JSON_NULL) { /* non-finite times are written as null */
        *out = NAN;
        return BL_OK;
    }
    BL_TRY(want(c, obj, key, BL_JSON_NUMBER, &v));
    *out = v->number;
    return BL_OK;
}

static bool is_hex64(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return false;
    return n == 64;
}

static bl_status parse_chunk(const ctx *c, const bl_json *j, int table, size_t index, bl_manifest_chunk *ch) {
    if (j->type != BL_JSON_OBJECT) return bad(c, j, "chunk entry", "must be an object");
    const bl_json *v = NULL;
    BL_TRY(want(c, j, "path", BL_JSON_STRING, &v));
    char expect[64];
    snprintf(expect, sizeof expect, "%s/part-%05zu.csv.zst", k_table_names[table], index);
    if (strcmp(v->string, expect) != 0)
        return BL_ERROR(BL_ERR_FORMAT, "%s:%d:%d: chunk path \"%s\" where \"%s\" was expected (chunks are "
                        "numbered from 0 in order)", c->name, v->line, v->column, v->string, expect);
    ch->path = strdup(v->string);
    BL_CHECK_ALLOC(ch->path);
    BL_TRY(want_count(c, j, "rows", &ch->rows));
    BL_TRY(want_count(c, j, "bytes", &ch->bytes));
    BL_TRY(want_count(c, j, "raw_bytes", &ch->raw_bytes));
    BL_TRY(want_count(c, j, "first_item", &ch->first_item));
    BL_TRY(want_count(c, j, "last_item", &ch->last_item));
    if (ch->last_item < ch->first_item) return bad(c, j, "chunk", "has last_item < first_item");
    BL_TRY(want(c, j, "sha256", BL_JSON_STRING, &v));
    if (!is_hex64(v->string)) return bad(c, v, "sha256", "must be 64 lowercase hex digits");
    memcpy(ch->sha256, v->string, 65);
    BL_TRY(want(c, j, "sources", BL_JSON_ARRAY, &v));
    if (v->n_items) {
        ch->spans = calloc(v->n_items, sizeof *ch->spans);
        BL_CHECK_ALLOC(ch->spans);
    }
    for (size_t i = 0; i < v->n_items; i++) {
        const bl_json *sp = v->items[i], *src;
        if (sp->type != BL_JSON_OBJECT) return bad(c, sp, "sources entry", "must be an object");
        BL_TRY(want(c, sp, "source", BL_JSON_STRING, &src));
        ch->spans[i].source = strdup(src->string);
        BL_CHECK_ALLOC(ch->spans[i].source);
        ch->n_spans = i + 1;
        BL_TRY(want_double(c, sp, "t0_s", &ch->spans[i].t0_s));
        BL_TRY(want_double(c, sp, "t1_s", &ch->spans[i].t1_s));
    }
    return BL_OK;
}

static bl_status parse_root(const ctx *c, const bl_json *root, bl_manifest *m) {
    if (root->type != BL_JSON_OBJECT) return bad(c, root, "manifest", "must be a JSON object");
    const bl_json *v = NULL;
    BL_TRY(want(c, root, "format", BL_JSON_STRING, &v));
    if (strcmp(v->string, "baleen-output") != 0) return bad(c, v, "\"format\"", "must be \"baleen-output\"");
    int64_t version;
    BL_TRY(want_count(c, root, "version", &version));
    if (version != BL_MANIFEST_VERSION)
        return BL_ERROR(BL_ERR_FORMAT, "%s: manifest version %lld is not supported (this baleen reads %d)",
                        c->name, (long long)version, BL_MANIFEST_VERSION);
    m->version = (int)version;
    BL_TRY(want(c, root, "complete", BL_JSON_BOOL, &v));
    m->complete = v->boolean;
    BL_TRY(want_count(c, root, "items_committed", &m->items_committed));
    const bl_json *tables;
    BL_TRY(want(c, root, "tables", BL_JSON_OBJECT, &tables));
    for (size_t i = 0; i < tables->n_items; i++) {
        const bl_json *tj = tables->items[i];
        int t = bl_table_from_name(tj->key);
        if (t < 0) return bad(c, tj, tj->key, "is not a table (segments, events, window_scores)");
        if (tj->type != BL_JSON_OBJECT) return bad(c, tj, tj->key, "must be an object");
        const bl_json *h, *chunks;
        BL_TRY(want(c, tj, "header", BL_JSON_STRING, &h));
        if (strlen(h->string) != h->string_len || strchr(h->string, '\n') || strchr(h->string, '\r'))
            return bad(c, h, "header", "must be one line");
        m->tables[t].header = strdup(h->string);
        BL_CHECK_ALLOC(m->tables[t].header);
        BL_TRY(want(c, tj, "chunks", BL_JSON_ARRAY, &chunks));
        int64_t rows = 0, bytes = 0, sum_rows = 0, sum_bytes = 0;
        BL_TRY(want_count(c, tj, "rows", &rows));
        BL_TRY(want_count(c, tj, "bytes", &bytes));
        for (size_t k = 0; k < chunks->n_items; k++) {
            bl_manifest_chunk ch = {0};
            bl_status s = parse_chunk(c, chunks->items[k], t, k, &ch);
            if (s == BL_OK && (ch.rows > INT64_MAX - sum_rows || ch.bytes > INT64_MAX - sum_bytes))
                s = bad(c, chunks->items[k], "chunk", "makes the table's rows or bytes overflow");
            if (s == BL_OK) {
                sum_rows += ch.rows;
                sum_bytes += ch.bytes;
                s = bl_manifest_add_chunk(m, (bl_table_id)t, &ch);
            }
            if (s != BL_OK) {
                bl_manifest_chunk_free(&ch);
                return s;
            }
        }
        /* the totals are the sums the writer computed: a chunk taken out of the list (or one
         * edited) shows here, where the numbering of the rest would not */
        if (rows != sum_rows || bytes != sum_bytes)
            return BL_ERROR(BL_ERR_FORMAT, "%s:%d:%d: the %s table lists %lld rows in %lld bytes, but its %zu "
                            "chunk(s) hold %lld rows in %lld bytes (a chunk was removed or edited by hand)",
                            c->name, tj->line, tj->column, tj->key, (long long)rows, (long long)bytes,
                            chunks->n_items, (long long)sum_rows, (long long)sum_bytes);
    }
    return BL_OK;
}

bl_status bl_manifest_parse(const char *text, size_t len, const char *name, bl_manifest *m) {
    memset(m, 0, sizeof *m);
    ctx c = {name ? name : "manifest.json"};
    bl_json *root = NULL;
    BL_TRY(bl_json_parse(text, len, c.name, &root));
    bl_status s = parse_root(&c, root, m);
    bl_json_free(root);
    if (s != BL_OK) bl_manifest_free(m);
    return s;
}

bl_status bl_manifest_load(const char *path, bl_manifest *m) {
    memset(m, 0, sizeof *m);
    /* never blocks (a FIFO in its place is refused), regular files only, size checked before
     * anything is allocated (a year of 5-minute files in 1-row chunks makes tens of MB) */
    char *text = NULL;
    size_t len = 0;
    BL_TRY(bl_infile_read_all(path, "manifest", (size_t)1 << 30, &text, &len));
    bl_status s = bl_manifest_parse(text, len, path, m);
    free(text);
    return s;
}
