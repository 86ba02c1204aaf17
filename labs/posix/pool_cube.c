/*
 * labs/posix/pool_cube.c - exercise skeleton, generated from posix/pool_cube.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=posix/pool_cube
 * Start again from the skeleton: make lab-reset EX=posix/pool_cube
 */
/*
 * posix/pool_cube.c - the notebook's Pool.map(cube, range(n)) and pool.apply(cube, ...), with a
 * pool of forked processes or of pthreads built from POSIX calls.
 *
 * Python:  result = Pool().map(cube, range(10))   ->  [0, 1, 8, 27, 64, 125, 216, 343, 512, 729]
 *          pool.apply(cube, (x,))                 ->  one call, run by one worker of the pool
 *
 * A pool is W workers started once plus a queue of tasks they take from; map splits the range
 * into chunks (Pool.map's rule: about four per worker) and puts one task per chunk; apply puts
 * one task; STOP tasks end the workers, who are then joined.
 *   process  W forked workers (fork_workers: spawn's fork and waitpid, plus the watching). The
 *            task queue is a pipe: each task is one write() smaller than PIPE_BUF, so it arrives
 *            whole even with several readers. Processes share no memory, so the cubes go into a
 *            MAP_SHARED mapping made before fork(). Each worker reports on a second pipe when it
 *            is ready and when it is done; a worker that dies or ends early is found by waitid()
 *            and reported (exit 3), and so is a pool still unfinished long after its work.
 *   thread   W pthreads share the address space: the queue is an array under a mutex with two
 *            condition variables (not empty, not full), the cubes go straight into `out`, and
 *            a count of tasks done, under the same mutex, tells the caller when all are done.
 * elapsed_s is the map on a ready pool, as in the omp and mpi versions (whose thread team and
 * ranks exist before their clocks and outlive them) and as Python times pool.map on a Pool()
 * made before: the pool is started before the clock, its workers first write every page of
 * `out` with TOUCH tasks of the map's chunks (a page is made where it will be used), and only
 * then is the pool ready; the clock runs until every worker has done its last task, and the
 * workers are joined after it. A forked worker also writes one word of every page itself:
 * fork() copies no page table entries of a shared mapping, so without this each new child
 * would fault on every page it writes inside the clock, even on pages that exist (threads share
 * one page table). Count the faults with /usr/bin/time -f %R: about W + 1 per page, all before
 * the clock; each child's exit tears those entries down again, in the join.
 * --uneven: item i costs work that grows with i (common/uneven.h); the pool's chunks, taken on
 * demand, balance it.
 *
 * Run:  ./posix/pool_cube
 *       ./posix/pool_cube -n 100000000 -w 2 --variant thread --quiet
 *       ./posix/pool_cube -n 1000000 -w 2 --uneven --trace t.json && tools/timeline t.json -o t.png
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/harness.h"
#include "../../common/trace.h"
#include "../../common/uneven.h"
#include "../../common/workers.h"

/* One run of the pool: the range, where the cubes go, apply's call, and what each worker did.
 * For processes it lives, with the cubes after it, in memory the workers share. */
typedef struct {
    size_t n;
    int worker_count;
    bool uneven;
    uint64_t apply_arg, apply_result;
    long long per_worker[MAX_WORKERS]; /* cubes each worker computed: its own entry only */
    pthread_barrier_t touched;         /* process: every TOUCH task done, every worker ready */
    uint64_t *out;
} cube_job;

typedef enum { TASK_TOUCH, TASK_READY, TASK_MAP, TASK_APPLY, TASK_STOP } task_kind;

typedef struct {
    task_kind kind;
    size_t begin, count; /* TASK_TOUCH, TASK_MAP: the chunk out[begin .. begin+count) */
    uint64_t number;     /* TASK_APPLY: the argument */
    long sequence;       /* --trace: the task's number, the id of its arrow from put to take */
} task;

/* Tasks travel whole through a pipe, padding bytes included: zero them, or the pipe carries
 * uninitialised memory (valgrind says so; it could also leak what the stack held). */
