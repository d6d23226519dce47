/* passes.c — graph rewriting and statistics: bl_graph_prepare() (shape inference with
 * constant folding, BatchNormalization folding, Identity/Dropout removal, activation fusion)
 * and bl_graph_stats_compute().
 *
 * Owns: the constant buffers it creates (folded values, folded Conv weights and biases),
 * which it hands to the graph. Original initializers are never modified in place, since
 * several nodes may share one.
 * Threading: works on one graph from one thread.
 */
#include "models/graph.h"

#include <inttypes.h> /* PRId64 */
#include <math.h>     /* sqrt, INFINITY */
#include <stdio.h>    /* snprintf for derived tensor names */
#include <stdlib.h>   /* malloc, free */
#include <string.h>   /* memcpy, memset, strdup */

/* Constants larger than this are left to the executor instead of being folded at load, and
 * all folding of one graph stops after FOLD_BUDGET_BYTES: shape chains are tiny, and a
 * hostile file must not turn Concat(a, a, ...) chains into gigabytes at load time. */
#define FOLD_MAX_ELEMS (INT64_C(1) << 22)
#define FOLD_BUDGET_BYTES (INT64_C(64) << 20)

bl_prepare_opts bl_prepare_opts_default(void) {
    return (bl_prepare_opts){.fold_constants = true, .fold_batchnorm = true, .fuse_activations = true};
}

/* ---- element access for folding ----------------------------------------------------- */

static int64_t get_i64(const bl_tensor *t, int64_t i) {
    const char *p = (const char *)t->data;
    switch (t->dtype) {
    case BL_DT_INT64: { int64_t v; memcpy(&v, p + 8 * i, 8); return v; }
    case BL_DT_INT32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case BL_DT_FLOAT: { float v; memcpy(&v, p + 4 * i, 4); return (int64_t)v; }
    case BL_DT_DOUBLE: { double v; memcpy(&v, p + 8 * i, 8); return (int64_t)v; }
    case BL_DT_INT8: return ((const int8_t *)p)[i];
    case BL_DT_UINT8: case BL_DT_BOOL: return ((const uint8_t *)p)[i];
    case BL_DT_UNDEFINED: break;
    }
    return 0;
}

static double get_f64(const bl_tensor *t, int64_t i) {
    const char *p = (const char *)t->data;
    switch (t->dtype) {
    case BL_DT_FLOAT: { float v; memcpy(&v, p + 4 * i, 4); return v; }
    case BL_DT_DOUBLE: { double v; memcpy(&v, p + 8 * i, 8); return v; }
    default: return (double)get_i64(t, i);
    }
}

static bool is_float(bl_dtype dt) { return dt == BL_DT_FLOAT || dt == BL_DT_DOUBLE; }

static void put(bl_dtype dt, void *buf, int64_t i, double f, int64_t v, bool from_float) {
    char *p = buf;
    switch (dt) {
    case BL_DT_FLOAT: { float x = from_float ? (float)f : (float)v; memcpy(p + 4 * i, &x, 4); break; }
    case BL_DT_DOUBLE: { double x = from_float ? f : (double)v; memcpy(p + 8 * i, &x, 8); break; }
    case BL_DT_INT64: { int64_t x = from_float ? (int64_t)f : v; memcpy(p + 8 * i, &x, 8); break; }
    case BL_DT_INT32: { int32_t x = (int32_t)(from_float ? (int64_t)f : v); memcpy(p + 4 * i, &x, 4); break; }
    case BL_DT_INT8: ((int8_t *)p)[i] = (int8_t)(from_float ? (int64_t)f : v); break;
    case BL_DT_UINT8: ((uint8_t *)p)[i] = (uint8_t)(from_float ? (int64_t)f : v); break;
    case BL_DT_BOOL: ((uint8_t *)p)[i] = from_float ? f != 0.0 : v != 0; break;
    case BL_DT_UNDEFINED: break;
    }
}

static bool has_sym(const bl_tensor *t) {
    if (t->dtype != BL_DT_INT64) return false;
    int64_t n = bl_tensor_numel(t, 1);
    for (int64_t i = 0; i < n; i++)
        if (get_i64(t, i) == BL_SHAPE_SYM_N) return true;
    return false;
}

