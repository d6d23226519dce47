/* cmd_bench.c — `baleen bench [MODEL]`: parse the options into bl_bench_opts, find the
 * default model, run the benchmark (core/bench.h), print the table and write --json/--plot.
 * Options are parsed by core/cli_args.c.
 *
 * Threading: the main thread; the signal handler only stores a flag (as in `run`).
 */
#include <limits.h>  /* PATH_MAX */
#include <signal.h>  /* sigaction */
#include <stdio.h>
#include <stdlib.h>  /* malloc, free */
#include <string.h>
#include <unistd.h>  /* access, readlink, isatty */

#include "bench.h"    /* bl_bench_run and the report writers */
#include "cli_args.h" /* bl_cli_args_parse: the options */
#include "commands.h" /* bl_cmd_bench, bl_cli_error */
#include "log.h"      /* bl_log_get_level: -q silences the progress line */
#include "sysinfo.h"  /* bl_sys_usable_cpus: --threads 0 */

#define BL_BENCH_DEFAULT_MODEL "models/zoo/whalecall-small"

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { g_stop = sig; }

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen bench [MODEL_DIR|MODEL.onnx] [--backend auto|cpu|cuda] [--seconds N | --input AUDIO]\n"
            "                    [--batch 1,8,32,128|auto] [--threads N] [--repeat K] [--warmup W]\n"
            "                    [--json FILE] [--plot FILE.svg] [--only pipeline|model|frontend|io]\n"
            "                    [--compete N]\n\n"
            "How fast a model scans audio on this machine, end to end, where the time goes and which\n"
            "batch size to use. Without --input it synthesizes audio at the model card's sample rate\n"
            "(baleen synth) and runs the real pipeline (decode, resample, front end, model, pooling,\n"
            "writer) into a temporary folder that is removed afterwards. Per batch size it reports the\n"
            "realtime factor (audio seconds per second of streaming; the set-up is reported apart),\n"
            "windows per second, each stage's share of the busy time, the model's GFLOP/s against an\n"
            "estimate of the CPU's peak (cores x vector lanes x FMA units x 2 x clock, printed with\n"
            "how it was estimated), the latency per model batch (p50, p95) and the peak RSS. Each batch\n"
            "size runs in a process of its own (so its peak RSS is its own): one untimed warm-up, then\n"
            "K timed runs; median and spread ((max - min) / median). It warns when the machine is busy\n"
            "(load average, steal time) and when a spread is above 10%%.\n\n"
            "MODEL defaults to " BL_BENCH_DEFAULT_MODEL " (looked up from the current folder, then\n"
            "next to the baleen binary). A bare .onnx without a card runs with --only model only.\n\n"
            "options:\n"
            "  --backend B      auto (CUDA when a device answers, else the CPU), cpu or cuda\n"
            "  --seconds N      length of the synthesized audio (default 600)\n"
            "  --input AUDIO    benchmark on this file instead (WAV, FLAC, ...; any rate)\n"
            "  --batch LIST     comma-separated batch sizes (default 1,8,32,128), or auto: try 1, 2, 4,\n"
            "                   ... and recommend the smallest whose throughput is within the measured\n"
            "                   spread of the best, saying why\n"
            "  --threads N      executor threads (0 = every CPU this process may use, the default;\n"
            "                   then, as in baleen run, fewer while other work holds the CPUs)\n"
            "  --repeat K       timed runs per batch size (default 3)\n"
            "  --warmup W       untimed runs first (default 1)\n"
            "  --only S         time one stage alone, to name the bottleneck: pipeline (everything, the\n"
            "                   default), model (the executor on ready-made inputs), frontend (the\n"
            "                   front end on decoded audio), io (decode and resample)\n"
            "  --compete N      run N busy loops (processes spinning in user space) beside the\n"
            "                   measurement: how the scan degrades on a shared machine\n"
            "  --json FILE      every figure and the environment (CPU, ISA, libraries, commit, model\n"
            "                   hash) as JSON: top-level keys env and results\n"
            "  --plot FILE.svg  realtime factor against batch size per stage, as an SVG\n"
            "  -h, --help       this help\n\n"
            "The table goes to stdout, a progress line to stderr (-q: none). docs/benchmarks.md\n"
            "explains the figures; bench/compare/ runs the same model and audio through Python peers.\n\n"
            "examples:\n"
            "  baleen bench\n"
            "  baleen bench models/zoo/whalecall-small --batch auto --json bench.json --plot bench.svg\n"
            "  baleen bench resnet18/ --input day.wav --batch 32 --repeat 5\n"
            "  baleen bench --only model --batch 1,32 --threads 1\n"
            "  baleen bench --only pipeline --batch 32 --compete 2\n");
}

