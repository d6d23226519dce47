/* scorer.c — the last stage of `baleen run`: per work item, pooling (bl_pooler), events
 * (bl_eventer) and the optional window_scores rows, formatted as CSV and committed to the
 * output directory (bl_outdir_commit_item: chunks, journal, manifest; io/outputs.h).
 *
 * Row formats (fixed float formatting, so bytes are stable):
 *   segments       source,channel,start_s,end_s[,start_utc,end_utc],class,<aggregate>...
 *   events         source,channel,class,start_s,end_s,peak,mean[,start_utc,end_utc][,clip]
 *   window_scores  source,channel,start_s,end_s[,start_utc,end_utc],<class>...
 * Times in seconds from the file's start with %.6f (a window starts at sample s: s/rate);
 * scores with %.6g; UTC as ISO-8601 with milliseconds, empty when the start is unknown.
 *
 * With output.clips, an item's events are held until its end, their clips cut from the
 * original file (io/clips.h), and the rows then carry each clip's path.
 *
 * Owns: the open items (an item is open from its BEGIN to its END/FAIL; the channels of one
 * file are open together). Threading: runs on the scorer thread only.
 */
#include <inttypes.h> /* PRId64 */
#include <math.h>     /* fmod, llround */
#include <stdio.h>    /* snprintf */
#include <stdlib.h>   /* calloc, free */
#include <string.h>   /* strlen */
#include <time.h>     /* nanosleep for the test delay */

#include "io/clips.h"       /* bl_clips_write: output.clips */
#include "io/json.h"        /* bl_strbuf */
#include "io/sources.h"     /* bl_time_format_iso */
#include "log.h"            /* BL_LOG_W */
#include "pipeline_impl.h"  /* bl_run_ctx, bl_score_msg */

typedef struct {
    bl_run_ctx *c;
    int64_t item;
    size_t input;
    int channel;
    bl_pooler *pool;
    bl_eventer *ev;
    bl_strbuf rows[BL_TABLE_COUNT];
    int64_t n_rows[BL_TABLE_COUNT];
    char *prefix;      /* "source,channel", the source RFC 4180-quoted (malloc'ed) */
    int64_t first, last_end; /* samples covered by its windows (first = -1: none) */
    bl_event_row *evs;       /* output.clips: events held until the item ends */
    size_t n_evs, cap_evs;
    bl_strbuf warn_stage, warn; /* warnings.csv: what was left undone (stages, messages; "; "-joined) */
} open_item;

/* Record a warning of the item (several are joined). */
static void note_warning(open_item *it, const char *stage, const char *msg) {
    if (it->warn.len) {
        bl_strbuf_puts(&it->warn, "; ");
        if (!strstr(it->warn_stage.data, stage)) bl_strbuf_printf(&it->warn_stage, "+%s", stage);
    } else {
        bl_strbuf_puts(&it->warn_stage, stage);
    }
    bl_strbuf_puts(&it->warn, msg);
    const bl_input *in = &it->c->plan.inputs[it->input];
    BL_LOG_W("run: %s (channel %d): %s", in->key, it->channel, msg);
}

static void put_utc(open_item *it, bl_strbuf *b, double t_s) {
    const bl_input *in = &it->c->plan.inputs[it->input];
    if (!it->c->utc_cols) return;
    if (!in->has_utc) {
        bl_strbuf_puts(b, ",");
        return;
    }
    char iso[48];
    bl_time_format_iso(in->utc_start_ms + llround(t_s * 1000.0), iso, sizeof iso);
    bl_strbuf_printf(b, ",%s", iso);
}

static void put_class(bl_strbuf *b, const char *name) { bl_csv_append(b, name); }

static bl_status on_segment(void *user, const bl_segment_row *r) {
    open_item *it = user;
    bl_strbuf *b = &it->rows[BL_TABLE_SEGMENTS];
    bl_strbuf_printf(b, "%s,%.6f,%.6f", it->prefix, r->start_s, r->end_s);
    if (it->c->utc_cols) {
        put_utc(it, b, r->start_s);
        put_utc(it, b, r->end_s);
    }
    bl_strbuf_puts(b, ",");
    put_class(b, it->c->card.classes[r->cls]);
    for (int a = 0; a < it->c->n_aggs; a++) bl_strbuf_printf(b, ",%.6g", r->values[a]);
    bl_strbuf_puts(b, "\n");
    it->n_rows[BL_TABLE_SEGMENTS]++;
    return b->oom ? BL_ERROR(BL_ERR_NOMEM, "out of memory for segment rows") : BL_OK;
}

