/*
 * labs/posix/queue.c - exercise skeleton, generated from posix/queue.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=posix/queue
 * Start again from the skeleton: make lab-reset EX=posix/queue
 */
/*
 * posix/queue.c - the notebook's worker pool on a Queue, with task_done and join, in pthreads.
 *
 * Python:  q = Queue()
 *          for i in range(10): Thread(target=worker, args=(q,), daemon=True).start()
 *          for i in range(1, 20): q.put(i)
 *          q.join(); print('endmain')          # worker: v = q.get(); print(...); q.task_done()
 *
 * The queue is built here from a mutex and three condition variables, the way queue.Queue is
 * built inside CPython: put() waits while the ring is full (it is bounded, so a fast producer
 * cannot run ahead of the workers without limit), get() waits while it is empty, task_done()
 * counts a finished item, join() waits until every item put has been marked done.
 * Observe: join() returns exactly when the last task_done() runs, not when the queue is empty
 * (the last items are still being worked on then). The notebook's workers are daemon threads
 * that die with the program in mid-loop; ours are told to stop (queue_shutdown, as Python
 * 3.13's Queue.shutdown) and joined, so no thread is left running. The workers log what they
 * took; the "in worker W got I" lines are printed from that log after the timed part, and
 * per_worker= counts the items each worker took. --delay-ms D pauses D ms on every item, between
 * get() and task_done(), so the items spread over the workers. --trace shows main's "put" of
 * each item and its "join", and on each worker's track an "item" from get() to task_done().
 * A join (or a put) that outlasts a bound scaled to n is exit 3 naming what is unfinished.
 *
 * Run:  ./posix/queue
 *       ./posix/queue -n 1000000 -w 2 --quiet
 *       ./posix/queue -n 40 -w 4 --delay-ms 5 --trace queue.json
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../common/harness.h"
#include "../../common/trace.h"

/* Slots in the ring: put() blocks when this many items wait. */
enum { QUEUE_CAPACITY = 256 };

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;    /* get() waits here */
    pthread_cond_t not_full;     /* put() waits here */
    pthread_cond_t all_done;     /* join() waits here */
    long ring[QUEUE_CAPACITY];
    size_t head, count;
    long unfinished_tasks;       /* put but not yet task_done: what join() waits on */
    long tasks_put;              /* for the watchdog's message */
    bool shut_down;              /* no more puts: get() on an empty queue returns false */
    double bound_s;              /* put() and join() give up after this long (the watchdog) */
    struct timespec deadline;    /* CLOCK_MONOTONIC: when they give up */
} work_queue;

/* The watchdog's bound: a missing task_done() would leave join() waiting for ever; instead it
 * gives up once this has passed and exits 3. Generous (seconds, plus per item far more than a
 * hand-over through the kernel, a sleep and a wake-up, costs on a loaded machine, plus every
 * pause), so a correct run never meets it, even with a ring of one slot. */
static double join_bound_s(long n, long delay_ms)
{
    return 10.0 + (double)n * (1e-3 + (double)delay_ms / 1000.0);
}

static void queue_init(work_queue *q, double bound_s)
{
    pthread_condattr_t monotonic; /* timed waits on the clock that never jumps */
    CHECK_RC(pthread_condattr_init(&monotonic), "pthread_condattr_init");
    CHECK_RC(pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC), "pthread_condattr_setclock");
    CHECK_RC(pthread_mutex_init(&q->lock, NULL), "pthread_mutex_init");
    CHECK_RC(pthread_cond_init(&q->not_empty, NULL), "pthread_cond_init");
    CHECK_RC(pthread_cond_init(&q->not_full, &monotonic), "pthread_cond_init");
    CHECK_RC(pthread_cond_init(&q->all_done, &monotonic), "pthread_cond_init");
    CHECK_RC(pthread_condattr_destroy(&monotonic), "pthread_condattr_destroy");
    q->head = q->count = 0;
    q->unfinished_tasks = 0;
    q->tasks_put = 0;
    q->shut_down = false;
    q->bound_s = bound_s;
    double deadline = now_seconds() + bound_s; /* now_seconds() reads CLOCK_MONOTONIC */
    q->deadline.tv_sec = (time_t)deadline;
    q->deadline.tv_nsec = (long)((deadline - (double)q->deadline.tv_sec) * 1e9);
}

/* pthread_cond_wait, bounded by the watchdog's deadline: past it, exit 3 naming who waited and
 * what is unfinished ("join: 19 tasks put, 0 done after 10 s"). Called with the lock held. */
