/*
 * labs/posix/cancel.c - exercise skeleton, generated from posix/cancel.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=posix/cancel
 * Start again from the skeleton: make lab-reset EX=posix/cancel
 */
/*
 * posix/cancel.c - the notebook's "processes are killable, threads are not": W workers run
 * endless CPU-bound loops; after -n milliseconds main stops them from outside, confirms each is
 * gone and reports how long that took.
 *
 * Python:  p = Process(target=endless); p.start(); ...; p.terminate(); p.join()   # works
 *          threading.Thread has no terminate(): a `while True` thread can only be made a daemon,
 *          which dies with the whole program
 *
 *   process  fork; kill(pid, SIGTERM), SIGKILL for any worker still alive after a grace period,
 *            and waitpid confirms each death. The kernel stops a process wherever it is: the
 *            loop needs no cooperation at all.
 *   thread   pthread_cancel(). It only *requests* a stop: with the default (deferred) type the
 *            thread acts on it at its next cancellation point, here pthread_testcancel() after
 *            every batch of work (sleep, read, write and other blocking calls are also such
 *            points). Delete that call and the loop below has no cancellation point: the
 *            request waits forever and so does pthread_join. That is C's face of "threads are
 *            not killable": there is no way to stop one thread from outside. pthread_kill(t,
 *            SIGKILL) kills the whole process; PTHREAD_CANCEL_ASYNCHRONOUS may stop a thread at
 *            any instruction, so it is allowed only in code that takes no lock and allocates
 *            nothing (even printf is off limits), and a thread holding a lock when it is
 *            stopped would leave it locked forever.
 * Observe: stop_latency_s, the time from the stop request until every worker is confirmed gone.
 *
 * Run:  ./posix/cancel
 *       ./posix/cancel -n 500 -w 4 --variant thread
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/harness.h"
#include "../../common/workers.h"

/* How long a worker may take to die of SIGTERM before it gets SIGKILL. */
enum { GRACE_MS = 1000 };

/* One worker's progress on a cache line of its own, so workers do not slow each other. */
typedef struct {
    _Alignas(64) uint64_t state;
    uint64_t batches;
    int stopped;   /* set by main once waitpid or pthread_join confirmed the stop */
    int ended_by;  /* process: the signal that ended it */
} worker_progress;

/* Everything the run shares. */
typedef struct {
    worker_progress *progress; /* one per worker */
    int worker_count;
    long run_ms;
    double stop_at; /* when the stop was requested */
} stop_run;

static void *thread_worker(void *arg)
{
    worker_progress *mine = arg;
    for (;;) {
        mine->state = work_batch(mine->state);
        mine->batches++;
        /* TODO: a cancellation point, where a cancel request takes effect. Hint: pthread_testcancel() */
    }
    return NULL;
}

/* Where a process worker stores its work (each child has its own copy after fork): volatile,
 * so the compiler must do the work. */
static volatile uint64_t process_result;

static void process_worker(void *shared, int worker)
{
    (void)shared;
    uint64_t state = (uint64_t)worker + 1;
    for (;;) process_result = state = work_batch(state); /* no way out: only a signal ends it */
}

/* After the stop: reaps every child that has ended and returns how many are still alive. Only
 * death by our SIGTERM or SIGKILL counts as stopped; any other end stops the others and exits 3,
 * naming the worker. */
static int reap_stopped(pid_t *pids, worker_progress *progress, int workers)
{
    int alive = 0;
    for (int w = 0; w < workers; w++) {
        if (pids[w] == 0) continue;
        int status;
        pid_t pid = waitpid(pids[w], &status, WNOHANG);
        if (pid < 0) die_errno("waitpid");
        if (pid == 0) {
            alive++;
            continue;
        }
        pids[w] = 0;
        int signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        if (signal_number == SIGTERM || signal_number == SIGKILL) {
            progress[w].ended_by = signal_number;
            progress[w].stopped = 1;
            continue;
        }
        stop_workers(pids, workers);
        if (signal_number == 0)
            die_msg("worker %d (pid %ld) exited with status %d instead of being stopped", w,
                    (long)pid, WEXITSTATUS(status));
        die_msg("worker %d (pid %ld) was killed by signal %d (%s), not by the stop", w,
                (long)pid, signal_number, strsignal(signal_number));
    }
    return alive;
}

/* Sleeps until a child's death is announced (SIGCHLD) or the deadline (now_seconds()) passes. */
static void wait_for_sigchld(const sigset_t *sigchld, double deadline)
{
    double left = deadline - now_seconds();
    if (left < 0) left = 0;
    struct timespec timeout = {.tv_sec = (time_t)left,
                               .tv_nsec = (long)((left - (double)(time_t)left) * 1e9)};
    if (sigtimedwait(sigchld, NULL, &timeout) < 0 && errno != EAGAIN && errno != EINTR)
        die_errno("sigtimedwait");
}