static task new_task(task_kind kind, size_t begin, size_t count, uint64_t number)
{
    static long sequence;
    task t;
    memset(&t, 0, sizeof t);
    t.kind = kind;
    t.begin = begin;
    t.count = count;
    t.number = number;
    t.sequence = sequence++;
    return t;
}

/* --trace: an arrow from the put to the take of each task of the map (not of the untimed start). */
static void task_arrow(int worker, char phase, const task *t)
{
    if (t->kind >= TASK_MAP) trace_flow(worker, phase, "task", trace_message_id(TRACE_MAIN, t->sequence));
}

/* What every worker does with a task, process or thread; false means stop. --trace: one
 * "chunk" span per map task (its first and last element), "apply" on the worker that ran it. */
static bool run_task(const task *t, cube_job *job, int worker)
{
    double began = trace_begin();
    switch (t->kind) {
    case TASK_TOUCH: /* first touch, before the clock: the page is made where it will be used */
        for (size_t i = t->begin; i < t->begin + t->count; i++) job->out[i] = 0;
        return true;
    case TASK_READY: /* the pool's own business (process_worker) */
        return true;
    case TASK_MAP:
        for (size_t i = t->begin; i < t->begin + t->count; i++) job->out[i] = cube_of(i, job->uneven);
        job->per_worker[worker] += (long long)t->count;
        trace_span(worker, "chunk", began, (long)t->begin, (long)(t->begin + t->count) - 1);
        return true;
    case TASK_APPLY:
        job->apply_result = cube_u64(t->number);
        trace_span(worker, "apply", began, (long)t->number, TRACE_NONE);
        return true;
    case TASK_STOP:
        break;
    }
    return false;
}

/* The map's chunks as `kind` tasks (TASK_TOUCH before the clock, TASK_MAP), then for a map
 * apply(cube, number) and one STOP per worker. submit returns false once no worker is left to
 * take tasks: the caller then waits, and its watching reports the dead worker. */
static void submit_tasks(cube_job *job, task_kind kind, bool (*submit)(void *pool, task t),
                         void *pool)
{
    size_t n = job->n, chunk = (n + 4 * (size_t)job->worker_count - 1) / (4 * (size_t)job->worker_count);
    bool open = true;
    /* TODO: hand out the map: one task per chunk of at most `chunk` items, covering 0..n-1 once; stop when submit says no worker is left. Hint: for (begin = 0; begin < n && open; begin += chunk) open = submit(pool, new_task(kind, begin, count, 0)); the last chunk may be shorter */
    (void)chunk;
    if (kind != TASK_MAP) return;
    if (open) open = submit(pool, new_task(TASK_APPLY, 0, 0, job->apply_arg));
    /* TODO: tell every worker to stop once the map's tasks are handed out: one STOP task each. Hint: submit(pool, new_task(TASK_STOP, 0, 0, 0)) per worker, while open */
}

/* The watchdog's words: how far the map got. */
static void describe_map(const cube_job *job, char *text, size_t size)
{
    long long done = 0;
    for (int w = 0; w < job->worker_count; w++) done += job->per_worker[w];
    snprintf(text, size, "%lld of %zu cubes computed", done, job->n);
}

/* ------------------------------------------------------------ process pool: a pipe of tasks */

typedef struct {
    int task_pipe[2];   /* [0] the workers read tasks, [1] the parent writes them */
    int report_pipe[2]; /* [1] each worker writes REPORT_READY once, REPORT_DONE at STOP */
    pid_t *pids;
    int ready, done;    /* the reports the parent has read */
    cube_job *job;      /* in shared memory: what the workers write, the parent sees */
} process_pool;

enum { REPORT_READY = 'R', REPORT_DONE = 'D' };

static void report(process_pool *pool, char what)
{
    while (write(pool->report_pipe[1], &what, 1) != 1)
        if (errno != EINTR) die_errno("write to the report pipe");
}

