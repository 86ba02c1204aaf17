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
 * The trap in that cell: it joins the producers before it drains the queue. A
 * multiprocessing.Queue is a pipe, and a pipe holds only so much (64 KiB on Linux); with
 * enough items the producers block in put() on the full pipe, join() waits for producers that
 * wait for the reader, and the program hangs (here: at 10^4 items per producer). Every
 * variant below drains while the producers produce, and joins them after the last item.
 *   pipe    fork W producers that write into one pipe; the parent reads. Each message is
 *           one {producer, value} of 16 bytes, at most PIPE_BUF, so the kernel writes it
 *           whole: messages from different producers never interleave mid-message.
 *           EOF arrives when every producer has closed its end, even one that was killed.
 *   mqueue  the same over a POSIX message queue (mq_open): the kernel keeps message
 *           boundaries, and the queue holds at most 10 messages (the default limit for
 *           normal users), so producers block early. The queue's name is unique (pid and a
 *           counter), created exclusively with mode 0600, and unlinked right after opening:
 *           the forked producers inherit the open descriptor, and nothing is left in
 *           /dev/mqueue however the program ends.
 *   thread  W producer threads put into a bounded FIFO (mutex and condition variables);
 *           the main thread is the consumer.
 * Observe: the values of one producer arrive in the order it put them; how the producers
 * interleave changes from run to run.
 * A forked producer that dies is noticed within LIVENESS_CHECK_MS (waitid with WNOWAIT looks
 * without reaping) and reported, exit 3: its missing values would otherwise be waited for.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/harness.h"
#include "../common/workers.h"

static const program_info info = {
    .concept = "producers",
    .model = "posix",
    .summary = "W producers put into one process-safe queue that the main program drains meanwhile.",
    .variants = {{"pipe", "forked producers write 16-byte messages into one pipe"},
                 {"mqueue", "forked producers mq_send into one POSIX message queue"},
                 {"thread", "producer threads put into a mutex + condition variable FIFO"},
                 {NULL, NULL}},
    .n_meaning = "values 1..n per producer (even producers square, odd ones negate)",
    .default_n = 5,
    .max_n = 100000000,
    .default_workers = 2,
};

/* One message as it travels: two longs, so no padding bytes (uninitialised stack garbage)
 * are handed to the kernel and the consumer. */
typedef struct {
    long producer, value;
} message;

static message message_of(int producer, long i)
{
    return (message){producer, producer_value(producer, i)};
}

static produced_item item_of(message m) { return (produced_item){(int)m.producer, m.value}; }

/* The pipe writes a message atomically only up to PIPE_BUF bytes. */
_Static_assert(sizeof(message) <= PIPE_BUF, "a message must fit in one atomic pipe write");

/* Message queue size: within the limits a normal user gets (/proc/sys/fs/mqueue/msg_max). */
enum { MQUEUE_MESSAGES = 10 };
/* How long the consumer waits for a message before it checks that the producers are alive,
 * and a producer waits for room before it checks that the consumer is. */
enum { LIVENESS_CHECK_MS = 100 };
/* Slots of the thread variant's FIFO. */
enum { QUEUE_CAPACITY = 256 };

/* What the consumer received, in the order it received it. */
typedef struct {
    produced_item *items;
    size_t count;
    size_t capacity;
} received_log;

static void log_received(received_log *log, produced_item item)
{
    if (log->count < log->capacity) log->items[log->count] = item; /* extras counted, not stored */
    log->count++;
}

/* ---- forked producers: watched while the consumer drains ---- */

/* A producer that cannot go on says why and leaves; the parent sees the status. */
static _Noreturn void producer_fails(int producer, const char *call)
{
    fprintf(stderr, "%s: producer %d: %s failed: %s\n", program_name(), producer, call,
            strerror(errno));
    _exit(EXIT_SYSTEM);
}

/*
 * Looks at the producers without reaping them (WNOWAIT: join_workers reaps them later).
 * Returns true when one was killed or failed: what it did not send will never come.
 * *ended counts those that have ended, cleanly or not.
 */
static bool a_producer_failed(const pid_t *children, int count, int *ended)
{
    *ended = 0;
    for (int p = 0; p < count; p++) {
        siginfo_t child = {.si_pid = 0};
        if (waitid(P_PID, (id_t)children[p], &child, WEXITED | WNOHANG | WNOWAIT) != 0)
            die_errno("waitid");
        if (child.si_pid == 0) continue; /* still running */
        (*ended)++;
        if (child.si_code != CLD_EXITED || child.si_status != EXIT_PASS) return true;
    }
    return false;
}

