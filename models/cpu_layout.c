/* cpu_layout.c — plain-C kernels that read and write oneDNN activation layouts directly.
 *
 * Defines bl_cpu_view_of (a oneDNN f32 layout as strides: plain, channels-last or one channel
 * block, e.g. nChw16c), bl_cpu_gap_view (GlobalAveragePool of such a tensor into a plain
 * [N, C] buffer) and bl_cpu_chan_binary_view (x op s[n, c], the per-channel Add/Sub/Mul of
 * squeeze-excitation blocks, with an optional ReLU) and bl_cpu_maxpool_view (MaxPool on a
 * channel-blocked or channels-last tensor, into the same layout; on a plain one too, for the
 * executor's reference mode, which re-runs items with non-finite inputs, exec_cpu.c).
 *
 * NaN: a NaN tap makes its MaxPool window NaN and ReLU keeps NaN, as ONNX says (oneDNN's
 * pooling and ReLU post-op drop it); sums carry it by themselves.
 *
 * Why: oneDNN 2.6's pooling and binary primitives are slow for these two shapes. A
 * GlobalAveragePool of a small map in a channel-blocked layout runs its jit kernel once per
 * (image, channel block) (measured 0.81 ms for 8x1152x2x5 where the data takes 0.05 ms to
 * read), and the per-channel binary on a channels-last tensor with few channels falls back
 * to a per-pixel loop (0.35 ms for 1x32x32x80 against 0.08 ms blocked). Both are memory-bound
 * loops that the compiler vectorises along the innermost (channel-block or channel) axis.
 * oneDNN's max pooling spends 16 us on whalecall-small's first 2x2 pool (8 channels
 * channels-last, 64x96 -> 32x48, 0.2 MB) where the loop below takes 5.
 * Sums are accumulated in float per channel, in a fixed order: results do not depend on the
 * thread count.
 *
 * Owns nothing. Threading: OpenMP over images × channel groups when `threads` > 1.
 */
#include <math.h>   /* INFINITY */
#include <string.h> /* memset */

#include "core/cpu_isa.h"    /* bl_cpu_has_avx2, bl_cpu_has_avx512f */
#include "models/cpu_exec.h" /* bl_cpu_view, declarations */

bool bl_cpu_view_of(const dnnl_memory_desc_t *md, bl_cpu_view *v) {
    memset(v, 0, sizeof *v);
    if (!md || md->data_type != dnnl_f32 || md->format_kind != dnnl_blocked || md->extra.flags) return false;
    if (md->ndims < 3 || md->ndims > 5) return false;
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    v->cb = 1;
    if (b->inner_nblks == 1 && b->inner_idxs[0] == 1) v->cb = (int)b->inner_blks[0];
    else if (b->inner_nblks != 0) return false;
    for (int i = 0; i < md->ndims; i++)
        if (md->padded_offsets[i]) return false;
    for (int i = 2; i < md->ndims; i++)
        if (md->padded_dims[i] != md->dims[i]) return false;
    v->nsp = md->ndims - 2;
    v->N = md->dims[0], v->C = md->dims[1], v->Cp = md->padded_dims[1];
    v->sn = b->strides[0], v->sc = b->strides[1];
    v->S = 1;
    for (int i = 0; i < 3; i++) v->sdim[i] = 1, v->ss[i] = 0;
    for (int i = 0; i < v->nsp; i++) {
        v->sdim[3 - v->nsp + i] = md->dims[2 + i];
        v->ss[3 - v->nsp + i] = b->strides[2 + i];
        v->S *= md->dims[2 + i];
    }
    v->off0 = md->offset0;
    /* the lanes of one channel group are contiguous: a channel block, or channels-last */
    if (v->cb == 1 && v->sc != 1) v->cb = 0; /* channel-major (plain NCHW-like) */
    return true;
}

/* Lanes per channel group and the groups per image: a block of cb channels, all channels
 * when they are the innermost axis (cb == 1 and stride 1), or one channel per group when
 * they are channel-major (cb == 0: only MaxPool asks, see bl_cpu_maxpool_view). */
static void groups_of(const bl_cpu_view *v, int64_t *lanes, int64_t *ngroups) {
    if (v->cb > 1) *lanes = v->cb, *ngroups = v->Cp / v->cb;
    else if (v->cb == 0) *lanes = 1, *ngroups = v->C;
    else *lanes = v->C, *ngroups = 1;
}

/* Offset of channel group gidx within an image: a channel-last tensor has one group. */
static inline int64_t group_off(const bl_cpu_view *v, int64_t gidx) { return v->cb == 1 ? 0 : gidx * v->sc; }

