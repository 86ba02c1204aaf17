"""Fault injection: what each program does when a worker dies, when it is told to stop, and when
the system refuses a process, a thread or memory (CONTRACT "Exit status").

  kill -9 of a worker mid-run   every process variant: the parent exits 3 naming the worker,
                                no hang, nothing left (processes, /dev/shm, /dev/mqueue)
  SIGINT / SIGTERM to a parent  every program, every variant: it ends, and its children and
                                shared segments go with it (signal sent to the parent alone,
                                as `kill PID` does; Ctrl-C would reach the whole group)
  RLIMIT_NPROC (ulimit -u)      as user nobody (root ignores the limit): fork or pthread_create
                                fails -> exit 3 naming the call
  RLIMIT_AS (ulimit -v)         programs whose memory grows with -n: malloc fails -> exit 3
  an MPI rank killed            mpirun ends the job with an error, no rank and no segment stays

Every wait is bounded: a hang fails the test, and whatever is still running is killed.
Each test tags its programs' environment (tests/leftovers.py) so orphans are found precisely.
"""
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import leftovers
from suite import MODELS, MPI_ENV, MPIRUN, ROOT, SANITIZER_ENV, have_mpi, load_scaled, program
from concepts import CONCEPTS

PRESENT = [(m, c) for c in CONCEPTS for m in MODELS if (ROOT / m / f"{c}.c").exists()]

# Arguments that keep each concept busy for several seconds, so a fault lands mid-run.
# (A concept missing here is skipped with a note: add its row when it lands.)
LONG_ARGS = {
    "spawn": ["-n", "10000000000"],
    "race": ["-n", "1000", "--delay-ms", "10"],
    "counter": ["-n", "1000", "--delay-ms", "10"],
    "queue": ["-n", "100000000"],
    "shared_array": ["-n", "100", "--delay-ms", "50"],
    "producers": ["-n", "20000000"],  # omp's ring ran 5*10^6 values before the signal came
    "pool_cube": ["-n", "200000000"],
    "cancel": ["-n", "8000"],
}
MPI_LONG_ARGS = dict(LONG_ARGS, pool_cube=["-n", "300000000"])

# Variants whose workers are processes of their own (CONTRACT variant table).
PROCESS_VARIANTS = {
    "spawn": ["process"], "race": ["process"], "counter": ["process"],
    "shared_array": ["process", "private"], "producers": ["pipe", "mqueue"],
    "pool_cube": ["process"], "cancel": ["process"],
}

# Concepts whose memory grows with -n, and an -n that cannot fit in MEMORY_LIMIT.
MEMORY_HEAVY = {"pool_cube": 1000000000, "shared_array": 10000000, "queue": 100000000,
                "producers": 100000000}
MEMORY_LIMIT = 64 << 20

NOBODY = 65534
FINISH_TIMEOUT = 60   # seconds (load_scaled) a program gets to end after a fault before it counts as a hang
START_TIMEOUT = 15    # seconds (load_scaled) to wait for the workers to appear


def sanitized(model, concept):
    """ASan builds reserve terabytes of address space and run slower: some faults do not apply."""
    return b"__asan_init" in program(model, concept).read_bytes()


def need_built(model, concept):
    if not program(model, concept).exists():
        pytest.skip(f"{model}/{concept} is not built")


