/* export.c — `baleen export` (see export.h): manifest → verified chunks → records → CSV,
 * JSON lines or Raven selection tables, combined or one file per source.
 *
 * Records are split from the decompressed stream by a small RFC 4180 state machine (a quoted
 * field may hold newlines), so memory is one record plus one chunk file.
 * Threading: one call, one thread; no shared state.
 */
#include "export.h"

#include <dirent.h>   /* emptying the staging folder */
#include <errno.h>    /* errno */
#include <math.h>     /* isfinite */
#include <stdio.h>    /* FILE, fopen, rename */
#include <stdlib.h>   /* malloc, strtod, mkdtemp */
#include <string.h>   /* strcmp */
#include <sys/stat.h> /* mkdir, lstat */
#include <unistd.h>   /* unlink, link, rmdir, dup */

#include "io/durable.h"  /* bl_durable_fsync_dir after the per-source files are placed */
#include "io/json.h"     /* run.json reader, bl_strbuf, JSON escaping */
#include "io/outfile.h"  /* the combined output: temporary + rename, or stdout / a device */
#include "io/outnames.h" /* per-source file names: <input index>_<stem> */
#include "strmap.h"      /* source key -> its state, and -> its index in run.json */
#include "io/manifest.h" /* bl_manifest_load */
#include "io/zchunk.h"   /* bl_zchunk_read: verified decompression */
#include "log.h"         /* warnings (incomplete run) */

#define MAX_COLS 4096

typedef struct {
    char *name;           /* the source key */
    char *file;           /* its file name in the output folder */
    long long selections; /* raven: last Selection number written for this source */
    bool created;
} src_state;

typedef struct {
    const bl_export_opts *o;
    const char *chunk;       /* path of the chunk being read, for messages */
    bl_strbuf rec;           /* the current record's raw text */
    bool in_quotes, after_cr;
    long long rec_in_chunk;  /* records seen in this chunk (header included) */
    const char *header;      /* manifest header line */
    /* parsed header */
    char **cols;
    int n_cols;
    int c_source, c_channel, c_class, c_start, c_end, c_peak, c_mean, c_start_utc, c_end_utc, c_clip;
    /* fields of the current record */
    char **fields;
    int n_fields;
    bl_strbuf fbuf;
    double low_hz, high_hz;
    /* outputs */
    bl_outfile *combined;    /* the one output file (not per-source) */
    FILE *cf;                /* buffered writer on it */
    char *stage;             /* per-source: the hidden staging folder inside o->out */
    FILE *cur;               /* per-source: the open file of the current source */
    size_t cur_src;          /* its index in srcs (valid while cur) */
    src_state *srcs;
    size_t n_srcs, cap_srcs;
    bl_strmap src_of;        /* source key -> index in srcs */
    bl_strmap input_of;      /* source key -> its index in run.json "inputs" (names the files) */
    long long rows, selections;
    bool wrote_header;
} exporter;

bl_status bl_export_parse_format(const char *s, bl_export_format *f) {
    if (!strcmp(s, "csv")) *f = BL_EXPORT_CSV;
    else if (!strcmp(s, "jsonl")) *f = BL_EXPORT_JSONL;
    else if (!strcmp(s, "raven")) *f = BL_EXPORT_RAVEN;
    else return BL_ERROR(BL_ERR_USAGE, "unknown format '%s' (csv, jsonl or raven)", s);
    return BL_OK;
}

/* ---- per-source files ----------------------------------------------------------------- */

/* Per-source files are written into a hidden staging folder inside the output folder and
 * moved to their names only when every chunk has been read and verified: all or nothing.
 * A name that is taken by a file baleen did not write stops the export before anything is
 * moved, unless --overwrite. */
