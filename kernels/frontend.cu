/* frontend.cu — the front end's device stages around the FFT (DESIGN §1, §3):
 *   bl_frame_window_kernel  frames × analysis window, the real input of cuFFT R2C
 *   bl_power_mel_kernel     |X|^power projected on the mel filterbank
 *   bl_compress_kernel      log / db / none, elementwise
 *   bl_pcen_kernel          PCEN, one thread per mel band carrying the smoother over frames
 * each with its *_launch(..., stream) and the validated entry point of frontend_ops.h.
 *
 * Written once in the C-compatible subset (docs/kernels.md): nvcc builds it into the CUDA
 * module, the host compiler builds it through kernels/emu.h for the tests. The arithmetic
 * mirrors core/frontend.c operation by operation (same precision, same order of the mel
 * sum, the same logarithm: core/fastlog.h, written with __fmul_rn/__fadd_rn under nvcc), so
 * results match the CPU reference bit for bit in the emulation and to rounding (fused
 * multiply-adds in the power/mel sums, cuFFT) on the GPU.
 *
 * Owns no memory and no state; PCEN state is the caller's. Threading: see frontend_ops.h.
 */
#include "kernels/cuda_compat.h"  /* qualifiers, BL_LAUNCH, launch checks (CUDA or emulation) */
#include "kernels/frontend_ops.h" /* the entry points defined here */
#include "core/fastlog.h"         /* bl_fast_logf, bl_fast_dbf: the CPU's log, bit for bit */

#include <limits.h> /* INT_MAX */
#include <math.h>   /* pow, sqrt: host math for the PCEN coefficients */

/* Threads per block for the one-thread-per-output kernels: a multiple of the warp size;
 * these kernels are memory-bound and not sensitive to the exact value. */
#define BL_FE_BLOCK 256
/* PCEN has one thread per mel band (tens of them): one small block. */
#define BL_FE_PCEN_BLOCK 64

/* Blocks needed to give each of n elements one thread; 0 when more than a launch can take. */
static unsigned bl_fe_blocks(size_t n, unsigned block) {
    size_t blocks = (n + block - 1) / block;
    return blocks > (size_t)INT_MAX ? 0u : (unsigned)blocks;
}

/* ---- framing and window ------------------------------------------------------------- */

/* Outside the window's support the CPU leaves the FFT input at zero while this multiplies
 * by the window's zeros: the same values (up to the sign of zero, which no nonzero FFT output
 * can see) for finite samples. */
static __global__ void bl_frame_window_kernel(const float *__restrict__ samples,
                                              const float *__restrict__ window, int n_fft,
                                              int hop, size_t n_out, float *__restrict__ frames) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_out) return;
    size_t f = i / (size_t)n_fft;
    size_t k = i % (size_t)n_fft;
    frames[i] = samples[f * (size_t)hop + k] * window[k];
}

static bl_status bl_frame_window_launch(const float *samples, const float *window, int n_fft,
                                        int hop, size_t n_frames, float *frames,
                                        bl_stream_t stream) {
    size_t n_out = n_frames * (size_t)n_fft;
    unsigned blocks = bl_fe_blocks(n_out, BL_FE_BLOCK);
    BL_RETURN_IF(blocks == 0, BL_ERR_RANGE,
                 "frame_window: %zu frames of %d samples are too many for one launch; "
                 "split the block", n_frames, n_fft);
    BL_LAUNCH(bl_frame_window_kernel, BL_DIM3(blocks, 1, 1), BL_DIM3(BL_FE_BLOCK, 1, 1), stream,
              samples, window, n_fft, hop, n_out, frames);
    BL_KERNEL_LAUNCH_CHECK();
    return BL_OK;
}

bl_status bl_fe_op_frame_window(const float *samples, size_t n_samples, const float *window,
                                int n_fft, int hop, size_t n_frames, float *frames,
                                void *stream) {
    BL_RETURN_IF(n_fft <= 0 || hop <= 0, BL_ERR_INVALID_ARG,
                 "frame_window: n_fft (%d) and hop (%d) must be positive", n_fft, hop);
    if (n_frames == 0) return BL_OK;
    BL_RETURN_IF(!samples || !window || !frames, BL_ERR_INVALID_ARG,
                 "frame_window: NULL buffer");
    BL_RETURN_IF((n_samples < (size_t)n_fft) ||
                     (n_frames - 1) > (n_samples - (size_t)n_fft) / (size_t)hop,
                 BL_ERR_INVALID_ARG,
                 "frame_window: %zu frames (n_fft %d, hop %d) need more than the %zu samples "
                 "given", n_frames, n_fft, hop, n_samples);
    return bl_frame_window_launch(samples, window, n_fft, hop, n_frames, frames,
                                  (bl_stream_t)stream);
}

/* ---- power spectrum and mel projection ---------------------------------------------- */

