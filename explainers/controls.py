"""Control explainers that anchor the bottom of the leaderboard (family ``control``).

They ignore the model entirely, so any check they pass is a check that does not discriminate:
- ``random``:   i.i.d. standard normal attributions, ``np.random.default_rng(seed)``; the same seed gives the same
  output (Adebayo et al. 2018 use random attributions as the reference a method must beat);
- ``constant``: all ones;
- ``zero``:     all zeros (trivially satisfies dummy; violates completeness unless f(x) = f(b)).
"""

from __future__ import annotations

import numpy as np

from .base import Capabilities, Explainer, register

__all__ = ["RandomControl", "ConstantControl", "ZeroControl"]


class RandomControl(Explainer):
    """Standard normal attributions drawn from ``default_rng(seed)``, independent of the model."""

    name = "random"
    family = "control"
    capabilities = Capabilities(requires="callable", stochastic=True)
    settings = {"distribution": "standard_normal"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return np.random.default_rng(seed).standard_normal(X.shape)


class ConstantControl(Explainer):
    """All-ones attributions."""

    name = "constant"
    family = "control"
    capabilities = Capabilities(requires="callable")
    settings = {"value": 1.0}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return np.ones(X.shape)


class ZeroControl(Explainer):
    """All-zero attributions."""

    name = "zero"
    family = "control"
    capabilities = Capabilities(requires="callable")
    settings = {"value": 0.0}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return np.zeros(X.shape)


for _cls in (RandomControl, ConstantControl, ZeroControl):
    register(_cls())
