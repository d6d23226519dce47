/* bench.c — the measurements of `baleen bench` (bench.h): the model and its audio, one child
 * process per measured unit, the figures of each unit, the batch-size search, the busy loops
 * of --compete.
 *
 * Owns: the temporary folder (synthesized audio, the runs' output folders), removed before
 * bl_bench_run returns; the shared mapping the children write their figures into; the
 * competing busy-loop processes.
 *
 * Why children: peak RSS is per process, so each batch size runs in a process of its own to
 * have a peak of its own (ru_maxrss from wait4); the children are forked before this
 * process has started any thread or OpenMP team (libgomp's pool does not survive a fork),
 * and each starts its executor afresh, as `baleen run` would.
 *
 * Threading: single-threaded (the children run the pipeline's threads).
 */
#define _GNU_SOURCE 1
#include "bench.h"

#include <errno.h>        /* errno of mkdtemp, fork, waitpid */
#include <ftw.h>          /* nftw: removing the temporary folder */
#include <math.h>         /* ceil, floor */
#include <signal.h>       /* kill */
#include <stdarg.h>       /* appendf */
#include <stdio.h>
#include <stdlib.h>       /* malloc, getenv, mkdtemp, qsort */
#include <string.h>
#include <sys/mman.h>     /* mmap: the children's figures */
#include <sys/prctl.h>    /* PR_SET_PDEATHSIG: children end with the benchmark */
#include <sys/resource.h> /* wait4's rusage: peak RSS */
#include <sys/wait.h>     /* wait4 */
#include <time.h>         /* clock_gettime, nanosleep */
#include <unistd.h>       /* fork, _exit, isatty */

#include "config.h"            /* bl_config_*: the runs' configuration */
#include "frontend.h"          /* bl_frontend, bl_fe_stream: --only frontend */
#include "io/audio.h"          /* bl_audio_*: --only io and frontend, probing --input */
#include "io/sha256.h"         /* the model's hash for the JSON */
#include "log.h"               /* bl_log_*: quiet children */
#include "models/card.h"       /* bl_model_card: rate, window geometry */
#include "models/exec.h"       /* bl_exec_*: --only model */
#include "models/onnx_load.h"  /* bl_model_load, bl_model_resolve_path */
#include "pipeline.h"          /* bl_pipeline_run: the pipeline unit */
#include "synth.h"             /* bl_synth_write: the audio when there is no --input */

/* Stage indices of bl_run_result.stage_busy_s (bl_run_stage_name). */
enum { BENCH_ST_DECODE = 0, BENCH_ST_FRONTEND = 1, BENCH_ST_MODEL = 2 };

/* Executor calls whose times a unit keeps for p50/p95 (8 bytes each). */
#define BL_BENCH_LAT_CAP 65536

/* What every unit needs; set up by the parent before the first fork. */
typedef struct {
    const bl_bench_opts *o;
    bl_bench_report *r;
    char tmp[2048];           /* temporary folder ("" before it exists) */
    char audio[4200];         /* the audio file */
    double audio_s;           /* per channel, at the model's rate */
    int64_t samples;          /* per channel, at the model's rate */
    double windows;           /* model windows the audio holds, all channels */
    bl_model_card card;
    bool card_ok;
    bl_frontend_params fp;
    bl_graph *graph;          /* the model: in the parent only while it is checked, in a model
                               * child for the run */
    int in_rank;
    int64_t in_dims[8];       /* the model input without N (a bare .onnx: its static dims) */
    int64_t per_item;         /* floats per input item */
    const bl_exec_backend *be;
} bench_ctx;

/* What a child hands back. */
typedef struct {
    volatile int run;         /* the run under way (progress), from 1 */
    int status;               /* bl_status of the unit */
    char msg[512];
    bl_bench_row row;
} bench_shared;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool stopping(const bench_ctx *b) { return b->o->stop && *b->o->stop; }

/* ---- pure helpers --------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bl_bench_median(double *v, size_t n) {
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double bl_bench_percentile(double *v, size_t n, double p) {
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, cmp_double);
    if (p <= 0) return v[0];
    size_t k = (size_t)ceil(p / 100.0 * (double)n); /* nearest rank, 1-based */
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1];
}

double bl_bench_spread(double *v, size_t n) {
    if (n < 2) return 0;
    double m = bl_bench_median(v, n); /* sorted now */
    return m > 0 ? (v[n - 1] - v[0]) / m : 0;
}

/* snprintf at why[*k], never past cap; *k stops at cap - 1. */
static void appendf(char *buf, size_t cap, size_t *k, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t cap, size_t *k, const char *fmt, ...) {
    if (!buf || *k + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *k, cap - *k, fmt, ap);
    va_end(ap);
    if (n > 0) *k = *k + (size_t)n < cap ? *k + (size_t)n : cap - 1;
}

