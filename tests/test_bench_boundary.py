"""The decision-boundary view: near/far scores from evidence, averaged per explainer and check, shown in the report."""

from __future__ import annotations

import math

from xaicheck.benchmarks.boundary import boundary_html, boundary_scores
from xaicheck.benchmarks.records import CellRecord


def _rec(explainer: str, check: str, case: str, seed: int, near: float | None, far: float | None,
         status: str = "ok") -> CellRecord:
    evidence = {} if near is None and far is None else {
        "near_boundary": {"score": near, "rows": 3, "certainty_ratio_threshold": 0.5},
        "far_from_boundary": {"score": far, "rows": 5, "certainty_ratio_threshold": 0.5}}
    return CellRecord(cell_id=f"{explainer}/{check}/{case}/s{seed}", explainer=explainer, check=check, case=case,
                      category="ground_truth", seed=seed, status=status, score=0.5, passed=False, message="",
                      evidence=evidence)


def test_near_and_far_are_averaged_per_explainer_and_check() -> None:
    recs = [_rec("ig", "deletion_curve", "logistic", 0, 0.9, 0.5), _rec("ig", "deletion_curve", "logistic_sat", 0,
            0.7, None), _rec("ig", "infidelity", "logistic", 0, None, None), _rec("sal", "deletion_curve", "x", 0,
            0.2, 0.4, status="error")]
    table = boundary_scores(recs)
    assert set(table) == {("ig", "deletion_curve")}  # no split in evidence, or not ok: not shown
    assert math.isclose(table[("ig", "deletion_curve")]["near"], 0.8)
    assert math.isclose(table[("ig", "deletion_curve")]["far"], 0.5)


def test_boundary_html_lists_the_split_and_says_when_there_is_none() -> None:
    html = boundary_html([_rec("ig<x>", "deletion_curve", "logistic", 0, 0.98, 0.65)])
    assert "0.98 / 0.65" in html and "ig&lt;x&gt;" in html
    assert "No check in this run" in boundary_html([_rec("ig", "dummy", "a", 0, None, None)])
