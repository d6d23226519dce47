/* test_clips.c — FLAC event clips (io/clips.c) cut from real files the test writes: the clip's
 * samples equal the source's at the converted frames (bit-exact for 16- and 24-bit sources,
 * at the file's own rate, from a front end at another rate), padding clipped at the file's
 * start and end, overlapping and touching clips merged, names (key sanitised, UTC and
 * seconds forms, channel, labels joined), events outside the file, a borrowed reader, no
 * temporary files left, identical bytes when written again, and argument errors.
 */
#include <dirent.h>  /* listing clips/ */
#include <sndfile.h> /* writing sources, reading clips back */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/clips.h"
#include "io/sources.h" /* bl_time_parse_iso */
#include "testutil.h"

static char g_dir[512];

static const char *tp(const char *rel) {
    static char p[8][1024];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, rel);
    return p[k];
}

/* Source sample of frame i, channel c, as a left-justified 32-bit int for `bits` bits. */
static int32_t src_sample(int64_t i, int c, int bits) {
    uint32_t h = (uint32_t)(i * 2654435761u) ^ (uint32_t)(c * 40503u + 17u);
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    int32_t v = (int32_t)h;
    return bits == 16 ? (int32_t)((uint32_t)v & 0xFFFF0000u) : (int32_t)((uint32_t)v & 0xFFFFFF00u);
}

static int write_source(const char *rel, int rate, int ch, int64_t frames, int bits) {
    SF_INFO si = {.samplerate = rate, .channels = ch,
                  .format = SF_FORMAT_WAV | (bits == 16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24)};
    SNDFILE *f = sf_open(tp(rel), SFM_WRITE, &si);
    if (!f) return -1;
    int32_t *buf = malloc(sizeof *buf * (size_t)ch * 4096);
    for (int64_t i = 0; buf && i < frames; i += 4096) {
        int64_t n = frames - i < 4096 ? frames - i : 4096;
        for (int64_t j = 0; j < n; j++)
            for (int c = 0; c < ch; c++) buf[j * ch + c] = src_sample(i + j, c, bits);
        sf_writef_int(f, buf, n);
    }
    free(buf);
    sf_close(f);
    return 0;
}

