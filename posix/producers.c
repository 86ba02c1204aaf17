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
 * pipe that holds only so much (64 KiB on Linux): with enough items (here 10^4 per producer)
 * the producers block in put(), join() waits for them, and the program hangs. Every variant
 * below drains while the producers produce, and joins them after the last item.
 *   pipe    fork W producers that write into one pipe; the parent reads. Each message is
 *           one {producer, value} of 16 bytes, at most PIPE_BUF, so the kernel writes it
 *           whole: messages from different producers never interleave mid-message.
 *           EOF arrives when every producer has closed its end, even one that was killed.
 *   mqueue  the same over a POSIX message queue: the kernel keeps message boundaries, and
 *           the queue holds at most 10 messages (a normal user's default limit), so the
 *           producers block early. Its name is unique (pid, counter), created with O_EXCL and
 *           mode 0600 and unlinked right after mq_open: the producers inherit the descriptor,
 *           and nothing is left in /dev/mqueue however the program ends.
 *   thread  thread 0 consumes, threads 1..W produce, through a bounded FIFO of a mutex and
 *           two condition variables (common/fifo.h): the roles of omp/producers.c.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/fifo.h"
#include "../common/harness.h"
#include "../common/workers.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"pipe", "forked producers write 16-byte messages into one pipe"}},
    {{"mqueue", "forked producers mq_send into one POSIX message queue"}},
    {{"thread", "W producer threads + 1 consumer thread on a mutex + condvar FIFO"}},
    {{NULL, NULL}}};

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

enum { VARIANT_PIPE, VARIANT_MQUEUE, VARIANT_THREAD };

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
    close(channel->read_fd); /* a producer never reads */
    for (long i = 1; i <= channel->n; i++) {
        message sent = {producer, producer_value(producer, i)};
        ssize_t written;
        while ((written = write(channel->write_fd, &sent, sizeof sent)) < 0 && errno == EINTR) {
        }
        if (written != (ssize_t)sizeof sent) producer_fails(producer, "write"); /* never partial */
    }
}

static void consume_pipe(int producer_count, long n, item_log *log)
{
    int fds[2];
    if (pipe(fds) != 0) die_errno("pipe");
    pipe_channel channel = {.read_fd = fds[0], .write_fd = fds[1], .n = n};
    pid_t *children = fork_workers(producer_count, pipe_producer, &channel);
    close(fds[1]); /* else our own write end would keep EOF from ever arriving */

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
        for (size_t k = 0; k < whole; k++) item_log_add(log, item_of(buffer.items[k]));
        filled -= whole * sizeof(message);
        memmove(buffer.bytes, buffer.bytes + whole * sizeof(message), filled);
        /* The others keep the pipe busy after one has died: look, rather than wait for EOF. */
        if (time_to_check(&last_check)) workers_check(children, producer_count);
    }
    close(fds[0]);
    join_workers(children, producer_count); /* exit 3 if one was killed or failed */
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

static void consume_mqueue(int producer_count, long n, item_log *log)
{
    static unsigned queue_counter; /* with the pid: a name no other run uses */
    char name[64];
    snprintf(name, sizeof name, "/producers-%ld-%u", (long)getpid(), queue_counter++);
    struct mq_attr attributes = {.mq_maxmsg = MQUEUE_MESSAGES, .mq_msgsize = sizeof(message)};
    mqueue_channel channel = {.consumer = getpid(), .n = n};
    channel.queue = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attributes);
    if (channel.queue == (mqd_t)-1) die_errno("mq_open");
    /* The name goes at once; the open descriptor (inherited by fork) keeps the queue alive. */
    if (mq_unlink(name) != 0) die_errno("mq_unlink");

    pid_t *children = fork_workers(producer_count, mqueue_producer, &channel);
    double last_check = now_seconds();
    bool producers_gone = false;
    /* Unlike a pipe, a message queue gives no EOF when its senders are gone: look at them. */
    while (log->count < log->capacity) {
        message received;
        struct timespec deadline = deadline_in(LIVENESS_CHECK_MS);
        ssize_t got = mq_timedreceive(channel.queue, (char *)&received, sizeof received, NULL,
                                      &deadline);
        if (got >= 0) { /* a whole message: every one sent is mq_msgsize long */
            item_log_add(log, item_of(received));
            if (time_to_check(&last_check)) workers_check(children, producer_count);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != ETIMEDOUT) die_errno("mq_timedreceive"); /* the producers die with us */
        /* Nothing came for a while. Still empty after every producer had ended: all is in. */
        if (producers_gone) break;
        producers_gone = workers_check(children, producer_count) == producer_count;
    }
    join_workers(children, producer_count);
    if (mq_close(channel.queue) != 0) die_errno("mq_close");
}

/* ---- thread: producer threads, a consumer thread and a bounded FIFO (common/fifo.h) ---- */

typedef struct {
    item_fifo fifo;
    long n;
    item_log *log;
} thread_roles;

/* Thread 0 is the consumer (the notebook's main program), threads 1..W the producers. */
static void thread_role(void *shared, int thread)
{
    thread_roles *roles = shared;
    if (thread == 0) {
        produced_item item;
        while (fifo_get(&roles->fifo, &item)) item_log_add(roles->log, item);
        return;
    }
    int producer = thread - 1;
    for (long i = 1; i <= roles->n; i++)
        fifo_put(&roles->fifo, (produced_item){producer, producer_value(producer, i)});
    fifo_producer_finished(&roles->fifo);
}

static void consume_threads(int producer_count, long n, item_log *log)
{
    thread_roles roles = {.n = n, .log = log};
    fifo_init(&roles.fifo, producer_count);
    run_threads(producer_count + 1, thread_role, &roles); /* returns when all have finished */
    fifo_destroy(&roles.fifo);
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    long n = opt.n;
    int producer_count = opt.workers;
    const char *refused = producers_refused(producer_count, n);
    if (refused != NULL) usage_exit(refused);
    size_t expected = (size_t)producer_count * (size_t)n;
    item_log log = item_log_new(expected);

    double start = now_seconds();
    if (opt.variant_index == VARIANT_PIPE)
        consume_pipe(producer_count, n, &log);
    else if (opt.variant_index == VARIANT_MQUEUE)
        consume_mqueue(producer_count, n, &log);
    else
        consume_threads(producer_count, n, &log);
    double elapsed = now_seconds() - start;

    bool pass = report_producers(&info, &opt, &log, producer_count, elapsed);
    item_log_free(&log);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
