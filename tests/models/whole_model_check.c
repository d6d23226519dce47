/* whole_model_check.c — checks one whole model on the CPU executor against PyTorch.
 *
 * Usage:
 *   whole_model_check MODEL.onnx IN.npy REF.npy   run MODEL on IN (its batch B >= 2, 2 threads)
 *                                                 and compare with PyTorch's eval-mode REF
 *   whole_model_check --compare OUT.npy REF.npy   compare two .npy files (the CLI tests:
 *                                                 `baleen model run` wrote OUT)
 * Pass: ‖out − ref‖/‖ref‖ <= 1e-4 (the models issue's criterion), no NaN/Inf, and each item
 * run alone at batch 1 through the same executor also within 1e-4 of its reference row (the
 * dynamic batch axis). Prints the relative error and the largest absolute difference.
 * Exit status: 0 pass, 1 fail, 77 skipped because a file is absent (the big models are
 * made by scripts/make-test-models.sh, not committed).
 *
 * Registered per model by tests/cmake/whole_models.cmake; the references come from
 * tests/models/make_whole_models.py. Single-threaded program (the executor uses 2 threads).
 */
#include <math.h>     /* sqrt, isfinite */
#include <stdio.h>    /* printf, fprintf */
#include <stdlib.h>   /* malloc, free */
#include <string.h>   /* strcmp */
#include <sys/stat.h> /* stat: tell absent files (skip) from broken ones (fail) */

#include "core/error.h"       /* bl_status, bl_error_message */
#include "io/npy.h"           /* bl_npy_read_f32 */
#include "models/exec.h"      /* bl_exec_* */
#include "models/onnx_load.h" /* bl_model_load */

#define BL_WM_TOL 1e-4
#define BL_WM_THREADS 2
#define BL_WM_SKIP 77

typedef struct {
    double rel;     /* ‖a − b‖ / ‖b‖ (NaN when a holds a non-finite value) */
    double max_abs; /* max |a − b| */
    double max_ref; /* max |b| */
} bl_wm_err;

static bl_wm_err compare(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    bl_wm_err e = {0, 0, 0};
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) finite = 0;
        double d = (double)a[i] - (double)b[i];
        num += d * d, den += (double)b[i] * b[i];
        if (fabs(d) > e.max_abs) e.max_abs = fabs(d);
        if (fabs((double)b[i]) > e.max_ref) e.max_ref = fabs((double)b[i]);
    }
    e.rel = finite ? sqrt(num / (den > 0 ? den : 1)) : NAN;
    return e;
}

