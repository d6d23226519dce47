/* fft_impl.h — private to core/fft.c: the body of the batched real FFT, written once and
 * instantiated by fft.c for each code path (a template by inclusion). Before including it,
 * fft.c defines:
 *   FFT_FN(name)   the instance's name for `name` (e.g. name##_avx2)
 *   FFT_ATTR       function attributes (e.g. the target ISA), possibly empty
 *   FFT_V          the element type: a float vector of 16, 8 or 4 lanes, or float
 *   FFT_LD(p)      load one FFT_V from float *p;  FFT_ST(p, v) store it
 *   FFT_SET1(s)    an FFT_V with every lane s
 * and afterwards #undefs them (FFT_INLINE, "inline" plus always_inline where the compiler
 * has it, stays defined for all instances). Only + - * on FFT_V appear below, each written out (no
 * fused multiply-add can form: the paths then agree bit for bit).
 *
 * Data layout, in floats, with L = BL_RFFT_LANES (16): complex point j of the lane group
 * sits at [2Lj, 2Lj+L) (real parts of the L lanes) and [2Lj+L, 2Lj+2L) (imaginary parts).
 * An instance whose FFT_V has W lanes is run L/W times with the base pointers moved by W
 * floats each time (one 16-lane AVX-512 run; two 8-lane AVX2 runs; four 4-lane generic
 * runs; sixteen scalar runs), so every offset below is the same for all instances.
 *
 * Owns nothing; reads the plan's twiddles, writes only the caller's buffers.
 */


#define FL BL_RFFT_LANES
/* Points per block of the depth-first stages: 128 points x 2L floats = 16 KB, a third of
 * a typical L1 data cache. */
#define FFT_BLOCK_POINTS 128

/* One radix-4 decimation-in-frequency stage over points [0, n) of x (n a multiple of len):
 * each block of len points splits into 4 interleaved sub-transforms of len/4: leg r of the
 * butterfly at offset j goes, times w^(jr), to offset j + r*len/4 of the block. tw: the
 * stage's twiddles, 6 floats per j < len/4 (j = 0's are 1 and not read). */
static FFT_ATTR FFT_INLINE void FFT_FN(fft_stage4)(float *x, size_t n, size_t len,
                                                   const float *tw) {
    size_t l4 = len / 4, q = 2 * FL * l4;
    /* j = 0: all twiddles are 1, so no multiplications (the last stage is all j = 0) */
    for (size_t b0 = 0; b0 < n; b0 += len) {
        float *a = x + 2 * FL * b0, *b = a + q, *c = b + q, *d = c + q;
        FFT_V ar = FFT_LD(a), ai = FFT_LD(a + FL);
        FFT_V br = FFT_LD(b), bi = FFT_LD(b + FL);
        FFT_V cr = FFT_LD(c), ci = FFT_LD(c + FL);
        FFT_V dr = FFT_LD(d), di = FFT_LD(d + FL);
        FFT_V apcr = ar + cr, apci = ai + ci, amcr = ar - cr, amci = ai - ci;
        FFT_V bpdr = br + dr, bpdi = bi + di, bmdr = br - dr, bmdi = bi - di;
        FFT_ST(a, apcr + bpdr);
        FFT_ST(a + FL, apci + bpdi);
        FFT_ST(b, amcr + bmdi);
        FFT_ST(b + FL, amci - bmdr);
        FFT_ST(c, apcr - bpdr);
        FFT_ST(c + FL, apci - bpdi);
        FFT_ST(d, amcr - bmdi);
        FFT_ST(d + FL, amci + bmdr);
    }
    tw += 6;
    for (size_t j = 1; j < l4; j++, tw += 6) {
        FFT_V w1r = FFT_SET1(tw[0]), w1i = FFT_SET1(tw[1]);
        FFT_V w2r = FFT_SET1(tw[2]), w2i = FFT_SET1(tw[3]);
        FFT_V w3r = FFT_SET1(tw[4]), w3i = FFT_SET1(tw[5]);
        for (size_t b0 = 0; b0 < n; b0 += len) {
            float *a = x + 2 * FL * (b0 + j), *b = a + q, *c = b + q, *d = c + q;
            FFT_V ar = FFT_LD(a), ai = FFT_LD(a + FL);
            FFT_V br = FFT_LD(b), bi = FFT_LD(b + FL);
            FFT_V cr = FFT_LD(c), ci = FFT_LD(c + FL);
            FFT_V dr = FFT_LD(d), di = FFT_LD(d + FL);
            FFT_V apcr = ar + cr, apci = ai + ci, amcr = ar - cr, amci = ai - ci;
            FFT_V bpdr = br + dr, bpdi = bi + di, bmdr = br - dr, bmdi = bi - di;
            /* legs: apc+bpd, amc - i*bmd, apc-bpd, amc + i*bmd */
            FFT_V t1r = amcr + bmdi, t1i = amci - bmdr;
            FFT_V t2r = apcr - bpdr, t2i = apci - bpdi;
            FFT_V t3r = amcr - bmdi, t3i = amci + bmdr;
            FFT_ST(a, apcr + bpdr);
            FFT_ST(a + FL, apci + bpdi);
            FFT_ST(b, t1r * w1r - t1i * w1i);
            FFT_ST(b + FL, t1r * w1i + t1i * w1r);
            FFT_ST(c, t2r * w2r - t2i * w2i);
            FFT_ST(c + FL, t2r * w2i + t2i * w2r);
            FFT_ST(d, t3r * w3r - t3i * w3i);
            FFT_ST(d + FL, t3r * w3i + t3i * w3r);
        }
    }
}

