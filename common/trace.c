/*
 * trace.c - the --trace buffers and the Chrome trace-event writer (see trace.h).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

bool trace_enabled = false;

/* Every buffer lives in one shared mapping: a header per track, then the tracks' events. A
 * track's count only grows, written by that track's worker alone. */
typedef struct {
    size_t count;     /* events recorded */
    long long dropped; /* events that did not fit */
} track_header;

/* All tracks' events together stay under this, whatever W is: bounded memory. */
#define TRACE_BYTES_MAX ((size_t)64 << 20)
enum { TRACE_PER_TRACK_MAX = 1 << 16 };

static void *mapping;
static size_t mapping_bytes;
static int track_count;       /* workers + 1: track 0 is TRACE_MAIN, track w+1 is worker w */
static size_t track_capacity; /* events per track */
static track_header *headers;
static trace_event *slots;
static double origin;         /* the clock at trace_open: time 0 of the file */
static double (*clock_fn)(void) = now_seconds;

void trace_set_clock(double (*clock)(void)) { clock_fn = clock; }
double trace_clock(void) { return clock_fn(); }
double trace_origin(void) { return origin; }

void trace_open(const options *opt, int workers)
{
    if (opt->trace_path == NULL) return;
    track_count = workers + 1;
    track_capacity = TRACE_BYTES_MAX / sizeof(trace_event) / (size_t)track_count;
    if (track_capacity > TRACE_PER_TRACK_MAX) track_capacity = TRACE_PER_TRACK_MAX;
    if (track_capacity < 16) track_capacity = 16;
    mapping_bytes = (size_t)track_count * (sizeof(track_header) +
                                           track_capacity * sizeof(trace_event));
    mapping = mmap(NULL, mapping_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) die_errno("mmap (trace buffers)");
    memset(mapping, 0, mapping_bytes); /* touch every page now, not while the clock runs */
    headers = mapping;
    slots = (trace_event *)(headers + track_count);
    origin = trace_clock();
    trace_enabled = true;
}

void trace_record(const trace_event *event)
{
    int track = event->worker + 1;
    if (track < 0 || track >= track_count) return; /* a worker the trace was not opened for */
    track_header *header = &headers[track];
    if (header->count >= track_capacity) {
        header->dropped++;
        return;
    }
    trace_event *slot = &slots[(size_t)track * track_capacity + header->count];
    *slot = *event;
    slot->begin -= origin;
    slot->end -= origin;
    header->count++;
}

trace_event *trace_collect(size_t *count, long long *dropped)
{
    size_t total = 0;
    *dropped = 0;
    for (int t = 0; t < track_count; t++) {
        total += headers[t].count;
        *dropped += headers[t].dropped;
    }
    trace_event *events = checked_malloc(total > 0 ? total : 1, sizeof *events);
    size_t k = 0;
    for (int t = 0; t < track_count; t++) {
        memcpy(&events[k], &slots[(size_t)t * track_capacity], headers[t].count * sizeof *events);
        k += headers[t].count;
    }
    *count = total;
    return events;
}

void trace_close(void)
{
    if (mapping != NULL && munmap(mapping, mapping_bytes) != 0) die_errno("munmap (trace buffers)");
    mapping = NULL;
    trace_enabled = false;
}

/* JSON strings: the names are the programs' own literals, but escape anyway. */
static void put_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const char *c = text; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\') fputc('\\', out);
        if ((unsigned char)*c >= 0x20) fputc(*c, out);
    }
    fputc('"', out);
}

static void put_args(FILE *out, const trace_event *event)
{
    if (event->first == TRACE_NONE && event->last == TRACE_NONE) return;
    if (event->last == TRACE_NONE)
        fprintf(out, ",\"args\":{\"value\":%ld}", event->first);
    else
        fprintf(out, ",\"args\":{\"first\":%ld,\"last\":%ld}", event->first, event->last);
}

/* A flow's start, for matching its end. */
typedef struct {
    long long id;
    double time;
} flow_start;

static int by_flow_id(const void *a, const void *b)
{
    long long x = ((const flow_start *)a)->id, y = ((const flow_start *)b)->id;
    return (x > y) - (x < y);
}

