/* outputs.c — the output directory of a run: ordering of committed items, chunk cuts, the
 * checkpoint (carry files + journal), manifest replacement, errors.csv, run.json, resume.
 * Protocol and layout: outputs.h; file formats: docs/output-format.md.
 *
 * Owns: the bl_outdir (lock fd, journal fd, per-table row buffers, the manifest in memory,
 * per-item states, items that arrived early, failure records).
 *
 * Why carry files. Tables cut chunks independently (segments fill a chunk much sooner than
 * events), so when an item is committed some of its rows may sit in a table's buffer for a
 * long time. To make every committed item durable — and the resume point the last committed
 * item, not the last chunk cut — the buffered rows of each table are appended to
 * checkpoint/carry-<table>-<NNNNN>.csv (NNNNN = the chunk they will go into) and fsynced
 * before the item's journal line. A journal line records, for every table, the next chunk
 * number and the carry length, so --resume restores the buffers exactly and later chunks
 * come out byte-identical.
 *
 * Order of writes for one item (a crash between any two leaves a resumable state):
 *   1. chunks of tables that reached rows_per_chunk: temp, fsync, rename, fsync folder
 *   2. other tables: append the item's rows to their carry file, fsync
 *   3. journal line, fsync
 *   4. if a chunk was cut: manifest.json replaced (temp, fsync, rename, fsync folder), then
 *      carry files of finished chunks deleted
 * On resume the last journal line whose chunk numbers equal the manifest's chunk counts is the
 * state; later lines, unlisted chunks, temp files and extra carry bytes are dropped.
 *
 * Threading: one writer thread owns a bl_outdir (outputs.h).
 */
#include "outputs.h"

#include <dirent.h>    /* readdir for stale chunk / carry cleanup */
#include <errno.h>     /* errno */
#include <fcntl.h>     /* open */
#include <signal.h>    /* kill for the crash-point fault injection */
#include <stdlib.h>    /* malloc, getenv */
#include <string.h>    /* memcpy, strcmp */
#include <sys/stat.h>  /* mkdir, stat */
#include <unistd.h>    /* close, unlink, ftruncate, pwrite */

#include "../core/infile.h" /* files read back on --resume: regular files only, size checked */
#include "../core/log.h"    /* resume summary line */
#include "durable.h"     /* bl_durable_* writes, bl_write_guard */
#include "journal.h"     /* journal lines, fingerprint diff, lock */
#include "json.h"        /* bl_strbuf */
#include "manifest.h"    /* bl_manifest */
#include "zchunk.h"      /* bl_zchunk_write */

enum { ST_PREV_OK = 1, ST_PREV_FAILED = 2, ST_APPENDED = 4, ST_OK = 8, ST_FAILED = 16 };

typedef struct {
    bool used;
    bl_strbuf rows;      /* rows since the last cut; the first carry_len bytes are on disk */
    int64_t n_rows;
    int64_t next_chunk;
    int64_t carry_len;
    int64_t first_item, last_item; /* items appended since the last cut (-1: none) */
    bl_manifest_span *spans;
    size_t n_spans, cap_spans;
} table_state;

typedef struct {
    int64_t item;
    char *source, *stage, *status, *message;
    int channel;
} failure;

/* Failures or warnings, at most one per item, indexed by item: set and removed in O(1)
 * whatever order items come in (retried items come back out of order), written in plan
 * order. */
typedef struct {
    failure **by_item; /* [cap], NULL where the item has none */
    size_t n, cap;     /* notes held; slots */
} note_list;

struct bl_outdir {
    char *dir;
    int lock_fd, journal_fd;
    int rows_per_chunk, zstd_level;
    table_state t[BL_TABLE_COUNT];
    bl_manifest manifest;
    uint8_t *st; /* per item: ST_* flags */
    size_t st_cap;
    int64_t next;          /* next plan-order item to append */
    int64_t n_distinct;    /* items committed (ok or failed), over all sessions */
    bl_item_result *pending; /* deep copies of items that arrived before `next` */
    size_t n_pending, cap_pending;
    note_list fails;       /* failed items (errors.csv), sorted by item */
    note_list warns;       /* committed items with a warning (warnings.csv), sorted by item */
    bool notes_dirty;      /* errors.csv / warnings.csv are behind the lists */
    char **keys;           /* journal key per item, for bl_outdir_verify_item_key (resume) */
    size_t keys_cap;
    bl_write_guard guard;
    bl_status poisoned;    /* a write failed: the directory keeps its last valid state */
    char crash_point[64];  /* BL_TEST_CRASH_AT fault injection (see outputs.h) */
    long crash_count;
};

/* ---- small helpers ------------------------------------------------------------------- */

static char *path_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

static bl_status mkdir_p(const char *path) {
    size_t n = strlen(path);
    BL_RETURN_IF(n == 0, BL_ERR_INVALID_ARG, "empty output directory path");
    char *tmp = malloc(n + 1);
    BL_CHECK_ALLOC(tmp);
    memcpy(tmp, path, n + 1);
    bl_status s = BL_OK;
    for (size_t i = 1; i <= n && s == BL_OK; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0') continue;
        char c = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            if (e == ENAMETOOLONG)
                s = BL_ERROR(BL_ERR_IO, "output folder %.200s%s (%zu bytes): the path is too long (at most 255 bytes "
                             "per folder name and 4096 in all); choose a shorter -o", tmp, strlen(tmp) > 200 ? "..." : "",
                             strlen(tmp));
            else
                s = BL_ERROR(e == ENOSPC ? BL_ERR_NO_SPACE : BL_ERR_IO, "cannot create folder %s: %s", tmp, strerror(e));
        }
        tmp[i] = c;
    }
    free(tmp);
    BL_TRY(s);
    struct stat sb;
    BL_RETURN_IF(stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode), BL_ERR_IO, "%s is not a folder", path);
    return BL_OK;
}

static bool file_exists(const char *dir, const char *rel) {
    char *p = path_join(dir, rel);
    struct stat sb;
    bool yes = p && lstat(p, &sb) == 0;
    free(p);
    return yes;
}

/* ---- the marker: which folders are baleen's ------------------------------------------------ */

#define MARKER_NAME ".baleen-output"
#define MARKER_TEXT "baleen output directory (format 1): written by baleen run; see docs/output-format.md\n"

