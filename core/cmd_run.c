/* cmd_run.c — `baleen run CONFIG.yaml`: parse the command line into a config and bl_run_opts,
 * install the SIGINT/SIGTERM handlers, run the pipeline (core/pipeline.h) or its dry run,
 * and turn the outcome into an exit code (DESIGN §8).
 *
 * The command-line flags are applied as --set overrides after the user's own (-o →
 * output.dir, --backend → runtime.backend, --threads → runtime.threads, --progress →
 * runtime.progress), so the resolved config in run.json says what really ran; an error in
 * one of them names the flag as typed ("--backend gpu: ..."), not the override. Options are
 * parsed by core/cli_args.c; nothing here has a size limit.
 *
 * Threading: the main thread runs the command; the signal handler only stores a flag.
 */
#include <signal.h>  /* sigaction */
#include <stdio.h>
#include <stdlib.h>  /* malloc, getenv, atoi */
#include <string.h>  /* strlen, strstr, memset */
#include <unistd.h>  /* isatty, sysconf */

#include "cli_args.h" /* bl_cli_args_parse: the options */
#include "commands.h" /* bl_cmd_run, bl_cli_error */
#include "config.h"   /* bl_config_* */
#include "log.h"      /* bl_log_get_level */
#include "pipeline.h" /* bl_pipeline_run, bl_pipeline_dry_run */
#include "sysinfo.h"  /* bl_sys_usable_cpus: what threads 0 means */

/* The one piece of process-wide state: a signal handler can only talk through a static
 * sig_atomic_t. The pipeline polls it through bl_run_opts.stop. */
static volatile sig_atomic_t g_stop_signal;

static void on_signal(int sig) { g_stop_signal = sig; }

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen run CONFIG.yaml [-o OUTDIR] [--set key=value]... [--resume] [--dry-run]\n"
            "                  [--backend auto|cpu|cuda] [--threads N] [--progress auto|bar|json|none]\n"
            "                  [--force-dir]\n\n"
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
            "  --threads N        worker threads (runtime.threads; 0 = every CPU it may use)\n"
            "  --progress P       auto (a live line on a terminal), bar, json (one object per second\n"
            "                     on stderr) or none\n"
            "  --force-dir        write into an OUTDIR that is not empty and was not made by baleen\n"
            "                     (no .baleen-output marker); baleen still refuses if any name it\n"
            "                     writes (run.json, segments/, ...) is taken, and never deletes a\n"
            "                     file it did not write\n"
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

static int threads_of(const bl_config *cfg) {
    int t = cfg->runtime.threads;
    if (t <= 0) {
        t = bl_sys_usable_cpus(); /* affinity and cgroup quota, not every core of the machine */
        if (t > 256) t = 256;
    }
    return t;
}

static void resume_hint(const char *config, const char *dir) {
    fprintf(stderr, "baleen: committed work is kept; to go on: baleen run %s -o %s --resume\n", config, dir);
}

/* The options of `baleen run`; the table's order is the enum's. */
enum { OPT_OUTPUT, OPT_SET, OPT_RESUME, OPT_DRY_RUN, OPT_BACKEND, OPT_THREADS, OPT_PROGRESS, OPT_FORCE_DIR, N_OPTS };
static const bl_cli_opt k_opts[N_OPTS] = {
    [OPT_OUTPUT] = {"output", 'o', "DIR", false},
    [OPT_SET] = {"set", 0, "key=value", true},
    [OPT_RESUME] = {"resume", 0, NULL, false},
    [OPT_DRY_RUN] = {"dry-run", 0, NULL, false},
    [OPT_BACKEND] = {"backend", 0, "auto|cpu|cuda", false},
    [OPT_THREADS] = {"threads", 0, "N", false},
    [OPT_PROGRESS] = {"progress", 0, "auto|bar|json|none", false},
    [OPT_FORCE_DIR] = {"force-dir", 0, NULL, false},
};

/* A flag that becomes a config override: the flag as typed, its value and the assignment
 * handed to bl_config_set (allocated). */
typedef struct {
    const char *typed, *value;
    char *assignment;
} flag_override;

/* `key="value"` with value quoted as a YAML double-quoted scalar, so that any path reads
 * back as that string: `"` and `\` escaped, control characters as \xNN. Allocated. */
static char *quoted_assignment(const char *key, const char *v) {
    size_t n = strlen(key) + 4 * strlen(v) + 4;
    char *a = malloc(n), *q = a;
    if (!a) return NULL;
    q += sprintf(q, "%s=\"", key);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\') *q++ = '\\', *q++ = (char)*p;
        else if (*p < 0x20 || *p == 0x7f) q += sprintf(q, "\\x%02X", *p);
        else *q++ = (char)*p;
    }
    *q++ = '"';
    *q = '\0';
    return a;
}

/* The override's error, reworded to name what the user typed: every "--set KEY=VALUE" of an
 * override in the thread's message becomes "FLAG VALUE" ("--backend gpu"), and the key path
 * the config code adds right after it ("runtime.backend: ") goes, since the flag says it. */
