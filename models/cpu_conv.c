/* cpu_conv.c — the oneDNN steps of the CPU executor, and ConvTranspose in plain C.
 *
 * Defines bl_cpu_check_conv, bl_cpu_prepare_dnnl (Conv, MaxPool, AveragePool,
 * GlobalAveragePool and the Add/Sub/Mul that cpu_fuse.c hands to oneDNN's binary primitive)
 * and bl_cpu_prepare_convt; bl_cpu_avgpool_is_plain and bl_cpu_prepare_avgpool (AveragePool in
 * plain C where oneDNN's divisor differs from ONNX's, see below).
 *
 * Layouts: every tensor buffer is either plain row-major or in the layout a oneDNN primitive
 * chose (ex->md[root] says which for the current run; cpu_fuse.c decides which buffers may
 * hold a oneDNN layout: those only oneDNN steps read). A step takes its sources as the
 * writer left them — a Conv gets a blocked/channels-last source as it is, a plain one lets
 * oneDNN choose (format_tag any) and is reordered through the workspace — and leaves its
 * result in the primitive's layout when the plan allows, else reorders it to plain. So
 * consecutive oneDNN layers never reorder; only boundaries with plain-C ops do.
 * Weights are reordered into the layout oneDNN asks for once, at creation (packed_bytes).
 * Post-ops: the node's fused activation, then a fused residual sum (the Conv writes in place
 * into the addend's buffer, whose layout it must then use), then a fused ReLU or swish.
 * Primitives are built per batch size, lazily, and cached (the max batch at creation, so
 * that every shape problem shows up then). Each instance also fixes its OpenMP thread count:
 * small steps run on one thread (bl_cpu_serial). All primitives use a user scratchpad inside
 * the shared workspace: no allocation per run.
 *
 * ConvTranspose runs as plain C (scatter of each input pixel through the kernel): it is rare
 * in the CNNs baleen serves and its output_padding / output_shape cases map badly onto
 * oneDNN's deconvolution padding rules.
 *
 * AveragePool with count_include_pad=1 and a ceil_mode window running past the padded input
 * runs as plain C on plain buffers: oneDNN divides it by the whole kernel, ONNX only by the
 * taps inside the padded input.
 *
 * GlobalAveragePool, and a per-channel Add/Sub/Mul whose source is not channel-blocked (or
 * whose scale comes in other blocks), run as plain C directly on the layout their sources
 * come in (cpu_layout.c says why); BL_CPU_LAYOUT_KERNELS=0 sends them back to oneDNN (to
 * compare). A binary op that cpu_fuse.c writes in place keeps its first source's layout.
 *
 * In the reference mode (no_fusion), which also re-runs the items whose inputs hold NaN or
 * inf (exec_cpu.c), a Conv's fused activation runs in plain C after the primitive, MaxPool
 * always runs in plain C and Winograd is off: oneDNN's ReLU and Clip post-ops and its max
 * pooling turn NaN into finite values, and Winograd spreads it over whole tiles.
 *
 * Owns: every step's primitives, memory objects and packed weights.
 * Threading: steps run on one thread; oneDNN forks its OpenMP team.
 */
#include <math.h>   /* INFINITY, NAN */
#include <omp.h>    /* omp_set_num_threads: small steps run on one thread */
#include <stdlib.h> /* calloc, free, getenv */
#include <string.h> /* memcpy, strcmp */

#include "models/cpu_exec.h" /* bl_cpu_exec, helpers */

#define MAX_INST 8 /* cached batch sizes per node */

const char *bl_cpu_check_conv(const bl_graph *g, const bl_node *nd) {
    const bl_tensor *x = bl_node_input(g, nd, 0);
    if (!x || x->dtype != BL_DT_FLOAT) return "only float32 input is supported";
    if (x->rank < 3 || x->rank > 5) return "only 1-D, 2-D and 3-D spatial inputs are supported";
    if (nd->op == BL_OP_CONV || nd->op == BL_OP_CONV_TRANSPOSE) {
        const bl_tensor *w = bl_node_input(g, nd, 1);
        if (!w || !w->data) return "weights must be constant (initializers)";
        const bl_tensor *b = bl_node_input(g, nd, 2);
        if (b && !b->data) return "bias must be constant";
    }
    if (nd->op == BL_OP_MAX_POOL) {
        if (nd->n_outputs > 1 && nd->outputs[1] >= 0) return "the Indices output of MaxPool is not supported";
        if (bl_node_attr_int(nd, "storage_order", 0)) return "storage_order=1 is not supported";
    }
    return NULL;
}

/* Geometry shared by conv and pools: spatial dims, strides, dilations (ONNX, >= 1),
 * kernel, left pads (right pads follow from the output size). */
typedef struct {
    int sp; /* spatial rank */
    int64_t kernel[3], stride[3], dil[3], pad_l[3];
} geom;

static bl_status get_geom(const bl_graph *g, const bl_node *nd, geom *o) {
    const bl_tensor *x = bl_node_input(g, nd, 0), *y = &g->tensors[nd->outputs[0]];
    o->sp = x->rank - 2;
    size_t nk, ns, nd_, np;
    const int64_t *k = bl_node_attr_ints(nd, "kernel_shape", &nk);
    const int64_t *s = bl_node_attr_ints(nd, "strides", &ns);
    const int64_t *d = bl_node_attr_ints(nd, "dilations", &nd_);
    const int64_t *p = bl_node_attr_ints(nd, "pads", &np);
    const bl_tensor *w = (nd->op == BL_OP_CONV || nd->op == BL_OP_CONV_TRANSPOSE) ? bl_node_input(g, nd, 1) : NULL;
    const char *ap = bl_node_attr_str(nd, "auto_pad", "NOTSET");
    for (int i = 0; i < o->sp; i++) {
        o->kernel[i] = w ? w->dims[2 + i] : ((int)nk > i ? k[i] : 1);
        o->stride[i] = (int)ns > i ? s[i] : 1;
        o->dil[i] = (int)nd_ > i ? d[i] : 1;
        BL_RETURN_IF(o->stride[i] < 1 || o->dil[i] < 1 || o->kernel[i] < 1, BL_ERR_MODEL, "bad kernel/stride/dilation");
        int64_t in = x->dims[2 + i], out = y->dims[2 + i];
        int64_t ext = (o->kernel[i] - 1) * o->dil[i] + 1;
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            int64_t total = (out - 1) * o->stride[i] + ext - in;
            if (total < 0) total = 0;
            o->pad_l[i] = !strcmp(ap, "SAME_UPPER") ? total / 2 : total - total / 2;
        } else if (!strcmp(ap, "VALID")) {
            o->pad_l[i] = 0;
        } else {
            o->pad_l[i] = (int)np > i ? p[i] : 0;
        }
    }
    return BL_OK;
}

typedef enum { K_CONV, K_POOL, K_GAP, K_BINARY } step_kind;

typedef struct {
    int64_t n;
    dnnl_primitive_t prim, re_src[2], re_dst;
    dnnl_primitive_t re_sum; /* plain addend → the primitive's layout in the workspace (see sum_ws) */
    dnnl_memory_t m_usrc[2], m_src[2], m_udst, m_dst, m_w, m_b, m_scratch;
    size_t src_off[2], dst_off, scratch_off, ws_bytes;
    dnnl_memory_desc_t out_md; /* layout of the output buffer for this batch */
    bool out_plain;
    void *own_w; /* packed weights when this batch size chose a layout of its own */
    int threads;  /* OpenMP threads this primitive was built for and runs with */
    bool custom;  /* plain C on the oneDNN layouts instead of a primitive (cpu_layout.c) */
    bool relu;    /* custom binary: ReLU after the op */
    bl_cpu_view v_src[2], v_dst;
    bool swish_after; /* the fused swish runs as cpu_swish.c's pass after the primitive */
    bool skinny;  /* convolution as im2col + cpu_skinny.c (a few output pixels, large weights) */
    bool act_after; /* reference mode: the node's fused activation runs in plain C on the
                     * plain result (bl_cpu_apply_act) instead of as a oneDNN post-op */
    int64_t sk_rows;          /* output pixels (batch included) */
    size_t sk_xp_off, sk_acc_off, sk_part_off; /* workspace: row panels, [rows][OC] sums, partial sums */
} inst;

/* Work below which a step runs on one thread: convolutions by bl_cpu_serial. Pooling, GlobalAveragePool and binary steps are memory-bound: one thread reading what a
 * two-thread step just wrote fetches half of it from the other core's cache, so they split
 * already from 16384 elements (whalecall-small at batch 8 on 2 threads: its MaxPools
 * 1.3-1.9x slower serial; the whole model 17% faster with this threshold than with 131072;
 * resnet18 and efficientnet_b0 unchanged). */
#define SERIAL_ELEMS 16384.0

