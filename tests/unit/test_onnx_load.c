/* test_onnx_load.c — the ONNX loader and passes on real PyTorch exports and on hostile files.
 *
 * Reads the models under tests/data/models/ (made by tests/data/models/make_models.py) and compares
 * shapes, op counts and parameter counts with the numbers PyTorch wrote next to each model
 * (NAME.expected.csv); checks BatchNormalization folding against the math on the original
 * initializers; then corrupts models in memory (truncation, byte flips, and edits through
 * protobuf-c: unsupported op, bad opset, cycles, missing initializers, duplicate outputs,
 * bad attribute types, huge and negative dims, escaping external data) and expects
 * BL_ERR_MODEL with a clear message, never a crash.
 */
#include <inttypes.h> /* PRId64 */
#include <math.h>     /* sqrt */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>   /* symlink */

#include "models/onnx_load.h" /* the loader under test */
#include "onnx.pb-c.h"        /* generated: to edit models for the hostile cases */
#include "testutil.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static int spit(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

/* Value of `key` in a key,value CSV (the rest of the line after the first comma). */
static int csv_get(const char *path, const char *key, char *out, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    size_t kl = strlen(key);
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!strncmp(line, key, kl) && line[kl] == ',') {
            snprintf(out, cap, "%s", line + kl + 1);
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

static int64_t csv_int(const char *path, const char *key) {
    char v[64];
    if (csv_get(path, key, v, sizeof v)) return -1;
    return strtoll(v, NULL, 10);
}

static const bl_node *nth_node(const bl_graph *g, bl_op op, int k) {
    for (int n = 0; n < g->n_nodes; n++)
        if (g->nodes[n].op == op && k-- == 0) return &g->nodes[n];
    return NULL;
}

static char *shape_of(const bl_graph *g, int t, char *buf) { return bl_tensor_shape_str(&g->tensors[t], buf, 64); }

static bl_prepare_opts no_passes(void) {
    bl_prepare_opts o = bl_prepare_opts_default();
    o.fold_batchnorm = o.fuse_activations = false; /* folding stays: shapes depend on it */
    return o;
}

/* ---- real models against PyTorch's numbers ------------------------------------------- */

static void check_against_csv(const char *model, const char *csv) {
    bl_graph *g = NULL, *raw = NULL;
    bl_status s = bl_model_load(model, NULL, &g);
    BL_CHECK(s == BL_OK, "%s: %s", model, bl_error_message());
    bl_prepare_opts np = no_passes();
    s = bl_model_load(model, &np, &raw);
    BL_CHECK(s == BL_OK, "%s (no passes): %s", model, bl_error_message());
    if (!g || !raw) goto out;
    char want[64], got[64], buf[64];
    BL_CHECK(g->n_inputs == 1 && g->n_outputs == 1, "%s: %d inputs, %d outputs", model, g->n_inputs, g->n_outputs);
    csv_get(csv, "input_shape", want, sizeof want);
    for (char *c = want; *c; c++) *c = *c == ',' ? 'x' : *c;
    shape_of(g, g->inputs[0], got);
    BL_CHECK(!strcmp(got, want), "%s input shape %s, expected %s", model, got, want);
    csv_get(csv, "output_shape", want, sizeof want);
    for (char *c = want; *c; c++) *c = *c == ',' ? 'x' : *c;
    BL_CHECK(!strcmp(shape_of(g, g->outputs[0], buf), want), "%s output shape %s, expected %s", model, buf, want);
    BL_CHECK(!strcmp(shape_of(raw, raw->outputs[0], buf), want), "%s (no passes) output %s, expected %s", model, buf, want);
    BL_CHECK(g->opset == csv_int(csv, "opset"), "%s opset %" PRId64, model, g->opset);
    /* op counts as loaded equal the exported graph's, op by op, and nothing else */
    int total = 0;
    for (int op = 1; op < BL_OP_COUNT; op++) {
        char key[96];
        snprintf(key, sizeof key, "op_before_%s", bl_op_name((bl_op)op));
        int64_t w = csv_int(csv, key);
        if (w < 0) w = 0;
        BL_CHECK(g->op_counts_loaded[op] == w, "%s: %s loaded %d, PyTorch graph has %" PRId64, model,
                 bl_op_name((bl_op)op), g->op_counts_loaded[op], w);
        total += g->op_counts_loaded[op];
    }
    BL_CHECK(total > 0, "%s: no ops counted", model);
    bl_graph_stats st, st_raw;
    BL_CHECK(bl_graph_stats_compute(g, &st) == BL_OK, "stats");
    BL_CHECK(bl_graph_stats_compute(raw, &st_raw) == BL_OK, "stats");
    int64_t p_torch = csv_int(csv, "params_torch"), p_fold = csv_int(csv, "params_folded");
    int64_t p_bn = csv_int(csv, "bn_running_stats"), p_const = csv_int(csv, "float_constant_elems");
    BL_CHECK(st_raw.params == p_torch + p_bn + p_const, "%s: %" PRId64 " parameters as loaded, PyTorch %" PRId64
             " + %" PRId64 " BN statistics + %" PRId64 " float constants", model, st_raw.params, p_torch, p_bn, p_const);
    BL_CHECK(st.params == p_fold, "%s: %" PRId64 " parameters after folding, expected %" PRId64, model, st.params, p_fold);
    BL_CHECK(st.op_counts[BL_OP_BATCH_NORM] == 0, "%s: BatchNormalization left after folding", model);
    BL_CHECK(st.op_counts[BL_OP_SHAPE] + st.op_counts[BL_OP_GATHER] + st.op_counts[BL_OP_CONCAT] +
                 st.op_counts[BL_OP_UNSQUEEZE] + st.op_counts[BL_OP_CAST] == 0,
             "%s: shape-chain ops left after folding", model);
    BL_CHECK(st.flops == st_raw.flops, "%s: FLOPs change with passes (%" PRId64 " vs %" PRId64 ")", model, st.flops,
             st_raw.flops);
out:
    bl_graph_free(g);
    bl_graph_free(raw);
}

static void test_small_cnn_details(void) {
    const char *path = bl_test_source_path("tests/data/models/small_cnn.onnx");
    bl_graph *g = NULL, *raw = NULL;
    bl_prepare_opts np = no_passes();
    if (bl_model_load(path, NULL, &g) || bl_model_load(path, &np, &raw)) {
        BL_CHECK(0, "load: %s", bl_error_message());
        goto out;
    }
    char buf[64];
    /* shapes inferred along the chain */
    const bl_node *c1 = nth_node(g, BL_OP_CONV, 0), *c2 = nth_node(g, BL_OP_CONV, 1);
    const bl_node *mp = nth_node(g, BL_OP_MAX_POOL, 0), *fl = nth_node(g, BL_OP_FLATTEN, 0);
    BL_CHECK(c1 && c2 && mp && fl, "nodes missing");
    if (!c1 || !c2 || !mp || !fl) goto out;
    BL_CHECK(!strcmp(shape_of(g, c1->outputs[0], buf), "Nx8x16x16"), "conv1 %s", buf);
    BL_CHECK(!strcmp(shape_of(g, mp->outputs[0], buf), "Nx8x8x8"), "maxpool %s", buf);
    BL_CHECK(!strcmp(shape_of(g, c2->outputs[0], buf), "Nx16x4x4"), "conv2 %s", buf);
    BL_CHECK(!strcmp(shape_of(g, fl->outputs[0], buf), "Nx16"), "flatten %s", buf);
    BL_CHECK(c1->fused_act == BL_OP_RELU && c2->fused_act == BL_OP_RELU, "ReLU fused: %s %s",
             bl_op_name(c1->fused_act), bl_op_name(c2->fused_act));
    BL_CHECK(nth_node(g, BL_OP_SIGMOID, 0) != NULL, "Sigmoid after Gemm must stay (fusion is for Conv only)");
    BL_CHECK(c1->n_inputs == 3 && c2->n_inputs == 3 && c2->inputs[2] >= 0, "folded Convs carry a bias");
    /* BN folding numerically, from the original initializers */
    for (int k = 0; k < 2; k++) {
        const bl_node *rc = nth_node(raw, BL_OP_CONV, k), *bn = nth_node(raw, BL_OP_BATCH_NORM, k);
        const bl_node *fc = k ? c2 : c1;
        const bl_tensor *w = bl_node_input(raw, rc, 1), *b = bl_node_input(raw, rc, 2);
        const float *sc = bl_node_input(raw, bn, 1)->data, *sh = bl_node_input(raw, bn, 2)->data;
        const float *mu = bl_node_input(raw, bn, 3)->data, *var = bl_node_input(raw, bn, 4)->data;
        double eps = bl_node_attr_float(bn, "epsilon", 1e-5f);
        int64_t m = w->dims[0], per = bl_tensor_numel(w, 1) / m;
        float *ew = malloc(w->nbytes), *eb = malloc((size_t)m * sizeof(float));
        for (int64_t o = 0; o < m; o++) {
            double s = sc[o] / sqrt((double)var[o] + eps);
            for (int64_t j = 0; j < per; j++) ew[o * per + j] = (float)(((const float *)w->data)[o * per + j] * s);
            eb[o] = (float)(((b ? ((const float *)b->data)[o] : 0.0) - mu[o]) * s + sh[o]);
        }
        const bl_tensor *fw = bl_node_input(g, fc, 1), *fb = bl_node_input(g, fc, 2);
        BL_CHECK(fw->nbytes == w->nbytes && fb && fb->dims[0] == m, "folded tensor sizes");
        BL_CHECK(bl_test_allclose("folded W", fw->data, ew, (size_t)(m * per), 1e-7, 1e-6) == 0, "conv %d W", k);
        BL_CHECK(bl_test_allclose("folded b", fb->data, eb, (size_t)m, 1e-7, 1e-6) == 0, "conv %d b", k);
        /* the folding must change something: randomised BN statistics */
        double maxd, maxr;
        bl_test_maxdiff(fw->data, w->data, (size_t)(m * per), &maxd, &maxr);
        BL_CHECK(maxd > 1e-3, "folding left conv %d weights unchanged", k);
        free(ew);
        free(eb);
    }
    /* statistics computed by hand (see docs/models.md for the definitions):
     * FLOPs = 2 × (8·16·16·(1·3·3) + 16·4·4·(8·3·3) + 3·16) = 73824
     * activations (bytes, float32): conv1 8192, maxpool 2048, conv2 1024, GAP 64, flatten 64,
     * gemm 12, sigmoid 12 → 11416; peak: input 1024 + conv1 8192, then maxpool 2048 while conv1
     * is live → 10240. */
    bl_graph_stats st;
    BL_CHECK(bl_graph_stats_compute(g, &st) == BL_OK, "stats");
    BL_CHECK(st.flops == 73824, "flops %" PRId64, st.flops);
    BL_CHECK(st.activation_bytes == 11416, "activation bytes %" PRId64, st.activation_bytes);
    BL_CHECK(st.peak_activation_bytes == 10240, "peak %" PRId64, st.peak_activation_bytes);
    BL_CHECK(st.n_fused == 2, "fused %d", st.n_fused);
out:
    bl_graph_free(g);
    bl_graph_free(raw);
}

static void test_view_and_depthwise(void) {
    bl_graph *g = NULL;
    char buf[64];
    if (bl_model_load(bl_test_source_path("tests/data/models/view_net.onnx"), NULL, &g) == BL_OK) {
        const bl_node *r = nth_node(g, BL_OP_RESHAPE, 0), *c = nth_node(g, BL_OP_CONV, 0);
        BL_CHECK(r && c, "nodes");
        if (r && c) {
            const bl_tensor *shp = bl_node_input(g, r, 1);
            BL_CHECK(shp->data && shp->dtype == BL_DT_INT64 && shp->dims[0] == 2, "Reshape target folded to a constant");
            if (shp->data) {
                const int64_t *v = shp->data;
                BL_CHECK(v[0] == BL_SHAPE_SYM_N && v[1] == -1, "target [%" PRId64 ", %" PRId64 "]", v[0], v[1]);
            }
            BL_CHECK(!strcmp(shape_of(g, r->outputs[0], buf), "Nx256"), "reshape %s", buf);
            BL_CHECK(!strcmp(shape_of(g, c->outputs[0], buf), "Nx4x8x8"), "conv %s", buf);
            BL_CHECK(c->fused_act == BL_OP_LEAKY_RELU && c->act_alpha > 0.0999f && c->act_alpha < 0.1001f,
                     "LeakyRelu(0.1) fused, got %s %g", bl_op_name(c->fused_act), (double)c->act_alpha);
        }
        BL_CHECK(g->n_nodes == 3, "view_net: %d nodes after passes, expected Conv, Reshape, Gemm", g->n_nodes);
    } else {
        BL_CHECK(0, "view_net: %s", bl_error_message());
    }
    bl_graph_free(g);
    g = NULL;
    if (bl_model_load(bl_test_source_path("tests/data/models/depthwise.onnx"), NULL, &g) == BL_OK) {
        const bl_node *c0 = nth_node(g, BL_OP_CONV, 0), *c1 = nth_node(g, BL_OP_CONV, 1), *c2 = nth_node(g, BL_OP_CONV, 2);
        BL_CHECK(c0 && c1 && c2, "three convs");
        if (c0 && c1 && c2) {
            BL_CHECK(bl_node_attr_int(c1, "group", 1) == 12, "depthwise group");
            BL_CHECK(c0->fused_act == BL_OP_CLIP && c0->act_alpha == 0.f && c0->act_beta == 6.f,
                     "ReLU6 fused as Clip(0,6): %s %g %g", bl_op_name(c0->fused_act), (double)c0->act_alpha,
                     (double)c0->act_beta);
            BL_CHECK(c1->fused_act == BL_OP_HARD_SWISH, "HardSwish fused: %s", bl_op_name(c1->fused_act));
            BL_CHECK(c2->fused_act == BL_OP_NONE, "no activation on the projection");
            BL_CHECK(!strcmp(shape_of(g, c1->outputs[0], buf), "Nx12x10x12"), "dw %s", buf);
        }
        BL_CHECK(nth_node(g, BL_OP_ADD, 0) && nth_node(g, BL_OP_REDUCE_MEAN, 0), "residual Add and ReduceMean kept");
    } else {
        BL_CHECK(0, "depthwise: %s", bl_error_message());
    }
    bl_graph_free(g);
}

/* F.pad as PyTorch 1.13 exports it (ConstantOfShape → Concat → Reshape → Slice step -1 →
 * Transpose → Reshape → Cast, with Shape/Gather/Mul/Sub around it when not pre-folded):
 * after the passes only the Pad is left, its pads a plain constant in ONNX order
 * (all begins, then all ends). */
static void test_pad_models(void) {
    static const struct {
        const char *name, *shape;
        int npads;
        int64_t pads[8];
    } cases[] = {
        {"pad_reflect_1d", "Nx3x11", 6, {0, 0, 1, 0, 0, 2}},          /* F.pad (1, 2) */
        {"pad_constant_1d", "Nx3x11", 6, {0, 0, 2, 0, 0, 1}},         /* F.pad (2, 1), opset 11 */
        {"pad_reflect_2d", "Nx2x9x9", 8, {0, 0, 2, 1, 0, 0, 1, 2}},   /* (1, 2, 2, 1): W (1,2), H (2,1) */
        {"pad_constant_2d", "Nx2x7x9", 8, {0, 0, 1, 0, 0, 0, 0, 3}},  /* (0, 3, 1, 0) */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char rel[256], buf[64];
        snprintf(rel, sizeof rel, "tests/data/models/%s.onnx", cases[c].name);
        bl_graph *g = NULL;
        if (bl_model_load(bl_test_source_path(rel), NULL, &g) != BL_OK) {
            BL_CHECK(0, "%s: %s", cases[c].name, bl_error_message());
            continue;
        }
        BL_CHECK(g->op_counts_loaded[BL_OP_CONSTANT_OF_SHAPE] == 1, "%s: ConstantOfShape loaded", cases[c].name);
        BL_CHECK(g->n_nodes == 1 && g->nodes[0].op == BL_OP_PAD, "%s: %d nodes left, first %s; expected one Pad",
                 cases[c].name, g->n_nodes, g->n_nodes ? bl_op_name(g->nodes[0].op) : "-");
        const bl_node *p = nth_node(g, BL_OP_PAD, 0);
        if (p) {
            const bl_tensor *t = bl_node_input(g, p, 1);
            BL_CHECK(t->data && t->dtype == BL_DT_INT64 && t->rank == 1 && t->dims[0] == cases[c].npads &&
                         !(t->flags & BL_TENSOR_HAS_SYM_N),
                     "%s: pads are a constant int64 [%d]", cases[c].name, cases[c].npads);
            if (t->data && t->dims[0] == cases[c].npads)
                for (int i = 0; i < cases[c].npads; i++)
                    BL_CHECK(((const int64_t *)t->data)[i] == cases[c].pads[i], "%s: pads[%d] = %" PRId64 ", expected %" PRId64,
                             cases[c].name, i, ((const int64_t *)t->data)[i], cases[c].pads[i]);
            BL_CHECK(!strcmp(shape_of(g, p->outputs[0], buf), cases[c].shape), "%s: output %s, expected %s",
                     cases[c].name, buf, cases[c].shape);
        }
        bl_graph_free(g);
    }
}

/* `x * x.shape[0]` and `x + x.shape[0] / 8.0`: the Cast of the folded batch size stays a node
 * and reads a constant flagged BL_TENSOR_HAS_SYM_N holding BL_SHAPE_SYM_N. */
static void test_sym_batch_models(void) {
    const char *names[] = {"sym_batch_mul", "sym_batch_div"};
    const int want_nodes[] = {2, 3}; /* Cast, Mul | Cast, Div, Add */
    for (int c = 0; c < 2; c++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/data/models/%s.onnx", names[c]);
        bl_graph *g = NULL;
        if (bl_model_load(bl_test_source_path(rel), NULL, &g) != BL_OK) {
            BL_CHECK(0, "%s: %s", names[c], bl_error_message());
            continue;
        }
        BL_CHECK(g->n_nodes == want_nodes[c], "%s: %d nodes, expected %d", names[c], g->n_nodes, want_nodes[c]);
        const bl_node *cast = nth_node(g, BL_OP_CAST, 0);
        BL_CHECK(cast != NULL, "%s: the Cast of the batch size stays", names[c]);
        if (cast) {
            const bl_tensor *t = bl_node_input(g, cast, 0);
            int64_t v = 0;
            if (t->data) memcpy(&v, t->data, 8);
            BL_CHECK(t->data && t->dtype == BL_DT_INT64 && v == BL_SHAPE_SYM_N && (t->flags & BL_TENSOR_HAS_SYM_N),
                     "%s: Cast input is the flagged batch-size constant", names[c]);
        }
        bl_graph_free(g);
    }
}

/* ---- hostile files ------------------------------------------------------------------- */

typedef void (*edit_fn)(Onnx__ModelProto *m);

static void set_str(char **field, const char *v) {
    free(*field);
    *field = strdup(v);
}

/* Unpack `path`, apply `edit`, repack, load from memory (base_dir for external data) and
 * expect BL_ERR_MODEL with `needle` in the message. */
static void expect_reject(const char *label, const char *path, const char *base_dir, edit_fn edit, const char *needle) {
    size_t n;
    uint8_t *bytes = slurp(path, &n);
    BL_CHECK(bytes, "read %s", path);
    if (!bytes) return;
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, bytes);
    BL_CHECK(m, "unpack %s", path);
    if (!m) {
        free(bytes);
        return;
    }
    size_t saved_init = m->graph->n_initializer;
    edit(m);
    size_t sz = onnx__model_proto__get_packed_size(m);
    uint8_t *out = malloc(sz ? sz : 1);
    onnx__model_proto__pack(m, out);
    m->graph->n_initializer = saved_init > m->graph->n_initializer ? saved_init : m->graph->n_initializer;
    onnx__model_proto__free_unpacked(m, NULL);
    bl_graph *g = NULL;
    bl_status s = bl_onnx_load_buffer(out, sz, base_dir, label, &g);
    if (s == BL_OK) {
        s = bl_graph_prepare(g, &(bl_prepare_opts){true, true, true});
    }
    BL_CHECK(s == BL_ERR_MODEL, "%s: expected BL_ERR_MODEL, got %s (%s)", label, bl_errname(s), bl_error_message());
    BL_CHECK(strstr(bl_error_message(), needle) != NULL, "%s: message lacks '%s': %s", label, needle, bl_error_message());
    if (bl_test_failures == 0) fprintf(stderr, "ok %-22s %s\n", label, bl_error_message());
    bl_graph_free(g);
    free(out);
    free(bytes);
}

