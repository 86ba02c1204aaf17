"""The program matrix: every concept x model x variant x workers x n, checked against closed forms.

Rows come from concepts.py; a program joins when its source file exists (posix/NAME.c), so the
matrix covers exactly what the suite contains. Sizes and worker counts follow the contract:
posix and omp with -w 1,2,3,4,7; MPI with -np 1..5 (oversubscribed on small machines).
"""
import pytest

from concepts import CONCEPTS, MPI_RANKS, POSIX_WORKERS
from suite import MODELS, ORDINARY_BUILD, ROOT, run

PRESENT = [(m, c) for c in CONCEPTS for m in MODELS if (ROOT / m / f"{c}.c").exists()]


# make check (pytest -m check) runs one case per variant: 3 workers (more than two cores, and
# an odd count; MPI: -np 3) at the largest matrix size up to CHECK_MAX_N. The bad-input cases of
# the MPI programs are left to make test there (each is an mpirun start-up, ~0.3 s).
CHECK_WORKERS = 3
CHECK_MAX_N = 1000
CHECK_MPI_BAD_ARGS = (["-n", "abc"], ["--variant", "nope"], ["-w", "0"])


def check_n(concept):
    return max(n for n in concept.sizes if n <= CHECK_MAX_N)


def matrix():
    for model, name in PRESENT:
        concept = CONCEPTS[name]
        for variant in concept.variants[model]:
            for workers in (MPI_RANKS if model == "mpi" else POSIX_WORKERS):
                for n in concept.sizes:
                    quick = workers == CHECK_WORKERS and n == check_n(concept)
                    yield pytest.param(model, name, variant, workers, n, concept.args,
                                       id=f"{model}-{name}-{variant}-w{workers}-n{n}",
                                       marks=[pytest.mark.check] if quick else [])
                # the concept's extra rows (e.g. a pause inside the step): their arguments
                # are in the id
                for args, sizes in concept.more_rows:
                    for n in sizes:
                        yield pytest.param(model, name, variant, workers, n, args,
                                           id=f"{model}-{name}-{variant}-w{workers}-n{n}"
                                              f"{''.join(map(str, args))}")


# A hang costs seconds, not a minute: at n <= SMALL_N start-up is nearly all of a run (a few
# seconds quiet), so those rows of the ordinary build get a short bound; run() still stretches it
# with the machine's load. Sanitized builds keep the concept's bound: their MPI start-up (a
# 5-rank comm-spawn above all) is many times slower.
SMALL_N, SMALL_N_TIMEOUT = 1000, 20


def timeout_for(concept, n):
    if n <= SMALL_N and ORDINARY_BUILD:
        return min(concept.timeout, SMALL_N_TIMEOUT)
    return concept.timeout


def workers_args(model, workers):
    return [] if model == "mpi" else ["-w", workers]


@pytest.mark.parametrize("model,name,variant,workers,n,args", list(matrix()))
def test_matrix(model, name, variant, workers, n, args):
    concept = CONCEPTS[name]
    r = run(model, name, ["-n", n, "--variant", variant, "--quiet", *workers_args(model, workers),
                          *args], np=workers, timeout=timeout_for(concept, n))
    assert r.returncode == 0, r.describe()
    assert r.stderr.strip() == "" or model == "mpi", r.describe()
    res = r.result
    assert res, "last line is not a RESULT line\n" + r.describe()
    assert (res["concept"], res["model"], res["variant"]) == (name, model, variant)
    working = concept.working(model, variant, workers)
    assert (int(res["workers"]), int(res["n"]), res["status"]) == (working, n, "PASS")
    if concept.coordinator.get((model, variant)) == "ranks":
        assert int(res["ranks"]) == workers  # rank 0 coordinates: it is counted apart
    assert float(res["elapsed_s"]) >= 0
    assert sum(line.startswith("RESULT ") for line in r.lines) == 1
    concept.verify(res, n, working, model, variant)


@pytest.mark.check
@pytest.mark.parametrize("model,name", PRESENT, ids=[f"{m}-{c}" for m, c in PRESENT])
def test_default_output(model, name):
    """With no arguments a program prints what the notebook printed, in the same order."""
    concept = CONCEPTS[name]
    np = concept.default_workers or 2
    env = {"OMP_NUM_THREADS": None}  # the contract's default, not the caller's
    r = run(model, name, [], np=np, env=env, timeout=concept.timeout)
    assert r.returncode == 0, r.describe()
    assert r.result.get("status") == "PASS", r.describe()
    if model != "mpi" and concept.default_workers:
        assert int(r.result["workers"]) == concept.default_workers
    position = 0
    for expected in concept.default_lines:
        assert expected in r.lines[position:], f"missing {expected!r} in order\n" + r.describe()
        position = r.lines.index(expected, position) + 1


BAD_ARGS = [
    ["-n", "abc"], ["-n", "-5"], ["-n", "12x"], ["-n", ""], ["-n", "0x10"], ["-n", " 7"],
    ["-n", "99999999999999999999999"], ["-n", "99999999999999"], ["-n"], ["--no-such-flag"],
    ["stray"], ["-n", "1\n2"], ["--variant", "nope"], ["--variant"], ["-w", "0"], ["-w", "-1"], ["-w", "100000"],
]


def bad_input_cases():
    for model, name in PRESENT:
        for args in BAD_ARGS:
            quick = model != "mpi" or args in CHECK_MPI_BAD_ARGS
            yield pytest.param(model, name, args, id=f"{model}-{name}-{'_'.join(args) or 'empty'}",
                               marks=[pytest.mark.check] if quick else [])


@pytest.mark.parametrize("model,name,args", list(bad_input_cases()))
def test_bad_input_exits_2_with_one_line(model, name, args):
    if model == "mpi" and args[0] == "-w":
        args = ["-w", "7"]  # MPI takes workers from -np: a -w that disagrees is the usage error
    r = run(model, name, args, np=2)
    assert r.returncode == 2, r.describe()
    naming = [line for line in r.stderr.splitlines() if f"{model}/{name}:" in line]
    assert len(naming) == 1, "expected the error once, naming the program\n" + r.describe()
    assert naming[0].endswith("(see --help)")
    assert "RESULT" not in r.stdout
    if model != "mpi":
        assert r.stderr.count("\n") == 1, r.describe()


@pytest.mark.check
@pytest.mark.parametrize("model,name", PRESENT, ids=[f"{m}-{c}" for m, c in PRESENT])
def test_help_lists_every_variant(model, name):
    r = run(model, name, ["--help"], np=2)
    assert r.returncode == 0, r.describe()
    assert r.stdout.count("usage:") == 1
    for variant in CONCEPTS[name].variants[model]:
        assert variant in r.stdout
    assert r.stderr == "" or model == "mpi"
