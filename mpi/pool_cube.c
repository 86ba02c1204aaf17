/*
 * mpi/pool_cube.c - the notebook's Pool.map(cube, range(n)) and pool.apply(cube, ...), with MPI ranks.
 *
 * Python:  result = Pool().map(cube, range(10))   ->  [0, 1, 8, 27, 64, 125, 216, 343, 512, 729]
 *          pool.apply(cube, (x,))                 ->  one call, run by one worker of the pool
 *
 * Ranks share no memory: the numbers go to the workers in messages and the cubes come back the
 * same way, which is what Pool.map does behind the scenes with pickles and pipes.
 *   scatter  MPI_Scatterv deals rank r a block of n/P numbers (the first n%P ranks one more,
 *            so any n works, even n < P), every rank cubes its block, MPI_Gatherv collects.
 *            Rank 0 works too, in place in the result array: workers = ranks.
 *   dynamic  manager/worker: rank 0 hands out chunks to whichever worker asks next
 *            (MPI_ANY_SOURCE) and receives the cubes straight into place; a STOP message ends
 *            each worker. Balances uneven work. Rank 0 only manages, so the RESULT line says
 *            workers=P-1 ranks=P (with -np 1 rank 0 works alone: workers=1 ranks=1).
 *   hybrid   scatter's blocks, each cubed by an OpenMP thread team inside its rank: ranks
 *            across machines, threads across the cores of one. Threads per rank come from
 *            OMP_NUM_THREADS (under Slurm: --cpus-per-task); only the main thread calls MPI,
 *            which is what MPI_THREAD_FUNNELED promises the library. Each rank prints the
 *            cores its threads ran on: Open MPI binds a rank to one core when -np is small,
 *            and then all its threads share that core. Give each rank OMP_NUM_THREADS cores.
 * apply: rank 0 sends one number to the last rank and receives its cube.
 * elapsed_s is the map on a ready pool, in every model: the ranks exist and meet at a barrier
 * before the clock, rank 0's array is filled, every rank's receive buffer written once (in
 * hybrid by its threads, with the kernel's schedule) and, for scatter and hybrid, the blocks
 * sent out and back once: the clock times messages and cubes, not the kernel handing out fresh
 * pages or the MPI library setting up its copy path.
 * --uneven: item i costs work that grows with i (common/uneven.h): scatter's last rank gets the
 * dearest block and the others wait for it at MPI_Gatherv; dynamic's chunks balance it.
 * --trace: "MPI_Scatterv", "chunk" (the elements a rank or thread cubed) and "MPI_Gatherv" spans;
 * dynamic draws each request (worker to rank 0) and each chunk handed out (rank 0 to worker) as
 * an arrow; hybrid has one track per thread of each rank.
 * A run that outlasts a bound scaled to n (a worker that stops asking) is exit 3 naming what is
 * unfinished.
 *
 * Run:  mpirun -np 4 ./mpi/pool_cube
 *       mpirun -np 2 ./mpi/pool_cube -n 100000000 --variant dynamic --quiet
 *       OMP_NUM_THREADS=2 mpirun -np 2 --map-by slot:PE=2 -x OMP_NUM_THREADS ./mpi/pool_cube --variant hybrid
 *       OMP_NUM_THREADS=2 mpirun -np 2 --bind-to none -x OMP_NUM_THREADS ./mpi/pool_cube --variant hybrid
 * (PE=2: two cores per rank, so -np 2 needs 4 cores; --bind-to none lets the threads go anywhere.
 * As root or with more ranks than cores, see the README: "MPI on a small machine")
 */
#define _GNU_SOURCE /* sched_getcpu and sched_getaffinity: where the hybrid threads run (Linux) */
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../common/mpi_harness.h"
#include "../common/uneven.h"

static int world_rank, world_size;

/* One run of the pool: the range, where the cubes go, and apply's call; what each rank holds. */
typedef struct {
    int n;
    int worker_count;
    bool uneven;
    uint64_t apply_arg, apply_result;
    long long computed;   /* cubes this rank computed (hybrid: all its threads) */
    uint64_t *out;        /* rank 0 only: the range 0..n-1, then the cubes */
    int *counts, *displs; /* scatter, hybrid: rank r gets counts[r] numbers from out[displs[r]] on */
    uint64_t *block;      /* this rank's numbers (rank 0's stay in place in out); dynamic: a chunk */
    int chunk;            /* dynamic: numbers per chunk */
    int handed_out;       /* dynamic, rank 0: numbers handed out so far (the watchdog's message) */
    int active_workers;   /* dynamic, rank 0: workers not yet stopped */
    int team_size;        /* hybrid: the OpenMP threads that cube this rank's block */
    char cores[512];      /* hybrid: "rank 1 on HOST: thread 0 on core 1 (may run on 0-1), ..." */
} cube_job;

