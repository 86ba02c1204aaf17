/*
 * mpi/queue.c - the notebook's worker pool on a Queue, with task_done and join, with MPI ranks.
 *
 * Python:  q = Queue()
 *          for i in range(10): Thread(target=worker, args=(q,), daemon=True).start()
 *          for i in range(1, 20): q.put(i)
 *          q.join(); print('endmain')          # worker: v = q.get(); print(...); q.task_done()
 *
 * Ranks share no memory, so no rank can reach into a common queue: rank 0 holds it (the
 * manager) and the other ranks ask for work by message.
 *   manager  a worker sends ASK (carrying the item it just finished, which is its task_done),
 *            rank 0 answers with the next ITEM, or with STOP once the queue is empty. Rank 0
 *            has joined the queue when every item has come back done; the STOPs end the
 *            workers, which then leave MPI like joined threads. Rank 0 only manages, so the
 *            workers are the other ranks: -np 4 reports workers=3 ranks=4. With -np 1 there
 *            is nobody to ask: rank 0 works through the queue itself (workers=1 ranks=1).
 * Rank 0 logs each result as it returns; the "in worker W got I" lines are printed from that
 * log after the timed part (rank 0 is the only rank that writes), and per_worker= counts the
 * items each worker rank took. --delay-ms D pauses D ms on every item. --trace shows rank 0's
 * "manage" loop, each ITEM and each ASK as an arrow, and each "item" on the worker's rank.
 * A run that outlasts a bound scaled to n (an ASK or a STOP never sent) exits 3 naming what is
 * unfinished.
 *
 * Run:  mpirun -np 4 ./mpi/queue
 *       mpirun -np 3 ./mpi/queue -n 1000000 --quiet
 *       mpirun -np 4 ./mpi/queue -n 30 --delay-ms 5 --trace queue.json
 * (as root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#include <stdio.h>
#include <stdlib.h>

#include "../common/mpi_harness.h"
#include "../common/trace.h"

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
 * not in another. Rank 0 writes every slot itself, so rank 0 touches them all. */
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
    size_t slot = log->count++; /* rank 0 alone writes the log */
    if (slot < log->capacity) { /* an extra item is counted, never stored */
        log->items[slot] = item;
        log->workers[slot] = worker;
    }
}

enum { TAG_ASK = 1, TAG_ITEM, TAG_STOP };

/* An ASK carrying this has nothing done yet: the worker's first request. */
enum { NOTHING_DONE = 0 };

static int world_rank, world_size;

/* What a variant works on: the items 1..n, the workers, the log rank 0 writes. */
typedef struct {
    long n;
    int worker_count;
    long delay_ms; /* the pause on every item (--delay-ms) */
    long handed_out;    /* rank 0: items sent so far (the watchdog's message) */
    int active_workers; /* rank 0: workers not yet stopped */
    long taken;         /* a worker rank: items it took */
    processed_log log;  /* rank 0's; empty on the others */
} queue_job;

/* What a worker does with an item it took: pause (--delay-ms). The "item" span on the worker's
 * track runs from the ITEM's arrival to the ASK that reports it done. */
static void take_item(const queue_job *job, long item)
{
    double taken = trace_begin();
    if (job->delay_ms > 0) sleep_ms(job->delay_ms);
    trace_span(0, "item", taken, item, TRACE_NONE);
}

/* ---- the watchdog: no rank waits for ever ----
 * A worker that never asks again (a lost task_done) leaves rank 0 in MPI_Recv for ever; a
 * worker never told to stop waits in its own. The harness's watchdog bounds the run on every
 * rank instead, rank 0 first: past a bound that grows with the work it exits 3 naming what is
 * unfinished. Generous (seconds, plus far more per item than a message round trip on a loaded
 * machine), so a correct run never meets it. */
static double join_bound_s(long n, long delay_ms)
{
    return 10.0 + (double)n * (1e-2 + (double)delay_ms / 1000.0);
}

static void describe_join(const void *state, char *text, size_t size)
{
    const queue_job *job = state;
    if (world_rank == ROOT_RANK)
        snprintf(text, size, "join: %ld items handed out, %zu done, %d of %d workers not stopped",
                 job->handed_out, job->log.count, job->active_workers, job->worker_count);
    else
        snprintf(text, size, "rank %d: join: %ld items taken, no STOP from rank 0", world_rank,
                 job->taken);
}

/* ---- rank 0: the queue and its manager ---- */
static void manage_queue(queue_job *job)
{
    long next_item = 1; /* the queue is 1..n: its head is all rank 0 needs to hold */
    if (world_size == 1) { /* nobody to ask: rank 0 is the worker */
        for (; next_item <= job->n; next_item++) {
            log_processed(&job->log, next_item, ROOT_RANK);
            take_item(job, next_item);
        }
        return;
    }
    double managing = trace_begin();
    job->active_workers = job->worker_count;
    while (job->active_workers > 0) {
        long done_item;
        MPI_Status status;
        MPI_CHECK(MPI_Recv(&done_item, 1, MPI_LONG, MPI_ANY_SOURCE, TAG_ASK, MPI_COMM_WORLD, &status),
                  "MPI_Recv");
        int worker = status.MPI_SOURCE;
        trace_flow_in(TRACE_MAIN, "ASK", trace_message_id(worker, done_item));
        if (done_item != NOTHING_DONE) log_processed(&job->log, done_item, worker); /* task_done */
        if (next_item <= job->n) {
            trace_flow_out(TRACE_MAIN, "ITEM", trace_message_id(ROOT_RANK, next_item));
            /* LAB: hand the next item to the worker that asked. Hint: MPI_Send(&next_item, 1, MPI_LONG, worker, TAG_ITEM, MPI_COMM_WORLD) inside MPI_CHECK */
            MPI_CHECK(MPI_Send(&next_item, 1, MPI_LONG, worker, TAG_ITEM, MPI_COMM_WORLD),
                      "MPI_Send");
            /* LAB END */
            job->handed_out = next_item++;
        } else {
            /* LAB: no item left: tell the worker to stop (an empty message, its tag says it). Hint: MPI_Send(NULL, 0, MPI_LONG, worker, TAG_STOP, MPI_COMM_WORLD) inside MPI_CHECK */
            MPI_CHECK(MPI_Send(NULL, 0, MPI_LONG, worker, TAG_STOP, MPI_COMM_WORLD), "MPI_Send");
            /* LAB END */
            job->active_workers--;
        }
    }
    trace_span(TRACE_MAIN, "manage", managing, job->n, TRACE_NONE);
}

