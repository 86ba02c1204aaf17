/*
 * mpi_harness.c - start-up, errors and exit for MPI programs (see mpi_harness.h).
 */
#include "mpi_harness.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mpi_die(const char *call, int code)
{
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    int rank = -1;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error code %d", code);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "%s: %s failed on rank %d: %s\n", program_name(), call, rank, text);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, EXIT_SYSTEM);
    exit(EXIT_SYSTEM); /* MPI_Abort does not return; this keeps _Noreturn honest */
}

/* Every rank leaves through here on --help and usage errors: rank 0 has printed, and since
 * all ranks finalize before exiting, mpirun has no early exit to react to. */
static _Noreturn void finish_and_exit(int status)
{
    fflush(stdout);
    fflush(stderr);
    MPI_Finalize();
    exit(status);
}

void mpi_start(const program_info *info, int *argc, char ***argv, int required, options *opt,
               int *world_rank, int *world_size)
{
    int provided = MPI_THREAD_SINGLE;
    set_program_name(info);
    int rc = MPI_Init_thread(argc, argv, required, &provided);
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init_thread failed (code %d)\n", program_name(), rc);
        exit(EXIT_SYSTEM);
    }
    trace_set_clock(MPI_Wtime); /* --trace events on the program's own clock */
    /* Failures come back as codes we report (MPI_CHECK) instead of MPI's default abort. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, world_rank), "MPI_Comm_rank");
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, world_size), "MPI_Comm_size");
    if (provided < required) {
        if (*world_rank == ROOT_RANK)
            fprintf(stderr, "%s: MPI_Init_thread failed: this MPI provides thread level %d, "
                    "the program needs %d\n", program_name(), provided, required);
        finish_and_exit(EXIT_SYSTEM);
    }

    char err[256];
    parse_status status = parse_options(info, *argc, *argv, opt, err, sizeof err);
    if (status == PARSE_RUN && opt->workers_given && opt->workers != *world_size) {
        snprintf(err, sizeof err, "-w %d differs from the %d ranks started: use mpirun -np %d",
                 opt->workers, *world_size, opt->workers);
        status = PARSE_ERROR;
    }
    opt->workers = *world_size;
    if (status == PARSE_HELP) {
        if (*world_rank == ROOT_RANK) print_usage(info);
        finish_and_exit(EXIT_PASS);
    }
    if (status == PARSE_ERROR) {
        if (*world_rank == ROOT_RANK) fprintf(stderr, "%s: %s (see --help)\n", program_name(), err);
        finish_and_exit(EXIT_USAGE);
    }
}

void window_errors_return(MPI_Win window)
{
    /* A window starts with MPI_ERRORS_ARE_FATAL whatever its communicator has, so without this
     * a failing window call aborts with MPI's own banner before MPI_CHECK can name it. */
    MPI_CHECK(MPI_Win_set_errhandler(window, MPI_ERRORS_RETURN), "MPI_Win_set_errhandler");
}

void *mpi_root_value(MPI_Aint bytes, MPI_Win *window)
{
    int rank;
    void *value = NULL;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    MPI_CHECK(MPI_Win_allocate(rank == ROOT_RANK ? bytes : 0, (int)bytes, MPI_INFO_NULL,
                               MPI_COMM_WORLD, &value, window), "MPI_Win_allocate");
    window_errors_return(*window);
    if (rank == ROOT_RANK) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, ROOT_RANK, 0, *window), "MPI_Win_lock");
        memset(value, 0, (size_t)bytes);
        MPI_CHECK(MPI_Win_unlock(ROOT_RANK, *window), "MPI_Win_unlock");
    }
    /* No rank may reach the value before rank 0 has zeroed it. */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    return rank == ROOT_RANK ? value : NULL;
}

/* A message's start, for matching its end (align_by_messages). */
typedef struct {
    long long id;
    int rank;
    double time;
} message_start;

static int by_message_id(const void *a, const void *b)
{
    long long x = ((const message_start *)a)->id, y = ((const message_start *)b)->id;
    return (x > y) - (x < y);
}

/* The barrier aligns the ranks' clocks only to within its own skew; the messages say more: a
 * message is received after it was sent. Each rank's clock is moved forward, as little as needed,
 * until no traced message arrives before it left (differences of offsets, solved by relaxing the
 * constraints until none is violated; real clocks satisfy them all, so this ends). */
static void align_by_messages(trace_event *events, const int *rank_of, size_t count, int ranks)
{
    size_t start_count = 0;
    for (size_t k = 0; k < count; k++) start_count += events[k].phase == 's';
    if (start_count == 0) return;
    message_start *starts = checked_malloc(start_count, sizeof *starts);
    for (size_t k = 0, s = 0; k < count; k++)
        if (events[k].phase == 's')
            starts[s++] = (message_start){events[k].flow, rank_of[k], events[k].begin};
    qsort(starts, start_count, sizeof *starts, by_message_id);
    double *shift = checked_calloc((size_t)ranks, sizeof *shift);
    bool moved = true;
    for (int pass = 0; moved && pass <= ranks; pass++) {
        moved = false;
        for (size_t k = 0; k < count; k++) {
            if (events[k].phase != 'f') continue;
            message_start key = {events[k].flow, 0, 0.0};
            const message_start *start =
                bsearch(&key, starts, start_count, sizeof *starts, by_message_id);
            if (start == NULL || start->rank == rank_of[k]) continue;
            double late = start->time + shift[start->rank] - (events[k].begin + shift[rank_of[k]]);
            if (late > 0) {
                shift[rank_of[k]] += late;
                moved = true;
            }
        }
    }
    for (size_t k = 0; k < count; k++) {
        events[k].begin += shift[rank_of[k]];
        events[k].end += shift[rank_of[k]];
    }
    free(shift);
    free(starts);
}