/* The consumer checks on its producers this often, even while messages keep coming. */
static bool time_to_check(double *last_check)
{
    double now = now_seconds();
    if (now - *last_check < LIVENESS_CHECK_MS / 1000.0) return false;
    *last_check = now;
    return true;
}

/* A producer died: say how far the consumer got; join_workers names the dead one, exit 3. */
static _Noreturn void producer_died(pid_t *children, int count, const received_log *log)
{
    fprintf(stderr, "%s: %zu of %zu values received when a producer failed\n", program_name(),
            log->count, log->capacity);
    join_workers(children, count);
    die_msg("a producer failed but none was found dead"); /* join_workers does not return here */
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
        message sent = message_of(producer, i);
        ssize_t written;
        while ((written = write(channel->write_fd, &sent, sizeof sent)) < 0 && errno == EINTR) {
        }
        if (written != (ssize_t)sizeof sent) producer_fails(producer, "write"); /* never partial */
    }
}

static void consume_pipe(int producer_count, long n, received_log *log)
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
    int ended;
    for (;;) {
        ssize_t got = read(fds[0], buffer.bytes + filled, sizeof buffer.bytes - filled);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int saved = errno;
            stop_workers(children, producer_count);
            die_code("read", saved);
        }
        if (got == 0) break; /* every producer has closed its end: finished, or dead */
        filled += (size_t)got;
        size_t whole = filled / sizeof(message);
        for (size_t k = 0; k < whole; k++) log_received(log, item_of(buffer.items[k]));
        filled -= whole * sizeof(message);
        memmove(buffer.bytes, buffer.bytes + whole * sizeof(message), filled);
        /* The others keep the pipe busy after one has died: look, rather than wait for EOF. */
        if (time_to_check(&last_check) && a_producer_failed(children, producer_count, &ended))
            producer_died(children, producer_count, log);
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
        message sent = message_of(producer, i);
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

static void consume_mqueue(int producer_count, long n, received_log *log)
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
    int ended;
    /* Unlike a pipe, a message queue gives no EOF when its senders are gone: look at them. */
    while (log->count < log->capacity) {
        message received;
        struct timespec deadline = deadline_in(LIVENESS_CHECK_MS);
        ssize_t got = mq_timedreceive(channel.queue, (char *)&received, sizeof received, NULL,
                                      &deadline);
        if (got == (ssize_t)sizeof received) {
            log_received(log, item_of(received));
            if (time_to_check(&last_check) && a_producer_failed(children, producer_count, &ended))
                producer_died(children, producer_count, log);
            continue;
        }
        if (got >= 0) {
            stop_workers(children, producer_count);
            die_msg("mq_timedreceive returned %zd bytes, expected %zu", got, sizeof received);
        }
        if (errno == EINTR) continue;
        if (errno != ETIMEDOUT) {
            int saved = errno;
            stop_workers(children, producer_count);
            die_code("mq_timedreceive", saved);
        }
        /* Nothing came for a while. Still empty after every producer had ended: all is in. */
        if (producers_gone) break;
        if (a_producer_failed(children, producer_count, &ended))
            producer_died(children, producer_count, log);
        producers_gone = ended == producer_count;
    }
    join_workers(children, producer_count);
    if (mq_close(channel.queue) != 0) die_errno("mq_close");
}

/* ---- thread: producer threads and a bounded FIFO ---- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;  /* the consumer waits here */
    pthread_cond_t not_full;   /* producers wait here */
    produced_item ring[QUEUE_CAPACITY];
    size_t head, count;
    int producers_running;     /* the consumer stops when this is 0 and the ring is empty */
} item_queue;

typedef struct {
    int producer;
    long n;
    item_queue *queue;
} producer_args;

