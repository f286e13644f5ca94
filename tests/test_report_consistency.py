"""The report never contradicts its own tables (issue 27.2): built from the README's zoo run (its exact command) and
from a run whose only track has too few cases to rank, every sentence of report.html and leaderboard.md agrees with
leaderboard_tracks.csv and leaderboard.csv.

Rules checked (:func:`contradictions`): a "no track" / "no control" sentence only when the tables have none; a
track's note says "ranked explainers" only when it declares ranks and "too few cases" only when it does not; every
named pick is a ranked, non-control member of its track with the interval the table gives, never an interval
spanning every rank; the control count of each use equals the track's control rows.
"""

from __future__ import annotations

import csv
import html as htmllib
import re
import sys
from pathlib import Path

import pytest

from xaicheck.benchmarks import cli
from test_user_models import readme_zoo

NO_TRACK = ("No track could be scored", "No track was formed", "No use could be answered",
            "No track has a case and a ranked explainer")
NO_CONTROL = ("No control explainer",)


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def contradictions(out: Path) -> list[str]:
    """Every statement of ``out/report.html`` and ``out/leaderboard.md`` that its tables contradict."""
    page = (out / "report.html").read_text(encoding="utf-8")
    md = (out / "leaderboard.md").read_text(encoding="utf-8")
    tracks = _csv(out / "leaderboard_tracks.csv") if (out / "leaderboard_tracks.csv").stat().st_size else []
    board = _csv(out / "leaderboard.csv")
    found = []
    by_track: dict[str, list[dict[str, str]]] = {}
    for r in tracks:
        by_track.setdefault(r["track"], []).append(r)
    for text, where in ((page, "report.html"), (md, "leaderboard.md")):
        if tracks:
            found += [f"{where}: '{s}' beside {len(by_track)} track(s)" for s in NO_TRACK if s in text]
        if any(r["group"] == "control" for r in board):
            found += [f"{where}: '{s}' beside a control in leaderboard.csv" for s in NO_CONTROL if s in text]
    for name, rows in by_track.items():
        ranked = {r["explainer"]: r for r in rows if r["kind"] == "ranked"}
        controls = [r for r in rows if r["kind"] == "control"]
        resolved = any(r["rank"] for r in ranked.values())
        note = re.search(rf'id="h-track-{re.escape(name)}">.*?<p class="note">(.*?)</p>', page, flags=re.S)
        if note is None:
            found.append(f"report.html: track {name} has no note")
            continue
        if resolved and "too few" in note.group(1):
            found.append(f"report.html: {name} declares ranks but its note says too few cases: {note.group(1)}")
        if not resolved and "ranked explainers" in note.group(1):
            found.append(f"report.html: {name} declares no rank but its note counts ranked explainers: {note.group(1)}")
        item = re.search(rf'<li data-track="{re.escape(name)}">(.*?)</ul></li>', page, flags=re.S)
        if item is None:
            found.append(f"report.html: track {name} has no what-to-use item")
            continue
        body = htmllib.unescape(re.sub(r"</?b>", "", item.group(1)))
        if resolved == ("too few cases" in body):
            found.append(f"report.html: {name}: resolved={resolved} but the summary says: {body}")
        for pick, interval in re.findall(r"(?:use|also at the top|scales beyond 16 features|exact \(enumerates 2\^d "
                                         r"coalitions, usable up to d = 16\)): (\S+) \(rank (\d+–\d+)", body):
            row = ranked.get(pick)
            if row is None:
                found.append(f"report.html: {name}: pick {pick} is not a ranked member")
            elif row["rank_interval"] != interval:
                found.append(f"report.html: {name}: {pick} shown at {interval}, table {row['rank_interval']}")
            elif interval == f"1–{len(ranked)}" and len(ranked) > 1:
                found.append(f"report.html: {name}: pick {pick} spans every rank ({interval})")
        count = re.search(r"controls: (\d+) excluded", body)
        if controls and (count is None or int(count.group(1)) != len(controls)):
            found.append(f"report.html: {name}: {len(controls)} control rows, summary says {count and count.group(0)}")
    return found