enum { TAG_READY = 1, TAG_WORK, TAG_RESULT, TAG_STOP, TAG_APPLY };

/* Largest chunk of the dynamic variant: 8 MiB of cubes per message. */
enum { MAX_CHUNK = 1 << 20 };

/* The rank's numbers values[0..count), which are first..first+count-1, cubed in place. */
static void cube_block(cube_job *job, uint64_t *values, int count, int first)
{
    double began = trace_begin();
    for (int k = 0; k < count; k++) values[k] = cube_of(values[k], job->uneven);
    job->computed += count;
    if (count > 0) trace_span(0, "chunk", began, first, first + count - 1);
}

/* hybrid: the rank's block shared out over its OpenMP threads (built without OpenMP, the rank
 * works alone); --trace: one "chunk" span per thread, on the thread's own track. */
static void cube_block_threaded(cube_job *job, uint64_t *values, int count, int first)
{
    bool uneven = job->uneven;
#pragma omp parallel default(none) shared(values, count, first, uneven)
    {
        int thread = 0, my_first = 0, mine = 0; /* this thread's block: my_first, mine of them */
#ifdef _OPENMP
        thread = omp_get_thread_num();
#endif
        double began = trace_begin();
#pragma omp for schedule(static) nowait
        for (int k = 0; k < count; k++) {
            if (mine++ == 0) my_first = k;
            values[k] = cube_of(values[k], uneven);
        }
        if (mine > 0) trace_span(thread, "chunk", began, first + my_first, first + my_first + mine - 1);
    }
    job->computed += count;
}

/* apply: one call of cube, run by the last rank (a worker, unless rank 0 is alone). */
static uint64_t apply_on_worker(uint64_t number)
{
    int worker = world_size - 1;
    uint64_t result = 0;
    double began = trace_begin();
    if (worker == ROOT_RANK) {
        result = cube_u64(number);
        trace_span(0, "apply", began, (long)number, TRACE_NONE);
        return result;
    }
    if (world_rank == ROOT_RANK) {
        MPI_CHECK(MPI_Send(&number, 1, MPI_UINT64_T, worker, TAG_APPLY, MPI_COMM_WORLD), "MPI_Send");
        MPI_CHECK(MPI_Recv(&result, 1, MPI_UINT64_T, worker, TAG_APPLY, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE), "MPI_Recv");
    } else if (world_rank == worker) {
        MPI_CHECK(MPI_Recv(&number, 1, MPI_UINT64_T, ROOT_RANK, TAG_APPLY, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE), "MPI_Recv");
        result = cube_u64(number);
        trace_span(0, "apply", began, (long)number, TRACE_NONE);
        MPI_CHECK(MPI_Send(&result, 1, MPI_UINT64_T, ROOT_RANK, TAG_APPLY, MPI_COMM_WORLD), "MPI_Send");
    }
    return result;
}

/* ---- scatter: one block per rank, sizes differing by at most one ---- */

/* Who gets what, and where this rank receives its block (written before the clock: the plans). */
static void share_out(cube_job *job)
{
    job->counts = checked_malloc((size_t)world_size, sizeof(int));
    job->displs = checked_malloc((size_t)world_size, sizeof(int));
    for (int r = 0, begin = 0; r < world_size; r++) {
        /* LAB: rank r's share, so that the counts add up to n for every n and rank count. Hint: the first n % world_size ranks take one more */
        job->counts[r] = job->n / world_size + (r < job->n % world_size ? 1 : 0);
        /* LAB END, skeleton: job->counts[r] = job->n / world_size; */
        job->displs[r] = begin;
        begin += job->counts[r];
    }
    job->block = job->out; /* rank 0's own numbers stay in place */
    if (world_rank != ROOT_RANK)
        job->block = checked_malloc((size_t)job->counts[world_rank], sizeof *job->block);
}