static void queue_put(item_queue *q, produced_item item)
{
    CHECK_RC(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
    while (q->count == QUEUE_CAPACITY)
        CHECK_RC(pthread_cond_wait(&q->not_full, &q->lock), "pthread_cond_wait");
    q->ring[(q->head + q->count) % QUEUE_CAPACITY] = item;
    q->count++;
    CHECK_RC(pthread_cond_signal(&q->not_empty), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
}

static void queue_producer_finished(item_queue *q)
{
    CHECK_RC(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
    q->producers_running--;
    CHECK_RC(pthread_cond_signal(&q->not_empty), "pthread_cond_signal");
    CHECK_RC(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
}

/* Takes the oldest item; false once the ring is empty and no producer is left. */
static bool queue_get(item_queue *q, produced_item *item)
{
    CHECK_RC(pthread_mutex_lock(&q->lock), "pthread_mutex_lock");
    while (q->count == 0 && q->producers_running > 0)
        CHECK_RC(pthread_cond_wait(&q->not_empty, &q->lock), "pthread_cond_wait");
    bool got = q->count > 0;
    if (got) {
        *item = q->ring[q->head];
        q->head = (q->head + 1) % QUEUE_CAPACITY;
        q->count--;
        CHECK_RC(pthread_cond_signal(&q->not_full), "pthread_cond_signal");
    }
    CHECK_RC(pthread_mutex_unlock(&q->lock), "pthread_mutex_unlock");
    return got;
}

static void *thread_producer(void *arg)
{
    const producer_args *self = arg;
    for (long i = 1; i <= self->n; i++)
        queue_put(self->queue, (produced_item){self->producer, producer_value(self->producer, i)});
    queue_producer_finished(self->queue);
    return NULL;
}

static void consume_threads(int producer_count, long n, received_log *log)
{
    item_queue queue = {.head = 0, .count = 0, .producers_running = producer_count};
    CHECK_RC(pthread_mutex_init(&queue.lock, NULL), "pthread_mutex_init");
    CHECK_RC(pthread_cond_init(&queue.not_empty, NULL), "pthread_cond_init");
    CHECK_RC(pthread_cond_init(&queue.not_full, NULL), "pthread_cond_init");
    pthread_t *threads = checked_malloc((size_t)producer_count, sizeof *threads);
    producer_args *args = checked_malloc((size_t)producer_count, sizeof *args);
    for (int p = 0; p < producer_count; p++) {
        args[p] = (producer_args){.producer = p, .n = n, .queue = &queue};
        CHECK_RC(pthread_create(&threads[p], NULL, thread_producer, &args[p]), "pthread_create");
    }
    produced_item item;
    while (queue_get(&queue, &item)) log_received(log, item);
    for (int p = 0; p < producer_count; p++)
        CHECK_RC(pthread_join(threads[p], NULL), "pthread_join");
    CHECK_RC(pthread_cond_destroy(&queue.not_full), "pthread_cond_destroy");
    CHECK_RC(pthread_cond_destroy(&queue.not_empty), "pthread_cond_destroy");
    CHECK_RC(pthread_mutex_destroy(&queue.lock), "pthread_mutex_destroy");
    free(threads);
    free(args);
}

/* Sum of everything put: even producers put i*i, odd ones -i (mod 2^64, like the checksum). */
static uint64_t expected_checksum(int producer_count, long n)
{
    uint64_t squares = 0, naturals = 0;
    for (long i = 1; i <= n; i++) {
        squares += (uint64_t)producer_value(0, i);
        naturals += (uint64_t)i;
    }
    uint64_t evens = (uint64_t)(producer_count + 1) / 2, odds = (uint64_t)producer_count / 2;
    return evens * squares - odds * naturals;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    long n = opt.n;
    int producer_count = opt.workers;
    size_t expected = (size_t)producer_count * (size_t)n;
    received_log log = {checked_malloc(expected, sizeof(produced_item)), 0, expected};

    double start = now_seconds();
    if (opt.variant_index == 0)
        consume_pipe(producer_count, n, &log);
    else if (opt.variant_index == 1)
        consume_mqueue(producer_count, n, &log);
    else
        consume_threads(producer_count, n, &log);
    double elapsed = now_seconds() - start;

    size_t stored = log.count < log.capacity ? log.count : log.capacity;
    uint64_t checksum = 0; /* unsigned: wraps mod 2^64 instead of overflowing for huge runs */
    for (size_t k = 0; k < stored; k++) {
        checksum += (uint64_t)log.items[k].value;
        say(&opt, "%ld\n", log.items[k].value);
    }
    bool pass = verify_count("values received", (long long)expected, (long long)log.count);
    pass = pass && verify_producers(log.items, stored, producer_count, n);

    printf("%d producers put %ld values each: received %zu (expected %zu), checksum %" PRId64
           " (expected %" PRId64 ")\n", producer_count, n, log.count, expected, (int64_t)checksum,
           (int64_t)expected_checksum(producer_count, n));
    print_result(&info, &opt, pass, elapsed, "processed=%zu checksum=%" PRId64 " producers=%d",
                 log.count, (int64_t)checksum, producer_count);
    free(log.items);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
