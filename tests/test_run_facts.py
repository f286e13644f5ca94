"""The run records what scoring needs: a report is a pure function of the run folder (issue 22).

A real run of the README's zoo (a user zoo: its case ids are in no built-in registry) through the command line gets
tracks, ranks and a non-empty, non-contradictory "what to trust" summary; changing registry metadata after the run
leaves the rebuilt leaderboard byte-identical; a folder of the old format is refused with one line; a truth axis no
fixed track ranks gets its own track.
"""

from __future__ import annotations

import re

import csv
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from xaicheck.benchmarks import cli
from xaicheck.benchmarks.case_facts import CaseFacts, case_facts, facts_from_json
from xaicheck.benchmarks.errors import RecordError
from xaicheck.benchmarks.provenance import FORMAT_VERSION
from xaicheck.benchmarks.ranking import CaseInfo
from xaicheck.benchmarks.records import CellRecord
from xaicheck.benchmarks.report import build_report
from xaicheck.benchmarks.scoring import compute_scores
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth
from test_user_models import readme_zoo

EXPLAINERS = "exact_baseline_shapley,integrated_gradients,shap_kernel,zero,random"
BOARD = ("leaderboard.csv", "leaderboard_tracks.csv", "leaderboard.md")


@pytest.fixture(scope="module")
def zoo_run(tmp_path_factory):
    """The README zoo run once through ``xaicheck run --models my_zoo`` with five fast explainers."""
    tmp = tmp_path_factory.mktemp("zoo")
    (tmp / "my_zoo.py").write_text(readme_zoo(), encoding="utf-8")
    sys.path.insert(0, str(tmp))
    sys.modules.pop("my_zoo", None)
    out = tmp / "my_results"
    try:
        code = cli.main(["run", "--models", "my_zoo", "--suite", "quick", "--explainers", EXPLAINERS,
                         "--out", str(out), "--jobs", "1", "--quiet"])
    finally:
        sys.path.remove(str(tmp))
        sys.modules.pop("my_zoo", None)
    assert code == 0
    return out


