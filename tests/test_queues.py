"""queue and producers: what the generic matrix cannot say.

  stress      10^6 items through every variant: nothing lost, nothing twice (the programs check
              exactly-once themselves; the closed forms of concepts.py check them again)
  workers     mpi queue: rank 0 only manages, so workers= counts the other ranks and ranks= all
              of them, and the human summary says the same number
  watchdog    queue built with its task_done lost (one per model): exit 3 within seconds, naming
              what is unfinished, instead of a hang that only the test's timeout ends
  tracing     queue: --trace changes no RESULT key but elapsed_s and who took which item
  order       the default producers run prints every producer's values, each in its own order
  dead        a producer process or an MPI worker rank killed mid-run: the run ends with an
              error (posix: exit 3 naming the worker) and never hangs; the consumer is stopped
              while the kill lands, so the victim is certainly alive and mid-run
  parent      the consumer itself killed with SIGKILL (no handler can run): its producers go too
  leftovers   after every run here, failed ones included: no process of the run still alive,
              no new /dev/shm or /dev/mqueue entry (tests/leftovers.py)
"""
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

import leftovers
from concepts import CONCEPTS
from suite import MPI_ENV, MPIRUN, ROOT, SANITIZER_ENV, build_mutant, have_mpi, parse_result, program

STRESS_ITEMS = 1000000
TIMEOUT = 300  # a 2-core machine shared with other test runs: generous, but a hang still fails
# values per producer that keep a producers run busy for seconds while a test kills a part of it;
# no more: the consumer's log (16 bytes a value) is allocated and written through before they start
BUSY_VALUES = 5000000

POSIX_OMP = [(m, v) for m in ("posix", "omp") for v in CONCEPTS["queue"].variants[m]]
PRODUCER_VARIANTS = [(m, v) for m in ("posix", "omp") for v in CONCEPTS["producers"].variants[m]]


def built(model, concept):
    if not (ROOT / model / f"{concept}.c").exists() or not program(model, concept).exists():
        pytest.skip(f"{model}/{concept} is not built")
    if model == "mpi" and not have_mpi():
        pytest.skip("no mpirun")


