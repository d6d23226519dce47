/* shape.c — shape and type inference for every supported op (bl_shape_infer_node).
 *
 * Owns nothing: it writes dtype/rank/dims of node outputs in the graph it is given.
 * Shapes carry the batch symbolically (graph.h: d < 0 means (-d)·N), so every rule here is
 * written in that small algebra: products and sums of N-dependent sizes stay affine in N,
 * and a rule that would need N² or a comparison between N and a fixed size (other than 1)
 * fails with a message. Inputs that decide shapes (Reshape's shape, Slice's starts...) must
 * be constants by the time a node is inferred: bl_graph_prepare() folds in the same walk.
 *
 * Threading: works on one graph from one thread.
 */
#include "models/graph.h"

#include <inttypes.h> /* PRId64 */
#include <math.h>     /* floor for Resize scales */
#include <string.h>   /* strcmp, memcpy */

#define NAME(nd) (nd)->name
#define OPN(nd) bl_op_name((nd)->op)

typedef struct {
    int rank;
    int64_t d[BL_MAX_RANK];
} shp;

static const bl_tensor *in_t(const bl_graph *g, const bl_node *nd, int k) { return bl_node_input(g, nd, k); }

/* a·b in the batch algebra; fails on N·N. */
static bl_status dim_mul(const bl_node *nd, int64_t a, int64_t b, int64_t *out) {
    BL_RETURN_IF(a < 0 && b < 0, BL_ERR_MODEL, "node '%s' (%s): the batch dimension would be multiplied by itself",
                 NAME(nd), OPN(nd));
    int64_t ma = a < 0 ? -a : a, mb = b < 0 ? -b : b;
    BL_RETURN_IF(ma && mb > BL_MAX_TENSOR_ELEMS / ma, BL_ERR_MODEL, "node '%s' (%s): tensor too large", NAME(nd), OPN(nd));
    int64_t p = ma * mb;
    *out = (a < 0 || b < 0) ? -p : p;
    return BL_OK;
}

static bl_status prod(const bl_node *nd, const int64_t *d, int from, int to, int64_t *out) {
    int64_t p = 1;
    for (int i = from; i < to; i++) BL_TRY(dim_mul(nd, p, d[i], &p));
    *out = p;
    return BL_OK;
}

static bl_status set_out(bl_graph *g, const bl_node *nd, int k, bl_dtype dt, int rank, const int64_t *dims) {
    if (k >= nd->n_outputs || nd->outputs[k] < 0) return BL_OK;
    BL_RETURN_IF(rank > BL_MAX_RANK || rank < 0, BL_ERR_MODEL, "node '%s' (%s): output rank %d is not supported",
                 NAME(nd), OPN(nd), rank);
    int n_batch = 0;
    int64_t e = 1;
    for (int i = 0; i < rank; i++) {
        BL_RETURN_IF(dims[i] < -BL_MAX_TENSOR_ELEMS, BL_ERR_MODEL, "node '%s' (%s): output too large", NAME(nd), OPN(nd));
        n_batch += dims[i] < 0;
        int64_t m = dims[i] < 0 ? -dims[i] : dims[i];
        if (m == 0) e = 0;
        else BL_RETURN_IF(e > BL_MAX_TENSOR_ELEMS / m, BL_ERR_MODEL,
                          "node '%s' (%s): output would have more than 2^31 elements per item", NAME(nd), OPN(nd));
        e *= m;
    }
    BL_RETURN_IF(n_batch > 1, BL_ERR_MODEL, "node '%s' (%s): output depends on the batch size in %d dimensions",
                 NAME(nd), OPN(nd), n_batch);
    bl_tensor *t = &g->tensors[nd->outputs[k]];
    t->dtype = dt;
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
    return BL_OK;
}

static bl_status same_as(bl_graph *g, const bl_node *nd, int k, const bl_tensor *x) {
    return set_out(g, nd, k, x->dtype, x->rank, x->dims);
}

/* Read a constant 1-D int tensor (int64 or int32) into out[max]. */
static bl_status const_ints(const bl_graph *g, const bl_node *nd, int k, const char *what, int64_t *out, int max,
                            int *n) {
    const bl_tensor *t = in_t(g, nd, k);
    BL_RETURN_IF(!t, BL_ERR_MODEL, "node '%s' (%s): missing input '%s'", NAME(nd), OPN(nd), what);
    BL_RETURN_IF(!t->data, BL_ERR_MODEL,
                 "node '%s' (%s): input '%s' ('%s') is computed at run time; baleen needs it constant (export "
                 "with fixed shapes, or constant-foldable shape arithmetic)", NAME(nd), OPN(nd), what, t->name);
    BL_RETURN_IF(t->rank > 1 || (t->dtype != BL_DT_INT64 && t->dtype != BL_DT_INT32), BL_ERR_MODEL,
                 "node '%s' (%s): input '%s' must be a 1-D int64 tensor", NAME(nd), OPN(nd), what);
    int64_t cnt = bl_tensor_numel(t, 1);
    BL_RETURN_IF(cnt > max, BL_ERR_MODEL, "node '%s' (%s): input '%s' has %" PRId64 " values, at most %d allowed",
                 NAME(nd), OPN(nd), what, cnt, max);
    for (int64_t i = 0; i < cnt; i++) {
        if (t->dtype == BL_DT_INT64) memcpy(&out[i], (const char *)t->data + 8 * i, 8);
        else {
            int32_t v;
            memcpy(&v, (const char *)t->data + 4 * i, 4);
            out[i] = v;
        }
    }
    *n = (int)cnt;
    return BL_OK;
}

