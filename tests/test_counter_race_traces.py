"""--trace on counter and race changes no result: the same RESULT keys and values with and without
it (elapsed_s aside; race's got and lost aside too, since how many updates a race loses is up to
the scheduler, traced or not). The events themselves are checked by tests/test_traces.py through
trace_check_counter and trace_check_race (tests/concepts.py)."""
import pytest

from concepts import CONCEPTS
from suite import BIN_DIR, run

CASES = [(m, c, v) for c in ("counter", "race") for m in ("posix", "omp", "mpi")
         for v in CONCEPTS[c].variants[m] if (BIN_DIR / m / c).exists()]
VARIES = {"counter": {"elapsed_s"}, "race": {"elapsed_s", "got", "lost"}}


@pytest.mark.parametrize("model,name,variant", CASES, ids=["-".join(c) for c in CASES])
def test_tracing_changes_no_result(model, name, variant, tmp_path):
    args = ["-n", 20, "--delay-ms", 1, "--variant", variant, "--quiet"]
    if model != "mpi":
        args += ["-w", 3]
    plain = run(model, name, args, np=3)
    traced = run(model, name, [*args, "--trace", tmp_path / "t.json"], np=3)
    assert plain.returncode == traced.returncode == 0, plain.describe() + traced.describe()
    assert (tmp_path / "t.json").exists()
    keep = lambda r: {k: v for k, v in r.result.items() if k not in VARIES[name]}
    assert keep(plain) == keep(traced), plain.describe() + traced.describe()