typedef struct {
    step_kind kind;
    geom gm;
    int nd;       /* tensor rank */
    int n_src;    /* 1, or 2 for binary */
    int src_t[2]; /* tensors read (binary: the full-shaped one first) */
    int out_t;    /* tensor written (its buffer is the alias root's) */
    int out_root;
    bool out_any; /* the output may keep oneDNN's layout */
    inst in[MAX_INST];
    int n_in;
    int threads_gen; /* ex->threads_gen the instances were built for */
    void *packed_w;          /* weights in the layout of the first instance (bl_cpu_weights_alloc) */
    dnnl_memory_desc_t packed_md;
    float *skinny_w;         /* weights packed for cpu_skinny.c, once (bl_cpu_weights_alloc) */
} dnnl_priv;

static void destroy_inst(inst *it) {
    dnnl_primitive_t ps[] = {it->prim, it->re_src[0], it->re_src[1], it->re_dst, it->re_sum};
    for (int i = 0; i < 5; i++) if (ps[i]) dnnl_primitive_destroy(ps[i]);
    dnnl_memory_t ms[] = {it->m_usrc[0], it->m_usrc[1], it->m_src[0], it->m_src[1], it->m_udst, it->m_dst,
                          it->m_w, it->m_b, it->m_scratch};
    for (int i = 0; i < 9; i++) if (ms[i]) dnnl_memory_destroy(ms[i]);
    free(it->own_w);
}

static void dnnl_priv_destroy(bl_cpu_step *st) {
    dnnl_priv *p = st->priv;
    if (!p) return;
    for (int i = 0; i < p->n_in; i++) destroy_inst(&p->in[i]);
    free(p);
}

static dnnl_format_tag_t plain_tag(int nd) {
    switch (nd) {
    case 1: return dnnl_a;
    case 2: return dnnl_ab;
    case 3: return dnnl_abc;
    case 4: return dnnl_abcd;
    case 5: return dnnl_abcde;
    default: return dnnl_abcdef;
    }
}

static size_t align64(size_t b) { return (b + 63) / 64 * 64; }

/* Reorder primitive from a to b when they differ; *out stays NULL when they are equal. */
static bl_status make_reorder(bl_cpu_exec *ex, const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b,
                              dnnl_primitive_t *out) {
    *out = NULL;
    if (dnnl_memory_desc_equal(a, b)) return BL_OK;
    dnnl_primitive_desc_t pd;
    DNNL_TRY(dnnl_reorder_primitive_desc_create(&pd, a, ex->engine, b, ex->engine, NULL), "reorder descriptor");
    dnnl_status_t s = dnnl_primitive_create(out, pd);
    dnnl_primitive_desc_destroy(pd);
    DNNL_TRY(s, "reorder");
    return BL_OK;
}

static bl_status add_act(dnnl_post_ops_t po, bl_op act, float a, float b) {
    switch (act) {
    case BL_OP_NONE: return BL_OK;
    case BL_OP_RELU: DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f), "post-op"); break;
    case BL_OP_LEAKY_RELU: DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, a, 0.f), "post-op"); break;
    case BL_OP_CLIP:
        DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip_v2, isinf(a) ? -3.4e38f : a,
                                              isinf(b) ? 3.4e38f : b), "post-op");
        break;
    case BL_OP_SIGMOID: DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_logistic, 0.f, 0.f), "post-op"); break;
    case BL_OP_HARD_SIGMOID: /* no hardsigmoid in oneDNN 2.6: linear then clip */
        DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_linear, a, b), "post-op");
        DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip_v2, 0.f, 1.f), "post-op");
        break;
    case BL_OP_HARD_SWISH: DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_hardswish, 0.f, 0.f), "post-op"); break;
    case BL_OP_ELU: DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_elu, a, 0.f), "post-op"); break;
    case BL_OP_TANH: DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_tanh, 0.f, 0.f), "post-op"); break;
    default: return BL_ERROR(BL_ERR_UNSUPPORTED, "fused activation %s has no oneDNN post-op", bl_op_name(act));
    }
    return BL_OK;
}

/* The node's own fused activation (unless act_after: then it runs in plain C), then the sum
 * of a fused residual Add, then what followed (a swish only when !swish_after: then
 * cpu_swish.c applies it to the result). */
static bl_status add_post_ops(dnnl_post_ops_t po, const bl_node *nd, const bl_cpu_fuse *fu, bool swish_after,
                              bool act_after) {
    if (!act_after) BL_TRY(add_act(po, nd->fused_act, nd->act_alpha, nd->act_beta));
    if (fu->sum_t >= 0) DNNL_TRY(dnnl_post_ops_append_sum(po, 1.f), "sum post-op");
    if (fu->post == BL_CPU_POST_RELU) BL_TRY(add_act(po, BL_OP_RELU, 0.f, 0.f));
    if (fu->post == BL_CPU_POST_SWISH && !swish_after)
        DNNL_TRY(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_swish, 1.f, 0.f), "swish post-op");
    return BL_OK;
}

/* Layout of tensor t for batch n as the step that wrote it left it (plain when none says). */
static void given_md(bl_cpu_exec *ex, int t, int64_t n, dnnl_memory_desc_t *md) {
    int r = bl_memplan_root(&ex->plan, t);
    if (ex->md[r]) {
        *md = *ex->md[r];
        return;
    }
    int64_t d[BL_MAX_RANK];
    int rank = bl_cpu_dims(ex, t, n, d);
    dnnl_dims_t dd;
    for (int i = 0; i < rank; i++) dd[i] = d[i];
    dnnl_memory_desc_init_by_tag(md, rank, dd, dnnl_f32, plain_tag(rank));
}

static bl_status pack_weights(bl_cpu_exec *ex, dnnl_priv *p, inst *it, const bl_tensor *w,
                              const dnnl_memory_desc_t *uw, const dnnl_memory_desc_t *wmd, void **wbuf) {
    if (p->packed_w && dnnl_memory_desc_equal(wmd, &p->packed_md)) {
        *wbuf = p->packed_w;
        return BL_OK;
    }
    size_t wb = dnnl_memory_desc_get_size(wmd);
    bool pooled = !p->packed_w; /* the first layout lives as long as the executor */
    void *buf = pooled ? bl_cpu_weights_alloc(ex, wb) : aligned_alloc(64, align64(wb));
    BL_RETURN_IF(!buf, BL_ERR_NOMEM, "out of memory packing weights");
    dnnl_primitive_t re = NULL;
    bl_status s = make_reorder(ex, uw, wmd, &re);
    if (s != BL_OK) {
        if (!pooled) free(buf);
        return s;
    }
    if (re) {
        dnnl_memory_t a, bm;
        dnnl_memory_create(&a, uw, ex->engine, w->data);
        dnnl_memory_create(&bm, wmd, ex->engine, buf);
        dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, bm}};
        dnnl_status_t ds = dnnl_primitive_execute(re, ex->stream, 2, args);
        dnnl_stream_wait(ex->stream);
        dnnl_memory_destroy(a), dnnl_memory_destroy(bm), dnnl_primitive_destroy(re);
        if (ds != dnnl_success) {
            if (!pooled) free(buf);
            return BL_ERROR(BL_ERR_INTERNAL, "weight reorder failed");
        }
    } else {
        memcpy(buf, w->data, wb);
    }
    ex->packed_bytes += (int64_t)wb;
    if (!p->packed_w) p->packed_w = buf, p->packed_md = *wmd;
    else it->own_w = buf;
    *wbuf = buf;
    return BL_OK;
}

/* Channel-blocked activation layout for this CPU (16 channels with AVX-512, 8 with AVX2),
 * or undef (let oneDNN choose). */
