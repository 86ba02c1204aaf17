/*
 * posix/producers.c - the notebook's producer processes putting into one process-safe Queue,
 * in POSIX: a pipe, a POSIX message queue, or threads on a condition-variable queue.
 *
 * Python:  q = multiprocessing.Queue()
 *          p1 = Process(target=square, args=(range(1, 6), q))         # puts 1 4 9 16 25
 *          p2 = Process(target=make_negative, args=(range(1, 6), q))  # puts -1 -2 -3 -4 -5
 *          p1.start(); p2.start(); p1.join(); p2.join()
 *          while not q.empty(): print(q.get())
 *
 * The trap in that cell: it joins the producers before it drains the queue. The Queue is a
 * pipe that holds only so much (64 KiB on Linux, some 20 bytes per pickled value): with
 * range(1, 10001) the producers cannot put everything, join() waits for them, and the program
 * hangs. Every variant below drains while the producers produce, and joins them after the last
 * item.
 *   pipe    fork W producers that write into one pipe; the parent reads. Each message is
 *           one {producer, value} of 16 bytes, at most PIPE_BUF, so the kernel writes it
 *           whole: messages from different producers never interleave mid-message.
 *           EOF arrives when every producer has closed its end, even one that was killed.
 *   mqueue  the same over a POSIX message queue: the kernel keeps message boundaries, and
 *           the queue holds at most 10 messages (a normal user's default limit), so the
 *           producers block early. Its name is unique (pid, counter), created with O_EXCL and
 *           mode 0600 and unlinked right after mq_open: the producers inherit the descriptor,
 *           and nothing is left in /dev/mqueue however the program ends.
 *   thread  W producer threads (pthread_create) put into a bounded FIFO of a mutex and two
 *           condition variables (common/fifo.h); the main thread drains it, then joins them.
 * In every variant the main program is the one consumer, as in the notebook: workers= counts
 * the producers and the RESULT line adds consumers=1. The consumer's log is written through
 * once before the clock, so its writes during the run cost no page fault (see item_log_new for
 * why it is shared memory: a forked producer would otherwise make each page copy-on-write).
 * Observe: the values of one producer arrive in the order it put them; how the producers
 * interleave changes from run to run.
 * A forked producer that dies is noticed within LIVENESS_CHECK_MS (workers_check looks without
 * reaping) and reported, exit 3: its missing values would otherwise be waited for. One that
 * hangs (stopped, stuck) is a wait the watchdog bounds: the drain and the joins give up once
 * a time scaled to the work has passed, exit 3 naming what is unfinished ("consumer: 12 of 20
 * values after 10 s; producer 1 still running, put 2 of 10").
 * RESULT's per_worker= is the values each producer says it put (n each in a correct run).
 * --trace: a "put" span per value on each producer's track (value index, value), a "get" span
 * per value on main's, the consumer's (producer, value), from when it began to look for it.
 *
 * Run:  ./posix/producers
 *       ./posix/producers -n 1000000 -w 2 --variant mqueue --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/fifo.h"
#include "../common/harness.h"
#include "../common/trace.h"
#include "../common/workers.h"

/* What one producer has done, on a cache line of its own (producers share none): the values
 * it has put and whether it has finished. Shared memory, so forked producers' counts reach the
 * consumer: RESULT's per_worker= and the watchdog's message read them. */
typedef struct {
    _Alignas(64) atomic_long put;
    atomic_bool finished;
} producer_tally;

/* What a variant needs: the producers' work, the consumer's log, the producers' tallies. */
typedef struct {
    int producer_count;
    long n;
    item_log *log;          /* the consumer's: what it received, in order */
    producer_tally *tally;  /* [producer_count], in shared memory */
    double bound_s;         /* the watchdog's: the drain and the joins end by then */
    double deadline;        /* now_seconds() when they give up */
} production;

static void tally_put(producer_tally *tally)
{
    atomic_fetch_add_explicit(&tally->put, 1, memory_order_relaxed);
}

/* One message as it travels: two longs, so no padding bytes (uninitialised stack garbage)
 * are handed to the kernel and the consumer. */
