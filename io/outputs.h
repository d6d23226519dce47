/* outputs.h — the output directory of a run (DESIGN §6): zstd CSV chunk tables, the
 * manifest, the checkpoint journal, the lock, errors.csv and run.json.
 *
 * Defines: bl_outdir (one open output directory, locked), bl_table (one chunked table:
 * "segments", "events", "window_scores"), and the work-item commit protocol that makes
 * --resume exact.
 *
 * Layout:
 *   OUT/.baleen-output             the marker, written first: this folder is a baleen output.
 *                                  A folder without it that is not empty is refused (a user's
 *                                  files are never deleted or replaced) unless force_dir, and
 *                                  even then every name baleen writes must be free
 *   OUT/.lock                      flock()ed while a run holds the directory (a second
 *                                  concurrent run fails with BL_ERR_IO naming the holder pid)
 *   OUT/run.json                   provenance (written at start, replaced at the end)
 *   OUT/manifest.json              every chunk: table, path, rows, bytes, sha256, work items
 *                                  covered, sources and time span; replaced atomically
 *   OUT/checkpoint/journal.tsv     one line per committed work item (fsynced), see below
 *   OUT/checkpoint/fingerprint     hash of the resolved config + model sha256: --resume with
 *                                  another one is refused, naming the keys that differ
 *   OUT/<table>/part-NNNNN.csv.zst one complete zstd frame with content checksum; RFC 4180 CSV
 *                                  with a header line in every chunk
 *   OUT/errors.csv                 source,channel,stage,status,message (absent when none):
 *                                  failed items, retried by --resume
 *   OUT/warnings.csv               source,channel,stage,message (absent when none): items
 *                                  that were committed with their scores but with something
 *                                  left undone or changed (a clip not cut, samples zeroed)
 *
 * Commit protocol (exact resume, byte-identical output).
 *   Work items are numbered in plan order (0, 1, 2, ...). The pipeline hands a finished item's
 *   rows for every table to bl_outdir_commit_item() in any order; the outdir re-orders them
 *   and appends items to the tables strictly in plan order (a later item waits in memory
 *   until all earlier ones are committed or failed — rows are small). A table cuts a chunk
 *   only at an item boundary, when it holds >= rows_per_chunk rows, and at the end of the run.
 *   Writing a chunk: temp name in the same folder, write, fsync, rename, fsync the folder;
 *   then the journal lines of the items the chunks complete are appended and fsynced; then the
 *   manifest is replaced. On --resume: chunk files not in the manifest are deleted; items in
 *   the journal whose chunks are all in the manifest are done; the chunk counter continues
 *   after the last chunk. Because chunks are cut only by the (deterministic) row counts of
 *   items in plan order, an interrupted + resumed run writes the same chunks, byte for byte,
 *   as an uninterrupted one.
 *   Failed items (decode errors...) are committed too, with no rows, and recorded in
 *   errors.csv so that order is kept; --resume retries them.
 *
 * Disk full / I/O errors: a failed chunk write removes its temp file and returns
 * BL_ERR_NO_SPACE (ENOSPC, EDQUOT) or BL_ERR_IO with the path; nothing already in the manifest
 * is touched, so the directory stays valid and resumable. For tests, the environment
 * variable BL_TEST_ENOSPC_AFTER_BYTES=N makes chunk writes fail with ENOSPC once N bytes
 * have gone through the write layer of one open directory (the write that crosses N is cut
 * short there, so torn files are exercised too). BL_TEST_CRASH_AT=POINT[:N] kills the process
 * with SIGKILL the N-th time it reaches POINT (chunk_renamed, carry_written, journal_written,
 * manifest_written) — the crash tests' way to stop between two steps of the protocol.
 *
 * Checkpoint details (io/outputs.c): rows a table holds that are not in a chunk yet are also
 * appended to checkpoint/carry-<table>-NNNNN.csv and fsynced before the item's journal line,
 * so every committed item survives a crash (not only those in finished chunks). A journal
 * line records each table's next chunk number and carry length; on --resume the last line
 * that agrees with manifest.json is the state. See docs/output-format.md.
 *
 * Threading: one writer thread owns a bl_outdir; nothing here is called concurrently.
 */
#ifndef BL_OUTPUTS_H
#define BL_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/error.h"
#include "json.h" /* bl_strbuf for bl_csv_append */

typedef enum { BL_TABLE_SEGMENTS = 0, BL_TABLE_EVENTS = 1, BL_TABLE_WINDOW_SCORES = 2, BL_TABLE_COUNT } bl_table_id;

