/*
 * bench/ref/loop.c - the plain single-thread loop every parallel version has to beat.
 *
 * Python:  result = [cube(i) for i in range(n)]      (what Pool.map replaces)
 *
 *   cube       out[i] = i*i*i into a freshly malloc'd array, one thread, no pool: pool_cube
 *              without parallelism. Fresh pages, as in pool_cube, so page faults count alike.
 *   increment  count += 1, n times, one thread, no lock: the counter without sharing. The empty
 *              asm keeps one add per iteration (otherwise the compiler folds the loop into
 *              count = n), so this is the rate of a core doing nothing but increments.
 * A parallel figure divided by this one is its speedup over doing it the simple way.
 *
 * Run:  build/bench/ref/loop -n 10000000 --variant cube --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/harness.h"

static const program_info info = {
    .concept = "loop",
    .model = "ref",
    .summary = "Reference: the plain single-thread loop (cubes into fresh pages, or increments).",
    VARIANT_DOCS(((const variant_doc[]){{"cube", "out[i] = i*i*i into a fresh array, one thread"},
                 {"increment", "count += 1 in a register, one thread, no sharing"},
                 {NULL, NULL}})),
    .n_meaning = "iterations",
    .default_n = 10000000,
    .max_n = 4000000000L,
    .default_workers = 1,
};

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    if (opt.workers != 1) {
        fprintf(stderr, "%s: one thread only: -w must be 1 (see --help)\n", program_name());
        return EXIT_USAGE;
    }
    size_t n = (size_t)opt.n;
    bool pass;
    double elapsed;

    if (opt.variant_index == 0) {
        uint64_t *out = checked_malloc(n + 1, sizeof *out);
        double start = now_seconds();
        for (size_t i = 0; i < n; i++) out[i] = cube_u64(i);
        elapsed = now_seconds() - start;
        uint64_t checksum;
        pass = verify_cubes(out, n, &checksum);
        printf("loop cube: %zu cubes in %.6f s; checksum %" PRIu64 " (expected %" PRIu64 ")\n", n,
               elapsed, checksum, cube_checksum_expected(n));
        print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64, checksum);
        free(out);
    } else {
        long count = 0;
        double start = now_seconds();
        for (size_t i = 0; i < n; i++) {
            count += 1;
            __asm__ volatile("" : "+r"(count)); /* one real add per iteration */
        }
        elapsed = now_seconds() - start;
        pass = verify_count("increments", (long long)n, count);
        printf("loop increment: %ld increments in %.6f s (expected %zu)\n", count, elapsed, n);
        print_result(&info, &opt, pass, elapsed, "expected=%zu got=%ld", n, count);
    }
    return pass ? EXIT_PASS : EXIT_FAIL;
}
