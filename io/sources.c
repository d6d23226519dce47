/* sources.c — the planner's input side (sources.h): expands configured sources (files,
 * directories, globs with `**`, manifest CSVs) into inputs, resolves time patterns and
 * time windows, probes each file's header and builds one work item per input × channel.
 *
 * Owns: the plan's arrays and strings (bl_plan_free). Bounded by the number of inputs.
 * Paths in the config are used as written (relative to the working directory); paths in a
 * manifest are relative to the manifest's folder. Directory walks and `**` do not descend
 * into symbolic links to directories (no cycles) nor into hidden folders (name starting
 * with '.'); `*` and `?` do not match a leading '.' (as in the shell).
 *
 * Threading: pure functions; nothing shared.
 */
#include "sources.h"

#include <dirent.h>   /* opendir, readdir */
#include <errno.h>    /* errno for messages */
#include <fnmatch.h>  /* fnmatch for glob components */
#include <limits.h>   /* PATH_MAX */
#include <math.h>     /* isfinite */
#include <stdbool.h>  /* flags */
#include <stdio.h>    /* snprintf */
#include <stdlib.h>   /* malloc, qsort, realpath, strtod */
#include <string.h>   /* strcmp, strrchr */
#include <strings.h>  /* strcasecmp */
#include <sys/stat.h> /* stat, lstat */

#include "../core/infile.h" /* manifest CSVs: opened without blocking, size checked first */
#include "../core/log.h"    /* info lines for skipped files */
#include "audio.h"       /* bl_audio_open: header probe */

/* ---- growable string list ---------------------------------------------------------------- */

typedef struct {
    char **v;
    size_t n, cap;
} strlist;

static bl_status sl_push(strlist *l, const char *s) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **v = realloc(l->v, cap * sizeof *v);
        BL_CHECK_ALLOC(v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(s);
    BL_CHECK_ALLOC(l->v[l->n]);
    l->n++;
    return BL_OK;
}

