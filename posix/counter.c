/*
 * posix/counter.c - the notebook's Lock, and its Value + Lock with add100: the lost update of
 * posix/race made correct, with pthreads and with fork.
 *
 * Python:  with lock:                      # read, add one, write: one step nobody can split
 *              number.value += 1           -> Number at the end is 200
 *
 * W workers each add 1 to one shared counter n times; every read-modify-write step is made
 * indivisible, so no update is lost and the end value is exactly W * n.
 *   mutex    pthread_mutex_t around the step: a thread that finds it taken sleeps in the kernel
 *   spin     pthread_spinlock_t: a thread that finds it taken spins on its core until it frees
 *   atomic   C11 atomic_fetch_add: the step is one indivisible instruction, no lock at all
 *   process  fork()ed workers; the counter and a PTHREAD_PROCESS_SHARED mutex live in a
 *            MAP_SHARED mapping (the notebook's Value('i', 0) and Lock())
 * Observe: compare increments per second with -n 10000000 --quiet (atomic fastest; spin beats
 * mutex with 2 threads on 2 cores and loses badly with more threads than cores). With
 * --delay-ms D the pause sits inside the locked step, so the workers take turns and a run lasts
 * W * n * D ms; an atomic step cannot hold a pause, so atomic pauses just before its step.
 *
 * Run:  ./posix/counter
 *       ./posix/counter --variant spin -n 10000000 --quiet
 *       ./posix/counter --variant process --delay-ms 10
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/workers.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"mutex", "threads, pthread_mutex_t around each read-modify-write"}},
    {{"spin", "threads, pthread_spinlock_t (busy-waits) around each step"}},
    {{"atomic", "threads, C11 atomic_fetch_add: no lock"}},
    {{"process", "fork()ed workers, counter + process-shared mutex in shared memory"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "counter",
    .model = "posix",
    .summary = "W workers add 1 to one shared counter n times each, with a lock: no update is lost.",
    VARIANT_TABLE(variants),
    .n_meaning = "increments per worker",
    .default_n = 100,
    .max_n = 10000000000L,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 0,
};

enum { VARIANT_MUTEX, VARIANT_SPIN, VARIANT_ATOMIC, VARIANT_PROCESS };

/* Everything the workers share. For process it sits in a MAP_SHARED mapping. */
typedef struct {
    long long value;           /* mutex, spin, process */
    atomic_llong atomic_value; /* atomic */
    pthread_mutex_t mutex;
    pthread_spinlock_t spin;
    long increments;
    long delay_ms;
    int variant;
} shared_counter;

static void add_with_mutex(shared_counter *counter)
{
    for (long i = 0; i < counter->increments; i++) {
        CHECK_RC(pthread_mutex_lock(&counter->mutex), "pthread_mutex_lock");
        long long local_copy = counter->value;
        if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
        counter->value = local_copy + 1;
        CHECK_RC(pthread_mutex_unlock(&counter->mutex), "pthread_mutex_unlock");
    }
}

static void add_with_spin(shared_counter *counter)
{
    for (long i = 0; i < counter->increments; i++) {
        CHECK_RC(pthread_spin_lock(&counter->spin), "pthread_spin_lock");
        long long local_copy = counter->value;
        if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
        counter->value = local_copy + 1;
        CHECK_RC(pthread_spin_unlock(&counter->spin), "pthread_spin_unlock");
    }
}

static void add_with_atomic(shared_counter *counter)
{
    for (long i = 0; i < counter->increments; i++) {
        if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
        atomic_fetch_add(&counter->atomic_value, 1);
    }
}

/* What every worker runs: process workers take the process-shared mutex. */
static void counter_worker(void *shared, int worker)
{
    (void)worker; /* every worker does the same */
    shared_counter *counter = shared;
    if (counter->variant == VARIANT_SPIN) add_with_spin(counter);
    else if (counter->variant == VARIANT_ATOMIC) add_with_atomic(counter);
    else add_with_mutex(counter);
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    /* A forked child's memory is its own copy: the counter must be in a shared mapping. */
    shared_counter *counter = shared_alloc(sizeof *counter);
    counter->value = 0;
    atomic_init(&counter->atomic_value, 0);
    counter->increments = opt.n;
    counter->delay_ms = opt.delay_ms;
    counter->variant = opt.variant_index;
    pthread_mutexattr_t mutex_attr;
    CHECK_RC(pthread_mutexattr_init(&mutex_attr), "pthread_mutexattr_init");
    /* The notebook's multiprocessing.Lock: a mutex that works across processes. */
    CHECK_RC(pthread_mutexattr_setpshared(&mutex_attr, opt.variant_index == VARIANT_PROCESS
                                                           ? PTHREAD_PROCESS_SHARED
                                                           : PTHREAD_PROCESS_PRIVATE),
             "pthread_mutexattr_setpshared");
    CHECK_RC(pthread_mutex_init(&counter->mutex, &mutex_attr), "pthread_mutex_init");
    CHECK_RC(pthread_mutexattr_destroy(&mutex_attr), "pthread_mutexattr_destroy");
    CHECK_RC(pthread_spin_init(&counter->spin, PTHREAD_PROCESS_PRIVATE), "pthread_spin_init");

    long long expected = (long long)opt.workers * opt.n;
    say(&opt, "Number at the beginning is %lld\n", counter->value);

    double start = now_seconds();
    if (opt.variant_index == VARIANT_PROCESS)
        run_processes(opt.workers, counter_worker, counter);
    else
        run_threads(opt.workers, counter_worker, counter);
    double elapsed = now_seconds() - start;

    long long got = opt.variant_index == VARIANT_ATOMIC ? atomic_load(&counter->atomic_value)
                                                        : counter->value;
    bool pass = verify_count("the counter", expected, got);

    say(&opt, "Number at the end is %lld\n", got);
    printf("counter %s: %d workers x %ld increments: expected %lld, got %lld (%.3g increments/s)\n",
           opt.variant, opt.workers, opt.n, expected, got, elapsed > 0 ? (double)got / elapsed : 0.0);
    print_result(&info, &opt, pass, elapsed, "expected=%lld got=%lld", expected, got);
    CHECK_RC(pthread_spin_destroy(&counter->spin), "pthread_spin_destroy");
    CHECK_RC(pthread_mutex_destroy(&counter->mutex), "pthread_mutex_destroy");
    shared_free(counter, sizeof *counter);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
