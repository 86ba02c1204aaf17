/*
 * mpi/producers.c - the notebook's producer processes putting into one process-safe Queue,
 * with MPI ranks: the ranks are the producers and MPI's message passing is the queue.
 *
 * Python:  q = multiprocessing.Queue()
 *          p1 = Process(target=square, args=(range(1, 6), q))         # puts 1 4 9 16 25
 *          p2 = Process(target=make_negative, args=(range(1, 6), q))  # puts -1 -2 -3 -4 -5
 *          p1.start(); p2.start(); p1.join(); p2.join()
 *          while not q.empty(): print(q.get())
 *
 * The trap in that cell: it joins the producers before it drains the queue; with enough
 * items the producers block on the full pipe behind the queue and the program hangs. MPI
 * has the same trap (a send may wait until the receiver takes the message), so rank 0
 * receives while the others send.
 *   send  ranks 1..P each MPI_Send their values to rank 0 (P = ranks - 1), rank 0 receives
 *         with MPI_ANY_SOURCE and learns the producer from the status. MPI keeps the order
 *         of messages between one pair of ranks, so each producer's values arrive in order;
 *         how the producers interleave is up to the timing. With -np 1 rank 0 is the only
 *         producer and its own consumer: it posts each send (MPI_Isend) before receiving it.
 * Observe: mpirun -np 3 prints the notebook's lines; -np 2 only the squares.
 *
 * Run:  mpirun -np 3 ./mpi/producers
 *       mpirun -np 3 ./mpi/producers -n 1000000 --quiet
 * (as root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/mpi_harness.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"send", "producer ranks MPI_Send, rank 0 MPI_Recv(MPI_ANY_SOURCE)"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "producers",
    .model = "mpi",
    .summary = "Ranks 1..P send their values to rank 0, which receives from any source meanwhile.",
    VARIANT_TABLE(variants),
    .n_meaning = "values 1..n per producer (even producers square, odd ones negate)",
    .default_n = 5,
    .max_n = 100000000,
    .default_workers = 2,
};

enum { TAG_VALUE = 1 };

static int world_rank, world_size;


/* Producer p is rank p + 1; alone, rank 0 is producer 0. */
static int producer_of_rank(int rank) { return world_size == 1 ? 0 : rank - 1; }

/* ---- ranks 1..P: the producers ---- */
static void produce(long n)
{
    int producer = producer_of_rank(world_rank);
    for (long i = 1; i <= n; i++) {
        long value = producer_value(producer, i);
        MPI_CHECK(MPI_Send(&value, 1, MPI_LONG, ROOT_RANK, TAG_VALUE, MPI_COMM_WORLD), "MPI_Send");
    }
}

/* ---- rank 0: the consumer, draining while the producers send ---- */
static void consume(item_log *log, size_t expected)
{
    while (log->count < expected) {
        long value;
        MPI_Status status;
        MPI_CHECK(MPI_Recv(&value, 1, MPI_LONG, MPI_ANY_SOURCE, TAG_VALUE, MPI_COMM_WORLD, &status),
                  "MPI_Recv");
        item_log_add(log, (produced_item){producer_of_rank(status.MPI_SOURCE), value});
    }
}

/* -np 1: rank 0 sends to itself. A blocking send could wait for a receive that only this rank
 * can post, so the send is posted first (MPI_Isend) and completed after the receive. */
static void produce_and_consume_alone(long n, item_log *log)
{
    for (long i = 1; i <= n; i++) {
        long value = producer_value(0, i), received;
        MPI_Request request;
        MPI_Status status;
        MPI_CHECK(MPI_Isend(&value, 1, MPI_LONG, ROOT_RANK, TAG_VALUE, MPI_COMM_WORLD, &request),
                  "MPI_Isend");
        MPI_CHECK(MPI_Recv(&received, 1, MPI_LONG, MPI_ANY_SOURCE, TAG_VALUE, MPI_COMM_WORLD,
                           &status), "MPI_Recv");
        MPI_CHECK(MPI_Wait(&request, MPI_STATUS_IGNORE), "MPI_Wait");
        item_log_add(log, (produced_item){producer_of_rank(status.MPI_SOURCE), received});
    }
}

int main(int argc, char **argv)
{
    options opt;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    long n = opt.n;
    int producer_count = world_size > 1 ? world_size - 1 : 1;
    const char *refused = producers_refused(producer_count, n);
    if (refused != NULL) { /* every rank sees the same sizes: all leave, rank 0 says why */
        if (world_rank == ROOT_RANK)
            fprintf(stderr, "%s: %s (see --help)\n", program_name(), refused);
        MPI_CHECK(MPI_Finalize(), "MPI_Finalize");
        return EXIT_USAGE;
    }
    size_t expected = (size_t)producer_count * (size_t)n;
    item_log log = {NULL, 0, 0};
    if (world_rank == ROOT_RANK) log = item_log_new(expected); /* only rank 0 keeps what arrives */

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank started */
    double start = MPI_Wtime();
    if (world_size == 1)
        produce_and_consume_alone(n, &log);
    else if (world_rank == ROOT_RANK)
        consume(&log, expected);
    else
        produce(n);
    double elapsed = MPI_Wtime() - start;

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        pass = report_producers(&info, &opt, &log, producer_count, elapsed);
    }
    item_log_free(&log);
    return mpi_finish(pass);
}
