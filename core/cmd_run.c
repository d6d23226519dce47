/* cmd_run.c — `baleen run CONFIG.yaml`: parse the command line into a config and bl_run_opts,
 * install the SIGINT/SIGTERM handlers, run the pipeline (core/pipeline.h) or its dry run,
 * and turn the outcome into an exit code (DESIGN §8).
 *
 * The command-line flags are applied as --set overrides after the user's own (-o →
 * output.dir, --backend → runtime.backend, --threads → runtime.threads, --progress →
 * runtime.progress), so the resolved config in run.json says what really ran.
 *
 * Threading: the main thread runs the command; the signal handler only stores a flag.
 */
#include <errno.h>   /* errno */
#include <signal.h>  /* sigaction */
#include <stdio.h>
#include <stdlib.h>  /* strtol, getenv, calloc */
#include <string.h>  /* strcmp */
#include <unistd.h>  /* isatty, sysconf */

#include "commands.h" /* bl_cmd_run, bl_cli_error */
#include "config.h"   /* bl_config_* */
#include "log.h"      /* bl_log_get_level */
#include "pipeline.h" /* bl_pipeline_run, bl_pipeline_dry_run */

/* The one piece of process-wide state: a signal handler can only talk through a static
 * sig_atomic_t. The pipeline polls it through bl_run_opts.stop. */
static volatile sig_atomic_t g_stop_signal;

static void on_signal(int sig) { g_stop_signal = sig; }

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen run CONFIG.yaml [-o OUTDIR] [--set key=value]... [--resume] [--dry-run]\n"
            "                  [--backend auto|cpu|cuda] [--threads N] [--progress auto|bar|json|none]\n\n"
            "Scan the config's sources with its model: decode and resample, front end, model\n"
            "windows in fixed-shape batches, pooled segments and events, written as zstd CSV chunks\n"
            "with a manifest, a checkpoint journal and run.json (docs/pipeline.md, docs/config.md).\n\n"
            "options:\n"
            "  -o, --output DIR   output directory (output.dir)\n"
            "  --set key=value    override a config key (repeatable)\n"
            "  --resume           continue an interrupted run in the output directory: finished work\n"
            "                     items are skipped and the result is the same, byte for byte\n"
            "  --dry-run          print the resolved config and the planned work items; run nothing\n"
            "  --backend B        auto (CUDA when a device answers, else the CPU), cpu or cuda\n"
            "  --threads N        worker threads (runtime.threads; 0 = all cores)\n"
            "  --progress P       auto (a live line on a terminal), bar, json (one object per second\n"
            "                     on stderr) or none\n"
            "  -h, --help         this help\n\n"
            "Ctrl-C (SIGINT) or SIGTERM stops cleanly: what is committed stays, and --resume goes on.\n\n"
            "exit codes: 0 every input done; 1 usage or config error (nothing run); 2 some inputs\n"
            "failed (listed in OUTDIR/errors.csv, the rest done); 3 fatal error, disk full or\n"
            "interrupted (outputs so far stay valid; run again with --resume).\n\n"
            "examples:\n"
            "  baleen run configs/demo.yaml\n"
            "  baleen run configs/demo.yaml -o out/ --set batch.size=64 --threads 4\n"
            "  baleen run configs/demo.yaml -o out/ --resume\n"
            "  baleen run configs/demo.yaml --dry-run\n");
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "baleen: error: run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see baleen run --help)\n");
    return BL_EXIT_USAGE;
}

static int threads_of(const bl_config *cfg) {
    int t = cfg->runtime.threads;
    if (t <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        t = n > 0 ? (n > 256 ? 256 : (int)n) : 1;
    }
    return t;
}

static void resume_hint(const char *config, const char *dir) {
    fprintf(stderr, "baleen: committed work is kept; to go on: baleen run %s -o %s --resume\n", config, dir);
}

