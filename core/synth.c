/* synth.c — synthetic hydrophone-like recordings with ground truth (see synth.h).
 *
 * Owns: the PRNG streams, the per-channel background generators (coloured noise with a
 * wandering level, ship tonals, clicks), the call plans and synthesis, the band-energy
 * measure behind the SNR, and the atomic writing of the audio (libsndfile) and truth CSV
 * through io/outfile.h (temporaries unnamed where the filesystem allows, removed on failure
 * or on a stop request — bl_synth_params.stop, polled between blocks; both put in place only
 * once both are complete; a device or FIFO target written in place).
 *
 * How the output stays independent of the block size: the background of a channel is one
 * sequential stream (one white draw per sample, recursive filters and oscillators whose
 * control values change only at absolute multiples of BL_SYNTH_SEG samples), so it does not
 * matter how its range is cut. Each channel keeps its background generated ahead of what is
 * written, up to the end of every call that starts in the block being written; a call's gain
 * is computed from exactly its span of background, then the call is added.
 *
 * Threading: all state lives in a bl_synth_job owned by one bl_synth_write() call.
 */
#include "synth.h"

#include <errno.h>    /* errno after failed I/O */
#include <math.h>     /* sin, exp, pow, log10 */
#include <stdio.h>    /* truth CSV through stdio */
#include <stdbool.h>
#include <stdlib.h>   /* malloc, qsort */
#include <string.h>   /* memmove, strerror */
#include <unistd.h>   /* dup, close */

#include <kiss_fftr.h> /* real FFT for the band energy (the project's FFT, DESIGN §3) */
#include <sndfile.h>   /* WAV/RF64/FLAC writing */

#include "io/outfile.h" /* both outputs: temporaries put in place together at the end */
#include "log.h"         /* warning when samples clip */

#define BL_SYNTH_SEG 256          /* control-rate period in samples (absolute alignment) */
#define BL_SYNTH_EDGE_S 0.5       /* calls keep this far from the file's ends */
#define BL_SYNTH_GAP_S 0.5        /* minimum silence between two calls of a channel */
#define BL_SYNTH_MAX_PARTIALS 4
#define BL_SYNTH_CLICK_MEAN_S 8.0 /* mean interval between clicks */
#define BL_SYNTH_TWO_PI 6.283185307179586476925286766559

/* ---------------------------------------------------------------- PRNG ----------------- */

typedef struct {
    uint64_t s[4];
} bl_synth_rng;

enum { BL_SYNTH_STREAM_NOISE = 1, BL_SYNTH_STREAM_LEVEL, BL_SYNTH_STREAM_SHIPS, BL_SYNTH_STREAM_CLICKS,
       BL_SYNTH_STREAM_CALLS };

static uint64_t bl_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* One independent xoshiro256** stream per (seed, channel, purpose). */
static void bl_rng_seed(bl_synth_rng *r, uint64_t seed, int channel, int purpose) {
    uint64_t x = seed;
    x = bl_splitmix64(&x) ^ (0xA0761D6478BD642Full * (uint64_t)(channel + 1));
    x = bl_splitmix64(&x) ^ (0xE7037ED1A0B428DBull * (uint64_t)purpose);
    for (int i = 0; i < 4; i++) r->s[i] = bl_splitmix64(&x);
}

static inline uint64_t bl_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t bl_rng_next(bl_synth_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = bl_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = bl_rotl(s[3], 45);
    return result;
}

static inline double bl_rng_u01(bl_synth_rng *r) { return (double)(bl_rng_next(r) >> 11) * 0x1.0p-53; }
static double bl_rng_range(bl_synth_rng *r, double a, double b) { return a + (b - a) * bl_rng_u01(r); }
static int bl_rng_int(bl_synth_rng *r, int n) { return (int)(bl_rng_u01(r) * n); } /* 0..n-1 */

/* ------------------------------------------------------- band energy (SNR) ------------- */

typedef struct {
    kiss_fftr_cfg cfg[32]; /* by log2 of the FFT size */
    float *in;
    kiss_fft_cpx *out;
    size_t cap; /* samples of `in` */
} bl_synth_fft;

static size_t bl_pow2_at_least(size_t n) {
    size_t m = 2;
    while (m < n) m <<= 1;
    return m;
}

static void bl_synth_fft_free(bl_synth_fft *w) {
    for (int i = 0; i < 32; i++)
        if (w->cfg[i]) kiss_fftr_free(w->cfg[i]);
    free(w->in);
    free(w->out);
    memset(w, 0, sizeof *w);
}

static bl_status bl_synth_band_energy_ws(bl_synth_fft *w, const float *x, size_t n, double fs,
                                         double f_lo, double f_hi, double *energy) {
    size_t m = bl_pow2_at_least(n);
    int lg = 0;
    while (((size_t)1 << lg) < m) lg++;
    BL_RETURN_IF(lg >= 31, BL_ERR_RANGE, "band energy over %zu samples: too long", n);
    if (m > w->cap) {
        float *in = realloc(w->in, m * sizeof *in);
        BL_CHECK_ALLOC(in);
        w->in = in;
        kiss_fft_cpx *out = realloc(w->out, (m / 2 + 1) * sizeof *out);
        BL_CHECK_ALLOC(out);
        w->out = out;
        w->cap = m;
    }
    if (!w->cfg[lg]) {
        w->cfg[lg] = kiss_fftr_alloc((int)m, 0, NULL, NULL);
        BL_RETURN_IF(!w->cfg[lg], BL_ERR_NOMEM, "out of memory for a %zu-point FFT", m);
    }
    memcpy(w->in, x, n * sizeof *x);
    memset(w->in + n, 0, (m - n) * sizeof *w->in);
    kiss_fftr(w->cfg[lg], w->in, w->out);
    double sum = 0;
    for (size_t k = 0; k <= m / 2; k++) {
        double f = (double)k * fs / (double)m;
        if (f < f_lo || f > f_hi) continue;
        double p = (double)w->out[k].r * w->out[k].r + (double)w->out[k].i * w->out[k].i;
        sum += (k == 0 || k == m / 2) ? p : 2 * p;
    }
    *energy = sum / (double)m;
    return BL_OK;
}