int bl_bench_recommend(const bl_bench_row *rows, int n, char *why, size_t cap) {
    size_t k = 0;
    if (why && cap) why[0] = '\0';
    int best = -1;
    for (int i = 0; i < n; i++)
        if (!rows[i].failed && rows[i].windows_per_s > 0 && (best < 0 || rows[i].windows_per_s > rows[best].windows_per_s))
            best = i;
    if (best < 0) {
        appendf(why, cap, &k, "no batch size ran: nothing to recommend");
        return 0;
    }
    const bl_bench_row *b = &rows[best];
    double tol = b->windows_per_s_max - b->windows_per_s_min;
    if (tol < 0) tol = 0;
    double floor_ = b->windows_per_s - tol;
    int pick = best;
    for (int i = 0; i < n; i++)
        if (!rows[i].failed && rows[i].windows_per_s >= floor_ && rows[i].batch < rows[pick].batch) pick = i;
    const bl_bench_row *p = &rows[pick];
    appendf(why, cap, &k, "best throughput: batch %d, %.0f windows/s (its runs %.0f..%.0f: a spread of %.0f windows/s)\n",
            b->batch, b->windows_per_s, b->windows_per_s_min, b->windows_per_s_max, tol);
    if (pick == best)
        appendf(why, cap, &k, "no smaller batch comes within that spread: batch %d is recommended\n", b->batch);
    else
        appendf(why, cap, &k,
                "batch %d reaches %.0f windows/s (%.1f%% below the best), within the best's spread: the smallest "
                "such batch is recommended (less memory, less latency per batch)\n",
                p->batch, p->windows_per_s, 100 * (1 - p->windows_per_s / b->windows_per_s));
    for (int i = 0; i < n; i++) {
        if (rows[i].failed) appendf(why, cap, &k, "  batch %d: did not run (%s)\n", rows[i].batch, rows[i].msg);
        else if (rows[i].batch < p->batch)
            appendf(why, cap, &k, "  batch %d: %.0f windows/s, %.1f%% below the best: outside the spread\n", rows[i].batch,
                    rows[i].windows_per_s, 100 * (1 - rows[i].windows_per_s / b->windows_per_s));
    }
    if (k > 0 && why[k - 1] == '\n') why[k - 1] = '\0';
    return p->batch;
}

/* ---- files ------------------------------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path) {
    if (path[0]) nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* `key="value"` with value quoted as a YAML double-quoted scalar (any path reads back). */
static bl_status set_quoted(bl_config *cfg, const char *key, const char *v, bool list) {
    size_t n = strlen(key) + 4 * strlen(v) + 8;
    char *a = malloc(n), *q = a;
    BL_CHECK_ALLOC(a);
    q += sprintf(q, "%s=%s\"", key, list ? "[" : "");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\') *q++ = '\\', *q++ = (char)*p;
        else if (*p < 0x20 || *p == 0x7f) q += sprintf(q, "\\x%02X", *p);
        else *q++ = (char)*p;
    }
    q += sprintf(q, "\"%s", list ? "]" : "");
    bl_status s = bl_config_set(cfg, a);
    free(a);
    return s;
}

/* ---- set-up (parent) -------------------------------------------------------------------------- */

/* The model's SHA-256, as run.json records it. */
static bl_status sha256_file(const char *path, char out[65]) {
    FILE *f = fopen(path, "rbe");
    BL_RETURN_IF(!f, BL_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    bl_sha256 h;
    bl_sha256_init(&h);
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) bl_sha256_update(&h, buf, n);
    bool err = ferror(f) != 0;
    fclose(f);
    BL_RETURN_IF(err, BL_ERR_IO, "cannot read %s", path);
    bl_sha256_final_hex(&h, out);
    return BL_OK;
}

