/* mkaudio.c — audio files the hostile tests need and `baleen synth` does not write: GSM 6.10
 * WAV (libsndfile cannot seek in it), MP3, Ogg Vorbis, and float WAV with NaN/Inf samples at
 * chosen frames. A test tool (tests/hostile/hostile.sh), never part of baleen.
 *
 * usage: bl_mkaudio gsm|mp3|ogg|float OUT SECONDS RATE [FRAME=VALUE...]
 *   VALUE is nan, inf, -inf or a number; only for float.
 * The signal is a 440 Hz tone at -10 dBFS with a little deterministic noise.
 */
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: bl_mkaudio gsm|mp3|ogg|float OUT SECONDS RATE [FRAME=VALUE...]\n");
        return 1;
    }
    const char *kind = argv[1], *out = argv[2];
    double seconds = atof(argv[3]);
    int rate = atoi(argv[4]);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = 1;
    if (!strcmp(kind, "gsm")) info.format = SF_FORMAT_WAV | SF_FORMAT_GSM610;
    else if (!strcmp(kind, "mp3")) info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    else if (!strcmp(kind, "ogg")) info.format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    else if (!strcmp(kind, "float")) info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    else {
        fprintf(stderr, "bl_mkaudio: unknown kind %s\n", kind);
        return 1;
    }
    size_t n = (size_t)(seconds * rate);
    float *x = malloc((n ? n : 1) * sizeof *x);
    if (!x) return 1;
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = 0.316f * sinf(2.0f * 3.14159265f * 440.0f * (float)i / (float)rate) +
               0.01f * ((float)((s >> 8) & 0xffff) / 32768.0f - 1.0f);
    }
    for (int a = 5; a < argc; a++) {
        long long f;
        char v[32];
        if (sscanf(argv[a], "%lld=%31s", &f, v) != 2 || f < 0 || (size_t)f >= n) {
            fprintf(stderr, "bl_mkaudio: bad FRAME=VALUE %s\n", argv[a]);
            return 1;
        }
        x[f] = !strcmp(v, "nan") ? NAN : !strcmp(v, "inf") ? INFINITY : !strcmp(v, "-inf") ? -INFINITY : (float)atof(v);
    }
    SNDFILE *f = sf_open(out, SFM_WRITE, &info);
    if (!f) {
        fprintf(stderr, "bl_mkaudio: %s: %s\n", out, sf_strerror(NULL));
        return 1;
    }
    if (!strcmp(kind, "float")) sf_command(f, SFC_SET_CLIPPING, NULL, SF_FALSE);
    sf_count_t w = sf_writef_float(f, x, (sf_count_t)n);
    sf_close(f);
    free(x);
    return w == (sf_count_t)n ? 0 : 1;
}
