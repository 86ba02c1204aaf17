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
 *   process  W forked workers. The task queue is a pipe: each task is one write() smaller than
 *            PIPE_BUF, so it arrives whole even with several readers. Processes share no memory,
 *            so the cubes go into a MAP_SHARED mapping made before fork(). A worker that dies is
 *            found by waitpid() and reported (exit 3). The pipe cannot hang the parent: while
 *            one worker lives it drains the pipe, and once none does, write() fails with EPIPE.
 *   thread   W pthreads share the address space: the queue is an array under a mutex with two
 *            condition variables (not empty, not full), and the cubes go straight into `out`.
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

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"process", "forked workers: tasks through a pipe, cubes into shared memory"}},
    {{"thread", "pthread workers: tasks through a mutex/condvar queue"}},
    {{NULL, NULL}}};

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

enum { VARIANT_PROCESS, VARIANT_THREAD };

typedef enum { TASK_MAP, TASK_APPLY, TASK_STOP } task_kind;

typedef struct {
    task_kind kind;
    size_t begin, count; /* TASK_MAP: the chunk out[begin .. begin+count) */
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

/* Where the workers write: the cubes, and apply's answer. */
typedef struct {
    uint64_t apply_result;
    uint64_t *cubes;
} results;

/* What every worker does with a task, process or thread; false means stop. */
static bool run_task(const task *t, results *res)
{
    switch (t->kind) {
    case TASK_MAP:
        for (size_t i = t->begin; i < t->begin + t->count; i++) res->cubes[i] = cube_u64(i);
        return true;
    case TASK_APPLY:
        res->apply_result = cube_u64(t->number);
        return true;
    case TASK_STOP:
        break;
    }
    return false;
}

/* ------------------------------------------------------------ process pool: a pipe of tasks */

typedef struct {
    int task_pipe[2]; /* [0] the workers read tasks, [1] the parent writes them */
    results *res;     /* in shared memory: what the workers write, the parent sees */
    pid_t *pids;
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
        if (!run_task(&t, pool->res)) return; /* STOP */
    }
}

static void process_pool_start(process_pool *pool, int worker_count, results *res)
{
    if (pipe(pool->task_pipe) != 0) die_errno("pipe");
    pool->res = res;
    pool->pids = fork_workers(worker_count, process_worker, pool);
    close(pool->task_pipe[0]);
}

/* false when no worker is left to read (EPIPE): the caller stops submitting and joins. */
static bool process_pool_submit(process_pool *pool, task t)
{
    if (write(pool->task_pipe[1], &t, sizeof t) == (ssize_t)sizeof t) return true;
    if (errno != EPIPE) die_errno("write to the task pipe");
    return false;
}

/* Every worker reaped; one that died is reported by join_workers (exit 3). */
static void process_pool_join(process_pool *pool, int worker_count)
{
    close(pool->task_pipe[1]);
    join_workers(pool->pids, worker_count);
}

/* ------------------------------------------------------------ thread pool: a locked queue */

enum { QUEUE_CAPACITY = 64 };

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    task items[QUEUE_CAPACITY]; /* a ring: `count` tasks from `head` on */
    size_t head, count;
    int worker_count;
    pthread_t *threads;
    results *res;
} thread_pool;

static void queue_put(thread_pool *pool, task t)
{
    CHECK_RC(pthread_mutex_lock(&pool->lock), "pthread_mutex_lock");
    while (pool->count == QUEUE_CAPACITY) /* a loop: wake-ups can be spurious */
        CHECK_RC(pthread_cond_wait(&pool->not_full, &pool->lock), "pthread_cond_wait");
    pool->items[(pool->head + pool->count) % QUEUE_CAPACITY] = t;
    pool->count++;
    CHECK_RC(pthread_cond_signal(&pool->not_empty), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&pool->lock), "pthread_mutex_unlock");
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
        if (!run_task(&t, pool->res)) return NULL;
    }
}

