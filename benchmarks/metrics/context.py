"""What a truth-free metric sees of one (explainer, case) cell, and the model views it is handed.

A metric is scored on **precomputed attributions** ``A`` (``[n, d]``, the explainer's answer for the case's rows);
metrics that perturb the input and explain again (robustness, randomisation) call :meth:`MetricContext.explain`,
which puts the question to the same explainer through its interface (``Explainer.explain``), with the case's
baseline and background and the same seed.

Libraries want a torch module: :func:`column_module` gives the case model's torch form as ``[n, ...] -> [n, 1]``
logits (Quantus: a one-class "classifier" whose only logit is ``f``; shapes ``[n, 1, d]`` or ``[n, 1, 1, d]``; images
``[n, C, H, W]``). A model without a torch form (fitted trees, attention text models) is handed to the libraries as
:func:`numpy_module`: a parameter-free module whose forward calls the model's numpy ``predict`` (no gradients, no
layers, so the randomisation metrics do not apply); token models see their inputs rounded to the nearest token id
and clipped to the vocabulary (a token is a category: noise below 0.5 leaves the sentence unchanged).

Images keep their pixels as the metric's input (Quantus is built for pixel tensors); the perturbation unit of the
removal metrics is a block of pixels (``MetricContext.unit`` = d/16 pixels per step, ``side`` = 4x4 squares for the
patch / region metrics), about one of the declared patches (9 patches of 25-36 pixels on a 16x16 image), so a metric
removes patch-sized evidence as the truth (patch Shapley) counts it.

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

__all__ = ["MetricContext", "column_module", "module_model", "numpy_module", "base_module", "affine_view",
           "permuted_view", "AFFINE", "IMAGE_STEPS", "IMAGE_SIDE"]

#: The affine map of the invariance test: ``f -> 2.5 f - 0.7``.
AFFINE: tuple[float, float] = (2.5, -0.7)
#: Images: removal steps per image (``unit = d / IMAGE_STEPS`` pixels a step) and the side of a removed square.
IMAGE_STEPS = 16
IMAGE_SIDE = 4


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

    class Numpy(nn.Module):
        """``x [n, d] -> predict(x)``: a model without a torch form (no parameters, no gradient)."""

        def __init__(self, predict: Callable[[np.ndarray], np.ndarray], vocabulary: int | None) -> None:
            super().__init__()
            self.predict, self.vocabulary = predict, vocabulary

        def __deepcopy__(self, memo: dict) -> "Numpy":  # the model is shared, never copied (it holds no state)
            return type(self)(self.predict, self.vocabulary).double().eval()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            X = x.detach().cpu().numpy().astype(np.float64).reshape(x.shape[0], -1)
            if self.vocabulary is not None:  # token ids: the nearest id in the vocabulary
                X = np.clip(np.rint(X), 0, self.vocabulary - 1)
            return torch.from_numpy(np.asarray(self.predict(X), dtype=np.float64).reshape(-1))

    return {"Column": Column, "Affine": Affine, "Permute": Permute, "Numpy": Numpy}


def numpy_module(model: "SyntheticModel") -> "torch.nn.Module":
    """``model.predict`` as a parameter-free torch module ``[n, d] -> [n]`` (module docstring)."""
    vocabulary = None
    if model.domain == "tokens":
        spec = model.spec() if callable(getattr(model, "spec", None)) else {}
        words = spec.get("vocabulary") if isinstance(spec, dict) else None
        vocabulary = len(words) if words else None
    return _torch_classes()["Numpy"](model.predict, vocabulary).double().eval()


def base_module(model: "SyntheticModel") -> "torch.nn.Module":
    """The torch form a metric sees: the model's own (``torch_module``) when it has one and is not a token model,
    else :func:`numpy_module`."""
    if "torch" in model.forms and model.domain != "tokens":
        return model.torch_module()
    return numpy_module(model)


def column_module(base: "torch.nn.Module") -> "torch.nn.Module":
    """The float64, eval-mode ``Column`` wrapper of ``base``."""
    return _torch_classes()["Column"](base).double().eval()


def module_model(module: "torch.nn.Module", like: "SyntheticModel", label: str,
                 perm: np.ndarray | None = None) -> FunctionModel:
    """A model an explainer can take, computing ``module`` (``[n, d] -> [n]``): the callable and a fresh copy of
    the torch form per call; no ground truth (``relevant`` = every feature, as for a randomised twin). An image's
    declared patches (and its input shape) carry over, moved with the features by ``perm``: patch explainers and the
    exact patch oracle play the same patches on the view."""
    import torch

    def predict(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = module(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64)))
        return out.reshape(len(X)).numpy().astype(np.float64)

    d = like.n_features
    view = FunctionModel(f"{like.name}~{label}", "metric_view", predict, like.feature_names,
                         GroundTruth(relevant=frozenset(range(d)), notes="a metric's view: truth unknown"),
                         domain=like.domain, sampler=like.sample, torch_factory=lambda: copy.deepcopy(module),
                         input_shape=getattr(like, "input_shape", None), spec={"view_of": like.name, "view": label})
    patches = getattr(like, "patches", None)
    if patches is not None:
        patches = np.asarray(patches)
        view.patches = patches if perm is None else patches[np.asarray(perm)]  # type: ignore[attr-defined]
    return view


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
    #: An image's ``(C, H, W)`` (the input Quantus is handed), else ``None``.
    shape: tuple[int, ...] | None = None
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

    @property
    def image(self) -> bool:
        return self.model.domain == "image" and self.shape is not None

    @property
    def unit(self) -> int:
        """Features a removal step takes: 1, or on an image ``d / IMAGE_STEPS`` pixels (module docstring)."""
        return self.d // IMAGE_STEPS if self.image and self.d % IMAGE_STEPS == 0 else 1

    @property
    def side(self) -> int:
        """The side of a square patch / region: 1, or ``IMAGE_SIDE`` on an image whose sides it divides."""
        if self.image and all(s % IMAGE_SIDE == 0 for s in self.shape[1:]):
            return IMAGE_SIDE
        return 1

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
    model = module_model(base, ctx.model, "permuted", perm)
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
