/*
 * labs/mpi/shared_array.c - exercise skeleton, generated from mpi/shared_array.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=mpi/shared_array
 * Start again from the skeleton: make lab-reset EX=mpi/shared_array
 */
/*
 * mpi/shared_array.c - the notebook's Array('d', [0.0, 100.0, 200.0]): every worker adds 1 to
 * every element, safely, with MPI ranks.
 *
 * Python:  shared_array = Array('d', [0.0, 100.0, 200.0])
 *          def add100(number, lock):
 *              for i in range(len(number)):
 *                  with lock: number[i] += 1
 *          two Processes run add100   ->  array at the end is [2.0, 102.0, 202.0]
 *
 * Ranks share no memory by default; MPI offers two ways to one array:
 *   accumulate  the array lives in an RMA window on rank 0; every rank calls MPI_Accumulate(+1.0)
 *               on each element. Accumulates to the same element are atomic by the standard, so a
 *               shared lock (many ranks at once) is enough: MPI does the read-modify-write at
 *               the target, the ranks never read the value (--delay-ms pauses before each call).
 *   shm         MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) groups the ranks of one node, and
 *               MPI_Win_allocate_shared gives them one array in real shared memory: plain loads
 *               and stores, made safe by an exclusive window lock around each read-pause-write,
 *               the notebook's `with lock:`. This is multiprocessing.Array for ranks.
 *               Across nodes there is no common memory: each node gets its own array, updated
 *               by its own ranks, and the node leaders then add their nodes' increments into
 *               rank 0's array with MPI_Reduce, so the result stays right on any layout.
 * Every window's errors are returned (window_errors_return), so a failing window call ends the
 * job with one line naming it and exit 3, like every other MPI call here.
 * Observe: compare elements per second with -n 100000 --quiet across the two variants.
 * --trace (each rank's own track): accumulate shows one "MPI_Accumulate" span for the rank's
 * pass and its "MPI_Win_unlock" (where the accumulates complete); shm shows each step's
 * "MPI_Win_lock" (the wait) and "lock hold" (read, pause, write): the holds take turns.
 *
 * Run:  mpirun -np 2 ./mpi/shared_array
 *       mpirun -np 4 ./mpi/shared_array -n 100000 --variant shm --quiet
 * (as root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/mpi_harness.h"
#include "../../common/trace.h"

/* The array and what every worker needs to add to it. */
typedef struct {
    double *values; /* this rank's view: rank 0's window memory (accumulate), the node's (shm) */
    size_t n;
    int worker_count;
    long delay_ms;
    MPI_Win window;
    MPI_Comm node; /* shm: the ranks of my node */
    int node_rank;
} shared_array;

static int world_rank, world_size;

/* accumulate: the array lives in a window on rank 0, filled from rank 0's values. */
static void open_root_window(shared_array *array, const double *values)
{
    MPI_Aint bytes = world_rank == ROOT_RANK ? (MPI_Aint)(array->n * sizeof(double)) : 0;
    MPI_CHECK(MPI_Win_allocate(bytes, sizeof(double), MPI_INFO_NULL, MPI_COMM_WORLD,
                               &array->values, &array->window), "MPI_Win_allocate");
    window_errors_return(array->window);
    /* Local stores into a window belong in an epoch, like the other ranks' accesses. */
    if (world_rank == ROOT_RANK && array->n > 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, ROOT_RANK, 0, array->window), "MPI_Win_lock");
        memcpy(array->values, values, (size_t)bytes);
        MPI_CHECK(MPI_Win_unlock(ROOT_RANK, array->window), "MPI_Win_unlock");
    }
}

/* accumulate: MPI does each read-modify-write at the target; this rank never reads the value. */
static void add_with_accumulate(shared_array *array)
{
    const double one = 1.0;
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, ROOT_RANK, 0, array->window), "MPI_Win_lock");
    double adding = trace_begin();
    for (size_t i = 0; i < array->n; i++) {
        if (array->delay_ms > 0) sleep_ms(array->delay_ms);
        /* TODO: add one to element i of rank 0's window, done by MPI at the target. Hint: MPI_Accumulate with MPI_SUM */
        (void)one;
    }
    double unlocking = trace_begin();
    trace_span(0, "MPI_Accumulate", adding, 0, (long)array->n); /* elements 0..n-1 */
    MPI_CHECK(MPI_Win_unlock(ROOT_RANK, array->window), "MPI_Win_unlock"); /* my updates are done */
    trace_span(0, "MPI_Win_unlock", unlocking, TRACE_NONE, TRACE_NONE);
}

