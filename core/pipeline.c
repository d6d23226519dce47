/* pipeline.c — `baleen run` end to end (pipeline.h): set up the model, front end, plan and
 * output directory; start the stage threads (stages.c: readers; scorer.c; progress), run the
 * model stage (stages.c) on the caller's thread; join, close the outputs, summarise. Also
 * the dry run.
 *
 * Owns: the run context (pipeline_impl.h) and everything it points to; the slots' packet
 * pools are allocated and freed here. Memory is bounded by configuration: per file in
 * flight a pool of BL_PACKETS_PER_SLOT packets of BL_WINDOWS_PER_PACKET windows plus one
 * decode block (runtime.block_seconds) and the front end's carry; one batch for the model;
 * BL_SCORE_QUEUE batches of scores; and the rows of the items the output directory holds
 * back to keep plan order.
 *
 * Threading: bl_pipeline_run is called from one thread, which creates the executor and then
 * runs the model stage (run_threads says why); see pipeline_impl.h for how the stages share
 * the context.
 */
#include <inttypes.h> /* PRId64 */
#include <math.h>     /* ceil */
#include <stdio.h>
#include <stdlib.h>   /* calloc, free, getenv */
#include <string.h>   /* memset, strcmp */
#include <time.h>     /* clock_gettime, nanosleep, gmtime_r */
#include <unistd.h>   /* sysconf: the CPUs the contention reading counts */

#include "cudamod.h"        /* whether the CUDA module and a GPU can run here, and why not */
#include "infile.h"         /* bl_format_size for the memory messages */
#include "io/json.h"         /* bl_strbuf for headers */
#include "log.h"            /* BL_LOG_* */
#include "models/onnx_load.h" /* bl_model_load, bl_model_resolve_path */
#include "pipeline_impl.h"  /* bl_run_ctx */
#include "progress.h"       /* live line, JSON records, summary */
#include "sysinfo.h"        /* the memory limit and resident size for the estimate */

#define BL_WINDOWS_PER_PACKET 32
#define BL_PACKETS_PER_SLOT 4
#define BL_SCORE_QUEUE 8

static const char *const k_stage_names[BL_ST_COUNT] = {"decode", "frontend", "model", "score+write"};

const char *bl_run_stage_name(int stage) { return stage >= 0 && stage < BL_ST_COUNT ? k_stage_names[stage] : "?"; }

int64_t bl_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void close_all(bl_run_ctx *c) {
    for (int s = 0; c->slots && s < c->n_slots; s++) {
        if (c->slots[s].ready) bl_queue_close(c->slots[s].ready);
        if (c->slots[s].free) bl_queue_close(c->slots[s].free);
    }
    if (c->score_q) bl_queue_close(c->score_q);
}

void bl_run_stop(bl_run_ctx *c) {
    atomic_store(&c->stopping, 1);
    close_all(c);
}

bl_status bl_run_fail(bl_run_ctx *c, bl_status s) {
    pthread_mutex_lock(&c->err_mu);
    if (c->fatal == BL_OK) {
        c->fatal = s;
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "%s", bl_error_message()[0] ? bl_error_message() : bl_strerror(s));
    }
    pthread_mutex_unlock(&c->err_mu);
    bl_run_stop(c);
    return s;
}

static void utc_now(char *buf, size_t cap) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- set-up ------------------------------------------------------------------------------ */

