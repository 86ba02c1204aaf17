"""The labs: skeletons generated from the references, and a checker that really grades.

- The committed skeletons are what tools/make-labs writes from the LAB markers (make labs).
- Every reference passes `check-lab` (24 exercises). A concept whose references have no LAB
  markers yet FAILS here, loudly: the lab is missing, not optional.
- Every untouched skeleton fails `check-lab`, and compiles warning-free under gcc and clang.
- Each typical wrong answer in tests/labs/*.patch (a unified diff against a reference, with
  `exercise:` and `hint:` lines above it) fails `check-lab` with its hint.
- A file that does not compile is shown as the compiler gave it, with the file to fix.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from concepts import CONCEPTS
from suite import MODELS, ROOT, have_mpi, ordinary_build_only

pytestmark = ordinary_build_only

MAKE_LABS = ROOT / "tools" / "make-labs"
CHECK_LAB = ROOT / "tools" / "check-lab"
PATCHES = sorted((ROOT / "tests" / "labs").glob("*.patch"))
EXERCISES = [f"{model}/{concept}" for concept in CONCEPTS for model in MODELS]
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


def marked(exercise):
    return "/* LAB: " in (ROOT / f"{exercise}.c").read_text()


def need_markers(exercise):
    if not marked(exercise):
        pytest.fail(f"{exercise}.c has no LAB markers yet: the lab for {exercise} is missing "
                    "(mark the mechanism's lines, then make labs)", pytrace=False)


def need_toolchain(exercise):
    if exercise.startswith("mpi/") and not have_mpi():
        pytest.skip("no mpirun")


def check_lab(exercise, src, tmp_path):
    """Runs the checker as make check-lab does; returns (exit code, output, summary numbers)."""
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    proc = subprocess.run([sys.executable, str(CHECK_LAB), exercise, "--src", str(src),
                           "--build-dir", str(tmp_path / "build")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    output = proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    match = SUMMARY.match(last)
    assert match, f"the last line is not 'N passed, N failed':\n{output}"
    return proc.returncode, output, (int(match[1]), int(match[2]))


def test_committed_skeletons_are_what_make_labs_writes():
    proc = subprocess.run([sys.executable, str(MAKE_LABS), "--check"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes_check_lab(exercise, tmp_path):
    need_markers(exercise)
    need_toolchain(exercise)
    code, output, (passed, failed) = check_lab(exercise, ROOT / f"{exercise}.c", tmp_path)
    assert code == 0 and failed == 0 and passed > 0, output


@pytest.mark.parametrize("exercise", EXERCISES)
def test_untouched_skeleton_fails_check_lab(exercise, tmp_path):
    need_markers(exercise)
    need_toolchain(exercise)
    skeleton = ROOT / "labs" / f"{exercise}.c"
    assert skeleton.exists(), f"labs/{exercise}.c is missing (make labs)"
    code, output, (passed, failed) = check_lab(exercise, skeleton, tmp_path)
    assert code == 1 and failed > 0, output
    assert "-> " in output, "a failure without a hint:\n" + output


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
@pytest.mark.parametrize("exercise", EXERCISES)
def test_skeleton_compiles_without_warnings(exercise, compiler, tmp_path):
    need_markers(exercise)
    model = exercise.split("/")[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no {compiler}")
    cmd = [compiler, "-std=c11", "-Wall", "-Wextra", "-Werror", "-fopenmp", "-c",
           "-o", str(tmp_path / "skeleton.o"), str(ROOT / "labs" / f"{exercise}.c")]
    env = dict(os.environ)
    if model == "mpi":
        if shutil.which("mpicc") is None:
            pytest.skip("no mpicc")
        cmd[0] = "mpicc"
        env.update(OMPI_CC=compiler, MPICH_CC=compiler)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


def patch_fields(patch):
    text = patch.read_text()
    fields = dict(re.findall(r"^(exercise|hint): (.+)$", text, re.M))
    assert set(fields) == {"exercise", "hint"}, f"{patch.name} needs exercise: and hint: lines"
    return fields["exercise"], fields["hint"]


@pytest.mark.parametrize("patch", PATCHES, ids=[p.stem for p in PATCHES])
def test_wrong_answer_fails_with_its_hint(patch, tmp_path):
    exercise, hint = patch_fields(patch)
    need_markers(exercise)
    need_toolchain(exercise)
    answer = tmp_path / f"{Path(exercise).name}.c"
    applied = subprocess.run(["patch", "-s", "--fuzz=3", "-o", str(answer),
                              str(ROOT / f"{exercise}.c"), str(patch)],
                             capture_output=True, text=True)
    assert applied.returncode == 0, (f"{patch.name} no longer applies to {exercise}.c: make the "
                                     f"same wrong answer again\n{applied.stdout}{applied.stderr}")
    code, output, (passed, failed) = check_lab(exercise, answer, tmp_path)
    assert code == 1 and failed > 0, output
    assert hint in output, f"the hint {hint!r} is missing:\n{output}"


def test_compile_error_names_the_file(tmp_path):
    broken = tmp_path / "counter.c"
    broken.write_text((ROOT / "omp" / "counter.c").read_text() + "int broken(void) { return }\n")
    code, output, (passed, failed) = check_lab("omp/counter", broken, tmp_path)
    assert code == 1 and (passed, failed) == (0, 1), output
    assert "error: expected expression" in output, output  # the compiler's own words
    assert f"fix {broken} at the lines above" in output, output
