/* mel.c — see mel.h. A line-by-line port of torchaudio 0.13's melscale_fbanks,
 * _hz_to_mel, _mel_to_hz and _create_triangular_filterbank, including its quirks:
 * the frequency axis is linspace(0, sample_rate // 2, n_freqs) (integer division), and
 * linspace fills its second half from the end, as torch's kernel does, so that bins that
 * fall exactly on a triangle corner give the same zero.
 * Owns nothing. Threading: pure functions.
 */
#include "mel.h"

#include <math.h>   /* log, log10, exp, pow */
#include <stdlib.h> /* malloc */

static const double k_f_sp = 200.0 / 3.0; /* slaney: Hz per mel below 1 kHz */
static const double k_min_log_hz = 1000.0;

double bl_mel_from_hz(double hz, bl_mel_scale scale) {
    if (scale == BL_MEL_HTK) return 2595.0 * log10(1.0 + hz / 700.0);
    double mels = hz / k_f_sp;
    if (hz >= k_min_log_hz) {
        double min_log_mel = k_min_log_hz / k_f_sp;
        double logstep = log(6.4) / 27.0;
        mels = min_log_mel + log(hz / k_min_log_hz) / logstep;
    }
    return mels;
}

double bl_mel_to_hz(double mel, bl_mel_scale scale) {
    if (scale == BL_MEL_HTK) return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
    double min_log_mel = k_min_log_hz / k_f_sp;
    if (mel >= min_log_mel) {
        double logstep = log(6.4) / 27.0;
        return k_min_log_hz * exp(logstep * (mel - min_log_mel));
    }
    return k_f_sp * mel;
}

/* torch.linspace(start, end, steps)[i] as torch's CPU kernel computes it. */
static double linspace_at(double start, double end, int steps, int i) {
    if (steps == 1) return start;
    double step = (end - start) / (double)(steps - 1);
    int halfway = steps / 2;
    return i < halfway ? start + step * i : end - step * (double)(steps - i - 1);
}

int bl_mel_fbank(int n_freqs, double fmin, double fmax, int n_mels, int sample_rate,
                 bl_mel_norm norm, bl_mel_scale scale, double *fb) {
    double m_min = bl_mel_from_hz(fmin, scale), m_max = bl_mel_from_hz(fmax, scale);
    double *f_pts = malloc(sizeof(double) * (size_t)(n_mels + 2));
    if (!f_pts) return -1;
    for (int i = 0; i < n_mels + 2; i++)
        f_pts[i] = bl_mel_to_hz(linspace_at(m_min, m_max, n_mels + 2, i), scale);
    int empty = 0;
    for (int m = 0; m < n_mels; m++) {
        double down = f_pts[m + 1] - f_pts[m], up = f_pts[m + 2] - f_pts[m + 1];
        double enorm = norm == BL_MELNORM_SLANEY ? 2.0 / (f_pts[m + 2] - f_pts[m]) : 1.0;
        double peak = 0.0;
        for (int k = 0; k < n_freqs; k++) {
            double f = linspace_at(0.0, (double)(sample_rate / 2), n_freqs, k);
            double down_slope = -(f_pts[m] - f) / down; /* -1 * slopes[:, :-2] / f_diff[:-1] */
            double up_slope = (f_pts[m + 2] - f) / up;
            double v = down_slope < up_slope ? down_slope : up_slope;
            if (!(v > 0.0)) v = 0.0;
            v *= enorm;
            fb[(size_t)k * (size_t)n_mels + (size_t)m] = v;
            if (v > peak) peak = v;
        }
        if (peak == 0.0) empty++;
    }
    free(f_pts);
    return empty;
}
