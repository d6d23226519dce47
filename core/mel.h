/* mel.h — private to the front end: the mel filterbank of torchaudio.functional.melscale_fbanks
 * (torchaudio 0.13) and the hz<->mel conversions it uses, computed in double.
 * Threading: pure functions.
 */
#ifndef BL_MEL_H
#define BL_MEL_H

#include "frontend.h" /* bl_mel_scale, bl_mel_norm */

double bl_mel_from_hz(double hz, bl_mel_scale scale);
double bl_mel_to_hz(double mel, bl_mel_scale scale);

/* Fill fb[n_freqs * n_mels] (row-major [freq][mel]) exactly as melscale_fbanks(n_freqs,
 * fmin, fmax, n_mels, sample_rate, norm, scale) does in float64. Returns the number of mel
 * bands whose weights are all zero (torchaudio warns about them; so do we), or -1 when out
 * of memory. */
int bl_mel_fbank(int n_freqs, double fmin, double fmax, int n_mels, int sample_rate,
                 bl_mel_norm norm, bl_mel_scale scale, double *fb);

#endif /* BL_MEL_H */