static void thread_pool_start(thread_pool *pool, int worker_count, results *res)
{
    CHECK_RC(pthread_mutex_init(&pool->lock, NULL), "pthread_mutex_init");
    CHECK_RC(pthread_cond_init(&pool->not_empty, NULL), "pthread_cond_init");
    CHECK_RC(pthread_cond_init(&pool->not_full, NULL), "pthread_cond_init");
    pool->head = pool->count = 0;
    pool->worker_count = worker_count;
    pool->res = res;
    pool->threads = checked_malloc((size_t)worker_count, sizeof *pool->threads);
    for (int w = 0; w < worker_count; w++)
        CHECK_RC(pthread_create(&pool->threads[w], NULL, thread_worker, pool), "pthread_create");
}

static void thread_pool_join(thread_pool *pool)
{
    for (int w = 0; w < pool->worker_count; w++)
        CHECK_RC(pthread_join(pool->threads[w], NULL), "pthread_join");
    free(pool->threads);
    CHECK_RC(pthread_cond_destroy(&pool->not_full), "pthread_cond_destroy");
    CHECK_RC(pthread_cond_destroy(&pool->not_empty), "pthread_cond_destroy");
    CHECK_RC(pthread_mutex_destroy(&pool->lock), "pthread_mutex_destroy");
}

/* ------------------------------------------------------------ map and apply on either pool */

typedef struct {
    bool use_processes;
    process_pool processes;
    thread_pool threads;
} pool;

static bool pool_submit(pool *p, task t)
{
    if (p->use_processes) return process_pool_submit(&p->processes, t);
    queue_put(&p->threads, t);
    return true;
}

/* map(cube, range(n)) then apply(cube, number): every task queued, then one STOP per worker. */
static void pool_map_and_apply(pool *p, int worker_count, size_t n, uint64_t number)
{
    size_t chunk = (n + 4 * (size_t)worker_count - 1) / (4 * (size_t)worker_count);
    bool open = true;
    for (size_t begin = 0; begin < n && open; begin += chunk)
        open = pool_submit(p, new_task(TASK_MAP, begin, n - begin < chunk ? n - begin : chunk, 0));
    if (open) open = pool_submit(p, new_task(TASK_APPLY, 0, 0, number));
    for (int w = 0; w < worker_count && open; w++) open = pool_submit(p, new_task(TASK_STOP, 0, 0, 0));
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    size_t n = (size_t)opt.n;
    pool p = {.use_processes = opt.variant_index == VARIANT_PROCESS};
    results res = {0};
    uint64_t apply_arg = n;

    /* Processes need memory both sides see: a shared anonymous mapping, inherited by fork()
     * (nothing named, so nothing can be left behind in /dev/shm). Threads share the heap. */
    size_t bytes = sizeof res + n * sizeof(uint64_t);
    results *shared = &res;
    if (p.use_processes) {
        shared = shared_alloc(bytes);
        shared->cubes = (uint64_t *)(shared + 1);
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) die_errno("signal"); /* EPIPE instead */
    } else {
        res.cubes = checked_malloc(n, sizeof *res.cubes);
    }

    double start = now_seconds();
    if (p.use_processes) {
        process_pool_start(&p.processes, opt.workers, shared);
        pool_map_and_apply(&p, opt.workers, n, apply_arg);
        process_pool_join(&p.processes, opt.workers);
    } else {
        thread_pool_start(&p.threads, opt.workers, shared);
        pool_map_and_apply(&p, opt.workers, n, apply_arg);
        thread_pool_join(&p.threads);
    }
    double elapsed = now_seconds() - start;

    uint64_t checksum;
    bool pass = verify_cubes(shared->cubes, n, &checksum);
    pass = verify_u64("apply(cube, n)", cube_u64(apply_arg), shared->apply_result) && pass;

    if (!opt.quiet) print_u64_list(shared->cubes, n);
    printf("map of %zu cubes: checksum %" PRIu64 " (expected %" PRIu64 "); apply(cube, %" PRIu64
           ") = %" PRIu64 "\n", n, checksum, cube_checksum_expected(n), apply_arg,
           shared->apply_result);
    print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64, checksum);
    if (p.use_processes)
        shared_free(shared, bytes);
    else
        free(res.cubes);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
