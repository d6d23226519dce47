/* exec_cpu.c — the CPU backend of models/exec.h: oneDNN for convolution, pooling,
 * GlobalAveragePool and same-shape/per-channel Add/Sub/Mul (cpu_conv.c), dnnl_sgemm for
 * Gemm/MatMul (cpu_reduce.c), plain C with OpenMP for the rest.
 *
 * Defines bl_exec_backend_cpu() and the backend slots: supports_op (asks each op family),
 * create (engine + stream; fusion and layout plan (cpu_fuse.c); a first buffer plan for
 * who shares which buffer; one step per node not fused away, with its primitives and packed
 * weights built once for the max batch; then the final buffer plan with the sizes padded
 * oneDNN layouts need), run (binds tensor pointers for the batch, runs the steps in order,
 * copies graph outputs out; constants holding the symbolic batch size are read through
 * per-executor copies with the batch substituted, see plan_sym_constants; then the items
 * whose inputs hold NaN or inf again in reference mode, see below), destroy, get_stats,
 * set_threads.
 *
 * NaN and inf. ONNX propagates NaN through every op baleen runs (Relu, Clip, MaxPool, Max of
 * a NaN are NaN), and so do the plain-C kernels here. oneDNN's ReLU and Clip post-ops
 * (vmaxps against the bound) and its max pooling drop it: an all-NaN window scored
 * 6e-06 on whalecall-small. So run() first scans the graph inputs (one vectorised read, about
 * 0.6 us per whalecall-small item) and, when items hold a NaN or an infinity, runs just those
 * items again, one at a time, through a second executor of the same graph in reference mode
 * (no_fusion: activations in plain C, MaxPool in plain C, no Winograd, so exact), created at
 * the first such batch; their results replace the fast ones. The other items keep theirs,
 * bit for bit: an item's result never depends on its neighbours. A graph whose inputs or
 * outputs are not item-major (N in dim 0) runs the whole batch in reference mode instead.
 * Not covered: a NaN that a fast run creates from finite inputs (inf - inf after an
 * overflow) can still be dropped by a oneDNN post-op.
 *
 * Threads: Debian's libdnnl uses OpenMP (ldd shows libgomp), so the thread count is the
 * calling thread's OpenMP setting: run() calls omp_set_num_threads(threads) first, which
 * affects only parallel regions started from that thread (no process-wide state).
 * Memory: buffers of 2 MiB and more (arena, workspace) and the packed weights (carved from
 * 16 MiB chunks, bl_cpu_weights_alloc) sit on transparent huge pages where the kernel allows
 * (madvise); BL_CPU_HUGEPAGES=0 turns that off (to compare). BL_CPU_PROFILE=1 prints the
 * time of every step, plain-C ones included, when the executor is destroyed.
 * Owns: the arena, the workspace, the packed-weight chunks, every step and its primitives.
 */
#include <float.h>  /* FLT_MAX: the non-finite scan */
#include <math.h>   /* expf, tanhf for fused activations; fabsf */
#include <omp.h>    /* omp_set_num_threads, omp_get_num_procs */
#include <stdio.h>  /* snprintf, fprintf for BL_CPU_PROFILE */
#include <pthread.h> /* pthread_once: BL_CPU_SERIAL_FLOPS read once */
#include <stdlib.h> /* calloc, free, aligned_alloc, getenv */
#include <time.h>   /* clock_gettime for BL_CPU_PROFILE */
#include <string.h> /* memcpy, strcmp */
#include <sys/mman.h> /* madvise (transparent huge pages for large buffers) */

#include "core/sysinfo.h"     /* bl_sys_usable_cpus: threads 0 */
#include "models/cpu_exec.h" /* bl_cpu_exec, step builders */

/* Buffers of 2 MiB and more (the arena, the workspace at larger batches) start on a 2 MiB
 * boundary and ask Linux for transparent huge pages (where THP is "madvise", as on most
 * distributions, nothing else gives them): a CNN sweeps several MiB of activations per layer,
 * and with 4 KiB pages each sweep misses the TLB every 4 KiB (expensive under a hypervisor's
 * nested page tables). Harmless where THP is off. */
