/* cpu_shape_ops.c — data-movement ops of the CPU executor in plain C.
 *
 * Defines bl_cpu_check_shape and bl_cpu_prepare_shape for the views (Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity, Dropout: no step at all, memplan.c aliases their buffer),
 * Transpose, Concat, Split, Slice, Gather, Pad (constant, reflect, edge), Cast, Resize
 * (nearest, linear; every coordinate_transformation_mode but tf_crop_and_resize), Shape
 * and ConstantOfShape (when not folded) and Constant (nothing to do). Works on any element
 * size, so int64 tensors move like float32 ones. Owns each step's parameter block.
 * Threading: steps run on one thread; the copies fork OpenMP teams over rows.
 */
#include <math.h>   /* floorf, ceilf, roundf */
#include <stdint.h> /* uint32_t */
#include <stdlib.h> /* calloc */
#include <string.h> /* memcpy, strcmp */

#include "models/cpu_exec.h" /* bl_cpu_exec, helpers */

const char *bl_cpu_check_shape(const bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = bl_node_input(g, nd, 0);
    if (x && x->dtype != BL_DT_FLOAT && x->dtype != BL_DT_INT64 && nd->op != BL_OP_CAST && nd->op != BL_OP_SHAPE)
        return "only float32 and int64 tensors are supported";
    if (nd->op == BL_OP_CONSTANT_OF_SHAPE) {
        const bl_tensor *v = bl_node_input(g, nd, 1);
        if (bl_dtype_size(g->tensors[nd->outputs[0]].dtype) == 0) return "unsupported output type";
        if (v && (!v->data || v->dtype != g->tensors[nd->outputs[0]].dtype || bl_tensor_numel(v, 1) != 1))
            return "the value input must be a one-element constant of the output's type";
        return NULL;
    }
    if (nd->op == BL_OP_DROPOUT && nd->n_outputs > 1 && nd->outputs[1] >= 0) return "the mask output is not supported";
    for (int k = 1; k < nd->n_inputs; k++) {
        const bl_tensor *t = bl_node_input(g, nd, k);
        if (!t) continue;
        bool param = (nd->op == BL_OP_SLICE || nd->op == BL_OP_PAD || nd->op == BL_OP_RESIZE || nd->op == BL_OP_SPLIT ||
                      nd->op == BL_OP_RESHAPE || nd->op == BL_OP_SQUEEZE || nd->op == BL_OP_UNSQUEEZE);
        if (param && !t->data) return "shape parameters (pads, starts, scales...) must be constant";
    }
    if (nd->op == BL_OP_CAST) {
        const bl_tensor *y = &g->tensors[nd->outputs[0]];
        if (bl_dtype_size(x->dtype) == 0 || bl_dtype_size(y->dtype) == 0) return "cast between unsupported types";
    }
    if (nd->op == BL_OP_PAD) {
        const char *m = bl_node_attr_str(nd, "mode", "constant");
        if (strcmp(m, "constant") && strcmp(m, "reflect") && strcmp(m, "edge")) return "pad mode must be constant, reflect or edge";
    }
    if (nd->op == BL_OP_RESIZE) {
        const char *m = bl_node_attr_str(nd, "mode", "nearest");
        if (strcmp(m, "nearest") && strcmp(m, "linear")) return "Resize mode must be nearest or linear (cubic is not supported)";
        const char *c = bl_node_attr_str(nd, "coordinate_transformation_mode", "half_pixel");
        if (!strcmp(c, "tf_crop_and_resize")) return "coordinate_transformation_mode tf_crop_and_resize is not supported";
        if (bl_node_attr_int(nd, "antialias", 0)) return "antialias is not supported";
        if (x->dtype != BL_DT_FLOAT) return "Resize needs float32 input";
    }
    return NULL;
}

static size_t esize(const bl_cpu_exec *ex, int t) { return bl_dtype_size(ex->g->tensors[t].dtype); }

