/* cpu_fuse.c — fusion and layout planning of the CPU executor (before any step is built).
 *
 * Defines bl_cpu_plan_fusion and bl_cpu_binary_is_dnnl. Three rewrites, all expressed as
 * per-node flags (bl_cpu_fuse) and buffer aliases, never by changing the graph:
 *  - Conv → Sigmoid → Mul(conv, sigmoid) (SiLU/swish, as PyTorch exports it) becomes one Conv
 *    with a swish post-op; the Sigmoid and Mul are skipped and the Mul's output shares the
 *    Conv's buffer.
 *  - Add(conv, other) [→ Relu] (the residual of ResNet-style blocks) becomes a sum post-op
 *    of the Conv [+ ReLU post-op], the Conv writing in place into `other`'s buffer. That is
 *    only done when nothing reads `other` after the Conv runs and `other` is an intermediate
 *    (never a graph input, constant or output) computed before the Conv.
 *  - A oneDNN binary Add/Mul/Sub followed by its only reader Relu gets a ReLU post-op.
 *  - Such a binary op with a per-channel second operand (squeeze-excitation) writes in place
 *    into its first operand's buffer when nothing reads that afterwards.
 * Then the layout plan: a buffer (an alias group) may hold oneDNN's preferred (blocked,
 * channel-padded) layout when every node writing it is a oneDNN step (Conv, pools, oneDNN
 * binary) and every node reading it is a oneDNN step that accepts any layout (Conv, pools,
 * GlobalAveragePool, oneDNN binary) — not an AveragePool that bl_cpu_avgpool_is_plain sends
 * to plain C — and none of its tensors is a graph output or a view.
 * Everything else stays plain row-major, so the plain-C kernels never see a blocked tensor.
 *
 * Owns nothing (fills arrays of bl_cpu_exec). Threading: pure function of the graph.
 */
#include <stdlib.h> /* calloc, free */
#include <string.h> /* memcmp */

#include "models/cpu_exec.h" /* bl_cpu_exec, bl_cpu_fuse, bl_memplan_is_view */

static bool same_dims(const bl_tensor *a, const bl_tensor *b) {
    return a->rank == b->rank && !memcmp(a->dims, b->dims, (size_t)a->rank * sizeof a->dims[0]);
}

/* [N, C, 1, ...] broadcast against out (per batch item and channel). With one channel it is
 * a per-item scalar, which oneDNN 2.6 only runs in its reference kernel (measured 4.8 ms
 * where plain C takes 0.1 ms): plain C then. */
static bool per_channel(const bl_tensor *a, const bl_tensor *out) {
    if (a->rank != out->rank || a->dims[0] != out->dims[0] || a->dims[1] != out->dims[1]) return false;
    if (out->dims[1] == 1) return false;
    for (int i = 2; i < a->rank; i++)
        if (a->dims[i] != 1) return false;
    return true;
}

bool bl_cpu_binary_is_dnnl(const bl_graph *g, const bl_node *nd) {
    /* Min/Max (NaN rules) and Div (rounding) stay in plain C, which follows ONNX exactly. */
    if (nd->op != BL_OP_ADD && nd->op != BL_OP_SUB && nd->op != BL_OP_MUL) return false;
    if (nd->n_inputs != 2 || nd->n_outputs != 1 || nd->outputs[0] < 0) return false;
    const bl_tensor *a = bl_node_input(g, nd, 0), *b = bl_node_input(g, nd, 1), *y = &g->tensors[nd->outputs[0]];
    if (!a || !b || a->data || b->data) return false;
    if (a->dtype != BL_DT_FLOAT || b->dtype != BL_DT_FLOAT || y->dtype != BL_DT_FLOAT) return false;
    if (y->rank < 3 || y->rank > 5) return false;
    if (same_dims(a, y) && (same_dims(b, y) || per_channel(b, y))) return true;
    return nd->op != BL_OP_SUB && same_dims(b, y) && per_channel(a, y);
}

/* Readers of every tensor, one entry per input slot. */
typedef struct {
    int *start, *node; /* CSR: readers of tensor t are node[start[t] .. start[t+1]) (per slot) */
} readers;

static int n_readers(const readers *r, int t) { return r->start[t + 1] - r->start[t]; }