static bl_status stage_open(exporter *ex) {
    if (mkdir(ex->o->out, 0755) != 0 && errno != EEXIST)
        return BL_ERROR(BL_ERR_IO, "cannot create folder %s: %s", ex->o->out, strerror(errno));
    size_t n = strlen(ex->o->out) + 32;
    ex->stage = malloc(n);
    BL_CHECK_ALLOC(ex->stage);
    snprintf(ex->stage, n, "%s/.baleen-export-XXXXXX", ex->o->out);
    if (!mkdtemp(ex->stage)) {
        bl_status s = BL_ERROR(BL_ERR_IO, "cannot create a folder in %s: %s", ex->o->out, strerror(errno));
        free(ex->stage);
        ex->stage = NULL;
        return s;
    }
    return BL_OK;
}

static char *join2(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* Remove the staging folder and what is left in it. */
static void stage_remove(exporter *ex) {
    if (!ex->stage) return;
    DIR *d = opendir(ex->stage);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char *p = join2(ex->stage, e->d_name);
                if (p) unlink(p);
                free(p);
            }
        closedir(d);
    }
    rmdir(ex->stage);
    free(ex->stage);
    ex->stage = NULL;
}

/* Move every staged file to its name: first check that none is taken (unless overwrite),
 * then move them. */
static bl_status stage_commit(exporter *ex) {
    bl_status s = BL_OK;
    for (size_t i = 0; i < ex->n_srcs && s == BL_OK && !ex->o->overwrite; i++) {
        if (!ex->srcs[i].created) continue;
        char *dst = join2(ex->o->out, ex->srcs[i].file);
        struct stat sb;
        if (!dst) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
        else if (lstat(dst, &sb) == 0)
            s = BL_ERROR(BL_ERR_EXISTS, "%s already exists; nothing was written (give --overwrite to replace the "
                         "files of an earlier export, or choose another -o)", dst);
        free(dst);
    }
    for (size_t i = 0; i < ex->n_srcs && s == BL_OK; i++) {
        if (!ex->srcs[i].created) continue;
        char *src = join2(ex->stage, ex->srcs[i].file), *dst = join2(ex->o->out, ex->srcs[i].file);
        if (!src || !dst) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
        else if (ex->o->overwrite ? rename(src, dst) != 0 : link(src, dst) != 0)
            s = errno == EEXIST ? BL_ERROR(BL_ERR_EXISTS, "%s appeared while exporting; it was left as it is", dst)
                                : BL_ERROR(BL_ERR_IO, "cannot move %s to %s: %s", src, dst, strerror(errno));
        free(src);
        free(dst);
    }
    if (s == BL_OK) s = bl_durable_fsync_dir(ex->stage); /* the output folder */
    return s;
}

/* Close the current per-source file. */
static bl_status cur_close(exporter *ex) {
    if (!ex->cur) return BL_OK;
    bool err = ferror(ex->cur) != 0;
    bl_status s = BL_OK;
    if (fclose(ex->cur) != 0 || err)
        s = BL_ERROR(errno == ENOSPC ? BL_ERR_NO_SPACE : BL_ERR_IO, "writing %s/%s failed: %s", ex->o->out,
                     ex->srcs[ex->cur_src].file, strerror(errno));
    ex->cur = NULL;
    return s;
}

/* ---- records --------------------------------------------------------------------------- */

