/* test_exec.c — the CPU executor (models/exec.h) against PyTorch and against itself.
 *
 * For every model of tests/data/models (written by make_models.py with PyTorch eval-mode
 * outputs for a 5-item batch): the executor's output matches PyTorch (1e-4 relative norm
 * and per element 1e-4 + 1e-4·|ref|); buffer reuse off gives the same bytes; batch 1 item by
 * item equals the batch-5 rows; a batch-7 run (the reference batch plus 2 more items) gives
 * the same first 5 rows; 1 and 2 threads agree within 1e-5. Also: a graph built in code
 * whose op the executor cannot run (int64 Conv input) fails at creation naming the node,
 * and run rejects a batch above max_batch; models that read the batch size as a value
 * (x * x.shape[0], x + x.shape[0]/8) give the right result for every batch; Resize with
 * keep_aspect_ratio_policy maps coordinates with the one shared scale; ConstantOfShape of
 * a shape holding N fills N rows; AveragePool with ceil_mode=1 divides its last window (past
 * the padded end) as ONNX does, alone and between Convs (hand-computed 1-D cases).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"           /* bl_npy_read_f32 */
#include "models/exec.h"      /* bl_exec_* */
#include "models/onnx_load.h" /* bl_model_load */
#include "testutil.h"

static double rel_norm(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) num += (double)(a[i] - b[i]) * (a[i] - b[i]), den += (double)b[i] * b[i];
    return sqrt(num / (den > 0 ? den : 1));
}

/* Runs `batch` items of x through a fresh executor with the given options into y. */
static int run_model(const bl_graph *g, const float *x, int64_t batch, int64_t max_batch, int threads, bool no_reuse,
                     float *y) {
    bl_exec_opts o = bl_exec_opts_default();
    o.max_batch = max_batch, o.threads = threads, o.no_reuse = no_reuse;
    bl_exec *ex;
    bl_status s = bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex);
    if (s != BL_OK) {
        fprintf(stderr, "create: %s\n", bl_error_message());
        return -1;
    }
    const void *in[1] = {x};
    void *out[1] = {y};
    s = bl_exec_run(ex, batch, in, out);
    if (s != BL_OK) fprintf(stderr, "run: %s\n", bl_error_message());
    bl_exec_free(ex);
    return s == BL_OK ? 0 : -1;
}