/* Every name baleen may create at the top of an output directory. */
static const char *const k_own_names[] = {MARKER_NAME, ".lock", "run.json", "manifest.json", "errors.csv",
                                          "warnings.csv", "checkpoint", "segments", "events", "window_scores",
                                          "clips", "features"};

/* Is `dir` empty (apart from "." and "..")? */
static bl_status dir_is_empty(const char *dir, bool *empty) {
    DIR *d = opendir(dir);
    if (!d) return bl_durable_errno(errno, "cannot list", dir);
    struct dirent *e;
    *empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            *empty = false;
            break;
        }
    closedir(d);
    return BL_OK;
}

/* Make sure `dir` is a baleen output (marker) or may become one (empty, or force_dir with
 * every name baleen writes free), and write the marker before anything else. */
static bl_status claim_dir(bl_outdir *od, bool force_dir) {
    if (file_exists(od->dir, MARKER_NAME)) {
        char *mp = path_join(od->dir, MARKER_NAME);
        BL_CHECK_ALLOC(mp);
        struct stat sb;
        bool reg = lstat(mp, &sb) == 0 && S_ISREG(sb.st_mode);
        free(mp);
        BL_RETURN_IF(!reg, BL_ERR_EXISTS, "%s/%s is not a file baleen wrote; choose another -o", od->dir, MARKER_NAME);
        return BL_OK;
    }
    bool empty = false;
    BL_TRY(dir_is_empty(od->dir, &empty));
    if (!empty && !force_dir)
        return BL_ERROR(BL_ERR_EXISTS, "%s is not empty and is not a baleen output folder (it has no %s); baleen does "
                        "not write into folders that hold other files. Choose a new or empty -o, or give --force-dir "
                        "to use it anyway (baleen then only adds its own files and refuses if one of their names is "
                        "taken)", od->dir, MARKER_NAME);
    for (size_t i = 0; !empty && i < sizeof k_own_names / sizeof k_own_names[0]; i++)
        BL_RETURN_IF(file_exists(od->dir, k_own_names[i]), BL_ERR_EXISTS,
                     "--force-dir: %s/%s already exists and baleen did not write it (the folder has no %s); move it "
                     "away or choose another -o", od->dir, k_own_names[i], MARKER_NAME);
    char *mp = path_join(od->dir, MARKER_NAME);
    BL_CHECK_ALLOC(mp);
    bl_status s = bl_durable_replace(mp, MARKER_TEXT, strlen(MARKER_TEXT), &od->guard);
    free(mp);
    return s;
}

/* Fault injection for the crash tests (BL_TEST_CRASH_AT=point[:n]): the process kills itself
 * with SIGKILL the n-th time it reaches `point`. Kept in the library because the state that
 * matters (a chunk renamed but not journaled, ...) exists only between two calls inside it. */
static void crash_point(bl_outdir *od, const char *point) {
    if (od->crash_point[0] && !strcmp(od->crash_point, point) && --od->crash_count == 0)
        kill(getpid(), SIGKILL);
}

static bl_status poison(bl_outdir *od, bl_status s) {
    if (s != BL_OK && od->poisoned == BL_OK) od->poisoned = s;
    return s;
}

static bl_status grow_states(bl_outdir *od, int64_t item) {
    if ((size_t)item < od->st_cap) return BL_OK;
    size_t nc = od->st_cap ? od->st_cap : 1024;
    while (nc <= (size_t)item) nc *= 2;
    uint8_t *n = realloc(od->st, nc);
    BL_CHECK_ALLOC(n);
    memset(n + od->st_cap, 0, nc - od->st_cap);
    od->st = n;
    od->st_cap = nc;
    return BL_OK;
}

static bl_status set_key(bl_outdir *od, int64_t item, const char *key) {
    if ((size_t)item >= od->keys_cap) {
        size_t nc = od->keys_cap ? od->keys_cap : 1024;
        while (nc <= (size_t)item) nc *= 2;
        char **n = realloc(od->keys, nc * sizeof *n);
        BL_CHECK_ALLOC(n);
        memset(n + od->keys_cap, 0, (nc - od->keys_cap) * sizeof *n);
        od->keys = n;
        od->keys_cap = nc;
    }
    free(od->keys[item]);
    od->keys[item] = strdup(key ? key : "");
    BL_CHECK_ALLOC(od->keys[item]);
    return BL_OK;
}

/* ---- failures (errors.csv) ------------------------------------------------------------ */

static void failure_free(failure *f) {
    free(f->source);
    free(f->stage);
    free(f->status);
    free(f->message);
}

/* Remove item's note; true when there was one. */
static bool note_remove(note_list *l, int64_t item) {
    if (item < 0 || (size_t)item >= l->cap || !l->by_item[item]) return false;
    failure_free(l->by_item[item]);
    free(l->by_item[item]);
    l->by_item[item] = NULL;
    l->n--;
    return true;
}

static bl_status note_set(note_list *l, int64_t item, const char *source, int channel, const char *stage,
                          const char *status, const char *message) {
    BL_RETURN_IF(item < 0, BL_ERR_INTERNAL, "note for item %lld", (long long)item);
    note_remove(l, item);
    if ((size_t)item >= l->cap) {
        size_t nc = l->cap ? l->cap : 1024;
        while (nc <= (size_t)item) nc *= 2;
        failure **n = realloc(l->by_item, nc * sizeof *n);
        BL_CHECK_ALLOC(n);
        memset(n + l->cap, 0, (nc - l->cap) * sizeof *n);
        l->by_item = n;
        l->cap = nc;
    }
    failure *f = malloc(sizeof *f);
    BL_CHECK_ALLOC(f);
    *f = (failure){item, strdup(source ? source : ""), strdup(stage ? stage : ""), strdup(status ? status : ""),
                   strdup(message ? message : ""), channel};
    l->by_item[item] = f;
    l->n++;
    if (!f->source || !f->stage || !f->status || !f->message) return BL_ERROR(BL_ERR_NOMEM, "out of memory");
    return BL_OK;
}

static void note_list_free(note_list *l) {
    for (size_t i = 0; i < l->cap; i++)
        if (l->by_item[i]) failure_free(l->by_item[i]), free(l->by_item[i]);
    free(l->by_item);
    memset(l, 0, sizeof *l);
}

