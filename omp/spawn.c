/*
 * omp/spawn.c - the notebook's Thread(target=square_it) started and joined, in OpenMP: a parallel
 * region starts a team of W threads, and its closing brace joins them all.
 *
 * Python:  t = Thread(target=square_it); t.start(); ...; t.join()     # 10 of them
 *          print('end main')
 *
 *   parallel  #pragma omp parallel num_threads(W): every thread of the team runs square_it(n)
 * Each thread reports the sum of its squares, which the main thread checks, so the work cannot
 * be skipped. Observe the two costs printed: the first region creates the team's threads; the
 * runtime keeps them parked afterwards, so a second region of the same size costs far less.
 * That reuse is why OpenMP regions are cheap enough to open around every loop. A team smaller
 * than asked for (OMP_THREAD_LIMIT) is a system error, exit 3, not a worker that did not run.
 * square_it is in common/harness.h: the three versions of spawn share it.
 *
 * Run:  ./omp/spawn
 *       OMP_NUM_THREADS=4 ./omp/spawn -n 0 --quiet     (create+join cost alone)
 */
#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/omp_team.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"parallel", "#pragma omp parallel num_threads(W): one region, W threads"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "spawn",
    .model = "omp",
    .summary = "Start W threads running square_it(n) in a parallel region, join them at its end, "
               "and report the create+join cost.",
    VARIANT_TABLE(variants),
    .n_meaning = "loop length of square_it",
    .default_n = 1000,
    .max_n = 10000000000L,
    .default_workers = 10, /* the notebook's number_threads */
};

/* One region: start the team, each thread runs square_it, the closing brace joins them.
 * Returns the seconds it took; *team_size gets the team's size, for team_check. */
static double run_team(int worker_count, long n, worker_report *reports, int *team_size)
{
    double start = omp_get_wtime();
#pragma omp parallel num_threads(worker_count) default(none) shared(n, reports, team_size)
    {
#pragma omp single nowait
        *team_size = omp_get_num_threads();
        int worker = omp_get_thread_num();
        reports[worker].square_sum = square_it(n);
        reports[worker].ran = 1;
    }
    return omp_get_wtime() - start;
}

/* Counts the threads that ran and got the right sum; says which did not. */
static int count_ran(const worker_report *reports, int worker_count, long n)
{
    uint64_t expected_sum = square_sum_expected((uint64_t)n);
    int ran = 0;
    for (int w = 0; w < worker_count; w++) {
        if (!reports[w].ran)
            fprintf(stderr, "%s: worker %d never reported\n", program_name(), w);
        else if (verify_u64("a worker's sum of squares", expected_sum, reports[w].square_sum))
            ran++;
    }
    return ran;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    worker_report *reports = checked_calloc((size_t)opt.workers, sizeof *reports);
    int team_size = 0;
    team_exact();
    double elapsed = run_team(opt.workers, opt.n, reports, &team_size);
    team_check(opt.workers, team_size);
    int ran = count_ran(reports, opt.workers, opt.n);

    /* The same region again: the team's threads already exist and are reused. */
    worker_report *again = checked_calloc((size_t)opt.workers, sizeof *again);
    double elapsed_again = run_team(opt.workers, opt.n, again, &team_size);
    team_check(opt.workers, team_size);
    int ran_again = count_ran(again, opt.workers, opt.n);

    bool pass = verify_count("threads that ran square_it", opt.workers, ran);
    pass = verify_count("threads that ran square_it in the second region", opt.workers, ran_again) &&
           pass;
    double per_worker = elapsed / opt.workers;

    say(&opt, "%d thread%s started, ran square_it(%ld) and joined in %.6f s\n", opt.workers,
        opt.workers == 1 ? "" : "s", opt.n, elapsed);
    say(&opt, "the same region again, threads reused: %.6f s (%.1f us per thread)\n", elapsed_again,
        elapsed_again / opt.workers * 1e6);
    say(&opt, "end main\n");
    printf("spawn %s: %d of %d workers ran (expected %d); create+join %.1f us per worker\n",
           opt.variant, ran, opt.workers, opt.workers, per_worker * 1e6);
    print_result(&info, &opt, pass, elapsed, "ran=%d create_join_s=%.9f reuse_s=%.9f", ran,
                 per_worker, elapsed_again / opt.workers);
    free(again);
    free(reports);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
