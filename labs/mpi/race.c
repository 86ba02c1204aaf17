/*
 * labs/mpi/race.c - exercise skeleton, generated from mpi/race.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=mpi/race
 * Start again from the skeleton: make lab-reset EX=mpi/race
 */
/*
 * mpi/race.c - WRONG ON PURPOSE: the notebook's lost update, with MPI one-sided communication.
 * The counter lives in a window at rank 0; every rank reads it (MPI_Get), pauses, and writes
 * its copy plus one back (MPI_Put), with no exclusive lock, so updates get lost. The correct
 * program is mpi/counter (rma-lock: the same steps under MPI_LOCK_EXCLUSIVE).
 *
 * Python:  local_copy = database_value      # read
 *          local_copy += 1
 *          time.sleep(0.1)                  # the pause lets the other rank read the old value
 *          database_value = local_copy      # write: overwrites the other rank's update
 *          -> start value 0, end value 1 (two increments, one survives)
 *
 * W workers each add 1 to one shared counter n times: read, pause, write, with no lock, so an
 * update another worker makes between one worker's read and its write is lost.
 *   rma  MPI_Win_lock_all opens a shared access epoch on every rank at once: it makes the
 *        one-sided calls legal but excludes nobody. MPI_Win_flush completes the Get before
 *        the pause and the Put before the next read. Concurrent Puts to one location leave
 *        an undefined value by the MPI standard; in practice one of them wins, as here.
 * Ranks share no memory, yet the race is the same as with threads: any state that several
 * workers read and write, wherever it lives, needs mutual exclusion. The ranks meet at a
 * barrier first, so they start the race together. Observe: with the default pause (100 ms),
 * -np W ranks doing 1 increment each end at 1, not W (Open MPI). An MPI library without
 * asynchronous progress (MPICH by default) may serve a Get to rank 0 only when rank 0 itself
 * calls MPI again, after its pause: then fewer updates are lost, and the program is exactly as
 * wrong. What to look at instead: mpi/counter.
 *
 * Run:  mpirun -np 2 ./mpi/race
 *       mpirun -np 4 ./mpi/race -n 3 --delay-ms 10
 *       (as root or on fewer cores: see README, "MPI on a small machine")
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../common/mpi_harness.h"
#include "../../common/trace.h"

/* Everything a rank's variant needs. */
typedef struct {
    long value; /* at rank 0, once the variant has run: the counter's end value */
    MPI_Win window;
    long *root_value; /* the notebook's database_value: rank 0's window memory (NULL elsewhere) */
    long long reads_made; /* by this rank: rank 0 gathers them into per_worker= */
    int world_rank;
    long increments;
    long delay_ms;
} shared_counter;

/* The notebook's increase(), n times, by every worker. The race: between one worker's read and
 * its write, another worker reads the same old value, and one of the two writes is lost. */
static void increase_with_rma(shared_counter *counter)
{
    MPI_Win window = counter->window;
    MPI_CHECK(MPI_Win_lock_all(0, window), "MPI_Win_lock_all"); /* legal access, excludes nobody */
    long i;
    for (i = 0; i < counter->increments; i++) {
        /* TODO: read the shared value into local_copy, add one, pause (counter->delay_ms), write it back: the notebook's increase(). Hint: MPI_Get, MPI_Win_flush, MPI_Put, MPI_Win_flush on rank 0's window */
    }
    counter->reads_made = i;
    MPI_CHECK(MPI_Win_unlock_all(window), "MPI_Win_unlock_all");
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank's last Put is done */
    if (counter->world_rank == ROOT_RANK) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, ROOT_RANK, 0, window), "MPI_Win_lock");
        counter->value = *counter->root_value;
        MPI_CHECK(MPI_Win_unlock(ROOT_RANK, window), "MPI_Win_unlock");
    }
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(shared_counter *counter);
} variants[] = {
    {{"rma", "window at rank 0, MPI_Win_lock_all (shared), Get, pause, Put"}, increase_with_rma},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "race",
    .model = "mpi",
    .summary = "Every rank adds 1 to a counter at rank 0 n times with NO exclusive lock: MPI_Get, "
               "pause, MPI_Put.",
    VARIANT_TABLE(variants),
    .n_meaning = "increments per worker",
    .default_n = 1,
    .max_n = 10000000000L,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 100,
    .note = "WRONG ON PURPOSE: this program loses updates (a data race) to show why a lock is "
            "needed.\nIts check only asks that 1 <= got <= expected. The correct version is "
            "mpi/counter (rma-lock).",
};

int main(int argc, char **argv)
{
    options opt;
    int world_rank, world_size;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    shared_counter counter = {
        .value = 0, .world_rank = world_rank, .increments = opt.n, .delay_ms = opt.delay_ms};
    /* The notebook's database_value: one long in rank 0's window, 0 before any rank can see it. */
    counter.root_value = mpi_root_value(sizeof *counter.root_value, &counter.window);
    long expected = opt.workers * opt.n;
    if (world_rank == ROOT_RANK) say(&opt, "start value %ld\n", *counter.root_value);
    /* The start line: without it the other ranks would start while rank 0 still prints, so
     * they would not race together and rank 0's clock would miss the start of their work. */
    /* Rank 0 gathers every rank's read count after the clock, into per_worker. */
    long long *per_worker =
        world_rank == ROOT_RANK ? checked_calloc((size_t)world_size, sizeof *per_worker) : NULL;
    trace_open(&opt, 1); /* one track per rank: its own */
    trace_mark_repeats("read..write", "lost update"); /* two reads of one value: a lost update */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");

    double start = MPI_Wtime();
    variants[opt.variant_index].run(&counter);
    double elapsed = MPI_Wtime() - start;

    MPI_CHECK(MPI_Gather(&counter.reads_made, 1, MPI_LONG_LONG, per_worker, 1, MPI_LONG_LONG,
                         ROOT_RANK, MPI_COMM_WORLD), "MPI_Gather");
    mpi_trace_write(&info, &opt);
    long got = counter.value;
    bool pass = true;
    if (world_rank == ROOT_RANK) {
        long lost = expected - got;
        /* A demonstration, not a computation: updates may be lost, never invented. */
        pass = verify_race(expected, got);

        say(&opt, "end value %ld\n", got);
        say(&opt, "end main\n");
        printf("race %s (no lock, wrong on purpose): expected %ld, got %ld, %ld update%s lost\n",
               opt.variant, expected, got, lost, lost == 1 ? "" : "s");
        print_result(&info, &opt, pass, elapsed, "expected=%ld got=%ld lost=%ld per_worker=%s",
                     expected, got, lost, per_worker_text(per_worker, world_size));
    }
    free(per_worker);
    MPI_CHECK(MPI_Win_free(&counter.window), "MPI_Win_free");
    return mpi_finish(pass);
}
