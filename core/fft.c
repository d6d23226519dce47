/* fft.c — see fft.h. Defines the plans (twiddle tables, chosen code path), the code paths
 * (core/fft_impl.h instantiated as generic vectors, AVX2 and AVX-512 vectors and plain
 * scalar C; a 16-frame load + transpose in AVX2 and AVX-512 intrinsics) and
 * the batch convenience wrapper.
 *
 * Owns: a plan owns its twiddle tables. Nothing global: the CPU check runs at plan
 * creation and its answer lives in the plan.
 *
 * Threading: plans are read-only after creation; transforms write only caller buffers.
 */
#include "fft.h"

#include "cpu_isa.h" /* bl_cpu_has_avx2, bl_cpu_has_avx512f: which path runs */

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h> /* 8x8 / 16x16 transposes in bl_rfft_load's AVX2 / AVX-512 paths */
#endif

#include <math.h>   /* cos, sin in double for the twiddles */
#include <stdint.h> /* uint32_t positions */
#include <stdlib.h> /* malloc, free, getenv */
#include <string.h> /* memcpy for unaligned vector loads, memset, strcmp */

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* GNU vector extensions give the vector paths; other compilers get the scalar path only. */
#if defined(__GNUC__) || defined(__clang__)
#define BL_FFT_HAVE_VECTORS 1
#define FFT_INLINE inline __attribute__((always_inline))
typedef float bl_fft_v16 __attribute__((vector_size(64)));
typedef float bl_fft_v8 __attribute__((vector_size(32)));
typedef float bl_fft_v4 __attribute__((vector_size(16)));
#if defined(__x86_64__) || defined(__i386__)
#define BL_FFT_HAVE_AVX2 1
#define BL_FFT_HAVE_AVX512 1
#endif
#else
#define FFT_INLINE inline
#endif
#ifndef BL_FFT_HAVE_AVX2
#define BL_FFT_HAVE_AVX2 0
#endif
#ifndef BL_FFT_HAVE_AVX512
#define BL_FFT_HAVE_AVX512 0
#endif

_Static_assert(BL_RFFT_LANES == 16, "the AVX-512 instance is one 16-float vector per row");

typedef void (*bl_fft_run_fn)(const bl_rfft_plan *, float *, float *, float *);
typedef void (*bl_fft_power_fn)(const bl_rfft_plan *, float *, float *);
typedef void (*bl_fft_load_fn)(const float *, size_t, int, const float *, int, int, float *);

struct bl_rfft_plan {
    int n;
    size_t half;  /* N = n/2 complex points */
    float *tw4;   /* per radix-4 stage, per p: w^p, w^2p, w^3p (re, im), w = e^{-2πi/len} */
    float *post;  /* per k < N: e^{-2πik/n}/2 (re, im); the split reads k <= N/2 only */
    uint32_t *pos; /* per k < N: where the in-place FFT leaves Z[k] */
    bl_rfft_isa isa;
    bl_fft_run_fn run;
    bl_fft_power_fn run_power;
    /* full blocks (rows lo..hi, a multiple of 8 or 16 rows) of bl_rfft_load, or NULL;
     * load_rows is the block height */
    bl_fft_load_fn load;
    int load_rows;
    /* full 16-row blocks of bl_rfft_unload, or NULL */
    void (*unload)(const float *, int, int, float *, size_t);
};

/* ---- the code paths ------------------------------------------------------------------ */

#if BL_FFT_HAVE_VECTORS
/* Loads and stores through memcpy: no alignment assumed and no strict-aliasing question;
 * each compiles to one vector move. Broadcasts are built lane by lane (no arithmetic, so
 * -0.0 and NaN payloads survive). Macros rather than functions: vector arguments to
 * non-inlined functions change the ABI between the ISA instances. */
#define fft_ld(T, p) (__extension__({ T v_; memcpy(&v_, (p), sizeof v_); v_; }))
#define fft_st(T, p, v) do { T v_ = (v); memcpy((p), &v_, sizeof v_); } while (0)

