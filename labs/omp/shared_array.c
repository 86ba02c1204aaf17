/*
 * labs/omp/shared_array.c - exercise skeleton, generated from omp/shared_array.c by tools/make-labs (make labs).
 * Complete every TODO, then grade your file:
 *     make check-lab EX=omp/shared_array
 * Start again from the skeleton: make lab-reset EX=omp/shared_array
 */
/*
 * omp/shared_array.c - the notebook's Array('d', [0.0, 100.0, 200.0]): every worker adds 1 to
 * every element, safely, with OpenMP threads.
 *
 * Python:  shared_array = Array('d', [0.0, 100.0, 200.0])
 *          def add100(number, lock):
 *              for i in range(len(number)):
 *                  with lock: number[i] += 1
 *          two Processes run add100   ->  array at the end is [2.0, 102.0, 202.0]
 *
 * Threads of a team share the array already; what differs is how each += 1 is made safe:
 *   atomic     `#pragma omp atomic update`: each element's += is indivisible without a lock.
 *              No processor adds to a double in memory in one instruction, so the compiler
 *              makes it a compare-and-swap loop: read, add, swap in the sum only if the element
 *              still holds what was read, else retry. Threads never wait on a lock, but under
 *              contention they retry (--delay-ms can only pause before the step, not inside).
 *   critical   `#pragma omp critical`: the notebook's `with lock:`, one global lock around
 *              the read, the pause and the write
 *   reduction  reduction(+ : values[begin:length]): each thread adds into a private copy and
 *              OpenMP adds the copies into the array when the loop ends; no update is ever
 *              contended. The copies live on each thread's stack, so the array is reduced
 *              block by block (a private copy of 10^7 doubles would overflow the stack).
 * Every thread runs the whole loop (each worker adds 1 to every element): the loops below are
 * not worksharing loops, except the one over workers in the reduction variant.
 * Observe: compare elements per second with -n 10000000 --quiet across the three variants.
 * --trace shows each thread's pass: "add" (atomic), each step's "lock wait" and "lock hold"
 * (critical: the holds take turns), each block's "private add" (reduction: they overlap).
 *
 * Run:  ./omp/shared_array
 *       OMP_NUM_THREADS=4 ./omp/shared_array -n 100000 --variant reduction --quiet
 *       ./omp/shared_array -n 3 -w 3 --variant critical --delay-ms 100
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/harness.h"
#include "../../common/omp_team.h"
#include "../../common/trace.h"

/* The array and what every worker needs to add to it. */
typedef struct {
    double *values; /* the team shares it */
    size_t n;
    int worker_count;
    long delay_ms;
} shared_array;

static void add_with_atomic(shared_array *array)
{
#pragma omp parallel num_threads(array->worker_count) default(none) shared(array)
    {
        double adding = trace_begin();
        for (size_t i = 0; i < array->n; i++) {
            if (array->delay_ms > 0) sleep_ms(array->delay_ms);
            /* TODO: add 1.0 to array->values[i] in one indivisible step. Hint: #pragma omp atomic update */
        }
        trace_span(omp_get_thread_num(), "add", adding, 0, (long)array->n); /* elements 0..n-1 */
    }
}

static void add_with_critical(shared_array *array)
{
#pragma omp parallel num_threads(array->worker_count) default(none) shared(array)
    for (size_t i = 0; i < array->n; i++) {
        double waiting = trace_begin();
        /* TODO: one thread at a time in the block below. Hint: #pragma omp critical(array_lock) */
        {
            double holding = trace_begin();
            trace_span(omp_get_thread_num(), "lock wait", waiting, (long)i, TRACE_NONE);
            double value = array->values[i];
            /* inside the lock: nobody else touches values[i] */
            if (array->delay_ms > 0) sleep_ms(array->delay_ms);
            array->values[i] = value + 1.0;
            trace_span(omp_get_thread_num(), "lock hold", holding, (long)i, (long)value);
        }
    }
}

