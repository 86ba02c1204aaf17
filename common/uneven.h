/*
 * uneven.h - pool_cube's --uneven work: item i costs i / UNEVEN_ITEMS_PER_STEP steps of real
 * work before its cube, so late items cost more than early ones and a schedule that deals out
 * equal blocks (static, scatter) leaves the worker with the first block idle while the one with
 * the last block still works, which chunks taken on demand (dynamic, guided, a pool) balance.
 *
 * The result is still exactly cube(i): the steps' end state is folded into it by a test that
 * is always false (xorshift never reaches 0 from a non-zero start), which the compiler cannot
 * know, so it must run every step. verify_cubes checks every element exactly, as for even work.
 *
 * Total work for n items: about n^2 / (2 * UNEVEN_ITEMS_PER_STEP) steps of a few cycles each
 * (-n 1000000: 5e8 steps, about a second of one core's time): uneven_steps(n) says it exactly.
 */
#ifndef UNEVEN_H
#define UNEVEN_H

#include <stdint.h>

#include "harness.h"

/* Item i costs i / UNEVEN_ITEMS_PER_STEP dependent steps. */
enum { UNEVEN_ITEMS_PER_STEP = 1000 };

/* cube(i) after i / UNEVEN_ITEMS_PER_STEP xorshift64 steps, each depending on the last. */
static inline uint64_t cube_uneven(uint64_t i)
{
    uint64_t state = i | 1; /* never 0, so it never becomes 0 */
    for (uint64_t step = 0; step < i / UNEVEN_ITEMS_PER_STEP; step++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
    }
    return cube_u64(i) + (state == 0); /* + 0: the steps cannot be skipped, the cube is exact */
}

/* The value a worker stores for item i: cube(i), at the cost --uneven asks for. */
static inline uint64_t cube_of(uint64_t i, bool uneven)
{
    return uneven ? cube_uneven(i) : cube_u64(i);
}

/* Steps of all n items (a watchdog's bound scales with it): sum of i / K for i < n. */
static inline double uneven_steps(uint64_t n)
{
    return (double)n * (double)n / (2.0 * UNEVEN_ITEMS_PER_STEP);
}

/* Seconds a run of n items may take before a watchdog calls it a hang: generous for a loaded
 * 2-core machine (30 s, plus 1 us per item, plus 10 ns per uneven step: ten to a hundred times
 * what they cost). */
static inline double pool_work_bound_s(uint64_t n, bool uneven)
{
    return 30.0 + (double)n * 1e-6 + (uneven ? uneven_steps(n) * 1e-8 : 0.0);
}

#endif /* UNEVEN_H */
