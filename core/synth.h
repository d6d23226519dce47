/* synth.h — synthetic hydrophone-like recordings with a ground-truth table (`baleen synth`).
 *
 * Defines: bl_synth_params (+ bl_synth_params_default/validate), bl_synth_write(), the
 * truth-path helper bl_synth_truth_path() and the SNR measure bl_synth_band_energy().
 *
 * What a file holds, per channel (channels are independent: own noise, ships, clicks, calls):
 *   - background: coloured noise (white | pink | brown | ocean = pink plus a strong brown
 *     component below ~50 Hz, the default) whose level wanders slowly (about ±3 dB over
 *     minutes); ship tonals (1 + seconds/900 passages per channel: a 50–250 Hz line with up
 *     to 4 harmonics below 500 Hz, wandering slowly in frequency, fading in and out over
 *     4–20 minutes); clicks (damped 1–6 kHz bursts, 0.1–0.6 ms decay, peak 12–30 dB over the
 *     background RMS, mean one per 8 s);
 *   - calls, never overlapping on a channel (≥ 0.5 s apart and ≥ 0.5 s from the file's ends),
 *     placed uniformly at random:
 *       upcall    — right-whale-like upsweep, start 40–80 Hz, end 180–280 Hz, 0.6–1.5 s,
 *                   f(τ) = f0 + (f1 − f0)·τ^p with p in [0.8, 1.6], 1–2 partials;
 *       song_unit — humpback-like tonal unit, fundamental 100–2000 Hz (capped at 0.4·rate),
 *                   rising, falling or flat (exponential sweep), 0.5–3 s, 2–4 partials with
 *                   decaying amplitudes, slight FM (≤ 4 %) on half of the units.
 *     Partials reaching 0.45·rate are left out (no aliasing). Envelopes are Tukey windows;
 *     the phase is the running sum of the instantaneous frequency, so sweeps are clean.
 *
 * SNR (the truth's snr_db, drawn uniformly in [snr_min_db, snr_max_db] and rounded to
 * 0.01 dB): SNR = 10·log10(Ec / En), where Ec is the energy of the call alone and En the
 * energy of the background alone (noise + ships + clicks), both over exactly the call's
 * samples [start, end) and both restricted to the band [0.9·min(f0, f1), 1.1·max(f0, f1)]
 * (f0, f1 as written in the truth) by bl_synth_band_energy(). The call's gain is computed
 * from the background actually generated, so the SNR holds for the written file (up to
 * output quantization), not just on average.
 *
 * Truth CSV: header `kind,channel,start_s,end_s,f0_hz,f1_hz,snr_db`, one row per call sorted by
 * (channel, start_s); channel counts from 0; start_s/end_s are exact sample positions divided
 * by the rate, printed %.6f; f0_hz/f1_hz (%.1f) are the fundamental's instantaneous frequency
 * at the call's first and last instant; snr_db %.2f. The drawn values are rounded to the
 * printed precision before synthesis, so the table is exact.
 *
 * Determinism: every random draw comes from xoshiro256** streams seeded by splitmix64 from
 * (seed, channel, purpose); no rand(), no time, no global state. The same params give
 * byte-identical audio and truth, whatever block_frames is.
 *
 * Memory: O(block_frames + longest call) per channel plus O(n_calls) call records; a 24 h
 * file uses the same buffers as a 1 min one.
 *
 * Threading: bl_synth_write() keeps all of its state in its own allocations; concurrent calls
 * with different output paths are safe.
 */
#ifndef BL_SYNTH_H
#define BL_SYNTH_H

#include <signal.h> /* sig_atomic_t: the stop flag */
#include <stddef.h> /* size_t */
#include <stdint.h> /* uint64_t */

#include "error.h" /* bl_status */

/* Call kinds, as a bit set in bl_synth_params.kinds. */
enum { BL_SYNTH_UPCALL = 1u << 0, BL_SYNTH_SONG_UNIT = 1u << 1 };
#define BL_SYNTH_ALL_KINDS (BL_SYNTH_UPCALL | BL_SYNTH_SONG_UNIT)

typedef enum { BL_SYNTH_NOISE_OCEAN = 0, BL_SYNTH_NOISE_PINK, BL_SYNTH_NOISE_BROWN, BL_SYNTH_NOISE_WHITE } bl_synth_noise;
typedef enum { BL_SYNTH_WAV = 0, BL_SYNTH_FLAC } bl_synth_format;
typedef enum { BL_SYNTH_PCM24 = 0, BL_SYNTH_PCM16, BL_SYNTH_FLOAT } bl_synth_subtype;
/* What goes into the audio file. The gains are the same in all three (computed from the
 * background), so a CALLS_ONLY and a BACKGROUND_ONLY run add up to the MIX run. */
