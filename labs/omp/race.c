/*
 * labs/omp/race.c - exercise skeleton, generated from omp/race.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=omp/race
 * Start again from the skeleton: make lab-reset EX=omp/race
 */
/*
 * omp/race.c - WRONG ON PURPOSE: the notebook's lost update, in OpenMP. The team's threads share
 * a counter without any synchronisation; updates get lost. The correct program is omp/counter
 * (same steps in a critical section). Race detectors must flag this file (make check-races).
 *
 * Python:  local_copy = database_value      # read
 *          local_copy += 1
 *          time.sleep(0.1)                  # the pause lets the other thread read the old value
 *          database_value = local_copy      # write: overwrites the other thread's update
 *          -> start value 0, end value 1 (two increments, one survives)
 *
 * W workers each add 1 to one shared counter n times: read, pause, write, with no lock, so an
 * update another worker makes between one worker's read and its write is lost.
 *   parallel  #pragma omp parallel num_threads(W) shared(counter): one variable for the whole
 *             team, and nothing orders the threads' accesses to it
 * The threads meet at a barrier first, so they start the race together. Observe: with the
 * default pause (100 ms) W threads doing 1 increment each end at 1, not W. With --delay-ms 0
 * far fewer updates are lost, yet the program is just as wrong (try -n 1000000 --delay-ms 0).
 * A team smaller than asked for (OMP_THREAD_LIMIT) is exit 3 before the clock starts, not
 * updates "lost" that were never made. What to look at instead: omp/counter.
 *
 * Run:  ./omp/race
 *       OMP_NUM_THREADS=4 ./omp/race
 *       ./omp/race -n 1000000 --delay-ms 0
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/harness.h"
#include "../../common/omp_team.h"
#include "../../common/trace.h"

/* Everything the team shares. */
typedef struct {
    long value; /* the notebook's database_value: read and written with no lock */
    long long *per_worker; /* reads each thread made, by thread number */
    int worker_count;
    long increments;
    long delay_ms;
} shared_counter;

/* The notebook's increase(), n times, by every worker. The race: between one worker's read and
 * its write, another worker reads the same old value, and one of the two writes is lost. */
static void increase_in_parallel(shared_counter *counter)
{
#pragma omp parallel num_threads(counter->worker_count) default(none) shared(counter)
    {
        /* volatile: the compiler must read and write memory every time, as the notebook does,
         * instead of adding n at once. It orders nothing between threads: the race stays. */
        volatile long *value = &counter->value;
        int worker = omp_get_thread_num();
#pragma omp barrier
        long i;
        for (i = 0; i < counter->increments; i++) {
            /* TODO: read the shared value into local_copy, add one, pause (counter->delay_ms), write it back: the notebook's increase(). Hint: through *value, sleep_ms */
            (void)value;
        }
        counter->per_worker[worker] = i; /* the reads this thread made */
    }
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(shared_counter *counter);
} variants[] = {
    {{"parallel", "a parallel region; the counter is shared, nothing protects it"},
     increase_in_parallel},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "race",
    .model = "omp",
    .summary = "W threads add 1 to a shared counter n times each with NO synchronisation: read, "
               "pause, write.",
    VARIANT_TABLE(variants),
    .n_meaning = "increments per worker",
    .default_n = 1,
    .max_n = 10000000000L,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 100,
    .note = "WRONG ON PURPOSE: this program loses updates (a data race) to show why a lock is "
            "needed.\nIts check only asks that 1 <= got <= expected. The correct version is "
            "omp/counter.",
};

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    shared_counter counter = {
        .value = 0, .worker_count = opt.workers, .increments = opt.n, .delay_ms = opt.delay_ms};
    /* Each thread writes only its own entry, once, after its loop: allocated before the clock. */
    counter.per_worker = checked_calloc((size_t)opt.workers, sizeof *counter.per_worker);
    long expected = opt.workers * opt.n;
    say(&opt, "start value %ld\n", counter.value);
    team_prepare(opt.workers); /* a smaller team would "lose" updates it never made: exit 3 now */
    trace_open(&opt, opt.workers);
    trace_mark_repeats("read..write", "lost update"); /* two reads of one value: a lost update */

    double start = omp_get_wtime();
    variants[opt.variant_index].run(&counter);
    double elapsed = omp_get_wtime() - start;

    long got = counter.value;
    long lost = expected - got;
    /* A demonstration, not a computation: updates may be lost, never invented. */
    bool pass = verify_race(expected, got);
    trace_write(&info, &opt);

    say(&opt, "end value %ld\n", got);
    say(&opt, "end main\n");
    printf("race %s (no lock, wrong on purpose): expected %ld, got %ld, %ld update%s lost\n",
           opt.variant, expected, got, lost, lost == 1 ? "" : "s");
    print_result(&info, &opt, pass, elapsed, "expected=%ld got=%ld lost=%ld per_worker=%s", expected,
                 got, lost, per_worker_text(counter.per_worker, opt.workers));
    free(counter.per_worker);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