static bl_status setup_model(bench_ctx *b) {
    const bl_bench_opts *o = b->o;
    bl_bench_report *r = b->r;
    BL_TRY(bl_model_resolve_path(o->model, r->model_path, sizeof r->model_path));
    BL_TRY(bl_model_load(o->model, NULL, &b->graph));
    bl_graph_stats st;
    BL_TRY(bl_graph_stats_compute(b->graph, &st));
    r->flops_per_item = st.flops;
    bl_status s = bl_card_load(o->model, &b->card);
    if (s == BL_ERR_NOT_FOUND && o->mode == BL_BENCH_MODEL) {
        bl_error_clear();
        snprintf(r->model_name, sizeof r->model_name, "%.127s", r->model_path);
    } else if (s == BL_ERR_NOT_FOUND) {
        return BL_ERROR(BL_ERR_CONFIG, "model %s: no card (model.yaml) next to it: the pipeline needs the card's "
                        "sample rate, front end and windows; give the model's folder, or time the model alone with "
                        "--only model", o->model);
    } else if (s != BL_OK) {
        bl_error_prefix("model %s: ", o->model);
        return s == BL_ERR_NOT_FOUND ? BL_ERR_CONFIG : s;
    } else {
        b->card_ok = r->has_card = true;
        snprintf(r->model_name, sizeof r->model_name, "%s", b->card.name);
        snprintf(r->model_version, sizeof r->model_version, "%s", b->card.version ? b->card.version : "");
        BL_TRY(bl_card_resolve_frontend(&b->card, NULL, &b->fp));
        BL_TRY(bl_card_check_graph(&b->card, b->graph));
    }
    BL_RETURN_IF(b->graph->n_inputs != 1, BL_ERR_CONFIG, "model %s: %d graph inputs; baleen feeds exactly one",
                 r->model_path, b->graph->n_inputs);
    const bl_tensor *ti = &b->graph->tensors[b->graph->inputs[0]];
    BL_RETURN_IF(ti->dtype != BL_DT_FLOAT || ti->rank < 1 || ti->rank > 8, BL_ERR_CONFIG,
                 "model %s: the input must be float32 with a batch dimension", r->model_path);
    b->in_rank = ti->rank;
    b->per_item = 1;
    for (int i = 1; i < ti->rank; i++) {
        int64_t d = bl_dim_at(ti->dims[i], 1);
        BL_RETURN_IF(d < 1, BL_ERR_CONFIG, "model %s: input dimension %d is not fixed; give the model a card", r->model_path, i);
        b->in_dims[i] = d;
        b->per_item *= d;
    }
    /* the children load their own: a graph inherited through fork would count in each
     * child's peak RSS on top of the copy the pipeline loads */
    bl_graph_free(b->graph);
    b->graph = NULL;
    return sha256_file(r->model_path, r->model_sha256);
}

static bl_status setup_backend(bench_ctx *b) {
    const char *n = b->o->backend ? b->o->backend : "auto";
    if (!strcmp(n, "cuda")) {
        b->be = bl_exec_backend_find("cuda");
        BL_RETURN_IF(!b->be, BL_ERR_CONFIG,
                     "--backend cuda: this baleen has no CUDA backend (built without CUDA, or no device); use "
                     "--backend cpu or auto");
    } else if (!strcmp(n, "auto")) {
        b->be = bl_exec_backend_find("cuda");
        if (!b->be) BL_LOG_I("bench: backend auto: cpu (no CUDA backend available)");
    } else if (strcmp(n, "cpu")) {
        return BL_ERROR(BL_ERR_USAGE, "--backend %s: expected auto, cpu or cuda", n);
    }
    if (!b->be) b->be = bl_exec_backend_cpu();
    snprintf(b->r->backend, sizeof b->r->backend, "%s", b->be->name);
    return BL_OK;
}

