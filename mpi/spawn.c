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
 * Rank 0 checks every sum, so the work cannot be skipped. Observe the cost per worker: compare
 * comm-spawn's create_join_s with posix/spawn's process variant at -n 0 (a new MPI process has
 * to start and connect to its parents). An MPI library whose process manager cannot start
 * processes at run time refuses MPI_Comm_spawn: then this exits 3 with the library's error
 * (README lists which). ranks reports no create_join_s: nothing is created while it is timed.
 * square_it is in common/harness.h: the three versions of spawn share it.
 *
 * --trace FILE: ranks shows each rank's square_it and its MPI_Gather ("join"); comm-spawn shows
 * the parents' MPI_Comm_spawn and join only (the children are not traced).
 *
 * Run:  mpirun -np 4 ./mpi/spawn
 *       mpirun -np 2 ./mpi/spawn --variant comm-spawn -n 0     (2 children: create+join cost)
 *       (as root or on fewer cores: see README, "MPI on a small machine")
 */
#include <stdio.h>
#include <stdlib.h>

#include "../common/mpi_harness.h"
#include "../common/trace.h"

/* A gathered sum that still holds this was never sent: no worker sends it, as no n the program
 * accepts gives this sum of squares (0 is the sum for n = 0 and 1, so zeros would pass). */
#define NEVER_REPORTED UINT64_MAX

/* What the variants share, all of it set up before the clock. */
typedef struct {
    int worker_count;
    long n;
    uint64_t *reports;  /* rank 0: each worker's sum of squares */
    int world_rank;
    char *command;      /* comm-spawn: this program, which the children run */
    int *spawn_errors;  /* comm-spawn: one per child */
} spawn_team;

/* ranks: the workers already exist (mpirun started them); only the reports travel. --trace:
 * each rank's track shows its "square_it", then "join" (the MPI_Gather); no "create". */
static void spawn_ranks(spawn_team *team)
{
    double working = trace_begin();
    uint64_t square_sum = square_it(team->n);
    trace_span(0, "square_it", working, team->n, TRACE_NONE);
    double joining = trace_begin();
    /* LAB: every rank sends its sum; rank 0 receives them all, in rank order, into team->reports. Hint: MPI_Gather(&square_sum, 1, MPI_UINT64_T, team->reports, 1, MPI_UINT64_T, ROOT_RANK, MPI_COMM_WORLD) inside MPI_CHECK */
    MPI_CHECK(MPI_Gather(&square_sum, 1, MPI_UINT64_T, team->reports, 1, MPI_UINT64_T, ROOT_RANK,
                         MPI_COMM_WORLD),
              "MPI_Gather");
    /* LAB END, skeleton: (void)square_sum; */
    trace_span(0, "join", joining, TRACE_NONE, TRACE_NONE);
}

/* comm-spawn, collective over the parents: start one child per rank, collect every child's sum
 * at rank 0, disconnect (the join). --trace: each parent rank's track shows "MPI_Comm_spawn"
 * and "join" (MPI_Gather and MPI_Comm_disconnect). The children are another MPI job with a
 * clock of their own and are not traced: the file holds the parents' side only. */
