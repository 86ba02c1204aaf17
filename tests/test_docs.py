"""The lab guide cannot rot: every command the docs mark as runnable is run here.

The convention (also explained in docs/index.md, "How the pages are tested"):

- A fenced shell block is runnable when the line just before its opening fence is the HTML comment
  `<!-- runnable -->` (GitHub does not render it). Unmarked blocks are shown, never run: slow
  commands (a full `make bench`), exercises that edit a file, commands that need another machine.
- Each line of a runnable block is one command, run on its own with `bash -c` from the repository
  root; a line ending in a backslash continues on the next one. Blank lines and comment lines are
  skipped, so `export` lines would not carry over: the test gives every command the MPI settings
  of tests/suite.py (MPI_ENV) instead, as docs/index.md tells the reader to export them once.
- A command passes when it exits 0. A trailing comment states more, and is checked:
      ./posix/race                    # prints: end value 1
      ./posix/counter -w 0            # exits: 2
      ./posix/counter -w 0            # exits: 2, prints: see --help
  `prints: TEXT` asks that TEXT appear in a line of the output (stdout or stderr), `exits: N` that
  the exit status be N instead of 0. A comment-only line `# prints: TEXT` right after a command
  adds another TEXT for that command.

Commands with mpirun are skipped when mpirun is missing. Under `make sanitize` (binaries in
another folder) the whole file is skipped: the guide documents the ordinary build.
"""
import os
import re
import subprocess
import time
from dataclasses import dataclass, field

import pytest

from leftovers import TAG_VAR
from suite import MPI_ENV, ORDINARY_BUILD, ROOT, have_mpi, load_scaled, run_bounded

DOCS = ROOT / "docs"
CONCEPT_PAGES = ("spawn", "race", "counter", "queue", "shared_array", "producers", "pool_cube",
                 "cancel")
MARKER = "<!-- runnable -->"
SHELL_LANGS = ("sh", "bash", "shell", "console")
COMMAND_TIMEOUT = 60  # seconds on a quiet machine (load_scaled); every command of the guide takes far less

FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")
# a comment starts at a # preceded by whitespace (a # inside a word, like $#, is not one)
TRAILING_COMMENT = re.compile(r"\s#\s*(.*)$")
CLAIM_EXITS = re.compile(r"exits:\s*(\d+)")
CLAIM_PRINTS = re.compile(r"prints:\s*(.+?)\s*$")


@dataclass
class Command:
    page: str
    line: int
    text: str
    prints: list = field(default_factory=list)
    exits: int = 0

    @property
    def ident(self):
        return f"{self.page}:{self.line}"


def read_claims(comment, command):
    exits = CLAIM_EXITS.search(comment)
    if exits:
        command.exits = int(exits.group(1))
    prints = CLAIM_PRINTS.search(comment)
    if prints:
        command.prints.append(prints.group(1))


def commands_in_block(page, first_line, lines):
    """The commands of one runnable block; first_line is the 1-based line of its first line."""
    commands, pending, start = [], "", None
    for offset, raw in enumerate(lines):
        stripped = raw.strip()
        if not pending:
            if not stripped:
                continue
            if stripped.startswith("#"):  # a comment line: maybe a claim about the last command
                if commands:
                    read_claims(stripped.lstrip("#"), commands[-1])
                continue
            start = first_line + offset
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        text = pending + stripped
        pending = ""
        command = Command(page, start, text)
        comment = TRAILING_COMMENT.search(text)
        if comment:
            command.text = text[:comment.start()].rstrip()
            read_claims(comment.group(1), command)
        commands.append(command)
    assert not pending, f"{page}:{start}: the block ends inside a continued line"
    return commands


def runnable_commands(path):
    """Every command of every block marked runnable in one markdown file."""
    page = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    commands, k = [], 0
    while k < len(lines):
        opening = FENCE.match(lines[k].strip())
        if not opening:
            k += 1
            continue
        fence, lang = opening.group(1), opening.group(2)
        end = k + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        marked = k > 0 and lines[k - 1].strip() == MARKER
        if marked:
            assert lang in SHELL_LANGS, f"{page}:{k + 1}: a runnable block must be a shell block"
            commands += commands_in_block(page, k + 2, lines[k + 1:end])
        k = end + 1
    return commands