static void queue_wait(work_queue *q, pthread_cond_t *cond, const char *waiter)
{
    int rc = pthread_cond_timedwait(cond, &q->lock, &q->deadline);
    if (rc == ETIMEDOUT)
        die_msg("%s: %ld tasks put, %ld done after %.0f s", waiter, q->tasks_put,
                q->tasks_put - q->unfinished_tasks, q->bound_s);
    if (rc != 0) die_code("pthread_cond_timedwait", rc);
}

static void queue_destroy(work_queue *q)
{
    CHECK_RC(pthread_cond_destroy(&q->all_done), "pthread_cond_destroy");
    CHECK_RC(pthread_cond_destroy(&q->not_full), "pthread_cond_destroy");
    CHECK_RC(pthread_cond_destroy(&q->not_empty), "pthread_cond_destroy");
    CHECK_RC(pthread_mutex_destroy(&q->lock), "pthread_mutex_destroy");
}

static void queue_put(work_queue *q, long item)
{
    CHECK_RC(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
    while (q->count == QUEUE_CAPACITY) /* a loop: wake-ups may be spurious */
        queue_wait(q, &q->not_full, "put");
    q->ring[(q->head + q->count) % QUEUE_CAPACITY] = item;
    q->count++;
    q->unfinished_tasks++;
    q->tasks_put++;
    CHECK_RC(pthread_cond_signal(&q->not_empty), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
}

/* Takes the oldest item; false once the queue is shut down and empty (the worker's stop). Its
 * wait needs no bound: the main thread's next put() or its shutdown wakes it, and those two
 * cannot be late for ever (put() and join() have the watchdog's bound). */
static bool queue_get(work_queue *q, long *item)
{
    CHECK_RC(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
    while (q->count == 0 && !q->shut_down)
        CHECK_RC(pthread_cond_wait(&q->not_empty, &q->lock), "pthread_cond_wait");
    bool got = q->count > 0;
    if (got) {
        *item = q->ring[q->head];
        q->head = (q->head + 1) % QUEUE_CAPACITY;
        q->count--;
        CHECK_RC(pthread_cond_signal(&q->not_full), "pthread_cond_signal");
    }
    CHECK_RC(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
    return got;
}

static void queue_task_done(work_queue *q)
{
    CHECK_RC(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
    /* TODO: one task fewer unfinished; the last one wakes every join() waiting on all_done. Hint: if (--q->unfinished_tasks == 0) pthread_cond_broadcast(&q->all_done) inside CHECK_RC */
    CHECK_RC(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
}

/* Returns when every item put so far has been marked done (or exits 3 past the deadline). */
static void queue_join(work_queue *q)
{
    CHECK_RC(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
    /* TODO: wait while tasks are unfinished (a loop: a wake-up may come early). Hint: while (q->unfinished_tasks > 0) queue_wait(q, &q->all_done, "join"); */
    CHECK_RC(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
}

/* Wakes every waiting worker; each get() then returns false once the queue is empty. */
static void queue_shutdown(work_queue *q)
{
    CHECK_RC(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
    q->shut_down = true;
    CHECK_RC(pthread_cond_broadcast(&q->not_empty), "pthread_cond_broadcast");
    CHECK_RC(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
}

/* What the workers did, for the check and the lines: every item done and who did it, in the
 * order they were done. */
typedef struct {
    long *items;
    int *workers;
    atomic_size_t count;
    size_t capacity;
} processed_log;

/* The log is written inside the clock, so it is allocated and its pages are touched before it
 * starts: a page's first write costs a fault, which would otherwise be timed in one model and
 * not in another. Which worker fills slot k is decided while the queue drains (whoever finishes
 * next), so no split of the touch could match the work's: one thread touches it all. */
static void log_prepare(processed_log *log, long n)
{
    log->items = checked_malloc((size_t)n, sizeof *log->items);
    log->workers = checked_malloc((size_t)n, sizeof *log->workers);
    atomic_init(&log->count, 0);
    log->capacity = (size_t)n;
    for (long k = 0; k < n; k++) {
        log->items[k] = 0;
        log->workers[k] = -1;
    }
}

static void log_processed(processed_log *log, long item, int worker)
{
    size_t slot = atomic_fetch_add(&log->count, 1);
    if (slot < log->capacity) { /* an extra item is counted, never stored */
        log->items[slot] = item;
        log->workers[slot] = worker;
    }
}

typedef struct queue_job queue_job;

/* One worker thread's argument: who it is and the job it works on. */
typedef struct {
    int worker_id;
    queue_job *job;
} worker_args;

/* What a variant works on: the items 1..n, the workers, the log they write. */
struct queue_job {
    long n;
    int worker_count;
    long delay_ms; /* the pause on every item (--delay-ms) */
    processed_log log;
    work_queue queue;
    pthread_t *threads;
    worker_args *args;
    size_t done_at_join; /* items in the log when queue_join returned */
};

/* ---- a worker thread: get, work, task_done, until the queue is shut down ---- */
static void *worker(void *arg)
{
    const worker_args *self = arg;
    work_queue *queue = &self->job->queue;
    long item;
    while (queue_get(queue, &item)) {
        double taken = trace_begin();
        log_processed(&self->job->log, item, self->worker_id); /* the processing */
        if (self->job->delay_ms > 0) sleep_ms(self->job->delay_ms);
        trace_span(self->worker_id, "item", taken, item, TRACE_NONE); /* got .. task_done */
        queue_task_done(queue);
    }
    return NULL;
}

/* ---- thread: the main thread puts, the pool gets, join waits for the last task_done ---- */
static void drain_with_threads(queue_job *job)
{
    for (int w = 0; w < job->worker_count; w++)
        CHECK_RC(pthread_create(&job->threads[w], NULL, worker, &job->args[w]), "pthread_create");
    for (long item = 1; item <= job->n; item++) {
        double putting = trace_begin();
        queue_put(&job->queue, item);
        trace_span(TRACE_MAIN, "put", putting, item, TRACE_NONE);
    }
    double joining = trace_begin();
    queue_join(&job->queue); /* every item done: the notebook's q.join() */
    job->done_at_join = atomic_load(&job->log.count);
    trace_span(TRACE_MAIN, "join", joining, (long)job->done_at_join, TRACE_NONE);
    queue_shutdown(&job->queue); /* the daemon threads' clean replacement: stop, then join */
    for (int w = 0; w < job->worker_count; w++)
        CHECK_RC(pthread_join(job->threads[w], NULL), "pthread_join");
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(queue_job *job);
} variants[] = {
    {{"thread", "bounded FIFO: mutex + condition variables, put/get/task_done/join"},
     drain_with_threads},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "queue",
    .model = "posix",
    .summary = "A pool of worker threads drains a FIFO; join() waits until every task is done.",
    VARIANT_TABLE(variants),
    .n_meaning = "items: the main thread puts 1..n",
    .default_n = 19,
    .max_n = 100000000,
    .default_workers = 10,
    .takes_delay = true,
    .default_delay_ms = 0,
    .note = "--delay-ms D: each worker pauses D ms on every item it takes, between get() and\n"
            "task_done(), so the items spread over the workers (per_worker= in RESULT).",
};

/* Every item 1..n processed exactly once, and all of them done when join() returned: the lines
 * from the log, the items per worker, the summary, the RESULT. */
static bool verify_and_report(const options *opt, const queue_job *job, double elapsed)
{
    const processed_log *log = &job->log;
    long n = job->n;
    size_t processed = atomic_load(&log->count);
    long checksum = 0;
    long long *per_worker = checked_calloc((size_t)job->worker_count, sizeof *per_worker);
    for (size_t k = 0; k < processed && k < log->capacity; k++) {
        say(opt, "in worker %d got %ld\n", log->workers[k], log->items[k]);
        checksum += log->items[k];
        per_worker[log->workers[k]]++;
    }
    bool pass = verify_count("items processed", n, (long long)processed);
    pass = pass && verify_count("items done when join() returned", n, (long long)job->done_at_join);
    pass = pass && verify_exactly_once(log->items, processed, n);

    say(opt, "end main\n");
    printf("%d workers processed %zu of %ld items (expected %ld), checksum %ld (expected %ld)\n",
           opt->workers, processed, n, n, checksum, n * (n + 1) / 2);
    print_result(&info, opt, pass, elapsed, "processed=%zu checksum=%ld per_worker=%s", processed,
                 checksum, per_worker_text(per_worker, job->worker_count));
    free(per_worker);
    return pass;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    long n = opt.n;
    queue_job job = {.n = n, .worker_count = opt.workers, .delay_ms = opt.delay_ms};
    log_prepare(&job.log, n);
    job.threads = checked_malloc((size_t)opt.workers, sizeof *job.threads);
    job.args = checked_malloc((size_t)opt.workers, sizeof *job.args);
    for (int w = 0; w < opt.workers; w++) job.args[w] = (worker_args){.worker_id = w, .job = &job};
    trace_open(&opt, opt.workers);
    queue_init(&job.queue, join_bound_s(n, opt.delay_ms)); /* the watchdog's clock starts here */

    double start = now_seconds();
    variants[opt.variant_index].run(&job);
    double elapsed = now_seconds() - start;

    trace_write(&info, &opt);
    bool pass = verify_and_report(&opt, &job, elapsed);
    queue_destroy(&job.queue);
    free(job.log.items);
    free(job.log.workers);
    free(job.threads);
    free(job.args);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
