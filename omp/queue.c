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
 *   locked  the queue is ours: an array of items and a head index under an omp_lock_t, like
 *           queue.Queue's internal mutex. Every thread of a parallel region takes items until
 *           the queue is empty; the region's closing barrier is the join.
 * Either way the team ends with its region: no thread is left running, unlike the notebook's
 * daemon threads, which die with the program in mid-loop. The threads log what they took; the
 * "in worker W got I" lines are printed from that log after the timed part.
 *
 * Run:  ./omp/queue
 *       OMP_NUM_THREADS=2 ./omp/queue -n 1000000 --variant locked --quiet
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/omp_team.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"tasks", "one thread creates a task per item; taskgroup end is the join"}},
    {{"locked", "shared queue under an omp lock, drained by a parallel region"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "queue",
    .model = "omp",
    .summary = "A team of OpenMP threads drains a FIFO; the join waits until every task is done.",
    VARIANT_TABLE(variants),
    .n_meaning = "items: the queue holds 1..n",
    .default_n = 19,
    .max_n = 100000000,
    .default_workers = 10,
};

enum { VARIANT_TASKS, VARIANT_LOCKED };

/* What the workers did, for the check and the lines: every item taken and who took it, in
 * the order the workers finished. */
typedef struct {
    long *items;
    int *workers;
    size_t count;
    size_t capacity;
} processed_log;

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


/* ---- tasks: OpenMP's task pool is the queue ---- */
static void drain_with_tasks(long n, processed_log *log, int workers, int *team_size)
{
#pragma omp parallel num_threads(workers) default(none) shared(n, log, team_size)
#pragma omp single
    {
        *team_size = omp_get_num_threads();
#pragma omp taskgroup
        {
            for (long item = 1; item <= n; item++) {
#pragma omp task default(none) firstprivate(item) shared(log)
                log_processed(log, item, omp_get_thread_num());
            }
        } /* q.join(): every task created in the group has finished */
    }
}

/* ---- locked: our own queue, one lock around its head ---- */
typedef struct {
    omp_lock_t lock;
    const long *items;
    long head, count;
} locked_queue;

/* Takes the next item; false when the queue is empty. */
static bool queue_get(locked_queue *q, long *item)
{
    omp_set_lock(&q->lock);
    bool got = q->head < q->count;
    if (got) *item = q->items[q->head++];
    omp_unset_lock(&q->lock);
    return got;
}

static void drain_with_lock(long n, processed_log *log, int workers, int *team_size)
{
    long *items = checked_malloc((size_t)n, sizeof *items);
    for (long k = 0; k < n; k++) items[k] = k + 1; /* q.put(1) .. q.put(n) */
    locked_queue queue = {.items = items, .head = 0, .count = n};
    omp_init_lock(&queue.lock);

#pragma omp parallel num_threads(workers) default(none) shared(queue, log, team_size)
    {
#pragma omp single nowait
        *team_size = omp_get_num_threads();
        long item;
        while (queue_get(&queue, &item)) log_processed(log, item, omp_get_thread_num());
    } /* the region's barrier: every thread found the queue empty and finished its last item */

    omp_destroy_lock(&queue.lock);
    free(items);
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    long n = opt.n;
    processed_log log = {.items = checked_malloc((size_t)n, sizeof(long)),
                         .workers = checked_malloc((size_t)n, sizeof(int)), .count = 0,
                         .capacity = (size_t)n};
    int team_size = 0;

    team_exact();
    double start = omp_get_wtime();
    if (opt.variant_index == VARIANT_TASKS)
        drain_with_tasks(n, &log, opt.workers, &team_size);
    else
        drain_with_lock(n, &log, opt.workers, &team_size);
    double elapsed = omp_get_wtime() - start;
    team_check(opt.workers, team_size);

    size_t processed = log.count;
    long checksum = 0;
    for (size_t k = 0; k < processed && k < log.capacity; k++) {
        say(&opt, "in worker %d got %ld\n", log.workers[k], log.items[k]);
        checksum += log.items[k];
    }
    bool pass = verify_count("items processed", n, (long long)processed);
    pass = pass && verify_exactly_once(log.items, processed, n);

    say(&opt, "end main\n");
    printf("%d workers processed %zu of %ld items (expected %ld), checksum %ld (expected %ld)\n",
           opt.workers, processed, n, n, checksum, n * (n + 1) / 2);
    print_result(&info, &opt, pass, elapsed, "processed=%zu checksum=%ld", processed, checksum);
    free(log.items);
    free(log.workers);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