static bl_status setup_audio(bench_ctx *b) {
    const bl_bench_opts *o = b->o;
    bl_bench_report *r = b->r;
    const char *td = getenv("TMPDIR");
    BL_RETURN_IF(td && strlen(td) > 1900, BL_ERR_IO, "TMPDIR is too long a path (%zu bytes); set a shorter one", strlen(td));
    snprintf(b->tmp, sizeof b->tmp, "%s/baleen-bench-XXXXXX", td && td[0] ? td : "/tmp");
    if (!mkdtemp(b->tmp)) {
        int e = errno;
        b->tmp[0] = '\0';
        return BL_ERROR(BL_ERR_IO, "cannot create a temporary folder under %s: %s (set TMPDIR)", td && td[0] ? td : "/tmp",
                        strerror(e));
    }
    int rate = b->card_ok ? b->fp.sample_rate : 16000;
    b->r->rate = rate;
    if (o->input) {
        bl_audio_reader *ar = NULL;
        BL_TRY(bl_audio_open(o->input, &ar));
        const bl_audio_info *in = bl_audio_get_info(ar);
        int64_t frames = in->frames;
        int file_rate = in->sample_rate, channels = in->channels;
        b->r->channels = channels;
        bl_audio_close(ar); /* (in points into ar) */
        BL_RETURN_IF(frames < 0 || file_rate <= 0, BL_ERR_FORMAT,
                     "%s: the length is not known up front (a stream format); convert it to WAV or FLAC to benchmark",
                     o->input);
        BL_RETURN_IF(strlen(o->input) >= sizeof b->audio, BL_ERR_IO, "--input: the path is too long");
        snprintf(b->audio, sizeof b->audio, "%s", o->input);
        b->samples = (int64_t)floor((double)frames * rate / file_rate + 0.5);
        snprintf(r->audio_desc, sizeof r->audio_desc, "%s: %.1f s, %d Hz, %d channel%s", o->input,
                 (double)frames / file_rate, file_rate, channels, channels == 1 ? "" : "s");
    } else {
        bl_synth_params p;
        bl_synth_params_default(&p);
        p.seconds = o->seconds;
        p.sample_rate = rate;
        p.seed = 1;
        snprintf(b->audio, sizeof b->audio, "%s/audio.wav", b->tmp);
        char truth[4200];
        snprintf(truth, sizeof truth, "%s/audio.truth.csv", b->tmp);
        BL_TRY(bl_synth_write(&p, b->audio, truth, NULL));
        b->r->channels = 1;
        b->samples = (int64_t)floor(o->seconds * rate + 0.5);
        snprintf(r->audio_desc, sizeof r->audio_desc, "%g s of synthesized %d Hz mono audio (baleen synth --seed 1)",
                 o->seconds, rate);
    }
    b->audio_s = (double)b->samples / rate;
    if (b->card_ok) {
        const bl_frontend_params *fp = &b->fp;
        int64_t frames = fp->center ? 1 + b->samples / fp->hop_length
                                    : (b->samples >= fp->n_fft ? 1 + (b->samples - fp->n_fft) / fp->hop_length : 0);
        int64_t w = frames >= b->card.window_frames ? (frames - b->card.window_frames) / b->card.hop_frames + 1 : 0;
        b->windows = (double)w * b->r->channels;
    } else {
        b->windows = 1024; /* a bare .onnx: no audio geometry; a fixed count of items */
    }
    return BL_OK;
}

/* ---- the units (children) ------------------------------------------------------------------- */

static void fill_times(bl_bench_row *row, double *t, int n, double audio_s, double windows) {
    double tmp[64];
    int m = n < 64 ? n : 64;
    memcpy(tmp, t, (size_t)m * sizeof *t);
    row->n_runs = n;
    row->time_s = bl_bench_median(tmp, (size_t)m);
    row->time_min_s = tmp[0];
    row->time_max_s = tmp[m - 1];
    row->spread = row->time_s > 0 ? (row->time_max_s - row->time_min_s) / row->time_s : 0;
    row->audio_s = audio_s;
    row->realtime = audio_s > 0 && row->time_s > 0 ? audio_s / row->time_s : 0;
    row->windows = windows;
    if (windows > 0 && row->time_s > 0) {
        row->windows_per_s = windows / row->time_s;
        row->windows_per_s_min = windows / row->time_max_s;
        row->windows_per_s_max = windows / row->time_min_s;
    }
}

/* The index of the run whose time is the median one (for its stage breakdown). */
static int median_index(const double *t, int n) {
    double tmp[64];
    int m = n < 64 ? n : 64;
    memcpy(tmp, t, (size_t)m * sizeof *t);
    double med = bl_bench_median(tmp, (size_t)m);
    int k = 0;
    for (int i = 1; i < m; i++)
        if (fabs(t[i] - med) < fabs(t[k] - med)) k = i;
    return k;
}

static void lat_percentiles(bl_bench_row *row, double *lat, int64_t n) {
    row->n_lat = n;
    if (n <= 0) return;
    row->lat_p50_s = bl_bench_percentile(lat, (size_t)n, 50);
    row->lat_p95_s = bl_bench_percentile(lat, (size_t)n, 95);
}

