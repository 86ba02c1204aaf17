/*
 * mpi/counter.c - the notebook's Lock, and its Value + Lock with add100: the lost update of
 * mpi/race made correct, with MPI ranks.
 *
 * Python:  with lock:                      # read, add one, write: one step nobody can split
 *              number.value += 1           -> Number at the end is 200
 *
 * Every rank adds 1 to one counter n times; every read-modify-write step is made indivisible
 * (or nothing is shared), so no update is lost and the end value is exactly ranks * n.
 *   reduce    the MPI way: no shared counter at all. Each rank counts in its own memory and
 *             MPI_Reduce adds the counts at rank 0 once, at the end (like OpenMP's reduction).
 *   rma-lock  the counter in a window at rank 0; each step is MPI_Win_lock(MPI_LOCK_EXCLUSIVE),
 *             MPI_Get, MPI_Put, MPI_Win_unlock: mpi/race's steps under a lock, one rank at a time.
 *   fetch-op  MPI_Fetch_and_op(MPI_SUM) on the window: the step is one atomic operation done
 *             by MPI (the counterpart of atomic_fetch_add), under a shared lock_all epoch.
 * Observe: compare increments per second with -n 10000000 --quiet: reduce is as fast as a
 * local loop; every rma-lock step costs several messages' worth of latency. With --delay-ms D
 * the pause sits inside the locked step (rma-lock), so the ranks take turns and a run lasts
 * ranks * n * D ms; reduce and fetch-op cannot hold a pause inside their step, so they pause
 * just before it and the pauses overlap. A run that outlasts a bound scaled to its steps is
 * exit 3 naming the count it reached.
 *
 * Run:  mpirun -np 2 ./mpi/counter
 *       mpirun -np 2 ./mpi/counter --variant fetch-op -n 100000 --quiet
 *       (as root or on fewer cores: see README, "MPI on a small machine")
 */
#include <stdio.h>
#include <stdlib.h>

#include "../common/mpi_harness.h"
#include "../common/trace.h"

/* Everything a rank's variant needs. */
typedef struct {
    long long value; /* at rank 0, once the variant has run: the counter's end value */
    MPI_Win window;  /* rma-lock, fetch-op: the shared counter lives in rank 0's window */
    long long *root_value; /* that counter: rank 0's window memory (NULL on the other ranks) */
    long long increments_made; /* by this rank: rank 0 gathers them into per_worker= */
    int world_rank, world_size;
    long increments;
    long delay_ms;
} shared_counter;

/* rma-lock and fetch-op, once every rank is done: rank 0 reads the counter in its window. */
static void read_root_value(shared_counter *counter)
{
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank's last step is done */
    if (counter->world_rank == ROOT_RANK) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, ROOT_RANK, 0, counter->window), "MPI_Win_lock");
        counter->value = *counter->root_value;
        MPI_CHECK(MPI_Win_unlock(ROOT_RANK, counter->window), "MPI_Win_unlock");
    }
}

/* --trace: a rank's own track (worker 0 of its process) shows its "private count" loop and
 * its MPI_Reduce. */
static void add_with_reduce(shared_counter *counter)
{
    long long count = 0; /* this rank's own count: nothing is shared while counting */
    double counting = trace_begin();
    for (long i = 0; i < counter->increments; i++) {
        if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
        count++;
    }
    trace_span(0, "private count", counting, 0, count);
    counter->increments_made = count;
    double reducing = trace_begin();
    /* LAB: add every rank's count into counter->value at rank 0. Hint: MPI_Reduce with MPI_SUM */
    MPI_CHECK(MPI_Reduce(&count, &counter->value, 1, MPI_LONG_LONG, MPI_SUM, ROOT_RANK,
                         MPI_COMM_WORLD), "MPI_Reduce"); /* rank 0 gets the sum of the counts */
    /* LAB END, skeleton: counter->value = count; */
    trace_span(0, "MPI_Reduce", reducing, count, TRACE_NONE);
}

/* --trace: each step is "MPI_Win_lock", "MPI_Get" (the Get and its flush: once it is done the
 * lock is surely this rank's, whenever the library actually took it), "lock hold" (pause, Put,
 * up to the unlock call) and "MPI_Win_unlock" (the Put completes, the lock is released). */
static void add_with_rma_lock(shared_counter *counter)
{
    MPI_Win window = counter->window;
    long i;
    for (i = 0; i < counter->increments; i++) {
        double locking = trace_begin();
        /* LAB: make Get, add and Put one step no other rank can split. Hint: an exclusive lock */
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, ROOT_RANK, 0, window), "MPI_Win_lock");
        /* LAB END, skeleton: MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, ROOT_RANK, 0, window), "MPI_Win_lock"); */
        double getting = trace_begin();
        trace_span(0, "MPI_Win_lock", locking, i, TRACE_NONE);
        long long local_copy;
        MPI_CHECK(MPI_Get(&local_copy, 1, MPI_LONG_LONG, ROOT_RANK, 0, 1, MPI_LONG_LONG, window),
                  "MPI_Get");
        MPI_CHECK(MPI_Win_flush(ROOT_RANK, window), "MPI_Win_flush"); /* the read is done */
        double holding = trace_begin();
        trace_span(0, "MPI_Get", getting, local_copy, TRACE_NONE);
        local_copy += 1;
        if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
        MPI_CHECK(MPI_Put(&local_copy, 1, MPI_LONG_LONG, ROOT_RANK, 0, 1, MPI_LONG_LONG, window),
                  "MPI_Put");
        trace_span(0, "lock hold", holding, local_copy - 1, local_copy); /* read, wrote */
        double unlocking = trace_begin();
        MPI_CHECK(MPI_Win_unlock(ROOT_RANK, window), "MPI_Win_unlock"); /* the write is done */
        trace_span(0, "MPI_Win_unlock", unlocking, local_copy, TRACE_NONE);
    }
    counter->increments_made = i;
    read_root_value(counter);
}

