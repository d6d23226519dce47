/* test_graph.c — the graph IR, shape inference, folding and fusion on graphs built by hand.
 *
 * Each case builds a small graph through the IR API (models/graph.h), runs
 * bl_graph_prepare() and compares shapes, folded values and rewrites with numbers worked
 * out in the comments from the ONNX operator definitions.
 */
#include <inttypes.h> /* PRId64 */
#include <math.h>     /* INFINITY */
#include <stdarg.h>   /* variadic builders */
#include <stdlib.h>
#include <string.h>

#include "models/graph.h" /* the IR under test */
#include "testutil.h"

/* ---- builders --------------------------------------------------------------------------- */

static int input(bl_graph *g, const char *name, int rank, ...) {
    int64_t d[BL_MAX_RANK];
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++) d[i] = va_arg(ap, int64_t);
    va_end(ap);
    int idx = -1;
    bl_graph_add_tensor(g, name, BL_DT_FLOAT, rank, d, NULL, 0, &idx);
    g->tensors[idx].flags |= BL_TENSOR_INPUT;
    g->inputs = realloc(g->inputs, (size_t)(g->n_inputs + 1) * sizeof(int));
    g->inputs[g->n_inputs++] = idx;
    return idx;
}

static int const_i64(bl_graph *g, const char *name, int n, const int64_t *v) {
    int64_t *data = malloc((size_t)(n ? n : 1) * 8);
    if (n) memcpy(data, v, (size_t)n * 8);
    int64_t d = n;
    int idx = -1;
    bl_graph_add_tensor(g, name, BL_DT_INT64, 1, &d, data, (size_t)n * 8, &idx);
    return idx;
}

static int const_f32(bl_graph *g, const char *name, int rank, const int64_t *dims, float fill) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *data = malloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++) data[i] = fill + 0.01f * (float)i;
    int idx = -1;
    bl_graph_add_tensor(g, name, BL_DT_FLOAT, rank, dims, data, (size_t)n * 4, &idx);
    g->tensors[idx].flags |= BL_TENSOR_INITIALIZER;
    return idx;
}

static bl_attr a_int(const char *n, int64_t v) { return (bl_attr){.name = strdup(n), .type = BL_ATTR_INT, .i = v}; }
static bl_attr a_f(const char *n, float v) { return (bl_attr){.name = strdup(n), .type = BL_ATTR_FLOAT, .f = v}; }
static bl_attr a_str(const char *n, const char *v) { return (bl_attr){.name = strdup(n), .type = BL_ATTR_STRING, .s = strdup(v)}; }
static bl_attr a_ints(const char *n, int cnt, ...) {
    bl_attr a = {.name = strdup(n), .type = BL_ATTR_INTS, .n = (size_t)cnt, .ints = malloc((size_t)cnt * 8 + 8)};
    va_list ap;
    va_start(ap, cnt);
    for (int i = 0; i < cnt; i++) a.ints[i] = va_arg(ap, int64_t);
    va_end(ap);
    return a;
}

/* node(g, op, "in1,in2", "out", n_attrs, attrs...) — outputs are created; "" is an omitted input. */
static int node(bl_graph *g, bl_op op, const char *ins, const char *outs, int na, ...) {
    int in[16], out[16], ni = 0, no = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ins);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int idx = -1;
        if (strcmp(t, "-") && (idx = bl_graph_find(g, t)) < 0) /* forward reference: made here */
            bl_graph_add_tensor(g, t, BL_DT_UNDEFINED, -1, NULL, NULL, 0, &idx);
        in[ni++] = idx;
    }
    snprintf(buf, sizeof buf, "%s", outs);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int idx = bl_graph_find(g, t);
        if (idx < 0) bl_graph_add_tensor(g, t, BL_DT_UNDEFINED, -1, NULL, NULL, 0, &idx);
        out[no++] = idx;
    }
    bl_attr *attrs = calloc((size_t)na + 1, sizeof *attrs);
    va_list ap;
    va_start(ap, na);
    for (int i = 0; i < na; i++) attrs[i] = va_arg(ap, bl_attr);
    va_end(ap);
    char name[64];
    snprintf(name, sizeof name, "%s_%d", bl_op_name(op), g->n_nodes);
    int idx = -1;
    bl_graph_add_node(g, name, op, in, ni, out, no, attrs, na, &idx);
    return idx;
}

static void output(bl_graph *g, const char *name) {
    int t = bl_graph_find(g, name);
    g->tensors[t].flags |= BL_TENSOR_OUTPUT;
    g->outputs = realloc(g->outputs, (size_t)(g->n_outputs + 1) * sizeof(int));
    g->outputs[g->n_outputs++] = t;
}

static const char *shape(bl_graph *g, const char *name) {
    static char buf[64];
    int t = bl_graph_find(g, name);
    if (t < 0) return "(gone)";
    return bl_tensor_shape_str(&g->tensors[t], buf, sizeof buf);
}

static bl_status prep(bl_graph *g) {
    bl_prepare_opts o = bl_prepare_opts_default();
    return bl_graph_prepare(g, &o);
}

#define EXPECT_SHAPE(g, name, want) \
    BL_CHECK(!strcmp(shape(g, name), want), "%s is %s, expected %s", name, shape(g, name), want)

/* ---- cases -------------------------------------------------------------------------- */

