"""scikit-learn global importances (scope ``global``: one ``[1, d]`` vector per call; X is not used).

- ``permutation_importance`` (Breiman 2001; Fisher et al. 2019; ``sklearn.inspection.permutation_importance``):
  I_i = mean over ``n_repeats=10`` shuffles of column i of [MSE(f(Z_perm), f(Z)) - MSE(f(Z), f(Z))] on the background
  Z, with the model's own outputs f(Z) as targets (``scoring="neg_mean_squared_error"``). It thus measures how much the
  *model* relies on feature i (fidelity to f, not accuracy on labels). For a linear f with independent features,
  E[I_i] = 2 w_i² Var_bg(z_i) (up to the finite-sample shuffling factor m/(m-1)). Non-negative in expectation, no sign.
- ``impurity_importance``: the fitted tree / forest's ``feature_importances_`` (mean decrease in impurity,
  Breiman et al. 1984), normalised to sum to 1 by scikit-learn. Deterministic, needs no data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _expected_reasons as why
from .base import Capabilities, ExpectedFailure, Explainer, register
from .torch_utils import predict_fn

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["PermutationImportance", "ImpurityImportance"]


def _as_estimator(f: Any) -> Any:
    """A no-op-fit scikit-learn regressor whose ``predict`` is ``f`` (what ``permutation_importance`` scores)."""
    from sklearn.base import BaseEstimator, RegressorMixin

    class _ModelAsRegressor(RegressorMixin, BaseEstimator):
        def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> "_ModelAsRegressor":
            self.is_fitted_ = True
            return self

        def predict(self, X: np.ndarray) -> np.ndarray:
            return f(np.asarray(X, dtype=np.float64))

    return _ModelAsRegressor().fit(None)


class PermutationImportance(Explainer):
    """Global permutation importance of the model's own output on the background data."""

    name = "permutation_importance"
    family = "global"
    library = "scikit-learn"
    capabilities = Capabilities(requires="callable", uses_background=True, scope="global", stochastic=True)
    settings = {"n_repeats": 10, "scoring": "neg_mean_squared_error", "targets": "model_output"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        from sklearn.inspection import permutation_importance

        f = predict_fn(model, target)
        result = permutation_importance(_as_estimator(f), background, f(background),
                                        scoring=str(self.settings["scoring"]),
                                        n_repeats=int(self.settings["n_repeats"]), random_state=seed)
        return result.importances_mean[None, :]


class ImpurityImportance(Explainer):
    """The fitted tree model's mean-decrease-in-impurity ``feature_importances_``."""

    name = "impurity_importance"
    family = "global"
    library = "scikit-learn"
    capabilities = Capabilities(requires="tree", scope="global")
    settings = {"criterion": "estimator_default"}
    expected_failures = (ExpectedFailure("ground_truth_agreement", why.TREE_INCONSISTENCY.format(
        method="gain (impurity) importance", what="the root split on cough gains 2500 and the split on fever below "
        "it 3200 (sum of squares on the uniform truth table), so gain ranks fever first while mean |SHAP| ranks "
        "cough first"), case="tree_cough_fever_10_90"),)

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        if ok and not hasattr(model.sklearn_estimator, "feature_importances_"):
            return False, f"{self.name}: {type(model.sklearn_estimator).__name__} has no feature_importances_"
        return ok, why

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return np.asarray(model.sklearn_estimator.feature_importances_, dtype=np.float64)[None, :]


for _cls in (PermutationImportance, ImpurityImportance):
    register(_cls())
