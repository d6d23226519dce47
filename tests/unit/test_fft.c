/* test_fft.c — core/fft.c, the batched real FFT, against references:
 *
 *   dft        a double-precision O(n^2) DFT, n = 2 .. 1024, on random, impulse, sine and DC
 *              frames: max |got - ref| / max |ref| <= 1e-5 (float accuracy)
 *   kissfft    kiss_fftr (the front end's previous FFT, still used for other lengths),
 *              n = 4 .. 65536, same tolerance
 *   lanes      each lane is independent: a frame gives the same bits in lanes 0, 5 and 13,
 *              whatever (NaN, Inf, garbage) the other lanes hold; bins 0 and n/2 have im = 0
 *   paths      every code path this CPU runs (scalar, generic vectors, AVX2, AVX-512) gives
 *              the same bits; the batch wrapper equals the lane-interleaved core;
 *              bl_rfft_lanes_power equals re*re + im*im of bl_rfft_lanes bit for bit (NaN for
 *              NaN); guard floats around every output stay untouched
 *   load       bl_rfft_load (frames x window into the lane layout) equals a direct loop on
 *              every path, for full and partial batches and windows shorter than n
 *   unload     bl_rfft_unload (lane layout back to frames) equals a direct loop on every
 *              path, for full and partial batches and row counts around multiples of 16
 *   plans      unsupported lengths are refused with BL_ERR_INVALID_ARG
 *
 * Usage: test_fft              (ctest)
 *        test_fft bench [N]    time one N-point frame (default 1024) here and with kiss_fftr
 *                              (a developer tool; the tests never time anything)
 */
#include <kissfft/kiss_fftr.h> /* the reference real FFT */
#include <math.h>              /* cos, sin, NAN, INFINITY */
#include <stdint.h>            /* uint32_t for the noise generator */
#include <stdlib.h>            /* malloc, free, atoi */
#include <string.h>            /* memcmp, memcpy */
#include <time.h>              /* clock_gettime, bench mode only */

#include "core/fft.h" /* what is tested */
#include "testutil.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define L BL_RFFT_LANES
#define GUARD 16
#define GUARD_VALUE 1234.5f

static const bl_rfft_isa k_isas[] = {BL_RFFT_ISA_SCALAR, BL_RFFT_ISA_GENERIC, BL_RFFT_ISA_AVX2,
                                     BL_RFFT_ISA_AVX512};
#define N_ISAS (sizeof k_isas / sizeof k_isas[0])

static uint32_t rng_next(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s;
}
static float rng_unit(uint32_t *s) { return (float)(rng_next(s) >> 8) / 16777216.0f - 0.5f; }

typedef enum { SIG_RANDOM, SIG_IMPULSE, SIG_SINE, SIG_DC, SIG_COUNT } sig_kind;
static const char *k_sig_names[] = {"random", "impulse", "sine", "dc"};

/* Frame `lane` of a test batch: each lane differs (seed, impulse position, frequency). */
static void make_frame(sig_kind kind, int n, int lane, uint32_t seed, float *x) {
    uint32_t s = seed * 2654435761u + (uint32_t)lane * 97u + 1u;
    for (int i = 0; i < n; i++) {
        switch (kind) {
        case SIG_RANDOM: x[i] = rng_unit(&s); break;
        case SIG_IMPULSE: x[i] = i == (lane * 3) % n ? 1.0f : 0.0f; break;
        case SIG_SINE:
            x[i] = (float)sin(2.0 * M_PI * (double)((lane + 1) % (n / 2 + 1)) * i / n + 0.3);
            break;
        default: x[i] = 0.5f + 0.25f * (float)lane; break;
        }
    }
}

/* Buffers with GUARD floats on each side, filled with GUARD_VALUE. */
static float *guarded(size_t n) {
    float *b = malloc((n + 2 * GUARD) * sizeof(float));
    if (!b) return NULL;
    for (size_t i = 0; i < n + 2 * GUARD; i++) b[i] = GUARD_VALUE;
    return b + GUARD;
}
static int guards_ok(const float *p, size_t n) {
    for (size_t i = 0; i < GUARD; i++)
        if (p[-1 - (ptrdiff_t)i] != GUARD_VALUE || p[n + i] != GUARD_VALUE) return 0;
    return 1;
}
static void guarded_free(float *p) {
    if (p) free(p - GUARD);
}