static void test_conv_shapes(void) {
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 4, BL_DIM_N, (int64_t)3, (int64_t)17, (int64_t)20);
    const_f32(g, "w", 4, (int64_t[]){8, 3, 3, 3}, 0.f);
    const_f32(g, "w1", 3, (int64_t[]){6, 2, 5}, 0.f);
    input(g, "s", 3, BL_DIM_N, (int64_t)4, (int64_t)50);
    /* H: (17 + 1 + 2 - 3)/2 + 1 = 9; W: dilated kernel 5, (20 + 0 + 1 - 5)/2 + 1 = 9 */
    node(g, BL_OP_CONV, "x,w", "a", 3, a_ints("strides", 2, (int64_t)2, (int64_t)2),
         a_ints("pads", 4, (int64_t)1, (int64_t)0, (int64_t)2, (int64_t)1), a_ints("dilations", 2, (int64_t)1, (int64_t)2));
    /* SAME_UPPER, stride 2: ceil(17/2) = 9, ceil(20/2) = 10 */
    node(g, BL_OP_CONV, "x,w", "b", 2, a_str("auto_pad", "SAME_UPPER"), a_ints("strides", 2, (int64_t)2, (int64_t)2));
    /* 1-D, 2 groups of 2 channels: 50 - 5 + 1 = 46 */
    node(g, BL_OP_CONV, "s,w1", "c", 1, a_int("group", 2));
    output(g, "a");
    output(g, "b");
    output(g, "c");
    bl_status s = prep(g);
    BL_CHECK(s == BL_OK, "%s", bl_error_message());
    EXPECT_SHAPE(g, "a", "Nx8x9x9");
    EXPECT_SHAPE(g, "b", "Nx8x9x10");
    EXPECT_SHAPE(g, "c", "Nx6x46");
    bl_graph_free(g);

    bl_graph_create(&g);
    input(g, "x", 4, BL_DIM_N, (int64_t)3, (int64_t)8, (int64_t)8);
    const_f32(g, "w", 4, (int64_t[]){8, 2, 3, 3}, 0.f);
    node(g, BL_OP_CONV, "x,w", "y", 0);
    output(g, "y");
    s = prep(g);
    BL_CHECK(s == BL_ERR_MODEL && strstr(bl_error_message(), "does not fit 3 input channels"), "group mismatch: %s",
             bl_error_message());
    bl_graph_free(g);
}

static void test_pool_shapes(void) {
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 4, BL_DIM_N, (int64_t)2, (int64_t)7, (int64_t)5);
    /* 7: floor((7-2)/2)+1 = 3, ceil → 4; 5 with pads 1,1 and ceil: ceil((7-2)/2)+1 = 4, but the
     * 4th window would start at 6 >= 5 + 1 (inside the right pad only), so 3 */
    node(g, BL_OP_MAX_POOL, "x", "a", 2, a_ints("kernel_shape", 2, (int64_t)2, (int64_t)2),
         a_ints("strides", 2, (int64_t)2, (int64_t)2));
    node(g, BL_OP_MAX_POOL, "x", "b", 4, a_ints("kernel_shape", 2, (int64_t)2, (int64_t)2),
         a_ints("strides", 2, (int64_t)2, (int64_t)2), a_int("ceil_mode", 1),
         a_ints("pads", 4, (int64_t)0, (int64_t)1, (int64_t)0, (int64_t)1));
    /* (7 + 2 - 3)/2 + 1 = 4; (5 + 2 - 3)/2 + 1 = 3 */
    node(g, BL_OP_AVERAGE_POOL, "x", "c", 3, a_ints("kernel_shape", 2, (int64_t)3, (int64_t)3),
         a_ints("strides", 2, (int64_t)2, (int64_t)2), a_ints("pads", 4, (int64_t)1, (int64_t)1, (int64_t)1, (int64_t)1));
    node(g, BL_OP_GLOBAL_MAX_POOL, "x", "d", 0);
    output(g, "a");
    output(g, "b");
    output(g, "c");
    output(g, "d");
    BL_CHECK(prep(g) == BL_OK, "%s", bl_error_message());
    EXPECT_SHAPE(g, "a", "Nx2x3x2");
    EXPECT_SHAPE(g, "b", "Nx2x4x3");
    EXPECT_SHAPE(g, "c", "Nx2x4x3");
    EXPECT_SHAPE(g, "d", "Nx2x1x1");
    bl_graph_free(g);
}

