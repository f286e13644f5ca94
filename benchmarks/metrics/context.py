"""What a truth-free metric sees of one (explainer, case) cell, and the model views it is handed.

A metric is scored on **precomputed attributions** ``A`` (``[n, d]``, the explainer's answer for the case's rows);
metrics that perturb the input and explain again (robustness, randomisation) call :meth:`MetricContext.explain`,
which puts the question to the same explainer through its interface (``Explainer.explain``), with the case's
baseline and background and the same seed.

Libraries want a torch module: :func:`column_module` gives the case model's torch form as ``[n, ...] -> [n, 1]``
logits (Quantus: a one-class "classifier" whose only logit is ``f``; shapes ``[n, 1, d]`` or ``[n, 1, 1, d]``).

Two transforms judge a metric's verdict (``validity``): ``f -> a f + c`` (:func:`affine_view`; the exact attribution
scales by ``a``) and a permutation of the features (:func:`permuted_view`; the attribution's columns move with them).
Each gives a new :class:`MetricContext` whose model, torch module, inputs, baseline, background and attributions are
all transformed consistently, so a metric that is invariant gives the same per-row values.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

if TYPE_CHECKING:
    import torch

    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["MetricContext", "column_module", "module_model", "affine_view", "permuted_view", "AFFINE"]

#: The affine map of the invariance test: ``f -> 2.5 f - 0.7``.
AFFINE: tuple[float, float] = (2.5, -0.7)


def _torch_classes() -> dict[str, type]:
    import torch
    from torch import nn

    class Column(nn.Module):
        """``x [n, ...] -> base(x.reshape(n, d)).reshape(n, 1)``: the model as a one-logit classifier."""

        def __init__(self, base: nn.Module) -> None:
            super().__init__()
            self.base = base

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x.reshape(x.shape[0], -1).to(torch.float64)).reshape(-1, 1)

    class Affine(nn.Module):
        def __init__(self, base: nn.Module, a: float, c: float) -> None:
            super().__init__()
            self.base, self.a, self.c = base, float(a), float(c)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.a * self.base(x) + self.c

    class Permute(nn.Module):
        """``x' -> base(x'[:, inverse])``: the model on inputs whose columns were permuted."""

        def __init__(self, base: nn.Module, inverse: np.ndarray) -> None:
            super().__init__()
            self.base = base
            self.register_buffer("inverse", torch.as_tensor(np.asarray(inverse), dtype=torch.long))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x[:, self.inverse])

    return {"Column": Column, "Affine": Affine, "Permute": Permute}


def column_module(base: "torch.nn.Module") -> "torch.nn.Module":
    """The float64, eval-mode ``Column`` wrapper of ``base``."""
    return _torch_classes()["Column"](base).double().eval()


def module_model(module: "torch.nn.Module", like: "SyntheticModel", label: str) -> FunctionModel:
    """A model an explainer can take, computing ``module`` (``[n, d] -> [n]``): the callable and a fresh copy of
    the torch form per call; no ground truth (``relevant`` = every feature, as for a randomised twin)."""
    import torch

    def predict(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = module(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64)))
        return out.reshape(len(X)).numpy().astype(np.float64)

    d = like.n_features
    return FunctionModel(f"{like.name}~{label}", "metric_view", predict, like.feature_names,
                         GroundTruth(relevant=frozenset(range(d)), notes="a metric's view: truth unknown"),
                         domain=like.domain, sampler=like.sample, torch_factory=lambda: copy.deepcopy(module),
                         spec={"view_of": like.name, "view": label})


@dataclass(frozen=True, eq=False)
class MetricContext:
    """One cell: the case model (and its torch ``base`` module ``[n, d] -> [n]``), rows ``X``, the case's
    baseline (``[n, d]``) and background, the explainer's attributions ``A`` and the seed."""

    case: str
    explainer: "Explainer"
    model: "SyntheticModel"
    base: "torch.nn.Module"
    X: np.ndarray
    baseline: np.ndarray
    background: np.ndarray | None
    A: np.ndarray
    seed: int
    mask: np.ndarray | None = None
    view: str = "original"
    calls: list[int] = field(default_factory=lambda: [0])
    #: Work shared by metrics of one cell (e.g. the perturbed explanations of RIS / RRS / ROS).
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    def column(self) -> "torch.nn.Module":
        return column_module(copy.deepcopy(self.base))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``f`` of this view at the rows of ``X`` (through the torch form, float64)."""
        import torch

        with torch.no_grad():
            return self.base(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))).reshape(len(X)).numpy()

    def explain(self, X: np.ndarray, model: "SyntheticModel | None" = None) -> np.ndarray:
        """The explainer's attributions at the rows of ``X`` (of ``model``, default this view's), with the case's
        baseline (its first row, broadcast) and background and the cell's seed."""
        self.calls[0] += 1
        X = np.asarray(X, dtype=np.float64).reshape(-1, self.d)
        b = np.broadcast_to(self.baseline[0], X.shape)
        caps = self.explainer.capabilities
        return self.explainer.explain(model if model is not None else self.model, X,
                                      baseline=b if caps.uses_baseline else None,
                                      background=self.background if caps.uses_background else None,
                                      target=None, seed=self.seed)

    def explain_module(self, module: "torch.nn.Module", X: np.ndarray) -> np.ndarray:
        """Explain another torch module (a randomised copy of ``column()``, an ``[n, ...] -> [n, 1]`` module)."""
        inner = getattr(module, "base", module)
        return self.explain(X, module_model(inner, self.model, "randomised"))


def affine_view(ctx: MetricContext, a: float = AFFINE[0], c: float = AFFINE[1]) -> MetricContext:
    """``f -> a f + c``; attributions ``a A`` (how the exact attribution moves)."""
    base = _torch_classes()["Affine"](copy.deepcopy(ctx.base), a, c).double().eval()
    model = module_model(base, ctx.model, f"affine_{a:g}_{c:g}")
    return replace(ctx, model=model, base=base, A=a * ctx.A, view="affine", calls=[0], memo={})


def permuted_view(ctx: MetricContext, perm: np.ndarray) -> MetricContext:
    """Features reordered by ``perm`` (column ``j`` of the view is feature ``perm[j]``); attributions move along."""
    perm = np.asarray(perm)
    inverse = np.argsort(perm)
    base = _torch_classes()["Permute"](copy.deepcopy(ctx.base), inverse).double().eval()
    model = module_model(base, ctx.model, "permuted")
    background = None if ctx.background is None else ctx.background[:, perm]
    mask = None if ctx.mask is None else ctx.mask[:, perm]
    return replace(ctx, model=model, base=base, X=ctx.X[:, perm], baseline=ctx.baseline[:, perm],
                   background=background, A=ctx.A[:, perm], mask=mask, view="permuted", calls=[0], memo={})


def seeded(seed: int) -> None:
    """Seed the global generators third-party metrics draw from (numpy's legacy state and torch)."""
    import torch

    np.random.seed(int(seed) % (2**32))
    torch.manual_seed(int(seed))


Compute = Callable[[MetricContext], Any]
