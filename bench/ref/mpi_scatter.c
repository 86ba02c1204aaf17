/*
 * bench/ref/mpi_scatter.c - the MPI data-movement ceiling under pool_cube's scatter variant.
 *
 * Rank 0 holds 0..n-1; MPI_Scatterv deals every rank a block (rank 0 keeps its own in place),
 * each rank cubes its block, MPI_Gatherv brings the cubes back: the minimum a message-passing
 * map over shared-nothing ranks must do. Elements per second = n / elapsed.
 *   prefault  every buffer was used once before the clock starts (one untimed pass): the
 *             copies alone, the figure a map over ranks can approach
 *   fresh     the receiving blocks are malloc'd inside the timed part, as pool_cube does, so
 *             first-touch page faults are counted too
 *
 * Run:  mpirun -np 2 build/bench/ref/mpi_scatter -n 10000000 --quiet
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/mpi_harness.h"

static const program_info info = {
    .concept = "scatter_gather",
    .model = "ref",
    .summary = "Reference: MPI_Scatterv + cube + MPI_Gatherv of n elements, buffers ready or fresh.",
    VARIANT_DOCS(((const variant_doc[]){{"prefault", "every buffer touched by an untimed pass first"},
                 {"fresh", "receive blocks malloc'd inside the timed part (page faults counted)"},
                 {NULL, NULL}})),
    .n_meaning = "elements scattered, cubed and gathered",
    .default_n = 10000000,
    .max_n = INT_MAX,
};

static int world_rank, world_size;

static void scatter_cube_gather(uint64_t *all, uint64_t *block, const int *counts, const int *displs)
{
    int my_count = counts[world_rank];
    if (world_rank == ROOT_RANK) {
        MPI_CHECK(MPI_Scatterv(all, counts, displs, MPI_UINT64_T, MPI_IN_PLACE, my_count, MPI_UINT64_T,
                               ROOT_RANK, MPI_COMM_WORLD), "MPI_Scatterv");
        block = all;
    } else {
        MPI_CHECK(MPI_Scatterv(NULL, NULL, NULL, MPI_UINT64_T, block, my_count, MPI_UINT64_T,
                               ROOT_RANK, MPI_COMM_WORLD), "MPI_Scatterv");
    }
    for (int k = 0; k < my_count; k++) block[k] = cube_u64(block[k]);
    if (world_rank == ROOT_RANK)
        MPI_CHECK(MPI_Gatherv(MPI_IN_PLACE, my_count, MPI_UINT64_T, all, counts, displs, MPI_UINT64_T,
                              ROOT_RANK, MPI_COMM_WORLD), "MPI_Gatherv");
    else
        MPI_CHECK(MPI_Gatherv(block, my_count, MPI_UINT64_T, NULL, NULL, NULL, MPI_UINT64_T,
                              ROOT_RANK, MPI_COMM_WORLD), "MPI_Gatherv");
}

static void fill_range(uint64_t *all, int n)
{
    for (int i = 0; i < n; i++) all[i] = (uint64_t)i;
}

int main(int argc, char **argv)
{
    options opt;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);
    int n = (int)opt.n;
    bool fresh = opt.variant_index == 1;

    int *counts = checked_malloc((size_t)world_size, sizeof *counts);
    int *displs = checked_malloc((size_t)world_size, sizeof *displs);
    for (int r = 0, begin = 0; r < world_size; r++) {
        counts[r] = n / world_size + (r < n % world_size ? 1 : 0);
        displs[r] = begin;
        begin += counts[r];
    }
    uint64_t *all = world_rank == ROOT_RANK ? checked_malloc((size_t)n + 1, sizeof *all) : NULL;
    uint64_t *block = NULL;
    if (world_rank == ROOT_RANK) fill_range(all, n);
    if (!fresh) {
        block = checked_malloc((size_t)counts[world_rank] + 1, sizeof *block);
        scatter_cube_gather(all, block, counts, displs); /* untimed pass: pages and connections */
        if (world_rank == ROOT_RANK) fill_range(all, n);
    }

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    double start = MPI_Wtime();
    if (fresh) block = checked_malloc((size_t)counts[world_rank] + 1, sizeof *block);
    scatter_cube_gather(all, block, counts, displs);
    double elapsed = MPI_Wtime() - start;

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        uint64_t checksum;
        pass = verify_cubes(all, (size_t)n, &checksum);
        printf("scatter+gather %s: %d cubes over %d ranks in %.6f s; checksum %" PRIu64
               " (expected %" PRIu64 ")\n", opt.variant, n, world_size, elapsed, checksum,
               cube_checksum_expected((uint64_t)n));
        print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64, checksum);
    }
    free(block);
    free(all);
    free(counts);
    free(displs);
    return mpi_finish(pass);
}
