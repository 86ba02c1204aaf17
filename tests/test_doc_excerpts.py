"""Doc excerpts cannot drift: every C block in docs/*.md quotes a source file of the repository.

The convention (docs/index.md, "How the pages are tested"):

- A fenced ```c block quotes the source file named by the last link to a `.c` or `.h` file of the
  repository above it on the page (e.g. `([omp/counter.c](../omp/counter.c))`).
- Its lines appear in that file, in order. A line that is only `...` stands for skipped lines;
  between two such lines the excerpt's non-blank lines are consecutive non-blank lines of the file
  (blank lines and line-end spaces aside; indentation counts only relative to the file's, so an
  excerpt may be dedented as a whole).
- A line that is a whole comment (`/* ... */` or `// ...`) may be the page's own annotation: it is
  not looked for in the file. Code lines are.
- A block that is not a quotation (a sketch of a wrong answer, say) is marked by the line
  `<!-- sketch -->` just before its opening fence.
"""
import re

import pytest

from suite import ROOT, ordinary_build_only

pytestmark = ordinary_build_only

DOCS = ROOT / "docs"
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")
SOURCE_LINK = re.compile(r"\]\((?:\.\./)?((?:posix|omp|mpi|common|bench|tests|labs)/[\w/.-]+\.[ch])\)")
SKIP = re.compile(r"^\s*(\.\.\.|/\*\s*\.\.\.\s*\*/|//\s*\.\.\.)\s*$")
SKETCH = "<!-- sketch -->"
ANNOTATION = re.compile(r"^\s*(/\*.*\*/|//.*)\s*$")


def c_blocks(path):
    """(first line number, source named above, is sketch, lines) of each ```c block."""
    lines = path.read_text().splitlines()
    source, fence, block, start, sketch = None, None, [], 0, False
    for number, line in enumerate(lines, 1):
        match = FENCE.match(line.strip())
        if fence is None:
            if match:
                fence = match.group(1)
                language = match.group(2)
                start, block = number, []
                sketch = number > 1 and lines[number - 2].strip() == SKETCH
                if language != "c":
                    fence = ("other", fence)
            else:
                for found in SOURCE_LINK.findall(line):
                    source = found
        elif isinstance(fence, tuple):
            if line.strip().startswith(fence[1]) and not line.strip()[len(fence[1]):].strip():
                fence = None
        elif line.strip().startswith(fence) and not line.strip()[len(fence):].strip():
            yield start, source, sketch, block
            fence = None
        else:
            block.append(line)


def segments(block):
    """The excerpt split at its `...` lines; each segment a list of stripped non-blank lines."""
    parts, current = [], []
    for line in block:
        if SKIP.match(line):
            parts.append(current)
            current = []
        elif line.strip() and not ANNOTATION.match(line):
            current.append(line.strip())
    parts.append(current)
    return [p for p in parts if p]


def find_in_order(excerpt_parts, source_lines):
    """None when every part is a run of consecutive non-blank source lines, in order; else the
    first part's first line that could not be placed."""
    text = [line.strip() for line in source_lines if line.strip() and not ANNOTATION.match(line)]
    position = 0
    for part in excerpt_parts:
        found = None
        for start in range(position, len(text) - len(part) + 1):
            if text[start:start + len(part)] == part:
                found = start
                break
        if found is None:
            # say which line breaks it: the longest prefix of the part that does match somewhere
            for cut in range(len(part), 0, -1):
                if any(text[s:s + cut] == part[:cut] for s in range(position, len(text) - cut + 1)):
                    return part[cut] if cut < len(part) else part[0]
            return part[0]
        position = found + len(part)
    return None


def excerpts():
    for page in sorted(DOCS.glob("*.md")):
        for start, source, sketch, block in c_blocks(page):
            if not sketch:
                yield pytest.param(page, start, source, block,
                                   id=f"{page.relative_to(ROOT)}:{start}")


@pytest.mark.parametrize("page,start,source,block", list(excerpts()))
def test_excerpt_matches_its_source(page, start, source, block):
    where = f"{page.relative_to(ROOT)}:{start}"
    assert source is not None, f"{where}: a C block with no link to the file it quotes above it " \
                               f"(or mark it {SKETCH})"
    path = ROOT / source
    assert path.is_file(), f"{where}: quotes {source}, which is not in the repository"
    missing = find_in_order(segments(block), path.read_text().splitlines())
    assert missing is None, f"{where}: this line is not in {source} where the excerpt puts it " \
                            f"(or the lines around it moved): {missing!r}"


def test_the_checker_sees_drift():
    """The matcher itself: order, consecutive lines and `...` are what it claims."""
    source = ["int a;", "", "int b;", "int c;", "int d;"]
    assert find_in_order(segments(["int a;", "int b;"]), source) is None  # a blank line between
    assert find_in_order(segments(["int b;", "int d;"]), source) == "int d;"  # a line skipped
    assert find_in_order(segments(["int b;", "...", "int d;"]), source) is None
    assert find_in_order(segments(["int c;", "...", "int a;"]), source) == "int a;"  # order
    assert find_in_order(segments(["  int c;"]), source) is None  # indentation is free
    assert find_in_order(segments(["/* the page's note */", "int c;"]), source) is None
    assert find_in_order(segments(["int c; /* a changed line */"]), source) == "int c; /* a changed line */"
