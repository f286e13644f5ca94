"""consistency: a feature whose marginal contribution rises in every coalition must not lose attribution.

Lundberg, Erion & Lee 2018, "Consistent individualized feature attribution for tree ensembles", def. 1: for models
f, f' with ``f'_x(S ∪ {i}) - f'_x(S) >= f_x(S ∪ {i}) - f_x(S)`` for every S ⊆ N ∖ {i}, an attribution must give
``φ_i(f', x) >= φ_i(f, x)``. Model pairs whose rise holds for *every* reference an explainer may use (the baseline
and every background row), so the premise is true whichever missingness the explainer implements:

- Lundberg's cough-and-fever: f = 80·[C ∧ F], f' = f + 10·[C] (models A / B of the paper), rows with C = 1 (the rise
  is 10·(1 - z_C) >= 0 for every reference z); the functional form and the fitted trees (where Saabas is known to
  fail: ``tree_cough_fever`` / ``tree_cough_fever_10_90``);
- a bump on any model: f' = f + c·relu(x_i - τ) with τ = max(b_i, max_z z_i), on rows with x_i > τ: in every game the
  marginal contribution of i rises by c·(x_i - τ) and no other feature's changes (c = the range of f on the rows).

Per row: ``ok = a'_i - a_i >= -10⁻³ × rise`` (the tolerance scales with the known rise, never the explainer's
output); score = share of rows ok. Role **gate** (floor 1.0): any attribution that ignores the model (zero,
constant, noise with the same seed) meets the inequality, so consistency is a necessary condition, not a quality.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from xaicheck.synthetic_models.base import FunctionModel, SyntheticModel
from xaicheck.synthetic_models.registry import get_model

from ._faithfulness import DEFAULT, QUICK
from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import rows, verdict

if TYPE_CHECKING:
    import torch

    from xaicheck.explainers.base import Explainer

__all__ = ["Consistency", "bumped_model", "true_rise"]

RISE_TOLERANCE = Tolerance(rtol=1e-3, atol=1e-12)


def bumped_model(model: SyntheticModel, feature: int, tau: float, c: float) -> FunctionModel:
    """``f + c·relu(x_feature - tau)``, with a torch form when ``model`` has one."""

    def fn(X: np.ndarray) -> np.ndarray:
        return model.predict(X) + c * np.maximum(X[:, feature] - tau, 0.0)

    def torch_factory() -> "torch.nn.Module":
        import torch
        from torch import nn

        class Bumped(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.base, self.relu = model.torch_module(), nn.ReLU()

            def forward(self, x: "torch.Tensor") -> "torch.Tensor":
                return self.base(x) + c * self.relu(x[:, feature] - tau)

        return Bumped().double().eval()

    return FunctionModel(f"{model.name}_bump_x{feature}", model.family, fn, model.feature_names, model.ground_truth,
                         domain=model.domain, sampler=model.sample,
                         torch_factory=torch_factory if "torch" in model.forms else None,
                         spec={**model.spec(), "bump": {"feature": feature, "tau": tau, "c": c}})


def _lundberg_case(check: str, a: str, b: str, tiers: frozenset[str]) -> Case:
    model, twin = get_model(a), get_model(b)
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    table = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return Case(check=check, name=f"{a}__{b}", model=model, X=X, baseline=np.zeros(2), background=table,
                extra={"models": (twin,), "feature": 0, "training_data": table},
                tiers=tiers, description="Lundberg et al. 2018 models A -> B: Cough's contribution rises by 10")


def _bump_case(check: str, name: str, tiers: frozenset[str], n: int = 8) -> Case:
    model = get_model(name)
    rng = np.random.default_rng(11)
    background, X = model.sample(16, rng), model.sample(n, rng)
    baseline = np.zeros(model.n_features)
    feature = min(model.ground_truth.relevant)
    tau = float(max(baseline[feature], background[:, feature].max()))
    X[:, feature] = tau + rng.uniform(0.1, 0.5, size=n)
    c = float(max(np.ptp(model.predict(X)), 1.0))
    twin = bumped_model(model, feature, tau, c)
    return Case(check=check, name=f"{name}_bump", model=model, X=X, baseline=baseline, background=background,
                extra={"models": (twin,), "feature": feature}, tiers=tiers,
                description=f"f -> f + c·relu(x{feature} - τ): x{feature}'s marginal contribution rises everywhere")


def true_rise(model: SyntheticModel, twin: SyntheticModel, X: np.ndarray, baseline: np.ndarray,
              target: int | None = None) -> np.ndarray:
    """``[n]`` rise of the feature's marginal contribution: ``g(x) - g(b)`` with ``g = f' - f``, the same in every
    coalition and game of these pairs (g depends on one feature and vanishes on every reference); read off the
    models, so it is in their units (``f -> αf + c`` scales it by α)."""
    g = twin.predict_target(X, target) - model.predict_target(X, target)
    g_b = twin.predict_target(baseline[None, :], target) - model.predict_target(baseline[None, :], target)
    return g - g_b


@register_check
class Consistency(Check):
    """Lundberg 2018 consistency on model pairs where one feature's marginal contribution rises in every coalition."""

    name = "consistency"
    category = "axioms"
    threshold = 1.0
    floor = 1.0
    role = "gate"
    version = 1
    citation = "Lundberg, Erion & Lee 2018, Consistent individualized feature attribution for tree ensembles, def. 1"

    def cases(self) -> list[Case]:
        return [_lundberg_case(self.name, "cough_fever", "cough_fever_10_90", QUICK),
                _lundberg_case(self.name, "tree_cough_fever", "tree_cough_fever_10_90", QUICK),
                _bump_case(self.name, "pairwise_interactions", DEFAULT),
                _bump_case(self.name, "min_max", DEFAULT)]

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        twin = case.extra["models"][0]
        i = int(case.extra["feature"])
        rise = true_rise(case.model, twin, case.X, case.baseline, case.target)
        A = case.explain(explainer, seed=seed)
        B = case.explain(explainer, seed=seed, model=twin)
        if A.shape[0] != case.X.shape[0]:  # a global importance: one row for the whole data
            rise = np.array([rise.mean()])
        change = B[:, i] - A[:, i]
        ok = change >= -RISE_TOLERANCE.bound(rise)
        measured = float(ok.mean())
        worst = int(np.argmin(change / rise))
        evidence: dict[str, Any] = {
            "measured": measured, "threshold": self.threshold, "floor": self.floor, "feature": i,
            "true_rise": rise.tolist(), "attribution_change": change.tolist(), "rows_consistent": int(ok.sum()),
            "realised_share_of_rise": (change / rise).tolist(), "attributions": rows(A), "attributions_twin": rows(B),
            "tolerance": {"rtol": RISE_TOLERANCE.rtol, "atol": RISE_TOLERANCE.atol},
        }
        detail = (f"row {worst}: feature {case.model.feature_names[i]} rose by {rise[worst]:.4g} in every coalition "
                  f"but its attribution changed by {change[worst]:.4g} ({A[worst, i]:.4g} -> {B[worst, i]:.4g})")
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          "share of rows where the attribution did not fall", detail)
        return CheckResult.scored(measured, self.threshold, message, evidence)
