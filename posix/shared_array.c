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
 *            checks it (exit 0 only when its copy became 100*i + 1); the parent's array stays
 *            [0.0, 100.0, 200.0]. PASS means unchanged: the notebook's "separate memory space".
 * Observe: --delay-ms D pauses inside each locked step, so the locked variants take at least
 * workers * n * D ms (the lock serialises them), private only n * D (nothing is shared).
 *
 * Run:  ./posix/shared_array
 *       ./posix/shared_array --variant private
 *       ./posix/shared_array -n 100000 -w 4 --variant thread --quiet
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS: not in POSIX 2008, but in every Linux and BSD */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "../common/harness.h"

static const program_info info = {
    .concept = "shared_array",
    .model = "posix",
    .summary = "Array('d', ...): every worker adds 1 to every element under a lock, with processes or "
               "threads.",
    .variants = {{"process", "fork; array + process-shared mutex in a MAP_SHARED mapping"},
                 {"thread", "pthreads; heap array + pthread mutex"},
                 {"private", "fork without shared memory: the parent's array stays unchanged"},
                 {NULL, NULL}},
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

typedef struct {
    shared_block *block;
    size_t n;
    long delay_ms;
} worker_args;

/* add100 from the notebook: one locked read-modify-write per element. */
static void add_one_to_each(shared_block *block, size_t n, long delay_ms)
{
    for (size_t i = 0; i < n; i++) {
        CHECK_RC(pthread_mutex_lock(&block->lock), "pthread_mutex_lock");
        double value = block->values[i];
        if (delay_ms > 0) sleep_ms(delay_ms); /* inside the lock: nobody else touches values[i] */
        block->values[i] = value + 1.0;
        CHECK_RC(pthread_mutex_unlock(&block->lock), "pthread_mutex_unlock");
    }
}

static void *thread_worker(void *arg)
{
    worker_args *args = arg;
    add_one_to_each(args->block, args->n, args->delay_ms);
    return NULL;
}

/* In a child: die with the parent. The parent reaps every child on its own paths; this
 * covers the one it cannot, being killed itself. */
static void die_with_parent(pid_t parent)
{
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(EXIT_SYSTEM);
#endif
    if (getppid() != parent) _exit(EXIT_SYSTEM); /* the parent died before prctl took hold */
}

/* A child's whole life: add, check its view of the array (private: its own copy), leave. */
static _Noreturn void child_worker(const worker_args *args, pid_t parent, bool own_copy)
{
    die_with_parent(parent);
    add_one_to_each(args->block, args->n, args->delay_ms);
    if (own_copy)
        for (size_t i = 0; i < args->n; i++)
            if (args->block->values[i] != 100.0 * (double)i + 1.0) _exit(EXIT_FAIL);
    _exit(EXIT_PASS); /* _exit: the parent's stdio buffers are the parent's to flush */
}

static void kill_and_reap(const pid_t *pids, int count)
{
    for (int w = 0; w < count; w++)
        if (pids[w] > 0) kill(pids[w], SIGKILL);
    for (int w = 0; w < count; w++)
        if (pids[w] > 0) waitpid(pids[w], NULL, 0);
}

/* Waits for every child in any order; the first that fails ends the others (they might wait
 * forever on a lock it held) and the program with exit 3, naming the worker. */
static void join_children(pid_t *pids, int count)
{
    for (int left = count; left > 0; left--) {
        int status, worker = -1;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) {
                left++;
                continue;
            }
            die_errno("waitpid");
        }
        for (int w = 0; w < count; w++)
            if (pids[w] == pid) worker = w;
        if (worker < 0) continue;
        pids[worker] = 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_PASS) continue;
        kill_and_reap(pids, count);
        if (WIFEXITED(status))
            die_msg("worker %d (pid %ld) exited with status %d%s", worker, (long)pid,
                    WEXITSTATUS(status),
                    WEXITSTATUS(status) == EXIT_FAIL ? ": its own copy of the array was wrong" : "");
        die_msg("worker %d (pid %ld) was killed by signal %d (%s)", worker, (long)pid,
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    }
}

static void run_processes(const worker_args *args, int workers, bool own_copy)
{
    pid_t *pids = checked_calloc((size_t)workers, sizeof *pids);
    pid_t parent = getpid();
    fflush(stdout); /* or each child would inherit, and later print, the unflushed lines */
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid < 0) {
            int fork_errno = errno;
            kill_and_reap(pids, w);
            errno = fork_errno;
            die_errno("fork");
        }
        if (pid == 0) child_worker(args, parent, own_copy);
        pids[w] = pid;
    }
    join_children(pids, workers);
    free(pids);
}

static void run_threads(worker_args *args, int workers)
{
    pthread_t *threads = checked_malloc((size_t)workers, sizeof *threads);
    for (int w = 0; w < workers; w++)
        CHECK_RC(pthread_create(&threads[w], NULL, thread_worker, args), "pthread_create");
    for (int w = 0; w < workers; w++) CHECK_RC(pthread_join(threads[w], NULL), "pthread_join");
    free(threads);
}

/* process: shared mapping + process-shared mutex; thread and private: plain heap memory. */
static shared_block *make_block(size_t n, bool between_processes, size_t *bytes)
{
    shared_block *block;
    pthread_mutexattr_t attr;
    *bytes = sizeof *block + n * sizeof block->values[0];
    if (between_processes) {
        block = mmap(NULL, *bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (block == MAP_FAILED) die_errno("mmap");
    } else {
        block = checked_malloc(1, *bytes);
    }
    CHECK_RC(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    if (between_processes)
        CHECK_RC(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                 "pthread_mutexattr_setpshared");
    CHECK_RC(pthread_mutex_init(&block->lock, &attr), "pthread_mutex_init");
    CHECK_RC(pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy");
    for (size_t i = 0; i < n; i++) block->values[i] = 100.0 * (double)i;
    return block;
}

/* What the elements must add up to: sum of 100*i, plus 1 per worker per element that reached us. */
static double expected_checksum(size_t n, int added_per_element)
{
    uint64_t base = n == 0 ? 0 : 100 * (uint64_t)n * (n - 1) / 2;
    return (double)(base + (uint64_t)added_per_element * n);
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    size_t n = (size_t)opt.n, bytes;
    bool shared_mapping = opt.variant_index == VARIANT_PROCESS;
    shared_block *block = make_block(n, shared_mapping, &bytes);
    worker_args args = {.block = block, .n = n, .delay_ms = opt.delay_ms};

    if (!opt.quiet) {
        printf("array at the beginning is ");
        print_double_list(block->values, n);
    }

    double start = now_seconds();
    if (opt.variant_index == VARIANT_THREAD)
        run_threads(&args, opt.workers);
    else
        run_processes(&args, opt.workers, opt.variant_index == VARIANT_PRIVATE);
    double elapsed = now_seconds() - start;

    /* private: the children's additions went to their copies; the parent sees none of them. */
    int added = opt.variant_index == VARIANT_PRIVATE ? 0 : opt.workers;
    double expected = expected_checksum(n, added), checksum;
    bool pass = verify_array(block->values, n, added, &checksum);
    if (checksum != expected) {
        fprintf(stderr, "%s: checksum %.1f, expected %.1f\n", program_name(), checksum, expected);
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
    if (shared_mapping) {
        if (munmap(block, bytes) != 0) die_errno("munmap");
    } else {
        free(block);
    }
    return pass ? EXIT_PASS : EXIT_FAIL;
}
