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
 * Each worker runs square_it(n) and leaves the sum of its squares in its report, which the parent
 * checks, so the work cannot be skipped. With -n 0 what is timed is create+join alone: compare
 * the create_join_s of both variants, each the median of several runs of -w 100 -n 0 --quiet.
 * The other posix programs start their workers with common/workers.c: this file's calls,
 * packaged. square_it is in common/harness.h: the three versions of spawn share it.
 *
 * --trace FILE draws each start ("create"), each worker's square_it on its own track, and each
 * join; a watchdog exits 3 naming the workers not joined when a join outlasts its bound.
 *
 * Run:  ./posix/spawn                                  (process, one per core)
 *       ./posix/spawn --variant thread                 (10 threads)
 *       ./posix/spawn --variant thread -w 100 -n 0     (create+join cost alone)
 *       ./posix/spawn -w 8 -n 0 --trace t.json         (then tools/timeline t.json -o t.png)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "../common/harness.h"
#include "../common/trace.h"
#include "../common/workers.h"

enum { NOTEBOOK_THREADS = 10 };

/* One worker's job: square_it(n), and where it leaves the sum for the parent to check. */
typedef struct {
    long n;
    int worker; /* its number, 0..W-1: its --trace track */
    worker_report *report;
} worker_task;

/* What the variants share, all of it set up before the clock. */
typedef struct {
    int worker_count;
    worker_task *tasks;  /* one per worker */
    pid_t *children;     /* process: each child's pid, 0 once it is reaped */
    pthread_t *threads;  /* thread */
    atomic_bool *joined; /* each worker once joined: what the watchdog reads */
} spawn_team;

/* What every worker runs, thread or process. --trace: a "square_it" span on the worker's own
 * track, from its own clock: where it begins shows when the worker really started. */
static void run_worker(worker_task *task)
{
    double working = trace_begin();
    task->report->square_sum = square_it(task->n);
    task->report->ran = 1;
    trace_span(task->worker, "square_it", working, task->n, TRACE_NONE);
}

/* In a child, first thing: die when the parent dies (Linux), so no worker is ever orphaned. */
static void die_with_parent(pid_t parent)
{
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(EXIT_SYSTEM);
#endif
    if (getppid() != parent) _exit(EXIT_SYSTEM); /* the parent died before prctl took hold */
}

