/* test_scoring.c — aggregates, segment pooling and events (core/scoring.c) on hand-computed
 * cases: the centre rule and segment alignment (source start and UTC offsets), every
 * aggregate (quantiles checked against numpy.quantile values), hysteresis, gap merging,
 * minimum duration, an event open at finish, and split invariance: the same windows pushed in
 * one call and in random splits give exactly the same rows.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scoring.h"
#include "io/sources.h" /* bl_time_parse_iso for the UTC alignment case */
#include "testutil.h"

#define MAX_ROWS 20000
#define MAX_AGGS 8

typedef struct {
    int64_t start_sample;
    double start_s, end_s;
    int cls;
    double v[MAX_AGGS];
} seg_rec;

typedef struct {
    seg_rec *rows;
    size_t n;
    int n_aggs;
} seg_sink;

static bl_status seg_cb(void *user, const bl_segment_row *r) {
    seg_sink *s = user;
    if (s->n >= MAX_ROWS) return BL_ERROR(BL_ERR_RANGE, "too many rows");
    seg_rec *d = &s->rows[s->n++];
    memset(d, 0, sizeof *d);
    d->start_sample = r->start_sample;
    d->start_s = r->start_s;
    d->end_s = r->end_s;
    d->cls = r->cls;
    for (int a = 0; a < s->n_aggs; a++) d->v[a] = r->values[a];
    return BL_OK;
}

typedef struct {
    bl_event_row *rows;
    size_t n;
} ev_sink;

static bl_status ev_cb(void *user, const bl_event_row *r) {
    ev_sink *s = user;
    if (s->n >= MAX_ROWS) return BL_ERROR(BL_ERR_RANGE, "too many rows");
    /* Field by field over a zeroed record, so that rows compare with memcmp (no padding). */
    bl_event_row *d = &s->rows[s->n++];
    memset(d, 0, sizeof *d);
    d->cls = r->cls;
    d->start_s = r->start_s;
    d->end_s = r->end_s;
    d->peak = r->peak;
    d->mean = r->mean;
    d->start_sample = r->start_sample;
    d->end_sample = r->end_sample;
    return BL_OK;
}

static void parse_aggs(const char *const *names, int n, bl_agg *out) {
    for (int i = 0; i < n; i++) {
        bl_status st = bl_agg_parse(names[i], &out[i]);
        BL_CHECK(st == BL_OK, "bl_agg_parse(%s): %s", names[i], bl_error_message());
    }
}

static int close_to(double a, double b) { return fabs(a - b) <= 1e-12 * (1 + fabs(b)); }

/* ---- aggregates ------------------------------------------------------------------------ */

static void test_agg_parse(void) {
    bl_agg a;
    BL_CHECK(bl_agg_parse("max", &a) == BL_OK && a.kind == BL_AGG_MAX && !strcmp(a.name, "max"), "max");
    BL_CHECK(bl_agg_parse("mean", &a) == BL_OK && a.kind == BL_AGG_MEAN, "mean");
    BL_CHECK(bl_agg_parse("p90", &a) == BL_OK && a.kind == BL_AGG_QUANTILE && a.q == 0.9 &&
                 !strcmp(a.name, "p90"),
             "p90");
    BL_CHECK(bl_agg_parse("p5", &a) == BL_OK && a.q == 0.05, "p5");
    BL_CHECK(bl_agg_parse("top3_mean", &a) == BL_OK && a.kind == BL_AGG_TOPK_MEAN && a.k == 3, "top3");
    BL_CHECK(bl_agg_parse("top12_mean", &a) == BL_OK && a.k == 12, "top12");
    const char *bad[] = {"", "Max", "p0", "p100", "p05", "p9x", "top0_mean", "top_mean", "topx_mean",
                         "top3mean", "top3_mean ", "median", "p", "top1234567_mean"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bl_status st = bl_agg_parse(bad[i], &a);
        BL_CHECK(st == BL_ERR_CONFIG, "\"%s\" accepted", bad[i]);
        if (st == BL_ERR_CONFIG)
            BL_CHECK(strstr(bl_error_message(), "pooling.aggregates") != NULL, "message: %s",
                     bl_error_message());
    }
}

