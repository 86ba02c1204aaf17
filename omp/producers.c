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
 * workers= counts the producers; the consumer is counted apart (consumers=1). The consumer's
 * log is written through once before the clock, by thread 0 (the main thread), so its writes
 * during the run cost no page fault.
 * Observe: the values of one producer arrive in the order it put them; how the producers
 * interleave changes from run to run.
 * A producer that hangs would leave the consumer waiting for ever: the drain and the wait for
 * the producers to finish give up once a time scaled to the work has passed, exit 3 naming
 * what is unfinished ("consumer: 12 of 20 values after 10 s; producer 1 still running, put 2
 * of 10"). RESULT's per_worker= is the values each producer says it put (n each).
 * --trace: a "put" span per value on each producer's track (value index, value), a "get" span
 * per value on main's, the consumer's (producer, value), from when it began to look for it.
 *
 * Run:  ./omp/producers
 *       OMP_NUM_THREADS=2 ./omp/producers -n 1000000 --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/harness.h"
#include "../common/omp_team.h"
#include "../common/trace.h"

/* Slots of the ring: a producer waits when this many items wait. */
enum { QUEUE_CAPACITY = 256 };

typedef struct {
    omp_lock_t lock;
    produced_item ring[QUEUE_CAPACITY];
    size_t head, count;
} locked_queue;

/* What one producer has done, on a cache line of its own (producers share none): the values
 * it has put and whether it has finished. RESULT's per_worker= and the watchdog read them. */
typedef struct {
    _Alignas(64) atomic_long put;
    atomic_bool finished;
} producer_tally;

/* What a variant needs: the producers' work, the consumer's log, the producers' tallies. */
typedef struct {
    int producer_count;
    long n;
    item_log *log;          /* the consumer's: what it received, in order */
    producer_tally *tally;  /* [producer_count] */
    double bound_s;         /* the watchdog's: the drain and the join end by then */
    double deadline;        /* omp_get_wtime() when they give up */
    locked_queue queue;
} production;

/* Puts item; false (nothing put) when the ring is full. */
static bool queue_try_put(locked_queue *q, produced_item item)
{
    /* LAB: take the queue's lock before looking at the ring. Hint: omp_set_lock(&q->lock) */
    omp_set_lock(&q->lock);
    /* LAB END */
    bool room = q->count < QUEUE_CAPACITY;
    if (room) {
        q->ring[(q->head + q->count) % QUEUE_CAPACITY] = item;
        q->count++;
    }
    /* LAB: give the lock back. Hint: omp_unset_lock */
    omp_unset_lock(&q->lock);
    /* LAB END */
    return room;
}

/* Moves everything waiting in the ring to the log, in order; returns how many. *get: when the
 * consumer began to look for the next value (--trace). */
static size_t queue_drain(locked_queue *q, item_log *log, double *get)
{
    /* LAB: the consumer takes the same lock as the producers. Hint: omp_set_lock(&q->lock) */
    omp_set_lock(&q->lock);
    /* LAB END */
    size_t taken = q->count;
    for (size_t k = 0; k < taken; k++) {
        produced_item item = q->ring[(q->head + k) % QUEUE_CAPACITY];
        item_log_add(log, item);
        trace_span(TRACE_MAIN, "get", *get, item.producer, item.value);
        *get = trace_begin();
    }
    q->head = (q->head + taken) % QUEUE_CAPACITY;
    q->count = 0;
    /* LAB: give the lock back. Hint: omp_unset_lock */
    omp_unset_lock(&q->lock);
    /* LAB END */
    return taken;
}

/* ---- the watchdog: the consumer never waits for ever ----
 * A producer that hangs would leave the consumer looking for its values for ever, and the
 * region's end waiting for the producer. Past a bound that grows with the work (seconds, plus
 * far more per value than a loaded machine needs) the consumer gives up: exit 3 naming what is
 * unfinished. A correct run never meets it. */
static double drain_bound_s(int producer_count, long n)
{
    return 10.0 + (double)producer_count * (double)n * 1e-4;
}

/* "consumer: 12 of 20 values after 10 s; producer 1 still running, put 2 of 10" */
static _Noreturn void drain_overdue(const production *run)
{
    char text[1024];
    size_t used = (size_t)snprintf(text, sizeof text, "consumer: %zu of %zu values after %.0f s",
                                   run->log->count, run->log->capacity, run->bound_s);
    for (int p = 0; p < run->producer_count && used < sizeof text; p++)
        if (!atomic_load(&run->tally[p].finished))
            used += (size_t)snprintf(text + used, sizeof text - used,
                                     "; producer %d still running, put %ld of %ld", p,
                                     atomic_load(&run->tally[p].put), run->n);
    die_msg("%s", text);
}

/* Whether every producer has said it finished (it puts nothing after that). */
static bool producers_finished(const production *run)
{
    for (int p = 0; p < run->producer_count; p++)
        if (!atomic_load(&run->tally[p].finished)) return false;
    return true;
}

/* ---- threads 1..W: the producers ---- */
static void produce(production *run, int producer)
{
    producer_tally *tally = &run->tally[producer];
    for (long i = 1; i <= run->n; i++) {
        produced_item item = {producer, producer_value(producer, i)};
        double put = trace_begin();
        while (!queue_try_put(&run->queue, item)) sched_yield(); /* full: let the consumer run */
        trace_span(producer, "put", put, i, item.value);
        atomic_fetch_add_explicit(&tally->put, 1, memory_order_relaxed);
    }
    atomic_store(&tally->finished, true);
}

/* ---- thread 0: the consumer, draining while the producers put ---- */
static void consume(production *run)
{
    /* Until every producer has finished and the ring is empty after that: what a producer put
     * before it said so is in the ring by then. */
    double get = trace_begin();
    for (;;) {
        bool finished = producers_finished(run);
        if (queue_drain(&run->queue, run->log, &get) > 0) continue;
        if (finished) break;
        if (omp_get_wtime() > run->deadline) drain_overdue(run);
        sched_yield(); /* empty: let them run */
    }
}

static void put_via_locked_ring(production *run)
{
#pragma omp parallel num_threads(run->producer_count + 1) default(none) shared(run)
    {
        int thread = omp_get_thread_num();
        if (thread == 0)
            consume(run);
        else
            produce(run, thread - 1);
    } /* the join: every producer has put its last item, the consumer has taken it */
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(production *run);
} variants[] = {
    {{"locked", "a bounded ring under an omp lock; W producers + 1 consumer thread"},
     put_via_locked_ring},
    {{NULL, NULL}, NULL}};

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

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    int producer_count = opt.workers; /* the consumer, thread 0, is counted apart */
    const char *refused = producers_refused(producer_count, opt.n);
    if (refused != NULL) usage_exit(refused);
    trace_open(&opt, producer_count);
    item_log log = item_log_new((size_t)producer_count * (size_t)opt.n); /* written through */
    production run = {.producer_count = producer_count, .n = opt.n, .log = &log,
                      .tally = aligned_alloc(_Alignof(producer_tally),
                                             (size_t)producer_count * sizeof(producer_tally)),
                      .bound_s = drain_bound_s(producer_count, opt.n)};
    if (run.tally == NULL) die_errno("aligned_alloc");
    memset(run.tally, 0, (size_t)producer_count * sizeof(producer_tally));
    omp_init_lock(&run.queue.lock);
    team_prepare(producer_count + 1); /* the producers and the consumer, or exit 3 now, untimed */

    double start = omp_get_wtime();
    run.deadline = start + run.bound_s; /* the watchdog's clock starts with the work's */
    variants[opt.variant_index].run(&run);
    double elapsed = omp_get_wtime() - start;

    trace_write(&info, &opt);
    long long *put = checked_malloc((size_t)producer_count, sizeof *put);
    for (int p = 0; p < producer_count; p++) put[p] = atomic_load(&run.tally[p].put);
    bool pass = report_producers(&info, &opt, &log, elapsed, 0, put);
    free(put);
    free(run.tally);
    omp_destroy_lock(&run.queue.lock);
    item_log_free(&log);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