static void test_model(const char *model, const char *in_rel, const char *out_rel) {
    char mp[1024], ip[1024], op[1024];
    snprintf(mp, sizeof mp, "%s", bl_test_source_path(model));
    snprintf(ip, sizeof ip, "%s", bl_test_source_path(in_rel));
    snprintf(op, sizeof op, "%s", bl_test_source_path(out_rel));
    bl_graph *g;
    bl_status s = bl_model_load(mp, NULL, &g);
    BL_CHECK(s == BL_OK, "%s: %s", model, bl_error_message());
    if (s != BL_OK) return;
    float *x = NULL, *ref = NULL;
    size_t xs[8], rs[8];
    int xn, rn;
    BL_CHECK(bl_npy_read_f32(ip, &x, xs, &xn) == BL_OK, "%s", bl_error_message());
    BL_CHECK(bl_npy_read_f32(op, &ref, rs, &rn) == BL_OK, "%s", bl_error_message());
    if (!x || !ref) goto out;
    int64_t B = (int64_t)xs[0];
    size_t in_item = 1, out_item = 1;
    for (int i = 1; i < xn; i++) in_item *= xs[i];
    for (int i = 1; i < rn; i++) out_item *= rs[i];
    size_t nout = (size_t)B * out_item;
    BL_CHECK(bl_tensor_numel(&g->tensors[g->outputs[0]], B) == (int64_t)nout, "%s: output size", model);
    float *y = calloc(nout, 4), *y2 = calloc(nout, 4), *y1 = calloc(nout, 4);
    float *x7 = calloc((size_t)(B + 2) * in_item, 4), *y7 = calloc((size_t)(B + 2) * out_item, 4);
    /* PyTorch reference */
    BL_CHECK(run_model(g, x, B, B, 1, false, y) == 0, "%s: run", model);
    double rn_err = rel_norm(y, ref, nout);
    BL_CHECK(rn_err <= 1e-4, "%s: relative error %.3g vs PyTorch", model, rn_err);
    BL_CHECK(bl_test_allclose(model, y, ref, nout, 1e-4, 1e-4) == 0, "%s: per-element vs PyTorch", model);
    /* no reuse: identical bytes */
    BL_CHECK(run_model(g, x, B, B, 1, true, y2) == 0, "%s: run no-reuse", model);
    BL_CHECK(memcmp(y, y2, nout * 4) == 0, "%s: buffer reuse changed the result", model);
    /* two threads */
    BL_CHECK(run_model(g, x, B, B, 2, false, y2) == 0, "%s: run 2 threads", model);
    BL_CHECK(bl_test_allclose("threads 1 vs 2", y2, y, nout, 1e-5, 1e-5) == 0, "%s: threads disagree", model);
    /* batch 1, item by item, through one executor created for max batch 7 */
    bl_exec_opts o = bl_exec_opts_default();
    o.max_batch = B + 2;
    bl_exec *ex;
    s = bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex);
    BL_CHECK(s == BL_OK, "%s: %s", model, bl_error_message());
    if (s == BL_OK) {
        for (int64_t b = 0; b < B; b++) {
            const void *in[1] = {x + b * in_item};
            void *outp[1] = {y1 + b * out_item};
            BL_CHECK(bl_exec_run(ex, 1, in, outp) == BL_OK, "%s: batch 1 run: %s", model, bl_error_message());
        }
        BL_CHECK(bl_test_allclose("batch 1 vs batch 5", y1, y, nout, 1e-5, 1e-5) == 0, "%s: batch 1 differs", model);
        memcpy(x7, x, (size_t)B * in_item * 4);
        for (size_t i = 0; i < 2 * in_item; i++) x7[(size_t)B * in_item + i] = (float)sin((double)i);
        const void *in[1] = {x7};
        void *outp[1] = {y7};
        BL_CHECK(bl_exec_run(ex, B + 2, in, outp) == BL_OK, "%s: batch 7 run: %s", model, bl_error_message());
        BL_CHECK(bl_test_allclose("batch 7 vs batch 5", y7, y, nout, 1e-5, 1e-5) == 0, "%s: batch 7 differs", model);
        BL_CHECK(bl_exec_run(ex, B + 3, in, outp) == BL_ERR_INVALID_ARG, "%s: batch above max accepted", model);
        bl_exec_stats st;
        bl_exec_get_stats(ex, &st);
        BL_CHECK(st.arena_bytes > 0 && st.n_steps > 0, "%s: stats", model);
        bl_exec_free(ex);
    }
    free(y), free(y1), free(y2), free(x7), free(y7);
out:
    free(x), free(ref);
    bl_graph_free(g);
}

/* `x * x.shape[0]` (mul) and `x + x.shape[0] / 8.0` (div): the batch size folds to a
 * constant holding BL_SHAPE_SYM_N that a Cast reads at run time, so the executor must
 * substitute the batch of each run (graph.h). Matches PyTorch at batch 3, then one executor
 * runs batches 1, 5, 5, 3 (a batch change refills the substituted values, a repeat keeps
 * them) against y computed here. */
