/* test_kernels_frontend.c — the front end's kernels (kernels/frontend.cu), run through the
 * host emulation (kernels/emu.h), against the CPU reference (core/frontend.c).
 *
 * For several front-end configurations, on a deterministic signal: the CPU reference end to
 * end (bl_frontend_create + bl_fe_stream_push/finish), and the device pipeline in emulation:
 * padding on the host as the backend will do it, frame_window kernel, the CPU reference's FFT
 * (bl_frontend_spectrum) standing in for cuFFT R2C, power_mel kernel, then the compress or pcen kernel. Every buffer a kernel sees
 * has guard bytes on both sides, checked after each launch; outputs are prefilled with NaN
 * so that an element a kernel forgets shows up; inputs are checked unchanged. Each kernel is
 * also checked alone against a direct computation here, the sparse mel sum against the dense
 * one, in-place compression and a PCEN split into two launches against one launch, and the
 * whole pipeline run with the emulated threads in reverse order against the forward run.
 *
 * Tolerance (per element, |got - ref| <= atol + rtol*|ref|): rtol 1e-5, DESIGN §4's
 * cross-backend contract. atol: 1e-5 for log and db (their outputs are logarithms, so an
 * absolute error there is a relative error of the energy, and values cross zero), 1e-6 for
 * PCEN (outputs of order 0.01..10 that also approach zero), and 1e-9 of the largest value
 * for none (raw energies span many decades; atol only covers bins at the float noise floor).
 * The emulation does the CPU reference's float and double operations in the same order, so
 * it is expected to agree bit for bit; the tolerance is the contract a GPU run must meet
 * (fused multiply-adds and the device libm move the last bits), and the number of elements
 * that are not bit-identical is printed.
 *
 * A second part checks the emulation itself: every (block, thread) of 1-D and 3-D grids runs
 * exactly once in CUDA's linear order, partial blocks leave the tail untouched, and launch
 * configurations CUDA rejects are reported by BL_KERNEL_LAUNCH_CHECK() without running.
 */
#include <math.h>              /* sin, isfinite, fabs */
#include <stdint.h>            /* uint32_t for the signal's noise */
#include <stdlib.h>            /* malloc, setenv */
#include <string.h>            /* memcmp, memset */

#include "core/frontend.h"        /* the CPU reference */
#include "kernels/cuda_compat.h"  /* BL_LAUNCH for this test's own emulation-check kernel */
#include "kernels/frontend_ops.h" /* the kernels under test */
#include "testutil.h"             /* BL_CHECK, bl_test_allclose */

/* ---- guarded buffers ----------------------------------------------------------------- */

#define GUARD_BYTES 256
#define GUARD_BYTE 0xA5
#define MAX_BUFS 32

typedef struct {
    unsigned char *base;
    size_t bytes;
    const char *name;
} gbuf;

typedef struct {
    gbuf b[MAX_BUFS];
    int n;
} gpool;

/* A buffer of `bytes` with GUARD_BYTES of canary on each side; the inside is filled with
 * 0xFF bytes (a NaN as float and as double), so unwritten outputs fail the finiteness check. */
static void *galloc(gpool *p, size_t bytes, const char *name) {
    if (p->n == MAX_BUFS) return NULL;
    unsigned char *base = malloc(bytes + 2 * GUARD_BYTES);
    if (!base) return NULL;
    memset(base, GUARD_BYTE, GUARD_BYTES);
    memset(base + GUARD_BYTES, 0xFF, bytes);
    memset(base + GUARD_BYTES + bytes, GUARD_BYTE, GUARD_BYTES);
    p->b[p->n++] = (gbuf){base, bytes, name};
    return base + GUARD_BYTES;
}

static void *gcopy(gpool *p, const void *src, size_t bytes, const char *name) {
    void *d = galloc(p, bytes, name);
    if (d) memcpy(d, src, bytes);
    return d;
}

