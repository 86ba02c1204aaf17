"""pool_cube --trace and --uneven: what the pictures in docs/pool_cube.md show, as checks.

Uneven work (item i costs i/1000 steps) with static: one block per thread, the dear one last;
with dynamic: chunks of both threads interleave over the range. And tracing changes no result:
the RESULT keys are the same with and without --trace, elapsed_s aside (and per_worker where
chunks are taken on demand, which promises no spread).
"""
import json

import pytest

from concepts import CONCEPTS, EQUAL_BLOCKS
from suite import BIN_DIR, run

N = 200000  # uneven: 2e7 steps, a fraction of a second on a loaded machine


def chunks_of(path):
    data = json.loads(path.read_text())
    spans = [e for e in data["traceEvents"] if e.get("ph") == "X" and e["name"] == "chunk"]
    return sorted(((e["args"]["first"], e["args"]["last"], e["tid"]) for e in spans))


def traced(model, variant, tmp_path, *extra):
    path = tmp_path / f"{variant}.json"
    r = run(model, "pool_cube", ["-n", N, "-w", 2, "--variant", variant, "--quiet", "--trace", path,
                                 *extra])
    assert r.returncode == 0 and r.result.get("status") == "PASS", r.describe()
    return r, chunks_of(path)


@pytest.mark.skipif(not (BIN_DIR / "omp" / "pool_cube").exists(), reason="omp/pool_cube not built")
def test_uneven_static_is_one_block_per_thread_the_dear_one_last(tmp_path):
    r, chunks = traced("omp", "static", tmp_path, "--uneven")
    assert [(first, last, tid) for first, last, tid in chunks] == [(0, N // 2 - 1, 1), (N // 2, N - 1, 2)]
    assert r.result["per_worker"] == f"{N // 2},{N // 2}"


@pytest.mark.skipif(not (BIN_DIR / "omp" / "pool_cube").exists(), reason="omp/pool_cube not built")
def test_uneven_dynamic_interleaves_both_threads_chunks(tmp_path):
    r, chunks = traced("omp", "dynamic", tmp_path, "--uneven")
    tracks = [tid for _, _, tid in chunks]
    assert set(tracks) == {1, 2}, "both threads took chunks"
    changes = sum(a != b for a, b in zip(tracks, tracks[1:]))
    assert changes >= 2, f"the threads' chunks do not interleave: {chunks}"


CASES = [(m, v) for m in ("posix", "omp") for v in CONCEPTS["pool_cube"].variants[m]
         if (BIN_DIR / m / "pool_cube").exists()]


@pytest.mark.parametrize("model,variant", CASES, ids=[f"{m}-{v}" for m, v in CASES])
def test_tracing_changes_no_result(model, variant, tmp_path):
    args = ["-n", 1001, "-w", 3, "--variant", variant, "--quiet", "--uneven"]
    plain = run(model, "pool_cube", args)
    r = run(model, "pool_cube", [*args, "--trace", tmp_path / "t.json"])
    assert plain.returncode == 0 and r.returncode == 0, plain.describe() + r.describe()
    ignored = {"elapsed_s"} | (set() if (model, variant) in EQUAL_BLOCKS else {"per_worker"})
    drop = lambda result: {k: v for k, v in result.items() if k not in ignored}
    assert drop(plain.result) == drop(r.result)
