/*
 * omp/counter.c - the notebook's Lock, and its Value + Lock with add100: the lost update of
 * omp/race made correct, in OpenMP.
 *
 * Python:  with lock:                      # read, add one, write: one step nobody can split
 *              number.value += 1           -> Number at the end is 200
 *
 * W threads each add 1 to one shared counter n times; every read-modify-write step is made
 * indivisible, so no update is lost and the end value is exactly W * n.
 *   critical   #pragma omp critical around the step: one thread at a time, like a Lock
 *   atomic     #pragma omp atomic update: the step is one indivisible instruction, no lock
 *   lock       omp_lock_t set and unset around the step: the Lock object, explicit
 *   reduction  reduction(+:count): each thread counts in a private copy and OpenMP adds the
 *              copies once at the end. Nothing is shared while counting, so nothing waits;
 *              the compiler may even turn the private loop into count += n.
 * Observe: compare increments per second with -n 10000000 --quiet: reduction >> atomic >
 * critical and lock. With --delay-ms D the pause sits inside the locked step (critical, lock),
 * so the threads take turns and a run lasts W * n * D ms; atomic and reduction cannot hold a
 * pause inside their step, so they pause just before it and the pauses overlap. A team smaller
 * than asked for (OMP_THREAD_LIMIT) is exit 3 before the clock starts, not a wrong count; a
 * run that outlasts a bound scaled to its steps (a lock never given back) is exit 3 naming the
 * count it reached.
 *
 * Run:  ./omp/counter
 *       OMP_NUM_THREADS=2 ./omp/counter --variant atomic -n 10000000 --quiet
 *       ./omp/counter --variant lock --delay-ms 10
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/omp_team.h"
#include "../common/trace.h"

/* Everything the team shares. */
typedef struct {
    long long value; /* critical, atomic, lock; reduction adds its total at the end */
    omp_lock_t lock;
    long long *per_worker; /* increments each thread made, by thread number */
    int worker_count;
    long increments;
    long delay_ms;
} shared_counter;

/* --trace shows each step of critical and lock as "lock wait" (to enter) and "lock hold" (read,
 * pause, write; the span ends inside the critical section, so two holds never overlap). */
static void add_with_critical(shared_counter *counter)
{
#pragma omp parallel num_threads(counter->worker_count) default(none) shared(counter)
    {
        int worker = omp_get_thread_num();
        long i;
        for (i = 0; i < counter->increments; i++) {
            double waiting = trace_begin();
            /* LAB: let one thread at a time run the block below. Hint: #pragma omp critical */
#pragma omp critical
            /* LAB END */
            {
                double holding = trace_begin();
                trace_span(worker, "lock wait", waiting, i, TRACE_NONE);
                long long local_copy = counter->value;
                if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
                counter->value = local_copy + 1;
                trace_span(worker, "lock hold", holding, local_copy, local_copy + 1);
            }
        }
        counter->per_worker[worker] = i; /* the steps this thread made */
    }
}

static void add_with_atomic(shared_counter *counter)
{
#pragma omp parallel num_threads(counter->worker_count) default(none) shared(counter)
    {
        int worker = omp_get_thread_num();
        long i;
        for (i = 0; i < counter->increments; i++) {
            if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
            double adding = trace_begin();
            /* LAB: add one to counter->value in one indivisible step. Hint: #pragma omp atomic update */
#pragma omp atomic update
            counter->value++;
            /* LAB END */
            trace_span(worker, "atomic add", adding, i, TRACE_NONE);
        }
        counter->per_worker[worker] = i;
    }
}

static void add_with_lock(shared_counter *counter)
{
#pragma omp parallel num_threads(counter->worker_count) default(none) shared(counter)
    {
        int worker = omp_get_thread_num();
        long i;
        for (i = 0; i < counter->increments; i++) {
            double waiting = trace_begin();
            /* LAB: take the lock before the read. Hint: omp_set_lock(&counter->lock) */
            omp_set_lock(&counter->lock);
            /* LAB END */
            double holding = trace_begin();
            trace_span(worker, "lock wait", waiting, i, TRACE_NONE);
            long long local_copy = counter->value;
            if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
            counter->value = local_copy + 1;
            trace_span(worker, "lock hold", holding, local_copy, local_copy + 1);
            /* LAB: give the lock back after the write. Hint: omp_unset_lock */
            omp_unset_lock(&counter->lock);
            /* LAB END */
        }
        counter->per_worker[worker] = i;
    }
}