/* Row-major strides of a concrete shape. */
static void strides_of(const bl_tensor *t, int64_t *st) {
    int64_t s = 1;
    for (int i = t->rank - 1; i >= 0; i--) {
        st[i] = s;
        s *= t->dims[i];
    }
}

/* Offset into `in` (rank <= out rank, right-aligned, broadcast) of output multi-index idx. */
static int64_t bcast_offset(const bl_tensor *in, const bl_tensor *out, const int64_t *idx) {
    int64_t st[BL_MAX_RANK], off = 0;
    strides_of(in, st);
    int shift = out->rank - in->rank;
    for (int i = 0; i < in->rank; i++)
        if (in->dims[i] != 1) off += idx[i + shift] * st[i];
    return off;
}

static void unravel(const bl_tensor *t, int64_t lin, int64_t *idx) {
    for (int i = t->rank - 1; i >= 0; i--) {
        idx[i] = t->dims[i] ? lin % t->dims[i] : 0;
        lin = t->dims[i] ? lin / t->dims[i] : 0;
    }
}

/* ---- constant folding ---------------------------------------------------------------- */

static bool foldable_op(bl_op op) {
    switch (op) {
    case BL_OP_SHAPE: case BL_OP_GATHER: case BL_OP_UNSQUEEZE: case BL_OP_SQUEEZE: case BL_OP_CONCAT:
    case BL_OP_RESHAPE: case BL_OP_CAST: case BL_OP_SLICE: case BL_OP_IDENTITY: case BL_OP_FLATTEN:
    case BL_OP_ADD: case BL_OP_SUB: case BL_OP_MUL: case BL_OP_DIV: case BL_OP_TRANSPOSE:
    case BL_OP_CONSTANT_OF_SHAPE:
        return true;
    default:
        return false;
    }
}