bl_status bl_synth_band_energy(const float *x, size_t n, double fs, double f_lo, double f_hi,
                               double *energy) {
    BL_RETURN_IF(!x || !energy || n == 0 || !(fs > 0), BL_ERR_INVALID_ARG,
                 "band energy: need samples, n > 0 and a positive rate");
    bl_synth_fft w;
    memset(&w, 0, sizeof w);
    bl_status s = bl_synth_band_energy_ws(&w, x, n, fs, f_lo, f_hi, energy);
    bl_synth_fft_free(&w);
    return s;
}

/* ------------------------------------------------------------------ calls -------------- */

typedef struct {
    int kind;             /* BL_SYNTH_UPCALL or BL_SYNTH_SONG_UNIT */
    int64_t start, len;   /* samples */
    double f0, f1;        /* Hz at the first and last instant (rounded to 0.1 Hz) */
    double curve;         /* upcall: exponent p of τ^p */
    double fm_depth, fm_rate, fm_phase; /* song unit FM (depth 0 = none) */
    double tukey;         /* taper fraction of the Tukey envelope */
    double phase0;
    int partials;
    double amp[BL_SYNTH_MAX_PARTIALS];
    double snr_db;        /* rounded to 0.01 dB */
} bl_synth_call;

long bl_synth_calls_per_channel(const bl_synth_params *p) {
    if (p->n_calls >= 0) return p->n_calls;
    if (p->seconds < 4.0) return 0;
    long n = lround(p->seconds / 30.0);
    return n < 1 ? 1 : n;
}

static int bl_synth_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double bl_round_to(double x, double step) { return round(x / step) * step; }

/* Draw one call's parameters (not its start) from the channel's call stream. */
static void bl_synth_draw_call(bl_synth_rng *r, const bl_synth_params *p, bl_synth_call *c) {
    double fs = p->sample_rate;
    memset(c, 0, sizeof *c);
    int both = (p->kinds & BL_SYNTH_ALL_KINDS) == BL_SYNTH_ALL_KINDS;
    if (both)
        c->kind = bl_rng_int(r, 2) ? BL_SYNTH_SONG_UNIT : BL_SYNTH_UPCALL;
    else
        c->kind = (p->kinds & BL_SYNTH_UPCALL) ? BL_SYNTH_UPCALL : BL_SYNTH_SONG_UNIT;
    double dur;
    if (c->kind == BL_SYNTH_UPCALL) {
        dur = bl_rng_range(r, 0.6, 1.5);
        c->f0 = bl_round_to(bl_rng_range(r, 40, 80), 0.1);
        c->f1 = bl_round_to(bl_rng_range(r, 180, 280), 0.1);
        c->curve = bl_rng_range(r, 0.8, 1.6);
        c->partials = 1 + bl_rng_int(r, 2);
        c->amp[0] = 1;
        c->amp[1] = bl_rng_range(r, 0.2, 0.5);
    } else {
        dur = bl_rng_range(r, 0.5, 3.0);
        double fmax = fmin(2000.0, 0.4 * fs);
        int shape = bl_rng_int(r, 3); /* 0 rising, 1 falling, 2 flat */
        double ratio = shape == 2 ? bl_rng_range(r, 1.0, 1.03) : bl_rng_range(r, 1.15, 1.8);
        double lo = 100.0 * exp(bl_rng_u01(r) * log(fmax / ratio / 100.0));
        int up = shape == 0 || (shape == 2 && bl_rng_int(r, 2));
        c->f0 = bl_round_to(up ? lo : lo * ratio, 0.1);
        c->f1 = bl_round_to(up ? lo * ratio : lo, 0.1);
        if (bl_rng_int(r, 2)) {
            c->fm_depth = bl_rng_range(r, 0.01, 0.04);
            c->fm_rate = bl_rng_range(r, 2, 8);
            c->fm_phase = bl_rng_range(r, 0, BL_SYNTH_TWO_PI);
        }
        c->partials = 2 + bl_rng_int(r, 3);
        double decay = bl_rng_range(r, 0.3, 0.7);
        c->amp[0] = 1;
        for (int k = 1; k < BL_SYNTH_MAX_PARTIALS; k++) c->amp[k] = c->amp[k - 1] * decay;
    }
    c->len = llround(dur * fs);
    c->tukey = bl_rng_range(r, 0.2, 0.5);
    c->phase0 = bl_rng_range(r, 0, BL_SYNTH_TWO_PI);
    c->snr_db = bl_round_to(bl_rng_range(r, p->snr_min_db, p->snr_max_db), 0.01);
    /* No partial may reach 0.45·rate anywhere (FM included): aliasing would put energy
     * where the truth says there is none. */
    double top = fmax(c->f0, c->f1) * (1 + c->fm_depth);
    while (c->partials > 1 && c->partials * top >= 0.45 * fs) c->partials--;
}

/* Plan the calls of one channel: draw them, then place them uniformly at random without
 * overlap (sorted offsets into the free time, the classic spacing construction). */
static bl_status bl_synth_plan_channel(const bl_synth_params *p, int ch, int64_t frames,
                                       bl_synth_call *calls, long n) {
    bl_synth_rng r;
    bl_rng_seed(&r, p->seed, ch, BL_SYNTH_STREAM_CALLS);
    int64_t edge = llround(BL_SYNTH_EDGE_S * p->sample_rate), gap = llround(BL_SYNTH_GAP_S * p->sample_rate);
    int64_t need = 2 * edge;
    for (long i = 0; i < n; i++) {
        bl_synth_draw_call(&r, p, &calls[i]);
        need += calls[i].len + (i ? gap : 0);
    }
    if (need > frames)
        return BL_ERROR(BL_ERR_INVALID_ARG,
                        "--calls %ld: on channel %d the drawn calls need %.1f s (sound, %.1f s gaps and "
                        "%.1f s margins) but the file has %.1f s; ask for fewer --calls or more --seconds",
                        n, ch, (double)need / p->sample_rate, BL_SYNTH_GAP_S, BL_SYNTH_EDGE_S, p->seconds);
    int64_t free_len = frames - need;
    int64_t *off = malloc((size_t)(n ? n : 1) * sizeof *off);
    BL_CHECK_ALLOC(off);
    for (long i = 0; i < n; i++) off[i] = (int64_t)(bl_rng_u01(&r) * (double)(free_len + 1));
    qsort(off, (size_t)n, sizeof *off, bl_synth_cmp_i64);
    int64_t pos = edge;
    for (long i = 0; i < n; i++) {
        calls[i].start = pos + off[i];
        pos += calls[i].len + gap;
    }
    free(off);
    return BL_OK;
}