typedef struct {
    long producer, value;
} message;

static produced_item item_of(message m) { return (produced_item){(int)m.producer, m.value}; }

/* The pipe writes a message atomically only up to PIPE_BUF bytes. */
_Static_assert(sizeof(message) <= PIPE_BUF, "a message must fit in one atomic pipe write");

/* Message queue size: within the limits a normal user gets (/proc/sys/fs/mqueue/msg_max). */
enum { MQUEUE_MESSAGES = 10 };
/* How long the consumer waits for a message before it checks that the producers are alive,
 * and a producer waits for room before it checks that the consumer is. */
enum { LIVENESS_CHECK_MS = 100 };

/* ---- the watchdog: no drain or join waits for ever ----
 * A producer that hangs (stopped, stuck in a lock, a lost wake-up) would leave the consumer
 * waiting for its values for ever. Past a bound that grows with the work (seconds, plus far
 * more per value than a loaded machine needs), the consumer gives up: exit 3 naming what is
 * unfinished. A correct run never meets it. */
static double drain_bound_s(int producer_count, long n)
{
    return 10.0 + (double)producer_count * (double)n * 1e-4;
}

/* "consumer: 12 of 20 values after 10 s; producer 1 still running, put 2 of 10"; the forked
 * producers (children, NULL for threads) are stopped first. */
static _Noreturn void drain_overdue(const production *run, pid_t *children)
{
    char text[1024];
    size_t used = (size_t)snprintf(text, sizeof text, "consumer: %zu of %zu values after %.0f s",
                                   run->log->count, run->log->capacity, run->bound_s);
    for (int p = 0; p < run->producer_count && used < sizeof text; p++)
        if (!atomic_load(&run->tally[p].finished))
            used += (size_t)snprintf(text + used, sizeof text - used,
                                     "; producer %d still running, put %ld of %ld", p,
                                     atomic_load(&run->tally[p].put), run->n);
    if (children != NULL) stop_workers(children, run->producer_count);
    die_msg("%s", text);
}

/* ---- forked producers: watched while the consumer drains ---- */

/* A producer that cannot go on says why and leaves; the parent sees the status. */
static _Noreturn void producer_fails(int producer, const char *call)
{
    fprintf(stderr, "%s: producer %d: %s failed: %s\n", program_name(), producer, call,
            strerror(errno));
    _exit(EXIT_SYSTEM);
}

/* The consumer checks on its producers this often, even while messages keep coming. */
static bool time_to_check(double *last_check)
{
    double now = now_seconds();
    if (now - *last_check < LIVENESS_CHECK_MS / 1000.0) return false;
    *last_check = now;
    return true;
}

/* exit 3 if a producer died (workers_check) or the watchdog's deadline has passed; else how
 * many producers have ended cleanly. */
static int watch_producers(const production *run, pid_t *children)
{
    int ended = workers_check(children, run->producer_count);
    if (now_seconds() > run->deadline) drain_overdue(run, children);
    return ended;
}

/* The join, bounded: every forked producer ended cleanly (workers_check: exit 3 if one died),
 * then reaped at once; one still running at the watchdog's deadline is exit 3. The looks are
 * 20 us apart at first, so a quick join stays quick, growing to 10 ms. */
static void join_producers(const production *run, pid_t *children)
{
    for (long pause_ns = 20000; watch_producers(run, children) < run->producer_count;) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = pause_ns};
        nanosleep(&pause, NULL); /* a signal may cut it short: the loop looks again */
        if (pause_ns < 10000000) pause_ns *= 2;
    }
    join_workers(children, run->producer_count);
}

/* ---- pipe: one pipe, W writers, one reader ---- */

typedef struct {
    int read_fd, write_fd;
    long n;
    producer_tally *tally;
} pipe_channel;

