/* cpu_reduce.c — reductions, normalisations and matrix products of the CPU executor.
 *
 * Defines bl_cpu_check_reduce and bl_cpu_prepare_reduce for GlobalAveragePool,
 * GlobalMaxPool, ReduceMean/Max/Sum/L2, Softmax, LogSoftmax, BatchNormalization (inference,
 * when not folded into a Conv), InstanceNormalization, LayerNormalization (plain C over an
 * [outer, len, inner] view of the tensor, OpenMP over outer×inner), and Gemm/MatMul
 * (oneDNN's dnnl_sgemm, row-major, multithreaded; a Gemm with constant weights goes to
 * cpu_ip.c instead (packed once); a MatMul whose B is 2-D folds the
 * batch into M so it is one call). Owns each step's parameter block.
 * Threading: steps run on one thread; loops fork OpenMP teams.
 */
#include <math.h>   /* sqrtf, expf, logf, INFINITY */
#include <omp.h>    /* omp_set_num_threads: small products run on one thread */
#include <stdlib.h> /* calloc */
#include <string.h> /* memcpy */

#include "models/cpu_exec.h" /* bl_cpu_exec, helpers */

const char *bl_cpu_check_reduce(const bl_graph *g, const bl_node *nd) {
    for (int k = 0; k < nd->n_inputs; k++) {
        const bl_tensor *t = bl_node_input(g, nd, k);
        if (!t) continue;
        bool axes_input = k == 1 && (nd->op == BL_OP_REDUCE_MEAN || nd->op == BL_OP_REDUCE_MAX ||
                                     nd->op == BL_OP_REDUCE_SUM || nd->op == BL_OP_REDUCE_L2);
        if (axes_input) {
            if (!t->data) return "the axes input must be constant";
            continue;
        }
        if (t->dtype != BL_DT_FLOAT) return "only float32 inputs are supported";
    }
    if (nd->op == BL_OP_BATCH_NORM) {
        if (bl_node_attr_int(nd, "training_mode", 0)) return "training_mode=1 is not supported (inference only)";
        for (int k = 1; k < nd->n_outputs; k++)
            if (nd->outputs[k] >= 0) return "running mean/var outputs (training) are not supported";
    }
    if (nd->op == BL_OP_LAYER_NORM && bl_node_attr_int(nd, "stash_type", 1) != 1)
        return "stash_type other than 1 (float32) is not supported";
    return NULL;
}

typedef struct {
    int64_t axes_mask; /* reduce: bit per axis */
    bool noop;         /* reduce with empty axes and noop_with_empty_axes */
} reduce_params;

/* ---- reduce ---- */

/* max(m, v) where a NaN wins (ONNX propagates it) */
static inline float max_nan(float m, float v) { return (v != v || v > m) ? v : m; }
/* A reduction's result from its sum (Mean: / count, L2: square root) or max. */
static inline float reduce_finish(bl_op op, double acc, int64_t count) {
    if (op == BL_OP_REDUCE_MEAN) acc = count ? acc / (double)count : NAN;
    if (op == BL_OP_REDUCE_L2) acc = sqrt(acc);
    return (float)acc;
}

#define RED_LANES 8 /* independent partial results: the sum's add latency hidden, vectorised */

/* Sums (Mean, Sum: of x; L2: of x²) in double, or the max in float (a NaN wins), of n
 * contiguous values; RED_LANES interleaved partials then combined in a fixed order, so the
 * result does not depend on the thread count. */
static double reduce_contig(bl_op op, const float *x, int64_t n) {
    int64_t q = 0;
    if (op == BL_OP_REDUCE_MAX) {
        float m[RED_LANES];
        for (int j = 0; j < RED_LANES; j++) m[j] = -INFINITY;
        for (; q + RED_LANES <= n; q += RED_LANES)
#pragma omp simd
            for (int j = 0; j < RED_LANES; j++) m[j] = max_nan(m[j], x[q + j]);
        float r = -INFINITY;
        for (int j = 0; j < RED_LANES; j++) r = max_nan(r, m[j]);
        for (; q < n; q++) r = max_nan(r, x[q]);
        return r;
    }
    double a[RED_LANES] = {0};
    bool sq = op == BL_OP_REDUCE_L2;
    for (; q + RED_LANES <= n; q += RED_LANES)
#pragma omp simd
        for (int j = 0; j < RED_LANES; j++) a[j] += sq ? (double)x[q + j] * x[q + j] : (double)x[q + j];
    double r = 0.0;
    for (int j = 0; j < RED_LANES; j++) r += a[j];
    for (; q < n; q++) r += sq ? (double)x[q] * x[q] : (double)x[q];
    return r;
}

