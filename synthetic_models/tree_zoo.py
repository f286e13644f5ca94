"""Fitted tree ensembles at d = 8 to 16 (xgboost, lightgbm, scikit-learn; regression and classification), each with
two declared exact truths, judged on two axes that are never averaged:

- **interventional** (the default axis, ``ground_truth_agreement``): the exact Shapley value of the fitted model's
  own output, ``v(S) = f(x_S, b_~S)`` at the baseline or the mean over background rows (enumerated over 2^d
  coalitions by the check; Janzing et al. 2020);
- **path-dependent** (``path_dependent_agreement``, axis ``path_dependent``): the exact Shapley value of the
  cover-weighted conditional expectation of the trees (Lundberg, Erion & Lee 2018), computed leaf by leaf from the
  library's own node covers (``tree_path_shapley``), the quantity TreeSHAP's ``tree_path_dependent`` mode reports.

Data: ``x ~ U[-2, 2]^d``, target ``g(x) = 2 sin x0 + x1 x2 + |x3| + 0.5 x4 - 0.75 x5`` (+ ``x6 x7`` at d >= 12); a
classifier learns ``[g(x) > median]``. The last feature is 0 in every training row, so no tree splits on it: an exact
dummy of the fitted model. The explained output is the regression value, a booster's raw margin (log-odds: what
TreeSHAP explains; xgboost's ``output_margin``) or a forest's class-1 probability. Fits are seeded, one thread,
and cached (``_fit_cache.fit_estimator``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ._fit_cache import fit_estimator
from .base import GroundTruth, uniform_sampler
from .declarations import Declarations
from .registry import register_model
from .trained import TrainedModel, regression_error
from .tree_path_shapley import path_dependent_shapley

__all__ = ["TREE_ZOO", "tree_target", "fit_tree_model"]

_N_TRAIN = 800
_ROWS = {"quick": 4, "default": 4, "full": 16}


def tree_target(X: np.ndarray) -> np.ndarray:
    """``2 sin x0 + x1 x2 + |x3| + 0.5 x4 - 0.75 x5`` (+ ``x6 x7`` when d >= 12)."""
    g = 2 * np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + np.abs(X[:, 3]) + 0.5 * X[:, 4] - 0.75 * X[:, 5]
    return g + X[:, 6] * X[:, 7] if X.shape[1] >= 12 else g


@dataclass(frozen=True)
class _Spec:
    name: str
    library: str
    task: str
    d: int
    tiers: frozenset[str] = frozenset({"default"})


def _estimator(library: str, task: str) -> Any:
    if library == "xgboost":
        from xgboost import XGBClassifier, XGBRegressor

        cls = XGBClassifier if task == "classification" else XGBRegressor
        return cls(n_estimators=40, max_depth=3, learning_rate=0.3, tree_method="exact", n_jobs=1, random_state=0)
    if library == "lightgbm":
        from lightgbm import LGBMClassifier, LGBMRegressor

        cls = LGBMClassifier if task == "classification" else LGBMRegressor
        return cls(n_estimators=40, num_leaves=8, max_depth=3, learning_rate=0.3, min_child_samples=5, n_jobs=1,
                   deterministic=True, force_row_wise=True, random_state=0, verbose=-1)
    from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier,
                                  RandomForestRegressor)

    if library == "sklearn_forest":
        cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
        return cls(n_estimators=20, max_depth=5, random_state=0, n_jobs=1)
    cls = GradientBoostingClassifier if task == "classification" else GradientBoostingRegressor
    return cls(n_estimators=40, max_depth=3, learning_rate=0.3, random_state=0)


def _output(est: Any, task: str) -> Callable[[np.ndarray], np.ndarray]:
    """The explained output: regression value, booster raw margin, or a forest's class-1 probability."""
    module = type(est).__module__
    if task == "regression":
        return lambda X: np.asarray(est.predict(X), dtype=np.float64)
    if module.startswith("lightgbm"):
        return lambda X: np.asarray(est.predict(X, raw_score=True), dtype=np.float64)
    if module.startswith("xgboost"):
        return lambda X: np.asarray(est.predict(X, output_margin=True), dtype=np.float64)
    if type(est).__name__ == "GradientBoostingClassifier":
        return lambda X: np.asarray(est.decision_function(X), dtype=np.float64).reshape(-1)
    return lambda X: np.asarray(est.predict_proba(X)[:, 1], dtype=np.float64)


