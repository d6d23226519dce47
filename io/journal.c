/* journal.c — checkpoint journal lines, fingerprint comparison, directory lock (journal.h).
 *
 * Owns no state; the journal file itself is opened and appended by io/outputs.c. Both readers
 * take files a user may have damaged or edited and grow no faster than n log n: the journal
 * parser makes one pass (tests/fuzz/fuzz_journal.c), the fingerprint comparison sorts.
 * Threading: no shared state.
 */
#include "journal.h"

#include <errno.h>    /* errno */
#include <fcntl.h>    /* open */
#include <stdio.h>    /* snprintf */
#include <stdlib.h>   /* strtoll, strtod, malloc */
#include <string.h>   /* memchr, strcmp */
#include <sys/file.h> /* flock */
#include <unistd.h>   /* getpid, read, ftruncate */

static void put_escaped(bl_strbuf *b, const char *s) {
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '\\': bl_strbuf_append(b, "\\\\", 2); break;
        case '\t': bl_strbuf_append(b, "\\t", 2); break;
        case '\n': bl_strbuf_append(b, "\\n", 2); break;
        case '\r': bl_strbuf_append(b, "\\r", 2); break;
        default: bl_strbuf_append(b, p, 1);
        }
    }
}

void bl_journal_format_line(const bl_journal_line *l, bl_strbuf *b) {
    bl_strbuf_printf(b, "%s\t%lld\t%s", l->is_close ? "close" : "item", (long long)l->item,
                     l->failed ? "failed" : "ok");
    for (int t = 0; t < BL_TABLE_COUNT; t++)
        bl_strbuf_printf(b, "\t%lld\t%lld\t%lld", (long long)l->next_chunk[t], (long long)l->carry_len[t],
                         (long long)l->n_rows[t]);
    bl_strbuf_printf(b, "\t%.17g\t%.17g\t%d\t", l->t0_s, l->t1_s, l->channel);
    put_escaped(b, l->key);
    bl_strbuf_append(b, "\t", 1);
    put_escaped(b, l->source);
    bl_strbuf_append(b, "\t", 1);
    put_escaped(b, l->stage);
    bl_strbuf_append(b, "\t", 1);
    put_escaped(b, l->status);
    bl_strbuf_append(b, "\t", 1);
    put_escaped(b, l->message);
    bl_strbuf_append(b, "\n", 1);
}

void bl_journal_lines_free(bl_journal_line *lines, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(lines[i].key);
        free(lines[i].source);
        free(lines[i].stage);
        free(lines[i].status);
        free(lines[i].message);
    }
    free(lines);
}

/* Unescape field [s, e) into a new string; NULL on a bad escape or no memory. */
static char *unescape(const char *s, const char *e) {
    char *out = malloc((size_t)(e - s) + 1), *o = out;
    if (!out) return NULL;
    for (; s < e; s++) {
        if (*s != '\\') {
            *o++ = *s;
            continue;
        }
        if (++s >= e) { free(out); return NULL; }
        switch (*s) {
        case '\\': *o++ = '\\'; break;
        case 't': *o++ = '\t'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        default: free(out); return NULL;
        }
    }
    *o = '\0';
    return out;
}

#define N_FIELDS (3 + 3 * BL_TABLE_COUNT + 8)

static bool parse_i64(const char *s, const char *e, int64_t *v) {
    char tmp[32];
    if (e <= s || (size_t)(e - s) >= sizeof tmp) return false;
    memcpy(tmp, s, (size_t)(e - s));
    tmp[e - s] = '\0';
    char *end;
    errno = 0;
    long long x = strtoll(tmp, &end, 10);
    if (*end || errno) return false;
    *v = x;
    return true;
}

static bool parse_dbl(const char *s, const char *e, double *v) {
    char tmp[64];
    if (e <= s || (size_t)(e - s) >= sizeof tmp) return false;
    memcpy(tmp, s, (size_t)(e - s));
    tmp[e - s] = '\0';
    char *end;
    *v = strtod(tmp, &end);
    return *end == '\0';
}

