/* test_cpushare.c — the contention reading and the model stage's thread count
 * (core/cpushare.c) on scripted readings and batch times: quiet machines keep the configured
 * count without any trial; a contended one runs a trial (configured count, then one thread,
 * each at least BL_FIT_TRIAL batches and BL_FIT_MIN_S seconds, the first batch after a change
 * left out) and keeps one thread unless the team is clearly faster; the trial comes back
 * every BL_FIT_RETRY_S seconds; the configured count returns as soon as the contention ends.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/cpushare.h"
#include "testutil.h"

#define SEC 1000000000LL

static void test_share(void) {
    bl_cpushare s;
    bl_cpushare_init(&s, 2);
    BL_CHECK(!bl_cpushare_contended(&s, 2), "no reading yet: not contended");
    for (int i = 0; i < 3; i++) bl_cpushare_add(&s, 4, 2); /* two other runnable threads */
    BL_CHECK(s.others == 2, "others %g", s.others);
    BL_CHECK(bl_cpushare_contended(&s, 2), "2 busy loops on 2 CPUs contend with 2 threads");
    BL_CHECK(!bl_cpushare_contended(&s, 1), "one thread has nothing to adapt");
    BL_CHECK(bl_cpushare_fewer(&s, 2) == 1, "no CPU free: one thread");
    bl_cpushare_init(&s, 2);
    for (int i = 0; i < 10; i++) bl_cpushare_add(&s, 2, 3); /* read a moment apart: never negative */
    BL_CHECK(s.others == 0 && !bl_cpushare_contended(&s, 2), "quiet: others %g", s.others);
    bl_cpushare_add(&s, 6, 2); /* one burst moves the average by 1/8 only */
    BL_CHECK(s.others == 0.5 && !bl_cpushare_contended(&s, 2), "one reading: others %g", s.others);
    bl_cpushare_init(&s, 16);
    for (int i = 0; i < 5; i++) bl_cpushare_add(&s, 10, 2);
    BL_CHECK(!bl_cpushare_contended(&s, 4), "8 busy of 16 CPUs leave room for 4 threads");
    BL_CHECK(bl_cpushare_contended(&s, 12), "but not for 12");
    BL_CHECK(bl_cpushare_fewer(&s, 12) == 8 && bl_cpushare_fewer(&s, 4) == 0, "8 CPUs free: try 8 of 12");
}

/* Run batches of the given times at max and at one thread until a trial ends; returns the
 * batches it took. */
static int run_trial(bl_thread_fit *f, double t_max, double t_one, int64_t *now) {
    for (int i = 0; i < 1000; i++) {
        int th = bl_thread_fit_next(f, f->max > 2 ? 2 : 1, *now);
        double t = th == f->max ? t_max : t_one;
        *now += (int64_t)(t * SEC);
        if (bl_thread_fit_record(f, t, *now)) return i + 1;
    }
    return -1;
}

static void test_fit(void) {
    bl_thread_fit f;
    bl_thread_fit_init(&f, 2);
    int64_t now = SEC;
    for (int i = 0; i < 100; i++) {
        BL_CHECK(bl_thread_fit_next(&f, 0, now) == 2, "quiet: the configured count");
        BL_CHECK(!bl_thread_fit_record(&f, 0.01, now), "quiet: no trial");
    }
    BL_CHECK(f.n_trials == 0 && f.n_reduced == 0, "nothing measured when quiet");
    /* contended, one thread faster: batches of 10 ms (team) and 6 ms (one). The smaller team
     * first: one batch left out after the change, 67 timed (0.4 s); then the team: one left
     * out, and it stops after 3 batches, already slower */
    int n = run_trial(&f, 0.010, 0.006, &now);
    BL_CHECK(n == 1 + 67 + 1 + 3, "trial length %d", n);
    BL_CHECK(f.cur == 1 && fabs(f.last_max_s - 0.010) < 1e-12 && fabs(f.last_one_s - 0.006) < 1e-12,
             "kept one thread (%d)", f.cur);
    BL_CHECK(bl_thread_fit_next(&f, 1, now) == 1, "stays at one");
    /* no new trial before BL_FIT_RETRY_S */
    for (int i = 0; i < 400; i++) {
        now += SEC / 10;
        if (now - f.decided_ns >= (int64_t)(BL_FIT_RETRY_S * SEC)) break;
        BL_CHECK(bl_thread_fit_next(&f, 1, now) == 1 && !bl_thread_fit_record(&f, 0.006, now), "settled");
    }
    /* the retry: now the team is clearly faster (large model, light contention): it runs its
     * whole part (0.4 s) */
    now = f.decided_ns + (int64_t)(BL_FIT_RETRY_S * SEC);
    n = run_trial(&f, 0.050, 0.100, &now);
    BL_CHECK(n >= 6 + 1 + 8 && n <= 6 + 1 + 9, "trial length %d", n);
    BL_CHECK(f.cur == 2 && f.n_trials == 2, "team kept (%d, %d trials)", f.cur, (int)f.n_trials);
    /* only slightly faster: one thread wins (the team's time swings) */
    now += (int64_t)(BL_FIT_RETRY_S * SEC);
    n = run_trial(&f, 0.095, 0.100, &now);
    BL_CHECK(n > 0 && f.cur == 1, "within BL_FIT_KEEP: one thread (%d)", f.cur);
    /* contention ends: back to the configured count at once */
    BL_CHECK(bl_thread_fit_next(&f, 0, now) == 2, "quiet again");
    BL_CHECK(f.n_reduced > 0, "batches on fewer threads counted");
    /* 4 threads, 2 CPUs left free: the trial is 4 against 2; slow batches end each part
     * after BL_FIT_TRIAL */
    bl_thread_fit_init(&f, 4);
    n = run_trial(&f, 0.3, 0.5, &now);
    BL_CHECK(n == 1 + BL_FIT_TRIAL + 1 + BL_FIT_TRIAL && f.cur == 4, "slow batches: %d batches, %d threads", n, f.cur);
    /* one configured thread: nothing to fit */
    bl_thread_fit_init(&f, 1);
    BL_CHECK(bl_thread_fit_next(&f, 1, now) == 1 && !bl_thread_fit_record(&f, 1.0, now), "one thread");
}

int main(void) {
    test_share();
    test_fit();
    return bl_test_finish("test_cpushare");
}