/* Contiguous fast paths: a channel group's pixels one after another, `lanes` floats each
 * (nChw16c, nChw8c, channels-last). The bodies are compiled for AVX-512 and AVX2 as well
 * (the build targets baseline x86-64); single adds and multiplies only, so every version
 * gives the same bits. */
static inline __attribute__((always_inline)) void gap_rows_body(const float *x, int64_t S, int64_t L, float *acc) {
    for (int64_t p = 0; p < S; p++) {
        const float *px = x + p * L;
#pragma omp simd
        for (int64_t l = 0; l < L; l++) acc[l] += px[l];
    }
}

/* One pixel's L channels: py = px op sv, then ReLU when asked. omp simd: no dependence
 * between lanes (py may be px, element for element). */
static inline __attribute__((always_inline)) void chan_pixel(bl_op op, bool relu, const float *px, float *py,
                                                             const float *sv, int64_t L) {
    if (op == BL_OP_MUL) {
#pragma omp simd
        for (int64_t l = 0; l < L; l++) py[l] = px[l] * sv[l];
    } else if (op == BL_OP_ADD) {
#pragma omp simd
        for (int64_t l = 0; l < L; l++) py[l] = px[l] + sv[l];
    } else {
#pragma omp simd
        for (int64_t l = 0; l < L; l++) py[l] = px[l] - sv[l];
    }
    if (relu) { /* NaN stays NaN (ONNX Relu); -0 becomes +0, as oneDNN's ReLU gives */
#pragma omp simd
        for (int64_t l = 0; l < L; l++) py[l] = py[l] <= 0.f ? 0.f : py[l];
    }
}

static inline __attribute__((always_inline)) void chan_rows_body(bl_op op, bool relu, const float *x, float *y,
                                                                 const float *sv, int64_t S, int64_t L) {
    for (int64_t p = 0; p < S; p++) chan_pixel(op, relu, x + p * L, y + p * L, sv, L);
}

/* constant lane counts let the compiler keep a block in registers */
#define LANES_DISPATCH(call, L) \
    do {                         \
        if ((L) == 16) call(16); \
        else if ((L) == 8) call(8); \
        else call(L);            \
    } while (0)
#define GAP_CALL(L) gap_rows_body(x, S, L, acc)
#define CHAN_CALL(L) chan_rows_body(op, relu, x, y, sv, S, L)

static void gap_rows(const float *x, int64_t S, int64_t lanes, float *acc) { LANES_DISPATCH(GAP_CALL, lanes); }
static void chan_rows(bl_op op, bool relu, const float *x, float *y, const float *sv, int64_t S, int64_t lanes) {
    LANES_DISPATCH(CHAN_CALL, lanes);
}
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define HAVE_X86 1
__attribute__((target("avx2"))) static void gap_rows_avx2(const float *x, int64_t S, int64_t lanes, float *acc) {
    LANES_DISPATCH(GAP_CALL, lanes);
}
__attribute__((target("avx512f"))) static void gap_rows_avx512(const float *x, int64_t S, int64_t lanes, float *acc) {
    LANES_DISPATCH(GAP_CALL, lanes);
}
__attribute__((target("avx2"))) static void chan_rows_avx2(bl_op op, bool relu, const float *x, float *y,
                                                           const float *sv, int64_t S, int64_t lanes) {
    LANES_DISPATCH(CHAN_CALL, lanes);
}
__attribute__((target("avx512f"))) static void chan_rows_avx512(bl_op op, bool relu, const float *x, float *y,
                                                               const float *sv, int64_t S, int64_t lanes) {
    LANES_DISPATCH(CHAN_CALL, lanes);
}
#endif

/* max(m, v) where a NaN on either side wins: ONNX (and ONNX Runtime) propagate NaN through
 * MaxPool, where `v > m ? v : m` alone (vmaxps) drops a NaN tap. That keeps a NaN m, and the
 * second select lets a NaN v in: a compare and a masked vmaxps per vector. Written
 * as one `(v != v || v > m)` select it took 7.3 us instead of 5.3 on whalecall-small's first
 * pool (one thread); this form, with AVX-512VL masks for its 8-lane rows, takes 5.4 (16-lane
 * blocks: 2.4 us instead of 2.2). */
static inline __attribute__((always_inline)) float max_nan(float m, float v) {
    float t = v > m ? v : m;
    return v != v ? v : t;
}

/* One output row of a max pool: OW pixels of L lanes, window rows at xg + rowoff[r], taps
 * along the row from iw = ow*sw - pw in steps of dw, those outside [0, IW) skipped. Tap by
 * tap over the whole row (a max into the row, which stays in L1): each pass is a branch-free
 * strided loop (whalecall-small's first pool: 16 cycles per output pixel pixel by pixel,
 * where the taps' bounds checks and the short lane loops dominated). */