def _tracks(out: Path) -> list[dict[str, str]]:
    with open(out / "leaderboard_tracks.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_user_zoo_run_records_its_case_facts(zoo_run):
    record = json.loads((zoo_run / "provenance.json").read_text(encoding="utf-8"))
    assert record["format_version"] == FORMAT_VERSION >= 2
    scores = {f"{r['check']}/{r['case']}" for r in csv.DictReader(open(zoo_run / "scores.csv", encoding="utf-8"))}
    assert set(record["cases"]) == scores
    facts = facts_from_json(record["cases"]["ground_truth_agreement/pertinent_negative"])
    assert facts.domain == "continuous" and "torch" in facts.forms and facts.d == 5 and facts.role == "score"
    assert "closed_form" in facts.truth_kinds and facts.n >= 1 and facts.truth == ""
    assert set(record["explainers"]) == set(EXPLAINERS.split(","))
    assert record["explainers"]["zero"]["family"] == "control"
    assert all("role" in c and "version" in c for c in record["checks"].values())


def test_user_zoo_gets_tracks_ranks_and_a_consistent_summary(zoo_run):
    ranked = [r for r in _tracks(zoo_run) if r["kind"] == "ranked" and r["rank"]]
    assert ranked, "leaderboard_tracks.csv has no ranked row"
    assert {r["explainer"] for r in _tracks(zoo_run) if r["kind"] == "control"} == {"zero", "random"}
    html = (zoo_run / "report.html").read_text(encoding="utf-8")
    trust = html[html.index('id="trust-title"'):html.index('id="tracks-title"')]
    assert '<ul class="trust">' in trust and "<li data-track=" in trust
    assert "No track could be scored" not in html
    assert "No control explainer" not in html  # the degenerate panel lists zero and random
    assert "No track has a case and a ranked explainer" not in html
    md = (zoo_run / "leaderboard.md").read_text(encoding="utf-8")
    assert "## What to trust for what" in md and re.search(r"\n  - (use|exact \(enumerates 2\^d)[^\n]*: \*\*", md)


def _rebuild(out: Path) -> dict[str, bytes]:
    build_report(out, plots=False, log=None)
    return {name: (out / name).read_bytes() for name in BOARD}


def test_report_is_a_pure_function_of_the_run_folder(zoo_run, monkeypatch):
    from xaicheck.axioms.base import get_check
    from xaicheck.explainers.base import get_explainer

    before = _rebuild(zoo_run)
    ig, check = get_explainer("integrated_gradients"), get_check("ground_truth_agreement")
    monkeypatch.setattr(type(ig), "describe", lambda self: {"name": self.name, "family": "control", "tags": "global"})
    monkeypatch.setattr(ig, "family", "control", raising=False)
    monkeypatch.setattr(type(check), "role", "diagnostic")
    monkeypatch.setattr(type(check), "truth", "user:other")
    assert get_check("ground_truth_agreement").role == "diagnostic"  # the registry did change
    assert _rebuild(zoo_run) == before


def test_a_folder_of_the_old_format_is_refused_with_one_line(zoo_run, tmp_path, capsys):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(zoo_run, old)
    record = json.loads((old / "provenance.json").read_text(encoding="utf-8"))
    record["format_version"] = 1
    del record["cases"]
    (old / "provenance.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(RecordError, match="rerun") as exc:
        build_report(old, log=None)
    assert "\n" not in str(exc.value) and "format 1" in str(exc.value)
    assert cli.main(["report", str(old)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "rerun" in err


def test_case_facts_round_trip_through_json():
    mask = np.zeros(16, dtype=bool)
    mask[[5, 6]] = True
    image = FunctionModel("img", "test", lambda X: X[:, mask].sum(1), [f"p{i}" for i in range(16)],
                          GroundTruth(relevant=frozenset({5, 6}), mask=mask), domain="image", input_shape=(1, 4, 4))
    check = SimpleNamespace(name="localisation", role="score", truth="")
    facts = case_facts(check, SimpleNamespace(model=image, X=np.ones((2, 16))))
    assert facts.input_shape == (1, 4, 4) and facts.mask == (5, 6) and facts.n == 2 and facts.first_row is None
    assert "mask" in facts.truth_kinds and facts.info == CaseInfo("image", frozenset(facts.forms), 16)
    assert facts_from_json(json.loads(json.dumps(facts.to_json()))) == facts


def _cell(explainer: str, check: str, case: str, score: float) -> CellRecord:
    return CellRecord(f"{explainer}/{check}/{case}/s0", explainer, check, case, "ground_truth", 0, "ok", score,
                      score >= 0.5, seconds=0.01)


def test_a_user_truth_axis_gets_its_own_track_never_averaged():
    meta = {"a": {"family": "path", "tags": "requires:callable,local"},
            "b": {"family": "path", "tags": "requires:callable,local"},
            "random": {"family": "control", "tags": "requires:callable,local,stochastic"}}
    tab = CaseInfo("continuous", frozenset({"callable"}), 3)
    recs, info = [], {}
    for k in "abcd":
        for name, shapley, own in (("a", 0.9, 0.2), ("b", 0.4, 0.95), ("random", 0.1, 0.1)):
            recs += [_cell(name, "exact", k, shapley), _cell(name, "mine", k, own)]
        info[f"exact/{k}"] = info[f"mine/{k}"] = tab
    s = compute_scores(recs, meta=meta, case_info=info, provenance_checks={
        "exact": {"role": "score"}, "mine": {"role": "score", "truth": "user:closed_form"}})
    own = s.track("against_user_closed_form")
    assert own.track.title == "Against user:closed_form" and own.track.truth == "user:closed_form"
    assert own.cases == [f"mine/{k}" for k in "abcd"] and own.top() == ["b"]
    exact = s.track("tabular_exact")
    assert all(c.startswith("exact/") for c in exact.cases) and exact.top() == ["a"]
    assert exact.table.set_index("explainer").loc["a", "overall"] == pytest.approx(0.9)
    assert s.explainer_row("a")["overall"] == pytest.approx(0.9)  # the axis stays out of the overall