static bl_status norm_axis(const bl_node *nd, int64_t axis, int rank, int *out) {
    BL_RETURN_IF(axis < -rank || axis >= rank, BL_ERR_MODEL, "node '%s' (%s): axis %" PRId64 " out of range for rank %d",
                 NAME(nd), OPN(nd), axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return BL_OK;
}

/* Multidirectional (numpy) broadcast of a into acc. */
static bl_status broadcast(const bl_node *nd, shp *acc, const bl_tensor *b) {
    int r = acc->rank > b->rank ? acc->rank : b->rank;
    shp o = {r, {0}};
    for (int i = 0; i < r; i++) {
        int ia = i - (r - acc->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? acc->d[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1) o.d[i] = da;
        else if (da == 1) o.d[i] = db;
        else return BL_ERROR(BL_ERR_MODEL, "node '%s' (%s): shapes do not broadcast at axis %d (%" PRId64 " vs %" PRId64
                             "; negative means ·N)", NAME(nd), OPN(nd), i, da, db);
    }
    *acc = o;
    return BL_OK;
}

static bl_status need_float(const bl_node *nd, const bl_tensor *t) {
    BL_RETURN_IF(t->dtype != BL_DT_FLOAT, BL_ERR_MODEL, "node '%s' (%s): input '%s' is %s; baleen runs this op in float32 only",
                 NAME(nd), OPN(nd), t->name, bl_dtype_name(t->dtype));
    return BL_OK;
}

/* ---- convolution and pooling --------------------------------------------------------- */

typedef struct {
    int nsp;
    int64_t k[BL_MAX_RANK], s[BL_MAX_RANK], d[BL_MAX_RANK], pb[BL_MAX_RANK], pe[BL_MAX_RANK];
    int autopad; /* 0 NOTSET, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID */
} window;

static bl_status read_window(const bl_node *nd, int nsp, const int64_t *kernel, window *w) {
    w->nsp = nsp;
    size_t n;
    const int64_t *v;
    for (int i = 0; i < nsp; i++) {
        w->k[i] = kernel[i];
        w->s[i] = w->d[i] = 1;
        w->pb[i] = w->pe[i] = 0;
    }
    if ((v = bl_node_attr_ints(nd, "kernel_shape", &n))) {
        BL_RETURN_IF((int)n != nsp, BL_ERR_MODEL, "node '%s' (%s): kernel_shape has %zu values for %d spatial dims",
                     NAME(nd), OPN(nd), n, nsp);
        for (int i = 0; i < nsp; i++) {
            BL_RETURN_IF(kernel[i] > 0 && v[i] != kernel[i], BL_ERR_MODEL,
                         "node '%s' (%s): kernel_shape disagrees with the weight shape", NAME(nd), OPN(nd));
            w->k[i] = v[i];
        }
    }
    for (int i = 0; i < nsp; i++)
        BL_RETURN_IF(w->k[i] < 1 || w->k[i] > 65536, BL_ERR_MODEL, "node '%s' (%s): kernel size %" PRId64 " is invalid",
                     NAME(nd), OPN(nd), w->k[i]);
    if ((v = bl_node_attr_ints(nd, "strides", &n))) {
        BL_RETURN_IF((int)n != nsp, BL_ERR_MODEL, "node '%s' (%s): strides needs %d values", NAME(nd), OPN(nd), nsp);
        for (int i = 0; i < nsp; i++) w->s[i] = v[i];
    }
    if ((v = bl_node_attr_ints(nd, "dilations", &n))) {
        BL_RETURN_IF((int)n != nsp, BL_ERR_MODEL, "node '%s' (%s): dilations needs %d values", NAME(nd), OPN(nd), nsp);
        for (int i = 0; i < nsp; i++) w->d[i] = v[i];
    }
    if ((v = bl_node_attr_ints(nd, "pads", &n))) {
        BL_RETURN_IF((int)n != 2 * nsp, BL_ERR_MODEL, "node '%s' (%s): pads needs %d values", NAME(nd), OPN(nd), 2 * nsp);
        for (int i = 0; i < nsp; i++) {
            w->pb[i] = v[i];
            w->pe[i] = v[i + nsp];
        }
    }
    for (int i = 0; i < nsp; i++) {
        BL_RETURN_IF(w->s[i] < 1 || w->s[i] > 65536 || w->d[i] < 1 || w->d[i] > 65536, BL_ERR_MODEL,
                     "node '%s' (%s): strides and dilations must be between 1 and 65536", NAME(nd), OPN(nd));
        BL_RETURN_IF(w->pb[i] < 0 || w->pe[i] < 0 || w->pb[i] > 65536 || w->pe[i] > 65536, BL_ERR_MODEL,
                     "node '%s' (%s): pads must be between 0 and 65536", NAME(nd), OPN(nd));
    }
    const char *ap = bl_node_attr_str(nd, "auto_pad", "NOTSET");
    if (!strcmp(ap, "NOTSET")) w->autopad = 0;
    else if (!strcmp(ap, "SAME_UPPER")) w->autopad = 1;
    else if (!strcmp(ap, "SAME_LOWER")) w->autopad = 2;
    else if (!strcmp(ap, "VALID")) w->autopad = 3;
    else return BL_ERROR(BL_ERR_MODEL, "node '%s' (%s): unknown auto_pad '%s'", NAME(nd), OPN(nd), ap);
    return BL_OK;
}

static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* Output size of a sliding window (conv or pool) along spatial axis i of extent `in`. */
static bl_status window_out(const bl_node *nd, const window *w, int i, int64_t in, bool ceil_mode, int64_t *out) {
    BL_RETURN_IF(in < 0, BL_ERR_MODEL, "node '%s' (%s): a spatial dimension depends on the batch size", NAME(nd), OPN(nd));
    int64_t eff = (w->k[i] - 1) * w->d[i] + 1;
    if (w->autopad == 1 || w->autopad == 2) {
        *out = ceil_div(in, w->s[i]);
        return BL_OK;
    }
    int64_t span = w->autopad == 3 ? in : in + w->pb[i] + w->pe[i];
    BL_RETURN_IF(span < eff, BL_ERR_MODEL,
                 "node '%s' (%s): the window (%" PRId64 ") is larger than the padded input (%" PRId64 ") on spatial axis %d",
                 NAME(nd), OPN(nd), eff, span, i);
    int64_t o = ceil_mode ? ceil_div(span - eff, w->s[i]) + 1 : (span - eff) / w->s[i] + 1;
    /* ONNX/PyTorch: with ceil_mode the last window must start inside the input or left pad. */
    if (ceil_mode && (o - 1) * w->s[i] >= in + w->pb[i]) o--;
    *out = o;
    return BL_OK;
}

static bl_status infer_conv(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0), *wt = in_t(g, nd, 1), *b = in_t(g, nd, 2);
    bool tr = nd->op == BL_OP_CONV_TRANSPOSE;
    BL_TRY(need_float(nd, x));
    BL_TRY(need_float(nd, wt));
    BL_RETURN_IF(x->rank < 3 || x->rank > 5 || wt->rank != x->rank, BL_ERR_MODEL,
                 "node '%s' (%s): input rank %d and weight rank %d (expected 3 to 5 and equal)", NAME(nd), OPN(nd),
                 x->rank, wt->rank);
    int nsp = x->rank - 2;
    int64_t grp = bl_node_attr_int(nd, "group", 1), c = x->dims[1];
    BL_RETURN_IF(grp < 1 || c < 1, BL_ERR_MODEL, "node '%s' (%s): group %" PRId64 " and channels %" PRId64 " must be >= 1",
                 NAME(nd), OPN(nd), grp, c);
    for (int i = 0; i < wt->rank; i++)
        BL_RETURN_IF(wt->dims[i] < 1, BL_ERR_MODEL, "node '%s' (%s): weight '%s' has an empty or batch-dependent dimension",
                     NAME(nd), OPN(nd), wt->name);
    int64_t m;
    if (!tr) {
        BL_RETURN_IF(wt->dims[1] * grp != c || wt->dims[0] % grp, BL_ERR_MODEL,
                     "node '%s' (Conv): weight %" PRId64 "x%" PRId64 " does not fit %" PRId64 " input channels in %" PRId64
                     " groups", NAME(nd), wt->dims[0], wt->dims[1], c, grp);
        m = wt->dims[0];
    } else {
        BL_RETURN_IF(wt->dims[0] != c || c % grp, BL_ERR_MODEL,
                     "node '%s' (ConvTranspose): weight dim 0 (%" PRId64 ") must equal input channels (%" PRId64 ")",
                     NAME(nd), wt->dims[0], c);
        m = wt->dims[1] * grp;
    }
    if (b) BL_RETURN_IF(b->rank != 1 || b->dims[0] != m, BL_ERR_MODEL, "node '%s' (%s): bias must have %" PRId64 " values",
                        NAME(nd), OPN(nd), m);
    window w;
    BL_TRY(read_window(nd, nsp, wt->dims + 2, &w));
    int64_t od[BL_MAX_RANK] = {x->dims[0], m};
    size_t nos = 0, nop = 0;
    const int64_t *os = bl_node_attr_ints(nd, "output_shape", &nos);
    const int64_t *opad = bl_node_attr_ints(nd, "output_padding", &nop);
    BL_RETURN_IF(opad && (int)nop != nsp, BL_ERR_MODEL, "node '%s': output_padding needs %d values", NAME(nd), nsp);
    for (int i = 0; i < nsp; i++) {
        int64_t in = x->dims[2 + i];
        if (!tr) {
            BL_TRY(window_out(nd, &w, i, in, false, &od[2 + i]));
            continue;
        }
        BL_RETURN_IF(in < 1, BL_ERR_MODEL, "node '%s': spatial input size must be fixed and >= 1", NAME(nd));
        int64_t op = opad ? opad[i] : 0;
        BL_RETURN_IF(op < 0 || (op >= w.s[i] && op >= w.d[i]), BL_ERR_MODEL,
                     "node '%s': output_padding must be smaller than the stride or dilation", NAME(nd));
        if (os) {
            BL_RETURN_IF((int)nos < nsp, BL_ERR_MODEL, "node '%s': output_shape needs %d values", NAME(nd), nsp);
            od[2 + i] = os[nos - (size_t)nsp + (size_t)i];
        } else if (w.autopad == 1 || w.autopad == 2) {
            od[2 + i] = in * w.s[i];
        } else {
            od[2 + i] = w.s[i] * (in - 1) + op + (w.k[i] - 1) * w.d[i] + 1 - w.pb[i] - w.pe[i];
        }
        BL_RETURN_IF(od[2 + i] < 1, BL_ERR_MODEL, "node '%s': output size %" PRId64 " on axis %d", NAME(nd), od[2 + i], i);
    }
    return set_out(g, nd, 0, BL_DT_FLOAT, x->rank, od);
}

static bl_status infer_pool(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    BL_TRY(need_float(nd, x));
    BL_RETURN_IF(x->rank < 3 || x->rank > 5, BL_ERR_MODEL, "node '%s' (%s): input rank %d (expected 3 to 5)",
                 NAME(nd), OPN(nd), x->rank);
    int nsp = x->rank - 2;
    int64_t od[BL_MAX_RANK] = {x->dims[0], x->dims[1]};
    if (nd->op == BL_OP_GLOBAL_AVERAGE_POOL || nd->op == BL_OP_GLOBAL_MAX_POOL) {
        for (int i = 0; i < nsp; i++) od[2 + i] = 1;
        return set_out(g, nd, 0, BL_DT_FLOAT, x->rank, od);
    }
    size_t nk;
    const int64_t *k = bl_node_attr_ints(nd, "kernel_shape", &nk);
    BL_RETURN_IF(!k, BL_ERR_MODEL, "node '%s' (%s): kernel_shape is required", NAME(nd), OPN(nd));
    int64_t zero[BL_MAX_RANK] = {0};
    window w;
    BL_TRY(read_window(nd, nsp, zero, &w));
    bool ceil_mode = bl_node_attr_int(nd, "ceil_mode", 0) != 0;
    for (int i = 0; i < nsp; i++) {
        BL_RETURN_IF(w.pb[i] >= w.k[i] || w.pe[i] >= w.k[i], BL_ERR_MODEL,
                     "node '%s' (%s): pads must be smaller than the kernel", NAME(nd), OPN(nd));
        BL_TRY(window_out(nd, &w, i, x->dims[2 + i], ceil_mode, &od[2 + i]));
    }
    BL_TRY(set_out(g, nd, 0, BL_DT_FLOAT, x->rank, od));
    return set_out(g, nd, 1, BL_DT_INT64, x->rank, od); /* MaxPool Indices */
}

/* ---- normalisation, reduction, matrix products --------------------------------------- */

static bl_status check_vec(const bl_node *nd, const bl_tensor *t, int64_t c, const char *what) {
    BL_RETURN_IF(!t || t->rank != 1 || t->dims[0] != c, BL_ERR_MODEL, "node '%s' (%s): %s must be a vector of %" PRId64 " values",
                 NAME(nd), OPN(nd), what, c);
    return BL_OK;
}

static bl_status infer_norm(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    BL_TRY(need_float(nd, x));
    if (nd->op == BL_OP_BATCH_NORM) {
        BL_RETURN_IF(bl_node_attr_int(nd, "training_mode", 0) != 0, BL_ERR_MODEL,
                     "node '%s': BatchNormalization in training mode; export the model in eval mode", NAME(nd));
        for (int k = 1; k < nd->n_outputs; k++)
            BL_RETURN_IF(nd->outputs[k] >= 0 && g->tensors[nd->outputs[k]].n_consumers > 0, BL_ERR_MODEL,
                         "node '%s': BatchNormalization running-statistics outputs are used (training graph); "
                         "export in eval mode", NAME(nd));
        BL_RETURN_IF(x->rank < 2, BL_ERR_MODEL, "node '%s': input rank %d < 2", NAME(nd), x->rank);
        const char *names[] = {"scale", "B", "mean", "var"};
        for (int k = 1; k <= 4; k++) BL_TRY(check_vec(nd, in_t(g, nd, k), x->dims[1], names[k - 1]));
        return same_as(g, nd, 0, x);
    }
    if (nd->op == BL_OP_INSTANCE_NORM) {
        BL_RETURN_IF(x->rank < 3, BL_ERR_MODEL, "node '%s': input rank %d < 3", NAME(nd), x->rank);
        BL_TRY(check_vec(nd, in_t(g, nd, 1), x->dims[1], "scale"));
        BL_TRY(check_vec(nd, in_t(g, nd, 2), x->dims[1], "B"));
        return same_as(g, nd, 0, x);
    }
    /* LayerNormalization */
    int axis = 0;
    BL_TRY(norm_axis(nd, bl_node_attr_int(nd, "axis", -1), x->rank, &axis));
    for (int k = 1; k <= 2; k++) {
        const bl_tensor *p = in_t(g, nd, k);
        if (!p) continue;
        shp acc = {x->rank - axis, {0}};
        memcpy(acc.d, x->dims + axis, (size_t)acc.rank * sizeof(int64_t));
        BL_TRY(broadcast(nd, &acc, p));
        BL_RETURN_IF(acc.rank != x->rank - axis, BL_ERR_MODEL, "node '%s': scale/bias rank too large", NAME(nd));
    }
    BL_TRY(same_as(g, nd, 0, x));
    int64_t sd[BL_MAX_RANK];
    for (int i = 0; i < x->rank; i++) sd[i] = i < axis ? x->dims[i] : 1;
    BL_TRY(set_out(g, nd, 1, BL_DT_FLOAT, x->rank, sd));
    return set_out(g, nd, 2, BL_DT_FLOAT, x->rank, sd);
}

static bl_status infer_reduce(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    int64_t axes[BL_MAX_RANK];
    int na = 0;
    size_t n;
    const int64_t *a = bl_node_attr_ints(nd, "axes", &n);
    if (a) {
        BL_RETURN_IF(n > BL_MAX_RANK, BL_ERR_MODEL, "node '%s' (%s): too many axes", NAME(nd), OPN(nd));
        memcpy(axes, a, n * sizeof *a);
        na = (int)n;
    } else if (in_t(g, nd, 1)) {
        BL_TRY(const_ints(g, nd, 1, "axes", axes, BL_MAX_RANK, &na));
    }
    bool keep = bl_node_attr_int(nd, "keepdims", 1) != 0;
    if (na == 0 && bl_node_attr_int(nd, "noop_with_empty_axes", 0)) return same_as(g, nd, 0, x);
    bool red[BL_MAX_RANK] = {false};
    for (int i = 0; i < na; i++) {
        int ax = 0;
        BL_TRY(norm_axis(nd, axes[i], x->rank, &ax));
        BL_RETURN_IF(red[ax], BL_ERR_MODEL, "node '%s' (%s): axis %d repeated", NAME(nd), OPN(nd), ax);
        red[ax] = true;
    }
    if (na == 0)
        for (int i = 0; i < x->rank; i++) red[i] = true;
    int64_t od[BL_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if (!red[i]) od[r++] = x->dims[i];
        else if (keep) od[r++] = 1;
    }
    return set_out(g, nd, 0, x->dtype, r, od);
}

static bl_status infer_gemm(bl_graph *g, const bl_node *nd) {
    const bl_tensor *a = in_t(g, nd, 0), *b = in_t(g, nd, 1), *c = in_t(g, nd, 2);
    BL_TRY(need_float(nd, a));
    BL_TRY(need_float(nd, b));
    BL_RETURN_IF(a->rank != 2 || b->rank != 2, BL_ERR_MODEL, "node '%s' (Gemm): inputs must be 2-D (got %d and %d)",
                 NAME(nd), a->rank, b->rank);
    bool ta = bl_node_attr_int(nd, "transA", 0), tb = bl_node_attr_int(nd, "transB", 0);
    int64_t m = ta ? a->dims[1] : a->dims[0], ka = ta ? a->dims[0] : a->dims[1];
    int64_t kb = tb ? b->dims[1] : b->dims[0], n = tb ? b->dims[0] : b->dims[1];
    BL_RETURN_IF(ka != kb, BL_ERR_MODEL, "node '%s' (Gemm): inner dimensions differ (%" PRId64 " vs %" PRId64 ")",
                 NAME(nd), ka, kb);
    shp o = {2, {m, n}};
    if (c) {
        shp acc = o;
        BL_TRY(broadcast(nd, &acc, c));
        BL_RETURN_IF(acc.rank != 2 || acc.d[0] != m || acc.d[1] != n, BL_ERR_MODEL,
                     "node '%s' (Gemm): C does not broadcast to the output", NAME(nd));
    }
    return set_out(g, nd, 0, BL_DT_FLOAT, 2, o.d);
}

static bl_status infer_matmul(bl_graph *g, const bl_node *nd) {
    const bl_tensor *a = in_t(g, nd, 0), *b = in_t(g, nd, 1);
    BL_TRY(need_float(nd, a));
    BL_TRY(need_float(nd, b));
    BL_RETURN_IF(a->rank < 1 || b->rank < 1, BL_ERR_MODEL, "node '%s' (MatMul): scalar operands", NAME(nd));
    int64_t k1 = a->dims[a->rank - 1], k2 = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    BL_RETURN_IF(k1 != k2, BL_ERR_MODEL, "node '%s' (MatMul): inner dimensions differ (%" PRId64 " vs %" PRId64 ")",
                 NAME(nd), k1, k2);
    /* batch dims broadcast; 1-D operands contribute no row/column dimension */
    bl_tensor ab = *a, bb = *b;
    ab.rank = a->rank >= 2 ? a->rank - 2 : 0;
    bb.rank = b->rank >= 2 ? b->rank - 2 : 0;
    shp o = {ab.rank, {0}};
    memcpy(o.d, a->dims, (size_t)ab.rank * sizeof(int64_t));
    BL_TRY(broadcast(nd, &o, &bb));
    if (a->rank >= 2) o.d[o.rank++] = a->dims[a->rank - 2];
    if (b->rank >= 2) {
        BL_RETURN_IF(o.rank >= BL_MAX_RANK, BL_ERR_MODEL, "node '%s': rank too large", NAME(nd));
        o.d[o.rank++] = b->dims[b->rank - 1];
    }
    return set_out(g, nd, 0, BL_DT_FLOAT, o.rank, o.d);
}

/* ---- shape manipulation --------------------------------------------------------------- */

static bl_status infer_reshape(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    int64_t s[BL_MAX_RANK];
    int n = 0;
    BL_TRY(const_ints(g, nd, 1, "shape", s, BL_MAX_RANK, &n));
    bool allowzero = bl_node_attr_int(nd, "allowzero", 0) != 0;
    int64_t total, known = 1;
    BL_TRY(prod(nd, x->dims, 0, x->rank, &total));
    int infer = -1;
    for (int i = 0; i < n; i++) {
        if (s[i] == BL_SHAPE_SYM_N) s[i] = BL_DIM_N;
        else if (s[i] == 0 && !allowzero) {
            BL_RETURN_IF(i >= x->rank, BL_ERR_MODEL, "node '%s' (Reshape): 0 at position %d copies a missing input dim",
                         NAME(nd), i);
            s[i] = x->dims[i];
        } else if (s[i] == -1) {
            BL_RETURN_IF(infer >= 0, BL_ERR_MODEL, "node '%s' (Reshape): more than one -1 in the target shape", NAME(nd));
            infer = i;
            continue;
        } else if (s[i] < 0) {
            return BL_ERROR(BL_ERR_MODEL, "node '%s' (Reshape): invalid target dimension %" PRId64, NAME(nd), s[i]);
        }
        BL_TRY(dim_mul(nd, known, s[i], &known));
    }
    if (infer >= 0) {
        int64_t mt = total < 0 ? -total : total, mk = known < 0 ? -known : known;
        BL_RETURN_IF(mk == 0 || mt % mk || (known < 0 && total >= 0), BL_ERR_MODEL,
                     "node '%s' (Reshape): cannot infer -1 (input has %s%" PRId64 " elements, target known part %s%" PRId64 ")",
                     NAME(nd), total < 0 ? "N·" : "", mt, known < 0 ? "N·" : "", mk);
        s[infer] = (total < 0 && known >= 0) ? -(mt / mk) : mt / mk;
        known = total;
    }
    BL_RETURN_IF(known != total, BL_ERR_MODEL,
                 "node '%s' (Reshape): target shape holds a different number of elements than the input", NAME(nd));
    return set_out(g, nd, 0, x->dtype, n, s);
}

static bl_status infer_flatten(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    int64_t axis = bl_node_attr_int(nd, "axis", 1);
    BL_RETURN_IF(axis < -x->rank || axis > x->rank, BL_ERR_MODEL, "node '%s' (Flatten): axis %" PRId64 " out of range",
                 NAME(nd), axis);
    int ax = (int)(axis < 0 ? axis + x->rank : axis);
    int64_t od[2];
    BL_TRY(prod(nd, x->dims, 0, ax, &od[0]));
    BL_TRY(prod(nd, x->dims, ax, x->rank, &od[1]));
    return set_out(g, nd, 0, x->dtype, 2, od);
}

static bl_status get_axes(const bl_graph *g, const bl_node *nd, int64_t *axes, int *n, bool *given) {
    size_t na;
    const int64_t *a = bl_node_attr_ints(nd, "axes", &na);
    *given = true;
    if (a) {
        BL_RETURN_IF(na > BL_MAX_RANK, BL_ERR_MODEL, "node '%s' (%s): too many axes", NAME(nd), OPN(nd));
        memcpy(axes, a, na * sizeof *a);
        *n = (int)na;
        return BL_OK;
    }
    if (in_t(g, nd, 1)) return const_ints(g, nd, 1, "axes", axes, BL_MAX_RANK, n);
    *given = false;
    *n = 0;
    return BL_OK;
}

static bl_status infer_squeeze(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    int64_t axes[BL_MAX_RANK];
    int na = 0;
    bool given;
    BL_TRY(get_axes(g, nd, axes, &na, &given));
    bool drop[BL_MAX_RANK] = {false};
    if (nd->op == BL_OP_SQUEEZE) {
        for (int i = 0; i < na; i++) {
            int ax = 0;
            BL_TRY(norm_axis(nd, axes[i], x->rank, &ax));
            BL_RETURN_IF(x->dims[ax] != 1, BL_ERR_MODEL, "node '%s' (Squeeze): axis %d has size %" PRId64 ", not 1",
                         NAME(nd), ax, x->dims[ax]);
            drop[ax] = true;
        }
        if (!given)
            for (int i = 0; i < x->rank; i++) drop[i] = x->dims[i] == 1;
        int64_t od[BL_MAX_RANK];
        int r = 0;
        for (int i = 0; i < x->rank; i++)
            if (!drop[i]) od[r++] = x->dims[i];
        return set_out(g, nd, 0, x->dtype, r, od);
    }
    BL_RETURN_IF(!given, BL_ERR_MODEL, "node '%s' (Unsqueeze): axes are required", NAME(nd));
    int r = x->rank + na;
    BL_RETURN_IF(r > BL_MAX_RANK, BL_ERR_MODEL, "node '%s' (Unsqueeze): output rank %d too large", NAME(nd), r);
    bool ins[BL_MAX_RANK] = {false};
    for (int i = 0; i < na; i++) {
        int ax = 0;
        BL_TRY(norm_axis(nd, axes[i], r, &ax));
        BL_RETURN_IF(ins[ax], BL_ERR_MODEL, "node '%s' (Unsqueeze): axis %d repeated", NAME(nd), ax);
        ins[ax] = true;
    }
    int64_t od[BL_MAX_RANK];
    for (int i = 0, j = 0; i < r; i++) od[i] = ins[i] ? 1 : x->dims[j++];
    return set_out(g, nd, 0, x->dtype, r, od);
}

static bl_status infer_transpose(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    size_t n;
    const int64_t *p = bl_node_attr_ints(nd, "perm", &n);
    BL_RETURN_IF(p && (int)n != x->rank, BL_ERR_MODEL, "node '%s' (Transpose): perm has %zu values for rank %d",
                 NAME(nd), n, x->rank);
    int64_t od[BL_MAX_RANK];
    bool seen[BL_MAX_RANK] = {false};
    for (int i = 0; i < x->rank; i++) {
        int64_t s = p ? p[i] : x->rank - 1 - i;
        BL_RETURN_IF(s < 0 || s >= x->rank || seen[s], BL_ERR_MODEL, "node '%s' (Transpose): perm is not a permutation",
                     NAME(nd));
        seen[s] = true;
        od[i] = x->dims[s];
    }
    return set_out(g, nd, 0, x->dtype, x->rank, od);
}

static bl_status infer_concat(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    BL_RETURN_IF(!x, BL_ERR_MODEL, "node '%s' (Concat): first input missing", NAME(nd));
    int ax = 0;
    BL_TRY(norm_axis(nd, bl_node_attr_int(nd, "axis", 0), x->rank, &ax));
    int64_t od[BL_MAX_RANK];
    memcpy(od, x->dims, sizeof od);
    for (int k = 1; k < nd->n_inputs; k++) {
        const bl_tensor *t = in_t(g, nd, k);
        BL_RETURN_IF(!t || t->rank != x->rank || t->dtype != x->dtype, BL_ERR_MODEL,
                     "node '%s' (Concat): inputs differ in rank or type", NAME(nd));
        for (int i = 0; i < x->rank; i++) {
            if (i != ax) {
                BL_RETURN_IF(t->dims[i] != x->dims[i], BL_ERR_MODEL, "node '%s' (Concat): inputs differ on axis %d",
                             NAME(nd), i);
                continue;
            }
            BL_RETURN_IF((od[i] < 0) != (t->dims[i] < 0) && od[i] != 0 && t->dims[i] != 0, BL_ERR_MODEL,
                         "node '%s' (Concat): joins batch-dependent and fixed sizes on axis %d", NAME(nd), i);
            od[i] += t->dims[i];
        }
    }
    return set_out(g, nd, 0, x->dtype, x->rank, od);
}

static bl_status infer_split(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    int ax = 0;
    BL_TRY(norm_axis(nd, bl_node_attr_int(nd, "axis", 0), x->rank, &ax));
    int64_t d = x->dims[ax];
    BL_RETURN_IF(d < 0, BL_ERR_MODEL, "node '%s' (Split): cannot split the batch dimension", NAME(nd));
    int no = nd->n_outputs;
    int64_t sz[1024];
    size_t n;
    const int64_t *s = bl_node_attr_ints(nd, "split", &n);
    int ns = 0;
    if (s) {
        BL_RETURN_IF((int)n != no, BL_ERR_MODEL, "node '%s' (Split): %zu sizes for %d outputs", NAME(nd), n, no);
        memcpy(sz, s, n * sizeof *s);
        ns = (int)n;
    } else if (in_t(g, nd, 1)) {
        BL_TRY(const_ints(g, nd, 1, "split", sz, 1024, &ns));
        BL_RETURN_IF(ns != no, BL_ERR_MODEL, "node '%s' (Split): %d sizes for %d outputs", NAME(nd), ns, no);
    } else {
        int64_t chunk = (d + no - 1) / no; /* opset 18 num_outputs: last chunk may be smaller */
        for (int k = 0; k < no; k++) sz[k] = k < no - 1 ? chunk : d - chunk * (no - 1);
        ns = no;
    }
    int64_t sum = 0;
    for (int k = 0; k < ns; k++) {
        BL_RETURN_IF(sz[k] < 0 || sz[k] > d, BL_ERR_MODEL, "node '%s' (Split): invalid size %" PRId64, NAME(nd), sz[k]);
        sum += sz[k];
    }
    BL_RETURN_IF(sum != d, BL_ERR_MODEL, "node '%s' (Split): sizes add up to %" PRId64 ", not %" PRId64, NAME(nd), sum, d);
    for (int k = 0; k < no; k++) {
        int64_t od[BL_MAX_RANK];
        memcpy(od, x->dims, sizeof od);
        od[ax] = sz[k];
        BL_TRY(set_out(g, nd, k, x->dtype, x->rank, od));
    }
    return BL_OK;
}

/* ONNX Slice semantics for one axis of extent d; start/end clamped, count returned. */
static int64_t slice_count(int64_t d, int64_t *start, int64_t end, int64_t step) {
    int64_t s = *start, e = end;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
        s = s < 0 ? 0 : (s > d ? d : s);
        e = e < 0 ? 0 : (e > d ? d : e);
        *start = s;
        return e > s ? (e - s + step - 1) / step : 0;
    }
    s = s < 0 ? -1 : (s > d - 1 ? d - 1 : s);
    e = e < -1 ? -1 : (e > d - 1 ? d - 1 : e);
    *start = s;
    return s > e ? (s - e + (-step) - 1) / (-step) : 0;
}