/* x.view(x.size(0), -1) as PyTorch exports it: Shape → Gather(0) → Unsqueeze → Concat([.., -1]) → Reshape */
static void test_reshape_chain(void) {
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 4, BL_DIM_N, (int64_t)4, (int64_t)3, (int64_t)5);
    const_i64(g, "zero", 0, NULL);
    g->tensors[bl_graph_find(g, "zero")].rank = 0; /* scalar index 0 */
    free(g->tensors[bl_graph_find(g, "zero")].data);
    g->tensors[bl_graph_find(g, "zero")].data = calloc(1, 8);
    g->tensors[bl_graph_find(g, "zero")].nbytes = 8;
    const_i64(g, "minus1", 1, (int64_t[]){-1});
    /* nodes added in reverse to exercise the topological sort */
    node(g, BL_OP_RESHAPE, "x,target", "y", 0);
    node(g, BL_OP_CONCAT, "n1,minus1", "target", 1, a_int("axis", 0));
    node(g, BL_OP_UNSQUEEZE, "n", "n1", 1, a_ints("axes", 1, (int64_t)0));
    node(g, BL_OP_GATHER, "shp,zero", "n", 1, a_int("axis", 0));
    node(g, BL_OP_SHAPE, "x", "shp", 0);
    node(g, BL_OP_RESHAPE, "x,minus1", "flat", 0);
    node(g, BL_OP_FLATTEN, "flat", "f0", 1, a_int("axis", 0));
    output(g, "y");
    output(g, "f0");
    BL_CHECK(prep(g) == BL_OK, "%s", bl_error_message());
    EXPECT_SHAPE(g, "y", "Nx60");
    EXPECT_SHAPE(g, "flat", "60N");
    EXPECT_SHAPE(g, "f0", "1x60N");
    BL_CHECK(g->n_nodes == 3, "%d nodes left, expected Reshape, Reshape, Flatten", g->n_nodes);
    int t = bl_graph_find(g, "target");
    BL_CHECK(t >= 0 && g->tensors[t].data, "target folded");
    if (t >= 0 && g->tensors[t].data) {
        const int64_t *v = g->tensors[t].data;
        BL_CHECK(v[0] == BL_SHAPE_SYM_N && v[1] == -1, "target values %" PRId64 " %" PRId64, v[0], v[1]);
    }
    for (int n = 0; n < g->n_nodes; n++) BL_CHECK(g->nodes[n].op != BL_OP_SHAPE, "Shape left");
    bl_graph_free(g);
}