/* Relative error max|got - ref| / max|ref| over nb bins (re and im), ref in double. */
static double rel_err(const float *re, const float *im, const double *rre, const double *rim,
                      size_t nb) {
    double md = 0, mr = 0;
    for (size_t k = 0; k < nb; k++) {
        double dr = fabs(re[k] - rre[k]), di = fabs(im[k] - rim[k]);
        if (!(dr <= md)) md = dr; /* NaN propagates as a failure */
        if (!(di <= md)) md = di;
        if (fabs(rre[k]) > mr) mr = fabs(rre[k]);
        if (fabs(rim[k]) > mr) mr = fabs(rim[k]);
    }
    return mr > 0 ? md / mr : md;
}

/* Run bl_rfft_batch on L frames; out re/im [L][n/2+1]. Returns 0 on success. */
static int run_batch(const bl_rfft_plan *plan, const float *frames, int count, float *re,
                     float *im) {
    int n = bl_rfft_plan_n(plan);
    size_t nb = (size_t)n / 2 + 1;
    float *work = guarded(bl_rfft_batch_work_floats(plan));
    BL_REQUIRE(work, "out of memory");
    bl_rfft_batch(plan, frames, count, re, im, work);
    BL_CHECK(guards_ok(work, bl_rfft_batch_work_floats(plan)), "n %d: workspace overrun", n);
    BL_CHECK(guards_ok(re, (size_t)count * nb) && guards_ok(im, (size_t)count * nb),
             "n %d: output overrun", n);
    guarded_free(work);
    return 0;
}

static void test_dft(void) {
    for (int n = 2; n <= 1024; n *= 2) {
        bl_rfft_plan *plan = NULL;
        BL_CHECK(bl_rfft_plan_create(n, &plan) == BL_OK, "plan %d: %s", n, bl_error_message());
        if (!plan) continue;
        size_t nb = (size_t)n / 2 + 1;
        float *x = malloc((size_t)n * L * sizeof(float));
        float *re = guarded(nb * L), *im = guarded(nb * L);
        double *rre = malloc(nb * sizeof(double)), *rim = malloc(nb * sizeof(double));
        if (!x || !re || !im || !rre || !rim) {
            BL_CHECK(0, "out of memory");
            return;
        }
        double worst = 0;
        for (int kind = 0; kind < SIG_COUNT; kind++) {
            for (int b = 0; b < L; b++) make_frame((sig_kind)kind, n, b, 11, x + (size_t)b * n);
            if (run_batch(plan, x, L, re, im)) return;
            for (int b = 0; b < L; b++) {
                const float *f = x + (size_t)b * n;
                for (size_t k = 0; k < nb; k++) {
                    double sr = 0, si = 0;
                    for (int i = 0; i < n; i++) {
                        /* exact angle reduction: (k*i) mod n */
                        double a = -2.0 * M_PI * (double)((k * (size_t)i) % (size_t)n) / n;
                        sr += f[i] * cos(a);
                        si += f[i] * sin(a);
                    }
                    rre[k] = sr;
                    rim[k] = si;
                }
                double e = rel_err(re + (size_t)b * nb, im + (size_t)b * nb, rre, rim, nb);
                if (e > worst) worst = e;
                BL_CHECK(e <= 1e-5, "n %d, %s, lane %d: relative error %.3g vs the DFT", n,
                         k_sig_names[kind], b, e);
                BL_CHECK(im[(size_t)b * nb] == 0.0f && im[(size_t)b * nb + nb - 1] == 0.0f,
                         "n %d: imaginary part of bins 0 and n/2 not zero", n);
            }
        }
        fprintf(stderr, "dft     n %5d: worst relative error %.2e (%s)\n", n, worst,
                bl_rfft_isa_name(bl_rfft_plan_isa(plan)));
        free(x);
        guarded_free(re);
        guarded_free(im);
        free(rre);
        free(rim);
        bl_rfft_plan_destroy(plan);
    }
}

