/* test_outputs.c — the output directory (io/outputs.h): plan order, chunk cuts, zstd frames
 * with checksums, manifest content, exact resume after crashes at every step of the commit
 * protocol (SIGKILL at the fault-injection points, and torn writes through the injected ENOSPC
 * budget), the fingerprint check, the lock, disk full (injected, and on a real 200 KiB tmpfs
 * when mounting is permitted), and the small pieces (SHA-256 vectors, CSV quoting, JSON).
 */
#include <errno.h>     /* errno */
#include <signal.h>    /* SIGKILL */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>    /* setenv, unsetenv */
#include <string.h>
#include <sys/mount.h> /* mount/umount of the small tmpfs */
#include <sys/stat.h>  /* mkdir */
#include <sys/wait.h>  /* waitpid */
#include <unistd.h>    /* fork, _exit */
#include <zstd.h>      /* independent decompression of the chunks */

#include "io/journal.h"  /* bl_fingerprint_diff */
#include "io/json.h"     /* bl_json_parse */
#include "io/manifest.h" /* bl_manifest_load */
#include "io/outputs.h"  /* the module under test */
#include "io/sha256.h"   /* bl_sha256_hex */
#include "io/zchunk.h"   /* bl_zchunk_read */
#include "testutil.h"

#define N_ITEMS 24
#define FAILED_ITEM 7
static const char *k_seg_header = "source,channel,start_s,end_s,class,max,mean";
static const char *k_ev_header = "source,channel,class,start_s,end_s,peak,mean";

/* Deterministic rows of item i. `noisy` adds incompressible hex so that chunks are large. */
typedef struct {
    char seg[8192], ev[2048], key[160], src[64];
    bl_item_result r;
} item_buf;

static uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
    return x;
}

static void make_item(int i, bool noisy, item_buf *b) {
    memset(&b->r, 0, sizeof b->r);
    snprintf(b->src, sizeof b->src, "rec %02d.wav", i / 2); /* a space: harmless, a comma: quoted */
    snprintf(b->key, sizeof b->key, "%s|%d|0|-1", b->src, i % 2);
    b->r.item = i;
    b->r.key = b->key;
    b->r.source = b->src;
    b->r.channel = i % 2;
    b->r.t0_s = 0;
    b->r.t1_s = 60.0 + i;
    if (i == FAILED_ITEM) {
        b->r.failed = true;
        b->r.error_stage = "decode";
        b->r.error_message = "truncated WAV, \"data\" chunk too short";
        b->r.error_status = BL_ERR_DECODE;
        return;
    }
    int n_seg = 3 + i % 5, len = 0;
    for (int k = 0; k < n_seg; k++) {
        len += snprintf(b->seg + len, sizeof b->seg - (size_t)len, "\"%s\",%d,%d,%d,whale,0.%06d,0.%06d", b->src,
                        i % 2, 60 * k, 60 * k + 60, (int)(mix((uint64_t)i * 100 + k) % 1000000),
                        (int)(mix((uint64_t)i * 100 + k + 50) % 1000000));
        if (noisy)
            for (int q = 0; q < 12; q++)
                len += snprintf(b->seg + len, sizeof b->seg - (size_t)len, ",%016llx",
                                (unsigned long long)mix((uint64_t)i * 10007 + (uint64_t)k * 31 + (uint64_t)q));
        b->seg[len++] = '\n';
    }
    b->seg[len] = '\0';
    b->r.rows[BL_TABLE_SEGMENTS] = b->seg;
    b->r.rows_len[BL_TABLE_SEGMENTS] = (size_t)len;
    b->r.n_rows[BL_TABLE_SEGMENTS] = n_seg;
    if (i % 3 == 0) {
        int el = snprintf(b->ev, sizeof b->ev, "\"%s\",%d,whale,%d.5,%d.75,0.9,0.7\n", b->src, i % 2, i, i + 1);
        b->r.rows[BL_TABLE_EVENTS] = b->ev;
        b->r.rows_len[BL_TABLE_EVENTS] = (size_t)el;
        b->r.n_rows[BL_TABLE_EVENTS] = 1;
    }
}