static bl_status infer_slice(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    int64_t st[BL_MAX_RANK], en[BL_MAX_RANK], ax[BL_MAX_RANK], sp[BL_MAX_RANK];
    int ns = 0, ne = 0, na = 0, np = 0;
    BL_TRY(const_ints(g, nd, 1, "starts", st, BL_MAX_RANK, &ns));
    BL_TRY(const_ints(g, nd, 2, "ends", en, BL_MAX_RANK, &ne));
    if (in_t(g, nd, 3)) BL_TRY(const_ints(g, nd, 3, "axes", ax, BL_MAX_RANK, &na));
    if (in_t(g, nd, 4)) BL_TRY(const_ints(g, nd, 4, "steps", sp, BL_MAX_RANK, &np));
    BL_RETURN_IF(ne != ns || (in_t(g, nd, 3) && na != ns) || (in_t(g, nd, 4) && np != ns), BL_ERR_MODEL,
                 "node '%s' (Slice): starts, ends, axes and steps differ in length", NAME(nd));
    int64_t od[BL_MAX_RANK];
    memcpy(od, x->dims, sizeof od);
    bool seen[BL_MAX_RANK] = {false};
    for (int i = 0; i < ns; i++) {
        int a = 0;
        BL_TRY(norm_axis(nd, in_t(g, nd, 3) ? ax[i] : i, x->rank, &a));
        BL_RETURN_IF(seen[a], BL_ERR_MODEL, "node '%s' (Slice): axis %d repeated", NAME(nd), a);
        seen[a] = true;
        int64_t step = in_t(g, nd, 4) ? sp[i] : 1;
        BL_RETURN_IF(step == 0, BL_ERR_MODEL, "node '%s' (Slice): step 0", NAME(nd));
        if (x->dims[a] < 0) {
            /* The whole batch axis is the only slice of it that stays independent of N. */
            BL_RETURN_IF(!(st[i] == 0 && step == 1 && (en[i] >= INT32_MAX || en[i] == BL_SHAPE_SYM_N)), BL_ERR_MODEL,
                         "node '%s' (Slice): slices the batch dimension", NAME(nd));
            continue;
        }
        BL_RETURN_IF(st[i] == BL_SHAPE_SYM_N || en[i] == BL_SHAPE_SYM_N, BL_ERR_MODEL,
                     "node '%s' (Slice): a start or end on axis %d depends on the batch size", NAME(nd), a);
        int64_t s0 = st[i];
        od[a] = slice_count(x->dims[a], &s0, en[i], step);
    }
    return set_out(g, nd, 0, x->dtype, x->rank, od);
}