/* The reduced axes as one contiguous block of a [outer, red, inner] view: y[o, i] over q of
 * x[o, q, i]. inner == 1 reads each output's values contiguously (reduce_contig); otherwise
 * rows of `inner` values are accumulated into a chunk of partial results. */
static void reduce_block(bl_op op, const float *x, float *y, int64_t outer, int64_t red, int64_t inner) {
    bool par = outer * red * inner > 32768;
    if (inner == 1) {
#pragma omp parallel for if (par && outer > 1)
        for (int64_t o = 0; o < outer; o++) {
            y[o] = reduce_finish(op, reduce_contig(op, x + o * red, red), red);
        }
        return;
    }
    enum { CH = 64 };
    int64_t nch = (inner + CH - 1) / CH;
#pragma omp parallel for if (par && outer * nch > 1)
    for (int64_t w = 0; w < outer * nch; w++) {
        int64_t o = w / nch, i0 = w % nch * CH, ni = inner - i0 < CH ? inner - i0 : CH;
        const float *xb = x + o * red * inner + i0;
        double acc[CH];
        float mx[CH];
        if (op == BL_OP_REDUCE_MAX) {
            for (int64_t i = 0; i < ni; i++) mx[i] = -INFINITY;
            for (int64_t q = 0; q < red; q++) {
                const float *xr = xb + q * inner;
#pragma omp simd
                for (int64_t i = 0; i < ni; i++) mx[i] = max_nan(mx[i], xr[i]);
            }
            for (int64_t i = 0; i < ni; i++) y[o * inner + i0 + i] = mx[i];
            continue;
        }
        bool sq = op == BL_OP_REDUCE_L2;
        for (int64_t i = 0; i < ni; i++) acc[i] = 0.0;
        for (int64_t q = 0; q < red; q++) {
            const float *xr = xb + q * inner;
#pragma omp simd
            for (int64_t i = 0; i < ni; i++) acc[i] += sq ? (double)xr[i] * xr[i] : (double)xr[i];
        }
        for (int64_t i = 0; i < ni; i++) y[o * inner + i0 + i] = reduce_finish(op, acc[i], red);
    }
}

static bl_status run_reduce(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const reduce_params *p = st->priv;
    int ti = nd->inputs[0], to = nd->outputs[0];
    const float *x = ex->ptr[ti];
    float *y = ex->ptr[to];
    int64_t d[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, ti, n, d);
    if (p->noop) {
        memmove(y, x, (size_t)bl_cpu_numel(ex, ti, n) * sizeof(float));
        return BL_OK;
    }
    bl_op op = nd->op;
    if (op == BL_OP_GLOBAL_AVERAGE_POOL) op = BL_OP_REDUCE_MEAN;
    if (op == BL_OP_GLOBAL_MAX_POOL) op = BL_OP_REDUCE_MAX;
    /* strides of x; kept and reduced axis lists */
    int64_t stride[BL_MAX_RANK], s = 1;
    for (int i = r - 1; i >= 0; i--) stride[i] = s, s *= d[i];
    int kept[BL_MAX_RANK], red[BL_MAX_RANK], nk = 0, nr = 0;
    int64_t out_cnt = 1, red_cnt = 1;
    for (int i = 0; i < r; i++) {
        if (p->axes_mask >> i & 1) red[nr++] = i, red_cnt *= d[i];
        else kept[nk++] = i, out_cnt *= d[i];
    }
    /* reduced axes as one contiguous block: [outer, red_cnt, inner] */
    bool block = true;
    for (int i = 1; i < nr; i++) block &= red[i] == red[i - 1] + 1;
    int64_t inner = nr ? stride[red[nr - 1]] : 1;
    if (block && nr) {
        reduce_block(op, x, y, out_cnt / inner, red_cnt, inner);
        return BL_OK;
    }
#pragma omp parallel for if (out_cnt * red_cnt > 32768)
    for (int64_t o = 0; o < out_cnt; o++) {
        int64_t base = 0, rem = o;
        for (int k = nk - 1; k >= 0; k--) {
            base += (rem % d[kept[k]]) * stride[kept[k]];
            rem /= d[kept[k]];
        }
        double acc = op == BL_OP_REDUCE_MAX ? -INFINITY : 0.0;
        for (int64_t q = 0; q < red_cnt; q++) {
            int64_t off;
            if (block) off = base + q * inner;
            else {
                off = base;
                int64_t rr = q;
                for (int k = nr - 1; k >= 0; k--) off += (rr % d[red[k]]) * stride[red[k]], rr /= d[red[k]];
            }
            float v = x[off];
            if (op == BL_OP_REDUCE_MAX) acc = (isnan(v) || v > acc) ? v : acc;
            else if (op == BL_OP_REDUCE_L2) acc += (double)v * v;
            else acc += v;
        }
        y[o] = reduce_finish(op, acc, red_cnt);
    }
    return BL_OK;
}