static dnnl_format_tag_t blocked_tag(int rank) {
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa(); /* ISA values are nested bit masks */
    bool b16 = (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
    bool b8 = (isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2;
    if (!b16 && !b8) return dnnl_format_tag_undef;
    switch (rank) {
    case 3: return b16 ? dnnl_nCw16c : dnnl_nCw8c;
    case 4: return b16 ? dnnl_nChw16c : dnnl_nChw8c;
    case 5: return b16 ? dnnl_nCdhw16c : dnnl_nCdhw8c;
    default: return dnnl_format_tag_undef;
    }
}

/* The layout whose channel lanes are innermost: channels-last (cb 1) or a block of cb = 8 or
 * 16 channels; undef for anything else. */
static dnnl_format_tag_t lane_tag(int rank, int cb) {
    if (rank < 3 || rank > 5) return dnnl_format_tag_undef;
    static const dnnl_format_tag_t cl[] = {dnnl_nwc, dnnl_nhwc, dnnl_ndhwc},
                                   b16[] = {dnnl_nCw16c, dnnl_nChw16c, dnnl_nCdhw16c},
                                   b8[] = {dnnl_nCw8c, dnnl_nChw8c, dnnl_nCdhw8c};
    return cb == 1 ? cl[rank - 3] : cb == 16 ? b16[rank - 3] : cb == 8 ? b8[rank - 3] : dnnl_format_tag_undef;
}

/* Whether oneDNN fell back to its (scalar, reference) implementation. */
static bool is_ref(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl) return false;
    return !strncmp(impl, "ref", 3);
}

/* Whether a Conv tries oneDNN's Winograd kernels (F(4x4,3x3) or F(2x2,3x3), AVX-512 only;
 * oneDNN declines elsewhere and the direct kernels run): 2-D 3x3, stride 1, no dilation, no
 * groups, >= 32 input and output channels, >= 16 output pixels, batches of >= 8. Measured
 * with oneDNN 2.6 on a Sapphire Rapids core, resnet18's shapes at batch 8 and 32: 1.4-2.5x
 * faster than the direct kernels, except for few channels (16 -> 16 at 32x64: 3x slower)
 * and tiny maps (512 channels at 2x4: 1.1-1.4x slower), which the thresholds exclude. Below
 * batch 8 the whole model was slower (batch 1: 10%, 2: 15%, 4: even): a small batch streams
 * the weights from memory for little work, and Winograd's transformed weights are 1.8x
 * (F(2x2,3x3)) to 4x (F(4x4,3x3)) larger. The result differs
 * from direct convolution by rounding only (float32 throughout; whole-model tests hold it to
 * the same 1e-4 relative error). BL_CONV_WINOGRAD=0 turns it off (e.g. to compare). */
static bool wino_eligible(const geom *gm, int64_t groups, const bl_tensor *w, const int64_t *ty, int r,
                          int64_t n) {
    const char *env = getenv("BL_CONV_WINOGRAD");
    if (env && !strcmp(env, "0")) return false;
    if (gm->sp != 2 || groups != 1 || r != 4 || n < 8) return false;
    for (int i = 0; i < 2; i++)
        if (gm->kernel[i] != 3 || gm->stride[i] != 1 || gm->dil[i] != 1) return false;
    return w->dims[0] >= 32 && w->dims[1] >= 32 && ty[2] * ty[3] >= 16;
}

/* The output buffer must hold the instance's layout: grow its planned size before the arena
 * exists, fail after (the arena cannot grow). */
static bl_status claim_out_bytes(bl_cpu_exec *ex, const dnnl_priv *p, const inst *it) {
    int64_t ob = (int64_t)dnnl_memory_desc_get_size(&it->out_md);
    BL_RETURN_IF(ex->arena && ob > ex->min_bytes[p->out_root], BL_ERR_INTERNAL,
                 "oneDNN chose a layout of %lld bytes for a buffer planned with %lld; create the executor again",
                 (long long)ob, (long long)ex->min_bytes[p->out_root]);
    if (ob > ex->min_bytes[p->out_root]) ex->min_bytes[p->out_root] = ob;
    return BL_OK;
}

/* GlobalAveragePool and per-channel Add/Sub/Mul ([N, C, 1, ...] second operand) in plain C
 * on the layouts their sources come in (cpu_layout.c explains why): true when this instance
 * runs so. GlobalAveragePool writes plain [N, C, 1, ...]; the binary op keeps its first
 * source's layout when the plan allows. */
static bool try_custom(bl_cpu_exec *ex, const bl_cpu_step *st, const dnnl_priv *p, inst *it,
                       const dnnl_memory_desc_t *usrc, const dnnl_memory_desc_t *udst) {
    const bl_node *nd = st->node;
    const bl_cpu_fuse *fu = &ex->fuse[st->ni];
    /* (the reference mode's plain MaxPool below is not optional: it is exact for NaN) */
    if (!ex->opts.no_fusion && getenv("BL_CPU_LAYOUT_KERNELS") && !strcmp(getenv("BL_CPU_LAYOUT_KERNELS"), "0"))
        return false;
    if (p->kind == K_GAP) {
        if (nd->fused_act != BL_OP_NONE || !bl_cpu_view_of(&usrc[0], &it->v_src[0])) return false;
        it->out_md = *udst;
        it->out_plain = true;
        return true;
    }
    if (p->kind == K_POOL) { /* MaxPool on channel lanes, into the same layout */
        const geom *gm = &p->gm;
        int r = p->nd;
        if (st->node->op != BL_OP_MAX_POOL || nd->fused_act != BL_OP_NONE || fu->post != BL_CPU_POST_NONE ||
            !bl_cpu_view_of(&usrc[0], &it->v_src[0]))
            return false;
        int64_t taps = 1;
        for (int i = 0; i + 1 < gm->sp; i++) taps *= gm->kernel[i];
        if (taps > 1024) return false;
        if (it->v_src[0].cb == 0) {
            /* plain: oneDNN's pooling is faster there but drops NaN, so only the reference
             * mode (exact for NaN, exec_cpu.c) runs it here, one lane per channel */
            if (!ex->opts.no_fusion) return false;
            it->out_md = *udst;
            it->out_plain = true;
            return bl_cpu_view_of(&it->out_md, &it->v_dst) && it->v_dst.cb == 0;
        }
        if (!p->out_any) return false;
        int cb = it->v_src[0].cb;
        dnnl_format_tag_t tag = lane_tag(r, cb);
        if (tag == dnnl_format_tag_undef ||
            dnnl_memory_desc_init_by_tag(&it->out_md, r, udst->dims, dnnl_f32, tag) != dnnl_success ||
            !bl_cpu_view_of(&it->out_md, &it->v_dst) || it->v_dst.cb != cb)
            return false;
        it->out_plain = dnnl_memory_desc_equal(&it->out_md, udst);
        return true;
    }
    if (p->kind != K_BINARY || usrc[1].ndims != usrc[0].ndims || usrc[1].dims[0] != usrc[0].dims[0] ||
        usrc[1].dims[1] != usrc[0].dims[1])
        return false;
    for (int i = 2; i < usrc[1].ndims; i++)
        if (usrc[1].dims[i] != 1) return false;
    if (nd->fused_act != BL_OP_NONE && nd->fused_act != BL_OP_RELU) return false;
    if (fu->post != BL_CPU_POST_NONE && fu->post != BL_CPU_POST_RELU) return false;
    /* in place (cpu_fuse.c): the result keeps the source's layout */
    bool inplace = p->out_root == bl_memplan_root(&ex->plan, p->src_t[0]);
    it->out_md = p->out_any || inplace ? usrc[0] : *udst;
    if (!bl_cpu_view_of(&usrc[0], &it->v_src[0]) || !bl_cpu_view_of(&usrc[1], &it->v_src[1]) ||
        !bl_cpu_view_of(&it->out_md, &it->v_dst))
        return false;
    /* oneDNN's jit kernel is as fast or faster on channel blocks (measured, in place), as
     * long as the scale comes in the same blocks (else it runs its reference kernel) */
    if (it->v_src[0].cb > 1 && it->v_src[1].cb == it->v_src[0].cb) return false;
    it->relu = nd->fused_act == BL_OP_RELU || fu->post == BL_CPU_POST_RELU;
    it->out_plain = dnnl_memory_desc_equal(&it->out_md, udst);
    return true;
}

/* A convolution with few output pixels (batch included) over large weights, as im2col plus
 * cpu_skinny.c's product (its header says why: at batch 1 these layers stream their weights
 * and that kernel streams them faster than oneDNN's). groups 1, any source layout a view
 * describes; the result in channels-last when the plan lets the layout free (oneDNN's own
 * choice at batch 1), the addend's layout for a fused residual, else plain. Post-ops as
 * add_post_ops (ReLU, sum, ReLU), in plain C on the [rows][OC] sums. True when this
 * instance runs so. */
static bool try_skinny(bl_cpu_exec *ex, const bl_cpu_step *st, dnnl_priv *p, inst *it, const int64_t *tx,
                       const int64_t *ty, const dnnl_memory_desc_t *usrc, const dnnl_memory_desc_t *udst,
                       const dnnl_memory_desc_t *sum_md) {
    const bl_graph *g = ex->g;
    const bl_node *nd = st->node;
    const bl_tensor *w = bl_node_input(g, nd, 1);
    int r = p->nd;
    /* reference mode (tests) keeps oneDNN's kernels */
    if (p->kind != K_CONV || ex->opts.no_fusion || bl_node_attr_int(nd, "group", 1) != 1) return false;
    /* post-ops: ReLU and residual sums only (the plain-C epilogue is scalar; a swish over
     * 12800 outputs cost more than the product saved) */
    const bl_cpu_fuse *fu = &ex->fuse[st->ni];
    if ((nd->fused_act != BL_OP_NONE && nd->fused_act != BL_OP_RELU) ||
        (fu->post != BL_CPU_POST_NONE && fu->post != BL_CPU_POST_RELU))
        return false;
    int64_t rows = ty[0], K = tx[1];
    for (int i = 2; i < r; i++) rows *= ty[i], K *= w->dims[i];
    if (!bl_cpu_skinny_wanted(rows, ty[1], K)) return false;
    dnnl_memory_desc_t cl;
    dnnl_dims_t yd;
    for (int i = 0; i < r; i++) yd[i] = ty[i];
    dnnl_format_tag_t cl_tag = lane_tag(r, 1);
    if (dnnl_memory_desc_init_by_tag(&cl, r, yd, dnnl_f32, cl_tag) != dnnl_success) return false;
    it->out_md = sum_md ? *sum_md : p->out_any ? cl : *udst;
    if (!bl_cpu_view_of(&usrc[0], &it->v_src[0]) || !bl_cpu_view_of(&it->out_md, &it->v_dst)) return false;
    if (!p->skinny_w) {
        size_t nf = bl_cpu_skinny_packed_floats(ty[1], K);
        p->skinny_w = bl_cpu_weights_alloc(ex, nf * sizeof(float));
        if (!p->skinny_w) return false;
        /* depth index tap-major (tap * IC + c), so that run_skinny's im2col writes each tap's
         * channels in one short contiguous run: ONNX [OC][IC][taps] → [OC][taps][IC] first */
        int64_t OC = ty[1], IC = tx[1], taps = K / IC;
        const float *wd = w->data;
        float *t = malloc((size_t)(OC * K) * sizeof *t);
        if (!t) return false;
        for (int64_t o = 0; o < OC; o++)
            for (int64_t c = 0; c < IC; c++)
                for (int64_t k = 0; k < taps; k++) t[(o * taps + k) * IC + c] = wd[(o * IC + c) * taps + k];
        bl_cpu_skinny_pack(t, OC, K, K, 1, p->skinny_w);
        free(t);
        ex->packed_bytes += (int64_t)(nf * sizeof(float));
    }
    ex->n_skinny++;
    it->skinny = true;
    it->sk_rows = rows;
    it->sk_xp_off = 0;
    it->sk_acc_off = align64(bl_cpu_skinny_panel_floats(rows, K) * sizeof(float));
    it->sk_part_off = it->sk_acc_off + align64((size_t)rows * (size_t)ty[1] * sizeof(float));
    it->ws_bytes = it->sk_part_off + align64(bl_cpu_skinny_part_floats(rows, ty[1], it->threads) * sizeof(float) + 1);
    it->out_plain = dnnl_memory_desc_equal(&it->out_md, udst);
    return true;
}

/* Channel c's offset in view v (without the batch and pixel parts). */
static inline int64_t view_chan(const bl_cpu_view *v, int64_t c) {
    return v->cb > 1 ? (c / v->cb) * v->sc + c % v->cb : c * v->sc;
}

/* Run a skinny instance: im2col of the source into row panels, the product, post-ops, and
 * the result written through the destination view. */
static void run_skinny(bl_cpu_exec *ex, const bl_cpu_step *st, const dnnl_priv *p, const inst *it, unsigned char *ws) {
    const bl_graph *g = ex->g;
    const bl_node *nd = st->node;
    const bl_cpu_fuse *fu = &ex->fuse[st->ni];
    const geom *gm = &p->gm;
    const bl_tensor *w = bl_node_input(g, nd, 1), *b = bl_node_input(g, nd, 2);
    const float *x = ex->ptr[p->src_t[0]];
    float *y = ex->ptr[p->out_t];
    const bl_cpu_view *vs = &it->v_src[0], *vd = &it->v_dst;
    int sp = gm->sp;
    /* spatial geometry padded at the front to 3 dims, as the views are */
    int64_t osz[3] = {1, 1, 1}, isz[3] = {1, 1, 1}, ks[3] = {1, 1, 1}, str[3] = {1, 1, 1}, dl[3] = {1, 1, 1},
            pad[3] = {0, 0, 0};
    for (int d = 0; d < sp; d++) {
        int e = 3 - sp + d;
        osz[e] = vd->sdim[e], isz[e] = vs->sdim[e];
        ks[e] = w->dims[2 + d], str[e] = gm->stride[d], dl[e] = gm->dil[d], pad[e] = gm->pad_l[d];
    }
    int64_t IC = vs->C, OC = vd->C, taps = ks[0] * ks[1] * ks[2], K = IC * taps, rows = it->sk_rows;
    int64_t opix = osz[0] * osz[1] * osz[2];
    float *xp = (float *)(ws + it->sk_xp_off), *acc = (float *)(ws + it->sk_acc_off);
    /* im2col into the row panels, depth tap-major (tap * IC + c, as try_skinny packed the
     * weights): per tap and row one run over the channels; zeros for taps in the padding
     * and for the rows past the last in its panel */
    int64_t rows_p = (rows + BL_SKINNY_MB - 1) / BL_SKINNY_MB * BL_SKINNY_MB;
    for (int64_t tap = 0; tap < taps; tap++) {
        int64_t k2 = tap % ks[2], k1 = (tap / ks[2]) % ks[1], k0 = tap / (ks[2] * ks[1]);
        for (int64_t row = 0; row < rows_p; row++) {
            float *col = xp + (size_t)(row / BL_SKINNY_MB) * (size_t)K * BL_SKINNY_MB + (size_t)(tap * IC) * BL_SKINNY_MB +
                         (size_t)(row % BL_SKINNY_MB);
            int64_t n = row / opix, o = row % opix;
            int64_t o2 = o % osz[2], o1 = (o / osz[2]) % osz[1], o0 = o / (osz[2] * osz[1]);
            int64_t i0 = o0 * str[0] - pad[0] + k0 * dl[0], i1 = o1 * str[1] - pad[1] + k1 * dl[1],
                    i2 = o2 * str[2] - pad[2] + k2 * dl[2];
            if (row >= rows || i0 < 0 || i0 >= isz[0] || i1 < 0 || i1 >= isz[1] || i2 < 0 || i2 >= isz[2]) {
                for (int64_t c = 0; c < IC; c++) col[(size_t)c * BL_SKINNY_MB] = 0.f;
                continue;
            }
            const float *xb = x + vs->off0 + n * vs->sn + i0 * vs->ss[0] + i1 * vs->ss[1] + i2 * vs->ss[2];
            if (vs->cb == 1) /* channels innermost (channels-last): contiguous */
                for (int64_t c = 0; c < IC; c++) col[(size_t)c * BL_SKINNY_MB] = xb[c];
            else
                for (int64_t c = 0; c < IC; c++) col[(size_t)c * BL_SKINNY_MB] = xb[view_chan(vs, c)];
        }
    }
    bl_cpu_skinny_gemm(xp, rows, K, p->skinny_w, OC, b ? b->data : NULL, acc, OC, it->threads,
                       (float *)(ws + it->sk_part_off));
    bool sum = fu->sum_t >= 0;
    for (int64_t row = 0; row < rows; row++) {
        float *a = acc + row * OC;
        bool relu1 = nd->fused_act == BL_OP_RELU, relu2 = fu->post == BL_CPU_POST_RELU;
        int64_t n = row / opix, o = row % opix;
        int64_t o2 = o % osz[2], o1 = (o / osz[2]) % osz[1], o0 = o / (osz[2] * osz[1]);
        int64_t base = vd->off0 + n * vd->sn + o0 * vd->ss[0] + o1 * vd->ss[1] + o2 * vd->ss[2];
        for (int64_t c = 0; c < OC; c++) {
            int64_t off = base + view_chan(vd, c);
            float v = a[c];
            /* ReLU keeps NaN (ONNX; oneDNN's post-op would drop it) */
            if (relu1) v = v <= 0.f ? 0.f : v;
            if (sum) v += y[off]; /* the addend shares the buffer (in place) */
            if (relu2) v = v <= 0.f ? 0.f : v;
            y[off] = v;
        }
    }
}

/* Build the primitive (and its reorders/memories) for batch n. */
static bl_status build_inst(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n, inst *it) {
    const bl_graph *g = ex->g;
    const bl_node *nd = st->node;
    const bl_cpu_fuse *fu = &ex->fuse[st->ni];
    dnnl_priv *p = st->priv;
    const geom *gm = &p->gm;
    memset(it, 0, sizeof *it);
    it->n = n;
    int r = p->nd;
    {
        double out_elems = (double)bl_cpu_numel(ex, p->out_t, n), work_f = 0, w_bytes = 0;
        if (p->kind == K_CONV) {
            const bl_tensor *w = bl_node_input(g, nd, 1);
            work_f = 2.0 * out_elems * (double)(bl_tensor_numel(w, 1) / (w->dims[0] ? w->dims[0] : 1));
            w_bytes = 4.0 * (double)bl_tensor_numel(w, 1);
        }
        if (p->kind == K_GAP || p->kind == K_POOL) out_elems = (double)bl_cpu_numel(ex, p->src_t[0], n);
        bool small = p->kind == K_CONV ? bl_cpu_serial(work_f, w_bytes) : out_elems < SERIAL_ELEMS;
        it->threads = small ? 1 : ex->threads;
    }
    if (it->threads != ex->threads) omp_set_num_threads(it->threads); /* oneDNN sizes its kernels by it */
    dnnl_dims_t yd, strides, dil, pl, pr, kern;
    int64_t tx[BL_MAX_RANK], ty[BL_MAX_RANK];
    bl_cpu_dims(ex, p->src_t[0], n, tx);
    bl_cpu_dims(ex, p->out_t, n, ty);
    for (int i = 0; i < r; i++) yd[i] = ty[i];
    for (int i = 0; i < gm->sp; i++) {
        int64_t ext = (gm->kernel[i] - 1) * gm->dil[i] + 1;
        strides[i] = gm->stride[i];
        dil[i] = gm->dil[i] - 1; /* oneDNN counts dilation from 0 */
        kern[i] = gm->kernel[i];
        pl[i] = gm->pad_l[i];
        pr[i] = (ty[2 + i] - 1) * gm->stride[i] + ext - tx[2 + i] - gm->pad_l[i];
    }
    dnnl_memory_desc_t usrc[2], udst, any_dst, want_src[2];
    for (int k = 0; k < p->n_src; k++) given_md(ex, p->src_t[k], n, &usrc[k]);
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&udst, r, yd, dnnl_f32, plain_tag(r)), "memory desc");
    dnnl_memory_desc_init_by_tag(&any_dst, r, yd, dnnl_f32, dnnl_format_tag_any);
    bool sum = p->kind == K_CONV && fu->sum_t >= 0;
    dnnl_memory_desc_t sum_md;
    if (sum) given_md(ex, fu->sum_t, n, &sum_md);
    if (p->kind == K_CONV && try_skinny(ex, st, p, it, tx, ty, usrc, &udst, sum ? &sum_md : NULL)) {
        if (it->threads != ex->threads) omp_set_num_threads(ex->threads);
        bl_status cs = claim_out_bytes(ex, p, it);
        if (cs == BL_OK && !bl_cpu_workspace(ex, it->ws_bytes)) cs = BL_ERROR(BL_ERR_NOMEM, "out of memory for the workspace");
        if (cs != BL_OK) destroy_inst(it);
        return cs;
    }
    if ((p->kind == K_GAP || p->kind == K_BINARY || p->kind == K_POOL) && try_custom(ex, st, p, it, usrc, &udst)) {
        if (it->threads != ex->threads) omp_set_num_threads(ex->threads);
        it->custom = true;
        it->ws_bytes = 64;
        bl_status cs = claim_out_bytes(ex, p, it);
        if (cs != BL_OK) destroy_inst(it);
        return cs;
    }
    /* Always any (then a reorder when the result must be plain): a plain destination with a
     * blocked or channels-last source makes oneDNN 2.6 fall back to its reference kernels
     * for pooling and binary ops */
    /* A residual sum into a plain buffer (its chain ends at a graph output or a plain-C op)
     * would make the Conv write plain NCHW, where oneDNN has only slow kernels (resnet18's
     * layer1 alone, ending at a graph output: its two summing convolutions 1.5-1.7 ms each
     * instead of 0.35). Instead the Conv runs in its own layout in the workspace: the addend
     * is reordered in, the sum post-op adds to it there, and the result is reordered back. */
    bool sum_ws = sum && p->kind == K_CONV && !ex->md[bl_memplan_root(&ex->plan, fu->sum_t)] && ty[1] > 4;
    const dnnl_memory_desc_t *dst_req = sum && !sum_ws ? &sum_md : &any_dst;
    /* a binary op written in place into its first source (cpu_fuse.c) keeps that layout */
    bool inplace = p->kind == K_BINARY && p->out_root == bl_memplan_root(&ex->plan, p->src_t[0]);
    if (inplace) dst_req = &usrc[0];
    dnnl_primitive_attr_t attr;
    DNNL_TRY(dnnl_primitive_attr_create(&attr), "attr");
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t ds;
    bl_status s = BL_OK;
    dnnl_post_ops_t po;
    dnnl_post_ops_create(&po);
    it->swish_after = fu->post == BL_CPU_POST_SWISH && bl_cpu_swish_available();
    /* the reference mode (exact for NaN, exec_cpu.c) applies the Conv's activation itself:
     * oneDNN's ReLU and Clip post-ops turn NaN into a bound */
    it->act_after = ex->opts.no_fusion && p->kind == K_CONV && nd->fused_act != BL_OP_NONE;
    if (p->kind == K_CONV || p->kind == K_BINARY) s = add_post_ops(po, nd, fu, it->swish_after, it->act_after);
    if (s == BL_OK) dnnl_primitive_attr_set_post_ops(attr, po);
    dnnl_post_ops_destroy(po);
    if (s != BL_OK) goto done;
    if (p->kind == K_CONV) {
        const bl_tensor *w = bl_node_input(g, nd, 1);
        int64_t groups = bl_node_attr_int(nd, "group", 1);
        dnnl_dims_t wd;
        int wr;
        if (groups > 1) {
            wr = r + 1;
            wd[0] = groups, wd[1] = w->dims[0] / groups, wd[2] = w->dims[1];
            for (int i = 0; i < gm->sp; i++) wd[3 + i] = w->dims[2 + i];
        } else {
            wr = r;
            for (int i = 0; i < r; i++) wd[i] = w->dims[i];
        }
        dnnl_memory_desc_t any_w, bmd, uw, any_src;
        dnnl_dims_t bd = {w->dims[0]};
        dnnl_dims_t xd;
        for (int i = 0; i < r; i++) xd[i] = tx[i];
        dnnl_memory_desc_init_by_tag(&any_src, r, xd, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&any_w, wr, wd, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&uw, wr, wd, dnnl_f32, plain_tag(wr));
        dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);
        const bl_tensor *b = bl_node_input(g, nd, 2);
        /* Layouts, in order of preference: (0) the source as its writer left it (no reorder)
         * with a channel-blocked destination, (1) channel-blocked source (plain or oneDNN's
         * choice when it has <= 4 channels, as a first layer does) and destination, (2)
         * oneDNN's own choice. Blocked first because oneDNN 2.6 otherwise picks channels-last
         * brgemm kernels on AVX-512, measured 1.3-1.6x slower for resnet18/efficientnet_b0
         * at batch 8 (user CPU time; bench/models/results.md). Except for a batch of one:
         * there the brgemm kernels were faster on every resnet18 k×k layer (1.5x overall; 5x
         * for the 7×7 stem on one channel), and on efficientnet_b0's 1×1 convolutions at
         * small maps (1.1-1.4x per layer; the whole model 4-10% with its depthwise layers
         * channels-last too, so that no reorder sits between them). Every convolution at
         * batch 1 lets oneDNN choose, so a net stays in one layout (a mix of blocked depthwise
         * and channels-last pointwise layers fell to reference kernels). A sum post-op fixes
         * the destination to its addend's layout. */
        dnnl_memory_desc_t blk_src, blk_dst;
        dnnl_format_tag_t bt = n == 1 ? dnnl_format_tag_undef : blocked_tag(r);
        /* Feature maps with fewer channels than a block (e.g. 8 of 16 lanes) would be mostly
         * padding: oneDNN's choice (channels-last) there too. whalecall-small (2-64
         * channels): 12-22% faster at batch 8 and 32, its first MaxPool on 8 channels 1.6x.
         * Not for 1×1 maps (squeeze-excitation vectors), whose layout only decides that of
         * the scale the per-channel Mul reads. Sources with <= 4 channels (first layers)
         * count as wide: their destination decides. */
        int64_t opix = 1;
        for (int i = 2; i < r; i++) opix *= ty[i];
        int64_t blk = bt == dnnl_nCw16c || bt == dnnl_nChw16c || bt == dnnl_nCdhw16c ? 16 : 8;
        if (bt && opix > 1 && (ty[1] < blk || (tx[1] > 4 && tx[1] < blk))) bt = dnnl_format_tag_undef;
        dnnl_memory_desc_init_by_tag(&blk_src, r, xd, dnnl_f32, bt && tx[1] > 4 ? bt : dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&blk_dst, r, yd, dnnl_f32, bt ? bt : dnnl_format_tag_any);
        const dnnl_memory_desc_t *pref_dst = sum && !sum_ws ? &sum_md : &blk_dst;
        bool blocked_src = ex->md[bl_memplan_root(&ex->plan, p->src_t[0])] != NULL;
        /* Winograd first where it pays (wino_eligible), then direct: each through the same
         * layout attempts. */
        ds = dnnl_unimplemented;
        /* not in the reference mode (exact for NaN): Winograd's tile transforms spread a NaN
         * or inf over a whole output tile, beyond the taps that read it */
        bool wino = !ex->opts.no_fusion && wino_eligible(gm, groups, w, ty, r, n);
        for (int alg_i = wino ? 0 : 1; alg_i < 2 && ds != dnnl_success; alg_i++) {
            dnnl_alg_kind_t alg = alg_i == 0 ? dnnl_convolution_winograd : dnnl_convolution_direct;
            for (int attempt = blocked_src ? 0 : 1; attempt < 3; attempt++) {
                const dnnl_memory_desc_t *src_a = attempt == 0 ? &usrc[0] : attempt == 1 ? &blk_src : &any_src;
                dnnl_convolution_desc_t cd;
                ds = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, alg, src_a, &any_w,
                                                                b ? &bmd : NULL, attempt < 2 ? pref_dst : dst_req,
                                                                strides, dil, pl, pr);
                if (ds == dnnl_success) ds = dnnl_primitive_desc_create(&pd, &cd, attr, ex->engine, NULL);
                if (ds != dnnl_success) continue;
                /* a layout only oneDNN's reference kernel takes (e.g. channel-padded blocks
                 * with a channels-last destination) is slower by orders of magnitude than one
                 * reorder */
                if (attempt < 2 && is_ref(pd)) {
                    dnnl_primitive_desc_destroy(pd);
                    pd = NULL;
                    ds = dnnl_unimplemented;
                    continue;
                }
                break;
            }
        }
        if (ds != dnnl_success) {
            s = BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN has no convolution for this shape (status %d)", (int)ds);
            goto done;
        }
        const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        void *wbuf = NULL;
        if ((s = pack_weights(ex, p, it, w, &uw, wmd, &wbuf)) != BL_OK) goto done;
        dnnl_memory_create(&it->m_w, wmd, ex->engine, wbuf);
        if (b) dnnl_memory_create(&it->m_b, &bmd, ex->engine, b->data);
    } else if (p->kind == K_POOL || p->kind == K_GAP) {
        bool maxp = nd->op == BL_OP_MAX_POOL;
        dnnl_alg_kind_t alg = maxp ? dnnl_pooling_max
                              : bl_node_attr_int(nd, "count_include_pad", 0) ? dnnl_pooling_avg_include_padding
                                                                            : dnnl_pooling_avg_exclude_padding;
        if (p->kind == K_GAP)
            for (int i = 0; i < gm->sp; i++) kern[i] = tx[2 + i], strides[i] = 1, dil[i] = 0, pl[i] = pr[i] = 0;
        dnnl_pooling_v2_desc_t pdsc;
        ds = dnnl_pooling_v2_forward_desc_init(&pdsc, dnnl_forward_inference, alg, &usrc[0], dst_req, strides, kern,
                                               dil, pl, pr);
        if (ds == dnnl_success) ds = dnnl_primitive_desc_create(&pd, &pdsc, attr, ex->engine, NULL);
        if (ds != dnnl_success) {
            s = BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN has no pooling for this shape (status %d)", (int)ds);
            goto done;
        }
    } else {
        dnnl_alg_kind_t alg = nd->op == BL_OP_ADD ? dnnl_binary_add : nd->op == BL_OP_SUB ? dnnl_binary_sub : dnnl_binary_mul;
        /* a full-shaped second operand in another layout is reordered to the first's */
        dnnl_memory_desc_t s1 = usrc[1];
        if (usrc[1].ndims == r && !memcmp(usrc[1].dims, usrc[0].dims, sizeof(dnnl_dim_t) * (size_t)r)) s1 = usrc[0];
        dnnl_binary_desc_t bd;
        ds = dnnl_binary_desc_init(&bd, alg, &usrc[0], &s1, dst_req);
        if (ds == dnnl_success) ds = dnnl_primitive_desc_create(&pd, &bd, attr, ex->engine, NULL);
        if (ds != dnnl_success) {
            s = BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN has no binary op for these shapes (status %d)", (int)ds);
            goto done;
        }
    }
    {
        const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        const dnnl_memory_desc_t *scm = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        size_t off = 0;
        for (int k = 0; k < p->n_src; k++) {
            want_src[k] = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, k);
            if ((s = make_reorder(ex, &usrc[k], &want_src[k], &it->re_src[k])) != BL_OK) goto done;
            it->src_off[k] = off;
            if (it->re_src[k]) off += align64(dnnl_memory_desc_get_size(&want_src[k]));
            dnnl_memory_create(&it->m_usrc[k], &usrc[k], ex->engine, DNNL_MEMORY_NONE);
            if (it->re_src[k]) dnnl_memory_create(&it->m_src[k], &want_src[k], ex->engine, DNNL_MEMORY_NONE);
        }
        /* the result stays in the primitive's layout when the plan allows it (or a sum forced
         * the layout of the tensor it adds); otherwise it is reordered to plain */
        bool need_plain = !(p->out_any || sum || inplace) || sum_ws;
        if (sum_ws && (s = make_reorder(ex, &sum_md, dmd, &it->re_sum)) != BL_OK) goto done;
        if (sum && !sum_ws && !dnnl_memory_desc_equal(dmd, &sum_md)) {
            s = BL_ERROR(BL_ERR_INTERNAL, "fused residual: oneDNN changed the layout of the sum");
            goto done;
        }
        if (need_plain && (s = make_reorder(ex, dmd, &udst, &it->re_dst)) != BL_OK) goto done;
        it->out_md = need_plain ? udst : *dmd;
        it->out_plain = dnnl_memory_desc_equal(&it->out_md, &udst);
        if (it->act_after && !it->out_plain) {
            s = BL_ERROR(BL_ERR_INTERNAL, "reference mode: a Conv result with an activation must be plain");
            goto done;
        }
        it->dst_off = off;
        if (it->re_dst) off += align64(dnnl_memory_desc_get_size(dmd));
        it->scratch_off = off;
        if (scm) off += align64(dnnl_memory_desc_get_size(scm));
        it->ws_bytes = off ? off : 64;
        dnnl_memory_create(&it->m_udst, it->re_dst ? &udst : dmd, ex->engine, DNNL_MEMORY_NONE);
        if (it->re_dst) dnnl_memory_create(&it->m_dst, dmd, ex->engine, DNNL_MEMORY_NONE);
        if (scm && dnnl_memory_desc_get_size(scm)) dnnl_memory_create(&it->m_scratch, scm, ex->engine, DNNL_MEMORY_NONE);
        if ((s = claim_out_bytes(ex, p, it)) != BL_OK) goto done;
        ds = dnnl_primitive_create(&it->prim, pd);
        if (ds != dnnl_success) s = BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN primitive creation failed (status %d)", (int)ds);
    }
