/* cpu_conv.c — convolution and pooling of the CPU executor.
 *
 * Defines bl_cpu_check_conv, bl_cpu_prepare_dnnl (Conv, MaxPool, AveragePool through
 * oneDNN primitives) and bl_cpu_prepare_convt (ConvTranspose in plain C, see below).
 *
 * oneDNN: Conv is created with format_tag::any for source, weights and destination, so
 * oneDNN picks its fastest (blocked) layouts; the weights are reordered into that layout
 * once and kept (packed_bytes), the activations are reordered from/to the plain NCHW arena
 * buffers through the shared workspace when oneDNN asks for another layout. Fused
 * activations become eltwise post-ops. Primitives are built per batch size, lazily, and
 * cached (the max batch at creation so that every shape problem shows up then).
 * All primitives use a user-provided scratchpad inside the workspace: no allocation per run.
 *
 * ConvTranspose runs as plain C (scatter of each input pixel through the kernel): it is rare
 * in the CNNs baleen serves and its output_padding / output_shape cases map badly onto
 * oneDNN's deconvolution padding rules.
 *
 * Owns: every step's primitives, memory objects and packed weights.
 * Threading: steps run on one thread; oneDNN forks its OpenMP team.
 */
#include <math.h>   /* INFINITY */
#include <stdlib.h> /* calloc, free */
#include <string.h> /* memcpy, strcmp */

#include "models/cpu_exec.h" /* bl_cpu_exec, helpers */

#define MAX_INST 8 /* cached batch sizes per node */