int bl_cmd_run(int argc, char **argv) {
    const char *config = NULL;
    bool resume = false, dry = false;
    char **sets = calloc((size_t)argc + 8, sizeof *sets);
    char extra[4][1100];
    int n_sets = 0, n_extra = 0;
    if (!sets) return bl_cli_error(BL_ERROR(BL_ERR_NOMEM, "out of memory"), "run");
    int rc = -1;
    for (int i = 1; i < argc && rc < 0; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        const char *key = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help(stdout);
            rc = BL_EXIT_OK;
        } else if (!strcmp(a, "--resume")) {
            resume = true;
        } else if (!strcmp(a, "--dry-run")) {
            dry = true;
        } else if (!strcmp(a, "--set")) {
            if (!has_val) rc = usage_error("%s needs key=value", a);
            else sets[n_sets++] = argv[++i];
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            key = "output.dir";
        } else if (!strcmp(a, "--backend")) {
            key = "runtime.backend";
        } else if (!strcmp(a, "--threads")) {
            key = "runtime.threads";
        } else if (!strcmp(a, "--progress")) {
            key = "runtime.progress";
        } else if (a[0] == '-' && a[1]) {
            rc = usage_error("unknown option '%s'", a);
        } else if (!config) {
            config = a;
        } else {
            rc = usage_error("unexpected argument '%s': one config file", a);
        }
        if (key && rc < 0) {
            if (!has_val) {
                rc = usage_error("%s needs a value", a);
            } else {
                const char *v = argv[++i];
                /* a path is quoted as YAML so that any file name reads back as a string */
                if (!strcmp(key, "output.dir")) {
                    char q[1000];
                    size_t k = 0;
                    q[k++] = '"';
                    for (const char *p = v; *p && k + 3 < sizeof q; p++) {
                        if (*p == '"' || *p == '\\') q[k++] = '\\';
                        q[k++] = *p;
                    }
                    q[k++] = '"';
                    q[k] = '\0';
                    snprintf(extra[n_extra], sizeof extra[n_extra], "%s=%s", key, q);
                } else {
                    snprintf(extra[n_extra], sizeof extra[n_extra], "%s=%s", key, v);
                }
                sets[n_sets++] = extra[n_extra];
                if (n_extra < 3) n_extra++;
            }
        }
    }
    if (rc < 0 && !config) rc = usage_error("%s", "no config file given (e.g. baleen run configs/demo.yaml)");
    if (rc >= 0) {
        free(sets);
        return rc;
    }

    bl_config cfg;
    bl_status s = bl_config_load_file(config, &cfg);
    for (int i = 0; s == BL_OK && i < n_sets; i++) s = bl_config_set(&cfg, sets[i]);
    if (s == BL_OK) s = bl_config_validate(&cfg);
    free(sets);
    if (s != BL_OK) {
        rc = bl_cli_error(s, "run");
        bl_config_free(&cfg);
        return rc;
    }

    bl_run_opts o = {0};
    o.cfg = &cfg;
    o.config_path = config;
    o.resume = resume;
    o.threads = threads_of(&cfg);
    o.progress = cfg.runtime.progress;
    if (o.progress == BL_PROGRESS_AUTO) o.progress = isatty(2) && bl_log_get_level() >= BL_LOG_INFO ? BL_PROGRESS_BAR : BL_PROGRESS_NONE;
    o.stop = &g_stop_signal;
#ifdef BL_TEST_HOOKS /* test builds only (BL_BUILD_TESTS): lets tests interrupt a run mid-way */
    const char *delay = getenv("BL_TEST_ITEM_DELAY_MS");
    if (delay) o.test_item_delay_ms = atoi(delay);
#endif
    char cmdline[4096] = "baleen";
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(cmdline);
        snprintf(cmdline + n, sizeof cmdline - n, " %s", argv[i]);
    }
    o.command_line = cmdline;

    if (dry) {
        s = bl_pipeline_dry_run(&o, stdout);
        rc = s == BL_OK ? BL_EXIT_OK : bl_cli_error(s, "run --dry-run");
        bl_config_free(&cfg);
        return rc;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    bl_run_result r;
    s = bl_pipeline_run(&o, &r);

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (s != BL_OK) {
        rc = bl_cli_error(s, "run");
        /* set-up errors (config, model, sources) ran nothing: exit 1 as usage errors do */
        if (rc == BL_EXIT_FATAL && r.n_items == 0 && (s == BL_ERR_NOT_FOUND || s == BL_ERR_MODEL || s == BL_ERR_FORMAT))
            rc = BL_EXIT_USAGE;
        else if (r.n_items > 0) {
            if (s == BL_ERR_NO_SPACE)
                fprintf(stderr, "baleen: the disk holding %s is full; free some space, then resume.\n", cfg.output.dir);
            resume_hint(config, cfg.output.dir);
        }
    } else if (r.interrupted) {
        fprintf(stderr, "baleen: run: interrupted by signal %d after %lld of %lld work items.\n", (int)g_stop_signal,
                (long long)(r.n_committed + r.n_skipped), (long long)r.n_items);
        resume_hint(config, cfg.output.dir);
        rc = BL_EXIT_FATAL;
    } else if (r.n_failed > 0) {
        fprintf(stderr, "baleen: run: %lld of %lld work items failed (see %s/errors.csv); the rest are done.\n",
                (long long)r.n_failed, (long long)r.n_items, cfg.output.dir);
        rc = BL_EXIT_PARTIAL;
    } else {
        rc = BL_EXIT_OK;
    }
    bl_config_free(&cfg);
    return rc;
}