class Run:
    """One program started with a tag in its environment, output in files (no pipe to fill)."""

    def __init__(self, model, concept, args, np=2):
        self.tag = uuid.uuid4().hex
        self.cmd = [str(program(model, concept)), *map(str, args)]
        env = dict(os.environ, **SANITIZER_ENV)
        env[leftovers.TAG_VAR] = self.tag
        env.pop("OMP_NUM_THREADS", None)
        if model == "mpi":
            self.cmd = [MPIRUN, "-np", str(np), *self.cmd]
            env.update(MPI_ENV)
        self.out, self.err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        self.before = leftovers.ipc_entries()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.err, env=env, start_new_session=True)

    def finish(self, timeout=TIMEOUT):
        try:
            self.code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_everything()
            pytest.fail(f"hang: {' '.join(self.cmd)} still running after {timeout} s")
        self.out.seek(0)
        self.err.seek(0)
        self.stdout = self.out.read().decode(errors="replace")
        self.stderr = self.err.read().decode(errors="replace")
        self.result = parse_result(self.stdout)
        return self

    def describe(self):
        return (f"$ {' '.join(self.cmd)}\nexit {self.code}\n--- stdout (tail)\n{self.stdout[-1500:]}"
                f"\n--- stderr\n{self.stderr[-1500:]}")

    def processes(self, want=lambda pid: True):
        return [pid for pid, _ in leftovers.tagged_processes(self.tag) if want(pid)]

    def wait_for(self, count, want=lambda pid: True):
        """At least count live processes of this run that want() accepts, or a failure."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            found = self.processes(want)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        self.kill_everything()
        pytest.fail(f"{count} processes did not appear: {' '.join(self.cmd)}")

    def kill_everything(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        leftovers.kill_all(leftovers.tagged_processes(self.tag))
        self.proc.wait(timeout=10)

    def assert_nothing_left(self):
        procs, names = leftovers.left_behind(self.before, self.tag)
        leftovers.kill_all(procs)
        assert not procs, f"processes of the run still alive: {procs}"
        assert not names, f"left behind: {names}"


def run_to_end(model, concept, args, np=2):
    r = Run(model, concept, args, np).finish()
    r.assert_nothing_left()
    return r


def assert_passed(r, concept, n, workers, model):
    assert r.code == 0, r.describe()
    assert r.result.get("status") == "PASS", r.describe()
    CONCEPTS[concept].verify(r.result, n, workers, model, r.result["variant"])


# ---------------------------------------------------------------- stress: 10^6 items

@pytest.mark.parametrize("model,variant", POSIX_OMP, ids=[f"{m}-{v}" for m, v in POSIX_OMP])
def test_queue_stress(model, variant):
    built(model, "queue")
    r = run_to_end(model, "queue", ["-n", STRESS_ITEMS, "-w", 2, "--variant", variant, "--quiet"])
    assert_passed(r, "queue", STRESS_ITEMS, 2, model)


@pytest.mark.parametrize("np", [1, 2, 3])
def test_queue_stress_mpi(np):
    built("mpi", "queue")
    r = run_to_end("mpi", "queue", ["-n", STRESS_ITEMS, "--quiet"], np=np)
    assert_passed(r, "queue", STRESS_ITEMS, max(1, np - 1), "mpi")


# ---------------------------------------------------------------- who counts as a worker

@pytest.mark.parametrize("np", [1, 4])
def test_queue_mpi_manager_is_not_a_worker(np):
    """Rank 0 only hands out items: -np 4 is 3 workers beside 4 ranks, in the RESULT line and in
    the human summary alike; alone, rank 0 does the work (1 worker, 1 rank)."""
    built("mpi", "queue")
    r = run_to_end("mpi", "queue", ["-n", 6], np=np)
    assert_passed(r, "queue", 6, max(1, np - 1), "mpi")
    workers = max(1, np - 1)
    assert (int(r.result["workers"]), int(r.result["ranks"])) == (workers, np), r.describe()
    assert f"{workers} workers processed 6 of 6 items" in r.stdout, r.describe()
    got = [int(line.split()[2]) for line in r.stdout.splitlines() if line.startswith("in worker ")]
    assert len(got) == 6, r.describe()
    assert set(got) <= ({0} if np == 1 else set(range(1, np))), r.describe()  # rank 0 works alone only


# ---------------------------------------------------------------- queue: no hang survives

# The lost task_done, one per model, as a student would write it: posix forgets the call (the
# notebook's `q.task_done` without parentheses), omp locked forgets to give the lock back (the
# other threads wait for it for ever at the region's end), the mpi worker stops reporting the
# items it finished (no ASK after the first: rank 0 waits for one that never comes).
LOST_TASK_DONE = {
    "posix": ("        queue_task_done(queue);\n", "        /* task_done forgotten */\n"),
    "omp": ("    omp_unset_lock(&q->lock);\n", "    /* the lock is never given back */\n"),
    "mpi": ("        MPI_CHECK(MPI_Send(&done_item, 1, MPI_LONG, ROOT_RANK, TAG_ASK",
            "        if (done_item == NOTHING_DONE) MPI_CHECK(MPI_Send(&done_item, 1, MPI_LONG, "
            "ROOT_RANK, TAG_ASK"),
}
# What each watchdog names: the items of a default run (19) and how many were done.
UNFINISHED = {"posix": r"posix/queue: join: 19 tasks put, 0 done after 10 s$",
              "omp": r"omp/queue: join: 1 of 19 items done after 10 s$",
              "mpi": r"mpi/queue: join: \d+ items handed out, 0 done, 2 of 2 workers not stopped "
                     r"after 10 s$"}
# The watchdog's bound for 19 items is 10 s: the run must end well before a test's timeout.
HANG_ENDS_WITHIN_S = 45


@pytest.mark.parametrize("model", ["posix", "omp", "mpi"])
def test_queue_lost_task_done_is_exit_3_in_seconds(model, tmp_path):
    """Without its task_done the join would wait for ever (and a test with it, to its timeout):
    the watchdog ends the run in seconds, exit 3, naming what is unfinished."""
    built(model, "queue")
    binary = build_mutant(model, "queue", *LOST_TASK_DONE[model], tmp_path)
    cmd = [str(binary), "--quiet"] + (["--variant", "locked"] if model == "omp" else [])
    env = dict(os.environ)
    if model == "mpi":
        cmd = [MPIRUN, "-np", "3", *cmd]
        env.update(MPI_ENV)
    started = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=HANG_ENDS_WITHIN_S, env=env,
                       stdin=subprocess.DEVNULL, start_new_session=True)
    took = time.monotonic() - started
    assert r.returncode == 3, f"exit {r.returncode} after {took:.1f} s\n{r.stderr}"
    assert re.search(UNFINISHED[model], r.stderr, re.MULTILINE), r.stderr
    assert "status=PASS" not in r.stdout


# ---------------------------------------------------------------- queue: tracing changes nothing

QUEUE_VARIANTS = [(m, v) for m in ("posix", "omp", "mpi") for v in CONCEPTS["queue"].variants[m]]


@pytest.mark.parametrize("model,variant", QUEUE_VARIANTS, ids=[f"{m}-{v}" for m, v in QUEUE_VARIANTS])
def test_queue_tracing_changes_no_result(model, variant, tmp_path):
    """The same RESULT with and without --trace, apart from elapsed_s and which worker took which
    item (per_worker: its length and sum are the same)."""
    built(model, "queue")
    args = ["-n", 19, "--variant", variant, "--quiet"] + ([] if model == "mpi" else ["-w", 3])
    plain = run_to_end(model, "queue", args, np=3)
    traced = run_to_end(model, "queue", [*args, "--trace", tmp_path / "t.json"], np=3)
    assert (tmp_path / "t.json").exists(), traced.describe()
    for r in (plain, traced):
        assert_passed(r, "queue", 19, 2 if model == "mpi" else 3, model)
    varying = ("elapsed_s", "per_worker")
    assert {k: v for k, v in plain.result.items() if k not in varying} == \
        {k: v for k, v in traced.result.items() if k not in varying}
    counts = [[int(c) for c in r.result["per_worker"].split(",")] for r in (plain, traced)]
    assert [len(c) for c in counts] == [len(counts[0])] * 2 and [sum(c) for c in counts] == [19, 19]


@pytest.mark.parametrize("model,variant", PRODUCER_VARIANTS,
                         ids=[f"{m}-{v}" for m, v in PRODUCER_VARIANTS])
def test_producers_stress(model, variant):
    """2 producers x 5*10^5 values: 10^6 items through one queue, far past any pipe's buffer."""
    built(model, "producers")
    n = STRESS_ITEMS // 2
    r = run_to_end(model, "producers", ["-n", n, "-w", 2, "--variant", variant, "--quiet"])
    assert_passed(r, "producers", n, 2, model)


