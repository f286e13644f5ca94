"""One function under several input distributions: where interventional and conditional Shapley part ways.

Janzing, Minorics & Blöbaum 2020, "Feature relevance quantification in explainable AI: a causal problem" (AISTATS),
argue that the *interventional* value function ``v(S) = E_z f(x_S, z_{N\\S})`` is the right one; the *conditional*
(observational) ``v(S) = E[f(Z) | Z_S = x_S]`` credits features the function never reads when they are correlated
with ones it does. Compare-xAI's ``x0 + x1`` tests probe the same thing. Every model here has a small DISCRETE
support (attributes ``support [m, d]`` and ``probabilities [m]``, sampler = draws from them), so both values are
exact via ``xaicheck.synthetic_models.shapley``.

``janzing_*``: ``f = x0 + x1`` on ``{0,1}^2`` (d=2), both marginals ``P(x_i = 1) = ½``, and
``q = P(x1 = x0)``; write ``r = 2q - 1`` (the correlation). Then ``E[x1 | x0] = (1-r)/2 + r·x0`` and for ``x`` in the
support the conditional Shapley values are (derivation: ``v(∅) = 1``, ``v({0}) = (1+r)x0 + (1-r)/2``,
``v({1})`` likewise, ``v(N) = x0 + x1``; average the two orders):

    φ_0 = (1 + r/2)·x0 - (r/2)·x1 - ½,      φ_1 = (1 + r/2)·x1 - (r/2)·x0 - ½.

- ``janzing_independent``  q = ½  (r = 0):   φ_i = x_i - ½ (conditional = interventional)
- ``janzing_dependent``    q = 0.9 (r = 0.8): φ_0 = 1.4·x0 - 0.4·x1 - ½; at x = (1, 0): (0.9, -0.9) where the
  interventional value is (½, -½)
- ``janzing_correlated``   q = 1  (r = 1, x1 copies x0; support {00, 11}): φ_0 = φ_1 = x0 - ½ on the support;
  off the support the conditional value is undefined.

The interventional value with the model's distribution as background is ``φ_i = x_i - E[x_i] = x_i - ½`` for every
``q`` (f is additive). Baseline Shapley is ``φ_i = x_i - b_i`` (``GroundTruth.exact_attribution``).

``copy_feature``: d=3, ``f = x0 + x1``, data has ``x2 = x0`` (x0, x1 independent fair coins; support of 4 points).
Interventional: ``(x0 - ½, x1 - ½, 0)``; conditional: x0 and x2 are perfect substitutes in
``v(S) = 1 + [0 ∈ S or 2 ∈ S](x0 - ½) + [1 ∈ S](x1 - ½)``, so ``(x0 - ½)/2`` each and ``x1 - ½`` for x1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from .base import FunctionModel, GroundTruth
from .registry import register_model

if TYPE_CHECKING:
    import torch

__all__ = [
    "DiscreteDistributionModel",
    "janzing_support",
    "janzing_conditional_shapley",
    "copy_feature_conditional_shapley",
    "janzing_independent",
    "janzing_dependent",
    "janzing_correlated",
    "copy_feature",
]

FAMILY = "distributions"
Attribution = Callable[[np.ndarray], np.ndarray]


class DiscreteDistributionModel(FunctionModel):
    """A model whose input distribution is a known finite ``support`` with ``probabilities``.

    ``conditional_attribution(X)`` / ``interventional_attribution(X)``: the closed-form conditional and interventional
    (background = the distribution) Shapley values documented in the module docstring.
    """

    def __init__(
        self,
        name: str,
        fn: Callable[[np.ndarray], np.ndarray],
        feature_names: tuple[str, ...],
        ground_truth: GroundTruth,
        support: np.ndarray,
        probabilities: np.ndarray,
        conditional_attribution: Attribution,
        interventional_attribution: Attribution,
        spec: dict,
    ) -> None:
        support = np.asarray(support, dtype=np.float64)
        p = np.asarray(probabilities, dtype=np.float64)
        if support.ndim != 2 or support.shape[1] != len(feature_names) or p.shape != (support.shape[0],):
            raise ValueError(f"support {support.shape} and probabilities {p.shape} do not match d={len(feature_names)}")
        if np.any(p < 0) or not np.isclose(p.sum(), 1.0):
            raise ValueError(f"Expected probabilities >= 0 summing to 1 but got {p.tolist()}")
        support.setflags(write=False)
        p.setflags(write=False)
        self.support = support
        self.probabilities = p
        self.conditional_attribution = conditional_attribution
        self.interventional_attribution = interventional_attribution

        def sampler(n: int, rng: np.random.Generator) -> np.ndarray:
            return support[rng.choice(support.shape[0], size=n, p=p)].copy()

        super().__init__(name, FAMILY, fn, feature_names, ground_truth, domain="binary", sampler=sampler,
                         torch_factory=_torch_sum_x0_x1(len(feature_names)),
                         spec={**spec, "support": support.tolist(), "probabilities": p.tolist()})

    def mean(self) -> np.ndarray:
        """``E[Z]`` under the distribution."""
        return self.probabilities @ self.support


def _sum_x0_x1(X: np.ndarray) -> np.ndarray:
    return X[:, 0] + X[:, 1]


def _torch_sum_x0_x1(d: int) -> Callable[[], "torch.nn.Module"]:
    """Factory of ``nn.Linear(d, 1)`` with weights ``(1, 1, 0, ...)``: an exact torch form of ``x0 + x1``."""

    def factory() -> "torch.nn.Module":
        import torch
        from torch import nn

        linear = nn.Linear(d, 1).double()
        with torch.no_grad():
            linear.weight.zero_()
            linear.weight[0, :2] = 1.0
            linear.bias.zero_()
        return nn.Sequential(linear, nn.Flatten(0)).eval()

    return factory


def _baseline_shapley_sum(X: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Baseline Shapley of ``x0 + x1`` (other features dummy): ``(x0 - b0, x1 - b1, 0, ...)``."""
    X = np.asarray(X, dtype=np.float64)
    out = X - np.broadcast_to(np.asarray(B, dtype=np.float64), X.shape)
    out[:, 2:] = 0.0
    return out


