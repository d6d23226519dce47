/* test_sources.c — source expansion and planning (io/sources.c, io/source_manifest.c,
 * io/timeparse.c) on real files written into a fresh temporary folder: single files,
 * directories (recursive, by extension, hidden folders skipped), globs with `*`, `?`, `[..]`
 * and `**`, manifests (RFC 4180 quoting, paths relative to the manifest, keys, windows,
 * start_time), sorting, duplicates, unreadable inputs kept, errors naming the source or
 * manifest line, time patterns, ISO-8601 parsing and formatting, time windows, work items.
 */
#include <sndfile.h> /* the test writes its own audio files */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h> /* mkdir */
#include <unistd.h>   /* chdir, getcwd */

#include "io/sources.h"
#include "testutil.h"

static char g_dir[512];

static const char *tp(const char *rel) {
    static char p[8][1024];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, rel);
    return p[k];
}

static void write_wav(const char *rel, int ch, int rate, int frames) {
    SF_INFO si = {.samplerate = rate, .channels = ch, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(tp(rel), SFM_WRITE, &si);
    BL_CHECK(f != NULL, "cannot write %s: %s", rel, sf_strerror(NULL));
    if (!f) return;
    short *buf = calloc((size_t)frames * (size_t)ch, sizeof *buf);
    for (int i = 0; buf && i < frames * ch; i++) buf[i] = (short)(i * 7);
    if (buf) sf_writef_short(f, buf, frames);
    free(buf);
    sf_close(f);
}

static void write_text(const char *rel, const char *text) {
    FILE *f = fopen(tp(rel), "wb");
    BL_CHECK(f != NULL, "cannot write %s", rel);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* A plan over the given sources (paths and optional pattern/start/end per source). */
typedef struct {
    const char *path, *pattern, *start, *end;
} src_spec;

static bl_status plan_of(const src_spec *s, size_t n, bl_plan *plan) {
    bl_source_cfg sc[8];
    memset(sc, 0, sizeof sc);
    for (size_t i = 0; i < n; i++) {
        sc[i].path = (char *)s[i].path;
        sc[i].time_pattern = (char *)s[i].pattern;
        sc[i].start = (char *)s[i].start;
        sc[i].end = (char *)s[i].end;
    }
    return bl_plan_build(sc, n, plan);
}

/* The plan's paths joined by '|', relative to g_dir when below it. */
static const char *paths_of(const bl_plan *p) {
    static char out[4096];
    size_t len = 0, dl = strlen(g_dir);
    out[0] = '\0';
    for (size_t i = 0; i < p->n_inputs; i++) {
        const char *s = p->inputs[i].path;
        if (!strncmp(s, g_dir, dl) && s[dl] == '/') s += dl + 1;
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "|" : "", s);
    }
    return out;
}

static void expect_paths(const src_spec *s, size_t n, const char *want) {
    bl_plan p;
    bl_status st = plan_of(s, n, &p);
    BL_CHECK(st == BL_OK, "%s: %s", s[0].path, bl_error_message());
    if (st != BL_OK) return;
    BL_CHECK(!strcmp(paths_of(&p), want), "%s:\n  got  %s\n  want %s", s[0].path, paths_of(&p), want);
    bl_plan_free(&p);
}

static void expect_error(const src_spec *s, size_t n, bl_status want, const char *needle1, const char *needle2) {
    bl_plan p;
    bl_status st = plan_of(s, n, &p);
    BL_CHECK(st == want, "%s: got %s (%s), want %s", s[0].path, bl_errname(st), bl_error_message(),
             bl_errname(want));
    if (st == BL_OK) bl_plan_free(&p);
    else {
        BL_CHECK(strstr(bl_error_message(), needle1) != NULL, "message lacks \"%s\": %s", needle1,
                 bl_error_message());
        if (needle2)
            BL_CHECK(strstr(bl_error_message(), needle2) != NULL, "message lacks \"%s\": %s", needle2,
                     bl_error_message());
        BL_CHECK(p.n_inputs == 0 && p.inputs == NULL, "plan not empty after an error");
    }
}

static void make_tree(void) {
    mkdir(tp("d"), 0777);
    mkdir(tp("d/sub"), 0777);
    mkdir(tp("d/sub/deep"), 0777);
    mkdir(tp("d/.hidden"), 0777);
    mkdir(tp("d/lists"), 0777);
    mkdir(tp("empty"), 0777);
    write_wav("d/a.wav", 1, 16000, 8000);
    write_wav("d/sub/b.WAV", 2, 8000, 4000);
    write_wav("d/sub/z.wav", 1, 16000, 1600);
    write_wav("d/sub/deep/c.wav", 1, 16000, 1600);
    write_wav("d/.hidden/x.wav", 1, 16000, 1600);
    write_wav("d/we,ird \"name\".wav", 1, 16000, 1600);
    write_wav("d/MARS-20181101T000000Z-16kHz.wav", 1, 16000, 160000); /* 10 s */
    write_text("d/notes.txt", "not audio\n");
    write_text("d/sub/broken.flac", "this is not a flac file\n");
}

static void test_files_dirs_globs(void) {
    /* A single file: as written, probed, one item per channel. */
    src_spec one = {tp("d/sub/b.WAV"), 0, 0, 0};
    bl_plan p;
    BL_CHECK(plan_of(&one, 1, &p) == BL_OK, "%s", bl_error_message());
    if (p.n_inputs == 1) {
        const bl_input *in = &p.inputs[0];
        BL_CHECK(!strcmp(in->key, tp("d/sub/b.WAV")) && in->channels == 2 && in->sample_rate == 8000 &&
                     in->frames == 4000 && in->bytes > 16000 && !in->has_utc && in->start_s == 0 &&
                     in->end_s < 0 && !in->probe_error,
                 "b.WAV: key %s ch %d rate %d frames %lld bytes %lld", in->key, in->channels, in->sample_rate,
                 (long long)in->frames, (long long)in->bytes);
        BL_CHECK(p.n_items == 2 && p.items[0].channel == 0 && p.items[1].channel == 1 && p.items[1].index == 1 &&
                     p.items[1].input == 0,
                 "items: %zu", p.n_items);
        bl_plan_free(&p);
    }

    /* Directory: recursive, by extension (case-insensitive), sorted, hidden skipped; the
     * unreadable .flac is kept with its reason. */
    src_spec dir = {tp("d"), 0, 0, 0};
    expect_paths(&dir, 1,
                 "d/MARS-20181101T000000Z-16kHz.wav|d/a.wav|d/sub/b.WAV|d/sub/broken.flac|d/sub/deep/c.wav|"
                 "d/sub/z.wav|d/we,ird \"name\".wav");
    BL_CHECK(plan_of(&dir, 1, &p) == BL_OK, "%s", bl_error_message());
    if (p.n_inputs == 7) {
        const bl_input *br = &p.inputs[3];
        BL_CHECK(br->probe_error != NULL && br->channels == 1 && br->sample_rate == 0 && br->frames == -1,
                 "broken.flac: probe_error %s ch %d", br->probe_error ? br->probe_error : "(null)", br->channels);
        BL_CHECK(p.n_items == 8, "8 items (b.WAV has 2 channels), got %zu", p.n_items);
        for (size_t i = 0; i < p.n_items; i++)
            BL_CHECK(p.items[i].index == (int64_t)i, "item %zu index %lld", i, (long long)p.items[i].index);
        BL_CHECK(p.items[2].input == 2 && p.items[3].input == 2 && p.items[3].channel == 1 && p.items[4].input == 3,
                 "items follow inputs then channels");
        bl_plan_free(&p);
    }

    /* Globs. */
    src_spec g1 = {tp("d/*.wav"), 0, 0, 0};
    expect_paths(&g1, 1, "d/MARS-20181101T000000Z-16kHz.wav|d/a.wav|d/we,ird \"name\".wav");
    src_spec g2 = {tp("d/**/*.wav"), 0, 0, 0}; /* ** = zero or more folders; case-sensitive */
    expect_paths(&g2, 1,
                 "d/MARS-20181101T000000Z-16kHz.wav|d/a.wav|d/sub/deep/c.wav|d/sub/z.wav|d/we,ird \"name\".wav");
    src_spec g3 = {tp("d/sub/**"), 0, 0, 0}; /* trailing **: every file below */
    expect_paths(&g3, 1, "d/sub/b.WAV|d/sub/broken.flac|d/sub/deep/c.wav|d/sub/z.wav");
    src_spec g4 = {tp("d/s?b/[bz].*"), 0, 0, 0};
    expect_paths(&g4, 1, "d/sub/b.WAV|d/sub/z.wav");
    src_spec g5 = {tp("d/**/deep/*"), 0, 0, 0};
    expect_paths(&g5, 1, "d/sub/deep/c.wav");

    /* Relative paths are kept as written (keys too). */
    char cwd[1024];
    if (getcwd(cwd, sizeof cwd) && chdir(g_dir) == 0) {
        src_spec rel = {"d/sub/*.wav", 0, 0, 0};
        if (plan_of(&rel, 1, &p) == BL_OK) {
            BL_CHECK(p.n_inputs == 1 && !strcmp(p.inputs[0].key, "d/sub/z.wav"), "relative key %s",
                     p.n_inputs ? p.inputs[0].key : "-");
            bl_plan_free(&p);
        } else BL_CHECK(0, "relative glob: %s", bl_error_message());
        /* Duplicates: the same file through three spellings is listed once, first kept. */
        src_spec dup[3] = {{"d/a.wav", 0, 0, 0}, {"./d/*.wav", 0, 0, 0}, {"d/sub/../a.wav", 0, 0, 0}};
        if (plan_of(dup, 3, &p) == BL_OK) {
            BL_CHECK(p.n_inputs == 3 && !strcmp(p.inputs[0].key, "d/a.wav") &&
                         !strcmp(p.inputs[1].key, "./d/MARS-20181101T000000Z-16kHz.wav") &&
                         p.inputs[2].source == 1,
                     "duplicates: %zu inputs", p.n_inputs);
            bl_plan_free(&p);
        } else BL_CHECK(0, "duplicates: %s", bl_error_message());
        /* The same file with two different windows is two inputs. */
        src_spec win2[2] = {{"d/a.wav", 0, "0", "0.2"}, {"d/a.wav", 0, "0.2", "0.4"}};
        if (plan_of(win2, 2, &p) == BL_OK) {
            BL_CHECK(p.n_inputs == 2 && p.inputs[1].start_s == 0.2 && p.inputs[1].end_s == 0.4, "windows: %zu",
                     p.n_inputs);
            bl_plan_free(&p);
        } else BL_CHECK(0, "two windows: %s", bl_error_message());
        BL_CHECK(chdir(cwd) == 0, "chdir back");
    }

    /* Nothing matched: errors naming the source. */
    src_spec e1 = {tp("d/*.mp3"), 0, 0, 0};
    expect_error(&e1, 1, BL_ERR_NOT_FOUND, "sources[0]", "d/*.mp3");
    src_spec e2[2] = {{tp("d/a.wav"), 0, 0, 0}, {tp("d/missing.wav"), 0, 0, 0}};
    expect_error(e2, 2, BL_ERR_NOT_FOUND, "sources[1]", "missing.wav");
    src_spec e3 = {tp("empty"), 0, 0, 0};
    expect_error(&e3, 1, BL_ERR_NOT_FOUND, "sources[0]", "empty");
    src_spec e4 = {"s3://bucket/x.wav", 0, 0, 0};
    expect_error(&e4, 1, BL_ERR_UNSUPPORTED, "sources[0]", "s3://bucket/x.wav");
    bl_plan none;
    BL_CHECK(bl_plan_build(NULL, 0, &none) == BL_ERR_CONFIG, "no sources accepted");
}

static void test_manifest_sources(void) {
    write_text("d/lists/m.csv",
               "\xEF\xBB\xBFpath,start_s,end_s,key\r\n"
               "../a.wav,0.1,0.3,first\r\n"
               "\r\n"
               "\"../we,ird \"\"name\"\".wav\",,,\r\n"
               "../sub/b.WAV,0.25\r\n"
               "../missing.wav,,,gone\r\n");
    src_spec m = {tp("d/lists/m.csv"), 0, 0, 0};
    bl_plan p;
    bl_status st = plan_of(&m, 1, &p);
    BL_CHECK(st == BL_OK, "%s", bl_error_message());
    if (st == BL_OK) {
        BL_CHECK(p.n_inputs == 4, "4 rows, got %zu", p.n_inputs);
        if (p.n_inputs == 4) {
            BL_CHECK(!strcmp(p.inputs[0].path, tp("d/lists/../a.wav")) && !strcmp(p.inputs[0].key, "first") &&
                         p.inputs[0].start_s == 0.1 && p.inputs[0].end_s == 0.3,
                     "row 1: %s key %s %g..%g", p.inputs[0].path, p.inputs[0].key, p.inputs[0].start_s,
                     p.inputs[0].end_s);
            BL_CHECK(!strcmp(p.inputs[1].key, "../we,ird \"name\".wav") && p.inputs[1].channels == 1 &&
                         !p.inputs[1].probe_error,
                     "row 2 (quoted): key %s", p.inputs[1].key);
            BL_CHECK(p.inputs[2].start_s == 0.25 && p.inputs[2].end_s < 0 && p.inputs[2].channels == 2,
                     "row 3: %g..%g", p.inputs[2].start_s, p.inputs[2].end_s);
            BL_CHECK(p.inputs[3].probe_error != NULL && !strcmp(p.inputs[3].key, "gone"),
                     "a missing file is kept with its reason");
        }
        bl_plan_free(&p);
    }
    /* Errors name manifest:line. */
    write_text("d/lists/bad1.csv", "path,start_s\na.wav,abc\n");
    src_spec b1 = {tp("d/lists/bad1.csv"), 0, 0, 0};
    expect_error(&b1, 1, BL_ERR_FORMAT, "bad1.csv:2", "start_s");
    write_text("d/lists/bad2.csv", "path\n../a.wav\n\"../b.wav\n\n");
    src_spec b2 = {tp("d/lists/bad2.csv"), 0, 0, 0};
    expect_error(&b2, 1, BL_ERR_FORMAT, "bad2.csv:3", "never closed");
    write_text("d/lists/bad3.csv", "file,start_s\n../a.wav,1\n");
    src_spec b3 = {tp("d/lists/bad3.csv"), 0, 0, 0};
    expect_error(&b3, 1, BL_ERR_FORMAT, "bad3.csv:1", "unknown column");
    write_text("d/lists/bad4.csv", "path,key\n../a.wav,k,extra\n");
    src_spec b4 = {tp("d/lists/bad4.csv"), 0, 0, 0};
    expect_error(&b4, 1, BL_ERR_FORMAT, "bad4.csv:2", "3 fields");
    write_text("d/lists/bad5.csv", "path\n");
    src_spec b5 = {tp("d/lists/bad5.csv"), 0, 0, 0};
    expect_error(&b5, 1, BL_ERR_NOT_FOUND, "sources[0]", "lists no file");
    write_text("d/lists/bad6.csv", "path,end_s\n../a.wav,2018-11-01T00:00:01Z\n");
    src_spec b6 = {tp("d/lists/bad6.csv"), 0, 0, 0};
    expect_error(&b6, 1, BL_ERR_CONFIG, "bad6.csv:2", "time_pattern");
}

/* The parser alone, from memory. */
static void test_manifest_parser(void) {
    const char *ok = "key , path,start_time\n"
                     "k1,\"multi\nline.wav\",2018-11-01T00:00:00Z\n"
                     "\"\",plain.wav,\n"
                     "k3,last.wav"; /* no final newline */
    bl_source_manifest m;
    bl_status st = bl_source_manifest_parse(ok, strlen(ok), "mem.csv", &m);
    BL_CHECK(st == BL_OK, "%s", bl_error_message());
    if (st == BL_OK) {
        BL_CHECK(m.n == 3, "3 rows, got %zu", m.n);
        if (m.n == 3) {
            BL_CHECK(!strcmp(m.rows[0].path, "multi\nline.wav") && !strcmp(m.rows[0].key, "k1") &&
                         !strcmp(m.rows[0].start_time, "2018-11-01T00:00:00Z") && m.rows[0].line == 2,
                     "row 1: %s line %d", m.rows[0].path, m.rows[0].line);
            BL_CHECK(!m.rows[1].key && !m.rows[1].start_time && m.rows[1].line == 4,
                     "row 2: empty key and time are NULL, line %d", m.rows[1].line);
            BL_CHECK(!strcmp(m.rows[2].path, "last.wav") && m.rows[2].line == 5, "row 3 line %d", m.rows[2].line);
        }
        bl_source_manifest_free(&m);
    }
    struct {
        const char *text;
        const char *needle;
    } bad[] = {
        {"", "empty manifest"},
        {"path\na\"b.wav\n", "x.csv:2: field 1: quote inside an unquoted field"},
        {"path\n\"a\"b\n", "x.csv:2: field 1: text after a closing quote"},
        {"path,path\n", "appears twice"},
        {"key\nk\n", "no path column"},
        {"path,key\n,k\n", "x.csv:2: empty path"},
        {"path,start_time\na.wav,yesterday\n", "x.csv:2: start_time"},
        {"path,start_s\na.wav,-3\n", "x.csv:2: start_s"},
        {"path,end_s\na.wav,nan\n", "x.csv:2: end_s"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        st = bl_source_manifest_parse(bad[i].text, strlen(bad[i].text), "x.csv", &m);
        BL_CHECK(st == BL_ERR_FORMAT && strstr(bl_error_message(), bad[i].needle), "case %zu: %s: %s", i,
                 bl_errname(st), bl_error_message());
        if (st == BL_OK) bl_source_manifest_free(&m);
    }
    const char nul[] = "path\na\0b.wav\n";
    st = bl_source_manifest_parse(nul, sizeof nul - 1, "x.csv", &m);
    BL_CHECK(st == BL_ERR_FORMAT && strstr(bl_error_message(), "NUL"), "NUL byte: %s", bl_error_message());
}

static int64_t iso(const char *s) {
    int64_t ms = 0;
    bl_status st = bl_time_parse_iso(s, &ms);
    BL_CHECK(st == BL_OK, "%s: %s", s, bl_error_message());
    return ms;
}

static void test_times(void) {
    int64_t ms = 0;
    BL_CHECK(bl_time_parse_pattern("MARS-20181101T000000Z-16kHz.wav", "MARS-%Y%m%dT%H%M%SZ", &ms) == BL_OK &&
                 ms == 1541030400000LL,
             "MARS: %lld %s", (long long)ms, bl_error_message());
    char buf[48];
    bl_time_format_iso(ms, buf, sizeof buf);
    BL_CHECK(!strcmp(buf, "2018-11-01T00:00:00.000Z"), "formatted %s", buf);
    /* The directory part is ignored; the pattern may match anywhere in the base name. */
    BL_CHECK(bl_time_parse_pattern("/x/2019/deploy3_190302_141516.flac", "%y%m%d_%H%M%S", &ms) == BL_OK &&
                 ms == iso("2019-03-02T14:15:16Z"),
             "%%y: %lld", (long long)ms);
    BL_CHECK(bl_time_parse_pattern("rec_2020-060_1200.wav", "%Y-%j_%H%M", &ms) == BL_OK &&
                 ms == iso("2020-02-29T12:00:00Z"),
             "%%j in a leap year: %lld", (long long)ms);
    BL_CHECK(bl_time_parse_pattern("a_1999_100%.wav", "%Y_%j%%", &ms) == BL_OK && ms == iso("1999-04-10T00:00:00Z"),
             "%%%%: %lld", (long long)ms);
    BL_CHECK(bl_time_parse_pattern("x20180230.wav", "%Y%m%d", &ms) == BL_ERR_FORMAT, "Feb 30 accepted");
    BL_CHECK(bl_time_parse_pattern("x2018113.wav", "%Y%m%d", &ms) == BL_ERR_FORMAT, "short accepted");
    bl_status st = bl_time_parse_pattern("other.wav", "MARS-%Y%m%d", &ms);
    BL_CHECK(st == BL_ERR_FORMAT && strstr(bl_error_message(), "other.wav") &&
                 strstr(bl_error_message(), "MARS-%Y%m%d"),
             "mismatch: %s", bl_error_message());
    BL_CHECK(bl_time_parse_pattern("a.wav", "%Y%Q", &ms) == BL_ERR_CONFIG &&
                 strstr(bl_error_message(), "%Q"),
             "unsupported directive: %s", bl_error_message());
    BL_CHECK(bl_time_parse_pattern("0101.wav", "%m%d", &ms) == BL_ERR_CONFIG, "no year accepted");

    /* ISO: forms and round trips. */
    BL_CHECK(iso("1970-01-01T00:00:00Z") == 0, "epoch");
    BL_CHECK(iso("2018-11-01T03:00:00.25Z") == 1541041200250LL, "fraction");
    BL_CHECK(iso("2018-11-01T04:00:00+01:00") == iso("2018-11-01T03:00:00Z"), "+01:00");
    BL_CHECK(iso("2018-11-01T02:30:00-0030") == iso("2018-11-01T03:00:00Z"), "-0030");
    BL_CHECK(iso("2018-11-01T03:00:00.123456789Z") == iso("2018-11-01T03:00:00.123Z"), "truncated to ms");
    BL_CHECK(iso("1969-12-31T23:59:59.999Z") == -1, "before 1970");
    const char *bad[] = {"2018-11-01T03:00:00", "2018-11-01", "2018-13-01T00:00:00Z", "2018-02-29T00:00:00Z",
                         "2018-11-01T24:00:00Z", "2018-11-01T03:00:00Zx", "2018-11-01T03:00:00.Z",
                         "2018-11-01T03:00:00+25:00", "garbage", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        BL_CHECK(bl_time_parse_iso(bad[i], &ms) == BL_ERR_FORMAT, "\"%s\" accepted", bad[i]);
    const int64_t vals[] = {0, 1, -1, 951782400000LL /* 2000-02-29 */, 1541030400000LL, 4102444799999LL,
                            -62135596800000LL /* 0001-01-01 */, 253402300799999LL /* 9999-12-31 */};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        bl_time_format_iso(vals[i], buf, sizeof buf);
        int64_t back = 12345;
        BL_CHECK(bl_time_parse_iso(buf, &back) == BL_OK && back == vals[i], "round trip %lld → %s → %lld",
                 (long long)vals[i], buf, (long long)back);
    }
    for (int64_t v = -400LL * 86400000; v < 800LL * 366 * 86400000; v += 86400000LL * 37 + 12345) {
        bl_time_format_iso(v, buf, sizeof buf);
        int64_t back = 0;
        if (bl_time_parse_iso(buf, &back) != BL_OK || back != v) {
            BL_CHECK(0, "round trip %lld → %s → %lld", (long long)v, buf, (long long)back);
            break;
        }
    }
    bl_time_format_compact(iso("2018-11-01T03:15:22.250Z"), buf, sizeof buf);
    BL_CHECK(!strcmp(buf, "20181101T031522.250Z"), "compact %s", buf);
}

/* Time patterns and windows through the plan. */
static void test_windows(void) {
    const char *pat = "MARS-%Y%m%dT%H%M%SZ";
    src_spec s = {tp("d/MARS-*.wav"), pat, "2018-11-01T00:00:02Z", "2018-11-01T00:00:05.5Z"};
    bl_plan p;
    bl_status st = plan_of(&s, 1, &p);
    BL_CHECK(st == BL_OK, "%s", bl_error_message());
    if (st == BL_OK) {
        BL_CHECK(p.n_inputs == 1 && p.inputs[0].has_utc && p.inputs[0].utc_start_ms == iso("2018-11-01T00:00:00Z") &&
                     p.inputs[0].start_s == 2 && p.inputs[0].end_s == 5.5,
                 "window %g..%g", p.n_inputs ? p.inputs[0].start_s : -1, p.n_inputs ? p.inputs[0].end_s : -1);
        bl_plan_free(&p);
    }
    /* An absolute start before the file's start is clipped to 0. */
    src_spec s2 = {tp("d/MARS-*.wav"), pat, "2018-10-31T23:00:00Z", NULL};
    if (plan_of(&s2, 1, &p) == BL_OK) {
        BL_CHECK(p.n_inputs == 1 && p.inputs[0].start_s == 0 && p.inputs[0].end_s < 0, "clipped start");
        bl_plan_free(&p);
    } else BL_CHECK(0, "%s", bl_error_message());
    /* A window outside the file (10 s long): nothing left, an error naming the source. */
    src_spec s3 = {tp("d/MARS-*.wav"), pat, "2018-11-01T00:00:20Z", NULL};
    expect_error(&s3, 1, BL_ERR_NOT_FOUND, "sources[0]", "time window");
    src_spec s4 = {tp("d/MARS-*.wav"), pat, NULL, "2018-10-31T00:00:00Z"};
    expect_error(&s4, 1, BL_ERR_NOT_FOUND, "sources[0]", "time window");
    /* Absolute times need a known start; a pattern that does not match a file is an error. */
    src_spec s5 = {tp("d/a.wav"), NULL, "2018-11-01T00:00:02Z", NULL};
    expect_error(&s5, 1, BL_ERR_CONFIG, "sources[0]", "time_pattern");
    src_spec s6 = {tp("d/*.wav"), pat, NULL, NULL};
    expect_error(&s6, 1, BL_ERR_CONFIG, "a.wav", pat);
    /* Seconds windows apply to each file; files shorter than the start are left out. */
    src_spec s7 = {tp("d/*.wav"), NULL, "1", NULL}; /* a.wav: 0.5 s, we,ird: 0.1 s */
    if (plan_of(&s7, 1, &p) == BL_OK) {
        BL_CHECK(!strcmp(paths_of(&p), "d/MARS-20181101T000000Z-16kHz.wav"), "start 1 s: %s", paths_of(&p));
        bl_plan_free(&p);
    } else BL_CHECK(0, "%s", bl_error_message());
    /* A manifest start_time gives UTC without a pattern. */
    write_text("d/lists/t.csv", "path,start_time,start_s\n../a.wav,2020-01-01T00:00:00Z,2020-01-01T00:00:00.1Z\n");
    src_spec s8 = {tp("d/lists/t.csv"), NULL, NULL, NULL};
    if (plan_of(&s8, 1, &p) == BL_OK) {
        BL_CHECK(p.n_inputs == 1 && p.inputs[0].has_utc && p.inputs[0].utc_start_ms == iso("2020-01-01T00:00:00Z") &&
                     p.inputs[0].start_s == 0.1,
                 "start_time column");
        bl_plan_free(&p);
    } else BL_CHECK(0, "%s", bl_error_message());
}

int main(void) {
    const char *d = bl_test_tmpdir("sources");
    BL_REQUIRE(d != NULL, "no temp dir");
    snprintf(g_dir, sizeof g_dir, "%s", d);
    make_tree();
    test_files_dirs_globs();
    test_manifest_sources();
    test_manifest_parser();
    test_times();
    test_windows();
    return bl_test_finish("test_sources");
}