/* A forked worker: take tasks until STOP, or until the parent closes the pipe. */
static void process_worker(void *shared, int worker)
{
    process_pool *pool = shared;
    cube_job *job = pool->job;
    task t;
    close(pool->task_pipe[1]); /* so the read end sees EOF once the parent closes its end */
    close(pool->report_pipe[0]);
    for (;;) {
        ssize_t got = read(pool->task_pipe[0], &t, sizeof t);
        if (got < 0 && errno == EINTR) continue;
        if (got == 0) return; /* EOF: the parent closed the pipe */
        /* A task is one write() below PIPE_BUF, so it arrives whole or not at all. */
        if (got < 0) die_errno("read from the task pipe");
        if (got != (ssize_t)sizeof t)
            die_msg("read from the task pipe returned %zd of %zu bytes", got, sizeof t);
        task_arrow(worker, 'f', &t);
        if (t.kind == TASK_READY) {
            /* Every worker takes one READY (it waits here until all have), after every TOUCH:
             * then all pages exist, and this child maps each into its own page table. */
            int rc = pthread_barrier_wait(&job->touched);
            if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) die_code("pthread_barrier_wait", rc);
            volatile uint64_t *out = job->out;
            for (size_t i = 0; i < job->n; i += 4096 / sizeof *out) out[i] = 0;
            if (job->n > 0) out[job->n - 1] = 0;
            report(pool, REPORT_READY);
        }
        if (!run_task(&t, job, worker)) { /* STOP */
            report(pool, REPORT_DONE);
            return;
        }
    }
}

/* false when no worker is left to read (EPIPE): the caller stops submitting and waits. */
static bool process_pool_submit(void *shared, task t)
{
    process_pool *pool = shared;
    task_arrow(TRACE_MAIN, 's', &t);
    if (write(pool->task_pipe[1], &t, sizeof t) == (ssize_t)sizeof t) return true;
    if (errno != EPIPE) die_errno("write to the task pipe");
    return false;
}

static void count_report(process_pool *pool, char what)
{
    if (what == REPORT_READY)
        pool->ready++;
    else
        pool->done++;
}

/* Reads reports until `ready` and `done` reach `workers` (done: 0 to wait for readiness only).
 * Watched: a worker that died, or ended without its reports, is exit 3 naming the count; so is
 * a pool unfinished `bound_s` seconds after the call. poll() returns as soon as a report comes. */
static void await_reports(process_pool *pool, int ready, int done, double bound_s, const char *what)
{
    double deadline = now_seconds() + bound_s;
    int worker_count = pool->job->worker_count;
    while (pool->ready < ready || pool->done < done) {
        struct pollfd reports = {.fd = pool->report_pipe[0], .events = POLLIN};
        int polled = poll(&reports, 1, 100);
        if (polled < 0 && errno != EINTR) die_errno("poll");
        char report_byte;
        ssize_t got = polled > 0 ? read(pool->report_pipe[0], &report_byte, 1) : -1;
        if (got == 1) {
            count_report(pool, report_byte);
            continue;
        }
        if (got < 0 && polled > 0 && errno != EINTR && errno != EAGAIN)
            die_errno("read from the report pipe");
        /* Nothing for 100 ms, or the pipe's end (got 0: no worker is left to write). First look
         * at the workers, then count what they wrote before they ended. */
        int ended = workers_check(pool->pids, worker_count);
        char reports_left[64];
        ssize_t left;
        while ((left = read(pool->report_pipe[0], reports_left, sizeof reports_left)) > 0)
            for (ssize_t k = 0; k < left; k++) count_report(pool, reports_left[k]);
        if (ended > pool->done) {
            stop_workers(pool->pids, worker_count);
            die_msg("%s: %d of %d workers ended without doing their part (ready %d, done %d)", what,
                    ended - pool->done, worker_count, pool->ready, pool->done);
        }
        if (now_seconds() > deadline) {
            char progress[96];
            describe_map(pool->job, progress, sizeof progress);
            stop_workers(pool->pids, worker_count);
            die_msg("%s: %d of %d workers ready, %d done after %.0f s; %s", what, pool->ready,
                    worker_count, pool->done, bound_s, progress);
        }
        if (got == 0) sleep_ms(1); /* the last writer is ending: soon workers_check sees it */
    }
}

/* Untimed: start W forked workers, let them first-touch the map's chunks and map every page,
 * and wait until each has reported ready. */