static bl_outdir_opts opts_for(const char *dir, bool resume, const char *fp) {
    bl_outdir_opts o = {.dir = dir, .rows_per_chunk = 10, .zstd_level = 3, .resume = resume, .fingerprint = fp};
    o.headers[BL_TABLE_SEGMENTS] = k_seg_header;
    o.headers[BL_TABLE_EVENTS] = k_ev_header;
    return o;
}
static const char *k_fp = "model.sha256=abc\nfrontend.n_mels=64\npooling.segment_seconds=60\n";

/* A fixed permutation of 0..N-1 that is far from plan order. */
static void shuffled(int *order) {
    for (int i = 0; i < N_ITEMS; i++) order[i] = i;
    for (int i = N_ITEMS - 1; i > 0; i--) {
        int j = (int)(mix((uint64_t)i + 7) % (uint64_t)(i + 1));
        int t = order[i]; order[i] = order[j]; order[j] = t;
    }
}

/* Commit the items of `order` not yet done, then close. Returns the first non-OK status. */
static bl_status run_items(const char *dir, bool resume, const int *order, bool noisy, bool close_it) {
    bl_outdir_opts o = opts_for(dir, resume, k_fp);
    bl_outdir *od;
    bl_status s = bl_outdir_open(&o, &od);
    if (s != BL_OK) return s;
    item_buf b;
    for (int k = 0; k < N_ITEMS; k++) {
        if (bl_outdir_item_done(od, order[k])) continue;
        make_item(order[k], noisy, &b);
        if ((s = bl_outdir_commit_item(od, &b.r)) != BL_OK) {
            bl_outdir_abort(od);
            return s;
        }
    }
    if (!close_it) {
        bl_outdir_abort(od);
        return BL_OK;
    }
    int64_t n_failed = -1;
    s = bl_outdir_close(od, &n_failed);
    if (s == BL_OK && n_failed != 1) return BL_ERROR(BL_ERR_INTERNAL, "n_failed %lld", (long long)n_failed);
    return s;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)n + 1);
    *len = fread(d, 1, (size_t)n, f);
    d[*len] = '\0';
    fclose(f);
    return d;
}

/* Compare the listed chunks, manifest.json and errors.csv of two directories byte by byte. */
static int same_outputs(const char *a, const char *b, const char *what) {
    char pa[8300], pb[8300];
    snprintf(pa, sizeof pa, "%s/manifest.json", a);
    bl_manifest m;
    if (bl_manifest_load(pa, &m) != BL_OK) {
        fprintf(stderr, "%s: %s\n", what, bl_error_message());
        return 0;
    }
    int ok = 1;
    const char *files[64];
    int nf = 0;
    files[nf++] = "manifest.json";
    files[nf++] = "errors.csv";
    for (int t = 0; t < BL_TABLE_COUNT; t++)
        for (size_t i = 0; i < m.tables[t].n_chunks && nf < 64; i++) files[nf++] = m.tables[t].chunks[i].path;
    for (int i = 0; i < nf && ok; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        size_t la = 0, lb = 0;
        char *da = slurp(pa, &la), *db = slurp(pb, &lb);
        if (!da || !db || la != lb || memcmp(da, db, la) != 0) {
            fprintf(stderr, "%s: %s differs (%zu vs %zu bytes)\n", what, files[i], la, lb);
            char cmd[16700];
            snprintf(cmd, sizeof cmd, "diff '%s' '%s' >&2", pa, pb);
            if (!strcmp(files[i], "manifest.json")) bl_test_run(cmd);
            ok = 0;
        }
        free(da);
        free(db);
    }
    /* no unlisted part files may remain */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "test $(ls %s/segments %s/events | grep -c part-) -eq %d", a, a, nf - 2);
    if (ok && bl_test_run(cmd) != 0) {
        fprintf(stderr, "%s: unlisted chunk files remain in %s\n", what, a);
        ok = 0;
    }
    bl_manifest_free(&m);
    return ok;
}

typedef struct { bl_strbuf text; } collect;
static bl_status collect_sink(void *u, const char *d, size_t n) {
    bl_strbuf_append(&((collect *)u)->text, d, n);
    return BL_OK;
}

