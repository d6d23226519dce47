/* test_audio_pcm.c — the reader's raw PCM path and the stream's read-into-buffer API
 * (io/audio.c), against libsndfile itself:
 *   - bl_audio_read of little-endian 16/24/32-bit WAV (the path that reads with sf_read_raw
 *     and converts in audio.c) gives the same float bits as sf_readf_float, for every 16-bit
 *     and every 24-bit value, and for 32-bit edge and random values;
 *   - bl_audio_pcm_to_float in place and out of place, at every length 0..40 (vector
 *     bodies and scalar tails);
 *   - WAVEX, W64, RF64 and big-endian RIFX files with 3 channels read in odd step sizes,
 *     and a file cut in the middle of a frame, read exactly as libsndfile reads them;
 *   - bl_audio_stream_read with odd sizes and strides yields bl_audio_stream_next's
 *     samples, and bl_audio_stream_expected_frames is the true length (with and without
 *     resampling, with a window) or -1 for a truncated file.
 */
#include <sndfile.h> /* reference decoding and writing test files */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* truncate */

#include "io/audio.h"
#include "testutil.h"

static char g_dir[512];

/* BL_REQUIRE for void functions: record the failure and leave the test function. */
#define NEED(cond, what)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            BL_CHECK(cond, "%s", what);                                                 \
            return;                                                                     \
        }                                                                               \
    } while (0)

static const char *tpath(const char *name) {
    static char p[4][1024];
    static int k = 0;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 11);
}

/* Write `bytes` of raw sample data as a file of `format`; 0 on success. */
static int write_raw(const char *path, int format, int ch, const void *data, size_t bytes) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = 16000;
    info.channels = ch;
    info.format = format;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        printf("cannot write %s (format 0x%x): %s\n", path, format, sf_strerror(NULL));
        return -1;
    }
    sf_count_t w = sf_write_raw(f, data, (sf_count_t)bytes);
    sf_close(f);
    return w == (sf_count_t)bytes ? 0 : -1;
}

/* Compare bl_audio_read (steps of `step` frames) with sf_readf_float over the whole file,
 * bit for bit, in pieces of at most `piece` frames. Returns the frames compared, -1 on
 * a mismatch or error. */
static long compare_file(const char *path, size_t step, size_t piece, const char *what) {
    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *sf = sf_open(path, SFM_READ, &si);
    bl_audio_reader *r = NULL;
    bl_status s = bl_audio_open(path, &r);
    if (!sf || s != BL_OK) {
        printf("%s: cannot open: %s\n", what, s != BL_OK ? bl_error_message() : sf_strerror(NULL));
        if (sf) sf_close(sf);
        bl_audio_close(r);
        return -1;
    }
    size_t ch = (size_t)si.channels;
    float *ref = malloc(piece * ch * sizeof(float)), *got = malloc(piece * ch * sizeof(float));
    long total = 0, bad = 0;
    for (;;) {
        sf_count_t nr = sf_readf_float(sf, ref, (sf_count_t)piece);
        size_t ng = 0;
        while (ng < piece) {
            size_t want = piece - ng < step ? piece - ng : step, k = 0;
            s = bl_audio_read(r, got + ng * ch, want, &k);
            if (s != BL_OK || k == 0) break;
            ng += k;
        }
        if (s != BL_OK || (size_t)(nr > 0 ? nr : 0) != ng) {
            printf("%s: libsndfile gave %lld frames, bl_audio_read %zu at frame %ld (%s)\n", what,
                   (long long)nr, ng, total, s != BL_OK ? bl_error_message() : "ok");
            bad = 1;
            break;
        }
        if (ng == 0) break;
        if (memcmp(ref, got, ng * ch * sizeof(float)) != 0) {
            for (size_t i = 0; i < ng * ch; i++)
                if (memcmp(&ref[i], &got[i], sizeof(float)) != 0) {
                    printf("%s: sample %ld: libsndfile %.9g, bl_audio_read %.9g\n", what,
                           total * (long)ch + (long)i, ref[i], got[i]);
                    break;
                }
            bad = 1;
            break;
        }
        total += (long)ng;
    }
    free(ref);
    free(got);
    sf_close(sf);
    bl_audio_close(r);
    return bad ? -1 : total;
}

