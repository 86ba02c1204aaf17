/*
 * omp/pool_cube.c - the notebook's Pool.map(cube, range(n)) and pool.apply(cube, ...), in OpenMP.
 *
 * Python:  result = Pool().map(cube, range(10))   ->  [0, 1, 8, 27, 64, 125, 216, 343, 512, 729]
 *          pool.apply(cube, (x,))                 ->  one call, run by one worker of the pool
 *
 * In OpenMP the pool is the thread team of a parallel region, and map is a worksharing loop:
 * the schedule clause decides how the n iterations are dealt out.
 *   static   schedule(static): equal blocks fixed before the loop starts, no bookkeeping; best
 *            when every iteration costs the same (it does, unless --uneven)
 *   dynamic  schedule(dynamic, CHUNK): chunks handed to whichever thread asks next; balances
 *            uneven work, costs a shared counter per chunk
 *   guided   schedule(guided, CHUNK): dynamic with chunks that shrink as the work runs out
 * apply is `single`: the first thread done with its share of the map runs it (the loop is
 * `nowait`), the others wait at the barrier that ends `single`.
 * elapsed_s is the map on a ready pool, in every model: the team exists before the clock
 * (team_prepare), and a loop with the same schedule clause first writes every element: each
 * page is first touched by the thread that will write it (on a NUMA machine it then lives next
 * to that thread's core), and the clock times the map, not the kernel handing out fresh pages.
 * --uneven: item i costs work that grows with i (common/uneven.h): static's last block costs
 * most, and its thread finishes long after the others; dynamic and guided balance it.
 * See it: ./omp/pool_cube -n 1000000 -w 2 --uneven --variant static --trace t.json, then
 * tools/timeline t.json -o t.png (one "chunk" span per chunk, on the thread that ran it).
 *
 * Run:  ./omp/pool_cube
 *       OMP_NUM_THREADS=4 ./omp/pool_cube -n 100000000 --variant dynamic --quiet
 *       ./omp/pool_cube -n 1000000 -w 2 --uneven --variant dynamic --quiet
 */
#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/harness.h"
#include "../common/omp_team.h"
#include "../common/trace.h"
#include "../common/uneven.h"

/* One run of the pool: the range, where the cubes go, and apply's call. */
typedef struct {
    size_t n;
    int worker_count;
    bool uneven;
    uint64_t apply_arg, apply_result;
    uint64_t *out;
    long long *per_worker; /* cubes each thread computed, by thread number */
} cube_job;

/* Iterations per chunk for dynamic and guided: 64 KiB of output, so the shared
 * chunk counter is touched rarely compared with the stores it hands out. */
enum { CHUNK = 8192 };

/* --trace: the loop hides where a thread's chunks begin and end, so a thread notes a chunk as a
 * run of consecutive i: a new run (an i that does not follow the last) ends the span of the last
 * one. Off, chunk_step returns at its first branch. */
typedef struct {
    long first, next; /* the run's first i and the i that would continue it */
    double began;
} chunk_run;

static inline void chunk_step(chunk_run *run, int worker, size_t i)
{
    if (!TRACE_ON) return;
    if ((long)i == run->next) {
        run->next++;
        return;
    }
    if (run->first >= 0) trace_span(worker, "chunk", run->began, run->first, run->next - 1);
    *run = (chunk_run){(long)i, (long)i + 1, trace_begin()};
}

static void chunk_end(chunk_run *run, int worker)
{
    if (run->first >= 0) trace_span(worker, "chunk", run->began, run->first, run->next - 1);
}

/* apply: one call of cube, on the thread that runs `single`. */
static void apply_once(cube_job *job, int worker)
{
    double began = trace_begin();
    job->apply_result = cube_u64(job->apply_arg);
    trace_span(worker, "apply", began, (long)job->apply_arg, TRACE_NONE);
}

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
    bool uneven = job->uneven;