static void pipe_producer(void *shared, int producer)
{
    const pipe_channel *channel = shared;
    if (close(channel->read_fd) != 0) die_errno("close"); /* a producer never reads */
    for (long i = 1; i <= channel->n; i++) {
        message sent = {producer, producer_value(producer, i)};
        double put = trace_begin();
        ssize_t written;
        /* LAB: put: write the whole message into the pipe, again when a signal interrupts. Hint: while ((written = write(channel->write_fd, &sent, sizeof sent)) < 0 && errno == EINTR) {} */
        while ((written = write(channel->write_fd, &sent, sizeof sent)) < 0 && errno == EINTR) {
        }
        /* LAB END, skeleton: written = (ssize_t)sizeof sent; */
        if (written != (ssize_t)sizeof sent) producer_fails(producer, "write"); /* never partial */
        trace_span(producer, "put", put, i, sent.value);
        tally_put(&channel->tally[producer]);
    }
    atomic_store(&channel->tally[producer].finished, true);
}

/* Waits up to ms for the pipe to have something to read (or EOF): a bounded wait, so the
 * consumer can look at its producers and the watchdog's clock between messages. */
static bool readable_within(int fd, int ms)
{
    struct pollfd ready = {.fd = fd, .events = POLLIN};
    int polled = poll(&ready, 1, ms);
    if (polled < 0 && errno != EINTR) die_errno("poll");
    return polled > 0;
}

static void put_via_pipe(production *run)
{
    int fds[2];
    if (pipe(fds) != 0) die_errno("pipe");
    pipe_channel channel = {.read_fd = fds[0], .write_fd = fds[1], .n = run->n,
                            .tally = run->tally};
    pid_t *children = fork_workers(run->producer_count, pipe_producer, &channel);
    /* else our own write end would keep EOF from ever arriving */
    if (close(fds[1]) != 0) die_errno("close");

    /* Read many messages per call; a read may end mid-message, so the tail is carried over. */
    union {
        message items[256];
        char bytes[256 * sizeof(message)];
    } buffer;
    size_t filled = 0;
    double last_check = now_seconds(), get = trace_begin();
    for (;;) {
        /* The others keep the pipe busy after one has died: look, rather than wait for EOF. */
        if (time_to_check(&last_check)) watch_producers(run, children);
        if (!readable_within(fds[0], LIVENESS_CHECK_MS)) continue;
        /* LAB: get: read what the pipe holds into the buffer after the carried-over tail (0: every write end closed). Hint: ssize_t got = read(fds[0], buffer.bytes + filled, sizeof buffer.bytes - filled); */
        ssize_t got = read(fds[0], buffer.bytes + filled, sizeof buffer.bytes - filled);
        /* LAB END, skeleton: ssize_t got = 0; */
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) die_errno("read"); /* the producers die with us (common/workers.h) */
        if (got == 0) break; /* every producer has closed its end: finished, or dead */
        filled += (size_t)got;
        size_t whole = filled / sizeof(message);
        for (size_t k = 0; k < whole; k++) {
            item_log_add(run->log, item_of(buffer.items[k]));
            trace_span(TRACE_MAIN, "get", get, buffer.items[k].producer, buffer.items[k].value);
            get = trace_begin();
        }
        filled -= whole * sizeof(message);
        memmove(buffer.bytes, buffer.bytes + whole * sizeof(message), filled);
    }
    if (close(fds[0]) != 0) die_errno("close");
    join_producers(run, children); /* exit 3 if one was killed, failed or hangs */
    if (filled != 0) die_msg("pipe ended inside a message (%zu stray bytes)", filled);
}

/* ---- mqueue: one POSIX message queue, W senders, one receiver ---- */

typedef struct {
    mqd_t queue;
    pid_t consumer;
    long n;
    producer_tally *tally;
} mqueue_channel;

/* An absolute CLOCK_REALTIME deadline ms from now, as mq_timed* want it. */
static struct timespec deadline_in(long ms)
{
    struct timespec when;
    if (clock_gettime(CLOCK_REALTIME, &when) != 0) die_errno("clock_gettime");
    when.tv_nsec += (ms % 1000) * 1000000L;
    when.tv_sec += ms / 1000 + when.tv_nsec / 1000000000L;
    when.tv_nsec %= 1000000000L;
    return when;
}