@pytest.mark.parametrize("np", [1, 2, 3])
def test_producers_stress_mpi(np):
    built("mpi", "producers")
    producers = max(1, np - 1)
    n = STRESS_ITEMS // producers
    r = run_to_end("mpi", "producers", ["-n", n, "--quiet"], np=np)
    assert_passed(r, "producers", n, producers, "mpi")


# ---------------------------------------------------------------- producers: who counts as a worker

PRODUCER_COUNTS = [("posix", v, 3) for v in CONCEPTS["producers"].variants["posix"]] + \
    [("omp", "locked", 3), ("mpi", "send", 1), ("mpi", "send", 4)]


@pytest.mark.parametrize("model,variant,started", PRODUCER_COUNTS,
                         ids=[f"{m}-{v}-{k}" for m, v, k in PRODUCER_COUNTS])
def test_producers_count_the_consumer_apart(model, variant, started):
    """workers= is the producers in every model and consumers=1 the one consumer beside them
    (posix: the main program; omp: thread 0; mpi: rank 0, with ranks= all of them, except a lone
    rank, which produces too); the human summary says the same numbers."""
    built(model, "producers")
    args = ["-n", 6, "--variant", variant] + ([] if model == "mpi" else ["-w", started])
    r = run_to_end(model, "producers", args, np=started)
    producers = max(1, started - 1) if model == "mpi" else started
    assert_passed(r, "producers", 6, producers, model)
    assert (int(r.result["workers"]), int(r.result["consumers"])) == (producers, 1), r.describe()
    summary = f"{producers} producers put 6 values each, 1 consumer received {producers * 6} "
    assert summary in r.stdout, r.describe()
    if model == "mpi":
        assert int(r.result["ranks"]) == started, r.describe()
        assert f"on {started} rank" in r.stdout, r.describe()
    else:
        assert "ranks" not in r.result, r.describe()


