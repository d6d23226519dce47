/* test_exec_fuse.c — the CPU executor's fused and oneDNN-layout paths against its reference
 * mode (bl_exec_opts.no_fusion: one step per node, plain layouts, plain-C element-wise ops).
 *
 * A graph built in code holds every pattern cpu_fuse.c rewrites: Conv → Add(conv, earlier
 * tensor) → Relu (sum post-op written in place), a second residual Add without Relu whose
 * addend comes from a oneDNN binary, Conv → Sigmoid → Mul (swish) on a plain and a depthwise
 * conv, a squeeze-excitation block (GlobalAveragePool, 1×1 convs, broadcast Mul) and a
 * binary Add + Relu; MaxPool and AveragePool in between. The fused run must agree with the
 * reference within 1e-5 relative (norm) for batches 1, 3 and 5 and 1 and 2 threads (also
 * after bl_exec_set_threads, which makes the oneDNN steps rebuild their primitives), fold
 * exactly the expected nodes, and keep tensors in oneDNN layouts. A second graph reads the
 * residual's addend again after the Conv, a third adds a Conv's own input to its output: the
 * in-place sum must be refused in both (else a read sees the half-written sum). A fourth
 * graph ends in a squeeze-excitation block whose scale Mul writes in place into its input
 * (nothing reads that afterwards), a GlobalAveragePool on a oneDNN layout with padded channel
 * blocks (20 channels) and a Gemm with constant weights and bias (oneDNN inner product).
 * A sixth graph ends in a residual block whose sum goes straight to the graph output: the
 * addend's buffer must be plain, so the Conv computes in its own layout in the workspace with
 * the addend reordered in (cpu_conv.c, sum_ws); the sum must still be fused.
 * A fifth graph holds batch-1 layers over large weights, which run through cpu_skinny.c
 * where the CPU has AVX-512: 3×3 convolutions of 256 channels on a 2×3 map (6 output
 * pixels, so a panel with empty rows, and taps in the padding; 2.4 MB of weights each) plain, with a fused ReLU and with a residual sum + ReLU,
 * one with a swish (which stays with oneDNN), a 1×1 convolution to 1024 channels (1 MiB),
 * GlobalAveragePool, Flatten and a Gemm with 1.2 MB of weights; after a batch-1 run exactly
 * the four convolutions and the Gemm (and the Gemm at the max batch) must have been built
 * for it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/cpu_exec.h" /* bl_cpu_skinny_available */
#include "models/exec.h"  /* bl_exec_* */
#include "models/graph.h" /* graph building */
#include "testutil.h"

static bl_attr attr_ints(const char *name, const int64_t *v, size_t n) {
    bl_attr a = {0};
    a.name = strdup(name), a.type = BL_ATTR_INTS, a.n = n;
    a.ints = malloc(n * sizeof *a.ints);
    memcpy(a.ints, v, n * sizeof *a.ints);
    return a;
}

static bl_attr attr_int(const char *name, int64_t v) {
    bl_attr a = {0};
    a.name = strdup(name), a.type = BL_ATTR_INT, a.i = v;
    return a;
}

static int tensor(bl_graph *g, const char *name) {
    int t;
    bl_graph_add_tensor_unique(g, name, BL_DT_FLOAT, -1, NULL, NULL, 0, &t);
    return t;
}

static unsigned seed = 1;
static float rnd(void) { /* deterministic, in [-1, 1) */
    seed = seed * 1103515245u + 12345u;
    return (float)((seed >> 8) & 0xffff) / 32768.f - 1.f;
}

static int constant(bl_graph *g, const char *name, int rank, const int64_t *dims, float scale) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *d = malloc((size_t)n * sizeof *d);
    for (int64_t i = 0; i < n; i++) d[i] = rnd() * scale;
    int t;
    bl_graph_add_tensor_unique(g, name, BL_DT_FLOAT, rank, dims, d, (size_t)n * sizeof *d, &t);
    g->tensors[t].flags |= BL_TENSOR_INITIALIZER;
    return t;
}

/* Conv with oc×(ic/group)×k×k weights, bias, stride 1 and "same" padding. */
static int conv(bl_graph *g, int x, int64_t ic, int64_t oc, int64_t k, int64_t group) {
    int64_t wd[4] = {oc, ic / group, k, k}, bd[1] = {oc};
    int w = constant(g, "w", 4, wd, 1.f / sqrtf((float)(ic / group * k * k)));
    int b = constant(g, "b", 1, bd, 0.1f);
    int y = tensor(g, "conv");
    int64_t pads[4] = {k / 2, k / 2, k / 2, k / 2};
    bl_attr *a = calloc(2, sizeof *a);
    a[0] = attr_ints("pads", pads, 4);
    a[1] = attr_int("group", group);
    int in[3] = {x, w, b};
    bl_graph_add_node(g, "", BL_OP_CONV, in, 3, &y, 1, a, 2, NULL);
    return y;
}

