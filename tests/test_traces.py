"""--trace on every program: a valid Chrome trace, tied to the RESULT line, and free of side effects.

The format's rules are tests/trace_format.py's; what each concept's events must show (one map
event per element range, every queue item got once, lock holds that never overlap, the race's
overlapping read..write, every stop after the request) is each concept's row in
tests/concepts.py (trace_check).
"""
import json

import pytest

from concepts import CONCEPTS
from suite import BIN_DIR, run
from trace_format import problems

CASES = [(m, c, v) for c, concept in CONCEPTS.items() for m in ("posix", "omp", "mpi")
         for v in concept.variants[m] if (BIN_DIR / m / c).exists()]


def traced_run(model, name, variant, tmp_path, n=None, workers=2):
    concept = CONCEPTS[name]
    path = tmp_path / "trace.json"
    size = n if n is not None else concept.sizes[-1] if concept.sizes[-1] <= 1000 else 1000
    args = ["-n", size, "--variant", variant, "--quiet", "--trace", path, *concept.args]
    if model != "mpi":
        args += ["-w", workers]
    r = run(model, name, args, np=workers + (1 if concept.coordinator.get((model, variant)) else 0),
            timeout=concept.timeout)
    return r, path, size


@pytest.mark.parametrize("model,name,variant", CASES, ids=["-".join(c) for c in CASES])
def test_trace_is_valid_and_tied_to_the_result(model, name, variant, tmp_path):
    r, path, size = traced_run(model, name, variant, tmp_path)
    assert r.returncode == 0, r.describe()
    assert r.result.get("status") == "PASS", r.describe()
    assert path.exists(), "no trace written\n" + r.describe()
    assert not list(tmp_path.glob("trace.json.tmp*")), "the temporary file was left behind"
    data = json.loads(path.read_text())
    assert problems(data) == []
    assert data["otherData"]["variant"] == variant
    check = CONCEPTS[name].trace_check
    assert check is not None, f"{name} has no trace_check in tests/concepts.py"
    check(data, r.result, model, variant)


@pytest.mark.parametrize("model,name,variant", CASES, ids=["-".join(c) for c in CASES])
def test_an_unwritable_trace_path_is_a_usage_error(model, name, variant, tmp_path):
    r = run(model, name, ["--variant", variant, "--trace", tmp_path / "no-such-folder" / "t.json"],
            np=2)
    assert r.returncode == 2, r.describe()
    assert "--trace" in r.stderr and "RESULT" not in r.stdout


def test_the_checker_catches_broken_traces():
    good = {"otherData": {"dropped_events": 0}, "traceEvents": [
        {"ph": "M", "name": "thread_name", "pid": 0, "tid": 1, "args": {"name": "worker 0"}},
        {"ph": "X", "name": "chunk", "ts": 1.0, "dur": 2.0, "pid": 0, "tid": 1},
        {"ph": "s", "name": "m", "ts": 1.0, "pid": 0, "tid": 1, "id": 7},
        {"ph": "f", "name": "m", "ts": 2.0, "pid": 0, "tid": 1, "id": 7, "bp": "e"}]}
    assert problems(good) == []
    backwards = json.loads(json.dumps(good))
    backwards["traceEvents"][3]["ts"] = 0.5
    assert any("backwards" in p for p in problems(backwards))
    unnamed = json.loads(json.dumps(good))
    unnamed["traceEvents"][1]["tid"] = 9
    assert any("thread_name" in p for p in problems(unnamed))
    no_dur = json.loads(json.dumps(good))
    del no_dur["traceEvents"][1]["dur"]
    assert problems(no_dur)
