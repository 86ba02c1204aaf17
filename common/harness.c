/*
 * harness.c - argument parsing, timing, verification and the RESULT line, shared by every
 * example. See harness.h for what each function promises.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS for the producers' log: not POSIX 2008, on every Linux and BSD */
#include "harness.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char program_name_buf[64] = "program";

void set_program_name(const program_info *info)
{
    snprintf(program_name_buf, sizeof program_name_buf, "%s/%s", info->model, info->concept);
}

const char *program_name(void) { return program_name_buf; }

/* ------------------------------------------------------------------ parsing */

bool parse_long(const char *text, long min, long max, long *out)
{
    if (text == NULL || *text == '\0') return false;
    long value = 0;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9') return false;  /* no sign, no spaces, no hex, no junk */
        int digit = *c - '0';
        if (value > (LONG_MAX - digit) / 10) return false;  /* would overflow */
        value = value * 10 + digit;
    }
    if (value < min || value > max) return false;
    *out = value;
    return true;
}

int core_count(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : (int)cores;
}

const variant_doc *variant_at(const program_info *info, int index)
{
    /* doc is the first member of every row, so a row's address is its doc's address */
    const variant_doc *doc =
        (const variant_doc *)((const char *)info->variant_docs + (size_t)index * info->variant_stride);
    return doc->name != NULL ? doc : NULL;
}

static int variant_count(const program_info *info)
{
    int count = 0;
    while (count < MAX_VARIANTS && variant_at(info, count) != NULL) count++;
    return count;
}

/* Writes one line into err; always returns PARSE_ERROR so callers can `return fail(...)`. */
static parse_status fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static parse_status fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* the message echoes user input: a newline or escape in it must not break the one line */
    for (char *c = err; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    return PARSE_ERROR;
}

/* The worker count before -w: the table's default, or OMP_NUM_THREADS in omp programs. */
static parse_status default_workers(const program_info *info, int *workers, char *err, size_t errlen)
{
    *workers = info->default_workers > 0 ? info->default_workers : core_count();
    const char *omp_env = getenv("OMP_NUM_THREADS");
    if (strcmp(info->model, "omp") == 0 && omp_env != NULL && *omp_env != '\0') {
        /* OMP_NUM_THREADS may be a list for nested levels ("4,2"): the first entry counts. */
        char first[32];
        size_t len = strcspn(omp_env, ",");
        long value;
        if (len >= sizeof first) len = sizeof first - 1;
        memcpy(first, omp_env, len);
        first[len] = '\0';
        if (!parse_long(first, 1, MAX_WORKERS, &value))
            return fail(err, errlen, "OMP_NUM_THREADS='%s' is not a thread count from 1 to %d",
                        omp_env, MAX_WORKERS);
        *workers = (int)value;
    }
    return PARSE_RUN;
}

/* Why a trace cannot be written at path, or NULL: checked before any work starts, so a bad path
 * is a usage error (exit 2), not a lost run. The file is written next to itself and renamed. */
static const char *trace_path_refused(const char *path)
{
    if (*path == '\0') return "an empty path";
    struct stat info;
    if (stat(path, &info) == 0 && S_ISDIR(info.st_mode)) return "is a directory";
    const char *slash = strrchr(path, '/');
    char folder[4096];
    if (slash == NULL) {
        strcpy(folder, ".");
    } else {
        size_t length = slash == path ? 1 : (size_t)(slash - path);
        if (length >= sizeof folder) return "the path is too long";
        memcpy(folder, path, length);
        folder[length] = '\0';
    }
    if (stat(folder, &info) != 0 || !S_ISDIR(info.st_mode)) return "its folder does not exist";
    if (access(folder, W_OK | X_OK) != 0) return "its folder is not writable";
    return NULL;
}

