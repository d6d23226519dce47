/* threadpool.c — see threadpool.h. Owns its worker threads, one mutex and two condition
 * variables. Each run bumps a generation counter; worker w takes the static task range
 * [w*n/T, (w+1)*n/T) of that generation, the caller takes range 0, and the caller waits
 * until every worker has reported back. No task queue, so nothing allocates per run.
 */
#include "threadpool.h"

#include <pthread.h> /* workers */
#include <stdlib.h>  /* calloc, free */

struct bl_threadpool {
    int size; /* participants, caller included */
    pthread_t *threads;
    int n_started;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* workers wait here for a new generation */
    pthread_cond_t done; /* the caller waits here for pending == 0 */
    unsigned long generation;
    int pending;
    int quit;
    bl_task_fn fn;
    void *ctx;
    size_t n_tasks;
};

typedef struct {
    bl_threadpool *pool;
    int worker;
} worker_arg;

static void run_range(bl_threadpool *p, bl_task_fn fn, void *ctx, size_t n, int w) {
    size_t lo = n * (size_t)w / (size_t)p->size, hi = n * (size_t)(w + 1) / (size_t)p->size;
    for (size_t t = lo; t < hi; t++) fn(ctx, t, w);
}

static void *worker_main(void *arg) {
    worker_arg *wa = arg;
    bl_threadpool *p = wa->pool;
    int w = wa->worker;
    free(wa);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        bl_task_fn fn = p->fn;
        void *ctx = p->ctx;
        size_t n = p->n_tasks;
        pthread_mutex_unlock(&p->mu);
        run_range(p, fn, ctx, n, w);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

bl_status bl_threadpool_create(int threads, bl_threadpool **out) {
    BL_RETURN_IF(!out || threads < 1 || threads > 1024, BL_ERR_INVALID_ARG,
                 "thread pool: threads must be 1..1024 (got %d)", threads);
    *out = NULL;
    bl_threadpool *p = calloc(1, sizeof *p);
    BL_CHECK_ALLOC(p);
    p->size = threads;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return BL_ERROR(BL_ERR_THREAD, "thread pool: mutex init failed");
    }
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (threads > 1) {
        p->threads = calloc((size_t)threads - 1, sizeof *p->threads);
        if (!p->threads) {
            bl_threadpool_destroy(p);
            return BL_ERROR(BL_ERR_NOMEM, "thread pool: out of memory");
        }
    }
    for (int w = 1; w < threads; w++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) {
            bl_threadpool_destroy(p);
            return BL_ERROR(BL_ERR_NOMEM, "thread pool: out of memory");
        }
        wa->pool = p;
        wa->worker = w;
        if (pthread_create(&p->threads[w - 1], NULL, worker_main, wa) != 0) {
            free(wa);
            bl_threadpool_destroy(p);
            return BL_ERROR(BL_ERR_THREAD, "thread pool: cannot start worker %d of %d", w,
                            threads - 1);
        }
        p->n_started++;
    }
    *out = p;
    return BL_OK;
}

void bl_threadpool_destroy(bl_threadpool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_started; i++) pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

int bl_threadpool_size(const bl_threadpool *p) { return p ? p->size : 1; }

void bl_threadpool_run(bl_threadpool *p, bl_task_fn fn, void *ctx, size_t n_tasks) {
    if (n_tasks == 0) return;
    /* Too few tasks to be worth waking anyone: run inline, as worker 0. */
    if (!p || p->size == 1 || n_tasks == 1) {
        for (size_t t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->pending = p->size - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_range(p, fn, ctx, n_tasks, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
