/*
 * labs/omp/queue.c - exercise skeleton, generated from omp/queue.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=omp/queue
 * Start again from the skeleton: make lab-reset EX=omp/queue
 */
/*
 * omp/queue.c - the notebook's worker pool on a Queue, with task_done and join, in OpenMP.
 *
 * Python:  q = Queue()
 *          for i in range(10): Thread(target=worker, args=(q,), daemon=True).start()
 *          for i in range(1, 20): q.put(i)
 *          q.join(); print('endmain')          # worker: v = q.get(); print(...); q.task_done()
 *
 * OpenMP has the pool built in: the thread team of a parallel region.
 *   tasks   the queue is OpenMP's own task pool: one thread (single) creates a task per item,
 *           idle threads of the team take tasks as they come. A task finishing is task_done;
 *           the end of the taskgroup is q.join(): it waits for every task created inside it.
 *           OpenMP promises no order and no spread: the creating thread may run every task
 *           itself, newest first. Run ./omp/queue -n 5 -w 3 a few times to see your runtime's.
 *   locked  the queue is ours: the items 1..n behind one head index under an omp_lock_t, like
 *           queue.Queue's internal mutex. Every thread of a parallel region takes items until
 *           the queue is empty; the region's closing barrier is the join.
 * Either way the team ends with its region: no thread is left running, unlike the notebook's
 * daemon threads, which die with the program in mid-loop. The threads log what they took; the
 * "in worker W got I" lines are printed from that log after the timed part, and per_worker=
 * counts the items each thread took. --delay-ms D pauses D ms on every item. --trace shows
 * main's "put" and "join" and, on the track of the thread that took it, each "item" (a task's
 * run). A join that outlasts a bound scaled to n is exit 3 naming what is unfinished.
 *
 * Run:  ./omp/queue
 *       OMP_NUM_THREADS=2 ./omp/queue -n 1000000 --variant locked --quiet
 *       ./omp/queue -n 40 -w 4 --delay-ms 5 --trace queue.json
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/harness.h"
#include "../../common/omp_team.h"
#include "../../common/trace.h"

/* What the workers did, for the check and the lines: every item done and who did it, in the
 * order they were done. */
typedef struct {
    long *items;
    int *workers;
    size_t count;
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
    log->count = 0;
    log->capacity = (size_t)n;
    for (long k = 0; k < n; k++) {
        log->items[k] = 0;
        log->workers[k] = -1;
    }
}

static void log_processed(processed_log *log, long item, int worker)
{
    size_t slot;
#pragma omp atomic capture
    slot = log->count++;
    if (slot < log->capacity) { /* an extra item is counted, never stored */
        log->items[slot] = item;
        log->workers[slot] = worker;
    }
}

/* ---- locked: our own queue, one lock around its head ---- */
typedef struct {
    omp_lock_t lock;
    long next_item; /* the queue is 1..n: its head is all it needs to hold */
    long last_item;
} locked_queue;

/* Takes the next item; false when the queue is empty. */
static bool queue_get(locked_queue *q, long *item)
{
    /* TODO: one thread at a time looks at and moves the head. Hint: omp_set_lock(&q->lock) */
    bool got = q->next_item <= q->last_item;
    if (got) *item = q->next_item++;
    /* TODO: let the next thread in. Hint: omp_unset_lock */
    return got;
}

/* What a variant works on: the items 1..n, the workers, the log they write. */
typedef struct {
    long n;
    int worker_count;
    long delay_ms; /* the pause on every item (--delay-ms) */
    processed_log log;
    locked_queue queue; /* locked's; tasks queues in OpenMP's task pool */
} queue_job;

/* What a worker does with an item it took: log it, pause (--delay-ms). The "item" span runs
 * from get (the task starts) to task_done (it returns). */
static void take_item(queue_job *job, long item, int worker)
{
    double taken = trace_begin();
    log_processed(&job->log, item, worker);
    if (job->delay_ms > 0) sleep_ms(job->delay_ms);
    trace_span(worker, "item", taken, item, TRACE_NONE);
}

/* ---- tasks: OpenMP's task pool is the queue ---- */
static void drain_with_tasks(queue_job *job)
{
#pragma omp parallel num_threads(job->worker_count) default(none) shared(job)
#pragma omp single /* one thread puts */
    {
        double joining;
#pragma omp taskgroup
        {
            for (long item = 1; item <= job->n; item++) {
                double putting = trace_begin();
#pragma omp task default(none) firstprivate(item) shared(job)
                take_item(job, item, omp_get_thread_num()); /* a thread of the team takes it */
                trace_span(TRACE_MAIN, "put", putting, item, TRACE_NONE);
            }
            joining = trace_begin();
        } /* q.join(): every task created in the group has finished */
        trace_span(TRACE_MAIN, "join", joining, job->n, TRACE_NONE);
    }
}