/* The last radix-2 stage (log2(N) odd) over points [0, n): twiddle-free pairs. */
static FFT_ATTR FFT_INLINE void FFT_FN(fft_stage2)(float *x, size_t n) {
    for (size_t b0 = 0; b0 < n; b0 += 2) {
        float *a = x + 2 * FL * b0, *b = a + 2 * FL;
        FFT_V ar = FFT_LD(a), ai = FFT_LD(a + FL);
        FFT_V br = FFT_LD(b), bi = FFT_LD(b + FL);
        FFT_ST(a, ar + br);
        FFT_ST(a + FL, ai + bi);
        FFT_ST(b, ar - br);
        FFT_ST(b + FL, ai - bi);
    }
}

/* The radix-4 stage of length 8 followed by the radix-2 stage, over points [0, n), in one
 * pass: per block of 8 points, the j = 0 butterfly P (points 0, 2, 4, 6; no twiddles) and
 * the j = 1 butterfly Q (points 1, 3, 5, 7; twiddles tw[6..11]) leave leg r at points 2r and
 * 2r+1, which the radix-2 stage then combines: P_r + Q_r, P_r - Q_r. The same operations
 * as fft_stage4 then fft_stage2, without storing and reloading the block in between. */
static FFT_ATTR FFT_INLINE void FFT_FN(fft_stage8x2)(float *x, size_t n, const float *tw) {
    FFT_V w1r = FFT_SET1(tw[6]), w1i = FFT_SET1(tw[7]);
    FFT_V w2r = FFT_SET1(tw[8]), w2i = FFT_SET1(tw[9]);
    FFT_V w3r = FFT_SET1(tw[10]), w3i = FFT_SET1(tw[11]);
    for (size_t b0 = 0; b0 < n; b0 += 8) {
        float *p = x + 2 * FL * b0;
        FFT_V pr[4], pi[4], qr[4], qi[4];
        {
            FFT_V ar = FFT_LD(p), ai = FFT_LD(p + FL);
            FFT_V br = FFT_LD(p + 4 * FL), bi = FFT_LD(p + 5 * FL);
            FFT_V cr = FFT_LD(p + 8 * FL), ci = FFT_LD(p + 9 * FL);
            FFT_V dr = FFT_LD(p + 12 * FL), di = FFT_LD(p + 13 * FL);
            FFT_V apcr = ar + cr, apci = ai + ci, amcr = ar - cr, amci = ai - ci;
            FFT_V bpdr = br + dr, bpdi = bi + di, bmdr = br - dr, bmdi = bi - di;
            pr[0] = apcr + bpdr, pi[0] = apci + bpdi;
            pr[1] = amcr + bmdi, pi[1] = amci - bmdr;
            pr[2] = apcr - bpdr, pi[2] = apci - bpdi;
            pr[3] = amcr - bmdi, pi[3] = amci + bmdr;
        }
        {
            FFT_V ar = FFT_LD(p + 2 * FL), ai = FFT_LD(p + 3 * FL);
            FFT_V br = FFT_LD(p + 6 * FL), bi = FFT_LD(p + 7 * FL);
            FFT_V cr = FFT_LD(p + 10 * FL), ci = FFT_LD(p + 11 * FL);
            FFT_V dr = FFT_LD(p + 14 * FL), di = FFT_LD(p + 15 * FL);
            FFT_V apcr = ar + cr, apci = ai + ci, amcr = ar - cr, amci = ai - ci;
            FFT_V bpdr = br + dr, bpdi = bi + di, bmdr = br - dr, bmdi = bi - di;
            FFT_V t1r = amcr + bmdi, t1i = amci - bmdr;
            FFT_V t2r = apcr - bpdr, t2i = apci - bpdi;
            FFT_V t3r = amcr - bmdi, t3i = amci + bmdr;
            qr[0] = apcr + bpdr, qi[0] = apci + bpdi;
            qr[1] = t1r * w1r - t1i * w1i, qi[1] = t1r * w1i + t1i * w1r;
            qr[2] = t2r * w2r - t2i * w2i, qi[2] = t2r * w2i + t2i * w2r;
            qr[3] = t3r * w3r - t3i * w3i, qi[3] = t3r * w3i + t3i * w3r;
        }
        for (int r = 0; r < 4; r++) {
            float *a = p + 4 * FL * (size_t)r;
            FFT_ST(a, pr[r] + qr[r]);
            FFT_ST(a + FL, pi[r] + qi[r]);
            FFT_ST(a + 2 * FL, pr[r] - qr[r]);
            FFT_ST(a + 3 * FL, pi[r] - qi[r]);
        }
    }
}

