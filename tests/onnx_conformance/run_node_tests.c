/* run_node_tests.c — runs the official ONNX backend node tests on baleen's CPU executor.
 *
 * usage: run_node_tests CASES_DIR LIST [CASE...]
 *   CASES_DIR holds one folder per case (model.onnx, test_data_set_K/input_I.pb and
 *   output_J.pb), as written by export_node_tests.py; LIST is selected_tests.txt (one case
 *   name per line, '#' comments). With CASE arguments only those run.
 * Each case: load + prepare the model, create a CPU executor, run every data set, compare
 * each output with |got - ref| <= atol + rtol·|ref| (rtol 1e-4 unless the case's line says rtol=X, atol 1e-5; NaN must match
 * NaN, ±inf must match exactly; int64 outputs exactly). Prints a line per failing case and
 * a pass count per op; exit 0 when every case passes, 1 otherwise.
 * TensorProto files are parsed by the protobuf-c code generated from onnx.proto.
 * Threading: single-threaded driver (the executor uses OpenMP inside).
 */
#include <dirent.h>   /* opendir for test_data_set_* */
#include <math.h>     /* isnan, isinf, fabs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/exec.h"      /* bl_exec_* */
#include "models/onnx_load.h" /* bl_onnx_load */
#include "onnx.pb-c.h"        /* Onnx__TensorProto (generated) */

#define RTOL 1e-4
#define ATOL 1e-5

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

typedef struct {
    int dtype;
    int64_t numel;
    void *data; /* float or int64 */
} tensor;

/* Read a TensorProto file as float32 or int64 (int32 widened to int64). */
static int read_tensor(const char *path, tensor *t, char *err, size_t cap) {
    size_t len;
    unsigned char *b = read_file(path, &len);
    if (!b) return snprintf(err, cap, "cannot read %s", path), -1;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, b);
    free(b);
    if (!tp) return snprintf(err, cap, "cannot parse %s", path), -1;
    int64_t n = 1;
    for (size_t i = 0; i < tp->n_dims; i++) n *= tp->dims[i];
    t->numel = n;
    t->dtype = tp->data_type;
    int rc = 0;
    if (t->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
        if (n && tp->has_raw_data && tp->raw_data.len == (size_t)n * 4) memcpy(d, tp->raw_data.data, (size_t)n * 4);
        else if (n && tp->n_float_data == (size_t)n) memcpy(d, tp->float_data, (size_t)n * 4);
        else if (n) rc = -1;
        t->data = d;
    } else if (t->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || t->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
        int64_t *d = malloc((size_t)(n ? n : 1) * sizeof *d);
        bool i64 = t->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
        if (tp->has_raw_data && tp->raw_data.len == (size_t)n * (i64 ? 8 : 4)) {
            for (int64_t i = 0; i < n; i++) {
                if (i64) memcpy(&d[i], tp->raw_data.data + 8 * i, 8);
                else { int32_t v; memcpy(&v, tp->raw_data.data + 4 * i, 4); d[i] = v; }
            }
        } else if (i64 && tp->n_int64_data == (size_t)n) memcpy(d, tp->int64_data, (size_t)n * 8);
        else if (!i64 && tp->n_int32_data == (size_t)n) for (int64_t i = 0; i < n; i++) d[i] = tp->int32_data[i];
        else if (n) rc = -1;
        t->data = d;
        t->dtype = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    } else {
        rc = -1;
        t->data = NULL;
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    if (rc) snprintf(err, cap, "%s: unsupported dtype %d or inconsistent data", path, t->dtype);
    return rc;
}

/* rtol: RTOL, or the case's own from its selected_tests.txt line ("name rtol=1e-3"), for the
 * few cases whose stored expected output was rounded by its generator. */
static bool close_enough(double got, double ref, double rtol) {
    if (isnan(ref)) return isnan(got);
    if (isinf(ref)) return got == ref;
    return fabs(got - ref) <= ATOL + rtol * fabs(ref);
}

