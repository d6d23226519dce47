/* stage_model.c — the model stage of `baleen run` (pipeline.h, pipeline_impl.h), moved out of
 * stages.c (which keeps the readers) when it gained its pair mode.
 *
 * The stage pops the files' packets strictly in plan order (file 0 from slot 0, file 1 from
 * slot 1, ...), so the sequence of windows it sees is fixed by the plan and the config
 * alone. It fills fixed-shape batches of batch.size, runs the executor, applies the card's
 * activation when the graph does not end with it, and sends the scores to the scorer. An
 * item's BEGIN goes out at once (it precedes its windows); END and FAIL wait until the
 * windows already batched are sent, so the scorer sees every window of an item before its
 * end.
 *
 * Pair mode (issue 11, "under contention"). When other work holds the CPUs and the thread
 * fit (core/cpushare.h) settles on one executor thread, one thread alone gets only its
 * per-thread share of the machine. Instead, a second executor of one thread, on a worker
 * thread of its own, runs every other batch: batch k is handed to the worker, batch k+1 runs
 * here at one thread, then k's scores go out, then k+1's — the order of everything the
 * scorer sees is unchanged, and both executors compute with one thread, so the scores are
 * those of `--threads 1`. There are no barriers between the two (each is a team of one), and
 * two runnable threads get two shares of a contended machine. The worker and its executor
 * are made the first time pair mode is used, only when the memory estimate leaves room for
 * a second executor (core/memest.h); they stay idle afterwards while the CPUs are free.
 *
 * Threading: the stage runs on the thread that built the executor (pipeline.c); the pair
 * worker touches only its executor and the batch it was handed, between a post and the
 * stage's wait (a mutex and a condition variable).
 */
#include <math.h>    /* exp for the activations */
#include <pthread.h> /* the pair worker */
#include <stdio.h>   /* snprintf */
#include <stdlib.h>  /* malloc, free, getenv */
#include <string.h>  /* memcpy, memset */

#include "log.h"            /* BL_LOG_D, BL_LOG_I */
#include "pipeline_impl.h"  /* bl_run_ctx, packets, stage entry points */
#include "sysinfo.h"        /* bl_sys_memory_limit: room for the pair's second executor */

/* One batch's buffers and the controls that must follow its scores. */
typedef struct {
    float *x;            /* batch input [B][1][n_mels][W] */
    void **outs;         /* every graph output, sized for B */
    int nb;              /* windows in the batch */
    int64_t *items, *start;
    bl_score_msg **pend; /* END/FAIL waiting for the batch to go out */
    size_t n_pend, cap_pend;
} batch_buf;

/* The second executor of pair mode and its thread. */
typedef struct {
    bl_run_ctx *c;
    bl_exec *ex; /* one thread */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum { PW_IDLE, PW_POSTED, PW_DONE, PW_QUIT } state;
    batch_buf *b;
    bl_status st;
    char msg[512];
} pair_worker;

typedef struct {
    bl_run_ctx *c;
    batch_buf b;         /* the batch being filled */
    batch_buf fly;       /* pair mode: the batch the worker holds (inflight) or last held */
    bool inflight;
    int64_t fly_t0;      /* when the pair began (the hand-off) */
    pair_worker *pw;     /* NULL until pair mode is first used */
    int pair_state;      /* 0 not tried, 1 available, -1 not possible (memory, creation) */
} model_state;

static bool send_msg(bl_run_ctx *c, bl_score_msg *m) {
    if (bl_queue_push(c->score_q, m)) return true;
    free(m->items);
    free(m->start);
    free(m->scores);
    free(m);
    return false;
}

static bl_score_msg *control(bl_sm_type type, int64_t item) {
    bl_score_msg *m = calloc(1, sizeof *m);
    if (m) m->type = type, m->item = item;
    return m;
}

