"""Every posix and omp program, every variant, under valgrind memcheck at a small size.

Pass means: the run verifies as usual, memcheck reports no error (invalid read or write, use of
an uninitialised value, bad free, fd or syscall misuse) and no definitely lost block.
--trace-children=yes follows forked workers too (a child leaves by _exit, so what it still holds
is not a leak; only "definitely lost" counts, which _exit does not change).

OpenMP needs no suppressions with gcc's libgomp: its thread pool stays allocated until exit and
shows as "still reachable" or "possibly lost" (thread stacks), never "definitely lost".
OMP_WAIT_POLICY=passive makes idle threads sleep instead of spin: memcheck runs one thread at a
time, so a spinning thread would burn its whole time slice (10x slower runs).
Sanitized builds (make sanitize) are skipped: valgrind cannot run ASan binaries.
"""
import shutil
import subprocess

import pytest

from concepts import CONCEPTS
from suite import ROOT, program

MODELS = ("posix", "omp")
PRESENT = [(m, c) for c in CONCEPTS for m in MODELS if (ROOT / m / f"{c}.c").exists()]
VALGRIND = shutil.which("valgrind")
ERROR_EXIT = 99  # memcheck's exit status when it found something

VALGRIND_ARGS = ["--tool=memcheck", f"--error-exitcode={ERROR_EXIT}", "--leak-check=full",
                 "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
                 "--trace-children=yes", "--track-fds=no", "--quiet"]


def small_n(concept):
    """The smallest non-zero size of the concept's matrix: enough to run every code path."""
    return min((n for n in concept.sizes if n > 0), default=1)


def cases():
    for model, name in PRESENT:
        for variant in CONCEPTS[name].variants[model]:
            yield pytest.param(model, name, variant, id=f"{model}-{name}-{variant}")


@pytest.mark.skipif(VALGRIND is None, reason="valgrind not installed (make deps)")
@pytest.mark.parametrize("model,name,variant", list(cases()))
def test_memcheck_clean(model, name, variant):
    exe = program(model, name)
    if not exe.exists():
        pytest.skip(f"{model}/{name} is not built")
    if b"__asan_init" in exe.read_bytes():
        pytest.skip("sanitized build: valgrind and AddressSanitizer exclude each other")
    concept = CONCEPTS[name]
    n = small_n(concept)
    cmd = [VALGRIND, *VALGRIND_ARGS, str(exe), "-n", str(n), "-w", "2", "--variant", variant,
           "--quiet", *concept.args]
    # omp/cancel re-executes /proc/self/exe to turn cancellation on, which under valgrind is
    # valgrind's tool binary, not the program: give it the setting up front instead.
    env = {"OMP_WAIT_POLICY": "passive", "OMP_CANCELLATION": "true", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL, env=env)
    report = f"$ {' '.join(cmd)}\nexit {proc.returncode}\n--- stdout\n{proc.stdout[-1500:]}" \
             f"\n--- valgrind / stderr\n{proc.stderr[-4000:]}"
    assert proc.returncode != ERROR_EXIT, "memcheck found errors or definite leaks\n" + report
    assert proc.returncode == 0, report
    assert "status=PASS" in proc.stdout.splitlines()[-1], report
