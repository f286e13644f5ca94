"""The built-in global importances of xgboost and lightgbm boosters, as explainers (scope ``global``, ``[1, d]``).

Users read these every day and rarely know how each is computed; here each is judged like any other global
explainer, against the mean |exact interventional Shapley value| of the same trees (``ground_truth_agreement``).
Over all split nodes ``s`` of all trees, with ``feat(s)`` the feature tested, ``gain(s)`` the split's reduction of
the training loss and ``cover(s)`` the sum of hessians of the training rows reaching it (row counts for squared
error), Chen & Guestrin 2016 / the xgboost and lightgbm documentation:

- ``xgboost_weight`` / ``lightgbm_split``: ``I_i = #{s : feat(s) = i}`` (how often i is split on);
- ``xgboost_total_gain`` / ``lightgbm_gain``: ``I_i = Σ_{s: feat(s)=i} gain(s)``;
- ``xgboost_gain``: the mean, ``total_gain / weight``;
- ``xgboost_total_cover``: ``Σ_{s: feat(s)=i} cover(s)``; ``xgboost_cover``: the mean, ``total_cover / weight``.

A feature never split on gets 0 (xgboost's ``get_score`` leaves it out). The explainer sees only the fitted booster
(``model.sklearn_estimator``), as a user does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np

from .base import Capabilities, Explainer, register

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["BoosterImportance", "XGBOOST_TYPES", "LIGHTGBM_TYPES", "booster_of"]

#: explainer name suffix -> the library's ``importance_type``.
XGBOOST_TYPES = ("weight", "gain", "total_gain", "cover", "total_cover")
LIGHTGBM_TYPES = ("split", "gain")


def booster_of(model: "SyntheticModel", library: str) -> Any:
    """The fitted ``library`` estimator of ``model``, or ``None`` when it has none."""
    est = getattr(model, "sklearn_estimator", None)
    return est if est is not None and type(est).__module__.split(".")[0] == library else None


class BoosterImportance(Explainer):
    """A fitted xgboost / lightgbm model's own global importance of one type, as a ``[1, d]`` vector."""

    family = "global"
    capabilities = Capabilities(requires="tree", scope="global")

    def __init__(self, library: str, importance_type: str) -> None:
        self.name = f"{library}_{importance_type}"
        self.library = library
        self.importance_type = importance_type
        self.settings = {"importance_type": importance_type}
        self.description = f"{library}'s built-in '{importance_type}' feature importance"

    @property
    def library_version(self) -> str:  # xgboost installs as the distribution xgboost-cpu on Linux
        try:
            return str(importlib.import_module(self.library).__version__)
        except ImportError:
            return "not installed"

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        if ok and booster_of(model, self.library) is None:
            est = getattr(model, "sklearn_estimator", None)
            return False, f"{self.name} needs a fitted {self.library} model; {model.name} has {type(est).__name__}"
        return ok, why

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        est = booster_of(model, self.library)
        d = X.shape[1]
        if self.library == "xgboost":
            booster = est.get_booster()
            scores = booster.get_score(importance_type=self.importance_type)
            names = booster.feature_names or [f"f{i}" for i in range(d)]
            return np.array([[float(scores.get(n, 0.0)) for n in names]])
        imp = est.booster_.feature_importance(importance_type=self.importance_type)
        return np.asarray(imp, dtype=np.float64)[None, :]


for _t in XGBOOST_TYPES:
    register(BoosterImportance("xgboost", _t))
for _t in LIGHTGBM_TYPES:
    register(BoosterImportance("lightgbm", _t))
