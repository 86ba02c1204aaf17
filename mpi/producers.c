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
 * The join: each producer's last message (TAG_DONE) says how many values it put, RESULT's
 * per_worker=; rank 0 drains until every producer has said so. A producer that hangs would
 * leave rank 0 waiting for ever: past a bound scaled to the work it exits 3 (MPI_Abort)
 * naming what is unfinished ("consumer: 12 of 20 values after 10 s; producer 1 (rank 2)
 * still running, 2 of 10 received").
 * --trace: a "put" span per value on each producer rank's track (value index, value), the
 * message as an arrow into rank 0, and a "get" span per value on rank 0's (producer, value).
 *
 * Run:  mpirun -np 3 ./mpi/producers
 *       mpirun -np 3 ./mpi/producers -n 1000000 --quiet
 * (as root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#include <stdio.h>
#include <stdlib.h>

#include "../common/mpi_harness.h"

enum { TAG_VALUE = 1, TAG_DONE = 2 };

static int world_rank, world_size;

/* What a variant needs: the producers' work, the consumer's log, the producers' counts. */
typedef struct {
    int producer_count;
    long n;
    item_log *log;   /* the consumer's: what it received, in order */
    long long *put;  /* rank 0: what each producer says it put, -1 until its TAG_DONE */
    long *received;  /* rank 0: values received from each producer so far */
    double bound_s;  /* the watchdog's: rank 0's drain ends by then */
    double deadline; /* MPI_Wtime() when it gives up */
} production;

/* Producer p is rank p + 1; alone, rank 0 is producer 0. */
static int producer_of_rank(int rank) { return world_size == 1 ? 0 : rank - 1; }

/* ---- the watchdog: rank 0 never waits for ever ----
 * A producer that hangs would leave a plain MPI_Recv waiting for ever. Rank 0 looks for the
 * next message with MPI_Iprobe (which drives MPI's progress as a blocking receive does) and
 * receives it once it is there; past a bound that grows with the work (seconds, plus far more
 * per value than a message on a loaded machine) it exits 3 naming what is unfinished. */
static double drain_bound_s(int producer_count, long n)
{
    return 10.0 + (double)producer_count * (double)n * 1e-4;
}

static _Noreturn void drain_overdue(const production *run)
{
    char text[1024];
    size_t used = (size_t)snprintf(text, sizeof text, "consumer: %zu of %zu values after %.0f s",
                                   run->log->count, run->log->capacity, run->bound_s);
    for (int p = 0; p < run->producer_count && used < sizeof text; p++)
        if (run->put[p] < 0)
            used += (size_t)snprintf(text + used, sizeof text - used,
                                     "; producer %d (rank %d) still running, %ld of %ld received",
                                     p, p + 1, run->received[p], run->n);
    fprintf(stderr, "%s: %s\n", program_name(), text);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, EXIT_SYSTEM);
    exit(EXIT_SYSTEM); /* MPI_Abort does not return; if it did, leave anyway */
}

static void await_message(const production *run)
{
    int arrived = 0;
    for (;;) {
        MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &arrived,
                             MPI_STATUS_IGNORE), "MPI_Iprobe");
        if (arrived) return;
        if (MPI_Wtime() > run->deadline) drain_overdue(run);
    }
}

/* ---- ranks 1..W: the producers ---- */
static void produce(production *run, int producer)
{
    long put = 0;
    for (long i = 1; i <= run->n; i++) {
        long value = producer_value(producer, i);
        double sending = trace_begin();
        trace_flow_out(0, "value", trace_message_id(world_rank, i));
        /* LAB: put: send the value to rank 0, the consumer. Hint: MPI_Send(&value, 1, MPI_LONG, ROOT_RANK, TAG_VALUE, MPI_COMM_WORLD) inside MPI_CHECK */
        MPI_CHECK(MPI_Send(&value, 1, MPI_LONG, ROOT_RANK, TAG_VALUE, MPI_COMM_WORLD), "MPI_Send");
        /* LAB END */
        trace_span(0, "put", sending, i, value);
        put++;
    }
    /* the join: the last message says "finished" and how many it put */
    /* LAB: say "finished" to rank 0, with how many values were put. Hint: MPI_Send(&put, 1, MPI_LONG, ROOT_RANK, TAG_DONE, MPI_COMM_WORLD) inside MPI_CHECK */
    MPI_CHECK(MPI_Send(&put, 1, MPI_LONG, ROOT_RANK, TAG_DONE, MPI_COMM_WORLD), "MPI_Send");
    /* LAB END, skeleton: (void)put; */
}

