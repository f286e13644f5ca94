"""fooling: is the explainer fooled by an adversarial scaffold? (Slack et al. 2020, "Fooling LIME and SHAP", AIES)

The scaffold ``fooling_scaffold`` returns a function of the sensitive feature only on the data manifold and a function
of an innocuous feature off it, routed by an out-of-distribution detector. Perturbation-based explainers query the
model mostly off the manifold, so they can be made to hide the sensitive feature. On-manifold - where the
explained inputs live - the model depends on the sensitive feature alone, so an explanation that is not fooled ranks
it first.

    score = mean over on-manifold inputs x of P(sensitive feature ranked first by |a(x)|)

ties at the top broken at random (``top_k_membership`` with k = 1; ``FOOL_TOLERANCE`` relative to the row's largest
|a|), so a constant explanation scores 1/d, not 1. Slack et al. (Fig. 3/4) report the sensitive feature at the top
for only a small fraction of instances for LIME and KernelSHAP under attack: those are expected to fail. So are
exact baseline / interventional Shapley: they describe the scaffold faithfully, off-manifold behaviour included, and
their coalitions x_S ∪ z_~S are off the manifold - which is exactly the attack. The check asks whether the
explanation reveals the on-manifold reliance, not whether it is a correct Shapley value. Evidence also reports how
often the innocuous feature comes first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.seeding import case_rng

from .agreement_metrics import top_k_membership
from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import rows, verdict

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = ["Fooling", "top_feature_share"]

FOOL_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-12)
N_INPUTS = 6
N_BACKGROUND = 32


def top_feature_share(A: np.ndarray, feature: int, tol: Tolerance = FOOL_TOLERANCE) -> np.ndarray:
    """``[n]`` probability that ``feature`` is ranked first by |a| (ties at the top shared equally)."""
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    if not 0 <= feature < A.shape[1]:
        raise ValueError(f"Expected a feature index in [0, {A.shape[1]}) but got feature={feature!r}")
    return top_k_membership(A, 1, tol.bound(np.abs(A).max(axis=1)))[:, feature]


@register_check
class Fooling(Check):
    """Share of on-manifold inputs whose attribution ranks the truly used (sensitive) feature first."""

    name = "fooling"
    category = "fragility"
    threshold = 0.75
    version = 1
    citation = "Slack et al. 2020, Fooling LIME and SHAP: adversarial attacks on post hoc explanation methods (AIES)"

    def cases(self) -> list[Case]:
        model = get_model("fooling_scaffold")
        rng = case_rng(8)
        X = model.sample(N_INPUTS, rng)
        background = model.sample(N_BACKGROUND, rng)
        return [Case(check=self.name, name=model.name, model=model, X=X, baseline=background.mean(axis=0),
                     background=background, tiers=frozenset({"quick", "default", "full"}),
                     description="on-manifold inputs; the model uses only the sensitive feature there")]

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        sensitive = int(getattr(case.model, "sensitive_feature", 0))
        innocuous = getattr(case.model, "innocuous_feature", None)
        A = case.explain(explainer, seed=seed)
        share = top_feature_share(A, sensitive)
        measured = float(share.mean())
        rank_of_sensitive = (np.abs(A) > np.abs(A[:, [sensitive]])).sum(axis=1) + 1
        evidence = {
            "measured": measured,
            "threshold": self.threshold,
            "attributions": rows(A),
            "sensitive_feature": sensitive,
            "sensitive_top_share": share.tolist(),
            "sensitive_rank": rank_of_sensitive.tolist(),
        }
        worst = int(np.argmin(share))
        evidence["worst_row"] = worst
        detail = (f"row {worst}: sensitive feature {case.model.feature_names[sensitive]!r} ranked "
                  f"{int(rank_of_sensitive[worst])} of {A.shape[1]}, a={np.round(A[worst], 3).tolist()}")
        if innocuous is not None:
            innocuous_share = top_feature_share(A, int(innocuous))
            evidence["innocuous_feature"] = int(innocuous)
            evidence["innocuous_top_share"] = innocuous_share.tolist()
            detail += (f"; innocuous {case.model.feature_names[int(innocuous)]!r} ranked first in "
                       f"{innocuous_share.mean():.0%} of inputs")
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          "share of on-manifold inputs with the sensitive feature ranked first", detail)
        return CheckResult.scored(measured, self.threshold, message, evidence)
