/* sources.h — the planner's input side: expand configured sources into a sorted list of
 * audio inputs, and split them into work items (DESIGN §1, §4, §9).
 *
 * Defines: bl_input (one audio file with its time window and optional UTC start), bl_plan
 * (inputs and work items), bl_plan_build(), the manifest CSV parser
 * bl_source_manifest_parse(), and the time helpers bl_time_parse_pattern(),
 * bl_time_parse_iso(), bl_time_format_iso(), bl_time_format_compact().
 * Code: io/sources.c (expansion, plan), io/source_manifest.c (CSV), io/timeparse.c (times).
 * Rules with examples: docs/scoring.md.
 *
 * Sources (config `sources:`; local here, remote ones in their own issue):
 *  - a file path;
 *  - a directory: every audio file below it, recursively, by extension (wav, flac, ogg, mp3,
 *    aif, aiff, w64, rf64; case-insensitive), sorted by path (strcmp); hidden entries and
 *    symlinks to folders are not followed;
 *  - a glob (`*`, `?`, `[...]`, and `**` for any depth, a trailing `**` = every file below;
 *    `*` does not match a leading '.'), every matching regular file, sorted;
 *  - a manifest CSV (path ends in .csv): header with columns path[,start_s,end_s,key] (and
 *    start_time, see bl_source_manifest_parse); relative paths are relative to the manifest's
 *    folder; `key` names the source in output rows (default: the path as written); rows keep
 *    their order; a row's start_s/end_s override the source's start/end.
 *  Other sources keep their configured order. Keys of files and globs are the paths as found
 *  (the configured prefix as written + the rest). URLs are BL_ERR_UNSUPPORTED for now.
 *  A mapping item may add time_pattern (strftime style: %Y %m %d %H %M %S %j %y and literals;
 *  matched against the file name, e.g. "MARS-%Y%m%dT%H%M%SZ"), start, end (seconds from the
 *  file's start, or ISO-8601 UTC "2018-11-01T03:00:00Z" when the start time is known; an ISO
 *  time without a known start is BL_ERR_CONFIG, as is a time_pattern that does not match a
 *  listed file). Files whose window is empty (ends before the file starts, or starts after its
 *  probed end) are left out; an absolute start before the file's start is clipped to 0.
 *  A source that lists nothing (or nothing in its window) is an error naming it
 *  (BL_ERR_NOT_FOUND); duplicates (the same file — same realpath — with the same window) are
 *  listed once, at the first place. A listed file that cannot be read (a manifest row naming
 *  a missing file, a corrupt header) is kept with probe_error set.
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

#include "../core/source_spec.h" /* bl_source_cfg: the sources as configured (no config loader) */
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
    size_t source;     /* index of the source (in the list given to bl_plan_build) that listed it */
    char *probe_error; /* NULL when the header was read; else why not (the pipeline fails
                        * this input with it; sample_rate is then 0) */
    bool unscannable;  /* not an audio file at all but what a folder walk could not scan (an
                        * unreadable subfolder, a FIFO with an audio name): probe_error says
                        * what, and the pipeline fails the input without opening it */
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

/* Expand the n_sources configured sources (config `sources:`), probe each file's header
 * (channels, rate, length) and build the items.
 * Inputs whose header cannot be read are kept (channels = 1, one item) so that the failure
 * is reported per input by the pipeline and the run goes on. */
bl_status bl_plan_build(const bl_source_cfg *sources, size_t n_sources, bl_plan *plan);
void bl_plan_free(bl_plan *plan);

/* A manifest CSV parsed from memory (bl_plan_build reads the file and calls this).
 * Columns, named in the header line in any order: path (required), start_s, end_s, key, and
 * start_time (ISO-8601 UTC of the file's first sample: an alternative to time_pattern).
 * RFC 4180: quoted fields with "" escapes, commas and line breaks inside quotes; LF or CRLF;
 * a UTF-8 BOM and blank lines are skipped; a row may have fewer fields than the header (the
 * rest are empty) but not more. Syntax of start_s/end_s/start_time is checked here; errors are
 * BL_ERR_FORMAT naming `name`:line. Strings are as written (path and key untrimmed; empty
 * optional fields are NULL). */
typedef struct {
    char *path, *key, *start, *end, *start_time;
    int line; /* line on which the row begins */
} bl_source_manifest_row;
typedef struct {
    bl_source_manifest_row *rows;
    size_t n;
} bl_source_manifest;
bl_status bl_source_manifest_parse(const char *text, size_t len, const char *name,
                                   bl_source_manifest *out);
void bl_source_manifest_free(bl_source_manifest *m);

/* Parse the start time from a file name with a strftime-style pattern (the pattern may
 * match anywhere in the base name; the directory part is ignored; the leftmost match that is
 * a valid date wins). Directives: %Y (4 digits) %y (2; 69-99 → 19xx) %m %d %H %M %S (2)
 * %j (3, day of year) %%. BL_ERR_FORMAT when it does not match; BL_ERR_CONFIG for an
 * unsupported directive or a pattern without a year. */
bl_status bl_time_parse_pattern(const char *name, const char *pattern, int64_t *utc_ms);
/* Parse "2018-11-01T03:00:00Z" (also with fractional seconds — truncated to ms — or a
 * ±HH:MM / ±HHMM offset). A zone is required. BL_ERR_FORMAT otherwise. */
bl_status bl_time_parse_iso(const char *s, int64_t *utc_ms);
/* Format epoch ms as "2018-11-01T03:00:00.000Z" into buf (>= 32 bytes). */
void bl_time_format_iso(int64_t utc_ms, char *buf, size_t cap);
/* The same without separators, for file names: "20181101T030000.000Z". */
void bl_time_format_compact(int64_t utc_ms, char *buf, size_t cap);

#endif
