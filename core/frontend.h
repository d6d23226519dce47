/* frontend.h — the spectrogram front end (DESIGN §5): framing, periodic Hann window,
 * power spectrum, mel filterbank (torchaudio.functional.melscale_fbanks semantics) and
 * compression (log, db, pcen, none). CPU reference implementation (core/fft.h's batched
 * FFT for power-of-two n_fft, KissFFT for other even lengths).
 *
 * Semantics are exactly those of torch.stft(n_fft, hop_length, win_length,
 * window=hann_window(win_length, periodic=True) centred in n_fft, center, pad_mode,
 * onesided) followed by |X|^power, melscale_fbanks(n_freqs=n_fft/2+1, f_min, f_max,
 * n_mels, sample_rate, norm, mel_scale) and the compression below:
 *   log  : ln(S + eps)
 *   db   : 10*log10(max(S, amin))
 *   pcen : (S/(eps+M)^alpha + delta)^r - delta^r,  M[t] = (1-b) M[t-1] + b S[t], M[0] = S[0],
 *          b = (sqrt(1+4T^2)-1)/(2T^2), T = time_constant*sample_rate/hop_length
 *   none : S
 *
 * Streaming: a bl_fe_stream consumes one channel's samples in blocks of any size and emits
 * frames as soon as they are complete; it carries the n_fft-hop overlap, the reflect/
 * constant padding state and the PCEN smoother. Output is bit-identical whatever the
 * block sizes.
 *
 * Threading: a bl_frontend (plan: window, mel matrix, FFT config) is immutable after
 * creation and may be shared by many streams on many threads. A bl_fe_stream is used by
 * one thread at a time. Passing threads > 1 to bl_fe_stream_create lets one stream
 * spread the frames of a large block over worker threads.
 */
