/* pipeline_impl.h — private to core/pipeline.c, core/stages.c, core/scorer.c, core/rundesc.c
 * and core/progress.c: the run context shared by the stage threads, the packets that flow
 * between them, and the stage entry points.
 *
 * Data flow and ownership:
 *   reader s ──(slot s: `ready` queue of packets; `free` queue returns them)──► model
 *   model ──(score_q: bl_score_msg, malloc'ed by the model, freed by the scorer)──► scorer
 * A slot's packets are allocated once (the block pool of that file in flight) and freed by
 * pipeline.c at the end, wherever they are; a queue only ever holds pointers to them.
 *
 * Threading: the context's configuration part is written before the threads start and is
 * read-only afterwards. files[] entries are written by the reader of that file before it
 * queues the file's BEGIN packet and read by the others only after popping it (the queue's
 * mutex orders the accesses). Counters are atomics; the first fatal error is kept under
 * err_mu.
 */
#ifndef BL_PIPELINE_IMPL_H
#define BL_PIPELINE_IMPL_H

#include <pthread.h>   /* pthread_mutex_t */
#include <stdatomic.h> /* counters shared by the stages */
#include <stdbool.h>
#include <stdint.h>

#include "config.h"         /* bl_config */
#include "cpushare.h"       /* bl_thread_fit: threads under contention */
#include "frontend.h"       /* bl_frontend */
#include "memest.h"         /* bl_memest */
#include "io/outputs.h"     /* bl_outdir */
#include "io/sources.h"     /* bl_plan */
#include "models/card.h"    /* bl_model_card */
#include "models/exec.h"    /* bl_exec */
#include "pipeline.h"       /* bl_run_opts */
#include "queue.h"          /* bl_queue */
#include "scoring.h"        /* bl_agg */

/* Stages, for timing and progress. */
enum { BL_ST_DECODE, BL_ST_FRONTEND, BL_ST_MODEL, BL_ST_SCORE, BL_ST_COUNT };
_Static_assert(BL_ST_COUNT == BL_RUN_STAGES, "bl_run_result.stage_busy_s has one entry per stage");

typedef enum { BL_PK_WINDOWS, BL_PK_BEGIN, BL_PK_END, BL_PK_FAIL } bl_pk_type;

/* One unit of the reader → model flow: up to `cap` model windows of one file, or a control
 * (begin, end, failure) of that file. */
typedef struct {
    bl_pk_type type;
    size_t file;      /* input index */
    int n, cap;       /* windows held / room */
    int *channel;     /* per window */
    int64_t *start;   /* per window: first sample, counted from the file's start */
    float *data;      /* cap × [n_mels][window_frames], the model's input layout */
    bl_status status; /* BL_PK_FAIL: the failure's status */
    char stage[16];   /* BL_PK_FAIL: where it failed ("decode", "frontend") */
    char msg[768];    /* BL_PK_FAIL: why */
} bl_packet;

typedef struct {
    bl_queue *ready, *free;
    bl_packet *pool;
    int n_pool;
} bl_slot;

typedef enum { BL_SM_SCORES, BL_SM_BEGIN, BL_SM_END, BL_SM_FAIL } bl_sm_type;

/* model → scorer. */
typedef struct {
    bl_sm_type type;
    int64_t item;        /* controls */
    int n;               /* BL_SM_SCORES: windows */
    int64_t *items;      /* per window: work item */
    int64_t *start;      /* per window: first sample */
    float *scores;       /* n × n_classes, after the output activation */
    bl_status status;    /* BL_SM_FAIL */
    char stage[16];      /* BL_SM_FAIL; BL_SM_END with a warning: its stage */
    char msg[768];       /* BL_SM_FAIL; BL_SM_END: a warning for warnings.csv, or "" */
} bl_score_msg;

/* What the reader learnt when it opened a file. */
typedef struct {
    int64_t offset;  /* sample (at the front-end rate) of the window's first sample */
    int channels;
    /* Per channel, set by the reader before the file's END packet when the audio was read
     * through (malloc'ed, freed with the context): why the item fails after all (NaN/Inf
     * samples, a truncated file, by input.*), or a warning its rows carry (warnings.csv).
     * NULL arrays or entries: nothing to say. */
    char **ch_fail, **ch_warn;
} bl_file_rt;

