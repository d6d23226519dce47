/* test_exec_nan.c — NaN (and inf) propagation of the CPU executor, as ONNX defines it.
 *
 * ONNX propagates NaN through every op baleen runs: Relu, Clip, HardSigmoid, MaxPool,
 * ReduceMax of a NaN are NaN, sums with a NaN are NaN. oneDNN's ReLU and Clip post-ops and its
 * max pooling drop NaN, so the executor re-runs the items whose inputs hold NaN or inf in its
 * reference mode (exec_cpu.c); its own kernels propagate NaN on every path.
 *
 * Kernels: bl_cpu_maxpool_view on plain (channel-major), channels-last, nChw16c and nChw8c
 * tensors with NaN taps in two of three items: a window with a NaN tap is NaN, every other
 * output equals a NaN-propagating plain reference exactly, items without NaN equal a run on
 * the same data without NaN, on 1 and 2 threads. bl_cpu_swish_inplace: NaN and -inf give NaN,
 * inf gives inf (x · sigmoid(x) in ONNX), the other lanes are untouched by the specials.
 *
 * Graphs through the executor, batch 4, NaN in items 1 (one element) and 3 (all of it):
 *  - unary ops (Relu, Clip, HardSigmoid, LeakyRelu, Sigmoid): NaN exactly where the input is
 *    NaN, the formula elsewhere; Relu of ±inf is 0 / inf (not NaN: the re-run is exact, it
 *    does not mark items);
 *  - ReduceMax over H, W and MaxPool 2x2 on the plain graph input: NaN exactly for the
 *    slices/windows holding a NaN;
 *  - Conv 3x3 (+ fused Relu or Clip: oneDNN post-ops) → MaxPool 2x2 → Conv 1x1: the NaN
 *    pattern that the receptive fields give, the other outputs of item 1 within 1e-5 of a
 *    clean run;
 * and for each: the items without NaN give exactly the bytes of a run whose NaN items hold
 * clean data, and a clean batch run after the NaN batch on the same executor gives the same
 * bytes as a fresh executor (no NaN left behind in reused buffers). A graph whose output is
 * not item-major (Conv + Relu → Transpose to [C, N, H, W]) is re-run whole: the same NaN
 * pattern, the other values within 1e-5 of the clean run.
 * The fast path's own kernels with a NaN or -inf that appears inside the graph (Sqrt or Log of
 * the input, so no re-run): Sqrt → Conv → MaxPool → Conv with 16 channels (MaxPool on
 * nChw16c with AVX-512, nChw8c with AVX2) and with 8 (channels-last), at batch 3, and
 * Log → Conv → Sigmoid → Mul (the swish pass) → Conv: NaN and inf exactly where the reference
 * mode has them, the other values within 1e-5; a batch-1 Conv of 256 channels with a fused
 * Relu after a Sqrt (cpu_skinny.c's product and ReLU with AVX-512) likewise; and the
 * per-channel Add + ReLU kernel on channels-last (bl_cpu_chan_binary_view) with a NaN in x
 * and in a scale.
 * The zoo model (models/zoo/whalecall-small): items with NaN score NaN, the others exactly as
 * without the NaN items, at batch 4 and for a batch-2 all-NaN input.
 */
#include <dnnl.h>   /* reorders into the MaxPool layouts under test */
#include <math.h>   /* NAN, INFINITY, isnan, isinf */
#include <stdlib.h> /* malloc */
#include <string.h> /* memcmp */

#include "models/cpu_exec.h"  /* bl_cpu_view_of, bl_cpu_maxpool_view, bl_cpu_swish_inplace */
#include "models/exec.h"      /* bl_exec_* */
#include "models/graph.h"     /* graph building */
#include "models/onnx_load.h" /* bl_model_load */
#include "testutil.h"

static unsigned seed = 5;
static float rnd(void) { /* deterministic, in [-1, 1) */
    seed = seed * 1103515245u + 12345u;
    return (float)((seed >> 8) & 0xffff) / 32768.f - 1.f;
}

/* a == b, NaN equal to NaN */
static bool same(float a, float b) { return (isnan(a) && isnan(b)) || a == b; }

/* ---- MaxPool on every layout (bl_cpu_maxpool_view) ----------------------------------- */

enum { PN = 3, PC = 20, PH = 6, PW = 7 };

static int reorder(dnnl_engine_t eng, dnnl_stream_t st, const dnnl_memory_desc_t *a, const void *src,
                   const dnnl_memory_desc_t *b, void *dst) {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t p;
    dnnl_memory_t ma, mb;
    BL_REQUIRE(dnnl_reorder_primitive_desc_create(&pd, a, eng, b, eng, NULL) == dnnl_success, "reorder pd");
    BL_REQUIRE(dnnl_primitive_create(&p, pd) == dnnl_success, "reorder");
    dnnl_memory_create(&ma, a, eng, (void *)src);
    dnnl_memory_create(&mb, b, eng, dst);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, ma}, {DNNL_ARG_TO, mb}};
    BL_REQUIRE(dnnl_primitive_execute(p, st, 2, args) == dnnl_success, "reorder run");
    dnnl_stream_wait(st);
    dnnl_memory_destroy(ma), dnnl_memory_destroy(mb), dnnl_primitive_destroy(p), dnnl_primitive_desc_destroy(pd);
    return 0;
}

