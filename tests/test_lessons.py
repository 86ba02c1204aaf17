"""The lesson is in the lesson's file: what a variant is named after appears in its program's code.

A student opening omp/pool_cube.c to learn `schedule(dynamic, CHUNK)` must find that clause there,
not a `schedule(runtime)` set elsewhere; posix/spawn.c must call fork() itself. The table is
tests/concepts.py's MECHANISMS; comments and string literals do not count (a --help line that names
a clause is not the clause).
"""
import re

import pytest

from concepts import CONCEPTS, MECHANISMS, NAMES_NO_CALL
from suite import ROOT, ordinary_build_only

pytestmark = ordinary_build_only

COMMENT_OR_STRING = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def code_of(path):
    """The file without comments and string or character literals (a literal becomes "")."""
    return COMMENT_OR_STRING.sub(lambda m: '""' if m.group(0)[0] in "\"'" else " ", path.read_text())


def normalised(text):
    return re.sub(r"[ \t]+", " ", text)


@pytest.mark.parametrize("model,concept,variant", sorted(MECHANISMS),
                         ids=["-".join(k) for k in sorted(MECHANISMS)])
def test_the_mechanism_is_in_the_file(model, concept, variant):
    code = normalised(code_of(ROOT / model / f"{concept}.c"))
    for needle in MECHANISMS[(model, concept, variant)]:
        assert normalised(needle) in code, f"{model}/{concept}.c ({variant}) does not write {needle!r}"


def test_the_table_names_real_variants():
    for model, concept, variant in MECHANISMS:
        assert variant in CONCEPTS[concept].variants[model], (model, concept, variant)
    # every omp and mpi variant names its mechanism (posix: where the lesson is a call)
    for concept in CONCEPTS.values():
        for model in ("omp", "mpi"):
            for variant in concept.variants[model]:
                key = (model, concept.name, variant)
                assert key in MECHANISMS or key in NAMES_NO_CALL, key


def test_no_variant_is_dispatched_by_position():
    """A variant runs from its row of the program's table, not from an enum mirroring its order."""
    for model in ("posix", "omp", "mpi"):
        for concept in CONCEPTS:
            code = code_of(ROOT / model / f"{concept}.c")
            assert "VARIANT_TABLE(variants)" in code, f"{model}/{concept}.c"
            assert not re.search(r"\bVARIANT_[A-Z_]+\b(?!\()", code.replace("VARIANT_TABLE", "")), \
                f"{model}/{concept}.c still names variants by position"
            assert "variants[opt.variant_index]" in code, f"{model}/{concept}.c does not run its row"


def test_the_stripper_ignores_comments_and_strings():
    sample = ROOT / "tests" / "test_lessons.py"  # any file: check the regular expression alone
    assert code_of(sample)  # reads
    text = 'a /* fork( */ b // fork(\n c "fork(" d'
    assert "fork(" not in COMMENT_OR_STRING.sub(" ", text)
