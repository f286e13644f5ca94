"""Trained exams of the interaction checks (default tier, truth axis ``interaction``): a gradient-boosted tree ensemble
and a ReLU network, each judged on its *own* exact interaction index (the fitted function's game, not the generating
function's), with exact dummies by construction.

    ia_gbm_d8   scikit-learn GradientBoostingRegressor (30 depth-3 trees, squared error) fitted to
                ``x0 x1 + x2 x3 - x4`` on [-1, 1]^8; x5..x7 constant in training (never split on: exact dummies).
                Truth: the closed-form tree Möbius transform (``interaction_closed_forms.tree_mobius``; one term per
                leaf), proven equal to the enumeration in ``tests/test_interaction_truth.py``.
    ia_mlp_d6   a 6-32-1 ReLU MLP (torch, float64, full-batch Adam, 400 steps, one thread) fitted to
                ``2 x0 x1 + x2 x3 + 0.5 x0`` on [-1, 1]^6; the first-layer weights of x4, x5 are zero and masked
                out of every gradient step (exact dummies). Truth: enumeration of the 2^6 coalitions.

Fits are seeded and cached (``_fit_cache``). The generating pairs are declared as ``ground_truth.interactions``; the
checks judge against the exact index of the fitted model, which also holds the (small) interactions it learned.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import numpy as np

from ._fit_cache import fit_estimator, fit_scope
from .base import GroundTruth, uniform_sampler
from .declarations import Declarations
from .interaction_zoo import AXIS, FAMILY, ROWS
from .registry import register_model
from .trained import TrainedModel, regression_error, train_masked_mlp

__all__ = ["gbm_target", "mlp_target"]

_DECL = Declarations(tiers=frozenset({"default"}), rows=dict(ROWS), axes=frozenset({AXIS}))


def gbm_target(X: np.ndarray) -> np.ndarray:
    """``x0 x1 + x2 x3 - x4``."""
    return X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3] - X[:, 4]


def mlp_target(X: np.ndarray) -> np.ndarray:
    """``2 x0 x1 + x2 x3 + 0.5 x0``."""
    return 2 * X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3] + 0.5 * X[:, 0]


@lru_cache(maxsize=1)
def _fitted_gbm() -> Any:
    from sklearn.ensemble import GradientBoostingRegressor

    X = np.random.default_rng([2601, 8]).uniform(-1.0, 1.0, size=(600, 8))
    X[:, 5:] = 0.0  # constant in training: no split on x5..x7
    est = GradientBoostingRegressor(n_estimators=30, max_depth=3, learning_rate=0.3, random_state=0)
    return fit_estimator(est, X, gbm_target(X))


@register_model("ia_gbm_d8", exam=True)
def ia_gbm_d8() -> TrainedModel:
    """Gradient boosting fitted to ``x0 x1 + x2 x3 - x4`` on [-1, 1]^8 (module docstring)."""
    est = _fitted_gbm()
    used = frozenset(int(f) for t in np.ravel(est.estimators_) for f in t.tree_.feature if f >= 0)
    gt = GroundTruth(relevant=used, dummy=frozenset(range(8)) - used,
                     interactions=(frozenset({0, 1}), frozenset({2, 3})),
                     notes="gradient boosting fitted to x0 x1 + x2 x3 - x4; the interactions are the fitted trees' own")
    model = TrainedModel("ia_gbm_d8", FAMILY, lambda X: np.asarray(est.predict(X), dtype=np.float64),
                         tuple(f"x{i}" for i in range(8)), gt, sampler=uniform_sampler(8, -1.0, 1.0),
                         declarations=_DECL, spec={"kind": "gradient_boosting", "n_estimators": 30, "max_depth": 3,
                                                   "fitted_to": "x0 x1 + x2 x3 - x4"})
    model.sklearn_estimator = est
    model.is_tree_model = True
    model.true_function = gbm_target
    model.true_ground_truth = GroundTruth(relevant=frozenset(range(5)), dummy=frozenset(range(5, 8)),
                                          interactions=(frozenset({0, 1}), frozenset({2, 3})))
    X_test = np.random.default_rng([2602, 8]).uniform(-1.0, 1.0, size=(500, 8))
    model.model_error = regression_error(model.predict(X_test), gbm_target(X_test))
    return model


@fit_scope
def _train_mlp(seed: int, n_train: int, steps: int, hidden: int) -> "Any":
    import torch

    gen = torch.Generator().manual_seed(2603 + seed)
    X = torch.rand(n_train, 6, generator=gen, dtype=torch.float64) * 2 - 1
    y = torch.as_tensor(mlp_target(X.numpy()))
    return train_masked_mlp(X, y, gen, hidden, steps, dead=(4, 5))  # x4, x5 never reach the network


@register_model("ia_mlp_d6", exam=True)
def ia_mlp_d6(seed: int = 0, n_train: int = 512, steps: int = 400, hidden: int = 32) -> TrainedModel:
    """A 6-32-1 ReLU MLP fitted to ``2 x0 x1 + x2 x3 + 0.5 x0`` on [-1, 1]^6 (module docstring)."""
    import torch

    net = _train_mlp(seed, n_train, steps, hidden)

    def fn(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.as_tensor(np.asarray(X, dtype=np.float64))).numpy()

    gt = GroundTruth(relevant=frozenset(range(4)), dummy=frozenset({4, 5}),
                     interactions=(frozenset({0, 1}), frozenset({2, 3})),
                     notes="ReLU MLP fitted to 2 x0 x1 + x2 x3 + 0.5 x0; x4, x5 weights zero => exact dummies")
    model = TrainedModel("ia_mlp_d6", FAMILY, fn, tuple(f"x{i}" for i in range(6)), gt,
                         sampler=uniform_sampler(6, -1.0, 1.0), torch_factory=lambda: copy.deepcopy(net),
                         declarations=_DECL, spec={"kind": "trained_mlp", "fitted_to": "2 x0 x1 + x2 x3 + 0.5 x0",
                                                   "hidden": hidden, "steps": steps, "n_train": n_train, "seed": seed})
    model.true_function = mlp_target
    model.true_ground_truth = gt
    X_test = np.random.default_rng(seed + 2604).uniform(-1.0, 1.0, size=(1000, 6))
    model.model_error = regression_error(fn(X_test), mlp_target(X_test))
    return model