/* 3x3 windows, stride 2, pad 1 (the last window reaches past the input): ONNX's MaxPool with
 * NaN propagation, on plain x [PN, PC, PH, PW] into r [PN, PC, 3, 4]. */
static void maxpool_ref(const float *x, float *r) {
    for (int nc = 0; nc < PN * PC; nc++)
        for (int oh = 0; oh < 3; oh++)
            for (int ow = 0; ow < 4; ow++) {
                float m = -INFINITY;
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++) {
                        int ih = oh * 2 - 1 + a, iw = ow * 2 - 1 + b;
                        if (ih < 0 || ih >= PH || iw < 0 || iw >= PW) continue;
                        float v = x[(nc * PH + ih) * PW + iw];
                        m = isnan(v) || isnan(m) ? NAN : (v > m ? v : m);
                    }
                r[(nc * 3 + oh) * 4 + ow] = m;
            }
}

/* The pool of x in layout `tag` on `threads` threads, back to plain in out. */
static int pool_in_layout(dnnl_engine_t eng, dnnl_stream_t st, const float *x, dnnl_format_tag_t tag, int threads,
                          float *out) {
    dnnl_dims_t xd = {PN, PC, PH, PW}, yd = {PN, PC, 3, 4};
    dnnl_memory_desc_t xp, xm, yp, ym;
    dnnl_memory_desc_init_by_tag(&xp, 4, xd, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&xm, 4, xd, dnnl_f32, tag);
    dnnl_memory_desc_init_by_tag(&yp, 4, yd, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&ym, 4, yd, dnnl_f32, tag);
    float *bx = calloc(PN * 32 * PH * PW, sizeof *bx), *by = calloc(PN * 32 * 3 * 4, sizeof *by);
    BL_REQUIRE(bx && by, "alloc");
    BL_REQUIRE(reorder(eng, st, &xp, x, &xm, bx) == 0, "reorder in");
    bl_cpu_view vx, vy;
    BL_REQUIRE(bl_cpu_view_of(&xm, &vx) && bl_cpu_view_of(&ym, &vy), "view refused");
    int64_t k[3] = {1, 3, 3}, s[3] = {1, 2, 2}, d[3] = {1, 1, 1}, p[3] = {0, 1, 1};
    bl_cpu_maxpool_view(bx, &vx, by, &vy, k, s, d, p, threads);
    BL_REQUIRE(reorder(eng, st, &ym, by, &yp, out) == 0, "reorder out");
    free(bx), free(by);
    return 0;
}

static void test_maxpool_layouts(void) {
    dnnl_engine_t eng;
    dnnl_stream_t st;
    if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success) {
        BL_CHECK(0, "oneDNN engine");
        return;
    }
    dnnl_stream_create(&st, eng, dnnl_stream_default_flags);
    enum { NX = PN * PC * PH * PW, NY = PN * PC * 3 * 4 };
    float clean[NX], x[NX], ref[NY], got[NY], got_clean[NY];
    for (int i = 0; i < NX; i++) clean[i] = x[i] = rnd();
    /* item 0: one NaN in channel 3 (row 3, col 3: a tap of four windows) and one in channel
     * 17 (last row, col 0: one window); item 2: all of channel 9 (12 windows), one NaN in
     * channel 12 (row 0, col 6: the last window, which reaches past the input) and a -inf,
     * which is not NaN, in channel 13 */
    x[((0 * PC + 3) * PH + 3) * PW + 3] = NAN;
    x[((0 * PC + 17) * PH + 5) * PW + 0] = NAN;
    for (int i = 0; i < PH * PW; i++) x[(2 * PC + 9) * PH * PW + i] = NAN;
    x[((2 * PC + 12) * PH + 0) * PW + 6] = NAN;
    x[((2 * PC + 13) * PH + 3) * PW + 3] = -INFINITY;
    maxpool_ref(x, ref);
    int n_nan = 0;
    for (int i = 0; i < NY; i++) n_nan += isnan(ref[i]);
    BL_CHECK(n_nan == 4 + 1 + 12 + 1, "reference: %d NaN windows, expected 18", n_nan);
    const dnnl_format_tag_t tags[] = {dnnl_nchw, dnnl_nhwc, dnnl_nChw16c, dnnl_nChw8c};
    const char *names[] = {"plain", "channels-last", "nChw16c", "nChw8c"};
    for (int li = 0; li < 4; li++)
        for (int threads = 1; threads <= 2; threads++) {
            if (pool_in_layout(eng, st, x, tags[li], threads, got) || pool_in_layout(eng, st, clean, tags[li], threads,
                                                                                     got_clean)) {
                BL_CHECK(0, "%s: pool failed", names[li]);
                continue;
            }
            int wrong = 0, moved = 0;
            for (int i = 0; i < NY; i++) {
                wrong += !same(got[i], ref[i]);
                moved += i / (PC * 12) == 1 && got[i] != got_clean[i]; /* item 1 has no NaN */
            }
            BL_CHECK(wrong == 0, "%s, %d threads: %d of %d outputs differ from the NaN-propagating reference",
                     names[li], threads, wrong, NY);
            BL_CHECK(moved == 0, "%s, %d threads: item 1 (no NaN) changed in %d outputs", names[li], threads, moved);
        }
    dnnl_stream_destroy(st);
    dnnl_engine_destroy(eng);
}

