/* frontend.c — the CPU front end (see frontend.h): parameter defaults and validation, the
 * plan (window, mel matrix and its sparse band list), and the streaming framer.
 *
 * Owns: a bl_frontend owns its window and mel matrices and, when n_fft is a power of two,
 * the batched FFT plan (core/fft.h; read-only, shared by all streams); a bl_fe_stream owns
 * its sample buffer, reflect-padding head/tail copies, PCEN state, worker pool and scratch
 * per worker: lane buffers for the batched FFT, or one KissFFT config for other lengths
 * (kiss_fftr writes into its config's scratch, so configs are never shared between threads).
 *
 * FFT: power-of-two n_fft goes through bl_rfft_lanes_power (the FFT and |X|^2 in one pass),
 * BL_RFFT_LANES (16) frames per batch, one frame per lane; a batch that is not full has its
 * spare lanes zeroed. Lanes never mix (fft.h), so a frame's bits do not depend on the batch
 * it lands in, and output stays bit-identical whatever the push sizes and thread counts.
 * Other even lengths use KissFFT, one frame at a time. Power, mel and log/db compression
 * run on the lane layout too (vectorised across frames; AVX-512, AVX2 or baseline builds of
 * one body), with the same float operations in the same order per frame as the
 * single-frame code (and as kernels/frontend.cu's power_mel and compress kernels):
 * p = re*re + im*im (sqrtf / powf for other powers), then acc += p * w over each band's
 * bins in increasing order, then core/fastlog.h's logarithm; bl_rfft_unload transposes the
 * result to [frame][mel].
 *
 * Threading: a plan is immutable once built and may be shared. A stream is driven by one
 * thread at a time; within a push its frames are computed by its pool's workers, each frame
 * by exactly the same code and data whichever worker runs it, so output bytes do not
 * depend on the thread count. PCEN then runs over the new frames in time order on the
 * calling thread.
 *
 * How a stream works: it keeps the *padded* signal (the n_fft/2 left pad for center=true,
 * the samples, the right pad at finish) from the start of the next frame onward. Frame f
 * covers padded samples [f*hop, f*hop + n_fft). Reflect padding needs samples 1..n_fft/2
 * before the first frame can start, so those are held in `head` until they have all
 * arrived; the right pad is built at finish from a copy of the last n_fft/2+1 samples.
 * A large push is not copied whole: frames lying entirely inside the caller's block are
 * computed from it in place (fe_feed), and only the samples later frames need are kept.
 */
#include "frontend.h"

#include <kissfft/kiss_fftr.h> /* real FFT for non-power-of-two n_fft (BSD, kissfft-float) */
#include <limits.h>            /* INT_MAX */
#include <math.h>              /* cos, pow, powf, sqrtf */
#include <stdint.h>            /* uint64_t sample positions */
#include <stdlib.h>            /* malloc, free */
#include <string.h>            /* memcpy, memmove */

#include "fastlog.h"    /* bl_fast_logf: log/db compression, the same bits as the kernels */
#include "fft.h"        /* batched real FFT for power-of-two n_fft */
#include "log.h"        /* warning for empty mel bands */
#include "mel.h"        /* the torchaudio filterbank */
#include "threadpool.h" /* frames of one push over workers */

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Largest sizes we accept: far above any sensible front end, small enough that every
 * product of them fits comfortably in size_t and int. */
#define BL_FE_MAX_NFFT (1 << 20)
#define BL_FE_MAX_MELS 4096
/* A push is processed in pieces of at most this many frames' worth of samples, so the
 * buffer stays bounded (n_fft + piece) whatever the push size. Each piece is one parallel
 * run of the pool (32 batches of 16 frames): enough per worker to hide the wake-up, and
 * small enough (hop 300: 600 KB of samples) that the FFT reads them back from cache. */
#define BL_FE_PIECE_FRAMES 512

void bl_frontend_params_default(bl_frontend_params *p) {
    memset(p, 0, sizeof *p);
    p->sample_rate = 16000;
    p->n_fft = 1024;
    p->win_length = 1024;
    p->hop_length = 300;
    p->window = BL_WINDOW_HANN;
    p->center = true;
    p->pad_mode = BL_PAD_REFLECT;
    p->power = 2.0;
    p->mel.n_mels = 64;
    p->mel.fmin = 0.0;
    p->mel.fmax = 8000.0;
    p->mel.scale = BL_MEL_SLANEY;
    p->mel.norm = BL_MELNORM_SLANEY;
    p->compression.type = BL_COMP_LOG;
    p->compression.eps = 1e-6;
    p->compression.amin = 1e-10;
    /* PCEN defaults are librosa's (gain 0.98, bias 2, power 0.5, time constant 0.4 s). */
    p->compression.alpha = 0.98;
    p->compression.delta = 2.0;
    p->compression.r = 0.5;
    p->compression.time_constant = 0.4;
}

#define FE_CHECK(cond, ...) BL_RETURN_IF(!(cond), BL_ERR_CONFIG, __VA_ARGS__)

