/* test_synth.c — `baleen synth` library: determinism, truth table, SNR, formats, long files.
 *
 * Reads every file back with libsndfile (the real decoder) and checks the calls against the
 * truth: the SNR is re-measured from a calls-only and a background-only run with the same
 * seed, and the band-energy measure itself is checked against a direct DFT.
 */
#include <math.h>          /* fabs, log10 */
#include <stdlib.h>        /* malloc */
#include <string.h>        /* strcmp */
#include <sys/resource.h>  /* getrusage: peak RSS of the 1-hour run */
#include <sys/stat.h>      /* stat: file sizes */
#include <unistd.h>        /* unlink, access */

#include <sndfile.h> /* reading the outputs back */

#include "core/synth.h"
#include "testutil.h"

typedef struct {
    char kind[16];
    int ch;
    double start, end, f0, f1, snr;
} truth_row;

/* Parse a truth CSV; returns the row count or -1 (and fails a check) when malformed. */
static long read_truth(const char *path, truth_row **rows) {
    FILE *f = fopen(path, "r");
    *rows = NULL;
    if (!f) {
        BL_CHECK(0, "cannot open %s", path);
        return -1;
    }
    char line[512];
    if (!fgets(line, sizeof line, f) || strcmp(line, "kind,channel,start_s,end_s,f0_hz,f1_hz,snr_db\n")) {
        BL_CHECK(0, "bad header in %s: %s", path, line);
        fclose(f);
        return -1;
    }
    long n = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            *rows = realloc(*rows, (size_t)cap * sizeof **rows);
        }
        truth_row *r = &(*rows)[n];
        char *comma = strchr(line, ',');
        if (!comma || comma - line >= 15) break;
        memcpy(r->kind, line, (size_t)(comma - line));
        r->kind[comma - line] = 0;
        if (sscanf(comma + 1, "%d,%lf,%lf,%lf,%lf,%lf", &r->ch, &r->start, &r->end, &r->f0, &r->f1, &r->snr) != 6) {
            BL_CHECK(0, "bad row %ld in %s: %s", n + 1, path, line);
            break;
        }
        n++;
    }
    fclose(f);
    return n;
}

/* Whole file as interleaved float (tests use small files). */
static float *read_audio(const char *path, SF_INFO *info) {
    memset(info, 0, sizeof *info);
    SNDFILE *sf = sf_open(path, SFM_READ, info);
    if (!sf) {
        BL_CHECK(0, "cannot read %s: %s", path, sf_strerror(NULL));
        return NULL;
    }
    float *x = malloc((size_t)info->frames * (size_t)info->channels * sizeof *x);
    sf_count_t got = sf_readf_float(sf, x, info->frames);
    BL_CHECK(got == info->frames, "%s: read %lld of %lld frames", path, (long long)got, (long long)info->frames);
    sf_close(sf);
    return x;
}

static int files_equal(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb;
    while (eq) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) eq = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return eq;
}

