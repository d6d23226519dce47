/* cmd_model.c — `baleen model info MODEL`: what a model expects, computes and costs.
 *
 * Loads the model through models/onnx_load.h (parse, validate, prepare), then prints its
 * inputs and outputs with shapes (N = the batch), op counts before and after the passes,
 * the parameter count, FLOPs and activation memory per input item (models/graph.h,
 * bl_graph_stats); `baleen model run MODEL --input IN.npy --output OUT.npy`: runs the model on
 * a float32 .npy batch with an executor (models/exec.h) and writes its first output.
 * Options are parsed by core/cli_args.c. Threading: single-threaded CLI code.
 */
#include <inttypes.h> /* PRId64 */
#include <stdio.h>
#include <string.h>

#include "cli_args.h"          /* bl_cli_args_parse: the options */
#include "commands.h"          /* bl_cmd_model, bl_cli_error */
#include "io/npy.h"            /* bl_npy_read_f32, bl_npy_write_f32 */
#include "models/exec.h"       /* bl_exec_create, bl_exec_run */
#include "models/card.h"       /* bl_card_find, bl_card_load: the model's card, when it has one */
#include "models/onnx_load.h"  /* bl_model_load, bl_graph_stats_compute */

#include <stdlib.h> /* malloc, qsort */
#include <time.h>   /* clock_gettime for the run time */

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen model info MODEL [--no-passes]\n"
            "       baleen model run MODEL --input IN.npy --output OUT.npy [--backend cpu] [--threads N]\n"
            "                        [--warmup W] [--repeat R]\n\n"
            "MODEL is an .onnx file or a model folder holding model.onnx (and model.yaml).\n\n"
            "info prints the inputs and outputs with their shapes (N is the batch size), the op\n"
            "counts as loaded and after baleen's passes (constant folding of shape chains,\n"
            "BatchNormalization folded into Conv, activations fused into Conv), the parameter\n"
            "count, FLOPs per input item (2 x multiply-adds of Conv, ConvTranspose, Gemm and\n"
            "MatMul) and activation memory per input item (sum of all intermediate tensors, and\n"
            "the peak when each tensor is freed after its last use).\n\n"
            "run feeds IN.npy (float32, shape [B, ...] matching the model's first input; B is the\n"
            "batch when the input's first dimension is dynamic) through the model and writes its\n"
            "first output as float32 to OUT.npy; it prints the output shape, the run time and the\n"
            "executor's planned peak activation memory. With --repeat R the batch runs W (--warmup)\n"
            "untimed times and then R timed times through the same executor (model loaded, weights\n"
            "packed and primitives built once, as when scanning); run prints the median, minimum\n"
            "and maximum time per run and the throughput in items per second (end-to-end executor\n"
            "throughput, without process start or file I/O). The output written is the last run's.\n\n"
            "options:\n"
            "  --backend B  executor backend for run: cpu (default)\n"
            "  --threads N  threads for run (0 = every CPU it may use, the default); on a machine whose cores\n"
            "               are busy with other work, OMP_WAIT_POLICY=passive in the environment\n"
            "               keeps idle threads from spinning (steadier times with 2+ threads)\n"
            "  --warmup W   untimed runs before the timed ones (default 0; with --repeat: 2)\n"
            "  --repeat R   timed runs of the batch (default 1); prints median/min/max per run\n"
            "  --no-passes  skip BatchNormalization folding and activation fusion (constant\n"
            "               folding of shape chains always runs: shapes depend on it)\n"
            "  -h, --help   this help\n\n"
            "example:\n"
            "  baleen model info models/zoo/whalecall-small\n"
            "  baleen model info resnet18.onnx --no-passes\n"
            "  baleen model run models/zoo/whalecall-small --input windows.npy --output scores.npy --threads 4\n"
            "  baleen model run resnet18.onnx -i batch32.npy -o out.npy --threads 2 --repeat 20\n");
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

/* The card part of `model info`: what the model expects and says of itself. Returns BL_OK
 * when there is no card (a bare .onnx), the card's error when it is broken or does not fit. */