/* Check every buffer's canaries; returns the number of damaged buffers. */
static int gcheck(const gpool *p, const char *after) {
    int bad = 0;
    for (int i = 0; i < p->n; i++) {
        const gbuf *g = &p->b[i];
        for (size_t j = 0; j < GUARD_BYTES; j++) {
            int lo = g->base[j] != GUARD_BYTE;
            int hi = g->base[GUARD_BYTES + g->bytes + j] != GUARD_BYTE;
            if (lo || hi) {
                fprintf(stderr, "  guard bytes of %s damaged (%zu bytes %s the buffer) after %s\n",
                        g->name, lo ? GUARD_BYTES - j : j + 1, lo ? "before" : "after", after);
                bad++;
                break;
            }
        }
    }
    BL_CHECK(bad == 0, "%d buffer(s) written out of bounds by %s", bad, after);
    return bad;
}

static void gfree(gpool *p) {
    for (int i = 0; i < p->n; i++) free(p->b[i].base);
    p->n = 0;
}

static size_t count_nonfinite(const float *x, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !isfinite(x[i]);
    return bad;
}

static size_t count_bit_diffs(const float *a, const float *b, size_t n) {
    size_t d = 0;
    for (size_t i = 0; i < n; i++) d += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return d;
}

/* ---- signal and configurations ------------------------------------------------------- */

/* Tones, a chirp, noise, a stretch of exact silence (log(eps), the db floor, PCEN of 0) and a
 * loud burst, so that mel energies span many decades. */
static void make_signal(float *x, size_t n, int sr) {
    uint32_t s = 12345u;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / sr;
        s = s * 1664525u + 1013904223u;
        double noise = (double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0;
        double v = 0.4 * sin(2 * M_PI * 440.0 * t) + 0.2 * sin(2 * M_PI * (150.0 + 900.0 * t) * t) +
                   0.03 * noise;
        if (i >= n / 2 && i < n / 2 + n / 8) v = 0.0;
        if (i >= n - n / 10) v *= 8.0;
        x[i] = (float)v;
    }
}

typedef struct {
    const char *name;
    int sample_rate, n_fft, win_length, hop;
    bool center;
    bl_pad_mode pad;
    double power;
    int n_mels;
    double fmin, fmax;
    bl_mel_scale scale;
    bl_mel_norm norm;
    bl_comp_type comp;
} fe_case;

static const fe_case k_cases[] = {
    {"default log", 16000, 1024, 1024, 300, true, BL_PAD_REFLECT, 2.0, 64, 0, 8000, BL_MEL_SLANEY,
     BL_MELNORM_SLANEY, BL_COMP_LOG},
    {"db, no centre, short window", 16000, 512, 400, 128, false, BL_PAD_REFLECT, 2.0, 40, 50, 7000,
     BL_MEL_HTK, BL_MELNORM_NONE, BL_COMP_DB},
    {"pcen, constant pad, magnitude, empty bands", 16000, 256, 0, 64, true, BL_PAD_CONSTANT, 1.0,
     96, 0, 0, BL_MEL_SLANEY, BL_MELNORM_SLANEY, BL_COMP_PCEN},
    {"none, power 1.5, n_fft 400", 16000, 400, 0, 160, true, BL_PAD_REFLECT, 1.5, 48, 20, 0,
     BL_MEL_HTK, BL_MELNORM_SLANEY, BL_COMP_NONE},
    {"humpback pcen", 10000, 1024, 1024, 300, true, BL_PAD_REFLECT, 2.0, 64, 0, 5000,
     BL_MEL_SLANEY, BL_MELNORM_SLANEY, BL_COMP_PCEN},
    {"log, hop > n_fft, no centre", 16000, 128, 0, 200, false, BL_PAD_REFLECT, 2.0, 16, 0, 0,
     BL_MEL_SLANEY, BL_MELNORM_NONE, BL_COMP_LOG},
};

