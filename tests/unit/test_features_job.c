/* test_features_job.c — core/features_job.c: the .npy writer and the whole features job.
 *   - bl_feat_writer gives the same bytes whether the frame count was known (rows written in
 *     place), unknown (spilled, assembled), too small or too large (laid out, then
 *     assembled), or zero, for pieces of any size put channel by channel in any order; the
 *     values land at [c][m][f]; nothing but the output is left in the folder; an unfinished
 *     writer leaves nothing; channels with different counts are an internal error.
 *   - bl_features_compute equals the front end run directly on the decoded samples, and its
 *     bytes do not depend on threads (1, 2, 3) or the block size, on mono, stereo,
 *     resampled, windowed, Ogg (length unknown) and cut FLAC (header longer than the data)
 *     inputs.
 */
#include <dirent.h>  /* listing the output folder */
#include <signal.h>  /* SIGXFSZ ignored while a file-size limit is set */
#include <sys/resource.h> /* RLIMIT_FSIZE: a filesystem that refuses a large file */
#include <sndfile.h> /* writing test audio */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* truncate, unlink */

#include "core/features_job.h"
#include "core/frontend.h"
#include "core/log.h" /* quiet the job's info lines */
#include "io/audio.h"
#include "io/npy.h"
#include "testutil.h"

static char g_dir[512];

static const char *tpath(const char *name) {
    static char p[8][1024];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

static uint64_t g_rng = 88172645463325252ull;
static uint32_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 11);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static int same_file(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* Entries of g_dir other than . and .. and names in keep[]. */
static int stray_files(const char *const *keep, int n_keep) {
    DIR *d = opendir(g_dir);
    int stray = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        int kept = 0;
        for (int i = 0; i < n_keep; i++) kept |= !strcmp(e->d_name, keep[i]);
        if (!kept) {
            printf("stray file: %s\n", e->d_name);
            stray++;
        }
    }
    if (d) closedir(d);
    return stray;
}

/* Write C channels of F frames x nm mels (frames[c][f][m]) through a writer with the given
 * expectation, in random piece sizes, channels in a random order. */
static bl_status write_with(const char *path, const float *frames, int C, int nm, size_t F,
                            int64_t expected, size_t max_piece) {
    bl_feat_writer *w = NULL;
    BL_TRY(bl_feat_writer_open(path, C, nm, expected, &w));
    size_t *done = calloc((size_t)C, sizeof *done);
    bl_status s = BL_OK;
    for (;;) {
        int left = 0;
        for (int c = 0; c < C; c++) left += done[c] < F;
        if (!left || s != BL_OK) break;
        int c = (int)(rnd() % (uint32_t)C);
        if (done[c] == F) continue;
        size_t k = 1 + rnd() % max_piece;
        if (k > F - done[c]) k = F - done[c];
        s = bl_feat_writer_put(w, c, frames + ((size_t)c * F + done[c]) * (size_t)nm, k);
        done[c] += k;
    }
    uint64_t got = 0;
    if (s == BL_OK) s = bl_feat_writer_finish(w, &got);
    if (s == BL_OK && got != F) s = BL_ERROR(BL_ERR_INTERNAL, "finish says %llu frames", (unsigned long long)got);
    bl_feat_writer_destroy(w);
    free(done);
    return s;
}

