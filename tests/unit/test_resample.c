/* test_resample.c — bl_resampler (io/resample.c): sine frequency, amplitude and phase
 * after resampling (so soxr's delay really is removed), output length, anti-aliasing,
 * bit-exact independence from how the input is split into calls (the stream's block-size
 * invariance rests on it), the max_out bound, and argument errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/audio.h"
#include "testutil.h"

#define PI 3.14159265358979323846

/* Resample `in` (n frames, ch channels) feeding `chunk` frames per call and giving each
 * call at most `out_cap` frames of room (queueing inside soxr when smaller). Returns the
 * total output frames written to `out` (capacity `cap` frames), or (size_t)-1 on error. */
static size_t resample_all(double ir, double orate, int ch, const float *in, size_t n,
                           size_t chunk, size_t out_cap, float *out, size_t cap,
                           int check_bound) {
    bl_resampler *rs = NULL;
    if (bl_resampler_create(ir, orate, ch, &rs) != BL_OK) return (size_t)-1;
    size_t tot = 0, calls = 0;
    for (size_t p = 0; p <= n; p += chunk) {
        size_t k = n - p < chunk ? n - p : chunk;
        int last = p + k >= n;
        size_t bound = bl_resampler_max_out(rs, k);
        size_t room = out_cap < cap - tot ? out_cap : cap - tot;
        size_t got = 0;
        if (bl_resampler_process(rs, k ? in + p * (size_t)ch : NULL, k, last,
                                 out + tot * (size_t)ch, room, &got) != BL_OK) {
            bl_resampler_destroy(rs);
            return (size_t)-1;
        }
        if (check_bound)
            BL_CHECK(got <= bound, "call %zu: %zu frames out, max_out said %zu", calls, got, bound);
        tot += got;
        calls++;
        /* queued output: drain (a flush after `last` keeps going until nothing comes) */
        for (;;) {
            room = out_cap < cap - tot ? out_cap : cap - tot;
            if (bl_resampler_process(rs, NULL, 0, last, out + tot * (size_t)ch, room, &got) != BL_OK) {
                bl_resampler_destroy(rs);
                return (size_t)-1;
            }
            tot += got;
            if (got == 0 || room == 0) break;
        }
        if (last) break;
    }
    bl_resampler_destroy(rs);
    return tot;
}

/* 1 kHz sine (amplitude 0.5, phase 0.3) from in_rate to out_rate: compare with the ideal
 * sine at the output rate, away from the edges where the filter sees the signal start. */
static void check_sine(double in_rate, double out_rate, double freq) {
    size_t n = (size_t)in_rate; /* 1 s */
    float *in = malloc(n * sizeof *in);
    size_t cap = (size_t)(out_rate * 1.1) + 64;
    float *out = malloc(cap * sizeof *out);
    for (size_t i = 0; i < n; i++) in[i] = (float)(0.5 * sin(2 * PI * freq * (double)i / in_rate + 0.3));
    size_t got = resample_all(in_rate, out_rate, 1, in, n, 4096, cap, out, cap, 1);
    double expect = (double)n * out_rate / in_rate;
    BL_CHECK(got != (size_t)-1 && fabs((double)got - expect) <= 2.0,
             "%g->%g Hz: %zu frames out, expected %.1f (+-2)", in_rate, out_rate, got, expect);
    if (got != (size_t)-1 && got > 400) {
        size_t edge = (size_t)(out_rate * 0.02); /* 20 ms */
        double max_err = 0, sum_sq = 0;
        size_t m = 0;
        for (size_t k = edge; k + edge < got; k++) {
            double ideal = 0.5 * sin(2 * PI * freq * (double)k / out_rate + 0.3);
            double e = fabs(out[k] - ideal);
            if (e > max_err) max_err = e;
            sum_sq += (double)out[k] * out[k];
            m++;
        }
        double rms = sqrt(sum_sq / (double)m);
        printf("sine %g Hz, %g->%g: %zu frames, max |err| vs ideal %.2e, rms %.5f\n", freq,
               in_rate, out_rate, got, max_err, rms);
        /* a delay of one output sample would give an error near 0.5*2*pi*f/out_rate (> 0.1) */
        BL_CHECK(max_err < 1e-4, "%g->%g: resampled sine differs from the ideal by %.3g",
                 in_rate, out_rate, max_err);
        BL_CHECK(fabs(rms - 0.5 / sqrt(2.0)) < 1e-4, "%g->%g: rms %.6f, expected %.6f",
                 in_rate, out_rate, rms, 0.5 / sqrt(2.0));
    }
    free(in);
    free(out);
}

/* A tone above the output Nyquist frequency must be filtered out, not folded back. */
static void check_antialias(void) {
    double ir = 48000, orate = 16000;
    size_t n = 48000;
    float *in = malloc(n * sizeof *in), *out = malloc(20000 * sizeof *out);
    for (size_t i = 0; i < n; i++) in[i] = (float)(0.5 * sin(2 * PI * 10000.0 * (double)i / ir));
    size_t got = resample_all(ir, orate, 1, in, n, 1000, 20000, out, 20000, 0);
    BL_CHECK(got != (size_t)-1 && got > 1000, "antialias: resampling failed");
    if (got != (size_t)-1 && got > 1000) {
        double peak = 0;
        for (size_t k = 500; k + 500 < got; k++) peak = fmax(peak, fabs(out[k]));
        printf("10 kHz tone 48k->16k: peak %.2e after filtering\n", peak);
        BL_CHECK(peak < 1e-4, "10 kHz tone leaks through 48k->16k with peak %.3g", peak);
    }
    free(in);
    free(out);
}

