/* cmd_model.c — `baleen model info MODEL`: what a model expects, computes and costs.
 *
 * Loads the model through models/onnx_load.h (parse, validate, prepare), then prints its
 * inputs and outputs with shapes (N = the batch), op counts before and after the passes,
 * the parameter count, FLOPs and activation memory per input item (models/graph.h,
 * bl_graph_stats). `model run` arrives with the CPU executor.
 * Threading: single-threaded CLI code.
 */
#include <inttypes.h> /* PRId64 */
#include <stdio.h>
#include <string.h>

#include "commands.h"          /* bl_cmd_model, bl_cli_error */
#include "models/onnx_load.h"  /* bl_model_load, bl_graph_stats_compute */

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen model info MODEL [--no-passes]\n"
            "       baleen model run MODEL --input IN.npy --output OUT.npy   (not yet available)\n\n"
            "MODEL is an .onnx file or a model folder holding model.onnx (and model.yaml).\n\n"
            "info prints the inputs and outputs with their shapes (N is the batch size), the op\n"
            "counts as loaded and after baleen's passes (constant folding of shape chains,\n"
            "BatchNormalization folded into Conv, activations fused into Conv), the parameter\n"
            "count, FLOPs per input item (2 x multiply-adds of Conv, ConvTranspose, Gemm and\n"
            "MatMul) and activation memory per input item (sum of all intermediate tensors, and\n"
            "the peak when each tensor is freed after its last use).\n\n"
            "options:\n"
            "  --no-passes  skip BatchNormalization folding and activation fusion (constant\n"
            "               folding of shape chains always runs: shapes depend on it)\n"
            "  -h, --help   this help\n\n"
            "example:\n"
            "  baleen model info models/zoo/whalecall-small\n"
            "  baleen model info resnet18.onnx --no-passes\n");
}

static void human(int64_t v, char *buf, size_t cap) {
    if (v >= INT64_C(10000000000)) snprintf(buf, cap, "%.2f G", (double)v / 1e9);
    else if (v >= INT64_C(10000000)) snprintf(buf, cap, "%.2f M", (double)v / 1e6);
    else if (v >= INT64_C(10000)) snprintf(buf, cap, "%.1f k", (double)v / 1e3);
    else snprintf(buf, cap, "%" PRId64, v);
}

static void human_bytes(int64_t v, char *buf, size_t cap) {
    if (v >= (INT64_C(1) << 30)) snprintf(buf, cap, "%.2f GiB", (double)v / (1 << 30));
    else if (v >= (INT64_C(1) << 20)) snprintf(buf, cap, "%.2f MiB", (double)v / (1 << 20));
    else if (v >= (INT64_C(1) << 10)) snprintf(buf, cap, "%.1f KiB", (double)v / (1 << 10));
    else snprintf(buf, cap, "%" PRId64 " B", v);
}

static void print_tensor(const bl_tensor *t) {
    char shape[128];
    printf("  %-24s %-8s %s\n", t->name, bl_dtype_name(t->dtype), bl_tensor_shape_str(t, shape, sizeof shape));
}

static int model_info(const char *model, bool passes) {
    bl_prepare_opts opts = bl_prepare_opts_default();
    if (!passes) opts.fold_batchnorm = opts.fuse_activations = false; /* folding stays: shapes need it */
    bl_graph *g;
    bl_status s = bl_model_load(model, &opts, &g);
    if (s != BL_OK) return bl_cli_error(s, "model info");
    bl_graph_stats st;
    s = bl_graph_stats_compute(g, &st);
    if (s != BL_OK) {
        bl_graph_free(g);
        return bl_cli_error(s, "model info");
    }
    printf("model:      %s\n", g->path);
    printf("producer:   %s (ONNX opset %" PRId64 ", IR version %" PRId64 ")\n", g->producer[0] ? g->producer : "unknown",
           g->opset, g->ir_version);
    printf("inputs:\n");
    for (int i = 0; i < g->n_inputs; i++) print_tensor(&g->tensors[g->inputs[i]]);
    printf("outputs:\n");
    for (int i = 0; i < g->n_outputs; i++) print_tensor(&g->tensors[g->outputs[i]]);
    int before = 0, after = 0;
    printf("ops:                      loaded  %s\n", passes ? "after passes" : "(passes off)");
    for (int op = 1; op < BL_OP_COUNT; op++) {
        if (!g->op_counts_loaded[op] && !st.op_counts[op]) continue;
        before += g->op_counts_loaded[op];
        after += st.op_counts[op];
        printf("  %-24s %6d  %6d\n", bl_op_name((bl_op)op), g->op_counts_loaded[op], st.op_counts[op]);
    }
    printf("  %-24s %6d  %6d  (%d with a fused activation)\n", "total", before, after, st.n_fused);
    char a[32], b[32];
    human(st.params, a, sizeof a);
    if (st.params >= 10000) printf("parameters: %" PRId64 " (%s)\n", st.params, a);
    else printf("parameters: %" PRId64 "\n", st.params);
    human(st.flops, a, sizeof a);
    printf("FLOPs per item: %" PRId64 " (%s FLOP; 2 x multiply-adds of Conv/ConvTranspose/Gemm/MatMul)\n", st.flops, a);
    human_bytes(st.activation_bytes, a, sizeof a);
    human_bytes(st.peak_activation_bytes, b, sizeof b);
    printf("activation memory per item: %s total, %s peak (tensors freed after last use)\n", a, b);
    bl_graph_free(g);
    return BL_EXIT_OK;
}

int bl_cmd_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? BL_EXIT_USAGE : BL_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "run")) {
        fprintf(stderr, "baleen: error: model run: not yet available (the CPU executor is not built yet); "
                        "use `baleen model info MODEL` to check a model\n");
        return BL_EXIT_FATAL;
    }
    if (strcmp(sub, "info") != 0) {
        fprintf(stderr, "baleen: error: model: unknown subcommand '%s' (info, run; see baleen model --help)\n", sub);
        return BL_EXIT_USAGE;
    }
    const char *model = NULL;
    bool passes = true;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            print_help(stdout);
            return BL_EXIT_OK;
        } else if (!strcmp(argv[i], "--no-passes")) {
            passes = false;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "baleen: error: model info: unknown option '%s' (see baleen model --help)\n", argv[i]);
            return BL_EXIT_USAGE;
        } else if (model) {
            fprintf(stderr, "baleen: error: model info: give one MODEL (got '%s' and '%s')\n", model, argv[i]);
            return BL_EXIT_USAGE;
        } else {
            model = argv[i];
        }
    }
    if (!model) {
        fprintf(stderr, "baleen: error: model info: MODEL is missing (see baleen model --help)\n");
        return BL_EXIT_USAGE;
    }
    return model_info(model, passes);
}
