"""Agreement with a model's own declared reference attribution, a truth of another kind than the Shapley value.

A model may carry a reference attribution of a named kind (``GroundTruth.reference`` / ``reference_kind``): a user's
closed form that is not the Shapley value (for example exact Banzhaf values, or a domain expert's additive
decomposition). It is judged like the exact attribution (``ground_truth_agreement.ground_truth_score``: per row,
sign on the support × mean(recall@|S|, max(0, Spearman ρ), magnitude)), but on its own truth axis
(``truth = "declared_reference"``): its own column and its own track, never averaged with the Shapley tracks, since
an explainer that is right about Shapley values is wrong about Banzhaf values where they differ.

Reference: Sundararajan & Najmi 2020 (many attribution definitions, each a different truth); Krishna et al. 2022
(the agreement metrics).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._declared import declared_case, declared_inputs
from .base import Case, Check, CheckResult, register_check
from .ground_truth_agreement import GT_TOLERANCE, _nan_to_none, ground_truth_score, rows, verdict

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["ReferenceAgreement"]


@register_check
class ReferenceAgreement(Check):
    """Agreement with the model's declared reference R (its kind in the evidence): mean over rows with a non-empty
    support of sign-on-S × mean(recall@|S|, max(0, ρ), max(0, 1 - ||A - R|| / ||R||))."""

    name = "reference_agreement"
    category = "ground_truth"
    threshold = 0.8
    version = 1
    truth = "declared_reference"
    #: Floor 0.35: measured on the built-in declared example (``synthetic_models.declared_examples``, the Banzhaf
    #: values of 4 x0 x1 x2 + x3 - x4^2/2): the degenerate panel's best is the gradient's sign (0.30), then
    #: split_equally 0.24, identity 0.20, random 0.20; zero 0 (tests/test_declared_cases.py). Exact Banzhaf scores 1,
    #: exact Shapley 0.94 (the two truths differ on the three-way product).
    floor = 0.35
    citation = ("Sundararajan & Najmi 2020, The many Shapley values for model explanation (one truth per definition); "
                "Krishna et al. 2022, The disagreement problem in explainable ML (metrics)")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """Models that declare a reference of their own kind; the declared rows and baseline."""
        if model.ground_truth.reference is None:
            return []
        X, background = declared_inputs(model, suite)
        return [declared_case(self.name, model, X, f"its declared {model.ground_truth.reference_kind} reference",
                              background=background)]

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        gt = case.model.ground_truth
        if gt.reference is None:
            return CheckResult.not_applicable(f"{case.id}: the model declares no reference")
        A = case.explain(explainer, seed=seed)
        R = np.asarray(gt.reference(case.X, np.asarray(case.baseline)), dtype=np.float64)
        parts = ground_truth_score(A, R, magnitude=True)
        if not parts["scored_rows"]:
            return CheckResult.not_applicable(f"{case.id}: the declared reference is zero on every row")
        measured = parts["score"]
        worst = min(parts["scored_rows"], key=lambda r: parts["row_score"][r])
        evidence = {
            "measured": measured, "threshold": self.threshold, "reference_kind": gt.reference_kind,
            "pass_if": "score = mean over scored rows of sign x mean(recall@|S|, max(0, rho), magnitude) >= threshold",
            "attributions": rows(A), "reference": rows(R), "baseline": rows(np.atleast_2d(case.baseline)),
            "row_score": _nan_to_none(parts["row_score"]), "worst_row": worst,
            "tolerance": {"rtol": GT_TOLERANCE.rtol, "atol": GT_TOLERANCE.atol},
        }
        detail = (f"row {worst} x={np.round(case.X[worst], 3).tolist()}: row score {parts['row_score'][worst]:.3f}, "
                  f"a={np.round(A[worst], 3).tolist()} vs {gt.reference_kind}={np.round(R[worst], 3).tolist()}")
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          f"agreement with the declared {gt.reference_kind} reference (mean row score)", detail)
        return CheckResult.scored(measured, self.threshold, message, evidence)