/* Elements per reduction block: a 256 KiB private copy per thread, well inside a thread's
 * default stack, and few enough blocks that their barriers cost little. */
enum { BLOCK = 32768 };

/* One block of the reduction. A function of its own: each private copy is stack space of the
 * call, given back when it returns (in one long loop the blocks' copies would pile up). */
static void add_block(double *values, size_t begin, size_t length, int workers, long delay_ms)
{
    /* One iteration per worker; each adds 1 to every element of its private copy (which
     * starts at 0), and the copies are added into values[begin..] at the loop's end. The step
     * is read, pause, write, as in critical: safe only because the copy is this thread's. */
#pragma omp for schedule(static, 1) reduction(+ : values[begin:length])
    for (int worker = 0; worker < workers; worker++) {
        double adding = trace_begin();
        for (size_t i = begin; i < begin + length; i++) {
            double value = values[i];
            if (delay_ms > 0) sleep_ms(delay_ms);
            values[i] = value + 1.0;
        }
        trace_span(omp_get_thread_num(), "private add", adding, (long)begin,
                   (long)(begin + length)); /* its copy of elements begin..last-1 */
    }
}

static void add_with_reduction(shared_array *array)
{
#pragma omp parallel num_threads(array->worker_count) default(none) shared(array)
    for (size_t begin = 0; begin < array->n; begin += BLOCK)
        add_block(array->values, begin, array->n - begin < BLOCK ? array->n - begin : BLOCK,
                  array->worker_count, array->delay_ms);
}

/* The variants: name, --help line, the function that runs it. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*run)(shared_array *array);
} variants[] = {
    {{"atomic", "#pragma omp atomic on each element's += 1"}, add_with_atomic},
    {{"critical", "#pragma omp critical around read, pause, write"}, add_with_critical},
    {{"reduction", "reduction(+ : array section) into private copies"}, add_with_reduction},
    {{NULL, NULL}, NULL}};

static const program_info info = {
    .concept = "shared_array",
    .model = "omp",
    .summary = "Array('d', ...): every OpenMP thread adds 1 to every element, made safe three ways.",
    VARIANT_TABLE(variants),
    .n_meaning = "elements; element i starts at 100*i",
    .default_n = 3,
    /* The checksum 100*n(n-1)/2 + workers*n must stay below 2^53 to be exact in a double. */
    .max_n = 10000000,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 0,
};

/* The end of the notebook's run: the array, checked against 100*i + W, the summary beside the
 * closed form, the RESULT line. Returns whether it verified. */
static bool report(const options *opt, const double *values, size_t n, double elapsed)
{
    double expected, checksum;
    bool pass = verify_array_checksum(values, n, opt->workers, &expected, &checksum);
    if (!opt->quiet) {
        printf("array at the end is ");
        print_double_list(values, n);
    }
    printf("%d workers each added 1 to %zu elements: checksum %.1f (expected %.1f)\n",
           opt->workers, n, checksum, expected);
    print_result(&info, opt, pass, elapsed, "expected=%.1f checksum=%.1f", expected, checksum);
    return pass;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    size_t n = (size_t)opt.n;
    /* The notebook's Array: every worker writes every element, so all first touch it here. */
    double *values = checked_malloc(n, sizeof *values);
    for (size_t i = 0; i < n; i++) values[i] = 100.0 * (double)i;
    if (!opt.quiet) {
        printf("array at the beginning is ");
        print_double_list(values, n);
    }
    shared_array array = {
        .values = values, .n = n, .worker_count = opt.workers, .delay_ms = opt.delay_ms};
    team_prepare(opt.workers); /* a smaller team would add fewer ones: exit 3 now, untimed */
    trace_open(&opt, opt.workers);

    double start = omp_get_wtime();
    variants[opt.variant_index].run(&array);
    double elapsed = omp_get_wtime() - start;

    trace_write(&info, &opt);
    bool pass = report(&opt, values, n, elapsed);
    free(values);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
