/* test_frontend.c — the CPU front end against torch/torchaudio golden data and its streaming
 * invariants.
 *
 *   golden      every tests/golden/frontend/<name>.yaml: features of signal.wav within
 *               1e-4 * max|ref| of <name>.npy (made by make_golden.py), same frame count
 *   mel matrix  bl_frontend_mel_matrix() against torchaudio's melscale_fbanks (<name>_fb.npy)
 *   streaming   push sizes 1, 7, 300, 4096, 65537, 170001 and whole give the same bytes; threads
 *               1 and 4 too; a large push capped early (cap_frames 2, 700) too;
 *               PCEN state carries across pushes; a small cap_frames loses nothing
 *   edges       frame counts, empty input, short input with reflect, hop > n_fft, validation
 *   fast log    bl_fast_logf within 2 ulp of the double-precision log (correctly rounded to
 *               float) over ~7 million floats (every exponent, subnormals, dense around 1),
 *               exact special values; bl_fast_dbf within 3 ulp of 10*log10
 *
 * Usage: test_frontend            (ctest; BL_SOURCE_DIR locates the golden folder)
 *        test_frontend GOT.npy REF.npy   compare two feature files with the golden tolerance
 *                                        (used by the CLI test in tests/cmake/features.cmake)
 */
#include <math.h>
#include <sndfile.h> /* read the golden WAV directly, independent of io/audio.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"   /* the golden configs are YAML files */
#include "core/fastlog.h"  /* the compression's logarithm, tested on its own */
#include "core/frontend.h" /* what is tested */
#include "io/npy.h"        /* golden references */
#include "testutil.h"

static const char *k_configs[] = {"c01_log_default", "c02_db_htk_nonorm", "c03_pcen",
                                  "c04_none_nocenter", "c05_log_2048", "c06_db_power1",
                                  "c07_pcen_htk", "c08_log_odd", "c09_log_400"};
static const char *k_fb_configs[] = {"c01_log_default", "c02_db_htk_nonorm", "c04_none_nocenter"};
#define NCONFIGS (sizeof k_configs / sizeof k_configs[0])
static const double k_rel_tol = 1e-4;

static float *read_wav(const char *path, size_t *n, int *rate) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) return NULL;
    float *x = malloc(sizeof(float) * (size_t)info.frames * (size_t)info.channels + 1);
    sf_count_t got = sf_readf_float(f, x, info.frames);
    sf_close(f);
    if (info.channels != 1 || got != info.frames) {
        free(x);
        return NULL;
    }
    *n = (size_t)got;
    *rate = info.samplerate;
    return x;
}

/* Deterministic test signal: noise + a tone, so every bin has energy. */
static float *make_signal(size_t n, unsigned seed) {
    float *x = malloc(n * sizeof(float) + 1);
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = 0.1f * ((float)(s >> 8) / 16777216.0f - 0.5f) + 0.3f * sinf(0.05f * (float)i);
    }
    return x;
}

/* Run a stream over x in pushes of `block` samples (0 = one push); returns the frames
 * ([frame][n_mels]) and their count, or NULL on a stream error (status in *st_out). */