/* dst (dense, dims od) = src at base + sum(i_k * st_k) elements of size es. */
static void strided_copy(void *dst, const void *src, size_t es, int r, const int64_t *od, const int64_t *st,
                         int64_t base) {
    int64_t rows = 1, len = r ? od[r - 1] : 1, sl = r ? st[r - 1] : 0;
    for (int i = 0; i < r - 1; i++) rows *= od[i];
#pragma omp parallel for if (rows * len > 65536)
    for (int64_t row = 0; row < rows; row++) {
        int64_t off = base, rem = row;
        for (int i = r - 2; i >= 0; i--) off += (rem % od[i]) * st[i], rem /= od[i];
        char *d = (char *)dst + (size_t)(row * len) * es;
        const char *s = (const char *)src;
        if (sl == 1) memcpy(d, s + (size_t)off * es, (size_t)len * es);
        else if (es == 4)
            for (int64_t j = 0; j < len; j++) ((float *)d)[j] = ((const float *)s)[off + j * sl];
        else
            for (int64_t j = 0; j < len; j++) memcpy(d + j * es, s + (size_t)(off + j * sl) * es, es);
    }
}

static void strides_of(const int64_t *d, int r, int64_t *st) {
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) st[i] = s, s *= d[i];
}

static int64_t read_int(const bl_tensor *t, int64_t i) {
    if (t->dtype == BL_DT_INT32) return ((const int32_t *)t->data)[i];
    int64_t v;
    memcpy(&v, (const int64_t *)t->data + i, 8);
    return v;
}

/* ---- Transpose ---- */
static bl_status run_transpose(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const int64_t *perm = st->priv;
    int64_t dx[BL_MAX_RANK], dy[BL_MAX_RANK], sx[BL_MAX_RANK], s[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, nd->inputs[0], n, dx);
    bl_cpu_dims(ex, nd->outputs[0], n, dy);
    strides_of(dx, r, sx);
    for (int i = 0; i < r; i++) s[i] = sx[perm[i]];
    strided_copy(ex->ptr[nd->outputs[0]], ex->ptr[nd->inputs[0]], esize(ex, nd->inputs[0]), r, dy, s, 0);
    return BL_OK;
}

/* ---- Concat / Split ---- */
static bl_status run_concat_split(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    int axis = *(const int *)st->priv;
    bool concat = nd->op == BL_OP_CONCAT;
    int big = concat ? nd->outputs[0] : nd->inputs[0];
    int64_t d[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, big, n, d);
    size_t es = esize(ex, big);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= d[i];
    for (int i = axis + 1; i < r; i++) inner *= d[i];
    int nparts = concat ? nd->n_inputs : nd->n_outputs;
    int64_t pos = 0;
    for (int k = 0; k < nparts; k++) {
        int t = concat ? nd->inputs[k] : nd->outputs[k];
        if (t < 0) continue;
        int64_t dp[BL_MAX_RANK];
        bl_cpu_dims(ex, t, n, dp);
        int64_t chunk = dp[axis] * inner;
        char *bigp = ex->ptr[big];
        char *part = ex->ptr[t];
        for (int64_t o = 0; o < outer; o++) {
            char *b = bigp + (size_t)((o * d[axis] * inner) + pos * inner) * es;
            char *p = part + (size_t)(o * chunk) * es;
            if (concat) memcpy(b, p, (size_t)chunk * es);
            else memcpy(p, b, (size_t)chunk * es);
        }
        pos += dp[axis];
    }
    return BL_OK;
}

/* ---- Slice ---- */
typedef struct {
    int64_t start[BL_MAX_RANK], step[BL_MAX_RANK]; /* resolved per axis (for batch n: see run) */
    bool sliced[BL_MAX_RANK];
    int64_t s_raw[BL_MAX_RANK], e_raw[BL_MAX_RANK];
} slice_params;

static bl_status run_slice(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const slice_params *p = st->priv;
    int64_t dx[BL_MAX_RANK], dy[BL_MAX_RANK], sx[BL_MAX_RANK], s[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, nd->inputs[0], n, dx);
    bl_cpu_dims(ex, nd->outputs[0], n, dy);
    strides_of(dx, r, sx);
    int64_t base = 0;
    for (int i = 0; i < r; i++) {
        int64_t start = 0, step = 1;
        if (p->sliced[i]) {
            step = p->step[i];
            start = p->s_raw[i];
            if (start < 0) start += dx[i];
            if (step > 0) start = start < 0 ? 0 : (start > dx[i] ? dx[i] : start);
            else start = start < 0 ? -1 : (start > dx[i] - 1 ? dx[i] - 1 : start);
        }
        s[i] = sx[i] * step;
        if (dy[i] > 0) base += start * sx[i];
    }
    for (int i = 0; i < r; i++)
        if (dy[i] == 0) return BL_OK;
    strided_copy(ex->ptr[nd->outputs[0]], ex->ptr[nd->inputs[0]], esize(ex, nd->inputs[0]), r, dy, s, base);
    return BL_OK;
}