static bl_status unit_pipeline(bench_ctx *b, int batch, bench_shared *sh) {
    const bl_bench_opts *o = b->o;
    bl_bench_row *row = &sh->row;
    bl_config cfg;
    char dir[4200], num[64];
    snprintf(dir, sizeof dir, "%s/run-b%d", b->tmp, batch);
    bl_status s = bl_config_init_defaults(&cfg);
    if (s == BL_OK) s = set_quoted(&cfg, "sources", b->audio, true);
    if (s == BL_OK) s = set_quoted(&cfg, "model", o->model, false);
    if (s == BL_OK) s = set_quoted(&cfg, "output.dir", dir, false);
    if (s == BL_OK) snprintf(num, sizeof num, "batch.size=%d", batch), s = bl_config_set(&cfg, num);
    if (s == BL_OK)
        snprintf(num, sizeof num, "runtime.threads=%d", o->threads_auto ? 0 : o->threads), s = bl_config_set(&cfg, num);
    if (s == BL_OK) snprintf(num, sizeof num, "runtime.backend=%s", b->be->name), s = bl_config_set(&cfg, num);
    if (s == BL_OK) s = bl_config_set(&cfg, "runtime.progress=none");
    if (s == BL_OK) s = bl_config_validate(&cfg);
    double *lat = s == BL_OK ? malloc(BL_BENCH_LAT_CAP * sizeof *lat) : NULL;
    if (s == BL_OK && !lat) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
    int n = o->warmup + o->repeat, k = 0;
    double t[64], setup[64], busy[64][BL_BENCH_STAGES], gfl[64], fewer[64], windows = 0;
    int64_t n_lat = 0;
    for (int i = 0; s == BL_OK && i < n && k < 64; i++) {
        sh->run = i + 1;
        rm_tree(dir);
        bl_run_opts ro = {0};
        ro.cfg = &cfg;
        ro.threads = o->threads;
        ro.progress = BL_PROGRESS_NONE;
        ro.stop = o->stop;
        ro.adapt_threads = o->threads_auto;
        bool timed = i >= o->warmup;
        if (timed) ro.batch_seconds = lat + n_lat, ro.batch_seconds_cap = BL_BENCH_LAT_CAP - n_lat;
        bl_run_result res;
        s = bl_pipeline_run(&ro, &res);
        if (s == BL_OK && res.interrupted) s = BL_ERROR(BL_ERR_IO, "interrupted");
        if (s == BL_OK && res.n_failed > 0) {
            s = BL_ERROR(BL_ERR_DECODE, "the audio failed to scan (see %s/errors.csv with baleen run)", b->audio);
        }
        if (s != BL_OK || !timed) continue;
        t[k] = res.stream_seconds;
        setup[k] = res.setup_seconds;
        for (int st = 0; st < BL_BENCH_STAGES; st++) busy[k][st] = res.stage_busy_s[st];
        double model_s = res.stage_busy_s[BENCH_ST_MODEL];
        gfl[k] = model_s > 0 ? (double)b->r->flops_per_item * batch * (double)res.n_batches / model_s * 1e-9 : 0;
        windows = (double)res.n_windows;
        fewer[k] = res.n_batches > 0 ? (double)res.n_batches_fewer_threads / (double)res.n_batches : 0;
        n_lat += res.n_batches < BL_BENCH_LAT_CAP - n_lat ? res.n_batches : BL_BENCH_LAT_CAP - n_lat;
        if (res.audio_seconds > 0) row->audio_s = res.audio_seconds;
        k++;
    }
    rm_tree(dir);
    if (s == BL_OK) {
        int mi = median_index(t, k);
        double audio = row->audio_s > 0 ? row->audio_s : b->audio_s;
        fill_times(row, t, k, audio, windows);
        for (int st = 0; st < BL_BENCH_STAGES; st++) row->stage_s[st] = busy[mi][st];
        row->setup_s = bl_bench_median(setup, (size_t)k);
        row->gflops = gfl[mi];
        row->fewer_threads = fewer[mi];
        lat_percentiles(row, lat, n_lat);
    }
    free(lat);
    bl_config_free(&cfg);
    return s;
}

/* A deterministic stand-in for log-mel features: values in [-12, 2]. */
static void fill_inputs(float *x, size_t n) {
    uint64_t z = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        z = z * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = -12.0f + 14.0f * (float)((z >> 40) & 0xFFFFFF) / 16777216.0f;
    }
}