static bl_status event_row(open_item *it, const bl_event_row *r, const char *clip) {
    bl_strbuf *b = &it->rows[BL_TABLE_EVENTS];
    bl_strbuf_printf(b, "%s,", it->prefix);
    put_class(b, it->c->card.classes[r->cls]);
    bl_strbuf_printf(b, ",%.6f,%.6f,%.6g,%.6g", r->start_s, r->end_s, r->peak, r->mean);
    if (it->c->utc_cols) {
        put_utc(it, b, r->start_s);
        put_utc(it, b, r->end_s);
    }
    if (it->c->clips) {
        bl_strbuf_puts(b, ",");
        if (clip) put_class(b, clip);
    }
    bl_strbuf_puts(b, "\n");
    it->n_rows[BL_TABLE_EVENTS]++;
    return b->oom ? BL_ERROR(BL_ERR_NOMEM, "out of memory for event rows") : BL_OK;
}

static bl_status on_event(void *user, const bl_event_row *r) {
    open_item *it = user;
    if (!it->c->clips) return event_row(it, r, NULL);
    if (it->n_evs == it->cap_evs) {
        size_t cap = it->cap_evs ? 2 * it->cap_evs : 16;
        bl_event_row *v = realloc(it->evs, cap * sizeof *v);
        BL_CHECK_ALLOC(v);
        it->evs = v, it->cap_evs = cap;
    }
    it->evs[it->n_evs++] = *r;
    return BL_OK;
}

/* output.clips: cut the held events' clips, then write their rows with the paths. */
static bl_status clip_events(open_item *it) {
    bl_run_ctx *c = it->c;
    if (it->n_evs == 0) return BL_OK;
    const bl_input *in = &c->plan.inputs[it->input];
    bl_clip_event *ce = calloc(it->n_evs, sizeof *ce);
    char **paths = calloc(it->n_evs, sizeof *paths);
    bl_status s = ce && paths ? BL_OK : BL_ERROR(BL_ERR_NOMEM, "out of memory for clips");
    for (size_t i = 0; s == BL_OK && i < it->n_evs; i++) {
        ce[i].start_sample = it->evs[i].start_sample;
        ce[i].end_sample = it->evs[i].end_sample;
        ce[i].label = c->card.classes[it->evs[i].cls];
    }
    if (s == BL_OK) {
        bl_clip_opts co = {0};
        co.out_dir = c->cfg->output.dir;
        co.source_path = in->path;
        co.source_key = in->key;
        co.source_index = (int64_t)it->input;
        co.channel = it->channel;
        co.frontend_rate = c->rate;
        co.has_utc = in->has_utc;
        co.utc_start_ms = in->utc_start_ms;
        co.pad_seconds = c->cfg->output.clips_pad_seconds;
        char *warning = NULL;
        s = bl_clips_write(&co, ce, it->n_evs, paths, &warning);
        if (warning) note_warning(it, "clips", warning);
        free(warning);
    }
    for (size_t i = 0; s == BL_OK && i < it->n_evs; i++) s = event_row(it, &it->evs[i], paths[i]);
    for (size_t i = 0; paths && i < it->n_evs; i++) free(paths[i]);
    free(paths);
    free(ce);
    return s;
}

static void free_item(open_item *it) {
    if (!it) return;
    bl_pooler_destroy(it->pool);
    bl_eventer_destroy(it->ev);
    for (int t = 0; t < BL_TABLE_COUNT; t++) bl_strbuf_free(&it->rows[t]);
    bl_strbuf_free(&it->warn_stage);
    bl_strbuf_free(&it->warn);
    free(it->prefix);
    free(it->evs);
    free(it);
}

