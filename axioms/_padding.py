"""Dummy-padded twins of a model: the same function with ``k`` extra input features it never reads.

Used by the checks that must not be answerable by enumeration of small inputs (issue 11: "exact attribution when
d <= 4, random otherwise" ranked above LIME because every tabular case had d <= 4). A padded model
``f'(x_1..x_{d+k}) = f(x_1..x_d)`` is the same question with more (irrelevant) features, as real data has: its exact
attribution is f's on the first d features and 0 on the added ones (the dummy axiom), so a check's truth is
unchanged while d exceeds what a small-input trick enumerates.

The added features are drawn from the model's own sampler (an independent draw, first ``k`` columns, so they have
realistic marginals and are independent of everything); the torch form is ``Sequential(TakeFirst(d), module)``; the
ground truth adds the new features to ``dummy`` and pads a closed-form exact attribution with zeros.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from xaicheck.synthetic_models.base import FunctionModel

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["padded", "PAD_TO"]

#: Cases padded by ``padded`` reach at least this many features (one more than "small" for the d <= 4 trick).
PAD_TO = 6

_TAKE: Any = None


def _take_first(d: int) -> Any:
    """An ``nn.Module`` returning the first ``d`` columns (class built once, torch imported lazily)."""
    global _TAKE
    if _TAKE is None:
        from torch import nn

        class TakeFirst(nn.Module):
            """``x[:, :d]``: the padded features never reach the network."""

            def __init__(self, d: int) -> None:
                super().__init__()
                self.d = d

            def forward(self, x: Any) -> Any:
                return x[:, : self.d]

        _TAKE = TakeFirst
    return _TAKE(d)


def padded(model: "SyntheticModel", to: int = PAD_TO) -> "SyntheticModel":
    """``model`` with dummy features appended until it has ``to`` features (``model`` itself if it has enough)."""
    d = model.n_features
    k = to - d
    if k <= 0:
        return model
    if model.input_shape is not None:
        raise ValueError(f"{model.name}: cannot pad a model with an input shape {model.input_shape}")

    def predict(X: np.ndarray) -> np.ndarray:
        return model.predict(np.asarray(X)[:, :d])

    def sample(n: int, rng: np.random.Generator) -> np.ndarray:
        base = model.sample(n, rng)
        extra = np.hstack([model.sample(n, rng) for _ in range(-(-k // d))])[:, :k]
        return np.hstack([base, extra])

    gt = model.ground_truth
    exact = gt.exact_attribution

    def exact_padded(X: np.ndarray, baseline: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        b = np.broadcast_to(np.asarray(baseline, dtype=np.float64), X.shape)
        return np.hstack([exact(X[:, :d], b[:, :d]), np.zeros((len(X), k))])  # type: ignore[misc]

    new = frozenset(range(d, d + k))
    truth = replace(gt, dummy=gt.dummy | new, exact_attribution=exact_padded if exact is not None else None,
                    formally_irrelevant=None, notes=f"{model.name} + {k} dummy features. {gt.notes}".strip())
    torch_factory = None
    if "torch" in model.forms:
        def torch_factory() -> Any:
            from torch import nn

            return nn.Sequential(_take_first(d), model.torch_module())

    twin = FunctionModel(f"{model.name}+{k}dummies", model.family, predict,
                         (*model.feature_names, *(f"dummy{j}" for j in range(k))), truth, domain=model.domain,
                         sampler=sample, torch_factory=torch_factory, n_outputs=model.n_outputs,
                         spec={"padded_from": model.name, "dummies": k})
    for attr in ("sensitive_feature", "innocuous_feature"):
        if hasattr(model, attr):
            setattr(twin, attr, getattr(model, attr))
    return twin