static inline __attribute__((always_inline)) void maxrow_body(const float *xg, const int64_t *rowoff, int nrow,
                                                              int64_t IW, int64_t xsw, int64_t kw, int64_t sw,
                                                              int64_t dw, int64_t pw, float *yr, int64_t ysw,
                                                              int64_t OW, int64_t L) {
    for (int64_t ow = 0; ow < OW; ow++) {
        float *py = yr + ow * ysw;
#pragma omp simd
        for (int64_t l = 0; l < L; l++) py[l] = -INFINITY;
    }
    for (int64_t t = 0; t < kw; t++) {
        /* output pixels whose tap t lies inside: 0 <= ow*sw + t*dw - pw < IW */
        int64_t first = pw - t * dw, lo = first <= 0 ? 0 : (first + sw - 1) / sw;
        int64_t last = IW - 1 + pw - t * dw, hi = last < 0 ? 0 : last / sw + 1;
        if (hi > OW) hi = OW;
        for (int r = 0; r < nrow; r++) {
            const float *xr = xg + rowoff[r] + (t * dw - pw) * xsw;
            for (int64_t ow = lo; ow < hi; ow++) {
                const float *px = xr + ow * sw * xsw;
                float *py = yr + ow * ysw;
#pragma omp simd
                for (int64_t l = 0; l < L; l++) py[l] = max_nan(py[l], px[l]);
            }
        }
    }
}
#define MAXROW_CALL(L) maxrow_body(xg, rowoff, nrow, IW, xsw, kw, sw, dw, pw, yr, ysw, OW, L)
#define MAXROW_ARGS                                                                                          \
    const float *xg, const int64_t *rowoff, int nrow, int64_t IW, int64_t xsw, int64_t kw, int64_t sw, \
        int64_t dw, int64_t pw, float *yr, int64_t ysw, int64_t OW, int64_t lanes
static void maxrow(MAXROW_ARGS) { LANES_DISPATCH(MAXROW_CALL, lanes); }
#ifdef HAVE_X86
__attribute__((target("avx2"))) static void maxrow_avx2(MAXROW_ARGS) { LANES_DISPATCH(MAXROW_CALL, lanes); }
/* with VL: 8-lane rows (channels-last, 8 channels) select through mask registers too */
__attribute__((target("avx512f,avx512vl"))) static void maxrow_avx512(MAXROW_ARGS) { LANES_DISPATCH(MAXROW_CALL, lanes); }
#endif

/* 2: AVX-512F, 1: AVX2, 0: baseline */
static int isa_level(void) {
#ifdef HAVE_X86
    if (bl_cpu_has_avx512f()) return 2;
    if (bl_cpu_has_avx2()) return 1;
#endif
    return 0;
}

static void gap_rows_isa(int isa, const float *x, int64_t S, int64_t lanes, float *acc) {
#ifdef HAVE_X86
    if (isa == 2) return gap_rows_avx512(x, S, lanes, acc);
    if (isa == 1) return gap_rows_avx2(x, S, lanes, acc);
#endif
    (void)isa;
    gap_rows(x, S, lanes, acc);
}

static void chan_rows_isa(int isa, bl_op op, bool relu, const float *x, float *y, const float *sv, int64_t S,
                          int64_t lanes) {
#ifdef HAVE_X86
    if (isa == 2) return chan_rows_avx512(op, relu, x, y, sv, S, lanes);
    if (isa == 1) return chan_rows_avx2(op, relu, x, y, sv, S, lanes);
#endif
    (void)isa;
    chan_rows(op, relu, x, y, sv, S, lanes);
}

/* Whether a group's pixels follow one another at `lanes` floats each. */
static bool contiguous(const bl_cpu_view *v, int64_t lanes) {
    int64_t want = lanes;
    for (int i = 2; i >= 0; i--) {
        if (v->sdim[i] == 1) continue; /* a dim of one pixel has no stride to follow */
        if (v->ss[i] != want) return false;
        want *= v->sdim[i];
    }
    return true;
}