static void activate(const bl_run_ctx *c, float *y, int n) {
    int C = c->n_classes;
    for (int i = 0; i < n; i++) {
        float *r = y + (size_t)i * C;
        if (c->card.output_activation == BL_ACT_SIGMOID) {
            for (int k = 0; k < C; k++) r[k] = (float)(1.0 / (1.0 + exp(-(double)r[k])));
        } else if (c->card.output_activation == BL_ACT_SOFTMAX) {
            double mx = r[0], sum = 0;
            for (int k = 1; k < C; k++) mx = r[k] > mx ? r[k] : mx;
            for (int k = 0; k < C; k++) sum += exp((double)r[k] - mx);
            for (int k = 0; k < C; k++) r[k] = (float)(exp((double)r[k] - mx) / sum);
        }
    }
}

/* ---- batches ------------------------------------------------------------------------------ */

static bl_status batch_alloc(const bl_run_ctx *c, batch_buf *b) {
    size_t per = (size_t)c->n_mels * (size_t)c->win;
    memset(b, 0, sizeof *b);
    b->x = malloc((size_t)c->batch * per * sizeof(float));
    b->outs = calloc((size_t)c->graph->n_outputs, sizeof *b->outs);
    b->items = malloc((size_t)c->batch * sizeof *b->items);
    b->start = malloc((size_t)c->batch * sizeof *b->start);
    BL_RETURN_IF(!b->x || !b->outs || !b->items || !b->start, BL_ERR_NOMEM, "out of memory for a batch of %d windows",
                 c->batch);
    for (int j = 0; j < c->graph->n_outputs; j++) {
        const bl_tensor *t = &c->graph->tensors[c->graph->outputs[j]];
        int64_t n = bl_tensor_numel(t, c->batch);
        b->outs[j] = malloc((size_t)(n > 0 ? n : 1) * (bl_dtype_size(t->dtype) ? bl_dtype_size(t->dtype) : 8));
        BL_RETURN_IF(!b->outs[j], BL_ERR_NOMEM, "out of memory for the model's outputs");
    }
    return BL_OK;
}

static void batch_free(const bl_run_ctx *c, batch_buf *b) {
    for (size_t i = 0; i < b->n_pend; i++) free(b->pend[i]);
    free(b->pend);
    for (int j = 0; b->outs && j < c->graph->n_outputs; j++) free(b->outs[j]);
    free(b->outs);
    free(b->x);
    free(b->items);
    free(b->start);
    memset(b, 0, sizeof *b);
}

/* Run the batch (padded to B with zeros) on ex. */
static bl_status batch_run(const bl_run_ctx *c, bl_exec *ex, batch_buf *b) {
    size_t per = (size_t)c->n_mels * (size_t)c->win;
    memset(b->x + (size_t)b->nb * per, 0, (size_t)(c->batch - b->nb) * per * sizeof(float));
    const void *ins[1] = {b->x};
    return bl_exec_run(ex, c->batch, ins, b->outs);
}

/* Send the batch's scores (when it has windows), then its waiting controls; empty it. */
static bl_status batch_send(bl_run_ctx *c, batch_buf *b) {
    if (b->nb > 0) {
        bl_score_msg *m = calloc(1, sizeof *m);
        BL_CHECK_ALLOC(m);
        m->type = BL_SM_SCORES;
        m->n = b->nb;
        m->items = malloc((size_t)b->nb * sizeof *m->items);
        m->start = malloc((size_t)b->nb * sizeof *m->start);
        m->scores = malloc((size_t)b->nb * (size_t)c->n_classes * sizeof *m->scores);
        if (!m->items || !m->start || !m->scores) {
            free(m->items), free(m->start), free(m->scores), free(m);
            return BL_ERROR(BL_ERR_NOMEM, "out of memory for a batch's scores");
        }
        memcpy(m->items, b->items, (size_t)b->nb * sizeof *m->items);
        memcpy(m->start, b->start, (size_t)b->nb * sizeof *m->start);
        memcpy(m->scores, b->outs[0], (size_t)b->nb * (size_t)c->n_classes * sizeof(float));
        if (c->apply_act) activate(c, m->scores, b->nb);
        atomic_fetch_add(&c->windows_done, b->nb);
        b->nb = 0;
        if (!send_msg(c, m)) return BL_OK; /* stopping */
    }
    for (size_t i = 0; i < b->n_pend; i++)
        if (!send_msg(c, b->pend[i])) {
            for (size_t j = i + 1; j < b->n_pend; j++) free(b->pend[j]);
            break;
        }
    b->n_pend = 0;
    return BL_OK;
}