def doc_pages():
    return sorted(DOCS.glob("*.md")) if DOCS.is_dir() else []


def all_commands():
    for path in doc_pages():
        yield from runnable_commands(path)


COMMANDS = list(all_commands())

skip_other_build = pytest.mark.skipif(
    not ORDINARY_BUILD, reason="the guide documents the ordinary build, not SUITE_BIN_DIR")


def command_env(command):
    env = dict(os.environ, **MPI_ENV)
    # what the docs promise is the default behaviour, not the caller's settings
    for name in ("OMP_NUM_THREADS", "OMP_CANCELLATION", "OMP_SCHEDULE"):
        env.pop(name, None)
    # nor the knobs of a make that started this test (make program-tests PYTEST_ARGS=...): make
    # passes its command-line variables down, and the docs' own make commands would obey them
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTEST_ARGS", "O", "NP",
                 "QUICK", "BENCH_ARGS", "BENCH_OUT", "K", "FUZZ_SECONDS", "SUITE_BIN_DIR",
                 "SUITE_TSAN_DIR"):
        env.pop(name, None)
    if command.text.startswith("make"):
        # a make target may run a pytest session of its own, which checks for leftovers by this
        # tag: it must not count this test's own shell and make as left behind
        env.pop(TAG_VAR, None)
    return env


def group_of(command):
    # make targets build into shared folders: run them one after another, on one xdist worker
    # and a page's other commands in its order, on one worker: a later line may read what an
    # earlier one wrote (docs/traces.md draws the trace the line above it wrote)
    return "docs-make" if command.text.startswith("make") else f"docs-{command.page}"


@skip_other_build
@pytest.mark.parametrize(
    "command",
    [pytest.param(c, id=c.ident, marks=pytest.mark.xdist_group(group_of(c))) for c in COMMANDS])
def test_runnable_command(command):
    if "mpirun" in command.text and not have_mpi():
        pytest.skip("mpirun not found")
    started = time.monotonic()
    bound = load_scaled(COMMAND_TIMEOUT)
    try:
        proc = run_bounded(["bash", "-c", command.text], bound, cwd=ROOT, env=command_env(command))
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command.ident}: `{command.text}` ran over {bound:.0f} s")
    seconds = time.monotonic() - started
    shown = (f"{command.ident}: $ {command.text}\nexit {proc.returncode} after {seconds:.1f} s\n"
             f"--- stdout (tail)\n{proc.stdout[-2000:]}\n--- stderr (tail)\n{proc.stderr[-2000:]}")
    assert proc.returncode == command.exits, shown
    output_lines = (proc.stdout + "\n" + proc.stderr).splitlines()
    for text in command.prints:
        assert any(text in line for line in output_lines), f"the docs promise {text!r}\n" + shown


def test_every_page_exists():
    missing = [name for name in ("index", *CONCEPT_PAGES) if not (DOCS / f"{name}.md").exists()]
    assert not missing, f"docs pages missing: {missing}"


def test_every_concept_page_has_runnable_commands():
    pages = {c.page for c in COMMANDS}
    bare = [name for name in CONCEPT_PAGES if f"docs/{name}.md" not in pages]
    assert not bare, f"pages without a runnable block: {bare}"


LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_relative_links_resolve():
    """A link from a guide page to another page (or to a source file) points at something that exists.
    (docs/benchmarks.md is generated by make bench, with its own checks.)"""
    broken = []
    guide = [DOCS / f"{name}.md" for name in ("index", *CONCEPT_PAGES)]
    for path in (p for p in guide if p.exists()):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for target, _ in LINK.findall(line):
                if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                    continue
                if not (path.parent / target).resolve().exists():
                    broken.append(f"{path.relative_to(ROOT)}:{number}: {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_parser_reads_the_convention():
    """The extraction itself, on a small sample, so a change to it cannot pass silently."""
    sample = ["./a          # prints: end value 1", "# prints: end main", "",
              "./b -w 0 \\", "   --quiet   # exits: 2, prints: see --help", "# a plain comment"]
    first, second = commands_in_block("page.md", 10, sample)
    assert (first.text, first.line, first.prints, first.exits) == (
        "./a", 10, ["end value 1", "end main"], 0)
    assert (second.text, second.line, second.prints, second.exits) == (
        "./b -w 0 --quiet", 13, ["see --help"], 2)