#define DNNL_TRY(call, what)                                                                          \
    do {                                                                                              \
        dnnl_status_t dnnl_s_ = (call);                                                               \
        if (dnnl_s_ != dnnl_success)                                                                  \
            return BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN %s failed (status %d)", what, (int)dnnl_s_); \
    } while (0)

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

typedef struct {
    int64_t n;
    dnnl_primitive_t prim, re_src, re_dst;
    dnnl_memory_t m_usrc, m_src, m_udst, m_dst, m_w, m_b, m_scratch;
    size_t src_bytes, dst_bytes, scratch_bytes;
    void *own_w; /* packed weights when this batch size chose a layout of its own */
} inst;

typedef struct {
    geom gm;
    int nd; /* tensor rank */
    inst in[MAX_INST];
    int n_in;
    void *packed_w;          /* weights in the layout of the first instance */
    dnnl_memory_desc_t packed_md;
} dnnl_priv;

static void destroy_inst(inst *it) {
    dnnl_primitive_t ps[] = {it->prim, it->re_src, it->re_dst};
    for (int i = 0; i < 3; i++) if (ps[i]) dnnl_primitive_destroy(ps[i]);
    dnnl_memory_t ms[] = {it->m_usrc, it->m_src, it->m_udst, it->m_dst, it->m_w, it->m_b, it->m_scratch};
    for (int i = 0; i < 7; i++) if (ms[i]) dnnl_memory_destroy(ms[i]);
    free(it->own_w);
}

static void dnnl_priv_destroy(bl_cpu_step *st) {
    dnnl_priv *p = st->priv;
    if (!p) return;
    for (int i = 0; i < p->n_in; i++) destroy_inst(&p->in[i]);
    free(p->packed_w);
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

static bl_status add_post_op(dnnl_post_ops_t po, const bl_node *nd) {
    float a = nd->act_alpha, b = nd->act_beta;
    switch (nd->fused_act) {
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
    default: return BL_ERROR(BL_ERR_UNSUPPORTED, "fused activation %s has no oneDNN post-op", bl_op_name(nd->fused_act));
    }
    return BL_OK;
}

/* Build the primitive (and its reorders/memories) for batch n. */
static bl_status build_inst(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n, inst *it) {
    const bl_graph *g = ex->g;
    const bl_node *nd = st->node;
    dnnl_priv *p = st->priv;
    const geom *gm = &p->gm;
    memset(it, 0, sizeof *it);
    it->n = n;
    int r = p->nd;
    dnnl_dims_t xd, yd, strides, dil, pl, pr, kern;
    int64_t tx[BL_MAX_RANK], ty[BL_MAX_RANK];
    bl_cpu_dims(ex, nd->inputs[0], n, tx);
    bl_cpu_dims(ex, nd->outputs[0], n, ty);
    for (int i = 0; i < r; i++) xd[i] = tx[i], yd[i] = ty[i];
    for (int i = 0; i < gm->sp; i++) {
        int64_t ext = (gm->kernel[i] - 1) * gm->dil[i] + 1;
        strides[i] = gm->stride[i];
        dil[i] = gm->dil[i] - 1; /* oneDNN counts dilation from 0 */
        kern[i] = gm->kernel[i];
        pl[i] = gm->pad_l[i];
        pr[i] = (ty[2 + i] - 1) * gm->stride[i] + ext - tx[2 + i] - gm->pad_l[i];
    }
    dnnl_memory_desc_t usrc, udst, any_src, any_dst;
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&usrc, r, xd, dnnl_f32, plain_tag(r)), "memory desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&udst, r, yd, dnnl_f32, plain_tag(r)), "memory desc");
    dnnl_primitive_attr_t attr;
    DNNL_TRY(dnnl_primitive_attr_create(&attr), "attr");
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t ds;
    bl_status s = BL_OK;
    if (nd->op == BL_OP_CONV) {
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
        dnnl_memory_desc_t any_w, bmd, uw;
        dnnl_dims_t bd = {w->dims[0]};
        dnnl_memory_desc_init_by_tag(&any_src, r, xd, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&any_dst, r, yd, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&any_w, wr, wd, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&uw, wr, wd, dnnl_f32, plain_tag(wr));
        dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);
        const bl_tensor *b = bl_node_input(g, nd, 2);
        dnnl_convolution_desc_t cd;
        ds = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &any_src,
                                                        &any_w, b ? &bmd : NULL, &any_dst, strides, dil, pl, pr);
        if (ds != dnnl_success) {
            s = BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN rejects this convolution (status %d)", (int)ds);
            goto done;
        }
        dnnl_post_ops_t po;
        dnnl_post_ops_create(&po);
        s = add_post_op(po, nd);
        if (s == BL_OK) dnnl_primitive_attr_set_post_ops(attr, po);
        dnnl_post_ops_destroy(po);
        if (s != BL_OK) goto done;
        ds = dnnl_primitive_desc_create(&pd, &cd, attr, ex->engine, NULL);
        if (ds != dnnl_success) {
            s = BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN has no convolution for this shape (status %d)", (int)ds);
            goto done;
        }
        const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        void *wbuf = NULL;
        if (p->packed_w && dnnl_memory_desc_equal(wmd, &p->packed_md)) {
            wbuf = p->packed_w;
        } else {
            size_t wb = dnnl_memory_desc_get_size(wmd);
            wbuf = aligned_alloc(64, align64(wb));
            if (!wbuf) { s = BL_ERROR(BL_ERR_NOMEM, "out of memory packing weights"); goto done; }
            dnnl_primitive_t re = NULL;
            s = make_reorder(ex, &uw, wmd, &re);
            if (s != BL_OK) { free(wbuf); goto done; }
            if (re) {
                dnnl_memory_t a, bm;
                dnnl_memory_create(&a, &uw, ex->engine, w->data);
                dnnl_memory_create(&bm, wmd, ex->engine, wbuf);
                dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, bm}};
                ds = dnnl_primitive_execute(re, ex->stream, 2, args);
                dnnl_stream_wait(ex->stream);
                dnnl_memory_destroy(a), dnnl_memory_destroy(bm), dnnl_primitive_destroy(re);
                if (ds != dnnl_success) { free(wbuf); s = BL_ERROR(BL_ERR_INTERNAL, "weight reorder failed"); goto done; }
            } else {
                memcpy(wbuf, w->data, wb);
            }
            ex->packed_bytes += (int64_t)wb;
            if (!p->packed_w) p->packed_w = wbuf, p->packed_md = *wmd;
            else it->own_w = wbuf;
        }
        dnnl_memory_create(&it->m_w, wmd, ex->engine, wbuf);
        if (b) dnnl_memory_create(&it->m_b, &bmd, ex->engine, b->data);
    } else {
        bool maxp = nd->op == BL_OP_MAX_POOL;
        dnnl_alg_kind_t alg = maxp ? dnnl_pooling_max
                              : bl_node_attr_int(nd, "count_include_pad", 0) ? dnnl_pooling_avg_include_padding
                                                                            : dnnl_pooling_avg_exclude_padding;
        /* pooling: keep the plain layout for the source when oneDNN accepts it, blocked otherwise */
        dnnl_memory_desc_init_by_tag(&any_src, r, xd, dnnl_f32, plain_tag(r));
        dnnl_memory_desc_init_by_tag(&any_dst, r, yd, dnnl_f32, dnnl_format_tag_any);
        dnnl_pooling_v2_desc_t pdsc;
        ds = dnnl_pooling_v2_forward_desc_init(&pdsc, dnnl_forward_inference, alg, &any_src, &any_dst, strides, kern,
                                               dil, pl, pr);
        if (ds == dnnl_success) ds = dnnl_primitive_desc_create(&pd, &pdsc, attr, ex->engine, NULL);
        if (ds != dnnl_success) {
            s = BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN has no pooling for this shape (status %d)", (int)ds);
            goto done;
        }
    }
    {
        const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        const dnnl_memory_desc_t *scm = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        if ((s = make_reorder(ex, &usrc, smd, &it->re_src)) != BL_OK) goto done;
        if ((s = make_reorder(ex, dmd, &udst, &it->re_dst)) != BL_OK) goto done;
        it->src_bytes = it->re_src ? align64(dnnl_memory_desc_get_size(smd)) : 0;
        it->dst_bytes = it->re_dst ? align64(dnnl_memory_desc_get_size(dmd)) : 0;
        it->scratch_bytes = scm ? align64(dnnl_memory_desc_get_size(scm)) : 0;
        dnnl_memory_create(&it->m_usrc, &usrc, ex->engine, DNNL_MEMORY_NONE);
        dnnl_memory_create(&it->m_udst, &udst, ex->engine, DNNL_MEMORY_NONE);
        if (it->re_src) dnnl_memory_create(&it->m_src, smd, ex->engine, DNNL_MEMORY_NONE);
        if (it->re_dst) dnnl_memory_create(&it->m_dst, dmd, ex->engine, DNNL_MEMORY_NONE);
        if (scm && it->scratch_bytes) dnnl_memory_create(&it->m_scratch, scm, ex->engine, DNNL_MEMORY_NONE);
        ds = dnnl_primitive_create(&it->prim, pd);
        if (ds != dnnl_success) s = BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN primitive creation failed (status %d)", (int)ds);
    }
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    if (s == BL_OK) {
        size_t need = it->src_bytes + it->dst_bytes + it->scratch_bytes;
        if (!bl_cpu_workspace(ex, need ? need : 64)) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for the workspace");
    }
    if (s != BL_OK) destroy_inst(it);
    return s;
}

