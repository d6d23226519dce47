/* cmd_features.c — `baleen features AUDIO -o OUT.npy`: the front end's features of one
 * audio file as float32 .npy [channels, n_mels, frames].
 *
 * This file parses the command line and the config; the work (decode thread, front end,
 * output laid out in place or spilled and assembled, atomic write) is core/features_job.c.
 *
 * Threading: the command's own thread; the job starts and joins its own workers.
 */
#include <errno.h>   /* errno for strtod */
#include <stdio.h>
#include <stdlib.h>   /* strtod, strtol, calloc */
#include <string.h>   /* strcmp */
#include <time.h>     /* clock_gettime for the throughput line */
#include <unistd.h>   /* sysconf */

#include "commands.h"     /* bl_cli_error */
#include "config.h"       /* bl_config_* */
#include "features_job.h" /* bl_features_compute */
#include "frontend.h"     /* bl_frontend_params */
#include "log.h"          /* summary line */

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen features AUDIO -o OUT.npy [--config FILE.yaml] [--set key=value]...\n"
            "                       [--start SECONDS] [--duration SECONDS] [--threads N]\n\n"
            "Compute the spectrogram front end (frontend: section of the config; defaults when\n"
            "no --config) of one audio file and write float32 .npy [channels, n_mels, frames].\n"
            "The audio is decoded with libsndfile and resampled with soxr to\n"
            "frontend.sample_rate. Semantics: torch.stft + torchaudio melscale_fbanks, then\n"
            "log, db, pcen or none (docs/config.md).\n\n"
            "options:\n"
            "  -o, --output OUT.npy   output file (written atomically)\n"
            "  -c, --config FILE      YAML config; only its frontend: section is used\n"
            "  --set key=value        override a config key (repeatable), e.g.\n"
            "                         --set frontend.mel.n_mels=128\n"
            "  --start SECONDS        start this far into the file (default 0)\n"
            "  --duration SECONDS     process this much audio (default: to the end)\n"
            "  --threads N            worker threads (default runtime.threads; 0 = all cores)\n"
            "  -h, --help             this help\n\n"
            "Memory stays bounded for any file length, but the output is not small: 64 mels at\n"
            "hop 300 and 16 kHz are about 1.1 GB per channel per day of audio, and the command\n"
            "needs about twice that on the output's disk while it runs.\n\n"
            "example:\n"
            "  baleen features demo.wav --config configs/demo.yaml -o demo.npy --duration 600\n"
            "  python3 -c \"import numpy; print(numpy.load('demo.npy').shape)\"\n");
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "baleen: error: features: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see baleen features --help)\n");
    return BL_EXIT_USAGE;
}

static int parse_double(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0';
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Everything after argument parsing; returns a status, the caller maps it to an exit code. */
static bl_status run_features(const char *audio_path, const char *out_path,
                              const bl_frontend_params *fp, double start_s, double duration_s,
                              int threads) {
    double t0 = now_s();
    bl_features_opts o = {threads, start_s, duration_s, 0};
    bl_features_result r;
    BL_TRY(bl_features_compute(audio_path, out_path, fp, &o, &r));
    double dt = now_s() - t0;
    BL_LOG_I("features: wrote %s [%d, %d, %llu]: %.1f s of audio in %.3f s (%.0f frames/s "
             "per channel, %.0fx real time)",
             out_path, r.channels, r.n_mels, (unsigned long long)r.frames,
             (double)r.samples / fp->sample_rate, dt, (double)r.frames / dt,
             (double)r.samples / fp->sample_rate / dt);
    return BL_OK;
}

int bl_cmd_features(int argc, char **argv) {
    const char *audio = NULL, *out = NULL, *config = NULL;
    double start_s = 0, duration_s = 0;
    long threads = -1;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_sets = 0;
    if (!sets) return bl_cli_error(BL_ERROR(BL_ERR_NOMEM, "out of memory"), "features");
    int rc = -1;
    for (int i = 1; i < argc && rc < 0; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help(stdout);
            rc = BL_EXIT_OK;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!has_val) rc = usage_error("%s needs a file name", a);
            else out = argv[++i];
        } else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (!has_val) rc = usage_error("%s needs a file name", a);
            else config = argv[++i];
        } else if (!strcmp(a, "--set")) {
            if (!has_val) rc = usage_error("%s needs key=value", a);
            else sets[n_sets++] = argv[++i];
        } else if (!strcmp(a, "--start") || !strcmp(a, "--duration")) {
            double v;
            if (!has_val || !parse_double(argv[i + 1], &v) || !(v >= 0))
                rc = usage_error("%s needs a number of seconds >= 0", a);
            else if (!strcmp(a, "--start")) start_s = v, i++;
            else duration_s = v, i++;
        } else if (!strcmp(a, "--threads")) {
            char *end;
            if (has_val) threads = strtol(argv[i + 1], &end, 10);
            if (!has_val || *end || end == argv[i + 1] || threads < 0 || threads > 256)
                rc = usage_error("%s needs an integer in 0..256", a);
            i++;
        } else if (a[0] == '-' && a[1]) {
            rc = usage_error("unknown option '%s'", a);
        } else if (!audio) {
            audio = a;
        } else {
            rc = usage_error("unexpected argument '%s': one audio file at a time", a);
        }
    }
    if (rc < 0 && !audio) rc = usage_error("%s", "no audio file given");
    if (rc < 0 && !out) rc = usage_error("%s", "no output given: use -o OUT.npy");
    if (rc >= 0) {
        free(sets);
        return rc;
    }

    bl_config cfg;
    bl_status s = config ? bl_config_load_file(config, &cfg) : bl_config_init_defaults(&cfg);
    for (int i = 0; s == BL_OK && i < n_sets; i++) s = bl_config_set(&cfg, sets[i]);
    if (s == BL_OK) s = bl_config_validate(&cfg);
    if (s == BL_OK) s = bl_frontend_params_validate(&cfg.frontend);
    free(sets);
    if (s != BL_OK) {
        rc = bl_cli_error(s, "features");
        bl_config_free(&cfg);
        return rc;
    }
    if (threads < 0) threads = cfg.runtime.threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (n > 256 ? 256 : n) : 1;
    }
    bl_frontend_params fp = cfg.frontend;
    bl_config_free(&cfg);
    s = run_features(audio, out, &fp, start_s, duration_s, (int)threads);
    if (s != BL_OK) return bl_cli_error(s, "features");
    return BL_EXIT_OK;
}
