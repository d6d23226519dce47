/* test_audio.c — the audio reader and block stream (io/audio.c) on real files that the test
 * writes with libsndfile into a fresh temporary folder: every accepted format (WAV 16/24/32-bit
 * integer and float, FLAC, OGG/Vorbis, MP3 when this libsndfile can write it), 1/2/5
 * channels, 8/16/44.1/48 kHz; sample values read back, info fields, seeking, start/duration
 * windows, block-size invariance with and without resampling, memory and custom byte
 * sources, and every error case (missing, directory, FIFO, empty, text, random bytes,
 * header only, corrupt header, truncated, unsupported container, failing byte source).
 */
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>   /* the test writes its own audio files */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>  /* mkfifo, chmod */
#include <unistd.h>    /* dup/dup2 to capture warnings, access */

#include "io/audio.h"
#include "testutil.h"

#define PI 3.14159265358979323846

static char g_dir[512];

/* Path in the test folder; a ring of buffers, so copy a path that must live long. */
static const char *tpath(const char *name) {
    static char p[8][1024];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

/* Test signal as full-scale int32 with the low 8 bits clear, so that 16-bit, 24-bit and
 * float files hold it exactly (a 24-bit value fits a float's mantissa). */
static int32_t sig(size_t i, int c, int rate) {
    double f = 300.0 * (c + 1) + 37.0 * c;
    double v = 0.6 * sin(2 * PI * f * (double)i / rate + 0.7 * c) + 0.05 * sin((double)i * 0.37 + c);
    return (int32_t)lrint(v * 2147483648.0) & ~0xFF;
}

/* The value a reader must return for sig() stored with `subtype` (lossless subtypes). */
static float expected(size_t i, int c, int rate, int subtype) {
    int32_t s = sig(i, c, rate);
    switch (subtype) {
    case SF_FORMAT_PCM_16: return (float)(int16_t)(s >> 16) / 32768.0f;
    case SF_FORMAT_PCM_24: return (float)(s >> 8) / 8388608.0f;
    default: return (float)((double)s / 2147483648.0);
    }
}

/* Write `frames` frames of sig() to `path`. Returns 0, or -1 when libsndfile cannot write
 * this format (reason printed). */
static int write_audio(const char *path, int format, int rate, int ch, size_t frames) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = ch;
    info.format = format;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        printf("cannot write %s (format 0x%x): %s\n", path, format, sf_strerror(NULL));
        return -1;
    }
    int sub = format & SF_FORMAT_SUBMASK;
    size_t n = frames * (size_t)ch;
    sf_count_t w;
    if (sub == SF_FORMAT_PCM_16) {
        short *b = malloc(n * sizeof *b);
        for (size_t i = 0; i < frames; i++)
            for (int c = 0; c < ch; c++) b[i * ch + c] = (short)(sig(i, c, rate) >> 16);
        w = sf_writef_short(f, b, (sf_count_t)frames);
        free(b);
    } else if (sub == SF_FORMAT_PCM_24 || sub == SF_FORMAT_PCM_32) {
        int *b = malloc(n * sizeof *b);
        for (size_t i = 0; i < frames; i++)
            for (int c = 0; c < ch; c++) b[i * ch + c] = sig(i, c, rate);
        w = sf_writef_int(f, b, (sf_count_t)frames);
        free(b);
    } else {
        float *b = malloc(n * sizeof *b);
        for (size_t i = 0; i < frames; i++)
            for (int c = 0; c < ch; c++) b[i * ch + c] = (float)((double)sig(i, c, rate) / 2147483648.0);
        w = sf_writef_float(f, b, (sf_count_t)frames);
        free(b);
    }
    sf_close(f);
    if (w != (sf_count_t)frames) {
        printf("short write to %s\n", path);
        return -1;
    }
    return 0;
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

static unsigned char *read_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

/* Read a whole file through bl_audio_read in `block` frame steps. Returns frames read,
 * or -1 on error; *out (interleaved) is malloc'ed. */
static long read_all(bl_audio_reader *r, size_t block, float **out) {
    int ch = bl_audio_get_info(r)->channels;
    size_t cap = 1024, n = 0;
    float *buf = malloc(cap * ch * sizeof *buf);
    for (;;) {
        if (n + block > cap) {
            while (n + block > cap) cap *= 2;
            buf = realloc(buf, cap * ch * sizeof *buf);
        }
        size_t got = 0;
        if (bl_audio_read(r, buf + n * ch, block, &got) != BL_OK) {
            free(buf);
            return -1;
        }
        if (got == 0) break;
        n += got;
    }
    *out = buf;
    return (long)n;
}

/* Run a stream to its end; returns frames per channel, planar concatenation in *out
 * (channel c at (*out) + c * frames), or -1 on error. Checks block sizes on the way. */