/* --trace: each step is one "MPI_Fetch_and_op" span (the call and its flush), with the value
 * it found. */
static void add_with_fetch_op(shared_counter *counter)
{
    MPI_Win window = counter->window;
    const long long one = 1;
    MPI_CHECK(MPI_Win_lock_all(0, window), "MPI_Win_lock_all");
    long i;
    for (i = 0; i < counter->increments; i++) {
        if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
        double adding = trace_begin();
        /* LAB: add one at rank 0 in one atomic call. Hint: MPI_Fetch_and_op with MPI_SUM */
        long long before;
        MPI_CHECK(MPI_Fetch_and_op(&one, &before, MPI_LONG_LONG, ROOT_RANK, 0, MPI_SUM, window),
                  "MPI_Fetch_and_op");
        /* LAB END, skeleton: (void)one; */
        MPI_CHECK(MPI_Win_flush(ROOT_RANK, window), "MPI_Win_flush");
        trace_span(0, "MPI_Fetch_and_op", adding, i, TRACE_NONE);
    }
    counter->increments_made = i;
    MPI_CHECK(MPI_Win_unlock_all(window), "MPI_Win_unlock_all");
    read_root_value(counter);
}

/* ---- the watchdog: a step that never completes must not hang the run ----
 * A rank that waits for a lock never given back, or for a rank that skipped a collective,
 * waits inside MPI for ever. The harness's watchdog bounds the run instead, by a limit that
 * grows with the steps and their pauses; rank 0 names the count in its window. Generous: a
 * step is a few messages, and on a loaded machine each may wait for a rank to be scheduled
 * (MPICH's ranks make progress only while they run). */
static double counting_bound_s(const shared_counter *counter)
{
    double steps = (double)counter->world_size * (double)counter->increments;
    return 10.0 + steps * (5e-2 + (double)counter->delay_ms / 1000.0);
}

static void describe_counting(const void *state, char *text, size_t size)
{
    const shared_counter *counter = state;
    if (counter->root_value == NULL)
        snprintf(text, size, "rank %d: join: not all ranks are done", counter->world_rank);
    else
        snprintf(text, size, "join: the counter is %lld of %lld", *counter->root_value,
                 (long long)counter->world_size * counter->increments);
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(shared_counter *counter);
} variants[] = {
    {{"reduce", "local counts, MPI_Reduce(MPI_SUM) to rank 0: nothing shared"}, add_with_reduce},
    {{"rma-lock", "window at rank 0, MPI_LOCK_EXCLUSIVE around Get and Put"}, add_with_rma_lock},
    {{"fetch-op", "window at rank 0, MPI_Fetch_and_op(MPI_SUM): atomic"}, add_with_fetch_op},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "counter",
    .model = "mpi",
    .summary = "Every rank adds 1 to one counter n times, synchronised: no update is lost.",
    VARIANT_TABLE(variants),
    .n_meaning = "increments per worker",
    .default_n = 100,
    .max_n = 10000000000L,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 0,
};

int main(int argc, char **argv)
{
    options opt;
    int world_rank, world_size;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    shared_counter counter = {.value = 0, .world_rank = world_rank, .world_size = world_size,
                              .increments = opt.n, .delay_ms = opt.delay_ms};
    /* The notebook's Value('i', 0): one counter in rank 0's window, 0 before any rank can see
     * it (reduce shares nothing and leaves it alone). */
    counter.root_value = mpi_root_value(sizeof *counter.root_value, &counter.window);
    long long expected = (long long)opt.workers * opt.n;
    if (world_rank == ROOT_RANK)
        say(&opt, "Number at the beginning is %lld\n", *counter.root_value);
    /* The start line: without it the other ranks would start while rank 0 still prints, and
     * rank 0's clock would miss the start of their work. */
    /* Rank 0 gathers every rank's increment count after the clock, into per_worker. */
    long long *per_worker =
        world_rank == ROOT_RANK ? checked_calloc((size_t)world_size, sizeof *per_worker) : NULL;
    trace_open(&opt, 1); /* one track per rank: its own */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");

    mpi_watchdog_start(counting_bound_s(&counter), describe_counting, &counter);

    double start = MPI_Wtime();
    variants[opt.variant_index].run(&counter);
    double elapsed = MPI_Wtime() - start;

    watchdog_stop();

    MPI_CHECK(MPI_Gather(&counter.increments_made, 1, MPI_LONG_LONG, per_worker, 1, MPI_LONG_LONG,
                         ROOT_RANK, MPI_COMM_WORLD), "MPI_Gather");
    mpi_trace_write(&info, &opt);
    long long got = counter.value;
    bool pass = true;
    if (world_rank == ROOT_RANK) {
        pass = verify_count("the counter", expected, got);

        say(&opt, "Number at the end is %lld\n", got);
        printf("counter %s: %d workers x %ld increments: expected %lld, got %lld (%.3g "
               "increments/s)\n", opt.variant, opt.workers, opt.n, expected, got,
               elapsed > 0 ? (double)got / elapsed : 0.0);
        print_result(&info, &opt, pass, elapsed, "expected=%lld got=%lld per_worker=%s", expected,
                     got, per_worker_text(per_worker, world_size));
    }
    free(per_worker);
    MPI_CHECK(MPI_Win_free(&counter.window), "MPI_Win_free");
    return mpi_finish(pass);
}