void bl_cpu_gap_view(const float *x, const bl_cpu_view *v, float *y, int threads) {
    const float inv = 1.f / (float)v->S;
    if (v->cb == 0) { /* channel-major: each channel's pixels are the inner loop */
        int64_t nc = v->N * v->C;
#pragma omp parallel for num_threads(threads) if (threads > 1)
        for (int64_t i = 0; i < nc; i++) {
            int64_t n = i / v->C, c = i % v->C;
            const float *xc = x + v->off0 + n * v->sn + c * v->sc;
            float acc = 0.f;
            for (int64_t a = 0; a < v->sdim[0]; a++)
                for (int64_t b = 0; b < v->sdim[1]; b++) {
                    const float *row = xc + a * v->ss[0] + b * v->ss[1];
                    for (int64_t d = 0; d < v->sdim[2]; d++) acc += row[d * v->ss[2]];
                }
            y[i] = acc * inv;
        }
        return;
    }
    int64_t lanes, ng;
    groups_of(v, &lanes, &ng);
    int64_t work = v->N * ng;
    bool fast = contiguous(v, lanes);
    int isa = isa_level();
#pragma omp parallel for num_threads(threads) if (threads > 1)
    for (int64_t i = 0; i < work; i++) {
        int64_t n = i / ng, gidx = i % ng;
        int64_t c0 = v->cb > 1 ? gidx * v->cb : 0;
        const float *xg = x + v->off0 + n * v->sn + (v->cb > 1 ? gidx * v->sc : 0);
        float acc[lanes > 0 ? lanes : 1];
        for (int64_t l = 0; l < lanes; l++) acc[l] = 0.f;
        if (fast) gap_rows_isa(isa, xg, v->S, lanes, acc);
        else
        for (int64_t a = 0; a < v->sdim[0]; a++)
            for (int64_t b = 0; b < v->sdim[1]; b++)
                for (int64_t d = 0; d < v->sdim[2]; d++) {
                    const float *px = xg + a * v->ss[0] + b * v->ss[1] + d * v->ss[2];
#pragma omp simd
                    for (int64_t l = 0; l < lanes; l++) acc[l] += px[l];
                }
        int64_t nl = c0 + lanes <= v->C ? lanes : v->C - c0;
        for (int64_t l = 0; l < nl; l++) y[n * v->C + c0 + l] = acc[l] * inv;
    }
}

/* s[n, c] of a per-channel operand [N, C, 1, ...] in its view. */
static inline float chan_at(const float *s, const bl_cpu_view *vs, int64_t n, int64_t c) {
    int64_t cb = vs->cb > 1 ? vs->cb : 1;
    int64_t off = vs->cb > 1 ? (c / cb) * vs->sc + c % cb : c * vs->sc;
    return s[vs->off0 + n * vs->sn + off];
}

void bl_cpu_chan_binary_view(bl_op op, const float *x, const bl_cpu_view *vx, const float *s,
                             const bl_cpu_view *vs, float *y, const bl_cpu_view *vy, bool relu, int threads) {
    /* x and y share the shape; y may be x. Lanes run along x's contiguous channel axis when
     * y has the same layout (the usual case); otherwise one element at a time. */
    bool same = vx->cb == vy->cb && vx->sn == vy->sn && vx->sc == vy->sc && vx->Cp == vy->Cp &&
                !memcmp(vx->ss, vy->ss, sizeof vx->ss);
    int64_t N = vx->N, C = vx->C;
    if (same && vx->cb != 0) {
        int64_t lanes, ng;
        groups_of(vx, &lanes, &ng);
        int64_t work = N * ng;
        bool fast = contiguous(vx, lanes);
        int isa = isa_level();
#pragma omp parallel for num_threads(threads) if (threads > 1)
        for (int64_t i = 0; i < work; i++) {
            int64_t n = i / ng, gidx = i % ng;
            int64_t c0 = vx->cb > 1 ? gidx * vx->cb : 0, goff = n * vx->sn + (vx->cb > 1 ? gidx * vx->sc : 0);
            const float *xg = x + vx->off0 + goff;
            float *yg = y + vy->off0 + goff;
            float sv[lanes > 0 ? lanes : 1];
            int64_t nl = c0 + lanes <= C ? lanes : C - c0; /* lanes past C: a block's padding */
            for (int64_t l = 0; l < lanes; l++) sv[l] = l < nl ? chan_at(s, vs, n, c0 + l) : 0.f;
            if (fast) {
                chan_rows_isa(isa, op, relu, xg, yg, sv, vx->S, lanes);
                /* the padding of a channel block stays zero, as oneDNN expects */
                for (int64_t p = 0; nl < lanes && p < vx->S; p++)
                    for (int64_t l = nl; l < lanes; l++) yg[p * lanes + l] = 0.f;
                continue;
            }
            for (int64_t a = 0; a < vx->sdim[0]; a++)
                for (int64_t b = 0; b < vx->sdim[1]; b++)
                    for (int64_t d = 0; d < vx->sdim[2]; d++) {
                        int64_t po = a * vx->ss[0] + b * vx->ss[1] + d * vx->ss[2];
                        float *py = yg + po;
                        chan_pixel(op, relu, xg + po, py, sv, lanes);
                        /* the padding of a channel block stays zero, as oneDNN expects */
                        for (int64_t l = nl; l < lanes; l++) py[l] = 0.f;
                    }
        }
        return;
    }
    int64_t nc = N * (vy->cb > 1 ? vy->Cp : C);
    int64_t Cy = vy->cb > 1 ? vy->Cp : C;
#pragma omp parallel for num_threads(threads) if (threads > 1)
    for (int64_t i = 0; i < nc; i++) {
        int64_t n = i / Cy, c = i % Cy;
        bool in = c < C;
        float sv = in ? chan_at(s, vs, n, c) : 0.f;
        int64_t ycb = vy->cb > 1 ? vy->cb : 1, xcb = vx->cb > 1 ? vx->cb : 1;
        const float *xc = x + vx->off0 + n * vx->sn + (vx->cb > 1 ? (c / xcb) * vx->sc + c % xcb : c * vx->sc);
        float *yc = y + vy->off0 + n * vy->sn + (vy->cb > 1 ? (c / ycb) * vy->sc + c % ycb : c * vy->sc);
        for (int64_t a = 0; a < vx->sdim[0]; a++)
            for (int64_t b = 0; b < vx->sdim[1]; b++)
                for (int64_t d = 0; d < vx->sdim[2]; d++) {
                    float v = 0.f;
                    if (in) {
                        float xv = xc[a * vx->ss[0] + b * vx->ss[1] + d * vx->ss[2]];
                        v = op == BL_OP_MUL ? xv * sv : op == BL_OP_ADD ? xv + sv : xv - sv;
                        if (relu && v < 0.f) v = 0.f;
                    }
                    yc[a * vy->ss[0] + b * vy->ss[1] + d * vy->ss[2]] = v;
                }
    }
}

