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
 *
 * Run:  mpirun -np 2 ./mpi/shared_array
 *       mpirun -np 4 ./mpi/shared_array -n 100000 --variant shm --quiet
 * (as root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mpi_harness.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"accumulate", "MPI_Accumulate(+1) into a window on rank 0"}},
    {{"shm", "MPI_Win_allocate_shared + exclusive window lock per element"}},
    {{NULL, NULL}}};

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

enum { VARIANT_ACCUMULATE, VARIANT_SHM };

static int world_rank, world_size;

/* The array as this rank sees it. */
typedef struct {
    MPI_Win window;
    double *values; /* shm: the node's array in my address space (the address differs per rank) */
    MPI_Comm node;  /* shm: the ranks of my node */
    int node_rank;
} array_window;

/* accumulate: the array lives in a window on rank 0, filled from rank 0's values;
 * shm: the ranks of a node share one array, the node's rank 0 owns it. */
static array_window open_array(int variant, const double *values, int n)
{
    array_window array = {.node = MPI_COMM_NULL};
    if (variant == VARIANT_ACCUMULATE) {
        double *window_memory;
        MPI_Aint bytes = world_rank == ROOT_RANK ? (MPI_Aint)n * (MPI_Aint)sizeof(double) : 0;
        MPI_CHECK(MPI_Win_allocate(bytes, sizeof(double), MPI_INFO_NULL, MPI_COMM_WORLD,
                                   &window_memory, &array.window), "MPI_Win_allocate");
        if (world_rank == ROOT_RANK && n > 0) { /* local stores into a window belong in an epoch */
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, ROOT_RANK, 0, array.window), "MPI_Win_lock");
            memcpy(window_memory, values, (size_t)bytes);
            MPI_CHECK(MPI_Win_unlock(ROOT_RANK, array.window), "MPI_Win_unlock");
        }
        array.values = window_memory;
        return array;
    }
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL,
                                  &array.node), "MPI_Comm_split_type");
    MPI_CHECK(MPI_Comm_rank(array.node, &array.node_rank), "MPI_Comm_rank");
    double *mine;
    MPI_Aint bytes = array.node_rank == 0 ? (MPI_Aint)n * (MPI_Aint)sizeof(double) : 0, owner_bytes;
    int displacement_unit;
    MPI_CHECK(MPI_Win_allocate_shared(bytes, sizeof(double), MPI_INFO_NULL, array.node, &mine,
                                      &array.window), "MPI_Win_allocate_shared");
    MPI_CHECK(MPI_Win_shared_query(array.window, 0, &owner_bytes, &displacement_unit,
                                   &array.values), "MPI_Win_shared_query");
    if (array.node_rank == 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, array.window), "MPI_Win_lock");
        for (int i = 0; i < n; i++) array.values[i] = 100.0 * i;
        MPI_CHECK(MPI_Win_unlock(0, array.window), "MPI_Win_unlock");
    }
    return array;
}

/* accumulate: MPI does each read-modify-write at the target; this rank never reads the value. */
static void add_with_accumulate(const array_window *array, int n, long delay_ms)
{
    const double one = 1.0;
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, ROOT_RANK, 0, array->window), "MPI_Win_lock");
    for (int i = 0; i < n; i++) {
        if (delay_ms > 0) sleep_ms(delay_ms);
        MPI_CHECK(MPI_Accumulate(&one, 1, MPI_DOUBLE, ROOT_RANK, i, 1, MPI_DOUBLE, MPI_SUM,
                                 array->window), "MPI_Accumulate");
    }
    MPI_CHECK(MPI_Win_unlock(ROOT_RANK, array->window), "MPI_Win_unlock"); /* my updates are done */
}

/* shm: plain loads and stores into the node's array, one rank at a time. */
static void add_with_shared_memory(const array_window *array, int n, long delay_ms)
{
    for (int i = 0; i < n; i++) {
        /* Lock and unlock order the loads and stores with the other ranks' (they are memory
         * barriers for a shared window), and exclusive means one rank at a time. */
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, array->window), "MPI_Win_lock");
        double value = array->values[i];
        /* inside the lock: nobody else touches values[i] */
        if (delay_ms > 0) sleep_ms(delay_ms);
        array->values[i] = value + 1.0;
        MPI_CHECK(MPI_Win_unlock(0, array->window), "MPI_Win_unlock");
    }
}

