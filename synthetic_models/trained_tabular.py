"""Trained tabular models with planted truth: a ReLU MLP and gradient-boosted trees fitted to a known function at d=10.

Generating function (``planted_function``), inputs uniform on [-2, 2]^10:

    g(x) = 2 sin(x0) + x1·x2 + |x3| + 0.5·x4 - 0.75·x5          (x6..x9 are irrelevant to g but vary in the data)

Two truths, kept apart (two axes, never averaged):
- the trained model itself: ``ground_truth`` describes the fitted function (relevant = every feature it can read;
  the checks compute its exact Shapley values by enumeration of 2^10 coalitions);
- the generating function: ``true_ground_truth`` (relevant {0..5}, dummy {6..9}) and ``true_function``, with
  ``model_error`` (R², MSE on held-out draws). The planted relevant set is what a data scientist wants the
  explanation to find; the trained model's exact Shapley values are what a faithful explainer must report.

``trained_mlp_d10``: 10-32-16-1 ReLU MLP, full-batch Adam (``trained._adam``), 600 steps, torch generator seeded, one
thread; stored as an ``MLPSpec`` (numpy forward pass and exact torch form). ``gbm_d10``: scikit-learn
GradientBoostingRegressor (200 depth-4 trees, fixed ``random_state``), exposes ``sklearn_estimator`` (tree form).
Both train in about a second.

``order`` (the generating cases of ``axioms.generating_relevance``): the same function with its features moved,
column ``i`` of the data holding planted feature ``order[i]`` (any permutation of ``range(PLANTED_D)``; that check
draws one per case from the case seed, ``generating_relevance.case_order``, so the relevant columns move from case to
case and with the case seed).
Models get the suffix ``_o`` and the order's digits (``trained_mlp_d10_o7386521940``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._fit_cache import fit_estimator, fit_scope
from .base import GroundTruth, uniform_sampler
from .equivalence import MLPModel, MLPSpec
from .declarations import Placement
from .registry import register_model
from .trained import TrainedModel, _adam, regression_error

__all__ = ["PLANTED_D", "PLANTED_RELEVANT", "TrainedMLPModel", "planted_function", "planted_ground_truth",
           "trained_mlp", "trained_gbm", "planted_model", "reordered"]

PLANTED_D = 10
PLANTED_RELEVANT = frozenset(range(6))
_LOW, _HIGH = -2.0, 2.0
_N_TRAIN, _N_TEST = 1024, 2000


def planted_function(X: np.ndarray) -> np.ndarray:
    """``g(x) = 2 sin x0 + x1 x2 + |x3| + 0.5 x4 - 0.75 x5`` (x6..x9 irrelevant)."""
    X = np.asarray(X, dtype=np.float64)
    return 2 * np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + np.abs(X[:, 3]) + 0.5 * X[:, 4] - 0.75 * X[:, 5]


def planted_ground_truth(order: tuple[int, ...] | None = None) -> GroundTruth:
    """The generating truth (relevant x0..x5, x6..x9 irrelevant), at the positions of ``order`` if given."""
    pos = {j: i for i, j in enumerate(order)} if order is not None else {j: j for j in range(PLANTED_D)}
    relevant = frozenset(pos[j] for j in PLANTED_RELEVANT)
    return GroundTruth(relevant=relevant, dummy=frozenset(range(PLANTED_D)) - relevant,
                       interactions=(frozenset({pos[1], pos[2]}),),
                       notes="g = 2 sin x0 + x1 x2 + |x3| + 0.5 x4 - 0.75 x5; x6..x9 irrelevant"
                             + ("" if order is None else f" (column i holds planted feature {list(order)}[i])"))


def reordered(order: tuple[int, ...] | None):
    """``g`` on data whose column ``i`` holds planted feature ``order[i]`` (``planted_function`` when ``None``)."""
    if order is None:
        return planted_function
    back = np.argsort(order)

    def g(X: np.ndarray) -> np.ndarray:
        return planted_function(np.asarray(X, dtype=np.float64)[:, back])

    return g


def _data(seed: int, order: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng([1401, seed])
    X = rng.uniform(_LOW, _HIGH, size=(_N_TRAIN, PLANTED_D))
    X_test = rng.uniform(_LOW, _HIGH, size=(_N_TEST, PLANTED_D))
    y = planted_function(X)
    if order is not None:
        X, X_test = X[:, list(order)], X_test[:, list(order)]
    return X, y, X_test


def _suffix(order: tuple[int, ...] | None) -> str:
    if order is None:
        return ""
    if sorted(order) != list(range(PLANTED_D)):
        raise ValueError(f"order must be a permutation of range({PLANTED_D}); got {order!r}")
    return "_o" + "".join(str(i) for i in order)


class TrainedMLPModel(MLPModel):
    """An ``MLPModel`` fitted to a known function (carries ``true_function``, ``true_ground_truth``, ``model_error``)."""


@fit_scope
def trained_mlp(seed: int = 0, steps: int = 600, hidden: tuple[int, int] = (32, 16),
                order: tuple[int, ...] | None = None) -> TrainedMLPModel:
    """The 10-32-16-1 ReLU MLP trained on ``planted_function`` (deterministic: seeded generator, one thread); with
    ``order``, on the data with its features moved (module docstring)."""
    import torch
    from torch import nn

    X, y, X_test = _data(seed, order)
    gen = torch.Generator().manual_seed(1402 + seed)
    sizes = (PLANTED_D, *hidden, 1)
    layers = [nn.Linear(a, b).double() for a, b in zip(sizes[:-1], sizes[1:])]
    for layer in layers:
        bound = (6.0 / layer.in_features) ** 0.5 / 2
        nn.init.uniform_(layer.weight, -bound, bound, generator=gen)
        nn.init.zeros_(layer.bias)
    mods: list[nn.Module] = []
    for k, layer in enumerate(layers):
        mods += [layer] if k == len(layers) - 1 else [layer, nn.ReLU()]
    net = nn.Sequential(*mods)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _adam(list(net.parameters()), lambda: torch.mean((net(Xt)[:, 0] - yt) ** 2), steps, lr=0.01, grad_masks={})
    finally:
        torch.set_num_threads(threads)
    spec = MLPSpec(tuple((layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy())
                         for layer in layers))
    name = ("trained_mlp_d10" if seed == 0 else f"trained_mlp_d10_s{seed}") + _suffix(order)
    gt = GroundTruth(relevant=frozenset(range(PLANTED_D)),
                     notes="ReLU MLP trained on g (planted truth in true_ground_truth); judged on its own exact Shapley")
    model = TrainedMLPModel(name, spec, ground_truth=gt, family="trained", bounds=((_LOW,) * PLANTED_D,
                                                                                   (_HIGH,) * PLANTED_D))
    model.true_function = reordered(order)
    model.true_ground_truth = planted_ground_truth(order)
    model.model_error = regression_error(spec.predict(X_test), model.true_function(X_test))
    return model


def trained_gbm(seed: int = 0, order: tuple[int, ...] | None = None) -> TrainedModel:
    """GradientBoostingRegressor (200 depth-4 trees, learning rate 0.1) fitted to ``planted_function`` (with
    ``order``: on the data with its features moved)."""
    from sklearn.ensemble import GradientBoostingRegressor

    X, y, X_test = _data(seed, order)
    gbm = GradientBoostingRegressor(n_estimators=200, max_depth=4, learning_rate=0.1, random_state=seed)
    gbm = fit_estimator(gbm, X, y)
    used = frozenset(int(f) for est in gbm.estimators_.ravel() for f in est.tree_.feature if f >= 0)
    gt = GroundTruth(relevant=used, dummy=frozenset(range(PLANTED_D)) - used,
                     notes="GBM fitted to g; relevant = features some tree splits on (exact for trees)")
    name = ("gbm_d10" if seed == 0 else f"gbm_d10_s{seed}") + _suffix(order)
    model = TrainedModel(name, "trained", gbm.predict, tuple(f"x{i}" for i in range(PLANTED_D)), gt,
                         sampler=uniform_sampler(PLANTED_D, _LOW, _HIGH),
                         spec={"kind": "gbm", "fitted_to": "planted_function", "n_estimators": 200, "max_depth": 4,
                               "n_train": _N_TRAIN, "seed": seed,
                               **({} if order is None else {"order": list(order)})})
    model.sklearn_estimator = gbm
    model.is_tree_model = True
    model.true_function = reordered(order)
    model.true_ground_truth = planted_ground_truth(order)
    model.model_error = regression_error(gbm.predict(X_test), model.true_function(X_test))
    return model


@lru_cache(maxsize=16)
def planted_model(kind: str, seed: int = 0, order: tuple[int, ...] | None = None) -> MLPModel | TrainedModel:
    """``"mlp"`` or ``"gbm"`` trained on ``planted_function`` with data and initialisation from ``seed`` (cached);
    ``order`` moves the features (module docstring)."""
    if kind not in ("mlp", "gbm"):
        raise ValueError(f"kind must be 'mlp' or 'gbm'; got {kind!r}")
    return trained_mlp(seed, order=order) if kind == "mlp" else trained_gbm(seed, order=order)


register_model("trained_mlp_d10", placed={"model_randomisation": "default"})(lambda: planted_model("mlp", 0))
# generating_relevance refits it with its columns moved, from the case seed (``case_order``)
register_model("gbm_d10", placed={"generating_relevance": Placement("default", params={
    "library": "gbm", "permuted": lambda seed, order: planted_model("gbm", seed, order)})})(
    lambda: planted_model("gbm", 0))