static float *run_stream(const bl_frontend *fe, const float *x, size_t n, size_t block,
                         int threads, size_t cap_limit, size_t *frames, bl_status *st_out) {
    int n_mels = bl_frontend_params_of(fe)->mel.n_mels;
    bl_fe_stream *st = NULL;
    *st_out = bl_fe_stream_create(fe, threads, &st);
    if (*st_out != BL_OK) return NULL;
    size_t total_cap = bl_frontend_frame_count(fe, n) + 1;
    float *out = malloc(total_cap * (size_t)n_mels * sizeof(float));
    size_t got = 0;
    if (block == 0) block = n ? n : 1;
    for (size_t off = 0; off < n || (n == 0 && off == 0); off += block) {
        size_t k = n - off < block ? n - off : block;
        size_t bound = bl_fe_stream_max_frames(st, k), m = 0;
        size_t cap = cap_limit && cap_limit < total_cap - got ? cap_limit : total_cap - got;
        *st_out = bl_fe_stream_push(st, x + off, k, out + got * (size_t)n_mels, cap, &m);
        if (*st_out != BL_OK) break;
        BL_CHECK(m <= bound, "push emitted %zu frames, max_frames said %zu", m, bound);
        got += m;
        if (n == 0) break;
    }
    for (int rounds = 0; *st_out == BL_OK && rounds < 100000; rounds++) {
        size_t bound = bl_fe_stream_max_frames(st, 0), m = 0;
        size_t cap = cap_limit && cap_limit < total_cap - got ? cap_limit : total_cap - got;
        *st_out = bl_fe_stream_finish(st, out + got * (size_t)n_mels, cap, &m);
        BL_CHECK(m <= bound, "finish emitted %zu frames, max_frames said %zu", m, bound);
        got += m;
        if (m == 0) break; /* finish again until drained (needed only with a small cap) */
    }
    bl_fe_stream_destroy(st);
    if (*st_out != BL_OK) {
        free(out);
        return NULL;
    }
    *frames = got;
    return out;
}

static bl_status load_params(const char *name, bl_frontend_params *p) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden/frontend/%s.yaml", name);
    bl_config c;
    bl_status s = bl_config_load_file(bl_test_source_path(rel), &c);
    if (s == BL_OK) s = bl_config_validate(&c);
    if (s == BL_OK) *p = c.frontend;
    BL_CHECK(s == BL_OK, "%s: %s", rel, bl_error_message());
    bl_config_free(&c);
    return s;
}

/* The golden tolerance on [channels][n_mels][frames] arrays; prints the measured ratio. */
static int compare_features(const char *what, const float *got, const float *ref, size_t n) {
    double d, m;
    bl_test_maxdiff(got, ref, n, &d, &m);
    double ratio = m > 0 ? d / m : d;
    printf("  %-22s max|got-ref| = %.3g, max|ref| = %.4g, ratio %.3g (limit %.0e)\n", what, d, m,
           ratio, k_rel_tol);
    BL_CHECK(ratio <= k_rel_tol, "%s: max|got-ref|/max|ref| = %.3g > %g", what, ratio, k_rel_tol);
    return ratio <= k_rel_tol;
}

static void test_golden(void) {
    size_t n = 0;
    int rate = 0;
    float *x = read_wav(bl_test_source_path("tests/golden/frontend/signal.wav"), &n, &rate);
    BL_CHECK(x != NULL, "cannot read tests/golden/frontend/signal.wav");
    if (!x) return;
    printf("golden: %zu samples at %d Hz\n", n, rate);
    for (size_t ci = 0; ci < NCONFIGS; ci++) {
        const char *name = k_configs[ci];
        bl_frontend_params p;
        if (load_params(name, &p) != BL_OK) continue;
        BL_CHECK(p.sample_rate == rate, "%s: sample rate %d vs WAV %d", name, p.sample_rate, rate);
        bl_frontend *fe = NULL;
        bl_status s = bl_frontend_create(&p, &fe);
        BL_CHECK(s == BL_OK, "%s: create: %s", name, bl_error_message());
        if (s != BL_OK) continue;
        char rel[256];
        snprintf(rel, sizeof rel, "tests/golden/frontend/%s.npy", name);
        float *ref = NULL;
        size_t shape[BL_NPY_MAX_DIMS];
        int nd = 0;
        s = bl_npy_read_f32(bl_test_source_path(rel), &ref, shape, &nd);
        BL_CHECK(s == BL_OK && nd == 3 && shape[0] == 1 && shape[1] == (size_t)p.mel.n_mels,
                 "%s: bad reference (%s)", rel, bl_error_message());
        size_t frames = 0;
        float *got = s == BL_OK ? run_stream(fe, x, n, 0, 1, 0, &frames, &s) : NULL;
        BL_CHECK(got != NULL, "%s: stream failed: %s", name, bl_error_message());
        if (got && ref) {
            BL_CHECK(frames == shape[2], "%s: %zu frames, torch has %zu", name, frames, shape[2]);
            BL_CHECK(frames == bl_frontend_frame_count(fe, n), "%s: frame_count disagrees", name);
            if (frames == shape[2]) {
                size_t nm = (size_t)p.mel.n_mels;
                float *t = malloc(nm * frames * sizeof(float));
                for (size_t f = 0; f < frames; f++)
                    for (size_t m = 0; m < nm; m++) t[m * frames + f] = got[f * nm + m];
                compare_features(name, t, ref, nm * frames);
                free(t);
            }
        }
        free(got);
        free(ref);
        bl_frontend_destroy(fe);
    }
    free(x);
}