/* Card, front end and window geometry (no graph): what the dry run needs too. */
static bl_status setup_card(bl_run_ctx *c) {
    const bl_config *cfg = c->cfg;
    bl_status s = bl_card_load(cfg->model, &c->card);
    if (s != BL_OK) {
        bl_error_prefix("model %s: ", cfg->model);
        return s == BL_ERR_NOT_FOUND ? BL_ERR_CONFIG : s;
    }
    BL_TRY(bl_card_resolve_frontend(&c->card, cfg, &c->fp));
    if (cfg->windows.window_frames > 0) c->card.window_frames = cfg->windows.window_frames;
    if (cfg->windows.hop_frames > 0) c->card.hop_frames = cfg->windows.hop_frames;
    c->rate = c->fp.sample_rate;
    c->n_mels = c->fp.mel.n_mels;
    c->win = c->card.window_frames;
    c->hop_f = c->card.hop_frames;
    c->hop_len = c->fp.hop_length;
    c->n_classes = (int)c->card.n_classes;
    c->batch = cfg->batch.size;
    BL_RETURN_IF(c->win < 1 || c->hop_f < 1, BL_ERR_CONFIG, "model %s: window_frames (%d) and hop_frames (%d) must be >= 1",
                 cfg->model, c->win, c->hop_f);
    /* the same rules as a card's, wherever the numbers came from */
    BL_RETURN_IF(c->hop_f > c->win, BL_ERR_CONFIG,
                 "%s: hop_frames (%d) must be <= window_frames (%d) so that every frame is scored",
                 bl_config_key_is_set(cfg, "windows.hop_frames") || bl_config_key_is_set(cfg, "windows.window_frames")
                     ? "windows" : "the model card", c->hop_f, c->win);
    double hop_s = (double)c->hop_f * c->fp.hop_length / c->rate;
    BL_RETURN_IF(cfg->pooling.segment_seconds < hop_s, BL_ERR_CONFIG,
                 "pooling.segment_seconds: %g s is shorter than one window hop (%g s = %d frames of %d samples at "
                 "%d Hz); a segment must hold at least one window start", cfg->pooling.segment_seconds, hop_s,
                 c->hop_f, c->fp.hop_length, c->rate);
    BL_RETURN_IF(c->n_classes < 1, BL_ERR_CONFIG, "model %s: the card lists no classes", cfg->model);
    c->n_aggs = 0;
    BL_RETURN_IF(cfg->pooling.n_aggregates > sizeof c->aggs / sizeof c->aggs[0], BL_ERR_CONFIG,
                 "pooling.aggregates: at most %zu", sizeof c->aggs / sizeof c->aggs[0]);
    for (size_t i = 0; i < cfg->pooling.n_aggregates; i++) BL_TRY(bl_agg_parse(cfg->pooling.aggregates[i], &c->aggs[c->n_aggs++]));
    return BL_OK;
}

/* The graph, checked against the card (no executor yet: nothing big is allocated). */
static bl_status setup_graph(bl_run_ctx *c) {
    const bl_config *cfg = c->cfg;
    BL_TRY(bl_model_resolve_path(cfg->model, c->model_onnx, sizeof c->model_onnx));
    BL_TRY(bl_rundesc_sha256_file(c->model_onnx, c->model_sha256));
    BL_TRY(bl_model_load(c->model_onnx, NULL, &c->graph));
    BL_TRY(bl_card_check_graph(&c->card, c->graph));
    BL_RETURN_IF(c->graph->n_inputs != 1, BL_ERR_CONFIG,
                 "model %s: %d graph inputs; baleen feeds models with exactly one (the windows)", c->model_onnx,
                 c->graph->n_inputs);
    c->input_index = bl_card_input_index(&c->card, c->graph);
    c->apply_act = bl_card_activation_needed(&c->card, c->graph);
    return BL_OK;
}

/* The executor's planned bytes (packed weights, arena, workspace) for max_batch. */
static bl_status exec_bytes(const bl_exec_backend *be, const bl_graph *g, int threads, int64_t max_batch,
                            int64_t *bytes) {
    bl_exec_opts eo = bl_exec_opts_default();
    eo.max_batch = max_batch;
    eo.threads = threads;
    bl_exec *ex = NULL;
    BL_TRY(bl_exec_create(be, g, &eo, &ex));
    bl_exec_stats st;
    bl_exec_get_stats(ex, &st);
    bl_exec_free(ex);
    *bytes = st.arena_bytes + st.workspace_bytes + st.packed_weight_bytes;
    return BL_OK;
}

/* What this configuration will need (core/memest.h), from the executor's plan, the plan of
 * work and the config; made before the real executor and the block pool exist. The
 * executor's part is measured on executors for small batches (built, never run: their
 * buffers are planned, not touched) and extrapolated, so an absurd batch.size costs nothing
 * to refuse. */