static void test_sym_batch(const char *stem, bool div) {
    char mp[1024], ip[1024], op[1024], rel[256];
    snprintf(rel, sizeof rel, "tests/data/models/%s.onnx", stem);
    snprintf(mp, sizeof mp, "%s", bl_test_source_path(rel));
    snprintf(rel, sizeof rel, "tests/data/models/%s.ref_in.npy", stem);
    snprintf(ip, sizeof ip, "%s", bl_test_source_path(rel));
    snprintf(rel, sizeof rel, "tests/data/models/%s.ref_out.npy", stem);
    snprintf(op, sizeof op, "%s", bl_test_source_path(rel));
    bl_graph *g;
    bl_status s = bl_model_load(mp, NULL, &g);
    BL_CHECK(s == BL_OK, "%s: %s", stem, bl_error_message());
    if (s != BL_OK) return;
    float *x = NULL, *ref = NULL;
    size_t xs[8], rs[8];
    int xn, rn;
    BL_CHECK(bl_npy_read_f32(ip, &x, xs, &xn) == BL_OK, "%s", bl_error_message());
    BL_CHECK(bl_npy_read_f32(op, &ref, rs, &rn) == BL_OK, "%s", bl_error_message());
    if (!x || !ref || xn != 2 || rn != 2 || xs[0] != 3 || rs[0] != 3 || xs[1] != rs[1]) {
        BL_CHECK(0, "%s: reference arrays missing or not [3, k]", stem);
        goto out;
    }
    size_t item = xs[1];
    float y[5 * 64], x5[5 * 64], want[5 * 64];
    BL_CHECK(item <= 64, "%s: item of %zu values", stem, item);
    if (item > 64) goto out;
    BL_CHECK(run_model(g, x, 3, 3, 1, false, y) == 0, "%s: run", stem);
    BL_CHECK(bl_test_allclose(stem, y, ref, 3 * item, 0, 1e-6) == 0, "%s: differs from PyTorch", stem);
    for (size_t i = 0; i < 5 * item; i++) x5[i] = (float)sin(0.37 * (double)i) * 3.f;
    bl_exec_opts o = bl_exec_opts_default();
    o.max_batch = 5;
    bl_exec *ex;
    s = bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex);
    BL_CHECK(s == BL_OK, "%s: %s", stem, bl_error_message());
    if (s != BL_OK) goto out;
    static const int64_t batches[4] = {1, 5, 5, 3};
    for (int k = 0; k < 4; k++) {
        int64_t nb = batches[k];
        const void *in[1] = {x5};
        void *outp[1] = {y};
        memset(y, 0, sizeof y);
        BL_CHECK(bl_exec_run(ex, nb, in, outp) == BL_OK, "%s: batch %lld: %s", stem, (long long)nb, bl_error_message());
        for (size_t i = 0; i < (size_t)nb * item; i++)
            want[i] = div ? x5[i] + (float)nb / 8.0f : x5[i] * (float)nb;
        char what[64];
        snprintf(what, sizeof what, "%s batch %lld", stem, (long long)nb);
        BL_CHECK(bl_test_allclose(what, y, want, (size_t)nb * item, 0, 1e-6) == 0, "%s: wrong for batch %lld", stem,
                 (long long)nb);
    }
    bl_exec_free(ex);
out:
    free(x), free(ref);
    bl_graph_free(g);
}

/* Resize nearest with sizes {2, 4} on a [N,1,3,5] input and keep_aspect_ratio_policy
 * not_larger: the one scale is min(2/3, 4/5) = 2/3, the output 2×3 (round(2/3·5) = 3).
 * Coordinates use that scale on both axes (half_pixel, round_prefer_floor): columns
 * 0, 2, 3. Mapping axis 3 with its own out/in = 3/5 would read column 4 last. */
