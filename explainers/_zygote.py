"""Imported once by the zygote the field processes fork from (``explainers._field.PRELOAD``).

shap compiles numba kernels the first time each explainer runs (6-15 s); compiled here, every field process inherits
them, and no cell's time includes a compile. The warm-up runs each shap explainer that can explain a plain callable
on a three-feature toy function -- a bare object with ``predict``, no model class, no ground truth, deleted
afterwards -- and restores numpy's global random state, so a warmed field draws exactly what a cold one does.
Best effort: any error is ignored (the cells record their own).
"""

from __future__ import annotations

import gc
import os

import numpy as np

#: Libraries whose explainers compile code on first use.
WARM_LIBRARIES = ("shap",)


class _Toy:
    """f(x) = x0 * x1 + x2 with the attributes adapters read; nothing else."""

    name = "toy"
    domain = "continuous"
    feature_names = ("x0", "x1", "x2")
    n_features = 3
    n_outputs = 1
    input_shape = None
    forms = frozenset({"callable"})

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X[:, 0] * X[:, 1] + X[:, 2]

    __call__ = predict

    def predict_target(self, X: np.ndarray, target: object = None) -> np.ndarray:
        return self.predict(X)

    def torch_module(self) -> None:
        return None

    sklearn_estimator = None


def warm() -> list[str]:
    """Run the ``WARM_LIBRARIES`` explainers once on the toy; the names that ran."""
    from .base import all_explainers

    state = np.random.get_state()
    rng = np.random.default_rng(0)
    X, background = rng.uniform(size=(2, 3)), rng.uniform(size=(8, 3))
    ran = []
    toy = _Toy()
    baseline = np.zeros((2, 3))
    for arr in (X, baseline, background):  # as the field passes them: read-only (numba compiles per writability)
        arr.setflags(write=False)
    for exp in all_explainers():
        if exp.library not in WARM_LIBRARIES:
            continue
        try:
            if not exp.can_explain(toy)[0]:
                continue
            exp._explain(toy, X, baseline=baseline, background=background, target=None, seed=0)
            ran.append(exp.name)
        except Exception:  # noqa: BLE001 - an optimisation, never a failure
            continue
    np.random.set_state(state)
    del toy
    gc.collect()
    return ran


#: ``XAICHECK_ZYGOTE_WARM=shap`` (set by a run whose cells include shap explainers, before the zygote starts) turns
#: the warm-up on; without it the zygote only imports (a test process or ``check_explainer`` on a few cells would
#: spend more on the warm-up than its cells save).
WARM_ENV = "XAICHECK_ZYGOTE_WARM"
WARMED = warm() if os.environ.get(WARM_ENV, "").strip() else []
# every object the zygote holds now is shared by its forks: frozen, the collector in a field process never walks
# (and so never copies, page by page) the libraries' objects
gc.freeze()
