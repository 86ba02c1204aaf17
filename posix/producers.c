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

/* One message is one produced_item; the pipe writes it atomically only up to PIPE_BUF. */
_Static_assert(sizeof(produced_item) <= PIPE_BUF, "a message must fit in one atomic pipe write");

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

/* ---- forked producers: start, watch, stop ---- */

/* A producer that cannot go on says why and leaves; the parent sees the status. */
static _Noreturn void producer_fails(int producer, const char *call)
{
    fprintf(stderr, "%s: producer %d: %s failed: %s\n", program_name(), producer, call,
            strerror(errno));
    _exit(EXIT_SYSTEM);
}

/* Kills and reaps the producers still running (pid > 0): no child outlives a failed run. */
static void stop_producers(pid_t *children, int count)
{
    for (int p = 0; p < count; p++)
        if (children[p] > 0) kill(children[p], SIGKILL);
    for (int p = 0; p < count; p++)
        if (children[p] > 0) {
            while (waitpid(children[p], NULL, 0) < 0 && errno == EINTR) {
            }
            children[p] = 0;
        }
}

/* Judges one producer's wait status; false (with the reason on stderr) unless it exited 0. */
static bool producer_exited_cleanly(int producer, pid_t pid, int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: producer %d (pid %ld) was killed by signal %d (%s)\n", program_name(),
                producer, (long)pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        fprintf(stderr, "%s: producer %d (pid %ld) exited with status %d\n", program_name(),
                producer, (long)pid, WEXITSTATUS(status));
    return false;
}

/*
 * Reaps producers: all of them (blocking), or only those already finished (WNOHANG).
 * Returns false if one died or failed; then the others are killed and reaped too.
 * *running counts the producers not yet reaped.
 */
static bool reap_producers(pid_t *children, int count, bool block, int *running)
{
    bool clean = true;
    for (int p = 0; p < count; p++) {
        if (children[p] <= 0) continue;
        int status;
        pid_t got;
        while ((got = waitpid(children[p], &status, block ? 0 : WNOHANG)) < 0 && errno == EINTR) {
        }
        if (got < 0) die_errno("waitpid");
        if (got == 0) continue; /* still running */
        if (!producer_exited_cleanly(p, children[p], status)) clean = false;
        children[p] = 0;
        (*running)--;
    }
    if (!clean) {
        stop_producers(children, count);
        *running = 0;
    }
    return clean;
}

typedef void (*producer_body)(int producer, long n, void *channel);

/* Forks one process per producer, each running body and leaving with _exit(0). */
static pid_t *fork_producers(int count, long n, producer_body body, void *channel, int close_fd)
{
    pid_t *children = checked_calloc((size_t)count, sizeof *children);
    fflush(stdout); /* the children must not inherit unwritten output and print it again */
    fflush(stderr);
    for (int p = 0; p < count; p++) {
        pid_t pid = fork();
        if (pid < 0) {
            int saved = errno;
            stop_producers(children, p);
            die_code("fork", saved);
        }
        if (pid == 0) {
            if (close_fd >= 0) close(close_fd); /* the child never reads */
            body(p, n, channel);
            _exit(EXIT_PASS);
        }
        children[p] = pid;
    }
    return children;
}

/* ---- pipe: one pipe, W writers, one reader ---- */

static void pipe_producer(int producer, long n, void *channel)
{
    int write_fd = *(int *)channel;
    for (long i = 1; i <= n; i++) {
        produced_item message = {producer, producer_value(producer, i)};
        ssize_t written;
        while ((written = write(write_fd, &message, sizeof message)) < 0 && errno == EINTR) {
        }
        if (written != (ssize_t)sizeof message) producer_fails(producer, "write"); /* never partial */
    }
}