static bool parse_line(const char *s, const char *e, bl_journal_line *l) {
    const char *f[N_FIELDS], *fe[N_FIELDS];
    int n = 0;
    memset(l, 0, sizeof *l);
    const char *p = s;
    for (;;) {
        const char *tab = memchr(p, '\t', (size_t)(e - p));
        if (n == N_FIELDS) return false;
        f[n] = p;
        fe[n] = tab ? tab : e;
        n++;
        if (!tab) break;
        p = tab + 1;
    }
    if (n != N_FIELDS) return false;
    if (fe[0] - f[0] == 5 && !memcmp(f[0], "close", 5)) l->is_close = true;
    else if (!(fe[0] - f[0] == 4 && !memcmp(f[0], "item", 4))) return false;
    /* a plan-order index: a negative one would make the resume size its tables from it */
    if (!parse_i64(f[1], fe[1], &l->item) || (!l->is_close && l->item < 0)) return false;
    if (fe[2] - f[2] == 6 && !memcmp(f[2], "failed", 6)) l->failed = true;
    else if (!(fe[2] - f[2] == 2 && !memcmp(f[2], "ok", 2))) return false;
    int k = 3;
    for (int t = 0; t < BL_TABLE_COUNT; t++) {
        if (!parse_i64(f[k], fe[k], &l->next_chunk[t]) || l->next_chunk[t] < 0) return false;
        k++;
        if (!parse_i64(f[k], fe[k], &l->carry_len[t]) || l->carry_len[t] < 0) return false;
        k++;
        if (!parse_i64(f[k], fe[k], &l->n_rows[t]) || l->n_rows[t] < 0) return false;
        k++;
    }
    int64_t ch;
    if (!parse_dbl(f[k], fe[k], &l->t0_s) || !parse_dbl(f[k + 1], fe[k + 1], &l->t1_s) ||
        !parse_i64(f[k + 2], fe[k + 2], &ch) || ch < -1 || ch > 1 << 20)
        return false;
    l->channel = (int)ch;
    k += 3;
    char **dst[5] = {&l->key, &l->source, &l->stage, &l->status, &l->message};
    for (int i = 0; i < 5; i++, k++)
        if (!(*dst[i] = unescape(f[k], fe[k]))) return false;
    return true;
}

bl_status bl_journal_parse(const char *text, size_t len, const char *name, bl_journal_line **lines,
                           size_t *n_lines, int64_t *n_ignored_bytes) {
    *lines = NULL;
    *n_lines = 0;
    *n_ignored_bytes = 0;
    size_t ml = strlen(BL_JOURNAL_MAGIC);
    if (len < ml || memcmp(text, BL_JOURNAL_MAGIC, ml) != 0)
        return BL_ERROR(BL_ERR_FORMAT, "%s is not a baleen checkpoint journal (first line differs)", name);
    size_t cap = 0, n = 0;
    bl_journal_line *ls = NULL;
    const char *p = text + ml, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break; /* torn last line */
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            bl_journal_line *nls = realloc(ls, nc * sizeof *nls);
            if (!nls) {
                bl_journal_lines_free(ls, n);
                return BL_ERROR(BL_ERR_NOMEM, "out of memory reading %s", name);
            }
            ls = nls;
            cap = nc;
        }
        if (!parse_line(p, nl, &ls[n])) {
            bl_journal_line *bad = &ls[n];
            free(bad->key); free(bad->source); free(bad->stage); free(bad->status); free(bad->message);
            break;
        }
        ls[n].end_offset = (int64_t)(nl + 1 - text);
        n++;
        p = nl + 1;
    }
    *n_ignored_bytes = (int64_t)(end - p);
    *lines = ls;
    *n_lines = n;
    return BL_OK;
}

/* ---- fingerprint ---------------------------------------------------------------------- */

/* One line of a fingerprint: [b, e), its key [b, b + kl) (up to the first '=', or the whole
 * line) and its value [vb, e). */
typedef struct {
    const char *b, *e, *vb;
    size_t kl, index;
} fp_line;

