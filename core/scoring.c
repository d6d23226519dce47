/* scoring.c — aggregate parsing, the streaming segment pooler and the hysteresis eventer
 * (semantics in scoring.h and docs/scoring.md).
 *
 * Owns: per stream, the scores of the open segment (one growable array per class, at most
 * one segment's worth of windows) and, per class, the open event run and the pending event
 * that a later run may still merge with. Nothing depends on how pushes are split: every
 * decision is taken window by window, class by class, in the same order for any split.
 *
 * Exactness: positions are kept in half-samples (2·sample) so that window centres and
 * centre-region edges are integers whatever the parity of window and hop; comparisons with
 * configured seconds are made in that unit (seconds · 2 · rate), never on rounded seconds.
 *
 * Threading: one pooler / eventer per stream, used by one thread at a time; no shared state.
 */
#include "scoring.h"

#include <math.h>    /* floor, ceil, fmod */
#include <stdbool.h> /* per-class flags */
#include <stdlib.h> /* malloc, qsort */
#include <string.h> /* strcmp, strncmp, memcpy */

bl_status bl_agg_parse(const char *s, bl_agg *out) {
    static const char *const expect =
        "max, mean, pNN (NN 1..99) or topK_mean (K >= 1), e.g. p90, top3_mean";
    BL_RETURN_IF(!s || !out, BL_ERR_INVALID_ARG, "bl_agg_parse: NULL argument");
    bl_agg a;
    memset(&a, 0, sizeof a);
    size_t n = strlen(s);
    BL_RETURN_IF(n == 0 || n >= sizeof a.name, BL_ERR_CONFIG,
                 "pooling.aggregates: \"%.40s\" is not an aggregate; expected %s", s, expect);
    if (!strcmp(s, "max")) {
        a.kind = BL_AGG_MAX;
    } else if (!strcmp(s, "mean")) {
        a.kind = BL_AGG_MEAN;
    } else if (s[0] == 'p' && n >= 2 && n <= 3 && s[1] >= '1' && s[1] <= '9' &&
               (n == 2 || (s[2] >= '0' && s[2] <= '9'))) {
        a.kind = BL_AGG_QUANTILE;
        a.q = (double)strtol(s + 1, NULL, 10) / 100.0;
    } else if (n > 8 && !strncmp(s, "top", 3) && !strcmp(s + n - 5, "_mean") && s[3] >= '1' &&
               s[3] <= '9') {
        long k = 0;
        for (size_t i = 3; i < n - 5; i++) {
            BL_RETURN_IF(s[i] < '0' || s[i] > '9' || k > 100000, BL_ERR_CONFIG,
                         "pooling.aggregates: \"%s\" is not an aggregate; expected %s", s, expect);
            k = k * 10 + (s[i] - '0');
        }
        BL_RETURN_IF(k < 1 || k > 1000000, BL_ERR_CONFIG,
                     "pooling.aggregates: \"%s\": K must be in 1..1000000", s);
        a.kind = BL_AGG_TOPK_MEAN;
        a.k = (int)k;
    } else {
        return BL_ERROR(BL_ERR_CONFIG, "pooling.aggregates: \"%s\" is not an aggregate; expected %s",
                        s, expect);
    }
    memcpy(a.name, s, n + 1);
    *out = a;
    return BL_OK;
}

static bl_status check_geom(const bl_window_geom *g) {
    BL_RETURN_IF(!g, BL_ERR_INVALID_ARG, "scoring: NULL window geometry");
    BL_RETURN_IF(g->sample_rate <= 0 || g->window_samples <= 0 || g->hop_samples <= 0 ||
                     g->n_classes <= 0,
                 BL_ERR_INVALID_ARG,
                 "scoring: bad window geometry (rate %d, window %lld, hop %lld, classes %d): all "
                 "must be > 0",
                 g->sample_rate, (long long)g->window_samples, (long long)g->hop_samples, g->n_classes);
    return BL_OK;
}