static void test_fold_values(void) {
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 2, BL_DIM_N, (int64_t)10);
    const_i64(g, "r", 10, (int64_t[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    const_i64(g, "st", 1, (int64_t[]){8});
    const_i64(g, "en", 1, (int64_t[]){2});
    const_i64(g, "ax", 1, (int64_t[]){0});
    const_i64(g, "sp", 1, (int64_t[]){-2});
    const_i64(g, "k", 3, (int64_t[]){100, 200, 300});
    node(g, BL_OP_SLICE, "r,st,en,ax,sp", "sl", 0);     /* [8, 6, 4] */
    node(g, BL_OP_ADD, "sl,k", "sum", 0);               /* [108, 206, 304] */
    node(g, BL_OP_CONCAT, "sum,st", "cat", 1, a_int("axis", 0)); /* [108, 206, 304, 8] */
    node(g, BL_OP_CAST, "cat", "f", 1, a_int("to", BL_DT_FLOAT));
    node(g, BL_OP_GATHER, "cat,ax", "g0", 1, a_int("axis", 0)); /* [108] */
    node(g, BL_OP_MUL, "x,f0", "y", 0);
    node(g, BL_OP_SLICE, "f,ax,sp", "f0", 0); /* starts 0, ends -2 → [108, 206] */
    output(g, "y");
    output(g, "g0");
    bl_status s = prep(g);
    /* y = x[N,10] * f0[2] does not broadcast: the error names the node */
    BL_CHECK(s == BL_ERR_MODEL && strstr(bl_error_message(), "do not broadcast"), "%s", bl_error_message());
    bl_graph_free(g);

    bl_graph_create(&g);
    input(g, "x", 2, BL_DIM_N, (int64_t)4);
    const_i64(g, "r", 10, (int64_t[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    const_i64(g, "st", 1, (int64_t[]){8});
    const_i64(g, "en", 1, (int64_t[]){2});
    const_i64(g, "ax", 1, (int64_t[]){0});
    const_i64(g, "sp", 1, (int64_t[]){-2});
    const_i64(g, "k", 3, (int64_t[]){100, 200, 300});
    node(g, BL_OP_SLICE, "r,st,en,ax,sp", "sl", 0);
    node(g, BL_OP_ADD, "sl,k", "sum", 0);
    node(g, BL_OP_CONCAT, "sum,st", "cat", 1, a_int("axis", 0));
    node(g, BL_OP_CAST, "cat", "f", 1, a_int("to", BL_DT_FLOAT));
    node(g, BL_OP_MUL, "x,f", "y", 0);
    output(g, "y");
    BL_CHECK(prep(g) == BL_OK, "%s", bl_error_message());
    int t = bl_graph_find(g, "f");
    BL_CHECK(t >= 0 && g->tensors[t].data && g->tensors[t].dtype == BL_DT_FLOAT, "Cast folded to float");
    if (t >= 0 && g->tensors[t].data) {
        const float *v = g->tensors[t].data;
        BL_CHECK(v[0] == 108.f && v[1] == 206.f && v[2] == 304.f && v[3] == 8.f, "values %g %g %g %g", (double)v[0],
                 (double)v[1], (double)v[2], (double)v[3]);
    }
    BL_CHECK(g->n_nodes == 1 && g->nodes[0].op == BL_OP_MUL, "only Mul stays (%d nodes)", g->n_nodes);
    bl_graph_free(g);
}

static void test_misc_shapes(void) {
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 3, BL_DIM_N, (int64_t)5, (int64_t)16);
    input(g, "v", 2, BL_DIM_N, (int64_t)16);
    const_f32(g, "w", 2, (int64_t[]){10, 16}, 0.f);
    const_f32(g, "m", 2, (int64_t[]){16, 7}, 0.f);
    const_f32(g, "c", 2, (int64_t[]){5, 1}, 0.f);
    const_i64(g, "sp", 2, (int64_t[]){6, 10});
    const_i64(g, "pads", 6, (int64_t[]){0, 1, 2, 0, 1, 3});
    const_f32(g, "scales", 1, (int64_t[]){3}, 1.f); /* 1.00, 1.01, 1.02 */
    node(g, BL_OP_GEMM, "v,w", "gm", 1, a_int("transB", 1));                  /* N x 10 */
    node(g, BL_OP_MATMUL, "x,m", "mm", 0);                                    /* N x 5 x 7 */
    node(g, BL_OP_TRANSPOSE, "x", "tr", 1, a_ints("perm", 3, (int64_t)0, (int64_t)2, (int64_t)1)); /* N x 16 x 5 */
    node(g, BL_OP_SPLIT, "x,sp", "s0,s1", 1, a_int("axis", 2));              /* N x 5 x 6, N x 5 x 10 */
    node(g, BL_OP_ADD, "x,c", "bc", 0);                                       /* N x 5 x 16 */
    node(g, BL_OP_PAD, "x,pads", "pd", 1, a_str("mode", "reflect"));         /* N x 7 x 21 */
    node(g, BL_OP_REDUCE_MEAN, "x", "rm", 2, a_ints("axes", 1, (int64_t)-1), a_int("keepdims", 0)); /* N x 5 */
    node(g, BL_OP_UNSQUEEZE, "rm", "us", 1, a_ints("axes", 2, (int64_t)1, (int64_t)-1)); /* N x 1 x 5 x 1 */
    node(g, BL_OP_SQUEEZE, "us", "sq", 0);                                    /* N x 5 (all 1s removed) */
    node(g, BL_OP_RESIZE, "x,-,scales", "rs", 1, a_str("mode", "nearest")); /* N x 5 x 16 (floor 16·1.02) */
    node(g, BL_OP_SOFTMAX, "x", "sm", 1, a_int("axis", -1));
    node(g, BL_OP_LAYER_NORM, "x,w", "ln,lm", 1, a_int("axis", -1));
    const char *outs[] = {"gm", "mm", "tr", "s0", "s1", "bc", "pd", "rm", "sq", "rs", "sm"};
    for (size_t i = 0; i < sizeof outs / sizeof *outs; i++) output(g, outs[i]);
    bl_status s = prep(g);
    /* LayerNorm scale [10,16] does not broadcast to the normalised [16]: rank too large */
    BL_CHECK(s == BL_ERR_MODEL && strstr(bl_error_message(), "LayerNormalization"), "%s", bl_error_message());
    bl_graph_free(g);

    bl_graph_create(&g);
    input(g, "x", 3, BL_DIM_N, (int64_t)5, (int64_t)16);
    input(g, "v", 2, BL_DIM_N, (int64_t)16);
    const_f32(g, "w", 2, (int64_t[]){10, 16}, 0.f);
    const_f32(g, "m", 2, (int64_t[]){16, 7}, 0.f);
    const_f32(g, "c", 2, (int64_t[]){5, 1}, 0.f);
    const_f32(g, "g16", 1, (int64_t[]){16}, 1.f);
    const_i64(g, "sp", 2, (int64_t[]){6, 10});
    const_i64(g, "pads", 6, (int64_t[]){0, 1, 2, 0, 1, 3});
    const_f32(g, "scales", 1, (int64_t[]){3}, 1.f);
    node(g, BL_OP_GEMM, "v,w", "gm", 1, a_int("transB", 1));
    node(g, BL_OP_MATMUL, "x,m", "mm", 0);
    node(g, BL_OP_TRANSPOSE, "x", "tr", 1, a_ints("perm", 3, (int64_t)0, (int64_t)2, (int64_t)1));
    node(g, BL_OP_SPLIT, "x,sp", "s0,s1", 1, a_int("axis", 2));
    node(g, BL_OP_ADD, "x,c", "bc", 0);
    node(g, BL_OP_PAD, "x,pads", "pd", 1, a_str("mode", "reflect"));
    node(g, BL_OP_REDUCE_MEAN, "x", "rm", 2, a_ints("axes", 1, (int64_t)-1), a_int("keepdims", 0));
    node(g, BL_OP_UNSQUEEZE, "rm", "us", 1, a_ints("axes", 2, (int64_t)1, (int64_t)-1));
    node(g, BL_OP_SQUEEZE, "us", "sq", 1, a_ints("axes", 2, (int64_t)1, (int64_t)3));
    node(g, BL_OP_RESIZE, "x,-,scales", "rs", 1, a_str("mode", "nearest"));
    node(g, BL_OP_SOFTMAX, "x", "sm", 1, a_int("axis", -1));
    node(g, BL_OP_LAYER_NORM, "x,g16", "ln,lm", 1, a_int("axis", -1));
    for (size_t i = 0; i < sizeof outs / sizeof *outs; i++) output(g, outs[i]);
    output(g, "ln");
    output(g, "lm");
    s = prep(g);
    BL_CHECK(s == BL_OK, "%s", bl_error_message());
    EXPECT_SHAPE(g, "gm", "Nx10");
    EXPECT_SHAPE(g, "mm", "Nx5x7");
    EXPECT_SHAPE(g, "tr", "Nx16x5");
    EXPECT_SHAPE(g, "s0", "Nx5x6");
    EXPECT_SHAPE(g, "s1", "Nx5x10");
    EXPECT_SHAPE(g, "bc", "Nx5x16");
    EXPECT_SHAPE(g, "pd", "Nx7x21"); /* pads begin (0,1,2) end (0,1,3): 5+1+1, 16+2+3 */
    EXPECT_SHAPE(g, "rm", "Nx5");
    EXPECT_SHAPE(g, "sq", "Nx5");
    EXPECT_SHAPE(g, "rs", "Nx5x16");
    EXPECT_SHAPE(g, "sm", "Nx5x16");
    EXPECT_SHAPE(g, "ln", "Nx5x16");
    EXPECT_SHAPE(g, "lm", "Nx5x1");
    bl_graph_free(g);
}

/* The batch size used as a value (PyTorch `x * x.shape[0]`): Shape → Gather folds to an int64
 * scalar holding BL_SHAPE_SYM_N, which must carry BL_TENSOR_HAS_SYM_N so that an executor
 * substitutes N; the Cast to float and int64 arithmetic on it stay nodes. */
static void test_sym_n_flag(void) {
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 2, BL_DIM_N, (int64_t)4);
    const_i64(g, "zero", 1, (int64_t[]){0});
    g->tensors[bl_graph_find(g, "zero")].rank = 0; /* scalar index */
    const_i64(g, "one", 1, (int64_t[]){1});
    g->tensors[bl_graph_find(g, "one")].rank = 0;
    const_i64(g, "four", 1, (int64_t[]){4});
    g->tensors[bl_graph_find(g, "four")].rank = 0;
    const_i64(g, "minus1", 1, (int64_t[]){-1});
    node(g, BL_OP_SHAPE, "x", "shp", 0);
    node(g, BL_OP_GATHER, "shp,zero", "n", 1, a_int("axis", 0));   /* N */
    node(g, BL_OP_GATHER, "shp,one", "c", 1, a_int("axis", 0));    /* 4: no N in it */
    node(g, BL_OP_CAST, "n", "nf", 1, a_int("to", BL_DT_FLOAT));   /* float(N): run time */
    node(g, BL_OP_MUL, "x,nf", "y", 0);
    node(g, BL_OP_MUL, "n,four", "n4", 0);                          /* 4·N: no constant form */
    node(g, BL_OP_CAST, "n4", "n4f", 1, a_int("to", BL_DT_FLOAT));
    node(g, BL_OP_ADD, "x,n4f", "y2", 0);
    node(g, BL_OP_CAST, "n", "n64", 1, a_int("to", BL_DT_INT64));  /* int64 → int64: folds */
    node(g, BL_OP_UNSQUEEZE, "n64", "n1", 1, a_ints("axes", 1, (int64_t)0));
    node(g, BL_OP_CONCAT, "n1,minus1", "target", 1, a_int("axis", 0)); /* [N, -1] */
    node(g, BL_OP_RESHAPE, "x,target", "r", 0);
    node(g, BL_OP_CAST, "c", "cf", 1, a_int("to", BL_DT_FLOAT));   /* 4.0: folds */
    node(g, BL_OP_MUL, "x,cf", "y3", 0);
    output(g, "y");
    output(g, "y2");
    output(g, "r");
    output(g, "y3");
    BL_CHECK(prep(g) == BL_OK, "%s", bl_error_message());
    const bl_tensor *t;
#define T_(name) (bl_graph_find(g, name) >= 0 ? &g->tensors[bl_graph_find(g, name)] : NULL)
    t = T_("n");
    BL_CHECK(t && t->data && t->dtype == BL_DT_INT64 && (t->flags & BL_TENSOR_HAS_SYM_N), "n: folded and flagged");
    if (t && t->data) {
        int64_t v = 0;
        bl_tensor_subst_sym_n(t, 3, &v);
        BL_CHECK(v == 3, "n with N=3 reads %" PRId64, v);
    }
    t = T_("target");
    BL_CHECK(t && t->data && (t->flags & BL_TENSOR_HAS_SYM_N), "Reshape target: folded and flagged");
    if (t && t->data) {
        int64_t v[2] = {0, 0};
        bl_tensor_subst_sym_n(t, 5, v);
        BL_CHECK(v[0] == 5 && v[1] == -1, "target with N=5 reads [%" PRId64 ", %" PRId64 "]", v[0], v[1]);
    }
    t = T_("nf");
    BL_CHECK(t && !t->data && t->dtype == BL_DT_FLOAT && t->rank == 0, "float(N) stays a run-time scalar");
    t = T_("n4");
    BL_CHECK(t && !t->data && t->dtype == BL_DT_INT64 && t->rank == 0, "4·N stays a run-time int64 scalar");
    t = T_("cf");
    BL_CHECK(t && t->data && !(t->flags & BL_TENSOR_HAS_SYM_N) && *(const float *)t->data == 4.f, "float(4) folded");
    const char *plain[] = {"c", "four", "minus1"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        t = T_(plain[i]);
        BL_CHECK(!t || !(t->flags & BL_TENSOR_HAS_SYM_N), "%s must not be flagged", plain[i]);
    }
    t = T_("shp");
    BL_CHECK(!t || (t->data && (t->flags & BL_TENSOR_HAS_SYM_N)), "Shape output, when kept, is flagged");
#undef T_
    int casts = 0, muls = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const bl_node *nd = &g->nodes[i];
        casts += nd->op == BL_OP_CAST;
        muls += nd->op == BL_OP_MUL;
        if (nd->op == BL_OP_CAST) {
            const bl_tensor *in = bl_node_input(g, nd, 0);
            BL_CHECK(in->data == NULL || (in->flags & BL_TENSOR_HAS_SYM_N), "a Cast left on a constant reads N");
        }
    }
    /* Cast(n), Cast(n4) and Mul(x,nf), Mul(n,four), Mul(x,cf) stay; Add and Reshape too */
    BL_CHECK(casts == 2 && muls == 3 && g->n_nodes == 7, "%d Cast, %d Mul, %d nodes", casts, muls, g->n_nodes);
    EXPECT_SHAPE(g, "y", "Nx4");
    EXPECT_SHAPE(g, "y2", "Nx4");
    EXPECT_SHAPE(g, "r", "Nx4");
    bl_graph_free(g);
}

/* ConstantOfShape folds when its shape is constant (int64 fill from input 1, float 0 without
 * it); with N in the shape it stays a node of shape N×...; Transpose of a constant folds. */
static void test_constant_of_shape(void) {
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 2, BL_DIM_N, (int64_t)3);
    const_i64(g, "s23", 2, (int64_t[]){2, 3});
    const_i64(g, "seven", 1, (int64_t[]){7});
    const_i64(g, "s4", 1, (int64_t[]){4});
    g->tensors[bl_graph_find(g, "s4")].rank = 0; /* scalar shape, as PyTorch's F.pad export writes it */
    const_i64(g, "r6", 6, (int64_t[]){0, 1, 2, 10, 11, 12});
    const_i64(g, "s23b", 2, (int64_t[]){2, 3});
    const_i64(g, "minus1", 1, (int64_t[]){-1});
    node(g, BL_OP_CONSTANT_OF_SHAPE, "s23,seven", "k7", 0);                       /* [[7,7,7],[7,7,7]] */
    node(g, BL_OP_CONSTANT_OF_SHAPE, "s4", "z4", 0);                              /* float [0,0,0,0] */
    node(g, BL_OP_RESHAPE, "r6,s23b", "m23", 0);                                  /* [[0,1,2],[10,11,12]] */
    node(g, BL_OP_TRANSPOSE, "m23", "m32", 1, a_ints("perm", 2, (int64_t)1, (int64_t)0)); /* [[0,10],[1,11],[2,12]] */
    node(g, BL_OP_ADD, "m32,minus1", "m32b", 0);
    node(g, BL_OP_SHAPE, "x", "xs", 0);                                           /* [N, 3] */
    node(g, BL_OP_CONSTANT_OF_SHAPE, "xs", "zx", 0);                              /* float N×3 zeros */
    node(g, BL_OP_ADD, "x,zx", "y", 0);
    output(g, "y");
    output(g, "k7");
    node(g, BL_OP_IDENTITY, "z4", "z4b", 0);
    output(g, "z4b");
    output(g, "m32b");
    BL_CHECK(prep(g) == BL_OK, "%s", bl_error_message());
    int k = bl_graph_find(g, "k7");
    EXPECT_SHAPE(g, "k7", "2x3");
    /* k7 is a graph output: folding leaves graph outputs to the executor, so only check type */
    BL_CHECK(k >= 0 && g->tensors[k].dtype == BL_DT_INT64, "k7 int64");
    int z = bl_graph_find(g, "z4");
    BL_CHECK(z >= 0 && g->tensors[z].data && g->tensors[z].dtype == BL_DT_FLOAT && g->tensors[z].rank == 1 &&
                 g->tensors[z].dims[0] == 4, "z4: folded float [4]");
    if (z >= 0 && g->tensors[z].data) {
        const float *v = g->tensors[z].data;
        BL_CHECK(v[0] == 0.f && v[3] == 0.f, "zeros");
    }
    int m = bl_graph_find(g, "m32");
    BL_CHECK(m >= 0 && g->tensors[m].data, "Transpose of a constant folded");
    if (m >= 0 && g->tensors[m].data) {
        const int64_t *v = g->tensors[m].data;
        BL_CHECK(v[0] == 0 && v[1] == 10 && v[2] == 1 && v[3] == 11 && v[4] == 2 && v[5] == 12,
                 "transposed %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64, v[0], v[1], v[2],
                 v[3], v[4], v[5]);
    }
    EXPECT_SHAPE(g, "zx", "Nx3");
    int zx = bl_graph_find(g, "zx");
    BL_CHECK(zx >= 0 && !g->tensors[zx].data && g->tensors[zx].dtype == BL_DT_FLOAT, "N×3 zeros stay a node");
    int cos = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == BL_OP_CONSTANT_OF_SHAPE) {
            cos++;
            const bl_tensor *s = bl_node_input(g, &g->nodes[i], 0);
            BL_CHECK(g->nodes[i].outputs[0] != zx || (s->flags & BL_TENSOR_HAS_SYM_N), "its shape input is flagged");
        }
    BL_CHECK(cos == 2, "%d ConstantOfShape left (k7 as output, zx with N)", cos);
    bl_graph_free(g);

    /* a run-time shape input, a negative size and a two-element value are errors */
    const char *bad[] = {"runtime", "negative", "value"};
    for (int c = 0; c < 3; c++) {
        bl_graph_create(&g);
        input(g, "x", 1, (int64_t)2);
        const_i64(g, "neg", 2, (int64_t[]){2, -3});
        const_i64(g, "two", 2, (int64_t[]){1, 1});
        const_i64(g, "s2", 1, (int64_t[]){2});
        if (c == 0) node(g, BL_OP_CAST, "x", "xi", 1, a_int("to", BL_DT_INT64));
        node(g, BL_OP_CONSTANT_OF_SHAPE, c == 0 ? "xi" : c == 1 ? "neg" : "s2,two", "k", 0);
        node(g, BL_OP_IDENTITY, "k", "y", 0);
        output(g, "y");
        bl_status s = prep(g);
        const char *want = c == 0 ? "computed at run time" : c == 1 ? "negative dimension" : "one-element";
        BL_CHECK(s == BL_ERR_MODEL && strstr(bl_error_message(), want), "%s: %s", bad[c], bl_error_message());
        bl_graph_free(g);
    }
}