/* Every 16-bit and 24-bit value, edge and random 32-bit values, mono WAV. */
static void test_all_values(void) {
    size_t n16 = 65536, n24 = (size_t)1 << 24, n32 = 300000;
    unsigned char *b = malloc(n24 * 3);
    for (size_t v = 0; v < n16; v++) b[2 * v] = (unsigned char)v, b[2 * v + 1] = (unsigned char)(v >> 8);
    NEED(write_raw(tpath("all16.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, b, n16 * 2) == 0, "write");
    BL_CHECK(compare_file(tpath("all16.wav"), 65536, 65536, "all 16-bit values") == (long)n16,
             "16-bit values differ from libsndfile");
    for (size_t v = 0; v < n24; v++) {
        b[3 * v] = (unsigned char)v;
        b[3 * v + 1] = (unsigned char)(v >> 8);
        b[3 * v + 2] = (unsigned char)(v >> 16);
    }
    if (write_raw(tpath("all24.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1, b, n24 * 3) == 0) {
        BL_CHECK(compare_file(tpath("all24.wav"), (size_t)1 << 20, (size_t)1 << 20,
                              "all 24-bit values") == (long)n24,
                 "24-bit values differ from libsndfile");
        /* odd steps: the raw reads start at every alignment */
        BL_CHECK(compare_file(tpath("all24.wav"), 4097, (size_t)1 << 20, "24-bit, steps of 4097") ==
                     (long)n24, "24-bit values in odd steps differ");
    } else {
        BL_CHECK(0, "cannot write the 24-bit file");
    }
    unlink(tpath("all24.wav"));
    uint32_t *w = (uint32_t *)b;
    static const uint32_t edge[] = {0, 1, 0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 0x80000001u,
                                    0x00FFFFFFu, 0x01000001u, 0x01000003u, 0xFEFFFFFFu,
                                    0x7FFFFFC0u, 0x7FFFFFBFu, 0x40000041u, 0xC0000040u};
    for (size_t i = 0; i < n32; i++) {
        uint32_t u = i < sizeof edge / sizeof edge[0] ? edge[i] : rnd() ^ (rnd() << 21);
        /* little-endian bytes whatever the host */
        unsigned char *p = (unsigned char *)&w[i];
        p[0] = (unsigned char)u, p[1] = (unsigned char)(u >> 8), p[2] = (unsigned char)(u >> 16),
        p[3] = (unsigned char)(u >> 24);
    }
    if (write_raw(tpath("r32.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_32, 1, b, n32 * 4) == 0)
        BL_CHECK(compare_file(tpath("r32.wav"), 1000, 65536, "32-bit values") == (long)n32,
                 "32-bit values differ from libsndfile");
    else
        BL_CHECK(0, "cannot write the 32-bit file");
    free(b);
}

/* bl_audio_pcm_to_float at every short length, in place and from a separate buffer,
 * against the scalar formula. */
static void test_convert_lengths(void) {
    for (int width = 2; width <= 4; width++)
        for (size_t n = 0; n <= 40; n++) {
            unsigned char src[160];
            float ref[40], sep[40], inpl[40];
            for (size_t i = 0; i < n * (size_t)width; i++) src[i] = (unsigned char)rnd();
            for (size_t i = 0; i < n; i++) {
                const unsigned char *p = src + i * (size_t)width;
                if (width == 2)
                    ref[i] = (float)(int16_t)(uint16_t)(p[0] | p[1] << 8) / 32768.0f;
                else if (width == 3)
                    ref[i] = (float)(int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 |
                                              (uint32_t)p[2] << 24) / 2147483648.0f;
                else
                    ref[i] = (float)(int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                                              (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24) /
                             2147483648.0f;
            }
            bl_audio_pcm_to_float(sep, src, n, width);
            memcpy((unsigned char *)inpl + n * (size_t)(4 - width), src, n * (size_t)width);
            bl_audio_pcm_to_float(inpl, (unsigned char *)inpl + n * (size_t)(4 - width), n, width);
            BL_CHECK(memcmp(ref, sep, n * sizeof(float)) == 0, "width %d, n %zu, separate", width, n);
            BL_CHECK(memcmp(ref, inpl, n * sizeof(float)) == 0, "width %d, n %zu, in place", width, n);
        }
}

/* Other RIFF-family containers, several channels, odd steps; big-endian RIFX; a cut file. */
static void test_containers(void) {
    static const struct {
        const char *name;
        int format;
    } cases[] = {
        {"x16.wav", SF_FORMAT_WAVEX | SF_FORMAT_PCM_16},
        {"x24.wav", SF_FORMAT_WAVEX | SF_FORMAT_PCM_24},
        {"w24.w64", SF_FORMAT_W64 | SF_FORMAT_PCM_24},
        {"r24.rf64", SF_FORMAT_RF64 | SF_FORMAT_PCM_24},
        {"w32.w64", SF_FORMAT_W64 | SF_FORMAT_PCM_32},
        {"be24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24 | SF_ENDIAN_BIG},
        {"be16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16 | SF_ENDIAN_BIG},
    };
    size_t frames = 12347, ch = 3;
    unsigned char *b = malloc(frames * ch * 4);
    for (size_t i = 0; i < frames * ch * 4; i++) b[i] = (unsigned char)rnd();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int sub = cases[k].format & SF_FORMAT_SUBMASK;
        size_t width = sub == SF_FORMAT_PCM_16 ? 2 : sub == SF_FORMAT_PCM_24 ? 3 : 4;
        const char *p = tpath(cases[k].name);
        if (write_raw(p, cases[k].format, (int)ch, b, frames * ch * width) != 0) {
            printf("skipping %s: this libsndfile cannot write it\n", cases[k].name);
            continue;
        }
        BL_CHECK(compare_file(p, 1, 4096, cases[k].name) == (long)frames, "%s, steps of 1",
                 cases[k].name);
        BL_CHECK(compare_file(p, 333, 4096, cases[k].name) == (long)frames, "%s, steps of 333",
                 cases[k].name);
        BL_CHECK(compare_file(p, 100000, 100000, cases[k].name) == (long)frames,
                 "%s, one read", cases[k].name);
    }
    /* Cut in the middle of frame 5000: libsndfile clamps the frame count to the 5000 whole
     * frames (logging the short data chunk); the raw path must end at the same frame. */
    const char *p = tpath("cut24.wav");
    if (write_raw(p, SF_FORMAT_WAV | SF_FORMAT_PCM_24, (int)ch, b, frames * ch * 3) == 0) {
        NEED(truncate(p, 44 + 5000 * 9 + 4) == 0, "truncate");
        long n = compare_file(p, 777, 4096, "cut 24-bit file");
        BL_CHECK(n == 5000, "cut file: %ld frames compared, expected 5000", n);
    }
    free(b);
}

/* Concatenate a stream through bl_audio_stream_next. */
static size_t stream_all_next(const char *path, const bl_audio_stream_opts *o, float **out,
                              int *ch_out) {
    bl_audio_stream *s = NULL;
    if (bl_audio_stream_open(path, o, &s) != BL_OK) return (size_t)-1;
    int ch = bl_audio_stream_channels(s);
    size_t cap = 1 << 16, n = 0;
    float *all = malloc(cap * (size_t)ch * sizeof(float));
    for (;;) {
        const float *pl;
        size_t k;
        if (bl_audio_stream_next(s, &pl, &k) != BL_OK) {
            n = (size_t)-1;
            break;
        }
        if (k == 0) break;
        while (n + k > cap) {
            cap *= 2;
            all = realloc(all, cap * (size_t)ch * sizeof(float));
        }
        for (int c = 0; c < ch; c++)
            for (size_t i = 0; i < k; i++)
                all[(n + i) * (size_t)ch + (size_t)c] = pl[(size_t)c * bl_audio_stream_stride(s) + i];
        n += k;
    }
    bl_audio_stream_close(s);
    *out = all;
    *ch_out = ch;
    return n;
}

/* bl_audio_stream_read in sizes cycling through `sizes`, stride `extra` beyond the size;
 * compared with `ref` (interleaved, n frames). Also checks expected_frames == n. */
static void check_stream_read(const char *path, const bl_audio_stream_opts *o, const float *ref,
                              size_t n, int expect_known, const char *what) {
    static const size_t sizes[] = {1, 4096, 7, 65536, 1000, 3};
    bl_audio_stream *s = NULL;
    BL_CHECK(bl_audio_stream_open(path, o, &s) == BL_OK, "%s: open: %s", what, bl_error_message());
    if (!s) return;
    int64_t e = bl_audio_stream_expected_frames(s);
    if (expect_known)
        BL_CHECK(e == (int64_t)n, "%s: expected_frames %lld, the stream has %zu", what,
                 (long long)e, n);
    else
        BL_CHECK(e == -1, "%s: expected_frames %lld for a file of unknown length", what,
                 (long long)e);
    size_t ch = (size_t)bl_audio_stream_channels(s), done = 0, k = 0, bad = 0;
    float *buf = malloc((65536 + 5) * ch * sizeof(float));
    for (int it = 0;; it++) {
        size_t want = sizes[it % 6], stride = want + 5;
        if (bl_audio_stream_read(s, buf, stride, want, &k) != BL_OK) {
            BL_CHECK(0, "%s: read: %s", what, bl_error_message());
            break;
        }
        if (k == 0) break;
        if (k < want && done + k != n) BL_CHECK(0, "%s: short read of %zu before the end", what, k);
        for (size_t c = 0; c < ch && !bad; c++)
            for (size_t i = 0; i < k && !bad; i++)
                if (done + i >= n ||
                    memcmp(&buf[c * stride + i], &ref[(done + i) * ch + c], sizeof(float)) != 0)
                    bad = 1;
        done += k;
    }
    BL_CHECK(!bad && done == n, "%s: read gives %zu frames (next: %zu), %s", what, done, n,
             bad ? "different samples" : "same samples");
    free(buf);
    bl_audio_stream_close(s);
}

static void test_stream_read(void) {
    size_t frames = 150001;
    unsigned char *b = malloc(frames * 2 * 3);
    /* a smooth-ish signal so the resampler sees audio, not just noise */
    for (size_t i = 0; i < frames * 2; i++) {
        int32_t v = (int32_t)((i * 7919u) % 200000u) * 40 - 4000000;
        b[3 * i] = (unsigned char)v, b[3 * i + 1] = (unsigned char)(v >> 8),
        b[3 * i + 2] = (unsigned char)(v >> 16);
    }
    NEED(write_raw(tpath("st.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2, b, frames * 6) == 0, "write");
    NEED(write_raw(tpath("mono.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1, b, frames * 3) == 0, "write");
    const struct {
        const char *file;
        bl_audio_stream_opts o;
        const char *what;
    } cases[] = {
        {"mono.wav", {0, 0, 0, 0}, "mono"},
        {"mono.wav", {0, 1.5, 4.25, 1000}, "mono, window"},
        {"st.wav", {0, 0, 0, 0}, "stereo"},
        {"st.wav", {44100, 0, 0, 0}, "stereo, resampled 16 -> 44.1 kHz"},
        {"st.wav", {8000, 0.75, 0, 3000}, "stereo, resampled to 8 kHz, from 0.75 s"},
        {"mono.wav", {22050, 2, 3, 0}, "mono, resampled, window"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float *ref = NULL;
        int ch = 0;
        size_t n = stream_all_next(tpath(cases[k].file), &cases[k].o, &ref, &ch);
        BL_CHECK(n != (size_t)-1 && n > 0, "%s: stream failed", cases[k].what);
        if (n != (size_t)-1) check_stream_read(tpath(cases[k].file), &cases[k].o, ref, n, 1, cases[k].what);
        free(ref);
    }
    /* A truncated file: the length is not known up front. */
    NEED(truncate(tpath("mono.wav"), 44 + 100000 * 3) == 0, "truncate");
    bl_audio_stream_opts o = {0, 0, 0, 0};
    float *ref = NULL;
    int ch = 0;
    size_t n = stream_all_next(tpath("mono.wav"), &o, &ref, &ch);
    BL_CHECK(n == 100000, "truncated: %zu frames", n);
    if (n == 100000) check_stream_read(tpath("mono.wav"), &o, ref, n, 0, "truncated mono");
    free(ref);
    free(b);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "%s", bl_test_tmpdir("audio_pcm"));
    test_convert_lengths();
    test_all_values();
    test_containers();
    test_stream_read();
    return bl_test_finish("test_audio_pcm");
}