static void test_kiss(void) {
    for (int n = 4; n <= 65536; n *= 2) {
        bl_rfft_plan *plan = NULL;
        BL_CHECK(bl_rfft_plan_create(n, &plan) == BL_OK, "plan %d: %s", n, bl_error_message());
        kiss_fftr_cfg cfg = kiss_fftr_alloc(n, 0, NULL, NULL);
        if (!plan || !cfg) {
            BL_CHECK(0, "setup for n %d", n);
            return;
        }
        size_t nb = (size_t)n / 2 + 1;
        float *x = malloc((size_t)n * L * sizeof(float));
        float *re = guarded(nb * L), *im = guarded(nb * L);
        kiss_fft_cpx *ref = malloc(nb * sizeof *ref);
        double *rre = malloc(nb * sizeof(double)), *rim = malloc(nb * sizeof(double));
        if (!x || !re || !im || !ref || !rre || !rim) {
            BL_CHECK(0, "out of memory");
            return;
        }
        double worst = 0;
        for (int kind = 0; kind < SIG_COUNT; kind++) {
            for (int b = 0; b < L; b++) make_frame((sig_kind)kind, n, b, 23, x + (size_t)b * n);
            if (run_batch(plan, x, L, re, im)) return;
            for (int b = 0; b < L; b++) {
                kiss_fftr(cfg, x + (size_t)b * n, ref);
                for (size_t k = 0; k < nb; k++) {
                    rre[k] = ref[k].r;
                    rim[k] = ref[k].i;
                }
                double e = rel_err(re + (size_t)b * nb, im + (size_t)b * nb, rre, rim, nb);
                if (e > worst) worst = e;
                BL_CHECK(e <= 1e-5, "n %d, %s, lane %d: relative error %.3g vs kiss_fftr", n,
                         k_sig_names[kind], b, e);
            }
        }
        fprintf(stderr, "kissfft n %5d: worst relative error %.2e\n", n, worst);
        free(x);
        guarded_free(re);
        guarded_free(im);
        free(ref);
        free(rre);
        free(rim);
        kiss_fftr_free(cfg);
        bl_rfft_plan_destroy(plan);
    }
}

/* The lane-interleaved core on one batch; x is copied first (the core destroys it). */
static void run_lanes(const bl_rfft_plan *plan, const float *x_in, float *re, float *im) {
    size_t n = (size_t)bl_rfft_plan_n(plan);
    float *x = guarded(n * L);
    if (!x) {
        BL_CHECK(0, "out of memory");
        return;
    }
    memcpy(x, x_in, n * L * sizeof(float));
    bl_rfft_lanes(plan, x, re, im);
    BL_CHECK(guards_ok(x, n * L), "n %zu: lanes overran its input", n);
    guarded_free(x);
}

