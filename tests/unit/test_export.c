/* test_export.c — `baleen export` (core/export.c, core/cmd_export.c) on an output directory
 * built here through the outputs API: csv (one header, rows in plan order), jsonl (numbers as
 * numbers, quoted text unquoted), raven combined and per source (columns, Channel from 1,
 * Low/High Freq from run.json), the CLI (through $BL_BINARY), and a corrupted chunk detected
 * and named, with no partial output left behind.
 */
#include <stdio.h>
#include <stdlib.h> /* getenv */
#include <string.h>
#include <unistd.h> /* access */

#include "core/export.h" /* the module under test */
#include "io/json.h"     /* check jsonl lines parse */
#include "io/outputs.h"  /* build the directory */
#include "testutil.h"

static const char *k_ev_header = "source,channel,class,start_s,end_s,peak,mean,start_utc,end_utc,clip";
static const char *k_seg_header = "source,channel,start_s,end_s,class,max";

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)n + 1);
    size_t r = fread(d, 1, (size_t)n, f);
    d[r] = '\0';
    fclose(f);
    return d;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* 4 items: sources a/x.wav (2 channels), "b, c.wav" (2 channels); 2 events per item. */
static int build(const char *dir, const char *src_a, const char *src_b) {
    bl_outdir_opts o = {.dir = dir, .rows_per_chunk = 3, .zstd_level = 1, .fingerprint = "k=v\n"};
    o.headers[BL_TABLE_SEGMENTS] = k_seg_header;
    o.headers[BL_TABLE_EVENTS] = k_ev_header;
    bl_outdir *od;
    BL_REQUIRE(bl_outdir_open(&o, &od) == BL_OK, "%s", bl_error_message());
    for (int i = 3; i >= 0; i--) { /* out of order on purpose */
        char seg[512], ev[1024], key[64];
        const char *src = i < 2 ? src_a : src_b;
        char q[64];
        bl_csv_quote(src, q, sizeof q);
        int sl = snprintf(seg, sizeof seg, "%s,%d,0,60,whale,0.%d\n%s,%d,60,120,whale,0.%d\n", q, i % 2, 10 + i, q,
                          i % 2, 20 + i);
        int el = snprintf(ev, sizeof ev,
                          "%s,%d,whale,%d.5,%d.75,0.9%d,0.7,2018-11-01T00:00:0%dZ,2018-11-01T00:00:0%dZ,clips/e%d.flac\n"
                          "%s,%d,\"up, call\",%d.5,%d.75,0.8,0.6,,,\n",
                          q, i % 2, i, i + 1, i, i, i + 1, i, q, i % 2, 10 + i, 11 + i);
        snprintf(key, sizeof key, "%s|%d", src, i % 2);
        bl_item_result r = {.item = i, .key = key, .source = src, .channel = i % 2, .t0_s = 0, .t1_s = 120};
        r.rows[BL_TABLE_SEGMENTS] = seg;
        r.rows_len[BL_TABLE_SEGMENTS] = (size_t)sl;
        r.n_rows[BL_TABLE_SEGMENTS] = 2;
        r.rows[BL_TABLE_EVENTS] = ev;
        r.rows_len[BL_TABLE_EVENTS] = (size_t)el;
        r.n_rows[BL_TABLE_EVENTS] = 2;
        BL_REQUIRE(bl_outdir_commit_item(od, &r) == BL_OK, "%s", bl_error_message());
    }
    char rj[1024], qa[256], qb[256];
    bl_strbuf ja = {0}, jb = {0};
    bl_strbuf_json_string(&ja, src_a);
    bl_strbuf_json_string(&jb, src_b);
    snprintf(qa, sizeof qa, "%s", ja.data);
    snprintf(qb, sizeof qb, "%s", jb.data);
    bl_strbuf_free(&ja);
    bl_strbuf_free(&jb);
    snprintf(rj, sizeof rj, "{\"config\": {\"x\": 1}, \"frontend\": {\"sample_rate\": 16000, \"fmin\": 50, \"fmax\": 0}, "
             "\"inputs\": [{\"key\": %s}, {\"key\": %s}]}", qa, qb);
    BL_REQUIRE(bl_outdir_write_run_json(od, rj) == BL_OK, "%s", bl_error_message());
    BL_REQUIRE(bl_outdir_close(od, NULL) == BL_OK, "%s", bl_error_message());
    return 0;
}

