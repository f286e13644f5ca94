"""shap's ``TreeExplainer.shap_interaction_values`` (Lundberg et al. 2020, Nature MI, "From local explanations to
global understanding with explainable AI for trees") as an order-2 interaction explainer.

shap returns a matrix ``Φ[n, d, d]`` whose rows sum to the Shapley values, with ``Φ_ij = Φ_ji = SII_ij / 2`` off the
diagonal and ``Φ_ii = φ_i - Σ_{j≠i} Φ_ij``. That is 2-SII (Bordt & von Luxburg 2023): singletons
``φ_i - ½ Σ_j SII_ij = Φ_ii``, pairs ``SII_ij = Φ_ij + Φ_ji``; the values sum to ``f(x) - E f``. Computed in the
tree's path-dependent game (the only one shap offers interaction values for): no reference.
"""

from __future__ import annotations

import numpy as np

from xaicheck.synthetic_models.interaction_subsets import subsets

from .base import Capabilities, register
from .interaction_base import InteractionExplainer

__all__ = ["ShapTreeInteractions", "to_ksii"]

ORDER = 2


def to_ksii(phi: np.ndarray) -> np.ndarray:
    """``[n, M(d, 2)]`` 2-SII from shap's interaction matrices ``[n, d, d]`` (module docstring)."""
    d = phi.shape[1]
    cols = [phi[:, S[0], S[0]] if len(S) == 1 else phi[:, S[0], S[1]] + phi[:, S[1], S[0]] for S in subsets(d, ORDER)]
    return np.stack(cols, axis=1)


class ShapTreeInteractions(InteractionExplainer):
    name = "shap_tree_interactions"
    family = "tree"
    library = "shap"
    capabilities = Capabilities(requires="tree", interaction_order=ORDER)
    settings = {"index": "k-SII", "order": ORDER, "feature_perturbation": "tree_path_dependent"}
    description = "shap TreeExplainer.shap_interaction_values as 2-SII (path-dependent)"

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        phi = np.asarray(shap.TreeExplainer(model.sklearn_estimator).shap_interaction_values(X), dtype=np.float64)
        if phi.ndim == 4:  # one matrix per output
            phi = phi[..., 0 if target is None else int(target)] if phi.shape[-1] != phi.shape[-2] else phi[0]
        return to_ksii(phi)


register(ShapTreeInteractions())