static void e_unsupported(Onnx__ModelProto *m) { set_str(&m->graph->node[2]->op_type, "NonMaxSuppression"); }
static void e_domain(Onnx__ModelProto *m) { set_str(&m->graph->node[0]->domain, "com.microsoft"); }
static void e_opset_low(Onnx__ModelProto *m) { m->opset_import[0]->version = 9; }
static void e_opset_high(Onnx__ModelProto *m) { m->opset_import[0]->version = 22; }
static void e_missing_init(Onnx__ModelProto *m) {
    Onnx__GraphProto *g = m->graph;
    Onnx__TensorProto *t = g->initializer[0];
    g->initializer[0] = g->initializer[g->n_initializer - 1];
    g->initializer[g->n_initializer - 1] = t;
    g->n_initializer--; /* restored before free by expect_reject */
}
static void e_cycle(Onnx__ModelProto *m) {
    Onnx__GraphProto *g = m->graph;
    set_str(&g->node[0]->input[0], g->node[3]->output[0]);
}
static void e_dangling(Onnx__ModelProto *m) { set_str(&m->graph->node[1]->input[0], "no_such_tensor"); }
static void e_dup_output(Onnx__ModelProto *m) { set_str(&m->graph->node[2]->output[0], m->graph->node[1]->output[0]); }
static void e_attr_type(Onnx__ModelProto *m) {
    Onnx__NodeProto *nd = m->graph->node[0];
    for (size_t i = 0; i < nd->n_attribute; i++)
        if (!strcmp(nd->attribute[i]->name, "strides")) nd->attribute[i]->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
}
static void e_unknown_attr(Onnx__ModelProto *m) { set_str(&m->graph->node[0]->attribute[0]->name, "bogus"); }
static void e_huge_dims(Onnx__ModelProto *m) {
    Onnx__TensorProto *t = m->graph->initializer[0];
    for (size_t i = 0; i < t->n_dims; i++) t->dims[i] = INT64_C(1) << 40;
}
static void e_negative_dim(Onnx__ModelProto *m) { m->graph->initializer[0]->dims[0] = -3; }
static void e_raw_len(Onnx__ModelProto *m) {
    Onnx__TensorProto *t = m->graph->initializer[0];
    if (t->has_raw_data && t->raw_data.len >= 4) t->raw_data.len -= 4;
}
static void e_input_dim(Onnx__ModelProto *m) {
    Onnx__TensorShapeProto *s = m->graph->input[0]->type->tensor_type->shape;
    s->dim[2]->dim_value = -5;
}
static void e_input_huge(Onnx__ModelProto *m) {
    Onnx__TensorShapeProto *s = m->graph->input[0]->type->tensor_type->shape;
    s->dim[2]->dim_value = INT64_C(1) << 20;
    s->dim[3]->dim_value = INT64_C(1) << 20;
}
static void e_input_zero(Onnx__ModelProto *m) {
    /* dim_value 0 is a fixed empty dimension (not symbolic): the Conv then has no room */
    Onnx__TensorShapeProto *s = m->graph->input[0]->type->tensor_type->shape;
    s->dim[2]->dim_value = 0;
}
static void e_bad_kernel(Onnx__ModelProto *m) {
    /* MaxPool window larger than its input: a shape error caught by inference */
    for (size_t n = 0; n < m->graph->n_node; n++) {
        Onnx__NodeProto *nd = m->graph->node[n];
        if (strcmp(nd->op_type, "MaxPool")) continue;
        for (size_t i = 0; i < nd->n_attribute; i++)
            if (!strcmp(nd->attribute[i]->name, "kernel_shape"))
                for (size_t k = 0; k < nd->attribute[i]->n_ints; k++) nd->attribute[i]->ints[k] = 99;
    }
}
static void ext_set(Onnx__ModelProto *m, const char *key, const char *value) {
    for (size_t i = 0; i < m->graph->n_initializer; i++) {
        Onnx__TensorProto *t = m->graph->initializer[i];
        for (size_t k = 0; k < t->n_external_data; k++)
            if (!strcmp(t->external_data[k]->key, key)) set_str(&t->external_data[k]->value, value);
    }
}
static void e_ext_dotdot(Onnx__ModelProto *m) { ext_set(m, "location", "../small_cnn.onnx"); }
static void e_ext_abs(Onnx__ModelProto *m) { ext_set(m, "location", "/etc/passwd"); }
static void e_ext_offset(Onnx__ModelProto *m) { ext_set(m, "offset", "1000000"); }
static void e_ext_length(Onnx__ModelProto *m) { ext_set(m, "length", "12"); }
static void e_ext_badnum(Onnx__ModelProto *m) { ext_set(m, "offset", "12abc"); }
static void e_ext_symlink(Onnx__ModelProto *m) { ext_set(m, "location", "link.data"); }
static void e_ext_missing(Onnx__ModelProto *m) { ext_set(m, "location", "absent.data"); }

