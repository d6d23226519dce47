/* fft.h — baleen's own real-to-complex FFT for power-of-two lengths, vectorised across
 * frames: BL_RFFT_LANES frames are transformed at once, lane b of every vector holding
 * frame b, so each butterfly is one vector operation for all of them (DESIGN §5, the CPU
 * front end's hot loop).
 *
 * Method: the n real samples of a frame are read as n/2 complex points z[j] = x[2j] +
 * i x[2j+1]; an in-place complex FFT (radix-4 decimation-in-frequency stages, one radix-2
 * stage when log2(n/2) is odd) gives Z in digit-reversed order, and the post-processing
 * step, reading Z through a position table, splits it into the n/2+1
 * bins of the real transform: X[k] = (Z[k] + conj Z[n/2-k])/2 - i/2 e^{-2πik/n}
 * (Z[k] - conj Z[n/2-k]). Twiddles are computed in double and rounded to float once.
 * Same sign convention and scale as kiss_fftr / numpy.fft.rfft (forward, unnormalised).
 *
 * Lanes never mix: every operation is lane-wise, with the same broadcast twiddles, so a
 * frame's output bits do not depend on its lane or on the other lanes' contents (NaN
 * included). The code never fuses multiply-adds, so all code paths (scalar, generic
 * vectors, AVX2) give bit-identical results.
 *
 * Threading: a plan is immutable once created and may be shared by any number of threads;
 * each thread passes its own workspace.
 */
#ifndef BL_FFT_H
#define BL_FFT_H

#include <stdbool.h> /* bool */
#include <stddef.h>  /* size_t */

#include "error.h" /* bl_status */

#ifdef __cplusplus
extern "C" {
#endif

/* Frames per batch. Fixed (not chosen per CPU) so that layouts, and results, are the same
 * on every machine; 16 = one AVX-512 register of floats (narrower paths run a batch in
 * several passes). */
#define BL_RFFT_LANES 16
/* Supported lengths: powers of two in [BL_RFFT_MIN_N, BL_RFFT_MAX_N]. */
#define BL_RFFT_MIN_N 2
#define BL_RFFT_MAX_N (1 << 20)

/* Which code runs the butterflies. GENERIC: 4-lane GNU C vectors in the compiler's baseline
 * ISA (SSE2 on x86-64, NEON on arm64), four runs per batch; AVX2: 8-lane vectors built for
 * AVX2, two runs per batch; AVX512: 16-lane vectors built for AVX-512F, one run per batch
 * (one 64-byte register per row: the butterflies and the power/mel that follow take half the
 * instructions of AVX2); SCALAR: plain C, one lane at a time (any compiler). AUTO: the widest
 * the CPU has (AVX512, else AVX2, else generic; scalar without GNU C); the environment
 * variable BL_FFT_ISA=avx512|avx2|generic|scalar overrides AUTO (benchmarks, debugging; a
 * path the CPU lacks is ignored). All paths give bit-identical results. */
typedef enum {
    BL_RFFT_ISA_AUTO = 0,
    BL_RFFT_ISA_GENERIC = 1,
    BL_RFFT_ISA_AVX2 = 2,
    BL_RFFT_ISA_SCALAR = 3,
    BL_RFFT_ISA_AVX512 = 4
} bl_rfft_isa;

typedef struct bl_rfft_plan bl_rfft_plan;

/* True when n is a length this module transforms (a power of two in range). */
bool bl_rfft_supported(int n);

/* Frames per batch: BL_RFFT_LANES. */
int bl_rfft_batch_width(void);

/* Plan for length n (BL_ERR_INVALID_ARG unless bl_rfft_supported(n)). *out is owned by the
 * caller (bl_rfft_plan_destroy). */
bl_status bl_rfft_plan_create(int n, bl_rfft_plan **out);
/* The same with an explicit code path; BL_ERR_UNSUPPORTED when the CPU (or the build)
 * lacks it. Tests use it to run both paths. */
bl_status bl_rfft_plan_create_isa(int n, bl_rfft_isa isa, bl_rfft_plan **out);
void bl_rfft_plan_destroy(bl_rfft_plan *plan);
int bl_rfft_plan_n(const bl_rfft_plan *plan);
/* The path the plan runs (never AUTO). */
bl_rfft_isa bl_rfft_plan_isa(const bl_rfft_plan *plan);
/* "auto", "generic", "avx2", "avx512" or "scalar". */
const char *bl_rfft_isa_name(bl_rfft_isa isa);

/* The core transform, in the lane-interleaved layout: x[i*L + b] is sample i of frame b
 * (L = BL_RFFT_LANES, i < n); on return re[k*L + b] and im[k*L + b] hold bin k of frame b
 * (k <= n/2; im of bins 0 and n/2 is exactly 0). x is overwritten (the FFT runs in place
 * there). No alignment is required (64-byte alignment is faster); re and im must not
 * overlap x or each other. */
void bl_rfft_lanes(const bl_rfft_plan *plan, float *x, float *re, float *im);

/* bl_rfft_lanes followed by the power spectrum, in one pass: on return pw[k*L + b] =
 * re*re + im*im of bin k of frame b (k <= n/2), the bits that bl_rfft_lanes' outputs give
 * with that float expression. x is overwritten; pw must not overlap it. */
void bl_rfft_lanes_power(const bl_rfft_plan *plan, float *x, float *pw);

/* Fill the lane layout from `count` (0..BL_RFFT_LANES) frames in place: for rows lo <= i < hi,
 * x[i*L + b] = frames[b*stride + i] * window[i] for b < count, 0 for the other lanes; rows
 * outside [lo, hi) are set to 0. One IEEE multiply per value, so the result does not depend
 * on the code path (the AVX2 path transposes 8x8 blocks in registers, the AVX-512 path
 * 16x16 blocks). 0 <= lo <= hi <= n. */
void bl_rfft_load(const bl_rfft_plan *plan, const float *frames, size_t stride, int count,
                  const float *window, int lo, int hi, float *x);

/* The way back from the lane layout: out[b*stride + i] = rows[i*L + b] for i < n_rows and
 * b < count (0..BL_RFFT_LANES); a copy, so the same bits on every path (the AVX-512 path
 * transposes 16x16 blocks in registers). rows and out must not overlap. */
void bl_rfft_unload(const bl_rfft_plan *plan, const float *rows, int n_rows, int count,
                    float *out, size_t stride);

/* Floats of workspace bl_rfft_batch needs. */
size_t bl_rfft_batch_work_floats(const bl_rfft_plan *plan);

/* Convenience form: count (1..BL_RFFT_LANES) frames of n contiguous samples each, frame f
 * at in[f*n]; bin k of frame f goes to re_out[f*(n/2+1) + k], im_out[f*(n/2+1) + k].
 * Missing lanes are zero. in is not modified. */
void bl_rfft_batch(const bl_rfft_plan *plan, const float *in, int count, float *re_out,
                   float *im_out, float *work);

#ifdef __cplusplus
}
#endif

#endif /* BL_FFT_H */