static bool is_io_or_const(const bl_tensor *t) {
    return t->data || (t->flags & (BL_TENSOR_INPUT | BL_TENSOR_OUTPUT | BL_TENSOR_INITIALIZER));
}

static int root(const bl_cpu_exec *ex, int t) {
    const bl_graph *g = ex->g;
    for (int guard = 0; guard < g->n_tensors; guard++) {
        if (ex->alias_to[t] >= 0) t = ex->alias_to[t];
        else if (g->tensors[t].producer >= 0 && bl_memplan_is_view(g->nodes[g->tensors[t].producer].op) &&
                 g->nodes[g->tensors[t].producer].inputs[0] >= 0)
            t = g->nodes[g->tensors[t].producer].inputs[0];
        else break;
    }
    return t;
}

static bool fusable_conv(const bl_cpu_exec *ex, int p) {
    return p >= 0 && ex->g->nodes[p].op == BL_OP_CONV && !ex->fuse[p].skip && ex->fuse[p].sum_t < 0 &&
           ex->fuse[p].post == BL_CPU_POST_NONE;
}

/* Conv → Sigmoid → Mul(conv, sigmoid). */
static void fuse_swish(bl_cpu_exec *ex, const readers *rd, int ci) {
    const bl_graph *g = ex->g;
    const bl_node *cv = &g->nodes[ci];
    int c = cv->outputs[0];
    if (is_io_or_const(&g->tensors[c]) || n_readers(rd, c) != 2) return;
    int a = rd->node[rd->start[c]], b = rd->node[rd->start[c] + 1];
    int si = g->nodes[a].op == BL_OP_SIGMOID ? a : b, mi = si == a ? b : a;
    const bl_node *sn = &g->nodes[si], *mn = &g->nodes[mi];
    if (sn->op != BL_OP_SIGMOID || mn->op != BL_OP_MUL || mn->n_inputs != 2) return;
    int s = sn->outputs[0];
    if (is_io_or_const(&g->tensors[s]) || n_readers(rd, s) != 1 || rd->node[rd->start[s]] != mi) return;
    if (!((mn->inputs[0] == c && mn->inputs[1] == s) || (mn->inputs[0] == s && mn->inputs[1] == c))) return;
    if (!same_dims(&g->tensors[mn->outputs[0]], &g->tensors[c])) return;
    ex->fuse[ci].post = BL_CPU_POST_SWISH;
    ex->fuse[ci].out_t = mn->outputs[0];
    ex->fuse[si].skip = ex->fuse[mi].skip = true;
    ex->alias_to[mn->outputs[0]] = c;
}

/* After an Add (fused into a Conv or a oneDNN binary) whose only reader is a Relu: fold it. */
static bool fold_relu(bl_cpu_exec *ex, const readers *rd, int ai) {
    const bl_graph *g = ex->g;
    int o = g->nodes[ai].outputs[0];
    if ((g->tensors[o].flags & BL_TENSOR_OUTPUT) || n_readers(rd, o) != 1) return false;
    int ri = rd->node[rd->start[o]];
    if (g->nodes[ri].op != BL_OP_RELU || ex->fuse[ri].skip) return false;
    ex->fuse[ri].skip = true;
    ex->alias_to[g->nodes[ri].outputs[0]] = o;
    return true;
}

