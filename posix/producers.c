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
 * reaping) and reported, exit 3: its missing values would otherwise be waited for.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/fifo.h"
#include "../common/harness.h"
#include "../common/workers.h"

/* What a variant needs: the producers' work and the consumer's log. */
typedef struct {
    int producer_count;
    long n;
    item_log *log; /* the consumer's: what it received, in order */
} production;

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

/* ---- pipe: one pipe, W writers, one reader ---- */

typedef struct {
    int read_fd, write_fd;
    long n;
} pipe_channel;

static void pipe_producer(void *shared, int producer)
{
    const pipe_channel *channel = shared;
    if (close(channel->read_fd) != 0) die_errno("close"); /* a producer never reads */
    for (long i = 1; i <= channel->n; i++) {
        message sent = {producer, producer_value(producer, i)};
        ssize_t written;
        while ((written = write(channel->write_fd, &sent, sizeof sent)) < 0 && errno == EINTR) {
        }
        if (written != (ssize_t)sizeof sent) producer_fails(producer, "write"); /* never partial */
    }
}

static void put_via_pipe(production *run)
{
    int fds[2];
    if (pipe(fds) != 0) die_errno("pipe");
    pipe_channel channel = {.read_fd = fds[0], .write_fd = fds[1], .n = run->n};
    pid_t *children = fork_workers(run->producer_count, pipe_producer, &channel);
    /* else our own write end would keep EOF from ever arriving */
    if (close(fds[1]) != 0) die_errno("close");

    /* Read many messages per call; a read may end mid-message, so the tail is carried over. */
    union {
        message items[256];
        char bytes[256 * sizeof(message)];
    } buffer;
    size_t filled = 0;
    double last_check = now_seconds();
    for (;;) {
        ssize_t got = read(fds[0], buffer.bytes + filled, sizeof buffer.bytes - filled);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) die_errno("read"); /* the producers die with us (common/workers.h) */
        if (got == 0) break; /* every producer has closed its end: finished, or dead */
        filled += (size_t)got;
        size_t whole = filled / sizeof(message);
        for (size_t k = 0; k < whole; k++) item_log_add(run->log, item_of(buffer.items[k]));
        filled -= whole * sizeof(message);
        memmove(buffer.bytes, buffer.bytes + whole * sizeof(message), filled);
        /* The others keep the pipe busy after one has died: look, rather than wait for EOF. */
        if (time_to_check(&last_check)) workers_check(children, run->producer_count);
    }
    if (close(fds[0]) != 0) die_errno("close");
    join_workers(children, run->producer_count); /* exit 3 if one was killed or failed */
    if (filled != 0) die_msg("pipe ended inside a message (%zu stray bytes)", filled);
}

/* ---- mqueue: one POSIX message queue, W senders, one receiver ---- */

typedef struct {
    mqd_t queue;
    pid_t consumer;
    long n;
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
        for (;;) {
            struct timespec deadline = deadline_in(LIVENESS_CHECK_MS);
            if (mq_timedsend(channel->queue, (const char *)&sent, sizeof sent, 0,
                             &deadline) == 0)
                break;
            if (errno == EINTR) continue;
            if (errno != ETIMEDOUT) producer_fails(producer, "mq_timedsend");
            /* The queue stayed full: if the consumer is gone, nobody will ever empty it. */
            if (getppid() != channel->consumer) _exit(EXIT_SYSTEM);
        }
    }
}

static void put_via_mqueue(production *run)
{
    static unsigned queue_counter; /* with the pid: a name no other run uses */
    char name[64];
    snprintf(name, sizeof name, "/producers-%ld-%u", (long)getpid(), queue_counter++);
    struct mq_attr attributes = {.mq_maxmsg = MQUEUE_MESSAGES, .mq_msgsize = sizeof(message)};
    mqueue_channel channel = {.consumer = getpid(), .n = run->n};
    channel.queue = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attributes);
    if (channel.queue == (mqd_t)-1) die_errno("mq_open");
    /* The name goes at once; the open descriptor (inherited by fork) keeps the queue alive. */
    if (mq_unlink(name) != 0) die_errno("mq_unlink");

    pid_t *children = fork_workers(run->producer_count, mqueue_producer, &channel);
    double last_check = now_seconds();
    bool producers_gone = false;
    /* Unlike a pipe, a message queue gives no EOF when its senders are gone: look at them. */
    while (run->log->count < run->log->capacity) {
        message received;
        struct timespec deadline = deadline_in(LIVENESS_CHECK_MS);
        ssize_t got = mq_timedreceive(channel.queue, (char *)&received, sizeof received, NULL,
                                      &deadline);
        if (got >= 0) { /* a whole message: every one sent is mq_msgsize long */
            item_log_add(run->log, item_of(received));
            if (time_to_check(&last_check)) workers_check(children, run->producer_count);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != ETIMEDOUT) die_errno("mq_timedreceive"); /* the producers die with us */
        /* Nothing came for a while. Still empty after every producer had ended: all is in. */
        if (producers_gone) break;
        producers_gone = workers_check(children, run->producer_count) == run->producer_count;
    }
    join_workers(children, run->producer_count);
    if (mq_close(channel.queue) != 0) die_errno("mq_close");
}

/* ---- thread: producer threads, a bounded FIFO (common/fifo.h), the main thread consumes ---- */

typedef struct {
    item_fifo *fifo;
    int producer;
    long n;
} thread_producer;

static void *producer_thread(void *start)
{
    const thread_producer *self = start;
    for (long i = 1; i <= self->n; i++)
        fifo_put(self->fifo, (produced_item){self->producer, producer_value(self->producer, i)});
    fifo_producer_finished(self->fifo); /* the last one lets fifo_get say "no more" */
    return NULL;
}

static void put_via_threads(production *run)
{
    item_fifo fifo;
    fifo_init(&fifo, run->producer_count);
    pthread_t *threads = checked_malloc((size_t)run->producer_count, sizeof *threads);
    thread_producer *producers = checked_malloc((size_t)run->producer_count, sizeof *producers);
    for (int producer = 0; producer < run->producer_count; producer++) {
        producers[producer] = (thread_producer){&fifo, producer, run->n};
        CHECK_RC(pthread_create(&threads[producer], NULL, producer_thread, &producers[producer]),
                 "pthread_create");
    }
    produced_item item; /* drain while they produce, then join: the notebook's order fixed */
    while (fifo_get(&fifo, &item)) item_log_add(run->log, item);
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
    item_log log = item_log_new((size_t)producer_count * (size_t)opt.n); /* written through */
    production run = {.producer_count = producer_count, .n = opt.n, .log = &log};

    double start = now_seconds();
    variants[opt.variant_index].run(&run);
    double elapsed = now_seconds() - start;

    bool pass = report_producers(&info, &opt, &log, elapsed, 0);
    item_log_free(&log);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