static double bl_synth_call_freq(const bl_synth_call *c, double tau, double t) {
    if (c->kind == BL_SYNTH_UPCALL) return c->f0 + (c->f1 - c->f0) * pow(tau, c->curve);
    double f = c->f0 * pow(c->f1 / c->f0, tau);
    /* The FM fades to zero at both ends (sin πτ), so f(0) = f0 and f(1) = f1 exactly. */
    if (c->fm_depth > 0)
        f *= 1 + c->fm_depth * sin(BL_SYNTH_TWO_PI * c->fm_rate * t + c->fm_phase) * sin(0.5 * BL_SYNTH_TWO_PI * tau);
    return f;
}

static double bl_synth_tukey(double tau, double alpha) {
    double half = 0.5 * alpha;
    if (tau < half) return 0.5 * (1 - cos(BL_SYNTH_TWO_PI * tau / alpha));
    if (tau > 1 - half) return 0.5 * (1 - cos(BL_SYNTH_TWO_PI * (1 - tau) / alpha));
    return 1;
}

/* The call at unit gain into out[0..len). The phase is the running sum of 2π f/fs; the
 * partials come from sin φ and cos φ by the Chebyshev recursion sin kφ = 2 cos φ sin (k-1)φ
 * - sin (k-2)φ, one sin/cos pair per sample whatever the number of partials. */
static void bl_synth_render_call(const bl_synth_call *c, double fs, float *out) {
    double ph = c->phase0, inv = c->len > 1 ? 1.0 / (double)(c->len - 1) : 0;
    for (int64_t n = 0; n < c->len; n++) {
        double tau = (double)n * inv, s1 = sin(ph), co = cos(ph);
        double v = c->amp[0] * s1, sm2 = 0, sm1 = s1;
        for (int k = 1; k < c->partials; k++) {
            double sk = 2 * co * sm1 - sm2;
            v += c->amp[k] * sk;
            sm2 = sm1;
            sm1 = sk;
        }
        out[n] = (float)(bl_synth_tukey(tau, c->tukey) * v);
        ph += BL_SYNTH_TWO_PI * bl_synth_call_freq(c, tau, (double)n / fs) / fs;
        if (ph >= BL_SYNTH_TWO_PI) ph -= BL_SYNTH_TWO_PI;
    }
}

/* ------------------------------------------------------------- background -------------- */

#define BL_SYNTH_MAX_POLES 8
#define BL_SYNTH_SHIP_PARTIALS 4

/* y = d0·x[n] + d1·x[n-1] + Σ s_i,  s_i ← a_i·s_i + c_i·x[n], scaled by `norm` to unit variance. */
typedef struct {
    int np;
    double a[BL_SYNTH_MAX_POLES], c[BL_SYNTH_MAX_POLES], d0, d1, norm;
} bl_synth_colour;

static void bl_synth_colour_init(bl_synth_colour *f, bl_synth_noise kind, double fs) {
    memset(f, 0, sizeof *f);
    if (kind == BL_SYNTH_NOISE_WHITE) {
        f->d0 = 1;
    } else {
        if (kind == BL_SYNTH_NOISE_PINK || kind == BL_SYNTH_NOISE_OCEAN) {
            /* Paul Kellet's refined pink filter (for 44.1 kHz); the positive poles are moved
             * so that their corners stay at the same frequencies in Hz at any rate. */
            static const double ka[6] = {0.99886, 0.99332, 0.96900, 0.86650, 0.55000, -0.7616};
            static const double kc[6] = {0.0555179, 0.0750759, 0.1538520, 0.3104856, 0.5329522, -0.0168980};
            for (int i = 0; i < 6; i++) {
                double a = ka[i], c = kc[i];
                if (a > 0) {
                    double an = pow(a, 44100.0 / fs);
                    c *= (1 - an) / (1 - a);
                    a = an;
                }
                f->a[f->np] = a;
                f->c[f->np++] = c;
            }
            f->d0 = 0.5362;
            f->d1 = 0.115926;
        }
        if (kind == BL_SYNTH_NOISE_BROWN || kind == BL_SYNTH_NOISE_OCEAN) {
            /* -6 dB/octave above 10 Hz; in the ocean mix its low end sits ~10 dB over the pink
             * one, the distant-shipping and wind floor below 100 Hz. */
            double a = exp(-BL_SYNTH_TWO_PI * 10.0 / fs);
            f->a[f->np] = a;
            f->c[f->np++] = (1 - a) * (kind == BL_SYNTH_NOISE_OCEAN ? 40.0 : 1.0);
        }
    }
    /* Σ h² of the impulse response in closed form: h0 = d0 + Σc, h1 = d1 + Σca,
     * h_n = Σ c_i a_i^n (n >= 2) → Σ_{n>=2} h_n² = Σ_ij c_i c_j (a_i a_j)² / (1 - a_i a_j). */
    double sc = 0, sca = 0, tail = 0;
    for (int i = 0; i < f->np; i++) {
        sc += f->c[i];
        sca += f->c[i] * f->a[i];
        for (int j = 0; j < f->np; j++) {
            double aa = f->a[i] * f->a[j];
            tail += f->c[i] * f->c[j] * aa * aa / (1 - aa);
        }
    }
    double e = (f->d0 + sc) * (f->d0 + sc) + (f->d1 + sca) * (f->d1 + sca) + tail;
    /* the white draw is uniform on [-√3, √3): unit variance */
    f->norm = 1.0 / sqrt(e);
}

typedef struct {
    double t0, dur;     /* seconds; audible on [t0, t0 + dur] */
    double f, amp[BL_SYNTH_SHIP_PARTIALS];
    int partials;
    double wander_depth, wander_period, wander_phase, drift;
    double zr, zi, wr, wi; /* fundamental phasor and its per-sample rotation */
    double e0, e1;         /* envelope at the current segment's start and end */
    int live;              /* audible in the current segment */
    int started;
} bl_synth_ship;

