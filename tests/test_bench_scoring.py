"""Scoring hierarchy, coverage, calibration, t-intervals, tie ranks and the Pareto front on a hand-made table.

Every expected number below is re-derived by hand in the comments.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from xaicheck.benchmarks.leaderboard import leaderboard_rows, render_markdown
from xaicheck.benchmarks.records import CellRecord
from xaicheck.benchmarks.scoring import competition_rank, compute_scores, pareto_front, t_interval

CATEGORY = {"c1": "axioms", "c2": "axioms", "c3": "ground_truth"}


def rec(explainer, check, case, status="ok", score=None, passed=None, seed=0, seconds=0.0):
    return CellRecord(f"{explainer}/{check}/{case}/s{seed}", explainer, check, case, CATEGORY[check], seed, status,
                      score, passed, seconds=seconds)


@pytest.fixture()
def table():
    return [
        # A (deterministic): c1 = mean(1.0, 0.5) = 0.75; c2 = 0.8 (the error is not a 0); c3 = 0.6
        rec("A", "c1", "x", score=1.0, passed=True, seconds=1.0),
        rec("A", "c1", "y", score=0.5, passed=False, seconds=1.0),
        rec("A", "c2", "x", status="error", seconds=1.0),
        rec("A", "c2", "y", score=0.8, passed=True, seconds=1.0),
        rec("A", "c3", "x", status="not_applicable"),
        rec("A", "c3", "y", score=0.6, passed=False, seconds=1.0),
        # B (stochastic, 3 seeds, one case): case score = mean(0.7, 0.8, 0.9) = 0.8
        *[rec("B", "c1", "x", score=s, passed=True, seed=i, seconds=0.5) for i, s in enumerate((0.7, 0.8, 0.9))],
        # C: exactly B's overall -> tie
        rec("C", "c1", "x", score=0.8, passed=True, seconds=2.0),
        rec("C", "c2", "x", status="timeout", seconds=2.0),
        # random control: r_c1 = 0.5, r_c2 = 0.2, r_c3 = 0.6 (passes all c3 cells -> non-discriminating)
        rec("random", "c1", "x", score=0.5, passed=False, seconds=0.1),
        rec("random", "c1", "y", score=0.5, passed=False, seconds=0.1),
        rec("random", "c2", "x", score=0.2, passed=False, seconds=0.1),
        rec("random", "c2", "y", score=0.2, passed=False, seconds=0.1),
        rec("random", "c3", "x", score=0.6, passed=True, seconds=0.1),
        rec("random", "c3", "y", score=0.6, passed=True, seconds=0.1),
    ]


def test_hierarchy_coverage_and_calibration(table):
    s = compute_scores(table)
    a = s.explainer_row("A")
    # axioms = mean(c1=0.75, c2=0.8) = 0.775; ground_truth = 0.6; overall = (0.775 + 0.6) / 2 = 0.6875
    assert a["axioms"] == pytest.approx(0.775)
    assert a["ground_truth"] == pytest.approx(0.6)
    assert a["overall"] == pytest.approx(0.6875)
    # coverage = applicable / all = 5/6; success = ok / applicable = 4/5; pass rate = 2 passed / 4 ok
    assert a["coverage"] == pytest.approx(5 / 6)
    assert a["success"] == pytest.approx(4 / 5)
    assert a["pass_rate"] == pytest.approx(0.5)
    assert (a["errors"], a["not_applicable"], a["cells"]) == (1, 1, 6)
    # calibrated: c1 (0.75-0.5)/0.5 = 0.5; c2 (0.8-0.2)/0.8 = 0.75; c3 (0.6-0.6)/0.4 = 0
    # axioms = 0.625, ground_truth = 0 -> overall 0.3125
    checks = s.checks[s.checks["explainer"] == "A"].set_index("check")["calibrated"]
    assert checks.to_dict() == pytest.approx({"c1": 0.5, "c2": 0.75, "c3": 0.0})
    assert a["calibrated"] == pytest.approx(0.3125)
    assert s.random_scores == pytest.approx({"c1": 0.5, "c2": 0.2, "c3": 0.6})
    assert s.non_discriminating == ["c3"]
    # the random control calibrates to exactly 0 everywhere
    assert s.explainer_row("random")["calibrated"] == pytest.approx(0.0)
    # time per applicable cell: A 5 cells x 1 s
    assert a["seconds_per_cell"] == pytest.approx(1.0)


def test_seed_interval_groups_and_pareto(table):
    s = compute_scores(table)
    b = s.explainer_row("B")
    # per-seed overalls 0.7, 0.8, 0.9: sd = 0.1, t_{0.975,2} = 4.302653 -> half width 4.302653*0.1/sqrt(3)
    assert b["overall"] == pytest.approx(0.8)
    assert b["ci_half_width"] == pytest.approx(4.302653 * 0.1 / math.sqrt(3), rel=1e-5)
    assert math.isnan(s.explainer_row("A")["ci_half_width"])
    # the all-explainers table is a reference, not a ranking: no rank; B and C (0.8) before A (0.6875); the random
    # control sits in the control group
    assert s.explainers["rank"].isna().all()
    assert list(s.explainers["explainer"]) == ["B", "C", "A", "random"]
    assert list(s.explainers["group"]) == ["broad", "broad", "broad", "control"]
    # front among broad explainers: B (0.8, 0.5 s) dominates C (0.8, 2 s) and A (0.6875, 1 s)
    assert set(s.explainers[s.explainers["pareto"]]["explainer"]) == {"B"}
    rows = leaderboard_rows(s, {"B": {"library": "captum", "family": "path"}})
    assert rows[0]["library"] == "captum" and rows[0]["ci95"] == f"{4.302653 * 0.1 / math.sqrt(3):.4f}"
    md = render_markdown(s, {"B": {"library": "captum", "family": "path"}})
    assert "| B | captum | path | 0.8000 ± 0.2484 |" in md and "Non-discriminating checks" in md and "c3" in md


def test_helpers():
    assert competition_rank({"a": 0.5, "b": 0.5 + 1e-12, "c": 0.9, "d": float("nan")}) == \
        {"a": 2, "b": 2, "c": 1, "d": None}
    assert pareto_front({"a": (1.0, 1.0), "b": (0.5, 0.5), "c": (0.4, 0.6), "d": (float("nan"), 0.0)}) == {"a", "b"}
    mean, half = t_interval([1.0, 3.0])
    # sd = sqrt(2), t_{0.975,1} = 12.7062 -> 12.7062 * sqrt(2) / sqrt(2)
    assert mean == 2.0 and half == pytest.approx(12.7062, rel=1e-4)
    assert math.isnan(t_interval([1.0])[1])


def test_no_random_control_means_no_calibration(table):
    s = compute_scores([r for r in table if r.explainer != "random"])
    assert math.isnan(s.explainer_row("A")["calibrated"]) and s.non_discriminating == []


def test_low_coverage_specialist_is_listed_in_its_group(table):
    # S scores 1.0 on its one applicable cell of 4 (coverage 0.25 < MIN_COVERAGE 0.5); N has no ok cell at all
    extra = [rec("S", "c1", "x", score=1.0, passed=True, seconds=0.001),
             *[rec("S", c, k, status="not_applicable") for c, k in (("c1", "y"), ("c2", "x"), ("c3", "x"))],
             rec("N", "c1", "x", status="not_applicable"), rec("N", "c2", "x", status="error")]
    s = compute_scores(table + extra)
    groups = dict(zip(s.explainers["explainer"], s.explainers["group"]))
    assert groups == {"B": "broad", "C": "broad", "A": "broad", "random": "control", "S": "specialist",
                      "N": "unscored"}
    spec = s.explainer_row("S")
    assert spec["overall"] == pytest.approx(1.0) and spec["coverage"] == pytest.approx(0.25)
    assert not spec["pareto"]  # best score and fastest, yet not on the front of broad explainers
    assert list(s.explainers["explainer"]) == ["B", "C", "A", "S", "random", "N"]
    md = render_markdown(s, {})
    broad, rest = md.split("### Specialists", 1)
    assert "| S |" not in broad and "| S |" in rest
    assert rest.index("| S |") < rest.index("### Degenerate panel") < rest.index("### Not scored") < rest.index("| N |")
    low = compute_scores(table + extra, min_coverage=0.25)
    assert low.explainer_row("S")["group"] == "broad"
    with pytest.raises(ValueError, match="min_coverage"):
        compute_scores(table, min_coverage=1.5)


# ------------------------------------------------------------------------------------------------ tracks
from xaicheck.benchmarks.ranking import CaseInfo  # noqa: E402

TRACK_CATEGORY = {"s1": "axioms", "s2": "ground_truth", "g": "axioms", "dg": "agreement", "ax": "ground_truth"}
TAB = CaseInfo("continuous", frozenset({"callable", "torch"}), 3)
TREE = CaseInfo("binary", frozenset({"callable", "sklearn", "tree"}), 2)
BASELINE = {"family": "path", "tags": "requires:callable,local,baseline"}
META = {"good": BASELINE, "good2": BASELINE, "mid": BASELINE, "half": BASELINE,
        "narrow": {"family": "gradient", "tags": "requires:torch,local,baseline"},
        "random": {"family": "control", "tags": "requires:callable,local,stochastic"},
        "zero": {"family": "control", "tags": "requires:callable,local"}}


def cell(explainer, check, case, score=None, passed=None, status="ok"):
    if status == "ok" and passed is None:
        passed = score >= 0.5
    return CellRecord(f"{explainer}/{check}/{case}/s0", explainer, check, case, TRACK_CATEGORY[check], 0, status,
                      score, passed, seconds=0.01)


@pytest.fixture()
def tracked():
    cases = [(c, k) for c in ("s1", "s2") for k in "abcde"]
    recs = []
    fixed = {"good": 0.9, "good2": 0.9, "mid": 0.6, "random": 0.2, "zero": 0.0}
    for name, v in fixed.items():
        recs += [cell(name, c, k, v) for c, k in cases]
    # half: perfect on the 6 cases it can run (a, b, c of each check), not applicable on the other 4
    recs += [cell("half", c, k, 1.0) if k in "abc" else cell("half", c, k, status="not_applicable") for c, k in cases]
    # narrow: runs 3 of the 10 cases (30% < 50%): not ranked in the track
    recs += [cell("narrow", c, k, 1.0) if (c, k) in (("s1", "a"), ("s1", "b"), ("s2", "a"))
             else cell("narrow", c, k, status="not_applicable") for c, k in cases]
    # a gate mid fails once, a diagnostic mid aces, a second truth: none of them moves the overall
    for name in ("good", "good2", "mid", "half", "random", "zero"):
        recs += [cell(name, "g", k, 0.0 if (name, k) == ("mid", "a") else 1.0) for k in "ab"]
        recs += [cell(name, "dg", "a", 1.0 if name == "mid" else 0.1)]
        recs += [cell(name, "ax", "a", 0.25 if name == "good" else 0.0 if name in ("random", "zero") else 0.5)]
    recs += [cell(name, "s1", "tree", 0.2 if name == "random" else 0.7) for name in ("good", "mid", "random")]
    info = {f"{c}/{k}": TAB for c in ("s1", "s2", "g", "dg", "ax") for k in "abcde"}
    info["s1/tree"] = TREE
    return recs, info


def scored(tracked, **kw):
    recs, info = tracked
    return compute_scores(recs, meta=META, case_info=info, roles={"g": "gate", "dg": "diagnostic"},
                          axes={"ax": "on_data"}, **kw)


def test_tracks_score_everyone_on_the_same_cells(tracked):
    t = scored(tracked).track("tabular_baseline")
    assert len(t.cases) == 10  # the score checks' cases only (not the gate, diagnostic or second-truth cases)
    row = t.table.set_index("explainer")
    assert row.loc["good", "overall"] == pytest.approx(0.9)
    # half: 3 cases at 1.0 and 2 not answered, counted as the random control's 0.2, per check: (3 + 0.4) / 5
    assert row.loc["half", "overall"] == pytest.approx(0.68) and row.loc["half", "not_answered"] == 4
    assert t.excluded == {"narrow": "applicable to 3 of the track's 10 cases"}
    assert "narrow" not in set(t.table["explainer"])
    # gates: pass/fail beside the ranking; the second truth is its own column; the diagnostic is nowhere
    assert row.loc["good", "gate:g"] == "pass" and row.loc["mid", "gate:g"] == "fail 1/2"
    assert row.loc["good", "axis:on_data"] == pytest.approx(0.25) and t.axes == ["on_data"]
    assert row.loc["mid", "overall"] == pytest.approx(0.6) and not any("dg" in c for c in t.table.columns)
    assert "gate g" in row.loc["mid", "fails"]
    # calibrated against random on the same cells: (0.9 - 0.2) / 0.8; random itself 0
    assert row.loc["good", "calibrated"] == pytest.approx(0.875)
    assert row.loc["random", "calibrated"] == pytest.approx(0.0)


def test_rank_intervals_declare_ties_and_controls_stay_out(tracked):
    s = scored(tracked)
    t = s.track("tabular_baseline")
    ranked, controls = t.ranked.set_index("explainer"), t.controls.set_index("explainer")
    assert set(ranked.index) == {"good", "good2", "mid", "half"}
    assert set(controls.index) == {"random", "zero"} and controls["rank"].isna().all()
    assert controls["below_all_ranked"].all() and s.panel_violations() == []
    # good and good2 are equal on every case: they share rank 1 and split P(rank 1)
    assert ranked.loc["good", "rank"] == ranked.loc["good2", "rank"] == 1
    assert ranked.loc["good", "p_rank1"] == pytest.approx(ranked.loc["good2", "p_rank1"])
    assert ranked["p_rank1"].sum() == pytest.approx(1.0)
    # half (1.0 on 6 cases, the random control's 0.2 on 4) is not resolved from good: the pair test cannot tell them
    # apart, so it shares rank 1; its range reaches below
    assert ranked.loc["half", "rank"] == ranked.loc["half", "rank_lo"] == 1 and ranked.loc["half", "rank_hi"] >= 3
    # mid is below good and good2 on every case (zero variance of the difference): both are resolved above it
    assert ranked.loc["mid", "rank"] == ranked.loc["mid", "rank_lo"] >= 3
    # the declared rank is its range's best end: never outside it
    assert (ranked["rank"] == ranked["rank_lo"]).all() and (ranked["rank_lo"] <= ranked["rank_hi"]).all()
    assert t.top() == sorted(t.top(), key=list(ranked.index).index) and "mid" not in t.top()
    # same input, same bytes: the bootstrap is seeded
    assert scored(tracked).track("tabular_baseline").table.equals(t.table)


def test_a_track_with_too_few_cases_declares_no_rank(tracked):
    t = scored(tracked).track("trees")
    assert not t.resolved and len(t.cases) == 1 and t.ranked["rank"].isna().all() and t.top() == []
    md = render_markdown(scored(tracked), META)
    assert "- **Tree ensemble** (1 cases)\n  - too few cases (< 3) to rank, so no pick" in md
    assert ("- **Tabular model at scale (more than 16 features), explained against a baseline** (10 cases)\n"
            "  - use: **good** (rank 1–3, 0.010 s/cell); fails: nothing\n  - also at the top: **good2**") in md
    assert "mid" not in md.split("explained against a baseline** (10 cases)")[1].split("\n- **")[0]  # resolved below
    assert "scales beyond 16 features: **good** (rank 1–3" in md  # the d ≤ 16 use: no exact oracle in this run
    assert "Gates (necessary conditions; pass/fail, not in the overall): g." in md
    assert "Diagnostics (shown, not scored): dg." in md and "Truth axes (own columns, never averaged): on_data." in md


def test_overall_ignores_gates_diagnostics_and_second_truths(tracked):
    recs, info = tracked
    base = scored(tracked).explainer_row("mid")["overall"]
    changed = [cell(r.explainer, r.check, r.case, 0.0 if r.check in ("g", "dg", "ax") else r.score)
               if r.status == "ok" else r for r in recs]
    again = compute_scores(changed, meta=META, case_info=info, roles={"g": "gate", "dg": "diagnostic"},
                           axes={"ax": "on_data"})
    assert again.explainer_row("mid")["overall"] == pytest.approx(base)
    assert again.track("tabular_baseline").table.set_index("explainer").loc["mid", "overall"] == pytest.approx(0.6)


def test_panel_violations_name_a_control_above_the_floor(tracked):
    recs, info = tracked
    # the constant control now scores 0.65 everywhere: above mid (0.6) and calibrated (0.65-0.2)/0.8 = 0.5625
    recs = recs + [cell("constant", c, k, 0.65) for c in ("s1", "s2") for k in "abcde"]
    meta = {**META, "constant": {"family": "control", "tags": "requires:callable,local"}}
    s = compute_scores(recs, meta=meta, case_info=info, roles={"g": "gate", "dg": "diagnostic"},
                       axes={"ax": "on_data"})
    found = s.panel_violations()
    assert "tabular_baseline: constant calibrated 0.5625 > 0.1" in found
    assert not any("zero" in f or "random" in f for f in found)
    # mid (0.6) does not beat the constant control (0.65): it is listed below the controls, never ranked, so every
    # control stays below every ranked member
    t = s.track("tabular_baseline")
    assert "mid" not in set(t.ranked["explainer"]) and list(t.below_controls["explainer"]) == ["mid"]
    row = t.below_controls.iloc[0]
    assert pd.isna(row["rank"]) and row["not_above"] == "constant 0.650 ≥ 0.600"
    assert t.controls["below_all_ranked"].all()
    assert set(t.ranked["explainer"]) == {"good", "good2", "half"} and t.ranked["rank"].max() <= 3
    md = render_markdown(s, meta)
    assert "controls: 3 excluded, all below every ranked method" in md
    assert "**do not use here** (no higher than a degenerate control, so not ranked): mid" in md
    assert "Not above the controls" in md and "mid (overall 0.6000; constant 0.650 ≥ 0.600)" in md
    from xaicheck.benchmarks.report_tables import tracks_html

    html = tracks_html(s, meta)
    assert 'class="note below-controls"' in html and "mid (overall 0.6000; constant 0.650 ≥ 0.600)" in html
    assert 'data-v="mid"' not in html.split('class="note below-controls"')[0].split("track-tabular_baseline")[1]


def test_a_member_equal_to_the_best_control_is_not_ranked(tracked):
    recs, info = tracked
    recs = recs + [cell("constant", c, k, 0.9) for c in ("s1", "s2") for k in "abcde"]
    meta = {**META, "constant": {"family": "control", "tags": "requires:callable,local"}}
    t = compute_scores(recs, meta=meta, case_info=info, roles={"g": "gate", "dg": "diagnostic"},
                       axes={"ax": "on_data"}).track("tabular_baseline")
    # good and good2 tie the control exactly (0.9): not above it; half (0.68) and mid (0.6) neither
    assert t.ranked.empty and not t.resolved
    assert set(t.below_controls["explainer"]) == {"good", "good2", "half", "mid"}