static void sl_free(strlist *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void sl_sort(strlist *l) {
    if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

/* dir joined with name ("" + name = name). */
static bl_status join(const char *dir, const char *name, char *out, size_t cap) {
    size_t dl = strlen(dir);
    int n = dl == 0 ? snprintf(out, cap, "%s", name)
            : dir[dl - 1] == '/' ? snprintf(out, cap, "%s%s", dir, name)
                                 : snprintf(out, cap, "%s/%s", dir, name);
    BL_RETURN_IF(n < 0 || (size_t)n >= cap, BL_ERR_RANGE, "path too long: %.200s/%.200s", dir, name);
    return BL_OK;
}

static bool is_audio_name(const char *name) {
    static const char *const ext[] = {"wav", "flac", "ogg", "mp3", "aif", "aiff", "w64", "rf64"};
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return false;
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (!strcasecmp(dot + 1, ext[i])) return true;
    return false;
}

static bool is_regular(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A real (not symlinked) directory entry, for recursion without cycles. */
static bool is_real_dir(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- directories ------------------------------------------------------------------------- */

/* Every audio file below dir into out (sorted later). What cannot be scanned below the top
 * — an unreadable subfolder, an audio name that is not a regular file — goes to bad (path)
 * and why (the reason), so that it becomes a failed input in errors.csv instead of audio
 * that silently goes missing. */
static bl_status walk_dir(const char *dir, int depth, strlist *out, strlist *bad, strlist *why) {
    BL_RETURN_IF(depth > 64, BL_ERR_RANGE, "directory %s: nested more than 64 levels", dir);
    DIR *d = opendir(*dir ? dir : ".");
    if (!d) {
        int e = errno;
        BL_RETURN_IF(depth == 0, BL_ERR_IO, "cannot read directory %s: %s", dir, strerror(e));
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read this folder of the source (%s): the audio files in it, if any, were "
                 "not scanned", strerror(e));
        BL_LOG_W("%s: %s", dir, msg);
        BL_TRY(sl_push(bad, dir));
        return sl_push(why, msg);
    }
    bl_status s = BL_OK;
    char path[PATH_MAX];
    struct dirent *e;
    while (s == BL_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ., .., hidden files and folders */
        s = join(dir, e->d_name, path, sizeof path);
        if (s != BL_OK) break;
        if (is_real_dir(path)) s = walk_dir(path, depth + 1, out, bad, why);
        else if (is_audio_name(e->d_name) && is_regular(path)) s = sl_push(out, path);
        else if (is_audio_name(e->d_name) && !is_dir(path)) {
            struct stat st;
            const char *msg = stat(path, &st) != 0 ? (errno == ELOOP ? "a symbolic link loop" : "a dangling symbolic link")
                              : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe), not an audio file"
                                                     : "not a regular file";
            s = sl_push(bad, path);
            if (s == BL_OK) s = sl_push(why, msg);
        }
    }
    closedir(d);
    return s;
}

/* ---- globs ------------------------------------------------------------------------------- */

static bool has_magic(const char *s) { return strpbrk(s, "*?[") != NULL; }

typedef struct {
    char **comp;
    size_t n;
    strlist *out;
} globber;

static bl_status glob_at(const globber *g, const char *dir, size_t i, int depth);

/* Every entry of dir: files that match component i (when it is the last), directories
 * that match it (recursing to i + 1). For "**", directories recurse at i as well. */
static bl_status glob_list(const globber *g, const char *dir, size_t i, int depth) {
    BL_RETURN_IF(depth > 64, BL_ERR_RANGE, "glob: folders nested more than 64 levels under %s", dir);
    const char *c = g->comp[i];
    bool star2 = !strcmp(c, "**");
    bool last = i + 1 == g->n;
    DIR *d = opendir(*dir ? dir : ".");
    if (!d) return BL_OK; /* not a folder, or unreadable: matches nothing here */
    bl_status s = BL_OK;
    char path[PATH_MAX];
    struct dirent *e;
    while (s == BL_OK && (e = readdir(d))) {
        const char *nm = e->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        s = join(dir, nm, path, sizeof path);
        if (s != BL_OK) break;
        if (star2) {
            if (nm[0] == '.') continue;
            if (is_real_dir(path)) s = glob_list(g, path, i, depth + 1); /* one more level */
            else if (last && is_regular(path)) s = sl_push(g->out, path);
            continue;
        }
        if (fnmatch(c, nm, FNM_PERIOD) != 0) continue;
        if (last) {
            if (is_regular(path)) s = sl_push(g->out, path);
        } else if (is_dir(path)) {
            s = glob_at(g, path, i + 1, depth + 1);
        }
    }
    closedir(d);
    if (s == BL_OK && star2 && !last) s = glob_at(g, dir, i + 1, depth); /* zero levels */
    return s;
}

static bl_status glob_at(const globber *g, const char *dir, size_t i, int depth) {
    if (i == g->n) return BL_OK;
    const char *c = g->comp[i];
    if (has_magic(c)) return glob_list(g, dir, i, depth);
    /* A literal component: no listing needed. */
    char path[PATH_MAX];
    BL_TRY(join(dir, c, path, sizeof path));
    if (i + 1 == g->n) return is_regular(path) ? sl_push(g->out, path) : BL_OK;
    return is_dir(path) ? glob_at(g, path, i + 1, depth + 1) : BL_OK;
}

static bl_status expand_glob(const char *pattern, strlist *out) {
    char *copy = strdup(pattern);
    BL_CHECK_ALLOC(copy);
    char *comp[256];
    size_t n = 0;
    bl_status s = BL_OK;
    for (char *tok = strtok(copy, "/"); tok; tok = strtok(NULL, "/")) {
        if (n == 256) {
            s = BL_ERROR(BL_ERR_RANGE, "glob %.200s: more than 256 path components", pattern);
            break;
        }
        comp[n++] = tok;
    }
    if (s == BL_OK && n) {
        globber g = {comp, n, out};
        s = glob_at(&g, pattern[0] == '/' ? "/" : "", 0, 0);
    }
    free(copy);
    if (s == BL_OK) sl_sort(out);
    return s;
}

/* ---- time windows ------------------------------------------------------------------------ */

/* "3600" or "2018-11-01T03:00:00Z" → seconds from the file's start. *iso tells which. */
static bl_status resolve_time(const char *spec, bool has_utc, int64_t utc_ms, const char *what,
                              const char *where, double *sec, bool *iso) {
    char *end;
    double v = strtod(spec, &end);
    if (end != spec && *end == '\0' && isfinite(v) && v >= 0 && !strpbrk(spec, "xXnNpP")) {
        *sec = v;
        *iso = false;
        return BL_OK;
    }
    int64_t ms;
    if (bl_time_parse_iso(spec, &ms) != BL_OK)
        return BL_ERROR(BL_ERR_CONFIG, "%s: %s \"%.64s\": expected seconds from the file's start or "
                        "ISO-8601 UTC (2018-11-01T03:00:00Z)", where, what, spec);
    BL_RETURN_IF(!has_utc, BL_ERR_CONFIG,
                 "%s: %s \"%s\" is an absolute time, but the file's start time is unknown; give the "
                 "source a time_pattern (or a start_time column in a manifest), or use seconds",
                 where, what, spec);
    *sec = (double)(ms - utc_ms) / 1000.0;
    *iso = true;
    return BL_OK;
}

/* ---- plan building ----------------------------------------------------------------------- */

typedef struct {
    bl_plan *plan;
    size_t cap_inputs;
    char **real;   /* realpath per input, for duplicates */
} builder;

/* One candidate file of source si. Optional manifest fields may be NULL. Returns *added. */
static bl_status add_input(builder *b, const bl_source_cfg *src, size_t si, const char *path, const char *key,
                           const char *start, const char *end, const char *start_time,
                           const char *where, bool *added) {
    *added = false;
    bl_input in;
    memset(&in, 0, sizeof in);
    in.end_s = -1;
    in.frames = -1;
    in.source = si;
    if (start_time) {
        BL_TRY(bl_time_parse_iso(start_time, &in.utc_start_ms));
        in.has_utc = true;
    } else if (src->time_pattern) {
        bl_status s = bl_time_parse_pattern(path, src->time_pattern, &in.utc_start_ms);
        if (s == BL_ERR_FORMAT)
            return BL_ERROR(BL_ERR_CONFIG, "%s: time_pattern \"%s\" does not match the file name of %s; "
                            "fix the pattern or list this file in another source",
                            where, src->time_pattern, path);
        BL_TRY(s);
        in.has_utc = true;
    }
    const char *st = start ? start : src->start;
    const char *en = end ? end : src->end;
    bool iso_s = false, iso_e = false;
    if (st) {
        BL_TRY(resolve_time(st, in.has_utc, in.utc_start_ms, "start", where, &in.start_s, &iso_s));
        if (in.start_s < 0) in.start_s = 0; /* an absolute start before the file begins */
    }
    if (en) {
        BL_TRY(resolve_time(en, in.has_utc, in.utc_start_ms, "end", where, &in.end_s, &iso_e));
        if (in.end_s <= in.start_s) {
            BL_LOG_D("%s: %s lies outside the time window, skipped", where, path);
            return BL_OK;
        }
    }
    struct stat sb;
    if (stat(path, &sb) == 0) in.bytes = (int64_t)sb.st_size;
    bl_audio_reader *r = NULL;
    if (bl_audio_open(path, &r) == BL_OK) {
        const bl_audio_info *info = bl_audio_get_info(r);
        in.channels = info->channels;
        in.sample_rate = info->sample_rate;
        in.frames = info->frames;
        bl_audio_close(r);
        if (in.frames >= 0 && in.start_s >= (double)in.frames / in.sample_rate) {
            BL_LOG_D("%s: %s ends before the window starts, skipped", where, path);
            return BL_OK;
        }
    } else {
        in.channels = 1;
        in.probe_error = strdup(bl_error_message());
        BL_CHECK_ALLOC(in.probe_error);
    }
    in.path = strdup(path);
    in.key = strdup(key);
    char *rp = realpath(path, NULL);
    if (!rp) rp = strdup(path);
    if (!in.path || !in.key || !rp) {
        free(in.path), free(in.key), free(rp), free(in.probe_error);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory listing %s", path);
    }
    bl_plan *p = b->plan;
    if (p->n_inputs == b->cap_inputs) {
        size_t cap = b->cap_inputs ? b->cap_inputs * 2 : 64;
        bl_input *v = realloc(p->inputs, cap * sizeof *v);
        char **rv = v ? realloc(b->real, cap * sizeof *rv) : NULL;
        if (v) p->inputs = v;
        if (rv) b->real = rv;
        if (!v || !rv) {
            free(in.path), free(in.key), free(rp), free(in.probe_error);
            return BL_ERROR(BL_ERR_NOMEM, "out of memory listing %s", path);
        }
        b->cap_inputs = cap;
    }
    b->real[p->n_inputs] = rp;
    p->inputs[p->n_inputs++] = in;
    *added = true;
    return BL_OK;
}

static bl_status read_file(const char *path, char **text, size_t *len) {
    return bl_infile_read_all(path, "source manifest", (size_t)1 << 31, text, len);
}

static bool ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static bl_status expand_manifest(builder *b, const bl_source_cfg *src, size_t si, size_t *n_added) {
    const char *mpath = src->path;
    char *text = NULL;
    size_t len = 0;
    BL_TRY(read_file(mpath, &text, &len));
    bl_source_manifest m;
    bl_status s = bl_source_manifest_parse(text, len, mpath, &m);
    free(text);
    BL_TRY(s);
    /* The manifest's folder, as written ("" for a bare file name). */
    char dir[PATH_MAX];
    const char *slash = strrchr(mpath, '/');
    size_t dl = slash ? (size_t)(slash - mpath) + 1 : 0;
    if (dl >= sizeof dir) dl = 0;
    memcpy(dir, mpath, dl);
    dir[dl] = '\0';
    char path[PATH_MAX], where[PATH_MAX + 64];
    for (size_t i = 0; i < m.n && s == BL_OK; i++) {
        const bl_source_manifest_row *r = &m.rows[i];
        snprintf(where, sizeof where, "%s:%d", mpath, r->line);
        if (r->path[0] == '/') s = join("", r->path, path, sizeof path);
        else s = join(dir, r->path, path, sizeof path);
        if (s != BL_OK) break;
        /* A listed file that is missing or unreadable stays in the plan (probe_error set), so
         * that the run reports it per input and goes on with the others. */
        if (!is_regular(path)) BL_LOG_W("%s: %s is not a readable file", where, path);
        bool added;
        s = add_input(b, src, si, path, r->key ? r->key : r->path, r->start, r->end, r->start_time, where,
                      &added);
        if (s == BL_OK && added) (*n_added)++;
    }
    bl_source_manifest_free(&m);
    return s;
}

typedef struct {
    const char *real;
    double start_s, end_s;
    size_t idx;
} dupkey;

static int cmp_dup(const void *a, const void *b) {
    const dupkey *x = a, *y = b;
    int c = strcmp(x->real, y->real);
    if (c) return c;
    if (x->start_s != y->start_s) return x->start_s < y->start_s ? -1 : 1;
    if (x->end_s != y->end_s) return x->end_s < y->end_s ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Keep the first of inputs with the same file (resolved path) and the same time window. */
static bl_status drop_duplicates(builder *b) {
    bl_plan *p = b->plan;
    if (p->n_inputs < 2) return BL_OK;
    dupkey *k = malloc(p->n_inputs * sizeof *k);
    bool *drop = calloc(p->n_inputs, sizeof *drop);
    if (!k || !drop) {
        free(k), free(drop);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory checking %zu inputs for duplicates", p->n_inputs);
    }
    for (size_t i = 0; i < p->n_inputs; i++)
        k[i] = (dupkey){b->real[i], p->inputs[i].start_s, p->inputs[i].end_s, i};
    qsort(k, p->n_inputs, sizeof *k, cmp_dup);
    for (size_t i = 1; i < p->n_inputs; i++)
        if (!strcmp(k[i].real, k[i - 1].real) && k[i].start_s == k[i - 1].start_s &&
            k[i].end_s == k[i - 1].end_s)
            drop[k[i].idx] = true;
    size_t w = 0;
    for (size_t i = 0; i < p->n_inputs; i++) {
        if (drop[i]) {
            BL_LOG_D("%s is listed twice; keeping the first", p->inputs[i].path);
            free(p->inputs[i].path), free(p->inputs[i].key), free(p->inputs[i].probe_error);
            free(b->real[i]);
            continue;
        }
        b->real[w] = b->real[i];
        p->inputs[w++] = p->inputs[i];
    }
    p->n_inputs = w;
    free(k);
    free(drop);
    return BL_OK;
}

/* A source path that is neither a folder, a regular file nor a glob: say what it is. */
static bl_status explain_missing(const char *where, const char *path) {
    struct stat st, ls;
    if (stat(path, &st) == 0) {
        const char *kind = S_ISFIFO(st.st_mode)  ? "a FIFO (named pipe)"
                           : S_ISCHR(st.st_mode) ? "a character device"
                           : S_ISBLK(st.st_mode) ? "a block device"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                                                  : "not a regular file";
        return BL_ERROR(BL_ERR_CONFIG, "%s: %s is %s; a source is an audio file, a folder, a glob or a manifest "
                        ".csv", where, path, kind);
    }
    int e = errno;
    if (e == ELOOP)
        return BL_ERROR(BL_ERR_CONFIG, "%s: %s: the symbolic links loop (a link points back to itself)", where, path);
    if (e == ENOENT && lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode))
        return BL_ERROR(BL_ERR_NOT_FOUND, "%s: %s is a symbolic link to a file that does not exist", where, path);
    if (e == EACCES) return BL_ERROR(BL_ERR_IO, "%s: %s: permission denied", where, path);
    return BL_ERROR(BL_ERR_NOT_FOUND, "%s: %s: no such file or directory", where, path);
}

static bl_status expand_source(builder *b, const bl_source_cfg *src, size_t si) {
    const char *path = src->path;
    char where[64];
    snprintf(where, sizeof where, "sources[%zu]", si);
    BL_RETURN_IF(!path || !*path, BL_ERR_CONFIG, "%s: empty path", where);
    BL_RETURN_IF(strstr(path, "://") != NULL, BL_ERR_UNSUPPORTED,
                 "%s: %s: remote sources (http, s3, gs) are not supported by this build yet; copy the "
                 "files locally and give their path",
                 where, path);
    size_t added = 0;
    strlist files = {0}, bad = {0}, why = {0};
    bl_status s = BL_OK;
    const char *kind;
    if (is_dir(path)) {
        kind = "directory";
        s = walk_dir(path, 0, &files, &bad, &why);
        if (s == BL_OK) sl_sort(&files);
    } else if (is_regular(path) && ends_with_ci(path, ".csv")) {
        BL_TRY(expand_manifest(b, src, si, &added));
        BL_RETURN_IF(added == 0, BL_ERR_NOT_FOUND, "%s: manifest %s lists no file%s", where, path,
                     src->start || src->end ? " in the time window" : "");
        return BL_OK;
    } else if (is_regular(path)) {
        kind = "file";
        s = sl_push(&files, path);
    } else if (has_magic(path)) {
        kind = "glob";
        s = expand_glob(path, &files);
    } else {
        return explain_missing(where, path);
    }
    for (size_t i = 0; i < files.n && s == BL_OK; i++) {
        char w[PATH_MAX + 80];
        snprintf(w, sizeof w, "%s (%s)", where, files.v[i]);
        bool ok;
        s = add_input(b, src, si, files.v[i], files.v[i], NULL, NULL, NULL, w, &ok);
        if (s == BL_OK && ok) added++;
    }
    /* what the folder walk could not scan: failed inputs, after the files (in walk order) */
    for (size_t i = 0; i < bad.n && s == BL_OK; i++) {
        bool ok;
        s = add_input(b, src, si, bad.v[i], bad.v[i], NULL, NULL, NULL, where, &ok);
        if (s == BL_OK && ok) {
            bl_input *in = &b->plan->inputs[b->plan->n_inputs - 1];
            free(in->probe_error);
            in->probe_error = strdup(why.v[i]);
            in->channels = 1;
            in->sample_rate = 0;
            in->unscannable = true;
            if (!in->probe_error) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
            added++;
        }
    }
    sl_free(&bad);
    sl_free(&why);
    if (s == BL_OK && added == 0) {
        if (files.n == 0)
            s = BL_ERROR(BL_ERR_NOT_FOUND, "%s: %s %s matches no %sfile", where, kind, path,
                         !strcmp(kind, "directory") ? "audio (wav, flac, ogg, mp3, aif, aiff, w64, rf64) " : "");
        else
            s = BL_ERROR(BL_ERR_NOT_FOUND, "%s: no file of %s overlaps the time window (start %s, end %s)",
                         where, path, src->start ? src->start : "null", src->end ? src->end : "null");
    }
    sl_free(&files);
    return s;
}

void bl_plan_free(bl_plan *plan) {
    if (!plan) return;
    for (size_t i = 0; i < plan->n_inputs; i++) {
        free(plan->inputs[i].path);
        free(plan->inputs[i].key);
        free(plan->inputs[i].probe_error);
    }
    free(plan->inputs);
    free(plan->items);
    memset(plan, 0, sizeof *plan);
}

bl_status bl_plan_build(const bl_source_cfg *sources, size_t n_sources, bl_plan *plan) {
    BL_RETURN_IF((!sources && n_sources) || !plan, BL_ERR_INVALID_ARG, "bl_plan_build: NULL argument");
    memset(plan, 0, sizeof *plan);
    BL_RETURN_IF(n_sources == 0, BL_ERR_CONFIG, "sources: no source given; list files, folders, "
                 "globs or manifests under `sources:`");
    builder b = {plan, 0, NULL};
    bl_status s = BL_OK;
    for (size_t i = 0; i < n_sources && s == BL_OK; i++) s = expand_source(&b, &sources[i], i);
    if (s == BL_OK) s = drop_duplicates(&b);
    for (size_t i = 0; i < plan->n_inputs; i++) free(b.real[i]);
    free(b.real);
    if (s == BL_OK) {
        size_t n = 0;
        for (size_t i = 0; i < plan->n_inputs; i++) n += (size_t)plan->inputs[i].channels;
        plan->items = malloc((n ? n : 1) * sizeof *plan->items);
        if (!plan->items) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for %zu work items", n);
        for (size_t i = 0; s == BL_OK && i < plan->n_inputs; i++)
            for (int c = 0; c < plan->inputs[i].channels; c++) {
                bl_work_item *w = &plan->items[plan->n_items];
                w->index = (int64_t)plan->n_items;
                w->input = i;
                w->channel = c;
                plan->n_items++;
            }
    }
    if (s != BL_OK) bl_plan_free(plan);
    return s;
}
