/* sources.h — the planner's input side: expand configured sources into a sorted list of
 * audio inputs, and split them into work items (DESIGN §1, §4, §9).
 *
 * Defines: bl_input (one audio file with its time window and optional UTC start), bl_plan
 * (inputs and work items), bl_plan_build(), bl_time_parse_pattern().
 *
 * Sources (config `sources:`; local here, remote ones in their own issue):
 *  - a file path;
 *  - a directory: every audio file below it, recursively, by extension (wav, flac, ogg, mp3,
 *    aif, aiff, w64, rf64; case-insensitive), sorted by path;
 *  - a glob (`*`, `?`, `[...]`, and `**` for any depth), sorted;
 *  - a manifest CSV (path ends in .csv): header with columns path[,start_s,end_s,key];
 *    relative paths are relative to the manifest's folder; `key` names the source in output
 *    rows (default: the path as written).
 *  A mapping item may add time_pattern (strftime style: %Y %m %d %H %M %S %j %y and literals;
 *  matched against the file name, e.g. "MARS-%Y%m%dT%H%M%SZ"), start, end (seconds from the
 *  file's start, or ISO-8601 UTC "2018-11-01T03:00:00Z" when the start time is known).
 *  A source that matches nothing is an error naming it (BL_ERR_NOT_FOUND); duplicates
 *  (the same file twice) are listed once.
 *
 * Work items: one per (input, channel) — channels are independent streams — in input order
 * then channel order. (Splitting long files into several items per channel comes with
 * sharding; item boundaries then fall on window-hop multiples so results do not change.)
 *
 * Threading: pure functions; the plan is read-only once built.
 */
#ifndef BL_SOURCES_H
#define BL_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/config.h"
#include "../core/error.h"

typedef struct {
    char *path;        /* file to open */
    char *key;         /* name in output rows */
    double start_s;    /* window start, seconds from the file's start (0) */
    double end_s;      /* window end; < 0 = end of file */
    bool has_utc;      /* UTC start time known (time_pattern or manifest) */
    int64_t utc_start_ms; /* file's first sample, Unix epoch milliseconds */
    int channels;      /* from the file header (0 until probed) */
    int sample_rate;
    int64_t frames;    /* -1 unknown */
    int64_t bytes;     /* file size */
} bl_input;

typedef struct {
    int64_t index;     /* plan order */
    size_t input;      /* into inputs[] */
    int channel;
} bl_work_item;

typedef struct {
    bl_input *inputs;
    size_t n_inputs;
    bl_work_item *items;
    size_t n_items;
} bl_plan;

/* Expand cfg->sources, probe each file's header (channels, rate, length) and build the items.
 * Inputs whose header cannot be read are kept (channels = 1, one item) so that the failure
 * is reported per input by the pipeline and the run goes on. */
bl_status bl_plan_build(const bl_config *cfg, bl_plan *plan);
void bl_plan_free(bl_plan *plan);

/* Parse the start time from a file name with a strftime-style pattern (the pattern may
 * match anywhere in the base name). BL_ERR_FORMAT when it does not match. */
bl_status bl_time_parse_pattern(const char *name, const char *pattern, int64_t *utc_ms);
/* Parse "2018-11-01T03:00:00Z" (also with fractional seconds or +00:00). */
bl_status bl_time_parse_iso(const char *s, int64_t *utc_ms);
/* Format epoch ms as "2018-11-01T03:00:00.000Z" into buf (>= 32 bytes). */
void bl_time_format_iso(int64_t utc_ms, char *buf, size_t cap);

#endif