static bl_status infer_gather(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0), *ix = in_t(g, nd, 1);
    BL_RETURN_IF(ix->dtype != BL_DT_INT64 && ix->dtype != BL_DT_INT32, BL_ERR_MODEL,
                 "node '%s' (Gather): indices must be int32 or int64", NAME(nd));
    BL_RETURN_IF(x->rank < 1, BL_ERR_MODEL, "node '%s' (Gather): data is a scalar", NAME(nd));
    int ax = 0;
    BL_TRY(norm_axis(nd, bl_node_attr_int(nd, "axis", 0), x->rank, &ax));
    int r = x->rank - 1 + ix->rank;
    BL_RETURN_IF(r > BL_MAX_RANK, BL_ERR_MODEL, "node '%s' (Gather): output rank too large", NAME(nd));
    int64_t d = x->dims[ax];
    if (ix->data && d >= 0) {
        int64_t cnt = bl_tensor_numel(ix, 1);
        for (int64_t i = 0; i < cnt; i++) {
            int64_t v;
            if (ix->dtype == BL_DT_INT64) memcpy(&v, (const char *)ix->data + 8 * i, 8);
            else {
                int32_t w;
                memcpy(&w, (const char *)ix->data + 4 * i, 4);
                v = w;
            }
            BL_RETURN_IF(v < -d || v >= d, BL_ERR_MODEL, "node '%s' (Gather): index %" PRId64 " out of range for size %" PRId64,
                         NAME(nd), v, d);
        }
    }
    int64_t od[BL_MAX_RANK];
    int k = 0;
    for (int i = 0; i < ax; i++) od[k++] = x->dims[i];
    for (int i = 0; i < ix->rank; i++) od[k++] = ix->dims[i];
    for (int i = ax + 1; i < x->rank; i++) od[k++] = x->dims[i];
    return set_out(g, nd, 0, x->dtype, r, od);
}