typedef struct {
    int ch;
    bl_synth_rng noise_rng, click_rng;
    bl_synth_colour colour;
    double s[BL_SYNTH_MAX_POLES], xprev;
    double noise_rms;
    double lvl_db_amp[3], lvl_period[3], lvl_phase[3];
    double l0, l1;   /* level at the current segment's start and end */
    int64_t seg;     /* index of the current control segment, -1 before the first */
    bl_synth_ship *ships;
    int n_ships;
    int clicks_on;
    int64_t click_next, click_left;
    double czr, czi, cwr, cwi;
} bl_synth_bg;

static double bl_synth_level_at(const bl_synth_bg *g, double t) {
    double db = 0;
    for (int j = 0; j < 3; j++) db += g->lvl_db_amp[j] * sin(BL_SYNTH_TWO_PI * t / g->lvl_period[j] + g->lvl_phase[j]);
    return pow(10.0, db / 20.0);
}

static double bl_synth_ship_env(const bl_synth_ship *s, double t) {
    double u = (t - s->t0) / s->dur;
    if (u <= 0 || u >= 1) return 0;
    double v = sin(0.5 * BL_SYNTH_TWO_PI * u);
    return v * v;
}

static int64_t bl_synth_click_gap(bl_synth_rng *r, double fs) {
    return 1 + (int64_t)(-log(1 - bl_rng_u01(r)) * BL_SYNTH_CLICK_MEAN_S * fs);
}

static bl_status bl_synth_bg_init(bl_synth_bg *g, const bl_synth_params *p, int ch) {
    double fs = p->sample_rate;
    memset(g, 0, sizeof *g);
    g->ch = ch;
    g->seg = -1;
    bl_rng_seed(&g->noise_rng, p->seed, ch, BL_SYNTH_STREAM_NOISE);
    bl_rng_seed(&g->click_rng, p->seed, ch, BL_SYNTH_STREAM_CLICKS);
    bl_synth_colour_init(&g->colour, p->noise, fs);
    g->noise_rms = pow(10.0, p->noise_db / 20.0);

    bl_synth_rng r;
    bl_rng_seed(&r, p->seed, ch, BL_SYNTH_STREAM_LEVEL);
    for (int j = 0; j < 3; j++) {
        g->lvl_db_amp[j] = bl_rng_range(&r, 0.5, 1.0);
        g->lvl_period[j] = bl_rng_range(&r, 120, 1800);
        g->lvl_phase[j] = bl_rng_range(&r, 0, BL_SYNTH_TWO_PI);
    }

    if (p->ships) {
        bl_rng_seed(&r, p->seed, ch, BL_SYNTH_STREAM_SHIPS);
        g->n_ships = 1 + (int)(p->seconds / 900.0);
        g->ships = calloc((size_t)g->n_ships, sizeof *g->ships);
        BL_CHECK_ALLOC(g->ships);
        for (int i = 0; i < g->n_ships; i++) {
            bl_synth_ship *s = &g->ships[i];
            s->dur = bl_rng_range(&r, 240, 1200);
            /* the passage's midpoint falls inside the file, so short files hear a ship */
            s->t0 = bl_rng_range(&r, -0.5 * s->dur, p->seconds - 0.5 * s->dur);
            s->f = bl_rng_range(&r, 50, 250);
            s->partials = (int)fmin(BL_SYNTH_SHIP_PARTIALS, fmax(1, floor(500.0 / s->f)));
            s->amp[0] = g->noise_rms * pow(10.0, bl_rng_range(&r, -12, 0) / 20.0); /* at CPA, vs broadband RMS */
            for (int k = 1; k < BL_SYNTH_SHIP_PARTIALS; k++) s->amp[k] = s->amp[k - 1] * bl_rng_range(&r, 0.3, 0.8);
            s->wander_depth = bl_rng_range(&r, 0.003, 0.01);
            s->wander_period = bl_rng_range(&r, 60, 600);
            s->wander_phase = bl_rng_range(&r, 0, BL_SYNTH_TWO_PI);
            s->drift = bl_rng_range(&r, -0.02, 0.02);
            double ph = bl_rng_range(&r, 0, BL_SYNTH_TWO_PI);
            s->zr = cos(ph);
            s->zi = sin(ph);
        }
    }
    g->clicks_on = p->clicks;
    g->click_next = p->clicks ? bl_synth_click_gap(&g->click_rng, fs) - 1 : INT64_MAX;
    return BL_OK;
}

/* New control segment `seg`: level and ship envelopes at its ends, ship frequencies at its
 * middle. Pure functions of the segment index, so any cut of the stream gives them alike. */
static void bl_synth_bg_controls(bl_synth_bg *g, int64_t seg, double fs) {
    double ta = (double)(seg * BL_SYNTH_SEG) / fs, tb = (double)((seg + 1) * BL_SYNTH_SEG) / fs;
    g->seg = seg;
    g->l0 = bl_synth_level_at(g, ta) * g->noise_rms * g->colour.norm;
    g->l1 = bl_synth_level_at(g, tb) * g->noise_rms * g->colour.norm;
    for (int i = 0; i < g->n_ships; i++) {
        bl_synth_ship *s = &g->ships[i];
        s->live = ta < s->t0 + s->dur && tb > s->t0;
        if (!s->live) continue;
        s->e0 = bl_synth_ship_env(s, ta);
        s->e1 = bl_synth_ship_env(s, tb);
        double tm = 0.5 * (ta + tb);
        double f = s->f * (1 + s->wander_depth * sin(BL_SYNTH_TWO_PI * tm / s->wander_period + s->wander_phase) +
                           s->drift * (tm - s->t0 - 0.5 * s->dur) / s->dur);
        s->wr = cos(BL_SYNTH_TWO_PI * f / fs);
        s->wi = sin(BL_SYNTH_TWO_PI * f / fs);
        /* keep the recursive phasor on the unit circle */
        double m = sqrt(s->zr * s->zr + s->zi * s->zi);
        s->zr /= m;
        s->zi /= m;
    }
}