/* How |X|^power is computed, chosen once per launch as the CPU reference does per frame. */
enum { BL_FE_POWER_2 = 0, BL_FE_POWER_1 = 1, BL_FE_POWER_ANY = 2 };

/* |X|^power of one bin, in the CPU reference's float expression: |X|^2, sqrt(|X|^2), or
 * (|X|^2)^(power/2). */
static __device__ __forceinline__ float bl_fe_bin_power(float re, float im, int mode,
                                                        float half_power) {
    float p = re * re + im * im;
    if (mode == BL_FE_POWER_2) return p;
    if (mode == BL_FE_POWER_1) return sqrtf(p);
    return powf(p, half_power);
}

static __global__ void bl_power_mel_kernel(const float *__restrict__ spec, int n_freqs,
                                           int power_mode, float half_power,
                                           const float *__restrict__ mel,
                                           const int *__restrict__ band_lo,
                                           const int *__restrict__ band_hi, int n_mels,
                                           size_t n_out, float *__restrict__ out) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_out) return;
    size_t f = i / (size_t)n_mels;
    int m = (int)(i % (size_t)n_mels);
    int k0 = band_lo ? band_lo[m] : 0;
    int k1 = band_hi ? band_hi[m] : n_freqs;
    const float *x = spec + f * 2 * (size_t)n_freqs;
    float acc = 0.0f;
    for (int k = k0; k < k1; k++) {
        float p = bl_fe_bin_power(x[2 * k], x[2 * k + 1], power_mode, half_power);
        acc += p * mel[(size_t)k * n_mels + m];
    }
    out[i] = acc;
}

static bl_status bl_power_mel_launch(const float *spec, size_t n_frames, int n_freqs,
                                     double power, const float *mel, const int *band_lo,
                                     const int *band_hi, int n_mels, float *out,
                                     bl_stream_t stream) {
    size_t n_out = n_frames * (size_t)n_mels;
    unsigned blocks = bl_fe_blocks(n_out, BL_FE_BLOCK);
    int mode = power == 2.0 ? BL_FE_POWER_2 : power == 1.0 ? BL_FE_POWER_1 : BL_FE_POWER_ANY;
    BL_RETURN_IF(blocks == 0, BL_ERR_RANGE,
                 "power_mel: %zu frames of %d mels are too many for one launch; split the "
                 "block", n_frames, n_mels);
    BL_LAUNCH(bl_power_mel_kernel, BL_DIM3(blocks, 1, 1), BL_DIM3(BL_FE_BLOCK, 1, 1), stream,
              spec, n_freqs, mode, (float)(power / 2.0), mel, band_lo, band_hi, n_mels, n_out,
              out);
    BL_KERNEL_LAUNCH_CHECK();
    return BL_OK;
}

bl_status bl_fe_op_power_mel(const float *spec, size_t n_frames, int n_freqs, double power,
                             const float *mel, const int *band_lo, const int *band_hi,
                             int n_mels, float *out, void *stream) {
    BL_RETURN_IF(n_freqs <= 0 || n_mels <= 0, BL_ERR_INVALID_ARG,
                 "power_mel: n_freqs (%d) and n_mels (%d) must be positive", n_freqs, n_mels);
    BL_RETURN_IF(!(power > 0.0) || !isfinite(power), BL_ERR_INVALID_ARG,
                 "power_mel: power must be a positive number (got %g)", power);
    BL_RETURN_IF((band_lo == NULL) != (band_hi == NULL), BL_ERR_INVALID_ARG,
                 "power_mel: give both band_lo and band_hi, or neither");
    if (n_frames == 0) return BL_OK;
    BL_RETURN_IF(!spec || !mel || !out, BL_ERR_INVALID_ARG, "power_mel: NULL buffer");
    return bl_power_mel_launch(spec, n_frames, n_freqs, power, mel, band_lo, band_hi, n_mels,
                               out, (bl_stream_t)stream);
}

void bl_fe_op_mel_bands(const float *mel, int n_freqs, int n_mels, int *band_lo,
                        int *band_hi) {
    for (int m = 0; m < n_mels; m++) {
        int lo = -1, hi = -1;
        for (int k = 0; k < n_freqs; k++) {
            if (mel[(size_t)k * n_mels + m] != 0.0f) {
                if (lo < 0) lo = k;
                hi = k + 1;
            }
        }
        band_lo[m] = lo < 0 ? 0 : lo;
        band_hi[m] = lo < 0 ? 0 : hi;
    }
}

/* ---- compression: log, db, none ----------------------------------------------------- */

static __global__ void bl_compress_kernel(const float *in, float *out, size_t n, int type,
                                          float eps, float amin) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float s = in[i];
    float y;
    if (type == BL_COMP_LOG)
        y = bl_fast_logf(s + eps);
    else if (type == BL_COMP_DB)
        y = bl_fast_dbf(s > amin ? s : amin);
    else
        y = s;
    out[i] = y;
}