static void *start_process_pool(cube_job *job)
{
    process_pool *pool = checked_calloc(1, sizeof *pool);
    pool->job = job;
    if (pipe(pool->task_pipe) != 0 || pipe(pool->report_pipe) != 0) die_errno("pipe");
    pthread_barrierattr_t shared_between_processes;
    CHECK_RC(pthread_barrierattr_init(&shared_between_processes), "pthread_barrierattr_init");
    CHECK_RC(pthread_barrierattr_setpshared(&shared_between_processes, PTHREAD_PROCESS_SHARED),
             "pthread_barrierattr_setpshared");
    CHECK_RC(pthread_barrier_init(&job->touched, &shared_between_processes,
                                  (unsigned)job->worker_count), "pthread_barrier_init");
    CHECK_RC(pthread_barrierattr_destroy(&shared_between_processes), "pthread_barrierattr_destroy");
    pool->pids = fork_workers(job->worker_count, process_worker, pool);
    close(pool->task_pipe[0]);
    close(pool->report_pipe[1]);
    if (fcntl(pool->report_pipe[0], F_SETFL, O_NONBLOCK) != 0) die_errno("fcntl");
    submit_tasks(job, TASK_TOUCH, process_pool_submit, pool);
    for (int w = 0; w < job->worker_count; w++)
        if (!process_pool_submit(pool, new_task(TASK_READY, 0, 0, 0))) break;
    await_reports(pool, job->worker_count, 0, pool_work_bound_s(job->n, false), "pool start");
    return pool;
}

/* Timed: the map and apply on the ready pool, until every worker reported done (its STOP
 * taken after all its tasks: every cube is in). */
static void map_on_process_pool(void *started, cube_job *job)
{
    process_pool *pool = started;
    submit_tasks(job, TASK_MAP, process_pool_submit, pool);
    close(pool->task_pipe[1]);
    await_reports(pool, job->worker_count, job->worker_count,
                  pool_work_bound_s(job->n, job->uneven), "map");
}

/* After the clock: join the workers. A child's exit tears down its page table, an entry for
 * every page of `out`: a process pool's cost, which the thread team and MPI ranks, living on
 * past their clocks, do not pay either (--trace shows it as "join" on the main track). */
static void stop_process_pool(void *started, cube_job *job)
{
    process_pool *pool = started;
    double began = trace_begin();
    join_workers_within(pool->pids, job->worker_count, pool_work_bound_s(job->n, false), NULL, NULL);
    trace_span(TRACE_MAIN, "join", began, TRACE_NONE, TRACE_NONE);
    close(pool->report_pipe[0]);
    CHECK_RC(pthread_barrier_destroy(&job->touched), "pthread_barrier_destroy");
    free(pool);
}

/* ------------------------------------------------------------ thread pool: a locked queue */

enum { QUEUE_CAPACITY = 64 };

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full, all_done;
    task items[QUEUE_CAPACITY]; /* a ring: `count` tasks from `head` on */
    size_t head, count;
    long put, done; /* tasks put, tasks run to the end (STOP included) */
    pthread_t *threads;
    struct thread_worker_arg *args;
    cube_job *job;
} thread_pool;

typedef struct thread_worker_arg {
    thread_pool *pool;
    int worker;
} thread_worker_arg;

static bool queue_put(void *shared, task t)
{
    thread_pool *pool = shared;
    CHECK_RC(pthread_mutex_lock(&pool->lock), "pthread_mutex_lock");
    while (pool->count == QUEUE_CAPACITY) /* a loop: wake-ups can be spurious */
        CHECK_RC(pthread_cond_wait(&pool->not_full, &pool->lock), "pthread_cond_wait");
    task_arrow(TRACE_MAIN, 's', &t);
    pool->items[(pool->head + pool->count) % QUEUE_CAPACITY] = t;
    pool->count++;
    pool->put++;
    CHECK_RC(pthread_cond_signal(&pool->not_empty), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&pool->lock), "pthread_mutex_unlock");
    return true; /* a thread cannot die alone: no worker is ever missing */
}

static task queue_get(thread_pool *pool, int worker)
{
    CHECK_RC(pthread_mutex_lock(&pool->lock), "pthread_mutex_lock");
    while (pool->count == 0)
        CHECK_RC(pthread_cond_wait(&pool->not_empty, &pool->lock), "pthread_cond_wait");
    task t = pool->items[pool->head];
    pool->head = (pool->head + 1) % QUEUE_CAPACITY;
    pool->count--;
    task_arrow(worker, 'f', &t);
    CHECK_RC(pthread_cond_signal(&pool->not_full), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&pool->lock), "pthread_mutex_unlock");
    return t;
}