static void put_track_name(FILE *out, bool *first_line, int pid, int worker, const char *name)
{
    fprintf(out, "%s{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
                 "\"args\":{\"name\":", *first_line ? "" : ",\n", pid, worker + 1);
    put_string(out, name);
    fputs("}}", out);
    *first_line = false;
}

/* Track ids in the file: tid 0 is the main track, tid w+1 worker w; pid is the rank (0 when
 * there are no ranks). */
static int tid_of(const trace_event *event) { return event->worker + 1; }

static const char *repeat_span, *repeat_mark; /* trace_mark_repeats; NULL: no marks */

void trace_mark_repeats(const char *span, const char *mark)
{
    repeat_span = span;
    repeat_mark = mark;
}

typedef struct {
    const trace_event *event;
    int pid;
} placed_event;

static int by_first_then_end(const void *left, const void *right)
{
    const trace_event *a = ((const placed_event *)left)->event;
    const trace_event *b = ((const placed_event *)right)->event;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    return (a->end > b->end) - (a->end < b->end);
}

/* The instants trace_mark_repeats asks for, after the events (ts order does not matter). */
static void put_repeat_marks(FILE *out, const program_info *info, const trace_event *events,
                             size_t count, const int *rank_of_event)
{
    placed_event *spans = checked_malloc(count > 0 ? count : 1, sizeof *spans);
    size_t found = 0;
    for (size_t k = 0; k < count; k++)
        if (events[k].phase == 'X' && strncmp(events[k].name, repeat_span, TRACE_NAME_MAX) == 0)
            spans[found++] = (placed_event){&events[k], rank_of_event ? rank_of_event[k] : 0};
    qsort(spans, found, sizeof *spans, by_first_then_end);
    for (size_t group = 0, next; group < found; group = next) {
        for (next = group + 1; next < found && spans[next].event->first == spans[group].event->first;)
            next++;
        for (size_t k = group + 1; k < next; k++) {
            bool other_track = false;
            for (size_t j = group; j < k && !other_track; j++)
                other_track = spans[j].pid != spans[k].pid ||
                              spans[j].event->worker != spans[k].event->worker;
            if (!other_track) continue;
            const trace_event *event = spans[k].event;
            fputs(",\n{\"name\":", out);
            put_string(out, repeat_mark);
            fprintf(out, ",\"cat\":\"%s\",\"ph\":\"i\",\"ts\":%.3f,\"pid\":%d,\"tid\":%d,\"s\":\"t\"",
                    info->concept, event->end * 1e6, spans[k].pid, tid_of(event));
            put_args(out, event);
            fputc('}', out);
        }
    }
    free(spans);
}

