/* cpu_swish.c — swish (x · sigmoid(x)) in place, for the Conv → Sigmoid → Mul chains that
 * cpu_fuse.c folds into a Conv.
 *
 * Defines the bl_cpu_swish_* functions of cpu_exec.h. oneDNN 2.6's swish post-op costs about
 * 0.6 ns per element on the development machine: efficientnet_b0 at batch 1 spent 1.0-1.4 ms
 * of its 5-7 ms in it (measured by swapping it for a ReLU). Where the CPU has AVX-512 the
 * Conv runs without it and this pass follows on the result, while it is still in cache:
 * exp by Cody-Waite range reduction, a degree-6 polynomial and vscalefps, then the
 * reciprocal by vrcp14ps and one Newton step. Relative error under 1e-6 against the
 * double-precision reference (tests/unit/test_swish.c); the argument of exp is clamped to
 * [-87, 87] and results for x < -87 (under 2e-36 in magnitude) are x · 0 (-0), so that huge
 * finite inputs give x or -0 instead of inf or NaN. Non-finite inputs give what ONNX's
 * x · Sigmoid(x) gives, as the reference does: NaN for NaN and -inf, inf for inf.
 * bl_cpu_swish_ref is the plain-C reference (tests compare the two). The pass works on any
 * layout, padded channel lanes included: swish(0) = 0.
 *
 * Threading: `threads` OpenMP threads over contiguous chunks. Owns nothing.
 */
#include <math.h>   /* expf */
#include <stdlib.h> /* getenv */
#include <string.h> /* strcmp */

#include "core/cpu_isa.h"    /* bl_cpu_has_avx512f */
#include "models/cpu_exec.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SWISH_HAVE_AVX512 1
#else
#define SWISH_HAVE_AVX512 0
#endif

bool bl_cpu_swish_available(void) {
    static int avail = -1; /* benign race: every thread computes the same value */
    if (avail < 0) {
        const char *e = getenv("BL_CPU_FAST_SWISH");
        avail = (e && !strcmp(e, "0")) ? 0 : (SWISH_HAVE_AVX512 && bl_cpu_has_avx512f());
    }
    return avail != 0;
}

void bl_cpu_swish_ref(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = x[i] / (1.f + expf(-x[i]));
}

#if SWISH_HAVE_AVX512
__attribute__((target("avx512f"))) static inline __m512 swish16(__m512 x) {
    const __m512 log2e = _mm512_set1_ps(1.44269504f), ln2_hi = _mm512_set1_ps(0.693145752f),
                 ln2_lo = _mm512_set1_ps(1.42860677e-6f), one = _mm512_set1_ps(1.f), two = _mm512_set1_ps(2.f);
    /* t = -x in [-87, 87]; e = exp(t) = 2^k · p(f), f = t - k·ln2 in [-ln2/2, ln2/2] */
    __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), x), _mm512_set1_ps(-87.f)),
                             _mm512_set1_ps(87.f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(t, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_fnmadd_ps(k, ln2_lo, _mm512_fnmadd_ps(k, ln2_hi, t));
    __m512 p = _mm512_set1_ps(1.f / 720.f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f / 120.f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f / 24.f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f / 6.f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, f, one);
    p = _mm512_fmadd_ps(p, f, one);
    __m512 e = _mm512_scalef_ps(p, k);
    /* sigmoid = 1 / (1 + e): vrcp14ps, then one Newton step r·(2 - d·r) */
    __m512 d = _mm512_add_ps(one, e);
    __m512 r = _mm512_rcp14_ps(d);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, two));
    /* below -87 the true value is under 2e-36 in magnitude: x · 0, which is -0, and NaN for
     * -inf (ONNX's x · Sigmoid(x) = -inf · 0). A NaN x fails the ordered compare and gives
     * x · r = NaN. */
    __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.f), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(_mm512_mul_ps(x, r), tiny, x, _mm512_setzero_ps());
}

__attribute__((target("avx512f"))) static void swish_avx512(float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, swish16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(x + i, m, swish16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
#endif

void bl_cpu_swish_inplace(float *x, int64_t n, int threads) {
#if SWISH_HAVE_AVX512
    if (bl_cpu_has_avx512f()) {
        /* chunks of 4096 floats (16 KiB): a thread's share stays contiguous */
        int64_t chunks = (n + 4095) / 4096;
        if (threads > 1 && n >= 32768) {
#pragma omp parallel for num_threads(threads) schedule(static)
            for (int64_t c = 0; c < chunks; c++) {
                int64_t lo = c * 4096, len = n - lo < 4096 ? n - lo : 4096;
                swish_avx512(x + lo, len);
            }
        } else {
            swish_avx512(x, n);
        }
        return;
    }
#endif
    (void)threads;
    bl_cpu_swish_ref(x, n);
}
