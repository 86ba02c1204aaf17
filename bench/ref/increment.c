/*
 * bench/ref/increment.c - the raw primitives under counter: how many increments per second?
 *
 *   uncontended  each thread increments its own atomic, on its own cache line: the price of
 *                a locked add alone, no sharing
 *   contended    every thread increments one shared atomic: the cache line moves between cores
 *   mutex        pthread_mutex_lock, ++, unlock on one shared counter
 *   spin         pthread_spin_lock, ++, unlock on one shared counter
 * W threads, n increments each, timed from the first thread's start (after a barrier) to the
 * last thread's finish, so thread creation is not counted. counter's locked variants are
 * measured against these: the same primitive with nothing around it.
 *
 * Run:  build/bench/ref/increment -n 1000000 -w 2 --variant contended --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/harness.h"

static const program_info info = {
    .concept = "increment",
    .model = "ref",
    .summary = "Reference: W threads increment n times each: own atomic, shared atomic, mutex, spinlock.",
    VARIANT_DOCS(((const variant_doc[]){{"contended", "atomic_fetch_add on one shared counter"},
                 {"uncontended", "atomic_fetch_add on a counter of the thread's own (own cache line)"},
                 {"mutex", "pthread_mutex_lock; count++; unlock"},
                 {"spin", "pthread_spin_lock; count++; unlock"},
                 {NULL, NULL}})),
    .n_meaning = "increments per thread",
    .default_n = 1000000,
    .max_n = 10000000000L,
    .default_workers = 0,
};

enum { CONTENDED, UNCONTENDED, MUTEX, SPIN };

/* One counter per cache line, so uncontended threads never share a line. */
typedef struct {
    alignas(64) atomic_long value;
} padded_counter;

static struct {
    int variant;
    long increments;
    pthread_barrier_t start_line;
    atomic_long shared_atomic;
    pthread_mutex_t mutex;
    pthread_spinlock_t spin;
    long locked_count;
    padded_counter *own;
    double *began, *ended; /* per thread: after the barrier, after the last increment */
} shared;

static void *increment_worker(void *arg)
{
    long worker = (long)(intptr_t)arg;
    pthread_barrier_wait(&shared.start_line);
    shared.began[worker] = now_seconds();
    for (long k = 0; k < shared.increments; k++) {
        switch (shared.variant) {
        case CONTENDED: atomic_fetch_add(&shared.shared_atomic, 1); break;
        case UNCONTENDED: atomic_fetch_add(&shared.own[worker].value, 1); break;
        case MUTEX:
            CHECK_RC(pthread_mutex_lock(&shared.mutex), "pthread_mutex_lock");
            shared.locked_count++;
            CHECK_RC(pthread_mutex_unlock(&shared.mutex), "pthread_mutex_unlock");
            break;
        default:
            CHECK_RC(pthread_spin_lock(&shared.spin), "pthread_spin_lock");
            shared.locked_count++;
            CHECK_RC(pthread_spin_unlock(&shared.spin), "pthread_spin_unlock");
            break;
        }
    }
    shared.ended[worker] = now_seconds();
    return NULL;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    int worker_count = opt.workers;
    shared.variant = opt.variant_index;
    shared.increments = opt.n;
    shared.own = checked_calloc((size_t)worker_count, sizeof *shared.own);
    shared.began = checked_calloc((size_t)worker_count, sizeof *shared.began);
    shared.ended = checked_calloc((size_t)worker_count, sizeof *shared.ended);
    CHECK_RC(pthread_mutex_init(&shared.mutex, NULL), "pthread_mutex_init");
    CHECK_RC(pthread_spin_init(&shared.spin, PTHREAD_PROCESS_PRIVATE), "pthread_spin_init");
    CHECK_RC(pthread_barrier_init(&shared.start_line, NULL, (unsigned)worker_count + 1),
             "pthread_barrier_init");

    pthread_t *threads = checked_malloc((size_t)worker_count, sizeof *threads);
    for (long w = 0; w < worker_count; w++)
        CHECK_RC(pthread_create(&threads[w], NULL, increment_worker, (void *)(intptr_t)w),
                 "pthread_create");
    pthread_barrier_wait(&shared.start_line);
    for (int w = 0; w < worker_count; w++) CHECK_RC(pthread_join(threads[w], NULL), "pthread_join");
    /* First start to last finish, as the threads saw it: on a busy machine main may be
     * scheduled late after the barrier, and its own clock would miss part of the work. */
    double first_start = shared.began[0], last_end = shared.ended[0];
    for (int w = 1; w < worker_count; w++) {
        if (shared.began[w] < first_start) first_start = shared.began[w];
        if (shared.ended[w] > last_end) last_end = shared.ended[w];
    }
    double elapsed = last_end - first_start;

    long long got = shared.locked_count + atomic_load(&shared.shared_atomic);
    for (int w = 0; w < worker_count; w++) got += atomic_load(&shared.own[w].value);
    long long expected = (long long)worker_count * opt.n;
    bool pass = verify_count("increments", expected, got);
    printf("increment %s: %lld of %lld by %d threads in %.6f s\n", opt.variant, got, expected,
           worker_count, elapsed);
    print_result(&info, &opt, pass, elapsed, "expected=%lld got=%lld", expected, got);

    CHECK_RC(pthread_barrier_destroy(&shared.start_line), "pthread_barrier_destroy");
    CHECK_RC(pthread_spin_destroy(&shared.spin), "pthread_spin_destroy");
    CHECK_RC(pthread_mutex_destroy(&shared.mutex), "pthread_mutex_destroy");
    free(threads);
    free(shared.ended);
    free(shared.began);
    free(shared.own);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