typedef struct {
    const char *dir;          /* output directory (created if missing) */
    int rows_per_chunk;       /* soft target, cut at item boundaries */
    int zstd_level;
    bool resume;              /* --resume: reopen and continue; else the directory must not
                               * hold a previous run (BL_ERR_IO: "use --resume or another -o") */
    const char *fingerprint;  /* text identifying config + model (resume refuses another) */
    bool force_dir;           /* --force-dir: use a non-empty folder without the marker, as
                               * long as none of the names baleen writes is taken */
    int64_t n_items;          /* work items of the plan (> 0): a journal naming an item beyond
                               * them is refused instead of sizing memory by it; 0 = no bound */
    const char *headers[BL_TABLE_COUNT]; /* CSV header line per table; NULL = table unused */
} bl_outdir_opts;

typedef struct bl_outdir bl_outdir;

/* "segments", "events", "window_scores" (the folder and manifest names); NULL if invalid. */
const char *bl_table_name(bl_table_id t);
/* Table id by name; -1 when unknown. */
int bl_table_from_name(const char *name);

/* Open (and lock) the output directory. On --resume, bl_outdir_n_done() tells how many items
 * are already committed and bl_outdir_item_done() answers for each; a resume whose fingerprint
 * differs fails with BL_ERR_CONFIG naming the keys that differ. */
bl_status bl_outdir_open(const bl_outdir_opts *opts, bl_outdir **out);
/* True for items committed successfully (in an earlier session or this one). Items that failed
 * before are not done: --resume retries them. */
bool bl_outdir_item_done(const bl_outdir *od, int64_t item);
int64_t bl_outdir_n_done(const bl_outdir *od);
/* On --resume: BL_ERR_CONFIG when the journal recorded another key for this item (the plan
 * changed, e.g. files were added to a source folder). OK for items it does not know. */
bl_status bl_outdir_verify_item_key(const bl_outdir *od, int64_t item, const char *key);
const char *bl_outdir_path(const bl_outdir *od);

/* Rows of one finished work item: for each table, a buffer of complete CSV lines (each ending
 * in '\n', fields already RFC 4180-quoted) and their count. `key` identifies the item in the
 * journal (source path|channel|start sample|end sample), `source`/`t0`/`t1` describe it for
 * the manifest. Takes copies. */
typedef struct {
    int64_t item;
    const char *key;
    const char *source;
    int channel;
    double t0_s, t1_s;
    const char *rows[BL_TABLE_COUNT];
    size_t rows_len[BL_TABLE_COUNT];
    int64_t n_rows[BL_TABLE_COUNT];
    bool failed;            /* the item failed: no rows; reason in error_* */
    const char *error_stage;
    const char *error_message;
    bl_status error_status;  /* written to errors.csv's status column (BL_OK: "failed") */
    const char *warning_stage;   /* an ok item's warning (warnings.csv; NULL/"" = none): */
    const char *warning_message; /* what could not be done, the scores stay (a clip, ...) */
} bl_item_result;

/* Items may come in any order; each is appended (and made durable: carry + journal fsynced)
 * once all earlier items are. Errors: BL_ERR_INVALID_ARG (item twice, rows not ending in '\n',
 * rows for a table without header), BL_ERR_NO_SPACE / BL_ERR_IO from the write layer — after a
 * write error every later commit fails too, and the directory keeps its last valid state. */
bl_status bl_outdir_commit_item(bl_outdir *od, const bl_item_result *r);
/* Write run.json atomically. `json` is a complete JSON object ("{...}"), written as given; text
 * that does not start with '{' is taken as the members and wrapped in braces. */
bl_status bl_outdir_write_run_json(bl_outdir *od, const char *json);
/* End of run: append items still waiting (gaps skipped), write the last partial chunks (a
 * table without any row gets one header-only chunk), a journal "close" line, the manifest
 * with "complete": true, errors.csv; unlock and free (also on error). *n_failed = items whose
 * last attempt failed. */
bl_status bl_outdir_close(bl_outdir *od, int64_t *n_failed);
/* Abort: keep what is committed, unlock, free (after a fatal error or a signal). */
void bl_outdir_abort(bl_outdir *od);

/* RFC 4180 quoting of one field into buf (quotes only when it holds , " CR or LF). Like
 * snprintf: returns the quoted length (excluding NUL); when that is >= cap nothing is written
 * (buf may be NULL with cap 0 to ask for the size). */
size_t bl_csv_quote(const char *field, char *buf, size_t cap);
/* The same appended to b, whatever its length (b->oom on allocation failure). */
void bl_csv_append(bl_strbuf *b, const char *field);

#endif