static long stream_all(const char *path, const bl_audio_stream_opts *o, float **out, int *ch_out) {
    bl_audio_stream *s = NULL;
    if (bl_audio_stream_open(path, o, &s) != BL_OK) {
        fprintf(stderr, "stream_open: %s\n", bl_error_message());
        return -1;
    }
    int ch = bl_audio_stream_channels(s);
    size_t stride = bl_audio_stream_stride(s);
    size_t block = o && o->block_frames ? o->block_frames : 65536;
    BL_CHECK(stride == block, "stride %zu, block %zu", stride, block);
    size_t cap = 4096, n = 0;
    float *il = malloc(cap * ch * sizeof *il); /* gathered per frame, channel-major later */
    int ended_short = 0;
    for (;;) {
        const float *p = NULL;
        size_t k = 0;
        if (bl_audio_stream_next(s, &p, &k) != BL_OK) {
            fprintf(stderr, "stream_next: %s\n", bl_error_message());
            free(il);
            bl_audio_stream_close(s);
            return -1;
        }
        if (k == 0) break;
        BL_CHECK(!ended_short, "a block of %zu frames after a short block", k);
        BL_CHECK(k <= block, "block of %zu frames > %zu", k, block);
        if (k < block) ended_short = 1;
        if (n + k > cap) {
            while (n + k > cap) cap *= 2;
            il = realloc(il, cap * ch * sizeof *il);
        }
        for (size_t i = 0; i < k; i++)
            for (int c = 0; c < ch; c++) il[(n + i) * ch + c] = p[c * stride + i];
        n += k;
    }
    float *pl = malloc((n ? n : 1) * ch * sizeof *pl);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < ch; c++) pl[c * n + i] = il[i * ch + c];
    free(il);
    bl_audio_stream_close(s);
    *out = pl;
    if (ch_out) *ch_out = ch;
    return (long)n;
}

/* Capture what the library logs to stderr while `fn` runs. */
typedef struct {
    int saved_fd;
    char path[1024];
} capture;

static void capture_begin(capture *c) {
    snprintf(c->path, sizeof c->path, "%s/stderr.txt", g_dir);
    fflush(stderr);
    c->saved_fd = dup(2);
    int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
}

static char *capture_end(capture *c) {
    fflush(stderr);
    dup2(c->saved_fd, 2);
    close(c->saved_fd);
    size_t n = 0;
    unsigned char *b = read_bytes(c->path, &n);
    b = realloc(b, n + 1);
    b[n] = '\0';
    fprintf(stderr, "%s", (char *)b); /* keep it visible in the test log */
    return (char *)b;
}

/* Elements outside |got - ref| <= atol; the details (bl_test_allclose) only on failure. */
static size_t mismatches(const char *what, const float *got, const float *ref, size_t n,
                         double atol) {
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - (double)ref[i]) <= atol))
            return bl_test_allclose(what, got, ref, n, atol, 0);
    return 0;
}

/* ---- formats ------------------------------------------------------------------------ */

static void check_lossless(const char *name, int format, int rate, int ch, size_t frames,
                           const char *fmt_name) {
    const char *p = tpath(name);
    if (write_audio(p, format, rate, ch, frames) != 0) {
        bl_test_failures++;
        return;
    }
    bl_audio_reader *r = NULL;
    bl_status st = bl_audio_open(p, &r);
    BL_CHECK(st == BL_OK, "%s: open failed: %s", name, bl_error_message());
    if (st != BL_OK) return;
    const bl_audio_info *in = bl_audio_get_info(r);
    BL_CHECK(in->sample_rate == rate && in->channels == ch && in->frames == (int64_t)frames,
             "%s: info %d Hz x%d, %lld frames; wrote %d Hz x%d, %zu", name, in->sample_rate,
             in->channels, (long long)in->frames, rate, ch, frames);
    BL_CHECK(strcmp(in->format, fmt_name) == 0, "%s: format \"%s\", expected \"%s\"", name,
             in->format, fmt_name);
    BL_CHECK(strcmp(bl_audio_path(r), p) == 0, "%s: path %s", name, bl_audio_path(r));
    float *got = NULL;
    long n = read_all(r, 1000, &got);
    BL_CHECK(n == (long)frames, "%s: read %ld frames of %zu (%s)", name, n, frames,
             n < 0 ? bl_error_message() : "");
    if (n == (long)frames) {
        int sub = format & SF_FORMAT_SUBMASK;
        double atol = sub == SF_FORMAT_PCM_32 ? 1e-7 : 0.0; /* int32 -> float rounds */
        float *ref = malloc(frames * ch * sizeof *ref);
        for (size_t i = 0; i < frames; i++)
            for (int c = 0; c < ch; c++) ref[i * ch + c] = expected(i, c, rate, sub);
        BL_CHECK(mismatches(name, got, ref, frames * ch, atol) == 0,
                 "%s: samples differ from what was written", name);
        /* seek into the middle, read a bit, compare */
        int64_t at = (int64_t)frames / 3;
        BL_CHECK(bl_audio_seek(r, at) == BL_OK, "%s: seek: %s", name, bl_error_message());
        size_t k = 0;
        float buf[64 * 5];
        BL_CHECK(bl_audio_read(r, buf, 64, &k) == BL_OK && k == 64, "%s: read after seek", name);
        BL_CHECK(mismatches("after seek", buf, ref + at * ch, 64 * ch, atol) == 0,
                 "%s: wrong samples after seeking to %lld", name, (long long)at);
        free(ref);
    }
    free(got);
    bl_audio_close(r);
}

