/* cpu_eltwise.c — element-wise ops of the CPU executor in plain C (OpenMP over rows).
 *
 * Defines bl_cpu_check_eltwise and bl_cpu_prepare_eltwise for the unary activations and
 * maths (Relu ... Abs, Clip with constant or run-time bounds) and the broadcasting binary
 * ops (Add, Sub, Mul, Div, Pow, Min, Max (variadic), PRelu). float32 runs a fast path
 * (rows of the output with a contiguous or scalar operand); int64 and mixed-type Pow run a
 * generic path in double/int64. NaN propagates as in ONNX: Relu, Clip, HardSigmoid, Min and
 * Max of a NaN are NaN. Owns nothing beyond each step's small parameter block.
 * Threading: steps are run by one thread; loops fork OpenMP teams.
 */
#include <math.h>   /* expf, erff, powf, ... */
#include <stdlib.h> /* calloc */
#include <string.h> /* memcpy */

#include "models/cpu_exec.h" /* bl_cpu_exec, helpers */

#define PAR_MIN 32768 /* elements below which a loop stays single-threaded */

static bool is_binary(bl_op op) {
    return op == BL_OP_ADD || op == BL_OP_SUB || op == BL_OP_MUL || op == BL_OP_DIV || op == BL_OP_POW ||
           op == BL_OP_MIN || op == BL_OP_MAX || op == BL_OP_PRELU;
}

const char *bl_cpu_check_eltwise(const bl_graph *g, const bl_node *nd) {
    for (int k = 0; k < nd->n_inputs; k++) {
        const bl_tensor *t = bl_node_input(g, nd, k);
        if (!t) continue;
        if (t->dtype != BL_DT_FLOAT && t->dtype != BL_DT_INT64)
            return "only float32 (and int64 for arithmetic) tensors are supported";
        if (t->dtype == BL_DT_INT64 && !is_binary(nd->op) && nd->op != BL_OP_NEG && nd->op != BL_OP_ABS)
            return "int64 input to a float-only op";
    }
    if (nd->op == BL_OP_GELU) {
        const char *a = bl_node_attr_str(nd, "approximate", "none");
        if (strcmp(a, "none") && strcmp(a, "tanh")) return "Gelu approximate must be 'none' or 'tanh'";
    }
    return NULL;
}

typedef struct {
    int rank;
    int64_t od[BL_MAX_RANK];
    int64_t sa[BL_MAX_RANK], sb[BL_MAX_RANK]; /* element strides, 0 where broadcast */
} bcast;

static void make_bcast(bl_cpu_exec *ex, int ta, int tb, int to, int64_t n, bcast *b) {
    int64_t da[BL_MAX_RANK], db[BL_MAX_RANK];
    int ra = bl_cpu_dims(ex, ta, n, da), rb = bl_cpu_dims(ex, tb, n, db);
    b->rank = bl_cpu_dims(ex, to, n, b->od);
    int64_t sa = 1, sb = 1;
    for (int i = b->rank - 1; i >= 0; i--) {
        int ia = i - (b->rank - ra), ib = i - (b->rank - rb);
        int64_t xa = ia >= 0 ? da[ia] : 1, xb = ib >= 0 ? db[ib] : 1;
        b->sa[i] = xa == 1 ? 0 : sa;
        b->sb[i] = xb == 1 ? 0 : sb;
        sa *= xa, sb *= xb;
    }
}

static inline float bin_f(bl_op op, float a, float b) {
    switch (op) {
    case BL_OP_ADD: return a + b;
    case BL_OP_SUB: return a - b;
    case BL_OP_MUL: return a * b;
    case BL_OP_DIV: return a / b;
    case BL_OP_POW: return powf(a, b);
    case BL_OP_MIN: return isnan(a) || isnan(b) ? NAN : (a < b ? a : b);
    case BL_OP_MAX: return isnan(a) || isnan(b) ? NAN : (a > b ? a : b);
    case BL_OP_PRELU: return a >= 0.f ? a : a * b;
    default: return 0.f;
    }
}

/* Inner loop specialised by op so that the compiler vectorises it. */
#define ROW_LOOP(EXPR)                                                              \
    do {                                                                            \
        if (ia && ib) for (int64_t j = 0; j < len; j++) { float a = pa[j], b = pb[j]; po[j] = (EXPR); } \
        else if (ia) { float b = pb[0]; for (int64_t j = 0; j < len; j++) { float a = pa[j]; po[j] = (EXPR); } } \
        else if (ib) { float a = pa[0]; for (int64_t j = 0; j < len; j++) { float b = pb[j]; po[j] = (EXPR); } } \
        else { float a = pa[0], b = pb[0]; for (int64_t j = 0; j < len; j++) po[j] = (EXPR); } \
    } while (0)

