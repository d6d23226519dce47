/* test_swish.c — models/cpu_swish.c's in-place swish against x / (1 + exp(-x)) in double.
 *
 * Inputs sweep [-100, 100] in steps of 1/64 plus random values, zeros of both signs, tiny
 * and huge magnitudes; lengths 1, 15, 16, 17 and one above the two-thread threshold with a
 * ragged tail, on 1 and 2 threads. Every result must be within 1e-6 relative (plus 1e-30
 * absolute, for the outputs that underflow) of the double-precision value, NaN must stay NaN,
 * and the elements past n must be untouched. bl_cpu_swish_ref must meet the same bound.
 * Prints whether the AVX-512 pass ran (bl_cpu_swish_available).
 */
#include <math.h>   /* exp, isnan, fabs */
#include <stdlib.h> /* malloc */

#include "models/cpu_exec.h" /* bl_cpu_swish_* */
#include "testutil.h"

static unsigned seed = 11;
static float rnd(void) {
    seed = seed * 1103515245u + 12345u;
    return (float)((seed >> 8) & 0xffff) / 32768.f - 1.f;
}

static double ref(double x) { return x / (1.0 + exp(-x)); }

/* Run one variant over a copy of in[0..n) with sentinels after; count failures. */
static int check(const float *in, int64_t n, int variant) {
    float *x = malloc((size_t)(n + 8) * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = in[i];
    for (int i = 0; i < 8; i++) x[n + i] = 1234.5f;
    if (variant == 0) bl_cpu_swish_ref(x, n);
    else bl_cpu_swish_inplace(x, n, variant);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(in[i])) {
            bad += !isnan(x[i]);
            continue;
        }
        double r = ref(in[i]);
        if (!(fabs(x[i] - r) <= 1e-6 * fabs(r) + 1e-30)) {
            if (bad < 5)
                fprintf(stderr, "  %s: swish(%.9g) = %.9g, expected %.9g\n",
                        variant == 0 ? "reference" : "fast", in[i], x[i], r);
            bad++;
        }
    }
    for (int i = 0; i < 8; i++) bad += x[n + i] != 1234.5f;
    free(x);
    return bad;
}

int main(void) {
    printf("AVX-512 pass: %s\n", bl_cpu_swish_available() ? "yes" : "no (the reference runs)");
    enum { SWEEP = 12801, EXTRA = 40000 };
    int64_t n = SWEEP + EXTRA + 13;
    float *in = malloc((size_t)n * sizeof *in);
    for (int64_t i = 0; i < SWEEP; i++) in[i] = -100.f + (float)i / 64.f;
    for (int64_t i = SWEEP; i < n; i++) in[i] = rnd() * 12.f;
    const float special[] = {0.f, -0.f, 1e-30f, -1e-30f, 1e-40f, -1e-40f, 1e30f, -1e30f, 87.5f, -87.5f, 88.7f, -88.7f, NAN};
    for (int i = 0; i < 13; i++) in[SWEEP + i] = special[i];
    const int64_t lens[] = {1, 15, 16, 17, n};
    for (int l = 0; l < 5; l++)
        for (int variant = 0; variant <= 2; variant++) {
            int bad = check(in + (lens[l] == n ? 0 : SWEEP), lens[l], variant);
            BL_CHECK(bad == 0, "length %lld, %s: %d elements wrong", (long long)lens[l],
                     variant == 0 ? "reference" : variant == 1 ? "1 thread" : "2 threads", bad);
        }
    free(in);
    return bl_test_finish("test_swish");
}