static bl_status open_new(bl_run_ctx *c, int64_t item, open_item **out) {
    open_item *it = calloc(1, sizeof *it);
    BL_CHECK_ALLOC(it);
    const bl_work_item *wi = &c->plan.items[item];
    const bl_input *in = &c->plan.inputs[wi->input];
    it->c = c, it->item = item, it->input = wi->input, it->channel = wi->channel, it->first = -1;
    bl_strbuf pre = {0};
    bl_csv_append(&pre, in->key);
    bl_strbuf_printf(&pre, ",%d", wi->channel);
    if (pre.oom) {
        bl_strbuf_free(&pre);
        free_item(it);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory");
    }
    it->prefix = pre.data;
    bl_window_geom g = {c->rate, (int64_t)c->win * c->hop_len, (int64_t)c->hop_f * c->hop_len, c->n_classes};
    double align = 0;
    if (in->has_utc) {
        double seg = c->cfg->pooling.segment_seconds;
        align = fmod((double)in->utc_start_ms / 1000.0, seg);
        if (align < 0) align += seg;
    }
    bl_event_params ep = {c->cfg->events.threshold, c->cfg->events.threshold_off, c->cfg->events.min_gap_seconds,
                          c->cfg->events.min_duration_seconds};
    bl_status s = bl_pooler_create(&g, c->cfg->pooling.segment_seconds, align, c->aggs, c->n_aggs, on_segment, it,
                                   &it->pool);
    if (s == BL_OK) s = bl_eventer_create(&g, &ep, on_event, it, &it->ev);
    if (s != BL_OK) {
        free_item(it);
        return s;
    }
    *out = it;
    return BL_OK;
}

static bl_status push_windows(open_item *it, const int64_t *start, const float *scores, size_t n) {
    bl_run_ctx *c = it->c;
    BL_TRY(bl_pooler_push(it->pool, start, scores, n));
    BL_TRY(bl_eventer_push(it->ev, start, scores, n));
    if (it->first < 0) it->first = start[0];
    it->last_end = start[n - 1] + (int64_t)c->win * c->hop_len;
    if (c->cfg->persist.window_scores) {
        bl_strbuf *b = &it->rows[BL_TABLE_WINDOW_SCORES];
        for (size_t i = 0; i < n; i++) {
            double t0 = (double)start[i] / c->rate, t1 = (double)(start[i] + (int64_t)c->win * c->hop_len) / c->rate;
            bl_strbuf_printf(b, "%s,%.6f,%.6f", it->prefix, t0, t1);
            if (c->utc_cols) {
                put_utc(it, b, t0);
                put_utc(it, b, t1);
            }
            for (int k = 0; k < c->n_classes; k++) bl_strbuf_printf(b, ",%.6g", scores[i * (size_t)c->n_classes + k]);
            bl_strbuf_puts(b, "\n");
        }
        it->n_rows[BL_TABLE_WINDOW_SCORES] += (int64_t)n;
        BL_RETURN_IF(b->oom, BL_ERR_NOMEM, "out of memory for window rows");
    }
    return BL_OK;
}

char *bl_run_item_key(const bl_run_ctx *c, int64_t item) {
    const bl_work_item *wi = &c->plan.items[item];
    const bl_input *in = &c->plan.inputs[wi->input];
    size_t cap = strlen(in->path) + 96;
    char *k = malloc(cap);
    if (k) snprintf(k, cap, "%s|%d|%.6f|%.6f", in->path, wi->channel, in->start_s, in->end_s);
    return k;
}