# ---------------------------------------------------------------- default output, every producer

def assert_both_producers_in_order(lines, n):
    """Producer 0 squares, producer 1 negates: the sign of a value names its producer."""
    values = [int(line) for line in lines if line.lstrip("-").isdigit()]
    assert [v for v in values if v > 0] == [i * i for i in range(1, n + 1)], values
    assert [v for v in values if v < 0] == [-i for i in range(1, n + 1)], values


@pytest.mark.parametrize("model,variant", PRODUCER_VARIANTS,
                         ids=[f"{m}-{v}" for m, v in PRODUCER_VARIANTS])
def test_producers_default_prints_both_producers_in_order(model, variant):
    built(model, "producers")
    r = run_to_end(model, "producers", ["--variant", variant])
    assert r.code == 0, r.describe()
    assert_both_producers_in_order(r.stdout.splitlines(), 5)


def test_producers_mpi_three_ranks_prints_the_notebook_values():
    built("mpi", "producers")
    r = run_to_end("mpi", "producers", [], np=3)
    assert r.code == 0, r.describe()
    assert_both_producers_in_order(r.stdout.splitlines(), 5)


# ---------------------------------------------------------------- a producer or worker killed

def is_child_of(parent):
    def want(pid):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return int(stat.read().rsplit(")", 1)[1].split()[1]) == parent
        except OSError:
            return False
    return want


@pytest.mark.parametrize("variant", ["pipe", "mqueue"])
def test_killed_producer_is_exit_3(variant):
    """Consumer stopped, one producer killed, consumer resumed: exit 3 naming it, soon."""
    built("posix", "producers")
    r = Run("posix", "producers", ["-n", BUSY_VALUES, "-w", 3, "--variant", variant, "--quiet"])
    producers = r.wait_for(3, is_child_of(r.proc.pid))
    os.kill(r.proc.pid, signal.SIGSTOP)  # the producers fill the queue and wait, alive
    os.kill(producers[1], signal.SIGKILL)
    os.kill(r.proc.pid, signal.SIGCONT)
    r.finish(timeout=60)
    assert r.code == 3, r.describe()
    assert "killed by signal 9" in r.stderr, r.describe()
    assert "status=PASS" not in r.stdout, r.describe()
    r.assert_nothing_left()


@pytest.mark.parametrize("variant", ["pipe", "mqueue"])
def test_killed_consumer_takes_its_producers(variant):
    """SIGKILL of the consumer: the producers blocked on the full queue must not stay forever."""
    built("posix", "producers")
    r = Run("posix", "producers", ["-n", BUSY_VALUES, "-w", 3, "--variant", variant, "--quiet"])
    r.wait_for(3, is_child_of(r.proc.pid))
    os.kill(r.proc.pid, signal.SIGKILL)
    r.finish(timeout=60)
    assert r.code == -signal.SIGKILL, r.describe()
    r.assert_nothing_left()


# values per producer for the watchdog's case: far more than the consumer drains before the
# test stops a producer, and a bound (10 s + 10^-4 s per value) the test can wait for
HUNG_VALUES = 150000  # about a second of work on a quiet machine: the producers are seen before they end


