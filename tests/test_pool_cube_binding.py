"""mpi/pool_cube --variant hybrid shows where its threads run, and the run lines that give each rank
OMP_NUM_THREADS cores put its threads on distinct cores.

Open MPI binds a rank to one core when -np is small, so without a mapping option every thread of
a rank shares that core. The header of mpi/pool_cube.c and docs/pool_cube.md give two run lines
that avoid it: --map-by slot:PE=N (N cores per rank) and --bind-to none. With OMP_PLACES=cores and
OMP_PROC_BIND=spread the runtime pins each thread to its own core of the rank's set, so the cores
printed are deterministic: they must differ when the rank was given as many cores as threads.
"""
import os
import re

import pytest

from suite import (MPI_ENV, MPIRUN, ROOT, SANITIZER_ENV, have_mpi, load_scaled, parse_result, program,
                   run_bounded)

THREAD = re.compile(r"thread (\d+) on core (-?\d+) \(may run on ([^)]*)\)")
THREADS = 2


def cores_of(text):
    """'0-1,3' -> {0, 1, 3}"""
    cores = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        cores.update(range(int(first), int(last or first) + 1))
    return cores


def run_hybrid(mapping, threads=THREADS, np=1, quiet=False):
    # SANITIZER_ENV: make sanitize runs this file too, and Open MPI's own allocations are not ours
    env = dict(os.environ, **SANITIZER_ENV, **MPI_ENV, OMP_NUM_THREADS=str(threads),
               OMP_PLACES="cores", OMP_PROC_BIND="spread")
    cmd = [MPIRUN, "-np", str(np), *mapping, "-x", "OMP_NUM_THREADS", "-x", "OMP_PLACES",
           "-x", "OMP_PROC_BIND", str(program("mpi", "pool_cube")), "--variant", "hybrid", "-n", "1001"]
    if quiet:
        cmd.append("--quiet")
    proc = run_bounded(cmd, load_scaled(60), env=env, cwd=ROOT)
    report = f"$ {' '.join(cmd)}\nexit {proc.returncode}\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}"
    assert proc.returncode == 0, report
    assert parse_result(proc.stdout).get("status") == "PASS", report
    return proc.stdout, report


def rank_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith("rank ")]


pytestmark = pytest.mark.skipif(not have_mpi(), reason="no mpirun (apt-get install openmpi-bin)")


def test_hybrid_prints_every_threads_core():
    stdout, report = run_hybrid(["--bind-to", "none"], np=2)
    lines = rank_lines(stdout)
    assert [line.split()[1] for line in lines] == ["0", "1"], report
    for line in lines:
        threads = THREAD.findall(line)
        assert [int(t) for t, _, _ in threads] == list(range(THREADS)), report
        for _, core, allowed in threads:
            assert int(core) in cores_of(allowed), report  # it runs where its mask allows


def test_quiet_hides_the_cores():
    stdout, report = run_hybrid(["--bind-to", "none"], quiet=True)
    assert rank_lines(stdout) == [], report


@pytest.mark.skipif((os.cpu_count() or 1) < THREADS,
                    reason=f"distinct cores need {THREADS} cores; this machine has {os.cpu_count()}")
@pytest.mark.parametrize("mapping", [["--map-by", f"slot:PE={THREADS}"], ["--bind-to", "none"]],
                         ids=["map-by-PE", "bind-to-none"])
def test_run_lines_give_each_thread_its_own_core(mapping):
    stdout, report = run_hybrid(mapping)
    (line,) = rank_lines(stdout)
    threads = THREAD.findall(line)
    assert len(threads) == THREADS, report
    assert len({core for _, core, _ in threads}) == THREADS, "threads share a core\n" + report
    assert len(cores_of(threads[0][2]) | cores_of(threads[1][2])) >= THREADS, report