/* Replace `name` (errors.csv or warnings.csv) with the list; removed when the list is empty. */
static bl_status write_note_csv(bl_outdir *od, const note_list *l, const char *name, bool with_status) {
    char *path = path_join(od->dir, name);
    BL_CHECK_ALLOC(path);
    bl_status s = BL_OK;
    if (l->n == 0) {
        if (unlink(path) == 0) s = bl_durable_fsync_dir(path);
        free(path);
        return s;
    }
    bl_strbuf b = {0};
    bl_strbuf_puts(&b, with_status ? "source,channel,stage,status,message\n" : "source,channel,stage,message\n");
    for (size_t i = 0; i < l->cap; i++) {
        const failure *f = l->by_item[i];
        if (!f) continue;
        bl_csv_append(&b, f->source);
        bl_strbuf_printf(&b, ",%d,", f->channel);
        bl_csv_append(&b, f->stage);
        if (with_status) {
            bl_strbuf_append(&b, ",", 1);
            bl_csv_append(&b, f->status);
        }
        bl_strbuf_append(&b, ",", 1);
        bl_csv_append(&b, f->message);
        bl_strbuf_append(&b, "\n", 1);
    }
    if (b.oom) s = BL_ERROR(BL_ERR_NOMEM, "out of memory writing %s", name);
    else s = bl_durable_replace(path, b.data, b.len, &od->guard);
    bl_strbuf_free(&b);
    free(path);
    return s;
}

/* errors.csv and warnings.csv, when the lists changed since they were last written. They are
 * rebuilt from the journal on --resume, so they are written with the manifest (not per item:
 * that would rewrite them once per failed item) and at the end. */
static bl_status write_notes(bl_outdir *od) {
    if (!od->notes_dirty) return BL_OK;
    BL_TRY(write_note_csv(od, &od->fails, "errors.csv", true));
    BL_TRY(write_note_csv(od, &od->warns, "warnings.csv", false));
    od->notes_dirty = false;
    return BL_OK;
}

/* ---- per-table chunk metadata ---------------------------------------------------------- */

static bl_status table_note_item(table_state *t, int64_t item, bool failed, const char *source, double t0,
                                 double t1) {
    /* A failed item adds no rows and is retried by --resume at another position, so it must
     * not show in chunk metadata either, or resumed manifests would differ. */
    if (failed) return BL_OK;
    if (t->first_item < 0) t->first_item = item;
    t->last_item = item;
    source = source ? source : "";
    if (t->n_spans && !strcmp(t->spans[t->n_spans - 1].source, source)) {
        bl_manifest_span *sp = &t->spans[t->n_spans - 1];
        if (t0 < sp->t0_s) sp->t0_s = t0;
        if (t1 > sp->t1_s) sp->t1_s = t1;
        return BL_OK;
    }
    if (t->n_spans == t->cap_spans) {
        size_t nc = t->cap_spans ? t->cap_spans * 2 : 8;
        bl_manifest_span *n = realloc(t->spans, nc * sizeof *n);
        BL_CHECK_ALLOC(n);
        t->spans = n;
        t->cap_spans = nc;
    }
    t->spans[t->n_spans].source = strdup(source);
    BL_CHECK_ALLOC(t->spans[t->n_spans].source);
    t->spans[t->n_spans].t0_s = t0;
    t->spans[t->n_spans].t1_s = t1;
    t->n_spans++;
    return BL_OK;
}

static void table_reset_meta(table_state *t) {
    for (size_t i = 0; i < t->n_spans; i++) free(t->spans[i].source);
    t->n_spans = 0;
    t->first_item = t->last_item = -1;
}

static char *carry_path(const bl_outdir *od, int table, int64_t chunk) {
    char rel[128];
    snprintf(rel, sizeof rel, "checkpoint/carry-%s-%05lld.csv", bl_table_name((bl_table_id)table), (long long)chunk);
    return path_join(od->dir, rel);
}

/* Write the table's buffered rows as chunk next_chunk and list it in the in-memory manifest. */
static bl_status table_cut(bl_outdir *od, int ti) {
    table_state *t = &od->t[ti];
    char rel[128];
    snprintf(rel, sizeof rel, "%s/part-%05lld.csv.zst", bl_table_name((bl_table_id)ti), (long long)t->next_chunk);
    char *path = path_join(od->dir, rel);
    BL_CHECK_ALLOC(path);
    bl_zchunk_info info;
    bl_status s = bl_zchunk_write(path, od->manifest.tables[ti].header, t->rows.data ? t->rows.data : "",
                                  t->rows.len, od->zstd_level, &od->guard, &info);
    free(path);
    BL_TRY(s);
    crash_point(od, "chunk_renamed");
    bl_manifest_chunk c = {0};
    c.path = strdup(rel);
    BL_CHECK_ALLOC(c.path);
    c.rows = t->n_rows;
    c.bytes = info.bytes;
    c.raw_bytes = info.raw_bytes;
    memcpy(c.sha256, info.sha256, sizeof c.sha256);
    c.first_item = t->first_item < 0 ? 0 : t->first_item;
    c.last_item = t->last_item < 0 ? c.first_item : t->last_item;
    c.spans = t->spans; /* ownership moves to the manifest */
    c.n_spans = t->n_spans;
    t->spans = NULL;
    t->n_spans = t->cap_spans = 0;
    s = bl_manifest_add_chunk(&od->manifest, (bl_table_id)ti, &c);
    if (s != BL_OK) {
        bl_manifest_chunk_free(&c);
        return s;
    }
    t->next_chunk++;
    t->rows.len = 0;
    t->n_rows = 0;
    t->carry_len = 0;
    table_reset_meta(t);
    return BL_OK;
}