/* Fill out->data for node nd whose inputs are all constant; *done = false leaves it alone. */
static bl_status eval_node(bl_graph *g, bl_node *nd, int64_t *budget, bool *done) {
    *done = false;
    bl_tensor *out = &g->tensors[nd->outputs[0]];
    const bl_tensor *x = bl_node_input(g, nd, 0);
    int64_t n = bl_tensor_numel(out, 1);
    size_t es = bl_dtype_size(out->dtype);
    for (int i = 0; i < out->rank; i++)
        if (out->dims[i] < 0) return BL_OK; /* depends on N: a run-time value */
    if (n < 0 || n > FOLD_MAX_ELEMS || es == 0 || n * (int64_t)es > *budget) return BL_OK;
    char *buf = malloc((size_t)(n ? n : 1) * es);
    BL_CHECK_ALLOC(buf);
    int64_t idx[BL_MAX_RANK];
    switch (nd->op) {
    case BL_OP_SHAPE: {
        int64_t s = bl_node_attr_int(nd, "start", 0);
        if (s < 0) s += x->rank;
        if (s < 0) s = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t d = x->dims[s + i];
            if (d < BL_DIM_N) { free(buf); return BL_OK; } /* k·N has no constant form */
            int64_t v = d == BL_DIM_N ? BL_SHAPE_SYM_N : d;
            memcpy(buf + 8 * i, &v, 8);
        }
        break;
    }
    case BL_OP_UNSQUEEZE: case BL_OP_SQUEEZE: case BL_OP_RESHAPE: case BL_OP_IDENTITY: case BL_OP_FLATTEN:
        if (n) memcpy(buf, x->data, (size_t)n * es);
        break;
    case BL_OP_CAST:
        if (has_sym(x) && out->dtype != BL_DT_INT64) { free(buf); return BL_OK; }
        for (int64_t i = 0; i < n; i++)
            put(out->dtype, buf, i, get_f64(x, i), is_float(x->dtype) ? 0 : get_i64(x, i), is_float(x->dtype));
        break;
    case BL_OP_CONCAT: {
        int ax = (int)bl_node_attr_int(nd, "axis", 0);
        if (ax < 0) ax += out->rank;
        int64_t outer = 1, inner = 1;
        for (int i = 0; i < ax; i++) outer *= out->dims[i];
        for (int i = ax + 1; i < out->rank; i++) inner *= out->dims[i];
        int64_t w = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int k = 0; k < nd->n_inputs; k++) {
                const bl_tensor *t = bl_node_input(g, nd, k);
                int64_t chunk = t->dims[ax] * inner;
                if (chunk) memcpy(buf + (size_t)w * es, (const char *)t->data + (size_t)(o * chunk) * es, (size_t)chunk * es);
                w += chunk;
            }
        break;
    }
    case BL_OP_GATHER: {
        const bl_tensor *ix = bl_node_input(g, nd, 1);
        int ax = (int)bl_node_attr_int(nd, "axis", 0);
        if (ax < 0) ax += x->rank;
        int64_t outer = 1, inner = 1, d = x->dims[ax], ni = bl_tensor_numel(ix, 1);
        for (int i = 0; i < ax; i++) outer *= x->dims[i];
        for (int i = ax + 1; i < x->rank; i++) inner *= x->dims[i];
        int64_t w = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < ni; j++) {
                int64_t v = get_i64(ix, j);
                if (v < 0) v += d; /* range checked by shape inference */
                memcpy(buf + (size_t)w * es, (const char *)x->data + (size_t)((o * d + v) * inner) * es, (size_t)inner * es);
                w += inner;
            }
        break;
    }
    case BL_OP_SLICE: {
        /* Per-axis start and step; out index i maps to in index start + i·step. */
        int64_t start[BL_MAX_RANK] = {0}, step[BL_MAX_RANK], st[BL_MAX_RANK];
        for (int i = 0; i < x->rank; i++) step[i] = 1;
        const bl_tensor *ts = bl_node_input(g, nd, 1), *ta = bl_node_input(g, nd, 3), *tp = bl_node_input(g, nd, 4);
        for (int64_t k = 0; k < bl_tensor_numel(ts, 1); k++) {
            int64_t a = ta ? get_i64(ta, k) : k;
            if (a < 0) a += x->rank;
            int64_t s = get_i64(ts, k), sp = tp ? get_i64(tp, k) : 1, d = x->dims[a];
            if (s < 0) s += d;
            if (sp > 0) s = s < 0 ? 0 : (s > d ? d : s);
            else s = s < 0 ? -1 : (s > d - 1 ? d - 1 : s);
            start[a] = s;
            step[a] = sp;
        }
        strides_of(x, st);
        for (int64_t i = 0; i < n; i++) {
            unravel(out, i, idx);
            int64_t off = 0;
            for (int a = 0; a < x->rank; a++) off += (start[a] + idx[a] * step[a]) * st[a];
            memcpy(buf + (size_t)i * es, (const char *)x->data + (size_t)off * es, es);
        }
        break;
    }
    case BL_OP_TRANSPOSE: {
        /* out index idx reads x at idx permuted back: out axis i is x axis perm[i] */
        size_t np;
        const int64_t *perm = bl_node_attr_ints(nd, "perm", &np);
        int64_t st[BL_MAX_RANK];
        strides_of(x, st);
        for (int64_t i = 0; i < n; i++) {
            unravel(out, i, idx);
            int64_t off = 0;
            for (int a = 0; a < out->rank; a++) off += idx[a] * st[perm ? perm[a] : out->rank - 1 - a];
            memcpy(buf + (size_t)i * es, (const char *)x->data + (size_t)off * es, es);
        }
        break;
    }
    case BL_OP_CONSTANT_OF_SHAPE: {
        const bl_tensor *v = bl_node_input(g, nd, 1); /* the fill value (shape.c checked it) */
        if (!v) memset(buf, 0, (size_t)(n ? n : 1) * es);
        for (int64_t i = 0; v && i < n; i++) memcpy(buf + (size_t)i * es, v->data, es);
        break;
    }
    case BL_OP_ADD: case BL_OP_SUB: case BL_OP_MUL: case BL_OP_DIV: {
        const bl_tensor *y = bl_node_input(g, nd, 1);
        if (has_sym(x) || has_sym(y)) { free(buf); return BL_OK; }
        bool fl = is_float(out->dtype);
        for (int64_t i = 0; i < n; i++) {
            unravel(out, i, idx);
            int64_t ia = bcast_offset(x, out, idx), ib = bcast_offset(y, out, idx);
            if (fl) {
                double a = get_f64(x, ia), b = get_f64(y, ib), r;
                r = nd->op == BL_OP_ADD ? a + b : nd->op == BL_OP_SUB ? a - b : nd->op == BL_OP_MUL ? a * b : a / b;
                put(out->dtype, buf, i, r, 0, true);
            } else {
                int64_t a = get_i64(x, ia), b = get_i64(y, ib), r;
                if (nd->op == BL_OP_DIV && (b == 0 || (a == INT64_MIN && b == -1))) { free(buf); return BL_OK; }
                /* wrap-around arithmetic in uint64 keeps hostile values defined */
                r = nd->op == BL_OP_ADD ? (int64_t)((uint64_t)a + (uint64_t)b)
                    : nd->op == BL_OP_SUB ? (int64_t)((uint64_t)a - (uint64_t)b)
                    : nd->op == BL_OP_MUL ? (int64_t)((uint64_t)a * (uint64_t)b) : a / b;
                put(out->dtype, buf, i, 0, r, false);
            }
        }
        break;
    }
    default:
        free(buf);
        return BL_OK;
    }
    out->data = buf;
    out->nbytes = (size_t)n * es;
    /* Executors must see which constants stand for N (graph.h): a Cast or an Add reading
     * this value at run time substitutes the batch size for the sentinel. */
    if (has_sym(out)) out->flags |= BL_TENSOR_HAS_SYM_N;
    *budget -= n * (int64_t)es;
    *done = true;
    return BL_OK;
}