static bl_status estimate_memory(bl_run_ctx *c, const bl_exec_backend *be, bl_memest *m) {
    bl_memest_in in = {0};
    enum { P1 = 8, P2 = 16 };
    int64_t b1 = 0, b2 = 0;
    BL_TRY(exec_bytes(be, c->graph, c->o->threads, c->batch < P1 ? c->batch : P1, &b1));
    if (c->batch <= P1) in.exec_bytes = b1;
    else {
        BL_TRY(exec_bytes(be, c->graph, c->o->threads, P2, &b2));
        double slope = (double)(b2 - b1) / (P2 - P1);
        in.exec_bytes = b2 + (int64_t)(slope * (double)(c->batch - P2));
        if (in.exec_bytes < b1) in.exec_bytes = b1;
    }
    in.base_bytes = bl_sys_rss_bytes();
    in.in_floats_per_item = (int64_t)c->n_mels * c->win;
    for (int j = 0; j < c->graph->n_outputs; j++) {
        int64_t n = bl_tensor_numel(&c->graph->tensors[c->graph->outputs[j]], 1);
        in.out_floats_per_item += n > 0 ? n : 0;
    }
    in.batch = c->batch;
    in.files_in_flight = c->cfg->runtime.files_in_flight;
    if ((size_t)in.files_in_flight > c->plan.n_inputs) in.files_in_flight = (int)c->plan.n_inputs;
    in.packets_per_slot = BL_PACKETS_PER_SLOT;
    in.windows_per_packet = BL_WINDOWS_PER_PACKET;
    double bs = c->cfg->runtime.block_seconds * c->rate;
    in.block_frames = bs < 1 ? 1 : (int64_t)ceil(bs);
    in.max_rate_ratio = 1;
    for (size_t i = 0; i < c->plan.n_inputs; i++) {
        const bl_input *x = &c->plan.inputs[i];
        if (x->channels > in.max_channels) in.max_channels = x->channels;
        if (x->sample_rate > 0 && (double)x->sample_rate / c->rate > in.max_rate_ratio)
            in.max_rate_ratio = (double)x->sample_rate / c->rate;
    }
    bl_memest_compute(&in, m);
    return BL_OK;
}

/* Refuse a configuration whose estimate does not fit in what the process may use. */
static bl_status check_memory(bl_run_ctx *c, const bl_exec_backend *be) {
    BL_TRY(estimate_memory(c, be, &c->mem));
    char how[96], est[512], lim[64];
    int64_t limit = bl_sys_memory_limit(how, sizeof how);
    bl_memest_format(&c->mem, est, sizeof est);
    BL_LOG_D("run: memory estimate %s; limit %lld bytes (%s)", est, (long long)limit, how);
    if (limit > 0 && c->mem.total > limit) {
        bl_format_size((uint64_t)limit, lim, sizeof lim);
        return BL_ERROR(BL_ERR_CONFIG,
                        "this configuration needs about %s, more than the %s this process may use (%s); lower "
                        "batch.size (now %d), runtime.files_in_flight (%d) or runtime.block_seconds (%g)",
                        est, lim, how, c->batch, c->cfg->runtime.files_in_flight, c->cfg->runtime.block_seconds);
    }
    return BL_OK;
}

/* The executor's backend as runtime.backend asks (a one-line notice for auto). */
static bl_status pick_backend(const bl_run_ctx *c, const bl_exec_backend **out) {
    const bl_config *cfg = c->cfg;
    const bl_exec_backend *be = NULL;
    if (cfg->runtime.backend != BL_BACKEND_CPU) {
        /* the module (core/cudamod.h) says whether a GPU can run here, and why not */
        const bl_cuda_info *ci = bl_cuda_module_get();
        be = ci->status == BL_CUDA_OK ? bl_exec_backend_find("cuda") : NULL;
        const char *why = ci->status != BL_CUDA_OK
                              ? ci->reason
                              : "a GPU answers, but this version of baleen runs models on the CPU only (the device "
                                "path and the CUDA executor are the next steps)";
        if (cfg->runtime.backend == BL_BACKEND_CUDA)
            BL_RETURN_IF(!be, BL_ERR_CONFIG, "runtime.backend cuda: %s; use --backend cpu or auto (baleen devices "
                         "lists what this machine has)", why);
        if (!be) BL_LOG_I("run: backend auto: cpu (%s)", why);
        else BL_LOG_I("run: backend auto: cuda");
    }
    if (!be) be = bl_exec_backend_cpu();
    *out = be;
    return BL_OK;
}

/* Refuse a configuration that does not fit (check_memory), then build the executor and the
 * front end. */
static bl_status setup_exec(bl_run_ctx *c, char *backend, size_t cap) {
    const bl_exec_backend *be = NULL;
    BL_TRY(pick_backend(c, &be));
    snprintf(backend, cap, "%s", be->name);
    snprintf(c->backend, sizeof c->backend, "%s", be->name);
    BL_TRY(check_memory(c, be));
    bl_exec_opts eo = bl_exec_opts_default();
    eo.max_batch = c->batch;
    eo.threads = c->o->threads;
    BL_TRY(bl_exec_create(be, c->graph, &eo, &c->ex));
    const char *ad = getenv("BL_ADAPT_THREADS"); /* the A/B switch (docs/benchmarks.md) */
    c->adapt = c->o->adapt_threads && c->o->threads > 1 && !(ad && !strcmp(ad, "0")) && be->set_threads;
    bl_thread_fit_init(&c->fit, c->o->threads);
    c->exec_threads = c->o->threads;
    BL_TRY(bl_frontend_create(&c->fp, &c->fe));
    return BL_OK;
}

