"""No hang survives: a bug that leaves a wait unmatched ends the run in seconds, exit 3, naming
what is unfinished, instead of a hang that only a test's timeout (or a student's Ctrl-C) ends.

Each case builds the program with one realistic bug (tests/suite.py build_mutant) whose wait is
no call of the file's own: a parallel region's closing barrier, a pthread_join or waitpid, an
MPI receive or collective. The harness's watchdog (common/harness.h) bounds the whole run; on
MPI ranks rank 0's fires first (common/mpi_harness.h), the others' 10 s later. queue's own
watchdog cases (task_done lost) are in test_queues.py.
"""
import os
import re
import time

import pytest

from suite import MPI_ENV, MPIRUN, build_mutant, have_mpi, load_scaled, program, run_bounded

UNLOCK_LOST = "    /* the lock is never given back */\n"

# (model, concept, [old text, new text], arguments, what the watchdog says on stderr)
HANGS = [
    ("posix", "counter",
     ['        CHECK_RC(pthread_mutex_unlock(mutex), "pthread_mutex_unlock");\n', UNLOCK_LOST],
     ["--variant", "mutex", "-w", "2"],
     r"^posix/counter: join: the counter is 1 of 200 after 10 s$"),
    ("posix", "counter",
     ['        CHECK_RC(pthread_mutex_unlock(mutex), "pthread_mutex_unlock");\n', UNLOCK_LOST],
     ["--variant", "process", "-w", "2"],
     r"^posix/counter: join: the counter is 1 of 200 after 10 s$"),
    ("posix", "shared_array",
     ['        CHECK_RC(pthread_mutex_unlock(&array->block->lock), "pthread_mutex_unlock");\n',
      UNLOCK_LOST],
     ["--variant", "thread", "-w", "2"],
     r"^posix/shared_array: join: 2 of 2 workers unfinished: worker 0 added to [01] of 3, "
     r"worker 1 added to [01] of 3 after 10 s$"),
    ("omp", "counter",
     ["            omp_unset_lock(&counter->lock);\n", UNLOCK_LOST],
     ["--variant", "lock", "-w", "2"],
     r"^omp/counter: join: the counter is 1 of 200 after 10 s$"),
    # a worker that never looks for the stop: main waits at the region's end
    ("omp", "cancel",
     ["#pragma omp cancellation point for\n", "/* the cancel is never looked for */\n"],
     ["--variant", "cancel", "-w", "2"],
     r"^omp/cancel: stop: 2 of 2 threads have not stopped after 10 s$"),
    # ranks that never test for the STOP: rank 0 waits in MPI_Recv for their STOPPED
    ("mpi", "cancel",
     ['            MPI_CHECK(MPI_Test(&stop_request, &stop, MPI_STATUS_IGNORE), "MPI_Test");\n',
      "            /* the STOP is never looked for */\n"],
     ["--variant", "message"],
     r"^mpi/cancel: stop: 2 of 2 ranks have not confirmed STOPPED after 10 s$"),
    # only rank 0 calls MPI_Reduce: it waits for counts the others never send
    ("mpi", "counter",
     ["    MPI_CHECK(MPI_Reduce(&count,",
      "    if (counter->world_rank == ROOT_RANK) MPI_CHECK(MPI_Reduce(&count,"],
     ["--variant", "reduce"],
     r"^mpi/counter: join: the counter is 0 of 300 after 25 s$"),
    # rank 1 leaves after its first chunk without sending it back: rank 0 waits in MPI_Probe
    ("mpi", "pool_cube",
     ["        if (status.MPI_TAG == TAG_STOP) break;\n",
      "        if (status.MPI_TAG == TAG_STOP || world_rank == 1) break;\n"],
     ["--variant", "dynamic"],
     r"^mpi/pool_cube: map: 10 of 10 numbers handed out, 1 of 2 workers not stopped after 30 s$"),
    # rank 0 never sends STOP: it finishes, and the workers wait in MPI_Recv; theirs speak
    ("mpi", "queue",
     ['            MPI_CHECK(MPI_Send(NULL, 0, MPI_LONG, worker, TAG_STOP, MPI_COMM_WORLD), '
      '"MPI_Send");\n', "            /* STOP never sent */\n"],
     [],
     r"^mpi/queue: rank [12]: join: \d+ items taken, no STOP from rank 0 after 20 s$"),
]
# Every bound above is 10 to 30 s (20 to 40 s on ranks other than 0): a run must end well
# before this, scaled by load.
HANG_ENDS_WITHIN_S = 60


@pytest.mark.parametrize("model,concept,change,args,says", HANGS,
                         ids=[f"{h[0]}-{h[1]}-{h[3][1] if h[3] else 'default'}" for h in HANGS])
def test_a_wait_never_matched_is_exit_3_naming_what_is_unfinished(model, concept, change, args,
                                                                  says, tmp_path):
    if model == "mpi" and not have_mpi():
        pytest.skip("no MPI here (make test installs Open MPI)")
    if not program(model, concept).exists():
        pytest.skip(f"{model}/{concept} is not built here")
    binary = build_mutant(model, concept, *change, tmp_path)
    cmd = [str(binary), "--quiet", *args]
    env = dict(os.environ)
    if model == "mpi":
        cmd = [MPIRUN, "-np", "3", *cmd]
        env.update(MPI_ENV)
    started = time.monotonic()
    r = run_bounded(cmd, load_scaled(HANG_ENDS_WITHIN_S), env=env)
    took = time.monotonic() - started
    shown = f"exit {r.returncode} after {took:.1f} s\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
    assert r.returncode == 3, shown
    assert re.search(says, r.stderr, re.MULTILINE), shown