static void test_writer(void) {
    const int C = 3, nm = 7;
    const size_t F = 10007;
    float *frames = malloc((size_t)C * F * (size_t)nm * sizeof(float));
    for (size_t i = 0; i < (size_t)C * F * (size_t)nm; i++) frames[i] = (float)(rnd() % 100000) * 0.25f - 777.0f;
    static const struct {
        const char *name;
        int64_t expected;
        size_t max_piece;
    } cases[] = {
        {"known.npy", 10007, 5000},      {"known_small.npy", 10007, 3},
        {"unknown.npy", -1, 4096},       {"under.npy", 9000, 777},
        {"over.npy", 12000, 4096},       {"zero_hint.npy", 0, 100},
        {"one_piece.npy", 10007, 20000}, {"over_small.npy", 10008, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        bl_status s = write_with(tpath(cases[k].name), frames, C, nm, F, cases[k].expected,
                                 cases[k].max_piece);
        BL_CHECK(s == BL_OK, "%s: %s", cases[k].name, bl_error_message());
        if (k > 0)
            BL_CHECK(same_file(tpath(cases[0].name), tpath(cases[k].name)),
                     "%s differs from %s", cases[k].name, cases[0].name);
    }
    /* A laid-out size the filesystem refuses (here: over the process's file-size limit, as
     * on a volume with small files only) falls back to spilling, with the same bytes. */
    {
        struct rlimit old_lim, lim;
        void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
        getrlimit(RLIMIT_FSIZE, &old_lim);
        lim = old_lim;
        lim.rlim_cur = 4 << 20;
        BL_CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0, "setrlimit");
        bl_status s = write_with(tpath("refused.npy"), frames, C, nm, F, 1000000000, 4096);
        setrlimit(RLIMIT_FSIZE, &old_lim);
        signal(SIGXFSZ, old_sig);
        BL_CHECK(s == BL_OK, "refused layout: %s", bl_error_message());
        BL_CHECK(same_file(tpath("known.npy"), tpath("refused.npy")), "refused layout differs");
        unlink(tpath("refused.npy"));
    }
    float *data = NULL;
    size_t shape[BL_NPY_MAX_DIMS];
    int ndim = 0;
    BL_CHECK(bl_npy_read_f32(tpath("known.npy"), &data, shape, &ndim) == BL_OK, "read back");
    if (data) {
        BL_CHECK(ndim == 3 && shape[0] == (size_t)C && shape[1] == (size_t)nm && shape[2] == F,
                 "shape [%zu, %zu, %zu]", shape[0], shape[1], shape[2]);
        size_t bad = 0;
        for (int c = 0; c < C; c++)
            for (int m = 0; m < nm; m++)
                for (size_t f = 0; f < F; f++)
                    bad += data[((size_t)c * (size_t)nm + (size_t)m) * F + f] !=
                           frames[((size_t)c * F + f) * (size_t)nm + (size_t)m];
        BL_CHECK(bad == 0, "%zu values out of place", bad);
        free(data);
    }
    const char *keep[] = {"known.npy", "known_small.npy", "unknown.npy", "under.npy",
                          "over.npy", "zero_hint.npy", "one_piece.npy", "over_small.npy"};
    BL_CHECK(stray_files(keep, 8) == 0, "temporary files left behind");

    /* No frames at all: a [C, nm, 0] array, whatever the expectation. */
    for (int64_t e = -1; e <= 1; e++) {
        bl_feat_writer *w = NULL;
        uint64_t got = 99;
        BL_CHECK(bl_feat_writer_open(tpath("empty.npy"), 2, 3, e, &w) == BL_OK, "open");
        BL_CHECK(w && bl_feat_writer_finish(w, &got) == BL_OK && got == 0, "empty, hint %lld",
                 (long long)e);
        bl_feat_writer_destroy(w);
        data = NULL;
        BL_CHECK(bl_npy_read_f32(tpath("empty.npy"), &data, shape, &ndim) == BL_OK && ndim == 3 &&
                     shape[0] == 2 && shape[1] == 3 && shape[2] == 0,
                 "empty output, hint %lld", (long long)e);
        free(data);
    }
    unlink(tpath("empty.npy"));

    /* Unfinished, or channels that disagree: no output, no temporary left. */
    for (int64_t e = -1; e <= 10007; e += 10008) {
        bl_feat_writer *w = NULL;
        BL_CHECK(bl_feat_writer_open(tpath("bad.npy"), 2, nm, e, &w) == BL_OK, "open");
        if (!w) continue;
        BL_CHECK(bl_feat_writer_put(w, 0, frames, 100) == BL_OK, "put");
        BL_CHECK(bl_feat_writer_put(w, 1, frames, 99) == BL_OK, "put");
        BL_CHECK(bl_feat_writer_finish(w, NULL) == BL_ERR_INTERNAL, "unequal channels accepted");
        bl_feat_writer_destroy(w);
        BL_CHECK(access(tpath("bad.npy"), F_OK) != 0, "output written despite the error");
        BL_CHECK(bl_feat_writer_open(tpath("bad.npy"), 1, nm, e, &w) == BL_OK, "open");
        if (w) BL_CHECK(bl_feat_writer_put(w, 0, frames, 5000) == BL_OK, "put");
        bl_feat_writer_destroy(w); /* never finished */
        BL_CHECK(access(tpath("bad.npy"), F_OK) != 0, "unfinished output left");
    }
    BL_CHECK(stray_files(keep, 8) == 0, "temporary files left after failures");
    BL_CHECK(bl_feat_writer_open(tpath("no/such/dir/x.npy"), 1, 4, 100, &(bl_feat_writer *){0}) ==
                 BL_ERR_IO, "a missing folder is not an I/O error");
    BL_CHECK(bl_feat_writer_open(tpath("no/such/dir/x.npy"), 1, 4, -1, &(bl_feat_writer *){0}) ==
                 BL_ERR_IO, "a missing folder is not an I/O error (unknown length)");
    for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) unlink(tpath(keep[k]));
    free(frames);
}