static void case_params(const fe_case *c, bl_frontend_params *p) {
    bl_frontend_params_default(p);
    p->sample_rate = c->sample_rate;
    p->n_fft = c->n_fft;
    p->win_length = c->win_length;
    p->hop_length = c->hop;
    p->center = c->center;
    p->pad_mode = c->pad;
    p->power = c->power;
    p->mel.n_mels = c->n_mels;
    p->mel.fmin = c->fmin;
    p->mel.fmax = c->fmax;
    p->mel.scale = c->scale;
    p->mel.norm = c->norm;
    p->compression.type = c->comp;
}

/* ---- the CPU reference ----------------------------------------------------------------- */

/* The reference frames of x, pushed in uneven pieces as a decoder would deliver them. */
static int run_cpu(const bl_frontend *fe, const float *x, size_t n, float **out, size_t *n_frames) {
    size_t n_mels = (size_t)bl_frontend_params_of(fe)->mel.n_mels;
    size_t cap = bl_frontend_frame_count(fe, n);
    float *o = malloc((cap ? cap : 1) * n_mels * sizeof(float));
    bl_fe_stream *st = NULL;
    BL_REQUIRE(o && bl_fe_stream_create(fe, 1, &st) == BL_OK, "stream: %s", bl_error_message());
    static const size_t pieces[] = {1000, 37, 4096, 1, 777};
    size_t total = 0, pos = 0, got = 0;
    for (int i = 0; pos < n; i++) {
        size_t k = pieces[i % 5] < n - pos ? pieces[i % 5] : n - pos;
        BL_REQUIRE(total + bl_fe_stream_max_frames(st, k) <= cap, "max_frames beyond the count");
        BL_REQUIRE(bl_fe_stream_push(st, x + pos, k, o + total * n_mels, cap - total, &got) == BL_OK,
                   "push: %s", bl_error_message());
        total += got;
        pos += k;
    }
    BL_REQUIRE(bl_fe_stream_finish(st, o + total * n_mels, cap - total, &got) == BL_OK,
               "finish: %s", bl_error_message());
    total += got;
    bl_fe_stream_destroy(st);
    BL_CHECK(total == cap, "CPU stream emitted %zu frames, frame_count says %zu", total, cap);
    *out = o;
    *n_frames = total;
    return 0;
}

/* ---- the device pipeline, emulated ------------------------------------------------------ */

/* The padded signal the backend's host side prepares (torch.stft's centre padding). */
static float *pad_signal(const bl_frontend_params *p, const float *x, size_t n, size_t *n_padded) {
    size_t half = p->center ? (size_t)p->n_fft / 2 : 0;
    float *y = malloc((n + 2 * half) * sizeof(float));
    if (!y) return NULL;
    for (size_t i = 0; i < half; i++) {
        bool refl = p->pad_mode == BL_PAD_REFLECT;
        y[i] = refl ? x[half - i] : 0.0f;
        y[half + n + i] = refl ? x[n - 2 - i] : 0.0f;
    }
    memcpy(y + half, x, n * sizeof(float));
    *n_padded = n + 2 * half;
    return y;
}