typedef enum { BL_SYNTH_MIX = 0, BL_SYNTH_CALLS_ONLY, BL_SYNTH_BACKGROUND_ONLY } bl_synth_content;

typedef struct {
    double seconds;          /* --seconds: file length, > 0 (default 600) */
    int sample_rate;         /* --rate: Hz, 4000..384000 (default 16000) */
    int channels;            /* --channels: 1..64 (FLAC: 1..8) (default 1) */
    long n_calls;            /* --calls: calls per channel; < 0 = about one per 30 s (default -1) */
    unsigned kinds;          /* --kinds: bit set of BL_SYNTH_UPCALL / BL_SYNTH_SONG_UNIT (default both) */
    double snr_min_db;       /* --snr MIN:MAX, in [-30, 60], min <= max (default 0:20) */
    double snr_max_db;
    uint64_t seed;           /* --seed (default 1) */
    bl_synth_noise noise;    /* --noise (default ocean) */
    double noise_db;         /* --noise-db: background RMS in dBFS at its mean level, -120..-6 (default -30) */
    int ships;               /* --no-ships clears it (default 1) */
    int clicks;              /* --no-clicks clears it (default 1) */
    bl_synth_format format;  /* --format (default WAV; RF64 is used past 4 GiB) */
    bl_synth_subtype subtype;/* --subtype (default PCM_24 like the MBARI archive; FLAC: PCM only) */
    bl_synth_content content;/* --only calls|background (default MIX) */
    size_t block_frames;     /* frames generated and written per step; 0 = 65536. Output does not depend on it. */
    const volatile sig_atomic_t *stop; /* polled between blocks: non-zero stops the write (see
                                          bl_synth_write); NULL = never (default) */
} bl_synth_params;

/* Fill *p with the defaults above. */
void bl_synth_params_default(bl_synth_params *p);

/* Check every field and that the calls can fit. BL_ERR_INVALID_ARG with a message naming the
 * command-line option (e.g. "--rate 1000: must be in 4000..384000 Hz"). */
bl_status bl_synth_params_validate(const bl_synth_params *p);

/* Number of calls per channel the params give (n_calls, or the default for `seconds`). */
long bl_synth_calls_per_channel(const bl_synth_params *p);

/* Generate and write the audio to out_path and the truth CSV to truth_csv_path (NULL = the
 * default from bl_synth_truth_path()). Both are written to temporary files in the same folder
 * and put in place at the end, so a failure leaves neither half-written; an existing file is
 * replaced. The temporaries are unnamed (O_TMPFILE) where the filesystem allows, so that even
 * a killed process leaves nothing behind; elsewhere they are "<path>.tmp-XXXXXX", removed on
 * any failure. When *p->stop becomes non-zero (a SIGINT/SIGTERM handler's flag), the write
 * stops before its next block, removes its temporaries and returns BL_ERR_IO with a message
 * saying it was stopped (error.h has no status of its own for that: the caller, which owns
 * the flag, tells the two apart). Errors: BL_ERR_INVALID_ARG (params, see validate),
 * BL_ERR_IO / BL_ERR_NO_SPACE naming the path, BL_ERR_NOMEM. On success *calls_written (if not
 * NULL) is the number of rows. */
bl_status bl_synth_write(const bl_synth_params *p, const char *out_path, const char *truth_csv_path,
                         long *calls_written);

/* Default truth path: out_path with its extension replaced by ".truth.csv" ("a/b.wav" →
 * "a/b.truth.csv"; no extension: appended). BL_ERR_RANGE if it does not fit in cap bytes. */
bl_status bl_synth_truth_path(const char *out_path, char *buf, size_t cap);

/* Energy of x[0..n) in the band [f_lo, f_hi] Hz at rate fs: with M the smallest power of two
 * >= max(n, 2) and X the M-point DFT of x zero-padded to M,
 *   E = (1/M)·Σ_{k=0..M/2, f_lo <= k·fs/M <= f_hi} w_k·|X_k|²,  w_0 = w_{M/2} = 1, else 2,
 * so the full band [0, fs/2] gives Σ x² (Parseval). This is the measure behind the SNR. */
bl_status bl_synth_band_energy(const float *x, size_t n, double fs, double f_lo, double f_hi,
                               double *energy);

#endif /* BL_SYNTH_H */