done:
    if (it->threads != ex->threads) omp_set_num_threads(ex->threads);
    if (pd) dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    if (s == BL_OK && !bl_cpu_workspace(ex, it->ws_bytes)) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for the workspace");
    if (s != BL_OK) destroy_inst(it);
    return s;
}

static bl_status exec_inst(bl_cpu_exec *ex, const dnnl_priv *p, inst *it, unsigned char *ws);

static bl_status run_dnnl(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    dnnl_priv *p = st->priv;
    inst *it = NULL;
    if (p->threads_gen != ex->threads_gen) { /* thread count changed: rebuild every batch size */
        for (int i = 0; i < p->n_in; i++) destroy_inst(&p->in[i]);
        p->n_in = 0;
        p->threads_gen = ex->threads_gen;
    }
    for (int i = 0; i < p->n_in; i++)
        if (p->in[i].n == n) it = &p->in[i];
    if (!it) {
        if (p->n_in == MAX_INST) { /* evict the oldest entry after the first */
            destroy_inst(&p->in[1]);
            memmove(&p->in[1], &p->in[2], (MAX_INST - 2) * sizeof(inst));
            p->n_in--;
        }
        BL_TRY(build_inst(ex, st, n, &p->in[p->n_in]));
        it = &p->in[p->n_in++];
    }
    unsigned char *ws = bl_cpu_workspace(ex, it->ws_bytes);
    BL_CHECK_ALLOC(ws);
    if (it->skinny) {
        run_skinny(ex, st, p, it, ws);
        ex->md[p->out_root] = it->out_plain ? NULL : &it->out_md;
        return BL_OK;
    }
    if (it->custom) {
        const float *x = ex->ptr[p->src_t[0]];
        float *y = ex->ptr[p->out_t];
        if (p->kind == K_GAP) bl_cpu_gap_view(x, &it->v_src[0], y, it->threads);
        else if (p->kind == K_POOL) {
            /* the geometry in a view's three spatial slots (unused leading ones: 1, 1, 1, 0) */
            const geom *gm = &p->gm;
            int64_t k[3] = {1, 1, 1}, sd[3] = {1, 1, 1}, dl[3] = {1, 1, 1}, pl[3] = {0, 0, 0};
            for (int i = 0; i < gm->sp; i++) {
                int j = 3 - gm->sp + i;
                k[j] = gm->kernel[i], sd[j] = gm->stride[i], dl[j] = gm->dil[i], pl[j] = gm->pad_l[i];
            }
            bl_cpu_maxpool_view(x, &it->v_src[0], y, &it->v_dst, k, sd, dl, pl, it->threads);
        }
        else bl_cpu_chan_binary_view(st->node->op, x, &it->v_src[0], ex->ptr[p->src_t[1]], &it->v_src[1], y,
                                     &it->v_dst, it->relu, it->threads);
        ex->md[p->out_root] = it->out_plain ? NULL : &it->out_md;
        return BL_OK;
    }
    if (it->threads != ex->threads) omp_set_num_threads(it->threads);
    bl_status s = exec_inst(ex, p, it, ws);
    if (it->threads != ex->threads) omp_set_num_threads(ex->threads);
    BL_TRY(s);
    if (it->swish_after) /* the whole buffer, padded channel lanes included (swish(0) = 0) */
        bl_cpu_swish_inplace(ex->ptr[p->out_t], (int64_t)(dnnl_memory_desc_get_size(&it->out_md) / sizeof(float)),
                             it->threads);
    if (it->act_after) /* plain result (build_inst checked) */
        bl_cpu_apply_act(st->node->fused_act, st->node->act_alpha, st->node->act_beta, ex->ptr[p->out_t],
                         bl_cpu_numel(ex, p->out_t, n));
    ex->md[p->out_root] = it->out_plain ? NULL : &it->out_md;
    return BL_OK;
}

