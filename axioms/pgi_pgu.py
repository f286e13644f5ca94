"""pgi_pgu: prediction gap on important / unimportant features (OpenXAI), relative to the exact attribution's.

Agarwal et al. 2022, "OpenXAI: Towards a transparent evaluation of model explanations" (NeurIPS Datasets &
Benchmarks), sec. 3.2: perturb the top-k features by |a| (PGI) or all the others (PGU) and measure how far the
prediction moves. Here the perturbation replaces the features by the case baseline, so every gap is a value of the
baseline game v and is exact:

    PGI(T) = | v(N) - v(N ∖ T) |,    PGU(T) = | v(N) - v(T) |,    G(T) = PGI(T) - PGU(T),

T = the k = ⌈d/4⌉ largest |a| (OpenXAI's top-k fraction). Judged against the exact baseline Shapley values φ
(T_φ = top-k by |φ|) and a uniformly random k-subset (the exact mean of G over all k-subsets):

    gain = G(T_a) - mean_T G(T),   achievable = G(T_φ) - mean_T G(T),   score = clip(Σ gain / Σ achievable, 0, 1).

The best k-subset ``max_T G(T)`` is reported beside it (``pgi_pgu_best_subset``): the exact attribution's top-k is
not always the best one, so an explainer may reach the cap. Ties in |a| are broken against the explainer (the
feature with the smallest |φ| enters T first). Every gap scales with |α| under f -> αf + c: unit-invariant.

Difference from OpenXAI (and Quantus): they perturb with Gaussian noise, which measures local sensitivity; the
optimum of that is the gradient, not any attribution with a known answer (on ``min_max`` the sign of the gradient is
optimal, so a degenerate explainer would pass). Baseline replacement makes the exact attribution the reference.
Floor 0.5: feature-blind explainers score 0 in expectation (ties against them); "exact when d <= 4" collects the
two d = 3 cases (1/3, cases as in ``deletion_curve``) plus chance; the identity ``|x - b|`` ranks features by how
far they moved, which on models with comparable slopes is part of the answer (measured at most 0.43 for any panel
member over the quick cases, 0.38 over the default ones). The decision-boundary split (``logistic_two_class``) is in
``evidence["near_boundary"]`` / ``["far_from_boundary"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.shapley import coalitions

from ._faithfulness import (FAITHFULNESS_KEYS, coalition_codes, exact_baseline_shapley, faithfulness_cases, finish,
                            game_values, output_range, ranked_order)
from .base import Case, Check, CheckResult, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = ["PgiPgu", "gap_difference", "top_k_codes"]


def top_k_codes(A: np.ndarray, k: int, tie_break: np.ndarray) -> np.ndarray:
    """``[n]`` coalition index of the k largest |a| per row (ties going ``tie_break`` ascending first)."""
    return coalition_codes(ranked_order(np.abs(A), tie_break=tie_break))[:, k]


def gap_difference(V: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(PGI, PGU)`` for the top sets given by ``codes`` (``[n]`` or ``[n, m]``) in the game ``V[n, 2^d]``."""
    full = V.shape[1] - 1
    codes = codes if codes.ndim == 2 else codes[:, None]
    vx = V[:, [full]]
    pgi = np.abs(vx - np.take_along_axis(V, full - codes, axis=1))
    pgu = np.abs(vx - np.take_along_axis(V, codes, axis=1))
    return pgi, pgu


@register_check
class PgiPgu(Check):
    """OpenXAI PGI - PGU (top-k by |a|, baseline replacement) as the share of the exact top-k's gain over random."""

    name = "pgi_pgu"
    placement_keys = FAITHFULNESS_KEYS
    category = "ground_truth"
    threshold = 0.8
    floor = 0.5
    version = 1
    citation = "Agarwal et al. 2022, OpenXAI (prediction gap on important / unimportant features, sec. 3.2)"

    def cases(self) -> list[Case]:
        return faithfulness_cases(self.name, "PGI - PGU against the exact attribution's top-k and a random top-k")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        V = game_values(case)
        phi = exact_baseline_shapley(case)
        n, d = A.shape
        k = int(np.ceil(d / 4))
        pgi_a, pgu_a = gap_difference(V, top_k_codes(A, k, np.abs(phi)))
        pgi_p, pgu_p = gap_difference(V, top_k_codes(phi, k, np.zeros_like(phi)))
        all_k = np.flatnonzero(coalitions(d).sum(axis=1) == k)
        pgi_all, pgu_all = gap_difference(V, np.broadcast_to(all_k, (n, all_k.size)))
        g_all = pgi_all - pgu_all
        g_a, g_p, g_rand = (pgi_a - pgu_a)[:, 0], (pgi_p - pgu_p)[:, 0], g_all.mean(axis=1)
        evidence = {"k": k, "pgi": pgi_a[:, 0].tolist(), "pgu": pgu_a[:, 0].tolist(),
                    "pgi_exact": pgi_p[:, 0].tolist(), "pgu_exact": pgu_p[:, 0].tolist(),
                    "pgi_pgu_random": g_rand.tolist(), "pgi_pgu_best_subset": g_all.max(axis=1).tolist()}
        return finish(self, explainer, case, A, g_a - g_rand, g_p - g_rand, output_range(V),
                      "PGI - PGU gain over a random top-k, relative to the exact attribution's top-k", evidence)