/* Resize by sizes with keep_aspect_ratio_policy (ONNX): one scale for the listed axes, the
 * min (not_larger) or max (not_smaller) of sizes/in, then round_half_up(scale·in). */
static void test_resize_keep_aspect(void) {
    const char *pol[] = {"not_larger", "not_smaller", "stretch"};
    const char *want[] = {"Nx1x1x2", "Nx1x2x3", "Nx1x1x3"}; /* in 2x4, sizes 1x3: 0.5 | 0.75 → 1.5→2, 3 */
    for (int c = 0; c < 3; c++) {
        bl_graph *g;
        bl_graph_create(&g);
        input(g, "x", 4, BL_DIM_N, (int64_t)1, (int64_t)2, (int64_t)4);
        const_i64(g, "sz", 2, (int64_t[]){1, 3});
        node(g, BL_OP_RESIZE, "x,-,-,sz", "y", 2, a_ints("axes", 2, (int64_t)2, (int64_t)3),
             a_str("keep_aspect_ratio_policy", pol[c]));
        output(g, "y");
        BL_CHECK(prep(g) == BL_OK, "%s: %s", pol[c], bl_error_message());
        EXPECT_SHAPE(g, "y", want[c]);
        bl_graph_free(g);
    }
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 4, BL_DIM_N, (int64_t)1, (int64_t)2, (int64_t)4);
    const_i64(g, "sz", 2, (int64_t[]){1, 3});
    node(g, BL_OP_RESIZE, "x,-,-,sz", "y", 2, a_ints("axes", 2, (int64_t)2, (int64_t)3),
         a_str("keep_aspect_ratio_policy", "sideways"));
    output(g, "y");
    BL_CHECK(prep(g) == BL_ERR_MODEL && strstr(bl_error_message(), "sideways"), "%s", bl_error_message());
    bl_graph_free(g);
}