static void row_f(bl_op op, const float *pa, int ia, const float *pb, int ib, float *po, int64_t len) {
    switch (op) {
    case BL_OP_ADD: ROW_LOOP(a + b); break;
    case BL_OP_SUB: ROW_LOOP(a - b); break;
    case BL_OP_MUL: ROW_LOOP(a * b); break;
    case BL_OP_DIV: ROW_LOOP(a / b); break;
    case BL_OP_PRELU: ROW_LOOP(a >= 0.f ? a : a * b); break;
    default: for (int64_t j = 0; j < len; j++) po[j] = bin_f(op, pa[ia ? j : 0], pb[ib ? j : 0]); break;
    }
}

static double load_d(const void *p, bl_dtype dt, int64_t i) {
    return dt == BL_DT_INT64 ? (double)((const int64_t *)p)[i] : (double)((const float *)p)[i];
}

static int64_t bin_i(bl_op op, int64_t a, int64_t b) {
    switch (op) {
    case BL_OP_ADD: return (int64_t)((uint64_t)a + (uint64_t)b);
    case BL_OP_SUB: return (int64_t)((uint64_t)a - (uint64_t)b);
    case BL_OP_MUL: return (int64_t)((uint64_t)a * (uint64_t)b);
    case BL_OP_DIV: return b == 0 ? 0 : (a == INT64_MIN && b == -1 ? a : a / b);
    case BL_OP_MIN: return a < b ? a : b;
    case BL_OP_MAX: return a > b ? a : b;
    default: return 0;
    }
}

/* out = a op b with broadcasting. */
static void binary(bl_cpu_exec *ex, bl_op op, int ta, int tb, int to, int64_t n) {
    bcast b;
    make_bcast(ex, ta, tb, to, n, &b);
    const bl_tensor *A = &ex->g->tensors[ta], *B = &ex->g->tensors[tb], *O = &ex->g->tensors[to];
    const void *va = ex->ptr[ta], *vb = ex->ptr[tb];
    void *vo = ex->ptr[to];
    int r = b.rank;
    int64_t len = r ? b.od[r - 1] : 1;
    int64_t rows = 1;
    for (int i = 0; i < r - 1; i++) rows *= b.od[i];
    int64_t sal = r ? b.sa[r - 1] : 0, sbl = r ? b.sb[r - 1] : 0;
    bool fast = A->dtype == BL_DT_FLOAT && B->dtype == BL_DT_FLOAT && O->dtype == BL_DT_FLOAT;
#pragma omp parallel for if (rows * len > PAR_MIN)
    for (int64_t row = 0; row < rows; row++) {
        int64_t oa = 0, ob = 0, rem = row;
        for (int i = r - 2; i >= 0; i--) {
            int64_t c = rem % b.od[i];
            rem /= b.od[i];
            oa += c * b.sa[i], ob += c * b.sb[i];
        }
        if (fast) {
            row_f(op, (const float *)va + oa, sal != 0, (const float *)vb + ob, sbl != 0, (float *)vo + row * len, len);
        } else if (O->dtype == BL_DT_INT64 && A->dtype == BL_DT_INT64 && B->dtype == BL_DT_INT64 && op != BL_OP_POW) {
            const int64_t *pa = (const int64_t *)va + oa, *pb = (const int64_t *)vb + ob;
            int64_t *po = (int64_t *)vo + row * len;
            for (int64_t j = 0; j < len; j++) po[j] = bin_i(op, pa[sal ? j : 0], pb[sbl ? j : 0]);
        } else {
            for (int64_t j = 0; j < len; j++) {
                double a = load_d(va, A->dtype, oa + (sal ? j : 0)), bb = load_d(vb, B->dtype, ob + (sbl ? j : 0));
                double v = op == BL_OP_POW ? pow(a, bb) : (double)bin_f(op, (float)a, (float)bb);
                if (O->dtype == BL_DT_INT64) ((int64_t *)vo)[row * len + j] = (int64_t)v;
                else ((float *)vo)[row * len + j] = (float)v;
            }
        }
    }
}

static bl_status run_binary(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    int to = nd->outputs[0];
    if (nd->n_inputs == 1) { /* variadic Min/Max of one input */
        const bl_tensor *t = &ex->g->tensors[to];
        memmove(ex->ptr[to], ex->ptr[nd->inputs[0]], (size_t)bl_tensor_numel(t, n) * bl_dtype_size(t->dtype));
        return BL_OK;
    }
    binary(ex, nd->op, nd->inputs[0], nd->inputs[1], to, n);
    /* variadic: fold further inputs into the output (broadcast to the output's shape) */
    for (int k = 2; k < nd->n_inputs; k++) binary(ex, nd->op, to, nd->inputs[k], to, n);
    return BL_OK;
}

/* ---- unary ---- */

typedef struct {
    float alpha, beta, gamma;
} unary_params;

