"""Consistency between orders: the Shapley projection of the interactions is the Shapley value of the game.

For an explainer of order ``k`` the **Shapley projection** of its interaction values ``Φ`` is

    φ̂_i = Σ_{S ∋ i, 1 <= |S| <= k} Φ(S) / |S|,

each subset's value split equally among its members. Where the index promises it, ``φ̂`` is the exact Shapley value
``φ`` of the game the explainer explains (Möbius transform ``m``: ``φ_i = Σ_{T ∋ i} m(T) / |T|``):

- **k-SII** (Bordt & von Luxburg 2023; Fumagalli et al. 2023, "SHAP-IQ"): the Bernoulli aggregation of SII leaves
  ``Σ_{S ∋ i} k-SII(S) / |S| = SII({i}) = φ_i`` (e.g. k = 2: ``k-SII(i) = SII(i) - ½ Σ_j SII(ij)``, so
  ``k-SII(i) + ½ Σ_j k-SII(ij) = SII(i)``; k = 3: the coefficient of each ``SII(ijl)`` is ``1/6 - 2·¼ + 1/3 = 0``);
- **STII** (Sundararajan, Dhamdhere & Agarwal 2020): ``m(T)`` with ``|T| > k`` is split equally among its
  ``C(|T|, k)`` k-subsets, of which ``C(|T|-1, k-1)`` hold ``i``: ``(1/k) C(|T|-1, k-1) / C(|T|, k) = 1/|T|``, so
  ``φ̂_i = Σ_{T ∋ i} m(T)/|T| = φ_i``;
- **FSII** (Faith-Shap, Tsai, Yeh & Ravikumar 2023): FSII is the Möbius transform of ``P_k v``, the best k-additive
  approximation of ``v`` in the Shapley-kernel weighted least squares with ``v(∅)``, ``v(N)`` kept; the Shapley
  value is ``P_1 v`` read the same way (Charnes et al. 1988; Lundberg & Lee 2017, KernelSHAP), and ``P_1``, ``P_k``
  are orthogonal projections in one inner product onto nested sets (1-additive ⊂ k-additive), so ``P_1 P_k = P_1``:
  ``φ(P_k v) = φ(v)``, and the Shapley value of the k-additive game ``P_k v`` is its projection ``Σ m(T)/|T|``;
- **SII** (Grabisch & Roubens 1999): the order-1 part itself is the Shapley value, ``SII({i}) = φ_i`` (its
  projection at ``k >= 2`` is not: ``Σ_{S ∋ i} SII(S)/|S|`` counts each higher Möbius coefficient more than once).

Banzhaf interactions (Roubens 1996) promise neither (their order-1 part is the Banzhaf value): not applicable.
``tests/test_interaction_order_consistency.py`` holds the identities for k-SII, STII and FSII to 1e-10 on random
games, and shows BII and the projection of SII off.

**The game**: the explainer's (``_interactions.game_of``: baseline or interventional over the case's background).
A reference-free explainer of a fitted tree ensemble (it explains the tree's path-dependent game: shap's and shapiq's
tree explainers) is held to the exact Shapley value of that game (``tree_path_shapley``, Lundberg et al. 2018,
Algorithm 1), the game whose interactions it reports; any other reference-free explainer to the interventional game.

**Score**: per row the worst feature error ``e = max_i |φ̂_i - φ_i|``; a row passes when
``e <= atol + rtol * scale`` (``_interactions.scale_of``: the output range, so unit-free like the sibling axioms);
score = share of passing rows, threshold 1 (a gate: an explainer that puts the Shapley values on the singletons and
0 on every pair passes it, so it is a necessary condition, not a quality score).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from xaicheck.synthetic_models.interaction_subsets import subsets
from xaicheck.synthetic_models.interaction_truth import interaction_truth

from ._interactions import (AXIS, cell_values, counterexample, game_of, interaction_case, interaction_exam,
                            reference_of, scale_of)
from .base import Case, Check, CheckResult, Tolerance, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["InteractionOrderConsistency", "CONSISTENCY_TOL", "PROJECTED", "SINGLETONS", "shapley_projection"]

#: ``max_i |φ̂_i - φ_i| <= atol + rtol * scale``: 1% of the output range (as interaction efficiency and dummy).
CONSISTENCY_TOL = Tolerance(rtol=1e-2, atol=1e-8)
#: Indices whose Shapley projection is the Shapley value at every order.
PROJECTED: frozenset[str] = frozenset({"k-SII", "STII", "FSII"})
#: Indices whose order-1 part is the Shapley value.
SINGLETONS: frozenset[str] = frozenset({"SII"})


def shapley_projection(values: np.ndarray, d: int, order: int) -> np.ndarray:
    """``φ̂[n, d]``: ``Σ_{S ∋ i} Φ(S) / |S|`` over the columns ``subsets(d, order)`` of ``values[n, M]``."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros((values.shape[0], d))
    for j, S in enumerate(subsets(d, order)):
        for i in S:
            out[:, i] += values[:, j] / len(S)
    return out