static bl_status exec_inst(bl_cpu_exec *ex, const dnnl_priv *p, inst *it, unsigned char *ws) {
    dnnl_memory_t src[2] = {NULL, NULL};
    for (int k = 0; k < p->n_src; k++) {
        dnnl_memory_set_data_handle(it->m_usrc[k], ex->ptr[p->src_t[k]]);
        src[k] = it->m_usrc[k];
        if (it->re_src[k]) {
            dnnl_memory_set_data_handle(it->m_src[k], ws + it->src_off[k]);
            dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, it->m_usrc[k]}, {DNNL_ARG_TO, it->m_src[k]}};
            DNNL_TRY(dnnl_primitive_execute(it->re_src[k], ex->stream, 2, a), "reorder");
            src[k] = it->m_src[k];
        }
    }
    dnnl_memory_set_data_handle(it->m_udst, ex->ptr[p->out_t]);
    dnnl_memory_t dst = it->m_udst;
    if (it->re_dst) {
        dnnl_memory_set_data_handle(it->m_dst, ws + it->dst_off);
        dst = it->m_dst;
    }
    if (it->m_scratch) dnnl_memory_set_data_handle(it->m_scratch, ws + it->scratch_off);
    if (it->re_sum) { /* the addend into the workspace, where the sum post-op adds to it */
        dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, it->m_udst}, {DNNL_ARG_TO, it->m_dst}};
        DNNL_TRY(dnnl_primitive_execute(it->re_sum, ex->stream, 2, a), "reorder");
    }
    dnnl_exec_arg_t args[6];
    int na = 0;
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_0, src[0]};
    if (p->n_src > 1) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_1, src[1]};
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_DST, dst};
    if (it->m_w) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, it->m_w};
    if (it->m_b) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, it->m_b};
    if (it->m_scratch) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, it->m_scratch};
    DNNL_TRY(dnnl_primitive_execute(it->prim, ex->stream, na, args), "execute");
    if (it->re_dst) {
        dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, it->m_dst}, {DNNL_ARG_TO, it->m_udst}};
        DNNL_TRY(dnnl_primitive_execute(it->re_dst, ex->stream, 2, a), "reorder");
    }
    DNNL_TRY(dnnl_stream_wait(ex->stream), "stream wait");
    return BL_OK;
}

