/* cpu_exec.h — private to the CPU executor (exec_cpu.c, memplan.c, cpu_*.c).
 *
 * Defines: bl_cpu_exec (the executor state), bl_cpu_step (one node compiled for the CPU),
 * the per-family "prepare" entry points that fill a step, and small helpers to reach a
 * tensor's buffer and dims for the running batch.
 *
 * Threading: a bl_cpu_exec is used by one run at a time (exec.h). Kernels parallelise
 * with OpenMP inside themselves.
 */
#ifndef BL_CPU_EXEC_H
#define BL_CPU_EXEC_H

#include <dnnl.h>   /* oneDNN C API: engine, stream, primitives */
#include <stdbool.h>
#include <stdint.h>

#include "models/exec.h"  /* bl_exec_opts */
#include "models/graph.h" /* bl_graph */

typedef struct bl_cpu_exec bl_cpu_exec;
typedef struct bl_cpu_step bl_cpu_step;

struct bl_cpu_step {
    int ni;               /* node index in the graph */
    const bl_node *node;
    bl_status (*run)(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n);
    void (*destroy)(bl_cpu_step *st); /* frees priv; may be NULL when priv is plain malloc */
    void *priv;
};

/* Intermediate buffer plan (memplan.c). */
typedef struct {
    int64_t *offset;   /* per tensor: byte offset in the arena, -1 = not in the arena */
    int *alias;        /* per tensor: tensor whose buffer it shares (views), or -1 */
    int64_t arena_bytes;
} bl_memplan;

struct bl_cpu_exec {
    const bl_graph *g;
    bl_exec_opts opts;
    int threads;            /* resolved (>= 1) */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    bl_cpu_step *steps;
    int n_steps;
    bl_memplan plan;
    unsigned char *arena;   /* planned intermediates, 64-byte aligned */
    void **ptr;             /* per tensor, for the current run */
    unsigned char *ws;      /* shared workspace (reorders, scratchpads), grows on demand */
    size_t ws_bytes;
    int64_t packed_bytes;
};

/* Buffer of tensor t during the current run. */
static inline float *bl_cpu_f(bl_cpu_exec *ex, int t) { return (float *)ex->ptr[t]; }
/* Element count of tensor t for batch n. */
static inline int64_t bl_cpu_numel(const bl_cpu_exec *ex, int t, int64_t n) {
    return bl_tensor_numel(&ex->g->tensors[t], n);
}
/* Concrete dims of tensor t for batch n into d; returns the rank. */
int bl_cpu_dims(const bl_cpu_exec *ex, int t, int64_t n, int64_t *d);
/* Workspace of at least `bytes` (64-byte aligned); NULL on allocation failure. */
void *bl_cpu_workspace(bl_cpu_exec *ex, size_t bytes);

/* ---- memplan.c ---- */
/* Plan the arena for max_batch: views (Reshape & co.) alias their input, every other
 * node output gets an offset; buffers are reused after their last reader unless no_reuse. */
bl_status bl_memplan_build(const bl_graph *g, int64_t max_batch, bool no_reuse, bl_memplan *p);
void bl_memplan_free(bl_memplan *p);
/* True for ops whose output is a view of input 0 (same bytes, new dims). */
bool bl_memplan_is_view(bl_op op);

/* ---- per-family step builders: fill st->run/priv for node st->ni ---- */
bl_status bl_cpu_prepare_dnnl(bl_cpu_exec *ex, bl_cpu_step *st);    /* cpu_conv.c: Conv, pools */
bl_status bl_cpu_prepare_convt(bl_cpu_exec *ex, bl_cpu_step *st);   /* cpu_conv.c: ConvTranspose */
bl_status bl_cpu_prepare_eltwise(bl_cpu_exec *ex, bl_cpu_step *st); /* cpu_eltwise.c: unary, binary */
bl_status bl_cpu_prepare_reduce(bl_cpu_exec *ex, bl_cpu_step *st);  /* cpu_reduce.c: reduce, softmax, norms, gemm */
bl_status bl_cpu_prepare_shape(bl_cpu_exec *ex, bl_cpu_step *st);   /* cpu_shape_ops.c */

/* Why the CPU backend cannot run node ni (attributes/dtypes it lacks); NULL when it can.
 * Each family answers for its ops. */
const char *bl_cpu_check_eltwise(const bl_graph *g, const bl_node *nd);
const char *bl_cpu_check_reduce(const bl_graph *g, const bl_node *nd);
const char *bl_cpu_check_shape(const bl_graph *g, const bl_node *nd);
const char *bl_cpu_check_conv(const bl_graph *g, const bl_node *nd);

/* Apply a fused activation (bl_node.fused_act) in place on x[0..count). */
void bl_cpu_apply_act(bl_op act, float alpha, float beta, float *x, int64_t count);

#endif
