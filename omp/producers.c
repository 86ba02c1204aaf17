/*
 * omp/producers.c - the notebook's producer processes putting into one process-safe Queue,
 * in OpenMP: producer threads and one consumer thread around a queue under an omp lock.
 *
 * Python:  q = multiprocessing.Queue()
 *          p1 = Process(target=square, args=(range(1, 6), q))         # puts 1 4 9 16 25
 *          p2 = Process(target=make_negative, args=(range(1, 6), q))  # puts -1 -2 -3 -4 -5
 *          p1.start(); p2.start(); p1.join(); p2.join()
 *          while not q.empty(): print(q.get())
 *
 * The trap in that cell: it joins the producers before it drains the queue. The queue's pipe
 * holds only so much; with enough items the producers block in put(), join() waits for them,
 * and the program hangs. A bounded queue has the same trap, so here the consumer drains while
 * the producers produce: a parallel region of W+1 threads, thread 0 the consumer (the main
 * program of the notebook), threads 1..W the producers.
 *   locked  a ring of QUEUE_CAPACITY items under an omp_lock_t. OpenMP has locks but no
 *           condition variables, so a producer that finds the ring full, or the consumer
 *           that finds it empty, lets go of the lock, yields its core and looks again.
 * Observe: the values of one producer arrive in the order it put them; how the producers
 * interleave changes from run to run.
 *
 * Run:  ./omp/producers
 *       OMP_NUM_THREADS=2 ./omp/producers -n 1000000 --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/omp_team.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"locked", "a bounded ring under an omp lock; W producers + 1 consumer thread"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "producers",
    .model = "omp",
    .summary = "W producer threads put into one queue that a consumer thread drains meanwhile.",
    VARIANT_TABLE(variants),
    .n_meaning = "values 1..n per producer (even producers square, odd ones negate)",
    .default_n = 5,
    .max_n = 100000000,
    .default_workers = 2,
};

/* Slots of the ring: a producer waits when this many items wait. */
enum { QUEUE_CAPACITY = 256 };


typedef struct {
    omp_lock_t lock;
    produced_item ring[QUEUE_CAPACITY];
    size_t head, count;
} locked_queue;

/* Puts item; false (nothing put) when the ring is full. */
static bool queue_try_put(locked_queue *q, produced_item item)
{
    omp_set_lock(&q->lock);
    bool room = q->count < QUEUE_CAPACITY;
    if (room) {
        q->ring[(q->head + q->count) % QUEUE_CAPACITY] = item;
        q->count++;
    }
    omp_unset_lock(&q->lock);
    return room;
}

/* Moves everything waiting in the ring to the log, in order; returns how many. */
static size_t queue_drain(locked_queue *q, item_log *log)
{
    omp_set_lock(&q->lock);
    size_t taken = q->count;
    for (size_t k = 0; k < taken; k++) item_log_add(log, q->ring[(q->head + k) % QUEUE_CAPACITY]);
    q->head = (q->head + taken) % QUEUE_CAPACITY;
    q->count = 0;
    omp_unset_lock(&q->lock);
    return taken;
}

static void produce(locked_queue *q, int producer, long n)
{
    for (long i = 1; i <= n; i++) {
        produced_item item = {producer, producer_value(producer, i)};
        while (!queue_try_put(q, item)) sched_yield(); /* full: let the consumer run */
    }
}

static void consume(locked_queue *q, item_log *log, size_t expected)
{
    /* Every producer puts exactly n items, so the consumer knows when it has them all. */
    while (log->count < expected)
        if (queue_drain(q, log) == 0) sched_yield(); /* empty: let the producers run */
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    long n = opt.n;
    int producer_count = opt.workers;
    const char *refused = producers_refused(producer_count, n);
    if (refused != NULL) usage_exit(refused);
    size_t expected = (size_t)producer_count * (size_t)n;
    item_log log = item_log_new(expected);
    locked_queue queue = {.head = 0, .count = 0};
    omp_init_lock(&queue.lock);
    int team_size = 0;

    team_exact(); /* the roles need every thread asked for */
    double start = omp_get_wtime();
#pragma omp parallel num_threads(producer_count + 1) default(none) \
    shared(queue, log, n, expected, producer_count, team_size)
    {
        int thread = omp_get_thread_num();
        if (thread == 0) team_size = omp_get_num_threads();
        /* With fewer threads than roles a producer or the consumer would be missing and the
         * others would wait for it forever: every thread sees the same team size and skips. */
        if (omp_get_num_threads() == producer_count + 1) {
            if (thread == 0)
                consume(&queue, &log, expected);
            else
                produce(&queue, thread - 1, n);
        }
    } /* the join: every producer has put its last item, the consumer has taken it */
    double elapsed = omp_get_wtime() - start;
    omp_destroy_lock(&queue.lock);
    team_check(producer_count + 1, team_size); /* W producers and the consumer */

    bool pass = report_producers(&info, &opt, &log, producer_count, elapsed);
    item_log_free(&log);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