double bl_segment_align_offset(int has_utc, int64_t utc_start_ms, double segment_seconds) {
    if (!has_utc || !(segment_seconds > 0)) return 0.0;
    double seg_ms = segment_seconds * 1000.0;
    if (seg_ms == floor(seg_ms) && seg_ms < 9e15) {
        /* Whole milliseconds: exact integer modulo, also for times before 1970. */
        int64_t m = (int64_t)seg_ms;
        int64_t r = utc_start_ms % m;
        if (r < 0) r += m;
        return (double)r / 1000.0;
    }
    double r = fmod((double)utc_start_ms / 1000.0, segment_seconds);
    if (r < 0) r += segment_seconds;
    return r;
}

/* ---------------------------------------------------------------------------------------
 * Pooler
 * ------------------------------------------------------------------------------------- */

struct bl_pooler {
    bl_window_geom g;
    double seg_s, align_s;
    double seg2, align2; /* segment length and offset in half-samples */
    bl_agg *aggs;
    int n_aggs;
    bl_segment_cb cb;
    void *user;
    bool open;          /* a segment holds windows */
    int64_t seg_k;      /* index of the open segment */
    int64_t last_start; /* last window's start (order check) */
    bool any;
    float *vals;        /* [n_classes][cap]: scores of the open segment, class-major */
    size_t n, cap;
    double *sorted;     /* scratch for quantile / topK, cap entries */
    double *row;        /* n_aggs values of the row being emitted */
};

bl_status bl_pooler_create(const bl_window_geom *geom, double segment_seconds, double align_offset_s,
                           const bl_agg *aggs, int n_aggs, bl_segment_cb cb, void *user,
                           bl_pooler **out) {
    BL_RETURN_IF(!out || !cb || (n_aggs > 0 && !aggs) || n_aggs < 0, BL_ERR_INVALID_ARG,
                 "bl_pooler_create: NULL argument");
    *out = NULL;
    BL_TRY(check_geom(geom));
    BL_RETURN_IF(!(segment_seconds > 0) || !isfinite(segment_seconds), BL_ERR_INVALID_ARG,
                 "pooling.segment_seconds must be > 0 (got %g)", segment_seconds);
    BL_RETURN_IF(!isfinite(align_offset_s), BL_ERR_INVALID_ARG, "pooler: align offset is not finite");
    for (int i = 0; i < n_aggs; i++) {
        BL_RETURN_IF(aggs[i].kind == BL_AGG_QUANTILE && !(aggs[i].q >= 0 && aggs[i].q <= 1),
                     BL_ERR_INVALID_ARG, "aggregate %s: quantile %g outside 0..1", aggs[i].name, aggs[i].q);
        BL_RETURN_IF(aggs[i].kind == BL_AGG_TOPK_MEAN && aggs[i].k < 1, BL_ERR_INVALID_ARG,
                     "aggregate %s: K must be >= 1", aggs[i].name);
    }
    bl_pooler *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    p->g = *geom;
    p->seg_s = segment_seconds;
    p->align_s = align_offset_s;
    p->seg2 = segment_seconds * 2.0 * geom->sample_rate;
    p->align2 = align_offset_s * 2.0 * geom->sample_rate;
    p->n_aggs = n_aggs;
    p->cb = cb;
    p->user = user;
    p->aggs = malloc(sizeof *p->aggs * (size_t)(n_aggs ? n_aggs : 1));
    p->row = malloc(sizeof *p->row * (size_t)(n_aggs ? n_aggs : 1));
    if (!p->aggs || !p->row) {
        bl_pooler_destroy(p);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory creating the pooler");
    }
    if (n_aggs) memcpy(p->aggs, aggs, sizeof *aggs * (size_t)n_aggs);
    *out = p;
    return BL_OK;
}