static void task_done(thread_pool *pool)
{
    CHECK_RC(pthread_mutex_lock(&pool->lock), "pthread_mutex_lock");
    if (++pool->done == pool->put)
        CHECK_RC(pthread_cond_broadcast(&pool->all_done), "pthread_cond_broadcast");
    CHECK_RC(pthread_mutex_unlock(&pool->lock), "pthread_mutex_unlock");
}

static void *thread_worker(void *arg)
{
    thread_worker_arg *self = arg;
    for (;;) {
        task t = queue_get(self->pool, self->worker);
        bool more = run_task(&t, self->pool->job, self->worker);
        task_done(self->pool);
        if (!more) return NULL;
    }
}

/* Waits until every task put is done; a pool unfinished `bound_s` seconds later is a hang:
 * exit 3 saying how far it got. */
static void await_all_done(thread_pool *pool, double bound_s, const char *what)
{
    struct timespec deadline;
    if (clock_gettime(CLOCK_REALTIME, &deadline) != 0) die_errno("clock_gettime");
    deadline.tv_sec += (time_t)bound_s + 1;
    CHECK_RC(pthread_mutex_lock(&pool->lock), "pthread_mutex_lock");
    while (pool->done < pool->put) {
        int rc = pthread_cond_timedwait(&pool->all_done, &pool->lock, &deadline);
        if (rc == ETIMEDOUT && pool->done < pool->put) {
            char progress[96];
            describe_map(pool->job, progress, sizeof progress);
            die_msg("%s: %ld of %ld tasks done after %.0f s; %s", what, pool->done, pool->put,
                    bound_s, progress);
        }
        if (rc != 0 && rc != ETIMEDOUT) die_code("pthread_cond_timedwait", rc);
    }
    CHECK_RC(pthread_mutex_unlock(&pool->lock), "pthread_mutex_unlock");
}

/* Untimed: start W pthreads, let them first-touch the map's chunks, wait until all are done. */
static void *start_thread_pool(cube_job *job)
{
    thread_pool *pool = checked_calloc(1, sizeof *pool);
    pool->job = job;
    CHECK_RC(pthread_mutex_init(&pool->lock, NULL), "pthread_mutex_init");
    CHECK_RC(pthread_cond_init(&pool->not_empty, NULL), "pthread_cond_init");
    CHECK_RC(pthread_cond_init(&pool->not_full, NULL), "pthread_cond_init");
    CHECK_RC(pthread_cond_init(&pool->all_done, NULL), "pthread_cond_init");
    pool->threads = checked_malloc((size_t)job->worker_count, sizeof *pool->threads);
    pool->args = checked_malloc((size_t)job->worker_count, sizeof *pool->args);
    for (int w = 0; w < job->worker_count; w++) {
        pool->args[w] = (thread_worker_arg){pool, w};
        CHECK_RC(pthread_create(&pool->threads[w], NULL, thread_worker, &pool->args[w]),
                 "pthread_create");
    }
    submit_tasks(job, TASK_TOUCH, queue_put, pool);
    await_all_done(pool, pool_work_bound_s(job->n, false), "pool start");
    return pool;
}

/* Timed: the map and apply on the ready pool, until every task is done (STOPs included: every
 * cube is in). */
static void map_on_thread_pool(void *started, cube_job *job)
{
    thread_pool *pool = started;
    submit_tasks(job, TASK_MAP, queue_put, pool);
    await_all_done(pool, pool_work_bound_s(job->n, job->uneven), "map");
}

