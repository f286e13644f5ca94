"""fooling and scaffold_shapley: Slack et al.'s adversarial scaffolds judged against their two truths, separately.

Slack et al. 2020, "Fooling LIME and SHAP: adversarial attacks on post hoc explanation methods" (AIES): a scaffold
returns a function of the sensitive feature on the data manifold and a function of an innocuous feature off it,
routed by an out-of-distribution detector. Two scaffolds (``synthetic_models.adversarial``):
``fooling_scaffold`` (a random-forest detector, callable only, as in the paper) and ``fooling_scaffold_torch`` (the
same attack as an exact torch module with a piecewise-linear gate, so gradient and path methods sit it too).

Both are padded to 6 features with two dummy features the scaffold never reads (``_padding.padded``), so neither
axis can be answered by enumerating small inputs ("exact when d <= 4").

Such a model has two truths that disagree, so they are two checks and never averaged:

**fooling** (role ``gate``, Slack et al.'s question: is the explanation fooled?). On the data - where the explained
inputs live - the model depends on the sensitive feature alone, so an explanation that is not fooled ranks it first:

    score = mean over on-manifold inputs x of P(sensitive feature ranked first by |a(x)|)

ties at the top broken at random (``top_k_membership`` with k = 1; ``FOOL_TOLERANCE`` relative to the row's largest
|a|), so constant / zero / random explanations score ~1/d. Slack et al. (Figs. 3-4) report the sensitive feature at
the top for few instances for LIME and KernelSHAP under attack: they fail. A gate, not a score: naming the one
feature the model uses on the data is necessary for an honest explanation and says nothing else about it - the
sign of the gradient ranks it first everywhere (1.0), so the check is shown as pass/fail beside the ranking.

**scaffold_shapley** (role ``score``, category ``ground_truth``): agreement with the scaffold's exact attribution as
implemented - off-manifold branch included - using ``ground_truth_agreement``'s reference and formula (exact baseline
Shapley at the case baseline, or interventional Shapley over the background for background methods, Janzing et al.
2020; score = mean over rows of sign × mean(recall@|S|, max(0, ρ))). On this axis exact Shapley values are right by
definition and the explanations that "see through" the attack to x0 alone are wrong: the coalitions x_S ∪ z_~S ARE
off the manifold, where the model reads x1. Which truth a user wants depends on the question ("what does the model
do on my data?" vs "what does this function compute?"); the leaderboard shows both. Floor
(``ScaffoldShapley.floor`` = 0.4): measured on the two padded scaffolds, the identity x - b scores 0.21 / 0.34
(its signs match where the exact values follow x - b), split-equally 0.17 / 0.13, random 0.11, constant 0.08, zero,
the gradient's sign and a memoised answer 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.seeding import case_rng

from ._padding import padded
from ._placed import placed_cases
from .agreement_metrics import top_k_membership
from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import ground_truth_score, reference_attribution, reference_kind, rows, verdict

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["Fooling", "ScaffoldShapley", "top_feature_share", "scaffold_cases"]

FOOL_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-12)
N_INPUTS = 6
N_BACKGROUND = 32
def top_feature_share(A: np.ndarray, feature: int, tol: Tolerance = FOOL_TOLERANCE) -> np.ndarray:
    """``[n]`` probability that ``feature`` is ranked first by |a| (ties at the top shared equally)."""
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    if not 0 <= feature < A.shape[1]:
        raise ValueError(f"Expected a feature index in [0, {A.shape[1]}) but got feature={feature!r}")
    return top_k_membership(A, 1, tol.bound(np.abs(A).max(axis=1)))[:, feature]


def _scaffold_case(check: str, model: "SyntheticModel", place: "Placement") -> Case | None:
    """A placed scaffold (a model that declares its ``sensitive_feature``), padded: on-manifold inputs, its data as
    background, the data mean as baseline."""
    if getattr(model, "sensitive_feature", None) is None:
        return None
    name = model.name
    model = padded(model)
    rng = case_rng(8)
    X = model.sample(N_INPUTS, rng)
    background = model.sample(N_BACKGROUND, rng)
    return Case(check=check, name=name, model=model, X=X, baseline=background.mean(axis=0),
                background=background, tiers=place.tiers,
                description="on-manifold inputs; the model uses only the sensitive feature there")


def scaffold_cases(check: str) -> list[Case]:
    """The cases of the models placed under ``"fooling"`` (the forest scaffold of the paper and its differentiable
    twin): both checks of this module judge them."""
    return placed_cases("fooling", lambda model, place: _scaffold_case(check, model, place))


@register_check
class Fooling(Check):
    """Gate: score = share of on-manifold inputs whose attribution ranks the truly used (sensitive) feature first."""

    name = "fooling"
    category = "fragility"
    threshold = 0.75
    version = 2
    #: Necessary, not sufficient: the gradient's sign names the sensitive feature and nothing else.
    role = "gate"
    citation = "Slack et al. 2020, Fooling LIME and SHAP: adversarial attacks on post hoc explanation methods (AIES)"

    def cases(self) -> list[Case]:
        return scaffold_cases(self.name)

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


@register_check
class ScaffoldShapley(Check):
    """Agreement with the scaffold's exact Shapley values as implemented: score = ground_truth_agreement's formula."""

    name = "scaffold_shapley"
    placement_keys = ("fooling",)
    category = "ground_truth"
    threshold = 0.8
    version = 1
    #: Degenerate explanations measured <= 0.34 (identity x - b on the torch scaffold; docstring).
    floor = 0.4
    citation = ("Slack et al. 2020 (the scaffold); Janzing et al. 2020 / Sundararajan & Najmi 2020 (the exact "
                "interventional / baseline Shapley values it is judged against)")

    def cases(self) -> list[Case]:
        return scaffold_cases(self.name)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        kind = reference_kind(explainer)
        R = reference_attribution(explainer, case.model, case.X, baseline=case.baseline, background=case.background,
                                  target=case.target)
        parts = ground_truth_score(A, R)
        if not parts["scored_rows"]:
            return CheckResult.not_applicable(f"{case.id}: the exact attribution is zero on every row")
        measured = float(parts["score"])
        worst = min(parts["scored_rows"], key=lambda r: parts["row_score"][r])
        evidence = {
            "measured": measured,
            "threshold": self.threshold,
            "floor": self.floor,
            "measured_is": "mean over rows of sign x mean(recall@|S|, max(0, rho)) against the scaffold's exact "
                           "Shapley values (ground_truth_agreement's formula)",
            "attributions": rows(A),
            "reference": rows(R),
            "reference_kind": kind,
            "row_score": [None if not np.isfinite(v) else float(v) for v in parts["row_score"]],
            "worst_row": worst,
        }
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          f"agreement with the scaffold's exact {kind} (off-manifold branch included)",
                          f"row {worst}: row score {parts['row_score'][worst]:.3f}, "
                          f"a={np.round(A[worst], 3).tolist()} vs exact={np.round(R[worst], 3).tolist()}")
        return CheckResult.scored(measured, self.threshold, message, evidence)
