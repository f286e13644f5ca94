"""report.html in a real headless Chromium: it renders (summary, tables, plots, no console error), a scripted header
click sorts the leaderboard, a screenshot of the summary is drawn. Skipped without Chromium, except where
``XAICHECK_REQUIRE_BROWSER=1`` (``.ci/run``): there a missing Chromium fails."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from xaicheck.benchmarks.report import build_report
from test_bench_report import _records, _write_run

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
REQUIRED = os.environ.get("XAICHECK_REQUIRE_BROWSER") == "1"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None and not REQUIRED,
                                 reason="headless Chromium not installed (/usr/bin/chromium); install with "
                                        "`apt-get install -y chromium` to run the browser test")]


def test_chromium_is_there_when_required():
    """``.ci/run`` sets XAICHECK_REQUIRE_BROWSER=1: the browser tests must run there, never skip."""
    assert CHROMIUM is not None, "XAICHECK_REQUIRE_BROWSER=1 but no chromium on PATH or at /usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--window-size=1400,1100"]


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=90)


def test_report_renders_and_sorts_on_click(tmp_path):
    run = tmp_path / "run"
    _write_run(run, _records())
    build_report(run)
    url = (run / "report.html").resolve().as_uri()

    dom = _chromium(tmp_path / "profile1", "--dump-dom", url + "#click=overall").stdout
    assert 'id="leaderboard"' in dom and 'data-sorted="overall:desc"' in dom
    board = dom[dom.index('id="leaderboard"'):]
    body = board[board.index("<tbody>"):board.index("</tbody>")]
    shown = re.findall(r'class="col-explainer" data-v="([^"]+)"', body)
    with open(run / "leaderboard.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["group"] == "broad"]
    expected = [r["explainer"] for r in sorted(rows, key=lambda r: -float(r["overall"] or "-1"))]
    assert shown == expected and len(shown) == 2
    assert 'class="sorted-desc"' in dom or "sorted-desc" in dom

    # the what-to-use summary, the track tables and the plots are in the rendered page
    trust = dom[dom.index('id="trust-title"'):dom.index('id="tracks-title"')]
    assert '<li data-track="image">' in trust and "too few cases (&lt; 3) to rank, so no pick" in trust
    assert 'id="track-image"' in dom and re.search(r'<img[^>]+src="data:image/png;base64,', dom)

    shot = tmp_path / "report.png"  # the top of the page: title, summary line, what-to-use list
    _chromium(tmp_path / "profile2", f"--screenshot={shot}", url + "#sort=overall")
    assert shot.exists() and shot.stat().st_size > 10_000
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape[1] >= 1000 and pixels.std() > 5  # something was drawn, not a blank page


def test_specialist_table_sorts_and_filters_with_the_leaderboard(tmp_path):
    from xaicheck.benchmarks.records import CellRecord
    from test_bench_report import CATS

    run = tmp_path / "run"
    recs = _records()
    recs.append(CellRecord("lime_text/ground_truth_agreement/tokens/s0", "lime_text", "ground_truth_agreement",
                           "tokens", "ground_truth", 0, "ok", 0.99, True, "", {}, None, None, 0.2))
    recs += [CellRecord(f"lime_text/{c}/{k}/s0", "lime_text", c, k, CATS[c], 0, "not_applicable")
             for c, k in (("localisation", "patch"), ("baseline_sensitivity", "panel"), ("dummy", "linear"))]
    _write_run(run, recs)
    build_report(run)
    url = (run / "report.html").resolve().as_uri()
    dom = _chromium(tmp_path / "profile", "--dump-dom", url + "#click=overall&filter=torch").stdout
    # both tables answer the header click; the model-form filter counts rows of both (only saliency needs torch)
    assert 'id="leaderboard" class="board" data-group="broad" data-sorted="overall:desc"' in dom
    assert 'id="board-specialist" class="board" data-group="specialist" data-sorted="overall:desc"' in dom
    assert 'id="shown">1 of 4 explainers shown' in dom
    special = dom[dom.index('id="board-specialist"'):]
    assert re.search(r'<tr[^>]*class="hidden"[^>]*>.*?data-v="lime_text"', special[:special.index("</table>")])


def test_report_has_no_console_error(tmp_path):
    run = tmp_path / "run"
    _write_run(run, _records())
    build_report(run)
    url = (run / "report.html").resolve().as_uri()
    proc = _chromium(tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom",
                     url + "#click=overall&filter=torch")
    assert 'id="leaderboard"' in proc.stdout
    assert not _console_errors(proc.stderr), proc.stderr[-2000:]
    # the detector sees a page's script error
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefinedFn();</script></body></html>", encoding="utf-8")
    planted = _chromium(tmp_path / "profile_bad", "--enable-logging=stderr", "--v=0", "--dump-dom", bad.as_uri())
    assert any("undefinedFn" in ln for ln in _console_errors(planted.stderr)), planted.stderr[-2000:]


def _console_errors(stderr: str) -> list[str]:
    """Chromium's logged console lines that report an error or an uncaught exception."""
    return [ln for ln in stderr.splitlines()
            if ("CONSOLE" in ln or "Uncaught" in ln) and re.search(r"error|uncaught", ln, re.I)]
