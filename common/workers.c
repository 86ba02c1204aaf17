/*
 * workers.c - threads and forked processes started, joined and reported (see workers.h):
 * posix/spawn.c's lesson packaged, plus the liveness watching (workers_check).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS and strsignal: not POSIX 2008, but on every Linux and BSD */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "harness.h"

typedef struct {
    worker_fn fn;
    void *shared;
    int worker;
} thread_start;

static void *thread_main(void *arg)
{
    thread_start *start = arg;
    start->fn(start->shared, start->worker);
    return NULL;
}

void run_threads(int worker_count, worker_fn fn, void *shared)
{
    pthread_t *threads = checked_malloc((size_t)worker_count, sizeof *threads);
    thread_start *starts = checked_malloc((size_t)worker_count, sizeof *starts);
    for (int w = 0; w < worker_count; w++) {
        starts[w] = (thread_start){fn, shared, w};
        CHECK_RC(pthread_create(&threads[w], NULL, thread_main, &starts[w]), "pthread_create");
    }
    for (int w = 0; w < worker_count; w++) CHECK_RC(pthread_join(threads[w], NULL), "pthread_join");
    free(starts);
    free(threads);
}

void stop_workers(pid_t *pids, int worker_count)
{
    for (int w = 0; w < worker_count; w++)
        if (pids[w] > 0) kill(pids[w], SIGKILL);
    for (int w = 0; w < worker_count; w++)
        if (pids[w] > 0)
            while (waitpid(pids[w], NULL, 0) < 0 && errno == EINTR) {
            }
}

/* In the child, first thing: die when the parent dies, so no worker is ever orphaned. */
static void die_with_parent(pid_t parent)
{
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(EXIT_SYSTEM);
#endif
    if (getppid() != parent) _exit(EXIT_SYSTEM); /* the parent died before prctl took hold */
}

pid_t *fork_workers(int worker_count, worker_fn fn, void *shared)
{
    pid_t parent = getpid();
    pid_t *pids = checked_calloc((size_t)worker_count, sizeof *pids);
    fflush(stdout);
    fflush(stderr);
    for (int w = 0; w < worker_count; w++) {
        pid_t pid = fork();
        if (pid < 0) {
            int fork_errno = errno;
            stop_workers(pids, worker_count);
            die_code("fork", fork_errno);
        }
        if (pid == 0) {
            mark_forked_child();
            die_with_parent(parent);
            fn(shared, w);
            _exit(EXIT_PASS); /* not exit(): the parent's stdio buffers are not ours to flush */
        }
        pids[w] = pid;
    }
    return pids;
}

/* A child ended badly: stop and reap the others, then exit 3 naming it. */
static _Noreturn void worker_failed(pid_t *pids, int worker_count, int worker, pid_t pid,
                                    int status)
{
    stop_workers(pids, worker_count);
    if (WIFSIGNALED(status))
        die_msg("worker %d (pid %ld) was killed by signal %d (%s)", worker, (long)pid,
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    die_msg("worker %d (pid %ld) exited with status %d", worker, (long)pid, WEXITSTATUS(status));
}

int workers_check(pid_t *pids, int worker_count)
{
    int ended_cleanly = 0;
    for (int w = 0; w < worker_count; w++) {
        if (pids[w] <= 0) continue;
        siginfo_t child = {.si_pid = 0};
        if (waitid(P_PID, (id_t)pids[w], &child, WEXITED | WNOHANG | WNOWAIT) != 0)
            die_errno("waitid");
        if (child.si_pid == 0) continue; /* still running: left alone */
        if (child.si_code == CLD_EXITED && child.si_status == EXIT_PASS) {
            ended_cleanly++;
            continue;
        }
        int status;
        pid_t pid = pids[w];
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR) die_errno("waitpid");
        pids[w] = 0;
        worker_failed(pids, worker_count, w, pid, status);
    }
    return ended_cleanly;
}

void join_workers(pid_t *pids, int worker_count)
{
    /* waitpid(-1) takes children in the order they end, so the first failure is seen at once
     * even while an earlier worker still runs (or waits forever for the one that died). */
    for (int joined = 0; joined < worker_count;) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            die_errno("waitpid");
        }
        int worker = 0;
        while (worker < worker_count && pids[worker] != pid) worker++;
        if (worker == worker_count) continue; /* some other child of ours */
        pids[worker] = 0;
        joined++;
        if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_PASS) continue;
        worker_failed(pids, worker_count, worker, pid, status);
    }
    free(pids);
}

static void sleep_us(long us)
{
    struct timespec left = {.tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

void join_workers_within(pid_t *pids, int worker_count, double seconds,
                         worker_describe_fn describe, void *shared)
{
    double deadline = now_seconds() + seconds;
    long pause_us = 20;
    for (int joined = 0; joined < worker_count;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0) {
            if (errno == EINTR) continue;
            die_errno("waitpid");
        }
        if (pid == 0) { /* none ended since the last look */
            if (now_seconds() >= deadline) {
                char text[1024], one[160];
                int used = 0, unfinished = 0;
                text[0] = '\0';
                for (int w = 0; w < worker_count; w++) {
                    if (pids[w] <= 0) continue;
                    unfinished++;
                    snprintf(one, sizeof one, "worker %d", w);
                    if (describe != NULL) describe(shared, w, one, sizeof one);
                    if (used < (int)sizeof text)
                        used += snprintf(text + used, sizeof text - (size_t)used, "%s%s",
                                         unfinished == 1 ? "" : ", ", one);
                }
                stop_workers(pids, worker_count);
                die_msg("join: timed out after %.0f s: %d of %d workers unfinished: %s", seconds,
                        unfinished, worker_count, text);
            }
            sleep_us(pause_us);
            if (pause_us < 10000) pause_us *= 2;
            continue;
        }
        int worker = 0;
        while (worker < worker_count && pids[worker] != pid) worker++;
        if (worker == worker_count) continue; /* some other child of ours */
        pids[worker] = 0;
        joined++;
        if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_PASS) continue;
        worker_failed(pids, worker_count, worker, pid, status);
    }
    free(pids);
}

void run_processes(int worker_count, worker_fn fn, void *shared)
{
    join_workers(fork_workers(worker_count, fn, shared), worker_count);
}

void *shared_alloc(size_t bytes)
{
    void *memory = mmap(NULL, bytes == 0 ? 1 : bytes, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) die_errno("mmap");
    return memory;
}

void shared_free(void *memory, size_t bytes)
{
    if (munmap(memory, bytes == 0 ? 1 : bytes) != 0) die_errno("munmap");
}
