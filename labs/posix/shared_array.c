/*
 * labs/posix/shared_array.c - exercise skeleton, generated from posix/shared_array.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=posix/shared_array
 * Start again from the skeleton: make lab-reset EX=posix/shared_array
 */
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
 * --trace shows each step as "lock wait" and "lock hold" (element, value read): in process and
 * thread the holds take turns; in private each child's holds are on its own lock and overlap.
 * A worker still running long after its share of the work should be done (a lock never given
 * back) is exit 3 naming how far each unfinished one got, never a hang: children through
 * join_workers_within, threads through the harness's watchdog.
 *
 * Run:  ./posix/shared_array
 *       ./posix/shared_array --variant private
 *       ./posix/shared_array -n 100000 -w 4 --variant thread --quiet
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS: not POSIX 2008, but on every Linux and BSD */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "../../common/harness.h"
#include "../../common/trace.h"
#include "../../common/workers.h"

/* The array and the lock that guards it, in one block so one mmap shares both. */
typedef struct {
    pthread_mutex_t lock;
    double values[];
} shared_block;

/* Where the array lives, which decides who sees the additions. */
typedef enum {
    SHARED_MAPPING, /* mmap(MAP_SHARED) before fork: parent and children see the same bytes */
    HEAP,           /* malloc: the threads of one process share it anyway */
    COPIED_HEAP,    /* malloc, then fork: each child adds to its own copy-on-write copy */
} array_home;

/* What a worker tells the parent, in a shared mapping (on a cache line of its own): how far it
 * got, for the join's watchdog, and (private) its verdict on its own copy. */
typedef struct {
    _Alignas(64) size_t added; /* elements this worker has added to */
    bool copy_ok;
} worker_status;

/* The array and what every worker needs to add to it; for process it points into the mapping. */
typedef struct {
    shared_block *block;
    size_t n;
    int worker_count;
    long delay_ms;
    worker_status *status; /* one per worker, in a shared mapping */
} shared_array;

/* add100 from the notebook: one locked read-modify-write per element. */
static void add_with_lock(void *shared, int worker)
{
    shared_array *array = shared;
    for (size_t i = 0; i < array->n; i++) {
        double waiting = trace_begin();
        /* TODO: lock the array before reading values[i]. Hint: pthread_mutex_lock(&array->block->lock) */
        double holding = trace_begin();
        trace_span(worker, "lock wait", waiting, (long)i, TRACE_NONE);
        double value = array->block->values[i];
        /* inside the lock: nobody else touches values[i] */
        if (array->delay_ms > 0) sleep_ms(array->delay_ms);
        array->block->values[i] = value + 1.0;
        trace_span(worker, "lock hold", holding, (long)i, (long)value); /* element, value read */
        /* TODO: unlock after the write. Hint: pthread_mutex_unlock */
        array->status[worker].added = i + 1;
    }
}

/* private: a child adds to its own copy and checks that copy, since the parent never sees it.
 * The verdict goes back through status, not the exit status: a wrong copy is a FAIL (exit 1),
 * a child that exits non-zero is a dead worker (exit 3). Like every worker that fork_workers
 * starts, the child leaves with _exit, on an error (die_*) as when it is done. */
static void add_to_own_copy(void *shared, int worker)
{
    shared_array *array = shared;
    add_with_lock(array, worker);
    bool ok = true;
    for (size_t i = 0; i < array->n && ok; i++)
        if (array->block->values[i] != 100.0 * (double)i + 1.0) {
            fprintf(stderr, "%s: worker %d: element %zu of its copy is %.1f, expected %.1f\n",
                    program_name(), worker, i, array->block->values[i], 100.0 * (double)i + 1.0);
            ok = false;
        }
    array->status[worker].copy_ok = ok;
}

/* For the join's watchdog: how far an unfinished child got. */
static void describe_worker(void *shared, int worker, char *text, size_t size)
{
    const shared_array *array = shared;
    snprintf(text, size, "worker %d added to %zu of %zu elements", worker,
             array->status[worker].added, array->n);
}

/* The workers take turns at the lock: W * n steps of at least delay_ms each. A join still
 * waiting after twice that (at 20 us a step, plus 10 s for a loaded machine) waits for a
 * worker that hangs (a lock never given back): it is exit 3, naming how far each unfinished
 * worker got. */
static double join_bound_s(const shared_array *array)
{
    double steps = (double)array->worker_count * (double)array->n;
    return 10.0 + 2.0 * steps * ((double)array->delay_ms / 1000.0 + 20e-6);
}

static void join_children(shared_array *array, pid_t *pids)
{
    join_workers_within(pids, array->worker_count, join_bound_s(array), describe_worker, array);
}

/* pthread_join has no bound of its own: the harness's watchdog gives the threads' join the
 * children's bound, and names the same. */
static void describe_threads(const void *state, char *text, size_t size)
{
    const shared_array *array = state;
    int unfinished = 0;
    for (int w = 0; w < array->worker_count; w++) unfinished += array->status[w].added < array->n;
    size_t used = (size_t)snprintf(text, size, "join: %d of %d workers unfinished:", unfinished,
                                   array->worker_count);
    for (int w = 0, listed = 0; w < array->worker_count && used < size; w++)
        if (array->status[w].added < array->n)
            used += (size_t)snprintf(text + used, size - used, "%s worker %d added to %zu of %zu",
                                     listed++ ? "," : "", w, array->status[w].added, array->n);
}

