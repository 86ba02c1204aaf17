/*
 * trace.h - what the workers did, when: `--trace FILE` writes the run's events as Chrome
 * trace-event JSON, which Perfetto (ui.perfetto.dev), chrome://tracing and speedscope open, and
 * tools/timeline draws as a PNG.
 *
 * One track per worker (thread, process or rank). An event site in a program reads:
 *
 *     double t = trace_begin();                       0 when tracing is off, else the clock
 *     ... the work ...
 *     trace_span(worker, "chunk", t, first, last);     a duration event on worker's track
 *
 * Off (the default) it costs one predictable branch per site and allocates nothing. On, every
 * worker writes only its own preallocated buffer, kept in a MAP_SHARED mapping so that forked
 * children's events reach the parent; a full buffer drops events and the file says how many.
 * Nothing is written while the clock runs: trace_write() comes after, to a temporary file
 * renamed into place. The path was checked when the command line was parsed (exit 2).
 * MPI programs gather every rank's events at rank 0 (mpi_trace_write in mpi_harness.h).
 */
#ifndef TRACE_H
#define TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

/* The track of the program's main thread or rank 0's manager loop, beside workers 0..W-1. */
enum { TRACE_MAIN = -1 };
/* An event argument that is not there. */
#define TRACE_NONE (-1L)

/* Longest event name kept (longer names are cut). */
enum { TRACE_NAME_MAX = 23 };

typedef struct {
    char name[TRACE_NAME_MAX + 1];
    char phase;       /* 'X' span, 'i' instant, 's' flow start, 'f' flow end */
    int worker;       /* track: 0..W-1, or TRACE_MAIN */
    double begin;     /* seconds on the program's clock */
    double end;       /* spans only */
    long first, last; /* the event's numbers (item, chunk range, value), TRACE_NONE if unused */
    long long flow;   /* flow events: the id shared by the start and the end */
} trace_event;

/* True between trace_open and trace_write when --trace was given. Read only through the inline
 * functions below, so a site costs one branch when it is false. */
extern bool trace_enabled;
/* A build with -DTRACE_SITES_OFF has no event sites at all (the compiler drops them): the bench
 * compares it with the ordinary build, tracing off, to show what the sites cost. */
#ifdef TRACE_SITES_OFF
#define TRACE_ON false
#else
#define TRACE_ON __builtin_expect(trace_enabled, 0)
#endif

/* Before the work: when opt->trace_path is set, allocate the buffers of `workers` tracks plus
 * the main one (exit 3 if the memory is not there). The clock is now_seconds() unless
 * trace_set_clock says otherwise (MPI: MPI_Wtime). No-op without --trace. */
void trace_open(const options *opt, int workers);
void trace_set_clock(double (*clock)(void));
double trace_clock(void);
double trace_origin(void); /* the clock at trace_open: the events' times are relative to it */

void trace_record(const trace_event *event);

static inline double trace_begin(void) { return TRACE_ON ? trace_clock() : 0.0; }

/* A duration event from `begin` (a trace_begin value) to now. */
static inline void trace_span(int worker, const char *name, double begin, long first, long last)
{
    if (TRACE_ON) {
        trace_event event = {.phase = 'X', .worker = worker, .begin = begin, .end = trace_clock(),
                             .first = first, .last = last, .flow = 0};
        for (int k = 0; k < TRACE_NAME_MAX && name[k] != '\0'; k++) event.name[k] = name[k];
        trace_record(&event);
    }
}

/* A moment: the stop request, a lost update observed. */
static inline void trace_instant(int worker, const char *name, long first, long last)
{
    if (TRACE_ON) {
        double now = trace_clock();
        trace_event event = {.phase = 'i', .worker = worker, .begin = now, .end = now,
                             .first = first, .last = last, .flow = 0};
        for (int k = 0; k < TRACE_NAME_MAX && name[k] != '\0'; k++) event.name[k] = name[k];
        trace_record(&event);
    }
}

/* A message: the arrow from the sender's track (trace_flow_out, at the send) to the receiver's
 * (trace_flow_in, at the receive), matched by id. trace_message_id makes ids unique per sender. */
static inline long long trace_message_id(int sender, long sequence)
{
    return ((long long)(sender + 1) << 32) + sequence;
}
static inline void trace_flow(int worker, char phase, const char *name, long long id)
{
    if (TRACE_ON) {
        double now = trace_clock();
        trace_event event = {.phase = phase, .worker = worker, .begin = now, .end = now,
                             .first = TRACE_NONE, .last = TRACE_NONE, .flow = id};
        for (int k = 0; k < TRACE_NAME_MAX && name[k] != '\0'; k++) event.name[k] = name[k];
        trace_record(&event);
    }
}
static inline void trace_flow_out(int worker, const char *name, long long id) { trace_flow(worker, 's', name, id); }
static inline void trace_flow_in(int worker, const char *name, long long id) { trace_flow(worker, 'f', name, id); }

/* After the clock: the events as JSON in opt->trace_path (written to a temporary file, then
 * renamed), track names "worker w" (or "rank r" / "rank r thread t" where process_of says so),
 * times in microseconds from the trace's start. Frees the buffers. exit 3 if the file cannot
 * be written. No-op without --trace. */
void trace_write(const program_info *info, const options *opt);

/* The race's lost updates, found when the file is written (every rank's events, clocks aligned):
 * among the spans named `span` whose first number (the value read) is the same, each one that
 * ends after a span of another track gets an instant named `mark` at its end (args: the value
 * read, the value written). Two workers read the same value, so both wrote the same value plus
 * one: the later write overwrote the earlier one's update. Off unless called (before writing). */
void trace_mark_repeats(const char *span, const char *mark);

/* ---- for mpi_harness: the buffers as one array, and the writer over an array ---- */

/* Every recorded event of this process, tracks in order; *dropped gets the dropped count. */
trace_event *trace_collect(size_t *count, long long *dropped);
void trace_write_events(const program_info *info, const options *opt, trace_event *events,
                        size_t count, long long dropped, const int *rank_of_event, int ranks);
void trace_close(void);

#endif /* TRACE_H */
