/* cpu_skinny.c — products of a few rows with large constant weights (batch-1 layers).
 *
 * Defines the bl_cpu_skinny_* functions of cpu_exec.h. At batch 1 the deep layers of a CNN
 * multiply a handful of rows (the pixels of a 2×4 feature map, one classifier input) by
 * megabytes of weights: each weight is used a few times, so the layer's time is the time to
 * stream its weights from memory (resnet18's 512-channel 3×3 convolutions on a 2×4 map:
 * 9.4 MB of weights for 8 output pixels). oneDNN's kernels (brgconv, brgemm inner product)
 * and ONNX Runtime's reach 7-9 GB/s there on one core of the development machine; the kernel
 * here streams the weights in the order it uses them and prefetches 12 KiB ahead, which
 * measured 13-14 GB/s (0.68-0.78 ms instead of 1.08-1.3 ms per such layer).
 *
 * Layouts. Weights are packed once into blocks of BL_SKINNY_NB (48) output columns:
 * block b holds w(b*48 + j, k) at [b][k][j], zero past n. Rows come in panels of
 * BL_SKINNY_MB (8): element (r, k) at xp[(r/8)*k_total*8 + k*8 + r%8], zero past the last
 * row. Per (column block, row panel) the AVX-512 micro-kernel keeps 8×48 sums in 24
 * registers: per k, three weight vectors and eight broadcasts. The first row panel of a
 * column block prefetches the weights; later panels find them in L2.
 *
 * bl_cpu_skinny_gemm_ref is the plain-C reference (tests compare the two) and runs where
 * the CPU has no AVX-512; bl_cpu_skinny_wanted only routes work here where it has.
 * Threading: the depth (k) is split between `threads` OpenMP threads, so that each streams
 * an equal share of the weights; their partial sums meet in the caller's `part` buffer.
 * Owns nothing.
 */
#include <omp.h>    /* omp_get_thread_num */
#include <stdlib.h> /* getenv */
#include <string.h> /* memset, strcmp */

#include "core/cpu_isa.h"    /* bl_cpu_has_avx512f */
#include "models/cpu_exec.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SKINNY_HAVE_AVX512 1
#else
#define SKINNY_HAVE_AVX512 0
#endif

#define NB BL_SKINNY_NB
#define MB BL_SKINNY_MB
#define PF_STEPS 64 /* prefetch distance in k steps: 64 × 192 bytes = 12 KiB */

static bool cpu_has_avx512(void) { return SKINNY_HAVE_AVX512 && bl_cpu_has_avx512f(); }

bool bl_cpu_skinny_available(void) {
    static int avail = -1; /* benign race: every thread computes the same value */
    if (avail < 0) {
        const char *e = getenv("BL_CPU_SKINNY");
        avail = (e && !strcmp(e, "0")) ? 0 : cpu_has_avx512();
    }
    return avail != 0;
}

bool bl_cpu_skinny_wanted(int64_t rows, int64_t n, int64_t k) {
    return rows > 0 && rows <= BL_SKINNY_MAX_ROWS && 4.0 * (double)n * (double)k >= BL_SKINNY_MIN_WBYTES &&
           bl_cpu_skinny_available();
}

size_t bl_cpu_skinny_packed_floats(int64_t n, int64_t k) { return (size_t)((n + NB - 1) / NB) * NB * (size_t)k; }

void bl_cpu_skinny_pack(const float *w, int64_t n, int64_t k, int64_t sn, int64_t sk, float *out) {
    int64_t nblk = (n + NB - 1) / NB;
    for (int64_t b = 0; b < nblk; b++)
        for (int64_t kk = 0; kk < k; kk++) {
            float *o = out + ((size_t)b * (size_t)k + (size_t)kk) * NB;
            for (int j = 0; j < NB; j++) {
                int64_t c = b * NB + j;
                o[j] = c < n ? w[c * sn + kk * sk] : 0.f;
            }
        }
}

size_t bl_cpu_skinny_panel_floats(int64_t rows, int64_t k) { return (size_t)((rows + MB - 1) / MB) * MB * (size_t)k; }

void bl_cpu_skinny_panel(const float *x, int64_t rows, int64_t k, int64_t ldx, float *xp) {
    memset(xp, 0, bl_cpu_skinny_panel_floats(rows, k) * sizeof(float));
    for (int64_t r = 0; r < rows; r++) {
        float *col = xp + (size_t)(r / MB) * (size_t)k * MB + (size_t)(r % MB);
        const float *xr = x + r * ldx;
        for (int64_t kk = 0; kk < k; kk++) col[(size_t)kk * MB] = xr[kk];
    }
}

void bl_cpu_skinny_gemm_ref(const float *xp, int64_t rows, int64_t k, const float *wp, int64_t n, const float *bias,
                            float *y, int64_t ldy) {
    for (int64_t r = 0; r < rows; r++) {
        const float *col = xp + (size_t)(r / MB) * (size_t)k * MB + (size_t)(r % MB);
        for (int64_t c = 0; c < n; c++) {
            const float *wc = wp + (size_t)(c / NB) * (size_t)k * NB + (size_t)(c % NB);
            float s = bias ? bias[c] : 0.f;
            for (int64_t kk = 0; kk < k; kk++) s += col[(size_t)kk * MB] * wc[(size_t)kk * NB];
            y[r * ldy + c] = s;
        }
    }
}

