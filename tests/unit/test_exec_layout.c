/* test_exec_layout.c — the plain-C kernels on oneDNN layouts (models/cpu_layout.c) against
 * plain references.
 *
 * A [3, 20, 5, 7] tensor is reordered by oneDNN into NCHW, NHWC, nChw16c and nChw8c (20
 * channels: the blocked layouts carry padded lanes), and the per-channel scale [3, 20, 1, 1]
 * into plain and nChw16c. For each: bl_cpu_view_of must describe the layout (checked by
 * reading every element through the view), GlobalAveragePool must match the mean within
 * 1e-6 relative, and Add/Sub/Mul with and without ReLU must match exactly (one rounding,
 * as the reference) out of place, in place, and into a plain destination; padded lanes of
 * a blocked result must be zero. MaxPool (bl_cpu_maxpool_view) on the channel-lane layouts,
 * into the same layout, must match a plain reference exactly for strided, padded, dilated,
 * ceil-mode (windows past the input) and full-width windows, on one and two threads. A
 * layout with two blocks (weights-like) must be refused.
 */
#include <dnnl.h>   /* reorders into the layouts under test */
#include <math.h>   /* fabs */
#include <stdlib.h> /* malloc */
#include <string.h> /* memset */

#include "models/cpu_exec.h" /* bl_cpu_view_of, bl_cpu_gap_view, bl_cpu_chan_binary_view, bl_cpu_maxpool_view */
#include "testutil.h"

enum { N = 3, C = 20, H = 5, W = 7 };

static unsigned seed = 7;
static float rnd(void) {
    seed = seed * 1103515245u + 12345u;
    return (float)((seed >> 8) & 0xffff) / 32768.f - 1.f;
}

typedef struct {
    dnnl_engine_t eng;
    dnnl_stream_t st;
} ctx;

/* Reorder src (layout a) into dst (layout b); 0 on success. */
static int reorder(ctx *c, const dnnl_memory_desc_t *a, const void *src, const dnnl_memory_desc_t *b, void *dst) {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t p;
    dnnl_memory_t ma, mb;
    BL_REQUIRE(dnnl_reorder_primitive_desc_create(&pd, a, c->eng, b, c->eng, NULL) == dnnl_success, "reorder pd");
    BL_REQUIRE(dnnl_primitive_create(&p, pd) == dnnl_success, "reorder");
    dnnl_memory_create(&ma, a, c->eng, (void *)src);
    dnnl_memory_create(&mb, b, c->eng, dst);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, ma}, {DNNL_ARG_TO, mb}};
    BL_REQUIRE(dnnl_primitive_execute(p, c->st, 2, args) == dnnl_success, "reorder run");
    dnnl_stream_wait(c->st);
    dnnl_memory_destroy(ma), dnnl_memory_destroy(mb), dnnl_primitive_destroy(p), dnnl_primitive_desc_destroy(pd);
    return 0;
}

static float at(const float *x, const bl_cpu_view *v, int64_t n, int64_t ch, int64_t h, int64_t w) {
    int64_t off = v->off0 + n * v->sn + h * v->ss[1] + w * v->ss[2];
    off += v->cb > 1 ? (ch / v->cb) * v->sc + ch % v->cb : ch * v->sc;
    return x[off];
}

static float op_ref(bl_op op, float a, float s, bool relu) {
    float v = op == BL_OP_MUL ? a * s : op == BL_OP_ADD ? a + s : a - s;
    return relu && !(v > 0.f) ? 0.f : v;
}

/* MaxPool geometry: kernel, stride, dilation, left pad (h, w) and the output size. */
typedef struct {
    int kh, kw, sh, sw, dh, dw, ph, pw, oh, ow;
} pool_case;

static const pool_case POOLS[] = {
    {2, 2, 2, 2, 1, 1, 0, 0, 3, 4}, /* 2x2/2 in ceil mode: the last row's and column's windows run past */
    {2, 2, 2, 2, 1, 1, 0, 0, 2, 3}, /* 2x2/2, floor */
    {3, 3, 2, 2, 1, 1, 1, 1, 3, 4}, /* 3x3/2, pad 1 (resnet's stem pool) */
    {1, 7, 1, 7, 1, 1, 0, 0, 5, 1}, /* the whole width (a max over time) */
    {3, 2, 1, 1, 2, 1, 2, 0, 5, 6}, /* dilated rows, padded */
};