#define HUGE_BYTES ((size_t)2 << 20)
static void *aligned_bytes(size_t bytes) {
    if (bytes >= HUGE_BYTES && !(getenv("BL_CPU_HUGEPAGES") && !strcmp(getenv("BL_CPU_HUGEPAGES"), "0"))) {
        size_t b = (bytes + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES;
        void *p = aligned_alloc(HUGE_BYTES, b);
#ifdef MADV_HUGEPAGE
        if (p) madvise(p, b, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
        return p;
    }
    size_t b = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, b ? b : 64);
}

struct bl_cpu_chunk {
    struct bl_cpu_chunk *next;
    unsigned char *base;
    size_t used, cap;
};

#define WEIGHT_CHUNK ((size_t)16 << 20)
static double serial_flops = BL_CPU_SERIAL_FLOPS;
static pthread_once_t serial_flops_once = PTHREAD_ONCE_INIT;
static void read_serial_flops(void) {
    const char *e = getenv("BL_CPU_SERIAL_FLOPS");
    char *end;
    double v = e ? strtod(e, &end) : 0.0;
    if (e && end != e && v >= 0.0) serial_flops = v;
}

double bl_cpu_serial_flops(void) {
    /* read once: a MatMul asks at every run */
    pthread_once(&serial_flops_once, read_serial_flops);
    return serial_flops;
}

void *bl_cpu_weights_alloc(bl_cpu_exec *ex, size_t bytes) {
    bytes = (bytes + 63) / 64 * 64;
    struct bl_cpu_chunk *c = ex->wpool;
    if (!c || c->cap - c->used < bytes) {
        c = malloc(sizeof *c);
        if (!c) return NULL;
        c->cap = bytes > WEIGHT_CHUNK ? bytes : WEIGHT_CHUNK;
        c->base = aligned_bytes(c->cap);
        if (!c->base) {
            free(c);
            return NULL;
        }
        c->used = 0;
        c->next = ex->wpool;
        ex->wpool = c;
    }
    void *p = c->base + c->used;
    c->used += bytes;
    return p;
}

int bl_cpu_dims(const bl_cpu_exec *ex, int t, int64_t n, int64_t *d) {
    const bl_tensor *tt = &ex->g->tensors[t];
    for (int i = 0; i < tt->rank; i++) d[i] = bl_dim_at(tt->dims[i], n);
    return tt->rank;
}

void *bl_cpu_workspace(bl_cpu_exec *ex, size_t bytes) {
    if (bytes <= ex->ws_bytes) return ex->ws;
    free(ex->ws);
    ex->ws = aligned_bytes(bytes);
    ex->ws_bytes = ex->ws ? bytes : 0;
    return ex->ws;
}

void bl_cpu_apply_act(bl_op act, float alpha, float beta, float *x, int64_t count) {
    switch (act) {
    case BL_OP_NONE: return;
    case BL_OP_RELU:
#pragma omp parallel for if (count > 65536)
        for (int64_t i = 0; i < count; i++) x[i] = x[i] <= 0.f ? 0.f : x[i]; /* NaN stays */
        return;
    case BL_OP_LEAKY_RELU:
#pragma omp parallel for if (count > 65536)
        for (int64_t i = 0; i < count; i++) x[i] = x[i] >= 0.f ? x[i] : alpha * x[i];
        return;
    case BL_OP_CLIP:
#pragma omp parallel for if (count > 65536)
        for (int64_t i = 0; i < count; i++) x[i] = bl_clip_nan(x[i], alpha, beta);
        return;
    case BL_OP_SIGMOID:
#pragma omp parallel for if (count > 16384)
        for (int64_t i = 0; i < count; i++) x[i] = 1.f / (1.f + expf(-x[i]));
        return;
    case BL_OP_HARD_SIGMOID:
#pragma omp parallel for if (count > 65536)
        for (int64_t i = 0; i < count; i++) x[i] = bl_clip_nan(alpha * x[i] + beta, 0.f, 1.f);
        return;
    case BL_OP_HARD_SWISH:
#pragma omp parallel for if (count > 65536)
        for (int64_t i = 0; i < count; i++) x[i] = x[i] * fmaxf(0.f, fminf(1.f, x[i] / 6.f + 0.5f));
        return;
    case BL_OP_ELU:
#pragma omp parallel for if (count > 16384)
        for (int64_t i = 0; i < count; i++) x[i] = x[i] >= 0.f ? x[i] : alpha * (expf(x[i]) - 1.f);
        return;
    case BL_OP_TANH:
#pragma omp parallel for if (count > 16384)
        for (int64_t i = 0; i < count; i++) x[i] = tanhf(x[i]);
        return;
    default: return;
    }
}

/* ---- backend slots ---------------------------------------------------------------- */

static bool cpu_supports_op(const bl_graph *g, int ni, char *why, size_t cap) {
    const bl_node *nd = &g->nodes[ni];
    const char *r = NULL;
    switch (nd->op) {
    case BL_OP_CONV: case BL_OP_CONV_TRANSPOSE: case BL_OP_MAX_POOL: case BL_OP_AVERAGE_POOL:
        r = bl_cpu_check_conv(g, nd);
        break;
    case BL_OP_RESHAPE: case BL_OP_FLATTEN: case BL_OP_SQUEEZE: case BL_OP_UNSQUEEZE: case BL_OP_IDENTITY:
    case BL_OP_DROPOUT: case BL_OP_TRANSPOSE: case BL_OP_CONCAT: case BL_OP_SPLIT: case BL_OP_SLICE:
    case BL_OP_GATHER: case BL_OP_PAD: case BL_OP_CAST: case BL_OP_RESIZE: case BL_OP_SHAPE: case BL_OP_CONSTANT:
    case BL_OP_CONSTANT_OF_SHAPE:
        r = bl_cpu_check_shape(g, nd);
        break;
    case BL_OP_GLOBAL_AVERAGE_POOL: case BL_OP_GLOBAL_MAX_POOL: case BL_OP_REDUCE_MEAN: case BL_OP_REDUCE_MAX:
    case BL_OP_REDUCE_SUM: case BL_OP_REDUCE_L2: case BL_OP_GEMM: case BL_OP_MATMUL: case BL_OP_SOFTMAX:
    case BL_OP_LOG_SOFTMAX: case BL_OP_INSTANCE_NORM: case BL_OP_LAYER_NORM: case BL_OP_BATCH_NORM:
        r = bl_cpu_check_reduce(g, nd);
        break;
    default:
        r = bl_cpu_check_eltwise(g, nd);
        break;
    }
    if (!r) return true;
    snprintf(why, cap, "%s", r);
    return false;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* BL_CPU_PROFILE: the steps by total time, slowest first (a developer aid, like
 * ONEDNN_VERBOSE, that also covers the plain-C steps). */
static void print_profile(const bl_cpu_exec *ex) {
    if (!ex->prof || !ex->prof_runs) return;
    int *ord = malloc((size_t)(ex->n_steps ? ex->n_steps : 1) * sizeof *ord);
    if (!ord) return;
    double tot = 0;
    for (int i = 0; i < ex->n_steps; i++) { /* insertion sort, slowest first */
        int j = i;
        for (; j > 0 && ex->prof[ord[j - 1]] < ex->prof[i]; j--) ord[j] = ord[j - 1];
        ord[j] = i;
        tot += ex->prof[i];
    }
    fprintf(stderr, "BL_CPU_PROFILE: %lld runs, %.3f ms per run in steps\n", (long long)ex->prof_runs,
            1e3 * tot / (double)ex->prof_runs);
    for (int k = 0; k < ex->n_steps; k++) {
        int i = ord[k];
        if (!ex->steps[i].run) continue;
        const bl_node *nd = ex->steps[i].node;
        fprintf(stderr, "  %8.4f ms  %-18s %s\n", 1e3 * ex->prof[i] / (double)ex->prof_runs, bl_op_name(nd->op),
                nd->name);
    }
    free(ord);
}

static void cpu_destroy(void *impl) {
    bl_cpu_exec *ex = impl;
    if (!ex) return;
    cpu_destroy(ex->ref);
    free(ex->nf_item), free(ex->ref_in), free(ex->ref_out);
    print_profile(ex);
    free(ex->prof);
    for (int i = 0; i < ex->n_steps; i++) { /* steps first: their primitives point into the pool */
        bl_cpu_step *st = &ex->steps[i];
        if (st->destroy) st->destroy(st);
        else free(st->priv);
    }
    while (ex->wpool) {
        struct bl_cpu_chunk *c = ex->wpool;
        ex->wpool = c->next;
        free(c->base);
        free(c);
    }
    free(ex->steps);
    bl_memplan_free(&ex->plan);
    free(ex->root), free(ex->fuse), free(ex->alias_to), free(ex->dnnl_layout), free(ex->min_bytes), free(ex->md);
    free(ex->arena);
    free(ex->ptr);
    free(ex->ws);
    for (int k = 0; k < ex->n_sym; k++) free(ex->sym_buf[k]);
    free(ex->sym_t), free(ex->sym_buf);
    if (ex->stream) dnnl_stream_destroy(ex->stream);
    if (ex->engine) dnnl_engine_destroy(ex->engine);
    free(ex);
}

/* Elements per batch item of graph input or output t when it is item-major (N in dim 0, so
 * item b is the b-th slice of that many), 0 when its dims do not depend on N, -1 when N sits
 * in another dim. */
static int64_t item_elems(const bl_tensor *t) {
    for (int i = 1; i < t->rank; i++)
        if (t->dims[i] < 0) return -1;
    return t->rank && t->dims[0] < 0 ? bl_tensor_numel(t, 1) : 0;
}

static int resolve_threads(int t) {
    if (t > 0) return t;
    return bl_sys_usable_cpus(); /* affinity and the cgroup's CPU quota */
}

/* False for the input slots whose values only decide the output's shape, which the output
 * dims already carry with N symbolic (graph.h): those never need the batch substituted. */
static bool reads_as_data(bl_op op, int k) {
    switch (op) {
    case BL_OP_RESHAPE: case BL_OP_SPLIT: case BL_OP_SQUEEZE: case BL_OP_UNSQUEEZE: case BL_OP_REDUCE_MEAN:
    case BL_OP_REDUCE_MAX: case BL_OP_REDUCE_SUM: case BL_OP_REDUCE_L2:
        return k != 1;
    case BL_OP_SLICE: case BL_OP_RESIZE: return k == 0;
    case BL_OP_PAD: return k != 1 && k != 3;
    case BL_OP_CONSTANT_OF_SHAPE: return k != 0;
    case BL_OP_SHAPE: return false; /* reads only its input's dims */
    default: return true;
    }
}

/* Collect the flagged constants (BL_TENSOR_HAS_SYM_N) that nodes read as data, fused nodes
 * included (their inputs are read inside the step they were fused into), and give each
 * a buffer for its substituted values. */
static bl_status plan_sym_constants(bl_cpu_exec *ex) {
    const bl_graph *g = ex->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const bl_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++) {
            int t = nd->inputs[k];
            if (t < 0 || !reads_as_data(nd->op, k)) continue;
            const bl_tensor *tt = &g->tensors[t];
            if (!(tt->flags & BL_TENSOR_HAS_SYM_N) || !tt->data || tt->dtype != BL_DT_INT64) continue;
            bool seen = false;
            for (int j = 0; j < ex->n_sym && !seen; j++) seen = ex->sym_t[j] == t;
            if (seen) continue;
            int *nt = realloc(ex->sym_t, (size_t)(ex->n_sym + 1) * sizeof *nt);
            if (nt) ex->sym_t = nt;
            int64_t **nb = realloc(ex->sym_buf, (size_t)(ex->n_sym + 1) * sizeof *nb);
            if (nb) ex->sym_buf = nb;
            int64_t cnt = bl_tensor_numel(tt, 1);
            int64_t *buf = nt && nb ? malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof *buf) : NULL;
            BL_RETURN_IF(!buf, BL_ERR_NOMEM, "out of memory allocating the executor (batch-size constants)");
            ex->sym_t[ex->n_sym] = t, ex->sym_buf[ex->n_sym] = buf;
            ex->n_sym++;
        }
    }
    return BL_OK;
}