/* A test signal: tones and noise, `ch` channels, written with libsndfile. */
static int write_audio(const char *path, int format, int rate, int ch, size_t frames) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = ch;
    info.format = format;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        printf("cannot write %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    float *b = malloc(frames * (size_t)ch * sizeof(float));
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < ch; c++) {
            double t = (double)i / rate;
            b[i * (size_t)ch + (size_t)c] =
                (float)(0.3 * __builtin_sin(2 * 3.14159265 * (200.0 + 300.0 * c + 50 * t) * t) +
                        0.05 * ((double)(rnd() % 2001) / 1000.0 - 1.0));
        }
    sf_count_t w = sf_writef_float(f, b, (sf_count_t)frames);
    free(b);
    sf_close(f);
    return w == (sf_count_t)frames ? 0 : -1;
}

/* The reference: the decoded stream run through one bl_fe_stream per channel, whole. */
static int reference(const char *audio, const bl_frontend_params *fp, double start, double dur,
                     const char *out) {
    bl_frontend *fe = NULL;
    bl_audio_stream *as = NULL;
    bl_audio_stream_opts o = {fp->sample_rate, start, dur, 0};
    if (bl_frontend_create(fp, &fe) != BL_OK || bl_audio_stream_open(audio, &o, &as) != BL_OK) {
        bl_frontend_destroy(fe);
        return -1;
    }
    int C = bl_audio_stream_channels(as);
    size_t cap = 1 << 20, n = 0, nm = (size_t)fp->mel.n_mels;
    float *x = malloc(cap * (size_t)C * sizeof(float));
    const float *pl;
    size_t k;
    while (bl_audio_stream_next(as, &pl, &k) == BL_OK && k > 0) {
        while (n + k > cap) {
            cap *= 2;
            x = realloc(x, cap * (size_t)C * sizeof(float));
        }
        for (int c = 0; c < C; c++)
            for (size_t i = 0; i < k; i++)
                x[(n + i) * (size_t)C + (size_t)c] = pl[(size_t)c * bl_audio_stream_stride(as) + i];
        n += k;
    }
    bl_audio_stream_close(as);
    size_t F = bl_frontend_frame_count(fe, n);
    float *res = malloc(((size_t)C * F * nm + 1) * sizeof(float));
    float *one = malloc((F + 1) * nm * sizeof(float)), *xs = malloc((n + 1) * sizeof(float));
    int ok = 1;
    for (int c = 0; c < C && ok; c++) {
        bl_fe_stream *st = NULL;
        size_t got = 0, got2 = 0;
        for (size_t i = 0; i < n; i++) xs[i] = x[i * (size_t)C + (size_t)c];
        ok = bl_fe_stream_create(fe, 1, &st) == BL_OK &&
             bl_fe_stream_push(st, xs, n, one, F, &got) == BL_OK &&
             bl_fe_stream_finish(st, one + got * nm, F - got, &got2) == BL_OK && got + got2 == F;
        bl_fe_stream_destroy(st);
        for (size_t m = 0; m < nm && ok; m++)
            for (size_t f = 0; f < F; f++) res[((size_t)c * nm + m) * F + f] = one[f * nm + m];
    }
    size_t shape[3] = {(size_t)C, nm, F};
    if (ok) ok = bl_npy_write_f32(out, res, shape, 3) == BL_OK;
    free(x);
    free(xs);
    free(one);
    free(res);
    bl_frontend_destroy(fe);
    return ok ? 0 : -1;
}

static bl_truncated_mode g_truncated = BL_TRUNCATED_FAIL; /* input.truncated of check_job's runs */

static void check_job(const char *audio_path, const bl_frontend_params *fp, double start,
                      double dur, const char *what) {
    char audio[1024]; /* tpath's buffers are reused */
    snprintf(audio, sizeof audio, "%s", audio_path);
    if (reference(audio, fp, start, dur, tpath("ref.npy")) != 0) {
        BL_CHECK(0, "%s: reference failed: %s", what, bl_error_message());
        return;
    }
    static const struct {
        int threads;
        size_t block;
    } runs[] = {{1, 0}, {2, 0}, {3, 0}, {2, 1000}, {1, 4099}, {2, 97}};
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        bl_features_opts o = {.threads = runs[k].threads, .start_s = start, .duration_s = dur,
                              .block_frames = runs[k].block, .truncated = g_truncated};
        bl_features_result r;
        bl_status s = bl_features_compute(audio, tpath("job.npy"), fp, &o, &r);
        BL_CHECK(s == BL_OK, "%s, %d threads, block %zu: %s", what, runs[k].threads,
                 runs[k].block, bl_error_message());
        BL_CHECK(s != BL_OK || same_file(tpath("job.npy"), tpath("ref.npy")),
                 "%s, %d threads, block %zu: output differs from the direct front end", what,
                 runs[k].threads, runs[k].block);
    }
    unlink(tpath("job.npy"));
    unlink(tpath("ref.npy"));
}