void trace_write_events(const program_info *info, const options *opt, trace_event *events,
                        size_t count, long long dropped, const int *rank_of_event, int ranks)
{
    /* A message cannot arrive before it left. mpi_trace_write shifts each rank's clock so that
     * none does; where that is not enough (its passes are bounded), an arrow's end is moved up to
     * its start here, so the file never shows one running backwards. The starts are sorted by id
     * once, so each end finds its start quickly. */
    size_t start_count = 0;
    for (size_t k = 0; k < count; k++) start_count += events[k].phase == 's';
    flow_start *starts = checked_malloc(start_count > 0 ? start_count : 1, sizeof *starts);
    for (size_t k = 0, s = 0; k < count; k++)
        if (events[k].phase == 's') starts[s++] = (flow_start){events[k].flow, events[k].begin};
    qsort(starts, start_count, sizeof *starts, by_flow_id);
    for (size_t k = 0; k < count; k++) {
        if (events[k].phase != 'f') continue;
        flow_start key = {events[k].flow, 0.0};
        const flow_start *start = bsearch(&key, starts, start_count, sizeof *starts, by_flow_id);
        if (start != NULL && events[k].begin < start->time)
            events[k].begin = events[k].end = start->time;
    }
    free(starts);

    size_t path_length = strlen(opt->trace_path);
    char *temporary = checked_malloc(path_length + 32, 1);
    snprintf(temporary, path_length + 32, "%s.tmp.%ld", opt->trace_path, (long)getpid());
    FILE *out = fopen(temporary, "w");
    if (out == NULL) die_errno("fopen (trace file)");
    fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"concept\":\"%s\",\"model\":\"%s\","
                 "\"variant\":\"%s\",\"workers\":%d,\"n\":%ld,\"dropped_events\":%lld},\n"
                 "\"traceEvents\":[\n", info->concept, info->model, opt->variant, opt->workers,
            opt->n, dropped);
    bool first_line = true;
    /* Track names. Without ranks: every worker's track, even one that did nothing (an idle
     * worker is part of the picture), and main where it has events. With ranks: each track that
     * has events. Events come grouped by track, so a new track starts where the pair changes. */
    char name[64];
    if (rank_of_event == NULL) {
        for (size_t k = 0; k < count; k++)
            if (events[k].worker == TRACE_MAIN) {
                put_track_name(out, &first_line, 0, TRACE_MAIN, "main");
                break;
            }
        for (int w = 0; w < opt->workers; w++) {
            snprintf(name, sizeof name, "worker %d", w);
            put_track_name(out, &first_line, 0, w, name);
        }
        for (size_t k = 0; k < count; k++) /* a track beyond the workers (a consumer thread) */
            if (events[k].worker >= opt->workers &&
                (k == 0 || events[k - 1].worker != events[k].worker)) {
                snprintf(name, sizeof name, "worker %d", events[k].worker);
                put_track_name(out, &first_line, 0, events[k].worker, name);
            }
    } else {
        for (size_t k = 0; k < count; k++) {
            if (k > 0 && rank_of_event[k - 1] == rank_of_event[k] &&
                events[k - 1].worker == events[k].worker)
                continue;
            int pid = rank_of_event[k];
            if (events[k].worker == TRACE_MAIN || events[k].worker == 0)
                snprintf(name, sizeof name, "rank %d", pid);
            else
                snprintf(name, sizeof name, "rank %d thread %d", pid, events[k].worker);
            put_track_name(out, &first_line, pid, events[k].worker, name);
        }
    }
    if (rank_of_event != NULL)
        for (int r = 0; r < ranks; r++)
            fprintf(out, "%s{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":"
                         "{\"name\":\"rank %d\"}}", first_line ? "" : ",\n", r, r),
                first_line = false;
    for (size_t k = 0; k < count; k++) {
        const trace_event *event = &events[k];
        int pid = rank_of_event != NULL ? rank_of_event[k] : 0;
        fputs(first_line ? "" : ",\n", out);
        first_line = false;
        fputs("{\"name\":", out);
        put_string(out, event->name);
        fprintf(out, ",\"cat\":\"%s\",\"ph\":\"%c\",\"ts\":%.3f,\"pid\":%d,\"tid\":%d",
                info->concept, event->phase, event->begin * 1e6, pid, tid_of(event));
        if (event->phase == 'X') fprintf(out, ",\"dur\":%.3f", (event->end - event->begin) * 1e6);
        if (event->phase == 'i') fputs(",\"s\":\"t\"", out);
        if (event->phase == 's' || event->phase == 'f')
            fprintf(out, ",\"id\":%lld%s", event->flow, event->phase == 'f' ? ",\"bp\":\"e\"" : "");
        put_args(out, event);
        fputc('}', out);
    }
    if (repeat_span != NULL && count > 0) put_repeat_marks(out, info, events, count, rank_of_event);
    fputs("\n]}\n", out);
    if (fflush(out) != 0 || ferror(out)) die_errno("write (trace file)");
    if (fclose(out) != 0) die_errno("fclose (trace file)");
    if (rename(temporary, opt->trace_path) != 0) {
        int saved = errno;
        unlink(temporary);
        die_code("rename (trace file)", saved);
    }
    free(temporary);
}

void trace_write(const program_info *info, const options *opt)
{
    if (!trace_enabled) return;
    trace_enabled = false; /* no event after the collection */
    size_t count;
    long long dropped;
    trace_event *events = trace_collect(&count, &dropped);
    trace_write_events(info, opt, events, count, dropped, NULL, 1);
    free(events);
    trace_close();
}