static bl_status carry_append(bl_outdir *od, int ti) {
    table_state *t = &od->t[ti];
    if ((int64_t)t->rows.len == t->carry_len) return BL_OK;
    char *path = carry_path(od, ti, t->next_chunk);
    BL_CHECK_ALLOC(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    bl_status s = BL_OK;
    if (fd < 0) s = bl_durable_errno(errno, "creating", path);
    /* Bytes past carry_len, if any, are from a failed earlier attempt: overwrite them. */
    if (s == BL_OK && lseek(fd, t->carry_len, SEEK_SET) < 0) s = bl_durable_errno(errno, "seeking in", path);
    if (s == BL_OK)
        s = bl_durable_write(fd, t->rows.data + t->carry_len, t->rows.len - (size_t)t->carry_len, path, &od->guard);
    if (s == BL_OK) s = bl_durable_fsync(fd, path);
    if (fd >= 0) close(fd);
    if (s == BL_OK && t->carry_len == 0) s = bl_durable_fsync_dir(path); /* a new file */
    free(path);
    BL_TRY(s);
    t->carry_len = (int64_t)t->rows.len;
    return BL_OK;
}

static bl_status write_manifest(bl_outdir *od) {
    char *text;
    size_t len;
    BL_TRY(bl_manifest_format(&od->manifest, &text, &len));
    char *path = path_join(od->dir, "manifest.json");
    bl_status s = path ? bl_durable_replace(path, text, len, &od->guard) : BL_ERROR(BL_ERR_NOMEM, "out of memory");
    free(path);
    free(text);
    return s;
}

static bl_status journal_append(bl_outdir *od, const bl_journal_line *l) {
    bl_strbuf b = {0};
    bl_journal_format_line(l, &b);
    BL_RETURN_IF(b.oom, BL_ERR_NOMEM, "out of memory writing the journal");
    char *path = path_join(od->dir, "checkpoint/journal.tsv");
    bl_status s = path ? bl_durable_write(od->journal_fd, b.data, b.len, path, &od->guard)
                       : BL_ERROR(BL_ERR_NOMEM, "out of memory");
    if (s == BL_OK) s = bl_durable_fsync(od->journal_fd, path);
    free(path);
    bl_strbuf_free(&b);
    return s;
}

/* Delete checkpoint/carry-* files except the current generation of each table. */
static void remove_stale_carry(bl_outdir *od, bool all) {
    char *cp = path_join(od->dir, "checkpoint");
    if (!cp) return;
    DIR *d = opendir(cp);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, "carry-", 6) != 0) continue;
            bool keep = false;
            for (int ti = 0; ti < BL_TABLE_COUNT && !all; ti++) {
                char name[128];
                snprintf(name, sizeof name, "carry-%s-%05lld.csv", bl_table_name((bl_table_id)ti),
                         (long long)od->t[ti].next_chunk);
                if (od->t[ti].used && !strcmp(name, e->d_name)) keep = true;
            }
            if (!keep) {
                char *p = path_join(cp, e->d_name);
                if (p) unlink(p);
                free(p);
            }
        }
        closedir(d);
    }
    free(cp);
}

/* ---- appending items in plan order ------------------------------------------------------- */

static void line_state(const bl_outdir *od, bl_journal_line *l) {
    for (int ti = 0; ti < BL_TABLE_COUNT; ti++) {
        l->next_chunk[ti] = od->t[ti].next_chunk;
        l->carry_len[ti] = od->t[ti].carry_len;
    }
}

static bl_status append_item(bl_outdir *od, const bl_item_result *r) {
    bool cut_any = false;
    for (int ti = 0; ti < BL_TABLE_COUNT; ti++) {
        table_state *t = &od->t[ti];
        if (!t->used) continue;
        if (!r->failed && r->rows_len[ti]) {
            bl_strbuf_append(&t->rows, r->rows[ti], r->rows_len[ti]);
            BL_RETURN_IF(t->rows.oom, BL_ERR_NOMEM, "out of memory buffering %s rows", bl_table_name((bl_table_id)ti));
            t->n_rows += r->n_rows[ti];
        }
        BL_TRY(table_note_item(t, r->item, r->failed, r->source, r->t0_s, r->t1_s));
        if (t->n_rows >= od->rows_per_chunk) {
            BL_TRY(table_cut(od, ti));
            cut_any = true;
        }
    }
    for (int ti = 0; ti < BL_TABLE_COUNT; ti++)
        if (od->t[ti].used) BL_TRY(carry_append(od, ti));
    crash_point(od, "carry_written");

    /* an ok item's warning rides in the same fields, with status "warning" */
    bool warned = !r->failed && r->warning_message && r->warning_message[0];
    const char *status = r->failed ? (r->error_status != BL_OK ? bl_errname(r->error_status) : "failed")
                                   : warned ? "warning" : "";
    const char *stage = r->failed ? r->error_stage : warned ? r->warning_stage : "";
    const char *message = r->failed ? r->error_message : warned ? r->warning_message : "";
    bl_journal_line l = {.item = r->item, .failed = r->failed, .t0_s = r->t0_s, .t1_s = r->t1_s,
                         .channel = r->channel, .key = (char *)r->key, .source = (char *)r->source,
                         .stage = (char *)(stage ? stage : ""), .status = (char *)status,
                         .message = (char *)(message ? message : "")};
    line_state(od, &l);
    for (int ti = 0; ti < BL_TABLE_COUNT; ti++) l.n_rows[ti] = r->failed ? 0 : r->n_rows[ti];
    BL_TRY(journal_append(od, &l));
    crash_point(od, "journal_written");

    BL_TRY(grow_states(od, r->item));
    uint8_t *st = &od->st[r->item];
    if (!(*st & (ST_PREV_OK | ST_PREV_FAILED))) od->n_distinct++;
    *st = (uint8_t)((*st & ~(ST_OK | ST_FAILED)) | ST_APPENDED | (r->failed ? ST_FAILED : ST_OK));
    BL_TRY(set_key(od, r->item, r->key));
    if (r->failed) {
        BL_TRY(note_set(&od->fails, r->item, r->source, r->channel, r->error_stage, status, r->error_message));
        note_remove(&od->warns, r->item);
        od->notes_dirty = true;
    } else {
        od->notes_dirty |= note_remove(&od->fails, r->item);
        if (r->warning_message && r->warning_message[0]) {
            BL_TRY(note_set(&od->warns, r->item, r->source, r->channel, r->warning_stage, "warning",
                            r->warning_message));
            od->notes_dirty = true;
        } else {
            od->notes_dirty |= note_remove(&od->warns, r->item);
        }
    }
    if (cut_any) {
        od->manifest.items_committed = od->n_distinct;
        BL_TRY(write_manifest(od));
        BL_TRY(write_notes(od));
        crash_point(od, "manifest_written");
        remove_stale_carry(od, false);
    }
    return BL_OK;
}

static bool skip_item(const bl_outdir *od, int64_t item) {
    return (size_t)item < od->st_cap && (od->st[item] & (ST_PREV_OK | ST_APPENDED));
}