/* ---- pooling ----------------------------------------------------------------------------- */

/* rate 10 Hz, window 10 samples (1 s), hop 5 (0.5 s): window i starts at 5i, centre at
 * 0.5i + 0.5 s. Segments of 2 s: [0,2) holds centres 0.5, 1.0, 1.5 (windows 0..2), [2,4)
 * windows 3..6 (centre 2.0 belongs to the later segment), [4,6) windows 7..8. */
static void test_pool_hand(void) {
    bl_window_geom g = {.sample_rate = 10, .window_samples = 10, .hop_samples = 5, .n_classes = 2};
    const char *names[] = {"max", "mean", "p50", "top2_mean", "top9_mean"};
    bl_agg aggs[5];
    parse_aggs(names, 5, aggs);
    int64_t start[9];
    float sc[9 * 2];
    const float c0[9] = {0.25f, 0.5f, 0.75f, 1.0f, 0.0f, 0.5f, 0.25f, 0.125f, 0.375f};
    for (int i = 0; i < 9; i++) {
        start[i] = 5 * i;
        sc[2 * i] = c0[i];
        sc[2 * i + 1] = 1.0f - c0[i];
    }
    seg_rec rows[16];
    seg_sink s = {rows, 0, 5};
    bl_pooler *p = NULL;
    BL_CHECK(bl_pooler_create(&g, 2.0, 0.0, aggs, 5, seg_cb, &s, &p) == BL_OK, "%s", bl_error_message());
    if (!p) return;
    BL_CHECK(bl_pooler_push(p, start, sc, 9) == BL_OK, "%s", bl_error_message());
    BL_CHECK(s.n == 4, "segments 0 and 1 final before finish: %zu rows", s.n);
    BL_CHECK(bl_pooler_finish(p) == BL_OK, "%s", bl_error_message());
    bl_pooler_destroy(p);
    BL_CHECK(s.n == 6, "3 segments x 2 classes, got %zu rows", s.n);
    if (s.n != 6) return;
    /* class 0, segment 0: {0.25, 0.5, 0.75} */
    const double e0[5] = {0.75, 0.5, 0.5, 0.625, 0.5};
    /* class 1, segment 0: {0.75, 0.5, 0.25} */
    const double e1[5] = {0.75, 0.5, 0.5, 0.625, 0.5};
    /* class 0, segment 1: {1, 0, 0.5, 0.25} → sorted 0 .25 .5 1; p50 = 0.375 */
    const double e2[5] = {1.0, 0.4375, 0.375, 0.75, 0.4375};
    /* class 1, segment 1: {0, 1, 0.5, 0.75} → sorted 0 .5 .75 1; p50 = 0.625 */
    const double e3[5] = {1.0, 0.5625, 0.625, 0.875, 0.5625};
    /* class 0, segment 2: {0.125, 0.375}; class 1: {0.875, 0.625} */
    const double e4[5] = {0.375, 0.25, 0.25, 0.25, 0.25};
    const double e5[5] = {0.875, 0.75, 0.75, 0.75, 0.75};
    const double *exp[6] = {e0, e1, e2, e3, e4, e5};
    for (int r = 0; r < 6; r++) {
        BL_CHECK(rows[r].cls == r % 2, "row %d class %d", r, rows[r].cls);
        BL_CHECK(rows[r].start_s == 2.0 * (r / 2) && rows[r].end_s == 2.0 * (r / 2) + 2,
                 "row %d span %g..%g", r, rows[r].start_s, rows[r].end_s);
        BL_CHECK(rows[r].start_sample == 20 * (r / 2), "row %d start sample %lld", r,
                 (long long)rows[r].start_sample);
        for (int a = 0; a < 5; a++)
            BL_CHECK(close_to(rows[r].v[a], exp[r][a]), "row %d %s: got %.17g want %.17g", r, names[a],
                     rows[r].v[a], exp[r][a]);
    }
}