/* Every listed chunk verifies (sha256 + zstd checksum) and row counts match. */
static int dir_valid(const char *dir, int64_t *rows_out) {
    char p[8300];
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    bl_manifest m;
    if (bl_manifest_load(p, &m) != BL_OK) {
        fprintf(stderr, "manifest of %s: %s\n", dir, bl_error_message());
        return 0;
    }
    int ok = 1;
    int64_t rows = 0;
    for (int t = 0; t < BL_TABLE_COUNT; t++)
        for (size_t i = 0; i < m.tables[t].n_chunks; i++) {
            const bl_manifest_chunk *c = &m.tables[t].chunks[i];
            snprintf(p, sizeof p, "%s/%s", dir, c->path);
            collect col = {{0}};
            if (bl_zchunk_read(p, c->sha256, collect_sink, &col, NULL) != BL_OK) {
                fprintf(stderr, "%s\n", bl_error_message());
                ok = 0;
            } else {
                int64_t lines = 0;
                for (size_t k = 0; k < col.text.len; k++) lines += col.text.data[k] == '\n';
                if (lines - 1 != c->rows) ok = 0;
                if (t == BL_TABLE_SEGMENTS) rows += c->rows;
            }
            bl_strbuf_free(&col.text);
        }
    bl_manifest_free(&m);
    if (rows_out) *rows_out = rows;
    return ok;
}

static void rm_rf(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    bl_test_run(cmd);
}

static char g_ref[4096], g_ref_noisy[4096];

static int test_order_and_chunks(void) {
    int order[N_ITEMS], inorder[N_ITEMS];
    shuffled(order);
    for (int i = 0; i < N_ITEMS; i++) inorder[i] = i;
    snprintf(g_ref, sizeof g_ref, "%s", bl_test_tmpdir("outputs_ref"));
    BL_REQUIRE(run_items(g_ref, false, inorder, false, true) == BL_OK, "%s", bl_error_message());
    const char *shuf = bl_test_tmpdir("outputs_shuf");
    BL_REQUIRE(run_items(shuf, false, order, false, true) == BL_OK, "%s", bl_error_message());
    BL_CHECK(same_outputs(shuf, g_ref, "shuffled commit order"), "out-of-order commits change the output");

    /* decompress every chunk independently with libzstd and rebuild the expected text */
    char p[8300];
    snprintf(p, sizeof p, "%s/manifest.json", g_ref);
    bl_manifest m;
    BL_REQUIRE(bl_manifest_load(p, &m) == BL_OK, "%s", bl_error_message());
    BL_CHECK(m.complete && m.items_committed == N_ITEMS, "complete %d items %lld", m.complete,
             (long long)m.items_committed);
    bl_strbuf want = {0}, got = {0};
    item_buf b;
    for (int i = 0; i < N_ITEMS; i++) {
        make_item(i, false, &b);
        if (!b.r.failed) bl_strbuf_append(&want, b.seg, b.r.rows_len[0]);
    }
    const bl_manifest_table *seg = &m.tables[BL_TABLE_SEGMENTS];
    BL_CHECK(seg->n_chunks >= 3, "only %zu segment chunks", seg->n_chunks);
    int64_t prev_last = -1;
    for (size_t i = 0; i < seg->n_chunks; i++) {
        const bl_manifest_chunk *c = &seg->chunks[i];
        snprintf(p, sizeof p, "%s/%s", g_ref, c->path);
        size_t len;
        char *data = slurp(p, &len);
        BL_REQUIRE(data, "cannot read %s", p);
        char hex[65];
        bl_sha256_hex(data, len, hex);
        BL_CHECK(!strcmp(hex, c->sha256), "sha256 of %s", c->path);
        BL_CHECK((int64_t)len == c->bytes, "bytes of %s", c->path);
        BL_CHECK(len > 6 && (data[4] & 0x04), "%s: no content checksum flag", c->path);
        BL_CHECK(ZSTD_findFrameCompressedSize(data, len) == len, "%s: not exactly one frame", c->path);
        unsigned long long cs = ZSTD_getFrameContentSize(data, len);
        BL_REQUIRE(cs != ZSTD_CONTENTSIZE_UNKNOWN && cs != ZSTD_CONTENTSIZE_ERROR, "%s: no content size", c->path);
        char *raw = malloc(cs + 1);
        size_t dn = ZSTD_decompress(raw, cs, data, len);
        BL_REQUIRE(!ZSTD_isError(dn) && dn == cs, "%s: %s", c->path, ZSTD_getErrorName(dn));
        size_t hl = strlen(k_seg_header);
        BL_CHECK(dn > hl && !memcmp(raw, k_seg_header, hl) && raw[hl] == '\n', "%s: no header line", c->path);
        int64_t lines = 0;
        for (size_t k = hl + 1; k < dn; k++) lines += raw[k] == '\n';
        BL_CHECK(lines == c->rows, "%s: %lld lines, manifest says %lld", c->path, (long long)lines, (long long)c->rows);
        BL_CHECK(i + 1 == seg->n_chunks || c->rows >= 10, "%s: cut below rows_per_chunk (%lld rows)", c->path,
                 (long long)c->rows);
        BL_CHECK(c->first_item > prev_last && c->first_item <= prev_last + 2, "%s: first_item %lld after %lld", c->path,
                 (long long)c->first_item, (long long)prev_last);
        prev_last = c->last_item;
        BL_CHECK(c->n_spans >= 1 && !strncmp(c->spans[0].source, "rec ", 4), "%s: spans", c->path);
        bl_strbuf_append(&got, raw + hl + 1, dn - hl - 1);
        free(raw);
        free(data);
    }
    BL_CHECK(prev_last == N_ITEMS - 1, "last chunk ends at item %lld", (long long)prev_last);
    BL_CHECK(got.len == want.len && !memcmp(got.data, want.data, want.len), "rows not in plan order");
    /* the events table: every third item has one event; chunks cut independently */
    const bl_manifest_table *ev = &m.tables[BL_TABLE_EVENTS];
    int64_t ev_rows = 0;
    for (size_t i = 0; i < ev->n_chunks; i++) ev_rows += ev->chunks[i].rows;
    BL_CHECK(ev_rows == N_ITEMS / 3, "events rows %lld", (long long)ev_rows);
    BL_CHECK(ev->header && !strcmp(ev->header, k_ev_header), "events header");
    bl_strbuf_free(&want);
    bl_strbuf_free(&got);
    bl_manifest_free(&m);
    /* errors.csv lists the failed item with its reason, quoted per RFC 4180 */
    snprintf(p, sizeof p, "%s/errors.csv", g_ref);
    size_t el;
    char *errs = slurp(p, &el);
    BL_REQUIRE(errs, "errors.csv missing");
    BL_CHECK(strstr(errs, "source,channel,stage,status,message\nrec 03.wav,1,decode,BL_ERR_DECODE,"
                          "\"truncated WAV, \"\"data\"\" chunk too short\"\n") != NULL, "errors.csv: %s", errs);
    free(errs);
    /* no checkpoint carry files remain after a clean close */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "! ls %s/checkpoint | grep -q carry", g_ref);
    BL_CHECK(bl_test_run(cmd) == 0, "carry files left after close");
    return 0;
}

