/* bench.h — `baleen bench`: how fast a model scans audio on this machine, end to end, where
 * the time goes and which batch size to use (issue 11; docs/benchmarks.md).
 *
 * Defines: bl_bench_mode (what is timed), bl_bench_opts (what the command line resolved),
 * bl_bench_row (the figures of one batch size), bl_bench_env (the machine and the set-up),
 * bl_bench_report (all of it), bl_bench_run() and bl_bench_report_free(); the pure helpers
 * the report and the tests use: bl_bench_median(), bl_bench_percentile(),
 * bl_bench_spread(), bl_bench_recommend(). Writers of the report: core/bench_report.c
 * (table, JSON, SVG); the machine's description: core/bench_env.c.
 *
 * How it measures (bench.c):
 *   - Audio: --input AUDIO, or `baleen synth` audio of --seconds at the model card's sample
 *     rate, written into a temporary folder that is removed at the end (with every output
 *     folder of the runs).
 *   - Each batch size (and each --only stage) is measured in a child process of its own
 *     (fork, before this process has started any OpenMP team or thread): the child runs one
 *     untimed warm-up and then --repeat timed runs, and its peak RSS (ru_maxrss from wait4)
 *     is the peak of that batch size alone. The figures come back through a shared mapping.
 *   - pipeline: bl_pipeline_run (decode → resample → front end → model → pooling, events →
 *     writer) into the temporary folder; the realtime factor is audio seconds over the
 *     streaming time (stage threads start → join; the set-up — model load, executor build,
 *     output folder — is reported apart, it does not grow with the audio); the stages'
 *     busy times come from the pipeline's own counters and the per-batch latencies from its
 *     model stage (bl_run_opts.batch_seconds).
 *   - model: the executor alone on ready-made inputs (deterministic pseudo-random features),
 *     as many windows as the audio holds, in batches of the batch size.
 *   - frontend: the front end alone on decoded audio (the decode is not timed).
 *   - io: decode and resample alone.
 *   Median and spread ((max − min) / median) of the repeats; p50 and p95 over every timed
 *   batch of the repeats.
 *
 * Threading: bl_bench_run runs on the calling thread and forks; the helpers are pure.
 */
#ifndef BL_BENCH_H
#define BL_BENCH_H

#include <signal.h>  /* sig_atomic_t */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h" /* bl_status */

typedef enum { BL_BENCH_PIPELINE = 0, BL_BENCH_MODEL, BL_BENCH_FRONTEND, BL_BENCH_IO } bl_bench_mode;

#define BL_BENCH_MAX_BATCHES 32
#define BL_BENCH_STAGES 4 /* decode, frontend, model, score+write (bl_run_stage_name) */

typedef struct {
    const char *model;      /* model folder or .onnx */
    const char *input;      /* audio file, or NULL to synthesize */
    double seconds;         /* synthesized audio length (no --input) */
    const char *backend;    /* "auto", "cpu", "cuda" */
    int threads;            /* >= 1 */
    bool threads_auto;      /* no --threads: as `baleen run` with runtime.threads 0, the
                             * pipeline may use fewer while other work holds the CPUs */
    int repeat;             /* timed runs per batch size, >= 1 */
    int warmup;             /* untimed runs first (1) */
    bl_bench_mode mode;
    int batches[BL_BENCH_MAX_BATCHES]; /* batch sizes to measure, in order */
    int n_batches;
    bool batch_auto;        /* search batch sizes and recommend one */
    int compete;            /* busy loops to run beside the measurement (0 = none) */
    bool progress;          /* a progress line on stderr */
    const char *command_line; /* recorded in the JSON */
    const volatile sig_atomic_t *stop; /* set non-zero to stop (SIGINT); may be NULL */
} bl_bench_opts;

/* The figures of one measured unit (a batch size, or the one run of a batch-free stage). */
typedef struct {
    int batch;                    /* 0 for frontend and io (no batches) */
    int n_runs;                   /* timed runs */
    double audio_s;               /* audio per run */
    double time_s;                /* median time per run (the timed part, see the top) */
    double time_min_s, time_max_s;
    double setup_s;               /* pipeline: median set-up per run, not counted in time_s */
    double realtime;              /* audio_s / time_s (0 when unknown: a bare .onnx) */
    double spread;                /* (max − min) / median of the run times */
    double windows;               /* windows per run (pipeline, model) */
    double windows_per_s;         /* at the median */
    double windows_per_s_min, windows_per_s_max;
    double gflops;                /* achieved by the model: FLOPs of every item run (padding
                                   * included) over the model's time; 0 when not measured */
    double stage_s[BL_BENCH_STAGES]; /* busy seconds per stage, of the median run; -1 = not run */
    double lat_p50_s, lat_p95_s;  /* per executor call; 0 when none */
    int64_t n_lat;                /* executor calls behind them */
    double fewer_threads;         /* pipeline: share of the median run's batches run on fewer
                                   * threads than asked (contention, core/cpushare.h) */
    double peak_rss_mb;           /* of the child that measured this unit (MiB) */
    bool failed;                  /* the unit could not run (msg says why) */
    char msg[512];
} bl_bench_row;

