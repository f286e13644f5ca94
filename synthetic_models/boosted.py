"""Gradient-boosted trees from xgboost and lightgbm, fitted to known functions (the model forms the field uses).

Each is a ``TrainedModel`` (``sklearn_estimator`` = the fitted ``XGBRegressor`` / ``LGBMRegressor``, a tree form), so
Tree SHAP (interventional and path-dependent), Saabas and the libraries' own importance types can explain it. The
ground truth an explainer is judged against is the **exact interventional Shapley value of the trained trees**
(``predict`` is the booster; d ≤ 16, so the checks enumerate every coalition), never of the function they were fitted
to (``true_function`` / ``model_error`` keep that apart).

- ``xgboost_mixed`` / ``lightgbm_mixed``: ``f(x) = 2·x0 + sin(π·x1) + x0·x2`` with ``x0 ~ Bernoulli(½)`` and
  ``x1, x2, x3 ~ U[-1, 1]``; 60 depth-3 trees, learning rate 0.3, 600 seeded training rows, one thread. ``x3`` is 0
  in the training data, so no tree splits on it: an exact dummy of the fitted model. The binary ``x0`` carries the
  largest Shapley importance but needs one split per tree, while the continuous ``x1`` is split on again and again:
  split-count importance ("weight", "split") ranks them the other way (Lundberg et al. 2020, sec. "Global
  explanations"; Chen & Guestrin 2016 define the importance types).
- ``xgboost_cough_fever_10_90`` / ``lightgbm_cough_fever_10_90``: Lundberg, Erion & Lee 2018 model B,
  ``80·[C ∧ F] + 10·[C]`` on ``{0,1}²``, boosted on the uniform truth table (each row 25 times, 20 trees). Node covers
  are then the uniform distribution, so path-dependent Tree SHAP equals interventional Shapley over the truth table.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import numpy as np

from ._fit_cache import fit_estimator
from .base import GroundTruth, uniform_sampler
from .declarations import Placement
from .registry import register_model
from .trained import N_TEST, TRUTH_TABLE, TrainedModel, cough_fever_10_90_function, regression_error

__all__ = [
    "MIXED_SETTINGS",
    "mixed_function",
    "mixed_sampler",
    "fit_booster",
    "features_used",
    "xgboost_mixed",
    "lightgbm_mixed",
    "xgboost_cough_fever_10_90",
    "lightgbm_cough_fever_10_90",
    "xgboost_d10",
    "lightgbm_d10",
    "planted_booster",
]

FAMILY = "boosted"
#: Boosting settings of the ``*_mixed`` models (recorded in each model's spec).
MIXED_SETTINGS: dict[str, Any] = {"n_estimators": 60, "max_depth": 3, "learning_rate": 0.3, "n_train": 600}
CF_SETTINGS: dict[str, Any] = {"n_estimators": 20, "max_depth": 2, "learning_rate": 0.3, "repeats": 25}


def mixed_function(X: np.ndarray) -> np.ndarray:
    """``2·x0 + sin(π·x1) + x0·x2`` (x3 unused)."""
    return 2.0 * X[:, 0] + np.sin(np.pi * X[:, 1]) + X[:, 0] * X[:, 2]


def mixed_sampler(n: int, rng: np.random.Generator) -> np.ndarray:
    """``x0 ~ Bernoulli(½)``, ``x1, x2, x3 ~ U[-1, 1]``."""
    X = rng.uniform(-1.0, 1.0, size=(n, 4))
    X[:, 0] = (rng.random(n) < 0.5).astype(np.float64)
    return X


def fit_booster(library: str, X: np.ndarray, y: np.ndarray, *, n_estimators: int, max_depth: int,
                learning_rate: float, seed: int) -> Any:
    """A deterministic (one thread, seeded) ``XGBRegressor`` or ``LGBMRegressor`` fitted to ``(X, y)``."""
    if library == "xgboost":
        from xgboost import XGBRegressor

        est = XGBRegressor(n_estimators=n_estimators, max_depth=max_depth, learning_rate=learning_rate,
                           tree_method="exact", n_jobs=1, random_state=seed)
    elif library == "lightgbm":
        from lightgbm import LGBMRegressor

        est = LGBMRegressor(n_estimators=n_estimators, max_depth=max_depth, num_leaves=2**max_depth,
                            learning_rate=learning_rate, min_child_samples=1, min_data_in_bin=1, n_jobs=1,
                            deterministic=True, force_row_wise=True, random_state=seed, verbose=-1)
    else:
        raise ValueError(f"Expected library 'xgboost' or 'lightgbm' but got library={library!r}")
    return fit_estimator(est, X, y)


def features_used(est: Any, d: int) -> frozenset[int]:
    """Indices of the features some split of the fitted booster tests."""
    if type(est).__module__.startswith("xgboost"):
        df = est.get_booster().trees_to_dataframe()
        names = est.get_booster().feature_names or [f"f{i}" for i in range(d)]
        return frozenset(names.index(f) for f in set(df["Feature"]) if f != "Leaf")
    counts = est.booster_.feature_importance(importance_type="split")
    return frozenset(int(i) for i in np.flatnonzero(counts))


def _predictor(est: Any) -> Callable[[np.ndarray], np.ndarray]:
    def predict(X: np.ndarray) -> np.ndarray:
        return np.asarray(est.predict(X), dtype=np.float64)

    return predict


def _boosted(name: str, library: str, est: Any, true_fn: Callable[[np.ndarray], np.ndarray],
             feature_names: tuple[str, ...], *, domain: str, sampler: Callable, X_test: np.ndarray,
             true_gt: GroundTruth, spec: dict[str, Any], notes: str) -> TrainedModel:
    d = len(feature_names)
    used = features_used(est, d)
    gt = GroundTruth(relevant=used, dummy=frozenset(range(d)) - used, notes=notes)
    model = TrainedModel(name, FAMILY, _predictor(est), feature_names, gt, domain=domain,  # type: ignore[arg-type]
                         sampler=sampler, spec={"kind": library, **spec})
    model.sklearn_estimator = est
    model.is_tree_model = True
    model.true_function = true_fn
    model.true_ground_truth = true_gt
    model.model_error = regression_error(model.predict(X_test), true_fn(X_test))
    return model


def _mixed(library: str, seed: int = 0) -> TrainedModel:
    s = MIXED_SETTINGS
    X = mixed_sampler(int(s["n_train"]), np.random.default_rng(seed))
    X[:, 3] = 0.0  # constant in training: no split on x3 is possible (exact dummy)
    est = fit_booster(library, X, mixed_function(X), n_estimators=s["n_estimators"], max_depth=s["max_depth"],
                      learning_rate=s["learning_rate"], seed=seed)
    true_gt = GroundTruth(relevant=frozenset({0, 1, 2}), dummy=frozenset({3}), interactions=(frozenset({0, 2}),),
                          notes="2 x0 + sin(pi x1) + x0 x2")
    return _boosted(f"{library}_mixed", library, est, mixed_function, ("x0", "x1", "x2", "x3"),
                    domain="continuous", sampler=mixed_sampler,
                    X_test=mixed_sampler(N_TEST, np.random.default_rng(seed + 1)), true_gt=true_gt,
                    spec={**s, "seed": seed, "fitted_to": "2*x0 + sin(pi*x1) + x0*x2"},
                    notes=f"{library} fitted to 2 x0 + sin(pi x1) + x0 x2, x0 binary; x3 constant in training "
                          "=> exact dummy")


def _cough_fever(library: str, seed: int = 0) -> TrainedModel:
    from .base import binary_sampler

    s = CF_SETTINGS
    X = np.repeat(TRUTH_TABLE, int(s["repeats"]), axis=0)
    est = fit_booster(library, X, cough_fever_10_90_function(X), n_estimators=s["n_estimators"],
                      max_depth=s["max_depth"], learning_rate=s["learning_rate"], seed=seed)
    true_gt = GroundTruth(relevant=frozenset({0, 1}), interactions=(frozenset({0, 1}),),
                          notes="80 [C and F] + 10 [C]")
    return _boosted(f"{library}_cough_fever_10_90", library, est, cough_fever_10_90_function, ("cough", "fever"),
                    domain="binary", sampler=binary_sampler(2), X_test=TRUTH_TABLE, true_gt=true_gt,
                    spec={**s, "seed": seed, "fitted_to": "cough_fever_10_90"},
                    notes=f"{library} boosted on the uniform truth table of 80 [C and F] + 10 [C] "
                          "(Lundberg 2018 model B)")


# x3 constant in training: an exact dummy
@register_model("xgboost_mixed", placed={
    "dummy": "quick",
    "ground_truth_agreement": "full",
})
def xgboost_mixed() -> TrainedModel:
    """XGBRegressor (60 depth-3 trees) fitted to ``2·x0 + sin(π·x1) + x0·x2``; x3 an exact dummy."""
    return _mixed("xgboost")


# x3 constant in training: an exact dummy
@register_model("lightgbm_mixed", placed={
    "dummy": "quick",
    "ground_truth_agreement": "full",
})
def lightgbm_mixed() -> TrainedModel:
    """LGBMRegressor (60 depth-3 trees) fitted to ``2·x0 + sin(π·x1) + x0·x2``; x3 an exact dummy."""
    return _mixed("lightgbm")


@register_model("xgboost_cough_fever_10_90", placed={
    "ground_truth_agreement": "full",
})
def xgboost_cough_fever_10_90() -> TrainedModel:
    """XGBRegressor boosted on the uniform truth table of Lundberg 2018 model B."""
    return _cough_fever("xgboost")


@register_model("lightgbm_cough_fever_10_90", placed={
    "ground_truth_agreement": "full",
})
def lightgbm_cough_fever_10_90() -> TrainedModel:
    """LGBMRegressor boosted on the uniform truth table of Lundberg 2018 model B."""
    return _cough_fever("lightgbm")


def _planted(library: str, seed: int = 0, order: tuple[int, ...] | None = None) -> TrainedModel:
    """A booster fitted to the planted d = 10 function of ``trained_tabular`` (x6..x9 irrelevant), on its data
    (``order``: with its features moved, column ``i`` holding planted feature ``order[i]``)."""
    from .trained_tabular import PLANTED_D, _data, _suffix, planted_ground_truth, reordered

    s = MIXED_SETTINGS
    X, y, X_test = _data(seed, order)
    est = fit_booster(library, X, y, n_estimators=s["n_estimators"], max_depth=s["max_depth"],
                      learning_rate=s["learning_rate"], seed=seed)
    extra = {} if order is None else {"order": list(order)}
    return _boosted(f"{library}_d10{_suffix(order)}", library, est, reordered(order),
                    tuple(f"x{i}" for i in range(PLANTED_D)),
                    domain="continuous", sampler=uniform_sampler(PLANTED_D, -2.0, 2.0), X_test=X_test,
                    true_gt=planted_ground_truth(order),
                    spec={**s, "seed": seed, "fitted_to": "planted_function", **extra},
                    notes=f"{library} fitted to 2 sin x0 + x1 x2 + |x3| + 0.5 x4 - 0.75 x5 (x6..x9 irrelevant); "
                          "truth = exact Shapley values of the trained trees")


def _permuted(library: str) -> Callable[[int, tuple[int, ...]], TrainedModel]:
    """``(case seed, order) -> the booster refitted with its columns moved`` (generating_relevance's placement; a
    booster's fit does not depend on the case seed)."""
    return lambda seed, order: planted_booster(library, 0, order)


# d >= 8 on the planted d = 10 function: the tree track's exam, where "exact when d <= 4" cannot enumerate
@register_model("xgboost_d10", placed={
    "ground_truth_agreement": "quick",
    "generating_relevance": Placement("default", params={"library": "xgboost", "permuted": _permuted("xgboost")}),
})
def xgboost_d10() -> TrainedModel:
    """XGBRegressor (60 depth-3 trees) fitted to the planted d = 10 function (x6..x9 irrelevant)."""
    return _planted("xgboost")


@register_model("lightgbm_d10", placed={
    "ground_truth_agreement": "default",
    "generating_relevance": Placement("default", params={"library": "lightgbm", "permuted": _permuted("lightgbm")}),
})
def lightgbm_d10() -> TrainedModel:
    """LGBMRegressor (60 depth-3 trees) fitted to the planted d = 10 function (x6..x9 irrelevant)."""
    return _planted("lightgbm")


@lru_cache(maxsize=8)
def planted_booster(library: str, seed: int = 0, order: tuple[int, ...] | None = None) -> TrainedModel:
    """The ``xgboost`` / ``lightgbm`` booster fitted to the planted d = 10 function (cached; ``order`` moves its
    features: column ``i`` holds planted feature ``order[i]``, ``generating_relevance.case_order``)."""
    return _planted(library, seed, order)