static void test_sort_and_cycles(void) {
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 2, BL_DIM_N, (int64_t)4);
    node(g, BL_OP_RELU, "b", "c", 0);
    node(g, BL_OP_SIGMOID, "a", "b", 0);
    node(g, BL_OP_TANH, "x", "a", 0);
    output(g, "c");
    BL_CHECK(bl_graph_toposort(g) == BL_OK, "%s", bl_error_message());
    BL_CHECK(g->nodes[0].op == BL_OP_TANH && g->nodes[1].op == BL_OP_SIGMOID && g->nodes[2].op == BL_OP_RELU,
             "order %s %s %s", bl_op_name(g->nodes[0].op), bl_op_name(g->nodes[1].op), bl_op_name(g->nodes[2].op));
    bl_graph_free(g);

    bl_graph_create(&g);
    input(g, "x", 2, BL_DIM_N, (int64_t)4);
    node(g, BL_OP_ADD, "x,q", "p", 0);
    node(g, BL_OP_RELU, "p", "q", 0);
    output(g, "q");
    bl_status s = bl_graph_toposort(g);
    BL_CHECK(s == BL_ERR_MODEL && strstr(bl_error_message(), "cycle"), "cycle: %s", bl_error_message());
    bl_graph_free(g);

    bl_graph_create(&g);
    input(g, "x", 2, BL_DIM_N, (int64_t)4);
    bl_graph_add_tensor(g, "ghost", BL_DT_FLOAT, 1, (int64_t[]){4}, NULL, 0, NULL);
    node(g, BL_OP_ADD, "x,ghost", "y", 0);
    output(g, "y");
    s = bl_graph_toposort(g);
    BL_CHECK(s == BL_ERR_MODEL && strstr(bl_error_message(), "dangling"), "dangling: %s", bl_error_message());
    bl_graph_free(g);
}