static bl_status cpu_create(const bl_graph *g, const bl_exec_opts *opts, void **impl) {
    *impl = NULL;
    bl_cpu_exec *ex = calloc(1, sizeof *ex);
    BL_CHECK_ALLOC(ex);
    ex->g = g;
    ex->opts = *opts;
    ex->threads = resolve_threads(opts->threads);
    bl_status s = BL_OK;
    if (dnnl_engine_create(&ex->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&ex->stream, ex->engine, dnnl_stream_default_flags) != dnnl_success) {
        s = BL_ERROR(BL_ERR_INTERNAL, "oneDNN: cannot create the CPU engine/stream");
        goto fail;
    }
    if ((s = bl_cpu_plan_fusion(ex)) != BL_OK || (s = plan_sym_constants(ex)) != BL_OK) goto fail;
    bool *skip = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *skip);
    if (!skip) {
        s = BL_ERROR(BL_ERR_NOMEM, "out of memory allocating the executor");
        goto fail;
    }
    for (int i = 0; i < g->n_nodes; i++) skip[i] = ex->fuse[i].skip;
    bl_memplan_hints hints = {.alias_to = ex->alias_to, .skip = skip, .min_bytes = NULL};
    /* first plan: buffer sharing only (the steps need to know which tensors share a buffer);
     * the final plan below adds the sizes oneDNN's padded layouts need */
    s = bl_memplan_build(g, opts->max_batch, opts->no_reuse, &hints, &ex->plan);
    size_t nt = (size_t)(g->n_tensors ? g->n_tensors : 1);
    ex->root = malloc(nt * sizeof *ex->root);
    ex->min_bytes = calloc(nt, sizeof *ex->min_bytes);
    ex->md = calloc(nt, sizeof *ex->md);
    ex->ptr = calloc(nt, sizeof *ex->ptr);
    ex->steps = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *ex->steps);
    if (s == BL_OK && (!ex->root || !ex->min_bytes || !ex->md || !ex->ptr || !ex->steps))
        s = BL_ERROR(BL_ERR_NOMEM, "out of memory allocating the executor");
    if (s != BL_OK) {
        free(skip);
        goto fail;
    }
    for (int t = 0; t < g->n_tensors; t++) ex->root[t] = bl_memplan_root(&ex->plan, t);
    omp_set_num_threads(ex->threads);
    for (int i = 0; i < g->n_nodes; i++) {
        bl_cpu_step *st = &ex->steps[i];
        st->ni = i;
        st->node = &g->nodes[i];
        ex->n_steps = i + 1;
        if (ex->fuse[i].skip) continue; /* runs inside the step it was fused into */
        switch (st->node->op) {
        case BL_OP_CONV: case BL_OP_MAX_POOL: s = bl_cpu_prepare_dnnl(ex, st); break;
        case BL_OP_AVERAGE_POOL:
            s = bl_cpu_avgpool_is_plain(g, st->node) ? bl_cpu_prepare_avgpool(ex, st) : bl_cpu_prepare_dnnl(ex, st);
            break;
        case BL_OP_GLOBAL_AVERAGE_POOL:
            s = g->tensors[st->node->inputs[0]].rank <= 5 && !opts->no_fusion ? bl_cpu_prepare_dnnl(ex, st)
                                                                               : bl_cpu_prepare_reduce(ex, st);
            break;
        case BL_OP_ADD: case BL_OP_SUB: case BL_OP_MUL:
            s = bl_cpu_binary_is_dnnl(g, st->node) && !opts->no_fusion ? bl_cpu_prepare_dnnl(ex, st)
                                                                        : bl_cpu_prepare_eltwise(ex, st);
            break;
        case BL_OP_CONV_TRANSPOSE: s = bl_cpu_prepare_convt(ex, st); break;
        case BL_OP_RESHAPE: case BL_OP_FLATTEN: case BL_OP_SQUEEZE: case BL_OP_UNSQUEEZE: case BL_OP_IDENTITY:
        case BL_OP_DROPOUT: case BL_OP_TRANSPOSE: case BL_OP_CONCAT: case BL_OP_SPLIT: case BL_OP_SLICE:
        case BL_OP_GATHER: case BL_OP_PAD: case BL_OP_CAST: case BL_OP_RESIZE: case BL_OP_SHAPE: case BL_OP_CONSTANT:
        case BL_OP_CONSTANT_OF_SHAPE:
            s = bl_cpu_prepare_shape(ex, st);
            break;
        case BL_OP_GLOBAL_MAX_POOL: case BL_OP_REDUCE_MEAN: case BL_OP_REDUCE_MAX:
        case BL_OP_REDUCE_SUM: case BL_OP_REDUCE_L2: case BL_OP_GEMM: case BL_OP_MATMUL: case BL_OP_SOFTMAX:
        case BL_OP_LOG_SOFTMAX: case BL_OP_INSTANCE_NORM: case BL_OP_LAYER_NORM: case BL_OP_BATCH_NORM:
            s = bl_cpu_prepare_reduce(ex, st);
            break;
        default: s = bl_cpu_prepare_eltwise(ex, st); break;
        }
        if (s != BL_OK) {
            bl_error_prefix("node '%s' (%s): ", st->node->name, bl_op_name(st->node->op));
            free(skip);
            goto fail;
        }
    }
    bl_memplan_free(&ex->plan);
    hints.min_bytes = ex->min_bytes;
    s = bl_memplan_build(g, opts->max_batch, opts->no_reuse, &hints, &ex->plan);
    free(skip);
    if (s != BL_OK) goto fail;
    ex->arena = aligned_bytes((size_t)ex->plan.arena_bytes);
    if (!ex->arena) {
        s = BL_ERROR(BL_ERR_NOMEM, "out of memory allocating the executor (arena of %lld bytes)",
                     (long long)ex->plan.arena_bytes);
        goto fail;
    }
    if (getenv("BL_CPU_PROFILE") && strcmp(getenv("BL_CPU_PROFILE"), "0"))
        ex->prof = calloc((size_t)(ex->n_steps ? ex->n_steps : 1), sizeof *ex->prof);
    if (!opts->no_fusion) { /* the non-finite scan (below) */
        ex->item_major = true;
        for (int i = 0; i < g->n_inputs; i++) ex->item_major &= item_elems(&g->tensors[g->inputs[i]]) >= 0;
        for (int k = 0; k < g->n_outputs; k++) ex->item_major &= item_elems(&g->tensors[g->outputs[k]]) > 0;
        ex->nf_item = calloc((size_t)opts->max_batch, sizeof *ex->nf_item);
        if (!ex->nf_item) {
            s = BL_ERROR(BL_ERR_NOMEM, "out of memory allocating the executor");
            goto fail;
        }
    }
    *impl = ex;
    return BL_OK;