enum { OPT_BACKEND, OPT_SECONDS, OPT_INPUT, OPT_BATCH, OPT_THREADS, OPT_REPEAT, OPT_WARMUP, OPT_JSON, OPT_PLOT, OPT_ONLY,
       OPT_COMPETE, N_OPTS };
static const bl_cli_opt k_opts[N_OPTS] = {
    [OPT_BACKEND] = {"backend", 0, "auto|cpu|cuda", false},
    [OPT_SECONDS] = {"seconds", 0, "N", false},
    [OPT_INPUT] = {"input", 0, "AUDIO", false},
    [OPT_BATCH] = {"batch", 0, "LIST|auto", false},
    [OPT_THREADS] = {"threads", 0, "N", false},
    [OPT_REPEAT] = {"repeat", 0, "K", false},
    [OPT_WARMUP] = {"warmup", 0, "W", false},
    [OPT_JSON] = {"json", 0, "FILE", false},
    [OPT_PLOT] = {"plot", 0, "FILE.svg", false},
    [OPT_ONLY] = {"only", 0, "STAGE", false},
    [OPT_COMPETE] = {"compete", 0, "N", false},
};

/* The default model: from the current folder, else next to the binary (build/<dir>/baleen
 * in a source tree, <prefix>/bin/baleen with <prefix>/share/baleen/). */
static bool find_default_model(char *out, size_t cap) {
    if (access(BL_BENCH_DEFAULT_MODEL "/model.onnx", R_OK) == 0) {
        snprintf(out, cap, "%s", BL_BENCH_DEFAULT_MODEL);
        return true;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return false;
    *slash = '\0';
    static const char *const rel[] = {"/..", "/../..", "/../../..", "/../share/baleen"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char p[PATH_MAX + 128];
        snprintf(p, sizeof p, "%s%s/" BL_BENCH_DEFAULT_MODEL "/model.onnx", exe, rel[i]);
        if (access(p, R_OK) == 0) {
            p[strlen(p) - strlen("/model.onnx")] = '\0';
            snprintf(out, cap, "%s", p);
            return true;
        }
    }
    return false;
}

/* "1,8,32,128" into o->batches. */
static bool parse_batches(const char *v, bl_bench_opts *o) {
    o->n_batches = 0;
    const char *p = v;
    while (*p) {
        char num[32];
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof num || o->n_batches == BL_BENCH_MAX_BATCHES) return false;
        memcpy(num, p, n);
        num[n] = '\0';
        long b;
        if (!bl_cli_parse_long(num, 1, 65536, &b)) return false;
        o->batches[o->n_batches++] = (int)b;
        p += n;
        if (*p == ',') {
            p++;
            if (!*p) return false;
        }
    }
    return o->n_batches > 0;
}