/* ---- rank 0: the consumer, draining while the producers put ---- */
static void consume(production *run)
{
    /* Until every producer has said it finished: MPI keeps one sender's messages in order, so
     * its values are all in by then. */
    double get = trace_begin();
    for (int running = run->producer_count; running > 0;) {
        long value;
        MPI_Status status;
        await_message(run);
        /* LAB: get: receive the next message from any producer, a value or its "finished" (status says who sent it and which). Hint: MPI_Recv(&value, 1, MPI_LONG, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &status) inside MPI_CHECK */
        MPI_CHECK(MPI_Recv(&value, 1, MPI_LONG, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD,
                           &status), "MPI_Recv");
        /* LAB END, skeleton: value = 0; status.MPI_SOURCE = ROOT_RANK + 1; status.MPI_TAG = TAG_DONE; */
        int producer = producer_of_rank(status.MPI_SOURCE);
        if (status.MPI_TAG == TAG_DONE) {
            run->put[producer] = value;
            running--;
            continue;
        }
        item_log_add(run->log, (produced_item){producer, value});
        run->received[producer]++;
        trace_flow_in(TRACE_MAIN, "value",
                      trace_message_id(status.MPI_SOURCE, run->received[producer]));
        trace_span(TRACE_MAIN, "get", get, producer, value);
        get = trace_begin();
    }
}

/* -np 1: rank 0 sends to itself. A blocking send could wait for a receive that only this rank
 * can post, so the send is posted first (MPI_Isend) and completed after the receive. */
static void produce_and_consume_alone(production *run)
{
    run->put[0] = 0;
    for (long i = 1; i <= run->n; i++) {
        long value = producer_value(0, i), received;
        MPI_Request request;
        MPI_Status status;
        double sending = trace_begin();
        trace_flow_out(0, "value", trace_message_id(world_rank, i));
        MPI_CHECK(MPI_Isend(&value, 1, MPI_LONG, ROOT_RANK, TAG_VALUE, MPI_COMM_WORLD, &request),
                  "MPI_Isend");
        trace_span(0, "put", sending, i, value);
        run->put[0]++;
        double get = trace_begin();
        MPI_CHECK(MPI_Recv(&received, 1, MPI_LONG, MPI_ANY_SOURCE, TAG_VALUE, MPI_COMM_WORLD,
                           &status), "MPI_Recv");
        MPI_CHECK(MPI_Wait(&request, MPI_STATUS_IGNORE), "MPI_Wait");
        item_log_add(run->log, (produced_item){producer_of_rank(status.MPI_SOURCE), received});
        trace_flow_in(TRACE_MAIN, "value", trace_message_id(status.MPI_SOURCE, i));
        trace_span(TRACE_MAIN, "get", get, 0, received);
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
    trace_open(&opt, 1); /* one track per rank: its own (rank 0's consumer loop: main) */
    item_log log = {NULL, 0, 0}; /* only rank 0 keeps what arrives, written through */
    if (world_rank == ROOT_RANK) log = item_log_new((size_t)producer_count * (size_t)opt.n);
    production run = {.producer_count = producer_count, .n = opt.n, .log = &log,
                      .put = checked_malloc((size_t)producer_count, sizeof(long long)),
                      .received = checked_calloc((size_t)producer_count, sizeof(long)),
                      .bound_s = drain_bound_s(producer_count, opt.n)};
    for (int p = 0; p < producer_count; p++) run.put[p] = -1; /* not finished */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank ready, untimed */

    double start = MPI_Wtime();
    run.deadline = start + run.bound_s; /* the watchdog's clock starts with the work's */
    variants[opt.variant_index].run(&run);
    double elapsed = MPI_Wtime() - start;

    mpi_trace_write(&info, &opt);
    bool pass = true;
    if (world_rank == ROOT_RANK)
        pass = report_producers(&info, &opt, &log, elapsed, world_size, run.put);
    free(run.received);
    free(run.put);
    item_log_free(&log);
    return mpi_finish(pass);
}
