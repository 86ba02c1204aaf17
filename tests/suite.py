"""How the tests start the suite's programs and read their RESULT line.

Every test goes through run(): it adds mpirun (with the root and oversubscription settings a
2-core container needs) for MPI programs, bounds every run with a timeout so a hang is a
failure, and parses the RESULT line.
"""
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# make sanitize builds into another folder and points the tests at it
BIN_DIR = (ROOT / os.environ.get("SUITE_BIN_DIR", ".")).resolve()
MPIRUN = os.environ.get("MPIRUN", "mpirun")
# The programs under test are the ordinary build (make test), not another folder (make sanitize).
ORDINARY_BUILD = BIN_DIR == ROOT
# For test files that never run the programs in BIN_DIR (they build their own copies, or read
# the sources and docs): make test runs them; under make sanitize (BIN_DIR elsewhere) they would
# only repeat the same work on the same files. Used as a file's pytestmark.
ordinary_build_only = pytest.mark.skipif(
    not ORDINARY_BUILD, reason="does not use SUITE_BIN_DIR's programs: make test runs it on the ordinary build")
MODELS = ("posix", "omp", "mpi")

# Open MPI as root, more ranks than cores, ranks that yield when idle (README: small machines).
# pml ob1 skips probing network fabrics this kind of machine lacks: start-up 0.35 s -> 0.15 s.
MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OMPI_MCA_mpi_yield_when_idle": "1",
    "OMPI_MCA_pml": "ob1",
}
# Sanitized builds: MPI libraries keep allocations until exit, which is not our leak.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1",
    # fast_unwind_on_malloc=0: Open MPI 4.1 dlclose()s its plugins in MPI_Finalize, and the fast
    # unwinder (frame pointers, which the MPI libraries lack) ends a leak's stack at "<unknown
    # module>", which no suppression matches; full stacks reach libmpi, where lsan.supp matches.
    "LSAN_OPTIONS": f"suppressions={ROOT / 'tests' / 'lsan.supp'}:print_suppressions=0"
                    ":fast_unwind_on_malloc=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


@dataclass
class Run:
    """One finished program run."""

    args: list
    returncode: int
    stdout: str
    stderr: str
    result: dict = field(default_factory=dict)  # RESULT line as key -> value strings

    @property
    def lines(self):
        return self.stdout.splitlines()

    def describe(self):
        return (f"$ {' '.join(map(str, self.args))}\nexit {self.returncode}\n"
                f"--- stdout (tail)\n{self.stdout[-1500:]}\n--- stderr\n{self.stderr[-1500:]}")


def program(model, concept):
    return BIN_DIR / model / concept


def parse_result(stdout):
    """The last stdout line must be the RESULT line; returns its key=value pairs."""
    lines = stdout.splitlines()
    if not lines or not lines[-1].startswith("RESULT "):
        return {}
    return dict(item.split("=", 1) for item in lines[-1].split()[1:])


def load_scaled(seconds):
    """A time bound that grows with the machine's load: a 2-core machine running three test
    sessions at once (load 15) gives a 3-rank MPI job, whose every message waits for a core,
    many times its quiet time. A hang still fails, later on a loaded machine."""
    return seconds * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def run_bounded(cmd, timeout, **popen):
    """subprocess.run(cmd, capture_output=True, text=True, stdin=DEVNULL) in a session of its
    own. On time-out the whole session is ended, SIGTERM first (mpirun then ends its ranks and
    removes their segments), SIGKILL 5 s later; killing the direct child alone (bash, mpirun)
    would orphan the ranks. Raises subprocess.TimeoutExpired, as subprocess.run does."""
    with subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True,
                          **popen) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
                try:
                    os.killpg(proc.pid, sig)
                except OSError:
                    pass
                try:
                    proc.communicate(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def run(model, concept, args=(), np=None, timeout=60, env=None):
    """Runs model/concept with args; MPI programs under mpirun -np np (default 2), within
    load_scaled(timeout) seconds."""
    exe = program(model, concept)
    if not exe.exists():
        raise AssertionError(f"{exe.relative_to(ROOT)} is not built (run make)")
    cmd = [str(exe), *map(str, args)]
    full_env = dict(os.environ, **SANITIZER_ENV)
    if model == "mpi":
        cmd = [MPIRUN, "-np", str(np or 2), *cmd]
        full_env.update(MPI_ENV)
    for key, value in (env or {}).items():  # a value of None removes the variable
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    proc = run_bounded(cmd, load_scaled(timeout), env=full_env)
    return Run(cmd, proc.returncode, proc.stdout, proc.stderr, parse_result(proc.stdout))


def have_mpi():
    return shutil.which(MPIRUN) is not None


def build_mutant(model, concept, old, new, folder):
    """model/concept.c with the text old (which must occur exactly once) replaced by new,
    compiled like the Makefile compiles it (-Werror aside: a mutant may leave a function unused)
    into folder; returns the program's path. How the tests show that a bug a person makes is
    caught."""
    source = (ROOT / model / f"{concept}.c").read_text()
    assert source.count(old) == 1, f"{model}/{concept}.c changed: update the mutant's text {old!r}"
    (folder / model).mkdir(parents=True, exist_ok=True)
    (folder / model / f"{concept}.c").write_text(source.replace(old, new))
    if not (folder / "common").exists():
        (folder / "common").symlink_to(ROOT / "common")
    common = [str(ROOT / "common" / f) for f in ("harness.c", "trace.c")]
    compiler, extra = {"posix": (os.environ.get("CC", "cc"),
                                 ["-pthread", str(ROOT / "common" / "workers.c"),
                                  str(ROOT / "common" / "fifo.c")]),
                       "omp": (os.environ.get("CC", "cc"), ["-fopenmp"]),
                       "mpi": (os.environ.get("MPICC", "mpicc"),
                               ["-fopenmp", str(ROOT / "common" / "mpi_harness.c")])}[model]
    binary = folder / concept
    subprocess.run([compiler, "-std=c11", "-O2", "-o", str(binary),
                    str(folder / model / f"{concept}.c"), *common, *extra, "-lrt"],
                   check=True, timeout=300)
    return binary
