"""Models that join the exam by their declarations alone (``register_model(..., exam=True)``): no check names them.

- ``weighted_majority_pm1``: a ±1 boolean model, ``f(x) = 1[2 x0 + x1 + x2 + x3 > 0]`` on ``{-1, 1}^5`` (``x4`` a
  dummy), baseline the all-off corner ``-1`` (not zero: zero is not in its domain), features 1-3 symmetric.
- ``interacting_banzhaf``: ``4 x0 x1 x2 + x3 - x4^2 / 2`` on ``[-1, 1]^6`` (``x5`` a dummy) with a second truth of
  another kind: its exact baseline Banzhaf values (Banzhaf 1965; Sundararajan & Najmi 2020's family of attribution
  definitions), judged on their own axis by ``axioms.reference_agreement``.

Both declare the ``full`` suite only, so the quick and default suites keep their cases.
"""

from __future__ import annotations

import numpy as np

from .base import FunctionModel, GroundTruth
from .declarations import Declarations
from .registry import register_model
from .shapley import baseline_banzhaf

__all__ = ["weighted_majority_pm1", "interacting_banzhaf"]

_W = np.array([2.0, 1.0, 1.0, 1.0, 0.0])


def _majority(X: np.ndarray) -> np.ndarray:
    return (X @ _W > 0).astype(np.float64)


def _interacting(X: np.ndarray) -> np.ndarray:
    return 4.0 * X[:, 0] * X[:, 1] * X[:, 2] + X[:, 3] - 0.5 * X[:, 4] ** 2


def _banzhaf(X: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact baseline Banzhaf values of ``_interacting`` at rows ``X`` against baseline ``b``."""
    return baseline_banzhaf(_interacting, X, b)


@register_model("weighted_majority_pm1", exam=True)
def weighted_majority_pm1() -> FunctionModel:
    truth = GroundTruth(relevant=frozenset({0, 1, 2, 3}), dummy=frozenset({4}),
                       symmetric_groups=(frozenset({1, 2, 3}),),
                       notes="1[2x0 + x1 + x2 + x3 > 0] on {-1,1}^5, x4 dummy")
    return FunctionModel("weighted_majority_pm1", "declared_example", _majority, [f"x{i}" for i in range(5)], truth,
                         domain="binary", spec={"formula": "1[2x0 + x1 + x2 + x3 > 0]", "domain_values": [-1, 1]},
                         declarations=Declarations(tiers=frozenset({"full"}), domain_values=(-1.0, 1.0),
                                                   baseline=-1.0))


@register_model("interacting_banzhaf", exam=True)
def interacting_banzhaf() -> FunctionModel:
    truth = GroundTruth(relevant=frozenset({0, 1, 2, 3, 4}), dummy=frozenset({5}), symmetric_groups=(),
                        reference=_banzhaf, reference_kind="banzhaf",
                        notes="4 x0 x1 x2 + x3 - x4^2 / 2 on [-1, 1]^6, x5 dummy; reference: exact Banzhaf values")
    return FunctionModel("interacting_banzhaf", "declared_example", _interacting, [f"x{i}" for i in range(6)], truth,
                         sampler=lambda n, rng: rng.uniform(-1.0, 1.0, size=(n, 6)),
                         spec={"formula": "4 x0 x1 x2 + x3 - x4^2/2"},
                         declarations=Declarations(tiers=frozenset({"full"}), baseline=0.0))
