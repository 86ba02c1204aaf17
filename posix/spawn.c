/*
 * posix/spawn.c - the notebook's Process(target=square_it) and Thread(target=square_it), with fork
 * and pthreads: start W workers running CPU work, join them all, and see what starting one costs.
 *
 * Python:  p = Process(target=square_it); p.start(); ...; p.join()    # one per core
 *          t = Thread(target=square_it); t.start(); ...; t.join()     # 10 of them
 *          print('end main')
 *
 *   process  fork() a copy of this program per worker, waitpid() for each and check how it ended
 *   thread   pthread_create() per worker inside this process, pthread_join() each
 * Each worker runs square_it(n) and reports the sum of its squares, which the parent checks,
 * so the work cannot be skipped (the notebook's cell 11 starts no thread at all; see
 * notebook/README). Observe the cost per worker: with -n 0 it is pure create+join. A thread
 * costs tens of microseconds; a forked process about twice that, as fork() copies the page
 * tables (medians of 15 runs of -w 100 -n 0 on a loaded 2-core machine: thread 64 us, process
 * 116 us). square_it is in common/harness.h: the three versions of spawn share it.
 *
 * Run:  ./posix/spawn                                  (process, one per core)
 *       ./posix/spawn --variant thread                 (10 threads)
 *       ./posix/spawn --variant thread -w 100 -n 0     (create+join cost alone)
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/workers.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"process", "fork() one process per worker, waitpid() each"}},
    {{"thread", "pthread_create() one thread per worker, pthread_join() each"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "spawn",
    .model = "posix",
    .summary = "Start W workers running square_it(n), join them all, and report the create+join cost.",
    VARIANT_TABLE(variants),
    .n_meaning = "loop length of square_it",
    .default_n = 1000,
    .max_n = 10000000000L,
    .default_workers = 0, /* process: one per core, like os.cpu_count() */
    .note = "Default workers: process one per core (os.cpu_count()), thread 10 (the notebook's "
            "number_threads).",
};

enum { VARIANT_PROCESS, VARIANT_THREAD };
enum { NOTEBOOK_THREADS = 10 };

/* What the workers share. */
typedef struct {
    long n;
    worker_report *reports; /* one per worker; shared memory, so forked children can write it */
} spawn_work;

/* What every worker runs, thread or process. */
static void spawn_worker(void *shared, int worker)
{
    spawn_work *work = shared;
    work->reports[worker].square_sum = square_it(work->n);
    work->reports[worker].ran = 1;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    if (opt.variant_index == VARIANT_THREAD && !opt.workers_given) opt.workers = NOTEBOOK_THREADS;

    /* A forked child's memory is its own copy: the reports must be in a shared mapping. */
    size_t report_bytes = (size_t)opt.workers * sizeof(worker_report);
    worker_report *reports = shared_alloc(report_bytes);
    spawn_work work = {.n = opt.n, .reports = reports};

    double start = now_seconds();
    if (opt.variant_index == VARIANT_PROCESS)
        run_processes(opt.workers, spawn_worker, &work);
    else
        run_threads(opt.workers, spawn_worker, &work);
    double elapsed = now_seconds() - start;

    uint64_t expected_sum = square_sum_expected((uint64_t)opt.n);
    int ran = 0;
    for (int w = 0; w < opt.workers; w++) {
        if (!reports[w].ran)
            fprintf(stderr, "%s: worker %d never reported\n", program_name(), w);
        else if (verify_u64("a worker's sum of squares", expected_sum, reports[w].square_sum))
            ran++;
    }
    bool pass = verify_count("workers that ran square_it", opt.workers, ran);
    double per_worker = elapsed / opt.workers;

    say(&opt, "%d %s%s started, ran square_it(%ld) and joined in %.6f s\n", opt.workers,
        opt.variant_index == VARIANT_PROCESS ? "process" : "thread",
        opt.variant_index == VARIANT_PROCESS ? (opt.workers == 1 ? "" : "es")
                                             : (opt.workers == 1 ? "" : "s"),
        opt.n, elapsed);
    say(&opt, "end main\n");
    printf("spawn %s: %d of %d workers ran (expected %d); create+join %.1f us per worker\n",
           opt.variant, ran, opt.workers, opt.workers, per_worker * 1e6);
    print_result(&info, &opt, pass, elapsed, "ran=%d create_join_s=%.9f", ran, per_worker);
    shared_free(reports, report_bytes);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
