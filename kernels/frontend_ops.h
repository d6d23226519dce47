/* frontend_ops.h — C-callable entry points of the front end's device stages
 * (kernels/frontend.cu): framing + window before the FFT, then power + mel, compression
 * (log, db, none) and PCEN after it. The FFT itself (cuFFT R2C on the device, KissFFT in the
 * emulated tests) sits between bl_fe_op_frame_window and bl_fe_op_power_mel.
 *
 * The arithmetic follows the CPU reference (core/frontend.c, semantics in core/frontend.h)
 * step by step, so that the device output agrees with it to 1e-5 relative.
 *
 * Memory: every pointer is a device pointer when built by nvcc (a host pointer in the
 * emulation); nothing is allocated or freed here. `stream` is a cudaStream_t (NULL: the
 * default stream); launches are asynchronous, so BL_OK means "launched", and a later
 * synchronisation reports execution errors. The emulation runs each launch to completion.
 *
 * Errors: bad arguments return BL_ERR_INVALID_ARG, sizes beyond what one launch can cover
 * BL_ERR_RANGE, a rejected launch BL_ERR_DEVICE; each with a message (bl_error_message()).
 *
 * Threading: the entry points keep no state; calls on different streams may run
 * concurrently. PCEN's smoother state belongs to the caller (one array per stream/channel).
 */
#ifndef BL_KERNELS_FRONTEND_OPS_H
#define BL_KERNELS_FRONTEND_OPS_H

#include <stdbool.h> /* bool first */
#include <stddef.h>  /* size_t */

#include "core/error.h"    /* bl_status */
#include "core/frontend.h" /* bl_comp_params, bl_comp_type */

#ifdef __cplusplus
extern "C" {
#endif

/* frames[f][k] = samples[f*hop + k] * window[k] for f < n_frames, k < n_fft: the real input
 * of a batched R2C FFT. `samples` is the block as the host prepared it (centre/reflect
 * padding and the n_fft-hop carry already in place) and must hold n_samples >=
 * (n_frames-1)*hop + n_fft floats. window: n_fft floats (bl_frontend_window()).
 * frames: n_frames*n_fft floats, must not overlap samples. n_frames = 0 launches nothing. */
bl_status bl_fe_op_frame_window(const float *samples, size_t n_samples, const float *window,
                                int n_fft, int hop, size_t n_frames, float *frames, void *stream);

/* out[f][m] = sum_k P[f][k] * mel[k][m], P = |X|^power, X = spec[f][k] (interleaved re, im;
 * n_frames x n_freqs complex, the R2C output). mel: [n_freqs][n_mels] (the plan's
 * bl_frontend_mel_matrix()). band_lo/band_hi: n_mels ints each from bl_fe_op_mel_bands() to
 * sum only the nonzero rows of each column (same result), or both NULL for the full sum.
 * out: n_frames*n_mels floats. P is computed in float as the CPU does: |X|^2 for power 2,
 * sqrt(|X|^2) for power 1, (|X|^2)^(power/2) otherwise (power > 0). */
bl_status bl_fe_op_power_mel(const float *spec, size_t n_frames, int n_freqs, double power,
                             const float *mel, const int *band_lo, const int *band_hi,
                             int n_mels, float *out, void *stream);

/* Host helper (host memory): for each mel column m, band_lo[m]..band_hi[m]-1 is the smallest
 * range of rows k holding every nonzero mel[k][m] (0, 0 for an all-zero column). Copy the
 * arrays to the device for bl_fe_op_power_mel. */
void bl_fe_op_mel_bands(const float *mel, int n_freqs, int n_mels, int *band_lo, int *band_hi);

/* Elementwise compression of n values: BL_COMP_LOG ln(S + eps), BL_COMP_DB
 * 10*log10(max(S, amin)), BL_COMP_NONE a copy (nothing when in == out). in == out is allowed.
 * BL_COMP_PCEN is stateful: use bl_fe_op_pcen (BL_ERR_INVALID_ARG here). */
bl_status bl_fe_op_compress(const float *in, float *out, size_t n, const bl_comp_params *cp,
                            void *stream);

/* PCEN over n_frames frames of n_mels bands ([frame][mel], in == out allowed), carrying the
 * smoother M in `state` (n_mels doubles, device memory, read and written; double as in the
 * CPU reference, so that splitting a stream into blocks changes no output bit). first: this
 * is the stream's first frame, so M starts at S[0] and `state` is only written. The smoothing
 * coefficient comes from cp->time_constant, sample_rate and hop_length as in frontend.h. */
bl_status bl_fe_op_pcen(const float *in, float *out, size_t n_frames, int n_mels,
                        double *state, bool first, const bl_comp_params *cp, int sample_rate,
                        int hop_length, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* BL_KERNELS_FRONTEND_OPS_H */
