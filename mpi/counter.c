/*
 * mpi/counter.c - the notebook's Lock, and its Value + Lock with add100: the lost update of
 * mpi/race made correct, with MPI ranks.
 *
 * Python:  with lock:                      # read, add one, write: one step nobody can split
 *              number.value += 1           -> Number at the end is 200
 *
 * Every rank adds 1 to one counter n times; no update is lost and the end value is exactly
 * ranks * n.
 *   reduce    the MPI way: no shared counter at all. Each rank counts in its own memory and
 *             MPI_Reduce adds the counts at rank 0 once, at the end (like OpenMP's reduction).
 *   rma-lock  the counter in a window at rank 0; each step is MPI_Win_lock(EXCLUSIVE), Get,
 *             Put, MPI_Win_unlock: mpi/race's steps under a lock, one rank at a time.
 *   fetch-op  MPI_Fetch_and_op(MPI_SUM) on the window: the step is one atomic operation done
 *             by MPI (the counterpart of atomic_fetch_add), under a shared lock_all epoch.
 * Observe: compare increments per second with -n 10000000 --quiet: reduce is as fast as a
 * local loop; every rma-lock step costs several messages' worth of latency. With --delay-ms D
 * the pause sits inside the locked step (rma-lock), so the ranks take turns and a run lasts
 * ranks * n * D ms; reduce and fetch-op cannot hold a pause inside their step, so they pause
 * just before it and the pauses overlap.
 *
 * Run:  mpirun -np 2 ./mpi/counter
 *       mpirun -np 2 ./mpi/counter --variant fetch-op -n 100000 --quiet
 *       (as root or on fewer cores: see README, "MPI on a small machine")
 */
#include <stdio.h>
#include <stdlib.h>

#include "../common/mpi_harness.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"reduce", "local counts, MPI_Reduce(MPI_SUM) to rank 0: nothing shared"}},
    {{"rma-lock", "window at rank 0, MPI_LOCK_EXCLUSIVE around Get and Put"}},
    {{"fetch-op", "window at rank 0, MPI_Fetch_and_op(MPI_SUM): atomic"}},
    {{NULL, NULL}}};

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

enum { VARIANT_REDUCE, VARIANT_RMA_LOCK, VARIANT_FETCH_OP };

static long long add_with_reduce(long increments, long delay_ms)
{
    long long local_count = 0, count = 0;
    for (long i = 0; i < increments; i++) {
        if (delay_ms > 0) sleep_ms(delay_ms);
        local_count++;
    }
    MPI_CHECK(MPI_Reduce(&local_count, &count, 1, MPI_LONG_LONG, MPI_SUM, ROOT_RANK, MPI_COMM_WORLD),
              "MPI_Reduce");
    return count; /* meaningful at rank 0 */
}

static void add_with_rma_lock(MPI_Win window, long increments, long delay_ms)
{
    for (long i = 0; i < increments; i++) {
        long long local_copy;
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, ROOT_RANK, 0, window), "MPI_Win_lock");
        MPI_CHECK(MPI_Get(&local_copy, 1, MPI_LONG_LONG, ROOT_RANK, 0, 1, MPI_LONG_LONG, window),
                  "MPI_Get");
        MPI_CHECK(MPI_Win_flush(ROOT_RANK, window), "MPI_Win_flush"); /* the read is done */
        local_copy += 1;
        if (delay_ms > 0) sleep_ms(delay_ms);
        MPI_CHECK(MPI_Put(&local_copy, 1, MPI_LONG_LONG, ROOT_RANK, 0, 1, MPI_LONG_LONG, window),
                  "MPI_Put");
        MPI_CHECK(MPI_Win_unlock(ROOT_RANK, window), "MPI_Win_unlock"); /* the write is done */
    }
}

static void add_with_fetch_op(MPI_Win window, long increments, long delay_ms)
{
    const long long one = 1;
    MPI_CHECK(MPI_Win_lock_all(0, window), "MPI_Win_lock_all");
    for (long i = 0; i < increments; i++) {
        long long before;
        if (delay_ms > 0) sleep_ms(delay_ms);
        MPI_CHECK(MPI_Fetch_and_op(&one, &before, MPI_LONG_LONG, ROOT_RANK, 0, MPI_SUM, window),
                  "MPI_Fetch_and_op");
        MPI_CHECK(MPI_Win_flush(ROOT_RANK, window), "MPI_Win_flush");
    }
    MPI_CHECK(MPI_Win_unlock_all(window), "MPI_Win_unlock_all");
}

int main(int argc, char **argv)
{
    options opt;
    int world_rank, world_size;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    /* The notebook's Value('i', 0): one counter in rank 0's window (unused by reduce). */
    MPI_Win window;
    long long *value = mpi_root_value(sizeof *value, &window);

    long long expected = (long long)world_size * opt.n;
    if (world_rank == ROOT_RANK) say(&opt, "Number at the beginning is %lld\n", *value);

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    double start = MPI_Wtime();
    long long got = 0;
    if (opt.variant_index == VARIANT_REDUCE) {
        got = add_with_reduce(opt.n, opt.delay_ms);
    } else {
        if (opt.variant_index == VARIANT_RMA_LOCK)
            add_with_rma_lock(window, opt.n, opt.delay_ms);
        else
            add_with_fetch_op(window, opt.n, opt.delay_ms);
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank's last step is done */
        if (world_rank == ROOT_RANK) {
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, ROOT_RANK, 0, window), "MPI_Win_lock");
            got = *value;
            MPI_CHECK(MPI_Win_unlock(ROOT_RANK, window), "MPI_Win_unlock");
        }
    }
    double elapsed = MPI_Wtime() - start;

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        pass = verify_count("the counter", expected, got);
        say(&opt, "Number at the end is %lld\n", got);
        printf("counter %s: %d workers x %ld increments: expected %lld, got %lld (%.3g "
               "increments/s)\n", opt.variant, world_size, opt.n, expected, got,
               elapsed > 0 ? (double)got / elapsed : 0.0);
        print_result(&info, &opt, pass, elapsed, "expected=%lld got=%lld", expected, got);
    }
    MPI_CHECK(MPI_Win_free(&window), "MPI_Win_free");
    return mpi_finish(pass);
}