/* An offset moves the boundaries to k·2 − 0.5 s: [−0.5, 1.5) holds centres 0.5, 1.0 and is
 * reported from 0 (start sample −5); [1.5, 3.5) holds 1.5 .. 3.0. A gap in the windows
 * leaves the segments it covers out. */
static void test_pool_align(void) {
    bl_window_geom g = {.sample_rate = 10, .window_samples = 10, .hop_samples = 5, .n_classes = 1};
    bl_agg agg;
    bl_agg_parse("max", &agg);
    int64_t start[7] = {0, 5, 10, 15, 20, 25, 100}; /* centres 0.5 .. 3.0, then 10.5 */
    float sc[7] = {1, 2, 3, 4, 5, 6, 7};
    seg_rec rows[8];
    seg_sink s = {rows, 0, 1};
    bl_pooler *p = NULL;
    BL_CHECK(bl_pooler_create(&g, 2.0, 0.5, &agg, 1, seg_cb, &s, &p) == BL_OK, "%s", bl_error_message());
    if (!p) return;
    BL_CHECK(bl_pooler_push(p, start, sc, 7) == BL_OK && bl_pooler_finish(p) == BL_OK, "%s",
             bl_error_message());
    bl_pooler_destroy(p);
    BL_CHECK(s.n == 3, "3 segments (the empty ones left out), got %zu", s.n);
    if (s.n != 3) return;
    BL_CHECK(rows[0].start_s == 0 && rows[0].end_s == 1.5 && rows[0].start_sample == -5 && rows[0].v[0] == 2,
             "first: %g..%g sample %lld max %g", rows[0].start_s, rows[0].end_s,
             (long long)rows[0].start_sample, rows[0].v[0]);
    BL_CHECK(rows[1].start_s == 1.5 && rows[1].end_s == 3.5 && rows[1].start_sample == 15 && rows[1].v[0] == 6,
             "second: %g..%g sample %lld max %g", rows[1].start_s, rows[1].end_s,
             (long long)rows[1].start_sample, rows[1].v[0]);
    BL_CHECK(rows[2].start_s == 9.5 && rows[2].end_s == 11.5 && rows[2].v[0] == 7, "third: %g..%g max %g",
             rows[2].start_s, rows[2].end_s, rows[2].v[0]);

    /* Out-of-order windows are refused. */
    s.n = 0;
    BL_CHECK(bl_pooler_create(&g, 2.0, 0.0, &agg, 1, seg_cb, &s, &p) == BL_OK, "create");
    if (p) {
        int64_t st2[2] = {10, 5};
        BL_CHECK(bl_pooler_push(p, st2, sc, 2) == BL_ERR_INVALID_ARG, "out of order accepted");
        bl_pooler_destroy(p);
    }
    BL_CHECK(bl_pooler_create(&g, 0.0, 0.0, &agg, 1, seg_cb, &s, &p) == BL_ERR_INVALID_ARG,
             "segment_seconds 0 accepted");
}

/* UTC alignment: a file starting at 03:15:22.250Z with 60 s segments has its boundaries at
 * whole minutes, i.e. at file times k·60 − 22.25 s. */