static bl_status fold_node(bl_graph *g, int ni, int64_t *budget) {
    bl_node *nd = &g->nodes[ni];
    if (!foldable_op(nd->op)) return BL_OK;
    for (int k = 0; k < nd->n_outputs; k++)
        if (nd->outputs[k] >= 0 && (g->tensors[nd->outputs[k]].flags & BL_TENSOR_OUTPUT)) return BL_OK;
    if (nd->op != BL_OP_SHAPE)
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] >= 0 && !g->tensors[nd->inputs[k]].data) return BL_OK;
    bool done;
    BL_TRY(eval_node(g, nd, budget, &done));
    if (done) nd->op = BL_OP_NONE; /* dropped by bl_graph_compact */
    return BL_OK;
}

/* ---- BatchNormalization folding ------------------------------------------------------ */

static const float *const_float(const bl_graph *g, const bl_node *nd, int k) {
    const bl_tensor *t = bl_node_input(g, nd, k);
    return t && t->data && t->dtype == BL_DT_FLOAT ? t->data : NULL;
}

/* The single node reading tensor t, or -1 (also when t is a graph output). */
static int sole_consumer(const bl_graph *g, int t) {
    if (g->tensors[t].n_consumers != 1 || (g->tensors[t].flags & BL_TENSOR_OUTPUT)) return -1;
    for (int n = 0; n < g->n_nodes; n++) {
        if (g->nodes[n].op == BL_OP_NONE) continue;
        for (int k = 0; k < g->nodes[n].n_inputs; k++)
            if (g->nodes[n].inputs[k] == t) return n;
    }
    return -1;
}