static void test_job(void) {
    bl_frontend_params fp;
    bl_frontend_params_default(&fp);
    fp.n_fft = 128; /* small and cheap, with hop 32 still > 4096 frames: several tiles */
    fp.win_length = 128;
    fp.hop_length = 32;
    fp.mel.n_mels = 16;
    size_t frames = 16000 * 9 + 123;
    BL_CHECK(write_audio(tpath("mono.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_24, 16000, 1, frames) == 0, "write");
    BL_CHECK(write_audio(tpath("st.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 2, frames) == 0, "write");
    BL_CHECK(write_audio(tpath("st44.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, 44100 * 4) == 0, "write");
    check_job(tpath("mono.wav"), &fp, 0, 0, "mono WAV");
    check_job(tpath("mono.wav"), &fp, 1.25, 3.5, "mono WAV, window");
    check_job(tpath("st.wav"), &fp, 0, 0, "stereo WAV");
    check_job(tpath("st44.wav"), &fp, 0, 0, "stereo 44.1 kHz, resampled");
    check_job(tpath("st44.wav"), &fp, 0.5, 0, "stereo 44.1 kHz, resampled, from 0.5 s");
    if (write_audio(tpath("v.ogg"), SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 2, frames) == 0)
        check_job(tpath("v.ogg"), &fp, 0, 0, "Ogg Vorbis (length known only at the end)");
    /* FLAC cut short: its STREAMINFO promises more frames than the data holds, so the
     * output is laid out for too many frames and must be assembled. */
    if (write_audio(tpath("cut.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 2, frames) == 0) {
        size_t n = 0;
        free(slurp(tpath("cut.flac"), &n));
        BL_CHECK(truncate(tpath("cut.flac"), (off_t)(n * 6 / 10)) == 0, "truncate");
        bl_audio_stream *as = NULL;
        if (bl_audio_stream_open(tpath("cut.flac"), NULL, &as) == BL_OK)
            printf("cut FLAC: expected_frames %lld of %zu written\n",
                   (long long)bl_audio_stream_expected_frames(as), frames);
        bl_audio_stream_close(as);
        /* input.truncated: fail (the default) writes nothing; keep gives what is there */
        bl_features_opts o = {.threads = 2};
        bl_features_result r;
        unlink(tpath("job.npy"));
        bl_status st = bl_features_compute(tpath("cut.flac"), tpath("job.npy"), &fp, &o, &r);
        BL_CHECK(st == BL_ERR_DECODE && strstr(bl_error_message(), "truncated") && access(tpath("job.npy"), F_OK) != 0,
                 "cut FLAC with input.truncated fail: %s %s", bl_errname(st), bl_error_message());
        g_truncated = BL_TRUNCATED_KEEP;
        check_job(tpath("cut.flac"), &fp, 0, 0, "FLAC cut short");
        g_truncated = BL_TRUNCATED_FAIL;
    }
    /* n_fft 4096 at hop 1: the right padding alone makes 2048 frames, more than the job
     * takes from the front end at once, so finishing a channel takes several rounds. */
    {
        bl_frontend_params big = fp;
        big.n_fft = big.win_length = 4096;
        big.hop_length = 1;
        big.pad_mode = BL_PAD_CONSTANT; /* reflect needs more than n_fft/2 samples */
        big.mel.n_mels = 4;
        big.compression.type = BL_COMP_LOG;
        BL_CHECK(write_audio(tpath("short.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 3000) == 0, "write");
        bl_features_opts o = {.threads = 2};
        bl_features_result r;
        BL_CHECK(reference(tpath("short.wav"), &big, 0, 0, tpath("ref.npy")) == 0, "reference");
        BL_CHECK(bl_features_compute(tpath("short.wav"), tpath("job.npy"), &big, &o, &r) == BL_OK &&
                     r.frames == 3001 && same_file(tpath("job.npy"), tpath("ref.npy")),
                 "n_fft 4096, hop 1: %llu frames, %s", (unsigned long long)r.frames, bl_error_message());
    }
    /* pcen: frames depend on earlier frames, through the whole pipeline */
    fp.compression.type = BL_COMP_PCEN;
    check_job(tpath("st.wav"), &fp, 0, 0, "stereo WAV, pcen");
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "%s", bl_test_tmpdir("features_job"));
    bl_log_set_level(BL_LOG_WARN);
    test_writer();
    test_job();
    return bl_test_finish("test_features_job");
}
