"""Agreement with a tree ensemble's exact path-dependent Shapley values: a truth axis of its own.

A fitted tree model may declare ``path_dependent_shapley(X) -> [n, d]`` (``synthetic_models.tree_zoo``): the exact
Shapley values of the cover-weighted game ``v(S) = Σ_t s_t E_t[tree_t(x) | x_S]`` (Lundberg, Erion & Lee 2018),
computed leaf by leaf from the library's node covers (``synthetic_models.tree_path_shapley``). It differs from the
interventional Shapley value the default axis judges (``ground_truth_agreement``) wherever the training data make
the features dependent inside the trees' partitions, so it is judged on its own axis (``truth = "path_dependent"``):
its own column and its own track, never averaged with the interventional truth.

Score: ``ground_truth_agreement.ground_truth_score`` with the magnitude term: per row with a non-empty support,
sign on S × mean(recall@|S|, max(0, Spearman ρ), max(0, 1 - ||A - R|| / ||R||)).
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

__all__ = ["PathDependentAgreement"]


@register_check
class PathDependentAgreement(Check):
    """Agreement with the exact path-dependent (node-cover) Shapley values of a fitted tree ensemble."""

    name = "path_dependent_agreement"
    category = "ground_truth"
    threshold = 0.8
    version = 1
    truth = "path_dependent"
    #: Floor 0.3: measured on the six default tree-zoo cases (a default run restricted to them): the degenerate
    #: panel's best is memoiser 0.250, then identity 0.250, huge_feature 0.225, split_equally 0.220, random 0.179.
    #: The check has no quick case, so tests/test_degenerate_panel.py does not re-measure it.
    floor = 0.3
    citation = ("Lundberg, Erion & Lee 2018, Consistent individualized feature attribution for tree ensembles; "
                "Krishna et al. 2022, The disagreement problem in explainable ML (metrics)")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """Models that declare ``path_dependent_shapley``; the declared rows and baseline."""
        if not callable(getattr(model, "path_dependent_shapley", None)):
            return []
        X, background = declared_inputs(model, suite)
        return [declared_case(self.name, model, X, "exact path-dependent (node-cover) Shapley values",
                              background=background)]

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        R = np.asarray(case.model.path_dependent_shapley(case.X), dtype=np.float64)  # type: ignore[attr-defined]
        parts = ground_truth_score(A, R, magnitude=True)
        if not parts["scored_rows"]:
            return CheckResult.not_applicable(f"{case.id}: the path-dependent values are zero on every row")
        measured = parts["score"]
        worst = min(parts["scored_rows"], key=lambda r: parts["row_score"][r])
        evidence = {
            "measured": measured, "threshold": self.threshold, "reference_kind": "path_dependent_shapley",
            "pass_if": "score = mean over scored rows of sign x mean(recall@|S|, max(0, rho), magnitude) >= threshold",
            "attributions": rows(A), "reference": rows(R), "row_score": _nan_to_none(parts["row_score"]),
            "worst_row": worst, "tolerance": {"rtol": GT_TOLERANCE.rtol, "atol": GT_TOLERANCE.atol},
        }
        detail = (f"row {worst}: row score {parts['row_score'][worst]:.3f}, a={np.round(A[worst], 3).tolist()} "
                  f"vs path_dependent={np.round(R[worst], 3).tolist()}")
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          "agreement with the exact path-dependent Shapley values (mean row score)", detail)
        return CheckResult.scored(measured, self.threshold, message, evidence)
