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
 *            MAP_SHARED mapping made before fork(). A worker that dies is found by waitpid() and
 *            reported (exit 3). The pipe cannot hang the parent: while one worker lives it
 *            drains the pipe, and once none does, write() fails with EPIPE.
 *   thread   W pthreads share the address space: the queue is an array under a mutex with two
 *            condition variables (not empty, not full), and the cubes go straight into `out`.
 * Before the clock, the same pool runs once with TOUCH tasks of the same chunks: every page of
 * `out` is first written by a worker of the pool, as the map will write it, so the clock times
 * the map, not the kernel handing out fresh pages (the omp and mpi versions do the same).
 * A forked worker still pays a fault per page it writes, inside the clock: fork() copies no page
 * table entries of a shared mapping, so a new child's first write to each page, even to a page
 * that exists already, asks the kernel for the entry. Threads share one page table and do not.
 * Measure it: compare process and thread at -n 100000000 -w 2, and count the faults with
 * /usr/bin/time -f %R (twice the pages: the touching pool's children, then the timed ones).
 *
 * Run:  ./posix/pool_cube
 *       ./posix/pool_cube -n 100000000 -w 2 --variant thread --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/harness.h"
#include "../common/workers.h"

/* One run of the pool: the range, where the cubes go, and apply's call. For processes it lives,
 * with the cubes after it, in memory the workers share. */
typedef struct {
    size_t n;
    int worker_count;
    uint64_t apply_arg, apply_result;
    uint64_t *out;
} cube_job;

typedef enum { TASK_TOUCH, TASK_MAP, TASK_APPLY, TASK_STOP } task_kind;

typedef struct {
    task_kind kind;
    size_t begin, count; /* TASK_TOUCH, TASK_MAP: the chunk out[begin .. begin+count) */
    uint64_t number;     /* TASK_APPLY: the argument */
} task;

/* Tasks travel whole through a pipe, padding bytes included: zero them, or the pipe carries
 * uninitialised memory (valgrind says so; it could also leak what the stack held). */
static task new_task(task_kind kind, size_t begin, size_t count, uint64_t number)
{
    task t;
    memset(&t, 0, sizeof t);
    t.kind = kind;
    t.begin = begin;
    t.count = count;
    t.number = number;
    return t;
}

/* What every worker does with a task, process or thread; false means stop. */
static bool run_task(const task *t, cube_job *job)
{
    switch (t->kind) {
    case TASK_TOUCH: /* first touch, before the clock: the page is made where it will be used */
        for (size_t i = t->begin; i < t->begin + t->count; i++) job->out[i] = 0;
        return true;
    case TASK_MAP:
        for (size_t i = t->begin; i < t->begin + t->count; i++) job->out[i] = cube_u64(i);
        return true;
    case TASK_APPLY:
        job->apply_result = cube_u64(t->number);
        return true;
    case TASK_STOP:
        break;
    }
    return false;
}

/* map(cube, range(n)) as `kind` tasks (TASK_TOUCH before the clock, TASK_MAP), then for a map
 * apply(cube, number), then one STOP per worker. submit returns false once no worker is left to
 * take tasks: the caller then joins, and the join reports the dead worker. */
static void submit_tasks(cube_job *job, task_kind kind, bool (*submit)(void *pool, task t),
                         void *pool)
{
    size_t n = job->n, chunk = (n + 4 * (size_t)job->worker_count - 1) / (4 * (size_t)job->worker_count);
    bool open = true;
    for (size_t begin = 0; begin < n && open; begin += chunk)
        open = submit(pool, new_task(kind, begin, n - begin < chunk ? n - begin : chunk, 0));
    if (open && kind == TASK_MAP) open = submit(pool, new_task(TASK_APPLY, 0, 0, job->apply_arg));
    for (int w = 0; w < job->worker_count && open; w++) open = submit(pool, new_task(TASK_STOP, 0, 0, 0));
}

/* ------------------------------------------------------------ process pool: a pipe of tasks */

typedef struct {
    int task_pipe[2]; /* [0] the workers read tasks, [1] the parent writes them */
    cube_job *job;    /* in shared memory: what the workers write, the parent sees */
} process_pool;

/* A forked worker: take tasks until STOP, or until the parent closes the pipe. */
static void process_worker(void *shared, int worker)
{
    process_pool *pool = shared;
    task t;
    (void)worker;
    close(pool->task_pipe[1]); /* so the read end sees EOF once the parent closes its end */
    for (;;) {
        ssize_t got = read(pool->task_pipe[0], &t, sizeof t);
        if (got < 0 && errno == EINTR) continue;
        if (got == 0) return; /* EOF: the parent closed the pipe */
        /* A task is one write() below PIPE_BUF, so it arrives whole or not at all. */
        if (got < 0) die_errno("read from the task pipe");
        if (got != (ssize_t)sizeof t)
            die_msg("read from the task pipe returned %zd of %zu bytes", got, sizeof t);
        if (!run_task(&t, pool->job)) return; /* STOP */
    }
}

/* false when no worker is left to read (EPIPE): the caller stops submitting and joins. */
static bool process_pool_submit(void *shared, task t)
{
    process_pool *pool = shared;
    if (write(pool->task_pipe[1], &t, sizeof t) == (ssize_t)sizeof t) return true;
    if (errno != EPIPE) die_errno("write to the task pipe");
    return false;
}

/* Start W forked workers, give them every task, reap them all (one that died: exit 3). */
static void run_process_pool(cube_job *job, task_kind kind)
{
    process_pool pool = {.job = job};
    if (pipe(pool.task_pipe) != 0) die_errno("pipe");
    pid_t *pids = fork_workers(job->worker_count, process_worker, &pool);
    close(pool.task_pipe[0]);
    submit_tasks(job, kind, process_pool_submit, &pool);
    close(pool.task_pipe[1]);
    join_workers(pids, job->worker_count);
}

/* ------------------------------------------------------------ thread pool: a locked queue */

enum { QUEUE_CAPACITY = 64 };

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    task items[QUEUE_CAPACITY]; /* a ring: `count` tasks from `head` on */
    size_t head, count;
    cube_job *job;
} thread_pool;

