/* exec.h — executors: run a prepared graph (models/graph.h) on a backend.
 *
 * Defines: bl_exec_opts, bl_exec_stats, bl_exec_backend (the table of function pointers a
 * backend fills; ggml-style, optional slots may be NULL and the wrappers here fall back),
 * bl_exec (an executor instance) and the wrappers bl_exec_create / bl_exec_run /
 * bl_exec_free / bl_exec_supports_op / bl_exec_get_stats, plus the backend lookup.
 *
 * Contract. bl_exec_create() takes a graph that bl_graph_prepare() accepted, asks the
 * backend's supports_op for every node first (an op it cannot run fails here, naming the op,
 * the node and the reason; never later at run time), then builds everything once: primitives,
 * packed weights, the intermediate-buffer plan. bl_exec_run() then runs any batch size from
 * 1 to opts.max_batch without allocating (except the first time a new batch size is seen,
 * when a backend may build and cache primitives for it).
 *
 * Data: inputs[i] is graph input i (g->inputs[i]) in its dtype, row-major, sized for the
 * batch given; outputs[j] is graph output j, caller-allocated, likewise. Graph inputs
 * whose dims do not depend on N are read as they are whatever the batch.
 *
 * Ownership: the executor borrows the graph (it must outlive the executor) and owns all
 * it allocates; bl_exec_free releases it. Threading: one bl_exec_run at a time per
 * executor (it owns one arena); different executors may run concurrently. The CPU backend
 * parallelises inside each op with OpenMP (oneDNN's threading runtime on Debian) using
 * opts.threads threads of the calling thread.
 */
#ifndef BL_EXEC_H
#define BL_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"   /* bl_status */
#include "models/graph.h" /* bl_graph, bl_node */

typedef struct {
    int64_t max_batch; /* largest batch bl_exec_run accepts (>= 1) */
    int threads;       /* 0 = all cores (runtime.threads) */
    bool no_reuse;     /* give every intermediate tensor its own buffer (tests: checks that
                        * buffer reuse does not change results) */
    bool no_fusion;    /* reference mode (tests; the CPU backend also re-runs the items whose
                        * inputs hold NaN or inf in it): one step per node, every tensor in
                        * plain row-major layout, element-wise ops, GlobalAveragePool, MaxPool
                        * and the activations fused by bl_graph_prepare in plain C, no
                        * Winograd; exact for NaN and inf as ONNX defines them */
} bl_exec_opts;

/* Defaults: max_batch 1, threads 0, reuse on, fusion on. */
bl_exec_opts bl_exec_opts_default(void);

typedef struct {
    int64_t arena_bytes;     /* planned intermediate buffers for max_batch (the peak of live
                              * activations after reuse) */
    int64_t workspace_bytes; /* backend scratch (layout conversions, primitive scratchpads) */
    int64_t packed_weight_bytes; /* weights copied into backend layouts */
    int n_steps;             /* nodes executed per run */
    int n_fused;             /* nodes folded into another node's step (CPU: residual Add and
                              * Relu into a Conv's sum post-op, Sigmoid·Mul into swish, ...) */
    int n_backend_layout;    /* intermediate tensors kept in the backend's own layout (CPU:
                              * oneDNN blocked/channels-last) instead of plain row-major */
    int n_streamed;          /* (step, batch size) pairs built so far for a kernel that streams
                              * large weights over a few rows (CPU: cpu_skinny.c) */
} bl_exec_stats;

typedef struct bl_exec_backend bl_exec_backend;

/* A backend. Required slots: name, create, run, destroy. Optional: supports_op (NULL =
 * every op), get_stats (NULL = zeros), set_threads (NULL = threads fixed at creation). */
struct bl_exec_backend {
    const char *name; /* "cpu", "cuda" */
    /* true when the backend can run node ni of g; otherwise false and a reason in why. */
    bool (*supports_op)(const bl_graph *g, int ni, char *why, size_t cap);
    bl_status (*create)(const bl_graph *g, const bl_exec_opts *opts, void **impl);
    bl_status (*run)(void *impl, int64_t batch, const void *const *inputs, void *const *outputs);
    void (*destroy)(void *impl);
    void (*get_stats)(const void *impl, bl_exec_stats *st);
    bl_status (*set_threads)(void *impl, int threads);
};

typedef struct bl_exec bl_exec;

/* The CPU backend (oneDNN + plain C; models/exec_cpu.c). Never NULL. */
const bl_exec_backend *bl_exec_backend_cpu(void);
/* Backend by name ("cpu"); NULL when unknown or not built. */
const bl_exec_backend *bl_exec_backend_find(const char *name);

/* Whether `be` runs node ni of g (why gets the reason when not). */
bool bl_exec_supports_op(const bl_exec_backend *be, const bl_graph *g, int ni, char *why, size_t cap);

/* Build an executor for prepared graph g on backend be (opts NULL = defaults). Fails with
 * BL_ERR_UNSUPPORTED naming op, node and reason when a node cannot run, BL_ERR_INVALID_ARG
 * when g is not prepared or opts are out of range. */
bl_status bl_exec_create(const bl_exec_backend *be, const bl_graph *g, const bl_exec_opts *opts, bl_exec **out);
/* Run one batch (1 <= batch <= max_batch). See "Data" above. */
bl_status bl_exec_run(bl_exec *ex, int64_t batch, const void *const *inputs, void *const *outputs);
/* Change the thread count (0 = all cores). The CPU backend rebuilds its oneDNN primitives
 * during the next run (oneDNN fixes a primitive's thread count when it creates it). */
bl_status bl_exec_set_threads(bl_exec *ex, int threads);
void bl_exec_get_stats(const bl_exec *ex, bl_exec_stats *st);
const bl_exec_backend *bl_exec_backend_of(const bl_exec *ex);
/* Free an executor; NULL is fine. */
void bl_exec_free(bl_exec *ex);

#endif