/* Output shape = the values of input 0 (constant; BL_SHAPE_SYM_N becomes N); dtype = that of
 * input 1, the one-element fill value the loader made from the `value` attribute. */
static bl_status infer_constant_of_shape(bl_graph *g, const bl_node *nd) {
    const bl_tensor *v = in_t(g, nd, 1);
    int64_t d[BL_MAX_RANK];
    int n = 0;
    /* ONNX wants a 1-D shape; PyTorch's F.pad export feeds a scalar, which onnxruntime reads
     * as a one-value shape, so that is accepted too (const_ints rejects rank > 1). */
    BL_TRY(const_ints(g, nd, 0, "input", d, BL_MAX_RANK, &n));
    for (int i = 0; i < n; i++) {
        if (d[i] == BL_SHAPE_SYM_N) d[i] = BL_DIM_N;
        else BL_RETURN_IF(d[i] < 0, BL_ERR_MODEL, "node '%s' (ConstantOfShape): negative dimension %" PRId64, NAME(nd),
                          d[i]);
    }
    bl_dtype dt = BL_DT_FLOAT;
    if (v) {
        BL_RETURN_IF(!v->data || bl_tensor_numel(v, 1) != 1, BL_ERR_MODEL,
                     "node '%s' (ConstantOfShape): value must be a constant one-element tensor", NAME(nd));
        dt = v->dtype;
    }
    return set_out(g, nd, 0, dt, n, d);
}