static int unary(bl_graph *g, bl_op op, int x) {
    int y = tensor(g, bl_op_name(op));
    bl_graph_add_node(g, "", op, &x, 1, &y, 1, NULL, 0, NULL);
    return y;
}

static int binary(bl_graph *g, bl_op op, int a, int b) {
    int y = tensor(g, bl_op_name(op)), in[2] = {a, b};
    bl_graph_add_node(g, "", op, in, 2, &y, 1, NULL, 0, NULL);
    return y;
}

static int pool(bl_graph *g, bl_op op, int x) {
    int y = tensor(g, bl_op_name(op));
    int64_t k[2] = {2, 2};
    bl_attr *a = calloc(2, sizeof *a);
    a[0] = attr_ints("kernel_shape", k, 2);
    a[1] = attr_ints("strides", k, 2);
    bl_graph_add_node(g, "", op, &x, 1, &y, 1, a, 2, NULL);
    return y;
}

static bl_graph *begin(int64_t c, int64_t h, int64_t w, int *x) {
    bl_graph *g;
    bl_graph_create(&g);
    int64_t dims[4] = {BL_DIM_N, c, h, w};
    bl_graph_add_tensor(g, "x", BL_DT_FLOAT, 4, dims, NULL, 0, x);
    g->tensors[*x].flags |= BL_TENSOR_INPUT;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = *x, g->n_inputs = 1;
    return g;
}

static bl_status finish(bl_graph *g, int y) {
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = y, g->n_outputs = 1;
    g->tensors[y].flags |= BL_TENSOR_OUTPUT;
    bl_prepare_opts po = bl_prepare_opts_default();
    bl_status s = bl_graph_link(g);
    if (s == BL_OK) s = bl_graph_prepare(g, &po);
    return s;
}

/* The pattern zoo described at the top. */
static bl_graph *build_zoo(void) {
    int x;
    bl_graph *g = begin(3, 12, 16, &x);
    int t1 = conv(g, x, 3, 16, 3, 1);
    int t2 = pool(g, BL_OP_MAX_POOL, t1);                  /* [N,16,6,8] */
    int t3 = unary(g, BL_OP_RELU, conv(g, t2, 16, 16, 3, 1)); /* prepare fuses this Relu */
    int t4 = conv(g, t3, 16, 16, 3, 1);
    int t6 = unary(g, BL_OP_RELU, binary(g, BL_OP_ADD, t4, t2)); /* residual: sum + relu */
    int t7 = conv(g, t6, 16, 24, 1, 1);
    int t9 = binary(g, BL_OP_MUL, t7, unary(g, BL_OP_SIGMOID, t7)); /* swish */
    int t10 = conv(g, t9, 24, 24, 3, 24);                             /* depthwise */
    int t12 = binary(g, BL_OP_MUL, unary(g, BL_OP_SIGMOID, t10), t10); /* swish, operands swapped */
    int t13 = unary(g, BL_OP_GLOBAL_AVERAGE_POOL, t12);
    int t14 = unary(g, BL_OP_RELU, conv(g, t13, 24, 6, 1, 1));
    int t15 = unary(g, BL_OP_SIGMOID, conv(g, t14, 6, 24, 1, 1));
    int t16 = binary(g, BL_OP_MUL, t15, t12); /* broadcast first: the executor swaps it */
    int ta = binary(g, BL_OP_SUB, t12, t16);
    int t17 = conv(g, t16, 24, 24, 1, 1);
    int t18 = binary(g, BL_OP_ADD, ta, t17); /* residual whose addend is a oneDNN binary's */
    int t20 = unary(g, BL_OP_RELU, binary(g, BL_OP_ADD, t18, t12)); /* binary + relu */
    int t21 = pool(g, BL_OP_AVERAGE_POOL, t20);
    int t22 = unary(g, BL_OP_GLOBAL_AVERAGE_POOL, t21);
    int y = tensor(g, "flat");
    bl_graph_add_node(g, "", BL_OP_FLATTEN, &t22, 1, &y, 1, NULL, 0, NULL);
    bl_status s = finish(g, y);
    BL_CHECK(s == BL_OK, "zoo graph: %s", bl_error_message());
    if (s != BL_OK) bl_graph_free(g), g = NULL;
    return g;
}

