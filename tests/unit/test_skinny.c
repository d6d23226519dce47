/* test_skinny.c — the few-row product of models/cpu_skinny.c against a double-precision
 * product written here.
 *
 * For row counts around the panel height (1, 3, 8, 9, 16), column counts around the block
 * width (1, 47, 48, 49, 100), depths 1, 5 and 300, with and without bias, weights given both
 * as [n][k] and as [k][n]: bl_cpu_skinny_gemm on 1 and 2 threads and bl_cpu_skinny_gemm_ref
 * must match the double-precision product within 1e-5 relative (per element, against the
 * sum of absolute terms), write nothing outside rows × n of y (its row stride is wider and
 * prefilled with a sentinel), and the panels must hold x with zeros past the last row.
 * Prints whether the AVX-512 path ran (bl_cpu_skinny_available), as on CPUs without it
 * both functions are the reference.
 */
#include <math.h>   /* fabs */
#include <stdlib.h> /* malloc */

#include "models/cpu_exec.h" /* bl_cpu_skinny_* */
#include "testutil.h"

static unsigned seed = 3;
static float rnd(void) {
    seed = seed * 1103515245u + 12345u;
    return (float)((seed >> 8) & 0xffff) / 32768.f - 1.f;
}

static const float SENTINEL = 12345.f;

static void check_case(int64_t rows, int64_t n, int64_t k, bool with_bias, bool w_nk) {
    int64_t ldy = n + 5;
    float *x = malloc((size_t)(rows * k) * sizeof *x), *w = malloc((size_t)(n * k) * sizeof *w);
    float *bias = malloc((size_t)n * sizeof *bias);
    for (int64_t i = 0; i < rows * k; i++) x[i] = rnd();
    for (int64_t i = 0; i < n * k; i++) w[i] = rnd();
    for (int64_t i = 0; i < n; i++) bias[i] = rnd();
    float *wp = malloc(bl_cpu_skinny_packed_floats(n, k) * sizeof *wp);
    float *xp = malloc(bl_cpu_skinny_panel_floats(rows, k) * sizeof *xp);
    /* element (j, kk) of the weights: w[j*k + kk] as [n][k], w[kk*n + j] as [k][n] */
    bl_cpu_skinny_pack(w, n, k, w_nk ? k : 1, w_nk ? 1 : n, wp);
    bl_cpu_skinny_panel(x, rows, k, k, xp);
    int64_t panel_rows = (rows + BL_SKINNY_MB - 1) / BL_SKINNY_MB * BL_SKINNY_MB;
    int bad_panel = 0;
    for (int64_t r = 0; r < panel_rows; r++)
        for (int64_t kk = 0; kk < k; kk++) {
            float v = xp[(r / BL_SKINNY_MB) * k * BL_SKINNY_MB + kk * BL_SKINNY_MB + r % BL_SKINNY_MB];
            bad_panel += v != (r < rows ? x[r * k + kk] : 0.f);
        }
    BL_CHECK(bad_panel == 0, "rows %lld k %lld: %d panel elements wrong", (long long)rows, (long long)k, bad_panel);
    float *y = malloc((size_t)(rows * ldy) * sizeof *y);
    float *part = malloc((bl_cpu_skinny_part_floats(rows, n, 2) + 1) * sizeof *part);
    for (int variant = 0; variant < 3; variant++) {
        for (int64_t i = 0; i < rows * ldy; i++) y[i] = SENTINEL;
        const float *b = with_bias ? bias : NULL;
        if (variant == 0) bl_cpu_skinny_gemm_ref(xp, rows, k, wp, n, b, y, ldy);
        else bl_cpu_skinny_gemm(xp, rows, k, wp, n, b, y, ldy, variant, part);
        int bad = 0, stray = 0;
        double worst = 0;
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t j = 0; j < n; j++) {
                double s = b ? b[j] : 0, mag = b ? fabs(b[j]) : 0;
                for (int64_t kk = 0; kk < k; kk++) {
                    double t = (double)x[r * k + kk] * (w_nk ? w[j * k + kk] : w[kk * n + j]);
                    s += t, mag += fabs(t);
                }
                double e = fabs(y[r * ldy + j] - s) / (mag > 0 ? mag : 1);
                if (e > worst) worst = e;
                bad += e > 1e-5;
            }
            for (int64_t j = n; j < ldy; j++) stray += y[r * ldy + j] != SENTINEL;
        }
        BL_CHECK(bad == 0 && stray == 0,
                 "%s: rows %lld n %lld k %lld bias %d %s: %d wrong (worst %.3g), %d written past n",
                 variant == 0 ? "reference" : variant == 1 ? "1 thread" : "2 threads", (long long)rows,
                 (long long)n, (long long)k, with_bias, w_nk ? "[n][k]" : "[k][n]", bad, worst, stray);
    }
    free(x), free(w), free(bias), free(wp), free(xp), free(y), free(part);
}

int main(void) {
    printf("AVX-512 path: %s\n", bl_cpu_skinny_available() ? "yes" : "no (both functions are the reference)");
    /* depths 1 and 5 run on one thread whatever asked; 300 splits between two */
    const int64_t rows[] = {1, 3, 8, 9, 16}, ns[] = {1, 47, 48, 49, 100}, ks[] = {1, 5, 300};
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 3; c++) check_case(rows[a], ns[b], ks[c], (a + b + c) % 2 == 0, (a + c) % 2 == 0);
    /* the size the executor routes here: 8 rows, 512 × 4608 weights (9.4 MB) */
    check_case(8, 512, 4608, true, true);
    BL_CHECK(!bl_cpu_skinny_wanted(BL_SKINNY_MAX_ROWS + 1, 512, 4608), "more rows than a panel must go to oneDNN");
    BL_CHECK(!bl_cpu_skinny_wanted(8, 10, 10), "small weights must go to oneDNN");
    return bl_test_finish("test_skinny");
}