bl_status bl_frontend_params_validate(const bl_frontend_params *p) {
    BL_RETURN_IF(!p, BL_ERR_INVALID_ARG, "frontend: no parameters");
    FE_CHECK(p->sample_rate > 0 && p->sample_rate <= 1000000,
             "frontend.sample_rate must be in 1..1000000 Hz (got %d)", p->sample_rate);
    FE_CHECK(p->n_fft >= 2 && p->n_fft <= BL_FE_MAX_NFFT && p->n_fft % 2 == 0,
             "frontend.n_fft must be even and in 2..%d (got %d); powers of two are fastest",
             BL_FE_MAX_NFFT, p->n_fft);
    FE_CHECK(p->win_length >= 0 && p->win_length <= p->n_fft,
             "frontend.win_length must be in 1..n_fft (%d), or 0 for n_fft (got %d)", p->n_fft,
             p->win_length);
    FE_CHECK(p->hop_length > 0 && p->hop_length <= BL_FE_MAX_NFFT,
             "frontend.hop_length must be in 1..%d (got %d)", BL_FE_MAX_NFFT, p->hop_length);
    FE_CHECK(p->window == BL_WINDOW_HANN, "frontend.window must be hann");
    FE_CHECK(p->pad_mode == BL_PAD_CONSTANT || p->pad_mode == BL_PAD_REFLECT,
             "frontend.pad_mode must be constant or reflect");
    FE_CHECK(p->power > 0.0 && p->power <= 16.0, "frontend.power must be in (0, 16] (got %g)",
             p->power);
    FE_CHECK(p->mel.n_mels > 0 && p->mel.n_mels <= BL_FE_MAX_MELS,
             "frontend.n_mels must be in 1..%d (got %d)", BL_FE_MAX_MELS, p->mel.n_mels);
    FE_CHECK(p->mel.scale == BL_MEL_SLANEY || p->mel.scale == BL_MEL_HTK,
             "frontend.mel_scale must be slaney or htk");
    FE_CHECK(p->mel.norm == BL_MELNORM_NONE || p->mel.norm == BL_MELNORM_SLANEY,
             "frontend.mel_norm must be slaney or none");
    double nyq = p->sample_rate / 2.0;
    double fmax = p->mel.fmax > 0 ? p->mel.fmax : nyq;
    FE_CHECK(p->mel.fmin >= 0.0 && isfinite(p->mel.fmin), "frontend.fmin must be >= 0 (got %g)",
             p->mel.fmin);
    FE_CHECK(fmax <= nyq, "frontend.fmax (%g Hz) must not exceed sample_rate/2 (%g Hz); use 0 "
             "for sample_rate/2", fmax, nyq);
    FE_CHECK(p->mel.fmin < fmax, "frontend.fmin (%g Hz) must be below fmax (%g Hz)", p->mel.fmin,
             fmax);
    const bl_comp_params *c = &p->compression;
    switch (c->type) {
    case BL_COMP_LOG:
        FE_CHECK(c->eps > 0.0 && isfinite(c->eps), "frontend.compression.eps must be > 0 for log "
                 "(got %g)", c->eps);
        break;
    case BL_COMP_DB:
        FE_CHECK(c->amin > 0.0 && isfinite(c->amin), "frontend.compression.amin must be > 0 for "
                 "db (got %g)", c->amin);
        break;
    case BL_COMP_PCEN:
        FE_CHECK(c->eps > 0.0 && isfinite(c->eps), "frontend.compression.eps must be > 0 for "
                 "pcen (got %g)", c->eps);
        FE_CHECK(c->alpha >= 0.0 && c->alpha <= 1.0, "frontend.compression.alpha must be in "
                 "[0, 1] (got %g)", c->alpha);
        FE_CHECK(c->delta >= 0.0 && isfinite(c->delta), "frontend.compression.delta must be >= 0 "
                 "(got %g)", c->delta);
        FE_CHECK(c->r > 0.0 && c->r <= 1.0, "frontend.compression.r must be in (0, 1] (got %g)",
                 c->r);
        FE_CHECK(c->time_constant > 0.0 && isfinite(c->time_constant),
                 "frontend.compression.time_constant must be > 0 seconds (got %g)",
                 c->time_constant);
        break;
    case BL_COMP_NONE:
        break;
    default:
        return BL_ERROR(BL_ERR_CONFIG, "frontend.compression.type must be log, db, pcen or none");
    }
    return BL_OK;
}

/* ---- the plan ---------------------------------------------------------------------- */

struct bl_frontend {
    bl_frontend_params p; /* fmax and win_length resolved */
    int n_freqs;
    float *window; /* n_fft */
    int win_lo, win_hi; /* the window's support within n_fft */
    float *mel;    /* [n_freqs][n_mels] */
    /* Sparse bands: band m covers bins band_lo[m] .. band_lo[m]+band_len[m]-1 with weights
     * band_w[band_off[m] ...]. */
    int *band_lo, *band_len;
    size_t *band_off;
    float *band_w;
    double pcen_b; /* smoother coefficient */
    bl_rfft_plan *rfft; /* power-of-two n_fft; NULL: KissFFT */
};

const bl_frontend_params *bl_frontend_params_of(const bl_frontend *fe) { return &fe->p; }
const float *bl_frontend_mel_matrix(const bl_frontend *fe) { return fe->mel; }
const float *bl_frontend_window(const bl_frontend *fe) { return fe->window; }

void bl_frontend_destroy(bl_frontend *fe) {
    if (!fe) return;
    free(fe->window);
    free(fe->mel);
    free(fe->band_lo);
    free(fe->band_len);
    free(fe->band_off);
    free(fe->band_w);
    bl_rfft_plan_destroy(fe->rfft);
    free(fe);
}