/* Add(conv(t0), t0) whose addend t0 is read again afterwards by a Mul. */
static bl_graph *build_late_read(void) {
    int x;
    bl_graph *g = begin(4, 8, 8, &x);
    int t0 = conv(g, x, 4, 16, 3, 1);
    int u = conv(g, t0, 16, 16, 3, 1);
    int s = binary(g, BL_OP_ADD, u, t0);
    int y = binary(g, BL_OP_MUL, s, t0);
    bl_status st = finish(g, y);
    BL_CHECK(st == BL_OK, "late-read graph: %s", bl_error_message());
    if (st != BL_OK) bl_graph_free(g), g = NULL;
    return g;
}

/* Add(conv(t0), t0): the Conv reads the addend itself, so it cannot sum into its buffer. */
static bl_graph *build_self_read(void) {
    int x;
    bl_graph *g = begin(4, 8, 8, &x);
    int t0 = conv(g, x, 4, 16, 3, 1);
    int y = binary(g, BL_OP_ADD, conv(g, t0, 16, 16, 3, 1), t0);
    bl_status st = finish(g, y);
    BL_CHECK(st == BL_OK, "self-read graph: %s", bl_error_message());
    if (st != BL_OK) bl_graph_free(g), g = NULL;
    return g;
}

/* Squeeze-excitation with an in-place scale, then GlobalAveragePool → Flatten → Gemm. */
static bl_graph *build_se_head(void) {
    int x;
    bl_graph *g = begin(3, 10, 12, &x);
    int t0 = conv(g, x, 3, 20, 3, 1);
    int t1 = binary(g, BL_OP_MUL, t0, unary(g, BL_OP_SIGMOID, t0)); /* swish */
    int t2 = unary(g, BL_OP_GLOBAL_AVERAGE_POOL, t1);
    int t3 = unary(g, BL_OP_RELU, conv(g, t2, 20, 5, 1, 1));
    int t4 = unary(g, BL_OP_SIGMOID, conv(g, t3, 5, 20, 1, 1));
    int t5 = binary(g, BL_OP_MUL, t1, t4); /* t1 is not read again: in place */
    int t6 = conv(g, t5, 20, 20, 1, 1);
    int t7 = unary(g, BL_OP_GLOBAL_AVERAGE_POOL, t6);
    int f = tensor(g, "flat");
    bl_graph_add_node(g, "", BL_OP_FLATTEN, &t7, 1, &f, 1, NULL, 0, NULL);
    int64_t wd[2] = {7, 20}, bd[1] = {7};
    int in[3] = {f, constant(g, "fc_w", 2, wd, 0.3f), constant(g, "fc_b", 1, bd, 0.1f)};
    int y = tensor(g, "fc");
    bl_attr *a = calloc(1, sizeof *a);
    a[0] = attr_int("transB", 1);
    bl_graph_add_node(g, "", BL_OP_GEMM, in, 3, &y, 1, a, 1, NULL);
    bl_status st = finish(g, y);
    BL_CHECK(st == BL_OK, "se-head graph: %s", bl_error_message());
    if (st != BL_OK) bl_graph_free(g), g = NULL;
    return g;
}

/* A residual sum into a plain buffer (the graph output), as described at the top. */
static bl_graph *build_plain_sum(void) {
    int x;
    bl_graph *g = begin(3, 12, 16, &x);
    int t0 = unary(g, BL_OP_RELU, conv(g, x, 3, 24, 3, 1));
    /* a plain-C Sigmoid reads t1: t1 is plain too, so its Conv also passes through the
     * workspace, which then holds t1 and not the addend t0 */
    int t1 = unary(g, BL_OP_SIGMOID, unary(g, BL_OP_RELU, conv(g, t0, 24, 24, 3, 1)));
    int y = unary(g, BL_OP_RELU, binary(g, BL_OP_ADD, conv(g, t1, 24, 24, 3, 1), t0));
    bl_status st = finish(g, y);
    BL_CHECK(st == BL_OK, "plain-sum graph: %s", bl_error_message());
    if (st != BL_OK) bl_graph_free(g), g = NULL;
    return g;
}

