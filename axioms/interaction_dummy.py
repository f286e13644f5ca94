"""Interaction dummy: a feature the function never uses has zero interactions with anything.

If ``i`` is a dummy (``v(S ∪ i) = v(S)`` for all ``S``; here: a declared dummy of ``f``, so in every game), every
Möbius coefficient of a set holding ``i`` is 0, hence ``I(S) = 0`` for every ``S ∋ i`` for SII, k-SII, STII, FSII and
Banzhaf interactions (Grabisch & Roubens 1999, dummy axiom; Sundararajan et al. 2020, interaction distribution and
dummy axioms; Tsai et al. 2023, Def. 3). A gate: ``interaction_zero`` passes it by construction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from xaicheck.synthetic_models.interaction_subsets import subsets

from ._interactions import AXIS, cell_values, counterexample, interaction_case, interaction_exam, scale_of
from .base import Case, Check, CheckResult, Tolerance, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["InteractionDummy", "DUMMY_TOL"]

#: ``|I(S)| <= atol + rtol * scale`` for every subset holding a dummy: 1% of the output range.
DUMMY_TOL = Tolerance(rtol=1e-2, atol=1e-8)


@register_check
class InteractionDummy(Check):
    """Subsets holding a dummy feature get 0: score = share of such (row, subset) values within tolerance."""

    name = "interaction_dummy"
    category = "axioms"
    threshold = 1.0
    role = "gate"
    truth = AXIS
    interactions = True
    citation = ("Grabisch & Roubens 1999, An axiomatic approach to the concept of interaction among players in "
                "cooperative games (dummy axiom); Sundararajan et al. 2020, The Shapley Taylor interaction index")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        if not interaction_exam(model) or not model.ground_truth.dummy:
            return ()
        return (interaction_case(self.name, model, suite, f"dummies {sorted(model.ground_truth.dummy)} interact "
                                 "with nothing"),)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = cell_values(explainer, case, seed)
        d = case.X.shape[1]
        order = int(explainer.capabilities.interaction_order)
        dummy = case.model.ground_truth.dummy
        cols = [j for j, S in enumerate(subsets(d, order)) if dummy & set(S)]
        scale = scale_of(case)
        V = np.abs(A[:, cols])
        ok = V <= DUMMY_TOL.bound(scale)
        score = float(ok.mean())
        r, c = np.unravel_index(int(np.argmax(V)), V.shape)
        S = subsets(d, order)[cols[c]]
        evidence = {"measured": score, "threshold": self.threshold, "max_abs": float(V.max()), "scale": scale,
                    "dummy": sorted(dummy), "worst_subset": list(S)}
        line = (f"{explainer.name} on {case.id}: row {r} gives subset {list(S)} (holding a dummy) {A[r, cols[c]]:.6g}, "
                f"expected 0 (tolerance {float(DUMMY_TOL.bound(scale)):.3g})")
        cx = None if ok.all() else counterexample(case, int(r), A, 0.0, line)
        msg = line if cx else f"{explainer.name} on {case.id}: every subset holding a dummy is 0"
        return CheckResult.scored(score, self.threshold, msg, evidence, cx)
