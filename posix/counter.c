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
 *   process  fork()ed workers (run_processes); the counter and a PTHREAD_PROCESS_SHARED mutex
 *            live in a MAP_SHARED mapping (the notebook's Value('i', 0) and Lock())
 * Observe: compare increments per second with -n 10000000 --quiet (atomic fastest; spin beats
 * mutex with 2 threads on 2 cores and loses badly with more threads than cores). With
 * --delay-ms D the pause sits inside the locked step, so the workers take turns and a run lasts
 * W * n * D ms; an atomic step cannot hold a pause, so atomic pauses just before its step.
 * A run that outlasts a bound scaled to its steps (a lock never given back) is exit 3 naming
 * the count it reached.
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
#include "../common/trace.h"
#include "../common/workers.h"

/* Everything the workers share. It lives in a MAP_SHARED mapping: forked workers (process) see
 * the parent's memory only there, and the threads do not mind. */
typedef struct {
    long long value;               /* mutex, spin, process; atomic copies its total here */
    atomic_llong atomic_value;     /* atomic */
    pthread_mutex_t mutex;         /* mutex: the Lock of the threads of one process */
    pthread_spinlock_t spin;       /* spin */
    pthread_mutex_t process_mutex; /* process: PTHREAD_PROCESS_SHARED, multiprocessing's Lock */
    long long *per_worker;         /* increments each worker made (shared: forked ones too) */
    int worker_count;
    long increments;
    long delay_ms;
} shared_counter;

/* The race's loop body between pthread_mutex_lock and unlock: mutex and process. --trace shows
 * each step as "lock wait" (in pthread_mutex_lock) and "lock hold" (read, pause, write; the
 * hold's span ends before the unlock, so two workers' holds never overlap in the picture). */
static void add_under(pthread_mutex_t *mutex, shared_counter *counter, int worker)
{
    long i;
    for (i = 0; i < counter->increments; i++) {
        double waiting = trace_begin();
        /* LAB: take the mutex before the read. Hint: pthread_mutex_lock(mutex), checked with CHECK_RC */
        CHECK_RC(pthread_mutex_lock(mutex), "pthread_mutex_lock");
        /* LAB END, skeleton: (void)mutex; */
        double holding = trace_begin();
        trace_span(worker, "lock wait", waiting, i, TRACE_NONE);
        long long local_copy = counter->value;
        if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
        counter->value = local_copy + 1;
        trace_span(worker, "lock hold", holding, local_copy, local_copy + 1); /* read, wrote */
        /* LAB: give the mutex back after the write. Hint: pthread_mutex_unlock */
        CHECK_RC(pthread_mutex_unlock(mutex), "pthread_mutex_unlock");
        /* LAB END */
    }
    counter->per_worker[worker] = i; /* the steps this worker made */
}

/* What each worker runs: worker is its number, 0..W-1 (its trace track, its per_worker entry). */
static void mutex_worker(void *shared, int worker)
{
    shared_counter *counter = shared;
    add_under(&counter->mutex, counter, worker);
}

static void spin_worker(void *shared, int worker)
{
    shared_counter *counter = shared;
    long i;
    for (i = 0; i < counter->increments; i++) {
        double waiting = trace_begin();
        /* LAB: spin until the step is yours. Hint: pthread_spin_lock(&counter->spin) */
        CHECK_RC(pthread_spin_lock(&counter->spin), "pthread_spin_lock");
        /* LAB END */
        double holding = trace_begin();
        trace_span(worker, "lock wait", waiting, i, TRACE_NONE);
        long long local_copy = counter->value;
        if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
        counter->value = local_copy + 1;
        trace_span(worker, "lock hold", holding, local_copy, local_copy + 1); /* read, wrote */
        /* LAB: free the spinlock after the write. Hint: pthread_spin_unlock */
        CHECK_RC(pthread_spin_unlock(&counter->spin), "pthread_spin_unlock");
        /* LAB END */
    }
    counter->per_worker[worker] = i;
}

static void atomic_worker(void *shared, int worker)
{
    shared_counter *counter = shared;
    long i;
    for (i = 0; i < counter->increments; i++) {
        if (counter->delay_ms > 0) sleep_ms(counter->delay_ms);
        double adding = trace_begin();
        /* LAB: add one to counter->atomic_value in one indivisible step. Hint: atomic_fetch_add */
        atomic_fetch_add(&counter->atomic_value, 1);
        /* LAB END */
        trace_span(worker, "atomic add", adding, i, TRACE_NONE);
    }
    counter->per_worker[worker] = i;
}

static void process_worker(void *shared, int worker)
{
    shared_counter *counter = shared;
    add_under(&counter->process_mutex, counter, worker);
}

/* ---- the watchdog: a lock never given back must not hang the run ----
 * A worker that never unlocks leaves the others waiting to lock and main waiting in
 * pthread_join (or waitpid) for ever: joins with no bound of their own. The harness's watchdog
 * bounds the run instead, by a limit that grows with the steps and their pauses. */
static double counting_bound_s(const shared_counter *counter)
{
    double steps = (double)counter->worker_count * (double)counter->increments;
    return 10.0 + steps * (1e-4 + (double)counter->delay_ms / 1000.0);
}

static void describe_counting(const void *state, char *text, size_t size)
{
    const shared_counter *counter = state;
    long long value = counter->value + atomic_load(&counter->atomic_value); /* one is still 0 */
    snprintf(text, size, "join: the counter is %lld of %lld", value,
             (long long)counter->worker_count * counter->increments);
}

/* The variants: W threads (run_threads: pthread_create, pthread_join) or W forked processes
 * (run_processes: fork, waitpid; each child leaves with _exit), each running one worker. */
static void add_with_mutex(shared_counter *counter)
{
    run_threads(counter->worker_count, mutex_worker, counter);
}

static void add_with_spin(shared_counter *counter)
{
    run_threads(counter->worker_count, spin_worker, counter);
}

static void add_with_atomic(shared_counter *counter)
{
    run_threads(counter->worker_count, atomic_worker, counter);
    counter->value = atomic_load(&counter->atomic_value); /* every worker is joined: read once */
}

static void add_with_process(shared_counter *counter)
{
    run_processes(counter->worker_count, process_worker, counter);
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(shared_counter *counter);
} variants[] = {
    {{"mutex", "threads, pthread_mutex_t around each read-modify-write"}, add_with_mutex},
    {{"spin", "threads, pthread_spinlock_t (busy-waits) around each step"}, add_with_spin},
    {{"atomic", "threads, C11 atomic_fetch_add: no lock"}, add_with_atomic},
    {{"process", "fork()ed workers, counter + process-shared mutex in shared memory"},
     add_with_process},
    {{NULL, NULL}, NULL}};

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

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    /* A forked child's memory is its own copy: the counter must be in a shared mapping. */
    shared_counter *counter = shared_alloc(sizeof *counter);
    counter->value = 0;
    atomic_init(&counter->atomic_value, 0);
    counter->worker_count = opt.workers;
    counter->increments = opt.n;
    counter->delay_ms = opt.delay_ms;
    counter->per_worker = shared_alloc((size_t)opt.workers * sizeof *counter->per_worker);
    CHECK_RC(pthread_mutex_init(&counter->mutex, NULL), "pthread_mutex_init");
    CHECK_RC(pthread_spin_init(&counter->spin, PTHREAD_PROCESS_PRIVATE), "pthread_spin_init");
    /* The notebook's multiprocessing.Lock: a mutex that works across processes. */
    pthread_mutexattr_t mutex_attr;
    CHECK_RC(pthread_mutexattr_init(&mutex_attr), "pthread_mutexattr_init");
    CHECK_RC(pthread_mutexattr_setpshared(&mutex_attr, PTHREAD_PROCESS_SHARED),
             "pthread_mutexattr_setpshared");
    CHECK_RC(pthread_mutex_init(&counter->process_mutex, &mutex_attr), "pthread_mutex_init");
    CHECK_RC(pthread_mutexattr_destroy(&mutex_attr), "pthread_mutexattr_destroy");
    long long expected = (long long)opt.workers * opt.n;
    say(&opt, "Number at the beginning is %lld\n", counter->value);
    trace_open(&opt, opt.workers); /* before the threads or children start: they share it */

    watchdog_start(counting_bound_s(counter), describe_counting, counter);

    double start = now_seconds();
    variants[opt.variant_index].run(counter);
    double elapsed = now_seconds() - start;

    watchdog_stop();

    long long got = counter->value;
    bool pass = verify_count("the counter", expected, got);
    trace_write(&info, &opt);

    say(&opt, "Number at the end is %lld\n", got);
    printf("counter %s: %d workers x %ld increments: expected %lld, got %lld (%.3g increments/s)\n",
           opt.variant, opt.workers, opt.n, expected, got, elapsed > 0 ? (double)got / elapsed : 0.0);
    print_result(&info, &opt, pass, elapsed, "expected=%lld got=%lld per_worker=%s", expected, got,
                 per_worker_text(counter->per_worker, opt.workers));
    CHECK_RC(pthread_mutex_destroy(&counter->process_mutex), "pthread_mutex_destroy");
    CHECK_RC(pthread_spin_destroy(&counter->spin), "pthread_spin_destroy");
    CHECK_RC(pthread_mutex_destroy(&counter->mutex), "pthread_mutex_destroy");
    shared_free(counter->per_worker, (size_t)opt.workers * sizeof *counter->per_worker);
    shared_free(counter, sizeof *counter);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
