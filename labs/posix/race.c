/*
 * labs/posix/race.c - exercise skeleton, generated from posix/race.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=posix/race
 * Start again from the skeleton: make lab-reset EX=posix/race
 */
/*
 * posix/race.c - WRONG ON PURPOSE: the notebook's lost update, with pthreads and with fork.
 * The workers share a counter without any lock; updates get lost. The correct program is
 * posix/counter (same steps, with a lock). Race detectors must flag this file (make check-races).
 *
 * Python:  local_copy = database_value      # read
 *          local_copy += 1
 *          time.sleep(0.1)                  # the pause lets the other thread read the old value
 *          database_value = local_copy      # write: overwrites the other thread's update
 *          -> start value 0, end value 1 (two increments, one survives)
 *
 * W workers each add 1 to one shared counter n times: read, pause, write, with no lock, so an
 * update another worker makes between one worker's read and its write is lost.
 *   thread   W pthreads (run_threads) share a plain `long` in this process's memory
 *   process  W fork()ed workers (run_processes) share it in a MAP_SHARED mapping
 *            (multiprocessing's Value without its lock): the race is the same across processes
 * The workers wait at a barrier first, so they start the race together. Observe: with the
 * default pause (100 ms) W workers doing 1 increment each end at 1, not W. With --delay-ms 0 the
 * window between read and write is nanoseconds wide: far fewer updates are lost, yet the
 * program is just as wrong (try -n 1000000 --delay-ms 0). What to look at instead: counter.
 *
 * Run:  ./posix/race
 *       ./posix/race --variant process -w 4
 *       ./posix/race -n 1000000 --delay-ms 0
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/harness.h"
#include "../../common/trace.h"
#include "../../common/workers.h"

/* Everything the workers share. It lives in a MAP_SHARED mapping: forked workers (process) see
 * the parent's memory only there, and the threads do not mind. */
typedef struct {
    long value; /* the notebook's database_value: read and written with no lock */
    pthread_barrier_t start_line; /* PTHREAD_PROCESS_SHARED: threads and forked workers alike */
    long long *per_worker; /* reads each worker made (shared: forked ones too) */
    int worker_count;
    long increments;
    long delay_ms;
} shared_counter;

/* The notebook's increase(), n times, by every worker. The race: between one worker's read and
 * its write, another worker reads the same old value, and one of the two writes is lost. */
static void increase(void *shared, int worker)
{
    shared_counter *counter = shared;
    int rc = pthread_barrier_wait(&counter->start_line);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) die_code("pthread_barrier_wait", rc);
    /* volatile: the compiler must read and write memory every time, as the notebook does,
     * instead of adding n at once. It orders nothing between threads: the race stays. */
    volatile long *value = &counter->value;
    long i;
    for (i = 0; i < counter->increments; i++) {
        /* TODO: read the shared value into local_copy, add one, pause (counter->delay_ms), write it back: the notebook's increase(). Hint: through *value, sleep_ms */
        (void)value;
    }
    counter->per_worker[worker] = i; /* the reads this worker made */
}

/* W threads (run_threads: pthread_create, pthread_join) or W forked processes (run_processes:
 * fork, waitpid; each child leaves with _exit), each running increase. */
static void increase_in_threads(shared_counter *counter)
{
    run_threads(counter->worker_count, increase, counter);
}

static void increase_in_processes(shared_counter *counter)
{
    run_processes(counter->worker_count, increase, counter);
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(shared_counter *counter);
} variants[] = {
    {{"thread", "pthreads share a plain long"}, increase_in_threads},
    {{"process", "fork()ed workers share a long in a MAP_SHARED mapping"}, increase_in_processes},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "race",
    .model = "posix",
    .summary = "W workers add 1 to a shared counter n times each with NO lock: read, pause, write.",
    VARIANT_TABLE(variants),
    .n_meaning = "increments per worker",
    .default_n = 1,
    .max_n = 10000000000L,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 100,
    .note = "WRONG ON PURPOSE: this program loses updates (a data race) to show why a lock is "
            "needed.\nIts check only asks that 1 <= got <= expected. The correct version is "
            "posix/counter.",
};

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    /* A forked child's memory is its own copy: the counter must be in a shared mapping. */
    shared_counter *counter = shared_alloc(sizeof *counter);
    counter->value = 0;
    counter->worker_count = opt.workers;
    counter->increments = opt.n;
    counter->delay_ms = opt.delay_ms;
    counter->per_worker = shared_alloc((size_t)opt.workers * sizeof *counter->per_worker);
    /* The start line, so the workers start the race together. */
    pthread_barrierattr_t barrier_attr;
    CHECK_RC(pthread_barrierattr_init(&barrier_attr), "pthread_barrierattr_init");
    CHECK_RC(pthread_barrierattr_setpshared(&barrier_attr, PTHREAD_PROCESS_SHARED),
             "pthread_barrierattr_setpshared");
    CHECK_RC(pthread_barrier_init(&counter->start_line, &barrier_attr, (unsigned)opt.workers),
             "pthread_barrier_init");
    CHECK_RC(pthread_barrierattr_destroy(&barrier_attr), "pthread_barrierattr_destroy");
    long expected = opt.workers * opt.n;
    say(&opt, "start value %ld\n", counter->value);
    trace_open(&opt, opt.workers); /* before the threads or children start: they share it */
    trace_mark_repeats("read..write", "lost update"); /* two reads of one value: a lost update */

    double start = now_seconds();
    variants[opt.variant_index].run(counter);
    double elapsed = now_seconds() - start;

    long got = counter->value;
    long lost = expected - got;
    /* A demonstration, not a computation: updates may be lost, never invented. */
    bool pass = verify_race(expected, got);
    trace_write(&info, &opt);

    say(&opt, "end value %ld\n", got);
    say(&opt, "end main\n");
    printf("race %s (no lock, wrong on purpose): expected %ld, got %ld, %ld update%s lost\n",
           opt.variant, expected, got, lost, lost == 1 ? "" : "s");
    print_result(&info, &opt, pass, elapsed, "expected=%ld got=%ld lost=%ld per_worker=%s", expected,
                 got, lost, per_worker_text(counter->per_worker, opt.workers));
    CHECK_RC(pthread_barrier_destroy(&counter->start_line), "pthread_barrier_destroy");
    shared_free(counter->per_worker, (size_t)opt.workers * sizeof *counter->per_worker);
    shared_free(counter, sizeof *counter);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
