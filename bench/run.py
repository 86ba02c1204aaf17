#!/usr/bin/python3
"""make bench: every built concept x model x variant against this machine's ceilings and the notebook's Python.

    /usr/bin/python3 bench/run.py [--quick] [--out DIR] [--only CONCEPT,...]   (make bench [QUICK=1])

What it does, in the EPCC / OSU habit:
  - finds the programs from what is built (posix/, omp/, mpi/ binaries beside their sources) and their
    variants from each binary's --help, cross-checked with tests/concepts.py; prints a line for
    whatever is not built and goes on without it
  - runs each configuration once to warm up (and to pick n so a run lasts long enough to time),
    then several times, and reports median and spread (min, max, interquartile range) of the
    programs' own elapsed_s, never of start-up
  - measures the ceilings (bench/ref/, built into build/bench/ref/) and the notebook's Python
    (bench/python/) in the same run, so ratios compare numbers taken minutes apart on one machine
  - writes bench/results/<date>-<host>[-quick].csv (one row per measurement, with the machine),
    a Markdown report beside it, and gnuplot PNGs
Every program must PASS its own verification; a failure is reported and makes the exit status 1.
Timings are never asserted: a slow machine gives slow numbers, not a failure.
"""
import argparse
import contextlib
import csv
import datetime
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import concepts as suite_concepts  # noqa: E402  the concept table the tests use
import suite as suite_runner  # noqa: E402  MPI_ENV and the RESULT-line parser

REF_DIR = ROOT / "build" / "bench" / "ref"
PY_DIR = ROOT / "bench" / "python"
GNUPLOT_DIR = ROOT / "bench" / "gnuplot"
MODELS = suite_runner.MODELS
CORES = os.cpu_count() or 1
PYTHON = sys.executable or "/usr/bin/python3"

# How long to run, per mode. target_s: calibrated runs grow n until one run lasts about this long.
# budget_s bounds the whole run (this script, from discovery to the last plot) on any machine: each
# configuration gets an equal share of what is left; calibration stops growing n, and repetitions
# stop, at that share; configurations the budget does not reach are listed as skipped. reserve_s of
# it is kept for writing the tables and plots. This table is the one source of the bench's time
# estimates (bench/README.md quotes it; tests/test_setup.py checks that it does).
MODES = {
    "quick": dict(budget_s=100, reserve_s=12, reps=3, warmups=1, target_s=0.02,
                  pool_sizes=(10**3, 10**5, 10**7), scale_n=10**6, scale_workers=(1, 2, 3, 4),
                  py_pool_sizes=(10**3, 10**5), py_reps=3, hyperfine_runs=5, pingpong_n=2000,
                  spawn_rounds=100, uneven_n=300000),
    "full": dict(budget_s=600, reserve_s=30, reps=5, warmups=1, target_s=0.1,
                 pool_sizes=(10**3, 10**4, 10**5, 10**6, 10**7, 10**8), scale_n=10**7,
                 scale_workers=(1, 2, 3, 4), py_pool_sizes=(10**3, 10**4, 10**5, 10**6, 10**7),
                 py_reps=3, hyperfine_runs=10, pingpong_n=20000, spawn_rounds=500, uneven_n=1000000),
}

# What each concept's figure is. rate: work per second (higher is better); cost: seconds (lower).
#   work(result, n, workers) -> units of work in one run, for rates
#   cost(result, workers)    -> seconds, for costs
RATE, COST = "rate", "cost"
# RESULT keys that name a coordinator beside the working workers (CONTRACT.md), and other figures kept
COORD_KEYS = ("ranks", "consumers")
EXTRA_KEYS = ("create_join_s", "reuse_s")


def _expected(r, n, w):
    return int(r["expected"])


METRICS = {
    # concept: (kind, unit, work or cost function)
    "pool_cube": (RATE, "elements/s", lambda r, n, w: n),
    "store": (RATE, "elements/s", lambda r, n, w: n),
    "scatter_gather": (RATE, "elements/s", lambda r, n, w: n),
    "loop": (RATE, "per s", lambda r, n, w: n),
    "counter": (RATE, "increments/s", _expected),
    "increment": (RATE, "increments/s", _expected),
    "race": (RATE, "updates/s", _expected),
    "shared_array": (RATE, "updates/s", lambda r, n, w: n * w),
    "queue": (RATE, "items/s", lambda r, n, w: int(r["processed"])),
    "condvar_queue": (RATE, "items/s", lambda r, n, w: int(r["processed"])),
    "producers": (RATE, "items/s", lambda r, n, w: int(r["processed"])),
    "spawn": (COST, "s per worker", lambda r, w: float(r.get("create_join_s") or float(r["elapsed_s"]) / w)),
    "pingpong": (COST, "s per message", lambda r, w: float(r["latency_s"])),
    "cancel": (COST, "s stop latency", lambda r, w: float(r["stop_latency_s"])),
}
DEFAULT_METRIC = (COST, "s", lambda r, w: float(r["elapsed_s"]))

# How each concept of the suite is measured in the main table: a fixed n, or a starting n that
# calibration grows; extra arguments when the program takes them. Concepts not listed here are
# still measured: at their default size.
#   n_cap: calibration stops here (Python's Value('i') is 32-bit; MPI counts are int)
PLAN = {
    "spawn": dict(fixed_n=1000),                  # the notebook's square_it(1000)
    "race": dict(start_n=1000, extra=("--delay-ms", "0")),
    "counter": dict(start_n=1000, extra=("--delay-ms", "0"), n_cap=10**9),
    "queue": dict(start_n=1000),
    "shared_array": dict(start_n=1000, extra=("--delay-ms", "0")),
    "producers": dict(start_n=1000),
    "cancel": dict(fixed_n=10),                   # workers run 10 ms, then are stopped
    # the main table sweeps pool_cube's n itself (MODES pool_sizes); only the tracing cost reads
    # this: 10^7 keeps each run's untimed first touch short (10^8 and up are seconds of page faults)
    "pool_cube": dict(start_n=10**5, n_cap=10**7),
}

# The ceiling each suite figure is compared with: (concept, model, variant) -> (reference, scale)
# where reference names a measured reference ("store:fresh") and scale says how it applies:
#   "same"     the reference's own figure, at the same workers (and n, for pool_cube)
#   "workers"  the reference's figure times the worker count (one-thread loop x W)
#   "message"  one message per unit of work: 1 / pingpong latency
#   "roundtrip" a request and a reply per unit: 1 / (2 x latency)
CEILINGS = {
    # pool_cube touches its memory before the clock (CONTRACT.md): the touched-pages store is its ceiling
    ("pool_cube", "posix", "thread"): "store:prefault",
    ("pool_cube", "posix", "process"): "store:prefault",
    ("pool_cube", "omp", "*"): "store:prefault",
    ("pool_cube", "mpi", "*"): "scatter_gather:prefault",
    ("counter", "posix", "mutex"): "increment:mutex",
    ("counter", "posix", "process"): "increment:mutex",
    ("counter", "posix", "spin"): "increment:spin",
    ("counter", "posix", "atomic"): "increment:contended",
    ("counter", "omp", "critical"): "increment:mutex",
    ("counter", "omp", "lock"): "increment:mutex",
    ("counter", "omp", "atomic"): "increment:contended",
    ("counter", "omp", "reduction"): "loop:increment*workers",
    ("counter", "mpi", "reduce"): "loop:increment*workers",
    ("counter", "mpi", "*"): "pingpong:message",
    ("shared_array", "omp", "atomic"): "increment:contended",
    ("shared_array", "omp", "critical"): "increment:mutex",
    ("shared_array", "omp", "reduction"): "loop:increment*workers",
    ("shared_array", "posix", "*"): "increment:mutex",
    ("shared_array", "mpi", "*"): "pingpong:message",
    ("queue", "posix", "*"): "condvar_queue:ring",
    ("queue", "omp", "*"): "condvar_queue:ring",
    ("queue", "mpi", "*"): "pingpong:roundtrip",
    ("producers", "posix", "thread"): "condvar_queue:ring",
    ("producers", "omp", "*"): "condvar_queue:ring",
    ("producers", "mpi", "*"): "pingpong:message",
    ("spawn", "posix", "thread"): "spawn:thread",
    ("spawn", "omp", "*"): "spawn:thread",
    ("spawn", "posix", "process"): "spawn:process",
    ("spawn", "mpi", "*"): "spawn:process",
}

# Tracing cost (issue 14): these programs, default variant, in three builds (measure_trace_cost)
TRACE_COST = [(model, concept) for concept in ("pool_cube", "counter") for model in ("posix", "omp", "mpi")]

# The notebook's Python: concept -> script, and which Python variant a C variant is compared with
# (default: the script's first variant).
PY_SCRIPTS = {"pool_cube": "pool_cube.py", "spawn": "spawn.py", "counter": "counter.py",
              "queue": "queue_workers.py", "producers": "producers.py"}
PY_MATCH = {("spawn", "process"): "process", ("spawn", "ranks"): "process",
            ("spawn", "comm-spawn"): "process", ("counter", "process"): "value"}


# ---------------------------------------------------------------- programs and runs

@dataclass(frozen=True)
class Program:
    kind: str      # suite, ref or python
    model: str     # posix, omp, mpi, ref, python
    concept: str
    path: Path
    mpi: bool = False

    @property
    def label(self):
        return f"{self.model}/{self.concept}"

    def command(self, variant, n, workers, extra=()):
        """workers: -w W, or for MPI the rank count given to mpirun -np (Bench.launch_count)."""
        args = ["-n", str(n), "--variant", variant, "--quiet", *extra]
        if self.kind == "python":
            return [PYTHON, str(self.path), "-w", str(workers), *args]
        if self.mpi:
            return [MPIRUN, "-np", str(workers), str(self.path), *args]
        return [str(self.path), "-w", str(workers), *args]

    env_extra: tuple = ()   # (NAME, VALUE) pairs: OMP_WAIT_POLICY=passive for one spawn line

    def env(self):
        env = dict(os.environ)
        env.pop("OMP_NUM_THREADS", None)  # -w says how many; nothing else may
        if self.mpi:
            env.update(suite_runner.MPI_ENV)
        env.update(dict(self.env_extra))
        return env


class RunFailed(Exception):
    pass


def run_once(prog, variant, n, workers, extra=(), timeout=300):
    cmd = prog.command(variant, n, workers, extra)
    shown = " ".join(str(c) for c in cmd).replace(str(ROOT) + "/", "")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=prog.env(), cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise RunFailed(f"{shown}: no result within {timeout} s")
    result = suite_runner.parse_result(proc.stdout)
    if proc.returncode != 0 or result.get("status") != "PASS":
        raise RunFailed(f"{shown}: exit {proc.returncode}, {result.get('status', 'no RESULT line')}: "
                        f"{proc.stderr.strip()[-300:]}")
    return result


def help_text(prog):
    if prog.mpi:
        cmd = [MPIRUN, "-np", "1", str(prog.path)]
    elif prog.kind == "python":
        cmd = [PYTHON, str(prog.path)]
    else:
        cmd = [str(prog.path)]
    proc = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, env=prog.env(), cwd=ROOT)
    return proc.stdout


