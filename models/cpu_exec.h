/* cpu_exec.h — private to the CPU executor (exec_cpu.c, cpu_*.c); the arena planner it uses
 * is models/memplan.h, shared with the other executors.
 *
 * Defines: bl_cpu_exec (the executor state), bl_cpu_step (one node compiled for the CPU),
 * the per-family "prepare" entry points that fill a step, and small helpers to reach a
 * tensor's buffer and dims for the running batch.
 *
 * Threading: a bl_cpu_exec is used by one run at a time (exec.h). Kernels parallelise
 * with OpenMP inside themselves.
 */
#ifndef BL_CPU_EXEC_H
#define BL_CPU_EXEC_H

#include <dnnl.h>   /* oneDNN C API: engine, stream, primitives */
#include <stdbool.h>
#include <stdint.h>

#include "models/exec.h"    /* bl_exec_opts */
#include "models/graph.h"   /* bl_graph */
#include "models/memplan.h" /* bl_memplan: the arena plan, shared with the other executors */

/* Return BL_ERR_UNSUPPORTED, naming `what`, when a oneDNN call fails (the oneDNN steps:
 * cpu_conv.c, cpu_ip.c). */
#define DNNL_TRY(call, what)                                                                          \
    do {                                                                                              \
        dnnl_status_t dnnl_s_ = (call);                                                               \
        if (dnnl_s_ != dnnl_success)                                                                  \
            return BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN %s failed (status %d)", what, (int)dnnl_s_); \
    } while (0)

typedef struct bl_cpu_exec bl_cpu_exec;
typedef struct bl_cpu_step bl_cpu_step;

struct bl_cpu_step {
    int ni;               /* node index in the graph */
    const bl_node *node;
    bl_status (*run)(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n);
    void (*destroy)(bl_cpu_step *st); /* frees priv; may be NULL when priv is plain malloc */
    void *priv;
};

/* What the fusion pass (cpu_fuse.c) decided for one node. */
typedef enum { BL_CPU_POST_NONE, BL_CPU_POST_RELU, BL_CPU_POST_SWISH } bl_cpu_post;

typedef struct {
    bool skip;         /* folded into another node's step: nothing runs, outputs alias */
    int sum_t;         /* Conv: tensor added to the result by a sum post-op; the conv writes
                        * in place into that tensor's buffer (its output aliases it); -1 none */
    bl_cpu_post post;  /* activation appended after the fused-in Add/Mul (Conv, binary) */
    int out_t;         /* tensor whose layout/consumers describe this step's result (the last
                        * fused node's output); = outputs[0] when nothing is fused */
} bl_cpu_fuse;

struct bl_cpu_exec {
    const bl_graph *g;
    bl_exec_opts opts;
    int threads;            /* resolved (>= 1) */
    int threads_gen;        /* bumped by set_threads: oneDNN steps rebuild their primitives
                             * (oneDNN fixes a primitive's thread count when it is created) */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    bl_cpu_step *steps;
    int n_steps;
    bl_memplan plan;
    int *root;              /* per tensor: tensor owning its buffer (bl_memplan_root) */
    bl_cpu_fuse *fuse;      /* per node (cpu_fuse.c) */
    int *alias_to;          /* per tensor: buffer shared with this tensor by fusion, or -1 */
    bool *dnnl_layout;      /* per tensor: may be kept in a oneDNN-chosen (blocked) layout
                             * because every reader is a oneDNN step */
    int64_t *min_bytes;     /* per tensor: buffer bytes at max batch asked by the steps */
    const dnnl_memory_desc_t **md; /* per tensor: its layout in the current run (set by the
                             * step writing it, read by later steps); NULL = plain row-major */
    unsigned char *arena;   /* planned intermediates, 64-byte aligned */
    void **ptr;             /* per tensor, for the current run */
    unsigned char *ws;      /* shared workspace (reorders, scratchpads), grows on demand */
    size_t ws_bytes;
    int64_t packed_bytes;
    int n_skinny;           /* step instances built for cpu_skinny.c (stats) */
    /* Constants flagged BL_TENSOR_HAS_SYM_N that steps read as data (graph.h): run() points
     * ptr[sym_t[k]] at sym_buf[k], which holds the values with the batch size substituted,
     * refilled only when the batch changes (sym_n: the batch they hold, 0 = none yet). */
    int n_sym;
    int *sym_t;
    int64_t **sym_buf;
    int64_t sym_n;
    /* BL_CPU_PROFILE=1 (developer aid): per-step wall time summed over runs, printed to
     * stderr by destroy; NULL when off */
    double *prof;
    int64_t prof_runs;
    struct bl_cpu_chunk *wpool; /* packed weights of the first instance of every step */
    /* Non-finite inputs (exec_cpu.c). oneDNN's ReLU and Clip post-ops and its max pooling
     * turn NaN into finite values, so run() scans the graph inputs, and the items holding a
     * NaN or an infinity are run again by `ref`, an executor of the same graph in reference
     * mode (no_fusion, exact for NaN), created at the first such batch. item_major: every
     * graph input is batch-free or item-major (N in dim 0) and every output item-major, so
     * ref runs those items one by one at batch 1 and the others keep their results;
     * otherwise it runs the whole batch. Not used by a reference-mode executor itself. */
    struct bl_cpu_exec *ref;
    bool item_major;
    bool *nf_item;          /* per item of the current run: its inputs hold a NaN or inf */
    const void **ref_in;    /* per graph input / output: one item's data, for ref */
    void **ref_out;
};

/* Buffer of tensor t during the current run. */
static inline float *bl_cpu_f(bl_cpu_exec *ex, int t) { return (float *)ex->ptr[t]; }
/* Element count of tensor t for batch n. */
static inline int64_t bl_cpu_numel(const bl_cpu_exec *ex, int t, int64_t n) {
    return bl_tensor_numel(&ex->g->tensors[t], n);
}
/* Whether a product of `flops` floating-point operations that streams `weight_bytes` of
 * weights runs on one thread. Forking and joining a team costs about a microsecond on an
 * idle machine with spinning workers, and a whole scheduler time slice when a core is busy
 * elsewhere (the team waits for its preempted member at every barrier). Below 1 MFLOP (about
 * 10 us of one core) one thread is faster; from there two win on an idle machine
 * (efficientnet_b0 batch 1 on 2 threads: 5-10% faster than with a 3 MFLOP limit, resnet18
 * about 1%). BL_CPU_SERIAL_FLOPS raises the limit for machines shared with other work.
 * Weights count on their own: a batch-1 product over megabytes of weights is bound by
 * memory bandwidth, which a second core adds to (efficientnet_b0's 1280x1000 classifier at
 * batch 1: 0.64 ms on one thread, about half on two). */
#define BL_CPU_SERIAL_FLOPS 1e6
#define BL_CPU_SERIAL_WBYTES 524288.0
/* The FLOP limit: BL_CPU_SERIAL_FLOPS from the environment when set (read once per process),
 * else the default above. */
double bl_cpu_serial_flops(void);
static inline bool bl_cpu_serial(double flops, double weight_bytes) {
    return flops < bl_cpu_serial_flops() && weight_bytes < BL_CPU_SERIAL_WBYTES;
}
/* Concrete dims of tensor t for batch n into d; returns the rank. */
int bl_cpu_dims(const bl_cpu_exec *ex, int t, int64_t n, int64_t *d);
/* Memory for packed weights that live as long as the executor (64-byte aligned, freed by
 * destroy, never individually): carved from large chunks on transparent huge pages, so
 * that streaming the weights of a batch-1 run does not miss the TLB every 4 KiB. NULL on
 * allocation failure. */
void *bl_cpu_weights_alloc(bl_cpu_exec *ex, size_t bytes);
/* Workspace of at least `bytes` (64-byte aligned); NULL on allocation failure. */
void *bl_cpu_workspace(bl_cpu_exec *ex, size_t bytes);

/* ---- cpu_fuse.c ---- */
/* Decide fusions (Conv+Add(+Relu) as a sum post-op written in place, Conv+Sigmoid+Mul as
 * swish, binary+Relu) and which tensors may stay in oneDNN layouts; fills ex->fuse,
 * ex->alias_to and ex->dnnl_layout. Pure function of the graph. */
bl_status bl_cpu_plan_fusion(bl_cpu_exec *ex);
/* True when node nd runs as a oneDNN binary primitive (shapes allow it). */
bool bl_cpu_binary_is_dnnl(const bl_graph *g, const bl_node *nd);

/* ---- per-family step builders: fill st->run/priv for node st->ni ---- */
bl_status bl_cpu_prepare_dnnl(bl_cpu_exec *ex, bl_cpu_step *st);    /* cpu_conv.c: Conv, pools,
                                                                      * GlobalAveragePool, binary */
bl_status bl_cpu_prepare_convt(bl_cpu_exec *ex, bl_cpu_step *st);   /* cpu_conv.c: ConvTranspose */
bl_status bl_cpu_prepare_avgpool(bl_cpu_exec *ex, bl_cpu_step *st); /* cpu_conv.c: plain-C AveragePool */
/* True for an AveragePool that must run as plain C (bl_cpu_prepare_avgpool) on plain buffers
 * because oneDNN would divide some window by another count than ONNX (count_include_pad=1
 * with a ceil_mode window past the padded end). */
bool bl_cpu_avgpool_is_plain(const bl_graph *g, const bl_node *nd);
bl_status bl_cpu_prepare_eltwise(bl_cpu_exec *ex, bl_cpu_step *st); /* cpu_eltwise.c: unary, binary */
bl_status bl_cpu_prepare_reduce(bl_cpu_exec *ex, bl_cpu_step *st);  /* cpu_reduce.c: reduce, softmax, norms, gemm */
bl_status bl_cpu_prepare_shape(bl_cpu_exec *ex, bl_cpu_step *st);   /* cpu_shape_ops.c */

/* Why the CPU backend cannot run node ni (attributes/dtypes it lacks); NULL when it can.
 * Each family answers for its ops. */
const char *bl_cpu_check_eltwise(const bl_graph *g, const bl_node *nd);
const char *bl_cpu_check_reduce(const bl_graph *g, const bl_node *nd);
const char *bl_cpu_check_shape(const bl_graph *g, const bl_node *nd);
const char *bl_cpu_check_conv(const bl_graph *g, const bl_node *nd);

/* ---- cpu_ip.c: Gemm with constant weights as a oneDNN inner product ---- */
/* True for a Gemm cpu_ip.c runs: activations [M, K] (no transA), constant B, alpha 1, no
 * bias or a constant [N] / [1, N] bias with beta 1, no fused activation. */
bool bl_cpu_gemm_is_ip(const bl_graph *g, const bl_node *nd);
bl_status bl_cpu_prepare_gemm_ip(bl_cpu_exec *ex, bl_cpu_step *st);

/* ---- cpu_skinny.c: few-row products over large constant weights (batch-1 layers) ---- */
#define BL_SKINNY_NB 48          /* output columns per packed weight block */
#define BL_SKINNY_MB 8           /* rows per panel */
/* Where it runs: one row panel (efficientnet_b0's 1×1 convolutions on 2×5 maps, 10 rows,
 * ran 1.5-2.6x slower here than in oneDNN: a second, mostly empty panel doubles the
 * arithmetic) and weights of 1 MiB or more (smaller ones stay in L2 between runs). */
#define BL_SKINNY_MAX_ROWS 8
#define BL_SKINNY_MIN_WBYTES 1048576.0
/* AVX-512 on this CPU and not turned off by BL_CPU_SKINNY=0. */
bool bl_cpu_skinny_available(void);
/* Whether a product of `rows` rows, n outputs and k inputs per output runs here. */
bool bl_cpu_skinny_wanted(int64_t rows, int64_t n, int64_t k);
/* Packed weight size in floats, and the packing of w (element (j, kk) at w[j*sn + kk*sk]). */
size_t bl_cpu_skinny_packed_floats(int64_t n, int64_t k);
void bl_cpu_skinny_pack(const float *w, int64_t n, int64_t k, int64_t sn, int64_t sk, float *out);
/* Row panels: size in floats, and the panels of row-major x [rows][k] (row stride ldx). */
size_t bl_cpu_skinny_panel_floats(int64_t rows, int64_t k);
void bl_cpu_skinny_panel(const float *x, int64_t rows, int64_t k, int64_t ldx, float *xp);
/* y[r*ldy + j] = bias[j] (0 when NULL) + sum_kk x(r, kk) w(j, kk), r < rows, j < n, from
 * panels xp and packed weights wp, on `threads` threads; part: scratch of
 * bl_cpu_skinny_part_floats(rows, n, threads) floats (NULL: one thread). _ref is the
 * plain-C reference. */
size_t bl_cpu_skinny_part_floats(int64_t rows, int64_t n, int threads);
void bl_cpu_skinny_gemm(const float *xp, int64_t rows, int64_t k, const float *wp, int64_t n, const float *bias,
                        float *y, int64_t ldy, int threads, float *part);
void bl_cpu_skinny_gemm_ref(const float *xp, int64_t rows, int64_t k, const float *wp, int64_t n, const float *bias,
                            float *y, int64_t ldy);

/* ---- cpu_swish.c: swish after a Conv, in place ---- */
/* AVX-512 on this CPU and not turned off by BL_CPU_FAST_SWISH=0: Convs then run without
 * oneDNN's swish post-op and bl_cpu_swish_inplace follows. */
bool bl_cpu_swish_available(void);
/* x[i] = x[i] · sigmoid(x[i]) for i < n, on `threads` threads; _ref: plain C with expf. */
void bl_cpu_swish_inplace(float *x, int64_t n, int threads);
void bl_cpu_swish_ref(float *x, int64_t n);

/* ---- cpu_layout.c: plain-C kernels on oneDNN activation layouts ---- */
/* An f32 activation layout as strides. Element (n, c, spatial s) lies at
 * off0 + n*sn + (c / cb)*sc + c % cb + sum_i s_i*ss[i] when cb > 1 (a channel block),
 * off0 + n*sn + c*sc + sum_i s_i*ss[i] otherwise; cb == 1 means the channels are the
 * innermost axis (sc == 1), cb == 0 channel-major (NCHW-like). Spatial dims are padded at
 * the front to 3 (sdim 1, ss 0). */
typedef struct {
    int64_t N, C, Cp;     /* Cp: channels padded to the block */
    int64_t sn, sc, off0;
    int64_t sdim[3], ss[3], S; /* S: pixels per channel */
    int cb, nsp;
} bl_cpu_view;
/* Fill v for md; false for layouts it cannot describe (several blocks, non-f32, extra flags). */
bool bl_cpu_view_of(const dnnl_memory_desc_t *md, bl_cpu_view *v);
/* GlobalAveragePool of x (view v) into plain y[N*C]. */
void bl_cpu_gap_view(const float *x, const bl_cpu_view *v, float *y, int threads);
/* y = x op s[n, c] (op: Add, Sub, Mul; s a per-channel [N, C, 1, ...] tensor in view vs),
 * then max(0, ·) when relu (NaN stays NaN); y (view vy, same shape as x) may be x. */
void bl_cpu_chan_binary_view(bl_op op, const float *x, const bl_cpu_view *vx, const float *s,
                             const bl_cpu_view *vs, float *y, const bl_cpu_view *vy, bool relu, int threads);
/* MaxPool of x (view vx: channels in lanes, cb >= 1, or plain channel-major, cb == 0) into
 * y (view vy: the output shape in the same kind of layout). k, s, d, p: kernel, strides,
 * dilations (>= 1) and left pads of the three spatial slots of a view (leading unused slots
 * 1, 1, 1, 0); taps outside the input are skipped (ONNX pads MaxPool with -inf), and each
 * window must hold one. A NaN tap makes the window's result NaN (ONNX). Plain layouts run
 * one lane per channel: slow, used only by the reference mode (exact for NaN, exec_cpu.c). */
void bl_cpu_maxpool_view(const float *x, const bl_cpu_view *vx, float *y, const bl_cpu_view *vy, const int64_t *k,
                         const int64_t *s, const int64_t *d, const int64_t *p, int threads);

/* min(max(v, lo), hi), where a NaN v stays NaN (fminf/fmaxf would return the bound) and
 * lo > hi gives hi, as ONNX's Clip says. */
static inline float bl_clip_nan(float v, float lo, float hi) {
    float t = v < lo ? lo : v;
    return t > hi ? hi : t;
}

/* Apply a fused activation (bl_node.fused_act) in place on x[0..count); NaN stays NaN. */
void bl_cpu_apply_act(bl_op act, float alpha, float beta, float *x, int64_t count);

#endif