fail:
    cpu_destroy(ex);
    return s;
}

/* Run the steps on batch n and copy the graph outputs out. */
static bl_status run_steps(bl_cpu_exec *ex, int64_t n, const void *const *inputs, void *const *outputs) {
    const bl_graph *g = ex->g;
    omp_set_num_threads(ex->threads);
    for (int t = 0; t < g->n_tensors; t++) {
        const bl_tensor *tt = &g->tensors[t];
        ex->md[t] = NULL;
        if (tt->data) ex->ptr[t] = tt->data;
        else if (ex->plan.offset[t] >= 0) ex->ptr[t] = ex->arena + ex->plan.offset[t];
        else ex->ptr[t] = NULL;
    }
    if (ex->sym_n != n)
        for (int k = 0; k < ex->n_sym; k++) bl_tensor_subst_sym_n(&g->tensors[ex->sym_t[k]], n, ex->sym_buf[k]);
    ex->sym_n = n;
    for (int k = 0; k < ex->n_sym; k++) ex->ptr[ex->sym_t[k]] = ex->sym_buf[k];
    for (int i = 0; i < g->n_inputs; i++) ex->ptr[g->inputs[i]] = (void *)inputs[i];
    /* views and fused outputs share their root's buffer */
    for (int t = 0; t < g->n_tensors; t++)
        if (ex->root[t] != t) ex->ptr[t] = ex->ptr[ex->root[t]];
    for (int i = 0; i < ex->n_steps; i++) {
        bl_cpu_step *st = &ex->steps[i];
        if (!st->run) continue;
        double t0 = ex->prof ? now_s() : 0;
        bl_status s = st->run(ex, st, n);
        if (ex->prof) ex->prof[i] += now_s() - t0;
        if (s != BL_OK) {
            bl_error_prefix("running node '%s' (%s): ", st->node->name, bl_op_name(st->node->op));
            return s;
        }
    }
    ex->prof_runs++;
    for (int k = 0; k < g->n_outputs; k++) {
        int t = g->outputs[k];
        const bl_tensor *tt = &g->tensors[t];
        size_t bytes = (size_t)bl_tensor_numel(tt, n) * bl_dtype_size(tt->dtype);
        BL_RETURN_IF(!ex->ptr[t] && bytes, BL_ERR_INTERNAL, "output '%s' was never computed", tt->name);
        if (bytes && outputs[k] != ex->ptr[t]) memmove(outputs[k], ex->ptr[t], bytes);
    }
    return BL_OK;
}