/* Generic: 4-lane vectors, native in every baseline ISA with SIMD (SSE2 on x86-64, NEON on
 * arm64), run four times per batch. */
#define FFT_V bl_fft_v4
#define FFT_LD(p) fft_ld(bl_fft_v4, p)
#define FFT_ST(p, v) fft_st(bl_fft_v4, p, v)
#define FFT_SET1(s) (__extension__({ float s_ = (s); (bl_fft_v4){s_, s_, s_, s_}; }))
#define FFT_FN(name) name##_generic4
#define FFT_ATTR
#include "fft_impl.h" /* fft_run_generic4, fft_run_power_generic4 */
#undef FFT_FN
#undef FFT_ATTR
#undef FFT_V
#undef FFT_LD
#undef FFT_ST
#undef FFT_SET1

static void fft_run_generic(const bl_rfft_plan *plan, float *x, float *re, float *im) {
    for (int b = 0; b < BL_RFFT_LANES; b += 4) fft_run_generic4(plan, x + b, re + b, im + b);
}
static void fft_run_power_generic(const bl_rfft_plan *plan, float *x, float *pw) {
    for (int b = 0; b < BL_RFFT_LANES; b += 4) fft_run_power_generic4(plan, x + b, pw + b);
}

#if BL_FFT_HAVE_AVX2
/* AVX2, 8 lanes, run twice per batch (the float ops need only AVX; "avx2" is the tier we
 * check for). No "fma" in the target: the compiler then cannot contract a*b+c, which keeps
 * this path bit-identical to the others. */
#define FFT_V bl_fft_v8
#define FFT_LD(p) fft_ld(bl_fft_v8, p)
#define FFT_ST(p, v) fft_st(bl_fft_v8, p, v)
#define FFT_SET1(s) (__extension__({ float s_ = (s); (bl_fft_v8){s_, s_, s_, s_, s_, s_, s_, s_}; }))
#define FFT_FN(name) name##_avx2x8
#define FFT_ATTR __attribute__((target("avx2")))
#include "fft_impl.h" /* fft_run_avx2x8, fft_run_power_avx2x8 */
#undef FFT_FN
#undef FFT_ATTR
#undef FFT_V
#undef FFT_LD
#undef FFT_ST
#undef FFT_SET1

static void fft_run_avx2(const bl_rfft_plan *plan, float *x, float *re, float *im) {
    fft_run_avx2x8(plan, x, re, im);
    fft_run_avx2x8(plan, x + 8, re + 8, im + 8);
}
static void fft_run_power_avx2(const bl_rfft_plan *plan, float *x, float *pw) {
    fft_run_power_avx2x8(plan, x, pw);
    fft_run_power_avx2x8(plan, x + 8, pw + 8);
}
#endif

#if BL_FFT_HAVE_AVX512
/* AVX-512F, 16 lanes: the whole batch in one run. AVX-512F has fused multiply-adds, but this
 * file is compiled as ISO C (-std=c11, hence -ffp-contract=off) and the pragma below makes
 * the rule explicit for these functions: a*b+c stays two roundings, as on every path. */
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#define FFT_V bl_fft_v16
#define FFT_LD(p) fft_ld(bl_fft_v16, p)
#define FFT_ST(p, v) fft_st(bl_fft_v16, p, v)
#define FFT_SET1(s)                                                                        \
    (__extension__({                                                                       \
        float s_ = (s);                                                                    \
        (bl_fft_v16){s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_};      \
    }))
#define FFT_FN(name) name##_avx512
#define FFT_ATTR __attribute__((target("avx512f")))
#include "fft_impl.h" /* fft_run_avx512, fft_run_power_avx512 */
#undef FFT_FN
#undef FFT_ATTR
#undef FFT_V
#undef FFT_LD
#undef FFT_ST
#undef FFT_SET1
#pragma GCC pop_options
#endif
#undef fft_ld
#undef fft_st
#endif /* BL_FFT_HAVE_VECTORS */