def _run_zoo(tmp: Path, args: list[str]) -> Path:
    (tmp / "my_zoo.py").write_text(readme_zoo(), encoding="utf-8")
    sys.path.insert(0, str(tmp))
    sys.modules.pop("my_zoo", None)
    out = tmp / "my_results"
    try:
        code = cli.main([*args, "--out", str(out), "--jobs", "1", "--quiet"])
    finally:
        sys.path.remove(str(tmp))
        sys.modules.pop("my_zoo", None)
    assert code == 0
    return out


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory) -> Path:
    """The README's zoo command, as written (its --out replaced by a temporary folder)."""
    command = re.search(r"run: (xaicheck run .*)", readme_zoo()).group(1).split()
    args = command[1:]
    del args[args.index("--out"):args.index("--out") + 2]
    return _run_zoo(tmp_path_factory.mktemp("readme_zoo"), args)


def test_readme_zoo_report_never_contradicts_its_tables(readme_run) -> None:
    assert contradictions(readme_run) == []
    page = (readme_run / "report.html").read_text(encoding="utf-8")
    assert '<li data-track="' in page  # the summary answers at least one use
    assert "zero" in page[page.index('id="panel-title"') if 'id="panel-title"' in page else 0:]


def test_a_too_small_track_is_listed_not_ranked_and_said_so_once(tmp_path) -> None:
    # agreement with the exact attribution only: one case per zoo model = 2 cases per track, below MIN_TRACK_CASES
    out = _run_zoo(tmp_path, ["run", "--models", "my_zoo", "--suite", "quick", "--checks", "ground_truth_agreement",
                              "--explainers", "integrated_gradients,shap_kernel,zero,random"])
    assert contradictions(out) == []
    rows = _csv(out / "leaderboard_tracks.csv")
    assert rows and not any(r["rank"] for r in rows)  # nothing ranked: the case the issue saw contradicted
    md = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert "too few (< 3) to rank, so no rank is declared" in md and "ranked explainers" not in md


def test_a_run_that_forms_no_track_says_why_and_still_shows_its_controls(tmp_path) -> None:
    # completeness is a gate: nothing is scored, so no track forms; the control zero is still in the tables
    out = _run_zoo(tmp_path, ["run", "--models", "my_zoo", "--suite", "quick", "--checks", "completeness",
                              "--explainers", "integrated_gradients,shap_kernel,zero"])
    assert contradictions(out) == []
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "No use could be answered: no track was formed in this run." in page
    assert "Not formed: " in page and "Image model: the run has no image case" in page
    assert "The run has 1 control(s) (zero), but no track was formed" in page


def test_the_checker_finds_each_contradiction(readme_run, tmp_path) -> None:
    """The rules can fail: each planted contradiction is reported."""
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(readme_run, bad)
    page = (bad / "report.html").read_text(encoding="utf-8")
    track = _csv(bad / "leaderboard_tracks.csv")[0]["track"]
    planted = page.replace("</body>", "<p>No track could be scored.</p><p>No control explainer.</p></body>")
    planted = re.sub(r"(controls: )(\d+)( excluded)", lambda m: f"{m[1]}{int(m[2]) + 5}{m[3]}", planted, count=1)
    planted = planted.replace(" ranked explainers.", " ranked explainers; too few cases (&lt; 3) to rank.", 1)
    (bad / "report.html").write_text(planted, encoding="utf-8")
    found = contradictions(bad)
    assert any("No track could be scored" in f for f in found)
    assert any("No control explainer" in f for f in found)
    assert any("control rows, summary says" in f for f in found), (track, found)
    assert any("declares ranks but its note says too few cases" in f for f in found), found
