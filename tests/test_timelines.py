"""tools/timeline and make timelines: the guide's pictures can be drawn again, and are.

Every picture a page shows (docs/img/NAME.png) is listed in tools/draw-timelines, so `make
timelines` redraws it from a fresh run; tools/timeline draws a real trace into a PNG and refuses
what is not a trace.
"""
import json
import re
import shutil
import subprocess

import pytest

from suite import ROOT, run

DRAW = ROOT / "tools" / "draw-timelines"
TIMELINE = ROOT / "tools" / "timeline"
needs_gnuplot = pytest.mark.skipif(shutil.which("gnuplot") is None,
                                   reason="gnuplot is not installed (make test installs it)")


def listed_pictures():
    text = DRAW.read_text()
    block = text.split("PICTURES='", 1)[1].split("'", 1)[0]
    return {line.split()[0] for line in block.splitlines() if line.strip()}


def shown_pictures():
    shown = set()
    for page in (ROOT / "docs").glob("*.md"):
        shown |= set(re.findall(r"\]\(img/([\w.-]+)\.png\)", page.read_text()))
    return shown


def test_every_shown_picture_can_be_redrawn():
    missing = shown_pictures() - listed_pictures()
    assert not missing, f"pictures on the pages that make timelines cannot redraw: {sorted(missing)}"
    for name in shown_pictures():
        assert (ROOT / "docs" / "img" / f"{name}.png").exists(), name


@needs_gnuplot
def test_timeline_draws_a_real_trace(tmp_path):
    trace, png = tmp_path / "t.json", tmp_path / "t.png"
    r = run("posix", "counter", ["--variant", "mutex", "-w", "2", "-n", "20", "--quiet",
                                 "--trace", trace])
    assert r.returncode == 0, r.describe()
    out = subprocess.run([str(TIMELINE), str(trace), "-o", str(png)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000


@needs_gnuplot
def test_timeline_refuses_what_is_not_a_trace(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"no": "events"}))
    out = subprocess.run([str(TIMELINE), str(bad), "-o", str(tmp_path / "x.png")],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "traceEvents" in out.stderr
    assert not (tmp_path / "x.png").exists()