bl_status bl_frontend_create(const bl_frontend_params *p, bl_frontend **out) {
    BL_RETURN_IF(!out, BL_ERR_INVALID_ARG, "frontend: no output pointer");
    *out = NULL;
    BL_TRY(bl_frontend_params_validate(p));
    bl_frontend *fe = calloc(1, sizeof *fe);
    BL_CHECK_ALLOC(fe);
    fe->p = *p;
    if (fe->p.win_length == 0) fe->p.win_length = p->n_fft;
    if (fe->p.mel.fmax <= 0) fe->p.mel.fmax = p->sample_rate / 2.0;
    int n_fft = fe->p.n_fft, win = fe->p.win_length, n_mels = fe->p.mel.n_mels;
    fe->n_freqs = n_fft / 2 + 1;
    size_t nf = (size_t)fe->n_freqs, nm = (size_t)n_mels;

    fe->window = calloc((size_t)n_fft, sizeof(float));
    fe->mel = malloc(nf * nm * sizeof(float));
    double *fb = malloc(nf * nm * sizeof(double));
    fe->band_lo = calloc(nm, sizeof(int));
    fe->band_len = calloc(nm, sizeof(int));
    fe->band_off = calloc(nm, sizeof(size_t));
    if (!fe->window || !fe->mel || !fb || !fe->band_lo || !fe->band_len || !fe->band_off) {
        free(fb);
        bl_frontend_destroy(fe);
        return BL_ERROR(BL_ERR_NOMEM, "frontend: out of memory for the plan (n_fft %d, n_mels %d)",
                        n_fft, n_mels);
    }
    /* torch.hann_window(win, periodic=True), zero-padded centred as torch.stft does. */
    fe->win_lo = (n_fft - win) / 2;
    fe->win_hi = fe->win_lo + win;
    for (int i = 0; i < win; i++)
        fe->window[fe->win_lo + i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / (double)win));
    if (win == 1) fe->window[fe->win_lo] = 1.0f; /* torch.hann_window(1) is [1], not [0] */

    int empty = bl_mel_fbank(fe->n_freqs, fe->p.mel.fmin, fe->p.mel.fmax, n_mels,
                             fe->p.sample_rate, fe->p.mel.norm, fe->p.mel.scale, fb);
    if (empty < 0) {
        free(fb);
        bl_frontend_destroy(fe);
        return BL_ERROR(BL_ERR_NOMEM, "frontend: out of memory for the mel filterbank");
    }
    if (empty > 0)
        BL_LOG_W("frontend: %d of %d mel bands have all-zero weights (n_mels %d is too high for "
                 "n_fft %d); those features are constant", empty, n_mels, n_mels, n_fft);
    for (size_t i = 0; i < nf * nm; i++) fe->mel[i] = (float)fb[i];
    free(fb);

    /* Each band's support: the bins between its first and last nonzero weight. */
    size_t total = 0;
    for (int m = 0; m < n_mels; m++) {
        int lo = -1, hi = -1;
        for (int k = 0; k < fe->n_freqs; k++)
            if (fe->mel[(size_t)k * nm + (size_t)m] != 0.0f) {
                if (lo < 0) lo = k;
                hi = k;
            }
        fe->band_lo[m] = lo < 0 ? 0 : lo;
        fe->band_len[m] = lo < 0 ? 0 : hi - lo + 1;
        fe->band_off[m] = total;
        total += (size_t)fe->band_len[m];
    }
    fe->band_w = malloc((total ? total : 1) * sizeof(float));
    if (!fe->band_w) {
        bl_frontend_destroy(fe);
        return BL_ERROR(BL_ERR_NOMEM, "frontend: out of memory for the mel bands");
    }
    for (int m = 0; m < n_mels; m++)
        for (int j = 0; j < fe->band_len[m]; j++)
            fe->band_w[fe->band_off[m] + (size_t)j] =
                fe->mel[(size_t)(fe->band_lo[m] + j) * nm + (size_t)m];

    double T = fe->p.compression.time_constant * fe->p.sample_rate / fe->p.hop_length;
    fe->pcen_b = T > 0 ? (sqrt(1.0 + 4.0 * T * T) - 1.0) / (2.0 * T * T) : 1.0;
    if (bl_rfft_supported(n_fft)) {
        bl_status s = bl_rfft_plan_create(n_fft, &fe->rfft);
        if (s != BL_OK) {
            bl_frontend_destroy(fe);
            return s;
        }
    }
    *out = fe;
    return BL_OK;
}

size_t bl_frontend_frame_count(const bl_frontend *fe, size_t n) {
    size_t n_fft = (size_t)fe->p.n_fft, hop = (size_t)fe->p.hop_length;
    if (n == 0) return 0; /* no signal, no frames (torch.stft rejects empty input) */
    if (fe->p.center) return 1 + n / hop;
    return n >= n_fft ? 1 + (n - n_fft) / hop : 0;
}

/* ---- one frame ----------------------------------------------------------------------- */

typedef struct {
    /* KissFFT path */
    kiss_fftr_cfg cfg;
    float *in;          /* n_fft windowed samples; zeros outside the window stay zero */
    kiss_fft_cpx *spec; /* n_freqs */
    float *pow;         /* n_freqs */
    /* batched path, [row][lane] with BL_RFFT_LANES lanes, 64-byte aligned */
    float *lx;  /* n_fft rows: windowed frames, destroyed by the FFT */
    float *lpw; /* n_freqs rows: |X|^2, then |X|^power */
    float *lmel; /* n_mels rows: mel energies, then compressed */
} fe_worker;

/* Always inlined where asked: the lane functions below are instantiated per ISA (target
 * attributes), and what they call must be compiled inside them to use the wider vectors. */
#if defined(__GNUC__) || defined(__clang__)
#define FE_INLINE static inline __attribute__((always_inline))
#define FE_HAVE_VECTORS 1
#else
#define FE_INLINE static inline
#endif

/* Log or db of n mel energies, in place (PCEN runs later, in time order). The same
 * functions of core/fastlog.h as the compress kernel; branch-free, so the loops vectorise. */
FE_INLINE void fe_compress(const bl_frontend *fe, float *out, size_t n) {
    const bl_comp_params *c = &fe->p.compression;
    if (c->type == BL_COMP_LOG) {
        float eps = (float)c->eps;
        for (size_t m = 0; m < n; m++) out[m] = bl_fast_logf(out[m] + eps);
    } else if (c->type == BL_COMP_DB) {
        float amin = (float)c->amin;
        for (size_t m = 0; m < n; m++) out[m] = bl_fast_dbf(out[m] > amin ? out[m] : amin);
    }
}

/* Mel energies of the frame starting at x[0] (n_fft samples) into out[n_mels], compressed
 * unless the compression is PCEN (which needs the frames in time order). KissFFT path. */