def default_signals(then=None):
    """In the child before exec: SIGINT and SIGTERM back to their default action. A shell starts a
    background job (make test &, a CI script's job) with SIGINT ignored, exec keeps it ignored, and
    a program then rightly ignores it too: every SIGINT case would see the run finish instead."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if then:
        then()


class Started:
    """A program started in its own session, output in files (no pipe can fill and block it)."""

    def __init__(self, model, concept, args, np=2, preexec=None, env=None, exe=None, cwd=None):
        self.tag = uuid.uuid4().hex
        self.model, self.concept = model, concept
        cmd = [str(exe or program(model, concept)), *map(str, args)]
        full_env = dict(os.environ, **SANITIZER_ENV)
        full_env[leftovers.TAG_VAR] = self.tag
        if model == "mpi":
            cmd = [MPIRUN, "-np", str(np), *cmd]
            full_env.update(MPI_ENV)
        full_env.update(env or {})
        self.cmd = cmd
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.ipc_before = leftovers.ipc_entries()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.err, env=full_env, start_new_session=True,
                                     preexec_fn=lambda: default_signals(preexec), cwd=cwd)
        self.pid = self.proc.pid

    def children(self, pid=None):
        pid = pid or self.pid
        kids = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    kids += [int(k) for k in f.read().split()]
        except OSError:
            pass
        return kids

    def wait_children(self, count=1, pid=None, want=None):
        """Children of pid (default: the program) once at least count exist; [] on time-out."""
        deadline = time.monotonic() + load_scaled(START_TIMEOUT)
        while time.monotonic() < deadline and self.proc.poll() is None:
            kids = [k for k in self.children(pid) if want is None or want(k)]
            if len(kids) >= count:
                return kids
            time.sleep(0.02)
        return []

    def finish(self, timeout=FINISH_TIMEOUT):
        """(returncode, stdout, stderr); a hang kills the whole session and fails."""
        timeout = load_scaled(timeout)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.cleanup()
            pytest.fail(f"hang: {' '.join(self.cmd)} still running {timeout:.0f} s after the fault")
        self.out.seek(0)
        self.err.seek(0)
        return code, self.out.read().decode(errors="replace"), self.err.read().decode(errors="replace")

    def describe(self, code, out, err):
        return f"$ {' '.join(self.cmd)}\nexit {code}\n--- stdout\n{out[-1500:]}\n--- stderr\n{err[-1500:]}"

    def cleanup(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        leftovers.kill_all(leftovers.tagged_processes(self.tag))
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def assert_nothing_left(self, what):
        procs, names = leftovers.left_behind(self.ipc_before, self.tag)
        leftovers.kill_all(procs)
        problems = [f"process {pid} still running: {cmd}" for pid, cmd in procs]
        problems += [f"{name} left behind" for name in names]
        # (pytest runs tests side by side: an entry another test's live process maps or owns is
        # not counted, but one another test's run leaves behind shows here too)
        assert not problems, f"after {what}: " + "; ".join(problems)


def process_cases():
    for model, concept in PRESENT:
        if model == "posix":
            for variant in PROCESS_VARIANTS.get(concept, []):
                if variant in CONCEPTS[concept].variants["posix"]:
                    yield pytest.param(concept, variant, id=f"posix-{concept}-{variant}")


@pytest.mark.parametrize("concept,variant", list(process_cases()))
def test_kill_worker_mid_run(concept, variant):
    """kill -9 one worker: the parent notices, reports exit 3 naming the worker, leaves nothing."""
    need_built("posix", concept)
    run = Started("posix", concept, [*LONG_ARGS[concept], "--variant", variant, "-w", 2, "--quiet"])
    try:
        workers = run.wait_children()
        assert workers, f"no worker process appeared within {START_TIMEOUT} s: {' '.join(run.cmd)}"
        time.sleep(0.2)  # let the work get going
        victim = workers[-1]
        os.kill(victim, signal.SIGKILL)
        code, out, err = run.finish()
        assert code == 3, run.describe(code, out, err)
        assert "RESULT" not in out or "status=PASS" not in out, run.describe(code, out, err)
        assert f"posix/{concept}:" in err and ("kill" in err or "signal" in err), \
            "stderr should name the dead worker\n" + run.describe(code, out, err)
        run.assert_nothing_left(f"kill -9 of worker {victim}")
    finally:
        run.cleanup()


def signal_cases():
    for model, concept in PRESENT:
        for variant in CONCEPTS[concept].variants[model]:
            for sig in ("SIGINT", "SIGTERM"):
                yield pytest.param(model, concept, variant, sig, id=f"{model}-{concept}-{variant}-{sig}")


@pytest.mark.parametrize("model,concept,variant,sig", list(signal_cases()))
def test_signal_to_parent(model, concept, variant, sig):
    """SIGINT/SIGTERM to the parent alone: it ends and takes its children and segments along."""
    need_built(model, concept)
    if model == "mpi" and not have_mpi():
        pytest.skip("no mpirun")
    workers = ["-w", 2] if model != "mpi" else []
    args = (MPI_LONG_ARGS if model == "mpi" else LONG_ARGS)[concept]
    run = Started(model, concept, [*args, "--variant", variant, *workers, "--quiet"], np=2)
    try:
        if model == "mpi":
            ranks = run.wait_children(2)  # mpirun's children are the ranks
            assert ranks, f"ranks did not start within {START_TIMEOUT} s"
            leftovers.wait_past_mpi_init(ranks, load_scaled(START_TIMEOUT))
        else:
            # processes or threads: wait for either. A program may start a helper thread (a
            # watchdog) before it forks, so threads alone count only after a second without
            # children: then the workers are the threads.
            deadline = time.monotonic() + START_TIMEOUT
            threads_since = None
            while time.monotonic() < deadline and run.proc.poll() is None:
                if run.children():
                    break
                try:
                    threaded = len(os.listdir(f"/proc/{run.pid}/task")) > 1
                except OSError:
                    threaded = False
                if threaded and threads_since is None:
                    threads_since = time.monotonic()
                if threads_since is not None and time.monotonic() - threads_since > 1.0:
                    break
                time.sleep(0.02)
        time.sleep(0.3)
        assert run.proc.poll() is None, "finished before the signal: make LONG_ARGS longer"
        os.kill(run.pid, getattr(signal, sig))
        code, out, err = run.finish()
        # The documented status (README, "Faults"): a program ends by the signal itself, as a
        # shell shows it (128 + N); mpirun ends with its own status, 1, after ending the ranks.
        expected = 1 if model == "mpi" else -getattr(signal, sig)
        if model == "mpi" and code == -signal.SIGSEGV and "PMIx_server_finalize" in err:
            # Open MPI 4.1's mpirun itself crashed in its PMIx shutdown after passing the signal
            # on (seen once in make sanitize, its stack in PMIx_server_finalize): mpirun's bug,
            # not the program's. What the program owes, ranks ended and nothing left, is checked.
            pass
        else:
            assert code == expected, f"{sig}: expected status {expected}\n" + run.describe(code, out, err)
        run.assert_nothing_left(f"{sig} to {model}/{concept} --variant {variant}")
    finally:
        run.cleanup()


def as_nobody_with_nproc(limit):
    def preexec():
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
    return preexec


def copy_for_nobody(model, concept):
    """A copy of the program in a fresh folder that user nobody can reach and run.

    The checkout may sit where nobody cannot go: root's home is 0700 on Debian and in most
    containers, where TAs work as root. The binaries need nothing else from the checkout."""
    folder = Path(tempfile.mkdtemp(prefix=f"suite-nobody-{model}-{concept}-"))
    folder.chmod(0o755)
    exe = folder / concept
    shutil.copy2(program(model, concept), exe)
    exe.chmod(0o755)
    return folder, exe


def nproc_cases():
    for model, concept in PRESENT:
        if model != "mpi":
            for variant in CONCEPTS[concept].variants[model]:
                yield pytest.param(model, concept, variant, id=f"{model}-{concept}-{variant}")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the program as user nobody")
@pytest.mark.parametrize("model,concept,variant", list(nproc_cases()))
def test_nproc_limit_refuses_workers(model, concept, variant):
    """ulimit -u: no new process or thread for this user, so fork/pthread_create must fail."""
    need_built(model, concept)
    if not os.access(program(model, concept), os.X_OK):
        pytest.skip("binary not executable")
    # nobody's limit counts nobody's processes machine-wide; 1 leaves room for the program only
    # LeakSanitizer's exit-time check starts a thread of its own, which this limit refuses
    # ("LeakSanitizer has encountered a fatal error", exit 1): leaks are checked everywhere else.
    env = {"ASAN_OPTIONS": "abort_on_error=0:detect_leaks=0"} if sanitized(model, concept) else {}
    folder, exe = copy_for_nobody(model, concept)
    run = Started(model, concept, ["-n", 3, "--variant", variant, "-w", 2, "--quiet",
                                   *(["--delay-ms", 0] if CONCEPTS[concept].args else [])],
                  preexec=as_nobody_with_nproc(1), env=env, exe=exe, cwd=folder)
    try:
        code, out, err = run.finish()
        if model == "omp":
            # OpenMP gives a program no way to see a failed thread start: libgomp prints
            # "libgomp: Thread creation failed: <strerror>" and calls exit(1) itself (libomp:
            # "OMP: Error #34" and abort). What we can hold it to: it fails, says why, no hang.
            assert code != 0 and "status=PASS" not in out, run.describe(code, out, err)
            assert "hread creation failed" in err or "OMP: Error" in err or code == 3, \
                run.describe(code, out, err)
        else:
            assert code == 3, run.describe(code, out, err)
            # timer_create: the harness's watchdog (SIGEV_THREAD) starts a thread of its own,
            # refused by the same limit before any worker starts
            assert any(f"{call} failed" in err for call in ("fork", "pthread_create", "timer_create")), \
                "stderr should name the call\n" + run.describe(code, out, err)
        run.assert_nothing_left("RLIMIT_NPROC")
    finally:
        run.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def memory_cases():
    for model, concept in PRESENT:
        if model != "mpi" and concept in MEMORY_HEAVY:
            for variant in CONCEPTS[concept].variants[model]:
                yield pytest.param(model, concept, variant, id=f"{model}-{concept}-{variant}")


@pytest.mark.parametrize("model,concept,variant", list(memory_cases()))
def test_address_space_limit_fails_malloc(model, concept, variant):
    """ulimit -v: the big allocation fails; exit 3 naming the call, never a crash or a hang."""
    need_built(model, concept)
    if sanitized(model, concept):
        pytest.skip("AddressSanitizer reserves its shadow memory: RLIMIT_AS cannot apply")

    def preexec():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    run = Started(model, concept, ["-n", MEMORY_HEAVY[concept], "--variant", variant, "-w", 1,
                                   "--quiet"], preexec=preexec)
    try:
        code, out, err = run.finish(timeout=60)
        assert code == 3, run.describe(code, out, err)
        named = ("malloc", "calloc", "mmap", "realloc", "pthread_create", "fork")
        assert any(f"{c}" in err for c in named) and "failed" in err, \
            "stderr should name the call that failed\n" + run.describe(code, out, err)
        run.assert_nothing_left("RLIMIT_AS")
    finally:
        run.cleanup()


def mpi_cases():
    for model, concept in PRESENT:
        if model == "mpi":
            yield pytest.param(concept, id=f"mpi-{concept}")


@pytest.mark.skipif(not have_mpi(), reason="no mpirun")
@pytest.mark.parametrize("concept", list(mpi_cases()))
def test_mpi_rank_killed(concept):
    """kill -9 of rank 1 mid-run: mpirun ends the job with an error; no rank, no segment stays."""
    need_built("mpi", concept)
    exe = os.path.realpath(program("mpi", concept))

    def is_rank(pid):
        try:
            return os.path.realpath(f"/proc/{pid}/exe") == exe
        except OSError:
            return False

    run = Started("mpi", concept, [*MPI_LONG_ARGS[concept], "--quiet"], np=3)
    try:
        ranks = run.wait_children(3, want=is_rank)
        assert ranks, f"3 ranks did not start within {START_TIMEOUT} s: {' '.join(run.cmd)}"
        leftovers.wait_past_mpi_init(ranks, load_scaled(START_TIMEOUT))
        time.sleep(0.5)  # into the work
        os.kill(sorted(ranks)[1], signal.SIGKILL)
        code, out, err = run.finish()
        assert code not in (0, 2), run.describe(code, out, err)  # 2 would be a usage error
        assert "status=PASS" not in out, run.describe(code, out, err)
        run.assert_nothing_left("kill -9 of an MPI rank")
    finally:
        run.cleanup()