/* Batch-1 layers over large weights (cpu_skinny.c), as described at the top. */
static bl_graph *build_skinny(void) {
    int x;
    bl_graph *g = begin(256, 2, 3, &x);
    int t0 = conv(g, x, 256, 256, 3, 1);
    int t1 = unary(g, BL_OP_RELU, conv(g, t0, 256, 256, 3, 1));
    int t2 = unary(g, BL_OP_RELU, binary(g, BL_OP_ADD, conv(g, t1, 256, 256, 3, 1), t0)); /* sum into t0 */
    int c3 = conv(g, t2, 256, 256, 3, 1);
    int t3 = binary(g, BL_OP_MUL, c3, unary(g, BL_OP_SIGMOID, c3)); /* swish */
    int t4 = conv(g, t3, 256, 1024, 1, 1);
    int t5 = unary(g, BL_OP_GLOBAL_AVERAGE_POOL, t4);
    int f = tensor(g, "flat");
    bl_graph_add_node(g, "", BL_OP_FLATTEN, &t5, 1, &f, 1, NULL, 0, NULL);
    int64_t wd[2] = {300, 1024}, bd[1] = {300};
    int in[3] = {f, constant(g, "fc_w", 2, wd, 0.03f), constant(g, "fc_b", 1, bd, 0.1f)};
    int y = tensor(g, "fc");
    bl_attr *a = calloc(1, sizeof *a);
    a[0] = attr_int("transB", 1);
    bl_graph_add_node(g, "", BL_OP_GEMM, in, 3, &y, 1, a, 1, NULL);
    bl_status st = finish(g, y);
    BL_CHECK(st == BL_OK, "skinny graph: %s", bl_error_message());
    if (st != BL_OK) bl_graph_free(g), g = NULL;
    return g;
}

static double rel_norm(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) num += (double)(a[i] - b[i]) * (a[i] - b[i]), den += (double)b[i] * b[i];
    return sqrt(num / (den > 0 ? den : 1));
}

static bl_exec *make(const bl_graph *g, bool no_fusion, int threads, bl_exec_stats *st) {
    bl_exec_opts o = bl_exec_opts_default();
    o.max_batch = 5, o.threads = threads, o.no_fusion = no_fusion;
    bl_exec *ex = NULL;
    bl_status s = bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex);
    BL_CHECK(s == BL_OK, "create (no_fusion %d): %s", no_fusion, bl_error_message());
    if (ex) bl_exec_get_stats(ex, st);
    return ex;
}

/* Fused vs reference on batches 1, 3, 5 and threads 1, 2; returns the fused stats. */
static void compare(const char *what, const bl_graph *g, bl_exec_stats *fused_st) {
    const bl_tensor *ti = &g->tensors[g->inputs[0]], *to = &g->tensors[g->outputs[0]];
    size_t in_item = (size_t)bl_tensor_numel(ti, 1), out_item = (size_t)bl_tensor_numel(to, 1);
    float *x = malloc(5 * in_item * sizeof *x), *y = calloc(5 * out_item, sizeof *y), *r = calloc(5 * out_item, sizeof *r);
    for (size_t i = 0; i < 5 * in_item; i++) x[i] = rnd();
    bl_exec_stats rs;
    bl_exec *ref = make(g, true, 1, &rs);
    BL_CHECK(ref && rs.n_fused == 0 && rs.n_backend_layout == 0, "%s: reference mode fused %d nodes, %d blocked", what,
             rs.n_fused, rs.n_backend_layout);
    for (int threads = 1; threads <= 2; threads++) {
        bl_exec *ex = make(g, false, threads, fused_st);
        if (!ex || !ref) break;
        const int64_t batches[3] = {1, 3, 5};
        for (int k = 0; k < 3; k++) {
            int64_t b = batches[k];
            const void *in[1] = {x};
            void *oy[1] = {y}, *orr[1] = {r};
            memset(y, 0, 5 * out_item * sizeof *y);
            BL_CHECK(bl_exec_run(ex, b, in, oy) == BL_OK, "%s: run: %s", what, bl_error_message());
            BL_CHECK(bl_exec_run(ref, b, in, orr) == BL_OK, "%s: reference run: %s", what, bl_error_message());
            double e = rel_norm(y, r, (size_t)b * out_item);
            BL_CHECK(e <= 1e-5, "%s: batch %lld, %d threads: relative error %.3g vs the reference", what, (long long)b,
                     threads, e);
            /* twice in a row: fused in-place updates must not leak into the next run */
            BL_CHECK(bl_exec_run(ex, b, in, oy) == BL_OK, "%s: rerun", what);
            double e2 = rel_norm(y, r, (size_t)b * out_item);
            BL_CHECK(e2 <= 1e-5, "%s: batch %lld rerun: relative error %.3g", what, (long long)b, e2);
        }
        bl_exec_free(ex);
    }
    /* a thread-count change after creation rebuilds the primitives and keeps the results */
    bl_exec_stats st2;
    bl_exec *ex = make(g, false, 1, &st2);
    if (ex && ref) {
        const void *in[1] = {x};
        void *oy[1] = {y}, *orr[1] = {r};
        BL_CHECK(bl_exec_run(ex, 5, in, oy) == BL_OK, "%s: run: %s", what, bl_error_message());
        BL_CHECK(bl_exec_set_threads(ex, 2) == BL_OK, "%s: set_threads: %s", what, bl_error_message());
        for (int64_t b = 5; b >= 3; b -= 2) {
            BL_CHECK(bl_exec_run(ex, b, in, oy) == BL_OK, "%s: run after set_threads: %s", what, bl_error_message());
            BL_CHECK(bl_exec_run(ref, b, in, orr) == BL_OK, "%s: reference run", what);
            double e = rel_norm(y, r, (size_t)b * out_item);
            BL_CHECK(e <= 1e-5, "%s: batch %lld after set_threads(2): relative error %.3g", what, (long long)b, e);
        }
    }
    bl_exec_free(ex);
    bl_exec_free(ref);
    free(x), free(y), free(r);
}