static void test_fusion_rules(void) {
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 4, BL_DIM_N, (int64_t)2, (int64_t)6, (int64_t)6);
    const_f32(g, "w", 4, (int64_t[]){4, 2, 3, 3}, 0.1f);
    const_f32(g, "w2", 4, (int64_t[]){4, 4, 1, 1}, 0.1f);
    const_f32(g, "sc", 1, (int64_t[]){4}, 1.f);
    const_f32(g, "lo", 0, NULL, 0.f);
    const_f32(g, "hi", 0, NULL, 6.f);
    /* conv a: output read twice (Relu and Add) → no fusion, no BN folding into it */
    node(g, BL_OP_CONV, "x,w", "a", 1, a_ints("pads", 4, (int64_t)1, (int64_t)1, (int64_t)1, (int64_t)1));
    node(g, BL_OP_RELU, "a", "ar", 0);
    node(g, BL_OP_ADD, "a,ar", "s", 0);
    /* conv b → Clip(0, 6): fused as CLIP with its bounds */
    node(g, BL_OP_CONV, "s,w2", "b", 0);
    node(g, BL_OP_CLIP, "b,lo,hi", "bc", 0);
    /* conv c → BN → LeakyRelu(0.2): BN folded, then fused */
    node(g, BL_OP_CONV, "bc,w2", "c", 0);
    node(g, BL_OP_BATCH_NORM, "c,sc,sc,sc,sc", "cb", 1, a_f("epsilon", 1e-3f));
    node(g, BL_OP_LEAKY_RELU, "cb", "y", 1, a_f("alpha", 0.2f));
    /* conv d is a graph output: its Relu must stay */
    node(g, BL_OP_CONV, "y,w2", "d", 0);
    node(g, BL_OP_RELU, "d", "dr", 0);
    output(g, "d");
    output(g, "dr");
    BL_CHECK(prep(g) == BL_OK, "%s", bl_error_message());
    bl_graph_stats st;
    bl_graph_stats_compute(g, &st);
    BL_CHECK(st.op_counts[BL_OP_CONV] == 4 && st.op_counts[BL_OP_RELU] == 2 && st.op_counts[BL_OP_CLIP] == 0 &&
                 st.op_counts[BL_OP_BATCH_NORM] == 0 && st.op_counts[BL_OP_LEAKY_RELU] == 0,
             "counts conv %d relu %d clip %d bn %d leaky %d", st.op_counts[BL_OP_CONV], st.op_counts[BL_OP_RELU],
             st.op_counts[BL_OP_CLIP], st.op_counts[BL_OP_BATCH_NORM], st.op_counts[BL_OP_LEAKY_RELU]);
    int fused[4] = {0}, k = 0;
    for (int n = 0; n < g->n_nodes; n++)
        if (g->nodes[n].op == BL_OP_CONV) fused[k++] = g->nodes[n].fused_act;
    BL_CHECK(fused[0] == BL_OP_NONE && fused[1] == BL_OP_CLIP && fused[2] == BL_OP_LEAKY_RELU && fused[3] == BL_OP_NONE,
             "fused %s %s %s %s", bl_op_name(fused[0]), bl_op_name(fused[1]), bl_op_name(fused[2]), bl_op_name(fused[3]));
    for (int n = 0; n < g->n_nodes; n++) {
        const bl_node *nd = &g->nodes[n];
        if (nd->fused_act == BL_OP_CLIP) BL_CHECK(nd->act_alpha == 0.f && nd->act_beta == 6.f, "clip bounds");
        if (nd->fused_act == BL_OP_LEAKY_RELU) {
            BL_CHECK(nd->act_alpha == 0.2f, "leaky alpha %g", (double)nd->act_alpha);
            /* BN with scale = shift = mean = var = 1 + 0.01i: s = sc/sqrt(var+eps) */
            const bl_tensor *w = bl_node_input(g, nd, 1), *b = bl_node_input(g, nd, 2);
            BL_CHECK(b && b->data, "bias created");
            if (b && b->data) {
                for (int o = 0; o < 4; o++) {
                    double v = 1.0 + 0.01 * o, s = v / sqrt(v + 1e-3);
                    double want_b = (0.0 - v) * s + v, want_w0 = (0.1 + 0.01 * (o * 4)) * s;
                    BL_CHECK(fabs(((float *)b->data)[o] - want_b) < 1e-6, "bias %d %g vs %g", o,
                             (double)((float *)b->data)[o], want_b);
                    BL_CHECK(fabs(((float *)w->data)[o * 4] - want_w0) < 1e-6, "weight %d", o);
                }
            }
        }
    }
    /* the original w2 initializer, shared by three convs, is untouched */
    int w2 = bl_graph_find(g, "w2");
    BL_CHECK(w2 >= 0 && fabsf(((float *)g->tensors[w2].data)[4] - 0.14f) < 1e-7f, "shared weights modified");
    bl_graph_free(g);
}