static void test_resize_keep_aspect(void) {
    bl_graph *g;
    BL_CHECK(bl_graph_create(&g) == BL_OK, "create");
    g->opset = 19;
    int64_t dims[4] = {BL_DIM_N, 1, 3, 5};
    int tx, ty, tz;
    bl_graph_add_tensor(g, "x", BL_DT_FLOAT, 4, dims, NULL, 0, &tx);
    g->tensors[tx].flags |= BL_TENSOR_INPUT;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = tx, g->n_inputs = 1;
    int64_t *sz = malloc(2 * sizeof *sz), zdims[1] = {2};
    sz[0] = 2, sz[1] = 4;
    bl_graph_add_tensor(g, "sizes", BL_DT_INT64, 1, zdims, sz, 2 * sizeof *sz, &tz);
    bl_graph_add_tensor(g, "y", BL_DT_FLOAT, -1, NULL, NULL, 0, &ty);
    bl_attr *a = calloc(2, sizeof *a);
    a[0].name = strdup("keep_aspect_ratio_policy"), a[0].type = BL_ATTR_STRING, a[0].s = strdup("not_larger");
    a[1].name = strdup("axes"), a[1].type = BL_ATTR_INTS, a[1].n = 2, a[1].ints = malloc(2 * sizeof(int64_t));
    a[1].ints[0] = 2, a[1].ints[1] = 3;
    int ins[4] = {tx, -1, -1, tz};
    bl_graph_add_node(g, "resize", BL_OP_RESIZE, ins, 4, &ty, 1, a, 2, NULL);
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = ty, g->n_outputs = 1;
    g->tensors[ty].flags |= BL_TENSOR_OUTPUT;
    bl_prepare_opts po = bl_prepare_opts_default();
    bl_status s = bl_graph_link(g);
    if (s == BL_OK) s = bl_graph_prepare(g, &po);
    BL_CHECK(s == BL_OK, "prepare: %s", bl_error_message());
    if (s == BL_OK) {
        const bl_tensor *yt = &g->tensors[ty];
        BL_CHECK(yt->rank == 4 && yt->dims[2] == 2 && yt->dims[3] == 3, "keep-aspect output shape %s",
                 bl_tensor_shape_str(yt, (char[64]){0}, 64));
        float x[2 * 15], y[2 * 6], want[2 * 6];
        for (int i = 0; i < 30; i++) x[i] = (float)i;
        static const int rows[2] = {0, 2}, cols[3] = {0, 2, 3};
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++) want[b * 6 + i * 3 + j] = x[b * 15 + rows[i] * 5 + cols[j]];
        if (yt->dims[2] == 2 && yt->dims[3] == 3) {
            BL_CHECK(run_model(g, x, 2, 2, 1, false, y) == 0, "keep-aspect resize run");
            BL_CHECK(bl_test_allclose("resize not_larger", y, want, 12, 0, 0) == 0, "keep-aspect resize values");
        }
    }
    bl_graph_free(g);
}

/* ConstantOfShape(Shape(x)) + x on x [N,3]: the shape folds to a constant holding the
 * batch sentinel, so ConstantOfShape stays a node whose output has N rows; y = x + 2.5
 * for batches 4 and 1 through one executor. */
