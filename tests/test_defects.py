"""Defects found by reading and running the programs, each pinned by a test that failed before.

- A failing call on an MPI window ends the job with the contract's one line and exit 3: windows do
  not inherit the communicator's error handler, so every window goes through window_errors_return.
- A RESULT line that cannot be written (stdout on a full disk) is exit 3, not a silent PASS.
"""
import os
import re
import subprocess

import pytest

from concepts import CONCEPTS
from suite import BIN_DIR, MPI_ENV, MPIRUN, ROOT, have_mpi, load_scaled, run_bounded

WINDOW_CREATION = re.compile(r"\bMPI_Win_(allocate_shared|allocate|create|create_dynamic)\s*\(")


@pytest.mark.parametrize("concept", sorted(CONCEPTS))
def test_every_mpi_window_returns_its_errors(concept):
    """Each window creation in mpi/ is followed by window_errors_return on that window."""
    code = (ROOT / "mpi" / f"{concept}.c").read_text()
    created = len(WINDOW_CREATION.findall(code))
    handled = code.count("window_errors_return(")
    assert handled >= created, f"mpi/{concept}.c creates {created} windows, hands {handled} " \
                               "to window_errors_return"


def test_a_failing_window_call_is_exit_3_with_one_line(tmp_path):
    if not have_mpi():
        pytest.skip("no MPI here (make test installs Open MPI)")
    binary = tmp_path / "window_error"
    subprocess.run([os.environ.get("MPICC", "mpicc"), "-std=c11", "-Wall", "-Wextra", "-Werror",
                    "-o", str(binary), str(ROOT / "tests" / "mpi" / "window_error.c"),
                    str(ROOT / "common" / "harness.c"), str(ROOT / "common" / "trace.c"),
                    str(ROOT / "common" / "mpi_harness.c")],
                   check=True)
    r = run_bounded([MPIRUN, "-np", "2", str(binary)], load_scaled(60), env=dict(os.environ, **MPI_ENV))
    assert r.returncode == 3, r.stderr
    naming = [line for line in r.stderr.splitlines() if line.startswith("mpi/window_error:")]
    assert len(naming) == 1, r.stderr
    assert naming[0].startswith("mpi/window_error: MPI_Win_lock failed on rank 0: "), r.stderr


LOCAL = [(m, c) for m in ("posix", "omp") for c in CONCEPTS if (BIN_DIR / m / c).exists()]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("model,concept", LOCAL, ids=[f"{m}-{c}" for m, c in LOCAL])
def test_lost_output_is_exit_3(model, concept):
    """MPI programs are not in this list: their stdout is mpirun's pipe, which never fills."""
    with open("/dev/full", "w") as full:
        r = subprocess.run([str(BIN_DIR / model / concept), "-n", "3", "-w", "2"], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
    assert r.returncode == 3, r.stderr
    assert "write to stdout failed" in r.stderr