static bl_status unit_model(bench_ctx *b, int batch, bench_shared *sh) {
    const bl_bench_opts *o = b->o;
    bl_bench_row *row = &sh->row;
    BL_TRY(bl_model_load(o->model, NULL, &b->graph));
    const bl_graph *g = b->graph;
    bl_exec_opts eo = bl_exec_opts_default();
    eo.max_batch = batch;
    eo.threads = o->threads;
    bl_exec *ex = NULL;
    float *x = malloc((size_t)batch * (size_t)b->per_item * sizeof *x);
    void **outs = calloc((size_t)g->n_outputs, sizeof *outs);
    int64_t calls = (int64_t)ceil(b->windows / batch);
    if (calls < 1) calls = 1;
    int64_t lat_cap = calls * o->repeat < BL_BENCH_LAT_CAP ? calls * o->repeat : BL_BENCH_LAT_CAP;
    double *lat = malloc((size_t)lat_cap * sizeof *lat);
    bl_status s = x && outs && lat ? BL_OK : BL_ERROR(BL_ERR_NOMEM, "out of memory for a batch of %d", batch);
    for (int j = 0; s == BL_OK && j < g->n_outputs; j++) {
        const bl_tensor *t = &g->tensors[g->outputs[j]];
        int64_t n = bl_tensor_numel(t, batch);
        outs[j] = malloc((size_t)(n > 0 ? n : 1) * (bl_dtype_size(t->dtype) ? bl_dtype_size(t->dtype) : 8));
        if (!outs[j]) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for the model's outputs");
    }
    if (s == BL_OK) s = bl_exec_create(b->be, g, &eo, &ex);
    if (s == BL_OK) fill_inputs(x, (size_t)batch * (size_t)b->per_item);
    int n = o->warmup + o->repeat, k = 0;
    double t[64];
    int64_t n_lat = 0;
    const void *ins[1] = {x};
    for (int i = 0; s == BL_OK && i < n && k < 64; i++) {
        sh->run = i + 1;
        bool timed = i >= o->warmup;
        double t0 = now_s();
        for (int64_t c = 0; s == BL_OK && c < calls; c++) {
            if (stopping(b)) s = BL_ERROR(BL_ERR_IO, "interrupted");
            double c0 = now_s();
            if (s == BL_OK) s = bl_exec_run(ex, batch, ins, outs);
            if (timed && n_lat < lat_cap) lat[n_lat++] = now_s() - c0;
        }
        if (s == BL_OK && timed) t[k++] = now_s() - t0;
    }
    if (s == BL_OK) {
        fill_times(row, t, k, b->card_ok ? b->audio_s : 0, b->windows);
        row->stage_s[BENCH_ST_MODEL] = row->time_s;
        row->gflops = row->time_s > 0 ? (double)b->r->flops_per_item * batch * (double)calls / row->time_s * 1e-9 : 0;
        lat_percentiles(row, lat, n_lat);
    }
    bl_exec_free(ex);
    for (int j = 0; outs && j < g->n_outputs; j++) free(outs[j]);
    free(outs);
    free(x);
    free(lat);
    return s;
}

/* --only frontend (the front end's time; decoding untimed) and --only io (decode and
 * resample timed). Blocks of runtime.block_seconds, as the pipeline reads them. */
static bl_status unit_stream(bench_ctx *b, bool frontend, bench_shared *sh) {
    const bl_bench_opts *o = b->o;
    bl_bench_row *row = &sh->row;
    bl_config defaults;
    bl_status s = bl_config_init_defaults(&defaults);
    double block_s = defaults.runtime.block_seconds;
    bl_config_free(&defaults);
    bl_frontend *fe = NULL;
    if (s == BL_OK && frontend) s = bl_frontend_create(&b->fp, &fe);
    int n = o->warmup + o->repeat, k = 0;
    double t[64];
    float *out = NULL;
    size_t out_cap = 0;
    for (int i = 0; s == BL_OK && i < n && k < 64; i++) {
        sh->run = i + 1;
        bl_audio_stream_opts ao = {b->r->rate, 0, 0, (size_t)ceil(block_s * b->r->rate)};
        bl_audio_stream *as = NULL;
        bl_fe_stream **st = NULL;
        int nch = 0;
        double t0 = now_s(), busy = 0;
        s = bl_audio_stream_open(b->audio, &ao, &as);
        if (s == BL_OK) nch = bl_audio_stream_channels(as);
        if (s == BL_OK && frontend) {
            st = calloc((size_t)nch, sizeof *st);
            if (!st) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
            for (int c = 0; s == BL_OK && c < nch; c++) s = bl_fe_stream_create(fe, 1, &st[c]);
        }
        for (;;) {
            if (s == BL_OK && stopping(b)) s = BL_ERROR(BL_ERR_IO, "interrupted");
            if (s != BL_OK) break;
            const float *planar;
            size_t got;
            s = bl_audio_stream_next(as, &planar, &got);
            if (s != BL_OK || !frontend) {
                if (got == 0) break;
                continue;
            }
            for (int c = 0; s == BL_OK && c < nch; c++) {
                size_t need = bl_fe_stream_max_frames(st[c], got);
                if (need * (size_t)b->fp.mel.n_mels > out_cap) {
                    free(out);
                    out_cap = need * (size_t)b->fp.mel.n_mels;
                    out = malloc(out_cap * sizeof *out);
                    if (!out) {
                        out_cap = 0;
                        s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
                        break;
                    }
                }
                size_t nf = 0;
                double f0 = now_s();
                if (got) s = bl_fe_stream_push(st[c], planar + (size_t)c * bl_audio_stream_stride(as), got, out, need, &nf);
                else
                    do s = bl_fe_stream_finish(st[c], out, need, &nf);
                    while (s == BL_OK && nf > 0);
                busy += now_s() - f0;
            }
            if (got == 0) break;
        }
        double total = now_s() - t0;
        for (int c = 0; st && c < nch; c++) bl_fe_stream_destroy(st[c]);
        free(st);
        bl_audio_stream_close(as);
        if (s == BL_OK && i >= o->warmup) t[k++] = frontend ? busy : total;
    }
    if (s == BL_OK) {
        fill_times(row, t, k, b->audio_s, 0);
        row->stage_s[frontend ? BENCH_ST_FRONTEND : BENCH_ST_DECODE] = row->time_s;
    }
    free(out);
    bl_frontend_destroy(fe);
    return s;
}