static void test_align_offset(void) {
    int64_t ms = 0;
    BL_CHECK(bl_time_parse_iso("2018-11-01T03:15:22.250Z", &ms) == BL_OK, "%s", bl_error_message());
    BL_CHECK(bl_segment_align_offset(1, ms, 60.0) == 22.25, "60 s: %.17g", bl_segment_align_offset(1, ms, 60.0));
    BL_CHECK(bl_segment_align_offset(1, ms, 3600.0) == 922.25, "1 h: %.17g",
             bl_segment_align_offset(1, ms, 3600.0));
    BL_CHECK(bl_segment_align_offset(0, ms, 60.0) == 0.0, "no utc");
    BL_CHECK(bl_segment_align_offset(1, -1500, 1.0) == 0.5, "before 1970: %.17g",
             bl_segment_align_offset(1, -1500, 1.0));
    double o = bl_segment_align_offset(1, 1000, 0.3); /* 1000 ms mod 300 ms, in integers */
    BL_CHECK(fabs(o - 0.1) < 1e-12, "0.3 s: %.17g", o);
    double o2 = bl_segment_align_offset(1, 1000, 0.0004); /* 0.4 ms: fmod path */
    BL_CHECK(o2 >= 0 && o2 < 0.0004, "0.4 ms: %.17g", o2);

    /* The pooler at 16 kHz with that offset: the first boundary after the start lies at
     * 37.75 s = sample 604000; a window centred just before it and one centred on it. */
    bl_window_geom g = {.sample_rate = 16000, .window_samples = 16000, .hop_samples = 8000, .n_classes = 1};
    bl_agg agg;
    bl_agg_parse("mean", &agg);
    seg_rec rows[4];
    seg_sink s = {rows, 0, 1};
    bl_pooler *p = NULL;
    BL_CHECK(bl_pooler_create(&g, 60.0, bl_segment_align_offset(1, ms, 60.0), &agg, 1, seg_cb, &s, &p) == BL_OK,
             "create");
    if (!p) return;
    int64_t st[2] = {604000 - 8000 - 1, 604000 - 8000};
    float sc[2] = {0.25f, 0.75f};
    BL_CHECK(bl_pooler_push(p, st, sc, 2) == BL_OK && bl_pooler_finish(p) == BL_OK, "push");
    bl_pooler_destroy(p);
    BL_CHECK(s.n == 2, "two segments, got %zu", s.n);
    if (s.n == 2) {
        BL_CHECK(rows[0].start_s == 0 && rows[0].end_s == 37.75 && rows[0].v[0] == 0.25, "first %g..%g %g",
                 rows[0].start_s, rows[0].end_s, rows[0].v[0]);
        BL_CHECK(rows[1].start_s == 37.75 && rows[1].end_s == 97.75 && rows[1].start_sample == 604000 &&
                     rows[1].v[0] == 0.75,
                 "second %g..%g sample %lld %g", rows[1].start_s, rows[1].end_s,
                 (long long)rows[1].start_sample, rows[1].v[0]);
    }
}

/* Quantiles against numpy (1.24) on the float32 values widened to float64:
 *   python3 -c "import numpy as np; x=np.array([0.1,0.7,0.3,0.95,0.2,0.55,0.8],dtype=np.float32)
 *   .astype(np.float64); [print(repr(float(np.quantile(x,q)))) for q in
 *   [0.5,0.9,0.25,0.99,0.01,0.33,0.67]]"
 * and the same for [0.42,0.13,0.77,0.9] with q in [0.1,0.5,0.75,0.95], and for
 * [0.956,0.284,0.649,0.696,0.293] with q = 0.9, where numpy's interpolation from the upper
 * neighbour (fraction >= 0.5) differs in the last bit from a + (b − a)·t. Exact equality. */
