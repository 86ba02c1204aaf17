"""The set-up a newcomer meets first: make run's toolchain check and summary, what tools/deps.sh
installs, make check's selection, the bench's time budget, and slurm-up saying why it failed.

Each test here is cheap (fake programs, fake daemons, make variables that replace the expensive
part) except the bench budget test, which runs bench/run.py for a few seconds.
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from suite import ROOT, ordinary_build_only

pytestmark = ordinary_build_only

# bench/run.py's MODES holds the bench's time budgets
_spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
bench_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_run)

PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


def script(path, text):
    path.write_text(text)
    path.chmod(0o755)
    return path


# ---------------------------------------------------------------- make run

def test_run_programs_summary_names_failures_and_skips(tmp_path):
    """Every program runs even after a failure; the last lines say what failed and what was skipped."""
    ok = script(tmp_path / "ok", "#!/bin/sh\necho hello\necho 'RESULT concept=x status=PASS'\n")
    wrong = script(tmp_path / "wrong", "#!/bin/sh\necho 'RESULT concept=y status=FAIL'\nexit 1\n")
    silent = script(tmp_path / "silent", "#!/bin/sh\nexit 0\n")
    proc = subprocess.run([str(ROOT / "tools" / "run-programs"), "--skip", "mpi/ (8 programs): mpicc not found",
                           str(ok), str(wrong), str(silent), str(ok)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = proc.stdout.splitlines()[-5:]
    assert last[-1] == "12 programs: 2 PASS, 2 FAIL, 8 skipped", proc.stdout
    assert any(f"FAIL {wrong} (exit 1, status=FAIL)" in line for line in last), proc.stdout
    assert any(f"FAIL {silent} (exit 0, no RESULT line)" in line for line in last), proc.stdout
    assert any("skipped mpi/ (8 programs): mpicc not found" in line for line in last), proc.stdout
    assert proc.stdout.count("hello") == 2


def test_run_programs_all_pass(tmp_path):
    ok = script(tmp_path / "ok", "#!/bin/sh\necho 'RESULT status=PASS'\n")
    proc = subprocess.run([str(ROOT / "tools" / "run-programs"), str(ok), str(ok)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.splitlines()[-1] == "2 programs: 2 PASS", proc.stdout


def make_run_with(tmp_path, deps_installs_mpicc):
    """make run with a fake deps.sh (which may 'install' mpicc) and a run-programs that prints
    its arguments; BUILT= keeps make from building anything."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    mpicc = bindir / "mpicc"
    install = f"printf '#!/bin/sh\\nexit 0\\n' > {mpicc}; chmod +x {mpicc}\n" if deps_installs_mpicc else ""
    deps = script(tmp_path / "deps.sh", "#!/bin/sh\n" + install)
    show = script(tmp_path / "show", "#!/bin/sh\nfor a in \"$@\"; do echo \"ARG $a\"; done\n")
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "run", f"DEPS={deps}",
                           f"MPICC={mpicc}", f"RUN_PROGRAMS={show}", "BUILT="],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_make_run_sees_the_mpi_that_deps_installed(tmp_path):
    """The first make run on a fresh machine: deps.sh installs mpicc, and the same run uses it."""
    out = make_run_with(tmp_path, deps_installs_mpicc=True)
    assert "skipped" not in out and "--skip" not in out, out


def test_make_run_says_why_mpi_is_skipped(tmp_path):
    out = make_run_with(tmp_path, deps_installs_mpicc=False)
    assert re.search(r"ARG mpi/ \(\d+ programs\): .*mpicc not found \(apt-get install openmpi-bin", out), out


# ---------------------------------------------------------------- tools/deps.sh