static void test_mel_matrix(void) {
    for (size_t i = 0; i < sizeof k_fb_configs / sizeof k_fb_configs[0]; i++) {
        const char *name = k_fb_configs[i];
        bl_frontend_params p;
        if (load_params(name, &p) != BL_OK) continue;
        bl_frontend *fe = NULL;
        if (bl_frontend_create(&p, &fe) != BL_OK) continue;
        char rel[256];
        snprintf(rel, sizeof rel, "tests/golden/frontend/%s_fb.npy", name);
        float *ref = NULL;
        size_t shape[BL_NPY_MAX_DIMS];
        int nd = 0;
        bl_status s = bl_npy_read_f32(bl_test_source_path(rel), &ref, shape, &nd);
        size_t nf = (size_t)p.n_fft / 2 + 1, nm = (size_t)p.mel.n_mels;
        BL_CHECK(s == BL_OK && nd == 2 && shape[0] == nf && shape[1] == nm, "%s: bad fb", rel);
        if (s == BL_OK && nd == 2 && shape[0] == nf && shape[1] == nm) {
            double d, m;
            bl_test_maxdiff(bl_frontend_mel_matrix(fe), ref, nf * nm, &d, &m);
            printf("  mel %-18s max|got-ref| = %.3g, max|ref| = %.4g\n", name, d, m);
            /* Both are float32 roundings of float64 values: at most one ulp apart. */
            BL_CHECK(d <= 1e-6 * m, "%s: mel matrix differs from torchaudio by %.3g", name, d);
        }
        /* The window: periodic Hann of win_length centred in n_fft. */
        const float *w = bl_frontend_window(fe);
        int win = p.win_length ? p.win_length : p.n_fft, lo = (p.n_fft - win) / 2;
        double werr = 0;
        for (int k = 0; k < p.n_fft; k++) {
            double want = k >= lo && k < lo + win ? 0.5 - 0.5 * cos(2 * M_PI * (k - lo) / win) : 0;
            werr = fmax(werr, fabs(w[k] - want));
        }
        BL_CHECK(werr < 1e-7, "%s: window differs from periodic Hann by %.3g", name, werr);
        free(ref);
        bl_frontend_destroy(fe);
    }
}

