/*
 * omp/pool_cube.c - the notebook's Pool.map(cube, range(n)) and pool.apply(cube, ...), in OpenMP.
 *
 * Python:  result = Pool().map(cube, range(10))   ->  [0, 1, 8, 27, 64, 125, 216, 343, 512, 729]
 *          pool.apply(cube, (x,))                 ->  one call, run by one worker of the pool
 *
 * In OpenMP the pool is the thread team of a parallel region, and map is a worksharing loop:
 * the schedule clause decides how the n iterations are dealt out.
 *   static   schedule(static): equal blocks fixed before the loop starts, no bookkeeping; best
 *            when every iteration costs the same (it does here)
 *   dynamic  schedule(dynamic, CHUNK): chunks handed to whichever thread asks next; balances
 *            uneven work, costs a shared counter per chunk
 *   guided   schedule(guided, CHUNK): dynamic with chunks that shrink as the work runs out
 * apply is `single`: one thread of the team runs it, the others wait at its barrier.
 * Before the clock, a loop with the same schedule clause writes every element once: each page
 * is first touched by the thread that will write it (on a NUMA machine it then lives next to that
 * thread's core), and the clock times the map, not the kernel handing out fresh pages.
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

/* One run of the pool: the range, where the cubes go, and apply's call. */
typedef struct {
    size_t n;
    int worker_count;
    uint64_t apply_arg, apply_result;
    uint64_t *out;
} cube_job;

/* Iterations per chunk for dynamic and guided: 64 KiB of output, so the shared
 * chunk counter is touched rarely compared with the stores it hands out. */
enum { CHUNK = 8192 };

/* ---- static: equal blocks, fixed up front ---- */
static void touch_static(cube_job *job)
{
    uint64_t *out = job->out; /* locals: a store to out[i] cannot change them */
    size_t n = job->n;
#pragma omp parallel for num_threads(job->worker_count) default(none) shared(out, n) \
    schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = 0; /* first touch: the page goes to this thread */
}

static void map_static(cube_job *job)
{
    uint64_t *out = job->out;
    size_t n = job->n;
#pragma omp parallel num_threads(job->worker_count) default(none) shared(out, n, job)
    {
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i++)
            out[i] = cube_u64(i); /* map: each i written by exactly one thread */
#pragma omp single
        job->apply_result = cube_u64(job->apply_arg); /* apply: one call on one worker */
    }
}

/* ---- dynamic: chunks of CHUNK taken on demand ---- */
static void touch_dynamic(cube_job *job)
{
    uint64_t *out = job->out;
    size_t n = job->n;
#pragma omp parallel for num_threads(job->worker_count) default(none) shared(out, n) \
    schedule(dynamic, CHUNK)
    for (size_t i = 0; i < n; i++) out[i] = 0;
}

static void map_dynamic(cube_job *job)
{
    uint64_t *out = job->out;
    size_t n = job->n;
#pragma omp parallel num_threads(job->worker_count) default(none) shared(out, n, job)
    {
#pragma omp for schedule(dynamic, CHUNK)
        for (size_t i = 0; i < n; i++) out[i] = cube_u64(i);
#pragma omp single
        job->apply_result = cube_u64(job->apply_arg);
    }
}

/* ---- guided: on demand, chunks shrinking towards CHUNK ---- */
static void touch_guided(cube_job *job)
{
    uint64_t *out = job->out;
    size_t n = job->n;
#pragma omp parallel for num_threads(job->worker_count) default(none) shared(out, n) \
    schedule(guided, CHUNK)
    for (size_t i = 0; i < n; i++) out[i] = 0;
}

static void map_guided(cube_job *job)
{
    uint64_t *out = job->out;
    size_t n = job->n;
#pragma omp parallel num_threads(job->worker_count) default(none) shared(out, n, job)
    {
#pragma omp for schedule(guided, CHUNK)
        for (size_t i = 0; i < n; i++) out[i] = cube_u64(i);
#pragma omp single
        job->apply_result = cube_u64(job->apply_arg);
    }
}

/* The variants: name, --help line, the first touch, the map. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*prepare)(cube_job *job);
    void (*run)(cube_job *job);
} variants[] = {
    {{"static", "schedule(static): equal blocks, fixed up front"}, touch_static, map_static},
    {{"dynamic", "schedule(dynamic, CHUNK): chunks taken on demand"}, touch_dynamic, map_dynamic},
    {{"guided", "schedule(guided, CHUNK): shrinking chunks taken on demand"}, touch_guided,
     map_guided},
    {{NULL, NULL}, NULL, NULL}};

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

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    size_t n = (size_t)opt.n;
    const struct variant *variant = &variants[opt.variant_index];
    cube_job job = {.n = n, .worker_count = opt.workers, .apply_arg = n};
    job.out = checked_malloc(n, sizeof *job.out);
    team_prepare(opt.workers); /* a smaller team is exit 3 now, untimed */
    variant->prepare(&job);    /* untimed: every page first written by the thread that will */

    double start = omp_get_wtime();
    variant->run(&job);
    double elapsed = omp_get_wtime() - start;

    uint64_t checksum;
    bool pass = verify_cubes(job.out, n, &checksum);
    pass = verify_u64("apply(cube, n)", cube_u64(job.apply_arg), job.apply_result) && pass;

    if (!opt.quiet) print_u64_list(job.out, n);
    printf("map of %zu cubes: checksum %" PRIu64 " (expected %" PRIu64 "); apply(cube, %" PRIu64
           ") = %" PRIu64 "\n", n, checksum, cube_checksum_expected(n), job.apply_arg,
           job.apply_result);
    print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64, checksum);
    free(job.out);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
