/*
 * harness.h - the plumbing every example program shares, so that each example file
 * shows only its parallel idea.
 *
 *   parse_options()    the suite's strict command line: -n -w --variant --delay-ms --quiet -h
 *   now_seconds()      monotonic wall clock for elapsed_s (MPI programs use MPI_Wtime instead)
 *   verify_*()         exact checks against closed forms; each returns true or says what differed
 *   print_result()     the one RESULT line that ends stdout
 *   die_errno() ...    system failures: one line naming the call, exit 3
 *
 * The harness is plain C11 + POSIX: it serves pthreads, OpenMP and MPI programs alike
 * (MPI adds common/mpi_harness.h for rank-0 printing and collective exits).
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of every program (CONTRACT "Exit status"). */
enum {
    EXIT_PASS = 0,   /* the result verified */
    EXIT_FAIL = 1,   /* the result did not verify */
    EXIT_USAGE = 2,  /* bad command line */
    EXIT_SYSTEM = 3  /* fork, thread, memory or MPI call failed; a worker died */
};

/* Refused as absurd: more workers than this. */
#define MAX_WORKERS 1024
/* Longest variant list a program may declare. */
#define MAX_VARIANTS 8

/* A variant's name and --help line. A program's own variant table starts each row with one,
 * followed by the function that runs it:
 *
 *     static const struct variant {
 *         variant_doc doc;
 *         void (*run)(shared_counter *counter);
 *     } variants[] = {
 *         {{"critical", "#pragma omp critical around each step"}, add_with_critical},
 *         ...
 *         {{NULL, NULL}, NULL}};
 *
 * and hands it to the harness with VARIANT_TABLE(variants) in its program_info. parse_options
 * returns the chosen row's index, so main runs variants[opt.variant_index].run(...): the name,
 * the help and the function sit on one line, and no enum has to mirror the table's order. */
typedef struct {
    const char *name; /* "static"; NULL ends the table */
    const char *help; /* one short line for --help */
} variant_doc;

#define VARIANT_TABLE(table) .variant_docs = &(table)[0].doc, .variant_stride = sizeof (table)[0]
/* A table of docs alone (tests, tools): */
#define VARIANT_DOCS(docs) .variant_docs = (docs), .variant_stride = sizeof (docs)[0]

/* What a program is: fixed at compile time, one per example file. */
typedef struct {
    const char *concept;                 /* "pool_cube" */
    const char *model;                   /* "posix", "omp" or "mpi" */
    const char *summary;                 /* one line for --help: what it shows */
    const variant_doc *variant_docs;     /* VARIANT_TABLE(table): the first row is the default */
    size_t variant_stride;               /* bytes from one row of the table to the next */
    const char *n_meaning;               /* "range length" */
    long default_n;
    long max_n;                          /* larger is refused as absurd (exit 2) */
    int default_workers;                 /* 0 means: the number of online cores */
    bool takes_delay;                    /* accepts --delay-ms (race, counter, shared_array) */
    bool takes_uneven;                   /* accepts --uneven (pool_cube) */
    long default_delay_ms;
    const char *note;                    /* extra --help paragraph, or NULL (race: "wrong on purpose") */
} program_info;

/* What the command line asked for. */
typedef struct {
    long n;
    int workers;
    bool workers_given;    /* -w was on the command line */
    const char *variant;   /* the chosen variant's name, from program_info.variants */
    int variant_index;
    long delay_ms;
    bool quiet;
    bool uneven;            /* --uneven: item i costs work that grows with i (pool_cube) */
    const char *trace_path; /* --trace FILE, or NULL (common/trace.h) */
} options;

/* What parse_options decided. */
typedef enum { PARSE_RUN, PARSE_HELP, PARSE_ERROR } parse_status;

/*
 * Parses argv against info. Never prints and never exits, so the MPI layer can decide
 * who speaks. On PARSE_ERROR, err holds one line without the program name or newline.
 * The default worker count is resolved here: info->default_workers, or the core count,
 * replaced in omp programs by OMP_NUM_THREADS when set, and by -w when given.
 */
parse_status parse_options(const program_info *info, int argc, char **argv,
                           options *opt, char *err, size_t errlen);

/* Strict decimal parse: digits only, no sign, no junk, no overflow, within [min, max]. */
bool parse_long(const char *text, long min, long max, long *out);

/* The program's variant docs, in table order: index 0 is the default; NULL past the end. */
const variant_doc *variant_at(const program_info *info, int index);

/* Prints the usage text (every flag, variant and default) to stdout. */
void print_usage(const program_info *info);

/*
 * The usual front door for posix and omp programs: parse, print help and exit 0,
 * or print "PROGRAM: what is wrong (see --help)" on stderr and exit 2.
 */