void bl_pooler_destroy(bl_pooler *p) {
    if (!p) return;
    free(p->aggs);
    free(p->row);
    free(p->vals);
    free(p->sorted);
    free(p);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.quantile(a, q) with the default method 'linear': virtual index (n−1)·q, then
 * numpy's _lerp, which interpolates from the upper neighbour when the fraction is >= 0.5
 * (so that the result is monotonic and exact at the ends). `v` sorted ascending. */
static double quantile_sorted(const double *v, size_t n, double q) {
    double idx = (double)(n - 1) * q;
    double lo_f = floor(idx);
    size_t lo = (size_t)lo_f;
    if (lo >= n - 1) return v[n - 1];
    double t = idx - lo_f;
    double a = v[lo], b = v[lo + 1];
    double d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

static bl_status pooler_emit(bl_pooler *p) {
    if (!p->open) return BL_OK;
    p->open = false;
    const bl_window_geom *g = &p->g;
    double t0 = (double)p->seg_k * p->seg_s - p->align_s;
    double t1 = (double)(p->seg_k + 1) * p->seg_s - p->align_s;
    bl_segment_row r;
    /* First sample at or after the boundary; the tolerance absorbs the rounding of t0·rate
     * when the boundary falls exactly on a sample. */
    r.start_sample = (int64_t)ceil(t0 * g->sample_rate - 1e-6);
    r.start_s = t0 < 0 ? 0.0 : t0;
    r.end_s = t1;
    r.values = p->row;
    size_t n = p->n;
    for (int c = 0; c < g->n_classes; c++) {
        const float *v = p->vals + (size_t)c * p->cap;
        bool sorted = false;
        for (int a = 0; a < p->n_aggs; a++) {
            const bl_agg *ag = &p->aggs[a];
            double x = 0;
            if (ag->kind == BL_AGG_MAX) {
                x = v[0];
                for (size_t i = 1; i < n; i++)
                    if (v[i] > x) x = v[i];
            } else if (ag->kind == BL_AGG_MEAN) {
                double s = 0;
                for (size_t i = 0; i < n; i++) s += v[i];
                x = s / (double)n;
            } else {
                if (!sorted) {
                    for (size_t i = 0; i < n; i++) p->sorted[i] = v[i];
                    qsort(p->sorted, n, sizeof *p->sorted, cmp_double);
                    sorted = true;
                }
                if (ag->kind == BL_AGG_QUANTILE) {
                    x = quantile_sorted(p->sorted, n, ag->q);
                } else {
                    size_t k = (size_t)ag->k < n ? (size_t)ag->k : n;
                    double s = 0;
                    for (size_t i = 0; i < k; i++) s += p->sorted[n - 1 - i];
                    x = s / (double)k;
                }
            }
            p->row[a] = x;
        }
        r.cls = c;
        BL_TRY(p->cb(p->user, &r));
    }
    p->n = 0;
    return BL_OK;
}

static bl_status pooler_grow(bl_pooler *p) {
    size_t nc = (size_t)p->g.n_classes;
    size_t cap = p->cap ? p->cap * 2 : 64;
    float *v = malloc(sizeof *v * cap * nc);
    double *s = malloc(sizeof *s * cap);
    if (!v || !s) {
        free(v);
        free(s);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory growing the pooler to %zu windows", cap);
    }
    for (size_t c = 0; c < nc; c++)
        if (p->n) memcpy(v + c * cap, p->vals + c * p->cap, sizeof *v * p->n);
    free(p->vals);
    free(p->sorted);
    p->vals = v;
    p->sorted = s;
    p->cap = cap;
    return BL_OK;
}

bl_status bl_pooler_push(bl_pooler *p, const int64_t *start, const float *scores, size_t n) {
    BL_RETURN_IF(!p || (n && (!start || !scores)), BL_ERR_INVALID_ARG, "bl_pooler_push: NULL argument");
    const size_t nc = (size_t)p->g.n_classes;
    for (size_t i = 0; i < n; i++) {
        BL_RETURN_IF(p->any && start[i] < p->last_start, BL_ERR_INVALID_ARG,
                     "pooler: window at sample %lld pushed after one at %lld (windows must come in "
                     "time order)",
                     (long long)start[i], (long long)p->last_start);
        p->any = true;
        p->last_start = start[i];
        double centre2 = 2.0 * (double)start[i] + (double)p->g.window_samples;
        int64_t k = (int64_t)floor((centre2 + p->align2) / p->seg2);
        if (p->open && k != p->seg_k) BL_TRY(pooler_emit(p));
        if (!p->open) {
            p->open = true;
            p->seg_k = k;
            p->n = 0;
        }
        if (p->n == p->cap) BL_TRY(pooler_grow(p));
        for (size_t c = 0; c < nc; c++) p->vals[c * p->cap + p->n] = scores[i * nc + c];
        p->n++;
    }
    return BL_OK;
}

bl_status bl_pooler_finish(bl_pooler *p) {
    BL_RETURN_IF(!p, BL_ERR_INVALID_ARG, "bl_pooler_finish: NULL pooler");
    return pooler_emit(p);
}

/* ---------------------------------------------------------------------------------------
 * Eventer
 * ------------------------------------------------------------------------------------- */

/* An event under construction; spans in half-samples. */
typedef struct {
    int64_t s2, e2;    /* centre-region start of the first window, end of the last */
    double peak, sum;
    int64_t count;
} ev_acc;

typedef struct {
    bool in_run;       /* windows are being added to `run` */
    bool has_pending;  /* a finished run (or merge of runs) waiting for min_gap to pass */
    ev_acc run, pending;
} ev_class;

struct bl_eventer {
    bl_window_geom g;
    bl_event_params ep;
    double gap2, dur2; /* min gap and min duration in half-samples */
    bl_event_cb cb;
    void *user;
    ev_class *cls;
    bool any;
    int64_t last_start;
};

bl_status bl_eventer_create(const bl_window_geom *geom, const bl_event_params *ep, bl_event_cb cb,
                            void *user, bl_eventer **out) {
    BL_RETURN_IF(!out || !ep || !cb, BL_ERR_INVALID_ARG, "bl_eventer_create: NULL argument");
    *out = NULL;
    BL_TRY(check_geom(geom));
    BL_RETURN_IF(!isfinite(ep->threshold) || !isfinite(ep->threshold_off) ||
                     ep->threshold_off > ep->threshold,
                 BL_ERR_INVALID_ARG,
                 "events: threshold_off (%g) must be finite and <= threshold (%g)", ep->threshold_off,
                 ep->threshold);
    BL_RETURN_IF(!(ep->min_gap_seconds >= 0) || !(ep->min_duration_seconds >= 0), BL_ERR_INVALID_ARG,
                 "events: min_gap_seconds (%g) and min_duration_seconds (%g) must be >= 0",
                 ep->min_gap_seconds, ep->min_duration_seconds);
    bl_eventer *e = calloc(1, sizeof *e);
    BL_CHECK_ALLOC(e);
    e->cls = calloc((size_t)geom->n_classes, sizeof *e->cls);
    if (!e->cls) {
        free(e);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory creating the eventer");
    }
    e->g = *geom;
    e->ep = *ep;
    e->gap2 = ep->min_gap_seconds * 2.0 * geom->sample_rate;
    e->dur2 = ep->min_duration_seconds * 2.0 * geom->sample_rate;
    e->cb = cb;
    e->user = user;
    *out = e;
    return BL_OK;
}

void bl_eventer_destroy(bl_eventer *e) {
    if (!e) return;
    free(e->cls);
    free(e);
}

static bl_status emit_event(bl_eventer *e, int c, const ev_acc *a) {
    if ((double)(a->e2 - a->s2) < e->dur2) return BL_OK; /* shorter than min_duration */
    bl_event_row r;
    int64_t s2 = a->s2 < 0 ? 0 : a->s2;
    r.cls = c;
    r.start_sample = s2 / 2;             /* floor: the sample holding the start edge */
    r.end_sample = (a->e2 + 1) / 2;      /* ceil: exclusive end */
    r.start_s = (double)s2 / (2.0 * e->g.sample_rate);
    r.end_s = (double)a->e2 / (2.0 * e->g.sample_rate);
    r.peak = a->peak;
    r.mean = a->sum / (double)a->count;
    return e->cb(e->user, &r);
}

/* The open run of class c ended (its last window is already in it): merge it into the
 * pending event when the gap is < min_gap, else emit the pending one and keep the run. */
static bl_status close_run(bl_eventer *e, int c) {
    ev_class *k = &e->cls[c];
    k->in_run = false;
    if (k->has_pending && (double)(k->run.s2 - k->pending.e2) < e->gap2) {
        ev_acc *p = &k->pending;
        p->e2 = k->run.e2;
        if (k->run.peak > p->peak) p->peak = k->run.peak;
        p->sum += k->run.sum;
        p->count += k->run.count;
        return BL_OK;
    }
    if (k->has_pending) BL_TRY(emit_event(e, c, &k->pending));
    k->pending = k->run;
    k->has_pending = true;
    return BL_OK;
}

bl_status bl_eventer_push(bl_eventer *e, const int64_t *start, const float *scores, size_t n) {
    BL_RETURN_IF(!e || (n && (!start || !scores)), BL_ERR_INVALID_ARG, "bl_eventer_push: NULL argument");
    const int nc = e->g.n_classes;
    const int64_t W = e->g.window_samples, H = e->g.hop_samples;
    for (size_t i = 0; i < n; i++) {
        BL_RETURN_IF(e->any && start[i] < e->last_start, BL_ERR_INVALID_ARG,
                     "eventer: window at sample %lld pushed after one at %lld (windows must come "
                     "in time order)",
                     (long long)start[i], (long long)e->last_start);
        /* A run continues only over consecutive windows: after a hole in the window sequence
         * the centre regions no longer tile time. */
        bool contiguous = e->any && start[i] == e->last_start + H;
        e->any = true;
        e->last_start = start[i];
        int64_t s2 = 2 * start[i] + W - H, e2 = 2 * start[i] + W + H;
        for (int c = 0; c < nc; c++) {
            ev_class *k = &e->cls[c];
            double v = scores[i * (size_t)nc + (size_t)c];
            if (k->in_run && (!contiguous || !(v >= e->ep.threshold_off))) BL_TRY(close_run(e, c));
            if (k->in_run) {
                k->run.e2 = e2;
                if (v > k->run.peak) k->run.peak = v;
                k->run.sum += v;
                k->run.count++;
            } else if (v >= e->ep.threshold) {
                k->in_run = true;
                k->run = (ev_acc){.s2 = s2, .e2 = e2, .peak = v, .sum = v, .count = 1};
            } else if (k->has_pending && (double)(s2 - k->pending.e2) >= e->gap2) {
                /* Any later run starts at or after s2, too far to merge: final now. */
                k->has_pending = false;
                BL_TRY(emit_event(e, c, &k->pending));
            }
        }
    }
    return BL_OK;
}

bl_status bl_eventer_finish(bl_eventer *e) {
    BL_RETURN_IF(!e, BL_ERR_INVALID_ARG, "bl_eventer_finish: NULL eventer");
    for (int c = 0; c < e->g.n_classes; c++) {
        ev_class *k = &e->cls[c];
        if (k->in_run) BL_TRY(close_run(e, c));
        if (k->has_pending) {
            k->has_pending = false;
            BL_TRY(emit_event(e, c, &k->pending));
        }
    }
    return BL_OK;
}