static void test_constant_of_shape(void) {
    bl_graph *g;
    BL_CHECK(bl_graph_create(&g) == BL_OK, "create");
    g->opset = 17;
    int64_t dims[2] = {BL_DIM_N, 3}, vdims[1] = {1};
    int tx, ts, tv, tc, ty;
    bl_graph_add_tensor(g, "x", BL_DT_FLOAT, 2, dims, NULL, 0, &tx);
    g->tensors[tx].flags |= BL_TENSOR_INPUT;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = tx, g->n_inputs = 1;
    float *val = malloc(sizeof *val);
    *val = 2.5f;
    bl_graph_add_tensor(g, "value", BL_DT_FLOAT, 1, vdims, val, sizeof *val, &tv);
    bl_graph_add_tensor(g, "s", BL_DT_INT64, -1, NULL, NULL, 0, &ts);
    bl_graph_add_tensor(g, "c", BL_DT_FLOAT, -1, NULL, NULL, 0, &tc);
    bl_graph_add_tensor(g, "y", BL_DT_FLOAT, -1, NULL, NULL, 0, &ty);
    bl_graph_add_node(g, "shape", BL_OP_SHAPE, &tx, 1, &ts, 1, NULL, 0, NULL);
    int cin[2] = {ts, tv}, ain[2] = {tx, tc};
    bl_graph_add_node(g, "cos", BL_OP_CONSTANT_OF_SHAPE, cin, 2, &tc, 1, NULL, 0, NULL);
    bl_graph_add_node(g, "add", BL_OP_ADD, ain, 2, &ty, 1, NULL, 0, NULL);
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = ty, g->n_outputs = 1;
    g->tensors[ty].flags |= BL_TENSOR_OUTPUT;
    bl_prepare_opts po = bl_prepare_opts_default();
    bl_status s = bl_graph_link(g);
    if (s == BL_OK) s = bl_graph_prepare(g, &po);
    BL_CHECK(s == BL_OK, "prepare: %s", bl_error_message());
    bl_exec *ex = NULL;
    bl_exec_opts o = bl_exec_opts_default();
    o.max_batch = 4;
    if (s == BL_OK) {
        s = bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex);
        BL_CHECK(s == BL_OK, "ConstantOfShape: %s", bl_error_message());
    }
    for (int64_t nb = 4; ex && nb >= 1; nb -= 3) {
        float x[12], y[12], want[12];
        for (int i = 0; i < 12; i++) x[i] = (float)i - 5.f, want[i] = x[i] + 2.5f, y[i] = 0.f;
        const void *in[1] = {x};
        void *outp[1] = {y};
        BL_CHECK(bl_exec_run(ex, nb, in, outp) == BL_OK, "ConstantOfShape batch %lld: %s", (long long)nb,
                 bl_error_message());
        BL_CHECK(bl_test_allclose("x + ConstantOfShape", y, want, (size_t)nb * 3, 0, 0) == 0, "batch %lld",
                 (long long)nb);
    }
    bl_exec_free(ex);
    bl_graph_free(g);
}

/* Reuse must actually happen: a chain of 6 Relus over a 4 KiB tensor needs 2 buffers, not 6. */
static void test_reuse_plan(void) {
    bl_graph *g;
    BL_CHECK(bl_graph_create(&g) == BL_OK, "create");
    int64_t dims[2] = {BL_DIM_N, 1024};
    int t[7];
    bl_graph_add_tensor(g, "x", BL_DT_FLOAT, 2, dims, NULL, 0, &t[0]);
    g->tensors[t[0]].flags |= BL_TENSOR_INPUT;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = t[0], g->n_inputs = 1;
    for (int i = 1; i < 7; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        bl_graph_add_tensor(g, name, BL_DT_FLOAT, -1, NULL, NULL, 0, &t[i]);
        char nn[16];
        snprintf(nn, sizeof nn, "n%d", i);
        bl_graph_add_node(g, nn, i % 2 ? BL_OP_RELU : BL_OP_NEG, &t[i - 1], 1, &t[i], 1, NULL, 0, NULL);
    }
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = t[6], g->n_outputs = 1;
    g->tensors[t[6]].flags |= BL_TENSOR_OUTPUT;
    bl_prepare_opts po = bl_prepare_opts_default();
    bl_status s = bl_graph_link(g);
    if (s == BL_OK) s = bl_graph_prepare(g, &po);
    BL_CHECK(s == BL_OK, "prepare: %s", bl_error_message());
    if (s != BL_OK) {
        bl_graph_free(g);
        return;
    }
    bl_exec *ex;
    bl_exec_opts o = bl_exec_opts_default();
    BL_CHECK(bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex) == BL_OK, "%s", bl_error_message());
    bl_exec_stats st;
    bl_exec_get_stats(ex, &st);
    BL_CHECK(st.arena_bytes == 2 * 4096, "reuse: arena %lld bytes, expected 8192", (long long)st.arena_bytes);
    float x[1024], y[1024];
    for (int i = 0; i < 1024; i++) x[i] = (float)(i - 512);
    const void *in[1] = {x};
    void *out[1] = {y};
    BL_CHECK(bl_exec_run(ex, 1, in, out) == BL_OK, "%s", bl_error_message());
    /* relu, neg, relu, neg, relu, neg: -max(0, -max(0, x)) ... = 0 for all x */
    int bad = 0;
    for (int i = 0; i < 1024; i++) bad += y[i] != 0.f;
    BL_CHECK(bad == 0, "relu/neg chain wrong in %d places", bad);
    bl_exec_free(ex);
    o.no_reuse = true;
    BL_CHECK(bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex) == BL_OK, "%s", bl_error_message());
    bl_exec_get_stats(ex, &st);
    BL_CHECK(st.arena_bytes == 6 * 4096, "no reuse: arena %lld bytes, expected 24576", (long long)st.arena_bytes);
    bl_exec_free(ex);
    bl_graph_free(g);
}