static void test_quantile_numpy(void) {
    struct {
        const float *x;
        int n;
        const char *const *names;
        int n_q;
        const double *want;
    } cases[3];
    static const float x1[7] = {0.1f, 0.7f, 0.3f, 0.95f, 0.2f, 0.55f, 0.8f};
    static const char *const q1[7] = {"p50", "p90", "p25", "p99", "p1", "p33", "p67"};
    static const double w1[7] = {0.550000011920929,   0.8600000023841858,  0.2500000074505806,
                                 0.9409999895095824,  0.10600000157952309, 0.29800001174211505,
                                 0.7019999885559083};
    static const float x2[4] = {0.42f, 0.13f, 0.77f, 0.9f};
    static const char *const q2[4] = {"p10", "p50", "p75", "p95"};
    static const double w2[4] = {0.21699999272823334, 0.5949999839067459, 0.8024999797344208,
                                 0.8804999768733978};
    static const float x3[5] = {0.956f, 0.284f, 0.649f, 0.696f, 0.293f};
    static const char *const q3[1] = {"p90"};
    static const double w3[1] = {0.8519999742507934};
    cases[2].x = x3, cases[2].n = 5, cases[2].names = q3, cases[2].n_q = 1, cases[2].want = w3;
    cases[0].x = x1, cases[0].n = 7, cases[0].names = q1, cases[0].n_q = 7, cases[0].want = w1;
    cases[1].x = x2, cases[1].n = 4, cases[1].names = q2, cases[1].n_q = 4, cases[1].want = w2;
    for (int c = 0; c < 3; c++) {
        bl_window_geom g = {.sample_rate = 100, .window_samples = 100, .hop_samples = 100, .n_classes = 1};
        bl_agg aggs[MAX_AGGS];
        parse_aggs(cases[c].names, cases[c].n_q, aggs);
        seg_rec rows[2];
        seg_sink s = {rows, 0, cases[c].n_q};
        bl_pooler *p = NULL;
        BL_CHECK(bl_pooler_create(&g, 1000.0, 0, aggs, cases[c].n_q, seg_cb, &s, &p) == BL_OK, "create");
        if (!p) return;
        int64_t st[8];
        for (int i = 0; i < cases[c].n; i++) st[i] = 100 * i;
        BL_CHECK(bl_pooler_push(p, st, cases[c].x, (size_t)cases[c].n) == BL_OK && bl_pooler_finish(p) == BL_OK,
                 "push");
        bl_pooler_destroy(p);
        BL_CHECK(s.n == 1, "one segment, got %zu", s.n);
        for (int q = 0; q < cases[c].n_q && s.n == 1; q++)
            BL_CHECK(rows[0].v[q] == cases[c].want[q],
                     "case %d %s: got %.17g, numpy %.17g", c, cases[c].names[q], rows[0].v[q],
                     cases[c].want[q]);
    }
}

/* ---- events ------------------------------------------------------------------------------ */

/* rate 10, window 10, hop 5: window i starts at 5i and its centre region is
 * [0.5i + 0.25, 0.5i + 0.75) s. */
static size_t run_events(const float *sc, int n, const bl_event_params *ep, bl_event_row *out,
                         size_t *before_finish) {
    bl_window_geom g = {.sample_rate = 10, .window_samples = 10, .hop_samples = 5, .n_classes = 1};
    ev_sink s = {out, 0};
    bl_eventer *e = NULL;
    BL_CHECK(bl_eventer_create(&g, ep, ev_cb, &s, &e) == BL_OK, "%s", bl_error_message());
    if (!e) return 0;
    int64_t st[64];
    for (int i = 0; i < n; i++) st[i] = 5 * i;
    BL_CHECK(bl_eventer_push(e, st, sc, (size_t)n) == BL_OK, "%s", bl_error_message());
    if (before_finish) *before_finish = s.n;
    BL_CHECK(bl_eventer_finish(e) == BL_OK, "%s", bl_error_message());
    bl_eventer_destroy(e);
    return s.n;
}

