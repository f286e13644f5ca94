"""Exact Shapley / Banzhaf values by enumeration: the ground-truth oracles (family ``oracle``).

All three call ``xaicheck.synthetic_models.shapley`` (vectorised over the ``2^d`` coalitions; refused above
``MAX_EXACT_FEATURES``) on the explained scalar output ``model.predict_target(., target)``:

- ``exact_baseline_shapley``:       φ_i = Σ_S |S|!(d-|S|-1)!/d! [f(x_{S∪i}, b) - f(x_S, b)]   (BShap,
  Sundararajan & Najmi 2020); efficiency: Σφ = f(x) - f(b).
- ``exact_interventional_shapley``: the same with v(S) = mean_z f(x_S, z_{N\\S}) over the background rows
  (Janzing et al. 2020); efficiency: Σφ = f(x) - mean_z f(z).
- ``exact_banzhaf``:                β_i = 2^{-(d-1)} Σ_S [f(x_{S∪i}, b) - f(x_S, b)]   (Banzhaf 1965);
  not efficient in general.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xaicheck.synthetic_models import shapley

from .base import Capabilities, Explainer, register
from .torch_utils import predict_fn

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["ExactBaselineShapley", "ExactInterventionalShapley", "ExactBanzhaf"]


class _Oracle(Explainer):
    family = "oracle"
    library = "xaicheck"

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        if model.n_features > shapley.MAX_EXACT_FEATURES:
            return False, (f"{self.name} enumerates 2^d coalitions; d={model.n_features} > "
                           f"MAX_EXACT_FEATURES={shapley.MAX_EXACT_FEATURES}")
        return super().can_explain(model)


class ExactBaselineShapley(_Oracle):
    """Exact baseline Shapley values (BShap) by enumeration."""

    name = "exact_baseline_shapley"
    capabilities = Capabilities(requires="callable", uses_baseline=True)
    settings = {"value_function": "baseline", "enumeration": "exact"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return shapley.baseline_shapley(predict_fn(model, target), X, baseline)


class ExactInterventionalShapley(_Oracle):
    """Exact interventional (marginal) Shapley values over the background rows."""

    name = "exact_interventional_shapley"
    capabilities = Capabilities(requires="callable", uses_background=True)
    settings = {"value_function": "interventional", "enumeration": "exact"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return shapley.interventional_shapley(predict_fn(model, target), X, background)


class ExactBanzhaf(_Oracle):
    """Exact Banzhaf values for the baseline value function."""

    name = "exact_banzhaf"
    capabilities = Capabilities(requires="callable", uses_baseline=True)
    settings = {"value_function": "baseline", "enumeration": "exact"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return shapley.baseline_banzhaf(predict_fn(model, target), X, baseline)


for _cls in (ExactBaselineShapley, ExactInterventionalShapley, ExactBanzhaf):
    register(_cls())