/* Background samples [n0, n1) (absolute, contiguous with the previous call) into out. */
static void bl_synth_bg_generate(bl_synth_bg *g, double fs, int64_t n0, int64_t n1, float *out) {
    const bl_synth_colour *f = &g->colour;
    const double inv_seg = 1.0 / BL_SYNTH_SEG, sqrt12 = 3.4641016151377545870548926830117;
    int64_t n = n0;
    while (n < n1) {
        int64_t seg = n / BL_SYNTH_SEG;
        if (seg != g->seg) bl_synth_bg_controls(g, seg, fs);
        int64_t seg0 = seg * BL_SYNTH_SEG, m1 = seg0 + BL_SYNTH_SEG < n1 ? seg0 + BL_SYNTH_SEG : n1;
        float *o = out + (n - n0);
        int64_t cnt = m1 - n;
        /* coloured noise with a linearly interpolated level */
        double dl = (g->l1 - g->l0) * inv_seg;
        {
            /* locals so that the state stays in registers (out may alias nothing, but the
             * compiler cannot know that g does not) */
            bl_synth_rng rng = g->noise_rng;
            double st[BL_SYNTH_MAX_POLES], xprev = g->xprev, l0 = g->l0;
            const int64_t j0 = n - seg0; /* offsets from the segment start: same at any cut */
            const int np = f->np;
            memcpy(st, g->s, sizeof st);
            for (int64_t j = 0; j < cnt; j++) {
                double x = (bl_rng_u01(&rng) - 0.5) * sqrt12;
                double y = f->d0 * x + f->d1 * xprev;
                for (int i = 0; i < np; i++) {
                    st[i] = f->a[i] * st[i] + f->c[i] * x;
                    y += st[i];
                }
                xprev = x;
                o[j] = (float)(y * (l0 + dl * (double)(j0 + j)));
            }
            memcpy(g->s, st, sizeof st);
            g->xprev = xprev;
            g->noise_rng = rng;
        }
        /* ship tonals: harmonics as powers of the fundamental phasor */
        for (int i = 0; i < g->n_ships; i++) {
            bl_synth_ship *s = &g->ships[i];
            if (!s->live) continue;
            double de = (s->e1 - s->e0) * inv_seg, e0 = s->e0;
            const int64_t j0 = n - seg0;
            double zr = s->zr, zi = s->zi;
            const double wr = s->wr, wi = s->wi;
            for (int64_t j = 0; j < cnt; j++) {
                double tr = zr * wr - zi * wi;
                zi = zr * wi + zi * wr;
                zr = tr;
                double v = s->amp[0] * zi, hr = zr, hi = zi;
                for (int k = 1; k < s->partials; k++) {
                    double ur = hr * zr - hi * zi;
                    hi = hr * zi + hi * zr;
                    hr = ur;
                    v += s->amp[k] * hi;
                }
                o[j] += (float)(v * (e0 + de * (double)(j0 + j)));
            }
            s->zr = zr;
            s->zi = zi;
        }
        /* clicks: damped sinusoids, one at a time, Poisson starts */
        int64_t c = n;
        while (c < m1) {
            if (g->click_left == 0) {
                if (g->click_next >= m1) break;
                c = g->click_next;
                bl_synth_rng *r = &g->click_rng;
                double amp = fmin(0.5, g->noise_rms * pow(10.0, bl_rng_range(r, 12, 30) / 20.0)); /* below full scale */
                double fc = bl_rng_range(r, 1000, fmin(6000, 0.4 * fs));
                double tau = bl_rng_range(r, 1e-4, 6e-4), ph = bl_rng_range(r, 0, BL_SYNTH_TWO_PI);
                double decay = exp(-1.0 / (tau * fs));
                g->click_left = (int64_t)ceil(8 * tau * fs);
                g->czr = amp * cos(ph);
                g->czi = amp * sin(ph);
                g->cwr = decay * cos(BL_SYNTH_TWO_PI * fc / fs);
                g->cwi = decay * sin(BL_SYNTH_TWO_PI * fc / fs);
            }
            int64_t run = m1 - c < g->click_left ? m1 - c : g->click_left;
            for (int64_t j = 0; j < run; j++) {
                out[c - n0 + j] += (float)g->czi;
                double zr = g->czr * g->cwr - g->czi * g->cwi;
                g->czi = g->czr * g->cwi + g->czi * g->cwr;
                g->czr = zr;
            }
            c += run;
            g->click_left -= run;
            if (g->click_left == 0) g->click_next = c + bl_synth_click_gap(&g->click_rng, fs) - 1;
        }
        n = m1;
    }
}

/* ------------------------------------------------------------- parameters -------------- */

void bl_synth_params_default(bl_synth_params *p) {
    memset(p, 0, sizeof *p);
    p->seconds = 600;
    p->sample_rate = 16000;
    p->channels = 1;
    p->n_calls = -1;
    p->kinds = BL_SYNTH_ALL_KINDS;
    p->snr_min_db = 0;
    p->snr_max_db = 20;
    p->seed = 1;
    p->noise = BL_SYNTH_NOISE_OCEAN;
    p->noise_db = -30;
    p->ships = 1;
    p->clicks = 1;
    p->format = BL_SYNTH_WAV;
    p->subtype = BL_SYNTH_PCM24;
    p->content = BL_SYNTH_MIX;
    p->block_frames = 0;
}

#define BL_SYNTH_MAX_SECONDS (14.0 * 86400.0)

