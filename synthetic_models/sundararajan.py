"""The small ReLU networks of Sundararajan, Taly & Yan 2017 ("Axiomatic Attribution for Deep Networks").

- ``one_minus_relu``: f(x) = 1 - relu(1 - x) (sec. 2.1, Sensitivity): f(0) = 0 and f(2) = 1, yet the gradient is 0
  at x = 2, so a gradient-based attribution of x against the baseline 0 is 0 although the output changed by 1.
- ``sundararajan_pair_a`` = relu(relu(x1) - 1 - relu(x2)) and ``sundararajan_pair_b`` = relu(relu(x1 - 1) - relu(x2))
  (sec. 2.2, Implementation Invariance; their footnote networks): equal for every input, but the first subtracts the
  1 after the inner ReLU, the second before it, so DeepLift / LRP-style rules that look at internal activations
  attribute them differently. Proof of equality: for x1 >= 1 both are relu(x1 - 1 - relu(x2)); for x1 < 1 the inner
  arguments are <= 0 in both, so both are 0.

Each is an ``MLPModel`` (numpy forward pass and an ``nn.Sequential`` with ``nn.ReLU`` modules).
"""

from __future__ import annotations

import numpy as np

from .base import GroundTruth
from .equivalence import MLPModel, MLPSpec
from .declarations import Placement
from .registry import register_model

__all__ = ["one_minus_relu_spec", "pair_a_spec", "pair_b_spec"]


def one_minus_relu_spec() -> MLPSpec:
    """1 - relu(1 - x): hidden unit relu(-x + 1), output -h + 1."""
    return MLPSpec((([[-1.0]], [1.0]), ([[-1.0]], [1.0])))


def pair_a_spec() -> MLPSpec:
    """relu(relu(x1) - 1 - relu(x2)): layers [relu(x1), relu(x2)] -> relu(h1 - h2 - 1) -> identity output."""
    return MLPSpec(((np.eye(2), [0.0, 0.0]), ([[1.0, -1.0]], [-1.0]), ([[1.0]], [0.0])))


def pair_b_spec() -> MLPSpec:
    """relu(relu(x1 - 1) - relu(x2)): layers [relu(x1 - 1), relu(x2)] -> relu(h1 - h2) -> identity output."""
    return MLPSpec(((np.eye(2), [-1.0, 0.0]), ([[1.0, -1.0]], [0.0]), ([[1.0]], [0.0])))


_PAIR_GT = GroundTruth(relevant=frozenset({0, 1}), interactions=(frozenset({0, 1}),),
                       notes="relu(x1 - 1 - relu(x2)) on x1 in [0, 3], x2 in [0, 1]")


@register_model("one_minus_relu")
def _one_minus_relu() -> MLPModel:
    gt = GroundTruth(relevant=frozenset({0}), notes="f(x) = 1 - relu(1 - x); f(0) = 0, f(2) = 1, f'(2) = 0")
    return MLPModel("one_minus_relu", one_minus_relu_spec(), ground_truth=gt, family="sundararajan",
                    bounds=((0.0,), (2.0,)), feature_names=("x",))


# the IG paper's point x = (3, 1): f = 1, where the two implementations disagree
@register_model("sundararajan_pair_a", placed={
    "completeness": Placement("default", params={"first_row": (3.0, 1.0)}),
    "linearity": Placement("full", params={"partner": "product_x0x1", "coefficients": (0.5, 1.0)}),
})
def _pair_a() -> MLPModel:
    return MLPModel("sundararajan_pair_a", pair_a_spec(), ground_truth=_PAIR_GT, family="sundararajan",
                    bounds=((0.0, 0.0), (3.0, 1.0)), feature_names=("x1", "x2"))


# the first implementation-invariance twin (rank 0), case ``ig_paper_pair`` with the paper's point first
@register_model("sundararajan_pair_b", placed={
    "implementation_invariance": Placement("quick", params={"case": "ig_paper_pair", "first_row": (3.0, 1.0)}),
})
def _pair_b() -> MLPModel:
    return MLPModel("sundararajan_pair_b", pair_b_spec(), ground_truth=_PAIR_GT, family="sundararajan",
                    bounds=((0.0, 0.0), (3.0, 1.0)), feature_names=("x1", "x2"),
                    twin_of="sundararajan_pair_a", transform="subtract_before_relu")
