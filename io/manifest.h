/* manifest.h — OUT/manifest.json: the list of every chunk of every table, written by the
 * output directory after each chunk cut and read back on --resume and by `baleen export`.
 *
 * Defines: bl_manifest (tables → chunks → source spans), bl_manifest_format() (deterministic
 * JSON text: the same manifest always gives the same bytes), bl_manifest_parse() /
 * bl_manifest_load() (strict; chunk paths must be "<table>/part-NNNNN.csv.zst" numbered from 0
 * in order, so a damaged or hostile manifest cannot point outside the directory).
 * Schema: docs/output-format.md.
 *
 * Ownership: a bl_manifest owns its strings and arrays; bl_manifest_free().
 * Threading: plain data, no shared state.
 */
#ifndef BL_MANIFEST_H
#define BL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/error.h" /* bl_status */
#include "outputs.h"       /* bl_table_id, BL_TABLE_COUNT */

#define BL_MANIFEST_VERSION 1

typedef struct {
    char *source;      /* source key of the rows */
    double t0_s, t1_s; /* time span covered by the chunk's items of that source (seconds) */
} bl_manifest_span;

typedef struct {
    char *path;              /* relative to the output folder */
    int64_t rows;            /* data rows (header excluded) */
    int64_t bytes;           /* file size */
    int64_t raw_bytes;       /* decompressed size */
    char sha256[65];         /* of the file */
    int64_t first_item;      /* plan-order items whose rows the chunk holds: [first, last] */
    int64_t last_item;
    bl_manifest_span *spans; /* one per run of consecutive items of one source */
    size_t n_spans;
} bl_manifest_chunk;

typedef struct {
    char *header; /* CSV header line (no newline); NULL = table not used by this run */
    bl_manifest_chunk *chunks;
    size_t n_chunks, cap;
} bl_manifest_table;

typedef struct {
    int version;
    bool complete;           /* the run ended (bl_outdir_close) */
    int64_t items_committed; /* items appended to the tables when the manifest was written */
    bl_manifest_table tables[BL_TABLE_COUNT];
} bl_manifest;

/* Append a chunk (takes ownership of its strings and spans; *c is zeroed). */
bl_status bl_manifest_add_chunk(bl_manifest *m, bl_table_id t, bl_manifest_chunk *c);
/* JSON text, malloc'ed, NUL-terminated. */
bl_status bl_manifest_format(const bl_manifest *m, char **text, size_t *len);
/* Parse manifest text held in memory (`name` for messages): linear in `len` (io/json.c), the
 * whole of bl_manifest_load but reading the file, and what tests/fuzz/fuzz_manifest_json.c
 * runs. */
bl_status bl_manifest_parse(const char *text, size_t len, const char *name, bl_manifest *m);
/* Read and parse a manifest file: BL_ERR_NOT_FOUND when absent, BL_ERR_IO when the path is not
 * a regular file (a FIFO is refused, never waited on), BL_ERR_RANGE above 1 GiB. */
bl_status bl_manifest_load(const char *path, bl_manifest *m);
void bl_manifest_chunk_free(bl_manifest_chunk *c);
void bl_manifest_free(bl_manifest *m);

#endif