/* accumulate, after every rank has added: rank 0's values get the array back. */
static void close_root_window(shared_array *array, double *values)
{
    if (world_rank == ROOT_RANK && array->n > 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, ROOT_RANK, 0, array->window), "MPI_Win_lock");
        memcpy(values, array->values, array->n * sizeof *values);
        MPI_CHECK(MPI_Win_unlock(ROOT_RANK, array->window), "MPI_Win_unlock");
    }
    MPI_CHECK(MPI_Win_free(&array->window), "MPI_Win_free");
}

/* shm: the ranks of a node share one array, the node's rank 0 owns it. */
static void open_node_window(shared_array *array, const double *values)
{
    (void)values; /* each node fills its own array: rank 0's values are not on every node */
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL,
                                  &array->node), "MPI_Comm_split_type");
    MPI_CHECK(MPI_Comm_rank(array->node, &array->node_rank), "MPI_Comm_rank");
    double *mine;
    MPI_Aint bytes = array->node_rank == 0 ? (MPI_Aint)(array->n * sizeof(double)) : 0;
    MPI_Aint owner_bytes;
    int displacement_unit;
    MPI_CHECK(MPI_Win_allocate_shared(bytes, sizeof(double), MPI_INFO_NULL, array->node, &mine,
                                      &array->window), "MPI_Win_allocate_shared");
    window_errors_return(array->window);
    MPI_CHECK(MPI_Win_shared_query(array->window, 0, &owner_bytes, &displacement_unit,
                                   &array->values), "MPI_Win_shared_query");
    if (array->node_rank == 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, array->window), "MPI_Win_lock");
        for (size_t i = 0; i < array->n; i++) array->values[i] = 100.0 * (double)i;
        MPI_CHECK(MPI_Win_unlock(0, array->window), "MPI_Win_unlock");
    }
}

/* shm: plain loads and stores into the node's array, one rank at a time. */
static void add_with_shared_memory(shared_array *array)
{
    for (size_t i = 0; i < array->n; i++) {
        /* Lock and unlock order the loads and stores with the other ranks' (they are memory
         * barriers for a shared window), and exclusive means one rank at a time. */
        double waiting = trace_begin();
        /* TODO: one rank at a time from here to the write. Hint: MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, ...) */
        double holding = trace_begin();
        trace_span(0, "MPI_Win_lock", waiting, (long)i, TRACE_NONE);
        double value = array->values[i];
        /* inside the lock: nobody else touches values[i] */
        if (array->delay_ms > 0) sleep_ms(array->delay_ms);
        array->values[i] = value + 1.0;
        trace_span(0, "lock hold", holding, (long)i, (long)value); /* element, value read */
        /* TODO: end the exclusive access after the write. Hint: MPI_Win_unlock */
    }
}

/* Across nodes: each node leader adds its node's increments (value - 100*i) into rank 0's array. */
static void combine_nodes(const shared_array *array, double *values)
{
    MPI_Comm leaders;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, array->node_rank == 0 ? 0 : MPI_UNDEFINED,
                             world_rank, &leaders), "MPI_Comm_split");
    if (leaders == MPI_COMM_NULL) return;
    int node_count;
    MPI_CHECK(MPI_Comm_size(leaders, &node_count), "MPI_Comm_size");
    size_t n = array->n;
    if (node_count == 1) { /* one node: its array is the whole answer */
        if (world_rank == ROOT_RANK && n > 0) memcpy(values, array->values, n * sizeof *values);
    } else {
        double *increments = checked_malloc(n, sizeof *increments);
        for (size_t i = 0; i < n; i++) increments[i] = array->values[i] - 100.0 * (double)i;
        /* world rank 0 is node rank 0 of its node and rank 0 among the leaders */
        MPI_CHECK(MPI_Reduce(world_rank == ROOT_RANK ? MPI_IN_PLACE : increments,
                             world_rank == ROOT_RANK ? increments : NULL, (int)n, MPI_DOUBLE,
                             MPI_SUM, ROOT_RANK, leaders), "MPI_Reduce");
        if (world_rank == ROOT_RANK)
            for (size_t i = 0; i < n; i++) values[i] = 100.0 * (double)i + increments[i];
        free(increments);
    }
    MPI_CHECK(MPI_Comm_free(&leaders), "MPI_Comm_free");
}