parse_status parse_options(const program_info *info, int argc, char **argv,
                           options *opt, char *err, size_t errlen)
{
    set_program_name(info);
    memset(opt, 0, sizeof *opt);
    opt->n = info->default_n;
    opt->delay_ms = info->default_delay_ms;
    opt->variant = variant_at(info, 0)->name;
    opt->variant_index = 0;
    if (default_workers(info, &opt->workers, err, errlen) == PARSE_ERROR) return PARSE_ERROR;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) return PARSE_HELP;
        if (strcmp(arg, "--quiet") == 0) {
            opt->quiet = true;
            continue;
        }
        if (strcmp(arg, "--uneven") == 0) {
            if (!info->takes_uneven) return fail(err, errlen, "--uneven is not used by %s", info->concept);
            opt->uneven = true;
            continue;
        }
        bool takes_value = strcmp(arg, "-n") == 0 || strcmp(arg, "-w") == 0 ||
                           strcmp(arg, "--variant") == 0 || strcmp(arg, "--delay-ms") == 0 ||
                           strcmp(arg, "--trace") == 0;
        if (!takes_value) {
            if (arg[0] == '-') return fail(err, errlen, "unknown option '%s'", arg);
            return fail(err, errlen, "unexpected argument '%s'", arg);
        }
        if (i + 1 >= argc) return fail(err, errlen, "%s needs a value", arg);
        const char *value = argv[++i];
        long number;
        if (strcmp(arg, "-n") == 0) {
            if (!parse_long(value, 0, info->max_n, &number))
                return fail(err, errlen, "-n '%s' is not a whole number from 0 to %ld", value,
                            info->max_n);
            opt->n = number;
        } else if (strcmp(arg, "-w") == 0) {
            if (!parse_long(value, 1, MAX_WORKERS, &number))
                return fail(err, errlen, "-w '%s' is not a worker count from 1 to %d", value,
                            MAX_WORKERS);
            opt->workers = (int)number;
            opt->workers_given = true;
        } else if (strcmp(arg, "--delay-ms") == 0) {
            if (!info->takes_delay)
                return fail(err, errlen, "--delay-ms is not used by %s", info->concept);
            if (!parse_long(value, 0, 60000, &number))
                return fail(err, errlen, "--delay-ms '%s' is not a whole number from 0 to 60000",
                            value);
            opt->delay_ms = number;
        } else if (strcmp(arg, "--trace") == 0) {
            const char *why = trace_path_refused(value);
            if (why != NULL) return fail(err, errlen, "--trace '%s': %s", value, why);
            opt->trace_path = value;
        } else { /* --variant */
            int found = -1;
            for (int v = 0; v < variant_count(info); v++)
                if (strcmp(value, variant_at(info, v)->name) == 0) found = v;
            if (found < 0) return fail(err, errlen, "unknown variant '%s'", value);
            opt->variant = variant_at(info, found)->name;
            opt->variant_index = found;
        }
    }
    return PARSE_RUN;
}

void print_usage(const program_info *info)
{
    set_program_name(info);
    printf("usage: %s [-n N] [-w W] [--variant V]%s%s [--trace FILE] [--quiet] [-h]\n",
           program_name(), info->takes_delay ? " [--delay-ms D]" : "",
           info->takes_uneven ? " [--uneven]" : "");
    printf("%s\n\n", info->summary);
    if (info->note != NULL) printf("%s\n\n", info->note);
    printf("  -n N          %s (default %ld, at most %ld)\n", info->n_meaning, info->default_n,
           info->max_n);
    if (strcmp(info->model, "mpi") == 0)
        printf("  -w W          workers are the ranks: set them with mpirun -np W\n");
    else if (info->default_workers > 0)
        printf("  -w W          workers (default %d%s, at most %d)\n", info->default_workers,
               strcmp(info->model, "omp") == 0 ? ", or OMP_NUM_THREADS when set" : "",
               MAX_WORKERS);
    else
        printf("  -w W          workers (default: the number of cores, %d here%s; at most %d)\n",
               core_count(), strcmp(info->model, "omp") == 0 ? ", or OMP_NUM_THREADS when set" : "",
               MAX_WORKERS);
    printf("  --variant V   mechanism (default %s):\n", variant_at(info, 0)->name);
    for (int v = 0; v < variant_count(info); v++)
        printf("                  %-12s %s\n", variant_at(info, v)->name, variant_at(info, v)->help);
    if (info->takes_delay)
        printf("  --delay-ms D  pause inside each read-modify-write step (default %ld)\n",
               info->default_delay_ms);
    if (info->takes_uneven)
        printf("  --uneven      item i costs work that grows with i (the result is still cube(i))\n");
    printf("  --trace FILE  write the run's events as Chrome trace-event JSON (Perfetto, speedscope;\n"
           "                tools/timeline draws it)\n");
    printf("  --quiet       print only the summary and the RESULT line\n");
    printf("  -h, --help    this text\n\n");
    printf("The last line is: RESULT concept=%s model=%s variant=... workers=... n=... "
           "status=PASS|FAIL elapsed_s=...\n", info->concept, info->model);
    printf("Exit status: 0 verified, 1 wrong result, 2 usage error, 3 system error.\n");
}