static void fe_frame(const bl_frontend *fe, fe_worker *w, const float *x, float *out) {
    const float *win = fe->window;
    for (int i = fe->win_lo; i < fe->win_hi; i++) w->in[i] = x[i] * win[i];
    kiss_fftr(w->cfg, w->in, w->spec);
    int nf = fe->n_freqs;
    const kiss_fft_cpx *s = w->spec;
    float *pw = w->pow;
    double power = fe->p.power;
    if (power == 2.0) {
        for (int k = 0; k < nf; k++) pw[k] = s[k].r * s[k].r + s[k].i * s[k].i;
    } else if (power == 1.0) {
        for (int k = 0; k < nf; k++) pw[k] = sqrtf(s[k].r * s[k].r + s[k].i * s[k].i);
    } else {
        float half = (float)(power / 2.0);
        for (int k = 0; k < nf; k++) pw[k] = powf(s[k].r * s[k].r + s[k].i * s[k].i, half);
    }
    int n_mels = fe->p.mel.n_mels;
    for (int m = 0; m < n_mels; m++) {
        const float *bw = fe->band_w + fe->band_off[m];
        const float *bp = pw + fe->band_lo[m];
        float acc = 0.0f;
        for (int j = 0, n = fe->band_len[m]; j < n; j++) acc += bp[j] * bw[j];
        out[m] = acc;
    }
    fe_compress(fe, out, (size_t)n_mels);
}

#define LANES BL_RFFT_LANES

/* Power, mel and compression of a batch in the lane layout: pw holds n_freqs rows of LANES
 * floats, |X|^2 on entry (bl_rfft_lanes_power) and |X|^power after; mo receives n_mels rows of
 * LANES floats, compressed (log, db) unless PCEN. Every loop runs over whole rows, so the
 * compiler vectorises it across lanes, and each lane sees exactly the float operations of
 * fe_frame (and of the power_mel and compress kernels): no reassociation, no contraction.
 * Written once, built for the baseline ISA, AVX2 and AVX-512F. */
#if FE_HAVE_VECTORS
typedef float fe_vl __attribute__((vector_size(LANES * sizeof(float))));
_Static_assert(LANES == 16, "fe_lanes_body spells out 16 lanes");
#endif
FE_INLINE void fe_lanes_body(const bl_frontend *fe, float *pw, float *mo) {
    size_t nv = (size_t)fe->n_freqs * LANES;
    double power = fe->p.power;
    if (power == 1.0) {
        for (size_t k = 0; k < nv; k++) pw[k] = sqrtf(pw[k]);
    } else if (power != 2.0) {
        float half = (float)(power / 2.0);
        for (size_t k = 0; k < nv; k++) pw[k] = powf(pw[k], half);
    }
    int n_mels = fe->p.mel.n_mels, m = 0;
#if FE_HAVE_VECTORS
    /* Each band's sum is one chain of dependent adds (in increasing bin order, as the
     * reference does); four bands at a time interleave four chains so that the adds'
     * latency overlaps. Per band, the same operations in the same order. */
#define FE_MEL_STEP(acc, bp, bw, j)                                                        \
    do {                                                                                   \
        fe_vl p_;                                                                          \
        memcpy(&p_, (bp) + (size_t)(j) * LANES, sizeof p_);                                \
        float w_ = (bw)[j];                                                                \
        fe_vl wv_ = {w_, w_, w_, w_, w_, w_, w_, w_, w_, w_, w_, w_, w_, w_, w_, w_};       \
        (acc) = (acc) + p_ * wv_;                                                          \
    } while (0)
    for (; m + 4 <= n_mels; m += 4) {
        const float *bw[4], *bp[4];
        int len[4], common = INT_MAX;
        for (int g = 0; g < 4; g++) {
            bw[g] = fe->band_w + fe->band_off[m + g];
            bp[g] = pw + (size_t)fe->band_lo[m + g] * LANES;
            len[g] = fe->band_len[m + g];
            if (len[g] < common) common = len[g];
        }
        fe_vl a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int j = 0; j < common; j++) {
            FE_MEL_STEP(a0, bp[0], bw[0], j);
            FE_MEL_STEP(a1, bp[1], bw[1], j);
            FE_MEL_STEP(a2, bp[2], bw[2], j);
            FE_MEL_STEP(a3, bp[3], bw[3], j);
        }
        for (int j = common; j < len[0]; j++) FE_MEL_STEP(a0, bp[0], bw[0], j);
        for (int j = common; j < len[1]; j++) FE_MEL_STEP(a1, bp[1], bw[1], j);
        for (int j = common; j < len[2]; j++) FE_MEL_STEP(a2, bp[2], bw[2], j);
        for (int j = common; j < len[3]; j++) FE_MEL_STEP(a3, bp[3], bw[3], j);
        memcpy(mo + (size_t)(m + 0) * LANES, &a0, sizeof a0);
        memcpy(mo + (size_t)(m + 1) * LANES, &a1, sizeof a1);
        memcpy(mo + (size_t)(m + 2) * LANES, &a2, sizeof a2);
        memcpy(mo + (size_t)(m + 3) * LANES, &a3, sizeof a3);
    }
    for (; m < n_mels; m++) {
        const float *bw = fe->band_w + fe->band_off[m];
        const float *bp = pw + (size_t)fe->band_lo[m] * LANES;
        fe_vl acc = {0};
        for (int j = 0, n = fe->band_len[m]; j < n; j++) FE_MEL_STEP(acc, bp, bw, j);
        memcpy(mo + (size_t)m * LANES, &acc, sizeof acc);
    }
#undef FE_MEL_STEP
#else
    for (; m < n_mels; m++) {
        const float *bw = fe->band_w + fe->band_off[m];
        const float *bp = pw + (size_t)fe->band_lo[m] * LANES;
        float acc[LANES] = {0};
        for (int j = 0, n = fe->band_len[m]; j < n; j++)
            for (int l = 0; l < LANES; l++) acc[l] += bp[(size_t)j * LANES + l] * bw[j];
        memcpy(mo + (size_t)m * LANES, &acc, sizeof acc);
    }
