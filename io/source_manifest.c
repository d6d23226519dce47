/* source_manifest.c — the source manifest CSV parser (declared in sources.h).
 *
 * A manifest is RFC 4180 CSV: a header line naming the columns, then one row per input.
 * Columns (any order, names case-sensitive, surrounding spaces ignored): path (required),
 * start_s, end_s, key, start_time. Fields may be quoted ("" is a quote inside a quoted field,
 * which may also hold commas and line breaks); lines end in LF or CRLF; a UTF-8 BOM is
 * skipped; blank lines are skipped; a row may have fewer fields than the header (the missing
 * ones are empty) but not more. start_s / end_s: seconds from the file's start or ISO-8601 UTC;
 * start_time: ISO-8601 UTC of the file's first sample. Every error names name:line.
 *
 * The parser reads outside data: it never reads past `len`, bounds every field, and is a
 * fuzz target (tests/fuzz/fuzz_manifest.c).
 *
 * Owns: the rows it returns (free with bl_source_manifest_free). Threading: pure function.
 */
#include "sources.h"

#include <ctype.h>  /* isspace */
#include <math.h>   /* isfinite */
#include <stdlib.h> /* malloc, strtod */
#include <string.h> /* memcpy, strcmp */

#define FIELD_MAX 8192 /* longest field accepted (a path is at most PATH_MAX = 4096) */
#define MAX_FIELDS 64

enum { COL_PATH, COL_START, COL_END, COL_KEY, COL_START_TIME, COL_COUNT };
static const char *const col_names[COL_COUNT] = {"path", "start_s", "end_s", "key", "start_time"};

typedef struct {
    const char *text;
    size_t len, pos;
    int line;        /* current line (1-based) */
    const char *name;
    char *fields[MAX_FIELDS];
    size_t flen[MAX_FIELDS];
    int nf;
    char *buf;       /* one field being read */
    size_t blen, bcap;
} csv;

static void free_fields(csv *c) {
    for (int i = 0; i < c->nf; i++) free(c->fields[i]);
    c->nf = 0;
}

static bl_status put_char(csv *c, char ch) {
    BL_RETURN_IF(c->blen + 1 >= FIELD_MAX, BL_ERR_FORMAT, "%s:%d: field longer than %d bytes", c->name,
                 c->line, FIELD_MAX);
    if (c->blen + 1 >= c->bcap) {
        size_t cap = c->bcap ? c->bcap * 2 : 256;
        char *b = realloc(c->buf, cap);
        BL_CHECK_ALLOC(b);
        c->buf = b;
        c->bcap = cap;
    }
    c->buf[c->blen++] = ch;
    return BL_OK;
}

static bl_status end_field(csv *c) {
    BL_RETURN_IF(c->nf >= MAX_FIELDS, BL_ERR_FORMAT, "%s:%d: more than %d fields", c->name, c->line,
                 MAX_FIELDS);
    char *f = malloc(c->blen + 1);
    BL_CHECK_ALLOC(f);
    if (c->blen) memcpy(f, c->buf, c->blen);
    f[c->blen] = '\0';
    c->fields[c->nf] = f;
    c->flen[c->nf] = c->blen;
    c->nf++;
    c->blen = 0;
    return BL_OK;
}

/* Read one record into c->fields. *got = 0 at the end of the text. *start_line receives the
 * line on which the record begins. */
static bl_status read_record(csv *c, int *got, int *start_line) {
    free_fields(c);
    *got = 0;
    if (c->pos >= c->len) return BL_OK;
    *start_line = c->line;
    bool quoted = false, was_quoted = false;
    c->blen = 0;
    while (c->pos < c->len) {
        char ch = c->text[c->pos++];
        BL_RETURN_IF(ch == '\0', BL_ERR_FORMAT, "%s:%d: NUL byte (this is not a text CSV file)", c->name,
                     c->line);
        if (quoted) {
            if (ch == '"') {
                if (c->pos < c->len && c->text[c->pos] == '"') {
                    c->pos++;
                    BL_TRY(put_char(c, '"'));
                } else {
                    quoted = false;
                    /* Only a separator or the end of the line may follow a closing quote. */
                    char nx = c->pos < c->len ? c->text[c->pos] : '\n';
                    BL_RETURN_IF(nx != ',' && nx != '\n' && nx != '\r', BL_ERR_FORMAT,
                                 "%s:%d: field %d: text after a closing quote (a quote inside a "
                                 "quoted field is written \"\")",
                                 c->name, c->line, c->nf + 1);
                }
            } else {
                if (ch == '\n' || (ch == '\r' && !(c->pos < c->len && c->text[c->pos] == '\n'))) c->line++;
                BL_TRY(put_char(c, ch));
            }
            continue;
        }
        if (ch == '"') {
            BL_RETURN_IF(c->blen != 0 || was_quoted, BL_ERR_FORMAT,
                         "%s:%d: field %d: quote inside an unquoted field (quote the whole field and "
                         "write a quote as \"\")",
                         c->name, c->line, c->nf + 1);
            quoted = was_quoted = true;
        } else if (ch == ',') {
            BL_TRY(end_field(c));
            was_quoted = false;
        } else if (ch == '\n' || ch == '\r') {
            if (ch == '\r' && c->pos < c->len && c->text[c->pos] == '\n') c->pos++;
            c->line++;
            break;
        } else {
            BL_TRY(put_char(c, ch));
        }
    }
    BL_RETURN_IF(quoted, BL_ERR_FORMAT, "%s:%d: quoted field %d is never closed", c->name, *start_line,
                 c->nf + 1);
    BL_TRY(end_field(c));
    *got = 1;
    return BL_OK;
}

