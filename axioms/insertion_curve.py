"""insertion_curve: insert features from the baseline, most relevant first, scored against the exact order.

Petsiuk, Das & Saenko 2018, "RISE: Randomized input sampling for explanation of black-box models" (insertion
metric): start from the baseline, insert the input's features in order of decreasing attribution, and watch the
output rise; a faithful explanation makes it rise fast:

    c_k(π) = f(b with π_1..π_k set to x) = v({π_1..π_k}),   k = 0..d     (baseline game v)
    AUC(π) = mean_k c_k(π)                                     (higher = more faithful)

π_a sorts the explainer's attributions descending (ties broken against it: the feature the exact attribution ranks
lowest goes first); π_φ sorts the exact baseline Shapley values descending; a random order's expected curve is exact
(E c_k = mean of v(S) over |S| = k). Per row

    gain = AUC(π_a) - AUC_random,   achievable = AUC(π_φ) - AUC_random
    score = clip(Σ_rows gain / Σ_rows achievable, 0, 1)     (rows with achievable > 1e-6 × output range)

Unit-invariant (every AUC is affine in f). Floor 0.5, for the reasons given in ``deletion_curve`` (same
cases, plain and saturated; measured: at most 0.49 for any panel member, "exact when d <= 4" with a lucky draw). The decision-boundary split
(``logistic_two_class``) is in ``evidence["near_boundary"]`` / ``["far_from_boundary"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._faithfulness import (FAITHFULNESS_KEYS, coalition_codes, exact_baseline_shapley, faithfulness_cases, finish,
                            game_values, output_range, ranked_order, size_means)
from .base import Case, Check, CheckResult, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = ["InsertionCurve", "insertion_auc"]


def insertion_auc(V: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``[n]`` mean over ``k = 0..d`` of ``v(first k of order)`` read from the game ``V[n, 2^d]``."""
    return np.take_along_axis(V, coalition_codes(order), axis=1).mean(axis=1)


@register_check
class InsertionCurve(Check):
    """Insertion AUC (RISE): share of the exact order's gain over a random order that the explainer's order gets."""

    name = "insertion_curve"
    placement_keys = FAITHFULNESS_KEYS
    category = "ground_truth"
    threshold = 0.8
    floor = 0.5
    version = 1
    citation = ("Petsiuk, Das & Saenko 2018, RISE (insertion metric); reference order: exact baseline Shapley "
                "(Sundararajan & Najmi 2020)")

    def cases(self) -> list[Case]:
        return faithfulness_cases(self.name, "insertion curve against the exact Shapley order and a random order")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        V = game_values(case)
        phi = exact_baseline_shapley(case)
        auc_a = insertion_auc(V, ranked_order(A, tie_break=phi))
        auc_exact = insertion_auc(V, ranked_order(phi, tie_break=np.zeros_like(phi)))
        auc_random = size_means(V).mean(axis=1)
        evidence = {"auc_explainer": auc_a.tolist(), "auc_exact_order": auc_exact.tolist(),
                    "auc_random_order": auc_random.tolist(), "n_features": int(phi.shape[1])}
        return finish(self, explainer, case, A, auc_a - auc_random, auc_exact - auc_random, output_range(V),
                      "insertion-curve gain over a random order, relative to the exact Shapley order's", evidence)