def singletons(values: np.ndarray, d: int, order: int) -> np.ndarray:
    """``Φ({i})[n, d]``: the order-1 columns."""
    cols = [j for j, S in enumerate(subsets(d, order)) if len(S) == 1]
    return np.asarray(values, dtype=np.float64)[:, cols]


def exact_shapley(explainer: "Explainer", case: Case) -> tuple[np.ndarray, str]:
    """The exact Shapley value ``[n, d]`` of the explainer's game, and the game's name (module docstring)."""
    caps = explainer.capabilities
    est = getattr(case.model, "sklearn_estimator", None) if caps.requires == "tree" else None
    if est is not None and not (caps.uses_baseline or caps.uses_background):
        from xaicheck.synthetic_models.tree_path_shapley import path_dependent_shapley

        return path_dependent_shapley(est, case.X), "path-dependent"
    game = game_of(explainer)
    phi = interaction_truth(case.model, case.X, reference_of(case, game), game, "SII", 1,  # type: ignore[arg-type]
                            None if case.target is None else int(case.target))
    return phi, game


@register_check
class InteractionOrderConsistency(Check):
    """The Shapley projection of k-SII / STII / FSII (the singletons of SII) equals the exact Shapley value: share of rows
    within tolerance (threshold 1)."""

    name = "interaction_order_consistency"
    category = "axioms"
    threshold = 1.0
    role = "gate"  # Shapley values on the singletons and 0 on every pair pass it
    truth = AXIS
    interactions = True
    citation = ("Bordt & von Luxburg 2023, From Shapley values to generalized additive models and back; "
                "Fumagalli et al. 2023, SHAP-IQ (NeurIPS); Sundararajan, Dhamdhere & Agarwal 2020, The Shapley "
                "Taylor interaction index (ICML); Tsai, Yeh & Ravikumar 2023, Faith-Shap (JMLR)")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        if not interaction_exam(model):
            return ()
        return (interaction_case(self.name, model, suite, "the Shapley projection of the interactions is the "
                                 "Shapley value"),)

    def applies(self, explainer: "Explainer", case: Case) -> tuple[bool, str]:
        index = getattr(explainer, "index", "")
        if index and index not in PROJECTED | SINGLETONS:
            return False, (f"{explainer.name} estimates {index}, whose Shapley projection is not promised to be "
                           "the Shapley value")
        return super().applies(explainer, case)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = cell_values(explainer, case, seed)
        d = case.X.shape[1]
        order = int(explainer.capabilities.interaction_order)
        index = getattr(explainer, "index", "") or "k-SII"
        proj = singletons(A, d, order) if index in SINGLETONS else shapley_projection(A, d, order)
        phi, game = exact_shapley(explainer, case)
        err = np.abs(proj - phi)
        row_err = err.max(axis=1)
        scale = scale_of(case)
        bound = float(CONSISTENCY_TOL.bound(scale))
        ok = row_err <= bound
        score = float(ok.mean())
        r, i = np.unravel_index(int(np.argmax(err)), err.shape)
        what = "order-1 value" if index in SINGLETONS else "Shapley projection"
        evidence = {"measured": score, "threshold": self.threshold, "max_error": float(row_err.max()),
                    "scale": scale, "tolerance": {"rtol": CONSISTENCY_TOL.rtol, "atol": CONSISTENCY_TOL.atol},
                    "index": index, "game": game, "projection": what, "worst_row": int(r), "worst_feature": int(i)}
        line = (f"{explainer.name} on {case.id}: row {r}, feature {i}: {what} {proj[r, i]:.6g}, exact Shapley value "
                f"({game} game) {phi[r, i]:.6g} (|error| {err[r, i]:.3g} > {bound:.3g})")
        cx = None if ok.all() else counterexample(case, int(r), A, phi[r].tolist(), line)
        msg = line if cx else (f"{explainer.name} on {case.id}: the {what} is the exact Shapley value on every row "
                               f"(max |error| {row_err.max():.3g})")
        return CheckResult.scored(score, self.threshold, msg, evidence, cx)