/* Per-channel Add + ReLU (bl_cpu_chan_binary_view, the squeeze-excitation path) on a
 * channels-last tensor: NaN in x or in the channel's scale gives NaN. */
static void test_chan_relu(void) {
    dnnl_engine_t eng;
    dnnl_stream_t st;
    if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success) {
        BL_CHECK(0, "oneDNN engine");
        return;
    }
    dnnl_stream_create(&st, eng, dnnl_stream_default_flags);
    enum { NX = PN * PC * PH * PW };
    float x[NX], sc[PN * PC], y[NX], back[NX];
    for (int i = 0; i < NX; i++) x[i] = rnd();
    for (int i = 0; i < PN * PC; i++) sc[i] = rnd();
    x[((0 * PC + 4) * PH + 1) * PW + 2] = NAN;
    sc[2 * PC + 7] = NAN; /* a whole channel of item 2 */
    dnnl_dims_t xd = {PN, PC, PH, PW}, sd = {PN, PC, 1, 1};
    dnnl_memory_desc_t xp, xm, smd;
    dnnl_memory_desc_init_by_tag(&xp, 4, xd, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&xm, 4, xd, dnnl_f32, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, dnnl_nchw);
    float bx[NX];
    bl_cpu_view vx, vs;
    if (reorder(eng, st, &xp, x, &xm, bx) || !bl_cpu_view_of(&xm, &vx) || !bl_cpu_view_of(&smd, &vs)) {
        BL_CHECK(0, "per-channel add: setup");
    } else {
        for (int threads = 1; threads <= 2; threads++) {
            bl_cpu_chan_binary_view(BL_OP_ADD, bx, &vx, sc, &vs, y, &vx, true, threads);
            if (reorder(eng, st, &xm, y, &xp, back)) continue;
            int wrong = 0, nan = 0;
            for (int i = 0; i < NX; i++) {
                float v = x[i] + sc[i / (PH * PW)], r = isnan(v) ? v : v > 0.f ? v : 0.f;
                wrong += !same(back[i], r);
                nan += isnan(back[i]);
            }
            BL_CHECK(wrong == 0 && nan == 1 + PH * PW, "per-channel add + ReLU, %d threads: %d wrong, %d NaN (want %d)",
                     threads, wrong, nan, 1 + PH * PW);
        }
    }
    dnnl_stream_destroy(st);
    dnnl_engine_destroy(eng);
}

/* ---- the swish pass (cpu_swish.c) --------------------------------------------------- */

static void test_swish(void) {
    enum { N = 40 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = 4.f * rnd();
    x[3] = NAN, x[17] = -INFINITY, x[18] = INFINITY, x[33] = NAN, x[34] = -100.f;
    for (int threads = 1; threads <= 2; threads++) {
        memcpy(y, x, sizeof y);
        bl_cpu_swish_inplace(y, N, threads);
        BL_CHECK(isnan(y[3]) && isnan(y[33]), "swish(NaN) = %g, %g (%d threads)", y[3], y[33], threads);
        BL_CHECK(isnan(y[17]), "swish(-inf) = %g, expected NaN (-inf * sigmoid(-inf))", y[17]);
        BL_CHECK(isinf(y[18]) && y[18] > 0, "swish(inf) = %g", y[18]);
        BL_CHECK(y[34] == 0.f, "swish(-100) = %g", y[34]);
        int bad = 0;
        for (int i = 0; i < N; i++) {
            if (i == 3 || i == 17 || i == 18 || i == 33 || i == 34) continue;
            double r = x[i] / (1.0 + exp(-(double)x[i]));
            bad += !(fabs(y[i] - r) <= 1e-6 * fabs(r) + 1e-30);
        }
        BL_CHECK(bad == 0, "swish: %d finite values wrong next to the specials", bad);
    }
    memcpy(y, x, sizeof y);
    bl_cpu_swish_ref(y, N);
    BL_CHECK(isnan(y[3]) && isnan(y[17]) && isinf(y[18]), "reference swish: %g %g %g", y[3], y[17], y[18]);
}

/* ---- graphs built in code ----------------------------------------------------------- */

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

static int constant(bl_graph *g, const char *name, int rank, const int64_t *dims, float scale) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    for (int64_t i = 0; i < n; i++) d[i] = rank ? rnd() * scale : scale;
    int t;
    bl_graph_add_tensor_unique(g, name, BL_DT_FLOAT, rank, dims, d, (size_t)n * sizeof *d, &t);
    g->tensors[t].flags |= BL_TENSOR_INITIALIZER;
    return t;
}