/* Bit-identical output whatever the push sizes, thread counts and output capacities. */
static void check_invariance(const char *what, const bl_frontend_params *p, size_t n) {
    bl_frontend *fe = NULL;
    bl_status s = bl_frontend_create(p, &fe);
    BL_CHECK(s == BL_OK, "%s: create: %s", what, bl_error_message());
    if (s != BL_OK) return;
    float *x = make_signal(n, 7);
    size_t nm = (size_t)p->mel.n_mels, f0 = 0;
    float *whole = run_stream(fe, x, n, 0, 1, 0, &f0, &s);
    BL_CHECK(whole && f0 == bl_frontend_frame_count(fe, n), "%s: whole push: %zu frames, want %zu",
             what, f0, bl_frontend_frame_count(fe, n));
    const size_t blocks[] = {1, 7, 300, 4096, 65537, 170001};
    for (size_t i = 0; whole && i < sizeof blocks / sizeof blocks[0]; i++) {
        for (int threads = 1; threads <= 4; threads += 3) {
            if (blocks[i] == 1 && threads == 4) continue; /* one sample per push: slow, no gain */
            size_t f = 0;
            float *got = run_stream(fe, x, n, blocks[i], threads, 0, &f, &s);
            BL_CHECK(got && f == f0 && !memcmp(got, whole, f0 * nm * sizeof(float)),
                     "%s: push size %zu, %d threads: output differs from one push", what,
                     blocks[i], threads);
            free(got);
        }
    }
    if (whole) {
        size_t f = 0; /* cap_frames 3: frames held back must come out later, unchanged */
        float *got = run_stream(fe, x, n, 1000, 2, 3, &f, &s);
        BL_CHECK(got && f == f0 && !memcmp(got, whole, f0 * nm * sizeof(float)),
                 "%s: cap_frames 3 changes the output", what);
        free(got);
        f = 0; /* one large push with a cap that stops it early, before and inside the part
                * computed straight from the caller's block */
        const size_t caps[] = {2, 700};
        for (size_t c = 0; c < 2; c++) {
            got = run_stream(fe, x, n, 0, 2, caps[c], &f, &s);
            BL_CHECK(got && f == f0 && !memcmp(got, whole, f0 * nm * sizeof(float)),
                     "%s: one push, cap_frames %zu changes the output", what, caps[c]);
            free(got);
            f = 0;
        }
        got = run_stream(fe, x, n, 0, 4, 0, &f, &s);
        BL_CHECK(got && f == f0 && !memcmp(got, whole, f0 * nm * sizeof(float)),
                 "%s: 4 threads, one push: output differs from 1 thread", what);
        free(got);
    }
    printf("  invariance %-26s %zu samples, %zu frames: ok\n", what, n, f0);
    free(whole);
    free(x);
    bl_frontend_destroy(fe);
}

static void test_streaming(void) {
    const char *names[] = {"c01_log_default", "c02_db_htk_nonorm", "c03_pcen", "c04_none_nocenter",
                           "c07_pcen_htk", "c08_log_odd"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bl_frontend_params p;
        if (load_params(names[i], &p) == BL_OK) check_invariance(names[i], &p, 200000);
    }
    /* hop > n_fft: samples between frames are skipped, never stored. */
    bl_frontend_params p;
    bl_frontend_params_default(&p);
    p.n_fft = 64;
    p.win_length = 0;
    p.hop_length = 100;
    p.mel.n_mels = 8;
    p.compression.type = BL_COMP_PCEN;
    check_invariance("hop>n_fft center reflect", &p, 30011);
    p.center = false;
    check_invariance("hop>n_fft no center", &p, 30011);
}

/* PCEN's smoother carries across pushes: the second half of a split run equals the tail of
 * an unsplit run, and differs from a fresh stream fed only the second half. */