typedef struct {
    const bl_run_opts *o;
    const bl_config *cfg;
    /* model and geometry */
    bl_model_card card;
    bl_graph *graph;
    bl_exec *ex;
    bl_memest mem;        /* what the configuration was estimated to need (core/memest.h) */
    char backend[16];     /* the backend runtime.backend resolved to ("cpu", "cuda") */
    char model_onnx[4096];
    char model_sha256[65];
    bl_frontend_params fp;
    bl_frontend *fe;
    int rate, n_mels, win, hop_f, hop_len, n_classes, batch, input_index;
    bool apply_act;
    /* plan */
    bl_plan plan;
    int64_t *first_item; /* per input: its first work item (items are input then channel) */
    int *n_items_of;     /* per input */
    bool *done;          /* per item: committed by an earlier run (--resume) */
    bool *file_skip;     /* per input: every item done */
    bl_file_rt *files;
    /* outputs */
    bl_outdir *od;
    bl_agg aggs[64];
    int n_aggs;
    bool utc_cols;       /* some input knows its UTC start: the UTC columns exist */
    bool clips;
    /* stages */
    int n_slots;
    bl_slot *slots;
    bl_queue *score_q;
    size_t block_frames;
    /* counters */
    atomic_llong samples_done;     /* per file, at the front-end rate */
    atomic_llong items_committed;
    atomic_llong items_failed;
    atomic_llong items_warned;     /* committed with a warning (warnings.csv) */
    atomic_llong files_done;
    atomic_llong windows_done;
    atomic_llong busy_ns[BL_ST_COUNT];
    int64_t n_batches;             /* executor calls; written by the model stage only, read
                                    * after it returns */
    bool adapt;                    /* o->adapt_threads and more than one thread (set-up) */
    atomic_int contended;          /* the progress thread's reading: bl_cpushare_fewer (0 = the
                                    * CPUs are free; else the smaller team to try) */
    bl_thread_fit fit;             /* the model stage's thread count (its thread only) */
    int exec_threads;              /* the executor's thread count now (model stage only) */
    atomic_int stopping;
    atomic_int scorer_finished; /* the scorer thread has returned */
    /* first fatal error */
    pthread_mutex_t err_mu;
    bl_status fatal;
    char fatal_msg[2048];
} bl_run_ctx;

/* Record a fatal error (the first one wins; the calling thread's bl_error_message() is
 * taken) and stop every stage. Returns s. */
bl_status bl_run_fail(bl_run_ctx *c, bl_status s);
/* Stop every stage (closing the queues); what is committed stays. */
void bl_run_stop(bl_run_ctx *c);
static inline bool bl_run_stopping(bl_run_ctx *c) { return atomic_load(&c->stopping) != 0; }
int64_t bl_now_ns(void);

/* Stage entry points (arg: bl_run_ctx *, or a bl_reader_arg * for readers). The model stage
 * runs on the thread that created the executor (pipeline.c, run_threads). */
typedef struct {
    bl_run_ctx *c;
    int slot;
} bl_reader_arg;
void *bl_stage_reader(void *arg);
void *bl_stage_model(void *arg);
void *bl_stage_scorer(void *arg);
/* persist.features (stages.c): remove the temporaries a killed run may have left in
 * OUT/features/ (only where the filesystem has no unnamed temporary files). Call with the
 * output directory locked, before the readers start. */
bl_status bl_run_features_sweep(const bl_run_ctx *c);
/* The journal key of a work item: "path|channel|start_s|end_s" (scorer.c), malloc'ed; NULL
 * when out of memory. */
char *bl_run_item_key(const bl_run_ctx *c, int64_t item);

/* rundesc.c: run.json body and the resume fingerprint. Strings are malloc'ed. */
char *bl_rundesc_json(const bl_run_ctx *c, const char *started, const char *ended,
                      const bl_run_result *r, const char *backend);
char *bl_rundesc_fingerprint(const bl_run_ctx *c);
/* SHA-256 of a file as 64 hex digits. */
bl_status bl_rundesc_sha256_file(const char *path, char out[65]);

#endif /* BL_PIPELINE_IMPL_H */