/* In-place complex FFT of the plan's half length N on `x` (N points, destroyed): radix-4
 * decimation-in-frequency stages, then one radix-2 stage when log2(N) is odd, leaving Z in
 * the digit-reversed order the plan's `pos` table undoes. The whole buffer (n*L floats:
 * 64 KB for n = 1024) does not fit in L1, but a stage of length len only mixes points
 * within blocks of len: the large stages sweep the whole buffer, and once blocks are
 * FFT_BLOCK_POINTS or smaller, each block runs all its remaining stages while it sits in
 * L1 (depth first). Every butterfly computes what it computes in stage-by-stage order:
 * only the order of independent butterflies changes, not a bit of the result. */
static FFT_ATTR FFT_INLINE void FFT_FN(fft_core)(const bl_rfft_plan *plan, float *x) {
    size_t N = plan->half, len = N;
    const float *tw = plan->tw4;
    while (len >= 4 && len > FFT_BLOCK_POINTS) {
        FFT_FN(fft_stage4)(x, N, len, tw);
        tw += 6 * (len / 4);
        len /= 4;
    }
    for (size_t b0 = 0; b0 < N; b0 += len) {
        float *xb = x + 2 * FL * b0;
        const float *t = tw;
        size_t l = len;
        for (; l >= 4; l /= 4) {
            if (l == 8) { /* the last radix-4 stage, and the radix-2 one after it */
                FFT_FN(fft_stage8x2)(xb, len, t);
                l = 1;
                break;
            }
            FFT_FN(fft_stage4)(xb, len, l, t);
            t += 6 * (l / 4);
        }
        if (l == 2) FFT_FN(fft_stage2)(xb, len);
    }
}