void parse_or_exit(const program_info *info, int argc, char **argv, options *opt);

/* "omp/pool_cube" style name used in every message. */
const char *program_name(void);
void set_program_name(const program_info *info);

/* Seconds from an arbitrary fixed point, CLOCK_MONOTONIC. */
double now_seconds(void);

/* Sleeps for ms milliseconds (restarts after signals); 0 returns at once. */
void sleep_ms(long ms);

/* ---- the watchdog: no run waits for ever ----
 * Some waits are no call of the file's own: a parallel region's closing barrier, a
 * pthread_join, an MPI receive whose sender went wrong. A bug there (a lock never given back, a
 * message never sent) would hang the run, so the programs put a bound on the whole run: if it
 * has not ended `seconds` after watchdog_start, a POSIX timer's own thread (SIGEV_THREAD,
 * outside the workers) writes "<program>: <what describe wrote> after <seconds> s" and ends the
 * process with exit status 3. describe(state, ...) names what is unfinished; it reads progress
 * the workers may be writing (figures for a message, never for a check). The bounds grow with
 * the work and are generous: a correct run on a loaded machine never meets them. */
typedef void (*watchdog_describe_fn)(const void *state, char *text, size_t size);
void watchdog_start(double seconds, watchdog_describe_fn describe, const void *state);
void watchdog_stop(void); /* the run ended in time */

/* Number of online cores, at least 1. */
int core_count(void);