/* Lossy codecs: frame count close to what was written, and the waveform close to it. */
static void check_lossy(const char *name, int format, int rate, int ch, size_t frames,
                        const char *fmt_name, double frame_tol, double max_rel_err) {
    const char *p = tpath(name);
    if (write_audio(p, format, rate, ch, frames) != 0) {
        bl_test_failures++;
        return;
    }
    bl_audio_reader *r = NULL;
    bl_status st = bl_audio_open(p, &r);
    BL_CHECK(st == BL_OK, "%s: open failed: %s", name, bl_error_message());
    if (st != BL_OK) return;
    const bl_audio_info *in = bl_audio_get_info(r);
    BL_CHECK(in->sample_rate == rate && in->channels == ch, "%s: info %d Hz x%d", name,
             in->sample_rate, in->channels);
    BL_CHECK(strcmp(in->format, fmt_name) == 0, "%s: format \"%s\", expected \"%s\"", name,
             in->format, fmt_name);
    float *got = NULL;
    long n = read_all(r, 777, &got);
    BL_CHECK(n > 0 && fabs((double)n - (double)frames) <= frame_tol, "%s: %ld frames decoded, "
             "%zu written", name, n, frames);
    if (n > 0) {
        double err = 0, sig2 = 0;
        size_t m = (size_t)n < frames ? (size_t)n : frames;
        for (size_t i = m / 10; i < m - m / 10; i++)
            for (int c = 0; c < ch; c++) {
                double ref = expected(i, c, rate, SF_FORMAT_FLOAT);
                err += (got[i * ch + c] - ref) * (got[i * ch + c] - ref);
                sig2 += ref * ref;
            }
        double rel = sqrt(err / sig2);
        printf("%s: %ld frames, relative rms error %.4f\n", name, n, rel);
        BL_CHECK(rel < max_rel_err, "%s: relative rms error %.4f >= %.2f", name, rel, max_rel_err);
        /* seeking is sample-exact: forwards, then backwards, the samples read through */
        const int64_t at[] = {(int64_t)n * 2 / 3, (int64_t)n / 5, 1, (int64_t)n - 100};
        float *buf = malloc(500 * ch * sizeof *buf);
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            size_t want = at[k] + 500 <= n ? 500 : (size_t)(n - at[k]), got_n = 0;
            bl_status st2 = bl_audio_seek(r, at[k]);
            if (st2 == BL_OK) st2 = bl_audio_read(r, buf, want, &got_n);
            BL_CHECK(st2 == BL_OK && got_n == want, "%s: seek to %lld and read: %s %s", name,
                     (long long)at[k], bl_errname(st2), bl_error_message());
            BL_CHECK(got_n == want && memcmp(buf, got + at[k] * ch, want * ch * sizeof *buf) == 0,
                     "%s: samples after seeking to %lld differ from reading through", name,
                     (long long)at[k]);
        }
        free(buf);
    }
    free(got);
    bl_audio_close(r);
}