static bl_attr attr_ints(const char *name, int n, const int64_t *v) {
    bl_attr a = {0};
    a.name = strdup(name), a.type = BL_ATTR_INTS, a.n = n, a.ints = malloc((size_t)n * sizeof(int64_t));
    memcpy(a.ints, v, (size_t)n * sizeof(int64_t));
    return a;
}

/* 1-D AveragePool, ceil_mode=1, on x [N, C, L] where channel c of item b holds
 * (b + 1)(c + 1)·[1, 2, ..., L]; with `convs` the pool sits between two identity 1×1 Convs
 * so that oneDNN would hand it a blocked layout. Checks y against want (values for b = c = 0,
 * scaled the same way) at batch 2. */
static void check_avgpool_1d(const char *what, int64_t C, int64_t L, int64_t k, int64_t stride, int64_t dil,
                             int64_t pad_l, int64_t pad_r, int64_t cip, bool convs, int64_t out_len, const float *want) {
    bl_graph *g;
    BL_CHECK(bl_graph_create(&g) == BL_OK, "create");
    g->opset = 19;
    int64_t dims[3] = {BL_DIM_N, C, L}, wd[3] = {C, C, 1};
    int tx, ty, tp, ta, tb, tw;
    bl_graph_add_tensor(g, "x", BL_DT_FLOAT, 3, dims, NULL, 0, &tx);
    g->tensors[tx].flags |= BL_TENSOR_INPUT;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = tx, g->n_inputs = 1;
    bl_graph_add_tensor(g, "y", BL_DT_FLOAT, -1, NULL, NULL, 0, &ty);
    bl_graph_add_tensor(g, "p", BL_DT_FLOAT, -1, NULL, NULL, 0, &tp);
    bl_attr *a = calloc(6, sizeof *a);
    int64_t pads[2] = {pad_l, pad_r};
    a[0] = attr_ints("kernel_shape", 1, &k), a[1] = attr_ints("strides", 1, &stride);
    a[2] = attr_ints("dilations", 1, &dil), a[3] = attr_ints("pads", 2, pads);
    a[4].name = strdup("ceil_mode"), a[4].type = BL_ATTR_INT, a[4].i = 1;
    a[5].name = strdup("count_include_pad"), a[5].type = BL_ATTR_INT, a[5].i = cip;
    if (convs) {
        float *w = calloc((size_t)(C * C), sizeof *w);
        for (int64_t c = 0; c < C; c++) w[c * C + c] = 1.f;
        bl_graph_add_tensor(g, "w", BL_DT_FLOAT, 3, wd, w, (size_t)(C * C) * sizeof *w, &tw);
        bl_graph_add_tensor(g, "a", BL_DT_FLOAT, -1, NULL, NULL, 0, &ta);
        bl_graph_add_tensor(g, "b", BL_DT_FLOAT, -1, NULL, NULL, 0, &tb);
        int c1[2] = {tx, tw}, c2[2] = {tp, tw};
        bl_graph_add_node(g, "conv1", BL_OP_CONV, c1, 2, &ta, 1, NULL, 0, NULL);
        bl_graph_add_node(g, "pool", BL_OP_AVERAGE_POOL, &ta, 1, &tp, 1, a, 6, NULL);
        bl_graph_add_node(g, "conv2", BL_OP_CONV, c2, 2, &ty, 1, NULL, 0, NULL);
    } else {
        bl_graph_add_node(g, "pool", BL_OP_AVERAGE_POOL, &tx, 1, &ty, 1, a, 6, NULL);
    }
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = ty, g->n_outputs = 1;
    g->tensors[ty].flags |= BL_TENSOR_OUTPUT;
    bl_prepare_opts po = bl_prepare_opts_default();
    bl_status s = bl_graph_link(g);
    if (s == BL_OK) s = bl_graph_prepare(g, &po);
    BL_CHECK(s == BL_OK, "%s: prepare: %s", what, bl_error_message());
    const bl_tensor *yt = &g->tensors[ty];
    if (s == BL_OK) BL_CHECK(yt->rank == 3 && yt->dims[2] == out_len, "%s: output shape %s", what,
                             bl_tensor_shape_str(yt, (char[64]){0}, 64));
    if (s == BL_OK && yt->rank == 3 && yt->dims[2] == out_len) {
        size_t nx = (size_t)(2 * C * L), ny = (size_t)(2 * C * out_len);
        float *x = malloc(nx * 4), *y = calloc(ny, 4), *w2 = malloc(ny * 4);
        for (int64_t b = 0; b < 2; b++)
            for (int64_t c = 0; c < C; c++) {
                float f = (float)((b + 1) * (c + 1));
                for (int64_t i = 0; i < L; i++) x[(b * C + c) * L + i] = f * (float)(i + 1);
                for (int64_t i = 0; i < out_len; i++) w2[(b * C + c) * out_len + i] = f * want[i];
            }
        BL_CHECK(run_model(g, x, 2, 2, 1, false, y) == 0, "%s: run", what);
        BL_CHECK(bl_test_allclose(what, y, w2, ny, 1e-6, 1e-6) == 0, "%s: values", what);
        free(x), free(y), free(w2);
    }
    bl_graph_free(g);
}