static int node(bl_graph *g, bl_op op, const int *in, int n_in, bl_attr *a, int na) {
    int y = tensor(g, bl_op_name(op));
    bl_graph_add_node(g, "", op, in, n_in, &y, 1, a, na, NULL);
    return y;
}

static int unary(bl_graph *g, bl_op op, int x) { return node(g, op, &x, 1, NULL, 0); }

/* Conv with oc x ic x k x k random weights and bias, stride 1, "same" padding. */
static int conv(bl_graph *g, int x, int64_t ic, int64_t oc, int64_t k) {
    int64_t wd[4] = {oc, ic, k, k}, bd[1] = {oc};
    int in[3] = {x, constant(g, "w", 4, wd, 1.f / sqrtf((float)(ic * k * k))), constant(g, "b", 1, bd, 0.1f)};
    int64_t pads[4] = {k / 2, k / 2, k / 2, k / 2};
    bl_attr *a = calloc(1, sizeof *a);
    a[0] = attr_ints("pads", pads, 4);
    return node(g, BL_OP_CONV, in, 3, a, 1);
}

static int maxpool2(bl_graph *g, int x) {
    int64_t k[2] = {2, 2};
    bl_attr *a = calloc(2, sizeof *a);
    a[0] = attr_ints("kernel_shape", k, 2);
    a[1] = attr_ints("strides", k, 2);
    return node(g, BL_OP_MAX_POOL, &x, 1, a, 2);
}

static bl_graph *begin(int64_t c, int64_t h, int64_t w, int *x) {
    bl_graph *g;
    bl_graph_create(&g);
    g->opset = 13;
    int64_t dims[4] = {BL_DIM_N, c, h, w};
    bl_graph_add_tensor(g, "x", BL_DT_FLOAT, 4, dims, NULL, 0, x);
    g->tensors[*x].flags |= BL_TENSOR_INPUT;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = *x, g->n_inputs = 1;
    return g;
}

static bl_graph *finish(bl_graph *g, int y, const char *what) {
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = y, g->n_outputs = 1;
    g->tensors[y].flags |= BL_TENSOR_OUTPUT;
    bl_prepare_opts po = bl_prepare_opts_default();
    bl_status s = bl_graph_link(g);
    if (s == BL_OK) s = bl_graph_prepare(g, &po);
    BL_CHECK(s == BL_OK, "%s: prepare: %s", what, bl_error_message());
    if (s == BL_OK) return g;
    bl_graph_free(g);
    return NULL;
}

static bl_exec *make(const bl_graph *g, int64_t max_batch, bool no_fusion, const char *what) {
    bl_exec_opts o = bl_exec_opts_default();
    o.max_batch = max_batch, o.threads = 2, o.no_fusion = no_fusion;
    bl_exec *ex = NULL;
    bl_status s = bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex);
    BL_CHECK(s == BL_OK, "%s: create: %s", what, bl_error_message());
    return s == BL_OK ? ex : NULL;
}

static bool run(bl_exec *ex, int64_t n, const float *x, float *y, const char *what) {
    const void *in[1] = {x};
    void *out[1] = {y};
    bl_status s = bl_exec_run(ex, n, in, out);
    BL_CHECK(s == BL_OK, "%s: run: %s", what, bl_error_message());
    return s == BL_OK;
}

/* The input batch and its clean twin for the graph tests: B items of `item` floats. Item 1
 * gets one NaN at element nan_at, item 3 is all NaN. */
enum { B = 4 };
typedef struct {
    float *x, *clean;
    int64_t item;
} batch;

static batch make_batch(int64_t item, int64_t nan_at) {
    batch b = {malloc((size_t)(B * item) * sizeof(float)), malloc((size_t)(B * item) * sizeof(float)), item};
    for (int64_t i = 0; i < B * item; i++) b.clean[i] = b.x[i] = 2.f * rnd();
    b.x[1 * item + nan_at] = NAN;
    for (int64_t i = 0; i < item; i++) b.x[3 * item + i] = NAN;
    return b;
}

/* Runs the NaN batch and its clean twin through g; checks that items 0 and 2 match the clean
 * run exactly, that a clean run after the NaN run on the same executor matches a fresh one,
 * and hands back both results (B * out_item floats each, caller frees) for op-specific
 * checks. */