static bl_status setup_plan(bl_run_ctx *c) {
    BL_TRY(bl_plan_build(c->cfg->sources, c->cfg->n_sources, &c->plan));
    size_t ni = c->plan.n_inputs;
    c->first_item = calloc(ni ? ni : 1, sizeof *c->first_item);
    c->n_items_of = calloc(ni ? ni : 1, sizeof *c->n_items_of);
    c->file_skip = calloc(ni ? ni : 1, sizeof *c->file_skip);
    c->files = calloc(ni ? ni : 1, sizeof *c->files);
    c->done = calloc(c->plan.n_items ? c->plan.n_items : 1, sizeof *c->done);
    BL_RETURN_IF(!c->first_item || !c->n_items_of || !c->file_skip || !c->files || !c->done, BL_ERR_NOMEM,
                 "out of memory for a plan of %zu inputs", ni);
    for (size_t i = 0; i < ni; i++) c->first_item[i] = -1;
    for (size_t k = 0; k < c->plan.n_items; k++) {
        const bl_work_item *wi = &c->plan.items[k];
        BL_RETURN_IF(wi->index != (int64_t)k || wi->input >= ni, BL_ERR_INTERNAL, "work item %zu is out of order", k);
        if (c->first_item[wi->input] < 0) c->first_item[wi->input] = (int64_t)k;
        BL_RETURN_IF(wi->channel != c->n_items_of[wi->input] || (int64_t)k != c->first_item[wi->input] + wi->channel,
                     BL_ERR_INTERNAL, "the items of input %zu are not one per channel in order", wi->input);
        c->n_items_of[wi->input]++;
    }
    for (size_t i = 0; i < ni; i++)
        if (c->plan.inputs[i].has_utc) c->utc_cols = true;
    c->clips = c->cfg->output.clips_enabled;
    return BL_OK;
}

static void header(bl_strbuf *b, const bl_run_ctx *c, bl_table_id t) {
    const char *utc = c->utc_cols ? ",start_utc,end_utc" : "";
    if (t == BL_TABLE_SEGMENTS) {
        bl_strbuf_printf(b, "source,channel,start_s,end_s%s,class", utc);
        for (int a = 0; a < c->n_aggs; a++) bl_strbuf_printf(b, ",%s", c->aggs[a].name);
    } else if (t == BL_TABLE_EVENTS) {
        bl_strbuf_printf(b, "source,channel,class,start_s,end_s,peak,mean%s%s", utc, c->clips ? ",clip" : "");
    } else {
        bl_strbuf_printf(b, "source,channel,start_s,end_s%s", utc);
        for (int k = 0; k < c->n_classes; k++) {
            bl_strbuf_puts(b, ",");
            bl_csv_append(b, c->card.classes[k]);
        }
    }
}

static bl_status setup_outdir(bl_run_ctx *c) {
    bl_strbuf h[BL_TABLE_COUNT] = {{0}};
    header(&h[BL_TABLE_SEGMENTS], c, BL_TABLE_SEGMENTS);
    header(&h[BL_TABLE_EVENTS], c, BL_TABLE_EVENTS);
    if (c->cfg->persist.window_scores) header(&h[BL_TABLE_WINDOW_SCORES], c, BL_TABLE_WINDOW_SCORES);
    char *fp = bl_rundesc_fingerprint(c);
    bl_status s = fp ? BL_OK : BL_ERROR(BL_ERR_NOMEM, "out of memory for the run's fingerprint");
    for (int t = 0; t < BL_TABLE_COUNT; t++)
        if (h[t].oom) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for the table headers");
    if (s == BL_OK) {
        bl_outdir_opts oo = {0};
        oo.dir = c->cfg->output.dir;
        oo.rows_per_chunk = c->cfg->output.rows_per_chunk;
        oo.zstd_level = c->cfg->output.zstd_level;
        oo.resume = c->o->resume;
        oo.force_dir = c->o->force_dir;
        oo.n_items = (int64_t)c->plan.n_items;
        oo.fingerprint = fp;
        for (int t = 0; t < BL_TABLE_COUNT; t++) oo.headers[t] = h[t].data;
        s = bl_outdir_open(&oo, &c->od);
    }
    free(fp);
    for (int t = 0; t < BL_TABLE_COUNT; t++) bl_strbuf_free(&h[t]);
    BL_TRY(s);
    if (c->cfg->persist.features) BL_TRY(bl_run_features_sweep(c));
    for (size_t k = 0; k < c->plan.n_items; k++) {
        c->done[k] = bl_outdir_item_done(c->od, (int64_t)k);
        if (c->o->resume) {
            char *key = bl_run_item_key(c, (int64_t)k);
            BL_CHECK_ALLOC(key);
            bl_status ks = bl_outdir_verify_item_key(c->od, (int64_t)k, key);
            free(key);
            BL_TRY(ks);
        }
    }
    for (size_t i = 0; i < c->plan.n_inputs; i++) {
        bool all = true;
        for (int k = 0; k < c->n_items_of[i]; k++) all = all && c->done[c->first_item[i] + k];
        c->file_skip[i] = all;
    }
    return BL_OK;
}