/* ---- children ------------------------------------------------------------------------------ */

/* Run one unit in a child; wait for it showing progress; fill *row. */
static bl_status run_unit(bench_ctx *b, bench_shared *sh, int batch, int idx, int total) {
    const bl_bench_opts *o = b->o;
    memset(sh, 0, sizeof *sh);
    bl_bench_row *row = &b->r->rows[b->r->n_rows];
    memset(row, 0, sizeof *row);
    row->batch = batch;
    for (int st = 0; st < BL_BENCH_STAGES; st++) row->stage_s[st] = -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    BL_RETURN_IF(pid < 0, BL_ERR_THREAD, "cannot start a process to measure in: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed benchmark leaves nothing running */
        if (bl_log_get_level() < BL_LOG_DEBUG) bl_log_set_level(BL_LOG_WARN);
        sh->row = *row;
        bl_status s;
        switch (o->mode) {
        case BL_BENCH_PIPELINE: s = unit_pipeline(b, batch, sh); break;
        case BL_BENCH_MODEL: s = unit_model(b, batch, sh); break;
        case BL_BENCH_FRONTEND: s = unit_stream(b, true, sh); break;
        default: s = unit_stream(b, false, sh); break;
        }
        sh->status = s;
        if (s != BL_OK) snprintf(sh->msg, sizeof sh->msg, "%s", bl_error_message()[0] ? bl_error_message() : bl_strerror(s));
        fflush(NULL);
        _exit(s == BL_OK ? 0 : 1);
    }
    const char *what = o->mode == BL_BENCH_FRONTEND ? "frontend" : o->mode == BL_BENCH_IO ? "io" : NULL;
    bool tty = isatty(2);
    int shown = -1, wst = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t w = wait4(pid, &wst, WNOHANG, &ru);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) break;
        if (o->progress && sh->run > 0 && sh->run != shown) {
            shown = sh->run;
            char unit[48];
            if (what) snprintf(unit, sizeof unit, "%s alone", what);
            else snprintf(unit, sizeof unit, "batch %d (%d of %d)", batch, idx, total);
            fprintf(stderr, "%sbaleen bench: %s: run %d of %d (%d warm-up)%s", tty ? "\r\033[K" : "", unit,
                    shown, o->warmup + o->repeat, o->warmup, tty ? "" : "\n");
            fflush(stderr);
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (o->progress && tty) fputs("\r\033[K", stderr);
    *row = sh->row;
    row->batch = batch;
    row->peak_rss_mb = (double)ru.ru_maxrss / 1024.0;
    b->r->n_rows++;
    if (WIFSIGNALED(wst)) {
        row->failed = true;
        snprintf(row->msg, sizeof row->msg, "the measuring process died of signal %d%s", WTERMSIG(wst),
                 WTERMSIG(wst) == SIGKILL ? " (out of memory?)" : "");
    } else if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0 || sh->status != BL_OK) {
        row->failed = true;
        snprintf(row->msg, sizeof row->msg, "%s", sh->msg[0] ? sh->msg : "the measuring process failed");
    }
    if (row->failed) BL_LOG_W("bench: %s%d: %s", what ? "" : "batch ", what ? 0 : batch, row->msg);
    return BL_OK;
}

/* --compete N: N processes spinning in user space, never sleeping (docs/benchmarks.md). */
static void start_busy_loops(pid_t *pids, int n) {
    for (int i = 0; i < n; i++) {
        fflush(NULL);
        pids[i] = fork();
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
            if (getppid() == 1) _exit(0);
            volatile uint64_t x = 1;
            for (;;) x = x * 6364136223846793005ull + 1;
        }
    }
}

static void stop_busy_loops(pid_t *pids, int n) {
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) kill(pids[i], SIGKILL), waitpid(pids[i], NULL, 0);
}

/* ---- the run ----------------------------------------------------------------------------------- */

