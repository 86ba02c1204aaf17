/*
 * omp_team.h - OpenMP may give a parallel region fewer threads than num_threads asked for
 * (OMP_DYNAMIC=true, OMP_THREAD_LIMIT, nested regions, a thread that could not be created).
 * A counter would then count fewer workers and report a correct program as wrong, and a race
 * would claim lost updates that never happened. So every omp example asks for an exact team
 * before its clock starts, and the timed kernel is only the lesson:
 *
 *     team_prepare(opt.workers);       untimed: exact teams, checked once (exit 3 if short)
 *     double start = omp_get_wtime();
 *     #pragma omp parallel num_threads(opt.workers) ...
 *
 * With dynamic adjustment off, a region that asks for the same count as the checked one gets
 * the same team. The check runs one empty region, so the team's threads also exist before the
 * clock: the timed part measures the concept's work, not the runtime's first start-up (spawn,
 * whose lesson is that start-up, checks its team from the workers' reports instead).
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

/* Untimed preparation: exact teams from now on, and one region of `asked` threads to check that
 * OpenMP grants them (exit 3 if not). */
static inline void team_prepare(int asked)
{
    int granted = 0;
    team_exact();
#pragma omp parallel num_threads(asked) shared(granted)
    {
#pragma omp single
        granted = omp_get_num_threads();
    }
    team_check(asked, granted);
}

#endif /* OMP_TEAM_H */