static bl_status setup_slots(bl_run_ctx *c) {
    c->n_slots = c->cfg->runtime.files_in_flight;
    c->slots = calloc((size_t)c->n_slots, sizeof *c->slots);
    BL_CHECK_ALLOC(c->slots);
    BL_TRY(bl_queue_create(BL_SCORE_QUEUE, &c->score_q));
    size_t per = (size_t)c->n_mels * (size_t)c->win;
    for (int s = 0; s < c->n_slots; s++) {
        bl_slot *sl = &c->slots[s];
        sl->n_pool = BL_PACKETS_PER_SLOT;
        sl->pool = calloc((size_t)sl->n_pool, sizeof *sl->pool);
        BL_CHECK_ALLOC(sl->pool);
        BL_TRY(bl_queue_create((size_t)sl->n_pool, &sl->ready));
        BL_TRY(bl_queue_create((size_t)sl->n_pool, &sl->free));
        for (int p = 0; p < sl->n_pool; p++) {
            bl_packet *pk = &sl->pool[p];
            pk->cap = BL_WINDOWS_PER_PACKET;
            pk->channel = malloc((size_t)pk->cap * sizeof *pk->channel);
            pk->start = malloc((size_t)pk->cap * sizeof *pk->start);
            pk->data = malloc((size_t)pk->cap * per * sizeof *pk->data);
            BL_RETURN_IF(!pk->channel || !pk->start || !pk->data, BL_ERR_NOMEM,
                         "out of memory for the block pool (%d windows of %d x %d)", pk->cap, c->n_mels, c->win);
            bl_queue_push(sl->free, pk);
        }
    }
    double bs = c->cfg->runtime.block_seconds * c->rate;
    c->block_frames = bs < 1 ? 1 : (size_t)ceil(bs);
    return BL_OK;
}

static void ctx_free(bl_run_ctx *c) {
    for (int s = 0; c->slots && s < c->n_slots; s++) {
        bl_slot *sl = &c->slots[s];
        for (int p = 0; sl->pool && p < sl->n_pool; p++) {
            free(sl->pool[p].channel);
            free(sl->pool[p].start);
            free(sl->pool[p].data);
        }
        free(sl->pool);
        bl_queue_destroy(sl->ready);
        bl_queue_destroy(sl->free);
    }
    free(c->slots);
    bl_queue_destroy(c->score_q);
    bl_exec_free(c->ex);
    bl_graph_free(c->graph);
    bl_frontend_destroy(c->fe);
    bl_card_free(&c->card);
    for (size_t i = 0; c->files && i < c->plan.n_inputs; i++) { /* before the plan goes: its count */
        for (int k = 0; k < c->files[i].channels; k++) {
            if (c->files[i].ch_fail) free(c->files[i].ch_fail[k]);
            if (c->files[i].ch_warn) free(c->files[i].ch_warn[k]);
        }
        free(c->files[i].ch_fail);
        free(c->files[i].ch_warn);
    }
    bl_plan_free(&c->plan);
    free(c->first_item);
    free(c->n_items_of);
    free(c->file_skip);
    free(c->files);
    free(c->done);
    pthread_mutex_destroy(&c->err_mu);
}

static bl_status ctx_init(bl_run_ctx *c, const bl_run_opts *o) {
    memset(c, 0, sizeof *c);
    c->o = o;
    c->cfg = o->cfg;
    BL_RETURN_IF(pthread_mutex_init(&c->err_mu, NULL) != 0, BL_ERR_THREAD, "cannot create a mutex");
    return BL_OK;
}

/* ---- progress ------------------------------------------------------------------------------ */