static bl_status measure(bench_ctx *b, bench_shared *sh) {
    const bl_bench_opts *o = b->o;
    bl_bench_report *r = b->r;
    if (o->mode == BL_BENCH_FRONTEND || o->mode == BL_BENCH_IO) return run_unit(b, sh, 0, 1, 1);
    if (!o->batch_auto) {
        for (int i = 0; i < o->n_batches && !stopping(b); i++) BL_TRY(run_unit(b, sh, o->batches[i], i + 1, o->n_batches));
        return BL_OK;
    }
    /* --batch auto: powers of two from 1, until two sizes in a row fall below the best's
     * spread, a size fails (memory), or 1024 */
    int below = 0, best = -1;
    for (int bs = 1, i = 1; bs <= 1024 && r->n_rows < BL_BENCH_MAX_BATCHES && !stopping(b); bs *= 2, i++) {
        BL_TRY(run_unit(b, sh, bs, i, 0));
        const bl_bench_row *row = &r->rows[r->n_rows - 1];
        if (row->failed) break;
        if (best < 0 || row->windows_per_s > r->rows[best].windows_per_s) {
            best = r->n_rows - 1;
            below = 0;
        } else if (row->windows_per_s < r->rows[best].windows_per_s_min) {
            if (++below == 2) break;
        }
    }
    return BL_OK;
}

bl_status bl_bench_run(const bl_bench_opts *o, bl_bench_report *r) {
    BL_RETURN_IF(!o || !r || !o->model || o->threads < 1 || o->repeat < 1 || o->warmup < 0, BL_ERR_INVALID_ARG,
                 "bl_bench_run: bad options");
    memset(r, 0, sizeof *r);
    r->opts = *o;
    bench_ctx b;
    memset(&b, 0, sizeof b);
    b.o = o;
    b.r = r;
    bench_shared *sh = MAP_FAILED;
    pid_t busy[64] = {0};
    int n_busy = o->compete < 64 ? o->compete : 64;
    bl_status s = setup_backend(&b);
    if (s == BL_OK) s = setup_model(&b);
    if (s == BL_OK) s = setup_audio(&b);
    if (s == BL_OK) {
        sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (sh == MAP_FAILED) s = BL_ERROR(BL_ERR_NOMEM, "cannot map memory for the measurements: %s", strerror(errno));
    }
    if (s == BL_OK) {
        bl_bench_env_collect(&r->env, o->threads);
        char msg[320];
        if (bl_bench_busy_warning(&r->env, msg, sizeof msg)) {
            snprintf(r->warnings[r->n_warnings++], sizeof r->warnings[0], "%s", msg);
            BL_LOG_W("bench: %s", msg);
        }
        uint64_t st0 = 0, tot0 = 0, st1 = 0, tot1 = 0;
        bool ticks = bl_bench_cpu_ticks(&st0, &tot0);
        start_busy_loops(busy, n_busy);
        s = measure(&b, sh);
        stop_busy_loops(busy, n_busy);
        if (ticks && bl_bench_cpu_ticks(&st1, &tot1) && tot1 > tot0) {
            r->env.steal_share = (double)(st1 - st0) / (double)(tot1 - tot0);
            if (bl_bench_busy_warning(&r->env, msg, sizeof msg) && r->env.steal_share > 0.05 && r->n_warnings < 8)
                snprintf(r->warnings[r->n_warnings++], sizeof r->warnings[0], "%s", msg);
        }
        if (s == BL_OK && stopping(&b)) s = BL_ERROR(BL_ERR_IO, "interrupted");
    }
    if (s == BL_OK) {
        int ok = 0;
        for (int i = 0; i < r->n_rows; i++) ok += !r->rows[i].failed;
        if (ok == 0) s = BL_ERROR(BL_ERR_MODEL, "nothing could be measured: %s", r->n_rows ? r->rows[0].msg : "no unit ran");
    }
    if (s == BL_OK) {
        for (int i = 0; i < r->n_rows && r->n_warnings < 8; i++)
            if (!r->rows[i].failed && r->rows[i].spread > 0.10) {
                char unit[32];
                if (r->rows[i].batch) snprintf(unit, sizeof unit, "batch %d", r->rows[i].batch);
                else snprintf(unit, sizeof unit, "%s", o->mode == BL_BENCH_IO ? "io" : "frontend");
                snprintf(r->warnings[r->n_warnings++], sizeof r->warnings[0],
                         "%s: the runs spread by %.0f%% (> 10%%): its figures are uncertain; rerun with a larger "
                         "--repeat, on a quieter machine", unit, 100 * r->rows[i].spread);
            }
        if (o->batch_auto) r->recommended = bl_bench_recommend(r->rows, r->n_rows, r->why, sizeof r->why);
    }
    if (sh != MAP_FAILED) munmap(sh, sizeof *sh);
    rm_tree(b.tmp);
    bl_graph_free(b.graph);
    bl_card_free(&b.card);
    return s;
}
