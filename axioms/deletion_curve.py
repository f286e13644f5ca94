"""deletion_curve: pixel flipping (most relevant first), scored against the order the exact attribution gives.

Samek, Binder, Montavon, Lapuschkin & Müller 2017, "Evaluating the visualization of what a deep neural network has
learned" (region perturbation, MoRF): remove features one at a time in order of decreasing relevance and watch the
output fall; a faithful explanation makes it fall fast. With the case baseline as the removed value:

    c_k(π) = f(x with π_1..π_k set to b) = v(N ∖ {π_1..π_k}),   k = 0..d     (baseline game v)
    AUC(π) = mean_k c_k(π)                                         (lower = more faithful)

π_a sorts the explainer's attributions a descending (ties broken against it: the feature the exact attribution
ranks lowest goes first); π_φ sorts the exact baseline Shapley values φ descending; a uniformly random order's
expected curve is exact: E c_k = mean of v(S) over |S| = d - k. Per row

    gain = AUC_random - AUC(π_a),   achievable = AUC_random - AUC(π_φ)
    score = clip(Σ_rows gain / Σ_rows achievable, 0, 1)     (rows with achievable > 1e-6 × output range)

1 = the explainer's order deletes as well as the exact order (or better: the exact order is not always the best
of all d! orders, so the ratio is clipped); 0 = no better than a random order. Unit-invariant: every AUC is affine in
f. Cases (``_faithfulness.faithfulness_cases``: the models placed under ``"faithfulness"`` and
``"faithfulness_saturated"``): the token, min-max, pairwise and logistic models, plain and as *saturated* twins
``f(clip(x, -0.5, 0.5))`` where a gradient says nothing about a feature past 0.5 (Sundararajan et al. 2017) while
its contribution is unchanged. Floor 0.5: feature-blind explainers score 0 in expectation (ties go
against them; a random order realises no gain on average); "exact when d <= 4" collects the two d = 3 cases (1/3)
plus chance (a random order's clipped score on 8 rows has mean ≈ 0.1 and sd ≈ 0.15 per case: 1/3 + 2/3 × 0.1
plus two sd of a mean over four cases ≈ 0.5); the sign of the gradient × input orders the plain models well and the
saturated ones not at all (measured: at most 0.39 for any panel member over the default cases, 0.41 over quick).
The decision-boundary split (``logistic_two_class``) is in ``evidence["near_boundary"]`` / ``["far_from_boundary"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._faithfulness import (FAITHFULNESS_KEYS, coalition_codes, exact_baseline_shapley, faithfulness_cases, finish,
                            game_values, output_range, ranked_order, size_means)
from .base import Case, Check, CheckResult, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = ["DeletionCurve", "deletion_auc"]


def deletion_auc(V: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``[n]`` mean over ``k = 0..d`` of ``v(N ∖ first k of order)`` read from the game ``V[n, 2^d]``."""
    full = V.shape[1] - 1
    kept = full - coalition_codes(order)
    return np.take_along_axis(V, kept, axis=1).mean(axis=1)


@register_check
class DeletionCurve(Check):
    """Pixel-flipping (MoRF) deletion AUC: share of the exact order's gain over a random order that a's order gets."""

    name = "deletion_curve"
    placement_keys = FAITHFULNESS_KEYS
    category = "ground_truth"
    threshold = 0.8
    floor = 0.5
    version = 1
    citation = ("Samek et al. 2017, Evaluating the visualization of what a deep neural network has learned "
                "(region perturbation, MoRF); reference order: exact baseline Shapley (Sundararajan & Najmi 2020)")

    def cases(self) -> list[Case]:
        return faithfulness_cases(self.name, "deletion curve against the exact Shapley order and a random order")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        V = game_values(case)
        phi = exact_baseline_shapley(case)
        d = phi.shape[1]
        auc_a = deletion_auc(V, ranked_order(A, tie_break=phi))
        auc_exact = deletion_auc(V, ranked_order(phi, tie_break=np.zeros_like(phi)))
        auc_random = size_means(V)[:, ::-1].mean(axis=1)
        evidence = {"auc_explainer": auc_a.tolist(), "auc_exact_order": auc_exact.tolist(),
                    "auc_random_order": auc_random.tolist(), "n_features": d}
        return finish(self, explainer, case, A, auc_random - auc_a, auc_random - auc_exact, output_range(V),
                      "deletion-curve gain over a random order, relative to the exact Shapley order's", evidence)