/* ---- non-finite inputs ------------------------------------------------------------ */

/* Whether x[0..count) holds a NaN or an infinity: one compare per element, no branch, so the
 * loop vectorises (whalecall-small's input, 24 KiB per item, in 0.6 us with SSE). */
static bool any_nonfinite(const float *x, int64_t count) {
    int bad = 0;
#pragma omp simd reduction(| : bad)
    for (int64_t i = 0; i < count; i++) bad |= !(fabsf(x[i]) <= FLT_MAX);
    return bad != 0;
}

/* Mark in ex->nf_item the items of batch n whose graph inputs hold a NaN or an infinity (all
 * of them when a batch-free or not item-major input does); returns how many. */
static int64_t mark_nonfinite(bl_cpu_exec *ex, int64_t n, const void *const *inputs) {
    const bl_graph *g = ex->g;
    memset(ex->nf_item, 0, (size_t)n * sizeof *ex->nf_item);
    int64_t cnt = 0;
    for (int i = 0; i < g->n_inputs && cnt < n; i++) {
        const bl_tensor *t = &g->tensors[g->inputs[i]];
        if (t->dtype != BL_DT_FLOAT) continue;
        const float *x = inputs[i];
        int64_t per = item_elems(t);
        if (per <= 0) {
            if (!any_nonfinite(x, bl_tensor_numel(t, n))) continue;
            memset(ex->nf_item, 1, (size_t)n * sizeof *ex->nf_item);
            return n;
        }
        for (int64_t b = 0; b < n; b++)
            if (!ex->nf_item[b] && any_nonfinite(x + b * per, per)) ex->nf_item[b] = true, cnt++;
    }
    return cnt;
}