/* Plain reference of one pool case on x [N, C, H, W] into r [N, C, oh, ow]. */
static void maxpool_ref(const float *x, const pool_case *pc, float *r) {
    for (int nc = 0; nc < N * C; nc++)
        for (int oh = 0; oh < pc->oh; oh++)
            for (int ow = 0; ow < pc->ow; ow++) {
                float m = -INFINITY;
                for (int a = 0; a < pc->kh; a++)
                    for (int b = 0; b < pc->kw; b++) {
                        int ih = oh * pc->sh - pc->ph + a * pc->dh, iw = ow * pc->sw - pc->pw + b * pc->dw;
                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                        float v = x[(nc * H + ih) * W + iw];
                        m = v > m ? v : m;
                    }
                r[(nc * pc->oh + oh) * pc->ow + ow] = m;
            }
}

/* Every pool case on x laid out as md (in bx): the result in the same layout, back to plain,
 * equal to the reference. */
static int check_maxpool(ctx *c, const float *x, const float *bx, const bl_cpu_view *v, dnnl_format_tag_t tag,
                          const char *name, float *by, float *back) {
    for (size_t pi = 0; pi < sizeof POOLS / sizeof POOLS[0]; pi++) {
        const pool_case *pc = &POOLS[pi];
        float ref[N * C * H * W];
        maxpool_ref(x, pc, ref);
        dnnl_dims_t yd = {N, C, pc->oh, pc->ow};
        dnnl_memory_desc_t ymd, yplain;
        dnnl_memory_desc_init_by_tag(&ymd, 4, yd, dnnl_f32, tag);
        dnnl_memory_desc_init_by_tag(&yplain, 4, yd, dnnl_f32, dnnl_nchw);
        bl_cpu_view vy;
        BL_REQUIRE(bl_cpu_view_of(&ymd, &vy), "pool y view");
        int64_t k[3] = {1, pc->kh, pc->kw}, s[3] = {1, pc->sh, pc->sw}, d[3] = {1, pc->dh, pc->dw},
                p[3] = {0, pc->ph, pc->pw};
        for (int threads = 1; threads <= 2; threads++) {
            for (int i = 0; i < N * 32 * H * W; i++) by[i] = 12345.f; /* poison */
            bl_cpu_maxpool_view(bx, v, by, &vy, k, s, d, p, threads);
            BL_REQUIRE(reorder(c, &ymd, by, &yplain, back) == 0, "reorder");
            size_t wrong = 0;
            for (int i = 0; i < N * C * pc->oh * pc->ow; i++) wrong += back[i] != ref[i];
            BL_CHECK(wrong == 0, "%s: MaxPool case %zu: %zu wrong elements, %d threads", name, pi, wrong, threads);
            if (vy.cb > 1) { /* padded lanes stay zero */
                size_t nz = 0;
                for (int n = 0; n < N; n++)
                    for (int ch = C; ch < vy.Cp; ch++)
                        for (int q = 0; q < pc->oh * pc->ow; q++)
                            nz += by[vy.off0 + n * vy.sn + (ch / vy.cb) * vy.sc + q * vy.cb + ch % vy.cb] != 0.f;
                BL_CHECK(nz == 0, "%s: MaxPool case %zu: %zu padded lanes not zero", name, pi, nz);
            }
        }
    }
    return 0;
}

