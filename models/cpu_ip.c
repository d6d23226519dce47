/* cpu_ip.c — Gemm with constant weights as a oneDNN inner-product primitive.
 *
 * Defines bl_cpu_gemm_is_ip and bl_cpu_prepare_gemm_ip. A classifier head (Gemm of the
 * activations [M, K] with constant weights B, transB either way, alpha 1, and an optional
 * constant bias C of [N] or [1, N] with beta 1) runs as oneDNN's inner product with the
 * weights reordered once into the layout the kernel wants. dnnl_sgemm (cpu_reduce.c) packs B
 * again on every call: efficientnet_b0's 1280x1000 head took 1.8 ms at batch 8 on one thread
 * that way, about twice ONNX Runtime's time (it packs once too).
 *
 * A batch of at most BL_SKINNY_MAX_ROWS rows over large weights (a batch-1 classifier) runs
 * through cpu_skinny.c instead, which streams the weights faster (its header says why).
 *
 * Primitives are built per batch size on first use and cached (the max batch at creation);
 * a thread-count change rebuilds them (oneDNN fixes it at creation). Scratchpads live in
 * the executor's shared workspace.
 * Owns: its primitives, memory objects and the packed weights.
 * Threading: one run at a time (exec.h); oneDNN forks its OpenMP team.
 */
#include <omp.h>    /* omp_set_num_threads: small products run on one thread */
#include <stdlib.h> /* calloc, free, aligned_alloc */
#include <string.h> /* memcpy, memset */

#include "models/cpu_exec.h" /* bl_cpu_exec, helpers */

#define IP_INST 8   /* cached batch sizes */

typedef struct {
    int64_t m;
    int threads;
    dnnl_primitive_t prim;
    dnnl_memory_t m_src, m_w, m_b, m_dst, m_scratch;
    size_t scratch_bytes;
    void *own_w; /* packed weights when this batch size wants another layout */
    bool skinny; /* cpu_skinny.c instead of oneDNN (a few rows, large weights) */
} ip_inst;

typedef struct {
    int64_t N, K;
    bool tb;
    const float *bias;
    ip_inst in[IP_INST];
    int n_in;
    int threads_gen;
    void *packed_w; /* first layout (bl_cpu_weights_alloc: the executor frees it) */
    dnnl_memory_desc_t packed_md;
    float *skinny_w; /* the weights packed for cpu_skinny.c (bl_cpu_weights_alloc), once */
} ip_priv;

static void destroy_inst(ip_inst *it) {
    if (it->prim) dnnl_primitive_destroy(it->prim);
    dnnl_memory_t ms[] = {it->m_src, it->m_w, it->m_b, it->m_dst, it->m_scratch};
    for (int i = 0; i < 5; i++) if (ms[i]) dnnl_memory_destroy(ms[i]);
    free(it->own_w);
    memset(it, 0, sizeof *it);
}

static void ip_destroy(bl_cpu_step *st) {
    ip_priv *p = st->priv;
    if (!p) return;
    for (int i = 0; i < p->n_in; i++) destroy_inst(&p->in[i]);
    free(p);
}

bool bl_cpu_gemm_is_ip(const bl_graph *g, const bl_node *nd) {
    if (nd->op != BL_OP_GEMM || nd->n_outputs != 1) return false;
    const bl_tensor *a = bl_node_input(g, nd, 0), *b = bl_node_input(g, nd, 1), *c = bl_node_input(g, nd, 2);
    if (!a || !b || a->dtype != BL_DT_FLOAT || b->dtype != BL_DT_FLOAT || a->rank != 2 || b->rank != 2) return false;
    if (a->data || !b->data || bl_node_attr_int(nd, "transA", 0) || bl_node_attr_float(nd, "alpha", 1.f) != 1.f)
        return false;
    if (nd->fused_act != BL_OP_NONE) return false;
    int64_t N = bl_node_attr_int(nd, "transB", 0) ? b->dims[0] : b->dims[1];
    if (c && bl_node_attr_float(nd, "beta", 1.f) != 0.f) {
        if (!c->data || c->dtype != BL_DT_FLOAT || bl_node_attr_float(nd, "beta", 1.f) != 1.f) return false;
        bool row = (c->rank == 1 && c->dims[0] == N) || (c->rank == 2 && c->dims[0] == 1 && c->dims[1] == N);
        if (!row) return false;
    }
    return true;
}