static bl_status cpu_set_threads(void *impl, int threads);

/* Run again, in reference mode, the items of batch n that mark_nonfinite found. */
static bl_status rerun_nonfinite(bl_cpu_exec *ex, int64_t n, const void *const *inputs, void *const *outputs) {
    const bl_graph *g = ex->g;
    if (!ex->ref_in) ex->ref_in = calloc((size_t)(g->n_inputs ? g->n_inputs : 1), sizeof *ex->ref_in);
    if (!ex->ref_out) ex->ref_out = calloc((size_t)(g->n_outputs ? g->n_outputs : 1), sizeof *ex->ref_out);
    BL_RETURN_IF(!ex->ref_in || !ex->ref_out, BL_ERR_NOMEM, "out of memory allocating the executor");
    if (!ex->ref) {
        bl_exec_opts o = ex->opts;
        o.no_fusion = true, o.threads = ex->threads;
        o.max_batch = ex->item_major ? 1 : ex->opts.max_batch;
        void *impl = NULL;
        bl_status s = cpu_create(g, &o, &impl);
        if (s != BL_OK) {
            bl_error_prefix("creating the reference executor for inputs holding NaN or inf: ");
            return s;
        }
        ex->ref = impl;
    }
    cpu_set_threads(ex->ref, ex->threads);
    if (!ex->item_major) return run_steps(ex->ref, n, inputs, outputs);
    for (int64_t b = 0; b < n; b++) {
        if (!ex->nf_item[b]) continue;
        for (int i = 0; i < g->n_inputs; i++) {
            const bl_tensor *t = &g->tensors[g->inputs[i]];
            ex->ref_in[i] = (const unsigned char *)inputs[i] + b * item_elems(t) * (int64_t)bl_dtype_size(t->dtype);
        }
        for (int k = 0; k < g->n_outputs; k++) {
            const bl_tensor *t = &g->tensors[g->outputs[k]];
            ex->ref_out[k] = (unsigned char *)outputs[k] + b * item_elems(t) * (int64_t)bl_dtype_size(t->dtype);
        }
        BL_TRY(run_steps(ex->ref, 1, ex->ref_in, ex->ref_out));
    }
    return BL_OK;
}