/* The time of one batch, for `baleen bench` and the thread fit. */
static void note_batch_time(bl_run_ctx *c, double s, int64_t now) {
    if (c->o->batch_seconds && c->n_batches < c->o->batch_seconds_cap) c->o->batch_seconds[c->n_batches] = s;
    c->n_batches++;
    if (c->adapt && bl_thread_fit_record(&c->fit, s, now))
        BL_LOG_D("run: the CPUs are shared with other work: a batch took %.3f ms at %d threads, %.3f ms at %d; "
                 "running %d", c->fit.last_max_s * 1e3, c->fit.max, c->fit.last_one_s * 1e3, c->fit.alt, c->fit.cur);
}

/* ---- pair mode ---------------------------------------------------------------------------- */

static void *pair_main(void *arg) {
    pair_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->state != PW_POSTED && w->state != PW_QUIT) pthread_cond_wait(&w->cv, &w->mu);
        if (w->state == PW_QUIT) break;
        batch_buf *b = w->b;
        pthread_mutex_unlock(&w->mu);
        bl_status st = batch_run(w->c, w->ex, b);
        pthread_mutex_lock(&w->mu);
        w->st = st;
        if (st != BL_OK) snprintf(w->msg, sizeof w->msg, "%s", bl_error_message());
        w->state = PW_DONE;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void pair_destroy(bl_run_ctx *c, pair_worker *w) {
    (void)c;
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    while (w->state == PW_POSTED) pthread_cond_wait(&w->cv, &w->mu); /* never leave it running */
    w->state = PW_QUIT;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    bl_exec_free(w->ex);
    free(w);
}

/* Make the worker, its one-thread executor and the second batch; false when not possible
 * (then pair mode is not used: one thread runs every batch). */
static bool pair_start(model_state *ms) {
    bl_run_ctx *c = ms->c;
    /* a second executor is about one more `model` part of the estimate: only when it fits */
    int64_t limit = bl_sys_memory_limit(NULL, 0);
    if (limit > 0 && c->mem.total + c->mem.model + c->mem.batches > limit) {
        BL_LOG_D("run: no second executor for the shared CPUs: it would not fit in memory");
        return false;
    }
    pair_worker *w = calloc(1, sizeof *w);
    if (!w) return false;
    w->c = c;
    bl_exec_opts eo = bl_exec_opts_default();
    eo.max_batch = c->batch;
    eo.threads = 1;
    if (bl_exec_create(bl_exec_backend_of(c->ex), c->graph, &eo, &w->ex) != BL_OK ||
        batch_alloc(c, &ms->fly) != BL_OK) {
        BL_LOG_D("run: no second executor for the shared CPUs: %s", bl_error_message());
        bl_exec_free(w->ex);
        batch_free(c, &ms->fly);
        free(w);
        return false;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, pair_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        bl_exec_free(w->ex);
        batch_free(c, &ms->fly);
        free(w);
        return false;
    }
    ms->pw = w;
    BL_LOG_D("run: the CPUs are shared: two one-thread executors now take turns with the batches");
    return true;
}

/* Wait for the worker's batch; its status. */
static bl_status pair_wait(pair_worker *w) {
    pthread_mutex_lock(&w->mu);
    while (w->state == PW_POSTED) pthread_cond_wait(&w->cv, &w->mu);
    bl_status st = w->st;
    w->state = PW_IDLE;
    pthread_mutex_unlock(&w->mu);
    if (st != BL_OK) return BL_ERROR(st, "%s", w->msg);
    return BL_OK;
}

/* Should this batch go through pair mode? The thread fit's choice (one thread under
 * contention), when a pair can be had. */