static bl_status name_flags(bl_status s, const flag_override *fo, int n_fo) {
    for (int i = 0; i < n_fo; i++) {
        const char *msg = bl_error_message();
        size_t alen = strlen(fo[i].assignment);
        /* config.c shows a long --set argument shortened, "--set output.dir=\"aaa...": a
         * prefix of the assignment followed by "..." (or the message's end) counts too */
        const char *at = msg, *rest = NULL;
        while (!rest && (at = strstr(at, "--set ")) != NULL) {
            const char *p = at + 6;
            size_t k = 0;
            while (k < alen && p[k] == fo[i].assignment[k]) k++;
            if (k == alen) rest = p + k;
            else if (k > 0 && !strncmp(p + k, "...", 3)) rest = p + k + 3;
            else if (k > 0 && !p[k]) rest = p + k;
            else at++;
        }
        if (!rest) continue;
        const char *eq = strchr(fo[i].assignment, '=');
        size_t klen = (size_t)(eq - fo[i].assignment);
        if (!strncmp(rest, ": ", 2) && !strncmp(rest + 2, fo[i].assignment, klen) && !strncmp(rest + 2 + klen, ": ", 2))
            rest += 2 + klen; /* now at ": expected ..." */
        size_t vlen = strlen(fo[i].value);
        char *copy = strdup(msg);
        if (!copy) return s;
        size_t off = (size_t)(at - msg), tail = (size_t)(rest - msg);
        bl_error_set(s, __FILE__, __LINE__, "%.*s%s %s%.*s%s%s", (int)off, copy, fo[i].typed, vlen ? "" : "''", 160,
                     fo[i].value, vlen > 160 ? "..." : "", copy + tail);
        free(copy);
    }
    return s;
}


int bl_cmd_run(int argc, char **argv) {
    bl_cli_args a;
    if (bl_cli_args_parse(k_opts, N_OPTS, argc, argv, &a) != BL_OK) return bl_cli_usage("run", "%s", bl_error_message());
    if (a.help) {
        bl_cli_args_free(&a);
        print_help(stdout);
        return BL_EXIT_OK;
    }
    int rc = -1;
    if (a.n_pos == 0) rc = bl_cli_usage("run", "no config file given (e.g. baleen run configs/demo.yaml)");
    else if (a.n_pos > 1)
        rc = bl_cli_usage("run", "unexpected argument '%.160s' (argument %d): one config file", a.pos[1], a.pos_arg[1]);
    if (rc >= 0) {
        bl_cli_args_free(&a);
        return rc;
    }
    const char *config = a.pos[0];
    bool resume = a.hits[OPT_RESUME].count > 0, dry = a.hits[OPT_DRY_RUN].count > 0;
    bool force_dir = a.hits[OPT_FORCE_DIR].count > 0;

    /* the flags, applied after the user's own --set in this order */
    static const struct {
        int opt;
        const char *key;
    } k_flag_keys[] = {{OPT_OUTPUT, "output.dir"}, {OPT_BACKEND, "runtime.backend"},
                       {OPT_THREADS, "runtime.threads"}, {OPT_PROGRESS, "runtime.progress"}};
    enum { N_FLAGS = sizeof k_flag_keys / sizeof k_flag_keys[0] };
    flag_override fo[N_FLAGS];
    int n_fo = 0;
    bl_status s = BL_OK;
    for (int i = 0; i < N_FLAGS; i++) {
        const bl_cli_hit *h = &a.hits[k_flag_keys[i].opt];
        if (!h->count) continue;
        fo[n_fo].typed = h->typed;
        fo[n_fo].value = h->value;
        /* a path is quoted as YAML so that any file name reads back as a string */
        if (k_flag_keys[i].opt == OPT_OUTPUT) {
            fo[n_fo].assignment = quoted_assignment(k_flag_keys[i].key, h->value);
        } else {
            size_t n = strlen(k_flag_keys[i].key) + strlen(h->value) + 2;
            if ((fo[n_fo].assignment = malloc(n))) snprintf(fo[n_fo].assignment, n, "%s=%s", k_flag_keys[i].key, h->value);
        }
        if (!fo[n_fo].assignment) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
        else n_fo++;
    }

    bl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (s == BL_OK) s = bl_config_load_file(config, &cfg);
    const bl_cli_hit *sets = &a.hits[OPT_SET];
    for (int i = 0; s == BL_OK && i < sets->count; i++) s = bl_config_set(&cfg, sets->values[i]);
    for (int i = 0; s == BL_OK && i < n_fo; i++) s = bl_config_set(&cfg, fo[i].assignment);
    if (s == BL_OK) s = bl_config_validate(&cfg);
    if (s != BL_OK) name_flags(s, fo, n_fo);
    for (int i = 0; i < n_fo; i++) free(fo[i].assignment);
    bl_cli_args_free(&a);
    if (s != BL_OK) {
        rc = bl_cli_error(s, "run");
        bl_config_free(&cfg);
        return rc;
    }

    bl_run_opts o = {0};
    o.cfg = &cfg;
    o.config_path = config;
    o.resume = resume;
    o.force_dir = force_dir;
    o.threads = threads_of(&cfg);
    o.adapt_threads = cfg.runtime.threads == 0; /* a number given: exactly that many */
    o.progress = cfg.runtime.progress;
    if (o.progress == BL_PROGRESS_AUTO) o.progress = isatty(2) && bl_log_get_level() >= BL_LOG_INFO ? BL_PROGRESS_BAR : BL_PROGRESS_NONE;
    o.stop = &g_stop_signal;
#ifdef BL_TEST_HOOKS /* test builds only (BL_BUILD_TESTS): lets tests interrupt a run mid-way */
    const char *delay = getenv("BL_TEST_ITEM_DELAY_MS");
    if (delay) o.test_item_delay_ms = atoi(delay);
#endif
    char *cmdline = bl_cli_command_line(argc, argv);
    if (!cmdline) {
        bl_config_free(&cfg);
        return bl_cli_error(BL_ERROR(BL_ERR_NOMEM, "out of memory"), "run");
    }
    o.command_line = cmdline;

    if (dry) {
        s = bl_pipeline_dry_run(&o, stdout);
        rc = s == BL_OK ? BL_EXIT_OK : bl_cli_error(s, "run --dry-run");
        free(cmdline);
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
    free(cmdline);
    bl_config_free(&cfg);
    return rc;
}