static bool queue_put(void *shared, task t)
{
    thread_pool *pool = shared;
    CHECK_RC(pthread_mutex_lock(&pool->lock), "pthread_mutex_lock");
    while (pool->count == QUEUE_CAPACITY) /* a loop: wake-ups can be spurious */
        CHECK_RC(pthread_cond_wait(&pool->not_full, &pool->lock), "pthread_cond_wait");
    pool->items[(pool->head + pool->count) % QUEUE_CAPACITY] = t;
    pool->count++;
    CHECK_RC(pthread_cond_signal(&pool->not_empty), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&pool->lock), "pthread_mutex_unlock");
    return true; /* a thread cannot die alone: no worker is ever missing */
}

static task queue_get(thread_pool *pool)
{
    CHECK_RC(pthread_mutex_lock(&pool->lock), "pthread_mutex_lock");
    while (pool->count == 0)
        CHECK_RC(pthread_cond_wait(&pool->not_empty, &pool->lock), "pthread_cond_wait");
    task t = pool->items[pool->head];
    pool->head = (pool->head + 1) % QUEUE_CAPACITY;
    pool->count--;
    CHECK_RC(pthread_cond_signal(&pool->not_full), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&pool->lock), "pthread_mutex_unlock");
    return t;
}

static void *thread_worker(void *arg)
{
    thread_pool *pool = arg;
    for (;;) {
        task t = queue_get(pool);
        if (!run_task(&t, pool->job)) return NULL;
    }
}

/* Start W pthreads, give them every task, join them all. */
static void run_thread_pool(cube_job *job, task_kind kind)
{
    thread_pool pool = {.head = 0, .count = 0, .job = job};
    CHECK_RC(pthread_mutex_init(&pool.lock, NULL), "pthread_mutex_init");
    CHECK_RC(pthread_cond_init(&pool.not_empty, NULL), "pthread_cond_init");
    CHECK_RC(pthread_cond_init(&pool.not_full, NULL), "pthread_cond_init");
    pthread_t *threads = checked_malloc((size_t)job->worker_count, sizeof *threads);
    for (int w = 0; w < job->worker_count; w++)
        CHECK_RC(pthread_create(&threads[w], NULL, thread_worker, &pool), "pthread_create");
    submit_tasks(job, kind, queue_put, &pool);
    for (int w = 0; w < job->worker_count; w++)
        CHECK_RC(pthread_join(threads[w], NULL), "pthread_join");
    free(threads);
    CHECK_RC(pthread_cond_destroy(&pool.not_full), "pthread_cond_destroy");
    CHECK_RC(pthread_cond_destroy(&pool.not_empty), "pthread_cond_destroy");
    CHECK_RC(pthread_mutex_destroy(&pool.lock), "pthread_mutex_destroy");
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

/* The variants: name, --help line, where the cubes live, the pool that computes them. */
static const struct variant {
    variant_doc doc;
    cube_job *(*allocate)(size_t n);
    void (*run)(cube_job *job, task_kind kind);
    void (*release)(cube_job *job);
} variants[] = {
    {{"process", "forked workers: tasks through a pipe, cubes into shared memory"},
     job_in_shared_memory, run_process_pool, free_shared_job},
    {{"thread", "pthread workers: tasks through a mutex/condvar queue"},
     job_on_heap, run_thread_pool, free_heap_job},
    {{NULL, NULL}, NULL, NULL, NULL}};

static const program_info info = {
    .concept = "pool_cube",
    .model = "posix",
    .summary = "Pool.map(cube, range(n)) and apply on a pool of forked processes or of pthreads.",
    VARIANT_TABLE(variants),
    .n_meaning = "range length: map computes cube(i) for i in 0..n-1",
    .default_n = 10,
    .max_n = 10000000000L, /* 80 GB of cubes: more is refused, less may fail malloc (exit 3) */
    .default_workers = 0, /* Pool() starts one worker per core */
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
    job->apply_arg = n;
    variant->run(job, TASK_TOUCH); /* untimed: every page first written by a worker, same chunks */

    double start = now_seconds();
    variant->run(job, TASK_MAP);
    double elapsed = now_seconds() - start;

    uint64_t checksum;
    bool pass = verify_cubes(job->out, n, &checksum);
    pass = verify_u64("apply(cube, n)", cube_u64(job->apply_arg), job->apply_result) && pass;

    if (!opt.quiet) print_u64_list(job->out, n);
    printf("map of %zu cubes: checksum %" PRIu64 " (expected %" PRIu64 "); apply(cube, %" PRIu64
           ") = %" PRIu64 "\n", n, checksum, cube_checksum_expected(n), job->apply_arg,
           job->apply_result);
    print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64, checksum);
    variant->release(job);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
