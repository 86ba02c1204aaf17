/*
 * bench/ref/store.c - the ceiling for pool_cube: how fast can this machine store out[i] = i*i*i?
 *
 * pool_cube's map writes n cubes into an array, nothing else. Its limit is the memory system,
 * and the first write to a page costs a kernel page fault (zeroing 4 KiB) before any store lands.
 * Two ceilings, so a pool_cube figure can be read against the one that fits it:
 *   fresh     the array comes straight from malloc (fresh pages for large n): every page is
 *             faulted in during the timed loop, as in pool_cube, whose array is fresh too
 *   prefault  the array is written once before the clock starts: stores only
 * -w W threads each write one contiguous block; with -w 1 the loop runs in main, no thread.
 * Timed from the first thread's start (all wait at a barrier first) to the last one's finish:
 * thread creation is outside it, so this is the hardware's figure, not a mechanism's.
 *
 * Run:  build/bench/ref/store -n 100000000 -w 2 --variant fresh --quiet
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/harness.h"

static const program_info info = {
    .concept = "store",
    .model = "ref",
    .summary = "Reference: W threads store out[i] = i*i*i into fresh or pre-faulted pages.",
    VARIANT_DOCS(((const variant_doc[]){{"fresh", "pages first touched inside the timed loop (page faults counted)"},
                 {"prefault", "pages written once before the clock starts (stores only)"},
                 {NULL, NULL}})),
    .n_meaning = "elements written",
    .default_n = 10000000,
    .max_n = 4000000000L,
    .default_workers = 0,
};

typedef struct {
    uint64_t *out;
    size_t block_begin, block_end;
    pthread_barrier_t *start_line;
    double began, ended; /* after the barrier, after the last store */
} store_block;

static void store_cubes(uint64_t *out, size_t block_begin, size_t block_end)
{
    for (size_t i = block_begin; i < block_end; i++) out[i] = cube_u64(i);
}

static void *store_worker(void *arg)
{
    store_block *block = arg;
    pthread_barrier_wait(block->start_line);
    block->began = now_seconds();
    store_cubes(block->out, block->block_begin, block->block_end);
    block->ended = now_seconds();
    return NULL;
}

int main(int argc, char **argv)
{
    options opt;
    parse_or_exit(&info, argc, argv, &opt);
    size_t n = (size_t)opt.n;
    int worker_count = opt.workers;
    uint64_t *out = checked_malloc(n + 1, sizeof *out);
    if (opt.variant_index == 1) memset(out, 0xff, (n + 1) * sizeof *out);

    double start, elapsed;
    if (worker_count == 1) {
        start = now_seconds();
        store_cubes(out, 0, n);
        elapsed = now_seconds() - start;
    } else {
        pthread_t *threads = checked_malloc((size_t)worker_count, sizeof *threads);
        store_block *blocks = checked_malloc((size_t)worker_count, sizeof *blocks);
        pthread_barrier_t start_line;
        CHECK_RC(pthread_barrier_init(&start_line, NULL, (unsigned)worker_count + 1),
                 "pthread_barrier_init");
        for (int w = 0; w < worker_count; w++) {
            blocks[w] = (store_block){out, n * (size_t)w / (size_t)worker_count,
                                      n * (size_t)(w + 1) / (size_t)worker_count, &start_line,
                                      0.0, 0.0};
            CHECK_RC(pthread_create(&threads[w], NULL, store_worker, &blocks[w]), "pthread_create");
        }
        pthread_barrier_wait(&start_line);
        for (int w = 0; w < worker_count; w++) CHECK_RC(pthread_join(threads[w], NULL), "pthread_join");
        /* First start to last finish as the threads saw it (main may wake late on a busy machine). */
        start = blocks[0].began;
        double last_end = blocks[0].ended;
        for (int w = 1; w < worker_count; w++) {
            if (blocks[w].began < start) start = blocks[w].began;
            if (blocks[w].ended > last_end) last_end = blocks[w].ended;
        }
        elapsed = last_end - start;
        CHECK_RC(pthread_barrier_destroy(&start_line), "pthread_barrier_destroy");
        free(blocks);
        free(threads);
    }

    uint64_t checksum;
    bool pass = verify_cubes(out, n, &checksum);
    printf("store %s: %zu cubes by %d thread(s) in %.6f s, %.3g elements/s; checksum %" PRIu64
           " (expected %" PRIu64 ")\n", opt.variant, n, worker_count, elapsed,
           elapsed > 0 ? (double)n / elapsed : 0.0, checksum, cube_checksum_expected(n));
    print_result(&info, &opt, pass, elapsed, "checksum=%" PRIu64, checksum);
    free(out);
    return pass ? EXIT_PASS : EXIT_FAIL;
}