static bl_status bl_synth_validate_fields(const bl_synth_params *p) {
    BL_RETURN_IF(!p, BL_ERR_INVALID_ARG, "synth: no parameters");
    BL_RETURN_IF(!(p->seconds > 0 && p->seconds <= BL_SYNTH_MAX_SECONDS), BL_ERR_INVALID_ARG,
                 "--seconds %g: must be > 0 and at most %g (14 days)", p->seconds, BL_SYNTH_MAX_SECONDS);
    BL_RETURN_IF(p->sample_rate < 4000 || p->sample_rate > 384000, BL_ERR_INVALID_ARG,
                 "--rate %d: must be in 4000..384000 Hz", p->sample_rate);
    BL_RETURN_IF(llround(p->seconds * p->sample_rate) < 1, BL_ERR_INVALID_ARG,
                 "--seconds %g: shorter than one sample at %d Hz", p->seconds, p->sample_rate);
    int max_ch = p->format == BL_SYNTH_FLAC ? 8 : 64;
    BL_RETURN_IF(p->channels < 1 || p->channels > max_ch, BL_ERR_INVALID_ARG, "--channels %d: must be in 1..%d%s",
                 p->channels, max_ch, p->format == BL_SYNTH_FLAC ? " for FLAC" : "");
    BL_RETURN_IF(p->n_calls > 1000000, BL_ERR_INVALID_ARG, "--calls %ld: at most 1000000 per channel", p->n_calls);
    BL_RETURN_IF(!(p->kinds & BL_SYNTH_ALL_KINDS) || (p->kinds & ~(unsigned)BL_SYNTH_ALL_KINDS), BL_ERR_INVALID_ARG,
                 "--kinds: pick upcall, song_unit or both");
    BL_RETURN_IF(!(p->snr_min_db >= -30 && p->snr_max_db <= 60 && p->snr_min_db <= p->snr_max_db),
                 BL_ERR_INVALID_ARG, "--snr %g:%g: need -30 <= MIN <= MAX <= 60 dB", p->snr_min_db, p->snr_max_db);
    BL_RETURN_IF((unsigned)p->noise > BL_SYNTH_NOISE_WHITE, BL_ERR_INVALID_ARG,
                 "--noise: pick ocean, pink, brown or white");
    BL_RETURN_IF(!(p->noise_db >= -120 && p->noise_db <= -6), BL_ERR_INVALID_ARG,
                 "--noise-db %g: must be in -120..-6 dBFS", p->noise_db);
    BL_RETURN_IF((unsigned)p->format > BL_SYNTH_FLAC, BL_ERR_INVALID_ARG, "--format: pick wav or flac");
    BL_RETURN_IF((unsigned)p->subtype > BL_SYNTH_FLOAT, BL_ERR_INVALID_ARG, "--subtype: pick pcm16, pcm24 or float");
    BL_RETURN_IF(p->format == BL_SYNTH_FLAC && p->subtype == BL_SYNTH_FLOAT, BL_ERR_INVALID_ARG,
                 "--subtype float: FLAC stores integers; use --subtype pcm16 or pcm24, or --format wav");
    BL_RETURN_IF((unsigned)p->content > BL_SYNTH_BACKGROUND_ONLY, BL_ERR_INVALID_ARG,
                 "--only: pick calls or background");
    BL_RETURN_IF(p->block_frames > ((size_t)1 << 24), BL_ERR_INVALID_ARG,
                 "block_frames %zu: at most 16777216", p->block_frames);
    return BL_OK;
}

bl_status bl_synth_params_validate(const bl_synth_params *p) {
    BL_TRY(bl_synth_validate_fields(p));
    int64_t frames = llround(p->seconds * p->sample_rate);
    long n = bl_synth_calls_per_channel(p);
    if (n == 0) return BL_OK;
    bl_synth_call *calls = malloc((size_t)n * sizeof *calls);
    BL_CHECK_ALLOC(calls);
    bl_status s = BL_OK;
    for (int ch = 0; ch < p->channels && s == BL_OK; ch++) s = bl_synth_plan_channel(p, ch, frames, calls, n);
    free(calls);
    return s;
}

bl_status bl_synth_truth_path(const char *out_path, char *buf, size_t cap) {
    BL_RETURN_IF(!out_path || !out_path[0], BL_ERR_INVALID_ARG, "no output path");
    const char *slash = strrchr(out_path, '/');
    const char *base = slash ? slash + 1 : out_path;
    const char *dot = strrchr(base, '.');
    size_t stem = (dot && dot != base) ? (size_t)(dot - out_path) : strlen(out_path);
    int w = snprintf(buf, cap, "%.*s.truth.csv", (int)stem, out_path);
    BL_RETURN_IF(w < 0 || (size_t)w >= cap, BL_ERR_RANGE, "truth path for %s: longer than %zu bytes", out_path, cap);
    return BL_OK;
}

/* ------------------------------------------------------------------ writing ------------ */

typedef struct {
    bl_synth_bg bg;
    bl_synth_call *calls;
    long n_calls, next_call;
    float *bgbuf, *callbuf; /* samples [w, w + filled) of background and of calls alone */
    size_t filled;
} bl_synth_chan;

typedef struct {
    const bl_synth_params *p;
    int64_t frames;
    size_t block, cap;
    bl_synth_chan *ch;
    float *scratch;  /* one call at unit gain */
    float *inter;    /* interleaved output block (FLOAT) */
    int32_t *inter_i; /* interleaved output block (PCM, left-aligned as libsndfile wants) */
    bl_synth_fft fft;
    int64_t clipped;
} bl_synth_job;

static void bl_synth_job_free(bl_synth_job *j) {
    if (j->ch) {
        for (int c = 0; c < j->p->channels; c++) {
            free(j->ch[c].bg.ships);
            free(j->ch[c].calls);
            free(j->ch[c].bgbuf);
            free(j->ch[c].callbuf);
        }
        free(j->ch);
    }
    free(j->scratch);
    free(j->inter);
    free(j->inter_i);
    bl_synth_fft_free(&j->fft);
}

static bl_status bl_synth_job_init(bl_synth_job *j, const bl_synth_params *p) {
    memset(j, 0, sizeof *j);
    j->p = p;
    j->frames = llround(p->seconds * p->sample_rate);
    j->block = p->block_frames ? p->block_frames : 65536;
    j->ch = calloc((size_t)p->channels, sizeof *j->ch);
    BL_CHECK_ALLOC(j->ch);
    long n = bl_synth_calls_per_channel(p);
    int64_t longest = 0;
    for (int c = 0; c < p->channels; c++) {
        bl_synth_chan *h = &j->ch[c];
        BL_TRY(bl_synth_bg_init(&h->bg, p, c));
        h->n_calls = n;
        if (n) {
            h->calls = malloc((size_t)n * sizeof *h->calls);
            BL_CHECK_ALLOC(h->calls);
            BL_TRY(bl_synth_plan_channel(p, c, j->frames, h->calls, n));
            for (long i = 0; i < n; i++)
                if (h->calls[i].len > longest) longest = h->calls[i].len;
        }
    }
    /* a call starting in the block may end up to `longest` samples past it */
    j->cap = j->block + (size_t)longest;
    for (int c = 0; c < p->channels; c++) {
        j->ch[c].bgbuf = malloc(j->cap * sizeof(float));
        j->ch[c].callbuf = malloc(j->cap * sizeof(float));
        BL_CHECK_ALLOC(j->ch[c].bgbuf);
        BL_CHECK_ALLOC(j->ch[c].callbuf);
    }
    j->scratch = malloc((size_t)(longest ? longest : 1) * sizeof(float));
    if (p->subtype == BL_SYNTH_FLOAT) {
        j->inter = malloc(j->block * (size_t)p->channels * sizeof(float));
        BL_CHECK_ALLOC(j->inter);
    } else {
        j->inter_i = malloc(j->block * (size_t)p->channels * sizeof(int32_t));
        BL_CHECK_ALLOC(j->inter_i);
    }
    BL_CHECK_ALLOC(j->scratch);
    return BL_OK;
}