static bl_status prepare_slice(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_node *nd = st->node;
    const bl_tensor *x = bl_node_input(ex->g, nd, 0);
    slice_params *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    st->priv = p;
    const bl_tensor *ts = bl_node_input(ex->g, nd, 1), *te = bl_node_input(ex->g, nd, 2);
    const bl_tensor *ta = bl_node_input(ex->g, nd, 3), *tp = bl_node_input(ex->g, nd, 4);
    BL_RETURN_IF(!ts || !te, BL_ERR_MODEL, "Slice needs starts and ends");
    int64_t cnt = bl_tensor_numel(ts, 1);
    BL_RETURN_IF(cnt > BL_MAX_RANK, BL_ERR_MODEL, "too many slice axes");
    for (int64_t k = 0; k < cnt; k++) {
        int64_t a = ta ? read_int(ta, k) : k;
        if (a < 0) a += x->rank;
        BL_RETURN_IF(a < 0 || a >= x->rank, BL_ERR_MODEL, "slice axis out of range");
        int64_t step = tp ? read_int(tp, k) : 1;
        BL_RETURN_IF(step == 0, BL_ERR_MODEL, "slice step 0");
        p->sliced[a] = true;
        p->s_raw[a] = read_int(ts, k);
        p->e_raw[a] = read_int(te, k);
        p->step[a] = step;
    }
    st->run = run_slice;
    return BL_OK;
}

/* ---- Gather ---- */
static bl_status run_gather(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    int axis = *(const int *)st->priv;
    int64_t dx[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, nd->inputs[0], n, dx);
    const bl_tensor *ti = &ex->g->tensors[nd->inputs[1]];
    int64_t ni = bl_tensor_numel(ti, n);
    size_t es = esize(ex, nd->inputs[0]);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= dx[i];
    for (int i = axis + 1; i < r; i++) inner *= dx[i];
    const char *x = ex->ptr[nd->inputs[0]];
    char *y = ex->ptr[nd->outputs[0]];
    const void *idx = ex->ptr[nd->inputs[1]];
    for (int64_t j = 0; j < ni; j++) {
        int64_t v = ti->dtype == BL_DT_INT32 ? ((const int32_t *)idx)[j] : ((const int64_t *)idx)[j];
        if (v < 0) v += dx[axis];
        BL_RETURN_IF(v < 0 || v >= dx[axis], BL_ERR_RANGE, "Gather index %lld out of range for axis size %lld",
                     (long long)v, (long long)dx[axis]);
        for (int64_t o = 0; o < outer; o++)
            memcpy(y + (size_t)((o * ni + j) * inner) * es, x + (size_t)((o * dx[axis] + v) * inner) * es,
                   (size_t)inner * es);
    }
    return BL_OK;
}

/* ---- Pad ---- */
typedef struct {
    int64_t begin[BL_MAX_RANK];
    int mode; /* 0 constant, 1 reflect, 2 edge */
    double value;
} pad_params;

static bl_status run_pad(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const pad_params *p = st->priv;
    int64_t dx[BL_MAX_RANK], dy[BL_MAX_RANK], sx[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, nd->inputs[0], n, dx);
    bl_cpu_dims(ex, nd->outputs[0], n, dy);
    strides_of(dx, r, sx);
    int64_t total = bl_cpu_numel(ex, nd->outputs[0], n);
    bool f = ex->g->tensors[nd->inputs[0]].dtype == BL_DT_FLOAT;
    const void *x = ex->ptr[nd->inputs[0]];
    void *y = ex->ptr[nd->outputs[0]];
    for (int i = 0; i < r; i++)
        BL_RETURN_IF(p->mode != 0 && dx[i] == 0 && dy[i] > 0, BL_ERR_MODEL, "cannot reflect/edge-pad an empty axis");
#pragma omp parallel for if (total > 65536)
    for (int64_t o = 0; o < total; o++) {
        int64_t rem = o, off = 0;
        bool out = false;
        for (int i = r - 1; i >= 0; i--) {
            int64_t c = rem % dy[i] - p->begin[i];
            rem /= dy[i];
            if (c < 0 || c >= dx[i]) {
                if (p->mode == 0) { out = true; break; }
                if (p->mode == 2) c = c < 0 ? 0 : dx[i] - 1;
                else if (dx[i] == 1) c = 0;
                else {
                    int64_t per = 2 * (dx[i] - 1);
                    c = ((c % per) + per) % per;
                    if (c >= dx[i]) c = per - c;
                }
            }
            off += c * sx[i];
        }
        if (f) ((float *)y)[o] = out ? (float)p->value : ((const float *)x)[off];
        else ((int64_t *)y)[o] = out ? (int64_t)p->value : ((const int64_t *)x)[off];
    }
    return BL_OK;
}

