"""Linear, additive, product and min/max models with closed-form baseline Shapley values.

All ground truths here are for the *baseline* value function ``v(S) = f(x_S, b_{N\\S})`` (BShap, Sundararajan &
Najmi 2020) and follow from two facts:

- Shapley values are linear in the game, and a term ``g(x_T)`` touching only the features ``T`` gives zero to every
  feature outside ``T`` (dummy axiom). So a sum of terms is attributed term by term.
- For a one-feature term ``g(x_i)``: ``φ_i = g(x_i) - g(b_i)``. For a two-feature term ``h(x_i, x_j)``:
  ``φ_i = ½[h(x_i, b_j) - h(b_i, b_j)] + ½[h(x_i, x_j) - h(b_i, x_j)]`` (the two orders of arrival).
  For ``h = c·x_i·x_j`` this is ``φ_i = c·(x_i - b_i)(x_j + b_j)/2``.

Every model has an exact float64 torch form. Piecewise-linear pieces use ``nn.ReLU`` modules
(``|x| = relu(x) + relu(-x)``, ``max(a, b) = b + relu(a - b)``, ``min(a, b) = b - relu(b - a)``) so DeepLift/LRP
rules see them; smooth pieces (``sin``, ``x²``, products) are plain tensor ops inside a small module, where captum's
DeepLift falls back to gradients, so its summation-to-delta does not hold there (measured: off by up to ~8 on
``additive_nonlinear``) — a limit of DeepLift's rules, not of the model. ``linear_dummy``, ``symmetric_sum`` and
``min_max`` are pure Linear/ReLU nets (DeepLift's sum error ~1e-16).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .base import FunctionModel, GroundTruth, Sampler, uniform_sampler
from .declarations import Placement
from .registry import register_model

if TYPE_CHECKING:
    import torch

__all__ = [
    "LinearModel",
    "linear_model",
    "pair_term_shapley",
    "additive_terms",
    "product_shapley",
    "min_max_shapley",
    "PAIRWISE_TERMS",
    "linear_dummy",
    "additive_nonlinear",
    "product_x0x1",
    "min_max",
    "pairwise_interactions",
    "symmetric_sum",
]

FAMILY = "additive"


def _broadcast_baseline(X: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.asarray(B, dtype=np.float64), X.shape)


def _equal_weight_groups(w: np.ndarray) -> tuple[frozenset[int], ...]:
    """Groups (size >= 2) of features with equal weights: a linear f is symmetric in i, j iff ``w_i == w_j``."""
    groups: dict[float, list[int]] = {}
    for i, wi in enumerate(w.tolist()):
        groups.setdefault(wi, []).append(i)
    return tuple(frozenset(g) for g in groups.values() if len(g) >= 2)


class LinearModel(FunctionModel):
    """``f(x) = w·x + b``; ``linear_coefficients = (w, b)`` marks the ``linear`` model form (e.g. for shap Linear)."""

    linear_coefficients: tuple[np.ndarray, float]


def linear_model(
    w: Sequence[float],
    b: float = 0.0,
    *,
    name: str,
    family: str = FAMILY,
    feature_names: Sequence[str] | None = None,
    sampler: Sampler | None = None,
    domain: str = "continuous",
    notes: str = "",
    cls: type[LinearModel] = LinearModel,
    spec_extra: dict[str, Any] | None = None,
    **kwargs: Any,
) -> LinearModel:
    """A linear model ``f(x) = w·x + b`` with its full ground truth.

    relevant = ``{i: w_i ≠ 0}``, dummy = the rest, symmetric groups = features of equal weight, and the exact
    attribution (baseline Shapley = Integrated Gradients = DeepLift for a linear f) ``φ = w ⊙ (x - b)``.
    Torch form: ``nn.Linear(d, 1)`` (float64) followed by ``nn.Flatten(0)`` so the output is ``[n]``.
    """
    weights = np.asarray(w, dtype=np.float64)
    if weights.ndim != 1 or weights.size == 0 or not np.all(np.isfinite(weights)):
        raise ValueError(f"Expected a non-empty finite 1-D weight vector but got w={w!r}")
    bias = float(b)
    d = weights.size
    names = tuple(feature_names) if feature_names is not None else tuple(f"x{i}" for i in range(d))
    if len(names) != d:
        raise ValueError(f"Expected {d} feature names but got {len(names)}: {names!r}")
    weights.setflags(write=False)

    def fn(X: np.ndarray) -> np.ndarray:
        return X @ weights + bias

    def exact(X: np.ndarray, B: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return weights * (X - _broadcast_baseline(X, B))

    def torch_factory() -> "torch.nn.Module":
        import torch
        from torch import nn

        linear = nn.Linear(d, 1).double()
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([weights.tolist()], dtype=torch.float64))
            linear.bias.fill_(bias)
        return nn.Sequential(linear, nn.Flatten(0)).eval()

    nonzero = frozenset(int(i) for i in np.flatnonzero(weights))
    gt = GroundTruth(
        relevant=nonzero,
        dummy=frozenset(range(d)) - nonzero,
        symmetric_groups=_equal_weight_groups(weights),
        exact_attribution=exact,
        notes=notes or f"linear f = w·x + b, w={weights.tolist()}, b={bias}",
    )
    model = cls(
        name,
        family,
        fn,
        names,
        gt,
        domain=domain,  # type: ignore[arg-type]
        sampler=sampler or uniform_sampler(d, -1.0, 1.0),
        torch_factory=torch_factory,
        spec={"kind": "linear", "w": weights.tolist(), "b": bias, **(spec_extra or {})},
        **kwargs,
    )
    model.linear_coefficients = (weights, bias)
    return model


def pair_term_shapley(
    h: Callable[[np.ndarray, np.ndarray], np.ndarray], xi: np.ndarray, xj: np.ndarray, bi: np.ndarray, bj: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Baseline Shapley values ``(φ_i, φ_j)`` of a two-feature term ``h(x_i, x_j)`` (average of the two orders)."""
    phi_i = 0.5 * (h(xi, bj) - h(bi, bj)) + 0.5 * (h(xi, xj) - h(bi, xj))
    phi_j = 0.5 * (h(bi, xj) - h(bi, bj)) + 0.5 * (h(xi, xj) - h(xi, bj))
    return phi_i, phi_j