/* AveragePool with ceil_mode=1 whose last window runs past the padded input: ONNX divides
 * by the taps inside the padded input (count_include_pad=1) or inside the input (0), never
 * by the whole kernel as oneDNN's include-padding pooling does. Hand-computed:
 *  x = [1..6], k 3, stride 2, pads 1/1: windows over padded positions {0,1,2} {2,3,4}
 *  {4,5,6} {6,7,8}; position 8 lies past the padded end (7), so the last window is
 *  (6 + pad)/2 = 3 with count_include_pad=1 (oneDNN: 6/3 = 2) and 6/1 with 0; the first
 *  is (pad + 1 + 2)/3 = 1 resp. 3/2.
 *  x = [1..7], k 2, dilation 2, stride 3, pads 0/1: taps {0,2} {3,5} {6,8}; 8 is past the
 *  padded end (8), so the last is 7/1 for both (oneDNN with padding: 7/2). */
static void test_avgpool_ceil_divisor(void) {
    static const float inc[4] = {1.f, 3.f, 5.f, 3.f}, exc[4] = {1.5f, 3.f, 5.f, 6.f}, dil[3] = {2.f, 5.f, 7.f};
    check_avgpool_1d("avgpool ceil count_include_pad=1", 1, 6, 3, 2, 1, 1, 1, 1, false, 4, inc);
    check_avgpool_1d("avgpool ceil count_include_pad=0", 1, 6, 3, 2, 1, 1, 1, 0, false, 4, exc);
    check_avgpool_1d("avgpool ceil dilated count_include_pad=1", 3, 7, 2, 3, 2, 0, 1, 1, false, 3, dil);
    check_avgpool_1d("avgpool ceil dilated count_include_pad=0", 3, 7, 2, 3, 2, 0, 1, 0, false, 3, dil);
    /* between Convs: the pool's input and output would otherwise be oneDNN-blocked */
    check_avgpool_1d("conv-avgpool-conv count_include_pad=1", 16, 6, 3, 2, 1, 1, 1, 1, true, 4, inc);
    check_avgpool_1d("conv-avgpool-conv count_include_pad=0", 16, 6, 3, 2, 1, 1, 1, 0, true, 4, exc);
}