/* pad_reflect_1d: node 2 is the ConstantOfShape, whose value attribute is int64 [1] {0}. */
static void e_cos_two_values(Onnx__ModelProto *m) {
    Onnx__TensorProto *t = m->graph->node[2]->attribute[0]->t;
    t->has_raw_data = 0;
    t->dims[0] = 2;
    t->n_int64_data = 2;
    t->int64_data = calloc(2, sizeof(int64_t)); /* freed by free_unpacked (default allocator) */
}
static void e_cos_no_value(Onnx__ModelProto *m) {
    Onnx__NodeProto *n = m->graph->node[2];
    onnx__attribute_proto__free_unpacked(n->attribute[0], NULL);
    n->n_attribute = 0; /* default value: float 0, which the int64 Concat after it rejects */
}

static void test_hostile(void) {
    const char *cnn = bl_test_source_path("tests/data/models/small_cnn.onnx");
    char cnn_path[1024];
    snprintf(cnn_path, sizeof cnn_path, "%s", cnn);
    expect_reject("unsupported op", cnn_path, NULL, e_unsupported, "NonMaxSuppression");
    expect_reject("unsupported op list", cnn_path, NULL, e_unsupported, "supported ops: Conv, ConvTranspose");
    expect_reject("foreign domain", cnn_path, NULL, e_domain, "com.microsoft");
    expect_reject("opset 9", cnn_path, NULL, e_opset_low, "opset 9");
    expect_reject("opset 22", cnn_path, NULL, e_opset_high, "opsets 11 to 21");
    expect_reject("missing initializer", cnn_path, NULL, e_missing_init, "missing initializer");
    expect_reject("cycle", cnn_path, NULL, e_cycle, "cycle");
    expect_reject("dangling input", cnn_path, NULL, e_dangling, "no_such_tensor");
    expect_reject("duplicate output", cnn_path, NULL, e_dup_output, "duplicate tensor name");
    expect_reject("attribute type", cnn_path, NULL, e_attr_type, "expected ints");
    expect_reject("unknown attribute", cnn_path, NULL, e_unknown_attr, "bogus");
    expect_reject("huge dims", cnn_path, NULL, e_huge_dims, "too large");
    expect_reject("negative dim", cnn_path, NULL, e_negative_dim, "negative dimension");
    expect_reject("raw_data length", cnn_path, NULL, e_raw_len, "raw_data holds");
    expect_reject("input negative dim", cnn_path, NULL, e_input_dim, "negative dimension");
    expect_reject("input huge", cnn_path, NULL, e_input_huge, "too large");
    expect_reject("input zero dim", cnn_path, NULL, e_input_zero, "larger than the padded input");
    expect_reject("pool window", cnn_path, NULL, e_bad_kernel, "larger than the padded input");

    char pad_path[1024];
    snprintf(pad_path, sizeof pad_path, "%s", bl_test_source_path("tests/data/models/pad_reflect_1d.onnx"));
    expect_reject("ConstantOfShape value", pad_path, NULL, e_cos_two_values, "exactly one element");
    expect_reject("ConstantOfShape default", pad_path, NULL, e_cos_no_value, "differ in rank or type");

    /* the unsupported-op message names the node too */
    /* external data: copy ext/ to a temp folder so that links and edits stay local */
    const char *dir = bl_test_tmpdir("onnx_ext");
    char d[1024], mp[1200], dp[1200], lp[1200], src[1200];
    snprintf(d, sizeof d, "%s", dir);
    size_t n1, n2;
    snprintf(src, sizeof src, "%s", bl_test_source_path("tests/data/models/ext/model.onnx"));
    uint8_t *mb = slurp(src, &n1);
    snprintf(src, sizeof src, "%s", bl_test_source_path("tests/data/models/ext/model.onnx.data"));
    uint8_t *db = slurp(src, &n2);
    BL_CHECK(mb && db, "ext model files");
    if (!mb || !db) return;
    snprintf(mp, sizeof mp, "%s/model.onnx", d);
    snprintf(dp, sizeof dp, "%s/model.onnx.data", d);
    snprintf(lp, sizeof lp, "%s/link.data", d);
    BL_CHECK(spit(mp, mb, n1) == 0 && spit(dp, db, n2) == 0, "write temp copies");
    BL_CHECK(symlink(cnn_path, lp) == 0, "symlink");
    bl_graph *g = NULL;
    BL_CHECK(bl_model_load(d, NULL, &g) == BL_OK, "ext copy loads from its folder: %s", bl_error_message());
    bl_graph_free(g);
    g = NULL;
    BL_CHECK(bl_onnx_load_buffer(mb, n1, NULL, "ext in memory", &g) == BL_ERR_MODEL &&
                 strstr(bl_error_message(), "external data"),
             "external data without a folder: %s", bl_error_message());
    expect_reject("ext ..", mp, d, e_ext_dotdot, "inside the model's folder");
    expect_reject("ext absolute", mp, d, e_ext_abs, "inside the model's folder");
    expect_reject("ext offset", mp, d, e_ext_offset, "lies outside");
    expect_reject("ext length", mp, d, e_ext_length, "does not match");
    expect_reject("ext number", mp, d, e_ext_badnum, "not a non-negative integer");
    expect_reject("ext symlink", mp, d, e_ext_symlink, "outside the model's folder");
    expect_reject("ext missing", mp, d, e_ext_missing, "cannot be opened");
    /* truncated data file */
    BL_CHECK(spit(dp, db, n2 / 2) == 0, "truncate data");
    bl_status s = bl_model_load(d, NULL, &g);
    BL_CHECK(s == BL_ERR_MODEL && strstr(bl_error_message(), "lies outside"), "truncated data file: %s %s",
             bl_errname(s), bl_error_message());
    bl_graph_free(g);
    free(mb);
    free(db);
}

