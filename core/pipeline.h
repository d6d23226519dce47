/* pipeline.h — `baleen run`: the streaming scheduler that turns a config (sources, model,
 * front end, windows, pooling, events, outputs) into an output directory (DESIGN §1, §4, §6).
 *
 * Defines: bl_run_opts (what the command line resolved), bl_run_result (what happened),
 * bl_pipeline_run() and bl_pipeline_dry_run(). docs/pipeline.md describes the stages, queues,
 * memory bounds and invariants.
 *
 * Stages (threads joined by bounded queues):
 *   reader[0..F-1]  decode + resample (bl_audio_stream) → front end (bl_fe_stream per channel)
 *                   → model windows; reader s handles files s, s+F, s+2F, ... (F =
 *                   runtime.files_in_flight), each into its own bounded pool of packets
 *   model           takes the windows of file 0, 1, 2, ... in plan order (channels interleaved
 *                   window by window), cuts fixed-shape batches of batch.size (a batch mixes
 *                   files and channels; the last one is padded), runs the executor, applies
 *                   the card's output activation when the graph lacks it
 *   scorer/writer   per work item: pooling (bl_pooler), events (bl_eventer), CSV rows, then
 *                   bl_outdir_commit_item (chunks, journal, manifest)
 * The order in which windows meet the model depends only on the plan and the config, never
 * on block size, files in flight, timing or --resume, so output bytes do not either (for a
 * given batch size and thread count).
 *
 * Exit statuses (the command maps them, DESIGN §8): BL_OK with result->n_failed > 0 means
 * exit 2; a fatal error returns its status (outputs stay valid and resumable); a stop request
 * returns BL_OK with result->interrupted set.
 *
 * Threading: bl_pipeline_run starts and joins every thread it uses; the caller's thread
 * shows progress. The stop flag may be set at any time by a signal handler.
 */
#ifndef BL_PIPELINE_H
#define BL_PIPELINE_H

#include <signal.h>  /* sig_atomic_t */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h" /* bl_config, bl_backend_kind, bl_progress_mode */
#include "error.h"  /* bl_status */

typedef struct {
    const bl_config *cfg;        /* loaded, --set applied, validated */
    const char *config_path;     /* for messages and run.json (may be NULL) */
    const char *command_line;    /* recorded in run.json (may be NULL) */
    bool resume;                 /* continue the run in cfg->output.dir */
    bool force_dir;              /* --force-dir: a non-empty folder without baleen's marker is
                                  * used as long as baleen's own names in it are free */
    int threads;                 /* >= 1: executor and front-end threads */
    bl_progress_mode progress;   /* BAR, JSON or NONE (AUTO resolved by the caller) */
    const volatile sig_atomic_t *stop; /* set non-zero to stop cleanly; may be NULL */
    int test_item_delay_ms;      /* tests only: the writer sleeps this long after each item
                                  * (so a test can interrupt a run mid-way); 0 = off */
    double *batch_seconds;       /* optional (`baleen bench`): the model stage stores the time
                                  * of each batch's executor call here, in order, up to
                                  * batch_seconds_cap of them (result->n_batches counts all);
                                  * NULL = not recorded. Owned by the caller. */
    int64_t batch_seconds_cap;
    bool adapt_threads;          /* runtime.threads 0: while other processes hold the CPUs, the
                                  * model stage may run fewer executor threads (down to 1) when
                                  * that measures faster (core/cpushare.h); BL_ADAPT_THREADS=0
                                  * in the environment turns it off */
} bl_run_opts;

/* The stages whose busy time bl_run_result.stage_busy_s reports, in this order. */
#define BL_RUN_STAGES 4

typedef struct {
    int64_t n_items;       /* work items planned */
    int64_t n_skipped;     /* already done (--resume) */
    int64_t n_committed;   /* committed by this run (failed ones included) */
    int64_t n_failed;      /* failed items (listed in errors.csv) */
    int64_t n_warned;      /* items committed with a warning this session (warnings.csv) */
    double audio_seconds;  /* audio decoded (per file, not per channel) */
    double wall_seconds;
    bool interrupted;      /* the stop flag ended the run early */
    char backend[16];      /* "cpu" */
    /* where the time went (figures for `baleen bench`; set once the stages have run) */
    double setup_seconds;  /* from the call to the start of the stage threads: model, plan,
                            * executor, output directory */
    double stream_seconds; /* from the start of the stage threads to their join */
    double stage_busy_s[BL_RUN_STAGES]; /* time each stage spent working (bl_run_stage_name) */
    int64_t n_windows;     /* windows scored */
    int64_t n_batches;     /* executor calls (each of batch.size windows, the last one padded) */
    int64_t n_batches_fewer_threads; /* of them, run with fewer threads than o->threads
                            * (adapt_threads under contention) */
} bl_run_result;

/* "decode", "frontend", "model", "score+write" for 0..BL_RUN_STAGES-1; "?" otherwise. */
const char *bl_run_stage_name(int stage);

/* Run the whole job. See the top of this file for statuses. Messages go through bl_log. */
bl_status bl_pipeline_run(const bl_run_opts *o, bl_run_result *result);

/* Print the resolved config, the model geometry and the planned work items to f; runs
 * nothing and writes nothing. */
bl_status bl_pipeline_dry_run(const bl_run_opts *o, FILE *f);

#endif /* BL_PIPELINE_H */