def product_shapley(
    pairs: dict[tuple[int, int], float], X: np.ndarray, B: np.ndarray
) -> np.ndarray:
    """Baseline Shapley of ``f = Σ c_ij x_i x_j``: each term gives ``c (x_i - b_i)(x_j + b_j)/2`` to ``i`` (and sym.)."""
    X = np.asarray(X, dtype=np.float64)
    B = _broadcast_baseline(X, B)
    out = np.zeros_like(X)
    for (i, j), c in pairs.items():
        out[:, i] += c * (X[:, i] - B[:, i]) * (X[:, j] + B[:, j]) / 2.0
        out[:, j] += c * (X[:, j] - B[:, j]) * (X[:, i] + B[:, i]) / 2.0
    return out


def _torch_products(pairs: dict[tuple[int, int], float]) -> "torch.nn.Module":
    import torch
    from torch import nn

    class PairwiseProducts(nn.Module):
        """``Σ c_ij x_i x_j`` as tensor ops (exact, not piecewise linear)."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("left", torch.tensor([i for i, _ in pairs], dtype=torch.long))
            self.register_buffer("right", torch.tensor([j for _, j in pairs], dtype=torch.long))
            self.register_buffer("coef", torch.tensor(list(pairs.values()), dtype=torch.float64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x[:, self.left] * x[:, self.right] * self.coef).sum(dim=1)

    return PairwiseProducts().eval()


@register_model("linear_dummy", placed={
    "completeness": "quick",
    "dummy": "quick",
    "ground_truth_agreement": "quick",
    "explainer_agreement": "quick",
    "baseline_sensitivity": "quick",
    "input_invariance": Placement("full", rank=1),  # after mlp_base in the cases' one stream
    "linearity": Placement("quick", params={"partner": "mlp_base", "coefficients": (2.0, -1.0)}),
})
def linear_dummy() -> LinearModel:
    """``f = 2x0 - x1 + 0.5x2 + 0·x3 + 0.3``: feature 3 is a dummy."""
    return linear_model([2.0, -1.0, 0.5, 0.0], 0.3, name="linear_dummy",
                        notes="f = 2x0 - x1 + 0.5x2 + 0.3; x3 dummy; φ = w(x - b)")


@register_model("symmetric_sum", placed={
    "symmetry": Placement("quick", rank=-1),  # first in the cases' one stream
    "linearity": Placement("default", params={"partner": "product_x0x1", "coefficients": (1.0, 0.5)}),
})
def symmetric_sum() -> LinearModel:
    """``f = x0 + x1 + 2x2`` (d=3): x0 and x1 are symmetric, so any symmetric method gives them equal credit."""
    return linear_model([1.0, 1.0, 2.0], 0.0, name="symmetric_sum",
                        notes="f = x0 + x1 + 2x2; symmetric group {0,1}")


def additive_terms(X: np.ndarray) -> np.ndarray:
    """The per-feature terms ``g_i(x_i)`` of ``additive_nonlinear``: ``[sin x0, |x1|, x2², 0]``."""
    return np.stack([np.sin(X[:, 0]), np.abs(X[:, 1]), X[:, 2] ** 2, np.zeros(X.shape[0])], axis=1)


@register_model("additive_nonlinear", placed={
    "robustness": "default",
    "ground_truth_agreement": "full",
    "explainer_agreement": "default",
    "baseline_sensitivity": "default",
    "linearity": Placement("full", params={"partner": "pairwise_interactions", "coefficients": (1.0, -2.0)}),
})
def additive_nonlinear() -> FunctionModel:
    """``f = sin(x0) + |x1| + x2²`` with x3 dummy, on ``[-2, 2]^4``; ``φ_i = g_i(x_i) - g_i(b_i)`` (additive f)."""
    names = ("x0", "x1", "x2", "x3")

    def fn(X: np.ndarray) -> np.ndarray:
        return additive_terms(X).sum(axis=1)

    def exact(X: np.ndarray, B: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return additive_terms(X) - additive_terms(_broadcast_baseline(X, B).copy())

    def torch_factory() -> "torch.nn.Module":
        import torch
        from torch import nn

        class AdditiveNonlinear(nn.Module):
            """sin(x0) + [relu(x1) + relu(-x1)] + x2·x2; |x1| through two ``nn.ReLU`` modules (each used once,
            as captum's DeepLift requires)."""

            def __init__(self) -> None:
                super().__init__()
                self.relu_pos = nn.ReLU()
                self.relu_neg = nn.ReLU()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x1 = x[:, 1]
                return torch.sin(x[:, 0]) + self.relu_pos(x1) + self.relu_neg(-x1) + x[:, 2] * x[:, 2]

        return AdditiveNonlinear().eval()

    gt = GroundTruth(
        relevant=frozenset({0, 1, 2}),
        dummy=frozenset({3}),
        exact_attribution=exact,
        notes="f = sin(x0) + |x1| + x2^2; x3 dummy; additive: φ_i = g_i(x_i) - g_i(b_i)",
    )
    return FunctionModel("additive_nonlinear", FAMILY, fn, names, gt,
                         sampler=uniform_sampler(4, -2.0, 2.0), torch_factory=torch_factory,
                         spec={"kind": "additive", "terms": ["sin(x0)", "abs(x1)", "x2^2", "0"]})


def _product_model(name: str, pairs: dict[tuple[int, int], float], d: int, notes: str) -> FunctionModel:
    used = frozenset(k for pair in pairs for k in pair)

    def fn(X: np.ndarray) -> np.ndarray:
        return sum((c * X[:, i] * X[:, j] for (i, j), c in pairs.items()), np.zeros(X.shape[0]))

    groups: tuple[frozenset[int], ...] = ()
    if len(pairs) == 1:  # c·x_i·x_j is symmetric in i and j
        groups = (frozenset(next(iter(pairs))),)
    gt = GroundTruth(
        relevant=used,
        dummy=frozenset(range(d)) - used,
        symmetric_groups=groups,
        interactions=tuple(frozenset(p) for p in pairs),
        exact_attribution=lambda X, B: product_shapley(pairs, X, B),
        notes=notes,
    )
    return FunctionModel(name, FAMILY, fn, tuple(f"x{i}" for i in range(d)), gt,
                         sampler=uniform_sampler(d, -1.0, 1.0), torch_factory=lambda: _torch_products(pairs),
                         spec={"kind": "pairwise_products", "pairs": [[i, j, c] for (i, j), c in pairs.items()]})


@register_model("product_x0x1", placed={
    "completeness": "default",
    "symmetry": "default",
    "ground_truth_agreement": "default",
    "baseline_sensitivity": "default",
})
def product_x0x1() -> FunctionModel:
    """``f = x0·x1`` with x2 dummy; ``φ_0 = (x0 - b0)(x1 + b1)/2``, ``φ_1 = (x1 - b1)(x0 + b0)/2``, ``φ_2 = 0``."""
    return _product_model("product_x0x1", {(0, 1): 1.0}, 3,
                          "f = x0*x1; x2 dummy; interaction {0,1}; φ0 = (x0-b0)(x1+b1)/2")


PAIRWISE_TERMS: dict[tuple[int, int], float] = {(0, 1): 1.0, (1, 2): -0.5, (3, 4): 2.0}


# d > 4 in quick: with only d <= 4 cases "exact when d <= 4, else random" is the oracle (issue 11)
@register_model("pairwise_interactions", placed={
    "robustness": "default",
    "ground_truth_agreement": "quick",
    "missingness": "quick",
    "faithfulness": "default",
    "faithfulness_saturated": "default",
})
def pairwise_interactions() -> FunctionModel:
    """``f = x0x1 - 0.5·x1x2 + 2·x3x4`` (d=6, x5 dummy); Shapley = sum of the per-product closed forms."""
    return _product_model("pairwise_interactions", dict(PAIRWISE_TERMS), 6,
                          "f = x0x1 - 0.5x1x2 + 2x3x4; x5 dummy; interactions {0,1},{1,2},{3,4}")


def _max(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum(a, b)


def _min(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.minimum(a, b)


def min_max_shapley(X: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Baseline Shapley of ``max(x0, x1) + min(x2, x3)``: each pair term by ``pair_term_shapley``; ``φ_4 = 0``."""
    X = np.asarray(X, dtype=np.float64)
    B = _broadcast_baseline(X, B)
    out = np.zeros_like(X)
    out[:, 0], out[:, 1] = pair_term_shapley(_max, X[:, 0], X[:, 1], B[:, 0], B[:, 1])
    out[:, 2], out[:, 3] = pair_term_shapley(_min, X[:, 2], X[:, 3], B[:, 2], B[:, 3])
    return out


@register_model("min_max", placed={
    "robustness": "default",
    "ground_truth_agreement": "quick",
    "model_randomisation": "default",
    "baseline_sensitivity": "full",
    "missingness": "default",
    "faithfulness_saturated": "quick",
})
def min_max() -> FunctionModel:
    """``f = max(x0, x1) + min(x2, x3)``, x4 dummy, on ``[-1, 1]^5``.

    Exact ReLU network: hidden ``relu([x0-x1, x1, -x1, x3-x2, x3, -x3])``, output weights ``[1, 1, -1, -1, 1, -1]``,
    i.e. ``max = x1 + relu(x0 - x1)`` and ``min = x3 - relu(x3 - x2)`` (``x = relu(x) - relu(-x)``).
    Symmetric groups {0,1} and {2,3}; interactions {0,1} and {2,3}. Closed form: ``min_max_shapley``.
    """

    def fn(X: np.ndarray) -> np.ndarray:
        return np.maximum(X[:, 0], X[:, 1]) + np.minimum(X[:, 2], X[:, 3])

    def torch_factory() -> "torch.nn.Module":
        import torch
        from torch import nn

        hidden = nn.Linear(5, 6).double()
        out = nn.Linear(6, 1).double()
        W1 = torch.zeros(6, 5, dtype=torch.float64)
        W1[0, 0], W1[0, 1] = 1.0, -1.0  # x0 - x1
        W1[1, 1] = 1.0  # x1
        W1[2, 1] = -1.0  # -x1
        W1[3, 3], W1[3, 2] = 1.0, -1.0  # x3 - x2
        W1[4, 3] = 1.0  # x3
        W1[5, 3] = -1.0  # -x3
        with torch.no_grad():
            hidden.weight.copy_(W1)
            hidden.bias.zero_()
            out.weight.copy_(torch.tensor([[1.0, 1.0, -1.0, -1.0, 1.0, -1.0]], dtype=torch.float64))
            out.bias.zero_()
        return nn.Sequential(hidden, nn.ReLU(), out, nn.Flatten(0)).eval()

    gt = GroundTruth(
        relevant=frozenset({0, 1, 2, 3}),
        dummy=frozenset({4}),
        symmetric_groups=(frozenset({0, 1}), frozenset({2, 3})),
        interactions=(frozenset({0, 1}), frozenset({2, 3})),
        exact_attribution=min_max_shapley,
        notes="f = max(x0,x1) + min(x2,x3); x4 dummy; exact ReLU net",
    )
    return FunctionModel("min_max", FAMILY, fn, tuple(f"x{i}" for i in range(5)), gt,
                         sampler=uniform_sampler(5, -1.0, 1.0), torch_factory=torch_factory,
                         spec={"kind": "min_max", "formula": "max(x0,x1)+min(x2,x3)"})