static void test_events_hand(void) {
    /*               0     1     2     3     4     5      6     7     8      9 */
    float sc[21] = {0.1f, 0.6f, 0.4f, 0.2f, 0.1f, 0.55f, 0.1f, 0.7f, 0.35f, 0.1f,
                    /* 10..19: a window at 0.45 (>= off, < threshold) starts nothing */
                    0.1f, 0.45f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f,
                    /* 20: open at the end */
                    0.9f};
    bl_event_params ep = {.threshold = 0.5, .threshold_off = 0.3, .min_gap_seconds = 1.0,
                          .min_duration_seconds = 0.0};
    bl_event_row r[8];
    size_t before = 0;
    size_t n = run_events(sc, 21, &ep, r, &before);
    BL_CHECK(n == 3, "3 events, got %zu", n);
    BL_CHECK(before == 2, "the first two are final before finish, got %zu", before);
    if (n == 3) {
        /* E1: windows 1-2 → [0.75, 1.75) */
        BL_CHECK(r[0].start_s == 0.75 && r[0].end_s == 1.75 && r[0].start_sample == 7 && r[0].end_sample == 18,
                 "E1 %g..%g samples %lld..%lld", r[0].start_s, r[0].end_s, (long long)r[0].start_sample,
                 (long long)r[0].end_sample);
        BL_CHECK(r[0].peak == (double)0.6f && close_to(r[0].mean, ((double)0.6f + (double)0.4f) / 2),
                 "E1 peak %.9g mean %.9g", r[0].peak, r[0].mean);
        /* E2: window 5 then 7-8, merged across the 0.5 s gap (< 1 s) → [2.75, 4.75) */
        BL_CHECK(r[1].start_s == 2.75 && r[1].end_s == 4.75, "E2 %g..%g", r[1].start_s, r[1].end_s);
        BL_CHECK(r[1].peak == (double)0.7f &&
                     close_to(r[1].mean, ((double)0.55f + (double)0.7f + (double)0.35f) / 3),
                 "E2 peak %.9g mean %.9g (gap windows excluded)", r[1].peak, r[1].mean);
        /* E3: window 20, open at finish → [10.25, 10.75) */
        BL_CHECK(r[2].start_s == 10.25 && r[2].end_s == 10.75 && r[2].peak == (double)0.9f &&
                     r[2].mean == (double)0.9f,
                 "E3 %g..%g peak %g", r[2].start_s, r[2].end_s, r[2].peak);
    }

    /* A gap equal to min_gap is not merged: E1..E2 gap is 2.75 − 1.75 = 1 s. */
    ep.min_gap_seconds = 1.5; /* E1 and window 5: gap 1.0 < 1.5 → merged; then 7-8 too */
    n = run_events(sc, 21, &ep, r, NULL);
    BL_CHECK(n == 2 && r[0].start_s == 0.75 && r[0].end_s == 4.75, "merge all: %zu events, first %g..%g", n,
             n ? r[0].start_s : -1, n ? r[0].end_s : -1);
    ep.min_gap_seconds = 0.5; /* window 5 to 7: gap 0.5, not < 0.5 → separate */
    n = run_events(sc, 21, &ep, r, NULL);
    BL_CHECK(n == 4, "min_gap 0.5: 4 events, got %zu", n);
    ep.min_gap_seconds = 0.0;
    n = run_events(sc, 21, &ep, r, NULL);
    BL_CHECK(n == 4, "min_gap 0: 4 events, got %zu", n);

    /* Minimum duration: E3 lasts 0.5 s, E1 1 s, E2 2 s. */
    ep.min_gap_seconds = 1.0;
    ep.min_duration_seconds = 0.5; /* kept: >= */
    n = run_events(sc, 21, &ep, r, NULL);
    BL_CHECK(n == 3, "min_dur 0.5: 3 events, got %zu", n);
    ep.min_duration_seconds = 0.6;
    n = run_events(sc, 21, &ep, r, NULL);
    BL_CHECK(n == 2 && r[1].end_s == 4.75, "min_dur 0.6: E3 dropped, got %zu", n);
    ep.min_duration_seconds = 1.2;
    n = run_events(sc, 21, &ep, r, NULL);
    BL_CHECK(n == 1 && r[0].start_s == 2.75, "min_dur 1.2: only E2, got %zu", n);

    /* Hysteresis: threshold_off = threshold ends the run at 0.4. */
    ep.min_duration_seconds = 0;
    ep.threshold_off = 0.5;
    ep.min_gap_seconds = 0;
    n = run_events(sc, 21, &ep, r, NULL);
    BL_CHECK(n == 4 && r[0].end_s == 1.25 && r[2].start_s == 3.75 && r[2].end_s == 4.25,
             "off = threshold: %zu events", n);

    /* Invalid parameters. */
    bl_window_geom g = {.sample_rate = 10, .window_samples = 10, .hop_samples = 5, .n_classes = 1};
    bl_eventer *e = NULL;
    ev_sink s = {r, 0};
    bl_event_params bad = {.threshold = 0.3, .threshold_off = 0.5};
    BL_CHECK(bl_eventer_create(&g, &bad, ev_cb, &s, &e) == BL_ERR_INVALID_ARG, "off > threshold accepted");
    g.hop_samples = 0;
    BL_CHECK(bl_eventer_create(&g, &ep, ev_cb, &s, &e) == BL_ERR_INVALID_ARG, "hop 0 accepted");
}