void parse_or_exit(const program_info *info, int argc, char **argv, options *opt)
{
    char err[256];
    switch (parse_options(info, argc, argv, opt, err, sizeof err)) {
    case PARSE_RUN:
        return;
    case PARSE_HELP:
        print_usage(info);
        exit(EXIT_PASS);
    case PARSE_ERROR:
        fprintf(stderr, "%s: %s (see --help)\n", program_name(), err);
        exit(EXIT_USAGE);
    }
}

/* ------------------------------------------------------------------ time */

double now_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) die_errno("clock_gettime");
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void sleep_ms(long ms)
{
    if (ms <= 0) return; /* nanosleep(0) still costs ~60 us of timer slack: skip it */
    struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
        /* a signal woke us early: sleep the rest */
    }
}

/* ------------------------------------------------------------------ the watchdog */

static struct {
    timer_t timer;
    pid_t owner; /* the process that armed it: a forked child has no timer (fork does not copy it) */
    double seconds;
    watchdog_describe_fn describe;
    const void *state;
} watchdog;

/* Runs in the timer's own thread while the workers still run (or wait): _exit, not exit, so
 * that no atexit handler (an MPI library's among them) runs under their feet from a thread it
 * does not know. stdout is flushed only if no thread holds it. */
static void watchdog_fires(union sigval unused)
{
    (void)unused;
    char text[512] = "the run";
    if (watchdog.describe != NULL) watchdog.describe(watchdog.state, text, sizeof text);
    if (ftrylockfile(stdout) == 0) {
        fflush(stdout);
        funlockfile(stdout);
    }
    fprintf(stderr, "%s: %s after %.0f s\n", program_name(), text, watchdog.seconds);
    fflush(stderr);
    _exit(EXIT_SYSTEM);
}

void watchdog_start(double seconds, watchdog_describe_fn describe, const void *state)
{
    watchdog.owner = getpid();
    watchdog.seconds = seconds;
    watchdog.describe = describe;
    watchdog.state = state;
    struct sigevent notify = {.sigev_notify = SIGEV_THREAD};
    notify.sigev_notify_function = watchdog_fires;
    /* its thread is started here: where no thread may start (ulimit -u), this is what fails */
    if (timer_create(CLOCK_MONOTONIC, &notify, &watchdog.timer) != 0) die_errno("timer_create");
    struct itimerspec once = {.it_interval = {0, 0}};
    once.it_value.tv_sec = (time_t)seconds;
    once.it_value.tv_nsec = (long)((seconds - (double)once.it_value.tv_sec) * 1e9);
    if (timer_settime(watchdog.timer, 0, &once, NULL) != 0) die_errno("timer_settime");
}

void watchdog_stop(void)
{
    if (getpid() != watchdog.owner) return; /* a child that went on into main's code */
    if (timer_delete(watchdog.timer) != 0) die_errno("timer_delete");
}

/* ------------------------------------------------------------------ output */

