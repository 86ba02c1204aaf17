/*
 * mpi/pool_cube.c - the notebook's Pool.map(cube, range(n)) and pool.apply(cube, ...), with MPI ranks.
 *
 * Python:  result = Pool().map(cube, range(10))   ->  [0, 1, 8, 27, 64, 125, 216, 343, 512, 729]
 *          pool.apply(cube, (x,))                 ->  one call, run by one worker of the pool
 *
 * Ranks share no memory: the numbers go to the workers in messages and the cubes come back the
 * same way, which is what Pool.map does behind the scenes with pickles and pipes.
 *   scatter  MPI_Scatterv deals rank r a block of n/P numbers (the first n%P ranks one more,
 *            so any n works, even n < P), every rank cubes its block, MPI_Gatherv collects.
 *            Rank 0 works too, in place in the result array.
 *   dynamic  manager/worker: rank 0 hands out chunks to whichever worker asks next and
 *            receives the cubes straight into place; a STOP message ends each worker.
 *            Balances uneven work; rank 0 only manages (with -np 1 it works alone).
 *   hybrid   scatter's blocks, each cubed by an OpenMP thread team inside its rank: ranks
 *            across machines, threads across the cores of one. Threads per rank come from
 *            OMP_NUM_THREADS (under Slurm: --cpus-per-task); only the main thread calls MPI,
 *            which is what MPI_THREAD_FUNNELED promises the library.
 * apply: rank 0 sends one number to the last rank and receives its cube.
 *
 * Run:  mpirun -np 4 ./mpi/pool_cube
 *       mpirun -np 2 ./mpi/pool_cube -n 100000000 --variant dynamic --quiet
 *       OMP_NUM_THREADS=2 mpirun -np 2 -x OMP_NUM_THREADS ./mpi/pool_cube --variant hybrid
 * (as root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../common/mpi_harness.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"scatter", "MPI_Scatterv blocks, every rank cubes, MPI_Gatherv"}},
    {{"dynamic", "rank 0 hands out chunks on request (Send/Recv), STOP ends"}},
    {{"hybrid", "scatter, and each rank cubes its block with OpenMP threads"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "pool_cube",
    .model = "mpi",
    .summary = "Pool.map(cube, range(n)) over MPI ranks, and apply as one call sent to a worker rank.",
    VARIANT_TABLE(variants),
    .n_meaning = "range length: map computes cube(i) for i in 0..n-1",
    .default_n = 10,
    .max_n = INT_MAX, /* MPI counts and displacements are int */
};

enum { TAG_READY = 1, TAG_WORK, TAG_RESULT, TAG_STOP, TAG_APPLY };
enum { VARIANT_SCATTER, VARIANT_DYNAMIC, VARIANT_HYBRID };

/* Largest chunk of the dynamic variant: 8 MiB of cubes per message. */
enum { MAX_CHUNK = 1 << 20 };

static int world_rank, world_size;

static void cube_block(uint64_t *values, int count)
{
    for (int k = 0; k < count; k++) values[k] = cube_u64(values[k]);
}

/* hybrid: the rank's block shared out over its OpenMP threads; returns the team size.
 * (Built without OpenMP, the rank works alone.) */
static int cube_block_threaded(uint64_t *values, int count)
{
    int team_size = 1;
#ifdef _OPENMP
#pragma omp parallel default(none) shared(values, count, team_size)
    {
#pragma omp for schedule(static)
        for (int k = 0; k < count; k++) values[k] = cube_u64(values[k]);
#pragma omp single
        team_size = omp_get_num_threads();
    }
#else
    cube_block(values, count);
#endif
    return team_size;
}

/* ---- scatter: one block per rank, sizes differing by at most one ---- */
typedef struct {
    int *counts, *displs; /* rank r gets counts[r] numbers from out[displs[r]] on */
    uint64_t *block;      /* this rank's numbers: rank 0's stay in place in out */
} scatter_plan;

/* Before the clock, like rank 0's filled array: who gets what, and a receive buffer whose pages
 * exist already, so the timing is of messages and cubes, not of the kernel mapping memory. */
static scatter_plan plan_scatter(uint64_t *out, int n)
{
    scatter_plan plan = {checked_malloc((size_t)world_size, sizeof(int)),
                         checked_malloc((size_t)world_size, sizeof(int)), out};
    for (int r = 0, begin = 0; r < world_size; r++) {
        plan.counts[r] = n / world_size + (r < n % world_size ? 1 : 0);
        plan.displs[r] = begin;
        begin += plan.counts[r];
    }
    if (world_rank != ROOT_RANK) {
        size_t my_count = (size_t)plan.counts[world_rank];
        plan.block = checked_malloc(my_count, sizeof *plan.block);
        memset(plan.block, 0, my_count * sizeof *plan.block);
    }
    return plan;
}