static bool run_pair(const bl_graph *g, const batch *b, int64_t out_item, float **y_nan, float **y_clean,
                     const char *what) {
    size_t ny = (size_t)(B * out_item);
    float *yn = malloc(ny * sizeof *yn), *yc = malloc(ny * sizeof *yc), *y2 = malloc(ny * sizeof *y2);
    bl_exec *ex = make(g, B, false, what), *fresh = make(g, B, false, what);
    bool ok = ex && fresh && run(ex, B, b->x, yn, what) && run(ex, B, b->clean, y2, what) &&
              run(fresh, B, b->clean, yc, what);
    if (ok) {
        BL_CHECK(!memcmp(y2, yc, ny * sizeof *yc), "%s: a clean run after the NaN run differs from a fresh one", what);
        for (int item = 0; item < B; item += 2)
            BL_CHECK(!memcmp(yn + item * out_item, yc + item * out_item, (size_t)out_item * sizeof *yn),
                     "%s: item %d (no NaN) differs from the run without NaN items", what, item);
    }
    bl_exec_free(ex), bl_exec_free(fresh);
    free(y2);
    *y_nan = yn, *y_clean = yc;
    return ok;
}

/* Unary ops element by element: NaN in, NaN out; the ONNX formula elsewhere. */
static float unary_ref(bl_op op, float v) {
    if (isnan(v)) return NAN;
    switch (op) {
    case BL_OP_RELU: return v > 0.f ? v : 0.f;
    case BL_OP_CLIP: return v < -0.5f ? -0.5f : v > 0.75f ? 0.75f : v;
    case BL_OP_HARD_SIGMOID: { float u = 0.2f * v + 0.5f; return u < 0.f ? 0.f : u > 1.f ? 1.f : u; }
    case BL_OP_LEAKY_RELU: return v >= 0.f ? v : 0.01f * v;
    case BL_OP_SIGMOID: return 1.f / (1.f + expf(-v));
    default: return NAN;
    }
}

static void test_unary(void) {
    const bl_op ops[] = {BL_OP_RELU, BL_OP_CLIP, BL_OP_HARD_SIGMOID, BL_OP_LEAKY_RELU, BL_OP_SIGMOID};
    enum { C = 3, H = 5, W = 6, ITEM = C * H * W };
    batch b = make_batch(ITEM, 17);
    b.x[2 * ITEM + 4] = INFINITY, b.x[2 * ITEM + 5] = -INFINITY; /* item 2: no NaN, but inf */
    b.clean[2 * ITEM + 4] = INFINITY, b.clean[2 * ITEM + 5] = -INFINITY;
    for (size_t oi = 0; oi < sizeof ops / sizeof ops[0]; oi++) {
        char what[64];
        snprintf(what, sizeof what, "%s", bl_op_name(ops[oi]));
        int x;
        bl_graph *g = begin(C, H, W, &x);
        int y;
        if (ops[oi] == BL_OP_CLIP) {
            int in[3] = {x, constant(g, "lo", 0, NULL, -0.5f), constant(g, "hi", 0, NULL, 0.75f)};
            y = node(g, BL_OP_CLIP, in, 3, NULL, 0);
        } else {
            y = unary(g, ops[oi], x);
        }
        if (!(g = finish(g, y, what))) continue;
        float *yn, *yc;
        if (run_pair(g, &b, ITEM, &yn, &yc, what)) {
            int wrong = 0;
            for (int64_t i = 0; i < B * ITEM; i++) wrong += !same(yn[i], unary_ref(ops[oi], b.x[i]));
            BL_CHECK(wrong == 0, "%s: %d outputs differ from ONNX's (NaN in, NaN out)", what, wrong);
            if (ops[oi] == BL_OP_RELU)
                BL_CHECK(yn[2 * ITEM + 4] == INFINITY && yn[2 * ITEM + 5] == 0.f, "Relu(inf), Relu(-inf) = %g, %g",
                         yn[2 * ITEM + 4], yn[2 * ITEM + 5]);
        }
        free(yn), free(yc);
        bl_graph_free(g);
    }
    free(b.x), free(b.clean);
}

/* ReduceMax over H and W, and MaxPool 2x2 straight on the (plain) graph input. */
static void test_reduce_and_plain_pool(void) {
    enum { C = 5, H = 6, W = 8, ITEM = C * H * W };
    batch b = make_batch(ITEM, (2 * H + 3) * W + 5); /* channel 2, row 3, col 5 */
    for (int pool = 0; pool <= 1; pool++) {
        const char *what = pool ? "MaxPool on the graph input" : "ReduceMax";
        int x;
        bl_graph *g = begin(C, H, W, &x);
        int y;
        if (pool) {
            y = maxpool2(g, x);
        } else {
            int64_t axes[2] = {2, 3};
            bl_attr *a = calloc(2, sizeof *a);
            a[0] = attr_ints("axes", axes, 2);
            a[1] = attr_int("keepdims", 1);
            y = node(g, BL_OP_REDUCE_MAX, &x, 1, a, 2);
        }
        if (!(g = finish(g, y, what))) continue;
        int64_t oh = pool ? H / 2 : 1, ow = pool ? W / 2 : 1, out_item = C * oh * ow;
        float *yn, *yc;
        if (run_pair(g, &b, out_item, &yn, &yc, what)) {
            int wrong = 0;
            for (int64_t n = 0; n < B; n++)
                for (int64_t c = 0; c < C; c++)
                    for (int64_t i = 0; i < oh; i++)
                        for (int64_t j = 0; j < ow; j++) {
                            float m = -INFINITY;
                            int64_t kh = pool ? 2 : H, kw = pool ? 2 : W;
                            for (int64_t a = 0; a < kh; a++)
                                for (int64_t d = 0; d < kw; d++) {
                                    float v = b.x[((n * C + c) * H + i * kh + a) * W + j * kw + d];
                                    m = isnan(v) || isnan(m) ? NAN : (v > m ? v : m);
                                }
                            wrong += !same(yn[((n * C + c) * oh + i) * ow + j], m);
                        }
            BL_CHECK(wrong == 0, "%s: %d outputs differ from ONNX's", what, wrong);
        }
        free(yn), free(yc);
        bl_graph_free(g);
    }
    free(b.x), free(b.clean);
}