#endif
    /* all LANES lanes (spare ones hold zeros): whole rows vectorise */
    fe_compress(fe, mo, (size_t)fe->p.mel.n_mels * LANES);
}

static void fe_lanes(const bl_frontend *fe, float *pw, float *mo) { fe_lanes_body(fe, pw, mo); }

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define FE_HAVE_X86 1
/* No "fma" in the targets and -std=c11 (-ffp-contract=off): a*b + c is never fused, so the
 * same bits as the baseline build. (AVX-512F has fused multiply-adds; the pragma states the
 * rule where they exist.) */
__attribute__((target("avx2"))) static void fe_lanes_avx2(const bl_frontend *fe, float *pw,
                                                          float *mo) {
    fe_lanes_body(fe, pw, mo);
}
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
__attribute__((target("avx512f"))) static void fe_lanes_avx512(const bl_frontend *fe,
                                                               float *pw, float *mo) {
    fe_lanes_body(fe, pw, mo);
}
#pragma GCC pop_options
#endif

/* Prefetch hint for the lines of [*lo, hi) up to at most `lines` of them, into L2; advances
 * *lo. Issued in portions between the steps of a batch, so that the fill buffers are never
 * all taken by prefetches at once (a burst of them stalls the core until DRAM answers). */
static inline void fe_prefetch(const float **lo, const float *hi, size_t lines) {
#if defined(__GNUC__) || defined(__clang__)
    const float *q = *lo;
    if (!q) return;
    for (; q < hi && lines > 0; q += 16, lines--) __builtin_prefetch(q, 0, 2);
    *lo = q;
#else
    (void)lo, (void)hi, (void)lines;
#endif
}

/* Mel energies of `count` (1..LANES) frames, frame b starting at x[b*hop], into
 * out[b*n_mels], compressed unless PCEN. Batched-FFT path; spare lanes hold zeros.
 * pf_lo..pf_hi (or NULL): samples a later batch will read, prefetched along the way. */
static void fe_batch(const bl_frontend *fe, fe_worker *w, const float *x, size_t hop, int count,
                     float *out, const float *pf_lo, const float *pf_hi) {
    size_t quarter = pf_lo ? (size_t)(pf_hi - pf_lo) / 64 + 1 : 0; /* lines / 4, rounded up */
    fe_prefetch(&pf_lo, pf_hi, quarter);
    bl_rfft_load(fe->rfft, x, hop, count, fe->window, fe->win_lo, fe->win_hi, w->lx);
    fe_prefetch(&pf_lo, pf_hi, quarter);
    bl_rfft_lanes_power(fe->rfft, w->lx, w->lpw);
    fe_prefetch(&pf_lo, pf_hi, quarter);
#if FE_HAVE_X86
    bl_rfft_isa isa = bl_rfft_plan_isa(fe->rfft);
    if (isa == BL_RFFT_ISA_AVX512)
        fe_lanes_avx512(fe, w->lpw, w->lmel);
    else if (isa == BL_RFFT_ISA_AVX2)
        fe_lanes_avx2(fe, w->lpw, w->lmel);
    else
#endif
        fe_lanes(fe, w->lpw, w->lmel);
    fe_prefetch(&pf_lo, pf_hi, quarter);
    /* [mel][lane] -> [frame][mel] */
    bl_rfft_unload(fe->rfft, w->lmel, fe->p.mel.n_mels, count, out, (size_t)fe->p.mel.n_mels);
}

bl_status bl_frontend_spectrum(const bl_frontend *fe, const float *frames, size_t n_frames,
                               float *spec) {
    BL_RETURN_IF(!fe || (n_frames && (!frames || !spec)), BL_ERR_INVALID_ARG,
                 "frontend spectrum: NULL argument");
    size_t n = (size_t)fe->p.n_fft, nf = (size_t)fe->n_freqs;
    if (fe->rfft) {
        float *work = malloc(bl_rfft_batch_work_floats(fe->rfft) * sizeof(float));
        float *re = malloc(LANES * nf * sizeof(float)), *im = malloc(LANES * nf * sizeof(float));
        bool ok = work && re && im;
        for (size_t f = 0; ok && f < n_frames; f += LANES) {
            int count = n_frames - f < LANES ? (int)(n_frames - f) : LANES;
            bl_rfft_batch(fe->rfft, frames + f * n, count, re, im, work);
            for (int b = 0; b < count; b++)
                for (size_t k = 0; k < nf; k++) {
                    spec[((f + (size_t)b) * nf + k) * 2] = re[(size_t)b * nf + k];
                    spec[((f + (size_t)b) * nf + k) * 2 + 1] = im[(size_t)b * nf + k];
                }
        }
        free(work);
        free(re);
        free(im);
        BL_RETURN_IF(!ok, BL_ERR_NOMEM, "frontend spectrum: out of memory (n_fft %zu)", n);
        return BL_OK;
    }
    kiss_fftr_cfg cfg = kiss_fftr_alloc((int)n, 0, NULL, NULL);
    kiss_fft_cpx *out = malloc(nf * sizeof *out);
    bool ok = cfg && out;
    for (size_t f = 0; ok && f < n_frames; f++) {
        kiss_fftr(cfg, frames + f * n, out);
        for (size_t k = 0; k < nf; k++) {
            spec[(f * nf + k) * 2] = out[k].r;
            spec[(f * nf + k) * 2 + 1] = out[k].i;
        }
    }
    kiss_fftr_free(cfg);
    free(out);
    BL_RETURN_IF(!ok, BL_ERR_NOMEM, "frontend spectrum: out of memory (n_fft %zu)", n);
    return BL_OK;
}

/* ---- the stream ------------------------------------------------------------------------ */