/* Split a raw record into unquoted fields (ex->fields). */
static bl_status split_fields(exporter *ex, const char *r, size_t len) {
    ex->fbuf.len = 0;
    size_t offs[MAX_COLS];
    int n = 0;
    size_t i = 0;
    for (;;) {
        if (n == MAX_COLS) return BL_ERROR(BL_ERR_FORMAT, "%s: a record has more than %d fields", ex->chunk, MAX_COLS);
        offs[n++] = ex->fbuf.len;
        if (i < len && r[i] == '"') {
            i++;
            for (;;) {
                if (i >= len) return BL_ERROR(BL_ERR_FORMAT, "%s: unterminated quoted field", ex->chunk);
                if (r[i] == '"') {
                    if (i + 1 < len && r[i + 1] == '"') { bl_strbuf_append(&ex->fbuf, "\"", 1); i += 2; continue; }
                    i++;
                    break;
                }
                bl_strbuf_append(&ex->fbuf, &r[i++], 1);
            }
            if (i < len && r[i] != ',') return BL_ERROR(BL_ERR_FORMAT, "%s: text after a closing quote", ex->chunk);
        } else {
            size_t b = i;
            while (i < len && r[i] != ',') {
                if (r[i] == '"') return BL_ERROR(BL_ERR_FORMAT, "%s: quote inside an unquoted field", ex->chunk);
                i++;
            }
            bl_strbuf_append(&ex->fbuf, r + b, i - b);
        }
        bl_strbuf_append(&ex->fbuf, "", 1); /* NUL separator */
        if (i >= len) break;
        i++; /* comma */
    }
    BL_RETURN_IF(ex->fbuf.oom, BL_ERR_NOMEM, "out of memory splitting a record");
    free(ex->fields);
    ex->fields = malloc((size_t)n * sizeof *ex->fields);
    BL_CHECK_ALLOC(ex->fields);
    for (int k = 0; k < n; k++) ex->fields[k] = ex->fbuf.data + offs[k];
    ex->n_fields = n;
    return BL_OK;
}

static int col_index(const exporter *ex, const char *name) {
    for (int i = 0; i < ex->n_cols; i++)
        if (!strcmp(ex->cols[i], name)) return i;
    return -1;
}

static bl_status parse_header(exporter *ex) {
    BL_TRY(split_fields(ex, ex->header, strlen(ex->header)));
    ex->cols = calloc((size_t)ex->n_fields, sizeof *ex->cols);
    BL_CHECK_ALLOC(ex->cols);
    ex->n_cols = ex->n_fields;
    for (int i = 0; i < ex->n_cols; i++) {
        ex->cols[i] = strdup(ex->fields[i]);
        BL_CHECK_ALLOC(ex->cols[i]);
    }
    ex->c_source = col_index(ex, "source");
    ex->c_channel = col_index(ex, "channel");
    ex->c_class = col_index(ex, "class");
    ex->c_start = col_index(ex, "start_s");
    ex->c_end = col_index(ex, "end_s");
    ex->c_peak = col_index(ex, "peak");
    ex->c_mean = col_index(ex, "mean");
    ex->c_start_utc = col_index(ex, "start_utc");
    ex->c_end_utc = col_index(ex, "end_utc");
    ex->c_clip = col_index(ex, "clip");
    if (ex->o->format == BL_EXPORT_RAVEN) {
        static const char *need[] = {"source", "channel", "class", "start_s", "end_s", "peak", "mean"};
        for (size_t i = 0; i < sizeof need / sizeof *need; i++)
            BL_RETURN_IF(col_index(ex, need[i]) < 0, BL_ERR_FORMAT,
                         "the events table of %s has no '%s' column (header: %s); cannot write Raven tables",
                         ex->o->dir, need[i], ex->header);
    }
    if (ex->o->per_source)
        BL_RETURN_IF(ex->c_source < 0, BL_ERR_FORMAT, "the %s table has no 'source' column; --per-source needs it",
                     bl_table_name(ex->o->table));
    return BL_OK;
}

static bool is_json_number(const char *s) {
    const char *p = s;
    if (*p == '-') p++;
    if (*p < '0' || *p > '9') return false;
    if (*p == '0') p++;
    else while (*p >= '0' && *p <= '9') p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return false;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (*p < '0' || *p > '9') return false;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == '\0';
}

static const char *field(const exporter *ex, int c) { return c >= 0 && c < ex->n_fields ? ex->fields[c] : ""; }