static char g_dir[512];
static const char *tpath(const char *name) {
    static char buf[4][1024];
    static int k = 0;
    k = (k + 1) & 3;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static bl_synth_params small_params(void) {
    bl_synth_params p;
    bl_synth_params_default(&p);
    p.seconds = 90;
    p.n_calls = 6;
    p.seed = 42;
    return p;
}

static void test_validate_and_paths(void) {
    bl_synth_params p;
    bl_synth_params_default(&p);
    BL_CHECK(bl_synth_params_validate(&p) == BL_OK, "defaults: %s", bl_error_message());
    BL_CHECK(bl_synth_calls_per_channel(&p) == 20, "600 s → 20 calls, got %ld", bl_synth_calls_per_channel(&p));
    p.sample_rate = 1000;
    BL_CHECK(bl_synth_params_validate(&p) == BL_ERR_INVALID_ARG && strstr(bl_error_message(), "--rate"),
             "rate 1000: %s", bl_error_message());
    bl_synth_params_default(&p);
    p.format = BL_SYNTH_FLAC;
    p.subtype = BL_SYNTH_FLOAT;
    BL_CHECK(bl_synth_params_validate(&p) == BL_ERR_INVALID_ARG && strstr(bl_error_message(), "--subtype"),
             "flac float: %s", bl_error_message());
    bl_synth_params_default(&p);
    p.seconds = 20;
    p.n_calls = 30; /* 30 calls of >= 0.5 s plus gaps cannot fit in 20 s */
    BL_CHECK(bl_synth_params_validate(&p) == BL_ERR_INVALID_ARG && strstr(bl_error_message(), "--calls"),
             "too many calls: %s", bl_error_message());
    BL_CHECK(bl_synth_write(&p, tpath("nofit.wav"), NULL, NULL) == BL_ERR_INVALID_ARG, "write must refuse");
    BL_CHECK(access(tpath("nofit.wav"), F_OK) != 0 && access(tpath("nofit.truth.csv"), F_OK) != 0,
             "nothing written on a refused run");
    bl_synth_params_default(&p);
    p.snr_min_db = 10;
    p.snr_max_db = 5;
    BL_CHECK(bl_synth_params_validate(&p) == BL_ERR_INVALID_ARG && strstr(bl_error_message(), "--snr"), "snr order");

    char buf[256];
    BL_CHECK(bl_synth_truth_path("a/b.wav", buf, sizeof buf) == BL_OK && !strcmp(buf, "a/b.truth.csv"), "%s", buf);
    BL_CHECK(bl_synth_truth_path("x.y/noext", buf, sizeof buf) == BL_OK && !strcmp(buf, "x.y/noext.truth.csv"), "%s", buf);
    BL_CHECK(bl_synth_truth_path("d/.hidden", buf, sizeof buf) == BL_OK && !strcmp(buf, "d/.hidden.truth.csv"), "%s", buf);
    BL_CHECK(bl_synth_truth_path("a.wav", buf, 5) == BL_ERR_RANGE, "short buffer");

    /* an unwritable destination is an I/O error naming the path, and leaves nothing behind */
    bl_synth_params_default(&p);
    p.seconds = 5;
    bl_status s = bl_synth_write(&p, "/nonexistent-dir/x.wav", NULL, NULL);
    BL_CHECK(s == BL_ERR_IO && strstr(bl_error_message(), "/nonexistent-dir/x.wav"), "bad dir: %s %s", bl_errname(s),
             bl_error_message());
    /* the truth cannot be written: the audio is not put in place either */
    s = bl_synth_write(&p, tpath("lonely.wav"), "/nonexistent-dir/t.csv", NULL);
    BL_CHECK(s == BL_ERR_IO && strstr(bl_error_message(), "/nonexistent-dir/t.csv"), "bad truth dir: %s %s",
             bl_errname(s), bl_error_message());
    BL_CHECK(access(tpath("lonely.wav"), F_OK) != 0, "audio written although the truth failed");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp-", g_dir);
    BL_CHECK(bl_test_run(cmd) == 1, "temporary files left in %s", g_dir);
}

/* The band energy against a direct DFT of the zero-padded signal. */
static void test_band_energy(void) {
    enum { N = 1000, M = 1024 };
    float x[N];
    uint64_t st = 7;
    double total = 0;
    for (int i = 0; i < N; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(st >> 11) * 0x1.0p-53 - 0.5) + 0.3f * (float)sin(0.37 * i);
        total += (double)x[i] * x[i];
    }
    double fs = 4000, lo = 300, hi = 900, ref = 0;
    for (int k = 0; k <= M / 2; k++) {
        double f = k * fs / M;
        if (f < lo || f > hi) continue;
        double re = 0, im = 0;
        for (int n = 0; n < N; n++) {
            re += x[n] * cos(2 * M_PI * k * n / M);
            im -= x[n] * sin(2 * M_PI * k * n / M);
        }
        ref += (k == 0 || k == M / 2 ? 1 : 2) * (re * re + im * im);
    }
    ref /= M;
    double e = -1, full = -1;
    BL_CHECK(bl_synth_band_energy(x, N, fs, lo, hi, &e) == BL_OK, "band energy");
    BL_CHECK(fabs(e - ref) <= 1e-4 * ref, "band energy %.9g vs direct DFT %.9g", e, ref);
    BL_CHECK(bl_synth_band_energy(x, N, fs, 0, fs / 2, &full) == BL_OK, "full band");
    BL_CHECK(fabs(full - total) <= 1e-4 * total, "Parseval: %.9g vs %.9g", full, total);
}