/* Runs one case; returns 0 on pass, else writes the reason. */
static int run_case(const char *dir, double rtol, char *why, size_t cap, char *opname, size_t opcap) {
    if (strlen(dir) > 2048) return snprintf(why, cap, "path too long"), -1;
    char path[8192];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    bl_graph *g = NULL;
    bl_exec *ex = NULL;
    int rc = -1;
    bl_status s = bl_onnx_load(path, &g);
    bl_prepare_opts po = bl_prepare_opts_default();
    if (s == BL_OK) s = bl_graph_prepare(g, &po);
    if (g) { /* group by the op the case tests: its only op type, else "multi-op" */
        int kinds = 0, last = 0;
        for (int op = 1; op < BL_OP_COUNT; op++)
            if (g->op_counts_loaded[op]) kinds++, last = op;
        snprintf(opname, opcap, "%s", kinds == 1 ? bl_op_name((bl_op)last) : "(multi-op graphs)");
    }
    if (s != BL_OK) {
        snprintf(why, cap, "load: %s", bl_error_message());
        bl_graph_free(g);
        return -1;
    }
    s = bl_exec_create(bl_exec_backend_cpu(), g, NULL, &ex);
    if (s != BL_OK) {
        snprintf(why, cap, "create: %s", bl_error_message());
        bl_graph_free(g);
        return -1;
    }
    int n_sets = 0;
    for (int k = 0;; k++) {
        snprintf(path, sizeof path, "%s/test_data_set_%d", dir, k);
        DIR *dd = opendir(path);
        if (!dd) break;
        closedir(dd);
        n_sets++;
        tensor in[16] = {0}, ref[16] = {0};
        void *outs[16] = {0};
        const void *ins[16] = {0};
        int ni = g->n_inputs, no = g->n_outputs;
        bool ok = ni <= 16 && no <= 16;
        if (!ok) snprintf(why, cap, "too many inputs/outputs");
        for (int i = 0; ok && i < ni; i++) {
            snprintf(path, sizeof path, "%s/test_data_set_%d/input_%d.pb", dir, k, i);
            if (read_tensor(path, &in[i], why, cap)) ok = false;
            else if (in[i].numel != bl_tensor_numel(&g->tensors[g->inputs[i]], 1)) {
                snprintf(why, cap, "input %d has %lld elements, graph expects %lld", i, (long long)in[i].numel,
                         (long long)bl_tensor_numel(&g->tensors[g->inputs[i]], 1));
                ok = false;
            }
            ins[i] = in[i].data;
        }
        for (int j = 0; ok && j < no; j++) {
            snprintf(path, sizeof path, "%s/test_data_set_%d/output_%d.pb", dir, k, j);
            if (read_tensor(path, &ref[j], why, cap)) ok = false;
            const bl_tensor *t = &g->tensors[g->outputs[j]];
            int64_t n = bl_tensor_numel(t, 1);
            if (ok && n != ref[j].numel) {
                snprintf(why, cap, "output %d: graph gives %lld elements, expected %lld", j, (long long)n,
                         (long long)ref[j].numel);
                ok = false;
            }
            outs[j] = calloc((size_t)(n ? n : 1), 8);
        }
        if (ok && (s = bl_exec_run(ex, 1, ins, outs)) != BL_OK) {
            snprintf(why, cap, "run: %s", bl_error_message());
            ok = false;
        }
        for (int j = 0; ok && j < no; j++) {
            const bl_tensor *t = &g->tensors[g->outputs[j]];
            int bad = 0;
            for (int64_t e = 0; e < ref[j].numel; e++) {
                double got = t->dtype == BL_DT_INT64 ? (double)((int64_t *)outs[j])[e] : ((float *)outs[j])[e];
                double want = ref[j].dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? (double)((int64_t *)ref[j].data)[e]
                                                                                    : ((float *)ref[j].data)[e];
                if (!close_enough(got, want, rtol)) {
                    if (!bad)
                        snprintf(why, cap, "output %d element %lld: got %.9g, expected %.9g", j, (long long)e, got, want);
                    bad++;
                }
            }
            if (bad) {
                size_t l = strlen(why);
                snprintf(why + l, cap - l, " (%d of %lld elements differ)", bad, (long long)ref[j].numel);
                ok = false;
            }
        }
        for (int i = 0; i < 16; i++) free(in[i].data), free(ref[i].data), free(outs[i]);
        if (!ok) goto out;
    }
    if (n_sets == 0) {
        snprintf(why, cap, "no test_data_set_* folder");
        goto out;
    }
    rc = 0;
out:
    bl_exec_free(ex);
    bl_graph_free(g);
    return rc;
}

typedef struct {
    char op[64];
    int pass, total;
} op_count;

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: run_node_tests CASES_DIR LIST [CASE...]\n");
        return 2;
    }
    FILE *lf = fopen(argv[2], "r");
    if (!lf) {
        fprintf(stderr, "run_node_tests: cannot open the list %s\n", argv[2]);
        return 2;
    }
    static op_count ops[512];
    int n_ops = 0, pass = 0, total = 0;
    char line[512];
    while (fgets(line, sizeof line, lf)) {
        char *h = strchr(line, '#');
        if (h) *h = '\0';
        char name[256], opt[64] = "";
        int nf = sscanf(line, "%255s %63s", name, opt);
        if (nf < 1) continue;
        double rtol = RTOL;
        if (nf == 2 && sscanf(opt, "rtol=%lf", &rtol) != 1) {
            fprintf(stderr, "run_node_tests: %s: unknown option '%s' (only rtol=X)\n", name, opt);
            return 2;
        }
        if (argc > 3) {
            bool want = false;
            for (int i = 3; i < argc; i++) want |= !strcmp(argv[i], name);
            if (!want) continue;
        }
        char dir[2048], why[1024] = "";
        if (snprintf(dir, sizeof dir, "%s/%s", argv[1], name) >= (int)sizeof dir) continue;
        char op[64] = "(not loaded)";
        int rc = run_case(dir, rtol, why, sizeof why, op, sizeof op);
        total++;
        pass += rc == 0;
        if (rc) printf("FAIL %s: %s\n", name, why);
        int k;
        for (k = 0; k < n_ops && strcmp(ops[k].op, op); k++) {}
        if (k == n_ops && n_ops < 512) snprintf(ops[n_ops++].op, sizeof ops[0].op, "%s", op);
        if (k < 512) ops[k].total++, ops[k].pass += rc == 0;
    }
    fclose(lf);
    printf("\nONNX node tests on the CPU executor: %d of %d passed\n", pass, total);
    for (int k = 0; k < n_ops; k++) printf("  %-28s %3d / %3d\n", ops[k].op, ops[k].pass, ops[k].total);
    return pass == total && total > 0 ? 0 : 1;
}