/* The state of source `src` (new ones get their file name: <input index>_<stem>). */
static bl_status source_state(exporter *ex, const char *src, size_t *idx) {
    int64_t v;
    if (bl_strmap_get(&ex->src_of, src, &v)) {
        *idx = (size_t)v;
        return BL_OK;
    }
    if (ex->n_srcs == ex->cap_srcs) {
        size_t nc = ex->cap_srcs ? 2 * ex->cap_srcs : 64;
        src_state *n = realloc(ex->srcs, nc * sizeof *n);
        BL_CHECK_ALLOC(n);
        ex->srcs = n;
        ex->cap_srcs = nc;
    }
    /* the index in run.json's inputs; a source it does not list (no run.json) counts on
     * after them, so two sources never get the same number */
    int64_t index;
    if (!bl_strmap_get(&ex->input_of, src, &index)) index = (int64_t)(ex->input_of.n + ex->n_srcs);
    char *stem = bl_outname_source(index, src);
    BL_CHECK_ALLOC(stem);
    static const char *ext[] = {"csv", "jsonl"};
    size_t n = strlen(stem) + 64;
    char *file = malloc(n);
    if (file) {
        if (ex->o->format == BL_EXPORT_RAVEN) snprintf(file, n, "%s.selections.txt", stem);
        else snprintf(file, n, "%s.%s.%s", stem, bl_table_name(ex->o->table), ext[ex->o->format]);
    }
    free(stem);
    BL_CHECK_ALLOC(file);
    ex->srcs[ex->n_srcs] = (src_state){strdup(src), file, 0, false};
    BL_CHECK_ALLOC(ex->srcs[ex->n_srcs].name);
    BL_TRY(bl_strmap_put(&ex->src_of, src, (int64_t)ex->n_srcs));
    *idx = ex->n_srcs++;
    return BL_OK;
}

/* The file this record goes to (per-source: switch files when the source changes). */
static bl_status target(exporter *ex, FILE **f, src_state **st) {
    *st = NULL;
    if (!ex->o->per_source) {
        *f = ex->cf;
        return BL_OK;
    }
    const char *src = field(ex, ex->c_source);
    if (!ex->cur || strcmp(ex->srcs[ex->cur_src].name, src) != 0) {
        BL_TRY(cur_close(ex));
        size_t i = 0;
        BL_TRY(source_state(ex, src, &i));
        char *path = join2(ex->stage, ex->srcs[i].file);
        BL_CHECK_ALLOC(path);
        /* rows of a source usually come together (plan order), but channels or retried
         * items may interleave: append to the file this export already started */
        ex->cur = fopen(path, ex->srcs[i].created ? "a" : "w");
        bl_status s = ex->cur ? BL_OK : BL_ERROR(BL_ERR_IO, "cannot create %s: %s", path, strerror(errno));
        free(path);
        BL_TRY(s);
        ex->cur_src = i;
    }
    *st = &ex->srcs[ex->cur_src];
    *f = ex->cur;
    return BL_OK;
}

static void raven_header(exporter *ex, FILE *f) {
    fputs("Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)", f);
    if (!ex->o->per_source) fputs("\tBegin File", f);
    fputs("\tClass\tPeak Score\tMean Score\tSource", f);
    if (ex->c_start_utc >= 0) fputs("\tBegin UTC", f);
    if (ex->c_end_utc >= 0) fputs("\tEnd UTC", f);
    if (ex->c_clip >= 0) fputs("\tClip", f);
    fputc('\n', f);
}