int main(void) {
    bl_graph *g = build_zoo();
    if (g) {
        bl_exec_stats st = {0};
        compare("zoo", g, &st);
        /* folded: 2×(Sigmoid+Mul), Add+Relu (sum), Add (sum), Relu (into the binary Add) = 8 */
        BL_CHECK(st.n_fused == 8, "zoo: %d nodes folded, expected 8", st.n_fused);
        BL_CHECK(st.n_backend_layout >= 4, "zoo: only %d buffers in oneDNN layouts", st.n_backend_layout);
        bl_graph_free(g);
    }
    g = build_late_read();
    if (g) {
        bl_exec_stats st = {0};
        compare("late read", g, &st);
        BL_CHECK(st.n_fused == 0, "late read: the residual Add was fused (%d) although its addend is read later",
                 st.n_fused);
        bl_graph_free(g);
    }
    g = build_self_read();
    if (g) {
        bl_exec_stats st = {0};
        compare("self read", g, &st);
        BL_CHECK(st.n_fused == 0, "self read: the residual Add was fused (%d) into the Conv that reads its addend",
                 st.n_fused);
        bl_graph_free(g);
    }
    g = build_se_head();
    if (g) {
        bl_exec_stats st = {0};
        compare("se head", g, &st);
        BL_CHECK(st.n_fused == 2, "se head: %d nodes folded, expected 2 (the swish)", st.n_fused);
        bl_graph_free(g);
    }
    g = build_plain_sum();
    if (g) {
        bl_exec_stats st = {0};
        compare("plain sum", g, &st);
        BL_CHECK(st.n_fused == 2, "plain sum: %d nodes folded, expected 2 (Add + Relu)", st.n_fused);
        bl_graph_free(g);
    }
    g = build_skinny();
    if (g) {
        bl_exec_stats st = {0};
        compare("skinny", g, &st);
        BL_CHECK(st.n_fused == 4, "skinny: %d nodes folded, expected 4 (sum + ReLU, swish)", st.n_fused);
        /* which steps were built for cpu_skinny.c: the Gemm at the max batch (5 rows) at
         * creation; after a batch-1 run also four convolutions and the Gemm at batch 1 */
        bl_exec *ex = make(g, false, 1, &st);
        int want0 = bl_cpu_skinny_available() ? 1 : 0, want1 = bl_cpu_skinny_available() ? 6 : 0;
        BL_CHECK(st.n_streamed == want0, "skinny: %d streamed instances at creation, expected %d", st.n_streamed, want0);
        if (ex) {
            float *xin = calloc(256 * 6, sizeof *xin), *yout = calloc(300, sizeof *yout);
            const void *in[1] = {xin};
            void *out[1] = {yout};
            BL_CHECK(bl_exec_run(ex, 1, in, out) == BL_OK, "skinny: batch-1 run: %s", bl_error_message());
            bl_exec_stats s1 = {0};
            bl_exec_get_stats(ex, &s1);
            BL_CHECK(s1.n_streamed == want1, "skinny: %d streamed instances after a batch-1 run, expected %d",
                     s1.n_streamed, want1);
            free(xin), free(yout);
        }
        bl_exec_free(ex);
        bl_graph_free(g);
    }
    return bl_test_finish("test_exec_fuse");
}
