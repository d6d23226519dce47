/* memplan.c — intermediate buffer planning for the executors (see memplan.h).
 *
 * Defines bl_memplan_build/free and bl_memplan_is_view. Walks the nodes in topological
 * order: a view op (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout) shares its
 * input's bytes; every other node output gets a 64-byte aligned block of the arena sized for
 * max_batch, taken best-fit from the free blocks (blocks go back when the last reader of
 * the buffer, through any view, has run). Graph outputs are never freed. The arena's size
 * is the planned peak of live activations. The executor's hints add fusion aliases (a Conv
 * writing in place into the tensor its sum post-op adds), nodes folded into others (no
 * buffers, their reads do not count) and larger sizes for padded oneDNN layouts. Owns the per-tensor arrays of bl_memplan.
 * Threading: pure function of the graph.
 */
#include <stdlib.h> /* calloc, malloc, free */
#include <string.h> /* memset */

#include "models/memplan.h" /* bl_memplan */

#define ALIGN 64

bool bl_memplan_is_view(bl_op op) {
    return op == BL_OP_RESHAPE || op == BL_OP_FLATTEN || op == BL_OP_SQUEEZE || op == BL_OP_UNSQUEEZE ||
           op == BL_OP_IDENTITY || op == BL_OP_DROPOUT;
}

typedef struct {
    int64_t off, size;
    int owner; /* tensor that owns the block */
} blk;

void bl_memplan_free(bl_memplan *p) {
    free(p->offset);
    free(p->alias);
    memset(p, 0, sizeof *p);
}

static int root_of(const bl_memplan *p, int t) {
    while (p->alias[t] >= 0) t = p->alias[t];
    return t;
}

int bl_memplan_root(const bl_memplan *p, int t) { return root_of(p, t); }

bl_status bl_memplan_build(const bl_graph *g, int64_t max_batch, bool no_reuse, const bl_memplan_hints *h,
                          bl_memplan *p) {
    static const bl_memplan_hints none = {0};
    if (!h) h = &none;
    memset(p, 0, sizeof *p);
    int nt = g->n_tensors;
    p->offset = malloc((size_t)(nt ? nt : 1) * sizeof *p->offset);
    p->alias = malloc((size_t)(nt ? nt : 1) * sizeof *p->alias);
    int *last = malloc((size_t)(nt ? nt : 1) * sizeof *last); /* last node reading a root */
    int64_t *size = calloc((size_t)(nt ? nt : 1), sizeof *size);
    blk *live = malloc((size_t)(nt ? nt : 1) * sizeof *live);
    if (!p->offset || !p->alias || !last || !size || !live) {
        free(last), free(size), free(live);
        bl_memplan_free(p);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory planning buffers");
    }
    for (int t = 0; t < nt; t++) p->offset[t] = -1, p->alias[t] = -1, last[t] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const bl_node *nd = &g->nodes[i];
        if (bl_memplan_is_view(nd->op) && nd->n_outputs >= 1 && nd->outputs[0] >= 0 && nd->inputs[0] >= 0)
            p->alias[nd->outputs[0]] = nd->inputs[0];
    }
    if (h->alias_to)
        for (int t = 0; t < nt; t++)
            if (h->alias_to[t] >= 0) p->alias[t] = h->alias_to[t];
    for (int i = 0; i < g->n_nodes; i++) {
        const bl_node *nd = &g->nodes[i];
        if (h->skip && h->skip[i]) continue; /* folded: its reads happen in the fused step */
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] >= 0) last[root_of(p, nd->inputs[k])] = i;
    }
    for (int k = 0; k < g->n_outputs; k++) last[root_of(p, g->outputs[k])] = g->n_nodes; /* never freed */
    int n_live = 0;
    int64_t top = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const bl_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_outputs; k++) {
            int t = nd->outputs[k];
            if (t < 0 || p->alias[t] >= 0 || (h->skip && h->skip[i])) continue;
            const bl_tensor *tt = &g->tensors[t];
            int64_t bytes = bl_tensor_numel(tt, max_batch) * (int64_t)bl_dtype_size(tt->dtype);
            if (h->min_bytes && h->min_bytes[t] > bytes) bytes = h->min_bytes[t];
            bytes = (bytes + ALIGN - 1) / ALIGN * ALIGN;
            if (bytes == 0) bytes = ALIGN;
            size[t] = bytes;
            /* best fit among the gaps between live blocks (kept sorted by offset); else after
             * the last live block */
            int64_t best = -1, best_gap = INT64_MAX, prev_end = 0;
            int at = n_live;
            for (int j = 0; j < n_live; j++) {
                int64_t gap = live[j].off - prev_end;
                if (!no_reuse && gap >= bytes && gap < best_gap) best = prev_end, best_gap = gap, at = j;
                prev_end = live[j].off + live[j].size;
            }
            if (best < 0) best = no_reuse ? top : prev_end, at = n_live;
            memmove(&live[at + 1], &live[at], (size_t)(n_live - at) * sizeof *live);
            live[at] = (blk){best, bytes, t};
            n_live++;
            p->offset[t] = best;
            if (best + bytes > top) top = best + bytes;
        }
        if (no_reuse) continue;
        /* free roots whose last reader is this node (outputs nobody reads die at once) */
        for (int j = 0; j < n_live;) {
            int owner = live[j].owner;
            if (last[owner] <= i) {
                memmove(&live[j], &live[j + 1], (size_t)(n_live - j - 1) * sizeof *live);
                n_live--;
            } else {
                j++;
            }
        }
    }
    p->arena_bytes = top;
    free(last), free(size), free(live);
    return BL_OK;
}
