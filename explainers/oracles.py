"""Exact Shapley / Banzhaf values by enumeration: the ground-truth oracles (family ``oracle``).

All three call ``xaicheck.synthetic_models.shapley`` (vectorised over the ``2^d`` coalitions; refused above
``MAX_EXACT_FEATURES``) on the explained scalar output ``model.predict_target(., target)``:

- ``exact_baseline_shapley``:       φ_i = Σ_S |S|!(d-|S|-1)!/d! [f(x_{S∪i}, b) - f(x_S, b)]   (BShap,
  Sundararajan & Najmi 2020); efficiency: Σφ = f(x) - f(b).
- ``exact_interventional_shapley``: the same with v(S) = mean_z f(x_S, z_{N\\S}) over the background rows
  (Janzing et al. 2020); efficiency: Σφ = f(x) - mean_z f(z).
- ``exact_banzhaf``:                β_i = 2^{-(d-1)} Σ_S [f(x_{S∪i}, b) - f(x_S, b)]   (Banzhaf 1965);
  not efficient in general.

Where the enumeration would evaluate more than ``SHORTCUT_ROWS`` model rows, the value is computed by the exact route
the model's declared form allows (each proven equal to the enumeration to 1e-12 by ``tests/test_oracle_closed_forms.py``
and ``tests/test_oracle_tree.py``): the linear closed form ``w (x - mean r)`` for a model declaring
``linear_coefficients``, interventional TreeSHAP leaf by leaf for a regression tree / forest / gradient boosting.
Otherwise (and always for other models) the blocked enumeration with its binary corner table, which is bit-identical
to the plain enumeration; below the threshold the closed forms would only move the last bits of cheap answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from xaicheck.synthetic_models import shapley
from xaicheck.synthetic_models.closed_forms import linear_values, linear_weights
from xaicheck.synthetic_models.tree_shapley import tree_terms, tree_values

from ._patches import players
from . import _expected_reasons as why
from .base import Capabilities, ExpectedFailure, Explainer, register
from .torch_utils import predict_fn

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["SHORTCUT_ROWS", "exact_values", "ExactBaselineShapley", "ExactInterventionalShapley", "ExactBanzhaf"]


#: Enumerations larger than this (instances x 2^d x reference rows) use a closed form / TreeSHAP when one applies.
SHORTCUT_ROWS = 1 << 20


def exact_values(
    model: "SyntheticModel", X: np.ndarray, reference: np.ndarray, *, game: Literal["baseline", "interventional"],
    index: Literal["shapley", "banzhaf"], target: int | None,
) -> np.ndarray:
    """Exact Shapley / Banzhaf values ``[n, d]`` of the explained output by the fastest exact route (see above)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    ref = np.atleast_2d(np.asarray(reference, dtype=np.float64))
    R = ref[None] if game == "interventional" else (ref[:1, None, :] if ref.shape[0] == 1 else ref[:, None, :])
    if X.shape[0] * (1 << X.shape[1]) * R.shape[1] > SHORTCUT_ROWS:
        w = linear_weights(model, target)
        if w is not None:
            return linear_values(w, X, R)
        terms = tree_terms(model.sklearn_estimator) if getattr(model, "is_tree_model", False) else None
        if terms is not None and model.n_outputs == 1:
            return tree_values(terms, X, R, index)
    f = predict_fn(model, target)
    if index == "banzhaf":
        return (shapley.baseline_banzhaf if game == "baseline" else shapley.interventional_banzhaf)(f, X, reference)
    return (shapley.baseline_shapley if game == "baseline" else shapley.interventional_shapley)(f, X, reference)


class _Oracle(Explainer):
    family = "oracle"
    library = "xaicheck"

    def enumeration_limit(self) -> int | None:
        return shapley.MAX_EXACT_FEATURES

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        if players(self, model) > shapley.MAX_EXACT_FEATURES:  # a patched image: its patches (_patches.py)
            return False, (f"{self.name} enumerates 2^d coalitions; d={model.n_features} > "
                           f"MAX_EXACT_FEATURES={shapley.MAX_EXACT_FEATURES}")
        return super().can_explain(model)


class ExactBaselineShapley(_Oracle):
    """Exact baseline Shapley values (BShap) by enumeration."""

    name = "exact_baseline_shapley"
    capabilities = Capabilities(requires="callable", uses_baseline=True)
    settings = {"value_function": "baseline", "enumeration": "exact"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return exact_values(model, X, baseline, game="baseline", index="shapley", target=target)


class ExactInterventionalShapley(_Oracle):
    """Exact interventional (marginal) Shapley values over the background rows."""

    name = "exact_interventional_shapley"
    capabilities = Capabilities(requires="callable", uses_background=True)
    settings = {"value_function": "interventional", "enumeration": "exact"}
    expected_failures = (
        ExpectedFailure("relevance", why.HMS.format(issue="issue I1", what="a non-zero value to an irrelevant "
                                                    "feature (one in no abductive explanation)"),
                        case="hms_irrelevant_nonzero"),
        ExpectedFailure("relevance", why.HMS.format(issue="issue I3", what="zero to a relevant feature"),
                        case="hms_relevant_zero"),
    )

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return exact_values(model, X, background, game="interventional", index="shapley", target=target)


class ExactBanzhaf(_Oracle):
    """Exact Banzhaf values for the baseline value function."""

    name = "exact_banzhaf"
    capabilities = Capabilities(requires="callable", uses_baseline=True)
    settings = {"value_function": "baseline", "enumeration": "exact"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return exact_values(model, X, baseline, game="baseline", index="banzhaf", target=target)


for _cls in (ExactBaselineShapley, ExactInterventionalShapley, ExactBanzhaf):
    register(_cls())