/* Copy of f without surrounding white space. */
static char *trimmed(const char *f) {
    while (*f && isspace((unsigned char)*f)) f++;
    size_t n = strlen(f);
    while (n && isspace((unsigned char)f[n - 1])) n--;
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, f, n);
        r[n] = '\0';
    }
    return r;
}

/* Seconds (finite, >= 0) or ISO-8601 UTC. */
static bool valid_time_spec(const char *s) {
    if (!*s) return false;
    if ((*s >= '0' && *s <= '9') || *s == '.') {
        char *end;
        double v = strtod(s, &end);
        if (*end == '\0' && isfinite(v) && v >= 0 && !strpbrk(s, "xXnNpP")) return true;
    }
    int64_t ms;
    return bl_time_parse_iso(s, &ms) == BL_OK;
}

static bool blank_record(const csv *c) { return c->nf == 1 && c->flen[0] == 0; }

void bl_source_manifest_free(bl_source_manifest *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->rows[i].path);
        free(m->rows[i].key);
        free(m->rows[i].start);
        free(m->rows[i].end);
        free(m->rows[i].start_time);
    }
    free(m->rows);
    m->rows = NULL;
    m->n = 0;
}

static bl_status parse_body(csv *c, bl_source_manifest *m) {
    int got = 0, line = 1;
    /* Header: the first non-blank record. */
    do {
        BL_TRY(read_record(c, &got, &line));
    } while (got && blank_record(c));
    BL_RETURN_IF(!got, BL_ERR_FORMAT, "%s: empty manifest; expected a header line such as "
                 "path,start_s,end_s,key", c->name);
    int col_of[MAX_FIELDS];
    int ncols = c->nf;
    bool seen[COL_COUNT] = {false};
    for (int i = 0; i < c->nf; i++) {
        char *h = trimmed(c->fields[i]);
        BL_CHECK_ALLOC(h);
        int k = -1;
        for (int j = 0; j < COL_COUNT; j++)
            if (!strcmp(h, col_names[j])) k = j;
        if (k < 0) {
            bl_status s = BL_ERROR(BL_ERR_FORMAT,
                                   "%s:%d: unknown column \"%.80s\" in the header; expected path and "
                                   "optionally start_s, end_s, key, start_time (the first line must "
                                   "name the columns)",
                                   c->name, line, h);
            free(h);
            return s;
        }
        free(h);
        BL_RETURN_IF(seen[k], BL_ERR_FORMAT, "%s:%d: column %s appears twice", c->name, line, col_names[k]);
        seen[k] = true;
        col_of[i] = k;
    }
    BL_RETURN_IF(!seen[COL_PATH], BL_ERR_FORMAT, "%s:%d: the header has no path column", c->name, line);

    size_t cap = 0;
    for (;;) {
        BL_TRY(read_record(c, &got, &line));
        if (!got) break;
        if (blank_record(c)) continue;
        BL_RETURN_IF(c->nf > ncols, BL_ERR_FORMAT, "%s:%d: %d fields, but the header names only %d", c->name,
                     line, c->nf, ncols);
        if (m->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            bl_source_manifest_row *r = realloc(m->rows, nc * sizeof *r);
            BL_CHECK_ALLOC(r);
            m->rows = r;
            cap = nc;
        }
        bl_source_manifest_row *r = &m->rows[m->n++];
        memset(r, 0, sizeof *r);
        r->line = line;
        for (int i = 0; i < c->nf; i++) {
            int k = col_of[i];
            if (k == COL_PATH || k == COL_KEY) {
                if (c->flen[i] == 0) continue;
                BL_RETURN_IF(strlen(c->fields[i]) != c->flen[i], BL_ERR_FORMAT, "%s:%d: NUL byte in %s",
                             c->name, line, col_names[k]);
                char **dst = k == COL_PATH ? &r->path : &r->key;
                *dst = c->fields[i];
                c->fields[i] = NULL; /* taken */
                continue;
            }
            char *v = trimmed(c->fields[i]);
            BL_CHECK_ALLOC(v);
            if (!*v) {
                free(v);
                continue;
            }
            bool ok = k == COL_START_TIME ? bl_time_parse_iso(v, &(int64_t){0}) == BL_OK : valid_time_spec(v);
            if (!ok) {
                bl_status s = BL_ERROR(BL_ERR_FORMAT,
                                       "%s:%d: %s \"%.64s\": expected %s", c->name, line, col_names[k], v,
                                       k == COL_START_TIME
                                           ? "ISO-8601 UTC such as 2018-11-01T00:00:00Z"
                                           : "seconds from the file's start (e.g. 3600) or ISO-8601 UTC");
                free(v);
                return s;
            }
            char **dst = k == COL_START ? &r->start : k == COL_END ? &r->end : &r->start_time;
            *dst = v;
        }
        BL_RETURN_IF(!r->path, BL_ERR_FORMAT, "%s:%d: empty path", c->name, line);
    }
    return BL_OK;
}

bl_status bl_source_manifest_parse(const char *text, size_t len, const char *name, bl_source_manifest *out) {
    BL_RETURN_IF(!out || (len && !text), BL_ERR_INVALID_ARG, "bl_source_manifest_parse: NULL argument");
    out->rows = NULL;
    out->n = 0;
    csv c;
    memset(&c, 0, sizeof c);
    c.text = text;
    c.len = len;
    c.line = 1;
    c.name = name ? name : "manifest";
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        c.pos = 3;
    bl_status s = parse_body(&c, out);
    free_fields(&c);
    free(c.buf);
    if (s != BL_OK) bl_source_manifest_free(out);
    return s;
}