def variants_from_help(text):
    """The variant names the usage text lists: the C harness's indented table, or argparse's {a,b}."""
    choices = re.search(r"--variant \{([^}]*)\}", text)
    if choices:
        return choices.group(1).split(",")
    names, inside = [], False
    for line in text.splitlines():
        if re.match(r"\s+--variant V", line):
            inside = True
            continue
        if inside:
            m = re.match(r"\s{6,}(\S+)\s{2,}\S", line)
            if not m:
                break
            names.append(m.group(1))
    return names


def max_n_from_help(text):
    m = re.search(r"^\s+-n N .*at most (\d+)\)", text, flags=re.M)
    return int(m.group(1)) if m else 10**12


def takes_delay(text):
    return "--delay-ms" in text


# ---------------------------------------------------------------- measurements

@dataclass
class Measurement:
    kind: str          # suite, ref, python
    role: str          # main, sweep, scale, ceiling, python
    concept: str
    model: str
    variant: str
    workers: int
    n: int
    extra: tuple
    metric_kind: str   # rate or cost
    unit: str
    values: list = field(default_factory=list)     # the metric, one per run
    elapsed: list = field(default_factory=list)    # elapsed_s, one per run
    ceiling_name: str = ""
    ceiling: float = float("nan")
    python_name: str = ""
    python: float = float("nan")
    coord: str = ""    # a coordinator beside the working workers: "ranks=3" (MPI rank 0), "consumers=1"
    extras: dict = field(default_factory=dict)     # other RESULT figures, one list per key (reuse_s)

    @property
    def key(self):
        return (self.kind, self.concept, self.model, self.variant, self.workers, self.n)

    @property
    def median(self):
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self):
        """(min, max, q1, q3) of the metric."""
        if not self.values:
            return (float("nan"),) * 4
        q = statistics.quantiles(self.values, n=4, method="inclusive") if len(self.values) > 1 \
            else [self.values[0]] * 3
        return min(self.values), max(self.values), q[0], q[2]

    def ratio(self, other):
        """How this figure compares with another: > 1 means better (faster, or cheaper)."""
        if other != other or not self.values or other == 0:
            return float("nan")
        return self.median / other if self.metric_kind == RATE else other / self.median

    @property
    def ceiling_ratio(self):
        return self.ratio(self.ceiling)

    @property
    def python_ratio(self):
        return self.ratio(self.python)


def metric_value(concept, result, n, workers):
    kind, unit, fn = METRICS.get(concept, DEFAULT_METRIC)
    elapsed = float(result["elapsed_s"])
    if kind == RATE:
        # elapsed_s has microsecond resolution: a run below it counts as half a microsecond
        return kind, unit, fn(result, n, workers) / max(elapsed, 0.5e-6)
    return kind, unit, fn(result, workers)