static void test_pcen_carry(void) {
    bl_frontend_params p;
    bl_frontend_params_default(&p);
    p.compression.type = BL_COMP_PCEN;
    bl_frontend *fe = NULL;
    if (bl_frontend_create(&p, &fe) != BL_OK) {
        BL_CHECK(0, "pcen create: %s", bl_error_message());
        return;
    }
    size_t n = 48000, half = 24000, nm = 64;
    float *x = make_signal(n, 3);
    bl_fe_stream *a = NULL, *b = NULL;
    bl_fe_stream_create(fe, 1, &a);
    bl_fe_stream_create(fe, 1, &b);
    float *fa = malloc(200 * nm * sizeof(float)), *fb = malloc(200 * nm * sizeof(float));
    size_t na1 = 0, na2 = 0, nb = 0;
    bl_fe_stream_push(a, x, half, fa, 200, &na1);
    bl_fe_stream_push(a, x + half, n - half, fa + na1 * nm, 200 - na1, &na2);
    /* b sees only the second half: its first frame restarts the smoother at S[0]. */
    bl_fe_stream_push(b, x + half, n - half, fb, 200, &nb);
    BL_CHECK(na2 > 10 && nb > 10, "pcen carry: too few frames (%zu, %zu)", na2, nb);
    /* Stream a's frames after the split and stream b's frames start at different sample
     * offsets; compare the frame of a at sample offset half + k*hop with b's frame k where
     * they line up (a frame start f*hop - n_fft/2 == half + k*hop). */
    int aligned = 0, differs = 0;
    for (size_t fa_i = 0; fa_i < na1 + na2; fa_i++) {
        long start_a = (long)(fa_i * 300) - 512;
        for (size_t k = 0; k < nb; k++) {
            long start_b = (long)half + (long)(k * 300) - 512;
            if (start_a == start_b && start_b >= (long)half && k > 5) {
                aligned++;
                if (memcmp(fa + fa_i * nm, fb + k * nm, nm * sizeof(float))) differs++;
            }
        }
    }
    BL_CHECK(aligned > 0, "pcen carry: no aligned frames to compare");
    BL_CHECK(differs == aligned, "pcen carry: %d of %d frames ignore the carried state",
             aligned - differs, aligned);
    free(fa);
    free(fb);
    free(x);
    bl_fe_stream_destroy(a);
    bl_fe_stream_destroy(b);
    bl_frontend_destroy(fe);
    printf("  pcen carry: %d aligned frames all depend on the carried smoother\n", aligned);
}

static void test_edges(void) {
    bl_frontend_params p;
    bl_frontend_params_default(&p);
    p.n_fft = 256;
    p.win_length = 0;
    p.hop_length = 64;
    p.mel.n_mels = 16;
    bl_frontend *fe = NULL;
    bl_status s;
    float *x = make_signal(1000, 5);
    size_t f = 0;
    for (int center = 0; center <= 1; center++)
        for (int pad = 0; pad <= 1; pad++) {
            p.center = center;
            p.pad_mode = pad ? BL_PAD_REFLECT : BL_PAD_CONSTANT;
            BL_CHECK(bl_frontend_create(&p, &fe) == BL_OK, "edges: create");
            /* Frame counts: torch.stft's, for lengths around the interesting boundaries. */
            const size_t lens[] = {1, 63, 64, 127, 128, 129, 255, 256, 257, 320, 321, 999};
            for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
                size_t L = lens[i];
                size_t want = center ? 1 + L / 64 : (L >= 256 ? 1 + (L - 256) / 64 : 0);
                BL_CHECK(bl_frontend_frame_count(fe, L) == want, "frame_count(%zu)", L);
                float *got = run_stream(fe, x, L, 5, 1, 0, &f, &s);
                if (center && pad && L <= 128) {
                    /* torch.stft raises for reflect padding wider than the signal: so do we. */
                    BL_CHECK(got == NULL && s == BL_ERR_RANGE,
                             "reflect, %zu samples: expected BL_ERR_RANGE, got %s", L,
                             bl_errname(s));
                    BL_CHECK(strstr(bl_error_message(), "too short") != NULL,
                             "message should say the signal is too short: %s", bl_error_message());
                } else {
                    BL_CHECK(got && f == want, "center %d pad %d, %zu samples: %zu frames, want %zu",
                             center, pad, L, f, want);
                }
                free(got);
            }
            /* Empty input: no frames, no error. */
            float *got = run_stream(fe, x, 0, 0, 1, 0, &f, &s);
            BL_CHECK(got && f == 0 && bl_frontend_frame_count(fe, 0) == 0,
                     "empty input: %zu frames (%s)", f, bl_errname(s));
            free(got);
            bl_frontend_destroy(fe);
        }
    free(x);

    /* Push after finish is an error, not a crash. */
    bl_frontend_params_default(&p);
    BL_CHECK(bl_frontend_create(&p, &fe) == BL_OK, "create");
    bl_fe_stream *st = NULL;
    BL_CHECK(bl_fe_stream_create(fe, 2, &st) == BL_OK, "stream create");
    size_t m = 0;
    float one = 0.5f, out[64];
    BL_CHECK(bl_fe_stream_finish(st, out, 1, &m) == BL_OK && m == 0, "finish on empty stream");
    BL_CHECK(bl_fe_stream_push(st, &one, 1, out, 1, &m) == BL_ERR_INVALID_ARG, "push after finish");
    bl_fe_stream_destroy(st);
    BL_CHECK(bl_fe_stream_create(fe, 0, &st) == BL_ERR_INVALID_ARG, "0 threads accepted");
    bl_frontend_destroy(fe);

    /* Validation names the field. */
    bl_frontend_params_default(&p);
    p.n_fft = 1023;
    BL_CHECK(bl_frontend_params_validate(&p) == BL_ERR_CONFIG && strstr(bl_error_message(), "n_fft"),
             "odd n_fft accepted");
    bl_frontend_params_default(&p);
    p.win_length = 2048;
    BL_CHECK(bl_frontend_params_validate(&p) == BL_ERR_CONFIG &&
                 strstr(bl_error_message(), "win_length"), "win_length > n_fft accepted");
    bl_frontend_params_default(&p);
    p.mel.fmax = 9000;
    BL_CHECK(bl_frontend_params_validate(&p) == BL_ERR_CONFIG && strstr(bl_error_message(), "fmax"),
             "fmax above Nyquist accepted");
    bl_frontend_params_default(&p);
    p.hop_length = 0;
    BL_CHECK(bl_frontend_params_validate(&p) == BL_ERR_CONFIG &&
                 strstr(bl_error_message(), "hop_length"), "hop 0 accepted");
    bl_frontend_params_default(&p);
    p.compression.type = BL_COMP_DB;
    p.compression.amin = 0;
    BL_CHECK(bl_frontend_params_validate(&p) == BL_ERR_CONFIG && strstr(bl_error_message(), "amin"),
             "amin 0 accepted for db");
    bl_frontend_params_default(&p);
    p.mel.fmax = 0; /* 0 means sample_rate/2 */
    BL_CHECK(bl_frontend_params_validate(&p) == BL_OK, "fmax 0 rejected: %s", bl_error_message());
}