/* Two classes, a hole in the windows, and odd window/hop (half-sample edges). */
static void test_events_classes(void) {
    bl_window_geom g = {.sample_rate = 4, .window_samples = 5, .hop_samples = 2, .n_classes = 2};
    bl_event_params ep = {.threshold = 0.5, .threshold_off = 0.5, .min_gap_seconds = 10,
                          .min_duration_seconds = 0};
    bl_event_row r[8];
    ev_sink s = {r, 0};
    bl_eventer *e = NULL;
    BL_CHECK(bl_eventer_create(&g, &ep, ev_cb, &s, &e) == BL_OK, "create");
    if (!e) return;
    /* windows at 0, 2, 4, then a hole, 20, 22; class 1 high on 2 and 4 and 20; class 0 on 22 */
    int64_t st[5] = {0, 2, 4, 20, 22};
    float sc[10] = {0, 0, 0, 1, 0, 1, 0, 1, 1, 0};
    BL_CHECK(bl_eventer_push(e, st, sc, 5) == BL_OK && bl_eventer_finish(e) == BL_OK, "push");
    bl_eventer_destroy(e);
    /* Class 1: windows 2,4 → centre regions [(2·2+5−2)/2, (2·4+5+2)/2) = [3.5, 7.5) samples;
     * the hole ends the run; window 20 starts a new one, merged (gap < 10 s):
     * [3.5, (40+7)/2 = 23.5) samples → [0.875, 5.875) s. Class 0: window 22 → [23.5, 25.5).
     * Both are final only at finish, which closes classes in order: class 0 first. */
    BL_CHECK(s.n == 2, "2 events, got %zu", s.n);
    if (s.n == 2) {
        BL_CHECK(r[1].cls == 1 && r[1].start_s == 0.875 && r[1].end_s == 5.875 && r[1].start_sample == 3 &&
                     r[1].end_sample == 24 && r[1].mean == 1.0,
                 "class 1: cls %d %g..%g %lld..%lld", r[1].cls, r[1].start_s, r[1].end_s,
                 (long long)r[1].start_sample, (long long)r[1].end_sample);
        BL_CHECK(r[0].cls == 0 && r[0].start_s == 23.5 / 4 && r[0].end_s == 25.5 / 4, "class 0: %g..%g",
                 r[0].start_s, r[0].end_s);
    }
}

/* ---- split invariance ---------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Push n windows in pieces of random size (0 included); split = 0 pushes them all at once. */
static bl_status feed(int pooler, void *obj, const int64_t *st, const float *sc, size_t n, int nc, int split) {
    size_t i = 0;
    while (i < n) {
        size_t m = split ? rnd() % 40 : n;
        if (m > n - i) m = n - i;
        bl_status s = pooler ? bl_pooler_push(obj, st + i, sc + i * (size_t)nc, m)
                             : bl_eventer_push(obj, st + i, sc + i * (size_t)nc, m);
        if (s != BL_OK) return s;
        i += m;
    }
    return pooler ? bl_pooler_finish(obj) : bl_eventer_finish(obj);
}