/* process: a worker counts as stopped once waitpid saw it die of our signal. */
static void stop_with_kill(stop_run *run)
{
    int workers = run->worker_count;

    /* SIGCHLD stays pending instead of being delivered, so sigtimedwait can sleep on it
     * (the children inherit the mask, which changes nothing for them). */
    sigset_t sigchld;
    sigemptyset(&sigchld);
    sigaddset(&sigchld, SIGCHLD);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &sigchld, NULL), "pthread_sigmask");
    pid_t *pids = fork_workers(workers, process_worker, NULL);

    /* The run: sleep n ms, but wake for any child that dies early (an error: workers_check
     * exits 3 naming it). A worker never returns, so none can end cleanly either. */
    double deadline = now_seconds() + (double)run->run_ms / 1000.0;
    while (now_seconds() < deadline) {
        wait_for_sigchld(&sigchld, deadline);
        if (workers_check(pids, workers) > 0) {
            stop_workers(pids, workers);
            die_msg("a worker exited with status 0 before it was stopped");
        }
    }

    run->stop_at = now_seconds();
    /* TODO: ask every worker to stop: the kernel ends it wherever it is. Hint: kill(pids[w], SIGTERM) */
    double grace_end = run->stop_at + GRACE_MS / 1000.0;
    int alive;
    while ((alive = reap_stopped(pids, run->progress, workers)) > 0 &&
           now_seconds() < grace_end)
        wait_for_sigchld(&sigchld, grace_end);
    if (alive > 0) { /* SIGTERM can be caught or ignored; SIGKILL cannot */
        for (int w = 0; w < workers; w++)
            /* TODO: a worker still alive after the grace period gets the signal nobody can catch. Hint: SIGKILL */
            (void)0;
        while (reap_stopped(pids, run->progress, workers) > 0)
            wait_for_sigchld(&sigchld, now_seconds() + 1.0);
    }
    CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &sigchld, NULL), "pthread_sigmask");
    free(pids);
}

/* thread: a worker counts as stopped once pthread_join saw it cancelled. */
static void stop_with_pthread_cancel(stop_run *run)
{
    int workers = run->worker_count;
    pthread_t threads[MAX_WORKERS];
    for (int w = 0; w < workers; w++)
        CHECK_RC(pthread_create(&threads[w], NULL, thread_worker, &run->progress[w]),
                 "pthread_create");

    sleep_ms(run->run_ms);

    run->stop_at = now_seconds();
    /* TODO: ask every thread to stop. Hint: pthread_cancel(threads[w]) */
    for (int w = 0; w < workers; w++) {
        void *exit_value;
        CHECK_RC(pthread_join(threads[w], &exit_value), "pthread_join");
        if (exit_value != PTHREAD_CANCELED) die_msg("worker %d ended without being cancelled", w);
        run->progress[w].stopped = 1;
    }
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(stop_run *run);
} variants[] = {
    {{"process", "fork; SIGTERM, SIGKILL after a grace period, waitpid confirms"}, stop_with_kill},
    {{"thread", "pthread_cancel, acted on at pthread_testcancel(); join confirms"},
     stop_with_pthread_cancel},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "cancel",
    .model = "posix",
    .summary = "Stop endless CPU-bound workers from outside: kill processes, cancel threads.",
    VARIANT_TABLE(variants),
    .n_meaning = "milliseconds the workers run before the stop",
    .default_n = 100,
    .max_n = 3600000, /* an hour */
    .default_workers = 2,
};

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    bool processes = variants[opt.variant_index].run == stop_with_kill;
    static worker_progress progress[MAX_WORKERS]; /* static: aligned to its cache lines */
    stop_run run = {.progress = progress, .worker_count = opt.workers, .run_ms = opt.n};
    for (int w = 0; w < opt.workers; w++) run.progress[w].state = (uint64_t)w + 1;
    say(&opt, "starting %d %s running endless loops; stopping them after %ld ms\n", opt.workers,
        processes ? "processes" : "threads", opt.n);

    double start = now_seconds();
    variants[opt.variant_index].run(&run);
    double end = now_seconds();
    double elapsed = end - start, latency = end - run.stop_at;

    int stopped = 0;
    for (int w = 0; w < opt.workers; w++) {
        stopped += run.progress[w].stopped;
        if (processes)
            say(&opt, "worker %d: ended by %s, confirmed by waitpid\n", w,
                run.progress[w].ended_by == SIGKILL ? "SIGKILL after the grace period" : "SIGTERM");
        else
            say(&opt, "worker %d: cancelled after %" PRIu64 " batches of work, confirmed by "
                "pthread_join\n", w, run.progress[w].batches);
    }
    bool pass = verify_count("workers confirmed stopped", opt.workers, stopped);
    printf("stopped %d of %d workers (expected %d), %.6f s after the stop request\n", stopped,
           opt.workers, opt.workers, latency);
    print_result(&info, &opt, pass, elapsed, "stopped=%d stop_latency_s=%.6f", stopped, latency);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