static void item_copy_free(bl_item_result *c) {
    free((char *)c->key);
    free((char *)c->source);
    free((char *)c->error_stage);
    free((char *)c->error_message);
    free((char *)c->warning_stage);
    free((char *)c->warning_message);
    for (int t = 0; t < BL_TABLE_COUNT; t++) free((char *)c->rows[t]);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static bl_status item_copy(const bl_item_result *r, bl_item_result *c) {
    *c = *r;
    c->key = dup_or_null(r->key);
    c->source = dup_or_null(r->source);
    c->error_stage = dup_or_null(r->error_stage);
    c->error_message = dup_or_null(r->error_message);
    c->warning_stage = dup_or_null(r->warning_stage);
    c->warning_message = dup_or_null(r->warning_message);
    bool ok = (!r->key || c->key) && (!r->source || c->source) && (!r->error_stage || c->error_stage) &&
              (!r->error_message || c->error_message) && (!r->warning_stage || c->warning_stage) &&
              (!r->warning_message || c->warning_message);
    for (int t = 0; t < BL_TABLE_COUNT; t++) {
        c->rows[t] = NULL;
        if (r->rows_len[t]) {
            char *p = malloc(r->rows_len[t]);
            if (p) memcpy(p, r->rows[t], r->rows_len[t]);
            else ok = false;
            c->rows[t] = p;
        }
    }
    if (!ok) {
        item_copy_free(c);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory holding item %lld", (long long)r->item);
    }
    return BL_OK;
}

/* Append every pending item that is next in plan order. */
static bl_status drain(bl_outdir *od, bool force) {
    for (;;) {
        while (skip_item(od, od->next)) od->next++;
        size_t best = od->n_pending;
        for (size_t i = 0; i < od->n_pending; i++) {
            if (od->pending[i].item == od->next) { best = i; break; }
            if (force && (best == od->n_pending || od->pending[i].item < od->pending[best].item)) best = i;
        }
        if (best == od->n_pending) return BL_OK;
        bl_item_result c = od->pending[best];
        od->pending[best] = od->pending[--od->n_pending];
        bl_status s = append_item(od, &c);
        if (c.item >= od->next) od->next = c.item + 1;
        item_copy_free(&c);
        BL_TRY(s);
    }
}

bl_status bl_outdir_commit_item(bl_outdir *od, const bl_item_result *r) {
    if (od->poisoned != BL_OK)
        return BL_ERROR(od->poisoned, "output directory %s stopped after an earlier write error (%s); it "
                        "holds every item committed before it: fix the cause and run again with --resume",
                        od->dir, bl_strerror(od->poisoned));
    BL_RETURN_IF(r->item < 0, BL_ERR_INVALID_ARG, "work item index %lld is negative", (long long)r->item);
    BL_RETURN_IF(skip_item(od, r->item), BL_ERR_INVALID_ARG, "work item %lld was already committed",
                 (long long)r->item);
    for (size_t i = 0; i < od->n_pending; i++)
        BL_RETURN_IF(od->pending[i].item == r->item, BL_ERR_INVALID_ARG, "work item %lld was already committed",
                     (long long)r->item);
    for (int t = 0; t < BL_TABLE_COUNT; t++) {
        if (r->failed || !r->rows_len[t]) continue;
        BL_RETURN_IF(!od->t[t].used, BL_ERR_INVALID_ARG, "item %lld has %s rows but the table has no header",
                     (long long)r->item, bl_table_name((bl_table_id)t));
        BL_RETURN_IF(r->rows[t][r->rows_len[t] - 1] != '\n' || r->n_rows[t] <= 0, BL_ERR_INVALID_ARG,
                     "item %lld: %s rows must be complete lines ending in '\\n' with n_rows > 0",
                     (long long)r->item, bl_table_name((bl_table_id)t));
    }
    if (od->n_pending == od->cap_pending) {
        size_t nc = od->cap_pending ? od->cap_pending * 2 : 8;
        bl_item_result *n = realloc(od->pending, nc * sizeof *n);
        BL_CHECK_ALLOC(n);
        od->pending = n;
        od->cap_pending = nc;
    }
    BL_TRY(item_copy(r, &od->pending[od->n_pending]));
    od->n_pending++;
    return poison(od, drain(od, false));
}

/* ---- open / resume ------------------------------------------------------------------- */

/* A file of the output directory into b (BL_ERR_NOT_FOUND when absent). The journal grows
 * by a line per item; 1 GiB is far beyond any real one. */
static bl_status read_text(const char *path, bl_strbuf *b) {
    char *data = NULL;
    size_t len = 0;
    BL_TRY(bl_infile_read_all(path, "checkpoint file", (size_t)1 << 30, &data, &len));
    b->data = data;
    b->len = len;
    b->cap = len + 1;
    return BL_OK;
}

static bl_status check_fingerprint(bl_outdir *od, const char *fp) {
    char *path = path_join(od->dir, "checkpoint/fingerprint");
    BL_CHECK_ALLOC(path);
    bl_strbuf b = {0};
    bl_status s = read_text(path, &b);
    if (s == BL_ERR_NOT_FOUND) s = BL_ERROR(BL_ERR_IO, "%s is missing: the checkpoint is incomplete; start a new "
                                            "run in another folder", path);
    if (s == BL_OK) {
        char msg[2048];
        if (!bl_fingerprint_diff(b.data, fp, msg, sizeof msg))
            s = BL_ERROR(BL_ERR_CONFIG, "--resume refused: %s was written with another configuration or model (%s); "
                         "resume with the original settings or choose another -o", od->dir, msg);
    }
    bl_strbuf_free(&b);
    free(path);
    return s;
}

/* Remove files of a table folder that the manifest does not list; check listed ones. */
static bl_status clean_table_dir(bl_outdir *od, int ti) {
    char *dp = path_join(od->dir, bl_table_name((bl_table_id)ti));
    BL_CHECK_ALLOC(dp);
    const bl_manifest_table *mt = &od->manifest.tables[ti];
    bl_status s = BL_OK;
    DIR *d = opendir(dp);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            unsigned long long num;
            char tail[16];
            bool listed = sscanf(e->d_name, "part-%5llu.csv.zs%1[t]", &num, tail) == 2 &&
                          strlen(e->d_name) == strlen("part-00000.csv.zst") && num < mt->n_chunks;
            if (listed || e->d_name[0] == '.') continue;
            if (strncmp(e->d_name, "part-", 5) != 0) continue; /* not ours: leave it */
            char *p = path_join(dp, e->d_name);
            if (p) {
                BL_LOG_D("resume: removing %s (not in manifest.json)", p);
                unlink(p);
            }
            free(p);
        }
        closedir(d);
    }
    for (size_t i = 0; i < mt->n_chunks && s == BL_OK; i++) {
        char *p = path_join(od->dir, mt->chunks[i].path);
        struct stat sb;
        if (!p) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
        else if (lstat(p, &sb) != 0 || !S_ISREG(sb.st_mode) || (int64_t)sb.st_size != mt->chunks[i].bytes)
            s = BL_ERROR(BL_ERR_IO, "cannot resume: %s is listed in manifest.json but is %s; the output "
                         "directory was changed by hand — start a new run in another folder",
                         p, lstat(p, &sb) != 0 ? "missing" : !S_ISREG(sb.st_mode) ? "not a regular file (a link?)"
                                                                                   : "not the listed size");
        free(p);
    }
    free(dp);
    return s;
}

