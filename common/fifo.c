/*
 * fifo.c - the bounded condition-variable FIFO of produced_item (see fifo.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "fifo.h"

#include <errno.h>

void fifo_init(item_fifo *fifo, int producer_count)
{
    CHECK_RC(pthread_mutex_init(&fifo->lock, NULL), "pthread_mutex_init");
    CHECK_RC(pthread_cond_init(&fifo->not_empty, NULL), "pthread_cond_init");
    CHECK_RC(pthread_cond_init(&fifo->not_full, NULL), "pthread_cond_init");
    fifo->head = fifo->count = 0;
    fifo->producers_running = producer_count;
}

void fifo_destroy(item_fifo *fifo)
{
    CHECK_RC(pthread_cond_destroy(&fifo->not_full), "pthread_cond_destroy");
    CHECK_RC(pthread_cond_destroy(&fifo->not_empty), "pthread_cond_destroy");
    CHECK_RC(pthread_mutex_destroy(&fifo->lock), "pthread_mutex_destroy");
}

void fifo_put(item_fifo *fifo, produced_item item)
{
    CHECK_RC(pthread_mutex_lock(&fifo->lock), "pthread_mutex_lock");
    while (fifo->count == FIFO_CAPACITY) /* a loop: wake-ups may be spurious */
        CHECK_RC(pthread_cond_wait(&fifo->not_full, &fifo->lock), "pthread_cond_wait");
    fifo->ring[(fifo->head + fifo->count) % FIFO_CAPACITY] = item;
    fifo->count++;
    CHECK_RC(pthread_cond_signal(&fifo->not_empty), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&fifo->lock), "pthread_mutex_unlock");
}

void fifo_producer_finished(item_fifo *fifo)
{
    CHECK_RC(pthread_mutex_lock(&fifo->lock), "pthread_mutex_lock");
    fifo->producers_running--;
    CHECK_RC(pthread_cond_signal(&fifo->not_empty), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&fifo->lock), "pthread_mutex_unlock");
}

bool fifo_get(item_fifo *fifo, produced_item *item)
{
    CHECK_RC(pthread_mutex_lock(&fifo->lock), "pthread_mutex_lock");
    while (fifo->count == 0 && fifo->producers_running > 0)
        CHECK_RC(pthread_cond_wait(&fifo->not_empty, &fifo->lock), "pthread_cond_wait");
    bool got = fifo->count > 0;
    if (got) {
        *item = fifo->ring[fifo->head];
        fifo->head = (fifo->head + 1) % FIFO_CAPACITY;
        fifo->count--;
        CHECK_RC(pthread_cond_signal(&fifo->not_full), "pthread_cond_signal");
    }
    CHECK_RC(pthread_mutex_unlock(&fifo->lock), "pthread_mutex_unlock");
    return got;
}

int fifo_get_until(item_fifo *fifo, produced_item *item, const struct timespec *deadline)
{
    CHECK_RC(pthread_mutex_lock(&fifo->lock), "pthread_mutex_lock");
    int rc = 0;
    while (fifo->count == 0 && fifo->producers_running > 0 && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&fifo->not_empty, &fifo->lock, deadline);
        if (rc != 0 && rc != ETIMEDOUT) die_code("pthread_cond_timedwait", rc);
    }
    int got = fifo->count > 0 ? 1 : fifo->producers_running > 0 ? -1 : 0;
    if (got == 1) {
        *item = fifo->ring[fifo->head];
        fifo->head = (fifo->head + 1) % FIFO_CAPACITY;
        fifo->count--;
        CHECK_RC(pthread_cond_signal(&fifo->not_full), "pthread_cond_signal");
    }
    CHECK_RC(pthread_mutex_unlock(&fifo->lock), "pthread_mutex_unlock");
    return got;
}