#pragma omp parallel num_threads(job->worker_count) default(none) shared(out, n, uneven, job)
    {
        int worker = omp_get_thread_num();
        long long computed = 0;
        chunk_run run = {-1, -1, 0.0};
        /* LAB: share the loop's iterations among the team, in equal blocks fixed before the loop starts (each i runs on one thread only; no barrier at its end). Hint: #pragma omp for schedule(static) nowait */
#pragma omp for schedule(static) nowait
        /* LAB END */
        for (size_t i = 0; i < n; i++) {
            chunk_step(&run, worker, i); /* --trace only */
            out[i] = cube_of(i, uneven); /* map: each i written by exactly one thread */
            computed++;
        }
        chunk_end(&run, worker);
        job->per_worker[worker] = computed;
#pragma omp single
        apply_once(job, worker); /* apply: one call on one worker */
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
    bool uneven = job->uneven;
#pragma omp parallel num_threads(job->worker_count) default(none) shared(out, n, uneven, job)
    {
        int worker = omp_get_thread_num();
        long long computed = 0;
        chunk_run run = {-1, -1, 0.0};
        /* LAB: share the loop's iterations among the team, in chunks of CHUNK taken on demand (each i runs on one thread only; no barrier at its end). Hint: #pragma omp for schedule(dynamic, CHUNK) nowait */
#pragma omp for schedule(dynamic, CHUNK) nowait
        /* LAB END */
        for (size_t i = 0; i < n; i++) {
            chunk_step(&run, worker, i); /* --trace only */
            out[i] = cube_of(i, uneven); /* map: each i written by exactly one thread */
            computed++;
        }
        chunk_end(&run, worker);
        job->per_worker[worker] = computed;
#pragma omp single
        apply_once(job, worker); /* apply: one call on one worker */
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
    bool uneven = job->uneven;
#pragma omp parallel num_threads(job->worker_count) default(none) shared(out, n, uneven, job)
    {
        int worker = omp_get_thread_num();
        long long computed = 0;
        chunk_run run = {-1, -1, 0.0};
        /* LAB: share the loop's iterations among the team, in chunks taken on demand that shrink as the loop ends, none below CHUNK (each i runs on one thread only; no barrier at its end). Hint: #pragma omp for schedule(guided, CHUNK) nowait */
#pragma omp for schedule(guided, CHUNK) nowait
        /* LAB END */
        for (size_t i = 0; i < n; i++) {
            chunk_step(&run, worker, i); /* --trace only */
            out[i] = cube_of(i, uneven); /* map: each i written by exactly one thread */
            computed++;
        }
        chunk_end(&run, worker);
        job->per_worker[worker] = computed;
#pragma omp single
        apply_once(job, worker); /* apply: one call on one worker */
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
    .takes_uneven = true,
};

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);

    size_t n = (size_t)opt.n;
    const struct variant *variant = &variants[opt.variant_index];
    cube_job job = {.n = n, .worker_count = opt.workers, .uneven = opt.uneven, .apply_arg = n};
    job.out = checked_malloc(n, sizeof *job.out);
    job.per_worker = checked_calloc((size_t)opt.workers, sizeof *job.per_worker);
    team_prepare(opt.workers); /* a smaller team is exit 3 now, untimed */
    variant->prepare(&job);    /* untimed: every page first written by the thread that will */
    trace_open(&opt, opt.workers);

    double start = omp_get_wtime();
    variant->run(&job);
    double elapsed = omp_get_wtime() - start;

    uint64_t checksum;
    bool pass = verify_cubes(job.out, n, &checksum);
    pass = verify_u64("apply(cube, n)", cube_u64(job.apply_arg), job.apply_result) && pass;
    trace_write(&info, &opt);

    if (!opt.quiet) print_u64_list(job.out, n);
    printf("map of %zu cubes: checksum %" PRIu64 " (expected %" PRIu64 "); apply(cube, %" PRIu64
           ") = %" PRIu64 "\n", n, checksum, cube_checksum_expected(n), job.apply_arg,
           job.apply_result);
    print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64 " per_worker=%s", checksum,
                 per_worker_text(job.per_worker, opt.workers));
    free(job.per_worker);
    free(job.out);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