static bl_status prepare_reduce(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_node *nd = st->node;
    const bl_tensor *x = bl_node_input(ex->g, nd, 0);
    reduce_params *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    st->priv = p;
    st->run = run_reduce;
    if (nd->op == BL_OP_GLOBAL_AVERAGE_POOL || nd->op == BL_OP_GLOBAL_MAX_POOL) {
        for (int i = 2; i < x->rank; i++) p->axes_mask |= INT64_C(1) << i;
        return BL_OK;
    }
    int64_t axes[BL_MAX_RANK];
    int na = 0;
    const bl_tensor *ta = bl_node_input(ex->g, nd, 1);
    if (ta) {
        int64_t cnt = bl_tensor_numel(ta, 1);
        BL_RETURN_IF(cnt > BL_MAX_RANK, BL_ERR_MODEL, "too many axes");
        for (int64_t i = 0; i < cnt; i++) {
            if (ta->dtype == BL_DT_INT64) memcpy(&axes[i], (const int64_t *)ta->data + i, 8);
            else axes[i] = ((const int32_t *)ta->data)[i];
        }
        na = (int)cnt;
    } else {
        size_t cnt;
        const int64_t *a = bl_node_attr_ints(nd, "axes", &cnt);
        BL_RETURN_IF(cnt > BL_MAX_RANK, BL_ERR_MODEL, "too many axes");
        for (size_t i = 0; i < cnt; i++) axes[i] = a[i];
        na = (int)cnt;
    }
    if (na == 0) {
        if (bl_node_attr_int(nd, "noop_with_empty_axes", 0)) p->noop = true;
        else p->axes_mask = (INT64_C(1) << x->rank) - 1;
        return BL_OK;
    }
    for (int i = 0; i < na; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + x->rank : axes[i];
        BL_RETURN_IF(a < 0 || a >= x->rank, BL_ERR_MODEL, "axis %lld out of range", (long long)axes[i]);
        p->axes_mask |= INT64_C(1) << a;
    }
    return BL_OK;
}

/* ---- softmax ---- */

typedef struct {
    int axis;
    bool coerce_2d; /* opset < 13: softmax over the flattened [axis, rank) block */
} softmax_params;

static bl_status run_softmax(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const softmax_params *p = st->priv;
    int ti = nd->inputs[0], to = nd->outputs[0];
    const float *x = ex->ptr[ti];
    float *y = ex->ptr[to];
    int64_t d[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, ti, n, d);
    int64_t outer = 1, len = 1, inner = 1;
    for (int i = 0; i < r; i++) {
        if (i < p->axis) outer *= d[i];
        else if (i == p->axis || p->coerce_2d) len *= d[i];
        else inner *= d[i];
    }
    bool lg = nd->op == BL_OP_LOG_SOFTMAX;
#pragma omp parallel for collapse(2) if (outer * inner * len > 32768)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            const float *xs = x + o * len * inner + in;
            float *ys = y + o * len * inner + in;
            float m = -INFINITY;
            for (int64_t j = 0; j < len; j++) m = xs[j * inner] > m ? xs[j * inner] : m;
            double sum = 0;
            for (int64_t j = 0; j < len; j++) {
                float e = expf(xs[j * inner] - m);
                sum += e;
                if (!lg) ys[j * inner] = e;
            }
            if (lg) {
                float ls = (float)log(sum);
                for (int64_t j = 0; j < len; j++) ys[j * inner] = xs[j * inner] - m - ls;
            } else {
                float inv = (float)(1.0 / sum);
                for (int64_t j = 0; j < len; j++) ys[j * inner] *= inv;
            }
        }
    return BL_OK;
}

