/* config.h — the run configuration (DESIGN §7): typed structs, defaults, YAML loading
 * (libyaml), `--set key.path=value` overrides, validation and a resolved dump.
 *
 * Every key is described once in a table inside config.c (path, type, default, range,
 * doc line); the loader, --set, the dump, `did you mean` hints and docs/config.md
 * (checked by a test) all come from that table.
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

typedef enum { BL_BACKEND_AUTO = 0, BL_BACKEND_CPU = 1, BL_BACKEND_CUDA = 2 } bl_backend_kind;

typedef struct {
    char *path;         /* file, directory, glob, URL or manifest CSV */
    char *time_pattern; /* strftime-style pattern giving the start time from the name, or NULL */
    char *start;        /* window start: seconds from the file's start or ISO-8601 UTC; NULL = start */
    char *end;          /* window end, same forms; NULL = end of file */
} bl_source_cfg;

typedef struct {
    bl_source_cfg *sources;
    size_t n_sources;
    char *model; /* model directory (model.onnx + model.yaml) or .onnx file */
    bl_frontend_params frontend;
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
        bl_backend_kind backend;
        int threads; /* 0 = all cores */
    } runtime;
    char *origin; /* path of the file it was loaded from; NULL for pure defaults */
} bl_config;

/* Fill with the documented defaults (allocates default strings/arrays). */
bl_status bl_config_init_defaults(bl_config *c);
/* Defaults, then the YAML file at `path` on top. On error *c is still valid (free it). */
bl_status bl_config_load_file(const char *path, bl_config *c);
/* Same from memory; `name` is used in messages in place of a file name. */
bl_status bl_config_load_string(const char *text, size_t len, const char *name, bl_config *c);
/* Apply one override "a.b.c=value" (value parsed as YAML scalar or flow sequence). */
bl_status bl_config_set(bl_config *c, const char *assignment);
/* Cross-field checks (ranges, fmax <= sample_rate/2, threshold_off <= threshold, ...). */
bl_status bl_config_validate(const bl_config *c);
/* Write the resolved config as YAML (every key, defaults included). */
bl_status bl_config_dump(const bl_config *c, FILE *f);
/* Write the key reference as a Markdown table (key | type | default | meaning), the exact
 * text that docs/config.md embeds between its BEGIN/END KEYS markers. */
bl_status bl_config_write_keys_markdown(FILE *f);
void bl_config_free(bl_config *c);

#endif /* BL_CONFIG_H */