static int present(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static size_t numel(const size_t *shape, int ndim, int from) {
    size_t n = 1;
    for (int i = from; i < ndim; i++) n *= shape[i];
    return n;
}

static int compare_files(const char *out_path, const char *ref_path) {
    float *out = NULL, *ref = NULL;
    size_t os[8], rs[8];
    int on = 0, rn = 0, rc = 1;
    if (bl_npy_read_f32(out_path, &out, os, &on) != BL_OK || bl_npy_read_f32(ref_path, &ref, rs, &rn) != BL_OK) {
        fprintf(stderr, "FAIL: %s\n", bl_error_message());
        goto done;
    }
    if (on != rn || memcmp(os, rs, (size_t)on * sizeof os[0]) != 0) {
        fprintf(stderr, "FAIL: %s and %s have different shapes\n", out_path, ref_path);
        goto done;
    }
    bl_wm_err e = compare(out, ref, numel(os, on, 0));
    printf("relative error %.3g (max |diff| %.3g, max |ref| %.3g)\n", e.rel, e.max_abs, e.max_ref);
    rc = e.rel <= BL_WM_TOL ? 0 : 1;
    if (rc) fprintf(stderr, "FAIL: relative error %.3g above %.0e\n", e.rel, BL_WM_TOL);
done:
    free(out), free(ref);
    return rc;
}

static int check_model(const char *model, const char *in_path, const char *ref_path) {
    const char *paths[3] = {model, in_path, ref_path};
    for (int i = 0; i < 3; i++)
        if (!present(paths[i])) {
            printf("SKIP: %s is absent; the big whole-model references are made by "
                   "scripts/make-test-models.sh (about 2 minutes, needs python3-torch and "
                   "python3-torchvision)\n", paths[i]);
            return BL_WM_SKIP;
        }
    int rc = 1;
    bl_graph *g = NULL;
    bl_exec *ex = NULL;
    float *x = NULL, *ref = NULL, *y = NULL, *y1 = NULL;
    size_t xs[8], rs[8];
    int xn = 0, rn = 0;
    if (bl_npy_read_f32(in_path, &x, xs, &xn) != BL_OK || bl_npy_read_f32(ref_path, &ref, rs, &rn) != BL_OK) {
        fprintf(stderr, "FAIL: reading the references: %s\n", bl_error_message());
        goto done;
    }
    if (xn < 1 || rn < 1 || xs[0] != rs[0] || xs[0] < 2) {
        fprintf(stderr, "FAIL: %s and %s must hold the same batch of at least 2 items\n", in_path, ref_path);
        goto done;
    }
    if (bl_model_load(model, NULL, &g) != BL_OK) {
        fprintf(stderr, "FAIL: loading %s: %s\n", model, bl_error_message());
        goto done;
    }
    int64_t batch = (int64_t)xs[0];
    size_t out_item = numel(rs, rn, 1), nout = (size_t)batch * out_item, in_item = numel(xs, xn, 1);
    if (g->n_inputs < 1 || g->n_outputs < 1 || bl_tensor_numel(&g->tensors[g->inputs[0]], batch) != (int64_t)(batch * in_item) ||
        bl_tensor_numel(&g->tensors[g->outputs[0]], batch) != (int64_t)nout) {
        fprintf(stderr, "FAIL: %s: input or output size does not match %s / %s\n", model, in_path, ref_path);
        goto done;
    }
    bl_exec_opts o = bl_exec_opts_default();
    o.max_batch = batch, o.threads = BL_WM_THREADS;
    if (bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex) != BL_OK) {
        fprintf(stderr, "FAIL: creating the CPU executor for %s: %s\n", model, bl_error_message());
        goto done;
    }
    y = malloc(nout * sizeof *y), y1 = malloc(nout * sizeof *y1);
    if (!y || !y1) {
        fprintf(stderr, "FAIL: out of memory\n");
        goto done;
    }
    const void *in[1] = {x};
    void *out[1] = {y};
    if (bl_exec_run(ex, batch, in, out) != BL_OK) {
        fprintf(stderr, "FAIL: running %s at batch %lld: %s\n", model, (long long)batch, bl_error_message());
        goto done;
    }
    bl_wm_err e = compare(y, ref, nout);
    printf("%s: batch %lld, relative error %.3g vs PyTorch (max |diff| %.3g, max |ref| %.3g)\n", model,
           (long long)batch, e.rel, e.max_abs, e.max_ref);
    int bad = !(e.rel <= BL_WM_TOL);
    if (bad) fprintf(stderr, "FAIL: relative error %.3g above %.0e\n", e.rel, BL_WM_TOL);
    double worst1 = 0;
    for (int64_t b = 0; b < batch; b++) {
        const void *in1[1] = {x + (size_t)b * in_item};
        void *out1[1] = {y1 + (size_t)b * out_item};
        if (bl_exec_run(ex, 1, in1, out1) != BL_OK) {
            fprintf(stderr, "FAIL: running item %lld alone: %s\n", (long long)b, bl_error_message());
            goto done;
        }
        bl_wm_err e1 = compare(y1 + (size_t)b * out_item, ref + (size_t)b * out_item, out_item);
        if (!(e1.rel <= worst1)) worst1 = e1.rel; /* keeps NaN */
    }
    printf("batch 1, item by item: worst relative error %.3g\n", worst1);
    if (!(worst1 <= BL_WM_TOL)) {
        fprintf(stderr, "FAIL: batch-1 relative error %.3g above %.0e\n", worst1, BL_WM_TOL);
        bad = 1;
    }
    rc = bad;
done:
    bl_exec_free(ex);
    bl_graph_free(g);
    free(x), free(ref), free(y), free(y1);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--compare") == 0) return compare_files(argv[2], argv[3]);
    if (argc == 4 && argv[1][0] != '-') return check_model(argv[1], argv[2], argv[3]);
    fprintf(stderr, "usage: whole_model_check MODEL.onnx IN.npy REF.npy\n"
                    "       whole_model_check --compare OUT.npy REF.npy\n");
    return 2;
}
