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
 * The trap in that cell: it joins the producers before it drains the queue. The queue's pipe
 * holds only so much; with enough items the producers block in put(), join() waits for them,
 * and the program hangs. MPI has the same trap (a send may wait until the receiver takes the
 * message), so rank 0, the consumer (the main program of the notebook), receives while ranks
 * 1..W, the producers, send.
 *   send  each producer rank MPI_Sends its values to rank 0, which receives with
 *         MPI_ANY_SOURCE and learns the producer from the status. MPI keeps the order of
 *         messages between one pair of ranks, so each producer's values arrive in order;
 *         how the producers interleave is up to the timing. With -np 1 rank 0 is the only
 *         producer and its own consumer: it posts each send (MPI_Isend) before receiving it.
 * workers= counts the producers; the consumer is counted apart (consumers=1). The consumer's
 * log is written through once before the clock, by rank 0, so its writes during the run cost
 * no page fault. The ranks are counted too: -np 4 gives workers=3 ranks=4, -np 1 workers=1 ranks=1.
 * Observe: the values of one producer arrive in the order it put them; how the producers
 * interleave changes from run to run. -np 3 prints the notebook's lines; -np 2 only the squares.
 *
 * Run:  mpirun -np 3 ./mpi/producers
 *       mpirun -np 3 ./mpi/producers -n 1000000 --quiet
 * (as root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#include <stdio.h>
#include <stdlib.h>

#include "../common/mpi_harness.h"

enum { TAG_VALUE = 1 };

static int world_rank, world_size;

/* What a variant needs: the producers' work and the consumer's log. */
typedef struct {
    int producer_count;
    long n;
    item_log *log; /* the consumer's: what it received, in order */
} production;

/* Producer p is rank p + 1; alone, rank 0 is producer 0. */
static int producer_of_rank(int rank) { return world_size == 1 ? 0 : rank - 1; }

/* ---- ranks 1..W: the producers ---- */
static void produce(production *run, int producer)
{
    for (long i = 1; i <= run->n; i++) {
        long value = producer_value(producer, i);
        MPI_CHECK(MPI_Send(&value, 1, MPI_LONG, ROOT_RANK, TAG_VALUE, MPI_COMM_WORLD), "MPI_Send");
    }
}

/* ---- rank 0: the consumer, draining while the producers put ---- */
static void consume(production *run)
{
    /* Every producer puts exactly n values, so the consumer knows when it has them all. */
    while (run->log->count < run->log->capacity) {
        long value;
        MPI_Status status;
        MPI_CHECK(MPI_Recv(&value, 1, MPI_LONG, MPI_ANY_SOURCE, TAG_VALUE, MPI_COMM_WORLD, &status),
                  "MPI_Recv");
        item_log_add(run->log, (produced_item){producer_of_rank(status.MPI_SOURCE), value});
    }
}

/* -np 1: rank 0 sends to itself. A blocking send could wait for a receive that only this rank
 * can post, so the send is posted first (MPI_Isend) and completed after the receive. */
static void produce_and_consume_alone(production *run)
{
    for (long i = 1; i <= run->n; i++) {
        long value = producer_value(0, i), received;
        MPI_Request request;
        MPI_Status status;
        MPI_CHECK(MPI_Isend(&value, 1, MPI_LONG, ROOT_RANK, TAG_VALUE, MPI_COMM_WORLD, &request),
                  "MPI_Isend");
        MPI_CHECK(MPI_Recv(&received, 1, MPI_LONG, MPI_ANY_SOURCE, TAG_VALUE, MPI_COMM_WORLD,
                           &status), "MPI_Recv");
        MPI_CHECK(MPI_Wait(&request, MPI_STATUS_IGNORE), "MPI_Wait");
        item_log_add(run->log, (produced_item){producer_of_rank(status.MPI_SOURCE), received});
    }
}

static void put_via_send(production *run)
{
    if (world_size == 1)
        produce_and_consume_alone(run);
    else if (world_rank == ROOT_RANK)
        consume(run);
    else
        produce(run, producer_of_rank(world_rank));
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(production *run);
} variants[] = {
    {{"send", "producer ranks MPI_Send, rank 0 MPI_Recv(MPI_ANY_SOURCE)"}, put_via_send},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "producers",
    .model = "mpi",
    .summary = "Ranks 1..W send their values to rank 0, which receives from any source meanwhile.",
    VARIANT_TABLE(variants),
    .n_meaning = "values 1..n per producer (even producers square, odd ones negate)",
    .default_n = 5,
    .max_n = 100000000,
    .default_workers = 2,
};

int main(int argc, char **argv)
{
    options opt;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    int producer_count = world_size > 1 ? world_size - 1 : 1; /* the consumer, rank 0, apart */
    opt.workers = producer_count;
    const char *refused = producers_refused(producer_count, opt.n);
    if (refused != NULL) { /* every rank sees the same sizes: all leave, rank 0 says why */
        if (world_rank == ROOT_RANK)
            fprintf(stderr, "%s: %s (see --help)\n", program_name(), refused);
        MPI_CHECK(MPI_Finalize(), "MPI_Finalize");
        return EXIT_USAGE;
    }
    item_log log = {NULL, 0, 0}; /* only rank 0 keeps what arrives, written through */
    if (world_rank == ROOT_RANK) log = item_log_new((size_t)producer_count * (size_t)opt.n);
    production run = {.producer_count = producer_count, .n = opt.n, .log = &log};
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank ready, untimed */

    double start = MPI_Wtime();
    variants[opt.variant_index].run(&run);
    double elapsed = MPI_Wtime() - start;

    bool pass = true;
    if (world_rank == ROOT_RANK) pass = report_producers(&info, &opt, &log, elapsed, world_size);
    item_log_free(&log);
    return mpi_finish(pass);
}