/* Raven cells are tab-separated: tabs and newlines inside values become spaces. */
static void raven_cell(FILE *f, const char *s) {
    fputc('\t', f);
    for (; *s; s++) fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static bl_status emit(exporter *ex, const char *raw, size_t len) {
    if (ex->o->format != BL_EXPORT_CSV || ex->o->per_source) BL_TRY(split_fields(ex, raw, len));
    FILE *f = NULL;
    src_state *st = NULL;
    BL_TRY(target(ex, &f, &st));
    bool first = st ? !st->created : !ex->wrote_header;
    if (st) st->created = true;
    ex->wrote_header = true;
    ex->rows++;
    if (ex->o->format == BL_EXPORT_CSV) {
        if (first) fprintf(f, "%s\n", ex->header);
        fwrite(raw, 1, len, f);
        fputc('\n', f);
    } else if (ex->o->format == BL_EXPORT_JSONL) {
        bl_strbuf b = {0};
        bl_strbuf_append(&b, "{", 1);
        for (int i = 0; i < ex->n_cols; i++) {
            if (i) bl_strbuf_append(&b, ", ", 2);
            bl_strbuf_json_string(&b, ex->cols[i]);
            bl_strbuf_append(&b, ": ", 2);
            const char *v = field(ex, i);
            if (!*v) bl_strbuf_puts(&b, "null");
            else if (is_json_number(v)) bl_strbuf_puts(&b, v);
            else bl_strbuf_json_string(&b, v);
        }
        bl_strbuf_append(&b, "}\n", 2);
        if (b.oom) {
            bl_strbuf_free(&b);
            return BL_ERROR(BL_ERR_NOMEM, "out of memory");
        }
        fwrite(b.data, 1, b.len, f);
        bl_strbuf_free(&b);
    } else {
        if (first) raven_header(ex, f);
        long long sel = st ? ++st->selections : ++ex->selections;
        char *end;
        long ch = strtol(field(ex, ex->c_channel), &end, 10);
        BL_RETURN_IF(*end || end == field(ex, ex->c_channel) || ch < 0, BL_ERR_FORMAT,
                     "%s: channel '%s' is not a number (record %lld)", ex->chunk, field(ex, ex->c_channel),
                     ex->rec_in_chunk);
        fprintf(f, "%lld\tSpectrogram 1\t%ld\t%s\t%s\t%.10g\t%.10g", sel, ch + 1, field(ex, ex->c_start),
                field(ex, ex->c_end), ex->low_hz, ex->high_hz);
        if (!ex->o->per_source) {
            const char *src = field(ex, ex->c_source), *slash = strrchr(src, '/');
            raven_cell(f, slash ? slash + 1 : src);
        }
        raven_cell(f, field(ex, ex->c_class));
        raven_cell(f, field(ex, ex->c_peak));
        raven_cell(f, field(ex, ex->c_mean));
        raven_cell(f, field(ex, ex->c_source));
        if (ex->c_start_utc >= 0) raven_cell(f, field(ex, ex->c_start_utc));
        if (ex->c_end_utc >= 0) raven_cell(f, field(ex, ex->c_end_utc));
        if (ex->c_clip >= 0) raven_cell(f, field(ex, ex->c_clip));
        fputc('\n', f);
    }
    BL_RETURN_IF(ferror(f), BL_ERR_IO, "writing the export failed: %s", strerror(errno));
    return BL_OK;
}

static bl_status record_done(exporter *ex) {
    size_t len = ex->rec.len;
    const char *r = ex->rec.data ? ex->rec.data : "";
    ex->rec_in_chunk++;
    bl_status s = BL_OK;
    if (ex->rec_in_chunk == 1) { /* every chunk starts with the header line */
        if (len != strlen(ex->header) || memcmp(r, ex->header, len) != 0)
            s = BL_ERROR(BL_ERR_FORMAT, "chunk %s does not start with the table's header line", ex->chunk);
    } else {
        s = emit(ex, r, len);
    }
    ex->rec.len = 0;
    return s;
}

static bl_status sink(void *user, const char *data, size_t len) {
    exporter *ex = user;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c == '"') ex->in_quotes = !ex->in_quotes; /* "" toggles twice: still right */
        if (c == '\n' && !ex->in_quotes) {
            if (ex->rec.len && ex->rec.data[ex->rec.len - 1] == '\r') ex->rec.len--;
            BL_TRY(record_done(ex));
            continue;
        }
        bl_strbuf_append(&ex->rec, &c, 1);
    }
    BL_RETURN_IF(ex->rec.oom, BL_ERR_NOMEM, "out of memory reading %s", ex->chunk);
    return BL_OK;
}

/* From run.json: Low/High Freq for Raven (the effective front end) and each source's index in
 * the plan ("inputs", which names per-source files). A missing or unreadable run.json costs
 * only these: a warning, zero frequencies, files numbered in order of appearance. */