static void scatter_cube_gather(cube_job *job,
                                void (*cube)(cube_job *job, uint64_t *values, int count, int first))
{
    int my_count = job->counts[world_rank];
    double began = trace_begin();

    /* Rank 0's own block stays where it is (MPI_IN_PLACE): no copy of it, no second array. */
    if (world_rank == ROOT_RANK)
        MPI_CHECK(MPI_Scatterv(job->out, job->counts, job->displs, MPI_UINT64_T, MPI_IN_PLACE,
                               my_count, MPI_UINT64_T, ROOT_RANK, MPI_COMM_WORLD), "MPI_Scatterv");
    else
        MPI_CHECK(MPI_Scatterv(NULL, NULL, NULL, MPI_UINT64_T, job->block, my_count, MPI_UINT64_T,
                               ROOT_RANK, MPI_COMM_WORLD), "MPI_Scatterv");
    trace_span(0, "MPI_Scatterv", began, my_count, TRACE_NONE);

    cube(job, job->block, my_count, job->displs[world_rank]); /* hybrid: MPI stays outside the thread team */

    began = trace_begin();

    if (world_rank == ROOT_RANK)
        MPI_CHECK(MPI_Gatherv(MPI_IN_PLACE, my_count, MPI_UINT64_T, job->out, job->counts,
                              job->displs, MPI_UINT64_T, ROOT_RANK, MPI_COMM_WORLD), "MPI_Gatherv");
    else
        MPI_CHECK(MPI_Gatherv(job->block, my_count, MPI_UINT64_T, NULL, NULL, NULL, MPI_UINT64_T,
                              ROOT_RANK, MPI_COMM_WORLD), "MPI_Gatherv");
    trace_span(0, "MPI_Gatherv", began, my_count, TRACE_NONE);
}

static void leave_as_is(cube_job *job, uint64_t *values, int count, int first)
{
    (void)job, (void)values, (void)count, (void)first;
}

/* The last untimed step of both plans. Open MPI copies a large message between ranks with one
 * kernel call, and a page's first such transfer costs much more than later ones, so the blocks
 * go out and back once before the clock (bench/ref/mpi_scatter.c, the ceiling, does the same),
 * as a pool starts its workers before its clock. Rank 0's numbers come back unchanged. */
static void warm_up_messages(cube_job *job)
{
    scatter_cube_gather(job, leave_as_is);
}

/* Who gets what; this rank's receive buffer first written by this rank. */
static void plan_scatter(cube_job *job)
{
    share_out(job);
    for (int k = 0; k < job->counts[world_rank]; k++)
        job->block[k] = (uint64_t)(job->displs[world_rank] + k); /* rank 0: its own numbers again */
    warm_up_messages(job);
}

static void map_scatter(cube_job *job)
{
    scatter_cube_gather(job, cube_block);
    job->apply_result = apply_on_worker(job->apply_arg);
}

/* ---- hybrid: scatter, and each block cubed by the rank's threads ---- */

/* The cores this thread may run on, as "0-1" or "3": its affinity mask, once binding is done. */
static void allowed_cores(char *text, size_t size)
{
    snprintf(text, size, "?");
#ifdef __linux__
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) return;
    size_t used = 0;
    text[0] = '\0';
    for (int cpu = 0; cpu < CPU_SETSIZE && used < size; cpu++) {
        if (!CPU_ISSET(cpu, &mask) || (cpu > 0 && CPU_ISSET(cpu - 1, &mask))) continue;
        int last = cpu;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &mask)) last++;
        used += (size_t)snprintf(text + used, size - used, last > cpu ? "%s%d-%d" : "%s%d",
                                 used ? "," : "", cpu, last);
    }
#endif
}

/* Threads per rank whose cores are shown; more are counted, not listed. */
enum { SHOWN_THREADS = 8 };

/* scatter's plan, then the receive buffer first written by the threads that will cube it, with
 * the kernel's schedule(static); each thread notes where it runs, for the student to see. */