static bl_status prepare_pad(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_node *nd = st->node;
    const bl_tensor *x = bl_node_input(ex->g, nd, 0);
    pad_params *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    st->priv = p;
    const char *m = bl_node_attr_str(nd, "mode", "constant");
    p->mode = !strcmp(m, "reflect") ? 1 : !strcmp(m, "edge") ? 2 : 0;
    const bl_tensor *tp = bl_node_input(ex->g, nd, 1), *tv = bl_node_input(ex->g, nd, 2), *ta = bl_node_input(ex->g, nd, 3);
    BL_RETURN_IF(!tp, BL_ERR_MODEL, "Pad needs its pads input");
    if (tv && tv->data && bl_tensor_numel(tv, 1) > 0)
        p->value = tv->dtype == BL_DT_FLOAT ? *(const float *)tv->data : (double)read_int(tv, 0);
    BL_RETURN_IF(tv && !tv->data, BL_ERR_MODEL, "Pad constant_value must be constant");
    int64_t na = ta ? bl_tensor_numel(ta, 1) : x->rank;
    BL_RETURN_IF(na > BL_MAX_RANK || bl_tensor_numel(tp, 1) != 2 * na, BL_ERR_MODEL, "Pad: pads/axes lengths disagree");
    for (int64_t k = 0; k < na; k++) {
        int64_t a = ta ? read_int(ta, k) : k;
        if (a < 0) a += x->rank;
        BL_RETURN_IF(a < 0 || a >= x->rank, BL_ERR_MODEL, "Pad axis out of range");
        p->begin[a] = read_int(tp, k);
    }
    st->run = run_pad;
    return BL_OK;
}

/* ---- Cast ---- */
static double cast_load(const void *p, bl_dtype dt, int64_t i) {
    switch (dt) {
    case BL_DT_FLOAT: return ((const float *)p)[i];
    case BL_DT_DOUBLE: return ((const double *)p)[i];
    case BL_DT_INT64: return (double)((const int64_t *)p)[i];
    case BL_DT_INT32: return ((const int32_t *)p)[i];
    case BL_DT_INT8: return ((const int8_t *)p)[i];
    case BL_DT_UINT8: return ((const uint8_t *)p)[i];
    case BL_DT_BOOL: return ((const uint8_t *)p)[i] != 0;
    default: return 0;
    }
}

static bl_status run_cast(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    bl_dtype di = ex->g->tensors[nd->inputs[0]].dtype, dout = ex->g->tensors[nd->outputs[0]].dtype;
    const void *x = ex->ptr[nd->inputs[0]];
    void *y = ex->ptr[nd->outputs[0]];
    int64_t cnt = bl_cpu_numel(ex, nd->outputs[0], n);
    if (di == dout) {
        memmove(y, x, (size_t)cnt * bl_dtype_size(di));
        return BL_OK;
    }
    for (int64_t i = 0; i < cnt; i++) {
        if (di == BL_DT_INT64 && dout == BL_DT_INT32) { ((int32_t *)y)[i] = (int32_t)((const int64_t *)x)[i]; continue; }
        double v = cast_load(x, di, i);
        switch (dout) {
        case BL_DT_FLOAT: ((float *)y)[i] = (float)v; break;
        case BL_DT_DOUBLE: ((double *)y)[i] = v; break;
        case BL_DT_INT64: ((int64_t *)y)[i] = isfinite(v) ? (int64_t)v : INT64_MIN; break;
        case BL_DT_INT32: ((int32_t *)y)[i] = isfinite(v) ? (int32_t)v : INT32_MIN; break;
        case BL_DT_INT8: ((int8_t *)y)[i] = (int8_t)(int)v; break;
        case BL_DT_UINT8: ((uint8_t *)y)[i] = (uint8_t)(int)v; break;
        case BL_DT_BOOL: ((uint8_t *)y)[i] = v != 0; break;
        default: break;
        }
    }
    return BL_OK;
}