static void snapshot(bl_run_ctx *c, int64_t t0, bl_progress_snap *s) {
    memset(s, 0, sizeof *s);
    s->files_total = (int64_t)c->plan.n_inputs;
    s->items_total = (int64_t)c->plan.n_items;
    for (size_t i = 0; i < c->plan.n_inputs; i++) {
        const bl_input *in = &c->plan.inputs[i];
        if (c->file_skip[i]) {
            s->files_total--;
            continue;
        }
        double len = in->frames >= 0 && in->sample_rate > 0 ? (double)in->frames / in->sample_rate : 0;
        if (in->end_s > 0 && in->end_s < len) len = in->end_s;
        len -= in->start_s;
        if (len > 0) s->audio_total_s += len;
    }
    for (size_t k = 0; k < c->plan.n_items; k++)
        if (c->done[k]) s->items_total--;
    s->files_done = atomic_load(&c->files_done);
    s->items_done = atomic_load(&c->items_committed);
    s->items_failed = atomic_load(&c->items_failed);
    s->items_warned = atomic_load(&c->items_warned);
    s->mem_estimate = c->mem.total;
    s->audio_s = (double)atomic_load(&c->samples_done) / (c->rate > 0 ? c->rate : 1);
    s->wall_s = (double)(bl_now_ns() - t0) * 1e-9;
    for (int i = 0; i < BL_ST_COUNT; i++) {
        s->busy_s[i] = (double)atomic_load(&c->busy_ns[i]) * 1e-9;
        s->stage_names[i] = k_stage_names[i];
    }
}

/* ---- the run ------------------------------------------------------------------------------- */

static void *scorer_thread(void *arg) {
    bl_run_ctx *c = arg;
    bl_stage_scorer(c);
    atomic_store(&c->scorer_finished, 1);
    return NULL;
}

typedef struct {
    bl_run_ctx *c;
    int64_t t0;
} progress_arg;

/* Show progress and pass on a stop request until the scorer is done. */
static void *progress_thread(void *arg) {
    const progress_arg *pa = arg;
    bl_run_ctx *c = pa->c;
    const bl_progress_mode pm = c->o->progress;
    int64_t last = bl_now_ns();
    bool drew = false;
    bl_cpushare share; /* adapt: other work's share of the CPUs, read every 50 ms */
    bl_cpushare_init(&share, (int)sysconf(_SC_NPROCESSORS_ONLN));
    while (!atomic_load(&c->scorer_finished)) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
        if (c->adapt && bl_cpushare_read(&share)) {
            int fewer = bl_cpushare_fewer(&share, c->fit.max);
            int was = atomic_exchange(&c->contended, fewer);
            if ((was > 0) != (fewer > 0))
                BL_LOG_D("run: %.1f runnable threads of other processes on %d CPUs: %s", share.others, share.cpus,
                         was ? "the CPUs are free again" : "the CPUs are shared");
        }
        if (c->o->stop && *c->o->stop && !bl_run_stopping(c)) bl_run_stop(c);
        int64_t now = bl_now_ns();
        int64_t every = pm == BL_PROGRESS_JSON ? 1000000000 : 250000000;
        if (pm != BL_PROGRESS_NONE && now - last >= every) {
            bl_progress_snap snap;
            snapshot(c, pa->t0, &snap);
            if (pm == BL_PROGRESS_JSON) bl_progress_json(stderr, &snap);
            else bl_progress_line(stderr, &snap), drew = true;
            last = now;
        }
    }
    if (drew) fputs("\r\033[K", stderr);
    return NULL;
}

/* Start the threads, run the model stage on this thread, join.
 *
 * The model stage runs on the thread that created the executor (setup_model): the CPU
 * executor's OpenMP team belongs to the thread that forks it, and libgomp counts the
 * workers of every thread's team together. A second team (the creating thread's, idle)
 * puts the count above the cores, and libgomp then lets idle workers spin only ~1000 times
 * before sleeping in the kernel, so the running team's worker slept and was woken at almost
 * every step (resnet18, batch 32, 2 threads: ~4000 sleeps per hour of audio, each step 15-25%
 * slower than in `baleen model run`). Progress runs on a thread of its own instead. */