static void check_truth_rows(const truth_row *r, long n, const bl_synth_params *p, const char *what) {
    for (long i = 0; i < n; i++) {
        double d = r[i].end - r[i].start;
        BL_CHECK(r[i].ch >= 0 && r[i].ch < p->channels, "%s row %ld: channel %d", what, i, r[i].ch);
        BL_CHECK(r[i].start >= 0.5 - 1e-6 && r[i].end <= p->seconds - 0.5 + 1e-6, "%s row %ld: [%f, %f] outside",
                 what, i, r[i].start, r[i].end);
        BL_CHECK(r[i].snr >= p->snr_min_db - 0.005 && r[i].snr <= p->snr_max_db + 0.005, "%s row %ld: snr %f", what, i,
                 r[i].snr);
        if (!strcmp(r[i].kind, "upcall")) {
            BL_CHECK(d >= 0.6 - 1e-3 && d <= 1.5 + 1e-3, "%s row %ld: upcall lasts %f s", what, i, d);
            BL_CHECK(r[i].f0 >= 40 && r[i].f0 <= 80 && r[i].f1 >= 180 && r[i].f1 <= 280, "%s row %ld: upcall %f→%f Hz",
                     what, i, r[i].f0, r[i].f1);
        } else {
            BL_CHECK(!strcmp(r[i].kind, "song_unit"), "%s row %ld: kind %s", what, i, r[i].kind);
            BL_CHECK(d >= 0.5 - 1e-3 && d <= 3.0 + 1e-3, "%s row %ld: song unit lasts %f s", what, i, d);
            BL_CHECK(fmin(r[i].f0, r[i].f1) >= 99.9 && fmax(r[i].f0, r[i].f1) <= 2000.1,
                     "%s row %ld: song unit %f→%f Hz", what, i, r[i].f0, r[i].f1);
        }
        if (i > 0 && r[i].ch == r[i - 1].ch)
            BL_CHECK(r[i].start >= r[i - 1].end + 0.5 - 1e-6, "%s rows %ld-%ld overlap or closer than 0.5 s", what,
                     i - 1, i);
        if (i > 0) BL_CHECK(r[i].ch >= r[i - 1].ch, "%s: rows not sorted by channel", what);
    }
}