static void mqueue_producer(void *shared, int producer)
{
    const mqueue_channel *channel = shared;
    for (long i = 1; i <= channel->n; i++) {
        message sent = {producer, producer_value(producer, i)};
        double put = trace_begin();
        for (;;) {
            struct timespec deadline = deadline_in(LIVENESS_CHECK_MS);
            /* LAB: put: send the message into the queue, waiting at most until deadline while it is full; done once it is in. Hint: if (mq_timedsend(channel->queue, (const char *)&sent, sizeof sent, 0, &deadline) == 0) break; */
            if (mq_timedsend(channel->queue, (const char *)&sent, sizeof sent, 0,
                             &deadline) == 0)
                break;
            /* LAB END, skeleton: (void)deadline; break; */
            if (errno == EINTR) continue;
            if (errno != ETIMEDOUT) producer_fails(producer, "mq_timedsend");
            /* The queue stayed full: if the consumer is gone, nobody will ever empty it. */
            if (getppid() != channel->consumer) _exit(EXIT_SYSTEM);
        }
        trace_span(producer, "put", put, i, sent.value);
        tally_put(&channel->tally[producer]);
    }
    atomic_store(&channel->tally[producer].finished, true);
}

static void put_via_mqueue(production *run)
{
    static unsigned queue_counter; /* with the pid: a name no other run uses */
    char name[64];
    snprintf(name, sizeof name, "/producers-%ld-%u", (long)getpid(), queue_counter++);
    struct mq_attr attributes = {.mq_maxmsg = MQUEUE_MESSAGES, .mq_msgsize = sizeof(message)};
    mqueue_channel channel = {.consumer = getpid(), .n = run->n, .tally = run->tally};
    channel.queue = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attributes);
    if (channel.queue == (mqd_t)-1) die_errno("mq_open");
    /* The name goes at once; the open descriptor (inherited by fork) keeps the queue alive. */
    if (mq_unlink(name) != 0) die_errno("mq_unlink");

    pid_t *children = fork_workers(run->producer_count, mqueue_producer, &channel);
    double last_check = now_seconds(), get = trace_begin();
    bool producers_gone = false;
    /* Unlike a pipe, a message queue gives no EOF when its senders are gone: look at them. */
    while (run->log->count < run->log->capacity) {
        message received;
        struct timespec deadline = deadline_in(LIVENESS_CHECK_MS);
        /* LAB: get: take the oldest message from the queue, waiting at most until deadline. Hint: ssize_t got = mq_timedreceive(channel.queue, (char *)&received, sizeof received, NULL, &deadline); */
        ssize_t got = mq_timedreceive(channel.queue, (char *)&received, sizeof received, NULL,
                                      &deadline);
        /* LAB END, skeleton: ssize_t got = -1; errno = ETIMEDOUT; (void)deadline; received = (message){0, 0}; */
        if (got >= 0) { /* a whole message: every one sent is mq_msgsize long */
            item_log_add(run->log, item_of(received));
            trace_span(TRACE_MAIN, "get", get, received.producer, received.value);
            get = trace_begin();
            if (time_to_check(&last_check)) watch_producers(run, children);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != ETIMEDOUT) die_errno("mq_timedreceive"); /* the producers die with us */
        /* Nothing came for a while. Still empty after every producer had ended: all is in. */
        if (producers_gone) break;
        producers_gone = watch_producers(run, children) == run->producer_count;
    }
    join_producers(run, children);
    if (mq_close(channel.queue) != 0) die_errno("mq_close");
}

/* ---- thread: producer threads, a bounded FIFO (common/fifo.h), the main thread consumes ---- */

typedef struct {
    item_fifo *fifo;
    int producer;
    long n;
    producer_tally *tally; /* its own */
} thread_producer;