static bl_status infer_pad(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0);
    const char *mode = bl_node_attr_str(nd, "mode", "constant");
    BL_RETURN_IF(strcmp(mode, "constant") && strcmp(mode, "reflect"), BL_ERR_MODEL,
                 "node '%s' (Pad): mode '%s' is not supported (constant, reflect)", NAME(nd), mode);
    int64_t p[2 * BL_MAX_RANK], ax[BL_MAX_RANK];
    int np = 0, na = x->rank;
    BL_TRY(const_ints(g, nd, 1, "pads", p, 2 * BL_MAX_RANK, &np));
    if (in_t(g, nd, 3)) BL_TRY(const_ints(g, nd, 3, "axes", ax, BL_MAX_RANK, &na));
    else
        for (int i = 0; i < na; i++) ax[i] = i;
    BL_RETURN_IF(np != 2 * na, BL_ERR_MODEL, "node '%s' (Pad): %d pads for %d axes", NAME(nd), np, na);
    int64_t od[BL_MAX_RANK];
    memcpy(od, x->dims, sizeof od);
    for (int i = 0; i < na; i++) {
        int a = 0;
        BL_TRY(norm_axis(nd, ax[i], x->rank, &a));
        int64_t pb = p[i], pe = p[i + na];
        if (pb == 0 && pe == 0) continue;
        BL_RETURN_IF(x->dims[a] < 0, BL_ERR_MODEL, "node '%s' (Pad): pads the batch dimension", NAME(nd));
        BL_RETURN_IF(pb < -x->dims[a] || pe < -x->dims[a] || pb > 65536 || pe > 65536, BL_ERR_MODEL,
                     "node '%s' (Pad): pads out of range", NAME(nd));
        BL_RETURN_IF(!strcmp(mode, "reflect") && (pb >= x->dims[a] || pe >= x->dims[a]), BL_ERR_MODEL,
                     "node '%s' (Pad): reflect pads must be smaller than the dimension", NAME(nd));
        od[a] = x->dims[a] + pb + pe;
        BL_RETURN_IF(od[a] < 0, BL_ERR_MODEL, "node '%s' (Pad): negative output size", NAME(nd));
    }
    return set_out(g, nd, 0, x->dtype, x->rank, od);
}