/* Runs the emulated pipeline on x; *out gets n_frames x n_mels features (caller frees). */
static int run_emulated(const bl_frontend *fe, const float *x, size_t n, float **out,
                        size_t *n_frames_out) {
    const bl_frontend_params *p = bl_frontend_params_of(fe);
    const bl_comp_params *cp = &p->compression;
    int n_fft = p->n_fft, hop = p->hop_length, n_mels = p->mel.n_mels, n_freqs = n_fft / 2 + 1;
    size_t n_frames = bl_frontend_frame_count(fe, n), n_padded = 0;
    size_t nfe = n_frames * (size_t)n_fft, nsp = n_frames * 2 * (size_t)n_freqs;
    size_t nme = n_frames * (size_t)n_mels;
    BL_REQUIRE(n_frames > 1, "test signal too short");
    float *padded = pad_signal(p, x, n, &n_padded);
    BL_REQUIRE(padded, "out of memory");
    gpool g = {0};

    /* frame_window: exact, it is one multiply per element. */
    float *d_sig = gcopy(&g, padded, n_padded * sizeof(float), "samples");
    float *d_win = gcopy(&g, bl_frontend_window(fe), (size_t)n_fft * sizeof(float), "window");
    float *d_frames = galloc(&g, nfe * sizeof(float), "frames");
    BL_REQUIRE(d_sig && d_win && d_frames, "out of memory");
    BL_REQUIRE(bl_fe_op_frame_window(d_sig, n_padded, d_win, n_fft, hop, n_frames, d_frames, NULL) ==
                   BL_OK, "frame_window: %s", bl_error_message());
    gcheck(&g, "frame_window");
    BL_CHECK(memcmp(d_sig, padded, n_padded * sizeof(float)) == 0, "frame_window changed its input");
    BL_CHECK(count_nonfinite(d_frames, nfe) == 0, "frame_window left unwritten/non-finite values");
    size_t wrong = 0;
    for (size_t f = 0; f < n_frames; f++)
        for (int k = 0; k < n_fft; k++) {
            float want = padded[f * (size_t)hop + (size_t)k] * bl_frontend_window(fe)[k];
            wrong += memcmp(&d_frames[f * (size_t)n_fft + (size_t)k], &want, sizeof want) != 0;
        }
    BL_CHECK(wrong == 0, "frame_window: %zu of %zu values differ from samples x window", wrong, nfe);

    /* The FFT: the CPU reference's own (bl_frontend_spectrum) where the device runs cuFFT
     * R2C; same interleaved layout. */
    float *d_spec = galloc(&g, nsp * sizeof(float), "spectrum");
    BL_REQUIRE(d_spec, "out of memory");
    BL_REQUIRE(bl_frontend_spectrum(fe, d_frames, n_frames, d_spec) == BL_OK, "spectrum: %s",
               bl_error_message());

    /* power_mel, with the band ranges and without: same bits. */
    size_t nmat = (size_t)n_freqs * (size_t)n_mels;
    float *d_mel = gcopy(&g, bl_frontend_mel_matrix(fe), nmat * sizeof(float), "mel matrix");
    int *d_lo = galloc(&g, (size_t)n_mels * sizeof(int), "band_lo");
    int *d_hi = galloc(&g, (size_t)n_mels * sizeof(int), "band_hi");
    float *d_S = galloc(&g, nme * sizeof(float), "mel energies");
    float *d_S_dense = galloc(&g, nme * sizeof(float), "mel energies (dense)");
    BL_REQUIRE(d_mel && d_lo && d_hi && d_S && d_S_dense, "out of memory");
    bl_fe_op_mel_bands(d_mel, n_freqs, n_mels, d_lo, d_hi);
    for (int m = 0; m < n_mels; m++)
        BL_CHECK(d_lo[m] >= 0 && d_lo[m] <= d_hi[m] && d_hi[m] <= n_freqs, "band %d: %d..%d", m,
                 d_lo[m], d_hi[m]);
    float *spec_copy = malloc(nsp * sizeof(float));
    BL_REQUIRE(spec_copy, "out of memory");
    memcpy(spec_copy, d_spec, nsp * sizeof(float));
    BL_REQUIRE(bl_fe_op_power_mel(d_spec, n_frames, n_freqs, p->power, d_mel, d_lo, d_hi, n_mels, d_S,
                                  NULL) == BL_OK, "power_mel: %s", bl_error_message());
    gcheck(&g, "power_mel");
    BL_REQUIRE(bl_fe_op_power_mel(d_spec, n_frames, n_freqs, p->power, d_mel, NULL, NULL, n_mels,
                                  d_S_dense, NULL) == BL_OK, "power_mel dense: %s", bl_error_message());
    gcheck(&g, "power_mel (dense)");
    BL_CHECK(memcmp(d_spec, spec_copy, nsp * sizeof(float)) == 0, "power_mel changed its input");
    BL_CHECK(count_nonfinite(d_S, nme) == 0, "power_mel left unwritten/non-finite values");
    BL_CHECK(count_bit_diffs(d_S, d_S_dense, nme) == 0, "sparse and dense mel sums differ");
    /* Independently, in double: sum_k |X|^power * mel. */
    float *S_ref = malloc(nme * sizeof(float));
    BL_REQUIRE(S_ref, "out of memory");
    double smax = 0;
    for (size_t f = 0; f < n_frames; f++)
        for (int m = 0; m < n_mels; m++) {
            double acc = 0;
            for (int k = 0; k < n_freqs; k++) {
                double re = spec_copy[(f * (size_t)n_freqs + (size_t)k) * 2];
                double im = spec_copy[(f * (size_t)n_freqs + (size_t)k) * 2 + 1];
                acc += pow(re * re + im * im, p->power / 2) * d_mel[(size_t)k * (size_t)n_mels + (size_t)m];
            }
            S_ref[f * (size_t)n_mels + (size_t)m] = (float)acc;
            if (acc > smax) smax = acc;
        }
    BL_CHECK(bl_test_allclose("power_mel vs double", d_S, S_ref, nme, 1e-7 * smax, 1e-5) == 0,
             "power_mel disagrees with a direct double computation");
    free(S_ref);
    free(spec_copy);

    float *d_out = galloc(&g, nme * sizeof(float), "features");
    BL_REQUIRE(d_out, "out of memory");
    if (cp->type == BL_COMP_PCEN) {
        double *d_state = galloc(&g, (size_t)n_mels * sizeof(double), "pcen state");
        double *d_state2 = galloc(&g, (size_t)n_mels * sizeof(double), "pcen state (split)");
        float *d_split = gcopy(&g, d_S, nme * sizeof(float), "pcen in place");
        BL_REQUIRE(d_state && d_state2 && d_split, "out of memory");
        /* The states start as NaN: a first launch must not read them. */
        BL_REQUIRE(bl_fe_op_pcen(d_S, d_out, n_frames, n_mels, d_state, true, cp, p->sample_rate, hop,
                                 NULL) == BL_OK, "pcen: %s", bl_error_message());
        gcheck(&g, "pcen");
        /* In place, in two launches carrying the state: same bits as one launch. */
        size_t k = n_frames / 3;
        BL_REQUIRE(bl_fe_op_pcen(d_split, d_split, k, n_mels, d_state2, true, cp, p->sample_rate, hop,
                                 NULL) == BL_OK, "pcen: %s", bl_error_message());
        BL_REQUIRE(bl_fe_op_pcen(d_split + k * (size_t)n_mels, d_split + k * (size_t)n_mels,
                                 n_frames - k, n_mels, d_state2, false, cp, p->sample_rate, hop,
                                 NULL) == BL_OK, "pcen: %s", bl_error_message());
        gcheck(&g, "pcen (split, in place)");
        BL_CHECK(count_bit_diffs(d_out, d_split, nme) == 0, "pcen split in two launches differs");
        BL_CHECK(memcmp(d_state, d_state2, (size_t)n_mels * sizeof(double)) == 0,
                 "pcen state after a split differs");
    } else {
        float *d_inplace = gcopy(&g, d_S, nme * sizeof(float), "compress in place");
        BL_REQUIRE(d_inplace, "out of memory");
        BL_REQUIRE(bl_fe_op_compress(d_S, d_out, nme, cp, NULL) == BL_OK, "compress: %s",
                   bl_error_message());
        BL_REQUIRE(bl_fe_op_compress(d_inplace, d_inplace, nme, cp, NULL) == BL_OK, "compress: %s",
                   bl_error_message());
        gcheck(&g, "compress");
        BL_CHECK(count_bit_diffs(d_out, d_inplace, nme) == 0, "in-place compression differs");
    }
    BL_CHECK(count_nonfinite(d_out, nme) == 0, "compression left unwritten/non-finite values");
    *out = malloc(nme * sizeof(float));
    BL_REQUIRE(*out, "out of memory");
    memcpy(*out, d_out, nme * sizeof(float));
    *n_frames_out = n_frames;
    gfree(&g);
    free(padded);
    return 0;
}