static void test_lanes_and_paths(void) {
    static const int sizes[] = {2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int n = sizes[si];
        size_t nb = (size_t)n / 2 + 1;
        uint32_t s = 77u + (uint32_t)n;
        float *frame = malloc((size_t)n * sizeof(float));
        float *xa = malloc((size_t)n * L * sizeof(float)), *xb = malloc((size_t)n * L * sizeof(float));
        float *ra = guarded(nb * L), *ia = guarded(nb * L), *rb = guarded(nb * L), *ib = guarded(nb * L);
        float *r0 = malloc(nb * L * sizeof(float)), *i0 = malloc(nb * L * sizeof(float));
        if (!frame || !xa || !xb || !ra || !ia || !rb || !ib || !r0 || !i0) {
            BL_CHECK(0, "out of memory");
            return;
        }
        for (int i = 0; i < n; i++) frame[i] = rng_unit(&s);
        /* batch a: the frame in lane 0, noise elsewhere; batch b: the frame in lane 5, NaN,
         * Inf, huge and denormal values elsewhere. */
        for (int i = 0; i < n; i++)
            for (int b = 0; b < L; b++) {
                xa[(size_t)i * L + b] = b == 0 ? frame[i] : rng_unit(&s) * 1e3f;
                float junk = (b % 4 == 0) ? NAN : (b % 4 == 1) ? INFINITY : (b % 4 == 2) ? 3e38f : 1e-40f;
                xb[(size_t)i * L + b] = b == 5 || b == 13 ? frame[i] : junk;
            }
        for (size_t pi = 0; pi < N_ISAS; pi++) {
            bl_rfft_plan *plan = NULL;
            bl_status st = bl_rfft_plan_create_isa(n, k_isas[pi], &plan);
            if (st == BL_ERR_UNSUPPORTED) {
                if (si == 0)
                    fprintf(stderr, "path %s: not available here, skipped\n",
                            bl_rfft_isa_name(k_isas[pi]));
                continue;
            }
            BL_CHECK(st == BL_OK && plan, "plan %d (%s): %s", n, bl_rfft_isa_name(k_isas[pi]),
                     bl_error_message());
            if (!plan) continue;
            BL_CHECK(bl_rfft_plan_isa(plan) == k_isas[pi], "plan reports another path");
            run_lanes(plan, xa, ra, ia);
            run_lanes(plan, xb, rb, ib);
            BL_CHECK(guards_ok(ra, nb * L) && guards_ok(ia, nb * L) && guards_ok(rb, nb * L) &&
                         guards_ok(ib, nb * L), "n %d: output overrun", n);
            int same = 1;
            for (size_t k = 0; k < nb; k++) {
                same &= memcmp(&ra[k * L + 0], &rb[k * L + 5], sizeof(float)) == 0;
                same &= memcmp(&ia[k * L + 0], &ib[k * L + 5], sizeof(float)) == 0;
                same &= memcmp(&ra[k * L + 0], &rb[k * L + 13], sizeof(float)) == 0;
                same &= memcmp(&ia[k * L + 0], &ib[k * L + 13], sizeof(float)) == 0;
            }
            BL_CHECK(same, "n %d, %s: lanes 0, 5 and 13 differ for the same frame (lanes mix)",
                     n, bl_rfft_isa_name(k_isas[pi]));
            /* The fused power spectrum: re*re + im*im of the lanes' output, every bit (batch
             * b's NaN lanes: NaN). */
            for (int which = 0; which < 2; which++) {
                const float *xin = which ? xb : xa, *re = which ? rb : ra, *im = which ? ib : ia;
                float *xc = guarded((size_t)n * L), *pw = guarded(nb * L);
                if (!xc || !pw) {
                    BL_CHECK(0, "out of memory");
                } else {
                    memcpy(xc, xin, (size_t)n * L * sizeof(float));
                    bl_rfft_lanes_power(plan, xc, pw);
                    int eq = guards_ok(pw, nb * L) && guards_ok(xc, (size_t)n * L);
                    for (size_t k = 0; k < nb * L; k++) {
                        /* any NaN for a NaN: which NaN an x86 add of two NaNs returns depends
                         * on the operand order the compiler picked for this test's own
                         * expression (at -O0 it differs from -O3) */
                        float want = re[k] * re[k] + im[k] * im[k];
                        int same = memcmp(&pw[k], &want, sizeof want) == 0 ||
                                   (isnan(pw[k]) && isnan(want));
                        if (!same && eq)
                            fprintf(stderr, "  first difference: row %zu lane %zu: %a vs %a "
                                    "(re %a im %a)\n", k / L, k % L, (double)pw[k],
                                    (double)want, (double)re[k], (double)im[k]);
                        eq &= same;
                    }
                    BL_CHECK(eq, "n %d, %s: bl_rfft_lanes_power differs from re*re + im*im of "
                             "bl_rfft_lanes (or overran)", n, bl_rfft_isa_name(k_isas[pi]));
                }
                guarded_free(xc);
                guarded_free(pw);
            }
            if (pi == 0) {
                memcpy(r0, ra, nb * L * sizeof(float));
                memcpy(i0, ia, nb * L * sizeof(float));
            } else {
                BL_CHECK(memcmp(r0, ra, nb * L * sizeof(float)) == 0 &&
                             memcmp(i0, ia, nb * L * sizeof(float)) == 0,
                         "n %d: path %s differs from the scalar path in some bit", n,
                         bl_rfft_isa_name(k_isas[pi]));
            }
            /* The batch wrapper (frames contiguous, 3 of them) equals the core's lanes. */
            float *in3 = malloc(3 * (size_t)n * sizeof(float));
            float *re3 = guarded(3 * nb), *im3 = guarded(3 * nb);
            if (in3 && re3 && im3) {
                for (int b = 0; b < 3; b++)
                    for (int i = 0; i < n; i++) in3[(size_t)b * n + i] = xa[(size_t)i * L + b];
                if (run_batch(plan, in3, 3, re3, im3) == 0) {
                    int eq = 1;
                    for (int b = 0; b < 3; b++)
                        for (size_t k = 0; k < nb; k++)
                            eq &= memcmp(&re3[b * nb + k], &ra[k * L + b], sizeof(float)) == 0 &&
                                  memcmp(&im3[b * nb + k], &ia[k * L + b], sizeof(float)) == 0;
                    BL_CHECK(eq, "n %d: bl_rfft_batch differs from bl_rfft_lanes", n);
                }
            } else {
                BL_CHECK(0, "out of memory");
            }
            free(in3);
            guarded_free(re3);
            guarded_free(im3);
            bl_rfft_plan_destroy(plan);
        }
        free(frame);
        free(xa);
        free(xb);
        guarded_free(ra);
        guarded_free(ia);
        guarded_free(rb);
        guarded_free(ib);
        free(r0);
        free(i0);
    }
}