int main(void) {
    ctx c;
    BL_REQUIRE(dnnl_engine_create(&c.eng, dnnl_cpu, 0) == dnnl_success, "engine");
    dnnl_stream_create(&c.st, c.eng, dnnl_stream_default_flags);
    float x[N * C * H * W], s[N * C], ref_gap[N * C];
    for (int i = 0; i < N * C * H * W; i++) x[i] = rnd();
    for (int i = 0; i < N * C; i++) s[i] = rnd();
    for (int i = 0; i < N * C; i++) {
        double acc = 0;
        for (int p = 0; p < H * W; p++) acc += x[i * H * W + p];
        ref_gap[i] = (float)(acc / (H * W));
    }
    dnnl_dims_t xd = {N, C, H, W}, sd = {N, C, 1, 1};
    dnnl_memory_desc_t plain, splain;
    dnnl_memory_desc_init_by_tag(&plain, 4, xd, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&splain, 4, sd, dnnl_f32, dnnl_nchw);
    const dnnl_format_tag_t tags[] = {dnnl_nchw, dnnl_nhwc, dnnl_nChw16c, dnnl_nChw8c};
    const char *names[] = {"nchw", "nhwc", "nChw16c", "nChw8c"};
    const dnnl_format_tag_t stags[] = {dnnl_nchw, dnnl_nChw16c};
    const bl_op ops[] = {BL_OP_MUL, BL_OP_ADD, BL_OP_SUB};
    float *buf = malloc(4 * sizeof(float) * N * 32 * H * W); /* x, y and spare, padded */
    float *bx = buf, *by = buf + N * 32 * H * W, *back = buf + 2 * N * 32 * H * W;
    float sb[N * 32], gap[N * C];
    for (int li = 0; li < 4; li++) {
        dnnl_memory_desc_t md;
        dnnl_memory_desc_init_by_tag(&md, 4, xd, dnnl_f32, tags[li]);
        memset(bx, 0, sizeof(float) * N * 32 * H * W);
        BL_REQUIRE(reorder(&c, &plain, x, &md, bx) == 0, "reorder");
        bl_cpu_view v;
        BL_REQUIRE(bl_cpu_view_of(&md, &v), "%s: view refused", names[li]);
        size_t bad = 0;
        for (int n = 0; n < N; n++)
            for (int ch = 0; ch < C; ch++)
                for (int h = 0; h < H; h++)
                    for (int w = 0; w < W; w++)
                        bad += at(bx, &v, n, ch, h, w) != x[((n * C + ch) * H + h) * W + w];
        BL_CHECK(bad == 0, "%s: %zu elements misplaced by the view", names[li], bad);
        for (int threads = 1; threads <= 2; threads++) {
            bl_cpu_gap_view(bx, &v, gap, threads);
            double worst = 0;
            for (int i = 0; i < N * C; i++) {
                double e = fabs(gap[i] - ref_gap[i]) / (fabs(ref_gap[i]) + 1e-3);
                worst = e > worst ? e : worst;
            }
            BL_CHECK(worst <= 1e-6, "%s: GlobalAveragePool off by %.3g (relative), %d threads", names[li], worst,
                     threads);
        }
        if (v.cb != 0) BL_REQUIRE(check_maxpool(&c, x, bx, &v, tags[li], names[li], by, back) == 0, "maxpool");
        for (int si = 0; si < 2; si++) {
            dnnl_memory_desc_t smd;
            dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, stags[si]);
            memset(sb, 0, sizeof sb);
            BL_REQUIRE(reorder(&c, &splain, s, &smd, sb) == 0, "reorder");
            bl_cpu_view vs;
            BL_REQUIRE(bl_cpu_view_of(&smd, &vs), "scale view refused");
            for (int oi = 0; oi < 3; oi++)
                for (int relu = 0; relu <= 1; relu++)
                    for (int mode = 0; mode < 3; mode++) { /* out of place, in place, plain destination */
                        const dnnl_memory_desc_t *ymd = mode == 2 ? &plain : &md;
                        bl_cpu_view vy;
                        BL_REQUIRE(bl_cpu_view_of(ymd, &vy), "y view");
                        float *src = bx;
                        if (mode == 1) { /* a fresh copy to overwrite */
                            memcpy(by, bx, sizeof(float) * N * 32 * H * W);
                            src = by;
                        } else {
                            for (int i = 0; i < N * 32 * H * W; i++) by[i] = 12345.f; /* poison */
                        }
                        bl_cpu_chan_binary_view(ops[oi], src, &v, sb, &vs, by, &vy, relu, 1 + (mode & 1));
                        BL_REQUIRE(reorder(&c, ymd, by, &plain, back) == 0, "reorder");
                        size_t wrong = 0;
                        for (int i = 0; i < N * C * H * W; i++)
                            wrong += back[i] != op_ref(ops[oi], x[i], s[i / (H * W)], relu);
                        BL_CHECK(wrong == 0, "%s, scale %s, %s relu %d mode %d: %zu wrong elements", names[li],
                                 stags[si] == dnnl_nchw ? "plain" : "blocked", bl_op_name(ops[oi]), relu, mode, wrong);
                        if (vy.cb > 1 && mode != 2) { /* padded lanes: channels 20..Cp-1 */
                            size_t nz = 0;
                            for (int n = 0; n < N; n++)
                                for (int ch = C; ch < vy.Cp; ch++)
                                    for (int p = 0; p < H * W; p++)
                                        nz += by[vy.off0 + n * vy.sn + (ch / vy.cb) * vy.sc + p * vy.cb + ch % vy.cb] != 0.f;
                            BL_CHECK(nz == 0, "%s: %zu padded lanes not zero", names[li], nz);
                        }
                    }
        }
    }
    /* weights-like layout with two blocks: not an activation view */
    dnnl_dims_t wd = {32, 32, 3, 3};
    dnnl_memory_desc_t wmd;
    dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dnnl_f32, dnnl_OIhw16i16o);
    bl_cpu_view vw;
    BL_CHECK(!bl_cpu_view_of(&wmd, &vw), "a two-block layout was accepted as a view");
    free(buf);
    dnnl_stream_destroy(c.st);
    dnnl_engine_destroy(c.eng);
    return bl_test_finish("test_exec_layout");
}