static int test_case(const fe_case *c) {
    fprintf(stderr, "case: %s\n", c->name);
    bl_frontend_params p;
    case_params(c, &p);
    bl_frontend *fe = NULL;
    BL_REQUIRE(bl_frontend_create(&p, &fe) == BL_OK, "%s: %s", c->name, bl_error_message());
    size_t n = 3 * (size_t)c->sample_rate / 2 + 123;
    float *x = malloc(n * sizeof(float));
    BL_REQUIRE(x, "out of memory");
    make_signal(x, n, c->sample_rate);

    float *ref = NULL, *got = NULL, *got_rev = NULL;
    size_t nf_ref = 0, nf_got = 0, nf_rev = 0;
    if (run_cpu(fe, x, n, &ref, &nf_ref) || run_emulated(fe, x, n, &got, &nf_got)) return 1;
    BL_REQUIRE(nf_ref == nf_got, "%s: CPU %zu frames, kernels %zu", c->name, nf_ref, nf_got);
    size_t ne = nf_ref * (size_t)c->n_mels;
    double atol = 1e-5, rtol = 1e-5;
    if (c->comp == BL_COMP_PCEN) atol = 1e-6;
    if (c->comp == BL_COMP_NONE) {
        double mad, mref;
        bl_test_maxdiff(got, ref, ne, &mad, &mref);
        atol = 1e-9 * mref;
    }
    BL_CHECK(bl_test_allclose(c->name, got, ref, ne, atol, rtol) == 0,
             "%s: kernels disagree with the CPU reference (atol %g rtol %g)", c->name, atol, rtol);
    double mad, mref;
    bl_test_maxdiff(got, ref, ne, &mad, &mref);
    size_t nbits = count_bit_diffs(got, ref, ne);
    fprintf(stderr, "  %zu frames x %d mels: max |diff| %.3g (max |ref| %.3g), %zu not bit-identical\n",
            nf_ref, c->n_mels, mad, mref, nbits);
    /* Stricter than the device contract: the emulation runs the CPU reference's operations in
     * the same order and precision, so any difference means the two drifted apart (if the
     * reference's arithmetic changed on purpose, change the kernel to match). */
    BL_CHECK(nbits == 0, "%s: %zu of %zu values differ from the CPU reference in some bit; the "
             "kernels no longer mirror core/frontend.c's arithmetic", c->name, nbits, ne);

    /* The same kernels with the emulated threads in reverse order: no result may depend on
     * the order threads run in. */
    setenv("BL_EMU_ORDER", "reverse", 1);
    int rc = run_emulated(fe, x, n, &got_rev, &nf_rev);
    unsetenv("BL_EMU_ORDER");
    if (rc) return 1;
    BL_CHECK(nf_rev == nf_got && count_bit_diffs(got, got_rev, ne) == 0,
             "%s: the result depends on the order of the emulated threads", c->name);

    free(ref);
    free(got);
    free(got_rev);
    free(x);
    bl_frontend_destroy(fe);
    return 0;
}

