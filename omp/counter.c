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
 * pause inside their step, so they pause just before it and the pauses overlap.
 *
 * Run:  ./omp/counter
 *       OMP_NUM_THREADS=2 ./omp/counter --variant atomic -n 10000000 --quiet
 *       ./omp/counter --variant lock --delay-ms 10
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"

static const program_info info = {
    .concept = "counter",
    .model = "omp",
    .summary = "W threads add 1 to one shared counter n times each, synchronised: no update is lost.",
    .variants = {{"critical", "#pragma omp critical around each read-modify-write"},
                 {"atomic", "#pragma omp atomic update: no lock"},
                 {"lock", "omp_lock_t set/unset around each step"},
                 {"reduction", "reduction(+:count): private counts, added once at the end"},
                 {NULL, NULL}},
    .n_meaning = "increments per worker",
    .default_n = 100,
    .max_n = 10000000000L,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 0,
};

enum { VARIANT_CRITICAL, VARIANT_ATOMIC, VARIANT_LOCK, VARIANT_REDUCTION };

static long long add_with_critical(int worker_count, long increments, long delay_ms)
{
    long long count = 0;
#pragma omp parallel num_threads(worker_count) default(none) shared(count, increments, delay_ms)
    for (long i = 0; i < increments; i++) {
#pragma omp critical
        {
            long long local_copy = count;
            if (delay_ms > 0) sleep_ms(delay_ms);
            count = local_copy + 1;
        }
    }
    return count;
}

static long long add_with_atomic(int worker_count, long increments, long delay_ms)
{
    long long count = 0;
#pragma omp parallel num_threads(worker_count) default(none) shared(count, increments, delay_ms)
    for (long i = 0; i < increments; i++) {
        if (delay_ms > 0) sleep_ms(delay_ms);
#pragma omp atomic update
        count++;
    }
    return count;
}

static long long add_with_lock(int worker_count, long increments, long delay_ms)
{
    long long count = 0;
    omp_lock_t lock;
    omp_init_lock(&lock);
#pragma omp parallel num_threads(worker_count) default(none) shared(count, lock, increments, delay_ms)
    for (long i = 0; i < increments; i++) {
        omp_set_lock(&lock);
        long long local_copy = count;
        if (delay_ms > 0) sleep_ms(delay_ms);
        count = local_copy + 1;
        omp_unset_lock(&lock);
    }
    omp_destroy_lock(&lock);
    return count;
}

static long long add_with_reduction(int worker_count, long increments, long delay_ms)
{
    long long count = 0;
#pragma omp parallel num_threads(worker_count) default(none) shared(increments, delay_ms) \
    reduction(+ : count)
    for (long i = 0; i < increments; i++) {
        if (delay_ms > 0) sleep_ms(delay_ms);
        count++; /* this thread's private copy */
    }
    return count;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    static long long (*const add_for_variant[])(int, long, long) = {
        [VARIANT_CRITICAL] = add_with_critical, [VARIANT_ATOMIC] = add_with_atomic,
        [VARIANT_LOCK] = add_with_lock, [VARIANT_REDUCTION] = add_with_reduction};
    long long expected = (long long)opt.workers * opt.n;
    say(&opt, "Number at the beginning is %d\n", 0);

    double start = omp_get_wtime();
    long long got = add_for_variant[opt.variant_index](opt.workers, opt.n, opt.delay_ms);
    double elapsed = omp_get_wtime() - start;

    bool pass = verify_count("the counter", expected, got);

    say(&opt, "Number at the end is %lld\n", got);
    printf("counter %s: %d workers x %ld increments: expected %lld, got %lld (%.3g increments/s)\n",
           opt.variant, opt.workers, opt.n, expected, got, elapsed > 0 ? (double)got / elapsed : 0.0);
    print_result(&info, &opt, pass, elapsed, "expected=%lld got=%lld", expected, got);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