static bool consume_pipe(int producer_count, long n, received_log *log)
{
    int fds[2];
    if (pipe(fds) != 0) die_errno("pipe");
    pid_t *children = fork_producers(producer_count, n, pipe_producer, &fds[1], fds[0]);
    close(fds[1]); /* else our own write end would keep EOF from ever arriving */

    /* Read many messages per call; a read may end mid-message, so the tail is carried over. */
    union {
        produced_item items[256];
        char bytes[256 * sizeof(produced_item)];
    } buffer;
    size_t filled = 0;
    for (;;) {
        ssize_t got = read(fds[0], buffer.bytes + filled, sizeof buffer.bytes - filled);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int saved = errno;
            stop_producers(children, producer_count);
            die_code("read", saved);
        }
        if (got == 0) break; /* every producer has closed its end: finished, or dead */
        filled += (size_t)got;
        size_t whole = filled / sizeof(produced_item);
        for (size_t k = 0; k < whole; k++) log_received(log, buffer.items[k]);
        filled -= whole * sizeof(produced_item);
        memmove(buffer.bytes, buffer.bytes + whole * sizeof(produced_item), filled);
    }
    close(fds[0]);
    int running = producer_count;
    bool clean = reap_producers(children, producer_count, true, &running);
    free(children);
    if (clean && filled != 0) die_msg("pipe ended inside a message (%zu stray bytes)", filled);
    return clean;
}

/* ---- mqueue: one POSIX message queue, W senders, one receiver ---- */

typedef struct {
    mqd_t queue;
    pid_t consumer;
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

static void mqueue_producer(int producer, long n, void *channel)
{
    const mqueue_channel *mq = channel;
    for (long i = 1; i <= n; i++) {
        produced_item message = {producer, producer_value(producer, i)};
        for (;;) {
            struct timespec deadline = deadline_in(LIVENESS_CHECK_MS);
            if (mq_timedsend(mq->queue, (const char *)&message, sizeof message, 0, &deadline) == 0)
                break;
            if (errno == EINTR) continue;
            if (errno != ETIMEDOUT) producer_fails(producer, "mq_timedsend");
            /* The queue stayed full: if the consumer is gone, nobody will ever empty it. */
            if (getppid() != mq->consumer) _exit(EXIT_SYSTEM);
        }
    }
}

static bool consume_mqueue(int producer_count, long n, received_log *log)
{
    static unsigned queue_counter; /* with the pid: a name no other run uses */
    char name[64];
    snprintf(name, sizeof name, "/producers-%ld-%u", (long)getpid(), queue_counter++);
    struct mq_attr attributes = {.mq_maxmsg = MQUEUE_MESSAGES, .mq_msgsize = sizeof(produced_item)};
    mqueue_channel mq = {.consumer = getpid()};
    mq.queue = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attributes);
    if (mq.queue == (mqd_t)-1) die_errno("mq_open");
    /* The name goes at once; the open descriptor (inherited by fork) keeps the queue alive. */
    if (mq_unlink(name) != 0) die_errno("mq_unlink");

    pid_t *children = fork_producers(producer_count, n, mqueue_producer, &mq, -1);
    size_t expected = (size_t)producer_count * (size_t)n;
    int running = producer_count;
    bool clean = true, producers_gone = false;
    while (log->count < expected) {
        produced_item message;
        struct timespec deadline = deadline_in(LIVENESS_CHECK_MS);
        ssize_t got = mq_timedreceive(mq.queue, (char *)&message, sizeof message, NULL, &deadline);
        if (got == (ssize_t)sizeof message) {
            log_received(log, message);
            continue;
        }
        if (got >= 0) {
            stop_producers(children, producer_count);
            die_msg("mq_timedreceive returned %zd bytes, expected %zu", got, sizeof message);
        }
        if (errno == EINTR) continue;
        if (errno != ETIMEDOUT) {
            int saved = errno;
            stop_producers(children, producer_count);
            die_code("mq_timedreceive", saved);
        }
        /* Nothing came for a while. Queue empty after every producer had exited: all is in. */
        if (producers_gone) break;
        clean = reap_producers(children, producer_count, false, &running);
        if (!clean) break; /* one died: it will never send the rest */
        producers_gone = running == 0;
    }
    if (clean) clean = reap_producers(children, producer_count, true, &running);
    if (mq_close(mq.queue) != 0) die_errno("mq_close");
    free(children);
    return clean;
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

static bool consume_threads(int producer_count, long n, received_log *log)
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
    return true;
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
    bool producers_ok;
    if (opt.variant_index == 0)
        producers_ok = consume_pipe(producer_count, n, &log);
    else if (opt.variant_index == 1)
        producers_ok = consume_mqueue(producer_count, n, &log);
    else
        producers_ok = consume_threads(producer_count, n, &log);
    double elapsed = now_seconds() - start;
    if (!producers_ok) { /* a producer died: what it did not send is its fault, not the queue's */
        fprintf(stderr, "%s: %zu of %zu values received before a producer failed\n",
                program_name(), log.count, expected);
        free(log.items);
        return EXIT_SYSTEM;
    }

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
