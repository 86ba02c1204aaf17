"""What the generic matrix cannot say about shared_array and cancel.

cancel        every variant stops every worker for W 1..7 (MPI: -np 1..7) and -n 0, 10, 200, and
              leaves no process behind: each run's environment carries a fresh tag
              (tests/leftovers.py), and after the run no live process may carry it, nor may this
              test process have gained a child. A first test proves the scan sees the workers.
              The omp cancel variant turns OMP_CANCELLATION on by re-running itself, and says so,
              under valgrind and gdb too. The stopped count is of the workers' own records: with
              them deleted from the source, a run is FAIL.
shared_array  --delay-ms D pauses inside each locked step: a locked variant's run takes at least
              W * n * D ms (the lock makes the workers take turns), every variant at least n * D;
              the array printed at the end is 100*i + W; `private` leaves the parent's array as it
              was (its children check their own copies and would exit 1 otherwise). Every
              window mpi/shared_array.c creates returns its errors (window_errors_return).
"""
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

import leftovers
from concepts import CONCEPTS
from suite import (MPI_ENV, MPIRUN, ROOT, SANITIZER_ENV, have_mpi, load_scaled, program, run,
                   run_bounded)

CANCEL_VARIANTS = [(model, variant) for model, variants in CONCEPTS["cancel"].variants.items()
                   for variant in variants]
SHARED_VARIANTS = [(model, variant) for model, variants in CONCEPTS["shared_array"].variants.items()
                   for variant in variants]
# make test-mpich caps the ranks (MPICH busy-polls when ranks outnumber cores).
MAX_RANKS = int(os.environ.get("SUITE_MAX_RANKS", "7"))
# Variants whose pause sits inside a lock all workers share, so the pauses add up.
LOCKED = {("posix", "process"), ("posix", "thread"), ("omp", "critical"), ("mpi", "shm")}


def need(model, concept):
    if not (ROOT / model / f"{concept}.c").exists():
        pytest.skip(f"{model}/{concept}.c is not in the suite")
    if model == "mpi" and not have_mpi():
        pytest.skip("no mpirun")


def my_children():
    """Live children of this test process (all its threads)."""
    kids = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                kids.update(int(k) for k in f.read().split())
        except OSError:
            pass
    return kids


def workers_args(model, workers):
    return [] if model == "mpi" else ["-w", workers]


# ---------------------------------------------------------------- cancel