/* Commit an item: its rows (it != NULL), or its failure (it may be NULL). */
static bl_status commit(bl_run_ctx *c, int64_t item, open_item *it, const bl_score_msg *fail) {
    const bl_work_item *wi = &c->plan.items[item];
    const bl_input *in = &c->plan.inputs[wi->input];
    char *key = bl_run_item_key(c, item);
    BL_CHECK_ALLOC(key);
    bl_item_result r = {0};
    r.item = item;
    r.key = key;
    r.source = in->key;
    r.channel = wi->channel;
    r.t0_s = in->start_s;
    r.t1_s = in->end_s;
    if (it && !fail) {
        if (it->first >= 0) r.t0_s = (double)it->first / c->rate, r.t1_s = (double)it->last_end / c->rate;
        for (int t = 0; t < BL_TABLE_COUNT; t++) {
            r.rows[t] = it->rows[t].data ? it->rows[t].data : "";
            r.rows_len[t] = it->rows[t].len;
            r.n_rows[t] = it->n_rows[t];
        }
        r.warning_stage = it->warn_stage.data;
        r.warning_message = it->warn.data;
    } else {
        r.failed = true;
        r.error_stage = fail ? fail->stage : "score";
        r.error_message = fail ? fail->msg : bl_error_message();
        r.error_status = fail ? fail->status : BL_ERR_INTERNAL;
        BL_LOG_W("run: %s (channel %d) failed: %s", in->key, wi->channel, r.error_message);
    }
    bl_status s = bl_outdir_commit_item(c->od, &r);
    free(key);
    BL_TRY(s);
    atomic_fetch_add(&c->items_committed, 1);
    if (r.failed) atomic_fetch_add(&c->items_failed, 1);
    else if (r.warning_message && r.warning_message[0]) atomic_fetch_add(&c->items_warned, 1);
    if (c->o->test_item_delay_ms > 0) {
        struct timespec ts = {c->o->test_item_delay_ms / 1000, (long)(c->o->test_item_delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return BL_OK;
}

typedef struct {
    open_item **v;
    size_t n, cap;
} open_set;

static open_item *find(open_set *os, int64_t item) {
    for (size_t i = 0; i < os->n; i++)
        if (os->v[i]->item == item) return os->v[i];
    return NULL;
}

static open_item *take(open_set *os, int64_t item) {
    for (size_t i = 0; i < os->n; i++)
        if (os->v[i]->item == item) {
            open_item *it = os->v[i];
            os->v[i] = os->v[--os->n];
            return it;
        }
    return NULL;
}

static bl_status handle(bl_run_ctx *c, open_set *os, bl_score_msg *m) {
    switch (m->type) {
    case BL_SM_BEGIN: {
        open_item *it = NULL;
        BL_TRY(open_new(c, m->item, &it));
        if (os->n == os->cap) {
            size_t cap = os->cap ? 2 * os->cap : 8;
            open_item **v = realloc(os->v, cap * sizeof *v);
            if (!v) {
                free_item(it);
                return BL_ERROR(BL_ERR_NOMEM, "out of memory");
            }
            os->v = v, os->cap = cap;
        }
        os->v[os->n++] = it;
        return BL_OK;
    }
    case BL_SM_SCORES: {
        size_t C = (size_t)c->n_classes;
        for (int i = 0; i < m->n;) {
            int j = i + 1;
            while (j < m->n && m->items[j] == m->items[i]) j++;
            open_item *it = find(os, m->items[i]);
            BL_RETURN_IF(!it, BL_ERR_INTERNAL, "scores for work item %" PRId64 ", which is not open", m->items[i]);
            BL_TRY(push_windows(it, m->start + i, m->scores + (size_t)i * C, (size_t)(j - i)));
            i = j;
        }
        return BL_OK;
    }
    case BL_SM_END: {
        open_item *it = take(os, m->item);
        BL_RETURN_IF(!it, BL_ERR_INTERNAL, "end of work item %" PRId64 ", which is not open", m->item);
        bl_status s = bl_pooler_finish(it->pool);
        if (s == BL_OK) s = bl_eventer_finish(it->ev);
        if (m->msg[0]) note_warning(it, m->stage[0] ? m->stage : "decode", m->msg);
        /* a clip the source does not let us cut is a warning (bl_clips_write); an error here
         * is the output's (disk full, I/O): the run stops, and --resume redoes the item */
        if (s == BL_OK && c->clips) s = clip_events(it);
        if (s == BL_OK) s = commit(c, m->item, it, NULL);
        free_item(it);
        return s;
    }
    case BL_SM_FAIL: {
        open_item *it = take(os, m->item);
        free_item(it);
        return commit(c, m->item, NULL, m);
    }
    }
    return BL_OK;
}

static void free_msg(bl_score_msg *m) {
    if (!m) return;
    free(m->items);
    free(m->start);
    free(m->scores);
    free(m);
}

void *bl_stage_scorer(void *arg) {
    bl_run_ctx *c = arg;
    open_set os = {0};
    void *p;
    bl_status s = BL_OK;
    while (bl_queue_pop(c->score_q, &p)) {
        bl_score_msg *m = p;
        if (s == BL_OK && !bl_run_stopping(c)) {
            int64_t t = bl_now_ns();
            s = handle(c, &os, m);
            atomic_fetch_add(&c->busy_ns[BL_ST_SCORE], bl_now_ns() - t);
            if (s != BL_OK) bl_run_fail(c, s);
        }
        free_msg(m);
    }
    for (size_t i = 0; i < os.n; i++) free_item(os.v[i]);
    free(os.v);
    return NULL;
}