static void free_plan(scatter_plan *plan)
{
    if (world_rank != ROOT_RANK) free(plan->block);
    free(plan->counts);
    free(plan->displs);
}

/* Returns the threads that cubed this rank's block (1 unless with_threads). */
static int map_scatter(const scatter_plan *plan, uint64_t *out, bool with_threads)
{
    int my_count = plan->counts[world_rank];
    uint64_t *block = plan->block;

    /* Rank 0's own block stays where it is (MPI_IN_PLACE): no copy of it, no second array. */
    if (world_rank == ROOT_RANK)
        MPI_CHECK(MPI_Scatterv(out, plan->counts, plan->displs, MPI_UINT64_T, MPI_IN_PLACE,
                               my_count, MPI_UINT64_T, ROOT_RANK, MPI_COMM_WORLD), "MPI_Scatterv");
    else
        MPI_CHECK(MPI_Scatterv(NULL, NULL, NULL, MPI_UINT64_T, block, my_count, MPI_UINT64_T,
                               ROOT_RANK, MPI_COMM_WORLD), "MPI_Scatterv");

    int team_size = 1;
    if (with_threads)
        team_size = cube_block_threaded(block, my_count); /* MPI stays outside the team */
    else
        cube_block(block, my_count);

    if (world_rank == ROOT_RANK)
        MPI_CHECK(MPI_Gatherv(MPI_IN_PLACE, my_count, MPI_UINT64_T, out, plan->counts,
                              plan->displs, MPI_UINT64_T, ROOT_RANK, MPI_COMM_WORLD), "MPI_Gatherv");
    else
        MPI_CHECK(MPI_Gatherv(block, my_count, MPI_UINT64_T, NULL, NULL, NULL, MPI_UINT64_T,
                              ROOT_RANK, MPI_COMM_WORLD), "MPI_Gatherv");
    return team_size;
}