static void test_determinism(void) {
    bl_synth_params p = small_params();
    long nc = 0;
    BL_CHECK(bl_synth_write(&p, tpath("a.wav"), NULL, &nc) == BL_OK, "a: %s", bl_error_message());
    BL_CHECK(nc == 6, "calls written %ld", nc);
    p.block_frames = 1000; /* output must not depend on the block size */
    BL_CHECK(bl_synth_write(&p, tpath("b.wav"), tpath("b.csv"), NULL) == BL_OK, "b: %s", bl_error_message());
    p.block_frames = 7;
    BL_CHECK(bl_synth_write(&p, tpath("c.wav"), tpath("c.csv"), NULL) == BL_OK, "c: %s", bl_error_message());
    BL_CHECK(files_equal(tpath("a.wav"), tpath("b.wav")), "same seed, block 65536 vs 1000: audio differs");
    BL_CHECK(files_equal(tpath("a.wav"), tpath("c.wav")), "same seed, block 65536 vs 7: audio differs");
    BL_CHECK(files_equal(tpath("a.truth.csv"), tpath("b.csv")), "same seed: truth differs");
    BL_CHECK(files_equal(tpath("a.truth.csv"), tpath("c.csv")), "same seed: truth differs");
    p.block_frames = 0;
    BL_CHECK(bl_synth_write(&p, tpath("a2.wav"), NULL, NULL) == BL_OK, "a2");
    BL_CHECK(files_equal(tpath("a.wav"), tpath("a2.wav")) && files_equal(tpath("a.truth.csv"), tpath("a2.truth.csv")),
             "two identical runs differ");
    p.seed = 43;
    BL_CHECK(bl_synth_write(&p, tpath("d.wav"), NULL, NULL) == BL_OK, "d");
    BL_CHECK(!files_equal(tpath("a.wav"), tpath("d.wav")), "different seeds give the same audio");
    BL_CHECK(!files_equal(tpath("a.truth.csv"), tpath("d.truth.csv")), "different seeds give the same truth");

    SF_INFO info;
    float *x = read_audio(tpath("a.wav"), &info);
    BL_CHECK(info.samplerate == 16000 && info.channels == 1 && info.frames == 90 * 16000, "a.wav: %d Hz %d ch %lld",
             info.samplerate, info.channels, (long long)info.frames);
    BL_CHECK((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV && (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_24,
             "default is WAV PCM_24, got 0x%x", info.format);
    if (x) {
        double e = 0;
        for (sf_count_t i = 0; i < info.frames; i++) e += (double)x[i] * x[i];
        double rms_db = 10 * log10(e / (double)info.frames);
        /* -30 dBFS nominal, ±3 dB level wander, plus calls, ships and clicks */
        BL_CHECK(rms_db > -36 && rms_db < -20, "background RMS %.1f dBFS, expected about -30", rms_db);
        free(x);
    }
    truth_row *r;
    long n = read_truth(tpath("a.truth.csv"), &r);
    BL_CHECK(n == 6, "a.truth.csv: %ld rows", n);
    check_truth_rows(r, n, &p, "a");
    free(r);
}

/* The calls are there at the stated SNR: mix = calls + background, and the SNR re-measured
 * from the two parts matches the truth. */
static void test_snr(void) {
    bl_synth_params p = small_params();
    p.seconds = 120;
    p.n_calls = 10;
    p.seed = 9;
    p.snr_min_db = -5;
    p.snr_max_db = 25;
    p.subtype = BL_SYNTH_FLOAT;
    BL_CHECK(bl_synth_write(&p, tpath("mix.wav"), NULL, NULL) == BL_OK, "mix: %s", bl_error_message());
    p.content = BL_SYNTH_CALLS_ONLY;
    BL_CHECK(bl_synth_write(&p, tpath("calls.wav"), NULL, NULL) == BL_OK, "calls");
    p.content = BL_SYNTH_BACKGROUND_ONLY;
    BL_CHECK(bl_synth_write(&p, tpath("bg.wav"), NULL, NULL) == BL_OK, "bg");
    BL_CHECK(files_equal(tpath("mix.truth.csv"), tpath("calls.truth.csv")), "content changes the truth");

    SF_INFO im, ic, ib;
    float *mix = read_audio(tpath("mix.wav"), &im), *cl = read_audio(tpath("calls.wav"), &ic),
          *bg = read_audio(tpath("bg.wav"), &ib);
    truth_row *r;
    long n = read_truth(tpath("mix.truth.csv"), &r);
    BL_CHECK(n == 10, "%ld rows", n);
    if (mix && cl && bg && n > 0) {
        double maxd = 0;
        for (sf_count_t i = 0; i < im.frames; i++) maxd = fmax(maxd, fabs((double)mix[i] - cl[i] - bg[i]));
        BL_CHECK(maxd < 1e-6, "mix != calls + background (max diff %g)", maxd);
        /* calls-only is exactly silent outside the truth's spans */
        char *inside = calloc((size_t)ic.frames, 1);
        for (long k = 0; k < n; k++)
            for (sf_count_t i = llround(r[k].start * 16000); i < llround(r[k].end * 16000); i++) inside[i] = 1;
        sf_count_t stray = 0;
        for (sf_count_t i = 0; i < ic.frames; i++) stray += !inside[i] && cl[i] != 0.0f;
        BL_CHECK(stray == 0, "%lld call samples outside the truth's spans", (long long)stray);
        free(inside);
        int snr_rank_ok = 0, pairs = 0;
        double prev_snr = 0, prev_meas = 0;
        for (long k = 0; k < n; k++) {
            size_t a = (size_t)llround(r[k].start * 16000), len = (size_t)llround(r[k].end * 16000) - a;
            double lo = 0.9 * fmin(r[k].f0, r[k].f1), hi = 1.1 * fmax(r[k].f0, r[k].f1), ec, eb, em, tot = 0;
            bl_synth_band_energy(cl + a, len, 16000, lo, hi, &ec);
            bl_synth_band_energy(bg + a, len, 16000, lo, hi, &eb);
            bl_synth_band_energy(mix + a, len, 16000, lo, hi, &em);
            for (size_t i = 0; i < len; i++) tot += (double)cl[a + i] * cl[a + i];
            double snr = 10 * log10(ec / eb);
            BL_CHECK(fabs(snr - r[k].snr) < 0.02, "call %ld (%s %.1f→%.1f Hz): measured SNR %.3f dB, truth %.2f", k,
                     r[k].kind, r[k].f0, r[k].f1, snr, r[k].snr);
            /* most of the call's energy is in its fundamental's band */
            BL_CHECK(ec > 0.45 * tot, "call %ld: only %.2f of its energy in band", k, ec / tot);
            /* in the mix, the box holds about background + call */
            BL_CHECK(fabs(10 * log10(em / eb) - 10 * log10(1 + pow(10, r[k].snr / 10))) < 1.0,
                     "call %ld: box energy over background %.2f dB, expected %.2f", k, 10 * log10(em / eb),
                     10 * log10(1 + pow(10, r[k].snr / 10)));
            if (k > 0 && fabs(r[k].snr - prev_snr) > 3) {
                pairs++;
                snr_rank_ok += (r[k].snr > prev_snr) == (10 * log10(em / eb) > prev_meas);
            }
            prev_snr = r[k].snr;
            prev_meas = 10 * log10(em / eb);
        }
        BL_CHECK(snr_rank_ok == pairs, "SNR order respected in %d of %d pairs", snr_rank_ok, pairs);
    }
    free(mix);
    free(cl);
    free(bg);
    free(r);
}

/* Two-channel FLAC: lossless, so it decodes to the same samples as the PCM_16 WAV. */
static void test_flac_multichannel(void) {
    bl_synth_params p = small_params();
    p.seconds = 40;
    p.channels = 2;
    p.n_calls = 3;
    p.subtype = BL_SYNTH_PCM16;
    p.format = BL_SYNTH_FLAC;
    BL_CHECK(bl_synth_write(&p, tpath("st.flac"), NULL, NULL) == BL_OK, "flac: %s", bl_error_message());
    p.format = BL_SYNTH_WAV;
    BL_CHECK(bl_synth_write(&p, tpath("st.wav"), NULL, NULL) == BL_OK, "wav16");
    SF_INFO fi, wi;
    float *f = read_audio(tpath("st.flac"), &fi), *w = read_audio(tpath("st.wav"), &wi);
    BL_CHECK((fi.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC && fi.channels == 2 && fi.frames == 40 * 16000,
             "st.flac: format 0x%x, %d ch, %lld frames", fi.format, fi.channels, (long long)fi.frames);
    if (f && w && fi.frames == wi.frames) {
        size_t bad = 0;
        for (sf_count_t i = 0; i < 2 * fi.frames; i++) bad += f[i] != w[i];
        BL_CHECK(bad == 0, "FLAC and WAV PCM_16 decode differently at %zu samples", bad);
        /* the channels are independent streams */
        double sxy = 0, sxx = 0, syy = 0;
        for (sf_count_t i = 0; i < fi.frames; i++) {
            sxy += (double)f[2 * i] * f[2 * i + 1];
            sxx += (double)f[2 * i] * f[2 * i];
            syy += (double)f[2 * i + 1] * f[2 * i + 1];
        }
        BL_CHECK(fabs(sxy) < 0.2 * sqrt(sxx * syy), "channels correlate: %.3f", sxy / sqrt(sxx * syy));
    }
    free(f);
    free(w);
    truth_row *r;
    long n = read_truth(tpath("st.truth.csv"), &r);
    BL_CHECK(n == 6, "two channels × 3 calls, got %ld rows", n);
    check_truth_rows(r, n, &p, "st");
    if (n == 6) BL_CHECK(r[0].ch == 0 && r[3].ch == 1 && r[0].start != r[3].start, "channels share their calls");
    free(r);
    struct stat sf_, sw;
    if (stat(tpath("st.flac"), &sf_) == 0 && stat(tpath("st.wav"), &sw) == 0)
        BL_CHECK(sf_.st_size < sw.st_size, "FLAC (%lld B) is not smaller than WAV (%lld B)", (long long)sf_.st_size,
                 (long long)sw.st_size);
}

static long peak_rss_kb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* One hour at 16 kHz: right length, default call count, memory bounded by the block size. */
static void test_one_hour(void) {
    bl_synth_params p;
    bl_synth_params_default(&p);
    p.seconds = 3600;
    p.subtype = BL_SYNTH_PCM16;
    long before = peak_rss_kb();
    BL_CHECK(bl_synth_write(&p, tpath("hour.wav"), NULL, NULL) == BL_OK, "hour: %s", bl_error_message());
    long grew = peak_rss_kb() - before;
    /* the hour is 115 MB of PCM_16 (230 MB as float): the generator must not hold it */
    BL_CHECK(grew < 40 * 1024, "peak RSS grew by %ld kB for a 1-hour file", grew);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(tpath("hour.wav"), SFM_READ, &info);
    BL_CHECK(sf && info.frames == 3600LL * 16000, "hour.wav: %lld frames", (long long)info.frames);
    if (sf) {
        /* spot-check the last second: still noise, no NaN, no silence */
        static float tail[16000];
        sf_seek(sf, info.frames - 16000, SEEK_SET);
        BL_CHECK(sf_readf_float(sf, tail, 16000) == 16000, "tail read");
        double e = 0;
        for (int i = 0; i < 16000; i++) e += (double)tail[i] * tail[i];
        BL_CHECK(e > 0 && isfinite(e), "last second energy %g", e);
        sf_close(sf);
    }
    truth_row *r;
    long n = read_truth(tpath("hour.truth.csv"), &r);
    BL_CHECK(n == 120, "1 hour → 120 calls, got %ld", n);
    check_truth_rows(r, n, &p, "hour");
    free(r);
    unlink(tpath("hour.wav"));
}

static void test_no_calls(void) {
    bl_synth_params p = small_params();
    p.seconds = 3;
    p.n_calls = -1; /* default for 3 s: none */
    p.ships = 0;
    p.clicks = 0;
    p.noise = BL_SYNTH_NOISE_WHITE;
    BL_CHECK(bl_synth_write(&p, tpath("quiet.wav"), NULL, NULL) == BL_OK, "quiet: %s", bl_error_message());
    truth_row *r;
    BL_CHECK(read_truth(tpath("quiet.truth.csv"), &r) == 0, "3 s default: no calls");
    free(r);
}

int main(void) {
    const char *d = bl_test_tmpdir("synth");
    BL_REQUIRE(d != NULL, "no temp dir");
    snprintf(g_dir, sizeof g_dir, "%s", d);
    test_validate_and_paths();
    test_band_energy();
    test_determinism();
    test_snr();
    test_flac_multichannel();
    test_no_calls();
    test_one_hour();
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (!bl_test_failures) (void)bl_test_run(cmd);
    return bl_test_finish("test_synth");
}