static bl_status bl_compress_launch(const float *in, float *out, size_t n, int type, float eps,
                                    float amin, bl_stream_t stream) {
    unsigned blocks = bl_fe_blocks(n, BL_FE_BLOCK);
    BL_RETURN_IF(blocks == 0, BL_ERR_RANGE,
                 "compress: %zu values are too many for one launch; split the block", n);
    BL_LAUNCH(bl_compress_kernel, BL_DIM3(blocks, 1, 1), BL_DIM3(BL_FE_BLOCK, 1, 1), stream, in,
              out, n, type, eps, amin);
    BL_KERNEL_LAUNCH_CHECK();
    return BL_OK;
}

bl_status bl_fe_op_compress(const float *in, float *out, size_t n, const bl_comp_params *cp,
                            void *stream) {
    BL_RETURN_IF(!cp, BL_ERR_INVALID_ARG, "compress: NULL parameters");
    BL_RETURN_IF(cp->type != BL_COMP_LOG && cp->type != BL_COMP_DB && cp->type != BL_COMP_NONE,
                 BL_ERR_INVALID_ARG,
                 "compress: type %d is not log, db or none (PCEN runs through bl_fe_op_pcen)",
                 (int)cp->type);
    if (n == 0 || (cp->type == BL_COMP_NONE && in == out)) return BL_OK;
    BL_RETURN_IF(!in || !out, BL_ERR_INVALID_ARG, "compress: NULL buffer");
    return bl_compress_launch(in, out, n, (int)cp->type, (float)cp->eps, (float)cp->amin,
                              (bl_stream_t)stream);
}

/* ---- PCEN --------------------------------------------------------------------------- */

/* One thread per mel band: the smoother is a recurrence over frames, so each band walks its
 * frames in order. M[t] = (1-b) M[t-1] + b S[t]; out = (S/(eps+M)^alpha + delta)^r - delta^r.
 * In double, like the CPU reference: (x + delta)^r - delta^r cancels when x << delta, and
 * float there loses most digits; the state stays double so that block boundaries change
 * nothing. The cost is small: n_mels threads doing a few double ops per frame. */
static __global__ void bl_pcen_kernel(const float *in, float *out, size_t n_frames, int n_mels,
                                      double *__restrict__ state, int first, double b,
                                      double eps, double alpha, double delta, double r,
                                      double delta_r) {
    int m = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (m >= n_mels) return;
    double M = state[m];
    for (size_t t = 0; t < n_frames; t++) {
        size_t i = t * (size_t)n_mels + (size_t)m;
        double S = in[i];
        M = (first && t == 0) ? S : (1.0 - b) * M + b * S;
        out[i] = (float)(pow(S / pow(eps + M, alpha) + delta, r) - delta_r);
    }
    state[m] = M;
}

static bl_status bl_pcen_launch(const float *in, float *out, size_t n_frames, int n_mels,
                                double *state, int first, double b, double eps, double alpha,
                                double delta, double r, bl_stream_t stream) {
    unsigned blocks = bl_fe_blocks((size_t)n_mels, BL_FE_PCEN_BLOCK);
    double delta_r = pow(delta, r);
    BL_LAUNCH(bl_pcen_kernel, BL_DIM3(blocks, 1, 1), BL_DIM3(BL_FE_PCEN_BLOCK, 1, 1), stream,
              in, out, n_frames, n_mels, state, first, b, eps, alpha, delta, r, delta_r);
    BL_KERNEL_LAUNCH_CHECK();
    return BL_OK;
}

bl_status bl_fe_op_pcen(const float *in, float *out, size_t n_frames, int n_mels,
                        double *state, bool first, const bl_comp_params *cp, int sample_rate,
                        int hop_length, void *stream) {
    BL_RETURN_IF(!cp, BL_ERR_INVALID_ARG, "pcen: NULL parameters");
    BL_RETURN_IF(n_mels <= 0 || sample_rate <= 0 || hop_length <= 0, BL_ERR_INVALID_ARG,
                 "pcen: n_mels (%d), sample_rate (%d) and hop_length (%d) must be positive",
                 n_mels, sample_rate, hop_length);
    BL_RETURN_IF(!(cp->time_constant > 0.0), BL_ERR_INVALID_ARG,
                 "pcen: time_constant must be positive (got %g)", cp->time_constant);
    if (n_frames == 0) return BL_OK;
    BL_RETURN_IF(!in || !out || !state, BL_ERR_INVALID_ARG, "pcen: NULL buffer");
    /* The smoothing coefficient exactly as the CPU plan computes it (frontend.h). */
    double T = cp->time_constant * sample_rate / hop_length;
    double b = (sqrt(1.0 + 4.0 * T * T) - 1.0) / (2.0 * T * T);
    return bl_pcen_launch(in, out, n_frames, n_mels, state, first ? 1 : 0, b, cp->eps,
                          cp->alpha, cp->delta, cp->r, (bl_stream_t)stream);
}
