/*
 * omp/cancel.c - the notebook's "processes are killable, threads are not": W workers run endless
 * CPU-bound loops; after -n milliseconds main stops them, confirms each is gone and reports how
 * long that took.
 *
 * Python:  p = Process(target=endless); p.start(); ...; p.terminate(); p.join()   # works
 *          threading.Thread has no terminate(): a `while True` thread can only be made a daemon,
 *          which dies with the whole program
 *
 * OpenMP threads cannot be killed either; they can only be asked, and they must look.
 * The team is main (thread 0) plus the W workers; main sleeps, then stops the others:
 *   cancel  `#pragma omp cancel parallel`; each worker reaches `#pragma omp cancellation point`
 *           after every batch of work and, once the region is cancelled, jumps to the region's
 *           end. Cancellation is off unless OMP_CANCELLATION=true is in the environment when
 *           the runtime starts (without it, `omp cancel` does nothing and the workers would
 *           loop forever), so this program re-runs itself with it set, and says so.
 *   flag    a shared flag main sets with `omp atomic write` and every worker reads with
 *           `omp atomic read` after every batch: the portable, always-on way.
 * Either way the end of the parallel region is the join: when it is over, every worker is.
 *
 * Run:  ./omp/cancel
 *       OMP_CANCELLATION=true ./omp/cancel -n 500 -w 4
 *       ./omp/cancel --variant flag -w 3
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/harness.h"
#include "../common/omp_team.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"cancel", "#pragma omp cancel parallel (needs OMP_CANCELLATION=true)"}},
    {{"flag", "a shared flag, omp atomic write / read, polled each batch"}},
    {{NULL, NULL}}};

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

enum { VARIANT_CANCEL, VARIANT_FLAG };

/* Each worker's progress on a cache line of its own, so workers do not slow each other.
 * Read by main only after the region has ended. */
typedef struct {
    _Alignas(64) uint64_t state;
    uint64_t batches;
    int started;
    int stopped; /* flag: set by the worker once it has left its loop */
} worker_progress;

static worker_progress progress[MAX_WORKERS];

/* cancel: returns the stop latency; *stopped counts the workers the region's end confirms. */
static double run_and_stop_cancel(const options *opt, int *stopped)
{
    double stop_at = 0;
    int team_size = 0;
    team_exact();
#pragma omp parallel num_threads(opt->workers + 1) default(none) \
    shared(opt, progress, stop_at, team_size)
    {
        int id = omp_get_thread_num();
        if (id == 0) {
            team_size = omp_get_num_threads();
            sleep_ms(opt->n);
            stop_at = omp_get_wtime();
#pragma omp cancel parallel
        } else {
            worker_progress *mine = &progress[id - 1];
            mine->started = 1;
            for (;;) {
                mine->state = work_batch(mine->state);
                mine->batches++;
#pragma omp cancellation point parallel
            }
        }
    }
    double latency = omp_get_wtime() - stop_at;
    team_check(opt->workers + 1, team_size); /* main + the workers */

    /* A cancelled worker jumps from its cancellation point straight to the region's end and
     * runs none of our code after its loop, so it cannot say "stopped" itself. The proof is the
     * region's end: it is a barrier no thread of the team passes until all have reached it, so
     * once main is here, every worker that started has left its endless loop. */
    for (int w = 0; w < opt->workers; w++) *stopped += progress[w].started;
    return latency;
}

/* flag: returns the stop latency; *stopped counts the workers that saw the flag and left. */
static double run_and_stop_flag(const options *opt, int *stopped)
{
    double stop_at = 0;
    int team_size = 0, stop_requested = 0;
    team_exact();
#pragma omp parallel num_threads(opt->workers + 1) default(none) \
    shared(opt, progress, stop_at, team_size, stop_requested)
    {
        int id = omp_get_thread_num();
        if (id == 0) {
            team_size = omp_get_num_threads();
            sleep_ms(opt->n);
            stop_at = omp_get_wtime();
#pragma omp atomic write seq_cst
            stop_requested = 1;
        } else {
            worker_progress *mine = &progress[id - 1];
            mine->started = 1;
            for (;;) {
                mine->state = work_batch(mine->state);
                mine->batches++;
                int seen;
#pragma omp atomic read seq_cst
                seen = stop_requested;
                if (seen) break;
            }
            mine->stopped = 1; /* read by main after the region's end, which orders it */
        }
    }
    double latency = omp_get_wtime() - stop_at;
    team_check(opt->workers + 1, team_size); /* main + the workers */

    for (int w = 0; w < opt->workers; w++) *stopped += progress[w].stopped;
    return latency;
}

/* OMP_CANCELLATION is read once, when the runtime starts: to turn it on, start again. */
static void ensure_cancellation(const options *opt, char **argv)
{
    if (omp_get_cancellation()) return;
    const char *setting = getenv("OMP_CANCELLATION");
    if (setting != NULL && strcmp(setting, "true") == 0) /* set, yet off: do not loop */
        die_msg("OMP_CANCELLATION=true is set but this OpenMP runtime has cancellation off");
    say(opt, "OMP_CANCELLATION is not true: running again with OMP_CANCELLATION=true\n");
    fflush(stdout);
    if (setenv("OMP_CANCELLATION", "true", 1) != 0) die_errno("setenv");
    execv("/proc/self/exe", argv);
    die_errno("execv /proc/self/exe"); /* only reached when execv failed */
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    if (opt.variant_index == VARIANT_CANCEL) ensure_cancellation(&opt, argv);

    say(&opt, "starting %d threads running endless loops; stopping them after %ld ms\n",
        opt.workers, opt.n);
    for (int w = 0; w < opt.workers; w++) progress[w].state = (uint64_t)w + 1;
    int stopped = 0;
    double start = omp_get_wtime();
    double latency = opt.variant_index == VARIANT_CANCEL ? run_and_stop_cancel(&opt, &stopped)
                                                         : run_and_stop_flag(&opt, &stopped);
    double elapsed = omp_get_wtime() - start;

    for (int w = 0; w < opt.workers; w++)
        say(&opt, "worker %d: stopped after %" PRIu64 " batches of work, confirmed by the region's "
            "end\n", w, progress[w].batches);
    bool pass = verify_count("workers confirmed stopped", opt.workers, stopped);
    printf("stopped %d of %d workers (expected %d), %.6f s after the stop request\n", stopped,
           opt.workers, opt.workers, latency);
    print_result(&info, &opt, pass, elapsed, "stopped=%d stop_latency_s=%.6f", stopped, latency);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