static void test_formats(void) {
    check_lossless("pcm16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 8000, "WAV PCM_16");
    check_lossless("pcm24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 16000, 1, 8000, "WAV PCM_24");
    check_lossless("pcm32.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 16000, 2, 8000, "WAV PCM_32");
    check_lossless("float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, 9000, "WAV FLOAT");
    check_lossless("wavex.wav", SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 8000, 5, 3000, "WAVEX PCM_16");
    check_lossless("pcm16_5ch.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 5, 4410, "WAV PCM_16");
    check_lossless("pcm16_8k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, 4001, "WAV PCM_16");
    check_lossless("f16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, 10000, "FLAC PCM_16");
    check_lossless("f24.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 16000, 1, 10000, "FLAC PCM_24");
    check_lossless("f24_5ch.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 48000, 5, 4800, "FLAC PCM_24");
    check_lossless("a.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 8000, 1, 2000, "AIFF PCM_16");
    check_lossy("v.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 2, 22050, "OGG VORBIS", 0, 0.1);
    check_lossy("v1.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 1, 16000, "OGG VORBIS", 0, 0.1);

    /* MP3: Debian's libsndfile 1.2.0 decodes it through mpg123 and encodes with LAME.
     * Test it where writing works; the frame count may be off by encoder padding. */
    SF_INFO probe = {0, 44100, 2, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 0, 0};
    const char *mp3 = tpath("probe.mp3");
    SNDFILE *f = sf_format_check(&probe) ? sf_open(mp3, SFM_WRITE, &probe) : NULL;
    if (f) {
        sf_close(f);
        /* a stationary tone survives MP3 well; 15% rms error allows for the codec */
        check_lossy("m.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2, 44100,
                    "MPEG MPEG_LAYER_III", 1152 * 2, 0.15);
    } else {
        printf("skipping MP3: this libsndfile cannot write MP3 (%s)\n", sf_strerror(NULL));
    }
}

/* ---- streams ------------------------------------------------------------------------ */

static void test_stream_no_resample(void) {
    const int rate = 16000, ch = 2;
    const size_t frames = 20011;
    const char *p = tpath("stream.wav");
    if (write_audio(p, SF_FORMAT_WAV | SF_FORMAT_PCM_24, rate, ch, frames) != 0) {
        bl_test_failures++;
        return;
    }
    float *ref = malloc(frames * ch * sizeof *ref); /* planar */
    for (int c = 0; c < ch; c++)
        for (size_t i = 0; i < frames; i++) ref[c * frames + i] = expected(i, c, rate, SF_FORMAT_PCM_24);
    const size_t blocks[] = {1, 7, 1000, 4096, 0};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        bl_audio_stream_opts o = {0, 0, 0, blocks[b]};
        float *got = NULL;
        int gch = 0;
        long n = stream_all(p, &o, &got, &gch);
        BL_CHECK(n == (long)frames && gch == ch, "block %zu: %ld frames x%d", blocks[b], n, gch);
        if (n == (long)frames)
            BL_CHECK(memcmp(got, ref, frames * ch * sizeof *ref) == 0,
                     "block %zu: planar output differs from the file's samples", blocks[b]);
        free(got);
    }
    /* windows: start at floor(start*rate), duration round(duration*rate) */
    struct { double start, dur; long first, count; } w[] = {
        {0.1, 0.25, 1600, 4000},
        {0.10003, 0.00003, 1600, 0},  /* round(0.48) = 0 frames */
        {0.10009, 0.0001, 1601, 2},   /* floor(1601.44), round(1.6) */
        {0.10006, 0.0002, 1600, 3},   /* floor(1600.96), round(3.2) */
        {1.0, 5.0, 16000, 4011},      /* runs past the end: cut there */
        {20011.0 / 16000, 0, 20011, 0}, /* exactly at the end: empty */
        {0.5, 0, 8000, 12011},        /* no duration: to the end */
    };
    for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
        bl_audio_stream_opts o = {0, w[k].start, w[k].dur, 333};
        float *got = NULL;
        long n = stream_all(p, &o, &got, NULL);
        BL_CHECK(n == w[k].count, "window %.5f+%.5f s: %ld frames, expected %ld", w[k].start,
                 w[k].dur, n, w[k].count);
        if (n == w[k].count)
            for (int c = 0; c < ch; c++)
                BL_CHECK(memcmp(got + c * n, ref + c * frames + w[k].first, n * sizeof *got) == 0,
                         "window %.5f+%.5f s, channel %d: wrong samples", w[k].start, w[k].dur, c);
        free(got);
    }
    /* five channels: each planar row holds its own channel */
    const char *p5 = tpath("stream5.wav");
    if (write_audio(p5, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 5, 3001) == 0) {
        bl_audio_stream_opts o5 = {0, 0, 0, 999};
        float *got = NULL;
        int gch = 0;
        long n = stream_all(p5, &o5, &got, &gch);
        BL_CHECK(n == 3001 && gch == 5, "5 channels: %ld frames x%d", n, gch);
        size_t bad = 0;
        for (int c = 0; c < gch && n == 3001; c++)
            for (long i = 0; i < n; i++)
                bad += got[c * n + i] != expected((size_t)i, c, 8000, SF_FORMAT_PCM_16);
        BL_CHECK(bad == 0, "5 channels: %zu samples in the wrong place", bad);
        free(got);
        bl_audio_stream_opts r5 = {16000, 0, 0, 1000};
        n = stream_all(p5, &r5, &got, &gch);
        BL_CHECK(n == 6002 && gch == 5, "5 channels 8k -> 16k: %ld frames x%d", n, gch);
        free(got);
    }

    bl_audio_stream *s = NULL;
    bl_audio_stream_opts past = {0, 2.0, 0, 0};
    bl_status st = bl_audio_stream_open(p, &past, &s);
    BL_CHECK(st == BL_ERR_RANGE && !s && strstr(bl_error_message(), "past the end"),
             "start past the end: %s (%s)", bl_errname(st), bl_error_message());
    bl_audio_stream_opts neg = {0, -1.0, 0, 0};
    BL_CHECK(bl_audio_stream_open(p, &neg, &s) == BL_ERR_INVALID_ARG, "negative start accepted");
    bl_audio_stream_opts badrate = {-5, 0, 0, 0};
    BL_CHECK(bl_audio_stream_open(p, &badrate, &s) == BL_ERR_INVALID_ARG, "rate -5 accepted");
    BL_CHECK(bl_audio_stream_open(tpath("nope.wav"), NULL, &s) == BL_ERR_NOT_FOUND && !s,
             "missing file stream");
    free(ref);
}

/* Resampled stream: same samples whatever the block size, equal to one-shot resampling of
 * the whole input, right length, and windows cut in output frames. */
static void test_stream_resample(void) {
    const int rate = 44100, ch = 2, target = 16000;
    const size_t frames = 66150; /* 1.5 s */
    const char *p = tpath("stream44.wav");
    if (write_audio(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, rate, ch, frames) != 0) {
        bl_test_failures++;
        return;
    }
    /* reference: the whole file through one resampler call */
    float *in = malloc(frames * ch * sizeof *in);
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < ch; c++) in[i * ch + c] = expected(i, c, rate, SF_FORMAT_PCM_16);
    bl_resampler *rs = NULL;
    size_t cap = 30000, nref = 0;
    float *il = malloc(cap * ch * sizeof *il), *ref = malloc(cap * ch * sizeof *ref);
    BL_CHECK(bl_resampler_create(rate, target, ch, &rs) == BL_OK, "resampler");
    if (rs) {
        BL_CHECK(bl_resampler_process(rs, in, frames, 1, il, cap, &nref) == BL_OK, "process");
        bl_resampler_destroy(rs);
    }
    for (size_t i = 0; i < nref; i++)
        for (int c = 0; c < ch; c++) ref[c * nref + i] = il[i * ch + c];
    BL_CHECK(nref == 24000, "one-shot resampling: %zu frames, expected 24000", nref);

    const size_t blocks[] = {1, 100, 4096, 0};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        bl_audio_stream_opts o = {target, 0, 0, blocks[b]};
        float *got = NULL;
        long n = stream_all(p, &o, &got, NULL);
        BL_CHECK(n == (long)nref, "resampled, block %zu: %ld frames, expected %zu", blocks[b], n, nref);
        if (n == (long)nref)
            BL_CHECK(memcmp(got, ref, nref * ch * sizeof *ref) == 0,
                     "resampled, block %zu: output differs from one-shot resampling (must be "
                     "bit-identical)", blocks[b]);
        free(got);
    }
    /* window: input from floor(0.25*44100) = 11025; 0.5 s = 8000 output frames; the same
     * samples as resampling the input from 11025 on in one go */
    bl_audio_stream_opts o = {target, 0.25, 0.5, 3000};
    float *got = NULL;
    long n = stream_all(p, &o, &got, NULL);
    BL_CHECK(n == 8000, "resampled window: %ld frames, expected 8000", n);
    rs = NULL;
    size_t nw = 0;
    if (bl_resampler_create(rate, target, ch, &rs) == BL_OK) {
        bl_resampler_process(rs, in + 11025 * ch, frames - 11025, 1, il, cap, &nw);
        bl_resampler_destroy(rs);
    }
    if (n == 8000 && nw >= 8000)
        for (int c = 0; c < ch; c++) {
            size_t bad = 0;
            for (size_t i = 0; i < 8000; i++) bad += got[c * 8000 + i] != il[i * ch + c];
            BL_CHECK(bad == 0, "resampled window channel %d: %zu samples differ", c, bad);
        }
    free(got);
    /* window that runs past the end: what is left after 1.25 s = 0.25 s = 4000 frames */
    bl_audio_stream_opts tail = {target, 1.25, 10.0, 0};
    n = stream_all(p, &tail, &got, NULL);
    BL_CHECK(labs(n - 4000) <= 1, "resampled tail window: %ld frames, expected 4000 (+-1)", n);
    free(got);
    /* upsampling a 8 kHz file to 16 kHz */
    const char *p8 = tpath("up8k.flac");
    if (write_audio(p8, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 8000, 1, 8000) == 0) {
        bl_audio_stream_opts up = {16000, 0, 0, 1024};
        n = stream_all(p8, &up, &got, NULL);
        BL_CHECK(n == 16000, "8k -> 16k: %ld frames, expected 16000", n);
        free(got);
    }
    free(in);
    free(il);
    free(ref);
}

/* ---- memory and custom sources ------------------------------------------------------ */

typedef struct {
    const unsigned char *data;
    int64_t fail_at; /* reads that reach this byte offset fail */
    int closed;
} test_source;

static bl_status ts_read_at(void *user, int64_t off, void *buf, size_t n, size_t *got) {
    test_source *t = user;
    if (off + (int64_t)n > t->fail_at)
        return BL_ERROR(BL_ERR_NETWORK, "test source: connection reset at byte %lld",
                        (long long)t->fail_at);
    memcpy(buf, t->data + off, n);
    *got = n;
    return BL_OK;
}

static void ts_close(void *user) { ((test_source *)user)->closed++; }

static void test_memory_and_sources(void) {
    const char *p = tpath("mem.flac");
    if (write_audio(p, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 2, 30000) != 0) {
        bl_test_failures++;
        return;
    }
    size_t size = 0;
    unsigned char *bytes = read_bytes(p, &size);
    bl_audio_reader *a = NULL, *b = NULL;
    BL_CHECK(bl_audio_open(p, &a) == BL_OK, "file open: %s", bl_error_message());
    BL_CHECK(bl_audio_open_memory(bytes, size, "mem.flac", &b) == BL_OK, "memory open: %s",
             bl_error_message());
    if (a && b) {
        float *fa = NULL, *fb = NULL;
        long na = read_all(a, 4096, &fa), nb = read_all(b, 999, &fb);
        BL_CHECK(na == 30000 && nb == na && memcmp(fa, fb, (size_t)na * 2 * sizeof *fa) == 0,
                 "memory reader differs from file reader (%ld vs %ld frames)", nb, na);
        free(fa);
        free(fb);
        BL_CHECK(strcmp(bl_audio_path(b), "mem.flac") == 0, "memory name %s", bl_audio_path(b));
    }
    bl_audio_close(a);
    bl_audio_close(b);

    /* a stream over a memory reader */
    bl_audio_stream *s = NULL;
    BL_CHECK(bl_audio_open_memory(bytes, size, "mem", &b) == BL_OK, "memory open");
    bl_audio_stream_opts o = {8000, 0, 1.0, 0};
    BL_CHECK(bl_audio_stream_open_reader(b, &o, &s) == BL_OK, "stream over memory: %s",
             bl_error_message());
    if (s) {
        const float *pl;
        size_t n = 0, tot = 0;
        while (bl_audio_stream_next(s, &pl, &n) == BL_OK && n) tot += n;
        BL_CHECK(tot == 8000, "stream over memory: %zu frames, expected 8000", tot);
        bl_audio_stream_close(s);
    }
    BL_CHECK(bl_audio_open_memory(bytes, 0, "zero", &b) == BL_ERR_DECODE && !b, "0-byte memory");

    /* a byte source that fails: at open (header) and in the middle of the data */
    test_source ts = {bytes, 10, 0};
    bl_audio_source src = {(int64_t)size, ts_read_at, ts_close, &ts};
    bl_status st = bl_audio_open_source(&src, "remote.flac", &b);
    BL_CHECK(st == BL_ERR_NETWORK && !b && ts.closed == 1 &&
             strstr(bl_error_message(), "connection reset"),
             "failing source at open: %s (%s), closed %d", bl_errname(st), bl_error_message(), ts.closed);
    ts.fail_at = (int64_t)size / 2;
    ts.closed = 0;
    st = bl_audio_open_source(&src, "remote.flac", &b);
    BL_CHECK(st == BL_OK, "source open: %s", bl_error_message());
    if (st == BL_OK) {
        float *fa = NULL;
        long n = read_all(b, 1000, &fa);
        BL_CHECK(n == -1 && strstr(bl_error_message(), "connection reset"),
                 "failing source mid-file: %ld frames, message %s", n, bl_error_message());
        bl_audio_close(b);
        BL_CHECK(ts.closed == 1, "source closed %d times", ts.closed);
    }
    free(bytes);
}

/* ---- errors ------------------------------------------------------------------------- */

static void expect_open_error(const char *what, const char *path, bl_status want,
                              const char *needle) {
    bl_audio_reader *r = (bl_audio_reader *)&r; /* must be reset to NULL */
    bl_status st = bl_audio_open(path, &r);
    const char *msg = bl_error_message();
    printf("%-14s -> %s: %s\n", what, bl_errname(st), msg);
    BL_CHECK(st == want, "%s: %s, expected %s (%s)", what, bl_errname(st), bl_errname(want), msg);
    BL_CHECK(r == NULL, "%s: reader not NULL on failure", what);
    BL_CHECK(strstr(msg, path) != NULL, "%s: message does not name the file: %s", what, msg);
    BL_CHECK(strstr(msg, needle) != NULL, "%s: message lacks \"%s\": %s", what, needle, msg);
    if (st == BL_OK) bl_audio_close(r);
}

static void test_errors(void) {
    expect_open_error("missing", tpath("missing.wav"), BL_ERR_NOT_FOUND, "no such file");
    expect_open_error("missing dir", tpath("nodir/x.wav"), BL_ERR_NOT_FOUND, "no such file");
    expect_open_error("directory", g_dir, BL_ERR_IO, "directory");
    write_bytes(tpath("empty.wav"), "", 0);
    expect_open_error("empty", tpath("empty.wav"), BL_ERR_DECODE, "empty");
    const char *text = "station,start\nMARS,2018-11-01\n";
    write_bytes(tpath("text.wav"), text, strlen(text));
    expect_open_error("text", tpath("text.wav"), BL_ERR_DECODE, "not a recognised audio file");
    unsigned char rnd[3000];
    uint32_t x = 7;
    for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16);
    rnd[0] = 'Q';
    write_bytes(tpath("random.bin"), rnd, sizeof rnd);
    expect_open_error("random", tpath("random.bin"), BL_ERR_DECODE, "not a recognised audio file");
    /* random bytes behind a valid magic reach libsndfile, which must refuse them */
    memcpy(rnd, "RIFF", 4);
    write_bytes(tpath("riffrandom.wav"), rnd, sizeof rnd);
    expect_open_error("RIFF+random", tpath("riffrandom.wav"), BL_ERR_DECODE, "libsndfile");
    memcpy(rnd, "fLaC", 4);
    write_bytes(tpath("flacrandom.flac"), rnd, sizeof rnd);
    expect_open_error("fLaC+random", tpath("flacrandom.flac"), BL_ERR_DECODE, "libsndfile");

    /* header only: a valid WAV with zero frames */
    const char *ho = tpath("header_only.wav");
    write_audio(ho, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 0);
    expect_open_error("header only", ho, BL_ERR_DECODE, "no audio frames");
    /* corrupt header: 0 channels in the fmt chunk */
    char good[1024];
    snprintf(good, sizeof good, "%s", tpath("good.wav"));
    write_audio(good, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 1000);
    size_t n = 0;
    unsigned char *b = read_bytes(good, &n);
    b[22] = 0, b[23] = 0; /* fmt chunk: channel count */
    write_bytes(tpath("zero_ch.wav"), b, n);
    expect_open_error("0 channels", tpath("zero_ch.wav"), BL_ERR_DECODE, "zero_ch.wav");
    /* cut in the middle of the header */
    write_bytes(tpath("cut_header.wav"), b, 30);
    expect_open_error("cut header", tpath("cut_header.wav"), BL_ERR_DECODE, "libsndfile");
    free(b);
    /* a container libsndfile reads but baleen does not accept */
    const char *au = tpath("x.au");
    write_audio(au, SF_FORMAT_AU | SF_FORMAT_PCM_16, 8000, 1, 100);
    expect_open_error("AU", au, BL_ERR_DECODE, "not a recognised audio file");
    const char *svx = tpath("x.iff");
    if (write_audio(svx, SF_FORMAT_SVX | SF_FORMAT_PCM_16, 8000, 1, 100) == 0)
        expect_open_error("IFF/8SVX", svx, BL_ERR_DECODE, "unsupported audio container");

    /* FIFO: refused at once, not a hang waiting for a writer */
    const char *fifo = tpath("fifo.wav");
    if (mkfifo(fifo, 0600) == 0)
        expect_open_error("FIFO", fifo, BL_ERR_IO, "not a regular file");
    /* unreadable: only meaningful when not running as root */
    const char *locked = tpath("locked.wav");
    write_audio(locked, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 100);
    chmod(locked, 0);
    if (access(locked, R_OK) != 0)
        expect_open_error("unreadable", locked, BL_ERR_IO, "permission denied");
    else
        printf("skipping the unreadable-file case: running with permission to read anything\n");
    chmod(locked, 0644);

    /* seeking out of range */
    bl_audio_reader *r = NULL;
    if (bl_audio_open(good, &r) == BL_OK) {
        BL_CHECK(bl_audio_seek(r, 1001) == BL_ERR_RANGE, "seek past the end accepted");
        BL_CHECK(bl_audio_seek(r, -1) == BL_ERR_RANGE, "seek to -1 accepted");
        size_t got = 1;
        float buf[4];
        bl_status s1 = bl_audio_seek(r, 1000), s2 = bl_audio_read(r, buf, 4, &got);
        BL_CHECK(s1 == BL_OK && s2 == BL_OK && got == 0, "seek to the end then read: %s, %s, "
                 "%zu frames (%s)", bl_errname(s1), bl_errname(s2), got, bl_error_message());
        bl_audio_close(r);
    }
}

/* Truncated files decode what is there and say why they ended (bl_audio_truncation); what
 * that means for a run is input.truncated's business (the pipeline). */
static void test_truncated(void) {
    struct { const char *name; int format; size_t frames, keep_num, keep_den; } t[] = {
        {"trunc.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 32000, 1, 2},
        {"trunc24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 32000, 1, 3},
        {"trunc.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 32000, 1, 2},
        /* Vorbis decodes whole Ogg pages (here ~4 KB, tens of thousands of frames each)
         * after ~3.5 KB of headers: cut late enough to keep at least one audio page */
        {"trunc.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 96000, 9, 10},
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        const char *full = tpath("full.tmp");
        const size_t frames = t[k].frames;
        if (write_audio(full, t[k].format, 16000, 1, frames) != 0) {
            bl_test_failures++;
            continue;
        }
        size_t n = 0;
        unsigned char *b = read_bytes(full, &n);
        const char *p = tpath(t[k].name);
        write_bytes(p, b, n * t[k].keep_num / t[k].keep_den);
        free(b);
        bl_audio_reader *r = NULL;
        bl_status st = bl_audio_open(p, &r);
        BL_CHECK(st == BL_OK, "%s: open failed: %s %s", t[k].name, bl_errname(st),
                 bl_error_message());
        if (st != BL_OK) continue;
        capture cap;
        capture_begin(&cap);
        float *got = NULL;
        long m = read_all(r, 1000, &got);
        char *log = capture_end(&cap);
        BL_CHECK(m > 1000 && m < (long)frames, "%s: %ld frames from a truncated file of %zu",
                 t[k].name, m, frames);
        const char *why = bl_audio_truncation(r);
        BL_CHECK(why && strstr(why, "truncated"), "%s: the truncation is not reported (%s); stderr was: %s",
                 t[k].name, why ? why : "NULL", log);
        int lossless = (t[k].format & SF_FORMAT_SUBMASK) != SF_FORMAT_VORBIS;
        if (m > 0 && lossless) {
            size_t bad = 0;
            int sub = t[k].format & SF_FORMAT_SUBMASK;
            for (long i = 0; i < m; i++) bad += got[i] != expected((size_t)i, 0, 16000, sub);
            BL_CHECK(bad == 0, "%s: %zu of the %ld decoded samples are wrong", t[k].name, bad, m);
        }
        printf("%s: decoded %ld of %zu frames\n", t[k].name, m, frames);
        free(got);
        free(log);
        bl_audio_close(r);
    }
}

/* NaN and Inf samples of float and double files come out as 0, counted per channel with the
 * first positions; a complete file reports no truncation. */
static void test_nonfinite(void) {
    const int subs[2] = {SF_FORMAT_FLOAT, SF_FORMAT_DOUBLE};
    for (int k = 0; k < 2; k++) {
        const char *p = tpath(k ? "nf64.wav" : "nf32.wav");
        SF_INFO info;
        memset(&info, 0, sizeof info);
        info.samplerate = 8000;
        info.channels = 2;
        info.format = SF_FORMAT_WAV | subs[k];
        SNDFILE *f = sf_open(p, SFM_WRITE, &info);
        BL_CHECK(f != NULL, "write %s", p);
        if (!f) continue;
        enum { N = 30000 };
        static double x[N * 2];
        for (size_t i = 0; i < N; i++) x[2 * i] = x[2 * i + 1] = 0.25 * sin(0.01 * (double)i);
        /* channel 0: NaN at 5, 6; +Inf at 20000; channel 1: 12 x -Inf from 100 */
        x[2 * 5] = x[2 * 6] = NAN;
        x[2 * 20000] = INFINITY;
        for (int i = 0; i < 12; i++) x[2 * (100 + i) + 1] = -INFINITY;
        sf_writef_double(f, x, N);
        sf_close(f);
        bl_audio_reader *r = NULL;
        BL_CHECK(bl_audio_open(p, &r) == BL_OK, "%s", bl_error_message());
        if (!r) continue;
        float *got = NULL;
        long m = read_all(r, 777, &got);
        BL_CHECK(m == N, "%ld frames", m);
        size_t nonfinite = 0, zeros_where = 0;
        for (long i = 0; i < m * 2; i++) nonfinite += !isfinite(got[i]);
        zeros_where = (got[10] == 0) + (got[12] == 0) + (got[40000] == 0) + (got[2 * 105 + 1] == 0);
        BL_CHECK(nonfinite == 0 && zeros_where == 4, "%zu non-finite values came out; %zu of 4 zeroed", nonfinite,
                 zeros_where);
        const bl_audio_nonfinite *c0 = bl_audio_get_nonfinite(r, 0), *c1 = bl_audio_get_nonfinite(r, 1);
        BL_CHECK(c0->count == 3 && c0->n_pos == 3 && c0->pos[0] == 5 && c0->pos[1] == 6 && c0->pos[2] == 20000,
                 "channel 0: %lld at %lld %lld %lld", (long long)c0->count, (long long)c0->pos[0],
                 (long long)c0->pos[1], (long long)c0->pos[2]);
        BL_CHECK(c1->count == 12 && c1->n_pos == BL_AUDIO_NONFINITE_POS && c1->pos[0] == 100 && c1->pos[9] == 109,
                 "channel 1: %lld, %d positions", (long long)c1->count, c1->n_pos);
        BL_CHECK(bl_audio_truncation(r) == NULL, "a complete file reported as truncated: %s", bl_audio_truncation(r));
        free(got);
        bl_audio_close(r);
    }
}

int main(void) {
    const char *d = bl_test_tmpdir("audio");
    BL_REQUIRE(d != NULL, "cannot make a temporary folder");
    snprintf(g_dir, sizeof g_dir, "%s", d);
    test_formats();
    test_stream_no_resample();
    test_stream_resample();
    test_memory_and_sources();
    test_errors();
    test_truncated();
    test_nonfinite();
    if (bl_test_failures == 0) {
        char cmd[1100];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        bl_test_run(cmd);
    }
    return bl_test_finish("test_audio");
}