static void test_corrupt_bytes(void) {
    size_t n;
    char p[1024];
    snprintf(p, sizeof p, "%s", bl_test_source_path("tests/data/models/small_cnn.onnx"));
    uint8_t *b = slurp(p, &n);
    BL_CHECK(b, "read");
    if (!b) return;
    int ok = 0, rejected = 0, other = 0;
    /* truncation at many lengths */
    for (size_t len = 0; len < n; len += 37) {
        bl_graph *g = NULL;
        bl_status s = bl_onnx_load_buffer(b, len, NULL, "truncated", &g);
        if (s == BL_OK) s = bl_graph_prepare(g, &(bl_prepare_opts){true, true, true});
        if (s == BL_OK) ok++;
        else if (s == BL_ERR_MODEL) rejected++;
        else other++;
        bl_graph_free(g);
    }
    BL_CHECK(other == 0, "truncation gave %d statuses other than OK/BL_ERR_MODEL", other);
    BL_CHECK(rejected > 0, "no truncation was rejected");
    bl_graph *g = NULL;
    BL_CHECK(bl_onnx_load_buffer(b, n / 2, NULL, "half", &g) == BL_ERR_MODEL, "half a file must fail");
    bl_graph_free(g);
    /* byte flips with edge values, deterministic */
    uint64_t r = 12345;
    static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x01};
    for (int it = 0; it < 600; it++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        uint8_t *c = malloc(n);
        memcpy(c, b, n);
        for (int k = 0; k < 1 + (int)(r % 3); k++) c[(r >> (8 + 8 * k)) % n] = vals[(r >> 4) % 5];
        g = NULL;
        bl_status s = bl_onnx_load_buffer(c, n, NULL, "flipped", &g);
        if (s == BL_OK) s = bl_graph_prepare(g, &(bl_prepare_opts){true, true, true});
        if (s == BL_OK) {
            bl_graph_stats st;
            bl_graph_stats_compute(g, &st);
        }
        other += s != BL_OK && s != BL_ERR_MODEL;
        if (s != BL_OK && s != BL_ERR_MODEL) fprintf(stderr, "flip %d: %s %s\n", it, bl_errname(s), bl_error_message());
        bl_graph_free(g);
        free(c);
    }
    BL_CHECK(other == 0, "byte flips gave %d statuses other than OK/BL_ERR_MODEL", other);
    free(b);
    (void)ok;
}