def deps_packages(purpose):
    proc = subprocess.run([str(ROOT / "tools" / "deps.sh"), "packages", purpose],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_deps_installs_the_symbolizer_tsan_needs():
    """Without llvm-symbolizer a TSan report names no file, and check-races cannot see race.c."""
    assert "llvm" in deps_packages("test")


def test_deps_check_has_what_make_check_runs():
    assert {"libcmocka-dev", "python3-pytest", "python3-pytest-xdist"} <= deps_packages("check")


# ---------------------------------------------------------------- make check

def test_make_check_runs_every_variant_once_and_the_contract():
    from concepts import CONCEPTS
    proc = subprocess.run([PYTHON, "-m", "pytest", "-o", "addopts=", "--collect-only", "-q", "-m", "check",
                           "tests/test_programs.py"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    matrix = [i for i in ids if "::test_matrix[" in i]
    present = [(m, c) for c in CONCEPTS for m in ("posix", "omp", "mpi") if (ROOT / m / f"{c}.c").exists()]
    want = sum(len(CONCEPTS[c].variants[m]) for m, c in present)
    assert len(matrix) == want, "\n".join(matrix)
    assert len([i for i in ids if "::test_default_output[" in i]) == len(present)
    assert len([i for i in ids if "::test_help_lists_every_variant[" in i]) == len(present)
    assert any("::test_bad_input_exits_2_with_one_line[" in i for i in ids)
    assert len(ids) < 500, "make check must stay quick (under 2 minutes on 2 cores)"


# ---------------------------------------------------------------- the MPI session folders

def test_each_test_worker_has_its_own_mpi_session_folder():
    """Open MPI's session directories collide when several mpirun start at once (conftest.py)."""
    folder = os.environ.get("OMPI_MCA_orte_tmpdir_base", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    assert os.path.isdir(folder) and f"suite-mpi-{worker}-" in os.path.basename(folder), folder


# ---------------------------------------------------------------- bench time

def test_bench_docs_quote_the_budgets():
    """bench/run.py's MODES is the one source of the bench's time: the docs quote it."""
    quick, full = bench_run.MODES["quick"]["budget_s"], bench_run.MODES["full"]["budget_s"]
    text = (ROOT / "bench" / "README.md").read_text()
    assert f"budget of {quick} s" in text and f"budget of {full} s" in text
    # elsewhere a bench line states no time of its own, or exactly the budget
    allowed = {f"{quick} s", f"{full} s", f"{full // 60} min"}
    for page in ("README.md", "docs/index.md", "bench/README.md", "mk/bench.mk"):
        for line in (ROOT / page).read_text().splitlines():
            if "make bench" in line or "bench/run.py" in line:
                for figure in re.findall(r"\b\d+(?:\.\d+)?(?:-\d+)?\s*(?:s|min|minutes?|seconds?)\b", line):
                    assert figure in allowed, f"{page}: {line.strip()!r} states {figure!r}; quote MODES"


@pytest.mark.skipif(not (ROOT / "posix" / "cancel").exists(), reason="posix/cancel is not built")
def test_bench_stops_at_its_budget(tmp_path):
    budget = 8
    start = time.monotonic()
    proc = subprocess.run([PYTHON, str(ROOT / "bench" / "run.py"), "--quick", "--budget", str(budget),
                           "--only", "cancel", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    wall = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"of a {budget:.1f} s budget" in proc.stdout, proc.stdout[-2000:]
    # No bound on the wall time here (a loaded machine stretches start-up, plotting and the one
    # run that crosses the deadline): the report must say it kept to the budget and what it left.
    assert "measuring" in proc.stdout and wall > 0, proc.stdout[-2000:]


# ---------------------------------------------------------------- slurm-up

FAKE_SLURMCTLD = """#!/bin/sh
# a slurmctld that fails as a real one does: a fatal line in its log file, and {how}
conf=$(printf '%s\\n' "$@" | grep -m1 slurm.conf)
log=$(sed -n 's/^SlurmctldLogFile=//p' "$conf")
echo "[2024-01-01T00:00:00] fatal: fake slurmctld: the reason it cannot start" >>"$log"
exit {code}
"""


@pytest.mark.parametrize("code", [1, 0], ids=["start-fails", "dies-after-daemonizing"])
def test_slurm_up_says_why_a_daemon_did_not_start(tmp_path, code):
    if os.geteuid() != 0:
        pytest.skip("slurm-up needs root")
    missing = [t for t in ("munged", "mungekey", "slurmd", "sinfo", "runuser") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not found (apt-get install slurm-wlm munge)")
    fake = tmp_path / "fake"
    fake.mkdir()
    script(fake / "slurmctld", FAKE_SLURMCTLD.format(code=code, how=f"exit {code}"))
    cluster = Path(tempfile.mkdtemp(prefix="suite-slurm-fail-"))
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")
    try:
        proc = subprocess.run([str(ROOT / "tests" / "cluster" / "slurm-up"), str(cluster)],
                              capture_output=True, text=True, timeout=90, env=env)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "slurmctld" in proc.stderr and "fatal: fake slurmctld: the reason" in proc.stderr, proc.stderr
        # and it cleaned up: munged (which did start) is gone
        assert not (cluster / "munge" / "munged.pid").exists(), proc.stderr
    finally:
        subprocess.run([str(ROOT / "tests" / "cluster" / "slurm-down"), str(cluster)], timeout=60,
                       capture_output=True)
        shutil.rmtree(cluster, ignore_errors=True)