#ifndef BL_FRONTEND_H
#define BL_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* C linkage when included from C++ (nvcc compiles the kernels as CUDA C++). */
#ifdef __cplusplus
extern "C" {
#endif

typedef enum { BL_PAD_CONSTANT = 0, BL_PAD_REFLECT = 1 } bl_pad_mode;
typedef enum { BL_MEL_SLANEY = 0, BL_MEL_HTK = 1 } bl_mel_scale;
typedef enum { BL_MELNORM_NONE = 0, BL_MELNORM_SLANEY = 1 } bl_mel_norm;
typedef enum { BL_COMP_LOG = 0, BL_COMP_DB = 1, BL_COMP_PCEN = 2, BL_COMP_NONE = 3 } bl_comp_type;
typedef enum { BL_WINDOW_HANN = 0 } bl_window_type;

typedef struct {
    int n_mels;          /* number of mel bands (> 0) */
    double fmin;         /* Hz, >= 0 */
    double fmax;         /* Hz, <= sample_rate/2; <= 0 means sample_rate/2 */
    bl_mel_scale scale;
    bl_mel_norm norm;
} bl_mel_params;

typedef struct {
    bl_comp_type type;
    double eps;           /* log: ln(S+eps); pcen: eps in (eps+M)^alpha */
    double amin;          /* db floor */
    double alpha;         /* pcen */
    double delta;         /* pcen */
    double r;             /* pcen */
    double time_constant; /* pcen smoother time constant, seconds */
} bl_comp_params;

typedef struct {
    int sample_rate;     /* Hz; audio is resampled to this rate */
    int n_fft;           /* FFT length (even) */
    int win_length;      /* <= n_fft; window centred in n_fft; 0 means n_fft */
    int hop_length;      /* > 0 */
    bl_window_type window;
    bool center;         /* pad n_fft/2 on both sides, as torch.stft(center=True) */
    bl_pad_mode pad_mode;
    double power;        /* exponent on |X|: 2.0 = power, 1.0 = magnitude */
    bl_mel_params mel;
    bl_comp_params compression;
} bl_frontend_params;

/* Defaults: 16 kHz, n_fft 1024, win 1024, hop 300, hann, center true, reflect, power 2,
 * 64 mels 0..8000 Hz slaney/slaney, log with eps 1e-6 (documented in docs/config.md). */
void bl_frontend_params_default(bl_frontend_params *p);

/* Check ranges; on failure returns BL_ERR_CONFIG with a message naming the field. */
bl_status bl_frontend_params_validate(const bl_frontend_params *p);

typedef struct bl_frontend bl_frontend;
typedef struct bl_fe_stream bl_fe_stream;

/* Build the plan (window, mel matrix, FFT config). *out is owned by the caller. */
bl_status bl_frontend_create(const bl_frontend_params *p, bl_frontend **out);
void bl_frontend_destroy(bl_frontend *fe);
const bl_frontend_params *bl_frontend_params_of(const bl_frontend *fe);
/* Mel matrix [n_freqs][n_mels] row-major, n_freqs = n_fft/2+1 (for tests and kernels). */
const float *bl_frontend_mel_matrix(const bl_frontend *fe);
/* Analysis window of n_fft samples (the win_length Hann window centred, zeros around). */
const float *bl_frontend_window(const bl_frontend *fe);

/* The FFT the front end runs, on n_frames already-windowed frames (frames[f*n_fft + i]),
 * writing the n_freqs = n_fft/2+1 bins of frame f to spec[(f*n_freqs + k)*2 + {0,1}]
 * (re, im interleaved: the layout of an R2C FFT). Bit-identical to the spectra behind the
 * stream's features (the batched FFT of core/fft.h for power-of-two n_fft, KissFFT
 * otherwise). For tests and the kernel emulation, where it stands in for cuFFT.
 * BL_ERR_NOMEM when scratch cannot be allocated. */
bl_status bl_frontend_spectrum(const bl_frontend *fe, const float *frames, size_t n_frames,
                               float *spec);

/* Number of frames produced for `n_samples` samples in total (torch.stft's count:
 * center ? 1 + n/hop : (n >= n_fft ? 1 + (n-n_fft)/hop : 0)), except that an empty input
 * gives 0 frames (torch.stft rejects it). */
size_t bl_frontend_frame_count(const bl_frontend *fe, size_t n_samples);

/* One stream per channel. threads: workers for the frames of one block (1 = caller only;
 * the caller is one of them). Output bytes do not depend on `threads`. */
bl_status bl_fe_stream_create(const bl_frontend *fe, int threads, bl_fe_stream **out);
void bl_fe_stream_destroy(bl_fe_stream *st);

/* Feed n samples. Complete frames are appended to `out` as [frame][n_mels] float32
 * (time-major); at most `cap_frames` frames are written, and *n_out tells how many.
 * Use bl_fe_stream_max_frames(st, n) to size `out`. Frames that did not fit stay pending
 * (their samples are kept) and come out first on the next push or finish.
 * Memory: the stream holds about n_fft + 512*hop samples, plus whatever a too-small
 * cap_frames forces it to keep. */
bl_status bl_fe_stream_push(bl_fe_stream *st, const float *samples, size_t n, float *out,
                            size_t cap_frames, size_t *n_out);
/* Signal the end of input: emits the frames that need the right padding (center=true).
 * May be called again (with more room) to drain frames a small cap_frames held back; a
 * push after finish is BL_ERR_INVALID_ARG. With center=true and pad_mode reflect, an input
 * of 1..n_fft/2 samples cannot be padded: BL_ERR_RANGE with a message saying so, as
 * torch.stft raises (use pad_mode constant for such short inputs). */
bl_status bl_fe_stream_finish(bl_fe_stream *st, float *out, size_t cap_frames, size_t *n_out);
/* Upper bound of frames the next push of n samples (or finish, n = 0) can emit. */
size_t bl_fe_stream_max_frames(const bl_fe_stream *st, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* BL_FRONTEND_H */
