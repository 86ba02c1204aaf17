/*
 * bench/ref/spawn.c - the floor under spawn: what does the OS charge to start and join a worker?
 *
 *   thread   pthread_create + pthread_join of W threads that return at once
 *   process  fork + waitpid of W children that _exit(0) at once
 * Repeated for -n rounds in one run, so the per-worker cost is an average over many starts
 * (one start is a few microseconds, below the clock's noise). Nothing else is timed: no work,
 * no shared memory, no result to report back. spawn's own figures sit above these by what
 * the program adds (and, for processes, by how much memory the parent has to copy-map).
 *
 * Run:  build/bench/ref/spawn -n 200 -w 2 --variant process --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/harness.h"

static const program_info info = {
    .concept = "spawn",
    .model = "ref",
    .summary = "Reference: raw pthread_create+join or fork+waitpid of W empty workers, n rounds.",
    VARIANT_DOCS(((const variant_doc[]){{"thread", "pthread_create + pthread_join, empty thread body"},
                 {"process", "fork + waitpid, the child calls _exit(0) at once"},
                 {NULL, NULL}})),
    .n_meaning = "rounds: each starts and joins W workers",
    .default_n = 100,
    .max_n = 1000000,
    .default_workers = 0,
};

static void *empty_worker(void *arg) { return arg; }

static void thread_round(pthread_t *threads, int worker_count)
{
    for (int w = 0; w < worker_count; w++)
        CHECK_RC(pthread_create(&threads[w], NULL, empty_worker, NULL), "pthread_create");
    for (int w = 0; w < worker_count; w++) CHECK_RC(pthread_join(threads[w], NULL), "pthread_join");
}

/* Returns the number of children that exited 0. */
static int process_round(pid_t *children, int worker_count)
{
    int clean_exits = 0;
    fflush(stdout); /* nothing buffered may be written twice */
    for (int w = 0; w < worker_count; w++) {
        children[w] = fork();
        if (children[w] < 0) die_errno("fork");
        if (children[w] == 0) _exit(0);
    }
    for (int w = 0; w < worker_count; w++) {
        int status;
        if (waitpid(children[w], &status, 0) < 0) die_errno("waitpid");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) clean_exits++;
    }
    return clean_exits;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    int worker_count = opt.workers;
    long rounds = opt.n;
    pthread_t *threads = checked_malloc((size_t)worker_count, sizeof *threads);
    pid_t *children = checked_malloc((size_t)worker_count, sizeof *children);
    long joined = 0;

    double start = now_seconds();
    for (long r = 0; r < rounds; r++) {
        if (opt.variant_index == 0) {
            thread_round(threads, worker_count);
            joined += worker_count;
        } else {
            joined += process_round(children, worker_count);
        }
    }
    double elapsed = now_seconds() - start;

    long expected = rounds * worker_count;
    bool pass = verify_count("workers started and joined", expected, joined);
    double per_worker = expected > 0 ? elapsed / (double)expected : 0.0;
    printf("spawn %s: %ld of %ld workers joined (expected %ld); create+join %.1f us per worker\n",
           opt.variant, joined, expected, expected, per_worker * 1e6);
    print_result(&info, &opt, pass, elapsed, "ran=%ld create_join_s=%.9f", joined, per_worker);
    free(children);
    free(threads);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