static bool want_pair(model_state *ms, int threads) {
    bl_run_ctx *c = ms->c;
    bool force = false;
#ifdef BL_TEST_HOOKS /* test builds only: BL_TEST_PAIR_MODE=1 uses pair mode for every batch */
    const char *e = getenv("BL_TEST_PAIR_MODE");
    force = e && !strcmp(e, "1");
#endif
    if (!force && (!c->adapt || threads != 1 || c->fit.max < 2)) return false;
    if (!force && ms->pair_state == 0) { /* the A/B switch (docs/benchmarks.md) */
        const char *ab = getenv("BL_ADAPT_PAIR");
        if (ab && !strcmp(ab, "0")) ms->pair_state = -1;
    }
    if (ms->pair_state == 0) ms->pair_state = pair_start(ms) ? 1 : -1;
    return ms->pair_state == 1;
}

/* ---- the stage ---------------------------------------------------------------------------- */

/* The thread count of the next batch (the fit's choice under contention), applied. */
static bl_status pick_threads(bl_run_ctx *c, int64_t now, int *threads) {
    int th = c->exec_threads;
    if (c->adapt) th = bl_thread_fit_next(&c->fit, atomic_load(&c->contended), now);
    *threads = th;
    return BL_OK;
}

static bl_status set_threads(bl_run_ctx *c, int th) {
    if (th != c->exec_threads) {
        BL_TRY(bl_exec_set_threads(c->ex, th));
        c->exec_threads = th;
    }
    return BL_OK;
}

/* Run the filled batch and send it (or, in pair mode, hand it to the worker, or run it
 * beside the worker's and send both in order), then the waiting controls. With `final`, also
 * the worker's batch still in flight. */
static bl_status flush_batch(model_state *ms, bool final) {
    bl_run_ctx *c = ms->c;
    if (ms->b.nb == 0 && !ms->inflight) return batch_send(c, &ms->b); /* controls only */
    int64_t t = bl_now_ns();
    int th = c->exec_threads;
    if (ms->b.nb > 0) BL_TRY(pick_threads(c, t, &th));
    bool pair = ms->b.nb > 0 && want_pair(ms, th);
    if (pair && !ms->inflight && !final) { /* hand this batch to the worker; fill the next */
        batch_buf tmp = ms->fly;
        ms->fly = ms->b;
        ms->b = tmp;
        ms->b.nb = 0;
        ms->b.n_pend = 0;
        ms->inflight = true;
        ms->fly_t0 = t;
        pthread_mutex_lock(&ms->pw->mu);
        ms->pw->b = &ms->fly;
        ms->pw->state = PW_POSTED;
        pthread_cond_broadcast(&ms->pw->cv);
        pthread_mutex_unlock(&ms->pw->mu);
        return BL_OK;
    }
    if (ms->b.nb > 0) {
        BL_TRY(set_threads(c, pair || ms->inflight ? 1 : th));
        BL_TRY(batch_run(c, c->ex, &ms->b));
    }
    int64_t t1;
    if (ms->inflight) { /* the worker's batch came first: its scores go out first */
        BL_TRY(pair_wait(ms->pw));
        ms->inflight = false;
        t1 = bl_now_ns();
        int n = ms->b.nb > 0 ? 2 : 1;
        for (int k = 0; k < n; k++) note_batch_time(c, (double)(t1 - ms->fly_t0) * 1e-9 / n, t1);
        atomic_fetch_add(&c->busy_ns[BL_ST_MODEL], t1 - ms->fly_t0);
        BL_TRY(batch_send(c, &ms->fly));
    } else {
        t1 = bl_now_ns();
        note_batch_time(c, (double)(t1 - t) * 1e-9, t1);
        atomic_fetch_add(&c->busy_ns[BL_ST_MODEL], t1 - t);
    }
    return batch_send(c, &ms->b);
}

static bl_status defer(model_state *ms, bl_score_msg *m) {
    BL_CHECK_ALLOC(m);
    if (ms->b.nb == 0 && !ms->inflight) { /* nothing of this item is waiting: send now */
        send_msg(ms->c, m);
        return BL_OK;
    }
    batch_buf *b = &ms->b; /* after the batch being filled: after every window before it */
    if (b->n_pend == b->cap_pend) {
        size_t cap = b->cap_pend ? 2 * b->cap_pend : 16;
        bl_score_msg **p = realloc(b->pend, cap * sizeof *p);
        if (!p) {
            free(m);
            return BL_ERROR(BL_ERR_NOMEM, "out of memory");
        }
        b->pend = p, b->cap_pend = cap;
    }
    b->pend[b->n_pend++] = m;
    return BL_OK;
}