struct bl_fe_stream {
    const bl_frontend *fe;
    bl_threadpool *pool;
    int n_workers;
    fe_worker *workers;
    /* padded signal [buf_base, buf_base + buf_len) */
    float *buf;
    size_t buf_len, buf_cap;
    uint64_t buf_base;
    uint64_t skip;       /* padded samples still to drop before appending (hop > n_fft) */
    uint64_t next_frame; /* index of the next frame to emit */
    /* center=true: the first K = n_fft/2+1 samples wait in head until the left pad can be
     * built; tail keeps the last K samples for the right pad. */
    float *head, *tail;
    size_t head_len, tail_len, K;
    bool started;  /* left pad and head appended */
    bool finished; /* right pad appended */
    uint64_t raw_total;
    double *pcen_M;
    bool pcen_started;
};

/* n floats, 64-byte aligned (one AVX-512 row, one cache line); release with free(). */
static float *fe_alloc64(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes ? bytes : 64);
}

void bl_fe_stream_destroy(bl_fe_stream *st) {
    if (!st) return;
    bl_threadpool_destroy(st->pool);
    if (st->workers)
        for (int i = 0; i < st->n_workers; i++) {
            kiss_fftr_free(st->workers[i].cfg);
            free(st->workers[i].in);
            free(st->workers[i].spec);
            free(st->workers[i].pow);
            free(st->workers[i].lx);
            free(st->workers[i].lpw);
            free(st->workers[i].lmel);
        }
    free(st->workers);
    free(st->buf);
    free(st->head);
    free(st->tail);
    free(st->pcen_M);
    free(st);
}

bl_status bl_fe_stream_create(const bl_frontend *fe, int threads, bl_fe_stream **out) {
    BL_RETURN_IF(!fe || !out, BL_ERR_INVALID_ARG, "frontend stream: NULL argument");
    BL_RETURN_IF(threads < 1 || threads > 256, BL_ERR_INVALID_ARG,
                 "frontend stream: threads must be 1..256 (got %d)", threads);
    *out = NULL;
    bl_fe_stream *st = calloc(1, sizeof *st);
    BL_CHECK_ALLOC(st);
    st->fe = fe;
    int n_fft = fe->p.n_fft;
    st->K = (size_t)n_fft / 2 + 1;
    st->n_workers = threads;
    st->workers = calloc((size_t)threads, sizeof *st->workers);
    st->head = malloc(st->K * sizeof(float));
    st->tail = malloc(st->K * sizeof(float));
    st->pcen_M = calloc((size_t)fe->p.mel.n_mels, sizeof(double));
    st->buf_cap = (size_t)n_fft + (size_t)BL_FE_PIECE_FRAMES * (size_t)fe->p.hop_length;
    st->buf = malloc(st->buf_cap * sizeof(float));
    bool ok = st->workers && st->head && st->tail && st->pcen_M && st->buf;
    for (int i = 0; ok && i < threads; i++) {
        fe_worker *w = &st->workers[i];
        if (fe->rfft) {
            size_t rows = (size_t)fe->n_freqs * LANES;
            w->lx = fe_alloc64((size_t)n_fft * LANES);
            w->lpw = fe_alloc64(rows);
            w->lmel = fe_alloc64((size_t)fe->p.mel.n_mels * LANES);
            ok = w->lx && w->lpw && w->lmel;
        } else {
            w->cfg = kiss_fftr_alloc(n_fft, 0, NULL, NULL);
            w->in = calloc((size_t)n_fft, sizeof(float));
            w->spec = malloc((size_t)fe->n_freqs * sizeof(kiss_fft_cpx));
            w->pow = malloc((size_t)fe->n_freqs * sizeof(float));
            ok = w->cfg && w->in && w->spec && w->pow;
        }
    }
    if (!ok) {
        bl_fe_stream_destroy(st);
        return BL_ERROR(BL_ERR_NOMEM, "frontend stream: out of memory (n_fft %d, %d threads)",
                        n_fft, threads);
    }
    if (threads > 1) {
        bl_status s = bl_threadpool_create(threads, &st->pool);
        if (s != BL_OK) {
            bl_fe_stream_destroy(st);
            return s;
        }
    }
    if (!fe->p.center) st->started = true; /* no left pad: samples go straight in */
    *out = st;
    return BL_OK;
}

/* Room for n more padded samples at the end of the buffer. */
static bl_status fe_reserve(bl_fe_stream *st, size_t n) {
    if (st->buf_len + n <= st->buf_cap) return BL_OK;
    /* Only when the caller's output capacity held frames back; normal use stays within the
     * initial n_fft + piece. */
    size_t cap = st->buf_cap;
    while (cap < st->buf_len + n) cap *= 2;
    float *nb = realloc(st->buf, cap * sizeof(float));
    BL_RETURN_IF(!nb, BL_ERR_NOMEM, "frontend stream: out of memory growing the buffer to %zu "
                 "samples", cap);
    st->buf = nb;
    st->buf_cap = cap;
    return BL_OK;
}

/* Padded samples before the next frame's start are dropped, not stored (hop > n_fft). */
static size_t fe_take_skip(bl_fe_stream *st, size_t n) {
    size_t d = st->skip < n ? (size_t)st->skip : n;
    st->skip -= d;
    return d;
}

/* Append x[0..n) (zeros when x is NULL). */
static bl_status fe_append(bl_fe_stream *st, const float *x, size_t n) {
    size_t d = fe_take_skip(st, n);
    if (x) x += d;
    n -= d;
    if (n == 0) return BL_OK;
    BL_TRY(fe_reserve(st, n));
    if (x)
        memcpy(st->buf + st->buf_len, x, n * sizeof(float));
    else
        memset(st->buf + st->buf_len, 0, n * sizeof(float));
    st->buf_len += n;
    return BL_OK;
}

