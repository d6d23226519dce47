/* memplan.h — the intermediate-buffer planner shared by the executors (CPU today, the CUDA
 * executor next): one arena per executor, every node output at an offset in it, buffers
 * reused after their last reader. Backend-neutral: what a backend needs beyond the graph
 * (fusion aliases, nodes folded away, padded layouts) comes in as hints.
 *
 * Defines: bl_memplan, bl_memplan_hints, bl_memplan_build/root/free, bl_memplan_is_view.
 * Ownership: a plan owns its per-tensor arrays (bl_memplan_free). Threading: pure functions.
 */
#ifndef BL_MEMPLAN_H
#define BL_MEMPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"   /* bl_status */
#include "models/graph.h" /* bl_graph, bl_op */

/* Intermediate buffer plan. */
typedef struct {
    int64_t *offset;   /* per tensor: byte offset in the arena, -1 = not in the arena */
    int *alias;        /* per tensor: tensor whose buffer it shares (views), or -1 */
    int64_t arena_bytes;
} bl_memplan;

/* What the executor tells the planner beyond the graph (each array may be NULL). */
typedef struct {
    const int *alias_to;     /* per tensor: shares the buffer of this tensor (fusion), or -1 */
    const bool *skip;        /* per node: folded away; its outputs get no buffer of their own */
    const int64_t *min_bytes; /* per tensor: bytes needed at max_batch when more than numel ×
                               * dtype size (oneDNN blocked layouts pad channels) */
} bl_memplan_hints;

/* Plan the arena for max_batch: views (Reshape & co.) alias their input, every other
 * node output gets an offset; buffers are reused after their last reader unless no_reuse. */
bl_status bl_memplan_build(const bl_graph *g, int64_t max_batch, bool no_reuse, const bl_memplan_hints *h,
                          bl_memplan *p);
/* Tensor whose buffer t uses (follows view and fusion aliases). */
int bl_memplan_root(const bl_memplan *p, int t);
void bl_memplan_free(bl_memplan *p);
/* True for ops whose output is a view of input 0 (same bytes, new dims). */
bool bl_memplan_is_view(bl_op op);

#endif