#if BL_FFT_HAVE_AVX2
/* Rows [lo, hi) (a multiple of 8 of them) of bl_rfft_load for frames 0..count-1 (count <=
 * 8) of a group of 8 into lanes 0-7 of x's rows (row stride BL_RFFT_LANES), zeros in the
 * lanes past count: per block of 8 rows, 8 loads, 8 multiplies by the window (before the
 * transpose, elementwise: the same products as the scalar loop), the classic
 * unpack/shuffle/permute 8x8 transpose, 8 stores. */
__attribute__((target("avx2"))) static void fft_load8_avx2(const float *f, size_t stride,
                                                            int count, const float *win,
                                                            int lo, int hi, float *x) {
    const size_t L = BL_RFFT_LANES;
    for (int i = lo; i + 8 <= hi; i += 8) {
        __m256 w = _mm256_loadu_ps(win + i), r[8];
        for (int b = 0; b < 8; b++)
            r[b] = b < count ? _mm256_mul_ps(_mm256_loadu_ps(f + (size_t)b * stride + (size_t)i), w)
                             : _mm256_setzero_ps();
        __m256 r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5], r6 = r[6],
               r7 = r[7];
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
        __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
        __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
        __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float *o = x + (size_t)i * L;
        _mm256_storeu_ps(o + 0 * L, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(o + 1 * L, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(o + 2 * L, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(o + 3 * L, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(o + 4 * L, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(o + 5 * L, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(o + 6 * L, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(o + 7 * L, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
}

/* Frames 0-7 into lanes 0-7, frames 8-15 into lanes 8-15 (zeros past count). */
static void fft_load_avx2(const float *f, size_t stride, int count, const float *win, int lo,
                          int hi, float *x) {
    fft_load8_avx2(f, stride, count < 8 ? count : 8, win, lo, hi, x);
    fft_load8_avx2(count > 8 ? f + 8 * stride : f, stride, count > 8 ? count - 8 : 0, win, lo,
                   hi, x + 8);
}
#endif

#if BL_FFT_HAVE_AVX512
/* Rows [lo, hi) (a multiple of 16 of them) of bl_rfft_load for frames 0..count-1, zeros in
 * the lanes past count: per block of 16 rows, 16 loads, 16 multiplies by the window
 * (elementwise, before the transpose: the scalar loop's products), a 16x16 transpose in
 * registers (unpack within 128-bit lanes, then shuffles of 32-bit pairs, then two rounds of
 * 128-bit lane shuffles), 16 stores. */
/* Transpose the 16x16 block r (row k = r[k]) and store its row j at o + j*ostride, for
 * j < rows only. */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
fft_transpose16_avx512(const __m512 *r, float *o, size_t ostride, int rows) {
    __m512 t[16], u[16];
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    /* u[4k+c], 128-bit lane q: column 4q+c of rows 4k..4k+3 */
    for (int k = 0; k < 4; k++) {
        u[4 * k + 0] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
        u[4 * k + 1] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
        u[4 * k + 2] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
        u[4 * k + 3] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
        __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
        __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        if (c < rows)
            _mm512_storeu_ps(o + (size_t)(0 + c) * ostride, _mm512_shuffle_f32x4(v0, w0, 0x88));
        if (4 + c < rows)
            _mm512_storeu_ps(o + (size_t)(4 + c) * ostride, _mm512_shuffle_f32x4(v1, w1, 0x88));
        if (8 + c < rows)
            _mm512_storeu_ps(o + (size_t)(8 + c) * ostride, _mm512_shuffle_f32x4(v0, w0, 0xDD));
        if (12 + c < rows)
            _mm512_storeu_ps(o + (size_t)(12 + c) * ostride, _mm512_shuffle_f32x4(v1, w1, 0xDD));
    }
}

__attribute__((target("avx512f"))) static void fft_load_avx512(const float *f, size_t stride,
                                                               int count, const float *win,
                                                               int lo, int hi, float *x) {
    const size_t L = BL_RFFT_LANES;
    for (int i = lo; i + 16 <= hi; i += 16) {
        __m512 w = _mm512_loadu_ps(win + i);
        __m512 r[16];
        for (int b = 0; b < 16; b++)
            r[b] = b < count ? _mm512_mul_ps(_mm512_loadu_ps(f + (size_t)b * stride + (size_t)i), w)
                             : _mm512_setzero_ps();
        fft_transpose16_avx512(r, x + (size_t)i * L, L, 16);
    }
}

/* Rows [0, hi) (a multiple of 16) of bl_rfft_unload for lanes 0..count-1. */
__attribute__((target("avx512f"))) static void fft_unload_avx512(const float *rows, int hi,
                                                                 int count, float *out,
                                                                 size_t stride) {
    const size_t L = BL_RFFT_LANES;
    for (int i = 0; i + 16 <= hi; i += 16) {
        __m512 r[16];
        for (int k = 0; k < 16; k++) r[k] = _mm512_loadu_ps(rows + (size_t)(i + k) * L);
        fft_transpose16_avx512(r, out + i, stride, count);
    }
}
#endif

/* Scalar: one lane at a time (any C compiler). */
#define FFT_V float
#define FFT_LD(p) (*(p))
#define FFT_ST(p, v) (*(p) = (v))
#define FFT_SET1(s) (s)
#define FFT_FN(name) name##_scalar1
#define FFT_ATTR
#include "fft_impl.h" /* fft_run_scalar1, fft_run_power_scalar1 */
#undef FFT_FN
#undef FFT_ATTR
#undef FFT_V
#undef FFT_LD
#undef FFT_ST
#undef FFT_SET1

static void fft_run_scalar(const bl_rfft_plan *plan, float *x, float *re, float *im) {
    for (int b = 0; b < BL_RFFT_LANES; b++) fft_run_scalar1(plan, x + b, re + b, im + b);
}
static void fft_run_power_scalar(const bl_rfft_plan *plan, float *x, float *pw) {
    for (int b = 0; b < BL_RFFT_LANES; b++) fft_run_power_scalar1(plan, x + b, pw + b);
}

/* ---- plans --------------------------------------------------------------------------- */

bool bl_rfft_supported(int n) {
    return n >= BL_RFFT_MIN_N && n <= BL_RFFT_MAX_N && (n & (n - 1)) == 0;
}

int bl_rfft_batch_width(void) { return BL_RFFT_LANES; }

const char *bl_rfft_isa_name(bl_rfft_isa isa) {
    switch (isa) {
    case BL_RFFT_ISA_GENERIC: return "generic";
    case BL_RFFT_ISA_AVX2: return "avx2";
    case BL_RFFT_ISA_AVX512: return "avx512";
    case BL_RFFT_ISA_SCALAR: return "scalar";
    default: return "auto";
    }
}

/* A path runs where it was compiled in and the CPU has its extension. */
static bool cpu_has_avx2(void) { return BL_FFT_HAVE_AVX2 && bl_cpu_has_avx2(); }
static bool cpu_has_avx512(void) { return BL_FFT_HAVE_AVX512 && bl_cpu_has_avx512f(); }

/* The best path available, unless BL_FFT_ISA names one this CPU runs. */
static bl_rfft_isa auto_isa(void) {
    const char *env = getenv("BL_FFT_ISA");
    if (env && !strcmp(env, "scalar")) return BL_RFFT_ISA_SCALAR;
#if BL_FFT_HAVE_VECTORS
    if (env && !strcmp(env, "generic")) return BL_RFFT_ISA_GENERIC;
    if (env && !strcmp(env, "avx2") && cpu_has_avx2()) return BL_RFFT_ISA_AVX2;
    if (cpu_has_avx512()) return BL_RFFT_ISA_AVX512;
    if (cpu_has_avx2()) return BL_RFFT_ISA_AVX2;
    return BL_RFFT_ISA_GENERIC;
#else
    return BL_RFFT_ISA_SCALAR;
#endif
}

void bl_rfft_plan_destroy(bl_rfft_plan *plan) {
    if (!plan) return;
    free(plan->tw4);
    free(plan->post);
    free(plan->pos);
    free(plan);
}

bl_status bl_rfft_plan_create_isa(int n, bl_rfft_isa isa, bl_rfft_plan **out) {
    BL_RETURN_IF(!out, BL_ERR_INVALID_ARG, "rfft plan: no output pointer");
    *out = NULL;
    BL_RETURN_IF(!bl_rfft_supported(n), BL_ERR_INVALID_ARG,
                 "rfft plan: length %d is not a power of two in %d..%d", n, BL_RFFT_MIN_N,
                 BL_RFFT_MAX_N);
    if (isa == BL_RFFT_ISA_AUTO) isa = auto_isa();
    bl_fft_run_fn run = NULL;
    bl_fft_power_fn run_power = NULL;
    bl_fft_load_fn load = NULL;
    int load_rows = 0;
    void (*unload)(const float *, int, int, float *, size_t) = NULL;
    switch (isa) {
    case BL_RFFT_ISA_SCALAR:
        run = fft_run_scalar;
        run_power = fft_run_power_scalar;
        break;
#if BL_FFT_HAVE_VECTORS
    case BL_RFFT_ISA_GENERIC:
        run = fft_run_generic;
        run_power = fft_run_power_generic;
        break;
#endif
#if BL_FFT_HAVE_AVX2
    case BL_RFFT_ISA_AVX2:
        if (cpu_has_avx2()) {
            run = fft_run_avx2;
            run_power = fft_run_power_avx2;
            load = fft_load_avx2;
            load_rows = 8;
        }
        break;
#endif
#if BL_FFT_HAVE_AVX512
    case BL_RFFT_ISA_AVX512:
        if (cpu_has_avx512()) {
            run = fft_run_avx512;
            run_power = fft_run_power_avx512;
            load = fft_load_avx512;
            load_rows = 16;
            unload = fft_unload_avx512;
        }
        break;
#endif
    default: break;
    }
    BL_RETURN_IF(!run, BL_ERR_UNSUPPORTED, "rfft plan: the %s code path is not available on "
                 "this CPU or build (use auto)", bl_rfft_isa_name(isa));

    bl_rfft_plan *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    p->n = n;
    p->half = (size_t)n / 2;
    p->isa = isa;
    p->run = run;
    p->run_power = run_power;
    p->load = load;
    p->load_rows = load_rows;
    p->unload = unload;
    size_t N = p->half, n4 = 0;
    for (size_t len = N; len >= 4; len /= 4) n4 += len / 4;
    p->tw4 = malloc((n4 ? n4 : 1) * 6 * sizeof(float));
    p->post = malloc(N * 2 * sizeof(float));
    p->pos = malloc(N * sizeof(uint32_t));
    if (!p->tw4 || !p->post || !p->pos) {
        bl_rfft_plan_destroy(p);
        return BL_ERROR(BL_ERR_NOMEM, "rfft plan: out of memory for n = %d", n);
    }
    /* In double, angles reduced exactly (p*r < len), then rounded to float once. */
    float *t = p->tw4;
    for (size_t len = N; len >= 4; len /= 4)
        for (size_t q = 0; q < len / 4; q++)
            for (size_t r = 1; r <= 3; r++) {
                double a = -2.0 * M_PI * (double)(q * r) / (double)len;
                *t++ = (float)cos(a);
                *t++ = (float)sin(a);
            }
    /* Frequency k = d0 + 4 d1 + 16 d2 + ... (the last digit base 2 after a radix-2 stage):
     * stage i sends its leg d_i to quarter d_i of the block, offset d_i * len_i/4. */
    for (size_t k = 0; k < N; k++) {
        size_t rest = k, at = 0, len = N;
        for (; len >= 4; len /= 4, rest /= 4) at += (rest % 4) * (len / 4);
        if (len == 2) at += rest % 2;
        p->pos[k] = (uint32_t)at;
    }
    for (size_t k = 0; k < N; k++) {
        double a = -2.0 * M_PI * (double)k / (double)n;
        p->post[2 * k] = (float)(0.5 * cos(a));
        p->post[2 * k + 1] = (float)(0.5 * sin(a));
    }
    *out = p;
    return BL_OK;
}

bl_status bl_rfft_plan_create(int n, bl_rfft_plan **out) {
    return bl_rfft_plan_create_isa(n, BL_RFFT_ISA_AUTO, out);
}

int bl_rfft_plan_n(const bl_rfft_plan *plan) { return plan->n; }
bl_rfft_isa bl_rfft_plan_isa(const bl_rfft_plan *plan) { return plan->isa; }

void bl_rfft_lanes(const bl_rfft_plan *plan, float *x, float *re, float *im) {
    plan->run(plan, x, re, im);
}

void bl_rfft_lanes_power(const bl_rfft_plan *plan, float *x, float *pw) {
    plan->run_power(plan, x, pw);
}

void bl_rfft_load(const bl_rfft_plan *plan, const float *frames, size_t stride, int count,
                  const float *window, int lo, int hi, float *x) {
    const size_t L = BL_RFFT_LANES;
    size_t n = (size_t)plan->n, c = count < 0 ? 0 : count > (int)L ? L : (size_t)count;
    if (lo > 0) memset(x, 0, (size_t)lo * L * sizeof(float));
    if ((size_t)hi < n) memset(x + (size_t)hi * L, 0, (n - (size_t)hi) * L * sizeof(float));
    int i = lo;
    if (plan->load && c > 0) {
        int full = lo + (hi - lo) / plan->load_rows * plan->load_rows;
        plan->load(frames, stride, (int)c, window, lo, full, x);
        i = full;
    }
    for (; i < hi; i++) {
        float *row = x + (size_t)i * L;
        for (size_t b = 0; b < c; b++) row[b] = frames[b * stride + (size_t)i] * window[i];
        for (size_t b = c; b < L; b++) row[b] = 0.0f;
    }
}

void bl_rfft_unload(const bl_rfft_plan *plan, const float *rows, int n_rows, int count,
                    float *out, size_t stride) {
    const size_t L = BL_RFFT_LANES;
    size_t c = count < 0 ? 0 : count > (int)L ? L : (size_t)count;
    int i = 0;
    if (plan->unload && c > 0) {
        i = n_rows / 16 * 16;
        plan->unload(rows, i, (int)c, out, stride);
    }
    for (size_t b = 0; b < c; b++)
        for (int k = i; k < n_rows; k++) out[b * stride + (size_t)k] = rows[(size_t)k * L + b];
}

size_t bl_rfft_batch_work_floats(const bl_rfft_plan *plan) {
    /* lane-interleaved input, re and im rows */
    return ((size_t)plan->n + 2 * (plan->half + 1)) * BL_RFFT_LANES;
}

void bl_rfft_batch(const bl_rfft_plan *plan, const float *in, int count, float *re_out,
                   float *im_out, float *work) {
    const size_t L = BL_RFFT_LANES, n = (size_t)plan->n, nb = plan->half + 1;
    float *x = work, *re = x + n * L, *im = re + nb * L;
    size_t c = count < 0 ? 0 : count > (int)L ? L : (size_t)count;
    for (size_t i = 0; i < n; i++) {
        for (size_t b = 0; b < c; b++) x[i * L + b] = in[b * n + i];
        for (size_t b = c; b < L; b++) x[i * L + b] = 0.0f;
    }
    plan->run(plan, x, re, im);
    for (size_t b = 0; b < c; b++)
        for (size_t k = 0; k < nb; k++) {
            re_out[b * nb + k] = re[k * L + b];
            im_out[b * nb + k] = im[k * L + b];
        }
}
