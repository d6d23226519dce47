/* fft_impl.h — private to core/fft.c: the body of the batched real FFT, written once and
 * instantiated by fft.c for each code path (a template by inclusion). Before including it,
 * fft.c defines:
 *   FFT_FN(name)   the instance's name for `name` (e.g. name##_avx2)
 *   FFT_ATTR       function attributes (e.g. the target ISA), possibly empty
 *   FFT_V          the element type: a float vector of 8 or 4 lanes, or float
 *   FFT_LD(p)      load one FFT_V from float *p;  FFT_ST(p, v) store it
 *   FFT_SET1(s)    an FFT_V with every lane s
 * and afterwards #undefs them. Only + - * on FFT_V appear below, each written out (no
 * fused multiply-add can form: the paths then agree bit for bit).
 *
 * Data layout, in floats: complex point j of the lane group sits at [16j, 16j+8) (real
 * parts of the 8 lanes) and [16j+8, 16j+16) (imaginary parts). An instance whose FFT_V has
 * W lanes is run 8/W times with the base pointers moved by W floats each time (lanes 0-3
 * then 4-7 for 4-lane vectors; one lane at a time for float), so every offset below is the
 * same for all instances.
 *
 * Owns nothing; reads the plan's twiddles, writes only the caller's buffers.
 */

/* In-place complex FFT of the plan's half length N on `x` (N points, destroyed): radix-4
 * decimation-in-frequency stages, then one radix-2 stage when log2(N) is odd, leaving Z in
 * the digit-reversed order the plan's `pos` table undoes; then the real-FFT split into re/im
 * rows (N+1 rows of 8 floats each), reading Z through `pos`. In place, so the working set is
 * one buffer (n*8 floats: 32 KB for n = 1024, which stays in L1). */