/* The real-FFT split of the core's output into bins: re/im rows (N+1 rows of L floats
 * each), or, when pw is not NULL, the power rows re*re + im*im instead (the same float
 * expression the caller would evaluate on the stored re/im, so the same bits, one pass and
 * one buffer less). With A = Z[k], B = Z[N-k], h = e^{-2πik/n}/2:
 * X[k] = (A + conj B)/2 - i h (A - conj B). Bins 0 and N from Z[0] alone. */
static FFT_ATTR FFT_INLINE void FFT_FN(fft_post)(const bl_rfft_plan *plan, const float *x,
                                                 float *re, float *im, float *pw) {
    size_t N = plan->half;
    FFT_V zero = FFT_SET1(0.0f), half = FFT_SET1(0.5f);
    const uint32_t *pos = plan->pos;
    FFT_V z0r = FFT_LD(x), z0i = FFT_LD(x + FL); /* Z[0] stays at position 0 */
    FFT_V x0 = z0r + z0i, xn = z0r - z0i;
    if (pw) {
        FFT_ST(pw, x0 * x0 + zero * zero);
        FFT_ST(pw + FL * N, xn * xn + zero * zero);
    } else {
        FFT_ST(re, x0);
        FFT_ST(im, zero);
        FFT_ST(re + FL * N, xn);
        FFT_ST(im + FL * N, zero);
    }
    const float *h = plan->post;
    /* k and N-k read the same two points: one pair of loads for both bins. With A and B
     * swapped, N-k's sums are k's (sr, oi) or their negations (di, or), and its twiddle is
     * h[N-k] = -conj h[k] (e^{-iπ} e^{2πik/n}/2), so its t = (tr, -ti), exactly (a product
     * or sum of negated operands is the negated result in round-to-nearest): bin N-k is
     * (half*sr - ti, -(half*di + tr)). Only the sign of a zero can differ from evaluating
     * the formula with h[N-k] itself; |X|^2 does not see it. */
    for (size_t k = 1; k <= N / 2; k++) {
        size_t k2 = N - k;
        const float *A = x + 2 * FL * (size_t)pos[k], *B = x + 2 * FL * (size_t)pos[k2];
        FFT_V ar = FFT_LD(A), ai = FFT_LD(A + FL), br = FFT_LD(B), bi = FFT_LD(B + FL);
        FFT_V hr = FFT_SET1(h[2 * k]), hi = FFT_SET1(h[2 * k + 1]);
        FFT_V sr = ar + br, di = ai - bi, orr = ar - br, oi = ai + bi;
        FFT_V tr = hr * orr - hi * oi, ti = hr * oi + hi * orr;
        FFT_V hs = half * sr, hd = half * di;
        FFT_V xr = hs + ti, xi = hd - tr;
        if (pw) {
            FFT_ST(pw + FL * k, xr * xr + xi * xi);
        } else {
            FFT_ST(re + FL * k, xr);
            FFT_ST(im + FL * k, xi);
        }
        if (k2 == k) break;
        FFT_V xr2 = hs - ti, nxi2 = hd + tr; /* bin N-k: xr2 - i nxi2 */
        if (pw) {
            FFT_ST(pw + FL * k2, xr2 * xr2 + nxi2 * nxi2);
        } else {
            FFT_ST(re + FL * k2, xr2);
            FFT_ST(im + FL * k2, -nxi2);
        }
    }
}

/* The transform: re/im rows. */
static FFT_ATTR void FFT_FN(fft_run)(const bl_rfft_plan *plan, float *x, float *re,
                                     float *im) {
    FFT_FN(fft_core)(plan, x);
    FFT_FN(fft_post)(plan, x, re, im, NULL);
}

/* The transform followed by |X|^2: power rows. */
static FFT_ATTR void FFT_FN(fft_run_power)(const bl_rfft_plan *plan, float *x, float *pw) {
    FFT_FN(fft_core)(plan, x);
    FFT_FN(fft_post)(plan, x, NULL, NULL, pw);
}

#undef FL
#undef FFT_BLOCK_POINTS