/* Add(u, other) with u from a Conv read only here: sum post-op written into other's buffer. */
static void fuse_residual(bl_cpu_exec *ex, const readers *rd, int ai) {
    const bl_graph *g = ex->g;
    const bl_node *an = &g->nodes[ai];
    if (an->op != BL_OP_ADD || an->n_inputs != 2 || ex->fuse[ai].skip) return;
    const bl_tensor *y = &g->tensors[an->outputs[0]];
    int best = -1, best_p = -1;
    for (int k = 0; k < 2; k++) {
        int u = an->inputs[k], other = an->inputs[1 - k];
        if (u < 0 || other < 0 || u == other) continue;
        const bl_tensor *tu = &g->tensors[u], *to = &g->tensors[other];
        int p = tu->producer;
        if (!fusable_conv(ex, p) || is_io_or_const(tu) || n_readers(rd, u) != 1) continue;
        if (!same_dims(tu, y) || !same_dims(to, y) || to->dtype != BL_DT_FLOAT) continue;
        int r = root(ex, other);
        if (is_io_or_const(to) || is_io_or_const(&g->tensors[r]) || to->producer < 0 || to->producer >= p) continue;
        /* nothing but this Add may read other's buffer once the Conv has written it, and
         * the Conv itself must not read it (it would read what it is overwriting) */
        bool late = false;
        for (int j = p; j < g->n_nodes && !late; j++) {
            if (j == ai || ex->fuse[j].skip) continue;
            for (int q = 0; q < g->nodes[j].n_inputs && !late; q++)
                late = g->nodes[j].inputs[q] >= 0 && root(ex, g->nodes[j].inputs[q]) == r;
        }
        if (late || p <= best_p) continue;
        best = k, best_p = p;
    }
    if (best < 0) return;
    int u = an->inputs[best], other = an->inputs[1 - best];
    ex->fuse[best_p].sum_t = other;
    ex->fuse[ai].skip = true;
    ex->alias_to[u] = other;
    ex->alias_to[an->outputs[0]] = u;
    ex->fuse[best_p].out_t = an->outputs[0];
    if (fold_relu(ex, rd, ai)) {
        ex->fuse[best_p].post = BL_CPU_POST_RELU;
        ex->fuse[best_p].out_t = g->nodes[rd->node[rd->start[an->outputs[0]]]].outputs[0];
    }
}

/* A oneDNN-eligible Add/Sub/Mul with a per-channel second operand ([N, C, 1, ...], the
 * squeeze-excitation scale) writes in place into its full-shaped operand's buffer when that
 * is an intermediate nothing reads afterwards: one pass over the tensor instead of reading
 * it and writing (and first fetching) another as large. */
static void fuse_inplace_binary(bl_cpu_exec *ex, int ai) {
    const bl_graph *g = ex->g;
    const bl_node *an = &g->nodes[ai];
    if (ex->fuse[ai].skip || !bl_cpu_binary_is_dnnl(g, an)) return;
    int y = an->outputs[0];
    const bl_tensor *ty = &g->tensors[y];
    int full = same_dims(&g->tensors[an->inputs[0]], ty) ? 0 : 1, x = an->inputs[full], sc = an->inputs[1 - full];
    const bl_tensor *tx = &g->tensors[x];
    if (!per_channel(&g->tensors[sc], ty) || same_dims(&g->tensors[sc], ty)) return;
    if (is_io_or_const(ty) || is_io_or_const(tx) || tx->producer < 0 || tx->dtype != ty->dtype) return;
    int r = root(ex, x);
    if (is_io_or_const(&g->tensors[r]) || root(ex, sc) == r) return;
    for (int j = ai + 1; j < g->n_nodes; j++) /* fused readers too: conservative */
        for (int q = 0; q < g->nodes[j].n_inputs; q++)
            if (g->nodes[j].inputs[q] >= 0 && root(ex, g->nodes[j].inputs[q]) == r) return;
    ex->alias_to[y] = x;
}

/* Does node j, reading tensor slot q, run as a oneDNN step that takes any layout there? */
static bool reads_any_layout(const bl_cpu_exec *ex, int j, int q) {
    const bl_node *nd = &ex->g->nodes[j];
    if (ex->fuse[j].skip) return true; /* folded: the fused step reads it (through the alias) */
    switch (nd->op) {
    case BL_OP_CONV: case BL_OP_MAX_POOL: case BL_OP_GLOBAL_AVERAGE_POOL: return q == 0;
    case BL_OP_AVERAGE_POOL: return q == 0 && !bl_cpu_avgpool_is_plain(ex->g, nd);
    case BL_OP_ADD: case BL_OP_SUB: case BL_OP_MUL: return bl_cpu_binary_is_dnnl(ex->g, nd);
    default: return false;
    }
}

static bool writes_any_layout(const bl_cpu_exec *ex, int p) {
    const bl_node *nd = &ex->g->nodes[p];
    if (ex->fuse[p].skip) return true;
    switch (nd->op) {
    case BL_OP_CONV: case BL_OP_MAX_POOL: return true;
    case BL_OP_AVERAGE_POOL: return !bl_cpu_avgpool_is_plain(ex->g, nd);
    case BL_OP_GLOBAL_AVERAGE_POOL: return ex->g->tensors[nd->inputs[0]].rank <= 5;
    case BL_OP_ADD: case BL_OP_SUB: case BL_OP_MUL: return bl_cpu_binary_is_dnnl(ex->g, nd);
    default: return false;
    }
}