/* test_frontend GOT.npy REF.npy [STRIDE]: the golden comparison for the CLI tests. With a
 * STRIDE, GOT (hop h*STRIDE) must equal every STRIDE-th frame of REF (hop h) bit for bit:
 * those frames see the same samples, so this checks the CLI's chunked transposition. */
static int compare_files(const char *got_path, const char *ref_path, int stride) {
    float *g = NULL, *r = NULL;
    size_t gs[BL_NPY_MAX_DIMS], rs[BL_NPY_MAX_DIMS];
    int gn = 0, rn = 0;
    BL_REQUIRE(bl_npy_read_f32(got_path, &g, gs, &gn) == BL_OK, "%s", bl_error_message());
    BL_REQUIRE(bl_npy_read_f32(ref_path, &r, rs, &rn) == BL_OK, "%s", bl_error_message());
    BL_REQUIRE(gn == rn, "%s has %d dims, %s has %d", got_path, gn, ref_path, rn);
    if (stride > 0) {
        BL_REQUIRE(gn == 3 && gs[0] == rs[0] && gs[1] == rs[1] && gs[2] == (rs[2] + stride - 1) /
                   (size_t)stride, "shapes do not match for stride %d", stride);
        size_t bad = 0, rows = gs[0] * gs[1];
        for (size_t row = 0; row < rows; row++)
            for (size_t f = 0; f < gs[2]; f++)
                bad += memcmp(&g[row * gs[2] + f], &r[row * rs[2] + f * (size_t)stride], 4) != 0;
        printf("  stride %d: %zu of %zu values differ\n", stride, bad, rows * gs[2]);
        BL_CHECK(bad == 0, "%zu values differ", bad);
        free(g);
        free(r);
        return bl_test_finish("test_frontend stride compare");
    }
    size_t count = 1;
    for (int i = 0; i < gn; i++) {
        BL_REQUIRE(gs[i] == rs[i], "shape differs in dim %d: %zu vs %zu", i, gs[i], rs[i]);
        count *= gs[i];
    }
    compare_features("file", g, r, count);
    free(g);
    free(r);
    return bl_test_finish("test_frontend compare");
}