int bl_cmd_bench(int argc, char **argv) {
    bl_cli_args a;
    if (bl_cli_args_parse(k_opts, N_OPTS, argc, argv, &a) != BL_OK) return bl_cli_usage("bench", "%s", bl_error_message());
    if (a.help) {
        bl_cli_args_free(&a);
        print_help(stdout);
        return BL_EXIT_OK;
    }
    bl_bench_opts o;
    memset(&o, 0, sizeof o);
    o.seconds = 600;
    o.backend = "auto";
    o.repeat = 3;
    o.warmup = 1;
    o.mode = BL_BENCH_PIPELINE;
    static const int k_default_batches[] = {1, 8, 32, 128};
    o.n_batches = 4;
    memcpy(o.batches, k_default_batches, sizeof k_default_batches);
    long threads = 0;
    int rc = -1;
    char model[PATH_MAX + 128];
    const bl_cli_hit *h = a.hits;
    if (a.n_pos > 1) {
        rc = bl_cli_usage("bench", "unexpected argument '%.160s' (argument %d): one MODEL", a.pos[1], a.pos_arg[1]);
    } else if (a.n_pos == 1) {
        snprintf(model, sizeof model, "%s", a.pos[0]);
    } else if (!find_default_model(model, sizeof model)) {
        rc = bl_cli_usage("bench", "no MODEL given and the default model (" BL_BENCH_DEFAULT_MODEL
                                   ") is not in the current folder nor next to the binary; give MODEL_DIR or MODEL.onnx");
    }
    if (rc < 0 && h[OPT_BACKEND].count) {
        const char *v = h[OPT_BACKEND].value;
        if (strcmp(v, "auto") && strcmp(v, "cpu") && strcmp(v, "cuda"))
            rc = bl_cli_usage("bench", "--backend %.160s: expected auto, cpu or cuda", v);
        o.backend = v;
    }
    if (rc < 0 && h[OPT_SECONDS].count &&
        (!bl_cli_parse_double(h[OPT_SECONDS].value, &o.seconds) || o.seconds < 1 || o.seconds > 86400))
        rc = bl_cli_usage("bench", "--seconds %.160s: expected a number of seconds in 1..86400", h[OPT_SECONDS].value);
    if (rc < 0 && h[OPT_SECONDS].count && h[OPT_INPUT].count)
        rc = bl_cli_usage("bench", "--seconds and --input exclude each other: the audio is either synthesized or given");
    if (rc < 0 && h[OPT_INPUT].count) o.input = h[OPT_INPUT].value;
    if (rc < 0 && h[OPT_ONLY].count) {
        const char *v = h[OPT_ONLY].value;
        if (!strcmp(v, "pipeline")) o.mode = BL_BENCH_PIPELINE;
        else if (!strcmp(v, "model")) o.mode = BL_BENCH_MODEL;
        else if (!strcmp(v, "frontend")) o.mode = BL_BENCH_FRONTEND;
        else if (!strcmp(v, "io")) o.mode = BL_BENCH_IO;
        else rc = bl_cli_usage("bench", "--only %.160s: expected pipeline, model, frontend or io", v);
    }
    if (rc < 0 && h[OPT_BATCH].count) {
        const char *v = h[OPT_BATCH].value;
        if (!strcmp(v, "auto")) o.batch_auto = true;
        else if (!parse_batches(v, &o))
            rc = bl_cli_usage("bench", "--batch %.160s: expected auto or batch sizes in 1..65536 separated by commas "
                                       "(at most %d), e.g. 1,8,32,128", v, BL_BENCH_MAX_BATCHES);
        if (rc < 0 && (o.mode == BL_BENCH_FRONTEND || o.mode == BL_BENCH_IO))
            rc = bl_cli_usage("bench", "--batch does not apply to --only %s (no model batches)",
                              o.mode == BL_BENCH_IO ? "io" : "frontend");
    }
    long v;
    if (rc < 0 && h[OPT_THREADS].count && !bl_cli_parse_long(h[OPT_THREADS].value, 0, 256, &threads))
        rc = bl_cli_usage("bench", "--threads %.160s: expected 0..256 (0 = every usable CPU)", h[OPT_THREADS].value);
    if (rc < 0 && h[OPT_REPEAT].count) {
        if (!bl_cli_parse_long(h[OPT_REPEAT].value, 1, 64, &v)) rc = bl_cli_usage("bench", "--repeat %.160s: expected 1..64", h[OPT_REPEAT].value);
        else o.repeat = (int)v;
    }
    if (rc < 0 && h[OPT_WARMUP].count) {
        if (!bl_cli_parse_long(h[OPT_WARMUP].value, 0, 16, &v)) rc = bl_cli_usage("bench", "--warmup %.160s: expected 0..16", h[OPT_WARMUP].value);
        else o.warmup = (int)v;
    }
    if (rc < 0 && h[OPT_COMPETE].count) {
        if (!bl_cli_parse_long(h[OPT_COMPETE].value, 0, 64, &v)) rc = bl_cli_usage("bench", "--compete %.160s: expected 0..64", h[OPT_COMPETE].value);
        else o.compete = (int)v;
    }
    const char *json = h[OPT_JSON].count ? h[OPT_JSON].value : NULL;
    const char *plot = h[OPT_PLOT].count ? h[OPT_PLOT].value : NULL;
    bl_cli_args_free(&a);
    if (rc >= 0) return rc;
    o.model = model;
    o.threads = threads > 0 ? (int)threads : bl_sys_usable_cpus();
    o.threads_auto = threads == 0;
    if (o.threads > 256) o.threads = 256;
    o.progress = bl_log_get_level() >= BL_LOG_INFO;
    o.stop = &g_stop;
    char *cmdline = bl_cli_command_line(argc, argv);
    if (!cmdline) return bl_cli_error(BL_ERROR(BL_ERR_NOMEM, "out of memory"), "bench");
    o.command_line = cmdline;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    bl_bench_report *r = malloc(sizeof *r);
    bl_status s = r ? bl_bench_run(&o, r) : BL_ERROR(BL_ERR_NOMEM, "out of memory");
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (s == BL_OK) {
        bl_bench_print_table(r, stdout);
        fflush(stdout);
        if (json) s = bl_bench_write_json(r, json);
        if (s == BL_OK && plot) s = bl_bench_write_svg(r, plot);
    }
    rc = s == BL_OK ? BL_EXIT_OK : bl_cli_error(s, "bench");
    /* set-up errors (model, card, input) measured nothing: exit 1 as usage errors do */
    if (s != BL_OK && r && r->n_rows == 0 && (s == BL_ERR_NOT_FOUND || s == BL_ERR_MODEL || s == BL_ERR_FORMAT))
        rc = BL_EXIT_USAGE;
    if (s == BL_OK && !o.batch_auto) /* (auto stops at the first size that cannot run) */
        for (int i = 0; r && i < r->n_rows; i++)
            if (r->rows[i].failed) rc = BL_EXIT_PARTIAL; /* some batch sizes did not run */
    free(r);
    free(cmdline);
    return rc;
}