/* shm, after every rank has added: the nodes' arrays are combined into rank 0's values. */
static void close_node_window(shared_array *array, double *values)
{
    if (array->node_rank == 0)
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, array->window), "MPI_Win_lock");
    combine_nodes(array, values);
    if (array->node_rank == 0) MPI_CHECK(MPI_Win_unlock(0, array->window), "MPI_Win_unlock");
    MPI_CHECK(MPI_Win_free(&array->window), "MPI_Win_free");
    MPI_CHECK(MPI_Comm_free(&array->node), "MPI_Comm_free");
}

/* The variants: name, --help line, the function that runs it, and the window the array lives
 * in, opened before the clock and closed after it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(shared_array *array);
    void (*open)(shared_array *array, const double *values); /* before the clock */
    void (*close)(shared_array *array, double *values);      /* after it */
} variants[] = {
    {{"accumulate", "MPI_Accumulate(+1) into a window on rank 0"}, add_with_accumulate,
     open_root_window, close_root_window},
    {{"shm", "MPI_Win_allocate_shared + exclusive window lock per element"},
     add_with_shared_memory, open_node_window, close_node_window},
    {{NULL, NULL}, NULL, NULL, NULL}};

static const program_info info = {
    .concept = "shared_array",
    .model = "mpi",
    .summary = "Array('d', ...): every rank adds 1 to every element, in an RMA window or in "
               "node-shared memory.",
    VARIANT_TABLE(variants),
    .n_meaning = "elements; element i starts at 100*i",
    .default_n = 3,
    /* The checksum 100*n(n-1)/2 + workers*n must stay below 2^53 to be exact in a double. */
    .max_n = 10000000,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 0,
};

/* The end of the notebook's run: the array, checked against 100*i + W, the summary beside the
 * closed form, the RESULT line. Returns whether it verified. */
static bool report(const options *opt, const double *values, size_t n, double elapsed)
{
    double expected, checksum;
    bool pass = verify_array_checksum(values, n, opt->workers, &expected, &checksum);
    if (!opt->quiet) {
        printf("array at the end is ");
        print_double_list(values, n);
    }
    printf("%d workers each added 1 to %zu elements: checksum %.1f (expected %.1f)\n",
           opt->workers, n, checksum, expected);
    print_result(&info, opt, pass, elapsed, "expected=%.1f checksum=%.1f", expected, checksum);
    return pass;
}

int main(int argc, char **argv)
{
    options opt;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    size_t n = (size_t)opt.n;
    /* The notebook's Array is rank 0's; the ranks reach it through the variant's window. */
    double *values = NULL;
    if (world_rank == ROOT_RANK) {
        values = checked_malloc(n, sizeof *values);
        for (size_t i = 0; i < n; i++) values[i] = 100.0 * (double)i;
        if (!opt.quiet) {
            printf("array at the beginning is ");
            print_double_list(values, n);
        }
    }
    shared_array array = {.n = n, .worker_count = opt.workers, .delay_ms = opt.delay_ms};
    variants[opt.variant_index].open(&array, values);
    trace_open(&opt, 1); /* one track per rank: its own */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* the array is ready everywhere */

    double start = MPI_Wtime();
    variants[opt.variant_index].run(&array);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank has added */
    double elapsed = MPI_Wtime() - start;

    variants[opt.variant_index].close(&array, values);
    mpi_trace_write(&info, &opt);
    bool pass = true; /* rank 0's verdict: mpi_finish hands it to every rank */
    if (world_rank == ROOT_RANK) pass = report(&opt, values, n, elapsed);
    free(values);
    return mpi_finish(pass);
}