/* The steps on the whole batch; then the items whose inputs hold NaN or inf again in
 * reference mode (see bl_cpu_exec.ref), whose results replace theirs. The scan costs one
 * read of the inputs, 0.6 us per whalecall-small item. */
static bl_status cpu_run(void *impl, int64_t n, const void *const *inputs, void *const *outputs) {
    bl_cpu_exec *ex = impl;
    int64_t bad = ex->opts.no_fusion ? 0 : mark_nonfinite(ex, n, inputs);
    BL_TRY(run_steps(ex, n, inputs, outputs));
    return bad ? rerun_nonfinite(ex, n, inputs, outputs) : BL_OK;
}

static void cpu_get_stats(const void *impl, bl_exec_stats *st) {
    const bl_cpu_exec *ex = impl;
    st->arena_bytes = ex->plan.arena_bytes;
    st->workspace_bytes = (int64_t)ex->ws_bytes;
    st->packed_weight_bytes = ex->packed_bytes;
    st->n_streamed = ex->n_skinny;
    st->n_steps = 0;
    for (int i = 0; i < ex->n_steps; i++) st->n_steps += ex->steps[i].run != NULL;
    for (int i = 0; i < ex->g->n_nodes; i++) st->n_fused += ex->fuse[i].skip;
    for (int t = 0; t < ex->g->n_tensors; t++) st->n_backend_layout += ex->dnnl_layout[t] && ex->root[t] == t;
}

static bl_status cpu_set_threads(void *impl, int threads) {
    bl_cpu_exec *ex = impl;
    int t = resolve_threads(threads);
    if (t != ex->threads) ex->threads = t, ex->threads_gen++;
    return BL_OK;
}

static const bl_exec_backend cpu_backend = {
    .name = "cpu",
    .supports_op = cpu_supports_op,
    .create = cpu_create,
    .run = cpu_run,
    .destroy = cpu_destroy,
    .get_stats = cpu_get_stats,
    .set_threads = cpu_set_threads,
};

const bl_exec_backend *bl_exec_backend_cpu(void) { return &cpu_backend; }
