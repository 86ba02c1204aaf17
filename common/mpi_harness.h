/*
 * mpi_harness.h - what MPI programs add to harness.h: start-up that parses the command line
 * on every rank, lets rank 0 alone speak, and ends every rank the same way.
 *
 *   mpi_start()   MPI_Init_thread, errors returned (not fatal), parse; --help and usage
 *                 errors end every rank (exit 0 / 2) after rank 0 has printed, so nothing hangs
 *                 and mpirun cannot kill rank 0 before its message is out.
 *   MPI_CHECK()   every MPI call: on failure the failing rank prints the call and MPI's error string and
 *                 the whole job aborts with exit 3.
 */
#ifndef MPI_HARNESS_H
#define MPI_HARNESS_H

#include <mpi.h>

#include "harness.h"
#include "trace.h"

/* Rank 0 is the single writer of human lines and the RESULT line. */
enum { ROOT_RANK = 0 };

/*
 * Initialises MPI with thread support `required` (MPI_THREAD_SINGLE for plain rank programs,
 * MPI_THREAD_FUNNELED for hybrid ones) and parses argv on every rank: all ranks see the same
 * argv, so they all agree on the outcome without a message. workers becomes the rank count
 * (-w, if given, must equal it). Returns only when the program should run.
 */
void mpi_start(const program_info *info, int *argc, char ***argv, int required, options *opt,
               int *world_rank, int *world_size);

/* Prints the MPI error string for code and aborts the job with exit 3. */
_Noreturn void mpi_die(const char *call, int code);

#define MPI_CHECK(call_expr, name)                        \
    do {                                                  \
        int mpi_check_rc_ = (call_expr);                  \
        if (mpi_check_rc_ != MPI_SUCCESS) mpi_die(name, mpi_check_rc_); \
    } while (0)

/* Every window the suite creates goes through this right after its creation: windows do not
 * inherit the communicator's error handler, so without it MPI_CHECK on a window call could
 * never fire (the job would abort inside MPI instead of exiting 3 with one line). */
void window_errors_return(MPI_Win window);

/* Collective: one value of `bytes` bytes in a window on rank 0, the notebook's shared Value,
 * zeroed under an exclusive lock, then a barrier, so no rank can reach it before it is zero. Returns its address on rank 0 and
 * NULL on the others; the window's errors are returned (MPI_CHECK), not fatal. */
void *mpi_root_value(MPI_Aint bytes, MPI_Win *window);

/* Collective, after the clock: every rank's --trace events go to rank 0, which writes the file.
 * Clocks are aligned at a barrier: each rank's times are taken relative to the moment it left
 * the barrier, so ranks on different hosts share one time axis; then each rank's clock moves
 * forward as little as needed so that no traced message arrives before it was sent. Tracks are "rank r" (pid r in the file); a
 * hybrid rank's threads are its workers. No-op without --trace. */
void mpi_trace_write(const program_info *info, const options *opt);

/* watchdog_start (harness.h) on every rank, rank 0's bound first: rank 0 knows most of what
 * the run has done, so it speaks first when it waits too; the other ranks' watchdogs, 10 s
 * later, end a run that hangs after rank 0 has finished its part. Its _exit(3) ends the rank
 * without MPI; mpirun then ends the others and exits 3. Not collective. */
void mpi_watchdog_start(double seconds, watchdog_describe_fn describe, const void *state);

/* Collective: rank 0's pass (other ranks' argument is ignored) goes to every rank, then
 * MPI_Finalize; returns the exit status main should return, the same on every rank. */
int mpi_finish(bool pass);

#endif /* MPI_HARNESS_H */
