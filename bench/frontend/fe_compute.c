/* fe_compute.c — compute-only benchmark of the CPU front end (bench_fe_compute): the
 * like-for-like counterpart of the Python peers in bench_frontend.py, which are timed on an
 * array already in memory.
 *
 * Decodes the whole file (channel 0, resampled to frontend.sample_rate) into memory and
 * builds the front-end plan, untimed; then, R times: create a bl_fe_stream with N threads,
 * push every sample in one call, finish, destroy. Only that is timed. The output buffer
 * ([frames][n_mels] float32) is allocated and page-touched once before the first run and
 * reused, so no run pays for page faults on its output (the peers allocate a fresh array per
 * call; at 64000 x 64 floats that is 16 MB, a few ms of faults at most).
 *
 * Prints one line: frames=F mels=M threads=N median_s=X min_s=Y. Exit 0 on success, 2 on a
 * usage error, 1 on any other error (with the library's message).
 *
 * Owns its buffers; single-threaded except for the stream's own workers.
 */
#include <stdio.h>  /* printf, fprintf */
#include <stdlib.h> /* malloc, free, strtol, qsort */
#include <string.h> /* strcmp, memset */
#include <time.h>   /* clock_gettime */

#include "core/config.h"   /* bl_config_load_file: the frontend: section */
#include "core/error.h"    /* bl_status, bl_strerror, bl_error_message */
#include "core/frontend.h" /* the code under test */
#include "io/audio.h"      /* decoding the input file */

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench_fe_compute AUDIO --config CFG.yaml [--threads N] [--repeat R]\n"
            "Times the CPU front end on audio already decoded into memory: R runs of\n"
            "stream create + one push of every sample + finish, N worker threads.\n"
            "  -c, --config FILE   YAML config; only its frontend: section is used\n"
            "  --threads N         workers per stream, 1..256 (default 1)\n"
            "  --repeat R          timed runs, 1..1000 (default 7)\n"
            "Prints: frames=F mels=M threads=N median_s=X min_s=Y\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Channel 0 of `path` at `rate` Hz into a malloc'd array (*out, *n). */
static bl_status decode_all(const char *path, int rate, float **out, size_t *n) {
    *out = NULL;
    *n = 0;
    bl_audio_stream_opts opts = {.target_rate = rate};
    bl_audio_stream *as = NULL;
    BL_TRY(bl_audio_stream_open(path, &opts, &as));
    size_t cap = 1 << 20, len = 0;
    float *buf = malloc(cap * sizeof(float));
    bl_status s = buf ? BL_OK : BL_ERROR(BL_ERR_NOMEM, "bench: out of memory decoding %s", path);
    while (s == BL_OK) {
        const float *planar;
        size_t got;
        s = bl_audio_stream_next(as, &planar, &got);
        if (s != BL_OK || got == 0) break;
        if (len + got > cap) {
            while (len + got > cap) cap *= 2;
            float *nb = realloc(buf, cap * sizeof(float));
            if (!nb) {
                s = BL_ERROR(BL_ERR_NOMEM, "bench: out of memory decoding %s", path);
                break;
            }
            buf = nb;
        }
        memcpy(buf + len, planar, got * sizeof(float)); /* channel 0 comes first */
        len += got;
    }
    bl_audio_stream_close(as);
    if (s != BL_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    *n = len;
    return BL_OK;
}

/* One timed run: every frame of x[0..n) into out (cap frames), *frames the count. */
static bl_status run_once(const bl_frontend *fe, int threads, const float *x, size_t n,
                          float *out, size_t cap, size_t n_mels, size_t *frames) {
    bl_fe_stream *st = NULL;
    BL_TRY(bl_fe_stream_create(fe, threads, &st));
    size_t a = 0, b = 0;
    bl_status s = bl_fe_stream_push(st, x, n, out, cap, &a);
    if (s == BL_OK) s = bl_fe_stream_finish(st, out + a * n_mels, cap - a, &b);
    bl_fe_stream_destroy(st);
    *frames = a + b;
    return s;
}

int main(int argc, char **argv) {
    const char *audio = NULL, *config = NULL;
    long threads = 1, repeat = 7;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && has_val) {
            config = argv[++i];
        } else if ((!strcmp(a, "--threads") || !strcmp(a, "--repeat")) && has_val) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            long hi = !strcmp(a, "--threads") ? 256 : 1000;
            if (*end || end == argv[i] || v < 1 || v > hi) {
                fprintf(stderr, "bench_fe_compute: %s needs an integer in 1..%ld\n", a, hi);
                return 2;
            }
            if (!strcmp(a, "--threads")) threads = v;
            else repeat = v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "bench_fe_compute: unknown option or missing value '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!audio) {
            audio = a;
        } else {
            fprintf(stderr, "bench_fe_compute: unexpected argument '%s'\n", a);
            return 2;
        }
    }
    if (!audio) {
        usage(stderr);
        return 2;
    }

    bl_config cfg;
    bl_status s = config ? bl_config_load_file(config, &cfg) : bl_config_init_defaults(&cfg);
    if (s == BL_OK) s = bl_config_validate(&cfg);
    if (s == BL_OK) s = bl_frontend_params_validate(&cfg.frontend);
    bl_frontend_params fp = cfg.frontend;
    bl_config_free(&cfg);

    float *x = NULL, *out = NULL;
    bl_frontend *fe = NULL;
    double *times = calloc((size_t)repeat, sizeof(double));
    size_t n = 0, want = 0, frames = 0, n_mels = (size_t)fp.mel.n_mels;
    if (s == BL_OK && !times) s = BL_ERROR(BL_ERR_NOMEM, "bench: out of memory");
    if (s == BL_OK) s = decode_all(audio, fp.sample_rate, &x, &n);
    if (s == BL_OK) s = bl_frontend_create(&fp, &fe);
    if (s == BL_OK) {
        want = bl_frontend_frame_count(fe, n);
        out = malloc((want ? want : 1) * n_mels * sizeof(float));
        if (!out) s = BL_ERROR(BL_ERR_NOMEM, "bench: out of memory for %zu frames", want);
        else memset(out, 0, (want ? want : 1) * n_mels * sizeof(float)); /* touch the pages */
    }
    for (long r = 0; s == BL_OK && r < repeat; r++) {
        double t0 = now_s();
        s = run_once(fe, (int)threads, x, n, out, want, n_mels, &frames);
        times[r] = now_s() - t0;
        if (s == BL_OK && frames != want)
            s = BL_ERROR(BL_ERR_INTERNAL, "bench: %zu frames out, %zu expected", frames, want);
    }
    if (s == BL_OK) {
        qsort(times, (size_t)repeat, sizeof(double), cmp_double);
        double med = repeat % 2 ? times[repeat / 2]
                                : 0.5 * (times[repeat / 2 - 1] + times[repeat / 2]);
        printf("frames=%zu mels=%zu threads=%ld median_s=%.6f min_s=%.6f\n", frames, n_mels,
               threads, med, times[0]);
    } else {
        fprintf(stderr, "bench_fe_compute: %s: %s\n", bl_strerror(s), bl_error_message());
    }
    bl_frontend_destroy(fe);
    free(out);
    free(x);
    free(times);
    return s == BL_OK ? 0 : 1;
}
