/*
 * mpi/spawn.c - the notebook's Process(target=square_it) started and joined, in MPI: the workers
 * are ranks, started either by mpirun before main runs, or by the program itself at run time.
 *
 * Python:  p = Process(target=square_it); p.start(); ...; p.join()    # one per core
 *          print('end main')
 *
 *   ranks       every rank mpirun started runs square_it(n); MPI_Gather brings the sums to rank 0.
 *               The ranks exist before main: their start-up cost is mpirun's, not measured here.
 *   comm-spawn  the ranks call MPI_Comm_spawn to start one child process per rank (this same
 *               program, which finds its parent with MPI_Comm_get_parent); the children run
 *               square_it(n), gather their sums to rank 0 over the intercommunicator, and
 *               MPI_Comm_disconnect is the join. This is MPI's Process(...).start().
 * Rank 0 checks every sum, so the work cannot be skipped. Observe the cost per worker: a spawned
 * child costs tens of milliseconds (a new MPI process has to start and connect), far more than
 * fork(). Open MPI spawns as root when oversubscribed; Debian's MPICH 4.0.2 (ch4:ucx) refused
 * MPI_Comm_spawn on our test machines, even in a ten-line program: then this exits 3 with
 * MPICH's error. ranks reports no create_join_s: nothing is created while it is timed.
 * square_it is in common/harness.h: the three versions of spawn share it.
 *
 * Run:  mpirun -np 4 ./mpi/spawn
 *       mpirun -np 2 ./mpi/spawn --variant comm-spawn -n 0     (2 children: create+join cost)
 *       (as root or on fewer cores: see README, "MPI on a small machine")
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mpi_harness.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"ranks", "the ranks mpirun started run square_it, MPI_Gather to rank 0"}},
    {{"comm-spawn", "MPI_Comm_spawn one child per rank; children run it and report"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "spawn",
    .model = "mpi",
    .summary = "Ranks, or children started with MPI_Comm_spawn, run square_it(n) and report back; "
               "the create+join cost per worker.",
    VARIANT_TABLE(variants),
    .n_meaning = "loop length of square_it",
    .default_n = 1000,
    .max_n = 10000000000L,
    .default_workers = 0,
    .note = "comm-spawn starts as many children as mpirun started ranks, so workers = -np.\n"
            "ranks reports no create_join_s: its ranks exist before main, nothing is created.",
};

enum { VARIANT_RANKS, VARIANT_COMM_SPAWN };

/* A gathered sum that still holds this was never sent: no worker sends it, as no n the program
 * accepts gives this sum of squares (0 is the sum for n = 0 and 1, so calloc's zeros would pass). */
#define NEVER_REPORTED UINT64_MAX

/* A spawned child: run the loop, send the sum to the parents' rank 0, disconnect (the join). */
static int run_child(MPI_Comm parent, long n)
{
    MPI_CHECK(MPI_Comm_set_errhandler(parent, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    uint64_t square_sum = square_it(n);
    /* Intercommunicator gather: the children send, root 0 of the remote (parent) group receives. */
    MPI_CHECK(MPI_Gather(&square_sum, 1, MPI_UINT64_T, NULL, 0, MPI_UINT64_T, ROOT_RANK, parent),
              "MPI_Gather");
    MPI_CHECK(MPI_Comm_disconnect(&parent), "MPI_Comm_disconnect");
    MPI_CHECK(MPI_Finalize(), "MPI_Finalize");
    return EXIT_PASS;
}

/* Collective over the parents: start one child per rank, collect every child's sum at rank 0. */
static void spawn_children(const char *command, long n, int world_rank, int worker_count,
                           uint64_t *square_sums)
{
    char n_text[32];
    snprintf(n_text, sizeof n_text, "%ld", n);
    char *child_argv[] = {"--variant", "comm-spawn", "-n", n_text, NULL};
    int *spawn_errors = checked_malloc((size_t)worker_count, sizeof *spawn_errors);
    MPI_Comm children;
    MPI_CHECK(MPI_Comm_spawn(command, child_argv, worker_count, MPI_INFO_NULL, ROOT_RANK,
                             MPI_COMM_WORLD, &children, spawn_errors),
              "MPI_Comm_spawn");
    MPI_CHECK(MPI_Comm_set_errhandler(children, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    if (world_rank == ROOT_RANK) {
        for (int w = 0; w < worker_count; w++)
            if (spawn_errors[w] != MPI_SUCCESS) mpi_die("MPI_Comm_spawn (a child)", spawn_errors[w]);
    }
    /* In the parent group, the root says MPI_ROOT and the other ranks MPI_PROC_NULL. */
    MPI_CHECK(MPI_Gather(NULL, 0, MPI_UINT64_T, square_sums, 1, MPI_UINT64_T,
                         world_rank == ROOT_RANK ? MPI_ROOT : MPI_PROC_NULL, children),
              "MPI_Gather");
    MPI_CHECK(MPI_Comm_disconnect(&children), "MPI_Comm_disconnect");
    free(spawn_errors);
}

int main(int argc, char **argv)
{
    options opt;
    int world_rank, world_size;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    MPI_Comm parent;
    MPI_CHECK(MPI_Comm_get_parent(&parent), "MPI_Comm_get_parent");
    if (parent != MPI_COMM_NULL) return run_child(parent, opt.n);

    uint64_t *square_sums = checked_malloc((size_t)world_size, sizeof *square_sums);
    for (int w = 0; w < world_size; w++) square_sums[w] = NEVER_REPORTED;
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    double start = MPI_Wtime();
    if (opt.variant_index == VARIANT_COMM_SPAWN) {
        spawn_children(argv[0], opt.n, world_rank, world_size, square_sums);
    } else {
        uint64_t square_sum = square_it(opt.n);
        MPI_CHECK(MPI_Gather(&square_sum, 1, MPI_UINT64_T, square_sums, 1, MPI_UINT64_T, ROOT_RANK,
                             MPI_COMM_WORLD),
                  "MPI_Gather");
    }
    double elapsed = MPI_Wtime() - start;

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        uint64_t expected_sum = square_sum_expected((uint64_t)opt.n);
        int ran = 0;
        for (int w = 0; w < world_size; w++) {
            if (square_sums[w] == NEVER_REPORTED)
                fprintf(stderr, "%s: worker %d never reported\n", program_name(), w);
            else if (verify_u64("a worker's sum of squares", expected_sum, square_sums[w]))
                ran++;
        }
        pass = verify_count("workers that ran square_it", world_size, ran);
        double per_worker = elapsed / world_size;
        const char *kind = opt.variant_index == VARIANT_COMM_SPAWN ? "spawned child" : "rank";

        say(&opt, "%d %s%s ran square_it(%ld) and reported in %.6f s\n", world_size, kind,
            world_size == 1 ? "" : (opt.variant_index == VARIANT_COMM_SPAWN ? "ren" : "s"), opt.n,
            elapsed);
        say(&opt, "end main\n");
        printf("spawn %s: %d of %d workers ran (expected %d); %s %.1f us per worker\n", opt.variant,
               ran, world_size, world_size,
               opt.variant_index == VARIANT_COMM_SPAWN ? "create+join" : "run+gather (no create)",
               per_worker * 1e6);
        if (opt.variant_index == VARIANT_COMM_SPAWN)
            print_result(&info, &opt, pass, elapsed, "ran=%d create_join_s=%.9f", ran, per_worker);
        else
            print_result(&info, &opt, pass, elapsed, "ran=%d", ran);
    }
    free(square_sums);
    return mpi_finish(pass);
}