/* Across nodes: each node leader adds its node's increments (value - 100*i) into rank 0's array. */
static void combine_nodes(const double *node_values, double *result, int n, int node_rank)
{
    MPI_Comm leaders;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, node_rank == 0 ? 0 : MPI_UNDEFINED, world_rank,
                             &leaders), "MPI_Comm_split");
    if (leaders == MPI_COMM_NULL) return;
    int node_count;
    MPI_CHECK(MPI_Comm_size(leaders, &node_count), "MPI_Comm_size");
    if (node_count == 1) { /* one node: its array is the whole answer */
        if (world_rank == ROOT_RANK && n > 0) memcpy(result, node_values, (size_t)n * sizeof *result);
    } else {
        double *increments = checked_malloc((size_t)n, sizeof *increments);
        for (int i = 0; i < n; i++) increments[i] = node_values[i] - 100.0 * i;
        /* world rank 0 is node rank 0 of its node and rank 0 among the leaders */
        MPI_CHECK(MPI_Reduce(world_rank == ROOT_RANK ? MPI_IN_PLACE : increments,
                             world_rank == ROOT_RANK ? increments : NULL, n, MPI_DOUBLE, MPI_SUM,
                             ROOT_RANK, leaders), "MPI_Reduce");
        if (world_rank == ROOT_RANK)
            for (int i = 0; i < n; i++) result[i] = 100.0 * i + increments[i];
        free(increments);
    }
    MPI_CHECK(MPI_Comm_free(&leaders), "MPI_Comm_free");
}

/* After every rank has added: rank 0's values get the array back, and the window goes. */
static void close_array(int variant, array_window *array, double *values, int n)
{
    if (variant == VARIANT_ACCUMULATE) {
        if (world_rank == ROOT_RANK && n > 0) {
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, ROOT_RANK, 0, array->window), "MPI_Win_lock");
            memcpy(values, array->values, (size_t)n * sizeof *values);
            MPI_CHECK(MPI_Win_unlock(ROOT_RANK, array->window), "MPI_Win_unlock");
        }
    } else {
        if (array->node_rank == 0)
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, array->window), "MPI_Win_lock");
        combine_nodes(array->values, values, n, array->node_rank);
        if (array->node_rank == 0) MPI_CHECK(MPI_Win_unlock(0, array->window), "MPI_Win_unlock");
    }
    MPI_CHECK(MPI_Win_free(&array->window), "MPI_Win_free");
    if (array->node != MPI_COMM_NULL) MPI_CHECK(MPI_Comm_free(&array->node), "MPI_Comm_free");
}

int main(int argc, char **argv)
{
    options opt;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    int n = (int)opt.n;
    double *values = NULL; /* rank 0's view of the array, like the Array's creator */
    if (world_rank == ROOT_RANK) {
        values = checked_malloc((size_t)n, sizeof *values);
        for (int i = 0; i < n; i++) values[i] = 100.0 * i;
        if (!opt.quiet) {
            printf("array at the beginning is ");
            print_double_list(values, (size_t)n);
        }
    }

    array_window array = open_array(opt.variant_index, values, n);

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* the array is ready everywhere */
    double start = MPI_Wtime();
    if (opt.variant_index == VARIANT_ACCUMULATE)
        add_with_accumulate(&array, n, opt.delay_ms);
    else
        add_with_shared_memory(&array, n, opt.delay_ms);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank has added */
    double elapsed = MPI_Wtime() - start;

    close_array(opt.variant_index, &array, values, n);

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        double expected, checksum;
        pass = verify_array_checksum(values, (size_t)n, world_size, &expected, &checksum);
        if (!opt.quiet) {
            printf("array at the end is ");
            print_double_list(values, (size_t)n);
        }
        printf("%d workers each added 1 to %d elements: checksum %.1f (expected %.1f)\n",
               world_size, n, checksum, expected);
        print_result(&info, &opt, pass, elapsed, "expected=%.1f checksum=%.1f", expected, checksum);
    }
    free(values);
    return mpi_finish(pass);
}