/* Child: run with a fault (crash point or ENOSPC budget) and die without cleanup. */
static int crash_child(const char *dir, bool resume, const char *env, const char *val, bool noisy) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setenv(env, val, 1);
        int order[N_ITEMS];
        shuffled(order);
        run_items(dir, resume, order, noisy, true);
        _exit(0); /* no abort/close after an injected failure: as abrupt as a crash */
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

static int test_crash_resume(void) {
    static const char *points[] = {"chunk_renamed", "carry_written", "journal_written", "manifest_written"};
    int order[N_ITEMS];
    shuffled(order);
    int n_cases = 0;
    for (int pi = 0; pi < 4; pi++)
        for (int n = 1; n <= 25; n += 3) {
            char val[64];
            snprintf(val, sizeof val, "%s:%d", points[pi], n);
            const char *dir = bl_test_tmpdir("outputs_crash");
            int st = crash_child(dir, false, "BL_TEST_CRASH_AT", val, false);
            bool killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
            /* resume (itself interrupted once more for odd n), then finish */
            if (n % 2) crash_child(dir, true, "BL_TEST_CRASH_AT", points[(pi + 1) % 4], false);
            bl_status s = run_items(dir, true, order, false, true);
            BL_CHECK(s == BL_OK, "resume after crash at %s: %s", val, bl_error_message());
            char what[128];
            snprintf(what, sizeof what, "crash at %s%s", val, killed ? "" : " (not reached)");
            BL_CHECK(same_outputs(dir, g_ref, what), "resumed output differs after crash at %s", val);
            n_cases += killed;
            rm_rf(dir);
        }
    BL_CHECK(n_cases >= 12, "only %d crash points were reached", n_cases);
    /* torn writes: ENOSPC cut at many byte offsets, the child stops dead there */
    for (int budget = 0; budget < 9000; budget += 397) {
        char val[32];
        snprintf(val, sizeof val, "%d", budget);
        const char *dir = bl_test_tmpdir("outputs_torn");
        crash_child(dir, false, "BL_TEST_ENOSPC_AFTER_BYTES", val, false);
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "touch %s/segments/part-00099.csv.zst.tmp 2>/dev/null; true", dir);
        bl_test_run(cmd); /* what a crash mid-write leaves behind */
        bl_status s = run_items(dir, true, order, false, true);
        BL_CHECK(s == BL_OK, "resume after ENOSPC at %d bytes: %s", budget, bl_error_message());
        char what[64];
        snprintf(what, sizeof what, "torn write at %d bytes", budget);
        BL_CHECK(same_outputs(dir, g_ref, what), "resumed output differs after %s", what);
        rm_rf(dir);
    }
    return 0;
}