static bl_status fold_bn_into(bl_graph *g, int ci, int bi) {
    bl_node *c = &g->nodes[ci], *b = &g->nodes[bi];
    const float *scale = const_float(g, b, 1), *shift = const_float(g, b, 2), *mean = const_float(g, b, 3),
                *var = const_float(g, b, 4), *w = const_float(g, c, 1);
    const float *bias = c->n_inputs > 2 ? const_float(g, c, 2) : NULL;
    if (!scale || !shift || !mean || !var || !w || (c->n_inputs > 2 && c->inputs[2] >= 0 && !bias)) return BL_OK;
    for (int k = 1; k < b->n_outputs; k++)
        if (b->outputs[k] >= 0) return BL_OK; /* training outputs: leave the node as is */
    const bl_tensor *wt = &g->tensors[c->inputs[1]];
    int64_t m = wt->dims[0], per = bl_tensor_numel(wt, 1) / (m ? m : 1);
    double eps = bl_node_attr_float(b, "epsilon", 1e-5f);
    float *nw = malloc(wt->nbytes ? wt->nbytes : 1), *nb = malloc((size_t)m * sizeof(float));
    if (!nw || !nb) {
        free(nw);
        free(nb);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory folding BatchNormalization '%s'", b->name);
    }
    for (int64_t o = 0; o < m; o++) {
        double s = (double)scale[o] / sqrt((double)var[o] + eps);
        for (int64_t j = 0; j < per; j++) nw[o * per + j] = (float)((double)w[o * per + j] * s);
        nb[o] = (float)(((bias ? (double)bias[o] : 0.0) - (double)mean[o]) * s + (double)shift[o]);
    }
    char base[300];
    int wi, bidx;
    int64_t wdims[BL_MAX_RANK];
    memcpy(wdims, wt->dims, sizeof wdims);
    int wrank = wt->rank;
    snprintf(base, sizeof base, "%.200s_bnfold", wt->name);
    BL_TRY(bl_graph_add_tensor_unique(g, base, BL_DT_FLOAT, wrank, wdims, nw, (size_t)(m * per) * sizeof(float), &wi));
    snprintf(base, sizeof base, "%.200s_bias", g->nodes[bi].name);
    BL_TRY(bl_graph_add_tensor_unique(g, base, BL_DT_FLOAT, 1, &m, nb, (size_t)m * sizeof(float), &bidx));
    c = &g->nodes[ci]; /* tensors may have moved, nodes did not; refresh anyway */
    b = &g->nodes[bi];
    if (c->n_inputs < 3) {
        int *in = realloc(c->inputs, 3 * sizeof *in);
        BL_CHECK_ALLOC(in);
        c->inputs = in;
        c->n_inputs = 3;
    }
    c->inputs[1] = wi;
    c->inputs[2] = bidx;
    c->outputs[0] = b->outputs[0];
    b->op = BL_OP_NONE;
    return bl_graph_link(g);
}

static bl_status pass_fold_bn(bl_graph *g) {
    for (int n = 0; n < g->n_nodes; n++) {
        const bl_node *b = &g->nodes[n];
        if (b->op != BL_OP_BATCH_NORM || b->inputs[0] < 0) continue;
        int p = g->tensors[b->inputs[0]].producer;
        if (p < 0 || g->nodes[p].op != BL_OP_CONV || g->nodes[p].fused_act != BL_OP_NONE) continue;
        if (sole_consumer(g, b->inputs[0]) != n) continue;
        BL_TRY(fold_bn_into(g, p, n));
    }
    return BL_OK;
}

/* ---- Identity / Dropout removal ------------------------------------------------------- */

static bl_status pass_drop_identity(bl_graph *g) {
    for (int n = 0; n < g->n_nodes; n++) {
        bl_node *nd = &g->nodes[n];
        if (nd->op != BL_OP_IDENTITY && nd->op != BL_OP_DROPOUT) continue;
        if (nd->n_outputs > 1 && nd->outputs[1] >= 0 &&
            (g->tensors[nd->outputs[1]].n_consumers || (g->tensors[nd->outputs[1]].flags & BL_TENSOR_OUTPUT)))
            continue; /* a Dropout mask is used */
        int in = nd->inputs[0], out = nd->outputs[0];
        if (in < 0 || out < 0) continue;
        if (!(g->tensors[out].flags & BL_TENSOR_OUTPUT)) {
            for (int m = 0; m < g->n_nodes; m++)
                for (int k = 0; k < g->nodes[m].n_inputs; k++)
                    if (g->nodes[m].inputs[k] == out) g->nodes[m].inputs[k] = in;
        } else {
            int p = g->tensors[in].producer;
            if (p < 0 || sole_consumer(g, in) != n) continue;
            for (int k = 0; k < g->nodes[p].n_outputs; k++)
                if (g->nodes[p].outputs[k] == in) g->nodes[p].outputs[k] = out;
        }
        nd->op = BL_OP_NONE;
        BL_TRY(bl_graph_link(g));
    }
    return BL_OK;
}