/* A child was killed or exited non-zero: stop and reap the others, then exit 3 naming it. */
static _Noreturn void worker_failed(spawn_team *team, int worker, pid_t pid, int status)
{
    stop_workers(team->children, team->worker_count);
    if (WIFSIGNALED(status))
        die_msg("worker %d (pid %ld) was killed by signal %d (%s)", worker, (long)pid,
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    die_msg("worker %d (pid %ld) exited with status %d", worker, (long)pid, WEXITSTATUS(status));
}

/* process: fork() one copy of this program per worker, then waitpid() for each. --trace: the
 * parent's track shows a "create" span per fork() and a "join" span per waitpid(). */
static void spawn_processes(spawn_team *team)
{
    pid_t parent = getpid();
    fflush(stdout); /* or each child inherits what is still buffered */
    for (int w = 0; w < team->worker_count; w++) {
        double creating = trace_begin();
        /* LAB: start one child, a copy of this process going on from here. Hint: pid_t pid = fork(); (0 in the child, its pid in the parent) */
        pid_t pid = fork();
        /* LAB END, skeleton: pid_t pid = -1; errno = ENOSYS; */
        if (pid < 0) {
            int fork_errno = errno;
            stop_workers(team->children, w); /* the children already started */
            die_code("fork", fork_errno);
        }
        if (pid == 0) {          /* the child: a copy of the parent, going on from here */
            mark_forked_child(); /* from now on die_* leave with _exit */
            die_with_parent(parent);
            run_worker(&team->tasks[w]);
            /* LAB: the child's work is done: end the child here, or it goes on running the parent's loop. Hint: _exit(EXIT_PASS), not return or exit() */
            _exit(EXIT_PASS);    /* not exit(): the parent's stdio buffers are not its to flush */
            /* LAB END */
        }
        team->children[w] = pid;
        trace_span(TRACE_MAIN, "create", creating, w, pid);
    }
    /* waitpid(-1) takes the children in the order they end, so a dead worker is seen at once,
     * even while another still runs. */
    for (int joined = 0; joined < team->worker_count;) {
        int status;
        double joining = trace_begin();
        /* LAB: wait for any child to end and learn which one and how. Hint: pid_t pid = waitpid(-1, &status, 0); */
        pid_t pid = waitpid(-1, &status, 0);
        /* LAB END, skeleton: pid_t pid = -1; errno = ECHILD; status = 0; */
        if (pid < 0) {
            if (errno == EINTR) continue;
            die_errno("waitpid");
        }
        int w = 0;
        while (w < team->worker_count && team->children[w] != pid) w++;
        if (w == team->worker_count) continue; /* not one of our workers */
        team->children[w] = 0;
        atomic_store(&team->joined[w], true);
        joined++;
        trace_span(TRACE_MAIN, "join", joining, w, pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != EXIT_PASS)
            worker_failed(team, w, pid, status);
    }
}

static void *thread_main(void *task)
{
    run_worker(task);
    return NULL;
}

/* thread: pthread_create() one thread per worker, then pthread_join() each. --trace: the main
 * track shows a "create" span per pthread_create() and a "join" span per pthread_join(). */
static void spawn_threads(spawn_team *team)
{
    for (int w = 0; w < team->worker_count; w++) {
        double creating = trace_begin();
        /* LAB: start thread w running thread_main on its task. Hint: pthread_create(&team->threads[w], NULL, thread_main, &team->tasks[w]) inside CHECK_RC */
        CHECK_RC(pthread_create(&team->threads[w], NULL, thread_main, &team->tasks[w]),
                 "pthread_create");
        /* LAB END, skeleton: (void)thread_main; */
        trace_span(TRACE_MAIN, "create", creating, w, TRACE_NONE);
    }
    for (int w = 0; w < team->worker_count; w++) {
        double joining = trace_begin();
        /* LAB: wait for thread w to end. Hint: pthread_join(team->threads[w], NULL) inside CHECK_RC */
        CHECK_RC(pthread_join(team->threads[w], NULL), "pthread_join");
        /* LAB END */
        atomic_store(&team->joined[w], true);
        trace_span(TRACE_MAIN, "join", joining, w, TRACE_NONE);
    }
}

/* ---- the watchdog: no join waits forever ----
 * A worker that never ends (stuck, stopped with SIGSTOP, or a bug) would leave waitpid() or
 * pthread_join() waiting for ever. The harness's watchdog, armed before the clock, exits 3 once
 * a bound that grows with the work has passed, naming the workers not yet joined (forked
 * children die with the parent: die_with_parent). The bound is generous (seconds, plus far more
 * per square_it step than a loaded machine needs), so a correct run never meets it. */
static double join_bound_s(int worker_count, long n)
{
    return 5.0 + worker_count * (0.05 + (double)n * 1e-7);
}

static void describe_joins(const void *state, char *text, size_t size)
{
    const spawn_team *team = state;
    char names[256] = "";
    int unjoined = 0;
    for (int w = 0; w < team->worker_count; w++) {
        if (atomic_load(&team->joined[w])) continue;
        size_t used = strlen(names);
        if (unjoined++ < 20) snprintf(names + used, sizeof names - used, "%s%d", used ? " " : "", w);
        else if (unjoined == 22) snprintf(names + used, sizeof names - used, " ...");
    }
    snprintf(text, size, "join: %d of %d workers not joined (%s)", unjoined, team->worker_count,
             names);
}

/* The variants: name, --help line, the function that runs it, default workers (0: one per core)
 * and what its workers are called. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(spawn_team *team);
    int default_workers;
    const char *worker_noun[2]; /* one, several */
} variants[] = {
    {{"process", "fork() one process per worker, waitpid() each"}, spawn_processes, 0,
     {"process", "processes"}},
    {{"thread", "pthread_create() one thread per worker, pthread_join() each"}, spawn_threads,
     NOTEBOOK_THREADS, {"thread", "threads"}},
    {{NULL, NULL}, NULL, 0, {NULL, NULL}}};