static void plan_hybrid(cube_job *job)
{
    share_out(job);
    uint64_t *block = job->block;
    int my_count = job->counts[world_rank], first = job->displs[world_rank], team_size = 1;
    int core_of[SHOWN_THREADS];
    char allowed_of[SHOWN_THREADS][32];
#pragma omp parallel default(none) shared(block, my_count, first, team_size, core_of, allowed_of)
    {
#pragma omp for schedule(static)
        for (int k = 0; k < my_count; k++)
            block[k] = (uint64_t)(first + k); /* rank 0: its own numbers, written again */
        int thread = 0;
#ifdef _OPENMP
        thread = omp_get_thread_num();
#pragma omp single
        team_size = omp_get_num_threads();
#endif
        if (thread < SHOWN_THREADS) {
            core_of[thread] = -1;
#ifdef __linux__
            core_of[thread] = sched_getcpu();
#endif
            allowed_cores(allowed_of[thread], sizeof allowed_of[thread]);
        }
    }
    job->team_size = team_size;

    char processor[MPI_MAX_PROCESSOR_NAME];
    int name_length;
    MPI_CHECK(MPI_Get_processor_name(processor, &name_length), "MPI_Get_processor_name");
    size_t used = (size_t)snprintf(job->cores, sizeof job->cores, "rank %d on %s:", world_rank,
                                   processor);
    for (int t = 0; t < team_size && t < SHOWN_THREADS && used < sizeof job->cores; t++)
        used += (size_t)snprintf(job->cores + used, sizeof job->cores - used,
                                 " thread %d on core %d (may run on %s)%s", t, core_of[t],
                                 allowed_of[t], t + 1 < team_size ? "," : "");
    warm_up_messages(job);
}

static void map_hybrid(cube_job *job)
{
    scatter_cube_gather(job, cube_block_threaded);
    job->apply_result = apply_on_worker(job->apply_arg);
}

/* ---- dynamic: rank 0 manages, the other ranks ask for chunks until told to stop ---- */

/* Pool.map's own rule: about four chunks per worker, capped to bound message size; each worker's
 * chunk buffer written once before the clock. */
static void plan_chunks(cube_job *job)
{
    long chunk = ((long)job->n + 4L * job->worker_count - 1) / (4L * job->worker_count);
    job->chunk = chunk < 1 ? 1 : (chunk > MAX_CHUNK ? MAX_CHUNK : (int)chunk);
    if (world_rank != ROOT_RANK) {
        job->block = checked_malloc((size_t)job->chunk, sizeof *job->block);
        for (int k = 0; k < job->chunk; k++) job->block[k] = 0; /* first touch, by this rank */
    }
}

/* --trace: arrows "request" (a worker's READY or its cubes, each asking for more) and "hand out"
 * (a chunk's {begin, count}); ids name the sender and its message's number, which both ends know:
 * a worker counts what it sent, rank 0 what it received from each worker, and a chunk's number
 * is its begin / chunk. */