static int fp_key_cmp(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int fp_line_cmp(const void *x, const void *y) {
    const fp_line *a = x, *b = y;
    int c = fp_key_cmp(a->b, a->kl, b->b, b->kl);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* Lines of s ('\n'-separated, up to its NUL; no empty line after a final '\n'), in order and
 * sorted by (key, position). NULL *lines with *n == 0 when there are none; false on no memory. */
static bool fp_split(const char *s, fp_line **lines, fp_line **sorted, size_t *n) {
    size_t count = 0, len = strlen(s);
    for (size_t i = 0; i < len; i++) count += s[i] == '\n';
    count += len && s[len - 1] != '\n';
    *lines = *sorted = NULL;
    *n = 0;
    if (!count) return true;
    fp_line *l = malloc(2 * count * sizeof *l);
    if (!l) return false;
    const char *p = s, *end = s + len;
    for (size_t i = 0; i < count; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        l[i] = (fp_line){p, e, eq ? eq + 1 : e, eq ? (size_t)(eq - p) : (size_t)(e - p), i};
        p = e + 1;
    }
    memcpy(l + count, l, count * sizeof *l);
    qsort(l + count, count, sizeof *l, fp_line_cmp);
    *lines = l;
    *sorted = l + count;
    *n = count;
    return true;
}

/* The first line (in document order) of the sorted lines whose key is [k, k + kl), or NULL. */
static const fp_line *fp_find(const fp_line *sorted, size_t n, const char *k, size_t kl) {
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first line whose key is not below k */
        size_t mid = lo + (hi - lo) / 2;
        if (fp_key_cmp(sorted[mid].b, sorted[mid].kl, k, kl) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && !fp_key_cmp(sorted[lo].b, sorted[lo].kl, k, kl) ? &sorted[lo] : NULL;
}

static void add_diff(char *msg, size_t cap, int *n, const char *k, int kl, const char *a, int al,
                     const char *b, int bl) {
    if (*n <= 4 && cap) {
        size_t used = strlen(msg);
        if (*n == 4) snprintf(msg + used, cap - used, "; ...");
        else
            snprintf(msg + used, cap - used, "%s%.*s: was %s%.*s%s, now %s%.*s%s", *n ? "; " : "", kl, k,
                     a ? "'" : "", a ? al : 6, a ? a : "absent", a ? "'" : "", b ? "'" : "", b ? bl : 6,
                     b ? b : "absent", b ? "'" : "");
    }
    (*n)++;
}

/* Each line is looked up in the other text's lines sorted by key: n log n for fingerprints of
 * any length (a config that lists 20,000 sources one by one has 80,000 lines). */
bool bl_fingerprint_diff(const char *old_fp, const char *new_fp, char *msg, size_t cap) {
    old_fp = old_fp ? old_fp : "";
    new_fp = new_fp ? new_fp : "";
    if (cap) msg[0] = '\0';
    fp_line *lines[2], *sorted[2];
    size_t nl[2];
    bool ok0 = fp_split(old_fp, &lines[0], &sorted[0], &nl[0]);
    bool ok1 = ok0 && fp_split(new_fp, &lines[1], &sorted[1], &nl[1]);
    if (!ok1) {
        if (ok0) free(lines[0]);
        if (cap) snprintf(msg, cap, "out of memory comparing the fingerprints");
        return false;
    }
    int n = 0;
    /* keys that changed or went away, then keys that are new */
    for (int pass = 0; pass < 2; pass++) {
        int from = pass, to = 1 - pass;
        for (size_t i = 0; i < nl[from]; i++) {
            const fp_line *l = &lines[from][i];
            if (l->b == l->e) continue;
            const fp_line *o = fp_find(sorted[to], nl[to], l->b, l->kl);
            size_t vl = (size_t)(l->e - l->vb);
            if (o && (size_t)(o->e - o->vb) == vl && !memcmp(o->vb, l->vb, vl)) continue;
            if (pass == 1 && o) continue; /* already reported in pass 0 */
            if (pass == 0)
                add_diff(msg, cap, &n, l->b, (int)l->kl, l->vb, (int)vl, o ? o->vb : NULL,
                         o ? (int)(o->e - o->vb) : 0);
            else
                add_diff(msg, cap, &n, l->b, (int)l->kl, NULL, 0, l->vb, (int)vl);
        }
    }
    free(lines[0]);
    free(lines[1]);
    return n == 0;
}

/* ---- lock ------------------------------------------------------------------------------ */

bl_status bl_outdir_lock_acquire(const char *dir, int *fd_out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return BL_ERROR(BL_ERR_IO, "cannot create the lock file %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t r = pread(fd, pid, sizeof pid - 1, 0);
        if (r > 0) {
            pid[r] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
        }
        close(fd);
        if (e == EWOULDBLOCK)
            return BL_ERROR(BL_ERR_IO,
                            "output directory %s is in use by another baleen run (pid %s holds %s); "
                            "wait for it to finish or choose another -o",
                            dir, pid[0] ? pid : "unknown", path);
        return BL_ERROR(BL_ERR_IO, "cannot lock %s: %s", path, strerror(e));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        /* the pid is only informative; the flock is what protects the directory */
    }
    *fd_out = fd;
    return BL_OK;
}
