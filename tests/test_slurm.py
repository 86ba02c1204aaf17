"""The job scripts in slurm/ on a real Slurm: munged, slurmctld and slurmd started for this module
in a temporary folder (tests/cluster/slurm-up; one node that claims 4 CPUs), stopped on every path
(tests/cluster/slurm-down cancels what is still running, then stops the daemons by pid file).

  test_batch_job[...]        sbatch --wait of slurm/{mpi,omp,hybrid}.sbatch: the job's exit code,
                             its RESULT line (workers = tasks, or cpus-per-task for OpenMP; the
                             hybrid's threads = tasks x cpus-per-task) and the notebook's output;
                             mpi.sbatch also with an MPICH build (SLURM_MPI_TYPE=pmi2)
  test_batch_job_usage_error a bad argument: the job fails with exit code 2 and one usage line
  test_srun_step[...]        srun steps straight from the test: Open MPI over PMIx, OpenMP with
                             --cpus-per-task, and MPICH over PMI2 (built here with mpicc.mpich)

Skipped with one line where Slurm cannot start (not root, packages missing); never when CI is set.
"""
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cluster.common import HERE, describe, require_root, require_tools, result_lines, run
from suite import BIN_DIR, ROOT, SANITIZER_ENV

pytestmark = pytest.mark.xdist_group("slurm")  # one cluster per session, in one xdist worker

SLURM_TOOLS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "srun", "sinfo", "squeue",
               "scancel")
JOB_TIMEOUT = 240  # sbatch --wait polls at 2, 4, 8, 10 s...: a 4-rank job takes about 10 s
CUBES_10 = "[0, 1, 8, 27, 64, 125, 216, 343, 512, 729]"