/* Make channel h ready to emit [w, w + b): background generated at least to w + b and to the
 * end of every call starting before w + b, those calls measured, scaled and added. */
static bl_status bl_synth_chan_fill(bl_synth_job *j, bl_synth_chan *h, int64_t w, size_t b) {
    double fs = j->p->sample_rate;
    int64_t target = w + (int64_t)b;
    for (long i = h->next_call; i < h->n_calls && h->calls[i].start < w + (int64_t)b; i++) {
        int64_t e = h->calls[i].start + h->calls[i].len;
        if (e > target) target = e;
    }
    int64_t have = w + (int64_t)h->filled;
    if (target > have) {
        bl_synth_bg_generate(&h->bg, fs, have, target, h->bgbuf + h->filled);
        memset(h->callbuf + h->filled, 0, (size_t)(target - have) * sizeof(float));
        h->filled = (size_t)(target - w);
    }
    for (; h->next_call < h->n_calls && h->calls[h->next_call].start < w + (int64_t)b; h->next_call++) {
        const bl_synth_call *c = &h->calls[h->next_call];
        size_t off = (size_t)(c->start - w);
        double lo = 0.9 * fmin(c->f0, c->f1), hi = 1.1 * fmax(c->f0, c->f1), eb, ec;
        BL_TRY(bl_synth_band_energy_ws(&j->fft, h->bgbuf + off, (size_t)c->len, fs, lo, hi, &eb));
        bl_synth_render_call(c, fs, j->scratch);
        BL_TRY(bl_synth_band_energy_ws(&j->fft, j->scratch, (size_t)c->len, fs, lo, hi, &ec));
        if (!(eb > 0)) eb = 1e-30 * (double)c->len; /* silent band: keep the gain finite */
        float g = (float)sqrt(pow(10.0, c->snr_db / 10.0) * eb / ec);
        for (int64_t n = 0; n < c->len; n++) h->callbuf[off + (size_t)n] += g * j->scratch[n];
    }
    return BL_OK;
}

static void bl_synth_chan_shift(bl_synth_chan *h, size_t b) {
    h->filled -= b;
    memmove(h->bgbuf, h->bgbuf + b, h->filled * sizeof(float));
    memmove(h->callbuf, h->callbuf + b, h->filled * sizeof(float));
}

static bl_status bl_synth_io_error(int err, const char *what, const char *path) {
    bl_status s = err == ENOSPC || err == EDQUOT ? BL_ERR_NO_SPACE : BL_ERR_IO;
    return BL_ERROR(s, "%s %s: %s", what, path, err ? strerror(err) : "unknown error");
}

/* The stop flag, polled between blocks. */
static bl_status bl_synth_check_stop(const bl_synth_params *p, const char *path) {
    if (p->stop && *p->stop)
        return BL_ERROR(BL_ERR_IO, "stopped by signal %d before the end; nothing written to %s", (int)*p->stop, path);
    return BL_OK;
}

static const char *bl_synth_kind_name(int kind) { return kind == BL_SYNTH_UPCALL ? "upcall" : "song_unit"; }

static bl_status bl_synth_write_truth(const bl_synth_job *j, const char *path, bl_outfile **t) {
    BL_TRY(bl_synth_check_stop(j->p, path));
    BL_TRY(bl_outfile_open(path, 0, t));
    int fd = dup(bl_outfile_fd(*t)); /* the FILE closes its own descriptor; t keeps the file */
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) close(fd);
        bl_outfile_discard(*t);
        *t = NULL;
        return bl_synth_io_error(e, "cannot open the temporary file for", path);
    }
    double fs = j->p->sample_rate;
    fprintf(f, "kind,channel,start_s,end_s,f0_hz,f1_hz,snr_db\n");
    for (int c = 0; c < j->p->channels; c++)
        for (long i = 0; i < j->ch[c].n_calls; i++) {
            const bl_synth_call *k = &j->ch[c].calls[i];
            fprintf(f, "%s,%d,%.6f,%.6f,%.1f,%.1f,%.2f\n", bl_synth_kind_name(k->kind), c, (double)k->start / fs,
                    (double)(k->start + k->len) / fs, k->f0, k->f1, k->snr_db);
        }
    errno = 0;
    bool bad = fflush(f) != 0 || ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad) bad = true, e = errno;
    return bad ? bl_synth_io_error(e, "cannot write the temporary file for", path) : BL_OK;
}

static const char *bl_synth_noise_name(bl_synth_noise n) {
    static const char *names[] = {"ocean", "pink", "brown", "white"};
    return (unsigned)n <= BL_SYNTH_NOISE_WHITE ? names[n] : "?";
}