/* Check clip `rel` (relative to g_dir) holds frames [a, b) of channel c of the source. */
static void check_clip(const char *rel, int rate, int c, int64_t a, int64_t b, int bits) {
    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *f = sf_open(tp(rel), SFM_READ, &si);
    BL_CHECK(f != NULL, "cannot open clip %s: %s", rel, sf_strerror(NULL));
    if (!f) return;
    int want_sub = bits == 16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24;
    BL_CHECK((si.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC && (si.format & SF_FORMAT_SUBMASK) == want_sub &&
                 si.channels == 1 && si.samplerate == rate && si.frames == b - a,
             "%s: format 0x%x ch %d rate %d frames %lld (want %lld)", rel, si.format, si.channels, si.samplerate,
             (long long)si.frames, (long long)(b - a));
    int32_t *buf = malloc(sizeof *buf * (size_t)(b - a > 0 ? b - a : 1));
    sf_count_t got = buf ? sf_readf_int(f, buf, b - a) : 0;
    int bad = 0;
    for (int64_t i = 0; i < got && bad < 5; i++)
        if (buf[i] != src_sample(a + i, c, bits)) {
            BL_CHECK(0, "%s: frame %lld: %d, source %d", rel, (long long)(a + i), buf[i], src_sample(a + i, c, bits));
            bad++;
        }
    BL_CHECK(got == b - a, "%s: read %lld frames", rel, (long long)got);
    free(buf);
    sf_close(f);
}

static int count_tmp(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp")) n++;
    if (d) closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

/* 16-bit mono 16 kHz source of 10 s, front end at 8 kHz, pad 0.25 s (4000 frames). */
static int test_merge_pad_names(void) {
    BL_REQUIRE(write_source("mono16.wav", 16000, 1, 160000, 16) == 0, "write source");
    bl_clip_event ev[] = {
        /* 0 */ {40000, 40800, "upcall"}, /* 5.0–5.1 s → clip [76000, 85600) alone */
        /* 1 */ {14000, 15000, "song"},   /* 1.75–1.875 s, padded from 1.5: overlaps event 2 */
        /* 2 */ {8000, 12000, "upcall"},  /* 1.0–1.5 s → [12000, 28000) */
        /* 3 */ {16000, 16800, "upcall"}, /* 2.0–2.1 s → up to 37600: same clip, label once */
        /* 4 */ {600, 1000, "song"},      /* 0.075 s: padding clipped at 0 → [0, 6000) */
        /* 5 */ {79000, 80000, "song"},   /* 9.875–10 s: padding clipped at the end → [154000, 160000) */
        /* 6 */ {24000, 24400, "a/b"},    /* 3.0–3.05 → [44000, 52800) */
        /* 7 */ {28400, 28800, "c d"},    /* 3.55–3.6 → [52800, 61600): touches 6, merged */
        /* 8 */ {100000, 100400, "upcall"}, /* 12.5 s: outside the file, no clip */
    };
    const size_t n = sizeof ev / sizeof *ev;
    char *paths[9];
    char src[1024]; /* tp() returns ring buffers that later calls reuse */
    snprintf(src, sizeof src, "%s", tp("mono16.wav"));
    bl_clip_opts o = {.out_dir = g_dir, .source_path = src, .source_key = "./recordings/site A/mono16.WAV",
                      .source_index = 7, .channel = 0, .frontend_rate = 8000, .pad_seconds = 0.25};
    char *warning = NULL;
    bl_status st = bl_clips_write(&o, ev, n, paths, &warning);
    BL_REQUIRE(st == BL_OK, "bl_clips_write: %s", bl_error_message());
    BL_CHECK(!warning, "warning: %s", warning);
    const char *K = "clips/00007_mono16_ch0_";
    struct {
        size_t ev;
        const char *name;
        int64_t a, b;
    } want[] = {
        {0, "000004.750s_upcall.flac", 76000, 85600},
        {1, "000000.750s_upcall+song.flac", 12000, 37600},
        {2, "000000.750s_upcall+song.flac", 12000, 37600},
        {3, "000000.750s_upcall+song.flac", 12000, 37600},
        {4, "000000.000s_song.flac", 0, 6000},
        {5, "000009.625s_song.flac", 154000, 160000},
        {6, "000002.750s_a_b+c_d.flac", 44000, 61600},
        {7, "000002.750s_a_b+c_d.flac", 44000, 61600},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char full[256];
        snprintf(full, sizeof full, "%s%s", K, want[i].name);
        const char *got = paths[want[i].ev];
        BL_CHECK(got && !strcmp(got, full), "event %zu: got %s, want %s", want[i].ev, got ? got : "(null)", full);
        if (got) check_clip(got, 16000, 0, want[i].a, want[i].b, 16);
    }
    BL_CHECK(paths[8] == NULL, "event outside the file has a clip: %s", paths[8]);
    BL_CHECK(count_tmp(tp("clips")) == 0, "temporary files left in clips/");

    /* Written again (as after --resume): the same bytes. */
    size_t n1 = 0, n2 = 0;
    char *b1 = slurp(tp(paths[1]), &n1);
    char *again[9];
    BL_CHECK(bl_clips_write(&o, ev, n, again, NULL) == BL_OK, "%s", bl_error_message());
    char *b2 = slurp(tp(paths[1]), &n2);
    BL_CHECK(b1 && b2 && n1 == n2 && n1 > 100 && !memcmp(b1, b2, n1), "rewritten clip differs (%zu vs %zu)", n1, n2);
    free(b1);
    free(b2);
    for (size_t i = 0; i < n; i++) {
        BL_CHECK((paths[i] == NULL) == (again[i] == NULL) && (!paths[i] || !strcmp(paths[i], again[i])),
                 "names differ on rewrite: %s vs %s", paths[i] ? paths[i] : "-", again[i] ? again[i] : "-");
        free(paths[i]);
        free(again[i]);
    }

    /* No padding: a clip is exactly the event; a borrowed reader is used as is. */
    bl_audio_reader *r = NULL;
    BL_REQUIRE(bl_audio_open(tp("mono16.wav"), &r) == BL_OK, "%s", bl_error_message());
    bl_clip_event e1 = {8001, 8003, "x"}; /* fe samples → frames floor(16002) .. ceil(16006) */
    bl_clip_opts o2 = o;
    o2.source_path = NULL;
    o2.reader = r;
    o2.source_key = "k";
    o2.source_index = 123456;
    o2.pad_seconds = 0;
    char *p1 = NULL;
    BL_CHECK(bl_clips_write(&o2, &e1, 1, &p1, NULL) == BL_OK, "%s", bl_error_message());
    BL_CHECK(p1 && !strcmp(p1, "clips/123456_k_ch0_000001.000s_x.flac"), "name %s", p1 ? p1 : "(null)");
    if (p1) check_clip(p1, 16000, 0, 16002, 16006, 16);
    free(p1);
    bl_audio_close(r);

    /* Errors. */
    o2 = o;
    o2.channel = 1;
    BL_CHECK(bl_clips_write(&o2, &e1, 1, &p1, NULL) == BL_ERR_INVALID_ARG && p1 == NULL &&
                 strstr(bl_error_message(), "channel"),
             "channel 1 of a mono file: %s", bl_error_message());
    o2 = o;
    o2.pad_seconds = -1;
    BL_CHECK(bl_clips_write(&o2, &e1, 1, &p1, NULL) == BL_ERR_INVALID_ARG, "negative pad accepted");
    /* a source that cannot be read is a warning, not an error: no clip, the caller goes on */
    o2 = o;
    o2.source_path = tp("nope.wav");
    BL_CHECK(bl_clips_write(&o2, &e1, 1, &p1, &warning) == BL_OK && p1 == NULL && warning &&
                 strstr(warning, "nope.wav"),
             "missing source: %s", warning ? warning : bl_error_message());
    free(warning);
    BL_CHECK(bl_clips_write(&o, NULL, 0, NULL, NULL) == BL_OK, "no events is fine");

    /* two sources with the same stem (x/a.wav and x_a.wav) never share a clip name */
    bl_clip_event e3 = {8000, 8800, "upcall"};
    char *pa = NULL, *pb = NULL;
    o2 = o;
    o2.source_key = "x/mono16.wav";
    o2.source_index = 1;
    BL_CHECK(bl_clips_write(&o2, &e3, 1, &pa, NULL) == BL_OK, "%s", bl_error_message());
    o2.source_key = "x_mono16.wav";
    o2.source_index = 2;
    BL_CHECK(bl_clips_write(&o2, &e3, 1, &pb, NULL) == BL_OK, "%s", bl_error_message());
    BL_CHECK(pa && pb && strcmp(pa, pb) != 0, "same clip name for two sources: %s", pa ? pa : "(null)");
    free(pa);
    free(pb);
    /* a very long key still gives a name under 255 bytes */
    char longkey[3000];
    memset(longkey, 'a', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    o2.source_key = longkey;
    BL_CHECK(bl_clips_write(&o2, &e3, 1, &pa, NULL) == BL_OK, "%s", bl_error_message());
    BL_CHECK(pa && strlen(strrchr(pa, '/') + 1) < 255, "long name %zu bytes", pa ? strlen(pa) : 0);
    free(pa);
    return 0;
}

/* 24-bit stereo 48 kHz source with a known UTC start: channel 1, front end at 16 kHz. */
static int test_utc_24bit(void) {
    BL_REQUIRE(write_source("st24.wav", 48000, 2, 48000 * 30, 24) == 0, "write source");
    int64_t t0 = 0;
    BL_REQUIRE(bl_time_parse_iso("2018-11-01T03:15:00Z", &t0) == BL_OK, "iso");
    /* event at 23.25 s (fe sample 372000), pad 1 s → clip from 22.25 s = frame 1068000 */
    bl_clip_event e = {372000, 372000 + 16000, "upcall"};
    char src[1024], src2[1024];
    snprintf(src, sizeof src, "%s", tp("st24.wav"));
    snprintf(src2, sizeof src2, "%s", tp("m.wav"));
    bl_clip_opts o = {.out_dir = g_dir, .source_path = src, .source_key = "MARS/st24.wav", .channel = 1,
                      .frontend_rate = 16000, .has_utc = true, .utc_start_ms = t0, .pad_seconds = 1.0};
    char *p = NULL;
    BL_REQUIRE(bl_clips_write(&o, &e, 1, &p, NULL) == BL_OK, "%s", bl_error_message());
    BL_CHECK(p && !strcmp(p, "clips/00000_st24_ch1_20181101T031522.250Z_upcall.flac"), "name %s", p ? p : "(null)");
    if (p) check_clip(p, 48000, 1, 1068000, 1068000 + 48000 * 3, 24);
    free(p);

    /* Mono with UTC: no channel in the name (the form of the example in docs/scoring.md). */
    BL_REQUIRE(write_source("m.wav", 16000, 1, 16000 * 30, 16) == 0, "write source");
    bl_clip_event e2 = {372000 - 16000, 372000, "upcall"};
    o.source_path = src2;
    o.source_key = "KEY";
    o.channel = 0;
    o.pad_seconds = 0;
    BL_REQUIRE(bl_clips_write(&o, &e2, 1, &p, NULL) == BL_OK, "%s", bl_error_message());
    BL_CHECK(p && !strcmp(p, "clips/00000_KEY_20181101T031522.250Z_upcall.flac"), "name %s", p ? p : "(null)");
    if (p) check_clip(p, 16000, 0, 356000, 372000, 16);
    free(p);
    return 0;
}

int main(void) {
    const char *d = bl_test_tmpdir("clips");
    if (!d) return 1;
    snprintf(g_dir, sizeof g_dir, "%s", d);
    if (test_merge_pad_names() || test_utc_24bit()) bl_test_failures++;
    return bl_test_finish("test_clips");
}