void say(const options *opt, const char *fmt, ...)
{
    if (opt->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* Python prints lists whole; past this many elements we print the head, "...", and the tail. */
enum { LIST_HEAD = 10, LIST_TAIL = 5, LIST_LIMIT = 20 };

void print_u64_list(const uint64_t *values, size_t count)
{
    putchar('[');
    for (size_t i = 0; i < count; i++) {
        if (count > LIST_LIMIT && i == LIST_HEAD) {
            printf(", ...");
            i = count - LIST_TAIL;
        }
        printf("%s%" PRIu64, i == 0 ? "" : ", ", values[i]);
    }
    printf("]\n");
}

const char *per_worker_text(const long long *counts, int workers)
{
    static char text[MAX_WORKERS * 21 + 1]; /* 20 characters for a long long, and a comma */
    size_t used = 0;
    text[0] = '\0';
    for (int w = 0; w < workers && w < MAX_WORKERS; w++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%lld", w == 0 ? "" : ",",
                                 counts[w]);
    return text;
}

void print_double_list(const double *values, size_t count)
{
    putchar('[');
    for (size_t i = 0; i < count; i++) {
        if (count > LIST_LIMIT && i == LIST_HEAD) {
            printf(", ...");
            i = count - LIST_TAIL;
        }
        printf("%s%.1f", i == 0 ? "" : ", ", values[i]);
    }
    printf("]\n");
}

void print_result(const program_info *info, const options *opt, bool pass, double elapsed_s,
                  const char *extra_fmt, ...)
{
    printf("RESULT concept=%s model=%s variant=%s workers=%d n=%ld status=%s elapsed_s=%.6f",
           info->concept, info->model, opt->variant, opt->workers, opt->n, pass ? "PASS" : "FAIL",
           elapsed_s);
    if (extra_fmt != NULL && *extra_fmt != '\0') {
        va_list ap;
        va_start(ap, extra_fmt);
        putchar(' ');
        vprintf(extra_fmt, ap);
        va_end(ap);
    }
    putchar('\n');
    /* Buffered output fails late: the error shows at the flush, or as the stream's error flag. */
    if (fflush(stdout) != 0 || ferror(stdout)) die_errno("write to stdout");
}

/* ------------------------------------------------------------------ verification */

uint64_t cube_checksum_expected(uint64_t n)
{
    if (n == 0) return 0;
    /* n(n-1)/2 without overflowing: halve whichever factor is even first. */
    uint64_t triangle = (n % 2 == 0) ? (n / 2) * (n - 1) : n * ((n - 1) / 2);
    return triangle * triangle; /* unsigned arithmetic wraps mod 2^64, as the workers' does */
}

uint64_t square_sum_expected(uint64_t n)
{
    if (n == 0) return 0;
    /* n(n-1)(2n-1)/6: divide the 2 and the 3 out of the factors first, then multiply mod 2^64 */
    uint64_t a = n, b = n - 1, c = 2 * n - 1;
    if (a % 2 == 0) a /= 2; else b /= 2;
    if (a % 3 == 0) a /= 3; else if (b % 3 == 0) b /= 3; else c /= 3;
    return a * b * c;
}

bool verify_cubes(const uint64_t *out, size_t n, uint64_t *checksum)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i] != cube_u64(i)) {
            fprintf(stderr, "%s: out[%zu] = %" PRIu64 ", expected %" PRIu64 "\n", program_name(), i,
                    out[i], cube_u64(i));
            *checksum = 0;
            return false;
        }
        sum += out[i];
    }
    *checksum = sum;
    uint64_t expected = cube_checksum_expected(n);
    if (sum != expected) {
        fprintf(stderr, "%s: checksum %" PRIu64 ", expected %" PRIu64 "\n", program_name(), sum,
                expected);
        return false;
    }
    return true;
}

bool verify_count(const char *what, long long expected, long long got)
{
    if (got == expected) return true;
    fprintf(stderr, "%s: %s is %lld, expected %lld\n", program_name(), what, got, expected);
    return false;
}

bool verify_u64(const char *what, uint64_t expected, uint64_t got)
{
    if (got == expected) return true;
    fprintf(stderr, "%s: %s is %" PRIu64 ", expected %" PRIu64 "\n", program_name(), what, got,
            expected);
    return false;
}

bool verify_array(const double *values, size_t n, int workers, double *checksum)
{
    double sum = 0.0;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        /* exact: small integers are exact in a double, and every step added exactly 1.0 */
        double expected = 100.0 * (double)i + (double)workers;
        if (ok && values[i] != expected) {
            fprintf(stderr, "%s: element %zu is %.1f, expected %.1f\n", program_name(), i,
                    values[i], expected);
            ok = false;
        }
        sum += values[i];
    }
    *checksum = sum;
    return ok;
}

bool verify_exactly_once(const long *items, size_t count, long n)
{
    bool ok = true;
    unsigned char *seen = checked_calloc((size_t)n + 1, 1);
    for (size_t k = 0; k < count && ok; k++) {
        long item = items[k];
        if (item < 1 || item > n) {
            fprintf(stderr, "%s: item %ld (position %zu) was never put (items are 1..%ld)\n",
                    program_name(), item, k, n);
            ok = false;
        } else if (seen[item]) {
            fprintf(stderr, "%s: item %ld processed twice (again at position %zu)\n",
                    program_name(), item, k);
            ok = false;
        } else {
            seen[item] = 1;
        }
    }
    for (long item = 1; item <= n && ok; item++) {
        if (!seen[item]) {
            fprintf(stderr, "%s: item %ld never processed (%zu of %ld processed)\n", program_name(),
                    item, count, n);
            ok = false;
        }
    }
    free(seen);
    return ok;
}