#if SKINNY_HAVE_AVX512
/* One column block (48 columns from c0, `nc` of them valid) × one row panel (`nr` rows valid
 * from r0) of the product. */
__attribute__((target("avx512f"))) static void kernel_avx512(const float *xp, int64_t k, const float *wb,
                                                             const float *bias, int64_t c0, int nc, float *y,
                                                             int64_t ldy, int64_t r0, int nr, bool prefetch) {
    __m512 acc[MB][3];
    __mmask16 m[3];
    for (int j = 0; j < 3; j++) {
        int v = nc - 16 * j;
        m[j] = v >= 16 ? (__mmask16)0xFFFF : v <= 0 ? (__mmask16)0 : (__mmask16)((1u << v) - 1u);
    }
#pragma GCC unroll 3
    for (int j = 0; j < 3; j++) {
        __m512 b = bias ? _mm512_maskz_loadu_ps(m[j], bias + c0 + 16 * j) : _mm512_setzero_ps();
#pragma GCC unroll 8
        for (int r = 0; r < MB; r++) acc[r][j] = b;
    }
    const float *w = wb;
    const float *x = xp;
    for (int64_t kk = 0; kk < k; kk++, w += NB, x += MB) {
        if (prefetch) { /* the same every step: predicted, and the loop waits on memory anyway */
            const char *pf = (const char *)(w + PF_STEPS * NB);
            _mm_prefetch(pf, _MM_HINT_T0);
            _mm_prefetch(pf + 64, _MM_HINT_T0);
            _mm_prefetch(pf + 128, _MM_HINT_T0);
        }
        __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16), w2 = _mm512_loadu_ps(w + 32);
#pragma GCC unroll 8
        for (int r = 0; r < MB; r++) {
            __m512 xb = _mm512_set1_ps(x[r]);
            acc[r][0] = _mm512_fmadd_ps(w0, xb, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(w1, xb, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(w2, xb, acc[r][2]);
        }
    }
    for (int r = 0; r < nr; r++)
        for (int j = 0; j < 3; j++)
            if (m[j]) _mm512_mask_storeu_ps(y + (r0 + r) * ldy + c0 + 16 * j, m[j], acc[r][j]);
}
#endif

size_t bl_cpu_skinny_part_floats(int64_t rows, int64_t n, int threads) {
    return threads > 1 ? (size_t)(threads - 1) * (size_t)rows * (size_t)n : 0;
}

void bl_cpu_skinny_gemm(const float *xp, int64_t rows, int64_t k, const float *wp, int64_t n, const float *bias,
                        float *y, int64_t ldy, int threads, float *part) {
#if SKINNY_HAVE_AVX512
    if (cpu_has_avx512()) {
        int64_t nblk = (n + NB - 1) / NB, npan = (rows + MB - 1) / MB;
        if (threads < 2 || !part || k < 2 * PF_STEPS) threads = 1;
        /* thread t sums over k in [k*t/T, k*(t+1)/T) for every column block: each streams an
         * equal share of the weights (a split by column blocks leaves 6 of 11 blocks to one
         * of two threads for 512 columns); thread 0 adds the bias and writes y, the others
         * their part, summed into y at the end */
        int team = 1; /* the team OpenMP actually forms (at most `threads`) */
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
            int nt = omp_get_num_threads(), t = omp_get_thread_num();
            if (t == 0) team = nt;
            int64_t k0 = k * t / nt, k1 = k * (t + 1) / nt;
            float *out = t == 0 ? y : part + (size_t)(t - 1) * (size_t)rows * (size_t)n;
            int64_t ld = t == 0 ? ldy : n;
            for (int64_t b = 0; b < nblk; b++) {
                int64_t c0 = b * NB;
                int nc = (int)(n - c0 < NB ? n - c0 : NB);
                const float *wb = wp + ((size_t)b * (size_t)k + (size_t)k0) * NB;
                for (int64_t p = 0; p < npan; p++) {
                    int64_t r0 = p * MB;
                    int nr = (int)(rows - r0 < MB ? rows - r0 : MB);
                    kernel_avx512(xp + ((size_t)p * (size_t)k + (size_t)k0) * MB, k1 - k0, wb, t == 0 ? bias : NULL,
                                  c0, nc, out, ld, r0, nr, p == 0);
                }
            }
        }
        for (int t = 1; t < team; t++) {
            const float *pt = part + (size_t)(t - 1) * (size_t)rows * (size_t)n;
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < n; j++) y[r * ldy + j] += pt[r * n + j];
        }
        return;
    }
#endif
    (void)threads, (void)part;
    bl_cpu_skinny_gemm_ref(xp, rows, k, wp, n, bias, y, ldy);
}
