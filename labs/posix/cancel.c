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
 * Observe: stop_latency_s, the time from the stop request until every worker is confirmed gone;
 * per_worker, the batches of work each worker did before it stopped. --trace shows each worker's
 * "work" span, main's "stop request" and each worker's "stopped" (thread: its cleanup handler,
 * run as it acts on the request; process: main's waitpid that confirmed the death).
 * A worker that never stops is exit 3 naming it, STOP_WAIT_MS after the request, never a hang.
 *
 * Run:  ./posix/cancel
 *       ./posix/cancel -n 500 -w 4 --variant thread
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/harness.h"
#include "../../common/trace.h"
#include "../../common/workers.h"

/* How long a worker may take to die of SIGTERM before it gets SIGKILL. */
enum { GRACE_MS = 1000 };
/* A stop takes microseconds (one batch of work at most): a worker not gone this long after the
 * request (thread) or after SIGKILL (process) never will be, and the program exits 3 naming it. */
enum { STOP_WAIT_MS = 5000 };

/* One worker's progress on a cache line of its own, so workers do not slow each other. */
typedef struct {
    _Alignas(64) uint64_t state;
    uint64_t batches;
    int stopped;   /* set by main once waitpid or pthread_join confirmed the stop */
    int ended_by;  /* process: the signal that ended it */
    int worker;    /* its number, for --trace */
    double started; /* --trace: when its work began */
    sem_t *acted;  /* thread: posted by its cleanup handler, as it acts on the cancel */
} worker_progress;

/* Everything the run shares. */
typedef struct {
    worker_progress *progress; /* one per worker */
    int worker_count;
    long run_ms;
    double stop_at; /* when the stop was requested */
    sem_t acted;    /* thread: one post per worker that acted on its cancel request */
} stop_run;

/* The thread's cleanup handler: it runs in the worker when the worker acts on the cancel
 * request, as the thread unwinds, so main can wait for it with a bound (pthread_join has none). */
static void note_stop(void *arg)
{
    worker_progress *mine = arg;
    trace_span(mine->worker, "work", mine->started, (long)mine->batches, TRACE_NONE);
    trace_instant(mine->worker, "stopped", (long)mine->batches, TRACE_NONE);
    if (sem_post(mine->acted) != 0) die_errno("sem_post");
}

static void *thread_worker(void *arg)
{
    worker_progress *mine = arg;
    mine->started = trace_begin();
    pthread_cleanup_push(note_stop, mine);
    for (;;) {
        mine->state = work_batch(mine->state);
        mine->batches++;
        /* TODO: a cancellation point, where a cancel request takes effect. Hint: pthread_testcancel() */
    }
    pthread_cleanup_pop(0); /* never reached: the loop ends only by the cancel */
    return NULL;
}

/* A process worker's progress sits in a MAP_SHARED mapping, so main reads its batches after
 * its death. volatile: every batch is stored, the compiler may not keep the count in a register
 * of a loop that never ends. */
static void process_worker(void *shared, int worker)
{
    volatile worker_progress *mine = &((worker_progress *)shared)[worker];
    for (;;) { /* no way out: only a signal ends it */
        mine->state = work_batch(mine->state);
        mine->batches++;
    }
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
            trace_span(w, "work", progress[w].started, (long)progress[w].batches, TRACE_NONE);
            trace_instant(w, "stopped", (long)progress[w].batches, signal_number);
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
    double started = trace_begin();
    for (int w = 0; w < workers; w++) run->progress[w].started = started;
    pid_t *pids = fork_workers(workers, process_worker, run->progress);

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
    trace_instant(TRACE_MAIN, "stop request", TRACE_NONE, TRACE_NONE);
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
        double kill_end = now_seconds() + STOP_WAIT_MS / 1000.0;
        while ((alive = reap_stopped(pids, run->progress, workers)) > 0) {
            if (now_seconds() >= kill_end) { /* the children die with us (PR_SET_PDEATHSIG) */
                die_msg("stop: timed out after %d s: %d of %d workers still alive after SIGKILL",
                        STOP_WAIT_MS / 1000, alive, workers);
            }
            wait_for_sigchld(&sigchld, kill_end);
        }
    }
    CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &sigchld, NULL), "pthread_sigmask");
    free(pids);
}

