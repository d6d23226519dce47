/* export.h — `baleen export`: one decompressed table of an output directory, as CSV, JSON
 * lines or Raven Pro selection tables.
 *
 * Reads OUT/manifest.json, then every chunk of the table in order, each verified (file
 * SHA-256 against the manifest, zstd content checksum, row count); a corrupt or missing chunk
 * stops the export with an error naming it, and no partial output file is left behind.
 * Events columns are found by name in the header line: source, channel, class, start_s,
 * end_s, peak, mean are required for raven; start_utc, end_utc, clip are used when present.
 * Channels in the tables count from 0; Raven's Channel column counts from 1.
 * Raven Low/High Freq come from the effective front end in OUT/run.json ("frontend": {fmin,
 * fmax, sample_rate}, found anywhere in the document), else 0 and sample_rate/2.
 *
 * Threading: one call runs on the caller's thread; no shared state.
 */
#ifndef BL_EXPORT_H
#define BL_EXPORT_H

#include <stdbool.h>

#include "error.h"
#include "io/outputs.h" /* bl_table_id */

typedef enum { BL_EXPORT_CSV = 0, BL_EXPORT_JSONL = 1, BL_EXPORT_RAVEN = 2 } bl_export_format;

typedef struct {
    const char *dir;         /* the run's output directory */
    bl_export_format format;
    bl_table_id table;       /* raven: events only */
    const char *out;         /* file (NULL or "-" = stdout; a device or FIFO is written in place,
                              * a regular file replaced only once every chunk is verified);
                              * with per_source: a folder (required) */
    bool per_source;         /* one file per source: NNNNN_<stem>.selections.txt |
                              * NNNNN_<stem>.<table>.csv|.jsonl, NNNNN the source's index in
                              * run.json "inputs" (io/outnames.h); all written or none */
    bool overwrite;          /* per_source: replace files of those names (else they must not exist) */
} bl_export_opts;

/* Export; *n_rows (may be NULL) receives the data rows written. */
bl_status bl_export_run(const bl_export_opts *o, long long *n_rows);
/* "csv" | "jsonl" | "raven" → format; BL_ERR_USAGE otherwise. */
bl_status bl_export_parse_format(const char *s, bl_export_format *f);

#endif
