"""README's figures about the code itself are measured, not remembered.

The README says how many lines `diff omp/counter.c mpi/counter.c` marks as changed and how many of
them are in main(); tools/model-diff measures them. A change to either file that moves the figures
fails here until the sentence is updated.
"""
import importlib.machinery
import importlib.util
import re

from suite import ROOT, ordinary_build_only

pytestmark = ordinary_build_only


def model_diff():
    loader = importlib.machinery.SourceFileLoader("model_diff", str(ROOT / "tools" / "model-diff"))
    spec = importlib.util.spec_from_loader("model_diff", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_readme_diff_figures_are_measured():
    text = " ".join((ROOT / "README.md").read_text().split())
    quoted = re.search(r"diff omp/(\w+)\.c mpi/\1\.c` lines them up.*?of its (\d+) changed lines, "
                       r"(\d+) are in `main`", text)
    assert quoted, "README no longer quotes the diff figures in the sentence this test reads"
    concept, changed, in_main = quoted.group(1), int(quoted.group(2)), int(quoted.group(3))
    figures = model_diff().figures(concept)
    assert (changed, in_main) == (figures["changed"], figures["main_changed"]), \
        f"README says {changed} and {in_main}; tools/model-diff measures {figures}"