/* ---- Shape (only when not folded) ---- */
static bl_status run_shape(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    int64_t d[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, nd->inputs[0], n, d);
    int64_t start = bl_node_attr_int(nd, "start", 0), end = bl_node_attr_int(nd, "end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = start < 0 ? 0 : (start > r ? r : start);
    end = end < 0 ? 0 : (end > r ? r : end);
    int64_t *y = ex->ptr[nd->outputs[0]];
    for (int64_t i = start; i < end; i++) y[i - start] = d[i];
    return BL_OK;
}

/* ---- ConstantOfShape (only when not folded) ---- */
/* The output dims carry the shape input's values with N symbolic (shape.c), so the shape
 * input itself is never read; input 1 (one element, the output's dtype) is the fill value,
 * read through ex->ptr so that a value standing for N arrives substituted. */
static bl_status run_constant_of_shape(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    int64_t cnt = bl_cpu_numel(ex, nd->outputs[0], n);
    size_t es = esize(ex, nd->outputs[0]);
    char *y = ex->ptr[nd->outputs[0]];
    const char *v = nd->n_inputs > 1 && nd->inputs[1] >= 0 ? ex->ptr[nd->inputs[1]] : NULL;
    if (!v) {
        memset(y, 0, (size_t)cnt * es);
        return BL_OK;
    }
    if (es == 4) {
        uint32_t w;
        memcpy(&w, v, 4);
#pragma omp parallel for if (cnt > 65536)
        for (int64_t i = 0; i < cnt; i++) ((uint32_t *)y)[i] = w;
    } else {
        for (int64_t i = 0; i < cnt; i++) memcpy(y + (size_t)i * es, v, es);
    }
    return BL_OK;
}

/* ---- Resize ---- */
typedef struct {
    float scale[BL_MAX_RANK]; /* 0 = out/in */
    int coord;                /* 0 half_pixel, 1 asymmetric, 2 align_corners, 3 pytorch_half_pixel, 4 half_pixel_symmetric */
    int nearest;              /* 0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil */
    bool linear;
    bool scale_given;
} resize_params;

static float orig_coord(const resize_params *p, float x, float scale, int64_t in, int64_t out) {
    switch (p->coord) {
    case 1: return x / scale;
    case 2: { /* ONNX uses the unrounded resized length in·scale when scales are given */
        float len = p->scale_given ? (float)in * scale : (float)out;
        return len <= 1.f ? 0.f : x * (float)(in - 1) / (len - 1.f);
    }
    case 3: return out > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
    case 4: {
        float adj = (float)out / (scale * (float)in), center = (float)in / 2.f;
        return center * (1.f - adj) + (x + 0.5f) / scale - 0.5f;
    }
    default: return (x + 0.5f) / scale - 0.5f;
    }
}

static bl_status run_resize(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const resize_params *p = st->priv;
    int64_t dx[BL_MAX_RANK], dy[BL_MAX_RANK], sx[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, nd->inputs[0], n, dx);
    bl_cpu_dims(ex, nd->outputs[0], n, dy);
    strides_of(dx, r, sx);
    /* per-axis tables: i0, i1, w (nearest: i0 only) */
    int64_t tot_out = 0;
    for (int i = 0; i < r; i++) tot_out += dy[i];
    size_t need = (size_t)tot_out * (2 * sizeof(int64_t) + sizeof(float));
    unsigned char *ws = bl_cpu_workspace(ex, need ? need : 64);
    BL_CHECK_ALLOC(ws);
    int64_t *i0 = (int64_t *)ws, *i1 = i0 + tot_out;
    float *w = (float *)(i1 + tot_out);
    int64_t base[BL_MAX_RANK], acc = 0;
    for (int a = 0; a < r; a++) {
        base[a] = acc;
        float scale = p->scale[a] > 0.f ? p->scale[a] : (dx[a] ? (float)dy[a] / (float)dx[a] : 1.f);
        for (int64_t o = 0; o < dy[a]; o++) {
            float xo = (dx[a] == dy[a] && p->scale[a] <= 0.f) ? (float)o : orig_coord(p, (float)o, scale, dx[a], dy[a]);
            int64_t a0, a1;
            float ww = 0.f;
            if (p->linear) {
                if (xo < 0.f) xo = 0.f;
                if (xo > (float)(dx[a] - 1)) xo = (float)(dx[a] - 1);
                a0 = (int64_t)floorf(xo);
                a1 = a0 + 1 < dx[a] ? a0 + 1 : dx[a] - 1;
                ww = xo - (float)a0;
            } else {
                float f = floorf(xo), fr = xo - f;
                switch (p->nearest) {
                case 1: a0 = (int64_t)(fr >= 0.5f ? f + 1 : f); break;
                case 2: a0 = (int64_t)f; break;
                case 3: a0 = (int64_t)ceilf(xo); break;
                default: a0 = (int64_t)(fr > 0.5f ? f + 1 : f); break;
                }
                if (a0 < 0) a0 = 0;
                if (a0 > dx[a] - 1) a0 = dx[a] - 1;
                a1 = a0;
            }
            i0[acc + o] = a0, i1[acc + o] = a1, w[acc + o] = ww;
        }
        acc += dy[a];
    }
    const float *x = ex->ptr[nd->inputs[0]];
    float *y = ex->ptr[nd->outputs[0]];
    int64_t total = bl_cpu_numel(ex, nd->outputs[0], n);
    int lin_axes[BL_MAX_RANK], nl = 0;
    if (p->linear)
        for (int a = 0; a < r; a++)
            if (dx[a] != dy[a] || p->scale[a] > 0.f) lin_axes[nl++] = a;
#pragma omp parallel for if (total > 16384)
    for (int64_t o = 0; o < total; o++) {
        int64_t c[BL_MAX_RANK], rem = o, off0 = 0;
        for (int a = r - 1; a >= 0; a--) c[a] = rem % dy[a], rem /= dy[a];
        for (int a = 0; a < r; a++) off0 += i0[base[a] + c[a]] * sx[a];
        if (nl == 0) {
            y[o] = x[off0];
            continue;
        }
        float v = 0.f;
        for (int m = 0; m < (1 << nl); m++) {
            int64_t off = off0;
            float wt = 1.f;
            for (int k = 0; k < nl; k++) {
                int a = lin_axes[k];
                float ww = w[base[a] + c[a]];
                if (m >> k & 1) off += (i1[base[a] + c[a]] - i0[base[a] + c[a]]) * sx[a], wt *= ww;
                else wt *= 1.f - ww;
            }
            if (wt != 0.f) v += wt * x[off];
        }
        y[o] = v;
    }
    return BL_OK;
}

static bl_status prepare_resize(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_node *nd = st->node;
    const bl_tensor *x = bl_node_input(ex->g, nd, 0);
    resize_params *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    st->priv = p;
    p->linear = !strcmp(bl_node_attr_str(nd, "mode", "nearest"), "linear");
    const char *c = bl_node_attr_str(nd, "coordinate_transformation_mode", "half_pixel");
    p->coord = !strcmp(c, "asymmetric") ? 1 : !strcmp(c, "align_corners") ? 2 : !strcmp(c, "pytorch_half_pixel") ? 3
             : !strcmp(c, "half_pixel_symmetric") ? 4 : 0;
    const char *nm = bl_node_attr_str(nd, "nearest_mode", "round_prefer_floor");
    p->nearest = !strcmp(nm, "round_prefer_ceil") ? 1 : !strcmp(nm, "floor") ? 2 : !strcmp(nm, "ceil") ? 3 : 0;
    const bl_tensor *ts = bl_node_input(ex->g, nd, 2);
    if (ts && ts->data && bl_tensor_numel(ts, 1) > 0) {
        p->scale_given = true;
        size_t na = 0;
        const int64_t *axes = bl_node_attr_ints(nd, "axes", &na);
        int64_t cnt = bl_tensor_numel(ts, 1);
        BL_RETURN_IF(cnt > BL_MAX_RANK, BL_ERR_MODEL, "too many scales");
        for (int64_t k = 0; k < cnt; k++) {
            int64_t a = na ? axes[k] : k;
            if (a < 0) a += x->rank;
            BL_RETURN_IF(a < 0 || a >= x->rank, BL_ERR_MODEL, "Resize axis out of range");
            p->scale[a] = ((const float *)ts->data)[k];
        }
    }
    /* keep_aspect_ratio_policy with sizes: ONNX maps coordinates with the one shared scale
     * (min or max of sizes/in over the listed axes, as shape.c sized the output), not with
     * each axis's out/in; the batch axis counts as ratio 1 and keeps its size. */
    const bl_tensor *tz = bl_node_input(ex->g, nd, 3);
    const char *policy = bl_node_attr_str(nd, "keep_aspect_ratio_policy", "stretch");
    if (!p->scale_given && tz && tz->data && strcmp(policy, "stretch")) {
        bool smaller = !strcmp(policy, "not_larger");
        size_t na = 0;
        const int64_t *axes = bl_node_attr_ints(nd, "axes", &na);
        int64_t cnt = bl_tensor_numel(tz, 1);
        BL_RETURN_IF(cnt > BL_MAX_RANK || (na && (int64_t)na != cnt), BL_ERR_MODEL, "Resize: sizes/axes lengths disagree");
        int ax[BL_MAX_RANK];
        double scale = 0.0;
        for (int64_t k = 0; k < cnt; k++) {
            int64_t a = na ? axes[k] : k;
            if (a < 0) a += x->rank;
            BL_RETURN_IF(a < 0 || a >= x->rank, BL_ERR_MODEL, "Resize axis out of range");
            ax[k] = (int)a;
            int64_t d = x->dims[a];
            double r = d < 0 || d == 0 ? 1.0 : (double)read_int(tz, k) / (double)d;
            if (k == 0 || (smaller ? r < scale : r > scale)) scale = r;
        }
        for (int64_t k = 0; k < cnt; k++)
            if (x->dims[ax[k]] >= 0) p->scale[ax[k]] = (float)scale;
        p->scale_given = cnt > 0;
    }
    st->run = run_resize;
    return BL_OK;
}

static bl_status axis_param(bl_cpu_exec *ex, bl_cpu_step *st, int64_t dflt, int rank) {
    int *a = malloc(sizeof *a);
    BL_CHECK_ALLOC(a);
    st->priv = a;
    int64_t v = bl_node_attr_int(st->node, "axis", dflt);
    if (v < 0) v += rank;
    BL_RETURN_IF(v < 0 || v >= (rank ? rank : 1), BL_ERR_MODEL, "axis out of range");
    *a = (int)v;
    (void)ex;
    return BL_OK;
}

bl_status bl_cpu_prepare_shape(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_node *nd = st->node;
    const bl_tensor *x = bl_node_input(ex->g, nd, 0);
    switch (nd->op) {
    case BL_OP_RESHAPE: case BL_OP_FLATTEN: case BL_OP_SQUEEZE: case BL_OP_UNSQUEEZE: case BL_OP_IDENTITY:
    case BL_OP_DROPOUT: case BL_OP_CONSTANT:
        return BL_OK; /* views (memplan.c aliases the buffer) or nothing to do */
    case BL_OP_TRANSPOSE: {
        int64_t *perm = malloc(BL_MAX_RANK * sizeof *perm);
        BL_CHECK_ALLOC(perm);
        st->priv = perm;
        size_t np;
        const int64_t *pa = bl_node_attr_ints(nd, "perm", &np);
        BL_RETURN_IF(np && (int)np != x->rank, BL_ERR_MODEL, "perm has %zu entries for rank %d", np, x->rank);
        for (int i = 0; i < x->rank; i++) {
            perm[i] = np ? (pa[i] < 0 ? pa[i] + x->rank : pa[i]) : x->rank - 1 - i;
            BL_RETURN_IF(perm[i] < 0 || perm[i] >= x->rank, BL_ERR_MODEL, "perm out of range");
        }
        st->run = run_transpose;
        return BL_OK;
    }
    case BL_OP_CONCAT: case BL_OP_SPLIT:
        st->run = run_concat_split;
        return axis_param(ex, st, 0, nd->op == BL_OP_CONCAT ? ex->g->tensors[nd->outputs[0]].rank : x->rank);
    case BL_OP_GATHER:
        st->run = run_gather;
        return axis_param(ex, st, 0, x->rank);
    case BL_OP_SLICE: return prepare_slice(ex, st);
    case BL_OP_PAD: return prepare_pad(ex, st);
    case BL_OP_CAST: st->run = run_cast; return BL_OK;
    case BL_OP_SHAPE: st->run = run_shape; return BL_OK;
    case BL_OP_CONSTANT_OF_SHAPE: st->run = run_constant_of_shape; return BL_OK;
    case BL_OP_RESIZE: return prepare_resize(ex, st);
    default: return BL_ERROR(BL_ERR_INTERNAL, "no CPU kernel for %s", bl_op_name(nd->op));
    }
}
