"""Numbers in prose come from measurements: a figure the docs state about speed or time either sits
in a generated block (`<!-- bench:NAME -->`, written by bench/run.py from a results CSV) or carries
a check against the results it names, here.

- docs/benchmarks.md's generated blocks (all but `machine` and `plots`, whose inputs are not in the
  CSV) equal what bench/run.py generates from the results CSV the page's plots come from.
- A prose figure followed by `<!-- order: KIND CONCEPT MODEL VARIANT -->` ("on the order of",
  e.g. `100 us<!-- order: suite spawn posix thread -->`) must be within a factor of sqrt(10) = 3.2
  of that measurement's median in the same CSV (units us, ms, s; a bare number is the figure as is).
- Every image docs/benchmarks.md links exists.
No program runs: the results are read back, so the test takes a second.
"""
import importlib.util
import math
import re
import tempfile
from pathlib import Path

import pytest

from suite import ROOT, ordinary_build_only

pytestmark = ordinary_build_only

_spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
bench_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_run)

PAGE = ROOT / "docs" / "benchmarks.md"
CHECKED_PAGES = ("docs/index.md", "docs/benchmarks.md", "README.md")
ORDER = re.compile(r"([\d.]+(?:e[+-]?\d+)?)\s*(us|ms|s|x)?\s*<!-- order: (\S+) (\S+) (\S+) (\S+) -->")
UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "x": 1.0, None: 1.0}
TOLERANCE = math.sqrt(10)  # "on the order of": within half a decade either way
SKIP_BLOCKS = ("machine", "plots")


def results_csv():
    """The CSV the page's figures come from: the stem of the first PNG it links."""
    m = re.search(r"\.\./bench/results/([\w.-]+?)-[a-z_]+\.png", PAGE.read_text())
    assert m, "docs/benchmarks.md links no bench/results PNG"
    path = ROOT / "bench" / "results" / f"{m.group(1)}.csv"
    assert path.exists(), f"{path.relative_to(ROOT)} (named by docs/benchmarks.md's plots) is missing"
    return path


def blocks(text):
    return {m.group(1): m.group(2).strip("\n") for m in
            re.finditer(r"<!-- bench:(\w+) -->(.*?)<!-- /bench:\1 -->", text, flags=re.S)}


def test_generated_blocks_match_their_results():
    data, info = bench_run.load_csv(results_csv())
    with tempfile.TemporaryDirectory() as tmp:
        sections = bench_run.write_markdown(data, Path(tmp) / "x.md", info, info.get("date", ""), [])
        doc = Path(tmp) / "page.md"
        doc.write_text(PAGE.read_text())
        bench_run.update_doc(doc, {k: v for k, v in sections.items() if k not in SKIP_BLOCKS},
                             ROOT / "bench" / "results")
        want = blocks(doc.read_text())
    have = blocks(PAGE.read_text())
    drifted = [name for name in want if name not in SKIP_BLOCKS and want[name] != have.get(name)]
    assert not drifted, (f"docs/benchmarks.md's generated blocks {drifted} differ from what "
                         f"{results_csv().relative_to(ROOT)} gives: run "
                         f"bench/run.py --from-csv {results_csv().relative_to(ROOT)} --update-doc docs/benchmarks.md")


def order_claims():
    for page in CHECKED_PAGES:
        for m in ORDER.finditer((ROOT / page).read_text()):
            yield pytest.param(page, m, id=f"{page}:{m.group(0)[:40]}")


@pytest.mark.parametrize("page,claim", list(order_claims()))
def test_prose_figure_is_on_the_order_of_its_result(page, claim):
    value = float(claim.group(1)) * UNIT[claim.group(2)]
    kind, concept, model, variant = claim.group(3, 4, 5, 6)
    data, _ = bench_run.load_csv(results_csv())
    m = data.find(kind, concept, variant, model=model)
    assert m, f"{page}: no measurement {kind} {concept} {model} {variant} in {results_csv().name}"
    assert m.median / TOLERANCE <= value <= m.median * TOLERANCE, (
        f"{page}: '{claim.group(0)}' states {value:g}, the results say {m.median:g} "
        f"(allowed: within a factor of {TOLERANCE:.1f})")


def test_every_linked_plot_exists():
    for link in re.findall(r"\]\((\.\./bench/results/[^)]+\.png)\)", PAGE.read_text()):
        assert (PAGE.parent / link).resolve().exists(), f"docs/benchmarks.md links {link}, which does not exist"