class Bench:
    def __init__(self, mode, out_dir, only):
        self.mode_name = mode
        self.mode = MODES[mode]
        self.out_dir = out_dir
        self.only = only
        self.measurements = []
        self.failures = []
        self.skipped = []
        self.notes = []
        self.programs = {}      # (model, concept) -> Program
        self.variants = {}      # (model, concept) -> [variants]
        self.max_n = {}         # (model, concept) -> max n from --help
        self.delay = {}         # (model, concept) -> takes --delay-ms
        self.flags = {}         # (model, concept) -> {"trace": bool, "uneven": bool} from --help
        self.no_trace = set()   # programs whose --help has no --trace (the tracing cost skips them)
        self.hyperfine = []
        self.coordinators = {}  # (MPI program, variant) -> ranks that coordinate and do no work
        self.trace_builds = {}  # "sites" / "nosites" -> folder of the out-of-tree copies
        # the time budget and progress (MODES: budget_s)
        self.started = time.monotonic()
        self.deadline = self.started + self.mode["budget_s"] - self.mode["reserve_s"]
        self.planning = False   # a dry pass that only counts the configurations
        self.planned = 0
        self.done = 0
        self.over_budget = []   # configurations the budget did not reach
        self.tty = sys.stdout.isatty()
        self.cores = CORES
        self.scale_n = self.mode["scale_n"]
        self.wall_s = None

    # ---- discovery
    def discover(self):
        names = set(suite_concepts.CONCEPTS)
        for model in MODELS:
            names.update(p.stem for p in (ROOT / model).glob("*.c"))
        for concept in sorted(names):
            if self.only and concept not in self.only:
                continue
            for model in MODELS:
                exe = ROOT / model / concept
                listed = suite_concepts.CONCEPTS.get(concept)
                if not exe.exists():
                    if (ROOT / model / f"{concept}.c").exists() or (listed and model in listed.variants):
                        self.skip(f"{model}/{concept} is not built (make {model}/{concept})")
                    continue
                prog = Program("suite", model, concept, exe, mpi=model == "mpi")
                self.add_program(prog)
                if listed and model in listed.variants and listed.variants[model] != self.variants[(model, concept)]:
                    self.note(f"{model}/{concept}: --help lists {self.variants[(model, concept)]}, "
                              f"tests/concepts.py lists {listed.variants[model]}; measuring what --help lists")
        for concept in ("loop", "store", "spawn", "increment", "condvar_queue", "mpi_pingpong", "mpi_scatter"):
            exe = REF_DIR / concept
            mpi = concept.startswith("mpi_")
            name = {"mpi_pingpong": "pingpong", "mpi_scatter": "scatter_gather"}.get(concept, concept)
            if exe.exists():
                self.add_program(Program("ref", "ref", name, exe, mpi=mpi))
            else:
                self.skip(f"ceiling build/bench/ref/{concept} is not built (make bench-refs)")
        for concept, script in PY_SCRIPTS.items():
            if self.only and concept not in self.only:
                continue
            self.add_program(Program("python", "python", concept, PY_DIR / script))

    def add_program(self, prog):
        text = help_text(prog)
        variants = variants_from_help(text)
        if not variants:
            self.fail(f"{prog.label}: --help lists no variants")
            return
        key = (prog.model, prog.concept)
        self.programs[key] = prog
        self.variants[key] = variants
        self.max_n[key] = max_n_from_help(text)
        self.delay[key] = takes_delay(text)
        self.flags[key] = {"trace": "--trace" in text, "uneven": "--uneven" in text}

    def has(self, model, concept):
        return (model, concept) in self.programs

    # ---- reporting as we go
    def skip(self, text):
        self.skipped.append(text)
        print(f"skip: {text}", flush=True)

    def note(self, text):
        self.notes.append(text)
        print(f"note: {text}", flush=True)

    def fail(self, text):
        self.failures.append(text)
        print(f"FAIL: {text}", flush=True)

    # ---- measuring
    def measure(self, model, concept, variant, workers, n=None, start_n=None, role="main",
                extra=(), n_cap=None, reps=None, target_s=None, warmups=None, prog=None, shown_as=None):
        """Warm-up (or calibration) runs, then reps timed runs; returns the Measurement or None.
        workers: the working workers wanted (RESULT workers=); an MPI program whose rank 0 only
        coordinates is started with more ranks so that its working workers are the same (launch_count).
        prog: another build of the program (the trace-cost copies); shown_as: the variant's label."""
        if self.planning:
            self.planned += 1
            return None
        self.done += 1
        label = f"{model}/{concept} {shown_as or variant} w={workers}" + (f" n={n}" if n else "")
        now = time.monotonic()
        if now >= self.deadline:
            self.over_budget.append(label)
            return None
        # this configuration's share of the budget that is left
        share = (self.deadline - now) / max(1, self.planned - self.done + 1)
        until = now + share
        self.progress(label)
        prog = prog or self.programs[(model, concept)]
        reps = reps or self.mode["reps"]
        target_s = target_s or self.mode["target_s"]
        cap = min(self.max_n[(model, concept)], n_cap or 10**12)
        if prog.mpi:
            cap = min(cap, 2**31 - 1)
        try:
            asked = workers
            workers = self.launch_count(prog, variant, workers, extra)
            calibrated = n is None
            if calibrated:
                n = self.calibrate(prog, variant, start_n or 1000, workers, extra, target_s, cap,
                                   now + share / 2)
            else:
                for _ in range(self.mode["warmups"] if warmups is None else warmups):
                    run_once(prog, variant, n, workers, extra)
            for attempt in (1, 2):
                m = None
                for _ in range(reps):
                    result = run_once(prog, variant, n, workers, extra)
                    kind, unit, value = metric_value(concept, result, n, int(result["workers"]))
                    if m is None:
                        m = Measurement(prog.kind, role, concept, model, shown_as or variant,
                                        int(result["workers"]), n, tuple(extra), kind, unit,
                                        coord=" ".join(f"{k}={result[k]}" for k in COORD_KEYS if k in result))
                        if m.workers != asked:
                            self.note(f"{model}/{concept} {variant}: asked for {asked} working workers, "
                                      f"the RESULT line says workers={m.workers}")
                    m.values.append(value)
                    m.elapsed.append(float(result["elapsed_s"]))
                    for key in EXTRA_KEYS:
                        if key in result:
                            m.extras.setdefault(key, []).append(float(result[key]))
                    if time.monotonic() >= until:
                        break  # the share is spent: fewer runs, said in the line below
                # Calibration fooled by a busy moment (the runs are far shorter than it saw):
                # calibrate again from here, once.
                if (not calibrated or attempt == 2 or n >= cap or statistics.median(m.elapsed) >= target_s / 5
                        or time.monotonic() >= until):
                    break
                n = self.calibrate(prog, variant, n * 2, workers, extra, target_s, cap,
                                   time.monotonic() + (until - time.monotonic()) / 2)
        except RunFailed as failure:
            self.fail(str(failure))
            return None
        self.measurements.append(m)
        lo, hi, _, _ = m.spread
        print(f"{self.clear_line()}  {m.model}/{m.concept} {m.variant:<12} w={m.workers:<2} n={m.n:<11} "
              f"{fmt(m.median)} {m.unit} (min {fmt(lo)}, max {fmt(hi)}, {len(m.values)} runs)", flush=True)
        return m

    def launch_count(self, prog, variant, workers, extra=()):
        """The -w or -np that gives `workers` working workers. MPI programs whose rank 0 manages or
        consumes report ranks= beside workers= (CONTRACT.md): one small run says how many ranks
        coordinate, and that many are added, so rows compare equal working workers across models."""
        if not prog.mpi or prog.kind != "suite":
            return workers
        key = (prog.path, variant)
        if key not in self.coordinators:
            probe = run_once(prog, variant, max(10, workers + 2), workers, extra)
            self.coordinators[key] = int(probe.get("ranks", probe["workers"])) - int(probe["workers"])
        return workers + self.coordinators[key]

    # ---- progress and the budget
    def clear_line(self):
        return "\r\033[K" if self.tty else ""

    def progress(self, label):
        """On a terminal: which configuration, how many are left, time spent of the budget."""
        if self.tty:
            left = max(0, self.planned - self.done)
            sys.stdout.write(f"{self.clear_line()}[{self.done}/{max(self.planned, self.done)}, {left} left, "
                             f"{time.monotonic() - self.started:.0f} s of {self.mode['budget_s']} s] {label}")
            sys.stdout.flush()

    def plan(self, phases):
        """Counts the configurations the phases will measure (nothing runs)."""
        self.planning = True
        try:
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                for phase in phases:
                    phase()
        finally:
            self.planning = False

    def calibrate(self, prog, variant, n, workers, extra, target_s, cap, until=float("inf")):
        """Grows n until two runs in a row last at least target_s / 2 (or n reaches cap, or the
        next run would end after `until`: the time budget); the last run, at the chosen n, is the
        warm-up."""
        n = min(n, cap)
        confirmed = False
        previous = None  # (n, elapsed) of the last smaller n tried
        while True:
            begun = time.monotonic()
            result = run_once(prog, variant, n, workers, extra)
            wall = time.monotonic() - begun
            elapsed = float(result["elapsed_s"])
            if n >= cap:
                return n
            # a run 10x (at most 100x) longer would not fit in the share: stop here
            if time.monotonic() + wall + elapsed * 10 > until:
                return n
            if elapsed >= target_s / 2:
                # One slow run on a busy machine must not fix a too small n: a second run agrees.
                if not confirmed:
                    confirmed = True
                    continue
                # Long enough, but is it work or fixed cost (threads waking up on a busy machine)?
                # Ten times the work must take clearly longer; if not, n is still too small.
                if previous is None:
                    bigger = min(cap, n * 10)
                    grown = float(run_once(prog, variant, bigger, workers, extra)["elapsed_s"])
                    if grown < 3 * elapsed:
                        previous, n, confirmed = (bigger, grown), bigger, False
                        continue
                return n
            confirmed = False
            previous = (n, elapsed)
            factor = min(100.0, max(2.0, target_s / max(elapsed, 1e-6)))
            if time.monotonic() + wall + elapsed * factor > until:
                return n
            n = min(cap, nice_number(n * factor))

    def find(self, kind, concept, variant, workers=None, n=None, model=None, role=None):
        for m in self.measurements:
            if (m.kind == kind and m.concept == concept and m.variant == variant
                    and (workers is None or m.workers == workers) and (n is None or m.n == n)
                    and (model is None or m.model == model) and (role is None or m.role == role)):
                return m
        return None

    # ---- the run
    def run(self):
        started = self.started
        self.load_before = os.getloadavg()
        self.discover()
        self.phase_s = {}
        # The Python comparison comes before the tracing cost: the targets read it, and a budget
        # that runs out should cut the diagnostic, not the notebook's side of the comparison.
        phases = (self.measure_ceilings, self.measure_pool_cube, self.measure_concepts,
                  self.measure_uneven, self.measure_python, self.measure_trace_cost,
                  self.measure_whole_commands)
        self.plan(phases)
        print(f"bench: {self.planned} configurations, time budget {self.mode['budget_s']} s "
              f"(discovery took {time.monotonic() - started:.0f} s)", flush=True)
        for phase in phases:
            phase_start = time.monotonic()
            phase()
            self.phase_s[phase.__name__.replace("measure_", "")] = time.monotonic() - phase_start
            print(f"{self.clear_line()}   ({time.monotonic() - phase_start:.0f} s)", flush=True)
        if self.over_budget:
            self.skip(f"time budget ({self.mode['budget_s']} s) reached: {len(self.over_budget)} of "
                      f"{self.planned} configurations not measured, from {self.over_budget[0]} on")
        self.attach_ceilings_and_python()
        self.load_after = os.getloadavg()
        self.wall_s = time.monotonic() - started

    def measure_ceilings(self):
        print("== ceilings (bench/ref)", flush=True)
        sizes = self.mode["pool_sizes"]
        if self.has("ref", "loop"):
            for n in sizes:
                self.measure("ref", "loop", "cube", 1, n=n, role="ceiling")
            self.measure("ref", "loop", "increment", 1, start_n=10**6, role="ceiling", n_cap=10**10)
        if self.has("ref", "store"):
            for variant in ("fresh", "prefault"):
                for n in sizes:
                    self.measure("ref", "store", variant, CORES, n=n, role="ceiling")
                    if variant == "prefault" and n != self.mode["scale_n"]:
                        # one thread into touched pages: the baseline of every pool_cube figure
                        self.measure("ref", "store", variant, 1, n=n, role="ceiling")
                for w in self.mode["scale_workers"]:
                    if w != CORES or self.mode["scale_n"] not in sizes:
                        self.measure("ref", "store", variant, w, n=self.mode["scale_n"], role="ceiling")
        if self.has("ref", "spawn"):
            for variant in ("thread", "process"):
                self.measure("ref", "spawn", variant, CORES, n=self.mode["spawn_rounds"], role="ceiling")
        if self.has("ref", "increment"):
            for variant in self.variants[("ref", "increment")]:
                self.measure("ref", "increment", variant, CORES, start_n=10**4, role="ceiling")
        if self.has("ref", "condvar_queue"):
            self.measure("ref", "condvar_queue", "ring", 2, start_n=10**4, role="ceiling")
        if self.has("ref", "pingpong"):
            self.measure("ref", "pingpong", "8byte", 2, n=self.mode["pingpong_n"], role="ceiling")
        if self.has("ref", "scatter_gather"):
            for n in sizes:
                self.measure("ref", "scatter_gather", "prefault", CORES, n=n, role="ceiling")
            self.measure("ref", "scatter_gather", "fresh", CORES, n=sizes[-1], role="ceiling")

    def measure_pool_cube(self):
        if self.only and "pool_cube" not in self.only:
            return
        print("== pool_cube: elements/s against n, and against workers", flush=True)
        for model in MODELS:
            if not self.has(model, "pool_cube"):
                continue
            for variant in self.variants[(model, "pool_cube")]:
                for n in self.mode["pool_sizes"]:
                    self.measure(model, "pool_cube", variant, CORES, n=n, role="sweep")
                for w in self.mode["scale_workers"]:
                    self.measure(model, "pool_cube", variant, w, n=self.mode["scale_n"], role="scale")

    def measure_concepts(self):
        print("== every other concept x model x variant, at one worker per core", flush=True)
        for (model, concept), prog in sorted(self.programs.items(), key=lambda kv: (kv[0][1], MODELS.index(kv[0][0]) if kv[0][0] in MODELS else 9)):
            if prog.kind != "suite" or concept == "pool_cube":
                continue
            plan = PLAN.get(concept, {})
            extra = plan.get("extra", ()) if self.delay[(model, concept)] else ()
            for variant in self.variants[(model, concept)]:
                if "fixed_n" in plan:
                    self.measure(model, concept, variant, CORES, n=plan["fixed_n"], extra=extra)
                elif "start_n" in plan:
                    m = self.measure(model, concept, variant, CORES, start_n=plan["start_n"], extra=extra,
                                     n_cap=plan.get("n_cap"))
                    rule = CEILINGS.get((concept, model, variant)) or CEILINGS.get((concept, model, "*"))
                    # W x the one-thread loop is compared at the same n per worker: start-up weighs alike
                    if (m and rule == "loop:increment*workers" and self.has("ref", "loop")
                            and not self.find("ref", "loop", "increment", n=m.n)):
                        self.measure("ref", "loop", "increment", 1, n=m.n, role="ceiling")
                else:
                    self.measure(model, concept, variant, CORES, n=suite_default_n(concept), extra=extra)
                if concept == "spawn" and model == "omp":
                    # the team's idle threads spin (OMP_WAIT_POLICY=active, libgomp's default for a
                    # while) or sleep at once (passive): on a shared core, spinning delays the others
                    passive = Program(prog.kind, model, concept, prog.path, mpi=prog.mpi,
                                      env_extra=(("OMP_WAIT_POLICY", "passive"),))
                    self.measure(model, concept, variant, CORES, n=plan["fixed_n"], extra=extra, prog=passive,
                                 shown_as=f"{variant} OMP_WAIT_POLICY=passive")

    def measure_uneven(self):
        """pool_cube --uneven (item i costs work that grows with i): one n for every model and
        variant, so static, dynamic and guided schedules compare on the same uneven work."""
        if self.only and "pool_cube" not in self.only:
            return
        print("== pool_cube --uneven: each schedule on work that grows with i", flush=True)
        progs = [m for m in MODELS if self.has(m, "pool_cube")]
        able = [m for m in progs if self.flags.get((m, "pool_cube"), {}).get("uneven")]
        for model in progs:
            if model not in able and not self.planning:
                self.skip(f"uneven sweep: {model}/pool_cube --help lists no --uneven yet (issue 14 adds it)")
        # One fixed n, not calibrated: the work grows as n^2 (common/uneven.h), and calibration
        # grows n as if time were linear in it (one step of 100x in n would be 10^4x in time).
        n = self.mode["uneven_n"]
        for model in able:
            for variant in self.variants[(model, "pool_cube")]:
                self.measure(model, "pool_cube", variant, CORES, n=n, role="uneven", extra=("--uneven",))

    def trace_copies(self):
        """Builds the programs twice out of tree from the same sources (make O=...): with the trace
        sites, and with -DTRACE_SITES_OFF (common/trace.h: the compiler drops every site).
        Returns {"sites": folder, "nosites": folder} or None, saying why."""
        if self.trace_builds:
            return self.trace_builds
        targets = [f"{model}/{concept}" for model, concept in TRACE_COST if self.has(model, concept)
                   and (model, concept) not in self.no_trace]
        if not targets:
            return None
        cflags = os.environ.get("CFLAGS", "-O2 -g")
        for name, flags in (("sites", cflags), ("nosites", cflags + " -DTRACE_SITES_OFF")):
            out = f"build/bench/trace-{name}/"
            try:
                proc = subprocess.run(["make", "-s", f"O={out}", f"CFLAGS={flags}", *(out + t for t in targets)],
                                      capture_output=True, text=True, cwd=ROOT,
                                      timeout=max(5.0, self.deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.skip("tracing cost: building the copies in build/bench/trace-*/ did not fit the time budget")
                return None
            if proc.returncode != 0:
                self.skip(f"tracing cost: make O={out} CFLAGS='{flags}' failed: {proc.stderr.strip()[-200:]}")
                return None
            self.trace_builds[name] = ROOT / out
        return self.trace_builds

    def measure_trace_cost(self):
        """What --trace costs: the same program built without trace sites (-DTRACE_SITES_OFF), with
        them and tracing off (the goal: within noise), and tracing on (into a file written after the
        clock). One n per program, calibrated on the build without sites."""
        print("== tracing cost: no trace sites / sites, tracing off / tracing on", flush=True)
        self.no_trace = set()
        for model, concept in TRACE_COST:
            if (self.only and concept not in self.only) or not self.has(model, concept):
                continue
            if not self.flags.get((model, concept), {}).get("trace"):
                self.no_trace.add((model, concept))
                if not self.planning:
                    self.skip(f"tracing cost: {model}/{concept} --help lists no --trace yet (issue 14 adds it)")
        if self.planning:
            for model, concept in TRACE_COST:
                if self.has(model, concept) and (model, concept) not in self.no_trace:
                    self.planned += 3
            return
        if time.monotonic() >= self.deadline:
            return
        builds = self.trace_copies()
        if not builds:
            self.done += 3 * sum(1 for mc in TRACE_COST if self.has(*mc) and mc not in self.no_trace)
            return
        trace_file = Path(tempfile.gettempdir()) / f"bench-trace-{os.getpid()}.json"
        for model, concept in TRACE_COST:
            if not self.has(model, concept) or (model, concept) in self.no_trace:
                continue
            base = self.programs[(model, concept)]
            variant = self.variants[(model, concept)][0]
            plan = PLAN.get(concept, {})
            extra = plan.get("extra", ()) if self.delay[(model, concept)] else ()
            nosites = Program("suite", model, concept, builds["nosites"] / model / concept, mpi=base.mpi)
            sites = Program("suite", model, concept, builds["sites"] / model / concept, mpi=base.mpi)
            m = self.measure(model, concept, variant, CORES, start_n=plan.get("start_n", 10**5), role="trace",
                             extra=extra, prog=nosites, shown_as=f"{variant} [no trace sites]",
                             n_cap=plan.get("n_cap"))
            if not m:
                self.done += 2
                continue
            self.measure(model, concept, variant, CORES, n=m.n, role="trace", extra=extra, prog=sites,
                         shown_as=f"{variant} [tracing off]")
            self.measure(model, concept, variant, CORES, n=m.n, role="trace", prog=sites,
                         extra=(*extra, "--trace", str(trace_file)), shown_as=f"{variant} [tracing on]")
        with contextlib.suppress(OSError):
            trace_file.unlink()

    def measure_python(self):
        print("== the notebook's Python (bench/python)", flush=True)
        reps = self.mode["py_reps"]
        if self.has("python", "pool_cube"):
            for variant in self.variants[("python", "pool_cube")]:
                for n in self.mode["py_pool_sizes"]:
                    # a second-long Python run needs no warm-up: it is all interpreter work
                    self.measure("python", "pool_cube", variant, CORES, n=n, role="python", reps=reps,
                                 warmups=0 if n >= 10**6 else None)
        for concept in ("spawn", "counter", "queue", "producers"):
            if not self.has("python", concept):
                continue
            for variant in self.variants[("python", concept)]:
                if concept == "spawn":
                    self.measure("python", concept, variant, CORES, n=1000, role="python", reps=reps)
                else:
                    self.measure("python", concept, variant, CORES, start_n=100, role="python", reps=reps,
                                 n_cap=10**7)

    def measure_whole_commands(self):
        """The notebook's pool cell as a student runs it, whole: start-up included (hyperfine)."""
        hyperfine = shutil.which("hyperfine")
        if self.planning:
            self.planned += 1 if hyperfine else 0
            return
        if not hyperfine:
            self.skip("hyperfine not found: whole-command timings left out (apt-get install hyperfine)")
            return
        self.done += 1
        if time.monotonic() >= self.deadline:
            self.over_budget.append("whole commands (hyperfine)")
            return
        self.progress("whole commands (hyperfine)")
        print("== whole commands (hyperfine): the pool cell (n = 10) and spawn, start-up included", flush=True)
        commands = []
        for model in MODELS:
            if self.has(model, "pool_cube"):
                prog = self.programs[(model, "pool_cube")]
                cmd = prog.command(self.variants[(model, "pool_cube")][0], 10, CORES)
                commands.append((f"{model}/pool_cube", cmd))
        if self.has("python", "pool_cube"):
            commands.append(("python pool_cube.py (Pool() start, map, close)",
                             self.programs[("python", "pool_cube")].command("map-start", 10, CORES)))
        # and spawn: what starting workers costs when the start of the program itself counts
        for model in MODELS + ("python",):
            if self.has(model, "spawn"):
                for variant in self.variants[(model, "spawn")]:
                    commands.append((f"{model}/spawn {variant}",
                                     self.programs[(model, "spawn")].command(variant, 1000, CORES)))
        if not commands:
            return
        env = dict(os.environ, **suite_runner.MPI_ENV)
        env.pop("OMP_NUM_THREADS", None)
        with tempfile.TemporaryDirectory() as tmp:
            export = Path(tmp) / "hyperfine.json"
            argv = [hyperfine, "--shell=none", "--warmup", "1", "--runs", str(self.mode["hyperfine_runs"]),
                    "--style", "none", "--export-json", str(export)]
            for _, cmd in commands:
                argv.append(" ".join(shlex_quote(str(c)) for c in cmd))
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
            if proc.returncode != 0:
                self.fail(f"hyperfine: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
                return
            data = json.loads(export.read_text())
        for (label, _), res in zip(commands, data["results"]):
            concept = "spawn" if "spawn" in label else "pool_cube"
            m = Measurement("whole", "whole", concept, label.split("/")[0].split()[0], "default",
                            CORES, 1000 if concept == "spawn" else 10, (), COST, "s per command",
                            values=list(res["times"]), elapsed=list(res["times"]))
            m.variant = label
            self.measurements.append(m)
            print(f"  {label:<50} {fmt(m.median)} s (min {fmt(min(m.values))}, max {fmt(max(m.values))})",
                  flush=True)

    # ---- ratios
    def ceiling_for(self, m):
        rule = (CEILINGS.get((m.concept, m.model, m.variant)) or CEILINGS.get((m.concept, m.model, "*")))
        if not rule:
            return "", float("nan")
        name, _, scale = rule.partition("*")
        concept, variant = name.split(":")
        if concept == "pingpong":
            ref = self.find("ref", "pingpong", "8byte")
            if not ref:
                return "", float("nan")
            per = 1.0 if variant == "message" else 2.0
            return f"1/({'' if per == 1 else '2 x '}8-byte MPI latency)", 1.0 / (per * ref.median)
        if concept in ("store", "scatter_gather") and m.concept == "pool_cube":
            ref = self.find("ref", concept, variant, workers=m.workers, n=m.n)
        elif concept == "loop":
            ref = self.find("ref", concept, variant, workers=1, n=m.n) or self.find("ref", concept, variant)
        else:
            ref = self.find("ref", concept, variant, workers=m.workers) or self.find("ref", concept, variant)
        if not ref:
            return "", float("nan")
        value = ref.median * (m.workers if scale == "workers" else 1)
        label = f"{concept} {variant}" + (f" x {m.workers}" if scale == "workers" else "")
        return label, value

    def python_for(self, m):
        if m.concept not in PY_SCRIPTS or not self.has("python", m.concept):
            return "", float("nan")
        py_variant = PY_MATCH.get((m.concept, m.variant), self.variants[("python", m.concept)][0])
        if m.concept == "pool_cube":
            candidates = [p for p in self.measurements if p.kind == "python" and p.concept == "pool_cube"
                          and p.variant == py_variant and p.n <= m.n]
            ref = max(candidates, key=lambda p: p.n) if candidates else None
        else:
            ref = self.find("python", m.concept, py_variant)
        if not ref:
            return "", float("nan")
        return f"python {py_variant}" + (f" n={ref.n:.0e}" if m.concept == "pool_cube" else ""), ref.median

    def attach_ceilings_and_python(self):
        for m in self.measurements:
            if m.kind == "suite":
                m.ceiling_name, m.ceiling = self.ceiling_for(m)
                m.python_name, m.python = self.python_for(m)


# ---------------------------------------------------------------- helpers

def nice_number(x):
    """1, 2 or 5 times a power of ten, at or above x."""
    x = max(1, int(x))
    power = 10 ** (len(str(x)) - 1)
    for step in (1, 2, 5, 10):
        if step * power >= x:
            return step * power
    return 10 * power


def fmt(x):
    if x != x:
        return "-"
    if x == 0:
        return "0"
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e5 else f"{x:.2e}"


def shlex_quote(s):
    import shlex
    return shlex.quote(s)


def suite_default_n(concept):
    return {"spawn": 1000, "race": 1, "counter": 100, "queue": 19, "shared_array": 3,
            "producers": 5, "pool_cube": 10, "cancel": 100}.get(concept, 10)


def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        return out.strip().splitlines()[0] if out.strip() else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem_gib = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem_gib = f"{kib / 2**20:.0f}"
    except (OSError, AttributeError):
        pass
    cc = os.environ.get("CC", "cc")
    return {
        "host": socket.gethostname().split(".")[0],
        "cpu_model": cpu,
        "cores": CORES,
        "mem_gib": mem_gib,
        "kernel": platform.release(),
        "cc": first_line([cc, "--version"]),
        "clang": first_line(["clang", "--version"]),
        "mpi": first_line([MPIRUN, "--version"]),
        "python": f"Python {platform.python_version()}",
    }


# ---------------------------------------------------------------- output

CSV_FIELDS = ["date", "host", "cpu_model", "cores", "mem_gib", "kernel", "cc", "clang", "mpi", "python",
              "mode", "kind", "role", "concept", "model", "variant", "workers", "n", "extra_args",
              "runs", "metric_unit", "median", "min", "max", "q1", "q3", "median_elapsed_s",
              "elapsed_s_runs", "ceiling", "ceiling_value", "ratio_to_ceiling", "python",
              "python_value", "c_over_python", "coordinator", "extras"]


def write_csv(bench, path, info, date):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for m in bench.measurements:
            lo, hi, q1, q3 = m.spread
            writer.writerow({
                "date": date, **{k: info[k] for k in ("host", "cpu_model", "cores", "mem_gib", "kernel",
                                                     "cc", "clang", "mpi", "python")},
                "mode": bench.mode_name, "kind": m.kind, "role": m.role, "concept": m.concept,
                "model": m.model, "variant": m.variant, "workers": m.workers, "n": m.n,
                "extra_args": " ".join(m.extra), "runs": len(m.values), "metric_unit": m.unit,
                "median": f"{m.median:.6g}", "min": f"{lo:.6g}", "max": f"{hi:.6g}",
                "q1": f"{q1:.6g}", "q3": f"{q3:.6g}",
                "median_elapsed_s": f"{statistics.median(m.elapsed):.6f}",
                "elapsed_s_runs": " ".join(f"{e:.6f}" for e in m.elapsed),
                "ceiling": m.ceiling_name, "ceiling_value": f"{m.ceiling:.6g}" if m.ceiling_name else "",
                "ratio_to_ceiling": f"{m.ceiling_ratio:.4g}" if m.ceiling_name else "",
                "python": m.python_name, "python_value": f"{m.python:.6g}" if m.python_name else "",
                "c_over_python": f"{m.python_ratio:.4g}" if m.python_name else "",
                "coordinator": m.coord,
                "extras": " ".join(f"{k}=" + ",".join(f"{v:.9g}" for v in vs) for k, vs in m.extras.items()),
            })


def spread_pct(m):
    lo, hi, q1, q3 = m.spread
    if m.median != m.median or m.median == 0:
        return "-"
    return f"{fmt(lo)}..{fmt(hi)} (IQR {100 * (q3 - q1) / m.median:.0f}%)"


def targets(bench):
    """The issue's targets: (what, measured, ratio, goal, met) rows."""
    rows = []
    sizes = bench.mode["pool_sizes"]
    big = max(sizes)

    def add(what, ratio, goal, detail, higher=True):
        met = "-" if ratio != ratio else ("yes" if (ratio >= goal if higher else ratio <= goal) else "NO")
        rows.append((what, detail, "-" if ratio != ratio else f"{ratio:.2f}", f"{'>=' if higher else '<='} {goal:g}", met))

    store = bench.find("ref", "store", "prefault", workers=CORES, n=big)
    # variants the sweep measured (a results CSV also names the tracing-cost copies)
    for model, variant in [("omp", v) for v in bench.variants.get(("omp", "pool_cube"), [])
                           if bench.find("suite", "pool_cube", v, model="omp", role="sweep")] + \
            [("posix", "thread")]:
        m = bench.find("suite", "pool_cube", variant, workers=CORES, n=big, model=model, role="sweep")
        r = m.median / store.median if m and store else float("nan")
        add(f"pool_cube {model} {variant}, n={big:.0e}: fraction of store bandwidth (touched pages, {CORES} threads)",
            r, 0.8, f"{fmt(m.median) if m else '-'} / {fmt(store.median) if store else '-'} elements/s")
    sg = bench.find("ref", "scatter_gather", "prefault", workers=CORES, n=big)
    scatter = bench.find("suite", "pool_cube", "scatter", workers=CORES, n=big, model="mpi", role="sweep")
    dynamic = bench.find("suite", "pool_cube", "dynamic", workers=CORES, n=big, model="mpi", role="sweep")
    add(f"pool_cube mpi scatter, n={big:.0e}: fraction of scatter+gather ceiling ({CORES} ranks)",
        scatter.median / sg.median if scatter and sg else float("nan"), 0.8,
        f"{fmt(scatter.median) if scatter else '-'} / {fmt(sg.median) if sg else '-'} elements/s")
    add(f"pool_cube mpi dynamic, n={big:.0e}: time relative to scatter",
        scatter.median / dynamic.median if scatter and dynamic else float("nan"), 2.0,
        f"scatter {fmt(scatter.median) if scatter else '-'}, dynamic {fmt(dynamic.median) if dynamic else '-'} elements/s",
        higher=False)
    red = bench.find("suite", "counter", "reduction", model="omp")
    add(f"counter omp reduction: fraction of {CORES} x single-thread increment loop",
        red.ceiling_ratio if red else float("nan"), 0.8,
        f"{fmt(red.median) if red else '-'} / {fmt(red.ceiling) if red else '-'} increments/s")
    for model, variant in (("posix", "mutex"), ("posix", "spin"), ("posix", "atomic"), ("posix", "process"),
                           ("omp", "critical"), ("omp", "lock"), ("omp", "atomic")):
        m = bench.find("suite", "counter", variant, model=model)
        add(f"counter {model} {variant}: fraction of its raw primitive ({m.ceiling_name if m else '?'})",
            m.ceiling_ratio if m else float("nan"), 0.8,
            f"{fmt(m.median) if m else '-'} / {fmt(m.ceiling) if m else '-'} increments/s")
    q = bench.find("suite", "queue", "thread", model="posix")
    add("queue posix thread: relative to the raw condition-variable queue",
        q.ceiling_ratio if q else float("nan"), 1.0,
        f"{fmt(q.median) if q else '-'} / {fmt(q.ceiling) if q else '-'} items/s")
    add("queue posix thread: relative to Python's queue.Queue", q.python_ratio if q else float("nan"), 40.0,
        f"{fmt(q.median) if q else '-'} / {fmt(q.python) if q else '-'} items/s")
    py_sizes = [p.n for p in bench.measurements if p.kind == "python" and p.concept == "pool_cube"
                and p.variant == "map"]
    n7 = 10**7 if 10**7 in py_sizes and 10**7 in sizes else max([s for s in py_sizes if s in sizes], default=0)
    py = bench.find("python", "pool_cube", "map", n=n7)
    for model in MODELS:
        if not bench.has(model, "pool_cube"):
            continue
        variant = bench.variants[(model, "pool_cube")][0] if model != "posix" else "thread"
        m = bench.find("suite", "pool_cube", variant, workers=CORES, n=n7, model=model, role="sweep")
        add(f"pool_cube {model} {variant}, n={n7:.0e}: relative to Python's Pool.map",
            m.median / py.median if m and py else float("nan"), 500.0,
            f"{fmt(m.median) if m else '-'} / {fmt(py.median) if py else '-'} elements/s")
    return rows


def crossovers(bench):
    """For each pool_cube model/variant: the smallest n from which it beats the one-thread loop at
    every larger n measured; and the same for Python's Pool against Python's plain loop."""
    lines = []
    sizes = bench.mode["pool_sizes"]
    for model in MODELS:
        for variant in bench.variants.get((model, "pool_cube"), []):
            wins = []
            for n in sizes:
                m = bench.find("suite", "pool_cube", variant, workers=CORES, n=n, model=model, role="sweep")
                # the sweep table's and the first plot's baseline: one thread, touched pages
                loop = bench.find("ref", "store", "prefault", workers=1, n=n)
                if m and loop:
                    wins.append((n, m.median / loop.median))
            if wins:  # variants of the sweep only (not the tracing-cost copies or whole commands)
                lines.append((f"{model} {variant}", wins, from_which(wins)))
    wins = []
    for n in bench.mode["py_pool_sizes"]:
        pool = bench.find("python", "pool_cube", "map", n=n)
        loop = bench.find("python", "pool_cube", "loop", n=n)
        if pool and loop:
            wins.append((n, pool.median / loop.median))
    lines.append(("python Pool.map vs python loop", wins, from_which(wins)))
    wins = []
    for n in bench.mode["py_pool_sizes"]:
        pool = bench.find("python", "pool_cube", "map-start", n=n)
        loop = bench.find("python", "pool_cube", "loop", n=n)
        if pool and loop:
            wins.append((n, pool.median / loop.median))
    lines.append(("python Pool() + map vs python loop", wins, from_which(wins)))
    return lines


def from_which(wins):
    first = None
    for n, ratio in reversed(wins):
        if ratio > 1:
            first = n
        else:
            break
    return first


def write_markdown(bench, path, info, date, plots):
    out = []
    w = out.append
    starts = []  # (section name, index of its first line): docs/benchmarks.md takes them one by one

    def begin(name):
        starts.append((name, len(out)))
    w(f"# Benchmark results: {date}, {info['host']} ({bench.mode_name} run)\n")
    begin("machine")
    if not hasattr(bench, "load_before"):  # read back from a CSV: the run's own figures are not there
        bench.load_before = bench.load_after = (float("nan"),)
        bench.phase_s = {}
        bench.wall_s = bench.wall_s or float("nan")
    w(f"Machine: {info['cpu_model']}, {info['cores']} cores, {info['mem_gib']} GiB, Linux {info['kernel']}; "
      f"{info['cc']}; {info['mpi']}; {info['python']}.  ")
    w(f"Load average (1 min) before / after: {bench.load_before[0]:.2f} / {bench.load_after[0]:.2f}. "
      f"Wall time of the whole bench: {bench.wall_s:.0f} s ("
      + ", ".join(f"{k} {v:.0f} s" for k, v in bench.phase_s.items()) + "). "
      f"Each figure: median of {bench.mode['reps']} runs (Python: {bench.mode['py_reps']}) after "
      f"{bench.mode['warmups']} warm-up run (none for Python pool_cube at n >= 1e6), spread as min..max and interquartile range (IQR) in % of "
      "the median, from the programs' own `elapsed_s` (the parallel part only).\n")
    iqrs = sorted([(100 * (m.spread[3] - m.spread[2]) / m.median, m) for m in bench.measurements
                   if m.values and m.median and m.kind != "whole" and len(m.values) > 2],
                  key=lambda pair: pair[0])  # ties must not compare the Measurements
    if iqrs:
        worst = iqrs[-1][1]
        w(f"Noise: the IQR of a measurement is {iqrs[len(iqrs) // 2][0]:.0f}% of its median for the median "
          f"measurement, {iqrs[int(len(iqrs) * 0.9)][0]:.0f}% at the 90th percentile, {iqrs[-1][0]:.0f}% at worst "
          f"({worst.model}/{worst.concept} {worst.variant}, n={worst.n}); "
          f"max/min within one configuration: median {statistics.median(max(m.values) / min(m.values) for _, m in iqrs if min(m.values) > 0):.2f}x.\n")
    if bench.failures:
        w("**Failures:**\n")
        for f in bench.failures:
            w(f"- {f}")
        w("")

    begin("targets")
    w("## Targets\n")
    w("| target | measured | ratio | goal | met |")
    w("|---|---|---|---|---|")
    for row in targets(bench):
        w("| " + " | ".join(row) + " |")
    w("")

    begin("main")
    w(f"## Every concept x model x variant ({CORES} workers)\n")
    w("ratio: the figure over its ceiling (1 = as fast as the raw mechanism; costs are inverted, so "
      "above 1 is always better). x Python: how many times faster than the notebook's Python.\n")
    w(f"w: the working workers (the RESULT line's workers=), equal in every model; a coordinator that does "
      f"no work (MPI rank 0 as manager or consumer) is named beside it, e.g. ranks={CORES + 1}.\n")
    w("| concept | model | variant | w | n | unit | median | min..max (IQR) | ceiling | ratio | Python | x Python |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    main = [m for m in bench.measurements if m.kind == "suite" and
            (m.role == "main" or (m.role == "sweep" and m.n == max(bench.mode["pool_sizes"])))]
    for m in main:
        w(f"| {m.concept} | {m.model} | {m.variant} | {m.workers}{' (' + m.coord + ')' if m.coord else ''} | {m.n} | {m.unit} | {fmt(m.median)} | "
          f"{spread_pct(m)} | {m.ceiling_name or '-'} {fmt(m.ceiling) if m.ceiling_name else ''} | "
          f"{fmt(m.ceiling_ratio)} | {m.python_name or '-'} {fmt(m.python) if m.python_name else ''} | "
          f"{fmt(m.python_ratio)} |")
    w("")

    begin("sweep")
    w("## pool_cube: elements/s against n\n")
    series = pool_series(bench)
    w("| n | " + " | ".join(name for name, _, _ in series) + " |")
    w("|---" * (len(series) + 1) + "|")
    all_n = sorted({n for _, _, points in series for n in points})
    for n in all_n:
        w(f"| {n:.0e} | " + " | ".join(fmt(points.get(n, float('nan'))) for _, _, points in series) + " |")
    w("")
    w("From which n does each beat the plain one-thread loop (and keep beating it at every larger n measured)?\n")
    for name, wins, first in crossovers(bench):
        shown = ", ".join(f"{n:.0e}: {r:.2f}x" for n, r in wins)
        w(f"- {name}: {'from n = ' + format(first, '.0e') if first else 'never in this range'} ({shown})")
    w("")

    begin("speedup")
    w(f"## pool_cube: speedup against workers (n = {bench.mode['scale_n']:.0e})\n")
    w(f"Speedup = elements/s with W working workers over the **same baseline for every model**: "
      f"{SPEEDUP_BASELINE}, at the same n. (Not each program's own 1-worker run: a 1-rank MPI run "
      f"sends no messages and a 1-thread team has nothing to share, so their own baselines differ.)\n")
    sp = speedup_series(bench)
    workers = bench.mode["scale_workers"]
    w("| program | " + " | ".join(f"W={x}" for x in workers) + " |")
    w("|---" * (len(workers) + 1) + "|")
    for name, _, points in sp:
        w(f"| {name} | " + " | ".join(fmt(points.get(x, float('nan'))) for x in workers) + " |")
    w("")

    begin("pages")
    w("## Fresh pages against touched pages (store ceiling)\n")
    w(f"{CORES} threads store i*i*i: into fresh pages (each 4 KiB page faulted in inside the clock) and into "
      "pages touched before the clock (what pool_cube times: CONTRACT.md). The difference is the page faults' "
      "cost, its own line here rather than hidden inside one model's figure.\n")
    w("| n | fresh pages, elements/s | touched pages, elements/s | touched / fresh | fault cost, ns per element |")
    w("|---|---|---|---|---|")
    for n, fresh, touched in pages_rows(bench):
        extra_ns = (1 / fresh.median - 1 / touched.median) * 1e9 if fresh.median and touched.median else float("nan")
        w(f"| {n:.0e} | {fmt(fresh.median)} | {fmt(touched.median)} | {fmt(touched.median / fresh.median)} | "
          f"{fmt(extra_ns)} |")
    w("")

    begin("uneven")
    uneven = [m for m in bench.measurements if m.role == "uneven"]
    if uneven:
        w(f"## pool_cube --uneven: each schedule on work that grows with i ({CORES} workers, n = {uneven[0].n:.0e})\n")
        w("| model | variant | median elapsed s | elapsed min..max | time / fastest |")
        w("|---|---|---|---|---|")
        fastest = min(statistics.median(m.elapsed) for m in uneven)
        for m in uneven:
            # the elapsed times' own spread: spread_pct is of the metric (items/s), another unit
            t = statistics.median(m.elapsed)
            w(f"| {m.model} | {m.variant} | {fmt(t)} | {fmt(min(m.elapsed))}..{fmt(max(m.elapsed))} | "
              f"{fmt(t / fastest)} |")
        w("")
    else:
        w("## pool_cube --uneven\n")
        w("Not measured in this run: " + "; ".join(x for x in bench.skipped if "uneven" in x)
          + "\n" if any("uneven" in x for x in bench.skipped) else "Not measured in this run.\n")

    begin("trace")
    traced = [m for m in bench.measurements if m.role == "trace"]
    w("## What tracing costs\n")
    if traced:
        w("The same sources built twice out of tree: without trace sites (`-DTRACE_SITES_OFF`, "
          "common/trace.h) and with them; the latter run with tracing off and with `--trace FILE`. "
          "Median elapsed_s at one n; the goal for tracing off is within noise (the IQR).\n")
        w("| program | variant | w | n | no sites, s | tracing off, s | off / no sites | tracing on, s | on / no sites |")
        w("|---|---|---|---|---|---|---|---|---|")
        for m in traced:
            if not m.variant.endswith("[no trace sites]"):
                continue
            base = m.variant.split(" [")[0]
            off = bench.find("suite", m.concept, f"{base} [tracing off]", model=m.model, role="trace")
            on = bench.find("suite", m.concept, f"{base} [tracing on]", model=m.model, role="trace")
            t0 = statistics.median(m.elapsed)
            t1 = statistics.median(off.elapsed) if off else float("nan")
            t2 = statistics.median(on.elapsed) if on else float("nan")
            w(f"| {m.model}/{m.concept} | {base} | {m.workers} | {m.n} | {fmt(t0)} ({spread_pct(m).split('(')[-1].rstrip(')')}) | "
              f"{fmt(t1)} | {fmt(t1 / t0)} | {fmt(t2)} | {fmt(t2 / t0)} |")
        w("")
    else:
        w("Not measured in this run: " + ("; ".join(x for x in bench.skipped if "tracing" in x) or
                                           "no program lists --trace") + "\n")

    begin("findings")
    w("## Findings, generated from this run\n")
    for line in findings(bench):
        w(f"- {line}")
    w("")

    begin("references")
    w("## Ceilings (bench/ref) and the notebook's Python (bench/python)\n")
    w("| program | variant | w | n | unit | median | min..max (IQR) |")
    w("|---|---|---|---|---|---|---|")
    for m in bench.measurements:
        if m.kind in ("ref", "python"):
            w(f"| {m.model}/{m.concept} | {m.variant} | {m.workers} | {m.n} | {m.unit} | {fmt(m.median)} | "
              f"{spread_pct(m)} |")
    w("")

    begin("whole")
    whole = [m for m in bench.measurements if m.kind == "whole"]
    if whole:
        w(f"## Whole commands (hyperfine, start-up included, {CORES} workers): the pool cell at n = 10, and spawn\n")
        w("| command | median s | min..max |")
        w("|---|---|---|")
        for m in whole:
            lo, hi, _, _ = m.spread
            w(f"| {m.variant} | {fmt(m.median)} | {fmt(lo)}..{fmt(hi)} |")
        w("")

    begin("plots")
    if plots:
        w("## Plots\n")
        for title, file in plots:
            w(f"![{title}]({file.name})\n")
    begin("skipped")
    if bench.skipped or bench.notes:
        w("## Skipped and noted\n")
        for s in bench.skipped:
            w(f"- skipped: {s}")
        for s in bench.notes:
            w(f"- note: {s}")
        w("")
    path.write_text("\n".join(out))
    bounds = starts + [("", len(out))]
    return {name: "\n".join(out[a:b]) for (name, a), (_, b) in zip(bounds, bounds[1:])}


def update_doc(doc, sections, out_dir):
    """Replaces each block between <!-- bench:NAME --> and <!-- /bench:NAME --> in doc with the
    report's section NAME (its own heading dropped; image links made relative to the doc)."""
    text = doc.read_text()
    rel = os.path.relpath(out_dir, doc.parent)
    for name, body in sections.items():
        lines = body.strip("\n").splitlines()
        if lines and lines[0].startswith("## "):
            lines = lines[1:]
        body = "\n".join(lines).strip("\n")
        body = re.sub(r"!\[([^\]]*)\]\(([^)/]+\.png)\)", lambda m: f"![{m.group(1)}]({rel}/{m.group(2)})", body)
        text = re.sub(rf"(<!-- bench:{name} -->).*?(<!-- /bench:{name} -->)",
                      lambda m: m.group(1) + "\n" + body + "\n" + m.group(2), text, flags=re.S)
    doc.write_text(text)


SPEEDUP_BASELINE = ("one thread storing i*i*i into pages touched before the clock "
                    "(`bench/ref/store --variant prefault -w 1`): the plain loop doing exactly the work "
                    "pool_cube times")
# The one variant per model a figure shows (the tables have all of them)
FIGURE_VARIANT = {"posix": "thread", "omp": "static", "mpi": "scatter"}
# Per model and reference: colour (colour-blind safe), point shape, dash, width; distinct in greyscale too
STYLE = {"posix": ("#0072b2", 7, 1, 2.5), "omp": ("#e69f00", 5, 1, 2.5), "mpi": ("#009e73", 9, 1, 2.5),
         "baseline": ("#000000", 4, 2, 2.5), "ceiling": ("#707070", 6, 4, 2.5),
         "python": ("#c00000", 11, 1, 2.5), "python2": ("#cc79a7", 13, 3, 2.5), "python3": ("#000000", 4, 2, 2.5)}


def pages_rows(data):
    rows = []
    for n in sorted({m.n for m in data.measurements if m.kind == "ref" and m.concept == "store"}):
        fresh = data.find("ref", "store", "fresh", workers=data.cores, n=n)
        touched = data.find("ref", "store", "prefault", workers=data.cores, n=n)
        if fresh and touched:
            rows.append((n, fresh, touched))
    return rows


def figure_variant(data, model):
    variants = sorted({m.variant for m in data.measurements if m.kind == "suite" and m.concept == "pool_cube"
                       and m.model == model and m.role not in ("uneven", "trace")})
    if not variants:
        return None
    return FIGURE_VARIANT[model] if FIGURE_VARIANT.get(model) in variants else variants[0]


def pool_points(data, model, variant, workers=None, n=None):
    return {(m.n if workers is not None else m.workers): m.median for m in data.measurements
            if m.kind == "suite" and m.concept == "pool_cube" and m.model == model and m.variant == variant
            and m.role not in ("uneven", "trace") and (workers is None or m.workers == workers)
            and (n is None or m.n == n)}


def ref_points(data, concept, variant, workers=None, n=None):
    return {(m.n if workers is not None else m.workers): m.median for m in data.measurements
            if m.kind == "ref" and m.concept == concept and m.variant == variant
            and (workers is None or m.workers == workers) and (n is None or m.n == n)}


def pool_series(data):
    """(name, style, {n: elements/s}) for 'from which n does parallel pay?': one line per model at
    one worker per core, the one-thread baseline and the touched-pages store ceiling."""
    series = []
    for model in MODELS:
        variant = figure_variant(data, model)
        pts = pool_points(data, model, variant, workers=data.cores) if variant else {}
        if pts:
            series.append((f"{model} {variant}, {data.cores} workers", model, pts))
    base = ref_points(data, "store", "prefault", workers=1)
    if base:
        series.append(("1 thread, plain loop (baseline)", "baseline", base))
    ceil = ref_points(data, "store", "prefault", workers=data.cores) if data.cores > 1 else {}
    if ceil:
        series.append((f"{data.cores} threads, plain store (ceiling)", "ceiling", ceil))
    return series


def speedup_series(data, figure=False):
    """(name, style, {workers: speedup over SPEEDUP_BASELINE}) at one n: every variant, or (figure)
    the one variant per model the figure shows."""
    n = data.scale_n
    base = data.find("ref", "store", "prefault", workers=1, n=n)
    if not base:
        return []
    out = []
    for model in MODELS:
        for variant in sorted({m.variant for m in data.measurements if m.kind == "suite" and m.model == model
                               and m.concept == "pool_cube" and m.role not in ("uneven", "trace")}):
            if figure and variant != figure_variant(data, model):
                continue
            pts = pool_points(data, model, variant, n=n)
            if len(pts) > 1:
                out.append((f"{model} {variant}", model, {w: v / base.median for w, v in pts.items()}))
    pts = ref_points(data, "store", "prefault", n=n)
    if pts:
        out.append(("plain store, touched pages (ceiling)", "ceiling", {w: v / base.median for w, v in pts.items()}))
    return out


def crossing(points, other, above=True):
    """The first x from which points stays above other (log-interpolated between the two xs around it)."""
    xs = sorted(x for x in points if x in other)
    first = None
    for i in range(len(xs) - 1, -1, -1):
        if (points[xs[i]] > other[xs[i]]) == above:
            first = i
        else:
            break
    if first is None or first == 0:
        return None
    x0, x1 = xs[first - 1], xs[first]
    d0 = points[x0] / other[x0]
    d1 = points[x1] / other[x1]
    import math
    f = (0 - math.log(d0)) / (math.log(d1) - math.log(d0)) if d1 != d0 else 1
    if x0 > 0 and x1 > 0 and x1 / x0 > 2:
        x = math.exp(math.log(x0) + f * (math.log(x1) - math.log(x0)))
    else:
        x = x0 + f * (x1 - x0)
    y = other[x0] * (other[x1] / other[x0]) ** f if other[x0] > 0 else other[x1]
    return x, y


def findings(data):
    """Sentences with measured figures: the prose of docs/benchmarks.md quotes only these."""
    out = []
    big = max((m.n for m in data.measurements if m.kind == "suite" and m.concept == "pool_cube"), default=None)
    base = data.find("ref", "store", "prefault", workers=1, n=big) if big else None
    if base:
        best = [(m.median / base.median, m) for m in data.measurements if m.kind == "suite"
                and m.concept == "pool_cube" and m.n == big and m.workers == data.cores
                and m.role not in ("uneven", "trace")]
        ceil = data.find("ref", "store", "prefault", workers=data.cores, n=big)
        if best:
            r, m = max(best, key=lambda p: p[0])
            lo = min(best, key=lambda p: p[0])
            out.append(f"pool_cube at n = {big:.0e}, {data.cores} workers, against one thread storing into touched "
                       f"pages: from {lo[0]:.2f}x ({lo[1].model} {lo[1].variant}) to {r:.2f}x ({m.model} {m.variant})"
                       + (f"; the {data.cores}-thread store ceiling itself is {ceil.median / base.median:.2f}x"
                          if ceil else "") + ".")
    rows = pages_rows(data)
    if rows:
        n, fresh, touched = rows[-1]
        out.append(f"Page faults: storing into touched pages is {touched.median / fresh.median:.2f}x as fast as "
                   f"into fresh pages at n = {n:.0e} ({data.cores} threads).")
    for variant, name in (("map", "Pool.map (pool already started)"), ("map-start", "Pool() + map (the notebook's cell)")):
        ratios = []
        for m in data.measurements:
            if m.kind == "python" and m.concept == "pool_cube" and m.variant == variant:
                loop = data.find("python", "pool_cube", "loop", n=m.n)
                if loop:
                    ratios.append(m.median / loop.median)
        if ratios:
            out.append(f"Python {name} against Python's plain loop: {min(ratios):.2f}x to {max(ratios):.2f}x.")
    for model, variant in (("omp", "reduction"), ("mpi", "reduce")):
        m = data.find("suite", "counter", variant, model=model)
        if m and m.ceiling_name:
            out.append(f"counter {model} {variant}: {m.ceiling_ratio:.2f} of {m.ceiling_name}.")
    sp = data.find("suite", "spawn", "parallel", model="omp", role="main")
    if sp and sp.extras.get("reuse_s"):
        first = statistics.median(sp.extras.get("create_join_s", sp.values))
        out.append(f"omp spawn: the first parallel region (which creates the team) costs {first * 1e6:.0f} us per "
                   f"worker, a region on the reused team {statistics.median(sp.extras['reuse_s']) * 1e6:.1f} us.")
    if getattr(data, "wall_s", None) and data.wall_s == data.wall_s:  # nan: redrawn from a CSV
        out.append(f"This bench run took {data.wall_s:.0f} s of its {data.mode['budget_s']} s budget.")
    return out


# ---------------------------------------------------------------- plots

def write_table(path, header, rows):
    with open(path, "w") as f:
        f.write("\t".join(f'"{h}"' for h in header) + "\n")
        for row in rows:
            f.write("\t".join(r if isinstance(r, str) else ("?" if r != r else f"{r:.6g}") for r in row) + "\n")


def gnuplot(script, out_png, variables):
    args = ["gnuplot"]
    for k, v in variables.items():
        args += ["-e", f"{k}={v}" if isinstance(v, (int, float)) else f"{k}='{str(v).replace(chr(39), chr(39) * 2)}'"]
    args.append(str(GNUPLOT_DIR / script))
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not out_png.exists():
        raise RunFailed(f"gnuplot {script}: {proc.stderr.strip()[-400:]}")


def line_plot(tmp, out_png, name, series, annotations, title, subtitle, xlabel, ylabel, logx, logy, ideal=0):
    xs = sorted({x for _, _, p in series for x in p})
    write_table(tmp / f"{name}.dat", ["x"] + [label for label, _, _ in series],
                [[float(x)] + [p.get(x, float("nan")) for _, _, p in series] for x in xs])
    with open(tmp / f"{name}.ann", "w") as f:
        # label_y: each label one step higher than the one before, so two crossings close
        # together do not print their labels over each other
        f.write("x\ty\tlabel\tlabel_y\n")
        for row, (x, y, label) in enumerate(sorted(annotations)):
            label_y = y * 1.8 ** (row + 1) if logy else y + 0.12 * (row + 1)
            f.write(f"{x:.6g}\t{y:.6g}\t\"{label}\"\t{label_y:.6g}\n")
        if not annotations:
            f.write("?\t?\t\"\"\t?\n")
    styles = [STYLE[s] for _, s, _ in series]
    gnuplot("lines.gp", out_png, {
        "datafile": tmp / f"{name}.dat", "annfile": tmp / f"{name}.ann", "out": out_png, "title": title,
        "subtitle": subtitle, "xlabel": xlabel, "ylabel": ylabel, "logx": int(logx), "logy": int(logy),
        "nseries": len(series), "ideal": ideal,
        "colours": " ".join(c for c, _, _, _ in styles), "points": " ".join(str(p) for _, p, _, _ in styles),
        "dashes": " ".join(str(d) for _, _, d, _ in styles), "widths": " ".join(str(w) for _, _, _, w in styles)})


BAR_KINDS = [("reference (bench/ref)", "#303030", 3), ("posix", "#56b4e9", 3), ("omp", "#e69f00", 4),
             ("mpi", "#009e73", 2), ("notebook's Python", "#c00000", 6)]


def bar_plot(tmp, out_png, name, groups, title, subtitle, ylabel, scale=1.0, logy=True):
    """groups: [(group name, [(bar label, value, kind index 1..5), ...]), ...] drawn left to right."""
    rows, heads, x = [], [], 0
    for group, bars in groups:
        if not bars:
            continue
        heads.append((x + (len(bars) - 1) / 2, group))
        for label, value, kind in bars:
            rows.append([float(x), value * scale, float(kind), label, f"{value * scale:.2g}"])
            x += 1
        x += 1  # a gap between groups
    if not rows:
        return False
    write_table(tmp / f"{name}.dat", ["x", "value", "kind", "label", "shown"], rows)
    write_table(tmp / f"{name}.groups", ["x", "group"], [[float(gx), g] for gx, g in heads])
    gnuplot("bars.gp", out_png, {
        "datafile": tmp / f"{name}.dat", "groupfile": tmp / f"{name}.groups", "out": out_png, "title": title,
        "subtitle": subtitle, "ylabel": ylabel, "logy": int(logy), "nkinds": len(BAR_KINDS), "ytop": 12.0 if logy else 1.25,
        "kindnames": " ".join(f'"{k}"' for k, _, _ in BAR_KINDS),
        "usedkinds": " " + " ".join(str(k) for k in sorted({int(r[2]) for r in rows})) + " ",
        "kindcolours": " ".join(c for _, c, _ in BAR_KINDS), "kindpatterns": " ".join(str(p) for _, _, p in BAR_KINDS)})
    return True


KIND_INDEX = {"ref": 1, "posix": 2, "omp": 3, "mpi": 4, "python": 5}
COUNTER_GROUP = {"mutex": "lock", "spin": "lock", "process": "lock", "critical": "lock", "lock": "lock",
                 "rma-lock": "lock", "value": "lock", "atomic": "atomic", "fetch-op": "atomic",
                 "contended": "atomic", "reduction": "no shared counter", "reduce": "no shared counter",
                 "uncontended": "no shared counter"}


def counter_groups(data):
    groups = {"lock": [], "atomic": [], "no shared counter": []}
    order = {"ref": 0, "posix": 1, "omp": 2, "mpi": 3, "python": 4}
    for m in data.measurements:
        if m.concept == "counter" and m.kind in ("suite", "python") and m.role in ("main", "python"):
            group = COUNTER_GROUP.get(m.variant, "lock")
            family = 1 if m.variant == "spin" else 2 if m.model == "python" else 0
            groups[group].append(((family, order[m.model]), f"{m.model} {m.variant}", m.median, KIND_INDEX[m.model]))
        elif m.kind == "ref" and m.concept == "increment" and m.variant in COUNTER_GROUP:
            # the raw primitive first, then what is compared with it
            groups[COUNTER_GROUP[m.variant]].append(((1 if m.variant == "spin" else 0, 0), f"raw {m.variant}",
                                                     m.median, 1))
    # the one-thread loop, once: W copies of it are the no-shared-counter reference
    red = data.find("suite", "counter", "reduction") or data.find("suite", "counter", "reduce")
    loop = (data.find("ref", "loop", "increment", n=red.n) if red else None) or data.find("ref", "loop", "increment")
    if loop:
        groups["no shared counter"].append(((0, 0), f"{data.cores} x 1-thread loop", loop.median * data.cores, 1))
    return [(g, [(label, v, k) for _, label, v, k in sorted(bars, key=lambda b: b[0])]) for g, bars in groups.items()]


def spawn_groups(data):
    threads, procs, ranks = [], [], []
    for m in data.measurements:
        if m.concept != "spawn" or m.kind not in ("suite", "ref", "python"):
            continue
        k = KIND_INDEX[m.model]
        if m.kind == "ref":
            (threads if m.variant == "thread" else procs).insert(0, (f"raw {'pthread' if m.variant == 'thread' else 'fork'}", m.median, 1))
        elif m.model == "omp":
            tag = " (passive)" if "passive" in m.variant else ""
            first = statistics.median(m.extras["create_join_s"]) if m.extras.get("create_join_s") else m.median
            threads.append((f"omp first region{tag}", first, k))
            if m.extras.get("reuse_s"):
                threads.append((f"omp team reused{tag}", statistics.median(m.extras["reuse_s"]), k))
        elif m.model == "mpi" and m.variant == "ranks":
            ranks.append(("mpi ranks", m.median, k))
        elif m.variant in ("thread",):
            threads.append((f"{m.model} thread", m.median, k))
        else:
            procs.append((f"{m.model} {m.variant}", m.median, k))
    return [("threads", threads), ("processes", procs), ("MPI ranks", ranks)]


def uneven_groups(data):
    groups = {}
    for m in data.measurements:
        if m.role == "uneven":
            groups.setdefault(m.model, []).append((f"{m.model} {m.variant}", statistics.median(m.elapsed),
                                                   KIND_INDEX[m.model]))
    return list(groups.items())


def make_plots(data, out_dir, stem, subtitle, skip=print):
    """The figures, one question each: [(question, png)]. data: a Bench, or Results (bench/plot)."""
    if not shutil.which("gnuplot"):
        skip("gnuplot not found: plots left out (apt-get install gnuplot-nox)")
        return []
    plots = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # 1. from which n does each model beat one thread?
        series = pool_series(data)
        if len(series) > 1:
            base = next((p for _, s, p in series if s == "baseline"), None)
            ann = []
            for label, style, pts in series:
                if style in MODELS and base:
                    c = crossing(pts, base)
                    if c:
                        ann.append((c[0], c[1], f"{style} passes 1 thread"))
            png = out_dir / f"{stem}-pool_cube_n.png"
            line_plot(tmp, png, "pool_n", series, ann, "pool_cube: from which n does each model beat one thread?\n"
                      "(elements per second, higher is better)", subtitle, "n (elements cubed)",
                      "elements per second", True, True)
            plots.append(("From which n does each model's pool_cube beat one thread?", png))
        # 2. how does each model scale with workers, over the same baseline?
        sp = speedup_series(data, figure=True)
        if sp:
            # no crossing marks: a line that dips below 1 and back is noise, not an answer
            png = out_dir / f"{stem}-pool_cube_speedup.png"
            line_plot(tmp, png, "speedup", sp, [], f"pool_cube: how does each model scale with workers? "
                      f"(n = {data.scale_n:.0e})", subtitle, "working workers (threads, processes, or ranks that compute)",
                      "speedup over 1 thread storing into touched pages", False, False, ideal=data.cores)
            plots.append(("How does each model scale with workers, against one baseline?", png))
        # 3. what do first-touch page faults cost?
        rows = pages_rows(data)
        if rows:
            series = [("fresh pages (faulted inside the clock)", "ceiling", {n: f.median for n, f, _ in rows}),
                      ("touched pages (before the clock)", "baseline", {n: t.median for n, _, t in rows})]
            png = out_dir / f"{stem}-pages.png"
            line_plot(tmp, png, "pages", series, [], f"store ceiling, {data.cores} threads: what do page faults cost? "
                      "(elements per second)", subtitle, "n (elements stored)", "elements per second", True, True)
            plots.append(("How much faster is a store into touched pages than into fresh ones?", png))
        # 4. Python: does Pool ever beat the plain loop?
        py = [(name, style, {m.n: m.median for m in data.measurements if m.kind == "python"
                             and m.concept == "pool_cube" and m.variant == variant})
              for variant, name, style in (("loop", "plain loop (baseline)", "python3"),
                                           ("map", "Pool.map, pool started before", "python"),
                                           ("map-start", "Pool() + map (the notebook's cell)", "python2"))]
        py = [s for s in py if s[2]]
        if len(py) > 1:
            ann = []
            for label, style, pts in py[1:]:
                c = crossing(pts, py[0][2])
                if c:
                    ann.append((c[0], c[1], f"{label.split(',')[0]} passes the loop"))
            png = out_dir / f"{stem}-python_pool.png"
            line_plot(tmp, png, "python", py, ann, "the notebook's Python: does Pool.map ever beat a plain loop? "
                      "(elements per second)", subtitle, "n (elements cubed)", "elements per second", True, True)
            plots.append(("Does Python's Pool.map ever beat a plain Python loop?", png))
        # 5. counter, grouped
        png = out_dir / f"{stem}-counter.png"
        if bar_plot(tmp, png, "counter", counter_groups(data), "counter: how fast is each way to count, beside "
                    "its raw primitive? (increments per second, higher is better)", subtitle,
                    "increments per second (log)"):
            plots.append(("Which way of sharing a counter is fastest, and how close to its raw primitive?", png))
        # 6. spawn
        png = out_dir / f"{stem}-spawn.png"
        if bar_plot(tmp, png, "spawn", spawn_groups(data), "spawn: what does starting and joining one worker "
                    "cost? (lower is better)", subtitle + "\nomp: the first region creates the team; later "
                    "regions reuse it. passive: OMP_WAIT_POLICY=passive, idle threads sleep instead of spinning",
                    "microseconds per worker (log)", scale=1e6):
            plots.append(("What does starting one worker cost, per mechanism?", png))
        # 7. uneven work
        png = out_dir / f"{stem}-uneven.png"
        groups = uneven_groups(data)
        if groups and bar_plot(tmp, png, "uneven", groups, "pool_cube --uneven: which schedule finishes uneven "
                               "work first? (lower is better)", subtitle, "elapsed seconds", logy=False):
            plots.append(("On uneven work, which schedule finishes first?", png))
    return plots


# ---------------------------------------------------------------- results read back

def subtitle_of(info, stem):
    return f"{info['cpu_model']}, {info['cores']} cores, {info['host']}, {stem.split('-quick')[0]}"


class Results:
    """Measurements read back from a bench CSV (or from RESULT lines, bench/plot): what the tables,
    findings and plots need, without running anything."""

    def __init__(self, measurements, cores, mode_name="full"):
        self.measurements = measurements
        self.cores = cores
        self.mode_name = mode_name
        self.mode = dict(MODES.get(mode_name, MODES["full"]))
        pool = [m for m in measurements if m.concept == "pool_cube" and m.kind == "suite"]
        # the speedup's n: the n measured with the most worker counts
        by_n = {}
        for m in pool:
            by_n.setdefault(m.n, set()).add(m.workers)
        self.scale_n = max(by_n, key=lambda n: (len(by_n[n]), n)) if by_n else self.mode["scale_n"]
        self.mode["scale_n"] = self.scale_n
        self.wall_s = None
        self.skipped, self.notes, self.failures = [], [], []
        self.variants = {}
        for m in measurements:
            self.variants.setdefault((m.model, m.concept), [])
            if m.variant not in self.variants[(m.model, m.concept)]:
                self.variants[(m.model, m.concept)].append(m.variant)

    find = Bench.find

    def has(self, model, concept):
        return (model, concept) in self.variants


def load_csv(path):
    """(Results, info) from bench/results/<stem>.csv. Each row keeps its median, min, max and
    quartiles (as five values, so median and spread come back as written)."""
    ms, info = [], {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            info = {k: row.get(k, "") for k in ("host", "cpu_model", "cores", "mem_gib", "kernel", "cc", "mpi",
                                                 "python", "mode", "date")}
            vals = [float(row[k]) for k in ("min", "q1", "median", "q3", "max")]
            m = Measurement(row["kind"], row["role"], row["concept"], row["model"], row["variant"],
                            int(row["workers"]), int(row["n"]), tuple(row["extra_args"].split()),
                            RATE if "/s" in row["metric_unit"] or row["metric_unit"] == "per s" else COST,
                            row["metric_unit"], values=vals,
                            elapsed=[float(e) for e in row["elapsed_s_runs"].split()] or [float(row["median_elapsed_s"])],
                            ceiling_name=row.get("ceiling", ""),
                            ceiling=float(row["ceiling_value"]) if row.get("ceiling_value") else float("nan"),
                            python_name=row.get("python", ""),
                            python=float(row["python_value"]) if row.get("python_value") else float("nan"),
                            coord=row.get("coordinator") or "")
            for item in (row.get("extras") or "").split():
                key, _, values = item.partition("=")
                m.extras[key] = [float(v) for v in values.split(",")]
            ms.append(m)
    return Results(ms, int(info.get("cores") or CORES), info.get("mode") or "full"), info


def results_from_lines(lines, cores=None):
    """Results from RESULT lines (a student's `... | tail -1` outputs, one per run): runs of the same
    concept, model, variant, workers and n are one measurement (median of the runs)."""
    groups = {}
    for line in lines:
        r = suite_runner.parse_result(line[line.find("RESULT "):].strip()) if "RESULT " in line else {}
        if not r or "concept" not in r or r.get("status") != "PASS":
            continue
        model, concept, variant = r.get("model", "?"), r["concept"], r.get("variant", "default")
        workers, n = int(r.get("workers", 1)), int(r.get("n", 0))
        kind = "suite" if model in MODELS else ("python" if model == "python" else "ref")
        role = {"suite": "main", "python": "python", "ref": "ceiling"}[kind]
        key = (kind, concept, model, variant, workers, n)
        mkind, unit, value = metric_value(concept, r, n, workers)
        m = groups.get(key)
        if m is None:
            m = groups[key] = Measurement(kind, role, concept, model, variant, workers, n, (), mkind, unit,
                                          coord=" ".join(f"{k}={r[k]}" for k in COORD_KEYS if k in r))
        m.values.append(value)
        m.elapsed.append(float(r["elapsed_s"]))
        for k in EXTRA_KEYS:
            if k in r:
                m.extras.setdefault(k, []).append(float(r[k]))
    ms = list(groups.values())
    pool = [m.workers for m in ms if m.concept == "pool_cube" and m.kind == "suite"]
    cores = cores or (max(pool) if pool else CORES)
    return Results(ms, cores)


# ---------------------------------------------------------------- main

def main():
    global MPIRUN
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short run (make bench QUICK=1)")
    parser.add_argument("--out", default="bench/results", help="folder for the CSV, Markdown and PNGs")
    parser.add_argument("--mpirun", default=os.environ.get("MPIRUN", "mpirun"))
    parser.add_argument("--update-doc", default="",
                        help="rewrite the <!-- bench:NAME --> sections of this Markdown file (docs/benchmarks.md)")
    parser.add_argument("--only", default="", help="comma-separated concepts (ceilings are always measured)")
    parser.add_argument("--from-csv", default="",
                        help="measure nothing: redraw the plots and tables (and --update-doc) from this results CSV")
    parser.add_argument("--budget", type=float, default=0,
                        help="time budget in seconds instead of the mode's (MODES budget_s)")
    args = parser.parse_args()
    if args.budget:
        for mode in MODES.values():
            mode["budget_s"] = args.budget
            mode["reserve_s"] = min(mode["reserve_s"], args.budget / 4)
    MPIRUN = args.mpirun
    out_dir = (ROOT / args.out) if not Path(args.out).is_absolute() else Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    only = {c for c in args.only.split(",") if c}

    if args.from_csv:
        csv_path = Path(args.from_csv)
        data, info = load_csv(csv_path)
        stem = csv_path.stem
        plots = make_plots(data, csv_path.parent, stem, subtitle_of(info, stem))
        info.setdefault("clang", "")
        md = csv_path.parent / f"{stem}.md"
        kept = md.read_text() if md.exists() else ""
        sections = write_markdown(data, md, info, info.get("date", ""), plots)
        # the run's own load and wall time are not in the CSV: its Markdown keeps the run's lines
        kept_machine = re.search(r"(?s)\nMachine: .*?(?=\n## )", kept)
        if kept_machine:
            text = md.read_text()
            md.write_text(re.sub(r"(?s)\nMachine: .*?(?=\n## )", lambda _: kept_machine.group(0), text, count=1))
        if args.update_doc:
            sections.pop("machine", None)  # load and wall time are not in the CSV: that block stays
            update_doc(ROOT / args.update_doc, sections, csv_path.parent)
            print(f"  updated the generated sections of {args.update_doc}")
        for _, png in plots:
            print(f"  wrote {png}")
        return 0
    info = machine()
    date = datetime.date.today().isoformat()
    stem = f"{date}-{info['host']}" + ("-quick" if args.quick else "")
    mode = "quick" if args.quick else "full"
    print(f"bench: {mode} run on {info['cpu_model']} ({CORES} cores); load average {os.getloadavg()[0]:.2f}; "
          f"results in {out_dir.relative_to(ROOT) if out_dir.is_relative_to(ROOT) else out_dir}/{stem}.*",
          flush=True)
    bench = Bench(mode, out_dir, only)
    bench.run()
    plots = make_plots(bench, out_dir, stem, subtitle_of(info, stem), skip=bench.skip)
    write_csv(bench, out_dir / f"{stem}.csv", info, date)
    sections = write_markdown(bench, out_dir / f"{stem}.md", info, date, plots)
    if args.update_doc:
        update_doc(ROOT / args.update_doc, sections, out_dir)
        print(f"  updated the generated sections of {args.update_doc}")
    print(f"bench: {len(bench.measurements)} measurements, {len(bench.skipped)} skipped, "
          f"{len(bench.failures)} failed, {bench.wall_s:.0f} s measuring + "
          f"{time.monotonic() - bench.started - bench.wall_s:.0f} s writing, of a {bench.mode['budget_s']} s "
          f"budget; load average {os.getloadavg()[0]:.2f}")
    for what, detail, ratio, goal, met in targets(bench):
        print(f"  target {met:>3}: {what}: {ratio} (goal {goal})")
    for name in (f"{stem}.csv", f"{stem}.md", *(p.name for _, p in plots)):
        print(f"  wrote {(out_dir / name).relative_to(ROOT) if out_dir.is_relative_to(ROOT) else out_dir / name}")
    if bench.failures:
        print(f"bench: {len(bench.failures)} failure(s):", file=sys.stderr)
        for f in bench.failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    return 0


MPIRUN = "mpirun"

if __name__ == "__main__":
    sys.exit(main())
