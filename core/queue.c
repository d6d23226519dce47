/* queue.c — the bounded MPMC pointer queue of queue.h: a ring buffer under one mutex, with
 * "not full" and "not empty" condition variables. Owns only its ring; see queue.h for the
 * threading rules.
 */
#include "queue.h"

#include <pthread.h> /* the mutex and condition variables */
#include <stdlib.h>  /* calloc, free */

struct bl_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_full, not_empty;
    void **ring;
    size_t cap, head, count;
    bool closed;
};

bl_status bl_queue_create(size_t capacity, bl_queue **out) {
    BL_RETURN_IF(!out || capacity == 0, BL_ERR_INVALID_ARG, "bl_queue_create: capacity must be >= 1");
    bl_queue *q = calloc(1, sizeof *q);
    BL_CHECK_ALLOC(q);
    q->ring = calloc(capacity, sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory for a queue of %zu items", capacity);
    }
    q->cap = capacity;
    if (pthread_mutex_init(&q->mu, NULL) || pthread_cond_init(&q->not_full, NULL) ||
        pthread_cond_init(&q->not_empty, NULL)) {
        free(q->ring);
        free(q);
        return BL_ERROR(BL_ERR_THREAD, "cannot initialise a queue's mutex or condition variables");
    }
    *out = q;
    return BL_OK;
}

void bl_queue_destroy(bl_queue *q) {
    if (!q) return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    free(q->ring);
    free(q);
}

bool bl_queue_push(bl_queue *q, void *item) {
    pthread_mutex_lock(&q->mu);
    while (q->count == q->cap && !q->closed) pthread_cond_wait(&q->not_full, &q->mu);
    bool ok = !q->closed;
    if (ok) {
        q->ring[(q->head + q->count) % q->cap] = item;
        q->count++;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

/* Caller holds the mutex and count > 0. */
static void *take(bl_queue *q) {
    void *item = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    pthread_cond_signal(&q->not_full);
    return item;
}

bool bl_queue_pop(bl_queue *q, void **item) {
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->closed) pthread_cond_wait(&q->not_empty, &q->mu);
    bool ok = q->count > 0;
    if (ok) *item = take(q);
    pthread_mutex_unlock(&q->mu);
    return ok;
}

bool bl_queue_try_pop(bl_queue *q, void **item) {
    pthread_mutex_lock(&q->mu);
    bool ok = q->count > 0;
    if (ok) *item = take(q);
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void bl_queue_close(bl_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

size_t bl_queue_size(bl_queue *q) {
    pthread_mutex_lock(&q->mu);
    size_t n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}