static bl_status infer_resize(bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = in_t(g, nd, 0), *sc = in_t(g, nd, 2);
    BL_TRY(need_float(nd, x));
    const char *mode = bl_node_attr_str(nd, "mode", "nearest");
    BL_RETURN_IF(strcmp(mode, "nearest") && strcmp(mode, "linear"), BL_ERR_MODEL,
                 "node '%s' (Resize): mode '%s' is not supported (nearest, linear)", NAME(nd), mode);
    const char *policy = bl_node_attr_str(nd, "keep_aspect_ratio_policy", "stretch");
    BL_RETURN_IF(strcmp(policy, "stretch") && strcmp(policy, "not_larger") && strcmp(policy, "not_smaller"),
                 BL_ERR_MODEL, "node '%s' (Resize): unknown keep_aspect_ratio_policy '%s' (stretch, not_larger, "
                 "not_smaller)", NAME(nd), policy);
    bool keep = strcmp(policy, "stretch") != 0, smaller = !strcmp(policy, "not_larger");
    int64_t ax[BL_MAX_RANK];
    size_t nax;
    const int64_t *axa = bl_node_attr_ints(nd, "axes", &nax);
    int na = axa ? (int)nax : x->rank;
    BL_RETURN_IF(na > x->rank, BL_ERR_MODEL, "node '%s' (Resize): too many axes", NAME(nd));
    for (int i = 0; i < na; i++) {
        int a = 0;
        BL_TRY(norm_axis(nd, axa ? axa[i] : i, x->rank, &a));
        ax[i] = a;
    }
    int64_t od[BL_MAX_RANK];
    memcpy(od, x->dims, sizeof od);
    int64_t sizes[BL_MAX_RANK];
    int ns = 0;
    if (in_t(g, nd, 3)) BL_TRY(const_ints(g, nd, 3, "sizes", sizes, BL_MAX_RANK, &ns));
    if (ns > 0) {
        BL_RETURN_IF(ns != na, BL_ERR_MODEL, "node '%s' (Resize): %d sizes for %d axes", NAME(nd), ns, na);
        /* keep_aspect_ratio_policy: one scale for all resized axes, the smallest (not_larger)
         * or largest (not_smaller) of sizes/in; each size becomes round_half_up(scale·in).
         * The batch axis keeps its size (its ratio counts as 1). */
        double scale = 0.0;
        for (int i = 0; keep && i < na; i++) {
            int a = (int)ax[i];
            double r = x->dims[a] < 0 ? 1.0 : x->dims[a] ? (double)sizes[i] / (double)x->dims[a] : 1.0;
            if (i == 0 || (smaller ? r < scale : r > scale)) scale = r;
        }
        for (int i = 0; i < na; i++) {
            int a = (int)ax[i];
            if (x->dims[a] < 0) {
                BL_RETURN_IF(sizes[i] != 1 && sizes[i] != BL_SHAPE_SYM_N, BL_ERR_MODEL,
                             "node '%s' (Resize): resizes the batch dimension", NAME(nd));
                continue;
            }
            BL_RETURN_IF(sizes[i] < 0, BL_ERR_MODEL, "node '%s' (Resize): negative size", NAME(nd));
            double kept = floor(scale * (double)x->dims[a] + 0.5);
            BL_RETURN_IF(keep && kept > (double)BL_MAX_TENSOR_ELEMS, BL_ERR_MODEL, "node '%s' (Resize): output too large",
                         NAME(nd));
            od[a] = keep ? (int64_t)kept : sizes[i];
        }
        return set_out(g, nd, 0, BL_DT_FLOAT, x->rank, od);
    }
    /* keep_aspect_ratio_policy only applies to sizes (ONNX): with scales it is ignored */
    BL_RETURN_IF(!sc || !sc->data || sc->dtype != BL_DT_FLOAT || sc->rank != 1, BL_ERR_MODEL,
                 "node '%s' (Resize): needs constant float scales or int64 sizes", NAME(nd));
    BL_RETURN_IF(sc->dims[0] != na, BL_ERR_MODEL, "node '%s' (Resize): %" PRId64 " scales for %d axes", NAME(nd),
                 sc->dims[0], na);
    const float *s = sc->data;
    for (int i = 0; i < na; i++) {
        int a = (int)ax[i];
        BL_RETURN_IF(!(s[i] > 0.f) || s[i] > 65536.f, BL_ERR_MODEL, "node '%s' (Resize): scale %g is invalid", NAME(nd),
                     (double)s[i]);
        if (x->dims[a] < 0) {
            BL_RETURN_IF(s[i] != 1.f, BL_ERR_MODEL, "node '%s' (Resize): scales the batch dimension", NAME(nd));
            continue;
        }
        od[a] = (int64_t)floor((double)x->dims[a] * (double)s[i]);
    }
    return set_out(g, nd, 0, BL_DT_FLOAT, x->rank, od);
}

/* ---- entry point ------------------------------------------------------------------------ */

