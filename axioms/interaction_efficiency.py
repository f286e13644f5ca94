"""Interaction efficiency: an efficient interaction index sums to the output difference it explains.

``Σ_{1 <= |S| <= k} I(S) = v(N) - v(∅)``: ``f(x) - f(b)`` in the baseline game, ``f(x) - mean_z f(z)`` in the
interventional game. Holds for k-SII (Bordt & von Luxburg 2023, Thm. 3), the Shapley-Taylor index (Sundararajan,
Dhamdhere & Agarwal 2020, efficiency axiom) and Faith-Shap (Tsai, Yeh & Ravikumar 2023, Def. 3); not for SII or
Banzhaf interactions (not applicable to explainers declaring those). A reference-free explainer (its ``v(∅)`` is its
own, e.g. a tree's training cover) must sum to ``f(x) - c`` for one constant ``c`` over the case's rows: the spread
of ``f(x) - Σ I`` is measured instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from xaicheck.synthetic_models.interaction_indices import EFFICIENT

from ._interactions import (AXIS, cell_values, counterexample, game_of, interaction_case, interaction_exam,
                            scale_of)
from .base import Case, Check, CheckResult, Tolerance, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["InteractionEfficiency", "EFFICIENCY_TOL"]

#: ``|Σ I - (v(N) - v(∅))| <= atol + rtol * scale`` (scale: ``_interactions.scale_of``): 1% of the output range.
EFFICIENCY_TOL = Tolerance(rtol=1e-2, atol=1e-8)


@register_check
class InteractionEfficiency(Check):
    """Efficient interaction indices sum to v(N) - v(∅): score = share of rows within tolerance (threshold 1)."""

    name = "interaction_efficiency"
    category = "axioms"
    threshold = 1.0
    role = "gate"  # interaction_zero passes it where f(x) = f(b)
    truth = AXIS
    interactions = True
    citation = ("Bordt & von Luxburg 2023, From Shapley values to generalized additive models and back, Thm. 3; "
                "Sundararajan et al. 2020, The Shapley Taylor interaction index; Tsai et al. 2023, Faith-Shap")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        if not interaction_exam(model):
            return ()
        return (interaction_case(self.name, model, suite, "interaction values sum to v(N) - v(∅)"),)

    def applies(self, explainer: "Explainer", case: Case) -> tuple[bool, str]:
        index = getattr(explainer, "index", "")
        if index and index not in EFFICIENT:
            return False, f"{explainer.name} estimates {index}, which is not efficient"
        return super().applies(explainer, case)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        from ._interactions import output_gap

        A = cell_values(explainer, case, seed)
        total = A.sum(axis=1)
        scale = scale_of(case)
        if explainer.capabilities.uses_baseline or explainer.capabilities.uses_background:
            gap = output_gap(case, game_of(explainer))
            err = np.abs(total - gap)
            expected = gap
        else:  # its own v(∅): f(x) - Σ I must be one constant over the rows
            fx = case.model.predict_target(case.X, case.target)
            offset = fx - total
            expected = fx - float(np.median(offset))
            err = np.abs(total - expected)
        ok = err <= EFFICIENCY_TOL.bound(scale)
        score = float(ok.mean())
        worst = int(np.argmax(err))
        evidence = {"measured": score, "threshold": self.threshold, "max_error": float(err.max()), "scale": scale,
                    "tolerance": {"rtol": EFFICIENCY_TOL.rtol, "atol": EFFICIENCY_TOL.atol}, "worst_row": worst}
        line = (f"{explainer.name} on {case.id}: row {worst} sums to {total[worst]:.6g}, expected "
                f"{expected[worst]:.6g} (|error| {err[worst]:.3g} > {float(EFFICIENCY_TOL.bound(scale)):.3g})")
        cx = None if ok.all() else counterexample(case, worst, A, float(expected[worst]), line)
        msg = line if cx else f"{explainer.name} on {case.id}: every row sums to v(N) - v(∅) (max |error| {err.max():.3g})"
        return CheckResult.scored(score, self.threshold, msg, evidence, cx)