int main(void) {
    char dir[512], out[600], path[1000];
    snprintf(dir, sizeof dir, "%s", bl_test_tmpdir("export"));
    if (build(dir, "a/x.wav", "b, c.wav")) return 1;
    long long rows = 0;

    /* csv of the events: one header, 8 rows in plan order, quoting kept */
    snprintf(out, sizeof out, "%s/events.csv", dir);
    bl_export_opts o = {.dir = dir, .format = BL_EXPORT_CSV, .table = BL_TABLE_EVENTS, .out = out};
    BL_REQUIRE(bl_export_run(&o, &rows) == BL_OK, "%s", bl_error_message());
    char *t = slurp(out);
    BL_REQUIRE(t, "no %s", out);
    BL_CHECK(rows == 8 && count_lines(t) == 9, "rows %lld lines %d", rows, count_lines(t));
    BL_CHECK(!strncmp(t, k_ev_header, strlen(k_ev_header)), "header: %.80s", t);
    const char *first = strchr(t, '\n') + 1;
    BL_CHECK(!strncmp(first, "a/x.wav,0,whale,0.5,", 20), "first row: %.60s", first);
    BL_CHECK(strstr(t, "\"b, c.wav\",1,\"up, call\",13.5,14.75,0.8,0.6,,,\n") != NULL, "last row quoting");
    free(t);

    /* jsonl of the segments: every line a JSON object, numbers as numbers */
    snprintf(out, sizeof out, "%s/seg.jsonl", dir);
    o = (bl_export_opts){.dir = dir, .format = BL_EXPORT_JSONL, .table = BL_TABLE_SEGMENTS, .out = out};
    BL_REQUIRE(bl_export_run(&o, &rows) == BL_OK, "%s", bl_error_message());
    t = slurp(out);
    BL_REQUIRE(t, "no %s", out);
    BL_CHECK(rows == 8 && count_lines(t) == 8, "jsonl rows %lld", rows);
    const char *line = t;
    for (int k = 0; k < 8 && line && *line; k++) {
        const char *nl = strchr(line, '\n');
        bl_json *j = NULL;
        BL_CHECK(bl_json_parse(line, (size_t)(nl - line), "jsonl", &j) == BL_OK, "%s", bl_error_message());
        if (j) {
            const bl_json *src = bl_json_get(j, "source"), *ch = bl_json_get(j, "channel"), *mx = bl_json_get(j, "max");
            BL_CHECK(src && src->type == BL_JSON_STRING && ch && ch->type == BL_JSON_NUMBER && mx &&
                         mx->type == BL_JSON_NUMBER, "jsonl types on line %d", k);
            if (k == 7) BL_CHECK(!strcmp(src->string, "b, c.wav") && mx->number == 0.23, "last jsonl row");
        }
        bl_json_free(j);
        line = nl + 1;
    }
    free(t);

    /* raven combined: Begin File column, Channel from 1, Low/High Freq 50 / 8000 */
    snprintf(out, sizeof out, "%s/all.selections.txt", dir);
    o = (bl_export_opts){.dir = dir, .format = BL_EXPORT_RAVEN, .table = BL_TABLE_EVENTS, .out = out};
    BL_REQUIRE(bl_export_run(&o, &rows) == BL_OK, "%s", bl_error_message());
    t = slurp(out);
    BL_REQUIRE(t, "no %s", out);
    const char *rh = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\t"
                     "Begin File\tClass\tPeak Score\tMean Score\tSource\tBegin UTC\tEnd UTC\tClip\n";
    BL_CHECK(!strncmp(t, rh, strlen(rh)), "raven header: %.200s", t);
    BL_CHECK(strstr(t, "\n1\tSpectrogram 1\t1\t0.5\t1.75\t50\t8000\tx.wav\twhale\t0.90\t0.7\ta/x.wav\t"
                       "2018-11-01T00:00:00Z\t2018-11-01T00:00:01Z\tclips/e0.flac\n") != NULL, "raven row 1: %s", t);
    BL_CHECK(strstr(t, "\n8\tSpectrogram 1\t2\t13.5\t14.75\t50\t8000\tb, c.wav\tup, call\t0.8\t0.6\tb, c.wav\t\t\t\n") != NULL,
             "raven row 8");
    free(t);

    /* raven per source: one file each, selections numbered from 1 per file, no Begin File */
    snprintf(out, sizeof out, "%s/raven", dir);
    o = (bl_export_opts){.dir = dir, .format = BL_EXPORT_RAVEN, .table = BL_TABLE_EVENTS, .out = out, .per_source = true};
    BL_REQUIRE(bl_export_run(&o, &rows) == BL_OK, "%s", bl_error_message());
    snprintf(path, sizeof path, "%s/00000_x.selections.txt", out);
    t = slurp(path);
    BL_REQUIRE(t, "no %s", path);
    BL_CHECK(count_lines(t) == 5 && !strstr(t, "Begin File") && strstr(t, "\n4\tSpectrogram 1\t2\t"), "per-source a: %s", t);
    free(t);
    snprintf(path, sizeof path, "%s/00001_b,_c.selections.txt", out);
    char *tb = slurp(path);
    BL_CHECK(tb && count_lines(tb) == 5 && strstr(tb, "\n1\tSpectrogram 1\t1\t2.5\t"), "per-source b: %s",
             tb ? tb : "(none)");
    /* again into the same folder: the files are there, nothing is replaced without overwrite */
    FILE *mark = fopen(path, "ab");
    if (mark) fputs("user's note\n", mark), fclose(mark);
    BL_CHECK(bl_export_run(&o, NULL) == BL_ERR_EXISTS && strstr(bl_error_message(), "--overwrite"), "%s",
             bl_error_message());
    t = slurp(path);
    BL_CHECK(t && strstr(t, "user's note"), "a file was replaced without --overwrite");
    free(t);
    o.overwrite = true;
    BL_CHECK(bl_export_run(&o, NULL) == BL_OK, "%s", bl_error_message());
    t = slurp(path);
    BL_CHECK(t && tb && !strcmp(t, tb), "--overwrite did not give the export's file back");
    free(t);
    free(tb);
    o.overwrite = false;
    BL_CHECK(bl_test_run("true") == 0, "shell");
    {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2", out);
        BL_CHECK(bl_test_run(cmd) == 0, "staging files left in %s", out);
    }

    /* sources that share a stem (x/a.wav, x_a.wav) get one file each, and every row */
    char dir2[600], out2[800];
    snprintf(dir2, sizeof dir2, "%s/same", dir);
    if (build(dir2, "x/a.wav", "x_a.wav")) return 1;
    snprintf(out2, sizeof out2, "%s/per", dir2);
    o = (bl_export_opts){.dir = dir2, .format = BL_EXPORT_CSV, .table = BL_TABLE_EVENTS, .out = out2, .per_source = true};
    BL_CHECK(bl_export_run(&o, &rows) == BL_OK && rows == 8, "%lld rows: %s", rows, bl_error_message());
    long long lines = 0;
    const char *names[] = {"00000_a.events.csv", "00001_x_a.events.csv"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", out2, names[k]);
        t = slurp(path);
        BL_CHECK(t != NULL, "no %s", path);
        if (t) lines += count_lines(t) - 1;
        free(t);
    }
    BL_CHECK(lines == 8, "%lld rows kept of 8", lines);

    /* a chunk that is a symlink (here to another chunk) is refused, naming it */
    snprintf(path, sizeof path, "%s/events/part-00001.csv.zst", dir2);
    {
        char cmd[1600];
        snprintf(cmd, sizeof cmd, "cd '%s/events' && mv part-00001.csv.zst real.zst && ln -s real.zst part-00001.csv.zst",
                 dir2);
        BL_REQUIRE(bl_test_run(cmd) == 0, "symlink");
    }
    snprintf(out2, sizeof out2, "%s/all.csv", dir2);
    o = (bl_export_opts){.dir = dir2, .format = BL_EXPORT_CSV, .table = BL_TABLE_EVENTS, .out = out2};
    BL_CHECK(bl_export_run(&o, NULL) == BL_ERR_FORMAT && strstr(bl_error_message(), "symbolic link"), "symlink: %s",
             bl_error_message());
    BL_CHECK(access(out2, F_OK) != 0, "output written from a symlinked chunk");

    /* raven on another table is a usage error; a missing table names the reason */
    o = (bl_export_opts){.dir = dir, .format = BL_EXPORT_RAVEN, .table = BL_TABLE_SEGMENTS};
    BL_CHECK(bl_export_run(&o, NULL) == BL_ERR_USAGE, "raven of segments accepted");
    o = (bl_export_opts){.dir = dir, .format = BL_EXPORT_CSV, .table = BL_TABLE_WINDOW_SCORES};
    BL_CHECK(bl_export_run(&o, NULL) == BL_ERR_NOT_FOUND && strstr(bl_error_message(), "window_scores"), "%s",
             bl_error_message());

    /* the CLI, when the binary is there */
    const char *bin = getenv("BL_BINARY");
    if (bin && access(bin, X_OK) == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "'%s' export '%s' --format csv --table events | grep -c whale | grep -qx 4", bin, dir);
        BL_CHECK(bl_test_run(cmd) == 0, "CLI csv to stdout");
        snprintf(cmd, sizeof cmd, "'%s' export '%s' --format xml 2>/dev/null; test $? -eq 1", bin, dir);
        BL_CHECK(bl_test_run(cmd) == 0, "CLI bad format exit code");
    } else {
        fprintf(stderr, "CLI checks skipped: BL_BINARY not set or not built\n");
    }

    /* corrupt one byte of a chunk: the export fails naming it and leaves no output file */
    snprintf(path, sizeof path, "%s/events/part-00001.csv.zst", dir);
    FILE *f = fopen(path, "r+b");
    BL_REQUIRE(f, "cannot open %s", path);
    fseek(f, 12, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 12, SEEK_SET);
    fputc(c ^ 0x20, f);
    fclose(f);
    snprintf(out, sizeof out, "%s/bad.csv", dir);
    o = (bl_export_opts){.dir = dir, .format = BL_EXPORT_CSV, .table = BL_TABLE_EVENTS, .out = out};
    bl_status s = bl_export_run(&o, NULL);
    BL_CHECK(s == BL_ERR_FORMAT && strstr(bl_error_message(), "events/part-00001.csv.zst") &&
                 strstr(bl_error_message(), "corrupt"), "corruption: %s %s", bl_errname(s), bl_error_message());
    BL_CHECK(access(out, F_OK) != 0, "partial output %s left behind", out);
    {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "test $(ls '%s' | grep -c bad.csv) -eq 0", dir);
        BL_CHECK(bl_test_run(cmd) == 0, "temp output left behind");
    }
    /* per source: all or nothing — the first source's file is not left when a later chunk is bad */
    snprintf(out, sizeof out, "%s/per-bad", dir);
    o = (bl_export_opts){.dir = dir, .format = BL_EXPORT_CSV, .table = BL_TABLE_EVENTS, .out = out, .per_source = true};
    BL_CHECK(bl_export_run(&o, NULL) == BL_ERR_FORMAT, "per-source over a corrupt chunk: %s", bl_error_message());
    {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 0", out);
        BL_CHECK(bl_test_run(cmd) == 0, "per-source files left after a corrupt chunk in %s", out);
    }
    char rm[700];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    bl_test_run(rm);
    return bl_test_finish("export");
}