/* Conv 3x3 (+ act, a oneDNN post-op) → MaxPool 2x2 → Conv 1x1 with C channels: the NaN of
 * item 1 at (channel 0, h0, w0) reaches the pooled pixels whose window meets the 3x3 block
 * around it, in every channel; item 3 is all NaN. */
static void test_conv_chain(bl_op act, int64_t C) {
    enum { IC = 4, H = 8, W = 10, H0 = 3, W0 = 6 };
    char what[64];
    snprintf(what, sizeof what, "Conv+%s (%lld channels) -> MaxPool -> Conv", act ? bl_op_name(act) : "nothing",
             (long long)C);
    int x;
    bl_graph *g = begin(IC, H, W, &x);
    int t = conv(g, x, IC, C, 3);
    if (act == BL_OP_CLIP) {
        int in[3] = {t, constant(g, "lo", 0, NULL, 0.f), constant(g, "hi", 0, NULL, 0.5f)};
        t = node(g, BL_OP_CLIP, in, 3, NULL, 0);
    } else if (act != BL_OP_NONE) {
        t = unary(g, act, t);
    }
    t = conv(g, maxpool2(g, t), C, C, 1);
    if (!(g = finish(g, t, what))) return;
    BL_CHECK(act == BL_OP_NONE || g->nodes[0].fused_act == act, "%s: activation not fused into the Conv", what);
    batch b = make_batch(IC * H * W, H0 * W + W0);
    int64_t out_item = C * (H / 2) * (W / 2);
    float *yn, *yc;
    if (run_pair(g, &b, out_item, &yn, &yc, what)) {
        int wrong_mask = 0, far = 0;
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < H / 2; i++)
                for (int64_t j = 0; j < W / 2; j++) {
                    /* window rows 2i..2i+1 meet H0-1..H0+1, cols likewise */
                    bool hit = 2 * i + 1 >= H0 - 1 && 2 * i <= H0 + 1 && 2 * j + 1 >= W0 - 1 && 2 * j <= W0 + 1;
                    int64_t o = (c * (H / 2) + i) * (W / 2) + j;
                    float v1 = yn[out_item + o], v3 = yn[3 * out_item + o], c1 = yc[out_item + o];
                    wrong_mask += (bool)isnan(v1) != hit || !isnan(v3);
                    far += !hit && !(fabsf(v1 - c1) <= 1e-5f + 1e-5f * fabsf(c1));
                }
        BL_CHECK(wrong_mask == 0, "%s: %d outputs NaN where ONNX has a number or the reverse", what, wrong_mask);
        BL_CHECK(far == 0, "%s: %d finite outputs of the NaN item off the clean run by > 1e-5", what, far);
    }
    free(yn), free(yc);
    free(b.x), free(b.clean);
    bl_graph_free(g);
}

/* An output that is not item-major (Conv 3x3 + Relu, then Transpose to [C, N, H, W]): the
 * executor cannot replace single items, so the whole batch runs again in reference mode.
 * Item 1's NaN reaches the 3x3 block around it in every channel, item 3 is all NaN, and
 * every other output is within 1e-5 of the clean run. */
static void test_not_item_major(void) {
    enum { IC = 3, C = 16, H = 6, W = 7, H0 = 2, W0 = 5 };
    const char *what = "Conv+Relu -> Transpose (N in dim 1)";
    int x;
    bl_graph *g = begin(IC, H, W, &x);
    int t = unary(g, BL_OP_RELU, conv(g, x, IC, C, 3));
    int64_t perm[4] = {1, 0, 2, 3};
    bl_attr *a = calloc(1, sizeof *a);
    a[0] = attr_ints("perm", perm, 4);
    t = node(g, BL_OP_TRANSPOSE, &t, 1, a, 1);
    if (!(g = finish(g, t, what))) return;
    batch b = make_batch(IC * H * W, H0 * W + W0);
    size_t ny = (size_t)(C * B * H * W);
    float *yn = malloc(ny * sizeof *yn), *yc = malloc(ny * sizeof *yc);
    bl_exec *ex = make(g, B, false, what);
    if (ex && run(ex, B, b.x, yn, what) && run(ex, B, b.clean, yc, what)) {
        int wrong = 0;
        for (int64_t c = 0; c < C; c++)
            for (int64_t n = 0; n < B; n++)
                for (int64_t h = 0; h < H; h++)
                    for (int64_t w = 0; w < W; w++) {
                        size_t o = (size_t)(((c * B + n) * H + h) * W + w);
                        bool nan = n == 3 || (n == 1 && h >= H0 - 1 && h <= H0 + 1 && w >= W0 - 1 && w <= W0 + 1);
                        wrong += nan ? !isnan(yn[o]) : !(fabsf(yn[o] - yc[o]) <= 1e-5f + 1e-5f * fabsf(yc[o]));
                    }
        BL_CHECK(wrong == 0, "%s: %d outputs wrong (NaN pattern or value)", what, wrong);
    }
    bl_exec_free(ex);
    free(yn), free(yc), free(b.x), free(b.clean);
    bl_graph_free(g);
}