bl_status bl_cpu_prepare_dnnl(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_graph *g = ex->g;
    const bl_node *nd = st->node;
    dnnl_priv *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    st->priv = p;
    st->destroy = dnnl_priv_destroy;
    p->nd = g->tensors[nd->inputs[0]].rank;
    p->n_src = 1;
    p->src_t[0] = nd->inputs[0];
    p->out_t = nd->outputs[0];
    switch (nd->op) {
    case BL_OP_CONV: p->kind = K_CONV; break;
    case BL_OP_GLOBAL_AVERAGE_POOL: p->kind = K_GAP; break;
    case BL_OP_ADD: case BL_OP_SUB: case BL_OP_MUL: {
        p->kind = K_BINARY;
        p->n_src = 2;
        const bl_tensor *a = &g->tensors[nd->inputs[0]], *y = &g->tensors[nd->outputs[0]];
        bool a_full = a->rank == y->rank && !memcmp(a->dims, y->dims, sizeof(int64_t) * (size_t)y->rank);
        p->src_t[0] = a_full ? nd->inputs[0] : nd->inputs[1]; /* oneDNN broadcasts the second only */
        p->src_t[1] = a_full ? nd->inputs[1] : nd->inputs[0];
        break;
    }
    default: p->kind = K_POOL; break;
    }
    if (p->kind == K_CONV || p->kind == K_POOL) BL_TRY(get_geom(g, nd, &p->gm));
    else p->gm.sp = p->nd - 2;
    p->out_root = bl_memplan_root(&ex->plan, p->out_t);
    p->out_any = ex->dnnl_layout[p->out_t];
    st->run = run_dnnl;
    /* build for the max batch now: shape problems and missing kernels surface at creation */
    BL_TRY(build_inst(ex, st, ex->opts.max_batch, &p->in[0]));
    p->n_in = 1;
    ex->md[p->out_root] = p->in[0].out_plain ? NULL : &p->in[0].out_md;
    return BL_OK;
}