static void test_load(void) {
    static const int sizes[] = {16, 64, 1024};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int n = sizes[si];
        size_t stride = (size_t)n / 3 + 5; /* overlapping frames, like a hop */
        float *frames = malloc((stride * (L - 1) + (size_t)n) * sizeof(float));
        float *win = malloc((size_t)n * sizeof(float));
        float *got = guarded((size_t)n * L), *want = malloc((size_t)n * L * sizeof(float));
        if (!frames || !win || !got || !want) {
            BL_CHECK(0, "out of memory");
            return;
        }
        uint32_t s = 3;
        for (size_t i = 0; i < stride * (L - 1) + (size_t)n; i++) frames[i] = rng_unit(&s);
        for (int i = 0; i < n; i++) win[i] = rng_unit(&s);
        const int bounds[][2] = {{0, n}, {3, n - 5}, {n / 4, n / 4 + 8}, {2, 2}};
        for (size_t pi = 0; pi < N_ISAS; pi++) {
            bl_rfft_plan *plan = NULL;
            if (bl_rfft_plan_create_isa(n, k_isas[pi], &plan) != BL_OK) continue;
            for (size_t bi = 0; bi < sizeof bounds / sizeof bounds[0]; bi++)
                for (int count = 0; count <= L; count += (count == 1 ? 4 : 1)) {
                    int lo = bounds[bi][0], hi = bounds[bi][1];
                    for (int i = 0; i < n; i++)
                        for (int b = 0; b < L; b++) {
                            got[(size_t)i * L + b] = NAN; /* everything must be written */
                            want[(size_t)i * L + b] =
                                i >= lo && i < hi && b < count ? frames[(size_t)b * stride + (size_t)i] * win[i] : 0.0f;
                        }
                    bl_rfft_load(plan, frames, stride, count, win, lo, hi, got);
                    BL_CHECK(memcmp(got, want, (size_t)n * L * sizeof(float)) == 0 &&
                                 guards_ok(got, (size_t)n * L),
                             "load n %d, rows %d..%d, %d frames, %s: wrong lane layout", n, lo, hi,
                             count, bl_rfft_isa_name(k_isas[pi]));
                }
            bl_rfft_plan_destroy(plan);
        }
        free(frames);
        free(win);
        guarded_free(got);
        free(want);
    }
}

static void test_unload(void) {
    static const int rows[] = {1, 15, 16, 17, 64, 70};
    const size_t stride = 75; /* >= every row count; odd, so nothing lines up by accident */
    float *in = malloc((size_t)70 * L * sizeof(float));
    float *got = guarded(stride * L), *want = malloc(stride * L * sizeof(float));
    if (!in || !got || !want) {
        BL_CHECK(0, "out of memory");
        free(in);
        guarded_free(got);
        free(want);
        return;
    }
    uint32_t s = 11;
    for (size_t i = 0; i < (size_t)70 * L; i++) in[i] = rng_unit(&s);
    in[3] = NAN; /* a copy: payloads and signs survive */
    in[L + 1] = -0.0f;
    for (size_t pi = 0; pi < N_ISAS; pi++) {
        bl_rfft_plan *plan = NULL;
        if (bl_rfft_plan_create_isa(64, k_isas[pi], &plan) != BL_OK) continue;
        for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
            for (int count = 0; count <= L; count++) {
                int nr = rows[ri];
                for (size_t i = 0; i < stride * L; i++) got[i] = want[i] = GUARD_VALUE;
                for (int b = 0; b < count; b++)
                    for (int k = 0; k < nr; k++)
                        want[(size_t)b * stride + (size_t)k] = in[(size_t)k * L + (size_t)b];
                bl_rfft_unload(plan, in, nr, count, got, stride);
                BL_CHECK(memcmp(got, want, stride * L * sizeof(float)) == 0 &&
                             guards_ok(got, stride * L),
                         "unload %d rows, %d frames, %s: wrong frames", nr, count,
                         bl_rfft_isa_name(k_isas[pi]));
            }
        bl_rfft_plan_destroy(plan);
    }
    free(in);
    guarded_free(got);
    free(want);
}

