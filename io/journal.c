/* journal.c — checkpoint journal lines, fingerprint comparison, directory lock (journal.h).
 *
 * Owns no state; the journal file itself is opened and appended by io/outputs.c.
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
    if (!parse_i64(f[1], fe[1], &l->item)) return false;
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

/* Line i of s as [b, e); false when past the end. */
static bool nth_line(const char *s, size_t i, const char **b, const char **e) {
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

/* Value of key in fp ("key=value" lines): [vb, ve), or false. */
static bool find_key(const char *fp, const char *k, size_t kl, const char **vb, const char **ve) {
    const char *b, *e;
    for (size_t i = 0; nth_line(fp, i, &b, &e); i++) {
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

static void add_diff(char *msg, size_t cap, int *n, const char *k, int kl, const char *a, int al,
                     const char *b, int bl) {
    size_t used = strlen(msg);
    if (*n == 4) snprintf(msg + used, cap - used, "; ...");
    else if (*n < 4)
        snprintf(msg + used, cap - used, "%s%.*s: was %s%.*s%s, now %s%.*s%s", *n ? "; " : "", kl, k,
                 a ? "'" : "", a ? al : 6, a ? a : "absent", a ? "'" : "", b ? "'" : "", b ? bl : 6,
                 b ? b : "absent", b ? "'" : "");
    (*n)++;
}

bool bl_fingerprint_diff(const char *old_fp, const char *new_fp, char *msg, size_t cap) {
    old_fp = old_fp ? old_fp : "";
    new_fp = new_fp ? new_fp : "";
    if (cap) msg[0] = '\0';
    int n = 0;
    const char *b, *e;
    /* keys that changed or went away, then keys that are new */
    for (int pass = 0; pass < 2; pass++) {
        const char *from = pass ? new_fp : old_fp, *to = pass ? old_fp : new_fp;
        for (size_t i = 0; nth_line(from, i, &b, &e); i++) {
            if (b == e) continue;
            const char *eq = memchr(b, '=', (size_t)(e - b));
            size_t kl = eq ? (size_t)(eq - b) : (size_t)(e - b);
            const char *vb, *ve;
            bool found = find_key(to, b, kl, &vb, &ve);
            const char *fvb = eq ? eq + 1 : e;
            if (found && (size_t)(ve - vb) == (size_t)(e - fvb) && !memcmp(vb, fvb, (size_t)(e - fvb))) continue;
            if (pass == 1 && found) continue; /* already reported in pass 0 */
            if (pass == 0)
                add_diff(msg, cap, &n, b, (int)kl, fvb, (int)(e - fvb), found ? vb : NULL, found ? (int)(ve - vb) : 0);
            else
                add_diff(msg, cap, &n, b, (int)kl, NULL, 0, fvb, (int)(e - fvb));
        }
    }
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