/* ---- ConvTranspose (plain C) ---- */

typedef struct {
    geom gm;
    int64_t groups;
} convt_priv;

static bl_status run_convt(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const convt_priv *p = st->priv;
    const geom *gm = &p->gm;
    int64_t dx[5], dy[5];
    int r = bl_cpu_dims(ex, nd->inputs[0], n, dx);
    bl_cpu_dims(ex, nd->outputs[0], n, dy);
    const bl_tensor *w = bl_node_input(ex->g, nd, 1);
    const float *x = ex->ptr[nd->inputs[0]], *wt = w->data;
    const bl_tensor *b = bl_node_input(ex->g, nd, 2);
    const float *bias = b ? b->data : NULL;
    float *y = ex->ptr[nd->outputs[0]];
    int64_t G = p->groups, C = dx[1], OC = dy[1], Cg = C / G, OCg = OC / G;
    /* pad spatial dims to 3 */
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pl[3] = {0, 0, 0};
    int sp = r - 2, off = 3 - sp;
    for (int i = 0; i < sp; i++) {
        in[off + i] = dx[2 + i], out[off + i] = dy[2 + i], k[off + i] = gm->kernel[i];
        s[off + i] = gm->stride[i], d[off + i] = gm->dil[i], pl[off + i] = gm->pad_l[i];
    }
    int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2], ksz = k[0] * k[1] * k[2];
#pragma omp parallel for collapse(2)
    for (int64_t b0 = 0; b0 < dx[0]; b0++)
        for (int64_t oc = 0; oc < OC; oc++) {
            float *yo = y + (b0 * OC + oc) * osz;
            float bv = bias ? bias[oc] : 0.f;
            for (int64_t i = 0; i < osz; i++) yo[i] = bv;
            int64_t gi = oc / OCg, ocg = oc % OCg;
            for (int64_t icg = 0; icg < Cg; icg++) {
                int64_t ic = gi * Cg + icg;
                const float *xi = x + (b0 * C + ic) * isz;
                const float *wk = wt + (ic * OCg + ocg) * ksz;
                for (int64_t a0 = 0; a0 < in[0]; a0++)
                    for (int64_t a1 = 0; a1 < in[1]; a1++)
                        for (int64_t a2 = 0; a2 < in[2]; a2++) {
                            float v = xi[(a0 * in[1] + a1) * in[2] + a2];
                            for (int64_t k0 = 0; k0 < k[0]; k0++) {
                                int64_t o0 = a0 * s[0] - pl[0] + k0 * d[0];
                                if (o0 < 0 || o0 >= out[0]) continue;
                                for (int64_t k1 = 0; k1 < k[1]; k1++) {
                                    int64_t o1 = a1 * s[1] - pl[1] + k1 * d[1];
                                    if (o1 < 0 || o1 >= out[1]) continue;
                                    for (int64_t k2 = 0; k2 < k[2]; k2++) {
                                        int64_t o2 = a2 * s[2] - pl[2] + k2 * d[2];
                                        if (o2 < 0 || o2 >= out[2]) continue;
                                        yo[(o0 * out[1] + o1) * out[2] + o2] += v * wk[(k0 * k[1] + k1) * k[2] + k2];
                                    }
                                }
                            }
                        }
            }
        }
    return BL_OK;
}