static void add_with_processes(shared_array *array)
{
    join_children(array, fork_workers(array->worker_count, add_with_lock, array));
}

static void add_with_threads(shared_array *array)
{
    watchdog_start(join_bound_s(array), describe_threads, array);
    run_threads(array->worker_count, add_with_lock, array);
    watchdog_stop();
}

/* fork, but the block is ordinary memory: each child gets a copy of it. */
static void add_to_private_copies(shared_array *array)
{
    join_children(array, fork_workers(array->worker_count, add_to_own_copy, array));
}

/* The variants: name, --help line, the function that runs it, and where the array lives.
 * The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(shared_array *array);
    array_home home;
} variants[] = {
    {{"process", "fork; array + process-shared mutex in a MAP_SHARED mapping"}, add_with_processes,
     SHARED_MAPPING},
    {{"thread", "pthreads; heap array + pthread mutex"}, add_with_threads, HEAP},
    {{"private", "fork without shared memory: the parent's array stays unchanged"},
     add_to_private_copies, COPIED_HEAP},
    {{NULL, NULL}, NULL, HEAP}};

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

/* process: a shared mapping + a process-shared mutex; thread and private: plain heap memory. */
static shared_block *new_block(size_t n, array_home home, size_t bytes)
{
    shared_block *block;
    if (home == SHARED_MAPPING) {
        /* MAP_SHARED: the children forked later write these very pages, not copies of them. */
        block = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (block == MAP_FAILED) die_errno("mmap");
    } else {
        block = checked_malloc(1, bytes);
    }
    pthread_mutexattr_t attr;
    CHECK_RC(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    /* The notebook's multiprocessing.Lock: a mutex that works across processes. */
    CHECK_RC(pthread_mutexattr_setpshared(&attr, home == SHARED_MAPPING ? PTHREAD_PROCESS_SHARED
                                                                        : PTHREAD_PROCESS_PRIVATE),
             "pthread_mutexattr_setpshared");
    CHECK_RC(pthread_mutex_init(&block->lock, &attr), "pthread_mutex_init");
    CHECK_RC(pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy");
    /* The first touch of every page, before the clock: every worker writes every element. */
    for (size_t i = 0; i < n; i++) block->values[i] = 100.0 * (double)i;
    return block;
}

static void free_block(shared_block *block, array_home home, size_t bytes)
{
    CHECK_RC(pthread_mutex_destroy(&block->lock), "pthread_mutex_destroy");
    if (home != SHARED_MAPPING)
        free(block);
    else if (munmap(block, bytes) != 0)
        die_errno("munmap");
}

/* The end of the notebook's run: the parent's array, checked against 100*i + W (private: 100*i,
 * and every child's verdict on its own copy), the summary beside the closed form, the RESULT
 * line. Returns whether it verified. */
static bool report(const options *opt, const shared_array *array, array_home home, double elapsed)
{
    /* private: the children's additions went to their copies; the parent sees none of them. */
    int added = home == COPIED_HEAP ? 0 : opt->workers;
    const double *values = array->block->values;
    size_t n = array->n;
    double expected, checksum;
    bool pass = verify_array_checksum(values, n, added, &expected, &checksum);
    if (home == COPIED_HEAP)
        for (int w = 0; w < opt->workers; w++)
            if (!array->status[w].copy_ok) {
                fprintf(stderr, "%s: worker %d's own copy did not become 100*i + 1\n",
                        program_name(), w);
                pass = false;
            }
    if (!opt->quiet) {
        printf("array at the end is ");
        print_double_list(values, n);
    }
    if (home == COPIED_HEAP)
        printf("%d children each added 1 to their own copy of %zu elements; the parent's array: "
               "checksum %.1f (expected %.1f, unchanged)\n", opt->workers, n, checksum, expected);
    else
        printf("%d workers each added 1 to %zu elements: checksum %.1f (expected %.1f)\n",
               opt->workers, n, checksum, expected);
    print_result(&info, opt, pass, elapsed, "expected=%.1f checksum=%.1f", expected, checksum);
    return pass;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    size_t n = (size_t)opt.n;
    array_home home = variants[opt.variant_index].home;
    size_t bytes = sizeof(shared_block) + n * sizeof(double);
    shared_block *block = new_block(n, home, bytes);
    if (!opt.quiet) {
        printf("array at the beginning is ");
        print_double_list(block->values, n);
    }
    size_t status_bytes = (size_t)opt.workers * sizeof(worker_status);
    shared_array array = {.block = block, .n = n, .worker_count = opt.workers,
                          .delay_ms = opt.delay_ms, .status = shared_alloc(status_bytes)};
    trace_open(&opt, opt.workers);

    double start = now_seconds();
    variants[opt.variant_index].run(&array);
    double elapsed = now_seconds() - start;

    trace_write(&info, &opt);
    bool pass = report(&opt, &array, home, elapsed);
    shared_free(array.status, status_bytes);
    free_block(block, home, bytes);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
