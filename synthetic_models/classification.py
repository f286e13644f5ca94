"""A two-class probabilistic classifier, and how close an input lies to its decision boundary.

``logistic_two_class``: logit ``z = w·x + c`` with ``w = (1.5, -2, 0)``, ``c = 0.25`` (x2 dummy) on ``[-1, 1]^3``;
outputs ``[P(class 0), P(class 1)] = softmax([0, z]) = [1 - σ(z), σ(z)]`` (``n_outputs = 2``: explainers need a
``target``). Torch form: ``nn.Linear(3, 2)`` with rows ``(0, 0, 0 | 0)`` and ``(w | c)`` then ``nn.Softmax(dim=1)``.
The log-odds ``log P1 - log P0 = z`` is linear, so its baseline Shapley values are ``w ⊙ (x - b)``
(``logit_attribution``); the probabilities themselves have no closed form that explainers are scored against here.

``certainty_ratio(probs)`` = second-highest / highest probability per row: 1 on the decision boundary, → 0 far from
it. ``boundary_distance_groups(model, X)`` labels each row ``"near"`` (ratio >= ``threshold``) or ``"far"`` —
attribution quality is often reported separately for the two (uncertain vs confident predictions).
``boundary_split(model, X, score_of)`` does that for a check: ``{"near_boundary": {...}, "far_from_boundary": {...}}``
with the check's score recomputed on each group of rows (``{}`` for single-output models), for ``evidence``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .base import FunctionModel, GroundTruth, SyntheticModel, uniform_sampler
from .registry import register_model

if TYPE_CHECKING:
    import torch

__all__ = [
    "LOGIT_W",
    "LOGIT_C",
    "ProbabilisticModel",
    "certainty_ratio",
    "boundary_distance_groups",
    "boundary_split",
    "logistic_two_class",
]

FAMILY = "classification"
LOGIT_W = (1.5, -2.0, 0.0)
LOGIT_C = 0.25
#: Default: "near" when the runner-up has at least half the winner's probability (two classes: max prob <= 2/3).
NEAR_THRESHOLD = 0.5


class ProbabilisticModel(FunctionModel):
    """A classifier returning class probabilities ``[n, k]``; ``logit_coefficients = (w, c)`` of class 1 vs 0."""

    logit_coefficients: tuple[np.ndarray, float]

    def logit(self, X: np.ndarray) -> np.ndarray:
        """``z = w·x + c`` (= ``log P1 - log P0``)."""
        w, c = self.logit_coefficients
        return np.asarray(X, dtype=np.float64) @ w + c

    def logit_attribution(self, X: np.ndarray, baseline: np.ndarray) -> np.ndarray:
        """Exact baseline Shapley values of the logit: ``w ⊙ (x - b)``."""
        w, _ = self.logit_coefficients
        return w * (np.asarray(X, dtype=np.float64) - np.asarray(baseline, dtype=np.float64))


def certainty_ratio(probs: np.ndarray) -> np.ndarray:
    """Second-highest over highest probability per row, ``[n]`` in ``[0, 1]`` (1 = on the decision boundary)."""
    P = np.asarray(probs, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 2:
        raise ValueError(f"Expected class probabilities of shape [n, k>=2] but got shape {P.shape}")
    if np.any(P < 0) or not np.all(np.isfinite(P)):
        raise ValueError("Expected finite non-negative probabilities")
    top2 = np.sort(P, axis=1)[:, -2:]
    if np.any(top2[:, 1] <= 0):
        raise ValueError("a row has no positive probability: certainty ratio undefined")
    return top2[:, 0] / top2[:, 1]


def boundary_distance_groups(
    model: SyntheticModel, X: np.ndarray, threshold: float = NEAR_THRESHOLD
) -> np.ndarray:
    """``"near"`` / ``"far"`` per row of ``X``: near when ``certainty_ratio(model.predict(X)) >= threshold``."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"Expected 0 < threshold <= 1 but got threshold={threshold!r}")
    if model.n_outputs < 2:
        raise ValueError(f"model {model.name!r} has {model.n_outputs} output: it needs class probabilities")
    return np.where(certainty_ratio(model.predict(X)) >= threshold, "near", "far")


def boundary_split(
    model: SyntheticModel, X: np.ndarray, score_of: Callable[[np.ndarray], float | None],
    threshold: float = NEAR_THRESHOLD,
) -> dict[str, dict[str, Any]]:
    """A check's score on the rows near and far from the decision boundary, for its evidence.

    ``score_of(mask)`` recomputes the check's score on the rows where the boolean ``mask`` is true (``None`` when it
    cannot). Returns ``{}`` for models whose outputs are not class probabilities (one output, negative values or rows
    not summing to 1), else ``{"near_boundary": g, "far_from_boundary":
    g}`` with ``g = {"score": float | None, "rows": int, "certainty_ratio_threshold": threshold}`` (near: the
    certainty ratio, second-highest / highest probability, is at least ``threshold``).
    """
    if model.n_outputs < 2:
        return {}
    P = np.asarray(model.predict(X), dtype=np.float64)
    if np.any(P < 0) or not np.allclose(P.sum(axis=1), 1.0, atol=1e-6):
        return {}  # not class probabilities (e.g. a rescaled model): no certainty ratio to split by
    groups = boundary_distance_groups(model, X, threshold)
    out: dict[str, dict[str, Any]] = {}
    for key, label in (("near_boundary", "near"), ("far_from_boundary", "far")):
        mask = groups == label
        score = score_of(mask) if mask.any() else None
        out[key] = {"score": None if score is None else float(score), "rows": int(mask.sum()),
                    "certainty_ratio_threshold": float(threshold)}
    return out


def _probabilities(X: np.ndarray) -> np.ndarray:
    z = X @ np.array(LOGIT_W) + LOGIT_C
    p1 = 0.5 * (1.0 + np.tanh(0.5 * z))  # σ(z), stable for large |z|
    return np.stack([1.0 - p1, p1], axis=1)


def _torch_factory() -> "torch.nn.Module":
    import torch
    from torch import nn

    linear = nn.Linear(len(LOGIT_W), 2).double()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[0.0] * len(LOGIT_W), list(LOGIT_W)], dtype=torch.float64))
        linear.bias.copy_(torch.tensor([0.0, LOGIT_C], dtype=torch.float64))
    return nn.Sequential(linear, nn.Softmax(dim=1)).eval()


@register_model("logistic_two_class", placed={
    "robustness": "quick",  # near the boundary; far from it in default
    "missingness": "default",
    "faithfulness": "quick",
    "faithfulness_saturated": "default",
})
def logistic_two_class() -> ProbabilisticModel:
    """Softmax of a linear logit over 2 classes; x2 is a dummy for both outputs."""
    gt = GroundTruth(
        relevant=frozenset({0, 1}),
        dummy=frozenset({2}),
        interactions=(frozenset({0, 1}),),
        notes="P(class 1) = sigmoid(1.5x0 - 2x1 + 0.25); x2 dummy; 2 outputs (target needed)",
    )
    model = ProbabilisticModel(
        "logistic_two_class", FAMILY, _probabilities, ("x0", "x1", "x2"), gt,
        sampler=uniform_sampler(3, -1.0, 1.0), torch_factory=_torch_factory, n_outputs=2,
        spec={"kind": "logistic", "w": list(LOGIT_W), "c": LOGIT_C, "outputs": ["p_class0", "p_class1"]},
    )
    model.logit_coefficients = (np.array(LOGIT_W), LOGIT_C)
    return model
