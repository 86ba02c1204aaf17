"""make check-races: ThreadSanitizer must flag every race variant and pass every other thread variant.

The programs are built by `make check-races` with clang, libomp and -fsanitize=thread into
build/tsan/ (SUITE_TSAN_DIR points here); outside that target these tests are skipped. A
TSan report makes a program exit 66 (TSAN_OPTIONS below), and the report must name race.c, so
a race found in the harness or the runtime would not count. ignore_noninstrumented_modules=1
keeps TSan from reporting inside libraries it did not instrument; libomp's Archer tool (loaded
by itself) tells TSan about OpenMP's barriers and locks, so correct OpenMP code stays clean.

Every thread-based program and variant is run (not only race and counter): a lock, an atomic or a
reduction removed anywhere is a reported race here, whatever the matrix's timing shows. No libomp
report has needed a suppression with clang + libomp + Archer except one, omp queue's tasks
(TSAN_FALSE_REPORT below says why it is skipped instead); gcc's libgomp, not used here, gives many
more false reports (RECIPES).

Variants that use fork() are outside TSan's reach (it watches the threads of one process, not
memory shared between processes): they are listed as skipped, with the reason.
"""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TSAN_DIR = os.environ.get("SUITE_TSAN_DIR")
TSAN_EXIT = 66
TSAN_ENV = {"TSAN_OPTIONS": f"ignore_noninstrumented_modules=1:exitcode={TSAN_EXIT}"}

# (model, concept, variant, uses fork)
RACES = [("posix", "race", "thread", False), ("posix", "race", "process", True),
         ("omp", "race", "parallel", False)]
COUNTERS = [("posix", "counter", v, v == "process") for v in ("mutex", "spin", "atomic", "process")]
COUNTERS += [("omp", "counter", v, False) for v in ("critical", "atomic", "lock", "reduction")]

# Each program runs with the notebook's defaults and with more workers, and without the pause.
RACE_ARGS = [[], ["-w", "4", "-n", "100", "--delay-ms", "0"]]
COUNTER_ARGS = [["-w", "2"], ["-w", "4", "-n", "1000"], ["-w", "3", "-n", "3", "--delay-ms", "1"]]

# Every other thread-based program: (model, concept, variants that run on threads, arguments).
OTHERS = [
    ("posix", "spawn", ["thread"], ["-n", "1000"]),
    ("posix", "queue", ["thread"], ["-n", "300"]),
    ("posix", "shared_array", ["thread"], ["-n", "50", "--delay-ms", "0"]),
    ("posix", "producers", ["thread"], ["-n", "300"]),
    ("posix", "pool_cube", ["thread"], ["-n", "5000"]),
    ("posix", "cancel", ["thread"], ["-n", "30"]),
    ("omp", "spawn", ["parallel"], ["-n", "1000"]),
    ("omp", "queue", ["tasks", "locked"], ["-n", "300"]),
    ("omp", "shared_array", ["atomic", "critical", "reduction"], ["-n", "50", "--delay-ms", "0"]),
    ("omp", "producers", ["locked"], ["-n", "300"]),
    ("omp", "pool_cube", ["static", "dynamic", "guided"], ["-n", "5000"]),
    ("omp", "cancel", ["cancel", "flag"], ["-n", "30"]),
]

pytestmark = pytest.mark.skipif(TSAN_DIR is None, reason="run by make check-races (TSan build)")


def run_tsan(model, concept, variant, args):
    exe = ROOT / TSAN_DIR / model / concept
    assert exe.exists(), f"{exe} is not built (make check-races builds it)"
    env = dict(os.environ, **TSAN_ENV)
    env.pop("OMP_NUM_THREADS", None)
    cmd = [str(exe), "--variant", variant, "--quiet", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)
    return cmd, proc


def describe(cmd, proc):
    return (f"$ {' '.join(cmd)}\nexit {proc.returncode}\n--- stdout\n{proc.stdout[-1000:]}"
            f"\n--- stderr\n{proc.stderr[-3000:]}")


def cases(programs, arg_sets):
    for model, concept, variant, uses_fork in programs:
        for args in arg_sets:
            marks = [pytest.mark.skip(reason="fork(): processes sharing memory are outside "
                                             "TSan's reach")] if uses_fork else []
            yield pytest.param(model, concept, variant, args, marks=marks,
                               id=f"{model}-{concept}-{variant}-{'_'.join(args) or 'defaults'}")


@pytest.mark.parametrize("model,concept,variant,args", list(cases(RACES, RACE_ARGS)))
def test_race_is_reported(model, concept, variant, args):
    cmd, proc = run_tsan(model, concept, variant, args)
    assert proc.returncode == TSAN_EXIT, "TSan did not flag the race\n" + describe(cmd, proc)
    assert "WARNING: ThreadSanitizer: data race" in proc.stderr, describe(cmd, proc)
    assert f"{concept}.c" in proc.stderr, "the report does not point into race.c\n" + describe(cmd, proc)
    assert "status=PASS" in proc.stdout, describe(cmd, proc)  # the demonstration itself ran


@pytest.mark.parametrize("model,concept,variant,args", list(cases(COUNTERS, COUNTER_ARGS)))
def test_counter_is_clean(model, concept, variant, args):
    cmd, proc = run_tsan(model, concept, variant, args)
    assert "ThreadSanitizer" not in proc.stderr, "TSan flagged a counter\n" + describe(cmd, proc)
    assert proc.returncode == 0, describe(cmd, proc)
    assert "status=PASS" in proc.stdout, describe(cmd, proc)


# The one false report seen (about 1 run in 25): libomp 14 keeps a finished task's memory and hands
# it to the next task the creating thread makes, synchronising inside libomp, which TSan does not
# see; the new task's firstprivate copy is then reported against the old task's read of its own
# copy (both at omp/queue.c's task construct). No suppression can name it without also hiding a
# real race between two task bodies (the same frames), which is the lab's mistake to catch, so
# the variant is listed here as skipped, with this reason. Archer's task tracking in later LLVM
# releases (ARCHER_OPTIONS=tasking=1) follows task memory; Debian 12's LLVM 14 has no such option.
TSAN_FALSE_REPORT = {("omp", "queue", "tasks"): "libomp 14 recycles task memory behind TSan's "
                                                 "back: a false report about 1 run in 25"}


def other_cases():
    for model, concept, variants, args in OTHERS:
        for variant in variants:
            reason = TSAN_FALSE_REPORT.get((model, concept, variant))
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            for workers in ("2", "4"):
                yield pytest.param(model, concept, variant, ["-w", workers, *args], marks=marks,
                                   id=f"{model}-{concept}-{variant}-w{workers}")


@pytest.mark.parametrize("model,concept,variant,args", list(other_cases()))
def test_thread_variant_is_clean(model, concept, variant, args):
    cmd, proc = run_tsan(model, concept, variant, args)
    assert "ThreadSanitizer" not in proc.stderr, "TSan flagged a correct program\n" + describe(cmd, proc)
    assert proc.returncode == 0, describe(cmd, proc)
    assert "status=PASS" in proc.stdout, describe(cmd, proc)