static bl_status load_carry(bl_outdir *od, int ti) {
    table_state *t = &od->t[ti];
    if (t->carry_len == 0) return BL_OK;
    char *path = carry_path(od, ti, t->next_chunk);
    BL_CHECK_ALLOC(path);
    bl_strbuf b = {0};
    bl_status s = read_text(path, &b);
    if (s == BL_ERR_NOT_FOUND || (s == BL_OK && (int64_t)b.len < t->carry_len))
        s = BL_ERROR(BL_ERR_IO, "cannot resume: %s is %s; the checkpoint is damaged — start a new run in "
                     "another folder", path, s == BL_OK ? "shorter than the journal says" : "missing");
    if (s == BL_OK && (int64_t)b.len > t->carry_len) {
        /* rows of an item that was not journaled: drop them on disk too */
        if (truncate(path, t->carry_len) != 0) s = bl_durable_errno(errno, "truncating", path);
        b.len = (size_t)t->carry_len;
    }
    if (s == BL_OK) {
        bl_strbuf_free(&t->rows);
        t->rows = b;
        b.data = NULL;
    }
    bl_strbuf_free(&b);
    free(path);
    return s;
}

static bl_status resume_state(bl_outdir *od, const char *fingerprint, int64_t n_items, int64_t *n_done) {
    BL_TRY(check_fingerprint(od, fingerprint));
    char *mpath = path_join(od->dir, "manifest.json");
    BL_CHECK_ALLOC(mpath);
    bl_manifest m;
    bl_status s = bl_manifest_load(mpath, &m);
    free(mpath);
    if (s == BL_ERR_NOT_FOUND) {
        memset(&m, 0, sizeof m); /* crashed before the first manifest: nothing listed */
        bl_error_clear();
        s = BL_OK;
    }
    BL_TRY(s);
    for (int ti = 0; ti < BL_TABLE_COUNT; ti++) {
        const char *want = od->manifest.tables[ti].header, *have = m.tables[ti].header;
        if (m.tables[ti].n_chunks && (!want || strcmp(want, have) != 0)) {
            bl_manifest_free(&m);
            return BL_ERROR(BL_ERR_CONFIG, "--resume refused: the %s table of %s has another header line "
                            "than this run writes; resume with the original settings or choose another -o",
                            bl_table_name((bl_table_id)ti), od->dir);
        }
        /* keep this run's headers, take the listed chunks */
        bl_manifest_table *dst = &od->manifest.tables[ti];
        dst->chunks = m.tables[ti].chunks;
        dst->n_chunks = m.tables[ti].n_chunks;
        dst->cap = m.tables[ti].cap;
        m.tables[ti].chunks = NULL;
        m.tables[ti].n_chunks = m.tables[ti].cap = 0;
    }
    bl_manifest_free(&m);

    char *jpath = path_join(od->dir, "checkpoint/journal.tsv");
    BL_CHECK_ALLOC(jpath);
    bl_strbuf jt = {0};
    s = read_text(jpath, &jt);
    bl_journal_line *lines = NULL;
    size_t n_lines = 0;
    int64_t ignored = 0;
    if (s == BL_OK) s = bl_journal_parse(jt.data, jt.len, jpath, &lines, &n_lines, &ignored);
    bl_strbuf_free(&jt);
    if (s != BL_OK) {
        free(jpath);
        return s;
    }
    /* the state is the last line whose chunk numbers match the manifest */
    size_t valid = 0; /* number of lines kept */
    bool all_zero = true;
    for (int ti = 0; ti < BL_TABLE_COUNT; ti++) all_zero &= od->manifest.tables[ti].n_chunks == 0;
    for (size_t i = n_lines; i > 0; i--) {
        bool match = true;
        for (int ti = 0; ti < BL_TABLE_COUNT; ti++)
            match &= lines[i - 1].next_chunk[ti] == (int64_t)od->manifest.tables[ti].n_chunks;
        if (match) { valid = i; break; }
    }
    if (valid == 0 && !all_zero) {
        bl_journal_lines_free(lines, n_lines);
        free(jpath);
        return BL_ERROR(BL_ERR_IO, "cannot resume: the checkpoint journal of %s does not match manifest.json "
                        "(edited or damaged); start a new run in another folder", od->dir);
    }
    /* replay */
    for (size_t i = 0; i < valid && s == BL_OK; i++) {
        const bl_journal_line *l = &lines[i];
        if (!l->is_close && n_items > 0 && l->item >= n_items) {
            s = BL_ERROR(BL_ERR_CONFIG, "--resume refused: the checkpoint journal of %s names work item %lld, but "
                         "the plan has %lld item(s) (the inputs changed, or the journal is damaged); resume with the "
                         "same inputs or choose another -o", od->dir, (long long)l->item, (long long)n_items);
            break;
        }
        if (!l->is_close) {
            for (int ti = 0; ti < BL_TABLE_COUNT && s == BL_OK; ti++) {
                table_state *t = &od->t[ti];
                if (!t->used) continue;
                if (l->next_chunk[ti] == t->next_chunk) {
                    s = table_note_item(t, l->item, l->failed, l->source, l->t0_s, l->t1_s);
                    t->n_rows += l->n_rows[ti];
                } else { /* the table was cut after this item */
                    table_reset_meta(t);
                    t->n_rows = 0;
                }
            }
            if (s == BL_OK) s = grow_states(od, l->item);
            if (s == BL_OK) s = set_key(od, l->item, l->key);
            if (s != BL_OK) break;
            uint8_t *st = &od->st[l->item];
            if (!(*st & (ST_PREV_OK | ST_PREV_FAILED))) od->n_distinct++;
            *st = (uint8_t)((*st & ~(ST_PREV_OK | ST_PREV_FAILED)) | (l->failed ? ST_PREV_FAILED : ST_PREV_OK));
            if (l->failed) {
                s = note_set(&od->fails, l->item, l->source, l->channel, l->stage, l->status, l->message);
                note_remove(&od->warns, l->item);
            } else {
                note_remove(&od->fails, l->item);
                if (!strcmp(l->status, "warning"))
                    s = note_set(&od->warns, l->item, l->source, l->channel, l->stage, l->status, l->message);
                else note_remove(&od->warns, l->item);
            }
            od->notes_dirty = true;
        } else {
            for (int ti = 0; ti < BL_TABLE_COUNT; ti++) {
                table_reset_meta(&od->t[ti]);
                od->t[ti].n_rows = 0;
            }
        }
        for (int ti = 0; ti < BL_TABLE_COUNT; ti++) {
            od->t[ti].next_chunk = l->next_chunk[ti];
            od->t[ti].carry_len = l->carry_len[ti];
        }
    }
    int64_t keep = valid ? lines[valid - 1].end_offset : (int64_t)strlen(BL_JOURNAL_MAGIC);
    if (s == BL_OK && (valid < n_lines || ignored))
        BL_LOG_I("resume: dropping %zu journal line(s) written after the last manifest update", n_lines - valid);
    bl_journal_lines_free(lines, n_lines);
    if (s == BL_OK && truncate(jpath, keep) != 0) s = bl_durable_errno(errno, "truncating", jpath);
    free(jpath);
    BL_TRY(s);
    for (int ti = 0; ti < BL_TABLE_COUNT; ti++) {
        if (!od->t[ti].used) continue;
        BL_TRY(clean_table_dir(od, ti));
        BL_TRY(load_carry(od, ti));
    }
    remove_stale_carry(od, false);
    int64_t done = 0;
    for (size_t i = 0; i < od->st_cap; i++) done += (od->st[i] & ST_PREV_OK) != 0;
    *n_done = done;
    BL_LOG_I("resume: %lld work item(s) already done in %s, %zu failed before (retried)", (long long)done, od->dir,
             od->fails.n);
    return BL_OK;
}