static bl_status load_run_info(exporter *ex) {
    ex->low_hz = 0;
    ex->high_hz = 0;
    bool raven = ex->o->format == BL_EXPORT_RAVEN;
    char *path = join2(ex->o->dir, "run.json");
    BL_CHECK_ALLOC(path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        BL_LOG_W("export: %s not found%s", path, raven ? "; Low/High Freq set to 0" : "");
        free(path);
        return BL_OK;
    }
    bl_strbuf b = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) bl_strbuf_append(&b, buf, n);
    fclose(f);
    bl_json *j = NULL;
    if (b.oom || bl_json_parse(b.data ? b.data : "", b.len, path, &j) != BL_OK) {
        BL_LOG_W("export: cannot read %s (%s)%s", path, bl_error_message(), raven ? "; Low/High Freq set to 0" : "");
        bl_strbuf_free(&b);
        free(path);
        return BL_OK;
    }
    bl_strbuf_free(&b);
    bl_status s = BL_OK;
    const bl_json *inputs = bl_json_get(j, "inputs");
    for (size_t i = 0; inputs && inputs->type == BL_JSON_ARRAY && i < inputs->n_items && s == BL_OK; i++) {
        const bl_json *k = bl_json_get(inputs->items[i], "key");
        if (k && k->type == BL_JSON_STRING && !bl_strmap_get(&ex->input_of, k->string, NULL))
            s = bl_strmap_put(&ex->input_of, k->string, (int64_t)i);
    }
    if (raven) {
        const bl_json *fe = bl_json_find(j, "frontend");
        const bl_json *fmin = bl_json_get(fe, "fmin"), *fmax = bl_json_get(fe, "fmax");
        const bl_json *sr = bl_json_get(fe, "sample_rate");
        if (!sr || sr->type != BL_JSON_NUMBER) sr = bl_json_find(j, "sample_rate");
        double rate = sr && sr->type == BL_JSON_NUMBER ? sr->number : 0;
        if (fmin && fmin->type == BL_JSON_NUMBER && isfinite(fmin->number)) ex->low_hz = fmin->number;
        ex->high_hz = fmax && fmax->type == BL_JSON_NUMBER && fmax->number > 0 ? fmax->number : rate / 2;
        if (ex->high_hz <= 0) BL_LOG_W("export: no sample rate or fmax in %s; High Freq set to 0", path);
    }
    bl_json_free(j);
    free(path);
    return s;
}

/* A chunk must be a regular file inside the output folder: a symlink (to anything) is
 * refused, so that an output cannot be made to read — and hash — another file. */
static bl_status check_chunk_file(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return BL_ERROR(errno == ENOENT ? BL_ERR_NOT_FOUND : BL_ERR_IO, "chunk %s: %s", path, strerror(errno));
    BL_RETURN_IF(!S_ISREG(sb.st_mode), BL_ERR_FORMAT,
                 "chunk %s is %s, not a file baleen wrote; the output folder was changed by hand", path,
                 S_ISLNK(sb.st_mode) ? "a symbolic link" : "not a regular file");
    return BL_OK;
}