bl_status bl_cpu_plan_fusion(bl_cpu_exec *ex) {
    const bl_graph *g = ex->g;
    int nt = g->n_tensors, nn = g->n_nodes;
    ex->fuse = calloc((size_t)(nn ? nn : 1), sizeof *ex->fuse);
    ex->alias_to = malloc((size_t)(nt ? nt : 1) * sizeof *ex->alias_to);
    ex->dnnl_layout = calloc((size_t)(nt ? nt : 1), sizeof *ex->dnnl_layout);
    readers rd = {calloc((size_t)nt + 2, sizeof(int)), NULL};
    int slots = 0;
    for (int i = 0; i < nn; i++) slots += g->nodes[i].n_inputs;
    rd.node = malloc((size_t)(slots ? slots : 1) * sizeof(int));
    int *fill = calloc((size_t)nt + 1, sizeof(int));
    bool *bad = calloc((size_t)(nt ? nt : 1), sizeof(bool));
    if (!ex->fuse || !ex->alias_to || !ex->dnnl_layout || !rd.start || !rd.node || !fill || !bad) {
        free(rd.start), free(rd.node), free(fill), free(bad);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory planning fusions");
    }
    for (int t = 0; t < nt; t++) ex->alias_to[t] = -1;
    for (int i = 0; i < nn; i++) {
        ex->fuse[i] = (bl_cpu_fuse){.skip = false, .sum_t = -1, .post = BL_CPU_POST_NONE,
                                    .out_t = g->nodes[i].n_outputs ? g->nodes[i].outputs[0] : -1};
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] >= 0) rd.start[g->nodes[i].inputs[k] + 1]++;
    }
    for (int t = 0; t < nt; t++) rd.start[t + 1] += rd.start[t];
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            int t = g->nodes[i].inputs[k];
            if (t >= 0) rd.node[rd.start[t] + fill[t]++] = i;
        }
    if (ex->opts.no_fusion) { /* reference mode: nothing fused, everything plain */
        free(rd.start), free(rd.node), free(fill), free(bad);
        return BL_OK;
    }
    for (int i = 0; i < nn; i++)
        if (g->nodes[i].op == BL_OP_CONV) fuse_swish(ex, &rd, i);
    for (int i = 0; i < nn; i++) fuse_residual(ex, &rd, i);
    for (int i = 0; i < nn; i++)
        if (!ex->fuse[i].skip && g->nodes[i].op == BL_OP_ADD && bl_cpu_binary_is_dnnl(g, &g->nodes[i]) &&
            fold_relu(ex, &rd, i)) {
            ex->fuse[i].post = BL_CPU_POST_RELU;
            ex->fuse[i].out_t = g->nodes[rd.node[rd.start[g->nodes[i].outputs[0]]]].outputs[0];
        }
    for (int i = 0; i < nn; i++) fuse_inplace_binary(ex, i);
    /* layouts, per buffer (alias root): bad when any tensor sharing it disqualifies it */
    for (int t = 0; t < nt; t++) {
        const bl_tensor *tt = &g->tensors[t];
        int r = root(ex, t);
        bool ok = tt->dtype == BL_DT_FLOAT && tt->rank >= 3 && tt->rank <= 5 && !is_io_or_const(tt) &&
                  tt->producer >= 0 && writes_any_layout(ex, tt->producer) && !bl_memplan_is_view(g->nodes[tt->producer].op);
        for (int s = rd.start[t]; ok && s < rd.start[t + 1]; s++) {
            int j = rd.node[s];
            int q = 0;
            while (g->nodes[j].inputs[q] != t) q++;
            ok = reads_any_layout(ex, j, q); /* q: the first slot reading t (weights are constants) */
        }
        if (!ok) bad[r] = true;
    }
    for (int t = 0; t < nt; t++) {
        int r = root(ex, t);
        ex->dnnl_layout[t] = !bad[r];
    }
    free(rd.start), free(rd.node), free(fill), free(bad);
    return BL_OK;
}
