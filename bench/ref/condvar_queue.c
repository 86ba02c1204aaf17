/*
 * bench/ref/condvar_queue.c - the raw condition-variable queue under queue: items per second.
 *
 * The least a thread-safe FIFO needs: one mutex, a ring of 256 slots, "not empty" and "not full"
 * condition variables. The main thread puts 1..n, W consumer threads (2 by default: 1 producer,
 * 2 consumers) take until the producer is finished and the ring is empty. No task_done, no join
 * counter, no per-item work. queue's thread variant adds Python's Queue semantics on top of the
 * same mechanism, so this is the figure it can approach but not pass by much.
 *
 * Run:  build/bench/ref/condvar_queue -n 1000000 -w 2 --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/harness.h"

static const program_info info = {
    .concept = "condvar_queue",
    .model = "ref",
    .summary = "Reference: one producer puts 1..n into a mutex+condvar ring, W consumers take.",
    VARIANT_DOCS(((const variant_doc[]){{"ring", "bounded ring (256 slots), one mutex, two condition variables"},
                 {NULL, NULL}})),
    .n_meaning = "items put: 1..n",
    .default_n = 1000000,
    .max_n = 1000000000,
    .default_workers = 2,
};

enum { RING_SLOTS = 256 };

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    long ring[RING_SLOTS];
    size_t head, count;
    bool producer_done;
} fifo = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .not_empty = PTHREAD_COND_INITIALIZER,
          .not_full = PTHREAD_COND_INITIALIZER};

typedef struct {
    long taken, value_sum;
} consumer_tally;

static void fifo_put(long value)
{
    CHECK_RC(pthread_mutex_lock(&fifo.lock), "pthread_mutex_lock");
    while (fifo.count == RING_SLOTS) CHECK_RC(pthread_cond_wait(&fifo.not_full, &fifo.lock), "pthread_cond_wait");
    fifo.ring[(fifo.head + fifo.count) % RING_SLOTS] = value;
    fifo.count++;
    CHECK_RC(pthread_cond_signal(&fifo.not_empty), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&fifo.lock), "pthread_mutex_unlock");
}

/* False once the producer is done and the ring is empty. */
static bool fifo_take(long *value)
{
    CHECK_RC(pthread_mutex_lock(&fifo.lock), "pthread_mutex_lock");
    while (fifo.count == 0 && !fifo.producer_done)
        CHECK_RC(pthread_cond_wait(&fifo.not_empty, &fifo.lock), "pthread_cond_wait");
    bool got = fifo.count > 0;
    if (got) {
        *value = fifo.ring[fifo.head];
        fifo.head = (fifo.head + 1) % RING_SLOTS;
        fifo.count--;
        CHECK_RC(pthread_cond_signal(&fifo.not_full), "pthread_cond_signal");
    }
    CHECK_RC(pthread_mutex_unlock(&fifo.lock), "pthread_mutex_unlock");
    return got;
}

static void *consumer(void *arg)
{
    consumer_tally *tally = arg;
    long value;
    while (fifo_take(&value)) {
        tally->taken++;
        tally->value_sum += value;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    int consumer_count = opt.workers;
    pthread_t *threads = checked_malloc((size_t)consumer_count, sizeof *threads);
    consumer_tally *tallies = checked_calloc((size_t)consumer_count, sizeof *tallies);

    double start = now_seconds();
    for (int c = 0; c < consumer_count; c++)
        CHECK_RC(pthread_create(&threads[c], NULL, consumer, &tallies[c]), "pthread_create");
    for (long i = 1; i <= opt.n; i++) fifo_put(i);
    CHECK_RC(pthread_mutex_lock(&fifo.lock), "pthread_mutex_lock");
    fifo.producer_done = true;
    CHECK_RC(pthread_cond_broadcast(&fifo.not_empty), "pthread_cond_broadcast");
    CHECK_RC(pthread_mutex_unlock(&fifo.lock), "pthread_mutex_unlock");
    for (int c = 0; c < consumer_count; c++) CHECK_RC(pthread_join(threads[c], NULL), "pthread_join");
    double elapsed = now_seconds() - start;

    long processed = 0, checksum = 0;
    for (int c = 0; c < consumer_count; c++) {
        processed += tallies[c].taken;
        checksum += tallies[c].value_sum;
    }
    bool pass = verify_count("items taken", opt.n, processed) &&
                verify_count("sum of items", opt.n * (opt.n + 1) / 2, checksum);
    printf("condvar queue: %ld items (expected %ld), checksum %ld (expected %ld), %d consumers\n",
           processed, opt.n, checksum, opt.n * (opt.n + 1) / 2, consumer_count);
    print_result(&info, &opt, pass, elapsed, "processed=%ld checksum=%ld", processed, checksum);
    free(tallies);
    free(threads);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