def janzing_support(q: float) -> tuple[np.ndarray, np.ndarray]:
    """Support ``{00, 01, 10, 11}`` with fair marginals and ``P(x1 = x0) = q`` (zero-probability rows dropped)."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"Expected 0 <= q <= 1 but got q={q!r}")
    support = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    p = np.array([q / 2, (1 - q) / 2, (1 - q) / 2, q / 2])
    keep = p > 0
    return support[keep], p[keep]


def janzing_conditional_shapley(X: np.ndarray, q: float) -> np.ndarray:
    """Closed-form conditional Shapley of ``x0 + x1`` when ``P(x1 = x0) = q``: ``φ_0 = (1+r/2)x0 - (r/2)x1 - ½``."""
    X = np.asarray(X, dtype=np.float64)
    r = 2.0 * q - 1.0
    x0, x1 = X[:, 0], X[:, 1]
    return np.stack([(1 + r / 2) * x0 - (r / 2) * x1 - 0.5, (1 + r / 2) * x1 - (r / 2) * x0 - 0.5], axis=1)


def _centred(X: np.ndarray, mean: np.ndarray, used: int = 2) -> np.ndarray:
    """Interventional Shapley of an additive ``Σ_{i<used} x_i``: ``x_i - E[x_i]``, zero for unused features."""
    X = np.asarray(X, dtype=np.float64)
    out = X - mean
    out[:, used:] = 0.0
    return out


def _janzing(name: str, q: float, notes: str) -> DiscreteDistributionModel:
    support, p = janzing_support(q)
    mean = p @ support
    gt = GroundTruth(relevant=frozenset({0, 1}), symmetric_groups=(frozenset({0, 1}),),
                     exact_attribution=_baseline_shapley_sum, notes=notes)
    return DiscreteDistributionModel(
        name, _sum_x0_x1, ("x0", "x1"), gt, support, p,
        conditional_attribution=lambda X: janzing_conditional_shapley(X, q),
        interventional_attribution=lambda X: _centred(X, mean),
        spec={"kind": "janzing", "formula": "x0+x1", "q": q},
    )


@register_model("janzing_independent", placed={
    "ground_truth_agreement": "full",
})
def janzing_independent() -> DiscreteDistributionModel:
    """``x0 + x1``, independent fair coins: conditional = interventional = ``x_i - ½``."""
    return _janzing("janzing_independent", 0.5, "f = x0 + x1; x0, x1 independent fair coins")


@register_model("janzing_dependent", placed={
    "ground_truth_agreement": "default",
})
def janzing_dependent() -> DiscreteDistributionModel:
    """``x0 + x1`` with ``P(x1 = x0) = 0.9``: conditional ``φ_0 = 1.4x0 - 0.4x1 - ½``, interventional ``x_i - ½``."""
    return _janzing("janzing_dependent", 0.9, "f = x0 + x1; P(x1 = x0) = 0.9")


@register_model("janzing_correlated")
def janzing_correlated() -> DiscreteDistributionModel:
    """``x0 + x1`` with ``x1 = x0`` always (support {00, 11}): conditional ``φ_0 = φ_1 = x0 - ½`` on the support."""
    return _janzing("janzing_correlated", 1.0, "f = x0 + x1; x1 = x0 (support {00, 11})")


def copy_feature_conditional_shapley(X: np.ndarray) -> np.ndarray:
    """Conditional Shapley of ``x0 + x1`` when ``x2 = x0``: ``((x0-½)/2, x1-½, (x0-½)/2)`` (x in the support)."""
    X = np.asarray(X, dtype=np.float64)
    half = (X[:, 0] - 0.5) / 2
    return np.stack([half, X[:, 1] - 0.5, half], axis=1)


@register_model("copy_feature", placed={
    "dummy": "default",
    "ground_truth_agreement": "full",
})
def copy_feature() -> DiscreteDistributionModel:
    """``f = x0 + x1``, data ``x2 = x0``: interventional gives x2 zero, conditional gives it half of x0's credit."""
    support = np.array([[a, b, a] for a in (0, 1) for b in (0, 1)], dtype=np.float64)
    p = np.full(4, 0.25)
    mean = p @ support
    gt = GroundTruth(relevant=frozenset({0, 1}), dummy=frozenset({2}), exact_attribution=_baseline_shapley_sum,
                     notes="f = x0 + x1; x2 copies x0 in the data but f never reads it")
    return DiscreteDistributionModel(
        "copy_feature", _sum_x0_x1, ("x0", "x1", "x2_copy_of_x0"), gt, support, p,
        conditional_attribution=copy_feature_conditional_shapley,
        interventional_attribution=lambda X: _centred(X, mean),
        spec={"kind": "copy_feature", "formula": "x0+x1", "copy": [2, 0]},
    )