static void manage_chunks(cube_job *job)
{
    int *chunk_begin = checked_calloc((size_t)world_size, sizeof *chunk_begin); /* per worker */
    long *received = checked_calloc((size_t)world_size, sizeof *received);    /* --trace */
    int next = 0, n = job->n;
    job->active_workers = world_size - 1;
    while (job->active_workers > 0) {
        MPI_Status status;
        int count;
        MPI_CHECK(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &status), "MPI_Probe");
        MPI_CHECK(MPI_Get_count(&status, MPI_UINT64_T, &count), "MPI_Get_count");
        int worker = status.MPI_SOURCE;
        /* A result lands straight in its place; a first READY carries nothing. */
        MPI_CHECK(MPI_Recv(job->out + chunk_begin[worker], count, MPI_UINT64_T, worker,
                           status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
        trace_flow_in(TRACE_MAIN, "request", trace_message_id(worker, received[worker]++));
        if (next < n) {
            int work[2] = {next, n - next < job->chunk ? n - next : job->chunk}; /* begin, count */
            chunk_begin[worker] = next;
            next += work[1];
            job->handed_out = next;
            trace_flow_out(TRACE_MAIN, "hand out", trace_message_id(ROOT_RANK, work[0] / job->chunk));
            MPI_CHECK(MPI_Send(work, 2, MPI_INT, worker, TAG_WORK, MPI_COMM_WORLD), "MPI_Send");
        } else {
            MPI_CHECK(MPI_Send(NULL, 0, MPI_INT, worker, TAG_STOP, MPI_COMM_WORLD), "MPI_Send");
            job->active_workers--;
        }
    }
    free(received);
    free(chunk_begin);
}

static void work_on_chunks(cube_job *job)
{
    uint64_t *values = job->block;
    long sent = 0; /* --trace */
    trace_flow_out(0, "request", trace_message_id(world_rank, sent++));
    MPI_CHECK(MPI_Send(NULL, 0, MPI_UINT64_T, ROOT_RANK, TAG_READY, MPI_COMM_WORLD), "MPI_Send");
    for (;;) {
        int work[2];
        MPI_Status status;
        MPI_CHECK(MPI_Recv(work, 2, MPI_INT, ROOT_RANK, MPI_ANY_TAG, MPI_COMM_WORLD, &status),
                  "MPI_Recv");
        if (status.MPI_TAG == TAG_STOP) break;
        trace_flow_in(0, "hand out", trace_message_id(ROOT_RANK, work[0] / job->chunk));
        double began = trace_begin();
        for (int k = 0; k < work[1]; k++) values[k] = cube_of((uint64_t)(work[0] + k), job->uneven);
        job->computed += work[1];
        trace_span(0, "chunk", began, work[0], work[0] + work[1] - 1);
        trace_flow_out(0, "request", trace_message_id(world_rank, sent++));
        MPI_CHECK(MPI_Send(values, work[1], MPI_UINT64_T, ROOT_RANK, TAG_RESULT, MPI_COMM_WORLD),
                  "MPI_Send");
    }
}

static void map_dynamic(cube_job *job)
{
    if (world_size == 1)
        cube_block(job, job->out, job->n, 0); /* nobody to hand chunks to */
    else if (world_rank == ROOT_RANK)
        manage_chunks(job);
    else
        work_on_chunks(job);
    job->apply_result = apply_on_worker(job->apply_arg);
}

/* ---- the watchdog: no rank waits for ever ----
 * A worker that stops asking leaves rank 0 in MPI_Probe for ever; a rank that skips a
 * collective leaves the others in it. The harness's watchdog bounds the run on every rank
 * instead, rank 0 first, by a limit that grows with the work (common/uneven.h). */
static void describe_map(const void *state, char *text, size_t size)
{
    const cube_job *job = state;
    if (world_rank == ROOT_RANK && job->active_workers > 0) /* dynamic's manager */
        snprintf(text, size, "map: %d of %d numbers handed out, %d of %d workers not stopped",
                 job->handed_out, job->n, job->active_workers, job->worker_count);
    else
        snprintf(text, size, "rank %d: map: %lld cubes computed, the run unfinished", world_rank,
                 job->computed);
}

/* The variants: name, --help line, the untimed preparation, the map. The first is the default. */
static const struct variant {
    variant_doc doc;
    void (*prepare)(cube_job *job);
    void (*run)(cube_job *job);
} variants[] = {
    {{"scatter", "MPI_Scatterv blocks, every rank cubes, MPI_Gatherv"}, plan_scatter, map_scatter},
    {{"dynamic", "rank 0 hands out chunks on request (Send/Recv), STOP ends"}, plan_chunks,
     map_dynamic},
    {{"hybrid", "scatter, and each rank cubes its block with OpenMP threads"}, plan_hybrid,
     map_hybrid},
    {{NULL, NULL}, NULL, NULL}};

static const program_info info = {
    .concept = "pool_cube",
    .model = "mpi",
    .summary = "Pool.map(cube, range(n)) over MPI ranks, and apply as one call sent to a worker rank.",
    VARIANT_TABLE(variants),
    .n_meaning = "range length: map computes cube(i) for i in 0..n-1",
    .default_n = 10,
    .max_n = INT_MAX, /* MPI counts and displacements are int */
    .takes_uneven = true,
};

int main(int argc, char **argv)
{
    options opt;
    /* FUNNELED for the hybrid variant's threads (MPI is called by the main thread only). */
    mpi_start(&info, &argc, &argv, MPI_THREAD_FUNNELED, &opt, &world_rank, &world_size);

    int n = (int)opt.n;
    const struct variant *variant = &variants[opt.variant_index];
    bool manager = variant->run == map_dynamic && world_size > 1; /* rank 0 only manages */
    cube_job job = {.n = n, .worker_count = manager ? world_size - 1 : world_size,
                    .uneven = opt.uneven, .apply_arg = (uint64_t)n, .team_size = 1};
    if (world_rank == ROOT_RANK) { /* only rank 0 holds the whole range, like the Pool's caller */
        job.out = checked_malloc((size_t)n, sizeof *job.out);
        for (int i = 0; i < n; i++) job.out[i] = (uint64_t)i; /* its pages touched, untimed */
    }
    variant->prepare(&job); /* untimed: who gets what, receive buffers touched */
    trace_open(&opt, job.team_size); /* a track per thread: one, or hybrid's team */

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); /* every rank ready */
    mpi_watchdog_start(pool_work_bound_s((uint64_t)n, opt.uneven), describe_map, &job);

    double start = MPI_Wtime();
    variant->run(&job);
    double elapsed = MPI_Wtime() - start;

    watchdog_stop();

    /* hybrid: how many threads each rank ran (a rank started without OMP_NUM_THREADS differs),
     * and on which cores. */
    int *team_sizes = world_rank == ROOT_RANK ? checked_malloc((size_t)world_size, sizeof *team_sizes)
                                              : NULL;
    char *cores = world_rank == ROOT_RANK ? checked_malloc((size_t)world_size, sizeof job.cores) : NULL;
    long long *computed = world_rank == ROOT_RANK ? checked_malloc((size_t)world_size, sizeof *computed)
                                                  : NULL; /* cubes by each rank */
    MPI_CHECK(MPI_Gather(&job.team_size, 1, MPI_INT, team_sizes, 1, MPI_INT, ROOT_RANK,
                         MPI_COMM_WORLD), "MPI_Gather");
    MPI_CHECK(MPI_Gather(job.cores, sizeof job.cores, MPI_CHAR, cores, sizeof job.cores, MPI_CHAR,
                         ROOT_RANK, MPI_COMM_WORLD), "MPI_Gather");
    MPI_CHECK(MPI_Gather(&job.computed, 1, MPI_LONG_LONG, computed, 1, MPI_LONG_LONG, ROOT_RANK,
                         MPI_COMM_WORLD), "MPI_Gather");
    mpi_trace_write(&info, &opt);

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        uint64_t checksum;
        pass = verify_cubes(job.out, (size_t)n, &checksum);
        pass = verify_u64("apply(cube, n)", cube_u64(job.apply_arg), job.apply_result) && pass;

        if (!opt.quiet) print_u64_list(job.out, (size_t)n);
        printf("map of %d cubes: checksum %" PRIu64 " (expected %" PRIu64 "); apply(cube, %" PRIu64
               ") = %" PRIu64 "\n", n, checksum, cube_checksum_expected((uint64_t)n), job.apply_arg,
               job.apply_result);
        char extra_keys[64] = "";
        /* per_worker: the cubes each worker rank computed (a managing rank 0 is no worker) */
        const long long *per_worker = manager ? computed + 1 : computed;
        if (variant->run == map_dynamic) {
            if (manager)
                say(&opt, "rank 0 handed out the chunks; %d worker ranks cubed them\n",
                    job.worker_count);
            else
                say(&opt, "rank 0 alone: no rank to hand chunks to, so it cubed them itself\n");
            snprintf(extra_keys, sizeof extra_keys, " ranks=%d", world_size);
        }
        if (variant->run == map_hybrid) {
            int threads = 0, fewest = team_sizes[0], most = team_sizes[0];
            for (int r = 0; r < world_size; r++) {
                threads += team_sizes[r];
                fewest = team_sizes[r] < fewest ? team_sizes[r] : fewest;
                most = team_sizes[r] > most ? team_sizes[r] : most;
                say(&opt, "%s\n", cores + (size_t)r * sizeof job.cores);
            }
            if (fewest == most)
                say(&opt, "%d ranks x %d OpenMP threads each: %d threads in all\n", world_size,
                    most, threads);
            else /* e.g. OMP_NUM_THREADS not passed on to some hosts */
                say(&opt, "%d ranks x OpenMP threads: %d to %d per rank, %d threads in all\n",
                    world_size, fewest, most, threads);
            snprintf(extra_keys, sizeof extra_keys, " threads=%d", threads);
        }
        opt.workers = job.worker_count;
        print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64 " per_worker=%s%s", checksum,
                     per_worker_text(per_worker, job.worker_count), extra_keys);
    }
    free(computed);
    free(cores);
    free(team_sizes);
    if (world_rank != ROOT_RANK) free(job.block); /* rank 0's block is out itself, or none */
    free(job.counts);
    free(job.displs);
    free(job.out);
    return mpi_finish(pass);
}