static bl_status run_threads(bl_run_ctx *c, int64_t t0) {
    bl_reader_arg *ra = calloc((size_t)c->n_slots, sizeof *ra);
    pthread_t *rt = calloc((size_t)c->n_slots, sizeof *rt);
    bool *started = calloc((size_t)c->n_slots, sizeof *started);
    pthread_t pt, st;
    bool p_ok = false, s_ok = false;
    progress_arg pa = {c, t0};
    bl_status s = ra && rt && started ? BL_OK : BL_ERROR(BL_ERR_NOMEM, "out of memory");
    if (s == BL_OK) {
        s_ok = pthread_create(&st, NULL, scorer_thread, c) == 0;
        p_ok = s_ok && pthread_create(&pt, NULL, progress_thread, &pa) == 0;
        for (int i = 0; p_ok && i < c->n_slots; i++) {
            ra[i].c = c, ra[i].slot = i;
            started[i] = pthread_create(&rt[i], NULL, bl_stage_reader, &ra[i]) == 0;
            if (!started[i]) break;
        }
        for (int i = 0; i < c->n_slots; i++)
            if (!started[i]) {
                s = bl_run_fail(c, BL_ERROR(BL_ERR_THREAD, "cannot start the pipeline's threads"));
                break;
            }
        /* the model stage drains the readers' queues (or returns at once when stopping), so
         * the readers and the scorer end */
        if (s_ok) bl_stage_model(c);
    }
    for (int i = 0; i < c->n_slots; i++)
        if (started && started[i]) pthread_join(rt[i], NULL);
    if (s_ok) pthread_join(st, NULL);
    if (p_ok) pthread_join(pt, NULL);
    if (!s_ok || (!p_ok && s == BL_OK)) s = BL_ERROR(BL_ERR_THREAD, "cannot start the pipeline's threads");
    free(ra);
    free(rt);
    free(started);
    return s;
}

static bl_status write_run_json(bl_run_ctx *c, const char *started, const char *ended, const bl_run_result *r) {
    char *json = bl_rundesc_json(c, started, ended, r, r ? r->backend : "");
    BL_RETURN_IF(!json, BL_ERR_NOMEM, "out of memory for run.json");
    bl_status s = bl_outdir_write_run_json(c->od, json);
    free(json);
    return s;
}

bl_status bl_pipeline_run(const bl_run_opts *o, bl_run_result *result) {
    BL_RETURN_IF(!o || !o->cfg || !result || o->threads < 1, BL_ERR_INVALID_ARG, "bl_pipeline_run: bad options");
    memset(result, 0, sizeof *result);
    bl_run_ctx *c = malloc(sizeof *c);
    BL_CHECK_ALLOC(c);
    bl_status s = ctx_init(c, o);
    if (s != BL_OK) {
        free(c);
        return s;
    }
    int64_t t0 = bl_now_ns();
    char started[40], ended[40];
    utc_now(started, sizeof started);
    if (s == BL_OK) s = setup_card(c);
    if (s == BL_OK) s = setup_graph(c);
    if (s == BL_OK) s = setup_plan(c);
    if (s == BL_OK) s = setup_exec(c, result->backend, sizeof result->backend);
    if (s == BL_OK) s = setup_outdir(c);
    if (s == BL_OK) s = setup_slots(c);
    if (s == BL_OK) {
        result->n_items = (int64_t)c->plan.n_items;
        for (size_t k = 0; k < c->plan.n_items; k++) result->n_skipped += c->done[k];
        BL_LOG_I("run: %zu input%s, %zu work item%s (%" PRId64 " already done), model %s %s, %d classes, "
                 "windows %d frames hop %d, batch %d, %d thread%s, backend %s -> %s",
                 c->plan.n_inputs, c->plan.n_inputs == 1 ? "" : "s", c->plan.n_items, c->plan.n_items == 1 ? "" : "s",
                 result->n_skipped, c->card.name, c->card.version, c->n_classes, c->win, c->hop_f, c->batch,
                 o->threads, o->threads == 1 ? "" : "s", result->backend, c->cfg->output.dir);
        s = write_run_json(c, started, NULL, NULL);
    }
    if (s == BL_OK) {
        int64_t t1 = bl_now_ns();
        result->setup_seconds = (double)(t1 - t0) * 1e-9;
        s = run_threads(c, t0);
        result->stream_seconds = (double)(bl_now_ns() - t1) * 1e-9;
        for (int i = 0; i < BL_ST_COUNT; i++) result->stage_busy_s[i] = (double)atomic_load(&c->busy_ns[i]) * 1e-9;
        result->n_windows = atomic_load(&c->windows_done);
        result->n_batches = c->n_batches;
        result->n_batches_fewer_threads = c->adapt ? c->fit.n_reduced : 0;
        if (s == BL_OK && c->fatal != BL_OK) s = BL_ERROR(c->fatal, "%s", c->fatal_msg);
        result->interrupted = s == BL_OK && o->stop && *o->stop;
        result->n_committed = atomic_load(&c->items_committed);
        result->audio_seconds = (double)atomic_load(&c->samples_done) / c->rate;
        result->wall_seconds = (double)(bl_now_ns() - t0) * 1e-9;
        bl_progress_snap snap;
        snapshot(c, t0, &snap);
        if (bl_log_get_level() >= BL_LOG_INFO) bl_progress_summary(stderr, &snap);
        if (s == BL_OK && !result->interrupted) {
            utc_now(ended, sizeof ended);
            int64_t n_failed = 0;
            result->n_failed = atomic_load(&c->items_failed);
            result->n_warned = atomic_load(&c->items_warned);
            s = write_run_json(c, started, ended, result);
            if (s == BL_OK) {
                s = bl_outdir_close(c->od, &n_failed);
                c->od = NULL;
                result->n_failed = n_failed;
            }
        }
        if (s != BL_OK || result->interrupted) {
            bl_status keep = s;
            char msg[2048];
            snprintf(msg, sizeof msg, "%s", bl_error_message());
            bl_outdir_abort(c->od);
            c->od = NULL;
            if (keep != BL_OK) s = BL_ERROR(keep, "%s", msg);
        }
    } else if (c->od) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", bl_error_message());
        bl_outdir_abort(c->od);
        c->od = NULL;
        bl_error_set(s, __FILE__, __LINE__, "%s", msg);
    }
    ctx_free(c);
    free(c);
    return s;
}