bool verify_producers(const produced_item *items, size_t count, int producers, long n)
{
    /* next[p]: the index i (1..n) of the value producer p must send next; order is checked
     * per producer, since the consumer may interleave producers in any way. */
    long *next = checked_calloc((size_t)producers, sizeof *next);
    bool ok = true;
    for (int p = 0; p < producers; p++) next[p] = 1;
    for (size_t k = 0; k < count && ok; k++) {
        int p = items[k].producer;
        if (p < 0 || p >= producers) {
            fprintf(stderr, "%s: message %zu names producer %d (producers are 0..%d)\n",
                    program_name(), k, p, producers - 1);
            ok = false;
        } else if (next[p] > n) {
            fprintf(stderr, "%s: producer %d sent more than %ld values (extra value %ld)\n",
                    program_name(), p, n, items[k].value);
            ok = false;
        } else if (items[k].value != producer_value(p, next[p])) {
            fprintf(stderr, "%s: producer %d's value %ld is %ld, expected %ld (lost, doubled or "
                    "out of order)\n", program_name(), p, next[p], items[k].value,
                    producer_value(p, next[p]));
            ok = false;
        } else {
            next[p]++;
        }
    }
    for (int p = 0; p < producers && ok; p++) {
        if (next[p] != n + 1) {
            fprintf(stderr, "%s: producer %d: %ld of %ld values received\n", program_name(), p,
                    next[p] - 1, n);
            ok = false;
        }
    }
    free(next);
    return ok;
}

/* ------------------------------------------------------------------ failures */

void die_errno(const char *call) { die_code(call, errno); }

/* Set in a forked child: its way out is _exit, never exit (see mark_forked_child). */
static bool forked_child = false;

void mark_forked_child(void) { forked_child = true; }

void exit_system_error(void)
{
    fflush(stderr);
    if (forked_child) _exit(EXIT_SYSTEM);
    exit(EXIT_SYSTEM);
}

void die_code(const char *call, int error_code)
{
    fprintf(stderr, "%s: %s failed: %s\n", program_name(), call, strerror(error_code));
    exit_system_error();
}

void die_msg(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", program_name());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit_system_error();
}

void *checked_malloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        die_msg("malloc of %zu x %zu bytes failed: too large", count, size);
    void *block = malloc(count * size == 0 ? 1 : count * size);
    if (block == NULL)
        die_msg("malloc of %zu bytes failed: %s", count * size, strerror(ENOMEM));
    return block;
}

void *checked_calloc(size_t count, size_t size)
{
    void *block = calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
    if (block == NULL)
        die_msg("calloc of %zu x %zu bytes failed: %s", count, size, strerror(ENOMEM));
    return block;
}

double array_checksum_expected(size_t n, int added)
{
    uint64_t base = n == 0 ? 0 : 100 * (uint64_t)n * (n - 1) / 2;
    return (double)(base + (uint64_t)added * n);
}

bool verify_array_checksum(const double *values, size_t n, int added, double *expected,
                           double *checksum)
{
    bool ok = verify_array(values, n, added, checksum);
    *expected = array_checksum_expected(n, added);
    if (*checksum != *expected) {
        fprintf(stderr, "%s: checksum %.1f, expected %.1f\n", program_name(), *checksum,
                *expected);
        ok = false;
    }
    return ok;
}

/* ------------------------------------------------------------------ race */

bool verify_race(long long expected, long long got)
{
    if (expected == 0) return verify_count("the counter", 0, got);
    if (got >= 1 && got <= expected) return true;
    fprintf(stderr, "%s: end value %lld is outside 1..%lld\n", program_name(), got, expected);
    return false;
}

/* ------------------------------------------------------------------ producers */