/* ---- normalisations ---- */

typedef struct {
    float eps;
    int axis; /* LayerNorm */
} norm_params;

static bl_status run_norm(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const norm_params *p = st->priv;
    int ti = nd->inputs[0], to = nd->outputs[0];
    const float *x = ex->ptr[ti];
    float *y = ex->ptr[to];
    int64_t d[BL_MAX_RANK];
    int r = bl_cpu_dims(ex, ti, n, d);
    const float *scale = nd->n_inputs > 1 && nd->inputs[1] >= 0 ? ex->ptr[nd->inputs[1]] : NULL;
    const float *bias = nd->n_inputs > 2 && nd->inputs[2] >= 0 ? ex->ptr[nd->inputs[2]] : NULL;
    if (nd->op == BL_OP_BATCH_NORM) {
        const float *mean = ex->ptr[nd->inputs[3]], *var = ex->ptr[nd->inputs[4]];
        int64_t N = r > 0 ? d[0] : 1, C = r > 1 ? d[1] : 1, sp = 1;
        for (int i = 2; i < r; i++) sp *= d[i];
#pragma omp parallel for collapse(2) if (N * C * sp > 32768)
        for (int64_t a = 0; a < N; a++)
            for (int64_t c = 0; c < C; c++) {
                float k = scale[c] / sqrtf(var[c] + p->eps), b = bias[c] - mean[c] * k;
                const float *xs = x + (a * C + c) * sp;
                float *ys = y + (a * C + c) * sp;
                for (int64_t i = 0; i < sp; i++) ys[i] = xs[i] * k + b;
            }
        return BL_OK;
    }
    int64_t outer = 1, len = 1, C = 1;
    if (nd->op == BL_OP_INSTANCE_NORM) {
        C = r > 1 ? d[1] : 1;
        outer = (r > 0 ? d[0] : 1) * C;
        for (int i = 2; i < r; i++) len *= d[i];
    } else {
        for (int i = 0; i < r; i++) {
            if (i < p->axis) outer *= d[i];
            else len *= d[i];
        }
    }
    int64_t sl = 0, bl = 0; /* LayerNorm scale/bias element counts (broadcast over the block) */
    if (nd->op == BL_OP_LAYER_NORM) {
        sl = scale ? bl_cpu_numel(ex, nd->inputs[1], n) : 0;
        bl = bias ? bl_cpu_numel(ex, nd->inputs[2], n) : 0;
    }
    float *mean_out = nd->n_outputs > 1 && nd->outputs[1] >= 0 ? ex->ptr[nd->outputs[1]] : NULL;
    float *istd_out = nd->n_outputs > 2 && nd->outputs[2] >= 0 ? ex->ptr[nd->outputs[2]] : NULL;
#pragma omp parallel for if (outer * len > 32768)
    for (int64_t o = 0; o < outer; o++) {
        const float *xs = x + o * len;
        float *ys = y + o * len;
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < len; i++) sum += xs[i];
        double mean = len ? sum / (double)len : 0;
        for (int64_t i = 0; i < len; i++) sq += (xs[i] - mean) * (xs[i] - mean);
        double var = len ? sq / (double)len : 0;
        float istd = (float)(1.0 / sqrt(var + p->eps)), m = (float)mean;
        if (mean_out) mean_out[o] = m;
        if (istd_out) istd_out[o] = istd;
        if (nd->op == BL_OP_INSTANCE_NORM) {
            int64_t c = o % C;
            float k = istd * scale[c], b = bias[c] - m * k;
            for (int64_t i = 0; i < len; i++) ys[i] = xs[i] * k + b;
        } else {
            for (int64_t i = 0; i < len; i++) {
                float v = (xs[i] - m) * istd;
                if (sl) v *= scale[i % sl];
                if (bl) v += bias[i % bl];
                ys[i] = v;
            }
        }
    }
    return BL_OK;
}

