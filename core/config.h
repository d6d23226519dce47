/* config.h — the run configuration (DESIGN §7): typed structs, defaults, YAML loading
 * (libyaml), `--set key.path=value` overrides, validation and a resolved dump.
 *
 * Every key is described once in a table inside config_keys.c (path, type, default, range,
 * doc line); the loader, --set, the dump, `did you mean` hints and docs/config.md
 * (checked by a test) all come from that table. Model cards (models/card.h) reuse the
 * same loader and the table's frontend rows.
 *
 * Errors name file:line:column, the key path and the expected type or range, through
 * bl_error_message(), with status BL_ERR_CONFIG.
 *
 * Ownership: a bl_config owns its strings and arrays; release with bl_config_free().
 * Threading: a loaded config is read-only and may be shared by threads.
 */
#ifndef BL_CONFIG_H
#define BL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "frontend.h"
#include "source_spec.h" /* bl_source_cfg: one source, as the planner takes it */

typedef enum { BL_BACKEND_AUTO = 0, BL_BACKEND_CPU = 1, BL_BACKEND_CUDA = 2 } bl_backend_kind;
/* runtime.progress: auto = a live line when stderr is a terminal, nothing otherwise. */
typedef enum { BL_PROGRESS_AUTO = 0, BL_PROGRESS_BAR = 1, BL_PROGRESS_JSON = 2, BL_PROGRESS_NONE = 3 } bl_progress_mode;

/* input.non_finite: what a NaN or Inf sample does to its item. */
typedef enum { BL_NONFINITE_FAIL = 0, BL_NONFINITE_ZERO = 1 } bl_nonfinite_mode;
/* input.truncated: a file whose data ends before its header says. */
typedef enum { BL_TRUNCATED_FAIL = 0, BL_TRUNCATED_KEEP = 1 } bl_truncated_mode;


typedef struct {
    bl_source_cfg *sources;
    size_t n_sources;
    char *model; /* model directory (model.onnx + model.yaml) or .onnx file */
    struct {
        bl_nonfinite_mode non_finite; /* fail (errors.csv) or zero (replaced, warnings.csv) */
        bl_truncated_mode truncated;  /* fail (errors.csv) or keep what is there (warnings.csv) */
    } input;
    bl_frontend_params frontend;
    struct {
        int window_frames; /* frames per model window; 0 = the model card's */
        int hop_frames;    /* frames between window starts; 0 = the model card's */
    } windows;
    struct {
        int size; /* windows per model batch (fixed shape; the last one padded) */
    } batch;
    struct {
        double segment_seconds;
        char **aggregates; /* "max", "mean", "pNN", "topK_mean" */
        size_t n_aggregates;
    } pooling;
    struct {
        double threshold, threshold_off, min_gap_seconds, min_duration_seconds;
    } events;
    struct {
        char *dir;
        int rows_per_chunk;
        int zstd_level;
        bool clips_enabled;
        double clips_pad_seconds;
    } output;
    struct {
        bool window_scores; /* window_scores/ table: every window's scores */
        bool features;      /* features/<source>.ch<C>.npy: every frame of the front end */
    } persist;
    struct {
        bl_backend_kind backend;
        int threads; /* 0 = every CPU the process may use (core/sysinfo.h) */
        bl_progress_mode progress;
        int files_in_flight;  /* files decoded ahead of the model (>= 1) */
        double block_seconds; /* audio per decode block; results do not depend on it */
    } runtime;
    char *origin; /* path of the file it was loaded from (or the name given to
                     bl_config_load_string); NULL for pure defaults */
    struct bl_config_marks *marks; /* private to config.c: where each key was last set
                                      (file:line:column or --set argument), so that
                                      bl_config_validate can point at it */
} bl_config;

/* Fill with the documented defaults (allocates default strings/arrays). */
bl_status bl_config_init_defaults(bl_config *c);
/* Defaults, then the YAML file at `path` on top. On error *c is still valid (free it).
 * An unreadable file is BL_ERR_CONFIG too (DESIGN §8: a config error, nothing run). */
bl_status bl_config_load_file(const char *path, bl_config *c);
/* Same from memory; `name` is used in messages in place of a file name. */
bl_status bl_config_load_string(const char *text, size_t len, const char *name, bl_config *c);
/* Apply one override "a.b.c=value" (value parsed as YAML scalar or flow sequence; a section
 * path such as "frontend.mel" takes a flow mapping "{n_mels: 128}"). Errors name the
 * argument. On error *c is unchanged for scalar keys and still valid in any case. */
bl_status bl_config_set(bl_config *c, const char *assignment);
/* Cross-field checks (ranges, fmax <= sample_rate/2, threshold_off <= threshold, ...).
 * Messages point at the file:line:column (or --set argument) that set the key. */
bl_status bl_config_validate(const bl_config *c);
/* Write the resolved config as YAML (every key, defaults included). */
bl_status bl_config_dump(const bl_config *c, FILE *f);
/* The same as "key.path=value" lines, one key a line (the run's fingerprint). */
bl_status bl_config_dump_flat(const bl_config *c, FILE *f);
/* True when the config file or a --set argument gave `path` ("frontend.hop_length"), even
 * at its default value; false for keys left at their defaults and for unknown paths. A
 * section path ("frontend.mel") is set when any key under it is. (The pipeline uses this
 * to let the config's front-end keys override a model card's, and only those.) */
bool bl_config_key_is_set(const bl_config *c, const char *path);
/* True when every key of `a` and `b` holds the same value (origin and marks ignored). */
bool bl_config_equal(const bl_config *a, const bl_config *b);
/* Write the key reference as plain text, one key a line (`baleen config keys`). */
bl_status bl_config_write_keys_text(FILE *f);
/* Write the key reference as a Markdown table (key | type | default | meaning), the exact
 * text that docs/config.md embeds between its BEGIN/END KEYS markers. */
bl_status bl_config_write_keys_markdown(FILE *f);
void bl_config_free(bl_config *c);

#endif /* BL_CONFIG_H */