@pytest.mark.parametrize("variant", ["pipe", "mqueue"])
def test_hung_producer_is_exit_3_by_the_watchdog(variant):
    """A producer that hangs (stopped, not dead: no EOF, no exit status) leaves the consumer
    waiting: the watchdog gives up once its bound has passed, exit 3 naming what is unfinished,
    and the stopped producer is gone with the run."""
    built("posix", "producers")
    producers = 2
    bound = 10 + producers * HUNG_VALUES * 1e-4
    r = Run("posix", "producers", ["-n", HUNG_VALUES, "-w", producers, "--variant", variant,
                                   "--quiet"])
    children = r.wait_for(producers, is_child_of(r.proc.pid))
    os.kill(r.proc.pid, signal.SIGSTOP)  # the consumer waits while producer 1 is stopped
    victim = max(children)  # forked second: producer 1
    os.kill(victim, signal.SIGSTOP)
    os.kill(r.proc.pid, signal.SIGCONT)
    started = time.monotonic()
    r.finish(timeout=bound + 60)
    assert r.code == 3, r.describe()
    assert "consumer:" in r.stderr and "producer 1 still running" in r.stderr, r.describe()
    assert f"after {bound:.0f} s" in r.stderr, r.describe()
    assert time.monotonic() - started < bound + 30, r.describe()
    r.assert_nothing_left()


TRACED = [("posix", v, 3) for v in CONCEPTS["producers"].variants["posix"]] + \
    [("omp", "locked", 3), ("mpi", "send", 1), ("mpi", "send", 4)]


@pytest.mark.parametrize("model,variant,started", TRACED,
                         ids=[f"{m}-{v}-{k}" for m, v, k in TRACED])
def test_producers_tracing_changes_no_result(model, variant, started, tmp_path):
    """The same RESULT, elapsed_s aside, with and without --trace."""
    built(model, "producers")
    args = ["-n", 19, "--variant", variant, "--quiet"] + ([] if model == "mpi" else ["-w", started])
    plain = run_to_end(model, "producers", args, np=started)
    traced = run_to_end(model, "producers", [*args, "--trace", tmp_path / "t.json"], np=started)
    assert plain.code == traced.code == 0, plain.describe() + traced.describe()
    drop = lambda result: {k: v for k, v in result.items() if k != "elapsed_s"}
    assert drop(plain.result) == drop(traced.result), plain.describe() + traced.describe()
    assert (tmp_path / "t.json").exists()


def mpi_rank(rank):
    def want(pid):
        try:
            with open(f"/proc/{pid}/environ", "rb") as env:
                fields = env.read().split(b"\0")
        except OSError:
            return False
        return any(f == f"{key}={rank}".encode() for f in fields
                   for key in ("OMPI_COMM_WORLD_RANK", "PMI_RANK"))
    return want


@pytest.mark.parametrize("concept,args", [("queue", ["-n", 100000000]),
                                          ("producers", ["-n", BUSY_VALUES])])
def test_killed_mpi_rank_ends_the_job(concept, args):
    """A worker (queue) or producer (producers) rank killed: the job ends with an error. The exit
    status is mpirun's (Open MPI: 128 + the signal), not the program's: rank 0 is killed too."""
    built("mpi", concept)
    r = Run("mpi", concept, [*args, "--quiet"], np=3)
    victim = r.wait_for(1, mpi_rank(1))[0]
    ranks = r.wait_for(3, lambda pid: any(mpi_rank(k)(pid) for k in range(3)))
    leftovers.wait_past_mpi_init(ranks)
    time.sleep(0.5)  # into the work
    os.kill(victim, signal.SIGKILL)
    r.finish(timeout=60)
    assert r.code != 0, r.describe()
    assert "status=PASS" not in r.stdout, r.describe()
    r.assert_nothing_left()


# ---------------------------------------------------------------- failed runs leave nothing

@pytest.mark.parametrize("model,concept,variant",
                         [(m, c, v) for c in ("queue", "producers") for m in ("posix", "omp", "mpi")
                          for v in CONCEPTS[c].variants[m]])
def test_usage_error_leaves_nothing(model, concept, variant):
    built(model, concept)
    r = run_to_end(model, concept, ["--variant", variant, "-n", "12x"])
    assert r.code == 2, r.describe()