/* An op the executor cannot run fails at creation with the op and node names. */
static void test_unsupported(void) {
    bl_graph *g;
    BL_CHECK(bl_graph_create(&g) == BL_OK, "create");
    int64_t dims[3] = {BL_DIM_N, 1, 8};
    int tx, ty, ts;
    bl_graph_add_tensor(g, "x", BL_DT_FLOAT, 3, dims, NULL, 0, &tx);
    g->tensors[tx].flags |= BL_TENSOR_INPUT;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = tx, g->n_inputs = 1;
    bl_graph_add_tensor(g, "s", BL_DT_FLOAT, -1, NULL, NULL, 0, &ts);
    bl_graph_add_tensor(g, "y", BL_DT_FLOAT, -1, NULL, NULL, 0, &ty);
    bl_attr *a = calloc(1, sizeof *a);
    a->name = strdup("mode"), a->type = BL_ATTR_STRING, a->s = strdup("wrap");
    int64_t pads[6] = {0, 0, 1, 0, 0, 1};
    int64_t *pd = malloc(sizeof pads);
    memcpy(pd, pads, sizeof pads);
    int64_t pdims[1] = {6};
    int tp;
    bl_graph_add_tensor(g, "pads", BL_DT_INT64, 1, pdims, pd, sizeof pads, &tp);
    int ins[2] = {tx, tp};
    bl_graph_add_node(g, "pad_wrap", BL_OP_PAD, ins, 2, &ty, 1, a, 1, NULL);
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = ty, g->n_outputs = 1;
    bl_prepare_opts po = bl_prepare_opts_default();
    bl_status s = bl_graph_link(g);
    if (s == BL_OK) s = bl_graph_prepare(g, &po);
    if (s == BL_OK) {
        bl_exec *ex = NULL;
        s = bl_exec_create(bl_exec_backend_cpu(), g, NULL, &ex);
        BL_CHECK(s == BL_ERR_UNSUPPORTED, "wrap pad accepted (%d)", (int)s);
        BL_CHECK(strstr(bl_error_message(), "pad_wrap") && strstr(bl_error_message(), "Pad"), "message: %s",
                 bl_error_message());
        bl_exec_free(ex);
    } else {
        /* the loader's shape pass may already reject the mode: also a clean error */
        BL_CHECK(bl_error_message()[0] != '\0', "no message");
    }
    bl_graph_free(g);
}

int main(void) {
    test_model("tests/data/models/small_cnn.onnx", "tests/data/models/small_cnn.ref_in.npy",
               "tests/data/models/small_cnn.ref_out.npy");
    test_model("tests/data/models/view_net.onnx", "tests/data/models/view_net.ref_in.npy",
               "tests/data/models/view_net.ref_out.npy");
    test_model("tests/data/models/depthwise.onnx", "tests/data/models/depthwise.ref_in.npy",
               "tests/data/models/depthwise.ref_out.npy");
    test_model("tests/data/models/ext", "tests/data/models/ext/model.ref_in.npy",
               "tests/data/models/ext/model.ref_out.npy");
    test_sym_batch("sym_batch_mul", false);
    test_sym_batch("sym_batch_div", true);
    test_resize_keep_aspect();
    test_constant_of_shape();
    test_reuse_plan();
    test_unsupported();
    test_avgpool_ceil_divisor();
    return bl_test_finish("test_exec");
}