/* Append from[0], from[-1], ..., from[-(n-1)]: the mirror images of reflect padding. */
static bl_status fe_append_reversed(bl_fe_stream *st, const float *from, size_t n) {
    size_t d = fe_take_skip(st, n);
    if (d == n) return BL_OK;
    from -= d;
    n -= d;
    BL_TRY(fe_reserve(st, n));
    float *dst = st->buf + st->buf_len;
    for (size_t i = 0; i < n; i++) dst[i] = *(from - i);
    st->buf_len += n;
    return BL_OK;
}

typedef struct {
    bl_fe_stream *st;
    const float *base; /* padded samples from position base_pos on: the stream's buffer, or */
    uint64_t base_pos; /* the caller's block when every sample of the frames lies in it */
    uint64_t first;    /* index of the first frame */
    size_t n;          /* frames */
    float *out;        /* n_mels floats per frame */
} fe_job;

/* Task t: frame first+t (KissFFT), or the batch of frames first + t*LANES ... */
static void fe_task(void *ctx, size_t t, int worker) {
    fe_job *job = ctx;
    bl_fe_stream *st = job->st;
    const bl_frontend *fe = st->fe;
    size_t hop = (size_t)fe->p.hop_length, nm = (size_t)fe->p.mel.n_mels;
    size_t f0 = fe->rfft ? t * LANES : t;
    uint64_t start = (job->first + f0) * (uint64_t)hop;
    const float *x = job->base + (start - job->base_pos);
    if (fe->rfft) {
        size_t count = job->n - f0 < LANES ? job->n - f0 : LANES;
        /* The samples that the batch after next reads first (a block straight from the
         * caller comes from DRAM): asked for while this one computes. */
        const float *pf_lo = NULL, *pf_hi = NULL;
        if (f0 + 2 * LANES < job->n) {
            size_t n_fft = (size_t)fe->p.n_fft, nx = job->n - f0 - 2 * LANES;
            pf_lo = x + (2 * LANES - 1) * hop + n_fft;
            pf_hi = x + (2 * LANES + (nx < LANES ? nx : LANES) - 1) * hop + n_fft;
        }
        fe_batch(fe, &st->workers[worker], x, hop, (int)count, job->out + f0 * nm, pf_lo,
                 pf_hi);
    } else {
        fe_frame(fe, &st->workers[worker], x, job->out + f0 * nm);
    }
}

static void fe_pcen(bl_fe_stream *st, float *frames, size_t n) {
    const bl_frontend *fe = st->fe;
    const bl_comp_params *c = &fe->p.compression;
    int n_mels = fe->p.mel.n_mels;
    double b = fe->pcen_b, delta_r = pow(c->delta, c->r);
    double *M = st->pcen_M;
    for (size_t t = 0; t < n; t++) {
        float *f = frames + t * (size_t)n_mels;
        for (int m = 0; m < n_mels; m++) {
            double S = f[m];
            M[m] = st->pcen_started ? (1.0 - b) * M[m] + b * S : S;
            f[m] = (float)(pow(S / pow(c->eps + M[m], c->alpha) + c->delta, c->r) - delta_r);
        }
        st->pcen_started = true;
    }
}

/* Number of frames, from the next one on, whose samples all lie before padded position end
 * (at most cap - *n_out). */
static size_t fe_ready(const bl_fe_stream *st, uint64_t end, size_t cap, size_t n_out) {
    uint64_t hop = (uint64_t)st->fe->p.hop_length, n_fft = (uint64_t)st->fe->p.n_fft;
    size_t n = 0;
    if (end >= n_fft) {
        uint64_t avail = (end - n_fft) / hop + 1;
        if (avail > st->next_frame) n = (size_t)(avail - st->next_frame);
    }
    return n > cap - n_out ? cap - n_out : n;
}

/* Compute the next n frames from base (padded position base_pos) into the output, on the
 * pool, then PCEN in time order. */
static void fe_compute(bl_fe_stream *st, const float *base, uint64_t base_pos, size_t n,
                       float *out, size_t *n_out) {
    const bl_frontend *fe = st->fe;
    float *dst = out + *n_out * (size_t)fe->p.mel.n_mels;
    fe_job job = {st, base, base_pos, st->next_frame, n, dst};
    bl_threadpool_run(st->pool, fe_task, &job, fe->rfft ? (n + LANES - 1) / LANES : n);
    if (fe->p.compression.type == BL_COMP_PCEN) fe_pcen(st, dst, n);
    st->next_frame += n;
    *n_out += n;
}

/* Emit every complete frame that fits in the output, then drop samples no frame needs. */
static void fe_emit(bl_fe_stream *st, float *out, size_t cap, size_t *n_out) {
    uint64_t hop = (uint64_t)st->fe->p.hop_length;
    size_t n = fe_ready(st, st->buf_base + st->buf_len, cap, *n_out);
    if (n > 0) fe_compute(st, st->buf, st->buf_base, n, out, n_out);
    uint64_t keep_from = st->next_frame * hop;
    if (keep_from > st->buf_base) {
        uint64_t drop = keep_from - st->buf_base;
        if (drop >= st->buf_len) {
            st->skip += drop - st->buf_len;
            st->buf_len = 0;
        } else {
            memmove(st->buf, st->buf + drop, (st->buf_len - (size_t)drop) * sizeof(float));
            st->buf_len -= (size_t)drop;
        }
        st->buf_base = keep_from;
    }
}

/* Append samples in bounded pieces, emitting frames after each. A large block skips most
 * of the copying: once the frames that need buffered samples are out, the frames lying
 * entirely inside x are computed from x itself, and only what the next frames need of x
 * is kept. The frames and their bits are the same either way; only the copies differ. */