/* After the clock, as for processes: join the threads, each returning from its STOP. */
static void stop_thread_pool(void *started, cube_job *job)
{
    thread_pool *pool = started;
    double began = trace_begin();
    for (int w = 0; w < job->worker_count; w++)
        CHECK_RC(pthread_join(pool->threads[w], NULL), "pthread_join");
    trace_span(TRACE_MAIN, "join", began, TRACE_NONE, TRACE_NONE);
    free(pool->threads);
    free(pool->args);
    CHECK_RC(pthread_cond_destroy(&pool->all_done), "pthread_cond_destroy");
    CHECK_RC(pthread_cond_destroy(&pool->not_full), "pthread_cond_destroy");
    CHECK_RC(pthread_cond_destroy(&pool->not_empty), "pthread_cond_destroy");
    CHECK_RC(pthread_mutex_destroy(&pool->lock), "pthread_mutex_destroy");
    free(pool);
}

/* ------------------------------------------------------------ where the cubes live */

/* Processes need memory both sides see: a shared anonymous mapping, inherited by fork()
 * (nothing named, so nothing can be left behind in /dev/shm), the job first, the cubes after. */
static cube_job *job_in_shared_memory(size_t n)
{
    cube_job *job = shared_alloc(sizeof *job + n * sizeof(uint64_t));
    job->out = (uint64_t *)(job + 1);
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) die_errno("signal"); /* EPIPE instead */
    return job;
}

static void free_shared_job(cube_job *job)
{
    shared_free(job, sizeof *job + job->n * sizeof(uint64_t));
}

/* Threads share the heap. */
static cube_job *job_on_heap(size_t n)
{
    cube_job *job = checked_calloc(1, sizeof *job);
    job->out = checked_malloc(n, sizeof *job->out);
    return job;
}

static void free_heap_job(cube_job *job)
{
    free(job->out);
    free(job);
}

/* The variants: name, --help line, where the cubes live, the pool started before the clock,
 * the map it runs on the clock, its join after the clock. */
static const struct variant {
    variant_doc doc;
    cube_job *(*allocate)(size_t n);
    void *(*start)(cube_job *job);
    void (*run)(void *pool, cube_job *job);
    void (*join)(void *pool, cube_job *job);
    void (*release)(cube_job *job);
} variants[] = {
    {{"process", "forked workers: tasks through a pipe, cubes into shared memory"},
     job_in_shared_memory, start_process_pool, map_on_process_pool, stop_process_pool,
     free_shared_job},
    {{"thread", "pthread workers: tasks through a mutex/condvar queue"},
     job_on_heap, start_thread_pool, map_on_thread_pool, stop_thread_pool, free_heap_job},
    {{NULL, NULL}, NULL, NULL, NULL, NULL, NULL}};

static const program_info info = {
    .concept = "pool_cube",
    .model = "posix",
    .summary = "Pool.map(cube, range(n)) and apply on a pool of forked processes or of pthreads.",
    VARIANT_TABLE(variants),
    .n_meaning = "range length: map computes cube(i) for i in 0..n-1",
    .default_n = 10,
    .max_n = 10000000000L, /* 80 GB of cubes: more is refused, less may fail malloc (exit 3) */
    .default_workers = 0, /* Pool() starts one worker per core */
    .takes_uneven = true,
};

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    size_t n = (size_t)opt.n;
    const struct variant *variant = &variants[opt.variant_index];
    cube_job *job = variant->allocate(n);
    job->n = n;
    job->worker_count = opt.workers;
    job->uneven = opt.uneven;
    job->apply_arg = n;
    trace_open(&opt, opt.workers);
    void *pool = variant->start(job); /* untimed: the pool started, every page touched, ready */

    double start = now_seconds();
    variant->run(pool, job);
    double elapsed = now_seconds() - start;

    variant->join(pool, job); /* untimed, watched: a worker that failed is still exit 3 */
    uint64_t checksum;
    bool pass = verify_cubes(job->out, n, &checksum);
    pass = verify_u64("apply(cube, n)", cube_u64(job->apply_arg), job->apply_result) && pass;
    trace_write(&info, &opt);

    if (!opt.quiet) print_u64_list(job->out, n);
    printf("map of %zu cubes: checksum %" PRIu64 " (expected %" PRIu64 "); apply(cube, %" PRIu64
           ") = %" PRIu64 "\n", n, checksum, cube_checksum_expected(n), job->apply_arg,
           job->apply_result);
    print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64 " per_worker=%s", checksum,
                 per_worker_text(job->per_worker, opt.workers));
    variant->release(job);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
