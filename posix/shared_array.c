/*
 * posix/shared_array.c - the notebook's Array('d', [0.0, 100.0, 200.0]): every worker adds 1 to
 * every element, under a lock, with processes or threads.
 *
 * Python:  shared_array = Array('d', [0.0, 100.0, 200.0])
 *          def add100(number, lock):
 *              for i in range(len(number)):
 *                  with lock: number[i] += 1
 *          two Processes run add100   ->  array at the end is [2.0, 102.0, 202.0]
 *
 * One worker function serves all three variants; only where the array (and its lock) lives differs:
 *   process  fork: the array and a PTHREAD_PROCESS_SHARED mutex sit in one mmap(MAP_SHARED)
 *            mapping made before fork, so parent and children see the same bytes (what
 *            multiprocessing.Array builds for you)
 *   thread   pthreads: ordinary heap memory and an ordinary mutex; threads share it anyway
 *   private  fork with plain heap memory: each child adds 1 to its own copy-on-write copy and
 *            checks it, writing its verdict into a small shared flag per child (the one thing
 *            shared); the parent's array stays [0.0, 100.0, 200.0]. PASS means unchanged and
 *            every child's copy right: the notebook's "separate memory space".
 * Observe: --delay-ms D pauses inside each locked step, so the locked variants take at least
 * workers * n * D ms (the lock serialises them), private only n * D (nothing is shared).
 *
 * Run:  ./posix/shared_array
 *       ./posix/shared_array --variant private
 *       ./posix/shared_array -n 100000 -w 4 --variant thread --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/workers.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"process", "fork; array + process-shared mutex in a MAP_SHARED mapping"}},
    {{"thread", "pthreads; heap array + pthread mutex"}},
    {{"private", "fork without shared memory: the parent's array stays unchanged"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "shared_array",
    .model = "posix",
    .summary = "Array('d', ...): every worker adds 1 to every element under a lock, with processes or "
               "threads.",
    VARIANT_TABLE(variants),
    .n_meaning = "elements; element i starts at 100*i",
    .default_n = 3,
    /* The checksum 100*n(n-1)/2 + workers*n must stay below 2^53 to be exact in a double. */
    .max_n = 10000000,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 0,
};

enum { VARIANT_PROCESS, VARIANT_THREAD, VARIANT_PRIVATE };

/* The array and the lock that guards it, in one block so one mmap shares both. */
typedef struct {
    pthread_mutex_t lock;
    double values[];
} shared_block;

/* Everything a worker needs; for process it points into the shared mapping. */
typedef struct {
    shared_block *block;
    size_t n;
    long delay_ms;
    bool *copy_ok; /* private: each child's verdict on its own copy, in a shared mapping */
} array_job;

/* add100 from the notebook: one locked read-modify-write per element. */
static void add_with_lock(void *shared, int worker)
{
    (void)worker; /* every worker does the same */
    array_job *job = shared;
    for (size_t i = 0; i < job->n; i++) {
        CHECK_RC(pthread_mutex_lock(&job->block->lock), "pthread_mutex_lock");
        double value = job->block->values[i];
        if (job->delay_ms > 0) sleep_ms(job->delay_ms); /* inside the lock: nobody else touches it */
        job->block->values[i] = value + 1.0;
        CHECK_RC(pthread_mutex_unlock(&job->block->lock), "pthread_mutex_unlock");
    }
}

/* private: a child adds to its own copy and checks that copy, since the parent never sees it.
 * The verdict goes back through copy_ok, not the exit status: a wrong copy is a FAIL (exit 1),
 * a child that exits non-zero is a dead worker (exit 3). */
static void add_to_own_copy(void *shared, int worker)
{
    array_job *job = shared;
    add_with_lock(job, worker);
    bool ok = true;
    for (size_t i = 0; i < job->n && ok; i++)
        if (job->block->values[i] != 100.0 * (double)i + 1.0) {
            fprintf(stderr, "%s: worker %d: element %zu of its copy is %.1f, expected %.1f\n",
                    program_name(), worker, i, job->block->values[i], 100.0 * (double)i + 1.0);
            ok = false;
        }
    job->copy_ok[worker] = ok;
}

/* process: shared mapping + process-shared mutex; thread and private: plain heap memory. */
static shared_block *make_block(size_t n, bool between_processes, size_t bytes)
{
    shared_block *block = between_processes ? shared_alloc(bytes) : checked_malloc(1, bytes);
    pthread_mutexattr_t attr;
    CHECK_RC(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    /* The notebook's multiprocessing.Lock: a mutex that works across processes. */
    CHECK_RC(pthread_mutexattr_setpshared(&attr, between_processes ? PTHREAD_PROCESS_SHARED
                                                                   : PTHREAD_PROCESS_PRIVATE),
             "pthread_mutexattr_setpshared");
    CHECK_RC(pthread_mutex_init(&block->lock, &attr), "pthread_mutex_init");
    CHECK_RC(pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy");
    for (size_t i = 0; i < n; i++) block->values[i] = 100.0 * (double)i;
    return block;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    size_t n = (size_t)opt.n;
    size_t bytes = sizeof(shared_block) + n * sizeof(double);
    bool shared_mapping = opt.variant_index == VARIANT_PROCESS;
    shared_block *block = make_block(n, shared_mapping, bytes);
    size_t verdict_bytes = (size_t)opt.workers * sizeof(bool);
    bool *copy_ok = shared_alloc(verdict_bytes);
    array_job job = {.block = block, .n = n, .delay_ms = opt.delay_ms, .copy_ok = copy_ok};

    if (!opt.quiet) {
        printf("array at the beginning is ");
        print_double_list(block->values, n);
    }

    double start = now_seconds();
    if (opt.variant_index == VARIANT_PROCESS)
        run_processes(opt.workers, add_with_lock, &job);
    else if (opt.variant_index == VARIANT_THREAD)
        run_threads(opt.workers, add_with_lock, &job);
    else /* fork, but the block is ordinary memory: each child gets a copy of it */
        run_processes(opt.workers, add_to_own_copy, &job);
    double elapsed = now_seconds() - start;

    /* private: the children's additions went to their copies; the parent sees none of them. */
    int added = opt.variant_index == VARIANT_PRIVATE ? 0 : opt.workers;
    double expected, checksum;
    bool pass = verify_array_checksum(block->values, n, added, &expected, &checksum);
    if (opt.variant_index == VARIANT_PRIVATE)
        for (int w = 0; w < opt.workers; w++)
            if (!copy_ok[w]) {
                fprintf(stderr, "%s: worker %d's own copy did not become 100*i + 1\n",
                        program_name(), w);
                pass = false;
            }

    if (!opt.quiet) {
        printf("array at the end is ");
        print_double_list(block->values, n);
    }
    if (opt.variant_index == VARIANT_PRIVATE)
        printf("%d children each added 1 to their own copy of %zu elements; the parent's array: "
               "checksum %.1f (expected %.1f, unchanged)\n", opt.workers, n, checksum, expected);
    else
        printf("%d workers each added 1 to %zu elements: checksum %.1f (expected %.1f)\n",
               opt.workers, n, checksum, expected);
    print_result(&info, &opt, pass, elapsed, "expected=%.1f checksum=%.1f", expected, checksum);

    CHECK_RC(pthread_mutex_destroy(&block->lock), "pthread_mutex_destroy");
    shared_free(copy_ok, verdict_bytes);
    if (shared_mapping)
        shared_free(block, bytes);
    else
        free(block);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
