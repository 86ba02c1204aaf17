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
 *   atomic     `#pragma omp atomic`: each element's += is one indivisible hardware update,
 *              no lock at all (so --delay-ms can only pause before it, not inside)
 *   critical   `#pragma omp critical`: the notebook's `with lock:`, one global lock around
 *              the read, the pause and the write
 *   reduction  reduction(+ : values[begin:length]): each thread adds into a private copy and
 *              OpenMP adds the copies into the array when the loop ends; no update is ever
 *              contended. The copies live on each thread's stack, so the array is reduced
 *              block by block (a private copy of 10^7 doubles would overflow the stack).
 * Every thread runs the whole loop (each worker adds 1 to every element): the loops below are
 * not worksharing loops, except the one over workers in the reduction variant.
 *
 * Run:  ./omp/shared_array
 *       OMP_NUM_THREADS=4 ./omp/shared_array -n 100000 --variant reduction --quiet
 *       ./omp/shared_array -n 3 -w 3 --variant critical --delay-ms 100
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/omp_team.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"atomic", "#pragma omp atomic on each element's += 1"}},
    {{"critical", "#pragma omp critical around read, pause, write"}},
    {{"reduction", "reduction(+ : array section) into private copies"}},
    {{NULL, NULL}}};

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

enum { VARIANT_ATOMIC, VARIANT_CRITICAL, VARIANT_REDUCTION };

/* Elements per reduction block: a 256 KiB private copy per thread, well inside a thread's
 * default stack, and few enough blocks that their barriers cost little. */
enum { BLOCK = 32768 };

/* Each add_with_* runs one team and records in *team_size how many threads OpenMP gave it. */
static void add_with_atomic(double *values, size_t n, int workers, long delay_ms, int *team_size)
{
#pragma omp parallel num_threads(workers) default(none) shared(values, n, delay_ms, team_size)
    {
#pragma omp single nowait
        *team_size = omp_get_num_threads();
        for (size_t i = 0; i < n; i++) {
            if (delay_ms > 0) sleep_ms(delay_ms);
#pragma omp atomic update
            values[i] += 1.0;
        }
    }
}

static void add_with_critical(double *values, size_t n, int workers, long delay_ms, int *team_size)
{
#pragma omp parallel num_threads(workers) default(none) shared(values, n, delay_ms, team_size)
    {
#pragma omp single nowait
        *team_size = omp_get_num_threads();
        for (size_t i = 0; i < n; i++) {
#pragma omp critical(array_lock)
            {
                double value = values[i];
                /* inside the lock: nobody else touches values[i] */
                if (delay_ms > 0) sleep_ms(delay_ms);
                values[i] = value + 1.0;
            }
        }
    }
}

/* One block of the reduction. A function of its own: each private copy is stack space of the
 * call, given back when it returns (in one long loop the blocks' copies would pile up). */
static void add_block(double *values, size_t begin, size_t length, int workers, long delay_ms)
{
    /* One iteration per worker; each adds 1 to every element of its private copy (which
     * starts at 0), and the copies are added into values[begin..] at the loop's end. */
#pragma omp for schedule(static, 1) reduction(+ : values[begin:length])
    for (int worker = 0; worker < workers; worker++)
        for (size_t i = begin; i < begin + length; i++) {
            if (delay_ms > 0) sleep_ms(delay_ms);
            values[i] += 1.0;
        }
}

static void add_with_reduction(double *values, size_t n, int workers, long delay_ms, int *team_size)
{
#pragma omp parallel num_threads(workers) default(none) \
    shared(values, n, workers, delay_ms, team_size)
    {
#pragma omp single nowait
        *team_size = omp_get_num_threads();
        for (size_t begin = 0; begin < n; begin += BLOCK)
            add_block(values, begin, n - begin < BLOCK ? n - begin : BLOCK, workers, delay_ms);
    }
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    size_t n = (size_t)opt.n;
    double *values = checked_malloc(n, sizeof *values);
    for (size_t i = 0; i < n; i++) values[i] = 100.0 * (double)i;

    if (!opt.quiet) {
        printf("array at the beginning is ");
        print_double_list(values, n);
    }

    int team_size = 0;
    team_exact();
    double start = omp_get_wtime();
    if (opt.variant_index == VARIANT_ATOMIC)
        add_with_atomic(values, n, opt.workers, opt.delay_ms, &team_size);
    else if (opt.variant_index == VARIANT_CRITICAL)
        add_with_critical(values, n, opt.workers, opt.delay_ms, &team_size);
    else
        add_with_reduction(values, n, opt.workers, opt.delay_ms, &team_size);
    double elapsed = omp_get_wtime() - start;
    team_check(opt.workers, team_size); /* fewer threads would add fewer ones: not a FAIL */

    double expected, checksum;
    bool pass = verify_array_checksum(values, n, opt.workers, &expected, &checksum);

    if (!opt.quiet) {
        printf("array at the end is ");
        print_double_list(values, n);
    }
    printf("%d workers each added 1 to %zu elements: checksum %.1f (expected %.1f)\n", opt.workers,
           n, checksum, expected);
    print_result(&info, &opt, pass, elapsed, "expected=%.1f checksum=%.1f", expected, checksum);
    free(values);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