bl_status bl_outdir_open(const bl_outdir_opts *opts, bl_outdir **out) {
    *out = NULL;
    BL_RETURN_IF(!opts->dir || !opts->dir[0], BL_ERR_INVALID_ARG, "no output directory given (-o or output.dir)");
    BL_RETURN_IF(opts->rows_per_chunk < 1, BL_ERR_INVALID_ARG, "rows_per_chunk must be >= 1 (got %d)",
                 opts->rows_per_chunk);
    BL_TRY(mkdir_p(opts->dir));
    bl_outdir *od = calloc(1, sizeof *od);
    BL_CHECK_ALLOC(od);
    od->lock_fd = od->journal_fd = -1;
    od->dir = strdup(opts->dir);
    od->rows_per_chunk = opts->rows_per_chunk;
    od->zstd_level = opts->zstd_level;
    bl_write_guard_init(&od->guard);
#ifdef BL_TEST_HOOKS /* test builds only (BL_BUILD_TESTS): SIGKILL at a protocol step */
    const char *cp = getenv("BL_TEST_CRASH_AT");
    if (cp && *cp) {
        const char *colon = strchr(cp, ':');
        size_t n = colon ? (size_t)(colon - cp) : strlen(cp);
        if (n < sizeof od->crash_point) {
            memcpy(od->crash_point, cp, n);
            od->crash_count = colon ? strtol(colon + 1, NULL, 10) : 1;
        }
    }
#endif
    bl_status s = od->dir ? BL_OK : BL_ERROR(BL_ERR_NOMEM, "out of memory");
    for (int ti = 0; ti < BL_TABLE_COUNT && s == BL_OK; ti++) {
        od->t[ti].first_item = od->t[ti].last_item = -1;
        if (!opts->headers[ti]) continue;
        od->t[ti].used = true;
        od->manifest.tables[ti].header = strdup(opts->headers[ti]);
        if (!od->manifest.tables[ti].header) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
    }
    if (s == BL_OK) s = claim_dir(od, opts->force_dir);
    if (s == BL_OK) s = bl_outdir_lock_acquire(od->dir, &od->lock_fd);
    bool has_journal = s == BL_OK && file_exists(od->dir, "checkpoint/journal.tsv");
    if (s == BL_OK && !opts->resume && (has_journal || file_exists(od->dir, "manifest.json")))
        s = BL_ERROR(BL_ERR_IO, "%s holds a previous run (manifest.json, checkpoint/); use --resume to continue it "
                     "or choose another -o", od->dir);
    char *jpath = s == BL_OK ? path_join(od->dir, "checkpoint/journal.tsv") : NULL;
    if (s == BL_OK && !jpath) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
    for (int ti = 0; ti < BL_TABLE_COUNT && s == BL_OK; ti++) {
        if (!od->t[ti].used) continue;
        char *p = path_join(od->dir, bl_table_name((bl_table_id)ti));
        s = p ? mkdir_p(p) : BL_ERROR(BL_ERR_NOMEM, "out of memory");
        free(p);
    }
    if (s == BL_OK && opts->resume && has_journal) {
        int64_t n_done = 0;
        s = resume_state(od, opts->fingerprint, opts->n_items, &n_done);
    } else if (s == BL_OK) {
        if (opts->resume) BL_LOG_I("resume: %s holds no previous run; starting a new one", od->dir);
        char *cdir = path_join(od->dir, "checkpoint");
        s = cdir ? mkdir_p(cdir) : BL_ERROR(BL_ERR_NOMEM, "out of memory");
        free(cdir);
        if (s == BL_OK) {
            char *fp = path_join(od->dir, "checkpoint/fingerprint");
            const char *f = opts->fingerprint ? opts->fingerprint : "";
            s = fp ? bl_durable_replace(fp, f, strlen(f), &od->guard) : BL_ERROR(BL_ERR_NOMEM, "out of memory");
            free(fp);
        }
        if (s == BL_OK) s = bl_durable_replace(jpath, BL_JOURNAL_MAGIC, strlen(BL_JOURNAL_MAGIC), &od->guard);
        /* leftovers of a run that died before its journal existed (temp files) */
        for (int ti = 0; ti < BL_TABLE_COUNT && s == BL_OK; ti++)
            if (od->t[ti].used) s = clean_table_dir(od, ti);
        if (s == BL_OK) s = write_manifest(od);
    }
    if (s == BL_OK) {
        od->journal_fd = open(jpath, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (od->journal_fd < 0) s = bl_durable_errno(errno, "opening", jpath);
    }
    free(jpath);
    if (s != BL_OK) {
        bl_outdir_abort(od);
        return s;
    }
    *out = od;
    return BL_OK;
}

bool bl_outdir_item_done(const bl_outdir *od, int64_t item) {
    return item >= 0 && (size_t)item < od->st_cap && (od->st[item] & (ST_PREV_OK | ST_OK)) &&
           !(od->st[item] & ST_FAILED);
}

int64_t bl_outdir_n_done(const bl_outdir *od) {
    int64_t n = 0;
    for (size_t i = 0; i < od->st_cap; i++) n += bl_outdir_item_done(od, (int64_t)i);
    return n;
}

bl_status bl_outdir_verify_item_key(const bl_outdir *od, int64_t item, const char *key) {
    if (item < 0 || (size_t)item >= od->keys_cap || !od->keys[item]) return BL_OK;
    BL_RETURN_IF(strcmp(od->keys[item], key ? key : "") != 0, BL_ERR_CONFIG,
                 "--resume refused: work item %lld was '%s' in %s but is '%s' now (the inputs changed); "
                 "resume with the same inputs or choose another -o",
                 (long long)item, od->keys[item], od->dir, key ? key : "");
    return BL_OK;
}

const char *bl_outdir_path(const bl_outdir *od) { return od->dir; }

bl_status bl_outdir_write_run_json(bl_outdir *od, const char *json) {
    bl_strbuf b = {0};
    const char *p = json ? json : "";
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    if (*p == '{') bl_strbuf_puts(&b, json);
    else {
        bl_strbuf_puts(&b, "{\n");
        bl_strbuf_puts(&b, json ? json : "");
        bl_strbuf_puts(&b, "\n}");
    }
    if (b.len && b.data[b.len - 1] != '\n') bl_strbuf_append(&b, "\n", 1);
    BL_RETURN_IF(b.oom, BL_ERR_NOMEM, "out of memory writing run.json");
    char *path = path_join(od->dir, "run.json");
    bl_status s = path ? bl_durable_replace(path, b.data, b.len, &od->guard) : BL_ERROR(BL_ERR_NOMEM, "out of memory");
    free(path);
    bl_strbuf_free(&b);
    return s;
}

static bl_status finish(bl_outdir *od) {
    BL_TRY(drain(od, true));
    for (int ti = 0; ti < BL_TABLE_COUNT; ti++) {
        table_state *t = &od->t[ti];
        /* a table that never got a row still gets one header-only chunk, so that readers
         * globbing the table's part files find one */
        if (t->used && (t->n_rows > 0 || od->manifest.tables[ti].n_chunks == 0)) BL_TRY(table_cut(od, ti));
    }
    bl_journal_line l = {.is_close = true, .item = -1, .key = "", .source = "", .stage = "", .status = "",
                         .message = ""};
    line_state(od, &l);
    BL_TRY(journal_append(od, &l));
    od->manifest.complete = true;
    od->manifest.items_committed = od->n_distinct;
    BL_TRY(write_manifest(od));
    remove_stale_carry(od, true);
    od->notes_dirty = true; /* a run that failed nothing removes an older errors.csv */
    return write_notes(od);
}

bl_status bl_outdir_close(bl_outdir *od, int64_t *n_failed) {
    bl_status s = od->poisoned;
    if (s != BL_OK)
        s = BL_ERROR(s, "output directory %s stopped after an earlier write error; run again with --resume", od->dir);
    else
        s = finish(od);
    if (n_failed) *n_failed = (int64_t)od->fails.n;
    bl_outdir_abort(od);
    return s;
}

void bl_outdir_abort(bl_outdir *od) {
    if (!od) return;
    if (od->journal_fd >= 0) close(od->journal_fd);
    if (od->lock_fd >= 0) close(od->lock_fd); /* releases the flock */
    for (int ti = 0; ti < BL_TABLE_COUNT; ti++) {
        table_reset_meta(&od->t[ti]);
        free(od->t[ti].spans);
        bl_strbuf_free(&od->t[ti].rows);
    }
    bl_manifest_free(&od->manifest);
    for (size_t i = 0; i < od->n_pending; i++) item_copy_free(&od->pending[i]);
    free(od->pending);
    note_list_free(&od->fails);
    note_list_free(&od->warns);
    for (size_t i = 0; i < od->keys_cap; i++) free(od->keys[i]);
    free(od->keys);
    free(od->st);
    free(od->dir);
    free(od);
}

void bl_csv_append(bl_strbuf *b, const char *field) {
    size_t need = bl_csv_quote(field, NULL, 0);
    char small[512];
    if (need < sizeof small) {
        bl_csv_quote(field, small, sizeof small);
        bl_strbuf_append(b, small, need);
        return;
    }
    char *big = malloc(need + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    bl_csv_quote(field, big, need + 1);
    bl_strbuf_append(b, big, need);
    free(big);
}

size_t bl_csv_quote(const char *field, char *buf, size_t cap) {
    const char *f = field ? field : "";
    bool quote = strpbrk(f, ",\"\r\n") != NULL;
    size_t need = strlen(f) + (quote ? 2 : 0);
    if (quote)
        for (const char *p = f; *p; p++) need += *p == '"';
    if (need >= cap) return need;
    char *o = buf;
    if (quote) *o++ = '"';
    for (const char *p = f; *p; p++) {
        if (quote && *p == '"') *o++ = '"';
        *o++ = *p;
    }
    if (quote) *o++ = '"';
    *o = '\0';
    return need;
}
