/*
 * window_error.c - a failing call on a window the suite created ends the job with the contract's
 * one line and exit 3 (tests/test_defects.py). The window comes from MPI_Win_allocate and goes
 * through window_errors_return, as every window of mpi/ does; then rank 0 locks a rank that does
 * not exist. Without the helper the window keeps MPI_ERRORS_ARE_FATAL and MPI aborts in its own
 * words before MPI_CHECK can speak.
 */
#include "../../common/mpi_harness.h"

static const variant_doc docs[] = {{"lock-bad-rank", "MPI_Win_lock on a rank out of range"},
                                   {NULL, NULL}};

static const program_info info = {
    .concept = "window_error",
    .model = "mpi",
    .summary = "test: a failing window call is exit 3 with one line",
    VARIANT_DOCS(docs),
    .n_meaning = "unused",
    .max_n = 1,
    .default_workers = 1,
};

int main(int argc, char **argv)
{
    options opt;
    int world_rank, world_size;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);
    long *value = NULL;
    MPI_Win window;
    MPI_CHECK(MPI_Win_allocate(sizeof *value, sizeof *value, MPI_INFO_NULL, MPI_COMM_WORLD, &value,
                               &window), "MPI_Win_allocate");
    window_errors_return(window);
    if (world_rank == ROOT_RANK)
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, world_size + 1, 0, window), "MPI_Win_lock");
    MPI_CHECK(MPI_Win_free(&window), "MPI_Win_free");
    return mpi_finish(true);
}