/* ---- activation fusion ---------------------------------------------------------------- */

static bool scalar_float(const bl_graph *g, const bl_node *nd, int k, float dflt, float *out) {
    const bl_tensor *t = bl_node_input(g, nd, k);
    if (!t) {
        *out = dflt;
        return true;
    }
    if (!t->data || t->dtype != BL_DT_FLOAT || bl_tensor_numel(t, 1) != 1) return false;
    memcpy(out, t->data, sizeof *out);
    return true;
}

static bl_status pass_fuse_act(bl_graph *g) {
    for (int n = 0; n < g->n_nodes; n++) {
        bl_node *a = &g->nodes[n];
        float alpha = 0.f, beta = 0.f;
        switch (a->op) {
        case BL_OP_RELU: case BL_OP_SIGMOID: case BL_OP_HARD_SWISH: case BL_OP_TANH:
            break;
        case BL_OP_LEAKY_RELU:
            alpha = bl_node_attr_float(a, "alpha", 0.01f);
            break;
        case BL_OP_ELU:
            alpha = bl_node_attr_float(a, "alpha", 1.0f);
            break;
        case BL_OP_HARD_SIGMOID:
            alpha = bl_node_attr_float(a, "alpha", 0.2f);
            beta = bl_node_attr_float(a, "beta", 0.5f);
            break;
        case BL_OP_CLIP:
            if (!scalar_float(g, a, 1, -INFINITY, &alpha) || !scalar_float(g, a, 2, INFINITY, &beta)) continue;
            break;
        default:
            continue;
        }
        if (a->inputs[0] < 0) continue;
        int p = g->tensors[a->inputs[0]].producer;
        if (p < 0 || g->nodes[p].op != BL_OP_CONV) continue;
        /* PyTorch exports ReLU6 as Relu then Clip(0, 6): clip(max(x,0), lo, hi) is
         * clip(x, max(lo,0), hi), so the pair fuses into one CLIP. */
        bool relu_clip = g->nodes[p].fused_act == BL_OP_RELU && a->op == BL_OP_CLIP;
        if (g->nodes[p].fused_act != BL_OP_NONE && !relu_clip) continue;
        if (sole_consumer(g, a->inputs[0]) != n) continue;
        bl_node *c = &g->nodes[p];
        if (relu_clip) {
            alpha = alpha > 0.f ? alpha : 0.f;
            free(c->fused_name);
        }
        c->fused_act = a->op;
        c->act_alpha = alpha;
        c->act_beta = beta;
        c->fused_name = strdup(a->name);
        BL_CHECK_ALLOC(c->fused_name);
        c->outputs[0] = a->outputs[0];
        a->op = BL_OP_NONE;
        BL_TRY(bl_graph_link(g));
    }
    return BL_OK;
}

/* ---- driver -------------------------------------------------------------------------- */

bl_status bl_graph_prepare(bl_graph *g, const bl_prepare_opts *opts) {
    BL_RETURN_IF(g->prepared, BL_ERR_INVALID_ARG, "graph already prepared");
    int loaded = 0;
    for (int i = 0; i < BL_OP_COUNT; i++) loaded += g->op_counts_loaded[i];
    if (!loaded)
        for (int n = 0; n < g->n_nodes; n++) g->op_counts_loaded[g->nodes[n].op]++;
    BL_TRY(bl_graph_toposort(g));
    int64_t budget = FOLD_BUDGET_BYTES;
    for (int n = 0; n < g->n_nodes; n++) {
        BL_TRY(bl_shape_infer_node(g, n));
        if (opts->fold_constants) BL_TRY(fold_node(g, n, &budget));
    }
    BL_TRY(bl_graph_compact(g));
    if (opts->fold_batchnorm) BL_TRY(pass_fold_bn(g));
    BL_TRY(pass_drop_identity(g));
    if (opts->fuse_activations) BL_TRY(pass_fuse_act(g));
    BL_TRY(bl_graph_compact(g));
    for (int i = 0; i < g->n_outputs; i++) {
        const bl_tensor *t = &g->tensors[g->outputs[i]];
        BL_RETURN_IF(t->rank < 0, BL_ERR_INTERNAL, "graph output '%s' has no inferred shape", t->name);
    }
    g->prepared = true;
    return BL_OK;
}