/* ---- dry run ------------------------------------------------------------------------------- */

bl_status bl_pipeline_dry_run(const bl_run_opts *o, FILE *f) {
    BL_RETURN_IF(!o || !o->cfg || !f, BL_ERR_INVALID_ARG, "bl_pipeline_dry_run: bad options");
    bl_run_ctx *c = malloc(sizeof *c);
    BL_CHECK_ALLOC(c);
    bl_status s = ctx_init(c, o);
    if (s != BL_OK) {
        free(c);
        return s;
    }
    s = bl_config_dump(c->cfg, f);
    if (s == BL_OK) s = setup_card(c);
    if (s == BL_OK) s = setup_graph(c);
    if (s == BL_OK) s = setup_plan(c);
    const bl_exec_backend *be = NULL;
    if (s == BL_OK) s = pick_backend(c, &be);
    if (s == BL_OK) s = estimate_memory(c, be, &c->mem);
    if (s == BL_OK) {
        char est[512], lim[64], how[96];
        bl_memest_format(&c->mem, est, sizeof est);
        int64_t limit = bl_sys_memory_limit(how, sizeof how);
        bl_format_size((uint64_t)limit, lim, sizeof lim);
        fprintf(f, "\n# memory: about %s; this process may use %s (%s)%s", est, lim, how,
                limit > 0 && c->mem.total > limit ? " — TOO MUCH: the run would be refused" : "");
        fprintf(f, "\n# model: %s (%s %s), %d classes:", c->cfg->model, c->card.name, c->card.version, c->n_classes);
        for (int k = 0; k < c->n_classes; k++) fprintf(f, " %s", c->card.classes[k]);
        fprintf(f,
                "\n# front end: %d Hz, n_fft %d, hop %d, %d mels; windows of %d frames (%.3f s) every %d frames "
                "(%.3f s); batch %d\n",
                c->rate, c->fp.n_fft, c->hop_len, c->n_mels, c->win, (double)c->win * c->hop_len / c->rate, c->hop_f,
                (double)c->hop_f * c->hop_len / c->rate, c->batch);
        fprintf(f, "# output: %s%s\n# work items (%zu, over %zu inputs): item, source, channel, start_s, end_s, "
                   "rate, frames, bytes\n",
                c->cfg->output.dir, o->resume ? " (resume)" : "", c->plan.n_items, c->plan.n_inputs);
        for (size_t k = 0; k < c->plan.n_items; k++) {
            const bl_work_item *wi = &c->plan.items[k];
            const bl_input *in = &c->plan.inputs[wi->input];
            fprintf(f, "#   %" PRId64 ", %s, %d, %.3f, ", wi->index, in->key, wi->channel, in->start_s);
            if (in->end_s >= 0) fprintf(f, "%.3f", in->end_s);
            else fputs("end", f);
            fprintf(f, ", %d, %" PRId64 ", %" PRId64 "\n", in->sample_rate, in->frames, in->bytes);
        }
    }
    ctx_free(c);
    free(c);
    return s;
}