def fit_tree_model(spec: _Spec) -> TrainedModel:
    """The fitted model of ``spec`` with both truths declared (module docstring)."""
    from .boosted import features_used

    rng = np.random.default_rng([2024, spec.d])
    X = rng.uniform(-2.0, 2.0, size=(_N_TRAIN, spec.d))
    X[:, -1] = 0.0  # never split on: an exact dummy
    y = tree_target(X)
    if spec.task == "classification":
        y = (y > np.median(y)).astype(np.int64)
    est = fit_estimator(_estimator(spec.library, spec.task), X, y)
    if spec.library in ("xgboost", "lightgbm"):
        used = features_used(est, spec.d)
    else:
        used = frozenset(int(f) for t in np.ravel(est.estimators_) for f in t.tree_.feature if f >= 0)
    gt = GroundTruth(relevant=used, dummy=frozenset(range(spec.d)) - used,
                     notes=f"{spec.library} {spec.task} fitted to 2 sin x0 + x1 x2 + |x3| + 0.5 x4 - 0.75 x5"
                           f"{' + x6 x7' if spec.d >= 12 else ''}; truths: interventional Shapley of the fitted "
                           "output (enumerated) and path-dependent Shapley from the node covers (own axis)")
    model = TrainedModel(spec.name, "tree_zoo", _output(est, spec.task), [f"x{i}" for i in range(spec.d)], gt,
                         domain="continuous", sampler=uniform_sampler(spec.d, -2.0, 2.0),
                         spec={"kind": spec.library, "task": spec.task, "d": spec.d, "n_train": _N_TRAIN,
                               "params": {k: repr(v) for k, v in sorted(est.get_params().items())}},
                         declarations=Declarations(tiers=spec.tiers, baseline=0.0, rows=_ROWS))
    model.sklearn_estimator = est
    model.is_tree_model = True
    model.path_dependent_shapley = lambda Z: path_dependent_shapley(est, Z)  # type: ignore[attr-defined]
    model.true_function = tree_target
    relevant = frozenset(range(8 if spec.d >= 12 else 6))
    model.true_ground_truth = GroundTruth(relevant=relevant, dummy=frozenset(range(spec.d)) - relevant,
                                          notes="the generating function's relevant set")
    if spec.task == "regression":
        X_test = np.random.default_rng([2025, spec.d]).uniform(-2.0, 2.0, size=(500, spec.d))
        X_test[:, -1] = 0.0
        model.model_error = regression_error(model.predict(X_test), tree_target(X_test))
    return model


_FULL = frozenset({"full"})
#: The default suite: 18 models at d = 8-16 (one ``ground_truth_agreement`` case each in the trees track, one
#: ``path_dependent_agreement`` case each on the path-dependent axis); four more d = 12 ones in ``full``. The
#: interventional truth enumerates 2^d coalitions per explained row (4 rows): 65536 tree evaluations per row at d = 16.
TREE_ZOO: tuple[_Spec, ...] = (
    _Spec("tree_xgboost_reg_d8", "xgboost", "regression", 8),
    _Spec("tree_lightgbm_reg_d8", "lightgbm", "regression", 8),
    _Spec("tree_lightgbm_clf_d8", "lightgbm", "classification", 8),
    _Spec("tree_forest_reg_d8", "sklearn_forest", "regression", 8),
    _Spec("tree_forest_clf_d8", "sklearn_forest", "classification", 8),
    _Spec("tree_gbm_reg_d8", "sklearn_gbm", "regression", 8),
    _Spec("tree_xgboost_clf_d8", "xgboost", "classification", 8),
    _Spec("tree_gbm_clf_d8", "sklearn_gbm", "classification", 8),
    _Spec("tree_xgboost_clf_d10", "xgboost", "classification", 10),
    _Spec("tree_lightgbm_reg_d10", "lightgbm", "regression", 10),
    _Spec("tree_forest_clf_d10", "sklearn_forest", "classification", 10),
    _Spec("tree_gbm_reg_d10", "sklearn_gbm", "regression", 10),
    _Spec("tree_lightgbm_reg_d12", "lightgbm", "regression", 12),
    _Spec("tree_forest_clf_d12", "sklearn_forest", "classification", 12),
    _Spec("tree_xgboost_clf_d12", "xgboost", "classification", 12),
    _Spec("tree_gbm_reg_d12", "sklearn_gbm", "regression", 12),
    _Spec("tree_lightgbm_clf_d14", "lightgbm", "classification", 14),
    _Spec("tree_xgboost_reg_d16", "xgboost", "regression", 16),
    _Spec("tree_xgboost_reg_d12", "xgboost", "regression", 12, _FULL),
    _Spec("tree_lightgbm_clf_d12", "lightgbm", "classification", 12, _FULL),
    _Spec("tree_forest_reg_d12", "sklearn_forest", "regression", 12, _FULL),
    _Spec("tree_gbm_clf_d12", "sklearn_gbm", "classification", 12, _FULL),
)

for _spec in TREE_ZOO:
    register_model(_spec.name, exam=True)(lambda _s=_spec: fit_tree_model(_s))