static void test_paths(void) {
    char buf[256];
    BL_CHECK(bl_model_resolve_path("/nonexistent/model", buf, sizeof buf) == BL_ERR_NOT_FOUND, "missing model");
    const char *dir = bl_test_tmpdir("onnx_empty");
    char d[1024];
    snprintf(d, sizeof d, "%s", dir);
    BL_CHECK(bl_model_resolve_path(d, buf, sizeof buf) == BL_ERR_NOT_FOUND &&
                 strstr(bl_error_message(), "holds no model.onnx"),
             "folder without model.onnx: %s", bl_error_message());
    bl_graph *g = NULL;
    BL_CHECK(bl_onnx_load_buffer("not a model at all", 18, NULL, "text", &g) == BL_ERR_MODEL, "text is not a model");
}

/* The CLI end to end: `baleen model info` prints what the library computed. */
static void test_cli(void) {
    const char *bin = getenv("BL_BINARY");
    if (!bin) {
        fprintf(stderr, "BL_BINARY not set: CLI checks skipped (run through ctest)\n");
        return;
    }
    const char *dir = bl_test_tmpdir("model_cli");
    char out[1024], cmd[4096], text[8192] = "";
    snprintf(out, sizeof out, "%s/info.txt", dir);
    snprintf(cmd, sizeof cmd, "'%s' model info '%s' > '%s' 2>&1", bin,
             bl_test_source_path("tests/data/models/small_cnn.onnx"), out);
    BL_CHECK(bl_test_run(cmd) == 0, "model info exit status");
    FILE *f = fopen(out, "r");
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    const char *want[] = {"Nx1x16x16", "Nx3", "parameters: 1299", "FLOPs per item: 73824", "BatchNormalization",
                          "11.1 KiB total, 10.0 KiB peak"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        BL_CHECK(strstr(text, want[i]), "model info output lacks '%s':\n%s", want[i], text);
    snprintf(cmd, sizeof cmd, "'%s' model info '%s' > /dev/null 2>&1", bin, bl_test_source_path("tests/data/models/ext"));
    BL_CHECK(bl_test_run(cmd) == 0, "model info on a model folder");
    snprintf(cmd, sizeof cmd, "'%s' model info /nonexistent.onnx > /dev/null 2>&1", bin);
    BL_CHECK(bl_test_run(cmd) == 3, "missing model exits 3");
    snprintf(cmd, sizeof cmd, "'%s' model > /dev/null 2>&1", bin);
    BL_CHECK(bl_test_run(cmd) == 1, "no subcommand exits 1");
    snprintf(cmd, sizeof cmd, "'%s' model info --help > /dev/null 2>&1", bin);
    BL_CHECK(bl_test_run(cmd) == 0, "--help exits 0");
    snprintf(cmd, sizeof cmd, "'%s' model run x.onnx > /dev/null 2>&1", bin);
    BL_CHECK(bl_test_run(cmd) == 1, "model run without --input/--output is a usage error: exit 1");
    snprintf(cmd, sizeof cmd, "'%s' model run /nonexistent.onnx --input a.npy --output b.npy > /dev/null 2>&1", bin);
    BL_CHECK(bl_test_run(cmd) == 3, "model run on a missing model exits 3");
}

int main(void) {
    static const char *models[][2] = {
        {"tests/data/models/small_cnn.onnx", "tests/data/models/small_cnn.expected.csv"},
        {"tests/data/models/view_net.onnx", "tests/data/models/view_net.expected.csv"},
        {"tests/data/models/depthwise.onnx", "tests/data/models/depthwise.expected.csv"},
        {"tests/data/models/ext", "tests/data/models/ext/expected.csv"},
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char m[1024], c[1024];
        snprintf(m, sizeof m, "%s", bl_test_source_path(models[i][0]));
        snprintf(c, sizeof c, "%s", bl_test_source_path(models[i][1]));
        check_against_csv(m, c);
    }
    test_small_cnn_details();
    test_view_and_depthwise();
    test_pad_models();
    test_sym_batch_models();
    test_hostile();
    test_corrupt_bytes();
    test_paths();
    test_cli();
    return bl_test_finish("test_onnx_load");
}
