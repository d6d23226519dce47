/* scoring.h — from window scores to pooled segments and detected events (issue 4, DESIGN §4).
 *
 * Defines: bl_agg (parsed aggregate spec), bl_pooler (segments), bl_eventer (events).
 * Both are streaming per (source, channel): window scores are pushed in time order, rows are
 * emitted through a callback as soon as they are final, and bl_*_finish emits the rest.
 * Results do not depend on how the pushes are split (block boundaries): a segment or event
 * that straddles blocks comes out exactly as in a single pass.
 *
 * Time. A window w covers samples [w.start, w.start + w.len) at the front end's sample rate.
 * All times in rows are seconds from the source's start (start_s = sample / rate), plus
 * absolute UTC when the source's start time is known (bl_time_t origin, see below).
 *
 * Segments: boundaries at t = k·segment_seconds − align_offset_s (k integer), i.e. aligned to
 * the source's start (align_offset_s = 0) or, when the source's UTC start time is known, to
 * whole UTC multiples of segment_seconds (align_offset_s = utc_start mod segment_seconds).
 * A window belongs to the segment holding its centre. Each segment × class gives one row
 * with each aggregate: max, mean, pNN (quantile NN/100, linear interpolation between order
 * statistics as numpy.quantile's default), topK_mean (mean of the K largest; all when fewer).
 * Segments with no window are not emitted.
 *
 * Events, per class: an event begins at a window whose score >= threshold, continues while
 * scores stay >= threshold_off; events separated by a gap < min_gap_seconds are merged;
 * events shorter than min_duration_seconds are dropped. Event span: from the start of its
 * first window's centre region to the end of its last window's centre region, the centre
 * region of a window being [centre − hop/2, centre + hop/2) with hop the window hop in
 * seconds (so consecutive windows tile time and an isolated window yields an event of one
 * hop). peak = max score, mean = mean score over the event's windows (merged gaps excluded).
 * A gap equal to min_gap_seconds is not merged; an event exactly min_duration_seconds long is
 * kept. A run continues only over consecutive windows (start = previous + hop): a hole in
 * the window sequence ends it. start_sample = floor of the start edge, end_sample = ceil of
 * the end edge (exclusive), in samples from the source's start. An event is emitted as soon
 * as it is final (min_gap has passed with no new run), so rows of different classes come in
 * the order they become final, not sorted by time; bl_eventer_finish closes open events in
 * class order. The order is the same for any split of the pushes.
 *
 * Segment rows: start_sample = first sample at or after the boundary (negative for the first
 * segment when aligned to UTC), start_s = max(0, boundary), end_s = next boundary (not
 * clipped to the end of the audio). Rows come segment by segment, classes in order, as soon
 * as a window of a later segment arrives. Aggregates are computed in double precision from
 * the float scores (mean accumulated in time order). Rules with examples: docs/scoring.md.
 *
 * Threading: one object per stream, used by one thread at a time.
 */
#ifndef BL_SCORING_H
#define BL_SCORING_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum { BL_AGG_MAX, BL_AGG_MEAN, BL_AGG_QUANTILE, BL_AGG_TOPK_MEAN } bl_agg_kind;
typedef struct {
    bl_agg_kind kind;
    double q;      /* BL_AGG_QUANTILE: 0..1 */
    int k;         /* BL_AGG_TOPK_MEAN: K >= 1 */
    char name[16]; /* column name as configured: "max", "mean", "p90", "top3_mean" */
} bl_agg;

/* Parse "max" | "mean" | "pNN" (NN 1..99) | "topK_mean" (K >= 1), the forms the config
 * accepts. BL_ERR_CONFIG with a message otherwise. */
bl_status bl_agg_parse(const char *s, bl_agg *out);

/* align_offset_s for bl_pooler_create: utc_start mod segment_seconds when has_utc (exact
 * integer arithmetic when segment_seconds is a whole number of milliseconds; always in
 * [0, segment_seconds)), else 0. */
double bl_segment_align_offset(int has_utc, int64_t utc_start_ms, double segment_seconds);

typedef struct {
    int64_t start_sample; /* first sample of the segment (may be < 0 for the first when aligned
                           * to UTC; clipped to 0 in start_s) */
    double start_s, end_s;
    int cls;
    const double *values; /* one per aggregate, in configured order */
} bl_segment_row;

typedef struct {
    int cls;
    double start_s, end_s;
    double peak, mean;
    int64_t start_sample, end_sample;
} bl_event_row;

typedef bl_status (*bl_segment_cb)(void *user, const bl_segment_row *row);
typedef bl_status (*bl_event_cb)(void *user, const bl_event_row *row);

typedef struct {
    int sample_rate;        /* front end rate */
    int64_t window_samples; /* window length in samples (window_frames·hop_length, or as the
                             * pipeline defines it from the front end) */
    int64_t hop_samples;    /* window hop in samples (hop_frames·hop_length) */
    int n_classes;
} bl_window_geom;

typedef struct bl_pooler bl_pooler;
bl_status bl_pooler_create(const bl_window_geom *geom, double segment_seconds, double align_offset_s,
                           const bl_agg *aggs, int n_aggs, bl_segment_cb cb, void *user,
                           bl_pooler **out);
/* Windows in time order: window i starts at sample start[i]; scores[i*n_classes + c]. */
bl_status bl_pooler_push(bl_pooler *p, const int64_t *start, const float *scores, size_t n);
bl_status bl_pooler_finish(bl_pooler *p);
void bl_pooler_destroy(bl_pooler *p);

typedef struct {
    double threshold, threshold_off, min_gap_seconds, min_duration_seconds;
} bl_event_params;

typedef struct bl_eventer bl_eventer;
bl_status bl_eventer_create(const bl_window_geom *geom, const bl_event_params *ep, bl_event_cb cb,
                            void *user, bl_eventer **out);
bl_status bl_eventer_push(bl_eventer *e, const int64_t *start, const float *scores, size_t n);
bl_status bl_eventer_finish(bl_eventer *e);
void bl_eventer_destroy(bl_eventer *e);

#endif
