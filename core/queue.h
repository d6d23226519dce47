/* queue.h — a bounded multi-producer multi-consumer queue of pointers with close semantics:
 * the joints between the pipeline's stage threads (DESIGN §1: back-pressure, never unbounded
 * buffering).
 *
 * Defines bl_queue: bl_queue_push blocks while the queue is full, bl_queue_pop while it is
 * empty. bl_queue_close ends the stream: later pushes fail at once, pops drain what is left
 * and then fail, and every blocked thread wakes up. Items are opaque pointers; the queue
 * never owns what they point to.
 *
 * Threading: every function except create/destroy may be called from any number of threads
 * at once (one mutex, two condition variables). Destroy only once no thread uses the queue.
 */
#ifndef BL_QUEUE_H
#define BL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h" /* bl_status */

typedef struct bl_queue bl_queue;

/* A queue holding at most `capacity` (>= 1) items. */
bl_status bl_queue_create(size_t capacity, bl_queue **out);
/* Free the queue (not the items still in it); NULL is fine. */
void bl_queue_destroy(bl_queue *q);
/* Append `item`, waiting while the queue is full. False when the queue is (or gets) closed:
 * the item was not queued and still belongs to the caller. */
bool bl_queue_push(bl_queue *q, void *item);
/* Take the oldest item, waiting while the queue is empty. False when it is closed and empty. */
bool bl_queue_pop(bl_queue *q, void **item);
/* Take the oldest item without waiting; false when there is none. */
bool bl_queue_try_pop(bl_queue *q, void **item);
/* No more pushes; wake every waiting thread. Idempotent. */
void bl_queue_close(bl_queue *q);
/* Items queued now (a snapshot, for progress reports). */
size_t bl_queue_size(bl_queue *q);

#endif /* BL_QUEUE_H */