def test_the_leftover_scan_sees_running_workers():
    """Guards the tests below: while a cancel run is going, its workers carry the tag."""
    need("posix", "cancel")
    tag = uuid.uuid4().hex
    env = dict(os.environ, **SANITIZER_ENV, **{leftovers.TAG_VAR: tag})
    proc = subprocess.Popen([str(program("posix", "cancel")), "-n", "3000", "-w", "3", "--quiet"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        seen, deadline = [], time.monotonic() + 10
        while len(seen) < 4 and time.monotonic() < deadline and proc.poll() is None:
            seen = leftovers.tagged_processes(tag)
            time.sleep(0.02)
        assert len(seen) >= 4, f"expected the parent and 3 workers, the scan found {seen}"
        assert proc.wait(timeout=30) == 0
        procs, _ = leftovers.left_behind(set(), tag)
        assert procs == []
    finally:
        proc.kill()
        proc.wait()
        leftovers.kill_all(leftovers.tagged_processes(tag))


@pytest.mark.parametrize("millis", [0, 10, 200])
@pytest.mark.parametrize("workers", range(1, 8))
@pytest.mark.parametrize("model,variant", CANCEL_VARIANTS, ids=[f"{m}-{v}" for m, v in CANCEL_VARIANTS])
def test_cancel_stops_every_worker_and_leaves_nothing(model, variant, workers, millis):
    need(model, "cancel")
    if model == "mpi" and workers > MAX_RANKS:
        pytest.skip(f"SUITE_MAX_RANKS={MAX_RANKS}")
    tag = uuid.uuid4().hex
    children_before = my_children()
    assert leftovers.tagged_processes(tag) == []
    r = run(model, "cancel", ["-n", millis, "--variant", variant, "--quiet",
                              *workers_args(model, workers)],
            np=workers, timeout=60, env={leftovers.TAG_VAR: tag})
    procs, _ = leftovers.left_behind(set(), tag)  # waits a moment for stragglers to go
    leftovers.kill_all(procs)
    assert procs == [], f"left running: {procs}\n" + r.describe()
    assert my_children() <= children_before, "this test process gained a child\n" + r.describe()

    assert r.returncode == 0, r.describe()
    res = r.result
    assert res.get("status") == "PASS", r.describe()
    assert (int(res["workers"]), int(res["n"])) == (workers, millis)
    assert int(res["stopped"]) == workers
    latency, elapsed = float(res["stop_latency_s"]), float(res["elapsed_s"])
    assert 0.0 <= latency <= elapsed + 1e-6, r.describe()
    assert elapsed >= millis / 1000 - 1e-6, "the workers must run -n ms before the stop\n" + r.describe()


def test_omp_cancel_turns_cancellation_on_and_says_so():
    need("omp", "cancel")
    off = run("omp", "cancel", ["-n", "1"], env={"OMP_CANCELLATION": None})
    assert off.returncode == 0, off.describe()
    assert "running again with OMP_CANCELLATION=true" in off.stdout
    assert off.stdout.count("starting ") == 1, "the first start printed nothing else\n" + off.describe()
    quiet = run("omp", "cancel", ["-n", "1", "--quiet"], env={"OMP_CANCELLATION": None})
    assert quiet.returncode == 0 and "OMP_CANCELLATION" not in quiet.stdout, quiet.describe()
    on = run("omp", "cancel", ["-n", "1"], env={"OMP_CANCELLATION": "true"})
    assert on.returncode == 0 and "OMP_CANCELLATION" not in on.stdout, on.describe()
    flag = run("omp", "cancel", ["-n", "1", "--variant", "flag"], env={"OMP_CANCELLATION": None})
    assert flag.returncode == 0 and "OMP_CANCELLATION" not in flag.stdout, flag.describe()


def test_omp_cancel_reruns_itself_under_valgrind():
    """The re-run that turns cancellation on must start this program, not the tool: under
    valgrind the link /proc/self/exe is valgrind's tool ("You cannot run ... directly")."""
    need("omp", "cancel")
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        pytest.skip("valgrind not installed (make deps)")
    exe = program("omp", "cancel")
    if b"__asan_init" in exe.read_bytes():
        pytest.skip("sanitized build: valgrind and AddressSanitizer exclude each other")
    env = {k: v for k, v in os.environ.items() if k != "OMP_CANCELLATION"}
    env["OMP_WAIT_POLICY"] = "passive"  # valgrind runs one thread at a time: no spinning
    r = subprocess.run([valgrind, "--error-exitcode=9", str(exe), "--variant", "cancel", "-n", "10"],
                       capture_output=True, text=True, timeout=180, env=env,
                       stdin=subprocess.DEVNULL)
    shown = f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr[-3000:]}"
    assert r.returncode == 0, shown
    assert "running again with OMP_CANCELLATION=true" in r.stdout, shown
    assert "status=PASS" in r.stdout.splitlines()[-1], shown


def test_omp_cancel_reruns_itself_under_gdb():
    need("omp", "cancel")
    gdb = shutil.which("gdb")
    if gdb is None:
        pytest.skip("gdb not installed")
    env = {k: v for k, v in os.environ.items() if k != "OMP_CANCELLATION"}
    # LeakSanitizer cannot run under ptrace: a sanitized build checks its leaks elsewhere
    env["ASAN_OPTIONS"] = "abort_on_error=0:detect_leaks=0"
    r = subprocess.run([gdb, "-q", "-batch", "-nx", "-ex", "run", "--args",
                        str(program("omp", "cancel")), "-n", "10", "--quiet"],
                       capture_output=True, text=True, timeout=120, env=env,
                       stdin=subprocess.DEVNULL)
    shown = f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr[-3000:]}"
    if "ptrace" in r.stderr and "not permitted" in r.stderr.lower():
        pytest.skip("gdb may not trace here\n" + shown)
    assert "exited normally" in r.stdout, shown
    assert "status=PASS" in r.stdout, shown


# What a worker writes once it has left its loop: the record the stopped count is made of.
OWN_RECORD = "mine->stopped = 1;"


def build_without_own_records(model, tmp_path):
    """The model's cancel.c with every worker's own record of its stop deleted, compiled."""
    source = (ROOT / model / "cancel.c").read_text()
    assert OWN_RECORD in source, f"{model}/cancel.c: no worker records its own stop ({OWN_RECORD})"
    mutated = tmp_path / "cancel.c"
    mutated.write_text(source.replace(OWN_RECORD, ";"))
    compiler = os.environ.get("MPICC", "mpicc") if model == "mpi" else os.environ.get("CC", "cc")
    binary = tmp_path / "cancel"
    subprocess.run([compiler, "-std=c11", "-O2", "-fopenmp", "-I", str(ROOT / model), "-o",
                    str(binary), str(mutated), str(ROOT / "common" / "harness.c"),
                    str(ROOT / "common" / "trace.c"),
                    *([str(ROOT / "common" / "mpi_harness.c")] if model == "mpi" else [])],
                   check=True, capture_output=True)
    return binary


