/* cmd_features.c — `baleen features AUDIO -o OUT.npy`: the front end's features of one
 * audio file as float32 .npy [channels, n_mels, frames].
 *
 * This file parses the command line and the config; the work (decode thread, front end,
 * output laid out in place or spilled and assembled, atomic write) is core/features_job.c.
 *
 * Threading: the command's own thread; the job starts and joins its own workers.
 */
#include <stdio.h>
#include <time.h>     /* clock_gettime for the throughput line */
#include <unistd.h>   /* sysconf */

#include "cli_args.h"     /* bl_cli_args_parse: the options */
#include "commands.h"     /* bl_cli_error */
#include "config.h"       /* bl_config_* */
#include "features_job.h" /* bl_features_compute */
#include "frontend.h"     /* bl_frontend_params */
#include "log.h"          /* summary line */
#include "sysinfo.h"      /* bl_sys_usable_cpus: what threads 0 means */

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
            "  --duration SECONDS     process this much audio, > 0 (default: to the end)\n"
            "  --threads N            worker threads (default runtime.threads; 0 = every CPU it may use)\n"
            "  -h, --help             this help\n\n"
            "Memory stays bounded for any file length, but the output is not small: 64 mels at\n"
            "hop 300 and 16 kHz are about 1.1 GB per channel per day of audio, and the command\n"
            "needs about twice that on the output's disk while it runs.\n\n"
            "example:\n"
            "  baleen features demo.wav --config configs/demo.yaml -o demo.npy --duration 600\n"
            "  python3 -c \"import numpy; print(numpy.load('demo.npy').shape)\"\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Everything after argument parsing; returns a status, the caller maps it to an exit code. */
static bl_status run_features(const char *audio_path, const char *out_path,
                              const bl_frontend_params *fp, double start_s, double duration_s,
                              int threads, bl_nonfinite_mode non_finite, bl_truncated_mode truncated) {
    double t0 = now_s();
    bl_features_opts o = {.threads = threads, .start_s = start_s, .duration_s = duration_s,
                          .non_finite = non_finite, .truncated = truncated};
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

enum { OPT_OUTPUT, OPT_CONFIG, OPT_SET, OPT_START, OPT_DURATION, OPT_THREADS, N_OPTS };
static const bl_cli_opt k_opts[N_OPTS] = {
    [OPT_OUTPUT] = {"output", 'o', "OUT.npy", false},
    [OPT_CONFIG] = {"config", 'c', "FILE", false},
    [OPT_SET] = {"set", 0, "key=value", true},
    [OPT_START] = {"start", 0, "SECONDS", false},
    [OPT_DURATION] = {"duration", 0, "SECONDS", false},
    [OPT_THREADS] = {"threads", 0, "N", false},
};

/* The checks of the values; returns an exit code, or -1 when all is well. */
static int check_args(const bl_cli_args *a, double *start_s, double *duration_s, long *threads) {
    if (a->n_pos == 0) return bl_cli_usage("features", "no audio file given");
    if (a->n_pos > 1)
        return bl_cli_usage("features", "unexpected argument '%.160s' (argument %d): one audio file at a time",
                            a->pos[1], a->pos_arg[1]);
    if (!a->hits[OPT_OUTPUT].count) return bl_cli_usage("features", "no output given: use -o OUT.npy");
    const bl_cli_hit *h = &a->hits[OPT_START];
    if (h->count && (!bl_cli_parse_double(h->value, start_s) || !(*start_s >= 0)))
        return bl_cli_usage("features", "%s %.160s: needs a number of seconds >= 0", h->typed, h->value);
    h = &a->hits[OPT_DURATION];
    if (h->count && (!bl_cli_parse_double(h->value, duration_s) || !(*duration_s > 0)))
        return bl_cli_usage("features",
                            "%s %.160s: needs a number of seconds > 0 (leave --duration out to process to the end)",
                            h->typed, h->value);
    h = &a->hits[OPT_THREADS];
    if (h->count && !bl_cli_parse_long(h->value, 0, 256, threads))
        return bl_cli_usage("features", "%s %.160s: needs an integer in 0..256 (0 = every CPU it may use)", h->typed, h->value);
    return -1;
}

int bl_cmd_features(int argc, char **argv) {
    double start_s = 0, duration_s = 0; /* duration 0: to the end (bl_features_opts) */
    long threads = -1;
    bl_cli_args a;
    if (bl_cli_args_parse(k_opts, N_OPTS, argc, argv, &a) != BL_OK)
        return bl_cli_usage("features", "%s", bl_error_message());
    if (a.help) {
        bl_cli_args_free(&a);
        print_help(stdout);
        return BL_EXIT_OK;
    }
    int rc = check_args(&a, &start_s, &duration_s, &threads);
    if (rc >= 0) {
        bl_cli_args_free(&a);
        return rc;
    }
    const char *audio = a.pos[0], *out = a.hits[OPT_OUTPUT].value, *config = a.hits[OPT_CONFIG].value;
    const bl_cli_hit *sets = &a.hits[OPT_SET];

    bl_config cfg;
    bl_status s = config ? bl_config_load_file(config, &cfg) : bl_config_init_defaults(&cfg);
    for (int i = 0; s == BL_OK && i < sets->count; i++) s = bl_config_set(&cfg, sets->values[i]);
    if (s == BL_OK) s = bl_config_validate(&cfg);
    if (s == BL_OK) s = bl_frontend_params_validate(&cfg.frontend);
    bl_cli_args_free(&a); /* audio, out: argv's */
    if (s != BL_OK) {
        rc = bl_cli_error(s, "features");
        bl_config_free(&cfg);
        return rc;
    }
    if (threads < 0) threads = cfg.runtime.threads;
    if (threads == 0) {
        threads = bl_sys_usable_cpus(); /* affinity and cgroup quota */
        if (threads > 256) threads = 256;
    }
    bl_frontend_params fp = cfg.frontend;
    bl_nonfinite_mode nf = cfg.input.non_finite;
    bl_truncated_mode tr = cfg.input.truncated;
    bl_config_free(&cfg);
    s = run_features(audio, out, &fp, start_s, duration_s, (int)threads, nf, tr);
    if (s != BL_OK) return bl_cli_error(s, "features");
    return BL_EXIT_OK;
}
