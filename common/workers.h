/*
 * workers.h - starting W workers and joining them, as threads or as forked processes, with every
 * failure reported: the plumbing the posix examples share, so each file shows its idea instead.
 * It is posix/spawn.c's lesson (fork, waitpid, _exit; pthread_create, pthread_join) packaged,
 * plus the liveness watching a pipe or queue reader needs (workers_check).
 *
 *   run_threads(W, fn, shared)     fn(shared, w) on W new pthreads, all joined
 *   run_processes(W, fn, shared)   fn(shared, w) in W forked children, all reaped
 *   fork_workers / join_workers    the same in two steps, for a parent with work in between
 *   workers_check(pids, W)         exit 3 if a child died, without reaping the living
 *   shared_alloc(bytes)            memory a parent and its forked children both see
 *
 * A child that is killed or exits non-zero makes join_workers stop the others and exit 3 naming
 * it, so a dead worker is never a hang. Children die with the parent (PR_SET_PDEATHSIG on Linux):
 * a parent killed by SIGTERM or SIGKILL leaves no orphan.
 */
#ifndef WORKERS_H
#define WORKERS_H

#include <stddef.h>
#include <sys/types.h>

/* What a worker runs: `shared` is the same pointer for all, `worker` is 0..W-1. */
typedef void (*worker_fn)(void *shared, int worker);

/* Starts worker_count pthreads running fn and joins them all; exit 3 if a call fails. */
void run_threads(int worker_count, worker_fn fn, void *shared);

/* Forks worker_count children; each runs fn(shared, w), then _exit(0). The parent's stdout is
 * flushed first (or each child would print it again). If fork fails, the children already
 * started are stopped and the program exits 3. Returns their pids, for join_workers. */
pid_t *fork_workers(int worker_count, worker_fn fn, void *shared);

/* Waits for every child, then frees pids. A child killed by a signal or exiting non-zero: the
 * others are stopped (SIGKILL) and reaped, and the program exits 3 naming the worker. */
void join_workers(pid_t *pids, int worker_count);

/* join_workers with a bound: a child still running `seconds` after the call is a hang, not a
 * wait. Then every child is stopped and the program exits 3 with "join: timed out after S s"
 * and, for each unfinished worker, what describe(shared, w, text, size) writes (NULL: its
 * number alone). The children are polled (waitpid WNOHANG, pauses growing from 20 us to
 * 10 ms), so a quick run stays quick. */
typedef void (*worker_describe_fn)(void *shared, int worker, char *text, size_t size);
void join_workers_within(pid_t *pids, int worker_count, double seconds,
                         worker_describe_fn describe, void *shared);

/* SIGKILL and reap every child still listed (pids[w] > 0). For error paths. */
void stop_workers(pid_t *pids, int worker_count);

/*
 * Looks at every child still listed without reaping any (waitid with WNOWAIT), for a parent
 * that must not wait forever for what a dead worker would have sent: a pipe or queue reader
 * polls it now and then. A child killed by a signal or exiting non-zero: the others are
 * stopped (SIGKILL) and reaped, and the program exits 3 naming the worker, as join_workers
 * does. Otherwise returns how many have ended cleanly (exit 0); they stay listed and
 * unreaped, for join_workers. A living child is never reaped, stopped or waited for.
 */
int workers_check(pid_t *pids, int worker_count);

/* fork_workers + join_workers. */
void run_processes(int worker_count, worker_fn fn, void *shared);

/* A MAP_SHARED anonymous mapping, zero-filled: written by a child, seen by the parent. Nothing
 * named is created, so nothing can be left behind in /dev/shm. exit 3 if it fails. */
void *shared_alloc(size_t bytes);
void shared_free(void *memory, size_t bytes);

#endif /* WORKERS_H */
