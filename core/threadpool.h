/* threadpool.h — a small fixed pool of worker threads that runs one parallel-for at a time.
 *
 * Defines bl_threadpool: bl_threadpool_run(pool, fn, ctx, n_tasks) calls fn(ctx, task,
 * worker) for task = 0..n_tasks-1, spread over the pool's workers and the calling thread,
 * and returns when all tasks are done. `worker` (0..bl_threadpool_size()-1, the caller is 0)
 * indexes per-worker scratch space, so a task never shares scratch with a concurrent one.
 * Tasks are handed out in contiguous static ranges, so the assignment of work does not
 * depend on timing; results are deterministic as long as each task writes only its own
 * outputs.
 *
 * Threading: one bl_threadpool_run at a time per pool (the pool belongs to one owner, such
 * as one bl_fe_stream); workers sleep on a condition variable between runs.
 */
#ifndef BL_THREADPOOL_H
#define BL_THREADPOOL_H

#include <stddef.h>

#include "error.h" /* bl_status */

typedef struct bl_threadpool bl_threadpool;
typedef void (*bl_task_fn)(void *ctx, size_t task, int worker);

/* A pool of `threads` participants: the caller plus threads-1 workers (threads >= 1). */
bl_status bl_threadpool_create(int threads, bl_threadpool **out);
void bl_threadpool_destroy(bl_threadpool *pool);
int bl_threadpool_size(const bl_threadpool *pool);
/* Run fn for every task and wait. A NULL pool runs everything on the caller (worker 0). */
void bl_threadpool_run(bl_threadpool *pool, bl_task_fn fn, void *ctx, size_t n_tasks);

#endif /* BL_THREADPOOL_H */