static bl_status bl_synth_write_audio(bl_synth_job *j, const char *path, bl_outfile **t) {
    const bl_synth_params *p = j->p;
    int sub = p->subtype == BL_SYNTH_PCM16 ? SF_FORMAT_PCM_16 : p->subtype == BL_SYNTH_FLOAT ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_24;
    int bytes = p->subtype == BL_SYNTH_PCM16 ? 2 : p->subtype == BL_SYNTH_FLOAT ? 4 : 3;
    double data_bytes = (double)j->frames * p->channels * bytes;
    int major = p->format == BL_SYNTH_FLAC ? SF_FORMAT_FLAC : data_bytes > 4294967295.0 - 65536.0 ? SF_FORMAT_RF64 : SF_FORMAT_WAV;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = p->sample_rate;
    info.channels = p->channels;
    info.format = major | sub;
    BL_RETURN_IF(!sf_format_check(&info), BL_ERR_UNSUPPORTED, "libsndfile cannot write this format (%d channels, %d Hz)",
                 p->channels, p->sample_rate);

    BL_TRY(bl_synth_check_stop(p, path));
    /* seekable: libsndfile goes back to the header at the end (a FIFO or stdout target gets a
     * scratch file, copied out when complete) */
    BL_TRY(bl_outfile_open(path, BL_OUTFILE_SEEKABLE, t));
    SNDFILE *sf = sf_open_fd(bl_outfile_fd(*t), SFM_WRITE, &info, 0); /* 0: the descriptor stays t's */
    if (!sf) {
        bl_status s = BL_ERROR(BL_ERR_IO, "cannot write the temporary file for %s: %s", path, sf_strerror(NULL));
        bl_outfile_discard(*t);
        *t = NULL;
        return s;
    }
    char comment[512];
    snprintf(comment, sizeof comment,
             "baleen synth seed=%llu seconds=%g rate=%d channels=%d calls=%ld kinds=%s snr=%g:%g noise=%s "
             "noise_db=%g ships=%d clicks=%d content=%d",
             (unsigned long long)p->seed, p->seconds, p->sample_rate, p->channels, bl_synth_calls_per_channel(p),
             (p->kinds & BL_SYNTH_ALL_KINDS) == BL_SYNTH_ALL_KINDS ? "upcall,song_unit"
             : (p->kinds & BL_SYNTH_UPCALL)                        ? "upcall"
                                                                   : "song_unit",
             p->snr_min_db, p->snr_max_db, bl_synth_noise_name(p->noise), p->noise_db, p->ships, p->clicks,
             (int)p->content);
    sf_set_string(sf, SF_STR_SOFTWARE, "baleen synth");
    sf_set_string(sf, SF_STR_COMMENT, comment);

    bl_status s = BL_OK;
    int use_bg = p->content != BL_SYNTH_CALLS_ONLY, use_calls = p->content != BL_SYNTH_BACKGROUND_ONLY;
    int C = p->channels;
    int pcm_bits = p->subtype == BL_SYNTH_FLOAT ? 0 : 8 * bytes;
    double qscale = pcm_bits ? (double)(1L << (pcm_bits - 1)) : 1, qmax = qscale - 1;
    double qshift = pcm_bits ? (double)(1L << (32 - pcm_bits)) : 1;
    for (int64_t w = 0; w < j->frames && s == BL_OK; w += (int64_t)j->block) {
        if ((s = bl_synth_check_stop(p, path)) != BL_OK) break;
        size_t b = (size_t)(j->frames - w < (int64_t)j->block ? j->frames - w : (int64_t)j->block);
        for (int c = 0; c < C && s == BL_OK; c++) {
            bl_synth_chan *h = &j->ch[c];
            s = bl_synth_chan_fill(j, h, w, b);
            if (s != BL_OK) break;
            for (size_t i = 0; i < b; i++) {
                float v = (use_bg ? h->bgbuf[i] : 0.0f) + (use_calls ? h->callbuf[i] : 0.0f);
                size_t at = i * (size_t)C + (size_t)c;
                if (pcm_bits) {
                    /* Quantized here rather than by libsndfile, whose float→int rounding
                     * differs between WAV and FLAC: q = round(v·2^(bits-1)), clamped. */
                    double q = nearbyint((double)v * qscale);
                    if (q > qmax || q < -qmax - 1) {
                        q = q > 0 ? qmax : -qmax - 1;
                        j->clipped++;
                    }
                    j->inter_i[at] = (int32_t)(q * qshift); /* libsndfile takes the top bits */
                } else {
                    if (v > 1.0f || v < -1.0f) {
                        v = v > 0 ? 1.0f : -1.0f;
                        j->clipped++;
                    }
                    j->inter[at] = v;
                }
            }
            bl_synth_chan_shift(h, b);
        }
        if (s != BL_OK) break;
        errno = 0;
        sf_count_t put = pcm_bits ? sf_writef_int(sf, j->inter_i, (sf_count_t)b) : sf_writef_float(sf, j->inter, (sf_count_t)b);
        if (put != (sf_count_t)b) {
            int e = errno;
            s = BL_ERROR(e == ENOSPC ? BL_ERR_NO_SPACE : BL_ERR_IO, "cannot write the temporary file for %s: %s", path,
                         sf_strerror(sf));
        }
    }
    if (sf_close(sf) != 0 && s == BL_OK)
        s = BL_ERROR(BL_ERR_IO, "cannot finish the temporary file for %s: %s", path, sf_strerror(NULL));
    if (s == BL_OK && j->clipped)
        BL_LOG_W("synth: %lld samples of %s clipped at full scale; lower --noise-db or --snr", (long long)j->clipped, path);
    return s;
}

bl_status bl_synth_write(const bl_synth_params *p, const char *out_path, const char *truth_csv_path,
                         long *calls_written) {
    BL_RETURN_IF(!out_path || !out_path[0], BL_ERR_INVALID_ARG, "-o: no output path");
    BL_TRY(bl_synth_validate_fields(p));
    char *truth_buf = NULL;
    if (!truth_csv_path) {
        size_t cap = strlen(out_path) + sizeof ".truth.csv";
        truth_buf = malloc(cap);
        BL_CHECK_ALLOC(truth_buf);
        bl_status s = bl_synth_truth_path(out_path, truth_buf, cap);
        if (s != BL_OK) {
            free(truth_buf);
            return s;
        }
        truth_csv_path = truth_buf;
    }
    bl_status s = BL_OK;
    if (!strcmp(truth_csv_path, out_path))
        s = BL_ERROR(BL_ERR_INVALID_ARG, "--truth %s: same path as the audio output", truth_csv_path);
    bl_synth_job j;
    memset(&j, 0, sizeof j);
    bl_outfile *audio = NULL, *truth = NULL;
    if (s == BL_OK) s = bl_synth_job_init(&j, p);
    if (s == BL_OK) s = bl_synth_write_audio(&j, out_path, &audio);
    if (s == BL_OK) s = bl_synth_write_truth(&j, truth_csv_path, &truth);
    /* Both complete: now put them in place (io/outfile.h: fsync, rename over a regular file,
     * or in place for a device or FIFO). */
    if (s == BL_OK) {
        s = bl_outfile_commit(audio);
        audio = NULL;
    }
    if (s == BL_OK) {
        s = bl_outfile_commit(truth);
        truth = NULL;
    }
    bl_outfile_discard(audio); /* removes what is not in place */
    bl_outfile_discard(truth);
    if (s == BL_OK && calls_written) *calls_written = bl_synth_calls_per_channel(p) * p->channels;
    if (j.p) bl_synth_job_free(&j);
    free(truth_buf);
    return s;
}