item_log item_log_new(size_t capacity)
{
    if (capacity == 0) return (item_log){NULL, 0, 0};
    if (capacity > SIZE_MAX / sizeof(produced_item))
        die_msg("mmap of %zu x %zu bytes failed: too large", capacity, sizeof(produced_item));
    size_t bytes = capacity * sizeof(produced_item);
    /* Shared, not private: after a fork, a private page the consumer writes is copied first
     * (copy-on-write) for as long as a forked producer still maps it; a shared page is written
     * in place, so a forked producer costs the consumer nothing, as a producer thread does. */
    int flags = MAP_SHARED | MAP_ANONYMOUS;
#ifdef MAP_POPULATE
    flags |= MAP_POPULATE; /* Linux: the kernel fills the pages in one go, not one fault at a time */
#endif
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (memory == MAP_FAILED) die_errno("mmap");
    memset(memory, 0, bytes); /* every page written once now, before the clock */
    return (item_log){memory, 0, capacity};
}

void item_log_add(item_log *log, produced_item item)
{
    if (log->count < log->capacity) log->items[log->count] = item;
    log->count++;
}

uint64_t item_log_checksum(const item_log *log)
{
    uint64_t checksum = 0; /* unsigned: wraps mod 2^64 instead of overflowing for huge runs */
    for (size_t k = 0; k < log->count && k < log->capacity; k++)
        checksum += (uint64_t)log->items[k].value;
    return checksum;
}

void item_log_free(item_log *log)
{
    if (log->items != NULL && munmap(log->items, log->capacity * sizeof(produced_item)) != 0)
        die_errno("munmap");
    *log = (item_log){NULL, 0, 0};
}

uint64_t producers_checksum_expected(int producers, long n)
{
    uint64_t count = (uint64_t)n;
    uint64_t squares = square_sum_expected(count + 1); /* 1*1 + ... + n*n */
    uint64_t naturals = count % 2 == 0 ? count / 2 * (count + 1) : (count + 1) / 2 * count;
    uint64_t evens = (uint64_t)(producers + 1) / 2, odds = (uint64_t)producers / 2;
    return evens * squares - odds * naturals;
}

const char *producers_refused(int producers, long n)
{
    static char why[160];
    if (producers < 1 || n <= PRODUCERS_MAX_VALUES / producers) return NULL;
    snprintf(why, sizeof why, "%d producers x %ld values is more than %ld values in all",
             producers, n, PRODUCERS_MAX_VALUES);
    return why;
}

void usage_exit(const char *message)
{
    fprintf(stderr, "%s: %s (see --help)\n", program_name(), message);
    exit(EXIT_USAGE);
}

bool report_producers(const program_info *info, const options *opt, const item_log *log,
                      double elapsed_s, int ranks, const long long *put)
{
    int producer_count = opt->workers;
    long n = opt->n;
    size_t expected = (size_t)producer_count * (size_t)n;
    for (size_t k = 0; k < log->count && k < log->capacity; k++)
        say(opt, "%ld\n", log->items[k].value);
    uint64_t checksum = item_log_checksum(log);
    bool pass = verify_count("values received", (long long)expected, (long long)log->count);
    pass = pass && verify_producers(log->items, log->count, producer_count, n);
    for (int p = 0; p < producer_count && pass; p++) {
        if (put[p] == n) continue;
        fprintf(stderr, "%s: producer %d says it put %lld of %ld values\n", program_name(), p,
                put[p], n);
        pass = false;
    }
    /* mpi: the ranks beside the workers (rank 0 consumes; alone, it also produces) */
    char ranks_key[32] = "", ranks_note[64] = "";
    if (ranks > 0) {
        snprintf(ranks_key, sizeof ranks_key, " ranks=%d", ranks);
        if (ranks == 1)
            snprintf(ranks_note, sizeof ranks_note, ", on 1 rank: rank 0 produces too");
        else
            snprintf(ranks_note, sizeof ranks_note, ", on %d ranks: rank 0 consumes", ranks);
    }
    printf("%d producers put %ld values each, 1 consumer received %zu (expected %zu), checksum %"
           PRId64 " (expected %" PRId64 ")%s\n", producer_count, n, log->count, expected,
           (int64_t)checksum, (int64_t)producers_checksum_expected(producer_count, n), ranks_note);
    print_result(info, opt, pass, elapsed_s,
                 "processed=%zu checksum=%" PRId64 " consumers=1%s per_worker=%s", log->count,
                 (int64_t)checksum, ranks_key, per_worker_text(put, producer_count));
    return pass;
}