/* The same input split in different ways must give the same output, bit for bit. */
static void check_chunking(double ir, double orate, int ch) {
    size_t n = 30011;
    float *in = malloc(n * (size_t)ch * sizeof *in);
    uint32_t x = 12345;
    for (size_t i = 0; i < n * (size_t)ch; i++) {
        x = x * 1664525u + 1013904223u;
        in[i] = (float)((double)(x >> 8) / (double)(1u << 24) - 0.5) * 0.8f +
                (float)(0.3 * sin((double)i * 0.01));
    }
    size_t cap = (size_t)((double)n * orate / ir) + 64;
    float *ref = malloc(cap * (size_t)ch * sizeof *ref), *got = malloc(cap * (size_t)ch * sizeof *got);
    size_t nref = resample_all(ir, orate, ch, in, n, n, cap, ref, cap, 1);
    BL_CHECK(nref != (size_t)-1, "chunking %g->%g: reference run failed", ir, orate);
    size_t chunks[] = {1, 7, 100, 4096, 10000};
    size_t caps[] = {cap, cap, 3, cap, 513};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0] && nref != (size_t)-1; c++) {
        size_t ng = resample_all(ir, orate, ch, in, n, chunks[c], caps[c], got, cap,
                                 caps[c] == cap);
        BL_CHECK(ng == nref, "chunk %zu (out room %zu) %g->%g x%d: %zu frames, one call gave %zu",
                 chunks[c], caps[c], ir, orate, ch, ng, nref);
        if (ng == nref) {
            size_t diff = 0;
            for (size_t i = 0; i < ng * (size_t)ch; i++) diff += memcmp(&got[i], &ref[i], sizeof(float)) != 0;
            BL_CHECK(diff == 0, "chunk %zu (out room %zu) %g->%g x%d: %zu samples differ from "
                     "the one-call output", chunks[c], caps[c], ir, orate, ch, diff);
        }
    }
    free(in);
    free(ref);
    free(got);
}

static void check_lengths(void) {
    const double rates[][2] = {{44100, 16000}, {48000, 16000}, {8000, 16000}, {16000, 44100},
                               {22050, 16000}, {96000, 32000}};
    const size_t lens[] = {1, 2, 3, 100, 441, 12345, 44100};
    float *in = calloc(44100, sizeof *in), *out = malloc(200000 * sizeof *out);
    for (size_t i = 0; i < 44100; i++) in[i] = (float)sin((double)i);
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++)
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            size_t got = resample_all(rates[r][0], rates[r][1], 1, in, lens[l], 1000, 200000,
                                      out, 200000, 1);
            double expect = (double)lens[l] * rates[r][1] / rates[r][0];
            BL_CHECK(got != (size_t)-1 && fabs((double)got - expect) <= 2.0,
                     "%g->%g, %zu frames in: %zu out, expected %.2f", rates[r][0], rates[r][1],
                     lens[l], got, expect);
            BL_CHECK(got == (size_t)llround(expect), "%g->%g, %zu frames in: %zu out, "
                     "round(expected) = %lld", rates[r][0], rates[r][1], lens[l], got,
                     (long long)llround(expect));
        }
    free(in);
    free(out);
}

static void check_errors(void) {
    bl_resampler *rs = NULL;
    BL_CHECK(bl_resampler_create(0, 16000, 1, &rs) == BL_ERR_INVALID_ARG && !rs, "rate 0 accepted");
    BL_CHECK(bl_resampler_create(16000, -1, 1, &rs) == BL_ERR_INVALID_ARG, "negative rate accepted");
    BL_CHECK(bl_resampler_create(16000, NAN, 1, &rs) == BL_ERR_INVALID_ARG, "NaN rate accepted");
    BL_CHECK(bl_resampler_create(16000, 8000, 0, &rs) == BL_ERR_INVALID_ARG, "0 channels accepted");
    BL_CHECK(bl_resampler_create(1, 16000, 1, &rs) == BL_ERR_RESAMPLE && !rs,
             "x16000 upsampling accepted");
    BL_CHECK(bl_resampler_create(62.5, 16000, 1, &rs) == BL_OK, "x256 upsampling refused");
    bl_resampler_destroy(rs);
    rs = NULL;
    BL_CHECK(bl_resampler_create(16000, 8000, 2, &rs) == BL_OK, "valid resampler refused: %s",
             bl_error_message());
    if (!rs) return;
    float in[20] = {0}, out[64];
    size_t got = 99;
    BL_CHECK(bl_resampler_process(rs, NULL, 5, 0, out, 32, &got) == BL_ERR_INVALID_ARG && got == 0,
             "NULL input with 5 frames accepted");
    BL_CHECK(bl_resampler_process(rs, in, 10, 1, out, 32, &got) == BL_OK, "final call failed");
    BL_CHECK(bl_resampler_process(rs, in, 10, 0, out, 32, &got) == BL_ERR_INVALID_ARG,
             "input after the flush accepted");
    bl_resampler_destroy(rs);
    bl_resampler_destroy(NULL);
}

int main(void) {
    check_sine(44100, 16000, 1000);
    check_sine(48000, 16000, 1000);
    check_sine(8000, 16000, 1000);
    check_sine(16000, 44100, 1000);
    check_antialias();
    check_chunking(44100, 16000, 1);
    check_chunking(48000, 16000, 3);
    check_chunking(8000, 16000, 2);
    check_lengths();
    check_errors();
    return bl_test_finish("test_resample");
}