static float erf_gelu(float x) { return 0.5f * x * (1.f + erff(x * 0.70710678118654752f)); }
static float tanh_gelu(float x) {
    return 0.5f * x * (1.f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

static bl_status run_unary(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const unary_params *p = st->priv;
    int ti = nd->inputs[0], to = nd->outputs[0];
    int64_t cnt = bl_cpu_numel(ex, to, n);
    if (ex->g->tensors[ti].dtype == BL_DT_INT64) {
        const int64_t *x = ex->ptr[ti];
        int64_t *y = ex->ptr[to];
        for (int64_t i = 0; i < cnt; i++) y[i] = nd->op == BL_OP_NEG ? -x[i] : (x[i] < 0 ? -x[i] : x[i]);
        return BL_OK;
    }
    const float *x = ex->ptr[ti];
    float *y = ex->ptr[to];
    float a = p->alpha, b = p->beta, c = p->gamma;
    if (nd->op == BL_OP_CLIP) { /* bounds may be run-time inputs (opset 11+) */
        const bl_tensor *tmin = bl_node_input(ex->g, nd, 1), *tmax = bl_node_input(ex->g, nd, 2);
        a = tmin ? *(const float *)ex->ptr[nd->inputs[1]] : -INFINITY;
        b = tmax ? *(const float *)ex->ptr[nd->inputs[2]] : INFINITY;
        if (!tmin && !tmax && bl_node_attr(nd, "min")) a = bl_node_attr_float(nd, "min", -INFINITY);
        if (!tmin && !tmax && bl_node_attr(nd, "max")) b = bl_node_attr_float(nd, "max", INFINITY);
    }
    switch (nd->op) {
#define U(OP, EXPR) case OP: _Pragma("omp parallel for if (cnt > PAR_MIN)") for (int64_t i = 0; i < cnt; i++) { float v = x[i]; y[i] = (EXPR); } break;
    /* NaN in, NaN out, as ONNX says: comparisons written so that a NaN takes the `v` branch
     * (fmaxf/fminf and `v > 0 ? v : 0` would turn it into a bound) */
    U(BL_OP_RELU, v <= 0.f ? 0.f : v)
    U(BL_OP_LEAKY_RELU, v >= 0.f ? v : a * v)
    U(BL_OP_ELU, v >= 0.f ? v : a * (expf(v) - 1.f))
    U(BL_OP_SELU, v > 0.f ? c * v : c * (a * expf(v) - a))
    U(BL_OP_CLIP, bl_clip_nan(v, a, b)) /* min > max gives max, as ONNX says */
    U(BL_OP_SIGMOID, 1.f / (1.f + expf(-v)))
    U(BL_OP_HARD_SIGMOID, bl_clip_nan(a * v + b, 0.f, 1.f))
    U(BL_OP_HARD_SWISH, v * fmaxf(0.f, fminf(1.f, v / 6.f + 0.5f)))
    U(BL_OP_TANH, tanhf(v))
    U(BL_OP_SOFTPLUS, v > 20.f ? v : log1pf(expf(v)))
    U(BL_OP_ERF, erff(v))
    U(BL_OP_SQRT, sqrtf(v))
    U(BL_OP_EXP, expf(v))
    U(BL_OP_LOG, logf(v))
    U(BL_OP_NEG, -v)
    U(BL_OP_ABS, fabsf(v))
#undef U
    case BL_OP_GELU:
        if (a != 0.f) {
#pragma omp parallel for if (cnt > PAR_MIN)
            for (int64_t i = 0; i < cnt; i++) y[i] = tanh_gelu(x[i]);
        } else {
#pragma omp parallel for if (cnt > PAR_MIN)
            for (int64_t i = 0; i < cnt; i++) y[i] = erf_gelu(x[i]);
        }
        break;
    default: return BL_ERROR(BL_ERR_INTERNAL, "no CPU kernel for %s", bl_op_name(nd->op));
    }
    return BL_OK;
}

bl_status bl_cpu_prepare_eltwise(bl_cpu_exec *ex, bl_cpu_step *st) {
    (void)ex;
    const bl_node *nd = st->node;
    if (is_binary(nd->op)) {
        st->run = run_binary;
        return BL_OK;
    }
    unary_params *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    switch (nd->op) {
    case BL_OP_LEAKY_RELU: p->alpha = bl_node_attr_float(nd, "alpha", 0.01f); break;
    case BL_OP_ELU: p->alpha = bl_node_attr_float(nd, "alpha", 1.f); break;
    case BL_OP_SELU:
        p->alpha = bl_node_attr_float(nd, "alpha", 1.67326319217681884765625f);
        p->gamma = bl_node_attr_float(nd, "gamma", 1.05070102214813232421875f);
        break;
    case BL_OP_HARD_SIGMOID:
        p->alpha = bl_node_attr_float(nd, "alpha", 0.2f);
        p->beta = bl_node_attr_float(nd, "beta", 0.5f);
        break;
    case BL_OP_GELU: p->alpha = strcmp(bl_node_attr_str(nd, "approximate", "none"), "tanh") == 0; break;
    default: break;
    }
    st->priv = p;
    st->run = run_unary;
    return BL_OK;
}
