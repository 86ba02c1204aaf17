/*
 * omp/cancel.c - the notebook's "processes are killable, threads are not": W workers run endless
 * CPU-bound loops; after -n milliseconds they are stopped, each confirms it is gone, and main
 * reports how long that took.
 *
 * Python:  p = Process(target=endless); p.start(); ...; p.terminate(); p.join()   # works
 *          threading.Thread has no terminate(): a `while True` thread can only be made a daemon,
 *          which dies with the whole program
 *
 * OpenMP threads cannot be killed either; they can only be asked, and they must look.
 * The team is main (thread 0) plus the W workers; main sleeps, then stops the others:
 *   cancel  the team shares a loop with one iteration per thread. Main's iteration ends in
 *           `#pragma omp cancel for`; each worker's iteration reaches `#pragma omp cancellation
 *           point for` after every batch of work and, once the loop is cancelled, jumps to the
 *           loop's end. The region goes on after the loop, so there each worker records that it
 *           left. Cancellation is off unless OMP_CANCELLATION=true is in the environment when
 *           the runtime starts (without it, `omp cancel` does nothing and the workers would
 *           loop forever), so this program re-runs itself with it set, and says so.
 *   flag    a shared flag main sets with `omp atomic write` and every worker reads with
 *           `omp atomic read` after every batch: the portable, always-on way.
 * Either way a worker counts as stopped only if it recorded its own stop after leaving its loop;
 * the end of the parallel region is the join that makes the records visible to main. A worker
 * that never stops is exit 3 naming how many, 10 s after the run's length, never a hang.
 * Observe: stop_latency_s, and per_worker, the batches each worker did before it stopped.
 * --trace shows each worker's "work" span, main's "stop request" and each worker's "stopped".
 *
 * Run:  ./omp/cancel
 *       OMP_CANCELLATION=true ./omp/cancel -n 500 -w 4
 *       ./omp/cancel --variant flag -w 3
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/harness.h"
#include "../common/omp_team.h"
#include "../common/trace.h"

/* One worker's progress on a cache line of its own, so workers do not slow each other. */
typedef struct {
    _Alignas(64) uint64_t state;
    uint64_t batches;
    int stopped; /* set by the worker itself, after it has left its loop */
} worker_progress;

/* Everything the run shares. */
typedef struct {
    worker_progress *progress; /* one per worker */
    int worker_count;
    long run_ms;
    double stop_at; /* when the stop was requested */
} stop_run;

static void stop_with_cancel(stop_run *run)
{
#pragma omp parallel num_threads(run->worker_count + 1) default(none) shared(run)
    {
        worker_progress *mine = NULL; /* this thread's record, if it is a worker */
        int worker = TRACE_MAIN;
        double working = 0.0;
#pragma omp for schedule(static, 1)
        for (int id = 0; id <= run->worker_count; id++) {
            if (id == 0) {
                sleep_ms(run->run_ms);
                run->stop_at = omp_get_wtime();
                trace_instant(TRACE_MAIN, "stop request", TRACE_NONE, TRACE_NONE);
                /* LAB: stop the whole loop, every worker's iteration with it. Hint: #pragma omp cancel for */
#pragma omp cancel for
                /* LAB END */
            } else {
                worker = id - 1;
                mine = &run->progress[worker];
                working = trace_begin();
                for (;;) {
                    mine->state = work_batch(mine->state);
                    mine->batches++;
                    /* LAB: a place where the worker notices the cancel. Hint: #pragma omp cancellation point for */
#pragma omp cancellation point for
                    /* LAB END */
                }
            }
        }
        if (mine != NULL) {
            mine->stopped = 1; /* only a cancelled loop gets a worker here */
            trace_span(worker, "work", working, (long)mine->batches, TRACE_NONE);
            trace_instant(worker, "stopped", (long)mine->batches, TRACE_NONE);
        }
    }
}

static void stop_with_flag(stop_run *run)
{
    int stop_requested = 0;
#pragma omp parallel num_threads(run->worker_count + 1) default(none) shared(run, stop_requested)
    {
        int id = omp_get_thread_num();
        if (id == 0) {
            sleep_ms(run->run_ms);
            run->stop_at = omp_get_wtime();
            trace_instant(TRACE_MAIN, "stop request", TRACE_NONE, TRACE_NONE);
            /* LAB: raise the flag so that every worker sees it. Hint: #pragma omp atomic write seq_cst */
#pragma omp atomic write seq_cst
            stop_requested = 1;
            /* LAB END, skeleton: (void)stop_requested; */
        } else {
            int worker = id - 1;
            worker_progress *mine = &run->progress[worker];
            double working = trace_begin();
            for (;;) {
                mine->state = work_batch(mine->state);
                mine->batches++;
                int seen;
                /* LAB: read the flag without a race. Hint: #pragma omp atomic read seq_cst */
#pragma omp atomic read seq_cst
                seen = stop_requested;
                /* LAB END, skeleton: seen = 0; */
                if (seen) break;
            }
            mine->stopped = 1;
            trace_span(worker, "work", working, (long)mine->batches, TRACE_NONE);
            trace_instant(worker, "stopped", (long)mine->batches, TRACE_NONE);
        }
    }
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(stop_run *run);
} variants[] = {
    {{"cancel", "#pragma omp cancel for (needs OMP_CANCELLATION=true)"}, stop_with_cancel},
    {{"flag", "a shared flag, omp atomic write / read, polled each batch"}, stop_with_flag},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "cancel",
    .model = "omp",
    .summary = "Stop endless CPU-bound OpenMP threads: omp cancel, or a shared flag they poll.",
    VARIANT_TABLE(variants),
    .n_meaning = "milliseconds the workers run before the stop",
    .default_n = 100,
    .max_n = 3600000, /* an hour */
    .default_workers = 2,
    .note = "The cancel variant re-runs itself with OMP_CANCELLATION=true when it is not set.",
};