/* --trace shows each thread's private loop as one "private count" span; the copies are added
 * where the parallel region ends, which no line of this file shows (main's track marks it). */
static void add_with_reduction(shared_counter *counter)
{
    long long count = counter->value; /* OpenMP adds every thread's private count to this */
    /* LAB: give each thread a private count that OpenMP adds up at the end. Hint: reduction(+ : count) */
#pragma omp parallel num_threads(counter->worker_count) default(none) shared(counter) \
    reduction(+ : count)
    /* LAB END, skeleton: #pragma omp parallel num_threads(counter->worker_count) default(none) shared(counter, count) */
    {
        int worker = omp_get_thread_num();
        double counting = trace_begin();
        for (long i = 0; i < counter->increments; i++) {
            if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
            count++; /* this thread's private copy, which starts at 0 */
        }
        trace_span(worker, "private count", counting, 0, count);
        counter->per_worker[worker] = count; /* this thread's own count */
    }
    trace_instant(TRACE_MAIN, "counts added", count, TRACE_NONE);
    counter->value = count;
}

/* ---- the watchdog: a lock never given back must not hang the run ----
 * A thread that never leaves its critical section, or never unsets the lock, leaves the others
 * waiting to enter and the main thread at the region's closing barrier, for ever: OpenMP's own
 * waits, which no call of this file can bound. The harness's watchdog bounds the run instead,
 * by a limit that grows with the steps and their pauses. */
static double counting_bound_s(const shared_counter *counter)
{
    double steps = (double)counter->worker_count * (double)counter->increments;
    return 10.0 + steps * (1e-4 + (double)counter->delay_ms / 1000.0);
}

static void describe_counting(const void *state, char *text, size_t size)
{
    const shared_counter *counter = state;
    long long value;
#pragma omp atomic read
    value = counter->value;
    snprintf(text, size, "join: the counter is %lld of %lld", value,
             (long long)counter->worker_count * counter->increments);
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(shared_counter *counter);
} variants[] = {
    {{"critical", "#pragma omp critical around each read-modify-write"}, add_with_critical},
    {{"atomic", "#pragma omp atomic update: no lock"}, add_with_atomic},
    {{"lock", "omp_lock_t set/unset around each step"}, add_with_lock},
    {{"reduction", "reduction(+:count): private counts, added once at the end"}, add_with_reduction},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "counter",
    .model = "omp",
    .summary = "W threads add 1 to one shared counter n times each, synchronised: no update is lost.",
    VARIANT_TABLE(variants),
    .n_meaning = "increments per worker",
    .default_n = 100,
    .max_n = 10000000000L,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 0,
};

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    shared_counter counter = {
        .value = 0, .worker_count = opt.workers, .increments = opt.n, .delay_ms = opt.delay_ms};
    /* The notebook's Lock (the lock variant's; critical names its lock implicitly). */
    omp_init_lock(&counter.lock);
    /* Each thread writes only its own entry, once, after its loop: allocated before the clock. */
    counter.per_worker = checked_calloc((size_t)opt.workers, sizeof *counter.per_worker);
    long long expected = (long long)opt.workers * opt.n;
    say(&opt, "Number at the beginning is %lld\n", counter.value);
    team_prepare(opt.workers); /* a smaller team would add fewer ones: exit 3 now, untimed */
    trace_open(&opt, opt.workers);

    watchdog_start(counting_bound_s(&counter), describe_counting, &counter);

    double start = omp_get_wtime();
    variants[opt.variant_index].run(&counter);
    double elapsed = omp_get_wtime() - start;

    watchdog_stop();

    long long got = counter.value;
    bool pass = verify_count("the counter", expected, got);
    trace_write(&info, &opt);

    say(&opt, "Number at the end is %lld\n", got);
    printf("counter %s: %d workers x %ld increments: expected %lld, got %lld (%.3g increments/s)\n",
           opt.variant, opt.workers, opt.n, expected, got, elapsed > 0 ? (double)got / elapsed : 0.0);
    print_result(&info, &opt, pass, elapsed, "expected=%lld got=%lld per_worker=%s", expected, got,
                 per_worker_text(counter.per_worker, opt.workers));
    free(counter.per_worker);
    omp_destroy_lock(&counter.lock);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