static bl_status fe_feed(bl_fe_stream *st, const float *x, size_t n, float *out, size_t cap,
                         size_t *n_out) {
    size_t hop = (size_t)st->fe->p.hop_length, n_fft = (size_t)st->fe->p.n_fft;
    size_t piece = (size_t)BL_FE_PIECE_FRAMES * hop;
    if (x && st->skip == 0 && n >= 4 * n_fft) {
        /* x[0] is at padded position P0; frames starting before it end before P0 + n_fft */
        uint64_t P0 = st->buf_base + st->buf_len;
        BL_TRY(fe_append(st, x, n_fft));
        fe_emit(st, out, cap, n_out);
        uint64_t start = st->next_frame * (uint64_t)hop;
        if (st->skip == 0 && start >= P0 && *n_out < cap) {
            size_t k;
            while ((k = fe_ready(st, P0 + n, cap, *n_out)) > 0) {
                if (k > 8 * (size_t)BL_FE_PIECE_FRAMES) k = 8 * (size_t)BL_FE_PIECE_FRAMES;
                fe_compute(st, x, P0, k, out, n_out);
            }
            /* the buffer restarts at the next frame's start, within x or past its end */
            uint64_t keep_from = st->next_frame * (uint64_t)hop, end = P0 + n;
            st->buf_len = 0;
            st->buf_base = keep_from;
            if (keep_from >= end) {
                st->skip = keep_from - end;
                return BL_OK;
            }
            size_t off = (size_t)(keep_from - P0);
            return fe_append(st, x + off, n - off);
        }
        x += n_fft;
        n -= n_fft;
    }
    while (n > 0) {
        size_t k = n < piece ? n : piece;
        BL_TRY(fe_append(st, x, k));
        fe_emit(st, out, cap, n_out);
        if (x) x += k;
        n -= k;
    }
    return BL_OK;
}

/* center=true: the left pad, then the held-back head. */
static bl_status fe_start(bl_fe_stream *st, float *out, size_t cap, size_t *n_out) {
    size_t half = (size_t)st->fe->p.n_fft / 2;
    if (st->fe->p.pad_mode == BL_PAD_REFLECT) {
        /* padded[i] = x[half - i] for i < half: needs x[1..half], i.e. head_len == K. */
        BL_TRY(fe_append_reversed(st, &st->head[half], half));
    } else {
        BL_TRY(fe_append(st, NULL, half));
    }
    st->started = true;
    return fe_feed(st, st->head, st->head_len, out, cap, n_out);
}

static void fe_remember_tail(bl_fe_stream *st, const float *x, size_t n) {
    size_t K = st->K;
    if (n >= K) {
        memcpy(st->tail, x + n - K, K * sizeof(float));
        st->tail_len = K;
        return;
    }
    if (st->tail_len + n > K) {
        size_t d = st->tail_len + n - K;
        memmove(st->tail, st->tail + d, (st->tail_len - d) * sizeof(float));
        st->tail_len -= d;
    }
    memcpy(st->tail + st->tail_len, x, n * sizeof(float));
    st->tail_len += n;
}

bl_status bl_fe_stream_push(bl_fe_stream *st, const float *samples, size_t n, float *out,
                            size_t cap_frames, size_t *n_out) {
    BL_RETURN_IF(!st || !n_out || (n && !samples) || (cap_frames && !out), BL_ERR_INVALID_ARG,
                 "frontend stream push: NULL argument");
    *n_out = 0;
    BL_RETURN_IF(st->finished, BL_ERR_INVALID_ARG, "frontend stream: push after finish");
    st->raw_total += n;
    if (st->fe->p.center) fe_remember_tail(st, samples, n);
    if (!st->started) {
        size_t k = st->K - st->head_len;
        if (k > n) k = n;
        memcpy(st->head + st->head_len, samples, k * sizeof(float));
        st->head_len += k;
        samples += k;
        n -= k;
        if (st->head_len < st->K) return BL_OK;
        BL_TRY(fe_start(st, out, cap_frames, n_out));
    }
    BL_TRY(fe_feed(st, samples, n, out, cap_frames, n_out));
    /* Frames held back by a small cap stay computable: the buffer still holds their samples. */
    return BL_OK;
}

bl_status bl_fe_stream_finish(bl_fe_stream *st, float *out, size_t cap_frames, size_t *n_out) {
    BL_RETURN_IF(!st || !n_out || (cap_frames && !out), BL_ERR_INVALID_ARG,
                 "frontend stream finish: NULL argument");
    *n_out = 0;
    const bl_frontend_params *p = &st->fe->p;
    if (!st->finished && p->center && st->raw_total > 0) {
        size_t half = (size_t)p->n_fft / 2;
        if (!st->started) {
            BL_RETURN_IF(p->pad_mode == BL_PAD_REFLECT, BL_ERR_RANGE,
                         "signal of %llu samples is too short for reflect padding: it needs more "
                         "than n_fft/2 = %zu samples (torch.stft fails here too); use "
                         "frontend.pad_mode: constant or a longer input",
                         (unsigned long long)st->raw_total, half);
            BL_TRY(fe_start(st, out, cap_frames, n_out));
        }
        if (p->pad_mode == BL_PAD_REFLECT) {
            /* padded right j = x[L-2-j] = tail[K-2-j], j < half; tail is full (L >= K). */
            BL_TRY(fe_append_reversed(st, &st->tail[st->K - 2], half));
        } else {
            BL_TRY(fe_append(st, NULL, half));
        }
    }
    st->finished = true;
    fe_emit(st, out, cap_frames, n_out);
    return BL_OK;
}

size_t bl_fe_stream_max_frames(const bl_fe_stream *st, size_t n) {
    const bl_frontend_params *p = &st->fe->p;
    uint64_t half = (uint64_t)p->n_fft / 2;
    /* Padded samples received so far, plus what this call may add. */
    uint64_t total = st->buf_base + st->buf_len - st->skip + n;
    if (!st->started) total += half + st->head_len;
    if (p->center && !st->finished) total += half;
    if (total < (uint64_t)p->n_fft) return 0;
    uint64_t frames = (total - (uint64_t)p->n_fft) / (uint64_t)p->hop_length + 1;
    return frames > st->next_frame ? (size_t)(frames - st->next_frame) : 0;
}