/* ---- the watchdog: a worker that never looks must not hang the run ----
 * A worker that never sees the stop (a flag read the compiler kept in a register, a loop with
 * no cancellation point) runs for ever, and main waits for it at the region's closing barrier:
 * OpenMP's own wait, which no call of this file can bound. The harness's watchdog bounds the
 * run instead: the run's length plus 10 s, then exit 3 naming the workers not stopped. */
static void describe_stop(const void *state, char *text, size_t size)
{
    const stop_run *run = state;
    int running = 0;
    for (int w = 0; w < run->worker_count; w++) {
        int stopped;
#pragma omp atomic read
        stopped = run->progress[w].stopped;
        running += !stopped;
    }
    snprintf(text, size, "stop: %d of %d threads have not stopped", running, run->worker_count);
}

/* OMP_CANCELLATION is read once, when the runtime starts: to turn it on, start again. Not through
 * the path "/proc/self/exe" itself: under valgrind that link is valgrind's own tool, which refuses
 * to run alone. Reading the link names this program plainly, under gdb and under valgrind (which
 * answers the read for the program it runs). */
static void ensure_cancellation(const options *opt, char **argv)
{
    if (omp_get_cancellation()) return;
    const char *setting = getenv("OMP_CANCELLATION");
    if (setting != NULL && strcmp(setting, "true") == 0) /* set, yet off: do not loop */
        die_msg("OMP_CANCELLATION=true is set but this OpenMP runtime has cancellation off");
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self);
    if (length < 0) die_errno("readlink /proc/self/exe");
    if ((size_t)length == sizeof self) die_msg("readlink /proc/self/exe: the path is too long");
    self[length] = '\0';
    say(opt, "OMP_CANCELLATION is not true: running again with OMP_CANCELLATION=true\n");
    fflush(stdout);
    if (setenv("OMP_CANCELLATION", "true", 1) != 0) die_errno("setenv");
    execv(self, argv);
    die_errno("execv"); /* only reached when execv failed */
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    if (variants[opt.variant_index].run == stop_with_cancel) ensure_cancellation(&opt, argv);

    static worker_progress progress[MAX_WORKERS]; /* static: aligned to its cache lines */
    stop_run run = {.progress = progress, .worker_count = opt.workers, .run_ms = opt.n};
    for (int w = 0; w < opt.workers; w++) run.progress[w].state = (uint64_t)w + 1;
    say(&opt, "starting %d threads running endless loops; stopping them after %ld ms\n",
        opt.workers, opt.n);
    team_prepare(opt.workers + 1); /* main + the workers; a smaller team: exit 3 now, untimed */
    trace_open(&opt, opt.workers);

    watchdog_start((double)opt.n / 1000.0 + 10.0, describe_stop, &run);

    double start = omp_get_wtime();
    variants[opt.variant_index].run(&run);
    double end = omp_get_wtime();

    watchdog_stop();
    double elapsed = end - start, latency = end - run.stop_at;

    int stopped = 0;
    long long batches[MAX_WORKERS];
    for (int w = 0; w < opt.workers; w++) {
        stopped += run.progress[w].stopped;
        batches[w] = (long long)run.progress[w].batches;
        say(&opt, "worker %d: %s after %" PRIu64 " batches of work, confirmed by itself\n", w,
            run.progress[w].stopped ? "stopped" : "NOT stopped", run.progress[w].batches);
    }
    bool pass = verify_count("workers confirmed stopped", opt.workers, stopped);
    trace_write(&info, &opt);
    printf("stopped %d of %d workers (expected %d), %.6f s after the stop request\n", stopped,
           opt.workers, opt.workers, latency);
    print_result(&info, &opt, pass, elapsed, "stopped=%d stop_latency_s=%.6f per_worker=%s",
                 stopped, latency, per_worker_text(batches, opt.workers));
    return pass ? EXIT_PASS : EXIT_FAIL;
}