bl_status bl_cpu_prepare_convt(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_node *nd = st->node;
    convt_priv *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    st->priv = p;
    p->groups = bl_node_attr_int(nd, "group", 1);
    const bl_graph *g = ex->g;
    const bl_tensor *x = bl_node_input(g, nd, 0), *y = &g->tensors[nd->outputs[0]];
    BL_TRY(get_geom(g, nd, &p->gm));
    /* ConvTranspose pads: explicit pads, or from output_shape / auto_pad (total padding split
     * by the ONNX rule: SAME_UPPER puts the extra pixel at the end) */
    size_t np, nos;
    bl_node_attr_ints(nd, "pads", &np);
    bl_node_attr_ints(nd, "output_shape", &nos);
    const char *ap = bl_node_attr_str(nd, "auto_pad", "NOTSET");
    size_t nop;
    const int64_t *opad = bl_node_attr_ints(nd, "output_padding", &nop);
    for (int i = 0; i < p->gm.sp; i++) {
        int64_t ext = (p->gm.kernel[i] - 1) * p->gm.dil[i] + 1;
        int64_t full = p->gm.stride[i] * (x->dims[2 + i] - 1) + ((int)nop > i ? opad[i] : 0) + ext;
        int64_t total = full - y->dims[2 + i];
        if (np && strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER")) continue; /* explicit pads kept */
        if (!strcmp(ap, "SAME_LOWER")) p->gm.pad_l[i] = total - total / 2;
        else if (!strcmp(ap, "SAME_UPPER") || nos) p->gm.pad_l[i] = total / 2;
    }
    BL_RETURN_IF(p->groups < 1 || x->dims[1] % p->groups, BL_ERR_MODEL, "bad group count");
    st->run = run_convt;
    return BL_OK;
}

/* ---- AveragePool whose divisor oneDNN gets wrong (plain C) ---- */

/* ONNX's divisor with count_include_pad=1 counts the taps inside the explicitly padded input
 * [-pad_l, in + pad_r), not those of a ceil_mode window that runs past its end; oneDNN's
 * avg_include_padding divides by the whole kernel. (With count_include_pad=0 both count the
 * taps inside the input.) Per dimension: the end of the padded input, and whether the last
 * window has a tap beyond it. */
static bool avgpool_padded_end(const bl_graph *g, const bl_node *nd, const geom *gm, int64_t *end) {
    const bl_tensor *x = bl_node_input(g, nd, 0), *y = &g->tensors[nd->outputs[0]];
    size_t np;
    const int64_t *p = bl_node_attr_ints(nd, "pads", &np);
    bool explicit_pads = !strcmp(bl_node_attr_str(nd, "auto_pad", "NOTSET"), "NOTSET");
    bool past = false;
    for (int i = 0; i < gm->sp; i++) {
        int64_t in = bl_dim_at(x->dims[2 + i], 1), out = bl_dim_at(y->dims[2 + i], 1);
        int64_t last_tap = (out - 1) * gm->stride[i] - gm->pad_l[i] + (gm->kernel[i] - 1) * gm->dil[i];
        /* auto_pad sizes its padding to the windows: none runs past it */
        end[i] = explicit_pads ? in + ((int)np >= 2 * gm->sp ? p[gm->sp + i] : 0) : last_tap + 1;
        past |= last_tap >= end[i];
    }
    return past;
}

bool bl_cpu_avgpool_is_plain(const bl_graph *g, const bl_node *nd) {
    if (nd->op != BL_OP_AVERAGE_POOL || !bl_node_attr_int(nd, "count_include_pad", 0)) return false;
    geom gm;
    int64_t end[3];
    return get_geom(g, nd, &gm) == BL_OK && avgpool_padded_end(g, nd, &gm, end);
}

typedef struct {
    geom gm;
    bool include_pad;
    int64_t end[3]; /* per spatial dim: end of the padded input (taps at or past it never count) */
} avgpool_priv;

/* Taps of window o along one dim: first..last tap index k whose position o·s - pl + k·d lies
 * in [lo, hi); returns the count (0 when none). */
static int64_t taps_in(int64_t o, int64_t s, int64_t pl, int64_t d, int64_t kn, int64_t lo, int64_t hi, int64_t *k0) {
    int64_t start = o * s - pl;
    int64_t first = start >= lo ? 0 : (lo - start + d - 1) / d;
    int64_t last = hi - 1 - start < 0 ? -1 : (hi - 1 - start) / d;
    if (last > kn - 1) last = kn - 1;
    *k0 = first;
    return last >= first ? last - first + 1 : 0;
}

static bl_status run_avgpool(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    const bl_node *nd = st->node;
    const avgpool_priv *p = st->priv;
    const geom *gm = &p->gm;
    int64_t dx[5], dy[5];
    int r = bl_cpu_dims(ex, nd->inputs[0], n, dx);
    bl_cpu_dims(ex, nd->outputs[0], n, dy);
    const float *x = ex->ptr[nd->inputs[0]];
    float *y = ex->ptr[nd->outputs[0]];
    /* pad spatial dims to 3 (leading dims of size 1) */
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1},
            pl[3] = {0, 0, 0}, end[3] = {1, 1, 1};
    int sp = r - 2, off = 3 - sp;
    for (int i = 0; i < sp; i++) {
        in[off + i] = dx[2 + i], out[off + i] = dy[2 + i], k[off + i] = gm->kernel[i];
        s[off + i] = gm->stride[i], d[off + i] = gm->dil[i], pl[off + i] = gm->pad_l[i], end[off + i] = p->end[i];
    }
    int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2], planes = dx[0] * dx[1];
    bool inc = p->include_pad;
#pragma omp parallel for
    for (int64_t pc = 0; pc < planes; pc++) {
        const float *xi = x + pc * isz;
        float *yo = y + pc * osz;
        for (int64_t o0 = 0; o0 < out[0]; o0++) {
            int64_t a0, c0 = taps_in(o0, s[0], pl[0], d[0], k[0], 0, in[0], &a0), u0;
            int64_t w0 = inc ? taps_in(o0, s[0], pl[0], d[0], k[0], -pl[0], end[0], &u0) : c0;
            for (int64_t o1 = 0; o1 < out[1]; o1++) {
                int64_t a1, c1 = taps_in(o1, s[1], pl[1], d[1], k[1], 0, in[1], &a1), u1;
                int64_t w1 = inc ? taps_in(o1, s[1], pl[1], d[1], k[1], -pl[1], end[1], &u1) : c1;
                for (int64_t o2 = 0; o2 < out[2]; o2++) {
                    int64_t a2, c2 = taps_in(o2, s[2], pl[2], d[2], k[2], 0, in[2], &a2), u2;
                    int64_t w2 = inc ? taps_in(o2, s[2], pl[2], d[2], k[2], -pl[2], end[2], &u2) : c2;
                    double sum = 0;
                    for (int64_t t0 = 0; t0 < c0; t0++) {
                        int64_t i0 = o0 * s[0] - pl[0] + (a0 + t0) * d[0];
                        for (int64_t t1 = 0; t1 < c1; t1++) {
                            int64_t i1 = o1 * s[1] - pl[1] + (a1 + t1) * d[1];
                            const float *row = xi + (i0 * in[1] + i1) * in[2];
                            for (int64_t t2 = 0; t2 < c2; t2++) sum += row[o2 * s[2] - pl[2] + (a2 + t2) * d[2]];
                        }
                    }
                    int64_t cnt = w0 * w1 * w2;
                    /* a window with no counted tap: ONNX's mean of nothing is NaN */
                    yo[(o0 * out[1] + o1) * out[2] + o2] = cnt ? (float)(sum / (double)cnt) : NAN;
                }
            }
        }
    }
    if (nd->fused_act != BL_OP_NONE) bl_cpu_apply_act(nd->fused_act, nd->act_alpha, nd->act_beta, y, planes * osz);
    return BL_OK;
}

bl_status bl_cpu_prepare_avgpool(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_node *nd = st->node;
    avgpool_priv *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    st->priv = p;
    BL_TRY(get_geom(ex->g, nd, &p->gm));
    avgpool_padded_end(ex->g, nd, &p->gm, p->end);
    p->include_pad = bl_node_attr_int(nd, "count_include_pad", 0) != 0;
    st->run = run_avgpool;
    return BL_OK;
}