void mpi_trace_write(const program_info *info, const options *opt)
{
    if (opt->trace_path == NULL) return;
    trace_enabled = false; /* nothing more is recorded while the events travel */
    int rank, size;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
    size_t count;
    long long dropped, all_dropped = 0;
    trace_event *events = trace_collect(&count, &dropped);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    double left_barrier = trace_clock() - trace_origin();
    for (size_t k = 0; k < count; k++) {
        events[k].begin -= left_barrier;
        events[k].end -= left_barrier;
    }
    if (count > (size_t)INT_MAX / sizeof *events) die_msg("too many trace events to gather");
    int bytes = (int)(count * sizeof *events);
    int *byte_counts = rank == ROOT_RANK ? checked_calloc((size_t)size, sizeof(int)) : NULL;
    MPI_CHECK(MPI_Gather(&bytes, 1, MPI_INT, byte_counts, 1, MPI_INT, ROOT_RANK, MPI_COMM_WORLD),
              "MPI_Gather");
    MPI_CHECK(MPI_Reduce(&dropped, &all_dropped, 1, MPI_LONG_LONG, MPI_SUM, ROOT_RANK,
                         MPI_COMM_WORLD), "MPI_Reduce");
    int *displacements = NULL;
    trace_event *all = NULL;
    size_t total = 0;
    if (rank == ROOT_RANK) {
        displacements = checked_calloc((size_t)size, sizeof(int));
        long long sum = 0;
        for (int r = 0; r < size; r++) {
            if (sum > INT_MAX - byte_counts[r]) die_msg("too many trace events to gather");
            displacements[r] = (int)sum;
            sum += byte_counts[r];
        }
        total = (size_t)sum / sizeof *events;
        all = checked_malloc(total > 0 ? total : 1, sizeof *all);
    }
    MPI_CHECK(MPI_Gatherv(events, bytes, MPI_BYTE, all, byte_counts, displacements, MPI_BYTE,
                          ROOT_RANK, MPI_COMM_WORLD), "MPI_Gatherv");
    if (rank == ROOT_RANK) {
        int *rank_of = checked_malloc(total > 0 ? total : 1, sizeof *rank_of);
        double earliest = 0.0;
        for (int r = 0, k = 0; r < size; r++)
            for (int e = 0; e < byte_counts[r] / (int)sizeof *events; e++, k++) rank_of[k] = r;
        align_by_messages(all, rank_of, total, size);
        for (size_t k = 0; k < total; k++)
            if (k == 0 || all[k].begin < earliest) earliest = all[k].begin;
        for (size_t k = 0; k < total; k++) { /* time 0: the first event of any rank */
            all[k].begin -= earliest;
            all[k].end -= earliest;
        }
        trace_write_events(info, opt, all, total, all_dropped, rank_of, size);
        free(rank_of);
    }
    free(all);
    free(displacements);
    free(byte_counts);
    free(events);
    trace_close();
}

void mpi_watchdog_start(double seconds, watchdog_describe_fn describe, const void *state)
{
    int rank;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    watchdog_start(rank == ROOT_RANK ? seconds : seconds + 10.0, describe, state);
}

int mpi_finish(bool pass)
{
    /* Rank 0 verified; every rank leaves with its verdict, so the job's status is one status.
     * An all-reduce (the other ranks bring 1, so the minimum is rank 0's verdict) rather than a
     * broadcast: no rank may go on into MPI_Finalize before every rank has arrived here. A rank
     * that never arrives (a hang its watchdog ends) then finds the others waiting in MPI, not
     * in the finalize step, whose teardown Open MPI 4.1's mpirun does not always survive. */
    int verdict = pass ? 1 : 0, every_verdict;
    int rank;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    if (rank != ROOT_RANK) verdict = 1;
    MPI_CHECK(MPI_Allreduce(&verdict, &every_verdict, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD),
              "MPI_Allreduce");
    pass = every_verdict == 1;
    if (fflush(stdout) != 0 || ferror(stdout)) die_errno("write to stdout");
    int rc = MPI_Finalize();
    if (rc != MPI_SUCCESS) { /* no MPI call is allowed after MPI_Finalize, not even MPI_Abort */
        fprintf(stderr, "%s: MPI_Finalize failed (MPI error code %d)\n", program_name(), rc);
        exit(EXIT_SYSTEM);
    }
    return pass ? EXIT_PASS : EXIT_FAIL;
}