static void drain_with_lock(queue_job *job)
{
    locked_queue *queue = &job->queue;
    double putting = trace_begin();
    queue->next_item = 1; /* q.put(1) .. q.put(n) */
    queue->last_item = job->n;
    trace_span(TRACE_MAIN, "put", putting, 1, job->n);
    double joining = 0.0;
#pragma omp parallel num_threads(job->worker_count) default(none) shared(job, queue, joining)
    {
        int worker = omp_get_thread_num();
        long item;
        while (queue_get(queue, &item)) take_item(job, item, worker);
        if (worker == 0) joining = trace_begin(); /* the main thread waits for the others */
    } /* the region's barrier: every thread found the queue empty and finished its last item */
    trace_span(TRACE_MAIN, "join", joining, job->n, TRACE_NONE);
}

/* ---- the watchdog: the join cannot wait for ever ----
 * Both joins are OpenMP's own waits (the end of the taskgroup, the region's closing barrier):
 * no call of ours waits there, so there is no wait of ours to bound. The harness's watchdog
 * bounds the run instead: past a bound that grows with the work, it exits 3 naming what is
 * unfinished. Generous, so a correct run on a loaded machine never meets it. */
static double join_bound_s(long n, long delay_ms)
{
    return 10.0 + (double)n * (1e-3 + (double)delay_ms / 1000.0);
}

static void describe_join(const void *state, char *text, size_t size)
{
    const queue_job *job = state;
    size_t done;
#pragma omp atomic read
    done = job->log.count;
    snprintf(text, size, "join: %zu of %ld items done", done, job->n);
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(queue_job *job);
} variants[] = {
    {{"tasks", "one thread creates a #pragma omp task per item; taskgroup end is the join"},
     drain_with_tasks},
    {{"locked", "shared queue under omp_set_lock, drained by a parallel region"}, drain_with_lock},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "queue",
    .model = "omp",
    .summary = "A team of OpenMP threads drains a FIFO; the join waits until every task is done.",
    VARIANT_TABLE(variants),
    .n_meaning = "items: the queue holds 1..n",
    .default_n = 19,
    .max_n = 100000000,
    .default_workers = 10,
    .takes_delay = true,
    .default_delay_ms = 0,
    .note = "--delay-ms D: each worker pauses D ms on every item it takes, between get and\n"
            "task_done (tasks: inside the task), per_worker= in RESULT counts each one's items.",
};

/* Every item 1..n processed exactly once: the lines from the log, the items per worker, the
 * summary, the RESULT. */
static bool verify_and_report(const options *opt, const queue_job *job, double elapsed)
{
    const processed_log *log = &job->log;
    long n = job->n;
    long checksum = 0;
    long long *per_worker = checked_calloc((size_t)job->worker_count, sizeof *per_worker);
    for (size_t k = 0; k < log->count && k < log->capacity; k++) {
        say(opt, "in worker %d got %ld\n", log->workers[k], log->items[k]);
        checksum += log->items[k];
        per_worker[log->workers[k]]++;
    }
    bool pass = verify_count("items processed", n, (long long)log->count);
    pass = pass && verify_exactly_once(log->items, log->count, n);

    say(opt, "end main\n");
    printf("%d workers processed %zu of %ld items (expected %ld), checksum %ld (expected %ld)\n",
           opt->workers, log->count, n, n, checksum, n * (n + 1) / 2);
    print_result(&info, opt, pass, elapsed, "processed=%zu checksum=%ld per_worker=%s", log->count,
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
    omp_init_lock(&job.queue.lock);
    team_prepare(opt.workers); /* a smaller team is exit 3 now, untimed */
    trace_open(&opt, opt.workers);
    watchdog_start(join_bound_s(n, opt.delay_ms), describe_join, &job);

    double start = omp_get_wtime();
    variants[opt.variant_index].run(&job);
    double elapsed = omp_get_wtime() - start;

    watchdog_stop();
    trace_write(&info, &opt);
    bool pass = verify_and_report(&opt, &job, elapsed);
    omp_destroy_lock(&job.queue.lock);
    free(job.log.items);
    free(job.log.workers);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