/* ---- dynamic: rank 0 manages, the other ranks ask for chunks until told to stop ---- */
static void manage_chunks(uint64_t *out, int n, int chunk)
{
    int *chunk_begin = checked_calloc((size_t)world_size, sizeof *chunk_begin); /* per worker */
    int next = 0, active_workers = world_size - 1;
    while (active_workers > 0) {
        MPI_Status status;
        int count;
        MPI_CHECK(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &status), "MPI_Probe");
        MPI_CHECK(MPI_Get_count(&status, MPI_UINT64_T, &count), "MPI_Get_count");
        int worker = status.MPI_SOURCE;
        /* A result lands straight in its place; a first READY carries nothing. */
        MPI_CHECK(MPI_Recv(out + chunk_begin[worker], count, MPI_UINT64_T, worker, status.MPI_TAG,
                           MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
        if (next < n) {
            int work[2] = {next, n - next < chunk ? n - next : chunk}; /* begin, count */
            chunk_begin[worker] = next;
            next += work[1];
            MPI_CHECK(MPI_Send(work, 2, MPI_INT, worker, TAG_WORK, MPI_COMM_WORLD), "MPI_Send");
        } else {
            MPI_CHECK(MPI_Send(NULL, 0, MPI_INT, worker, TAG_STOP, MPI_COMM_WORLD), "MPI_Send");
            active_workers--;
        }
    }
    free(chunk_begin);
}

static void work_on_chunks(int chunk)
{
    uint64_t *values = checked_malloc((size_t)chunk, sizeof *values);
    MPI_CHECK(MPI_Send(NULL, 0, MPI_UINT64_T, ROOT_RANK, TAG_READY, MPI_COMM_WORLD), "MPI_Send");
    for (;;) {
        int work[2];
        MPI_Status status;
        MPI_CHECK(MPI_Recv(work, 2, MPI_INT, ROOT_RANK, MPI_ANY_TAG, MPI_COMM_WORLD, &status),
                  "MPI_Recv");
        if (status.MPI_TAG == TAG_STOP) break;
        for (int k = 0; k < work[1]; k++) values[k] = cube_u64((uint64_t)(work[0] + k));
        MPI_CHECK(MPI_Send(values, work[1], MPI_UINT64_T, ROOT_RANK, TAG_RESULT, MPI_COMM_WORLD),
                  "MPI_Send");
    }
    free(values);
}

static void map_dynamic(uint64_t *out, int n)
{
    /* Pool.map's own rule: about four chunks per worker, here capped to bound message size. */
    int workers = world_size > 1 ? world_size - 1 : 1;
    long chunk = ((long)n + 4L * workers - 1) / (4L * workers);
    chunk = chunk < 1 ? 1 : (chunk > MAX_CHUNK ? MAX_CHUNK : chunk);
    if (world_size == 1)
        cube_block(out, n); /* nobody to hand chunks to */
    else if (world_rank == ROOT_RANK)
        manage_chunks(out, n, (int)chunk);
    else
        work_on_chunks((int)chunk);
}

/* apply: one call of cube, run by the last rank (a worker, unless rank 0 is alone). */
static uint64_t apply_on_worker(uint64_t number)
{
    int worker = world_size - 1;
    uint64_t result = 0;
    if (worker == ROOT_RANK) return cube_u64(number);
    if (world_rank == ROOT_RANK) {
        MPI_CHECK(MPI_Send(&number, 1, MPI_UINT64_T, worker, TAG_APPLY, MPI_COMM_WORLD), "MPI_Send");
        MPI_CHECK(MPI_Recv(&result, 1, MPI_UINT64_T, worker, TAG_APPLY, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE), "MPI_Recv");
    } else if (world_rank == worker) {
        MPI_CHECK(MPI_Recv(&number, 1, MPI_UINT64_T, ROOT_RANK, TAG_APPLY, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE), "MPI_Recv");
        result = cube_u64(number);
        MPI_CHECK(MPI_Send(&result, 1, MPI_UINT64_T, ROOT_RANK, TAG_APPLY, MPI_COMM_WORLD), "MPI_Send");
    }
    return result;
}

int main(int argc, char **argv)
{
    options opt;
    /* FUNNELED for the hybrid variant's threads (MPI is called by the main thread only). */
    mpi_start(&info, &argc, &argv, MPI_THREAD_FUNNELED, &opt, &world_rank, &world_size);

    int n = (int)opt.n;
    uint64_t apply_arg = (uint64_t)n, apply_result;
    uint64_t *out = NULL;
    if (world_rank == ROOT_RANK) { /* only rank 0 holds the whole range, like the Pool's caller */
        out = checked_malloc((size_t)n, sizeof *out);
        for (int i = 0; i < n; i++) out[i] = (uint64_t)i;
    }

    scatter_plan plan = {0};
    if (opt.variant_index != VARIANT_DYNAMIC) plan = plan_scatter(out, n);

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank started */
    double start = MPI_Wtime();
    int team_size = 1;
    if (opt.variant_index == VARIANT_DYNAMIC)
        map_dynamic(out, n);
    else
        team_size = map_scatter(&plan, out, opt.variant_index == VARIANT_HYBRID);
    apply_result = apply_on_worker(apply_arg);
    double elapsed = MPI_Wtime() - start;
    if (opt.variant_index != VARIANT_DYNAMIC) free_plan(&plan);

    /* How many threads each rank really ran (a rank started without OMP_NUM_THREADS differs). */
    int *team_sizes = world_rank == ROOT_RANK ? checked_malloc((size_t)world_size, sizeof *team_sizes)
                                              : NULL;
    MPI_CHECK(MPI_Gather(&team_size, 1, MPI_INT, team_sizes, 1, MPI_INT, ROOT_RANK, MPI_COMM_WORLD),
              "MPI_Gather");

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        uint64_t checksum;
        pass = verify_cubes(out, (size_t)n, &checksum);
        pass = verify_u64("apply(cube, n)", cube_u64(apply_arg), apply_result) && pass;
        if (!opt.quiet) print_u64_list(out, (size_t)n);
        printf("map of %d cubes: checksum %" PRIu64 " (expected %" PRIu64 "); apply(cube, %" PRIu64
               ") = %" PRIu64 "\n", n, checksum, cube_checksum_expected((uint64_t)n), apply_arg,
               apply_result);
        int threads = 0, fewest = team_sizes[0], most = team_sizes[0];
        for (int r = 0; r < world_size; r++) {
            threads += team_sizes[r];
            fewest = team_sizes[r] < fewest ? team_sizes[r] : fewest;
            most = team_sizes[r] > most ? team_sizes[r] : most;
        }
        char threads_key[64] = "";
        if (opt.variant_index == VARIANT_HYBRID) {
            if (fewest == most)
                say(&opt, "%d ranks x %d OpenMP threads each: %d threads in all\n", world_size,
                    most, threads);
            else /* e.g. OMP_NUM_THREADS not passed on to some hosts */
                say(&opt, "%d ranks x OpenMP threads: %d to %d per rank, %d threads in all\n",
                    world_size, fewest, most, threads);
            snprintf(threads_key, sizeof threads_key, " threads=%d", threads);
        }
        print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64 "%s", checksum, threads_key);
    }
    free(team_sizes);
    free(out);
    return mpi_finish(pass);
}
