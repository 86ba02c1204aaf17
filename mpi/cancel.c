/*
 * mpi/cancel.c - the notebook's "processes are killable, threads are not": W workers run endless
 * CPU-bound loops; after -n milliseconds they are stopped, each confirms it is gone, and rank 0
 * reports how long that took.
 *
 * Python:  p = Process(target=endless); p.start(); ...; p.terminate(); p.join()   # works
 *          threading.Thread has no terminate(): a `while True` thread can only be made a daemon,
 *          which dies with the whole program
 *
 * MPI ranks are processes, yet a rank must not be killed: mpirun treats a rank that dies as a
 * failed job and ends all of them. So the stop is a message, and each rank must look for it.
 *   message  every rank works; ranks 1.. post an MPI_Irecv for STOP from rank 0 before they
 *            start and check it with MPI_Test after every batch of work. Rank 0 works too,
 *            watching the clock: after n ms it sends STOP to every other rank, stops itself,
 *            and receives one STOPPED reply per rank, the confirmation that rank has left its
 *            loop. With -np 1 rank 0 is the only worker and stops itself.
 * Observe: the latency grows with the ranks per core: a rank that is not running cannot look.
 *
 * Run:  mpirun -np 2 ./mpi/cancel
 *       mpirun -np 4 ./mpi/cancel -n 500
 * (as root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/mpi_harness.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"message", "STOP from rank 0, polled with MPI_Test; STOPPED replies confirm"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "cancel",
    .model = "mpi",
    .summary = "Stop endless CPU-bound ranks: rank 0 sends STOP, the ranks poll with MPI_Test.",
    VARIANT_TABLE(variants),
    .n_meaning = "milliseconds the workers run before the stop",
    .default_n = 100,
    .max_n = 3600000, /* an hour */
    .default_workers = 2,
};

enum { TAG_STOP = 1, TAG_STOPPED };

static int world_rank, world_size;

/* A worker rank: work until STOP arrives, then say so. Returns nothing: its news is the reply. */
static void work_until_told(void)
{
    MPI_Request stop_request;
    int stop = 0;
    uint64_t report[2] = {(uint64_t)world_rank + 1, 0}; /* state, batches */
    MPI_CHECK(MPI_Irecv(NULL, 0, MPI_INT, ROOT_RANK, TAG_STOP, MPI_COMM_WORLD, &stop_request),
              "MPI_Irecv");
    while (!stop) {
        report[0] = work_batch(report[0]);
        report[1]++;
        MPI_CHECK(MPI_Test(&stop_request, &stop, MPI_STATUS_IGNORE), "MPI_Test");
    }
    MPI_CHECK(MPI_Send(report, 2, MPI_UINT64_T, ROOT_RANK, TAG_STOPPED, MPI_COMM_WORLD), "MPI_Send");
}

/* Rank 0: work until the deadline, stop everybody, collect the confirmations.
 * Returns the stop latency; *stopped counts the ranks confirmed stopped (rank 0 included). */
static double run_and_stop_ranks(const options *opt, double start, int *stopped)
{
    volatile uint64_t result; /* the work is stored, so the compiler must do it */
    uint64_t state = 1, batches = 0;
    double deadline = start + (double)opt->n / 1000.0;
    while (MPI_Wtime() < deadline) {
        result = state = work_batch(state);
        batches++;
    }
    (void)result;

    /* Each rank's batches, printed once the latency is taken (printing is slow). */
    uint64_t *rank_batches = checked_calloc((size_t)world_size, sizeof *rank_batches);
    double stop_at = MPI_Wtime();
    for (int rank = 1; rank < world_size; rank++)
        MPI_CHECK(MPI_Send(NULL, 0, MPI_INT, rank, TAG_STOP, MPI_COMM_WORLD), "MPI_Send");
    *stopped = 1; /* rank 0 has left its loop */
    rank_batches[ROOT_RANK] = batches;
    for (int rank = 1; rank < world_size; rank++) {
        uint64_t report[2];
        MPI_CHECK(MPI_Recv(report, 2, MPI_UINT64_T, rank, TAG_STOPPED, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE), "MPI_Recv");
        (*stopped)++;
        rank_batches[rank] = report[1];
    }
    double latency = MPI_Wtime() - stop_at;

    say(opt, "rank 0: stopped itself after %" PRIu64 " batches of work\n", rank_batches[ROOT_RANK]);
    for (int rank = 1; rank < world_size; rank++)
        say(opt, "rank %d: stopped after %" PRIu64 " batches of work, confirmed by its reply\n",
            rank, rank_batches[rank]);
    free(rank_batches);
    return latency;
}

int main(int argc, char **argv)
{
    options opt;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    if (world_rank == ROOT_RANK)
        say(&opt, "starting %d ranks running endless loops; stopping them after %ld ms\n",
            world_size, opt.n);
    int stopped = 0;
    double latency = 0;
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank started */
    double start = MPI_Wtime();
    if (world_rank == ROOT_RANK)
        latency = run_and_stop_ranks(&opt, start, &stopped);
    else
        work_until_told();
    double elapsed = MPI_Wtime() - start;

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        pass = verify_count("workers confirmed stopped", world_size, stopped);
        printf("stopped %d of %d workers (expected %d), %.6f s after the stop request\n", stopped,
               world_size, world_size, latency);
        print_result(&info, &opt, pass, elapsed, "stopped=%d stop_latency_s=%.6f", stopped, latency);
    }
    return mpi_finish(pass);
}