static void test_stats_residual(void) {
    /* x[N,4] → a = Relu(x) → b = Sigmoid(a) → y = Add(a, b): bytes per item 16 each.
     * live: x 16; +a 32, then x freed → 16; +b 32; +y 48, then a and b freed → peak 48. */
    bl_graph *g;
    bl_graph_create(&g);
    input(g, "x", 2, BL_DIM_N, (int64_t)4);
    node(g, BL_OP_RELU, "x", "a", 0);
    node(g, BL_OP_SIGMOID, "a", "b", 0);
    node(g, BL_OP_ADD, "a,b", "y", 0);
    output(g, "y");
    BL_CHECK(prep(g) == BL_OK, "%s", bl_error_message());
    bl_graph_stats st;
    BL_CHECK(bl_graph_stats_compute(g, &st) == BL_OK, "stats");
    BL_CHECK(st.activation_bytes == 48, "total %" PRId64, st.activation_bytes);
    BL_CHECK(st.peak_activation_bytes == 48, "peak %" PRId64, st.peak_activation_bytes);
    BL_CHECK(st.params == 0 && st.flops == 0, "params %" PRId64 " flops %" PRId64, st.params, st.flops);
    bl_graph_free(g);
}

int main(void) {
    test_conv_shapes();
    test_pool_shapes();
    test_reshape_chain();
    test_fold_values();
    test_misc_shapes();
    test_sym_n_flag();
    test_constant_of_shape();
    test_resize_keep_aspect();
    test_sort_and_cycles();
    test_fusion_rules();
    test_stats_residual();
    return bl_test_finish("test_graph");
}