static bl_status pack(bl_cpu_exec *ex, ip_priv *p, ip_inst *it, const float *w, const dnnl_memory_desc_t *uw,
                      const dnnl_memory_desc_t *wmd, void **out) {
    if (p->packed_w && dnnl_memory_desc_equal(wmd, &p->packed_md)) {
        *out = p->packed_w;
        return BL_OK;
    }
    size_t wb = dnnl_memory_desc_get_size(wmd);
    bool pooled = !p->packed_w; /* the first layout lives as long as the executor */
    void *buf = pooled ? bl_cpu_weights_alloc(ex, wb) : aligned_alloc(64, (wb + 63) / 64 * 64);
    BL_CHECK_ALLOC(buf);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t re = NULL;
    dnnl_memory_t a = NULL, b = NULL;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, uw, ex->engine, wmd, ex->engine, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&re, pd);
    if (s == dnnl_success) s = dnnl_memory_create(&a, uw, ex->engine, (void *)w);
    if (s == dnnl_success) s = dnnl_memory_create(&b, wmd, ex->engine, buf);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
        s = dnnl_primitive_execute(re, ex->stream, 2, args);
        if (s == dnnl_success) s = dnnl_stream_wait(ex->stream);
    }
    if (a) dnnl_memory_destroy(a);
    if (b) dnnl_memory_destroy(b);
    if (re) dnnl_primitive_destroy(re);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) {
        if (!pooled) free(buf);
        return BL_ERROR(BL_ERR_INTERNAL, "oneDNN weight reorder for Gemm failed (status %d)", (int)s);
    }
    ex->packed_bytes += (int64_t)wb;
    if (!p->packed_w) p->packed_w = buf, p->packed_md = *wmd;
    else it->own_w = buf;
    *out = buf;
    return BL_OK;
}

static bl_status build(bl_cpu_exec *ex, bl_cpu_step *st, int64_t m, ip_inst *it) {
    ip_priv *p = st->priv;
    const bl_tensor *b = bl_node_input(ex->g, st->node, 1);
    memset(it, 0, sizeof *it);
    it->m = m;
    it->threads = bl_cpu_serial(2.0 * (double)m * (double)p->N * (double)p->K, 4.0 * (double)p->N * (double)p->K)
                     ? 1 : ex->threads;
    if (bl_cpu_skinny_wanted(m, p->N, p->K)) {
        if (!p->skinny_w) {
            size_t nf = bl_cpu_skinny_packed_floats(p->N, p->K);
            p->skinny_w = bl_cpu_weights_alloc(ex, nf * sizeof(float));
            BL_CHECK_ALLOC(p->skinny_w);
            /* ONNX B: [N, K] with transB, else [K, N] */
            bl_cpu_skinny_pack(b->data, p->N, p->K, p->tb ? p->K : 1, p->tb ? 1 : p->N, p->skinny_w);
            ex->packed_bytes += (int64_t)(nf * sizeof(float));
        }
        ex->n_skinny++;
        it->skinny = true;
        it->scratch_bytes = (bl_cpu_skinny_panel_floats(m, p->K) + bl_cpu_skinny_part_floats(m, p->N, it->threads)) *
                            sizeof(float);
        BL_RETURN_IF(!bl_cpu_workspace(ex, it->scratch_bytes), BL_ERR_NOMEM, "out of memory for the workspace");
        return BL_OK;
    }
    dnnl_memory_desc_t src, dst, wany, uw, bmd;
    dnnl_dims_t sd = {m, p->K}, dd = {m, p->N}, wd = {p->N, p->K}, bd = {p->N};
    dnnl_memory_desc_init_by_tag(&src, 2, sd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&dst, 2, dd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&wany, 2, wd, dnnl_f32, dnnl_format_tag_any);
    /* ONNX B is [N, K] with transB, else [K, N]: oneDNN's weights [N, K] as ab or ba */
    dnnl_memory_desc_init_by_tag(&uw, 2, wd, dnnl_f32, p->tb ? dnnl_ab : dnnl_ba);
    dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);
    dnnl_inner_product_desc_t d;
    DNNL_TRY(dnnl_inner_product_forward_desc_init(&d, dnnl_forward_inference, &src, &wany, p->bias ? &bmd : NULL, &dst),
             "inner product descriptor");
    dnnl_primitive_attr_t attr;
    DNNL_TRY(dnnl_primitive_attr_create(&attr), "attr");
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (it->threads != ex->threads) omp_set_num_threads(it->threads);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dnnl_primitive_desc_create(&pd, &d, attr, ex->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    bl_status bs = BL_OK;
    if (s == dnnl_success) s = dnnl_primitive_create(&it->prim, pd);
    if (it->threads != ex->threads) omp_set_num_threads(ex->threads);
    if (s != dnnl_success) {
        if (pd) dnnl_primitive_desc_destroy(pd);
        return BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN has no inner product for this Gemm (status %d)", (int)s);
    }
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *scm = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (!dnnl_memory_desc_equal(smd, &src) || !dnnl_memory_desc_equal(dmd, &dst))
        bs = BL_ERROR(BL_ERR_UNSUPPORTED, "oneDNN inner product wants another activation layout");
    void *wbuf = NULL;
    if (bs == BL_OK) bs = pack(ex, p, it, b->data, &uw, wmd, &wbuf);
    if (bs == BL_OK) {
        dnnl_memory_create(&it->m_src, &src, ex->engine, DNNL_MEMORY_NONE);
        dnnl_memory_create(&it->m_dst, &dst, ex->engine, DNNL_MEMORY_NONE);
        dnnl_memory_create(&it->m_w, wmd, ex->engine, wbuf);
        if (p->bias) dnnl_memory_create(&it->m_b, &bmd, ex->engine, (void *)p->bias);
        it->scratch_bytes = scm ? dnnl_memory_desc_get_size(scm) : 0;
        if (it->scratch_bytes) dnnl_memory_create(&it->m_scratch, scm, ex->engine, DNNL_MEMORY_NONE);
        if (!bl_cpu_workspace(ex, it->scratch_bytes ? it->scratch_bytes : 64))
            bs = BL_ERROR(BL_ERR_NOMEM, "out of memory for the workspace");
    }
    dnnl_primitive_desc_destroy(pd);
    if (bs != BL_OK) destroy_inst(it);
    return bs;
}