static bl_status print_card(const char *model, const bl_graph *g) {
    /* bl_card_find's answer is the model's path, or its folder, plus "/model.yaml": it fits
     * in strlen(model) + 64, so no model path is too long here */
    size_t cap = strlen(model) + 64;
    char *path = malloc(cap);
    BL_CHECK_ALLOC(path);
    bl_status s = bl_card_find(model, path, cap);
    if (s == BL_ERR_NOT_FOUND) {
        printf("card:       none (%s)\n", bl_error_message());
        free(path);
        return BL_OK;
    }
    if (s != BL_OK) {
        free(path);
        return s;
    }
    bl_model_card c;
    s = bl_card_load(path, &c);
    free(path);
    if (s != BL_OK) {
        bl_card_free(&c);
        return s;
    }
    const bl_frontend_params *fe = &c.frontend;
    double sr = fe->sample_rate, hop_s = fe->hop_length / sr;
    printf("card:       %s\n", c.path);
    printf("  model:      %s %s%s%s\n", c.name, c.version, c.description ? " - " : "", c.description ? c.description : "");
    printf("  licence:    %s%s%s%s%s\n", c.licence, c.authors ? "; authors: " : "", c.authors ? c.authors : "",
           c.url ? "; url: " : "", c.url ? c.url : "");
    if (c.trained_on) printf("  trained on: %s\n", c.trained_on);
    static const char *const comp[] = {"log", "db", "pcen", "none"};
    printf("  audio:      %d Hz; n_fft %d, hop %d (%.2f ms/frame), %d mels %g..%g Hz, %s\n", fe->sample_rate, fe->n_fft,
           fe->hop_length, 1000.0 * hop_s, fe->mel.n_mels, fe->mel.fmin, fe->mel.fmax > 0 ? fe->mel.fmax : sr / 2,
           comp[fe->compression.type]);
    printf("  windows:    %d frames (%.3f s) every %d frames (%.3f s)\n", c.window_frames, c.window_frames * hop_s,
           c.hop_frames, c.hop_frames * hop_s);
    int in = bl_card_input_index(&c, g);
    printf("  input:      %s NCHW [N, 1, %d, %d]\n", in >= 0 ? g->tensors[g->inputs[in]].name : "?", fe->mel.n_mels,
           c.window_frames);
    printf("  classes:    %zu:", c.n_classes);
    for (size_t k = 0; k < c.n_classes; k++) printf("%s %s", k ? "," : "", c.classes[k]);
    printf("\n  activation: %s (%s)\n", bl_card_activation_name(c.output_activation),
           bl_card_activation_needed(&c, g) ? "applied by baleen" : "already in the graph or none");
    if (c.metrics) printf("  metrics:    %s\n", c.metrics);
    s = bl_card_check_graph(&c, g);
    if (s == BL_OK) printf("  check:      the card fits the graph\n");
    bl_card_free(&c);
    return s;
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
    s = print_card(model, g);
    bl_graph_free(g);
    if (s != BL_OK) return bl_cli_error(s, "model info: card");
    return BL_EXIT_OK;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int model_run(const char *model, const char *in_path, const char *out_path, const char *backend, int threads,
                     int warmup, int repeat) {
    const bl_exec_backend *be = bl_exec_backend_find(backend);
    if (!be) {
        fprintf(stderr, "baleen: error: model run: unknown backend '%s' (available: cpu)\n", backend);
        return BL_EXIT_USAGE;
    }
    bl_graph *g = NULL;
    bl_exec *ex = NULL;
    float *x = NULL, *y = NULL;
    int rc = BL_EXIT_OK;
    bl_status s = bl_model_load(model, NULL, &g);
    if (s != BL_OK) return bl_cli_error(s, "model run");
    size_t shape[BL_NPY_MAX_DIMS];
    int ndim = 0;
    s = bl_npy_read_f32(in_path, &x, shape, &ndim);
    if (s != BL_OK) {
        rc = bl_cli_error(s, "model run: reading the input");
        goto out;
    }
    if (g->n_inputs != 1) {
        fprintf(stderr, "baleen: error: model run: the model has %d inputs; model run feeds exactly one\n", g->n_inputs);
        rc = BL_EXIT_USAGE;
        goto out;
    }
    const bl_tensor *ti = &g->tensors[g->inputs[0]];
    const bl_tensor *to = &g->tensors[g->outputs[0]];
    if (ti->dtype != BL_DT_FLOAT || to->dtype != BL_DT_FLOAT) {
        fprintf(stderr, "baleen: error: model run: the model's first input and output must be float32\n");
        rc = BL_EXIT_USAGE;
        goto out;
    }
    bool dyn = ti->rank > 0 && ti->dims[0] < 0;
    int64_t batch = dyn && ndim > 0 ? (int64_t)shape[0] : 1;
    bool match = ndim == ti->rank && batch >= 1;
    for (int i = 0; match && i < ndim; i++) match = (int64_t)shape[i] == bl_dim_at(ti->dims[i], batch);
    if (!match) {
        char want[128];
        fprintf(stderr, "baleen: error: model run: %s has shape [", in_path);
        for (int i = 0; i < ndim; i++) fprintf(stderr, "%s%zu", i ? ", " : "", shape[i]);
        fprintf(stderr, "], the model's input '%s' expects %s (N = any batch)\n", ti->name,
                bl_tensor_shape_str(ti, want, sizeof want));
        rc = BL_EXIT_USAGE;
        goto out;
    }
    bl_exec_opts o = bl_exec_opts_default();
    o.max_batch = batch;
    o.threads = threads;
    if ((s = bl_exec_create(be, g, &o, &ex)) != BL_OK) {
        rc = bl_cli_error(s, "model run");
        goto out;
    }
    int64_t n_out = bl_tensor_numel(to, batch);
    y = malloc((size_t)(n_out > 0 ? n_out : 1) * sizeof *y);
    if (!y) {
        rc = bl_cli_error(BL_ERR_NOMEM, "model run");
        goto out;
    }
    void **outs = calloc((size_t)g->n_outputs, sizeof *outs);
    float **extra = calloc((size_t)g->n_outputs, sizeof *extra);
    bool ok = outs && extra;
    for (int k = 0; ok && k < g->n_outputs; k++) {
        const bl_tensor *t = &g->tensors[g->outputs[k]];
        if (k == 0) outs[k] = y;
        else ok = (outs[k] = extra[k] = malloc((size_t)bl_tensor_numel(t, batch) * bl_dtype_size(t->dtype) + 8)) != NULL;
    }
    double *times = calloc((size_t)repeat, sizeof *times);
    ok = ok && times;
    s = ok ? BL_OK : BL_ERROR(BL_ERR_NOMEM, "out of memory for the outputs");
    for (int r = 0; s == BL_OK && r < warmup; r++) s = bl_exec_run(ex, batch, (const void *const *)&x, outs);
    for (int r = 0; s == BL_OK && r < repeat; r++) {
        double t0 = now_s();
        s = bl_exec_run(ex, batch, (const void *const *)&x, outs);
        times[r] = now_s() - t0;
    }
    double dt = 0, tmin = 0, tmax = 0;
    if (s == BL_OK) {
        qsort(times, (size_t)repeat, sizeof *times, cmp_double);
        dt = repeat % 2 ? times[repeat / 2] : 0.5 * (times[repeat / 2 - 1] + times[repeat / 2]);
        tmin = times[0], tmax = times[repeat - 1];
    }
    free(times);
    for (int k = 0; extra && k < g->n_outputs; k++) free(extra[k]);
    free(extra), free(outs);
    if (s != BL_OK) {
        rc = bl_cli_error(s, "model run");
        goto out;
    }
    size_t oshape[BL_MAX_RANK];
    for (int i = 0; i < to->rank; i++) oshape[i] = (size_t)bl_dim_at(to->dims[i], batch);
    if ((s = bl_npy_write_f32(out_path, y, oshape, to->rank)) != BL_OK) {
        rc = bl_cli_error(s, "model run: writing the output");
        goto out;
    }
    bl_exec_stats st;
    bl_exec_get_stats(ex, &st);
    char a[32], b[32], c[32];
    human_bytes(st.arena_bytes, a, sizeof a);
    human_bytes(st.workspace_bytes, b, sizeof b);
    human_bytes(st.packed_weight_bytes, c, sizeof c);
    printf("output:  %s [", to->name);
    for (int i = 0; i < to->rank; i++) printf("%s%zu", i ? ", " : "", oshape[i]);
    printf("] -> %s\n", out_path);
    printf("backend: %s, batch %" PRId64 ", %d steps\n", be->name, batch, st.n_steps);
    if (repeat == 1 && warmup == 0)
        printf("time:    %.3f ms (%.3f ms per item, first run: includes one-time warm-up)\n", dt * 1e3,
               dt * 1e3 / (double)batch);
    else
        printf("time:    median %.4f ms per run (min %.4f, max %.4f; %d runs after %d warm-up), %.1f items/s\n",
               dt * 1e3, tmin * 1e3, tmax * 1e3, repeat, warmup, dt > 0 ? (double)batch / dt : 0.0);
    printf("memory:  %s peak activations (planned, batch %" PRId64 "), %s workspace, %s packed weights\n", a, batch, b, c);
out:
    free(x);
    free(y);
    bl_exec_free(ex);
    bl_graph_free(g);
    return rc;
}

enum { RUN_INPUT, RUN_OUTPUT, RUN_BACKEND, RUN_THREADS, RUN_WARMUP, RUN_REPEAT, N_RUN_OPTS };
static const bl_cli_opt k_run_opts[N_RUN_OPTS] = {
    [RUN_INPUT] = {"input", 'i', "IN.npy", false},    [RUN_OUTPUT] = {"output", 'o', "OUT.npy", false},
    [RUN_BACKEND] = {"backend", 0, "B", false},        [RUN_THREADS] = {"threads", 0, "N", false},
    [RUN_WARMUP] = {"warmup", 0, "W", false},          [RUN_REPEAT] = {"repeat", 0, "R", false},
};

/* argv[0] is "run". */
static int cmd_run(int argc, char **argv) {
    bl_cli_args a;
    if (bl_cli_args_parse(k_run_opts, N_RUN_OPTS, argc, argv, &a) != BL_OK)
        return bl_cli_usage("model run", "%s", bl_error_message());
    const char *backend = a.hits[RUN_BACKEND].count ? a.hits[RUN_BACKEND].value : "cpu";
    const char *in = a.hits[RUN_INPUT].value, *out = a.hits[RUN_OUTPUT].value;
    long threads = 0, warmup = -1, repeat = 1;
    const bl_cli_hit *h;
    int rc = -1;
    if (a.help) {
        print_help(stdout);
        rc = BL_EXIT_OK;
    } else if (a.n_pos > 1) {
        rc = bl_cli_usage("model run", "give one MODEL (got '%.160s' and '%.160s')", a.pos[0], a.pos[1]);
    } else if ((h = &a.hits[RUN_THREADS])->count && !bl_cli_parse_long(h->value, 0, 4096, &threads)) {
        rc = bl_cli_usage("model run", "%s wants a count 0..4096 (0 = every CPU it may use), got '%.160s'", h->typed, h->value);
    } else if ((h = &a.hits[RUN_REPEAT])->count && !bl_cli_parse_long(h->value, 1, 1000000, &repeat)) {
        rc = bl_cli_usage("model run", "%s wants a count 1..1000000, got '%.160s'", h->typed, h->value);
    } else if ((h = &a.hits[RUN_WARMUP])->count && !bl_cli_parse_long(h->value, 0, 1000000, &warmup)) {
        rc = bl_cli_usage("model run", "%s wants a count 0..1000000, got '%.160s'", h->typed, h->value);
    } else if (a.n_pos == 0 || !in || !out) {
        rc = bl_cli_usage("model run", "MODEL, --input IN.npy and --output OUT.npy are required");
    }
    const char *model = a.n_pos > 0 ? a.pos[0] : NULL; /* argv's */
    bl_cli_args_free(&a);
    if (rc >= 0) return rc;
    if (warmup < 0) warmup = repeat > 1 ? 2 : 0;
    return model_run(model, in, out, backend, (int)threads, (int)warmup, (int)repeat);
}

enum { INFO_NO_PASSES, N_INFO_OPTS };
static const bl_cli_opt k_info_opts[N_INFO_OPTS] = {[INFO_NO_PASSES] = {"no-passes", 0, NULL, false}};

int bl_cmd_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? BL_EXIT_USAGE : BL_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "run")) return cmd_run(argc - 1, argv + 1);
    if (strcmp(sub, "info") != 0)
        return bl_cli_usage("model", "unknown subcommand '%.160s' (info, run)", sub);
    bl_cli_args a;
    if (bl_cli_args_parse(k_info_opts, N_INFO_OPTS, argc - 1, argv + 1, &a) != BL_OK)
        return bl_cli_usage("model info", "%s", bl_error_message());
    int rc = -1;
    if (a.help) {
        print_help(stdout);
        rc = BL_EXIT_OK;
    } else if (a.n_pos > 1) {
        rc = bl_cli_usage("model info", "give one MODEL (got '%.160s' and '%.160s')", a.pos[0], a.pos[1]);
    } else if (a.n_pos == 0) {
        rc = bl_cli_usage("model info", "MODEL is missing");
    }
    const char *model = a.n_pos > 0 ? a.pos[0] : NULL;
    bool passes = a.hits[INFO_NO_PASSES].count == 0;
    bl_cli_args_free(&a);
    if (rc >= 0) return rc;
    return model_info(model, passes);
}