/* A NaN or -inf created inside the graph from finite inputs (Sqrt, Log of the input): no
 * re-run, so the fast path's own kernels (MaxPool on oneDNN layouts, the swish pass) must
 * carry it; the reference mode is exact. NaN and inf exactly where it has them, the rest
 * within 1e-5. */
static void test_inside(bool swish, int64_t C) {
    enum { IC = 4, H = 8, W = 10, N = 3 };
    char what[64];
    snprintf(what, sizeof what, "%s (%lld channels), NaN made inside", swish ? "Log -> Conv -> swish -> Conv"
                                                                             : "Sqrt -> Conv -> MaxPool -> Conv",
             (long long)C);
    const char *lk = getenv("BL_CPU_LAYOUT_KERNELS");
    if (!swish && lk && !strcmp(lk, "0")) { /* the A/B switch hands MaxPool to oneDNN, which drops NaN */
        fprintf(stderr, "%s: skipped (BL_CPU_LAYOUT_KERNELS=0)\n", what);
        return;
    }
    int x;
    bl_graph *g = begin(IC, H, W, &x);
    int t = conv(g, unary(g, swish ? BL_OP_LOG : BL_OP_SQRT, x), IC, C, 3);
    if (swish) {
        int in[2] = {t, unary(g, BL_OP_SIGMOID, t)};
        t = node(g, BL_OP_MUL, in, 2, NULL, 0);
    } else {
        t = maxpool2(g, t);
    }
    t = conv(g, t, C, C, 1);
    if (!(g = finish(g, t, what))) return;
    int64_t item = IC * H * W, out_item = bl_tensor_numel(&g->tensors[t], 1);
    float *xin = malloc((size_t)(N * item) * sizeof *xin), *yf = malloc((size_t)(N * out_item) * sizeof *yf),
          *yr = malloc((size_t)(N * out_item) * sizeof *yr);
    for (int64_t i = 0; i < N * item; i++) xin[i] = 1.f + rnd(); /* in (0, 2): Sqrt and Log finite */
    xin[(0 * IC + 1) * H * W + 2 * W + 3] = swish ? 0.f : -1.f;  /* item 0: Log(0) = -inf, Sqrt(-1) = NaN */
    xin[(2 * IC + 3) * H * W + 7 * W + 9] = swish ? 0.f : -1.f;  /* item 2, a corner */
    bl_exec *fast = make(g, N, false, what), *ref = make(g, N, true, what);
    if (fast && ref && run(fast, N, xin, yf, what) && run(ref, N, xin, yr, what)) {
        bl_exec_stats st;
        bl_exec_get_stats(fast, &st);
        BL_CHECK(st.n_backend_layout > 0 && (!swish || st.n_fused >= 2), "%s: not the fused path (%d layouts, %d fused)",
                 what, st.n_backend_layout, st.n_fused);
        int n_nan = 0, wrong = 0;
        for (int64_t i = 0; i < N * out_item; i++) {
            n_nan += isnan(yr[i]);
            if (isnan(yr[i]) || isinf(yr[i])) wrong += !same(yf[i], yr[i]);
            else wrong += !(fabsf(yf[i] - yr[i]) <= 1e-5f + 1e-5f * fabsf(yr[i]));
        }
        BL_CHECK(n_nan > 0, "%s: the reference has no NaN", what);
        BL_CHECK(wrong == 0, "%s: %d of %lld outputs differ from the reference mode", what, wrong,
                 (long long)(N * out_item));
        int clean = 0;
        for (int64_t i = out_item; i < 2 * out_item; i++) clean += !isnan(yf[i]) && !isinf(yf[i]);
        BL_CHECK(clean == out_item, "%s: item 1 (finite) has %lld non-finite outputs", what,
                 (long long)(out_item - clean));
    }
    bl_exec_free(fast), bl_exec_free(ref);
    free(xin), free(yf), free(yr);
    bl_graph_free(g);
}

/* Batch 1 through a 3x3 Conv of 256 channels on a 2x3 map with a fused Relu (2.4 MB of
 * weights: cpu_skinny.c's product and its plain-C ReLU where the CPU has AVX-512), after a
 * Sqrt that makes one NaN: NaN exactly where the reference mode has it. */