/* ---- entry-point argument checks -------------------------------------------------------- */

static void test_bad_arguments(void) {
    float buf[128] = {0}; /* samples at 0, frames (3 x 16) at 32 */
    double state[4] = {0};
    float mel[8] = {0};
    int lo[2] = {0};
    bl_comp_params cp = {.type = BL_COMP_PCEN, .eps = 1e-6, .time_constant = 0.4};
    /* 3 frames of 16 with hop 8 need 32 samples. */
    BL_CHECK(bl_fe_op_frame_window(buf, 31, buf, 16, 8, 3, buf + 32, NULL) == BL_ERR_INVALID_ARG,
             "too few samples accepted");
    BL_CHECK(bl_fe_op_frame_window(buf, 32, buf, 16, 8, 3, buf + 32, NULL) == BL_OK,
             "exactly enough samples refused: %s", bl_error_message());
    BL_CHECK(bl_fe_op_frame_window(buf, 8, buf, 16, 8, 1, buf + 32, NULL) == BL_ERR_INVALID_ARG,
             "fewer samples than n_fft accepted");
    BL_CHECK(bl_fe_op_frame_window(buf, 32, buf, 16, 0, 3, buf + 32, NULL) == BL_ERR_INVALID_ARG,
             "hop 0 accepted");
    BL_CHECK(bl_fe_op_frame_window(NULL, 0, NULL, 16, 8, 0, NULL, NULL) == BL_OK,
             "zero frames refused");
    BL_CHECK(bl_fe_op_power_mel(buf, 1, 4, 0.0, mel, NULL, NULL, 2, buf + 8, NULL) ==
                 BL_ERR_INVALID_ARG, "power 0 accepted");
    BL_CHECK(bl_fe_op_power_mel(buf, 1, 4, 2.0, mel, lo, NULL, 2, buf + 8, NULL) ==
                 BL_ERR_INVALID_ARG, "band_lo without band_hi accepted");
    BL_CHECK(bl_fe_op_compress(buf, buf, 4, &cp, NULL) == BL_ERR_INVALID_ARG,
             "compress accepted PCEN");
    BL_CHECK(strstr(bl_error_message(), "pcen") != NULL, "message does not point at pcen: %s",
             bl_error_message());
    BL_CHECK(bl_fe_op_pcen(buf, buf, 2, 2, state, true, &cp, 16000, 0, NULL) == BL_ERR_INVALID_ARG,
             "hop 0 accepted by pcen");
    cp.time_constant = 0;
    BL_CHECK(bl_fe_op_pcen(buf, buf, 2, 2, state, true, &cp, 16000, 300, NULL) == BL_ERR_INVALID_ARG,
             "time constant 0 accepted");
}

