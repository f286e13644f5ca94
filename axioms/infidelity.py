"""infidelity: Yeh et al.'s expected squared error of the explanation's predicted change, against its optimum.

Yeh, Hsieh, Suggala, Inouye & Ravikumar 2019, "On the (in)fidelity and sensitivity of explanations" (NeurIPS), eq. 1:

    INFD(Φ, f, x) = E_I [ (I^T Φ(x) - (f(x) - f(x - I)))^2 ]

with the subset-removal perturbation of their sec. 3 (an attribution-form explanation, so ``I`` is the indicator of
the removed set S and ``x - I`` sets S to the baseline): S uniform over all 2^d subsets, enumerated exactly,

    INFD(a) = mean_S ( Σ_{i∈S} a_i - Δ_S )^2,     Δ_S = v(N) - v(N ∖ S)     (baseline game v).

Its minimiser is closed-form least squares, ``a* = (MᵀM)⁻¹ MᵀΔ`` with M the 2^d × d subset-indicator matrix (Yeh et
al.'s Prop. 2 for this perturbation); on an additive f (the linear token model, ``Δ_S = Σ_{i∈S} w_i (x_i - b_i)``)
``a* = w ⊙ (x - b)`` = the exact Shapley value, with INFD(a*) = 0. Scored between the optimum and the best
*feature-blind* explanation, ``c*·1`` with ``c* = argmin_c INFD(c·1) = Σ_S |S| Δ_S / Σ_S |S|²`` (it is at least as
good as the zero explanation, c = 0, and as "split f(x) - f(b) equally", c = Δ_N / d):

    gain = INFD(c*·1) - INFD(a),   achievable = INFD(c*·1) - INFD(a*),   score = clip(Σ gain / Σ achievable, 0, 1).

Raw infidelity measured from INFD(0) would credit "split equally" with 0.57 on these cases (measured): it predicts
|S|/d of the total change, which fits any model whose contributions share a sign. Every INFD is α² × itself under
f -> αf + c, so the score is unit-invariant. Floor 0.45: every constant attribution scores 0 by construction, noise
and a huge feature score 0 (worse than c*·1); "exact when d <= 4" collects the two d = 3 cases (1/3 of the cases,
plain and saturated as in ``deletion_curve``; measured at most 0.34 for any panel member). The decision-boundary split
(``logistic_two_class``) is in ``evidence["near_boundary"]`` / ``["far_from_boundary"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.shapley import coalitions

from ._faithfulness import FAITHFULNESS_KEYS, faithfulness_cases, finish, game_values, output_range
from .base import Case, Check, CheckResult, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = ["Infidelity", "infidelity", "optimal_attribution", "removal_changes"]


def removal_changes(V: np.ndarray) -> np.ndarray:
    """``Δ[n, 2^d]``: ``f(x) - f(x with S set to b)`` for every subset S (index = S's bits)."""
    full = V.shape[1] - 1
    return V[:, [full]] - V[:, full - np.arange(V.shape[1])]


def infidelity(A: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``[n]`` mean over all subsets S of ``(Σ_{i∈S} a_i - Δ_S)^2``."""
    M = coalitions(A.shape[1]).astype(np.float64)
    return ((np.asarray(A, dtype=np.float64) @ M.T - delta) ** 2).mean(axis=1)


def optimal_attribution(delta: np.ndarray, d: int) -> np.ndarray:
    """``[n, d]`` least-squares minimiser of ``infidelity`` (closed form)."""
    M = coalitions(d).astype(np.float64)
    return np.linalg.solve(M.T @ M, M.T @ delta.T).T


@register_check
class Infidelity(Check):
    """Yeh et al. 2019 infidelity (subset removal) between the best constant attribution and the closed-form optimum."""

    name = "infidelity"
    placement_keys = FAITHFULNESS_KEYS
    category = "ground_truth"
    threshold = 0.8
    floor = 0.45
    version = 1
    citation = "Yeh et al. 2019, On the (in)fidelity and sensitivity of explanations (NeurIPS), eq. 1 and Prop. 2"

    def cases(self) -> list[Case]:
        return faithfulness_cases(self.name, "infidelity under exact subset removal, relative to its closed-form optimum")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        V = game_values(case)
        delta = removal_changes(V)
        optimum = optimal_attribution(delta, A.shape[1])
        infd_a, infd_opt = infidelity(A, delta), infidelity(optimum, delta)
        size = coalitions(A.shape[1]).sum(axis=1).astype(np.float64)
        c_star = (delta @ size) / (size @ size)
        infd_blind = infidelity(np.repeat(c_star[:, None], A.shape[1], axis=1), delta)
        evidence = {"infidelity": infd_a.tolist(), "infidelity_optimum": infd_opt.tolist(),
                    "infidelity_feature_blind": infd_blind.tolist(), "infidelity_zero": (delta ** 2).mean(axis=1).tolist(),
                    "optimum": optimum[:4].tolist()}
        return finish(self, explainer, case, A, infd_blind - infd_a, infd_blind - infd_opt, output_range(V) ** 2,
                      "infidelity reduction from the best feature-blind attribution, relative to the optimum's",
                      evidence)
