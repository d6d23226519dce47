/* journal.h — OUT/checkpoint/: the journal of committed work items, the fingerprint of the
 * run's configuration, and the OUT/.lock file (see outputs.h for the protocol).
 *
 * Defines: bl_journal_line (one committed item, or the end of a run, with the state of every
 * table after it: next chunk number and bytes of not-yet-chunked rows in the carry file),
 * its text form (tab-separated, one line each, fields escaped), the parser that keeps only
 * complete lines, bl_fingerprint_diff() and bl_outdir_lock_acquire().
 *
 * Journal line:
 *   item|close <TAB> index <TAB> ok|failed <TAB> (next_chunk carry_len n_rows) × 3 tables
 *   <TAB> t0_s <TAB> t1_s <TAB> channel <TAB> key <TAB> source <TAB> stage <TAB> status
 *   <TAB> message
 * Text fields escape '\\' '\t' '\n' '\r' as \\ \t \n \r. A torn last line (no '\n') is
 * ignored: the item it describes is simply redone. An item line with a negative index is
 * malformed (parsing stops there, as at any malformed line).
 *
 * Ownership: parsed lines own their strings (bl_journal_lines_free).
 * Threading: no shared state.
 */
#ifndef BL_JOURNAL_H
#define BL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/error.h" /* bl_status */
#include "json.h"          /* bl_strbuf */
#include "outputs.h"       /* BL_TABLE_COUNT */

#define BL_JOURNAL_MAGIC "# baleen checkpoint journal v1\n"

typedef struct {
    bool is_close;       /* the run's end: every table cut, carry empty */
    int64_t item;        /* plan-order index (-1 for close) */
    bool failed;
    int64_t next_chunk[BL_TABLE_COUNT]; /* chunk number the table writes next */
    int64_t carry_len[BL_TABLE_COUNT];  /* bytes in checkpoint/carry-<table>-<next_chunk>.csv */
    int64_t n_rows[BL_TABLE_COUNT];     /* rows this item added to the table */
    double t0_s, t1_s;
    int channel;
    char *key, *source, *stage, *status, *message; /* never NULL after parsing ("" if empty) */
    int64_t end_offset;  /* byte offset just past this line in the journal file */
} bl_journal_line;

void bl_journal_format_line(const bl_journal_line *l, bl_strbuf *b);
/* Parse the journal text (starting with BL_JOURNAL_MAGIC). Stops at the first torn or
 * malformed line: lines before it are returned, the rest reported through *n_ignored_bytes.
 * BL_ERR_FORMAT when the magic line is wrong. */
bl_status bl_journal_parse(const char *text, size_t len, const char *name, bl_journal_line **lines,
                           size_t *n_lines, int64_t *n_ignored_bytes);
void bl_journal_lines_free(bl_journal_line *lines, size_t n);

/* Compare two fingerprints ("key=value" lines; other lines compare whole). Returns true when
 * equal; otherwise writes "key: was A, now B; ..." (at most a few) into msg. */
bool bl_fingerprint_diff(const char *old_fp, const char *new_fp, char *msg, size_t cap);

/* flock() OUT/.lock exclusively without waiting and write our pid into it. BL_ERR_IO naming
 * the pid that holds it when another process (or another open in this one) has it. */
bl_status bl_outdir_lock_acquire(const char *dir, int *fd_out);

#endif
