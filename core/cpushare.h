/* cpushare.h — running well on a machine that other work shares (issue 11, "under
 * contention"): a reading of how many CPUs other processes keep busy, and the model stage's
 * choice of how many executor threads to use while they do.
 *
 * Why: the CPU executor splits every layer statically over its OpenMP team and waits for
 * the whole team at the end of each layer. When other processes hold the cores, one team
 * member is often descheduled for a whole time slice while the others wait (spinning) at
 * the barrier: with two busy loops on two cores, `baleen run` with the default model ran 9x
 * slower instead of about 2x, while a single-threaded executor degrades in proportion to the
 * CPU it gets. Which count is faster under a given load depends on the model (a small model
 * loses most at barriers, a large one still gains from a second thread), so it is measured,
 * not guessed.
 *
 * Defines:
 *   bl_cpushare — other runnable threads on the machine, smoothed: each reading is the
 *     machine's runnable threads (/proc/loadavg's procs_running) less this process's own
 *     (/proc/self/task/STAR/stat in state R), averaged with weight 1/8 (about 0.4 s at 20
 *     readings a second). Contended when fewer CPUs are left free than the executor's threads.
 *   bl_thread_fit — the model stage's thread count. While the machine is not contended: the
 *     configured count (nothing measured, nothing changes: quiet-machine runs are as before).
 *     Once contended: a trial at a smaller team (as many threads as CPUs are left free, at
 *     least one: "one thread" below), then at the configured count, each at least
 *     BL_FIT_TRIAL batches and BL_FIT_MIN_S seconds (the first batch after each change left
 *     out: the executor rebuilds its primitives then; the configured count's part ends after
 *     three batches once its mean is already the slower), and one thread is kept unless the
 *     configured count's mean batch time is below BL_FIT_KEEP of one thread's (the mean, not the median: under contention a team's time is in its long tail of
 *     batches that waited for a descheduled member); the trial is repeated every
 *     BL_FIT_RETRY_S seconds while the contention lasts, and the configured count comes back
 *     as soon as it ends. The model stage runs "one thread" as pair mode where it can
 *     (core/stage_model.c: two one-thread executors taking turns), timing each batch as half
 *     of the pair's time.
 *
 * Threading: a bl_cpushare is read and updated by one thread (the pipeline's progress
 * thread), which publishes the verdict through an atomic; a bl_thread_fit belongs to the
 * model stage's thread. The functions are pure except bl_cpushare_read.
 */
#ifndef BL_CPUSHARE_H
#define BL_CPUSHARE_H

#include <stdbool.h>
#include <stdint.h>

#define BL_FIT_TRIAL 6      /* batches timed per thread count in a trial, at least */
#define BL_FIT_MIN_S 0.4    /* seconds timed per thread count in a trial, at least */
#define BL_FIT_RETRY_S 20.0 /* a new trial this often while contended */
#define BL_FIT_KEEP 0.85    /* the configured count stays when its mean batch time is below
                             * this share of one thread's */

typedef struct {
    int cpus;          /* CPUs of the machine (online) */
    double others;     /* smoothed runnable threads of other processes */
    int n;             /* readings so far */
} bl_cpushare;

void bl_cpushare_init(bl_cpushare *s, int cpus);
/* Add one reading: runnable threads of the machine and of this process. */
void bl_cpushare_add(bl_cpushare *s, int running_machine, int running_own);
/* Read /proc and add the reading; false when /proc cannot be read (nothing added). */
bool bl_cpushare_read(bl_cpushare *s);
/* Fewer CPUs free of other work than `threads`: a team of that many would wait on
 * descheduled members. False before the first 3 readings. */
bool bl_cpushare_contended(const bl_cpushare *s, int threads);
/* 0 when not contended; otherwise the smaller team to try: the CPUs left free, rounded, in
 * 1..threads-1. */
int bl_cpushare_fewer(const bl_cpushare *s, int threads);

typedef struct {
    int max;           /* configured threads */
    int cur;           /* threads of the next batch */
    int alt;           /* the smaller team of the trial under way or decided */
    int phase;         /* 0 settled, 1 timing alt, 2 timing max */
    int skip;          /* batches still to leave out after a change */
    int n_max, n_one;       /* batches timed in the trial */
    double s_max, s_one;    /* their summed times */
    int64_t decided_ns;     /* when the last trial ended; 0 = none in this contention */
    bool was_contended;
    int64_t n_trials, n_reduced; /* trials run; batches run with fewer threads than max */
    double last_max_s, last_one_s; /* the last trial's mean batch times (max, alt) */
} bl_thread_fit;

void bl_thread_fit_init(bl_thread_fit *f, int max_threads);
/* Threads for the next batch, given the reading now: `fewer` = bl_cpushare_fewer (0 = not
 * contended). */
int bl_thread_fit_next(bl_thread_fit *f, int fewer, int64_t now_ns);
/* The time of the batch that just ran with the count bl_thread_fit_next returned. Returns
 * true when this batch ended a trial (the decision is in f->cur, the means in last_*). */
bool bl_thread_fit_record(bl_thread_fit *f, double seconds, int64_t now_ns);

#endif /* BL_CPUSHARE_H */