static void *producer_thread(void *start)
{
    const thread_producer *self = start;
    for (long i = 1; i <= self->n; i++) {
        long value = producer_value(self->producer, i);
        double put = trace_begin();
        /* LAB: put: the value, with its producer, into the shared FIFO (it waits while the FIFO is full). Hint: fifo_put(self->fifo, (produced_item){self->producer, value}); */
        fifo_put(self->fifo, (produced_item){self->producer, value});
        /* LAB END */
        trace_span(self->producer, "put", put, i, value);
        tally_put(self->tally);
    }
    fifo_producer_finished(self->fifo); /* the last one lets fifo_get say "no more" */
    atomic_store(&self->tally->finished, true);
    return NULL;
}

/* Before pthread_join: every producer has said it finished (it only returns after that), or
 * exit 3 at the watchdog's deadline. */
static void await_finished(const production *run)
{
    for (int p = 0; p < run->producer_count; p++)
        while (!atomic_load(&run->tally[p].finished)) {
            if (now_seconds() > run->deadline) drain_overdue(run, NULL);
            sleep_ms(1);
        }
}

static void put_via_threads(production *run)
{
    item_fifo fifo;
    fifo_init(&fifo, run->producer_count);
    pthread_t *threads = checked_malloc((size_t)run->producer_count, sizeof *threads);
    thread_producer *producers = checked_malloc((size_t)run->producer_count, sizeof *producers);
    for (int producer = 0; producer < run->producer_count; producer++) {
        producers[producer] = (thread_producer){&fifo, producer, run->n, &run->tally[producer]};
        CHECK_RC(pthread_create(&threads[producer], NULL, producer_thread, &producers[producer]),
                 "pthread_create");
    }
    /* Drain while they produce, then join: the notebook's order fixed. The consumer waits for
     * each value at most until the watchdog's deadline. */
    struct timespec deadline = deadline_in((long)(run->bound_s * 1000.0));
    produced_item item;
    double get = trace_begin();
    int got;
    while ((got = fifo_get_until(&fifo, &item, &deadline)) == 1) {
        item_log_add(run->log, item);
        trace_span(TRACE_MAIN, "get", get, item.producer, item.value);
        get = trace_begin();
    }
    if (got < 0) drain_overdue(run, NULL);
    await_finished(run);
    for (int producer = 0; producer < run->producer_count; producer++)
        CHECK_RC(pthread_join(threads[producer], NULL), "pthread_join");
    free(producers);
    free(threads);
    fifo_destroy(&fifo);
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(production *run);
} variants[] = {
    {{"pipe", "forked producers write 16-byte messages into one pipe"}, put_via_pipe},
    {{"mqueue", "forked producers mq_send into one POSIX message queue"}, put_via_mqueue},
    {{"thread", "W producer threads on a mutex + condvar FIFO; the main thread consumes"},
     put_via_threads},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "producers",
    .model = "posix",
    .summary = "W producers put into one process-safe queue that the main program drains meanwhile.",
    VARIANT_TABLE(variants),
    .n_meaning = "values 1..n per producer (even producers square, odd ones negate)",
    .default_n = 5,
    .max_n = 100000000,
    .default_workers = 2,
};

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    int producer_count = opt.workers; /* the consumer, the main program, is counted apart */
    const char *refused = producers_refused(producer_count, opt.n);
    if (refused != NULL) usage_exit(refused);
    trace_open(&opt, producer_count); /* before any fork: the children's events reach us */
    item_log log = item_log_new((size_t)producer_count * (size_t)opt.n); /* written through */
    size_t tally_bytes = (size_t)producer_count * sizeof(producer_tally);
    production run = {.producer_count = producer_count, .n = opt.n, .log = &log,
                      .tally = shared_alloc(tally_bytes),
                      .bound_s = drain_bound_s(producer_count, opt.n)};

    double start = now_seconds();
    run.deadline = start + run.bound_s; /* the watchdog's clock starts with the work's */
    variants[opt.variant_index].run(&run);
    double elapsed = now_seconds() - start;

    trace_write(&info, &opt);
    long long *put = checked_malloc((size_t)producer_count, sizeof *put);
    for (int p = 0; p < producer_count; p++) put[p] = atomic_load(&run.tally[p].put);
    bool pass = report_producers(&info, &opt, &log, elapsed, 0, put);
    free(put);
    shared_free(run.tally, tally_bytes);
    item_log_free(&log);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
