"""Interaction symmetry: features the function treats alike get the same interactions.

If swapping ``i`` and ``j`` leaves ``f`` unchanged and the row and its reference agree on them (``x_i = x_j``,
``b_i = b_j``), the game is invariant under the swap ``π``, so every index satisfies ``I(π S) = I(S)`` (Grabisch &
Roubens 1999, symmetry axiom; Sundararajan et al. 2020; Tsai et al. 2023). The case sets each declared symmetric
group of each row to the group's first value (binary rows keep their corners), baseline game only: the
interventional game's background breaks the swap, so explainers that take no baseline are not applicable.
A gate: ``interaction_main_product`` (exact Shapley values, products of them) passes it by construction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from xaicheck.synthetic_models.interaction_subsets import subsets

from ._declared import declared_inputs
from ._interactions import AXIS, ROWS, cell_values, counterexample, interaction_case, interaction_exam, scale_of
from .base import Case, Check, CheckResult, Tolerance, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["InteractionSymmetry", "SYMMETRY_TOL"]

#: ``|I(S) - I(π S)| <= atol + rtol * scale``: 1% of the output range.
SYMMETRY_TOL = Tolerance(rtol=1e-2, atol=1e-8)


def _swap(S: tuple[int, ...], i: int, j: int) -> tuple[int, ...]:
    return tuple(sorted(j if k == i else i if k == j else k for k in S))


@register_check
class InteractionSymmetry(Check):
    """Swapping two symmetric features swaps their interactions: score = share of (row, subset) pairs that agree."""

    name = "interaction_symmetry"
    category = "axioms"
    threshold = 1.0
    role = "gate"
    truth = AXIS
    interactions = True
    citation = ("Grabisch & Roubens 1999 (symmetry axiom); Sundararajan et al. 2020, The Shapley Taylor "
                "interaction index; Tsai et al. 2023, Faith-Shap")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        groups = [sorted(g) for g in model.ground_truth.symmetric_groups if len(g) >= 2]
        if not interaction_exam(model) or not groups:
            return ()
        X, _ = declared_inputs(model, suite)
        X = X[:ROWS[suite]].copy()
        for g in groups:
            X[:, g] = X[:, [g[0]]]
        return (interaction_case(self.name, model, suite, f"symmetric groups {groups}", X=X),)

    def applies(self, explainer: "Explainer", case: Case) -> tuple[bool, str]:
        if not explainer.capabilities.uses_baseline:
            return False, f"{explainer.name} takes no baseline; its reference breaks the swap symmetry"
        return super().applies(explainer, case)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = cell_values(explainer, case, seed)
        d = case.X.shape[1]
        S_all = subsets(d, int(explainer.capabilities.interaction_order))
        pos = {S: k for k, S in enumerate(S_all)}
        B = np.broadcast_to(case.baseline, case.X.shape)
        scale = scale_of(case)
        diffs, where = [], []
        for g in case.model.ground_truth.symmetric_groups:
            g = sorted(g)
            for a in range(len(g)):
                for b in range(a + 1, len(g)):
                    i, j = g[a], g[b]
                    rows = np.flatnonzero((case.X[:, i] == case.X[:, j]) & (B[:, i] == B[:, j]))
                    for S in S_all:
                        T = _swap(S, i, j)
                        if T != S and pos[S] < pos[T]:
                            for r in rows:
                                diffs.append(abs(A[r, pos[S]] - A[r, pos[T]]))
                                where.append((int(r), S, T))
        if not diffs:
            return CheckResult.not_applicable(f"{case.id}: no row where symmetric features agree")
        D = np.array(diffs)
        ok = D <= SYMMETRY_TOL.bound(scale)
        score = float(ok.mean())
        w = int(np.argmax(D))
        r, S, T = where[w]
        evidence = {"measured": score, "threshold": self.threshold, "max_difference": float(D.max()), "scale": scale,
                    "worst": {"row": r, "subset": list(S), "swapped": list(T)}}
        line = (f"{explainer.name} on {case.id}: row {r} gives {list(S)} {A[r, pos[S]]:.6g} but its swap {list(T)} "
                f"{A[r, pos[T]]:.6g} (tolerance {float(SYMMETRY_TOL.bound(scale)):.3g})")
        cx = None if ok.all() else counterexample(case, r, A, float(A[r, pos[S]]), line)
        msg = line if cx else f"{explainer.name} on {case.id}: symmetric features get equal interactions"
        return CheckResult.scored(score, self.threshold, msg, evidence, cx)