/* |got - ref| in units of the last place of ref rounded to float; 0 when both are 0. */
static double ulp_error(float got, double ref) {
    float rf = (float)ref;
    if (rf == 0.0f) return got == 0.0f ? 0.0 : INFINITY;
    int e;
    frexp((double)rf, &e);
    return fabs((double)got - ref) / ldexp(1.0, e - 24);
}

static void test_fast_log(void) {
    double worst = 0.0, worst_db = 0.0;
    float worst_x = 0.0f;
    size_t count = 0;
    /* every 613th positive finite float (subnormals included), then every 5th in [0.5, 2) */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t lo = pass ? 0x3f000000u : 1u, hi = pass ? 0x40000000u : 0x7f800000u;
        uint32_t step = pass ? 5u : 613u;
        for (uint32_t u = lo; u < hi; u += step) {
            float x;
            memcpy(&x, &u, sizeof x);
            double e = ulp_error(bl_fast_logf(x), log((double)x));
            if (e > worst) worst = e, worst_x = x;
            if (u % 7u == 0) {
                double d = ulp_error(bl_fast_dbf(x), 10.0 * log10((double)x));
                if (d > worst_db) worst_db = d;
            }
            count++;
        }
    }
    printf("  fast log: %zu values, max error %.3f ulp (at %a), db %.3f ulp\n", count, worst,
           (double)worst_x, worst_db);
    BL_CHECK(worst <= 2.0, "bl_fast_logf is %.3f ulp off at %a (limit 2)", worst, (double)worst_x);
    BL_CHECK(worst_db <= 3.0, "bl_fast_dbf is %.3f ulp off (limit 3)", worst_db);
    BL_CHECK(bl_fast_logf(1.0f) == 0.0f, "log(1) = %a", (double)bl_fast_logf(1.0f));
    float v = bl_fast_logf(0.0f);
    BL_CHECK(isinf(v) && v < 0, "log(+0) = %g, want -inf", v);
    v = bl_fast_logf(-0.0f);
    BL_CHECK(isinf(v) && v < 0, "log(-0) = %g, want -inf", v);
    v = bl_fast_logf(INFINITY);
    BL_CHECK(isinf(v) && v > 0, "log(+inf) = %g, want +inf", v);
    BL_CHECK(isnan(bl_fast_logf(-1.0f)), "log(-1) is not NaN");
    BL_CHECK(isnan(bl_fast_logf(-1e-40f)), "log of a negative subnormal is not NaN");
    BL_CHECK(isnan(bl_fast_logf(-INFINITY)), "log(-inf) is not NaN");
    BL_CHECK(isnan(bl_fast_logf(NAN)), "log(NaN) is not NaN");
    const float edge[] = {1.40129846e-45f, 1.1754942e-38f, 1.17549435e-38f, 3.40282347e38f,
                          0.70710677f, 0.70710683f, 1.0000001f, 0.99999994f};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        double e = ulp_error(bl_fast_logf(edge[i]), log((double)edge[i]));
        BL_CHECK(e <= 2.0, "log(%a): %.3f ulp off", (double)edge[i], e);
    }
    v = bl_fast_dbf(0.0f);
    BL_CHECK(isinf(v) && v < 0, "db(0) = %g, want -inf", v);
    BL_CHECK(bl_fast_dbf(1.0f) == 0.0f, "db(1) = %g", bl_fast_dbf(1.0f));
}

int main(int argc, char **argv) {
    if (argc == 3 || argc == 4) return compare_files(argv[1], argv[2], argc == 4 ? atoi(argv[3]) : 0);
    test_golden();
    test_mel_matrix();
    test_streaming();
    test_pcen_carry();
    test_edges();
    test_fast_log();
    return bl_test_finish("test_frontend");
}