/* ---- Gemm / MatMul ---- */

typedef struct {
    bool ta, tb;
    float alpha, beta;
} gemm_params;

static bl_status dnnl_ok(dnnl_status_t s, const char *what) {
    BL_RETURN_IF(s != dnnl_success, BL_ERR_INTERNAL, "oneDNN %s failed (status %d)", what, (int)s);
    return BL_OK;
}

/* dnnl_sgemm on one thread when the product is small (bl_cpu_serial). */
static bl_status sgemm(bl_cpu_exec *ex, char ta, char tb, int64_t M, int64_t N, int64_t K, float alpha, const float *a,
                       int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    bool serial = ex->threads > 1 && bl_cpu_serial(2.0 * (double)M * (double)N * (double)K, 4.0 * (double)N * (double)K);
    if (serial) omp_set_num_threads(1);
    dnnl_status_t s = dnnl_sgemm(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    if (serial) omp_set_num_threads(ex->threads);
    return dnnl_ok(s, "sgemm");
}

static bl_status run_gemm(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const gemm_params *p = st->priv;
    int64_t da[2], db[2], dy[2];
    bl_cpu_dims(ex, nd->inputs[0], n, da);
    bl_cpu_dims(ex, nd->inputs[1], n, db);
    bl_cpu_dims(ex, nd->outputs[0], n, dy);
    int64_t M = dy[0], N = dy[1], K = p->ta ? da[0] : da[1];
    float *y = ex->ptr[nd->outputs[0]];
    float beta = 0.f;
    const bl_tensor *tc = bl_node_input(ex->g, nd, 2);
    if (tc && p->beta != 0.f) {
        /* broadcast C into Y, then accumulate */
        int64_t dc[2] = {1, 1};
        int rc = bl_cpu_dims(ex, nd->inputs[2], n, dc);
        int64_t cr = rc == 2 ? dc[0] : 1, cc = rc == 2 ? dc[1] : (rc == 1 ? dc[0] : 1);
        const float *c = ex->ptr[nd->inputs[2]];
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) y[i * N + j] = c[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)];
        beta = p->beta;
    }
    if (M == 0 || N == 0) return BL_OK;
    if (K == 0) {
        if (beta == 0.f) memset(y, 0, (size_t)(M * N) * sizeof *y);
        else for (int64_t i = 0; i < M * N; i++) y[i] *= beta;
        return BL_OK;
    }
    return sgemm(ex, p->ta ? 'T' : 'N', p->tb ? 'T' : 'N', M, N, K, p->alpha, ex->ptr[nd->inputs[0]], da[1],
                 ex->ptr[nd->inputs[1]], db[1], beta, y, N);
}

static bl_status run_matmul(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    int64_t da[BL_MAX_RANK], db[BL_MAX_RANK], dy[BL_MAX_RANK];
    int ra = bl_cpu_dims(ex, nd->inputs[0], n, da), rb = bl_cpu_dims(ex, nd->inputs[1], n, db);
    int ry = bl_cpu_dims(ex, nd->outputs[0], n, dy);
    const float *a = ex->ptr[nd->inputs[0]], *b = ex->ptr[nd->inputs[1]];
    float *y = ex->ptr[nd->outputs[0]];
    /* 1-D operands: A [K] is [1,K]; B [K] is [K,1] */
    int64_t M = ra == 1 ? 1 : da[ra - 2], K = da[ra - 1], N = rb == 1 ? 1 : db[rb - 1];
    int rba = ra > 2 ? ra - 2 : 0, rbb = rb > 2 ? rb - 2 : 0; /* batch ranks */
    int rbo = rba > rbb ? rba : rbb;
    int64_t nb = 1, bd[BL_MAX_RANK], sa[BL_MAX_RANK], sb[BL_MAX_RANK];
    int64_t ssa = M * K, ssb = K * N;
    for (int i = rbo - 1; i >= 0; i--) {
        int ia = i - (rbo - rba), ib = i - (rbo - rbb);
        int64_t xa = ia >= 0 ? da[ia] : 1, xb = ib >= 0 ? db[ib] : 1;
        bd[i] = xa > xb ? xa : xb;
        sa[i] = xa == 1 ? 0 : ssa;
        sb[i] = xb == 1 ? 0 : ssb;
        ssa *= xa, ssb *= xb;
        nb *= bd[i];
    }
    (void)ry, (void)dy;
    if (M == 0 || N == 0 || nb == 0) return BL_OK;
    if (K == 0) {
        memset(y, 0, (size_t)(nb * M * N) * sizeof *y);
        return BL_OK;
    }
    if (rbb == 0) /* B shared by every batch entry: one call with the batch folded into M */
        return sgemm(ex, 'N', 'N', nb * M, N, K, 1.f, a, K, b, N, 0.f, y, N);
    for (int64_t q = 0; q < nb; q++) {
        int64_t oa = 0, ob = 0, rem = q;
        for (int i = rbo - 1; i >= 0; i--) {
            int64_t c = rem % bd[i];
            rem /= bd[i];
            oa += c * sa[i], ob += c * sb[i];
        }
        BL_TRY(sgemm(ex, 'N', 'N', M, N, K, 1.f, a + oa, K, b + ob, N, 0.f, y + q * M * N, N));
    }
    return BL_OK;
}