static void test_inside_skinny(void) {
    enum { C = 256, H = 2, W = 3 };
    const char *what = "Sqrt -> Conv 256 + Relu (batch 1)";
    if (!bl_cpu_skinny_available()) { /* oneDNN's ReLU post-op would drop the NaN made inside */
        fprintf(stderr, "%s: skipped (cpu_skinny.c not available here)\n", what);
        return;
    }
    int x;
    bl_graph *g = begin(C, H, W, &x);
    int t = unary(g, BL_OP_RELU, conv(g, unary(g, BL_OP_SQRT, x), C, C, 3));
    if (!(g = finish(g, t, what))) return;
    float *xin = malloc(C * H * W * sizeof *xin), *yf = malloc(C * H * W * sizeof *yf),
          *yr = malloc(C * H * W * sizeof *yr);
    for (int i = 0; i < C * H * W; i++) xin[i] = 1.f + rnd();
    xin[(17 * H + 0) * W + 0] = -1.f; /* channel 17, pixel (0, 0): NaN at the 4 pixels around it */
    bl_exec *fast = make(g, 1, false, what), *ref = make(g, 1, true, what);
    if (fast && ref && run(fast, 1, xin, yf, what) && run(ref, 1, xin, yr, what)) {
        bl_exec_stats st;
        bl_exec_get_stats(fast, &st);
        BL_CHECK(st.n_streamed == (bl_cpu_skinny_available() ? 1 : 0), "%s: %d skinny instances", what, st.n_streamed);
        int wrong = 0, nan = 0;
        for (int i = 0; i < C * H * W; i++) {
            nan += isnan(yr[i]);
            wrong += isnan(yr[i]) ? !isnan(yf[i]) : !(fabsf(yf[i] - yr[i]) <= 1e-5f + 1e-5f * fabsf(yr[i]));
        }
        BL_CHECK(nan == C * 4, "%s: the reference has %d NaN, expected %d", what, nan, C * 4);
        BL_CHECK(wrong == 0, "%s: %d outputs differ from the reference mode", what, wrong);
    }
    bl_exec_free(fast), bl_exec_free(ref);
    free(xin), free(yf), free(yr);
    bl_graph_free(g);
}

/* ---- the zoo model ------------------------------------------------------------------- */

static void test_zoo(void) {
    const char *what = "whalecall-small";
    bl_graph *g;
    bl_status s = bl_model_load(bl_test_source_path("models/zoo/whalecall-small/model.onnx"), NULL, &g);
    BL_CHECK(s == BL_OK, "%s: %s", what, bl_error_message());
    if (s != BL_OK) return;
    int64_t item = bl_tensor_numel(&g->tensors[g->inputs[0]], 1), out_item = bl_tensor_numel(&g->tensors[g->outputs[0]], 1);
    batch b = make_batch(item, 64 * 40 + 17);
    float *yn, *yc;
    if (run_pair(g, &b, out_item, &yn, &yc, what)) {
        int nan_ok = 0, fin_ok = 0;
        for (int64_t i = 0; i < out_item; i++) {
            nan_ok += isnan(yn[out_item + i]) && isnan(yn[3 * out_item + i]);
            fin_ok += isfinite(yn[i]) && isfinite(yn[2 * out_item + i]);
        }
        BL_CHECK(nan_ok == out_item, "%s: items with NaN input score %g %g and %g %g, expected NaN", what,
                 yn[out_item], yn[out_item + 1], yn[3 * out_item], yn[3 * out_item + 1]);
        BL_CHECK(fin_ok == out_item, "%s: finite items score %g %g", what, yn[0], yn[1]);
        free(yn), free(yc);
    }
    /* the case: an all-NaN batch of 2 */
    float *x = malloc((size_t)(2 * item) * sizeof *x), y[64];
    for (int64_t i = 0; i < 2 * item; i++) x[i] = NAN;
    bl_exec *ex = make(g, 2, false, what);
    if (ex && out_item <= 32 && run(ex, 2, x, y, what)) {
        int n = 0;
        for (int64_t i = 0; i < 2 * out_item; i++) n += isnan(y[i]);
        BL_CHECK(n == 2 * out_item, "%s: all-NaN batch scores %g %g %g %g", what, y[0], y[1], y[2], y[3]);
    }
    bl_exec_free(ex);
    free(x), free(b.x), free(b.clean);
    bl_graph_free(g);
}

int main(void) {
    test_maxpool_layouts();
    test_swish();
    test_unary();
    test_reduce_and_plain_pool();
    test_conv_chain(BL_OP_NONE, 16);
    test_conv_chain(BL_OP_RELU, 16);
    test_conv_chain(BL_OP_RELU, 8);
    test_conv_chain(BL_OP_CLIP, 20);
    test_not_item_major();
    test_inside(false, 16);
    test_inside(false, 8);
    test_inside(true, 16);
    test_inside_skinny();
    test_chan_relu();
    test_zoo();
    return bl_test_finish("test_exec_nan");
}