static int test_fingerprint_lock_reuse(void) {
    const char *dir = bl_test_tmpdir("outputs_fp");
    int order[N_ITEMS];
    shuffled(order);
    BL_REQUIRE(crash_child(dir, false, "BL_TEST_CRASH_AT", "journal_written:5", false) != 0, "child not killed");
    bl_outdir_opts o = opts_for(dir, true, "model.sha256=abc\nfrontend.n_mels=128\npooling.segment_seconds=60\n");
    bl_outdir *od = NULL;
    bl_status s = bl_outdir_open(&o, &od);
    BL_CHECK(s == BL_ERR_CONFIG, "different fingerprint accepted (%s)", bl_errname(s));
    BL_CHECK(strstr(bl_error_message(), "frontend.n_mels: was '64', now '128'") != NULL, "message: %s",
             bl_error_message());
    char msg[512];
    BL_CHECK(!bl_fingerprint_diff("a=1\nb=2\n", "a=1\nc=3\n", msg, sizeof msg), "diff missed");
    BL_CHECK(strstr(msg, "b: was '2', now absent") && strstr(msg, "c: was absent, now '3'"), "diff: %s", msg);
    /* without --resume the folder is refused */
    o = opts_for(dir, false, k_fp);
    s = bl_outdir_open(&o, &od);
    BL_CHECK(s == BL_ERR_IO && strstr(bl_error_message(), "--resume"), "reuse without --resume: %s",
             bl_error_message());
    /* lock: a second open of the same folder fails while the first holds it */
    o = opts_for(dir, true, k_fp);
    BL_REQUIRE(bl_outdir_open(&o, &od) == BL_OK, "%s", bl_error_message());
    bl_outdir *od2 = NULL;
    s = bl_outdir_open(&o, &od2);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    BL_CHECK(s == BL_ERR_IO && strstr(bl_error_message(), "in use by another baleen run") &&
                 strstr(bl_error_message(), pid), "second open: %s %s", bl_errname(s), bl_error_message());
    if (od2) bl_outdir_abort(od2);
    BL_CHECK(bl_outdir_n_done(od) == 4, "n_done %lld after a crash at the 5th journal line",
             (long long)bl_outdir_n_done(od));
    bl_outdir_abort(od);
    /* after abort, the lock is free again and the run completes */
    BL_CHECK(run_items(dir, true, order, false, true) == BL_OK, "%s", bl_error_message());
    BL_CHECK(same_outputs(dir, g_ref, "after lock test"), "differs");
    return 0;
}

static int test_enospc_injected(void) {
    const char *dir = bl_test_tmpdir("outputs_enospc");
    int order[N_ITEMS];
    shuffled(order);
    setenv("BL_TEST_ENOSPC_AFTER_BYTES", "3000", 1);
    bl_status s = run_items(dir, false, order, false, true);
    unsetenv("BL_TEST_ENOSPC_AFTER_BYTES");
    BL_CHECK(s == BL_ERR_NO_SPACE, "got %s", bl_errname(s));
    BL_CHECK(strstr(bl_error_message(), dir) && strstr(bl_error_message(), "--resume"), "message: %s",
             bl_error_message());
    int64_t rows = 0;
    BL_CHECK(dir_valid(dir, &rows), "directory invalid after ENOSPC");
    BL_CHECK(run_items(dir, true, order, false, true) == BL_OK, "resume: %s", bl_error_message());
    BL_CHECK(same_outputs(dir, g_ref, "after injected ENOSPC"), "differs");
    BL_CHECK(dir_valid(dir, &rows), "directory invalid after resume");
    return 0;
}