static void test_plans(void) {
    static const int bad[] = {0, 1, 3, 6, 12, 1000, -8, BL_RFFT_MAX_N * 2};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bl_rfft_plan *plan = (bl_rfft_plan *)&plan; /* must be reset to NULL */
        BL_CHECK(!bl_rfft_supported(bad[i]), "n %d claimed supported", bad[i]);
        BL_CHECK(bl_rfft_plan_create(bad[i], &plan) == BL_ERR_INVALID_ARG && plan == NULL,
                 "n %d not refused", bad[i]);
    }
    BL_CHECK(bl_rfft_supported(2) && bl_rfft_supported(1024) && bl_rfft_supported(BL_RFFT_MAX_N),
             "supported lengths refused");
    BL_CHECK(bl_rfft_batch_width() == L, "batch width %d", bl_rfft_batch_width());
    bl_rfft_plan *plan = NULL;
    BL_CHECK(bl_rfft_plan_create(64, &plan) == BL_OK && bl_rfft_plan_isa(plan) != BL_RFFT_ISA_AUTO,
             "auto plan");
    if (plan) fprintf(stderr, "auto path here: %s\n", bl_rfft_isa_name(bl_rfft_plan_isa(plan)));
    bl_rfft_plan_destroy(plan);
    bl_rfft_plan_destroy(NULL);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench(int n) {
    bl_rfft_plan *plan = NULL;
    BL_REQUIRE(bl_rfft_plan_create(n, &plan) == BL_OK, "plan: %s", bl_error_message());
    size_t nb = (size_t)n / 2 + 1;
    float *x = malloc((size_t)n * L * sizeof(float)), *x2 = malloc((size_t)n * L * sizeof(float));
    float *re = malloc(nb * L * sizeof(float)), *im = malloc(nb * L * sizeof(float));
    kiss_fftr_cfg cfg = kiss_fftr_alloc(n, 0, NULL, NULL);
    kiss_fft_cpx *spec = malloc(nb * sizeof *spec);
    BL_REQUIRE(x && x2 && re && im && cfg && spec, "out of memory");
    uint32_t s = 5;
    for (size_t i = 0; i < (size_t)n * L; i++) x[i] = rng_unit(&s);
    int reps = (int)(4e7 / ((double)n * 10)) + 1;
    double best = 1e9, best_k = 1e9;
    for (int trial = 0; trial < 5; trial++) {
        double t0 = now_s();
        for (int r = 0; r < reps; r++) {
            memcpy(x2, x, (size_t)n * L * sizeof(float));
            bl_rfft_lanes(plan, x2, re, im);
        }
        double t = (now_s() - t0) / reps / L;
        if (t < best) best = t;
        t0 = now_s();
        for (int r = 0; r < reps; r++)
            for (int b = 0; b < L; b++) kiss_fftr(cfg, x + (size_t)b * n, spec);
        t = (now_s() - t0) / reps / L;
        if (t < best_k) best_k = t;
    }
    printf("n %d: bl_rfft (%s, incl. input copy) %.3f us/frame, kiss_fftr %.3f us/frame, %.1fx\n",
           n, bl_rfft_isa_name(bl_rfft_plan_isa(plan)), best * 1e6, best_k * 1e6, best_k / best);
    free(x);
    free(x2);
    free(re);
    free(im);
    free(spec);
    kiss_fftr_free(cfg);
    bl_rfft_plan_destroy(plan);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "bench")) return bench(argc >= 3 ? atoi(argv[2]) : 1024);
    test_plans();
    test_unload();
    test_dft();
    test_kiss();
    test_lanes_and_paths();
    test_load();
    return bl_test_finish("test_fft");
}