/* ---- statistics ---------------------------------------------------------------------- */

static int64_t tensor_bytes(const bl_tensor *t) {
    return bl_tensor_numel(t, 1) * (int64_t)bl_dtype_size(t->dtype);
}

bl_status bl_graph_stats_compute(const bl_graph *g, bl_graph_stats *st) {
    memset(st, 0, sizeof *st);
    BL_RETURN_IF(!g->prepared, BL_ERR_INVALID_ARG, "statistics need a prepared graph (bl_graph_prepare)");
    for (int i = 0; i < g->n_tensors; i++) {
        const bl_tensor *t = &g->tensors[i];
        if (t->data && is_float(t->dtype) && (t->n_consumers > 0 || (t->flags & BL_TENSOR_OUTPUT)))
            st->params += bl_tensor_numel(t, 1);
    }
    int *last = malloc((size_t)(g->n_tensors ? g->n_tensors : 1) * sizeof *last);
    BL_CHECK_ALLOC(last);
    for (int i = 0; i < g->n_tensors; i++) last[i] = -1;
    for (int n = 0; n < g->n_nodes; n++) {
        const bl_node *nd = &g->nodes[n];
        st->op_counts[nd->op]++;
        st->n_fused += nd->fused_act != BL_OP_NONE;
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] >= 0) last[nd->inputs[k]] = n;
        const bl_tensor *x = bl_node_input(g, nd, 0), *w = bl_node_input(g, nd, 1);
        const bl_tensor *y = nd->outputs[0] >= 0 ? &g->tensors[nd->outputs[0]] : NULL;
        if (!y) continue;
        int64_t macs = 0;
        if (nd->op == BL_OP_CONV) {
            macs = bl_tensor_numel(y, 1) * (bl_tensor_numel(w, 1) / (w->dims[0] ? w->dims[0] : 1));
        } else if (nd->op == BL_OP_CONV_TRANSPOSE) {
            macs = bl_tensor_numel(x, 1) * (bl_tensor_numel(w, 1) / (w->dims[0] ? w->dims[0] : 1));
        } else if (nd->op == BL_OP_GEMM) {
            int64_t k = bl_node_attr_int(nd, "transA", 0) ? x->dims[0] : x->dims[1];
            macs = bl_tensor_numel(y, 1) * bl_dim_at(k, 1);
        } else if (nd->op == BL_OP_MATMUL) {
            macs = bl_tensor_numel(y, 1) * bl_dim_at(x->dims[x->rank - 1], 1);
        }
        st->flops += 2 * macs;
    }
    int64_t live = 0;
    for (int i = 0; i < g->n_inputs; i++) live += tensor_bytes(&g->tensors[g->inputs[i]]);
    st->peak_activation_bytes = live;
    for (int n = 0; n < g->n_nodes; n++) {
        const bl_node *nd = &g->nodes[n];
        for (int k = 0; k < nd->n_outputs; k++) {
            if (nd->outputs[k] < 0) continue;
            int64_t b = tensor_bytes(&g->tensors[nd->outputs[k]]);
            live += b;
            st->activation_bytes += b;
        }
        if (live > st->peak_activation_bytes) st->peak_activation_bytes = live;
        /* free what this node was the last to read, and outputs nobody reads */
        for (int k = 0; k < nd->n_inputs; k++) {
            int t = nd->inputs[k];
            if (t < 0 || last[t] != n || g->tensors[t].data || (g->tensors[t].flags & BL_TENSOR_OUTPUT)) continue;
            bool dup = false;
            for (int j = 0; j < k; j++) dup |= nd->inputs[j] == t;
            if (!dup) live -= tensor_bytes(&g->tensors[t]);
        }
        for (int k = 0; k < nd->n_outputs; k++) {
            int t = nd->outputs[k];
            if (t >= 0 && last[t] < 0 && !(g->tensors[t].flags & BL_TENSOR_OUTPUT)) live -= tensor_bytes(&g->tensors[t]);
        }
    }
    free(last);
    return BL_OK;
}