static int test_enospc_tmpfs(void) {
    if (geteuid() != 0) {
        fprintf(stderr, "tmpfs sub-test skipped: not root\n");
        return 0;
    }
    int inorder[N_ITEMS];
    for (int i = 0; i < N_ITEMS; i++) inorder[i] = i;
    snprintf(g_ref_noisy, sizeof g_ref_noisy, "%s", bl_test_tmpdir("outputs_noisy_ref"));
    BL_REQUIRE(run_items(g_ref_noisy, false, inorder, true, true) == BL_OK, "%s", bl_error_message());
    char mnt[4096];
    snprintf(mnt, sizeof mnt, "%s", bl_test_tmpdir("outputs_tmpfs"));
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0) {
        fprintf(stderr, "tmpfs sub-test skipped: mount not permitted (%s)\n", strerror(errno));
        return 0;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/out", mnt);
    bl_status s = run_items(dir, false, inorder, true, true);
    BL_CHECK(s == BL_ERR_NO_SPACE, "a 64 KiB tmpfs did not fill up: %s", bl_errname(s));
    BL_CHECK(strstr(bl_error_message(), mnt) != NULL, "message does not name the path: %s", bl_error_message());
    fprintf(stderr, "tmpfs full as expected: %s\n", bl_error_message());
    int64_t rows = 0;
    BL_CHECK(dir_valid(dir, &rows), "directory invalid on the full tmpfs");
    BL_CHECK(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=16m") == 0, "remount: %s", strerror(errno));
    s = run_items(dir, true, inorder, true, true);
    BL_CHECK(s == BL_OK, "resume after freeing space: %s", bl_error_message());
    BL_CHECK(same_outputs(dir, g_ref_noisy, "tmpfs resume"), "differs");
    if (umount(mnt) != 0) fprintf(stderr, "umount %s: %s\n", mnt, strerror(errno));
    return 0;
}

static int test_small_pieces(void) {
    char hex[65];
    bl_sha256_hex("abc", 3, hex);
    BL_CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256(abc)");
    bl_sha256_hex("", 0, hex);
    BL_CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "sha256('')");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    bl_sha256_hex(two, strlen(two), hex);
    BL_CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "sha256(448 bits)");
    bl_sha256 st;
    bl_sha256_init(&st);
    char a[1000];
    memset(a, 'a', sizeof a);
    for (int i = 0; i < 1000; i++) bl_sha256_update(&st, a, sizeof a); /* in odd pieces too */
    bl_sha256_final_hex(&st, hex);
    BL_CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "sha256(1M a)");
    char q[64];
    BL_CHECK(bl_csv_quote("plain", q, sizeof q) == 5 && !strcmp(q, "plain"), "plain");
    BL_CHECK(bl_csv_quote("a,\"b\"", q, sizeof q) == 9 && !strcmp(q, "\"a,\"\"b\"\"\""), "quoted: %s", q);
    BL_CHECK(bl_csv_quote("x\ny", NULL, 0) == 5, "size query");
    bl_json *j = NULL;
    const char *doc = "{\"a\": [1, 2.5e3, \"\\u00e9\\ud83d\\ude00\"], \"b\": null}";
    BL_CHECK(bl_json_parse(doc, strlen(doc), "t", &j) == BL_OK, "%s", bl_error_message());
    if (j) {
        const bl_json *arr = bl_json_get(j, "a");
        BL_CHECK(arr && arr->n_items == 3 && arr->items[0]->is_integer && arr->items[1]->number == 2500 &&
                     !strcmp(arr->items[2]->string, "\xc3\xa9\xf0\x9f\x98\x80"), "json values");
        bl_json_free(j);
    }
    static const char *bad[] = {"{\"a\":1,}", "[01]", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "[1] x", "{'a':1}", "[1.]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = NULL;
        BL_CHECK(bl_json_parse(bad[i], strlen(bad[i]), "t", &j) == BL_ERR_FORMAT, "accepted %s", bad[i]);
        bl_json_free(j);
    }
    return 0;
}

int main(void) {
    if (test_small_pieces()) return 1;
    if (test_order_and_chunks()) return bl_test_finish("outputs");
    test_crash_resume();
    test_fingerprint_lock_reuse();
    test_enospc_injected();
    test_enospc_tmpfs();
    return bl_test_finish("outputs");
}