static const program_info info = {
    .concept = "spawn",
    .model = "posix",
    .summary = "Start W workers running square_it(n), join them all, and report the create+join "
               "cost.",
    VARIANT_TABLE(variants),
    .n_meaning = "loop length of square_it",
    .default_n = 1000,
    .max_n = 10000000000L,
    .default_workers = 0, /* process: one per core, like os.cpu_count() */
    .note = "Default workers: process one per core (os.cpu_count()), thread 10 (the notebook's "
            "number_threads).",
};

/* Counts the workers that ran and got the right sum; says which did not. */
static int count_ran(const worker_report *reports, int worker_count, long n)
{
    uint64_t expected_sum = square_sum_expected((uint64_t)n);
    int ran = 0;
    for (int w = 0; w < worker_count; w++) {
        if (!reports[w].ran)
            fprintf(stderr, "%s: worker %d never reported\n", program_name(), w);
        else if (verify_u64("a worker's sum of squares", expected_sum, reports[w].square_sum))
            ran++;
    }
    return ran;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    const struct variant *variant = &variants[opt.variant_index];
    if (variant->default_workers > 0 && !opt.workers_given) opt.workers = variant->default_workers;

    /* A forked child's memory is its own copy: the reports must be in a shared mapping. */
    size_t report_bytes = (size_t)opt.workers * sizeof(worker_report);
    worker_report *reports = shared_alloc(report_bytes);
    spawn_team team = {.worker_count = opt.workers,
                       .tasks = checked_calloc((size_t)opt.workers, sizeof(worker_task)),
                       .children = checked_calloc((size_t)opt.workers, sizeof(pid_t)),
                       .threads = checked_calloc((size_t)opt.workers, sizeof(pthread_t)),
                       .joined = checked_calloc((size_t)opt.workers, sizeof(atomic_bool))};
    for (int w = 0; w < opt.workers; w++) {
        reports[w] = (worker_report){.ran = 0}; /* written now: no page fault inside the clock */
        team.tasks[w] = (worker_task){.n = opt.n, .worker = w, .report = &reports[w]};
        atomic_init(&team.joined[w], false);
    }
    watchdog_start(join_bound_s(team.worker_count, opt.n), describe_joins, &team);
    trace_open(&opt, opt.workers); /* before the workers start: forked ones share its buffers */

    double start = now_seconds();
    variant->run(&team);
    double elapsed = now_seconds() - start;

    watchdog_stop();
    trace_write(&info, &opt);

    int ran = count_ran(reports, opt.workers, opt.n);
    bool pass = verify_count("workers that ran square_it", opt.workers, ran);
    double per_worker = elapsed / opt.workers;

    say(&opt, "%d %s started, ran square_it(%ld) and joined in %.6f s\n", opt.workers,
        variant->worker_noun[opt.workers != 1], opt.n, elapsed);
    say(&opt, "end main\n");
    printf("spawn %s: %d of %d workers ran (expected %d); create+join %.1f us per worker\n",
           opt.variant, ran, opt.workers, opt.workers, per_worker * 1e6);
    print_result(&info, &opt, pass, elapsed, "ran=%d create_join_s=%.9f", ran, per_worker);
    free(team.joined);
    free(team.threads);
    free(team.children);
    free(team.tasks);
    shared_free(reports, report_bytes);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