static bl_status run_ip(bl_cpu_exec *ex, bl_cpu_step *st, int64_t n) {
    ip_priv *p = st->priv;
    const bl_node *nd = st->node;
    int64_t da[2];
    bl_cpu_dims(ex, nd->inputs[0], n, da);
    int64_t m = da[0];
    if (p->threads_gen != ex->threads_gen) {
        for (int i = 0; i < p->n_in; i++) destroy_inst(&p->in[i]);
        p->n_in = 0;
        p->threads_gen = ex->threads_gen;
    }
    ip_inst *it = NULL;
    for (int i = 0; i < p->n_in; i++)
        if (p->in[i].m == m) it = &p->in[i];
    if (!it) {
        if (p->n_in == IP_INST) { /* evict the oldest after the first */
            destroy_inst(&p->in[1]);
            memmove(&p->in[1], &p->in[2], (IP_INST - 2) * sizeof(ip_inst));
            p->n_in--;
        }
        BL_TRY(build(ex, st, m, &p->in[p->n_in]));
        it = &p->in[p->n_in++];
    }
    if (m == 0) return BL_OK;
    void *ws = bl_cpu_workspace(ex, it->scratch_bytes ? it->scratch_bytes : 64);
    BL_CHECK_ALLOC(ws);
    if (it->skinny) {
        float *xp = ws, *part = xp + bl_cpu_skinny_panel_floats(m, p->K);
        bl_cpu_skinny_panel(ex->ptr[nd->inputs[0]], m, p->K, p->K, xp);
        bl_cpu_skinny_gemm(xp, m, p->K, p->skinny_w, p->N, p->bias, ex->ptr[nd->outputs[0]], p->N, it->threads, part);
        return BL_OK;
    }
    dnnl_memory_set_data_handle(it->m_src, ex->ptr[nd->inputs[0]]);
    dnnl_memory_set_data_handle(it->m_dst, ex->ptr[nd->outputs[0]]);
    if (it->m_scratch) dnnl_memory_set_data_handle(it->m_scratch, ws);
    dnnl_exec_arg_t args[5];
    int na = 0;
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, it->m_src};
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, it->m_w};
    if (it->m_b) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, it->m_b};
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_DST, it->m_dst};
    if (it->m_scratch) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, it->m_scratch};
    if (it->threads != ex->threads) omp_set_num_threads(it->threads);
    dnnl_status_t s = dnnl_primitive_execute(it->prim, ex->stream, na, args);
    if (s == dnnl_success) s = dnnl_stream_wait(ex->stream);
    if (it->threads != ex->threads) omp_set_num_threads(ex->threads);
    BL_RETURN_IF(s != dnnl_success, BL_ERR_INTERNAL, "oneDNN inner product failed (status %d)", (int)s);
    return BL_OK;
}

bl_status bl_cpu_prepare_gemm_ip(bl_cpu_exec *ex, bl_cpu_step *st) {
    const bl_node *nd = st->node;
    const bl_tensor *b = bl_node_input(ex->g, nd, 1), *c = bl_node_input(ex->g, nd, 2);
    ip_priv *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    st->priv = p;
    st->destroy = ip_destroy;
    p->tb = bl_node_attr_int(nd, "transB", 0) != 0;
    p->N = p->tb ? b->dims[0] : b->dims[1];
    p->K = p->tb ? b->dims[1] : b->dims[0];
    p->bias = c && bl_node_attr_float(nd, "beta", 1.f) != 0.f ? c->data : NULL;
    p->threads_gen = ex->threads_gen;
    st->run = run_ip;
    /* build for the max batch now: shape problems surface at creation */
    int64_t da[2];
    bl_cpu_dims(ex, nd->inputs[0], ex->opts.max_batch, da);
    BL_TRY(build(ex, st, da[0], &p->in[0]));
    p->n_in = 1;
    return BL_OK;
}