bl_status bl_cpu_prepare_reduce(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_node *nd = st->node;
    const bl_tensor *x = bl_node_input(ex->g, nd, 0);
    switch (nd->op) {
    case BL_OP_GLOBAL_AVERAGE_POOL: case BL_OP_GLOBAL_MAX_POOL: case BL_OP_REDUCE_MEAN: case BL_OP_REDUCE_MAX:
    case BL_OP_REDUCE_SUM: case BL_OP_REDUCE_L2:
        return prepare_reduce(ex, st);
    case BL_OP_SOFTMAX: case BL_OP_LOG_SOFTMAX: {
        softmax_params *p = calloc(1, sizeof *p);
        BL_CHECK_ALLOC(p);
        st->priv = p;
        int64_t axis = bl_node_attr_int(nd, "axis", ex->g->opset < 13 ? 1 : -1);
        if (axis < 0) axis += x->rank;
        BL_RETURN_IF(axis < 0 || axis >= (x->rank ? x->rank : 1), BL_ERR_MODEL, "axis out of range");
        p->axis = (int)axis;
        p->coerce_2d = ex->g->opset < 13;
        st->run = run_softmax;
        return BL_OK;
    }
    case BL_OP_BATCH_NORM: case BL_OP_INSTANCE_NORM: case BL_OP_LAYER_NORM: {
        norm_params *p = calloc(1, sizeof *p);
        BL_CHECK_ALLOC(p);
        st->priv = p;
        p->eps = bl_node_attr_float(nd, "epsilon", 1e-5f);
        int64_t axis = bl_node_attr_int(nd, "axis", -1);
        if (axis < 0) axis += x->rank;
        p->axis = (int)axis;
        st->run = run_norm;
        return BL_OK;
    }
    case BL_OP_GEMM: {
        /* constant weights: oneDNN inner product, packed once (cpu_ip.c); the reference mode
         * (no_fusion) keeps dnnl_sgemm */
        if (!ex->opts.no_fusion && bl_cpu_gemm_is_ip(ex->g, nd)) {
            if (bl_cpu_prepare_gemm_ip(ex, st) == BL_OK) return BL_OK;
            if (st->destroy) st->destroy(st);
            st->priv = NULL, st->destroy = NULL, st->run = NULL; /* fall back to dnnl_sgemm */
        }
        gemm_params *p = calloc(1, sizeof *p);
        BL_CHECK_ALLOC(p);
        st->priv = p;
        p->ta = bl_node_attr_int(nd, "transA", 0) != 0;
        p->tb = bl_node_attr_int(nd, "transB", 0) != 0;
        p->alpha = bl_node_attr_float(nd, "alpha", 1.f);
        p->beta = bl_node_attr_float(nd, "beta", 1.f);
        st->run = run_gemm;
        return BL_OK;
    }
    case BL_OP_MATMUL: st->run = run_matmul; return BL_OK;
    default: return BL_ERROR(BL_ERR_INTERNAL, "no CPU kernel for %s", bl_op_name(nd->op));
    }
}
