"""shapiq's Shapley-interaction approximators and tree explainer (Muschalik et al. 2024, "shapiq", NeurIPS D&B).

Approximators, each at budgets 128 and 512 model evaluations per row, k-SII of order 2 (Bordt & von Luxburg 2023)
in the baseline game ``v(S) = f(x_S, b_{N\\S})`` (the game callable gets shapiq's coalition matrix ``[m, d]``):

- ``shapiq_permutation_b*``: ``PermutationSamplingSII`` (Tsai et al. 2023's permutation estimator of SII, aggregated);
- ``shapiq_kernelshapiq_b*``: ``KernelSHAPIQ`` (Fumagalli et al. 2024, weighted least squares);
- ``shapiq_shapiq_b*``: ``SHAPIQ`` (Fumagalli et al. 2023, SHAP-IQ);
- ``shapiq_svarmiq_b*``: ``SVARMIQ`` (Kolpaczki et al. 2024, stratified sampling).

``shapiq_tree``: ``TreeExplainer`` (TreeSHAP-IQ, Muschalik et al. 2024 AAAI): exact k-SII of the tree's
path-dependent game (the training cover of each node), no reference; judged, like every explainer, against the
interventional/baseline truth of the case, which it does not target.
Stochastic approximators are seeded with ``random_state = seed``; rows are explained one by one.
"""

from __future__ import annotations

from typing import Any

import warnings

import numpy as np

from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES

from .base import Capabilities, register
from .interaction_base import InteractionExplainer, from_lookup
from .torch_utils import predict_fn

__all__ = ["ShapiqApproximator", "ShapiqTree", "BUDGETS"]

ORDER = 2
BUDGETS: tuple[int, ...] = (128, 512)
APPROXIMATORS: dict[str, str] = {"permutation": "PermutationSamplingSII", "kernelshapiq": "KernelSHAPIQ",
                                 "shapiq": "SHAPIQ", "svarmiq": "SVARMIQ"}


class ShapiqApproximator(InteractionExplainer):
    """A shapiq approximator of k-SII (order 2) at a fixed budget, baseline game."""

    family = "shapley"
    library = "shapiq"

    def __init__(self, short: str, budget: int) -> None:
        self.name = f"shapiq_{short}_b{budget}"
        self.cls_name = APPROXIMATORS[short]
        self.budget = budget
        self.capabilities = Capabilities(uses_baseline=True, stochastic=True, interaction_order=ORDER,
                                         max_features=MAX_EXACT_FEATURES)
        self.settings = {"approximator": self.cls_name, "budget": budget, "index": self.index, "order": ORDER}
        self.description = f"shapiq {self.cls_name}, k-SII order {ORDER}, {budget} evaluations per row"

    def enumeration_limit(self) -> int | None:
        """A fixed budget of model evaluations per row, not an enumeration: it scales (``max_features`` here only
        keeps the exact interaction truth computable)."""
        return None

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shapiq

        f = predict_fn(model, target)
        n, d = X.shape
        out = np.empty((n, self.output_shape(X.shape)[1]))
        for r in range(n):
            x, b = X[r], baseline[r]

            def game(C: np.ndarray, x: np.ndarray = x, b: np.ndarray = b) -> np.ndarray:
                return f(np.where(np.asarray(C, dtype=bool), x, b))

            approximator = getattr(shapiq, self.cls_name)(n=d, max_order=ORDER, index=self.index,
                                                          random_state=int(seed) % (2**31))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                iv = approximator.approximate(self.budget, game)
            out[r] = from_lookup(iv.values, iv.interaction_lookup, d, ORDER)
        return out


class ShapiqTree(InteractionExplainer):
    """shapiq's ``TreeExplainer``: k-SII of order 2 of the tree's path-dependent game."""

    name = "shapiq_tree"
    family = "tree"
    library = "shapiq"
    capabilities = Capabilities(requires="tree", interaction_order=ORDER)
    settings = {"index": "k-SII", "order": ORDER}
    description = "shapiq TreeExplainer (TreeSHAP-IQ), k-SII order 2, path-dependent"

    def can_explain(self, model: "Any") -> tuple[bool, str]:
        """Only the estimator classes shapiq's ``TreeExplainer`` converts (``shapiq.explainer.tree.validation.
        SUPPORTED_MODELS``: scikit-learn trees, forests and extra trees, xgboost, lightgbm); e.g. scikit-learn's
        gradient boosting is not, which shapiq reports as ``TypeError: Unsupported model type``."""
        ok, why = super().can_explain(model)
        if not ok:
            return ok, why
        from shapiq.explainer.tree.validation import SUPPORTED_MODELS

        est = model.sklearn_estimator
        package, cls = type(est).__module__.split(".")[0], type(est).__qualname__
        if (package, cls) not in {(n.split(".")[0], n.rsplit(".", 1)[-1]) for n in SUPPORTED_MODELS}:
            return False, f"{self.name}: shapiq's TreeExplainer does not support {package} {cls}"
        return True, ""

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shapiq

        est = model.sklearn_estimator
        explainer = shapiq.TreeExplainer(model=est, max_order=ORDER, index=self.index)
        d = X.shape[1]
        out = np.empty((X.shape[0], self.output_shape(X.shape)[1]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for r in range(X.shape[0]):
                iv = explainer.explain(X[r])
                out[r] = from_lookup(iv.values, iv.interaction_lookup, d, ORDER)
        return out


for _short in APPROXIMATORS:
    for _budget in BUDGETS:
        register(ShapiqApproximator(_short, _budget))
register(ShapiqTree())
