/*
 * omp_team.h - OpenMP may give a parallel region fewer threads than num_threads asked for
 * (OMP_DYNAMIC=true, OMP_THREAD_LIMIT, nested regions, a thread that could not be created).
 * A counter would then count fewer workers and report a correct program as wrong, and a race
 * would claim lost updates that never happened. So every omp example asks for an exact team and
 * checks, after the region, that it got it:
 *
 *     int team_size = 0;
 *     team_exact();
 *     #pragma omp parallel num_threads(opt.workers) shared(team_size)
 *     {
 *         #pragma omp single nowait   (or: if (omp_get_thread_num() == 0))
 *         team_size = omp_get_num_threads();
 *         ...
 *     }
 *     team_check(opt.workers, team_size);
 *
 * Header-only: the rest of common/ is built without -fopenmp.
 */
#ifndef OMP_TEAM_H
#define OMP_TEAM_H

#include <omp.h>

#include "harness.h"

/* Before the region: no dynamic adjustment, so the team has exactly the threads asked for
 * or the region reports what it got. */
static inline void team_exact(void) { omp_set_dynamic(0); }

/* After the region: a smaller team is a system error (exit 3), never a wrong result. */
static inline void team_check(int asked, int got)
{
    if (got != asked)
        die_msg("OpenMP granted %d of the %d threads asked for (OMP_THREAD_LIMIT? too many threads?)",
                got, asked);
}

#endif /* OMP_TEAM_H */