def clean_env(conf):
    """This cluster's SLURM_CONF, no SLURM_* of an outer job, and the settings ranks need when
    they share 2 cores (yield when idle; pml ob1 skips probing absent fabrics)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env.update(SANITIZER_ENV, SLURM_CONF=str(conf), OMPI_MCA_mpi_yield_when_idle="1",
               OMPI_MCA_pml="ob1")
    env.pop("OMP_NUM_THREADS", None)
    return env


@pytest.fixture(scope="module")
def slurm():
    require_root()
    require_tools(*SLURM_TOOLS, package="slurm-wlm munge")
    for model in ("mpi", "omp"):
        assert (BIN_DIR / model / "pool_cube").exists(), f"{model}/pool_cube is not built (run make)"
    folder = Path(tempfile.mkdtemp(prefix="suite-slurm-"))
    try:
        started = time.monotonic()
        # 8 CPUs on 2 cores: every job of JOBS fits at once, so their sbatch --wait polls overlap
        up = run([os.path.join(HERE, "slurm-up"), str(folder), "8"], timeout=90)
        assert up.returncode == 0, describe(up)
        print(f"slurm started in {time.monotonic() - started:.1f} s")
        yield folder, clean_env(folder / "slurm.conf")
    finally:
        down = run([os.path.join(HERE, "slurm-down"), str(folder)], timeout=90)
        shutil.rmtree(folder, ignore_errors=True)
        assert down.returncode == 0, describe(down)


# name -> (script, sbatch options, script arguments, expected workers, expected extra keys)
JOBS = {
    "mpi-default": ("mpi.sbatch", [], [], 4, {"model": "mpi", "variant": "scatter"}),
    "mpi-3-dynamic": ("mpi.sbatch", ["--ntasks=3"],
                      ["./mpi/pool_cube", "--variant", "dynamic", "-n", "1001"], 2,
                      {"model": "mpi", "variant": "dynamic", "n": "1001", "ranks": "3"}),
    "omp-default": ("omp.sbatch", [], [], 4, {"model": "omp", "variant": "static"}),
    "hybrid-default": ("hybrid.sbatch", [], [], 2,
                       {"model": "mpi", "variant": "hybrid", "threads": "4"}),
    "hybrid-1x4": ("hybrid.sbatch", ["--ntasks=1", "--cpus-per-task=4"], ["-n", "100000"], 1,
                   {"variant": "hybrid", "threads": "4", "n": "100000"}),
    "usage-error": ("mpi.sbatch", ["--ntasks=2"], ["./mpi/pool_cube", "-n", "abc"], None, {}),
    # MPICH speaks PMI2 to srun: the script's SLURM_MPI_TYPE switch; MPICH_BUILD is replaced by
    # the MPICH build made for this module
    "mpich-pmi2": ("mpi.sbatch", ["--ntasks=2", "--export=ALL,SLURM_MPI_TYPE=pmi2"],
                   ["MPICH_BUILD", "--variant", "dynamic", "-n", "1001"], 1,  # rank 0 manages
                   {"model": "mpi", "variant": "dynamic"}),
}


def submit(folder, env, name, mpich_build):
    script, options, args, _, _ = JOBS[name]
    args = [str(mpich_build) if a == "MPICH_BUILD" else a for a in args]
    output = folder / f"{name}.out"
    # --chdir: the scripts run ./mpi/pool_cube etc. relative to where the binaries are built
    cmd = ["sbatch", "--wait", f"--job-name={name}", f"--output={output}", f"--chdir={BIN_DIR}",
           *options, str(ROOT / "slurm" / script), *args]
    started = time.monotonic()
    result = run(cmd, timeout=JOB_TIMEOUT, env=env)
    text = output.read_text() if output.exists() else ""
    return result, text, time.monotonic() - started


@pytest.fixture(scope="module")
def jobs(slurm):
    """Every job of JOBS submitted at once (Slurm queues what does not fit on the node)."""
    folder, env = slurm
    require_tools("mpicc.mpich", package="mpich libmpich-dev")
    mpich_build = build_mpich(folder)
    started = time.monotonic()
    with ThreadPoolExecutor(len(JOBS)) as pool:
        futures = {name: pool.submit(submit, folder, env, name, mpich_build) for name in JOBS}
        done = {name: future.result() for name, future in futures.items()}
    print(f"{len(JOBS)} batch jobs in {time.monotonic() - started:.1f} s")
    return done


@pytest.mark.parametrize("name", [n for n in JOBS if n != "usage-error"])
def test_batch_job(jobs, name):
    result, text, seconds = jobs[name]
    _, _, _, workers, extra = JOBS[name]
    report = describe(result) + f"\n--- job output\n{text}"
    assert result.returncode == 0, report
    results = result_lines(text)
    assert len(results) == 1, report
    res = results[0]
    assert res["concept"] == "pool_cube" and res["status"] == "PASS", report
    assert int(res["workers"]) == workers, report
    for key, value in extra.items():
        assert res[key] == value, report
    n = int(res["n"])
    assert int(res["checksum"]) == (n * (n - 1) // 2) ** 2 % 2**64, report
    if n == 10:
        assert CUBES_10 in text.splitlines(), report
    assert text.splitlines()[-1].startswith("RESULT "), report


def test_batch_job_usage_error(jobs):
    result, text, _ = jobs["usage-error"]
    report = describe(result) + f"\n--- job output\n{text}"
    assert result.returncode == 2, report  # sbatch --wait exits with the job's exit code
    assert "RESULT" not in text, report
    assert sum(line.endswith("(see --help)") for line in text.splitlines()) == 1, report


def build_mpich(folder):
    """mpi/pool_cube built with MPICH's compiler into folder (the Makefile's O=), once."""
    out = f"{folder}/mpich/"
    if (Path(out) / "mpi" / "pool_cube").exists():
        return Path(out) / "mpi" / "pool_cube"
    result = run(["make", "--no-print-directory", "-s", "MPICC=mpicc.mpich", f"O={out}",
                  f"{out}mpi/pool_cube"], timeout=180, cwd=ROOT)
    assert result.returncode == 0, describe(result)
    return Path(out) / "mpi" / "pool_cube"


# name -> (srun options, program (relative to the binaries, or "mpich"), arguments, workers, extra env)
STEPS = {
    "openmpi-pmix": (["--mpi=pmix", "--ntasks=3"], "mpi/pool_cube",
                     ["--variant", "dynamic", "-n", "1001"], 2, {}),  # rank 0 manages: 2 workers
    "openmpi-hybrid": (["--mpi=pmix", "--ntasks=2", "--cpus-per-task=2"], "mpi/pool_cube",
                       ["--variant", "hybrid"], 2, {"OMP_NUM_THREADS": "2"}),
    "openmp": (["--ntasks=1", "--cpus-per-task=2"], "omp/pool_cube", [], 2,
               {"OMP_NUM_THREADS": "2", "OMP_PLACES": "cores", "OMP_PROC_BIND": "close"}),
    "mpich-pmi2": (["--mpi=pmi2", "--ntasks=2"], "mpich", ["-n", "1001"], 2, {}),
}


@pytest.mark.parametrize("name", list(STEPS))
def test_srun_step(slurm, name):
    folder, env = slurm
    options, prog, args, workers, extra_env = STEPS[name]
    if prog == "mpich":
        require_tools("mpicc.mpich", package="mpich libmpich-dev")
        exe = build_mpich(folder)
    else:
        exe = BIN_DIR / prog
    result = run(["srun", "--time=5", *options, str(exe), "--quiet", *args], timeout=JOB_TIMEOUT,
                 env=dict(env, **extra_env), cwd=folder)
    assert result.returncode == 0, describe(result)
    results = result_lines(result.stdout)
    assert len(results) == 1, describe(result)  # rank 0 alone prints
    res = results[0]
    assert res["status"] == "PASS" and int(res["workers"]) == workers, describe(result)
    if "hybrid" in args:
        assert int(res["threads"]) == 4, describe(result)
    n = int(res["n"])
    assert int(res["checksum"]) == (n * (n - 1) // 2) ** 2 % 2**64, describe(result)


def test_srun_step_exit_code(slurm):
    """A rank's exit code comes back through srun: a usage error is exit 2, said once."""
    folder, env = slurm
    result = run(["srun", "--time=5", "--mpi=pmix", "--ntasks=2", str(BIN_DIR / "mpi/pool_cube"),
                  "-n", "-5"], timeout=JOB_TIMEOUT, env=env, cwd=folder)
    assert result.returncode == 2, describe(result)
    assert sum(line.endswith("(see --help)") for line in result.stderr.splitlines()) == 1, \
        describe(result)