/* The bound pthread_join lacks: every worker's cleanup handler posts `acted` as it acts on the
 * cancel; a worker that never reaches a cancellation point is exit 3 here, not a hang. */
static void wait_until_acted(sem_t *acted, int workers)
{
    struct timespec deadline;
    if (clock_gettime(CLOCK_REALTIME, &deadline) != 0) die_errno("clock_gettime");
    deadline.tv_sec += STOP_WAIT_MS / 1000;
    for (int done = 0; done < workers;) {
        if (sem_timedwait(acted, &deadline) == 0)
            done++;
        else if (errno == ETIMEDOUT)
            die_msg("join: timed out after %d s: %d of %d threads have not acted on "
                    "pthread_cancel (no cancellation point in their loop?)",
                    STOP_WAIT_MS / 1000, workers - done, workers);
        else if (errno != EINTR)
            die_errno("sem_timedwait");
    }
}

/* thread: a worker counts as stopped once pthread_join saw it cancelled. */
static void stop_with_pthread_cancel(stop_run *run)
{
    int workers = run->worker_count;
    pthread_t threads[MAX_WORKERS];
    if (sem_init(&run->acted, 0, 0) != 0) die_errno("sem_init");
    for (int w = 0; w < workers; w++) run->progress[w].acted = &run->acted;
    for (int w = 0; w < workers; w++)
        CHECK_RC(pthread_create(&threads[w], NULL, thread_worker, &run->progress[w]),
                 "pthread_create");

    sleep_ms(run->run_ms);

    run->stop_at = now_seconds();
    trace_instant(TRACE_MAIN, "stop request", TRACE_NONE, TRACE_NONE);
    /* TODO: ask every thread to stop. Hint: pthread_cancel(threads[w]) */
    wait_until_acted(&run->acted, workers);
    for (int w = 0; w < workers; w++) {
        void *exit_value;
        CHECK_RC(pthread_join(threads[w], &exit_value), "pthread_join");
        if (exit_value != PTHREAD_CANCELED) die_msg("worker %d ended without being cancelled", w);
        run->progress[w].stopped = 1;
    }
    if (sem_destroy(&run->acted) != 0) die_errno("sem_destroy");
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
    /* Shared with forked workers (their batches), page-aligned, so each record has its own
     * cache line; threads need no sharing but use the same memory. */
    size_t progress_bytes = (size_t)opt.workers * sizeof(worker_progress);
    stop_run run = {.progress = shared_alloc(progress_bytes), .worker_count = opt.workers,
                    .run_ms = opt.n};
    for (int w = 0; w < opt.workers; w++) {
        run.progress[w].state = (uint64_t)w + 1;
        run.progress[w].worker = w;
    }
    say(&opt, "starting %d %s running endless loops; stopping them after %ld ms\n", opt.workers,
        processes ? "processes" : "threads", opt.n);
    trace_open(&opt, opt.workers);

    double start = now_seconds();
    variants[opt.variant_index].run(&run);
    double end = now_seconds();
    double elapsed = end - start, latency = end - run.stop_at;

    int stopped = 0;
    long long batches[MAX_WORKERS];
    for (int w = 0; w < opt.workers; w++) {
        stopped += run.progress[w].stopped;
        batches[w] = (long long)run.progress[w].batches;
        if (processes)
            say(&opt, "worker %d: ended by %s after %" PRIu64 " batches of work, confirmed by "
                "waitpid\n", w, run.progress[w].ended_by == SIGKILL
                                   ? "SIGKILL after the grace period" : "SIGTERM",
                run.progress[w].batches);
        else
            say(&opt, "worker %d: cancelled after %" PRIu64 " batches of work, confirmed by "
                "pthread_join\n", w, run.progress[w].batches);
    }
    bool pass = verify_count("workers confirmed stopped", opt.workers, stopped);
    trace_write(&info, &opt);
    printf("stopped %d of %d workers (expected %d), %.6f s after the stop request\n", stopped,
           opt.workers, opt.workers, latency);
    print_result(&info, &opt, pass, elapsed, "stopped=%d stop_latency_s=%.6f per_worker=%s",
                 stopped, latency, per_worker_text(batches, opt.workers));
    shared_free(run.progress, progress_bytes);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