@pytest.mark.parametrize("model,variant", [("omp", "cancel"), ("omp", "flag"), ("mpi", "message")])
def test_cancel_counts_only_workers_that_recorded_their_stop(model, variant, tmp_path):
    """The check can fail: a worker that did not record its own stop is not counted, so deleting
    the workers' records turns a run into FAIL (exit 1), where a count taken at the region's end
    (every worker that started) would still say PASS."""
    need(model, "cancel")
    binary = build_without_own_records(model, tmp_path)
    env = dict(os.environ, OMP_CANCELLATION="true", **(MPI_ENV if model == "mpi" else {}))
    cmd = [str(binary), "-n", "10", "--variant", variant]
    cmd = [MPIRUN, "-np", "2", *cmd] if model == "mpi" else [*cmd, "-w", "2"]
    r = run_bounded(cmd, load_scaled(60), env=env)
    shown = f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr[-2000:]}"
    assert r.returncode == 1, shown
    assert "status=FAIL" in r.stdout and "stopped=0" in r.stdout, shown


# ---------------------------------------------------------------- shared_array

def python_list(values):
    return "[" + ", ".join(f"{v:.1f}" for v in values) + "]"


@pytest.mark.parametrize("model,variant", SHARED_VARIANTS, ids=[f"{m}-{v}" for m, v in SHARED_VARIANTS])
def test_shared_array_delay_pauses_inside_the_step(model, variant):
    need(model, "shared_array")
    n, workers, delay_ms = 3, min(3, MAX_RANKS) if model == "mpi" else 3, 20
    r = run(model, "shared_array", ["-n", n, "--variant", variant, "--delay-ms", delay_ms,
                                    *workers_args(model, workers)], np=workers, timeout=120)
    assert r.returncode == 0, r.describe()
    res = r.result
    assert res.get("status") == "PASS", r.describe()
    CONCEPTS["shared_array"].verify(res, n, workers, model, variant)
    added = 0 if variant == "private" else workers
    assert f"array at the end is {python_list(100 * i + added for i in range(n))}" in r.lines, \
        r.describe()
    # Lower bounds only (sleeps never end early); 0.9 allows the timer start of MPI programs,
    # which rank 0 takes just after the barrier that releases the other ranks too.
    pauses = n * delay_ms / 1000 * (workers if (model, variant) in LOCKED else 1)
    assert float(res["elapsed_s"]) >= 0.9 * pauses, r.describe()


@pytest.mark.parametrize("n,workers", [(3, 2), (3, 7), (100000, 4)])
def test_private_leaves_the_parents_array_unchanged(n, workers):
    need("posix", "shared_array")
    r = run("posix", "shared_array", ["--variant", "private", "-n", n, "-w", workers])
    assert r.returncode == 0, r.describe()
    base = 100 * n * (n - 1) // 2
    assert float(r.result["expected"]) == float(r.result["checksum"]) == base
    if n == 3:
        assert "array at the beginning is [0.0, 100.0, 200.0]" in r.lines
        assert "array at the end is [0.0, 100.0, 200.0]" in r.lines, r.describe()
    # the same run with shared memory does see every worker's additions
    shared = run("posix", "shared_array", ["--variant", "process", "-n", n, "-w", workers, "--quiet"])
    assert float(shared.result["checksum"]) == base + workers * n, shared.describe()


WINDOW_CREATION = re.compile(r"\bMPI_Win_(?:allocate_shared|allocate|create_dynamic|create)\s*\(")
NEXT_CALL = re.compile(r"\b(?:MPI_\w+|window_errors_return)\s*\(")


def test_every_shared_array_window_returns_its_errors():
    """A window starts with MPI_ERRORS_ARE_FATAL whatever its communicator has, so an MPI_CHECK
    on a window call could never fire: the call right after each creation must be
    window_errors_return on that window."""
    source = (ROOT / "mpi" / "shared_array.c").read_text()
    creations = list(WINDOW_CREATION.finditer(source))
    assert len(creations) >= 2, "accumulate and shm each create a window"
    for creation in creations:
        statement_end = source.index(";", creation.end())
        window = re.findall(r"&([\w>.-]+)\)", source[creation.end():statement_end])[-1]
        following = NEXT_CALL.search(source, statement_end)
        line = source.count("\n", 0, creation.start()) + 1
        assert following and following.group().startswith("window_errors_return"), \
            f"mpi/shared_array.c:{line}: {creation.group()} is not followed by window_errors_return"
        call_end = source.index(";", following.end())
        assert source[following.end():call_end].strip().rstrip(")").strip() == window, \
            f"mpi/shared_array.c:{line}: window_errors_return is not given {window}"