/* ---- the emulation itself ---------------------------------------------------------------- */

/* Each thread counts its visit in hits[gid] and records the order it ran in; counters[0]
 * counts builtins out of range, counters[1] threads past n, counters[2] the visit sequence. */
static __global__ void count_kernel(unsigned *hits, unsigned *order, size_t n, unsigned *counters) {
    if (threadIdx.x >= blockDim.x || threadIdx.y >= blockDim.y || threadIdx.z >= blockDim.z ||
        blockIdx.x >= gridDim.x || blockIdx.y >= gridDim.y || blockIdx.z >= gridDim.z)
        counters[0]++;
    size_t per_block = (size_t)blockDim.x * blockDim.y * blockDim.z;
    size_t block = ((size_t)blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    size_t gid = block * per_block + ((size_t)threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x +
                 threadIdx.x;
    unsigned seq = counters[2]++;
    if (gid >= n) {
        counters[1]++;
        return;
    }
    hits[gid]++;
    order[gid] = seq;
}

static bl_status count_launch(dim3 grid, dim3 block, unsigned *hits, unsigned *order, size_t n,
                              unsigned *counters) {
    BL_LAUNCH(count_kernel, grid, block, NULL, hits, order, n, counters);
    BL_KERNEL_LAUNCH_CHECK();
    return BL_OK;
}

static void test_emulation_coverage(void) {
    static const struct {
        dim3 g, b;
        size_t short_by; /* n = grid x block - short_by: a partial last block */
    } shapes[] = {
        {{1, 1, 1}, {1, 1, 1}, 0},     {{3, 1, 1}, {256, 1, 1}, 68}, {{2, 3, 2}, {4, 5, 3}, 0},
        {{2, 3, 2}, {4, 5, 3}, 7},     {{5, 1, 1}, {32, 2, 1}, 20},  {{1, 2, 1}, {1, 1, 64}, 1},
    };
    for (int reverse = 0; reverse < 2; reverse++) {
        if (reverse) setenv("BL_EMU_ORDER", "reverse", 1);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            dim3 g = shapes[s].g, b = shapes[s].b;
            size_t total = (size_t)g.x * g.y * g.z * b.x * b.y * b.z, n = total - shapes[s].short_by;
            gpool pool = {0};
            unsigned *hits = galloc(&pool, n * sizeof(unsigned), "hits");
            unsigned *order = galloc(&pool, n * sizeof(unsigned), "order");
            unsigned *counters = galloc(&pool, 3 * sizeof(unsigned), "counters");
            if (!hits || !order || !counters) {
                BL_CHECK(0, "out of memory");
                return;
            }
            memset(hits, 0, n * sizeof(unsigned));
            memset(counters, 0, 3 * sizeof(unsigned));
            BL_CHECK(count_launch(g, b, hits, order, n, counters) == BL_OK, "launch: %s",
                     bl_error_message());
            gcheck(&pool, "count_kernel");
            size_t once = 0, in_order = 0;
            for (size_t i = 0; i < n; i++) {
                once += hits[i] == 1;
                in_order += order[i] == (reverse ? total - 1 - i : i);
            }
            BL_CHECK(once == n, "shape %zu: %zu of %zu elements visited exactly once", s, once, n);
            BL_CHECK(in_order == n, "shape %zu (%s): %zu of %zu threads ran in linear order", s,
                     reverse ? "reverse" : "forward", in_order, n);
            BL_CHECK(counters[0] == 0, "shape %zu: %u threads saw builtins out of range", s,
                     counters[0]);
            BL_CHECK(counters[1] == shapes[s].short_by, "shape %zu: %u threads past n, want %zu", s,
                     counters[1], shapes[s].short_by);
            BL_CHECK(counters[2] == total, "shape %zu: %u threads ran, want %zu", s, counters[2], total);
            gfree(&pool);
        }
        unsetenv("BL_EMU_ORDER");
    }
}

static void test_emulation_bad_launch(void) {
    static const struct {
        dim3 g, b;
    } bad[] = {
        {{1, 1, 1}, {2048, 1, 1}}, {{1, 1, 1}, {32, 64, 1}}, {{1, 1, 1}, {1, 1, 65}},
        {{0, 1, 1}, {32, 1, 1}},   {{1, 70000, 1}, {1, 1, 1}},
    };
    unsigned hits[4] = {0}, order[4], counters[3] = {0};
    for (size_t s = 0; s < sizeof bad / sizeof bad[0]; s++) {
        bl_status st = count_launch(bad[s].g, bad[s].b, hits, order, 4, counters);
        BL_CHECK(st == BL_ERR_DEVICE, "bad shape %zu launched (status %s)", s, bl_errname(st));
        BL_CHECK(strstr(bl_error_message(), "invalid configuration") != NULL, "message: %s",
                 bl_error_message());
        BL_CHECK(counters[2] == 0, "bad shape %zu ran %u threads", s, counters[2]);
    }
    /* The error is reported once, as cudaGetLastError() clears it. */
    BL_CHECK(count_launch(BL_DIM3(1, 1, 1), BL_DIM3(4, 1, 1), hits, order, 4, counters) == BL_OK,
             "a good launch after a bad one failed: %s", bl_error_message());
    BL_CHECK(counters[2] == 4 && hits[0] == 1 && hits[3] == 1, "good launch did not run");
}

int main(void) {
    test_emulation_coverage();
    test_emulation_bad_launch();
    test_bad_arguments();
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
        if (test_case(&k_cases[i])) return 1;
    return bl_test_finish("test_kernels_frontend");
}