typedef struct {
    char cpu_model[128];
    int cpus_usable, cpus_online;
    char isa[64];              /* "avx512f avx2 fma" */
    int lanes;                 /* fp32 lanes of the widest vector unit used */
    int fma_units;             /* assumed FMA units per core (0 = no FMA) */
    double clock_ghz;
    char clock_how[96];        /* where the clock came from */
    double peak_gflops;        /* for the threads used */
    char peak_how[256];        /* the formula with its numbers */
    double loadavg[3];
    bool load_injected;        /* test builds: BL_TEST_LOADAVG */
    double steal_share;        /* share of the CPUs' time stolen during the measurement */
    int64_t memory_limit;
    char libs[320];            /* "oneDNN 2.7.3, libsndfile-1.2.0, soxr 0.1.3, zstd 1.5.4, libyaml 0.2.5" */
    char onednn[32], sndfile[48], soxr[32], zstd[32], yaml[32];
    char version[32], commit[64];
    char date[32];             /* UTC, ISO 8601 */
} bl_bench_env;

typedef struct {
    bl_bench_opts opts;
    bl_bench_env env;
    /* the model */
    char model_path[4096];     /* the .onnx */
    char model_sha256[65];
    char model_name[128], model_version[64];
    bool has_card;
    int64_t flops_per_item;
    int rate, channels;        /* of the audio as the model sees it */
    char audio_desc[160];      /* "600 s of synthesized 16000 Hz mono audio" */
    char backend[16];          /* the executor backend that ran */
    /* results, in the order measured */
    bl_bench_row rows[BL_BENCH_MAX_BATCHES];
    int n_rows;
    int recommended;           /* --batch auto: the batch size recommended, 0 = none */
    char why[1024];            /* why (several lines) */
    char warnings[8][320];
    int n_warnings;
} bl_bench_report;

/* Measure as `o` says; fills *r (zeroed first). Messages go through bl_log; a unit that
 * fails is marked in its row and the run goes on, unless none succeeds (error). Errors:
 * BL_ERR_CONFIG (model, card, backend), BL_ERR_IO (temporary folder, input), BL_ERR_THREAD
 * (fork). A stop request returns BL_ERR_IO with "interrupted". */
bl_status bl_bench_run(const bl_bench_opts *o, bl_bench_report *r);

/* ---- pure helpers (tests: tests/unit/test_bench.c) ------------------------------------- */

/* Median of v[0..n) (sorts v); 0 when n == 0. */
double bl_bench_median(double *v, size_t n);
/* The p-th percentile (0..100) of v[0..n), nearest rank (sorts v); 0 when n == 0. */
double bl_bench_percentile(double *v, size_t n, double p);
/* (max − min) / median of v[0..n) (sorts v); 0 when n < 2 or the median is 0. */
double bl_bench_spread(double *v, size_t n);
/* --batch auto: among rows[0..n) (failed ones ignored), the best throughput (median
 * windows/s) and the smallest batch whose median is within the best's measured spread
 * (its max − min windows/s). Returns that batch (0 when no row ran) and explains the
 * choice in why. */
int bl_bench_recommend(const bl_bench_row *rows, int n, char *why, size_t cap);

/* ---- the machine (bench_env.c) ----------------------------------------------------------- */

/* CPU model, ISA, clock and the peak estimate for `threads` threads, load average, memory
 * limit, library versions, baleen's version and commit, the date. */
void bl_bench_env_collect(bl_bench_env *e, int threads);
/* Steal and total CPU time so far (clock ticks, /proc/stat); false when unreadable. */
bool bl_bench_cpu_ticks(uint64_t *steal, uint64_t *total);
/* The busy-machine check: true (and a message in msg) when the 1-minute load average is at
 * least half the usable CPUs, or when steal took more than 5% of the CPUs' time. */
bool bl_bench_busy_warning(const bl_bench_env *e, char *msg, size_t cap);

/* ---- the report (bench_report.c) ----------------------------------------------------------- */

/* The table and the warnings, as `baleen bench` prints them. */
void bl_bench_print_table(const bl_bench_report *r, FILE *f);
/* Every figure and the environment as JSON: top-level keys "env" and "results". */
bl_status bl_bench_write_json(const bl_bench_report *r, const char *path);
/* Realtime factor against batch size per stage, as a standalone SVG. */
bl_status bl_bench_write_svg(const bl_bench_report *r, const char *path);

#endif /* BL_BENCH_H */
