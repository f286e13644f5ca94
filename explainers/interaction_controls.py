"""Degenerate interaction explainers (family ``control``): the floor of the interaction track.

- ``interaction_zero``: every subset 0 (trivially satisfies dummy and symmetry; fails efficiency off ``f(x) = f(b)``);
- ``interaction_random``: normal noise in the model's units (``degenerate.input_rng``: redrawn per model and input),
  the reference a method must beat (Adebayo et al. 2018); the track calibrates against it;
- ``interaction_main_product``: exact baseline Shapley values on the singletons and ``φ_i φ_j / |f(x) - f(b)|`` on
  each pair (the product of main effects: "features that matter interact"), in the model's units.
"""

from __future__ import annotations

import numpy as np

from xaicheck.synthetic_models import shapley
from xaicheck.synthetic_models.interaction_subsets import n_subsets, subsets

from .base import Capabilities, register
from .degenerate import input_rng
from .interaction_base import InteractionExplainer
from .torch_utils import predict_fn

__all__ = ["InteractionZero", "InteractionRandom", "InteractionMainProduct"]

ORDER = 2


class InteractionZero(InteractionExplainer):
    name = "interaction_zero"
    family = "control"
    capabilities = Capabilities(interaction_order=ORDER)
    description = "zero on every subset"

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return np.zeros((X.shape[0], n_subsets(X.shape[1], ORDER)))


class InteractionRandom(InteractionExplainer):
    name = "interaction_random"
    family = "control"
    capabilities = Capabilities(interaction_order=ORDER, stochastic=True)
    description = "normal noise in the model's units on every subset"

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        rng, unit = input_rng(model, X, target, seed)
        return unit * rng.normal(size=(X.shape[0], n_subsets(X.shape[1], ORDER)))


class InteractionMainProduct(InteractionExplainer):
    name = "interaction_main_product"
    family = "control"
    capabilities = Capabilities(uses_baseline=True, interaction_order=ORDER, max_features=shapley.MAX_EXACT_FEATURES)
    description = "exact Shapley values on singletons, the product of main effects on pairs"

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        f = predict_fn(model, target)
        phi = shapley.baseline_shapley(f, X, baseline)
        gap = np.abs(f(X) - f(np.broadcast_to(baseline, X.shape)))
        gap = np.where(gap > 0, gap, 1.0)
        out = np.empty((X.shape[0], n_subsets(X.shape[1], ORDER)))
        for j, S in enumerate(subsets(X.shape[1], ORDER)):
            out[:, j] = phi[:, S[0]] if len(S) == 1 else phi[:, S[0]] * phi[:, S[1]] / gap
        return out


for _cls in (InteractionZero, InteractionRandom, InteractionMainProduct):
    register(_cls())
