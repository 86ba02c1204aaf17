/*
 * labs/omp/spawn.c - exercise skeleton, generated from omp/spawn.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=omp/spawn
 * Start again from the skeleton: make lab-reset EX=omp/spawn
 */
/*
 * omp/spawn.c - the notebook's Thread(target=square_it) started and joined, in OpenMP: a parallel
 * region starts a team of W threads, and its closing brace joins them all.
 *
 * Python:  t = Thread(target=square_it); t.start(); ...; t.join()     # 10 of them
 *          print('end main')
 *
 *   parallel  #pragma omp parallel num_threads(W): every thread of the team runs square_it(n)
 * Each thread leaves the sum of its squares in its report, which the main thread checks, so the
 * work cannot be skipped. Observe the two costs printed: the first region creates the team's
 * threads; the runtime keeps them parked afterwards, so a second region of the same size costs
 * far less. That reuse is why OpenMP regions are cheap enough to open around every loop.
 * The team's start-up is the lesson, so nothing starts it before the clock (the other omp
 * programs do, with team_prepare): the team is checked afterwards, from the threads' reports.
 * A team smaller than asked for (OMP_THREAD_LIMIT) is a system error, exit 3, not a worker that
 * did not run. square_it is in common/harness.h: the three versions of spawn share it.
 *
 * --trace FILE shows both regions: the main track's "create" and "join" around each, and each
 * thread's square_it on its own track.
 *
 * Run:  ./omp/spawn
 *       OMP_NUM_THREADS=4 ./omp/spawn -n 0 --quiet     (create+join cost alone)
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/harness.h"
#include "../../common/omp_team.h"
#include "../../common/trace.h"

/* What the variants share, all of it set up before the clock. */
typedef struct {
    int worker_count;
    long n;
    worker_report *reports; /* one per thread */
    double creating, joining; /* --trace: the region's start, thread 0's work done */
} spawn_team;

/* parallel: one region starts the team, each thread runs square_it, the closing brace joins.
 * --trace: the main track shows "create" (the region's start until the main thread, thread 0,
 * runs the body: the others have been started or woken by then) and "join" (thread 0's work
 * done until past the closing brace); each thread's track shows its "square_it". */
static void spawn_parallel(spawn_team *team)
{
    team->creating = trace_begin();
    /* TODO: start a team of team->worker_count threads that each run the block. Hint: #pragma omp parallel num_threads(...) default(none) shared(team) */
    {
        int thread = omp_get_thread_num();
        double working = trace_begin();
        if (thread == 0) trace_span(TRACE_MAIN, "create", team->creating, TRACE_NONE, TRACE_NONE);
        worker_report *report = &team->reports[thread];
        report->square_sum = square_it(team->n);
        report->ran = 1;
        trace_span(thread, "square_it", working, team->n, TRACE_NONE);
        if (thread == 0) team->joining = trace_begin();
    }
    trace_span(TRACE_MAIN, "join", team->joining, TRACE_NONE, TRACE_NONE);
}

/* The variants: name, --help line, the function that runs it, and what its workers are called.
 * The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(spawn_team *team);
    const char *worker_noun[2]; /* one, several */
} variants[] = {
    {{"parallel", "#pragma omp parallel num_threads(W): one region, W threads"}, spawn_parallel,
     {"thread", "threads"}},
    {{NULL, NULL}, NULL, {NULL, NULL}}};

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

/* Before the clock: no thread has reported yet (written now: no page fault inside the clock). */
static void clear_reports(worker_report *reports, int worker_count)
{
    for (int w = 0; w < worker_count; w++) reports[w] = (worker_report){.ran = 0};
}

/* After the clock: the threads that reported are the team OpenMP granted (exit 3 if short). */
static void check_team(const worker_report *reports, int worker_count)
{
    int reported = 0;
    for (int w = 0; w < worker_count; w++) reported += reports[w].ran;
    team_check(worker_count, reported);
}

/* Counts the workers that ran and got the right sum; says which did not. */
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
    const struct variant *variant = &variants[opt.variant_index];

    worker_report *reports = checked_calloc((size_t)opt.workers, sizeof *reports);
    spawn_team team = {.worker_count = opt.workers, .n = opt.n, .reports = reports};
    clear_reports(reports, opt.workers);
    team_exact(); /* a region gets exactly W threads or fewer, never an adjusted number */
    trace_open(&opt, opt.workers);

    double start = omp_get_wtime();
    variant->run(&team);
    double elapsed = omp_get_wtime() - start;

    check_team(reports, opt.workers);
    int ran = count_ran(reports, opt.workers, opt.n);
    bool pass = verify_count("workers that ran square_it", opt.workers, ran);
    double per_worker = elapsed / opt.workers;

    /* The same region again: the team's threads already exist and are reused. */
    clear_reports(reports, opt.workers);
    double start_again = omp_get_wtime();
    variant->run(&team);
    double elapsed_again = omp_get_wtime() - start_again;
    trace_write(&info, &opt); /* both regions: the second's "create" wakes the parked team */

    check_team(reports, opt.workers);
    int ran_again = count_ran(reports, opt.workers, opt.n);
    pass = verify_count("workers that ran square_it in the second region", opt.workers,
                        ran_again) &&
           pass;

    say(&opt, "%d %s started, ran square_it(%ld) and joined in %.6f s\n", opt.workers,
        variant->worker_noun[opt.workers != 1], opt.n, elapsed);
    say(&opt, "the same region again, threads reused: %.6f s (%.1f us per thread)\n", elapsed_again,
        elapsed_again / opt.workers * 1e6);
    say(&opt, "end main\n");
    printf("spawn %s: %d of %d workers ran (expected %d); create+join %.1f us per worker\n",
           opt.variant, ran, opt.workers, opt.workers, per_worker * 1e6);
    print_result(&info, &opt, pass, elapsed, "ran=%d create_join_s=%.9f reuse_s=%.9f", ran,
                 per_worker, elapsed_again / opt.workers);
    free(reports);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