static void test_split_invariance(void) {
    enum { N = 3000, NC = 3 };
    bl_window_geom g = {.sample_rate = 16000, .window_samples = 31999, .hop_samples = 4000, .n_classes = NC};
    int64_t *st = malloc(sizeof *st * N);
    float *sc = malloc(sizeof *sc * N * NC);
    seg_rec *ref = malloc(sizeof *ref * MAX_ROWS), *got = malloc(sizeof *got * MAX_ROWS);
    bl_event_row *eref = malloc(sizeof *eref * MAX_ROWS), *egot = malloc(sizeof *egot * MAX_ROWS);
    if (!st || !sc || !ref || !got || !eref || !egot) {
        BL_CHECK(0, "out of memory");
        goto done;
    }
    /* A random walk per class so that runs, gaps and merges all occur. */
    float lvl[NC] = {0.2f, 0.5f, 0.8f};
    for (int i = 0; i < N; i++) {
        st[i] = (int64_t)i * 4000 + (i >= 2000 ? 400000 : 0); /* one hole */
        for (int c = 0; c < NC; c++) {
            lvl[c] += ((float)(rnd() % 1000) / 1000.0f - 0.5f) * 0.3f;
            if (lvl[c] < 0) lvl[c] = 0;
            if (lvl[c] > 1) lvl[c] = 1;
            sc[i * NC + c] = lvl[c];
        }
    }
    const char *names[] = {"max", "mean", "p90", "p5", "top3_mean", "top1_mean"};
    bl_agg aggs[6];
    parse_aggs(names, 6, aggs);
    bl_event_params ep = {.threshold = 0.6, .threshold_off = 0.45, .min_gap_seconds = 0.6,
                          .min_duration_seconds = 0.4};
    for (int trial = 0; trial < 12; trial++) {
        seg_sink s = {trial ? got : ref, 0, 6};
        ev_sink es = {trial ? egot : eref, 0};
        bl_pooler *p = NULL;
        bl_eventer *e = NULL;
        BL_CHECK(bl_pooler_create(&g, 7.3, 1.25, aggs, 6, seg_cb, &s, &p) == BL_OK, "create");
        BL_CHECK(bl_eventer_create(&g, &ep, ev_cb, &es, &e) == BL_OK, "create");
        if (p) BL_CHECK(feed(1, p, st, sc, N, NC, trial) == BL_OK, "pool: %s", bl_error_message());
        if (e) BL_CHECK(feed(0, e, st, sc, N, NC, trial) == BL_OK, "events: %s", bl_error_message());
        bl_pooler_destroy(p);
        bl_eventer_destroy(e);
        static size_t n_ref, ne_ref;
        if (trial == 0) {
            n_ref = s.n;
            ne_ref = es.n;
            BL_CHECK(n_ref > 100 * NC && ne_ref > 20, "enough rows to mean something: %zu segments, %zu events",
                     n_ref, ne_ref);
            continue;
        }
        BL_CHECK(s.n == n_ref && memcmp(got, ref, sizeof *got * n_ref) == 0,
                 "trial %d: segment rows differ (%zu vs %zu)", trial, s.n, n_ref);
        BL_CHECK(es.n == ne_ref && memcmp(egot, eref, sizeof *egot * ne_ref) == 0,
                 "trial %d: event rows differ (%zu vs %zu)", trial, es.n, ne_ref);
    }
done:
    free(st);
    free(sc);
    free(ref);
    free(got);
    free(eref);
    free(egot);
}

int main(void) {
    test_agg_parse();
    test_pool_hand();
    test_pool_align();
    test_align_offset();
    test_quantile_numpy();
    test_events_hand();
    test_events_classes();
    test_split_invariance();
    return bl_test_finish("test_scoring");
}