void bl_cpu_maxpool_view(const float *x, const bl_cpu_view *vx, float *y, const bl_cpu_view *vy, const int64_t *k,
                         const int64_t *s, const int64_t *d, const int64_t *p, int threads) {
    int64_t lanes, ng;
    groups_of(vx, &lanes, &ng);
    int64_t OD = vy->sdim[0], OH = vy->sdim[1], OW = vy->sdim[2];
    int64_t rows = vx->N * ng * OD * OH;
    int isa = isa_level();
#ifdef HAVE_X86
    if (isa == 2 && !__builtin_cpu_supports("avx512vl")) isa = 1; /* maxrow_avx512 needs VL */
#endif
#pragma omp parallel for num_threads(threads) if (threads > 1)
    for (int64_t i = 0; i < rows; i++) {
        int64_t oh = i % OH, od = i / OH % OD, gidx = i / (OH * OD) % ng, n = i / (OH * OD * ng);
        int64_t goff_x = n * vx->sn + group_off(vx, gidx);
        int64_t goff_y = n * vy->sn + group_off(vy, gidx);
        /* the window's rows (depth x height taps) inside the input */
        int64_t rowoff[k[0] * k[1]];
        int nrow = 0;
        for (int64_t a = 0; a < k[0]; a++) {
            int64_t id = od * s[0] - p[0] + a * d[0];
            if (id < 0 || id >= vx->sdim[0]) continue;
            for (int64_t b = 0; b < k[1]; b++) {
                int64_t ih = oh * s[1] - p[1] + b * d[1];
                if (ih < 0 || ih >= vx->sdim[1]) continue;
                rowoff[nrow++] = id * vx->ss[0] + ih * vx->ss[1];
            }
        }
        const float *xg = x + vx->off0 + goff_x;
        float *yr = y + vy->off0 + goff_y + od * vy->ss[0] + oh * vy->ss[1];
        int64_t IW = vx->sdim[2], xsw = vx->ss[2], ysw = vy->ss[2];
#ifdef HAVE_X86
        if (isa == 2) {
            maxrow_avx512(xg, rowoff, nrow, IW, xsw, k[2], s[2], d[2], p[2], yr, ysw, OW, lanes);
            continue;
        }
        if (isa == 1) {
            maxrow_avx2(xg, rowoff, nrow, IW, xsw, k[2], s[2], d[2], p[2], yr, ysw, OW, lanes);
            continue;
        }
#endif
        (void)isa;
        maxrow(xg, rowoff, nrow, IW, xsw, k[2], s[2], d[2], p[2], yr, ysw, OW, lanes);
    }
}