static void spawn_children(spawn_team *team)
{
    char n_text[32];
    snprintf(n_text, sizeof n_text, "%ld", team->n);
    char *child_argv[] = {"--variant", "comm-spawn", "-n", n_text, NULL};
    MPI_Comm children;
    double creating = trace_begin();
    /* LAB: start team->worker_count children running team->command with child_argv; children is the intercommunicator to them. Hint: MPI_Comm_spawn(..., MPI_INFO_NULL, ROOT_RANK, MPI_COMM_WORLD, &children, team->spawn_errors) inside MPI_CHECK */
    MPI_CHECK(MPI_Comm_spawn(team->command, child_argv, team->worker_count, MPI_INFO_NULL,
                             ROOT_RANK, MPI_COMM_WORLD, &children, team->spawn_errors),
              "MPI_Comm_spawn");
    /* LAB END, skeleton: children = MPI_COMM_NULL; (void)child_argv; */
    trace_span(TRACE_MAIN, "MPI_Comm_spawn", creating, team->worker_count, TRACE_NONE);
    MPI_CHECK(MPI_Comm_set_errhandler(children, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    if (team->world_rank == ROOT_RANK) {
        for (int w = 0; w < team->worker_count; w++)
            if (team->spawn_errors[w] != MPI_SUCCESS)
                mpi_die("MPI_Comm_spawn (a child)", team->spawn_errors[w]);
    }
    /* In the parent group, the root says MPI_ROOT and the other ranks MPI_PROC_NULL. */
    double joining = trace_begin();
    MPI_CHECK(MPI_Gather(NULL, 0, MPI_UINT64_T, team->reports, 1, MPI_UINT64_T,
                         team->world_rank == ROOT_RANK ? MPI_ROOT : MPI_PROC_NULL, children),
              "MPI_Gather");
    MPI_CHECK(MPI_Comm_disconnect(&children), "MPI_Comm_disconnect");
    trace_span(TRACE_MAIN, "join", joining, TRACE_NONE, TRACE_NONE);
}

/* A spawned child: run the loop, send the sum to the parents' rank 0, disconnect (the join). */
static int run_child(MPI_Comm parent, long n)
{
    MPI_CHECK(MPI_Comm_set_errhandler(parent, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    uint64_t square_sum = square_it(n);
    /* Intercommunicator gather: the children send, root 0 of the remote (parent) group receives. */
    /* LAB: send this child's sum to the parents' rank 0 (their side of the gather is written). Hint: MPI_Gather(&square_sum, 1, MPI_UINT64_T, NULL, 0, MPI_UINT64_T, ROOT_RANK, parent) inside MPI_CHECK */
    MPI_CHECK(MPI_Gather(&square_sum, 1, MPI_UINT64_T, NULL, 0, MPI_UINT64_T, ROOT_RANK, parent),
              "MPI_Gather");
    /* LAB END, skeleton: (void)square_sum; */
    MPI_CHECK(MPI_Comm_disconnect(&parent), "MPI_Comm_disconnect");
    int rc = MPI_Finalize();
    if (rc != MPI_SUCCESS) { /* no MPI call is allowed after MPI_Finalize, not even MPI_Abort */
        fprintf(stderr, "%s: MPI_Finalize failed in a spawned child (MPI error code %d)\n",
                program_name(), rc);
        return EXIT_SYSTEM;
    }
    return EXIT_PASS;
}

/* The variants: name, --help line, the function that runs it, what its workers are called, and
 * whether it creates them while timed. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(spawn_team *team);
    const char *worker_noun[2]; /* one, several */
    bool creates_workers;
} variants[] = {
    {{"ranks", "the ranks mpirun started run square_it, MPI_Gather to rank 0"}, spawn_ranks,
     {"rank", "ranks"}, false},
    {{"comm-spawn", "MPI_Comm_spawn one child per rank; children run it and report"},
     spawn_children, {"spawned child", "spawned children"}, true},
    {{NULL, NULL}, NULL, {NULL, NULL}, false}};

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

/* Before the clock: no worker has reported yet (written now: no page fault inside the clock). */
static void clear_reports(uint64_t *reports, int worker_count)
{
    for (int w = 0; w < worker_count; w++) reports[w] = NEVER_REPORTED;
}

/* Counts the workers that ran and got the right sum; says which did not. */
static int count_ran(const uint64_t *reports, int worker_count, long n)
{
    uint64_t expected_sum = square_sum_expected((uint64_t)n);
    int ran = 0;
    for (int w = 0; w < worker_count; w++) {
        if (reports[w] == NEVER_REPORTED)
            fprintf(stderr, "%s: worker %d never reported\n", program_name(), w);
        else if (verify_u64("a worker's sum of squares", expected_sum, reports[w]))
            ran++;
    }
    return ran;
}

int main(int argc, char **argv)
{
    options opt;
    int world_rank, world_size;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    MPI_Comm parent;
    MPI_CHECK(MPI_Comm_get_parent(&parent), "MPI_Comm_get_parent");
    if (parent != MPI_COMM_NULL) return run_child(parent, opt.n);
    const struct variant *variant = &variants[opt.variant_index];

    uint64_t *reports = checked_calloc((size_t)opt.workers, sizeof *reports);
    spawn_team team = {.worker_count = opt.workers, .n = opt.n, .reports = reports,
                       .world_rank = world_rank, .command = argv[0],
                       .spawn_errors = checked_malloc((size_t)opt.workers, sizeof(int))};
    clear_reports(reports, opt.workers);
    trace_open(&opt, 1); /* one track per rank: its own */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");

    double start = MPI_Wtime();
    variant->run(&team);
    double elapsed = MPI_Wtime() - start;
    mpi_trace_write(&info, &opt);

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        int ran = count_ran(reports, opt.workers, opt.n);
        pass = verify_count("workers that ran square_it", opt.workers, ran);
        double per_worker = elapsed / opt.workers;

        say(&opt, "%d %s %s square_it(%ld) and %s in %.6f s\n", opt.workers,
            variant->worker_noun[opt.workers != 1],
            variant->creates_workers ? "started, ran" : "ran", opt.n,
            variant->creates_workers ? "joined" : "reported", elapsed);
        say(&opt, "end main\n");
        printf("spawn %s: %d of %d workers ran (expected %d); %s %.1f us per worker\n", opt.variant,
               ran, opt.workers, opt.workers,
               variant->creates_workers ? "create+join" : "run+gather (no create)",
               per_worker * 1e6);
        if (variant->creates_workers)
            print_result(&info, &opt, pass, elapsed, "ran=%d create_join_s=%.9f", ran, per_worker);
        else
            print_result(&info, &opt, pass, elapsed, "ran=%d", ran);
    }
    free(team.spawn_errors);
    free(reports);
    return mpi_finish(pass);
}