/* ---- the other ranks: ask, work, report it done with the next ask, until STOP ---- */
static void work_on_queue(queue_job *job)
{
    long done_item = NOTHING_DONE;
    for (;;) {
        long item;
        MPI_Status status;
        trace_flow_out(0, "ASK", trace_message_id(world_rank, done_item));
        /* LAB: ask rank 0 for work, reporting the item done (task_done and get in one message), then receive the answer: an item, or the stop. Hint: MPI_Send(&done_item, ..., ROOT_RANK, TAG_ASK, ...), then MPI_Recv(&item, ..., ROOT_RANK, MPI_ANY_TAG, MPI_COMM_WORLD, &status) */
        MPI_CHECK(MPI_Send(&done_item, 1, MPI_LONG, ROOT_RANK, TAG_ASK, MPI_COMM_WORLD), "MPI_Send");
        MPI_CHECK(MPI_Recv(&item, 1, MPI_LONG, ROOT_RANK, MPI_ANY_TAG, MPI_COMM_WORLD, &status),
                  "MPI_Recv");
        /* LAB END, skeleton: item = 0; status.MPI_TAG = TAG_STOP; */
        if (status.MPI_TAG == TAG_STOP) break;
        trace_flow_in(0, "ITEM", trace_message_id(ROOT_RANK, item));
        job->taken++;
        take_item(job, item); /* the processing: a pause with --delay-ms, else just taking it */
        done_item = item;
    }
}

static void drain_with_manager(queue_job *job)
{
    if (world_rank == ROOT_RANK)
        manage_queue(job);
    else
        work_on_queue(job);
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(queue_job *job);
} variants[] = {
    {{"manager", "rank 0 answers each ASK (with the last item done) by ITEM or STOP"},
     drain_with_manager},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "queue",
    .model = "mpi",
    .summary = "Rank 0 holds a FIFO and hands items to worker ranks as they ask; STOP ends them.",
    VARIANT_TABLE(variants),
    .n_meaning = "items: rank 0's queue holds 1..n",
    .default_n = 19,
    .max_n = 100000000,
    .default_workers = 10,
    .takes_delay = true,
    .default_delay_ms = 0,
    .note = "--delay-ms D: each worker rank pauses D ms on every item it takes, between the ITEM\n"
            "and the ASK that reports it done; per_worker= in RESULT counts each rank's items.",
};

/* Every item 1..n processed exactly once: the lines from the log, the items per worker, the
 * summary, the RESULT. */
static bool verify_and_report(const options *opt, const queue_job *job, double elapsed)
{
    const processed_log *log = &job->log;
    long n = job->n;
    long checksum = 0;
    long long *per_worker = checked_calloc((size_t)job->worker_count, sizeof *per_worker);
    int first_worker = world_size > 1 ? 1 : ROOT_RANK; /* rank 0 only manages, unless alone */
    for (size_t k = 0; k < log->count && k < log->capacity; k++) {
        say(opt, "in worker %d got %ld\n", log->workers[k], log->items[k]);
        checksum += log->items[k];
        per_worker[log->workers[k] - first_worker]++;
    }
    bool pass = verify_count("items processed", n, (long long)log->count);
    pass = pass && verify_exactly_once(log->items, log->count, n);

    say(opt, "end main\n");
    printf("%d workers processed %zu of %ld items (expected %ld), checksum %ld (expected %ld)\n",
           opt->workers, log->count, n, n, checksum, n * (n + 1) / 2);
    print_result(&info, opt, pass, elapsed, "processed=%zu checksum=%ld ranks=%d per_worker=%s",
                 log->count, checksum, world_size, per_worker_text(per_worker, job->worker_count));
    free(per_worker);
    return pass;
}

int main(int argc, char **argv)
{
    options opt;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    long n = opt.n;
    opt.workers = world_size > 1 ? world_size - 1 : 1; /* rank 0 only manages, unless alone */
    queue_job job = {.n = n, .worker_count = opt.workers, .delay_ms = opt.delay_ms};
    if (world_rank == ROOT_RANK) log_prepare(&job.log, n); /* only rank 0 logs what came back */
    trace_open(&opt, 1); /* one track per rank: its own (rank 0's manager loop: main) */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank started, untimed */

    mpi_watchdog_start(join_bound_s(n, opt.delay_ms), describe_join, &job);

    double start = MPI_Wtime();
    variants[opt.variant_index].run(&job);
    double elapsed = MPI_Wtime() - start;

    watchdog_stop();

    mpi_trace_write(&info, &opt);
    bool pass = world_rank == ROOT_RANK ? verify_and_report(&opt, &job, elapsed) : true;
    free(job.log.items);
    free(job.log.workers);
    return mpi_finish(pass);
}