bl_status bl_export_run(const bl_export_opts *o, long long *n_rows) {
    exporter ex = {.o = o};
    char *path = join2(o->dir, "manifest.json");
    BL_CHECK_ALLOC(path);
    bl_manifest m;
    bl_status s = bl_manifest_load(path, &m);
    free(path);
    path = NULL;
    if (s == BL_ERR_NOT_FOUND)
        return BL_ERROR(BL_ERR_NOT_FOUND, "%s is not a baleen output directory (no manifest.json)", o->dir);
    BL_TRY(s);
    const bl_manifest_table *t = &m.tables[o->table];
    if (o->format == BL_EXPORT_RAVEN && o->table != BL_TABLE_EVENTS)
        s = BL_ERROR(BL_ERR_USAGE, "--format raven writes the events table only (got --table %s)", bl_table_name(o->table));
    else if (!t->header)
        s = BL_ERROR(BL_ERR_NOT_FOUND, "%s has no %s table%s", o->dir, bl_table_name(o->table),
                     o->table == BL_TABLE_WINDOW_SCORES ? " (the run had persist.window_scores off)" : "");
    else if (o->per_source && (!o->out || !strcmp(o->out, "-")))
        s = BL_ERROR(BL_ERR_USAGE, "--per-source needs -o FOLDER");
    if (s == BL_OK && !m.complete)
        BL_LOG_W("export: the run in %s did not finish (manifest.json is not complete); exporting the %zu "
                 "chunk(s) written so far", o->dir, t->n_chunks);
    if (s == BL_OK) {
        ex.header = t->header;
        s = parse_header(&ex);
    }
    if (s == BL_OK && (o->format == BL_EXPORT_RAVEN || o->per_source)) s = load_run_info(&ex);
    if (s == BL_OK && o->per_source) s = stage_open(&ex);
    if (s == BL_OK && !o->per_source) {
        s = bl_outfile_open(o->out ? o->out : "-", 0, &ex.combined);
        int fd = s == BL_OK ? dup(bl_outfile_fd(ex.combined)) : -1;
        if (s == BL_OK && (fd < 0 || !(ex.cf = fdopen(fd, "w")))) {
            s = BL_ERROR(BL_ERR_IO, "cannot write %s: %s", bl_outfile_name(ex.combined), strerror(errno));
            if (fd >= 0) close(fd);
        }
    }
    for (size_t i = 0; i < t->n_chunks && s == BL_OK; i++) {
        free(path);
        path = join2(o->dir, t->chunks[i].path);
        if (!path) {
            s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
            break;
        }
        ex.chunk = path;
        ex.rec_in_chunk = 0;
        ex.in_quotes = false;
        ex.rec.len = 0;
        long long before = ex.rows;
        s = check_chunk_file(path);
        if (s == BL_OK) s = bl_zchunk_read(path, t->chunks[i].sha256, sink, &ex, NULL);
        if (s == BL_OK && ex.rec.len) s = BL_ERROR(BL_ERR_FORMAT, "chunk %s ends inside a record", path);
        if (s == BL_OK && ex.rows - before != t->chunks[i].rows)
            s = BL_ERROR(BL_ERR_FORMAT, "chunk %s holds %lld rows but manifest.json lists %lld", path,
                         ex.rows - before, (long long)t->chunks[i].rows);
    }
    free(path);
    /* a table without rows still gets its header (csv) */
    if (s == BL_OK && !ex.wrote_header && !o->per_source) {
        if (o->format == BL_EXPORT_CSV) fprintf(ex.cf, "%s\n", ex.header);
        else if (o->format == BL_EXPORT_RAVEN) raven_header(&ex, ex.cf);
    }
    if (ex.cf) {
        bool err = ferror(ex.cf) != 0;
        if ((fclose(ex.cf) != 0 || err) && s == BL_OK)
            s = BL_ERROR(errno == ENOSPC ? BL_ERR_NO_SPACE : BL_ERR_IO, "writing %s failed: %s",
                         bl_outfile_name(ex.combined), strerror(errno));
    }
    if (ex.combined) {
        if (s == BL_OK) s = bl_outfile_commit(ex.combined);
        else bl_outfile_discard(ex.combined);
    }
    bl_status cs = cur_close(&ex);
    if (s == BL_OK) s = cs;
    if (s == BL_OK && ex.stage) s = stage_commit(&ex);
    stage_remove(&ex);
    if (n_rows) *n_rows = ex.rows;
    for (int i = 0; i < ex.n_cols; i++) free(ex.cols[i]);
    free(ex.cols);
    free(ex.fields);
    for (size_t i = 0; i < ex.n_srcs; i++) free(ex.srcs[i].name), free(ex.srcs[i].file);
    free(ex.srcs);
    bl_strmap_free(&ex.src_of);
    bl_strmap_free(&ex.input_of);
    bl_strbuf_free(&ex.rec);
    bl_strbuf_free(&ex.fbuf);
    bl_manifest_free(&m);
    return s;
}
