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
 *            and receives one STOPPED reply per rank, the record that rank made of its own
 *            stop after leaving its loop. With -np 1 rank 0 is the only worker and stops itself.
 * Every rank works, so workers = ranks. A worker counts as stopped only if it recorded its own
 * stop after leaving its loop. A rank that never stops is exit 3 naming how many, 10 s after
 * the run's length, never a hang.
 * Observe: the latency grows with the ranks per core: a rank that is not running cannot look.
 * per_worker: the batches each rank did before it stopped. --trace shows each rank's "work"
 * span, rank 0's "stop request", each rank's "stopped", and the STOP and STOPPED messages as
 * arrows between the ranks.
 *
 * Run:  mpirun -np 2 ./mpi/cancel
 *       mpirun -np 4 ./mpi/cancel -n 500
 * (as root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/mpi_harness.h"
#include "../common/trace.h"

/* One worker's progress; rank 0 holds every rank's, filled in from the STOPPED replies. */
typedef struct {
    uint64_t state;
    uint64_t batches;
    int stopped; /* set by the worker itself, after it has left its loop */
} worker_progress;

/* Everything the run shares. */
typedef struct {
    worker_progress *progress; /* one per worker */
    int worker_count;
    long run_ms;
    double stop_at; /* when the stop was requested */
} stop_run;

enum { TAG_STOP = 1, TAG_STOPPED };

static int world_rank, world_size;

static void stop_with_message(stop_run *run)
{
    worker_progress *mine = &run->progress[world_rank];
    double working = trace_begin(); /* --trace: each rank's events are on its own track, 0 */
    if (world_rank == ROOT_RANK) {
        double deadline = MPI_Wtime() + (double)run->run_ms / 1000.0;
        while (MPI_Wtime() < deadline) {
            mine->state = work_batch(mine->state);
            mine->batches++;
        }
        run->stop_at = MPI_Wtime();
        trace_instant(0, "stop request", TRACE_NONE, TRACE_NONE);
        mine->stopped = 1;
        trace_span(0, "work", working, (long)mine->batches, TRACE_NONE);
        trace_instant(0, "stopped", (long)mine->batches, TRACE_NONE);
        for (int rank = 1; rank < world_size; rank++) /* --trace: the arrows' tails */
            trace_flow_out(0, "STOP", trace_message_id(ROOT_RANK, rank));
        /* LAB: tell every other rank to stop. Hint: an empty MPI_Send with tag TAG_STOP to each */
        for (int rank = 1; rank < world_size; rank++)
            MPI_CHECK(MPI_Send(NULL, 0, MPI_INT, rank, TAG_STOP, MPI_COMM_WORLD), "MPI_Send");
        /* LAB END */
        for (int rank = 1; rank < world_size; rank++) {
            uint64_t reply[3]; /* state, batches, stopped */
            MPI_CHECK(MPI_Recv(reply, 3, MPI_UINT64_T, rank, TAG_STOPPED, MPI_COMM_WORLD,
                               MPI_STATUS_IGNORE), "MPI_Recv");
            trace_flow_in(0, "STOPPED", trace_message_id(rank, 0));
            run->progress[rank] =
                (worker_progress){.state = reply[0], .batches = reply[1], .stopped = reply[2] == 1};
        }
    } else {
        MPI_Request stop_request;
        int stop = 0;
        MPI_CHECK(MPI_Irecv(NULL, 0, MPI_INT, ROOT_RANK, TAG_STOP, MPI_COMM_WORLD, &stop_request),
                  "MPI_Irecv");
        while (!stop) {
            mine->state = work_batch(mine->state);
            mine->batches++;
            /* LAB: has the STOP arrived? Ask without waiting. Hint: MPI_Test(&stop_request, &stop, ...) */
            MPI_CHECK(MPI_Test(&stop_request, &stop, MPI_STATUS_IGNORE), "MPI_Test");
            /* LAB END */
        }
        trace_flow_in(0, "STOP", trace_message_id(ROOT_RANK, world_rank));
        mine->stopped = 1;
        trace_span(0, "work", working, (long)mine->batches, TRACE_NONE);
        trace_instant(0, "stopped", (long)mine->batches, TRACE_NONE);
        uint64_t reply[3] = {mine->state, mine->batches, (uint64_t)mine->stopped};
        trace_flow_out(0, "STOPPED", trace_message_id(world_rank, 0));
        MPI_CHECK(MPI_Send(reply, 3, MPI_UINT64_T, ROOT_RANK, TAG_STOPPED, MPI_COMM_WORLD),
                  "MPI_Send");
    }
}

/* ---- the watchdog: a rank that never looks must not hang the run ----
 * A rank that never tests for the STOP runs for ever, and rank 0 waits in MPI_Recv for its
 * STOPPED. The harness's watchdog bounds the run on every rank instead: the run's length plus
 * 10 s, then exit 3; rank 0 names the ranks that have not confirmed. */
static void describe_stop(const void *state, char *text, size_t size)
{
    const stop_run *run = state;
    if (world_rank == ROOT_RANK) {
        int confirmed = 0;
        for (int rank = 1; rank < world_size; rank++) confirmed += run->progress[rank].stopped;
        snprintf(text, size, "stop: %d of %d ranks have not confirmed STOPPED",
                 world_size - 1 - confirmed, world_size - 1);
    } else {
        snprintf(text, size, "rank %d: stop: still running", world_rank);
    }
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(stop_run *run);
} variants[] = {
    {{"message", "STOP from rank 0, polled with MPI_Test; STOPPED replies confirm"},
     stop_with_message},
    {{NULL, NULL}, NULL}};

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

int main(int argc, char **argv)
{
    options opt;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    stop_run run = {.worker_count = opt.workers, .run_ms = opt.n};
    run.progress = checked_calloc((size_t)opt.workers, sizeof *run.progress);
    for (int w = 0; w < opt.workers; w++) run.progress[w].state = (uint64_t)w + 1;
    if (world_rank == ROOT_RANK)
        say(&opt, "starting %d ranks running endless loops; stopping them after %ld ms\n",
            opt.workers, opt.n);
    trace_open(&opt, 1); /* one track per rank: its own */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank started */

    mpi_watchdog_start((double)opt.n / 1000.0 + 10.0, describe_stop, &run);

    double start = MPI_Wtime();
    variants[opt.variant_index].run(&run);
    double end = MPI_Wtime();

    watchdog_stop();
    double elapsed = end - start, latency = end - run.stop_at;

    mpi_trace_write(&info, &opt);
    bool pass = true;
    if (world_rank == ROOT_RANK) {
        int stopped = 0;
        long long *batches = checked_calloc((size_t)opt.workers, sizeof *batches);
        for (int w = 0; w < opt.workers; w++) {
            stopped += run.progress[w].stopped;
            batches[w] = (long long)run.progress[w].batches;
            say(&opt, "rank %d: %s after %" PRIu64 " batches of work, confirmed by %s\n", w,
                run.progress[w].stopped ? "stopped" : "NOT stopped", run.progress[w].batches,
                w == ROOT_RANK ? "itself" : "its STOPPED reply");
        }
        pass = verify_count("workers confirmed stopped", opt.workers, stopped);
        printf("stopped %d of %d workers (expected %d), %.6f s after the stop request\n", stopped,
               opt.workers, opt.workers, latency);
        print_result(&info, &opt, pass, elapsed, "stopped=%d stop_latency_s=%.6f per_worker=%s",
                     stopped, latency, per_worker_text(batches, opt.workers));
        free(batches);
    }
    free(run.progress);
    return mpi_finish(pass);
}
