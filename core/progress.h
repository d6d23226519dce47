/* progress.h — what `baleen run` shows while it works and when it ends: a live line on a
 * terminal, one JSON object per second (`--progress json`), and the end-of-run summary.
 *
 * Defines: bl_progress_snap (one reading of the run's counters), bl_progress_line(),
 * bl_progress_json(), bl_progress_summary().
 *
 * Threading: pure formatting of a snapshot; call from one thread (the caller's in `run`).
 */
#ifndef BL_PROGRESS_H
#define BL_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#define BL_PROGRESS_STAGES 4

typedef struct {
    int64_t files_done, files_total;
    int64_t items_done, items_total, items_failed, items_warned;
    double audio_s;       /* audio decoded so far */
    double audio_total_s; /* audio planned (0 when unknown) */
    double wall_s;
    double busy_s[BL_PROGRESS_STAGES]; /* time each stage spent working */
    const char *stage_names[BL_PROGRESS_STAGES];
    int64_t mem_estimate; /* bytes the run was estimated to need (core/memest.h), 0 = unknown */
} bl_progress_snap;

/* Overwrite the terminal line on f: files, audio hours, realtime factor, ETA, slowest stage. */
void bl_progress_line(FILE *f, const bl_progress_snap *s);
/* One JSON object and a newline on f. */
void bl_progress_json(FILE *f, const bl_progress_snap *s);
/* The end-of-run summary (several lines): audio hours, wall time, realtime factor, share of
 * time per stage, peak RSS. */
void bl_progress_summary(FILE *f, const bl_progress_snap *s);


#endif /* BL_PROGRESS_H */
