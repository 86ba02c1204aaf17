/*
 * omp/pool_cube.c - the notebook's Pool.map(cube, range(n)) and pool.apply(cube, ...), in OpenMP.
 *
 * Python:  result = Pool().map(cube, range(10))   ->  [0, 1, 8, 27, 64, 125, 216, 343, 512, 729]
 *          pool.apply(cube, (x,))                 ->  one call, run by one worker of the pool
 *
 * In OpenMP the pool is the thread team of a parallel region, and map is a worksharing loop:
 * the schedule decides how the n iterations are dealt out.
 *   static   equal blocks fixed before the loop starts: no bookkeeping, best when every
 *            iteration costs the same (it does here)
 *   dynamic  chunks handed to whichever thread asks next: balances uneven work, costs a
 *            shared counter per chunk
 *   guided   dynamic with chunks that shrink as the work runs out
 * apply is `single`: one thread of the team runs it, the others wait at its barrier.
 *
 * Run:  ./omp/pool_cube
 *       OMP_NUM_THREADS=4 ./omp/pool_cube -n 100000000 --variant dynamic --quiet
 */
#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/omp_team.h"

static const struct variant {
    variant_doc doc;
} variants[] = {
    {{"static", "schedule(static): equal blocks, fixed up front"}},
    {{"dynamic", "schedule(dynamic, chunk): chunks taken on demand"}},
    {{"guided", "schedule(guided, chunk): shrinking chunks taken on demand"}},
    {{NULL, NULL}}};

static const program_info info = {
    .concept = "pool_cube",
    .model = "omp",
    .summary = "Pool.map(cube, range(n)) as an OpenMP parallel loop, and apply as one single-thread call.",
    VARIANT_TABLE(variants),
    .n_meaning = "range length: map computes cube(i) for i in 0..n-1",
    .default_n = 10,
    .max_n = 10000000000L, /* 80 GB of cubes: more is refused, less may fail malloc (exit 3) */
    .default_workers = 0, /* Pool() starts one worker per core */
};

/* Iterations per chunk for dynamic and guided: 64 KiB of output, so the shared
 * chunk counter is touched rarely compared with the stores it hands out. */
enum { CHUNK = 8192 };

enum { VARIANT_STATIC, VARIANT_DYNAMIC, VARIANT_GUIDED };
static const omp_sched_t schedules[] = {omp_sched_static, omp_sched_dynamic, omp_sched_guided};

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    size_t n = (size_t)opt.n;
    uint64_t *out = checked_malloc(n, sizeof *out);
    uint64_t apply_arg = n, apply_result = 0;

    /* schedule(runtime) reads the schedule set here, so one loop serves all three variants. */
    omp_set_schedule(schedules[opt.variant_index], opt.variant_index == VARIANT_STATIC ? 0 : CHUNK);
    int team_size = 0;
    team_exact();

    double start = omp_get_wtime();
#pragma omp parallel num_threads(opt.workers) default(none) \
    shared(out, n, apply_arg, apply_result, team_size)
    {
#pragma omp single nowait
        team_size = omp_get_num_threads();

#pragma omp for schedule(runtime)
        for (size_t i = 0; i < n; i++)
            out[i] = cube_u64(i); /* map: each i written by exactly one thread */

#pragma omp single
        apply_result = cube_u64(apply_arg); /* apply: one call on one worker */
    }
    double elapsed = omp_get_wtime() - start;
    team_check(opt.workers, team_size);

    uint64_t checksum;
    bool pass = verify_cubes(out, n, &checksum);
    pass = verify_u64("apply(cube, n)", cube_u64(apply_arg), apply_result) && pass;

    if (!opt.quiet) print_u64_list(out, n);
    printf("map of %zu cubes: checksum %" PRIu64 " (expected %" PRIu64 "); apply(cube, %" PRIu64
           ") = %" PRIu64 "\n", n, checksum, cube_checksum_expected(n), apply_arg, apply_result);
    print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64, checksum);
    free(out);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