bl_status bl_shape_infer_node(bl_graph *g, int ni) {
    const bl_node *nd = &g->nodes[ni];
    for (int k = 0; k < nd->n_inputs; k++) {
        const bl_tensor *t = in_t(g, nd, k);
        BL_RETURN_IF(t && (t->rank < 0 || t->dtype == BL_DT_UNDEFINED), BL_ERR_INTERNAL,
                     "node '%s' (%s): input '%s' has no inferred shape", NAME(nd), OPN(nd), t->name);
    }
    const bl_op_schema *sc = bl_op_schema_get(nd->op);
    BL_RETURN_IF(!sc, BL_ERR_INTERNAL, "node '%s': unknown op", NAME(nd));
    /* Required inputs may still be given as "" in a file: every rule below relies on them. */
    for (int k = 0; k < sc->min_inputs; k++)
        BL_RETURN_IF(!in_t(g, nd, k), BL_ERR_MODEL, "node '%s' (%s): required input %d is missing", NAME(nd), OPN(nd), k);
    BL_RETURN_IF(nd->n_outputs < 1 || nd->outputs[0] < 0, BL_ERR_MODEL, "node '%s' (%s): first output is missing",
                 NAME(nd), OPN(nd));
    const bl_tensor *x = in_t(g, nd, 0);
    switch (nd->op) {
    case BL_OP_CONV: case BL_OP_CONV_TRANSPOSE:
        return infer_conv(g, nd);
    case BL_OP_MAX_POOL: case BL_OP_AVERAGE_POOL: case BL_OP_GLOBAL_AVERAGE_POOL: case BL_OP_GLOBAL_MAX_POOL:
        return infer_pool(g, nd);
    case BL_OP_BATCH_NORM: case BL_OP_INSTANCE_NORM: case BL_OP_LAYER_NORM:
        return infer_norm(g, nd);
    case BL_OP_RELU: case BL_OP_LEAKY_RELU: case BL_OP_ELU: case BL_OP_SELU: case BL_OP_SIGMOID:
    case BL_OP_HARD_SIGMOID: case BL_OP_HARD_SWISH: case BL_OP_TANH: case BL_OP_SOFTPLUS: case BL_OP_ERF:
    case BL_OP_GELU: case BL_OP_SQRT: case BL_OP_EXP: case BL_OP_LOG: case BL_OP_NEG: case BL_OP_ABS:
    case BL_OP_IDENTITY:
        return same_as(g, nd, 0, x);
    case BL_OP_CLIP:
        for (int k = 1; k < nd->n_inputs; k++) {
            const bl_tensor *t = in_t(g, nd, k);
            BL_RETURN_IF(t && bl_tensor_numel(t, 1) != 1, BL_ERR_MODEL, "node '%s' (Clip): min/max must be scalars",
                         NAME(nd));
        }
        return same_as(g, nd, 0, x);
    case BL_OP_PRELU: {
        shp acc = {x->rank, {0}};
        memcpy(acc.d, x->dims, sizeof acc.d);
        BL_TRY(broadcast(nd, &acc, in_t(g, nd, 1)));
        BL_RETURN_IF(acc.rank != x->rank || memcmp(acc.d, x->dims, (size_t)x->rank * sizeof(int64_t)), BL_ERR_MODEL,
                     "node '%s' (PRelu): slope does not broadcast to the input", NAME(nd));
        return same_as(g, nd, 0, x);
    }
    case BL_OP_ADD: case BL_OP_SUB: case BL_OP_MUL: case BL_OP_DIV: case BL_OP_POW: case BL_OP_MIN:
    case BL_OP_MAX: {
        shp acc = {x->rank, {0}};
        memcpy(acc.d, x->dims, sizeof acc.d);
        for (int k = 1; k < nd->n_inputs; k++) {
            const bl_tensor *t = in_t(g, nd, k);
            BL_RETURN_IF(!t, BL_ERR_MODEL, "node '%s' (%s): input %d missing", NAME(nd), OPN(nd), k);
            BL_RETURN_IF(nd->op != BL_OP_POW && t->dtype != x->dtype, BL_ERR_MODEL,
                         "node '%s' (%s): inputs are %s and %s", NAME(nd), OPN(nd), bl_dtype_name(x->dtype),
                         bl_dtype_name(t->dtype));
            BL_TRY(broadcast(nd, &acc, t));
        }
        return set_out(g, nd, 0, x->dtype, acc.rank, acc.d);
    }
    case BL_OP_REDUCE_MEAN: case BL_OP_REDUCE_MAX: case BL_OP_REDUCE_SUM: case BL_OP_REDUCE_L2:
        return infer_reduce(g, nd);
    case BL_OP_GEMM:
        return infer_gemm(g, nd);
    case BL_OP_MATMUL:
        return infer_matmul(g, nd);
    case BL_OP_FLATTEN:
        return infer_flatten(g, nd);
    case BL_OP_RESHAPE:
        return infer_reshape(g, nd);
    case BL_OP_SQUEEZE: case BL_OP_UNSQUEEZE:
        return infer_squeeze(g, nd);
    case BL_OP_TRANSPOSE:
        return infer_transpose(g, nd);
    case BL_OP_CONCAT:
        return infer_concat(g, nd);
    case BL_OP_SPLIT:
        return infer_split(g, nd);
    case BL_OP_SLICE:
        return infer_slice(g, nd);
    case BL_OP_GATHER:
        return infer_gather(g, nd);
    case BL_OP_PAD:
        return infer_pad(g, nd);
    case BL_OP_SOFTMAX: case BL_OP_LOG_SOFTMAX: {
        int ax = 0;
        BL_TRY(norm_axis(nd, bl_node_attr_int(nd, "axis", -1), x->rank, &ax));
        return same_as(g, nd, 0, x);
    }
    case BL_OP_DROPOUT:
        BL_TRY(same_as(g, nd, 0, x));
        return set_out(g, nd, 1, BL_DT_BOOL, x->rank, x->dims);
    case BL_OP_SHAPE: {
        int64_t len = x->rank, s = bl_node_attr_int(nd, "start", 0), e = bl_node_attr_int(nd, "end", x->rank);
        if (s < 0) s += x->rank;
        if (e < 0) e += x->rank;
        s = s < 0 ? 0 : (s > x->rank ? x->rank : s);
        e = e < 0 ? 0 : (e > x->rank ? x->rank : e);
        len = e > s ? e - s : 0;
        return set_out(g, nd, 0, BL_DT_INT64, 1, &len);
    }
    case BL_OP_CAST: {
        int64_t to = bl_node_attr_int(nd, "to", 0);
        BL_RETURN_IF(to != BL_DT_FLOAT && to != BL_DT_INT64 && to != BL_DT_INT32 && to != BL_DT_DOUBLE &&
                         to != BL_DT_BOOL && to != BL_DT_UINT8 && to != BL_DT_INT8,
                     BL_ERR_MODEL, "node '%s' (Cast): target type %" PRId64 " is not supported", NAME(nd), to);
        return set_out(g, nd, 0, (bl_dtype)to, x->rank, x->dims);
    }
    case BL_OP_RESIZE:
        return infer_resize(g, nd);
    case BL_OP_CONSTANT_OF_SHAPE:
        return infer_constant_of_shape(g, nd);
    case BL_OP_CONSTANT: case BL_OP_NONE: case BL_OP_COUNT:
        break;
    }
    return BL_ERROR(BL_ERR_INTERNAL, "node '%s': no shape rule for op %s", NAME(nd), OPN(nd));
}