static bl_status run_dnnl(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    dnnl_priv *p = st->priv;
    const bl_node *nd = st->node;
    inst *it = NULL;
    for (int i = 0; i < p->n_in; i++)
        if (p->in[i].n == n) it = &p->in[i];
    if (!it) {
        if (p->n_in == MAX_INST) { /* evict the oldest non-max entry */
            destroy_inst(&p->in[1]);
            memmove(&p->in[1], &p->in[2], (MAX_INST - 2) * sizeof(inst));
            p->n_in--;
        }
        BL_TRY(build_inst(ex, st, n, &p->in[p->n_in]));
        it = &p->in[p->n_in++];
    }
    unsigned char *ws = bl_cpu_workspace(ex, it->src_bytes + it->dst_bytes + it->scratch_bytes + 64);
    BL_CHECK_ALLOC(ws);
    dnnl_memory_set_data_handle(it->m_usrc, ex->ptr[nd->inputs[0]]);
    dnnl_memory_set_data_handle(it->m_udst, ex->ptr[nd->outputs[0]]);
    dnnl_memory_t src = it->m_usrc, dst = it->m_udst;
    if (it->re_src) {
        dnnl_memory_set_data_handle(it->m_src, ws);
        dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, it->m_usrc}, {DNNL_ARG_TO, it->m_src}};
        DNNL_TRY(dnnl_primitive_execute(it->re_src, ex->stream, 2, a), "reorder");
        src = it->m_src;
    }
    if (it->re_dst) {
        dnnl_memory_set_data_handle(it->m_dst, ws + it->src_bytes);
        dst = it->m_dst;
    }
    if (it->m_scratch) dnnl_memory_set_data_handle(it->m_scratch, ws + it->src_bytes + it->dst_bytes);
    dnnl_exec_arg_t args[6];
    int na = 0;
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src};
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
    dnnl_priv *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    st->priv = p;
    st->destroy = dnnl_priv_destroy;
    BL_TRY(get_geom(ex->g, st->node, &p->gm));
    p->nd = ex->g->tensors[st->node->inputs[0]].rank;
    st->run = run_dnnl;
    /* build for the max batch now: shape problems and missing kernels surface at creation */
    BL_TRY(build_inst(ex, st, ex->opts.max_batch, &p->in[0]));
    p->n_in = 1;
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