static FFT_ATTR void FFT_FN(fft_run)(const bl_rfft_plan *plan, float *x, float *re,
                                     float *im) {
    size_t N = plan->half;
    const float *tw = plan->tw4;
    size_t len = N;
    /* Each block of len points splits into 4 interleaved sub-transforms of len/4: leg r of
     * the butterfly at offset j goes, times w^(jr), to offset j + r*len/4 of the block. */
    while (len >= 4) {
        size_t l4 = len / 4, q = 16 * l4;
        /* j = 0: all twiddles are 1, so no multiplications (the last stage is all j = 0) */
        for (size_t b0 = 0; b0 < N; b0 += len) {
            float *a = x + 16 * b0, *b = a + q, *c = b + q, *d = c + q;
            FFT_V ar = FFT_LD(a), ai = FFT_LD(a + 8);
            FFT_V br = FFT_LD(b), bi = FFT_LD(b + 8);
            FFT_V cr = FFT_LD(c), ci = FFT_LD(c + 8);
            FFT_V dr = FFT_LD(d), di = FFT_LD(d + 8);
            FFT_V apcr = ar + cr, apci = ai + ci, amcr = ar - cr, amci = ai - ci;
            FFT_V bpdr = br + dr, bpdi = bi + di, bmdr = br - dr, bmdi = bi - di;
            FFT_ST(a, apcr + bpdr);
            FFT_ST(a + 8, apci + bpdi);
            FFT_ST(b, amcr + bmdi);
            FFT_ST(b + 8, amci - bmdr);
            FFT_ST(c, apcr - bpdr);
            FFT_ST(c + 8, apci - bpdi);
            FFT_ST(d, amcr - bmdi);
            FFT_ST(d + 8, amci + bmdr);
        }
        tw += 6;
        for (size_t j = 1; j < l4; j++, tw += 6) {
            FFT_V w1r = FFT_SET1(tw[0]), w1i = FFT_SET1(tw[1]);
            FFT_V w2r = FFT_SET1(tw[2]), w2i = FFT_SET1(tw[3]);
            FFT_V w3r = FFT_SET1(tw[4]), w3i = FFT_SET1(tw[5]);
            for (size_t b0 = 0; b0 < N; b0 += len) {
                float *a = x + 16 * (b0 + j), *b = a + q, *c = b + q, *d = c + q;
                FFT_V ar = FFT_LD(a), ai = FFT_LD(a + 8);
                FFT_V br = FFT_LD(b), bi = FFT_LD(b + 8);
                FFT_V cr = FFT_LD(c), ci = FFT_LD(c + 8);
                FFT_V dr = FFT_LD(d), di = FFT_LD(d + 8);
                FFT_V apcr = ar + cr, apci = ai + ci, amcr = ar - cr, amci = ai - ci;
                FFT_V bpdr = br + dr, bpdi = bi + di, bmdr = br - dr, bmdi = bi - di;
                /* legs: apc+bpd, amc - i*bmd, apc-bpd, amc + i*bmd */
                FFT_V t1r = amcr + bmdi, t1i = amci - bmdr;
                FFT_V t2r = apcr - bpdr, t2i = apci - bpdi;
                FFT_V t3r = amcr - bmdi, t3i = amci + bmdr;
                FFT_ST(a, apcr + bpdr);
                FFT_ST(a + 8, apci + bpdi);
                FFT_ST(b, t1r * w1r - t1i * w1i);
                FFT_ST(b + 8, t1r * w1i + t1i * w1r);
                FFT_ST(c, t2r * w2r - t2i * w2i);
                FFT_ST(c + 8, t2r * w2i + t2i * w2r);
                FFT_ST(d, t3r * w3r - t3i * w3i);
                FFT_ST(d + 8, t3r * w3i + t3i * w3r);
            }
        }
        len = l4;
    }
    if (len == 2) { /* log2(N) odd: one last radix-2 stage, twiddle-free */
        for (size_t b0 = 0; b0 < N; b0 += 2) {
            float *a = x + 16 * b0, *b = a + 16;
            FFT_V ar = FFT_LD(a), ai = FFT_LD(a + 8);
            FFT_V br = FFT_LD(b), bi = FFT_LD(b + 8);
            FFT_ST(a, ar + br);
            FFT_ST(a + 8, ai + bi);
            FFT_ST(b, ar - br);
            FFT_ST(b + 8, ai - bi);
        }
    }
    /* Real split: with A = Z[k], B = Z[N-k], h = e^{-2πik/n}/2:
     * X[k] = (A + conj B)/2 - i h (A - conj B). Bins 0 and N from Z[0] alone. */
    FFT_V zero = FFT_SET1(0.0f), half = FFT_SET1(0.5f);
    const uint32_t *pos = plan->pos;
    FFT_V z0r = FFT_LD(x), z0i = FFT_LD(x + 8); /* Z[0] stays at position 0 */
    FFT_ST(re, z0r + z0i);
    FFT_ST(im, zero);
    FFT_ST(re + 8 * N, z0r - z0i);
    FFT_ST(im + 8 * N, zero);
    const float *h = plan->post;
    /* k and N-k read the same two points: one pair of loads for both bins (each bin's
     * arithmetic is the formula above, operand for operand). */
    for (size_t k = 1; k <= N / 2; k++) {
        size_t k2 = N - k;
        const float *A = x + 16 * (size_t)pos[k], *B = x + 16 * (size_t)pos[k2];
        FFT_V ar = FFT_LD(A), ai = FFT_LD(A + 8), br = FFT_LD(B), bi = FFT_LD(B + 8);
        FFT_V hr = FFT_SET1(h[2 * k]), hi = FFT_SET1(h[2 * k + 1]);
        FFT_V sr = ar + br, di = ai - bi, orr = ar - br, oi = ai + bi;
        FFT_V tr = hr * orr - hi * oi, ti = hr * oi + hi * orr;
        FFT_ST(re + 8 * k, half * sr + ti);
        FFT_ST(im + 8 * k, half * di - tr);
        if (k2 == k) break;
        FFT_V hr2 = FFT_SET1(h[2 * k2]), hi2 = FFT_SET1(h[2 * k2 + 1]);
        FFT_V sr2 = br + ar, di2 = bi - ai, or2 = br - ar, oi2 = bi + ai;
        FFT_V tr2 = hr2 * or2 - hi2 * oi2, ti2 = hr2 * oi2 + hi2 * or2;
        FFT_ST(re + 8 * k2, half * sr2 + ti2);
        FFT_ST(im + 8 * k2, half * di2 - tr2);
    }
}