/* One packet of file f. *end is set at its END/FAIL. */
static bl_status take_packet(model_state *ms, bl_packet *pk, bool *end) {
    bl_run_ctx *c = ms->c;
    size_t per = (size_t)c->n_mels * (size_t)c->win;
    int64_t it0 = c->first_item[pk->file];
    int n_it = c->n_items_of[pk->file];
    switch (pk->type) {
    case BL_PK_BEGIN:
        for (int k = 0; k < n_it; k++)
            if (!c->done[it0 + k]) {
                bl_score_msg *m = control(BL_SM_BEGIN, it0 + k);
                BL_CHECK_ALLOC(m);
                send_msg(c, m);
            }
        break;
    case BL_PK_WINDOWS:
        for (int i = 0; i < pk->n; i++) {
            batch_buf *b = &ms->b;
            memcpy(b->x + (size_t)b->nb * per, pk->data + (size_t)i * per, per * sizeof(float));
            b->items[b->nb] = it0 + pk->channel[i];
            b->start[b->nb] = pk->start[i];
            if (++b->nb == c->batch) BL_TRY(flush_batch(ms, false));
        }
        break;
    case BL_PK_END:
    case BL_PK_FAIL: {
        const bl_file_rt *f = &c->files[pk->file];
        for (int k = 0; k < n_it; k++) {
            if (c->done[it0 + k]) continue;
            const char *fail = pk->type == BL_PK_END && f->ch_fail ? f->ch_fail[k] : NULL;
            const char *warn = pk->type == BL_PK_END && f->ch_warn ? f->ch_warn[k] : NULL;
            bl_score_msg *m = control(pk->type == BL_PK_END && !fail ? BL_SM_END : BL_SM_FAIL, it0 + k);
            if (m && pk->type == BL_PK_FAIL) {
                m->status = pk->status;
                memcpy(m->stage, pk->stage, sizeof m->stage);
                memcpy(m->msg, pk->msg, sizeof m->msg);
            } else if (m && fail) { /* read through, but input.* says the item fails */
                m->status = BL_ERR_DECODE;
                snprintf(m->stage, sizeof m->stage, "decode");
                snprintf(m->msg, sizeof m->msg, "%s: %s", c->plan.inputs[pk->file].path, fail);
            } else if (m && warn) {
                snprintf(m->stage, sizeof m->stage, "decode");
                snprintf(m->msg, sizeof m->msg, "%s", warn);
            }
            BL_TRY(defer(ms, m));
        }
        atomic_fetch_add(&c->files_done, 1);
        *end = true;
        break;
    }
    }
    return BL_OK;
}

void *bl_stage_model(void *arg) {
    bl_run_ctx *c = arg;
    model_state ms;
    memset(&ms, 0, sizeof ms);
    ms.c = c;
    bl_status s = batch_alloc(c, &ms.b);
    for (size_t f = 0; s == BL_OK && f < c->plan.n_inputs && !bl_run_stopping(c); f++) {
        if (c->file_skip[f]) continue;
        bl_slot *slot = &c->slots[f % (size_t)c->n_slots];
        bool end = false;
        while (s == BL_OK && !end) {
            void *p;
            if (!bl_queue_pop(slot->ready, &p)) goto out; /* stopping */
            s = take_packet(&ms, p, &end);
            bl_queue_push(slot->free, p);
        }
    }
    if (s == BL_OK && !bl_run_stopping(c)) s = flush_batch(&ms, true);
out:
    if (s != BL_OK) {
        bl_error_prefix("model stage: ");
        bl_run_fail(c, s);
    }
    pair_destroy(c, ms.pw); /* waits for a batch still in flight */
    bl_queue_close(c->score_q);
    batch_free(c, &ms.b);
    batch_free(c, &ms.fly);
    return NULL;
}