/* ---- human output: suppressed by --quiet ---- */
void say(const options *opt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints [a, b, c] like Python's list repr; lists longer than 20 are shortened with "...". */
void print_u64_list(const uint64_t *values, size_t count);
void print_double_list(const double *values, size_t count);

/* ---- the RESULT line ---- */
/*
 * RESULT concept=.. model=.. variant=.. workers=.. n=.. status=PASS|FAIL elapsed_s=.. <extra>
 * extra_fmt gives the concept's own keys, e.g. "checksum=%" PRIu64. Everything printed so far is
 * flushed: if stdout cannot take it (a full disk, a closed pipe), the program exits 3, since a
 * lost RESULT line is a lost result.
 */
void print_result(const program_info *info, const options *opt, bool pass,
                  double elapsed_s, const char *extra_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* RESULT's per_worker= value: counts[0..workers-1] in worker order, as "a,b,c". The text is in
 * a static buffer that the next call overwrites (a program prints one RESULT line). */
const char *per_worker_text(const long long *counts, int workers);

/* ---- exact verification (each prints what differed to stderr and returns false) ---- */

/* i^3 mod 2^64, the value pool_cube's workers compute. */
static inline uint64_t cube_u64(uint64_t i) { return i * i * i; }

/* (n(n-1)/2)^2 mod 2^64: the sum of i^3 for i < n, without overflow in the halving. */
uint64_t cube_checksum_expected(uint64_t n);

/* n(n-1)(2n-1)/6 mod 2^64: the sum of i*i for i < n, what spawn's square_it returns. */
uint64_t square_sum_expected(uint64_t n);

/* out[i] == i^3 for every i < n; *checksum gets the sum mod 2^64, compared with the closed form. */
bool verify_cubes(const uint64_t *out, size_t n, uint64_t *checksum);

/* got == expected, for counters: "expected 200, got 199". */
bool verify_count(const char *what, long long expected, long long got);

/* got == expected for 64-bit unsigned results (cubes wrap mod 2^64). */
bool verify_u64(const char *what, uint64_t expected, uint64_t got);

/* values[i] == 100*i + workers for every i (shared_array); *checksum gets the sum. */
bool verify_array(const double *values, size_t n, int workers, double *checksum);

/*
 * items holds count values taken from a queue that was given 1..n: true when every value
 * in 1..n appears exactly once (no duplicate, none missing, none out of range).
 */
bool verify_exactly_once(const long *items, size_t count, long n);

/* One message of the producers concept: who sent it and what. */
typedef struct {
    int producer;
    long value;
} produced_item;

/* What producer p puts for its i-th value (i = 1..n): even producers square, odd ones negate. */
static inline long producer_value(int producer, long i) { return producer % 2 == 0 ? i * i : -i; }

/*
 * items, in the order the consumer received them: true when every producer's values
 * arrived exactly once and in the order it put them.
 */
bool verify_producers(const produced_item *items, size_t count, int producers, long n);

/* ---- system failures: one line naming the call, exit 3 ---- */
/* A forked child calls this first thing: from then on the die_* calls leave with _exit(3), which
 * neither flushes the stdio buffers it inherited from the parent (their text would print twice)
 * nor runs the parent's atexit handlers. */
void mark_forked_child(void);
_Noreturn void exit_system_error(void); /* exit(3), or _exit(3) in a marked child */
_Noreturn void die_errno(const char *call);               /* uses errno */
_Noreturn void die_code(const char *call, int error_code); /* pthread-style return codes */
_Noreturn void die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* malloc/calloc that exit 3 naming the call and the size when memory runs out. */
void *checked_malloc(size_t count, size_t size);
void *checked_calloc(size_t count, size_t size);

/* pthread-style calls: rc != 0 -> die_code(call, rc). */
#define CHECK_RC(call_expr, name)                    \
    do {                                             \
        int check_rc_ = (call_expr);                 \
        if (check_rc_ != 0) die_code(name, check_rc_); \
    } while (0)

/* ---- shared_array and cancel ---- */

/* 100*n(n-1)/2 + added*n: what shared_array's elements add up to when each of the n elements
 * (element i starts at 100*i) got `added` ones. Exact in a double below 2^53 (max_n keeps it so). */
double array_checksum_expected(size_t n, int added);

/*
 * verify_array (values[i] == 100*i + added), then its sum against array_checksum_expected:
 * *expected and *checksum get both, for the summary line.
 */
bool verify_array_checksum(const double *values, size_t n, int added, double *expected,
                           double *checksum);

/* Steps of work between two looks at the outside world (cancel's workers): a few microseconds. */
enum { WORK_BATCH_STEPS = 4096 };

/* One batch of real CPU work: xorshift64 steps, each depending on the last, so none can be
 * skipped; the caller stores the result, so the compiler must do them. */
static inline uint64_t work_batch(uint64_t state)
{
    for (int step = 0; step < WORK_BATCH_STEPS; step++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
    }
    return state;
}

/* ---- spawn, race: shared by the three versions of each ---- */

/* The notebook's square_it: i*i for i < n, summed mod 2^64 (square_sum_expected is the closed
 * form). volatile makes every square a real store, so the compiler cannot replace the loop by
 * its closed form; the sum lets the caller check that the work ran. */
static inline uint64_t square_it(long n)
{
    uint64_t sum = 0;
    for (long i = 0; i < n; i++) {
        volatile uint64_t square = (uint64_t)i * (uint64_t)i;
        sum += square;
    }
    return sum;
}

/* What a spawn worker leaves behind: the parent counts it as ran only if the sum is right. */
typedef struct {
    uint64_t square_sum;
    int ran;
} worker_report;

/*
 * race's verdict. A demonstration, not a computation: losing updates is the point, so it
 * fails only if updates were invented (got > expected) or none was kept (got < 1); with no
 * increments at all (expected 0) the counter must stay 0.
 */
bool verify_race(long long expected, long long got);

/* ---- producers: the consumer's log, the closed form, the size limit ---- */

/* What a consumer received, in the order it received it. Values beyond capacity are counted,
 * not stored, so a producer that sends too much shows up as count > capacity. */
typedef struct {
    produced_item *items;
    size_t count;
    size_t capacity;
} item_log;

/* The consumer's log, its pages already written (call it before the clock: the consumer's writes
 * then cost no page fault). Shared memory, so a forked producer makes none of them copy-on-write.
 * exit 3 if the memory is not there. */
item_log item_log_new(size_t capacity);
void item_log_add(item_log *log, produced_item item);
uint64_t item_log_checksum(const item_log *log); /* sum of the stored values, mod 2^64 */
void item_log_free(item_log *log);

/* Sum of everything W producers put for i = 1..n, mod 2^64 (the checksum's arithmetic):
 * evens * n(n+1)(2n+1)/6 - odds * n(n+1)/2, evens = (W+1)/2 and odds = W/2. */
uint64_t producers_checksum_expected(int producers, long n);

/* What every producers program does with its log once the producers are done, so the three
 * models report alike: the values one per line (say), count and per-producer order verified,
 * the summary beside the closed form, the RESULT line. opt->workers is the producer count; the
 * one consumer is reported apart (consumers=1), and so are MPI's ranks when ranks > 0 (ranks=,
 * rank 0 consuming beside ranks - 1 producers; 0 in posix and omp). put[p] is how many values
 * producer p says it put (RESULT's per_worker=): each must be n, so a producer that did nothing
 * fails the run even where the transport would hide it. Returns whether it verified. */
bool report_producers(const program_info *info, const options *opt, const item_log *log,
                      double elapsed_s, int ranks, const long long *put);

/* Most values one producers run keeps (16 bytes each): beyond, the run is refused as absurd. */
#define PRODUCERS_MAX_VALUES 200000000L

/* NULL when W producers x n values fit; else why not, one line for a usage error (exit 2). */
const char *producers_refused(int producers, long n);

/* "PROGRAM: message (see --help)" on stderr, exit 2: a usage error found after parsing. */
_Noreturn void usage_exit(const char *message);

#endif /* HARNESS_H */
