/*
 * fifo.h - a bounded FIFO of produced_item for threads: one mutex and two condition variables,
 * the way a process-safe Queue behaves inside one process. put() waits while it is full,
 * get() waits while it is empty, and get() says "no more" once it is empty and every producer
 * has said it is finished. posix/producers.c's thread variant puts through it; the lesson of
 * building such a queue is posix/queue.c, which keeps its own.
 *
 *     item_fifo fifo;
 *     fifo_init(&fifo, producer_count);
 *     producer: fifo_put(&fifo, item) ... fifo_producer_finished(&fifo);
 *     consumer: while (fifo_get(&fifo, &item)) use(item);
 *     fifo_destroy(&fifo);
 *
 * Every pthread call is checked (exit 3).
 */
#ifndef FIFO_H
#define FIFO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "harness.h"

/* Slots: a producer waits when this many items wait. */
enum { FIFO_CAPACITY = 256 };

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;  /* the consumer waits here */
    pthread_cond_t not_full;   /* producers wait here */
    produced_item ring[FIFO_CAPACITY];
    size_t head, count;
    int producers_running;     /* get() says "no more" when this is 0 and the ring is empty */
} item_fifo;

void fifo_init(item_fifo *fifo, int producer_count);
void fifo_destroy(item_fifo *fifo);

/* Appends item, waiting while the ring is full. */
void fifo_put(item_fifo *fifo, produced_item item);

/* A producer's last call: it will put nothing more. */
void fifo_producer_finished(item_fifo *fifo);

/* Takes the oldest item, waiting while the ring is empty; false once it is empty and every
 * producer has finished. */
bool fifo_get(item_fifo *fifo, produced_item *item);

/* fifo_get with a bound, for a consumer with a watchdog: 1 took an item, 0 no more (empty and
 * every producer finished), -1 still empty at the deadline (CLOCK_REALTIME, the clock of
 * pthread_cond_timedwait on the FIFO's condition variable). */
int fifo_get_until(item_fifo *fifo, produced_item *item, const struct timespec *deadline);

#endif /* FIFO_H */
