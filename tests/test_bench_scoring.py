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


def test_seed_interval_ties_and_pareto(table):
    s = compute_scores(table)
    b = s.explainer_row("B")
    # per-seed overalls 0.7, 0.8, 0.9: sd = 0.1, t_{0.975,2} = 4.302653 -> half width 4.302653*0.1/sqrt(3)
    assert b["overall"] == pytest.approx(0.8)
    assert b["ci_half_width"] == pytest.approx(4.302653 * 0.1 / math.sqrt(3), rel=1e-5)
    assert math.isnan(s.explainer_row("A")["ci_half_width"])
    # B and C tie at 0.8 (C's timeout is not a zero) -> both rank 1; A 0.6875 -> 3; random (0.35+0.6)/2 -> 4
    ranks = dict(zip(s.explainers["explainer"], s.explainers["rank"]))
    assert ranks == {"B": 1, "C": 1, "A": 3, "random": 4}
    assert list(s.explainers["explainer"]) == ["B", "C", "A", "random"]
    # front: B (0.8, 0.5 s) dominates C (0.8, 2 s) and A (0.6875, 1 s); random is fastest
    assert set(s.explainers[s.explainers["pareto"]]["explainer"]) == {"B", "random"}
    rows = leaderboard_rows(s, {"B": {"library": "captum", "family": "path"}})
    assert [r["rank"] for r in rows] == ["1", "1", "3", "4"]
    assert rows[0]["library"] == "captum" and rows[0]["ci95"] == f"{4.302653 * 0.1 / math.sqrt(3):.4f}"
    md = render_markdown(rows, s.categories_present, non_discriminating=s.non_discriminating)
    assert "| 1 | B | captum | path | 0.8000 ± 0.2484 |" in md and "`c3`" in md


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


def test_low_coverage_specialist_is_listed_not_ranked(table):
    # S scores 1.0 on its one applicable cell of 4 (coverage 0.25 < MIN_COVERAGE 0.5); N has no ok cell at all
    extra = [rec("S", "c1", "x", score=1.0, passed=True, seconds=0.001),
             *[rec("S", c, k, status="not_applicable") for c, k in (("c1", "y"), ("c2", "x"), ("c3", "x"))],
             rec("N", "c1", "x", status="not_applicable"), rec("N", "c2", "x", status="error")]
    s = compute_scores(table + extra)
    groups = dict(zip(s.explainers["explainer"], s.explainers["group"]))
    assert groups == {"B": "ranked", "C": "ranked", "A": "ranked", "random": "ranked", "S": "specialist",
                      "N": "unscored"}
    spec = s.explainer_row("S")
    assert spec["overall"] == pytest.approx(1.0) and spec["coverage"] == pytest.approx(0.25)
    assert pd.isna(spec["rank"]) and not spec["pareto"]  # best score and fastest, yet neither ranked nor on the front
    # the ranked explainers keep exactly the ranks and front they had without S and N
    assert dict(zip(s.explainers["explainer"], s.explainers["rank"].astype(object)))["A"] == 3
    assert set(s.explainers[s.explainers["pareto"]]["explainer"]) == {"B", "random"}
    assert list(s.explainers["explainer"]) == ["B", "C", "A", "random", "S", "N"]
    rows = leaderboard_rows(s, {})
    md = render_markdown(rows, s.categories_present)
    ranked, rest = md.split("## Specialists", 1)
    assert "| – | S |" in rest and "| S |" not in ranked and "coverage ≥ 0.5" in ranked
    assert rest.index("| – | S |") < rest.index("## Not scored") < rest.index("| – | N |")
    assert [r["group"] for r in rows] == ["ranked"] * 4 + ["specialist", "unscored"]
    # with the threshold lowered to 0.25, S is compared with everyone and ranks first
    low = compute_scores(table + extra, min_coverage=0.25)
    assert low.explainer_row("S")["rank"] == 1 and low.explainer_row("S")["group"] == "ranked"
    with pytest.raises(ValueError, match="min_coverage"):
        compute_scores(table, min_coverage=1.5)


def test_near_ties_print_enough_digits_to_tell_ranks_apart():
    # P and Q differ by 2e-5: different ranks, so 4 digits (both "0.9132") would hide why; R ties P exactly
    recs = [rec("P", "c1", "x", score=0.91320, passed=True), rec("Q", "c1", "x", score=0.91318, passed=True),
            rec("R", "c1", "x", score=0.91320, passed=True), rec("T", "c1", "x", score=0.5, passed=True)]
    rows = leaderboard_rows(compute_scores(recs), {})
    assert [(r["rank"], r["explainer"], r["overall"]) for r in rows] == [
        ("1", "P", "0.91320"), ("1", "R", "0.91320"), ("3", "Q", "0.91318"), ("4", "T", "0.5000")]
