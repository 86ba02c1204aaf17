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
 *   thread   W pthreads share a plain `long` in this process's memory
 *   process  W forked workers share it in a MAP_SHARED mapping (multiprocessing's Value
 *            without its lock): the race is the same across processes
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
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS (glibc hides it from plain POSIX) */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/harness.h"

static const program_info info = {
    .concept = "race",
    .model = "posix",
    .summary = "W workers add 1 to a shared counter n times each with NO lock: read, pause, write.",
    .variants = {{"thread", "pthreads share a plain long"},
                 {"process", "fork()ed workers share a long in a MAP_SHARED mapping"},
                 {NULL, NULL}},
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

enum { VARIANT_THREAD, VARIANT_PROCESS };

/* Everything the workers share. For process it sits in a MAP_SHARED mapping. */
typedef struct {
    long value; /* the notebook's database_value: read and written with no lock */
    pthread_barrier_t start_line;
    long increments;
    long delay_ms;
} shared_state;

/* The notebook's increase(), n times. The race: between this worker's read and its write,
 * another worker reads the same old value, and one of the two writes is lost. */
static void increase(shared_state *state)
{
    int rc = pthread_barrier_wait(&state->start_line);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) die_code("pthread_barrier_wait", rc);
    /* volatile: the compiler must read and write memory every time, as the notebook does,
     * instead of adding n at once. It orders nothing between threads: the race stays. */
    volatile long *value = &state->value;
    for (long i = 0; i < state->increments; i++) {
        long local_copy = *value;
        local_copy += 1;
        if (state->delay_ms > 0) sleep_ms(state->delay_ms);
        *value = local_copy;
    }
}

static void *thread_worker(void *arg)
{
    increase(arg);
    return NULL;
}

static void run_threads(int worker_count, shared_state *state)
{
    pthread_t *threads = checked_malloc((size_t)worker_count, sizeof *threads);
    for (int w = 0; w < worker_count; w++)
        CHECK_RC(pthread_create(&threads[w], NULL, thread_worker, state), "pthread_create");
    for (int w = 0; w < worker_count; w++) CHECK_RC(pthread_join(threads[w], NULL), "pthread_join");
    free(threads);
}

/* Kills and reaps the children still running: no child outlives the program. */
static void stop_children(pid_t *pids, int worker_count)
{
    for (int w = 0; w < worker_count; w++)
        if (pids[w] > 0) kill(pids[w], SIGKILL);
    for (int w = 0; w < worker_count; w++)
        if (pids[w] > 0) waitpid(pids[w], NULL, 0);
}

/* Reaps every child. One that was killed or failed leaves the others waiting at the barrier
 * forever: stop them and end the program (exit 3) instead. */
static void join_children(pid_t *pids, int worker_count)
{
    for (int joined = 0; joined < worker_count; joined++) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR) {
            joined--;
            continue;
        }
        if (pid < 0) die_errno("waitpid");
        int worker = 0;
        while (worker < worker_count && pids[worker] != pid) worker++;
        if (worker == worker_count) continue; /* not one of ours */
        pids[worker] = 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
        stop_children(pids, worker_count);
        if (WIFSIGNALED(status))
            die_msg("worker %d (pid %d) was killed by signal %d (%s)", worker, (int)pid,
                    WTERMSIG(status), strsignal(WTERMSIG(status)));
        die_msg("worker %d (pid %d) exited with status %d", worker, (int)pid, WEXITSTATUS(status));
    }
}

/* state must be in a MAP_SHARED mapping: a child's ordinary memory is its own copy. */
static void run_processes(int worker_count, shared_state *state)
{
    pid_t *pids = checked_calloc((size_t)worker_count, sizeof *pids);
    fflush(stdout); /* or each child would print the parent's unflushed output again */
    for (int w = 0; w < worker_count; w++) {
        pid_t pid = fork();
        if (pid < 0) {
            int fork_errno = errno;
            stop_children(pids, worker_count);
            die_code("fork", fork_errno);
        }
        if (pid == 0) {
            increase(state);
            _exit(EXIT_PASS);
        }
        pids[w] = pid;
    }
    join_children(pids, worker_count);
    free(pids);
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    shared_state *state = mmap(NULL, sizeof *state, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (state == MAP_FAILED) die_errno("mmap");
    state->value = 0;
    state->increments = opt.n;
    state->delay_ms = opt.delay_ms;
    pthread_barrierattr_t barrier_attr;
    CHECK_RC(pthread_barrierattr_init(&barrier_attr), "pthread_barrierattr_init");
    CHECK_RC(pthread_barrierattr_setpshared(&barrier_attr, opt.variant_index == VARIANT_PROCESS
                                                               ? PTHREAD_PROCESS_SHARED
                                                               : PTHREAD_PROCESS_PRIVATE),
             "pthread_barrierattr_setpshared");
    CHECK_RC(pthread_barrier_init(&state->start_line, &barrier_attr, (unsigned)opt.workers),
             "pthread_barrier_init");
    CHECK_RC(pthread_barrierattr_destroy(&barrier_attr), "pthread_barrierattr_destroy");

    long expected = opt.workers * opt.n;
    say(&opt, "start value %ld\n", state->value);

    double start = now_seconds();
    if (opt.variant_index == VARIANT_PROCESS)
        run_processes(opt.workers, state);
    else
        run_threads(opt.workers, state);
    double elapsed = now_seconds() - start;

    long got = state->value;
    long lost = expected - got;
    /* A demonstration, not a computation: losing updates is the point. It fails only if it
     * invented updates (got > expected) or kept none at all. */
    bool pass = opt.n == 0 ? verify_count("the counter", 0, got)
                           : (got >= 1 && got <= expected);
    if (!pass && opt.n > 0)
        fprintf(stderr, "%s: end value %ld is outside 1..%ld\n", program_name(), got, expected);

    say(&opt, "end value %ld\n", got);
    say(&opt, "end main\n");
    printf("race %s (no lock, wrong on purpose): expected %ld, got %ld, %ld update%s lost\n",
           opt.variant, expected, got, lost, lost == 1 ? "" : "s");
    print_result(&info, &opt, pass, elapsed, "expected=%ld got=%ld lost=%ld", expected, got, lost);
    CHECK_RC(pthread_barrier_destroy(&state->start_line), "pthread_barrier_destroy");
    if (munmap(state, sizeof *state) != 0) die_errno("munmap");
    return pass ? EXIT_PASS : EXIT_FAIL;
}
